//! Writing into caller buffers without panicking.

use super::{BufferTooSmall, GENERIC_HEADER_LEN, HEADER_LEN, HeaderRepr, PayloadType};

/// A cursor over a caller buffer.
///
/// Writes past the end are not performed but still counted, so that
/// [`Writer::finish`] can say how large the buffer needed to be. Once a write
/// has overflowed, the bytes in the buffer are meaningless.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
    overflow: bool,
}

impl<'a> Writer<'a> {
    /// Starts writing at offset 0 of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            overflow: false,
        }
    }

    /// How many bytes have been written (or would have been).
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Whether a write did not fit.
    pub fn overflowed(&self) -> bool {
        self.overflow
    }

    /// Appends bytes.
    pub fn put(&mut self, bytes: &[u8]) {
        let end = self.pos.saturating_add(bytes.len());
        match self.buf.get_mut(self.pos..end) {
            Some(dst) if !self.overflow => dst.copy_from_slice(bytes),
            _ => self.overflow = true,
        }
        self.pos = end;
    }

    /// Appends one byte.
    pub fn put_u8(&mut self, v: u8) {
        self.put(&[v]);
    }

    /// Appends a big-endian `u16`.
    pub fn put_u16(&mut self, v: u16) {
        self.put(&v.to_be_bytes());
    }

    /// Appends a big-endian `u32`.
    pub fn put_u32(&mut self, v: u32) {
        self.put(&v.to_be_bytes());
    }

    /// Appends `n` zero bytes.
    pub fn put_zeros(&mut self, n: usize) {
        let end = self.pos.saturating_add(n);
        match self.buf.get_mut(self.pos..end) {
            Some(dst) if !self.overflow => dst.fill(0),
            _ => self.overflow = true,
        }
        self.pos = end;
    }

    /// Overwrites a big-endian `u16` at an earlier offset.
    pub fn patch_u16(&mut self, at: usize, v: u16) {
        self.patch(at, &v.to_be_bytes());
    }

    /// Overwrites a big-endian `u32` at an earlier offset.
    pub fn patch_u32(&mut self, at: usize, v: u32) {
        self.patch(at, &v.to_be_bytes());
    }

    /// Overwrites bytes at an earlier offset.
    pub fn patch(&mut self, at: usize, bytes: &[u8]) {
        if self.overflow {
            return;
        }
        match self.buf.get_mut(at..at.saturating_add(bytes.len())) {
            Some(dst) => dst.copy_from_slice(bytes),
            None => self.overflow = true,
        }
    }

    /// The bytes written so far (empty after an overflow).
    pub fn written(&self) -> &[u8] {
        if self.overflow {
            &[]
        } else {
            &self.buf[..self.pos]
        }
    }

    /// The bytes written so far, mutable (empty after an overflow).
    pub fn written_mut(&mut self) -> &mut [u8] {
        if self.overflow {
            &mut []
        } else {
            &mut self.buf[..self.pos]
        }
    }

    /// Ends writing.
    ///
    /// # Errors
    /// [`BufferTooSmall`] with the number of bytes the writes needed.
    pub fn finish(self) -> Result<usize, BufferTooSmall> {
        if self.overflow {
            Err(BufferTooSmall { needed: self.pos })
        } else {
            Ok(self.pos)
        }
    }
}

/// Where a payload started, returned by [`MessageWriter::begin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadMark {
    start: usize,
}

impl PayloadMark {
    /// Offset of the payload's generic header in the message.
    pub fn start(self) -> usize {
        self.start
    }

    /// Offset of the payload's body in the message.
    pub fn body(self) -> usize {
        self.start + GENERIC_HEADER_LEN
    }
}

/// Writes an ISAKMP message: the header, then a chain of payloads
/// (RFC 2408 §3.1, §3.2).
///
/// Each [`begin`](Self::begin) stores the payload type into the previous
/// Next Payload field (the header's for the first payload) and each
/// [`end`](Self::end) patches the payload length; [`finish`](Self::finish)
/// patches the message length.
#[derive(Debug)]
pub struct MessageWriter<'a> {
    w: Writer<'a>,
    next_payload_at: usize,
}

