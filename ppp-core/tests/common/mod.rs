//! Test harness: a simulated network between two links (loss, duplication,
//! reordering, delay) with a hand-advanced clock and seeded RNGs, and a
//! reader for the PPP frames inside the reference L2TP/IPsec captures.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::time::Duration;

use ppp_core::crypto::NtHash;
use ppp_core::{Accept, AuthMethod, Config, DownReason, Event, Ipv4Config, Link, Received};
use rand_chacha::ChaCha20Rng;
use rand_core::Rng;

/// An event, owned (the link's events borrow it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    AuthRequest { method: AuthMethod, user: Vec<u8> },
    Authenticated(AuthMethod),
    AddressRequest,
    EapRetransmit,
    NetworkUp(Ipv4Config),
    NetworkDown,
    Down(DownReason),
}

/// How the authenticator's caller decides.
#[derive(Debug, Clone)]
pub enum Decider {
    /// A local database holding the NT hash (PAP, MS-CHAP, MS-CHAP-V2).
    NtHash(Vec<u8>, NtHash),
    /// A RADIUS-like server holding the cleartext (every method, EAP-MD5).
    Cleartext(Vec<u8>, Vec<u8>),
    /// Never answers.
    Silent,
}

/// The network's faults, as probabilities in percent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    pub loss: u32,
    pub duplicate: u32,
    /// Extra random delay (0..=jitter ms) per frame: reorders.
    pub jitter_ms: u64,
}

pub const POOL_ADDRESS: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
pub const LOCAL_ADDRESS: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
pub const DNS1: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 53);
pub const DNS2: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 53);
pub const WINS1: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 137);

pub const USER: &[u8] = b"alice";
pub const PASSWORD: &[u8] = b"s3cret-Pass";

/// The gateway's configuration used by the pair tests.
pub fn authenticator_config(methods: &[AuthMethod]) -> Config {
    let mut c = Config::authenticator(methods);
    c.name = heapless::Vec::from_slice(b"lns").unwrap();
    c.ipcp.local_address = Some(LOCAL_ADDRESS);
    c.ipcp.dns = [Some(DNS1), Some(DNS2)];
    c.ipcp.nbns = [Some(WINS1), None];
    c
}

/// A client's configuration.
pub fn peer_config(methods: &[AuthMethod], password: &[u8]) -> Config {
    let mut c = Config::peer(USER, password).unwrap();
    c.auth_methods = heapless::Vec::from_slice(methods).unwrap();
    c.ipcp.request_nbns = true;
    c
}

/// One side of the pair.
pub struct Side {
    pub link: Link,
    pub rng: ChaCha20Rng,
    pub events: Vec<Ev>,
    /// Control frames this side sent, in order.
    pub sent: Vec<Vec<u8>>,
    /// IPv4 datagrams it received.
    pub ipv4: Vec<Vec<u8>>,
}

impl Side {
    fn new(config: &Config, seed: u64) -> Self {
        Self {
            link: Link::new(config).unwrap(),
            rng: testkit::rng(seed),
            events: Vec::new(),
            sent: Vec::new(),
            ipv4: Vec::new(),
        }
    }

    pub fn down_reason(&self) -> Option<DownReason> {
        self.events.iter().find_map(|e| match e {
            Ev::Down(r) => Some(*r),
            _ => None,
        })
    }

    pub fn network_up(&self) -> Option<Ipv4Config> {
        self.events.iter().rev().find_map(|e| match e {
            Ev::NetworkUp(c) => Some(*c),
            _ => None,
        })
    }
}

struct InFlight {
    at: Duration,
    to_peer: bool,
    seq: u64,
    frame: Vec<u8>,
}

/// Two links and the network between them. `a` is the authenticator, `b`
/// the peer.
pub struct Pair {
    pub a: Side,
    pub b: Side,
    pub now: Duration,
    pub decider: Decider,
    /// Answer AddressRequest from the pool.
    pub pool: Option<Ipv4Addr>,
    /// The authenticator relays EAP to an EAP-MD5 server holding this
    /// password, with this challenge.
    pub eap_server: Option<(Vec<u8>, [u8; 16])>,
    /// The last EAP Request the server relayed (for EapRetransmit).
    eap_last: Option<Vec<u8>>,
    pub faults: Faults,
    pub net_rng: ChaCha20Rng,
    in_flight: VecDeque<InFlight>,
    pub delay: Duration,
    /// Drop everything the peer sends (a silent or vanished peer).
    pub peer_silent: bool,
    pub frames_delivered: usize,
    pub frames_lost: usize,
    pub frames_duplicated: usize,
    /// Frames delivered before one sent earlier.
    pub frames_reordered: usize,
    seq: u64,
    last_seq: [u64; 2],
}

