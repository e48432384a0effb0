//! ESP seal and open against the bare cipher and MAC of the same crates on
//! the same bytes (`docs/PERFORMANCE.md`; `scripts/bench-esp-vs-openssl.sh`
//! adds OpenSSL and prints the ratios).
//!
//! Benchmark ids: `{seal,open,bare-seal,bare-open}/<suite>/<payload bytes>`.
//! "bare-seal" is CBC encryption of exactly the ciphertext `seal` produces
//! plus the HMAC over exactly the bytes `seal` authenticates, with the key
//! schedule and HMAC pads prepared beforehand; "bare-open" is the HMAC and
//! the CBC decryption of the same packet. The difference is what esp-core
//! adds: header, IV derivation, padding, checks, replay window, counters.
#![allow(missing_docs, clippy::cast_possible_truncation)]

use cipher::{
    BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, InnerIvInit,
    KeyInit,
};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use esp_core::{Encapsulation, Encryption, Integrity, IpProtocol, Lifetime, Sa, SaConfig};
use hmac::{Hmac, Mac};
use std::hint::black_box;
use std::time::{Duration, Instant};

const SIZES: [usize; 3] = [64, 512, 1400];
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

fn suite_name(e: Encryption, i: Integrity) -> String {
    format!("{}-{}", e.name(), i.name()).to_lowercase()
}

struct Suite {
    enc: Encryption,
    integ: Integrity,
    ekey: Vec<u8>,
    akey: Vec<u8>,
}

impl Suite {
    fn config(&self) -> SaConfig<'_> {
        SaConfig {
            encryption: self.enc,
            encryption_key: &self.ekey,
            integrity: self.integ,
            integrity_key: &self.akey,
            encapsulation: Encapsulation::Udp { peer_port: 4500 },
            replay_window: 128,
            lifetime: Lifetime::UNLIMITED,
        }
    }
}

/// The bare operations of one suite, keyed once.
enum BareCipher {
    Tdes(des::TdesEde3),
    Aes128(aes::Aes128Enc, aes::Aes128Dec),
    Aes192(aes::Aes192Enc, aes::Aes192Dec),
    Aes256(aes::Aes256Enc, aes::Aes256Dec),
}

enum BareMac {
    Md5(Hmac<md5::Md5>),
    Sha1(Hmac<sha1::Sha1>),
    Sha256(Hmac<sha2::Sha256>),
}

fn cbc_enc<C: BlockCipherEncrypt>(c: &C, iv: &[u8], data: &mut [u8]) {
    let mut mode = cbc::Encryptor::<&C>::inner_iv_slice_init(c, iv).unwrap();
    let (blocks, _) = cipher::Array::<u8, C::BlockSize>::slice_as_chunks_mut(data);
    mode.encrypt_blocks(blocks);
}

fn cbc_dec<C: BlockCipherDecrypt>(c: &C, iv: &[u8], data: &mut [u8]) {
    let mut mode = cbc::Decryptor::<&C>::inner_iv_slice_init(c, iv).unwrap();
    let (blocks, _) = cipher::Array::<u8, C::BlockSize>::slice_as_chunks_mut(data);
    mode.decrypt_blocks(blocks);
}

impl BareCipher {
    fn new(e: Encryption, key: &[u8]) -> Self {
        match e {
            Encryption::TripleDesCbc => Self::Tdes(KeyInit::new_from_slice(key).unwrap()),
            Encryption::AesCbc128 => Self::Aes128(
                KeyInit::new_from_slice(key).unwrap(),
                KeyInit::new_from_slice(key).unwrap(),
            ),
            Encryption::AesCbc192 => Self::Aes192(
                KeyInit::new_from_slice(key).unwrap(),
                KeyInit::new_from_slice(key).unwrap(),
            ),
            Encryption::AesCbc256 => Self::Aes256(
                KeyInit::new_from_slice(key).unwrap(),
                KeyInit::new_from_slice(key).unwrap(),
            ),
            _ => unreachable!(),
        }
    }
    fn encrypt(&self, iv: &[u8], data: &mut [u8]) {
        match self {
            Self::Tdes(c) => cbc_enc(c, iv, data),
            Self::Aes128(c, _) => cbc_enc(c, iv, data),
            Self::Aes192(c, _) => cbc_enc(c, iv, data),
            Self::Aes256(c, _) => cbc_enc(c, iv, data),
        }
    }
    fn decrypt(&self, iv: &[u8], data: &mut [u8]) {
        match self {
            Self::Tdes(c) => cbc_dec(c, iv, data),
            Self::Aes128(_, c) => cbc_dec(c, iv, data),
            Self::Aes192(_, c) => cbc_dec(c, iv, data),
            Self::Aes256(_, c) => cbc_dec(c, iv, data),
        }
    }
}

impl BareMac {
    fn new(i: Integrity, key: &[u8]) -> Self {
        match i {
            Integrity::HmacMd5_96 => Self::Md5(KeyInit::new_from_slice(key).unwrap()),
            Integrity::HmacSha1_96 => Self::Sha1(KeyInit::new_from_slice(key).unwrap()),
            Integrity::HmacSha256_128 => Self::Sha256(KeyInit::new_from_slice(key).unwrap()),
            _ => unreachable!(),
        }
    }
    fn mac(&self, data: &[u8], out: &mut [u8]) {
        fn run<M: Mac + Clone>(m: &M, data: &[u8], out: &mut [u8]) {
            let mut m = m.clone();
            m.update(data);
            let tag = m.finalize().into_bytes();
            let n = out.len();
            out.copy_from_slice(&tag[..n]);
        }
        match self {
            Self::Md5(m) => run(m, data, out),
            Self::Sha1(m) => run(m, data, out),
            Self::Sha256(m) => run(m, data, out),
        }
    }
}

fn bench(c: &mut Criterion) {
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(1);
    for enc in ENCRYPTIONS {
        for integ in INTEGRITIES {
            let suite = Suite {
                enc,
                integ,
                ekey: (0..enc.key_len()).map(|n| n as u8 ^ 0x5a).collect(),
                akey: (0..integ.key_len()).map(|n| n as u8 ^ 0xa5).collect(),
            };
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
