//! Prints the memory of the gateway and of one session's worth of state
//! (see docs/PERFORMANCE.md).
use core::mem::size_of;

fn main() {
    println!(
        "Gateway16  (16 sessions):  {:>8} bytes",
        size_of::<sessiondb::gateway::Gateway16>()
    );
    println!(
        "Gateway256 (256 sessions): {:>8} bytes",
        size_of::<sessiondb::gateway::Gateway256>()
    );
    println!(
        "Config:                    {:>8} bytes",
        size_of::<sessiondb::Config>()
    );
    println!(
        "Dialer:                    {:>8} bytes",
        size_of::<sessiondb::dialer::Dialer>()
    );
    println!(
        "ppp_core::Link:            {:>8} bytes",
        size_of::<ppp_core::Link>()
    );
    println!(
        "esp_core::Sa:              {:>8} bytes",
        size_of::<esp_core::Sa>()
    );
    println!(
        "Session record:            {:>8} bytes",
        size_of::<sessiondb::Session>()
    );
}
