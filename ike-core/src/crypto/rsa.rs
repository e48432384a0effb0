//! RSA for IKEv1 signature authentication (RFC 2409 §5.1) and X.509
//! certificate signatures (RFC 8017), on crypto-bigint without an
//! allocator: 2048-, 3072- and 4096-bit moduli (any length from 2048 to
//! 4096 bits).
//!
//! * The public operation `s^e mod n` runs in variable time: everything in
//!   it is public.
//! * The private operation uses the Chinese Remainder Theorem (RFC 8017
//!   §5.1.2, 2.b): two exponentiations modulo the primes, each a
//!   crypto-bigint `FixedMontyForm` exponentiation whose operation sequence
//!   depends only on the (public) size of the exponent, with Montgomery
//!   parameters computed in constant time. The result is checked with the
//!   public exponent before it leaves, so that a fault in one half cannot
//!   leak a factor (the Bellcore attack).
//!
//! Padding is EMSA-PKCS1-v1_5 (RFC 8017 §9.2). For the IKE SIG payload it
//! is applied to HASH_I/HASH_R directly, without a DigestInfo: that is
//! what strongSwan (`SIGN_RSA_EMSA_PKCS1_NULL` in its IKEv1 authenticator),
//! Windows and the appliance produce and expect. Certificate signatures use
//! the DigestInfo of their hash (RFC 8017 §9.2 note 1).

use super::Secret;
use crate::cert::der::{Reader, tag};
use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{NonZero, Odd, U1024, U1536, U2048, U3072, U4096, Uint};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// Largest modulus in octets (4096 bits).
pub const MAX_RSA_LEN: usize = 512;
/// Smallest modulus in octets (2048 bits).
pub const MIN_RSA_LEN: usize = 256;
/// Largest CRT component (a prime, an exponent modulo a prime) in octets.
const MAX_HALF: usize = MAX_RSA_LEN / 2;
/// Largest public exponent in octets.
const MAX_E_LEN: usize = 8;

/// Why an RSA key or signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RsaError {
    /// The key's encoding is not what RFC 8017 Appendix A.1 says.
    Malformed,
    /// A modulus outside 2048..=4096 bits, an even modulus, or a public
    /// exponent below 3, even, or above 64 bits.
    UnsupportedKey,
    /// The signature is not the modulus' length, or not below it.
    BadSignature,
    /// The output buffer is not the modulus' length.
    BufferSize,
}

/// An RSA public key: modulus and exponent, big-endian without leading
/// zeros, borrowed from a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RsaPublicKey<'a> {
    n: &'a [u8],
    e: &'a [u8],
}

impl<'a> RsaPublicKey<'a> {
    /// A public key from its modulus and exponent (big-endian; leading
    /// zeros are ignored).
    ///
    /// # Errors
    /// [`RsaError::UnsupportedKey`].
    pub fn new(n: &'a [u8], e: &'a [u8]) -> Result<Self, RsaError> {
        let n = strip(n);
        let e = strip(e);
        let odd = |v: &[u8]| v.last().is_some_and(|b| b & 1 == 1);
        if !(MIN_RSA_LEN..=MAX_RSA_LEN).contains(&n.len())
            || !odd(n)
            || e.is_empty()
            || e.len() > MAX_E_LEN
            || !odd(e)
            || e == [1]
        {
            return Err(RsaError::UnsupportedKey);
        }
        Ok(Self { n, e })
    }

    /// Reads an RSAPublicKey (RFC 8017 Appendix A.1.1): SEQUENCE { n, e }.
    ///
    /// # Errors
    /// [`RsaError::Malformed`] or [`RsaError::UnsupportedKey`].
    pub fn from_der(der: &'a [u8]) -> Result<Self, RsaError> {
        let mut outer = Reader::new(der);
        let mut r = outer.sequence().map_err(|_| RsaError::Malformed)?;
        let n = r.unsigned().map_err(|_| RsaError::Malformed)?;
        let e = r.unsigned().map_err(|_| RsaError::Malformed)?;
        r.finish().map_err(|_| RsaError::Malformed)?;
        outer.finish().map_err(|_| RsaError::Malformed)?;
        Self::new(n, e)
    }

