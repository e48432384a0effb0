#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![doc = include_str!("../README.md")]

// `arbitrary` (fuzzing only) and its derive need std.
#[cfg(any(test, feature = "arbitrary"))]
extern crate std;

#[macro_use]
mod fmt;

pub mod algorithm;
mod error;
pub mod lifetime;
pub mod replay;
mod sa;
mod table;
pub mod wire;

pub use algorithm::{Encryption, Integrity};
pub use error::{KeyError, OpenError, SealError, TableError};
pub use lifetime::{ExpiryReason, Lifetime, Limits};
pub use sa::{
    Counters, DEFAULT_REPLAY_WINDOW, Direction, Encapsulation, Expiry, Opened, SEQUENCE_SOFT_LIMIT,
    Sa, SaConfig,
};
pub use table::{DEFAULT_RESERVATION_TIMEOUT, Event, Handle, SaTable, TableCounters};
pub use wire::esp::IpProtocol;

/// The most headroom any SA needs in front of a payload: ESP header (8) and
/// the largest IV (16). See `docs/ARCHITECTURE.md`, "The in-place buffer
/// convention".
pub const MAX_HEADROOM: usize = wire::esp::HEADER_LEN + algorithm::MAX_BLOCK_LEN;

/// The most tailroom any SA needs behind a payload: padding to the largest
/// block (15), pad length and next header (2), and the largest ICV (16).
pub const MAX_TAILROOM: usize =
    algorithm::MAX_BLOCK_LEN - 1 + wire::esp::TRAILER_LEN + algorithm::MAX_ICV_LEN;
