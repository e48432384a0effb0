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

mod client;
pub mod crypto;
pub mod wire;

pub use client::{
    AccessRequest, AccountingRequest, Client, Counters, Credentials, Error, Event, GroupConfig,
    MAX_SECRET_LEN, MAX_SERVERS, NasInfo, RequestId, ServerConfig, ServerId, Service, Transmit,
};
pub use wire::{AcctStatusType, AcctTerminateCause, AttributeType, Code, MsAttributeType, Packet};
