//! The ESP header (RFC 4303 §2.1, §2.2) and trailer (RFC 4303 §2.4 to §2.6).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |               Security Parameters Index (SPI)                 |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                      Sequence Number                          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          IV, then Payload Data (variable), encrypted          |
//! +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |               |     Padding (0-255 bytes)                     |
//! +-+-+-+-+-+-+-+-+               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                               |  Pad Length   | Next Header   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Integrity Check Value (ICV, variable, not encrypted)  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::WireError;

mod field {
    use core::ops::{Range, RangeFrom};
    pub(super) const SPI: Range<usize> = 0..4;
    pub(super) const SEQUENCE_NUMBER: Range<usize> = 4..8;
    pub(super) const PAYLOAD: RangeFrom<usize> = 8..;
}

/// Length of the ESP header: SPI and Sequence Number.
pub const HEADER_LEN: usize = 8;
/// Length of the fixed part of the trailer: Pad Length and Next Header.
pub const TRAILER_LEN: usize = 2;

fn be32(bytes: &[u8]) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(bytes);
    u32::from_be_bytes(b)
}

/// A read/write view of an ESP packet, starting at the SPI.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking its length; getters may panic until
    /// [`check_len`](Self::check_len) has succeeded.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer, checking that it holds at least the ESP header.
    ///
    /// # Errors
    /// [`WireError::Truncated`] when shorter than [`HEADER_LEN`].
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that no getter will panic.
    ///
    /// # Errors
    /// [`WireError::Truncated`] when shorter than [`HEADER_LEN`].
    pub fn check_len(&self) -> Result<(), WireError> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(WireError::Truncated)
        } else {
            Ok(())
        }
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Security Parameters Index (RFC 4303 §2.1).
    pub fn spi(&self) -> u32 {
        be32(&self.buffer.as_ref()[field::SPI])
    }

    /// Sequence Number (RFC 4303 §2.2).
    pub fn sequence_number(&self) -> u32 {
        be32(&self.buffer.as_ref()[field::SEQUENCE_NUMBER])
    }

    /// Everything after the header: IV, ciphertext and ICV.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the Security Parameters Index.
    pub fn set_spi(&mut self, value: u32) {
        self.buffer.as_mut()[field::SPI].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets the Sequence Number.
    pub fn set_sequence_number(&mut self, value: u32) {
        self.buffer.as_mut()[field::SEQUENCE_NUMBER].copy_from_slice(&value.to_be_bytes());
    }

    /// Everything after the header, mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD]
    }
}

/// The parsed ESP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Repr {
    /// Security Parameters Index.
    pub spi: u32,
    /// Sequence Number.
    pub sequence_number: u32,
}

impl Repr {
    /// Parses the header of a checked packet.
    ///
    /// # Errors
    /// [`WireError::Truncated`], or [`WireError::ReservedSpi`] for an SPI of
    /// 0 to 255 (RFC 4303 §2.1), which no SA can have.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Self, WireError> {
        packet.check_len()?;
        let spi = packet.spi();
        if spi <= 255 {
            return Err(WireError::ReservedSpi);
        }
        Ok(Self {
            spi,
            sequence_number: packet.sequence_number(),
        })
    }

    /// Length of the emitted header.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header into a packet of at least [`buffer_len`](Self::buffer_len) bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_spi(self.spi);
        packet.set_sequence_number(self.sequence_number);
    }
}

/// IP protocol numbers as they appear in the ESP Next Header field
/// (IANA "Assigned Internet Protocol Numbers").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum IpProtocol {
    /// 1
    Icmp,
    /// 4: IPv4 in IPv4, what tunnel mode carries.
    Ipv4,
    /// 6
    Tcp,
    /// 17: what an L2TP-over-IPsec SA carries in transport mode.
    Udp,
    /// 41
    Ipv6,
    /// 59: a dummy packet (RFC 4303 §2.6) that the receiver discards.
    NoNextHeader,
    /// Any other protocol number.
    Unknown(u8),
}

impl From<u8> for IpProtocol {
    fn from(value: u8) -> Self {
        match value {
            1 => Self::Icmp,
            4 => Self::Ipv4,
            6 => Self::Tcp,
            17 => Self::Udp,
            41 => Self::Ipv6,
            59 => Self::NoNextHeader,
            other => Self::Unknown(other),
        }
    }
}

impl From<IpProtocol> for u8 {
    fn from(value: IpProtocol) -> Self {
        match value {
            IpProtocol::Icmp => 1,
            IpProtocol::Ipv4 => 4,
            IpProtocol::Tcp => 6,
            IpProtocol::Udp => 17,
            IpProtocol::Ipv6 => 41,
            IpProtocol::NoNextHeader => 59,
            IpProtocol::Unknown(other) => other,
        }
    }
}

/// The ESP trailer that ends the plaintext: Padding, Pad Length and Next
/// Header (RFC 4303 §2.4 to §2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Trailer {
    /// Number of padding bytes in front of the Pad Length field.
    pub pad_length: u8,
    /// The protocol of the payload.
    pub next_header: IpProtocol,
}

