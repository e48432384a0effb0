//! Helpers shared by the integration tests.
#![allow(dead_code)]

use esp_core::{Encapsulation, Encryption, Integrity, Lifetime, SaConfig};

#[cfg(not(feature = "single-des"))]
pub const ENCRYPTIONS: [Encryption; 5] = [
    Encryption::Null,
    Encryption::TripleDesCbc,
    Encryption::AesCbc128,
    Encryption::AesCbc192,
    Encryption::AesCbc256,
];

#[cfg(feature = "single-des")]
pub const ENCRYPTIONS: [Encryption; 6] = [
    Encryption::DesCbc,
    Encryption::Null,
    Encryption::TripleDesCbc,
    Encryption::AesCbc128,
    Encryption::AesCbc192,
    Encryption::AesCbc256,
];

pub const INTEGRITIES: [Integrity; 5] = [
    Integrity::None,
    Integrity::HmacMd5_96,
    Integrity::HmacSha1_96,
    Integrity::HmacSha256_128,
    Integrity::HmacSha256_96,
];

/// Every valid (encryption, integrity) pair: all but NULL with no integrity.
pub fn suites() -> impl Iterator<Item = (Encryption, Integrity)> {
    ENCRYPTIONS.into_iter().flat_map(|e| {
        INTEGRITIES
            .into_iter()
            .filter(move |&i| !(e == Encryption::Null && i == Integrity::None))
            .map(move |i| (e, i))
    })
}

/// Keys of the right length, different for each suite.
pub struct Keys {
    pub enc: Vec<u8>,
    pub auth: Vec<u8>,
}

impl Keys {
    pub fn new(e: Encryption, i: Integrity) -> Self {
        Self {
            enc: (0..e.key_len()).map(|n| (n * 7 + 3) as u8).collect(),
            auth: (0..i.key_len()).map(|n| (n * 13 + 5) as u8).collect(),
        }
    }

    pub fn config(
        &self,
        e: Encryption,
        i: Integrity,
        replay_window: u16,
        lifetime: Lifetime,
    ) -> SaConfig<'_> {
        SaConfig {
            encryption: e,
            encryption_key: &self.enc,
            integrity: i,
            integrity_key: &self.auth,
            encapsulation: Encapsulation::Udp { peer_port: 4500 },
            replay_window,
            lifetime,
        }
    }
}
