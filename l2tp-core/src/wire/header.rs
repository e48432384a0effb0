//! The L2TP header (RFC 2661 §3.1).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |T|L|x|x|S|x|O|P|x|x|x|x|  Ver  |          Length (opt)         |
//! |           Tunnel ID           |           Session ID          |
//! |             Ns (opt)          |             Nr (opt)          |
//! |      Offset Size (opt)        |    Offset pad... (opt)
//! ```

use core::ops::Range;

use super::{WireError, be16};

const FLAG_T: u8 = 0x80;
const FLAG_L: u8 = 0x40;
const FLAG_S: u8 = 0x08;
const FLAG_O: u8 = 0x02;
const FLAG_P: u8 = 0x01;
/// The only version this crate speaks (RFC 2661 §3.1).
pub const VERSION: u8 = 2;

/// A read/write view of an L2TP message: header and payload (RFC 2661 §3.1).
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it. Getters may panic until
    /// [`check_len`](Self::check_len) has succeeded.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer and checks that every field the flags announce is
    /// inside it.
    ///
    /// # Errors
    /// See [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks the version, the flag combination of control messages, and
    /// that the Length field, the sequence numbers and the offset pad lie
    /// inside the buffer. After this no getter panics.
    ///
    /// # Errors
    /// [`WireError::Truncated`], [`WireError::Version`], [`WireError::ControlFlags`].
    pub fn check_len(&self) -> Result<(), WireError> {
        let b = self.buffer.as_ref();
        if b.len() < 6 {
            return Err(WireError::Truncated);
        }
        let ver = b[1] & 0x0f;
        if ver != VERSION {
            return Err(WireError::Version(ver));
        }
        let flags = b[0];
        if flags & FLAG_T != 0
            && (flags & FLAG_L == 0 || flags & FLAG_S == 0 || flags & (FLAG_O | FLAG_P) != 0)
        {
            return Err(WireError::ControlFlags);
        }
        let fixed = self.fixed_len();
        if b.len() < fixed {
            return Err(WireError::Truncated);
        }
        let total = if flags & FLAG_L != 0 {
            let len = usize::from(be16(b, 2));
            if len > b.len() || len < fixed {
                return Err(WireError::Truncated);
            }
            len
        } else {
            b.len()
        };
        if flags & FLAG_O != 0 {
            let pad = usize::from(be16(b, fixed - 2));
            if fixed + pad > total {
                return Err(WireError::Truncated);
            }
        }
        Ok(())
    }

    /// Consumes the view, returning the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn flags(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    fn fixed_len(&self) -> usize {
        let f = self.flags();
        6 + if f & FLAG_L != 0 { 2 } else { 0 }
            + if f & FLAG_S != 0 { 4 } else { 0 }
            + if f & FLAG_O != 0 { 2 } else { 0 }
    }

    fn ids_at(&self) -> usize {
        if self.flags() & FLAG_L != 0 { 4 } else { 2 }
    }

    /// T bit: a control message (RFC 2661 §3.1).
    pub fn is_control(&self) -> bool {
        self.flags() & FLAG_T != 0
    }

    /// L bit: the Length field is present.
    pub fn has_length(&self) -> bool {
        self.flags() & FLAG_L != 0
    }

    /// S bit: Ns and Nr are present.
    pub fn has_sequence(&self) -> bool {
        self.flags() & FLAG_S != 0
    }

    /// O bit: the Offset Size field is present.
    pub fn has_offset(&self) -> bool {
        self.flags() & FLAG_O != 0
    }

    /// P bit: the sender asks for preferential treatment of this data message.
    pub fn priority(&self) -> bool {
        self.flags() & FLAG_P != 0
    }

    /// The Ver field.
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[1] & 0x0f
    }

    /// The Length field, when the L bit is set.
    pub fn length(&self) -> Option<u16> {
        self.has_length().then(|| be16(self.buffer.as_ref(), 2))
    }

    /// Tunnel ID: the recipient's identifier for the control connection.
    pub fn tunnel_id(&self) -> u16 {
        be16(self.buffer.as_ref(), self.ids_at())
    }

    /// Session ID: the recipient's identifier for the session, 0 for the tunnel.
    pub fn session_id(&self) -> u16 {
        be16(self.buffer.as_ref(), self.ids_at() + 2)
    }

    /// Ns, when the S bit is set.
    pub fn ns(&self) -> Option<u16> {
        self.has_sequence()
            .then(|| be16(self.buffer.as_ref(), self.ids_at() + 4))
    }

    /// Nr, when the S bit is set (reserved in data messages, RFC 2661 §3.1).
    pub fn nr(&self) -> Option<u16> {
        self.has_sequence()
            .then(|| be16(self.buffer.as_ref(), self.ids_at() + 6))
    }

    /// The Offset Size field, when the O bit is set.
    pub fn offset_size(&self) -> Option<u16> {
        self.has_offset()
            .then(|| be16(self.buffer.as_ref(), self.fixed_len() - 2))
    }

    /// Header length including the offset pad: where the payload starts.
    pub fn header_len(&self) -> usize {
        self.fixed_len() + usize::from(self.offset_size().unwrap_or(0))
    }

    /// The message length: the Length field when present, else the buffer.
    pub fn total_len(&self) -> usize {
        self.length()
            .map_or(self.buffer.as_ref().len(), usize::from)
    }

    /// Where the payload (AVPs or the PPP frame) lies in the buffer.
    pub fn payload_range(&self) -> Range<usize> {
        self.header_len()..self.total_len()
    }

    /// The payload: AVPs of a control message, the PPP frame of a data message.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.payload_range()]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the Length field (the L bit must be set).
    pub fn set_length(&mut self, v: u16) {
        self.buffer.as_mut()[2..4].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets Nr (the S bit must be set).
    pub fn set_nr(&mut self, v: u16) {
        let at = self.ids_at() + 6;
        self.buffer.as_mut()[at..at + 2].copy_from_slice(&v.to_be_bytes());
    }

    /// The payload, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let r = self.payload_range();
        &mut self.buffer.as_mut()[r]
    }
}

