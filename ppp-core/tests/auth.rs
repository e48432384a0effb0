//! Authentication on the wire, both roles, against scripted packets.

mod common;

use std::time::Duration;

use common::*;
use hex_literal::hex;
use ppp_core::crypto::{self, NtHash};
use ppp_core::wire::chap::{self, FailureMessage, SuccessMessage};
use ppp_core::wire::pap;
use ppp_core::{Accept, AuthMethod, Config, DownReason, Error, Event, Link, State};

struct Side {
    link: Link,
    rng: rand_chacha::ChaCha20Rng,
    now: Duration,
}

fn frame(proto: u16, body: &[u8]) -> Vec<u8> {
    let mut f = vec![0xff, 0x03];
    f.extend_from_slice(&proto.to_be_bytes());
    f.extend_from_slice(body);
    f
}

fn lcp(code: u8, id: u8, data: &[u8]) -> Vec<u8> {
    let mut b = vec![code, id, 0, 0];
    b[2..4].copy_from_slice(&u16::try_from(4 + data.len()).unwrap().to_be_bytes());
    b.extend_from_slice(data);
    frame(0xc021, &b)
}

impl Side {
    fn feed(&mut self, f: &[u8]) -> Result<ppp_core::Received, Error> {
        let mut f = f.to_vec();
        self.link.handle_frame(self.now, &mut f, &mut self.rng)
    }

    fn out(&mut self) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        let mut buf = [0u8; 1500];
        while let Some(n) = self.link.poll_transmit(self.now, &mut buf).unwrap() {
            v.push(buf[..n].to_vec());
        }
        v
    }

    fn events(&mut self) -> Vec<Ev> {
        let mut v = Vec::new();
        while let Some(e) = self.link.poll_event() {
            v.push(own(&e));
        }
        v
    }
}

/// An authenticator for `m` with LCP Opened; returns it and the Challenge
/// (if any).
fn authenticator(m: AuthMethod) -> (Side, Option<Vec<u8>>) {
    let mut c = authenticator_config(&[m]);
    c.echo_interval = None;
    let mut s = Side {
        link: Link::new(&c).unwrap(),
        rng: testkit::rng(5),
        now: Duration::from_secs(1),
    };
    let now = s.now;
    s.link.open(now, &mut s.rng);
    let req = s.out().remove(0);
    s.feed(&lcp(2, req[5], &req[8..])).unwrap();
    s.feed(&lcp(1, 1, &hex!("05 06 01 02 03 04"))).unwrap();
    assert_eq!(s.link.lcp_state(), State::Opened);
    let out = s.out();
    let challenge = out.into_iter().find(|f| f[2..4] == [0xc2, 0x23]);
    (s, challenge)
}

fn challenge_of(f: &[u8]) -> (u8, Vec<u8>) {
    match chap::Repr::parse(&f[4..]).unwrap() {
        chap::Repr::Challenge {
            identifier,
            value,
            name,
        } => {
            assert_eq!(name, b"lns");
            (identifier, value.to_vec())
        }
        other => panic!("{other:?}"),
    }
}

fn chap_response(id: u8, value: &[u8], name: &[u8]) -> Vec<u8> {
    let r = chap::Repr::Response {
        identifier: id,
        value,
        name,
    };
    let mut b = vec![0u8; r.buffer_len()];
    r.emit(&mut b);
    frame(0xc223, &b)
}

fn v2_response(id: u8, auth_ch: &[u8], password: &[u8]) -> (Vec<u8>, [u8; 24]) {
    let auth_ch: [u8; 16] = auth_ch.try_into().unwrap();
    let pc = hex!("0102030405060708090a0b0c0d0e0f10");
    let nt =
        crypto::mschap_v2_nt_response(&auth_ch, &pc, USER, &NtHash::from_password_bytes(password));
    let mut v = pc.to_vec();
    v.extend_from_slice(&[0; 8]);
    v.extend_from_slice(&nt);
    v.push(0);
    (chap_response(id, &v, USER), nt)
}

