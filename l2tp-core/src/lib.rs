#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![doc = include_str!("../README.md")]

#[macro_use]
mod fmt;
mod config;
mod endpoint;
mod session;
mod tunnel;
pub mod wire;

pub use config::{Config, ConfigError, MAX_HOST_NAME_LEN, MAX_SECRET_LEN, Secret};
pub use endpoint::{
    BufferTooSmall, Counters, DATA_HEADROOM, Endpoint, Error, Event, HELD_MESSAGE_LEN,
    HELD_MESSAGES, MAX_CONTROL_LEN, MAX_RECEIVE_WINDOW, Origin, Reason, Received, SessionHandle,
    SessionInfo, Transmit, TunnelHandle, TunnelInfo,
};
pub use session::{SessionCounters, SessionState};
pub use tunnel::{Role, SEND_QUEUE, TunnelState};

/// Bytes one tunnel takes in an [`Endpoint`] with peer handle `P` (its
/// table slot included).
pub const fn tunnel_size<P>() -> usize {
    endpoint::tunnel_slot_size::<P>()
}

/// Bytes one session takes in an [`Endpoint`] (its table slot included).
pub const fn session_size() -> usize {
    endpoint::session_slot_size()
}
