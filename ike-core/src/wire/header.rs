//! The ISAKMP header (RFC 2408 §3.1).

use super::{PayloadType, WireError, Writer, be32, code_point};

/// Length of the ISAKMP header.
pub const HEADER_LEN: usize = 28;
/// The major version of ISAKMP this crate speaks (RFC 2408 §3.1).
pub const ISAKMP_MAJOR_VERSION: u8 = 1;
/// The minor version of ISAKMP this crate sends (RFC 2408 §3.1).
pub const ISAKMP_MINOR_VERSION: u8 = 0;

code_point! {
    /// Exchange Type (RFC 2408 §3.1, RFC 2409 §9 for Quick Mode and New
    /// Group Mode).
    pub enum ExchangeType: u8 {
        /// NONE.
        None = 0,
        /// Base exchange (RFC 2408 §4.4).
        Base = 1,
        /// Identity Protection, "Main Mode" (RFC 2408 §4.5, RFC 2409 §5).
        IdentityProtection = 2,
        /// Authentication Only (RFC 2408 §4.6).
        AuthenticationOnly = 3,
        /// Aggressive (RFC 2408 §4.7).
        Aggressive = 4,
        /// Informational (RFC 2408 §4.8).
        Informational = 5,
        /// Transaction, "Mode Config" (draft-ietf-ipsec-isakmp-mode-cfg).
        Transaction = 6,
        /// Quick Mode (RFC 2409 §5.5).
        QuickMode = 32,
        /// New Group Mode (RFC 2409 §6.5).
        NewGroupMode = 33,
    }
}

/// The Flags octet of the header (RFC 2408 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Flags(pub u8);

impl Flags {
    /// E: all payloads after the header are encrypted.
    pub const ENCRYPTION: u8 = 0x01;
    /// C: commit (RFC 2408 §3.1).
    pub const COMMIT: u8 = 0x02;
    /// A: authentication only.
    pub const AUTHENTICATION_ONLY: u8 = 0x04;

    /// No flag set.
    pub const fn empty() -> Self {
        Self(0)
    }
    /// Whether E is set.
    pub const fn encryption(self) -> bool {
        self.0 & Self::ENCRYPTION != 0
    }
    /// Whether C is set.
    pub const fn commit(self) -> bool {
        self.0 & Self::COMMIT != 0
    }
    /// Whether A is set.
    pub const fn authentication_only(self) -> bool {
        self.0 & Self::AUTHENTICATION_ONLY != 0
    }
}

/// A view of an ISAKMP message: the header and what follows.
#[derive(Debug, Clone)]
pub struct Header<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Header<T> {
    /// Wraps a buffer without checking it.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer and checks that the header fits and that the Length
    /// field covers the header and no more than the buffer.
    ///
    /// # Errors
    /// [`WireError::Truncated`] below 28 bytes, [`WireError::BadLength`] for
    /// a Length field that is below 28 or past the end of the buffer.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let h = Self::new_unchecked(buffer);
        h.check_len()?;
        Ok(h)
    }

    /// See [`Header::new_checked`].
    ///
    /// # Errors
    /// As [`Header::new_checked`].
    pub fn check_len(&self) -> Result<(), WireError> {
        let b = self.buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        let len = usize::try_from(be32(b, 24)).map_err(|_| WireError::BadLength)?;
        if len < HEADER_LEN || len > b.len() {
            return Err(WireError::BadLength);
        }
        Ok(())
    }

    /// Consumes the view.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Initiator Cookie (CKY-I).
    pub fn initiator_cookie(&self) -> [u8; 8] {
        let mut c = [0; 8];
        c.copy_from_slice(&self.buffer.as_ref()[0..8]);
        c
    }
    /// Responder Cookie (CKY-R).
    pub fn responder_cookie(&self) -> [u8; 8] {
        let mut c = [0; 8];
        c.copy_from_slice(&self.buffer.as_ref()[8..16]);
        c
    }
    /// Next Payload: the type of the first payload.
    pub fn next_payload(&self) -> u8 {
        self.buffer.as_ref()[16]
    }
    /// Major Version (high nibble of the Version octet).
    pub fn major_version(&self) -> u8 {
        self.buffer.as_ref()[17] >> 4
    }
    /// Minor Version (low nibble).
    pub fn minor_version(&self) -> u8 {
        self.buffer.as_ref()[17] & 0x0f
    }
    /// Exchange Type.
    pub fn exchange_type(&self) -> ExchangeType {
        self.buffer.as_ref()[18].into()
    }
    /// Flags.
    pub fn flags(&self) -> Flags {
        Flags(self.buffer.as_ref()[19])
    }
    /// Message ID.
    pub fn message_id(&self) -> u32 {
        be32(self.buffer.as_ref(), 20)
    }
    /// Length of the whole message, header included.
    pub fn length(&self) -> u32 {
        be32(self.buffer.as_ref(), 24)
    }
    /// Everything after the header, up to Length (the payload chain, or the
    /// ciphertext when E is set).
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = usize::try_from(self.length())
            .unwrap_or(b.len())
            .min(b.len());
        b.get(HEADER_LEN..end).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Header<T> {
    /// Sets the Length field.
    pub fn set_length(&mut self, v: u32) {
        self.buffer.as_mut()[24..28].copy_from_slice(&v.to_be_bytes());
    }
    /// Sets the Flags.
    pub fn set_flags(&mut self, v: Flags) {
        self.buffer.as_mut()[19] = v.0;
    }
    /// Everything after the header, up to Length, mutable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let len = usize::try_from(self.length()).unwrap_or(0);
        let b = self.buffer.as_mut();
        let end = len.min(b.len());
        b.get_mut(HEADER_LEN..end).unwrap_or(&mut [])
    }
}

