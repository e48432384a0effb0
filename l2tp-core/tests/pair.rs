//! Pair tests: the LNS and LAC roles of this crate against each other
//! through the simulated network of `common`, with a hand-advanced clock,
//! seeded RNGs and injected faults. Node 0 is the LNS, node 1 the LAC.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::*;
use l2tp_core::wire::{Message, MessageType, Packet};
use l2tp_core::{
    Config, Counters, Error, Event, Origin, Reason, Role, Secret, SessionHandle, SessionState,
    TunnelHandle, TunnelState,
};

fn lns_lac(seed: u64) -> Sim {
    Sim::new(vec![Config::default(), Config::default()], seed)
}

fn with_secret(secret: &[u8], hide: bool) -> Config {
    let mut c = Config::default();
    c.set_secret(Some(Secret::new(secret).unwrap()));
    c.hide_avps = hide;
    c
}

/// LAC opens a tunnel and places `calls` calls; returns the LAC's handles.
fn dial<const T: usize, const S: usize>(
    sim: &mut Sim<T, S>,
    lac: usize,
    calls: usize,
) -> (TunnelHandle, Vec<SessionHandle>) {
    let now = sim.now;
    let node = &mut sim.nodes[lac];
    let t = node.ep.connect(now, 0, &mut node.rng).unwrap();
    let s = (0..calls)
        .map(|_| node.ep.place_call(now, t, &mut node.rng).unwrap())
        .collect();
    (t, s)
}

fn count<const T: usize, const S: usize>(
    sim: &Sim<T, S>,
    k: usize,
    f: impl Fn(&Event<u32>) -> bool,
) -> usize {
    sim.events(k).iter().filter(|e| f(e)).count()
}

fn ups<const T: usize, const S: usize>(sim: &Sim<T, S>, k: usize) -> (usize, usize) {
    (
        count(sim, k, |e| matches!(e, Event::TunnelUp { .. })),
        count(sim, k, |e| matches!(e, Event::SessionUp { .. })),
    )
}

fn lns_sessions(sim: &Sim) -> Vec<SessionHandle> {
    sim.events(0)
        .iter()
        .filter_map(|e| match e {
            Event::SessionUp { session, .. } => Some(*session),
            _ => None,
        })
        .collect()
}

fn counters<const T: usize, const S: usize>(sim: &Sim<T, S>, k: usize) -> Counters {
    *sim.nodes[k].ep.counters()
}

/// Sends `frame` on `session` of node `k` through the network.
fn send_frame(sim: &mut Sim, k: usize, session: SessionHandle, frame: &[u8]) {
    let mut buf = vec![0u8; 16 + frame.len()];
    buf[16..].copy_from_slice(frame);
    let now = sim.now;
    let end = buf.len();
    let (peer, range) = sim.nodes[k]
        .ep
        .send_data(now, session, &mut buf, 16..end)
        .unwrap();
    sim.send(u32::try_from(k).unwrap(), peer, buf[range].to_vec());
}

