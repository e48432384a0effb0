//! The certificate path on arbitrary input: X.509 parsing, RSA keys and
//! signature checks, and chain validation, on raw bytes and on the real
//! certificates of the test PKI with fuzzer-chosen bytes changed (so that
//! the parser gets deep into plausible DER). Nothing may panic; a mutated
//! certificate must never validate unless it still verifies under its
//! issuer's key (the signature covers the TBSCertificate, so only changes
//! outside it can keep it valid); an RSA check with an arbitrary
//! signature must fail.
#![no_main]

use arbitrary::Arbitrary;
use ike_core::cert::{Certificate, Credentials, validate};
use ike_core::crypto::{RsaPrivateKey, RsaPublicKey, digest_info};
use ike_core::wire::IdType;
use libfuzzer_sys::fuzz_target;

macro_rules! pki {
    ($f:literal) => {
        include_bytes!(concat!("../../testdata/ike-core/certs/", $f))
    };
}

#[derive(Arbitrary, Debug)]
struct Input {
    raw: Vec<u8>,
    which: u8,
    edits: Vec<(u16, u8)>,
    id_type: u8,
    id: Vec<u8>,
    sig: Vec<u8>,
    now: i64,
}

fuzz_target!(|input: Input| {
    // Raw bytes through every parser.
    let _ = Certificate::parse(&input.raw);
    let _ = RsaPrivateKey::from_der(&input.raw);
    let _ = RsaPublicKey::from_der(&input.raw);
    let mut c = Credentials::default();
    let _ = c.add_trust_anchor(&input.raw);
    let _ = c.set_own(&input.raw, &input.raw);

    // A real certificate with bytes changed.
    let originals: [&[u8]; 4] = [
        pki!("client1.der"),
        pki!("lns.der"),
        pki!("big-client.der"),
        pki!("ca.der"),
    ];
    let original = originals[usize::from(input.which) % originals.len()];
    let mut cert = original.to_vec();
    for (at, x) in input.edits.iter().take(8) {
        let i = usize::from(*at) % cert.len();
        cert[i] ^= x;
    }
    let parsed = Certificate::parse(&cert);
    let ca = Certificate::parse(pki!("ca.der")).unwrap();
    let big_root = Certificate::parse(pki!("big-root.der")).unwrap();
    let inter1: &[u8] = pki!("big-inter1.der");
    let inter2: &[u8] = pki!("big-inter2.der");
    let anchors = [ca, big_root];
    let id_type = IdType::from(input.id_type % 12);
    let sent: [&[u8]; 3] = [&cert, inter2, inter1];
    let r = validate(&sent, &anchors, id_type, &input.id, Some(input.now));
    if let Ok(leaf) = &r {
        // The end-entity certificate names the claimed identity.
        assert!(leaf.matches_id(id_type, &input.id));
        // A changed certificate never validates: every byte of it is
        // covered by its signature or makes it unparsable.
        if cert != original {
            assert!(!cert.as_ptr_range().contains(&leaf.subject().as_ptr()));
        }
    }
    if let Ok(p) = parsed {
        // Nobody can make a signature for a key they do not hold.
        let key = p.public_key();
        assert!(!key.verify_pkcs1v15(&[], &input.id, &input.sig));
        assert!(!key.verify_pkcs1v15(digest_info::SHA256, &input.raw, &input.sig));
        let _ = p.validity();
    }
});
