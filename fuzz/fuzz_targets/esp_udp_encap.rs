//! RFC 3948 classification of arbitrary UDP 4500 payloads, then the ESP
//! header parse of whatever classifies as ESP. Nothing may panic, and the
//! offsets must stay inside the payload.
#![no_main]

use esp_core::wire::esp::{Packet, Repr};
use esp_core::wire::udp_encap::{Classification, classify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(kind) = classify(data) else {
        assert!(data.len() < 8);
        return;
    };
    assert!(kind.payload_offset() <= data.len());
    match kind {
        Classification::NatKeepalive => assert_eq!(data, [0xff]),
        Classification::Ike => assert_eq!(&data[..4], [0, 0, 0, 0]),
        Classification::Esp => {
            let packet = Packet::new_checked(data).expect("ESP classification implies a header");
            if let Ok(repr) = Repr::parse(&packet) {
                assert!(repr.spi > 255);
                let mut out = [0u8; 8];
                repr.emit(&mut Packet::new_unchecked(&mut out[..]));
                assert_eq!(&out[..], &data[..8]);
            }
        }
    }
});
