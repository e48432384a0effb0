#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![doc = include_str!("../README.md")]

// Tests, and `arbitrary` (fuzzing only) with its derive, need std.
#[cfg(any(test, feature = "arbitrary"))]
extern crate std;

#[macro_use]
mod fmt;

mod auth;
mod buf;
pub mod cert;
pub mod config;
pub mod crypto;
mod endpoint;
mod event;
mod fragment;
mod informational;
mod main_mode;
mod message;
pub mod policy;
pub mod proposals;
mod quick_mode;
mod state;
pub mod wire;

pub use config::Config;
pub use endpoint::{Endpoint, Transmit};
pub use event::{
    ChildSa, Counters, DeleteReason, Encapsulation, Error, EspKeys, Event, FailReason,
    MAX_PEER_ID_LEN, NatTVariant, NegotiationMode, PeerId, Role, SaHandle, SaInfo, Selector,
    SpiRequest,
};
pub use fragment::{MAX_FRAGMENTS, MAX_LARGE_MESSAGE};
pub use quick_mode::L2TP_PORT;
pub use state::{EXCHANGE_SIZE, IKE_SA_SIZE, MAX_MESSAGE_LEN};
