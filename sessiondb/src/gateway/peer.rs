//! One remote client: the IKE SA, the IPsec SA pairs, the L2TP tunnel and
//! call, the PPP link and the session record that belong together, and the
//! teardown that unwinds them in order.

use super::{
    DRAIN, Event, Gateway, PACE, PeerId, SETUP_TIMEOUT, STOP_PATIENCE, TICK, TerminateCause,
    convert,
};
use crate::config::Name;
use crate::debug::DebugClass;
use crate::session::{
    Counters as SessionCounters, Encapsulation as ViewEncapsulation, Idle, IkeAuthMode,
    IkeSubSession, IpsecSubSession, L2tpSubSession, NegotiationMode, Protocol, Selector, TimeRekey,
};
use core::net::{Ipv4Addr, SocketAddrV4};
use core::time::Duration;
use zero_none::MaybeTime;

/// One negotiated IPsec SA pair (both directions). Its algorithms and
/// lifetimes are the ESP SAs' own (`esp_core::Sa` getters).
#[derive(Debug, Clone, Copy)]
pub(super) struct Child {
    pub spi_in: u32,
    pub spi_out: u32,
    pub inbound: esp_core::Handle,
    pub outbound: esp_core::Handle,
    pub installed_at: Duration,
}

/// What the session view shows of an SA pair.
struct PairView {
    encryption: esp_core::Encryption,
    integrity: esp_core::Integrity,
    lifetime: esp_core::Lifetime,
}

/// Whole seconds of the port's clock, rounded up: the slot keeps its
/// timestamps and timeouts in 4 bytes instead of a `Duration`'s 16, and
/// rounding up means a timeout never fires early (at most one tick late).
pub(super) fn stamp(d: Duration) -> u32 {
    let s = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    u32::try_from(s).unwrap_or(u32::MAX)
}

/// A [`stamp`] back as a `Duration`.
pub(super) fn unstamp(s: u32) -> Duration {
    Duration::from_secs(u64::from(s))
}

/// Where the client is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// IKE and Quick Mode; no L2TP yet.
    Ipsec,
    /// L2TP tunnel and call, PPP negotiation and authentication.
    Connecting,
    /// IPCP Opened: IPv4 flows.
    Up,
    /// Ending: wire messages are draining until `until`, then the SAs go.
    Closing {
        /// A [`stamp`].
        until: u32,
    },
}

/// A login that RADIUS is deciding, from the first Access-Request to the
/// Accept, Reject or timeout (for EAP, across every Access-Challenge).
/// Kept apart from [`Peer`] in a table of `R` entries, one per request the
/// RADIUS clients can have in flight: only logins in progress need it.
pub(super) struct Login {
    pub peer: PeerId,
    /// Who the credentials name (without a Windows domain).
    pub user: Name,
    /// The tunnel group the name selected.
    pub tunnel_group: Name,
    pub method: ppp_core::AuthMethod,
    /// The Access-Request in flight: (RADIUS group, request).
    pub request: Option<(u8, radius_core::RequestId)>,
    /// The credentials, for `authentication-server-group G LOCAL` when no
    /// server answers.
    pub fallback: Option<super::ppp::OwnedCredentials>,
    /// The State of the last Access-Challenge (RFC 2865 §5.24: up to 253
    /// octets), sent back with the next EAP Response.
    pub eap_state: heapless::Vec<u8, 253>,
    /// The Access-Challenge whose EAP Request the client must answer, kept
    /// in the RADIUS client until the answer comes (for retransmission).
    pub eap_reply: Option<(u8, radius_core::RequestId)>,
    /// Makes an empty table slot (`None`) all zero bytes (the `zero-none` crate).
    pub _occupied: zero_none::Occupied,
}

impl Login {
    pub(super) fn new(peer: PeerId, user: Name, tunnel_group: Name) -> Self {
        Self {
            peer,
            user,
            tunnel_group,
            method: ppp_core::AuthMethod::Pap,
            request: None,
            fallback: None,
            eap_state: heapless::Vec::new(),
            eap_reply: None,
            _occupied: zero_none::Occupied::Yes,
        }
    }
}

