//! Real IKEv1 traffic through the codec and the responder:
//!
//! * every IKE message of every capture in `testdata/ike-core/` (Cisco,
//!   Openswan, FortiGate over IPv6, a NAT-T/DPD trace) and of the five
//!   L2TP/IPsec sessions walks through the codec, each payload parsed and
//!   re-emitted byte for byte;
//! * the responder answers real first messages as the real responders did
//!   (same chosen transform), refuses what it must, and answers the
//!   pre-RFC NAT-D payload 15 with INVALID-PAYLOAD-TYPE (RFC 2408 §5.1).

mod common;

use common::{Ep, ike, responder_config};
use ike_core::config::{EspEncryption, EspIntegrity, Mode, TransformSet};
use ike_core::crypto::{CipherAlg, DhGroup, HashAlg};
use ike_core::wire::{
    Attribute, AttributeIter, CertRepr, DeleteRepr, Header, HeaderRepr, IdRepr, NatOaRepr,
    NotifyRepr, NotifyType, Payload, PayloadIter, PayloadType, SaRepr, Writer,
    strip_non_esp_marker,
};
use ike_core::{Error, Event, policy::Rejection};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use testkit::l2tp_ipsec::{Capture, sessions};

/// A UDP datagram from a capture.
struct Udp {
    src: SocketAddr,
    dst: SocketAddr,
    payload: Vec<u8>,
}

fn ip_udp(packet: &[u8]) -> Option<Udp> {
    match packet.first()? >> 4 {
        4 => {
            let ihl = usize::from(packet[0] & 15) * 4;
            let total = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
            if packet[9] != 17 {
                return None;
            }
            let src = IpAddr::V4(Ipv4Addr::new(
                packet[12], packet[13], packet[14], packet[15],
            ));
            let dst = IpAddr::V4(Ipv4Addr::new(
                packet[16], packet[17], packet[18], packet[19],
            ));
            udp(src, dst, packet.get(ihl..total.min(packet.len()))?)
        }
        6 => {
            if packet[6] != 17 {
                return None;
            }
            let a: [u8; 16] = packet[8..24].try_into().ok()?;
            let b: [u8; 16] = packet[24..40].try_into().ok()?;
            udp(
                IpAddr::V6(Ipv6Addr::from(a)),
                IpAddr::V6(Ipv6Addr::from(b)),
                &packet[40..],
            )
        }
        _ => None,
    }
}

fn udp(src: IpAddr, dst: IpAddr, l4: &[u8]) -> Option<Udp> {
    let sp = u16::from_be_bytes([l4[0], l4[1]]);
    let dp = u16::from_be_bytes([l4[2], l4[3]]);
    let len = usize::from(u16::from_be_bytes([l4[4], l4[5]]));
    Some(Udp {
        src: SocketAddr::new(src, sp),
        dst: SocketAddr::new(dst, dp),
        payload: l4.get(8..len.min(l4.len()))?.to_vec(),
    })
}

fn frame_ip(link_type: u32, frame: &[u8]) -> Option<&[u8]> {
    match link_type {
        1 => {
            let mut et = u16::from_be_bytes([frame[12], frame[13]]);
            let mut off = 14;
            if et == 0x8100 {
                et = u16::from_be_bytes([frame[16], frame[17]]);
                off = 18;
            }
            matches!(et, 0x0800 | 0x86dd).then(|| &frame[off..])
        }
        0 => frame.get(4..),
        _ => None,
    }
}

