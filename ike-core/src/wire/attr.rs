//! Data attributes (RFC 2408 §3.3) and their code points for IKE
//! (RFC 2409 Appendix A) and the IPsec DOI (RFC 2407 §4.5).

use super::{WireError, Writer, be16, code_point};

/// The value of a data attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeValue<'a> {
    /// TV form (AF = 1): a two-octet value.
    Basic(u16),
    /// TLV form (AF = 0): a variable-length value.
    Variable(&'a [u8]),
}

/// One data attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute<'a> {
    /// Attribute Type (without the AF bit).
    pub kind: u16,
    /// Value.
    pub value: AttributeValue<'a>,
}

impl Attribute<'_> {
    /// The value as an integer: a basic value, or a variable value of up to
    /// eight octets (RFC 2409 Appendix A allows Life Duration in either
    /// form). `None` for a longer value with non-zero leading octets.
    pub fn as_u64(&self) -> Option<u64> {
        match self.value {
            AttributeValue::Basic(v) => Some(u64::from(v)),
            AttributeValue::Variable(b) => {
                let mut v: u64 = 0;
                for (i, &byte) in b.iter().enumerate() {
                    if b.len() - i > 8 && byte != 0 {
                        return None;
                    }
                    v = (v << 8) | u64::from(byte);
                }
                Some(v)
            }
        }
    }

    /// The value as a `u16`, if it is basic or a variable value that fits.
    pub fn as_u16(&self) -> Option<u16> {
        self.as_u64().and_then(|v| u16::try_from(v).ok())
    }

    /// Length on the wire.
    pub fn buffer_len(&self) -> usize {
        match self.value {
            AttributeValue::Basic(_) => 4,
            AttributeValue::Variable(b) => 4 + b.len(),
        }
    }

    /// Writes the attribute. A variable value longer than 65535 octets is
    /// truncated to fit the length field (never produced by this crate).
    pub fn emit(&self, w: &mut Writer<'_>) {
        match self.value {
            AttributeValue::Basic(v) => {
                w.put_u16(0x8000 | (self.kind & 0x7fff));
                w.put_u16(v);
            }
            AttributeValue::Variable(b) => {
                let len = u16::try_from(b.len()).unwrap_or(u16::MAX);
                w.put_u16(self.kind & 0x7fff);
                w.put_u16(len);
                w.put(&b[..usize::from(len)]);
            }
        }
    }

    /// Writes a basic (TV) attribute.
    pub fn emit_basic(w: &mut Writer<'_>, kind: u16, value: u16) {
        Attribute {
            kind,
            value: AttributeValue::Basic(value),
        }
        .emit(w);
    }

    /// Writes an integer attribute: TV when it fits in 16 bits, otherwise
    /// TLV with four octets (RFC 2409 Appendix A, Life Duration).
    pub fn emit_u32(w: &mut Writer<'_>, kind: u16, value: u32) {
        match u16::try_from(value) {
            Ok(v) => Self::emit_basic(w, kind, v),
            Err(_) => Attribute {
                kind,
                value: AttributeValue::Variable(&value.to_be_bytes()),
            }
            .emit(w),
        }
    }
}

/// Iterates over the data attributes of a transform.
#[derive(Debug, Clone)]
pub struct AttributeIter<'a> {
    data: &'a [u8],
    failed: bool,
}

impl<'a> AttributeIter<'a> {
    /// Walks `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            failed: false,
        }
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.data
    }
}

impl<'a> Iterator for AttributeIter<'a> {
    type Item = Result<Attribute<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.data.is_empty() {
            return None;
        }
        if self.data.len() < 4 {
            self.failed = true;
            return Some(Err(WireError::Malformed));
        }
        let t = be16(self.data, 0);
        let kind = t & 0x7fff;
        if t & 0x8000 != 0 {
            let a = Attribute {
                kind,
                value: AttributeValue::Basic(be16(self.data, 2)),
            };
            self.data = &self.data[4..];
            Some(Ok(a))
        } else {
            let len = usize::from(be16(self.data, 2));
            let Some(value) = self.data.get(4..4 + len) else {
                self.failed = true;
                return Some(Err(WireError::Malformed));
            };
            self.data = &self.data[4 + len..];
            Some(Ok(Attribute {
                kind,
                value: AttributeValue::Variable(value),
            }))
        }
    }
}

