//! Configuration as plain data: the appliance's `crypto isakmp policy`
//! list, `crypto ipsec transform-set` list, the dynamic map's PFS and
//! lifetimes, the pre-shared keys of the tunnel groups, NAT traversal, and
//! the timers and limits of the endpoint.
//!
//! Nothing here is parsed: a later `sessiondb` crate fills these structs
//! from the configuration text, and the selection functions of
//! [`crate::policy`] read them without side effects.

use crate::crypto::{CipherAlg, DhGroup, HashAlg, Secret};
use crate::event::NatTVariant;
use core::net::IpAddr;
use core::time::Duration;

/// Most `crypto isakmp policy` entries held.
pub const MAX_POLICIES: usize = 16;
/// Most transform sets held.
pub const MAX_TRANSFORM_SETS: usize = 16;
/// Most proposals an initiator offers per phase.
pub const MAX_PROPOSALS: usize = 16;
/// Most per-address pre-shared keys held.
pub const MAX_PEER_KEYS: usize = 8;
/// Longest pre-shared key (the appliance allows 128 characters).
pub const MAX_PSK_LEN: usize = 128;

/// Phase 1 authentication method (`authentication` of an ISAKMP policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub enum Authentication {
    /// `pre-share`: pre-shared keys (RFC 2409 §5.4).
    PreShare,
    /// `rsa-sig`: RSA signatures with X.509 certificates (RFC 2409 §5.1);
    /// chosen when [`crate::cert::Credentials::usable`].
    RsaSig,
}

impl Authentication {
    /// The IKE Authentication Method value (RFC 2409 Appendix A).
    pub const fn ike_value(self) -> u16 {
        match self {
            Self::PreShare => 1,
            Self::RsaSig => 3,
        }
    }
}

/// One phase 1 proposal: encryption, hash, authentication, group and
/// lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct IkeProposal {
    /// `encryption`.
    pub encryption: CipherAlg,
    /// `hash` (also the PRF: HMAC with it).
    pub hash: HashAlg,
    /// `authentication`.
    pub authentication: Authentication,
    /// `group`.
    pub group: DhGroup,
    /// `lifetime` in seconds.
    pub lifetime_seconds: u32,
}

/// One `crypto isakmp policy` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct IsakmpPolicy {
    /// The priority: lower numbers are tried first.
    pub priority: u16,
    /// What the policy accepts.
    pub proposal: IkeProposal,
}

/// ESP encryption of a transform set, with the IANA ESP transform IDs
/// (RFC 2407 §4.4.4, RFC 3602).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub enum EspEncryption {
    /// `esp-3des`: ESP_3DES, transform ID 3.
    TripleDes,
    /// `esp-aes`, `esp-aes-192`, `esp-aes-256`: ESP_AES (AES-CBC),
    /// transform ID 12, with the key length in bits (128, 192 or 256).
    AesCbc {
        /// Key length in bits.
        key_bits: u16,
    },
    /// `esp-null`: ESP_NULL, transform ID 11.
    Null,
}

impl EspEncryption {
    /// The ESP transform ID.
    pub const fn transform_id(self) -> u8 {
        match self {
            Self::TripleDes => 3,
            Self::AesCbc { .. } => 12,
            Self::Null => 11,
        }
    }

    /// The Key Length attribute sent with it (AES only).
    pub const fn key_length_attribute(self) -> Option<u16> {
        match self {
            Self::AesCbc { key_bits } => Some(key_bits),
            _ => None,
        }
    }

    /// Encryption key length in octets (the KEYMAT it takes).
    pub const fn key_len(self) -> usize {
        match self {
            Self::TripleDes => 24,
            Self::AesCbc { key_bits } => key_bits as usize / 8,
            Self::Null => 0,
        }
    }

    /// From an ESP transform ID and an optional Key Length attribute, if
    /// supported. AES without a Key Length is AES-128 (RFC 3602 §5).
    pub const fn from_transform(id: u8, key_len: Option<u16>) -> Option<Self> {
        match (id, key_len) {
            (3, None | Some(192)) => Some(Self::TripleDes),
            (12, None) => Some(Self::AesCbc { key_bits: 128 }),
            (12, Some(k @ (128 | 192 | 256))) => Some(Self::AesCbc { key_bits: k }),
            (11, None) => Some(Self::Null),
            _ => None,
        }
    }
}

