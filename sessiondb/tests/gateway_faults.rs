//! Bad input and hard times for the gateway: each ends only what it must,
//! with a counter or an event, and every other session keeps working.
#![allow(clippy::cast_possible_truncation)]

mod sim;

use ppp_core::AuthMethod;
use sessiondb::gateway::{self, Error, Event, Refused, Resources};
use sim::{GATEWAY, Sim, big_stack, config};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// A session that is up, and a helper to check it still carries traffic.
fn one_up(seed: u64) -> Sim {
    let mut sim = Sim::new(config(""), seed);
    let c = sim.add_client(true, "alice", "s3cret-Pass", AuthMethod::MsChapV2);
    sim.connect(c);
    sim.run_until(secs(30));
    assert!(sim.clients[c].address.is_some());
    sim
}

fn still_works(sim: &mut Sim) {
    let before = sim.inside.len();
    assert!(sim.client_sends(0, Ipv4Addr::new(10, 10, 0, 1), b"still here"));
    sim.run_until(sim.now + secs(1));
    assert_eq!(
        sim.inside.len(),
        before + 1,
        "the session still carries traffic"
    );
}

#[test]
fn garbage_on_every_port_disturbs_nothing() {
    big_stack(|| {
        let mut sim = one_up(31);
        let stranger = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 99), 500);
        let samples: [&[u8]; 6] = [
            &[],
            &[0xff, 0xff],
            &[0; 28],
            &[
                0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
                15, 16, 17, 18, 19, 20,
            ],
            &[0, 0, 0, 0, 1, 2, 3],
            &[0x12; 300],
        ];
        let now = sim.now;
        for sample in samples {
            for port in [500u16, 4500] {
                let mut buf = vec![0u8; 4096];
                let at = gateway::HEADROOM;
                buf[at..at + sample.len()].copy_from_slice(sample);
                let local = SocketAddrV4::new(GATEWAY, port);
                let r = sim.gateway.handle_datagram(
                    now,
                    stranger,
                    local,
                    &mut buf,
                    at..at + sample.len(),
                    &mut sim.gateway_rng,
                );
                assert!(r.is_err() || r == Ok(None), "{sample:?} on {port}: {r:?}");
            }
            let mut buf = vec![0u8; 4096];
            let at = gateway::HEADROOM;
            buf[at..at + sample.len()].copy_from_slice(sample);
            let _ = sim.gateway.handle_esp(
                now,
                *stranger.ip(),
                &mut buf,
                at..at + sample.len(),
                &mut sim.gateway_rng,
            );
            let _ = sim
                .gateway
                .handle_radius(now, stranger, sample, &mut sim.gateway_rng);
        }
        assert_eq!(sim.gateway.handle_plain_l2tp(), Err(Error::PlainL2tp));
        let counters = *sim.gateway.counters();
        assert!(
            counters.malformed + counters.esp_dropped > 0,
            "{counters:?}"
        );
        assert_eq!(counters.plain_l2tp, 1);
        still_works(&mut sim);
    });
}

#[test]
fn spoofed_sources_and_unknown_destinations_are_dropped() {
    big_stack(|| {
        let mut sim = one_up(32);
        let address = sim.clients[0].address.unwrap();
        // The client claims another address as its source.
        sim.clients[0].address = Some(Ipv4Addr::new(10, 10, 0, 99));
        assert!(sim.client_sends(0, Ipv4Addr::new(10, 10, 0, 1), b"spoofed"));
        sim.run_until(sim.now + secs(1));
        assert!(sim.inside.is_empty());
        assert_eq!(sim.gateway.counters().spoofed, 1);
        sim.clients[0].address = Some(address);
        // Nobody has 10.10.0.77.
        let packet = sim::ipv4_packet(
            Ipv4Addr::new(10, 10, 0, 1),
            Ipv4Addr::new(10, 10, 0, 77),
            b"x",
        );
        let mut buf = vec![0u8; 4096];
        let at = gateway::HEADROOM;
        buf[at..at + packet.len()].copy_from_slice(&packet);
        let now = sim.now;
        assert_eq!(
            sim.gateway.handle_ip(now, &mut buf, at..at + packet.len()),
            Err(Error::NoRoute)
        );
        assert_eq!(sim.gateway.counters().no_route, 1);
        still_works(&mut sim);
    });
}