code_point! {
    /// IKE (phase 1) attribute classes (RFC 2409 Appendix A).
    pub enum IkeAttributeType: u16 {
        /// Encryption Algorithm (B).
        EncryptionAlgorithm = 1,
        /// Hash Algorithm (B).
        HashAlgorithm = 2,
        /// Authentication Method (B).
        AuthenticationMethod = 3,
        /// Group Description (B).
        GroupDescription = 4,
        /// Group Type (B).
        GroupType = 5,
        /// Group Prime/Irreducible Polynomial (V).
        GroupPrime = 6,
        /// Group Generator One (V).
        GroupGeneratorOne = 7,
        /// Group Generator Two (V).
        GroupGeneratorTwo = 8,
        /// Group Curve A (V).
        GroupCurveA = 9,
        /// Group Curve B (V).
        GroupCurveB = 10,
        /// Life Type (B).
        LifeType = 11,
        /// Life Duration (V).
        LifeDuration = 12,
        /// PRF (B).
        Prf = 13,
        /// Key Length (B).
        KeyLength = 14,
        /// Field Size (B).
        FieldSize = 15,
        /// Group Order (V).
        GroupOrder = 16,
    }
}

code_point! {
    /// IKE Encryption Algorithm values (RFC 2409 Appendix A; AES from
    /// RFC 3602 §5.1... as registered by IANA).
    pub enum IkeEncryptionAlgorithm: u16 {
        /// DES-CBC.
        DesCbc = 1,
        /// IDEA-CBC.
        IdeaCbc = 2,
        /// Blowfish-CBC.
        BlowfishCbc = 3,
        /// RC5-R16-B64-CBC.
        Rc5Cbc = 4,
        /// 3DES-CBC.
        TripleDesCbc = 5,
        /// CAST-CBC.
        CastCbc = 6,
        /// AES-CBC (Key Length attribute gives 128, 192 or 256).
        AesCbc = 7,
    }
}

code_point! {
    /// IKE Hash Algorithm values (RFC 2409 Appendix A, SHA-2 from IANA's
    /// registry, RFC 4868 for their use).
    pub enum HashAlgorithm: u16 {
        /// MD5.
        Md5 = 1,
        /// SHA (SHA-1).
        Sha1 = 2,
        /// Tiger.
        Tiger = 3,
        /// SHA2-256.
        Sha2_256 = 4,
        /// SHA2-384.
        Sha2_384 = 5,
        /// SHA2-512.
        Sha2_512 = 6,
    }
}

code_point! {
    /// IKE Authentication Method values (RFC 2409 Appendix A; XAUTH values
    /// from draft-ietf-ipsec-isakmp-xauth).
    pub enum AuthMethod: u16 {
        /// Pre-shared key.
        PreSharedKey = 1,
        /// DSS signatures.
        DssSignatures = 2,
        /// RSA signatures.
        RsaSignatures = 3,
        /// Encryption with RSA.
        RsaEncryption = 4,
        /// Revised encryption with RSA.
        RevisedRsaEncryption = 5,
        /// XAUTHInitPreShared.
        XauthInitPreShared = 65001,
        /// XAUTHRespPreShared.
        XauthRespPreShared = 65002,
        /// XAUTHInitRSA.
        XauthInitRsa = 65005,
        /// XAUTHRespRSA.
        XauthRespRsa = 65006,
    }
}

code_point! {
    /// Life Type values for IKE (RFC 2409 Appendix A) and IPsec SAs
    /// (RFC 2407 §4.5): the same two numbers.
    pub enum LifeType: u16 {
        /// Seconds.
        Seconds = 1,
        /// Kilobytes.
        Kilobytes = 2,
    }
}

code_point! {
    /// IPsec DOI SA attribute classes (RFC 2407 §4.5).
    pub enum IpsecAttributeType: u16 {
        /// SA Life Type (B).
        SaLifeType = 1,
        /// SA Life Duration (V).
        SaLifeDuration = 2,
        /// Group Description (B): the PFS group of Quick Mode.
        GroupDescription = 3,
        /// Encapsulation Mode (B).
        EncapsulationMode = 4,
        /// Authentication Algorithm (B).
        AuthenticationAlgorithm = 5,
        /// Key Length (B).
        KeyLength = 6,
        /// Key Rounds (B).
        KeyRounds = 7,
        /// Compress Dictionary Size (B).
        CompressDictionarySize = 8,
        /// Compress Private Algorithm (V).
        CompressPrivateAlgorithm = 9,
    }
}

