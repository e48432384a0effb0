//! IKE fragmentation (the Cisco/Microsoft extension: vendor ID
//! "FRAGMENTATION", payload type 132), and the pool of large message
//! buffers that certificate messages need.
//!
//! A fragment is an unencrypted ISAKMP message with the cookies, exchange
//! type and message ID of the message it carries a piece of, whose only
//! payload is:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |   RESERVED    |         Payload Length        |
//! +---------------+---------------+---------------+---------------+
//! |          Fragment ID          |  Fragment #   |     Flags     |
//! +---------------+---------------+---------------+---------------+
//! |     the next piece of the whole message, header included      ~
//! ```
//!
//! Fragment numbers start at 1; flag `0x01` marks the last one.
//! Reassembly is bounded: a few slots of [`MAX_LARGE_MESSAGE`] bytes for
//! the whole endpoint, at most [`MAX_FRAGMENTS`] pieces each, dropped
//! after [`crate::config::Timers::fragment_timeout`]; a full pool evicts
//! its oldest reassembly. Only fragments for an SA in the table are
//! accepted.

use crate::buf::Buf;
use crate::wire::{HEADER_LEN, PayloadType, be16};
use core::time::Duration;

/// Largest message this crate builds or reassembles: a Main Mode message
/// 5 or 6 with a chain of [`crate::cert::MAX_CHAIN_LEN`] bytes, an RSA-4096
/// signature, the identity and a Notify.
#[cfg(not(feature = "capacity-psk"))]
pub const MAX_LARGE_MESSAGE: usize = 5632;
/// Large messages being sent at once (their exchanges keep them for
/// retransmission).
#[cfg(not(feature = "capacity-psk"))]
pub(crate) const LARGE_MESSAGES: usize = 2;
/// Messages being reassembled at once.
#[cfg(not(feature = "capacity-psk"))]
pub(crate) const REASSEMBLY_SLOTS: usize = 2;
/// Largest message this crate builds or reassembles (feature
/// `capacity-psk`: pre-shared-key gateways, whose messages fit
/// [`crate::MAX_MESSAGE_LEN`]; certificate messages do not fit and are
/// refused).
#[cfg(feature = "capacity-psk")]
pub const MAX_LARGE_MESSAGE: usize = 2048;
/// Large messages being sent at once (feature `capacity-psk`).
#[cfg(feature = "capacity-psk")]
pub(crate) const LARGE_MESSAGES: usize = 1;
/// Messages being reassembled at once (feature `capacity-psk`).
#[cfg(feature = "capacity-psk")]
pub(crate) const REASSEMBLY_SLOTS: usize = 1;
/// Most fragments of one message.
pub const MAX_FRAGMENTS: usize = 16;
/// Length of the fragment payload header.
pub(crate) const FRAGMENT_HEADER_LEN: usize = 8;
/// The LAST_FRAGMENT flag.
pub(crate) const LAST_FRAGMENT: u8 = 0x01;

/// A large message of an exchange.
#[derive(Debug)]
pub(crate) struct LargeSlot {
    pub(crate) used: bool,
    pub(crate) buf: Buf<MAX_LARGE_MESSAGE>,
}

impl LargeSlot {
    pub(crate) const EMPTY: Self = Self {
        used: false,
        buf: Buf::new(),
    };
}

/// One fragment as received.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FragmentRepr<'a> {
    pub(crate) id: u16,
    pub(crate) number: u8,
    pub(crate) last: bool,
    pub(crate) data: &'a [u8],
}

impl<'a> FragmentRepr<'a> {
    /// Reads the fragment payload of a message whose header says its first
    /// payload is a fragment. Bytes after the payload are ignored.
    pub(crate) fn parse(msg: &'a [u8]) -> Option<Self> {
        let body = msg.get(HEADER_LEN..)?;
        if body.len() < FRAGMENT_HEADER_LEN {
            return None;
        }
        let len = usize::from(be16(body, 2));
        if len <= FRAGMENT_HEADER_LEN || len > body.len() || body[0] != 0 {
            return None;
        }
        let number = body[6];
        if number == 0 || usize::from(number) > MAX_FRAGMENTS {
            return None;
        }
        Some(Self {
            id: be16(body, 4),
            number,
            last: body[7] & LAST_FRAGMENT != 0,
            data: &body[FRAGMENT_HEADER_LEN..len],
        })
    }
}

