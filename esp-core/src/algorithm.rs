//! The algorithms an SA can use, and their keyed states.
//!
//! Dispatch is by enum, not trait object: every SA has the same size and the
//! compiler sees every cipher on the packet path.

use crate::error::KeyError;
use cipher::{
    Array, BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt,
    BlockSizeUser, InnerIvInit, KeyInit,
};
use hmac::digest::block_api::{CoreProxy, EagerHash};
use hmac::{Hmac, Mac, block_api::HmacCore};

/// The encryption transform of an SA (RFC 4303 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub enum Encryption {
    /// NULL encryption (RFC 2410): integrity only.
    Null,
    /// 3DES-CBC, EDE with three keys (RFC 2451): 24-byte key, 8-byte block.
    TripleDesCbc,
    /// AES-CBC with a 128-bit key (RFC 3602).
    AesCbc128,
    /// AES-CBC with a 192-bit key (RFC 3602).
    AesCbc192,
    /// AES-CBC with a 256-bit key (RFC 3602).
    AesCbc256,
    /// Single DES-CBC (RFC 2405). Broken; only with the `single-des` feature.
    #[cfg(feature = "single-des")]
    DesCbc,
}

impl Encryption {
    /// Key length in bytes.
    pub const fn key_len(self) -> usize {
        match self {
            Self::Null => 0,
            Self::TripleDesCbc | Self::AesCbc192 => 24,
            Self::AesCbc128 => 16,
            Self::AesCbc256 => 32,
            #[cfg(feature = "single-des")]
            Self::DesCbc => 8,
        }
    }

    /// Cipher block length in bytes (1 for NULL).
    pub const fn block_len(self) -> usize {
        match self {
            Self::Null => 1,
            Self::TripleDesCbc => 8,
            Self::AesCbc128 | Self::AesCbc192 | Self::AesCbc256 => 16,
            #[cfg(feature = "single-des")]
            Self::DesCbc => 8,
        }
    }

    /// Length of the explicit IV carried in each packet (the block length for
    /// CBC, 0 for NULL).
    pub const fn iv_len(self) -> usize {
        match self {
            Self::Null => 0,
            _ => self.block_len(),
        }
    }

    /// The alignment of payload plus trailer: the block length, but at least
    /// 4 so that the ICV is 32-bit aligned (RFC 4303 §2.4).
    pub const fn alignment(self) -> usize {
        let block = self.block_len();
        if block < 4 { 4 } else { block }
    }

    /// The name the appliance's `show` commands print (`Encryption` field).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Null => "none",
            Self::TripleDesCbc => "3DES",
            Self::AesCbc128 => "AES128",
            Self::AesCbc192 => "AES192",
            Self::AesCbc256 => "AES256",
            #[cfg(feature = "single-des")]
            Self::DesCbc => "DES",
        }
    }
}

/// The integrity transform of an SA (RFC 4303 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[allow(non_camel_case_types)] // the RFC names: HMAC-MD5-96 reads badly as HmacMd596
#[non_exhaustive]
pub enum Integrity {
    /// No integrity (the appliance's `esp-none`). Anti-replay is then off
    /// (RFC 4303 §3.4.3), and NULL encryption is refused with it.
    None,
    /// HMAC-MD5-96 (RFC 2403): 16-byte key, 12-byte ICV.
    HmacMd5_96,
    /// HMAC-SHA-1-96 (RFC 2404): 20-byte key, 12-byte ICV.
    HmacSha1_96,
    /// HMAC-SHA-256-128 (RFC 4868): 32-byte key, 16-byte ICV.
    HmacSha256_128,
    /// HMAC-SHA-256 truncated to 96 bits, as the pre-RFC 4868 draft did and
    /// as Android 6 and 7 clients still send. Never chosen unless configured.
    HmacSha256_96,
}

impl Integrity {
    /// Key length in bytes.
    pub const fn key_len(self) -> usize {
        match self {
            Self::None => 0,
            Self::HmacMd5_96 => 16,
            Self::HmacSha1_96 => 20,
            Self::HmacSha256_128 | Self::HmacSha256_96 => 32,
        }
    }

    /// Length of the ICV in bytes.
    pub const fn icv_len(self) -> usize {
        match self {
            Self::None => 0,
            Self::HmacMd5_96 | Self::HmacSha1_96 | Self::HmacSha256_96 => 12,
            Self::HmacSha256_128 => 16,
        }
    }

