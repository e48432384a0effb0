//! Seal and open agree for every encryption x integrity pair and every
//! payload length from 0 to 1500, and the sealed packets have the layout
//! RFC 4303 prescribes.

#![allow(clippy::cast_possible_truncation)]

mod common;

use common::{Keys, suites};
use esp_core::{IpProtocol, Lifetime, MAX_HEADROOM, MAX_TAILROOM, Sa, SealError};
use std::time::Duration;

const NOW: Duration = Duration::from_secs(1);

#[test]
fn every_suite_every_length_0_to_1500() {
    let mut rng = testkit::rng(1);
    let mut pairs = 0;
    for (enc, integ) in suites() {
        let keys = Keys::new(enc, integ);
        let config = keys.config(enc, integ, 128, Lifetime::UNLIMITED);
        let mut tx = Sa::<2>::new_outbound(NOW, 0x8000_1234, &config, &mut rng).unwrap();
        let mut rx = Sa::<2>::new_inbound(NOW, 0x8000_1234, &config).unwrap();
        let mut buf = vec![0u8; MAX_HEADROOM + 1500 + MAX_TAILROOM];
        for len in 0..=1500usize {
            let payload: Vec<u8> = (0..len).map(|i| (i * 31 + len) as u8).collect();
            let start = tx.headroom();
            buf[start..start + len].copy_from_slice(&payload);
            let esp = tx
                .seal(NOW, &mut buf, start..start + len, IpProtocol::Udp)
                .unwrap();
            assert_eq!(esp.start, 0);

            // Layout: header, IV, ciphertext aligned to the block (and 4), ICV.
            let ct = esp.len() - tx.headroom() - integ.icv_len();
            assert_eq!(ct % enc.alignment(), 0, "{enc:?}/{integ:?} len {len}");
            assert!(ct >= len + 2 && ct < len + 2 + enc.alignment());
            assert_eq!(&buf[..4], &0x8000_1234u32.to_be_bytes());
            assert_eq!(&buf[4..8], &u32::try_from(len + 1).unwrap().to_be_bytes());

            let mut packet = buf[esp].to_vec();
            let opened = rx.open(NOW, &mut packet).unwrap();
            assert_eq!(opened.next_header, IpProtocol::Udp);
            assert_eq!(opened.sequence_number, u32::try_from(len + 1).unwrap());
            assert_eq!(
                &packet[opened.payload],
                &payload[..],
                "{enc:?}/{integ:?} len {len}"
            );
            pairs += 1;
        }
        assert_eq!(tx.counters().packets, 1501);
        assert_eq!(rx.counters().packets, 1501);
        assert_eq!(tx.counters().bytes, rx.counters().bytes);
    }
    assert_eq!(pairs, (common::ENCRYPTIONS.len() * 5 - 1) * 1501);
}

#[test]
fn payload_may_sit_anywhere_with_enough_room() {
    let mut rng = testkit::rng(2);
    let (enc, integ) = (
        esp_core::Encryption::AesCbc256,
        esp_core::Integrity::HmacSha256_128,
    );
    let keys = Keys::new(enc, integ);
    let config = keys.config(enc, integ, 128, Lifetime::UNLIMITED);
    let mut tx = Sa::<2>::new_outbound(NOW, 0x9000_0001, &config, &mut rng).unwrap();
    let mut rx = Sa::<2>::new_inbound(NOW, 0x9000_0001, &config).unwrap();
    let mut buf = [0u8; 200];
    buf[100..110].copy_from_slice(b"0123456789");
    let esp = tx.seal(NOW, &mut buf, 100..110, IpProtocol::Tcp).unwrap();
    assert_eq!(esp.start, 100 - tx.headroom());
    let opened = rx.open(NOW, &mut buf[esp.clone()]).unwrap();
    assert_eq!(&buf[esp][opened.payload], b"0123456789");
}

#[test]
fn too_little_room_says_how_much_is_needed() {
    let mut rng = testkit::rng(3);
    let (enc, integ) = (
        esp_core::Encryption::AesCbc128,
        esp_core::Integrity::HmacSha1_96,
    );
    let keys = Keys::new(enc, integ);
    let config = keys.config(enc, integ, 128, Lifetime::UNLIMITED);
    let mut tx = Sa::<2>::new_outbound(NOW, 0x9000_0002, &config, &mut rng).unwrap();
    let mut buf = [0u8; 64];
    // 23 bytes of headroom: one short.
    assert_eq!(
        tx.seal(NOW, &mut buf, 23..33, IpProtocol::Udp),
        Err(SealError::BufferTooSmall {
            headroom: 24,
            needed: 24 + 16 + 12
        })
    );
    // 10 bytes of payload pad to 16 with the trailer; 12 bytes of ICV follow.
    let mut short = [0u8; 24 + 16 + 11];
    assert_eq!(
        tx.seal(NOW, &mut short, 24..34, IpProtocol::Udp),
        Err(SealError::BufferTooSmall {
            headroom: 24,
            needed: 24 + 16 + 12
        })
    );
    #[allow(clippy::reversed_empty_ranges)] // exactly what a confused caller might pass
    let reversed = 40..30;
    assert_eq!(
        tx.seal(NOW, &mut buf, reversed, IpProtocol::Udp),
        Err(SealError::BadRange)
    );
    assert_eq!(
        tx.seal(NOW, &mut buf, 30..65, IpProtocol::Udp),
        Err(SealError::BadRange)
    );
    // Nothing was consumed by the refusals.
    assert_eq!(tx.sequence_number(), 0);
    assert!(tx.seal(NOW, &mut buf, 24..34, IpProtocol::Udp).is_ok());
    assert_eq!(tx.sequence_number(), 1);
}

#[test]
fn direction_is_enforced() {
    let mut rng = testkit::rng(4);
    let (enc, integ) = (
        esp_core::Encryption::TripleDesCbc,
        esp_core::Integrity::HmacMd5_96,
    );
    let keys = Keys::new(enc, integ);
    let config = keys.config(enc, integ, 128, Lifetime::UNLIMITED);
    let mut tx = Sa::<2>::new_outbound(NOW, 0x9000_0003, &config, &mut rng).unwrap();
    let mut rx = Sa::<2>::new_inbound(NOW, 0x9000_0003, &config).unwrap();
    let mut buf = [0u8; 100];
    assert_eq!(
        rx.seal(NOW, &mut buf, 20..30, IpProtocol::Udp),
        Err(SealError::WrongDirection)
    );
    assert_eq!(
        tx.open(NOW, &mut buf),
        Err(esp_core::OpenError::WrongDirection)
    );
}
