//! `esp_pcap OUT.pcap OUT.esp_sa`: a capture of transport-mode ESP sealed by
//! esp-core, for tshark to judge (`scripts/interop/tshark_esp.py`).
//!
//! The inner datagrams are the real L2TP messages of the five reference
//! sessions (`testdata/l2tp-ipsec/`, via testkit), each re-sealed by esp-core
//! under every encryption x integrity pair, once as plain ESP (IP protocol
//! 50) and once UDP-encapsulated on port 4500 (RFC 3948), through the host
//! port's [`PcapWriter`]. The keys go to `OUT.esp_sa` in Wireshark's UAT
//! format, through [`esp_sa_line`].
//!
//! Prints one line per packet, for the checker to compare with tshark:
//! `FRAME SPI ENCRYPTION INTEGRITY ENCAPSULATION SEQ INNER_UDP_LEN`.
//!
//! Run: `cargo run -p lns-host --example esp_pcap -- OUT.pcap OUT.esp_sa`.

use esp_core::{
    Encapsulation, Encryption, Integrity, IpProtocol, Lifetime, MAX_HEADROOM, MAX_TAILROOM, Sa,
    SaConfig,
};
use lns_host::pcap::{PcapWriter, esp_sa_line, internet_checksum};
use rand_core::{Rng, SeedableRng};
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::time::Duration;
use testkit::l2tp_ipsec::{Capture, sessions};

const ENCRYPTIONS: [(Encryption, &str); 5] = [
    (Encryption::Null, "null"),
    (Encryption::TripleDesCbc, "3des-cbc"),
    (Encryption::AesCbc128, "aes-cbc-128"),
    (Encryption::AesCbc192, "aes-cbc-192"),
    (Encryption::AesCbc256, "aes-cbc-256"),
];

const INTEGRITIES: [(Integrity, &str); 5] = [
    (Integrity::None, "none"),
    (Integrity::HmacMd5_96, "hmac-md5-96"),
    (Integrity::HmacSha1_96, "hmac-sha1-96"),
    (Integrity::HmacSha256_128, "hmac-sha256-128"),
    (Integrity::HmacSha256_96, "hmac-sha256-96"),
];

/// Documentation addresses (RFC 5737): nothing is sent anywhere.
const LNS: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const CLIENT: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
/// The client's NAT-T source port as its NAT rewrote it.
const CLIENT_NAT_PORT: u16 = 61_703;

/// A transport-mode UDP datagram with its checksum over the outer
/// addresses (RFC 768), as the client's stack would build it.
fn udp_datagram(src: Ipv4Addr, dst: Ipv4Addr, port: (u16, u16), payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(8 + payload.len()).expect("datagram fits");
    let mut udp = Vec::with_capacity(8 + payload.len());
    udp.extend_from_slice(&port.0.to_be_bytes());
    udp.extend_from_slice(&port.1.to_be_bytes());
    udp.extend_from_slice(&len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    let mut pseudo = Vec::with_capacity(12 + udp.len());
    pseudo.extend_from_slice(&src.octets());
    pseudo.extend_from_slice(&dst.octets());
    pseudo.extend_from_slice(&[0, 17]);
    pseudo.extend_from_slice(&len.to_be_bytes());
    pseudo.extend_from_slice(&udp);
    let sum = match internet_checksum(&pseudo) {
        0 => 0xffff,
        s => s,
    };
    udp[6..8].copy_from_slice(&sum.to_be_bytes());
    udp
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args_os().skip(1);
    let (Some(pcap_path), Some(esp_sa_path)) = (args.next(), args.next()) else {
        eprintln!("usage: esp_pcap OUT.pcap OUT.esp_sa");
        std::process::exit(2);
    };
    let mut pcap = PcapWriter::create(&PathBuf::from(pcap_path))?;
    let mut esp_sa = std::fs::File::create(PathBuf::from(esp_sa_path))?;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(0x1701);
    let now = Duration::from_secs(1);

    let pool: Vec<_> = sessions()
        .iter()
        .flat_map(|s| s.l2tp_payloads(Capture::LnsNic))
        .collect();
    let suites: Vec<_> = ENCRYPTIONS
        .iter()
        .flat_map(|&e| INTEGRITIES.iter().map(move |&i| (e, i)))
        .filter(|((e, _), (i, _))| !(*e == Encryption::Null && *i == Integrity::None))
        .collect();
    let sa_count = suites.len() * 2;
    // Every real L2TP message goes out at least once.
    let per_sa = pool.len().div_ceil(sa_count).max(4);

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let (mut frame, mut next) = (0usize, 0usize);
    for (n, ((enc, enc_name), (integ, integ_name))) in
        suites.iter().flat_map(|s| [*s, *s]).enumerate()
    {
        let udp_encap = n % 2 == 1;
        let spi = 0xc0de_0000 + u32::try_from(n).expect("few SAs");
        let (mut ekey, mut akey) = (vec![0u8; enc.key_len()], vec![0u8; integ.key_len()]);
        rng.fill_bytes(&mut ekey);
        rng.fill_bytes(&mut akey);
        let config = SaConfig {
            encryption: enc,
            encryption_key: &ekey,
            integrity: integ,
            integrity_key: &akey,
            encapsulation: if udp_encap {
                Encapsulation::Udp {
                    peer_port: CLIENT_NAT_PORT,
                }
            } else {
                Encapsulation::None
            },
            replay_window: 0,
            lifetime: Lifetime::UNLIMITED,
        };
        let mut sa = Sa::<2>::new_outbound(now, spi, &config, &mut rng).expect("valid keys");
        writeln!(esp_sa, "{}", esp_sa_line(spi, enc, &ekey, integ, &akey))?;
        // Half the SAs carry LNS-to-client traffic, half client-to-LNS.
        let to_client = (n / 2) % 2 == 0;
        let (src, dst) = if to_client {
            (LNS, CLIENT)
        } else {
            (CLIENT, LNS)
        };
        for _ in 0..per_sa {
            let d = &pool[next % pool.len()];
            next += 1;
            let udp = udp_datagram(src, dst, (d.src_port, d.dst_port), &d.payload);
            let mut buf = vec![0u8; MAX_HEADROOM + udp.len() + MAX_TAILROOM];
            let range = MAX_HEADROOM..MAX_HEADROOM + udp.len();
            buf[range.clone()].copy_from_slice(&udp);
            let esp = sa
                .seal(now, &mut buf, range, IpProtocol::Udp)
                .expect("room for ESP");
            if udp_encap {
                let (lns, client) = (
                    SocketAddrV4::new(LNS, 4500),
                    SocketAddrV4::new(CLIENT, CLIENT_NAT_PORT),
                );
                let (from, to) = if to_client {
                    (lns, client)
                } else {
                    (client, lns)
                };
                pcap.udp(from, to, &buf[esp])?;
            } else {
                pcap.esp(src, dst, &buf[esp])?;
            }
            frame += 1;
            writeln!(
                out,
                "{frame} 0x{spi:08x} {enc_name} {integ_name} {} {} {}",
                if udp_encap { "udp" } else { "none" },
                sa.sequence_number(),
                udp.len()
            )?;
        }
    }
    pcap.flush()?;
    eprintln!(
        "{} real L2TP messages, {sa_count} SAs, {frame} packets",
        pool.len()
    );
    Ok(())
}
