//! The cryptography of IKEv1 (RFC 2409): hash and PRF, the phase 1
//! encryption, Diffie-Hellman, and the key derivations.
//!
//! Everything secret lives in [`Secret`], which zeroizes on drop, never
//! prints its bytes and compares in constant time.

mod cipher;
mod dh;
mod keys;
mod rsa;

pub use cipher::{CipherAlg, MAX_BLOCK_LEN, MAX_KEY_LEN};
pub use dh::{DhError, DhGroup, DhPrivate, MAX_DH_LEN};
pub use keys::{
    KeyMaterial, Phase1Keys, appendix_b_expand, hash_1, hash_2, hash_3, hash_i, hash_r,
    informational_hash, keymat, nat_d, phase1_iv, phase2_iv, skeyid_psk, skeyid_signature,
};
pub use rsa::{MAX_RSA_LEN, MIN_RSA_LEN, RsaError, RsaPrivateKey, RsaPublicKey, digest_info};

use core::fmt;
use hmac::{Hmac, KeyInit, Mac};
use md5::Md5;
use sha1::{Digest, Sha1};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// Largest hash output this crate produces (SHA-512 room for the ECP groups
/// of the next step; SHA-256 today).
pub const MAX_HASH_LEN: usize = 64;

/// Up to `N` secret bytes: zeroized on drop, compared in constant time,
/// never printed.
#[derive(Clone)]
pub struct Secret<const N: usize> {
    bytes: [u8; N],
    len: u16,
}

impl<const N: usize> Secret<N> {
    /// No bytes.
    pub const fn empty() -> Self {
        Self {
            bytes: [0; N],
            len: 0,
        }
    }

    /// A copy of `src`; `None` if it is longer than `N`.
    pub fn from_slice(src: &[u8]) -> Option<Self> {
        let mut s = Self::empty();
        s.bytes.get_mut(..src.len())?.copy_from_slice(src);
        s.len = u16::try_from(src.len()).ok()?;
        Some(s)
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Length.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keeps the first `len` bytes (no-op if already shorter).
    pub fn truncate(&mut self, len: usize) {
        if len < self.len() {
            self.bytes[len..].zeroize();
            self.len = u16::try_from(len).unwrap_or(0);
        }
    }

    /// Appends bytes; `false` (and nothing appended) if they do not fit.
    pub fn extend(&mut self, src: &[u8]) -> bool {
        let start = self.len();
        let Some(dst) = self.bytes.get_mut(start..start + src.len()) else {
            return false;
        };
        dst.copy_from_slice(src);
        self.len = u16::try_from(start + src.len()).unwrap_or(0);
        true
    }

    /// Constant-time equality (the lengths are not secret).
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        self.as_slice().ct_eq(other).into()
    }
}

impl<const N: usize> Drop for Secret<N> {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl<const N: usize> fmt::Debug for Secret<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.len)
    }
}

#[cfg(feature = "defmt")]
impl<const N: usize> defmt::Format for Secret<N> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "Secret({} bytes)", self.len)
    }
}

impl<const N: usize> PartialEq for Secret<N> {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other.as_slice())
    }
}

impl<const N: usize> Eq for Secret<N> {}

/// A hash output (not necessarily secret, but zeroized anyway).
pub type Digest64 = Secret<MAX_HASH_LEN>;

/// The hash algorithm negotiated in phase 1: it gives the PRF (HMAC with
/// this hash, RFC 2409 §4 when no PRF attribute is negotiated), the phase 1
/// IV and the NAT-D hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub enum HashAlg {
    /// MD5 (RFC 1321), PRF HMAC-MD5 (RFC 2104).
    Md5,
    /// SHA-1, PRF HMAC-SHA1.
    Sha1,
    /// SHA2-256, PRF HMAC-SHA2-256 (RFC 4868).
    Sha256,
}

impl HashAlg {
    /// Output length in octets.
    pub const fn output_len(self) -> usize {
        match self {
            Self::Md5 => 16,
            Self::Sha1 => 20,
            Self::Sha256 => 32,
        }
    }

