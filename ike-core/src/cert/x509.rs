//! X.509 certificates (RFC 5280 §4.1) read in place: the fields chain
//! validation and identity matching need, as sub-slices of the DER.

use super::der::{self, DerError, Reader, Tlv, tag};
use crate::crypto::{RsaPublicKey, digest_info};
use core::net::IpAddr;
use sha1::{Digest, Sha1};
use sha2::{Sha256, Sha384, Sha512};

/// rsaEncryption, 1.2.840.113549.1.1.1 (RFC 8017 Appendix A.1).
pub(crate) const OID_RSA_ENCRYPTION: &[u8] =
    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_SHA1_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05];
const OID_SHA256_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
const OID_SHA384_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
const OID_SHA512_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
/// id-ce (2.5.29) extensions (RFC 5280 §4.2.1).
const OID_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
const OID_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
const OID_EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];

/// Why a certificate could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CertParseError {
    /// Not DER, or not the structure of RFC 5280 §4.1.
    Malformed,
    /// A signature algorithm other than RSA with SHA-1/SHA-2, or a key
    /// that is not RSA of 2048 to 4096 bits.
    Unsupported,
    /// A critical extension this crate does not process (RFC 5280 §4.2).
    UnknownCriticalExtension,
}

impl From<DerError> for CertParseError {
    fn from(_: DerError) -> Self {
        Self::Malformed
    }
}

/// The hash of a certificate signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SigHash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

/// A parsed certificate; every field borrows from the DER.
#[derive(Debug, Clone, Copy)]
pub struct Certificate<'a> {
    /// The whole certificate.
    pub(crate) raw: &'a [u8],
    /// TBSCertificate, as signed.
    tbs: &'a [u8],
    sig_hash: SigHash,
    signature: &'a [u8],
    /// The issuer Name (the whole TLV).
    pub(crate) issuer: &'a [u8],
    /// The subject Name (the whole TLV).
    pub(crate) subject: &'a [u8],
    pub(crate) not_before: i64,
    pub(crate) not_after: i64,
    key: RsaPublicKey<'a>,
    /// basicConstraints cA.
    pub(crate) is_ca: bool,
    /// keyUsage present and without keyCertSign.
    no_cert_sign: bool,
    /// subjectAltName GeneralNames contents, if present.
    alt_names: Option<&'a [u8]>,
}

fn sig_hash(alg: &Tlv<'_>) -> Result<SigHash, CertParseError> {
    let mut r = Reader::new(alg.value);
    let oid = r.expect(tag::OID)?.value;
    // RFC 8017 Appendix A.2.4: NULL parameters (absent is tolerated).
    let _ = r.optional(tag::NULL)?;
    r.finish()?;
    match oid {
        OID_SHA1_RSA => Ok(SigHash::Sha1),
        OID_SHA256_RSA => Ok(SigHash::Sha256),
        OID_SHA384_RSA => Ok(SigHash::Sha384),
        OID_SHA512_RSA => Ok(SigHash::Sha512),
        _ => Err(CertParseError::Unsupported),
    }
}

impl<'a> Certificate<'a> {
    /// Parses a DER certificate (RFC 5280 §4.1), which must fill `der`.
    ///
    /// # Errors
    /// [`CertParseError`].
    pub fn parse(der: &'a [u8]) -> Result<Self, CertParseError> {
        let mut outer = Reader::new(der);
        let cert = outer.expect(tag::SEQUENCE)?;
        outer.finish()?;
        let mut c = Reader::new(cert.value);
        let tbs = c.expect(tag::SEQUENCE)?;
        let alg = c.expect(tag::SEQUENCE)?;
        let sig_hash = sig_hash(&alg)?;
        let signature = der::bit_string_octets(&c.expect(tag::BIT_STRING)?)?;
        c.finish()?;

        let mut t = Reader::new(tbs.value);
        // version [0] EXPLICIT: v3 (2) to have extensions; v1 without.
        let version = match t.optional(0xa0)? {
            Some(v) => {
                let mut r = Reader::new(v.value);
                let n = r.unsigned()?;
                r.finish()?;
                n.first().copied().unwrap_or(0)
            }
            None => 0,
        };
        if version > 2 {
            return Err(CertParseError::Malformed);
        }
        let _serial = t.expect(tag::INTEGER)?;
        // RFC 5280 §4.1.2.3: must equal signatureAlgorithm.
        let inner_alg = t.expect(tag::SEQUENCE)?;
        if inner_alg.raw != alg.raw {
            return Err(CertParseError::Malformed);
        }
        let issuer = t.expect(tag::SEQUENCE)?.raw;
        let mut validity = t.sequence()?;
        let not_before = der::time(&validity.any()?)?;
        let not_after = der::time(&validity.any()?)?;
        validity.finish()?;
        let subject = t.expect(tag::SEQUENCE)?.raw;
        let mut spki = t.sequence()?;
        let mut key_alg = spki.sequence()?;
        if key_alg.expect(tag::OID)?.value != OID_RSA_ENCRYPTION {
            return Err(CertParseError::Unsupported);
        }
        let key = der::bit_string_octets(&spki.expect(tag::BIT_STRING)?)?;
        spki.finish()?;
        let public = RsaPublicKey::from_der(key).map_err(|_| CertParseError::Unsupported)?;
        let mut cert = Self {
            raw: der,
            tbs: tbs.raw,
            sig_hash,
            signature,
            issuer,
            subject,
            not_before,
            not_after,
            key: public,
            is_ca: false,
            no_cert_sign: false,
            alt_names: None,
        };
        // issuerUniqueID [1], subjectUniqueID [2]: skipped.
        let _ = t.optional(0x81)?;
        let _ = t.optional(0x82)?;
        if let Some(ext) = t.optional(0xa3)? {
            let mut list = Reader::new(ext.value);
            let mut exts = list.sequence()?;
            list.finish()?;
            while !exts.is_empty() {
                let mut e = exts.sequence()?;
                let oid = e.expect(tag::OID)?.value;
                let critical = match e.optional(tag::BOOLEAN)? {
                    Some(b) => b.value == [0xff],
                    None => false,
                };
                let value = e.expect(tag::OCTET_STRING)?.value;
                e.finish()?;
                match oid {
                    OID_BASIC_CONSTRAINTS => {
                        let mut v = Reader::new(value);
                        let mut bc = v.sequence()?;
                        if let Some(ca) = bc.optional(tag::BOOLEAN)? {
                            cert.is_ca = ca.value == [0xff];
                        }
                    }
                    OID_KEY_USAGE => {
                        let mut v = Reader::new(value);
                        let bits = v.expect(tag::BIT_STRING)?;
                        // keyCertSign is bit 5: 0x04 of the first octet.
                        let first = bits.value.get(1).copied().unwrap_or(0);
                        cert.no_cert_sign = first & 0x04 == 0;
                    }
                    OID_SUBJECT_ALT_NAME => {
                        let mut v = Reader::new(value);
                        cert.alt_names = Some(v.expect(tag::SEQUENCE)?.value);
                    }
                    OID_EXT_KEY_USAGE => {}
                    _ if critical => return Err(CertParseError::UnknownCriticalExtension),
                    _ => {}
                }
            }
        }
        t.finish()?;
        Ok(cert)
    }

