//! Secrets of the configuration: pre-shared keys, RADIUS keys and the stored
//! forms of local users' passwords.
//!
//! Every type here zeroizes its bytes on drop, compares in constant time
//! (`subtle`) and prints nothing secret through `Debug`. The only way to see a
//! secret is [`Secret::expose`] (for the protocol code that needs the key) or
//! the configuration printer in its explicit clear-text mode.
//!
//! Local passwords are never stored in clear text:
//!
//! - `username NAME password PW mschap` stores the NT hash, MD4 of the
//!   UTF-16LE password (RFC 2433 §A.2 `NtPasswordHash`), which MS-CHAPv1 and
//!   MS-CHAPv2 need. The appliance prints it as the Base64 of the 16 hash bytes
//!   followed by `nt-encrypted` (`test` prints `DLaUiAX3l78qgoB5c7iVNw==`).
//! - `username NAME password PW` stores the appliance's `encrypted` form: MD5
//!   over the password with the first four bytes of the user name appended,
//!   NUL-padded to 16 or 32 bytes, every fourth digest byte dropped, encoded
//!   in the crypt alphabet (`./0-9A-Za-z`, little-endian groups). PAP is
//!   checked by recomputing it from the offered password. See
//!   `docs/ARCHITECTURE.md` for why this form was chosen.

use core::fmt;

use md4::Md4;
use md5::{Digest, Md5};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

/// A secret byte string of at most `N` bytes, zeroized on drop.
#[derive(Clone)]
pub struct Secret<const N: usize> {
    len: usize,
    bytes: [u8; N],
}

impl<const N: usize> Secret<N> {
    /// The longest secret this type holds.
    pub const CAPACITY: usize = N;

    /// Copies `value` into a new secret, or `None` if it is longer than `N`.
    pub fn new(value: &[u8]) -> Option<Self> {
        if value.len() > N {
            return None;
        }
        let mut bytes = [0u8; N];
        bytes[..value.len()].copy_from_slice(value);
        Some(Secret {
            len: value.len(),
            bytes,
        })
    }

