//! The computations of CHAP-MD5 (RFC 1994 §4.1), MS-CHAP (RFC 2433
//! Appendix A) and MS-CHAP-V2 (RFC 2759 §8), and verifier helpers for a
//! local user database that stores only NT password hashes.
//!
//! All are pure functions. Every secret lives in a type that is zeroized on
//! drop ([`NtHash`], [`zeroize::Zeroizing`]); every comparison of a
//! response is constant-time ([`subtle`]).
//!
//! CHAP-MD5 needs the cleartext password, so with an NT-hash database it can
//! only be verified by a RADIUS server; [`verify_chap_md5`] exists for
//! databases (and tests) that do hold the cleartext.

use des::Des;
use des::cipher::{BlockCipherEncrypt, KeyInit};
use md4::Md4;
use md5::Md5;
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// `NtPasswordHash`: MD4 of the password in UTF-16LE (RFC 2759 §8.3,
/// RFC 2433 A.2). Zeroized on drop; `Debug` prints nothing of it.
#[derive(Clone)]
pub struct NtHash([u8; 16]);

impl Drop for NtHash {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for NtHash {}

impl core::fmt::Debug for NtHash {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("NtHash(..)")
    }
}

impl PartialEq for NtHash {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for NtHash {}

impl NtHash {
    /// Wraps a stored hash.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The hash octets.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Hashes a password given as text: each UTF-16 code unit of it, little
    /// endian, through MD4.
    pub fn from_password(password: &str) -> Self {
        let mut md4 = Md4::new();
        for unit in password.encode_utf16() {
            md4.update(unit.to_le_bytes());
        }
        Self(md4.finalize().into())
    }

    /// Hashes a password given as octets, as PAP delivers it: as UTF-8 when
    /// it is valid UTF-8, otherwise as Latin-1 (each octet one code unit,
    /// which is what pppd's `ascii2unicode` does for every password).
    pub fn from_password_bytes(password: &[u8]) -> Self {
        match core::str::from_utf8(password) {
            Ok(s) => Self::from_password(s),
            Err(_) => {
                let mut md4 = Md4::new();
                for &b in password {
                    md4.update([b, 0]);
                }
                Self(md4.finalize().into())
            }
        }
    }

