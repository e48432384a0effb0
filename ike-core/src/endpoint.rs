//! The sans-IO endpoint: the SA table, the exchange pool, the queues, and
//! the handlers, commands and polls the caller drives.

use crate::buf::Buf;
use crate::cert::WallClock;
use crate::config::Config;
use crate::event::{
    Counters, DeleteReason, Error, Event, FailReason, PeerId, Role, SaHandle, SaInfo, SpiRequest,
};
use crate::fragment::{
    Added, FragmentRepr, LARGE_MESSAGES, LargeSlot, MAX_LARGE_MESSAGE, REASSEMBLY_SLOTS,
    Reassembly, fragment_count, write_fragment,
};
use crate::message::digest;
use crate::state::{ExSlot, ExState, Exchange, IkeSa, P1State, SaSlot, SaTimer};
use crate::wire::{
    BufferTooSmall, DOI_IPSEC, ExchangeType, Flags, HEADER_LEN, Header, HeaderRepr,
    ISAKMP_MAJOR_VERSION, ISAKMP_MINOR_VERSION, MessageWriter, NAT_KEEPALIVE, NON_ESP_MARKER,
    NotifyRepr, NotifyType, PayloadType, ProtocolId, WireError,
};
use core::net::SocketAddr;
use core::time::Duration;
use rand_core::CryptoRng;
use zero_none::{MaybeTime, ZeroNone};

/// Events held until polled.
const EVENT_QUEUE: usize = 16;
/// Datagrams held until polled.
const TX_QUEUE: usize = 16;
/// Largest one-off message (Notify, Delete, DPD answer, keepalive).
pub(crate) const ONESHOT_LEN: usize = 192;
/// Unprotected Notifies sent per second at most (they answer
/// unauthenticated input, so they must not become an amplifier).
const CLEAR_NOTIFY_PER_SECOND: u8 = 10;

/// A datagram to send, from [`Endpoint::poll_transmit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Transmit {
    /// Where to send it.
    pub remote: SocketAddr,
    /// Which local address and port to send it from.
    pub local: SocketAddr,
    /// Length of the UDP payload written into the caller's buffer.
    pub len: usize,
    /// Whether the payload starts with the four-octet non-ESP marker
    /// (RFC 3948 §2.2). The marker is already in the buffer: the payload is
    /// the whole UDP payload. It is present on every IKE message sent from
    /// the NAT-T port and absent on NAT-keepalives.
    pub non_esp_marker: bool,
}

// No allocator: a queued one-off message is stored inline.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum TxItem {
    /// The last message of an exchange: whole (`fragment` 0) or its
    /// fragment number `fragment`.
    Exchange {
        index: u16,
        generation: u16,
        fragment: u8,
    },
    OneShot {
        remote: SocketAddr,
        local: SocketAddr,
        marker: bool,
        data: Buf<ONESHOT_LEN>,
    },
}

/// An IKEv1 endpoint: responder for any peer of the dynamic map, and
/// initiator towards configured peers.
///
/// `SAS` is the capacity of the ISAKMP SA table, `EXCHANGES` the number of
/// negotiations (Main Mode or Quick Mode) that can run at once; each
/// exchange slot holds the Diffie-Hellman values, nonces and last message
/// of one negotiation (about 3.5 KiB), each SA slot the long-lived state
/// (see `docs/PERFORMANCE.md` for the sizes).
///
/// # Methods
///
/// * handlers: [`handle_datagram`](Self::handle_datagram),
///   [`handle_timeout`](Self::handle_timeout);
/// * commands: [`connect`](Self::connect),
///   [`request_child_sa`](Self::request_child_sa),
///   [`provide_spi`](Self::provide_spi),
///   [`delete_child_sa`](Self::delete_child_sa),
///   [`delete_sa`](Self::delete_sa), [`set_config`](Self::set_config);
/// * polls, in this order after every handler or command:
///   [`poll_transmit`](Self::poll_transmit) until `None`,
///   [`poll_event`](Self::poll_event) until `None`, then
///   [`poll_timeout`](Self::poll_timeout);
/// * getters: [`sa_info`](Self::sa_info), [`sa_handles`](Self::sa_handles),
///   [`counters`](Self::counters), [`config`](Self::config).
#[derive(Debug)]
pub struct Endpoint<const SAS: usize, const EXCHANGES: usize> {
    pub(crate) config: Config,
    pub(crate) sas: [SaSlot; SAS],
    pub(crate) exchanges: [ExSlot; EXCHANGES],
    pub(crate) tx: heapless::Deque<TxItem, TX_QUEUE>,
    pub(crate) events: heapless::Deque<Event, EVENT_QUEUE>,
    pub(crate) counters: Counters,
    next_timeout: MaybeTime,
    clear_notify_window: (Duration, u8),
    pub(crate) large: [LargeSlot; LARGE_MESSAGES],
    reassembly: [Reassembly; REASSEMBLY_SLOTS],
    pub(crate) wall_clock: ZeroNone<WallClock>,
}

