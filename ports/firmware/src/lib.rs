#![doc = include_str!("../README.md")]
#![cfg_attr(not(test), no_std)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[cfg(all(feature = "qemu-mps2-an386", feature = "nucleo-h743zi"))]
compile_error!("the board features `qemu-mps2-an386` and `nucleo-h743zi` are mutually exclusive");

#[macro_use]
mod fmt;

pub mod app;
pub mod board;