#[test]
fn tunnel_and_session_set_up_data_and_tear_down() {
    let mut sim = lns_lac(1);
    let (lac_t, lac_s) = dial(&mut sim, 1, 1);
    sim.run_for(secs(2));

    assert_eq!(ups(&sim, 1), (1, 1));
    assert_eq!(ups(&sim, 0), (1, 1));
    assert_eq!(
        count(&sim, 0, |e| matches!(e, Event::IncomingCall { .. })),
        1
    );
    assert_eq!(
        sent_types(&sim.nodes[1]),
        [
            MessageType::Sccrq,
            MessageType::Scccn,
            MessageType::Icrq,
            MessageType::Iccn
        ]
    );
    assert_eq!(
        sent_types(&sim.nodes[0]),
        [MessageType::Sccrp, MessageType::Icrp]
    );
    // The LNS acknowledged SCCCN and ICCN with ZLBs: nothing to piggyback on.
    assert!(
        sim.nodes[0]
            .sent
            .iter()
            .filter(|(_, _, b)| is_zlb(b))
            .count()
            >= 2
    );

    // The tunnel facts each side learned.
    let info = sim.nodes[1].ep.tunnel(lac_t).unwrap();
    assert_eq!(info.role, Role::Lac);
    assert_eq!(info.state, TunnelState::Established);
    assert_eq!(info.peer_host_name, b"l2tp-ipsec-lns");
    assert_eq!(info.peer_receive_window, 4);
    let lns_t = sim.nodes[0].ep.tunnel_handles().next().unwrap();
    let lns_info = sim.nodes[0].ep.tunnel(lns_t).unwrap();
    assert_eq!(
        (lns_info.local_id, lns_info.remote_id),
        (info.remote_id, info.local_id)
    );
    assert_ne!(info.local_id, 0);

    // Data both ways, in place, with counters.
    let lns_s = lns_sessions(&sim)[0];
    send_frame(&mut sim, 1, lac_s[0], b"\xff\x03\xc0\x21\x01\x01\x00\x04");
    send_frame(&mut sim, 0, lns_s, b"\xff\x03\x00\x21hello");
    sim.run_for(secs(1));
    assert_eq!(
        sim.nodes[0].data,
        [(lns_s, b"\xff\x03\xc0\x21\x01\x01\x00\x04".to_vec())]
    );
    assert_eq!(
        sim.nodes[1].data,
        [(lac_s[0], b"\xff\x03\x00\x21hello".to_vec())]
    );
    let c = sim.nodes[0].ep.session(lns_s).unwrap().counters;
    assert_eq!(
        (c.rx_packets, c.rx_bytes, c.tx_packets, c.tx_bytes),
        (1, 8, 1, 9)
    );

    // CDN from the LAC.
    sim.nodes[1]
        .ep
        .disconnect(lac_s[0], Reason::ADMINISTRATIVE)
        .unwrap();
    sim.run_for(secs(1));
    assert!(sim.events(0).iter().any(|e| matches!(e,
        Event::SessionDown { session, reason: Some(Reason::ADMINISTRATIVE), origin: Origin::Peer, .. }
        if *session == lns_s)));
    assert!(
        sim.nodes[0].ep.session(lns_s).is_none(),
        "stale handle after SessionDown"
    );
    assert_eq!(
        sim.nodes[1].ep.disconnect(lac_s[0], Reason::ADMINISTRATIVE),
        Err(Error::InvalidHandle)
    );

    // StopCCN from the LNS; both sides hold, then free the slot.
    sim.nodes[0]
        .ep
        .close_tunnel(sim.now, lns_t, Reason::CLEAR)
        .unwrap();
    sim.run_for(secs(1));
    assert!(sim.events(1).iter().any(|e| matches!(
        e,
        Event::TunnelDown {
            reason: Some(Reason::CLEAR),
            origin: Origin::Peer,
            ..
        }
    )));
    assert!(sim.events(0).iter().any(|e| matches!(
        e,
        Event::TunnelDown {
            reason: Some(Reason::CLEAR),
            origin: Origin::Local,
            ..
        }
    )));
    assert_eq!(
        sim.nodes[1].sent.last().map(|(_, _, b)| is_zlb(b)),
        Some(true)
    );
    sim.run_for(secs(40));
    assert_eq!(sim.nodes[0].ep.tunnel_handles().count(), 0);
    assert_eq!(sim.nodes[1].ep.tunnel_handles().count(), 0);
    assert_eq!(sim.nodes[0].ep.poll_timeout(), None);
}

#[test]
fn lns_ends_session_with_cdn() {
    let mut sim = lns_lac(2);
    let (_, lac_s) = dial(&mut sim, 1, 1);
    sim.run_for(secs(2));
    let lns_s = lns_sessions(&sim)[0];
    sim.nodes[0]
        .ep
        .disconnect(
            lns_s,
            Reason {
                result: 2,
                error: Some(6),
            },
        )
        .unwrap();
    sim.run_for(secs(1));
    assert!(sim.events(1).iter().any(|e| matches!(e,
        Event::SessionDown { session, reason: Some(Reason { result: 2, error: Some(6) }), origin: Origin::Peer, .. }
        if *session == lac_s[0])));
    assert_eq!(sent_types(&sim.nodes[0]).last(), Some(&MessageType::Cdn));
}

/// Drops the first message of the given type in either direction, or
/// (`None`) the LNS's ZLB that acknowledges the ICCN.
fn drop_first(kind: Option<MessageType>) -> Filter {
    let mut dropped = false;
    let mut seen_iccn = false;
    Box::new(move |from, _, b| {
        seen_iccn |= message_type(b) == Some(MessageType::Iccn);
        let matches = match kind {
            Some(k) => message_type(b) == Some(k),
            None => from == 0 && seen_iccn && is_zlb(b),
        };
        if matches && !dropped {
            dropped = true;
            Verdict::Drop
        } else {
            Verdict::Pass
        }
    })
}

fn full_life(sim: &mut Sim) {
    let (lac_t, lac_s) = dial(sim, 1, 1);
    sim.run_for(secs(40));
    assert_eq!(ups(sim, 1), (1, 1), "LAC up");
    assert_eq!(ups(sim, 0), (1, 1), "LNS up");
    sim.nodes[1]
        .ep
        .disconnect(lac_s[0], Reason::ADMINISTRATIVE)
        .unwrap();
    sim.run_for(secs(40));
    assert_eq!(
        count(sim, 0, |e| matches!(
            e,
            Event::SessionDown {
                origin: Origin::Peer,
                ..
            }
        )),
        1
    );
    sim.nodes[1]
        .ep
        .close_tunnel(sim.now, lac_t, Reason::CLEAR)
        .unwrap();
    sim.run_for(secs(40));
    assert_eq!(
        count(sim, 0, |e| matches!(
            e,
            Event::TunnelDown {
                origin: Origin::Peer,
                ..
            }
        )),
        1
    );
    assert_eq!(
        count(sim, 1, |e| matches!(
            e,
            Event::TunnelDown {
                origin: Origin::Local,
                ..
            }
        )),
        1
    );
}