impl<const SAS: usize, const EXCHANGES: usize> Endpoint<SAS, EXCHANGES> {
    /// An endpoint with no SAs. `const`, so that a port can keep the
    /// endpoint (or a gateway around it) in a `static` built at compile
    /// time rather than moving it through the stack.
    pub const fn new(config: Config) -> Self {
        Self {
            config,
            sas: [const { SaSlot::EMPTY }; SAS],
            exchanges: [const { ExSlot::EMPTY }; EXCHANGES],
            tx: heapless::Deque::new(),
            events: heapless::Deque::new(),
            counters: Counters::ZERO,
            next_timeout: MaybeTime::NONE,
            clear_notify_window: (Duration::ZERO, 0),
            large: [const { LargeSlot::EMPTY }; LARGE_MESSAGES],
            reassembly: [const { Reassembly::EMPTY }; REASSEMBLY_SLOTS],
            wall_clock: ZeroNone::NONE,
        }
    }

    /// An endpoint with no SAs and a configuration that serves nobody, all
    /// zero bytes: a port's `static` holding it (inside a gateway) goes to
    /// `.bss` and costs no flash. [`reset`](Self::reset) gives it its
    /// configuration.
    pub const fn new_empty() -> Self {
        Self::new(Config::EMPTY)
    }

    /// Back to [`new`](Self::new)`(config)`, in place: every SA, exchange,
    /// queue and counter is cleared slot by slot, so that an endpoint kept
    /// in a `static` is never moved through the stack as a whole.
    /// Established SAs are forgotten without a Delete.
    pub fn reset(&mut self, config: Config) {
        // Exhaustive, so that a new field cannot be forgotten here.
        let Self {
            config: c,
            sas,
            exchanges,
            tx,
            events,
            counters,
            next_timeout,
            clear_notify_window,
            large,
            reassembly,
            wall_clock,
        } = self;
        *c = config;
        for s in sas.iter_mut() {
            *s = SaSlot::EMPTY;
        }
        for x in exchanges.iter_mut() {
            *x = ExSlot::EMPTY;
        }
        tx.clear();
        events.clear();
        *counters = Counters::ZERO;
        *next_timeout = MaybeTime::NONE;
        *clear_notify_window = (Duration::ZERO, 0);
        for l in large.iter_mut() {
            *l = LargeSlot::EMPTY;
        }
        for r in reassembly.iter_mut() {
            *r = Reassembly::EMPTY;
        }
        *wall_clock = ZeroNone::NONE;
    }

    /// Tells the endpoint the wall-clock time, for certificate validity
    /// (RFC 5280 §6.1.3): `unix_seconds` since 1970-01-01T00:00:00Z is the
    /// time at `now`; later times follow the monotonic clock. Without it,
    /// and unless the credentials say
    /// [`ValidityCheck::NoClock`](crate::cert::ValidityCheck::NoClock),
    /// every certificate is refused.
    pub fn set_wall_clock(&mut self, now: Duration, unix_seconds: u64) {
        self.wall_clock = ZeroNone::some(WallClock {
            at: now,
            unix: unix_seconds,
        });
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Replaces the configuration. Running negotiations and established SAs
    /// keep what they negotiated; the new policy applies to the next one.
    pub fn set_config(&mut self, config: Config) {
        self.config = config;
        self.update_timeout();
    }

    /// Endpoint-wide counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Handles of every ISAKMP SA in the table (half-open ones included).
    pub fn sa_handles(&self) -> impl Iterator<Item = SaHandle> + '_ {
        self.sas.iter().enumerate().filter_map(|(i, s)| {
            s.sa.as_ref().map(|_| SaHandle {
                index: u16::try_from(i).unwrap_or(u16::MAX),
                generation: s.generation,
            })
        })
    }

    /// Facts about an ISAKMP SA, for the session view.
    pub fn sa_info(&self, sa: SaHandle) -> Option<SaInfo> {
        let i = self.resolve(sa).ok()?;
        self.info(i)
    }

    // ---------------------------------------------------------------
    // Handlers
    // ---------------------------------------------------------------

    /// Handles one received UDP datagram addressed to us.
    ///
    /// `remote` is its source, `local` the address and port it arrived on
    /// (both as seen by this host: NAT detection hashes them, RFC 3947
    /// §3.2). On the NAT-T port the caller has removed the non-ESP marker
    /// ([`crate::wire::strip_non_esp_marker`]; esp-core's classifier does
    /// the same) and routed ESP and NAT-keepalives elsewhere. The datagram
    /// is decrypted in place.
    ///
    /// # Errors
    /// Why the datagram was dropped (or answered with a Notify); the same
    /// goes into the counters and a [`Event::Dropped`]. Nothing else is
    /// disturbed.
    pub fn handle_datagram(
        &mut self,
        now: Duration,
        remote: SocketAddr,
        local: SocketAddr,
        datagram: &mut [u8],
        rng: &mut impl CryptoRng,
    ) -> Result<(), Error> {
        self.counters.rx_datagrams += 1;
        let r = self.dispatch(now, remote, local, datagram, rng, false);
        if let Err(e) = r {
            self.count_error(e);
            debug!("dropped datagram: {:?}", e);
            self.emit(Event::Dropped { remote, error: e });
        }
        self.update_timeout();
        r
    }

