//! Control messages (RFC 2661 §6) as one `Repr`: every AVP of §4.4 is an
//! optional field, so the same type parses and emits all message types.

use super::avp::{AVP_HEADER_LEN, AVP_MAX_LEN, emit_header};
use super::hidden::hide;
use super::{AvpIter, AvpType, Hiding, MessageType, WireError, be16, be32};

/// Result Code AVP (RFC 2661 §4.4.2): in StopCCN and CDN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ResultCode<'a> {
    /// Result code (§4.4.2 tables for StopCCN and CDN).
    pub result: u16,
    /// General error code (§4.4.2), when present.
    pub error: Option<u16>,
    /// Advisory error message, possibly empty.
    pub message: &'a [u8],
}

/// Q.931 Cause Code AVP (RFC 2661 §4.4.2): in CDN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Q931Cause<'a> {
    /// The Q.931 cause code.
    pub cause: u16,
    /// The Q.931 message type the cause came in.
    pub message_type: u8,
    /// Advisory message, possibly empty.
    pub advisory: &'a [u8],
}

/// Call Errors AVP (RFC 2661 §4.4.6): in WEN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CallErrors {
    /// CRC errors.
    pub crc_errors: u32,
    /// Framing errors.
    pub framing_errors: u32,
    /// Hardware overruns.
    pub hardware_overruns: u32,
    /// Buffer overruns.
    pub buffer_overruns: u32,
    /// Time-out errors.
    pub timeout_errors: u32,
    /// Alignment errors.
    pub alignment_errors: u32,
}

/// ACCM AVP (RFC 2661 §4.4.6): in SLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Accm {
    /// Send ACCM.
    pub send: u32,
    /// Receive ACCM.
    pub receive: u32,
}

/// A control message: the Message Type plus every AVP of RFC 2661 §4.4 as
/// an optional field. Parsing keeps the first occurrence of an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(missing_docs)] // Each field is the AVP of the same name in RFC 2661 §4.4.
pub struct Message<'a> {
    pub message_type: MessageType,
    pub result_code: Option<ResultCode<'a>>,
    /// Version and revision (1.0 for RFC 2661).
    pub protocol_version: Option<(u8, u8)>,
    /// S bit (1) synchronous, A bit (2) asynchronous framing (§4.4.3).
    pub framing_capabilities: Option<u32>,
    /// D bit (1) digital, A bit (2) analog access (§4.4.3).
    pub bearer_capabilities: Option<u32>,
    pub tie_breaker: Option<[u8; 8]>,
    pub firmware_revision: Option<u16>,
    pub host_name: Option<&'a [u8]>,
    pub vendor_name: Option<&'a [u8]>,
    pub assigned_tunnel_id: Option<u16>,
    pub receive_window_size: Option<u16>,
    pub challenge: Option<&'a [u8]>,
    pub q931_cause: Option<Q931Cause<'a>>,
    pub challenge_response: Option<[u8; 16]>,
    pub assigned_session_id: Option<u16>,
    pub call_serial_number: Option<u32>,
    pub minimum_bps: Option<u32>,
    pub maximum_bps: Option<u32>,
    pub bearer_type: Option<u32>,
    pub framing_type: Option<u32>,
    pub called_number: Option<&'a [u8]>,
    pub calling_number: Option<&'a [u8]>,
    pub sub_address: Option<&'a [u8]>,
    pub tx_connect_speed: Option<u32>,
    pub physical_channel_id: Option<u32>,
    pub initial_received_lcp_confreq: Option<&'a [u8]>,
    pub last_sent_lcp_confreq: Option<&'a [u8]>,
    pub last_received_lcp_confreq: Option<&'a [u8]>,
    pub proxy_authen_type: Option<u16>,
    pub proxy_authen_name: Option<&'a [u8]>,
    pub proxy_authen_challenge: Option<&'a [u8]>,
    pub proxy_authen_id: Option<u8>,
    pub proxy_authen_response: Option<&'a [u8]>,
    pub call_errors: Option<CallErrors>,
    pub accm: Option<Accm>,
    pub random_vector: Option<&'a [u8]>,
    pub private_group_id: Option<&'a [u8]>,
    pub rx_connect_speed: Option<u32>,
    /// Sequencing Required has no value: its presence is the flag.
    pub sequencing_required: bool,
    /// The first AVP with the M bit that this crate did not understand
    /// (unknown type, another vendor's, reserved bits set, or hidden without
    /// a way to recover it): (vendor ID, attribute type). RFC 2661 §4.1 says
    /// the session or tunnel must then end.
    pub unknown_mandatory: Option<(u16, u16)>,
}

