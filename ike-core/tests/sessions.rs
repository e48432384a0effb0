//! The five real L2TP/IPsec sessions of `testdata/l2tp-ipsec/` (strongSwan
//! at both ends, Main Mode + Quick Mode with NAT-T): from the pre-shared
//! key and the recorded packets, every key of `keys.txt` is derived byte
//! for byte (g^xy is taken from keys.txt, the one value the packets cannot
//! give), messages 5 and 6, the Quick Mode and the Deletes are decrypted,
//! their hashes verified and their payloads parsed.

use ike_core::config::{EspEncryption, EspIntegrity};
use ike_core::crypto::{
    CipherAlg, HashAlg, Phase1Keys, Secret, hash_1, hash_2, hash_3, hash_i, hash_r,
    informational_hash, keymat, nat_d, phase1_iv, phase2_iv, skeyid_psk,
};
use ike_core::policy::{parse_esp_transform, parse_ike_transform};
use ike_core::wire::{
    DeleteRepr, EncapsulationMode, ExchangeType, Header, HeaderRepr, IdRepr, IdType, NatOaRepr,
    Payload, PayloadIter, PayloadType, ProtocolId, SaRepr,
};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use testkit::hex;
use testkit::l2tp_ipsec::{Capture, IkeMessage, Session, sessions};

struct Msg {
    hdr: HeaderRepr,
    bytes: Vec<u8>,
    from_initiator: bool,
}

fn payloads(first: PayloadType, body: &[u8]) -> Vec<Payload<'_>> {
    PayloadIter::new(first, body)
        .map(|p| p.expect("payload chain"))
        .collect()
}

fn find<'a>(ps: &'a [Payload<'a>], kind: PayloadType) -> &'a Payload<'a> {
    ps.iter()
        .find(|p| p.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?}"))
}

fn messages(s: &Session, capture: Capture) -> Vec<Msg> {
    let mut out: Vec<Msg> = Vec::new();
    for m in s.ike_messages(capture) {
        let IkeMessage {
            from_initiator,
            bytes,
            ..
        } = m;
        let hdr = HeaderRepr::parse(&Header::new_checked(&bytes[..]).unwrap()).unwrap();
        // Drop retransmissions: identical bytes seen before.
        if out.iter().any(|o| o.bytes == bytes) {
            continue;
        }
        out.push(Msg {
            hdr,
            bytes,
            from_initiator,
        });
    }
    out
}

fn iv_chain(s: &Session) -> Vec<(u32, Vec<u8>)> {
    s.table()["ike_iv_chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let e = e.as_array().unwrap();
            (
                e[0].as_str().unwrap().parse().unwrap(),
                hex::decode(e[1].as_str().unwrap()),
            )
        })
        .collect()
}

fn iv_of(v: &[u8]) -> Secret<16> {
    Secret::from_slice(v).unwrap()
}

/// Decrypts in place from `iv`; returns the last ciphertext block.
fn decrypt(cipher: CipherAlg, ka: &[u8], iv: &[u8], msg: &mut [u8]) -> Vec<u8> {
    let mut iv = iv.to_vec();
    assert!(cipher.decrypt(ka, &mut iv, &mut msg[28..]));
    iv
}