/// Reads a classic pcap (through testkit) or a pcapng file (sections,
/// interface descriptions and enhanced packet blocks only).
fn read_udp(path: &Path) -> Vec<Udp> {
    let bytes = std::fs::read(path).unwrap();
    let mut frames: Vec<(u32, Vec<u8>)> = Vec::new();
    if bytes[..4] == [0x0a, 0x0d, 0x0d, 0x0a] {
        let mut off = 0;
        let mut links = Vec::new();
        while off + 12 <= bytes.len() {
            let kind = u32::from_le_bytes(bytes[off..off + 4].try_into().unwrap());
            let len = u32::from_le_bytes(bytes[off + 4..off + 8].try_into().unwrap()) as usize;
            let body = &bytes[off + 8..off + len - 4];
            match kind {
                1 => links.push(u32::from(u16::from_le_bytes([body[0], body[1]]))),
                6 => {
                    let iface = u32::from_le_bytes(body[..4].try_into().unwrap()) as usize;
                    let cap = u32::from_le_bytes(body[12..16].try_into().unwrap()) as usize;
                    frames.push((links[iface], body[20..20 + cap].to_vec()));
                }
                _ => {}
            }
            off += len;
        }
    } else {
        let c = testkit::pcap::read(path);
        frames = c
            .records
            .into_iter()
            .map(|r| (c.link_type, r.data))
            .collect();
    }
    frames
        .iter()
        .filter_map(|(lt, f)| frame_ip(*lt, f).and_then(ip_udp))
        .collect()
}

/// The IKE messages of a capture: UDP 500, or 4500 behind the marker.
fn ike_messages(path: &Path) -> Vec<(Udp, Vec<u8>)> {
    read_udp(path)
        .into_iter()
        .filter_map(|u| {
            let ports = [u.src.port(), u.dst.port()];
            if ports.contains(&500) {
                let p = u.payload.clone();
                Some((u, p))
            } else if ports.contains(&4500) {
                let mut p = u.payload.clone();
                let ike = strip_non_esp_marker(&mut p)?.to_vec();
                Some((u, ike))
            } else {
                None
            }
        })
        .collect()
}

#[derive(Default, Debug)]
struct Walk {
    messages: usize,
    encrypted: usize,
    payloads: usize,
    unknown: Vec<u8>,
}

