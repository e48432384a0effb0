//! l2tp-core endpoint, both roles: an LNS and a LAC joined by a link the
//! fuzzer controls (deliver, drop, corrupt, inject arbitrary datagrams),
//! with commands and timeouts in between. Checks that nothing panics and
//! that `poll_timeout` is never in the past after `handle_timeout`.
#![no_main]

use core::time::Duration;

use arbitrary::Arbitrary;
use l2tp_core::{Config, Endpoint, Event, Reason, Received, Secret, SessionHandle, TunnelHandle};
use libfuzzer_sys::fuzz_target;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

#[derive(Arbitrary, Debug)]
enum Op {
    /// Move the oldest datagram in flight to its destination.
    Deliver {
        to_lns: bool,
    },
    /// Lose the oldest datagram in flight.
    Drop {
        to_lns: bool,
    },
    /// Deliver the oldest datagram with one byte changed.
    Corrupt {
        to_lns: bool,
        at: u16,
        xor: u8,
    },
    /// Deliver it twice.
    Duplicate {
        to_lns: bool,
    },
    /// An arbitrary datagram from an arbitrary peer handle.
    Inject {
        to_lns: bool,
        peer: u8,
        bytes: Vec<u8>,
    },
    Advance {
        millis: u32,
    },
    Connect,
    PlaceCall,
    Disconnect {
        which: u8,
    },
    CloseTunnel {
        which: u8,
    },
    SendData {
        which: u8,
        len: u8,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    secret: bool,
    hide: bool,
    window: u8,
    ops: Vec<Op>,
}

type Ep = Endpoint<u8, 4, 8>;

struct Side {
    ep: Ep,
    inbox: std::collections::VecDeque<Vec<u8>>,
    tunnels: Vec<TunnelHandle>,
    sessions: Vec<SessionHandle>,
}

fn config(input: &Input) -> Config {
    let mut c = Config::default();
    if input.secret {
        c.set_secret(Some(Secret::new(b"fuzz").unwrap()));
        c.hide_avps = input.hide;
    }
    c.set_receive_window(u16::from(input.window));
    c
}

/// Index 0 is the LNS, 1 the LAC; `to_lns` picks the destination.
fn pair(sides: &mut [Side; 2], to: usize) -> (&mut Side, &mut Side) {
    let (a, b) = sides.split_at_mut(1);
    if to == 0 {
        (&mut a[0], &mut b[0])
    } else {
        (&mut b[0], &mut a[0])
    }
}

fn drain(sides: &mut [Side; 2], from: usize, now: Duration) {
    let (src, dst) = pair(sides, from);
    let mut buf = [0u8; l2tp_core::MAX_CONTROL_LEN];
    while let Some(t) = src.ep.poll_transmit(now, &mut buf).unwrap() {
        assert!(t.len <= buf.len());
        if dst.inbox.len() < 64 {
            dst.inbox.push_back(buf[..t.len].to_vec());
        }
    }
    while let Some(e) = src.ep.poll_event() {
        match e {
            Event::TunnelUp { tunnel, .. } => src.tunnels.push(tunnel),
            Event::IncomingCall { session, .. } | Event::SessionUp { session, .. } => {
                src.sessions.push(session)
            }
            _ => {}
        }
    }
}

fn receive(side: &mut Side, now: Duration, bytes: &mut [u8], rng: &mut ChaCha20Rng) {
    if let Ok(Received::Data { payload, .. }) = side.ep.handle_datagram(now, 0, bytes, rng) {
        assert!(payload.end <= bytes.len() && payload.start <= payload.end);
    }
}

fuzz_target!(|input: Input| {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let new_side = || Side {
        ep: Ep::new(config(&input)),
        inbox: Default::default(),
        tunnels: vec![],
        sessions: vec![],
    };
    let mut sides = [new_side(), new_side()];
    let mut now = Duration::ZERO;
    for op in input.ops.iter().take(256) {
        match op {
            Op::Deliver { to_lns }
            | Op::Drop { to_lns }
            | Op::Duplicate { to_lns }
            | Op::Corrupt { to_lns, .. } => {
                let dst = &mut sides[usize::from(!*to_lns)];
                let Some(mut d) = dst.inbox.pop_front() else {
                    continue;
                };
                match op {
                    Op::Drop { .. } => {}
                    Op::Duplicate { .. } => {
                        let mut copy = d.clone();
                        receive(dst, now, &mut d, &mut rng);
                        receive(dst, now, &mut copy, &mut rng);
                    }
                    Op::Corrupt { at, xor, .. } => {
                        if !d.is_empty() {
                            let i = usize::from(*at) % d.len();
                            d[i] ^= xor;
                        }
                        receive(dst, now, &mut d, &mut rng);
                    }
                    _ => receive(dst, now, &mut d, &mut rng),
                }
            }
            Op::Inject {
                to_lns,
                peer,
                bytes,
            } => {
                let mut b = bytes.clone();
                let dst = &mut sides[usize::from(!*to_lns)];
                let _ = dst.ep.handle_datagram(now, *peer % 3, &mut b, &mut rng);
            }
            Op::Advance { millis } => {
                now += Duration::from_millis(u64::from(*millis % 120_000));
                for side in &mut sides {
                    side.ep.handle_timeout(now);
                    if let Some(t) = side.ep.poll_timeout() {
                        assert!(t > now, "timeout {t:?} not after {now:?}");
                    }
                }
            }
            Op::Connect => {
                if let Ok(t) = sides[1].ep.connect(now, 0, &mut rng) {
                    sides[1].tunnels.push(t);
                }
            }
            Op::PlaceCall => {
                if let Some(&t) = sides[1].tunnels.last() {
                    if let Ok(s) = sides[1].ep.place_call(now, t, &mut rng) {
                        sides[1].sessions.push(s);
                    }
                }
            }
            Op::Disconnect { which } => {
                for side in &mut sides {
                    if !side.sessions.is_empty() {
                        let s = side.sessions[usize::from(*which) % side.sessions.len()];
                        let _ = side.ep.disconnect(s, Reason::ADMINISTRATIVE);
                    }
                }
            }
            Op::CloseTunnel { which } => {
                for side in &mut sides {
                    if !side.tunnels.is_empty() {
                        let t = side.tunnels[usize::from(*which) % side.tunnels.len()];
                        let _ = side.ep.close_tunnel(now, t, Reason::CLEAR);
                    }
                }
            }
            Op::SendData { which, len } => {
                for from in 0..2 {
                    let (src, dst) = pair(&mut sides, from);
                    if src.sessions.is_empty() {
                        continue;
                    }
                    let s = src.sessions[usize::from(*which) % src.sessions.len()];
                    let mut buf = vec![0u8; 16 + usize::from(*len)];
                    let r = 16..buf.len();
                    if let Ok((_, range)) = src.ep.send_data(now, s, &mut buf, r) {
                        if dst.inbox.len() < 64 {
                            dst.inbox.push_back(buf[range].to_vec());
                        }
                    }
                }
            }
        }
        drain(&mut sides, 0, now);
        drain(&mut sides, 1, now);
    }
});
