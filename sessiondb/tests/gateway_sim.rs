//! The gateway against the project's own client roles over a simulated
//! network: sessions come up through IKE, ESP, L2TP, PPP and IPCP, carry
//! IPv4 both ways, and leave without a trace.
#![allow(clippy::cast_possible_truncation)]

mod sim;

use ppp_core::AuthMethod;
use sessiondb::gateway::Event;
use sim::{Faults, Sim, big_stack, config};
use std::net::Ipv4Addr;
use std::time::Duration;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn one_client_without_nat_comes_up_exchanges_and_leaves() {
    big_stack(|| {
        let mut sim = Sim::new(config(""), 1);
        let c = sim.add_client(false, "alice", "s3cret-Pass", AuthMethod::MsChapV2);
        sim.connect(c);
        sim.run_until(secs(30));
        let address = sim.clients[c].address.expect("client up");
        assert_eq!(address, Ipv4Addr::new(10, 10, 0, 10), "first pool address");
        assert!(
            sim.gateway_events
                .iter()
                .any(|e| matches!(e, Event::SessionUp { .. })),
            "{:?}",
            sim.gateway_events
        );

        assert!(sim.client_sends(c, Ipv4Addr::new(10, 10, 0, 1), b"ping from client"));
        sim.run_until(sim.now + secs(1));
        assert_eq!(sim.inside.len(), 1);
        assert_eq!(&sim.inside[0][20..], b"ping from client");
        assert!(sim.inside_sends(Ipv4Addr::new(10, 10, 0, 1), address, b"pong from inside"));
        sim.run_until(sim.now + secs(1));
        assert_eq!(sim.clients[c].received.len(), 1);
        assert_eq!(&sim.clients[c].received[0][20..], b"pong from inside");

        let mut out = String::new();
        let now = sim.now;
        sim.gateway
            .console(
                now,
                "show vpn-sessiondb detail remote filter protocol L2TPOverIPSec",
                &mut out,
            )
            .unwrap();
        assert!(out.contains("Username      : alice"), "{out}");
        assert!(out.contains("L2TPOverIPSec"), "{out}");

        sim.hang_up([c], secs(5), secs(20));
        assert!(sim.gateway.sessions().is_empty(), "table empty");
        assert!(
            sim.gateway_events
                .iter()
                .any(|e| matches!(e, Event::SessionDown { .. }))
        );
    });
}

#[test]
fn client_behind_nat_floats_to_4500_and_survives_a_rebinding() {
    big_stack(|| {
        let mut sim = Sim::new(config(""), 2);
        let c = sim.add_client(true, "bob", "b0b-pass", AuthMethod::MsChapV2);
        sim.connect(c);
        sim.run_until(secs(30));
        let address = sim.clients[c].address.expect("client up behind NAT");
        let mut out = String::new();
        let now = sim.now;
        sim.gateway
            .console(
                now,
                "show vpn-sessiondb detail remote filter protocol L2TPOverIPSecOverNatT",
                &mut out,
            )
            .unwrap();
        assert!(out.contains("Username      : bob"), "{out}");
        assert!(out.contains("Public IP     : 198.51.100.1"), "{out}");

        // The NAT gives the client a new public port; its session continues.
        sim.rebind_nat(c);
        assert!(sim.client_sends(c, Ipv4Addr::new(10, 10, 0, 1), b"after rebinding"));
        sim.run_until(sim.now + secs(1));
        assert!(sim.inside_sends(Ipv4Addr::new(10, 10, 0, 1), address, b"to the new port"));
        sim.run_until(sim.now + secs(1));
        assert_eq!(
            sim.inside.last().map(|p| &p[20..]),
            Some(&b"after rebinding"[..])
        );
        assert_eq!(
            sim.clients[c].received.last().map(|p| &p[20..]),
            Some(&b"to the new port"[..])
        );
    });
}

