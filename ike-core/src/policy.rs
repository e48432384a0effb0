//! Proposal selection, as pure functions of the configuration and the SA
//! payload the peer sent.
//!
//! * Phase 1 (RFC 2409 §5, RFC 2408 §4.2): the `crypto isakmp policy`
//!   entries are walked in priority order; the first policy that equals an
//!   offered transform in encryption, hash, authentication and group wins.
//!   A lifetime the peer offers at or below the policy's is accepted as
//!   offered; a longer one does not match.
//! * Quick Mode (RFC 2409 §5.5, RFC 2407 §4.5): the transform sets are
//!   walked in their configured order; the first that equals an offered
//!   ESP transform in transport mode (UDP-encapsulated when a NAT was
//!   detected, RFC 3947 §5.1) wins. A lifetime longer than ours is shortened
//!   and the responder says so with RESPONDER-LIFETIME (RFC 2407 §4.6.3.1).

use crate::config::{
    Authentication, EspEncryption, EspIntegrity, IpsecLifetime, IsakmpPolicy, Mode, TransformSet,
};
use crate::crypto::{CipherAlg, DhGroup, HashAlg};
use crate::wire::{
    Attribute, EncapsulationMode, IkeAttributeType, IpsecAttributeType, KEY_IKE, LifeType,
    ProtocolId, SaRepr, TransformRepr, WireError,
};

/// Why no proposal was chosen; each maps to the Notify the RFC answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Rejection {
    /// The SA payload could not be walked (BAD-PROPOSAL-SYNTAX).
    BadSyntax,
    /// Not the IPsec DOI (DOI-NOT-SUPPORTED).
    DoiNotSupported,
    /// Not SIT_IDENTITY_ONLY (SITUATION-NOT-SUPPORTED).
    SituationNotSupported,
    /// Nothing offered matches (NO-PROPOSAL-CHOSEN).
    NoProposalChosen,
}

impl From<WireError> for Rejection {
    fn from(_: WireError) -> Self {
        Self::BadSyntax
    }
}

/// What was negotiated for an ISAKMP SA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Phase1Params {
    /// Encryption.
    pub cipher: CipherAlg,
    /// Hash and PRF.
    pub hash: HashAlg,
    /// Authentication method.
    pub authentication: Authentication,
    /// Diffie-Hellman group.
    pub group: DhGroup,
    /// Lifetime in seconds.
    pub lifetime_seconds: u32,
}

/// A phase 1 transform as offered, decoded from its attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct IkeOffer {
    /// Encryption.
    pub cipher: CipherAlg,
    /// Hash.
    pub hash: HashAlg,
    /// Authentication Method value.
    pub auth_method: u16,
    /// Group.
    pub group: DhGroup,
    /// Life Duration in seconds, if offered.
    pub lifetime_seconds: Option<u32>,
    /// Life Duration in kilobytes, if offered.
    pub lifetime_kilobytes: Option<u32>,
}

/// Decodes an IKE transform (RFC 2409 Appendix A). `None` if it uses
/// anything this crate does not implement (another transform ID, cipher,
/// hash, group, a PRF attribute, a private group, an unknown attribute).
pub fn parse_ike_transform(t: &TransformRepr<'_>) -> Option<IkeOffer> {
    if t.id != KEY_IKE {
        return None;
    }
    let (mut enc, mut key_len, mut hash, mut auth, mut group) = (None, None, None, None, None);
    let mut life = Lifetimes::default();
    for a in t.attributes.clone() {
        let a = a.ok()?;
        match IkeAttributeType::from(a.kind) {
            IkeAttributeType::EncryptionAlgorithm => enc = Some(a.as_u16()?),
            IkeAttributeType::KeyLength => key_len = Some(a.as_u16()?),
            IkeAttributeType::HashAlgorithm => hash = Some(HashAlg::from_ike_value(a.as_u16()?)?),
            IkeAttributeType::AuthenticationMethod => auth = Some(a.as_u16()?),
            IkeAttributeType::GroupDescription => {
                group = Some(DhGroup::from_ike_value(a.as_u16()?)?);
            }
            IkeAttributeType::LifeType => life.set_type(&a)?,
            IkeAttributeType::LifeDuration => life.set_duration(&a)?,
            _ => return None,
        }
    }
    Some(IkeOffer {
        cipher: CipherAlg::from_ike_value(enc?, key_len)?,
        hash: hash?,
        auth_method: auth?,
        group: group?,
        // A Life-Duration of 0 is no limit, not an SA that expires at
        // once: strongSwan's charon offers 0 when rekeying and
        // reauthentication are off (`rekey_time = 0`). Read as not offered,
        // so that the policy's lifetime applies (RFC 2409 Appendix A
        // leaves the value to the peers).
        lifetime_seconds: life.seconds.filter(|&s| s != 0),
        lifetime_kilobytes: life.kilobytes.filter(|&k| k != 0),
    })
}

