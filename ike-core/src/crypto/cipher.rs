//! The encryption of ISAKMP messages after the key exchange: CBC mode
//! (RFC 2409 Appendix B) with 3DES (RFC 2451) or AES (RFC 3602).
//!
//! The raw key is kept in the SA and the key schedule is built per message:
//! IKE messages are few and small, and an AES-256 schedule would cost
//! hundreds of bytes in every SA.

use aes::cipher::{Block, BlockCipherDecrypt, BlockCipherEncrypt, BlockSizeUser, KeyInit};
use aes::{Aes128, Aes192, Aes256};
use des::TdesEde3;

/// Largest block size (AES).
pub const MAX_BLOCK_LEN: usize = 16;
/// Largest key (AES-256 and 3DES are 32 and 24 octets).
pub const MAX_KEY_LEN: usize = 32;

/// A phase 1 encryption algorithm with its key length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub enum CipherAlg {
    /// 3DES-CBC (IKE value 5), 192-bit key.
    TripleDes,
    /// AES-CBC (IKE value 7), Key Length 128.
    Aes128,
    /// AES-CBC, Key Length 192.
    Aes192,
    /// AES-CBC, Key Length 256.
    Aes256,
}

impl CipherAlg {
    /// Key length in octets.
    pub const fn key_len(self) -> usize {
        match self {
            Self::TripleDes => 24,
            Self::Aes128 => 16,
            Self::Aes192 => 24,
            Self::Aes256 => 32,
        }
    }

    /// Block length in octets.
    pub const fn block_len(self) -> usize {
        match self {
            Self::TripleDes => 8,
            _ => 16,
        }
    }

    /// The IKE Encryption Algorithm value and the Key Length attribute, if
    /// one is sent (RFC 2409 Appendix A, RFC 3602).
    pub const fn ike_value(self) -> (u16, Option<u16>) {
        match self {
            Self::TripleDes => (5, None),
            Self::Aes128 => (7, Some(128)),
            Self::Aes192 => (7, Some(192)),
            Self::Aes256 => (7, Some(256)),
        }
    }

    /// From the IKE Encryption Algorithm and Key Length attributes. AES
    /// without a Key Length is AES-128, as most implementations read it.
    pub const fn from_ike_value(alg: u16, key_len: Option<u16>) -> Option<Self> {
        match (alg, key_len) {
            (5, None | Some(192)) => Some(Self::TripleDes),
            (7, None | Some(128)) => Some(Self::Aes128),
            (7, Some(192)) => Some(Self::Aes192),
            (7, Some(256)) => Some(Self::Aes256),
            _ => None,
        }
    }

    /// Encrypts `buf` (a whole number of blocks) in place with CBC and
    /// returns the last ciphertext block through `iv` (the IV of the next
    /// message, RFC 2409 Appendix B).
    ///
    /// Returns `false`, with `buf` unchanged, if the key, the IV or the
    /// buffer length does not fit the algorithm.
    pub fn encrypt(self, key: &[u8], iv: &mut [u8], buf: &mut [u8]) -> bool {
        match self {
            Self::TripleDes => cbc_encrypt::<TdesEde3>(key, iv, buf),
            Self::Aes128 => cbc_encrypt::<Aes128>(key, iv, buf),
            Self::Aes192 => cbc_encrypt::<Aes192>(key, iv, buf),
            Self::Aes256 => cbc_encrypt::<Aes256>(key, iv, buf),
        }
    }

    /// Decrypts `buf` in place; `iv` becomes the last ciphertext block.
    /// Returns `false`, with `buf` unchanged, on a length mismatch.
    pub fn decrypt(self, key: &[u8], iv: &mut [u8], buf: &mut [u8]) -> bool {
        match self {
            Self::TripleDes => cbc_decrypt::<TdesEde3>(key, iv, buf),
            Self::Aes128 => cbc_decrypt::<Aes128>(key, iv, buf),
            Self::Aes192 => cbc_decrypt::<Aes192>(key, iv, buf),
            Self::Aes256 => cbc_decrypt::<Aes256>(key, iv, buf),
        }
    }
}

fn lengths_fit(bs: usize, iv: &[u8], buf: &[u8]) -> bool {
    iv.len() == bs && buf.len().is_multiple_of(bs) && bs <= MAX_BLOCK_LEN
}

