//! UDP encapsulation of ESP (RFC 3948 §2): what a datagram on UDP port 4500
//! carries.
//!
//! - a single `0xFF` byte is a NAT-keepalive (§2.3), to be dropped;
//! - four zero bytes (the *non-ESP marker*, §2.2) are followed by an IKE
//!   message;
//! - anything else starts with a non-zero SPI and is ESP (§2.1).
//!
//! ```
//! use esp_core::wire::udp_encap::{classify, Classification};
//!
//! assert_eq!(classify(&[0xff]), Ok(Classification::NatKeepalive));
//! let ike = [0, 0, 0, 0, 0x11, 0x22];
//! assert_eq!(classify(&ike), Ok(Classification::Ike));
//! assert_eq!(&ike[Classification::Ike.payload_offset()..], &[0x11, 0x22]);
//! ```

use super::WireError;
use super::esp::HEADER_LEN;

/// The UDP port of IKE and ESP after NAT traversal has floated (RFC 3947 §4).
pub const NAT_T_PORT: u16 = 4500;

/// The non-ESP marker that precedes IKE messages on port 4500 (RFC 3948 §2.2).
pub const NON_ESP_MARKER: [u8; 4] = [0; 4];

/// The payload of a NAT-keepalive datagram (RFC 3948 §2.3).
pub const NAT_KEEPALIVE: [u8; 1] = [0xff];

/// What a UDP payload on port 4500 is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Classification {
    /// A NAT-keepalive: nothing to process.
    NatKeepalive,
    /// An IKE message behind the non-ESP marker.
    Ike,
    /// An ESP packet, starting at the first byte.
    Esp,
}

impl Classification {
    /// Where the inner message starts in the UDP payload: after the marker
    /// for IKE, at 0 for ESP, at the end for a keepalive.
    pub const fn payload_offset(self) -> usize {
        match self {
            Self::NatKeepalive => NAT_KEEPALIVE.len(),
            Self::Ike => NON_ESP_MARKER.len(),
            Self::Esp => 0,
        }
    }
}

/// Classifies a UDP payload received on port 4500 (RFC 3948 §3.2 and §3.3).
///
/// # Errors
/// [`WireError::NotEncapsulated`] for a payload that is none of the three:
/// empty, a lone byte other than `0xFF`, or too short to hold an ESP header.
pub fn classify(payload: &[u8]) -> Result<Classification, WireError> {
    match payload {
        [0xff] => Ok(Classification::NatKeepalive),
        [0, 0, 0, 0, ..] => Ok(Classification::Ike),
        _ if payload.len() >= HEADER_LEN => Ok(Classification::Esp),
        _ => Err(WireError::NotEncapsulated),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_kinds_and_the_rest() {
        assert_eq!(classify(&NAT_KEEPALIVE), Ok(Classification::NatKeepalive));
        assert_eq!(classify(&[0, 0, 0, 0]), Ok(Classification::Ike));
        assert_eq!(
            classify(&[0xc3, 0xdb, 0x81, 0x39, 0, 0, 0, 1]),
            Ok(Classification::Esp)
        );
        for bad in [
            &[][..],
            &[0x00],
            &[0xfe],
            &[0xff, 0xff],
            &[0, 0, 0],
            &[1, 2, 3, 4, 5, 6, 7],
        ] {
            assert_eq!(classify(bad), Err(WireError::NotEncapsulated), "{bad:?}");
        }
    }
}
