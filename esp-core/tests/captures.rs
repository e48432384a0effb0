//! Real ESP traffic opened with the keys it was made with:
//! - the four tcpdump test captures (Openswan KLIPS, tunnel mode, 3DES and
//!   AES-256 with HMAC-MD5/SHA1-96, one of them UDP-encapsulated, one nested);
//! - the five reference L2TP/IPsec sessions (strongSwan/Linux, transport mode
//!   in UDP, AES-128/256 and 3DES with HMAC-SHA1-96).
//!
//! Every packet must open (so every ICV is checked), its padding must be the
//! RFC 4303 default, and it must carry what the capture says.

#![allow(clippy::cast_possible_truncation)]

use esp_core::wire::udp_encap::{Classification, classify};
use esp_core::{
    Encapsulation, Encryption, Integrity, IpProtocol, Lifetime, OpenError, Sa, SaConfig,
};
use std::time::Duration;
use testkit::l2tp_ipsec::{Capture, sessions};
use testkit::{hex, net, pcap, testdata, vectors};

struct CaptureSa {
    spi: u32,
    enc: Encryption,
    ekey: Vec<u8>,
    auth: Integrity,
    akey: Vec<u8>,
}

impl CaptureSa {
    fn inbound(&self) -> Sa {
        let config = SaConfig {
            encryption: self.enc,
            encryption_key: &self.ekey,
            integrity: self.auth,
            integrity_key: &self.akey,
            encapsulation: Encapsulation::None,
            replay_window: 128,
            lifetime: Lifetime::UNLIMITED,
        };
        Sa::new_inbound(Duration::ZERO, self.spi, &config).unwrap()
    }
}

fn spi_of(esp: &[u8]) -> u32 {
    u32::from_be_bytes([esp[0], esp[1], esp[2], esp[3]])
}

/// Opens `esp` with the SA of its SPI; if the payload is an IPv4 packet that
/// is itself ESP (the nested capture), opens that too. Returns the innermost
/// IPv4 packet and the number of ICVs checked.
fn open_nested(sas: &mut [(CaptureSa, Sa)], esp: &[u8]) -> (Vec<u8>, usize) {
    let spi = spi_of(esp);
    let (_, sa) = sas
        .iter_mut()
        .find(|(c, _)| c.spi == spi)
        .expect("SA for SPI");
    let mut buf = esp.to_vec();
    let opened = sa
        .open(Duration::ZERO, &mut buf)
        .expect("every captured packet opens");
    assert_eq!(opened.next_header, IpProtocol::Ipv4, "tunnel mode");
    let inner = buf[opened.payload].to_vec();
    let header_len = usize::from(inner[0] & 0x0f) * 4;
    if inner[9] == 50 {
        let (packet, icvs) = open_nested(sas, &inner[header_len..]);
        (packet, icvs + 1)
    } else {
        (inner, 1)
    }
}

