//! Diffie-Hellman over the MODP groups of IKEv1 (RFC 2409 §6.1-6.2,
//! RFC 3526 §2-3), in constant time on crypto-bigint.
//!
//! The exponentiation is `FixedMontyForm::pow_bounded_exp`: a fixed-window
//! ladder whose memory accesses and operation sequence depend only on the
//! number of exponent bits, which is public (the size this module draws).
//! The Montgomery parameters of each prime are computed at compile time.

use super::Secret;
use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{Odd, U384, U768, U1024, U1536, U2048, Uint};
use rand_core::CryptoRng;
use zeroize::Zeroize;

/// Largest public value or shared secret (MODP 2048).
pub const MAX_DH_LEN: usize = 256;
/// Largest private exponent in octets.
const MAX_EXP_LEN: usize = 48;

const P768: &str = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A3620FFFFFFFFFFFFFFFF";
const P1024: &str = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF";
const P1536: &str = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA237327FFFFFFFFFFFFFFFF";
const P2048: &str = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF";

static PARAMS_768: FixedMontyParams<{ U768::LIMBS }> =
    FixedMontyParams::new_vartime(Odd::<U768>::from_be_hex(P768));
static PARAMS_1024: FixedMontyParams<{ U1024::LIMBS }> =
    FixedMontyParams::new_vartime(Odd::<U1024>::from_be_hex(P1024));
static PARAMS_1536: FixedMontyParams<{ U1536::LIMBS }> =
    FixedMontyParams::new_vartime(Odd::<U1536>::from_be_hex(P1536));
static PARAMS_2048: FixedMontyParams<{ U2048::LIMBS }> =
    FixedMontyParams::new_vartime(Odd::<U2048>::from_be_hex(P2048));

/// A Diffie-Hellman group (IKE Group Description, RFC 2409 Appendix A).
///
/// The elliptic-curve groups 19 and 20 (RFC 5903) are the next step; they
/// become variants here and everything that negotiates a group already
/// goes through this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub enum DhGroup {
    /// Group 1, 768-bit MODP (RFC 2409 §6.1). Weak: negotiated only when a
    /// policy names it explicitly.
    Modp768,
    /// Group 2, 1024-bit MODP (RFC 2409 §6.2).
    Modp1024,
    /// Group 5, 1536-bit MODP (RFC 3526 §2).
    Modp1536,
    /// Group 14, 2048-bit MODP (RFC 3526 §3).
    Modp2048,
}

impl DhGroup {
    /// The IKE Group Description value.
    pub const fn ike_value(self) -> u16 {
        match self {
            Self::Modp768 => 1,
            Self::Modp1024 => 2,
            Self::Modp1536 => 5,
            Self::Modp2048 => 14,
        }
    }

    /// From the IKE Group Description value, if supported.
    pub const fn from_ike_value(v: u16) -> Option<Self> {
        match v {
            1 => Some(Self::Modp768),
            2 => Some(Self::Modp1024),
            5 => Some(Self::Modp1536),
            14 => Some(Self::Modp2048),
            _ => None,
        }
    }

    /// The prime, as big-endian hex (RFC 2409 §6, RFC 3526).
    pub const fn prime_hex(self) -> &'static str {
        match self {
            Self::Modp768 => P768,
            Self::Modp1024 => P1024,
            Self::Modp1536 => P1536,
            Self::Modp2048 => P2048,
        }
    }

    /// Length of a public value and of the shared secret: the length of the
    /// prime (RFC 2409 §5: public values are padded to it).
    pub const fn public_len(self) -> usize {
        match self {
            Self::Modp768 => 96,
            Self::Modp1024 => 128,
            Self::Modp1536 => 192,
            Self::Modp2048 => 256,
        }
    }

    /// Size of the private exponent in bits: at least twice the strength
    /// estimated for the group (RFC 3526 §8: 180-240 bits for 1536, 220-320
    /// for 2048), rounded up.
    pub const fn exponent_bits(self) -> u32 {
        match self {
            Self::Modp768 | Self::Modp1024 | Self::Modp1536 => 256,
            Self::Modp2048 => 320,
        }
    }
}

/// Why a peer's public value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DhError {
    /// Not exactly the length of the prime (RFC 2409 §5).
    BadLength,
    /// Outside 2..=p-2: 0, 1 and p-1 would force a known shared secret
    /// (NIST SP 800-56A §5.6.2.3.1 partial validation).
    OutOfRange,
}

/// A private exponent; zeroized on drop.
#[derive(Debug, Clone)]
pub struct DhPrivate {
    group: DhGroup,
    x: Secret<MAX_EXP_LEN>,
}

