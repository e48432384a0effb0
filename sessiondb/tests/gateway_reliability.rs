//! Regression tests for what the soak (`tests/soak.rs`) found, each
//! reduced to the smallest scenario that shows it.
#![allow(clippy::cast_possible_truncation)]

mod sim;

use ppp_core::AuthMethod;
use sessiondb::gateway::{Event, Refused, Resources};
use sim::radius::UserReply;
use sim::{Sim, big_stack, config};
use std::time::Duration;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn radius_config(authentication: &str) -> sessiondb::Config {
    radius_config_timeout(authentication, 6)
}

fn radius_config_timeout(authentication: &str, timeout: u32) -> sessiondb::Config {
    config(&format!(
        "aaa-server RAD protocol radius
aaa-server RAD (inside) host 10.9.9.9
 key radsecret
 timeout {timeout}
 retry-interval 2
tunnel-group DefaultRAGroup general-attributes
{authentication} accounting-server-group RAD
group-policy DfltGrpPolicy attributes
 vpn-simultaneous-logins 16
"
    ))
}

/// Found by the soak: a configuration reload rebuilt every RADIUS client,
/// so an Accounting-Start still being retransmitted was dropped and the
/// server later saw a Stop without a Start. An unchanged server group now
/// keeps its client and its requests across the reload.
#[test]
fn a_reload_keeps_accounting_requests_in_flight() {
    big_stack(|| {
        let mut sim = Sim::new(radius_config(""), 41);
        // The server is away while the session comes up: its Start waits
        // for a retransmission.
        sim.radius.silent = true;
        let c = sim.add_client(true, "alice", "s3cret-Pass", AuthMethod::MsChapV2);
        sim.connect(c);
        sim.run_until(secs(4));
        assert!(sim.clients[c].address.is_some());
        assert!(sim.radius.starts.is_empty());
        let sent: std::collections::BTreeSet<_> = sim.radius.unheard_starts.iter().collect();
        assert_eq!(sent.len(), 1, "the Start went out unheard");
        // The same configuration again (as `configure` + `write` would),
        // then the server comes back before the request's timeout.
        let now = sim.now;
        let again = radius_config("");
        sim.gateway.replace_config(now, again, &mut sim.gateway_rng);
        sim.radius.silent = false;
        sim.run_until(sim.now + secs(3));
        assert_eq!(
            sim.radius.starts[..1],
            sim.radius.unheard_starts[..1],
            "the Start was retransmitted after the reload"
        );
        sim.hang_up([c], secs(5), secs(30));
        let stops: Vec<_> = sim.radius.stops.iter().map(|(s, _)| s.clone()).collect();
        assert_eq!(stops[..1], sim.radius.starts[..], "Start and Stop balanced");
        assert_eq!(sim.gateway.resources(), Resources::default());
    });
}

/// Found by the soak: a login that found every RADIUS request slot taken
/// (by Accounting-Starts retransmitted to a server that is away) was
/// refused at once as `ServerTimeout`, although no server had been asked.
/// It is now refused as `Busy` (the client may try again), and the local
/// database does not decide for a server that may be alive.
#[test]
fn a_login_without_a_free_radius_request_slot_is_busy() {
    big_stack(|| {
        // Local authentication, accounting to a server that is away and
        // waited for 30 s: eight sessions fill the eight request slots
        // with their Starts.
        let mut sim = Sim::new(radius_config_timeout("", 30), 42);
        sim.radius.silent = true;
        for i in 0..8 {
            let (user, pw) = if i % 2 == 0 {
                ("alice", "s3cret-Pass")
            } else {
                ("bob", "b0b-pass")
            };
            let c = sim.add_client(true, user, pw, AuthMethod::MsChapV2);
            sim.connect(c);
        }
        sim.run_until(sim.now + secs(8));
        assert_eq!(sim.gateway.resources().radius_requests, 8);
        assert_eq!(sim.gateway.sessions().len(), 8);
        // Authentication now goes to the same (unchanged) server group
        // first; its client keeps the eight Starts.
        let now = sim.now;
        let again = radius_config_timeout(" authentication-server-group RAD LOCAL\n", 30);
        sim.gateway.replace_config(now, again, &mut sim.gateway_rng);
        assert_eq!(sim.gateway.resources().radius_requests, 8);
        sim.radius
            .user("alice", "s3cret-Pass", UserReply::default());
        let c = sim.add_client(true, "alice", "s3cret-Pass", AuthMethod::MsChapV2);
        sim.connect(c);
        sim.run_until(sim.now + secs(5));
        let reasons: Vec<_> = sim
            .gateway_events
            .iter()
            .filter_map(|e| match e {
                Event::LoginRefused { reason, .. } => Some(*reason),
                _ => None,
            })
            .collect();
        assert_eq!(reasons, [Refused::Busy]);
        assert!(sim.clients[c].address.is_none());
    });
}

