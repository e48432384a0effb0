//! Authenticator against peer, through a simulated network with a
//! hand-advanced clock and seeded RNGs: every method with the right and the
//! wrong password, with loss, duplication and reordering.

mod common;

use std::time::Duration;

use common::*;
use ppp_core::crypto::NtHash;
use ppp_core::{AuthMethod, DownReason, Phase, State};

const METHODS: [AuthMethod; 5] = [
    AuthMethod::Pap,
    AuthMethod::ChapMd5,
    AuthMethod::MsChapV1,
    AuthMethod::MsChapV2,
    AuthMethod::Eap,
];

fn decider_for(m: AuthMethod) -> Decider {
    match m {
        // CHAP-MD5 needs the cleartext: the RADIUS case.
        AuthMethod::ChapMd5 | AuthMethod::Eap => {
            Decider::Cleartext(USER.to_vec(), PASSWORD.to_vec())
        }
        _ => Decider::NtHash(USER.to_vec(), NtHash::from_password_bytes(PASSWORD)),
    }
}

fn pair(m: AuthMethod, password: &[u8], seed: u64) -> Pair {
    let mut p = Pair::new(
        &authenticator_config(&[m]),
        &peer_config(&[m], password),
        decider_for(m),
        seed,
    );
    if m == AuthMethod::Eap {
        p.eap_server = Some((PASSWORD.to_vec(), [0x5a; 16]));
    }
    p
}

#[test]
fn every_method_comes_up_and_carries_ipv4() {
    for m in METHODS {
        let mut p = pair(m, PASSWORD, 1);
        p.open();
        assert!(
            p.run_until(Duration::from_secs(60), Pair::both_up),
            "{m:?}: a {:?} b {:?}",
            p.a.events,
            p.b.events
        );
        let a = p.a.network_up().unwrap();
        let b = p.b.network_up().unwrap();
        assert_eq!((a.local, a.peer), (LOCAL_ADDRESS, POOL_ADDRESS), "{m:?}");
        assert_eq!((b.local, b.peer), (POOL_ADDRESS, LOCAL_ADDRESS), "{m:?}");
        assert_eq!(b.dns, [Some(DNS1), Some(DNS2)], "{m:?}");
        assert_eq!(
            b.nbns,
            [Some(WINS1), None],
            "{m:?}: the unconfigured secondary WINS is rejected"
        );
        assert_eq!(a.dns, b.dns);
        assert_eq!(a.nbns, b.nbns);
        assert!(p.a.events.contains(&Ev::Authenticated(m)), "{m:?}");
        assert!(p.b.events.contains(&Ev::Authenticated(m)), "{m:?}");
        assert_eq!(p.a.link.auth_method(), Some(m));
        assert_eq!(p.b.link.auth_method(), Some(m));
        assert_eq!(p.a.link.phase(), Phase::Network);
        if m != AuthMethod::Eap {
            assert!(p.a.events.iter().any(
                |e| matches!(e, Ev::AuthRequest { method, user } if *method == m && user == USER)
            ));
        }

        let up = ipv4_datagram(POOL_ADDRESS, LOCAL_ADDRESS, b"uplink");
        assert_eq!(
            p.ipv4_roundtrip(true, &up).as_deref(),
            Some(&up[..]),
            "{m:?} uplink"
        );
        let down = ipv4_datagram(LOCAL_ADDRESS, POOL_ADDRESS, b"downlink");
        assert_eq!(
            p.ipv4_roundtrip(false, &down).as_deref(),
            Some(&down[..]),
            "{m:?} downlink"
        );
        assert!(p.a.link.counters().rx_packets > 3 && p.a.link.counters().tx_packets > 3);
    }
}

#[test]
fn every_method_refuses_the_wrong_password() {
    for m in METHODS {
        let mut p = pair(m, b"wrong-Pass", 2);
        p.open();
        assert!(
            p.run_until(Duration::from_secs(60), Pair::both_down),
            "{m:?}: a {:?} b {:?}",
            p.a.events,
            p.b.events
        );
        assert_eq!(p.a.down_reason(), Some(DownReason::AuthFailed), "{m:?}");
        assert_eq!(
            p.b.down_reason(),
            Some(DownReason::AuthFailed),
            "{m:?}: the peer saw the Nak/Failure"
        );
        assert!(p.a.network_up().is_none() && p.b.network_up().is_none());
        // The Failure went out before the Terminate-Request.
        let last_auth =
            p.a.sent
                .iter()
                .rposition(|f| matches!(&f[2..4], [0xc0, 0x23] | [0xc2, 0x23] | [0xc2, 0x27]));
        let first_term = p.a.sent.iter().position(|f| f[2..5] == [0xc0, 0x21, 5]);
        assert!(last_auth.unwrap() < first_term.unwrap(), "{m:?}");
    }
}

