//! The SA payload with its Proposals and Transforms (RFC 2408 §3.4-3.6,
//! IPsec DOI RFC 2407 §4.6.1).

use super::{AttributeIter, PayloadType, WireError, Writer, be16, be32, code_point};

/// The IPsec DOI (RFC 2407 §4.2).
pub const DOI_IPSEC: u32 = 1;
/// SIT_IDENTITY_ONLY (RFC 2407 §4.2).
pub const SIT_IDENTITY_ONLY: u32 = 1;
/// Transform ID KEY_IKE of the ISAKMP protocol (RFC 2407 §4.4.1).
pub const KEY_IKE: u8 = 1;

code_point! {
    /// Protocol identifiers of the IPsec DOI (RFC 2407 §4.4.1).
    pub enum ProtocolId: u8 {
        /// PROTO_ISAKMP.
        Isakmp = 1,
        /// PROTO_IPSEC_AH.
        Ah = 2,
        /// PROTO_IPSEC_ESP.
        Esp = 3,
        /// PROTO_IPCOMP.
        IpComp = 4,
    }
}

code_point! {
    /// IPsec ESP transform identifiers (RFC 2407 §4.4.4; AES-CBC from
    /// RFC 3602 §5).
    pub enum EspTransformId: u8 {
        /// ESP_DES_IV64.
        DesIv64 = 1,
        /// ESP_DES.
        Des = 2,
        /// ESP_3DES.
        TripleDes = 3,
        /// ESP_RC5.
        Rc5 = 4,
        /// ESP_IDEA.
        Idea = 5,
        /// ESP_CAST.
        Cast = 6,
        /// ESP_BLOWFISH.
        Blowfish = 7,
        /// ESP_3IDEA.
        TripleIdea = 8,
        /// ESP_DES_IV32.
        DesIv32 = 9,
        /// ESP_RC4.
        Rc4 = 10,
        /// ESP_NULL.
        Null = 11,
        /// ESP_AES (AES-CBC, RFC 3602).
        AesCbc = 12,
    }
}

/// The body of an SA payload with the IPsec DOI (RFC 2408 §3.4,
/// RFC 2407 §4.6.1).
#[derive(Debug, Clone)]
pub struct SaRepr<'a> {
    /// Domain of Interpretation.
    pub doi: u32,
    /// Situation bitmap.
    pub situation: u32,
    /// The proposals (empty unless DOI is IPsec and the situation
    /// SIT_IDENTITY_ONLY: other situations carry fields this crate does not
    /// speak, and are refused with SITUATION-NOT-SUPPORTED).
    pub proposals: ProposalIter<'a>,
    /// For another DOI or situation: the bytes after the Situation,
    /// uninterpreted (kept so that the payload re-emits unchanged).
    pub situation_data: &'a [u8],
}

impl<'a> SaRepr<'a> {
    /// Parses an SA payload body.
    ///
    /// # Errors
    /// [`WireError::Truncated`] below 8 octets.
    pub fn parse(body: &'a [u8]) -> Result<Self, WireError> {
        if body.len() < 8 {
            return Err(WireError::Truncated);
        }
        let doi = be32(body, 0);
        let situation = be32(body, 4);
        let (rest, situation_data) = if doi == DOI_IPSEC && situation == SIT_IDENTITY_ONLY {
            (&body[8..], &[][..])
        } else {
            (&[][..], &body[8..])
        };
        Ok(Self {
            doi,
            situation,
            proposals: ProposalIter::new(rest),
            situation_data,
        })
    }

    /// Length of the body when emitted.
    pub fn buffer_len(&self) -> usize {
        8 + self.proposals.as_bytes().len() + self.situation_data.len()
    }

    /// Writes the body: DOI, situation and the proposal bytes as they are.
    pub fn emit(&self, w: &mut Writer<'_>) {
        w.put_u32(self.doi);
        w.put_u32(self.situation);
        w.put(self.proposals.as_bytes());
        w.put(self.situation_data);
    }

    /// Writes DOI IPsec and SIT_IDENTITY_ONLY, the start of every SA body
    /// this crate sends; proposals follow.
    pub fn emit_ipsec_header(w: &mut Writer<'_>) {
        w.put_u32(DOI_IPSEC);
        w.put_u32(SIT_IDENTITY_ONLY);
    }
}

/// Walks a chain of Proposal payloads (Next Payload 2, the last one 0).
#[derive(Debug, Clone)]
pub struct ProposalIter<'a> {
    data: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> ProposalIter<'a> {
    /// Walks `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            done: data.is_empty(),
        }
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.data
    }
}

/// Reads one substructure header of an SA (Proposal or Transform):
/// (next, body, total length).
fn substructure(
    rest: &[u8],
    more: PayloadType,
    min: usize,
) -> Result<(bool, &[u8], usize), WireError> {
    if rest.len() < 4 {
        return Err(WireError::BadLength);
    }
    let next = PayloadType::from(rest[0]);
    let len = usize::from(be16(rest, 2));
    if len < 4 + min || len > rest.len() {
        return Err(WireError::BadLength);
    }
    let more = if next == more {
        true
    } else if next == PayloadType::None {
        false
    } else {
        return Err(WireError::Malformed);
    };
    Ok((more, &rest[4..len], len))
}