impl Pair {
    pub fn new(a: &Config, b: &Config, decider: Decider, seed: u64) -> Self {
        Self {
            a: Side::new(a, seed.wrapping_mul(3).wrapping_add(1)),
            b: Side::new(b, seed.wrapping_mul(5).wrapping_add(2)),
            now: Duration::from_secs(1000),
            decider,
            pool: Some(POOL_ADDRESS),
            eap_server: None,
            eap_last: None,
            faults: Faults::default(),
            net_rng: testkit::rng(seed.wrapping_mul(7).wrapping_add(3)),
            in_flight: VecDeque::new(),
            delay: Duration::from_millis(10),
            peer_silent: false,
            frames_delivered: 0,
            frames_lost: 0,
            frames_duplicated: 0,
            frames_reordered: 0,
            seq: 0,
            last_seq: [0; 2],
        }
    }

    pub fn open(&mut self) {
        let now = self.now;
        self.a.link.open(now, &mut self.a.rng);
        self.b.link.open(now, &mut self.b.rng);
        self.drain();
    }

    fn side(&mut self, peer: bool) -> &mut Side {
        if peer { &mut self.b } else { &mut self.a }
    }

    /// Drains both sides' transmits into the network and their events into
    /// the harness, answering the authenticator's requests.
    pub fn drain(&mut self) {
        for _ in 0..64 {
            let mut progressed = false;
            for peer in [false, true] {
                let mut buf = [0u8; 1500];
                loop {
                    let now = self.now;
                    let Some(n) = self.side(peer).link.poll_transmit(now, &mut buf).unwrap() else {
                        break;
                    };
                    progressed = true;
                    let frame = buf[..n].to_vec();
                    self.side(peer).sent.push(frame.clone());
                    self.send(!peer, frame);
                }
            }
            progressed |= self.drain_events();
            if !progressed {
                return;
            }
        }
        panic!("the links keep producing output");
    }

    fn send(&mut self, to_peer: bool, frame: Vec<u8>) {
        if !to_peer && self.peer_silent {
            return;
        }
        let f = self.faults;
        if self.net_rng.next_u32() % 100 < f.loss {
            self.frames_lost += 1;
            return;
        }
        let copies = if self.net_rng.next_u32() % 100 < f.duplicate {
            2
        } else {
            1
        };
        self.frames_duplicated += copies - 1;
        for _ in 0..copies {
            let jitter = if f.jitter_ms > 0 {
                self.net_rng.next_u64() % (f.jitter_ms + 1)
            } else {
                0
            };
            let at = self.now + self.delay + Duration::from_millis(jitter);
            self.seq += 1;
            self.in_flight.push_back(InFlight {
                at,
                to_peer,
                seq: self.seq,
                frame: frame.clone(),
            });
        }
    }

    fn drain_events(&mut self) -> bool {
        let mut any = false;
        // The peer's events.
        while let Some(e) = self.b.link.poll_event() {
            any = true;
            let ev = own(&e);
            self.b.events.push(ev);
        }
        // The authenticator's events, answered like a gateway would.
        loop {
            let now = self.now;
            let Some(e) = self.a.link.poll_event() else {
                break;
            };
            any = true;
            let ev = own(&e);
            // Some(decision) for an AuthRequest the decider answers.
            let decision: Option<Option<Accept>> = match (&e, &self.decider) {
                (Event::AuthRequest(_), Decider::Silent) => None,
                (Event::AuthRequest(r), Decider::NtHash(user, h)) => Some(
                    (r.credentials.user() == user.as_slice())
                        .then(|| r.credentials.verify(h))
                        .flatten(),
                ),
                (Event::AuthRequest(r), Decider::Cleartext(user, pw)) => Some(
                    (r.credentials.user() == user.as_slice())
                        .then(|| r.credentials.verify_password(pw))
                        .flatten(),
                ),
                _ => None,
            };
            self.a.events.push(ev.clone());
            match (ev, decision) {
                (Ev::AuthRequest { .. }, Some(Some(accept))) => {
                    self.a.link.accept(now, accept).unwrap();
                }
                (Ev::AuthRequest { .. }, Some(None)) => self.a.link.reject(now).unwrap(),
                (Ev::EapRetransmit, _) => {
                    let req = self.eap_last.clone().expect("a request was relayed");
                    self.relay_eap_request(&req);
                }
                (Ev::AddressRequest, _) => {
                    if let Some(p) = self.pool {
                        self.a.link.set_peer_address(now, p).unwrap();
                    }
                }
                _ => {}
            }
        }
        any
    }

