//! `--pcap FILE`: every outer packet the host sends or receives, as raw IPv4
//! (link type 101) so that tshark dissects UDP 500/4500, ESP, and with the
//! companion `esp_sa` file the L2TP and PPP inside.

use esp_core::{Encryption, Integrity};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

const LINKTYPE_RAW: u32 = 101;

/// A pcap file being written.
#[derive(Debug)]
pub struct PcapWriter {
    out: BufWriter<File>,
    ident: u16,
}

impl PcapWriter {
    /// Creates the file and writes the global header.
    ///
    /// # Errors
    /// File errors.
    pub fn create(path: &Path) -> io::Result<Self> {
        let mut out = BufWriter::new(File::create(path)?);
        out.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&0i32.to_le_bytes())?;
        out.write_all(&0u32.to_le_bytes())?;
        out.write_all(&65_535u32.to_le_bytes())?;
        out.write_all(&LINKTYPE_RAW.to_le_bytes())?;
        Ok(Self { out, ident: 0 })
    }

    /// One record made of `parts` written one after the other (no copy
    /// into a packet buffer).
    fn record(&mut self, parts: &[&[u8]]) -> io::Result<()> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        self.out
            .write_all(&u32::try_from(now.as_secs()).unwrap_or(0).to_le_bytes())?;
        self.out.write_all(&now.subsec_micros().to_le_bytes())?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(&len.to_le_bytes())?;
        for p in parts {
            self.out.write_all(p)?;
        }
        Ok(())
    }

    fn ipv4_header(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        protocol: u8,
        payload_len: usize,
    ) -> [u8; 20] {
        let total = u16::try_from(20 + payload_len).unwrap_or(u16::MAX);
        self.ident = self.ident.wrapping_add(1);
        let mut h = [0u8; 20];
        h[0] = 0x45;
        h[2..4].copy_from_slice(&total.to_be_bytes());
        h[4..6].copy_from_slice(&self.ident.to_be_bytes());
        h[8] = 64;
        h[9] = protocol;
        h[12..16].copy_from_slice(&src.octets());
        h[16..20].copy_from_slice(&dst.octets());
        let sum = internet_checksum(&h);
        h[10..12].copy_from_slice(&sum.to_be_bytes());
        h
    }

    /// Records a UDP datagram (the UDP checksum is left 0, which IPv4 allows).
    ///
    /// # Errors
    /// File errors.
    pub fn udp(&mut self, src: SocketAddrV4, dst: SocketAddrV4, payload: &[u8]) -> io::Result<()> {
        let ip = self.ipv4_header(*src.ip(), *dst.ip(), 17, 8 + payload.len());
        let mut udp = [0u8; 8];
        udp[0..2].copy_from_slice(&src.port().to_be_bytes());
        udp[2..4].copy_from_slice(&dst.port().to_be_bytes());
        udp[4..6].copy_from_slice(
            &u16::try_from(8 + payload.len())
                .unwrap_or(u16::MAX)
                .to_be_bytes(),
        );
        self.record(&[&ip, &udp, payload])
    }

    /// Records an ESP packet carried directly in IP (protocol 50).
    ///
    /// # Errors
    /// File errors.
    pub fn esp(&mut self, src: Ipv4Addr, dst: Ipv4Addr, esp: &[u8]) -> io::Result<()> {
        let ip = self.ipv4_header(src, dst, 50, esp.len());
        self.record(&[&ip, esp])
    }

    /// Records an inner IPv4 packet as it is (the TUN side).
    ///
    /// # Errors
    /// File errors.
    pub fn ipv4(&mut self, packet: &[u8]) -> io::Result<()> {
        self.record(&[packet])
    }

    /// Flushes buffered records.
    ///
    /// # Errors
    /// File errors.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// `--pcap FILE`: the capture and, beside it in `FILE.esp_sa`, the keys
/// of every ESP SA in the format of Wireshark's `esp_sa` table, so that
///
/// ```text
/// mkdir -p prof && cp FILE.esp_sa prof/esp_sa
/// WIRESHARK_CONFIG_DIR=prof tshark -r FILE -o esp.enable_encryption_decode:TRUE
/// ```
///
/// dissects IKE, ESP, L2TP, PPP and the IPv4 inside. Write errors end the
/// capture (logged once), never the server.
#[derive(Debug)]
pub struct Capture {
    pcap: Option<PcapWriter>,
    keys: Option<BufWriter<File>>,
    keys_path: std::path::PathBuf,
    spis: Vec<u32>,
}

