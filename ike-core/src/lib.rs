#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![doc = include_str!("../README.md")]

#[cfg(test)]
extern crate std;

#[macro_use]
mod fmt;

pub mod crypto;
pub mod wire;