impl DhPrivate {
    /// Draws a fresh exponent of [`DhGroup::exponent_bits`] bits with the
    /// top bit set (never zero, full size).
    pub fn generate(group: DhGroup, rng: &mut impl CryptoRng) -> Self {
        let n = usize::try_from(group.exponent_bits() / 8).unwrap_or(MAX_EXP_LEN);
        let mut bytes = [0u8; MAX_EXP_LEN];
        rng.fill_bytes(&mut bytes[..n]);
        bytes[0] |= 0x80;
        let x = Secret::from_slice(&bytes[..n]).unwrap_or_else(Secret::empty);
        bytes.zeroize();
        Self { group, x }
    }

    /// A given exponent (big-endian, at most [`DhGroup::exponent_bits`]
    /// bits), for known-answer tests.
    pub fn from_exponent(group: DhGroup, x: &[u8]) -> Option<Self> {
        let max = usize::try_from(group.exponent_bits() / 8).ok()?;
        if x.len() > max {
            return None;
        }
        Some(Self {
            group,
            x: Secret::from_slice(x)?,
        })
    }

    /// The group.
    pub fn group(&self) -> DhGroup {
        self.group
    }

    fn exponent(&self) -> U384 {
        let mut buf = [0u8; MAX_EXP_LEN];
        let x = self.x.as_slice();
        buf[MAX_EXP_LEN - x.len()..].copy_from_slice(x);
        let e = U384::from_be_slice(&buf);
        buf.zeroize();
        e
    }

    /// Writes g^x mod p into `out`, which must be
    /// [`DhGroup::public_len`] octets; returns `false` otherwise.
    pub fn public_value(&self, out: &mut [u8]) -> bool {
        let mut e = self.exponent();
        let bits = self.group.exponent_bits();
        let ok = match self.group {
            DhGroup::Modp768 => pow_g(&PARAMS_768, &e, bits, out),
            DhGroup::Modp1024 => pow_g(&PARAMS_1024, &e, bits, out),
            DhGroup::Modp1536 => pow_g(&PARAMS_1536, &e, bits, out),
            DhGroup::Modp2048 => pow_g(&PARAMS_2048, &e, bits, out),
        };
        e.zeroize();
        ok
    }

    /// The shared secret g^xy = peer^x mod p, as many octets as the prime.
    ///
    /// # Errors
    /// [`DhError`] for a public value of the wrong length or out of range.
    pub fn shared_secret(&self, peer: &[u8]) -> Result<Secret<MAX_DH_LEN>, DhError> {
        let mut e = self.exponent();
        let bits = self.group.exponent_bits();
        let r = match self.group {
            DhGroup::Modp768 => pow_peer(&PARAMS_768, peer, &e, bits),
            DhGroup::Modp1024 => pow_peer(&PARAMS_1024, peer, &e, bits),
            DhGroup::Modp1536 => pow_peer(&PARAMS_1536, peer, &e, bits),
            DhGroup::Modp2048 => pow_peer(&PARAMS_2048, peer, &e, bits),
        };
        e.zeroize();
        r
    }
}

fn write_be<const L: usize>(v: &Uint<L>, out: &mut [u8]) -> bool {
    let enc = v.to_be_bytes();
    let bytes = enc.as_slice();
    if out.len() != bytes.len() {
        return false;
    }
    out.copy_from_slice(bytes);
    true
}

fn pow_g<const L: usize>(
    params: &FixedMontyParams<L>,
    e: &U384,
    bits: u32,
    out: &mut [u8],
) -> bool {
    let g = FixedMontyForm::new(&Uint::<L>::from_u8(2), params);
    let mut y = g.pow_bounded_exp(e, bits).retrieve();
    let ok = write_be(&y, out);
    y.zeroize();
    ok
}

