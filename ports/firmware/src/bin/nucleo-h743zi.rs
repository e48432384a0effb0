//! The firmware image for the ST Nucleo-H743ZI (see
//! `lns_firmware::board::nucleo_h743zi`). Logs go to defmt over RTT.
//! **Built, not yet run on hardware.**

#![no_std]
#![no_main]

use defmt_rtt as _;
use embassy_executor::Spawner;
use lns_firmware::app;
use lns_firmware::board::nucleo_h743zi as board;
use panic_probe as _;

#[embassy_executor::main]
async fn main(_spawner: Spawner) {
    let parts = board::init();
    app::run(
        parts.ethernet,
        parts.console,
        parts.rng,
        &board::BOARD,
        &board::NET,
    )
    .await
}
