//! The data path per packet, as the fastest of many batches: on a machine
//! that also runs other work, the minimum is what the code costs and the
//! rest is interference (`docs/PERFORMANCE.md`; the criterion benchmark
//! `benches/datapath.rs` gives the distributions).
//!
//! For 64-, 512- and 1400-byte IPv4 packets it prints nanoseconds per
//! packet of:
//! - `down gateway`: `Gateway::handle_ip`; `down esp`: `Sa::seal` alone of
//!   a payload as long as the one the gateway seals (UDP, L2TP and PPP in
//!   front of the packet);
//! - `up gateway`: `Gateway::handle_datagram` on the client's UDP 4500
//!   datagrams; `up esp`: `Sa::open` alone of datagrams made the same way.
//!
//! ```text
//! cargo run --release -p sessiondb --example datapath_min [batches]
//! ```
#![allow(missing_docs, clippy::cast_possible_truncation)]

#[path = "../tests/sim/mod.rs"]
mod sim;

use esp_core::{IpProtocol, Sa};
use rand_core::SeedableRng;
use sessiondb::gateway;
use sim::datapath::{
    BATCH, INSIDE, Setup, client_batch, sa_config, sealed_lengths, setup, time_up,
};
use sim::ipv4_packet;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Nanoseconds per packet of the fastest of `batches` batches.
fn fastest(batches: usize, mut batch: impl FnMut() -> (Duration, usize)) -> f64 {
    (0..batches)
        .map(|_| {
            let (t, n) = batch();
            t.as_nanos() as f64 / n as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn down(s: &mut Setup, n: usize, batches: usize) -> (f64, f64, usize) {
    let now = s.sim.now;
    let at = gateway::HEADROOM;
    let mut buf = vec![0u8; 4096];
    let packet = ipv4_packet(INSIDE, s.client, &vec![0x5a; n - 20]);
    let gw = fastest(batches, || {
        let start = Instant::now();
        for _ in 0..BATCH {
            buf[at..at + n].copy_from_slice(&packet);
            black_box(s.sim.gateway.handle_ip(now, &mut buf, at..at + n).unwrap());
        }
        (start.elapsed(), BATCH)
    });
    let (len, _) = sealed_lengths(s, n, &mut buf);
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let mut sa: Sa =
        Sa::new_outbound(now, s.outbound.spi, &sa_config(&s.outbound), &mut rng).unwrap();
    let payload = vec![0x5a; len];
    let esp = fastest(batches, || {
        let start = Instant::now();
        for _ in 0..BATCH {
            buf[at..at + len].copy_from_slice(&payload);
            black_box(
                sa.seal(now, &mut buf, at..at + len, IpProtocol::Udp)
                    .unwrap(),
            );
        }
        (start.elapsed(), BATCH)
    });
    (gw, esp, len)
}

fn up(s: &mut Setup, n: usize, batches: usize) -> (f64, f64) {
    let mut buf = vec![0u8; 4096];
    let gw = fastest(batches, || {
        let packets = client_batch(s, n);
        (time_up(s, None, &packets, n, &mut buf), packets.len())
    });
    let mut sa: Sa = Sa::new_inbound(s.sim.now, s.inbound.spi, &sa_config(&s.inbound)).unwrap();
    let esp = fastest(batches, || {
        let packets = client_batch(s, n);
        (
            time_up(s, Some(&mut sa), &packets, n, &mut buf),
            packets.len(),
        )
    });
    (gw, esp)
}

fn main() {
    let batches = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(400);
    let mut s = setup();
    println!(
        "suite {}-{}, {BATCH} packets per batch, fastest of {batches} batches",
        s.outbound.encryption.name(),
        s.outbound.integrity.name()
    );
    println!(
        "{:>6} | {:>12} {:>9} {:>8} | {:>10} {:>8} {:>8}",
        "packet", "down gateway", "down esp", "overhead", "up gateway", "up esp", "overhead"
    );
    for n in [64, 512, 1400] {
        let (dg, de, len) = down(&mut s, n, batches);
        let (ug, ue) = up(&mut s, n, batches);
        println!(
            "{n:>5}B | {dg:>9.0} ns {de:>6.0} ns {:>7.1}% | {ug:>7.0} ns {ue:>5.0} ns {:>7.1}%   (ESP payload {len} B)",
            (dg / de - 1.0) * 100.0,
            (ug / ue - 1.0) * 100.0
        );
    }
}