fn check_session(s: &Session, capture: Capture) {
    let what = format!("session {} {:?}", s.id, capture);
    let msgs = messages(s, capture);
    let mm: Vec<&Msg> = msgs
        .iter()
        .filter(|m| m.hdr.exchange_type == ExchangeType::IdentityProtection)
        .collect();
    assert_eq!(mm.len(), 6, "{what}: six Main Mode messages");
    let cky_i = mm[0].hdr.initiator_cookie;
    let cky_r = mm[1].hdr.responder_cookie;
    assert_eq!(
        hex::encode(&cky_i),
        s.value("ike_initiator_cookie"),
        "{what}"
    );
    assert_eq!(
        hex::encode(&cky_r),
        s.value("ike_responder_cookie"),
        "{what}"
    );

    // Message 1: the initiator's SA; SAi_b for the hashes.
    let m1 = payloads(mm[0].hdr.next_payload, &mm[0].bytes[28..]);
    let sai_b = find(&m1, PayloadType::Sa).body.to_vec();
    // Message 2: the chosen transform decides the algorithms.
    let m2 = payloads(mm[1].hdr.next_payload, &mm[1].bytes[28..]);
    let sa2 = SaRepr::parse(find(&m2, PayloadType::Sa).body).unwrap();
    let chosen = sa2
        .proposals
        .clone()
        .next()
        .unwrap()
        .unwrap()
        .transforms
        .clone()
        .next()
        .unwrap()
        .unwrap();
    let offer = parse_ike_transform(&chosen).expect("chosen transform decodes");
    let h = offer.hash;
    let cipher = offer.cipher;
    assert_eq!(h, HashAlg::Sha1, "{what}");
    // Messages 3 and 4: KE, nonces, NAT-D.
    let m3 = payloads(mm[2].hdr.next_payload, &mm[2].bytes[28..]);
    let m4 = payloads(mm[3].hdr.next_payload, &mm[3].bytes[28..]);
    let gxi = find(&m3, PayloadType::KeyExchange).body;
    let ni = find(&m3, PayloadType::Nonce).body;
    let gxr = find(&m4, PayloadType::KeyExchange).body;
    let nr = find(&m4, PayloadType::Nonce).body;
    assert_eq!(gxi.len(), offer.group.public_len(), "{what}");

    // SKEYID chain (RFC 2409 §5) and Ka (Appendix B).
    let skeyid = skeyid_psk(h, s.psk().as_bytes(), ni, nr);
    assert_eq!(skeyid.as_slice(), s.key("skeyid"), "{what}: SKEYID");
    let gxy = s.key("dh_shared_secret_gxy");
    let keys = Phase1Keys::derive(h, skeyid.as_slice(), &gxy, &cky_i, &cky_r, cipher);
    assert_eq!(
        keys.skeyid_d.as_slice(),
        s.key("skeyid_d"),
        "{what}: SKEYID_d"
    );
    assert_eq!(
        keys.skeyid_a.as_slice(),
        s.key("skeyid_a"),
        "{what}: SKEYID_a"
    );
    assert_eq!(
        keys.skeyid_e.as_slice(),
        s.key("skeyid_e"),
        "{what}: SKEYID_e"
    );
    assert_eq!(
        keys.ka.as_slice(),
        s.key("ike_encryption_key_ka"),
        "{what}: Ka"
    );
    let bl = cipher.block_len();
    let iv0 = phase1_iv(h, gxi, gxr, bl);
    assert_eq!(iv0.as_slice(), s.key("ike_initial_iv"), "{what}: IV");

    // NAT-D (RFC 3947 §3.2): on the LNS's NIC the peers are 10.0.2.2
    // (the client behind slirp's NAT) and 10.0.2.15:4500 or :500.
    if capture == Capture::LnsNic {
        let natd: Vec<&[u8]> = m4
            .iter()
            .filter(|p| p.kind == PayloadType::NatD)
            .map(|p| p.body)
            .collect();
        assert_eq!(natd.len(), 2, "{what}");
        let lns_port = if s.id == 'e' { 500 } else { 4500 };
        let lns = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 2, 15)), lns_port);
        // The LNS's second NAT-D is its own address as it sees it.
        assert_eq!(
            nat_d(h, &cky_i, &cky_r, lns).as_slice(),
            natd[1],
            "{what}: NAT-D"
        );
    }

    let chain = iv_chain(s);
    // Message 5: IDii, HASH_I.
    let mut m5 = mm[4].bytes.clone();
    assert!(mm[4].hdr.flags.encryption());
    let after5 = decrypt(cipher, keys.ka.as_slice(), iv0.as_slice(), &mut m5);
    assert_eq!(
        (chain[0].0, &after5),
        (0, &chain[0].1),
        "{what}: IV after MM5"
    );
    let p5 = payloads(mm[4].hdr.next_payload, &m5[28..]);
    let idii = find(&p5, PayloadType::Identification).body;
    let id = IdRepr::parse(idii).unwrap();
    assert_eq!(id.id_type, IdType::Ipv4Addr, "{what}");
    let hi = hash_i(h, skeyid.as_slice(), gxi, gxr, &cky_i, &cky_r, &sai_b, idii);
    assert_eq!(hi.as_slice(), s.key("hash_i"), "{what}: HASH_I");
    assert_eq!(
        find(&p5, PayloadType::Hash).body,
        hi.as_slice(),
        "{what}: HASH_I in MM5"
    );
    // Message 6: IDir, HASH_R.
    let mut m6 = mm[5].bytes.clone();
    let after6 = decrypt(cipher, keys.ka.as_slice(), &after5, &mut m6);
    assert_eq!(
        (chain[1].0, &after6),
        (0, &chain[1].1),
        "{what}: IV after MM6"
    );
    let p6 = payloads(mm[5].hdr.next_payload, &m6[28..]);
    let idir = find(&p6, PayloadType::Identification).body;
    let hr = hash_r(h, skeyid.as_slice(), gxi, gxr, &cky_i, &cky_r, &sai_b, idir);
    assert_eq!(hr.as_slice(), s.key("hash_r"), "{what}: HASH_R");
    assert_eq!(
        find(&p6, PayloadType::Hash).body,
        hr.as_slice(),
        "{what}: HASH_R in MM6"
    );
    let last_block = after6;

    // Quick Mode.
    let qm: Vec<&Msg> = msgs
        .iter()
        .filter(|m| m.hdr.exchange_type == ExchangeType::QuickMode)
        .collect();
    assert_eq!(qm.len(), 3, "{what}: three Quick Mode messages");
    let mid = qm[0].hdr.message_id;
    let qiv = phase2_iv(h, &last_block, mid, bl);
    let qchain: Vec<&Vec<u8>> = chain
        .iter()
        .filter(|(m, _)| *m == mid)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(qchain.len(), 4, "{what}");
    assert_eq!(qiv.as_slice(), &qchain[0][..], "{what}: Quick Mode IV");
    let mut q1 = qm[0].bytes.clone();
    let a1 = decrypt(cipher, keys.ka.as_slice(), qiv.as_slice(), &mut q1);
    assert_eq!(&a1, qchain[1], "{what}: IV after QM1");
    let p1 = payloads(qm[0].hdr.next_payload, &q1[28..]);
    let end1 = p1.last().unwrap().end();
    assert_eq!(p1[0].kind, PayloadType::Hash);
    assert_eq!(
        hash_1(
            h,
            keys.skeyid_a.as_slice(),
            mid,
            &q1[28 + p1[0].end()..28 + end1]
        )
        .as_slice(),
        p1[0].body,
        "{what}: HASH(1)"
    );
    let ni_q = find(&p1, PayloadType::Nonce).body.to_vec();
    let sa_q1 = SaRepr::parse(find(&p1, PayloadType::Sa).body).unwrap();
    let prop1 = sa_q1.proposals.clone().next().unwrap().unwrap();
    assert_eq!(prop1.protocol, ProtocolId::Esp);
    let client_spi = u32::from_be_bytes(prop1.spi.try_into().unwrap());
    let ids: Vec<IdRepr<'_>> = p1
        .iter()
        .filter(|p| p.kind == PayloadType::Identification)
        .map(|p| IdRepr::parse(p.body).unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{what}: IDci, IDcr");
    for id in &ids {
        assert_eq!((id.protocol, id.port), (17, 1701), "{what}: L2TP selector");
    }
    let oas: Vec<NatOaRepr> = p1
        .iter()
        .filter(|p| p.kind == PayloadType::NatOa)
        .map(|p| NatOaRepr::parse(p.body).unwrap())
        .collect();
    assert_eq!(oas.len(), 2, "{what}: NAT-OAi, NAT-OAr");

    let mut q2 = qm[1].bytes.clone();
    let a2 = decrypt(cipher, keys.ka.as_slice(), &a1, &mut q2);
    assert_eq!(&a2, qchain[2], "{what}: IV after QM2");
    let p2 = payloads(qm[1].hdr.next_payload, &q2[28..]);
    let end2 = p2.last().unwrap().end();
    assert_eq!(
        hash_2(
            h,
            keys.skeyid_a.as_slice(),
            mid,
            &ni_q,
            &q2[28 + p2[0].end()..28 + end2]
        )
        .as_slice(),
        p2[0].body,
        "{what}: HASH(2)"
    );
    let nr_q = find(&p2, PayloadType::Nonce).body.to_vec();
    let sa_q2 = SaRepr::parse(find(&p2, PayloadType::Sa).body).unwrap();
    let prop2 = sa_q2.proposals.clone().next().unwrap().unwrap();
    let server_spi = u32::from_be_bytes(prop2.spi.try_into().unwrap());
    let t2 = prop2.transforms.clone().next().unwrap().unwrap();
    let esp = parse_esp_transform(&t2).expect("chosen ESP transform");
    assert_eq!(
        esp.encapsulation,
        EncapsulationMode::UdpTransport,
        "{what}: mode 4"
    );
    assert_eq!(esp.integrity, EspIntegrity::HmacSha1);

    let mut q3 = qm[2].bytes.clone();
    let a3 = decrypt(cipher, keys.ka.as_slice(), &a2, &mut q3);
    assert_eq!(&a3, qchain[3], "{what}: IV after QM3");
    let p3 = payloads(qm[2].hdr.next_payload, &q3[28..]);
    assert_eq!(p3.len(), 1);
    assert_eq!(
        hash_3(h, keys.skeyid_a.as_slice(), mid, &ni_q, &nr_q).as_slice(),
        p3[0].body,
        "{what}: HASH(3)"
    );

    // KEYMAT (RFC 2409 §5.5), both directions, no PFS: the SA the server
    // chose the SPI of carries client-to-server traffic.
    let (enc_len, expected_enc) = match esp.encryption {
        EspEncryption::TripleDes => (24, "3DES-CBC-192"),
        EspEncryption::AesCbc { key_bits } => (usize::from(key_bits) / 8, ""),
        other => panic!("{other:?}"),
    };
    let _ = expected_enc;
    for sa in &s.esp {
        let (spi, expect_spi) = if sa.client_to_server {
            (server_spi, sa.spi)
        } else {
            (client_spi, sa.spi)
        };
        assert_eq!(spi, expect_spi, "{what}: SPI");
        let km = keymat(
            h,
            keys.skeyid_d.as_slice(),
            None,
            3,
            &spi.to_be_bytes(),
            &ni_q,
            &nr_q,
            enc_len + 20,
        );
        assert_eq!(
            &km.as_slice()[..enc_len],
            &sa.encryption_key[..],
            "{what}: ESP encryption key {spi:#x}"
        );
        assert_eq!(
            &km.as_slice()[enc_len..],
            &sa.integrity_key[..],
            "{what}: ESP integrity key {spi:#x}"
        );
    }
    assert_eq!(
        hex::encode(
            keymat(
                h,
                keys.skeyid_d.as_slice(),
                None,
                3,
                &server_spi.to_be_bytes(),
                &ni_q,
                &nr_q,
                enc_len
            )
            .as_slice()
        ),
        s.value("qm_encryption_initiator_key"),
        "{what}"
    );

    // The Deletes: ESP SA, then the ISAKMP SA.
    let infos: Vec<&Msg> = msgs
        .iter()
        .filter(|m| m.hdr.exchange_type == ExchangeType::Informational)
        .collect();
    assert!(infos.len() >= 2, "{what}: the two Deletes");
    let mut deleted = Vec::new();
    for info in infos {
        assert!(info.from_initiator, "{what}: the client deletes");
        let mid = info.hdr.message_id;
        let iv = phase2_iv(h, &last_block, mid, bl);
        let logged: Vec<&Vec<u8>> = chain
            .iter()
            .filter(|(m, _)| *m == mid)
            .map(|(_, v)| v)
            .collect();
        assert_eq!(
            logged,
            vec![&iv.as_slice().to_vec()],
            "{what}: Informational IV"
        );
        let mut b = info.bytes.clone();
        decrypt(cipher, keys.ka.as_slice(), iv.as_slice(), &mut b);
        let p = payloads(info.hdr.next_payload, &b[28..]);
        let end = p.last().unwrap().end();
        assert_eq!(
            informational_hash(
                h,
                keys.skeyid_a.as_slice(),
                mid,
                &b[28 + p[0].end()..28 + end]
            )
            .as_slice(),
            p[0].body,
            "{what}: Informational HASH(1)"
        );
        let d = DeleteRepr::parse(find(&p, PayloadType::Delete).body).unwrap();
        deleted.push((d.protocol, d.spis.map(<[u8]>::to_vec).collect::<Vec<_>>()));
    }
    assert_eq!(
        deleted[0],
        (ProtocolId::Esp, vec![client_spi.to_be_bytes().to_vec()]),
        "{what}"
    );
    let mut pair = cky_i.to_vec();
    pair.extend_from_slice(&cky_r);
    assert_eq!(deleted[1], (ProtocolId::Isakmp, vec![pair]), "{what}");
    let _ = iv_of;
}

#[test]
fn every_session_every_key_and_message() {
    let all = sessions();
    assert_eq!(all.len(), 5);
    for s in &all {
        for capture in [Capture::LnsNic, Capture::Loopback] {
            check_session(s, capture);
        }
    }
}
