//! Phase 1 authentication (RFC 2409 §5): SKEYID, the identity we send, and
//! messages 5 and 6 with a pre-shared key (HASH_I/HASH_R, §5.4) or with
//! RSA signatures and certificates (SIG_I/SIG_R, §5.1; RFC 4945).
//!
//! ```text
//! HDR, KE, Ni [, CR..]             -->   (CERTREQ: our trust points)
//!                                  <--   HDR, KE, Nr [, CR..]
//! HDR*, IDii, [CERT..,] SIG_I      -->
//!                                  <--   HDR*, IDir, [CERT..,] SIG_R
//! ```
//!
//! SIG_I and SIG_R are PKCS#1 v1.5 signatures of HASH_I and HASH_R
//! without a DigestInfo (see [`crate::crypto::RsaPrivateKey`]). A message
//! with certificates is built in one of the endpoint's large-message slots
//! and fragmented for a peer that supports it.

use crate::buf::Buf;
use crate::cert::{self, CertError, Certificate, MAX_CHAIN_DEPTH, ValidityCheck};
use crate::config::Authentication;
use crate::crypto::{Digest64, MAX_BLOCK_LEN, MAX_RSA_LEN, Secret, skeyid_psk, skeyid_signature};
use crate::endpoint::Endpoint;
use crate::event::{Error, FailReason};
use crate::main_mode::StepError;
use crate::message::{Parsed, encrypt};
use crate::policy::Phase1Params;
use crate::state::{Exchange, MAX_MESSAGE_LEN};
use crate::wire::{
    CertEncoding, CertRepr, HeaderRepr, IdRepr, IdType, MessageWriter, NotifyRepr, NotifyType,
    PayloadType, ProtocolId,
};
use core::net::IpAddr;
use core::time::Duration;

/// Longest ID payload body we send (a distinguished name).
pub(crate) const MAX_OWN_ID: usize = 4 + 256;

fn cert_fail(e: CertError) -> StepError {
    StepError::Fail(
        FailReason::Certificate(e),
        Error::Certificate(e),
        Some(e.notify()),
    )
}

impl<const SAS: usize, const EXCHANGES: usize> Endpoint<SAS, EXCHANGES> {
    /// SKEYID (RFC 2409 §5): prf(pre-shared-key, Ni_b | Nr_b) for a
    /// pre-shared key, prf(Ni_b | Nr_b, g^xy) for signatures.
    pub(crate) fn skeyid(
        &self,
        p: &Phase1Params,
        peer: IpAddr,
        ni: &[u8],
        nr: &[u8],
        gxy: &[u8],
    ) -> Result<Digest64, StepError> {
        match p.authentication {
            Authentication::RsaSig => Ok(skeyid_signature(p.hash, ni, nr, gxy)),
            _ => {
                let psk = self
                    .config
                    .pre_shared_keys
                    .lookup(peer)
                    .ok_or(StepError::Fail(
                        FailReason::AuthenticationFailed,
                        Error::NotConfigured,
                        None,
                    ))?;
                Ok(skeyid_psk(p.hash, psk.as_bytes(), ni, nr))
            }
        }
    }

    /// Whether an authentication method can be used with `peer`.
    pub(crate) fn method_available(&self, a: Authentication, peer: IpAddr) -> bool {
        match a {
            Authentication::PreShare => self.config.pre_shared_keys.lookup(peer).is_some(),
            // Feature `psk-only`: certificate code is compiled out.
            Authentication::RsaSig => {
                !cfg!(feature = "psk-only") && self.config.credentials.usable()
            }
        }
    }

