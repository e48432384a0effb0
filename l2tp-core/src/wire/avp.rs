//! Attribute-value pairs (RFC 2661 §4.1) and the code points of §4.4 and §6.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |M|H| rsvd  |      Length       |           Vendor ID           |
//! |         Attribute Type        |        Attribute Value...
//! ```

use super::{WireError, be16};

/// Vendor ID of the attributes defined by the IETF (RFC 2661 §4.1).
pub const VENDOR_IETF: u16 = 0;
/// Length of the AVP header.
pub const AVP_HEADER_LEN: usize = 6;
/// The largest AVP the 10-bit Length field can describe.
pub const AVP_MAX_LEN: usize = 1023;

pub(crate) const FLAG_M: u8 = 0x80;
pub(crate) const FLAG_H: u8 = 0x40;
const RESERVED: u8 = 0x3c;

macro_rules! code_points {
    ($(#[$m:meta])* $name:ident : $repr:ty { $($(#[$vm:meta])* $v:ident = $n:expr,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub enum $name {
            $($(#[$vm])* $v,)*
            /// A value this crate does not know: data, not an error.
            Unknown($repr),
        }
        impl From<$repr> for $name {
            fn from(v: $repr) -> Self {
                match v { $($n => Self::$v,)* other => Self::Unknown(other) }
            }
        }
        impl From<$name> for $repr {
            fn from(v: $name) -> $repr {
                match v { $($name::$v => $n,)* $name::Unknown(other) => other }
            }
        }
    };
}

code_points! {
    /// Attribute types of vendor 0 (RFC 2661 §4.4).
    AvpType: u16 {
        /// §4.4.1
        MessageType = 0,
        /// §4.4.2
        ResultCode = 1,
        /// §4.4.3
        ProtocolVersion = 2,
        /// §4.4.3
        FramingCapabilities = 3,
        /// §4.4.3
        BearerCapabilities = 4,
        /// §4.4.3
        TieBreaker = 5,
        /// §4.4.3
        FirmwareRevision = 6,
        /// §4.4.3
        HostName = 7,
        /// §4.4.3
        VendorName = 8,
        /// §4.4.3
        AssignedTunnelId = 9,
        /// §4.4.3
        ReceiveWindowSize = 10,
        /// §4.4.3
        Challenge = 11,
        /// §4.4.2
        Q931CauseCode = 12,
        /// §4.4.3
        ChallengeResponse = 13,
        /// §4.4.4
        AssignedSessionId = 14,
        /// §4.4.4
        CallSerialNumber = 15,
        /// §4.4.4
        MinimumBps = 16,
        /// §4.4.4
        MaximumBps = 17,
        /// §4.4.4
        BearerType = 18,
        /// §4.4.4
        FramingType = 19,
        /// §4.4.4
        CalledNumber = 21,
        /// §4.4.4
        CallingNumber = 22,
        /// §4.4.4
        SubAddress = 23,
        /// §4.4.4
        TxConnectSpeed = 24,
        /// §4.4.4
        PhysicalChannelId = 25,
        /// §4.4.5
        InitialReceivedLcpConfreq = 26,
        /// §4.4.5
        LastSentLcpConfreq = 27,
        /// §4.4.5
        LastReceivedLcpConfreq = 28,
        /// §4.4.5
        ProxyAuthenType = 29,
        /// §4.4.5
        ProxyAuthenName = 30,
        /// §4.4.5
        ProxyAuthenChallenge = 31,
        /// §4.4.5
        ProxyAuthenId = 32,
        /// §4.4.5
        ProxyAuthenResponse = 33,
        /// §4.4.6
        CallErrors = 34,
        /// §4.4.6
        Accm = 35,
        /// §4.4.3 (hiding, §4.3)
        RandomVector = 36,
        /// §4.4.4
        PrivateGroupId = 37,
        /// §4.4.4
        RxConnectSpeed = 38,
        /// §4.4.4
        SequencingRequired = 39,
    }
}

code_points! {
    /// Control message types (RFC 2661 §3.2, §6).
    MessageType: u16 {
        /// Start-Control-Connection-Request (§6.1)
        Sccrq = 1,
        /// Start-Control-Connection-Reply (§6.2)
        Sccrp = 2,
        /// Start-Control-Connection-Connected (§6.3)
        Scccn = 3,
        /// Stop-Control-Connection-Notification (§6.4)
        StopCcn = 4,
        /// Hello (§6.5)
        Hello = 6,
        /// Outgoing-Call-Request (§6.7)
        Ocrq = 7,
        /// Outgoing-Call-Reply (§6.8)
        Ocrp = 8,
        /// Outgoing-Call-Connected (§6.9)
        Occn = 9,
        /// Incoming-Call-Request (§6.6)
        Icrq = 10,
        /// Incoming-Call-Reply (§6.10)
        Icrp = 11,
        /// Incoming-Call-Connected (§6.11)
        Iccn = 12,
        /// Call-Disconnect-Notify (§6.12)
        Cdn = 14,
        /// WAN-Error-Notify (§6.13)
        Wen = 15,
        /// Set-Link-Info (§6.14)
        Sli = 16,
    }
}

impl MessageType {
    /// Whether the message concerns the control connection as a whole
    /// (§3.2): an unknown mandatory AVP in it ends the tunnel (§4.1).
    pub fn is_tunnel_scoped(self) -> bool {
        matches!(
            self,
            Self::Sccrq
                | Self::Sccrp
                | Self::Scccn
                | Self::StopCcn
                | Self::Hello
                | Self::Unknown(_)
        )
    }
}

/// One AVP as found on the wire (RFC 2661 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Avp<'a> {
    /// M bit: a receiver that does not recognise the AVP must end the
    /// session or tunnel (§4.1).
    pub mandatory: bool,
    /// H bit: the value is hidden (§4.3).
    pub hidden: bool,
    /// Some of the reserved bits were set: the AVP counts as unrecognised (§4.1).
    pub reserved: bool,
    /// Vendor ID (0 = IETF).
    pub vendor_id: u16,
    /// Attribute Type.
    pub attribute_type: u16,
    /// Attribute Value.
    pub value: &'a [u8],
}

impl Avp<'_> {
    /// The attribute as a vendor-0 type, or `None` for another vendor's.
    pub fn ietf_type(&self) -> Option<AvpType> {
        (self.vendor_id == VENDOR_IETF).then(|| AvpType::from(self.attribute_type))
    }

    /// Bytes this AVP takes on the wire.
    pub fn wire_len(&self) -> usize {
        AVP_HEADER_LEN + self.value.len()
    }
}