    /// The secret bytes, for the protocol code that keys a MAC or a PRF with them.
    pub fn expose(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Length in bytes (not secret: the wire reveals it anyway for keys).
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` for the empty secret.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<const N: usize> Drop for Secret<N> {
    fn drop(&mut self) {
        self.bytes.zeroize();
        self.len = 0;
    }
}

impl<const N: usize> PartialEq for Secret<N> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && bool::from(self.expose().ct_eq(other.expose()))
    }
}

impl<const N: usize> Eq for Secret<N> {}

impl<const N: usize> fmt::Debug for Secret<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A pre-shared key (`tunnel-group NAME ipsec-attributes` / `pre-shared-key`).
/// The appliance accepts 1 to 128 characters.
pub type PreSharedKey = Secret<128>;

/// A RADIUS shared secret (`aaa-server G (IF) host IP` / `key`). The appliance
/// accepts up to 127 characters; RFC 2865 §3 sets no limit.
pub type RadiusKey = Secret<127>;

/// The NT password hash: MD4 over the UTF-16LE password (RFC 2433 §A.2,
/// RFC 2759 §8.3 `NtPasswordHash`).
#[derive(Clone)]
pub struct NtHash([u8; 16]);

impl NtHash {
    /// Hashes a clear-text password.
    pub fn from_password(password: &str) -> Self {
        let mut md4 = Md4::new();
        for unit in password.encode_utf16() {
            md4.update(unit.to_le_bytes());
        }
        NtHash(md4.finalize().into())
    }

    /// Wraps a hash already computed (for example decoded from `nt-encrypted`).
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        NtHash(bytes)
    }

    /// The 16 hash bytes, for MS-CHAP (RFC 2433 §A.5, RFC 2759 §8).
    pub fn expose(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses the appliance's printed form: Base64 of the 16 bytes.
    pub fn from_appliance(text: &str) -> Option<Self> {
        let mut out = [0u8; 16];
        if base64_decode(text.as_bytes(), &mut out)? != 16 {
            out.zeroize();
            return None;
        }
        Some(NtHash(out))
    }

    /// Writes the appliance's printed form (24 characters of Base64).
    pub fn write_appliance(&self, out: &mut impl fmt::Write) -> fmt::Result {
        base64_encode(&self.0, out)
    }

    /// `true` if `password` hashes to this value, in constant time.
    pub fn verify(&self, password: &str) -> bool {
        let offered = NtHash::from_password(password);
        bool::from(offered.0.ct_eq(&self.0))
    }
}

impl Drop for NtHash {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl PartialEq for NtHash {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.0.ct_eq(&other.0))
    }
}

impl Eq for NtHash {}

impl fmt::Debug for NtHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NtHash(<redacted>)")
    }
}

/// The appliance's `encrypted` password form (12 bytes kept of an MD5 digest).
#[derive(Clone)]
pub struct AsaMd5Hash([u8; 12]);

/// The longest password the appliance accepts for a local user.
pub const MAX_PASSWORD_LEN: usize = 32;

impl AsaMd5Hash {
    /// Hashes a clear-text password for user `username`, or `None` if the
    /// password is longer than [`MAX_PASSWORD_LEN`] bytes.
    pub fn from_password(password: &[u8], username: &str) -> Option<Self> {
        if password.len() > MAX_PASSWORD_LEN {
            return None;
        }
        let mut block = Zeroizing::new([0u8; 32]);
        block[..password.len()].copy_from_slice(password);
        let mut len = password.len();
        let user = username.as_bytes();
        // The appliance appends the user name cycled to exactly four bytes,
        // but only while the result still fits 32 bytes.
        if !user.is_empty() && password.len() < 28 {
            for i in 0..4 {
                block[len] = user[i % user.len()];
                len += 1;
            }
        }
        let padded = if len > 16 { 32 } else { 16 };
        let digest: Zeroizing<[u8; 16]> = Zeroizing::new(Md5::digest(&block[..padded]).into());
        let mut kept = [0u8; 12];
        let mut k = 0;
        for (i, b) in digest.iter().enumerate() {
            if (i + 1) % 4 != 0 {
                kept[k] = *b;
                k += 1;
            }
        }
        Some(AsaMd5Hash(kept))
    }

    /// Parses the printed form: 16 characters of the crypt alphabet.
    pub fn from_appliance(text: &str) -> Option<Self> {
        let t = text.as_bytes();
        if t.len() != 16 {
            return None;
        }
        let mut out = [0u8; 12];
        for (group, chunk) in t.chunks_exact(4).enumerate() {
            let mut v: u32 = 0;
            for (i, c) in chunk.iter().enumerate() {
                v |= u32::from(h64_value(*c)?) << (6 * i);
            }
            out[group * 3..group * 3 + 3].copy_from_slice(&v.to_le_bytes()[..3]);
        }
        Some(AsaMd5Hash(out))
    }

    /// Writes the printed form (16 characters).
    pub fn write_appliance(&self, out: &mut impl fmt::Write) -> fmt::Result {
        for chunk in self.0.chunks_exact(3) {
            let v = u32::from(chunk[0]) | u32::from(chunk[1]) << 8 | u32::from(chunk[2]) << 16;
            for i in 0..4 {
                let idx = (v >> (6 * i)) & 0x3f;
                out.write_char(char::from(H64[idx as usize]))?;
            }
        }
        Ok(())
    }

    /// `true` if `password` for `username` hashes to this value, in constant time.
    pub fn verify(&self, password: &[u8], username: &str) -> bool {
        match AsaMd5Hash::from_password(password, username) {
            Some(offered) => bool::from(offered.0.ct_eq(&self.0)),
            None => false,
        }
    }
}

impl Drop for AsaMd5Hash {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl PartialEq for AsaMd5Hash {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.0.ct_eq(&other.0))
    }
}

impl Eq for AsaMd5Hash {}

impl fmt::Debug for AsaMd5Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AsaMd5Hash(<redacted>)")
    }
}

const H64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn h64_value(c: u8) -> Option<u8> {
    H64.iter()
        .position(|&x| x == c)
        .and_then(|p| u8::try_from(p).ok())
}

fn b64_value(c: u8) -> Option<u8> {
    B64.iter()
        .position(|&x| x == c)
        .and_then(|p| u8::try_from(p).ok())
}

/// Standard Base64 (RFC 4648 §4) with padding.
fn base64_encode(data: &[u8], out: &mut impl fmt::Write) -> fmt::Result {
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let v = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = (v >> (18 - 6 * i)) & 0x3f;
                out.write_char(char::from(B64[idx as usize]))?;
            } else {
                out.write_char('=')?;
            }
        }
    }
    Ok(())
}

/// Decodes canonical padded Base64 into `out`; returns the byte count.
fn base64_decode(text: &[u8], out: &mut [u8]) -> Option<usize> {
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let mut n = 0;
    let groups = text.len() / 4;
    for (g, chunk) in text.chunks_exact(4).enumerate() {
        let last = g + 1 == groups;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut v: u32 = 0;
        for (i, &c) in chunk.iter().enumerate() {
            let d = if i >= 4 - pad { 0 } else { b64_value(c)? };
            v |= u32::from(d) << (18 - 6 * i);
        }
        let bytes = v.to_be_bytes();
        let take = 3 - pad;
        // Non-canonical encodings (stray low bits) are refused.
        if bytes[1 + take..].iter().any(|&b| b != 0) {
            return None;
        }
        let dst = out.get_mut(n..n + take)?;
        dst.copy_from_slice(&bytes[1..1 + take]);
        n += take;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    fn nt_text(h: &NtHash) -> String {
        let mut s = String::new();
        h.write_appliance(&mut s).unwrap();
        s
    }

    fn md5_text(h: &AsaMd5Hash) -> String {
        let mut s = String::new();
        h.write_appliance(&mut s).unwrap();
        s
    }

    /// RFC 2759 §9.2: NtPasswordHash("clientPass").
    #[test]
    fn nt_hash_rfc2759() {
        let h = NtHash::from_password("clientPass");
        assert_eq!(
            h.expose(),
            &[
                0x44, 0xEB, 0xBA, 0x8D, 0x53, 0x12, 0xB8, 0xD6, 0x11, 0x47, 0x44, 0x11, 0xF5, 0x69,
                0x89, 0xAE
            ]
        );
    }

    /// Cisco ASA CLI configuration guide, "Configuring the local database":
    /// the password "test" entered with `mschap` is shown by
    /// `show running-config` as `DLaUiAX3l78qgoB5c7iVNw== nt-encrypted`.
    #[test]
    fn nt_encrypted_form_of_the_appliance_guide() {
        let h = NtHash::from_password("test");
        assert_eq!(nt_text(&h), "DLaUiAX3l78qgoB5c7iVNw==");
        assert_eq!(NtHash::from_appliance("DLaUiAX3l78qgoB5c7iVNw=="), Some(h));
        assert!(NtHash::from_appliance("DLaUiAX3l78qgoB5c7iVNw=").is_none());
        assert!(NtHash::from_appliance("DLaUiAX3l78qgoB5c7iVNx==").is_none());
        assert!(NtHash::from_appliance("DLaUiAX3l78qgoB5c7iV!w==").is_none());
        assert!(NtHash::from_appliance("").is_none());
    }

    /// Vectors marked "confirmed ASA 9.6" in passlib 1.7.4's
    /// `tests/test_handlers_cisco.py` (`cisco_asa`), and the well-known
    /// empty enable password `8Ry2YjIyt7RRXU24`.
    #[test]
    fn asa_md5_vectors_confirmed_on_the_appliance() {
        let cases: &[(&str, &str, &str)] = &[
            ("", "", "8Ry2YjIyt7RRXU24"),
            ("01234567", "user", "PNZ4ycbbZ0jp1.j1"),
            ("0123456789ab", "user", "f.T4BKdzdNkjxQl7"),
            ("0123456789abc", "user", "8Q/FZeam5ai1A47p"),
            ("0123456789abc", "user1234", "8Q/FZeam5ai1A47p"),
            ("0123456789abc", "365", "NIwkusG9hmmMy6ZQ"),
            ("0123456789abcd", "adm", "RtOmSeoCs4AUdZqZ"),
            ("0123456789abcdef", "user", "IneB.wc9sfRzLPoh"),
            ("0123456789abcdef", "", ".7nfVBEIEu4KbF/1"),
            ("0123456789abcdefq", "user", "/dwqyD7nGdwSrDwk"),
            ("0123456789abcdefqwertyuiopa", "user", "zynfWw3UtszxLMgL"),
            ("0123456789abcdefqwertyuiopas", "user", "W6nbOddI0SutTK7m"),
            (
                "0123456789abcdefqwertyuiopasdfgh",
                "user",
                "5hPT/iC6DnoBxo6a",
            ),
        ];
        for (pw, user, expected) in cases {
            let h = AsaMd5Hash::from_password(pw.as_bytes(), user).unwrap();
            assert_eq!(md5_text(&h), *expected, "password {pw:?} user {user:?}");
            let parsed = AsaMd5Hash::from_appliance(expected).unwrap();
            assert_eq!(parsed, h);
            assert!(parsed.verify(pw.as_bytes(), user));
            assert!(!parsed.verify(b"wrong", user));
        }
        assert!(AsaMd5Hash::from_password(&[b'a'; 33], "user").is_none());
        assert!(AsaMd5Hash::from_appliance("8Ry2YjIyt7RRXU2").is_none());
        assert!(AsaMd5Hash::from_appliance("8Ry2YjIyt7RRXU2!").is_none());
    }

    #[test]
    fn debug_redacts() {
        let k = PreSharedKey::new(b"cisco123").unwrap();
        let s = std::format!(
            "{k:?} {:?} {:?}",
            NtHash::from_password("x"),
            AsaMd5Hash::from_password(b"x", "u").unwrap()
        );
        assert!(!s.contains("cisco123"));
        assert!(s.contains("redacted"));
        assert_eq!(k, PreSharedKey::new(b"cisco123").unwrap());
        assert_ne!(k, PreSharedKey::new(b"cisco124").unwrap());
        assert_ne!(k, PreSharedKey::new(b"cisco12").unwrap());
        assert!(PreSharedKey::new(&[0u8; 129]).is_none());
    }

    #[test]
    fn base64_roundtrip_lengths() {
        for len in 0..20u8 {
            let data: std::vec::Vec<u8> = (0..len).map(|b| b.wrapping_mul(37)).collect();
            let mut s = String::new();
            base64_encode(&data, &mut s).unwrap();
            let mut out = [0u8; 32];
            let n = base64_decode(s.as_bytes(), &mut out).unwrap();
            assert_eq!(&out[..n], &data[..]);
        }
    }
}
