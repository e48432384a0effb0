//! Key derivation and the authenticating hashes of RFC 2409.

use super::{CipherAlg, Digest64, HashAlg, MAX_BLOCK_LEN, MAX_KEY_LEN, Secret};
use core::net::SocketAddr;

/// SKEYID for pre-shared keys: prf(pre-shared-key, Ni_b | Nr_b)
/// (RFC 2409 §5).
pub fn skeyid_psk(h: HashAlg, psk: &[u8], ni_b: &[u8], nr_b: &[u8]) -> Digest64 {
    h.prf(psk, &[ni_b, nr_b])
}

/// SKEYID for signatures: prf(Ni_b | Nr_b, g^xy) (RFC 2409 §5).
pub fn skeyid_signature(h: HashAlg, ni_b: &[u8], nr_b: &[u8], gxy: &[u8]) -> Digest64 {
    let mut key = Secret::<{ 2 * crate::state::MAX_NONCE }>::empty();
    if !key.extend(ni_b) || !key.extend(nr_b) {
        return Digest64::empty();
    }
    h.prf(key.as_slice(), &[gxy])
}

/// The keys of an ISAKMP SA (RFC 2409 §5).
#[derive(Debug, Clone)]
pub struct Phase1Keys {
    /// SKEYID_d: keying material for non-ISAKMP SAs.
    pub skeyid_d: Digest64,
    /// SKEYID_a: the key of the phase 2 and Informational hashes.
    pub skeyid_a: Digest64,
    /// SKEYID_e: the source of the encryption key.
    pub skeyid_e: Digest64,
    /// The encryption key, SKEYID_e expanded as Appendix B when needed.
    pub ka: Secret<MAX_KEY_LEN>,
}

impl Phase1Keys {
    /// Derives SKEYID_d, SKEYID_a, SKEYID_e (RFC 2409 §5) and Ka
    /// (Appendix B) from SKEYID.
    ///
    /// SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
    /// SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
    /// SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
    pub fn derive(
        h: HashAlg,
        skeyid: &[u8],
        gxy: &[u8],
        cky_i: &[u8; 8],
        cky_r: &[u8; 8],
        cipher: CipherAlg,
    ) -> Self {
        let skeyid_d = h.prf(skeyid, &[gxy, cky_i, cky_r, &[0]]);
        let skeyid_a = h.prf(skeyid, &[skeyid_d.as_slice(), gxy, cky_i, cky_r, &[1]]);
        let skeyid_e = h.prf(skeyid, &[skeyid_a.as_slice(), gxy, cky_i, cky_r, &[2]]);
        let ka = appendix_b_expand(h, skeyid_e.as_slice(), cipher.key_len());
        Self {
            skeyid_d,
            skeyid_a,
            skeyid_e,
            ka,
        }
    }
}

/// The encryption key from SKEYID_e (RFC 2409 Appendix B): its first
/// `key_len` octets when it is long enough, otherwise
/// K1 | K2 | ... with K1 = prf(SKEYID_e, 0) and Kn = prf(SKEYID_e, Kn-1).
pub fn appendix_b_expand(h: HashAlg, skeyid_e: &[u8], key_len: usize) -> Secret<MAX_KEY_LEN> {
    let key_len = key_len.min(MAX_KEY_LEN);
    if skeyid_e.len() >= key_len {
        return Secret::from_slice(&skeyid_e[..key_len]).unwrap_or_else(Secret::empty);
    }
    let mut out = Secret::<{ MAX_KEY_LEN * 3 }>::empty();
    let mut k = h.prf(skeyid_e, &[&[0]]);
    while out.len() < key_len && out.extend(k.as_slice()) {
        k = h.prf(skeyid_e, &[k.as_slice()]);
    }
    out.truncate(key_len);
    Secret::from_slice(out.as_slice()).unwrap_or_else(Secret::empty)
}

/// The IV of the first encrypted phase 1 message: hash(g^xi | g^xr)
/// truncated to the block size (RFC 2409 Appendix B).
pub fn phase1_iv(h: HashAlg, gxi: &[u8], gxr: &[u8], block_len: usize) -> Secret<MAX_BLOCK_LEN> {
    truncate_iv(h.hash(&[gxi, gxr]), block_len)
}

