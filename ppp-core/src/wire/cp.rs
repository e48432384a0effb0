//! Control-protocol packets: the format LCP defines (RFC 1661 §5) and that
//! IPCP reuses for codes 1 to 7 (RFC 1332 §2), with LCP's extension codes
//! Identification and Time-Remaining (RFC 1570 §2). The Configuration
//! Options of codes 1 to 4 are walked by [`Options`].
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Code      |  Identifier   |            Length             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |    Data ...
//! ```

use super::{WireError, be16, be32, check_header, emit_header, len8};

/// The length of Code, Identifier and Length.
pub const HEADER_LEN: usize = 4;

/// The Code field (RFC 1661 §5, RFC 1570 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Code {
    /// 1, RFC 1661 §5.1.
    ConfigureRequest,
    /// 2, RFC 1661 §5.2.
    ConfigureAck,
    /// 3, RFC 1661 §5.3.
    ConfigureNak,
    /// 4, RFC 1661 §5.4.
    ConfigureReject,
    /// 5, RFC 1661 §5.5.
    TerminateRequest,
    /// 6, RFC 1661 §5.5.
    TerminateAck,
    /// 7, RFC 1661 §5.6.
    CodeReject,
    /// 8, RFC 1661 §5.7 (LCP only).
    ProtocolReject,
    /// 9, RFC 1661 §5.8 (LCP only).
    EchoRequest,
    /// 10, RFC 1661 §5.8 (LCP only).
    EchoReply,
    /// 11, RFC 1661 §5.9 (LCP only).
    DiscardRequest,
    /// 12, RFC 1570 §2.1 (LCP only).
    Identification,
    /// 13, RFC 1570 §2.2 (LCP only).
    TimeRemaining,
    /// Any other value.
    Unknown(u8),
}

impl From<u8> for Code {
    fn from(v: u8) -> Self {
        match v {
            1 => Self::ConfigureRequest,
            2 => Self::ConfigureAck,
            3 => Self::ConfigureNak,
            4 => Self::ConfigureReject,
            5 => Self::TerminateRequest,
            6 => Self::TerminateAck,
            7 => Self::CodeReject,
            8 => Self::ProtocolReject,
            9 => Self::EchoRequest,
            10 => Self::EchoReply,
            11 => Self::DiscardRequest,
            12 => Self::Identification,
            13 => Self::TimeRemaining,
            v => Self::Unknown(v),
        }
    }
}

impl From<Code> for u8 {
    fn from(c: Code) -> u8 {
        match c {
            Code::ConfigureRequest => 1,
            Code::ConfigureAck => 2,
            Code::ConfigureNak => 3,
            Code::ConfigureReject => 4,
            Code::TerminateRequest => 5,
            Code::TerminateAck => 6,
            Code::CodeReject => 7,
            Code::ProtocolReject => 8,
            Code::EchoRequest => 9,
            Code::EchoReply => 10,
            Code::DiscardRequest => 11,
            Code::Identification => 12,
            Code::TimeRemaining => 13,
            Code::Unknown(v) => v,
        }
    }
}

/// A read/write view of a control packet.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer and checks the header and the Length field.
    ///
    /// # Errors
    /// [`WireError::Truncated`] below 4 bytes, [`WireError::BadLength`] for a
    /// Length below 4 or beyond the buffer.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// See [`Packet::new_checked`].
    ///
    /// # Errors
    /// As [`Packet::new_checked`].
    pub fn check_len(&self) -> Result<(), WireError> {
        check_header(self.buffer.as_ref()).map(|_| ())
    }

    /// The Code field.
    pub fn code(&self) -> Code {
        Code::from(self.buffer.as_ref()[0])
    }

    /// The Identifier field.
    pub fn identifier(&self) -> u8 {
        self.buffer.as_ref()[1]
    }

    /// The Length field: header and data, without padding.
    pub fn length(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }

    /// The Data field (the Options of codes 1 to 4), without padding.
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..usize::from(self.length())]
    }

    /// The packet without padding: what a Code-Reject or a Configure-Ack
    /// echoes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buffer.as_ref()[..usize::from(self.length())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the Identifier field.
    pub fn set_identifier(&mut self, v: u8) {
        self.buffer.as_mut()[1] = v;
    }
}

/// One Configuration Option (RFC 1661 §6): Type and the Data after the
/// Length octet.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RawOption<'a> {
    /// The Type field.
    pub kind: u8,
    /// The Data field (Length - 2 octets).
    pub data: &'a [u8],
}

impl core::fmt::Debug for RawOption<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Option({}, {:02x?})", self.kind, self.data)
    }
}

