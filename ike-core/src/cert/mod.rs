//! Certificates for RSA-signature authentication (RFC 2409 §5.1,
//! RFC 4945): a DER reader, X.509 parsing, our credentials, and the
//! validation of a peer's chain up to the configured trust points.
//!
//! Nothing is allocated: our chain and the trust anchors are concatenated
//! DER in fixed buffers of the configuration, a peer's certificates are
//! read in place from its message.

pub(crate) mod der;
pub(crate) mod dn;
pub mod x509;

pub use dn::names_match;

use crate::crypto::RsaPrivateKey;
use crate::wire::IdType;
use core::time::Duration;
pub use x509::{CertParseError, Certificate};

/// Most bytes of our own certificate chain (end-entity first), enough for
/// three 4096-bit certificates.
#[cfg(not(feature = "capacity-psk"))]
pub const MAX_CHAIN_LEN: usize = 4608;
/// Most bytes of the trust anchors (CA certificates), concatenated.
#[cfg(not(feature = "capacity-psk"))]
pub const MAX_TRUST_ANCHORS_LEN: usize = 4096;
/// Most bytes of our own certificate chain (feature `capacity-psk`: none;
/// `rsa-sig` policies are never chosen without credentials).
#[cfg(feature = "capacity-psk")]
pub const MAX_CHAIN_LEN: usize = 0;
/// Most bytes of the trust anchors (feature `capacity-psk`: none).
#[cfg(feature = "capacity-psk")]
pub const MAX_TRUST_ANCHORS_LEN: usize = 0;
/// Most certificates in a peer's message, and most links in a chain.
pub const MAX_CHAIN_DEPTH: usize = 4;

/// Why a peer's certificate was refused. Each has its own
/// [`crate::FailReason::Certificate`] and its own Notify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CertError {
    /// No CERT payload of type X.509 Signature in the message
    /// (CERTIFICATE-UNAVAILABLE).
    Missing,
    /// A CERT payload that is not X.509 Signature (CERT-TYPE-UNSUPPORTED).
    UnsupportedEncoding,
    /// Not a certificate this crate can read (INVALID-CERTIFICATE).
    Malformed(CertParseError),
    /// Past its notAfter (INVALID-CERTIFICATE).
    Expired,
    /// Before its notBefore (INVALID-CERTIFICATE).
    NotYetValid,
    /// Validity must be checked and the caller has not said what time it
    /// is ([`crate::Endpoint::set_wall_clock`]) (INVALID-CERTIFICATE).
    NoClock,
    /// No chain to a configured trust point (INVALID-CERT-AUTHORITY).
    UnknownCa,
    /// A certificate's signature does not verify with its issuer's key:
    /// a tampered or forged certificate (INVALID-CERTIFICATE).
    BadCertificateSignature,
    /// An issuer that is not a CA (basicConstraints, keyUsage)
    /// (INVALID-CERT-AUTHORITY).
    NotACa,
    /// No certificate names the identity of the ID payload
    /// (INVALID-ID-INFORMATION).
    IdMismatch,
}

impl CertError {
    /// The Notify this refusal is answered with (RFC 2408 §3.14.1).
    pub fn notify(self) -> crate::wire::NotifyType {
        use crate::wire::NotifyType as N;
        match self {
            Self::Missing => N::CertificateUnavailable,
            Self::UnsupportedEncoding => N::CertTypeUnsupported,
            Self::UnknownCa | Self::NotACa => N::InvalidCertAuthority,
            Self::IdMismatch => N::InvalidIdInformation,
            _ => N::InvalidCertificate,
        }
    }
}

/// How certificate validity periods are checked (RFC 5280 §6.1.3 (a)(2)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ValidityCheck {
    /// Against the wall-clock time the caller supplies with
    /// [`crate::Endpoint::set_wall_clock`]; without it, every certificate
    /// is refused ([`CertError::NoClock`]).
    WallClock,
    /// Not at all: a device without a clock says so in its configuration.
    NoClock,
}

/// Our certificate credentials and the trust points peers are checked
/// against (the appliance's `crypto ca trustpoint`, selected by the
/// tunnel group's `trust-point`).
#[derive(Debug, Clone)]
pub struct Credentials {
    /// Our certificate chain as concatenated DER, end-entity first; sent in
    /// CERT payloads.
    pub chain: heapless::Vec<u8, MAX_CHAIN_LEN>,
    /// The private key of the end-entity certificate.
    pub private_key: Option<RsaPrivateKey>,
    /// The trust anchors as concatenated DER CA certificates.
    pub trust_anchors: heapless::Vec<u8, MAX_TRUST_ANCHORS_LEN>,
    /// How validity periods are checked.
    pub validity: ValidityCheck,
    /// The identity we send with certificates; `None` sends the subject
    /// DN of our certificate (ID_DER_ASN1_DN, as Windows and the appliance
    /// do). It must be named by the certificate.
    pub identity: Option<(IdType, heapless::Vec<u8, 128>)>,
}

impl Credentials {
    /// None (what `Default` gives), usable in `const` contexts.
    pub const DEFAULT: Self = Self {
        chain: heapless::Vec::new(),
        private_key: None,
        trust_anchors: heapless::Vec::new(),
        validity: ValidityCheck::WallClock,
        identity: None,
    };
}

