//! Wire formats: the ESP header and trailer (RFC 4303 §2) and the
//! classification of UDP-encapsulated traffic on port 4500 (RFC 3948 §2).
//!
//! Untrusted bytes enter only through [`esp::Packet::new_checked`] and
//! [`udp_encap::classify`]; after those succeed no accessor panics.

pub mod esp;
pub mod udp_encap;

use core::fmt;

/// A packet that cannot be what it claims to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum WireError {
    /// Shorter than the fixed part of its header.
    Truncated,
    /// An SPI of 0 to 255: 0 must never be sent and 1 to 255 are reserved by
    /// IANA (RFC 4303 §2.1).
    ReservedSpi,
    /// The padding of a decrypted payload is not 1, 2, 3, ... or claims more
    /// bytes than there are (RFC 4303 §2.4).
    BadPadding,
    /// A UDP payload on port 4500 that is neither a NAT-keepalive, nor IKE
    /// behind a non-ESP marker, nor long enough to be ESP (RFC 3948 §2).
    NotEncapsulated,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Truncated => "packet shorter than its header",
            Self::ReservedSpi => "reserved SPI (0..=255)",
            Self::BadPadding => "ESP padding is not 1, 2, 3, ...",
            Self::NotEncapsulated => "UDP payload is neither NAT-keepalive, IKE nor ESP",
        })
    }
}

impl core::error::Error for WireError {}