/// ESP integrity of a transform set, with the IPsec DOI Authentication
/// Algorithm numbers (RFC 2407 §4.5, RFC 4868 §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub enum EspIntegrity {
    /// `esp-md5-hmac`: HMAC-MD5 (1), HMAC-MD5-96 on the wire.
    HmacMd5,
    /// `esp-sha-hmac`: HMAC-SHA (2), HMAC-SHA1-96 on the wire.
    HmacSha1,
    /// `esp-sha256-hmac`: HMAC-SHA2-256 (5), HMAC-SHA2-256-128 on the wire.
    HmacSha256,
}

impl EspIntegrity {
    /// The Authentication Algorithm attribute value.
    pub const fn auth_algorithm(self) -> u16 {
        match self {
            Self::HmacMd5 => 1,
            Self::HmacSha1 => 2,
            Self::HmacSha256 => 5,
        }
    }

    /// From the Authentication Algorithm attribute value, if supported.
    pub const fn from_auth_algorithm(v: u16) -> Option<Self> {
        match v {
            1 => Some(Self::HmacMd5),
            2 => Some(Self::HmacSha1),
            5 => Some(Self::HmacSha256),
            _ => None,
        }
    }

    /// Key length in octets (the KEYMAT it takes).
    pub const fn key_len(self) -> usize {
        match self {
            Self::HmacMd5 => 16,
            Self::HmacSha1 => 20,
            Self::HmacSha256 => 32,
        }
    }
}

/// Encapsulation of a transform set (`mode transport` / `mode tunnel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Mode {
    /// Transport mode: what L2TP/IPsec uses.
    Transport,
    /// Tunnel mode: accepted in configuration, never chosen for L2TP.
    Tunnel,
}

/// One `crypto ipsec ikev1 transform-set` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct TransformSet {
    /// ESP encryption.
    pub encryption: EspEncryption,
    /// ESP integrity.
    pub integrity: EspIntegrity,
    /// Mode.
    pub mode: Mode,
}

/// ESP proposal an initiator offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct EspProposal {
    /// ESP encryption.
    pub encryption: EspEncryption,
    /// ESP integrity.
    pub integrity: EspIntegrity,
}

/// Lifetime of an IPsec SA (`crypto ipsec security-association lifetime
/// seconds N kilobytes M`); 0 means no limit of that kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct IpsecLifetime {
    /// Seconds.
    pub seconds: u32,
    /// Kilobytes.
    pub kilobytes: u32,
}

/// The shortest lifetime in seconds this crate offers or imposes: Windows
/// does not accept a phase 2 lifetime below 300 s (its own minimum for
/// "Key lifetime (in minutes)" is 5).
pub const MIN_LIFETIME_SECONDS: u32 = 300;

/// How long an IPsec SA pair that a rekey replaced keeps taking inbound
/// packets before it is deleted (the peer switches to the new pair when
/// its Quick Mode completes; packets already in flight arrive on the old).
pub const REKEY_OVERLAP: Duration = Duration::from_secs(30);

impl IpsecLifetime {
    /// The appliance's default: 28800 seconds and 4608000 kilobytes.
    pub const DEFAULT: Self = Self {
        seconds: 28_800,
        kilobytes: 4_608_000,
    };
}

/// A pre-shared key; zeroized on drop, never printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Psk(Secret<MAX_PSK_LEN>);

impl Psk {
    /// A key from its bytes; `None` above [`MAX_PSK_LEN`] or when empty.
    pub fn new(key: &[u8]) -> Option<Self> {
        if key.is_empty() {
            return None;
        }
        Secret::from_slice(key).map(Self)
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_slice()
    }
}

/// The pre-shared keys: per peer address (tunnel groups named by address),
/// and the one of the default remote-access tunnel group used for every
/// peer of the dynamic crypto map, as on the appliance.
#[derive(Debug, Clone)]
pub struct PreSharedKeys {
    /// `tunnel-group DefaultRAGroup ipsec-attributes / ikev1 pre-shared-key`.
    pub default_remote_access: Option<Psk>,
    /// Keys for peers with a known address.
    pub by_address: heapless::Vec<(IpAddr, Psk), MAX_PEER_KEYS>,
}

impl PreSharedKeys {
    /// No keys, usable in `const` contexts.
    pub const DEFAULT: Self = Self {
        default_remote_access: None,
        by_address: heapless::Vec::new(),
    };
}