    /// The name the appliance's `show` commands print (`Hashing` field).
    pub const fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::HmacMd5_96 => "MD5",
            Self::HmacSha1_96 => "SHA1",
            Self::HmacSha256_128 | Self::HmacSha256_96 => "SHA256",
        }
    }
}

/// Largest ICV of any supported algorithm.
pub const MAX_ICV_LEN: usize = 16;
/// Largest block (and IV) of any supported cipher.
pub const MAX_BLOCK_LEN: usize = 16;

fn keyed<C: KeyInit>(key: &[u8]) -> Result<C, KeyError> {
    C::new_from_slice(key).map_err(|_| KeyError::EncryptionKeyLength)
}

/// CBC-encrypts whole blocks of `data` in place.
fn cbc_encrypt<C: BlockCipherEncrypt>(cipher: &C, iv: &[u8], data: &mut [u8]) {
    if let Ok(mut mode) = cbc::Encryptor::<&C>::inner_iv_slice_init(cipher, iv) {
        let (blocks, _) = Array::<u8, <C as BlockSizeUser>::BlockSize>::slice_as_chunks_mut(data);
        mode.encrypt_blocks(blocks);
    }
}

/// CBC-decrypts whole blocks of `data` in place (in parallel where the
/// cipher backend can).
fn cbc_decrypt<C: BlockCipherDecrypt>(cipher: &C, iv: &[u8], data: &mut [u8]) {
    if let Ok(mut mode) = cbc::Decryptor::<&C>::inner_iv_slice_init(cipher, iv) {
        let (blocks, _) = Array::<u8, <C as BlockSizeUser>::BlockSize>::slice_as_chunks_mut(data);
        mode.decrypt_blocks(blocks);
    }
}

/// The keyed encryption state of an outbound SA.
pub(crate) enum Encryptor {
    Null,
    TripleDes(des::TdesEde3),
    Aes128(aes::Aes128Enc),
    Aes192(aes::Aes192Enc),
    Aes256(aes::Aes256Enc),
    #[cfg(feature = "single-des")]
    Des(des::Des),
}

impl Encryptor {
    pub(crate) fn new(alg: Encryption, key: &[u8]) -> Result<Self, KeyError> {
        if key.len() != alg.key_len() {
            return Err(KeyError::EncryptionKeyLength);
        }
        Ok(match alg {
            Encryption::Null => Self::Null,
            Encryption::TripleDesCbc => Self::TripleDes(keyed(key)?),
            Encryption::AesCbc128 => Self::Aes128(keyed(key)?),
            Encryption::AesCbc192 => Self::Aes192(keyed(key)?),
            Encryption::AesCbc256 => Self::Aes256(keyed(key)?),
            #[cfg(feature = "single-des")]
            Encryption::DesCbc => Self::Des(keyed(key)?),
        })
    }

    /// CBC-encrypts `data` (a whole number of blocks) in place.
    pub(crate) fn encrypt(&self, iv: &[u8], data: &mut [u8]) {
        match self {
            Self::Null => {}
            Self::TripleDes(c) => cbc_encrypt(c, iv, data),
            Self::Aes128(c) => cbc_encrypt(c, iv, data),
            Self::Aes192(c) => cbc_encrypt(c, iv, data),
            Self::Aes256(c) => cbc_encrypt(c, iv, data),
            #[cfg(feature = "single-des")]
            Self::Des(c) => cbc_encrypt(c, iv, data),
        }
    }
}

/// The keyed decryption state of an inbound SA.
pub(crate) enum Decryptor {
    Null,
    TripleDes(des::TdesEde3),
    Aes128(aes::Aes128Dec),
    Aes192(aes::Aes192Dec),
    Aes256(aes::Aes256Dec),
    #[cfg(feature = "single-des")]
    Des(des::Des),
}

impl Decryptor {
    pub(crate) fn new(alg: Encryption, key: &[u8]) -> Result<Self, KeyError> {
        if key.len() != alg.key_len() {
            return Err(KeyError::EncryptionKeyLength);
        }
        Ok(match alg {
            Encryption::Null => Self::Null,
            Encryption::TripleDesCbc => Self::TripleDes(keyed(key)?),
            Encryption::AesCbc128 => Self::Aes128(keyed(key)?),
            Encryption::AesCbc192 => Self::Aes192(keyed(key)?),
            Encryption::AesCbc256 => Self::Aes256(keyed(key)?),
            #[cfg(feature = "single-des")]
            Encryption::DesCbc => Self::Des(keyed(key)?),
        })
    }

