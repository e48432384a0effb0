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

pub mod config;
pub mod console;
pub mod debug;
pub mod dialer;
pub mod gateway;
pub mod policy;
pub mod pool;
pub mod secret;
pub mod session;
pub mod show;

pub use config::{Config, ConfigError, SecretDisplay};
pub use debug::{DebugClass, DebugSettings, DebugSink};
pub use policy::Refusal;
pub use pool::{AddressPool, PoolError};
pub use session::{Session, SessionHandle, SessionTable};