fn reemit(body: &[u8], emit: impl FnOnce(&mut Writer<'_>)) {
    let mut out = vec![0u8; body.len()];
    let mut w = Writer::new(&mut out);
    emit(&mut w);
    assert_eq!(w.finish(), Ok(body.len()));
    assert_eq!(out, body, "re-emitted payload differs");
}

fn walk_payload(p: &Payload<'_>, w: &mut Walk) {
    w.payloads += 1;
    let b = p.body;
    match p.kind {
        PayloadType::Sa => {
            let sa = SaRepr::parse(b).unwrap();
            for prop in sa.proposals.clone() {
                let prop = prop.unwrap();
                for t in prop.transforms.clone() {
                    let t = t.unwrap();
                    let attrs: Vec<Attribute<'_>> =
                        t.attributes.clone().map(|a| a.unwrap()).collect();
                    let mut raw = vec![0u8; t.attributes.as_bytes().len()];
                    let mut wr = Writer::new(&mut raw);
                    for a in &attrs {
                        a.emit(&mut wr);
                    }
                    assert_eq!(wr.finish(), Ok(raw.len()));
                    assert_eq!(raw, t.attributes.as_bytes());
                    assert_eq!(AttributeIter::new(&raw).count(), attrs.len());
                }
            }
            reemit(b, |wr| sa.emit(wr));
        }
        PayloadType::Identification => {
            let id = IdRepr::parse(b).unwrap();
            reemit(b, |wr| id.emit(wr));
        }
        PayloadType::Certificate | PayloadType::CertificateRequest => {
            let c = CertRepr::parse(b).unwrap();
            reemit(b, |wr| c.emit(wr));
        }
        PayloadType::Notification => {
            let n = NotifyRepr::parse(b).unwrap();
            reemit(b, |wr| n.emit(wr));
        }
        PayloadType::Delete => {
            let d = DeleteRepr::parse(b).unwrap();
            reemit(b, |wr| d.emit(wr));
        }
        PayloadType::NatOa | PayloadType::NatOaDraft => {
            let o = NatOaRepr::parse(b).unwrap();
            reemit(b, |wr| o.emit(wr));
        }
        PayloadType::Unknown(n) => w.unknown.push(n),
        _ => {}
    }
}

fn walk_message(msg: &[u8], w: &mut Walk) {
    let h = Header::new_checked(msg).unwrap();
    let hdr = HeaderRepr::parse(&h).unwrap();
    w.messages += 1;
    if hdr.flags.encryption() {
        w.encrypted += 1;
        assert_eq!(h.payload().len() % 8, 0, "ciphertext is whole blocks");
        return;
    }
    let mut it = PayloadIter::new(hdr.next_payload, h.payload());
    for p in it.by_ref() {
        walk_payload(&p.unwrap(), w);
    }
    assert_eq!(
        it.position(),
        h.payload().len(),
        "no trailing bytes in a cleartext message"
    );
    let mut out = vec![0u8; 28];
    let mut wr = Writer::new(&mut out);
    hdr.emit(&mut wr);
    assert_eq!(wr.finish(), Ok(28));
    assert_eq!(&out[..], &msg[..28]);
}

fn testdata(name: &str) -> std::path::PathBuf {
    testkit::testdata(&format!("ike-core/{name}"))
}

#[test]
fn every_ikev1_capture_walks_through_the_codec() {
    let cases: [(&str, usize, usize, &[u8]); 5] = [
        ("ikev1-mm-qm-psk-aes128-modp1024-cisco.pcap", 9, 5, &[]),
        // NAT-D numbered 15 in messages 3 and 4: an unknown type, walked.
        (
            "ikev1-mm-qm-psk-aes128-modp768-cisco.pcap",
            9,
            5,
            &[15, 15, 15, 15],
        ),
        (
            "ikev1-natt-rsasig-3des-mm-qm-esp-openswan.pcap",
            15,
            11,
            &[],
        ),
        (
            "ikev1-ipv6-psk-aes256-sha512-ecp384-fortigate.pcap",
            13,
            8,
            &[],
        ),
        ("ipsec-natt-espinudp-dpd-l2tpvpn-trimmed.pcap", 4, 4, &[]),
    ];
    for (file, messages, encrypted, unknown) in cases {
        let mut w = Walk::default();
        for (_, m) in ike_messages(&testdata(file)) {
            walk_message(&m, &mut w);
        }
        assert_eq!(
            (w.messages, w.encrypted),
            (messages, encrypted),
            "{file}: {w:?}"
        );
        assert_eq!(w.unknown, unknown, "{file}");
        assert!(w.payloads > 0 || encrypted == messages, "{file}");
    }
    // The five generated sessions, both capture points.
    for s in sessions() {
        for capture in [Capture::LnsNic, Capture::Loopback] {
            let mut w = Walk::default();
            for m in s.ike_messages(capture) {
                walk_message(&m.bytes, &mut w);
            }
            assert!(w.messages >= 11 && w.unknown.is_empty(), "{} {w:?}", s.id);
        }
    }
}

/// The Openswan unit-test capture is GPL-2.0 and not in `testdata/`; this
/// reads it from the founding team's reference folder when present.
#[test]
#[ignore = "reads a GPL capture outside the repository"]
fn openswan_unittest_capture_gpl() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/reference/captures/ikev1/ikev1-rsasig-cert-mm-openswan-unittest.pcap");
    let path = if path.exists() {
        path
    } else {
        Path::new(
            "/work/shared/reference/captures/ikev1/ikev1-rsasig-cert-mm-openswan-unittest.pcap",
        )
        .to_path_buf()
    };
    let mut w = Walk::default();
    for (_, m) in ike_messages(&path) {
        walk_message(&m, &mut w);
    }
    // M1, N1, M2, N2 in the clear; M3 (ID, CERT, SIG) encrypted.
    assert_eq!((w.messages, w.encrypted), (5, 1), "{w:?}");
}

fn lns_like(policies: &[ike_core::config::IkeProposal]) -> ike_core::Config {
    responder_config(
        policies,
        &[TransformSet {
            encryption: EspEncryption::AesCbc { key_bits: 256 },
            integrity: EspIntegrity::HmacSha1,
            mode: Mode::Transport,
        }],
    )
}

