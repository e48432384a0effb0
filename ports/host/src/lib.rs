//! The host port of the gateway: the I/O that the sans-IO libraries leave to
//! their caller, for Linux (UDP sockets with batched I/O, a TUN device, a raw
//! ESP socket, pcap output), and the `lns` binary built on it.
#![warn(missing_docs)]

pub mod pcap;
pub mod sys;
