//! LCP Configuration Options (RFC 1661 §6, RFC 1662 §7.1 for ACCM,
//! RFC 1994 §3 and RFC 3748 §3 for the authentication protocols, RFC 1570
//! for Callback, RFC 1990 §5.1 for MRRU, Short Sequence and Endpoint
//! Discriminator).
//!
//! The packets themselves are [`super::cp`] packets with `lcp = true`.

use super::cp::RawOption;
use super::{WireError, be16, be32};

/// LCP Configuration Option types this crate names.
pub mod kind {
    /// Maximum-Receive-Unit (RFC 1661 §6.1).
    pub const MRU: u8 = 1;
    /// Async-Control-Character-Map (RFC 1662 §7.1).
    pub const ACCM: u8 = 2;
    /// Authentication-Protocol (RFC 1661 §6.2).
    pub const AUTH_PROTOCOL: u8 = 3;
    /// Quality-Protocol (RFC 1661 §6.3).
    pub const QUALITY_PROTOCOL: u8 = 4;
    /// Magic-Number (RFC 1661 §6.4).
    pub const MAGIC_NUMBER: u8 = 5;
    /// Protocol-Field-Compression (RFC 1661 §6.5).
    pub const PFC: u8 = 7;
    /// Address-and-Control-Field-Compression (RFC 1661 §6.6).
    pub const ACFC: u8 = 8;
    /// Callback (RFC 1570 §2.3); Windows offers operation 6 (CBCP).
    pub const CALLBACK: u8 = 13;
    /// Multilink MRRU (RFC 1990 §5.1.1).
    pub const MRRU: u8 = 17;
    /// Multilink Short Sequence Number Header Format (RFC 1990 §5.1.2).
    pub const SHORT_SEQUENCE: u8 = 18;
    /// Endpoint Discriminator (RFC 1990 §5.1.3).
    pub const ENDPOINT_DISCRIMINATOR: u8 = 19;
}

/// The authentication methods this crate speaks, as the
/// Authentication-Protocol option names them (RFC 1661 §6.2, RFC 1994 §3,
/// RFC 2433 §2, RFC 2759 §2, RFC 3748 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum AuthMethod {
    /// PAP, protocol 0xC023 (RFC 1334).
    Pap,
    /// CHAP with MD5, 0xC223 algorithm 5 (RFC 1994).
    ChapMd5,
    /// MS-CHAP, 0xC223 algorithm 0x80 (RFC 2433).
    MsChapV1,
    /// MS-CHAP-V2, 0xC223 algorithm 0x81 (RFC 2759).
    MsChapV2,
    /// EAP, 0xC227 (RFC 3748).
    Eap,
}

impl AuthMethod {
    /// The Authentication-Protocol field.
    pub const fn protocol(self) -> u16 {
        match self {
            Self::Pap => 0xc023,
            Self::ChapMd5 | Self::MsChapV1 | Self::MsChapV2 => 0xc223,
            Self::Eap => 0xc227,
        }
    }

    /// The CHAP Algorithm octet, for the CHAP variants.
    pub const fn chap_algorithm(self) -> Option<u8> {
        match self {
            Self::ChapMd5 => Some(5),
            Self::MsChapV1 => Some(0x80),
            Self::MsChapV2 => Some(0x81),
            Self::Pap | Self::Eap => None,
        }
    }

    /// The PPP protocol that carries this method's packets.
    pub const fn ppp_protocol(self) -> super::Protocol {
        match self {
            Self::Pap => super::Protocol::Pap,
            Self::ChapMd5 | Self::MsChapV1 | Self::MsChapV2 => super::Protocol::Chap,
            Self::Eap => super::Protocol::Eap,
        }
    }

    /// Recognises an Authentication-Protocol option value; `None` for
    /// anything else (another protocol, a CHAP algorithm this crate does not
    /// do, trailing data after PAP or EAP).
    pub fn from_option(protocol: u16, data: &[u8]) -> Option<Self> {
        match (protocol, data) {
            (0xc023, []) => Some(Self::Pap),
            (0xc227, []) => Some(Self::Eap),
            (0xc223, [5]) => Some(Self::ChapMd5),
            (0xc223, [0x80]) => Some(Self::MsChapV1),
            (0xc223, [0x81]) => Some(Self::MsChapV2),
            _ => None,
        }
    }