    /// CBC-decrypts `data` (a whole number of blocks) in place.
    pub(crate) fn decrypt(&self, iv: &[u8], data: &mut [u8]) {
        match self {
            Self::Null => {}
            Self::TripleDes(c) => cbc_decrypt(c, iv, data),
            Self::Aes128(c) => cbc_decrypt(c, iv, data),
            Self::Aes192(c) => cbc_decrypt(c, iv, data),
            Self::Aes256(c) => cbc_decrypt(c, iv, data),
            #[cfg(feature = "single-des")]
            Self::Des(c) => cbc_decrypt(c, iv, data),
        }
    }
}

/// The keyed integrity state: HMAC's inner and outer hash states after the
/// key pads, computed once per SA (RFC 2104 §4 "precomputations").
pub(crate) enum Authenticator {
    None,
    Md5(HmacCore<md5::Md5>),
    Sha1(HmacCore<sha1::Sha1>),
    Sha256(HmacCore<sha2::Sha256>),
}

fn hmac_into<D: EagerHash>(core: &HmacCore<D>, data: &[u8], out: &mut [u8; 32]) {
    let mut mac = Hmac::<D>::compose(core.clone(), Default::default());
    mac.update(data);
    let tag = mac.finalize().into_bytes();
    let n = tag.len().min(out.len());
    out[..n].copy_from_slice(&tag[..n]);
}

impl Authenticator {
    pub(crate) fn new(alg: Integrity, key: &[u8]) -> Result<Self, KeyError> {
        if key.len() != alg.key_len() {
            return Err(KeyError::IntegrityKeyLength);
        }
        let wrong = |_| KeyError::IntegrityKeyLength;
        Ok(match alg {
            Integrity::None => Self::None,
            Integrity::HmacMd5_96 => Self::Md5(HmacCore::new_from_slice(key).map_err(wrong)?),
            Integrity::HmacSha1_96 => Self::Sha1(HmacCore::new_from_slice(key).map_err(wrong)?),
            Integrity::HmacSha256_128 | Integrity::HmacSha256_96 => {
                Self::Sha256(HmacCore::new_from_slice(key).map_err(wrong)?)
            }
        })
    }

