//! CHAP packets (RFC 1994 §4) and the value and message formats of its
//! Microsoft variants: MS-CHAP (RFC 2433 §3, §5) and MS-CHAP-V2 (RFC 2759
//! §4 to §6).
//!
//! ```text
//! Challenge/Response: Code=1/2 | Identifier | Length | Value-Size | Value ... | Name ...
//! Success/Failure:    Code=3/4 | Identifier | Length | Message ...
//! ```

use super::{WireError, check_header, emit_header, len8};

/// A CHAP packet in high-level form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Repr<'a> {
    /// Challenge (1).
    Challenge {
        /// Identifier.
        identifier: u8,
        /// The Value field (16 octets for MD5 and MS-CHAP-V2, 8 for MS-CHAP).
        value: &'a [u8],
        /// The Name field (the authenticator's name).
        name: &'a [u8],
    },
    /// Response (2).
    Response {
        /// Identifier.
        identifier: u8,
        /// The Value field (16 octets for MD5, 49 for MS-CHAP and MS-CHAP-V2).
        value: &'a [u8],
        /// The Name field (the user name).
        name: &'a [u8],
    },
    /// Success (3).
    Success {
        /// Identifier.
        identifier: u8,
        /// The Message field.
        message: &'a [u8],
    },
    /// Failure (4).
    Failure {
        /// Identifier.
        identifier: u8,
        /// The Message field.
        message: &'a [u8],
    },
}

impl<'a> Repr<'a> {
    /// Parses a CHAP packet (the Information field of a 0xC223 frame).
    ///
    /// # Errors
    /// [`WireError::Truncated`]/[`WireError::BadLength`] for a bad header or
    /// a Value-Size past Length, [`WireError::BadSyntax`] for an unknown
    /// Code.
    pub fn parse(buf: &'a [u8]) -> Result<Self, WireError> {
        let len = check_header(buf)?;
        let identifier = buf[1];
        let data = &buf[4..len];
        match buf[0] {
            code @ (1 | 2) => {
                let (&n, rest) = data.split_first().ok_or(WireError::BadLength)?;
                let n = usize::from(n);
                let value = rest.get(..n).ok_or(WireError::BadLength)?;
                let name = &rest[n..];
                Ok(if code == 1 {
                    Self::Challenge {
                        identifier,
                        value,
                        name,
                    }
                } else {
                    Self::Response {
                        identifier,
                        value,
                        name,
                    }
                })
            }
            3 => Ok(Self::Success {
                identifier,
                message: data,
            }),
            4 => Ok(Self::Failure {
                identifier,
                message: data,
            }),
            _ => Err(WireError::BadSyntax),
        }
    }

    /// The Identifier field.
    pub fn identifier(&self) -> u8 {
        match *self {
            Self::Challenge { identifier, .. }
            | Self::Response { identifier, .. }
            | Self::Success { identifier, .. }
            | Self::Failure { identifier, .. } => identifier,
        }
    }

    /// The length of the packet [`Repr::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        match self {
            Self::Challenge { value, name, .. } | Self::Response { value, name, .. } => {
                5 + value.len() + name.len()
            }
            Self::Success { message, .. } | Self::Failure { message, .. } => 4 + message.len(),
        }
    }

    /// Writes the packet into `buf[..self.buffer_len()]` (a Value of at most
    /// 255 octets).
    pub fn emit(&self, buf: &mut [u8]) {
        let len = self.buffer_len();
        match *self {
            Self::Challenge {
                identifier,
                value,
                name,
            }
            | Self::Response {
                identifier,
                value,
                name,
            } => {
                let code = if matches!(self, Self::Challenge { .. }) {
                    1
                } else {
                    2
                };
                emit_header(buf, code, identifier, len);
                buf[4] = len8(value.len());
                buf[5..5 + value.len()].copy_from_slice(value);
                buf[5 + value.len()..len].copy_from_slice(name);
            }
            Self::Success {
                identifier,
                message,
            }
            | Self::Failure {
                identifier,
                message,
            } => {
                let code = if matches!(self, Self::Success { .. }) {
                    3
                } else {
                    4
                };
                emit_header(buf, code, identifier, len);
                buf[4..len].copy_from_slice(message);
            }
        }
    }
}