#[test]
fn mschapv2_failure_message_is_e691_r0_with_the_challenge_v3() {
    let (mut s, ch) = authenticator(AuthMethod::MsChapV2);
    let (id, auth_ch) = challenge_of(&ch.unwrap());
    assert_eq!(auth_ch.len(), 16);
    let (resp, _) = v2_response(id, &auth_ch, b"wrong");
    s.feed(&resp).unwrap();
    let ev = s.events();
    assert!(matches!(
        &ev[..],
        [Ev::AuthRequest {
            method: AuthMethod::MsChapV2,
            ..
        }]
    ));
    let now = s.now;
    s.link.reject(now).unwrap();
    let out = s.out();
    let chap::Repr::Failure {
        identifier,
        message,
    } = chap::Repr::parse(&out[0][4..]).unwrap()
    else {
        panic!()
    };
    assert_eq!(identifier, id);
    let m = FailureMessage::parse(message).unwrap();
    assert_eq!(
        (m.error, m.retry, m.version, m.message),
        (691, false, Some(3), Some(&b"Access denied"[..]))
    );
    assert_eq!(m.challenge(), Some(&auth_ch[..]));
    assert!(message.starts_with(b"E=691 R=0 C="));
    // Then the Terminate-Request, and Down when it is acknowledged.
    assert_eq!(out[1][2..5], [0xc0, 0x21, 5]);
    s.feed(&lcp(6, out[1][5], &[])).unwrap();
    assert_eq!(s.events(), vec![Ev::Down(DownReason::AuthFailed)]);
}

#[test]
fn mschapv1_failure_is_e691_r0() {
    let (mut s, ch) = authenticator(AuthMethod::MsChapV1);
    let (id, c) = challenge_of(&ch.unwrap());
    assert_eq!(c.len(), 8, "RFC 2433: an 8-octet challenge");
    let mut v = vec![0u8; 49];
    v[48] = 1;
    s.feed(&chap_response(id, &v, USER)).unwrap();
    let _ = s.events();
    let now = s.now;
    s.link.reject(now).unwrap();
    let out = s.out();
    assert_eq!(
        chap::Repr::parse(&out[0][4..]).unwrap(),
        chap::Repr::Failure {
            identifier: id,
            message: b"E=691 R=0"
        }
    );
}

#[test]
fn mschapv2_accept_forms_s_from_the_nt_hash_or_takes_it_from_radius() {
    for from_radius in [false, true] {
        let (mut s, ch) = authenticator(AuthMethod::MsChapV2);
        let (id, auth_ch) = challenge_of(&ch.unwrap());
        let (resp, nt) = v2_response(id, &auth_ch, PASSWORD);
        s.feed(&resp).unwrap();
        let _ = s.events();
        let now = s.now;
        // "Yes" alone is not enough for MS-CHAP-V2.
        assert_eq!(
            s.link.accept(now, Accept::Plain),
            Err(Error::MissingAuthenticatorResponse)
        );
        let h = NtHash::from_password_bytes(PASSWORD);
        let expected = crypto::authenticator_response(
            &h,
            &nt,
            &hex!("0102030405060708090a0b0c0d0e0f10"),
            &auth_ch.clone().try_into().unwrap(),
            USER,
        );
        let a = if from_radius {
            Accept::AuthenticatorResponse(expected)
        } else {
            Accept::NtHash(h)
        };
        s.link.accept(now, a).unwrap();
        let out = s.out();
        let chap::Repr::Success {
            identifier,
            message,
        } = chap::Repr::parse(&out[0][4..]).unwrap()
        else {
            panic!()
        };
        assert_eq!(identifier, id);
        assert_eq!(
            SuccessMessage::parse(message)
                .unwrap()
                .authenticator_response,
            expected
        );
        assert_eq!(
            s.link.accept(now, Accept::Plain),
            Err(Error::InvalidState),
            "decided already"
        );
        // A repeated Response (the Success was lost) gets the same Success.
        s.feed(&resp).unwrap();
        assert_eq!(s.out(), vec![out[0].clone()]);
        // A Response with another Identifier is not ours.
        s.feed(&v2_response(id.wrapping_add(1), &auth_ch, PASSWORD).0)
            .unwrap();
        assert!(s.out().is_empty());
    }
}

#[test]
fn pap_duplicate_request_after_ack_is_acked_again() {
    let (mut s, ch) = authenticator(AuthMethod::Pap);
    assert!(ch.is_none(), "PAP: the peer speaks first");
    let req = pap::Repr::Request {
        identifier: 7,
        peer_id: USER,
        password: PASSWORD,
    };
    let mut b = vec![0u8; req.buffer_len()];
    req.emit(&mut b);
    s.feed(&frame(0xc023, &b)).unwrap();
    let ev = s.link.poll_event();
    let Some(Event::AuthRequest(r)) = ev else {
        panic!()
    };
    let accept = r
        .credentials
        .verify(&NtHash::from_password_bytes(PASSWORD))
        .unwrap();
    let now = s.now;
    s.link.accept(now, accept).unwrap();
    let out = s.out();
    assert_eq!(
        pap::Repr::parse(&out[0][4..]).unwrap(),
        pap::Repr::Ack {
            identifier: 7,
            message: b"Access granted"
        }
    );
    // The same request again, and a second one with a new Identifier.
    s.feed(&frame(0xc023, &b)).unwrap();
    b[1] = 8;
    s.feed(&frame(0xc023, &b)).unwrap();
    let acks: Vec<u8> = s
        .out()
        .iter()
        .filter(|f| f[2..5] == [0xc0, 0x23, 2])
        .map(|f| f[5])
        .collect();
    assert_eq!(
        acks,
        vec![8],
        "one Ack pending at a time, for the latest request"
    );
}

