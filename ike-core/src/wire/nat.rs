//! NAT traversal on the wire: the NAT-OA payload (RFC 3947 §5.2), the
//! non-ESP marker and the NAT-keepalive (RFC 3948 §2.2, §2.3).
//!
//! NAT-D payloads carry only a hash; they are computed in
//! [`crate::crypto::nat_d`].

use super::{IdType, WireError, Writer};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The four zero octets in front of IKE messages on UDP port 4500
/// (RFC 3948 §2.2).
pub const NON_ESP_MARKER: [u8; 4] = [0; 4];

/// The one-octet NAT-keepalive datagram (RFC 3948 §2.3).
pub const NAT_KEEPALIVE: [u8; 1] = [0xff];

/// Removes the non-ESP marker from a datagram received on the NAT-T port.
///
/// Returns `None` if the datagram is not an IKE message behind a marker (it
/// is then ESP or a NAT-keepalive, RFC 3948 §2).
pub fn strip_non_esp_marker(datagram: &mut [u8]) -> Option<&mut [u8]> {
    match datagram.split_at_mut_checked(4) {
        Some((marker, rest)) if *marker == NON_ESP_MARKER => Some(rest),
        _ => None,
    }
}

/// A NAT-OA payload body (RFC 3947 §5.2): an original address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatOaRepr {
    /// The address, an ID_IPV4_ADDR or ID_IPV6_ADDR.
    pub address: IpAddr,
}

impl NatOaRepr {
    /// Parses a NAT-OA body.
    ///
    /// # Errors
    /// [`WireError::Truncated`] below 4 octets, [`WireError::Malformed`] for
    /// an ID type other than an address or a length that does not match it.
    pub fn parse(body: &[u8]) -> Result<Self, WireError> {
        if body.len() < 4 {
            return Err(WireError::Truncated);
        }
        let addr = &body[4..];
        let address = match (IdType::from(body[0]), addr.len()) {
            (IdType::Ipv4Addr, 4) => IpAddr::V4(Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3])),
            (IdType::Ipv6Addr, 16) => {
                let mut o = [0u8; 16];
                o.copy_from_slice(addr);
                IpAddr::V6(Ipv6Addr::from(o))
            }
            _ => return Err(WireError::Malformed),
        };
        Ok(Self { address })
    }

    /// Length of the body.
    pub fn buffer_len(&self) -> usize {
        match self.address {
            IpAddr::V4(_) => 8,
            IpAddr::V6(_) => 20,
        }
    }

    /// Writes the body.
    pub fn emit(&self, w: &mut Writer<'_>) {
        match self.address {
            IpAddr::V4(a) => {
                w.put_u8(IdType::Ipv4Addr.into());
                w.put_zeros(3);
                w.put(&a.octets());
            }
            IpAddr::V6(a) => {
                w.put_u8(IdType::Ipv6Addr.into());
                w.put_zeros(3);
                w.put(&a.octets());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    #[test]
    fn nat_oa_round_trip() {
        let body = hex!("01000000 0a00020f");
        let oa = NatOaRepr::parse(&body).unwrap();
        assert_eq!(oa.address, IpAddr::V4(Ipv4Addr::new(10, 0, 2, 15)));
        let mut out = [0u8; 8];
        let mut w = Writer::new(&mut out);
        oa.emit(&mut w);
        assert_eq!(w.finish(), Ok(8));
        assert_eq!(out, body);
        assert_eq!(
            NatOaRepr::parse(&hex!("02000000 0a00020f")).err(),
            Some(WireError::Malformed)
        );
        assert_eq!(
            NatOaRepr::parse(&hex!("01000000 0a00")).err(),
            Some(WireError::Malformed)
        );
    }

    #[test]
    fn marker() {
        let mut ike = hex!("00000000 e47a591fd057587f");
        assert_eq!(strip_non_esp_marker(&mut ike).map(|b| b.len()), Some(8));
        let mut esp = hex!("c3db8139 00000001");
        assert!(strip_non_esp_marker(&mut esp).is_none());
        let mut ka = NAT_KEEPALIVE;
        assert!(strip_non_esp_marker(&mut ka).is_none());
    }
}