/// Everything of one remote client.
pub(super) struct Peer {
    pub id: PeerId,
    pub phase: Phase,
    pub remote: SocketAddrV4,
    pub local: SocketAddrV4,
    pub nat: bool,
    pub ike_sa: Option<ike_core::SaHandle>,
    pub children: [Option<Child>; 2],
    pub tunnel: Option<l2tp_core::TunnelHandle>,
    pub call: Option<l2tp_core::SessionHandle>,
    /// The client's inner UDP port (1701, or what its L2TP sends from).
    pub inner_port: u16,
    pub link: Option<ppp_core::Link>,
    pub ppp_queued: bool,
    pub framed_ip: Option<Ipv4Addr>,
    pub address: Option<Ipv4Addr>,
    pub class: heapless::Vec<u8, 64, u8>,
    /// Seconds.
    pub idle_timeout: Option<u32>,
    /// Seconds.
    pub session_timeout: Option<u32>,
    pub accounting: Option<u8>,
    pub acct_session_id: u32,
    pub acct_started: bool,
    /// The Accounting-Stop is still to be sent: the record stays in the
    /// table (it holds the user and the address the Stop reports).
    pub stop_pending: bool,
    /// When the next Interim-Update is due (`interim-accounting-update
    /// periodic`).
    pub interim_at: Option<u32>,
    pub auth_mode: Option<ppp_core::AuthMethod>,
    /// The session record, from authorization on: the user, tunnel group,
    /// group policy and filter live there and nowhere else.
    pub session: Option<crate::session::SessionHandle>,
    /// Set when IPCP opened: the session is up, counted, accounted.
    pub session_index: Option<u32>,
    /// A [`stamp`]: the slot's creation until the session is up, then its
    /// login.
    pub login_at: u32,
    pub cause: Option<TerminateCause>,
    pub keepalive_at: Option<u32>,
    pub keepalive_due: bool,
    /// The last IPv4 packet either way: what `vpn-idle-timeout` measures
    /// (keepalives and control traffic do not count).
    pub last_data: u32,
    /// Frame the EAP Request of the login's last Access-Challenge (again).
    pub eap_resend: bool,
    /// Makes an empty table slot (`None`) all zero bytes (the `zero-none` crate).
    pub _occupied: zero_none::Occupied,
}

impl Peer {
    pub(super) fn new(
        id: PeerId,
        remote: SocketAddrV4,
        local: SocketAddrV4,
        now: Duration,
    ) -> Self {
        Self {
            id,
            phase: Phase::Ipsec,
            remote,
            local,
            nat: local.port() == super::NAT_T_PORT,
            ike_sa: None,
            children: [None, None],
            tunnel: None,
            call: None,
            inner_port: super::inet::L2TP_PORT,
            link: None,
            ppp_queued: false,
            framed_ip: None,
            address: None,
            class: heapless::Vec::new(),
            idle_timeout: None,
            session_timeout: None,
            accounting: None,
            acct_session_id: 0,
            acct_started: false,
            stop_pending: false,
            interim_at: None,
            auth_mode: None,
            session: None,
            session_index: None,
            login_at: stamp(now),
            cause: None,
            keepalive_at: None,
            keepalive_due: false,
            last_data: stamp(now),
            eap_resend: false,
            _occupied: zero_none::Occupied::Yes,
        }
    }

    /// The SA pair in use: the newest.
    pub(super) fn current(&self) -> Option<&Child> {
        self.children
            .iter()
            .flatten()
            .max_by_key(|c| c.installed_at)
    }

    pub(super) fn closing(&self) -> bool {
        matches!(self.phase, Phase::Closing { .. })
    }
}

