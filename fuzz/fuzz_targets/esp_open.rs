//! Arbitrary bytes into `SaTable::open` and `Sa::open`, and valid packets
//! with arbitrary damage. With the no-integrity suites, random bytes reach
//! the decryption and the padding check too. Nothing may panic, a refused
//! packet must leave the SA able to open the next good one, and every
//! accepted payload range must lie inside the packet.
#![no_main]

use arbitrary::Arbitrary;
use esp_core::{Encapsulation, Encryption, Integrity, IpProtocol, Lifetime, Sa, SaConfig, SaTable};
use libfuzzer_sys::fuzz_target;
use rand_core::SeedableRng;
use std::time::Duration;

#[derive(Arbitrary, Debug)]
enum Damage {
    Flip { at: u16, mask: u8 },
    Truncate { len: u16 },
    Extend { bytes: Vec<u8> },
    SetByte { at: u16, value: u8 },
}

#[derive(Arbitrary, Debug)]
struct Input {
    encryption: Encryption,
    integrity: Integrity,
    replay_window: u8,
    raw: Vec<u8>,
    payload: Vec<u8>,
    next_header: u8,
    packets: u8,
    damage: Vec<Damage>,
    now: u32,
}

const EKEY: [u8; 32] = [0x42; 32];
const AKEY: [u8; 32] = [0x24; 32];

fuzz_target!(|input: Input| {
    let config = SaConfig {
        encryption: input.encryption,
        encryption_key: &EKEY[..input.encryption.key_len()],
        integrity: input.integrity,
        integrity_key: &AKEY[..input.integrity.key_len()],
        encapsulation: Encapsulation::Udp { peer_port: 4500 },
        replay_window: u16::from(input.replay_window),
        lifetime: Lifetime::from_hard(100, 64),
    };
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(0);
    let mut table = SaTable::<4>::new();
    let now = Duration::from_secs(u64::from(input.now % 200));
    let Ok((rx, spi)) = table.insert_inbound(Duration::ZERO, &config, &mut rng) else {
        return; // NULL without integrity, or a window too large: refused, fine.
    };
    let tx = table
        .insert_outbound(Duration::ZERO, spi, &config, &mut rng)
        .unwrap();

    // Raw bytes, with and without our SPI in front.
    let mut raw = input.raw.clone();
    let _ = table.open(now, &mut raw);
    let mut raw = spi.to_be_bytes().to_vec();
    raw.extend_from_slice(&input.raw);
    let len = raw.len();
    if let Ok((_, opened)) = table.open(now, &mut raw) {
        assert!(opened.payload.end <= len);
    }
    let mut direct = Sa::<2>::new_inbound(Duration::ZERO, spi, &config).unwrap();
    let mut raw2 = input.raw.clone();
    let _ = direct.open(now, &mut raw2);

    // Valid packets, then damaged.
    for i in 0..input.packets % 8 {
        let mut buf = vec![0u8; 24 + input.payload.len() + 33];
        buf[24..24 + input.payload.len()].copy_from_slice(&input.payload);
        let Ok(range) = table.seal(
            now,
            tx,
            &mut buf,
            24..24 + input.payload.len(),
            IpProtocol::from(input.next_header),
        ) else {
            break;
        };
        let mut packet = buf[range].to_vec();
        if i % 2 == 1 {
            for d in &input.damage {
                match d {
                    Damage::Flip { at, mask } => {
                        if let Some(b) = packet.get_mut(usize::from(*at)) {
                            *b ^= mask;
                        }
                    }
                    Damage::Truncate { len } => packet.truncate(usize::from(*len)),
                    Damage::Extend { bytes } => packet.extend_from_slice(bytes),
                    Damage::SetByte { at, value } => {
                        if let Some(b) = packet.get_mut(usize::from(*at)) {
                            *b = *value;
                        }
                    }
                }
            }
        }
        let len = packet.len();
        match table.open(now, &mut packet) {
            Ok((handle, opened)) => {
                assert_eq!(handle, rx);
                assert!(opened.payload.end <= len);
                if i % 2 == 0 && input.integrity != Integrity::None {
                    assert_eq!(&packet[opened.payload], &input.payload[..]);
                }
            }
            Err(_) => {}
        }
        while table.poll_event().is_some() {}
    }
    table.handle_timeout(now + Duration::from_secs(1000));
    while table.poll_event().is_some() {}
    assert!(table.is_empty(), "hard lifetime of 100 s ended both SAs");
});