/// Which AVPs this crate hides when it has a secret and hiding is on: the
/// identifiers and call data that RFC 2661 §4.4 says MAY be hidden.
fn hidden_when_possible(t: AvpType) -> bool {
    matches!(
        t,
        AvpType::AssignedTunnelId
            | AvpType::AssignedSessionId
            | AvpType::CallSerialNumber
            | AvpType::ChallengeResponse
            | AvpType::CalledNumber
            | AvpType::CallingNumber
            | AvpType::SubAddress
            | AvpType::ProxyAuthenName
            | AvpType::ProxyAuthenChallenge
            | AvpType::ProxyAuthenResponse
    )
}

/// The M bit this crate sets on each AVP it sends (RFC 2661 §4.4).
fn mandatory(t: AvpType) -> bool {
    !matches!(
        t,
        AvpType::TieBreaker
            | AvpType::FirmwareRevision
            | AvpType::VendorName
            | AvpType::PhysicalChannelId
            | AvpType::InitialReceivedLcpConfreq
            | AvpType::LastSentLcpConfreq
            | AvpType::LastReceivedLcpConfreq
            | AvpType::ProxyAuthenType
            | AvpType::ProxyAuthenName
            | AvpType::ProxyAuthenChallenge
            | AvpType::ProxyAuthenId
            | AvpType::ProxyAuthenResponse
            | AvpType::PrivateGroupId
            | AvpType::RxConnectSpeed
    )
}

fn fixed<const N: usize>(v: &[u8]) -> Result<[u8; N], WireError> {
    v.try_into().map_err(|_| WireError::AvpLength)
}

impl<'a> Message<'a> {
    /// A message of the given type with no other AVP.
    pub const fn new(message_type: MessageType) -> Self {
        Self {
            message_type,
            result_code: None,
            protocol_version: None,
            framing_capabilities: None,
            bearer_capabilities: None,
            tie_breaker: None,
            firmware_revision: None,
            host_name: None,
            vendor_name: None,
            assigned_tunnel_id: None,
            receive_window_size: None,
            challenge: None,
            q931_cause: None,
            challenge_response: None,
            assigned_session_id: None,
            call_serial_number: None,
            minimum_bps: None,
            maximum_bps: None,
            bearer_type: None,
            framing_type: None,
            called_number: None,
            calling_number: None,
            sub_address: None,
            tx_connect_speed: None,
            physical_channel_id: None,
            initial_received_lcp_confreq: None,
            last_sent_lcp_confreq: None,
            last_received_lcp_confreq: None,
            proxy_authen_type: None,
            proxy_authen_name: None,
            proxy_authen_challenge: None,
            proxy_authen_id: None,
            proxy_authen_response: None,
            call_errors: None,
            accm: None,
            random_vector: None,
            private_group_id: None,
            rx_connect_speed: None,
            sequencing_required: false,
            unknown_mandatory: None,
        }
    }

    /// Parses the AVPs of a control message (the payload after the
    /// header). Hidden AVPs must have been recovered first with
    /// [`unhide_in_place`](super::unhide_in_place); one still hidden counts
    /// as not understood. An empty payload is a ZLB and has no `Message`.
    ///
    /// # Errors
    /// [`WireError::MessageTypeFirst`] when the first AVP is not a plain
    /// Message Type; [`WireError::AvpLength`] when a known AVP has the wrong
    /// length; [`WireError::Truncated`] for a malformed AVP list.
    pub fn parse(payload: &'a [u8]) -> Result<Self, WireError> {
        let mut it = AvpIter::new(payload);
        let first = it.next().ok_or(WireError::MessageTypeFirst)??;
        if first.ietf_type() != Some(AvpType::MessageType) || first.hidden || first.reserved {
            return Err(WireError::MessageTypeFirst);
        }
        let mut m = Self::new(MessageType::from(be16(&fixed::<2>(first.value)?, 0)));
        for avp in it {
            let avp = avp?;
            let known = match avp.ietf_type() {
                Some(AvpType::Unknown(_)) | None => None,
                Some(t) if !avp.hidden && !avp.reserved => Some(t),
                Some(_) => None,
            };
            let Some(t) = known else {
                if avp.mandatory && m.unknown_mandatory.is_none() {
                    m.unknown_mandatory = Some((avp.vendor_id, avp.attribute_type));
                }
                continue;
            };
            m.set(t, avp.value)?;
        }
        Ok(m)
    }

