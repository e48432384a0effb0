//! The RADIUS packet (RFC 2865 §3) and its attributes (§5), read lazily and
//! written in place.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Code      |  Identifier   |            Length             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         Authenticator (16)                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Attributes: Type (1), Length (1), Value (Length - 2) ...
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

mod builder;
mod codes;

pub use builder::{BuildError, PacketBuilder};
pub use codes::{AcctStatusType, AcctTerminateCause, AttributeType, Code, MsAttributeType};

use core::fmt;

/// Length of the fixed header.
pub const HEADER_LEN: usize = 20;
/// Largest RADIUS packet (RFC 2865 §3).
pub const MAX_PACKET_LEN: usize = 4096;
/// Largest attribute value (an attribute's length octet counts its 2-byte header).
pub const MAX_VALUE_LEN: usize = 253;
/// The Vendor-Id of Microsoft (RFC 2548).
pub const VENDOR_MICROSOFT: u32 = 311;

/// A packet that cannot be what it claims to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum WireError {
    /// Shorter than the header, or shorter than its Length field says
    /// (RFC 2865 §3: silently discarded).
    Truncated,
    /// A Length field below 20 or above 4096.
    BadLength,
    /// An attribute whose length is below 2 or runs past the packet.
    BadAttribute,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Truncated => "RADIUS packet shorter than its header or Length",
            Self::BadLength => "RADIUS Length outside 20..=4096",
            Self::BadAttribute => "RADIUS attribute with a bad length",
        })
    }
}

impl core::error::Error for WireError {}

/// A read/write view of a RADIUS packet.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checks.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a received datagram, checking the header and the Length field.
    /// Bytes beyond Length are padding and ignored (RFC 2865 §3).
    ///
    /// # Errors
    /// [`WireError::Truncated`] or [`WireError::BadLength`].
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that no getter panics.
    ///
    /// # Errors
    /// As [`new_checked`](Self::new_checked).
    pub fn check_len(&self) -> Result<(), WireError> {
        let buf = self.buffer.as_ref();
        if buf.len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
        if !(HEADER_LEN..=MAX_PACKET_LEN).contains(&len) {
            return Err(WireError::BadLength);
        }
        if len > buf.len() {
            return Err(WireError::Truncated);
        }
        Ok(())
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Code (RFC 2865 §3).
    pub fn code(&self) -> Code {
        self.buffer.as_ref()[0].into()
    }

    /// Identifier.
    pub fn identifier(&self) -> u8 {
        self.buffer.as_ref()[1]
    }

    /// Length: header and attributes.
    pub fn length(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[2], b[3]])
    }

    /// Authenticator.
    pub fn authenticator(&self) -> [u8; 16] {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buffer.as_ref()[4..20]);
        a
    }

    /// The packet up to its Length (what authenticators cover).
    pub fn as_bytes(&self) -> &[u8] {
        &self.buffer.as_ref()[..usize::from(self.length())]
    }

    /// The attributes, lazily.
    pub fn attributes(&self) -> Attributes<'_> {
        Attributes {
            rest: &self.as_bytes()[HEADER_LEN..],
        }
    }

    /// The value of the first attribute of a type (a malformed attribute list
    /// yields `None` from the point where it breaks).
    pub fn attribute(&self, attr: AttributeType) -> Option<&[u8]> {
        self.attributes()
            .map_while(Result::ok)
            .find(|a| a.kind == attr)
            .map(|a| a.value)
    }

    /// The value of the first Microsoft vendor attribute of a type (RFC 2548).
    pub fn ms_attribute(&self, attr: MsAttributeType) -> Option<&[u8]> {
        self.attributes()
            .map_while(Result::ok)
            .filter_map(|a| a.vendor())
            .filter(|(vendor, _)| *vendor == VENDOR_MICROSOFT)
            .flat_map(|(_, subs)| subs.map_while(Result::ok))
            .find(|(t, _)| *t == u8::from(attr))
            .map(|(_, v)| v)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the Identifier.
    pub fn set_identifier(&mut self, id: u8) {
        self.buffer.as_mut()[1] = id;
    }

    /// Sets the Authenticator.
    pub fn set_authenticator(&mut self, a: &[u8; 16]) {
        self.buffer.as_mut()[4..20].copy_from_slice(a);
    }
}

/// One attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute<'a> {
    /// The Type octet.
    pub kind: AttributeType,
    /// The Value (Length - 2 octets).
    pub value: &'a [u8],
}

impl<'a> Attribute<'a> {
    /// For a Vendor-Specific attribute (RFC 2865 §5.26): the Vendor-Id and an
    /// iterator over the sub-attributes in the RFC's suggested format
    /// (vendor type, vendor length, value).
    pub fn vendor(&self) -> Option<(u32, VendorAttributes<'a>)> {
        if self.kind != AttributeType::VendorSpecific {
            return None;
        }
        let (id, rest) = self.value.split_first_chunk::<4>()?;
        Some((u32::from_be_bytes(*id), VendorAttributes { rest }))
    }

    /// The value as a 32-bit integer, address or time (RFC 2865 §5).
    pub fn as_u32(&self) -> Option<u32> {
        <[u8; 4]>::try_from(self.value).ok().map(u32::from_be_bytes)
    }
}

