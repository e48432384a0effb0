//! Linker scripts per board: cortex-m-rt's `link.x` for both; the memory map
//! and an (empty) `device.x` for the QEMU board, `defmt.x` for the Nucleo
//! (whose `memory.x` comes from embassy-stm32's `memory-x` feature).

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target = env::var("TARGET").unwrap_or_default();
    println!("cargo:rerun-if-changed=build.rs");
    if !target.starts_with("thumb") {
        return; // host unit tests
    }
    if env::var_os("CARGO_FEATURE_QEMU_MPS2_AN386").is_some() {
        // MPS2 AN386: ZBT SSRAM1 (4 MiB) at 0 holds code, SSRAM2/3 (4 MiB)
        // at 0x2000_0000 data (ARM AN386, "Memory map").
        fs::write(
            out.join("memory.x"),
            "MEMORY\n{\n  FLASH : ORIGIN = 0x00000000, LENGTH = 4M\n  RAM : ORIGIN = 0x20000000, LENGTH = 4M\n}\n",
        )
        .expect("write memory.x");
        // The vector table is defined in Rust (board::qemu_mps2_an386).
        fs::write(
            out.join("device.x"),
            "/* interrupt vectors: see src/board/qemu_mps2_an386/mod.rs */\n",
        )
        .expect("write device.x");
        println!("cargo:rustc-link-search={}", out.display());
        println!("cargo:rustc-link-arg-bins=-Tlink.x");
    }
    if env::var_os("CARGO_FEATURE_NUCLEO_H743ZI").is_some() {
        println!("cargo:rustc-link-arg-bins=-Tlink.x");
        println!("cargo:rustc-link-arg-bins=-Tdefmt.x");
    }
    println!("cargo:rustc-link-arg-bins=--nmagic");
}
