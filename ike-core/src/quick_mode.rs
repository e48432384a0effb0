//! Quick Mode (RFC 2409 §5.5) for ESP in transport mode, UDP-encapsulated
//! when a NAT was detected (RFC 3947 §5), as responder and initiator.
//!
//! ```text
//! Initiator                                  Responder
//! HDR*, HASH(1), SA, Ni [, KE] [, IDci, IDcr] [, NAT-OAi, NAT-OAr] -->
//!                                            (SpiNeeded -> provide_spi)
//!      <-- HDR*, HASH(2), SA, Nr [, KE] [, IDci, IDcr] [, NAT-OA..] [, N(RESPONDER-LIFETIME)]
//! HDR*, HASH(3)                      -->     (ChildSaNegotiated)
//! ```
//!
//! Our inbound SPI comes from the caller (esp-core allocates it so that it
//! names its SA table slot): the exchange stops at [`Event::SpiNeeded`] and
//! resumes in [`Endpoint::provide_spi`].

use crate::config::{EspEncryption, EspProposal, IpsecLifetime};
use crate::crypto::{
    DhPrivate, KeyMaterial, MAX_DH_LEN, Secret, hash_1, hash_2, hash_3, keymat, phase2_iv,
};
use crate::endpoint::Endpoint;
use crate::event::{
    ChildSa, Encapsulation, Error, EspKeys, Event, FailReason, Role, SaHandle, Selector, SpiRequest,
};
use crate::main_mode::{StepError, rejection_notify};
use crate::message::{Parsed, decrypt, encrypt};
use crate::policy::{EspContext, parse_esp_transform, select_ipsec};
use crate::state::{
    ChildRef, ExData, ExState, Exchange, IkeSa, MAX_CHILDREN, MAX_NONCE, NONCE_LEN, QmParams,
    QuickData,
};
use crate::wire::{
    Attribute, AttributeIter, EncapsulationMode, ExchangeType, HeaderRepr, IdRepr,
    IpsecAttributeType, LifeType, MessageWriter, NatOaRepr, NotifyRepr, NotifyType, PayloadType,
    ProposalRepr, ProtocolId, SaRepr, TransformRepr, WireError, Writer,
};
use core::net::SocketAddr;
use core::time::Duration;
use rand_core::CryptoRng;

/// The L2TP port (RFC 2661 §8.1).
pub const L2TP_PORT: u16 = 1701;
/// UDP.
const IPPROTO_UDP: u8 = 17;

/// The L2TP selector in an IDci/IDcr (RFC 3193 §4: UDP, port 1701; a
/// port of 0 is accepted for clients that leave the far port open).
fn l2tp_selector(id: &IdRepr<'_>) -> Option<Selector> {
    let address = id.host_address()?;
    if id.protocol != IPPROTO_UDP || !(id.port == L2TP_PORT || id.port == 0) {
        return None;
    }
    Some(Selector {
        address,
        protocol: id.protocol,
        port: id.port,
    })
}

fn selector_of(body: &[u8]) -> Option<Selector> {
    if body.is_empty() {
        return None;
    }
    IdRepr::parse(body).ok().and_then(|id| l2tp_selector(&id))
}

fn nat_oa_type(sa: &IkeSa) -> PayloadType {
    match sa.nat_t {
        Some(v) if !v.is_rfc() => PayloadType::NatOaDraft,
        _ => PayloadType::NatOa,
    }
}

fn is_udp(mode: EncapsulationMode) -> bool {
    matches!(
        mode,
        EncapsulationMode::UdpTransport | EncapsulationMode::UdpTransportDraft
    )
}

/// Writes one ESP transform (RFC 2407 §4.5 attributes).
fn emit_esp_transform(
    w: &mut Writer<'_>,
    last: bool,
    number: u8,
    p: &EspProposal,
    mode: EncapsulationMode,
    pfs: Option<crate::crypto::DhGroup>,
    life: IpsecLifetime,
) {
    let at = TransformRepr::begin(w, last, number, p.encryption.transform_id());
    let life = IpsecLifetime {
        seconds: match life.seconds {
            0 => 0,
            s => s.max(crate::config::MIN_LIFETIME_SECONDS),
        },
        ..life
    };
    if life.seconds != 0 {
        Attribute::emit_basic(w, IpsecAttributeType::SaLifeType.into(), 1);
        Attribute::emit_u32(w, IpsecAttributeType::SaLifeDuration.into(), life.seconds);
    }
    if life.kilobytes != 0 {
        Attribute::emit_basic(w, IpsecAttributeType::SaLifeType.into(), 2);
        Attribute::emit_u32(w, IpsecAttributeType::SaLifeDuration.into(), life.kilobytes);
    }
    if let Some(g) = pfs {
        Attribute::emit_basic(
            w,
            IpsecAttributeType::GroupDescription.into(),
            g.ike_value(),
        );
    }
    Attribute::emit_basic(w, IpsecAttributeType::EncapsulationMode.into(), mode.into());
    Attribute::emit_basic(
        w,
        IpsecAttributeType::AuthenticationAlgorithm.into(),
        p.integrity.auth_algorithm(),
    );
    if let Some(k) = p.encryption.key_length_attribute() {
        Attribute::emit_basic(w, IpsecAttributeType::KeyLength.into(), k);
    }
    TransformRepr::end(w, at);
}