/// The header as plain data (RFC 2408 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HeaderRepr {
    /// CKY-I.
    pub initiator_cookie: [u8; 8],
    /// CKY-R (zero in the first message of Main Mode).
    pub responder_cookie: [u8; 8],
    /// Type of the first payload.
    pub next_payload: PayloadType,
    /// Major version; [`ISAKMP_MAJOR_VERSION`].
    pub major_version: u8,
    /// Minor version.
    pub minor_version: u8,
    /// Exchange type.
    pub exchange_type: ExchangeType,
    /// Flags.
    pub flags: Flags,
    /// Message ID (zero in phase 1).
    pub message_id: u32,
    /// Length of the message.
    pub length: u32,
}

impl HeaderRepr {
    /// Reads the header of a checked message.
    ///
    /// # Errors
    /// [`WireError::InvalidMajorVersion`] if the major version is not 1
    /// (RFC 2408 §5.1 answers with INVALID-MAJOR-VERSION).
    pub fn parse<T: AsRef<[u8]>>(h: &Header<T>) -> Result<Self, WireError> {
        if h.major_version() != ISAKMP_MAJOR_VERSION {
            return Err(WireError::InvalidMajorVersion);
        }
        Ok(Self {
            initiator_cookie: h.initiator_cookie(),
            responder_cookie: h.responder_cookie(),
            next_payload: h.next_payload().into(),
            major_version: h.major_version(),
            minor_version: h.minor_version(),
            exchange_type: h.exchange_type(),
            flags: h.flags(),
            message_id: h.message_id(),
            length: h.length(),
        })
    }

    /// Length of the header on the wire.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header.
    pub fn emit(&self, w: &mut Writer<'_>) {
        w.put(&self.initiator_cookie);
        w.put(&self.responder_cookie);
        w.put_u8(self.next_payload.into());
        w.put_u8((self.major_version << 4) | (self.minor_version & 0x0f));
        w.put_u8(self.exchange_type.into());
        w.put_u8(self.flags.0);
        w.put_u32(self.message_id);
        w.put_u32(self.length);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    // Main Mode message 1 header from the Cisco capture
    // (captures/ikev1/ikev1-mm-qm-psk-aes128-modp1024-cisco.pcap, frame 1):
    // suricata-verify's test asserts the initiator SPI e47a591fd057587f.
    const MM1_HEADER: [u8; 28] =
        hex!("e47a591fd057587f 0000000000000000 01 10 02 00 00000000 000000a8");

    #[test]
    fn parse_capture_header() {
        let mut msg = [0u8; 168];
        msg[..28].copy_from_slice(&MM1_HEADER);
        let h = Header::new_checked(&msg[..]).unwrap();
        let r = HeaderRepr::parse(&h).unwrap();
        assert_eq!(r.initiator_cookie, hex!("e47a591fd057587f"));
        assert_eq!(r.responder_cookie, [0; 8]);
        assert_eq!(r.next_payload, PayloadType::Sa);
        assert_eq!((r.major_version, r.minor_version), (1, 0));
        assert_eq!(r.exchange_type, ExchangeType::IdentityProtection);
        assert_eq!(r.length, 168);
        assert_eq!(h.payload().len(), 140);
        let mut out = [0u8; 28];
        let mut w = Writer::new(&mut out);
        r.emit(&mut w);
        assert_eq!(w.finish(), Ok(28));
        assert_eq!(out, MM1_HEADER);
    }

    #[test]
    fn lengths_are_checked() {
        assert_eq!(
            Header::new_checked(&MM1_HEADER[..27]).err(),
            Some(WireError::Truncated)
        );
        // Length 168 but only 28 bytes present.
        assert_eq!(
            Header::new_checked(&MM1_HEADER[..]).err(),
            Some(WireError::BadLength)
        );
        let mut short = MM1_HEADER;
        short[27] = 27;
        assert_eq!(
            Header::new_checked(&short[..]).err(),
            Some(WireError::BadLength)
        );
        let mut v2 = MM1_HEADER;
        v2[27] = 28;
        v2[17] = 0x20;
        let h = Header::new_checked(&v2[..]).unwrap();
        assert_eq!(HeaderRepr::parse(&h), Err(WireError::InvalidMajorVersion));
    }
}
