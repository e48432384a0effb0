//! The PPP frame as carried in an L2TP data message (RFC 2661 §5.1: no HDLC
//! flags, FCS or transparency): Address `0xFF` and Control `0x03`, which
//! may be absent when Address-and-Control-Field-Compression is in force
//! (RFC 1661 §6.6), then the Protocol field, one octet when
//! Protocol-Field-Compression is in force (RFC 1661 §6.5), then the
//! Information field.
//!
//! A receiver accepts every combination regardless of what was negotiated
//! (RFC 1661 §6.5, §6.6: compressed frames "MUST" be accepted once
//! negotiated, uncompressed ones always), so parsing never depends on link
//! state.

use super::{Protocol, WireError};

/// The All-Stations address (RFC 1662 §3.1).
pub const ADDRESS: u8 = 0xff;
/// Unnumbered Information with the P/F bit zero (RFC 1662 §3.1).
pub const CONTROL: u8 = 0x03;
/// The largest header [`Repr::emit`] writes: address, control, two-octet
/// protocol.
pub const MAX_HEADER_LEN: usize = 4;

/// A read/write view of a PPP frame.
#[derive(Debug, Clone)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps a buffer without checking it; getters may panic until
    /// [`Frame::check_len`] succeeds.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer and checks that the header is complete.
    ///
    /// # Errors
    /// [`WireError::Truncated`] when the protocol field is missing,
    /// [`WireError::BadAddressControl`] for `0xFF` followed by anything but
    /// `0x03`.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let f = Self::new_unchecked(buffer);
        f.check_len()?;
        Ok(f)
    }

    /// Checks that the header is complete (see [`Frame::new_checked`]).
    ///
    /// # Errors
    /// As [`Frame::new_checked`].
    pub fn check_len(&self) -> Result<(), WireError> {
        let b = self.buffer.as_ref();
        let at = match b {
            [ADDRESS, CONTROL, ..] => 2,
            [ADDRESS, _, ..] => return Err(WireError::BadAddressControl),
            // A single 0xFF: too short to be anything.
            [ADDRESS] => return Err(WireError::Truncated),
            _ => 0,
        };
        match b.get(at) {
            None => Err(WireError::Truncated),
            Some(p) if p & 1 == 1 => Ok(()),
            Some(_) if b.len() >= at + 2 => Ok(()),
            Some(_) => Err(WireError::Truncated),
        }
    }

    /// Whether the Address and Control fields are present.
    pub fn has_address_control(&self) -> bool {
        self.buffer.as_ref().first() == Some(&ADDRESS)
    }

    fn protocol_offset(&self) -> usize {
        if self.has_address_control() { 2 } else { 0 }
    }

    /// Whether the Protocol field is one octet: an odd first octet
    /// (RFC 1661 §2: the least significant bit of the most significant
    /// octet is 0 in every two-octet value, so an odd first octet can only
    /// be a compressed field).
    pub fn is_protocol_compressed(&self) -> bool {
        self.buffer.as_ref()[self.protocol_offset()] & 1 == 1
    }

    /// The Protocol field, expanded to 16 bits.
    pub fn protocol(&self) -> Protocol {
        let b = self.buffer.as_ref();
        let at = self.protocol_offset();
        if self.is_protocol_compressed() {
            Protocol::from(u16::from(b[at]))
        } else {
            Protocol::from(super::be16(b, at))
        }
    }

    /// The raw Protocol field value (for Protocol-Reject).
    pub fn protocol_number(&self) -> u16 {
        u16::from(self.protocol())
    }

    /// Length of Address, Control and Protocol fields together.
    pub fn header_len(&self) -> usize {
        self.protocol_offset() + if self.is_protocol_compressed() { 1 } else { 2 }
    }

    /// The Information field (with any padding).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

/// The header of a PPP frame in high-level form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Repr {
    /// The protocol of the Information field.
    pub protocol: Protocol,
    /// Omit Address and Control (ACFC in force, RFC 1661 §6.6).
    pub compress_address_control: bool,
    /// Send the Protocol field as one octet when the value allows it (PFC in
    /// force, RFC 1661 §6.5).
    pub compress_protocol: bool,
}