#[test]
fn every_local_method_and_wrong_passwords() {
    big_stack(|| {
        let mut sim = Sim::new(config(""), 3);
        let good = [
            sim.add_client(true, "alice", "s3cret-Pass", AuthMethod::MsChapV2),
            sim.add_client(true, "alice", "s3cret-Pass", AuthMethod::MsChapV1),
            sim.add_client(true, "bob", "b0b-pass", AuthMethod::Pap),
        ];
        let bad = [
            sim.add_client(true, "alice", "wrong", AuthMethod::MsChapV2),
            sim.add_client(true, "bob", "wrong", AuthMethod::Pap),
            sim.add_client(true, "mallory", "whatever", AuthMethod::MsChapV1),
        ];
        for i in 0..6 {
            sim.connect(i);
        }
        sim.run_until(secs(40));
        for i in good {
            assert!(sim.clients[i].address.is_some(), "client {i} up");
        }
        for i in bad {
            assert!(sim.clients[i].address.is_none(), "client {i} refused");
        }
        let refused = sim
            .gateway_events
            .iter()
            .filter(|e| matches!(e, Event::LoginRefused { .. }))
            .count();
        assert_eq!(refused, 3, "{:?}", sim.gateway_events);
        assert_eq!(sim.gateway.sessions().len(), 3);
        // The refused clients leave nothing behind once their teardown drained.
        sim.run_until(secs(60));
        assert_eq!(sim.gateway.sessions().len(), 3);
        let addresses: std::collections::HashSet<_> =
            good.iter().map(|&i| sim.clients[i].address).collect();
        assert_eq!(addresses.len(), 3, "three distinct pool addresses");
    });
}

#[test]
fn wrong_preshared_key_fails_in_ike() {
    big_stack(|| {
        let mut sim = Sim::new(config(""), 4);
        let c = sim.add_client(false, "alice", "s3cret-Pass", AuthMethod::MsChapV2);
        // The gateway knows another key.
        let other = common_config_with_psk("not-the-key");
        let now = sim.now;
        sim.gateway.replace_config(now, other, &mut sim.gateway_rng);
        sim.connect(c);
        sim.run_until(secs(60));
        assert!(sim.clients[c].address.is_none());
        assert!(sim.gateway.sessions().is_empty());
    });
}

fn common_config_with_psk(psk: &str) -> sessiondb::Config {
    let base = config("");
    let mut text = String::new();
    base.write_running_config(&mut text, sessiondb::SecretDisplay::Clear)
        .unwrap();
    let text = text.replace(std::str::from_utf8(sim::PSK).unwrap(), psk);
    sessiondb::Config::parse(&text).unwrap()
}

#[test]
fn many_clients_through_a_lossy_nat() {
    big_stack(|| {
        let n = 64;
        // Eight users with eight sessions each (the group policy allows it).
        let users: String = (0..8)
            .map(|i| format!("username user{i} password pw-{i} mschap\n"))
            .collect::<String>()
            + "group-policy DfltGrpPolicy attributes\n vpn-simultaneous-logins 8\n"
            // Accounting to the simulated RADIUS server, through the same
            // lossy network.
            + "aaa-server RAD protocol radius\naaa-server RAD (inside) host 10.9.9.9\n key radsecret\n timeout 10\n retry-interval 2\n"
            + "tunnel-group DefaultRAGroup general-attributes\n accounting-server-group RAD\n";
        let mut sim = Sim::new(config(&users), 5);
        sim.faults = Faults {
            loss: 0.05,
            duplicate: 0.05,
            reorder: 0.10,
        };
        for i in 0..n {
            let u = i % 8;
            sim.add_client(
                true,
                &format!("user{u}"),
                &format!("pw-{u}"),
                AuthMethod::MsChapV2,
            );
        }
        // One every 100 ms, all behind one NAT address.
        for i in 0..n {
            sim.connect(i);
            let next = sim.now + Duration::from_millis(100);
            sim.run_until(next);
        }
        sim.run_until(secs(120));
        let up = sim.clients.iter().filter(|c| c.address.is_some()).count();
        let failed: Vec<_> = sim
            .clients
            .iter()
            .enumerate()
            .filter(|(_, c)| c.address.is_none())
            .map(|(i, c)| (i, c.events.clone(), format!("{:?}", c.dialer)))
            .collect();
        assert_eq!(
            up,
            n,
            "every client up despite 5% loss: {:?} {failed:?}",
            sim.gateway.core_counters()
        );
        let downs: Vec<_> = sim
            .gateway_events
            .iter()
            .filter(|e| !matches!(e, Event::SessionUp { .. }))
            .collect();
        assert_eq!(sim.gateway.sessions().len(), n, "{downs:?}");
        for i in 0..n {
            let body = format!("hello from {i}");
            sim.client_sends(i, Ipv4Addr::new(10, 10, 0, 1), body.as_bytes());
        }
        sim.run_until(sim.now + secs(2));
        assert!(
            sim.inside.len() >= n * 8 / 10,
            "most of {n} packets through 5% loss: {}",
            sim.inside.len()
        );
        sim.hang_up(0..n, secs(10), secs(90));
        assert_eq!(
            sim.gateway.resources(),
            sessiondb::gateway::Resources::default(),
            "nothing leaked"
        );
        assert!(
            sim.gateway.sessions().is_empty(),
            "{} sessions left",
            sim.gateway.sessions().len()
        );
        // Accounting balanced: one Start and one Stop for each of the 64
        // sessions (counted by Acct-Session-Id: the network duplicates
        // datagrams, and the server would see those twice).
        let starts: std::collections::BTreeSet<_> = sim.radius.starts.iter().cloned().collect();
        let stops: std::collections::BTreeSet<_> =
            sim.radius.stops.iter().map(|(s, _)| s.clone()).collect();
        assert_eq!(
            (starts.len(), stops.len()),
            (n, n),
            "{starts:?} {stops:?} {:?}",
            sim.gateway.counters()
        );
        assert_eq!(starts, stops);
        // 64 Stops at once against 8 RADIUS request slots: most waited for
        // a free slot, none was given up.
        let c = sim.gateway.counters();
        assert!(c.accounting_deferred > 0, "{c:?}");
        assert_eq!(c.accounting_lost, 0);
    });
}

