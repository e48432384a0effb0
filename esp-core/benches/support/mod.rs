//! What the ESP benchmark and the `esp_speed` example share: the suites
//! and the bare cipher and MAC of the same crates, keyed once, doing exactly
//! the CBC and HMAC work of a packet (the yardstick for esp-core's own cost).
#![allow(dead_code)]

use cipher::{
    BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, InnerIvInit,
    KeyInit,
};
use esp_core::{Encapsulation, Encryption, Integrity, Lifetime, SaConfig};
use hmac::{Hmac, Mac};

pub const SIZES: [usize; 3] = [64, 512, 1400];

pub fn suite_name(e: Encryption, i: Integrity) -> String {
    format!("{}-{}", e.name(), i.name()).to_lowercase()
}

pub struct Suite {
    pub enc: Encryption,
    pub integ: Integrity,
    pub ekey: Vec<u8>,
    pub akey: Vec<u8>,
}

impl Suite {
    pub fn config(&self) -> SaConfig<'_> {
        SaConfig {
            encryption: self.enc,
            encryption_key: &self.ekey,
            integrity: self.integ,
            integrity_key: &self.akey,
            encapsulation: Encapsulation::Udp { peer_port: 4500 },
            replay_window: 128,
            lifetime: Lifetime::UNLIMITED,
        }
    }
}

/// The bare operations of one suite, keyed once.
pub enum BareCipher {
    Tdes(des::TdesEde3),
    Aes128(aes::Aes128Enc, aes::Aes128Dec),
    Aes192(aes::Aes192Enc, aes::Aes192Dec),
    Aes256(aes::Aes256Enc, aes::Aes256Dec),
}

pub enum BareMac {
    Md5(Hmac<md5::Md5>),
    Sha1(Hmac<sha1::Sha1>),
    Sha256(Hmac<sha2::Sha256>),
}

fn cbc_enc<C: BlockCipherEncrypt>(c: &C, iv: &[u8], data: &mut [u8]) {
    let mut mode = cbc::Encryptor::<&C>::inner_iv_slice_init(c, iv).unwrap();
    let (blocks, _) = cipher::Array::<u8, C::BlockSize>::slice_as_chunks_mut(data);
    mode.encrypt_blocks(blocks);
}

fn cbc_dec<C: BlockCipherDecrypt>(c: &C, iv: &[u8], data: &mut [u8]) {
    let mut mode = cbc::Decryptor::<&C>::inner_iv_slice_init(c, iv).unwrap();
    let (blocks, _) = cipher::Array::<u8, C::BlockSize>::slice_as_chunks_mut(data);
    mode.decrypt_blocks(blocks);
}

impl BareCipher {
    pub fn new(e: Encryption, key: &[u8]) -> Self {
        match e {
            Encryption::TripleDesCbc => Self::Tdes(KeyInit::new_from_slice(key).unwrap()),
            Encryption::AesCbc128 => Self::Aes128(
                KeyInit::new_from_slice(key).unwrap(),
                KeyInit::new_from_slice(key).unwrap(),
            ),
            Encryption::AesCbc192 => Self::Aes192(
                KeyInit::new_from_slice(key).unwrap(),
                KeyInit::new_from_slice(key).unwrap(),
            ),
            Encryption::AesCbc256 => Self::Aes256(
                KeyInit::new_from_slice(key).unwrap(),
                KeyInit::new_from_slice(key).unwrap(),
            ),
            _ => unreachable!(),
        }
    }
    pub fn encrypt(&self, iv: &[u8], data: &mut [u8]) {
        match self {
            Self::Tdes(c) => cbc_enc(c, iv, data),
            Self::Aes128(c, _) => cbc_enc(c, iv, data),
            Self::Aes192(c, _) => cbc_enc(c, iv, data),
            Self::Aes256(c, _) => cbc_enc(c, iv, data),
        }
    }
    pub fn decrypt(&self, iv: &[u8], data: &mut [u8]) {
        match self {
            Self::Tdes(c) => cbc_dec(c, iv, data),
            Self::Aes128(_, c) => cbc_dec(c, iv, data),
            Self::Aes192(_, c) => cbc_dec(c, iv, data),
            Self::Aes256(_, c) => cbc_dec(c, iv, data),
        }
    }
}

impl BareMac {
    pub fn new(i: Integrity, key: &[u8]) -> Self {
        match i {
            Integrity::HmacMd5_96 => Self::Md5(KeyInit::new_from_slice(key).unwrap()),
            Integrity::HmacSha1_96 => Self::Sha1(KeyInit::new_from_slice(key).unwrap()),
            Integrity::HmacSha256_128 => Self::Sha256(KeyInit::new_from_slice(key).unwrap()),
            _ => unreachable!(),
        }
    }
    pub fn mac(&self, data: &[u8], out: &mut [u8]) {
        fn run<M: Mac + Clone>(m: &M, data: &[u8], out: &mut [u8]) {
            let mut m = m.clone();
            m.update(data);
            let tag = m.finalize().into_bytes();
            let n = out.len();
            out.copy_from_slice(&tag[..n]);
        }
        match self {
            Self::Md5(m) => run(m, data, out),
            Self::Sha1(m) => run(m, data, out),
            Self::Sha256(m) => run(m, data, out),
        }
    }
}

impl Suite {
    /// The suite with fixed test keys.
    pub fn new(enc: Encryption, integ: Integrity) -> Self {
        Suite {
            enc,
            integ,
            ekey: (0..enc.key_len()).map(|n| n as u8 ^ 0x5a).collect(),
            akey: (0..integ.key_len()).map(|n| n as u8 ^ 0xa5).collect(),
        }
    }
}
