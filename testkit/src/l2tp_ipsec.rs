//! The five reference L2TP/IPsec sessions of `testdata/l2tp-ipsec/`: a
//! Linux client (strongSwan, xl2tpd, pppd) against a Linux LNS, each from
//! IKE Main Mode to the IKE Delete, with every key in `keys.txt`.
//!
//! ```no_run
//! use testkit::l2tp_ipsec::{sessions, Capture};
//! for s in sessions() {
//!     let skeyid = s.key("skeyid");
//!     for m in s.ike_messages(Capture::LnsNic) { /* m.bytes is ISAKMP */ }
//!     for d in s.l2tp_payloads(Capture::LnsNic) { /* d.payload is L2TP */ }
//! }
//! ```

use crate::net::{self, UdpDatagram};
use crate::{hex, pcap, testdata};
use esp_core::wire::udp_encap::{Classification, classify};
use esp_core::{Encapsulation, Encryption, Integrity, IpProtocol, Lifetime, Sa, SaConfig};
use std::path::PathBuf;
use std::time::Duration;
use toml::{Table, Value};

/// Which of the two recordings of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    /// The host loopback: both ends are 127.0.0.1; the LNS is on UDP 15450
    /// (sessions a to d) or 500/4500 (session e).
    Loopback,
    /// The LNS VM's own NIC: LNS 10.0.2.15:500/4500, client NATed as 10.0.2.2.
    LnsNic,
}

/// UDP ports on which the LNS listens in the captures.
const SERVER_PORTS: [u16; 4] = [500, 4500, 15500, 15450];

/// One ESP SA of a session (from `keys.txt`).
#[derive(Debug, Clone)]
pub struct EspSa {
    /// The SPI.
    pub spi: u32,
    /// `true` for the client-to-LNS SA (the SPI the LNS chose).
    pub client_to_server: bool,
    /// The encryption algorithm.
    pub encryption: Encryption,
    /// The encryption key.
    pub encryption_key: Vec<u8>,
    /// The integrity algorithm.
    pub integrity: Integrity,
    /// The integrity key.
    pub integrity_key: Vec<u8>,
}

impl EspSa {
    /// An esp-core inbound SA for opening this SA's packets (replay window
    /// off, so a capture can be replayed in any order and more than once).
    pub fn inbound(&self) -> Sa {
        let config = SaConfig {
            encryption: self.encryption,
            encryption_key: &self.encryption_key,
            integrity: self.integrity,
            integrity_key: &self.integrity_key,
            encapsulation: Encapsulation::Udp { peer_port: 4500 },
            replay_window: 0,
            lifetime: Lifetime::UNLIMITED,
        };
        Sa::new_inbound(Duration::ZERO, self.spi, &config)
            .expect("keys.txt keys fit their algorithms")
    }
}

/// A UDP datagram with its direction.
#[derive(Debug, Clone)]
pub struct Directed {
    /// From the client (IKE initiator, LAC) to the LNS.
    pub from_client: bool,
    /// The datagram as captured (for port 4500: marker, keepalive or ESP).
    pub datagram: UdpDatagram,
}

/// An IKE message.
#[derive(Debug, Clone)]
pub struct IkeMessage {
    /// From the client, the IKE initiator.
    pub from_initiator: bool,
    /// Carried on the NAT-T port behind the non-ESP marker.
    pub nat_t: bool,
    /// Capture time.
    pub timestamp: Duration,
    /// The ISAKMP message, marker removed.
    pub bytes: Vec<u8>,
}

/// An ESP packet.
#[derive(Debug, Clone)]
pub struct EspPacket {
    /// From the client.
    pub from_client: bool,
    /// Capture time.
    pub timestamp: Duration,
    /// The ESP packet from the SPI to the ICV.
    pub bytes: Vec<u8>,
}

/// A decrypted transport-mode UDP datagram carrying L2TP.
#[derive(Debug, Clone)]
pub struct L2tpDatagram {
    /// From the client (the LAC).
    pub from_client: bool,
    /// Capture time.
    pub timestamp: Duration,
    /// The inner UDP source port (1701).
    pub src_port: u16,
    /// The inner UDP destination port (1701).
    pub dst_port: u16,
    /// The L2TP message.
    pub payload: Vec<u8>,
}

