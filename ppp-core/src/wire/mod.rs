//! Wire formats: the PPP frame as L2TP carries it (RFC 1661 §2, RFC 2661
//! §5.1), the control packets of LCP and IPCP (RFC 1661 §5, RFC 1332,
//! RFC 1570, RFC 1877), PAP (RFC 1334), CHAP with the MD5, MS-CHAPv1 and
//! MS-CHAPv2 value formats (RFC 1994, RFC 2433, RFC 2759) and EAP
//! (RFC 3748).
//!
//! Each file has a `Packet<T: AsRef<[u8]>>` view whose `new_checked` is the
//! only way untrusted bytes enter (after it succeeds no getter panics) and a
//! `Repr` with `parse`, `buffer_len` and `emit` (`emit` into a buffer of
//! `buffer_len()` bytes never panics). Option lists are lazy iterators of
//! `Result<_, WireError>`.

pub mod chap;
pub mod cp;
pub mod eap;
pub mod frame;
pub mod ipcp;
pub mod lcp;
pub mod pap;

use core::fmt;

/// Bytes that cannot be what they claim to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum WireError {
    /// Shorter than the fixed part of its header.
    Truncated,
    /// A Length field smaller than the header it includes, or larger than
    /// the bytes received (RFC 1661 §5: "Octets outside the range of the
    /// Length field are treated as padding", but a Length beyond the data is
    /// invalid).
    BadLength,
    /// An option or attribute whose Length is below 2 or runs past the end
    /// of its list (RFC 1661 §6).
    BadOption,
    /// An option of a known type with the wrong length for that type.
    BadOptionLength,
    /// `0xFF` in the address position not followed by the control `0x03`
    /// (RFC 1662 §3.1, RFC 1661 §6.6).
    BadAddressControl,
    /// A field that is not in the syntax its RFC gives (for instance an
    /// MS-CHAP `S=` value that is not 40 hexadecimal digits).
    BadSyntax,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Truncated => "packet shorter than its header",
            Self::BadLength => "Length field inconsistent with the packet",
            Self::BadOption => "option length below 2 or past the end of the list",
            Self::BadOptionLength => "option length wrong for its type",
            Self::BadAddressControl => "address 0xFF not followed by control 0x03",
            Self::BadSyntax => "field not in the syntax of its RFC",
        })
    }
}

impl core::error::Error for WireError {}

/// A PPP Protocol field value (RFC 1661 §2; the assigned numbers are in the
/// IANA "PPP DLL Protocol Numbers" registry). A value this crate does not
/// name is [`Protocol::Unknown`], data and not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Protocol {
    /// 0x0021 Internet Protocol version 4.
    Ipv4,
    /// 0x0057 Internet Protocol version 6.
    Ipv6,
    /// 0x002D Van Jacobson compressed TCP/IP.
    VjCompressed,
    /// 0x002F Van Jacobson uncompressed TCP/IP.
    VjUncompressed,
    /// 0x003D Multilink (RFC 1990).
    Multilink,
    /// 0x00FD compressed datagram (CCP, RFC 1962).
    Compressed,
    /// 0x8021 IP Control Protocol (RFC 1332).
    Ipcp,
    /// 0x8057 IPv6 Control Protocol (RFC 5072).
    Ipv6cp,
    /// 0x80FD Compression Control Protocol (RFC 1962), which carries MPPE.
    Ccp,
    /// 0x8281 MPLS Control Protocol (RFC 3032).
    Mplscp,
    /// 0xC021 Link Control Protocol.
    Lcp,
    /// 0xC023 Password Authentication Protocol (RFC 1334).
    Pap,
    /// 0xC025 Link Quality Report (RFC 1989).
    Lqr,
    /// 0xC029 Callback Control Protocol (Microsoft CBCP).
    Cbcp,
    /// 0xC02B Bandwidth Allocation Control Protocol (RFC 2125).
    Bacp,
    /// 0xC223 Challenge Handshake Authentication Protocol (RFC 1994).
    Chap,
    /// 0xC227 Extensible Authentication Protocol (RFC 3748 §3).
    Eap,
    /// Any other value.
    Unknown(u16),
}

