//! The firmware glue's parsing of packets from the network
//! (`ports/firmware/src/app/{inside,forward,ipv4}.rs`, included by path: the
//! firmware crate itself only builds for its boards). The input is split
//! into frames and packets that go to every entry point: Ethernet frames
//! from the LAN (`Forwarder::receive_frame`, ARP and IPv4), clients' IPv4
//! packets (`Forwarder::uplink`, `serve_inside`) and raw ESP packets
//! (`ipv4::parse`), with the clock moved between them. Nothing may panic,
//! and everything queued stays within its bounds.
#![no_main]

use core::net::Ipv4Addr;
use core::time::Duration;

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../ports/firmware/src/app/forward.rs"]
mod forward;
#[allow(dead_code)]
#[path = "../../ports/firmware/src/app/inside.rs"]
mod inside;
#[allow(dead_code)]
#[path = "../../ports/firmware/src/app/ipv4.rs"]
mod ipv4;

use forward::{ForwardConfig, Forwarder, MAX_FRAME, MAX_PACKET, Subnet};

const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const ME: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);
const INSIDE: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);

fuzz_target!(|data: &[u8]| {
    let mut f: Box<Forwarder<2, 2>> = Box::new(Forwarder::new());
    f.configure(ForwardConfig {
        mac: MAC,
        lan: Subnet::new(ME, 24),
        gateway: Some(Ipv4Addr::new(10, 0, 2, 2)),
        pool: Subnet::new(Ipv4Addr::new(10, 77, 0, 0), 24),
    });
    let mut now = Duration::from_secs(1);
    let mut out = [0u8; MAX_PACKET];
    // Records: [kind, len_hi, len_lo, bytes...]. Bits of `kind`: 0..=2 the
    // entry point, 3 "fix the IPv4 header checksum" (so that the fuzzer
    // gets past it), 4..=7 how far the clock moves (x 500 ms).
    let mut rest = data;
    while let [kind, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (chunk, next) = tail.split_at(len);
        rest = next;
        now += Duration::from_millis(u64::from(*kind >> 4) * 500);
        let fix = kind & 8 != 0;
        match kind & 7 {
            0 | 1 => {
                // A frame from the LAN, made to look like one for the board.
                let mut frame = chunk.to_vec();
                if kind & 1 == 1 && frame.len() >= 14 {
                    frame[..6].copy_from_slice(&MAC);
                }
                if fix && frame.len() > 14 {
                    fix_checksum(&mut frame[14..]);
                }
                let _ = f.receive_frame(now, &frame);
            }
            2 => {
                let mut p = chunk.to_vec();
                if fix {
                    fix_checksum(&mut p);
                }
                let _ = f.uplink(now, &p);
            }
            3 => {
                let mut p = chunk.to_vec();
                if let Some(n) = inside::serve_inside(&mut p, INSIDE) {
                    assert!(n <= p.len());
                    let _ = f.uplink(now, &p[..n]);
                }
            }
            4 => {
                if let Some((_, range)) = ipv4::parse(chunk, ipv4::PROTOCOL_ESP) {
                    assert!(range.start <= range.end && range.end <= chunk.len());
                }
            }
            5 => f.poll(now),
            _ => {
                if let Some(n) = f.rx_queue().pop_into(&mut out) {
                    assert!(n <= MAX_PACKET);
                    // What the forwarder hands on is a well-formed packet.
                    assert_eq!(forward::check_ipv4(&out[..n]), Some(n));
                    let mut p = out[..n].to_vec();
                    let _ = inside::serve_inside(&mut p, INSIDE);
                }
            }
        }
        while let Some(frame) = f.tx_queue().front() {
            assert!(frame.len() <= MAX_FRAME && frame.len() >= forward::MIN_FRAME);
            f.tx_queue().pop();
        }
    }
});

/// Writes a correct header checksum into what may be an IPv4 header.
fn fix_checksum(ip: &mut [u8]) {
    let Some(first) = ip.first() else { return };
    let header_len = usize::from(first & 0x0f) * 4;
    if header_len < 20 || ip.len() < header_len {
        return;
    }
    ip[10..12].fill(0);
    let sum = !ipv4::ones_complement_sum(&ip[..header_len]);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
}
