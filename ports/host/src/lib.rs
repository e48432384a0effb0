//! The host port of the gateway: the I/O that the sans-IO libraries leave
//! to their caller, for Linux, and the `lns` binary built on it.
//!
//! - [`sys`]: batched UDP and raw-socket I/O (`recvmmsg`/`sendmmsg` with
//!   `IP_PKTINFO`), the TUN device with its address and routes, `poll`,
//!   `signalfd`, `getrandom`; the only module with `unsafe`.
//! - [`server`]: `lns serve`, the gateway over real sockets and a TUN.
//! - [`client`]: `lns connect`, the client roles over real sockets and a TUN.
//! - [`sim`]: `lns simulate`, many clients against one gateway in one
//!   process over a simulated network.
//! - [`console`]: the operator's commands (`show ...`, `debug l2tp ...`,
//!   `vpn-sessiondb logoff ...`), from standard input or [`ctl`].
//! - [`ctl`]: the Unix-socket protocol between `lns ctl` and `lns serve`.
//! - [`pcap`]: `--pcap FILE`, outer packets plus Wireshark's `esp_sa` keys.
//! - [`defaults`]: the configuration `serve` runs without `--config`.
//! - [`logger`]: the `log` backend.
#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod cli;
pub mod client;
pub mod console;
pub mod ctl;
pub mod defaults;
pub mod logger;
pub mod pcap;
pub mod server;
pub mod sim;
pub mod sys;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The gateway a host runs: 256 sessions (about 2.4 MB of fixed storage,
/// always boxed).
pub type HostGateway = sessiondb::gateway::Gateway256;

/// Builds a boxed [`HostGateway`]. The gateway is built in place on the
/// heap only in optimised builds; a debug build moves it through the stack,
/// so call this on a thread with a large stack (see [`run_big`]).
pub fn new_gateway(
    config: sessiondb::Config,
    options: sessiondb::gateway::Options,
) -> Box<HostGateway> {
    Box::new(HostGateway::new(config, options))
}

/// Runs `f` on a thread with a 64 MB stack (the gateway's fixed storage
/// passes through the stack on its way into its box in a debug build) and
/// returns its result.
///
/// # Panics
/// If the thread cannot be started, or `f` panicked.
pub fn run_big<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match std::thread::Builder::new()
        .name("lns".into())
        .stack_size(64 << 20)
        .spawn(f)
    {
        Ok(h) => match h.join() {
            Ok(v) => v,
            Err(p) => std::panic::resume_unwind(p),
        },
        Err(e) => panic!("cannot start the gateway thread: {e}"),
    }
}

/// The port's monotonic clock: `now` for the sans-IO libraries is the time
/// since this clock was made.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    epoch: Instant,
}

impl Clock {
    /// A clock starting now.
    pub fn new() -> Self {
        Self {
            epoch: Instant::now(),
        }
    }

    /// Time since the epoch.
    pub fn now(&self) -> Duration {
        self.epoch.elapsed()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

/// The wall-clock time, for the login times `show vpn-sessiondb` prints.
pub fn wall_clock() -> sessiondb::session::WallClock {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    sessiondb::session::WallClock::from_unix(secs)
}

/// A ChaCha20 RNG seeded from the kernel (`getrandom`): what the gateway
/// and the client draw SPIs, cookies, nonces and DH secrets from.
///
/// # Errors
/// `getrandom` errors.
pub fn system_rng() -> std::io::Result<rand_chacha::ChaCha20Rng> {
    use rand_core::SeedableRng;
    Ok(rand_chacha::ChaCha20Rng::from_seed(sys::random_seed()?))
}