/// Found by the soak: while an Accounting-Stop waited for a free RADIUS
/// request slot, the ended session's address went back to the pool and
/// was given to the next client, so the table showed two sessions with
/// one address and the server would have seen the new Start before the
/// old Stop. The address now stays out of the pool until the Stop is
/// sent (or given up), and a session that ended before its Start could be
/// sent is counted in `accounting_lost`.
#[test]
fn a_deferred_stop_keeps_its_address_until_sent() {
    big_stack(|| {
        // Nine addresses in the pool; accounting to a server that is away
        // (and waited for 30 s), so that the eight request slots fill with
        // Starts.
        let text = {
            let base = radius_config_timeout("", 30);
            let mut t = String::new();
            base.write_running_config(&mut t, sessiondb::SecretDisplay::Clear)
                .unwrap();
            t.replace("10.10.0.10-10.10.0.250", "10.10.0.10-10.10.0.18")
        };
        let mut sim = Sim::new(sessiondb::Config::parse(&text).unwrap(), 43);
        sim.radius.silent = true;
        let mut up = Vec::new();
        for i in 0..9 {
            let user = if i % 2 == 0 { "alice" } else { "bob" };
            let pw = if i % 2 == 0 {
                "s3cret-Pass"
            } else {
                "b0b-pass"
            };
            let c = sim.add_client(true, user, pw, AuthMethod::MsChapV2);
            sim.connect(c);
            up.push(c);
        }
        sim.run_until(sim.now + secs(8));
        assert!(up.iter().all(|&c| sim.clients[c].address.is_some()));
        // Eight Starts fill the request slots; the ninth waits.
        assert_eq!(sim.gateway.resources().radius_requests, 8);
        assert!(sim.gateway.counters().accounting_deferred > 0);
        // The first, whose Start went out, hangs up: its Stop finds no
        // free slot.
        let last = up[0];
        let address = sim.clients[last].address.expect("up");
        let now = sim.now;
        sim.clients[last]
            .dialer
            .disconnect(now, &mut sim.client_rng);
        sim.flush();
        sim.run_until(sim.now + secs(2));
        let now = sim.now;
        sim.clients[last]
            .dialer
            .delete_sas(now, &mut sim.client_rng);
        sim.flush();
        // While the slots stay full, a new client does not get the address
        // (the pool has no other).
        let mut seen = Vec::new();
        for _ in 0..3 {
            let c = sim.add_client(true, "alice", "s3cret-Pass", AuthMethod::MsChapV2);
            sim.connect(c);
            sim.run_until(sim.now + secs(1));
            seen.push(c);
        }
        for (_, s) in sim.gateway.sessions().iter() {
            let same = sim
                .gateway
                .sessions()
                .iter()
                .filter(|(_, x)| x.assigned_ip.is_some() && x.assigned_ip == s.assigned_ip)
                .count();
            assert_eq!(same, 1, "two records with {:?}", s.assigned_ip);
        }
        for c in seen {
            assert_ne!(sim.clients[c].address, Some(address), "client {c}");
        }
        // The server comes back; everyone leaves; nothing is held and every
        // session is accounted or counted as lost.
        sim.radius.silent = false;
        let n = sim.clients.len();
        sim.hang_up(0..n, secs(5), secs(120));
        assert_eq!(sim.gateway.resources(), Resources::default());
        let c = *sim.gateway.counters();
        let stops: std::collections::BTreeSet<_> =
            sim.radius.stops.iter().map(|(s, _)| s.clone()).collect();
        assert_eq!(c.sessions_up, c.sessions_down);
        assert_eq!(
            stops.len() as u64 + c.accounting_lost,
            c.sessions_up,
            "{c:?}"
        );
    });
}

