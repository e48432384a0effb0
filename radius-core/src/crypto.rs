//! The shared-secret cryptography of RADIUS: User-Password hiding (RFC 2865
//! §5.2), the Response Authenticator (§3), the Accounting-Request
//! Authenticator (RFC 2866 §3) and the Message-Authenticator (RFC 3579 §3.2).
//! All of it is MD5, as the RFCs fix it.

use crate::wire::{AttributeType, HEADER_LEN, Packet};
use core::fmt;
use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

/// Longest User-Password (RFC 2865 §5.2: 128 octets).
pub const MAX_PASSWORD_LEN: usize = 128;

/// Why a password could not be hidden or a response was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CryptoError {
    /// More than 128 octets, or a hidden value that is not 16..=128 octets in
    /// steps of 16.
    BadPasswordLength,
    /// The output buffer is too small.
    BufferTooSmall,
    /// The Response Authenticator does not match: wrong secret or forged.
    BadResponseAuthenticator,
    /// The Message-Authenticator does not match.
    BadMessageAuthenticator,
    /// A response with EAP-Message but no Message-Authenticator (RFC 3579
    /// §3.2), or none when the configuration requires one.
    MissingMessageAuthenticator,
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BadPasswordLength => "User-Password length not allowed",
            Self::BufferTooSmall => "buffer too small",
            Self::BadResponseAuthenticator => "Response Authenticator mismatch",
            Self::BadMessageAuthenticator => "Message-Authenticator mismatch",
            Self::MissingMessageAuthenticator => "Message-Authenticator missing",
        })
    }
}

impl core::error::Error for CryptoError {}

/// The hidden length of a password: padded with zeros to a multiple of 16,
/// at least 16.
pub const fn hidden_len(password_len: usize) -> usize {
    if password_len == 0 {
        16
    } else {
        password_len.div_ceil(16) * 16
    }
}

fn xor_chain(secret: &[u8], request_authenticator: &[u8; 16], data: &mut [u8], decrypt: bool) {
    let mut prev = *request_authenticator;
    for chunk in data.chunks_mut(16) {
        let b = Md5::new()
            .chain_update(secret)
            .chain_update(prev)
            .finalize();
        let mut cipher = [0u8; 16];
        if decrypt {
            cipher[..chunk.len()].copy_from_slice(chunk);
        }
        for (c, k) in chunk.iter_mut().zip(b.iter()) {
            *c ^= k;
        }
        if !decrypt {
            cipher[..chunk.len()].copy_from_slice(chunk);
        }
        prev = cipher;
    }
}

/// Hides a User-Password in place (RFC 2865 §5.2): `buf` holds the password
/// padded with zeros to [`hidden_len`], and becomes `c(1) | c(2) | ...` with
/// `c(i) = p(i) XOR MD5(S | c(i-1))`, `c(0)` = the Request Authenticator.
///
/// # Errors
/// [`CryptoError::BadPasswordLength`] unless `buf` is 16..=128 octets in steps of 16.
pub fn hide_user_password(
    secret: &[u8],
    request_authenticator: &[u8; 16],
    buf: &mut [u8],
) -> Result<(), CryptoError> {
    if buf.is_empty() || buf.len() > MAX_PASSWORD_LEN || !buf.len().is_multiple_of(16) {
        return Err(CryptoError::BadPasswordLength);
    }
    xor_chain(secret, request_authenticator, buf, false);
    Ok(())
}

/// Recovers a hidden User-Password in place and returns its length without
/// the zero padding. (A client never needs this; tests and servers do.)
///
/// # Errors
/// [`CryptoError::BadPasswordLength`].
pub fn unhide_user_password(
    secret: &[u8],
    request_authenticator: &[u8; 16],
    buf: &mut [u8],
) -> Result<usize, CryptoError> {
    if buf.is_empty() || buf.len() > MAX_PASSWORD_LEN || !buf.len().is_multiple_of(16) {
        return Err(CryptoError::BadPasswordLength);
    }
    xor_chain(secret, request_authenticator, buf, true);
    Ok(buf.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1))
}

/// `MD5(Code | Identifier | Length | authenticator | Attributes | Secret)`:
/// the Response Authenticator of a response when `authenticator` is the
/// request's (RFC 2865 §3), and the Accounting-Request Authenticator when it
/// is sixteen zeros (RFC 2866 §3).
pub fn packet_authenticator(packet: &[u8], authenticator: &[u8; 16], secret: &[u8]) -> [u8; 16] {
    let head = packet.get(..4).unwrap_or_default();
    let attrs = packet.get(HEADER_LEN..).unwrap_or_default();
    Md5::new()
        .chain_update(head)
        .chain_update(authenticator)
        .chain_update(attrs)
        .chain_update(secret)
        .finalize()
        .into()
}

/// `HMAC-MD5(Secret, packet)` with the Message-Authenticator value taken as
/// sixteen zeros and `authenticator` in the header (the packet's own for a
/// request, the request's for a response) (RFC 3579 §3.2). `ma_value` is the
/// offset of the Message-Authenticator's value in `packet`.
pub fn message_authenticator(
    packet: &[u8],
    authenticator: &[u8; 16],
    ma_value: usize,
    secret: &[u8],
) -> [u8; 16] {
    let Ok(mut mac) = <Hmac<Md5> as KeyInit>::new_from_slice(secret) else {
        return [0; 16];
    };
    mac.update(packet.get(..4).unwrap_or_default());
    mac.update(authenticator);
    mac.update(packet.get(HEADER_LEN..ma_value).unwrap_or_default());
    mac.update(&[0u8; 16]);
    mac.update(packet.get(ma_value + 16..).unwrap_or_default());
    mac.finalize().into_bytes().into()
}