/// Feeds `msg` to `ep` and returns what it sent back (ISAKMP bytes).
fn answer(
    ep: &mut Ep,
    from: SocketAddr,
    to: SocketAddr,
    msg: &[u8],
) -> (Result<(), Error>, Vec<Vec<u8>>) {
    let mut rng = testkit::rng(1);
    let mut m = msg.to_vec();
    let r = ep.handle_datagram(
        std::time::Duration::from_secs(1),
        from,
        to,
        &mut m,
        &mut rng,
    );
    let mut out = Vec::new();
    let mut buf = [0u8; 2048];
    while let Some(t) = ep
        .poll_transmit(std::time::Duration::from_secs(1), &mut buf)
        .unwrap()
    {
        let off = if t.non_esp_marker { 4 } else { 0 };
        out.push(buf[off..t.len].to_vec());
    }
    (r, out)
}

fn sa_body(msg: &[u8]) -> Vec<u8> {
    let h = Header::new_checked(msg).unwrap();
    let first = h.next_payload().into();
    PayloadIter::new(first, h.payload())
        .map(|p| p.unwrap())
        .find(|p| p.kind == PayloadType::Sa)
        .unwrap()
        .body
        .to_vec()
}

fn notify_of(msg: &[u8]) -> NotifyType {
    let h = Header::new_checked(msg).unwrap();
    let p = PayloadIter::new(h.next_payload().into(), h.payload())
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(p.kind, PayloadType::Notification);
    NotifyRepr::parse(p.body).unwrap().notify_type
}

#[test]
fn responder_chooses_what_the_real_responders_chose() {
    // Cisco: AES-128/SHA/group 2/86400 s.
    let msgs = ike_messages(&testdata("ikev1-mm-qm-psk-aes128-modp1024-cisco.pcap"));
    let (u1, mm1) = &msgs[0];
    let mut ep = Ep::new(lns_like(&[
        ike(CipherAlg::Aes256, HashAlg::Sha1, DhGroup::Modp2048, 86_400),
        ike(CipherAlg::Aes128, HashAlg::Sha1, DhGroup::Modp1024, 86_400),
    ]));
    let (r, out) = answer(&mut ep, u1.src, u1.dst, mm1);
    assert_eq!(r, Ok(()));
    assert_eq!(out.len(), 1);
    assert_eq!(
        sa_body(&out[0]),
        sa_body(&msgs[1].1),
        "same transform as the Cisco responder"
    );
    // A policy shorter than the offered 86400 s does not match.
    let mut ep = Ep::new(lns_like(&[ike(
        CipherAlg::Aes128,
        HashAlg::Sha1,
        DhGroup::Modp1024,
        3600,
    )]));
    let (r, out) = answer(&mut ep, u1.src, u1.dst, mm1);
    assert_eq!(r, Err(Error::NoProposalChosen(Rejection::NoProposalChosen)));
    assert_eq!(notify_of(&out[0]), NotifyType::NoProposalChosen);

    // strongSwan, the five sessions: an LNS offering what the reference
    // LNS offered picks the same transform (session d: the first of three).
    for s in sessions() {
        let m = s.ike_messages(Capture::LnsNic);
        let lns = Ep::new(lns_like(&[
            ike(CipherAlg::Aes256, HashAlg::Sha1, DhGroup::Modp1024, 86_400),
            ike(CipherAlg::Aes128, HashAlg::Sha1, DhGroup::Modp2048, 86_400),
            ike(
                CipherAlg::TripleDes,
                HashAlg::Sha1,
                DhGroup::Modp1024,
                86_400,
            ),
        ]));
        let mut lns = lns;
        let from = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 2, 2)), 4500);
        let to = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 2, 15)), 4500);
        let (r, out) = answer(&mut lns, from, to, &m[0].bytes);
        assert_eq!(r, Ok(()), "session {}", s.id);
        let ours_body = sa_body(&out[0]);
        let ours = SaRepr::parse(&ours_body).unwrap();
        let theirs_body = sa_body(&m[1].bytes);
        let theirs = SaRepr::parse(&theirs_body).unwrap();
        let t_ours = ours
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
        let t_theirs = theirs
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
        assert_eq!(
            ike_core::policy::parse_ike_transform(&t_ours),
            ike_core::policy::parse_ike_transform(&t_theirs),
            "session {}",
            s.id
        );
        // Their message 3 gets our message 4 (KE, Nr, two NAT-D).
        let mut mm3 = m[2].bytes.clone();
        mm3[8..16].copy_from_slice(&out[0][8..16]);
        let (r, out4) = answer(&mut lns, from, to, &mm3);
        assert_eq!(r, Ok(()), "session {}", s.id);
        let h = Header::new_checked(&out4[0][..]).unwrap();
        let kinds: Vec<_> = PayloadIter::new(h.next_payload().into(), h.payload())
            .map(|p| p.unwrap().kind)
            .collect();
        assert_eq!(
            kinds,
            [
                PayloadType::KeyExchange,
                PayloadType::Nonce,
                PayloadType::NatD,
                PayloadType::NatD
            ]
        );
        // Their message 5 was made with other keys: it fails, cleanly.
        let mut mm5 = m[4].bytes.clone();
        mm5[8..16].copy_from_slice(&out[0][8..16]);
        let (r, _) = answer(&mut lns, from, to, &mm5);
        assert_eq!(r, Err(Error::AuthenticationFailed), "session {}", s.id);
        let failed: Vec<_> = std::iter::from_fn(|| lns.poll_event())
            .filter(|e| matches!(e, Event::Phase1Failed { .. }))
            .collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(lns.sa_handles().count(), 0);
    }
}

