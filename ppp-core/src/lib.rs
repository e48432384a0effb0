#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![doc = include_str!("../README.md")]

// Tests, and `arbitrary` (fuzzing only) whose derive needs std.
#[cfg(test)]
#[macro_use]
extern crate std;
#[cfg(all(not(test), feature = "arbitrary"))]
extern crate std;

#[macro_use]
mod fmt;

mod auth;
pub mod config;
mod cp;
pub mod crypto;
mod error;
mod event;
mod fsm;
mod ipcp;
mod lcp;
mod link;
mod time;
pub mod wire;

pub use auth::{Accept, AuthRequest, CREDENTIALS_CAPACITY, Credentials};
pub use config::{AuthMethods, Config, ConfigError, IpcpConfig, Password, Role};
pub use error::Error;
pub use event::{DownReason, Event, Ipv4Config};
pub use fsm::State;
pub use link::{Counters, Link, MAX_HEADROOM, Phase, Received, size_report};
pub use wire::lcp::AuthMethod;

/// Formats an IPv4 address for defmt (which has no impl for `core::net`).
#[cfg(feature = "defmt")]
pub(crate) struct Ip(pub core::net::Ipv4Addr);

#[cfg(feature = "defmt")]
impl defmt::Format for Ip {
    fn format(&self, f: defmt::Formatter<'_>) {
        let [a, b, c, d] = self.0.octets();
        defmt::write!(f, "{}.{}.{}.{}", a, b, c, d);
    }
}

/// Prints bytes as text when they are printable ASCII, as hex otherwise.
pub(crate) struct Bytes<'a>(pub &'a [u8]);

impl core::fmt::Debug for Bytes<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.0.iter().all(|c| (0x20..0x7f).contains(c)) {
            f.write_str("\"")?;
            for &c in self.0 {
                write!(f, "{}", char::from(c))?;
            }
            f.write_str("\"")
        } else {
            write!(f, "{:02x?}", self.0)
        }
    }
}
