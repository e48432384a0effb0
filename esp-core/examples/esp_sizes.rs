//! Prints the memory footprint of the esp-core types (see docs/PERFORMANCE.md).
use core::mem::size_of;

fn main() {
    println!(
        "Sa<2> (replay window 128):  {} bytes",
        size_of::<esp_core::Sa<2>>()
    );
    println!(
        "Sa<16> (replay window 1024): {} bytes",
        size_of::<esp_core::Sa<16>>()
    );
    println!(
        "SaTable<64>:                 {} bytes",
        size_of::<esp_core::SaTable<64>>()
    );
    println!(
        "SaTable<64> per slot:        {} bytes",
        size_of::<esp_core::SaTable<64>>() / 64
    );
}
