//! Soft then hard expiry, by time and by kilobytes, as events of the SA
//! table at the moments the configuration says.

#![allow(clippy::cast_possible_truncation)]

mod common;

use common::Keys;
use esp_core::{
    Encryption, Event, ExpiryReason, Integrity, IpProtocol, Lifetime, Limits, OpenError, SaTable,
    SealError,
};
use std::time::Duration;

const KEYS_OF: (Encryption, Integrity) = (Encryption::AesCbc128, Integrity::HmacSha1_96);

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn time_lifetime_soft_then_hard() {
    let keys = Keys::new(KEYS_OF.0, KEYS_OF.1);
    let mut rng = testkit::rng(1);
    let mut table = SaTable::<4>::new();
    let t0 = secs(1000);
    // `crypto ipsec security-association lifetime seconds 3600`: soft at 3240 s.
    let config = keys.config(KEYS_OF.0, KEYS_OF.1, 128, Lifetime::from_hard(3600, 0));
    let tx = table
        .insert_outbound(t0, 0x8000_0042, &config, &mut rng)
        .unwrap();
    assert_eq!(table.poll_timeout(), Some(t0 + secs(3240)));

    table.handle_timeout(t0 + secs(3239));
    assert_eq!(table.poll_event(), None);
    table.handle_timeout(t0 + secs(3240));
    assert_eq!(
        table.poll_event(),
        Some(Event::SoftExpired {
            handle: tx,
            spi: 0x8000_0042,
            reason: ExpiryReason::Time
        })
    );
    assert_eq!(table.poll_event(), None);
    assert_eq!(table.poll_timeout(), Some(t0 + secs(3600)));

    // Still seals between soft and hard.
    let mut buf = [0u8; 100];
    assert!(
        table
            .seal(t0 + secs(3599), tx, &mut buf, 24..40, IpProtocol::Udp)
            .is_ok()
    );
    assert_eq!(
        table.get(tx).unwrap().time_left(t0 + secs(3599)),
        Some(secs(1))
    );

    table.handle_timeout(t0 + secs(3600));
    assert_eq!(
        table.poll_event(),
        Some(Event::HardExpired {
            handle: tx,
            spi: 0x8000_0042,
            reason: ExpiryReason::Time
        })
    );
    assert_eq!(table.poll_event(), None);
    assert_eq!(table.poll_timeout(), None);
    assert!(table.is_empty());
    assert_eq!(
        table.seal(t0 + secs(3600), tx, &mut buf, 24..40, IpProtocol::Udp),
        Err(SealError::StaleHandle)
    );
}

/// A packet that arrives after the hard deadline but before the timer ran is
/// refused: the data path does not depend on the caller's timer accuracy.
#[test]
fn hard_time_limit_holds_without_the_timer() {
    let keys = Keys::new(KEYS_OF.0, KEYS_OF.1);
    let mut rng = testkit::rng(2);
    let mut table = SaTable::<4>::new();
    let config = keys.config(KEYS_OF.0, KEYS_OF.1, 128, Lifetime::from_hard(60, 0));
    let (rx, spi) = table.insert_inbound(secs(0), &config, &mut rng).unwrap();
    let tx = table
        .insert_outbound(secs(0), spi, &config, &mut rng)
        .unwrap();
    let mut buf = [0u8; 100];
    let esp = table
        .seal(secs(59), tx, &mut buf, 24..40, IpProtocol::Udp)
        .unwrap();
    let mut packet = buf[esp].to_vec();
    assert_eq!(table.open(secs(61), &mut packet), Err(OpenError::Expired));
    // The inbound SA reports hard alone (its soft limit at 54 s was never
    // evaluated before it was already past the hard one); the outbound SA
    // saw its soft limit when it sealed at 59 s.
    let mut events: Vec<_> = std::iter::from_fn(|| table.poll_event()).collect();
    events.sort_by_key(|e| match e {
        Event::HardExpired { handle, .. } | Event::SoftExpired { handle, .. } => handle.index(),
        _ => u16::MAX,
    });
    assert_eq!(
        events,
        [
            Event::HardExpired {
                handle: rx,
                spi,
                reason: ExpiryReason::Time
            },
            Event::SoftExpired {
                handle: tx,
                spi,
                reason: ExpiryReason::Time
            },
        ]
    );
    table.handle_timeout(secs(61));
    assert_eq!(
        table.poll_event(),
        Some(Event::HardExpired {
            handle: tx,
            spi,
            reason: ExpiryReason::Time
        })
    );
    assert!(table.is_empty());
}

#[test]
fn kilobyte_lifetime_soft_then_hard() {
    let keys = Keys::new(KEYS_OF.0, KEYS_OF.1);
    let mut rng = testkit::rng(3);
    let mut table = SaTable::<4>::new();
    // 10 KB hard, soft at 9 KB (9216 bytes). Payloads of 1000 bytes.
    let lifetime = Lifetime {
        seconds: Limits::NONE,
        kilobytes: Limits::from_hard(10),
    };
    let config = keys.config(KEYS_OF.0, KEYS_OF.1, 128, lifetime);
    let (rx, spi) = table.insert_inbound(secs(0), &config, &mut rng).unwrap();
    let tx = table
        .insert_outbound(secs(0), spi, &config, &mut rng)
        .unwrap();
    assert_eq!(table.poll_timeout(), None, "no time limit, no timer");

    let mut buf = vec![0u8; 24 + 1000 + 33];
    let mut sealed = 0u64;
    let mut events = Vec::new();
    loop {
        match table.seal(secs(1), tx, &mut buf, 24..1024, IpProtocol::Udp) {
            Ok(esp) => {
                sealed += 1;
                let mut packet = buf[esp].to_vec();
                table.open(secs(1), &mut packet).unwrap();
            }
            Err(SealError::Expired | SealError::StaleHandle) => break,
            Err(e) => panic!("{e}"),
        }
        while let Some(e) = table.poll_event() {
            events.push((sealed, e));
        }
    }
    // Soft when 9216 bytes are reached: after the 10th packet (10000 bytes);
    // hard at 10240: after the 11th (11000 bytes), which is still sent.
    assert_eq!(sealed, 11);
    let soft = |h, n| {
        (
            n,
            Event::SoftExpired {
                handle: h,
                spi,
                reason: ExpiryReason::Bytes,
            },
        )
    };
    let hard = |h, n| {
        (
            n,
            Event::HardExpired {
                handle: h,
                spi,
                reason: ExpiryReason::Bytes,
            },
        )
    };
    let mut got = events.clone();
    got.sort_by_key(|(n, e)| (*n, matches!(e, Event::HardExpired { .. })));
    assert_eq!(got.len(), 4, "{events:?}");
    assert!(got.contains(&soft(tx, 10)) && got.contains(&soft(rx, 10)));
    assert!(got.contains(&hard(tx, 11)) && got.contains(&hard(rx, 11)));
    assert!(table.is_empty());
}