#[test]
fn group1_only_when_configured_and_payload_15_is_answered() {
    let msgs = ike_messages(&testdata("ikev1-mm-qm-psk-aes128-modp768-cisco.pcap"));
    let (u1, mm1) = &msgs[0];
    // Without a policy naming group 1 the offer (group 1) is refused.
    let mut ep = Ep::new(lns_like(&[ike(
        CipherAlg::Aes128,
        HashAlg::Sha1,
        DhGroup::Modp1024,
        86_400,
    )]));
    let (r, out) = answer(&mut ep, u1.src, u1.dst, mm1);
    assert!(matches!(r, Err(Error::NoProposalChosen(_))));
    assert_eq!(notify_of(&out[0]), NotifyType::NoProposalChosen);
    // With one, it is accepted...
    let mut ep = Ep::new(lns_like(&[ike(
        CipherAlg::Aes128,
        HashAlg::Sha1,
        DhGroup::Modp768,
        86_400,
    )]));
    let (r, out) = answer(&mut ep, u1.src, u1.dst, mm1);
    assert_eq!(r, Ok(()));
    assert_eq!(sa_body(&out[0]), sa_body(&msgs[1].1));
    // ...and message 3, with NAT-D as payload 15, gets
    // INVALID-PAYLOAD-TYPE and changes nothing.
    let mut mm3 = msgs[2].1.clone();
    mm3[8..16].copy_from_slice(&out[0][8..16]);
    let (r, out3) = answer(&mut ep, u1.src, u1.dst, &mm3);
    assert_eq!(r, Err(Error::InvalidPayloadType(15)));
    assert_eq!(notify_of(&out3[0]), NotifyType::InvalidPayloadType);
    assert_eq!(ep.sa_handles().count(), 1, "the half-open SA stays");
}

#[test]
fn rsa_signature_offer_is_refused_without_credentials() {
    let msgs = ike_messages(&testdata("ikev1-natt-rsasig-3des-mm-qm-esp-openswan.pcap"));
    let (u1, mm1) = &msgs[0];
    let mut ep = Ep::new(lns_like(&[
        ike(
            CipherAlg::TripleDes,
            HashAlg::Md5,
            DhGroup::Modp1536,
            86_400,
        ),
        ike(
            CipherAlg::TripleDes,
            HashAlg::Sha1,
            DhGroup::Modp1536,
            86_400,
        ),
        ike(
            CipherAlg::TripleDes,
            HashAlg::Sha1,
            DhGroup::Modp1024,
            86_400,
        ),
        ike(
            CipherAlg::TripleDes,
            HashAlg::Md5,
            DhGroup::Modp1024,
            86_400,
        ),
    ]));
    let (r, out) = answer(&mut ep, u1.src, u1.dst, mm1);
    assert!(matches!(r, Err(Error::NoProposalChosen(_))), "{r:?}");
    assert_eq!(notify_of(&out[0]), NotifyType::NoProposalChosen);
    assert_eq!(ep.sa_handles().count(), 0);
}