    /// `HashNtPasswordHash`: MD4 of the hash (RFC 2759 §8.4).
    pub fn hash(&self) -> NtHash {
        Self(Md4::digest(self.0).into())
    }
}

/// Expands 56 key bits into a DES key with odd parity in the low bit of
/// each octet, as RFC 2759 §9.3 shows ("parity" keys).
pub fn des_key_with_parity(raw: &[u8; 7]) -> [u8; 8] {
    let mut k = [0u8; 8];
    let mut acc: u64 = 0;
    for b in raw {
        acc = acc << 8 | u64::from(*b);
    }
    for (i, out) in k.iter_mut().enumerate() {
        // Seven bits per octet, most significant first, in the upper bits.
        let seven = u8::try_from((acc >> (49 - 7 * i)) & 0x7f).unwrap_or(0);
        let v = seven << 1;
        *out = v | u8::from(v.count_ones() % 2 == 0);
    }
    acc.zeroize();
    k
}

fn des_encrypt(clear: &[u8; 8], raw_key: &[u8; 7]) -> [u8; 8] {
    let key = Zeroizing::new(des_key_with_parity(raw_key));
    let cipher = Des::new(&(*key).into());
    let mut block = (*clear).into();
    cipher.encrypt_block(&mut block);
    block.into()
}

/// `ChallengeResponse`: the 24-octet response to an 8-octet challenge under
/// a 16-octet hash (RFC 2759 §8.5, RFC 2433 A.5).
pub fn challenge_response(challenge: &[u8; 8], hash: &NtHash) -> [u8; 24] {
    let mut z = Zeroizing::new([0u8; 21]);
    z[..16].copy_from_slice(&hash.0);
    let mut out = [0u8; 24];
    for (i, chunk) in out.chunks_exact_mut(8).enumerate() {
        let mut k = Zeroizing::new([0u8; 7]);
        k.copy_from_slice(&z[7 * i..7 * i + 7]);
        chunk.copy_from_slice(&des_encrypt(challenge, &k));
    }
    out
}

/// The MS-CHAP NT-Response: `ChallengeResponse(challenge, NtPasswordHash)`
/// (RFC 2433 A.5 `NtChallengeResponse`).
pub fn mschap_v1_nt_response(challenge: &[u8; 8], hash: &NtHash) -> [u8; 24] {
    challenge_response(challenge, hash)
}

/// The user name without a prepended `DOMAIN\`, as RFC 2759 §8.2 requires
/// for the challenge hash.
pub fn user_name_without_domain(user_name: &[u8]) -> &[u8] {
    match user_name.iter().rposition(|&c| c == b'\\') {
        Some(i) => &user_name[i + 1..],
        None => user_name,
    }
}

/// `ChallengeHash` (RFC 2759 §8.2): the first 8 octets of
/// SHA1(PeerChallenge | AuthenticatorChallenge | UserName), the user name
/// without its domain.
pub fn challenge_hash(
    peer_challenge: &[u8; 16],
    authenticator_challenge: &[u8; 16],
    user_name: &[u8],
) -> [u8; 8] {
    let d = Sha1::new()
        .chain_update(peer_challenge)
        .chain_update(authenticator_challenge)
        .chain_update(user_name_without_domain(user_name))
        .finalize();
    let mut out = [0u8; 8];
    out.copy_from_slice(&d[..8]);
    out
}

/// `GenerateNTResponse` (RFC 2759 §8.1).
pub fn mschap_v2_nt_response(
    authenticator_challenge: &[u8; 16],
    peer_challenge: &[u8; 16],
    user_name: &[u8],
    hash: &NtHash,
) -> [u8; 24] {
    challenge_response(
        &challenge_hash(peer_challenge, authenticator_challenge, user_name),
        hash,
    )
}

const MAGIC1: &[u8; 39] = b"Magic server to client signing constant";
const MAGIC2: &[u8; 41] = b"Pad to make it do more than one iteration";

/// `GenerateAuthenticatorResponse` (RFC 2759 §8.7) from the challenge hash:
/// the 20 octets that go after `S=` in hexadecimal.
pub fn authenticator_response_from_challenge_hash(
    hash: &NtHash,
    nt_response: &[u8; 24],
    challenge_hash: &[u8; 8],
) -> [u8; 20] {
    let hash_hash = hash.hash();
    let digest = Zeroizing::new(
        Sha1::new()
            .chain_update(hash_hash.0)
            .chain_update(nt_response)
            .chain_update(MAGIC1)
            .finalize(),
    );
    Sha1::new()
        .chain_update(*digest)
        .chain_update(challenge_hash)
        .chain_update(MAGIC2)
        .finalize()
        .into()
}

/// `GenerateAuthenticatorResponse` (RFC 2759 §8.7).
pub fn authenticator_response(
    hash: &NtHash,
    nt_response: &[u8; 24],
    peer_challenge: &[u8; 16],
    authenticator_challenge: &[u8; 16],
    user_name: &[u8],
) -> [u8; 20] {
    let ch = challenge_hash(peer_challenge, authenticator_challenge, user_name);
    authenticator_response_from_challenge_hash(hash, nt_response, &ch)
}

/// The CHAP-MD5 response: MD5(Identifier | secret | Challenge)
/// (RFC 1994 §4.1), also EAP-MD5's (RFC 3748 §5.4).
pub fn chap_md5_response(identifier: u8, secret: &[u8], challenge: &[u8]) -> [u8; 16] {
    Md5::new()
        .chain_update([identifier])
        .chain_update(secret)
        .chain_update(challenge)
        .finalize()
        .into()
}

/// PAP against an NT hash: hashes the offered password
/// ([`NtHash::from_password_bytes`]) and compares in constant time.
pub fn verify_pap(hash: &NtHash, password: &[u8]) -> bool {
    NtHash::from_password_bytes(password) == *hash
}

/// CHAP-MD5 against a cleartext secret, in constant time.
pub fn verify_chap_md5(secret: &[u8], identifier: u8, challenge: &[u8], response: &[u8]) -> bool {
    chap_md5_response(identifier, secret, challenge)
        .ct_eq(response)
        .into()
}

/// MS-CHAP against an NT hash (RFC 2433 §3: only the NT-Response is
/// checked; a response without the "use NT" flag is refused, because the LM
/// hash is not stored and is broken anyway).
pub fn verify_mschap_v1(
    hash: &NtHash,
    challenge: &[u8; 8],
    nt_response: &[u8; 24],
    use_nt_response: bool,
) -> bool {
    let ok: bool = mschap_v1_nt_response(challenge, hash)
        .ct_eq(nt_response)
        .into();
    ok & use_nt_response
}

/// MS-CHAP-V2 against an NT hash: on success, the authenticator response
/// for the `S=` of the Success packet (RFC 2759 §5, §8.7).
pub fn verify_mschap_v2(
    hash: &NtHash,
    authenticator_challenge: &[u8; 16],
    peer_challenge: &[u8; 16],
    user_name: &[u8],
    nt_response: &[u8; 24],
) -> Option<[u8; 20]> {
    let ch = challenge_hash(peer_challenge, authenticator_challenge, user_name);
    let expected = challenge_response(&ch, hash);
    if bool::from(expected.ct_eq(nt_response)) {
        Some(authenticator_response_from_challenge_hash(
            hash,
            nt_response,
            &ch,
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    // vectors/rfc2759-mschapv2.toml [rfc2759_9_2]: RFC 2759 §9.2.
    #[test]
    fn rfc2759_9_2_hash_example() {
        let user = b"User";
        let auth_ch = hex!("5B5D7C7D7B3F2F3E3C2C602132262628");
        let peer_ch = hex!("21402324255E262A28295F2B3A337C7E");
        assert_eq!(
            challenge_hash(&peer_ch, &auth_ch, user),
            hex!("D02E4386BCE91226")
        );
        let h = NtHash::from_password("clientPass");
        assert_eq!(h.as_bytes(), &hex!("44EBBA8D5312B8D611474411F56989AE"));
        let nt = mschap_v2_nt_response(&auth_ch, &peer_ch, user, &h);
        assert_eq!(nt, hex!("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF"));
        assert_eq!(
            h.hash().as_bytes(),
            &hex!("41C00C584BD2D91C4017A2A12FA59F3F")
        );
        let s = authenticator_response(&h, &nt, &peer_ch, &auth_ch, user);
        assert_eq!(s, hex!("407A5589115FD0D6209F510FE9C04566932CDA56"));
        assert_eq!(verify_mschap_v2(&h, &auth_ch, &peer_ch, user, &nt), Some(s));
        let mut wrong = nt;
        wrong[23] ^= 1;
        assert_eq!(verify_mschap_v2(&h, &auth_ch, &peer_ch, user, &wrong), None);
        // A prepended domain is not hashed (RFC 2759 §8.2).
        assert_eq!(
            challenge_hash(&peer_ch, &auth_ch, b"CORP\\User"),
            hex!("D02E4386BCE91226")
        );
    }

    // [rfc2759_9_3] and rfc2433-mschapv1.toml [rfc2433_b_3]: DES keys.
    #[test]
    fn des_key_generation() {
        let h = NtHash::from_password("MyPw");
        assert_eq!(h.as_bytes(), &hex!("FC156AF7EDCD6C0EDDE3337D427F4EAC"));
        assert_eq!(
            des_key_with_parity(&hex!("FC156AF7EDCD6C")),
            hex!("FD0B5B5E7F6E34D9")
        );
        assert_eq!(
            des_key_with_parity(&hex!("0EDDE3337D427F")),
            hex!("0E6E796737EA08FE")
        );
    }

    // rfc2433-mschapv1.toml [rfc2433_b_2]: RFC 2433 Appendix B.2.
    #[test]
    fn rfc2433_b_2_hash_example() {
        let h = NtHash::from_password("MyPw");
        let challenge = hex!("102DB5DF085D3041");
        let nt = mschap_v1_nt_response(&challenge, &h);
        assert_eq!(nt, hex!("4E9D3C8F9CFD385D5BF4D3246791956CA4C351AB409A3D61"));
        assert!(verify_mschap_v1(&h, &challenge, &nt, true));
        assert!(!verify_mschap_v1(&h, &challenge, &nt, false));
        assert!(!verify_mschap_v1(
            &NtHash::from_password("MyPW"),
            &challenge,
            &nt,
            true
        ));
    }

    // [capture_chapcrack_pptp]: the real PPTP handshake of chapcrack.
    #[test]
    fn chapcrack_capture() {
        let h = NtHash::from_password("bPCFyF2uL1p5Lg5yrKmqmY");
        let auth_ch = hex!("258D4FC024F111512D0B61F9C375AEE1");
        let peer_ch = hex!("ABFE01E6C759850155B4D8D6258CDB67");
        let nt = hex!("1C93ABCE815400686BAECA315F348469256420598A73AD49");
        assert_eq!(mschap_v2_nt_response(&auth_ch, &peer_ch, b"moxie", &h), nt);
        assert_eq!(
            verify_mschap_v2(&h, &auth_ch, &peer_ch, b"moxie", &nt),
            Some(hex!("54644F81E5F18C0EE9E26776495D6BC7ADDFB767"))
        );
    }

    // vectors/radius-chap-eapmd5-from-capture.toml: RADIUS CHAP-Password
    // (frame 11) and the two EAP-MD5 exchanges.
    #[test]
    fn chap_md5_known_answers() {
        let c = hex!("95bbe85b56ad0aa36dd80f9b7c59067d");
        let r = hex!("0574ae2c413a393f07b5564984bda740");
        assert_eq!(chap_md5_response(0xa8, b"testing", &c), r);
        assert!(verify_chap_md5(b"testing", 0xa8, &c, &r));
        assert!(!verify_chap_md5(b"testing", 0xa9, &c, &r));
        assert_eq!(
            chap_md5_response(0x71, b"testing", &hex!("ba0bf4a7e7177359caa52e7eb10d9d0b")),
            hex!("36d93b94f142714e95061613640ed36d")
        );
        assert_eq!(
            chap_md5_response(0x67, b"bad", &hex!("ff0bf1d6e401a9cbe5b46eb943e5549a")),
            hex!("c76e1d28726fd1c0cb671a5424168d26")
        );
    }

    #[test]
    fn pap_against_nt_hash() {
        let h = NtHash::from_password("s3cret-Pass");
        assert!(verify_pap(&h, b"s3cret-Pass"));
        assert!(!verify_pap(&h, b"s3cret-pass"));
        // Non-ASCII: UTF-8 input hashes as its UTF-16 code units; invalid
        // UTF-8 falls back to Latin-1, so 0xE9 is U+00E9 either way.
        assert_eq!(
            NtHash::from_password_bytes("caf\u{e9}".as_bytes()),
            NtHash::from_password("café")
        );
        assert_eq!(
            NtHash::from_password_bytes(b"caf\xe9"),
            NtHash::from_password("café")
        );
        assert_eq!(format!("{h:?}"), "NtHash(..)");
    }
}
