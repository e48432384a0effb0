//! A small simulated network for driving endpoints against each other:
//! loss, duplication, reordering (random delay), and a NAT in front of
//! chosen initiators that rewrites their address and port (all NATed
//! initiators share one public address, like clients behind one home
//! router). Time is advanced by hand; randomness comes from seeded
//! ChaCha20 generators. Node 0 is the responder (the LNS).
#![allow(dead_code, clippy::cast_possible_truncation)]

use ike_core::config::{
    Authentication, EspProposal, IkeProposal, InitiatorConfig, IsakmpPolicy, Psk, TransformSet,
};
use ike_core::crypto::{CipherAlg, DhGroup, HashAlg};
use ike_core::wire::strip_non_esp_marker;
use ike_core::{ChildSa, Config, Endpoint, Event, SaHandle};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

pub const RESPONDER_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
pub const NAT_PUBLIC_IP: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 5);
pub const PSK: &[u8] = b"l2tp-capture-psk";

pub type Ep = Endpoint<8, 8>;

#[derive(Debug, Clone)]
pub struct Faults {
    /// Probability (per mille) that a datagram is lost.
    pub loss_permille: u32,
    /// Probability (per mille) that a datagram is delivered twice.
    pub dup_permille: u32,
    /// Largest extra delay, which reorders datagrams.
    pub max_jitter: Duration,
}

impl Faults {
    pub const NONE: Faults = Faults {
        loss_permille: 0,
        dup_permille: 0,
        max_jitter: Duration::ZERO,
    };
    pub const LOSSY: Faults = Faults {
        loss_permille: 150,
        dup_permille: 150,
        max_jitter: Duration::from_millis(300),
    };
}

pub struct Node {
    pub ep: Ep,
    pub rng: ChaCha20Rng,
    pub events: Vec<Event>,
    /// Own address (private if behind the NAT).
    pub ip: Ipv4Addr,
    pub behind_nat: bool,
    /// Drop everything this node sends (a silent peer).
    pub mute: bool,
}

struct InFlight {
    at: Duration,
    src: SocketAddr,
    dst: SocketAddr,
    data: Vec<u8>,
}

/// Decides whether a datagram (from node, UDP payload) is lost.
pub type DropRule = Box<dyn FnMut(usize, &[u8]) -> bool>;

pub struct Sim {
    pub now: Duration,
    pub nodes: Vec<Node>,
    pub faults: Faults,
    net_rng: ChaCha20Rng,
    flight: Vec<InFlight>,
    nat_out: HashMap<(usize, u16), u16>,
    nat_in: HashMap<u16, (usize, u16)>,
    /// Every datagram delivered: (to node, source, destination, ISAKMP
    /// bytes), for assertions on wire bytes.
    pub delivered: Vec<(usize, SocketAddr, SocketAddr, Vec<u8>)>,
    next_spi: u32,
    /// NAT-keepalives sent, per node.
    pub keepalives: HashMap<usize, usize>,
    /// Answer SpiNeeded automatically.
    pub auto_spi: bool,
    /// Drops a datagram (from node, UDP payload) when it returns true.
    pub drop_rule: Option<DropRule>,
}

pub const R: usize = 0;
pub const I: usize = 1;

impl Sim {
    pub fn new(responder: Config, faults: Faults, seed: u64) -> Self {
        Self {
            now: Duration::from_secs(1000),
            nodes: vec![Node {
                ep: Ep::new(responder),
                rng: ChaCha20Rng::seed_from_u64(seed ^ 0x5151),
                events: Vec::new(),
                ip: RESPONDER_IP,
                behind_nat: false,
                mute: false,
            }],
            faults,
            net_rng: ChaCha20Rng::seed_from_u64(seed),
            flight: Vec::new(),
            nat_out: HashMap::new(),
            nat_in: HashMap::new(),
            delivered: Vec::new(),
            next_spi: 0xc000_1000,
            keepalives: HashMap::new(),
            auto_spi: true,
            drop_rule: None,
        }
    }

    /// A responder and one initiator.
    pub fn pair(
        initiator: Config,
        responder: Config,
        nat: bool,
        faults: Faults,
        seed: u64,
    ) -> Self {
        let mut s = Self::new(responder, faults, seed);
        s.add_initiator(initiator, nat);
        s
    }

    /// Adds an initiator node; returns its index.
    pub fn add_initiator(&mut self, config: Config, behind_nat: bool) -> usize {
        let k = self.nodes.len();
        let ip = if behind_nat {
            Ipv4Addr::new(10, 0, 0, 1 + k as u8)
        } else {
            Ipv4Addr::new(192, 0, 2, 10 + k as u8)
        };
        self.nodes.push(Node {
            ep: Ep::new(config),
            rng: ChaCha20Rng::seed_from_u64(0x7777 + k as u64 * 31),
            events: Vec::new(),
            ip,
            behind_nat,
            mute: false,
        });
        k
    }