impl Default for Credentials {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why credentials could not be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CredentialsError {
    /// A certificate that does not parse.
    Certificate(CertParseError),
    /// The private key does not parse or is unsupported.
    PrivateKey(crate::crypto::RsaError),
    /// The key is not the end-entity certificate's.
    KeyMismatch,
    /// More bytes than the fixed buffers hold.
    TooLarge,
}

impl Credentials {
    /// Our end-entity certificate chain (concatenated DER, end-entity
    /// first) with its private key (PKCS #1 or PKCS #8 DER).
    ///
    /// # Errors
    /// [`CredentialsError`]: nothing is changed.
    pub fn set_own(
        &mut self,
        chain: &[u8],
        private_key_der: &[u8],
    ) -> Result<(), CredentialsError> {
        let key = RsaPrivateKey::from_der(private_key_der).map_err(CredentialsError::PrivateKey)?;
        let mut count = 0;
        let mut leaf_ok = false;
        for der in x509::split_chain(chain) {
            let c = Certificate::parse(der).map_err(CredentialsError::Certificate)?;
            if count == 0 {
                leaf_ok = c.public_key() == key.public_key();
            }
            count += 1;
        }
        if count == 0 || count > MAX_CHAIN_DEPTH {
            return Err(CredentialsError::Certificate(CertParseError::Malformed));
        }
        if !leaf_ok {
            return Err(CredentialsError::KeyMismatch);
        }
        self.chain = heapless::Vec::from_slice(chain).map_err(|_| CredentialsError::TooLarge)?;
        self.private_key = Some(key);
        Ok(())
    }

    /// Adds a trust anchor (a CA certificate, DER).
    ///
    /// # Errors
    /// [`CredentialsError`]: nothing is changed.
    pub fn add_trust_anchor(&mut self, der: &[u8]) -> Result<(), CredentialsError> {
        Certificate::parse(der).map_err(CredentialsError::Certificate)?;
        self.trust_anchors
            .extend_from_slice(der)
            .map_err(|_| CredentialsError::TooLarge)
    }

    /// Whether RSA-signature authentication can be offered: a key, a
    /// chain and at least one trust anchor.
    pub fn usable(&self) -> bool {
        self.private_key.is_some() && !self.chain.is_empty() && !self.trust_anchors.is_empty()
    }

    /// Our end-entity certificate.
    pub(crate) fn leaf(&self) -> Option<Certificate<'_>> {
        x509::split_chain(&self.chain)
            .next()
            .and_then(|d| Certificate::parse(d).ok())
    }

    /// The trust anchors.
    pub(crate) fn anchors(&self) -> impl Iterator<Item = Certificate<'_>> {
        x509::split_chain(&self.trust_anchors).filter_map(|d| Certificate::parse(d).ok())
    }
}

/// What time it is for certificates, if the caller said so: the Unix time
/// `unix` was current at the monotonic `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WallClock {
    pub(crate) at: Duration,
    pub(crate) unix: u64,
}

impl WallClock {
    pub(crate) fn unix_at(&self, now: Duration) -> i64 {
        let elapsed = now.saturating_sub(self.at).as_secs();
        i64::try_from(self.unix.saturating_add(elapsed)).unwrap_or(i64::MAX)
    }
}

fn check_validity(c: &Certificate<'_>, now: Option<i64>) -> Result<(), CertError> {
    let Some(t) = now else {
        return Ok(());
    };
    if t < c.not_before {
        Err(CertError::NotYetValid)
    } else if t > c.not_after {
        Err(CertError::Expired)
    } else {
        Ok(())
    }
}

/// Validates a peer's certificates (the bodies of its CERT payloads, in
/// any order) against the trust anchors and the identity it claimed, and
/// returns its end-entity certificate.
///
/// The end-entity certificate is the one that names the identity; the
/// chain is built upwards by issuer name, each link's signature checked
/// with its issuer's key and each issuer required to be a CA, until an
/// issuer is a trust anchor (RFC 5280 §6.1, without policies or name
/// constraints). `now` is the Unix time for the validity periods, `None`
/// when they are not checked.
///
/// # Errors
/// The [`CertError`] that names the first problem.
pub fn validate<'a>(
    certs: &[&'a [u8]],
    anchors: &[Certificate<'_>],
    id_type: IdType,
    id_data: &[u8],
    now: Option<i64>,
) -> Result<Certificate<'a>, CertError> {
    if certs.is_empty() {
        return Err(CertError::Missing);
    }
    let mut parsed: heapless::Vec<Certificate<'a>, MAX_CHAIN_DEPTH> = heapless::Vec::new();
    for der in certs.iter().take(MAX_CHAIN_DEPTH) {
        let c = Certificate::parse(der).map_err(CertError::Malformed)?;
        let _ = parsed.push(c);
    }
    let leaf = *parsed
        .iter()
        .find(|c| c.matches_id(id_type, id_data))
        .ok_or(CertError::IdMismatch)?;
    let mut cur = leaf;
    for _ in 0..=MAX_CHAIN_DEPTH {
        check_validity(&cur, now)?;
        // A trust anchor that issued it?
        let mut named = false;
        for a in anchors.iter().filter(|a| a.subject == cur.issuer) {
            named = true;
            if cur.signed_by(&a.public_key()) {
                check_validity(a, now)?;
                return Ok(leaf);
            }
        }
        if named {
            return Err(CertError::BadCertificateSignature);
        }
        // An intermediate the peer sent?
        let next = parsed
            .iter()
            .find(|c| c.subject == cur.issuer && c.raw != cur.raw)
            .copied();
        let Some(issuer) = next else {
            return Err(CertError::UnknownCa);
        };
        if !issuer.can_sign_certificates() {
            return Err(CertError::NotACa);
        }
        if !cur.signed_by(&issuer.public_key()) {
            return Err(CertError::BadCertificateSignature);
        }
        cur = issuer;
    }
    Err(CertError::UnknownCa)
}
