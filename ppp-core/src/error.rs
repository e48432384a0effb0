//! Errors of the link's handlers and commands.

use crate::wire::WireError;

/// Why a frame was not accepted, or why a command could not be carried out.
///
/// The first group is the peer's doing: the frame is dropped and counted,
/// and whatever the RFC answers on the wire (Protocol-Reject, Code-Reject)
/// has been queued. The second group is the caller's doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The frame or packet cannot be parsed.
    Malformed(WireError),
    /// A valid packet that the RFC says to discard silently here: a wrong
    /// Identifier, a Configure-Ack that is not our request, a packet of a
    /// protocol that is not running in this phase.
    Unexpected,
    /// An IPv4 datagram before IPCP is Opened (RFC 1661 §3.5: dropped).
    NetworkNotOpen,
    /// A protocol this link does not run; answered with Protocol-Reject
    /// when LCP is Opened (RFC 1661 §5.7).
    UnsupportedProtocol(u16),
    /// A request whose answer does not fit the link's fixed storage (more
    /// than 40 bytes of options to reject in one option, more than 8 options
    /// to echo, credentials longer than the link holds). Dropped; the peer
    /// retransmits.
    TooLarge,
    /// The command is not valid now (for instance `accept` with no
    /// authentication waiting for a decision).
    InvalidState,
    /// The buffer is too small: `needed` bytes were required.
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
    },
    /// A datagram longer than the peer's MRU.
    ExceedsMru {
        /// The peer's MRU.
        mru: u16,
    },
    /// `accept` for MS-CHAP-V2 without the NT hash or the authenticator
    /// response, which the Success packet must carry (RFC 2759 §5).
    MissingAuthenticatorResponse,
}

impl From<WireError> for Error {
    fn from(e: WireError) -> Self {
        Self::Malformed(e)
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Malformed(e) => write!(f, "malformed: {e}"),
            Self::Unexpected => f.write_str("packet not expected now, discarded"),
            Self::NetworkNotOpen => f.write_str("IPv4 before IPCP is Opened"),
            Self::UnsupportedProtocol(p) => write!(f, "protocol 0x{p:04x} not supported"),
            Self::TooLarge => f.write_str("request too large for the link's storage"),
            Self::InvalidState => f.write_str("command not valid in this state"),
            Self::BufferTooSmall { needed } => write!(f, "buffer too small, {needed} bytes needed"),
            Self::ExceedsMru { mru } => write!(f, "datagram longer than the peer's MRU {mru}"),
            Self::MissingAuthenticatorResponse => {
                f.write_str("MS-CHAP-V2 accept needs the NT hash or the authenticator response")
            }
        }
    }
}

impl core::error::Error for Error {}