/// Where the value of the (first) Message-Authenticator lies in `packet`,
/// if it has a well-formed one.
pub fn find_message_authenticator(packet: &Packet<&[u8]>) -> Option<usize> {
    let mut at = HEADER_LEN;
    for attr in packet.attributes() {
        let attr = attr.ok()?;
        if attr.kind == AttributeType::MessageAuthenticator {
            return (attr.value.len() == 16).then_some(at + 2);
        }
        at += 2 + attr.value.len();
    }
    None
}

/// Checks a response against the request it answers: the Response
/// Authenticator, and the Message-Authenticator when present (required when
/// the response carries EAP-Message, or when `require_message_authenticator`).
/// Comparisons are constant-time.
///
/// # Errors
/// A [`CryptoError`] naming the check that failed.
pub fn verify_response(
    response: &Packet<&[u8]>,
    request_authenticator: &[u8; 16],
    secret: &[u8],
    require_message_authenticator: bool,
) -> Result<(), CryptoError> {
    let bytes = response.as_bytes();
    let expected = packet_authenticator(bytes, request_authenticator, secret);
    if !bool::from(expected.ct_eq(&response.authenticator())) {
        return Err(CryptoError::BadResponseAuthenticator);
    }
    match find_message_authenticator(response) {
        Some(at) => {
            let expected = message_authenticator(bytes, request_authenticator, at, secret);
            if !bool::from(expected[..].ct_eq(&bytes[at..at + 16])) {
                return Err(CryptoError::BadMessageAuthenticator);
            }
        }
        None => {
            if require_message_authenticator
                || response.attribute(AttributeType::EapMessage).is_some()
            {
                return Err(CryptoError::MissingMessageAuthenticator);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use testkit::vectors;

    /// Every packet of the zeek capture (secret "testing123"): hidden
    /// passwords, Response Authenticators, Message-Authenticators.
    #[test]
    fn capture_vectors() {
        let file = vectors::load("radius-chap-eapmd5-from-capture.toml");
        let secret = vectors::string(&file, "secret_ascii").as_bytes().to_vec();
        let packets = vectors::cases(&file, "packet");
        let by_frame = |frame: i64| {
            packets
                .iter()
                .find(|p| vectors::integer(p, "frame") == frame)
                .map(|p| vectors::bytes(p, "hex"))
                .unwrap()
        };
        let (mut hidden, mut responses, mut mas) = (0, 0, 0);
        for case in &packets {
            let bytes = vectors::bytes(case, "hex");
            let p = Packet::new_checked(&bytes[..]).unwrap();
            if case.contains_key("user_password_hidden") {
                let plain = vectors::bytes(case, "user_password_plain");
                let mut buf = [0u8; 16];
                buf[..plain.len()].copy_from_slice(&plain);
                hide_user_password(&secret, &p.authenticator(), &mut buf).unwrap();
                assert_eq!(buf[..], vectors::bytes(case, "user_password_hidden")[..]);
                assert_eq!(p.attribute(AttributeType::UserPassword), Some(&buf[..]));
                let n = unhide_user_password(&secret, &p.authenticator(), &mut buf).unwrap();
                assert_eq!(buf[..n], plain[..]);
                hidden += 1;
            }
            if let Some(at) = find_message_authenticator(&p)
                && matches!(p.code(), crate::wire::Code::AccessRequest)
            {
                let ma = message_authenticator(&bytes, &p.authenticator(), at, &secret);
                assert_eq!(ma[..], bytes[at..at + 16]);
                mas += 1;
            }
            if case.contains_key("request_frame") {
                let request = by_frame(vectors::integer(case, "request_frame"));
                let ra = Packet::new_checked(&request[..]).unwrap().authenticator();
                verify_response(&p, &ra, &secret, false).unwrap();
                assert_eq!(
                    verify_response(&p, &ra, b"testing124", false),
                    Err(CryptoError::BadResponseAuthenticator)
                );
                responses += 1;
            }
        }
        assert!(
            hidden >= 2 && responses >= 5 && mas >= 2,
            "{hidden} {responses} {mas}"
        );
    }

    #[test]
    fn long_passwords_chain_through_blocks() {
        let ra = [0x5a; 16];
        let mut buf = [0u8; 48];
        buf[..40].copy_from_slice(&[b'x'; 40]);
        hide_user_password(b"s", &ra, &mut buf).unwrap();
        assert_ne!(
            buf[..16],
            buf[16..32],
            "each block chains on the previous ciphertext"
        );
        assert_eq!(unhide_user_password(b"s", &ra, &mut buf).unwrap(), 40);
        assert_eq!(hidden_len(0), 16);
        assert_eq!(hidden_len(16), 16);
        assert_eq!(hidden_len(17), 32);
        assert_eq!(
            hide_user_password(b"s", &ra, &mut [0u8; 20]),
            Err(CryptoError::BadPasswordLength)
        );
        assert_eq!(
            hide_user_password(b"s", &ra, &mut [0u8; 144]),
            Err(CryptoError::BadPasswordLength)
        );
    }
}
