//! The firmware image for QEMU's `mps2-an386` machine (see
//! `lns_firmware::board::qemu_mps2_an386`). Test board: its RNG is not secure.

#![no_std]
#![no_main]

use embassy_executor::Spawner;
use lns_firmware::app;
use lns_firmware::board::qemu_mps2_an386 as board;

#[embassy_executor::main]
async fn main(_spawner: Spawner) {
    let Some(core) = cortex_m::Peripherals::take() else {
        panic!("core peripherals already taken");
    };
    let parts = match board::init(core) {
        Ok(parts) => parts,
        Err(error) => panic!("board init failed: {:?}", error),
    };
    app::run(
        parts.ethernet,
        parts.console,
        parts.rng,
        &board::BOARD,
        &board::NET,
    )
    .await
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    board::on_panic(info)
}