fn cbc_encrypt<C: BlockCipherEncrypt + KeyInit>(key: &[u8], iv: &mut [u8], buf: &mut [u8]) -> bool {
    let bs = C::block_size();
    if !lengths_fit(bs, iv, buf) {
        return false;
    }
    let Ok(cipher) = C::new_from_slice(key) else {
        return false;
    };
    for chunk in buf.chunks_exact_mut(bs) {
        for (b, v) in chunk.iter_mut().zip(iv.iter()) {
            *b ^= *v;
        }
        let Ok(block) = <&mut Block<C>>::try_from(&mut chunk[..]) else {
            return false;
        };
        cipher.encrypt_block(block);
        iv.copy_from_slice(chunk);
    }
    true
}

fn cbc_decrypt<C: BlockCipherDecrypt + BlockSizeUser + KeyInit>(
    key: &[u8],
    iv: &mut [u8],
    buf: &mut [u8],
) -> bool {
    let bs = C::block_size();
    if !lengths_fit(bs, iv, buf) {
        return false;
    }
    let Ok(cipher) = C::new_from_slice(key) else {
        return false;
    };
    let mut next = [0u8; MAX_BLOCK_LEN];
    for chunk in buf.chunks_exact_mut(bs) {
        next[..bs].copy_from_slice(chunk);
        let Ok(block) = <&mut Block<C>>::try_from(&mut chunk[..]) else {
            return false;
        };
        cipher.decrypt_block(block);
        for (b, v) in chunk.iter_mut().zip(iv.iter()) {
            *b ^= *v;
        }
        iv.copy_from_slice(&next[..bs]);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    // RFC 3602 §4 case #2: AES-128-CBC, 32 octets.
    #[test]
    fn aes128_cbc_rfc3602_case2() {
        let key = hex!("c286696d887c9aa0611bbb3e2025a45a");
        let mut iv = hex!("562e17996d093d28ddb3ba695a2e6f58");
        let mut buf = hex!("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        assert!(CipherAlg::Aes128.encrypt(&key, &mut iv, &mut buf));
        assert_eq!(
            buf,
            hex!("d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1")
        );
        assert_eq!(iv, hex!("7586602d253cfff91b8266bea6d61ab1"));
        let mut iv = hex!("562e17996d093d28ddb3ba695a2e6f58");
        assert!(CipherAlg::Aes128.decrypt(&key, &mut iv, &mut buf));
        assert_eq!(
            buf,
            hex!("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
        );
        assert_eq!(iv, hex!("7586602d253cfff91b8266bea6d61ab1"));
    }

    #[test]
    fn three_des_round_trip_and_bad_lengths() {
        let key = [0x11u8; 24];
        let mut iv = [0x22u8; 8];
        let mut buf = *b"sixteen octets!!";
        assert!(CipherAlg::TripleDes.encrypt(&key, &mut iv, &mut buf));
        assert_ne!(&buf, b"sixteen octets!!");
        let mut iv = [0x22u8; 8];
        assert!(CipherAlg::TripleDes.decrypt(&key, &mut iv, &mut buf));
        assert_eq!(&buf, b"sixteen octets!!");
        let mut odd = [0u8; 12];
        assert!(!CipherAlg::TripleDes.decrypt(&key, &mut iv, &mut odd));
        assert!(!CipherAlg::Aes256.decrypt(&key, &mut [0; 16], &mut [0; 16]));
        assert!(!CipherAlg::Aes128.encrypt(&[0; 16], &mut [0; 8], &mut [0; 16]));
    }

    #[test]
    fn ike_values() {
        assert_eq!(
            CipherAlg::from_ike_value(7, Some(256)),
            Some(CipherAlg::Aes256)
        );
        assert_eq!(CipherAlg::from_ike_value(7, None), Some(CipherAlg::Aes128));
        assert_eq!(
            CipherAlg::from_ike_value(5, None),
            Some(CipherAlg::TripleDes)
        );
        assert_eq!(CipherAlg::from_ike_value(7, Some(64)), None);
        assert_eq!(CipherAlg::from_ike_value(1, None), None);
        for c in [
            CipherAlg::TripleDes,
            CipherAlg::Aes128,
            CipherAlg::Aes192,
            CipherAlg::Aes256,
        ] {
            let (a, k) = c.ike_value();
            assert_eq!(CipherAlg::from_ike_value(a, k), Some(c));
        }
    }
}