    /// The body of our phase 1 ID payload: our address with a pre-shared
    /// key; with certificates the configured identity, or the subject DN
    /// of our certificate (ID_DER_ASN1_DN, RFC 4945 §3.1.5).
    pub(crate) fn own_id(
        &self,
        p: &Phase1Params,
        local: IpAddr,
        protocol: u8,
        port: u16,
        out: &mut Buf<MAX_OWN_ID>,
    ) -> Result<(), StepError> {
        let mut ipbuf = [0u8; 16];
        let c = &self.config.credentials;
        let leaf = if cfg!(feature = "psk-only") {
            None
        } else {
            c.leaf()
        };
        let (id_type, data): (IdType, &[u8]) = match p.authentication {
            Authentication::RsaSig if cfg!(feature = "psk-only") => {
                return Err(Error::NotConfigured.into());
            }
            Authentication::RsaSig => match (&c.identity, &leaf) {
                (Some((t, d)), _) => (*t, d.as_slice()),
                (None, Some(l)) => (IdType::DerAsn1Dn, l.subject()),
                (None, None) => return Err(Error::NotConfigured.into()),
            },
            _ => {
                let id = IdRepr::from_ip(local, protocol, port, &mut ipbuf);
                (id.id_type, id.data)
            }
        };
        let storage = out.storage_mut();
        let n = 4 + data.len();
        let dst = storage.get_mut(..n).ok_or(Error::MessageTooLarge)?;
        dst[0] = id_type.into();
        dst[1] = protocol;
        dst[2..4].copy_from_slice(&port.to_be_bytes());
        dst[4..].copy_from_slice(data);
        out.set_len(n);
        Ok(())
    }

    /// CERTREQ payloads naming our trust anchors (RFC 4945 §3.2.4), for
    /// message 3 or 4 with signatures.
    pub(crate) fn write_cert_requests(&self, m: &mut MessageWriter<'_>) {
        if cfg!(feature = "psk-only") {
            return;
        }
        for a in self.config.credentials.anchors() {
            let mark = m.begin(PayloadType::CertificateRequest);
            CertRepr {
                encoding: CertEncoding::X509Signature,
                data: a.subject(),
            }
            .emit(m.body());
            m.end(mark);
        }
    }

