//! Arbitrary datagrams through the RADIUS codec and the response checks:
//! header, attributes, vendor attributes, Message-Authenticator search,
//! authenticator verification. Nothing may panic; what parses must re-emit
//! to the same attribute list.
#![no_main]

use libfuzzer_sys::fuzz_target;
use radius_core::Packet;
use radius_core::crypto;
use radius_core::wire::PacketBuilder;

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = Packet::new_checked(data) else {
        return;
    };
    let _ = crypto::verify_response(&packet, &[0x42; 16], b"secret", false);
    let _ = crypto::find_message_authenticator(&packet);
    let mut out = vec![0u8; 4096];
    let mut b = PacketBuilder::new(
        &mut out,
        packet.code(),
        packet.identifier(),
        &packet.authenticator(),
    )
    .unwrap();
    let mut all_ok = true;
    for attr in packet.attributes() {
        match attr {
            Ok(a) => {
                b.attribute(a.kind, a.value).unwrap();
                if let Some((_, subs)) = a.vendor() {
                    for s in subs {
                        let _ = s;
                    }
                }
            }
            Err(_) => all_ok = false,
        }
    }
    let rebuilt = b.finish();
    if all_ok {
        assert_eq!(&rebuilt[..], packet.as_bytes());
    }
});
