//! Wire formats: the ISAKMP header and payloads (RFC 2408 §3), the IPsec DOI
//! (RFC 2407 §4) and the NAT-traversal payloads (RFC 3947 §3, §5.2, with the
//! draft numbers 130/131 of draft-ietf-ipsec-nat-t-ike-02/03).
//!
//! Untrusted bytes enter only through [`Header::new_checked`] and the
//! `parse` functions of the payload representations; after those succeed no
//! accessor panics. Lists on the wire (the payload chain, proposals,
//! transforms, data attributes, SPIs of a Delete) are lazy iterators of
//! `Result<Item, WireError>`: nothing is collected and an inconsistent length
//! ends the iteration with an error, never with a panic.
//!
//! Building goes through [`MessageWriter`], which writes the header and a
//! chain of payloads into a caller buffer, links the Next Payload fields and
//! patches every length. It never panics: a buffer that is too small is
//! [`BufferTooSmall`] with the size the whole message needed.

mod attr;
mod cert;
mod header;
mod ident;
mod nat;
mod notify;
mod payload;
mod sa;
mod vendor;
mod writer;

pub use attr::{
    Attribute, AttributeIter, AttributeValue, AuthMethod, EncapsulationMode, HashAlgorithm,
    IkeAttributeType, IkeEncryptionAlgorithm, IpsecAttributeType, IpsecAuthAlgorithm, LifeType,
};
pub use cert::{CertEncoding, CertRepr};
pub use header::{
    ExchangeType, Flags, HEADER_LEN, Header, HeaderRepr, ISAKMP_MAJOR_VERSION, ISAKMP_MINOR_VERSION,
};
pub use ident::{IdRepr, IdType};
pub use nat::{NAT_KEEPALIVE, NON_ESP_MARKER, NatOaRepr, strip_non_esp_marker};
pub use notify::{DeleteRepr, NotifyRepr, NotifyType, SpiIter};
pub use payload::{GENERIC_HEADER_LEN, Payload, PayloadIter, PayloadType};
pub use sa::{
    DOI_IPSEC, EspTransformId, KEY_IKE, ProposalIter, ProposalRepr, ProtocolId, SIT_IDENTITY_ONLY,
    SaRepr, TransformIter, TransformRepr,
};
pub(crate) use vendor::FRAGMENTATION_VID_HASH;
pub use vendor::{KnownVendor, VendorId};
pub use writer::{MessageWriter, PayloadMark, Writer};

use core::fmt;

/// Bytes that cannot be what they claim to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum WireError {
    /// Shorter than the fixed part of its header.
    Truncated,
    /// A length field is smaller than the fixed part it must cover, or
    /// points past the end of the enclosing buffer (RFC 2408 §5.1,
    /// UNEQUAL-PAYLOAD-LENGTHS / PAYLOAD-MALFORMED).
    BadLength,
    /// The major version is not 1 (RFC 2408 §5.1, INVALID-MAJOR-VERSION).
    InvalidMajorVersion,
    /// The fields of a payload contradict each other (an SPI size that does
    /// not fit, a data attribute running past its transform, a Next Payload
    /// inside an SA that is neither Proposal nor Transform).
    Malformed,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Truncated => "shorter than its fixed header",
            Self::BadLength => "length field inconsistent with the buffer",
            Self::InvalidMajorVersion => "ISAKMP major version is not 1",
            Self::Malformed => "payload fields contradict each other",
        })
    }
}

impl core::error::Error for WireError {}

/// The caller's buffer cannot hold the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BufferTooSmall {
    /// How many bytes the whole message needs.
    pub needed: usize,
}

impl fmt::Display for BufferTooSmall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "buffer too small: {} bytes needed", self.needed)
    }
}

impl core::error::Error for BufferTooSmall {}

/// Reads a big-endian `u16` at `at`; the caller has checked the length.
#[inline]
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Reads a big-endian `u32` at `at`; the caller has checked the length.
#[inline]
pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Declares a `u8`/`u16` code-point enum with an `Unknown(n)` variant: an
/// unknown value is data, not an error.
macro_rules! code_point {
    (
        $(#[$meta:meta])*
        pub enum $name:ident: $repr:ty {
            $( $(#[$vmeta:meta])* $variant:ident = $value:expr, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this crate has no name for.
            Unknown($repr),
        }

        impl From<$repr> for $name {
            fn from(v: $repr) -> Self {
                match v {
                    $( $value => Self::$variant, )*
                    other => Self::Unknown(other),
                }
            }
        }

        impl From<$name> for $repr {
            fn from(v: $name) -> $repr {
                match v {
                    $( $name::$variant => $value, )*
                    $name::Unknown(other) => other,
                }
            }
        }
    };
}
pub(crate) use code_point;