/// Life Type / Life Duration pairs (RFC 2409 Appendix A, RFC 2407 §4.5):
/// each duration belongs to the life type before it.
#[derive(Default)]
struct Lifetimes {
    current: Option<LifeType>,
    seconds: Option<u32>,
    kilobytes: Option<u32>,
}

impl Lifetimes {
    fn set_type(&mut self, a: &Attribute<'_>) -> Option<()> {
        self.current = match LifeType::from(a.as_u16()?) {
            t @ (LifeType::Seconds | LifeType::Kilobytes) => Some(t),
            LifeType::Unknown(_) => return None,
        };
        Some(())
    }

    fn set_duration(&mut self, a: &Attribute<'_>) -> Option<()> {
        // Durations beyond 32 bits are capped: longer than any lifetime we
        // would accept anyway.
        let v = u32::try_from(a.as_u64().unwrap_or(u64::MAX)).unwrap_or(u32::MAX);
        match self.current.take()? {
            LifeType::Seconds => self.seconds = Some(v),
            LifeType::Kilobytes => self.kilobytes = Some(v),
            LifeType::Unknown(_) => return None,
        }
        Some(())
    }
}

/// The phase 1 choice.
#[derive(Debug, Clone)]
pub struct IkeChoice<'a> {
    /// Proposal # to answer with.
    pub proposal_number: u8,
    /// The chosen transform as received, to be echoed.
    pub transform: TransformRepr<'a>,
    /// Priority of the policy that matched.
    pub policy_priority: u16,
    /// The negotiated parameters.
    pub params: Phase1Params,
}

fn check_sa(sa: &SaRepr<'_>) -> Result<(), Rejection> {
    if sa.doi != crate::wire::DOI_IPSEC {
        return Err(Rejection::DoiNotSupported);
    }
    if sa.situation != crate::wire::SIT_IDENTITY_ONLY {
        return Err(Rejection::SituationNotSupported);
    }
    Ok(())
}

/// Chooses a phase 1 transform as a responder (RFC 2409 §5).
///
/// `psk_available` says whether a pre-shared key exists for this peer;
/// `group_allowed` filters groups (see [`crate::Config::group_allowed`]).
///
/// # Errors
/// A [`Rejection`] naming the Notify to answer with.
pub fn select_isakmp<'a>(
    policies: &[IsakmpPolicy],
    sa: &SaRepr<'a>,
    psk_available: bool,
    group_allowed: impl Fn(DhGroup) -> bool,
) -> Result<IkeChoice<'a>, Rejection> {
    select_isakmp_with(
        policies,
        sa,
        |a| a == Authentication::PreShare && psk_available,
        group_allowed,
    )
}

/// Chooses a phase 1 transform as a responder (RFC 2409 §5), with the
/// authentication methods `available` says this peer can use (a
/// pre-shared key for it; certificates, a key and trust points).
///
/// # Errors
/// A [`Rejection`] naming the Notify to answer with.
pub fn select_isakmp_with<'a>(
    policies: &[IsakmpPolicy],
    sa: &SaRepr<'a>,
    available: impl Fn(Authentication) -> bool,
    group_allowed: impl Fn(DhGroup) -> bool,
) -> Result<IkeChoice<'a>, Rejection> {
    check_sa(sa)?;
    // Validate the whole structure once, so that a malformed tail is
    // BAD-PROPOSAL-SYNTAX even when an early transform would match.
    for p in sa.proposals.clone() {
        for t in p?.transforms {
            for a in t?.attributes {
                a?;
            }
        }
    }
    let mut order: heapless::Vec<usize, { crate::config::MAX_POLICIES }> =
        (0..policies.len().min(crate::config::MAX_POLICIES)).collect();
    order.sort_unstable_by_key(|&i| policies[i].priority);
    for &i in &order {
        let policy = &policies[i];
        let want = &policy.proposal;
        if !available(want.authentication) {
            continue;
        }
        if !group_allowed(want.group) {
            continue;
        }
        for p in sa.proposals.clone().flatten() {
            if p.protocol != ProtocolId::Isakmp {
                continue;
            }
            for t in p.transforms.clone().flatten() {
                let Some(o) = parse_ike_transform(&t) else {
                    continue;
                };
                let lifetime_ok = o
                    .lifetime_seconds
                    .is_none_or(|s| s <= want.lifetime_seconds);
                if o.cipher == want.encryption
                    && o.hash == want.hash
                    && o.auth_method == want.authentication.ike_value()
                    && o.group == want.group
                    && lifetime_ok
                {
                    return Ok(IkeChoice {
                        proposal_number: p.number,
                        transform: t,
                        policy_priority: policy.priority,
                        params: Phase1Params {
                            cipher: o.cipher,
                            hash: o.hash,
                            authentication: want.authentication,
                            group: o.group,
                            lifetime_seconds: o.lifetime_seconds.unwrap_or(want.lifetime_seconds),
                        },
                    });
                }
            }
        }
    }
    Err(Rejection::NoProposalChosen)
}

