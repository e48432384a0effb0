//! Floods: 10,000 Main Mode first messages from random sources, a stream
//! of SCCRQs from inside a valid IPsec SA, and a brute force of PPP
//! passwords. The gateway's memory is fixed by its type (shown below); the
//! tables stay within their capacities, the counters say what was refused,
//! and a legitimate client still connects during each flood.
#![allow(clippy::cast_possible_truncation)]

mod sim;

use ppp_core::AuthMethod;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sessiondb::dialer::DialerDestination;
use sessiondb::gateway::{self, Event, Refused, Resources};
use sim::{GATEWAY, NAT_PUBLIC, Sim, SimGateway, big_stack, config};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The first Main Mode message a Windows-like dialer sends (SA payload
/// with its proposals, vendor IDs), taken from a real dialer.
fn main_mode_first_message() -> Vec<u8> {
    let config = sessiondb::dialer::DialerConfig::windows_like(
        SocketAddrV4::new(GATEWAY, 500),
        SocketAddrV4::new(Ipv4Addr::new(198, 51, 100, 77), 500),
        sim::PSK,
        b"x",
        b"y",
    )
    .unwrap();
    let mut d = sessiondb::dialer::Dialer::new(&config).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    d.connect(secs(1), &mut rng).unwrap();
    let mut buf = vec![0u8; 4096];
    let t = d.poll_transmit(secs(1), &mut buf).unwrap();
    buf[t.range].to_vec()
}

/// Delivers one datagram to the gateway's port 500 and drains what it
/// answers (the answers go nowhere: the sources are forged).
fn inject(sim: &mut Sim, from: SocketAddrV4, port: u16, bytes: &[u8]) {
    let mut buf = vec![0u8; 4096];
    let at = gateway::HEADROOM;
    buf[at..at + bytes.len()].copy_from_slice(bytes);
    let now = sim.now;
    let _ = sim.gateway.handle_datagram(
        now,
        from,
        SocketAddrV4::new(GATEWAY, port),
        &mut buf,
        at..at + bytes.len(),
        &mut sim.gateway_rng,
    );
}

fn check_bounds(sim: &Sim) -> Resources {
    let r = sim.gateway.resources();
    assert!(r.ike_sas <= 128, "{r:?}");
    assert!(r.peers <= 64 && r.sessions <= 64, "{r:?}");
    assert!(r.l2tp_tunnels <= 64 && r.esp_sas <= 256, "{r:?}");
    r
}

/// Drops what the gateway sends to the forged sources (they never answer)
/// and keeps the rest.
fn drop_to_forged(sim: &mut Sim) {
    sim.in_flight.retain(|(_, _, to, w)| match (to, w) {
        (None, sim::Wire::Udp { dst, .. }) => {
            *dst.ip() == NAT_PUBLIC || dst.ip().octets()[..3] == [198, 51, 100]
        }
        _ => true,
    });
}

#[test]
fn ten_thousand_main_mode_first_messages_from_random_sources() {
    big_stack(|| {
        let n: usize = std::env::var("FLOOD_MESSAGES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(10_000);
        let mut sim = Sim::new(config(""), 61);
        let mm1 = main_mode_first_message();
        let mut rng = ChaCha20Rng::seed_from_u64(62);
        let legit = sim.add_client(true, "alice", "s3cret-Pass", AuthMethod::MsChapV2);
        let mut max = Resources::default();
        let before = sim.gateway.core_counters().0;
        for k in 0..n {
            // A random source and a random initiator cookie each time.
            let from = SocketAddrV4::new(
                Ipv4Addr::from(rng.next_u32() | 0x0100_0000),
                (rng.next_u32() % 65_535) as u16 + 1,
            );
            let mut m = mm1.clone();
            rng.fill_bytes(&mut m[..8]);
            inject(&mut sim, from, 500, &m);
            // 1,000 messages a second; the legitimate client dials in the
            // middle of the flood.
            if k % 10 == 9 {
                let next = sim.now + ms(10);
                sim.run_until(next);
                drop_to_forged(&mut sim);
            }
            if k == n / 2 {
                sim.connect(legit);
            }
            let r = check_bounds(&sim);
            max.ike_sas = max.ike_sas.max(r.ike_sas);
            max.peers = max.peers.max(r.peers);
        }
        sim.run_until(sim.now + secs(30));
        let after = sim.gateway.core_counters().0;
        let refused = after.half_open_refused - before.half_open_refused;
        let table_full = after.table_full - before.table_full;
        let evicted = after.half_open_evicted - before.half_open_evicted;
        println!(
            "{n} Main Mode first messages: at most {} ISAKMP SAs and {} client slots held; \
             {evicted} half-open negotiations evicted (message 2 never answered), \
             {refused} refused as half-open over the limit, {table_full} for a full table; \
             gateway size {} bytes (fixed by its type)",
            max.ike_sas,
            max.peers,
            size_of::<SimGateway>()
        );
        // Half-open SAs never reach a client slot; the table turned over,
        // each forged negotiation making room for the next, counted.
        assert!(evicted as usize >= n - 128, "{after:?}");
        assert!(max.ike_sas <= 128);
        assert_eq!(max.peers, 1, "only the legitimate client got a slot");
        assert!(
            sim.clients[legit].address.is_some(),
            "the legitimate client came up during the flood: {:?} {after:?}",
            sim.clients[legit].events
        );
        // The flood leaves nothing once the half-open SAs time out.
        let now = sim.now;
        sim.clients[legit]
            .dialer
            .disconnect(now, &mut sim.client_rng);
        sim.flush();
        sim.run_until(sim.now + secs(5));
        let now = sim.now;
        sim.clients[legit]
            .dialer
            .delete_sas(now, &mut sim.client_rng);
        sim.flush();
        sim.run_until(sim.now + secs(120));
        assert_eq!(sim.gateway.resources(), Resources::default());
    });
}

/// An SCCRQ (RFC 2661 §6.1) with the mandatory AVPs and `tunnel` as its
/// Assigned Tunnel ID.
fn sccrq(tunnel: u16) -> Vec<u8> {
    fn avp(out: &mut Vec<u8>, kind: u16, value: &[u8]) {
        let len = 6 + value.len() as u16;
        out.extend_from_slice(&(0x8000 | len).to_be_bytes());
        out.extend_from_slice(&0u16.to_be_bytes());
        out.extend_from_slice(&kind.to_be_bytes());
        out.extend_from_slice(value);
    }
    let mut m = vec![0xc8, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    avp(&mut m, 0, &1u16.to_be_bytes()); // Message Type: SCCRQ
    avp(&mut m, 2, &[1, 0]); // Protocol Version 1.0
    avp(&mut m, 3, &3u32.to_be_bytes()); // Framing Capabilities
    avp(&mut m, 7, b"flooder"); // Host Name
    avp(&mut m, 9, &tunnel.to_be_bytes()); // Assigned Tunnel ID
    let len = m.len() as u16;
    m[2..4].copy_from_slice(&len.to_be_bytes());
    m
}

#[test]
fn a_stream_of_sccrqs_inside_a_valid_sa() {
    big_stack(|| {
        let n: u16 = std::env::var("FLOOD_SCCRQS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2_000);
        let mut sim = Sim::new(config(""), 63);
        let flooder = sim.add_client(true, "alice", "s3cret-Pass", AuthMethod::MsChapV2);
        let legit = sim.add_client(true, "bob", "b0b-pass", AuthMethod::MsChapV2);
        sim.connect(flooder);
        sim.run_until(secs(20));
        assert!(sim.clients[flooder].address.is_some());
        let before = *sim.gateway.counters();
        let l2tp_before = sim.gateway.core_counters().2;
        let mut max_tunnels = 0;
        for k in 0..n {
            let m = sccrq(k.wrapping_add(100));
            let mut buf = vec![0u8; 4096];
            let at = 128;
            buf[at..at + m.len()].copy_from_slice(&m);
            let now = sim.now;
            let t = sim.clients[flooder]
                .dialer
                .send_raw_l2tp(now, &mut buf, at..at + m.len())
                .unwrap();
            let payload = buf[t.range].to_vec();
            let DialerDestination::Udp { local_port, remote } = t.destination else {
                panic!("behind NAT: UDP-encapsulated ESP");
            };
            let private = sim.clients[flooder].private;
            let wire = sim::Wire::Udp {
                src: SocketAddrV4::new(private, local_port),
                dst: remote,
                payload,
            };
            sim.send_from_client(flooder, wire);
            if k % 10 == 9 {
                let next = sim.now + ms(10);
                sim.run_until(next);
            }
            if k == n / 2 {
                sim.connect(legit);
            }
            max_tunnels = max_tunnels.max(check_bounds(&sim).l2tp_tunnels);
        }
        sim.run_until(sim.now + secs(20));
        let after = *sim.gateway.counters();
        let l2tp = sim.gateway.core_counters().2;
        println!(
            "{n} SCCRQs inside one SA: at most {max_tunnels} L2TP tunnels held; \
             gateway counters before {before:?} after {after:?}; l2tp before {l2tp_before:?} after {l2tp:?}"
        );
        assert!(
            sim.clients[legit].address.is_some(),
            "the legitimate client came up during the flood: {:?}",
            sim.clients[legit].events
        );
        assert!(
            max_tunnels <= 3,
            "the flooder holds at most two tunnels (and the legitimate client one): {max_tunnels}"
        );
    });
}

#[test]
fn a_brute_force_of_ppp_passwords_locks_the_local_user_out() {
    big_stack(|| {
        // The appliance's limit for local users.
        let mut sim = Sim::new(
            config(
                "aaa local authentication attempts max-fail 5\nusername admin password adm1n-pw mschap privilege 15\n",
            ),
            64,
        );
        let mut attempts = 0;
        let mut refusals = Vec::new();
        let try_login = |sim: &mut Sim, user: &str, pw: &str| -> bool {
            let c = sim.add_client(false, user, pw, AuthMethod::MsChapV2);
            sim.connect(c);
            sim.run_until(sim.now + secs(15));
            let up = sim.clients[c].address.is_some();
            sim.hang_up([c], secs(3), secs(10));
            up
        };
        // A wrong password, then the right one: the count clears.
        assert!(!try_login(&mut sim, "alice", "guess-0"));
        assert_eq!(sim.gateway.local_user_failures("alice"), Some((1, false)));
        assert!(try_login(&mut sim, "alice", "s3cret-Pass"));
        assert_eq!(sim.gateway.local_user_failures("alice"), Some((0, false)));
        // The brute force: 40 guesses, with bob connecting in the middle.
        for k in 0..40 {
            assert!(!try_login(&mut sim, "alice", &format!("guess-{k}")));
            attempts += 1;
            if k == 20 {
                assert!(
                    try_login(&mut sim, "bob", "b0b-pass"),
                    "bob during the flood"
                );
            }
        }
        for e in sim.gateway_events.drain(..) {
            if let Event::LoginRefused { reason, user, .. } = e {
                refusals.push((user.to_string(), reason));
            }
        }
        let locked = refusals
            .iter()
            .filter(|(u, r)| u == "alice" && *r == Refused::LockedOut)
            .count();
        let bad = refusals
            .iter()
            .filter(|(u, r)| u == "alice" && matches!(r, Refused::Policy(_)))
            .count();
        println!(
            "{attempts} guesses: {bad} checked and refused, {locked} refused as locked out; counters {:?}",
            sim.gateway.counters()
        );
        // The first guess, then five in a row were checked; the others
        // were refused without looking at them.
        assert_eq!(bad, 6, "{refusals:?}");
        assert_eq!(locked, 35);
        assert_eq!(sim.gateway.counters().locked_out, 35);
        assert_eq!(sim.gateway.local_user_failures("alice"), Some((5, true)));
        // Locked out: even the right password is refused.
        assert!(!try_login(&mut sim, "alice", "s3cret-Pass"));
        // Privilege 15 users are never locked out.
        for k in 0..8 {
            assert!(!try_login(&mut sim, "admin", &format!("guess-{k}")));
        }
        assert!(try_login(&mut sim, "admin", "adm1n-pw"));
        // The operator's view and `clear aaa local user lockout username
        // alice` on the console.
        let console = |sim: &mut Sim, line: &str| {
            let mut out = String::new();
            let now = sim.now;
            sim.gateway.console(now, line, &mut out).unwrap();
            out
        };
        let table =
            "Lock-time Failed-attempts Locked User\n        -               5      Y alice\n";
        assert_eq!(console(&mut sim, "show aaa local user"), table);
        assert_eq!(console(&mut sim, "show aaa local user locked"), table);
        assert_eq!(
            console(&mut sim, "clear aaa local user lockout username alice"),
            ""
        );
        assert_eq!(sim.gateway.local_user_failures("alice"), Some((0, false)));
        assert_eq!(
            console(&mut sim, "show aaa local user"),
            "Lock-time Failed-attempts Locked User\n"
        );
        assert!(try_login(&mut sim, "alice", "s3cret-Pass"));
        // Two wrong passwords: listed, not locked; `clear ... all` zeroes
        // the count and reports nobody unlocked.
        assert!(!try_login(&mut sim, "alice", "guess-a"));
        assert!(!try_login(&mut sim, "alice", "guess-b"));
        assert_eq!(
            console(&mut sim, "show aaa local user"),
            "Lock-time Failed-attempts Locked User\n        -               2      N alice\n"
        );
        assert_eq!(
            console(&mut sim, "show aaa local user locked"),
            "Lock-time Failed-attempts Locked User\n"
        );
        assert_eq!(sim.gateway.clear_local_lockout(None), 0);
        assert_eq!(sim.gateway.local_user_failures("alice"), Some((0, false)));
        // The counts survive a reload of the configuration.
        assert!(!try_login(&mut sim, "bob", "nope"));
        let now = sim.now;
        let again = config("aaa local authentication attempts max-fail 5\n");
        sim.gateway.replace_config(now, again, &mut sim.gateway_rng);
        assert_eq!(sim.gateway.local_user_failures("bob"), Some((1, false)));
        sim.run_until(sim.now + secs(60));
        assert_eq!(sim.gateway.resources(), Resources::default());
    });
}

/// Whether `wire` from a client is Main Mode message 3: an Identity
/// Protection message in clear with the responder's cookie, on port 500 or
/// behind the NAT-T marker on 4500.
fn is_main_mode_third_message(wire: &sim::Wire) -> bool {
    let sim::Wire::Udp { dst, payload, .. } = wire else {
        return false;
    };
    let isakmp = match dst.port() {
        500 => &payload[..],
        4500 if payload.starts_with(&[0; 4]) => &payload[4..],
        _ => return false,
    };
    isakmp.len() >= 28 && isakmp[8..16] != [0; 8] && isakmp[18] == 2 && isakmp[19] & 1 == 0
}

#[test]
fn a_client_whose_main_mode_a_flood_evicted_starts_over() {
    big_stack(|| {
        let mut sim = Sim::new(config(""), 64);
        let c = sim.add_client(true, "alice", "s3cret-Pass", AuthMethod::MsChapV2);
        sim.connect(c);
        // Run until the client sends message 3, and lose it.
        let deadline = sim.now + secs(5);
        loop {
            assert!(sim.now < deadline, "no message 3");
            if let Some(k) = sim
                .in_flight
                .iter()
                .position(|(_, _, from, w)| *from == Some(c) && is_main_mode_third_message(w))
            {
                sim.in_flight.remove(k);
                break;
            }
            let next = sim.now + ms(1);
            sim.run_until(next);
        }
        // A flood of first messages evicts the half-open negotiation.
        let before = sim.gateway.core_counters().0;
        let mm1 = main_mode_first_message();
        let mut rng = ChaCha20Rng::seed_from_u64(65);
        for _ in 0..300 {
            let from = SocketAddrV4::new(Ipv4Addr::new(198, 51, 100, 9), 500);
            let mut m = mm1.clone();
            rng.fill_bytes(&mut m[..8]);
            inject(&mut sim, from, 500, &m);
            drop_to_forged(&mut sim);
        }
        let after = sim.gateway.core_counters().0;
        let evicted = after.half_open_evicted - before.half_open_evicted;
        assert!(evicted >= 1, "the flood evicted negotiations");
        // The client retransmits message 3, hears INVALID-COOKIE, and
        // starts a new Main Mode rather than giving up.
        let gateway_before = *sim.gateway.counters();
        sim.run_until(sim.now + secs(30));
        drop_to_forged(&mut sim);
        sim.run_until(sim.now + secs(30));
        assert!(
            sim.clients[c].address.is_some(),
            "up after starting over: {:?}",
            sim.clients[c].events
        );
        assert!(
            !sim.clients[c]
                .events
                .iter()
                .any(|e| matches!(e, sessiondb::dialer::DialerEvent::Down(_))),
            "{:?}",
            sim.clients[c].events
        );
        assert_eq!(
            sim.gateway.counters().sessions_up,
            gateway_before.sessions_up + 1
        );
    });
}