/// The same Openswan message 1 (RSA signatures, 3DES) against an LNS with
/// credentials and an rsa-sig policy: the responder chooses the RSA
/// transform the real Openswan responder chose and echoes it.
#[test]
#[cfg(not(feature = "capacity-psk"))]
fn rsa_signature_offer_of_the_openswan_capture_is_chosen_with_credentials() {
    let msgs = ike_messages(&testdata("ikev1-natt-rsasig-3des-mm-qm-esp-openswan.pcap"));
    let (u1, mm1) = &msgs[0];
    let (_, mm2) = &msgs[1];
    let file = |n: &str| std::fs::read(testdata(&format!("certs/{n}"))).unwrap();
    let mut policies = Vec::new();
    for (hash, group) in [
        (HashAlg::Md5, DhGroup::Modp1536),
        (HashAlg::Sha1, DhGroup::Modp1536),
        (HashAlg::Sha1, DhGroup::Modp1024),
        (HashAlg::Md5, DhGroup::Modp1024),
    ] {
        let mut p = ike(CipherAlg::TripleDes, hash, group, 86_400);
        p.authentication = ike_core::config::Authentication::RsaSig;
        policies.push(p);
    }
    let mut cfg = lns_like(&policies);
    cfg.credentials
        .set_own(&file("lns.der"), &file("lns.key"))
        .unwrap();
    cfg.credentials.add_trust_anchor(&file("ca.der")).unwrap();
    let mut ep = Ep::new(cfg);
    let (r, out) = answer(&mut ep, u1.src, u1.dst, mm1);
    assert_eq!(r, Ok(()));
    assert_eq!(out.len(), 1);
    let (ours_b, theirs_b) = (sa_body(&out[0]), sa_body(mm2));
    let ours = SaRepr::parse(&ours_b).unwrap();
    let theirs = SaRepr::parse(&theirs_b).unwrap();
    let pick = |sa: &SaRepr<'_>| {
        let p = sa.proposals.clone().next().unwrap().unwrap();
        let t = p.transforms.clone().next().unwrap().unwrap();
        ike_core::policy::parse_ike_transform(&t).unwrap()
    };
    let (o, t) = (pick(&ours), pick(&theirs));
    assert_eq!(o.auth_method, 3, "RSA signatures");
    assert_eq!(
        (o.cipher, o.hash, o.group, o.auth_method),
        (t.cipher, t.hash, t.group, t.auth_method)
    );
}

fn with_cookie(mm1: &[u8], n: u64) -> Vec<u8> {
    let mut m = mm1.to_vec();
    m[..8].copy_from_slice(&n.to_be_bytes());
    m
}

