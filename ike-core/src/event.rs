//! What the endpoint reports: events, the negotiated IPsec SAs as plain
//! data, facts about ISAKMP SAs for the session view, errors and counters.

use crate::cert::CertError;
use crate::config::{Authentication, EspEncryption, EspIntegrity, IpsecLifetime};
use crate::crypto::{CipherAlg, DhGroup, HashAlg, Secret};
use crate::policy::Rejection;
use crate::wire::{EncapsulationMode, NotifyType, WireError};
use core::fmt;
use core::net::{IpAddr, SocketAddr};
use core::time::Duration;

/// An ISAKMP SA in the endpoint's table: `(index, generation)`. A handle
/// of an SA that is gone is refused with [`Error::InvalidHandle`]; it never
/// reaches another SA that reused the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SaHandle {
    pub(crate) index: u16,
    pub(crate) generation: u16,
}

impl SaHandle {
    /// Slot index in the table (stable for the SA's life).
    pub fn index(self) -> usize {
        usize::from(self.index)
    }
}

/// A pending request for one of our inbound SPIs, answered with
/// [`crate::Endpoint::provide_spi`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SpiRequest {
    pub(crate) exchange: u16,
    pub(crate) generation: u16,
}

/// Which side of an exchange we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Role {
    /// We sent the first message.
    Initiator,
    /// The peer sent the first message.
    Responder,
}

/// The NAT-traversal dialect agreed by vendor IDs (RFC 3947 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NatTVariant {
    /// RFC 3947: NAT-D 20, NAT-OA 21, UDP-Encapsulated-Transport 4.
    Rfc3947,
    /// draft-ietf-ipsec-nat-t-ike-03: NAT-D 130, NAT-OA 131, mode 61444.
    Draft03,
    /// draft-ietf-ipsec-nat-t-ike-02\n (the typo Windows sends).
    Draft02N,
    /// draft-ietf-ipsec-nat-t-ike-02.
    Draft02,
}

impl NatTVariant {
    /// Whether the payload numbers and modes are the RFC's.
    pub fn is_rfc(self) -> bool {
        self == Self::Rfc3947
    }

    /// The Encapsulation Mode for UDP-encapsulated transport.
    pub fn udp_transport_mode(self) -> EncapsulationMode {
        if self.is_rfc() {
            EncapsulationMode::UdpTransport
        } else {
            EncapsulationMode::UdpTransportDraft
        }
    }
}

/// Phase 1 exchange mode (the session view's "Negotiation Mode").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum NegotiationMode {
    /// Main Mode (Identity Protection).
    Main,
}

/// Facts about an ISAKMP SA, for the session view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaInfo {
    /// Our role.
    pub role: Role,
    /// The peer's address and port as last seen (the NAT's, if any).
    pub remote: SocketAddr,
    /// Our address and port.
    pub local: SocketAddr,
    /// Negotiation mode.
    pub mode: NegotiationMode,
    /// Encryption.
    pub cipher: CipherAlg,
    /// Hash.
    pub hash: HashAlg,
    /// Authentication.
    pub authentication: Authentication,
    /// D/H group.
    pub group: DhGroup,
    /// Lifetime in seconds ("Rekey Int (T)").
    pub lifetime_seconds: u32,
    /// When it was established.
    pub established_at: Option<Duration>,
    /// When it expires ("Rekey Left (T)" = this minus now).
    pub expires_at: Option<Duration>,
    /// NAT-T dialect, if agreed.
    pub nat_t: Option<NatTVariant>,
    /// The peer is behind a NAT (its NAT-D did not match).
    pub remote_behind_nat: bool,
    /// We are behind a NAT.
    pub local_behind_nat: bool,
    /// The peer announced DPD (RFC 3706).
    pub peer_dpd: bool,
    /// The peer announced IKE fragmentation.
    pub peer_fragmentation: bool,
    /// The Windows version of an "MS NT5 ISAKMPOAKLEY" vendor ID.
    pub peer_ms_nt5: Option<u32>,
    /// The peer's phase 1 identity (ID type and data), once authenticated.
    pub peer_id: Option<PeerId>,
    /// Number of IPsec SA pairs negotiated on it and not deleted.
    pub child_sas: usize,
    /// The ISAKMP SA of the same peer this one replaces (a phase 1 rekey):
    /// its IPsec SAs now belong to this one, and it is deleted after an
    /// overlap or at its expiry.
    pub replaces: Option<SaHandle>,
}