#[test]
fn each_control_message_dropped_once() {
    use MessageType::*;
    for kind in [
        Some(Sccrq),
        Some(Sccrp),
        Some(Scccn),
        Some(Icrq),
        Some(Icrp),
        Some(Iccn),
        Some(Cdn),
        Some(StopCcn),
        None,
    ] {
        let mut sim = lns_lac(3);
        sim.filter = Some(drop_first(kind));
        full_life(&mut sim);
        let retx = counters(&sim, 0).retransmissions + counters(&sim, 1).retransmissions;
        assert!(
            retx >= 1,
            "{kind:?}: the loss was repaired by retransmission"
        );
        let dups = counters(&sim, 0).rx_duplicate + counters(&sim, 1).rx_duplicate;
        if kind.is_none() {
            // A lost ZLB makes the peer retransmit a message already received.
            assert!(dups >= 1, "lost ZLB: duplicate acknowledged again");
        }
    }
}

#[test]
fn duplication_and_reordering_and_loss() {
    let (mut held, mut dups) = (0, 0);
    for seed in 0..12 {
        let mut sim = lns_lac(100 + seed);
        sim.duplication = 150;
        sim.reordering = 250;
        sim.loss = 100;
        let (_, _) = dial(&mut sim, 1, 6);
        sim.run_for(secs(120));
        assert_eq!(ups(&sim, 1), (1, 6), "seed {seed}: all calls up at the LAC");
        assert_eq!(ups(&sim, 0), (1, 6), "seed {seed}: all calls up at the LNS");
        // Every event exactly once despite duplicates.
        assert_eq!(
            count(&sim, 0, |e| matches!(e, Event::IncomingCall { .. })),
            6
        );
        held += counters(&sim, 0).rx_held + counters(&sim, 1).rx_held;
        dups += counters(&sim, 0).rx_duplicate + counters(&sim, 1).rx_duplicate;
    }
    assert!(
        held > 0,
        "some early message was held and delivered in order"
    );
    assert!(dups > 0, "some duplicate was acknowledged again");
}

#[test]
fn early_messages_are_held_and_delivered_in_order() {
    let mut sim = lns_lac(4);
    let (lac_t, _) = dial(&mut sim, 1, 0);
    sim.run_for(secs(2));
    // Delay the first ICRQ so the later ones arrive first.
    let mut first = true;
    sim.filter = Some(Box::new(move |_, _, b| {
        if message_type(b) == Some(MessageType::Icrq) && first {
            first = false;
            Verdict::Delay(ms(400))
        } else {
            Verdict::Pass
        }
    }));
    let node = &mut sim.nodes[1];
    for _ in 0..4 {
        node.ep.place_call(sim.now, lac_t, &mut node.rng).unwrap();
    }
    // Let the congestion window open: acknowledge quickly, one at a time.
    sim.run_for(secs(5));
    assert_eq!(ups(&sim, 0).1, 4);
    // The LNS answered the ICRQs in Ns order: the ICRPs carry its
    // sessions in the order of the LAC's calls.
    let serials: Vec<u32> = sim
        .events(0)
        .iter()
        .filter_map(|e| match e {
            Event::IncomingCall { session, .. } => sim.nodes[0]
                .ep
                .session(*session)
                .map(|s| s.call_serial_number),
            _ => None,
        })
        .collect();
    assert_eq!(serials, [1, 2, 3, 4]);
}