    /// Delivers one frame to a side, and handles what it carries.
    fn deliver(&mut self, to_peer: bool, mut frame: Vec<u8>) {
        self.frames_delivered += 1;
        let now = self.now;
        let side = self.side(to_peer);
        let r = side.link.handle_frame(now, &mut frame, &mut side.rng);
        match r {
            Ok(Received::Ipv4(range)) => side.ipv4.push(frame[range].to_vec()),
            Ok(Received::Eap(range)) => {
                let packet = frame[range].to_vec();
                self.eap_server_answer(&packet);
            }
            _ => {}
        }
    }

    /// The EAP-MD5 server behind the authenticator (pass-through).
    fn eap_server_answer(&mut self, response: &[u8]) {
        use ppp_core::wire::eap;
        let Some((password, challenge)) = self.eap_server.clone() else {
            return;
        };
        let now = self.now;
        match eap::Repr::parse(response).unwrap() {
            eap::Repr::Response {
                identifier,
                kind: eap::kind::IDENTITY,
                ..
            } => {
                let id = identifier.wrapping_add(1);
                let c = eap::Md5Challenge {
                    value: &challenge,
                    name: b"radius",
                };
                let mut data = vec![0u8; c.buffer_len()];
                c.emit(&mut data);
                let req = eap::Repr::Request {
                    identifier: id,
                    kind: eap::kind::MD5_CHALLENGE,
                    data: &data,
                };
                let mut packet = vec![0u8; req.buffer_len()];
                req.emit(&mut packet);
                self.eap_last = Some(packet.clone());
                self.relay_eap_request(&packet);
            }
            eap::Repr::Response {
                identifier,
                kind: eap::kind::MD5_CHALLENGE,
                data,
            } => {
                let v = eap::Md5Challenge::parse(data).unwrap();
                let want = ppp_core::crypto::chap_md5_response(identifier, &password, &challenge);
                if v.value == want {
                    self.a.link.accept(now, Accept::Plain).unwrap();
                } else {
                    self.a.link.reject(now).unwrap();
                }
            }
            other => panic!("unexpected EAP from the peer: {other:?}"),
        }
    }

    fn relay_eap_request(&mut self, packet: &[u8]) {
        let now = self.now;
        let mut buf = vec![0u8; 4 + packet.len()];
        buf[4..].copy_from_slice(packet);
        let end = buf.len();
        let range = self.a.link.send_eap(now, &mut buf, 4..end).unwrap();
        let frame = buf[range].to_vec();
        self.a.sent.push(frame.clone());
        self.send(true, frame);
    }

    /// Runs until `done` holds or `limit` of simulated time passes.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Pair) -> bool) -> bool {
        let end = self.now + limit;
        loop {
            self.drain();
            if done(self) {
                return true;
            }
            let next_frame = self.in_flight.iter().map(|f| f.at).min();
            let next_timer = [self.a.link.poll_timeout(), self.b.link.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            let Some(next) = [next_frame, next_timer].into_iter().flatten().min() else {
                return false;
            };
            if next > end {
                self.now = end;
                return done(self);
            }
            self.now = self.now.max(next);
            // Deliver every frame due now, in arrival order.
            while let Some(i) = self
                .in_flight
                .iter()
                .enumerate()
                .filter(|(_, f)| f.at <= self.now)
                .min_by_key(|(_, f)| f.at)
                .map(|(i, _)| i)
            {
                let f = self.in_flight.remove(i).unwrap();
                let last = &mut self.last_seq[usize::from(f.to_peer)];
                if f.seq < *last {
                    self.frames_reordered += 1;
                }
                *last = (*last).max(f.seq);
                self.deliver(f.to_peer, f.frame);
                self.drain();
            }
            let now = self.now;
            for peer in [false, true] {
                let side = self.side(peer);
                if side.link.poll_timeout().is_some_and(|t| t <= now) {
                    side.link.handle_timeout(now, &mut side.rng);
                }
            }
        }
    }

