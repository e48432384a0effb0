//! Notification (RFC 2408 §3.14, RFC 2407 §4.6.3) and Delete (RFC 2408
//! §3.15) payloads.

use super::{ProtocolId, WireError, Writer, be16, be32, code_point};

code_point! {
    /// Notify Message Types: errors 1-8191 (RFC 2408 §3.14.1), status
    /// 16384.. (RFC 2408, RFC 2407 §4.6.3), and the DPD messages of
    /// RFC 3706 §5.
    pub enum NotifyType: u16 {
        /// INVALID-PAYLOAD-TYPE.
        InvalidPayloadType = 1,
        /// DOI-NOT-SUPPORTED.
        DoiNotSupported = 2,
        /// SITUATION-NOT-SUPPORTED.
        SituationNotSupported = 3,
        /// INVALID-COOKIE.
        InvalidCookie = 4,
        /// INVALID-MAJOR-VERSION.
        InvalidMajorVersion = 5,
        /// INVALID-MINOR-VERSION.
        InvalidMinorVersion = 6,
        /// INVALID-EXCHANGE-TYPE.
        InvalidExchangeType = 7,
        /// INVALID-FLAGS.
        InvalidFlags = 8,
        /// INVALID-MESSAGE-ID.
        InvalidMessageId = 9,
        /// INVALID-PROTOCOL-ID.
        InvalidProtocolId = 10,
        /// INVALID-SPI.
        InvalidSpi = 11,
        /// INVALID-TRANSFORM-ID.
        InvalidTransformId = 12,
        /// ATTRIBUTES-NOT-SUPPORTED.
        AttributesNotSupported = 13,
        /// NO-PROPOSAL-CHOSEN.
        NoProposalChosen = 14,
        /// BAD-PROPOSAL-SYNTAX.
        BadProposalSyntax = 15,
        /// PAYLOAD-MALFORMED.
        PayloadMalformed = 16,
        /// INVALID-KEY-INFORMATION.
        InvalidKeyInformation = 17,
        /// INVALID-ID-INFORMATION.
        InvalidIdInformation = 18,
        /// INVALID-CERT-ENCODING.
        InvalidCertEncoding = 19,
        /// INVALID-CERTIFICATE.
        InvalidCertificate = 20,
        /// CERT-TYPE-UNSUPPORTED.
        CertTypeUnsupported = 21,
        /// INVALID-CERT-AUTHORITY.
        InvalidCertAuthority = 22,
        /// INVALID-HASH-INFORMATION.
        InvalidHashInformation = 23,
        /// AUTHENTICATION-FAILED.
        AuthenticationFailed = 24,
        /// INVALID-SIGNATURE.
        InvalidSignature = 25,
        /// ADDRESS-NOTIFICATION.
        AddressNotification = 26,
        /// NOTIFY-SA-LIFETIME.
        NotifySaLifetime = 27,
        /// CERTIFICATE-UNAVAILABLE.
        CertificateUnavailable = 28,
        /// UNSUPPORTED-EXCHANGE-TYPE.
        UnsupportedExchangeType = 29,
        /// UNEQUAL-PAYLOAD-LENGTHS.
        UnequalPayloadLengths = 30,
        /// CONNECTED.
        Connected = 16384,
        /// RESPONDER-LIFETIME (RFC 2407 §4.6.3.1).
        ResponderLifetime = 24576,
        /// REPLAY-STATUS (RFC 2407 §4.6.3.2).
        ReplayStatus = 24577,
        /// INITIAL-CONTACT (RFC 2407 §4.6.3.3).
        InitialContact = 24578,
        /// R-U-THERE (RFC 3706 §5).
        RUThere = 36136,
        /// R-U-THERE-ACK (RFC 3706 §5).
        RUThereAck = 36137,
    }
}

impl NotifyType {
    /// Whether this is an error type (1..=16383, RFC 2408 §3.14.1).
    pub fn is_error(self) -> bool {
        matches!(u16::from(self), 1..=16383)
    }
}

/// A Notification payload body (RFC 2408 §3.14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotifyRepr<'a> {
    /// Domain of Interpretation.
    pub doi: u32,
    /// Protocol-Id.
    pub protocol: ProtocolId,
    /// Notify Message Type.
    pub notify_type: NotifyType,
    /// SPI (the cookie pair for ISAKMP, four octets for ESP, or empty).
    pub spi: &'a [u8],
    /// Notification Data.
    pub data: &'a [u8],
}

impl<'a> NotifyRepr<'a> {
    /// Parses a Notification body.
    ///
    /// # Errors
    /// [`WireError::Truncated`] below 8 octets, [`WireError::Malformed`] if
    /// the SPI does not fit.
    pub fn parse(body: &'a [u8]) -> Result<Self, WireError> {
        if body.len() < 8 {
            return Err(WireError::Truncated);
        }
        let spi_size = usize::from(body[5]);
        let spi = body.get(8..8 + spi_size).ok_or(WireError::Malformed)?;
        Ok(Self {
            doi: be32(body, 0),
            protocol: body[4].into(),
            notify_type: be16(body, 6).into(),
            spi,
            data: &body[8 + spi_size..],
        })
    }

    /// Length of the body.
    pub fn buffer_len(&self) -> usize {
        8 + self.spi.len() + self.data.len()
    }