/// Reads the lifetimes of a RESPONDER-LIFETIME notify (RFC 2407
/// §4.6.3.1): SA attributes.
fn responder_lifetime(data: &[u8], life: &mut IpsecLifetime) {
    let mut kind = None;
    for a in AttributeIter::new(data).flatten() {
        match IpsecAttributeType::from(a.kind) {
            IpsecAttributeType::SaLifeType => kind = a.as_u16().map(LifeType::from),
            IpsecAttributeType::SaLifeDuration => {
                let v = u32::try_from(a.as_u64().unwrap_or(u64::MAX)).unwrap_or(u32::MAX);
                match kind.take() {
                    Some(LifeType::Seconds) if life.seconds == 0 || v < life.seconds => {
                        life.seconds = v;
                    }
                    Some(LifeType::Kilobytes) if life.kilobytes == 0 || v < life.kilobytes => {
                        life.kilobytes = v;
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

fn split_keys(k: &KeyMaterial, enc_len: usize) -> EspKeys {
    let b = k.as_slice();
    let (e, i) = b.split_at(enc_len.min(b.len()));
    EspKeys {
        encryption: Secret::from_slice(e).unwrap_or_else(Secret::empty),
        integrity: Secret::from_slice(i).unwrap_or_else(Secret::empty),
    }
}

/// Writes a HASH payload of `len` zeros and returns where its body starts.
fn hash_placeholder(m: &mut MessageWriter<'_>, len: usize) -> (usize, usize) {
    let mark = m.begin(PayloadType::Hash);
    m.body().put_zeros(len);
    m.end(mark);
    (mark.body(), mark.body() + len)
}

impl<const SAS: usize, const EXCHANGES: usize> Endpoint<SAS, EXCHANGES> {
    fn find_exchange(&self, i: usize, mid: u32) -> Option<usize> {
        let generation = self.sas[i].generation;
        self.exchanges.iter().position(|s| {
            s.ex.as_ref().is_some_and(|e| {
                usize::from(e.sa) == i && e.sa_generation == generation && e.message_id == mid
            })
        })
    }

    /// A Quick Mode message on an established SA.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn quick_mode(
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
        let _ = (remote, local);
        let Some(sa) = self.sas[i].sa.as_ref() else {
            return Err(Error::UnknownSa);
        };
        if !sa.established() || !hdr.flags.encryption() {
            return Err(Error::UnexpectedMessage);
        }
        let mid = hdr.message_id;
        if mid == 0 {
            return Err(Error::InvalidMessageId);
        }
        let Some(x) = self.find_exchange(i, mid) else {
            if sa.mid_seen(mid) {
                return Err(Error::InvalidMessageId);
            }
            return self.qm_r1(i, now, hdr, msg, dig, rng);
        };
        let limit = self.config.timers.retransmit_tries.saturating_mul(2);
        if let Some(ex) = self.exchanges[x].ex.as_mut()
            && ex.rx_digest == Some(dig)
        {
            // The peer repeated its last message: ours was lost.
            if ex.tx.is_empty() || ex.resends >= limit {
                return Ok(());
            }
            ex.resends += 1;
            self.counters.duplicates_answered += 1;
            self.queue_exchange(x);
            return Ok(());
        }
        let (Some(mut sa), Some(mut ex)) = (self.sas[i].sa.take(), self.take_exchange(x)) else {
            return Err(Error::UnexpectedMessage);
        };
        let r = match ex.state {
            ExState::QmR1 => self.qm_r3(&mut sa, &mut ex, hdr, msg),
            ExState::QmI1 => self.qm_i2(&mut sa, &mut ex, now, hdr, msg),
            _ => Err(StepError::Drop(Error::UnexpectedMessage)),
        };
        let state = ex.state;
        let replaces = ex.quick().and_then(|q| q.replaces);
        self.sas[i].sa = Some(sa);
        self.put_exchange(x, ex);
        let _ = rng;
        match r {
            Ok(child) => {
                self.peer_heard(i, now);
                if let Some(child) = child {
                    self.child_negotiated(i, now, mid, child, replaces);
                }
                match state {
                    ExState::QmIDone => {
                        if let Some(ex) = self.exchanges[x].ex.as_mut() {
                            ex.rx_digest = Some(dig);
                            ex.retransmit_at = None;
                            ex.deadline = Some(now + self.config.timers.linger);
                        }
                        self.queue_exchange(x);
                    }
                    _ => self.free_exchange(x),
                }
                Ok(())
            }
            Err(StepError::Drop(e)) => Err(e),
            Err(StepError::Fail(reason, e, _)) => {
                self.fail_exchange(x, reason);
                Err(e)
            }
        }
    }

    fn child_negotiated(
        &mut self,
        i: usize,
        now: Duration,
        mid: u32,
        child: ChildSa,
        replaces: Option<u32>,
    ) {
        let rekey = self.config.initiator.rekey;
        if let Some(sa) = self.sas[i].sa.as_mut() {
            sa.remember_mid(mid);
            if sa.children.len() == MAX_CHILDREN {
                sa.children.remove(0);
            }
            let life = u64::from(child.lifetime.seconds);
            let lifetime = (life > 0).then(|| Duration::from_secs(life));
            // The side that negotiated a pair renews it, at 90 % of its
            // lifetime (the one the responder imposed, if shorter).
            let rekey_at = lifetime
                .filter(|_| rekey && child.role == Role::Initiator)
                .map(|l| now + l.mul_f32(0.9));
            let _ = sa.children.push(ChildRef {
                spi_in: child.spi_in,
                spi_out: child.spi_out,
                rekey_at,
                expire_at: lifetime.map(|l| now + l),
                replaced: false,
            });
            // A rekey: the old pair keeps taking inbound packets for the
            // overlap, then it is deleted.
            if let Some(old) = replaces
                && let Some(c) = sa.children.iter_mut().find(|c| c.spi_in == old)
            {
                c.replaced = true;
                c.rekey_at = None;
                let end = now + crate::config::REKEY_OVERLAP;
                c.expire_at = Some(c.expire_at.map_or(end, |e| e.min(end)));
            }
        }
        self.counters.child_sas_negotiated += 1;
        self.emit(Event::ChildSaNegotiated(child));
    }

    /// Responder: Quick Mode message 1. Verified, evaluated, then parked
    /// until the caller supplies our SPI.
    /// Frees the lingering (finished) Main Mode exchange of SA `i`.
    fn end_phase1_linger(&mut self, i: usize) {
        let Some((x, generation)) = self.sas[i].sa.as_ref().and_then(|s| s.phase1_exchange) else {
            return;
        };
        let x = usize::from(x);
        let done = self.exchanges.get(x).is_some_and(|slot| {
            slot.generation == generation
                && slot
                    .ex
                    .as_ref()
                    .is_some_and(|ex| ex.state == ExState::MainModeDone)
        });
        if done {
            self.free_exchange(x);
        }
    }

    fn qm_r1(
        &mut self,
        i: usize,
        now: Duration,
        hdr: &HeaderRepr,
        msg: &mut [u8],
        dig: [u8; 16],
        rng: &mut impl CryptoRng,
    ) -> Result<(), Error> {
        let sa = self.sas[i].sa.as_ref().ok_or(Error::UnknownSa)?;
        let p = sa.params.ok_or(Error::UnexpectedMessage)?;
        let keys = sa.keys.clone().ok_or(Error::UnexpectedMessage)?;
        let (remote, nat_detected) = (sa.remote, sa.nat_detected());
        let mid = hdr.message_id;
        let iv = phase2_iv(
            p.hash,
            keys.last_block.as_slice(),
            mid,
            p.cipher.block_len(),
        );
        let next_iv = decrypt(p.cipher, keys.ka.as_slice(), &iv, msg)?;
        let body = Self::body_of(msg);
        let parsed = Parsed::new(hdr.next_payload, body)?;
        let first = parsed.items.first().ok_or(Error::MissingPayload)?;
        if first.kind != PayloadType::Hash {
            return Err(Error::MissingPayload);
        }
        let rest = body.get(first.end()..parsed.end).unwrap_or(&[]);
        if !hash_1(p.hash, keys.skeyid_a.as_slice(), mid, rest).ct_eq(first.body) {
            return Err(Error::IntegrityCheckFailed);
        }
        self.peer_heard(i, now);
        // An authentic Quick Mode proves that the peer has our last Main
        // Mode message, so the Main Mode need not linger to resend it: its
        // slot serves the next negotiation at once (a burst of clients
        // would otherwise wait for the linger of those before them).
        self.end_phase1_linger(i);
        // An authenticated peer goes before half-open negotiations: with
        // every exchange slot taken (a flood of first messages), one of
        // them makes room. Only then is the message ID remembered, so that
        // a message refused for want of a slot is taken when retransmitted.
        if self.free_exchange_slot().is_none() {
            self.make_exchange_room();
        }
        let x = self.free_exchange_slot().ok_or(Error::ExchangesFull)?;
        // Authentic from here on: refusals are answered, and the message
        // ID is not accepted again.
        if let Some(sa) = self.sas[i].sa.as_mut() {
            sa.remember_mid(mid);
        }
        let sa_payload = parsed.get(PayloadType::Sa).ok_or(Error::MissingPayload)?;
        let ni = parsed
            .get(PayloadType::Nonce)
            .ok_or(Error::MissingPayload)?;
        if !(8..=MAX_NONCE).contains(&ni.body.len()) {
            return Err(Error::Wire(WireError::Malformed));
        }
        let sa_repr = SaRepr::parse(sa_payload.body)?;
        let ctx = EspContext {
            udp_encapsulation: nat_detected,
            pfs_required: self.config.pfs,
            lifetime: self.config.ipsec_lifetime,
        };
        let choice = match select_ipsec(&self.config.transform_sets, &ctx, &sa_repr, |g| {
            self.config.group_allowed(g)
        }) {
            Ok(c) => c,
            Err(r) => {
                let _ = self.send_notify_protected(
                    i,
                    ProtocolId::Esp,
                    &[],
                    rejection_notify(r),
                    &[],
                    rng,
                );
                return Err(Error::NoProposalChosen(r));
            }
        };
        let mut qd = QuickData::new();
        if let Some(g) = choice.offer.group {
            match parsed.get(PayloadType::KeyExchange) {
                Some(ke) if ke.body.len() == g.public_len() => {
                    qd.peer_ke.set(ke.body);
                }
                _ => {
                    let _ = self.send_notify_protected(
                        i,
                        ProtocolId::Esp,
                        &[],
                        NotifyType::InvalidKeyInformation,
                        &[],
                        rng,
                    );
                    return Err(Error::InvalidKeyInformation);
                }
            }
        }
        let ids: heapless::Vec<&[u8], 3> = parsed
            .all(PayloadType::Identification)
            .take(3)
            .map(|p| p.body)
            .collect();
        let ids_ok = match ids.as_slice() {
            [] => true,
            [ci, cr] => {
                selector_of(ci).is_some()
                    && selector_of(cr).is_some()
                    && qd.idci.set(ci)
                    && qd.idcr.set(cr)
            }
            _ => false,
        };
        if !ids_ok {
            let _ = self.send_notify_protected(
                i,
                ProtocolId::Esp,
                &[],
                NotifyType::InvalidIdInformation,
                &[],
                rng,
            );
            return Err(Error::InvalidIdInformation);
        }
        let mut oas = parsed
            .nat_oa()
            .filter_map(|p| NatOaRepr::parse(p.body).ok());
        qd.nat_oa_i = oas.next().map(|o| o.address);
        qd.nat_oa_r = oas.next().map(|o| o.address);
        qd.ni.set(ni.body);
        qd.spi_out = choice.peer_spi;
        if !qd.transform.set(choice.transform.raw) {
            return Err(Error::MessageTooLarge);
        }
        qd.params = Some(QmParams {
            encryption: choice.offer.encryption,
            integrity: choice.offer.integrity,
            encapsulation: choice.offer.encapsulation,
            pfs: choice.offer.group,
            lifetime: choice.lifetime,
            responder_lifetime: choice.responder_lifetime,
            transform_set: Some(choice.transform_set),
            proposal_number: choice.proposal_number,
        });
        let sa_gen = self.sas[i].generation;
        let mut ex = Exchange::new(
            u16::try_from(i).unwrap_or(u16::MAX),
            sa_gen,
            mid,
            ExState::QmRWaitSpi,
            ExData::Quick(qd),
        );
        ex.iv = next_iv;
        ex.rx_digest = Some(dig);
        ex.deadline = Some(now + self.config.timers.half_open_timeout);
        self.exchanges[x].ex = Some(ex);
        let request = self.request_of(x);
        let handle = self.handle_of(i);
        self.emit(Event::SpiNeeded {
            request,
            sa: handle,
            remote,
        });
        Ok(())
    }

    /// Starts a Quick Mode for the L2TP selector on an established SA, as
    /// initiator. The exchange waits for our SPI: an [`Event::SpiNeeded`]
    /// is queued with the returned request; answer with
    /// [`provide_spi`](Self::provide_spi).
    ///
    /// # Errors
    /// [`Error::InvalidHandle`], [`Error::InvalidState`] before phase 1 is
    /// established, [`Error::NotConfigured`] without ESP proposals,
    /// [`Error::ExchangesFull`].
    pub fn request_child_sa(
        &mut self,
        now: Duration,
        sa: SaHandle,
        rng: &mut impl CryptoRng,
    ) -> Result<SpiRequest, Error> {
        self.start_quick_mode(now, sa, None, rng)
    }

    /// Rekeys an IPsec SA pair as initiator: a new Quick Mode on its ISAKMP
    /// SA (RFC 2409 §5.5); when it completes the old pair stays for
    /// [`REKEY_OVERLAP`](crate::config::REKEY_OVERLAP) to take the packets
    /// still in flight, then it is deleted ([`crate::DeleteReason::Rekeyed`]).
    /// For a kilobyte limit the caller's ESP implementation reports (the
    /// time limit is watched here).
    ///
    /// # Errors
    /// As [`request_child_sa`](Self::request_child_sa), and
    /// [`Error::InvalidHandle`] for an unknown `spi_in`.
    pub fn rekey_child_sa(
        &mut self,
        now: Duration,
        sa: SaHandle,
        spi_in: u32,
        rng: &mut impl CryptoRng,
    ) -> Result<SpiRequest, Error> {
        let i = self.resolve(sa)?;
        let known = self.sas[i]
            .sa
            .as_ref()
            .is_some_and(|s| s.children.iter().any(|c| c.spi_in == spi_in && !c.replaced));
        if !known {
            return Err(Error::InvalidHandle);
        }
        self.start_quick_mode(now, sa, Some(spi_in), rng)
    }

    /// Whether a Quick Mode replacing `spi_in` is running on SA `i`.
    pub(crate) fn rekey_running(&self, i: usize, spi_in: u32) -> bool {
        let generation = self.sas[i].generation;
        self.exchanges.iter().any(|s| {
            s.ex.as_ref().is_some_and(|e| {
                usize::from(e.sa) == i
                    && e.sa_generation == generation
                    && matches!(&e.data, ExData::Quick(q) if q.replaces == Some(spi_in))
            })
        })
    }

    fn start_quick_mode(
        &mut self,
        now: Duration,
        sa: SaHandle,
        replaces: Option<u32>,
        rng: &mut impl CryptoRng,
    ) -> Result<SpiRequest, Error> {
        let i = self.resolve(sa)?;
        let s = self.sas[i].sa.as_ref().ok_or(Error::InvalidHandle)?;
        if !s.established() {
            return Err(Error::InvalidState);
        }
        if self.config.quick_mode_offer().esp_proposals.is_empty() {
            return Err(Error::NotConfigured);
        }
        let remote = s.remote;
        let x = self.free_exchange_slot().ok_or(Error::ExchangesFull)?;
        let mid = self.new_message_id(i, rng);
        let mut qd = QuickData::new();
        qd.replaces = replaces;
        let mut ex = Exchange::new(
            u16::try_from(i).unwrap_or(u16::MAX),
            self.sas[i].generation,
            mid,
            ExState::QmIWaitSpi,
            ExData::Quick(qd),
        );
        ex.deadline = Some(now + self.config.timers.half_open_timeout);
        self.exchanges[x].ex = Some(ex);
        let request = self.request_of(x);
        self.emit(Event::SpiNeeded {
            request,
            sa,
            remote,
        });
        self.update_timeout();
        Ok(request)
    }

    /// Supplies our inbound SPI for a Quick Mode that waits for it (from
    /// [`Event::SpiNeeded`]); the exchange continues at once.
    ///
    /// `spi` must be at least 256 (RFC 4303 §2.1 reserves 1 to 255).
    ///
    /// # Errors
    /// [`Error::InvalidHandle`] for a request that is gone (the exchange
    /// failed or timed out), [`Error::InvalidState`] for a reserved SPI or
    /// a request already answered.
    pub fn provide_spi(
        &mut self,
        now: Duration,
        request: SpiRequest,
        spi: u32,
        rng: &mut impl CryptoRng,
    ) -> Result<(), Error> {
        let x = self.resolve_request(request)?;
        if spi < 256 {
            return Err(Error::InvalidState);
        }
        let (i, sa_gen, state) = match self.exchanges[x].ex.as_ref() {
            Some(ex) => (usize::from(ex.sa), ex.sa_generation, ex.state),
            None => return Err(Error::InvalidHandle),
        };
        if !matches!(state, ExState::QmRWaitSpi | ExState::QmIWaitSpi) {
            return Err(Error::InvalidState);
        }
        if self.sas[i].generation != sa_gen {
            return Err(Error::InvalidHandle);
        }
        let (Some(mut sa), Some(mut ex)) = (self.sas[i].sa.take(), self.take_exchange(x)) else {
            return Err(Error::InvalidHandle);
        };
        let r = match state {
            ExState::QmRWaitSpi => self.qm_r_send2(&mut sa, &mut ex, spi, rng),
            _ => self.qm_i_send1(&mut sa, &mut ex, spi, rng),
        };
        self.sas[i].sa = Some(sa);
        self.put_exchange(x, ex);
        let r = match r {
            Ok(()) => {
                if let Some(ex) = self.exchanges[x].ex.as_mut() {
                    ex.resends = 0;
                    ex.interval = self.config.timers.retransmit_initial;
                    ex.retransmit_at = Some(now + ex.interval);
                    ex.deadline = None;
                }
                self.queue_exchange(x);
                Ok(())
            }
            Err(StepError::Drop(e)) | Err(StepError::Fail(_, e, _)) => {
                let reason = match e {
                    Error::InvalidKeyInformation => FailReason::InvalidKeyInformation,
                    _ => FailReason::MessageTooLarge,
                };
                if let Some(q) = self.exchanges[x].ex.as_mut().and_then(Exchange::quick) {
                    q.spi_in = Some(spi);
                }
                self.fail_exchange(x, reason);
                Err(e)
            }
        };
        self.update_timeout();
        r
    }

    /// Responder: with our SPI, compute the keys and send message 2.
    fn qm_r_send2(
        &mut self,
        sa: &mut IkeSa,
        ex: &mut Exchange,
        spi: u32,
        rng: &mut impl CryptoRng,
    ) -> Result<(), StepError> {
        let p = sa.params.ok_or(Error::UnexpectedMessage)?;
        let keys = sa.keys.as_ref().ok_or(Error::UnexpectedMessage)?;
        let mid = ex.message_id;
        let ExData::Quick(qd) = &mut ex.data else {
            return Err(Error::UnexpectedMessage.into());
        };
        let qp = qd.params.ok_or(Error::UnexpectedMessage)?;
        let mut nr = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nr);
        qd.nr.set(&nr);
        qd.spi_in = Some(spi);
        let mut gxr = [0u8; MAX_DH_LEN];
        let mut gxr_len = 0;
        let mut gxy = None;
        if let Some(g) = qp.pfs {
            let dh = DhPrivate::generate(g, rng);
            gxr_len = g.public_len();
            if !dh.public_value(&mut gxr[..gxr_len]) {
                return Err(Error::InvalidKeyInformation.into());
            }
            gxy = Some(
                dh.shared_secret(qd.peer_ke.as_slice())
                    .map_err(|_| Error::InvalidKeyInformation)?,
            );
        }
        let total = qp.encryption.key_len() + qp.integrity.key_len();
        let g = gxy.as_ref().map(Secret::as_slice);
        qd.keymat_in = keymat(
            p.hash,
            keys.skeyid_d.as_slice(),
            g,
            3,
            &spi.to_be_bytes(),
            qd.ni.as_slice(),
            &nr,
            total,
        );
        qd.keymat_out = keymat(
            p.hash,
            keys.skeyid_d.as_slice(),
            g,
            3,
            &qd.spi_out.to_be_bytes(),
            qd.ni.as_slice(),
            &nr,
            total,
        );
        drop(gxy);

        let hdr = Self::header(sa, ExchangeType::QuickMode, true, mid);
        let mut m = MessageWriter::new(ex.tx.storage_mut(), &hdr);
        let (hash_at, hash_end) = hash_placeholder(&mut m, p.hash.output_len());
        let mark = m.begin(PayloadType::Sa);
        {
            let w = m.body();
            SaRepr::emit_ipsec_header(w);
            let at = ProposalRepr::begin(
                w,
                true,
                qp.proposal_number,
                ProtocolId::Esp,
                &spi.to_be_bytes(),
                1,
            );
            let t_at = w.position();
            w.put(qd.transform.as_slice());
            w.patch(t_at, &[0]);
            ProposalRepr::end(w, at);
        }
        m.end(mark);
        m.payload(PayloadType::Nonce, &nr);
        if gxr_len > 0 {
            m.payload(PayloadType::KeyExchange, &gxr[..gxr_len]);
        }
        if !qd.idci.is_empty() {
            m.payload(PayloadType::Identification, qd.idci.as_slice());
            m.payload(PayloadType::Identification, qd.idcr.as_slice());
        }
        if is_udp(qp.encapsulation) && sa.nat_t.is_some() {
            let t = nat_oa_type(sa);
            for addr in [sa.remote.ip(), sa.local.ip()] {
                let mark = m.begin(t);
                NatOaRepr { address: addr }.emit(m.body());
                m.end(mark);
            }
        }
        if qp.responder_lifetime {
            let mut attrs = [0u8; 24];
            let mut w = Writer::new(&mut attrs);
            if qp.lifetime.seconds != 0 {
                Attribute::emit_basic(&mut w, IpsecAttributeType::SaLifeType.into(), 1);
                Attribute::emit_u32(
                    &mut w,
                    IpsecAttributeType::SaLifeDuration.into(),
                    qp.lifetime.seconds,
                );
            }
            if qp.lifetime.kilobytes != 0 {
                Attribute::emit_basic(&mut w, IpsecAttributeType::SaLifeType.into(), 2);
                Attribute::emit_u32(
                    &mut w,
                    IpsecAttributeType::SaLifeDuration.into(),
                    qp.lifetime.kilobytes,
                );
            }
            let n = w.finish().map_err(|_| Error::MessageTooLarge)?;
            let mark = m.begin(PayloadType::Notification);
            NotifyRepr {
                doi: crate::wire::DOI_IPSEC,
                protocol: ProtocolId::Esp,
                notify_type: NotifyType::ResponderLifetime,
                spi: &spi.to_be_bytes(),
                data: &attrs[..n],
            }
            .emit(m.body());
            m.end(mark);
        }
        let len = m.finish().map_err(|_| Error::MessageTooLarge)?;
        let buf = ex.tx.storage_mut();
        let h = hash_2(
            p.hash,
            keys.skeyid_a.as_slice(),
            mid,
            qd.ni.as_slice(),
            &buf[hash_end..len],
        );
        buf[hash_at..hash_end].copy_from_slice(h.as_slice());
        let total = encrypt(p.cipher, keys.ka.as_slice(), &mut ex.iv, buf, len)?;
        ex.tx.set_len(total);
        ex.state = ExState::QmR1;
        Ok(())
    }

    /// Responder: message 3 (HASH(3)) -> the IPsec SAs are negotiated.
    fn qm_r3(
        &mut self,
        sa: &mut IkeSa,
        ex: &mut Exchange,
        hdr: &HeaderRepr,
        msg: &mut [u8],
    ) -> Result<Option<ChildSa>, StepError> {
        let p = sa.params.ok_or(Error::UnexpectedMessage)?;
        let keys = sa.keys.as_ref().ok_or(Error::UnexpectedMessage)?;
        let next_iv = decrypt(p.cipher, keys.ka.as_slice(), &ex.iv, msg)?;
        let parsed = Parsed::new(hdr.next_payload, Self::body_of(msg))?;
        let hash = parsed
            .items
            .first()
            .filter(|h| h.kind == PayloadType::Hash)
            .ok_or(Error::MissingPayload)?;
        let mid = ex.message_id;
        let ExData::Quick(qd) = &ex.data else {
            return Err(Error::UnexpectedMessage.into());
        };
        let expected = hash_3(
            p.hash,
            keys.skeyid_a.as_slice(),
            mid,
            qd.ni.as_slice(),
            qd.nr.as_slice(),
        );
        if !expected.ct_eq(hash.body) {
            return Err(Error::IntegrityCheckFailed.into());
        }
        ex.iv = next_iv;
        Ok(Some(self.child_of(sa, ex, Role::Responder)?))
    }

    fn child_of(&self, sa: &IkeSa, ex: &Exchange, role: Role) -> Result<ChildSa, StepError> {
        let ExData::Quick(qd) = &ex.data else {
            return Err(Error::UnexpectedMessage.into());
        };
        let qp = qd.params.ok_or(Error::UnexpectedMessage)?;
        let enc_len = qp.encryption.key_len();
        let encapsulation = if is_udp(qp.encapsulation) {
            Encapsulation::UdpTransport {
                mode: qp.encapsulation.into(),
                local_port: sa.local.port(),
                remote_port: sa.remote.port(),
            }
        } else {
            Encapsulation::Transport
        };
        Ok(ChildSa {
            ike_sa: SaHandle {
                index: ex.sa,
                generation: ex.sa_generation,
            },
            role,
            remote: sa.remote,
            local: sa.local,
            spi_in: qd.spi_in.ok_or(Error::UnexpectedMessage)?,
            spi_out: qd.spi_out,
            encryption: qp.encryption,
            integrity: qp.integrity,
            keys_in: split_keys(&qd.keymat_in, enc_len),
            keys_out: split_keys(&qd.keymat_out, enc_len),
            encapsulation,
            lifetime: qp.lifetime,
            initiator_selector: selector_of(qd.idci.as_slice()),
            responder_selector: selector_of(qd.idcr.as_slice()),
            nat_oa_initiator: qd.nat_oa_i,
            nat_oa_responder: qd.nat_oa_r,
            pfs: qp.pfs,
            transform_set: qp.transform_set,
        })
    }

    /// Initiator: with our SPI, send message 1.
    fn qm_i_send1(
        &mut self,
        sa: &mut IkeSa,
        ex: &mut Exchange,
        spi: u32,
        rng: &mut impl CryptoRng,
    ) -> Result<(), StepError> {
        let p = sa.params.ok_or(Error::UnexpectedMessage)?;
        let keys = sa.keys.as_ref().ok_or(Error::UnexpectedMessage)?;
        let mid = ex.message_id;
        let ic = self.config.quick_mode_offer();
        let ExData::Quick(qd) = &mut ex.data else {
            return Err(Error::UnexpectedMessage.into());
        };
        let mut ni = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut ni);
        qd.ni.set(&ni);
        qd.spi_in = Some(spi);
        let udp = sa.nat_detected();
        let mode = match sa.nat_t {
            Some(v) if udp => v.udp_transport_mode(),
            _ => EncapsulationMode::Transport,
        };
        let mut gxi = [0u8; MAX_DH_LEN];
        let mut gxi_len = 0;
        if let Some(g) = ic.pfs {
            let dh = DhPrivate::generate(g, rng);
            gxi_len = g.public_len();
            if !dh.public_value(&mut gxi[..gxi_len]) {
                return Err(Error::InvalidKeyInformation.into());
            }
            qd.dh = Some(dh);
        }
        let mut b1 = [0u8; 16];
        let mut b2 = [0u8; 16];
        let idci = IdRepr::from_ip(sa.local.ip(), IPPROTO_UDP, L2TP_PORT, &mut b1);
        let idcr = IdRepr::from_ip(sa.remote.ip(), IPPROTO_UDP, L2TP_PORT, &mut b2);
        for (id, dst) in [(idci, &mut qd.idci), (idcr, &mut qd.idcr)] {
            let mut tmp = [0u8; 24];
            let mut w = Writer::new(&mut tmp);
            id.emit(&mut w);
            let n = w.finish().map_err(|_| Error::MessageTooLarge)?;
            dst.set(&tmp[..n]);
        }
        qd.params = Some(QmParams {
            encryption: EspEncryption::Null,
            integrity: crate::config::EspIntegrity::HmacSha1,
            encapsulation: mode,
            pfs: ic.pfs,
            lifetime: ic.esp_lifetime,
            responder_lifetime: false,
            transform_set: None,
            proposal_number: 1,
        });

        let hdr = Self::header(sa, ExchangeType::QuickMode, true, mid);
        let mut m = MessageWriter::new(ex.tx.storage_mut(), &hdr);
        let (hash_at, hash_end) = hash_placeholder(&mut m, p.hash.output_len());
        let mark = m.begin(PayloadType::Sa);
        {
            let w = m.body();
            SaRepr::emit_ipsec_header(w);
            let n = ic.esp_proposals.len();
            let at = ProposalRepr::begin(
                w,
                true,
                1,
                ProtocolId::Esp,
                &spi.to_be_bytes(),
                u8::try_from(n).unwrap_or(u8::MAX),
            );
            for (k, prop) in ic.esp_proposals.iter().enumerate() {
                let number = u8::try_from(k + 1).unwrap_or(u8::MAX);
                emit_esp_transform(w, k + 1 == n, number, prop, mode, ic.pfs, ic.esp_lifetime);
            }
            ProposalRepr::end(w, at);
        }
        m.end(mark);
        m.payload(PayloadType::Nonce, &ni);
        if gxi_len > 0 {
            m.payload(PayloadType::KeyExchange, &gxi[..gxi_len]);
        }
        m.payload(PayloadType::Identification, qd.idci.as_slice());
        m.payload(PayloadType::Identification, qd.idcr.as_slice());
        if is_udp(mode) {
            let t = nat_oa_type(sa);
            for addr in [sa.local.ip(), sa.remote.ip()] {
                let mark = m.begin(t);
                NatOaRepr { address: addr }.emit(m.body());
                m.end(mark);
            }
        }
        let len = m.finish().map_err(|_| Error::MessageTooLarge)?;
        let buf = ex.tx.storage_mut();
        let h = hash_1(p.hash, keys.skeyid_a.as_slice(), mid, &buf[hash_end..len]);
        buf[hash_at..hash_end].copy_from_slice(h.as_slice());
        let mut iv = phase2_iv(
            p.hash,
            keys.last_block.as_slice(),
            mid,
            p.cipher.block_len(),
        );
        let total = encrypt(p.cipher, keys.ka.as_slice(), &mut iv, buf, len)?;
        ex.tx.set_len(total);
        ex.iv = iv;
        ex.state = ExState::QmI1;
        Ok(())
    }

    /// Initiator: message 2 -> message 3; the IPsec SAs are negotiated.
    fn qm_i2(
        &mut self,
        sa: &mut IkeSa,
        ex: &mut Exchange,
        now: Duration,
        hdr: &HeaderRepr,
        msg: &mut [u8],
    ) -> Result<Option<ChildSa>, StepError> {
        let _ = now;
        let p = sa.params.ok_or(Error::UnexpectedMessage)?;
        let keys = sa.keys.as_ref().ok_or(Error::UnexpectedMessage)?;
        let mid = ex.message_id;
        let next_iv = decrypt(p.cipher, keys.ka.as_slice(), &ex.iv, msg)?;
        let body = Self::body_of(msg);
        let parsed = Parsed::new(hdr.next_payload, body)?;
        let first = parsed
            .items
            .first()
            .filter(|h| h.kind == PayloadType::Hash)
            .ok_or(Error::MissingPayload)?;
        let rest = body.get(first.end()..parsed.end).unwrap_or(&[]);
        let ic = self.config.quick_mode_offer();
        let ExData::Quick(qd) = &mut ex.data else {
            return Err(Error::UnexpectedMessage.into());
        };
        if !hash_2(
            p.hash,
            keys.skeyid_a.as_slice(),
            mid,
            qd.ni.as_slice(),
            rest,
        )
        .ct_eq(first.body)
        {
            return Err(Error::IntegrityCheckFailed.into());
        }
        let mut qp = qd.params.ok_or(Error::UnexpectedMessage)?;
        let no_proposal = || {
            StepError::Fail(
                FailReason::NoProposalChosen(crate::policy::Rejection::NoProposalChosen),
                Error::NoProposalChosen(crate::policy::Rejection::NoProposalChosen),
                None,
            )
        };
        let sa_payload = parsed.get(PayloadType::Sa).ok_or(Error::MissingPayload)?;
        let sa_repr = SaRepr::parse(sa_payload.body)?;
        let Some(prop) = sa_repr
            .proposals
            .clone()
            .flatten()
            .find(|q| q.protocol == ProtocolId::Esp)
        else {
            return Err(no_proposal());
        };
        let Ok(spi_out) = <[u8; 4]>::try_from(prop.spi) else {
            return Err(no_proposal());
        };
        let Some(offer) = prop
            .transforms
            .clone()
            .flatten()
            .next()
            .and_then(|t| parse_esp_transform(&t))
        else {
            return Err(no_proposal());
        };
        let ours = ic
            .esp_proposals
            .iter()
            .any(|q| q.encryption == offer.encryption && q.integrity == offer.integrity);
        if !ours || offer.encapsulation != qp.encapsulation || offer.group != qp.pfs {
            return Err(no_proposal());
        }
        let nr = parsed
            .get(PayloadType::Nonce)
            .ok_or(Error::MissingPayload)?;
        if !(8..=MAX_NONCE).contains(&nr.body.len()) {
            return Err(Error::Wire(WireError::Malformed).into());
        }
        let mut gxy = None;
        if qp.pfs.is_some() {
            let bad = || {
                StepError::Fail(
                    FailReason::InvalidKeyInformation,
                    Error::InvalidKeyInformation,
                    None,
                )
            };
            let ke = parsed.get(PayloadType::KeyExchange).ok_or_else(bad)?;
            let dh = qd.dh.take().ok_or_else(bad)?;
            gxy = Some(dh.shared_secret(ke.body).map_err(|_| bad())?);
        }
        let ids = parsed.all(PayloadType::Identification).count();
        if ids != 0 && ids != 2 {
            return Err(StepError::Fail(
                FailReason::InvalidIdInformation,
                Error::InvalidIdInformation,
                None,
            ));
        }
        let mut oas = parsed
            .nat_oa()
            .filter_map(|p| NatOaRepr::parse(p.body).ok());
        qd.nat_oa_i = oas.next().map(|o| o.address);
        qd.nat_oa_r = oas.next().map(|o| o.address);
        for n in parsed.all(PayloadType::Notification) {
            if let Ok(n) = NotifyRepr::parse(n.body)
                && n.notify_type == NotifyType::ResponderLifetime
            {
                responder_lifetime(n.data, &mut qp.lifetime);
            }
        }
        if let Some(s) = offer
            .lifetime_seconds
            .filter(|&s| qp.lifetime.seconds == 0 || s < qp.lifetime.seconds)
        {
            qp.lifetime.seconds = s;
        }
        if let Some(k) = offer
            .lifetime_kilobytes
            .filter(|&k| qp.lifetime.kilobytes == 0 || k < qp.lifetime.kilobytes)
        {
            qp.lifetime.kilobytes = k;
        }
        qp.encryption = offer.encryption;
        qp.integrity = offer.integrity;
        qd.params = Some(qp);
        qd.nr.set(nr.body);
        qd.spi_out = u32::from_be_bytes(spi_out);
        let spi_in = qd.spi_in.ok_or(Error::UnexpectedMessage)?;
        let total = qp.encryption.key_len() + qp.integrity.key_len();
        let g = gxy.as_ref().map(Secret::as_slice);
        qd.keymat_in = keymat(
            p.hash,
            keys.skeyid_d.as_slice(),
            g,
            3,
            &spi_in.to_be_bytes(),
            qd.ni.as_slice(),
            nr.body,
            total,
        );
        qd.keymat_out = keymat(
            p.hash,
            keys.skeyid_d.as_slice(),
            g,
            3,
            &spi_out,
            qd.ni.as_slice(),
            nr.body,
            total,
        );
        drop(gxy);
        let h3 = hash_3(
            p.hash,
            keys.skeyid_a.as_slice(),
            mid,
            qd.ni.as_slice(),
            nr.body,
        );
        let hdr3 = Self::header(sa, ExchangeType::QuickMode, true, mid);
        let mut m = MessageWriter::new(ex.tx.storage_mut(), &hdr3);
        m.payload(PayloadType::Hash, h3.as_slice());
        let len = m.finish().map_err(|_| Error::MessageTooLarge)?;
        ex.iv = next_iv;
        let total = encrypt(
            p.cipher,
            keys.ka.as_slice(),
            &mut ex.iv,
            ex.tx.storage_mut(),
            len,
        )?;
        ex.tx.set_len(total);
        ex.state = ExState::QmIDone;
        Ok(Some(self.child_of(sa, ex, Role::Initiator)?))
    }
}