impl<'a> Iterator for ProposalIter<'a> {
    type Item = Result<ProposalRepr<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let rest = self.data.get(self.pos..).unwrap_or(&[]);
        let r = substructure(rest, PayloadType::Proposal, 4)
            .and_then(|(more, body, len)| Ok((more, ProposalRepr::parse(body)?, len)));
        match r {
            Ok((more, p, len)) => {
                self.pos += len;
                self.done = !more;
                Some(Ok(p))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// A Proposal (RFC 2408 §3.5).
#[derive(Debug, Clone)]
pub struct ProposalRepr<'a> {
    /// Proposal #: proposals with the same number are a logical AND.
    pub number: u8,
    /// Protocol-Id.
    pub protocol: ProtocolId,
    /// SPI (empty for ISAKMP in phase 1, four octets for ESP).
    pub spi: &'a [u8],
    /// # of Transforms as announced.
    pub transform_count: u8,
    /// The transforms.
    pub transforms: TransformIter<'a>,
}

impl<'a> ProposalRepr<'a> {
    /// Parses a proposal body (after its generic header).
    ///
    /// # Errors
    /// [`WireError::Truncated`] below 4 octets, [`WireError::Malformed`] if
    /// the SPI does not fit.
    pub fn parse(body: &'a [u8]) -> Result<Self, WireError> {
        if body.len() < 4 {
            return Err(WireError::Truncated);
        }
        let spi_size = usize::from(body[2]);
        let spi = body.get(4..4 + spi_size).ok_or(WireError::Malformed)?;
        Ok(Self {
            number: body[0],
            protocol: body[1].into(),
            spi,
            transform_count: body[3],
            transforms: TransformIter::new(&body[4 + spi_size..]),
        })
    }

    /// Length of the proposal on the wire, generic header included.
    pub fn buffer_len(&self) -> usize {
        8 + self.spi.len() + self.transforms.as_bytes().len()
    }

    /// Writes the proposal with its generic header; `last` selects Next
    /// Payload 0 instead of 2.
    pub fn emit(&self, w: &mut Writer<'_>, last: bool) {
        let len = u16::try_from(self.buffer_len()).unwrap_or(u16::MAX);
        w.put_u8(if last { 0 } else { 2 });
        w.put_u8(0);
        w.put_u16(len);
        w.put_u8(self.number);
        w.put_u8(self.protocol.into());
        w.put_u8(u8::try_from(self.spi.len()).unwrap_or(u8::MAX));
        w.put_u8(self.transform_count);
        w.put(self.spi);
        w.put(self.transforms.as_bytes());
    }

    /// Starts a proposal by hand: writes its header with a zero length and
    /// returns the offset to pass to [`ProposalRepr::end`].
    pub fn begin(
        w: &mut Writer<'_>,
        last: bool,
        number: u8,
        protocol: ProtocolId,
        spi: &[u8],
        transform_count: u8,
    ) -> usize {
        let at = w.position();
        w.put_u8(if last { 0 } else { 2 });
        w.put_u8(0);
        w.put_u16(0);
        w.put_u8(number);
        w.put_u8(protocol.into());
        w.put_u8(u8::try_from(spi.len()).unwrap_or(u8::MAX));
        w.put_u8(transform_count);
        w.put(spi);
        at
    }

    /// Patches the length of a proposal begun at `at`.
    pub fn end(w: &mut Writer<'_>, at: usize) {
        let len = w.position().saturating_sub(at);
        w.patch_u16(at + 2, u16::try_from(len).unwrap_or(u16::MAX));
    }
}

/// Walks a chain of Transform payloads (Next Payload 3, the last one 0).
#[derive(Debug, Clone)]
pub struct TransformIter<'a> {
    data: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> TransformIter<'a> {
    /// Walks `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            done: data.is_empty(),
        }
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.data
    }
}

