//! ESP seal and open against the bare cipher and MAC of the same crates on
//! the same bytes, as criterion distributions (`docs/PERFORMANCE.md`;
//! `examples/esp_speed.rs` takes the fastest of many batches of the same
//! operations, which `scripts/bench-all.sh` puts beside OpenSSL).
//!
//! Benchmark ids: `{seal,open,bare-seal,bare-open}/<suite>/<payload bytes>`.
//! "bare-seal" is CBC encryption of exactly the ciphertext `seal` produces
//! plus the HMAC over exactly the bytes `seal` authenticates, with the key
//! schedule and HMAC pads prepared beforehand; "bare-open" is the HMAC and
//! the CBC decryption of the same packet. The difference is what esp-core
//! adds: header, IV derivation, padding, checks, replay window, counters.
#![allow(missing_docs, clippy::cast_possible_truncation)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use esp_core::{Encryption, Integrity, IpProtocol, Sa};
use std::hint::black_box;
use std::time::{Duration, Instant};

mod support;
use support::{BareCipher, BareMac, SIZES, Suite, suite_name};

const ENCRYPTIONS: [Encryption; 4] = [
    Encryption::TripleDesCbc,
    Encryption::AesCbc128,
    Encryption::AesCbc192,
    Encryption::AesCbc256,
];
const INTEGRITIES: [Integrity; 3] = [
    Integrity::HmacMd5_96,
    Integrity::HmacSha1_96,
    Integrity::HmacSha256_128,
];
const NOW: Duration = Duration::from_secs(1);
/// Packets opened per timed batch (sealed untimed before each batch, since a
/// packet opens only once).
const BATCH: usize = 256;

fn bench(c: &mut Criterion) {
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(1);
    for enc in ENCRYPTIONS {
        for integ in INTEGRITIES {
            let suite = Suite::new(enc, integ);
            let name = suite_name(enc, integ);
            for size in SIZES {
                let mut group = c.benchmark_group(&name);
                group.throughput(Throughput::Bytes(size as u64));
                let headroom = 8 + enc.iv_len();
                let mut buf = vec![0u8; headroom + size + 33];
                let payload = headroom..headroom + size;

                let mut tx =
                    Sa::<2>::new_outbound(NOW, 0x8000_0001, &suite.config(), &mut rng).unwrap();
                let esp_len = tx
                    .seal(NOW, &mut buf, payload.clone(), IpProtocol::Udp)
                    .unwrap()
                    .len();
                group.bench_function(BenchmarkId::new("seal", size), |b| {
                    b.iter(|| {
                        tx.seal(NOW, black_box(&mut buf), payload.clone(), IpProtocol::Udp)
                            .unwrap()
                    });
                });

                let icv = integ.icv_len();
                let ct = headroom..esp_len - icv;
                let cipher = BareCipher::new(enc, &suite.ekey);
                let mac = BareMac::new(integ, &suite.akey);
                group.bench_function(BenchmarkId::new("bare-seal", size), |b| {
                    b.iter(|| {
                        let (head, body) = buf.split_at_mut(headroom);
                        cipher.encrypt(&head[8..], &mut body[..ct.len()]);
                        let (authed, tag) = buf[..esp_len].split_at_mut(esp_len - icv);
                        mac.mac(authed, tag);
                        black_box(&buf);
                    });
                });

                let mut rx = Sa::<2>::new_inbound(NOW, 0x8000_0001, &suite.config()).unwrap();
                let mut batch = vec![vec![0u8; esp_len]; BATCH];
                let refill = |tx: &mut Sa<2>, batch: &mut Vec<Vec<u8>>| {
                    for packet in batch.iter_mut() {
                        let mut b = vec![0u8; headroom + size + 33];
                        let r = tx
                            .seal(NOW, &mut b, payload.clone(), IpProtocol::Udp)
                            .unwrap();
                        packet.copy_from_slice(&b[r]);
                    }
                };
                group.bench_function(BenchmarkId::new("open", size), |b| {
                    b.iter_custom(|iters| {
                        let mut total = Duration::ZERO;
                        let mut left = iters as usize;
                        while left > 0 {
                            refill(&mut tx, &mut batch);
                            let n = left.min(BATCH);
                            let start = Instant::now();
                            for packet in &mut batch[..n] {
                                black_box(rx.open(NOW, packet).unwrap());
                            }
                            total += start.elapsed();
                            left -= n;
                        }
                        total
                    });
                });
                group.bench_function(BenchmarkId::new("bare-open", size), |b| {
                    b.iter_custom(|iters| {
                        let mut total = Duration::ZERO;
                        let mut left = iters as usize;
                        let mut tag = [0u8; 16];
                        while left > 0 {
                            refill(&mut tx, &mut batch);
                            let n = left.min(BATCH);
                            let start = Instant::now();
                            for packet in &mut batch[..n] {
                                let (authed, _) = packet.split_at(esp_len - icv);
                                mac.mac(authed, &mut tag[..icv]);
                                let (head, body) = packet.split_at_mut(headroom);
                                cipher.decrypt(&head[8..], &mut body[..ct.len()]);
                                black_box(&packet);
                            }
                            total += start.elapsed();
                            left -= n;
                        }
                        total
                    });
                });
                group.finish();
            }
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