    /// The subject's RSA public key.
    pub fn public_key(&self) -> RsaPublicKey<'a> {
        self.key
    }

    /// The subject Name, DER (what an ID_DER_ASN1_DN carries).
    pub fn subject(&self) -> &'a [u8] {
        self.subject
    }

    /// The issuer Name, DER.
    pub fn issuer(&self) -> &'a [u8] {
        self.issuer
    }

    /// notBefore and notAfter in seconds since the Unix epoch.
    pub fn validity(&self) -> (i64, i64) {
        (self.not_before, self.not_after)
    }

    /// Whether `issuer`'s key signed this certificate.
    pub(crate) fn signed_by(&self, issuer: &RsaPublicKey<'_>) -> bool {
        match self.sig_hash {
            SigHash::Sha1 => {
                issuer.verify_pkcs1v15(digest_info::SHA1, &Sha1::digest(self.tbs), self.signature)
            }
            SigHash::Sha256 => issuer.verify_pkcs1v15(
                digest_info::SHA256,
                &Sha256::digest(self.tbs),
                self.signature,
            ),
            SigHash::Sha384 => issuer.verify_pkcs1v15(
                digest_info::SHA384,
                &Sha384::digest(self.tbs),
                self.signature,
            ),
            SigHash::Sha512 => issuer.verify_pkcs1v15(
                digest_info::SHA512,
                &Sha512::digest(self.tbs),
                self.signature,
            ),
        }
    }

    /// Whether this certificate may sign others (RFC 5280 §4.2.1.9,
    /// §4.2.1.3).
    pub(crate) fn can_sign_certificates(&self) -> bool {
        self.is_ca && !self.no_cert_sign
    }

    /// subjectAltName entries (RFC 5280 §4.2.1.6) of context tag `t`
    /// (`0x81` rfc822Name, `0x82` dNSName, `0x87` iPAddress).
    fn alt_names(&self, t: u8) -> impl Iterator<Item = &'a [u8]> {
        let mut r = Reader::new(self.alt_names.unwrap_or(&[]));
        core::iter::from_fn(move || {
            while !r.is_empty() {
                let n = r.any().ok()?;
                if n.tag == t {
                    return Some(n.value);
                }
            }
            None
        })
    }

    /// Whether the certificate names the identity of an ID payload
    /// (RFC 4945 §3.1): ID_DER_ASN1_DN against the subject, as the same
    /// name by RFC 5280 §7.1 (byte equality, or the same RDNs in the same
    /// order with values equal after RFC 4518 preparation: strongSwan
    /// re-encodes a DN given as a string with PrintableString where
    /// OpenSSL wrote UTF8String), ID_FQDN and
    /// ID_USER_FQDN against dNSName and rfc822Name (case-insensitive),
    /// ID_IPV4_ADDR and ID_IPV6_ADDR against iPAddress.
    pub fn matches_id(&self, id_type: crate::wire::IdType, data: &[u8]) -> bool {
        use crate::wire::IdType;
        match id_type {
            IdType::DerAsn1Dn => super::dn::names_match(self.subject, data),
            IdType::Fqdn => self.alt_names(0x82).any(|n| n.eq_ignore_ascii_case(data)),
            IdType::UserFqdn => self.alt_names(0x81).any(|n| n.eq_ignore_ascii_case(data)),
            IdType::Ipv4Addr | IdType::Ipv6Addr => self.alt_names(0x87).any(|n| n == data),
            _ => false,
        }
    }

    /// Whether the certificate names `addr` in an iPAddress subjectAltName.
    pub fn has_ip(&self, addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => self.matches_id(crate::wire::IdType::Ipv4Addr, &a.octets()),
            IpAddr::V6(a) => self.matches_id(crate::wire::IdType::Ipv6Addr, &a.octets()),
        }
    }
}

/// Iterates over concatenated DER certificates (a chain as configured).
pub(crate) fn split_chain(mut bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    core::iter::from_fn(move || {
        if bytes.is_empty() {
            return None;
        }
        let mut r = Reader::new(bytes);
        match r.any() {
            Ok(t) => {
                bytes = &bytes[t.raw.len()..];
                Some(t.raw)
            }
            Err(_) => {
                bytes = &[];
                None
            }
        }
    })
}