#[test]
fn credentials_never_appear_in_debug_output() {
    let (mut s, _) = authenticator(AuthMethod::Pap);
    let req = pap::Repr::Request {
        identifier: 1,
        peer_id: b"bob",
        password: b"hunter2-secret",
    };
    let mut b = vec![0u8; req.buffer_len()];
    req.emit(&mut b);
    s.feed(&frame(0xc023, &b)).unwrap();
    let Some(e) = s.link.poll_event() else {
        panic!()
    };
    let event = format!("{e:?}");
    let text = format!("{event} {:?}", s.link);
    assert!(text.contains("bob"));
    assert!(!text.contains("hunter2"), "{text}");
}

/// A peer for `m` with LCP Opened after the authenticator asked for `m`.
fn peer(m: AuthMethod, password: &[u8]) -> Side {
    let mut c: Config = peer_config(&[m], password);
    c.echo_interval = None;
    let mut s = Side {
        link: Link::new(&c).unwrap(),
        rng: testkit::rng(6),
        now: Duration::from_secs(1),
    };
    let now = s.now;
    s.link.open(now, &mut s.rng);
    let req = s.out().remove(0);
    s.feed(&lcp(2, req[5], &req[8..])).unwrap();
    let o = m.to_option();
    let mut opt = vec![0u8; o.buffer_len()];
    o.emit(&mut opt);
    opt.extend_from_slice(&hex!("05 06 0a 0b 0c 0d"));
    s.feed(&lcp(1, 1, &opt)).unwrap();
    assert_eq!(s.link.lcp_state(), State::Opened);
    s
}

#[test]
fn peer_checks_the_authenticators_s_value() {
    for (s_ok, expect) in [(true, None), (false, Some(DownReason::AuthFailed))] {
        let mut p = peer(AuthMethod::MsChapV2, PASSWORD);
        let _ = p.out();
        let auth_ch = hex!("5B5D7C7D7B3F2F3E3C2C602132262628");
        let ch = chap::Repr::Challenge {
            identifier: 0x33,
            value: &auth_ch,
            name: b"lns",
        };
        let mut b = vec![0u8; ch.buffer_len()];
        ch.emit(&mut b);
        p.feed(&frame(0xc223, &b)).unwrap();
        let out = p.out();
        let chap::Repr::Response {
            identifier: 0x33,
            value,
            name,
        } = chap::Repr::parse(&out[0][4..]).unwrap()
        else {
            panic!()
        };
        assert_eq!(name, USER);
        let r = chap::MsChapV2Response::parse(value).unwrap();
        let h = NtHash::from_password_bytes(PASSWORD);
        let mut s_value =
            crypto::verify_mschap_v2(&h, &auth_ch, &r.peer_challenge, USER, &r.nt_response)
                .expect("a right response");
        if !s_ok {
            s_value[0] ^= 1;
        }
        let m = SuccessMessage {
            authenticator_response: s_value,
            message: b"ok",
        };
        let mut text = vec![0u8; m.buffer_len()];
        m.emit(&mut text);
        let succ = chap::Repr::Success {
            identifier: 0x33,
            message: &text,
        };
        let mut b = vec![0u8; succ.buffer_len()];
        succ.emit(&mut b);
        p.feed(&frame(0xc223, &b)).unwrap();
        let out = p.out();
        let ev = p.events();
        match expect {
            None => {
                assert!(
                    ev.contains(&Ev::Authenticated(AuthMethod::MsChapV2)),
                    "{ev:?}"
                );
                assert!(
                    out.iter().any(|f| f[2..5] == [0x80, 0x21, 1]),
                    "IPCP starts"
                );
            }
            Some(_) => {
                // Mutual authentication failed: the peer terminates.
                assert!(!ev.contains(&Ev::Authenticated(AuthMethod::MsChapV2)));
                assert_eq!(out[0][2..5], [0xc0, 0x21, 5]);
                p.feed(&lcp(6, out[0][5], &[])).unwrap();
                assert_eq!(p.events(), vec![Ev::Down(DownReason::AuthFailed)]);
            }
        }
    }
}