/// Longest phase 1 identity kept whole: an address, a FQDN, a short
/// distinguished name. Longer ones are kept as a prefix and a hash (below);
/// the identity is compared, never shown.
pub const MAX_PEER_ID_LEN: usize = 64;

/// A phase 1 identity (RFC 2407 §4.6.2): type and data. Data longer than
/// [`MAX_PEER_ID_LEN`] (a long distinguished name) keeps its first 32
/// octets followed by the SHA-256 of the whole, so that two identities
/// still compare equal only if they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerId {
    /// ID type value.
    pub id_type: u8,
    pub(crate) data: heapless::Vec<u8, MAX_PEER_ID_LEN>,
}

impl PeerId {
    /// Identification Data.
    pub fn data(&self) -> &[u8] {
        &self.data
    }
}

/// Keys of one direction of an IPsec SA; zeroized on drop, never printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EspKeys {
    pub(crate) encryption: Secret<32>,
    pub(crate) integrity: Secret<32>,
}

impl EspKeys {
    /// The encryption key (empty for ESP_NULL).
    pub fn encryption_key(&self) -> &[u8] {
        self.encryption.as_slice()
    }

    /// The integrity key.
    pub fn integrity_key(&self) -> &[u8] {
        self.integrity.as_slice()
    }
}

/// How ESP is carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Encapsulation {
    /// Transport mode, IP protocol 50.
    Transport,
    /// UDP-encapsulated transport (RFC 3948) on the given ports.
    UdpTransport {
        /// The negotiated Encapsulation Mode: 4 (RFC 3947) or 61444
        /// (drafts).
        mode: u16,
        /// Our UDP port.
        local_port: u16,
        /// The peer's UDP port (the NAT's).
        remote_port: u16,
    },
}

/// A Quick Mode client identity (RFC 2409 §5.5): address, protocol, port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Selector {
    /// Address (a host).
    pub address: IpAddr,
    /// IP protocol (17 = UDP).
    pub protocol: u8,
    /// Port (1701 for L2TP, 0 = any).
    pub port: u16,
}

/// A negotiated pair of IPsec SAs, ready to be installed (in esp-core).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildSa {
    /// The ISAKMP SA it was negotiated on.
    pub ike_sa: SaHandle,
    /// Our role in the Quick Mode.
    pub role: Role,
    /// The peer's address and port.
    pub remote: SocketAddr,
    /// Our address and port.
    pub local: SocketAddr,
    /// Our inbound SPI (the one we supplied).
    pub spi_in: u32,
    /// Our outbound SPI (the peer's).
    pub spi_out: u32,
    /// Encryption (ESP transform ID 3, 12 or 11).
    pub encryption: EspEncryption,
    /// Integrity (auth algorithm 1, 2 or 5).
    pub integrity: EspIntegrity,
    /// KEYMAT for the inbound SA.
    pub keys_in: EspKeys,
    /// KEYMAT for the outbound SA.
    pub keys_out: EspKeys,
    /// Transport or UDP-encapsulated transport.
    pub encapsulation: Encapsulation,
    /// Lifetime that applies.
    pub lifetime: IpsecLifetime,
    /// IDci, if sent.
    pub initiator_selector: Option<Selector>,
    /// IDcr, if sent.
    pub responder_selector: Option<Selector>,
    /// NAT-OA of the initiator, if sent (its original address).
    pub nat_oa_initiator: Option<IpAddr>,
    /// NAT-OA of the responder, if sent.
    pub nat_oa_responder: Option<IpAddr>,
    /// PFS group, if PFS was used.
    pub pfs: Option<DhGroup>,
    /// Index of the transform set that matched (responder only).
    pub transform_set: Option<usize>,
}