    fn count_error(&mut self, e: Error) {
        let c = &mut self.counters;
        match e {
            Error::Wire(_)
            | Error::InvalidPayloadType(_)
            | Error::MissingPayload
            | Error::Decryption
            | Error::MessageTooLarge => c.malformed += 1,
            Error::UnknownSa => c.unknown_sa += 1,
            Error::UnexpectedMessage | Error::UnsupportedExchange(_) | Error::InvalidMessageId => {
                c.unexpected += 1;
            }
            Error::AuthenticationFailed | Error::Certificate(_) | Error::InvalidSignature => {
                c.authentication_failures += 1;
            }
            Error::IntegrityCheckFailed => c.integrity_failures += 1,
            Error::NoProposalChosen(_) => c.no_proposal_chosen += 1,
            Error::HalfOpenLimit => c.half_open_refused += 1,
            Error::TableFull | Error::ExchangesFull => c.table_full += 1,
            _ => {}
        }
    }

    fn dispatch(
        &mut self,
        now: Duration,
        remote: SocketAddr,
        local: SocketAddr,
        datagram: &mut [u8],
        rng: &mut impl CryptoRng,
        reassembled: bool,
    ) -> Result<(), Error> {
        let hdr = {
            let h = Header::new_checked(&*datagram)?;
            match HeaderRepr::parse(&h) {
                Ok(r) => r,
                Err(WireError::InvalidMajorVersion) => {
                    self.send_clear_notify(
                        now,
                        remote,
                        local,
                        h.initiator_cookie(),
                        h.responder_cookie(),
                        NotifyType::InvalidMajorVersion,
                    );
                    return Err(Error::Wire(WireError::InvalidMajorVersion));
                }
                Err(e) => return Err(e.into()),
            }
        };
        let len = usize::try_from(hdr.length).map_err(|_| Error::MessageTooLarge)?;
        let msg = datagram
            .get_mut(..len)
            .ok_or(Error::Wire(WireError::BadLength))?;
        if hdr.next_payload == PayloadType::Fragment && !hdr.flags.encryption() {
            if reassembled {
                return Err(Error::Wire(WireError::Malformed));
            }
            return self.fragment(now, remote, local, &hdr, msg, rng);
        }
        let dig = digest(msg);
        if hdr.initiator_cookie == [0; 8] {
            return Err(Error::UnknownSa);
        }
        if hdr.responder_cookie == [0; 8] {
            return match hdr.exchange_type {
                ExchangeType::IdentityProtection => {
                    self.main_mode_first(now, remote, local, &hdr, msg, dig, rng)
                }
                ExchangeType::Informational => self.clear_informational(now, remote, &hdr, msg),
                other => {
                    self.send_clear_notify(
                        now,
                        remote,
                        local,
                        hdr.initiator_cookie,
                        hdr.responder_cookie,
                        NotifyType::UnsupportedExchangeType,
                    );
                    Err(Error::UnsupportedExchange(other.into()))
                }
            };
        }
        let Some(i) = self.find_sa(&hdr) else {
            self.send_clear_notify(
                now,
                remote,
                local,
                hdr.initiator_cookie,
                hdr.responder_cookie,
                NotifyType::InvalidCookie,
            );
            return Err(Error::UnknownSa);
        };
        let r = match hdr.exchange_type {
            ExchangeType::IdentityProtection => {
                self.main_mode(i, now, remote, local, &hdr, msg, dig, rng)
            }
            ExchangeType::QuickMode => self.quick_mode(i, now, remote, local, &hdr, msg, dig, rng),
            ExchangeType::Informational => {
                if hdr.flags.encryption() {
                    self.informational(i, now, remote, &hdr, msg, rng)
                } else {
                    self.clear_informational(now, remote, &hdr, msg)
                }
            }
            other => {
                self.send_clear_notify(
                    now,
                    remote,
                    local,
                    hdr.initiator_cookie,
                    hdr.responder_cookie,
                    NotifyType::UnsupportedExchangeType,
                );
                Err(Error::UnsupportedExchange(other.into()))
            }
        };
        // RFC 2408 §5.1: an unknown payload type is answered. Only in the
        // clear: an encrypted message is not authenticated before its
        // chain is walked, and nothing unauthenticated gets a protected
        // answer.
        if let Err(Error::InvalidPayloadType(_)) = r
            && !hdr.flags.encryption()
        {
            self.send_clear_notify(
                now,
                remote,
                local,
                hdr.initiator_cookie,
                hdr.responder_cookie,
                NotifyType::InvalidPayloadType,
            );
        }
        r
    }

    /// A fragment (payload 132) of a message for a known SA: stored until
    /// the message is complete, which is then handled as if it had arrived
    /// whole.
    fn fragment(
        &mut self,
        now: Duration,
        remote: SocketAddr,
        local: SocketAddr,
        hdr: &HeaderRepr,
        msg: &[u8],
        rng: &mut impl CryptoRng,
    ) -> Result<(), Error> {
        if !self.config.fragmentation {
            return Err(Error::InvalidPayloadType(PayloadType::Fragment.into()));
        }
        let i = self.find_sa(hdr).ok_or(Error::UnknownSa)?;
        let f = FragmentRepr::parse(msg).ok_or(Error::Wire(WireError::Malformed))?;
        self.counters.fragments_received += 1;
        let key = (
            u16::try_from(i).unwrap_or(u16::MAX),
            self.sas[i].generation,
            f.id,
        );
        let slot = match self.reassembly.iter().position(|r| r.key == Some(key)) {
            Some(k) => k,
            None => {
                // A free slot, or the oldest one (its peer loses that
                // reassembly and retransmits).
                let k = self
                    .reassembly
                    .iter()
                    .position(|r| r.key.is_none())
                    .or_else(|| (0..REASSEMBLY_SLOTS).min_by_key(|&k| self.reassembly[k].started))
                    .unwrap_or(0);
                self.reassembly[k].start(key, now);
                k
            }
        };
        let mut whole = [0u8; MAX_LARGE_MESSAGE];
        match self.reassembly[slot].add(&f, &mut whole) {
            Added::Incomplete => Ok(()),
            Added::Refused => Err(Error::MessageTooLarge),
            Added::Complete(n) => {
                self.counters.messages_reassembled += 1;
                self.dispatch(now, remote, local, &mut whole[..n], rng, true)
            }
        }
    }