#[test]
fn an_empty_pool_refuses_the_next_client_cleanly() {
    big_stack(|| {
        let text = "ip local pool tiny 10.20.0.10-10.20.0.10\ntunnel-group DefaultRAGroup general-attributes\n address-pool tiny\n";
        let mut sim = Sim::new(config(text), 33);
        let a = sim.add_client(true, "alice", "s3cret-Pass", AuthMethod::MsChapV2);
        let b = sim.add_client(true, "bob", "b0b-pass", AuthMethod::MsChapV2);
        sim.connect(a);
        sim.run_until(secs(20));
        sim.connect(b);
        sim.run_until(secs(60));
        assert_eq!(sim.clients[a].address, Some(Ipv4Addr::new(10, 20, 0, 10)));
        assert!(sim.clients[b].address.is_none());
        assert!(sim.gateway_events.iter().any(|e| matches!(
            e,
            Event::LoginRefused {
                reason: Refused::NoAddress,
                ..
            }
        )));
        still_works(&mut sim);
        assert_eq!(
            sim.gateway.resources().peers,
            1,
            "the refused client's slot is free again"
        );
    });
}

#[test]
fn a_full_gateway_refuses_in_ike_and_serves_the_rest() {
    big_stack(|| {
        // The simulation gateway has 64 slots; fill them, then one more.
        let n = 64;
        let users: String = (0..8)
            .map(|i| format!("username u{i} password p-{i} mschap\n"))
            .collect::<String>()
            + "group-policy DfltGrpPolicy attributes\n vpn-simultaneous-logins 9\n";
        let mut sim = Sim::new(config(&users), 34);
        for i in 0..=n {
            let u = i % 8;
            sim.add_client(
                true,
                &format!("u{u}"),
                &format!("p-{u}"),
                AuthMethod::MsChapV2,
            );
        }
        for i in 0..n {
            sim.connect(i);
            let t = sim.now + Duration::from_millis(100);
            sim.run_until(t);
        }
        sim.run_until(secs(60));
        assert_eq!(sim.gateway.sessions().len(), n);
        sim.connect(n);
        sim.run_until(secs(120));
        assert!(
            sim.clients[n].address.is_none(),
            "the 65th client is refused"
        );
        assert_eq!(sim.gateway.sessions().len(), n, "nobody else was disturbed");
        still_works(&mut sim);
    });
}

#[test]
fn a_client_that_vanishes_is_cleaned_up() {
    big_stack(|| {
        let mut sim = one_up(35);
        // The client disappears without a goodbye: its packets no longer
        // arrive and it sends nothing.
        sim.vanish(0);
        sim.run_until(sim.now + secs(300));
        assert!(sim.gateway.sessions().is_empty());
        let cause = sim.gateway_events.iter().find_map(|e| match e {
            Event::SessionDown { cause, .. } => Some(*cause),
            _ => None,
        });
        assert_eq!(cause, Some(gateway::TerminateCause::LostCarrier));
        sim.run_until(sim.now + secs(60));
        let r = sim.gateway.resources();
        assert_eq!(
            (r.sessions, r.peers, r.addresses, r.esp_sas, r.l2tp_tunnels),
            (0, 0, 0, 0, 0),
            "{r:?}"
        );
    });
}

#[test]
fn idle_timeout_and_logoff() {
    big_stack(|| {
        let text = "group-policy DfltGrpPolicy attributes\n vpn-idle-timeout 1\n";
        let mut sim = Sim::new(config(text), 36);
        let a = sim.add_client(true, "alice", "s3cret-Pass", AuthMethod::MsChapV2);
        let b = sim.add_client(true, "bob", "b0b-pass", AuthMethod::MsChapV2);
        sim.connect(a);
        sim.connect(b);
        sim.run_until(secs(20));
        assert!(sim.clients[a].address.is_some() && sim.clients[b].address.is_some());
        // Log bob off by name; alice goes idle (LCP echoes do not count as
        // traffic for vpn-idle-timeout) and times out after a minute.
        let now = sim.now;
        assert_eq!(sim.gateway.logoff_name(now, "bob", &mut sim.gateway_rng), 1);
        sim.flush();
        sim.run_until(sim.now + secs(90));
        let causes: Vec<_> = sim
            .gateway_events
            .iter()
            .filter_map(|e| match e {
                Event::SessionDown { cause, .. } => Some(*cause),
                _ => None,
            })
            .collect();
        assert!(
            causes.contains(&gateway::TerminateCause::AdminReset),
            "{causes:?}"
        );
        assert!(
            causes.contains(&gateway::TerminateCause::IdleTimeout),
            "{causes:?}"
        );
        sim.run_until(sim.now + secs(60));
        assert_eq!(sim.gateway.resources(), Resources::default());
    });
}