/// The header as plain data (RFC 2661 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HeaderRepr {
    /// T bit.
    pub control: bool,
    /// L bit: emit the Length field.
    pub with_length: bool,
    /// Tunnel ID.
    pub tunnel_id: u16,
    /// Session ID.
    pub session_id: u16,
    /// Ns and Nr (S bit).
    pub sequence: Option<(u16, u16)>,
    /// Offset Size (O bit); the pad is emitted as zeros.
    pub offset_size: Option<u16>,
    /// P bit.
    pub priority: bool,
}

impl HeaderRepr {
    /// The fixed 12-byte header of a control message (T, L and S set).
    pub const fn control(tunnel_id: u16, session_id: u16, ns: u16, nr: u16) -> Self {
        Self {
            control: true,
            with_length: true,
            tunnel_id,
            session_id,
            sequence: Some((ns, nr)),
            offset_size: None,
            priority: false,
        }
    }

    /// Reads the header of a checked packet.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Self {
        Self {
            control: p.is_control(),
            with_length: p.has_length(),
            tunnel_id: p.tunnel_id(),
            session_id: p.session_id(),
            sequence: p.ns().zip(p.nr()),
            offset_size: p.offset_size(),
            priority: p.priority(),
        }
    }

    /// Length of the emitted header including the offset pad.
    pub const fn header_len(&self) -> usize {
        let mut n = 6;
        if self.with_length {
            n += 2;
        }
        if self.sequence.is_some() {
            n += 4;
        }
        if let Some(o) = self.offset_size {
            n += 2 + o as usize;
        }
        n
    }

    /// Writes the header into `buf[..header_len()]`; the Length field (if
    /// any) says `total_len`. `buf` must hold `header_len()` bytes.
    pub fn emit(&self, buf: &mut [u8], total_len: u16) {
        let mut f = 0u8;
        if self.control {
            f |= FLAG_T;
        }
        if self.with_length {
            f |= FLAG_L;
        }
        if self.sequence.is_some() {
            f |= FLAG_S;
        }
        if self.offset_size.is_some() {
            f |= FLAG_O;
        }
        if self.priority {
            f |= FLAG_P;
        }
        buf[0] = f;
        buf[1] = VERSION;
        let mut at = 2;
        if self.with_length {
            buf[at..at + 2].copy_from_slice(&total_len.to_be_bytes());
            at += 2;
        }
        buf[at..at + 2].copy_from_slice(&self.tunnel_id.to_be_bytes());
        buf[at + 2..at + 4].copy_from_slice(&self.session_id.to_be_bytes());
        at += 4;
        if let Some((ns, nr)) = self.sequence {
            buf[at..at + 2].copy_from_slice(&ns.to_be_bytes());
            buf[at + 2..at + 4].copy_from_slice(&nr.to_be_bytes());
            at += 4;
        }
        if let Some(o) = self.offset_size {
            buf[at..at + 2].copy_from_slice(&o.to_be_bytes());
            at += 2;
            buf[at..at + usize::from(o)].fill(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    /// The one data message of `l2tpv2-data-lcp-echo-request.pcap` (packetnet,
    /// MPL-2.0; see testdata/SOURCES.md): flags 0x0302 = O and P set, tunnel
    /// 18994, session 54110, offset size 0, then PPP LCP Echo-Request.
    const PACKETNET: [u8; 24] = hex!("0302 4a32 d35e 0000 ff03 c021 0948 000c c1343922 e7e18ff6");

    #[test]
    fn data_with_offset_and_priority() {
        let p = Packet::new_checked(&PACKETNET[..]).unwrap();
        assert!(!p.is_control());
        assert!(p.has_offset() && p.priority());
        assert_eq!(p.length(), None);
        assert_eq!((p.tunnel_id(), p.session_id()), (18994, 54110));
        assert_eq!(p.offset_size(), Some(0));
        assert_eq!(p.header_len(), 8);
        assert_eq!(p.payload(), &hex!("ff03 c021 0948 000c c1343922 e7e18ff6"));
        let r = HeaderRepr::parse(&p);
        let mut out = [0u8; 8];
        r.emit(&mut out, 0);
        assert_eq!(out, PACKETNET[..8]);
    }

    #[test]
    fn control_header_fixed_layout() {
        // RFC 2661 §3.1 with T, L, S: the ZLB acknowledgement of frame 18 of
        // session a of the project's l2tp-ipsec captures.
        let zlb = hex!("c802000c0fef000000010002");
        let p = Packet::new_checked(&zlb[..]).unwrap();
        assert!(p.is_control());
        assert_eq!(p.length(), Some(12));
        assert_eq!((p.tunnel_id(), p.session_id()), (4079, 0));
        assert_eq!((p.ns(), p.nr()), (Some(1), Some(2)));
        assert!(p.payload().is_empty());
        let mut out = [0u8; 12];
        HeaderRepr::control(4079, 0, 1, 2).emit(&mut out, 12);
        assert_eq!(out, zlb);
    }

    #[test]
    fn refusals() {
        assert_eq!(
            Packet::new_checked(&[0u8; 5][..]).unwrap_err(),
            WireError::Truncated
        );
        assert_eq!(
            Packet::new_checked(&hex!("c803000c0000000000000000")[..]).unwrap_err(),
            WireError::Version(3)
        );
        // Control message without the S bit.
        assert_eq!(
            Packet::new_checked(&hex!("c002000800000000")[..]).unwrap_err(),
            WireError::ControlFlags
        );
        // Length beyond the buffer, and below the header.
        assert_eq!(
            Packet::new_checked(&hex!("c802000d0fef000000010002")[..]).unwrap_err(),
            WireError::Truncated
        );
        assert_eq!(
            Packet::new_checked(&hex!("c802000b0fef000000010002")[..]).unwrap_err(),
            WireError::Truncated
        );
        // Offset pad beyond the message.
        assert_eq!(
            Packet::new_checked(&hex!("0202 0001 0002 0005 0000")[..]).unwrap_err(),
            WireError::Truncated
        );
    }
}