#[test]
fn window_is_respected_and_opens() {
    let mut sim = lns_lac(5);
    let (lac_t, _) = dial(&mut sim, 1, 0);
    sim.run_for(secs(2));
    // Track the LAC's outstanding messages from the wire: highest Ns sent
    // versus the highest Nr the LNS has sent back.
    // After set-up the LAC has sent Ns 0 and 1 (SCCRQ, SCCCN), both acknowledged.
    let state = Rc::new(RefCell::new((2u16, 2u16, 0usize)));
    let s2 = state.clone();
    sim.filter = Some(Box::new(move |from, _, b| {
        let p = Packet::new_checked(b).unwrap();
        if !p.is_control() {
            return Verdict::Pass;
        }
        let mut st = s2.borrow_mut();
        if from == 1 && !p.payload().is_empty() {
            st.0 = st.0.max(p.ns().unwrap() + 1);
        }
        if from == 0 {
            st.1 = st.1.max(p.nr().unwrap());
        }
        st.2 = st.2.max(usize::from(st.0.saturating_sub(st.1)));
        // Slow acknowledgements make the window matter.
        if from == 0 {
            Verdict::Delay(ms(200))
        } else {
            Verdict::Pass
        }
    }));
    let node = &mut sim.nodes[1];
    for _ in 0..8 {
        node.ep.place_call(sim.now, lac_t, &mut node.rng).unwrap();
    }
    // The send queue holds 8: a ninth call must wait.
    assert_eq!(
        node.ep.place_call(sim.now, lac_t, &mut node.rng),
        Err(Error::QueueFull)
    );
    sim.run_for(secs(10));
    assert_eq!(ups(&sim, 1).1, 8);
    let max_outstanding = state.borrow().2;
    assert!(
        max_outstanding <= 4,
        "never more than the peer's window of 4: {max_outstanding}"
    );
    assert!(
        max_outstanding >= 2,
        "slow start opened the window: {max_outstanding}"
    );
}

#[test]
fn retries_exhausted_take_the_tunnel_down() {
    let mut sim = lns_lac(6);
    let (_, _) = dial(&mut sim, 1, 1);
    sim.run_for(secs(2));
    // The LAC vanishes: nothing it sends arrives.
    sim.filter = Some(Box::new(|from, _, _| {
        if from == 1 {
            Verdict::Drop
        } else {
            Verdict::Pass
        }
    }));
    let lns_s = lns_sessions(&sim)[0];
    let t0 = sim.now;
    sim.nodes[0]
        .ep
        .disconnect(lns_s, Reason::ADMINISTRATIVE)
        .unwrap();
    sim.run_for(secs(60));
    let cdn_times: Vec<u64> = sim.nodes[0]
        .sent
        .iter()
        .filter(|(_, _, b)| message_type(b) == Some(MessageType::Cdn))
        .map(|(t, _, _)| u64::try_from((*t - t0).as_millis()).unwrap())
        .collect();
    // Sent, then retransmitted after 1, 2, 4, 8, 8 s (RFC 2661 §5.8, cap 8 s, 5 retries).
    assert_eq!(cdn_times, [0, 1000, 3000, 7000, 15000, 23000]);
    assert!(sim.events(0).iter().any(|e| matches!(
        e,
        Event::TunnelDown {
            reason: None,
            origin: Origin::Timeout,
            ..
        }
    )));
    assert_eq!(counters(&sim, 0).tunnels_timed_out, 1);
    assert_eq!(sim.nodes[0].ep.tunnel_handles().count(), 0);
}

#[test]
fn hello_after_idle_interval() {
    let mut lns = Config::default();
    lns.set_hello_interval(10);
    assert_eq!(lns.hello_interval(), secs(10));
    let mut sim: Sim = Sim::new(vec![lns, Config::default()], 7);
    let (_, lac_s) = dial(&mut sim, 1, 1);
    sim.run_for(secs(1));
    // Keep the link busy for 30 s with LAC data every 4 s: no HELLO.
    for _ in 0..8 {
        send_frame(
            &mut sim,
            1,
            lac_s[0],
            b"\xff\x03\xc0\x21\x09\x01\x00\x08abcd",
        );
        sim.run_for(secs(4));
    }
    assert!(!sent_types(&sim.nodes[0]).contains(&MessageType::Hello));
    // Then silence: HELLO 10 s after the last message, acknowledged by a ZLB.
    let quiet = sim.now - secs(4);
    sim.run_for(secs(25));
    let hellos: Vec<_> = sim.nodes[0]
        .sent
        .iter()
        .filter(|(_, _, b)| message_type(b) == Some(MessageType::Hello))
        .map(|(t, _, _)| *t)
        .collect();
    assert!(!hellos.is_empty());
    let first = hellos[0] - quiet;
    assert!(
        first >= secs(10) && first <= secs(11),
        "first HELLO after {first:?}"
    );
    assert!(
        sim.nodes[1]
            .sent
            .iter()
            .any(|(t, _, b)| *t > hellos[0] && is_zlb(b))
    );
    // The LAC (default 60 s) has not sent one.
    assert!(!sent_types(&sim.nodes[1]).contains(&MessageType::Hello));
    // The clamp of `l2tp tunnel hello 10..300`.
    let mut c = Config::default();
    c.set_hello_interval(5);
    assert_eq!(c.hello_interval(), secs(10));
    c.set_hello_interval(1000);
    assert_eq!(c.hello_interval(), secs(300));
}

