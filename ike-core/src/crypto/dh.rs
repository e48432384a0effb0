//! Diffie-Hellman over the MODP groups of IKEv1 (RFC 2409 §6.1-6.2,
//! RFC 3526 §2-3), in constant time on crypto-bigint, and over the NIST
//! curves P-256 and P-384 (RFC 5903, groups 19 and 20) with the RustCrypto
//! `p256`/`p384` arithmetic.
//!
//! The exponentiation is `FixedMontyForm::pow_bounded_exp`: a fixed-window
//! ladder whose memory accesses and operation sequence depend only on the
//! number of exponent bits, which is public (the size this module draws).
//! The Montgomery parameters of each prime are computed at compile time.
//!
//! For the ECP groups (RFC 5903 §7) the KE payload is `x | y` of the public
//! point, each coordinate as long as the field (64 octets for P-256, 96 for
//! P-384), without the SEC1 `04` prefix; the shared secret is the `x`
//! coordinate of the shared point (32 or 48 octets). A peer's point must be
//! on the curve (which excludes the identity, as it has no affine
//! coordinates).

use super::Secret;
use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{Odd, U384, U768, U1024, U1536, U2048, Uint};
use elliptic_curve::CurveGroup;
use elliptic_curve::point::AffineCoordinates;
use elliptic_curve::sec1::{FromSec1Point, ToSec1Point};
use p256::elliptic_curve;
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

/// A Diffie-Hellman group (IKE Group Description, RFC 2409 Appendix A;
/// RFC 5903 §6 for the ECP groups).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub enum DhGroup {
    /// Group 1, 768-bit MODP (RFC 2409 §6.1). Weak: negotiated only when a
    /// policy names it explicitly.
    Modp768 = 1,
    /// Group 2, 1024-bit MODP (RFC 2409 §6.2).
    Modp1024,
    /// Group 5, 1536-bit MODP (RFC 3526 §2).
    Modp1536,
    /// Group 14, 2048-bit MODP (RFC 3526 §3).
    Modp2048,
    /// Group 19, 256-bit random ECP group, NIST P-256 (RFC 5903 §3.1).
    Ecp256,
    /// Group 20, 384-bit random ECP group, NIST P-384 (RFC 5903 §3.2).
    Ecp384,
}

/// Feature `modp-only`: groups 19 and 20 (ECP) are compiled out.
const MODP_ONLY: bool = cfg!(feature = "modp-only");

impl DhGroup {
    /// The IKE Group Description value.
    pub const fn ike_value(self) -> u16 {
        match self {
            Self::Modp768 => 1,
            Self::Modp1024 => 2,
            Self::Modp1536 => 5,
            Self::Modp2048 => 14,
            Self::Ecp256 => 19,
            Self::Ecp384 => 20,
        }
    }

    /// From the IKE Group Description value, if supported.
    pub const fn from_ike_value(v: u16) -> Option<Self> {
        match v {
            1 => Some(Self::Modp768),
            2 => Some(Self::Modp1024),
            5 => Some(Self::Modp1536),
            14 => Some(Self::Modp2048),
            // Feature `modp-only`: the ECP groups are compiled out and
            // offers of them are not recognised.
            19 if !MODP_ONLY => Some(Self::Ecp256),
            20 if !MODP_ONLY => Some(Self::Ecp384),
            _ => None,
        }
    }