impl Repr {
    /// Reads the header of a checked frame.
    pub fn parse<T: AsRef<[u8]>>(frame: &Frame<T>) -> Self {
        Self {
            protocol: frame.protocol(),
            compress_address_control: !frame.has_address_control(),
            compress_protocol: frame.is_protocol_compressed(),
        }
    }

    /// Whether the protocol field goes out as one octet: only values
    /// 0x0001..=0x00FF with the low bit set can be (RFC 1661 §6.5).
    fn one_octet_protocol(&self) -> bool {
        let v = u16::from(self.protocol);
        self.compress_protocol && v < 0x100 && v & 1 == 1
    }

    /// The header length [`Repr::emit`] writes.
    pub fn header_len(&self) -> usize {
        let proto = if self.one_octet_protocol() { 1 } else { 2 };
        proto + if self.compress_address_control { 0 } else { 2 }
    }

    /// Writes the header into `buf[..self.header_len()]`.
    ///
    /// # Panics
    /// If `buf` is shorter than [`Repr::header_len`] (a caller bug, never
    /// network input).
    pub fn emit(&self, buf: &mut [u8]) {
        let mut at = 0;
        if !self.compress_address_control {
            buf[0] = ADDRESS;
            buf[1] = CONTROL;
            at = 2;
        }
        let v = u16::from(self.protocol).to_be_bytes();
        if self.one_octet_protocol() {
            buf[at] = v[1];
        } else {
            buf[at..at + 2].copy_from_slice(&v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 1661 §2 and the L2TP/IPsec captures: pppd in session a sends
    // `ff 03 c0 21` in front of LCP; with PFC and ACFC an IPv4 datagram may
    // start with the single octet 0x21.
    #[test]
    fn all_four_header_shapes() {
        let cases: [(&[u8], Protocol, usize); 5] = [
            (&[0xff, 0x03, 0xc0, 0x21, 1], Protocol::Lcp, 4),
            (&[0xc0, 0x21, 1], Protocol::Lcp, 2),
            (&[0xff, 0x03, 0x21, 0x45], Protocol::Ipv4, 3),
            (&[0x21, 0x45], Protocol::Ipv4, 1),
            (&[0x00, 0x21, 0x45], Protocol::Ipv4, 2),
        ];
        for (bytes, proto, hl) in cases {
            let f = Frame::new_checked(bytes).unwrap();
            assert_eq!(f.protocol(), proto);
            assert_eq!(f.header_len(), hl);
            let r = Repr::parse(&f);
            assert_eq!(r.header_len(), hl);
            let mut out = [0u8; 4];
            r.emit(&mut out);
            assert_eq!(&out[..hl], &bytes[..hl]);
        }
    }

    #[test]
    fn malformed_headers() {
        assert_eq!(
            Frame::new_checked(&[][..]).unwrap_err(),
            WireError::Truncated
        );
        assert_eq!(
            Frame::new_checked(&[0xff][..]).unwrap_err(),
            WireError::Truncated
        );
        assert_eq!(
            Frame::new_checked(&[0xff, 0x01, 0xc0, 0x21][..]).unwrap_err(),
            WireError::BadAddressControl
        );
        assert_eq!(
            Frame::new_checked(&[0xff, 0x03][..]).unwrap_err(),
            WireError::Truncated
        );
        assert_eq!(
            Frame::new_checked(&[0xc0][..]).unwrap_err(),
            WireError::Truncated
        );
    }

    #[test]
    fn pfc_never_applies_to_two_octet_protocols() {
        let r = Repr {
            protocol: Protocol::Lcp,
            compress_address_control: true,
            compress_protocol: true,
        };
        assert_eq!(r.header_len(), 2);
        let mut b = [0; 2];
        r.emit(&mut b);
        assert_eq!(b, [0xc0, 0x21]);
    }
}