impl Default for PreSharedKeys {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl PreSharedKeys {
    /// The key for a peer: its own if configured, otherwise the default
    /// remote-access group's. Main Mode must pick the key before the peer's
    /// identity is known (RFC 2409 §5.4), so the address is the only input.
    pub fn lookup(&self, peer: IpAddr) -> Option<&Psk> {
        self.by_address
            .iter()
            .find(|(a, _)| *a == peer)
            .map(|(_, k)| k)
            .or(self.default_remote_access.as_ref())
    }
}

/// Retransmission and expiry timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Timers {
    /// First retransmission interval; doubled after each retransmission.
    pub retransmit_initial: Duration,
    /// Upper bound of the interval.
    pub retransmit_max: Duration,
    /// Retransmissions before the exchange fails.
    pub retransmit_tries: u8,
    /// Lifetime of a half-open phase 1 SA (not established).
    pub half_open_timeout: Duration,
    /// How long a finished exchange keeps its last message to answer a
    /// retransmission of the peer's.
    pub linger: Duration,
    /// How long the fragments of an incomplete message are kept.
    pub fragment_timeout: Duration,
}

impl Timers {
    /// 2 s, doubling to 16 s, 5 retransmissions; 60 s half-open; 30 s
    /// linger; 10 s for fragments.
    pub const DEFAULT: Self = Self {
        retransmit_initial: Duration::from_secs(2),
        retransmit_max: Duration::from_secs(16),
        retransmit_tries: 5,
        half_open_timeout: Duration::from_secs(60),
        linger: Duration::from_secs(30),
        fragment_timeout: Duration::from_secs(10),
    };
}

/// Limits against half-open floods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Limits {
    /// Most half-open phase 1 SAs at once.
    pub max_half_open: usize,
    /// Most half-open phase 1 SAs from one peer address.
    pub max_half_open_per_peer: usize,
}

impl Limits {
    /// 16 in all, 4 per address.
    pub const DEFAULT: Self = Self {
        max_half_open: 16,
        max_half_open_per_peer: 4,
    };
}

/// Dead Peer Detection timers (RFC 3706 §5.5): the appliance's
/// `isakmp keepalive threshold N retry M`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DpdTimers {
    /// `threshold`: how long the peer may be silent (no authenticated IKE
    /// message, no inbound traffic reported with
    /// [`crate::Endpoint::peer_activity`]) before an R-U-THERE is sent.
    pub threshold: Duration,
    /// `retry`: the interval between R-U-THEREs while none is answered.
    pub retry: Duration,
    /// Unanswered R-U-THEREs after which the peer is declared dead (the
    /// appliance's syntax has no knob for it; 5, as Cisco IOS).
    pub max_retries: u8,
}

impl DpdTimers {
    /// The appliance's remote-access default: threshold 300 s, retry 2 s;
    /// 5 unanswered R-U-THEREs.
    pub const DEFAULT: Self = Self {
        threshold: Duration::from_secs(300),
        retry: Duration::from_secs(2),
        max_retries: 5,
    };

    /// The longest a dead peer goes unnoticed: `threshold + retry ×
    /// (max_retries + 1)`.
    pub fn detection_time(&self) -> Duration {
        self.threshold + self.retry * (u32::from(self.max_retries) + 1)
    }
}

/// What this endpoint offers when it initiates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitiatorConfig {
    /// Phase 1 transforms, in order of preference.
    pub ike_proposals: heapless::Vec<IkeProposal, MAX_PROPOSALS>,
    /// ESP transforms, in order of preference.
    pub esp_proposals: heapless::Vec<EspProposal, MAX_PROPOSALS>,
    /// PFS group for Quick Mode.
    pub pfs: Option<DhGroup>,
    /// Lifetime offered for the IPsec SAs.
    pub esp_lifetime: IpsecLifetime,
    /// Send INITIAL-CONTACT in message 5.
    pub initial_contact: bool,
    /// Start a Quick Mode for the L2TP selector as soon as phase 1 is up.
    pub quick_mode_after_phase1: bool,
    /// Rekey before expiry what we initiated: a new Main Mode at 90 % of
    /// the ISAKMP SA's lifetime, a new Quick Mode at 90 % of an IPsec SA
    /// pair's (RFC 2409 §4 leaves the choice to the implementation).
    pub rekey: bool,
    /// The NAT-T vendor IDs sent in message 1 (when NAT-T is on), so that a
    /// client that only speaks a draft can be mirrored.
    pub nat_t_vendor_ids: heapless::Vec<NatTVariant, 4>,
}

