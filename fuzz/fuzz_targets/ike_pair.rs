//! Shared by `ike_responder` and `ike_initiator`: a real initiator and a
//! real responder, with the fuzzer standing on the wire between them. It
//! delivers, drops, duplicates, reorders, corrupts and truncates the
//! messages of one side, injects arbitrary datagrams (raw, or behind a
//! known SA's cookies to get past the lookup), advances the clock and
//! issues commands. Nothing may panic; every poll must succeed with a
//! buffer of `MAX_MESSAGE_LEN + 4`; when both sides report the same pair of
//! IPsec SAs, their keys must agree.

use arbitrary::Arbitrary;
use ike_core::config::{
    Authentication, EspEncryption, EspIntegrity, EspProposal, IkeProposal, IsakmpPolicy, Mode, Psk,
    TransformSet,
};
use ike_core::crypto::{CipherAlg, DhGroup, HashAlg};
use ike_core::{ChildSa, Config, Endpoint, Event, MAX_MESSAGE_LEN, proposals};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Initiator,
    Responder,
}

#[derive(Arbitrary, Debug)]
pub enum Op {
    Deliver,
    Drop,
    Duplicate,
    Reorder,
    Flip {
        at: u16,
        mask: u8,
    },
    Truncate {
        len: u16,
    },
    Inject {
        bytes: Vec<u8>,
        nat_t_port: bool,
    },
    InjectForSa {
        header_rest: [u8; 12],
        body: Vec<u8>,
        encrypted: bool,
    },
    Advance {
        millis: u16,
    },
    Connect,
    RequestChild,
    DeleteChild,
    DeleteSa,
    RUThere,
    WithholdSpi,
}

#[derive(Arbitrary, Debug)]
pub struct Input {
    pub nat: bool,
    pub suite: u8,
    pub ops: Vec<Op>,
}

type Ep = Endpoint<4, 4>;

struct Wire {
    to: Side,
    src: SocketAddr,
    dst: SocketAddr,
    data: Vec<u8>,
}

pub struct Harness {
    now: Duration,
    i: Ep,
    r: Ep,
    irng: ChaCha20Rng,
    rrng: ChaCha20Rng,
    queue: VecDeque<Wire>,
    next_spi: u32,
    withhold_spi: bool,
    pending_spi: Vec<(Side, ike_core::SpiRequest)>,
    nat: bool,
    children: Vec<(Side, ChildSa)>,
}

const PSK: &[u8] = b"fuzz-psk";

fn configs(suite: u8) -> (Config, Config) {
    let (c, h, g, pfs) = match suite % 4 {
        0 => (CipherAlg::Aes128, HashAlg::Sha1, DhGroup::Modp1024, None),
        1 => (
            CipherAlg::TripleDes,
            HashAlg::Md5,
            DhGroup::Modp1024,
            Some(DhGroup::Modp1024),
        ),
        2 => (CipherAlg::Aes256, HashAlg::Sha256, DhGroup::Modp1536, None),
        _ => (CipherAlg::Aes192, HashAlg::Sha1, DhGroup::Modp768, None),
    };
    let p = IkeProposal {
        encryption: c,
        hash: h,
        authentication: Authentication::PreShare,
        group: g,
        lifetime_seconds: 120,
    };
    let e = EspProposal {
        encryption: EspEncryption::AesCbc { key_bits: 128 },
        integrity: EspIntegrity::HmacSha1,
    };
    let mut r = Config::default();
    let _ = r.isakmp_policies.push(IsakmpPolicy {
        priority: 1,
        proposal: p,
    });
    let _ = r.transform_sets.push(TransformSet {
        encryption: e.encryption,
        integrity: e.integrity,
        mode: Mode::Transport,
    });
    r.pfs = pfs;
    r.pre_shared_keys.default_remote_access = Psk::new(PSK);
    r.timers.half_open_timeout = Duration::from_secs(20);
    let mut ic = proposals::single(p, e);
    ic.pfs = pfs;
    let mut i = Config {
        initiator: ic,
        ..Config::default()
    };
    i.pre_shared_keys.default_remote_access = Psk::new(PSK);
    (i, r)
}

const R_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const I_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const NAT_IP: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 5);

fn addr(ip: Ipv4Addr, port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(ip), port)
}