fn pow_peer<const L: usize>(
    params: &FixedMontyParams<L>,
    peer: &[u8],
    e: &U384,
    bits: u32,
) -> Result<Secret<MAX_DH_LEN>, DhError> {
    if peer.len() != Uint::<L>::BYTES {
        return Err(DhError::BadLength);
    }
    let y = Uint::<L>::from_be_slice(peer);
    let p = params.modulus().get();
    let p_minus_1 = p.wrapping_sub(&Uint::ONE);
    // The peer's value is public: variable-time comparisons are fine.
    if y <= Uint::ONE || y >= p_minus_1 {
        return Err(DhError::OutOfRange);
    }
    let base = FixedMontyForm::new(&y, params);
    let mut z = base.pow_bounded_exp(e, bits).retrieve();
    let mut buf = [0u8; MAX_DH_LEN];
    let n = Uint::<L>::BYTES;
    let ok = write_be(&z, &mut buf[..n]);
    z.zeroize();
    let s = if ok {
        Secret::from_slice(&buf[..n]).ok_or(DhError::BadLength)
    } else {
        Err(DhError::BadLength)
    };
    buf.zeroize();
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::HashAlg;
    use hex_literal::hex;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    const X: [u8; 32] = hex!("0123456789abcdeffedcba98765432100f1e2d3c4b5a69788796a5b4c3d2e1f0");
    const Y: [u8; 32] = hex!("8000000000000000000000000000000000000000000000000000000000000003");

    // Expected values computed independently with Python's pow() over the
    // primes of ../shared/reference/vectors/modp-groups.toml (RFC 2409 §6,
    // RFC 3526 §2-3): SHA-256 of g^X and of (g^Y)^X.
    #[test]
    fn known_answers_every_group() {
        let cases = [
            (
                DhGroup::Modp768,
                hex!("e2eedb01dbcb071b439df9e00d36e65ca2a471cdbe30b5b57950382b83b3f984"),
                hex!("4605b93835951db3486d66b8f9e5a3a7842e38c18c96950aeeb200e43a8808a0"),
            ),
            (
                DhGroup::Modp1024,
                hex!("b004970e5079d12d262c382661890cb18061ba5d8d3ab1f912b11d3e991e40ad"),
                hex!("bd069fc790197d77008229394dabfce581c5d88f7647cc94747d0fd88e891c88"),
            ),
            (
                DhGroup::Modp1536,
                hex!("ba35c0901d4474791545e0e3d278b1712ba2590c1451840696a8aca1c28446dc"),
                hex!("40ca67fdac87d6b45e5b28d30d19c11b1ae7e878b16f6e389a97c8a45af1c17a"),
            ),
            (
                DhGroup::Modp2048,
                hex!("e22efe08352c31ccba231bc583ebb97882c788804bffbfb0338a1054203f3cc0"),
                hex!("6ca2f909fad199f6b25a36febc9c2efdc6dde3eeb1519b1f4ea692671a9431db"),
            ),
        ];
        for (group, public_hash, shared_hash) in cases {
            let n = group.public_len();
            let a = DhPrivate::from_exponent(group, &X).unwrap();
            let b = DhPrivate::from_exponent(group, &Y).unwrap();
            let mut pa = [0u8; MAX_DH_LEN];
            let mut pb = [0u8; MAX_DH_LEN];
            assert!(a.public_value(&mut pa[..n]));
            assert!(b.public_value(&mut pb[..n]));
            assert_eq!(
                HashAlg::Sha256.hash(&[&pa[..n]]).as_slice(),
                public_hash,
                "{group:?}"
            );
            let s1 = a.shared_secret(&pb[..n]).unwrap();
            let s2 = b.shared_secret(&pa[..n]).unwrap();
            assert_eq!(s1, s2);
            assert_eq!(
                HashAlg::Sha256.hash(&[s1.as_slice()]).as_slice(),
                shared_hash
            );
        }
    }

    #[test]
    fn random_pairs_agree_and_bad_values_are_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let g = DhGroup::Modp1024;
        let a = DhPrivate::generate(g, &mut rng);
        let b = DhPrivate::generate(g, &mut rng);
        let mut pa = [0u8; 128];
        let mut pb = [0u8; 128];
        assert!(a.public_value(&mut pa));
        assert!(b.public_value(&mut pb));
        assert_eq!(a.shared_secret(&pb).unwrap(), b.shared_secret(&pa).unwrap());
        assert_eq!(a.shared_secret(&pb[..127]).err(), Some(DhError::BadLength));
        let mut one = [0u8; 128];
        one[127] = 1;
        assert_eq!(a.shared_secret(&one).err(), Some(DhError::OutOfRange));
        assert_eq!(
            a.shared_secret(&[0u8; 128]).err(),
            Some(DhError::OutOfRange)
        );
        assert_eq!(
            a.shared_secret(&[0xffu8; 128]).err(),
            Some(DhError::OutOfRange)
        );
        let mut p_minus_1 = hex!(
            "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF"
        );
        p_minus_1[127] -= 1;
        assert_eq!(a.shared_secret(&p_minus_1).err(), Some(DhError::OutOfRange));
        assert!(!a.public_value(&mut [0u8; 127]));
        assert!(DhPrivate::from_exponent(g, &[1u8; 33]).is_none());
    }

    #[test]
    fn ike_values() {
        for g in [
            DhGroup::Modp768,
            DhGroup::Modp1024,
            DhGroup::Modp1536,
            DhGroup::Modp2048,
        ] {
            assert_eq!(DhGroup::from_ike_value(g.ike_value()), Some(g));
        }
        assert_eq!(DhGroup::from_ike_value(19), None);
    }
}