#[test]
fn hidden_avps_both_ways() {
    let mut sim: Sim = Sim::new(
        vec![
            with_secret(b"tunnel-secret", true),
            with_secret(b"tunnel-secret", true),
        ],
        8,
    );
    full_life(&mut sim);
    // On the wire the ICRQ's Assigned Session ID is hidden: unreadable
    // without the secret, and marked H.
    let (_, _, icrq) = sim.nodes[1]
        .sent
        .iter()
        .find(|(_, _, b)| message_type(b) == Some(MessageType::Icrq))
        .unwrap();
    let p = Packet::new_checked(&icrq[..]).unwrap();
    let raw = Message::parse(p.payload()).unwrap();
    assert!(raw.random_vector.is_some());
    assert_eq!(raw.assigned_session_id, None);
    assert!(raw.unknown_mandatory.is_some());
    // And the LNS's ICRP too.
    let (_, _, icrp) = sim.nodes[0]
        .sent
        .iter()
        .find(|(_, _, b)| message_type(b) == Some(MessageType::Icrp))
        .unwrap();
    let p = Packet::new_checked(&icrp[..]).unwrap();
    assert_eq!(
        Message::parse(p.payload()).unwrap().assigned_session_id,
        None
    );
}

#[test]
fn tunnel_authentication_right_secret() {
    let mut sim: Sim = Sim::new(
        vec![with_secret(b"s3cr3t", false), with_secret(b"s3cr3t", false)],
        9,
    );
    full_life(&mut sim);
    let sccrp = &sim.nodes[0]
        .sent
        .iter()
        .find(|(_, _, b)| message_type(b) == Some(MessageType::Sccrp))
        .unwrap()
        .2;
    let p = Packet::new_checked(&sccrp[..]).unwrap();
    let m = Message::parse(p.payload()).unwrap();
    assert!(m.challenge.is_some() && m.challenge_response.is_some());
    assert_eq!(
        counters(&sim, 0).auth_failures + counters(&sim, 1).auth_failures,
        0
    );
}

#[test]
fn tunnel_authentication_wrong_secret() {
    // Both challenge; the LAC finds the SCCRP's response wrong first.
    let mut sim: Sim = Sim::new(
        vec![with_secret(b"right", false), with_secret(b"wrong", false)],
        10,
    );
    dial(&mut sim, 1, 1);
    sim.run_for(secs(5));
    assert!(sim.events(1).iter().any(|e| matches!(
        e,
        Event::TunnelDown {
            reason: Some(Reason::NOT_AUTHORIZED),
            origin: Origin::Local,
            ..
        }
    )));
    assert!(sim.events(0).iter().any(|e| matches!(
        e,
        Event::TunnelDown {
            reason: Some(Reason::NOT_AUTHORIZED),
            origin: Origin::Peer,
            ..
        }
    )));
    assert_eq!(ups(&sim, 0), (0, 0));
    assert_eq!(counters(&sim, 1).auth_failures, 1);

    // Only the LNS has a secret: the LAC cannot answer its challenge.
    let mut sim: Sim = Sim::new(vec![with_secret(b"right", false), Config::default()], 11);
    dial(&mut sim, 1, 0);
    sim.run_for(secs(5));
    assert!(sim.events(1).iter().any(|e| matches!(
        e,
        Event::TunnelDown {
            reason: Some(Reason::NOT_AUTHORIZED),
            ..
        }
    )));
    assert_eq!(ups(&sim, 0), (0, 0));

    // Only the LAC has one: the LNS refuses the challenging SCCRQ (StopCCN 4).
    let mut sim: Sim = Sim::new(vec![Config::default(), with_secret(b"right", false)], 12);
    dial(&mut sim, 1, 0);
    sim.run_for(secs(5));
    assert!(sim.events(1).iter().any(|e| matches!(
        e,
        Event::TunnelDown {
            reason: Some(Reason::NOT_AUTHORIZED),
            origin: Origin::Peer,
            ..
        }
    )));
    assert_eq!(counters(&sim, 0).tunnels_refused, 1);
    assert_eq!(sim.nodes[0].ep.tunnel_handles().count(), 0);

    // The LNS checks the LAC's SCCCN response: a LAC that lies about its
    // response (rewritten on the wire) is refused with StopCCN 4.
    let mut sim: Sim = Sim::new(
        vec![with_secret(b"right", false), with_secret(b"right", false)],
        13,
    );
    sim.filter = Some(Box::new(|_, _, b| {
        if message_type(b) == Some(MessageType::Scccn) {
            let mut b = b.to_vec();
            let n = b.len();
            b[n - 1] ^= 1; // last byte of the Challenge Response
            Verdict::Replace(b)
        } else {
            Verdict::Pass
        }
    }));
    dial(&mut sim, 1, 0);
    sim.run_for(secs(5));
    assert_eq!(counters(&sim, 0).auth_failures, 1);
    assert!(sim.events(0).iter().any(|e| matches!(
        e,
        Event::TunnelDown {
            reason: Some(Reason::NOT_AUTHORIZED),
            origin: Origin::Local,
            ..
        }
    )));
    assert!(sim.events(1).iter().any(|e| matches!(
        e,
        Event::TunnelDown {
            reason: Some(Reason::NOT_AUTHORIZED),
            origin: Origin::Peer,
            ..
        }
    )));
}