/// Why a phase 1 or Quick Mode negotiation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum FailReason {
    /// No proposal was acceptable.
    NoProposalChosen(Rejection),
    /// HASH_I/HASH_R did not verify, or message 5/6 did not decrypt to a
    /// valid payload chain: most likely a wrong pre-shared key.
    AuthenticationFailed,
    /// The peer's KE payload was unusable.
    InvalidKeyInformation,
    /// The Quick Mode identities were not the L2TP selector.
    InvalidIdInformation,
    /// The peer stopped answering.
    Timeout,
    /// The peer sent this error Notify.
    PeerNotify(NotifyType),
    /// The caller never supplied the SPI in time.
    SpiNotProvided,
    /// A message could not be built (an internal buffer was too small).
    MessageTooLarge,
    /// The ISAKMP SA the Quick Mode ran on went away (deleted or expired).
    IkeSaGone,
    /// The peer's certificate was refused (RFC 4945 §3.3, RFC 5280 §6):
    /// expired, not yet valid, unknown CA, tampered, wrong identity, ...
    Certificate(CertError),
    /// The peer's SIG payload did not verify with its certificate's key
    /// (INVALID-SIGNATURE).
    InvalidSignature,
}

/// Why an SA went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DeleteReason {
    /// The peer sent a Delete.
    PeerDelete,
    /// Its lifetime ran out.
    Expired,
    /// The peer sent INITIAL-CONTACT on a new SA (RFC 2407 §4.6.3.3).
    InitialContact,
    /// The caller deleted it.
    Local,
    /// Dead Peer Detection declared the peer dead (RFC 3706 §5.5).
    PeerDead,
    /// A newer pair replaced it (a rekey) and the overlap is over.
    Rekeyed,
}

/// What happened; drained with [`crate::Endpoint::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// An ISAKMP SA is authenticated and established.
    Phase1Established {
        /// The SA.
        sa: SaHandle,
        /// Its facts.
        info: SaInfo,
    },
    /// A phase 1 negotiation failed; the SA is gone.
    Phase1Failed {
        /// The SA (now invalid).
        sa: SaHandle,
        /// The peer.
        remote: SocketAddr,
        /// Why.
        reason: FailReason,
    },
    /// An established ISAKMP SA is gone.
    Phase1Deleted {
        /// The SA (now invalid).
        sa: SaHandle,
        /// The peer.
        remote: SocketAddr,
        /// Why.
        reason: DeleteReason,
    },
    /// A Quick Mode needs one of our inbound SPIs: answer with
    /// [`crate::Endpoint::provide_spi`].
    SpiNeeded {
        /// The request to answer.
        request: SpiRequest,
        /// The ISAKMP SA.
        sa: SaHandle,
        /// The peer.
        remote: SocketAddr,
    },
    /// A pair of IPsec SAs is negotiated: install both. (Responder: after
    /// message 3, so our outbound SA is used only once the initiator has
    /// proved it has the keys. Initiator: when sending message 3.)
    ChildSaNegotiated(ChildSa),
    /// A Quick Mode failed. `spi_in` is the SPI supplied for it, if any, so
    /// that its reservation can be released.
    ChildSaFailed {
        /// The ISAKMP SA.
        sa: SaHandle,
        /// The SPI we supplied, if we did.
        spi_in: Option<u32>,
        /// Why.
        reason: FailReason,
    },
    /// A pair of IPsec SAs must be removed.
    ChildSaDeleted {
        /// The ISAKMP SA it belonged to.
        sa: SaHandle,
        /// Our inbound SPI.
        spi_in: u32,
        /// Our outbound SPI.
        spi_out: u32,
        /// Why.
        reason: DeleteReason,
    },
    /// The peer answered our R-U-THERE (RFC 3706 §5).
    PeerAlive {
        /// The ISAKMP SA.
        sa: SaHandle,
        /// The sequence number it acknowledged.
        sequence: u32,
    },
    /// The peer did not answer `max_retries` R-U-THEREs after falling
    /// silent (RFC 3706 §5.5): the ISAKMP SA and its IPsec SAs are removed
    /// (`ChildSaDeleted` and `Phase1Deleted` with [`DeleteReason::PeerDead`]
    /// follow).
    PeerDead {
        /// The ISAKMP SA (now invalid).
        sa: SaHandle,
        /// The peer.
        remote: SocketAddr,
    },
    /// The peer sent a Notify that needs no action (debug).
    NotifyReceived {
        /// The ISAKMP SA, if the Notify was protected.
        sa: Option<SaHandle>,
        /// The peer.
        remote: SocketAddr,
        /// Its type.
        notify: NotifyType,
    },
    /// A datagram was dropped (debug); the counters say the same.
    Dropped {
        /// The sender.
        remote: SocketAddr,
        /// Why.
        error: Error,
    },
}

