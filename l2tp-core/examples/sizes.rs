//! Prints the memory footprint of the l2tp-core types (see docs/PERFORMANCE.md).
use core::mem::size_of;

use l2tp_core::{Endpoint, session_size, tunnel_size};

fn main() {
    let t4 = tunnel_size::<u32>();
    let t8 = tunnel_size::<u64>();
    let s = session_size();
    println!("tunnel (peer handle u32):     {t4} bytes");
    println!("tunnel (peer handle u64):     {t8} bytes");
    println!("session:                      {s} bytes");
    println!(
        "tunnel + session (u32):       {} bytes (target <= 768)",
        t4 + s
    );
    println!(
        "tunnel + session (u64):       {} bytes (target <= 768)",
        t8 + s
    );
    println!(
        "Endpoint<u32, 16, 16>:        {} bytes",
        size_of::<Endpoint<u32, 16, 16>>()
    );
    println!(
        "Endpoint<u32, 256, 256>:      {} bytes",
        size_of::<Endpoint<u32, 256, 256>>()
    );
}
