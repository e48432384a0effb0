//! The L2TPv2 wire format (RFC 2661 §3 and §4), in the smoltcp shape: a
//! checked [`Packet`] view over the header, a lazy [`AvpIter`] over the
//! attribute-value pairs of a control message, and a [`Message`] `Repr` that
//! parses every AVP of RFC 2661 §4.4 and emits every message of §6.
//!
//! Untrusted bytes enter only through [`Packet::new_checked`] and
//! [`AvpIter::new`]; after those checks no getter panics, and `emit` into a
//! buffer of `buffer_len()` bytes never panics.

mod avp;
mod header;
mod hidden;
mod message;

pub use avp::{Avp, AvpIter, AvpType, MessageType, VENDOR_IETF};
pub use header::{HeaderRepr, Packet};
pub use hidden::{Hiding, challenge_response, unhide_in_place};
pub use message::{Accm, CallErrors, Message, Q931Cause, ResultCode};

/// Why bytes from the wire were refused. Every variant is a property of the
/// bytes alone; what the endpoint does about it is decided elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum WireError {
    /// Fewer bytes than the header, the Length field or an AVP says (RFC 2661 §3.1, §4.1).
    Truncated,
    /// The Ver field is not 2 (RFC 2661 §3.1: 1 is L2F, 3 is L2TPv3).
    Version(u8),
    /// A control message without the L or S bit, or with the O or P bit (RFC 2661 §3.1).
    ControlFlags,
    /// An AVP Length below 6, or a length that is wrong for the attribute (RFC 2661 §4.1, §4.4).
    AvpLength,
    /// The first AVP is not an unhidden Message Type (RFC 2661 §4.1).
    MessageTypeFirst,
    /// The same attribute appears twice in one message.
    DuplicateAvp,
    /// A hidden AVP whose value cannot be recovered: no shared secret, no
    /// preceding Random Vector, or an Original Length beyond the AVP (RFC 2661 §4.3).
    Hidden,
}

impl core::fmt::Display for WireError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Truncated => f.write_str("truncated L2TP message"),
            Self::Version(v) => write!(f, "L2TP header version {v}, expected 2"),
            Self::ControlFlags => f.write_str("control message with invalid L/S/O/P bits"),
            Self::AvpLength => f.write_str("AVP length invalid"),
            Self::MessageTypeFirst => f.write_str("first AVP is not a Message Type"),
            Self::DuplicateAvp => f.write_str("AVP repeated in one message"),
            Self::Hidden => f.write_str("hidden AVP cannot be recovered"),
        }
    }
}

impl core::error::Error for WireError {}

pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
