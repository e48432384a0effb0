//! Both roles of `Link` under arbitrary input: an authenticator and a peer
//! wired together, with the fuzzer choosing which of their frames arrive
//! (dropped, duplicated, reordered, corrupted), injecting arbitrary frames
//! of its own, advancing the clock, and issuing every command. Every poll
//! is drained after each step.
//!
//! Invariants: nothing panics; every frame a link emits parses as a PPP
//! frame of a protocol it runs (or a reject); every returned range lies in
//! its buffer; after `handle_timeout(now)` no timer is still due at `now`;
//! a link that reported `Down` sends nothing more.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use ppp_core::wire::frame::Frame;
use ppp_core::wire::{Protocol, cp};
use ppp_core::{Accept, AuthMethod, Config, Event, Link, Received};
use rand_core::SeedableRng;
use std::net::Ipv4Addr;
use std::time::Duration;

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Proto {
    Lcp,
    Pap,
    Chap,
    Eap,
    Ipcp,
    Ipv4,
    Other(u16),
}

#[derive(Arbitrary, Debug)]
enum Op {
    /// Deliver the i-th queued frame towards a side (removing it).
    Deliver {
        to_peer: bool,
        index: u8,
    },
    /// Deliver it, keeping a copy queued (duplication).
    Duplicate {
        to_peer: bool,
        index: u8,
    },
    /// Deliver it with one byte changed.
    Corrupt {
        to_peer: bool,
        index: u8,
        at: u8,
        xor: u8,
    },
    /// Drop it.
    Drop {
        to_peer: bool,
        index: u8,
    },
    /// A frame of the fuzzer's own, Length fixed up for control protocols.
    Inject {
        to_peer: bool,
        proto: Proto,
        compressed: bool,
        body: Vec<u8>,
    },
    /// Raw bytes as a frame.
    Raw {
        to_peer: bool,
        bytes: Vec<u8>,
    },
    /// Time passes; due timers run.
    Advance {
        ms: u16,
    },
    Accept {
        nt_hash: bool,
    },
    Reject,
    SetAddress {
        last: u8,
    },
    Close {
        peer: bool,
    },
    LowerDown {
        peer: bool,
    },
    Ipv4 {
        peer: bool,
        headroom: u8,
        len: u16,
    },
    SendEap {
        headroom: u8,
        body: Vec<u8>,
    },
    Reopen {
        peer: bool,
    },
    /// Deliver everything queued, both ways, in order, a few rounds: a
    /// perfect network, so that runs reach the later phases.
    Pump {
        rounds: u8,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    methods: Vec<u8>,
    peer_methods: Vec<u8>,
    wrong_password: bool,
    /// The authenticator's caller answers AuthRequest (by verifying) and
    /// AddressRequest by itself.
    auto: bool,
    ops: Vec<Op>,
}

const ALL: [AuthMethod; 5] = [
    AuthMethod::Pap,
    AuthMethod::ChapMd5,
    AuthMethod::MsChapV1,
    AuthMethod::MsChapV2,
    AuthMethod::Eap,
];

fn methods(v: &[u8]) -> Vec<AuthMethod> {
    let mut out = Vec::new();
    for b in v.iter().take(5) {
        let m = ALL[usize::from(*b) % 5];
        if !out.contains(&m) {
            out.push(m);
        }
    }
    out
}

struct Side {
    link: Link,
    rng: rand_chacha::ChaCha20Rng,
    /// Frames on their way to this side.
    inbox: Vec<Vec<u8>>,
    down: bool,
}

fn check_frame(frame: &[u8]) {
    let f = Frame::new_checked(frame).expect("our frames parse");
    let p = f.payload();
    match f.protocol() {
        Protocol::Lcp | Protocol::Ipcp => {
            let pk = cp::Packet::new_checked(p).expect("control packet");
            cp::Repr::parse(&pk, f.protocol() == Protocol::Lcp).expect("control packet parses");
        }
        Protocol::Pap => {
            ppp_core::wire::pap::Repr::parse(p).expect("PAP parses");
        }
        Protocol::Chap => {
            ppp_core::wire::chap::Repr::parse(p).expect("CHAP parses");
        }
        Protocol::Eap => {
            ppp_core::wire::eap::Repr::parse(p).expect("EAP parses");
        }
        Protocol::Ipv4 => {}
        other => panic!("we never send {other:?}"),
    }
}

fn drain(
    me: &mut Side,
    other: &mut Side,
    now: Duration,
    eap_last: &mut Option<Vec<u8>>,
    auto: bool,
) {
    let mut buf = [0u8; 1600];
    for _ in 0..64 {
        let mut any = false;
        while let Some(n) = me
            .link
            .poll_transmit(now, &mut buf)
            .expect("1600 bytes suffice")
        {
            assert!(!me.down, "nothing after Down");
            check_frame(&buf[..n]);
            if other.inbox.len() < 64 {
                other.inbox.push(buf[..n].to_vec());
            }
            any = true;
        }
        while let Some(e) = me.link.poll_event() {
            any = true;
            let mut decision = None;
            let mut address = false;
            match e {
                Event::Down(_) => me.down = true,
                Event::AuthRequest(r) => {
                    let _ = r.credentials.user();
                    decision = Some(r.credentials.verify_password(b"s3cret-Pass"));
                }
                Event::AddressRequest => address = true,
                Event::EapRetransmit => {
                    if let Some(p) = eap_last.clone() {
                        let mut b = vec![0u8; 4 + p.len()];
                        b[4..].copy_from_slice(&p);
                        let end = b.len();
                        if let Ok(r) = me.link.send_eap(now, &mut b, 4..end) {
                            assert!(r.end <= b.len());
                        }
                    }
                }
                _ => {}
            }
            if auto {
                match decision {
                    Some(Some(a)) => me.link.accept(now, a).expect("a pending decision"),
                    Some(None) => me.link.reject(now).expect("a pending decision"),
                    None => {}
                }
                if address {
                    me.link
                        .set_peer_address(now, Ipv4Addr::new(192, 0, 2, 10))
                        .expect("authenticator");
                }
            }
        }
        if !any {
            return;
        }
    }
}

fuzz_target!(|input: Input| {
    let a_methods = methods(&input.methods);
    let b_methods = methods(&input.peer_methods);
    let mut ac = Config::authenticator(&a_methods);
    ac.ipcp.local_address = Some(Ipv4Addr::new(192, 0, 2, 1));
    ac.ipcp.dns = [Some(Ipv4Addr::new(192, 0, 2, 53)), None];
    ac.ipcp.nbns = [None, Some(Ipv4Addr::new(192, 0, 2, 54))];
    let password: &[u8] = if input.wrong_password {
        b"wrong"
    } else {
        b"s3cret-Pass"
    };
    let mut bc = Config::peer(b"alice", password).unwrap();
    if !b_methods.is_empty() {
        bc.auth_methods = heapless::Vec::from_slice(&b_methods).unwrap();
    }
    bc.ipcp.request_nbns = true;
    let mut a = Side {
        link: Link::new(&ac).unwrap(),
        rng: rand_chacha::ChaCha20Rng::seed_from_u64(1),
        inbox: vec![],
        down: false,
    };
    let mut b = Side {
        link: Link::new(&bc).unwrap(),
        rng: rand_chacha::ChaCha20Rng::seed_from_u64(2),
        inbox: vec![],
        down: false,
    };
    let mut now = Duration::from_secs(1);
    let mut eap_last: Option<Vec<u8>> = None;
    let auto = input.auto;
    a.link.open(now, &mut a.rng);
    b.link.open(now, &mut b.rng);
    drain(&mut a, &mut b, now, &mut eap_last, auto);
    drain(&mut b, &mut a, now, &mut eap_last, auto);

    for op in input.ops.into_iter().take(400) {
        match op {
            Op::Deliver { to_peer, index }
            | Op::Duplicate { to_peer, index }
            | Op::Corrupt { to_peer, index, .. }
            | Op::Drop { to_peer, index } => {
                let (dst, _) = if to_peer {
                    (&mut b, &mut a)
                } else {
                    (&mut a, &mut b)
                };
                if dst.inbox.is_empty() {
                    continue;
                }
                let i = usize::from(index) % dst.inbox.len();
                let mut frame = match op {
                    Op::Duplicate { .. } => dst.inbox[i].clone(),
                    _ => dst.inbox.remove(i),
                };
                if let Op::Drop { .. } = op {
                    continue;
                }
                if let Op::Corrupt { at, xor, .. } = op {
                    if !frame.is_empty() {
                        let k = usize::from(at) % frame.len();
                        frame[k] ^= xor;
                    }
                }
                let len = frame.len();
                if let Ok(Received::Ipv4(r) | Received::Eap(r)) =
                    dst.link.handle_frame(now, &mut frame, &mut dst.rng)
                {
                    assert!(r.start <= r.end && r.end <= len);
                }
            }
            Op::Inject {
                to_peer,
                proto,
                compressed,
                mut body,
            } => {
                let dst = if to_peer { &mut b } else { &mut a };
                let number: u16 = match proto {
                    Proto::Lcp => 0xc021,
                    Proto::Pap => 0xc023,
                    Proto::Chap => 0xc223,
                    Proto::Eap => 0xc227,
                    Proto::Ipcp => 0x8021,
                    Proto::Ipv4 => 0x0021,
                    Proto::Other(n) => n,
                };
                if body.len() >= 4 && number != 0x0021 {
                    let l = u16::try_from(body.len()).unwrap_or(u16::MAX);
                    body[2..4].copy_from_slice(&l.to_be_bytes());
                }
                let mut frame = if compressed { vec![] } else { vec![0xff, 0x03] };
                frame.extend_from_slice(&number.to_be_bytes());
                frame.extend_from_slice(&body);
                let len = frame.len();
                if let Ok(Received::Ipv4(r) | Received::Eap(r)) =
                    dst.link.handle_frame(now, &mut frame, &mut dst.rng)
                {
                    assert!(r.start <= r.end && r.end <= len);
                }
            }
            Op::Raw { to_peer, mut bytes } => {
                let dst = if to_peer { &mut b } else { &mut a };
                let len = bytes.len();
                if let Ok(Received::Ipv4(r) | Received::Eap(r)) =
                    dst.link.handle_frame(now, &mut bytes, &mut dst.rng)
                {
                    assert!(r.start <= r.end && r.end <= len);
                }
            }
            Op::Advance { ms } => {
                now += Duration::from_millis(u64::from(ms) * 4);
                for s in [&mut a, &mut b] {
                    if s.link.poll_timeout().is_some_and(|t| t <= now) {
                        s.link.handle_timeout(now, &mut s.rng);
                        assert!(
                            s.link.poll_timeout().is_none_or(|t| t > now),
                            "a timer still due after handle_timeout"
                        );
                    }
                }
            }
            Op::Accept { nt_hash } => {
                let acc = if nt_hash {
                    Accept::NtHash(ppp_core::crypto::NtHash::from_password("s3cret-Pass"))
                } else {
                    Accept::Plain
                };
                let _ = a.link.accept(now, acc);
            }
            Op::Reject => {
                let _ = a.link.reject(now);
            }
            Op::SetAddress { last } => {
                let _ = a.link.set_peer_address(now, Ipv4Addr::new(192, 0, 2, last));
            }
            Op::Close { peer } => {
                let s = if peer { &mut b } else { &mut a };
                s.link.close(now);
            }
            Op::LowerDown { peer } => {
                let s = if peer { &mut b } else { &mut a };
                s.link.lower_down(now);
            }
            Op::Reopen { peer } => {
                let s = if peer { &mut b } else { &mut a };
                if s.down {
                    s.down = false;
                    s.link.open(now, &mut s.rng);
                }
            }
            Op::Ipv4 {
                peer,
                headroom,
                len,
            } => {
                let (s, other) = if peer {
                    (&mut b, &mut a)
                } else {
                    (&mut a, &mut b)
                };
                let h = usize::from(headroom % 8);
                let n = usize::from(len % 1600);
                let mut buf = vec![0x45u8; h + n];
                if let Ok(r) = s.link.encapsulate_ipv4(now, &mut buf, h..h + n) {
                    assert!(r.end == h + n && r.start <= h);
                    check_frame(&buf[r.clone()]);
                    if other.inbox.len() < 64 {
                        other.inbox.push(buf[r].to_vec());
                    }
                }
            }
            Op::Pump { rounds } => {
                for _ in 0..rounds % 8 {
                    for to_peer in [true, false] {
                        let (dst, src) = if to_peer {
                            (&mut b, &mut a)
                        } else {
                            (&mut a, &mut b)
                        };
                        for mut frame in std::mem::take(&mut dst.inbox) {
                            let len = frame.len();
                            if let Ok(Received::Ipv4(r) | Received::Eap(r)) =
                                dst.link.handle_frame(now, &mut frame, &mut dst.rng)
                            {
                                assert!(r.start <= r.end && r.end <= len);
                            }
                            drain(dst, src, now, &mut eap_last, auto);
                        }
                    }
                }
            }
            Op::SendEap { headroom, body } => {
                let h = usize::from(headroom % 8);
                let mut buf = vec![0u8; h];
                buf.extend_from_slice(&body);
                if body.len() >= 4 {
                    let l = u16::try_from(body.len()).unwrap_or(u16::MAX);
                    buf[h + 2..h + 4].copy_from_slice(&l.to_be_bytes());
                }
                let end = buf.len();
                if let Ok(r) = a.link.send_eap(now, &mut buf, h..end) {
                    eap_last = Some(buf[h..end].to_vec());
                    check_frame(&buf[r.clone()]);
                    if b.inbox.len() < 64 {
                        b.inbox.push(buf[r].to_vec());
                    }
                }
            }
        }
        drain(&mut a, &mut b, now, &mut eap_last, auto);
        drain(&mut b, &mut a, now, &mut eap_last, auto);
    }
});