impl RawOption<'_> {
    /// Type, Length and Data together.
    pub const fn buffer_len(&self) -> usize {
        2 + self.data.len()
    }

    /// Writes the option into `buf[..self.buffer_len()]`. The data is at
    /// most 253 octets when it came from [`Options`].
    pub fn emit(&self, buf: &mut [u8]) {
        buf[0] = self.kind;
        buf[1] = len8(self.buffer_len());
        buf[2..self.buffer_len()].copy_from_slice(self.data);
    }
}

/// A lazy iterator over a Configuration Option list. After the first
/// malformed option it yields that error once and stops.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    rest: &'a [u8],
}

impl<'a> Options<'a> {
    /// Walks `bytes` (the Data field of a Configure-* packet).
    pub const fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// Walks the whole list once and reports the first malformed option.
    ///
    /// # Errors
    /// [`WireError::BadOption`] for an option whose Length is below 2 or
    /// past the end.
    pub fn validate(bytes: &'a [u8]) -> Result<(), WireError> {
        Self::new(bytes).try_for_each(|o| o.map(|_| ()))
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<RawOption<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.rest {
            [] => None,
            [kind, len, ..] if *len >= 2 && usize::from(*len) <= self.rest.len() => {
                let len = usize::from(*len);
                let item = RawOption {
                    kind: *kind,
                    data: &self.rest[2..len],
                };
                self.rest = &self.rest[len..];
                Some(Ok(item))
            }
            _ => {
                self.rest = &[];
                Some(Err(WireError::BadOption))
            }
        }
    }
}

/// A control packet in high-level form. Which codes exist depends on the
/// protocol: [`Repr::parse`] takes `lcp = false` for IPCP, where codes 8 and
/// above are [`Repr::Unknown`] (RFC 1332 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Repr<'a> {
    /// Configure-Request (1); `options` is a valid option list.
    ConfigureRequest {
        /// Identifier.
        identifier: u8,
        /// The Options field.
        options: &'a [u8],
    },
    /// Configure-Ack (2).
    ConfigureAck {
        /// Identifier.
        identifier: u8,
        /// The Options field.
        options: &'a [u8],
    },
    /// Configure-Nak (3).
    ConfigureNak {
        /// Identifier.
        identifier: u8,
        /// The Options field.
        options: &'a [u8],
    },
    /// Configure-Reject (4).
    ConfigureReject {
        /// Identifier.
        identifier: u8,
        /// The Options field.
        options: &'a [u8],
    },
    /// Terminate-Request (5).
    TerminateRequest {
        /// Identifier.
        identifier: u8,
        /// Uninterpreted data.
        data: &'a [u8],
    },
    /// Terminate-Ack (6).
    TerminateAck {
        /// Identifier.
        identifier: u8,
        /// Uninterpreted data.
        data: &'a [u8],
    },
    /// Code-Reject (7): a copy of the rejected packet, maybe truncated.
    CodeReject {
        /// Identifier.
        identifier: u8,
        /// The Rejected-Packet field.
        rejected_packet: &'a [u8],
    },
    /// Protocol-Reject (8, LCP).
    ProtocolReject {
        /// Identifier.
        identifier: u8,
        /// The Rejected-Protocol field.
        rejected_protocol: u16,
        /// The Rejected-Information field, maybe truncated.
        rejected_information: &'a [u8],
    },
    /// Echo-Request (9, LCP).
    EchoRequest {
        /// Identifier.
        identifier: u8,
        /// The sender's Magic-Number or zero.
        magic_number: u32,
        /// Uninterpreted data.
        data: &'a [u8],
    },
    /// Echo-Reply (10, LCP).
    EchoReply {
        /// Identifier.
        identifier: u8,
        /// The sender's Magic-Number or zero.
        magic_number: u32,
        /// Uninterpreted data.
        data: &'a [u8],
    },
    /// Discard-Request (11, LCP).
    DiscardRequest {
        /// Identifier.
        identifier: u8,
        /// The sender's Magic-Number or zero.
        magic_number: u32,
        /// Uninterpreted data.
        data: &'a [u8],
    },
    /// Identification (12, LCP, RFC 1570 §2.1). Windows sends two after LCP
    /// opens (its RAS version and its host name).
    Identification {
        /// Identifier.
        identifier: u8,
        /// The sender's Magic-Number or zero.
        magic_number: u32,
        /// The Message field.
        message: &'a [u8],
    },
    /// Time-Remaining (13, LCP, RFC 1570 §2.2).
    TimeRemaining {
        /// Identifier.
        identifier: u8,
        /// The sender's Magic-Number or zero.
        magic_number: u32,
        /// Seconds remaining.
        seconds_remaining: u32,
        /// The Message field.
        message: &'a [u8],
    },
    /// A code the protocol does not define: answered with Code-Reject.
    Unknown {
        /// The Code field.
        code: u8,
        /// Identifier.
        identifier: u8,
        /// The Data field.
        data: &'a [u8],
    },
}

