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

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use esp_core::{Encapsulation, IpProtocol, Lifetime, Sa, SaConfig};
use ike_core::config::IpsecLifetime;
use rand_core::SeedableRng;
use sessiondb::dialer::{Dialer, DialerConfig, DialerDestination};
use sessiondb::gateway::{self, Event};
use sim::{GATEWAY, Sim, Wire, ipv4_packet};
use std::hint::black_box;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

const SIZES: [usize; 3] = [64, 512, 1400];
const BATCH: usize = 256;
const INSIDE: Ipv4Addr = Ipv4Addr::new(10, 10, 0, 1);

struct Setup {
    sim: Sim,
    client: Ipv4Addr,
    /// The client's address and port as the gateway sees them (after the NAT).
    public: SocketAddrV4,
    outbound: gateway::EspKeys,
    inbound: gateway::EspKeys,
}

fn setup() -> Setup {
    let mut options = sim::options();
    options.export_keys = true;
    // Lifetimes far beyond what a benchmark sends, so no rekey intervenes.
    let config = sim::config(
        "crypto ipsec security-association lifetime kilobytes 2147483647\n\
         crypto ipsec security-association lifetime seconds 2147483647\n",
    );
    let mut sim = Sim::with_options(config, options, 7);
    // A Windows-like client, except that it offers IPsec SAs without a
    // limit (Windows offers 250,000 KB, which a benchmark uses up).
    let private = Ipv4Addr::new(10, 0, 0, 2);
    let mut config = DialerConfig::windows_like(
        SocketAddrV4::new(GATEWAY, 500),
        SocketAddrV4::new(private, 500),
        sim::PSK,
        b"alice",
        b"s3cret-Pass",
    )
    .unwrap()
    .with_method(ppp_core::AuthMethod::MsChapV2);
    config.ike.initiator.esp_lifetime = IpsecLifetime {
        seconds: 0,
        kilobytes: 0,
    };
    let i = sim.clients.len();
    sim.clients.push(sim::Client {
        dialer: Dialer::new(&config).unwrap(),
        private,
        behind_nat: true,
        up: None,
        address: None,
        received: Vec::new(),
        events: Vec::new(),
    });
    sim.connect(i);
    sim.run_until(Duration::from_secs(20));
    let client = sim.clients[i].address.expect("the client came up");
    let keys: Vec<_> = sim
        .gateway_events
        .iter()
        .filter_map(|e| match e {
            Event::EspKeys(k) => Some(k.clone()),
            _ => None,
        })
        .collect();
    let outbound = keys.iter().rfind(|k| !k.inbound).unwrap().clone();
    let inbound = keys.iter().rfind(|k| k.inbound).unwrap().clone();
    let public = sim
        .to_clients
        .iter()
        .rev()
        .find_map(|w| match w {
            Wire::Udp { src, dst, .. } if src.port() == 4500 => Some(*dst),
            _ => None,
        })
        .expect("NAT-T was negotiated");
    Setup {
        sim,
        client,
        public,
        outbound,
        inbound,
    }
}

fn sa_config(k: &gateway::EspKeys) -> SaConfig<'_> {
    SaConfig {
        encryption: k.encryption,
        encryption_key: &k.encryption_key,
        integrity: k.integrity,
        integrity_key: &k.integrity_key,
        encapsulation: Encapsulation::Udp { peer_port: 4500 },
        replay_window: esp_core::DEFAULT_REPLAY_WINDOW,
        lifetime: Lifetime::UNLIMITED,
    }
}

/// `BATCH` UDP 4500 payloads from the client, each an `n`-byte IPv4 packet
/// for the routed side.
fn client_batch(s: &mut Setup, n: usize) -> Vec<Vec<u8>> {
    let now = s.sim.now;
    let at = gateway::HEADROOM;
    let p = ipv4_packet(s.client, INSIDE, &vec![0xa5; n - 20]);
    let mut cbuf = vec![0u8; 4096];
    (0..BATCH)
        .map(|_| {
            cbuf[at..at + n].copy_from_slice(&p);
            let t = s.sim.clients[0]
                .dialer
                .handle_ip(now, &mut cbuf, at..at + n)
                .unwrap();
            assert!(matches!(t.destination, DialerDestination::Udp { .. }));
            cbuf[t.range].to_vec()
        })
        .collect()
}

/// Times `iters` packets up, through the gateway or through `bare` alone.
fn up(s: &mut Setup, bare: Option<&mut Sa>, n: usize, iters: u64) -> Duration {
    let now = s.sim.now;
    let at = gateway::HEADROOM;
    let mut buf = vec![0u8; 4096];
    let mut bare = bare;
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let packets = client_batch(s, n);
        let start = Instant::now();
        for p in &packets {
            let range = at..at + p.len();
            buf[range.clone()].copy_from_slice(p);
            if let Some(sa) = bare.as_deref_mut() {
                black_box(sa.open(now, &mut buf[range]).unwrap());
            } else {
                let r = s
                    .sim
                    .gateway
                    .handle_datagram(
                        now,
                        s.public,
                        SocketAddrV4::new(GATEWAY, 4500),
                        &mut buf,
                        range,
                        &mut s.sim.gateway_rng,
                    )
                    .unwrap();
                assert_eq!(r.map(|r| r.len()), Some(n));
            }
        }
        total += start.elapsed();
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
        // What the gateway seals, found by opening one of its packets.
        let (plain_len, wire_len) = {
            let mut check: Sa =
                Sa::new_inbound(now, s.outbound.spi, &sa_config(&s.outbound)).unwrap();
            buf[at..at + n].copy_from_slice(&packet);
            let t = s.sim.gateway.handle_ip(now, &mut buf, at..at + n).unwrap();
            let wire_len = t.range.len();
            let opened = check.open(now, &mut buf[t.range]).unwrap();
            (opened.payload.len(), wire_len)
        };
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
