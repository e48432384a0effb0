//! RSA and X.509 against OpenSSL: the test PKI of
//! `testdata/ike-core/certs/` (made by `ike-core/scripts/make-test-certs.sh`)
//! and OpenSSL's own PKCS#1 v1.5 signatures as known answers.

use ike_core::cert::{CertError, Certificate, Credentials, validate};
use ike_core::crypto::{RsaError, RsaPrivateKey, RsaPublicKey, digest_info};
use ike_core::wire::IdType;
use sha2::{Digest, Sha256};

fn file(name: &str) -> Vec<u8> {
    std::fs::read(testkit::testdata(&format!("ike-core/certs/{name}"))).unwrap()
}

/// 2027-01-01T00:00:00Z, inside every "long" validity period of the PKI.
const NOW: i64 = 1_798_761_600;

#[test]
fn crt_signatures_equal_openssls_at_2048_3072_4096_bits() {
    let msg = file("msg20.bin");
    for (k, bits) in [("lns", 2048), ("rsa3072", 3072), ("big-client", 4096)] {
        let key = RsaPrivateKey::from_der(&file(&format!("{k}.key"))).unwrap();
        assert_eq!(key.len() * 8, bits);
        let n = key.len();
        // IKE's SIG: EMSA-PKCS1-v1_5 without DigestInfo over HASH_I.
        let mut sig = vec![0u8; n];
        key.sign_pkcs1v15(&[], &msg, &mut sig).unwrap();
        assert_eq!(sig, file(&format!("{k}.sig-null.bin")), "{k}");
        assert!(key.public_key().verify_pkcs1v15(&[], &msg, &sig));
        // With the SHA-256 DigestInfo (certificates).
        let d = Sha256::digest(&msg);
        key.sign_pkcs1v15(digest_info::SHA256, &d, &mut sig)
            .unwrap();
        assert_eq!(sig, file(&format!("{k}.sig-sha256.bin")), "{k}");
        assert!(
            key.public_key()
                .verify_pkcs1v15(digest_info::SHA256, &d, &sig)
        );
        // Any flipped bit, the wrong padding or the wrong message fails.
        assert!(!key.public_key().verify_pkcs1v15(&[], &msg, &sig));
        let mut bad = sig.clone();
        bad[n / 2] ^= 0x10;
        assert!(
            !key.public_key()
                .verify_pkcs1v15(digest_info::SHA256, &d, &bad)
        );
        assert!(
            !key.public_key()
                .verify_pkcs1v15(digest_info::SHA256, &d, &sig[1..])
        );
        let mut above = vec![0xffu8; n];
        above[0] = 0xff;
        assert!(
            !key.public_key()
                .verify_pkcs1v15(digest_info::SHA256, &d, &above)
        );
        assert_eq!(
            key.sign_pkcs1v15(&[], &msg, &mut sig[1..]),
            Err(RsaError::BufferSize)
        );
    }
}

#[test]
fn keys_and_certificates_that_are_refused() {
    assert!(RsaPrivateKey::from_der(&[0x30, 0x00]).is_err());
    let k = file("lns.key");
    assert!(RsaPrivateKey::from_der(&k[..k.len() - 1]).is_err());
    // A 1024-bit modulus is below the 2048-bit floor.
    assert_eq!(
        RsaPublicKey::new(&[0xc5; 128], &[1, 0, 1]),
        Err(RsaError::UnsupportedKey)
    );
    assert_eq!(
        RsaPublicKey::new(&[0xc5; 256], &[2]),
        Err(RsaError::UnsupportedKey)
    );
    let c = file("lns.der");
    for cut in [0, 1, 10, c.len() / 2, c.len() - 1] {
        assert!(Certificate::parse(&c[..cut]).is_err(), "cut at {cut}");
    }
}

#[test]
fn certificate_fields() {
    let lns = file("lns.der");
    let ca = file("ca.der");
    let c = Certificate::parse(&lns).unwrap();
    let a = Certificate::parse(&ca).unwrap();
    assert_eq!(c.issuer(), a.subject());
    // 2025-01-01 .. 2045-01-01.
    assert_eq!(c.validity(), (1_735_689_600, 2_366_841_600));
    assert!(c.matches_id(IdType::Fqdn, b"LNS.example"));
    assert!(c.matches_id(IdType::Ipv4Addr, &[198, 51, 100, 1]));
    assert!(!c.matches_id(IdType::Ipv4Addr, &[198, 51, 100, 2]));
    assert!(c.matches_id(IdType::DerAsn1Dn, c.subject()));
    assert!(!c.matches_id(IdType::DerAsn1Dn, a.subject()));
    assert_eq!(c.public_key().len(), 256);
}

fn anchors(files: &[&str]) -> Vec<Vec<u8>> {
    files.iter().map(|f| file(f)).collect()
}

