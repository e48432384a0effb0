//! The generic payload header and the payload chain (RFC 2408 §3.2).

use super::{WireError, be16, code_point};

/// Length of the generic payload header.
pub const GENERIC_HEADER_LEN: usize = 4;

code_point! {
    /// Next Payload types (RFC 2408 §3.1; NAT-D and NAT-OA from RFC 3947
    /// §3.2 and §5.2, with the draft-02/03 numbers; the fragment payload of
    /// the Cisco/Microsoft IKE fragmentation extension).
    pub enum PayloadType: u8 {
        /// NONE: the end of the chain.
        None = 0,
        /// Security Association (SA).
        Sa = 1,
        /// Proposal (P), only inside an SA payload.
        Proposal = 2,
        /// Transform (T), only inside a Proposal.
        Transform = 3,
        /// Key Exchange (KE).
        KeyExchange = 4,
        /// Identification (ID).
        Identification = 5,
        /// Certificate (CERT).
        Certificate = 6,
        /// Certificate Request (CR).
        CertificateRequest = 7,
        /// Hash (HASH).
        Hash = 8,
        /// Signature (SIG).
        Signature = 9,
        /// Nonce (NONCE).
        Nonce = 10,
        /// Notification (N).
        Notification = 11,
        /// Delete (D).
        Delete = 12,
        /// Vendor ID (VID).
        VendorId = 13,
        /// NAT Discovery, RFC 3947 §3.2.
        NatD = 20,
        /// NAT Original Address, RFC 3947 §5.2.
        NatOa = 21,
        /// NAT Discovery, draft-ietf-ipsec-nat-t-ike-02/03 number.
        NatDDraft = 130,
        /// NAT Original Address, draft-ietf-ipsec-nat-t-ike-02/03 number.
        NatOaDraft = 131,
        /// IKE fragment (Cisco/Microsoft fragmentation extension).
        Fragment = 132,
    }
}

impl PayloadType {
    /// NAT-D in either numbering.
    pub fn is_nat_d(self) -> bool {
        matches!(self, Self::NatD | Self::NatDDraft)
    }

    /// NAT-OA in either numbering.
    pub fn is_nat_oa(self) -> bool {
        matches!(self, Self::NatOa | Self::NatOaDraft)
    }

    /// Whether RFC 2408 §5.1 requires INVALID-PAYLOAD-TYPE for this type:
    /// an unknown type outside the private-use range 128..=255.
    pub fn is_invalid(self) -> bool {
        matches!(self, Self::Unknown(n) if n < 128)
    }
}

/// One payload of a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Payload<'a> {
    /// Its type (from the previous Next Payload field).
    pub kind: PayloadType,
    /// The type of the payload after it.
    pub next: PayloadType,
    /// The body, after the generic header.
    pub body: &'a [u8],
    /// Offset of its generic header in the chain.
    pub offset: usize,
    /// Its length, generic header included.
    pub len: usize,
}

impl Payload<'_> {
    /// Offset of the first byte after this payload in the chain.
    pub fn end(&self) -> usize {
        self.offset + self.len
    }
}

/// Iterates over a payload chain (RFC 2408 §3.2).
///
/// Ends after the payload whose Next Payload is NONE; bytes after it (the
/// padding of an encrypted message) are not part of the chain. A payload
/// length below 4 or past the end of the data yields one
/// [`WireError::BadLength`] and ends the iteration.
#[derive(Debug, Clone)]
pub struct PayloadIter<'a> {
    next: PayloadType,
    data: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> PayloadIter<'a> {
    /// Walks `data`, whose first payload has type `first`.
    pub fn new(first: PayloadType, data: &'a [u8]) -> Self {
        Self {
            next: first,
            data,
            pos: 0,
            failed: false,
        }
    }

    /// Offset just after the last payload read so far.
    pub fn position(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for PayloadIter<'a> {
    type Item = Result<Payload<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.next == PayloadType::None {
            return None;
        }
        let rest = self.data.get(self.pos..).unwrap_or(&[]);
        if rest.len() < GENERIC_HEADER_LEN {
            self.failed = true;
            return Some(Err(WireError::BadLength));
        }
        let len = usize::from(be16(rest, 2));
        if len < GENERIC_HEADER_LEN || len > rest.len() {
            self.failed = true;
            return Some(Err(WireError::BadLength));
        }
        let p = Payload {
            kind: self.next,
            next: rest[0].into(),
            body: &rest[GENERIC_HEADER_LEN..len],
            offset: self.pos,
            len,
        };
        self.next = p.next;
        self.pos += len;
        Some(Ok(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    // Main Mode message 3 of the tcpdump capture ISAKMP_sa_setup.pcap
    // (captures/ikev1/ikev1-mm-qm-psk-aes128-modp768-cisco.pcap): the NAT-D
    // payloads use the pre-RFC number 15. A shortened chain with the same
    // structure: KE -> NONCE -> 15 -> 15 -> NONE.
    #[test]
    fn walks_unknown_types_and_stops_at_none() {
        let chain = hex!(
            "0a000008 01020304"      // KE, next NONCE
            "0f00000c 0102030405060708" // NONCE, next 15
            "0f000006 aabb"          // type 15, next 15
            "00000005 cc"            // type 15, next NONE
            "00000000"               // padding, not part of the chain
        );
        let mut it = PayloadIter::new(PayloadType::KeyExchange, &chain);
        let kinds: heapless::Vec<_, 8> = it.by_ref().map(|p| p.unwrap().kind).collect();
        assert_eq!(
            &kinds[..],
            &[
                PayloadType::KeyExchange,
                PayloadType::Nonce,
                PayloadType::Unknown(15),
                PayloadType::Unknown(15)
            ]
        );
        assert_eq!(it.position(), chain.len() - 4);
        assert!(PayloadType::Unknown(15).is_invalid());
        assert!(!PayloadType::Unknown(200).is_invalid());
    }

    #[test]
    fn bad_lengths_end_the_walk() {
        for chain in [
            &hex!("00000003")[..],
            &hex!("00000009 0102")[..],
            &hex!("00")[..],
        ] {
            let mut it = PayloadIter::new(PayloadType::Nonce, chain);
            assert_eq!(it.next(), Some(Err(WireError::BadLength)));
            assert_eq!(it.next(), None);
        }
    }
}