/// Writes fragment `number` (1-based) of `message` into `out`: pieces of
/// `chunk` bytes. Returns the datagram length, or `None` if `out` is too
/// small or there is no such fragment.
pub(crate) fn write_fragment(
    message: &[u8],
    chunk: usize,
    id: u16,
    number: u8,
    out: &mut [u8],
) -> Option<usize> {
    let start = usize::from(number).checked_sub(1)?.checked_mul(chunk)?;
    let end = (start + chunk).min(message.len());
    let piece = message.get(start..end).filter(|p| !p.is_empty())?;
    let last = end == message.len();
    let total = HEADER_LEN + FRAGMENT_HEADER_LEN + piece.len();
    let out = out.get_mut(..total)?;
    let hdr = message.get(..HEADER_LEN)?;
    out[..HEADER_LEN].copy_from_slice(hdr);
    out[16] = PayloadType::Fragment.into();
    out[19] = 0; // flags: the fragment itself is not encrypted
    out[24..28].copy_from_slice(&u32::try_from(total).ok()?.to_be_bytes());
    let f = &mut out[HEADER_LEN..];
    f[0] = 0;
    f[1] = 0;
    f[2..4].copy_from_slice(
        &u16::try_from(FRAGMENT_HEADER_LEN + piece.len())
            .ok()?
            .to_be_bytes(),
    );
    f[4..6].copy_from_slice(&id.to_be_bytes());
    f[6] = number;
    f[7] = if last { LAST_FRAGMENT } else { 0 };
    f[FRAGMENT_HEADER_LEN..].copy_from_slice(piece);
    Some(total)
}

/// How many fragments `len` bytes take in pieces of `chunk`.
pub(crate) fn fragment_count(len: usize, chunk: usize) -> usize {
    if chunk == 0 { 0 } else { len.div_ceil(chunk) }
}

/// A message being reassembled.
#[derive(Debug)]
pub(crate) struct Reassembly {
    /// (SA slot, SA generation, fragment ID), `None` when free.
    pub(crate) key: Option<(u16, u16, u16)>,
    pub(crate) started: Duration,
    /// Offset and length in `buf` of each fragment by number - 1.
    parts: [(u16, u16); MAX_FRAGMENTS],
    present: u32,
    last: u8,
    buf: Buf<MAX_LARGE_MESSAGE>,
}

/// What adding a fragment did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Added {
    /// More are missing.
    Incomplete,
    /// Complete: the message has this length (in the caller's buffer).
    Complete(usize),
    /// Refused (duplicate, too large, inconsistent): the reassembly is
    /// abandoned.
    Refused,
}

impl Reassembly {
    pub(crate) const EMPTY: Self = Self {
        key: None,
        started: Duration::ZERO,
        parts: [(0, 0); MAX_FRAGMENTS],
        present: 0,
        last: 0,
        buf: Buf::new(),
    };

    pub(crate) fn start(&mut self, key: (u16, u16, u16), now: Duration) {
        self.key = Some(key);
        self.started = now;
        self.parts = [(0, 0); MAX_FRAGMENTS];
        self.present = 0;
        self.last = 0;
        self.buf.set_len(0);
    }

    pub(crate) fn clear(&mut self) {
        self.key = None;
        self.present = 0;
        self.buf.set_len(0);
    }