    /// Both network layers up.
    pub fn both_up(&self) -> bool {
        self.a.network_up().is_some() && self.b.network_up().is_some()
    }

    /// Both links down.
    pub fn both_down(&self) -> bool {
        self.a.down_reason().is_some() && self.b.down_reason().is_some()
    }

    /// Sends an IPv4 datagram from one side to the other through the data
    /// path (with headroom, in place) and delivers it; returns what arrived.
    pub fn ipv4_roundtrip(&mut self, from_peer: bool, datagram: &[u8]) -> Option<Vec<u8>> {
        let now = self.now;
        let mut buf = vec![0u8; ppp_core::MAX_HEADROOM + datagram.len()];
        buf[ppp_core::MAX_HEADROOM..].copy_from_slice(datagram);
        let end = buf.len();
        let range = self
            .side(from_peer)
            .link
            .encapsulate_ipv4(now, &mut buf, ppp_core::MAX_HEADROOM..end)
            .ok()?;
        let frame = buf[range].to_vec();
        let before = self.side(!from_peer).ipv4.len();
        self.deliver(!from_peer, frame);
        self.side(!from_peer).ipv4.get(before).cloned()
    }
}

pub fn own(e: &Event<'_>) -> Ev {
    match e {
        Event::AuthRequest(r) => Ev::AuthRequest {
            method: r.credentials.method(),
            user: r.credentials.user().to_vec(),
        },
        Event::Authenticated(m) => Ev::Authenticated(*m),
        Event::AddressRequest => Ev::AddressRequest,
        Event::EapRetransmit => Ev::EapRetransmit,
        Event::NetworkUp(c) => Ev::NetworkUp(*c),
        Event::NetworkDown => Ev::NetworkDown,
        Event::Down(r) => Ev::Down(*r),
        other => panic!("unknown event {other:?}"),
    }
}

/// A minimal IPv4 datagram (header only, protocol 253 "experimental").
pub fn ipv4_datagram(src: Ipv4Addr, dst: Ipv4Addr, payload: &[u8]) -> Vec<u8> {
    let mut d = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 253, 0, 0];
    d[2..4].copy_from_slice(&u16::try_from(20 + payload.len()).unwrap().to_be_bytes());
    d.extend_from_slice(&src.octets());
    d.extend_from_slice(&dst.octets());
    d.extend_from_slice(payload);
    d
}

/// The PPP frames carried by the L2TP data messages of a reference
/// session, in capture order: (from the client, timestamp, frame).
pub fn capture_ppp_frames(
    session: &testkit::l2tp_ipsec::Session,
    capture: testkit::l2tp_ipsec::Capture,
) -> Vec<(bool, Duration, Vec<u8>)> {
    session
        .l2tp_payloads(capture)
        .into_iter()
        .filter_map(|d| {
            l2tp_data_payload(&d.payload).map(|p| (d.from_client, d.timestamp, p.to_vec()))
        })
        .collect()
}

/// The PPP frame of an L2TPv2 data message (RFC 2661 §3.1); `None` for a
/// control message.
pub fn l2tp_data_payload(m: &[u8]) -> Option<&[u8]> {
    let flags = u16::from_be_bytes([m[0], m[1]]);
    assert_eq!(flags & 0x000f, 2, "L2TP version 2");
    if flags & 0x8000 != 0 {
        return None;
    }
    let mut at = 2;
    let mut end = m.len();
    if flags & 0x4000 != 0 {
        end = usize::from(u16::from_be_bytes([m[2], m[3]]));
        at += 2;
    }
    at += 4; // tunnel and session ids
    if flags & 0x0800 != 0 {
        at += 4; // Ns, Nr
    }
    if flags & 0x0200 != 0 {
        let off = usize::from(u16::from_be_bytes([m[at], m[at + 1]]));
        at += 2 + off;
    }
    Some(&m[at..end])
}