/// Appends an AVP to a control message and fixes its Length field.
fn with_avp(b: &[u8], avp: &[u8]) -> Vec<u8> {
    let mut v = b.to_vec();
    v.extend_from_slice(avp);
    let n = u16::try_from(v.len()).unwrap();
    v[2..4].copy_from_slice(&n.to_be_bytes());
    v
}

#[test]
fn unknown_mandatory_avp_ends_session_or_tunnel() {
    // In an ICRQ: the call is refused with CDN 2/8, the tunnel stays.
    let mut sim = lns_lac(14);
    sim.filter = Some(Box::new(|_, _, b| {
        if message_type(b) == Some(MessageType::Icrq) {
            Verdict::Replace(with_avp(b, &[0x80, 0x08, 0, 0, 0, 99, 0, 1]))
        } else {
            Verdict::Pass
        }
    }));
    let (lac_t, _) = dial(&mut sim, 1, 1);
    sim.run_for(secs(3));
    assert!(sim.events(1).iter().any(|e| matches!(
        e,
        Event::SessionDown {
            reason: Some(Reason::UNKNOWN_MANDATORY),
            origin: Origin::Peer,
            ..
        }
    )));
    assert_eq!(
        sim.nodes[1].ep.tunnel(lac_t).unwrap().state,
        TunnelState::Established
    );
    assert_eq!(counters(&sim, 0).rx_unknown_mandatory, 1);

    // A vendor AVP without the M bit (Microsoft, 311) is ignored.
    let mut sim = lns_lac(15);
    sim.filter = Some(Box::new(|_, _, b| {
        if message_type(b) == Some(MessageType::Icrq) {
            Verdict::Replace(with_avp(b, &[0x00, 0x0a, 0x01, 0x37, 0, 1, 0, 0, 0, 1]))
        } else {
            Verdict::Pass
        }
    }));
    dial(&mut sim, 1, 1);
    sim.run_for(secs(3));
    assert_eq!(ups(&sim, 0), (1, 1));

    // The same with the M bit, in a HELLO: the tunnel ends with StopCCN 2/8.
    let mut lns = Config::default();
    lns.set_hello_interval(10);
    let mut lac = Config::default();
    lac.set_hello_interval(10);
    let mut sim: Sim = Sim::new(vec![lns, lac], 16);
    sim.filter = Some(Box::new(|from, _, b| {
        if from == 1 && message_type(b) == Some(MessageType::Hello) {
            Verdict::Replace(with_avp(b, &[0x80, 0x0a, 0x01, 0x37, 0, 1, 0, 0, 0, 1]))
        } else {
            Verdict::Pass
        }
    }));
    dial(&mut sim, 1, 1);
    sim.run_for(secs(30));
    assert!(sim.events(0).iter().any(|e| matches!(
        e,
        Event::TunnelDown {
            reason: Some(Reason::UNKNOWN_MANDATORY),
            origin: Origin::Local,
            ..
        }
    )));
    assert!(sim.events(1).iter().any(|e| matches!(
        e,
        Event::TunnelDown {
            reason: Some(Reason::UNKNOWN_MANDATORY),
            origin: Origin::Peer,
            ..
        }
    )));
    assert!(sim.events(0).iter().any(|e| matches!(
        e,
        Event::SessionDown {
            origin: Origin::Tunnel,
            ..
        }
    )));
}

#[test]
fn hundred_tunnels_from_one_peer() {
    let mut sim = lns_lac(17);
    let mut lac = vec![];
    for _ in 0..100 {
        let (t, s) = dial(&mut sim, 1, 1);
        lac.push((t, s[0]));
    }
    sim.run_for(secs(10));
    assert_eq!(ups(&sim, 0), (100, 100));
    assert_eq!(ups(&sim, 1), (100, 100));
    // Each LAC session's frame reaches exactly its LNS session.
    for (k, (_, s)) in lac.iter().enumerate() {
        send_frame(&mut sim, 1, *s, format!("frame {k}").as_bytes());
    }
    sim.run_for(secs(1));
    assert_eq!(sim.nodes[0].data.len(), 100);
    let mut seen = std::collections::HashSet::new();
    for (session, frame) in &sim.nodes[0].data {
        assert!(seen.insert(*session), "one frame per session");
        let info = sim.nodes[0].ep.session(*session).unwrap();
        let k: usize = std::str::from_utf8(&frame[6..]).unwrap().parse().unwrap();
        // The LNS session is the peer of the LAC session that sent it.
        let lac_info = sim.nodes[1].ep.session(lac[k].1).unwrap();
        assert_eq!(info.remote_id, lac_info.local_id);
        assert_eq!(info.local_id, lac_info.remote_id);
    }
    // Random, non-zero, unique tunnel IDs.
    let ids: std::collections::HashSet<u16> = sim.nodes[0]
        .ep
        .tunnel_handles()
        .map(|t| sim.nodes[0].ep.tunnel(t).unwrap().local_id)
        .collect();
    assert_eq!(ids.len(), 100);
    assert!(!ids.contains(&0));
}