impl Harness {
    pub fn new(input: &Input) -> Self {
        let (i, r) = configs(input.suite);
        Self {
            now: Duration::from_secs(100),
            i: Ep::new(i),
            r: Ep::new(r),
            irng: ChaCha20Rng::seed_from_u64(1),
            rrng: ChaCha20Rng::seed_from_u64(2),
            queue: VecDeque::new(),
            next_spi: 0x1000,
            withhold_spi: false,
            pending_spi: Vec::new(),
            nat: input.nat,
            children: Vec::new(),
        }
    }

    fn ep(&mut self, s: Side) -> (&mut Ep, &mut ChaCha20Rng) {
        match s {
            Side::Initiator => (&mut self.i, &mut self.irng),
            Side::Responder => (&mut self.r, &mut self.rrng),
        }
    }

    fn drain(&mut self) {
        let mut buf = vec![0u8; MAX_MESSAGE_LEN + 4];
        for side in [Side::Initiator, Side::Responder] {
            loop {
                let now = self.now;
                let (ep, _) = self.ep(side);
                let Some(t) = ep
                    .poll_transmit(now, &mut buf)
                    .expect("buffer is large enough")
                else {
                    break;
                };
                assert!(t.len <= buf.len());
                if t.len == 1 {
                    continue;
                }
                let off = if t.non_esp_marker { 4 } else { 0 };
                let to = match side {
                    Side::Initiator => Side::Responder,
                    Side::Responder => Side::Initiator,
                };
                let (src, dst) = match (side, self.nat) {
                    (Side::Initiator, true) => (addr(NAT_IP, 40000 + t.local.port()), t.remote),
                    (Side::Initiator, false) => (t.local, t.remote),
                    (Side::Responder, true) => {
                        (t.local, addr(I_IP, t.remote.port().wrapping_sub(40000)))
                    }
                    (Side::Responder, false) => (t.local, t.remote),
                };
                self.queue.push_back(Wire {
                    to,
                    src,
                    dst,
                    data: buf[off..t.len].to_vec(),
                });
            }
            loop {
                let (ep, _) = self.ep(side);
                let Some(e) = ep.poll_event() else { break };
                match e {
                    Event::SpiNeeded { request, .. } => {
                        if self.withhold_spi {
                            self.pending_spi.push((side, request));
                        } else {
                            let spi = self.next_spi;
                            self.next_spi += 1;
                            let now = self.now;
                            let (ep, rng) = self.ep(side);
                            let _ = ep.provide_spi(now, request, spi, rng);
                        }
                    }
                    Event::ChildSaNegotiated(c) => {
                        for (other, o) in &self.children {
                            if *other != side && o.spi_in == c.spi_out && o.spi_out == c.spi_in {
                                assert_eq!(o.keys_in, c.keys_out);
                                assert_eq!(o.keys_out, c.keys_in);
                            }
                        }
                        self.children.push((side, c));
                    }
                    _ => {}
                }
            }
        }
    }

    fn deliver(&mut self, w: Wire) {
        let now = self.now;
        let (ep, rng) = self.ep(w.to);
        let mut data = w.data;
        let _ = ep.handle_datagram(now, w.src, w.dst, &mut data, rng);
    }

