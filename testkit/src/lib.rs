//! Test support for the workspace (std, dev-only, never published).
//!
//! - [`pcap`]: read classic pcap files;
//! - [`net`]: pull IPv4 packets and UDP datagrams out of Ethernet, PPPoE,
//!   Linux-cooked and BSD-loopback frames;
//! - [`vectors`]: the known-answer files in `testdata/vectors/` (TOML);
//! - [`l2tp_ipsec`]: the five reference L2TP/IPsec sessions with their keys,
//!   IKE messages, ESP packets and decrypted L2TP datagrams;
//! - [`hex`], [`testdata`], [`rng`].
//!
//! Everything here panics on malformed test data: a broken fixture should
//! fail the test loudly.
#![allow(missing_docs, clippy::missing_panics_doc)]

pub mod l2tp_ipsec;
pub mod net;
pub mod pcap;
pub mod vectors;

use std::path::PathBuf;

/// The path of a file under the workspace's `testdata/`.
pub fn testdata(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(relative)
}

/// Hex decoding and encoding for fixtures.
pub mod hex {
    /// Decodes hex, ignoring whitespace and an optional `0x` prefix.
    pub fn decode(s: &str) -> Vec<u8> {
        let s: String = s
            .trim()
            .trim_start_matches("0x")
            .split_whitespace()
            .collect();
        assert!(s.len().is_multiple_of(2), "odd hex length: {s}");
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
            .collect()
    }

    /// Lower-case hex.
    pub fn encode(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A seeded ChaCha20 RNG, the deterministic randomness of every test.
pub fn rng(seed: u64) -> rand_chacha::ChaCha20Rng {
    <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(seed)
}