    /// The modulus (no leading zeros).
    pub fn modulus(&self) -> &'a [u8] {
        self.n
    }

    /// Length of the modulus (and of a signature) in octets.
    pub fn len(&self) -> usize {
        self.n.len()
    }

    /// Always `false`: a key has a modulus.
    pub fn is_empty(&self) -> bool {
        self.n.is_empty()
    }

    /// RSAVP1 (RFC 8017 §5.2.2): `out = sig^e mod n`; `sig` and `out` must
    /// be the modulus' length.
    ///
    /// # Errors
    /// [`RsaError::BadSignature`] for a signature of the wrong length or
    /// not below the modulus, [`RsaError::BufferSize`].
    pub fn public_op(&self, sig: &[u8], out: &mut [u8]) -> Result<(), RsaError> {
        let k = self.n.len();
        if sig.len() != k {
            return Err(RsaError::BadSignature);
        }
        if out.len() != k {
            return Err(RsaError::BufferSize);
        }
        match k {
            0..=256 => public_op::<{ U2048::LIMBS }>(self.n, self.e, sig, out),
            257..=384 => public_op::<{ U3072::LIMBS }>(self.n, self.e, sig, out),
            _ => public_op::<{ U4096::LIMBS }>(self.n, self.e, sig, out),
        }
    }

    /// RSASSA-PKCS1-v1_5 verification (RFC 8017 §8.2.2) of `sig` over a
    /// message whose encoded digest `T` is `prefix | digest` (`prefix` the
    /// DigestInfo header, or empty for IKE's signatures over HASH_I and
    /// HASH_R).
    pub fn verify_pkcs1v15(&self, prefix: &[u8], digest: &[u8], sig: &[u8]) -> bool {
        let k = self.n.len();
        let mut em = [0u8; MAX_RSA_LEN];
        let mut expected = [0u8; MAX_RSA_LEN];
        if self.public_op(sig, &mut em[..k]).is_err() {
            return false;
        }
        if !emsa_pkcs1v15(prefix, digest, &mut expected[..k]) {
            return false;
        }
        em[..k] == expected[..k]
    }
}

/// EMSA-PKCS1-v1_5 (RFC 8017 §9.2): `00 01 FF..FF 00 | prefix | digest`
/// filling `out`, with at least 8 octets of `FF`.
fn emsa_pkcs1v15(prefix: &[u8], digest: &[u8], out: &mut [u8]) -> bool {
    let t = prefix.len() + digest.len();
    let Some(ps) = out.len().checked_sub(t + 3) else {
        return false;
    };
    if ps < 8 {
        return false;
    }
    out[0] = 0;
    out[1] = 1;
    out[2..2 + ps].fill(0xff);
    out[2 + ps] = 0;
    out[3 + ps..3 + ps + prefix.len()].copy_from_slice(prefix);
    out[3 + ps + prefix.len()..].copy_from_slice(digest);
    true
}

fn strip(v: &[u8]) -> &[u8] {
    let z = v.iter().take_while(|b| **b == 0).count();
    &v[z..]
}

fn uint<const L: usize>(v: &[u8]) -> Option<Uint<L>> {
    let mut buf = [0u8; MAX_RSA_LEN];
    let n = Uint::<L>::BYTES;
    let at = n.checked_sub(v.len())?;
    let dst = buf.get_mut(..n)?;
    dst[at..].copy_from_slice(v);
    let u = Uint::<L>::from_be_slice(dst);
    buf.zeroize();
    Some(u)
}

fn write_tail<const L: usize>(v: &Uint<L>, out: &mut [u8]) -> bool {
    let enc = v.to_be_bytes();
    let b = enc.as_ref();
    let Some(at) = b.len().checked_sub(out.len()) else {
        return false;
    };
    // What does not fit must be zero (the value is below the modulus).
    if b[..at].iter().any(|x| *x != 0) {
        return false;
    }
    out.copy_from_slice(&b[at..]);
    true
}

fn public_op<const L: usize>(
    n: &[u8],
    e: &[u8],
    sig: &[u8],
    out: &mut [u8],
) -> Result<(), RsaError> {
    let nn = uint::<L>(n).ok_or(RsaError::UnsupportedKey)?;
    let s = uint::<L>(sig).ok_or(RsaError::BadSignature)?;
    if s >= nn {
        return Err(RsaError::BadSignature);
    }
    let odd = Option::<Odd<Uint<L>>>::from(Odd::new(nn)).ok_or(RsaError::UnsupportedKey)?;
    let params = FixedMontyParams::new_vartime(odd);
    let ee = uint::<L>(e).ok_or(RsaError::UnsupportedKey)?;
    let bits = u32::try_from(e.len() * 8).unwrap_or(64);
    let m = FixedMontyForm::new(&s, &params)
        .pow_bounded_exp(&ee, bits)
        .retrieve();
    if write_tail(&m, out) {
        Ok(())
    } else {
        Err(RsaError::BufferSize)
    }
}