impl Capture {
    /// Creates `path` and `path.esp_sa`.
    ///
    /// # Errors
    /// File errors.
    pub fn create(path: &Path) -> io::Result<Self> {
        let pcap = PcapWriter::create(path)?;
        let mut keys_path = path.as_os_str().to_owned();
        keys_path.push(".esp_sa");
        let keys_path = std::path::PathBuf::from(keys_path);
        let keys = BufWriter::new(File::create(&keys_path)?);
        Ok(Self {
            pcap: Some(pcap),
            keys: Some(keys),
            keys_path,
            spis: Vec::new(),
        })
    }

    /// Where the keys go.
    pub fn keys_path(&self) -> &Path {
        &self.keys_path
    }

    fn check(&mut self, r: io::Result<()>) {
        if let Err(e) = r {
            log::error!("--pcap: {e}; capture stopped");
            self.pcap = None;
        }
    }

    /// Records a UDP datagram.
    pub fn udp(&mut self, src: SocketAddrV4, dst: SocketAddrV4, payload: &[u8]) {
        if let Some(p) = self.pcap.as_mut() {
            let r = p.udp(src, dst, payload);
            self.check(r);
        }
    }

    /// Records an ESP packet in IP.
    pub fn esp(&mut self, src: Ipv4Addr, dst: Ipv4Addr, esp: &[u8]) {
        if let Some(p) = self.pcap.as_mut() {
            let r = p.esp(src, dst, esp);
            self.check(r);
        }
    }

    /// Adds one SA's keys (once per SPI) and flushes both files, so that
    /// the capture can be read while it is written.
    pub fn sa(&mut self, k: &sessiondb::gateway::EspKeys) {
        if self.spis.contains(&k.spi) {
            return;
        }
        self.spis.push(k.spi);
        let line = esp_sa_line(
            k.spi,
            k.encryption,
            &k.encryption_key,
            k.integrity,
            &k.integrity_key,
        );
        if let Some(w) = self.keys.as_mut() {
            let r = writeln!(w, "{line}").and_then(|()| w.flush());
            if let Err(e) = r {
                log::error!("--pcap keys: {e}");
                self.keys = None;
            }
        }
        self.flush();
    }

    /// Flushes the capture.
    pub fn flush(&mut self) {
        if let Some(p) = self.pcap.as_mut() {
            let r = p.flush();
            self.check(r);
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.flush();
    }
}

/// The RFC 1071 checksum.
pub fn internet_checksum(data: &[u8]) -> u16 {
    let mut sum = 0u32;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(u16::try_from(sum).unwrap_or(0xffff))
}

/// The algorithm names of Wireshark's `esp_sa` table (Wireshark 4.0).
pub fn wireshark_encryption(e: Encryption) -> &'static str {
    match e {
        Encryption::TripleDesCbc => "TripleDES-CBC [RFC2451]",
        Encryption::AesCbc128 | Encryption::AesCbc192 | Encryption::AesCbc256 => {
            "AES-CBC [RFC3602]"
        }
        _ => "NULL",
    }
}

/// See [`wireshark_encryption`].
pub fn wireshark_integrity(i: Integrity) -> &'static str {
    match i {
        Integrity::HmacMd5_96 => "HMAC-MD5-96 [RFC2403]",
        Integrity::HmacSha1_96 => "HMAC-SHA-1-96 [RFC2404]",
        Integrity::HmacSha256_128 => "HMAC-SHA-256-128 [RFC4868]",
        Integrity::HmacSha256_96 => "HMAC-SHA-256-96 [draft-ietf-ipsec-ciph-sha-256-00]",
        _ => "NULL",
    }
}

