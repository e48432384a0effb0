//! l2tp-core codec: header, AVP iterator, hidden-AVP recovery and the
//! control-message `Repr`, as parse -> emit -> parse round trips.
#![no_main]

use l2tp_core::wire::{AvpIter, HeaderRepr, Hiding, Message, Packet, unhide_in_place};
use libfuzzer_sys::fuzz_target;

const SECRET: &[u8] = b"fuzz-secret";

fuzz_target!(|data: &[u8]| {
    for avp in AvpIter::new(data) {
        let _ = avp;
    }
    let Ok(p) = Packet::new_checked(data) else {
        return;
    };
    let h = HeaderRepr::parse(&p);
    let mut out = [0u8; 2048];
    let hl = h.header_len();
    assert_eq!(hl, p.header_len());
    h.emit(&mut out[..hl], p.length().unwrap_or(0));
    let again = Packet::new_unchecked(&out[..hl]);
    assert_eq!(HeaderRepr::parse(&again), h);
    if !p.is_control() {
        return;
    }
    let total = p.total_len();
    let mut msg = [0u8; 2048];
    if total > msg.len() {
        return;
    }
    msg[..total].copy_from_slice(&data[..total]);
    let Ok(len) = unhide_in_place(&mut msg[..total], Some(SECRET)) else {
        return;
    };
    assert!(len <= total);
    let Ok(m) = Message::parse(&msg[12..len]) else {
        return;
    };
    let mut plain = m;
    plain.unknown_mandatory = None;

    // Round trip without hiding.
    let n = m.buffer_len(None);
    let mut buf = [0u8; 4096];
    assert_eq!(m.emit(&mut buf[..n], None), n);
    let back = Message::parse(&buf[..n]).expect("own emission parses");
    assert_eq!(back, plain);

    // Round trip with hiding, when every value fits with its 2-byte prefix.
    if len < 1000 {
        let rv = [0x5au8; 16];
        let hiding = Hiding {
            secret: SECRET,
            random_vector: &rv,
        };
        let n = m.buffer_len(Some(&hiding));
        let mut whole = [0u8; 4096];
        whole[..12].copy_from_slice(&[0xc8, 0x02, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        m.emit(&mut whole[12..12 + n], Some(&hiding));
        let total = u16::try_from(12 + n).unwrap();
        whole[2..4].copy_from_slice(&total.to_be_bytes());
        let len = unhide_in_place(&mut whole[..12 + n], Some(SECRET)).expect("own hiding recovers");
        let mut back = Message::parse(&whole[12..len]).expect("own emission parses");
        back.random_vector = plain.random_vector;
        assert_eq!(back, plain);
    }
});