/// An RSA private key in CRT form (RFC 8017 §3.2, second representation);
/// zeroized on drop, never printed.
#[derive(Clone)]
pub struct RsaPrivateKey {
    n: heapless::Vec<u8, MAX_RSA_LEN>,
    e: heapless::Vec<u8, MAX_E_LEN>,
    p: Secret<MAX_HALF>,
    q: Secret<MAX_HALF>,
    dp: Secret<MAX_HALF>,
    dq: Secret<MAX_HALF>,
    qinv: Secret<MAX_HALF>,
}

impl core::fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "RsaPrivateKey({} bits)", self.n.len() * 8)
    }
}

impl PartialEq for RsaPrivateKey {
    fn eq(&self, other: &Self) -> bool {
        self.n == other.n && self.p == other.p && self.q == other.q
    }
}

impl Eq for RsaPrivateKey {}

impl RsaPrivateKey {
    /// Reads a private key: an RSAPrivateKey (PKCS #1, RFC 8017 Appendix
    /// A.1.2, two primes) or a PrivateKeyInfo wrapping one (PKCS #8,
    /// RFC 5208 §5, what `openssl genpkey` writes).
    ///
    /// # Errors
    /// [`RsaError::Malformed`], or [`RsaError::UnsupportedKey`] for a
    /// multi-prime key or a size outside 2048..=4096 bits.
    pub fn from_der(der: &[u8]) -> Result<Self, RsaError> {
        let m = |_| RsaError::Malformed;
        let mut outer = Reader::new(der);
        let mut r = outer.sequence().map_err(m)?;
        outer.finish().map_err(m)?;
        let version = r.unsigned().map_err(m)?;
        if r.peek_tag() == Some(tag::SEQUENCE) {
            // PKCS #8: version 0, AlgorithmIdentifier rsaEncryption, the
            // key in an OCTET STRING.
            let mut alg = r.sequence().map_err(m)?;
            if alg.expect(tag::OID).map_err(m)?.value != crate::cert::x509::OID_RSA_ENCRYPTION {
                return Err(RsaError::UnsupportedKey);
            }
            let inner = r.expect(tag::OCTET_STRING).map_err(m)?;
            return Self::from_der(inner.value);
        }
        if !version.is_empty() {
            return Err(RsaError::UnsupportedKey);
        }
        let n = r.unsigned().map_err(m)?;
        let e = r.unsigned().map_err(m)?;
        let _d = r.unsigned().map_err(m)?;
        let p = r.unsigned().map_err(m)?;
        let q = r.unsigned().map_err(m)?;
        let dp = r.unsigned().map_err(m)?;
        let dq = r.unsigned().map_err(m)?;
        let qinv = r.unsigned().map_err(m)?;
        r.finish().map_err(m)?;
        RsaPublicKey::new(n, e)?;
        let half = |v: &[u8]| Secret::<MAX_HALF>::from_slice(v).ok_or(RsaError::UnsupportedKey);
        let key = Self {
            n: heapless::Vec::from_slice(n).map_err(|_| RsaError::UnsupportedKey)?,
            e: heapless::Vec::from_slice(e).map_err(|_| RsaError::UnsupportedKey)?,
            p: half(p)?,
            q: half(q)?,
            dp: half(dp)?,
            dq: half(dq)?,
            qinv: half(qinv)?,
        };
        // A key whose halves do not make a working signature is refused
        // now rather than at the first handshake.
        let mut probe = [0u8; MAX_RSA_LEN];
        let k = key.len();
        probe[k - 1] = 2;
        let mut sig = [0u8; MAX_RSA_LEN];
        key.raw_sign(&probe[..k], &mut sig[..k])
            .map_err(|_| RsaError::Malformed)?;
        Ok(key)
    }