/// The 49-octet Response Value of MS-CHAP (RFC 2433 §3).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MsChapV1Response {
    /// LM-Response (zero when only the NT response is used).
    pub lm_response: [u8; 24],
    /// NT-Response.
    pub nt_response: [u8; 24],
    /// The Flags octet: 1 means "use the NT-Response".
    pub use_nt_response: bool,
}

/// The 49-octet Response Value of MS-CHAP-V2 (RFC 2759 §4).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MsChapV2Response {
    /// Peer-Challenge.
    pub peer_challenge: [u8; 16],
    /// NT-Response.
    pub nt_response: [u8; 24],
    /// The Flags octet (reserved, zero).
    pub flags: u8,
}

impl core::fmt::Debug for MsChapV1Response {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The responses allow an offline dictionary attack: never print them.
        write!(
            f,
            "MsChapV1Response {{ use_nt_response: {}, .. }}",
            self.use_nt_response
        )
    }
}

impl core::fmt::Debug for MsChapV2Response {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "MsChapV2Response {{ flags: {}, .. }}", self.flags)
    }
}

/// The length of both Microsoft Response Values.
pub const MSCHAP_RESPONSE_LEN: usize = 49;

impl MsChapV1Response {
    /// Reads a Response Value.
    ///
    /// # Errors
    /// [`WireError::BadLength`] unless the value is 49 octets.
    pub fn parse(value: &[u8]) -> Result<Self, WireError> {
        let v: &[u8; MSCHAP_RESPONSE_LEN] = value.try_into().map_err(|_| WireError::BadLength)?;
        let mut r = Self {
            lm_response: [0; 24],
            nt_response: [0; 24],
            use_nt_response: v[48] == 1,
        };
        r.lm_response.copy_from_slice(&v[..24]);
        r.nt_response.copy_from_slice(&v[24..48]);
        Ok(r)
    }

    /// The Response Value.
    pub fn to_bytes(&self) -> [u8; MSCHAP_RESPONSE_LEN] {
        let mut v = [0u8; MSCHAP_RESPONSE_LEN];
        v[..24].copy_from_slice(&self.lm_response);
        v[24..48].copy_from_slice(&self.nt_response);
        v[48] = u8::from(self.use_nt_response);
        v
    }
}

impl MsChapV2Response {
    /// Reads a Response Value. The eight reserved octets are not checked:
    /// RFC 2759 §4 says they "MUST be zero", but a nonzero value changes
    /// nothing in the computation and refusing it would only lock out a
    /// sloppy client.
    ///
    /// # Errors
    /// [`WireError::BadLength`] unless the value is 49 octets.
    pub fn parse(value: &[u8]) -> Result<Self, WireError> {
        let v: &[u8; MSCHAP_RESPONSE_LEN] = value.try_into().map_err(|_| WireError::BadLength)?;
        let mut r = Self {
            peer_challenge: [0; 16],
            nt_response: [0; 24],
            flags: v[48],
        };
        r.peer_challenge.copy_from_slice(&v[..16]);
        r.nt_response.copy_from_slice(&v[24..48]);
        Ok(r)
    }

    /// The Response Value.
    pub fn to_bytes(&self) -> [u8; MSCHAP_RESPONSE_LEN] {
        let mut v = [0u8; MSCHAP_RESPONSE_LEN];
        v[..16].copy_from_slice(&self.peer_challenge);
        v[24..48].copy_from_slice(&self.nt_response);
        v[48] = self.flags;
        v
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Writes `bytes` as upper-case hexadecimal into `out[..2 * bytes.len()]`.
pub(crate) fn hex_upper(bytes: &[u8], out: &mut [u8]) {
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 15)];
    }
}