/// One reference session.
#[derive(Debug, Clone)]
pub struct Session {
    /// `'a'` to `'e'`.
    pub id: char,
    /// The capture base name, e.g. `l2tp-ipsec-a-mschapv2-aes256-sha1-modp1024`.
    pub name: String,
    keys: Table,
    psk: String,
    /// The two ESP SAs.
    pub esp: Vec<EspSa>,
}

fn encryption_of(name: &str) -> Encryption {
    match name {
        "AES-CBC-128" => Encryption::AesCbc128,
        "AES-CBC-192" => Encryption::AesCbc192,
        "AES-CBC-256" => Encryption::AesCbc256,
        "3DES-CBC-192" => Encryption::TripleDesCbc,
        other => panic!("keys.txt: unknown encryption {other}"),
    }
}

fn integrity_of(name: &str) -> Integrity {
    match name {
        "HMAC-SHA1-96" => Integrity::HmacSha1_96,
        "HMAC-MD5-96" => Integrity::HmacMd5_96,
        "HMAC-SHA256-128" => Integrity::HmacSha256_128,
        other => panic!("keys.txt: unknown integrity {other}"),
    }
}

/// All five sessions, from `testdata/l2tp-ipsec/keys.txt`.
pub fn sessions() -> Vec<Session> {
    let path = testdata("l2tp-ipsec/keys.txt");
    let text = std::fs::read_to_string(&path).expect("keys.txt");
    let root: Table = text.parse().expect("keys.txt is TOML");
    let psk = root["psk"].as_str().expect("psk").to_owned();
    let all = root["session"].as_table().expect("[session.*]");
    all.iter()
        .map(|(id, keys)| {
            let keys = keys.as_table().expect("session table").clone();
            let pcaps = keys["pcaps"].as_array().expect("pcaps");
            let first = pcaps[0].as_str().expect("pcap name");
            let name = first
                .trim_end_matches(".pcap")
                .trim_end_matches(".loopback")
                .to_owned();
            let esp = ["esp_client_to_server", "esp_server_to_client"]
                .iter()
                .map(|section| {
                    let t = keys[*section].as_table().expect("esp section");
                    let s = |k: &str| t[k].as_str().expect(k);
                    EspSa {
                        spi: u32::from_str_radix(s("spi"), 16).expect("spi"),
                        client_to_server: *section == "esp_client_to_server",
                        encryption: encryption_of(s("encryption")),
                        encryption_key: hex::decode(s("encryption_key")),
                        integrity: integrity_of(s("integrity")),
                        integrity_key: hex::decode(s("integrity_key")),
                    }
                })
                .collect();
            Session {
                id: id.chars().next().expect("session id"),
                name,
                keys,
                psk: psk.clone(),
                esp,
            }
        })
        .collect()
}

impl Session {
    /// The pre-shared key (the same for all sessions).
    pub fn psk(&self) -> &str {
        &self.psk
    }