    /// The public half.
    pub fn public_key(&self) -> RsaPublicKey<'_> {
        RsaPublicKey {
            n: &self.n,
            e: &self.e,
        }
    }

    /// Length of the modulus (and of a signature) in octets.
    pub fn len(&self) -> usize {
        self.n.len()
    }

    /// Always `false`: a key has a modulus.
    pub fn is_empty(&self) -> bool {
        self.n.is_empty()
    }

    /// RSASSA-PKCS1-v1_5 signature (RFC 8017 §8.2.1) with `T = prefix |
    /// digest` into `out` (the modulus' length).
    ///
    /// # Errors
    /// [`RsaError::BufferSize`] for a wrong `out` or a digest too long for
    /// the key; [`RsaError::Malformed`] if the CRT result does not verify.
    pub fn sign_pkcs1v15(
        &self,
        prefix: &[u8],
        digest: &[u8],
        out: &mut [u8],
    ) -> Result<(), RsaError> {
        let k = self.len();
        if out.len() != k {
            return Err(RsaError::BufferSize);
        }
        let mut em = [0u8; MAX_RSA_LEN];
        if !emsa_pkcs1v15(prefix, digest, &mut em[..k]) {
            return Err(RsaError::BufferSize);
        }
        self.raw_sign(&em[..k], out)
    }

    /// RSASP1 with CRT (RFC 8017 §5.2.1), checked with RSAVP1.
    fn raw_sign(&self, m: &[u8], out: &mut [u8]) -> Result<(), RsaError> {
        let k = self.len();
        let half = self.p.len().max(self.q.len());
        let r = match k.max(2 * half) {
            0..=256 => crt::<{ U2048::LIMBS }, { U1024::LIMBS }>(self, m, out),
            257..=384 => crt::<{ U3072::LIMBS }, { U1536::LIMBS }>(self, m, out),
            385..=512 => crt::<{ U4096::LIMBS }, { U2048::LIMBS }>(self, m, out),
            _ => Err(RsaError::UnsupportedKey),
        };
        r?;
        let mut check = [0u8; MAX_RSA_LEN];
        self.public_key().public_op(out, &mut check[..k])?;
        if bool::from(check[..k].ct_eq(m)) {
            Ok(())
        } else {
            out.zeroize();
            Err(RsaError::Malformed)
        }
    }
}

/// The CRT private operation with the modulus in `L` limbs and the primes
/// in `H` limbs.
fn crt<const L: usize, const H: usize>(
    key: &RsaPrivateKey,
    m: &[u8],
    out: &mut [u8],
) -> Result<(), RsaError> {
    let bad = RsaError::UnsupportedKey;
    let mut mm = uint::<L>(m).ok_or(bad)?;
    let mut p = uint::<H>(key.p.as_slice()).ok_or(bad)?;
    let mut q = uint::<H>(key.q.as_slice()).ok_or(bad)?;
    let mut dp = uint::<H>(key.dp.as_slice()).ok_or(bad)?;
    let mut dq = uint::<H>(key.dq.as_slice()).ok_or(bad)?;
    let mut qinv = uint::<H>(key.qinv.as_slice()).ok_or(bad)?;
    let p_odd = Option::<Odd<Uint<H>>>::from(Odd::new(p)).ok_or(bad)?;
    let q_odd = Option::<Odd<Uint<H>>>::from(Odd::new(q)).ok_or(bad)?;
    let p_wide = Option::<NonZero<Uint<L>>>::from(NonZero::new(p.resize::<L>())).ok_or(bad)?;
    let q_wide = Option::<NonZero<Uint<L>>>::from(NonZero::new(q.resize::<L>())).ok_or(bad)?;
    let pp = FixedMontyParams::new(p_odd);
    let qp = FixedMontyParams::new(q_odd);
    let bits = Uint::<H>::BITS;
    // m1 = m^dp mod p, m2 = m^dq mod q.
    let mut mp = mm.rem(&p_wide).resize::<H>();
    let mut mq = mm.rem(&q_wide).resize::<H>();
    let m1 = FixedMontyForm::new(&mp, &pp).pow_bounded_exp(&dp, bits);
    let mut m2 = FixedMontyForm::new(&mq, &qp)
        .pow_bounded_exp(&dq, bits)
        .retrieve();
    // h = qinv (m1 - m2) mod p; s = m2 + h q.
    let mut m2p = m2.resize::<L>().rem(&p_wide).resize::<H>();
    let diff = m1.sub(&FixedMontyForm::new(&m2p, &pp));
    let mut h = diff.mul(&FixedMontyForm::new(&qinv, &pp)).retrieve();
    let mut s = m2
        .resize::<L>()
        .wrapping_add(&h.resize::<L>().wrapping_mul(&q.resize::<L>()));
    let ok = write_tail(&s, out);
    for v in [
        &mut p, &mut q, &mut dp, &mut dq, &mut qinv, &mut mp, &mut mq, &mut m2, &mut m2p, &mut h,
    ] {
        v.zeroize();
    }
    mm.zeroize();
    s.zeroize();
    if ok {
        Ok(())
    } else {
        Err(RsaError::BufferSize)
    }
}

/// DigestInfo prefixes (RFC 8017 §9.2, note 1) of the hashes certificate
/// signatures use.
pub mod digest_info {
    /// SHA-1.
    pub const SHA1: &[u8] = &[
        0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
    ];
    /// SHA-256.
    pub const SHA256: &[u8] = &[
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ];
    /// SHA-384.
    pub const SHA384: &[u8] = &[
        0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
        0x05, 0x00, 0x04, 0x30,
    ];
    /// SHA-512.
    pub const SHA512: &[u8] = &[
        0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
        0x05, 0x00, 0x04, 0x40,
    ];
}