    fn set(&mut self, t: AvpType, v: &'a [u8]) -> Result<(), WireError> {
        let u16v = |v: &[u8]| fixed::<2>(v).map(u16::from_be_bytes);
        let u32v = |v: &[u8]| fixed::<4>(v).map(u32::from_be_bytes);
        let bytes = |v: &'a [u8]| -> Result<&'a [u8], WireError> { Ok(v) };
        macro_rules! first {
            ($field:ident, $val:expr) => {{
                let parsed = $val;
                if self.$field.is_none() {
                    self.$field = Some(parsed);
                }
            }};
        }
        match t {
            AvpType::MessageType => return Err(WireError::DuplicateAvp),
            AvpType::ResultCode => {
                if v.len() < 2 || v.len() == 3 {
                    return Err(WireError::AvpLength);
                }
                let rc = ResultCode {
                    result: be16(v, 0),
                    error: (v.len() >= 4).then(|| be16(v, 2)),
                    message: v.get(4..).unwrap_or(&[]),
                };
                first!(result_code, rc);
            }
            AvpType::ProtocolVersion => first!(protocol_version, {
                let b = fixed::<2>(v)?;
                (b[0], b[1])
            }),
            AvpType::FramingCapabilities => first!(framing_capabilities, u32v(v)?),
            AvpType::BearerCapabilities => first!(bearer_capabilities, u32v(v)?),
            AvpType::TieBreaker => first!(tie_breaker, fixed::<8>(v)?),
            AvpType::FirmwareRevision => first!(firmware_revision, u16v(v)?),
            AvpType::HostName => first!(host_name, bytes(v)?),
            AvpType::VendorName => first!(vendor_name, bytes(v)?),
            AvpType::AssignedTunnelId => first!(assigned_tunnel_id, u16v(v)?),
            AvpType::ReceiveWindowSize => first!(receive_window_size, u16v(v)?),
            AvpType::Challenge => first!(challenge, bytes(v)?),
            AvpType::Q931CauseCode => {
                if v.len() < 3 {
                    return Err(WireError::AvpLength);
                }
                first!(
                    q931_cause,
                    Q931Cause {
                        cause: be16(v, 0),
                        message_type: v[2],
                        advisory: &v[3..]
                    }
                );
            }
            AvpType::ChallengeResponse => first!(challenge_response, fixed::<16>(v)?),
            AvpType::AssignedSessionId => first!(assigned_session_id, u16v(v)?),
            AvpType::CallSerialNumber => first!(call_serial_number, u32v(v)?),
            AvpType::MinimumBps => first!(minimum_bps, u32v(v)?),
            AvpType::MaximumBps => first!(maximum_bps, u32v(v)?),
            AvpType::BearerType => first!(bearer_type, u32v(v)?),
            AvpType::FramingType => first!(framing_type, u32v(v)?),
            AvpType::CalledNumber => first!(called_number, bytes(v)?),
            AvpType::CallingNumber => first!(calling_number, bytes(v)?),
            AvpType::SubAddress => first!(sub_address, bytes(v)?),
            AvpType::TxConnectSpeed => first!(tx_connect_speed, u32v(v)?),
            AvpType::PhysicalChannelId => first!(physical_channel_id, u32v(v)?),
            AvpType::InitialReceivedLcpConfreq => first!(initial_received_lcp_confreq, bytes(v)?),
            AvpType::LastSentLcpConfreq => first!(last_sent_lcp_confreq, bytes(v)?),
            AvpType::LastReceivedLcpConfreq => first!(last_received_lcp_confreq, bytes(v)?),
            AvpType::ProxyAuthenType => first!(proxy_authen_type, u16v(v)?),
            AvpType::ProxyAuthenName => first!(proxy_authen_name, bytes(v)?),
            AvpType::ProxyAuthenChallenge => first!(proxy_authen_challenge, bytes(v)?),
            AvpType::ProxyAuthenId => first!(proxy_authen_id, fixed::<2>(v)?[1]),
            AvpType::ProxyAuthenResponse => first!(proxy_authen_response, bytes(v)?),
            AvpType::CallErrors => {
                let b = fixed::<26>(v)?;
                first!(
                    call_errors,
                    CallErrors {
                        crc_errors: be32(&b, 2),
                        framing_errors: be32(&b, 6),
                        hardware_overruns: be32(&b, 10),
                        buffer_overruns: be32(&b, 14),
                        timeout_errors: be32(&b, 18),
                        alignment_errors: be32(&b, 22),
                    }
                );
            }
            AvpType::Accm => {
                let b = fixed::<10>(v)?;
                first!(
                    accm,
                    Accm {
                        send: be32(&b, 2),
                        receive: be32(&b, 6)
                    }
                );
            }
            // A later Random Vector replaces the earlier one (§4.3).
            AvpType::RandomVector => self.random_vector = Some(v),
            AvpType::PrivateGroupId => first!(private_group_id, bytes(v)?),
            AvpType::RxConnectSpeed => first!(rx_connect_speed, u32v(v)?),
            AvpType::SequencingRequired => {
                if !v.is_empty() {
                    return Err(WireError::AvpLength);
                }
                self.sequencing_required = true;
            }
            AvpType::Unknown(_) => {}
        }
        Ok(())
    }