#[test]
fn every_method_survives_loss_duplication_and_reordering() {
    for m in METHODS {
        let (mut lost, mut duplicated, mut reordered) = (0, 0, 0);
        for seed in 0..12 {
            let mut p = pair(m, PASSWORD, 100 + seed);
            p.faults = Faults {
                loss: 20,
                duplicate: 15,
                jitter_ms: 400,
            };
            p.open();
            let up = p.run_until(Duration::from_secs(120), Pair::both_up);
            assert!(
                up,
                "{m:?} seed {seed}: a {:?} b {:?}",
                p.a.events, p.b.events
            );
            assert_eq!(p.b.network_up().unwrap().local, POOL_ADDRESS);
            assert_eq!(p.a.down_reason(), None);
            lost += p.frames_lost;
            duplicated += p.frames_duplicated;
            reordered += p.frames_reordered;
        }
        // The faults really happened.
        assert!(
            lost > 12 && duplicated > 12 && reordered > 12,
            "{m:?}: {lost} {duplicated} {reordered}"
        );
    }
}

#[test]
fn wrong_password_is_refused_under_faults_too() {
    for m in METHODS {
        for seed in 0..6 {
            let mut p = pair(m, b"nope", 300 + seed);
            p.faults = Faults {
                loss: 15,
                duplicate: 15,
                jitter_ms: 300,
            };
            p.open();
            p.run_until(Duration::from_secs(120), |p| p.a.down_reason().is_some());
            assert_eq!(
                p.a.down_reason(),
                Some(DownReason::AuthFailed),
                "{m:?} seed {seed}"
            );
            assert!(
                p.a.network_up().is_none() && p.b.network_up().is_none(),
                "{m:?} seed {seed}"
            );
        }
    }
}

#[test]
fn authenticator_falls_back_along_its_list() {
    // The gateway prefers MS-CHAP-V2, then MS-CHAP, then PAP; the client
    // only does PAP: two Naks, then PAP.
    let a = authenticator_config(&[AuthMethod::MsChapV2, AuthMethod::MsChapV1, AuthMethod::Pap]);
    let b = peer_config(&[AuthMethod::Pap], PASSWORD);
    let mut p = Pair::new(&a, &b, decider_for(AuthMethod::Pap), 7);
    p.open();
    assert!(p.run_until(Duration::from_secs(60), Pair::both_up));
    assert_eq!(p.a.link.auth_method(), Some(AuthMethod::Pap));
    // The client Naks with its choice (RFC 1661 §6.2): the gateway jumps
    // straight to PAP, skipping MS-CHAP.
    let auth_options: Vec<&[u8]> =
        p.a.sent
            .iter()
            .filter(|f| f[2..5] == [0xc0, 0x21, 1])
            .filter_map(|f| {
                f.windows(2)
                    .position(|w| w == [3, 4] || w == [3, 5])
                    .map(|i| &f[i..i + 4])
            })
            .collect();
    assert_eq!(auth_options.first().copied(), Some(&[3, 5, 0xc2, 0x23][..]));
    assert_eq!(auth_options.last().copied(), Some(&[3, 4, 0xc0, 0x23][..]));
}

#[test]
fn no_common_method_closes_the_link() {
    let a = authenticator_config(&[AuthMethod::MsChapV2]);
    let b = peer_config(&[AuthMethod::Pap], PASSWORD);
    let mut p = Pair::new(&a, &b, decider_for(AuthMethod::Pap), 8);
    p.open();
    assert!(p.run_until(Duration::from_secs(60), Pair::both_down));
    assert_eq!(p.a.down_reason(), Some(DownReason::NoCommonAuthMethod));
    assert_eq!(p.b.down_reason(), Some(DownReason::PeerTerminated));
}

#[test]
fn silent_peer_gives_up_after_max_configure() {
    let mut p = pair(AuthMethod::MsChapV2, PASSWORD, 9);
    p.peer_silent = true;
    let start = p.now;
    p.open();
    assert!(p.run_until(Duration::from_secs(120), |p| p.a.down_reason().is_some()));
    assert_eq!(p.a.down_reason(), Some(DownReason::MaxConfigure));
    let requests =
        p.a.sent
            .iter()
            .filter(|f| f[2..5] == [0xc0, 0x21, 1])
            .count();
    assert_eq!(requests, 10, "Max-Configure is 10 (RFC 1661 §4.6)");
    // Ten requests 3 s apart, then one more restart period.
    assert_eq!(p.now - start, Duration::from_secs(30));
    assert_eq!(p.a.link.phase(), Phase::Dead);
    assert_eq!(p.a.link.lcp_state(), State::Stopped);
    assert_eq!(p.a.link.poll_timeout(), None);
}

