//! Hidden AVPs (RFC 2661 §4.3) and the tunnel authentication response
//! (RFC 2661 §4.4.3, Challenge Response; CHAP as in RFC 1994).
//!
//! A hidden value is the *hidden AVP subformat* (Original Length, value,
//! padding) XORed with an MD5 key stream:
//! `b1 = MD5(Attribute Type | secret | Random Vector)`, `c1 = p1 ^ b1`,
//! `bi = MD5(secret | c(i-1))`, `ci = pi ^ bi`.

use md5::{Digest, Md5};

use super::avp::{AVP_HEADER_LEN, FLAG_H};
use super::{AvpType, WireError, be16};

/// What the sender needs to hide AVPs: the tunnel secret and the Random
/// Vector AVP value that precedes the hidden AVPs in the message.
#[derive(Clone, Copy)]
pub struct Hiding<'a> {
    /// The shared tunnel secret.
    pub secret: &'a [u8],
    /// The value of the message's Random Vector AVP.
    pub random_vector: &'a [u8],
}

impl core::fmt::Debug for Hiding<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Hiding").finish_non_exhaustive()
    }
}

/// XORs `data` in place with the §4.3 key stream. `encrypt` says whether
/// `data` is plaintext (hiding) or ciphertext (recovering): the chaining
/// uses the ciphertext block either way.
fn crypt(attr: u16, secret: &[u8], rv: &[u8], data: &mut [u8], encrypt: bool) {
    let mut h = Md5::new();
    h.update(attr.to_be_bytes());
    h.update(secret);
    h.update(rv);
    let mut key: [u8; 16] = h.finalize().into();
    for chunk in data.chunks_mut(16) {
        let mut cipher = [0u8; 16];
        for (i, byte) in chunk.iter_mut().enumerate() {
            if !encrypt {
                cipher[i] = *byte;
            }
            *byte ^= key[i];
            if encrypt {
                cipher[i] = *byte;
            }
        }
        let mut h = Md5::new();
        h.update(secret);
        h.update(&cipher[..chunk.len()]);
        key = h.finalize().into();
    }
}

/// Hides a subformat in place: `subformat` holds the 2-byte Original
/// Length, the value and any padding (RFC 2661 §4.3).
pub(crate) fn hide(attr: u16, hiding: &Hiding<'_>, subformat: &mut [u8]) {
    crypt(attr, hiding.secret, hiding.random_vector, subformat, true);
}

/// Recovers every hidden AVP of a control message in place, so that the
/// rest of the crate sees plain AVPs only: each value is decrypted, its
/// Original Length prefix and padding are removed by moving the following
/// bytes down, its H bit is cleared and its Length fixed, and the header's
/// Length field is updated. Returns the new message length.
///
/// `msg` is a whole control message whose header has passed
/// [`Packet::check_len`](super::Packet::check_len) and whose length is the
/// header's Length field.
///
/// # Errors
/// [`WireError::Hidden`] when a hidden AVP comes without a secret or a
/// preceding Random Vector, or its Original Length exceeds its value;
/// [`WireError::Truncated`]/[`WireError::AvpLength`] for a malformed AVP.
pub fn unhide_in_place(msg: &mut [u8], secret: Option<&[u8]>) -> Result<usize, WireError> {
    const HDR: usize = 12;
    let mut end = msg.len();
    let mut pos = HDR;
    let mut rv: Option<(usize, usize)> = None;
    while pos < end {
        if end - pos < AVP_HEADER_LEN {
            return Err(WireError::Truncated);
        }
        let len = usize::from(be16(msg, pos) & 0x03ff);
        if len < AVP_HEADER_LEN {
            return Err(WireError::AvpLength);
        }
        if len > end - pos {
            return Err(WireError::Truncated);
        }
        let vendor = be16(msg, pos + 2);
        let attr = be16(msg, pos + 4);
        let hidden = msg[pos] & FLAG_H != 0;
        let value = pos + AVP_HEADER_LEN..pos + len;
        if vendor == 0 && AvpType::from(attr) == AvpType::RandomVector && !hidden {
            rv = Some((value.start, value.end));
        }
        if !hidden {
            pos += len;
            continue;
        }
        let (Some(secret), Some((rs, re))) = (secret, rv) else {
            return Err(WireError::Hidden);
        };
        if value.len() < 2 {
            return Err(WireError::Hidden);
        }
        // The Random Vector precedes this AVP, so a copy of it is not needed
        // for the borrow, but `msg` is borrowed mutably for the value.
        let (head, tail) = msg.split_at_mut(value.start);
        crypt(attr, secret, &head[rs..re], &mut tail[..value.len()], false);
        let orig = usize::from(be16(msg, value.start));
        if orig + 2 > value.len() {
            return Err(WireError::Hidden);
        }
        msg.copy_within(value.start + 2..value.start + 2 + orig, value.start);
        let new_len = AVP_HEADER_LEN + orig;
        msg.copy_within(pos + len..end, pos + new_len);
        end -= len - new_len;
        let keep = msg[pos] & !(FLAG_H | 0x03);
        // new_len <= len <= 1023: fits the 10-bit field.
        let [hi, lo] = u16::try_from(new_len).unwrap_or(0).to_be_bytes();
        msg[pos] = keep | (hi & 0x03);
        msg[pos + 1] = lo;
        pos += new_len;
    }
    let total = u16::try_from(end).map_err(|_| WireError::Truncated)?;
    msg[2..4].copy_from_slice(&total.to_be_bytes());
    Ok(end)
}

