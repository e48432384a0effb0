//! A small simulated network for pair tests: endpoints joined by a link
//! with loss, duplication, reordering and delay, a hand-advanced clock and
//! seeded RNGs. Node `k` is peer handle `k` to every other node.
#![allow(dead_code)]

use core::time::Duration;

use l2tp_core::wire::{AvpIter, MessageType, Packet};
use l2tp_core::{Config, Endpoint, Event, Received, SessionHandle};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

pub type Ep<const T: usize = 128, const S: usize = 256> = Endpoint<u32, T, S>;

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub struct Node<const T: usize, const S: usize> {
    pub ep: Ep<T, S>,
    pub rng: ChaCha20Rng,
    pub events: Vec<Event<u32>>,
    /// PPP frames received: (session, bytes).
    pub data: Vec<(SessionHandle, Vec<u8>)>,
    /// Every control message this node sent: (time, to, bytes).
    pub sent: Vec<(Duration, u32, Vec<u8>)>,
}

/// What a fault filter does with one datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Drop,
    Duplicate,
    Delay(Duration),
    Replace(Vec<u8>),
}

pub type Filter = Box<dyn FnMut(u32, u32, &[u8]) -> Verdict>;

pub struct Sim<const T: usize = 128, const S: usize = 256> {
    pub nodes: Vec<Node<T, S>>,
    pub now: Duration,
    /// In flight: (arrival, seq for stable order, from, to, bytes).
    pub wire: Vec<(Duration, u64, u32, u32, Vec<u8>)>,
    seq: u64,
    pub latency: Duration,
    /// Random faults, in per mille of datagrams.
    pub loss: u32,
    pub duplication: u32,
    pub reordering: u32,
    pub filter: Option<Filter>,
    rng: ChaCha20Rng,
    pub delivered: u64,
}

impl<const T: usize, const S: usize> Sim<T, S> {
    pub fn new(configs: Vec<Config>, seed: u64) -> Self {
        let nodes = configs
            .into_iter()
            .enumerate()
            .map(|(k, c)| Node {
                ep: Ep::<T, S>::new(c),
                rng: ChaCha20Rng::seed_from_u64(seed + k as u64),
                events: vec![],
                data: vec![],
                sent: vec![],
            })
            .collect();
        Self {
            nodes,
            now: Duration::ZERO,
            wire: vec![],
            seq: 0,
            latency: ms(10),
            loss: 0,
            duplication: 0,
            reordering: 0,
            filter: None,
            rng: ChaCha20Rng::seed_from_u64(seed ^ 0x5eed),
            delivered: 0,
        }
    }

    /// Drains every node's transmit and event queues onto the wire.
    pub fn flush(&mut self) {
        let mut buf = [0u8; l2tp_core::MAX_CONTROL_LEN];
        for k in 0..self.nodes.len() {
            while let Some(t) = self.nodes[k].ep.poll_transmit(self.now, &mut buf).unwrap() {
                let bytes = buf[..t.len].to_vec();
                self.nodes[k].sent.push((self.now, t.peer, bytes.clone()));
                self.send(u32::try_from(k).unwrap(), t.peer, bytes);
            }
            while let Some(e) = self.nodes[k].ep.poll_event() {
                self.nodes[k].events.push(e);
            }
        }
    }

    /// Puts a datagram on the wire through the filter and the random faults.
    pub fn send(&mut self, from: u32, to: u32, bytes: Vec<u8>) {
        let mut verdict = match self.filter.as_mut() {
            Some(f) => f(from, to, &bytes),
            None => Verdict::Pass,
        };
        let mut bytes = bytes;
        if let Verdict::Replace(b) = verdict {
            bytes = b;
            verdict = Verdict::Pass;
        }
        if verdict == Verdict::Pass {
            let r = self.rng.next_u32() % 1000;
            if r < self.loss {
                verdict = Verdict::Drop;
            } else if r < self.loss + self.duplication {
                verdict = Verdict::Duplicate;
            } else if r < self.loss + self.duplication + self.reordering {
                verdict = Verdict::Delay(ms(u64::from(self.rng.next_u32() % 300)));
            }
        }
        let at = self.now + self.latency;
        match verdict {
            Verdict::Pass => self.enqueue(at, from, to, bytes),
            Verdict::Drop => {}
            Verdict::Duplicate => {
                self.enqueue(at, from, to, bytes.clone());
                self.enqueue(at + ms(1), from, to, bytes);
            }
            Verdict::Delay(d) => self.enqueue(at + d, from, to, bytes),
            Verdict::Replace(_) => unreachable!(),
        }
    }

