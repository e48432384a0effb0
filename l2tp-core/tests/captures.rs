//! The codec and both roles against bytes this crate did not write: the
//! third-party L2TP data captures (testdata/l2tp-core/, see
//! testdata/SOURCES.md) and the complete xl2tpd <-> xl2tpd control
//! exchanges inside the project's five L2TP/IPsec sessions (ESP opened with
//! the captured keys through `testkit`).

use core::time::Duration;

use l2tp_core::wire::{HeaderRepr, Message, MessageType, Packet, ResultCode};
use l2tp_core::{Config, Endpoint, Event, Origin, Reason, Received, TunnelState};
use testkit::l2tp_ipsec::{Capture, Session, sessions};
use testkit::{net, pcap, testdata};

fn l2tp_of(path: &str) -> Vec<Vec<u8>> {
    let cap = pcap::read(testdata(path));
    net::udp_datagrams(&cap)
        .into_iter()
        .filter(|d| d.src.port() == 1701 || d.dst.port() == 1701)
        .map(|d| d.payload)
        .collect()
}

#[test]
fn data_messages_of_a_real_isp_capture() {
    // suricata-verify decode-l2tp-v2 (MIT): PPP/IPv6 over L2TP over PPPoE.
    let msgs = l2tp_of("l2tp-core/l2tpv2-data-ppp-ipv6-over-pppoe.pcap");
    assert_eq!(msgs.len(), 9);
    for m in &msgs {
        let p = Packet::new_checked(&m[..]).unwrap();
        assert!(!p.is_control());
        assert_eq!(p.length(), None);
        assert_eq!(p.ns(), None);
        // Both directions: the LAC's tunnel 0x05f7 / session 0x206a, the
        // LNS's 0x4a32 / 0xd35e with an empty offset field.
        match (p.tunnel_id(), p.session_id()) {
            (0x05f7, 0x206a) => assert_eq!(p.offset_size(), None),
            (0x4a32, 0xd35e) => assert_eq!(p.offset_size(), Some(0)),
            other => panic!("unexpected ids {other:?}"),
        }
        // An uncompressed PPP frame carrying IPv6 (protocol 0x0057).
        assert_eq!(&p.payload()[..4], &[0xff, 0x03, 0x00, 0x57]);
        assert_eq!(p.payload()[4] >> 4, 6);
        // The header re-emits to the same bytes.
        let h = HeaderRepr::parse(&p);
        let mut out = vec![0u8; h.header_len()];
        h.emit(&mut out, 0);
        assert_eq!(out, m[..h.header_len()]);
    }
}

#[test]
fn data_message_with_offset_and_priority() {
    // packetnet l2tp.pcap (MPL-2.0): one data message, O and P set.
    let msgs = l2tp_of("l2tp-core/l2tpv2-data-lcp-echo-request.pcap");
    assert_eq!(msgs.len(), 1);
    let p = Packet::new_checked(&msgs[0][..]).unwrap();
    assert!(p.priority() && p.has_offset());
    assert_eq!((p.tunnel_id(), p.session_id()), (18994, 54110));
    // LCP Echo-Request (code 9), magic 0xc1343922.
    assert_eq!(&p.payload()[..5], &[0xff, 0x03, 0xc0, 0x21, 0x09]);
    assert_eq!(&p.payload()[8..12], &[0xc1, 0x34, 0x39, 0x22]);
}

struct Ctl {
    from_client: bool,
    ns: u16,
    nr: u16,
    kind: Option<MessageType>,
}

fn control_messages(s: &Session) -> Vec<Ctl> {
    s.l2tp_payloads(Capture::LnsNic)
        .iter()
        .filter_map(|d| {
            let p = Packet::new_checked(&d.payload[..]).unwrap();
            p.is_control().then(|| Ctl {
                from_client: d.from_client,
                ns: p.ns().unwrap(),
                nr: p.nr().unwrap(),
                kind: (!p.payload().is_empty())
                    .then(|| Message::parse(p.payload()).unwrap().message_type),
            })
        })
        .collect()
}