impl<const N: usize, const IKE: usize, const ESP: usize, const X: usize, const R: usize>
    Gateway<N, IKE, ESP, X, R>
{
    /// A new peer slot for a client that just completed Main Mode.
    pub(super) fn new_peer(
        &mut self,
        now: Duration,
        remote: SocketAddrV4,
        local: SocketAddrV4,
    ) -> Option<usize> {
        let slot = self.peers.iter().position(Option::is_none)?;
        let id = PeerId {
            index: u16::try_from(slot).ok()?,
            generation: self.generations[slot],
        };
        self.peers[slot] = Some(Peer::new(id, remote, local, now));
        self.schedule_tick(now);
        Some(slot)
    }

    /// The slot of a live peer handle.
    pub(super) fn peer_slot(&self, id: PeerId) -> Option<usize> {
        let slot = usize::from(id.index);
        self.peers
            .get(slot)?
            .as_ref()
            .filter(|p| p.id == id)
            .map(|_| slot)
    }

    /// The client an ESP SA belongs to: one array read (`esp_owner` holds
    /// slot + 1 per ESP table slot, 0 for none).
    pub(super) fn slot_of_esp(&self, handle: esp_core::Handle) -> Option<usize> {
        let owner = self.esp_owner.get(usize::from(handle.index())).copied()?;
        usize::from(owner).checked_sub(1)
    }

    pub(super) fn schedule_tick(&mut self, now: Duration) {
        if self.next_tick.get().is_none() {
            self.next_tick = MaybeTime::some(now + TICK);
        }
    }

    /// Queues the peer's link for its output and its events (drained by
    /// `pump`).
    pub(super) fn link_touched(&mut self, slot: usize) {
        let Some(p) = self.peers.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        if p.link.is_some() && !p.ppp_queued {
            p.ppp_queued = true;
            let _ = self
                .ppp_output
                .push_back(u16::try_from(slot).unwrap_or(u16::MAX));
        }
    }

    pub(super) fn map_address(&mut self, address: Ipv4Addr, slot: usize) {
        let key = u32::from(address);
        let Ok(slot) = u16::try_from(slot) else {
            return;
        };
        match self.by_address.binary_search_by_key(&key, |&(a, _)| a) {
            Ok(i) => self.by_address[i].1 = slot,
            Err(i) => {
                let _ = self.by_address.insert(i, (key, slot));
            }
        }
    }

    pub(super) fn unmap_address(&mut self, address: Ipv4Addr) {
        let key = u32::from(address);
        if let Ok(i) = self.by_address.binary_search_by_key(&key, |&(a, _)| a) {
            self.by_address.remove(i);
        }
    }

    /// The peer slot a client address belongs to.
    pub(super) fn slot_of_address(&self, address: Ipv4Addr) -> Option<usize> {
        let key = u32::from(address);
        self.by_address
            .binary_search_by_key(&key, |&(a, _)| a)
            .ok()
            .map(|i| usize::from(self.by_address[i].1))
    }

    /// Starts ending a client's session, from whichever layer noticed: PPP
    /// is told to terminate, L2TP to send CDN and StopCCN, accounting to
    /// stop; the SAs stay for [`DRAIN`] so that those messages still go out
    /// through ESP, then IKE sends its Deletes and everything is freed.
    pub(super) fn teardown(&mut self, now: Duration, slot: usize, cause: TerminateCause) {
        let Some(p) = self.peers.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        if p.closing() {
            return;
        }
        p.cause.get_or_insert(cause);
        p.phase = Phase::Closing {
            until: stamp(now + DRAIN),
        };
        if let Some(link) = p.link.as_mut() {
            link.close(now);
        }
        let (call, tunnel) = (p.call.take(), p.tunnel.take());
        if let Some(call) = call {
            let _ = self
                .l2tp
                .disconnect(call, l2tp_core::Reason::ADMINISTRATIVE);
        }
        if let Some(tunnel) = tunnel {
            let _ = self
                .l2tp
                .close_tunnel(now, tunnel, l2tp_core::Reason::CLEAR);
        }
        self.link_touched(slot);
        self.end_session(now, slot);
        self.schedule_tick(now);
        self.debug(
            DebugClass::Event,
            1,
            format_args!("Tunnel of peer {} closing, cause {:?}", slot, cause),
        );
    }

    /// Accounting Stop, the address back to its pool, the record out of
    /// the table, the `SessionDown` event: what ends with the session
    /// itself, before its SAs are gone.
    pub(super) fn end_session(&mut self, now: Duration, slot: usize) {
        self.refresh_record(now, slot);
        let Some(p) = self.peers.get(slot).and_then(Option::as_ref) else {
            return;
        };
        let cause = p.cause.unwrap_or(TerminateCause::NasRequest);
        let (record, index) = (p.session, p.session_index);
        let stats = record.and_then(|h| self.sessions.get(h)).cloned();
        // Accounting-Stop while the record still has its address; if the
        // RADIUS client is full, the record waits for a later tick.
        let deferred = index.is_some() && !self.send_accounting_stop(now, slot, stats.as_ref());
        let Some(p) = self.peers.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let address = p.address.take();
        let was_pending = p.stop_pending;
        p.session_index = None;
        p.stop_pending = deferred;
        if !deferred {
            p.session = None;
        }
        // A deferred Stop keeps the address out of the pool until it is
        // sent: the server must not see it given to someone else (a Start
        // with the same Framed-IP-Address) before it saw the Stop.
        if let Some(address) = address {
            if !deferred {
                let _ = self.pool.release(address);
            }
            self.unmap_address(address);
        }
        if let Some(h) = record.filter(|_| !deferred) {
            if was_pending {
                self.release_record_address(h);
            }
            let _ = self.sessions.remove(h);
        }
        self.drop_login(slot);
        if let Some(index) = index {
            self.counters.sessions_down += 1;
            self.emit(Event::SessionDown { index, cause });
        }
    }

    /// A deferred Accounting-Stop, tried once a tick after the drain;
    /// returns whether the slot may be freed (sent, or given up after
    /// [`STOP_PATIENCE`]).
    fn retry_accounting_stop(&mut self, now: Duration, slot: usize, until: u32) -> bool {
        let record = self.peers[slot].as_ref().and_then(|p| p.session);
        let stats = record.and_then(|h| self.sessions.get(h)).cloned();
        let sent = self.send_accounting_stop(now, slot, stats.as_ref());
        if !sent && stamp(now) < until.saturating_add(stamp(STOP_PATIENCE)) {
            return false;
        }
        if !sent {
            self.counters.accounting_lost += 1;
        }
        if let Some(p) = self.peers[slot].as_mut() {
            p.stop_pending = false;
            p.session = None;
        }
        if let Some(h) = record {
            self.release_record_address(h);
            let _ = self.sessions.remove(h);
        }
        true
    }

    /// The address a record kept while its Stop waited goes back to its
    /// pool.
    fn release_record_address(&mut self, h: crate::session::SessionHandle) {
        if let Some(address) = self.sessions.get(h).and_then(|r| r.assigned_ip) {
            let _ = self.pool.release(address);
        }
    }

    /// Frees the slot for good: ESP SAs removed, IKE told to delete (its
    /// Informational goes out if the ISAKMP SA lives), generation bumped so
    /// that stale handles are refused.
    pub(super) fn free_peer(
        &mut self,
        now: Duration,
        slot: usize,
        rng: &mut impl rand_core::CryptoRng,
    ) {
        self.end_session(now, slot);
        let Some(p) = self.peers.get_mut(slot).and_then(Option::take) else {
            return;
        };
        for child in p.children.iter().flatten() {
            self.remove_child_sas(child);
            if let Some(sa) = p.ike_sa {
                let _ = self.ike.delete_child_sa(now, sa, child.spi_in, rng);
            }
        }
        if let Some(sa) = p.ike_sa {
            let _ = self.ike.delete_sa(now, sa, rng);
        }
        if let Some(call) = p.call {
            let _ = self
                .l2tp
                .disconnect(call, l2tp_core::Reason::ADMINISTRATIVE);
        }
        if let Some(tunnel) = p.tunnel {
            let _ = self
                .l2tp
                .close_tunnel(now, tunnel, l2tp_core::Reason::CLEAR);
        }
        self.generations[slot] = self.generations[slot].wrapping_add(1);
        self.ppp_output.retain(|&s| usize::from(s) != slot);
    }

    pub(super) fn remove_child_sas(&mut self, child: &Child) {
        for h in [child.inbound, child.outbound] {
            if let Some(owner) = self.esp_owner.get_mut(usize::from(h.index())) {
                *owner = 0;
            }
            let _ = self.esp.remove(h);
        }
    }

    /// Once a second: NAT keepalives, idle and session timeouts, the end of
    /// drains.
    pub(super) fn housekeeping(&mut self, now: Duration, rng: &mut impl rand_core::CryptoRng) {
        self.next_tick = MaybeTime::NONE;
        let keepalive = self
            .config
            .nat_traversal
            .map(|s| Duration::from_secs(u64::from(s.max(10))));
        let mut any = false;
        // Slots whose drain is over but whose IKE Deletes found IKE's queues
        // full (many sessions ended together): freed on a tick soon after,
        // once the port has sent what is queued.
        let mut paced = false;
        for slot in 0..N {
            let Some(p) = self.peers[slot].as_mut() else {
                continue;
            };
            any = true;
            match p.phase {
                Phase::Closing { until } if stamp(now) >= until => {
                    if p.stop_pending && !self.retry_accounting_stop(now, slot, until) {
                        continue;
                    }
                    if !self.ike.room_for_delete() {
                        paced = true;
                        continue;
                    }
                    self.free_peer(now, slot, rng);
                    continue;
                }
                Phase::Closing { .. } => continue,
                _ => {}
            }
            if p.nat
                && let Some(interval) = keepalive
            {
                let at = *p.keepalive_at.get_or_insert(stamp(now + interval));
                if stamp(now) >= at {
                    p.keepalive_due = true;
                    p.keepalive_at = Some(stamp(now + interval));
                }
            }
            let t = stamp(now);
            let up = p.phase == Phase::Up;
            let interim = p.interim_at.is_some_and(|at| up && t >= at);
            let idle = p
                .idle_timeout
                .is_some_and(|limit| up && t.saturating_sub(p.last_data) >= limit);
            let expired = p
                .session_timeout
                .is_some_and(|limit| up && t.saturating_sub(p.login_at) >= limit);
            let start_due = up && p.accounting.is_some() && !p.acct_started;
            // `login_at` is the slot's creation until the session is up.
            let stalled = !up && t.saturating_sub(p.login_at) >= stamp(SETUP_TIMEOUT);
            if interim {
                self.send_accounting_interim(now, slot);
            }
            if start_due {
                self.send_accounting_start(now, slot);
            }
            if stalled {
                self.counters.setup_timeouts += 1;
                self.teardown(now, slot, TerminateCause::NasRequest);
            } else if idle {
                self.teardown(now, slot, TerminateCause::IdleTimeout);
            } else if expired {
                self.teardown(now, slot, TerminateCause::SessionTimeout);
            }
        }
        if any {
            self.next_tick = MaybeTime::some(now + if paced { PACE } else { TICK });
        }
    }

    /// Whether a running session is still allowed after a configuration
    /// change.
    pub(super) fn still_allowed(&self, p: &Peer) -> bool {
        let Some(record) = p.session.and_then(|h| self.sessions.get(h)) else {
            return false;
        };
        let Some(tg) = self.config.tunnel_group(&record.tunnel_group) else {
            return false;
        };
        let user = self.config.user(&record.username);
        let Ok(auth) = crate::policy::authorize(&self.config, tg, user, None, p.framed_ip) else {
            return false;
        };
        match (auth.address, p.address) {
            (crate::policy::AddressSource::Static(a), Some(b)) => a == b,
            (crate::policy::AddressSource::Pools(names), Some(b)) => {
                crate::pool::pools_of(&self.config, names).any(|pool| pool.contains(b))
            }
            _ => true,
        }
    }

    /// Copies one peer's live state into its session record.
    pub(super) fn refresh_record(&mut self, now: Duration, slot: usize) {
        let Some(p) = self.peers.get(slot).and_then(Option::as_ref) else {
            return;
        };
        let Some(handle) = p.session else { return };
        let child = p.current().copied();
        let esp_counters = child.map(|c| {
            let rx = self
                .esp
                .get(c.inbound)
                .map(|sa| *sa.counters())
                .unwrap_or_default();
            let tx = self
                .esp
                .get(c.outbound)
                .map(|sa| *sa.counters())
                .unwrap_or_default();
            (rx, tx)
        });
        let kb_left = child.and_then(|c| {
            self.esp
                .get(c.outbound)
                .and_then(esp_core::Sa::kilobytes_left)
        });
        // The pair's algorithms and negotiated lifetimes: its outbound SA's.
        let sa = child
            .and_then(|c| self.esp.get(c.outbound))
            .map(|sa| PairView {
                encryption: sa.encryption(),
                integrity: sa.integrity(),
                lifetime: sa.lifetime(),
            });
        let ppp = p.link.as_ref().map(|l| *l.counters());
        let l2tp_ids = p.call.and_then(|c| {
            let s = self.l2tp.session(c)?;
            let t = self.l2tp.tunnel(s.tunnel)?;
            Some(([t.local_id, t.remote_id], [s.local_id, s.remote_id]))
        });
        // What the session view shows of the ISAKMP SA in use (the newest
        // after a phase 1 rekey).
        let ike = p.ike_sa.and_then(|sa| self.ike.sa_info(sa)).map(|info| {
            let (cipher, hash, group) = convert::ike_names(&info);
            let lifetime = Duration::from_secs(u64::from(info.lifetime_seconds));
            (
                cipher,
                hash,
                group,
                lifetime,
                info.established_at.unwrap_or(now),
            )
        });
        let (remote, local, nat, address) = (p.remote, p.local, p.nat, p.address);
        let last = unstamp(p.last_data);
        let idle = p.idle_timeout.map(unstamp);
        let auth_mode = p.auth_mode.map(convert::ppp_auth);
        let index = p.session_index.unwrap_or(0);
        let Some(rec) = self.sessions.get_mut(handle) else {
            return;
        };
        let (bytes_rx, bytes_tx) = ppp.map_or((0, 0), |c| (c.rx_bytes, c.tx_bytes));
        rec.bytes_rx = bytes_rx;
        rec.bytes_tx = bytes_tx;
        rec.assigned_ip = address;
        if let Some((cipher, hash, group, lifetime, established)) = ike {
            rec.ike = Some(IkeSubSession {
                session_id: 1,
                cookies: [0, 0],
                udp_src_port: local.port(),
                udp_dst_port: remote.port(),
                negotiation_mode: NegotiationMode::Main,
                auth_mode: IkeAuthMode::PreSharedKeys,
                encryption: cipher,
                hashing: hash,
                rekey: TimeRekey::starting(established, lifetime),
                dh_group: group,
            });
        }
        if let (Some(c), Some(sa)) = (child, sa) {
            let (rx, tx) = esp_counters.unwrap_or_default();
            let any = Selector {
                address: Ipv4Addr::UNSPECIFIED,
                mask: Ipv4Addr::UNSPECIFIED,
                protocol: 17,
                port: super::inet::L2TP_PORT,
            };
            rec.ipsec = Some(IpsecSubSession {
                session_id: 2,
                inbound_spi: c.spi_in,
                outbound_spi: c.spi_out,
                local: Selector {
                    address: *local.ip(),
                    mask: Ipv4Addr::BROADCAST,
                    ..any
                },
                remote: Selector {
                    address: *remote.ip(),
                    mask: Ipv4Addr::BROADCAST,
                    ..any
                },
                encryption: convert::cipher_of(sa.encryption),
                hashing: convert::hash_of(sa.integrity),
                encapsulation: ViewEncapsulation::Transport,
                rekey_time: TimeRekey::starting(
                    c.installed_at,
                    Duration::from_secs(u64::from(sa.lifetime.seconds.hard)),
                ),
                rekey_data: (sa.lifetime.kilobytes.hard != 0).then(|| crate::session::DataRekey {
                    interval_kb: u64::from(sa.lifetime.kilobytes.hard),
                    left_kb: kb_left.unwrap_or(0),
                }),
                idle: Idle {
                    timeout: idle,
                    last_activity: last,
                },
                counters: SessionCounters {
                    bytes_tx: tx.bytes,
                    bytes_rx: rx.bytes,
                    packets_tx: tx.packets,
                    packets_rx: rx.packets,
                },
            });
        }
        if let (Some((tunnel_ids, session_ids)), Some(address)) = (l2tp_ids, address) {
            rec.l2tp = Some(L2tpSubSession {
                session_id: 3,
                tunnel_ids,
                session_ids,
                username: rec.username.clone(),
                assigned_ip: address,
                encryption: crate::session::Cipher::None,
                auth_mode: auth_mode.unwrap_or(crate::config::PppAuth::Pap),
                idle: Idle {
                    timeout: idle,
                    last_activity: last,
                },
                counters: SessionCounters {
                    bytes_tx: ppp.map_or(0, |c| c.tx_bytes),
                    bytes_rx: ppp.map_or(0, |c| c.rx_bytes),
                    packets_tx: ppp.map_or(0, |c| c.tx_packets),
                    packets_rx: ppp.map_or(0, |c| c.rx_packets),
                },
            });
        }
        rec.protocol = if nat {
            Protocol::L2tpOverIpsecOverNatT
        } else {
            Protocol::L2tpOverIpsec
        };
        let _ = (now, index);
    }
}
