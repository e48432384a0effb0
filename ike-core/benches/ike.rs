//! IKE costs (`docs/PERFORMANCE.md`; `ike-core/scripts/bench-vs-openssl.sh`
//! adds OpenSSL's numbers from the same run and prints the ratios).
//!
//! Benchmark ids:
//! * `handshake/<group>`: a complete Main Mode + Quick Mode, initiator and
//!   responder in one process with the messages handed over directly (no
//!   network, no loss): 4 Diffie-Hellman exponentiations, every hash,
//!   encryption, parse and build of both sides, up to both
//!   `ChildSaNegotiated` events;
//! * `dh/<group>/keygen`, `dh/<group>/derive`: one g^x and one y^x with the
//!   exponent size this crate draws (`DhGroup::exponent_bits`);
//! * `dh/group19/..`, `dh/group20/..`: the same for ECP P-256 and P-384
//!   (d·G and d·Q with the RustCrypto curves);
//! * `rsa/<bits>/sign`, `rsa/<bits>/verify`: PKCS#1 v1.5 over a 20-octet
//!   HASH_I with the test PKI's keys (CRT signing, e = 65537);
//! * `handshake/rsa-sig-group14`: a full Main Mode + Quick Mode with
//!   certificates (2048-bit keys, one CA), both sides validating the other's
//!   chain: 2 signatures, 4 verifications, 4 exponentiations;
//! * `modexp/<bits>/e<ebits>`: the bare constant-time exponentiation of
//!   crypto-bigint with the exponent size OpenSSL uses for the comparable
//!   `openssl speed` operation: `ffdh2048` derives with a 225-bit private
//!   exponent (OpenSSL 3's length for 2048-bit groups), `dsa1024` signs
//!   with a 160-bit and `dsa2048` with a 256-bit exponent; 1536 bits with
//!   200 (OpenSSL's length for MODP 1536, which `openssl speed` does not
//!   offer).
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{Odd, U384, U1024, U1536, U2048, Uint};
use ike_core::config::Authentication;
use ike_core::crypto::{DhGroup, DhPrivate, RsaPrivateKey};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::hint::black_box;

#[macro_use]
mod support;
use support::{configs, configs_with, handshake};

fn bench_handshake(c: &mut Criterion) {
    let mut g = c.benchmark_group("handshake");
    g.sample_size(20);
    for (name, group) in [
        ("group2", DhGroup::Modp1024),
        ("group5", DhGroup::Modp1536),
        ("group14", DhGroup::Modp2048),
    ] {
        let (i, r) = configs(group);
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        assert_eq!(handshake(&i, &r, &mut rng), 9);
        g.bench_function(name, |b| b.iter(|| handshake(&i, &r, &mut rng)));
    }
    let (i, r) = configs_with(DhGroup::Modp2048, Authentication::RsaSig);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    assert!(handshake(&i, &r, &mut rng) >= 9);
    g.bench_function("rsa-sig-group14", |b| {
        b.iter(|| handshake(&i, &r, &mut rng));
    });
    g.finish();
}

fn bench_dh(c: &mut Criterion) {
    let mut g = c.benchmark_group("dh");
    for (name, group) in [
        ("group2", DhGroup::Modp1024),
        ("group5", DhGroup::Modp1536),
        ("group14", DhGroup::Modp2048),
        ("group19", DhGroup::Ecp256),
        ("group20", DhGroup::Ecp384),
    ] {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let a = DhPrivate::generate(group, &mut rng);
        let b = DhPrivate::generate(group, &mut rng);
        let n = group.public_len();
        let mut pa = vec![0u8; n];
        let mut pb = vec![0u8; n];
        assert!(a.public_value(&mut pa) && b.public_value(&mut pb));
        g.bench_function(format!("{name}/keygen"), |bch| {
            bch.iter(|| assert!(a.public_value(black_box(&mut pa))));
        });
        g.bench_function(format!("{name}/derive"), |bch| {
            bch.iter(|| a.shared_secret(black_box(&pb)).unwrap());
        });
    }
    g.finish();
}

fn modexp<const L: usize>(c: &mut Criterion, bits: usize, ebits: u32, group: DhGroup) {
    let params = FixedMontyParams::new_vartime(Odd::<Uint<L>>::from_be_hex(group.prime_hex()));
    let base = FixedMontyForm::new(&Uint::<L>::from_u8(2), &params);
    let mut bytes = [0x5au8; 48];
    bytes[0] = 0;
    let e = U384::from_be_slice(&bytes);
    c.bench_function(&format!("modexp/{bits}/e{ebits}"), |b| {
        b.iter(|| {
            black_box(&base)
                .pow_bounded_exp(black_box(&e), ebits)
                .retrieve()
        });
    });
}

fn bench_modexp(c: &mut Criterion) {
    // The exponent sizes of the comparable OpenSSL operations.
    modexp::<{ U1024::LIMBS }>(c, 1024, 160, DhGroup::Modp1024);
    modexp::<{ U1536::LIMBS }>(c, 1536, 200, DhGroup::Modp1536);
    modexp::<{ U2048::LIMBS }>(c, 2048, 225, DhGroup::Modp2048);
    modexp::<{ U2048::LIMBS }>(c, 2048, 256, DhGroup::Modp2048);
}

fn bench_rsa(c: &mut Criterion) {
    let mut g = c.benchmark_group("rsa");
    let keys: [(&str, &[u8]); 3] = [
        ("2048", pki!("lns.key")),
        ("3072", pki!("rsa3072.key")),
        ("4096", pki!("big-client.key")),
    ];
    let hash = [0x5au8; 20];
    for (bits, der) in keys {
        let key = RsaPrivateKey::from_der(der).unwrap();
        let mut sig = vec![0u8; key.len()];
        key.sign_pkcs1v15(&[], &hash, &mut sig).unwrap();
        g.bench_function(format!("{bits}/sign"), |b| {
            b.iter(|| key.sign_pkcs1v15(&[], black_box(&hash), &mut sig).unwrap());
        });
        let public = key.public_key();
        g.bench_function(format!("{bits}/verify"), |b| {
            b.iter(|| assert!(public.verify_pkcs1v15(&[], black_box(&hash), black_box(&sig))));
        });
    }
    g.finish();
}

criterion_group!(benches, bench_modexp, bench_dh, bench_rsa, bench_handshake);
criterion_main!(benches);