#[test]
fn every_control_message_of_the_five_sessions() {
    use MessageType::*;
    let all = sessions();
    assert_eq!(all.len(), 5);
    for s in &all {
        let ctl = control_messages(s);
        // Without retransmissions (same Ns again) and ZLBs, each side's
        // messages in order.
        let side = |client: bool| {
            let mut v: Vec<(u16, MessageType)> = vec![];
            for c in ctl.iter().filter(|c| c.from_client == client) {
                if let Some(k) = c.kind
                    && v.last().map(|l| l.0) != Some(c.ns)
                {
                    v.push((c.ns, k));
                }
            }
            v
        };
        let lac = side(true);
        let lns = side(false);
        let expected_lac: Vec<(u16, MessageType)> = if s.id == 'a' {
            vec![
                (0, Sccrq),
                (1, Scccn),
                (2, Icrq),
                (3, Iccn),
                (4, Hello),
                (5, StopCcn),
            ]
        } else {
            vec![
                (0, Sccrq),
                (1, Scccn),
                (2, Icrq),
                (3, Iccn),
                (4, Cdn),
                (5, StopCcn),
            ]
        };
        assert_eq!(lac, expected_lac, "session {}", s.id);
        let expected_lns: Vec<(u16, MessageType)> = if s.id == 'a' {
            vec![(0, Sccrp), (1, Icrp), (2, Hello)]
        } else {
            vec![(0, Sccrp), (1, Icrp)]
        };
        assert_eq!(lns, expected_lns, "session {}", s.id);
        // The SCCRQ went out more than once with Ns 0 (README: retransmitted).
        assert!(ctl.iter().filter(|c| c.kind == Some(Sccrq)).count() >= 2);
        // Every message acknowledges everything the other side sent before it.
        let zlbs = ctl.iter().filter(|c| c.kind.is_none()).count();
        assert!(zlbs >= 5, "session {}: {zlbs} ZLBs", s.id);
        let last_lns_nr = ctl.iter().rev().find(|c| !c.from_client).unwrap().nr;
        assert_eq!(
            last_lns_nr, 6,
            "session {}: the final ZLB acknowledges the StopCCN",
            s.id
        );
    }
}

#[test]
fn avps_of_the_xl2tpd_messages_parse_and_round_trip() {
    for s in sessions() {
        for d in s.l2tp_payloads(Capture::LnsNic) {
            let p = Packet::new_checked(&d.payload[..]).unwrap();
            if !p.is_control() || p.payload().is_empty() {
                continue;
            }
            let m = Message::parse(p.payload()).unwrap();
            assert_eq!(m.unknown_mandatory, None);
            // Our emission of the same Repr parses back to it.
            let mut buf = vec![0u8; m.buffer_len(None)];
            m.emit(&mut buf, None);
            assert_eq!(Message::parse(&buf).unwrap(), m);
            match m.message_type {
                MessageType::Sccrq | MessageType::Sccrp => {
                    assert_eq!(m.protocol_version, Some((1, 0)));
                    assert_eq!(m.host_name, Some(&b"interop"[..]));
                    assert_eq!(m.vendor_name, Some(&b"xelerance.com"[..]));
                    assert_eq!(m.firmware_revision, Some(0x0690));
                    assert_eq!(m.receive_window_size, Some(4));
                    assert_eq!(m.framing_capabilities, Some(3));
                    assert!(m.assigned_tunnel_id.is_some_and(|t| t != 0));
                }
                MessageType::Icrq => {
                    assert!(m.assigned_session_id.is_some_and(|t| t != 0));
                    assert!(m.call_serial_number.is_some());
                }
                MessageType::Iccn => {
                    assert_eq!(m.framing_type, Some(1));
                    assert!(m.tx_connect_speed.is_some());
                }
                MessageType::Cdn => {
                    assert_eq!(
                        m.result_code,
                        Some(ResultCode {
                            result: 1,
                            error: Some(0),
                            message: &[]
                        })
                    );
                    assert!(m.assigned_session_id.is_some());
                }
                MessageType::StopCcn => {
                    assert_eq!(
                        m.result_code,
                        Some(ResultCode {
                            result: 1,
                            error: Some(0),
                            message: b"Goodbye!"
                        })
                    );
                }
                _ => {}
            }
        }
    }
}

/// Rewrites the Tunnel ID and Session ID of an L2TP header in place.
fn rewrite_ids(b: &mut [u8], tunnel: u16, session: Option<u16>) {
    let at = if b[0] & 0x40 != 0 { 4 } else { 2 };
    if b[at..at + 2] != [0, 0] {
        b[at..at + 2].copy_from_slice(&tunnel.to_be_bytes());
    }
    if let Some(s) = session
        && b[at + 2..at + 4] != [0, 0]
    {
        b[at + 2..at + 4].copy_from_slice(&s.to_be_bytes());
    }
}

type Ep = Endpoint<u8, 4, 4>;