    /// A string value of the session's `keys.txt` section.
    pub fn value(&self, name: &str) -> &str {
        self.keys
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("session {}: no {name}", self.id))
    }

    /// A hex value of the session's `keys.txt` section, decoded.
    pub fn key(&self, name: &str) -> Vec<u8> {
        hex::decode(self.value(name))
    }

    /// The raw TOML of the session (for arrays such as `ike_iv_chain`).
    pub fn table(&self) -> &Table {
        &self.keys
    }

    /// The capture file.
    pub fn pcap_path(&self, capture: Capture) -> PathBuf {
        let suffix = match capture {
            Capture::Loopback => "loopback",
            Capture::LnsNic => "lns-nic",
        };
        testdata(&format!("l2tp-ipsec/{}.{suffix}.pcap", self.name))
    }

    /// Every UDP datagram between client and LNS on the IKE/NAT-T ports,
    /// with its direction. (The LNS-side captures of b and e also hold a
    /// cleartext L2TP datagram on port 1701; it is left out here.)
    pub fn datagrams(&self, capture: Capture) -> Vec<Directed> {
        net::udp_datagrams(&pcap::read(self.pcap_path(capture)))
            .into_iter()
            .filter_map(|datagram| {
                let to_server = SERVER_PORTS.contains(&datagram.dst.port());
                let from_server = SERVER_PORTS.contains(&datagram.src.port());
                (to_server != from_server).then_some(Directed {
                    from_client: to_server,
                    datagram,
                })
            })
            .collect()
    }

    /// The IKE messages: plain on port 500 (15500), behind the non-ESP
    /// marker on the NAT-T port.
    pub fn ike_messages(&self, capture: Capture) -> Vec<IkeMessage> {
        self.datagrams(capture)
            .into_iter()
            .filter_map(|d| {
                let server_port = if d.from_client {
                    d.datagram.dst.port()
                } else {
                    d.datagram.src.port()
                };
                let payload = &d.datagram.payload;
                let (nat_t, bytes) = if server_port == 500 || server_port == 15500 {
                    (false, payload.clone())
                } else if classify(payload).ok()? == Classification::Ike {
                    (
                        true,
                        payload[Classification::Ike.payload_offset()..].to_vec(),
                    )
                } else {
                    return None;
                };
                Some(IkeMessage {
                    from_initiator: d.from_client,
                    nat_t,
                    timestamp: d.datagram.timestamp,
                    bytes,
                })
            })
            .collect()
    }

    /// The ESP packets (UDP-encapsulated on the NAT-T port).
    pub fn esp_packets(&self, capture: Capture) -> Vec<EspPacket> {
        self.datagrams(capture)
            .into_iter()
            .filter(|d| {
                let port = if d.from_client {
                    d.datagram.dst.port()
                } else {
                    d.datagram.src.port()
                };
                port != 500
                    && port != 15500
                    && classify(&d.datagram.payload) == Ok(Classification::Esp)
            })
            .map(|d| EspPacket {
                from_client: d.from_client,
                timestamp: d.datagram.timestamp,
                bytes: d.datagram.payload,
            })
            .collect()
    }

    /// The NAT-keepalives (`0xFF`) in the capture, with their direction.
    pub fn nat_keepalives(&self, capture: Capture) -> Vec<Directed> {
        self.datagrams(capture)
            .into_iter()
            .filter(|d| classify(&d.datagram.payload) == Ok(Classification::NatKeepalive))
            .collect()
    }

    /// The SA an ESP packet belongs to, by SPI.
    pub fn esp_sa(&self, spi: u32) -> &EspSa {
        self.esp
            .iter()
            .find(|sa| sa.spi == spi)
            .unwrap_or_else(|| panic!("session {}: no SA {spi:#x}", self.id))
    }

    /// Every ESP packet opened with esp-core and its inner transport-mode
    /// UDP header removed: the L2TP datagrams, in capture order. Panics if a
    /// packet fails to open or does not carry UDP.
    pub fn l2tp_payloads(&self, capture: Capture) -> Vec<L2tpDatagram> {
        let mut sas: Vec<(u32, Sa)> = self.esp.iter().map(|sa| (sa.spi, sa.inbound())).collect();
        self.esp_packets(capture)
            .into_iter()
            .map(|p| {
                let spi = u32::from_be_bytes([p.bytes[0], p.bytes[1], p.bytes[2], p.bytes[3]]);
                let (_, sa) = sas
                    .iter_mut()
                    .find(|(s, _)| *s == spi)
                    .unwrap_or_else(|| panic!("session {}: unknown SPI {spi:#x}", self.id));
                let mut buf = p.bytes.clone();
                let opened = sa
                    .open(Duration::ZERO, &mut buf)
                    .unwrap_or_else(|e| panic!("session {}: ESP did not open: {e}", self.id));
                assert_eq!(
                    opened.next_header,
                    IpProtocol::Udp,
                    "transport mode carries UDP"
                );
                let udp = &buf[opened.payload];
                L2tpDatagram {
                    from_client: p.from_client,
                    timestamp: p.timestamp,
                    src_port: u16::from_be_bytes([udp[0], udp[1]]),
                    dst_port: u16::from_be_bytes([udp[2], udp[3]]),
                    payload: udp[8..].to_vec(),
                }
            })
            .collect()
    }
}