    /// Finds the SA a message with both cookies belongs to: our own cookie
    /// carries the slot index (`cookie % SAS`), so this is one lookup and a
    /// comparison, never a scan.
    fn find_sa(&self, hdr: &HeaderRepr) -> Option<usize> {
        let n = SAS as u64;
        if n == 0 {
            return None;
        }
        let r = usize::try_from(u64::from_be_bytes(hdr.responder_cookie) % n).ok()?;
        if let Some(sa) = &self.sas[r].sa
            && sa.role == Role::Responder
            && sa.cky_i == hdr.initiator_cookie
            && sa.cky_r == hdr.responder_cookie
        {
            return Some(r);
        }
        let i = usize::try_from(u64::from_be_bytes(hdr.initiator_cookie) % n).ok()?;
        if let Some(sa) = &self.sas[i].sa
            && sa.role == Role::Initiator
            && sa.cky_i == hdr.initiator_cookie
            && (sa.cky_r == hdr.responder_cookie || (sa.state == P1State::I1 && sa.cky_r == [0; 8]))
        {
            return Some(i);
        }
        None
    }

    /// Handles the expiry of timers: retransmissions, half-open and
    /// lingering exchanges, SA lifetimes, NAT-keepalives. Call it at or
    /// after [`poll_timeout`](Self::poll_timeout); calling it early does
    /// nothing.
    pub fn handle_timeout(&mut self, now: Duration, rng: &mut impl CryptoRng) {
        let ttl = self.config.timers.fragment_timeout;
        for r in &mut self.reassembly {
            if r.key.is_some() && r.started + ttl <= now {
                r.clear();
                self.counters.reassemblies_expired += 1;
            }
        }
        for x in 0..EXCHANGES {
            if !self.room_for_work() {
                // Back-pressure: the rest stays due; poll_timeout says so
                // and the caller comes back after draining the queues.
                break;
            }
            let Some(ex) = &mut self.exchanges[x].ex else {
                continue;
            };
            if ex.retransmit_at.is_some_and(|t| t <= now) {
                if ex.resends < self.config.timers.retransmit_tries {
                    ex.resends += 1;
                    ex.interval = (ex.interval * 2).min(self.config.timers.retransmit_max);
                    ex.retransmit_at = Some(now + ex.interval);
                    self.counters.retransmissions += 1;
                    self.queue_exchange(x);
                } else {
                    self.fail_exchange(x, FailReason::Timeout);
                    continue;
                }
            }
            let Some(ex) = &self.exchanges[x].ex else {
                continue;
            };
            if ex.deadline.is_some_and(|t| t <= now) {
                match ex.state {
                    ExState::MainModeDone | ExState::QmIDone => self.free_exchange(x),
                    ExState::QmIWaitSpi | ExState::QmRWaitSpi => {
                        self.fail_exchange(x, FailReason::SpiNotProvided);
                    }
                    _ => self.fail_exchange(x, FailReason::Timeout),
                }
            }
        }
        for i in 0..SAS {
            if !self.room_for_work() {
                break;
            }
            let Some(sa) = &mut self.sas[i].sa else {
                continue;
            };
            if sa.timers[SaTimer::Expire as usize].is_some_and(|t| t <= now) {
                sa.set_timer(SaTimer::Expire, None);
                self.expire_sa(i, now, rng);
                continue;
            }
            if sa.timers[SaTimer::Rekey as usize].is_some_and(|t| t <= now) {
                sa.set_timer(SaTimer::Rekey, None);
                self.rekey_phase1(i, now, rng);
            }
            self.child_timers(i, now, rng);
            let Some(sa) = &mut self.sas[i].sa else {
                continue;
            };
            if sa.timers[SaTimer::Dpd as usize].is_some_and(|t| t <= now) {
                self.dpd_timer(i, now, rng);
                if self.sas[i].sa.is_none() {
                    continue;
                }
            }
            let Some(sa) = &mut self.sas[i].sa else {
                continue;
            };
            if sa.timers[SaTimer::Keepalive as usize].is_some_and(|t| t <= now) {
                let next = self.config.nat_keepalive.map(|k| now + k);
                sa.set_timer(SaTimer::Keepalive, next);
                let (remote, local) = (sa.remote, sa.local);
                let mut data = Buf::new();
                data.set(&NAT_KEEPALIVE);
                self.queue(TxItem::OneShot {
                    remote,
                    local,
                    marker: false,
                    data,
                });
            }
        }
        self.update_timeout();
    }

    // ---------------------------------------------------------------
    // Polls
    // ---------------------------------------------------------------

