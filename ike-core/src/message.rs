//! Helpers shared by the exchanges: walking a received payload chain,
//! encrypting and decrypting messages (RFC 2409 Appendix B), recognising
//! retransmissions, and NAT detection (RFC 3947 §3.2).

use crate::crypto::{CipherAlg, HashAlg, MAX_BLOCK_LEN, Secret, nat_d};
use crate::event::Error;
use crate::wire::{HEADER_LEN, Payload, PayloadIter, PayloadType};
use core::net::SocketAddr;

/// Most payloads a message may carry (Windows sends about a dozen vendor
/// IDs with its first message).
pub(crate) const MAX_PAYLOADS: usize = 32;

/// A received payload chain, checked.
#[derive(Debug)]
pub(crate) struct Parsed<'a> {
    pub(crate) items: heapless::Vec<Payload<'a>, MAX_PAYLOADS>,
    /// Offset of the end of the chain in the body (padding excluded).
    pub(crate) end: usize,
}

impl<'a> Parsed<'a> {
    /// Walks the chain of `body` starting with `first`.
    ///
    /// # Errors
    /// [`Error::Wire`] for bad lengths or too many payloads,
    /// [`Error::InvalidPayloadType`] for an unknown type below 128
    /// (RFC 2408 §5.1).
    pub(crate) fn new(first: PayloadType, body: &'a [u8]) -> Result<Self, Error> {
        let mut items = heapless::Vec::new();
        let mut it = PayloadIter::new(first, body);
        for p in it.by_ref() {
            let p = p?;
            if let PayloadType::Unknown(n) = p.kind
                && p.kind.is_invalid()
            {
                return Err(Error::InvalidPayloadType(n));
            }
            items
                .push(p)
                .map_err(|_| Error::Wire(crate::wire::WireError::Malformed))?;
        }
        Ok(Self {
            items,
            end: it.position(),
        })
    }

    /// The first payload of `kind`.
    pub(crate) fn get(&self, kind: PayloadType) -> Option<&Payload<'a>> {
        self.items.iter().find(|p| p.kind == kind)
    }

    /// Every payload of `kind`.
    pub(crate) fn all(&self, kind: PayloadType) -> impl Iterator<Item = &Payload<'a>> {
        self.items.iter().filter(move |p| p.kind == kind)
    }

    /// Every NAT-D payload, in either numbering.
    pub(crate) fn nat_d(&self) -> impl Iterator<Item = &Payload<'a>> {
        self.items.iter().filter(|p| p.kind.is_nat_d())
    }

    /// Every NAT-OA payload, in either numbering.
    pub(crate) fn nat_oa(&self) -> impl Iterator<Item = &Payload<'a>> {
        self.items.iter().filter(|p| p.kind.is_nat_oa())
    }
}

/// A digest of a whole datagram, to recognise the peer's retransmission
/// of its last message.
pub(crate) fn digest(msg: &[u8]) -> [u8; 16] {
    let d = HashAlg::Sha1.hash(&[msg]);
    let mut out = [0u8; 16];
    out.copy_from_slice(&d.as_slice()[..16]);
    out
}

/// Decrypts the body of `msg` (everything after the header, up to its
/// Length) in place, starting from `iv`. Returns the IV for the next
/// message (the last ciphertext block); `iv` itself is not changed.
///
/// # Errors
/// [`Error::Decryption`] if the body is empty or not whole blocks.
pub(crate) fn decrypt(
    cipher: CipherAlg,
    ka: &[u8],
    iv: &Secret<MAX_BLOCK_LEN>,
    msg: &mut [u8],
) -> Result<Secret<MAX_BLOCK_LEN>, Error> {
    let body = msg.get_mut(HEADER_LEN..).ok_or(Error::Decryption)?;
    if body.is_empty() {
        return Err(Error::Decryption);
    }
    let mut next = [0u8; MAX_BLOCK_LEN];
    let bl = cipher.block_len();
    next[..bl.min(iv.len())].copy_from_slice(&iv.as_slice()[..bl.min(iv.len())]);
    if !cipher.decrypt(ka, &mut next[..bl], body) {
        return Err(Error::Decryption);
    }
    Secret::from_slice(&next[..bl]).ok_or(Error::Decryption)
}

/// Pads the body of the message in `buf[..len]` with zeros to whole
/// blocks (as strongSwan, Windows and the appliance do; RFC 2408 §3.1 does
/// not fix the padding bytes), sets the header Length, encrypts the body
/// with `iv` and advances `iv` to the last ciphertext block. Returns the
/// message length.
///
/// # Errors
/// [`Error::MessageTooLarge`] if the padding does not fit in `buf`.
pub(crate) fn encrypt(
    cipher: CipherAlg,
    ka: &[u8],
    iv: &mut Secret<MAX_BLOCK_LEN>,
    buf: &mut [u8],
    len: usize,
) -> Result<usize, Error> {
    let bl = cipher.block_len();
    let body_len = len.checked_sub(HEADER_LEN).ok_or(Error::MessageTooLarge)?;
    let padded = body_len.div_ceil(bl).max(1) * bl;
    let total = HEADER_LEN + padded;
    if total > buf.len() {
        return Err(Error::MessageTooLarge);
    }
    buf[len..total].fill(0);
    let total32 = u32::try_from(total).map_err(|_| Error::MessageTooLarge)?;
    buf[24..28].copy_from_slice(&total32.to_be_bytes());
    let mut next = [0u8; MAX_BLOCK_LEN];
    next[..bl].copy_from_slice(iv.as_slice().get(..bl).ok_or(Error::Decryption)?);
    if !cipher.encrypt(ka, &mut next[..bl], &mut buf[HEADER_LEN..total]) {
        return Err(Error::MessageTooLarge);
    }
    *iv = Secret::from_slice(&next[..bl]).ok_or(Error::Decryption)?;
    Ok(total)
}

/// NAT detection from the NAT-D payloads a peer sent (RFC 3947 §3.2):
/// the first is the hash of the address it sent to (ours), the others of
/// its own. Returns (the peer is behind a NAT, we are behind a NAT).
pub(crate) fn detect_nat<'a>(
    h: HashAlg,
    cky_i: &[u8; 8],
    cky_r: &[u8; 8],
    remote: SocketAddr,
    local: SocketAddr,
    mut hashes: impl Iterator<Item = &'a [u8]>,
) -> (bool, bool) {
    let ours = nat_d(h, cky_i, cky_r, local);
    let theirs = nat_d(h, cky_i, cky_r, remote);
    let local_behind = !hashes.next().is_some_and(|d| ours.ct_eq(d));
    let remote_behind = !hashes.any(|d| theirs.ct_eq(d));
    (remote_behind, local_behind)
}