    /// The IKE Hash Algorithm attribute value (RFC 2409 Appendix A).
    pub const fn ike_value(self) -> u16 {
        match self {
            Self::Md5 => 1,
            Self::Sha1 => 2,
            Self::Sha256 => 4,
        }
    }

    /// From the IKE Hash Algorithm attribute value, if supported.
    pub const fn from_ike_value(v: u16) -> Option<Self> {
        match v {
            1 => Some(Self::Md5),
            2 => Some(Self::Sha1),
            4 => Some(Self::Sha256),
            _ => None,
        }
    }

    /// HASH(parts[0] | parts[1] | ...).
    pub fn hash(self, parts: &[&[u8]]) -> Digest64 {
        fn run<D: Digest>(parts: &[&[u8]]) -> Digest64 {
            let mut d = D::new();
            for p in parts {
                d.update(p);
            }
            Digest64::from_slice(&d.finalize()).unwrap_or_else(Digest64::empty)
        }
        match self {
            Self::Md5 => run::<Md5>(parts),
            Self::Sha1 => run::<Sha1>(parts),
            Self::Sha256 => run::<Sha256>(parts),
        }
    }

    /// prf(key, parts[0] | parts[1] | ...): HMAC with this hash.
    pub fn prf(self, key: &[u8], parts: &[&[u8]]) -> Digest64 {
        fn run<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Digest64 {
            // HMAC accepts keys of any length, so this never fails; an empty
            // output would make every comparison fail rather than panic.
            let Ok(mut m) = <M as KeyInit>::new_from_slice(key) else {
                return Digest64::empty();
            };
            for p in parts {
                m.update(p);
            }
            Digest64::from_slice(&m.finalize().into_bytes()).unwrap_or_else(Digest64::empty)
        }
        match self {
            Self::Md5 => run::<Hmac<Md5>>(key, parts),
            Self::Sha1 => run::<Hmac<Sha1>>(key, parts),
            Self::Sha256 => run::<Hmac<Sha256>>(key, parts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    // RFC 2202 §2 test case 2 (HMAC-MD5) and §3 test case 2 (HMAC-SHA-1);
    // RFC 4231 §4.3 test case 2 (HMAC-SHA-256). Split inputs check that
    // the parts are concatenated.
    #[test]
    fn prf_known_answers() {
        assert_eq!(
            HashAlg::Md5
                .prf(b"Jefe", &[b"what do ya want ", b"for nothing?"])
                .as_slice(),
            hex!("750c783e6ab0b503eaa86e310a5db738")
        );
        assert_eq!(
            HashAlg::Sha1
                .prf(b"Jefe", &[b"what do ya want for nothing?"])
                .as_slice(),
            hex!("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
        );
        assert_eq!(
            HashAlg::Sha256
                .prf(b"Jefe", &[b"what do ya", b" want for nothing?"])
                .as_slice(),
            hex!("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        );
    }

    #[test]
    fn hash_known_answers() {
        assert_eq!(
            HashAlg::Md5.hash(&[b"RFC 3947"]).as_slice(),
            hex!("4a131c81070358455c5728f20e95452f")
        );
        assert_eq!(
            HashAlg::Sha1.hash(&[b"a", b"bc"]).as_slice(),
            hex!("a9993e364706816aba3e25717850c26c9cd0d89d")
        );
        assert_eq!(
            HashAlg::Sha256.hash(&[b"abc"]).as_slice(),
            hex!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
    }

    #[test]
    fn secret_behaviour() {
        let mut s = Secret::<8>::from_slice(b"abcd").unwrap();
        assert!(s.extend(b"efgh"));
        assert!(!s.extend(b"i"));
        assert_eq!(s.as_slice(), b"abcdefgh");
        s.truncate(3);
        assert_eq!(s.as_slice(), b"abc");
        assert!(s.ct_eq(b"abc"));
        assert!(!s.ct_eq(b"abd"));
        assert!(Secret::<2>::from_slice(b"abc").is_none());
        assert_eq!(std::format!("{s:?}"), "Secret(3 bytes)");
    }
}