fn drain(ep: &mut Ep, now: Duration, sent: &mut Vec<Vec<u8>>, events: &mut Vec<Event<u8>>) {
    let mut buf = [0u8; l2tp_core::MAX_CONTROL_LEN];
    while let Some(t) = ep.poll_transmit(now, &mut buf).unwrap() {
        assert_eq!(t.peer, 7);
        sent.push(buf[..t.len].to_vec());
    }
    while let Some(e) = ep.poll_event() {
        events.push(e);
    }
    ep.handle_timeout(now);
}

/// Our LNS answers the xl2tpd LAC of every session, message for message:
/// the LAC's datagrams are replayed with only the header IDs changed to
/// the ones our LNS chose. Ns and Nr are the LAC's own: our LNS numbers its
/// messages as xl2tpd did, so the LAC's acknowledgements fit.
#[test]
fn our_lns_serves_the_captured_xl2tpd_lac() {
    for s in sessions() {
        let mut rng = testkit::rng(u64::from(s.id as u32));
        let mut ep = Ep::new(Config::default());
        let (mut sent, mut events) = (vec![], vec![]);
        let payloads = s.l2tp_payloads(Capture::LnsNic);
        let t0 = payloads[0].timestamp;
        let (mut tid, mut sid) = (0u16, None);
        let mut frames = 0;
        let mut ppp_in = vec![];
        let mut after_close = 0;
        for d in payloads.iter().filter(|d| d.from_client) {
            let now = d.timestamp - t0;
            let mut b = d.payload.clone();
            rewrite_ids(&mut b, tid, sid);
            match ep.handle_datagram(now, 7, &mut b, &mut rng) {
                Ok(Received::Data { session, payload }) => {
                    frames += 1;
                    assert_eq!(ep.session(session).unwrap().counters.rx_packets, frames);
                    ppp_in.push(b[payload].to_vec());
                }
                Ok(Received::Control) => {}
                // README: after the StopCCN, the client's LCP Terminate-Request
                // finds no session any more.
                Err(l2tp_core::Error::UnknownSession)
                    if events.iter().any(|e| matches!(e, Event::TunnelDown { .. })) =>
                {
                    after_close += 1;
                }
                Err(e) => panic!("session {}: {e:?} for {:02x?}", s.id, &d.payload[..12]),
            }
            drain(&mut ep, now, &mut sent, &mut events);
            if tid == 0 {
                tid = ep
                    .tunnel_handles()
                    .next()
                    .map(|t| ep.tunnel(t).unwrap().local_id)
                    .unwrap_or(0);
            }
            if sid.is_none() {
                sid = events.iter().find_map(|e| match e {
                    Event::IncomingCall { session, .. } => {
                        Some(ep.session(*session).unwrap().local_id)
                    }
                    _ => None,
                });
            }
        }
        // Every PPP frame the client sent came out whole.
        let client_frames: Vec<Vec<u8>> = payloads
            .iter()
            .filter(|d| d.from_client)
            .filter_map(|d| {
                let p = Packet::new_checked(&d.payload[..]).unwrap();
                (!p.is_control()).then(|| p.payload().to_vec())
            })
            .collect();
        assert_eq!(
            after_close,
            if s.id == 'a' { 2 } else { 0 },
            "session {}",
            s.id
        );
        assert_eq!(
            ppp_in,
            client_frames[..client_frames.len() - after_close],
            "session {}",
            s.id
        );
        assert!(frames > 10);
        // What our LNS sent: SCCRP acknowledging the SCCRQ, then ICRP, plus ZLBs.
        let kinds: Vec<Option<MessageType>> = sent
            .iter()
            .map(|b| {
                let p = Packet::new_checked(&b[..]).unwrap();
                (!p.payload().is_empty()).then(|| Message::parse(p.payload()).unwrap().message_type)
            })
            .collect();
        let msgs: Vec<MessageType> = kinds.iter().flatten().copied().collect();
        assert_eq!(
            &msgs[..2],
            &[MessageType::Sccrp, MessageType::Icrp],
            "session {}",
            s.id
        );
        let sccrp = Packet::new_checked(&sent[0][..]).unwrap();
        assert_eq!((sccrp.ns(), sccrp.nr()), (Some(0), Some(1)));
        assert_eq!(
            ep.counters().rx_duplicate,
            1 + u32::from(s.id == 'c'),
            "the repeated SCCRQs"
        );
        // The events of the whole life of the call.
        let mut want = vec!["TunnelUp", "IncomingCall", "SessionUp"];
        if s.id != 'a' {
            want.push("SessionDown(Peer, 1/0)");
        }
        want.push("TunnelDown(Peer, 1/0)");
        let got: Vec<String> = events
            .iter()
            .map(|e| match e {
                Event::TunnelUp { .. } => "TunnelUp".into(),
                Event::IncomingCall { .. } => "IncomingCall".into(),
                Event::SessionUp { .. } => "SessionUp".into(),
                Event::SessionDown {
                    origin: Origin::Peer,
                    reason:
                        Some(Reason {
                            result,
                            error: Some(e),
                        }),
                    ..
                } => {
                    format!("SessionDown(Peer, {result}/{e})")
                }
                Event::SessionDown {
                    origin: Origin::Tunnel,
                    ..
                } => "SessionDown(Tunnel)".into(),
                Event::TunnelDown {
                    origin: Origin::Peer,
                    reason:
                        Some(Reason {
                            result,
                            error: Some(e),
                        }),
                    ..
                } => {
                    format!("TunnelDown(Peer, {result}/{e})")
                }
                other => format!("{other:?}"),
            })
            .filter(|e| e != "SessionDown(Tunnel)")
            .collect();
        assert_eq!(got, want, "session {}", s.id);
        // The StopCCN was acknowledged with a ZLB (Nr 6), as xl2tpd did.
        let last = Packet::new_checked(&sent.last().unwrap()[..]).unwrap();
        assert!(last.payload().is_empty());
        assert_eq!(last.nr(), Some(6));
    }
}