impl InitiatorConfig {
    /// What `Default` gives, usable in `const` contexts: no proposals,
    /// a 3600 s / 250 000 KB lifetime, INITIAL-CONTACT, Quick Mode after
    /// phase 1, rekeying, and the NAT-T vendor IDs RFC 3947, draft-02-N
    /// and draft-02.
    pub const DEFAULT: Self = Self {
        ike_proposals: heapless::Vec::new(),
        esp_proposals: heapless::Vec::new(),
        pfs: None,
        esp_lifetime: IpsecLifetime {
            seconds: 3600,
            kilobytes: 250_000,
        },
        initial_contact: true,
        quick_mode_after_phase1: true,
        rekey: true,
        nat_t_vendor_ids: heapless::Vec::from_array([
            NatTVariant::Rfc3947,
            NatTVariant::Draft02N,
            NatTVariant::Draft02,
        ]),
    };
}

impl Default for InitiatorConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The whole configuration of an [`crate::Endpoint`].
#[derive(Debug, Clone)]
pub struct Config {
    /// `crypto isakmp policy` entries (any order; tried by priority).
    pub isakmp_policies: heapless::Vec<IsakmpPolicy, MAX_POLICIES>,
    /// The transform sets of the dynamic map, in the configured order.
    pub transform_sets: heapless::Vec<TransformSet, MAX_TRANSFORM_SETS>,
    /// `crypto dynamic-map ... set pfs`: require PFS with this group.
    pub pfs: Option<DhGroup>,
    /// `crypto ipsec security-association lifetime`.
    pub ipsec_lifetime: IpsecLifetime,
    /// Pre-shared keys.
    pub pre_shared_keys: PreSharedKeys,
    /// `crypto isakmp nat-traversal`: answer the NAT-T vendor IDs.
    pub nat_traversal: bool,
    /// NAT-keepalive interval (`crypto isakmp nat-traversal N`), sent while
    /// a NAT is detected.
    pub nat_keepalive: Option<Duration>,
    /// Announce DPD (RFC 3706) and answer R-U-THERE.
    pub dpd: bool,
    /// Probe peers that announced DPD after they fall silent, and declare
    /// them dead (`isakmp keepalive threshold N retry M`); `None` answers
    /// R-U-THEREs without sending any (`isakmp keepalive disable`).
    pub dpd_keepalive: Option<DpdTimers>,
    /// Announce IKE fragmentation (the Cisco/Microsoft vendor ID), accept
    /// fragments, and fragment our messages longer than `fragment_size`
    /// for a peer that announced it.
    pub fragmentation: bool,
    /// Largest datagram (ISAKMP header included) sent unfragmented to a
    /// peer that supports fragmentation, and the size of each fragment.
    pub fragment_size: usize,
    /// Certificates and trust points for RSA-signature authentication.
    pub credentials: crate::cert::Credentials,
    /// The UDP port for NAT-T (4500).
    pub nat_t_port: u16,
    /// The IKE port (500).
    pub ike_port: u16,
    /// Timers.
    pub timers: Timers,
    /// Limits.
    pub limits: Limits,
    /// Initiator behaviour.
    pub initiator: InitiatorConfig,
}

impl Config {
    /// What `Default` gives, usable in `const` contexts (an endpoint
    /// built in place in a `static`).
    pub const DEFAULT: Self = Self {
        isakmp_policies: heapless::Vec::new(),
        transform_sets: heapless::Vec::new(),
        pfs: None,
        ipsec_lifetime: IpsecLifetime::DEFAULT,
        pre_shared_keys: PreSharedKeys::DEFAULT,
        nat_traversal: true,
        nat_keepalive: Some(Duration::from_secs(20)),
        dpd: true,
        dpd_keepalive: Some(DpdTimers::DEFAULT),
        fragmentation: true,
        fragment_size: 1280,
        credentials: crate::cert::Credentials::DEFAULT,
        nat_t_port: 4500,
        ike_port: 500,
        timers: Timers::DEFAULT,
        limits: Limits::DEFAULT,
        initiator: InitiatorConfig::DEFAULT,
    };
}