impl From<u16> for Protocol {
    fn from(v: u16) -> Self {
        match v {
            0x0021 => Self::Ipv4,
            0x0057 => Self::Ipv6,
            0x002d => Self::VjCompressed,
            0x002f => Self::VjUncompressed,
            0x003d => Self::Multilink,
            0x00fd => Self::Compressed,
            0x8021 => Self::Ipcp,
            0x8057 => Self::Ipv6cp,
            0x80fd => Self::Ccp,
            0x8281 => Self::Mplscp,
            0xc021 => Self::Lcp,
            0xc023 => Self::Pap,
            0xc025 => Self::Lqr,
            0xc029 => Self::Cbcp,
            0xc02b => Self::Bacp,
            0xc223 => Self::Chap,
            0xc227 => Self::Eap,
            v => Self::Unknown(v),
        }
    }
}

impl From<Protocol> for u16 {
    fn from(p: Protocol) -> u16 {
        match p {
            Protocol::Ipv4 => 0x0021,
            Protocol::Ipv6 => 0x0057,
            Protocol::VjCompressed => 0x002d,
            Protocol::VjUncompressed => 0x002f,
            Protocol::Multilink => 0x003d,
            Protocol::Compressed => 0x00fd,
            Protocol::Ipcp => 0x8021,
            Protocol::Ipv6cp => 0x8057,
            Protocol::Ccp => 0x80fd,
            Protocol::Mplscp => 0x8281,
            Protocol::Lcp => 0xc021,
            Protocol::Pap => 0xc023,
            Protocol::Lqr => 0xc025,
            Protocol::Cbcp => 0xc029,
            Protocol::Bacp => 0xc02b,
            Protocol::Chap => 0xc223,
            Protocol::Eap => 0xc227,
            Protocol::Unknown(v) => v,
        }
    }
}

/// Reads a big-endian `u16` at `at`; the caller has checked the length.
#[inline]
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Reads a big-endian `u32` at `at`; the caller has checked the length.
#[inline]
pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// A length that the caller has already bounded, as the `u16` of a Length
/// field. Saturates instead of truncating, so a caller bug shows as a short
/// packet and never as a panic.
#[inline]
pub(crate) fn len16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// As [`len16`] for one-octet length fields.
#[inline]
pub(crate) fn len8(n: usize) -> u8 {
    u8::try_from(n).unwrap_or(u8::MAX)
}

/// Writes the four-octet header (Code, Identifier, Length) shared by LCP,
/// IPCP, PAP, CHAP and EAP (RFC 1661 §5, RFC 1334 §3, RFC 1994 §4,
/// RFC 3748 §4). `buf` has at least 4 bytes.
#[inline]
pub(crate) fn emit_header(buf: &mut [u8], code: u8, identifier: u8, length: usize) {
    buf[0] = code;
    buf[1] = identifier;
    buf[2..4].copy_from_slice(&len16(length).to_be_bytes());
}

/// Checks the four-octet header shared by the control protocols and returns
/// the Length: at least 4 and at most `buf.len()`.
#[inline]
pub(crate) fn check_header(buf: &[u8]) -> Result<usize, WireError> {
    if buf.len() < 4 {
        return Err(WireError::Truncated);
    }
    let len = usize::from(be16(buf, 2));
    if len < 4 || len > buf.len() {
        return Err(WireError::BadLength);
    }
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_numbers_round_trip() {
        for v in [
            0x0021u16, 0x0057, 0x002d, 0x002f, 0x003d, 0x00fd, 0x8021, 0x8057, 0x80fd, 0x8281,
            0xc021, 0xc023, 0xc025, 0xc029, 0xc02b, 0xc223, 0xc227, 0x1234,
        ] {
            assert_eq!(u16::from(Protocol::from(v)), v);
        }
        assert_eq!(Protocol::from(0x1234), Protocol::Unknown(0x1234));
    }

    #[test]
    fn header_checks() {
        assert_eq!(check_header(&[1, 2, 0]), Err(WireError::Truncated));
        assert_eq!(check_header(&[1, 2, 0, 3]), Err(WireError::BadLength));
        assert_eq!(check_header(&[1, 2, 0, 5, 0]), Ok(5));
        assert_eq!(check_header(&[1, 2, 0, 6, 0]), Err(WireError::BadLength));
        // Octets past Length are padding (RFC 1661 §5).
        assert_eq!(check_header(&[1, 2, 0, 4, 9, 9]), Ok(4));
    }
}