    /// Calls `f(type, parts)` for each AVP to emit after the Message Type
    /// and the Random Vector, in a fixed order; the value is the
    /// concatenation of `parts`.
    fn for_each_avp(&self, f: &mut dyn FnMut(AvpType, &[&[u8]])) {
        let opt16 = |f: &mut dyn FnMut(AvpType, &[&[u8]]), t, v: Option<u16>| {
            if let Some(v) = v {
                f(t, &[&v.to_be_bytes()]);
            }
        };
        let opt32 = |f: &mut dyn FnMut(AvpType, &[&[u8]]), t, v: Option<u32>| {
            if let Some(v) = v {
                f(t, &[&v.to_be_bytes()]);
            }
        };
        let optb = |f: &mut dyn FnMut(AvpType, &[&[u8]]), t, v: Option<&[u8]>| {
            if let Some(v) = v {
                f(t, &[v]);
            }
        };
        if let Some(rc) = &self.result_code {
            let err = rc.error.unwrap_or(0).to_be_bytes();
            if rc.error.is_some() || !rc.message.is_empty() {
                f(
                    AvpType::ResultCode,
                    &[&rc.result.to_be_bytes(), &err, rc.message],
                );
            } else {
                f(AvpType::ResultCode, &[&rc.result.to_be_bytes()]);
            }
        }
        if let Some((v, r)) = self.protocol_version {
            f(AvpType::ProtocolVersion, &[&[v, r]]);
        }
        opt32(f, AvpType::FramingCapabilities, self.framing_capabilities);
        opt32(f, AvpType::BearerCapabilities, self.bearer_capabilities);
        if let Some(t) = &self.tie_breaker {
            f(AvpType::TieBreaker, &[t]);
        }
        opt16(f, AvpType::FirmwareRevision, self.firmware_revision);
        optb(f, AvpType::HostName, self.host_name);
        optb(f, AvpType::VendorName, self.vendor_name);
        opt16(f, AvpType::AssignedTunnelId, self.assigned_tunnel_id);
        opt16(f, AvpType::ReceiveWindowSize, self.receive_window_size);
        optb(f, AvpType::Challenge, self.challenge);
        if let Some(q) = &self.q931_cause {
            f(
                AvpType::Q931CauseCode,
                &[&q.cause.to_be_bytes(), &[q.message_type], q.advisory],
            );
        }
        if let Some(r) = &self.challenge_response {
            f(AvpType::ChallengeResponse, &[r]);
        }
        opt16(f, AvpType::AssignedSessionId, self.assigned_session_id);
        opt32(f, AvpType::CallSerialNumber, self.call_serial_number);
        opt32(f, AvpType::MinimumBps, self.minimum_bps);
        opt32(f, AvpType::MaximumBps, self.maximum_bps);
        opt32(f, AvpType::BearerType, self.bearer_type);
        opt32(f, AvpType::FramingType, self.framing_type);
        optb(f, AvpType::CalledNumber, self.called_number);
        optb(f, AvpType::CallingNumber, self.calling_number);
        optb(f, AvpType::SubAddress, self.sub_address);
        opt32(f, AvpType::TxConnectSpeed, self.tx_connect_speed);
        opt32(f, AvpType::PhysicalChannelId, self.physical_channel_id);
        optb(
            f,
            AvpType::InitialReceivedLcpConfreq,
            self.initial_received_lcp_confreq,
        );
        optb(f, AvpType::LastSentLcpConfreq, self.last_sent_lcp_confreq);
        optb(
            f,
            AvpType::LastReceivedLcpConfreq,
            self.last_received_lcp_confreq,
        );
        opt16(f, AvpType::ProxyAuthenType, self.proxy_authen_type);
        optb(f, AvpType::ProxyAuthenName, self.proxy_authen_name);
        optb(
            f,
            AvpType::ProxyAuthenChallenge,
            self.proxy_authen_challenge,
        );
        if let Some(id) = self.proxy_authen_id {
            f(AvpType::ProxyAuthenId, &[&[0, id]]);
        }
        optb(f, AvpType::ProxyAuthenResponse, self.proxy_authen_response);
        if let Some(e) = &self.call_errors {
            f(
                AvpType::CallErrors,
                &[
                    &[0, 0],
                    &e.crc_errors.to_be_bytes(),
                    &e.framing_errors.to_be_bytes(),
                    &e.hardware_overruns.to_be_bytes(),
                    &e.buffer_overruns.to_be_bytes(),
                    &e.timeout_errors.to_be_bytes(),
                    &e.alignment_errors.to_be_bytes(),
                ],
            );
        }
        if let Some(a) = &self.accm {
            f(
                AvpType::Accm,
                &[&[0, 0], &a.send.to_be_bytes(), &a.receive.to_be_bytes()],
            );
        }
        optb(f, AvpType::PrivateGroupId, self.private_group_id);
        opt32(f, AvpType::RxConnectSpeed, self.rx_connect_speed);
        if self.sequencing_required {
            f(AvpType::SequencingRequired, &[]);
        }
    }

