//! The gateway's AAA through RADIUS, in the simulation: each PPP method
//! relayed, EAP proxied through Access-Challenge, reply attributes applied,
//! accounting Start and Stop balanced, a silent server and the LOCAL
//! fallback.
#![allow(clippy::cast_possible_truncation)]

mod sim;

use ppp_core::AuthMethod;
use sessiondb::gateway::{Event, Refused, Resources, TerminateCause};
use sim::radius::UserReply;
use sim::{Sim, big_stack, config};
use std::net::Ipv4Addr;
use std::time::Duration;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// The chapter's AAA steps: a RADIUS group for authentication (with LOCAL
/// as fallback) and accounting.
fn radius_config(methods: &str) -> sessiondb::Config {
    config(&format!(
        "aaa-server RAD protocol radius
aaa-server RAD (inside) host 10.9.9.9
 key radsecret
 timeout 4
 retry-interval 2
tunnel-group DefaultRAGroup general-attributes
 authentication-server-group RAD LOCAL
 accounting-server-group RAD
tunnel-group DefaultRAGroup ppp-attributes
{methods}"
    ))
}

fn run_clients(methods: &str, clients: &[(&str, &str, AuthMethod)], seed: u64) -> Sim {
    let mut sim = Sim::new(radius_config(methods), seed);
    sim.radius.user("carol", "carol-pw", UserReply::default());
    sim.radius.user(
        "dave",
        "dave-pw",
        UserReply {
            framed_ip: Some([10, 10, 0, 200]),
            session_timeout: Some(600),
            class: Some(b"gold".to_vec()),
        },
    );
    for (user, pw, method) in clients {
        let c = sim.add_client(true, user, pw, *method);
        sim.connect(c);
    }
    sim.run_until(secs(40));
    sim
}

#[test]
fn every_method_through_radius_with_accounting() {
    big_stack(|| {
        let clients = [
            ("carol", "carol-pw", AuthMethod::Pap),
            ("carol", "carol-pw", AuthMethod::ChapMd5),
            ("carol", "carol-pw", AuthMethod::MsChapV2),
            ("dave", "dave-pw", AuthMethod::MsChapV1),
            ("dave", "wrong", AuthMethod::MsChapV2),
        ];
        let methods = " authentication pap\n authentication chap\n authentication ms-chap-v1\n authentication ms-chap-v2\n";
        let mut sim = run_clients(methods, &clients, 11);
        for i in 0..4 {
            assert!(
                sim.clients[i].address.is_some(),
                "client {i} up: {:?}",
                sim.clients[i].events
            );
        }
        assert!(sim.clients[4].address.is_none(), "wrong password refused");
        assert!(sim.gateway_events.iter().any(|e| matches!(
            e,
            Event::LoginRefused {
                reason: Refused::BadCredentials,
                ..
            }
        )));
        // Framed-IP-Address from RADIUS wins over the pool.
        assert_eq!(sim.clients[3].address, Some(Ipv4Addr::new(10, 10, 0, 200)));
        assert_eq!(sim.radius.starts.len(), 4, "Accounting-Start per session");
        assert_eq!(sim.radius.accepts, 4);

        for i in 0..4 {
            let now = sim.now;
            sim.clients[i].dialer.disconnect(now, &mut sim.client_rng);
        }
        sim.flush();
        sim.run_until(sim.now + secs(30));
        assert_eq!(
            sim.radius.stops.len(),
            4,
            "Accounting-Stop per session: {:?}",
            sim.radius.stops
        );
        let mut starts = sim.radius.starts.clone();
        let mut stops: Vec<String> = sim.radius.stops.iter().map(|(s, _)| s.clone()).collect();
        starts.sort();
        stops.sort();
        assert_eq!(starts, stops, "balanced");
        assert!(
            sim.radius.stops.iter().all(|(_, cause)| *cause == 1),
            "User-Request"
        );
    });
}

#[test]
fn eap_md5_proxied_through_access_challenge() {
    big_stack(|| {
        let mut sim = run_clients(
            " authentication eap-proxy\n",
            &[
                ("carol", "carol-pw", AuthMethod::Eap),
                ("carol", "bad", AuthMethod::Eap),
            ],
            12,
        );
        assert!(
            sim.clients[0].address.is_some(),
            "{:?}",
            sim.clients[0].events
        );
        assert!(sim.clients[1].address.is_none());
        assert!(
            sim.radius.access_requests >= 4,
            "identity and response for each"
        );
        let _ = &mut sim;
    });
}

#[test]
fn a_silent_server_falls_back_to_local_and_then_refuses() {
    big_stack(|| {
        let mut sim = Sim::new(
            radius_config(" authentication ms-chap-v2\n authentication pap\n"),
            13,
        );
        sim.radius.silent = true;
        // alice is in the local database (LOCAL fallback); carol only in RADIUS.
        let a = sim.add_client(true, "alice", "s3cret-Pass", AuthMethod::MsChapV2);
        let c = sim.add_client(true, "carol", "carol-pw", AuthMethod::Pap);
        sim.connect(a);
        sim.connect(c);
        sim.run_until(secs(60));
        assert!(sim.clients[a].address.is_some(), "local fallback");
        assert!(sim.clients[c].address.is_none());
        assert!(sim.gateway_events.iter().any(|e| matches!(
            e,
            Event::LoginRefused {
                reason: Refused::Policy(_) | Refused::BadCredentials,
                ..
            }
        )));
    });
}