    /// Replaces a node's endpoint (a client that rebooted), keeping its
    /// address.
    pub fn reboot(&mut self, node: usize, config: Config) {
        self.nodes[node].ep = Ep::new(config);
    }

    pub fn addr(ip: Ipv4Addr, port: u16) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(ip), port)
    }

    pub fn connect(&mut self, node: usize) -> SaHandle {
        let local = Self::addr(self.nodes[node].ip, 500);
        let n = &mut self.nodes[node];
        let h =
            n.ep.connect(self.now, Self::addr(RESPONDER_IP, 500), local, &mut n.rng)
                .expect("connect");
        self.drain();
        h
    }

    fn node_of_ip(&self, ip: Ipv4Addr) -> Option<usize> {
        self.nodes.iter().position(|n| n.ip == ip && !n.behind_nat)
    }

    fn send(&mut self, from: usize, src: SocketAddr, dst: SocketAddr, data: Vec<u8>) {
        if self.nodes[from].mute {
            return;
        }
        if let Some(rule) = self.drop_rule.as_mut()
            && rule(from, &data)
        {
            return;
        }
        let mut src = src;
        if self.nodes[from].behind_nat {
            let key = (from, src.port());
            let public = match self.nat_out.get(&key) {
                Some(p) => *p,
                None => {
                    let p = loop {
                        let p = 40000 + (self.net_rng.next_u32() % 20000) as u16;
                        if !self.nat_in.contains_key(&p) {
                            break p;
                        }
                    };
                    self.nat_out.insert(key, p);
                    self.nat_in.insert(p, key);
                    p
                }
            };
            src = SocketAddr::new(IpAddr::V4(NAT_PUBLIC_IP), public);
        }
        if self.net_rng.next_u32() % 1000 < self.faults.loss_permille {
            return;
        }
        let copies = if self.net_rng.next_u32() % 1000 < self.faults.dup_permille {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let jitter_ms = self.faults.max_jitter.as_millis() as u32;
            let extra = if jitter_ms > 0 {
                self.net_rng.next_u32() % jitter_ms
            } else {
                0
            };
            self.flight.push(InFlight {
                at: self.now + Duration::from_millis(5 + u64::from(extra)),
                src,
                dst,
                data: data.clone(),
            });
        }
    }

    /// Drains every endpoint's transmits and events; answers SpiNeeded
    /// with a trivial allocator when `auto_spi` is set.
    pub fn drain(&mut self) {
        loop {
            let mut progress = false;
            for k in 0..self.nodes.len() {
                let mut buf = [0u8; 8192];
                loop {
                    let now = self.now;
                    let Some(t) = self.nodes[k]
                        .ep
                        .poll_transmit(now, &mut buf)
                        .expect("buffer")
                    else {
                        break;
                    };
                    progress = true;
                    if t.len == 1 && buf[0] == 0xff {
                        *self.keepalives.entry(k).or_default() += 1;
                        assert!(!t.non_esp_marker);
                        continue;
                    }
                    assert_eq!(t.non_esp_marker, t.local.port() == 4500);
                    assert_eq!(t.local.ip(), IpAddr::V4(self.nodes[k].ip));
                    self.send(k, t.local, t.remote, buf[..t.len].to_vec());
                }
                loop {
                    let Some(e) = self.nodes[k].ep.poll_event() else {
                        break;
                    };
                    progress = true;
                    if let Event::SpiNeeded { request, .. } = &e
                        && self.auto_spi
                    {
                        let spi = self.next_spi;
                        self.next_spi += 1;
                        let now = self.now;
                        let n = &mut self.nodes[k];
                        n.ep.provide_spi(now, *request, spi, &mut n.rng)
                            .expect("provide_spi");
                    }
                    self.nodes[k].events.push(e);
                }
            }
            if !progress {
                break;
            }
        }
    }

    /// Delivers what is due and fires timers, until `until`.
    pub fn run_until(&mut self, until: Duration) {
        self.drain();
        while self.now < until {
            let next_flight = self.flight.iter().map(|f| f.at).min();
            let next_timer = self.nodes.iter().filter_map(|n| n.ep.poll_timeout()).min();
            let Some(next) = [next_flight, next_timer].into_iter().flatten().min() else {
                self.now = until;
                break;
            };
            if next > until {
                self.now = until;
                break;
            }
            self.now = self.now.max(next);
            if let Some(k) = self.flight.iter().position(|f| f.at <= self.now) {
                let f = self.flight.remove(k);
                self.deliver(f);
            } else {
                let now = self.now;
                for n in &mut self.nodes {
                    if n.ep.poll_timeout().is_some_and(|t| t <= now) {
                        n.ep.handle_timeout(now, &mut n.rng);
                    }
                }
            }
            self.drain();
        }
    }

    /// Runs for `d` of simulated time.
    pub fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    fn deliver(&mut self, f: InFlight) {
        let IpAddr::V4(dst_ip) = f.dst.ip() else {
            return;
        };
        let (to, dst) = if dst_ip == NAT_PUBLIC_IP {
            let Some(&(node, port)) = self.nat_in.get(&f.dst.port()) else {
                return;
            };
            (node, Self::addr(self.nodes[node].ip, port))
        } else {
            match self.node_of_ip(dst_ip) {
                Some(n) => (n, f.dst),
                None => return,
            }
        };
        let mut data = f.data;
        let payload: &mut [u8] = if dst.port() == 4500 {
            match strip_non_esp_marker(&mut data) {
                Some(p) => p,
                None => return,
            }
        } else {
            &mut data[..]
        };
        self.delivered.push((to, f.src, dst, payload.to_vec()));
        let now = self.now;
        let n = &mut self.nodes[to];
        let _ = n.ep.handle_datagram(now, f.src, dst, payload, &mut n.rng);
    }

    /// Injects raw ISAKMP bytes to node `to` as if sent from `src`.
    pub fn inject(
        &mut self,
        to: usize,
        src: SocketAddr,
        dst: SocketAddr,
        mut data: Vec<u8>,
    ) -> Result<(), ike_core::Error> {
        let now = self.now;
        let n = &mut self.nodes[to];
        let r = n.ep.handle_datagram(now, src, dst, &mut data, &mut n.rng);
        self.drain();
        r
    }

    pub fn events(&self, node: usize) -> &[Event] {
        &self.nodes[node].events
    }

    pub fn children(&self, node: usize) -> Vec<ChildSa> {
        self.nodes[node]
            .events
            .iter()
            .filter_map(|e| match e {
                Event::ChildSaNegotiated(c) => Some(c.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn count(&self, node: usize, f: impl Fn(&Event) -> bool) -> usize {
        self.nodes[node].events.iter().filter(|e| f(e)).count()
    }
}

/// Asserts that both sides negotiated the same pair of IPsec SAs.
pub fn assert_same_keys(i: &ChildSa, r: &ChildSa) {
    assert_eq!(i.spi_in, r.spi_out);
    assert_eq!(i.spi_out, r.spi_in);
    assert_eq!(i.encryption, r.encryption);
    assert_eq!(i.integrity, r.integrity);
    assert_eq!(i.keys_in, r.keys_out);
    assert_eq!(i.keys_out, r.keys_in);
    assert_ne!(i.keys_in, i.keys_out);
    assert_eq!(i.keys_in.encryption_key().len(), i.encryption.key_len());
    assert_eq!(i.keys_in.integrity_key().len(), i.integrity.key_len());
    assert_eq!(i.lifetime, r.lifetime);
}

pub fn ike(encryption: CipherAlg, hash: HashAlg, group: DhGroup, life: u32) -> IkeProposal {
    IkeProposal {
        encryption,
        hash,
        authentication: Authentication::PreShare,
        group,
        lifetime_seconds: life,
    }
}

/// A responder ("LNS") configuration: policies in priority order 10, 20,
/// ...; the transform sets of the dynamic map; the DefaultRAGroup key.
pub fn responder_config(policies: &[IkeProposal], sets: &[TransformSet]) -> Config {
    let mut c = Config::default();
    for (k, p) in policies.iter().enumerate() {
        c.isakmp_policies
            .push(IsakmpPolicy {
                priority: 10 * (k as u16 + 1),
                proposal: *p,
            })
            .unwrap();
    }
    for s in sets {
        c.transform_sets.push(*s).unwrap();
    }
    c.pre_shared_keys.default_remote_access = Psk::new(PSK);
    c
}

/// An initiator ("client") configuration with the given proposals and
/// key.
pub fn initiator_config(ic: InitiatorConfig, psk: &[u8]) -> Config {
    let mut c = Config {
        initiator: ic,
        ..Config::default()
    };
    c.pre_shared_keys.default_remote_access = Psk::new(psk);
    c
}

pub fn esp(
    encryption: ike_core::config::EspEncryption,
    integrity: ike_core::config::EspIntegrity,
) -> EspProposal {
    EspProposal {
        encryption,
        integrity,
    }
}