impl Trailer {
    /// Parses the trailer at the end of a decrypted payload and checks that
    /// the padding is the default 1, 2, 3, ... sequence, as RFC 4303 §2.4
    /// tells a receiver to. Returns the trailer and the length of the payload
    /// data in front of the padding.
    ///
    /// # Errors
    /// [`WireError::Truncated`] if `plaintext` is shorter than the trailer,
    /// [`WireError::BadPadding`] if the pad length exceeds the plaintext or a
    /// pad byte is wrong.
    pub fn parse(plaintext: &[u8]) -> Result<(Self, usize), WireError> {
        let Some((rest, &[pad_length, next_header])) = plaintext.split_last_chunk::<2>() else {
            return Err(WireError::Truncated);
        };
        let data_len = rest
            .len()
            .checked_sub(usize::from(pad_length))
            .ok_or(WireError::BadPadding)?;
        let padding = &rest[data_len..];
        if padding
            .iter()
            .zip(1..=255u8)
            .any(|(&byte, want)| byte != want)
        {
            return Err(WireError::BadPadding);
        }
        let trailer = Self {
            pad_length,
            next_header: next_header.into(),
        };
        Ok((trailer, data_len))
    }

    /// Length of padding plus the two trailer bytes.
    pub const fn buffer_len(&self) -> usize {
        self.pad_length as usize + TRAILER_LEN
    }

    /// Writes padding, Pad Length and Next Header into `buf`, which must be
    /// [`buffer_len`](Self::buffer_len) bytes long.
    pub fn emit(&self, buf: &mut [u8]) {
        let Some((padding, fixed)) = buf.split_last_chunk_mut::<2>() else {
            return;
        };
        for (byte, value) in padding.iter_mut().zip(1..=255u8) {
            *byte = value;
        }
        *fixed = [self.pad_length, self.next_header.into()];
    }

    /// The trailer for `data_len` payload bytes such that payload plus
    /// trailer is a multiple of `align` (the cipher block size, at least 4:
    /// RFC 4303 §2.4 wants the ICV 4-byte aligned).
    pub fn aligned(data_len: usize, align: usize, next_header: IpProtocol) -> Self {
        let align = align.max(1);
        let rem = (data_len + TRAILER_LEN) % align;
        let pad = if rem == 0 { 0 } else { align - rem };
        Self {
            // `align` is at most 16, so `pad` fits.
            pad_length: u8::try_from(pad).unwrap_or(u8::MAX),
            next_header,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    // RFC 3602 §4, Case #5: the ESP header of the transport-mode ping.
    const CASE5_HEAD: [u8; 8] = hex!("00004321 00000001");

    #[test]
    fn header_of_rfc3602_case5() {
        let packet = Packet::new_checked(&CASE5_HEAD[..]).unwrap();
        let repr = Repr::parse(&packet).unwrap();
        assert_eq!(
            repr,
            Repr {
                spi: 0x4321,
                sequence_number: 1
            }
        );
        let mut out = [0u8; 8];
        repr.emit(&mut Packet::new_unchecked(&mut out[..]));
        assert_eq!(out, CASE5_HEAD);
    }

    #[test]
    fn short_and_reserved() {
        assert_eq!(
            Packet::new_checked(&CASE5_HEAD[..7]).unwrap_err(),
            WireError::Truncated
        );
        let zero = [0u8, 0, 0, 0xff, 0, 0, 0, 1];
        let p = Packet::new_checked(&zero[..]).unwrap();
        assert_eq!(Repr::parse(&p).unwrap_err(), WireError::ReservedSpi);
    }

    // RFC 3602 §4, Case #5: 64 payload bytes, pad length 14, next header 1.
    #[test]
    fn trailer_of_rfc3602_case5() {
        let trailer = Trailer::aligned(64, 16, IpProtocol::Icmp);
        assert_eq!(trailer.pad_length, 14);
        let mut buf = [0u8; 16];
        trailer.emit(&mut buf);
        assert_eq!(buf, hex!("0102030405060708090a0b0c0d0e 0e 01"));
        let mut plain = [0xaau8; 80];
        plain[64..].copy_from_slice(&buf);
        assert_eq!(Trailer::parse(&plain).unwrap(), (trailer, 64));
    }

    #[test]
    fn bad_padding_is_refused() {
        let mut plain = hex!("aaaa 0102 0304 04 11");
        assert_eq!(Trailer::parse(&plain).unwrap().1, 2);
        plain[4] = 9;
        assert_eq!(Trailer::parse(&plain).unwrap_err(), WireError::BadPadding);
        // Pad length longer than the plaintext.
        assert_eq!(
            Trailer::parse(&hex!("01 05 11")).unwrap_err(),
            WireError::BadPadding
        );
        assert_eq!(
            Trailer::parse(&hex!("11")).unwrap_err(),
            WireError::Truncated
        );
    }

    #[test]
    fn next_header_round_trips() {
        for n in 0..=255u8 {
            assert_eq!(u8::from(IpProtocol::from(n)), n);
        }
    }
}