#[test]
fn tcpdump_esp_captures_every_packet_opens() {
    let file = vectors::load("esp-from-captures.toml");
    let mut total_icvs = 0;
    for entry in vectors::cases(&file, "file") {
        let name = vectors::string(entry, "file").trim_start_matches("captures/");
        let mut sas: Vec<(CaptureSa, Sa)> = entry["sa"]
            .as_array()
            .unwrap()
            .iter()
            .map(|sa| {
                let sa = sa.as_table().unwrap();
                let c = CaptureSa {
                    spi: u32::try_from(vectors::integer(sa, "spi")).unwrap(),
                    enc: match vectors::string(sa, "enc") {
                        "3des-cbc" => Encryption::TripleDesCbc,
                        "aes-256-cbc" => Encryption::AesCbc256,
                        other => panic!("{other}"),
                    },
                    ekey: vectors::bytes(sa, "ekey"),
                    auth: match vectors::string(sa, "auth") {
                        "hmac-md5-96" => Integrity::HmacMd5_96,
                        "hmac-sha1-96" => Integrity::HmacSha1_96,
                        other => panic!("{other}"),
                    },
                    akey: vectors::bytes(sa, "akey"),
                };
                let sa = c.inbound();
                (c, sa)
            })
            .collect();
        let capture = pcap::read(testdata(name));
        let udp = entry["udp_encapsulated"].as_bool().unwrap();
        let esp_packets: Vec<Vec<u8>> = if udp {
            net::udp_datagrams(&capture)
                .into_iter()
                .filter(|d| d.dst.port() == 4500)
                .map(|d| {
                    assert_eq!(classify(&d.payload), Ok(Classification::Esp));
                    d.payload
                })
                .collect()
        } else {
            net::ipv4_packets(&capture)
                .into_iter()
                .filter(|p| p.protocol == 50)
                .map(|p| p.payload().to_vec())
                .collect()
        };
        assert_eq!(esp_packets.len(), 8, "{name}: 8 ESP packets");
        let frame1 = entry["frame1"].as_table().unwrap();
        assert_eq!(
            esp_packets[0],
            hex::decode(vectors::string(frame1, "esp")),
            "{name}"
        );
        for (i, esp) in esp_packets.iter().enumerate() {
            let (inner, icvs) = open_nested(&mut sas, esp);
            total_icvs += icvs;
            // The innermost packet is the ICMP echo request 192.0.2.1 -> 192.0.1.1.
            assert_eq!(inner[9], 1, "{name} #{i}: ICMP");
            assert_eq!(&inner[12..20], &[192, 0, 2, 1, 192, 0, 1, 1], "{name} #{i}");
            if i == 0 {
                let want = hex::decode(vectors::string(
                    frame1,
                    if frame1.contains_key("inner_decrypted") {
                        "inner_decrypted"
                    } else {
                        "decrypted"
                    },
                ));
                // The vector holds packet | padding | pad length | next header.
                assert!(want.starts_with(&inner), "{name}: frame 1 plaintext");
            }
        }
        for (c, sa) in &sas {
            assert_eq!(sa.counters().integrity_failures, 0, "{name} {:#x}", c.spi);
        }
    }
    // 8 + 8 + 8 packets, and the nested file's 8 packets carry 2 ICVs each.
    assert_eq!(total_icvs, 40);
}

#[test]
fn l2tp_ipsec_sessions_every_esp_packet_opens_to_udp_1701() {
    let mut checked = 0;
    for session in sessions() {
        for capture in [Capture::Loopback, Capture::LnsNic] {
            let packets = session.esp_packets(capture);
            assert!(
                packets.len() >= 46,
                "session {}: {} ESP packets",
                session.id,
                packets.len()
            );
            let l2tp = session.l2tp_payloads(capture);
            assert_eq!(l2tp.len(), packets.len());
            for d in &l2tp {
                assert_eq!(
                    (d.src_port, d.dst_port),
                    (1701, 1701),
                    "session {}",
                    session.id
                );
                // L2TPv2: version 2 in the low nibble of the second byte.
                assert_eq!(d.payload[1] & 0x0f, 2, "session {}: L2TPv2", session.id);
            }
            // Each packet's direction matches the SA its SPI names.
            for p in &packets {
                let spi = u32::from_be_bytes([p.bytes[0], p.bytes[1], p.bytes[2], p.bytes[3]]);
                assert_eq!(session.esp_sa(spi).client_to_server, p.from_client);
            }
            checked += packets.len();
        }
    }
    assert!(checked > 500, "{checked} packets");
}

/// Flipping any single bit of a real packet makes it fail, with a counter,
/// and the SA still opens the untouched packet afterwards.
#[test]
fn every_single_bit_flip_of_a_real_packet_is_refused() {
    let session = &sessions()[2]; // c: AES-128 / HMAC-SHA1-96
    let packet = session.esp_packets(Capture::LnsNic).remove(0);
    let sa_keys = session.esp_sa(spi_of(&packet.bytes));
    let mut sa = sa_keys.inbound();
    for bit in 0..packet.bytes.len() * 8 {
        let mut buf = packet.bytes.clone();
        buf[bit / 8] ^= 1 << (bit % 8);
        let err = sa.open(Duration::ZERO, &mut buf).unwrap_err();
        assert_eq!(err, OpenError::IntegrityCheckFailed, "bit {bit}");
    }
    assert_eq!(
        sa.counters().integrity_failures as usize,
        packet.bytes.len() * 8
    );
    assert_eq!(sa.counters().packets, 0);
    let mut buf = packet.bytes.clone();
    sa.open(Duration::ZERO, &mut buf).unwrap();
    assert_eq!(sa.counters().packets, 1);
}

/// The captures' NAT-keepalives classify as such (RFC 3948 §2.3).
#[test]
fn nat_keepalives_of_session_a() {
    let session = &sessions()[0];
    let keepalives = session.nat_keepalives(Capture::LnsNic);
    assert_eq!(keepalives.len(), 2, "README: 2 NAT-keepalives in session a");
    assert!(
        keepalives
            .iter()
            .all(|d| d.from_client && d.datagram.payload == [0xff])
    );
}