/// An ESP transform as offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EspOffer {
    /// Encryption.
    pub encryption: EspEncryption,
    /// Integrity.
    pub integrity: EspIntegrity,
    /// Encapsulation Mode as offered (transport when the attribute is
    /// absent, see [`parse_esp_transform`]).
    pub encapsulation: EncapsulationMode,
    /// PFS group, if offered.
    pub group: Option<DhGroup>,
    /// Seconds, if offered.
    pub lifetime_seconds: Option<u32>,
    /// Kilobytes, if offered.
    pub lifetime_kilobytes: Option<u32>,
}

/// Decodes an ESP transform (RFC 2407 §4.4.4, §4.5). `None` for anything
/// unsupported, including an unknown PFS group and a missing
/// Authentication Algorithm (ESP without integrity is not offered to L2TP).
pub fn parse_esp_transform(t: &TransformRepr<'_>) -> Option<EspOffer> {
    let (mut key_len, mut auth, mut mode, mut group) = (None, None, None, None);
    let mut life = Lifetimes::default();
    for a in t.attributes.clone() {
        let a = a.ok()?;
        match IpsecAttributeType::from(a.kind) {
            IpsecAttributeType::SaLifeType => life.set_type(&a)?,
            IpsecAttributeType::SaLifeDuration => life.set_duration(&a)?,
            IpsecAttributeType::GroupDescription => {
                group = Some(DhGroup::from_ike_value(a.as_u16()?)?);
            }
            IpsecAttributeType::EncapsulationMode => {
                mode = Some(EncapsulationMode::from(a.as_u16()?));
            }
            IpsecAttributeType::AuthenticationAlgorithm => {
                auth = Some(EspIntegrity::from_auth_algorithm(a.as_u16()?)?);
            }
            IpsecAttributeType::KeyLength => key_len = Some(a.as_u16()?),
            _ => return None,
        }
    }
    Some(EspOffer {
        encryption: EspEncryption::from_transform(t.id, key_len)?,
        integrity: auth?,
        // RFC 2407 §4.5: "if unspecified, the default value shall be
        // assumed to be unspecified (host-dependent)": we read it as
        // transport, what a host-to-host L2TP SA is.
        encapsulation: mode.unwrap_or(EncapsulationMode::Transport),
        group,
        lifetime_seconds: life.seconds,
        lifetime_kilobytes: life.kilobytes,
    })
}

/// What the responder knows when choosing ESP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EspContext {
    /// A NAT was detected in phase 1: UDP-encapsulated transport is
    /// required (RFC 3947 §5.1), plain transport otherwise.
    pub udp_encapsulation: bool,
    /// `set pfs`: the group PFS must use, if required.
    pub pfs_required: Option<DhGroup>,
    /// Our lifetime.
    pub lifetime: IpsecLifetime,
}

/// The Quick Mode choice.
#[derive(Debug, Clone)]
pub struct EspChoice<'a> {
    /// Proposal # to answer with.
    pub proposal_number: u8,
    /// The peer's SPI (our outbound SPI).
    pub peer_spi: u32,
    /// The chosen transform as received.
    pub transform: TransformRepr<'a>,
    /// Index of the transform set that matched.
    pub transform_set: usize,
    /// The decoded offer.
    pub offer: EspOffer,
    /// The lifetime that applies (the offer, shortened to ours).
    pub lifetime: IpsecLifetime,
    /// Whether we shortened the offer (send RESPONDER-LIFETIME).
    pub responder_lifetime: bool,
}

/// RFC 2407 §4.5: an SA without a lifetime lasts 28800 seconds.
const DEFAULT_IPSEC_SECONDS: u32 = 28_800;

fn shorten(offered: Option<u32>, ours: u32, default: u32) -> (u32, bool) {
    let offered = offered.unwrap_or(default);
    let ours = if default == 0 {
        ours
    } else {
        // Seconds: never impose less than Windows accepts.
        match ours {
            0 => 0,
            m => m.max(crate::config::MIN_LIFETIME_SECONDS),
        }
    };
    match (offered, ours) {
        (o, 0) => (o, false),
        (0, m) => (m, true),
        (o, m) if o > m => (m, true),
        (o, _) => (o, false),
    }
}