/// One line of Wireshark's `esp_sa` UAT file. Test keys only: this writes
/// key material in the clear, which is what `--pcap` asks for.
pub fn esp_sa_line(spi: u32, e: Encryption, ekey: &[u8], i: Integrity, akey: &[u8]) -> String {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    format!(
        "\"IPv4\",\"*\",\"*\",\"0x{spi:08x}\",\"{}\",\"0x{}\",\"{}\",\"0x{}\"",
        wireshark_encryption(e),
        hex(ekey),
        wireshark_integrity(i),
        hex(akey)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_capture_testkit_reads_back() {
        let dir = std::env::temp_dir().join(format!("lns-pcap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.pcap");
        let mut w = PcapWriter::create(&path).unwrap();
        let a = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 4500);
        let b = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 40_000);
        w.udp(a, b, &[0, 0, 0, 0, 1, 2, 3]).unwrap();
        w.esp(*a.ip(), *b.ip(), &[0xc0, 0, 0, 1, 0, 0, 0, 1])
            .unwrap();
        w.flush().unwrap();
        let cap = testkit::pcap::read(&path);
        assert_eq!(cap.link_type, 101);
        let udp = testkit::net::udp_datagrams(&cap);
        assert_eq!(udp.len(), 1);
        assert_eq!((udp[0].src, udp[0].dst), (a, b));
        assert_eq!(udp[0].payload, [0, 0, 0, 0, 1, 2, 3]);
        let ip = testkit::net::ipv4_packets(&cap);
        assert_eq!(ip[1].protocol, 50);
        assert_eq!(
            internet_checksum(&ip[0].packet[..20]),
            0,
            "header checksum verifies"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    // The names tshark 4.0.17 (Debian 12) accepts in its `esp_sa` table:
    // `scripts/interop-esp.sh` seals packets under every pair with these
    // lines and has tshark find each ICV `[correct]`. In particular the two
    // SHA-256 entries are "HMAC-SHA-256-128 [RFC4868]" and the draft name
    // for the 96-bit truncation, not the IKEv2 transform names
    // ("HMAC_SHA2_256_128") that the same library also contains.
    #[test]
    fn wireshark_names_are_the_ones_tshark_decrypts_with() {
        let enc = [
            (Encryption::Null, "NULL"),
            (Encryption::TripleDesCbc, "TripleDES-CBC [RFC2451]"),
            (Encryption::AesCbc128, "AES-CBC [RFC3602]"),
            (Encryption::AesCbc192, "AES-CBC [RFC3602]"),
            (Encryption::AesCbc256, "AES-CBC [RFC3602]"),
        ];
        for (e, name) in enc {
            assert_eq!(wireshark_encryption(e), name, "{e:?}");
        }
        let integ = [
            (Integrity::None, "NULL"),
            (Integrity::HmacMd5_96, "HMAC-MD5-96 [RFC2403]"),
            (Integrity::HmacSha1_96, "HMAC-SHA-1-96 [RFC2404]"),
            (Integrity::HmacSha256_128, "HMAC-SHA-256-128 [RFC4868]"),
            (
                Integrity::HmacSha256_96,
                "HMAC-SHA-256-96 [draft-ietf-ipsec-ciph-sha-256-00]",
            ),
        ];
        for (i, name) in integ {
            assert_eq!(wireshark_integrity(i), name, "{i:?}");
        }
    }

    #[test]
    fn esp_sa_line_matches_the_reference_format() {
        // The first line of testdata/l2tp-ipsec/esp_sa, which tshark 4.0 accepts.
        let ekey = testkit::hex::decode(
            "4e94c41204cef7c7f202b6255d086f424eafd1eef017e74ee73d0e490762db9f",
        );
        let akey = testkit::hex::decode("1a258de91a74f6f47e67276d9e57ec6feb67a49f");
        assert_eq!(
            esp_sa_line(
                0xc3db8139,
                Encryption::AesCbc256,
                &ekey,
                Integrity::HmacSha1_96,
                &akey
            ),
            "\"IPv4\",\"*\",\"*\",\"0xc3db8139\",\"AES-CBC [RFC3602]\",\"0x4e94c41204cef7c7f202b6255d086f424eafd1eef017e74ee73d0e490762db9f\",\"HMAC-SHA-1-96 [RFC2404]\",\"0x1a258de91a74f6f47e67276d9e57ec6feb67a49f\""
        );
    }
}
