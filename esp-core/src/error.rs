//! Error values. Each says who is at fault: the peer (a packet that must be
//! dropped) or the caller (a misuse of the API).

use crate::wire::WireError;
use core::fmt;

/// Why an SA could not be created from the given keys and algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum KeyError {
    /// The encryption key does not have the algorithm's length.
    EncryptionKeyLength,
    /// The integrity key does not have the algorithm's length.
    IntegrityKeyLength,
    /// NULL encryption without integrity protects nothing and is forbidden
    /// (RFC 4303 §3.2).
    NullWithoutIntegrity,
    /// A replay window larger than this SA type can hold.
    ReplayWindowTooLarge,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EncryptionKeyLength => "encryption key has the wrong length",
            Self::IntegrityKeyLength => "integrity key has the wrong length",
            Self::NullWithoutIntegrity => "NULL encryption requires an integrity algorithm",
            Self::ReplayWindowTooLarge => "replay window larger than the SA can hold",
        })
    }
}

impl core::error::Error for KeyError {}

/// Why an inbound packet was dropped. Each variant has a counter in
/// [`Counters`](crate::Counters) and none disturbs the SA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum OpenError {
    /// The peer sent a malformed packet: shorter than header, IV, one block
    /// and ICV, a ciphertext that is not a whole number of blocks, or a
    /// reserved SPI.
    Malformed(WireError),
    /// No SA with this SPI (table lookup only).
    UnknownSpi(u32),
    /// The sequence number was seen before or is left of the window
    /// (RFC 4303 §3.4.3).
    Replay,
    /// The ICV does not match (RFC 4303 §3.4.4): forged, corrupted, or keyed
    /// differently.
    IntegrityCheckFailed,
    /// The ICV matched but the padding did not (RFC 4303 §2.4).
    BadPadding,
    /// The packet would take the SA past its hard lifetime.
    Expired,
    /// The SA is outbound; inbound packets cannot be opened with it
    /// (a caller error).
    WrongDirection,
}

impl From<WireError> for OpenError {
    fn from(e: WireError) -> Self {
        Self::Malformed(e)
    }
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(e) => write!(f, "malformed ESP packet: {e}"),
            Self::UnknownSpi(spi) => write!(f, "no SA for SPI {spi:#010x}"),
            Self::Replay => f.write_str("replayed or too old sequence number"),
            Self::IntegrityCheckFailed => f.write_str("ICV mismatch"),
            Self::BadPadding => f.write_str("bad ESP padding"),
            Self::Expired => f.write_str("SA past its hard lifetime"),
            Self::WrongDirection => f.write_str("open called on an outbound SA"),
        }
    }
}

impl core::error::Error for OpenError {}

/// Why a payload could not be sealed. All are caller-side conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SealError {
    /// Not enough headroom in front of or tailroom behind the payload. The
    /// buffer would need to be `needed` bytes long with the payload placed
    /// `headroom` bytes from its start.
    BufferTooSmall {
        /// Bytes of headroom the SA writes in front of the payload.
        headroom: usize,
        /// Total buffer length needed for this payload at that offset.
        needed: usize,
    },
    /// The payload range lies outside the buffer.
    BadRange,
    /// The SA reached its hard lifetime (time, bytes, or the last sequence
    /// number); a new SA is needed.
    Expired,
    /// The SA is inbound; it cannot seal (a caller error).
    WrongDirection,
    /// The handle names no SA (it was removed or expired).
    StaleHandle,
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall { headroom, needed } => write!(
                f,
                "buffer too small: {needed} bytes needed with {headroom} bytes of headroom"
            ),
            Self::BadRange => f.write_str("payload range outside the buffer"),
            Self::Expired => f.write_str("SA past its hard lifetime"),
            Self::WrongDirection => f.write_str("seal called on an inbound SA"),
            Self::StaleHandle => f.write_str("stale SA handle"),
        }
    }
}

impl core::error::Error for SealError {}

/// Errors of the SA table's commands (caller-side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum TableError {
    /// Every slot is in use.
    TableFull,
    /// The handle names a slot that has since been freed or reused.
    StaleHandle,
    /// The handle names a reserved SPI where an SA was expected, or an SA
    /// where a reservation was expected.
    WrongState,
    /// The keys or algorithms were refused.
    Key(KeyError),
}

impl From<KeyError> for TableError {
    fn from(e: KeyError) -> Self {
        Self::Key(e)
    }
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TableFull => f.write_str("SA table full"),
            Self::StaleHandle => f.write_str("stale SA handle"),
            Self::WrongState => f.write_str("SA slot in the wrong state for this command"),
            Self::Key(e) => write!(f, "SA refused: {e}"),
        }
    }
}

impl core::error::Error for TableError {}