#[test]
fn peer_answers_eap_md5_and_naks_other_types() {
    let mut p = peer(AuthMethod::Eap, PASSWORD);
    let _ = p.out();
    use ppp_core::wire::eap;
    let send = |p: &mut Side, r: eap::Repr<'_>| {
        let mut b = vec![0u8; r.buffer_len()];
        r.emit(&mut b);
        p.feed(&frame(0xc227, &b)).unwrap();
        let out = p.out();
        out.into_iter().map(|f| f[4..].to_vec()).collect::<Vec<_>>()
    };
    let out = send(
        &mut p,
        eap::Repr::Request {
            identifier: 1,
            kind: eap::kind::IDENTITY,
            data: b"",
        },
    );
    assert_eq!(
        eap::Repr::parse(&out[0]).unwrap(),
        eap::Repr::Response {
            identifier: 1,
            kind: 1,
            data: USER
        }
    );
    // EAP-TLS (13) is not ours: Legacy Nak asking for MD5.
    let out = send(
        &mut p,
        eap::Repr::Request {
            identifier: 2,
            kind: 13,
            data: &[0x20],
        },
    );
    assert_eq!(
        eap::Repr::parse(&out[0]).unwrap(),
        eap::Repr::Response {
            identifier: 2,
            kind: 3,
            data: &[4]
        }
    );
    let c = hex!("ba0bf4a7e7177359caa52e7eb10d9d0b");
    let mut data = vec![16];
    data.extend_from_slice(&c);
    let out = send(
        &mut p,
        eap::Repr::Request {
            identifier: 3,
            kind: 4,
            data: &data,
        },
    );
    let mut want = vec![16];
    want.extend_from_slice(&crypto::chap_md5_response(3, PASSWORD, &c));
    assert_eq!(
        eap::Repr::parse(&out[0]).unwrap(),
        eap::Repr::Response {
            identifier: 3,
            kind: 4,
            data: &want
        }
    );
    let _ = send(&mut p, eap::Repr::Success { identifier: 3 });
    assert!(p.events().contains(&Ev::Authenticated(AuthMethod::Eap)));
}

#[test]
fn chap_peer_retransmits_its_response_until_an_answer() {
    let mut p = peer(AuthMethod::ChapMd5, PASSWORD);
    let _ = p.out();
    let ch = chap::Repr::Challenge {
        identifier: 9,
        value: &[7; 20],
        name: b"lns",
    };
    let mut b = vec![0u8; ch.buffer_len()];
    ch.emit(&mut b);
    p.feed(&frame(0xc223, &b)).unwrap();
    let first = p.out();
    assert_eq!(first.len(), 1);
    let chap::Repr::Response { value, .. } = chap::Repr::parse(&first[0][4..]).unwrap() else {
        panic!()
    };
    assert_eq!(
        value,
        crypto::chap_md5_response(9, PASSWORD, &[7; 20]),
        "RFC 1994 §4.1: MD5(id|secret|challenge)"
    );
    p.now += Duration::from_secs(3);
    let now = p.now;
    p.link.handle_timeout(now, &mut p.rng);
    assert_eq!(p.out(), first);
}

#[test]
fn credentials_beyond_the_capacity_are_refused() {
    let (mut s, _) = authenticator(AuthMethod::Pap);
    let user = [b'u'; 100];
    let req = pap::Repr::Request {
        identifier: 3,
        peer_id: &user,
        password: &[b'p'; 50],
    };
    let mut b = vec![0u8; req.buffer_len()];
    req.emit(&mut b);
    s.feed(&frame(0xc023, &b)).unwrap();
    assert!(s.events().is_empty(), "no AuthRequest");
    let out = s.out();
    assert_eq!(
        pap::Repr::parse(&out[0][4..]).unwrap(),
        pap::Repr::Nak {
            identifier: 3,
            message: b"Access denied"
        }
    );
    assert_eq!(out[1][2..5], [0xc0, 0x21, 5]);
    s.feed(&lcp(6, out[1][5], &[])).unwrap();
    assert_eq!(s.events(), vec![Ev::Down(DownReason::AuthFailed)]);
    // The peer role refuses such a configuration outright.
    let c = Config::peer(&[b'u'; 64], &[b'p'; 64]).unwrap();
    assert_eq!(
        Link::new(&c).unwrap_err(),
        ppp_core::ConfigError::CredentialsTooLong
    );
}