code_point! {
    /// Encapsulation Mode values (RFC 2407 §4.5; UDP encapsulation from
    /// RFC 3947 §5.1 and the draft-ietf-ipsec-nat-t-ike values).
    pub enum EncapsulationMode: u16 {
        /// Tunnel.
        Tunnel = 1,
        /// Transport.
        Transport = 2,
        /// UDP-Encapsulated-Tunnel (RFC 3947).
        UdpTunnel = 3,
        /// UDP-Encapsulated-Transport (RFC 3947).
        UdpTransport = 4,
        /// UDP-Encapsulated-Tunnel (drafts).
        UdpTunnelDraft = 61443,
        /// UDP-Encapsulated-Transport (drafts).
        UdpTransportDraft = 61444,
    }
}

code_point! {
    /// Authentication Algorithm values of the IPsec DOI (RFC 2407 §4.5;
    /// SHA-2 from RFC 4868 §2.4).
    pub enum IpsecAuthAlgorithm: u16 {
        /// HMAC-MD5.
        HmacMd5 = 1,
        /// HMAC-SHA (SHA-1).
        HmacSha1 = 2,
        /// DES-MAC.
        DesMac = 3,
        /// KPDK.
        Kpdk = 4,
        /// HMAC-SHA2-256.
        HmacSha2_256 = 5,
        /// HMAC-SHA2-384.
        HmacSha2_384 = 6,
        /// HMAC-SHA2-512.
        HmacSha2_512 = 7,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    // The attributes of the chosen IKE transform in Main Mode message 2 of
    // the Cisco capture (ikev1-mm-qm-psk-aes128-modp1024-cisco.pcap):
    // AES-CBC, key length 128, SHA, group 2, PSK, life 86400 s (TLV).
    const ATTRS: [u8; 32] =
        hex!("80010007 800e0080 80020002 80040002 80030001 800b0001 000c0004 00015180");

    #[test]
    fn parse_tv_and_tlv() {
        let a: heapless::Vec<_, 8> = AttributeIter::new(&ATTRS).map(|a| a.unwrap()).collect();
        assert_eq!(a.len(), 7);
        assert_eq!(
            IkeAttributeType::from(a[1].kind),
            IkeAttributeType::KeyLength
        );
        assert_eq!(a[1].as_u16(), Some(128));
        assert_eq!(
            IkeEncryptionAlgorithm::from(a[0].as_u16().unwrap()),
            IkeEncryptionAlgorithm::AesCbc
        );
        assert_eq!(a[6].value, AttributeValue::Variable(&hex!("00015180")));
        assert_eq!(a[6].as_u64(), Some(86400));
        let mut out = [0u8; 32];
        let mut w = Writer::new(&mut out);
        for x in &a {
            x.emit(&mut w);
        }
        assert_eq!(w.finish(), Ok(32));
        assert_eq!(out, ATTRS);
    }

    #[test]
    fn truncated_tlv_is_malformed() {
        let mut it = AttributeIter::new(&hex!("000c0004 0001"));
        assert_eq!(it.next(), Some(Err(WireError::Malformed)));
        assert_eq!(it.next(), None);
        let mut it = AttributeIter::new(&hex!("8001"));
        assert_eq!(it.next(), Some(Err(WireError::Malformed)));
    }

    #[test]
    fn long_values() {
        let nine = hex!("000c0009 000000000000015180");
        let a = AttributeIter::new(&nine).next().unwrap().unwrap();
        assert_eq!(a.as_u64(), Some(86400));
        let big = hex!("000c0009 010000000000015180");
        let a = AttributeIter::new(&big).next().unwrap().unwrap();
        assert_eq!(a.as_u64(), None);
        let mut out = [0u8; 8];
        let mut w = Writer::new(&mut out);
        Attribute::emit_u32(&mut w, 12, 86400);
        assert_eq!(w.finish(), Ok(8));
        assert_eq!(out, hex!("000c0004 00015180"));
    }
}