/// The Challenge Response of RFC 2661 §4.4.3:
/// `MD5(message type | secret | challenge)`, where the message type is that
/// of the message carrying the response (2 in SCCRP, 3 in SCCCN), as the
/// CHAP identifier of RFC 1994.
pub fn challenge_response(message_type: u8, secret: &[u8], challenge: &[u8]) -> [u8; 16] {
    let mut h = Md5::new();
    h.update([message_type]);
    h.update(secret);
    h.update(challenge);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    // Known answers computed independently with Python's hashlib from the
    // formulas of RFC 2661 §4.3 and §4.4.3 (script in docs/ARCHITECTURE.md,
    // l2tp-core, "Test vectors").
    const RV: [u8; 16] = hex!("000102030405060708090a0b0c0d0e0f");

    #[test]
    fn challenge_response_known_answer() {
        let challenge = hex!("00112233445566778899aabbccddeeff");
        assert_eq!(
            challenge_response(2, b"secret", &challenge),
            hex!("45842102c2f5c31ac7b1610b789b451d")
        );
    }

    fn message_with(avps: &[u8], buf: &mut [u8; 128]) -> usize {
        let n = 12 + avps.len();
        buf[..12].copy_from_slice(&hex!("c802 0000 0001 0000 0000 0000"));
        buf[2..4].copy_from_slice(&u16::try_from(n).unwrap().to_be_bytes());
        buf[12..n].copy_from_slice(avps);
        n
    }

    #[test]
    fn hide_known_answer_one_block() {
        let h = Hiding {
            secret: b"secret",
            random_vector: &RV,
        };
        let mut sub = hex!("0002 1234");
        hide(14, &h, &mut sub);
        assert_eq!(sub, hex!("3b5bf16b"));
    }

    #[test]
    fn unhide_two_blocks_and_compacts() {
        // Random Vector, hidden Calling Number (31-byte subformat: two MD5
        // blocks), hidden Assigned Session ID, then a plain AVP that must move.
        let mut avps = [0u8; 22 + 37 + 10 + 8];
        avps[..6].copy_from_slice(&hex!("8016 0000 0024"));
        avps[6..22].copy_from_slice(&RV);
        avps[22..28].copy_from_slice(&hex!("c025 0000 0016"));
        avps[28..59].copy_from_slice(&hex!(
            "75d82cc7b21d807e68d546262f417a95285b8a77dee32dee1c94a97ca19086"
        ));
        avps[59..69].copy_from_slice(&hex!("c00a 0000 000e 3b5b f16b"));
        avps[69..77].copy_from_slice(&hex!("8008 0000 0009 abcd"));
        let mut buf = [0u8; 128];
        let n = message_with(&avps, &mut buf);
        let new = unhide_in_place(&mut buf[..n], Some(b"secret")).unwrap();
        assert_eq!(new, n - 4);
        assert_eq!(u16::from_be_bytes([buf[2], buf[3]]) as usize, new);
        let body = &buf[12 + 22..new];
        assert_eq!(&body[..6], &hex!("8023 0000 0016"));
        assert_eq!(&body[6..35], b"+1 555 0100 calling from afar");
        assert_eq!(&body[35..43], &hex!("8008 0000 000e 1234"));
        assert_eq!(&body[43..], &hex!("8008 0000 0009 abcd"));
    }

    #[test]
    fn unhide_refusals() {
        let mut buf = [0u8; 128];
        // Hidden AVP without a Random Vector before it.
        let n = message_with(&hex!("c00a 0000 000e 3b5b f16b"), &mut buf);
        assert_eq!(
            unhide_in_place(&mut buf[..n], Some(b"secret")),
            Err(WireError::Hidden)
        );
        // Without a secret.
        let mut avps = [0u8; 32];
        avps[..6].copy_from_slice(&hex!("8016 0000 0024"));
        avps[6..22].copy_from_slice(&RV);
        avps[22..].copy_from_slice(&hex!("c00a 0000 000e 3b5b f16b"));
        let n = message_with(&avps, &mut buf);
        assert_eq!(unhide_in_place(&mut buf[..n], None), Err(WireError::Hidden));
        // Wrong secret: the Original Length decrypts to garbage beyond the value.
        let n = message_with(&avps, &mut buf);
        assert_eq!(
            unhide_in_place(&mut buf[..n], Some(b"wrong")),
            Err(WireError::Hidden)
        );
    }
}
