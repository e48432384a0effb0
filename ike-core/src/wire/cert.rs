//! Certificate and Certificate Request payloads (RFC 2408 §3.9, §3.10).
//! Parsed and emitted here; their use (RSA signatures) is the next step.

use super::{WireError, Writer, code_point};

code_point! {
    /// Certificate Encoding (RFC 2408 §3.9).
    pub enum CertEncoding: u8 {
        /// PKCS #7 wrapped X.509 certificate.
        Pkcs7 = 1,
        /// PGP Certificate.
        Pgp = 2,
        /// DNS Signed Key.
        DnsSignedKey = 3,
        /// X.509 Certificate - Signature.
        X509Signature = 4,
        /// X.509 Certificate - Key Exchange.
        X509KeyExchange = 5,
        /// Kerberos Tokens.
        Kerberos = 6,
        /// Certificate Revocation List (CRL).
        Crl = 7,
        /// Authority Revocation List (ARL).
        Arl = 8,
        /// SPKI Certificate.
        Spki = 9,
        /// X.509 Certificate - Attribute.
        X509Attribute = 10,
    }
}

/// A Certificate or Certificate Request body: an encoding octet and data
/// (the certificate, or the acceptable certificate authority).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertRepr<'a> {
    /// Cert Encoding / Cert. Type.
    pub encoding: CertEncoding,
    /// Certificate Data / Certificate Authority.
    pub data: &'a [u8],
}

impl<'a> CertRepr<'a> {
    /// Parses a CERT or CR body.
    ///
    /// # Errors
    /// [`WireError::Truncated`] when empty.
    pub fn parse(body: &'a [u8]) -> Result<Self, WireError> {
        let (&enc, data) = body.split_first().ok_or(WireError::Truncated)?;
        Ok(Self {
            encoding: enc.into(),
            data,
        })
    }

    /// Length of the body.
    pub fn buffer_len(&self) -> usize {
        1 + self.data.len()
    }

    /// Writes the body.
    pub fn emit(&self, w: &mut Writer<'_>) {
        w.put_u8(self.encoding.into());
        w.put(self.data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let body = [4u8, 0x30, 0x82, 0x01, 0x00];
        let c = CertRepr::parse(&body).unwrap();
        assert_eq!(c.encoding, CertEncoding::X509Signature);
        assert_eq!(c.data, &body[1..]);
        let mut out = [0u8; 5];
        let mut w = Writer::new(&mut out);
        c.emit(&mut w);
        assert_eq!(w.finish(), Ok(5));
        assert_eq!(out, body);
        assert_eq!(CertRepr::parse(&[]).err(), Some(WireError::Truncated));
    }
}