#[test]
fn half_open_limits_table_full_and_expiry() {
    let msgs = ike_messages(&testdata("ikev1-mm-qm-psk-aes128-modp1024-cisco.pcap"));
    let mm1 = &msgs[0].1;
    let mut config = lns_like(&[ike(
        CipherAlg::Aes128,
        HashAlg::Sha1,
        DhGroup::Modp1024,
        86_400,
    )]);
    config.limits.max_half_open = 6;
    config.limits.max_half_open_per_peer = 2;
    let mut ep: ike_core::Endpoint<4, 8> = ike_core::Endpoint::new(config);
    let to = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)), 500);
    let mut rng = testkit::rng(2);
    let now = std::time::Duration::from_secs(1);
    let peer = |k: u8| SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, k)), 500);
    let mut feed = |ep: &mut ike_core::Endpoint<4, 8>, from, cookie| {
        let mut m = with_cookie(mm1, cookie);
        ep.handle_datagram(now, from, to, &mut m, &mut rng)
    };
    // Per peer: two, then refused.
    assert_eq!(feed(&mut ep, peer(1), 1), Ok(()));
    assert_eq!(feed(&mut ep, peer(1), 2), Ok(()));
    assert_eq!(feed(&mut ep, peer(1), 3), Err(Error::HalfOpenLimit));
    // A retransmitted first message is answered again, not counted.
    assert_eq!(feed(&mut ep, peer(1), 1), Ok(()));
    assert_eq!(ep.counters().duplicates_answered, 1);
    // Other peers until the table (4 slots) is full.
    assert_eq!(feed(&mut ep, peer(2), 4), Ok(()));
    assert_eq!(feed(&mut ep, peer(3), 5), Ok(()));
    // The table (4 slots) is full: the oldest negotiation whose message 2
    // went unanswered makes room (anti-clogging, found by the gateway's
    // flood test: forged first messages otherwise shut out every client).
    assert_eq!(feed(&mut ep, peer(4), 6), Ok(()));
    assert_eq!(ep.counters().half_open_refused, 1);
    assert_eq!(ep.counters().half_open_evicted, 1);
    assert_eq!(ep.counters().table_full, 0);
    // The evicted one (peer 1, cookie 1) is gone: its retransmission is a
    // new negotiation, which again takes the oldest unanswered place.
    assert_eq!(feed(&mut ep, peer(1), 1), Ok(()));
    assert_eq!(ep.counters().duplicates_answered, 1);
    assert_eq!(ep.counters().half_open_evicted, 2);
    // Half-open SAs expire and free their slots.
    let later = now + std::time::Duration::from_secs(61);
    assert!(ep.poll_timeout().is_some_and(|t| t <= later));
    ep.handle_timeout(later, &mut rng);
    assert_eq!(ep.sa_handles().count(), 0);
    let timeouts = std::iter::from_fn(|| ep.poll_event())
        .filter(|e| {
            matches!(
                e,
                Event::Phase1Failed {
                    reason: ike_core::FailReason::Timeout,
                    ..
                }
            )
        })
        .count();
    assert_eq!(timeouts, 4);
    let mut m = with_cookie(mm1, 7);
    assert_eq!(
        ep.handle_datagram(later, peer(4), to, &mut m, &mut rng),
        Ok(())
    );
}

#[test]
fn unknown_cookies_get_a_rate_limited_invalid_cookie() {
    let msgs = ike_messages(&testdata("ikev1-mm-qm-psk-aes128-modp1024-cisco.pcap"));
    let mut ep = Ep::new(lns_like(&[]));
    let mut rng = testkit::rng(3);
    let now = std::time::Duration::from_secs(5);
    let (u, mm5) = &msgs[4];
    for _ in 0..25 {
        let mut m = mm5.clone();
        assert_eq!(
            ep.handle_datagram(now, u.src, u.dst, &mut m, &mut rng),
            Err(Error::UnknownSa)
        );
    }
    let mut buf = [0u8; 512];
    let mut notifies = 0;
    while let Some(t) = ep.poll_transmit(now, &mut buf).unwrap() {
        assert_eq!(notify_of(&buf[..t.len]), NotifyType::InvalidCookie);
        notifies += 1;
    }
    assert_eq!(notifies, 10);
    assert_eq!(ep.counters().unknown_sa, 25);
    // One Dropped event per datagram, up to the event queue's 16; the rest
    // is counted as lost (this test does not drain between datagrams).
    let dropped = std::iter::from_fn(|| ep.poll_event()).count();
    assert_eq!(dropped, 16);
    assert_eq!(ep.counters().events_lost, 9);
}

#[test]
fn an_sa_in_the_table_is_small() {
    // The ISAKMP SA state once established (Diffie-Hellman values dropped
    // with its exchange slot): the budget of issue 5 is 1 KiB.
    const { assert!(ike_core::IKE_SA_SIZE <= 1024) };
    println!(
        "IKE SA {} bytes, exchange slot {} bytes, Config {} bytes, Endpoint<16, 4> {} bytes",
        ike_core::IKE_SA_SIZE,
        ike_core::EXCHANGE_SIZE,
        size_of::<ike_core::Config>(),
        size_of::<ike_core::Endpoint<16, 4>>(),
    );
}