impl<'a> Iterator for TransformIter<'a> {
    type Item = Result<TransformRepr<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let rest = self.data.get(self.pos..).unwrap_or(&[]);
        match substructure(rest, PayloadType::Transform, 4) {
            Ok((more, body, len)) => {
                let t = TransformRepr {
                    number: body[0],
                    id: body[1],
                    attributes: AttributeIter::new(&body[4..]),
                    raw: &rest[..len],
                };
                self.pos += len;
                self.done = !more;
                Some(Ok(t))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// A Transform (RFC 2408 §3.6).
#[derive(Debug, Clone)]
pub struct TransformRepr<'a> {
    /// Transform #.
    pub number: u8,
    /// Transform-Id (KEY_IKE in phase 1, an [`EspTransformId`] for ESP).
    pub id: u8,
    /// SA Attributes.
    pub attributes: AttributeIter<'a>,
    /// The whole transform as received, generic header included.
    pub raw: &'a [u8],
}

impl TransformRepr<'_> {
    /// Length on the wire, generic header included.
    pub fn buffer_len(&self) -> usize {
        8 + self.attributes.as_bytes().len()
    }

    /// Writes the transform; `last` selects Next Payload 0 instead of 3.
    pub fn emit(&self, w: &mut Writer<'_>, last: bool) {
        let at = Self::begin(w, last, self.number, self.id);
        w.put(self.attributes.as_bytes());
        Self::end(w, at);
    }

    /// Starts a transform by hand; attributes follow; finish with
    /// [`TransformRepr::end`].
    pub fn begin(w: &mut Writer<'_>, last: bool, number: u8, id: u8) -> usize {
        let at = w.position();
        w.put_u8(if last { 0 } else { 3 });
        w.put_u8(0);
        w.put_u16(0);
        w.put_u8(number);
        w.put_u8(id);
        w.put_u16(0);
        at
    }

    /// Patches the length of a transform begun at `at`.
    pub fn end(w: &mut Writer<'_>, at: usize) {
        let len = w.position().saturating_sub(at);
        w.patch_u16(at + 2, u16::try_from(len).unwrap_or(u16::MAX));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{IkeAttributeType, IkeEncryptionAlgorithm};
    use hex_literal::hex;

    // The SA payload body of Main Mode message 2 of the Cisco capture
    // (captures/ikev1/ikev1-mm-qm-psk-aes128-modp1024-cisco.pcap, frame 2).
    const MM2_SA: [u8; 56] = hex!(
        "00000001 00000001"
        "00000030 01010001"
        "00000028 01010000"
        "80010007 800e0080 80020002 80040002 80030001 800b0001 000c0004 00015180"
    );

    #[test]
    fn parse_and_reemit_capture_sa() {
        let sa = SaRepr::parse(&MM2_SA).unwrap();
        assert_eq!(sa.doi, DOI_IPSEC);
        assert_eq!(sa.situation, SIT_IDENTITY_ONLY);
        let props: heapless::Vec<_, 4> = sa.proposals.clone().map(|p| p.unwrap()).collect();
        assert_eq!(props.len(), 1);
        assert_eq!(props[0].number, 1);
        assert_eq!(props[0].protocol, ProtocolId::Isakmp);
        assert!(props[0].spi.is_empty());
        assert_eq!(props[0].transform_count, 1);
        let ts: heapless::Vec<_, 4> = props[0].transforms.clone().map(|t| t.unwrap()).collect();
        assert_eq!(ts.len(), 1);
        assert_eq!((ts[0].number, ts[0].id), (1, KEY_IKE));
        let first = ts[0].attributes.clone().next().unwrap().unwrap();
        assert_eq!(
            IkeAttributeType::from(first.kind),
            IkeAttributeType::EncryptionAlgorithm
        );
        assert_eq!(
            IkeEncryptionAlgorithm::from(first.as_u16().unwrap()),
            IkeEncryptionAlgorithm::AesCbc
        );
        let mut out = [0u8; 56];
        let mut w = Writer::new(&mut out);
        sa.emit(&mut w);
        assert_eq!(w.finish(), Ok(56));
        assert_eq!(out, MM2_SA);
        // Rebuild by hand.
        let mut out2 = [0u8; 56];
        let mut w = Writer::new(&mut out2);
        SaRepr::emit_ipsec_header(&mut w);
        let p = ProposalRepr::begin(&mut w, true, 1, ProtocolId::Isakmp, &[], 1);
        ts[0].emit(&mut w, true);
        ProposalRepr::end(&mut w, p);
        assert_eq!(w.finish(), Ok(56));
        assert_eq!(out2, MM2_SA);
    }

    #[test]
    fn bad_substructures() {
        // A proposal whose Next Payload is neither 2 nor 0.
        let mut bad = MM2_SA;
        bad[8] = 5;
        let sa = SaRepr::parse(&bad).unwrap();
        assert_eq!(
            sa.proposals.clone().next().unwrap().err(),
            Some(WireError::Malformed)
        );
        // A proposal length past the end.
        let mut bad = MM2_SA;
        bad[11] = 0x31;
        let sa = SaRepr::parse(&bad).unwrap();
        assert_eq!(
            sa.proposals.clone().next().unwrap().err(),
            Some(WireError::BadLength)
        );
        // An SPI size that does not fit.
        let mut bad = MM2_SA;
        bad[14] = 60;
        let sa = SaRepr::parse(&bad).unwrap();
        assert_eq!(
            sa.proposals.clone().next().unwrap().err(),
            Some(WireError::Malformed)
        );
        // Other situations carry no proposals this crate reads.
        let mut other = MM2_SA;
        other[7] = 2;
        let sa = SaRepr::parse(&other).unwrap();
        assert_eq!(sa.situation_data, &other[8..]);
        assert_eq!(sa.proposals.clone().count(), 0);
        let mut out = [0u8; 56];
        let mut w = Writer::new(&mut out);
        sa.emit(&mut w);
        assert_eq!(w.finish(), Ok(56));
        assert_eq!(out, other);
        assert_eq!(
            SaRepr::parse(&MM2_SA[..7]).err(),
            Some(WireError::Truncated)
        );
    }
}