#[test]
fn echo_failure_takes_the_link_down() {
    let mut p = pair(AuthMethod::MsChapV2, PASSWORD, 10);
    p.open();
    assert!(p.run_until(Duration::from_secs(60), Pair::both_up));
    // Echoes are answered while the peer is there.
    p.run_until(Duration::from_secs(35), |_| false);
    assert_eq!(p.a.down_reason(), None);
    assert!(
        p.a.sent
            .iter()
            .filter(|f| f[2..5] == [0xc0, 0x21, 9])
            .count()
            >= 3
    );
    assert!(p.b.sent.iter().any(|f| f[2..5] == [0xc0, 0x21, 10]));
    // Then the peer vanishes: five unanswered echoes, 10 s apart.
    p.peer_silent = true;
    p.run_until(Duration::from_secs(120), |p| p.a.down_reason().is_some());
    assert_eq!(p.a.down_reason(), Some(DownReason::EchoTimeout));
    assert!(p.a.events.contains(&Ev::NetworkDown));
}

#[test]
fn close_terminates_both_ends() {
    let mut p = pair(AuthMethod::Pap, PASSWORD, 11);
    p.open();
    assert!(p.run_until(Duration::from_secs(60), Pair::both_up));
    let now = p.now;
    p.a.link.close(now);
    assert!(p.run_until(Duration::from_secs(30), Pair::both_down));
    assert_eq!(p.a.down_reason(), Some(DownReason::AdminClose));
    assert_eq!(p.b.down_reason(), Some(DownReason::PeerTerminated));
    assert_eq!(p.a.link.lcp_state(), State::Closed);
    assert_eq!(p.b.link.lcp_state(), State::Stopped);
}

#[test]
fn undecided_authentication_times_out() {
    let mut p = pair(AuthMethod::MsChapV2, PASSWORD, 12);
    p.decider = Decider::Silent;
    p.open();
    assert!(p.run_until(Duration::from_secs(120), Pair::both_down));
    assert_eq!(p.a.down_reason(), Some(DownReason::AuthTimeout));
}

#[test]
fn address_can_come_later() {
    let mut p = pair(AuthMethod::Pap, PASSWORD, 13);
    p.pool = None;
    p.open();
    p.run_until(Duration::from_secs(5), |_| false);
    assert!(p.a.events.contains(&Ev::AddressRequest));
    assert!(p.a.network_up().is_none());
    assert_eq!(p.a.link.ipcp_state(), State::Initial);
    let now = p.now;
    p.a.link.set_peer_address(now, POOL_ADDRESS).unwrap();
    assert!(p.run_until(Duration::from_secs(60), Pair::both_up));
    assert_eq!(p.b.network_up().unwrap().local, POOL_ADDRESS);
}

#[test]
fn lower_down_is_immediate() {
    let mut p = pair(AuthMethod::Pap, PASSWORD, 14);
    p.open();
    assert!(p.run_until(Duration::from_secs(60), Pair::both_up));
    let now = p.now;
    p.a.link.lower_down(now);
    p.drain();
    assert_eq!(p.a.down_reason(), Some(DownReason::LowerDown));
    assert!(p.a.events.contains(&Ev::NetworkDown));
    assert_eq!(p.a.link.phase(), Phase::Dead);
    assert_eq!(p.a.link.poll_timeout(), None);
}

#[test]
fn an_address_that_never_comes_closes_the_link() {
    let mut p = pair(AuthMethod::Pap, PASSWORD, 15);
    p.pool = None;
    p.open();
    assert!(p.run_until(Duration::from_secs(120), Pair::both_down));
    assert_eq!(p.a.down_reason(), Some(DownReason::NoAddress));
}

#[test]
fn peer_terminating_ipcp_closes_the_link() {
    let mut p = pair(AuthMethod::Pap, PASSWORD, 16);
    p.open();
    assert!(p.run_until(Duration::from_secs(60), Pair::both_up));
    // The peer sends an IPCP Terminate-Request.
    let now = p.now;
    let mut f = vec![0xff, 0x03, 0x80, 0x21, 5, 0x77, 0, 4];
    let r = p.a.link.handle_frame(now, &mut f, &mut p.a.rng);
    assert_eq!(r, Ok(ppp_core::Received::Control));
    p.run_until(Duration::from_secs(60), |p| p.a.down_reason().is_some());
    assert!(p.a.events.contains(&Ev::NetworkDown));
    assert_eq!(p.a.down_reason(), Some(DownReason::PeerTerminated));
}

#[test]
fn a_link_can_be_opened_again_after_going_down() {
    let mut p = pair(AuthMethod::MsChapV2, PASSWORD, 17);
    p.open();
    assert!(p.run_until(Duration::from_secs(60), Pair::both_up));
    let now = p.now;
    p.a.link.lower_down(now);
    p.b.link.lower_down(now);
    p.drain();
    assert!(p.both_down());
    p.a.events.clear();
    p.b.events.clear();
    p.open();
    assert!(
        p.run_until(Duration::from_secs(60), Pair::both_up),
        "{:?} {:?}",
        p.a.events,
        p.b.events
    );
}