#[test]
fn many_clients_behind_one_nat_with_the_same_ids() {
    // 30 LACs seeded alike choose identical tunnel and session IDs; the LNS
    // keeps them apart by peer handle (the IPsec SA), not by ID.
    let n = 30;
    let configs = (0..=n).map(|_| Config::default()).collect();
    let mut sim: Sim = Sim::new(configs, 18);
    for k in 1..=n {
        sim.reseed(k, 42);
        dial(&mut sim, k, 1);
    }
    sim.run_for(secs(10));
    assert_eq!(ups(&sim, 0), (n, n));
    let lac_ids: std::collections::HashSet<u16> = (1..=n)
        .map(|k| {
            let t = sim.nodes[k].ep.tunnel_handles().next().unwrap();
            sim.nodes[k].ep.tunnel(t).unwrap().local_id
        })
        .collect();
    assert_eq!(lac_ids.len(), 1, "every LAC chose the same tunnel ID");
    for k in 1..=n {
        let s = sim.events(k).iter().find_map(|e| match e {
            Event::SessionUp { session, .. } => Some(*session),
            _ => None,
        });
        send_frame(&mut sim, k, s.unwrap(), format!("from {k:02}").as_bytes());
    }
    sim.run_for(secs(1));
    for (session, frame) in &sim.nodes[0].data {
        let t = sim.nodes[0].ep.session(*session).unwrap().tunnel;
        let peer = sim.nodes[0].ep.tunnel(t).unwrap().peer;
        assert_eq!(frame, format!("from {peer:02}").as_bytes());
    }
    assert_eq!(sim.nodes[0].data.len(), n);
}

#[test]
fn full_tables_refused_with_rfc_result_codes() {
    // Two tunnels, two sessions at the LNS.
    let configs = vec![
        Config::default(),
        Config::default(),
        Config::default(),
        Config::default(),
    ];
    let mut sim: Sim<2, 2> = Sim::new(configs, 19);
    dial(&mut sim, 1, 1);
    dial(&mut sim, 2, 2);
    sim.run_for(secs(5));
    assert_eq!(ups(&sim, 0), (2, 2));
    // The second tunnel's second call: CDN 4 (no facilities, temporary).
    assert!(sim.events(2).iter().any(|e| matches!(
        e,
        Event::SessionDown {
            reason: Some(Reason::NO_FACILITIES),
            origin: Origin::Peer,
            ..
        }
    )));
    // A third tunnel: StopCCN 2/4 (insufficient resources), without state.
    dial(&mut sim, 3, 1);
    sim.run_for(secs(5));
    assert!(sim.events(3).iter().any(|e| matches!(
        e,
        Event::TunnelDown {
            reason: Some(Reason::NO_RESOURCES),
            origin: Origin::Peer,
            ..
        }
    )));
    assert_eq!(counters(&sim, 0).tunnels_refused, 1);
    assert_eq!(counters(&sim, 0).sessions_refused, 1);
    // The LAC's own table: a third connect fails locally.
    let node = &mut sim.nodes[1];
    node.ep.connect(sim.now, 0, &mut node.rng).unwrap();
    assert_eq!(
        node.ep.connect(sim.now, 0, &mut node.rng),
        Err(Error::TableFull)
    );
}

#[test]
fn stale_handles_and_small_buffers() {
    let mut sim = lns_lac(20);
    let (t, s) = dial(&mut sim, 1, 1);
    // A buffer too small for the SCCRQ says how much is needed and loses nothing.
    let mut small = [0u8; 16];
    let err = sim.nodes[1]
        .ep
        .poll_transmit(sim.now, &mut small)
        .unwrap_err();
    assert!(err.needed > 16 && err.needed <= l2tp_core::MAX_CONTROL_LEN);
    sim.run_for(secs(2));
    assert_eq!(ups(&sim, 1), (1, 1));
    // Not enough headroom for the data header.
    let mut buf = [0u8; 20];
    assert_eq!(
        sim.nodes[1].ep.send_data(sim.now, s[0], &mut buf, 4..20),
        Err(Error::BufferTooSmall { needed: 6 })
    );
    sim.nodes[1]
        .ep
        .close_tunnel(sim.now, t, Reason::CLEAR)
        .unwrap();
    sim.run_for(secs(40));
    assert_eq!(sim.nodes[1].ep.session(s[0]), None);
    assert_eq!(sim.nodes[1].ep.tunnel(t), None);
    let node = &mut sim.nodes[1];
    assert_eq!(
        node.ep.place_call(sim.now, t, &mut node.rng),
        Err(Error::InvalidHandle)
    );
    // The slot is reused under a new generation: the old handle stays stale.
    let t2 = node.ep.connect(sim.now, 0, &mut node.rng).unwrap();
    assert_ne!(t2, t);
    assert_eq!(node.ep.tunnel(t), None);
    assert_eq!(node.ep.session(s[0]).map(|i| i.state), None::<SessionState>);
}