impl Config {
    /// All zero bytes: no policies, transform sets, keys or certificates,
    /// NAT-T, DPD and fragmentation off, every port, timer, limit and
    /// lifetime zero. The configuration of [`crate::Endpoint::new_empty`]
    /// (a port's `static` in `.bss`, see the `zero-none` crate); it serves nobody.
    /// Three options whose `None` is not zero bytes hold a zero value
    /// instead, which nothing reads without a policy: the NAT-keepalive and
    /// DPD intervals (`Some` of zero) and the certificate identity (`Some`
    /// of an empty IPv4 identity, with no certificate and no key).
    pub(crate) const EMPTY: Self = Self {
        isakmp_policies: heapless::Vec::new(),
        transform_sets: heapless::Vec::new(),
        pfs: None,
        ipsec_lifetime: IpsecLifetime {
            seconds: 0,
            kilobytes: 0,
        },
        pre_shared_keys: PreSharedKeys::DEFAULT,
        nat_traversal: false,
        nat_keepalive: Some(Duration::ZERO),
        dpd: false,
        dpd_keepalive: Some(DpdTimers {
            threshold: Duration::ZERO,
            retry: Duration::ZERO,
            max_retries: 0,
        }),
        fragmentation: false,
        fragment_size: 0,
        credentials: crate::cert::Credentials {
            chain: heapless::Vec::new(),
            private_key: None,
            trust_anchors: heapless::Vec::new(),
            validity: crate::cert::ValidityCheck::WallClock,
            identity: Some((crate::wire::IdType::Ipv4Addr, heapless::Vec::new())),
        },
        nat_t_port: 0,
        ike_port: 0,
        timers: Timers {
            retransmit_initial: Duration::ZERO,
            retransmit_max: Duration::ZERO,
            retransmit_tries: 0,
            half_open_timeout: Duration::ZERO,
            linger: Duration::ZERO,
            fragment_timeout: Duration::ZERO,
        },
        limits: Limits {
            max_half_open: 0,
            max_half_open_per_peer: 0,
        },
        initiator: InitiatorConfig {
            ike_proposals: heapless::Vec::new(),
            esp_proposals: heapless::Vec::new(),
            pfs: None,
            esp_lifetime: IpsecLifetime {
                seconds: 0,
                kilobytes: 0,
            },
            initial_contact: false,
            quick_mode_after_phase1: false,
            rekey: false,
            nat_t_vendor_ids: heapless::Vec::new(),
        },
    };
}

impl Default for Config {
    /// No policies, no transform sets, no keys; NAT-T on with 20 s
    /// keepalives; DPD answered; ports 500/4500; default timers and limits.
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What a Quick Mode initiator offers (see [`Config::quick_mode_offer`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuickModeOffer {
    /// ESP transforms, in order of preference.
    pub esp_proposals: heapless::Vec<EspProposal, MAX_PROPOSALS>,
    /// PFS group.
    pub pfs: Option<DhGroup>,
    /// Lifetime offered.
    pub esp_lifetime: IpsecLifetime,
}

impl Config {
    /// What we offer when we start a Quick Mode: the initiator settings;
    /// without initiator ESP proposals (a responder renewing a pair it
    /// answered), the transport-mode transform sets, `set pfs` and the
    /// IPsec lifetime the responder side uses.
    pub fn quick_mode_offer(&self) -> QuickModeOffer {
        let ic = &self.initiator;
        if !ic.esp_proposals.is_empty() {
            return QuickModeOffer {
                esp_proposals: ic.esp_proposals.clone(),
                pfs: ic.pfs,
                esp_lifetime: ic.esp_lifetime,
            };
        }
        let mut esp_proposals = heapless::Vec::new();
        for t in self
            .transform_sets
            .iter()
            .filter(|t| t.mode == Mode::Transport)
        {
            let _ = esp_proposals.push(EspProposal {
                encryption: t.encryption,
                integrity: t.integrity,
            });
        }
        QuickModeOffer {
            esp_proposals,
            pfs: self.pfs,
            esp_lifetime: self.ipsec_lifetime,
        }
    }

    /// Whether `group` may be negotiated: groups 2, 5 and 14 always; group 1
    /// only if a policy or the PFS setting names it explicitly.
    pub fn group_allowed(&self, group: DhGroup) -> bool {
        match group {
            DhGroup::Modp768 => {
                self.pfs == Some(DhGroup::Modp768)
                    || self
                        .isakmp_policies
                        .iter()
                        .any(|p| p.proposal.group == DhGroup::Modp768)
                    || self.initiator.pfs == Some(DhGroup::Modp768)
            }
            _ => true,
        }
    }
}