    pub fn run(&mut self, input: &Input, focus: Side) {
        let h = self
            .i
            .connect(self.now, addr(R_IP, 500), addr(I_IP, 500), &mut self.irng);
        assert!(h.is_ok());
        self.drain();
        for op in input.ops.iter().take(64) {
            // Messages not going to the side under test are delivered as
            // they are, so that the exchange can progress.
            while self.queue.front().is_some_and(|w| w.to != focus) {
                let w = self.queue.pop_front().unwrap();
                self.deliver(w);
                self.drain();
            }
            match op {
                Op::Deliver => {
                    if let Some(w) = self.queue.pop_front() {
                        self.deliver(w);
                    }
                }
                Op::Drop => {
                    self.queue.pop_front();
                }
                Op::Duplicate => {
                    if let Some(w) = self.queue.front() {
                        let copy = Wire {
                            to: w.to,
                            src: w.src,
                            dst: w.dst,
                            data: w.data.clone(),
                        };
                        self.deliver(copy);
                    }
                }
                Op::Reorder => {
                    if let Some(w) = self.queue.pop_front() {
                        self.queue.push_back(w);
                    }
                }
                Op::Flip { at, mask } => {
                    if let Some(mut w) = self.queue.pop_front() {
                        if !w.data.is_empty() {
                            let i = usize::from(*at) % w.data.len();
                            w.data[i] ^= mask | 1;
                        }
                        self.deliver(w);
                    }
                }
                Op::Truncate { len } => {
                    if let Some(mut w) = self.queue.pop_front() {
                        let n = usize::from(*len) % (w.data.len() + 1);
                        w.data.truncate(n);
                        self.deliver(w);
                    }
                }
                Op::Inject { bytes, nat_t_port } => {
                    let port = if *nat_t_port { 4500 } else { 500 };
                    let (src, dst) = match focus {
                        Side::Responder => (addr(NAT_IP, 41000), addr(R_IP, port)),
                        Side::Initiator => (addr(R_IP, port), addr(I_IP, port)),
                    };
                    self.deliver(Wire {
                        to: focus,
                        src,
                        dst,
                        data: bytes.clone(),
                    });
                }
                Op::InjectForSa {
                    header_rest,
                    body,
                    encrypted,
                } => {
                    // A message with the cookies of the last message seen.
                    let Some(template) = self.queue.front().map(|w| (w.src, w.dst, w.data.clone()))
                    else {
                        continue;
                    };
                    if template.2.len() < 28 {
                        continue;
                    }
                    let mut m = template.2[..16].to_vec();
                    m.extend_from_slice(&header_rest[..8]);
                    let len = u32::try_from(28 + body.len()).unwrap_or(u32::MAX);
                    m.extend_from_slice(&len.to_be_bytes());
                    m[17] = 0x10;
                    if *encrypted {
                        m[19] |= 1;
                    }
                    m.extend_from_slice(body);
                    self.deliver(Wire {
                        to: focus,
                        src: template.0,
                        dst: template.1,
                        data: m,
                    });
                }
                Op::Advance { millis } => {
                    self.now += Duration::from_millis(u64::from(*millis) * 40);
                    let now = self.now;
                    for s in [Side::Initiator, Side::Responder] {
                        let (ep, rng) = self.ep(s);
                        if ep.poll_timeout().is_some_and(|t| t <= now) {
                            ep.handle_timeout(now, rng);
                        }
                    }
                }
                Op::Connect => {
                    let _ =
                        self.i
                            .connect(self.now, addr(R_IP, 500), addr(I_IP, 500), &mut self.irng);
                }
                Op::RequestChild => {
                    let now = self.now;
                    for s in [Side::Initiator, Side::Responder] {
                        let (ep, rng) = self.ep(s);
                        let handles: Vec<_> = ep.sa_handles().collect();
                        if let Some(h) = handles.first() {
                            let _ = ep.request_child_sa(now, *h, rng);
                        }
                    }
                }
                Op::DeleteChild => {
                    let now = self.now;
                    let targets: Vec<_> = self
                        .children
                        .iter()
                        .filter(|(s, _)| *s == focus)
                        .map(|(_, c)| (c.ike_sa, c.spi_in))
                        .collect();
                    let (ep, rng) = self.ep(focus);
                    if let Some((sa, spi)) = targets.first() {
                        let _ = ep.delete_child_sa(now, *sa, *spi, rng);
                    }
                }
                Op::DeleteSa => {
                    let now = self.now;
                    let (ep, rng) = self.ep(focus);
                    let handles: Vec<_> = ep.sa_handles().collect();
                    if let Some(h) = handles.last() {
                        let _ = ep.delete_sa(now, *h, rng);
                    }
                }
                Op::RUThere => {
                    let now = self.now;
                    let (ep, rng) = self.ep(Side::Initiator);
                    let handles: Vec<_> = ep.sa_handles().collect();
                    if let Some(h) = handles.first() {
                        let _ = ep.send_r_u_there(now, *h, rng);
                    }
                }
                Op::WithholdSpi => {
                    self.withhold_spi = !self.withhold_spi;
                    if !self.withhold_spi {
                        for (s, req) in std::mem::take(&mut self.pending_spi) {
                            let spi = self.next_spi;
                            self.next_spi += 1;
                            let now = self.now;
                            let (ep, rng) = self.ep(s);
                            let _ = ep.provide_spi(now, req, spi, rng);
                        }
                    }
                }
            }
            self.drain();
        }
    }
}
