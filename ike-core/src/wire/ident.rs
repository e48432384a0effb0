//! The Identification payload of the IPsec DOI (RFC 2407 §4.6.2).

use super::{WireError, Writer, be16, code_point};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

code_point! {
    /// Identification Type values (RFC 2407 §4.6.2.1).
    pub enum IdType: u8 {
        /// ID_IPV4_ADDR.
        Ipv4Addr = 1,
        /// ID_FQDN.
        Fqdn = 2,
        /// ID_USER_FQDN.
        UserFqdn = 3,
        /// ID_IPV4_ADDR_SUBNET.
        Ipv4AddrSubnet = 4,
        /// ID_IPV6_ADDR.
        Ipv6Addr = 5,
        /// ID_IPV6_ADDR_SUBNET.
        Ipv6AddrSubnet = 6,
        /// ID_IPV4_ADDR_RANGE.
        Ipv4AddrRange = 7,
        /// ID_IPV6_ADDR_RANGE.
        Ipv6AddrRange = 8,
        /// ID_DER_ASN1_DN.
        DerAsn1Dn = 9,
        /// ID_DER_ASN1_GN.
        DerAsn1Gn = 10,
        /// ID_KEY_ID.
        KeyId = 11,
    }
}

/// An Identification payload body (RFC 2407 §4.6.2): the phase 1 identity
/// or a Quick Mode client identity (IDci/IDcr).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRepr<'a> {
    /// Identification Type.
    pub id_type: IdType,
    /// Protocol ID (0 = any; 17 = UDP for L2TP).
    pub protocol: u8,
    /// Port (0 = any; 1701 for L2TP).
    pub port: u16,
    /// Identification Data.
    pub data: &'a [u8],
}

impl<'a> IdRepr<'a> {
    /// Parses an ID payload body.
    ///
    /// # Errors
    /// [`WireError::Truncated`] below 4 octets.
    pub fn parse(body: &'a [u8]) -> Result<Self, WireError> {
        if body.len() < 4 {
            return Err(WireError::Truncated);
        }
        Ok(Self {
            id_type: body[0].into(),
            protocol: body[1],
            port: be16(body, 2),
            data: &body[4..],
        })
    }

    /// An ID_IPV4_ADDR or ID_IPV6_ADDR for `addr`; `buf` holds the address
    /// octets.
    pub fn from_ip(addr: IpAddr, protocol: u8, port: u16, buf: &'a mut [u8; 16]) -> Self {
        match addr {
            IpAddr::V4(a) => {
                buf[..4].copy_from_slice(&a.octets());
                Self {
                    id_type: IdType::Ipv4Addr,
                    protocol,
                    port,
                    data: &buf[..4],
                }
            }
            IpAddr::V6(a) => {
                *buf = a.octets();
                Self {
                    id_type: IdType::Ipv6Addr,
                    protocol,
                    port,
                    data: &buf[..],
                }
            }
        }
    }

    /// The address of an ID_IPV4_ADDR/ID_IPV6_ADDR, or of a subnet with a
    /// host mask (/32 or /128), the form some clients use for a single host.
    pub fn host_address(&self) -> Option<IpAddr> {
        match (self.id_type, self.data.len()) {
            (IdType::Ipv4Addr, 4) => Some(IpAddr::V4(v4(&self.data[..4]))),
            (IdType::Ipv6Addr, 16) => Some(IpAddr::V6(v6(&self.data[..16]))),
            (IdType::Ipv4AddrSubnet, 8) if self.data[4..8] == [0xff; 4] => {
                Some(IpAddr::V4(v4(&self.data[..4])))
            }
            (IdType::Ipv6AddrSubnet, 32) if self.data[16..32] == [0xff; 16] => {
                Some(IpAddr::V6(v6(&self.data[..16])))
            }
            _ => None,
        }
    }

    /// Length of the body.
    pub fn buffer_len(&self) -> usize {
        4 + self.data.len()
    }

    /// Writes the body.
    pub fn emit(&self, w: &mut Writer<'_>) {
        w.put_u8(self.id_type.into());
        w.put_u8(self.protocol);
        w.put_u16(self.port);
        w.put(self.data);
    }
}

fn v4(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

fn v6(b: &[u8]) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o.copy_from_slice(b);
    Ipv6Addr::from(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    // An IDci as captures/l2tp-ipsec/README.md describes the Quick Modes
    // ("IDci/IDcr 10.0.2.15/2.2 udp/1701"); the decrypted originals are
    // checked in tests/captures.rs.
    #[test]
    fn l2tp_selector() {
        let body = hex!("01 11 06a5 0a00020f");
        let id = IdRepr::parse(&body).unwrap();
        assert_eq!(id.id_type, IdType::Ipv4Addr);
        assert_eq!((id.protocol, id.port), (17, 1701));
        assert_eq!(
            id.host_address(),
            Some(IpAddr::V4(Ipv4Addr::new(10, 0, 2, 15)))
        );
        let mut out = [0u8; 8];
        let mut w = Writer::new(&mut out);
        id.emit(&mut w);
        assert_eq!(w.finish(), Ok(8));
        assert_eq!(out, body);
        let mut b = [0u8; 16];
        let again = IdRepr::from_ip(IpAddr::V4(Ipv4Addr::new(10, 0, 2, 15)), 17, 1701, &mut b);
        assert_eq!(again, id);
    }

    #[test]
    fn subnet_host_and_others() {
        let host = hex!("04 00 0000 c0000201 ffffffff");
        assert_eq!(
            IdRepr::parse(&host).unwrap().host_address(),
            Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)))
        );
        let net = hex!("04 00 0000 c0000200 ffffff00");
        assert_eq!(IdRepr::parse(&net).unwrap().host_address(), None);
        let fqdn = IdRepr::parse(b"\x02\x00\x00\x00vpn.example").unwrap();
        assert_eq!(fqdn.id_type, IdType::Fqdn);
        assert_eq!(fqdn.data, b"vpn.example");
        assert_eq!(IdRepr::parse(&[1, 0, 0]).err(), Some(WireError::Truncated));
    }
}