impl<'a> MessageWriter<'a> {
    /// Writes `header` (its `next_payload` and `length` are filled in later).
    pub fn new(buf: &'a mut [u8], header: &HeaderRepr) -> Self {
        let mut w = Writer::new(buf);
        header.emit(&mut w);
        Self {
            w,
            next_payload_at: 16,
        }
    }

    /// Starts a payload of type `kind` and returns where it begins.
    pub fn begin(&mut self, kind: PayloadType) -> PayloadMark {
        let start = self.w.position();
        self.w.patch(self.next_payload_at, &[u8::from(kind)]);
        self.next_payload_at = start;
        self.w.put_u8(0);
        self.w.put_u8(0);
        self.w.put_u16(0);
        PayloadMark { start }
    }

    /// Ends the payload begun at `mark`: patches its length.
    pub fn end(&mut self, mark: PayloadMark) {
        let len = self.w.position().saturating_sub(mark.start);
        self.w
            .patch_u16(mark.start + 2, u16::try_from(len).unwrap_or(u16::MAX));
    }

    /// A payload whose body is `body`.
    pub fn payload(&mut self, kind: PayloadType, body: &[u8]) -> PayloadMark {
        let mark = self.begin(kind);
        self.w.put(body);
        self.end(mark);
        mark
    }

    /// The body writer, for the payload currently begun.
    pub fn body(&mut self) -> &mut Writer<'a> {
        &mut self.w
    }

    /// Current length of the message.
    pub fn position(&self) -> usize {
        self.w.position()
    }

    /// The message so far (empty after an overflow).
    pub fn written_mut(&mut self) -> &mut [u8] {
        self.w.written_mut()
    }

    /// Ends the message: patches the header length and returns the message
    /// length.
    ///
    /// # Errors
    /// [`BufferTooSmall`] with the number of bytes the message needed.
    pub fn finish(mut self) -> Result<usize, BufferTooSmall> {
        let len = self.w.position();
        let len32 = u32::try_from(len).unwrap_or(u32::MAX);
        if len >= HEADER_LEN {
            self.w.patch_u32(24, len32);
        }
        self.w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{ExchangeType, Flags, Header, PayloadIter};

    fn header() -> HeaderRepr {
        HeaderRepr {
            initiator_cookie: [1; 8],
            responder_cookie: [2; 8],
            next_payload: PayloadType::None,
            major_version: 1,
            minor_version: 0,
            exchange_type: ExchangeType::IdentityProtection,
            flags: Flags::empty(),
            message_id: 0,
            length: 0,
        }
    }

    #[test]
    fn chain_is_linked_and_lengths_patched() {
        let mut buf = [0u8; 128];
        let mut m = MessageWriter::new(&mut buf, &header());
        m.payload(PayloadType::Nonce, &[9; 16]);
        m.payload(PayloadType::VendorId, &[7; 4]);
        let len = m.finish().unwrap();
        assert_eq!(len, 28 + 20 + 8);
        let h = Header::new_checked(&buf[..len]).unwrap();
        assert_eq!(h.next_payload(), u8::from(PayloadType::Nonce));
        let items: heapless::Vec<_, 4> = PayloadIter::new(h.next_payload().into(), h.payload())
            .map(|p| p.unwrap())
            .collect();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].kind, PayloadType::Nonce);
        assert_eq!(items[0].body, &[9; 16]);
        assert_eq!(items[1].kind, PayloadType::VendorId);
        assert_eq!(items[1].body, &[7; 4]);
    }

    #[test]
    fn too_small_says_how_much() {
        let mut buf = [0u8; 40];
        let mut m = MessageWriter::new(&mut buf, &header());
        m.payload(PayloadType::Nonce, &[9; 16]);
        m.payload(PayloadType::VendorId, &[7; 4]);
        assert_eq!(m.finish(), Err(BufferTooSmall { needed: 56 }));
        let mut tiny = [0u8; 3];
        let m = MessageWriter::new(&mut tiny, &header());
        assert_eq!(m.finish(), Err(BufferTooSmall { needed: 28 }));
    }
}
