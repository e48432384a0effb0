//! Known-answer tests from the shared vector files:
//! NIST CAVS 17.3 IKEv1 KDF vectors (SP 800-135 §4.1.1; pre-shared key and
//! signature SKEYID, then SKEYID_d/a/e as RFC 2409 §5), and the MODP primes
//! of RFC 2409 §6 / RFC 3526.

use ike_core::crypto::{CipherAlg, DhGroup, HashAlg, Phase1Keys, skeyid_psk, skeyid_signature};
use testkit::hex;

struct Vector {
    hash: HashAlg,
    fields: std::collections::HashMap<String, Vec<u8>>,
}

fn read_fax(name: &str) -> Vec<Vector> {
    let text = std::fs::read_to_string(testkit::testdata(&format!(
        "vectors/nist-cavp-ikev1/{name}"
    )))
    .unwrap();
    let mut out = Vec::new();
    let mut hash = None;
    let mut cur: Option<Vector> = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        match line {
            "[SHA-1]" => hash = Some(HashAlg::Sha1),
            "[SHA-256]" => hash = Some(HashAlg::Sha256),
            l if l.starts_with('[') => {}
            l if l.starts_with("COUNT") => {
                if let Some(v) = cur.take() {
                    out.push(v);
                }
                cur = Some(Vector {
                    hash: hash.expect("hash section"),
                    fields: Default::default(),
                });
            }
            l => {
                let (k, v) = l.split_once(" = ").expect("key = value");
                cur.as_mut()
                    .unwrap()
                    .fields
                    .insert(k.to_owned(), hex::decode(v));
            }
        }
    }
    out.extend(cur);
    out
}

fn check(v: &Vector, skeyid: &[u8]) {
    let f = |k: &str| v.fields[k].clone();
    assert_eq!(skeyid, &f("SKEYID")[..], "SKEYID");
    let cky_i: [u8; 8] = f("CKY_I").try_into().unwrap();
    let cky_r: [u8; 8] = f("CKY_R").try_into().unwrap();
    let k = Phase1Keys::derive(
        v.hash,
        skeyid,
        &f("g^xy"),
        &cky_i,
        &cky_r,
        CipherAlg::Aes128,
    );
    assert_eq!(k.skeyid_d.as_slice(), &f("SKEYID_d")[..]);
    assert_eq!(k.skeyid_a.as_slice(), &f("SKEYID_a")[..]);
    assert_eq!(k.skeyid_e.as_slice(), &f("SKEYID_e")[..]);
}

#[test]
fn nist_cavp_ikev1_pre_shared_key() {
    let vs = read_fax("ikev1_psk.subset.fax");
    assert_eq!(vs.len(), 15);
    for v in &vs {
        let f = |k: &str| v.fields[k].clone();
        let s = skeyid_psk(v.hash, &f("pre-shared-key"), &f("Ni"), &f("Nr"));
        check(v, s.as_slice());
    }
    assert_eq!(vs.iter().filter(|v| v.hash == HashAlg::Sha256).count(), 6);
}

#[test]
fn nist_cavp_ikev1_signatures() {
    let vs = read_fax("ikev1_dsa.subset.fax");
    assert_eq!(vs.len(), 15);
    for v in &vs {
        let f = |k: &str| v.fields[k].clone();
        let s = skeyid_signature(v.hash, &f("Ni"), &f("Nr"), &f("g^xy"));
        check(v, s.as_slice());
    }
}

#[test]
fn modp_primes_are_the_rfc_primes() {
    let t = testkit::vectors::load("modp-groups.toml");
    for (name, g) in [
        ("group1", DhGroup::Modp768),
        ("group2", DhGroup::Modp1024),
        ("group5", DhGroup::Modp1536),
        ("group14", DhGroup::Modp2048),
    ] {
        let e = t[name].as_table().unwrap();
        assert_eq!(e["ike_group"].as_integer(), Some(i64::from(g.ike_value())));
        assert_eq!(e["generator"].as_integer(), Some(2));
        assert_eq!(
            hex::decode(e["prime"].as_str().unwrap()),
            hex::decode(g.prime_hex()),
            "{name}"
        );
        assert_eq!(
            i64::try_from(g.public_len() * 8).unwrap(),
            e["bits"].as_integer().unwrap()
        );
    }
}