    /// Writes the next datagram to send into `buf` and says where it goes.
    ///
    /// # Errors
    /// [`BufferTooSmall`] with the size needed; the datagram stays queued.
    pub fn poll_transmit(
        &mut self,
        now: Duration,
        buf: &mut [u8],
    ) -> Result<Option<Transmit>, BufferTooSmall> {
        let _ = now;
        loop {
            let Some(item) = self.tx.front() else {
                return Ok(None);
            };
            let (remote, local, marker, data) = match item {
                TxItem::Exchange {
                    index,
                    generation,
                    fragment,
                } => {
                    let slot = &self.exchanges[usize::from(*index)];
                    let Some(ex) = slot.ex.as_ref().filter(|_| slot.generation == *generation)
                    else {
                        self.tx.pop_front();
                        continue;
                    };
                    let Some(sa) = self.sas[usize::from(ex.sa)].sa.as_ref() else {
                        self.tx.pop_front();
                        continue;
                    };
                    let marker = sa.local.port() == self.config.nat_t_port;
                    let message = match ex.large {
                        Some(k) => self
                            .large
                            .get(usize::from(k))
                            .map_or(&[][..], |l| l.buf.as_slice()),
                        None => ex.tx.as_slice(),
                    };
                    if *fragment > 0 {
                        let prefix = if marker { NON_ESP_MARKER.len() } else { 0 };
                        let chunk = self.fragment_chunk();
                        let id = *index;
                        let needed =
                            prefix + HEADER_LEN + crate::fragment::FRAGMENT_HEADER_LEN + chunk;
                        let Some(out) = buf.get_mut(prefix..) else {
                            return Err(BufferTooSmall { needed });
                        };
                        let Some(n) = write_fragment(message, chunk, id, *fragment, out) else {
                            if out.len() < needed - prefix {
                                return Err(BufferTooSmall { needed });
                            }
                            self.tx.pop_front();
                            continue;
                        };
                        buf[..prefix].fill(0);
                        let t = Transmit {
                            remote: sa.remote,
                            local: sa.local,
                            len: prefix + n,
                            non_esp_marker: marker,
                        };
                        self.tx.pop_front();
                        self.counters.tx_datagrams += 1;
                        self.counters.fragments_sent += 1;
                        return Ok(Some(t));
                    }
                    (sa.remote, sa.local, marker, message)
                }
                TxItem::OneShot {
                    remote,
                    local,
                    marker,
                    data,
                } => (*remote, *local, *marker, data.as_slice()),
            };
            let prefix = if marker { NON_ESP_MARKER.len() } else { 0 };
            let len = prefix + data.len();
            let Some(out) = buf.get_mut(..len) else {
                return Err(BufferTooSmall { needed: len });
            };
            out[..prefix].fill(0);
            out[prefix..].copy_from_slice(data);
            self.tx.pop_front();
            self.counters.tx_datagrams += 1;
            return Ok(Some(Transmit {
                remote,
                local,
                len,
                non_esp_marker: marker,
            }));
        }
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next
    /// (kept up to date by every handler and command; O(1)).
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.next_timeout.get()
    }

    // ---------------------------------------------------------------
    // Internals shared by the exchanges
    // ---------------------------------------------------------------