impl<'a> Repr<'a> {
    /// Parses a checked packet. `lcp` enables codes 8 to 13.
    ///
    /// # Errors
    /// [`WireError::BadOption`] for a Configure-* packet whose option list is
    /// malformed (the RFC gives no answer to such a packet, so it is
    /// discarded as invalid); [`WireError::Truncated`] for LCP codes 8 to 13
    /// shorter than their fixed fields.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Packet<&'a T>,
        lcp: bool,
    ) -> Result<Self, WireError> {
        let identifier = packet.identifier();
        let buf: &'a [u8] = <T as AsRef<[u8]>>::as_ref(packet.buffer);
        let data = &buf[HEADER_LEN..usize::from(packet.length())];
        let magic = || -> Result<(u32, &'a [u8]), WireError> {
            if data.len() < 4 {
                return Err(WireError::Truncated);
            }
            Ok((be32(data, 0), &data[4..]))
        };
        let code = u8::from(packet.code());
        Ok(match (code, lcp) {
            (1..=4, _) => {
                Options::validate(data)?;
                match code {
                    1 => Self::ConfigureRequest {
                        identifier,
                        options: data,
                    },
                    2 => Self::ConfigureAck {
                        identifier,
                        options: data,
                    },
                    3 => Self::ConfigureNak {
                        identifier,
                        options: data,
                    },
                    _ => Self::ConfigureReject {
                        identifier,
                        options: data,
                    },
                }
            }
            (5, _) => Self::TerminateRequest { identifier, data },
            (6, _) => Self::TerminateAck { identifier, data },
            (7, _) => Self::CodeReject {
                identifier,
                rejected_packet: data,
            },
            (8, true) => {
                if data.len() < 2 {
                    return Err(WireError::Truncated);
                }
                Self::ProtocolReject {
                    identifier,
                    rejected_protocol: be16(data, 0),
                    rejected_information: &data[2..],
                }
            }
            (9, true) => {
                let (magic_number, data) = magic()?;
                Self::EchoRequest {
                    identifier,
                    magic_number,
                    data,
                }
            }
            (10, true) => {
                let (magic_number, data) = magic()?;
                Self::EchoReply {
                    identifier,
                    magic_number,
                    data,
                }
            }
            (11, true) => {
                let (magic_number, data) = magic()?;
                Self::DiscardRequest {
                    identifier,
                    magic_number,
                    data,
                }
            }
            (12, true) => {
                let (magic_number, message) = magic()?;
                Self::Identification {
                    identifier,
                    magic_number,
                    message,
                }
            }
            (13, true) => {
                if data.len() < 8 {
                    return Err(WireError::Truncated);
                }
                Self::TimeRemaining {
                    identifier,
                    magic_number: be32(data, 0),
                    seconds_remaining: be32(data, 4),
                    message: &data[8..],
                }
            }
            (code, _) => Self::Unknown {
                code,
                identifier,
                data,
            },
        })
    }

    /// The Code of this packet.
    pub fn code(&self) -> u8 {
        match self {
            Self::ConfigureRequest { .. } => 1,
            Self::ConfigureAck { .. } => 2,
            Self::ConfigureNak { .. } => 3,
            Self::ConfigureReject { .. } => 4,
            Self::TerminateRequest { .. } => 5,
            Self::TerminateAck { .. } => 6,
            Self::CodeReject { .. } => 7,
            Self::ProtocolReject { .. } => 8,
            Self::EchoRequest { .. } => 9,
            Self::EchoReply { .. } => 10,
            Self::DiscardRequest { .. } => 11,
            Self::Identification { .. } => 12,
            Self::TimeRemaining { .. } => 13,
            Self::Unknown { code, .. } => *code,
        }
    }

    /// The Identifier of this packet.
    pub fn identifier(&self) -> u8 {
        match *self {
            Self::ConfigureRequest { identifier, .. }
            | Self::ConfigureAck { identifier, .. }
            | Self::ConfigureNak { identifier, .. }
            | Self::ConfigureReject { identifier, .. }
            | Self::TerminateRequest { identifier, .. }
            | Self::TerminateAck { identifier, .. }
            | Self::CodeReject { identifier, .. }
            | Self::ProtocolReject { identifier, .. }
            | Self::EchoRequest { identifier, .. }
            | Self::EchoReply { identifier, .. }
            | Self::DiscardRequest { identifier, .. }
            | Self::Identification { identifier, .. }
            | Self::TimeRemaining { identifier, .. }
            | Self::Unknown { identifier, .. } => identifier,
        }
    }

    /// (fixed fields after the header, variable tail)
    fn parts(&self) -> ([u8; 8], usize, &'a [u8]) {
        let mut f = [0u8; 8];
        match *self {
            Self::ConfigureRequest { options, .. }
            | Self::ConfigureAck { options, .. }
            | Self::ConfigureNak { options, .. }
            | Self::ConfigureReject { options, .. } => (f, 0, options),
            Self::TerminateRequest { data, .. } | Self::TerminateAck { data, .. } => (f, 0, data),
            Self::CodeReject {
                rejected_packet, ..
            } => (f, 0, rejected_packet),
            Self::Unknown { data, .. } => (f, 0, data),
            Self::ProtocolReject {
                rejected_protocol,
                rejected_information,
                ..
            } => {
                f[..2].copy_from_slice(&rejected_protocol.to_be_bytes());
                (f, 2, rejected_information)
            }
            Self::EchoRequest {
                magic_number, data, ..
            }
            | Self::EchoReply {
                magic_number, data, ..
            }
            | Self::DiscardRequest {
                magic_number, data, ..
            }
            | Self::Identification {
                magic_number,
                message: data,
                ..
            } => {
                f[..4].copy_from_slice(&magic_number.to_be_bytes());
                (f, 4, data)
            }
            Self::TimeRemaining {
                magic_number,
                seconds_remaining,
                message,
                ..
            } => {
                f[..4].copy_from_slice(&magic_number.to_be_bytes());
                f[4..].copy_from_slice(&seconds_remaining.to_be_bytes());
                (f, 8, message)
            }
        }
    }

    /// The length of the packet [`Repr::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        let (_, n, tail) = self.parts();
        HEADER_LEN + n + tail.len()
    }

    /// Writes the packet into `buf[..self.buffer_len()]`. The caller keeps
    /// `buffer_len()` within 65535 (every packet parsed from the wire is).
    pub fn emit(&self, buf: &mut [u8]) {
        let (fixed, n, tail) = self.parts();
        let len = self.buffer_len();
        emit_header(buf, self.code(), self.identifier(), len);
        buf[HEADER_LEN..HEADER_LEN + n].copy_from_slice(&fixed[..n]);
        buf[HEADER_LEN + n..len].copy_from_slice(tail);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    // The LNS's first LCP Configure-Request of session a of the L2TP/IPsec
    // captures, as its pppd log decodes it (`<mru 1280> <asyncmap 0x0> <auth
    // chap MS-v2> <magic 0x59387771> <pcomp> <accomp>`), encoded per
    // RFC 1661 §6; `tests/captures.rs` checks the captured bytes themselves.
    const LNS_CONFREQ: [u8; 29] = hex!(
        "01 01 00 1d 01 04 05 00 02 06 00 00 00 00 03 05 c2 23 81 05 06 59 38 77 71 07 02 08 02"
    );

    #[test]
    fn configure_request_from_capture() {
        let p = Packet::new_checked(&LNS_CONFREQ[..]).unwrap();
        let r = Repr::parse(&p, true).unwrap();
        let Repr::ConfigureRequest {
            identifier: 1,
            options,
        } = r
        else {
            panic!("{r:?}")
        };
        let kinds: heapless::Vec<u8, 8> = Options::new(options).map(|o| o.unwrap().kind).collect();
        assert_eq!(kinds.as_slice(), &[1, 2, 3, 5, 7, 8]);
        let mut out = [0u8; 64];
        r.emit(&mut out);
        assert_eq!(&out[..r.buffer_len()], &LNS_CONFREQ[..]);
    }

    #[test]
    fn malformed_option_lists() {
        // Length 1, and an option that runs past the end.
        for bad in [
            &hex!("01 01 00 06 01 01")[..],
            &hex!("01 01 00 07 01 04 05")[..],
        ] {
            let p = Packet::new_checked(bad).unwrap();
            assert_eq!(Repr::parse(&p, true), Err(WireError::BadOption));
        }
        let mut it = Options::new(&[1, 0, 1, 4]);
        assert_eq!(it.next(), Some(Err(WireError::BadOption)));
        assert_eq!(it.next(), None);
    }

    #[test]
    fn lcp_only_codes() {
        // Echo-Request from the capture: `LCP EchoReq id=0x0 magic=0x59387771`.
        let echo = hex!("09 00 00 08 59 38 77 71");
        let p = Packet::new_checked(&echo[..]).unwrap();
        assert_eq!(
            Repr::parse(&p, true).unwrap(),
            Repr::EchoRequest {
                identifier: 0,
                magic_number: 0x5938_7771,
                data: &[]
            }
        );
        // In IPCP code 9 is unknown (RFC 1332 §2).
        assert!(matches!(
            Repr::parse(&p, false).unwrap(),
            Repr::Unknown { code: 9, .. }
        ));
        let short = hex!("0d 01 00 08 00 00 00 01");
        let p = Packet::new_checked(&short[..]).unwrap();
        assert_eq!(Repr::parse(&p, true), Err(WireError::Truncated));
    }
}