    /// The option in [`LcpOption`] form.
    pub fn to_option(self) -> LcpOption<'static> {
        let data: &'static [u8] = match self {
            Self::ChapMd5 => &[5],
            Self::MsChapV1 => &[0x80],
            Self::MsChapV2 => &[0x81],
            Self::Pap | Self::Eap => &[],
        };
        LcpOption::AuthProtocol {
            protocol: self.protocol(),
            data,
        }
    }
}

/// One LCP Configuration Option in high-level form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LcpOption<'a> {
    /// Maximum-Receive-Unit: the largest Information field the sender can
    /// receive.
    Mru(u16),
    /// Async-Control-Character-Map.
    Accm(u32),
    /// Authentication-Protocol: the protocol the sender wants the peer to
    /// authenticate with, and its data (the CHAP algorithm).
    AuthProtocol {
        /// The Authentication-Protocol field.
        protocol: u16,
        /// The Data field.
        data: &'a [u8],
    },
    /// Quality-Protocol.
    QualityProtocol {
        /// The Quality-Protocol field.
        protocol: u16,
        /// The Data field.
        data: &'a [u8],
    },
    /// Magic-Number.
    MagicNumber(u32),
    /// Protocol-Field-Compression: the sender can receive one-octet
    /// protocol fields.
    Pfc,
    /// Address-and-Control-Field-Compression: the sender can receive frames
    /// without Address and Control.
    Acfc,
    /// Callback.
    Callback {
        /// The Operation field.
        operation: u8,
        /// The Message field.
        message: &'a [u8],
    },
    /// Multilink Maximum-Received-Reconstructed-Unit.
    Mrru(u16),
    /// Multilink Short Sequence Number Header Format.
    ShortSequence,
    /// Multilink Endpoint Discriminator.
    EndpointDiscriminator {
        /// The Class field.
        class: u8,
        /// The Address field.
        address: &'a [u8],
    },
    /// Any other type.
    Unknown(RawOption<'a>),
}

impl<'a> LcpOption<'a> {
    /// Interprets a raw option.
    ///
    /// # Errors
    /// [`WireError::BadOptionLength`] when a known type has the wrong length.
    pub fn parse(o: RawOption<'a>) -> Result<Self, WireError> {
        let d = o.data;
        let bad = Err(WireError::BadOptionLength);
        Ok(match o.kind {
            kind::MRU if d.len() == 2 => Self::Mru(be16(d, 0)),
            kind::ACCM if d.len() == 4 => Self::Accm(be32(d, 0)),
            kind::AUTH_PROTOCOL if d.len() >= 2 => Self::AuthProtocol {
                protocol: be16(d, 0),
                data: &d[2..],
            },
            kind::QUALITY_PROTOCOL if d.len() >= 2 => Self::QualityProtocol {
                protocol: be16(d, 0),
                data: &d[2..],
            },
            kind::MAGIC_NUMBER if d.len() == 4 => Self::MagicNumber(be32(d, 0)),
            kind::PFC if d.is_empty() => Self::Pfc,
            kind::ACFC if d.is_empty() => Self::Acfc,
            kind::CALLBACK if !d.is_empty() => Self::Callback {
                operation: d[0],
                message: &d[1..],
            },
            kind::MRRU if d.len() == 2 => Self::Mrru(be16(d, 0)),
            kind::SHORT_SEQUENCE if d.is_empty() => Self::ShortSequence,
            kind::ENDPOINT_DISCRIMINATOR if !d.is_empty() => Self::EndpointDiscriminator {
                class: d[0],
                address: &d[1..],
            },
            kind::MRU
            | kind::ACCM
            | kind::AUTH_PROTOCOL
            | kind::QUALITY_PROTOCOL
            | kind::MAGIC_NUMBER
            | kind::PFC
            | kind::ACFC
            | kind::CALLBACK
            | kind::MRRU
            | kind::SHORT_SEQUENCE
            | kind::ENDPOINT_DISCRIMINATOR => return bad,
            _ => Self::Unknown(o),
        })
    }

    /// The Type field.
    pub fn kind(&self) -> u8 {
        match self {
            Self::Mru(_) => kind::MRU,
            Self::Accm(_) => kind::ACCM,
            Self::AuthProtocol { .. } => kind::AUTH_PROTOCOL,
            Self::QualityProtocol { .. } => kind::QUALITY_PROTOCOL,
            Self::MagicNumber(_) => kind::MAGIC_NUMBER,
            Self::Pfc => kind::PFC,
            Self::Acfc => kind::ACFC,
            Self::Callback { .. } => kind::CALLBACK,
            Self::Mrru(_) => kind::MRRU,
            Self::ShortSequence => kind::SHORT_SEQUENCE,
            Self::EndpointDiscriminator { .. } => kind::ENDPOINT_DISCRIMINATOR,
            Self::Unknown(o) => o.kind,
        }
    }