    pub(crate) fn update_timeout(&mut self) {
        let mut next: Option<Duration> = None;
        let mut take = |t: Option<Duration>| {
            if let Some(t) = t {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        };
        for s in &self.exchanges {
            if let Some(ex) = &s.ex {
                take(ex.retransmit_at);
                take(ex.deadline);
            }
        }
        let ttl = self.config.timers.fragment_timeout;
        for r in &self.reassembly {
            if r.key.is_some() {
                take(Some(r.started + ttl));
            }
        }
        for s in &self.sas {
            if let Some(sa) = &s.sa {
                for t in sa.timers {
                    take(t);
                }
                for c in &sa.children {
                    take(c.rekey_at);
                    take(c.expire_at);
                }
            }
        }
        self.next_timeout = MaybeTime::new(next);
    }

    /// Whether the transmit and event queues can take the deletion of one
    /// ISAKMP SA and all its IPsec SAs ([`delete_child_sa`] for each, then
    /// [`delete_sa`]: one Informational and one event each) without
    /// dropping anything. A caller that deletes many SAs at once (a
    /// configuration reload, `vpn-sessiondb logoff all`) paces itself by
    /// it, draining [`poll_transmit`] and [`poll_event`] in between.
    ///
    /// [`delete_child_sa`]: Self::delete_child_sa
    /// [`delete_sa`]: Self::delete_sa
    /// [`poll_transmit`]: Self::poll_transmit
    /// [`poll_event`]: Self::poll_event
    pub fn room_for_delete(&self) -> bool {
        let needed = 1 + crate::state::MAX_CHILDREN;
        self.events.capacity() - self.events.len() >= needed
            && self.tx.capacity() - self.tx.len() >= needed
    }

    /// Whether the queues can take the output of one more timer (at most a
    /// few events and datagrams).
    fn room_for_work(&self) -> bool {
        self.events.capacity() - self.events.len() >= 2 + 2 * crate::state::MAX_CHILDREN
            && self.tx.capacity() - self.tx.len() >= 3
    }

    /// The lifetime timers of SA `i`'s IPsec SA pairs: start the rekey of
    /// the ones we negotiated at 90 %, delete the ones past their lifetime
    /// or past the overlap after their replacement.
    fn child_timers(&mut self, i: usize, now: Duration, rng: &mut impl CryptoRng) {
        let handle = self.handle_of(i);
        let mut k = 0;
        loop {
            let Some(c) = self.sas[i]
                .sa
                .as_ref()
                .and_then(|s| s.children.get(k))
                .copied()
            else {
                return;
            };
            if c.expire_at.is_some_and(|t| t <= now) {
                if let Some(sa) = self.sas[i].sa.as_mut() {
                    sa.children.remove(k);
                }
                let _ = self.delete_child_spi(i, c.spi_in, rng);
                self.emit(Event::ChildSaDeleted {
                    sa: handle,
                    spi_in: c.spi_in,
                    spi_out: c.spi_out,
                    reason: if c.replaced {
                        DeleteReason::Rekeyed
                    } else {
                        DeleteReason::Expired
                    },
                });
                continue;
            }
            if c.rekey_at.is_some_and(|t| t <= now) {
                // Retried every minute until a replacement completes.
                if let Some(r) = self.sas[i].sa.as_mut().and_then(|s| s.children.get_mut(k)) {
                    r.rekey_at = Some(now + Duration::from_secs(60));
                }
                if !self.rekey_running(i, c.spi_in) {
                    let _ = self.rekey_child_sa(now, handle, c.spi_in, rng);
                }
            }
            k += 1;
        }
    }

    /// The peer of SA `i` was heard (an authenticated message, or traffic
    /// the caller reported): DPD starts counting its silence again
    /// (RFC 3706 §5.5). A DPD timer in its retry phase is pushed back to
    /// the threshold.
    pub(crate) fn peer_heard(&mut self, i: usize, now: Duration) {
        let threshold = self.config.dpd_keepalive.map(|t| t.threshold);
        let Some(sa) = self.sas[i].sa.as_mut() else {
            return;
        };
        sa.last_heard = sa.last_heard.max(now);
        if sa.dpd_outstanding > 0 {
            sa.dpd_outstanding = 0;
            if let Some(t) = threshold {
                sa.set_timer(SaTimer::Dpd, Some(now + t));
            }
        }
    }

    pub(crate) fn emit(&mut self, e: Event) {
        if self.events.push_back(e).is_err() {
            self.counters.events_lost += 1;
        }
    }

    pub(crate) fn queue(&mut self, item: TxItem) {
        if self.tx.push_back(item).is_err() {
            self.counters.transmits_lost += 1;
        }
    }

    /// Data bytes per fragment.
    fn fragment_chunk(&self) -> usize {
        self.config
            .fragment_size
            .saturating_sub(HEADER_LEN + crate::fragment::FRAGMENT_HEADER_LEN)
            .max(64)
    }

    /// Queues the last message of exchange `x`: whole, or in fragments
    /// when it is longer than `fragment_size` and the peer announced
    /// fragmentation.
    pub(crate) fn queue_exchange(&mut self, x: usize) {
        let generation = self.exchanges[x].generation;
        let index = u16::try_from(x).unwrap_or(u16::MAX);
        let mut fragments = 0;
        if let Some(ex) = self.exchanges[x].ex.as_ref() {
            let len = match ex.large {
                Some(k) => self
                    .large
                    .get(usize::from(k))
                    .map_or(0, |l| l.buf.as_slice().len()),
                None => ex.tx.as_slice().len(),
            };
            let peer = self.sas[usize::from(ex.sa)]
                .sa
                .as_ref()
                .is_some_and(|s| s.peer_fragmentation);
            if peer && self.config.fragmentation && len > self.config.fragment_size {
                fragments =
                    fragment_count(len, self.fragment_chunk()).min(crate::fragment::MAX_FRAGMENTS);
            }
        }
        if fragments == 0 {
            self.queue(TxItem::Exchange {
                index,
                generation,
                fragment: 0,
            });
        }
        for n in 1..=fragments {
            self.queue(TxItem::Exchange {
                index,
                generation,
                fragment: u8::try_from(n).unwrap_or(u8::MAX),
            });
        }
    }

    /// A large-message slot for exchange `ex`, reusing the one it has.
    pub(crate) fn large_slot(&mut self, ex: &mut Exchange) -> Option<usize> {
        if let Some(k) = ex.large {
            return Some(usize::from(k));
        }
        let k = self.large.iter().position(|l| !l.used)?;
        self.large[k].used = true;
        ex.large = u8::try_from(k).ok();
        Some(k)
    }

    pub(crate) fn handle_of(&self, i: usize) -> SaHandle {
        SaHandle {
            index: u16::try_from(i).unwrap_or(u16::MAX),
            generation: self.sas[i].generation,
        }
    }

    pub(crate) fn resolve(&self, h: SaHandle) -> Result<usize, Error> {
        let i = usize::from(h.index);
        match self.sas.get(i) {
            Some(s) if s.generation == h.generation && s.sa.is_some() => Ok(i),
            _ => Err(Error::InvalidHandle),
        }
    }

    pub(crate) fn resolve_request(&self, r: SpiRequest) -> Result<usize, Error> {
        let x = usize::from(r.exchange);
        match self.exchanges.get(x) {
            Some(s) if s.generation == r.generation && s.ex.is_some() => Ok(x),
            _ => Err(Error::InvalidHandle),
        }
    }

    pub(crate) fn request_of(&self, x: usize) -> SpiRequest {
        SpiRequest {
            exchange: u16::try_from(x).unwrap_or(u16::MAX),
            generation: self.exchanges[x].generation,
        }
    }

    pub(crate) fn free_sa_slot(&self) -> Option<usize> {
        self.sas.iter().position(|s| s.sa.is_none())
    }

    pub(crate) fn free_exchange_slot(&self) -> Option<usize> {
        self.exchanges.iter().position(|s| s.ex.is_none())
    }

    /// Frees an exchange slot (zeroizing its secrets on drop).
    pub(crate) fn free_exchange(&mut self, x: usize) {
        if let Some(ex) = self.exchanges[x].ex.take() {
            if let Some(l) = ex.large.and_then(|k| self.large.get_mut(usize::from(k))) {
                l.used = false;
                l.buf.set_len(0);
            }
            let sa = usize::from(ex.sa);
            if let Some(s) = self.sas.get_mut(sa).and_then(|s| s.sa.as_mut())
                && s.phase1_exchange.is_some_and(|(i, _)| usize::from(i) == x)
            {
                s.phase1_exchange = None;
            }
        }
        self.exchanges[x].generation = self.exchanges[x].generation.wrapping_add(1);
    }

    /// Ends a negotiation that failed: a Main Mode takes its SA with it, a
    /// Quick Mode reports the SPI it was given.
    pub(crate) fn fail_exchange(&mut self, x: usize, reason: FailReason) {
        let Some(ex) = self.exchanges[x].ex.as_mut() else {
            return;
        };
        let sa = usize::from(ex.sa);
        match ex.state {
            ExState::MainMode => {
                self.free_exchange(x);
                self.fail_phase1(sa, reason);
            }
            ExState::MainModeDone | ExState::QmIDone => self.free_exchange(x),
            _ => {
                let spi_in = ex.quick().and_then(|q| q.spi_in);
                let handle = self.handle_of(sa);
                self.free_exchange(x);
                self.emit(Event::ChildSaFailed {
                    sa: handle,
                    spi_in,
                    reason,
                });
            }
        }
    }

    /// A phase 1 negotiation failed: report and remove the SA.
    pub(crate) fn fail_phase1(&mut self, i: usize, reason: FailReason) {
        let Some(sa) = self.sas[i].sa.as_ref() else {
            return;
        };
        let remote = sa.remote;
        let handle = self.handle_of(i);
        warn!("phase 1 failed: {:?}", reason);
        self.emit(Event::Phase1Failed {
            sa: handle,
            remote,
            reason,
        });
        self.remove_sa(i);
    }

    /// Removes an SA and every exchange running on it.
    pub(crate) fn remove_sa(&mut self, i: usize) {
        for x in 0..EXCHANGES {
            if let Some(ex) = &self.exchanges[x].ex
                && usize::from(ex.sa) == i
                && ex.sa_generation == self.sas[i].generation
            {
                match ex.state {
                    ExState::QmIWaitSpi | ExState::QmI1 | ExState::QmRWaitSpi | ExState::QmR1 => {
                        self.fail_exchange(x, FailReason::IkeSaGone);
                    }
                    _ => self.free_exchange(x),
                }
            }
        }
        self.sas[i].sa = None;
        self.sas[i].generation = self.sas[i].generation.wrapping_add(1);
    }

    /// Removes an established SA with its IPsec SAs, reporting both.
    pub(crate) fn delete_sa_with_children(&mut self, i: usize, reason: DeleteReason) {
        let Some(sa) = self.sas[i].sa.as_ref() else {
            return;
        };
        let handle = self.handle_of(i);
        let remote = sa.remote;
        let children = sa.children.clone();
        for c in children {
            self.emit(Event::ChildSaDeleted {
                sa: handle,
                spi_in: c.spi_in,
                spi_out: c.spi_out,
                reason,
            });
        }
        self.emit(Event::Phase1Deleted {
            sa: handle,
            remote,
            reason,
        });
        self.remove_sa(i);
    }

    /// A fresh cookie for slot `slot`: random, with `cookie % SAS == slot`,
    /// never zero (RFC 2408 §2.5.3 asks for unpredictable cookies).
    pub(crate) fn new_cookie(rng: &mut impl CryptoRng, slot: usize) -> [u8; 8] {
        let n = SAS as u64;
        let slot = slot as u64;
        for _ in 0..8 {
            let r = rng.next_u64();
            let c = (r / n) * n + slot;
            if c != 0 {
                return c.to_be_bytes();
            }
        }
        (n + slot).to_be_bytes()
    }

    /// A fresh non-zero message ID not used recently on this SA.
    pub(crate) fn new_message_id(&self, i: usize, rng: &mut impl CryptoRng) -> u32 {
        let sa = self.sas[i].sa.as_ref();
        loop {
            let m = rng.next_u32();
            let busy = self.exchanges.iter().any(|s| {
                s.ex.as_ref()
                    .is_some_and(|e| usize::from(e.sa) == i && e.message_id == m)
            });
            if m != 0 && !busy && !sa.is_some_and(|s| s.mid_seen(m)) {
                return m;
            }
        }
    }

    /// Sends an unprotected Informational Notify (RFC 2408 §4.8), at most
    /// [`CLEAR_NOTIFY_PER_SECOND`] per second: it answers input nobody has
    /// authenticated.
    pub(crate) fn send_clear_notify(
        &mut self,
        now: Duration,
        remote: SocketAddr,
        local: SocketAddr,
        cky_i: [u8; 8],
        cky_r: [u8; 8],
        notify_type: NotifyType,
    ) {
        let (start, count) = self.clear_notify_window;
        if now >= start + Duration::from_secs(1) {
            self.clear_notify_window = (now, 1);
        } else if count >= CLEAR_NOTIFY_PER_SECOND {
            return;
        } else {
            self.clear_notify_window.1 += 1;
        }
        let hdr = HeaderRepr {
            initiator_cookie: cky_i,
            responder_cookie: cky_r,
            next_payload: PayloadType::None,
            major_version: ISAKMP_MAJOR_VERSION,
            minor_version: ISAKMP_MINOR_VERSION,
            exchange_type: ExchangeType::Informational,
            flags: Flags::empty(),
            message_id: 0,
            length: 0,
        };
        let mut spi = [0u8; 16];
        spi[..8].copy_from_slice(&cky_i);
        spi[8..].copy_from_slice(&cky_r);
        let mut data: Buf<ONESHOT_LEN> = Buf::new();
        let mut m = MessageWriter::new(data.storage_mut(), &hdr);
        let mark = m.begin(PayloadType::Notification);
        NotifyRepr {
            doi: DOI_IPSEC,
            protocol: ProtocolId::Isakmp,
            notify_type,
            spi: &spi,
            data: &[],
        }
        .emit(m.body());
        m.end(mark);
        let Ok(len) = m.finish() else {
            return;
        };
        data.set_len(len);
        self.counters.notifies_sent += 1;
        let marker = local.port() == self.config.nat_t_port;
        self.queue(TxItem::OneShot {
            remote,
            local,
            marker,
            data,
        });
    }

    pub(crate) fn info(&self, i: usize) -> Option<SaInfo> {
        let sa = self.sas[i].sa.as_ref()?;
        let p = sa.params?;
        Some(SaInfo {
            role: sa.role,
            remote: sa.remote,
            local: sa.local,
            mode: crate::event::NegotiationMode::Main,
            cipher: p.cipher,
            hash: p.hash,
            authentication: p.authentication,
            group: p.group,
            lifetime_seconds: p.lifetime_seconds,
            established_at: sa.established_at,
            expires_at: sa.timers[SaTimer::Expire as usize],
            nat_t: sa.nat_t,
            remote_behind_nat: sa.remote_behind_nat,
            local_behind_nat: sa.local_behind_nat,
            peer_dpd: sa.peer_dpd,
            peer_fragmentation: sa.peer_fragmentation,
            peer_ms_nt5: sa.peer_ms_nt5,
            peer_id: sa.peer_id.clone(),
            child_sas: sa.children.len(),
            replaces: sa
                .rekey_of
                .map(|(index, generation)| SaHandle { index, generation }),
        })
    }

    /// Deletes every other established SA of the same peer (address and
    /// identity): INITIAL-CONTACT (RFC 2407 §4.6.3.3).
    pub(crate) fn initial_contact(&mut self, keep: usize) {
        let Some(sa) = self.sas[keep].sa.as_ref() else {
            return;
        };
        let ip = sa.remote.ip();
        let id: Option<PeerId> = sa.peer_id.clone();
        for j in 0..SAS {
            if j == keep {
                continue;
            }
            let same = self.sas[j]
                .sa
                .as_ref()
                .is_some_and(|o| o.established() && o.remote.ip() == ip && o.peer_id == id);
            if same {
                self.delete_sa_with_children(j, DeleteReason::InitialContact);
            }
        }
    }

    pub(crate) fn take_exchange(&mut self, x: usize) -> Option<Exchange> {
        self.exchanges[x].ex.take()
    }

    pub(crate) fn put_exchange(&mut self, x: usize, ex: Exchange) {
        self.exchanges[x].ex = Some(ex);
    }

    pub(crate) fn header(
        sa: &IkeSa,
        exchange_type: ExchangeType,
        encrypted: bool,
        mid: u32,
    ) -> HeaderRepr {
        HeaderRepr {
            initiator_cookie: sa.cky_i,
            responder_cookie: sa.cky_r,
            next_payload: PayloadType::None,
            major_version: ISAKMP_MAJOR_VERSION,
            minor_version: ISAKMP_MINOR_VERSION,
            exchange_type,
            flags: if encrypted {
                Flags(Flags::ENCRYPTION)
            } else {
                Flags::empty()
            },
            message_id: mid,
            length: 0,
        }
    }

    /// Starts the retransmission timer of an exchange that waits for an
    /// answer.
    pub(crate) fn arm_retransmit(&self, ex: &mut Exchange, now: Duration) {
        ex.resends = 0;
        ex.interval = self.config.timers.retransmit_initial;
        ex.retransmit_at = Some(now + ex.interval);
    }

    pub(crate) fn body_of(msg: &[u8]) -> &[u8] {
        msg.get(HEADER_LEN..).unwrap_or(&[])
    }
}