/// Chooses an ESP transform as a Quick Mode responder.
///
/// `group_allowed` filters PFS groups.
///
/// # Errors
/// A [`Rejection`] naming the Notify to answer with.
pub fn select_ipsec<'a>(
    sets: &[TransformSet],
    ctx: &EspContext,
    sa: &SaRepr<'a>,
    group_allowed: impl Fn(DhGroup) -> bool,
) -> Result<EspChoice<'a>, Rejection> {
    check_sa(sa)?;
    for p in sa.proposals.clone() {
        for t in p?.transforms {
            for a in t?.attributes {
                a?;
            }
        }
    }
    for (set_index, set) in sets.iter().enumerate() {
        if set.mode != Mode::Transport {
            continue;
        }
        for p in sa.proposals.clone().flatten() {
            if p.protocol != ProtocolId::Esp {
                continue;
            }
            // A proposal number shared with another protocol is an AND
            // bundle (ESP with IPComp or AH): not for L2TP.
            let bundled = sa
                .proposals
                .clone()
                .flatten()
                .any(|q| q.number == p.number && q.protocol != ProtocolId::Esp);
            let Ok(spi) = <[u8; 4]>::try_from(p.spi) else {
                continue;
            };
            if bundled {
                continue;
            }
            for t in p.transforms.clone().flatten() {
                let Some(o) = parse_esp_transform(&t) else {
                    continue;
                };
                let mode_ok = if ctx.udp_encapsulation {
                    matches!(
                        o.encapsulation,
                        EncapsulationMode::UdpTransport | EncapsulationMode::UdpTransportDraft
                    )
                } else {
                    o.encapsulation == EncapsulationMode::Transport
                };
                let pfs_ok = match (ctx.pfs_required, o.group) {
                    (Some(want), Some(g)) => want == g && group_allowed(g),
                    (Some(_), None) => false,
                    (None, Some(g)) => group_allowed(g),
                    (None, None) => true,
                };
                if o.encryption == set.encryption
                    && o.integrity == set.integrity
                    && mode_ok
                    && pfs_ok
                {
                    let (seconds, s_short) = shorten(
                        o.lifetime_seconds,
                        ctx.lifetime.seconds,
                        DEFAULT_IPSEC_SECONDS,
                    );
                    let (kilobytes, k_short) =
                        shorten(o.lifetime_kilobytes, ctx.lifetime.kilobytes, 0);
                    return Ok(EspChoice {
                        proposal_number: p.number,
                        peer_spi: u32::from_be_bytes(spi),
                        transform: t,
                        transform_set: set_index,
                        offer: o,
                        lifetime: IpsecLifetime { seconds, kilobytes },
                        responder_lifetime: s_short || k_short,
                    });
                }
            }
        }
    }
    Err(Rejection::NoProposalChosen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::IkeProposal;
    use hex_literal::hex;

    fn policy(priority: u16, encryption: CipherAlg, group: DhGroup, life: u32) -> IsakmpPolicy {
        IsakmpPolicy {
            priority,
            proposal: IkeProposal {
                encryption,
                hash: HashAlg::Sha1,
                authentication: Authentication::PreShare,
                group,
                lifetime_seconds: life,
            },
        }
    }

    // SA payload of Main Mode message 1 of the Cisco capture
    // (ikev1-mm-qm-psk-aes128-modp1024-cisco.pcap, frame 1): AES-128, SHA,
    // group 2, PSK, 86400 s.
    const MM1_SA: [u8; 56] = hex!(
        "00000001 00000001"
        "00000030 01010001"
        "00000028 01010000"
        "80010007 800e0080 80020002 80040002 80030001 800b0001 000c0004 00015180"
    );

    #[test]
    fn priority_order_and_lifetime_rule() {
        let sa = SaRepr::parse(&MM1_SA).unwrap();
        let all = |_| true;
        // A policy with a shorter lifetime than offered does not match.
        let short = [policy(10, CipherAlg::Aes128, DhGroup::Modp1024, 3600)];
        assert_eq!(
            select_isakmp(&short, &sa, true, all).err(),
            Some(Rejection::NoProposalChosen)
        );
        // Ours at or above the offer: accepted as offered; lowest priority
        // number wins even when listed last.
        let policies = [
            policy(30, CipherAlg::Aes128, DhGroup::Modp1024, 86400),
            policy(20, CipherAlg::Aes256, DhGroup::Modp1024, 86400),
            policy(5, CipherAlg::Aes128, DhGroup::Modp1024, 100_000),
        ];
        let c = select_isakmp(&policies, &sa, true, all).unwrap();
        assert_eq!(c.policy_priority, 5);
        assert_eq!(c.params.lifetime_seconds, 86400);
        assert_eq!(c.params.cipher, CipherAlg::Aes128);
        assert_eq!(c.proposal_number, 1);
        assert_eq!(c.transform.raw, &MM1_SA[16..]);
        // No key for the peer: nothing can be chosen.
        assert!(select_isakmp(&policies, &sa, false, all).is_err());
        // Group filter.
        assert!(select_isakmp(&policies, &sa, true, |g| g != DhGroup::Modp1024).is_err());
    }

    // SA payload of Main Mode message 1 from strongSwan 5.9.8 (charon,
    // IKEv1, `rekey_time = 0`), captured by scripts/interop-strongswan.sh:
    // AES-256/SHA1/group 2, AES-128/SHA1/group 14, 3DES/SHA1/group 2, each
    // with Life-Type seconds and Life-Duration 0.
    const CHARON_MM1_SA: [u8; 120] = hex!(
        "00000001 00000001 00000070 01010003"
        "03000024 01010000 80010007 800e0100 80020002 80040002 80030001 800b0001 800c0000"
        "03000024 02010000 80010007 800e0080 80020002 8004000e 80030001 800b0001 800c0000"
        "00000020 03010000 80010005 80020002 80040002 80030001 800b0001 800c0000"
    );

    /// Found by strongSwan: an offered lifetime of 0 was taken as the SA's
    /// lifetime, so the responder's ISAKMP SA expired (and was deleted)
    /// the moment Main Mode completed, and charon's Quick Mode met
    /// INVALID-SPI. 0 means no limit: the policy's lifetime applies.
    #[test]
    fn zero_lifetime_offer_takes_the_policy_lifetime() {
        let sa = SaRepr::parse(&CHARON_MM1_SA).unwrap();
        let t = sa
            .proposals
            .clone()
            .next()
            .unwrap()
            .unwrap()
            .transforms
            .clone()
            .next();
        let o = parse_ike_transform(&t.unwrap().unwrap()).unwrap();
        assert_eq!(o.lifetime_seconds, None);
        assert_eq!(o.cipher, CipherAlg::Aes256);
        let policies = [
            policy(10, CipherAlg::Aes256, DhGroup::Modp1024, 86400),
            policy(20, CipherAlg::Aes128, DhGroup::Modp2048, 28800),
        ];
        let c = select_isakmp(&policies, &sa, true, |_| true).unwrap();
        assert_eq!(c.policy_priority, 10);
        assert_eq!(c.params.lifetime_seconds, 86400);
        let c = select_isakmp(&policies[1..], &sa, true, |_| true).unwrap();
        assert_eq!(c.params.group, DhGroup::Modp2048);
        assert_eq!(c.params.lifetime_seconds, 28800);
    }

    #[test]
    fn doi_situation_and_syntax() {
        let mut doi = MM1_SA;
        doi[3] = 2;
        let sa = SaRepr::parse(&doi).unwrap();
        assert_eq!(
            select_isakmp(&[], &sa, true, |_| true).err(),
            Some(Rejection::DoiNotSupported)
        );
        let mut sit = MM1_SA;
        sit[7] = 4;
        let sa = SaRepr::parse(&sit).unwrap();
        assert_eq!(
            select_isakmp(&[], &sa, true, |_| true).err(),
            Some(Rejection::SituationNotSupported)
        );
        let mut bad = MM1_SA;
        bad[19] = 0x29; // transform length past the proposal
        let sa = SaRepr::parse(&bad).unwrap();
        assert_eq!(
            select_isakmp(&[], &sa, true, |_| true).err(),
            Some(Rejection::BadSyntax)
        );
    }

    #[test]
    fn shorten_rules() {
        assert_eq!(shorten(Some(3600), 28800, 28800), (3600, false));
        assert_eq!(shorten(Some(86400), 28800, 28800), (28800, true));
        assert_eq!(shorten(None, 3600, 28800), (3600, true));
        assert_eq!(shorten(None, 0, 0), (0, false));
        assert_eq!(shorten(Some(250_000), 4_608_000, 0), (250_000, false));
        assert_eq!(shorten(None, 4_608_000, 0), (4_608_000, true));
        // Never below the 300 s Windows accepts.
        assert_eq!(shorten(Some(3600), 120, 28800), (300, true));
        assert_eq!(shorten(Some(200), 120, 28800), (200, false));
    }
}
