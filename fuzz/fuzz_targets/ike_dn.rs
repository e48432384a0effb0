//! The distinguished-name comparison of ID_DER_ASN1_DN against a
//! certificate subject (RFC 5280 §7.1, `ike_core::cert::names_match`) on
//! arbitrary pairs of byte strings, and on a real subject against
//! fuzzer-edited copies of it (so that the comparison gets past the DER
//! into the string preparation). Nothing may panic; every name matches
//! itself; the answer is the same either way round.
#![no_main]

use arbitrary::Arbitrary;
use ike_core::cert::{Certificate, names_match};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    a: Vec<u8>,
    b: Vec<u8>,
    edits: Vec<(u16, u8)>,
}

fuzz_target!(|input: Input| {
    let check = |a: &[u8], b: &[u8]| {
        let ab = names_match(a, b);
        assert_eq!(ab, names_match(b, a), "not symmetric");
        assert!(names_match(a, a) && names_match(b, b), "not reflexive");
    };
    check(&input.a, &input.b);
    let der = include_bytes!("../../testdata/ike-core/certs/client1.der");
    let Ok(cert) = Certificate::parse(der) else {
        return;
    };
    let subject = cert.subject();
    let mut edited = subject.to_vec();
    for &(at, byte) in input.edits.iter().take(8) {
        if !edited.is_empty() {
            let i = usize::from(at) % edited.len();
            edited[i] = byte;
        }
    }
    check(subject, &edited);
});
