//! Writing a packet attribute by attribute into a caller's buffer.

use super::{
    AttributeType, Code, HEADER_LEN, MAX_PACKET_LEN, MAX_VALUE_LEN, MsAttributeType,
    VENDOR_MICROSOFT,
};
use core::fmt;
use core::net::Ipv4Addr;

/// Why an attribute could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum BuildError {
    /// The buffer (or the 4096-octet packet limit) is full; `needed` is the
    /// length the packet would have had.
    BufferTooSmall {
        /// Bytes the packet would need.
        needed: usize,
    },
    /// A value longer than 253 octets for an attribute that cannot be split.
    ValueTooLong,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall { needed } => write!(f, "RADIUS packet needs {needed} bytes"),
            Self::ValueTooLong => f.write_str("RADIUS attribute value longer than 253 octets"),
        }
    }
}

impl core::error::Error for BuildError {}

/// Appends attributes after a header; [`finish`](Self::finish) writes the
/// Length. Nothing here panics: a full buffer is [`BuildError`].
#[derive(Debug)]
pub struct PacketBuilder<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> PacketBuilder<'a> {
    /// Starts a packet with its header.
    ///
    /// # Errors
    /// [`BuildError::BufferTooSmall`] if `buf` cannot hold the header.
    pub fn new(
        buf: &'a mut [u8],
        code: Code,
        identifier: u8,
        authenticator: &[u8; 16],
    ) -> Result<Self, BuildError> {
        let header = buf
            .get_mut(..HEADER_LEN)
            .ok_or(BuildError::BufferTooSmall { needed: HEADER_LEN })?;
        header[0] = code.into();
        header[1] = identifier;
        header[2..4].copy_from_slice(&[0, 0]);
        header[4..20].copy_from_slice(authenticator);
        Ok(Self {
            buf,
            len: HEADER_LEN,
        })
    }

    /// Bytes written so far.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Nothing but the header yet.
    pub const fn is_empty(&self) -> bool {
        self.len == HEADER_LEN
    }

    fn reserve(&mut self, n: usize) -> Result<&mut [u8], BuildError> {
        let end = self.len + n;
        if end > MAX_PACKET_LEN {
            return Err(BuildError::BufferTooSmall { needed: end });
        }
        let out = self
            .buf
            .get_mut(self.len..end)
            .ok_or(BuildError::BufferTooSmall { needed: end })?;
        self.len = end;
        Ok(out)
    }

    /// Appends one attribute and returns the offset of its value in the
    /// packet (for values filled in later, such as the Message-Authenticator).
    ///
    /// # Errors
    /// [`BuildError`].
    pub fn attribute(&mut self, kind: AttributeType, value: &[u8]) -> Result<usize, BuildError> {
        if value.len() > MAX_VALUE_LEN {
            return Err(BuildError::ValueTooLong);
        }
        let at = self.len + 2;
        let out = self.reserve(2 + value.len())?;
        out[0] = kind.into();
        // At most 255: checked above.
        out[1] = u8::try_from(2 + value.len()).map_err(|_| BuildError::ValueTooLong)?;
        out[2..].copy_from_slice(value);
        Ok(at)
    }

    /// Appends a 32-bit integer attribute.
    ///
    /// # Errors
    /// [`BuildError`].
    pub fn u32(&mut self, kind: AttributeType, value: u32) -> Result<(), BuildError> {
        self.attribute(kind, &value.to_be_bytes()).map(drop)
    }

    /// Appends an address attribute.
    ///
    /// # Errors
    /// [`BuildError`].
    pub fn ipv4(&mut self, kind: AttributeType, value: Ipv4Addr) -> Result<(), BuildError> {
        self.attribute(kind, &value.octets()).map(drop)
    }

    /// Appends a tagged 3-octet integer (RFC 2868 §3.1, §3.2: Tunnel-Type,
    /// Tunnel-Medium-Type).
    ///
    /// # Errors
    /// [`BuildError`].
    pub fn tagged_u24(
        &mut self,
        kind: AttributeType,
        tag: u8,
        value: u32,
    ) -> Result<(), BuildError> {
        let v = value.to_be_bytes();
        self.attribute(kind, &[tag, v[1], v[2], v[3]]).map(drop)
    }

    /// Appends a value of any length as consecutive attributes of at most
    /// 253 octets each (RFC 3579 §3.1 for EAP-Message).
    ///
    /// # Errors
    /// [`BuildError`].
    pub fn split(&mut self, kind: AttributeType, value: &[u8]) -> Result<(), BuildError> {
        for chunk in value.chunks(MAX_VALUE_LEN) {
            self.attribute(kind, chunk)?;
        }
        Ok(())
    }

    /// Appends a Microsoft vendor attribute (RFC 2548 §2) and returns the
    /// offset of its value.
    ///
    /// # Errors
    /// [`BuildError`].
    pub fn microsoft(&mut self, kind: MsAttributeType, value: &[u8]) -> Result<usize, BuildError> {
        if value.len() > MAX_VALUE_LEN - 6 {
            return Err(BuildError::ValueTooLong);
        }
        let at = self.len + 8;
        let out = self.reserve(8 + value.len())?;
        out[0] = AttributeType::VendorSpecific.into();
        out[1] = u8::try_from(8 + value.len()).map_err(|_| BuildError::ValueTooLong)?;
        out[2..6].copy_from_slice(&VENDOR_MICROSOFT.to_be_bytes());
        out[6] = kind.into();
        out[7] = u8::try_from(2 + value.len()).map_err(|_| BuildError::ValueTooLong)?;
        out[8..].copy_from_slice(value);
        Ok(at)
    }

    /// Writes the Length and returns the packet.
    pub fn finish(self) -> &'a mut [u8] {
        let len = self.len;
        // `len <= MAX_PACKET_LEN` (4096), so it fits in a u16.
        let length = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes();
        self.buf[2..4].copy_from_slice(&length);
        &mut self.buf[..len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Packet;
    use hex_literal::hex;
    use std::vec::Vec;

    // Rebuilds the Access-Reject of frame 14 of zeek's radius_localhost.pcap
    // byte for byte (testdata/vectors/radius-chap-eapmd5-from-capture.toml).
    #[test]
    fn rebuilds_a_captured_header() {
        let mut buf = [0u8; 64];
        let b = PacketBuilder::new(
            &mut buf,
            Code::AccessReject,
            43,
            &hex!("42d5fe68699de5322f636f566bdd10f3"),
        )
        .unwrap();
        assert_eq!(
            b.finish(),
            &hex!("032b001442d5fe68699de5322f636f566bdd10f3")[..]
        );
    }

    #[test]
    fn long_values_split_and_full_buffers_refuse() {
        let mut buf = [0u8; 1024];
        let mut b = PacketBuilder::new(&mut buf, Code::AccessRequest, 1, &[0; 16]).unwrap();
        b.split(AttributeType::EapMessage, &[7u8; 600]).unwrap();
        assert_eq!(
            b.attribute(AttributeType::UserName, &[0; 254]),
            Err(BuildError::ValueTooLong)
        );
        let packet = b.finish();
        let p = Packet::new_checked(&*packet).unwrap();
        let lens: Vec<usize> = p.attributes().map(|a| a.unwrap().value.len()).collect();
        assert_eq!(lens, [253, 253, 94]);

        let mut small = [0u8; 30];
        let mut b = PacketBuilder::new(&mut small, Code::AccessRequest, 1, &[0; 16]).unwrap();
        assert_eq!(
            b.attribute(AttributeType::UserName, b"0123456789"),
            Err(BuildError::BufferTooSmall { needed: 32 })
        );
        assert!(PacketBuilder::new(&mut small[..10], Code::AccessRequest, 1, &[0; 16]).is_err());
    }
}
