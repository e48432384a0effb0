//! RSA-signature Main Mode (RFC 2409 §5.1) between our initiator and our
//! responder with the test PKI of `testdata/ike-core/certs/`: a good chain,
//! and each refusal with its own reason and Notify; a 4 KiB chain sent in
//! fragments with one fragment lost. Not built with `capacity-psk`, which
//! holds no certificates.
#![cfg(not(feature = "capacity-psk"))]

mod common;

use common::{Faults, I, PSK, R, Sim, assert_same_keys, esp, initiator_config, responder_config};
use ike_core::cert::{CertError, Certificate, ValidityCheck};
use ike_core::config::{
    Authentication, EspEncryption, EspIntegrity, IkeProposal, Mode, TransformSet,
};
use ike_core::crypto::{CipherAlg, DhGroup, HashAlg, RsaPrivateKey};
use ike_core::wire::{Header, IdType, NotifyRepr, NotifyType, PayloadIter, PayloadType};
use ike_core::{Config, Event, FailReason, proposals};
use std::time::Duration;

fn file(name: &str) -> Vec<u8> {
    std::fs::read(testkit::testdata(&format!("ike-core/certs/{name}"))).unwrap()
}

/// 2027-01-01T00:00:00Z.
const UNIX_NOW: u64 = 1_798_761_600;

fn rsa(group: DhGroup) -> IkeProposal {
    IkeProposal {
        encryption: CipherAlg::Aes256,
        hash: HashAlg::Sha256,
        authentication: Authentication::RsaSig,
        group,
        lifetime_seconds: 28_800,
    }
}

fn transform() -> TransformSet {
    TransformSet {
        encryption: EspEncryption::AesCbc { key_bits: 256 },
        integrity: EspIntegrity::HmacSha1,
        mode: Mode::Transport,
    }
}

fn lns(cert: &str, key: &str, anchors: &[&str]) -> Config {
    let mut c = responder_config(
        &[rsa(DhGroup::Modp2048), rsa(DhGroup::Ecp256)],
        &[transform()],
    );
    c.pre_shared_keys.default_remote_access = None;
    c.credentials.set_own(&file(cert), &file(key)).unwrap();
    for a in anchors {
        c.credentials.add_trust_anchor(&file(a)).unwrap();
    }
    c
}

fn client(cert: &str, key: &str, anchors: &[&str], group: DhGroup) -> Config {
    let e = esp(
        EspEncryption::AesCbc { key_bits: 256 },
        EspIntegrity::HmacSha1,
    );
    let mut c = initiator_config(proposals::single(rsa(group), e), PSK);
    c.pre_shared_keys.default_remote_access = None;
    c.credentials.set_own(&file(cert), &file(key)).unwrap();
    for a in anchors {
        c.credentials.add_trust_anchor(&file(a)).unwrap();
    }
    c
}

fn sim(lns: Config, client: Config, faults: Faults, seed: u64) -> Sim {
    let mut sim = Sim::pair(client, lns, true, faults, seed);
    let now = sim.now;
    for n in &mut sim.nodes {
        n.ep.set_wall_clock(now, UNIX_NOW);
    }
    sim
}