fn unhex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Reads exactly `out.len()` octets of hexadecimal (either case).
fn unhex(text: &[u8], out: &mut [u8]) -> Result<(), WireError> {
    if text.len() != 2 * out.len() {
        return Err(WireError::BadSyntax);
    }
    for (o, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let hi = unhex_digit(pair[0]).ok_or(WireError::BadSyntax)?;
        let lo = unhex_digit(pair[1]).ok_or(WireError::BadSyntax)?;
        *o = hi << 4 | lo;
    }
    Ok(())
}

/// The Message of an MS-CHAP-V2 Success packet (RFC 2759 §5):
/// `S=<auth_string> M=<message>`, where the authenticator response is 40
/// hexadecimal digits. The ` M=` part is optional on input (RFC 2759 says
/// it is sent, but old servers omit it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SuccessMessage<'a> {
    /// The 20-octet authenticator response (RFC 2759 §8.7).
    pub authenticator_response: [u8; 20],
    /// The text after `M=`.
    pub message: &'a [u8],
}

impl<'a> SuccessMessage<'a> {
    /// Parses the Message field of a Success packet.
    ///
    /// # Errors
    /// [`WireError::BadSyntax`] unless it is `S=` and 40 hex digits, then
    /// the end, or a space and `M=`.
    pub fn parse(text: &'a [u8]) -> Result<Self, WireError> {
        let hex = text.strip_prefix(b"S=").ok_or(WireError::BadSyntax)?;
        let (hex, rest) = hex.split_at_checked(40).ok_or(WireError::BadSyntax)?;
        let mut authenticator_response = [0u8; 20];
        unhex(hex, &mut authenticator_response)?;
        let message = match rest {
            [] => &[][..],
            [b' ', b'M', b'=', m @ ..] => m,
            _ => return Err(WireError::BadSyntax),
        };
        Ok(Self {
            authenticator_response,
            message,
        })
    }

    /// `S=` + 40 digits + ` M=` + message.
    pub fn buffer_len(&self) -> usize {
        42 + 3 + self.message.len()
    }

    /// Writes the message into `buf[..self.buffer_len()]`.
    pub fn emit(&self, buf: &mut [u8]) {
        buf[..2].copy_from_slice(b"S=");
        hex_upper(&self.authenticator_response, &mut buf[2..42]);
        buf[42..45].copy_from_slice(b" M=");
        buf[45..self.buffer_len()].copy_from_slice(self.message);
    }
}

/// The Message of an MS-CHAP or MS-CHAP-V2 Failure packet (RFC 2433 §5,
/// RFC 2759 §6): `E=eeeeeeeeee R=r C=cccc… V=vvvvvvvvvv M=<msg>`. Every field
/// is optional on input; [`FailureMessage::emit`] writes `E` and `R`, then
/// `C`, `V` and `M` when present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FailureMessage<'a> {
    /// The error code (691 is "authentication failure", RFC 2759 §6).
    pub error: u32,
    /// Whether a retry is allowed.
    pub retry: bool,
    /// The new challenge: 8 octets for MS-CHAP, 16 for MS-CHAP-V2; `len`
    /// 0 means absent.
    pub challenge: ([u8; 16], usize),
    /// The password-change protocol version.
    pub version: Option<u32>,
    /// The text after `M=` (MS-CHAP-V2 only).
    pub message: Option<&'a [u8]>,
}

fn decimal(text: &[u8]) -> Result<u32, WireError> {
    if text.is_empty() || text.len() > 10 {
        return Err(WireError::BadSyntax);
    }
    text.iter().try_fold(0u32, |acc, &c| {
        let d = unhex_digit(c)
            .filter(|d| *d < 10)
            .ok_or(WireError::BadSyntax)?;
        acc.checked_mul(10)
            .and_then(|a| a.checked_add(u32::from(d)))
            .ok_or(WireError::BadSyntax)
    })
}