/// The IV of the first message of a Quick Mode or Informational exchange:
/// hash(last phase 1 CBC output block | M-ID) truncated to the block size
/// (RFC 2409 Appendix B).
pub fn phase2_iv(
    h: HashAlg,
    last_phase1_block: &[u8],
    message_id: u32,
    block_len: usize,
) -> Secret<MAX_BLOCK_LEN> {
    truncate_iv(
        h.hash(&[last_phase1_block, &message_id.to_be_bytes()]),
        block_len,
    )
}

fn truncate_iv(d: Digest64, block_len: usize) -> Secret<MAX_BLOCK_LEN> {
    let n = block_len.min(d.len()).min(MAX_BLOCK_LEN);
    Secret::from_slice(&d.as_slice()[..n]).unwrap_or_else(Secret::empty)
}

/// HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)
/// (RFC 2409 §5). `sai_b` is the body of the initiator's SA payload and
/// `idii_b` the body of its ID payload, both without generic headers.
#[allow(clippy::too_many_arguments)]
pub fn hash_i(
    h: HashAlg,
    skeyid: &[u8],
    gxi: &[u8],
    gxr: &[u8],
    cky_i: &[u8; 8],
    cky_r: &[u8; 8],
    sai_b: &[u8],
    idii_b: &[u8],
) -> Digest64 {
    h.prf(skeyid, &[gxi, gxr, cky_i, cky_r, sai_b, idii_b])
}

/// HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)
/// (RFC 2409 §5).
#[allow(clippy::too_many_arguments)]
pub fn hash_r(
    h: HashAlg,
    skeyid: &[u8],
    gxi: &[u8],
    gxr: &[u8],
    cky_i: &[u8; 8],
    cky_r: &[u8; 8],
    sai_b: &[u8],
    idir_b: &[u8],
) -> Digest64 {
    h.prf(skeyid, &[gxr, gxi, cky_r, cky_i, sai_b, idir_b])
}

/// HASH(1) of Quick Mode = prf(SKEYID_a, M-ID | SA | Ni [| KE] [| IDci |
/// IDcr]) (RFC 2409 §5.5): `rest` is every payload after the HASH payload,
/// generic headers included, padding excluded.
pub fn hash_1(h: HashAlg, skeyid_a: &[u8], message_id: u32, rest: &[u8]) -> Digest64 {
    h.prf(skeyid_a, &[&message_id.to_be_bytes(), rest])
}

/// HASH(2) of Quick Mode = prf(SKEYID_a, M-ID | Ni_b | SA | Nr [| KE]
/// [| IDci | IDcr]) (RFC 2409 §5.5).
pub fn hash_2(h: HashAlg, skeyid_a: &[u8], message_id: u32, ni_b: &[u8], rest: &[u8]) -> Digest64 {
    h.prf(skeyid_a, &[&message_id.to_be_bytes(), ni_b, rest])
}

/// HASH(3) of Quick Mode = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)
/// (RFC 2409 §5.5).
pub fn hash_3(h: HashAlg, skeyid_a: &[u8], message_id: u32, ni_b: &[u8], nr_b: &[u8]) -> Digest64 {
    h.prf(skeyid_a, &[&[0], &message_id.to_be_bytes(), ni_b, nr_b])
}

/// The HASH(1) of an Informational exchange = prf(SKEYID_a, M-ID | N/D)
/// (RFC 2409 §5.7).
pub fn informational_hash(h: HashAlg, skeyid_a: &[u8], message_id: u32, rest: &[u8]) -> Digest64 {
    hash_1(h, skeyid_a, message_id, rest)
}

/// Keying material of an IPsec SA, encryption key first, then integrity key.
pub type KeyMaterial = Secret<128>;

/// KEYMAT for one direction (RFC 2409 §5.5): K1 | K2 | ... truncated to
/// `len`, with
/// K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b) and
/// Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b).
/// `spi` is the SPI of that direction's SA (chosen by its receiver);
/// `gxy_qm` is the Quick Mode Diffie-Hellman secret when PFS was used.
#[allow(clippy::too_many_arguments)]
pub fn keymat(
    h: HashAlg,
    skeyid_d: &[u8],
    gxy_qm: Option<&[u8]>,
    protocol: u8,
    spi: &[u8],
    ni_b: &[u8],
    nr_b: &[u8],
    len: usize,
) -> KeyMaterial {
    let g = gxy_qm.unwrap_or(&[]);
    let mut out = KeyMaterial::empty();
    let mut k = h.prf(skeyid_d, &[g, &[protocol], spi, ni_b, nr_b]);
    while out.len() < len && out.extend(k.as_slice()) {
        k = h.prf(skeyid_d, &[k.as_slice(), g, &[protocol], spi, ni_b, nr_b]);
    }
    out.truncate(len);
    out
}

