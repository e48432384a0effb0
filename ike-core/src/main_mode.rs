//! Main Mode with pre-shared keys (RFC 2409 §5, §5.4), as responder and as
//! initiator, with NAT-T discovery (RFC 3947 §3).
//!
//! ```text
//! Initiator                          Responder
//! HDR, SA, VID...            -->
//!                            <--     HDR, SA, VID...        (no DH yet)
//! HDR, KE, Ni, NAT-D, NAT-D  -->
//!                            <--     HDR, KE, Nr, NAT-D, NAT-D
//! HDR*, IDii, HASH_I [, N]   -->                            (port 4500 if a NAT)
//!                            <--     HDR*, IDir, HASH_R
//! ```

use crate::auth::MAX_OWN_ID;
use crate::buf::Buf;
use crate::config::Authentication;
use crate::config::IkeProposal;
use crate::crypto::{DhPrivate, MAX_DH_LEN, Phase1Keys, hash_i, hash_r, nat_d, phase1_iv};
use crate::endpoint::Endpoint;
use crate::event::{Error, Event, FailReason, NatTVariant, PeerId, Role, SaHandle};
use crate::message::{Parsed, decrypt, detect_nat};
use crate::policy::{Phase1Params, Rejection, parse_ike_transform, select_isakmp_with};
use crate::state::{
    ExData, ExState, Exchange, IkeSa, MAX_NONCE, MainData, NONCE_LEN, P1State, SaKeys, SaTimer,
};
use crate::wire::{
    Attribute, ExchangeType, HeaderRepr, IdRepr, IkeAttributeType, KEY_IKE, KnownVendor,
    MessageWriter, NotifyRepr, NotifyType, PayloadType, ProposalRepr, ProtocolId, SaRepr,
    TransformRepr, VendorId, WireError, Writer,
};
use core::net::SocketAddr;
use core::time::Duration;
use rand_core::CryptoRng;

/// How a step of an exchange went wrong.
pub(crate) enum StepError {
    /// Drop the message; the negotiation goes on.
    Drop(Error),
    /// The negotiation failed: report, optionally answer with an
    /// unprotected Notify, and remove it.
    Fail(FailReason, Error, Option<NotifyType>),
}

impl From<Error> for StepError {
    fn from(e: Error) -> Self {
        Self::Drop(e)
    }
}

impl From<WireError> for StepError {
    fn from(e: WireError) -> Self {
        Self::Drop(Error::Wire(e))
    }
}

pub(crate) fn rejection_notify(r: Rejection) -> NotifyType {
    match r {
        Rejection::BadSyntax => NotifyType::BadProposalSyntax,
        Rejection::DoiNotSupported => NotifyType::DoiNotSupported,
        Rejection::SituationNotSupported => NotifyType::SituationNotSupported,
        Rejection::NoProposalChosen => NotifyType::NoProposalChosen,
    }
}

fn nat_d_type(v: NatTVariant) -> PayloadType {
    if v.is_rfc() {
        PayloadType::NatD
    } else {
        PayloadType::NatDDraft
    }
}

/// Vendor IDs of a message.
#[derive(Default)]
struct Vendors {
    rfc3947: bool,
    draft03: bool,
    draft02n: bool,
    draft02: bool,
    dpd: bool,
    fragmentation: bool,
    ms_nt5: Option<u32>,
}

impl Vendors {
    fn read(parsed: &Parsed<'_>) -> Self {
        let mut v = Self::default();
        for p in parsed.all(PayloadType::VendorId) {
            let id = VendorId(p.body);
            match id.known() {
                Some(KnownVendor::NatTRfc3947) => v.rfc3947 = true,
                Some(KnownVendor::NatTDraft03) => v.draft03 = true,
                Some(KnownVendor::NatTDraft02N) => v.draft02n = true,
                Some(KnownVendor::NatTDraft02) => v.draft02 = true,
                Some(KnownVendor::Dpd) => v.dpd = true,
                Some(KnownVendor::Fragmentation) => v.fragmentation = true,
                Some(KnownVendor::MsNt5IsakmpOakley) => v.ms_nt5 = id.ms_nt5_version(),
                _ => {}
            }
        }
        v
    }

    /// The NAT-T dialect to use: the RFC when offered, else the newest
    /// draft offered.
    fn nat_t(&self) -> Option<NatTVariant> {
        if self.rfc3947 {
            Some(NatTVariant::Rfc3947)
        } else if self.draft03 {
            Some(NatTVariant::Draft03)
        } else if self.draft02n {
            Some(NatTVariant::Draft02N)
        } else if self.draft02 {
            Some(NatTVariant::Draft02)
        } else {
            None
        }
    }
}

fn nat_t_vid(v: NatTVariant) -> KnownVendor {
    match v {
        NatTVariant::Rfc3947 => KnownVendor::NatTRfc3947,
        NatTVariant::Draft03 => KnownVendor::NatTDraft03,
        NatTVariant::Draft02N => KnownVendor::NatTDraft02N,
        NatTVariant::Draft02 => KnownVendor::NatTDraft02,
    }
}

/// Writes one phase 1 transform (RFC 2409 Appendix A attributes).
pub(crate) fn emit_ike_transform(w: &mut Writer<'_>, last: bool, number: u8, p: &IkeProposal) {
    let at = TransformRepr::begin(w, last, number, KEY_IKE);
    let (enc, key_len) = p.encryption.ike_value();
    Attribute::emit_basic(w, IkeAttributeType::EncryptionAlgorithm.into(), enc);
    if let Some(k) = key_len {
        Attribute::emit_basic(w, IkeAttributeType::KeyLength.into(), k);
    }
    Attribute::emit_basic(
        w,
        IkeAttributeType::HashAlgorithm.into(),
        p.hash.ike_value(),
    );
    Attribute::emit_basic(
        w,
        IkeAttributeType::AuthenticationMethod.into(),
        p.authentication.ike_value(),
    );
    Attribute::emit_basic(
        w,
        IkeAttributeType::GroupDescription.into(),
        p.group.ike_value(),
    );
    Attribute::emit_basic(w, IkeAttributeType::LifeType.into(), 1);
    Attribute::emit_u32(w, IkeAttributeType::LifeDuration.into(), p.lifetime_seconds);
    TransformRepr::end(w, at);
}