fn decimal_len(mut v: u32) -> usize {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

fn emit_decimal(v: u32, out: &mut [u8]) -> usize {
    let n = decimal_len(v);
    let mut x = v;
    for i in (0..n).rev() {
        out[i] = b'0' + u8::try_from(x % 10).unwrap_or(0);
        x /= 10;
    }
    n
}

impl<'a> FailureMessage<'a> {
    /// Parses the Message field of a Failure packet.
    ///
    /// # Errors
    /// [`WireError::BadSyntax`] when `E=` is missing or a field is not in
    /// the RFC's syntax.
    pub fn parse(text: &'a [u8]) -> Result<Self, WireError> {
        let mut m = Self {
            error: 0,
            retry: false,
            challenge: ([0; 16], 0),
            version: None,
            message: None,
        };
        let mut seen_error = false;
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(msg) = rest.strip_prefix(b"M=") {
                m.message = Some(msg);
                break;
            }
            let end = rest.iter().position(|&c| c == b' ').unwrap_or(rest.len());
            let (field, tail) = rest.split_at(end);
            rest = tail.strip_prefix(b" ").unwrap_or(tail);
            match field {
                [b'E', b'=', v @ ..] => {
                    m.error = decimal(v)?;
                    seen_error = true;
                }
                [b'R', b'=', v @ ..] => m.retry = decimal(v)? != 0,
                [b'V', b'=', v @ ..] => m.version = Some(decimal(v)?),
                [b'C', b'=', v @ ..] if v.len() == 16 || v.len() == 32 => {
                    let n = v.len() / 2;
                    unhex(v, &mut m.challenge.0[..n])?;
                    m.challenge.1 = n;
                }
                [] => {}
                _ => return Err(WireError::BadSyntax),
            }
        }
        if seen_error {
            Ok(m)
        } else {
            Err(WireError::BadSyntax)
        }
    }

    /// The challenge, if present.
    pub fn challenge(&self) -> Option<&[u8]> {
        let (c, n) = &self.challenge;
        (*n > 0).then(|| &c[..*n])
    }

    /// The length [`FailureMessage::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        let mut n = 2 + decimal_len(self.error) + 4;
        if self.challenge.1 > 0 {
            n += 3 + 2 * self.challenge.1;
        }
        if let Some(v) = self.version {
            n += 3 + decimal_len(v);
        }
        if let Some(msg) = self.message {
            n += 3 + msg.len();
        }
        n
    }

    /// Writes the message into `buf[..self.buffer_len()]`.
    pub fn emit(&self, buf: &mut [u8]) {
        buf[..2].copy_from_slice(b"E=");
        let mut at = 2 + emit_decimal(self.error, &mut buf[2..]);
        buf[at..at + 4].copy_from_slice(if self.retry { b" R=1" } else { b" R=0" });
        at += 4;
        if let Some(c) = self.challenge() {
            buf[at..at + 3].copy_from_slice(b" C=");
            hex_upper(c, &mut buf[at + 3..]);
            at += 3 + 2 * c.len();
        }
        if let Some(v) = self.version {
            buf[at..at + 3].copy_from_slice(b" V=");
            at += 3 + emit_decimal(v, &mut buf[at + 3..]);
        }
        if let Some(msg) = self.message {
            buf[at..at + 3].copy_from_slice(b" M=");
            buf[at + 3..at + 3 + msg.len()].copy_from_slice(msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    // The PPTP MS-CHAP-V2 exchange of `captures/ppp/pptp-gre-ppp-mschapv2-handshake.pcap`
    // as `vectors/rfc2759-mschapv2.toml` [capture_chapcrack_pptp] gives it.
    #[test]
    fn mschapv2_values_from_the_chapcrack_capture() {
        let value = hex!(
            "ABFE01E6C759850155B4D8D6258CDB6700000000000000001C93ABCE815400686BAECA315F348469256420598A73AD4900"
        );
        let r = MsChapV2Response::parse(&value).unwrap();
        assert_eq!(r.peer_challenge, hex!("ABFE01E6C759850155B4D8D6258CDB67"));
        assert_eq!(
            r.nt_response,
            hex!("1C93ABCE815400686BAECA315F348469256420598A73AD49")
        );
        assert_eq!(r.flags, 0);
        assert_eq!(r.to_bytes(), value);

        let text = b"S=54644F81E5F18C0EE9E26776495D6BC7ADDFB767 M=Access granted";
        let s = SuccessMessage::parse(text).unwrap();
        assert_eq!(
            s.authenticator_response,
            hex!("54644F81E5F18C0EE9E26776495D6BC7ADDFB767")
        );
        assert_eq!(s.message, b"Access granted");
        let mut out = [0u8; 64];
        s.emit(&mut out);
        assert_eq!(&out[..s.buffer_len()], text);
        assert!(SuccessMessage::parse(b"S=54644F81E5F18C0EE9E26776495D6BC7ADDFB767").is_ok());
        assert!(SuccessMessage::parse(b"S=54644F81E5F18C0EE9E26776495D6BC7ADDFB76").is_err());
        assert!(SuccessMessage::parse(b"S=54644F81E5F18C0EE9E26776495D6BC7ADDFB76G").is_err());
        assert!(SuccessMessage::parse(b"S=54644F81E5F18C0EE9E26776495D6BC7ADDFB767X").is_err());
    }

    #[test]
    fn challenge_and_response_packets() {
        // Session a of the L2TP/IPsec captures, as pppd logs it:
        // `CHAP Challenge id=0x18 <75e362c0744a2dbd46d1a532a30dcf65>, name = "l2tpd"`.
        let bytes = hex!("01 18 00 1a 10 75e362c0744a2dbd46d1a532a30dcf65 6c 32 74 70 64");
        let r = Repr::parse(&bytes).unwrap();
        assert_eq!(
            r,
            Repr::Challenge {
                identifier: 0x18,
                value: &hex!("75e362c0744a2dbd46d1a532a30dcf65"),
                name: b"l2tpd"
            }
        );
        let mut out = [0u8; 26];
        r.emit(&mut out);
        assert_eq!(out, bytes);
        assert_eq!(
            Repr::parse(&hex!("02 01 00 06 05 00")),
            Err(WireError::BadLength)
        );
        assert_eq!(Repr::parse(&hex!("02 01 00 04")), Err(WireError::BadLength));
        assert_eq!(Repr::parse(&hex!("05 01 00 04")), Err(WireError::BadSyntax));
    }

    #[test]
    fn failure_messages() {
        // RFC 2759 §6 layout with the challenge from §9.2.
        let text = b"E=691 R=0 C=5B5D7C7D7B3F2F3E3C2C602132262628 V=3 M=Access denied";
        let f = FailureMessage::parse(text).unwrap();
        assert_eq!(f.error, 691);
        assert!(!f.retry);
        assert_eq!(
            f.challenge(),
            Some(&hex!("5B5D7C7D7B3F2F3E3C2C602132262628")[..])
        );
        assert_eq!(f.version, Some(3));
        assert_eq!(f.message, Some(&b"Access denied"[..]));
        let mut out = [0u8; 80];
        f.emit(&mut out);
        assert_eq!(&out[..f.buffer_len()], text);

        // MS-CHAPv1 as this crate sends it (RFC 2433 §5).
        let v1 = FailureMessage::parse(b"E=691 R=0").unwrap();
        assert_eq!(
            (v1.error, v1.retry, v1.challenge(), v1.version, v1.message),
            (691, false, None, None, None)
        );
        v1.emit(&mut out);
        assert_eq!(&out[..v1.buffer_len()], b"E=691 R=0");
        // pppd's form, with an 8-octet MS-CHAPv1 challenge and R=1.
        let p = FailureMessage::parse(b"E=691 R=1 C=0011223344556677 V=0").unwrap();
        assert!(p.retry);
        assert_eq!(p.challenge(), Some(&hex!("0011223344556677")[..]));

        for bad in [
            &b"R=0"[..],
            b"E=abc",
            b"E=691 C=12",
            b"E=99999999999",
            b"E=691 X=1",
        ] {
            assert_eq!(
                FailureMessage::parse(bad),
                Err(WireError::BadSyntax),
                "{bad:?}"
            );
        }
    }
}