    fn random_vector_to_emit<'h>(&'h self, hiding: Option<&Hiding<'h>>) -> Option<&'h [u8]> {
        hiding.map(|h| h.random_vector).or(self.random_vector)
    }

    /// Bytes the AVPs take when emitted with the given hiding (the header
    /// is not included). A value longer than an AVP can carry is cut to
    /// fit, here and in [`emit`](Self::emit) alike.
    pub fn buffer_len(&self, hiding: Option<&Hiding<'_>>) -> usize {
        let mut n = AVP_HEADER_LEN + 2;
        if let Some(rv) = self.random_vector_to_emit(hiding) {
            n += AVP_HEADER_LEN + rv.len().min(AVP_MAX_LEN - AVP_HEADER_LEN);
        }
        self.for_each_avp(&mut |t, parts| {
            let hidden = hiding.is_some() && hidden_when_possible(t);
            n += avp_len(parts, hidden);
        });
        n
    }

    /// Writes the AVPs into `buf`, which must hold [`buffer_len`](Self::buffer_len)
    /// bytes: the Message Type first, then the Random Vector when hiding,
    /// then the other AVPs; with `hiding`, the AVPs of the hide set are
    /// hidden (RFC 2661 §4.3). Returns the number of bytes written.
    pub fn emit(&self, buf: &mut [u8], hiding: Option<&Hiding<'_>>) -> usize {
        emit_header(
            buf,
            true,
            false,
            AVP_HEADER_LEN + 2,
            AvpType::MessageType.into(),
        );
        buf[6..8].copy_from_slice(&u16::from(self.message_type).to_be_bytes());
        let mut pos = AVP_HEADER_LEN + 2;
        if let Some(rv) = self.random_vector_to_emit(hiding) {
            pos += emit_avp(&mut buf[pos..], AvpType::RandomVector, &[rv], None);
        }
        self.for_each_avp(&mut |t, parts| {
            let h = hiding.filter(|_| hidden_when_possible(t));
            pos += emit_avp(&mut buf[pos..], t, parts, h);
        });
        pos
    }
}

/// Wire length of an AVP made of `parts`, cut to the 10-bit Length field.
fn avp_len(parts: &[&[u8]], hidden: bool) -> usize {
    let value: usize = parts.iter().map(|p| p.len()).sum::<usize>() + if hidden { 2 } else { 0 };
    AVP_HEADER_LEN + value.min(AVP_MAX_LEN - AVP_HEADER_LEN)
}

