//! ESP seal and open, and the bare cipher and MAC of the same crates on the
//! same bytes, as the fastest of many small batches (the figures
//! `scripts/bench-all.sh` puts beside OpenSSL).
//!
//! On a machine that also runs other work, a batch that was not preempted
//! is what the code costs; the criterion benchmark `benches/esp.rs` gives
//! the distributions, which move with the load.
//!
//! Prints one tab-separated line per suite and payload size:
//! `esp <suite> <bytes> <seal ns> <bare seal ns> <open ns> <bare open ns>`.
//!
//! ```text
//! cargo run --release -p esp-core --example esp_speed [batches]
//! ```
#![allow(missing_docs, clippy::cast_possible_truncation)]

#[path = "../benches/support/mod.rs"]
mod support;

use esp_core::{Encryption, Integrity, IpProtocol, Sa};
use rand_core::SeedableRng;
use std::hint::black_box;
use std::time::{Duration, Instant};
use support::{BareCipher, BareMac, SIZES, Suite, suite_name};

const NOW: Duration = Duration::from_secs(1);
/// Packets per timed batch: short enough that most batches run without a
/// context switch, long enough for the clock.
const BATCH: usize = 64;

/// Nanoseconds per packet of the fastest of `batches` runs of `batch`
/// (fewer when they take more than a quarter of a second together, as
/// 3DES does), which does its untimed preparation and returns the time of
/// `BATCH` packets.
fn fastest(batches: usize, mut batch: impl FnMut() -> Duration) -> f64 {
    let mut spent = Duration::ZERO;
    let mut best = Duration::MAX;
    for n in 0..batches {
        if n >= 20 && spent > Duration::from_millis(250) {
            break;
        }
        let t = batch();
        spent += t;
        best = best.min(t);
    }
    best.as_nanos() as f64 / BATCH as f64
}

/// The time of `BATCH` calls of `one`.
fn timed(mut one: impl FnMut(usize)) -> Duration {
    let start = Instant::now();
    for i in 0..BATCH {
        one(i);
    }
    start.elapsed()
}

fn main() {
    let batches = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let suites = [
        (Encryption::AesCbc128, Integrity::HmacSha1_96),
        (Encryption::AesCbc256, Integrity::HmacSha1_96),
        (Encryption::AesCbc128, Integrity::HmacSha256_128),
        (Encryption::AesCbc256, Integrity::HmacSha256_128),
        (Encryption::TripleDesCbc, Integrity::HmacSha1_96),
    ];
    for (enc, integ) in suites {
        let suite = Suite::new(enc, integ);
        let name = suite_name(enc, integ);
        for size in SIZES {
            let headroom = 8 + enc.iv_len();
            let payload = headroom..headroom + size;
            let mut buf = vec![0u8; headroom + size + 33];
            let mut tx = Sa::<2>::new_outbound(NOW, 0x8000_0001, &suite.config(), &mut rng)
                .expect("suite keys have the right lengths");
            let esp_len = tx
                .seal(NOW, &mut buf, payload.clone(), IpProtocol::Udp)
                .expect("room for the trailer")
                .len();
            let seal = fastest(batches, || {
                timed(|_| {
                    black_box(
                        tx.seal(NOW, black_box(&mut buf), payload.clone(), IpProtocol::Udp)
                            .unwrap(),
                    );
                })
            });

            let icv = integ.icv_len();
            let ct_len = esp_len - icv - headroom;
            let cipher = BareCipher::new(enc, &suite.ekey);
            let mac = BareMac::new(integ, &suite.akey);
            let bare_seal = fastest(batches, || {
                timed(|_| {
                    let (head, body) = buf.split_at_mut(headroom);
                    cipher.encrypt(&head[8..], &mut body[..ct_len]);
                    let (authed, tag) = buf[..esp_len].split_at_mut(esp_len - icv);
                    mac.mac(authed, tag);
                    black_box(&buf);
                })
            });

            // A packet opens once (the replay window), so each batch opens
            // fresh packets sealed before it, untimed; the bare open works
            // on the same packets.
            let mut rx = Sa::<2>::new_inbound(NOW, 0x8000_0001, &suite.config())
                .expect("suite keys have the right lengths");
            let mut packets = vec![vec![0u8; esp_len]; BATCH];
            let mut scratch = vec![0u8; headroom + size + 33];
            let mut refill = |packets: &mut Vec<Vec<u8>>| {
                for p in packets.iter_mut() {
                    let r = tx
                        .seal(NOW, &mut scratch, payload.clone(), IpProtocol::Udp)
                        .unwrap();
                    p.copy_from_slice(&scratch[r]);
                }
            };
            let mut ready = packets.clone();
            let open = fastest(batches, || {
                refill(&mut packets);
                ready.clone_from(&packets);
                timed(|i| {
                    black_box(rx.open(NOW, &mut ready[i]).unwrap());
                })
            });
            let mut tag = [0u8; 16];
            let bare_open = fastest(batches, || {
                ready.clone_from(&packets);
                timed(|i| {
                    let packet = &mut ready[i];
                    let (authed, _) = packet.split_at(esp_len - icv);
                    mac.mac(authed, &mut tag[..icv]);
                    let (head, body) = packet.split_at_mut(headroom);
                    cipher.decrypt(&head[8..], &mut body[..ct_len]);
                    black_box(&packet);
                })
            });
            println!("esp\t{name}\t{size}\t{seal:.1}\t{bare_seal:.1}\t{open:.1}\t{bare_open:.1}");
        }
    }
}
