//! Diffie-Hellman, RSA and whole handshakes as the fastest of many runs (the
//! figures `scripts/bench-all.sh` puts beside `openssl speed`; the
//! criterion benchmark `benches/ike.rs` gives the distributions).
//!
//! Prints one tab-separated line per operation: `ike <operation> <ns>`.
//! Operations:
//! * `modexp/<bits>/e<ebits>`: crypto-bigint's constant-time exponentiation
//!   with the exponent size of the comparable `openssl speed` operation
//!   (`ffdh2048`: 225 bits; `dsa1024`: 160 bits);
//! * `dh/<group>/keygen`, `dh/<group>/derive`: with the exponent size this
//!   crate draws, and ECP P-256/P-384;
//! * `rsa/2048/sign`, `rsa/2048/verify`: PKCS#1 v1.5, CRT, e = 65537;
//! * `handshake/group14-psk`, `handshake/group14-rsa-sig`: a complete Main
//!   Mode + Quick Mode, both sides in one process.
//!
//! ```text
//! cargo run --release -p ike-core --example ike_speed [runs]
//! ```
#![allow(missing_docs)]

#[macro_use]
#[path = "../benches/support/mod.rs"]
mod support;

use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{Odd, U384, U1024, U2048, Uint};
use ike_core::config::Authentication;
use ike_core::crypto::{DhGroup, DhPrivate, RsaPrivateKey};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::hint::black_box;
use std::time::{Duration, Instant};
use support::{configs, configs_with, handshake};

/// Nanoseconds of the fastest of `runs` calls of `f` (fewer when they take
/// more than a second together).
fn fastest(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut spent = Duration::ZERO;
    let mut best = Duration::MAX;
    for n in 0..runs {
        if n >= 10 && spent > Duration::from_secs(1) {
            break;
        }
        let start = Instant::now();
        f();
        let t = start.elapsed();
        spent += t;
        best = best.min(t);
    }
    best.as_nanos() as f64
}

fn report(what: &str, ns: f64) {
    println!("ike\t{what}\t{ns:.0}");
}

fn modexp<const L: usize>(runs: usize, bits: usize, ebits: u32, group: DhGroup) {
    let params = FixedMontyParams::new_vartime(Odd::<Uint<L>>::from_be_hex(group.prime_hex()));
    let base = FixedMontyForm::new(&Uint::<L>::from_u8(2), &params);
    let mut bytes = [0x5au8; 48];
    bytes[0] = 0;
    let e = U384::from_be_slice(&bytes);
    let ns = fastest(runs, || {
        black_box(
            black_box(&base)
                .pow_bounded_exp(black_box(&e), ebits)
                .retrieve(),
        );
    });
    report(&format!("modexp/{bits}/e{ebits}"), ns);
}

fn main() {
    let runs = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(300);
    modexp::<{ U1024::LIMBS }>(runs, 1024, 160, DhGroup::Modp1024);
    modexp::<{ U2048::LIMBS }>(runs, 2048, 225, DhGroup::Modp2048);

    let mut rng = ChaCha20Rng::seed_from_u64(2);
    for (name, group) in [
        ("group2", DhGroup::Modp1024),
        ("group14", DhGroup::Modp2048),
        ("group19", DhGroup::Ecp256),
        ("group20", DhGroup::Ecp384),
    ] {
        let a = DhPrivate::generate(group, &mut rng);
        let b = DhPrivate::generate(group, &mut rng);
        let mut pa = vec![0u8; group.public_len()];
        let mut pb = vec![0u8; group.public_len()];
        assert!(a.public_value(&mut pa) && b.public_value(&mut pb));
        report(
            &format!("dh/{name}/keygen"),
            fastest(runs, || assert!(a.public_value(black_box(&mut pa)))),
        );
        report(
            &format!("dh/{name}/derive"),
            fastest(runs, || {
                black_box(a.shared_secret(black_box(&pb)).unwrap());
            }),
        );
    }

    let key = RsaPrivateKey::from_der(pki!("lns.key")).unwrap();
    let hash = [0x5au8; 20];
    let mut sig = vec![0u8; key.len()];
    key.sign_pkcs1v15(&[], &hash, &mut sig).unwrap();
    report(
        "rsa/2048/sign",
        fastest(runs, || {
            key.sign_pkcs1v15(&[], black_box(&hash), &mut sig).unwrap();
        }),
    );
    let public = key.public_key();
    report(
        "rsa/2048/verify",
        fastest(runs, || {
            assert!(public.verify_pkcs1v15(&[], black_box(&hash), black_box(&sig)));
        }),
    );

    let (i, r) = configs(DhGroup::Modp2048);
    report(
        "handshake/group14-psk",
        fastest(runs, || {
            black_box(handshake(&i, &r, &mut rng));
        }),
    );
    let (i, r) = configs_with(DhGroup::Modp2048, Authentication::RsaSig);
    report(
        "handshake/group14-rsa-sig",
        fastest(runs, || {
            black_box(handshake(&i, &r, &mut rng));
        }),
    );
}