/// The next type-length-value item of an attribute list (the same layout for
/// attributes, RFC 2865 §5, and vendor sub-attributes, §5.26): a lone byte
/// or a length below 2 or past the end is an error, after which the list
/// ends.
fn next_tlv<'a>(rest: &mut &'a [u8]) -> Option<Result<(u8, &'a [u8]), WireError>> {
    if rest.is_empty() {
        return None;
    }
    let Some((&[kind, len], _)) = rest.split_first_chunk::<2>() else {
        *rest = &[];
        return Some(Err(WireError::BadAttribute));
    };
    let len = usize::from(len);
    if len < 2 || len > rest.len() {
        *rest = &[];
        return Some(Err(WireError::BadAttribute));
    }
    let value = &rest[2..len];
    *rest = &rest[len..];
    Some(Ok((kind, value)))
}

/// Lazy iterator over the attributes of a packet.
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Result<Attribute<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        next_tlv(&mut self.rest).map(|r| {
            r.map(|(kind, value)| Attribute {
                kind: kind.into(),
                value,
            })
        })
    }
}

/// Lazy iterator over vendor sub-attributes: `(vendor type, value)`.
#[derive(Debug, Clone)]
pub struct VendorAttributes<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for VendorAttributes<'a> {
    type Item = Result<(u8, &'a [u8]), WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        next_tlv(&mut self.rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;
    use std::vec::Vec;

    // The Access-Accept of frame 10 of zeek's radius_localhost.pcap
    // (testdata/vectors/radius-chap-eapmd5-from-capture.toml).
    const ACCEPT: [u8; 71] = hex!(
        "026100478f2f54cfbb2b5e386e6d252cabd468910606000000020706000000010806ac1003210906ffffff00"
        "0a06000000030b097374642e7070700c06000005dc0d0600000001"
    );

    #[test]
    fn parses_a_real_access_accept() {
        let p = Packet::new_checked(&ACCEPT[..]).unwrap();
        assert_eq!(p.code(), Code::AccessAccept);
        assert_eq!(p.identifier(), 0x61);
        assert_eq!(p.length(), 71);
        let attrs: Vec<_> = p.attributes().map(Result::unwrap).collect();
        assert_eq!(attrs.len(), 8);
        assert_eq!(attrs[0].kind, AttributeType::ServiceType);
        assert_eq!(attrs[0].as_u32(), Some(2));
        assert_eq!(
            p.attribute(AttributeType::FramedIpAddress),
            Some(&[172, 16, 3, 33][..])
        );
        assert_eq!(p.attribute(AttributeType::FilterId), Some(&b"std.ppp"[..]));
        assert_eq!(
            p.attribute(AttributeType::FramedMtu),
            Some(&[0, 0, 5, 0xdc][..])
        );
    }

    #[test]
    fn bad_lengths() {
        assert_eq!(
            Packet::new_checked(&ACCEPT[..19]).unwrap_err(),
            WireError::Truncated
        );
        assert_eq!(
            Packet::new_checked(&ACCEPT[..70]).unwrap_err(),
            WireError::Truncated
        );
        let mut short = ACCEPT;
        short[3] = 19;
        assert_eq!(
            Packet::new_checked(&short[..]).unwrap_err(),
            WireError::BadLength
        );
        // Padding beyond Length is ignored.
        let mut padded = ACCEPT.to_vec();
        padded.extend_from_slice(&[0xee; 5]);
        assert_eq!(
            Packet::new_checked(&padded[..])
                .unwrap()
                .attributes()
                .count(),
            8
        );
        // An attribute running past the end.
        let mut broken = ACCEPT;
        broken[20 + 1] = 200;
        let p = Packet::new_checked(&broken[..]).unwrap();
        assert_eq!(p.attributes().next(), Some(Err(WireError::BadAttribute)));
        assert_eq!(p.attributes().count(), 1);
        broken[20 + 1] = 1;
        assert_eq!(
            Packet::new_checked(&broken[..])
                .unwrap()
                .attributes()
                .next(),
            Some(Err(WireError::BadAttribute))
        );
    }

    /// Found by the `radius_codec` fuzz target: a single byte after the last
    /// attribute was silently ignored instead of reported.
    #[test]
    fn a_trailing_partial_attribute_header_is_an_error() {
        let mut packet = ACCEPT.to_vec();
        packet.push(0x10);
        packet[3] += 1;
        let p = Packet::new_checked(&packet[..]).unwrap();
        let items: Vec<_> = p.attributes().collect();
        assert_eq!(items.len(), 9);
        assert_eq!(items[8], Err(WireError::BadAttribute));
    }

    #[test]
    fn vendor_specific_microsoft() {
        // Vendor-Specific, Microsoft, MS-CHAP-Error (2) "\x01E=691 R=0".
        let vsa = hex!("1a 12 00000137 02 0c 01 453d363931 20 523d30");
        let mut packet = [0u8; 20 + 18];
        packet[0] = 2;
        packet[3] = 38;
        packet[20..].copy_from_slice(&vsa);
        let p = Packet::new_checked(&packet[..]).unwrap();
        assert_eq!(
            p.ms_attribute(MsAttributeType::MsChapError),
            Some(&b"\x01E=691 R=0"[..])
        );
        assert_eq!(p.ms_attribute(MsAttributeType::MsChap2Success), None);
    }
}
