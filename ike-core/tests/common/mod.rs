//! A small simulated network for driving two endpoints against each other:
//! loss, duplication, reordering (random delay), and an optional NAT in
//! front of the initiator that rewrites its address and port. Time is
//! advanced by hand; randomness comes from seeded ChaCha20 generators.
#![allow(dead_code)]

use ike_core::wire::strip_non_esp_marker;
use ike_core::{ChildSa, Config, Endpoint, Event, SaHandle};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

pub const RESPONDER_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
pub const INITIATOR_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
pub const NAT_PUBLIC_IP: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 5);

pub type Ep = Endpoint<8, 8>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Initiator,
    Responder,
}

#[derive(Debug, Clone)]
pub struct Faults {
    /// Probability (0..=1000 per mille) that a datagram is lost.
    pub loss_permille: u32,
    /// Probability that a datagram is delivered twice.
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
}

struct InFlight {
    at: Duration,
    to: Side,
    src: SocketAddr,
    dst: SocketAddr,
    data: Vec<u8>,
}

pub struct Pair {
    pub now: Duration,
    pub initiator: Ep,
    pub responder: Ep,
    pub nat: bool,
    pub faults: Faults,
    net_rng: ChaCha20Rng,
    i_rng: ChaCha20Rng,
    r_rng: ChaCha20Rng,
    flight: Vec<InFlight>,
    /// NAT mappings: private port -> public port, and back.
    nat_out: HashMap<u16, u16>,
    nat_in: HashMap<u16, u16>,
    pub i_events: Vec<Event>,
    pub r_events: Vec<Event>,
    /// Every datagram delivered (side it went to, payload), for
    /// assertions on wire bytes.
    pub delivered: Vec<(Side, SocketAddr, SocketAddr, Vec<u8>)>,
    next_spi: u32,
    pub keepalives: usize,
}

impl Pair {
    pub fn new(i_config: Config, r_config: Config, nat: bool, faults: Faults, seed: u64) -> Self {
        Self {
            now: Duration::from_secs(1000),
            initiator: Ep::new(i_config),
            responder: Ep::new(r_config),
            nat,
            faults,
            net_rng: ChaCha20Rng::seed_from_u64(seed),
            i_rng: ChaCha20Rng::seed_from_u64(seed ^ 0x1111),
            r_rng: ChaCha20Rng::seed_from_u64(seed ^ 0x2222),
            flight: Vec::new(),
            nat_out: HashMap::new(),
            nat_in: HashMap::new(),
            i_events: Vec::new(),
            r_events: Vec::new(),
            delivered: Vec::new(),
            next_spi: 0xc000_1000,
            keepalives: 0,
        }
    }

    pub fn responder_addr(port: u16) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(RESPONDER_IP), port)
    }

    pub fn initiator_addr(port: u16) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(INITIATOR_IP), port)
    }

    pub fn connect(&mut self) -> SaHandle {
        let h = self
            .initiator
            .connect(
                self.now,
                Self::responder_addr(500),
                Self::initiator_addr(500),
                &mut self.i_rng,
            )
            .expect("connect");
        self.drain();
        h
    }

    fn send(&mut self, from: Side, src: SocketAddr, dst: SocketAddr, data: Vec<u8>) {
        let mut src = src;
        if from == Side::Initiator && self.nat {
            let public = match self.nat_out.get(&src.port()) {
                Some(p) => *p,
                None => {
                    let p = 40000 + (self.net_rng.next_u32() % 20000) as u16;
                    self.nat_out.insert(src.port(), p);
                    self.nat_in.insert(p, src.port());
                    p
                }
            };
            src = SocketAddr::new(IpAddr::V4(NAT_PUBLIC_IP), public);
        }
        let mut dst = dst;
        let to = match from {
            Side::Initiator => Side::Responder,
            Side::Responder => Side::Initiator,
        };
        if to == Side::Initiator && self.nat {
            // Only mapped ports come back through the NAT.
            let Some(private) = self.nat_in.get(&dst.port()) else {
                return;
            };
            dst = SocketAddr::new(IpAddr::V4(INITIATOR_IP), *private);
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
                to,
                src,
                dst,
                data: data.clone(),
            });
        }
    }

    /// Drains both endpoints' transmits and events; answers SpiNeeded with
    /// a trivial allocator.
    pub fn drain(&mut self) {
        loop {
            let mut progress = false;
            for side in [Side::Initiator, Side::Responder] {
                let mut buf = [0u8; 2048];
                loop {
                    let ep = match side {
                        Side::Initiator => &mut self.initiator,
                        Side::Responder => &mut self.responder,
                    };
                    let Some(t) = ep.poll_transmit(self.now, &mut buf).expect("buffer") else {
                        break;
                    };
                    progress = true;
                    if t.len == 1 && buf[0] == 0xff {
                        self.keepalives += 1;
                        continue;
                    }
                    assert_eq!(t.non_esp_marker, t.local.port() == 4500);
                    self.send(side, t.local, t.remote, buf[..t.len].to_vec());
                }
                loop {
                    let ep = match side {
                        Side::Initiator => &mut self.initiator,
                        Side::Responder => &mut self.responder,
                    };
                    let Some(e) = ep.poll_event() else { break };
                    progress = true;
                    if let Event::SpiNeeded { request, .. } = &e {
                        let spi = self.next_spi;
                        self.next_spi += 1;
                        let (ep, rng) = match side {
                            Side::Initiator => (&mut self.initiator, &mut self.i_rng),
                            Side::Responder => (&mut self.responder, &mut self.r_rng),
                        };
                        ep.provide_spi(self.now, *request, spi, rng)
                            .expect("provide_spi");
                    }
                    match side {
                        Side::Initiator => self.i_events.push(e),
                        Side::Responder => self.r_events.push(e),
                    }
                }
            }
            if !progress {
                break;
            }
        }
    }

    /// Delivers what is due and fires timers, until `until`.
    pub fn run_until(&mut self, until: Duration) {
        while self.now < until {
            let next_flight = self.flight.iter().map(|f| f.at).min();
            let next_timer = [self.initiator.poll_timeout(), self.responder.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            let next = [next_flight, next_timer].into_iter().flatten().min();
            let Some(next) = next else {
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
                if self.initiator.poll_timeout().is_some_and(|t| t <= self.now) {
                    self.initiator.handle_timeout(self.now, &mut self.i_rng);
                }
                if self.responder.poll_timeout().is_some_and(|t| t <= self.now) {
                    self.responder.handle_timeout(self.now, &mut self.r_rng);
                }
            }
            self.drain();
        }
    }

    fn deliver(&mut self, f: InFlight) {
        let mut data = f.data;
        let payload: &mut [u8] = if f.dst.port() == 4500 {
            match strip_non_esp_marker(&mut data) {
                Some(p) => p,
                None => return,
            }
        } else {
            &mut data[..]
        };
        self.delivered.push((f.to, f.src, f.dst, payload.to_vec()));
        let (ep, rng) = match f.to {
            Side::Initiator => (&mut self.initiator, &mut self.i_rng),
            Side::Responder => (&mut self.responder, &mut self.r_rng),
        };
        let _ = ep.handle_datagram(self.now, f.src, f.dst, payload, rng);
    }

    pub fn children(events: &[Event]) -> Vec<ChildSa> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::ChildSaNegotiated(c) => Some(c.clone()),
                _ => None,
            })
            .collect()
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
