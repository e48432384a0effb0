//! IPCP Configuration Options (RFC 1332 §3, RFC 1877 §1).
//!
//! The packets are [`super::cp`] packets with `lcp = false`.

use core::net::Ipv4Addr;

use super::cp::RawOption;
use super::{WireError, be16};

/// IPCP Configuration Option types this crate names.
pub mod kind {
    /// IP-Addresses, deprecated (RFC 1332 §3.1).
    pub const IP_ADDRESSES: u8 = 1;
    /// IP-Compression-Protocol (RFC 1332 §3.2); 0x002D is Van Jacobson.
    pub const IP_COMPRESSION_PROTOCOL: u8 = 2;
    /// IP-Address (RFC 1332 §3.3).
    pub const IP_ADDRESS: u8 = 3;
    /// Primary DNS Server Address (RFC 1877 §1.1).
    pub const PRIMARY_DNS: u8 = 129;
    /// Primary NBNS Server Address (RFC 1877 §1.2).
    pub const PRIMARY_NBNS: u8 = 130;
    /// Secondary DNS Server Address (RFC 1877 §1.3).
    pub const SECONDARY_DNS: u8 = 131;
    /// Secondary NBNS Server Address (RFC 1877 §1.4).
    pub const SECONDARY_NBNS: u8 = 132;
}

/// One IPCP Configuration Option in high-level form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpcpOption<'a> {
    /// IP-Addresses (deprecated): source and destination.
    IpAddresses(Ipv4Addr, Ipv4Addr),
    /// IP-Compression-Protocol and its data (for VJ: Max-Slot-Id and
    /// Comp-Slot-Id).
    IpCompressionProtocol {
        /// The IP-Compression-Protocol field.
        protocol: u16,
        /// The Data field.
        data: &'a [u8],
    },
    /// IP-Address: the sender's address, or 0.0.0.0 to ask for one.
    IpAddress(Ipv4Addr),
    /// Primary DNS server (0.0.0.0 asks for it).
    PrimaryDns(Ipv4Addr),
    /// Primary NBNS (WINS) server.
    PrimaryNbns(Ipv4Addr),
    /// Secondary DNS server.
    SecondaryDns(Ipv4Addr),
    /// Secondary NBNS (WINS) server.
    SecondaryNbns(Ipv4Addr),
    /// Any other type.
    Unknown(RawOption<'a>),
}

#[cfg(feature = "defmt")]
impl defmt::Format for IpcpOption<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        use crate::Ip;
        match *self {
            Self::IpAddresses(a, b) => defmt::write!(f, "IP-Addresses {} {}", Ip(a), Ip(b)),
            Self::IpCompressionProtocol { protocol, data } => {
                defmt::write!(
                    f,
                    "IP-Compression-Protocol {=u16:#06x} {=[u8]}",
                    protocol,
                    data
                );
            }
            Self::IpAddress(a) => defmt::write!(f, "IP-Address {}", Ip(a)),
            Self::PrimaryDns(a) => defmt::write!(f, "Primary-DNS {}", Ip(a)),
            Self::PrimaryNbns(a) => defmt::write!(f, "Primary-NBNS {}", Ip(a)),
            Self::SecondaryDns(a) => defmt::write!(f, "Secondary-DNS {}", Ip(a)),
            Self::SecondaryNbns(a) => defmt::write!(f, "Secondary-NBNS {}", Ip(a)),
            Self::Unknown(o) => defmt::write!(f, "{}", o),
        }
    }
}

fn addr(d: &[u8], at: usize) -> Ipv4Addr {
    Ipv4Addr::new(d[at], d[at + 1], d[at + 2], d[at + 3])
}

impl<'a> IpcpOption<'a> {
    /// Interprets a raw option.
    ///
    /// # Errors
    /// [`WireError::BadOptionLength`] when a known type has the wrong length.
    pub fn parse(o: RawOption<'a>) -> Result<Self, WireError> {
        let d = o.data;
        let four = d.len() == 4;
        Ok(match o.kind {
            kind::IP_ADDRESSES if d.len() == 8 => Self::IpAddresses(addr(d, 0), addr(d, 4)),
            kind::IP_COMPRESSION_PROTOCOL if d.len() >= 2 => Self::IpCompressionProtocol {
                protocol: be16(d, 0),
                data: &d[2..],
            },
            kind::IP_ADDRESS if four => Self::IpAddress(addr(d, 0)),
            kind::PRIMARY_DNS if four => Self::PrimaryDns(addr(d, 0)),
            kind::PRIMARY_NBNS if four => Self::PrimaryNbns(addr(d, 0)),
            kind::SECONDARY_DNS if four => Self::SecondaryDns(addr(d, 0)),
            kind::SECONDARY_NBNS if four => Self::SecondaryNbns(addr(d, 0)),
            kind::IP_ADDRESSES
            | kind::IP_COMPRESSION_PROTOCOL
            | kind::IP_ADDRESS
            | kind::PRIMARY_DNS
            | kind::PRIMARY_NBNS
            | kind::SECONDARY_DNS
            | kind::SECONDARY_NBNS => return Err(WireError::BadOptionLength),
            _ => Self::Unknown(o),
        })
    }