/// Sends `message` as L2TP from client 0 through its IPsec SA.
fn l2tp_from_client(sim: &mut Sim, message: &[u8]) {
    udp_from_client(sim, message, 1701, 1701);
}

/// Sends `message` as a UDP datagram between the given ports from client
/// 0 through its IPsec SA.
fn udp_from_client(sim: &mut Sim, message: &[u8], src_port: u16, dst_port: u16) {
    let mut buf = vec![0u8; 4096];
    let at = 128;
    buf[at..at + message.len()].copy_from_slice(message);
    let now = sim.now;
    let t = sim.clients[0]
        .dialer
        .send_raw_udp(now, &mut buf, at..at + message.len(), src_port, dst_port)
        .unwrap();
    let payload = buf[t.range].to_vec();
    let sessiondb::dialer::DialerDestination::Udp { local_port, remote } = t.destination else {
        panic!("behind NAT: UDP-encapsulated ESP");
    };
    let src = std::net::SocketAddrV4::new(sim.clients[0].private, local_port);
    sim.send_from_client(
        0,
        sim::Wire::Udp {
            src,
            dst: remote,
            payload,
        },
    );
    sim.run_until(sim.now + Duration::from_millis(100));
}

/// An L2TP control message: header (T, L, S, version 2), then `avps`
/// (type, mandatory, value).
fn control(version: u8, avps: &[(u16, bool, &[u8])]) -> Vec<u8> {
    let mut m = vec![0xc8, version, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    for (kind, mandatory, value) in avps {
        let len = 6 + value.len() as u16;
        let flags = if *mandatory { 0x8000 } else { 0 };
        m.extend_from_slice(&(flags | len).to_be_bytes());
        m.extend_from_slice(&0u16.to_be_bytes());
        m.extend_from_slice(&kind.to_be_bytes());
        m.extend_from_slice(value);
    }
    let len = m.len() as u16;
    m[2..4].copy_from_slice(&len.to_be_bytes());
    m
}

/// The catalogue's L2TP and ESP rows at the gateway, from inside a valid
/// SA: a truncated header, a bad version, a bad length, an unknown
/// mandatory AVP, an SCCRQ of protocol version 2.0, a replayed ESP
/// datagram. Each is counted; the session keeps carrying traffic.
#[test]
fn malformed_l2tp_and_replayed_esp_inside_a_valid_sa() {
    big_stack(|| {
        let mut sim = Sim::new(config(""), 44);
        let c = sim.add_client(true, "alice", "s3cret-Pass", AuthMethod::MsChapV2);
        sim.connect(c);
        sim.run_until(secs(30));
        assert!(sim.clients[c].address.is_some());
        let (_, esp0, l2tp0) = sim.gateway.core_counters();
        let g0 = *sim.gateway.counters();
        let sccrq = |version: [u8; 2], extra: Option<(u16, bool, &'static [u8])>| {
            let mut avps: Vec<(u16, bool, &[u8])> = vec![
                (0, true, &[0, 1]),
                (2, true, &version),
                (3, true, &[0, 0, 0, 3]),
                (7, true, b"probe"),
                (9, true, &[0x12, 0x34]),
            ];
            avps.extend(extra);
            control(2, &avps)
        };
        // Truncated: a control header cut after 5 octets.
        l2tp_from_client(&mut sim, &sccrq([1, 0], None)[..5]);
        // Bad length: the Length field beyond the datagram.
        let mut long = sccrq([1, 0], None);
        long[2..4].copy_from_slice(&500u16.to_be_bytes());
        l2tp_from_client(&mut sim, &long);
        // Bad version: L2TPv3 (version 3) header.
        l2tp_from_client(&mut sim, &control(3, &[(0, true, &[0, 1])]));
        // An unknown mandatory AVP (type 200) in an SCCRQ.
        l2tp_from_client(&mut sim, &sccrq([1, 0], Some((200, true, b"?"))));
        // Protocol Version 2.0 (RFC 2661 §4.4.2: StopCCN result 5).
        let mut v2 = sccrq([2, 0], None);
        v2[55..57].copy_from_slice(&[0x56, 0x78]); // another Assigned Tunnel ID
        l2tp_from_client(&mut sim, &v2);
        sim.run_until(sim.now + secs(2));
        let (_, _, l2tp1) = sim.gateway.core_counters();
        assert!(l2tp1.rx_malformed >= l2tp0.rx_malformed + 2, "{l2tp1:?}");
        assert_eq!(
            l2tp1.rx_unknown_mandatory,
            l2tp0.rx_unknown_mandatory + 1,
            "{l2tp1:?}"
        );
        assert!(
            l2tp1.tunnels_refused >= l2tp0.tunnels_refused + 2,
            "{l2tp1:?}"
        );
        // A replayed ESP datagram: the client's last data packet again.
        let last_esp = sim.in_flight.len();
        assert_eq!(last_esp, 0);
        assert!(sim.client_sends(c, std::net::Ipv4Addr::new(10, 10, 0, 1), b"once"));
        let wire = sim.in_flight.last().map(|(_, _, _, w)| w.clone()).unwrap();
        sim.run_until(sim.now + secs(1));
        let inside = sim.inside.len();
        sim.send_from_client_raw(wire);
        sim.run_until(sim.now + secs(1));
        assert_eq!(sim.inside.len(), inside, "the replay is not delivered");
        let (_, esp1, _) = sim.gateway.core_counters();
        let g1 = *sim.gateway.counters();
        assert_eq!(
            g1.esp_dropped,
            g0.esp_dropped + 1,
            "{g1:?} {esp0:?} {esp1:?}"
        );
        // Authentic ESP that is not L2TP (a DNS query, UDP 53): outside the
        // SA's traffic selector (UDP 1701), dropped and counted.
        udp_from_client(&mut sim, b"\x12\x34\x01\x00\x00\x01", 5353, 53);
        assert_eq!(sim.inside.len(), inside, "not delivered");
        let g1 = *sim.gateway.counters();
        assert_eq!(g1.not_l2tp, g0.not_l2tp + 1, "{g1:?}");
        assert_eq!(
            g1.esp_dropped,
            g0.esp_dropped + 1,
            "opened, not dropped by ESP"
        );
        // Nothing else disturbed.
        assert_eq!(g1.sessions_down, g0.sessions_down);
        assert!(sim.client_sends(c, std::net::Ipv4Addr::new(10, 10, 0, 1), b"still"));
        sim.run_until(sim.now + secs(1));
        assert_eq!(sim.inside.len(), inside + 1);
    });
}

#[test]
fn logoff_all_of_many_sessions_loses_no_delete() {
    big_stack(|| {
        let mut sim = Sim::new(
            config("group-policy DfltGrpPolicy attributes\n vpn-simultaneous-logins 64\n"),
            71,
        );
        let n = 40;
        for k in 0..n {
            let c = sim.add_client(k % 2 == 0, "alice", "s3cret-Pass", AuthMethod::MsChapV2);
            sim.connect(c);
            let next = sim.now + Duration::from_millis(250);
            sim.run_until(next);
        }
        sim.run_until(secs(60));
        let up = sim.clients.iter().filter(|c| c.address.is_some()).count();
        assert_eq!(up, n, "{:?}", sim.gateway.counters());
        let (ike0, ..) = sim.gateway.core_counters();
        let now = sim.now;
        let ended = sim.gateway.logoff_all(
            now,
            sessiondb::gateway::TerminateCause::AdminReset,
            &mut sim.gateway_rng,
        );
        assert_eq!(ended, n);
        sim.flush();
        sim.run_until(sim.now + secs(30));
        let (ike1, ..) = sim.gateway.core_counters();
        println!("IKE counters after logoff all: {ike1:?}");
        // Every ISAKMP SA and its IPsec SA pair deleted with an
        // Informational each, nothing dropped for want of queue room.
        assert_eq!(ike1.transmits_lost, ike0.transmits_lost, "{ike1:?}");
        assert_eq!(ike1.events_lost, ike0.events_lost, "{ike1:?}");
        assert!(
            ike1.tx_datagrams >= ike0.tx_datagrams + 2 * n as u64,
            "{ike1:?}"
        );
        for (i, c) in sim.clients.iter().enumerate() {
            assert!(
                c.events.iter().any(|e| matches!(
                    e,
                    sessiondb::dialer::DialerEvent::Down(
                        sessiondb::dialer::DownCause::IpsecDeleted
                    )
                )),
                "client {i} heard its IPsec SA deleted: {:?}",
                c.events
            );
        }
        assert_eq!(sim.gateway.resources(), Resources::default());
    });
}
