//! **Test-only randomness.** The emulated board has no entropy source, so its
//! RNG is ChaCha20 from a fixed seed: every boot draws the same numbers.
//! Anything keyed from it (SPIs, nonces, Diffie-Hellman secrets) is
//! predictable. It exists so that CI can run the firmware in QEMU; a real
//! board uses its hardware RNG.

use core::convert::Infallible;

use rand_chacha::ChaCha20Rng;
use rand_core::{SeedableRng, TryCryptoRng, TryRng};

/// The fixed seed: "lns-qemu-test-only-not-random!!!".
const SEED: [u8; 32] = *b"lns-qemu-test-only-not-random!!!";

/// ChaCha20 from a fixed seed. **Not secure**: see the module docs.
#[derive(Debug)]
pub struct InsecureTestRng(ChaCha20Rng);

impl InsecureTestRng {
    /// The generator at the start of its fixed sequence.
    pub fn new() -> Self {
        warn!("RNG: fixed-seed ChaCha20, TEST ONLY, NOT SECURE");
        Self(ChaCha20Rng::from_seed(SEED))
    }
}

impl Default for InsecureTestRng {
    fn default() -> Self {
        Self::new()
    }
}

impl TryRng for InsecureTestRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        self.0.try_next_u32()
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.0.try_next_u64()
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.0.try_fill_bytes(dst)
    }
}

/// It is not: the marker is what the cores' `rng` arguments require, and this
/// type exists only to run them in an emulator. See the module docs.
impl TryCryptoRng for InsecureTestRng {}