    /// The full-length HMAC of `data` in `out` (truncate to the ICV length).
    pub(crate) fn mac(&self, data: &[u8], out: &mut [u8; 32]) {
        match self {
            Self::None => {}
            Self::Md5(core) => hmac_into(core, data, out),
            Self::Sha1(core) => hmac_into(core, data, out),
            Self::Sha256(core) => hmac_into(core, data, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    fn icv(alg: Integrity, key: &[u8], data: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        Authenticator::new(alg, key).unwrap().mac(data, &mut out);
        out
    }

    // RFC 2202 §2 (HMAC-MD5) and §3 (HMAC-SHA-1), test cases 2 and 6, full
    // length and the -96 truncation that ESP puts on the wire (RFC 2403/2404).
    // The keys of those cases are not ESP key lengths, so the HMAC cores are
    // keyed directly here; the ESP key-length check is tested below.
    #[test]
    fn rfc2202_vectors() {
        let mut out = [0u8; 32];
        let md5 = HmacCore::<md5::Md5>::new_from_slice(b"Jefe").unwrap();
        Authenticator::Md5(md5).mac(b"what do ya want for nothing?", &mut out);
        assert_eq!(out[..16], hex!("750c783e6ab0b503eaa86e310a5db738"));
        let sha1 = HmacCore::<sha1::Sha1>::new_from_slice(b"Jefe").unwrap();
        Authenticator::Sha1(sha1).mac(b"what do ya want for nothing?", &mut out);
        assert_eq!(out[..20], hex!("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"));
        // Case 6: 80-byte key (longer than the block: hashed first).
        let key = [0xaau8; 80];
        let data = b"Test Using Larger Than Block-Size Key - Hash Key First";
        let md5 = HmacCore::<md5::Md5>::new_from_slice(&key).unwrap();
        Authenticator::Md5(md5).mac(data, &mut out);
        assert_eq!(out[..16], hex!("6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"));
        let sha1 = HmacCore::<sha1::Sha1>::new_from_slice(&key).unwrap();
        Authenticator::Sha1(sha1).mac(data, &mut out);
        assert_eq!(out[..20], hex!("aa4ae5e15272d00e95705637ce8a3b55ed402112"));
    }

    // Every case of RFC 2202 §2 and §3 (testdata/vectors/rfc2202-hmac.toml),
    // and the -96 truncation where the RFC gives it.
    #[test]
    fn rfc2202_all_cases() {
        use testkit::vectors;
        let file = vectors::load("rfc2202-hmac.toml");
        let mut n = 0;
        for (name, len) in [("hmac_md5", 16), ("hmac_sha1", 20)] {
            for case in vectors::cases(&file, name) {
                let key = vectors::bytes(case, "key");
                let data = vectors::bytes(case, "data");
                let auth = if len == 16 {
                    Authenticator::Md5(HmacCore::new_from_slice(&key).unwrap())
                } else {
                    Authenticator::Sha1(HmacCore::new_from_slice(&key).unwrap())
                };
                let mut out = [0u8; 32];
                auth.mac(&data, &mut out);
                assert_eq!(
                    out[..len],
                    vectors::bytes(case, "digest")[..],
                    "{name} {case:?}"
                );
                if case.contains_key("digest_96") {
                    assert_eq!(out[..12], vectors::bytes(case, "digest_96")[..]);
                }
                n += 1;
            }
        }
        assert_eq!(n, 14);
    }

    // RFC 2202 case 1 has a 16-byte key for MD5 and 20-byte for SHA-1: ESP
    // key lengths, so it goes through the ESP constructor and truncation.
    #[test]
    fn rfc2202_case1_as_esp_icv() {
        let md5 = icv(Integrity::HmacMd5_96, &[0x0b; 16], b"Hi There");
        assert_eq!(md5[..16], hex!("9294727a3638bb1c13f48ef8158bfc9d"));
        assert_eq!(
            md5[..Integrity::HmacMd5_96.icv_len()],
            hex!("9294727a3638bb1c13f48ef8")
        );
        let sha1 = icv(Integrity::HmacSha1_96, &[0x0b; 20], b"Hi There");
        assert_eq!(sha1[..20], hex!("b617318655057264e28bc0b6fb378c8ef146be00"));
        assert_eq!(
            sha1[..Integrity::HmacSha1_96.icv_len()],
            hex!("b617318655057264e28bc0b6")
        );
    }

    // RFC 4231 §4.2 test case 1 uses a 20-byte key; RFC 4868 §2.7.1 case 1
    // ("Hi There" under 32 bytes of 0x0b) gives the 32-byte-key value.
    #[test]
    fn rfc4868_hmac_sha256_128() {
        let out = icv(Integrity::HmacSha256_128, &[0x0b; 32], b"Hi There");
        assert_eq!(
            out,
            hex!("198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7")
        );
        assert_eq!(Integrity::HmacSha256_128.icv_len(), 16);
        assert_eq!(Integrity::HmacSha256_96.icv_len(), 12);
    }

    #[test]
    fn wrong_key_lengths_are_refused() {
        assert!(matches!(
            Authenticator::new(Integrity::HmacSha1_96, &[0; 16]),
            Err(KeyError::IntegrityKeyLength)
        ));
        assert!(matches!(
            Encryptor::new(Encryption::AesCbc128, &[0; 24]),
            Err(KeyError::EncryptionKeyLength)
        ));
        assert!(matches!(
            Decryptor::new(Encryption::TripleDesCbc, &[0; 16]),
            Err(KeyError::EncryptionKeyLength)
        ));
    }

    // The classic DES example (key 133457799BBCDFF1, FIPS 46 walk-through in
    // J. Orlin Grabbe's "The DES Algorithm Illustrated").
    #[cfg(feature = "single-des")]
    #[test]
    fn single_des_block() {
        let enc = Encryptor::new(Encryption::DesCbc, &hex!("133457799bbcdff1")).unwrap();
        // One block of CBC from a zero IV is the raw block cipher.
        let mut block = hex!("0123456789abcdef");
        enc.encrypt(&[0; 8], &mut block);
        assert_eq!(block, hex!("85e813540f0ab405"));
    }

    // RFC 3602 §4 Case #2: two blocks of AES-128-CBC.
    #[test]
    fn rfc3602_case2_cbc() {
        let key = hex!("c286696d887c9aa0611bbb3e2025a45a");
        let iv = hex!("562e17996d093d28ddb3ba695a2e6f58");
        let plain = hex!("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        let cipher = hex!("d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1");
        let mut buf = plain;
        Encryptor::new(Encryption::AesCbc128, &key)
            .unwrap()
            .encrypt(&iv, &mut buf);
        assert_eq!(buf, cipher);
        Decryptor::new(Encryption::AesCbc128, &key)
            .unwrap()
            .decrypt(&iv, &mut buf);
        assert_eq!(buf, plain);
    }
}