/// Errors of the handlers and commands.
///
/// "The peer sent something bad" (the first group) and "the caller misused
/// the API" ([`Error::InvalidHandle`], [`Error::InvalidState`],
/// [`Error::NotConfigured`]) are separate variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The datagram is not a valid ISAKMP message.
    Wire(WireError),
    /// The cookies name no SA of ours (INVALID-COOKIE).
    UnknownSa,
    /// A valid message that this SA does not expect now.
    UnexpectedMessage,
    /// An exchange type this crate does not implement
    /// (UNSUPPORTED-EXCHANGE-TYPE).
    UnsupportedExchange(u8),
    /// An unknown payload type below 128 (INVALID-PAYLOAD-TYPE).
    InvalidPayloadType(u8),
    /// A payload the message must carry is missing (PAYLOAD-MALFORMED).
    MissingPayload,
    /// The encrypted part is not a whole number of blocks.
    Decryption,
    /// HASH(1)/(2)/(3) or an Informational hash did not verify.
    IntegrityCheckFailed,
    /// HASH_I/HASH_R did not verify (wrong pre-shared key).
    AuthenticationFailed,
    /// No acceptable proposal.
    NoProposalChosen(Rejection),
    /// Unusable KE payload (INVALID-KEY-INFORMATION).
    InvalidKeyInformation,
    /// Quick Mode identities that are not the L2TP selector
    /// (INVALID-ID-INFORMATION).
    InvalidIdInformation,
    /// A phase 2 message with M-ID 0, or a replayed M-ID.
    InvalidMessageId,
    /// Larger than this crate's message buffers.
    MessageTooLarge,
    /// Too many half-open SAs (globally or from this peer).
    HalfOpenLimit,
    /// The SA table is full.
    TableFull,
    /// Every exchange slot is busy.
    ExchangesFull,
    /// The stale or unknown handle of a gone SA or request.
    InvalidHandle,
    /// The command does not fit the current state.
    InvalidState,
    /// Something the command needs is not configured (proposals, a key).
    NotConfigured,
    /// The peer's certificate was refused.
    Certificate(CertError),
    /// The peer's SIG payload did not verify (INVALID-SIGNATURE).
    InvalidSignature,
}