/// A NAT-D hash: HASH(CKY-I | CKY-R | IP | Port) (RFC 3947 §3.2), with the
/// negotiated hash.
pub fn nat_d(h: HashAlg, cky_i: &[u8; 8], cky_r: &[u8; 8], addr: SocketAddr) -> Digest64 {
    let port = addr.port().to_be_bytes();
    match addr {
        SocketAddr::V4(a) => h.hash(&[cky_i, cky_r, &a.ip().octets(), &port]),
        SocketAddr::V6(a) => h.hash(&[cky_i, cky_r, &a.ip().octets(), &port]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    // NIST CAVS 17.3 "IKE v1 Pre-shared Key Authentication", [g^xy length
    // = 256] [SHA-1] [Ni/Nr length = 64] COUNT = 0
    // (../shared/reference/vectors/nist-cavp-ikev1/ikev1_psk.subset.fax; the
    // whole file is run by tests/vectors.rs).
    #[test]
    fn cavp_psk_sha1_count0() {
        let skeyid = skeyid_psk(
            HashAlg::Sha1,
            &hex!("75"),
            &hex!("b9a2d0e922dc66dd"),
            &hex!("2130166863b5ddef"),
        );
        assert_eq!(
            skeyid.as_slice(),
            hex!("62b04d112877e442fc3282fc37c076997718a0b9")
        );
        let k = Phase1Keys::derive(
            HashAlg::Sha1,
            skeyid.as_slice(),
            &hex!("739003ba2c11c982946c65e26acf661fbf8ebb78011a9fead79efa12fe3e71cc"),
            &hex!("83d374c30b3b5082"),
            &hex!("5afc0da06c728029"),
            CipherAlg::Aes128,
        );
        assert_eq!(
            k.skeyid_d.as_slice(),
            hex!("369e5aad1bdb5faf6a3d929d500cdc236710a9ab")
        );
        assert_eq!(
            k.skeyid_a.as_slice(),
            hex!("588e957d8d790d093b3a39f121473473af78e9bb")
        );
        assert_eq!(
            k.skeyid_e.as_slice(),
            hex!("cd74b0c048219db81384d3fda8f6cda51e398a2b")
        );
        // AES-128 needs 16 of SKEYID_e's 20 octets: no expansion.
        assert_eq!(k.ka.as_slice(), &k.skeyid_e.as_slice()[..16]);
    }

    // RFC 2409 Appendix B expansion, checked against the logged Ka of the
    // real session a (AES-256 with HMAC-SHA1: 32 octets from a 20-octet
    // SKEYID_e; captures/l2tp-ipsec/keys.txt).
    #[test]
    fn appendix_b_session_a() {
        let ka = appendix_b_expand(
            HashAlg::Sha1,
            &hex!("2effd4d530de53b31b09bc8a1bb704a0d5022cee"),
            32,
        );
        assert_eq!(
            ka.as_slice(),
            hex!("8eb5d76900271f34e3c30bb206c48ec270e45e1617b3f5a53fa04649bbb80e9c")
        );
        // Session b: 3DES (24 octets) with HMAC-SHA1.
        let ka = appendix_b_expand(
            HashAlg::Sha1,
            &hex!("3e808b289b701aacbea3efad83f8d2ea5f80a1c9"),
            24,
        );
        assert_eq!(
            ka.as_slice(),
            hex!("0b9cca243e0e6d5c590f432467147ad7537b19e24714eeb1")
        );
    }

    #[test]
    fn keymat_lengths() {
        let k = keymat(
            HashAlg::Md5,
            &[1; 16],
            None,
            3,
            &[0, 0, 1, 0],
            &[2; 16],
            &[3; 16],
            40,
        );
        assert_eq!(k.len(), 40);
        let k1 = HashAlg::Md5.prf(&[1; 16], &[&[3], &[0, 0, 1, 0], &[2; 16], &[3; 16]]);
        assert_eq!(&k.as_slice()[..16], k1.as_slice());
        let k2 = HashAlg::Md5.prf(
            &[1; 16],
            &[k1.as_slice(), &[3], &[0, 0, 1, 0], &[2; 16], &[3; 16]],
        );
        assert_eq!(&k.as_slice()[16..32], k2.as_slice());
    }
}