    /// Adds a fragment; when the message is complete, writes it in order
    /// into `out` and frees the slot.
    pub(crate) fn add(&mut self, f: &FragmentRepr<'_>, out: &mut [u8]) -> Added {
        let k = usize::from(f.number) - 1;
        let bit = 1u32 << k;
        if self.present & bit != 0 {
            // A repeated fragment (a retransmission of the whole message):
            // keep what we have.
            return Added::Incomplete;
        }
        if f.last {
            if self.last != 0 || self.present >> f.number != 0 {
                self.clear();
                return Added::Refused;
            }
            self.last = f.number;
        } else if self.last != 0 && f.number > self.last {
            self.clear();
            return Added::Refused;
        }
        let used = self.buf.as_slice().len();
        let end = used + f.data.len();
        let storage = self.buf.storage_mut();
        let Some(dst) = storage.get_mut(used..end) else {
            self.clear();
            return Added::Refused;
        };
        dst.copy_from_slice(f.data);
        self.buf.set_len(end);
        self.parts[k] = (
            u16::try_from(used).unwrap_or(u16::MAX),
            u16::try_from(f.data.len()).unwrap_or(0),
        );
        self.present |= bit;
        let all = if self.last == 0 {
            0
        } else {
            (1u32 << self.last) - 1
        };
        if self.last == 0 || self.present != all {
            return Added::Incomplete;
        }
        let mut at = 0;
        let data = self.buf.as_slice();
        for &(o, l) in &self.parts[..usize::from(self.last)] {
            let (o, l) = (usize::from(o), usize::from(l));
            let Some(dst) = out.get_mut(at..at + l) else {
                self.clear();
                return Added::Refused;
            };
            dst.copy_from_slice(&data[o..o + l]);
            at += l;
        }
        self.clear();
        Added::Complete(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_reassemble_in_any_order_with_duplicates() {
        // Three fragments of 1000 octets at most, within the capacity of
        // either build (`capacity-psk` reassembles up to 2048).
        const LEN: usize = if MAX_LARGE_MESSAGE < 3000 {
            MAX_LARGE_MESSAGE
        } else {
            3000
        };
        let mut msg = [0u8; LEN];
        for (i, b) in msg.iter_mut().enumerate() {
            *b = u8::try_from(i % 251).unwrap();
        }
        msg[16] = 5; // first payload of the original: ID
        msg[18] = 2;
        msg[19] = 1; // encrypted
        let chunk = 1000;
        assert_eq!(fragment_count(msg.len(), chunk), 3);
        let mut frags = std::vec::Vec::new();
        for n in 1..=3u8 {
            let mut out = [0u8; 1100];
            let len = write_fragment(&msg, chunk, 77, n, &mut out).unwrap();
            assert_eq!(out[16], 132);
            assert_eq!(out[19], 0);
            frags.push(out[..len].to_vec());
        }
        assert!(write_fragment(&msg, chunk, 77, 4, &mut [0u8; 1100]).is_none());
        let mut r = Reassembly::EMPTY;
        r.start((0, 0, 77), Duration::ZERO);
        let mut out = [0u8; MAX_LARGE_MESSAGE];
        for n in [2usize, 0, 2, 0] {
            let f = FragmentRepr::parse(&frags[n]).unwrap();
            assert_eq!(r.add(&f, &mut out), Added::Incomplete);
        }
        let f = FragmentRepr::parse(&frags[1]).unwrap();
        assert_eq!(f.id, 77);
        assert_eq!(r.add(&f, &mut out), Added::Complete(LEN));
        assert_eq!(&out[..LEN], &msg[..]);
        assert!(r.key.is_none());
    }

    #[test]
    fn refusals() {
        let mut r = Reassembly::EMPTY;
        r.start((0, 0, 1), Duration::ZERO);
        // Two thirds of the capacity each: the first fits, two do not.
        let big = [0u8; MAX_LARGE_MESSAGE * 2 / 3];
        let mut out = [0u8; MAX_LARGE_MESSAGE];
        let f = |number, last| FragmentRepr {
            id: 1,
            number,
            last,
            data: &big,
        };
        assert_eq!(r.add(&f(1, false), &mut out), Added::Incomplete);
        assert_eq!(r.add(&f(2, true), &mut out), Added::Refused, "too large");
        r.start((0, 0, 1), Duration::ZERO);
        let small = [1u8; 10];
        let g = |number, last| FragmentRepr {
            id: 1,
            number,
            last,
            data: &small,
        };
        assert_eq!(r.add(&g(3, false), &mut out), Added::Incomplete);
        assert_eq!(
            r.add(&g(2, true), &mut out),
            Added::Refused,
            "last below a later one"
        );
        // Malformed fragment payloads.
        let mut m = [0u8; 40];
        m[28..32].copy_from_slice(&[0, 0, 0, 12]);
        m[34] = 1;
        assert!(FragmentRepr::parse(&m).is_some());
        m[34] = 0;
        assert!(FragmentRepr::parse(&m).is_none(), "fragment 0");
        m[34] = 17;
        assert!(FragmentRepr::parse(&m).is_none(), "too many");
        m[34] = 1;
        m[31] = 8;
        assert!(FragmentRepr::parse(&m).is_none(), "no data");
        m[31] = 13;
        assert!(FragmentRepr::parse(&m).is_none(), "past the end");
    }
}
