//! The gateway's data path per packet against esp-core alone on the same
//! bytes (`docs/PERFORMANCE.md`).
//!
//! One Windows-like client is brought up through the simulated network of
//! the tests (IKE Main and Quick Mode behind a NAT, L2TP, PPP with
//! MS-CHAPv2, IPCP), with the gateway exporting its ESP keys. Then:
//!
//! - `down/gateway/<n>`: `Gateway::handle_ip` on an `n`-byte IPv4 packet
//!   for the client: find the session by address, PPP and L2TP framing,
//!   UDP, ESP seal, NAT-T destination.
//! - `down/esp/<n>`: `Sa::seal` alone, with the gateway's own outbound
//!   keys, of a payload as long as the one the gateway sealed (UDP + L2TP +
//!   PPP + the packet).
//! - `up/gateway/<n>`: `Gateway::handle_datagram` on the client's UDP 4500
//!   datagrams carrying `n`-byte IPv4 packets: NAT-T classification, ESP
//!   open and replay window, UDP, L2TP data message, PPP, the source
//!   address check, the housekeeping after every input.
//! - `up/esp/<n>`: `Sa::open` alone, with the gateway's inbound keys, of
//!   datagrams made the same way.
//!
//! A packet opens only once, so the `up` benchmarks seal a batch untimed
//! and time the opening of the whole batch.
#![allow(missing_docs, clippy::cast_possible_truncation)]

#[path = "../tests/sim/mod.rs"]
mod sim;

const SIZES: [usize; 3] = [64, 512, 1400];

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use esp_core::{IpProtocol, Sa};
use rand_core::SeedableRng;
use sessiondb::gateway;
use sim::datapath::{
    BATCH, INSIDE, Setup, client_batch, sa_config, sealed_lengths, setup, time_up,
};
use sim::ipv4_packet;
use std::hint::black_box;
use std::time::Duration;

/// Times `iters` packets up, through the gateway or through `bare` alone.
fn up(s: &mut Setup, mut bare: Option<&mut Sa>, n: usize, iters: u64) -> Duration {
    let mut buf = vec![0u8; 4096];
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let packets = client_batch(s, n);
        total += time_up(s, bare.as_deref_mut(), &packets, n, &mut buf);
        done += BATCH as u64;
    }
    total.mul_f64(iters as f64 / done as f64)
}

fn bench(c: &mut Criterion) {
    let mut s = setup();
    let now = s.sim.now;
    let suite = format!(
        "{}-{}",
        s.outbound.encryption.name(),
        s.outbound.integrity.name()
    )
    .to_lowercase();
    eprintln!("negotiated suite: {suite}");
    let mut group = c.benchmark_group("gateway");
    let mut buf = vec![0u8; 4096];
    let at = gateway::HEADROOM;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    for n in SIZES {
        group.throughput(Throughput::Bytes(n as u64));
        let packet = ipv4_packet(INSIDE, s.client, &vec![0x5a; n - 20]);

        // Down: the routed side to the client.
        group.bench_function(BenchmarkId::new(format!("down/gateway/{suite}"), n), |b| {
            b.iter(|| {
                buf[at..at + n].copy_from_slice(&packet);
                black_box(s.sim.gateway.handle_ip(now, &mut buf, at..at + n).unwrap())
            });
        });
        let (plain_len, wire_len) = sealed_lengths(&mut s, n, &mut buf);
        eprintln!("{n} B: ESP payload {plain_len} B, UDP 4500 payload {wire_len} B");
        let mut bare: Sa =
            Sa::new_outbound(now, s.outbound.spi, &sa_config(&s.outbound), &mut rng).unwrap();
        let payload = vec![0x5a; plain_len];
        group.bench_function(BenchmarkId::new(format!("down/esp/{suite}"), n), |b| {
            b.iter(|| {
                buf[at..at + plain_len].copy_from_slice(&payload);
                black_box(
                    bare.seal(now, &mut buf, at..at + plain_len, IpProtocol::Udp)
                        .unwrap(),
                )
            });
        });

        // Up: the client to the routed side.
        group.bench_function(BenchmarkId::new(format!("up/gateway/{suite}"), n), |b| {
            b.iter_custom(|iters| up(&mut s, None, n, iters));
        });
        let mut bare: Sa = Sa::new_inbound(now, s.inbound.spi, &sa_config(&s.inbound)).unwrap();
        group.bench_function(BenchmarkId::new(format!("up/esp/{suite}"), n), |b| {
            b.iter_custom(|iters| up(&mut s, Some(&mut bare), n, iters));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