impl From<WireError> for Error {
    fn from(e: WireError) -> Self {
        Self::Wire(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Wire(e) => write!(f, "invalid message: {e}"),
            Self::UnknownSa => f.write_str("no SA with these cookies"),
            Self::UnexpectedMessage => f.write_str("message not expected in this state"),
            Self::UnsupportedExchange(t) => write!(f, "unsupported exchange type {t}"),
            Self::InvalidPayloadType(t) => write!(f, "invalid payload type {t}"),
            Self::MissingPayload => f.write_str("a required payload is missing"),
            Self::Decryption => f.write_str("ciphertext is not a whole number of blocks"),
            Self::IntegrityCheckFailed => f.write_str("hash payload did not verify"),
            Self::AuthenticationFailed => f.write_str("peer authentication failed"),
            Self::NoProposalChosen(r) => write!(f, "no proposal chosen ({r:?})"),
            Self::InvalidKeyInformation => f.write_str("invalid key exchange payload"),
            Self::InvalidIdInformation => f.write_str("invalid identification"),
            Self::InvalidMessageId => f.write_str("invalid or replayed message ID"),
            Self::MessageTooLarge => f.write_str("message larger than the buffers"),
            Self::HalfOpenLimit => f.write_str("too many half-open SAs"),
            Self::TableFull => f.write_str("SA table full"),
            Self::ExchangesFull => f.write_str("no free exchange slot"),
            Self::InvalidHandle => f.write_str("stale or unknown handle"),
            Self::InvalidState => f.write_str("command not valid in this state"),
            Self::NotConfigured => f.write_str("not configured"),
            Self::Certificate(e) => write!(f, "certificate refused ({e:?})"),
            Self::InvalidSignature => f.write_str("signature did not verify"),
        }
    }
}

impl core::error::Error for Error {}

/// Endpoint-wide counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Counters {
    /// Datagrams handled.
    pub rx_datagrams: u64,
    /// Datagrams handed to `poll_transmit`.
    pub tx_datagrams: u64,
    /// Datagrams that were not valid ISAKMP.
    pub malformed: u64,
    /// Messages for unknown cookies.
    pub unknown_sa: u64,
    /// Messages not expected in the state of their SA.
    pub unexpected: u64,
    /// HASH_I/HASH_R failures (wrong keys).
    pub authentication_failures: u64,
    /// Phase 2/Informational hash failures.
    pub integrity_failures: u64,
    /// Negotiations refused for want of a proposal.
    pub no_proposal_chosen: u64,
    /// First messages refused by the half-open limits.
    pub half_open_refused: u64,
    /// First messages refused because the table was full.
    pub table_full: u64,
    /// Half-open responder negotiations dropped to make room for a new
    /// one (their message 2 was never answered).
    pub half_open_evicted: u64,
    /// Retransmissions on timeout.
    pub retransmissions: u64,
    /// Duplicates answered by resending our last message.
    pub duplicates_answered: u64,
    /// ISAKMP SAs established.
    pub phase1_established: u64,
    /// IPsec SA pairs negotiated.
    pub child_sas_negotiated: u64,
    /// Notifies sent.
    pub notifies_sent: u64,
    /// Events dropped because the queue was full (the caller did not
    /// drain it).
    pub events_lost: u64,
    /// Datagrams dropped because the transmit queue was full.
    pub transmits_lost: u64,
    /// R-U-THEREs sent by the DPD timer (RFC 3706).
    pub dpd_probes: u64,
    /// Peers declared dead by DPD.
    pub dpd_dead_peers: u64,
    /// IKE fragments received (payload 132).
    pub fragments_received: u64,
    /// Messages completed from fragments.
    pub messages_reassembled: u64,
    /// Reassemblies dropped incomplete after the fragment timeout.
    pub reassemblies_expired: u64,
    /// IKE fragments sent.
    pub fragments_sent: u64,
    /// ISAKMP SAs that replaced an established one of the same peer.
    pub phase1_rekeys: u64,
}

impl Counters {
    /// All zero (what `Default` gives), usable in `const` contexts.
    pub const ZERO: Self = Self {
        rx_datagrams: 0,
        tx_datagrams: 0,
        malformed: 0,
        unknown_sa: 0,
        unexpected: 0,
        authentication_failures: 0,
        integrity_failures: 0,
        no_proposal_chosen: 0,
        half_open_refused: 0,
        table_full: 0,
        half_open_evicted: 0,
        retransmissions: 0,
        duplicates_answered: 0,
        phase1_established: 0,
        child_sas_negotiated: 0,
        notifies_sent: 0,
        events_lost: 0,
        transmits_lost: 0,
        dpd_probes: 0,
        dpd_dead_peers: 0,
        fragments_received: 0,
        messages_reassembled: 0,
        reassemblies_expired: 0,
        fragments_sent: 0,
        phase1_rekeys: 0,
    };
}