fn check(
    sent: &[&str],
    trusted: &[&str],
    id: (IdType, &[u8]),
    now: Option<i64>,
) -> Result<Vec<u8>, CertError> {
    let sent: Vec<Vec<u8>> = sent.iter().map(|f| file(f)).collect();
    let refs: Vec<&[u8]> = sent.iter().map(Vec::as_slice).collect();
    let trusted = anchors(trusted);
    let parsed: Vec<Certificate<'_>> = trusted
        .iter()
        .map(|d| Certificate::parse(d).unwrap())
        .collect();
    validate(&refs, &parsed, id.0, id.1, now).map(|c| c.subject().to_vec())
}

#[test]
fn chain_validation_cases() {
    let client = file("client1.der");
    let dn = Certificate::parse(&client).unwrap().subject().to_vec();
    let by_dn = (IdType::DerAsn1Dn, dn.as_slice());
    // Good.
    assert_eq!(
        check(&["client1.der"], &["ca.der"], by_dn, Some(NOW)),
        Ok(dn.clone())
    );
    assert!(
        check(
            &["client1.der"],
            &["ca.der"],
            (IdType::UserFqdn, b"client1@example.com"),
            Some(NOW)
        )
        .is_ok()
    );
    // Expired and not yet valid; the same without a clock is accepted.
    assert_eq!(
        check(&["client1-expired.der"], &["ca.der"], by_dn, Some(NOW)),
        Err(CertError::Expired)
    );
    assert_eq!(
        check(&["client1-future.der"], &["ca.der"], by_dn, Some(NOW)),
        Err(CertError::NotYetValid)
    );
    assert!(check(&["client1-expired.der"], &["ca.der"], by_dn, None).is_ok());
    // An unknown CA, with or without its certificate in the message.
    assert_eq!(
        check(&["client-other.der"], &["ca.der"], by_dn, Some(NOW)),
        Err(CertError::UnknownCa)
    );
    assert_eq!(
        check(
            &["client-other.der", "other-ca.der"],
            &["ca.der"],
            by_dn,
            Some(NOW)
        ),
        Err(CertError::UnknownCa)
    );
    // A wrong identity.
    assert_eq!(
        check(
            &["client1.der"],
            &["ca.der"],
            (IdType::Fqdn, b"lns.example"),
            Some(NOW)
        ),
        Err(CertError::IdMismatch)
    );
    // A tampered certificate: its CN changed after signing.
    let mut tampered = client.clone();
    let at = tampered.windows(7).position(|w| w == b"client1").unwrap();
    tampered[at + 6] = b'2';
    let t_dn = Certificate::parse(&tampered).unwrap().subject().to_vec();
    let ca = file("ca.der");
    let parsed = [Certificate::parse(&ca).unwrap()];
    assert_eq!(
        validate(&[&tampered], &parsed, IdType::DerAsn1Dn, &t_dn, Some(NOW)).err(),
        Some(CertError::BadCertificateSignature)
    );
    // The 4 KiB chain, sent in any order, up to its root.
    let big = file("big-client.der");
    let big_dn = Certificate::parse(&big).unwrap().subject().to_vec();
    for order in [
        ["big-client.der", "big-inter2.der", "big-inter1.der"],
        ["big-inter1.der", "big-client.der", "big-inter2.der"],
    ] {
        assert_eq!(
            check(
                &order,
                &["ca.der", "big-root.der"],
                (IdType::DerAsn1Dn, &big_dn),
                Some(NOW)
            ),
            Ok(big_dn.clone())
        );
    }
    // A missing intermediate breaks the chain; a leaf posing as a CA
    // (an end-entity certificate as issuer) is refused.
    assert_eq!(
        check(
            &["big-client.der", "big-inter2.der"],
            &["big-root.der"],
            (IdType::DerAsn1Dn, &big_dn),
            Some(NOW)
        ),
        Err(CertError::UnknownCa)
    );
    assert_eq!(
        check(&[], &["ca.der"], by_dn, Some(NOW)),
        Err(CertError::Missing)
    );
}

/// `capacity-psk` (the firmware's build) holds no credentials: setting any
/// is refused as too large, so `rsa-sig` policies are never chosen.
#[test]
#[cfg(feature = "capacity-psk")]
fn capacity_psk_holds_no_credentials() {
    let mut c = Credentials::default();
    assert!(c.set_own(&file("lns.der"), &file("lns.key")).is_err());
    assert!(c.add_trust_anchor(&file("ca.der")).is_err());
    assert!(!c.usable());
}

#[test]
#[cfg(not(feature = "capacity-psk"))]
fn credentials_check_the_key_against_the_certificate() {
    let mut c = Credentials::default();
    assert!(!c.usable());
    assert!(c.set_own(&file("lns.der"), &file("client1.key")).is_err());
    c.set_own(&file("lns.der"), &file("lns.key")).unwrap();
    c.add_trust_anchor(&file("ca.der")).unwrap();
    assert!(c.usable());
    assert_eq!(c.validity, ike_core::cert::ValidityCheck::WallClock);
    let mut big = Credentials::default();
    big.set_own(&file("big-chain.der"), &file("big-client.key"))
        .unwrap();
    assert_eq!(big.chain.len(), 4078);
}
