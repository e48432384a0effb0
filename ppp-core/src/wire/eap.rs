//! EAP packets (RFC 3748 §4, §5) as PPP carries them (protocol 0xC227).
//!
//! ```text
//! Request/Response: Code=1/2 | Identifier | Length | Type | Type-Data ...
//! Success/Failure:  Code=3/4 | Identifier | Length (= 4)
//! ```
//!
//! The authenticator relays EAP opaquely; only Identity, Nak and
//! MD5-Challenge are interpreted, for the peer role.

use super::{WireError, check_header, emit_header, len8};

/// EAP Type values this crate names (RFC 3748 §5).
pub mod kind {
    /// Identity (RFC 3748 §5.1).
    pub const IDENTITY: u8 = 1;
    /// Notification (RFC 3748 §5.2).
    pub const NOTIFICATION: u8 = 2;
    /// Legacy Nak, Response only (RFC 3748 §5.3.1).
    pub const NAK: u8 = 3;
    /// MD5-Challenge (RFC 3748 §5.4).
    pub const MD5_CHALLENGE: u8 = 4;
}

/// An EAP packet in high-level form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Repr<'a> {
    /// Request (1).
    Request {
        /// Identifier.
        identifier: u8,
        /// The Type field.
        kind: u8,
        /// The Type-Data field.
        data: &'a [u8],
    },
    /// Response (2).
    Response {
        /// Identifier.
        identifier: u8,
        /// The Type field.
        kind: u8,
        /// The Type-Data field.
        data: &'a [u8],
    },
    /// Success (3).
    Success {
        /// Identifier.
        identifier: u8,
    },
    /// Failure (4).
    Failure {
        /// Identifier.
        identifier: u8,
    },
}

impl<'a> Repr<'a> {
    /// Parses an EAP packet. Octets past Length are padding (RFC 3748 §4).
    ///
    /// # Errors
    /// [`WireError::Truncated`]/[`WireError::BadLength`] for a bad header or
    /// a Request/Response without a Type, [`WireError::BadSyntax`] for an
    /// unknown Code.
    pub fn parse(buf: &'a [u8]) -> Result<Self, WireError> {
        let len = check_header(buf)?;
        let identifier = buf[1];
        match buf[0] {
            code @ (1 | 2) => {
                if len < 5 {
                    return Err(WireError::BadLength);
                }
                let (kind, data) = (buf[4], &buf[5..len]);
                Ok(if code == 1 {
                    Self::Request {
                        identifier,
                        kind,
                        data,
                    }
                } else {
                    Self::Response {
                        identifier,
                        kind,
                        data,
                    }
                })
            }
            3 => Ok(Self::Success { identifier }),
            4 => Ok(Self::Failure { identifier }),
            _ => Err(WireError::BadSyntax),
        }
    }

    /// The Identifier field.
    pub fn identifier(&self) -> u8 {
        match *self {
            Self::Request { identifier, .. }
            | Self::Response { identifier, .. }
            | Self::Success { identifier }
            | Self::Failure { identifier } => identifier,
        }
    }

    /// The length of the packet [`Repr::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        match self {
            Self::Request { data, .. } | Self::Response { data, .. } => 5 + data.len(),
            Self::Success { .. } | Self::Failure { .. } => 4,
        }
    }

    /// Writes the packet into `buf[..self.buffer_len()]`.
    pub fn emit(&self, buf: &mut [u8]) {
        let len = self.buffer_len();
        match *self {
            Self::Request {
                identifier,
                kind,
                data,
            }
            | Self::Response {
                identifier,
                kind,
                data,
            } => {
                let code = if matches!(self, Self::Request { .. }) {
                    1
                } else {
                    2
                };
                emit_header(buf, code, identifier, len);
                buf[4] = kind;
                buf[5..len].copy_from_slice(data);
            }
            Self::Success { identifier } => emit_header(buf, 3, identifier, 4),
            Self::Failure { identifier } => emit_header(buf, 4, identifier, 4),
        }
    }
}

/// The Type-Data of an MD5-Challenge (RFC 3748 §5.4, laid out as CHAP's
/// Value-Size, Value, Name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Md5Challenge<'a> {
    /// The Value field.
    pub value: &'a [u8],
    /// The Name field.
    pub name: &'a [u8],
}

impl<'a> Md5Challenge<'a> {
    /// Parses Type-Data.
    ///
    /// # Errors
    /// [`WireError::BadLength`] when Value-Size runs past the data.
    pub fn parse(data: &'a [u8]) -> Result<Self, WireError> {
        let (&n, rest) = data.split_first().ok_or(WireError::BadLength)?;
        let value = rest.get(..usize::from(n)).ok_or(WireError::BadLength)?;
        Ok(Self {
            value,
            name: &rest[usize::from(n)..],
        })
    }

    /// The length [`Md5Challenge::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        1 + self.value.len() + self.name.len()
    }

    /// Writes Type-Data into `buf[..self.buffer_len()]`.
    pub fn emit(&self, buf: &mut [u8]) {
        buf[0] = len8(self.value.len());
        buf[1..1 + self.value.len()].copy_from_slice(self.value);
        buf[1 + self.value.len()..self.buffer_len()].copy_from_slice(self.name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    // EAP-MD5 of `vectors/radius-chap-eapmd5-from-capture.toml` (zeek
    // radius_localhost.pcap): id 0x71, challenge ba0bf4a7e7177359caa52e7eb10d9d0b,
    // laid out as an EAP-Request/MD5-Challenge.
    #[test]
    fn md5_challenge_round_trip() {
        let pkt = hex!("01 71 00 16 04 10 ba0bf4a7e7177359caa52e7eb10d9d0b");
        let r = Repr::parse(&pkt).unwrap();
        let Repr::Request {
            identifier: 0x71,
            kind: kind::MD5_CHALLENGE,
            data,
        } = r
        else {
            panic!("{r:?}")
        };
        let c = Md5Challenge::parse(data).unwrap();
        assert_eq!(c.value, &hex!("ba0bf4a7e7177359caa52e7eb10d9d0b"));
        assert_eq!(c.name, b"");
        let mut out = [0u8; 22];
        r.emit(&mut out);
        assert_eq!(out, pkt);
    }

    #[test]
    fn success_failure_and_errors() {
        assert_eq!(
            Repr::parse(&hex!("03 05 00 04")).unwrap(),
            Repr::Success { identifier: 5 }
        );
        assert_eq!(
            Repr::parse(&hex!("04 05 00 04 00")).unwrap(),
            Repr::Failure { identifier: 5 }
        );
        assert_eq!(Repr::parse(&hex!("01 05 00 04")), Err(WireError::BadLength));
        assert_eq!(Repr::parse(&hex!("07 05 00 04")), Err(WireError::BadSyntax));
        assert_eq!(
            Md5Challenge::parse(&hex!("05 00")),
            Err(WireError::BadLength)
        );
        // An Identity response as RFC 3748 §5.1 lays it out.
        let id = Repr::Response {
            identifier: 1,
            kind: kind::IDENTITY,
            data: b"alice",
        };
        let mut out = [0u8; 10];
        id.emit(&mut out);
        assert_eq!(out, hex!("02 01 00 0a 01 61 6c 69 63 65"));
    }
}