fn failed(sim: &Sim, node: usize) -> Vec<FailReason> {
    sim.events(node)
        .iter()
        .filter_map(|e| match e {
            Event::Phase1Failed { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect()
}

/// The Notify types of unprotected Informationals delivered to `node`.
fn clear_notifies(sim: &Sim, node: usize) -> Vec<NotifyType> {
    sim.delivered
        .iter()
        .filter(|(to, ..)| *to == node)
        .filter_map(|(_, _, _, m)| {
            let h = Header::new_checked(&m[..]).ok()?;
            if h.exchange_type() != ike_core::wire::ExchangeType::Informational
                || h.flags().encryption()
            {
                return None;
            }
            let p = PayloadIter::new(h.next_payload().into(), h.payload())
                .next()?
                .ok()?;
            (p.kind == PayloadType::Notification)
                .then(|| NotifyRepr::parse(p.body).ok().map(|n| n.notify_type))
                .flatten()
        })
        .collect()
}

#[test]
fn good_chain_both_ways_with_loss_and_nat_in_groups_14_and_19() {
    for (k, g) in [DhGroup::Modp2048, DhGroup::Ecp256].into_iter().enumerate() {
        let mut sim = sim(
            lns("lns.der", "lns.key", &["ca.der"]),
            client("client1.der", "client1.key", &["ca.der"], g),
            Faults::LOSSY,
            100 + k as u64,
        );
        sim.connect(I);
        sim.run_for(Duration::from_secs(120));
        let (ic, rc) = (sim.children(I), sim.children(R));
        assert_eq!((ic.len(), rc.len()), (1, 1), "{:?}", sim.events(R));
        assert_same_keys(&ic[0], &rc[0]);
        let info = sim
            .events(R)
            .iter()
            .find_map(|e| match e {
                Event::Phase1Established { info, .. } => Some(info.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(info.authentication, Authentication::RsaSig);
        assert_eq!(info.group, g);
        // The LNS knows the client by its certificate's subject DN.
        let cert = file("client1.der");
        let subject = Certificate::parse(&cert).unwrap().subject().to_vec();
        let id = info.peer_id.unwrap();
        assert_eq!(id.id_type, u8::from(IdType::DerAsn1Dn));
        assert_eq!(id.data(), &subject[..]);
    }
}

/// client1's subject, `CN=client1, O=Example`, as OpenSSL wrote it in
/// the certificate: UTF8String values.
const CLIENT1_SUBJECT_UTF8: &[u8] = &[
    0x30, 0x24, //
    0x31, 0x10, 0x30, 0x0e, 0x06, 0x03, 0x55, 0x04, 0x03, //
    0x0c, 0x07, b'c', b'l', b'i', b'e', b'n', b't', b'1', //
    0x31, 0x10, 0x30, 0x0e, 0x06, 0x03, 0x55, 0x04, 0x0a, //
    0x0c, 0x07, b'E', b'x', b'a', b'm', b'p', b'l', b'e',
];

/// `dn` with its UTF8String (0x0c) values re-encoded as PrintableString
/// (0x13), as strongSwan's charon does with a DN given as a string.
fn printable(dn: &[u8]) -> Vec<u8> {
    let mut out = dn.to_vec();
    for at in [11, 29] {
        assert_eq!(out[at], 0x0c);
        out[at] = 0x13;
    }
    out
}

/// The interop finding: the client's ID payload carries its subject DN
/// re-encoded with PrintableString values (and, second, in other case and
/// with extra spaces); the LNS compares names by RFC 5280 §7.1, not byte
/// for byte, and authenticates it. The LNS reports the ID as received.
#[test]
fn a_dn_id_in_printable_string_matches_the_utf8_string_subject() {
    let cert = file("client1.der");
    let subject = Certificate::parse(&cert).unwrap().subject().to_vec();
    assert_eq!(subject, CLIENT1_SUBJECT_UTF8);
    let same_name = printable(CLIENT1_SUBJECT_UTF8);
    // CN=" CLIENT1", O="example  " in PrintableString.
    let mut other_case: Vec<u8> = vec![0x30, 0x27];
    other_case.extend([
        0x31, 0x11, 0x30, 0x0f, 0x06, 0x03, 0x55, 0x04, 0x03, 0x13, 0x08,
    ]);
    other_case.extend(b" CLIENT1");
    other_case.extend([
        0x31, 0x12, 0x30, 0x10, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x13, 0x09,
    ]);
    other_case.extend(b"example  ");
    for (k, id) in [same_name, other_case].into_iter().enumerate() {
        assert_ne!(id, subject);
        let mut c = client("client1.der", "client1.key", &["ca.der"], DhGroup::Modp2048);
        c.credentials.identity = Some((IdType::DerAsn1Dn, heapless::Vec::from_slice(&id).unwrap()));
        let mut sim = sim(
            lns("lns.der", "lns.key", &["ca.der"]),
            c,
            Faults::LOSSY,
            150 + k as u64,
        );
        sim.connect(I);
        sim.run_for(Duration::from_secs(120));
        assert_eq!(failed(&sim, R), vec![], "{k}");
        let (ic, rc) = (sim.children(I), sim.children(R));
        assert_eq!((ic.len(), rc.len()), (1, 1), "{k}: {:?}", sim.events(R));
        assert_same_keys(&ic[0], &rc[0]);
        let peer = sim
            .events(R)
            .iter()
            .find_map(|e| match e {
                Event::Phase1Established { info, .. } => info.peer_id.clone(),
                _ => None,
            })
            .unwrap();
        assert_eq!(peer.id_type, u8::from(IdType::DerAsn1Dn));
        assert_eq!(peer.data(), &id[..], "{k}");
    }
}

/// Each refusal by the LNS: its own FailReason, its own Notify.
#[test]
fn the_lns_refuses_bad_client_certificates_each_with_its_reason_and_notify() {
    let cases: Vec<(&str, Config, CertErrorOrSig, NotifyType)> = vec![
        (
            "expired",
            client(
                "client1-expired.der",
                "client1.key",
                &["ca.der"],
                DhGroup::Modp2048,
            ),
            CertErrorOrSig::Cert(CertError::Expired),
            NotifyType::InvalidCertificate,
        ),
        (
            "not yet valid",
            client(
                "client1-future.der",
                "client1.key",
                &["ca.der"],
                DhGroup::Modp2048,
            ),
            CertErrorOrSig::Cert(CertError::NotYetValid),
            NotifyType::InvalidCertificate,
        ),
        (
            "unknown CA",
            client(
                "client-other.der",
                "client-other.key",
                &["ca.der"],
                DhGroup::Modp2048,
            ),
            CertErrorOrSig::Cert(CertError::UnknownCa),
            NotifyType::InvalidCertAuthority,
        ),
        (
            "mismatched ID",
            {
                let mut c = client("client1.der", "client1.key", &["ca.der"], DhGroup::Modp2048);
                c.credentials.identity = Some((
                    IdType::Fqdn,
                    heapless::Vec::from_slice(b"lns.example").unwrap(),
                ));
                c
            },
            CertErrorOrSig::Cert(CertError::IdMismatch),
            NotifyType::InvalidIdInformation,
        ),
        (
            "another DN in PrintableString",
            {
                // CN=client2, O=Example: same encoding trick, other name.
                let mut id = printable(CLIENT1_SUBJECT_UTF8);
                id[19] = b'2';
                let mut c = client("client1.der", "client1.key", &["ca.der"], DhGroup::Modp2048);
                c.credentials.identity =
                    Some((IdType::DerAsn1Dn, heapless::Vec::from_slice(&id).unwrap()));
                c
            },
            CertErrorOrSig::Cert(CertError::IdMismatch),
            NotifyType::InvalidIdInformation,
        ),
        (
            "the DN's RDNs in the other order",
            {
                // O=Example, CN=client1: the same RDNs, reversed.
                let p = printable(CLIENT1_SUBJECT_UTF8);
                let mut id = p[..2].to_vec();
                id.extend(&p[20..]);
                id.extend(&p[2..20]);
                let mut c = client("client1.der", "client1.key", &["ca.der"], DhGroup::Modp2048);
                c.credentials.identity =
                    Some((IdType::DerAsn1Dn, heapless::Vec::from_slice(&id).unwrap()));
                c
            },
            CertErrorOrSig::Cert(CertError::IdMismatch),
            NotifyType::InvalidIdInformation,
        ),
        (
            "tampered signature",
            {
                // The client signs with a key that is not its certificate's.
                let mut c = client("client1.der", "client1.key", &["ca.der"], DhGroup::Modp2048);
                c.credentials.private_key =
                    Some(RsaPrivateKey::from_der(&file("client-other.key")).unwrap());
                c
            },
            CertErrorOrSig::Sig,
            NotifyType::InvalidSignature,
        ),
    ];
    for (k, (what, client, want, notify)) in cases.into_iter().enumerate() {
        let mut sim = sim(
            lns("lns.der", "lns.key", &["ca.der"]),
            client,
            Faults::NONE,
            200 + k as u64,
        );
        sim.connect(I);
        sim.run_for(Duration::from_secs(5));
        let reasons = failed(&sim, R);
        let expected = match want {
            CertErrorOrSig::Cert(e) => FailReason::Certificate(e),
            CertErrorOrSig::Sig => FailReason::InvalidSignature,
        };
        assert_eq!(reasons, vec![expected], "{what}");
        // The refusal, then INVALID-COOKIE for the client's retransmission
        // of message 5 to an SA that is gone.
        let n = clear_notifies(&sim, I);
        assert_eq!(n[0], notify, "{what}");
        assert!(
            n[1..].iter().all(|t| *t == NotifyType::InvalidCookie),
            "{what}: {n:?}"
        );
        assert_eq!(sim.children(R).len(), 0, "{what}");
        assert_eq!(sim.nodes[R].ep.sa_handles().count(), 0, "{what}");
        assert_eq!(
            sim.nodes[R].ep.counters().authentication_failures,
            1,
            "{what}"
        );
    }
}

#[derive(Debug, Clone, Copy)]
enum CertErrorOrSig {
    Cert(CertError),
    Sig,
}

#[test]
fn the_client_refuses_an_lns_it_cannot_chain_and_validity_needs_a_clock() {
    // The LNS's certificate comes from a CA the client does not trust.
    let mut sim = sim(
        lns("client-other.der", "client-other.key", &["ca.der"]),
        client("client1.der", "client1.key", &["ca.der"], DhGroup::Modp2048),
        Faults::NONE,
        300,
    );
    sim.connect(I);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(
        failed(&sim, I),
        vec![FailReason::Certificate(CertError::UnknownCa)]
    );

    // No wall clock on the LNS: nothing can be checked, nothing accepted.
    let mut sim = Sim::pair(
        client("client1.der", "client1.key", &["ca.der"], DhGroup::Modp2048),
        lns("lns.der", "lns.key", &["ca.der"]),
        false,
        Faults::NONE,
        301,
    );
    sim.connect(I);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(
        failed(&sim, R),
        vec![FailReason::Certificate(CertError::NoClock)]
    );

    // A device configured without a clock accepts an expired certificate
    // (and says so in its configuration).
    let mut l = lns("lns.der", "lns.key", &["ca.der"]);
    l.credentials.validity = ValidityCheck::NoClock;
    let mut c = client(
        "client1-expired.der",
        "client1.key",
        &["ca.der"],
        DhGroup::Modp2048,
    );
    c.credentials.validity = ValidityCheck::NoClock;
    let mut sim = Sim::pair(c, l, false, Faults::NONE, 302);
    sim.connect(I);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.children(R).len(), 1);
}

/// A 4 KiB chain (three 4096-bit certificates) in message 5: sent in
/// fragments because the LNS announced fragmentation; the second fragment
/// is lost once; the retransmission completes the message.
#[test]
fn a_4k_chain_is_fragmented_and_survives_a_lost_fragment() {
    let chain = file("big-chain.der");
    assert!(chain.len() >= 4000);
    let mut sim = sim(
        lns("lns.der", "lns.key", &["ca.der", "big-root.der"]),
        client(
            "big-chain.der",
            "big-client.key",
            &["ca.der"],
            DhGroup::Modp2048,
        ),
        Faults::NONE,
        400,
    );
    let mut dropped = 0;
    sim.drop_rule = Some(Box::new(move |from, data: &[u8]| {
        let at = if data.len() > 4 && data[..4] == [0; 4] {
            4
        } else {
            0
        };
        let frag = from == I
            && data.len() > at + 36
            && data[at + 16] == u8::from(PayloadType::Fragment)
            && data[at + 34] == 2;
        if frag && dropped == 0 {
            dropped += 1;
            return true;
        }
        false
    }));
    sim.connect(I);
    sim.run_for(Duration::from_secs(30));
    let (ic, rc) = (sim.children(I), sim.children(R));
    assert_eq!((ic.len(), rc.len()), (1, 1), "{:?}", sim.events(R));
    assert_same_keys(&ic[0], &rc[0]);
    let i = sim.nodes[I].ep.counters();
    let r = sim.nodes[R].ep.counters();
    // 4 fragments, lost one, resent all 4.
    assert_eq!(i.fragments_sent, 8, "{i:?}");
    assert_eq!(r.fragments_received, 7, "{r:?}");
    assert_eq!(r.messages_reassembled, 1);
    assert!(i.retransmissions >= 1);
    let big = file("big-client.der");
    let subject = Certificate::parse(&big).unwrap().subject().to_vec();
    let id = sim
        .events(R)
        .iter()
        .find_map(|e| match e {
            Event::Phase1Established { info, .. } => info.peer_id.clone(),
            _ => None,
        })
        .unwrap();
    assert_eq!(id.data().len(), 128.min(subject.len()));
}
