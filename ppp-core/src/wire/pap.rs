//! PAP packets (RFC 1334 §2.2).
//!
//! ```text
//! Authenticate-Request: Code=1 | Identifier | Length | Peer-ID Length | Peer-Id ... | Passwd-Length | Password ...
//! Authenticate-Ack/Nak: Code=2/3 | Identifier | Length | Msg-Length | Message ...
//! ```

use super::{WireError, check_header, emit_header, len8};

/// A PAP packet in high-level form. `Debug` never prints the password.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Repr<'a> {
    /// Authenticate-Request (1).
    Request {
        /// Identifier.
        identifier: u8,
        /// The Peer-Id field (the user name).
        peer_id: &'a [u8],
        /// The Password field, in the clear.
        password: &'a [u8],
    },
    /// Authenticate-Ack (2).
    Ack {
        /// Identifier.
        identifier: u8,
        /// The Message field.
        message: &'a [u8],
    },
    /// Authenticate-Nak (3).
    Nak {
        /// Identifier.
        identifier: u8,
        /// The Message field.
        message: &'a [u8],
    },
}

impl core::fmt::Debug for Repr<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Request {
                identifier,
                peer_id,
                password,
            } => f
                .debug_struct("Request")
                .field("identifier", identifier)
                .field("peer_id", &crate::Bytes(peer_id))
                .field("password", &format_args!("<{} bytes>", password.len()))
                .finish(),
            Self::Ack {
                identifier,
                message,
            } => {
                write!(
                    f,
                    "Ack {{ identifier: {identifier}, message: {:?} }}",
                    crate::Bytes(message)
                )
            }
            Self::Nak {
                identifier,
                message,
            } => {
                write!(
                    f,
                    "Nak {{ identifier: {identifier}, message: {:?} }}",
                    crate::Bytes(message)
                )
            }
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Repr<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Self::Request {
                identifier,
                peer_id,
                ..
            } => {
                defmt::write!(f, "PAP Request id={} peer_id={=[u8]}", identifier, peer_id);
            }
            Self::Ack { identifier, .. } => defmt::write!(f, "PAP Ack id={}", identifier),
            Self::Nak { identifier, .. } => defmt::write!(f, "PAP Nak id={}", identifier),
        }
    }
}

impl<'a> Repr<'a> {
    /// Parses a PAP packet (the Information field of a 0xC023 frame).
    ///
    /// # Errors
    /// [`WireError::Truncated`]/[`WireError::BadLength`] for a bad header,
    /// [`WireError::BadLength`] when Peer-ID Length or Passwd-Length run past
    /// Length, [`WireError::BadSyntax`] for an unknown Code.
    pub fn parse(buf: &'a [u8]) -> Result<Self, WireError> {
        let len = check_header(buf)?;
        let identifier = buf[1];
        let data = &buf[4..len];
        match buf[0] {
            1 => {
                let (&id_len, rest) = data.split_first().ok_or(WireError::BadLength)?;
                let peer_id = rest
                    .get(..usize::from(id_len))
                    .ok_or(WireError::BadLength)?;
                let rest = &rest[usize::from(id_len)..];
                let (&pw_len, rest) = rest.split_first().ok_or(WireError::BadLength)?;
                let password = rest
                    .get(..usize::from(pw_len))
                    .ok_or(WireError::BadLength)?;
                Ok(Self::Request {
                    identifier,
                    peer_id,
                    password,
                })
            }
            code @ (2 | 3) => {
                // A Length of 4 without the Msg-Length octet is taken as an
                // empty message: some peers send it.
                let message = match data.split_first() {
                    None => &[][..],
                    Some((&n, rest)) => rest.get(..usize::from(n)).ok_or(WireError::BadLength)?,
                };
                Ok(if code == 2 {
                    Self::Ack {
                        identifier,
                        message,
                    }
                } else {
                    Self::Nak {
                        identifier,
                        message,
                    }
                })
            }
            _ => Err(WireError::BadSyntax),
        }
    }

    /// The Identifier field.
    pub fn identifier(&self) -> u8 {
        match *self {
            Self::Request { identifier, .. }
            | Self::Ack { identifier, .. }
            | Self::Nak { identifier, .. } => identifier,
        }
    }

    /// The length of the packet [`Repr::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        match self {
            Self::Request {
                peer_id, password, ..
            } => 6 + peer_id.len() + password.len(),
            Self::Ack { message, .. } | Self::Nak { message, .. } => 5 + message.len(),
        }
    }

    /// Writes the packet into `buf[..self.buffer_len()]`. Each field is at
    /// most 255 octets (the caller's contract; parsed packets satisfy it).
    pub fn emit(&self, buf: &mut [u8]) {
        let len = self.buffer_len();
        match *self {
            Self::Request {
                identifier,
                peer_id,
                password,
            } => {
                emit_header(buf, 1, identifier, len);
                buf[4] = len8(peer_id.len());
                let at = 5 + peer_id.len();
                buf[5..at].copy_from_slice(peer_id);
                buf[at] = len8(password.len());
                buf[at + 1..len].copy_from_slice(password);
            }
            Self::Ack {
                identifier,
                message,
            }
            | Self::Nak {
                identifier,
                message,
            } => {
                let code = if matches!(self, Self::Ack { .. }) {
                    2
                } else {
                    3
                };
                emit_header(buf, code, identifier, len);
                buf[4] = len8(message.len());
                buf[5..len].copy_from_slice(message);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    // The PAP exchange of `captures/ppp/pppoe-lcp-pap-ipcp-ipv6cp.pcap`
    // (zeek `pppoe.pcap`, peer "cisco", password "cisco"), bytes as captured.
    #[test]
    fn request_and_ack() {
        let req = hex!("01 01 00 10 05 63 69 73 63 6f 05 63 69 73 63 6f");
        let r = Repr::parse(&req).unwrap();
        assert_eq!(
            r,
            Repr::Request {
                identifier: 1,
                peer_id: b"cisco",
                password: b"cisco"
            }
        );
        let mut out = [0u8; 16];
        r.emit(&mut out);
        assert_eq!(out, req);
        // The peer id is printed, the (equal) password is not.
        assert_eq!(format!("{r:?}").matches("cisco").count(), 1, "{r:?}");
        assert!(format!("{r:?}").contains("<5 bytes>"));

        assert_eq!(
            Repr::parse(&hex!("02 01 00 05 00")).unwrap(),
            Repr::Ack {
                identifier: 1,
                message: b""
            }
        );
        let ack = Repr::Ack {
            identifier: 1,
            message: b"Login ok",
        };
        let mut out = [0u8; 13];
        ack.emit(&mut out);
        assert_eq!(Repr::parse(&out).unwrap(), ack);
        assert_eq!(
            Repr::parse(&hex!("02 07 00 04")).unwrap(),
            Repr::Ack {
                identifier: 7,
                message: b""
            }
        );
    }

    #[test]
    fn lengths_past_the_end() {
        for bad in [
            &hex!("01 01 00 06 05 63")[..],
            &hex!("01 01 00 07 01 63 02")[..],
            &hex!("01 01 00 04")[..],
        ] {
            assert_eq!(Repr::parse(bad), Err(WireError::BadLength), "{bad:02x?}");
        }
        assert_eq!(Repr::parse(&hex!("09 01 00 04")), Err(WireError::BadSyntax));
    }
}
