//! Board support: everything that touches a particular piece of hardware.
//!
//! A board gives the application layer ([`crate::app::run`]) four things: an
//! [`embassy_net_driver::Driver`] for its Ethernet, a console that implements
//! `embedded_io_async::{Read, Write}`, a `rand_core::CryptoRng`, and the
//! [`BoardInfo`](crate::app::BoardInfo) and
//! [`NetConfig`](crate::app::NetConfig) compiled in for it. Nothing above this
//! module knows which board it runs on.

#[cfg(feature = "qemu-mps2-an386")]
pub mod qemu_mps2_an386;

#[cfg(feature = "nucleo-h743zi")]
pub mod nucleo_h743zi;