#[test]
fn hello_dropped_once_is_retransmitted() {
    let mut lns = Config::default();
    lns.set_hello_interval(10);
    let mut sim: Sim = Sim::new(vec![lns, Config::default()], 21);
    sim.filter = Some(drop_first(Some(MessageType::Hello)));
    let (lac_t, _) = dial(&mut sim, 1, 1);
    sim.run_for(secs(15));
    let hellos: Vec<_> = sim.nodes[0]
        .sent
        .iter()
        .filter(|(_, _, b)| message_type(b) == Some(MessageType::Hello))
        .map(|(t, _, b)| (*t, Packet::new_checked(&b[..]).unwrap().ns()))
        .collect();
    // The lost HELLO went out again 1 s later with the same Ns.
    assert_eq!(hellos.len(), 2);
    assert_eq!(hellos[1].0 - hellos[0].0, secs(1));
    assert_eq!(hellos[0].1, hellos[1].1);
    assert_eq!(
        sim.nodes[1].ep.tunnel(lac_t).unwrap().state,
        TunnelState::Established
    );
}

#[test]
fn lac_sends_sequence_numbers_once_the_lns_does() {
    let mut sim = lns_lac(22);
    let (lac_t, lac_s) = dial(&mut sim, 1, 1);
    sim.run_for(secs(2));
    let tid = sim.nodes[1].ep.tunnel(lac_t).unwrap().local_id;
    let s = sim.nodes[1].ep.session(lac_s[0]).unwrap();
    assert!(!s.sequencing);
    // A data message as the LNS would send it with S set (RFC 2661 §5.4).
    let mut d = vec![0x08, 0x02];
    for f in [tid, s.local_id, 0, 0] {
        d.extend_from_slice(&f.to_be_bytes());
    }
    d.extend_from_slice(b"\xff\x03\x00\x21ping");
    sim.deliver(0, 1, d);
    assert_eq!(sim.nodes[1].data.len(), 1);
    assert!(sim.nodes[1].ep.session(lac_s[0]).unwrap().sequencing);
    let mut buf = [0u8; 32];
    buf[16..20].copy_from_slice(b"pong");
    let (_, range) = sim.nodes[1]
        .ep
        .send_data(sim.now, lac_s[0], &mut buf, 16..20)
        .unwrap();
    let p = Packet::new_checked(&buf[range]).unwrap();
    assert_eq!((p.ns(), p.payload()), (Some(0), &b"pong"[..]));
    // A datagram from another peer handle with the right IDs is not this tunnel's.
    let mut d = vec![0x00, 0x02];
    for f in [tid, s.local_id] {
        d.extend_from_slice(&f.to_be_bytes());
    }
    d.extend_from_slice(b"spoof");
    let now = sim.now;
    let node = &mut sim.nodes[1];
    assert_eq!(
        node.ep.handle_datagram(now, 5, &mut d, &mut node.rng),
        Err(Error::UnknownTunnel)
    );
}

#[test]
fn tunnels_per_peer_are_limited_when_configured() {
    // At most two tunnels per peer handle (one IPsec SA at the gateway):
    // the third SCCRQ from the same peer gets StopCCN 2/4 and leaves no
    // state; another peer is still served.
    let mut lns = Config::default();
    lns.max_tunnels_per_peer = 2;
    let configs = vec![lns, Config::default(), Config::default()];
    let mut sim: Sim = Sim::new(configs, 21);
    for _ in 0..5 {
        dial(&mut sim, 1, 1);
    }
    sim.run_for(secs(5));
    assert_eq!(ups(&sim, 0), (2, 2));
    let refused = count(&sim, 1, |e| {
        matches!(
            e,
            Event::TunnelDown {
                reason: Some(Reason::NO_RESOURCES),
                origin: Origin::Peer,
                ..
            }
        )
    });
    assert_eq!(refused, 3);
    assert_eq!(counters(&sim, 0).tunnels_refused, 3);
    assert_eq!(sim.nodes[0].ep.tunnel_handles().count(), 2);
    dial(&mut sim, 2, 1);
    sim.run_for(secs(5));
    assert_eq!(ups(&sim, 0), (3, 3));
}