/// With `export_keys`, the gateway reports the keys of each SA it installs,
/// and they open what it sent (what `--pcap` writes for tshark).
#[test]
fn exported_keys_open_the_gateways_esp() {
    big_stack(|| {
        let options = sessiondb::gateway::Options {
            export_keys: true,
            ..sim::options()
        };
        let mut sim = Sim::with_options(config(""), options, 6);
        let c = sim.add_client(true, "alice", "s3cret-Pass", AuthMethod::MsChapV2);
        sim.connect(c);
        sim.run_until(secs(30));
        assert!(sim.clients[c].address.is_some());
        let keys: Vec<_> = sim
            .gateway_events
            .iter()
            .filter_map(|e| match e {
                Event::EspKeys(k) => Some(k.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(keys.len(), 2, "one pair");
        let outbound = keys.iter().find(|k| !k.inbound).unwrap();
        let config = esp_core::SaConfig {
            encryption: outbound.encryption,
            encryption_key: &outbound.encryption_key,
            integrity: outbound.integrity,
            integrity_key: &outbound.integrity_key,
            encapsulation: esp_core::Encapsulation::None,
            replay_window: 0,
            lifetime: esp_core::Lifetime::UNLIMITED,
        };
        let mut sa = esp_core::Sa::<2>::new_inbound(Duration::ZERO, outbound.spi, &config).unwrap();
        let mut opened = 0;
        for w in &sim.to_clients {
            if let sim::Wire::Udp { payload, .. } = w
                && payload.len() > 8
                && payload[..4] == outbound.spi.to_be_bytes()
            {
                let mut p = payload.clone();
                let o = sa
                    .open(Duration::ZERO, &mut p)
                    .expect("exported keys open it");
                assert_eq!(o.next_header, esp_core::IpProtocol::Udp);
                opened += 1;
            }
        }
        assert!(opened >= 5, "{opened} ESP datagrams opened");
    });
}

/// A client's IPsec SA pair expires under continuous traffic and is
/// replaced by a new Quick Mode (the LNS's 300 s lifetime reaches the
/// client in RESPONDER-LIFETIME; the client renews at 270 s): both keep
/// the old pair for the overlap, and no packet is lost either way.
#[test]
fn a_rekey_under_traffic_loses_no_packet() {
    big_stack(|| {
        let mut sim = Sim::new(
            config("crypto ipsec security-association lifetime seconds 300"),
            11,
        );
        let c = sim.add_client(true, "alice", "s3cret-Pass", AuthMethod::MsChapV2);
        sim.connect(c);
        sim.run_until(secs(30));
        let address = sim.clients[c].address.expect("client up");
        let inside = Ipv4Addr::new(10, 10, 0, 1);
        let (before_in, before_out) = (sim.inside.len(), sim.clients[c].received.len());
        let (mut up, mut down) = (0usize, 0usize);
        // 11 minutes, a packet each way every 100 ms.
        for k in 0..6600u32 {
            let body = k.to_be_bytes();
            if sim.client_sends(c, inside, &body) {
                up += 1;
            }
            if sim.inside_sends(inside, address, &body) {
                down += 1;
            }
            sim.run_until(sim.now + Duration::from_millis(100));
        }
        sim.run_until(sim.now + secs(1));
        assert_eq!((up, down), (6600, 6600), "every packet was sent");
        assert_eq!(sim.inside.len() - before_in, up, "uplink packets lost");
        assert_eq!(
            sim.clients[c].received.len() - before_out,
            down,
            "downlink packets lost"
        );
        // Two renewals in 11 minutes, each old pair deleted after the
        // overlap; the session never went down.
        let (ike, ..) = sim.gateway.core_counters();
        assert_eq!(ike.child_sas_negotiated, 3, "{ike:?}");
        assert!(
            !sim.gateway_events
                .iter()
                .any(|e| matches!(e, Event::SessionDown { .. })),
            "{:?}",
            sim.gateway_events
        );
        assert_eq!(sim.gateway.resources().esp_sas, 2, "one pair left");
    });
}

/// `logoff_all` (what a port runs before it exits) ends an established
/// session and one still negotiating, with accounting's cause, and frees
/// everything once the teardown has drained.
#[test]
fn logoff_all_ends_every_client_and_frees_everything() {
    big_stack(|| {
        let mut sim = Sim::new(config(""), 7);
        let up = sim.add_client(false, "alice", "s3cret-Pass", AuthMethod::MsChapV2);
        let late = sim.add_client(true, "bob", "b0b-pass", AuthMethod::MsChapV2);
        sim.connect(up);
        sim.run_until(secs(20));
        assert!(sim.clients[up].address.is_some());
        // The second client has finished Main Mode but not PPP.
        sim.connect(late);
        let mut steps = 0;
        while sim.gateway.resources().peers < 2 && steps < 1000 {
            let next = sim.now + Duration::from_millis(1);
            sim.run_until(next);
            steps += 1;
        }
        assert_eq!(sim.gateway.resources().peers, 2, "both clients have a slot");
        assert!(sim.clients[late].address.is_none(), "still negotiating");

        let now = sim.now;
        let n = sim.gateway.logoff_all(
            now,
            sessiondb::gateway::TerminateCause::AdminReboot,
            &mut sim.gateway_rng,
        );
        assert_eq!(n, 2);
        sim.flush();
        sim.run_until(sim.now + secs(30));
        let r = sim.gateway.resources();
        assert_eq!(
            (r.sessions, r.peers, r.addresses, r.esp_sas),
            (0, 0, 0, 0),
            "{r:?}"
        );
        assert!(sim.gateway_events.iter().any(|e| matches!(
            e,
            Event::SessionDown {
                cause: sessiondb::gateway::TerminateCause::AdminReboot,
                ..
            }
        )));
        assert!(
            sim.clients[up]
                .events
                .iter()
                .any(|e| matches!(e, sessiondb::dialer::DialerEvent::Down(_))),
            "the client was told: {:?}",
            sim.clients[up].events
        );
        assert!(sim.clients[late].address.is_none());
    });
}

/// The dialer sends IPv4 only: an IPv6 packet (what a host's TUN device
/// offers first, router solicitations) or a truncated IPv4 packet is
/// refused rather than framed as PPP IPv4.
#[test]
fn dialer_refuses_what_is_not_one_whole_ipv4_packet() {
    big_stack(|| {
        let mut sim = Sim::new(config(""), 8);
        let c = sim.add_client(false, "alice", "s3cret-Pass", AuthMethod::MsChapV2);
        sim.connect(c);
        sim.run_until(secs(20));
        let src = sim.clients[c].address.expect("up");
        let at = sessiondb::gateway::HEADROOM;
        let mut buf = vec![0u8; 4096];
        // An IPv6 router solicitation's fixed header: version 6.
        buf[at] = 0x60;
        buf[at + 4..at + 6].copy_from_slice(&8u16.to_be_bytes());
        let now = sim.now;
        assert_eq!(
            sim.clients[c].dialer.handle_ip(now, &mut buf, at..at + 48),
            Err(sessiondb::dialer::DialerError::Malformed)
        );
        // An IPv4 packet whose total length says more than was given.
        let packet = sim::ipv4_packet(src, Ipv4Addr::new(10, 10, 0, 1), b"0123456789");
        buf[at..at + packet.len()].copy_from_slice(&packet);
        assert_eq!(
            sim.clients[c]
                .dialer
                .handle_ip(now, &mut buf, at..at + packet.len() - 1),
            Err(sessiondb::dialer::DialerError::Malformed)
        );
        // The whole packet goes.
        assert!(
            sim.clients[c]
                .dialer
                .handle_ip(now, &mut buf, at..at + packet.len())
                .is_ok()
        );
    });
}