    /// (fixed value bytes, their count, variable tail)
    fn parts(&self) -> ([u8; 4], usize, &'a [u8]) {
        let mut f = [0u8; 4];
        match *self {
            Self::Mru(v) | Self::Mrru(v) => {
                f[..2].copy_from_slice(&v.to_be_bytes());
                (f, 2, &[])
            }
            Self::Accm(v) | Self::MagicNumber(v) => (v.to_be_bytes(), 4, &[]),
            Self::AuthProtocol { protocol, data } | Self::QualityProtocol { protocol, data } => {
                f[..2].copy_from_slice(&protocol.to_be_bytes());
                (f, 2, data)
            }
            Self::Pfc | Self::Acfc | Self::ShortSequence => (f, 0, &[]),
            Self::Callback { operation, message } => {
                f[0] = operation;
                (f, 1, message)
            }
            Self::EndpointDiscriminator { class, address } => {
                f[0] = class;
                (f, 1, address)
            }
            Self::Unknown(o) => (f, 0, o.data),
        }
    }

    /// Type, Length and Data together.
    pub fn buffer_len(&self) -> usize {
        let (_, n, tail) = self.parts();
        2 + n + tail.len()
    }

    /// Writes the option into `buf[..self.buffer_len()]` (at most 255
    /// octets for options that came from the wire).
    pub fn emit(&self, buf: &mut [u8]) {
        let (fixed, n, tail) = self.parts();
        let len = self.buffer_len();
        buf[0] = self.kind();
        buf[1] = super::len8(len);
        buf[2..2 + n].copy_from_slice(&fixed[..n]);
        buf[2 + n..len].copy_from_slice(tail);
    }
}

#[cfg(test)]
mod tests {
    use super::super::cp::Options;
    use super::*;
    use hex_literal::hex;

    #[test]
    fn every_option_round_trips() {
        // The LNS's options of session a as pppd logs them (see cp.rs), then a
        // Windows-style tail: Callback 6 (CBCP, RFC 1570 §2.3 / MS-CBCP), MRRU
        // 1614 and an Endpoint Discriminator of class 1 (RFC 1990 §5.1.3).
        let bytes = hex!(
            "01 04 05 00  02 06 00 00 00 00  03 05 c2 23 81  05 06 59 38 77 71  07 02  08 02
             0d 03 06  11 04 06 4e  13 08 01 de ad be ef 01  12 02  04 08 c0 25 00 00 01 f4
             fe 03 aa"
        );
        let expected = [
            LcpOption::Mru(1280),
            LcpOption::Accm(0),
            LcpOption::AuthProtocol {
                protocol: 0xc223,
                data: &[0x81],
            },
            LcpOption::MagicNumber(0x5938_7771),
            LcpOption::Pfc,
            LcpOption::Acfc,
            LcpOption::Callback {
                operation: 6,
                message: &[],
            },
            LcpOption::Mrru(1614),
            LcpOption::EndpointDiscriminator {
                class: 1,
                address: &hex!("de ad be ef 01"),
            },
            LcpOption::ShortSequence,
            LcpOption::QualityProtocol {
                protocol: 0xc025,
                data: &hex!("00 00 01 f4"),
            },
            LcpOption::Unknown(RawOption {
                kind: 0xfe,
                data: &[0xaa],
            }),
        ];
        let mut out = [0u8; 128];
        let mut at = 0;
        for (raw, want) in Options::new(&bytes).zip(expected) {
            let o = LcpOption::parse(raw.unwrap()).unwrap();
            assert_eq!(o, want);
            o.emit(&mut out[at..]);
            at += o.buffer_len();
        }
        assert_eq!(&out[..at], &bytes[..]);
        assert_eq!(
            AuthMethod::from_option(0xc223, &[0x81]).map(AuthMethod::to_option),
            Some(expected[2])
        );
    }

    #[test]
    fn wrong_lengths_are_errors() {
        for (kind, data) in [
            (1u8, &[5u8][..]),
            (2, &[0, 0]),
            (5, &[1, 2, 3]),
            (7, &[0]),
            (13, &[]),
        ] {
            assert_eq!(
                LcpOption::parse(RawOption { kind, data }),
                Err(WireError::BadOptionLength)
            );
        }
    }
}
