//! The SA table: SPIs that carry their slot, lookups without a scan, full
//! tables, stale handles, lapsed reservations.

#![allow(clippy::cast_possible_truncation)]

mod common;

use common::Keys;
use esp_core::{Encryption, Integrity, Lifetime, OpenError, SaTable, SealError, TableError};
use std::collections::HashSet;
use std::time::Duration;

const NOW: Duration = Duration::from_secs(10);

fn check_spis<const N: usize>() {
    let keys = Keys::new(Encryption::AesCbc128, Integrity::HmacSha1_96);
    let config = keys.config(
        Encryption::AesCbc128,
        Integrity::HmacSha1_96,
        128,
        Lifetime::UNLIMITED,
    );
    let mut rng = testkit::rng(N as u64);
    let mut table = SaTable::<N>::new();
    let mut seen = HashSet::new();
    for _ in 0..N {
        let (handle, spi) = table.insert_inbound(NOW, &config, &mut rng).unwrap();
        assert!(spi > 255, "RFC 4303 §2.1: 0..=255 are reserved");
        assert_eq!(
            spi as usize % N,
            usize::from(handle.index()),
            "the SPI carries its slot"
        );
        assert_eq!(table.lookup_inbound(spi), Some(handle));
        assert!(seen.insert(spi));
    }
    assert_eq!(
        table.insert_inbound(NOW, &config, &mut rng),
        Err(TableError::TableFull)
    );
    assert_eq!(
        table.insert_outbound(NOW, 0x1234_5678, &config, &mut rng),
        Err(TableError::TableFull)
    );
    assert_eq!(table.reserve_spi(NOW, &mut rng), Err(TableError::TableFull));
    assert_eq!(table.len(), N);
}

#[test]
fn spis_encode_slots_for_several_capacities() {
    check_spis::<1>();
    check_spis::<3>();
    check_spis::<64>();
    check_spis::<1000>();
}

#[test]
fn stale_handles_and_reused_slots() {
    let keys = Keys::new(Encryption::AesCbc256, Integrity::HmacSha256_128);
    let config = keys.config(
        Encryption::AesCbc256,
        Integrity::HmacSha256_128,
        128,
        Lifetime::UNLIMITED,
    );
    let mut rng = testkit::rng(5);
    let mut table = SaTable::<2>::new();
    let (old, old_spi) = table.insert_inbound(NOW, &config, &mut rng).unwrap();
    table.remove(old).unwrap();
    assert_eq!(table.remove(old), Err(TableError::StaleHandle));
    assert_eq!(table.lookup_inbound(old_spi), None);
    let (new, new_spi) = table.insert_inbound(NOW, &config, &mut rng).unwrap();
    assert_eq!(new.index(), old.index(), "the freed slot is reused");
    assert_ne!(new, old, "with a new generation");
    assert_ne!(new_spi, old_spi, "and never the SPI it had before");
    assert!(table.get(old).is_none());
    assert!(table.get(new).is_some());
    let mut buf = [0u8; 100];
    assert_eq!(
        table.seal(NOW, old, &mut buf, 24..30, esp_core::IpProtocol::Udp),
        Err(SealError::StaleHandle)
    );
    // A packet for the old SPI is an unknown SPI, counted.
    let mut packet = [0u8; 64];
    packet[..4].copy_from_slice(&old_spi.to_be_bytes());
    assert_eq!(
        table.open(NOW, &mut packet),
        Err(OpenError::UnknownSpi(old_spi))
    );
    assert_eq!(table.counters().unknown_spi, 1);
}

#[test]
fn reservations_lapse_and_cannot_be_installed_twice() {
    let keys = Keys::new(Encryption::TripleDesCbc, Integrity::HmacSha1_96);
    let config = keys.config(
        Encryption::TripleDesCbc,
        Integrity::HmacSha1_96,
        128,
        Lifetime::UNLIMITED,
    );
    let mut rng = testkit::rng(6);
    let mut table = SaTable::<4>::new();
    table.set_reservation_timeout(Duration::from_secs(30));
    let (lapsing, _) = table.reserve_spi(NOW, &mut rng).unwrap();
    let (kept, spi) = table.reserve_spi(NOW, &mut rng).unwrap();
    assert_eq!(
        table.lookup_inbound(spi),
        None,
        "a reservation takes no packets"
    );
    table.install_inbound(NOW, kept, &config).unwrap();
    assert_eq!(
        table.install_inbound(NOW, kept, &config),
        Err(TableError::WrongState)
    );
    assert_eq!(table.lookup_inbound(spi), Some(kept));
    assert_eq!(table.poll_timeout(), Some(NOW + Duration::from_secs(30)));
    table.handle_timeout(NOW + Duration::from_secs(30));
    assert_eq!(
        table.install_inbound(NOW, lapsing, &config),
        Err(TableError::StaleHandle)
    );
    assert_eq!(table.len(), 1);
    assert_eq!(table.poll_timeout(), None);
    assert_eq!(
        table.poll_event(),
        None,
        "a lapsed reservation is not an SA event"
    );
}

#[test]
fn bad_keys_leave_nothing_behind() {
    let mut rng = testkit::rng(7);
    let mut table = SaTable::<2>::new();
    let keys = Keys::new(Encryption::AesCbc128, Integrity::HmacSha1_96);
    let mut config = keys.config(
        Encryption::AesCbc128,
        Integrity::HmacSha1_96,
        128,
        Lifetime::UNLIMITED,
    );
    config.encryption = Encryption::AesCbc256;
    assert!(matches!(
        table.insert_inbound(NOW, &config, &mut rng),
        Err(TableError::Key(_))
    ));
    config.replay_window = 129;
    config.encryption = Encryption::AesCbc128;
    assert!(matches!(
        table.insert_inbound(NOW, &config, &mut rng),
        Err(TableError::Key(_))
    ));
    assert!(table.is_empty());
    assert_eq!(table.poll_timeout(), None);
}