    /// The prime of a MODP group, as big-endian hex (RFC 2409 §6,
    /// RFC 3526); the field prime for the ECP groups (RFC 5903 §3).
    pub const fn prime_hex(self) -> &'static str {
        match self {
            Self::Modp768 => P768,
            Self::Modp1024 => P1024,
            Self::Modp1536 => P1536,
            Self::Modp2048 => P2048,
            Self::Ecp256 => "FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF",
            Self::Ecp384 => {
                "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFFFF0000000000000000FFFFFFFF"
            }
        }
    }

    /// Whether this is an elliptic-curve group (RFC 5903).
    pub const fn is_ecp(self) -> bool {
        matches!(self, Self::Ecp256 | Self::Ecp384)
    }

    /// Length of a public value (the KE payload data): the length of the
    /// prime for MODP (RFC 2409 §5: public values are padded to it), `x | y`
    /// for ECP (RFC 5903 §7).
    pub const fn public_len(self) -> usize {
        match self {
            Self::Modp768 => 96,
            Self::Modp1024 => 128,
            Self::Modp1536 => 192,
            Self::Modp2048 => 256,
            Self::Ecp256 => 64,
            Self::Ecp384 => 96,
        }
    }

    /// Length of the shared secret g^xy: the prime's for MODP, the `x`
    /// coordinate's for ECP (RFC 5903 §7).
    pub const fn shared_len(self) -> usize {
        match self {
            Self::Ecp256 => 32,
            Self::Ecp384 => 48,
            g => g.public_len(),
        }
    }

    /// Size of the private exponent in bits: at least twice the strength
    /// estimated for the group (RFC 3526 §8: 180-240 bits for 1536, 220-320
    /// for 2048), rounded up; for ECP the size of the group order (the
    /// scalar is drawn uniformly below it).
    pub const fn exponent_bits(self) -> u32 {
        match self {
            Self::Modp768 | Self::Modp1024 | Self::Modp1536 | Self::Ecp256 => 256,
            Self::Modp2048 => 320,
            Self::Ecp384 => 384,
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
    /// (NIST SP 800-56A §5.6.2.3.1 partial validation); for ECP, a point
    /// that is not on the curve (SP 800-56A §5.6.2.3.4).
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
    ///
    /// For ECP the scalar is drawn by rejection sampling: uniform in
    /// 1..n-1 (FIPS 186-5 A.2.2), never zero.
    pub fn generate(group: DhGroup, rng: &mut impl CryptoRng) -> Self {
        let n = usize::try_from(group.exponent_bits() / 8).unwrap_or(MAX_EXP_LEN);
        let mut bytes = [0u8; MAX_EXP_LEN];
        loop {
            rng.fill_bytes(&mut bytes[..n]);
            // `modp-only`: an ECP group gets a MODP-style draw (any use of
            // it then fails: `public_value` and `shared_secret` refuse it)
            // instead of rejection sampling that could never end.
            if !group.is_ecp() || MODP_ONLY {
                bytes[0] |= 0x80;
                break;
            }
            if ecp_scalar_ok(group, &bytes[..n]) {
                break;
            }
        }
        let x = Secret::from_slice(&bytes[..n]).unwrap_or_else(Secret::empty);
        bytes.zeroize();
        Self { group, x }
    }

    /// A given exponent (big-endian, at most [`DhGroup::exponent_bits`]
    /// bits), for known-answer tests.
    /// For ECP the scalar must be exactly the order's length and in
    /// 1..n-1.
    pub fn from_exponent(group: DhGroup, x: &[u8]) -> Option<Self> {
        let max = usize::try_from(group.exponent_bits() / 8).ok()?;
        if x.len() > max {
            return None;
        }
        if group.is_ecp() && (x.len() != max || !ecp_scalar_ok(group, x)) {
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
        match self.group {
            DhGroup::Ecp256 if !MODP_ONLY => {
                return ecp_public::<p256::NistP256>(self.x.as_slice(), out);
            }
            DhGroup::Ecp384 if !MODP_ONLY => {
                return ecp_public::<p384::NistP384>(self.x.as_slice(), out);
            }
            _ => {}
        }
        let mut e = self.exponent();
        let bits = self.group.exponent_bits();
        let ok = match self.group {
            DhGroup::Modp768 => pow_g(&PARAMS_768, &e, bits, out),
            DhGroup::Modp1024 => pow_g(&PARAMS_1024, &e, bits, out),
            DhGroup::Modp1536 => pow_g(&PARAMS_1536, &e, bits, out),
            DhGroup::Modp2048 => pow_g(&PARAMS_2048, &e, bits, out),
            DhGroup::Ecp256 | DhGroup::Ecp384 => false,
        };
        e.zeroize();
        ok
    }

    /// The shared secret g^xy = peer^x mod p, as many octets as the prime;
    /// for ECP the `x` coordinate of x·peer (RFC 5903 §7).
    ///
    /// # Errors
    /// [`DhError`] for a public value of the wrong length or out of range
    /// (not on the curve).
    pub fn shared_secret(&self, peer: &[u8]) -> Result<Secret<MAX_DH_LEN>, DhError> {
        match self.group {
            DhGroup::Ecp256 if !MODP_ONLY => {
                return ecp_shared::<p256::NistP256>(self.x.as_slice(), peer);
            }
            DhGroup::Ecp384 if !MODP_ONLY => {
                return ecp_shared::<p384::NistP384>(self.x.as_slice(), peer);
            }
            _ => {}
        }
        let mut e = self.exponent();
        let bits = self.group.exponent_bits();
        let r = match self.group {
            DhGroup::Modp768 => pow_peer(&PARAMS_768, peer, &e, bits),
            DhGroup::Modp1024 => pow_peer(&PARAMS_1024, peer, &e, bits),
            DhGroup::Modp1536 => pow_peer(&PARAMS_1536, peer, &e, bits),
            DhGroup::Modp2048 => pow_peer(&PARAMS_2048, peer, &e, bits),
            DhGroup::Ecp256 | DhGroup::Ecp384 => Err(DhError::BadLength),
        };
        e.zeroize();
        r
    }
}

/// Whether `bytes` is a valid scalar of the curve of `group`: 1..n-1.
fn ecp_scalar_ok(group: DhGroup, bytes: &[u8]) -> bool {
    match group {
        DhGroup::Ecp256 if !MODP_ONLY => ecp_scalar::<p256::NistP256>(bytes).is_some(),
        DhGroup::Ecp384 if !MODP_ONLY => ecp_scalar::<p384::NistP384>(bytes).is_some(),
        _ => false,
    }
}

fn ecp_scalar<C>(bytes: &[u8]) -> Option<elliptic_curve::NonZeroScalar<C>>
where
    C: elliptic_curve::CurveArithmetic,
{
    let repr = elliptic_curve::FieldBytes::<C>::try_from(bytes).ok()?;
    elliptic_curve::NonZeroScalar::<C>::from_repr(repr).into_option()
}

/// `x | y` of d·G into `out` (RFC 5903 §7).
fn ecp_public<C>(d: &[u8], out: &mut [u8]) -> bool
where
    C: elliptic_curve::CurveArithmetic,
    elliptic_curve::FieldBytesSize<C>: elliptic_curve::sec1::ModulusSize,
    elliptic_curve::AffinePoint<C>: ToSec1Point<C>,
{
    let Some(d) = ecp_scalar::<C>(d) else {
        return false;
    };
    let p = elliptic_curve::PublicKey::<C>::from_secret_scalar(&d);
    let enc = p.as_affine().to_sec1_point(false);
    // Uncompressed SEC1: 04 | x | y.
    match enc.as_bytes().get(1..) {
        Some(xy) if xy.len() == out.len() => {
            out.copy_from_slice(xy);
            true
        }
        _ => false,
    }
}

/// The `x` coordinate of d·peer, `peer` being `x | y` (RFC 5903 §7).
fn ecp_shared<C>(d: &[u8], peer: &[u8]) -> Result<Secret<MAX_DH_LEN>, DhError>
where
    C: elliptic_curve::CurveArithmetic,
    elliptic_curve::FieldBytesSize<C>: elliptic_curve::sec1::ModulusSize,
    elliptic_curve::AffinePoint<C>: FromSec1Point<C> + ToSec1Point<C>,
{
    let field = peer.len() / 2;
    if !peer.len().is_multiple_of(2) || field == 0 || field > MAX_DH_LEN / 2 {
        return Err(DhError::BadLength);
    }
    let mut sec1 = [0u8; 1 + 2 * 66];
    let n = 1 + peer.len();
    let Some(dst) = sec1.get_mut(..n) else {
        return Err(DhError::BadLength);
    };
    dst[0] = 0x04;
    dst[1..].copy_from_slice(peer);
    // On-curve check (and the length against the curve) happen here; the
    // identity has no uncompressed encoding.
    let q = elliptic_curve::PublicKey::<C>::from_sec1_bytes(dst).map_err(|_| {
        if peer.len() == 2 * size_of::<elliptic_curve::FieldBytes<C>>() {
            DhError::OutOfRange
        } else {
            DhError::BadLength
        }
    })?;
    let d = ecp_scalar::<C>(d).ok_or(DhError::OutOfRange)?;
    let z = (q.to_projective() * *d).to_affine();
    let x = z.x();
    Secret::from_slice(x.as_ref()).ok_or(DhError::BadLength)
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

    /// The ECP groups are recognised unless `modp-only` compiles them out;
    /// then an ECP exponent is still drawn (no endless rejection sampling)
    /// and refused at use.
    #[test]
    fn ecp_groups_follow_the_modp_only_feature() {
        use rand_chacha::ChaCha20Rng;
        use rand_core::SeedableRng;
        assert_eq!(DhGroup::from_ike_value(19).is_some(), !MODP_ONLY);
        assert_eq!(DhGroup::from_ike_value(20).is_some(), !MODP_ONLY);
        assert_eq!(DhGroup::from_ike_value(14), Some(DhGroup::Modp2048));
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let x = DhPrivate::generate(DhGroup::Ecp256, &mut rng);
        let mut out = [0u8; 64];
        assert_eq!(x.public_value(&mut out), !MODP_ONLY);
    }
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
        assert_eq!(DhGroup::from_ike_value(19), Some(DhGroup::Ecp256));
        assert_eq!(DhGroup::from_ike_value(20), Some(DhGroup::Ecp384));
        assert_eq!(DhGroup::from_ike_value(21), None);
    }

    // RFC 5903 §8.1 (256-bit random ECP group): i, g^i = (gix, giy),
    // g^r = (grx, gry), and g^ir's x coordinate (girx) is the shared
    // secret (§7).
    #[test]
    fn rfc5903_p256() {
        let i = hex!("C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433");
        let gi = hex!(
            "DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180"
            "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3"
        );
        let gr = hex!(
            "D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63"
            "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB"
        );
        let gir = hex!("D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE");
        let a = DhPrivate::from_exponent(DhGroup::Ecp256, &i).unwrap();
        let mut pa = [0u8; 64];
        assert!(a.public_value(&mut pa));
        assert_eq!(pa, gi);
        assert_eq!(a.shared_secret(&gr).unwrap().as_slice(), gir);
    }

    // RFC 5903 §8.2 (384-bit random ECP group): i, g^r and girx.
    #[test]
    fn rfc5903_p384() {
        let i = hex!(
            "099F3C7034D4A2C699884D73A375A67F7624EF7C6B3C0F160647B67414DCE655"
            "E35B538041E649EE3FAEF896783AB194"
        );
        let gr = hex!(
            "E558DBEF53EECDE3D3FCCFC1AEA08A89A987475D12FD950D83CFA41732BC509D"
            "0D1AC43A0336DEF96FDA41D0774A3571DCFBEC7AACF3196472169E838430367F"
            "66EEBE3C6E70C416DD5F0C68759DD1FFF83FA40142209DFF5EAAD96DB9E6386C"
        );
        let gir = hex!(
            "11187331C279962D93D604243FD592CB9D0A926F422E47187521287E7156C5C4"
            "D603135569B9E9D09CF5D4A270F59746"
        );
        let a = DhPrivate::from_exponent(DhGroup::Ecp384, &i).unwrap();
        assert_eq!(a.shared_secret(&gr).unwrap().as_slice(), gir);
        assert_eq!(DhGroup::Ecp384.shared_len(), 48);
    }

    #[test]
    fn ecp_pairs_agree_and_bad_points_are_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(19);
        for g in [DhGroup::Ecp256, DhGroup::Ecp384] {
            let n = g.public_len();
            let a = DhPrivate::generate(g, &mut rng);
            let b = DhPrivate::generate(g, &mut rng);
            let mut pa = [0u8; 96];
            let mut pb = [0u8; 96];
            assert!(a.public_value(&mut pa[..n]));
            assert!(b.public_value(&mut pb[..n]));
            let s = a.shared_secret(&pb[..n]).unwrap();
            assert_eq!(s, b.shared_secret(&pa[..n]).unwrap());
            assert_eq!(s.len(), g.shared_len());
            // Off the curve: one bit of y flipped.
            let mut bad = pb;
            bad[n - 1] ^= 1;
            assert_eq!(a.shared_secret(&bad[..n]).err(), Some(DhError::OutOfRange));
            // The "point at infinity" as zeros is not on the curve either.
            assert_eq!(
                a.shared_secret(&[0u8; 96][..n]).err(),
                Some(DhError::OutOfRange)
            );
            assert_eq!(
                a.shared_secret(&pb[..n - 1]).err(),
                Some(DhError::BadLength)
            );
            assert!(!a.public_value(&mut pa[..n - 1]));
        }
        // Scalars out of range are refused: zero and the group order.
        assert!(DhPrivate::from_exponent(DhGroup::Ecp256, &[0u8; 32]).is_none());
        let order = hex!("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
        assert!(DhPrivate::from_exponent(DhGroup::Ecp256, &order).is_none());
    }
}