/// A lazy iterator over the AVPs of a control message payload. It yields
/// an error once and then stops when an AVP header is malformed.
#[derive(Debug, Clone)]
pub struct AvpIter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> AvpIter<'a> {
    /// Iterates the AVPs in `payload` (the bytes after the control header).
    pub const fn new(payload: &'a [u8]) -> Self {
        Self {
            buf: payload,
            pos: 0,
        }
    }

    /// Byte offset of the next AVP in the payload.
    pub fn position(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for AvpIter<'a> {
    type Item = Result<Avp<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.buf.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        let fail = |s: &mut Self, e| {
            s.pos = s.buf.len();
            Some(Err(e))
        };
        if rest.len() < AVP_HEADER_LEN {
            return fail(self, WireError::Truncated);
        }
        let len = usize::from(be16(rest, 0) & 0x03ff);
        if len < AVP_HEADER_LEN {
            return fail(self, WireError::AvpLength);
        }
        if len > rest.len() {
            return fail(self, WireError::Truncated);
        }
        self.pos += len;
        Some(Ok(Avp {
            mandatory: rest[0] & FLAG_M != 0,
            hidden: rest[0] & FLAG_H != 0,
            reserved: rest[0] & RESERVED != 0,
            vendor_id: be16(rest, 2),
            attribute_type: be16(rest, 4),
            value: &rest[AVP_HEADER_LEN..len],
        }))
    }
}

/// Writes an AVP header into `buf[..6]`. `len` includes the header and is
/// at most [`AVP_MAX_LEN`].
pub(crate) fn emit_header(buf: &mut [u8], mandatory: bool, hidden: bool, len: usize, attr: u16) {
    let [hi, lo] = u16::try_from(len & 0x03ff).unwrap_or(0).to_be_bytes();
    let mut b0 = hi;
    if mandatory {
        b0 |= FLAG_M;
    }
    if hidden {
        b0 |= FLAG_H;
    }
    buf[0] = b0;
    buf[1] = lo;
    buf[2..4].copy_from_slice(&VENDOR_IETF.to_be_bytes());
    buf[4..6].copy_from_slice(&attr.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    #[test]
    fn iterates_sccrq_avps_from_capture() {
        // The first AVPs of the SCCRQ in frame 14 of session a (xl2tpd 1.3.18):
        // Message Type 1, Protocol Version 1.0, Framing Capabilities 3.
        let avps = hex!("80080000000000018008000000020100800a0000000300000003");
        let v: heapless::Vec<Avp<'_>, 4> = AvpIter::new(&avps).map(Result::unwrap).collect();
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].ietf_type(), Some(AvpType::MessageType));
        assert!(v[0].mandatory && !v[0].hidden);
        assert_eq!(v[0].value, &[0, 1]);
        assert_eq!(v[1].ietf_type(), Some(AvpType::ProtocolVersion));
        assert_eq!(v[2].value, &[0, 0, 0, 3]);
    }

    #[test]
    fn vendor_and_reserved_bits() {
        // Microsoft (311) vendor AVP, not mandatory; then one with a reserved bit.
        let avps = hex!("0008 0137 0001 0000 8408 0000 0007 ffff");
        let mut it = AvpIter::new(&avps);
        let a = it.next().unwrap().unwrap();
        assert_eq!(
            (a.vendor_id, a.attribute_type, a.ietf_type()),
            (311, 1, None)
        );
        assert!(!a.mandatory);
        let b = it.next().unwrap().unwrap();
        assert!(b.reserved && b.mandatory);
        assert!(it.next().is_none());
    }

    #[test]
    fn malformed_stops_once() {
        let short = hex!("8005 0000 0000");
        let mut it = AvpIter::new(&short);
        assert_eq!(it.next(), Some(Err(WireError::AvpLength)));
        assert_eq!(it.next(), None);
        let long = hex!("8010 0000 0000 01");
        let mut it = AvpIter::new(&long);
        assert_eq!(it.next(), Some(Err(WireError::Truncated)));
        assert_eq!(it.next(), None);
        let mut it = AvpIter::new(&hex!("8008"));
        assert_eq!(it.next(), Some(Err(WireError::Truncated)));
    }

    #[test]
    fn code_points_round_trip() {
        for n in 0..=60u16 {
            assert_eq!(u16::from(AvpType::from(n)), n);
            assert_eq!(u16::from(MessageType::from(n)), n);
        }
        assert_eq!(AvpType::from(20), AvpType::Unknown(20));
        assert_eq!(MessageType::from(5), MessageType::Unknown(5));
    }
}