    /// The Type field.
    pub fn kind(&self) -> u8 {
        match self {
            Self::IpAddresses(..) => kind::IP_ADDRESSES,
            Self::IpCompressionProtocol { .. } => kind::IP_COMPRESSION_PROTOCOL,
            Self::IpAddress(_) => kind::IP_ADDRESS,
            Self::PrimaryDns(_) => kind::PRIMARY_DNS,
            Self::PrimaryNbns(_) => kind::PRIMARY_NBNS,
            Self::SecondaryDns(_) => kind::SECONDARY_DNS,
            Self::SecondaryNbns(_) => kind::SECONDARY_NBNS,
            Self::Unknown(o) => o.kind,
        }
    }

    /// The address-valued options of RFC 1332 §3.3 and RFC 1877 built from
    /// their type; `None` for any other type.
    pub fn address(kind: u8, a: Ipv4Addr) -> Option<Self> {
        Some(match kind {
            kind::IP_ADDRESS => Self::IpAddress(a),
            kind::PRIMARY_DNS => Self::PrimaryDns(a),
            kind::PRIMARY_NBNS => Self::PrimaryNbns(a),
            kind::SECONDARY_DNS => Self::SecondaryDns(a),
            kind::SECONDARY_NBNS => Self::SecondaryNbns(a),
            _ => return None,
        })
    }

    /// Type, Length and Data together.
    pub fn buffer_len(&self) -> usize {
        2 + match self {
            Self::IpAddresses(..) => 8,
            Self::IpCompressionProtocol { data, .. } => 2 + data.len(),
            Self::Unknown(o) => o.data.len(),
            _ => 4,
        }
    }

    /// Writes the option into `buf[..self.buffer_len()]`.
    pub fn emit(&self, buf: &mut [u8]) {
        let len = self.buffer_len();
        buf[0] = self.kind();
        buf[1] = super::len8(len);
        match *self {
            Self::IpAddresses(a, b) => {
                buf[2..6].copy_from_slice(&a.octets());
                buf[6..10].copy_from_slice(&b.octets());
            }
            Self::IpCompressionProtocol { protocol, data } => {
                buf[2..4].copy_from_slice(&protocol.to_be_bytes());
                buf[4..len].copy_from_slice(data);
            }
            Self::IpAddress(a)
            | Self::PrimaryDns(a)
            | Self::PrimaryNbns(a)
            | Self::SecondaryDns(a)
            | Self::SecondaryNbns(a) => buf[2..6].copy_from_slice(&a.octets()),
            Self::Unknown(o) => buf[2..len].copy_from_slice(o.data),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::cp::Options;
    use super::*;
    use hex_literal::hex;

    // The IPCP exchange of the L2TP/IPsec captures as pppd logs it: the
    // client asks `<addr 0.0.0.0> <ms-dns1 0.0.0.0> <ms-dns2 0.0.0.0>`, the
    // LNS Naks `<addr 192.0.2.10> <ms-dns1 192.0.2.53> <ms-dns2
    // 198.51.100.53>` and offers `<compress VJ 0f 01> <addr 192.0.2.1>`.
    #[test]
    fn options_of_the_captured_exchange() {
        let nak = hex!("03 06 c0 00 02 0a  81 06 c0 00 02 35  83 06 c6 33 64 35");
        let got: heapless::Vec<IpcpOption<'_>, 4> = Options::new(&nak)
            .map(|o| IpcpOption::parse(o.unwrap()).unwrap())
            .collect();
        assert_eq!(
            got.as_slice(),
            &[
                IpcpOption::IpAddress(Ipv4Addr::new(192, 0, 2, 10)),
                IpcpOption::PrimaryDns(Ipv4Addr::new(192, 0, 2, 53)),
                IpcpOption::SecondaryDns(Ipv4Addr::new(198, 51, 100, 53)),
            ]
        );
        let lns = hex!("02 06 00 2d 0f 01  03 06 c0 00 02 01");
        let mut out = [0u8; 12];
        let mut at = 0;
        for raw in Options::new(&lns) {
            let o = IpcpOption::parse(raw.unwrap()).unwrap();
            o.emit(&mut out[at..]);
            at += o.buffer_len();
        }
        assert_eq!(out, lns);
        assert_eq!(
            IpcpOption::parse(RawOption {
                kind: 2,
                data: &hex!("00 2d 0f 01")
            })
            .unwrap(),
            IpcpOption::IpCompressionProtocol {
                protocol: 0x002d,
                data: &[0x0f, 0x01]
            }
        );
    }

    #[test]
    fn wrong_lengths_are_errors() {
        for kind in [1u8, 3, 129, 130, 131, 132] {
            let o = RawOption {
                kind,
                data: &[1, 2, 3],
            };
            assert_eq!(IpcpOption::parse(o), Err(WireError::BadOptionLength));
        }
        let o = RawOption {
            kind: 2,
            data: &[0],
        };
        assert_eq!(IpcpOption::parse(o), Err(WireError::BadOptionLength));
    }
}