/// Our LAC dials the captured xl2tpd LNS of session a: its SCCRP, ICRP,
/// ZLBs, HELLO and PPP frames are replayed with the header IDs changed to
/// ours.
#[test]
fn our_lac_dials_the_captured_xl2tpd_lns() {
    let s = sessions().into_iter().find(|s| s.id == 'a').unwrap();
    let mut rng = testkit::rng(1);
    let mut ep = Ep::new(Config::default());
    let (mut sent, mut events) = (vec![], vec![]);
    let t = ep.connect(Duration::ZERO, 7, &mut rng).unwrap();
    let call = ep.place_call(Duration::ZERO, t, &mut rng).unwrap();
    drain(&mut ep, Duration::ZERO, &mut sent, &mut events);
    let payloads = s.l2tp_payloads(Capture::LnsNic);
    let t0 = payloads[0].timestamp;
    let tid = ep.tunnel(t).unwrap().local_id;
    let sid = ep.session(call).unwrap().local_id;
    let mut frames = 0;
    for d in payloads.iter().filter(|d| !d.from_client) {
        let now = d.timestamp - t0;
        let mut b = d.payload.clone();
        rewrite_ids(&mut b, tid, Some(sid));
        if let Ok(Received::Data { session, .. }) = ep.handle_datagram(now, 7, &mut b, &mut rng) {
            assert_eq!(session, call);
            frames += 1;
        }
        drain(&mut ep, now, &mut sent, &mut events);
    }
    assert!(frames > 10);
    assert!(events.contains(&Event::TunnelUp { tunnel: t, peer: 7 }));
    assert!(events.contains(&Event::SessionUp {
        tunnel: t,
        session: call
    }));
    let info = ep.tunnel(t).unwrap();
    assert_eq!(info.state, TunnelState::Established);
    assert_eq!(info.peer_host_name, b"interop");
    assert_eq!(info.peer_vendor_name, b"xelerance.com");
    assert_eq!(info.peer_firmware_revision, Some(0x0690));
    assert_eq!(info.peer_receive_window, 4);
    assert_eq!(info.remote_id, 0x36d1);
    assert_eq!(ep.session(call).unwrap().remote_id, 0x1b95);
    // Our side: SCCRQ, SCCCN, ICRQ, ICCN, and a ZLB for the LNS's HELLO.
    let kinds: Vec<MessageType> = sent
        .iter()
        .filter_map(|b| {
            let p = Packet::new_checked(&b[..]).unwrap();
            (!p.payload().is_empty()).then(|| Message::parse(p.payload()).unwrap().message_type)
        })
        .collect();
    assert_eq!(
        &kinds[..4],
        &[
            MessageType::Sccrq,
            MessageType::Scccn,
            MessageType::Icrq,
            MessageType::Iccn
        ]
    );
    let last = Packet::new_checked(&sent.last().unwrap()[..]).unwrap();
    assert!(
        last.payload().is_empty() && last.nr() == Some(3),
        "HELLO (Ns 2) acknowledged"
    );
}