/// The fragmentation vendor ID we send: MD5("FRAGMENTATION") and the
/// capability flags 0x80000000 (fragmenting Main Mode), as Windows and
/// racoon send it.
const FRAGMENTATION_VID: [u8; 20] = {
    let mut v = [0u8; 20];
    let h = crate::wire::FRAGMENTATION_VID_HASH;
    let mut i = 0;
    while i < 16 {
        v[i] = h[i];
        i += 1;
    }
    v[16] = 0x80;
    v
};

fn nonce_ok(n: &[u8]) -> bool {
    (8..=MAX_NONCE).contains(&n.len())
}

fn peer_id_of(id: &IdRepr<'_>) -> PeerId {
    let mut data: heapless::Vec<u8, { crate::event::MAX_PEER_ID_LEN }> = heapless::Vec::new();
    if id.data.len() <= data.capacity() {
        let _ = data.extend_from_slice(id.data);
    } else {
        let keep = data.capacity() - 32;
        let _ = data.extend_from_slice(&id.data[..keep]);
        let d = crate::crypto::HashAlg::Sha256.hash(&[id.data]);
        let _ = data.extend_from_slice(d.as_slice());
    }
    PeerId {
        id_type: id.id_type.into(),
        data,
    }
}

impl<const SAS: usize, const EXCHANGES: usize> Endpoint<SAS, EXCHANGES> {
    /// Message 1 of a Main Mode from a new peer (responder).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn main_mode_first(
        &mut self,
        now: Duration,
        remote: SocketAddr,
        local: SocketAddr,
        hdr: &HeaderRepr,
        msg: &mut [u8],
        dig: [u8; 16],
        rng: &mut impl CryptoRng,
    ) -> Result<(), Error> {
        if hdr.flags.encryption() || hdr.message_id != 0 {
            return Err(Error::UnexpectedMessage);
        }
        // A retransmitted message 1: answer with our message 2 again.
        let existing = self.sas.iter().position(|s| {
            s.sa.as_ref().is_some_and(|sa| {
                sa.role == Role::Responder
                    && sa.cky_i == hdr.initiator_cookie
                    && sa.remote == remote
            })
        });
        if let Some(i) = existing {
            return self.answer_duplicate(i, dig);
        }
        let half_open = |sa: &IkeSa| !sa.established();
        let total = self
            .sas
            .iter()
            .filter_map(|s| s.sa.as_ref())
            .filter(|s| half_open(s))
            .count();
        let from_peer = self
            .sas
            .iter()
            .filter_map(|s| s.sa.as_ref())
            .filter(|s| half_open(s) && s.remote.ip() == remote.ip())
            .count();
        if from_peer >= self.config.limits.max_half_open_per_peer {
            return Err(Error::HalfOpenLimit);
        }
        // Anti-clogging (RFC 2408 §2.5.3): when the half-open limit or a
        // table is full, the oldest negotiation that never answered our
        // message 2 (its source has not shown it receives what we send:
        // forged sources never do) makes room for this one. A client whose
        // message 3 comes back within the time the table takes to turn over
        // gets through a flood of forged first messages.
        // A finished exchange kept only to answer a retransmission gives
        // its slot first.
        if self.free_exchange_slot().is_none()
            && let Some(x) = self.oldest_lingering_exchange()
        {
            self.free_exchange(x);
        }
        let full = total >= self.config.limits.max_half_open
            || self.free_sa_slot().is_none()
            || self.free_exchange_slot().is_none();
        if full {
            let Some(victim) = self.oldest_unanswered_responder() else {
                return Err(if total >= self.config.limits.max_half_open {
                    Error::HalfOpenLimit
                } else {
                    Error::TableFull
                });
            };
            self.remove_sa(victim);
            self.counters.half_open_evicted += 1;
        }
        let slot = self.free_sa_slot().ok_or(Error::TableFull)?;
        let x = self.free_exchange_slot().ok_or(Error::ExchangesFull)?;

        let parsed = match Parsed::new(hdr.next_payload, Self::body_of(msg)) {
            Ok(p) => p,
            Err(Error::InvalidPayloadType(t)) => {
                self.send_clear_notify(
                    now,
                    remote,
                    local,
                    hdr.initiator_cookie,
                    [0; 8],
                    NotifyType::InvalidPayloadType,
                );
                return Err(Error::InvalidPayloadType(t));
            }
            Err(e) => return Err(e),
        };
        let sa_payload = parsed.get(PayloadType::Sa).ok_or(Error::MissingPayload)?;
        let sa_repr = SaRepr::parse(sa_payload.body)?;
        let choice = match select_isakmp_with(
            &self.config.isakmp_policies,
            &sa_repr,
            |a| self.method_available(a, remote.ip()),
            |g| self.config.group_allowed(g),
        ) {
            Ok(c) => c,
            Err(r) => {
                self.send_clear_notify(
                    now,
                    remote,
                    local,
                    hdr.initiator_cookie,
                    [0; 8],
                    rejection_notify(r),
                );
                return Err(Error::NoProposalChosen(r));
            }
        };
        let vendors = Vendors::read(&parsed);
        let mut data = MainData::new();
        if !data.sai_b.set(sa_payload.body) {
            return Err(Error::MessageTooLarge);
        }

        let cky_r = Self::new_cookie(rng, slot);
        let mut sa = IkeSa::new(Role::Responder, hdr.initiator_cookie, remote, local);
        sa.cky_r = cky_r;
        sa.params = Some(choice.params);
        sa.nat_t = if self.config.nat_traversal {
            vendors.nat_t()
        } else {
            None
        };
        sa.peer_dpd = vendors.dpd;
        sa.peer_fragmentation = vendors.fragmentation;
        sa.peer_ms_nt5 = vendors.ms_nt5;

        let sa_gen = self.sas[slot].generation;
        let mut ex = Exchange::new(
            u16::try_from(slot).unwrap_or(u16::MAX),
            sa_gen,
            0,
            ExState::MainMode,
            ExData::Main(data),
        );
        // Message 2: the chosen transform echoed, and our vendor IDs.
        let h2 = Self::header(&sa, ExchangeType::IdentityProtection, false, 0);
        let mut m = MessageWriter::new(ex.tx.storage_mut(), &h2);
        let mark = m.begin(PayloadType::Sa);
        {
            let w = m.body();
            SaRepr::emit_ipsec_header(w);
            let at =
                ProposalRepr::begin(w, true, choice.proposal_number, ProtocolId::Isakmp, &[], 1);
            choice.transform.emit(w, true);
            ProposalRepr::end(w, at);
        }
        m.end(mark);
        if let Some(v) = sa.nat_t {
            m.payload(PayloadType::VendorId, nat_t_vid(v).bytes());
        }
        if self.config.dpd {
            m.payload(PayloadType::VendorId, KnownVendor::Dpd.bytes());
        }
        if self.config.fragmentation && vendors.fragmentation {
            m.payload(PayloadType::VendorId, &FRAGMENTATION_VID);
        }
        let len = m.finish().map_err(|_| Error::MessageTooLarge)?;
        ex.tx.set_len(len);
        ex.rx_digest = Some(dig);
        ex.deadline = Some(now + self.config.timers.half_open_timeout);

        let ex_gen = self.exchanges[x].generation;
        sa.phase1_exchange = Some((u16::try_from(x).unwrap_or(u16::MAX), ex_gen));
        debug!(
            "main mode 1 from peer, policy {} chosen",
            choice.policy_priority
        );
        self.sas[slot].sa = Some(sa);
        self.exchanges[x].ex = Some(ex);
        self.queue_exchange(x);
        Ok(())
    }

    /// Frees an exchange slot: a lingering finished exchange if there is
    /// one, else the oldest half-open responder negotiation whose message
    /// 2 went unanswered. Returns whether a slot was freed.
    pub(crate) fn make_exchange_room(&mut self) -> bool {
        if let Some(x) = self.oldest_lingering_exchange() {
            self.free_exchange(x);
            return true;
        }
        if let Some(victim) = self.oldest_unanswered_responder() {
            self.remove_sa(victim);
            self.counters.half_open_evicted += 1;
            return true;
        }
        false
    }

    /// The finished exchange (kept only to answer a retransmission of the
    /// peer's last message) that would be forgotten first.
    fn oldest_lingering_exchange(&self) -> Option<usize> {
        self.exchanges
            .iter()
            .enumerate()
            .filter_map(|(x, s)| {
                let ex = s.ex.as_ref()?;
                matches!(ex.state, ExState::MainModeDone | ExState::QmIDone)
                    .then_some((ex.deadline?, x))
            })
            .min()
            .map(|(_, x)| x)
    }

    /// The responder SA whose message 2 has gone unanswered longest
    /// (state R1: we sent message 2, message 3 never came).
    fn oldest_unanswered_responder(&self) -> Option<usize> {
        self.sas
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let sa = s.sa.as_ref()?;
                if sa.role != Role::Responder || sa.state != P1State::R1 {
                    return None;
                }
                let (x, _) = sa.phase1_exchange?;
                let deadline = self.exchanges.get(usize::from(x))?.ex.as_ref()?.deadline?;
                Some((deadline, i))
            })
            .min()
            .map(|(_, i)| i)
    }

    /// Resends our last message of SA `i`'s phase 1 exchange if `dig` is
    /// the peer's last message again.
    fn answer_duplicate(&mut self, i: usize, dig: [u8; 16]) -> Result<(), Error> {
        let Some((x, g)) = self.sas[i].sa.as_ref().and_then(|s| s.phase1_exchange) else {
            return Err(Error::UnexpectedMessage);
        };
        let x = usize::from(x);
        let limit = self.config.timers.retransmit_tries.saturating_mul(2);
        match self.exchanges[x].ex.as_mut() {
            Some(ex) if self.exchanges[x].generation == g && ex.rx_digest == Some(dig) => {
                if ex.resends >= limit {
                    return Err(Error::UnexpectedMessage);
                }
                ex.resends += 1;
                self.counters.duplicates_answered += 1;
                self.queue_exchange(x);
                Ok(())
            }
            _ => Err(Error::UnexpectedMessage),
        }
    }

    /// A Main Mode message for a known SA.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn main_mode(
        &mut self,
        i: usize,
        now: Duration,
        remote: SocketAddr,
        local: SocketAddr,
        hdr: &HeaderRepr,
        msg: &mut [u8],
        dig: [u8; 16],
        rng: &mut impl CryptoRng,
    ) -> Result<(), Error> {
        if hdr.message_id != 0 {
            return Err(Error::InvalidMessageId);
        }
        if self.answer_duplicate(i, dig).is_ok() {
            return Ok(());
        }
        let Some(sa_ref) = self.sas[i].sa.as_ref() else {
            return Err(Error::UnknownSa);
        };
        let (role, state) = (sa_ref.role, sa_ref.state);
        let Some((x, g)) = sa_ref.phase1_exchange else {
            return Err(Error::UnexpectedMessage);
        };
        let x = usize::from(x);
        if self.exchanges[x].generation != g || self.exchanges[x].ex.is_none() {
            return Err(Error::UnexpectedMessage);
        }
        // Take both out of their slots so the steps can use the rest of
        // the endpoint; they are put back before anything else happens.
        let (Some(mut sa), Some(mut ex)) = (self.sas[i].sa.take(), self.take_exchange(x)) else {
            return Err(Error::UnexpectedMessage);
        };
        let r = match (role, state) {
            (Role::Responder, P1State::R1) => self.mm_r3(&mut sa, &mut ex, hdr, msg, rng),
            (Role::Responder, P1State::R2) => {
                self.mm_r5(&mut sa, &mut ex, now, remote, local, hdr, msg)
            }
            (Role::Initiator, P1State::I1) => self.mm_i2(&mut sa, &mut ex, hdr, msg, rng),
            (Role::Initiator, P1State::I2) => self.mm_i4(&mut sa, &mut ex, hdr, msg),
            (Role::Initiator, P1State::I3) => self.mm_i6(&mut sa, &mut ex, now, hdr, msg),
            _ => Err(StepError::Drop(Error::UnexpectedMessage)),
        };
        let established = sa.established();
        let initial_contact = matches!(r, Ok(true));
        let (cky_i, cky_r, sa_remote, sa_local) = (sa.cky_i, sa.cky_r, sa.remote, sa.local);
        self.sas[i].sa = Some(sa);
        self.put_exchange(x, ex);
        match r {
            Ok(_) => {
                if established && role == Role::Initiator {
                    self.free_exchange(x);
                } else {
                    self.queue_exchange(x);
                    if let Some(ex) = self.exchanges[x].ex.as_mut() {
                        if role == Role::Initiator {
                            ex.resends = 0;
                            ex.interval = self.config.timers.retransmit_initial;
                            ex.retransmit_at = Some(now + ex.interval);
                        } else {
                            ex.rx_digest = Some(dig);
                        }
                    }
                }
                if established {
                    self.phase1_established(i, now, initial_contact, rng);
                }
                Ok(())
            }
            Err(StepError::Drop(e)) => Err(e),
            Err(StepError::Fail(reason, e, notify)) => {
                if let Some(n) = notify {
                    self.send_clear_notify(now, sa_remote, sa_local, cky_i, cky_r, n);
                }
                self.fail_phase1(i, reason);
                Err(e)
            }
        }
    }

    fn phase1_established(
        &mut self,
        i: usize,
        now: Duration,
        initial_contact: bool,
        rng: &mut impl CryptoRng,
    ) {
        let keepalive = self.config.nat_keepalive;
        let dpd = self.config.dpd_keepalive;
        let rekey = self.config.initiator.rekey;
        if !initial_contact {
            self.adopt_replaced(i, now);
        }
        let Some(sa) = self.sas[i].sa.as_mut() else {
            return;
        };
        sa.established_at = Some(now);
        let life = sa.params.map_or(0, |p| p.lifetime_seconds);
        // A lifetime of 0 is no limit (see `policy::parse_ike_transform`),
        // not an SA that expires as it is made.
        sa.set_timer(
            SaTimer::Expire,
            (life > 0).then(|| now + Duration::from_secs(u64::from(life))),
        );
        if sa.role == Role::Initiator && rekey && life > 0 {
            sa.set_timer(
                SaTimer::Rekey,
                Some(now + Duration::from_secs(u64::from(life)).mul_f32(0.9)),
            );
        }
        if sa.nat_detected() {
            sa.set_timer(SaTimer::Keepalive, keepalive.map(|k| now + k));
        }
        sa.last_heard = now;
        // RFC 3706 §5.5: probe only a peer that announced DPD.
        if self.config.dpd && sa.peer_dpd {
            sa.set_timer(SaTimer::Dpd, dpd.map(|t| now + t.threshold));
        }
        let role = sa.role;
        self.counters.phase1_established += 1;
        let handle = self.handle_of(i);
        if let Some(info) = self.info(i) {
            self.emit(Event::Phase1Established { sa: handle, info });
        }
        if initial_contact {
            self.initial_contact(i);
        }
        let rekeyed = self.sas[i]
            .sa
            .as_ref()
            .is_some_and(|s| s.rekey_of.is_some());
        if role == Role::Initiator && self.config.initiator.quick_mode_after_phase1 && !rekeyed {
            let _ = self.request_child_sa(now, handle, rng);
        }
    }

    /// A new ISAKMP SA `i` of a peer that has an established one: ours
    /// (a rekey we started) or the peer's (a new Main Mode from the same
    /// address and identity, without INITIAL-CONTACT). The IPsec SAs move
    /// to the new SA; the old one is deleted after the overlap (ours) or
    /// when the peer deletes it or it expires.
    fn adopt_replaced(&mut self, i: usize, now: Duration) {
        let Some(new) = self.sas[i].sa.as_ref() else {
            return;
        };
        let old = match new.rekey_of {
            Some((j, g)) => Some(usize::from(j)).filter(|&j| {
                self.sas
                    .get(j)
                    .is_some_and(|s| s.generation == g && s.sa.is_some())
            }),
            None => (0..SAS).find(|&j| {
                j != i
                    && self.sas[j].sa.as_ref().is_some_and(|o| {
                        o.established() && o.remote == new.remote && o.peer_id == new.peer_id
                    })
            }),
        };
        let Some(j) = old else {
            if let Some(s) = self.sas[i].sa.as_mut() {
                s.rekey_of = None;
            }
            return;
        };
        let ours = new.rekey_of.is_some();
        let generation = self.sas[j].generation;
        let Some(o) = self.sas[j].sa.as_mut() else {
            return;
        };
        let children = core::mem::take(&mut o.children);
        o.set_timer(SaTimer::Rekey, None);
        if ours {
            let end = now + crate::config::REKEY_OVERLAP;
            let expire = o.timers[SaTimer::Expire as usize].map_or(end, |e| e.min(end));
            o.set_timer(SaTimer::Expire, Some(expire));
        }
        if let Some(s) = self.sas[i].sa.as_mut() {
            s.rekey_of = Some((u16::try_from(j).unwrap_or(u16::MAX), generation));
            for c in children {
                let _ = s.children.push(c);
            }
        }
        self.counters.phase1_rekeys += 1;
    }

    /// Responder: message 3 (KE, Ni, NAT-D) -> message 4.
    fn mm_r3(
        &mut self,
        sa: &mut IkeSa,
        ex: &mut Exchange,
        hdr: &HeaderRepr,
        msg: &mut [u8],
        rng: &mut impl CryptoRng,
    ) -> Result<bool, StepError> {
        if hdr.flags.encryption() {
            return Err(Error::UnexpectedMessage.into());
        }
        let parsed = Parsed::new(hdr.next_payload, Self::body_of(msg))?;
        let ke = parsed
            .get(PayloadType::KeyExchange)
            .ok_or(Error::MissingPayload)?;
        let ni = parsed
            .get(PayloadType::Nonce)
            .ok_or(Error::MissingPayload)?;
        if !nonce_ok(ni.body) {
            return Err(Error::Wire(WireError::Malformed).into());
        }
        let p = sa.params.ok_or(Error::UnexpectedMessage)?;
        let bad_ke = || {
            StepError::Fail(
                FailReason::InvalidKeyInformation,
                Error::InvalidKeyInformation,
                Some(NotifyType::InvalidKeyInformation),
            )
        };
        if ke.body.len() != p.group.public_len() {
            return Err(bad_ke());
        }
        if !self.method_available(p.authentication, sa.remote.ip()) {
            return Err(StepError::Fail(
                FailReason::AuthenticationFailed,
                Error::NotConfigured,
                None,
            ));
        }
        // The responder's first Diffie-Hellman work, only now.
        let dh = DhPrivate::generate(p.group, rng);
        let n = p.group.public_len();
        let mut gxr = [0u8; MAX_DH_LEN];
        if !dh.public_value(&mut gxr[..n]) {
            return Err(bad_ke());
        }
        let gxy = dh.shared_secret(ke.body).map_err(|_| bad_ke())?;
        drop(dh);
        let mut nr = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nr);
        let skeyid = self.skeyid(&p, sa.remote.ip(), ni.body, &nr, gxy.as_slice())?;
        let keys = Phase1Keys::derive(
            p.hash,
            skeyid.as_slice(),
            gxy.as_slice(),
            &sa.cky_i,
            &sa.cky_r,
            p.cipher,
        );
        drop(gxy);
        if sa.nat_t.is_some() && parsed.nat_d().count() >= 2 {
            let (rb, lb) = detect_nat(
                p.hash,
                &sa.cky_i,
                &sa.cky_r,
                sa.remote,
                sa.local,
                parsed.nat_d().map(|d| d.body),
            );
            sa.remote_behind_nat = rb;
            sa.local_behind_nat = lb;
        }
        ex.iv = phase1_iv(p.hash, ke.body, &gxr[..n], p.cipher.block_len());
        let ExData::Main(md) = &mut ex.data else {
            return Err(Error::UnexpectedMessage.into());
        };
        md.gxi.set(ke.body);
        md.gxr.set(&gxr[..n]);
        md.ni.set(ni.body);
        md.nr.set(&nr);
        md.skeyid = skeyid;
        sa.keys = Some(SaKeys {
            skeyid_d: keys.skeyid_d.clone(),
            skeyid_a: keys.skeyid_a.clone(),
            ka: keys.ka.clone(),
            last_block: crate::crypto::Secret::empty(),
        });
        let h4 = Self::header(sa, ExchangeType::IdentityProtection, false, 0);
        let mut m = MessageWriter::new(ex.tx.storage_mut(), &h4);
        m.payload(PayloadType::KeyExchange, &gxr[..n]);
        m.payload(PayloadType::Nonce, &nr);
        if p.authentication == Authentication::RsaSig {
            self.write_cert_requests(&mut m);
        }
        if let Some(v) = sa.nat_t {
            let t = nat_d_type(v);
            m.payload(t, nat_d(p.hash, &sa.cky_i, &sa.cky_r, sa.remote).as_slice());
            m.payload(t, nat_d(p.hash, &sa.cky_i, &sa.cky_r, sa.local).as_slice());
        }
        let len = m.finish().map_err(|_| Error::MessageTooLarge)?;
        ex.tx.set_len(len);
        sa.state = P1State::R2;
        Ok(false)
    }

    /// Responder: message 5 (IDii, HASH_I) -> message 6. Returns whether
    /// INITIAL-CONTACT was received.
    #[allow(clippy::too_many_arguments)]
    fn mm_r5(
        &mut self,
        sa: &mut IkeSa,
        ex: &mut Exchange,
        now: Duration,
        remote: SocketAddr,
        local: SocketAddr,
        hdr: &HeaderRepr,
        msg: &mut [u8],
    ) -> Result<bool, StepError> {
        if !hdr.flags.encryption() {
            return Err(Error::UnexpectedMessage.into());
        }
        let p = sa.params.ok_or(Error::UnexpectedMessage)?;
        let h6 = Self::header(sa, ExchangeType::IdentityProtection, true, 0);
        let keys = sa.keys.as_mut().ok_or(Error::UnexpectedMessage)?;
        let next_iv = decrypt(p.cipher, keys.ka.as_slice(), &ex.iv, msg)?;
        let auth_failed = |n| {
            StepError::Fail(
                FailReason::AuthenticationFailed,
                Error::AuthenticationFailed,
                Some(n),
            )
        };
        let Ok(parsed) = Parsed::new(hdr.next_payload, Self::body_of(msg)) else {
            return Err(auth_failed(NotifyType::PayloadMalformed));
        };
        let Some(id) = parsed.get(PayloadType::Identification) else {
            return Err(auth_failed(NotifyType::PayloadMalformed));
        };
        let ExData::Main(md) = &mut ex.data else {
            return Err(Error::UnexpectedMessage.into());
        };
        let expected = hash_i(
            p.hash,
            md.skeyid.as_slice(),
            md.gxi.as_slice(),
            md.gxr.as_slice(),
            &sa.cky_i,
            &sa.cky_r,
            md.sai_b.as_slice(),
            id.body,
        );
        let Ok(idr) = IdRepr::parse(id.body) else {
            return Err(auth_failed(NotifyType::InvalidIdInformation));
        };
        self.verify_peer_auth(
            &p,
            &parsed,
            &idr,
            &expected,
            now,
            auth_failed(NotifyType::PayloadMalformed),
        )?;
        let initial_contact = parsed.all(PayloadType::Notification).any(|n| {
            NotifyRepr::parse(n.body).is_ok_and(|r| r.notify_type == NotifyType::InitialContact)
        });
        // Authenticated: the addresses this message came from and to are
        // now the SA's (the float to port 4500, RFC 3947 §4).
        sa.peer_id = Some(peer_id_of(&idr));
        sa.remote = remote;
        sa.local = local;

        let mut idb: Buf<MAX_OWN_ID> = Buf::new();
        self.own_id(&p, sa.local.ip(), idr.protocol, idr.port, &mut idb)?;
        let hr = hash_r(
            p.hash,
            md.skeyid.as_slice(),
            md.gxi.as_slice(),
            md.gxr.as_slice(),
            &sa.cky_i,
            &sa.cky_r,
            md.sai_b.as_slice(),
            idb.as_slice(),
        );
        let ka = keys.ka.clone();
        let mut iv = next_iv;
        self.write_auth_message(
            ex,
            &h6,
            &p,
            ka.as_slice(),
            &mut iv,
            idb.as_slice(),
            &hr,
            None,
        )?;
        ex.iv = iv;
        if let Some(keys) = sa.keys.as_mut() {
            keys.last_block = ex.iv.clone();
        }
        sa.state = P1State::Established;
        ex.state = ExState::MainModeDone;
        ex.data = ExData::Done;
        ex.deadline = Some(now + self.config.timers.linger);
        Ok(initial_contact)
    }

    // ---------------------------------------------------------------
    // Initiator
    // ---------------------------------------------------------------

    /// Starts a Main Mode towards `remote` from `local` (normally port 500)
    /// with the configured initiator proposals; a Quick Mode for the L2TP
    /// selector follows if configured.
    ///
    /// # Errors
    /// [`Error::NotConfigured`] without proposals or a pre-shared key for
    /// the peer; [`Error::TableFull`] / [`Error::ExchangesFull`] without a
    /// free slot.
    pub fn connect(
        &mut self,
        now: Duration,
        remote: SocketAddr,
        local: SocketAddr,
        rng: &mut impl CryptoRng,
    ) -> Result<SaHandle, Error> {
        self.connect_inner(now, remote, local, None, rng)
    }

    /// The phase 1 rekey timer of SA `i` fired: a new Main Mode to the same
    /// peer, from the same addresses, while the old SA lives on (RFC 2409
    /// §4: a new ISAKMP SA replaces an expiring one). Its IPsec SAs move to
    /// the new SA when it is established; the old one is deleted after the
    /// overlap.
    pub(crate) fn rekey_phase1(&mut self, i: usize, now: Duration, rng: &mut impl CryptoRng) {
        let Some(sa) = self.sas[i].sa.as_ref().filter(|s| s.established()) else {
            return;
        };
        let (remote, local) = (sa.remote, sa.local);
        let old = (u16::try_from(i).unwrap_or(u16::MAX), self.sas[i].generation);
        if let Err(e) = self.connect_inner(now, remote, local, Some(old), rng) {
            debug!("phase 1 rekey not started: {:?}", e);
            // Try again in a minute while the old SA lives.
            if let Some(sa) = self.sas[i].sa.as_mut() {
                sa.set_timer(SaTimer::Rekey, Some(now + Duration::from_secs(60)));
            }
        }
    }

    fn connect_inner(
        &mut self,
        now: Duration,
        remote: SocketAddr,
        local: SocketAddr,
        rekey_of: Option<(u16, u16)>,
        rng: &mut impl CryptoRng,
    ) -> Result<SaHandle, Error> {
        let proposals = &self.config.initiator.ike_proposals;
        if !proposals
            .iter()
            .any(|p| self.method_available(p.authentication, remote.ip()))
        {
            return Err(Error::NotConfigured);
        }
        let slot = self.free_sa_slot().ok_or(Error::TableFull)?;
        let x = self.free_exchange_slot().ok_or(Error::ExchangesFull)?;
        let cky_i = Self::new_cookie(rng, slot);
        let mut sa = IkeSa::new(Role::Initiator, cky_i, remote, local);
        sa.rekey_of = rekey_of;
        let sa_gen = self.sas[slot].generation;
        let mut ex = Exchange::new(
            u16::try_from(slot).unwrap_or(u16::MAX),
            sa_gen,
            0,
            ExState::MainMode,
            ExData::Main(MainData::new()),
        );
        let h1 = Self::header(&sa, ExchangeType::IdentityProtection, false, 0);
        let mut m = MessageWriter::new(ex.tx.storage_mut(), &h1);
        let mark = m.begin(PayloadType::Sa);
        {
            let w = m.body();
            SaRepr::emit_ipsec_header(w);
            let count = u8::try_from(proposals.len()).unwrap_or(u8::MAX);
            let at = ProposalRepr::begin(w, true, 1, ProtocolId::Isakmp, &[], count);
            for (k, p) in proposals.iter().enumerate() {
                let number = u8::try_from(k + 1).unwrap_or(u8::MAX);
                emit_ike_transform(w, k + 1 == proposals.len(), number, p);
            }
            ProposalRepr::end(w, at);
        }
        m.end(mark);
        let sa_end = m.position();
        if self.config.nat_traversal {
            for v in &self.config.initiator.nat_t_vendor_ids {
                m.payload(PayloadType::VendorId, nat_t_vid(*v).bytes());
            }
        }
        if self.config.dpd {
            m.payload(PayloadType::VendorId, KnownVendor::Dpd.bytes());
        }
        if self.config.fragmentation {
            m.payload(PayloadType::VendorId, &FRAGMENTATION_VID);
        }
        let len = m.finish().map_err(|_| Error::MessageTooLarge)?;
        ex.tx.set_len(len);
        let sai_b = ex.tx.as_slice().get(mark.body()..sa_end).unwrap_or(&[]);
        let mut data = MainData::new();
        if !data.sai_b.set(sai_b) {
            return Err(Error::MessageTooLarge);
        }
        ex.data = ExData::Main(data);
        self.arm_retransmit(&mut ex, now);
        ex.deadline = Some(now + self.config.timers.half_open_timeout);
        let ex_gen = self.exchanges[x].generation;
        sa.phase1_exchange = Some((u16::try_from(x).unwrap_or(u16::MAX), ex_gen));
        self.sas[slot].sa = Some(sa);
        self.exchanges[x].ex = Some(ex);
        self.queue_exchange(x);
        self.update_timeout();
        Ok(self.handle_of(slot))
    }

    /// Initiator: message 2 (SA, VID) -> message 3.
    fn mm_i2(
        &mut self,
        sa: &mut IkeSa,
        ex: &mut Exchange,
        hdr: &HeaderRepr,
        msg: &mut [u8],
        rng: &mut impl CryptoRng,
    ) -> Result<bool, StepError> {
        if hdr.flags.encryption() {
            return Err(Error::UnexpectedMessage.into());
        }
        let parsed = Parsed::new(hdr.next_payload, Self::body_of(msg))?;
        let sa_payload = parsed.get(PayloadType::Sa).ok_or(Error::MissingPayload)?;
        let sa_repr = SaRepr::parse(sa_payload.body)?;
        let no_proposal = StepError::Fail(
            FailReason::NoProposalChosen(Rejection::NoProposalChosen),
            Error::NoProposalChosen(Rejection::NoProposalChosen),
            None,
        );
        let offer = sa_repr
            .proposals
            .clone()
            .flatten()
            .filter(|p| p.protocol == ProtocolId::Isakmp)
            .find_map(|p| p.transforms.clone().flatten().next())
            .and_then(|t| parse_ike_transform(&t));
        let Some(o) = offer else {
            return Err(no_proposal);
        };
        let ours = self.config.initiator.ike_proposals.iter().find(|q| {
            q.encryption == o.cipher
                && q.hash == o.hash
                && q.authentication.ike_value() == o.auth_method
                && q.group == o.group
                && o.lifetime_seconds.is_none_or(|s| s <= q.lifetime_seconds)
        });
        let Some(q) = ours else {
            return Err(no_proposal);
        };
        sa.params = Some(Phase1Params {
            cipher: o.cipher,
            hash: o.hash,
            authentication: q.authentication,
            group: o.group,
            lifetime_seconds: o.lifetime_seconds.unwrap_or(q.lifetime_seconds),
        });
        let vendors = Vendors::read(&parsed);
        sa.nat_t = if self.config.nat_traversal {
            vendors
                .nat_t()
                .filter(|v| self.config.initiator.nat_t_vendor_ids.contains(v))
        } else {
            None
        };
        sa.peer_dpd = vendors.dpd;
        sa.peer_fragmentation = vendors.fragmentation;
        sa.peer_ms_nt5 = vendors.ms_nt5;
        sa.cky_r = hdr.responder_cookie;

        let dh = DhPrivate::generate(o.group, rng);
        let n = o.group.public_len();
        let mut gxi = [0u8; MAX_DH_LEN];
        if !dh.public_value(&mut gxi[..n]) {
            return Err(Error::InvalidKeyInformation.into());
        }
        let mut ni = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut ni);
        let h3 = Self::header(sa, ExchangeType::IdentityProtection, false, 0);
        let mut m = MessageWriter::new(ex.tx.storage_mut(), &h3);
        m.payload(PayloadType::KeyExchange, &gxi[..n]);
        m.payload(PayloadType::Nonce, &ni);
        if q.authentication == Authentication::RsaSig {
            self.write_cert_requests(&mut m);
        }
        if let Some(v) = sa.nat_t {
            let t = nat_d_type(v);
            m.payload(t, nat_d(o.hash, &sa.cky_i, &sa.cky_r, sa.remote).as_slice());
            m.payload(t, nat_d(o.hash, &sa.cky_i, &sa.cky_r, sa.local).as_slice());
        }
        let len = m.finish().map_err(|_| Error::MessageTooLarge)?;
        ex.tx.set_len(len);
        let ExData::Main(md) = &mut ex.data else {
            return Err(Error::UnexpectedMessage.into());
        };
        md.dh = Some(dh);
        md.gxi.set(&gxi[..n]);
        md.ni.set(&ni);
        sa.state = P1State::I2;
        Ok(false)
    }

    /// Initiator: message 4 (KE, Nr, NAT-D) -> message 5 (on port 4500 if
    /// a NAT was detected).
    fn mm_i4(
        &mut self,
        sa: &mut IkeSa,
        ex: &mut Exchange,
        hdr: &HeaderRepr,
        msg: &mut [u8],
    ) -> Result<bool, StepError> {
        if hdr.flags.encryption() {
            return Err(Error::UnexpectedMessage.into());
        }
        let parsed = Parsed::new(hdr.next_payload, Self::body_of(msg))?;
        let ke = parsed
            .get(PayloadType::KeyExchange)
            .ok_or(Error::MissingPayload)?;
        let nr = parsed
            .get(PayloadType::Nonce)
            .ok_or(Error::MissingPayload)?;
        if !nonce_ok(nr.body) {
            return Err(Error::Wire(WireError::Malformed).into());
        }
        let p = sa.params.ok_or(Error::UnexpectedMessage)?;
        let bad_ke = StepError::Fail(
            FailReason::InvalidKeyInformation,
            Error::InvalidKeyInformation,
            Some(NotifyType::InvalidKeyInformation),
        );
        let ExData::Main(md) = &mut ex.data else {
            return Err(Error::UnexpectedMessage.into());
        };
        let Some(dh) = md.dh.take() else {
            return Err(Error::UnexpectedMessage.into());
        };
        let Ok(gxy) = dh.shared_secret(ke.body) else {
            return Err(bad_ke);
        };
        drop(dh);
        md.gxr.set(ke.body);
        md.nr.set(nr.body);
        let ni = md.ni.clone();
        let skeyid = self.skeyid(&p, sa.remote.ip(), ni.as_slice(), nr.body, gxy.as_slice())?;
        let ExData::Main(md) = &mut ex.data else {
            return Err(Error::UnexpectedMessage.into());
        };
        let keys = Phase1Keys::derive(
            p.hash,
            skeyid.as_slice(),
            gxy.as_slice(),
            &sa.cky_i,
            &sa.cky_r,
            p.cipher,
        );
        drop(gxy);
        md.skeyid = skeyid;
        if sa.nat_t.is_some() && parsed.nat_d().count() >= 2 {
            let (rb, lb) = detect_nat(
                p.hash,
                &sa.cky_i,
                &sa.cky_r,
                sa.remote,
                sa.local,
                parsed.nat_d().map(|d| d.body),
            );
            sa.remote_behind_nat = rb;
            sa.local_behind_nat = lb;
        }
        if sa.nat_detected() && sa.local.port() == self.config.ike_port {
            // RFC 3947 §4: move to port 4500 from message 5 on.
            sa.local.set_port(self.config.nat_t_port);
            sa.remote.set_port(self.config.nat_t_port);
        }
        let mut iv = phase1_iv(
            p.hash,
            md.gxi.as_slice(),
            md.gxr.as_slice(),
            p.cipher.block_len(),
        );
        let mut idb: Buf<MAX_OWN_ID> = Buf::new();
        let hi = {
            let ExData::Main(md) = &ex.data else {
                return Err(Error::UnexpectedMessage.into());
            };
            self.own_id(&p, sa.local.ip(), 0, 0, &mut idb)?;
            hash_i(
                p.hash,
                md.skeyid.as_slice(),
                md.gxi.as_slice(),
                md.gxr.as_slice(),
                &sa.cky_i,
                &sa.cky_r,
                md.sai_b.as_slice(),
                idb.as_slice(),
            )
        };
        let h5 = Self::header(sa, ExchangeType::IdentityProtection, true, 0);
        let initial_contact = (self.config.initiator.initial_contact && sa.rekey_of.is_none())
            .then(|| {
                let mut spi = [0u8; 16];
                spi[..8].copy_from_slice(&sa.cky_i);
                spi[8..].copy_from_slice(&sa.cky_r);
                spi
            });
        self.write_auth_message(
            ex,
            &h5,
            &p,
            keys.ka.as_slice(),
            &mut iv,
            idb.as_slice(),
            &hi,
            initial_contact,
        )?;
        ex.iv = iv;
        sa.keys = Some(SaKeys {
            skeyid_d: keys.skeyid_d.clone(),
            skeyid_a: keys.skeyid_a.clone(),
            ka: keys.ka.clone(),
            last_block: crate::crypto::Secret::empty(),
        });
        sa.state = P1State::I3;
        Ok(false)
    }

    /// Initiator: message 6 (IDir, HASH_R): established.
    fn mm_i6(
        &mut self,
        sa: &mut IkeSa,
        ex: &mut Exchange,
        now: Duration,
        hdr: &HeaderRepr,
        msg: &mut [u8],
    ) -> Result<bool, StepError> {
        let _ = now;
        if !hdr.flags.encryption() {
            return Err(Error::UnexpectedMessage.into());
        }
        let p = sa.params.ok_or(Error::UnexpectedMessage)?;
        let keys = sa.keys.as_mut().ok_or(Error::UnexpectedMessage)?;
        let next_iv = decrypt(p.cipher, keys.ka.as_slice(), &ex.iv, msg)?;
        let auth_failed = StepError::Fail(
            FailReason::AuthenticationFailed,
            Error::AuthenticationFailed,
            None,
        );
        let Ok(parsed) = Parsed::new(hdr.next_payload, Self::body_of(msg)) else {
            return Err(auth_failed);
        };
        let Some(id) = parsed.get(PayloadType::Identification) else {
            return Err(auth_failed);
        };
        let ExData::Main(md) = &mut ex.data else {
            return Err(Error::UnexpectedMessage.into());
        };
        let expected = hash_r(
            p.hash,
            md.skeyid.as_slice(),
            md.gxi.as_slice(),
            md.gxr.as_slice(),
            &sa.cky_i,
            &sa.cky_r,
            md.sai_b.as_slice(),
            id.body,
        );
        let Ok(idr) = IdRepr::parse(id.body) else {
            return Err(auth_failed);
        };
        self.verify_peer_auth(&p, &parsed, &idr, &expected, now, auth_failed)?;
        sa.peer_id = Some(peer_id_of(&idr));
        keys.last_block = next_iv.clone();
        ex.iv = next_iv;
        ex.data = ExData::Done;
        ex.state = ExState::MainModeDone;
        sa.state = P1State::Established;
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::IdType;

    fn id(data: &[u8]) -> PeerId {
        peer_id_of(&IdRepr {
            id_type: IdType::DerAsn1Dn,
            protocol: 17,
            port: 500,
            data,
        })
    }

    #[test]
    fn long_identities_keep_a_prefix_and_a_hash_and_compare_as_wholes() {
        let short = [7u8; crate::event::MAX_PEER_ID_LEN];
        assert_eq!(id(&short).data(), &short[..], "kept whole up to the limit");
        let mut a = [0x30u8; 300];
        let b = a;
        a[299] = 0x31; // differs only past the kept prefix
        let (ia, ib) = (id(&a), id(&b));
        assert_eq!(ia.data().len(), crate::event::MAX_PEER_ID_LEN);
        assert_eq!(ia.data()[..32], a[..32]);
        assert_eq!(
            ia.data()[32..],
            *crate::crypto::HashAlg::Sha256.hash(&[&a[..]]).as_slice()
        );
        assert_ne!(ia, ib, "the hash tells them apart");
        assert_eq!(ib, id(&b));
    }
}
