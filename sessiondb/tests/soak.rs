//! Soak: thousands of session lifecycles through a network with 10% loss,
//! duplication and reordering, with churn and faults: NAT rebinding,
//! clients that vanish without a goodbye, wrong passwords, a RADIUS server
//! that goes away (briefly, and for long enough that LOCAL takes over) and
//! comes back, pool exhaustion, a full table and configuration reloads.
//!
//! After every simulated step (250 ms) the invariants are checked: the
//! gateway's resources stay within their bounds and agree with each other,
//! counters only grow and agree with the table, no two sessions share an
//! address, and every client that believes it is up has its session in
//! the gateway. After every round, once the clients are gone, the gateway
//! holds nothing (no session, slot, address, SA, tunnel, RADIUS request,
//! login), and every session that came up sent one Accounting-Start and
//! one Accounting-Stop (heard by the server, or sent while it was away).
//!
//! `cargo test -p sessiondb --test soak` runs the short form;
//! `SOAK_LIFECYCLES=10000 cargo test --release -p sessiondb --test soak --
//! --nocapture` the long one.
#![allow(clippy::cast_possible_truncation)]

mod sim;

use ppp_core::AuthMethod;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sessiondb::dialer::{DialerConfig, DialerEvent};
use sessiondb::gateway::{Counters, Event, Refused, Resources};
use sim::radius::UserReply;
use sim::{Faults, GATEWAY, PSK, Sim, big_stack};
use std::collections::{BTreeSet, HashMap};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