fn emit_avp(buf: &mut [u8], t: AvpType, parts: &[&[u8]], hiding: Option<&Hiding<'_>>) -> usize {
    let len = avp_len(parts, hiding.is_some());
    emit_header(buf, mandatory(t), hiding.is_some(), len, t.into());
    let value = &mut buf[AVP_HEADER_LEN..len];
    let mut at = 0;
    if hiding.is_some() {
        // Original Length: the value bytes that fit after the 2-byte prefix.
        let orig = u16::try_from(value.len() - 2).unwrap_or(u16::MAX);
        value[..2].copy_from_slice(&orig.to_be_bytes());
        at = 2;
    }
    for p in parts {
        let n = p.len().min(value.len() - at);
        value[at..at + n].copy_from_slice(&p[..n]);
        at += n;
    }
    if let Some(h) = hiding {
        hide(t.into(), h, value);
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::unhide_in_place;
    use hex_literal::hex;

    #[test]
    fn sccrq_from_capture_parses() {
        // The AVPs of the SCCRQ of session a, frame 14 (xl2tpd 1.3.18).
        let avps = hex!(
            "80080000000000018008000000020100800a0000000300000003"
            "800a0000000400000000 0008000000060690 800d00000007696e7465726f70"
            "00130000000878656c6572616e63652e636f6d 8008000000090fef 80080000000a0004"
        );
        let m = Message::parse(&avps).unwrap();
        assert_eq!(m.message_type, MessageType::Sccrq);
        assert_eq!(m.protocol_version, Some((1, 0)));
        assert_eq!(m.framing_capabilities, Some(3));
        assert_eq!(m.bearer_capabilities, Some(0));
        assert_eq!(m.firmware_revision, Some(0x0690));
        assert_eq!(m.host_name, Some(&b"interop"[..]));
        assert_eq!(m.vendor_name, Some(&b"xelerance.com"[..]));
        assert_eq!(m.assigned_tunnel_id, Some(0x0fef));
        assert_eq!(m.receive_window_size, Some(4));
        assert_eq!(m.unknown_mandatory, None);
    }

    #[test]
    fn emit_parse_round_trip_hidden() {
        let mut m = Message::new(MessageType::Icrq);
        m.assigned_session_id = Some(0x1234);
        m.call_serial_number = Some(7);
        m.calling_number = Some(b"+1 555 0100");
        m.bearer_type = Some(2);
        let rv = [9u8; 16];
        let h = Hiding {
            secret: b"s3",
            random_vector: &rv,
        };
        let mut buf = [0u8; 256];
        let n = m.buffer_len(Some(&h));
        buf[..12].copy_from_slice(&hex!("c802 0000 0001 0000 0000 0000"));
        let w = m.emit(&mut buf[12..12 + n], Some(&h));
        assert_eq!(w, n);
        let total = 12 + n;
        buf[2..4].copy_from_slice(&u16::try_from(total).unwrap().to_be_bytes());
        // Hidden: the session ID is not readable without the secret.
        let still_hidden = Message::parse(&buf[12..total]).unwrap();
        assert_eq!(still_hidden.assigned_session_id, None);
        assert_eq!(still_hidden.unknown_mandatory, Some((0, 14)));
        let t = unhide_in_place(&mut buf[..total], Some(b"s3")).unwrap();
        let mut back = Message::parse(&buf[12..t]).unwrap();
        assert_eq!(back.random_vector, Some(&rv[..]));
        back.random_vector = None;
        assert_eq!(back, m);
    }

    #[test]
    fn wrong_lengths_and_order() {
        assert_eq!(Message::parse(&[]), Err(WireError::MessageTypeFirst));
        // Message Type not first.
        assert_eq!(
            Message::parse(&hex!("8008000000090001 80080000000000 01")),
            Err(WireError::MessageTypeFirst)
        );
        // Assigned Tunnel ID of 3 bytes.
        assert_eq!(
            Message::parse(&hex!("8008000000000001 8009000000090001ff")),
            Err(WireError::AvpLength)
        );
        // Result Code of 3 bytes.
        assert_eq!(
            Message::parse(&hex!("8008000000000004 800900000001000100")),
            Err(WireError::AvpLength)
        );
    }
}