    /// Writes message 5 or 6 into the exchange (or a large-message slot),
    /// encrypted from `iv` (which ends as the last ciphertext block): ID,
    /// then HASH for a pre-shared key, or our certificates and SIG; and
    /// INITIAL-CONTACT with the cookies in `initial_contact`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn write_auth_message(
        &mut self,
        ex: &mut Exchange,
        h: &HeaderRepr,
        p: &Phase1Params,
        ka: &[u8],
        iv: &mut Secret<MAX_BLOCK_LEN>,
        id_body: &[u8],
        hash: &Digest64,
        initial_contact: Option<[u8; 16]>,
    ) -> Result<(), StepError> {
        let rsa = p.authentication == Authentication::RsaSig;
        if rsa && cfg!(feature = "psk-only") {
            return Err(Error::NotConfigured.into());
        }
        let mut sig = [0u8; MAX_RSA_LEN];
        let mut sig_len = 0;
        let mut certs_len = 0;
        if rsa {
            let c = &self.config.credentials;
            let key = c.private_key.as_ref().ok_or(Error::NotConfigured)?;
            sig_len = key.len();
            key.sign_pkcs1v15(&[], hash.as_slice(), &mut sig[..sig_len])
                .map_err(|_| Error::NotConfigured)?;
            certs_len = cert::x509::split_chain(&c.chain).map(|d| 5 + d.len()).sum();
        }
        let estimate = 28 + 4 + id_body.len() + certs_len + 4 + sig_len.max(hash.len()) + 48 + 16;
        let large = if estimate > MAX_MESSAGE_LEN {
            Some(self.large_slot(ex).ok_or(Error::ExchangesFull)?)
        } else {
            None
        };
        let buf: &mut [u8] = match large {
            Some(k) => self.large[k].buf.storage_mut(),
            None => ex.tx.storage_mut(),
        };
        let mut m = MessageWriter::new(buf, h);
        m.payload(PayloadType::Identification, id_body);
        if rsa {
            for der in cert::x509::split_chain(&self.config.credentials.chain) {
                let mark = m.begin(PayloadType::Certificate);
                CertRepr {
                    encoding: CertEncoding::X509Signature,
                    data: der,
                }
                .emit(m.body());
                m.end(mark);
            }
            m.payload(PayloadType::Signature, &sig[..sig_len]);
        } else {
            m.payload(PayloadType::Hash, hash.as_slice());
        }
        if let Some(spi) = initial_contact {
            let mark = m.begin(PayloadType::Notification);
            NotifyRepr {
                doi: crate::wire::DOI_IPSEC,
                protocol: ProtocolId::Isakmp,
                notify_type: NotifyType::InitialContact,
                spi: &spi,
                data: &[],
            }
            .emit(m.body());
            m.end(mark);
        }
        let len = m.finish().map_err(|_| Error::MessageTooLarge)?;
        let total = encrypt(p.cipher, ka, iv, buf, len)?;
        match large {
            Some(k) => {
                self.large[k].buf.set_len(total);
                ex.tx.set_len(0);
            }
            None => ex.tx.set_len(total),
        }
        Ok(())
    }

    /// The Unix time certificates are checked against, `None` when the
    /// configuration says the device has no clock.
    fn certificate_time(&self, now: Duration) -> Result<Option<i64>, CertError> {
        match self.config.credentials.validity {
            ValidityCheck::NoClock => Ok(None),
            ValidityCheck::WallClock => self
                .wall_clock
                .get()
                .map(|w| Some(w.unix_at(now)))
                .ok_or(CertError::NoClock),
        }
    }

    /// Verifies the peer's message 5 or 6 (already decrypted and walked):
    /// `expected` is HASH_I or HASH_R computed over its ID payload. With a
    /// pre-shared key the HASH payload must equal it; with signatures the
    /// certificates must chain to a trust anchor and name the ID, and SIG
    /// must verify over `expected` with the end-entity key.
    pub(crate) fn verify_peer_auth(
        &self,
        p: &Phase1Params,
        parsed: &Parsed<'_>,
        id: &IdRepr<'_>,
        expected: &Digest64,
        now: Duration,
        hash_failure: StepError,
    ) -> Result<(), StepError> {
        if p.authentication != Authentication::RsaSig {
            let hash = parsed.get(PayloadType::Hash).ok_or(hash_failure)?;
            return if expected.ct_eq(hash.body) {
                Ok(())
            } else {
                Err(StepError::Fail(
                    FailReason::AuthenticationFailed,
                    Error::AuthenticationFailed,
                    Some(NotifyType::InvalidHashInformation),
                ))
            };
        }
        if cfg!(feature = "psk-only") {
            // Never chosen (`method_available`); certificate code is
            // compiled out.
            return Err(Error::NotConfigured.into());
        }
        let mut certs: heapless::Vec<&[u8], MAX_CHAIN_DEPTH> = heapless::Vec::new();
        let mut other_encoding = false;
        for c in parsed.all(PayloadType::Certificate) {
            match CertRepr::parse(c.body) {
                Ok(r) if r.encoding == CertEncoding::X509Signature => {
                    if certs.push(r.data).is_err() {
                        break;
                    }
                }
                _ => other_encoding = true,
            }
        }
        if certs.is_empty() && other_encoding {
            return Err(cert_fail(CertError::UnsupportedEncoding));
        }
        let time = self.certificate_time(now).map_err(cert_fail)?;
        let mut anchors: heapless::Vec<Certificate<'_>, MAX_CHAIN_DEPTH> = heapless::Vec::new();
        for a in self.config.credentials.anchors() {
            let _ = anchors.push(a);
        }
        let leaf =
            cert::validate(&certs, &anchors, id.id_type, id.data, time).map_err(cert_fail)?;
        let sig = parsed.get(PayloadType::Signature).ok_or(StepError::Fail(
            FailReason::InvalidSignature,
            Error::InvalidSignature,
            Some(NotifyType::InvalidSignature),
        ))?;
        if leaf
            .public_key()
            .verify_pkcs1v15(&[], expected.as_slice(), sig.body)
        {
            Ok(())
        } else {
            Err(StepError::Fail(
                FailReason::InvalidSignature,
                Error::InvalidSignature,
                Some(NotifyType::InvalidSignature),
            ))
        }
    }
}