    fn enqueue(&mut self, at: Duration, from: u32, to: u32, bytes: Vec<u8>) {
        self.seq += 1;
        self.wire.push((at, self.seq, from, to, bytes));
    }

    fn next_time(&self) -> Option<Duration> {
        let w = self.wire.iter().map(|w| w.0).min();
        let t = self.nodes.iter().filter_map(|n| n.ep.poll_timeout()).min();
        match (w, t) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, None) => a,
            (None, b) => b,
        }
    }

    /// Delivers one datagram to its node now.
    pub fn deliver(&mut self, from: u32, to: u32, mut bytes: Vec<u8>) {
        self.delivered += 1;
        let node = &mut self.nodes[to as usize];
        if let Ok(Received::Data { session, payload }) =
            node.ep
                .handle_datagram(self.now, from, &mut bytes, &mut node.rng)
        {
            node.data.push((session, bytes[payload].to_vec()));
        }
    }

    /// Runs the network until `deadline`: deliveries and timeouts in time order.
    pub fn run_until(&mut self, deadline: Duration) {
        self.flush();
        while let Some(t) = self.next_time() {
            if t > deadline {
                break;
            }
            self.now = self.now.max(t);
            let mut due: Vec<_> = Vec::new();
            self.wire.retain(|w| {
                if w.0 <= t {
                    due.push(w.clone());
                    false
                } else {
                    true
                }
            });
            due.sort_by_key(|w| (w.0, w.1));
            for (_, _, from, to, bytes) in due {
                self.deliver(from, to, bytes);
                self.flush();
            }
            for k in 0..self.nodes.len() {
                self.nodes[k].ep.handle_timeout(self.now);
                if let Some(next) = self.nodes[k].ep.poll_timeout() {
                    assert!(
                        next > self.now,
                        "poll_timeout in the past after handle_timeout"
                    );
                }
            }
            self.flush();
        }
        self.now = self.now.max(deadline);
    }

    /// Runs for `d` more.
    pub fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    /// Gives node `k` a new RNG seed (to make nodes draw the same IDs).
    pub fn reseed(&mut self, k: usize, seed: u64) {
        self.nodes[k].rng = ChaCha20Rng::seed_from_u64(seed);
    }

    pub fn events(&self, k: usize) -> &[Event<u32>] {
        &self.nodes[k].events
    }

    pub fn take_events(&mut self, k: usize) -> Vec<Event<u32>> {
        core::mem::take(&mut self.nodes[k].events)
    }
}

/// The message type of a control message, `None` for a ZLB or data.
pub fn message_type(bytes: &[u8]) -> Option<MessageType> {
    let p = Packet::new_checked(bytes).ok()?;
    if !p.is_control() {
        return None;
    }
    let avp = AvpIter::new(p.payload()).next()?.ok()?;
    Some(MessageType::from(u16::from_be_bytes(
        avp.value.try_into().ok()?,
    )))
}

pub fn is_zlb(bytes: &[u8]) -> bool {
    Packet::new_checked(bytes).is_ok_and(|p| p.is_control() && p.payload().is_empty())
}

/// Types of the control messages (not ZLBs) a node sent, in order.
pub fn sent_types<const T: usize, const S: usize>(node: &Node<T, S>) -> Vec<MessageType> {
    node.sent
        .iter()
        .filter_map(|(_, _, b)| message_type(b))
        .collect()
}