/// The short form: what `cargo test` runs.
const SHORT_LIFECYCLES: usize = 1000;
const STEP: Duration = Duration::from_millis(250);
/// Table capacity of the simulated gateway.
const TABLE: usize = 64;
const USERS: usize = 16;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The simulation's configuration plus RADIUS authentication (LOCAL as
/// fallback) and accounting, 16 local users who are also RADIUS users, and
/// `pool` as the address range.
fn soak_config(pool: &str, dns: &str) -> sessiondb::Config {
    let mut extra = String::new();
    for u in 0..USERS {
        extra += &format!("username u{u} password pw-u{u} mschap\n");
    }
    extra += &format!(
        "aaa-server RAD protocol radius
aaa-server RAD (inside) host 10.9.9.9
 key radsecret
 timeout 6
 retry-interval 2
tunnel-group DefaultRAGroup general-attributes
 authentication-server-group RAD LOCAL
 accounting-server-group RAD
group-policy DfltGrpPolicy attributes
 vpn-simultaneous-logins 16
 dns-server value {dns}
l2tp tunnel hello 10
"
    );
    let base = sim::config(&extra);
    let mut text = String::new();
    base.write_running_config(&mut text, sessiondb::SecretDisplay::Clear)
        .unwrap();
    let text = text.replace("10.10.0.10-10.10.0.250", pool);
    assert!(text.contains(pool), "{text}");
    sessiondb::Config::parse(&text).unwrap_or_else(|e| panic!("{e}"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    /// Up, then PPP Terminate, StopCCN, CDN and IKE Deletes.
    Goodbye,
    /// Up, then the NAT rebinds, then goodbye.
    Rebind,
    /// Up, then nothing ever again.
    Vanish,
    /// A local user with a wrong password (RADIUS rejects, LOCAL is not
    /// asked while the server answers).
    WrongPassword,
    /// A user only the RADIUS server knows.
    RadiusOnly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Churn,
    /// The pool shrinks to 8 addresses for the round (a reload).
    PoolExhaustion,
    /// More clients than table slots.
    FullTable,
}

struct Attempt {
    fate: Fate,
    start: Duration,
    hold: Duration,
    started: bool,
    up_at: Option<Duration>,
    /// When the client hung up (or vanished).
    acted: Option<Duration>,
    rebound: bool,
    deleted: bool,
    /// Since when the client's IPCP has been Opened without a break (a
    /// renegotiation, which goes through Opened again, restarts it).
    opened_since: Option<Duration>,
    /// How many times the client's IPCP reached Opened.
    ups: usize,
}

#[derive(Default, Debug)]
struct Tally {
    lifecycles: usize,
    rounds: usize,
    steps: u64,
    invariant_checks: u64,
    up: usize,
    refused_or_failed: usize,
    wrong_password: usize,
    vanished: usize,
    rebinds: usize,
    reloads: usize,
    radius_outages: usize,
    refused: HashMap<String, usize>,
    max_sessions: usize,
    max_addresses: usize,
    max_quiesce: Duration,
    accounting_starts_unheard: usize,
    accounting_stops_unheard: usize,
}

struct Soak {
    sim: Sim,
    plan: ChaCha20Rng,
    last: Counters,
    tally: Tally,
    pool_size: usize,
    /// Client configs by slot are rebuilt per attempt.
    attempts: Vec<Attempt>,
    radius_back_at: Option<Duration>,
    /// Acct-Session-Ids of the Starts and Stops the gateway sent.
    sent_starts: BTreeSet<String>,
    sent_stops: BTreeSet<String>,
}

impl Soak {
    fn new(seed: u64) -> Self {
        let mut sim = Sim::new(soak_config("10.10.0.10-10.10.0.250", "10.10.0.2"), seed);
        for u in 0..USERS {
            sim.radius
                .user(&format!("u{u}"), &format!("pw-u{u}"), UserReply::default());
            sim.radius
                .user(&format!("r{u}"), &format!("pw-r{u}"), UserReply::default());
        }
        sim.faults = Faults {
            loss: 0.10,
            duplicate: 0.05,
            reorder: 0.10,
        };
        let last = *sim.gateway.counters();
        Self {
            sim,
            plan: ChaCha20Rng::seed_from_u64(seed ^ 0x50a4),
            last,
            tally: Tally::default(),
            pool_size: 241,
            attempts: Vec::new(),
            radius_back_at: None,
            sent_starts: BTreeSet::new(),
            sent_stops: BTreeSet::new(),
        }
    }

    fn dialer_config(&mut self, i: usize, fate: Fate) -> DialerConfig {
        let behind_nat = !i.is_multiple_of(3);
        let local = client_address(i, behind_nat);
        let u = self.plan.next_u32() as usize % USERS;
        let (user, password) = match fate {
            Fate::WrongPassword => (format!("u{u}"), "not-the-password".to_owned()),
            Fate::RadiusOnly => (format!("r{u}"), format!("pw-r{u}")),
            _ => (format!("u{u}"), format!("pw-u{u}")),
        };
        let method = [AuthMethod::MsChapV2, AuthMethod::MsChapV1, AuthMethod::Pap]
            [self.plan.next_u32() as usize % 3];
        DialerConfig::windows_like(
            SocketAddrV4::new(GATEWAY, 500),
            SocketAddrV4::new(local, 500),
            PSK,
            user.as_bytes(),
            password.as_bytes(),
        )
        .unwrap()
        .with_method(method)
    }

    fn ensure_clients(&mut self, n: usize) {
        while self.sim.clients.len() < n {
            let i = self.sim.clients.len();
            let behind_nat = !i.is_multiple_of(3);
            let config = DialerConfig::windows_like(
                SocketAddrV4::new(GATEWAY, 500),
                SocketAddrV4::new(client_address(i, behind_nat), 500),
                PSK,
                b"nobody",
                b"nothing",
            )
            .unwrap();
            self.sim.add_dialer(behind_nat, &config);
        }
    }

    fn reload(&mut self, pool: &str, pool_size: usize) {
        let dns = if self.tally.reloads.is_multiple_of(2) {
            "10.10.0.2"
        } else {
            "10.10.0.3"
        };
        let now = self.sim.now;
        let config = soak_config(pool, dns);
        self.sim
            .gateway
            .replace_config(now, config, &mut self.sim.gateway_rng);
        self.sim.flush();
        self.pool_size = pool_size;
        self.tally.reloads += 1;
    }

    fn round(&mut self, r: usize, budget: usize) {
        // (Neither of these two kinds meets a RADIUS outage: r % 4 is 0 or 2.)
        let kind = match r % 10 {
            4 => Kind::FullTable,
            2 => Kind::PoolExhaustion,
            _ => Kind::Churn,
        };
        let n = match kind {
            Kind::Churn => 24,
            Kind::PoolExhaustion => 16,
            Kind::FullTable => TABLE + 16,
        }
        .min(budget);
        self.ensure_clients(n);
        if kind == Kind::PoolExhaustion {
            self.reload("10.10.0.10-10.10.0.17", 8);
        }
        let t0 = self.sim.now;
        self.attempts.clear();
        for _ in 0..n {
            let fate = match (kind, self.plan.next_u32() % 20) {
                (Kind::FullTable, _) | (_, 0..=9) => Fate::Goodbye,
                (_, 10..=12) => Fate::Rebind,
                (_, 13..=15) => Fate::Vanish,
                (_, 16..=17) => Fate::WrongPassword,
                _ => Fate::RadiusOnly,
            };
            // A full table: everyone within 20 s and long enough to overlap.
            // (Faster, with 10% loss, the 16 concurrent IKE negotiations of
            // this gateway fill with negotiations recovering from a lost
            // message, and the anti-clogging eviction ends some of them:
            // see docs/RELIABILITY.md.)
            let (spread, hold) = match kind {
                Kind::Churn => (3000, 2000 + u64::from(self.plan.next_u32() % 12_000)),
                Kind::PoolExhaustion => (1500, 25_000),
                Kind::FullTable => (20_000, 60_000),
            };
            self.attempts.push(Attempt {
                fate,
                start: t0 + ms(u64::from(self.plan.next_u32()) % spread),
                hold: ms(hold),
                started: false,
                up_at: None,
                acted: None,
                rebound: false,
                deleted: false,
                opened_since: None,
                ups: 0,
            });
        }
        // RADIUS outages: a short one (within the retransmission window:
        // nothing lost) or a long one (logins fall back to LOCAL, RADIUS-only
        // users are refused, accounting goes unheard).
        let outage = match r % 4 {
            1 => Some((t0 + ms(2000), ms(3000))),
            3 => Some((t0 + ms(1000), ms(40_000))),
            _ => None,
        };
        // A reload that changes nothing the sessions depend on, mid-round.
        let reload_at = (r.is_multiple_of(3) && kind == Kind::Churn).then_some(t0 + ms(6000));
        let end = t0 + Duration::from_secs(60);
        while self.sim.now < end {
            let now = self.sim.now;
            if let Some((at, len)) = outage
                && !self.sim.radius.silent
                && now >= at
                && now < at + len
            {
                self.sim.radius.silent = true;
                self.radius_back_at = Some(at + len);
                self.tally.radius_outages += 1;
            }
            if self.radius_back_at.is_some_and(|t| now >= t) {
                self.sim.radius.silent = false;
                self.radius_back_at = None;
            }
            if reload_at.is_some_and(|t| now >= t && now < t + STEP) {
                self.reload("10.10.0.10-10.10.0.250", 241);
            }
            for i in 0..n {
                self.drive(i);
            }
            self.sim.run_until(now + STEP);
            self.collect(n);
            self.check(n);
        }
        // Those still trying give up; everyone still up hangs up.
        #[allow(clippy::needless_range_loop)]
        for i in 0..n {
            let a = &mut self.attempts[i];
            if a.acted.is_none() && a.fate != Fate::Vanish {
                a.acted = Some(self.sim.now);
                let now = self.sim.now;
                self.sim.clients[i]
                    .dialer
                    .disconnect(now, &mut self.sim.client_rng);
            } else if a.acted.is_none() {
                a.acted = Some(self.sim.now);
                self.sim.vanish(i);
            }
        }
        self.sim.flush();
        self.sim.run_until(self.sim.now + Duration::from_secs(3));
        for i in 0..n {
            if !self.attempts[i].deleted && !self.sim.has_vanished(i) {
                self.attempts[i].deleted = true;
                let now = self.sim.now;
                self.sim.clients[i]
                    .dialer
                    .delete_sas(now, &mut self.sim.client_rng);
            }
        }
        self.sim.flush();
        self.sim.radius.silent = false;
        self.radius_back_at = None;
        // Quiesce: everything the vanished clients held is reclaimed by
        // the gateway's own timers.
        let q0 = self.sim.now;
        while self.sim.gateway.resources() != Resources::default() {
            assert!(
                self.sim.now - q0 < Duration::from_secs(30 * 60),
                "round {r}: still held after 30 minutes: {:?} {:?}",
                self.sim.gateway.resources(),
                self.sim.gateway.counters()
            );
            let next = self.sim.now + Duration::from_secs(1);
            self.sim.run_until(next);
            self.collect(n);
            self.check(n);
        }
        self.tally.max_quiesce = self.tally.max_quiesce.max(self.sim.now - q0);
        if kind == Kind::PoolExhaustion {
            self.reload("10.10.0.10-10.10.0.250", 241);
        }
        self.settle_round(r, n, kind);
    }

    /// Starts, hangs up, rebinds and vanishes client `i` as planned.
    fn drive(&mut self, i: usize) {
        let now = self.sim.now;
        let a = &self.attempts[i];
        if !a.started {
            if now >= a.start {
                let fate = a.fate;
                let config = self.dialer_config(i, fate);
                self.sim.renew_client(i, &config);
                self.attempts[i].started = true;
                self.tally.lifecycles += 1;
                self.sim.connect(i);
            }
            return;
        }
        let Some(up) = a.up_at else {
            return;
        };
        if a.fate == Fate::Rebind && !a.rebound && now >= up + a.hold / 2 {
            self.attempts[i].rebound = true;
            self.tally.rebinds += 1;
            self.sim.rebind_nat(i);
            // Traffic after the rebinding teaches the gateway the new port.
            self.sim
                .client_sends(i, Ipv4Addr::new(10, 10, 0, 1), b"after rebinding");
        }
        let (acted, hold, fate, deleted) = {
            let a = &self.attempts[i];
            (a.acted, a.hold, a.fate, a.deleted)
        };
        if acted.is_none() && now >= up + hold {
            self.attempts[i].acted = Some(now);
            if fate == Fate::Vanish {
                self.tally.vanished += 1;
                self.sim.vanish(i);
            } else {
                self.sim.clients[i]
                    .dialer
                    .disconnect(now, &mut self.sim.client_rng);
                self.sim.flush();
            }
        } else if let Some(t) = acted
            && !deleted
            && fate != Fate::Vanish
            && now >= t + Duration::from_secs(3)
        {
            self.attempts[i].deleted = true;
            self.sim.clients[i]
                .dialer
                .delete_sas(now, &mut self.sim.client_rng);
            self.sim.flush();
        }
    }

    /// Notes which clients came up, and whose IPCP is Opened now.
    fn collect(&mut self, n: usize) {
        for i in 0..n {
            let a = &mut self.attempts[i];
            if a.started && a.up_at.is_none() && self.sim.clients[i].address.is_some() {
                a.up_at = Some(self.sim.now);
            }
            let opened = a.started
                && self.sim.clients[i].dialer.link().ipcp_state() == ppp_core::State::Opened;
            let ups = self.sim.clients[i]
                .events
                .iter()
                .filter(|e| matches!(e, DialerEvent::Up(_)))
                .count();
            let again = ups != a.ups;
            a.ups = ups;
            a.opened_since = match (opened, a.opened_since) {
                (true, Some(t)) if !again => Some(t),
                (true, _) => Some(self.sim.now),
                (false, _) => None,
            };
        }
    }

    /// The invariants that hold at every step.
    fn check(&mut self, n: usize) {
        self.tally.steps += 1;
        let gw = &self.sim.gateway;
        let r = gw.resources();
        let c = *gw.counters();
        let mut checks = 0u64;
        let mut ok = |cond: bool, what: &str| {
            checks += 1;
            assert!(cond, "{what}: {r:?} {c:?}");
        };
        // Bounds: the capacities are fixed; nothing exceeds them.
        ok(r.sessions <= TABLE, "table bound");
        ok(r.peers <= TABLE, "client slot bound");
        ok(r.addresses <= self.pool_size.max(8), "pool bound");
        ok(r.ike_sas <= 128 && r.esp_sas <= 256, "SA bounds");
        ok(
            r.logins <= r.peers && r.radius_requests <= 8,
            "login bounds",
        );
        // Agreement: an address, a record or a login belongs to a client slot.
        ok(r.addresses <= r.peers, "address without a slot");
        ok(r.sessions <= r.peers, "record without a slot");
        // (Closed tunnels outlive their slot for a while, to re-acknowledge
        // a StopCCN: bounded by the L2TP capacity, not by the slots.)
        ok(r.l2tp_tunnels <= TABLE, "tunnel bound");
        // Counters only grow, and the table holds at least the sessions up.
        let l = self.last;
        ok(
            c.sessions_up >= l.sessions_up
                && c.sessions_down >= l.sessions_down
                && c.refused >= l.refused
                && c.malformed >= l.malformed
                && c.accounting_lost >= l.accounting_lost,
            "counters only grow",
        );
        ok(c.sessions_down <= c.sessions_up, "more down than up");
        ok(
            (c.sessions_up - c.sessions_down) as usize <= r.sessions,
            "sessions up without a record",
        );
        // No two records share an address; each is in the pool.
        let mut seen = BTreeSet::new();
        for (_, s) in gw.sessions().iter() {
            if let Some(a) = s.assigned_ip {
                if !seen.insert(a) {
                    let holders: Vec<_> = gw
                        .sessions()
                        .iter()
                        .filter(|(_, x)| x.assigned_ip == Some(a))
                        .map(|(_, x)| {
                            let down = self.sim.gateway_events.iter().any(|e| {
                                matches!(e, Event::SessionDown { index, .. } if *index == x.index)
                            });
                            (x.index, x.username.clone(), down)
                        })
                        .collect();
                    panic!("two sessions with {a}: {holders:?}");
                }
                let o = a.octets();
                ok(
                    o[..3] == [10, 10, 0] && (10..=250).contains(&o[3]),
                    "address outside the pool",
                );
            }
        }
        // Every client that believes it is up (and has not hung up or
        // vanished) has its session in the gateway, once the gateway had
        // the time to see the client's last IPCP Configure-Ack: the client
        // is Opened on sending it, and a gateway that missed it sends its
        // Configure-Request again (restart timer 3 s), which takes the
        // client out of Opened for a moment (and in again: a new Up); and
        // after a NAT rebinding the gateway reaches the client only once
        // an authenticated packet from the new port (data, an LCP echo)
        // got through the 10% loss. Thirty seconds Opened without a new Up
        // is ten such retransmissions and three LCP echoes.
        for i in 0..n {
            let a = &self.attempts[i];
            let settled = a
                .opened_since
                .is_some_and(|t| self.sim.now >= t + Duration::from_secs(30));
            if let (Some(addr), None, true) = (self.sim.clients[i].address, a.acted, settled) {
                let downed = self.sim.clients[i]
                    .events
                    .iter()
                    .any(|e| matches!(e, DialerEvent::Down(_)));
                if !(downed || seen.contains(&addr)) {
                    let downs: Vec<_> = self
                        .sim
                        .gateway_events
                        .iter()
                        .filter(|e| {
                            matches!(e, Event::SessionDown { .. } | Event::SessionUp { .. })
                        })
                        .collect();
                    panic!(
                        "client {i} ({:?}, up at {:?}) has {addr} without a session in the gateway at {:?}: {downs:?} {r:?}",
                        a.fate, a.up_at, self.sim.now
                    );
                }
            }
        }
        self.tally.max_sessions = self.tally.max_sessions.max(r.sessions);
        self.tally.max_addresses = self.tally.max_addresses.max(r.addresses);
        self.tally.invariant_checks += checks;
        self.last = c;
    }

    /// After a quiesced round: outcomes, refusals, accounting.
    fn settle_round(&mut self, r: usize, n: usize, kind: Kind) {
        self.tally.rounds += 1;
        let mut up_at_once = 0;
        for i in 0..n {
            let a = &self.attempts[i];
            let client = &self.sim.clients[i];
            let was_up = client
                .events
                .iter()
                .any(|e| matches!(e, DialerEvent::Up(_)));
            if was_up {
                self.tally.up += 1;
                up_at_once += 1;
            } else {
                self.tally.refused_or_failed += 1;
            }
            if a.fate == Fate::WrongPassword {
                self.tally.wrong_password += 1;
                assert!(!was_up, "round {r}: client {i} up with a wrong password");
            }
            // A client that did not come up was told so, or gave up on its
            // own: none is left half-open (the gateway holds nothing, checked
            // by the quiescence above).
            if !was_up {
                assert!(
                    client
                        .events
                        .iter()
                        .any(|e| matches!(e, DialerEvent::Down(_)))
                        || a.acted.is_some(),
                    "round {r}: client {i} neither up nor refused"
                );
            }
        }
        for e in self.sim.gateway_events.drain(..) {
            if let Event::LoginRefused { reason, .. } = e {
                let key = match reason {
                    Refused::Policy(p) => format!("Policy({p:?})"),
                    other => format!("{other:?}"),
                };
                *self.tally.refused.entry(key).or_default() += 1;
            }
        }
        // What the gateway sent to the RADIUS server, before the network
        // lost any of it.
        for w in self.sim.to_clients.drain(..) {
            if let sim::Wire::Radius {
                to_server: true,
                payload,
                ..
            } = w
                && let Some((id, status)) = sim::radius::accounting_of(&payload)
            {
                match status {
                    1 => self.sent_starts.insert(id),
                    2 => self.sent_stops.insert(id),
                    _ => false,
                };
            }
        }
        self.sim.inside.clear();
        // Most good clients come up through 10% loss.
        let eligible = self.attempts[..n]
            .iter()
            .filter(|a| matches!(a.fate, Fate::Goodbye | Fate::Rebind | Fate::Vanish))
            .count();
        let limit = match kind {
            Kind::PoolExhaustion => 8,
            Kind::FullTable => TABLE,
            Kind::Churn => eligible,
        };
        let outcomes: Vec<_> = (0..n)
            .map(|i| (self.attempts[i].fate, self.sim.clients[i].events.clone()))
            .collect();
        // While the server is away and not yet marked failed (three
        // requests timed out, 6 s each), logins wait for it and those
        // beyond the 8 RADIUS login slots are refused as Busy (a client
        // may redial; these do not): fewer come up in the rounds with an
        // outage, fewest with the long one (then LOCAL decides).
        let percent = match r % 4 {
            1 => 40,
            3 => 25,
            _ => 70,
        };
        assert!(
            up_at_once * 100 >= limit.min(eligible) * percent,
            "round {r} ({kind:?}): only {up_at_once} of {eligible} up: {:?} {outcomes:?}",
            self.tally.refused
        );
        // Accounting: every session that came up sent one Start and one
        // Stop (the server heard them unless it was away or the network
        // lost every retransmission).
        let rad = &self.sim.radius;
        let (starts, stops) = (&self.sent_starts, &self.sent_stops);
        let c = self.sim.gateway.counters();
        // A session whose Start never found a free request slot sends no
        // Stop either; one whose Stop waited past STOP_PATIENCE loses its
        // Stop: both are counted as lost.
        assert!(stops.is_subset(starts), "round {r}: a Stop without a Start");
        assert_eq!(
            stops.len() as u64 + c.accounting_lost,
            c.sessions_up,
            "round {r}: one Stop per session or a loss counted"
        );
        assert!(
            starts.len() as u64 <= c.sessions_up,
            "round {r}: one Start per session"
        );
        assert_eq!(c.sessions_up, c.sessions_down, "round {r}");
        let heard_starts: BTreeSet<_> = rad.starts.iter().cloned().collect();
        let heard_stops: BTreeSet<_> = rad.stops.iter().map(|(s, _)| s.clone()).collect();
        assert!(heard_starts.is_subset(starts) && heard_stops.is_subset(stops));
        self.tally.accounting_starts_unheard = starts.len() - heard_starts.len();
        self.tally.accounting_stops_unheard = stops.len() - heard_stops.len();
    }
}

fn client_address(i: usize, behind_nat: bool) -> Ipv4Addr {
    if behind_nat {
        Ipv4Addr::new(10, 0, (i / 200) as u8, 2 + (i % 200) as u8)
    } else {
        Ipv4Addr::new(198, 51, 100, 10 + i as u8)
    }
}

#[test]
fn soak() {
    big_stack(|| {
        let lifecycles = std::env::var("SOAK_LIFECYCLES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(SHORT_LIFECYCLES);
        let seed = std::env::var("SOAK_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(12);
        let mut soak = Soak::new(seed);
        let mut r = 0;
        while soak.tally.lifecycles < lifecycles {
            let budget = lifecycles - soak.tally.lifecycles;
            soak.round(r, budget.max(1));
            r += 1;
        }
        let c = *soak.sim.gateway.counters();
        let (ike, esp, l2tp) = soak.sim.gateway.core_counters();
        println!("soak: {:#?}", soak.tally);
        println!("gateway counters: {c:?}");
        println!("ike: {ike:?}\nesp: {esp:?}\nl2tp: {l2tp:?}");
        println!(
            "radius: {} Access-Requests ({} accepts, {} rejects), {} Starts and {} Stops heard, {} and {} unheard",
            soak.sim.radius.access_requests,
            soak.sim.radius.accepts,
            soak.sim.radius.rejects,
            soak.sim.radius.starts.len(),
            soak.sim.radius.stops.len(),
            soak.sim.radius.unheard_starts.len(),
            soak.sim.radius.unheard_stops.len(),
        );
        println!("network: {} datagrams lost", soak.sim.dropped);
        let t = &soak.tally;
        assert!(t.lifecycles >= lifecycles);
        assert_eq!(t.up + t.refused_or_failed, t.lifecycles);
        assert_eq!(soak.sim.gateway.resources(), Resources::default());
        // Every fault happened.
        assert!(
            t.vanished > 0 && t.rebinds > 0 && t.wrong_password > 0,
            "{t:?}"
        );
        assert!(t.reloads > 0 && t.radius_outages > 0, "{t:?}");
        if lifecycles >= 100 {
            assert!(t.refused.contains_key("NoAddress"), "{t:?}");
            assert_eq!(t.max_sessions, TABLE, "the table filled: {t:?}");
        }
    });
}