#[test]
fn a_group_whose_servers_all_failed_falls_back_to_local_at_once() {
    big_stack(|| {
        let mut sim = Sim::new(radius_config(" authentication ms-chap-v2\n"), 17);
        sim.radius.silent = true;
        // One login after the other; each is served by the LOCAL fallback.
        // The first ones wait for the silent server (timeout 4 s); once it
        // has failed `max-failed-attempts` (3) requests in a row it is dead
        // for the dead time, the group is down, and LOCAL decides at once.
        let mut logins = Vec::new();
        for _ in 0..5 {
            let c = sim.add_client(true, "alice", "s3cret-Pass", AuthMethod::MsChapV2);
            let start = sim.now;
            let asked = sim.radius.unheard_access_requests;
            sim.connect(c);
            while sim.clients[c].address.is_none() && sim.now < start + secs(60) {
                let next = sim.now + Duration::from_millis(50);
                sim.run_until(next);
            }
            assert!(sim.clients[c].address.is_some(), "LOCAL fallback");
            logins.push((sim.now - start, sim.radius.unheard_access_requests - asked));
            sim.hang_up([c], secs(3), secs(5));
        }
        println!("(time to address, Access-Requests sent) per login: {logins:?}");
        let (first_wait, first_asked) = logins[0];
        assert!(first_asked >= 1 && first_wait >= secs(4), "{logins:?}");
        let (last_wait, last_asked) = logins[4];
        assert_eq!(last_asked, 0, "the dead group is not asked: {logins:?}");
        assert!(
            last_wait + secs(4) <= first_wait,
            "without the server's timeout: {logins:?}"
        );
    });
}

#[test]
fn more_logins_than_radius_slots_are_refused_as_busy_and_nothing_leaks() {
    big_stack(|| {
        // The simulated gateway has 8 RADIUS request slots; ten RADIUS-only
        // users log in at once against a server that never answers.
        let mut sim = Sim::new(radius_config(" authentication pap\n"), 17);
        sim.radius.silent = true;
        let clients: Vec<usize> = (0..10)
            .map(|_| sim.add_client(true, "carol", "carol-pw", AuthMethod::Pap))
            .collect();
        for &c in &clients {
            sim.connect(c);
        }
        sim.run_until(secs(3));
        // Eight wait for the server; the other two were told at once.
        assert_eq!(sim.gateway.resources().logins, 8);
        let busy = |sim: &Sim| {
            sim.gateway_events
                .iter()
                .filter(|e| {
                    matches!(
                        e,
                        Event::LoginRefused {
                            reason: Refused::Busy,
                            ..
                        }
                    )
                })
                .count()
        };
        assert_eq!(busy(&sim), 2);
        // The server stays silent: the eight fall back to the local
        // database in turn, which does not know carol.
        sim.run_until(secs(90));
        let timeouts = sim
            .gateway_events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    Event::LoginRefused {
                        reason: Refused::Policy(_),
                        ..
                    }
                )
            })
            .count();
        assert_eq!((busy(&sim), timeouts), (2, 8));
        assert!(clients.iter().all(|&c| sim.clients[c].address.is_none()));
        let r = sim.gateway.resources();
        assert_eq!(
            (r.logins, r.radius_requests, r.sessions, r.addresses),
            (0, 0, 0, 0),
            "{r:?}"
        );
    });
}

#[test]
fn periodic_interim_updates_carry_the_session_time() {
    big_stack(|| {
        let mut sim = Sim::new(
            config(
                "aaa-server RAD protocol radius
 interim-accounting-update periodic 1
aaa-server RAD (inside) host 10.9.9.9
 key radsecret
tunnel-group DefaultRAGroup general-attributes
 accounting-server-group RAD
group-policy DfltGrpPolicy attributes
 vpn-idle-timeout none
",
            ),
            19,
        );
        let c = sim.add_lasting_client("alice", "s3cret-Pass");
        sim.connect(c);
        sim.run_until(secs(30));
        assert!(sim.clients[c].address.is_some());
        assert_eq!(sim.radius.starts.len(), 1);
        // Two and a half hours: two Interim-Updates, an hour apart.
        sim.run_until(secs(30 + 9000));
        let id = sim.radius.starts[0].clone();
        let times: Vec<u32> = sim
            .radius
            .interims
            .iter()
            .map(|(s, t)| {
                assert_eq!(*s, id);
                *t
            })
            .collect();
        assert_eq!(
            times.len(),
            2,
            "{times:?} {:?}",
            sim.gateway_events
                .iter()
                .filter(|e| !matches!(e, Event::Debug(_) | Event::EspKeys(_)))
                .collect::<Vec<_>>()
        );
        assert!(
            (3599..=3602).contains(&times[0]) && (7199..=7202).contains(&times[1]),
            "{times:?}"
        );
        let now = sim.now;
        sim.clients[c].dialer.disconnect(now, &mut sim.client_rng);
        sim.flush();
        sim.run_until(sim.now + secs(30));
        assert_eq!(sim.radius.stops.len(), 1);
        assert_eq!(sim.radius.interims.len(), 2, "none after the Stop");
    });
}

#[test]
fn session_timeout_from_radius_ends_the_session() {
    big_stack(|| {
        let mut sim = run_clients(
            " authentication ms-chap-v2\n",
            &[("dave", "dave-pw", AuthMethod::MsChapV2)],
            14,
        );
        assert!(sim.clients[0].address.is_some());
        sim.run_until(secs(700));
        let down = sim.gateway_events.iter().find_map(|e| match e {
            Event::SessionDown { cause, .. } => Some(*cause),
            _ => None,
        });
        assert_eq!(down, Some(TerminateCause::SessionTimeout));
        assert_eq!(sim.radius.stops.len(), 1);
        assert_eq!(
            sim.radius.stops[0].1, 5,
            "Acct-Terminate-Cause Session-Timeout"
        );
        sim.run_until(secs(760));
        assert_eq!(sim.gateway.resources(), Resources::default());
    });
}