    /// Writes the body.
    pub fn emit(&self, w: &mut Writer<'_>) {
        w.put_u32(self.doi);
        w.put_u8(self.protocol.into());
        w.put_u8(u8::try_from(self.spi.len()).unwrap_or(u8::MAX));
        w.put_u16(self.notify_type.into());
        w.put(self.spi);
        w.put(self.data);
    }
}

/// A Delete payload body (RFC 2408 §3.15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeleteRepr<'a> {
    /// Domain of Interpretation.
    pub doi: u32,
    /// Protocol-Id.
    pub protocol: ProtocolId,
    /// SPI Size (16 for an ISAKMP SA: the cookie pair).
    pub spi_size: u8,
    /// The SPIs, `spi_size` octets each.
    pub spis: SpiIter<'a>,
}

impl<'a> DeleteRepr<'a> {
    /// Parses a Delete body.
    ///
    /// # Errors
    /// [`WireError::Truncated`] below 8 octets, [`WireError::Malformed`] if
    /// the announced SPIs do not fit or their size is zero.
    pub fn parse(body: &'a [u8]) -> Result<Self, WireError> {
        if body.len() < 8 {
            return Err(WireError::Truncated);
        }
        let spi_size = body[5];
        let count = usize::from(be16(body, 6));
        let bytes = usize::from(spi_size)
            .checked_mul(count)
            .ok_or(WireError::Malformed)?;
        if spi_size == 0 {
            return Err(WireError::Malformed);
        }
        let spis = body.get(8..8 + bytes).ok_or(WireError::Malformed)?;
        Ok(Self {
            doi: be32(body, 0),
            protocol: body[4].into(),
            spi_size,
            spis: SpiIter {
                data: spis,
                size: usize::from(spi_size),
            },
        })
    }

    /// Length of the body.
    pub fn buffer_len(&self) -> usize {
        8 + self.spis.data.len()
    }

    /// Writes the body.
    pub fn emit(&self, w: &mut Writer<'_>) {
        w.put_u32(self.doi);
        w.put_u8(self.protocol.into());
        w.put_u8(self.spi_size);
        w.put_u16(u16::try_from(self.spis.len()).unwrap_or(u16::MAX));
        w.put(self.spis.data);
    }

    /// A Delete of `spis` (concatenated, `spi_size` octets each).
    pub fn new(protocol: ProtocolId, spi_size: u8, spis: &'a [u8]) -> Self {
        Self {
            doi: super::DOI_IPSEC,
            protocol,
            spi_size,
            spis: SpiIter {
                data: spis,
                size: usize::from(spi_size.max(1)),
            },
        }
    }
}

/// The SPIs of a Delete payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpiIter<'a> {
    data: &'a [u8],
    size: usize,
}

impl SpiIter<'_> {
    /// Number of SPIs.
    pub fn len(&self) -> usize {
        self.data.len() / self.size.max(1)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'a> Iterator for SpiIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.size == 0 || self.data.len() < self.size {
            return None;
        }
        let (spi, rest) = self.data.split_at(self.size);
        self.data = rest;
        Some(spi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    // An R-U-THERE laid out as RFC 3706 §5 specifies: protocol ISAKMP, the
    // cookie pair as SPI, a four-octet sequence number as data
    // (constructed; the Delete bodies of the real sessions are checked in
    // tests/captures.rs).
    #[test]
    fn dpd_notify_round_trip() {
        let body = hex!("00000001 01 10 8d28 0011223344556677 8899aabbccddeeff 00000005");
        let n = NotifyRepr::parse(&body).unwrap();
        assert_eq!(n.doi, 1);
        assert_eq!(n.protocol, ProtocolId::Isakmp);
        assert_eq!(n.notify_type, NotifyType::RUThere);
        assert_eq!(n.spi.len(), 16);
        assert_eq!(n.data, hex!("00000005"));
        assert!(!n.notify_type.is_error());
        assert!(NotifyType::NoProposalChosen.is_error());
        let mut out = [0u8; 28];
        let mut w = Writer::new(&mut out);
        n.emit(&mut w);
        assert_eq!(w.finish(), Ok(28));
        assert_eq!(out, body);
    }

    #[test]
    fn delete_esp_spis() {
        let body = hex!("00000001 03 04 0002 c3db8139 c401e1b8");
        let d = DeleteRepr::parse(&body).unwrap();
        assert_eq!(d.protocol, ProtocolId::Esp);
        assert_eq!(d.spis.len(), 2);
        let spis: heapless::Vec<&[u8], 2> = d.spis.collect();
        assert_eq!(spis[0], hex!("c3db8139"));
        assert_eq!(spis[1], hex!("c401e1b8"));
        let mut out = [0u8; 16];
        let mut w = Writer::new(&mut out);
        DeleteRepr::new(ProtocolId::Esp, 4, &body[8..]).emit(&mut w);
        assert_eq!(w.finish(), Ok(16));
        assert_eq!(out, body);
        // More SPIs announced than present; zero SPI size.
        assert_eq!(
            DeleteRepr::parse(&hex!("00000001 03 04 0003 c3db8139 c401e1b8")).err(),
            Some(WireError::Malformed)
        );
        assert_eq!(
            DeleteRepr::parse(&hex!("00000001 03 00 0003")).err(),
            Some(WireError::Malformed)
        );
    }
}
