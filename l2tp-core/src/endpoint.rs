//! The endpoint: every tunnel and session of one L2TP speaker, behind the
//! sans-IO verbs (`handle_*`, commands, `poll_*`, getters).

use core::ops::Range;
use core::time::Duration;

use heapless::Deque;
use md5::{Digest, Md5};
use rand_core::CryptoRng;
use subtle::ConstantTimeEq;

use crate::config::{Config, Secret};
use crate::session::{self, Session, SessionCounters, SessionState};
use crate::tunnel::{self, Msg, Outgoing, Role, Timer, Tunnel, TunnelState, seq_before};
use crate::wire::{
    AvpIter, AvpType, HeaderRepr, Hiding, Message, MessageType, Packet, ResultCode, WireError,
    challenge_response, unhide_in_place,
};
use zero_none::MaybeTime;

/// Early control messages held for in-order delivery, shared by all
/// tunnels of an endpoint.
pub const HELD_MESSAGES: usize = 4;
/// Longest early control message that is held; longer ones are dropped
/// and come again by retransmission.
pub const HELD_MESSAGE_LEN: usize = 256;
/// The largest receive window we advertise: the one in-order message plus
/// what can be held.
pub const MAX_RECEIVE_WINDOW: u16 = 5;
const _: () = assert!(MAX_RECEIVE_WINDOW as usize == HELD_MESSAGES + 1);
/// A buffer of this size always fits the control messages this crate sends.
pub const MAX_CONTROL_LEN: usize = 512;
/// Headroom [`Endpoint::send_data`] needs in front of a PPP frame: the data
/// header with sequence numbers (RFC 2661 §3.1: flags, tunnel, session, Ns, Nr).
pub const DATA_HEADROOM: usize = 10;
/// Stateless refusals (StopCCN for an SCCRQ that found no room) waiting to go out.
const REFUSALS: usize = 4;

/// A tunnel, as `(index, generation)`: a stale handle is refused, never
/// taken for the tunnel that reuses the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TunnelHandle {
    index: u16,
    generation: u16,
}

/// A session, as `(index, generation)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SessionHandle {
    index: u16,
    generation: u16,
}

/// Who ended a tunnel or session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Origin {
    /// We did: a command, or our answer to the peer's error.
    Local,
    /// The peer sent StopCCN or CDN.
    Peer,
    /// Retransmissions were exhausted (RFC 2661 §5.8) or set-up took too long.
    Timeout,
    /// The session ended because its tunnel did.
    Tunnel,
}

/// A Result Code with its optional Error Code (RFC 2661 §4.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Reason {
    /// StopCCN or CDN result code.
    pub result: u16,
    /// General error code, with result 2.
    pub error: Option<u16>,
}

impl Reason {
    /// StopCCN 1: general request to clear the control connection.
    pub const CLEAR: Self = Self {
        result: 1,
        error: None,
    };
    /// CDN 3: call disconnected for administrative reasons.
    pub const ADMINISTRATIVE: Self = Self {
        result: 3,
        error: None,
    };
    /// StopCCN 2 / error 4: insufficient resources (a full tunnel table).
    pub const NO_RESOURCES: Self = Self {
        result: 2,
        error: Some(4),
    };
    /// CDN 4: no appropriate facilities, temporary (a full session table).
    pub const NO_FACILITIES: Self = Self {
        result: 4,
        error: None,
    };
    /// StopCCN 4: requester not authorized (tunnel authentication failed).
    pub const NOT_AUTHORIZED: Self = Self {
        result: 4,
        error: None,
    };
    /// Result 2 / error 8: unknown mandatory AVP (RFC 2661 §4.1).
    pub const UNKNOWN_MANDATORY: Self = Self {
        result: 2,
        error: Some(8),
    };
    /// StopCCN 7: finite state machine error.
    pub const FSM_ERROR: Self = Self {
        result: 7,
        error: None,
    };
}

/// What happened, from [`Endpoint::poll_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Event<P> {
    /// The control connection is established (SCCCN received as LNS,
    /// SCCRP accepted as LAC).
    TunnelUp {
        /// The tunnel.
        tunnel: TunnelHandle,
        /// The caller's peer handle.
        peer: P,
    },
    /// The tunnel ended; every session in it ends too (a `SessionDown`
    /// with [`Origin::Tunnel`] follows for each).
    TunnelDown {
        /// The tunnel (stale once this event has been polled).
        tunnel: TunnelHandle,
        /// The caller's peer handle.
        peer: P,
        /// The StopCCN result sent or received; `None` after a timeout.
        reason: Option<Reason>,
        /// Who ended it.
        origin: Origin,
    },
    /// LNS: the peer placed a call (ICRQ accepted, ICRP sent). The
    /// gateway can create the PPP link now; data flows after `SessionUp`.
    IncomingCall {
        /// The tunnel.
        tunnel: TunnelHandle,
        /// The new session.
        session: SessionHandle,
    },
    /// The session is established (ICCN received as LNS, ICRP accepted as LAC).
    SessionUp {
        /// The tunnel.
        tunnel: TunnelHandle,
        /// The session.
        session: SessionHandle,
    },
    /// The session ended.
    SessionDown {
        /// The tunnel.
        tunnel: TunnelHandle,
        /// The session (stale once this event has been polled).
        session: SessionHandle,
        /// The CDN result sent or received; `None` when the tunnel went down.
        reason: Option<Reason>,
        /// The peer's Q.931 cause and message type, if its CDN had one.
        q931: Option<(u16, u8)>,
        /// Who ended it.
        origin: Origin,
    },
}

/// What [`Endpoint::handle_datagram`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Received {
    /// A control message (or a ZLB, a duplicate, an early message): handled.
    Control,
    /// A data message: the PPP frame is `buf[payload]`.
    Data {
        /// The session it belongs to.
        session: SessionHandle,
        /// Where the PPP frame lies in the caller's buffer.
        payload: Range<usize>,
    },
}

/// A datagram written by [`Endpoint::poll_transmit`]: `buf[..len]` goes to `peer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Transmit<P> {
    /// The caller's peer handle.
    pub peer: P,
    /// Bytes written at the start of the buffer.
    pub len: usize,
}

/// The caller's buffer cannot hold the next datagram; nothing was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BufferTooSmall {
    /// Bytes the call needed.
    pub needed: usize,
}

impl core::fmt::Display for BufferTooSmall {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "buffer too small: {} bytes needed", self.needed)
    }
}

impl core::error::Error for BufferTooSmall {}

/// Why a call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// Peer: the datagram is not a well-formed L2TPv2 message.
    Malformed(WireError),
    /// Peer: no tunnel with this ID for this peer handle.
    UnknownTunnel,
    /// Peer: a data message for no established session of the tunnel.
    UnknownSession,
    /// Peer: a data message older than the last one (RFC 2661 §5.4), dropped.
    OutOfSequence,
    /// Peer: a control message dropped without acknowledgement because the
    /// tunnel's send queue cannot take the answer; the peer will retransmit.
    Busy,
    /// Caller: the handle is stale or out of range.
    InvalidHandle,
    /// Caller: the command does not fit the tunnel's or session's state.
    InvalidState,
    /// Caller: no free tunnel or session slot.
    TableFull,
    /// Caller: the tunnel's send queue is full; try after acknowledgements.
    QueueFull,
    /// Caller: the buffer lacks headroom or the range is outside it.
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
    },
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Malformed(e) => write!(f, "malformed L2TP message: {e}"),
            Self::UnknownTunnel => f.write_str("no such tunnel for this peer"),
            Self::UnknownSession => f.write_str("no such established session"),
            Self::OutOfSequence => f.write_str("data message out of sequence"),
            Self::Busy => f.write_str("send queue full, control message not accepted"),
            Self::InvalidHandle => f.write_str("stale or invalid handle"),
            Self::InvalidState => f.write_str("command invalid in this state"),
            Self::TableFull => f.write_str("table full"),
            Self::QueueFull => f.write_str("send queue full"),
            Self::BufferTooSmall { needed } => write!(f, "buffer too small: {needed} bytes needed"),
        }
    }
}

impl core::error::Error for Error {}

impl From<WireError> for Error {
    fn from(e: WireError) -> Self {
        Self::Malformed(e)
    }
}

/// Endpoint-wide counters (`debug l2tp error`, the fuzz figures).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Counters {
    /// Datagrams that failed the header or AVP checks.
    pub rx_malformed: u32,
    /// Messages for no tunnel of the sending peer.
    pub rx_unknown_tunnel: u32,
    /// Data messages for no established session.
    pub rx_unknown_session: u32,
    /// Control messages already received: acknowledged again (RFC 2661 §5.8).
    pub rx_duplicate: u32,
    /// Control messages that came early and were held.
    pub rx_held: u32,
    /// Control messages beyond our receive window, or early with no room to hold.
    pub rx_dropped: u32,
    /// Control messages refused because the send queue was full.
    pub rx_busy: u32,
    /// Messages with an unknown mandatory AVP, or a hidden one we could not read.
    pub rx_unknown_mandatory: u32,
    /// Retransmission timeouts (RFC 2661 §5.8).
    pub retransmissions: u32,
    /// ZLB acknowledgements sent.
    pub tx_zlb: u32,
    /// SCCRQs refused (full table, version, authorization, policy).
    pub tunnels_refused: u32,
    /// ICRQs/OCRQs refused.
    pub sessions_refused: u32,
    /// Tunnel authentications that failed (RFC 2661 §4.4.3).
    pub auth_failures: u32,
    /// Tunnels that went down because retransmissions were exhausted.
    pub tunnels_timed_out: u32,
}

impl Counters {
    /// All zero (what `Default` gives), usable in `const` contexts.
    pub const ZERO: Self = Self {
        rx_malformed: 0,
        rx_unknown_tunnel: 0,
        rx_unknown_session: 0,
        rx_duplicate: 0,
        rx_held: 0,
        rx_dropped: 0,
        rx_busy: 0,
        rx_unknown_mandatory: 0,
        retransmissions: 0,
        tx_zlb: 0,
        tunnels_refused: 0,
        sessions_refused: 0,
        auth_failures: 0,
        tunnels_timed_out: 0,
    };
}

/// Facts about a tunnel, for the session view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TunnelInfo<'a, P> {
    /// The caller's peer handle.
    pub peer: P,
    /// LNS or LAC.
    pub role: Role,
    /// State.
    pub state: TunnelState,
    /// Our Assigned Tunnel ID.
    pub local_id: u16,
    /// The peer's Assigned Tunnel ID.
    pub remote_id: u16,
    /// The peer's Host Name (cut to 64 bytes).
    pub peer_host_name: &'a [u8],
    /// The peer's Vendor Name (cut to 32 bytes).
    pub peer_vendor_name: &'a [u8],
    /// The peer's Firmware Revision.
    pub peer_firmware_revision: Option<u16>,
    /// The peer's Framing Capabilities.
    pub peer_framing_capabilities: u32,
    /// The window we advertised.
    pub receive_window: u16,
    /// The window the peer advertised.
    pub peer_receive_window: u16,
    /// The congestion window (RFC 2661 Appendix A).
    pub congestion_window: u16,
    /// Messages queued and not yet acknowledged.
    pub unacknowledged: usize,
    /// Sessions in the tunnel.
    pub sessions: u16,
    /// Time the last message came from the peer.
    pub last_received: Duration,
}

/// Facts about a session, for the session view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SessionInfo {
    /// Its tunnel.
    pub tunnel: TunnelHandle,
    /// Our Assigned Session ID.
    pub local_id: u16,
    /// The peer's Assigned Session ID.
    pub remote_id: u16,
    /// State.
    pub state: SessionState,
    /// Call Serial Number.
    pub call_serial_number: u32,
    /// Whether data messages we send carry sequence numbers.
    pub sequencing: bool,
    /// The LAC's Tx Connect Speed from ICCN.
    pub tx_connect_speed: u32,
    /// The Framing Type from ICCN.
    pub framing_type: u32,
    /// Bytes, packets, last activity.
    pub counters: SessionCounters,
}

#[derive(Debug)]
struct Slot<X> {
    generation: u16,
    in_tx: bool,
    in_events: bool,
    item: Option<X>,
}

impl<X> Slot<X> {
    const EMPTY: Self = Self {
        generation: 0,
        in_tx: false,
        in_events: false,
        item: None,
    };
}

#[derive(Debug)]
struct Held {
    tunnel: Option<TunnelHandle>,
    ns: u16,
    len: u16,
    buf: [u8; HELD_MESSAGE_LEN],
}

#[derive(Debug, Clone, Copy)]
struct Refusal<P> {
    peer: P,
    tunnel_id: u16,
    nr: u16,
    reason: Reason,
}

/// Every tunnel and session of one L2TP speaker: at most `T` tunnels and
/// `S` sessions, all inline. `P` is the caller's name for a peer (the
/// gateway uses its IPsec SA pair); tunnels are found by `(P, tunnel ID)`.
///
/// Methods sort into handlers ([`handle_datagram`](Self::handle_datagram),
/// [`handle_timeout`](Self::handle_timeout)), commands
/// ([`connect`](Self::connect), [`place_call`](Self::place_call),
/// [`disconnect`](Self::disconnect), [`close_tunnel`](Self::close_tunnel),
/// [`send_data`](Self::send_data)), polls ([`poll_transmit`](Self::poll_transmit),
/// [`poll_event`](Self::poll_event), [`poll_timeout`](Self::poll_timeout))
/// and getters. See the crate documentation for the run loop.
#[derive(Debug)]
pub struct Endpoint<P, const T: usize, const S: usize> {
    config: Config,
    tunnels: [Slot<Tunnel<P>>; T],
    sessions: [Slot<Session>; S],
    held: [Held; HELD_MESSAGES],
    tx: Deque<u16, T>,
    refusals: Deque<Refusal<P>, REFUSALS>,
    tunnel_events: Deque<u16, T>,
    session_events: Deque<u16, S>,
    next_timeout: MaybeTime,
    counters: Counters,
    /// The Call Serial Number last given (0 before the first: an empty
    /// endpoint is all zero bytes, see the `zero-none` crate).
    call_serial: u32,
}

/// Draws an ID `≡ slot (mod n)` that is never 0, so that lookup is one
/// modulo and one comparison and IDs are unique by construction.
fn draw_id(slot: usize, n: usize, rng: &mut impl CryptoRng) -> u16 {
    let max_k = (usize::from(u16::MAX) - slot) / n;
    let r = rng.next_u32() as usize;
    let k = if slot == 0 {
        1 + r % max_k
    } else {
        r % (max_k + 1)
    };
    u16::try_from(slot + k * n).unwrap_or(1)
}

/// A table index as `u16`: tables hold at most 32768 entries (checked in `new`).
fn idx(i: usize) -> u16 {
    u16::try_from(i).unwrap_or(u16::MAX)
}

fn min_opt(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

fn reason_of(rc: Option<ResultCode<'_>>) -> Option<Reason> {
    rc.map(|r| Reason {
        result: r.result,
        error: r.error,
    })
}

impl<P: Copy + Eq, const T: usize, const S: usize> Endpoint<P, T, S> {
    const CHECK: () = assert!(T >= 1 && T <= 32768 && S >= 1 && S <= 32768);

    /// An endpoint with no tunnels and a configuration that serves nobody
    /// (tunnels refused), all zero bytes: a port's `static` holding it
    /// (inside a gateway) goes to `.bss` and costs no flash.
    /// [`reset`](Self::reset) gives it its configuration.
    pub const fn new_empty() -> Self {
        Self::new(Config::EMPTY)
    }

    /// An endpoint with no tunnels. `const`, so that a port can keep the
    /// endpoint (or a gateway around it) in a `static` built at compile
    /// time rather than moving it through the stack.
    pub const fn new(config: Config) -> Self {
        let () = Self::CHECK;
        Self {
            config,
            tunnels: [const { Slot::EMPTY }; T],
            sessions: [const { Slot::EMPTY }; S],
            held: [const {
                Held {
                    tunnel: None,
                    ns: 0,
                    len: 0,
                    buf: [0; HELD_MESSAGE_LEN],
                }
            }; HELD_MESSAGES],
            tx: Deque::new(),
            refusals: Deque::new(),
            tunnel_events: Deque::new(),
            session_events: Deque::new(),
            next_timeout: MaybeTime::NONE,
            counters: Counters::ZERO,
            call_serial: 0,
        }
    }

    /// Back to [`new`](Self::new)`(config)`, in place: every tunnel,
    /// session, held message, queue and counter is cleared slot by slot, so
    /// that an endpoint kept in a `static` is never moved through the stack
    /// as a whole. Tunnels are forgotten without a StopCCN.
    pub fn reset(&mut self, config: Config) {
        // Exhaustive, so that a new field cannot be forgotten here.
        let Self {
            config: c,
            tunnels,
            sessions,
            held,
            tx,
            refusals,
            tunnel_events,
            session_events,
            next_timeout,
            counters,
            call_serial,
        } = self;
        *c = config;
        for t in tunnels.iter_mut() {
            *t = Slot::EMPTY;
        }
        for s in sessions.iter_mut() {
            *s = Slot::EMPTY;
        }
        for h in held.iter_mut() {
            h.tunnel = None;
            h.ns = 0;
            h.len = 0;
            h.buf.fill(0);
        }
        tx.clear();
        refusals.clear();
        tunnel_events.clear();
        session_events.clear();
        *next_timeout = MaybeTime::NONE;
        *counters = Counters::ZERO;
        *call_serial = 0;
    }

    // ----- getters -------------------------------------------------------

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Endpoint-wide counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Facts about a tunnel, `None` for a stale handle.
    pub fn tunnel(&self, h: TunnelHandle) -> Option<TunnelInfo<'_, P>> {
        let t = self.tunnel_ref(h)?;
        Some(TunnelInfo {
            peer: t.peer,
            role: t.role,
            state: t.state,
            local_id: t.local_id,
            remote_id: t.remote_id,
            peer_host_name: &t.host_name,
            peer_vendor_name: &t.vendor_name,
            peer_firmware_revision: t.firmware_revision,
            peer_framing_capabilities: t.framing_capabilities,
            receive_window: self.config.receive_window,
            peer_receive_window: t.peer_rws,
            congestion_window: t.cwnd,
            unacknowledged: t.queue.len(),
            sessions: t.sessions,
            last_received: t.last_rx,
        })
    }

    /// Facts and counters of a session, `None` for a stale handle.
    pub fn session(&self, h: SessionHandle) -> Option<SessionInfo> {
        let s = self.session_ref(h)?;
        Some(SessionInfo {
            tunnel: s.tunnel,
            local_id: s.local_id,
            remote_id: s.remote_id,
            state: s.state,
            call_serial_number: s.call_serial,
            sequencing: s.send_seq,
            tx_connect_speed: s.tx_connect_speed,
            framing_type: s.framing_type,
            counters: s.counters,
        })
    }

    /// Handles of all tunnels in the table (any state).
    pub fn tunnel_handles(&self) -> impl Iterator<Item = TunnelHandle> + '_ {
        self.tunnels
            .iter()
            .enumerate()
            .filter(|(_, s)| s.item.is_some())
            .map(|(i, s)| TunnelHandle {
                index: idx(i),
                generation: s.generation,
            })
    }

    fn tunnel_ref(&self, h: TunnelHandle) -> Option<&Tunnel<P>> {
        let slot = self.tunnels.get(usize::from(h.index))?;
        slot.item
            .as_ref()
            .filter(|_| slot.generation == h.generation)
    }

    fn session_ref(&self, h: SessionHandle) -> Option<&Session> {
        let slot = self.sessions.get(usize::from(h.index))?;
        slot.item
            .as_ref()
            .filter(|_| slot.generation == h.generation)
    }

    fn tunnel_index(&self, h: TunnelHandle) -> Option<usize> {
        self.tunnel_ref(h).map(|_| usize::from(h.index))
    }

    fn session_index(&self, h: SessionHandle) -> Option<usize> {
        self.session_ref(h).map(|_| usize::from(h.index))
    }

    fn thandle(&self, i: usize) -> TunnelHandle {
        // i < T <= 32768
        TunnelHandle {
            index: idx(i),
            generation: self.tunnels[i].generation,
        }
    }

    fn shandle(&self, j: usize) -> SessionHandle {
        SessionHandle {
            index: idx(j),
            generation: self.sessions[j].generation,
        }
    }

    fn t(&mut self, i: usize) -> Option<&mut Tunnel<P>> {
        self.tunnels[i].item.as_mut()
    }

    fn tunnel_by_id(&self, id: u16, peer: P) -> Option<usize> {
        let i = usize::from(id) % T;
        let t = self.tunnels[i].item.as_ref()?;
        (t.local_id == id && t.peer == peer && t.state != TunnelState::Dead).then_some(i)
    }

    fn session_by_id(&self, i: usize, id: u16) -> Option<usize> {
        let j = usize::from(id) % S;
        let th = self.thandle(i);
        let s = self.sessions[j].item.as_ref()?;
        (id != 0 && s.local_id == id && s.tunnel == th).then_some(j)
    }

    fn session_by_remote(&self, i: usize, remote: u16) -> Option<usize> {
        let th = self.thandle(i);
        self.sessions.iter().position(|s| {
            s.item.as_ref().is_some_and(|s| {
                s.tunnel == th && s.remote_id == remote && s.state != SessionState::Closed
            })
        })
    }

    // ----- bookkeeping ---------------------------------------------------

    fn schedule(&mut self, i: usize) {
        let slot = &mut self.tunnels[i];
        if !slot.in_tx {
            slot.in_tx = true;
            // One entry per slot at most: capacity T always suffices.
            let _ = self.tx.push_back(idx(i));
        }
    }

    /// Keeps `next_timeout` a lower bound of every timer: O(1) per change.
    fn note(&mut self, i: usize) {
        if let Some(t) = self.tunnels[i].item.as_ref() {
            self.next_timeout =
                MaybeTime::new(min_opt(self.next_timeout.get(), t.earliest_timer()));
        }
    }

    fn tunnel_event(&mut self, i: usize, flag: u8) {
        let slot = &mut self.tunnels[i];
        if let Some(t) = slot.item.as_mut() {
            t.events |= flag;
            if !slot.in_events {
                slot.in_events = true;
                let _ = self.tunnel_events.push_back(idx(i));
            }
        }
    }

    fn session_event(&mut self, j: usize, flag: u8) {
        let slot = &mut self.sessions[j];
        if let Some(s) = slot.item.as_mut() {
            s.events |= flag;
            if !slot.in_events {
                slot.in_events = true;
                let _ = self.session_events.push_back(idx(j));
            }
        }
    }

    fn free_tunnel(&mut self, i: usize) {
        let h = self.thandle(i);
        for held in &mut self.held {
            if held.tunnel == Some(h) {
                held.tunnel = None;
            }
        }
        let slot = &mut self.tunnels[i];
        slot.item = None;
        slot.generation = slot.generation.wrapping_add(1);
    }

    fn free_session(&mut self, j: usize) {
        let slot = &mut self.sessions[j];
        let Some(s) = slot.item.take() else { return };
        slot.generation = slot.generation.wrapping_add(1);
        if let Some(t) = self
            .tunnel_index(s.tunnel)
            .and_then(|i| self.tunnels[i].item.as_mut())
        {
            t.sessions = t.sessions.saturating_sub(1);
        }
    }

    fn free_session_slot(&self) -> Option<usize> {
        self.sessions.iter().position(|s| s.item.is_none())
    }

    // ----- handlers ------------------------------------------------------

    /// A UDP payload arrived from `peer` (RFC 2661 §3). Control messages
    /// are processed (answers are queued for [`poll_transmit`](Self::poll_transmit));
    /// a data message returns its session and where its PPP frame lies in
    /// `buf`, which is not copied. Hidden AVPs are recovered in place, so
    /// `buf` may be changed.
    ///
    /// # Errors
    /// Every error concerns this datagram only and is counted in
    /// [`counters`](Self::counters): [`Error::Malformed`], [`Error::UnknownTunnel`],
    /// [`Error::UnknownSession`], [`Error::OutOfSequence`], [`Error::Busy`].
    pub fn handle_datagram(
        &mut self,
        now: Duration,
        peer: P,
        buf: &mut [u8],
        rng: &mut impl CryptoRng,
    ) -> Result<Received, Error> {
        let (control, total, tid) = match Packet::new_checked(&buf[..]) {
            Ok(p) => (p.is_control(), p.total_len(), p.tunnel_id()),
            Err(e) => {
                self.counters.rx_malformed += 1;
                debug!("l2tp: malformed datagram: {:?}", e);
                return Err(Error::Malformed(e));
            }
        };
        if !control {
            return self.handle_data(now, peer, buf);
        }
        let msg = &mut buf[..total];
        if tid == 0 {
            return self
                .handle_sccrq(now, peer, msg, rng)
                .map(|()| Received::Control);
        }
        let Some(i) = self.tunnel_by_id(tid, peer) else {
            self.counters.rx_unknown_tunnel += 1;
            debug!("l2tp: control message for unknown tunnel {}", tid);
            return Err(Error::UnknownTunnel);
        };
        let r = self.receive_control(now, i, msg, rng);
        self.note(i);
        r.map(|()| Received::Control)
    }

    fn handle_data(&mut self, now: Duration, peer: P, buf: &[u8]) -> Result<Received, Error> {
        let p = Packet::new_unchecked(buf);
        let (tid, sid, ns, payload) = (p.tunnel_id(), p.session_id(), p.ns(), p.payload_range());
        let Some(i) = self.tunnel_by_id(tid, peer) else {
            self.counters.rx_unknown_tunnel += 1;
            return Err(Error::UnknownTunnel);
        };
        let th = self.thandle(i);
        let j = usize::from(sid) % S;
        let sh = self.shandle(j);
        let (Some(t), Some(s)) = (
            self.tunnels[i].item.as_mut(),
            self.sessions[j].item.as_mut(),
        ) else {
            self.counters.rx_unknown_session += 1;
            return Err(Error::UnknownSession);
        };
        if s.local_id != sid
            || s.tunnel != th
            || s.state != SessionState::Established
            || t.state != TunnelState::Established
        {
            self.counters.rx_unknown_session += 1;
            return Err(Error::UnknownSession);
        }
        t.last_rx = now;
        if let Some(ns) = ns {
            if s.data_nr.is_some_and(|exp| seq_before(ns, exp)) {
                s.counters.rx_out_of_sequence += 1;
                return Err(Error::OutOfSequence);
            }
            s.data_nr = Some(ns.wrapping_add(1));
            // RFC 2661 §5.4: when the LNS sends sequence numbers, so must the LAC.
            if t.role == Role::Lac {
                s.send_seq = true;
            }
        }
        s.counters.rx_packets += 1;
        s.counters.rx_bytes += payload.len() as u64;
        s.counters.last_activity = now;
        Ok(Received::Data {
            session: sh,
            payload,
        })
    }

    /// An SCCRQ (the only message sent to tunnel ID 0), or a retransmission
    /// of one we already answered (RFC 2661 §7.2.1).
    fn handle_sccrq(
        &mut self,
        now: Duration,
        peer: P,
        msg: &mut [u8],
        rng: &mut impl CryptoRng,
    ) -> Result<(), Error> {
        let ns = Packet::new_unchecked(&msg[..]).ns().unwrap_or(0);
        match first_message_type(msg) {
            Some((MessageType::Sccrq, _)) => {}
            _ => {
                self.counters.rx_unknown_tunnel += 1;
                return Err(Error::UnknownTunnel);
            }
        }
        let secret = self.config.secret.as_ref().map(Secret::as_bytes);
        let len = unhide_in_place(msg, secret).inspect_err(|_| self.counters.rx_malformed += 1)?;
        let m = Message::parse(&msg[12..len]).inspect_err(|_| self.counters.rx_malformed += 1)?;
        let Some(peer_tid) = m.assigned_tunnel_id.filter(|&id| id != 0) else {
            self.counters.rx_malformed += 1;
            return Err(Error::Malformed(WireError::AvpLength));
        };
        // A retransmitted SCCRQ belongs to the tunnel it created: acknowledge again.
        if let Some(i) = self.tunnels.iter().position(|s| {
            s.item.as_ref().is_some_and(|t| {
                t.peer == peer
                    && t.remote_id == peer_tid
                    && t.role == Role::Lns
                    && t.state != TunnelState::Dead
            })
        }) {
            if let Some(t) = self.t(i) {
                t.last_rx = now;
                t.ack_pending = true;
            }
            self.counters.rx_duplicate += 1;
            self.schedule(i);
            return Ok(());
        }
        let refuse = |this: &mut Self, reason: Reason| {
            this.counters.tunnels_refused += 1;
            debug!("l2tp: SCCRQ refused: result {}", reason.result);
            let r = Refusal {
                peer,
                tunnel_id: peer_tid,
                nr: ns.wrapping_add(1),
                reason,
            };
            if this.refusals.push_back(r).is_err() {
                this.counters.rx_dropped += 1;
            }
            Ok(())
        };
        if !self.config.accept_tunnels {
            return refuse(self, Reason::NOT_AUTHORIZED);
        }
        if m.unknown_mandatory.is_some() {
            self.counters.rx_unknown_mandatory += 1;
            return refuse(self, Reason::UNKNOWN_MANDATORY);
        }
        if m.protocol_version != Some((1, 0)) {
            // RFC 2661 §4.4.2: result 5, the error code is the highest version we support.
            return refuse(
                self,
                Reason {
                    result: 5,
                    error: Some(0x0100),
                },
            );
        }
        if m.challenge.is_some() && secret.is_none() {
            self.counters.auth_failures += 1;
            return refuse(self, Reason::NOT_AUTHORIZED);
        }
        let limit = usize::from(self.config.max_tunnels_per_peer);
        let held = self
            .tunnels
            .iter()
            .filter_map(|s| s.item.as_ref())
            .filter(|t| {
                t.peer == peer
                    && matches!(t.state, TunnelState::WaitCtlConn | TunnelState::Established)
            })
            .count();
        if limit > 0 && held >= limit {
            return refuse(self, Reason::NO_RESOURCES);
        }
        let Some(i) = self.tunnels.iter().position(|s| s.item.is_none()) else {
            return refuse(self, Reason::NO_RESOURCES);
        };
        let id = draw_id(i, T, rng);
        let mut t = Tunnel::new(peer, Role::Lns, id, now, self.config.retransmit_initial);
        t.remote_id = peer_tid;
        t.nr = ns.wrapping_add(1);
        t.ack_pending = true;
        learn_peer(&mut t, &m);
        rng.fill_bytes(&mut t.rv_seed);
        if let Some(secret) = secret {
            if let Some(ch) = m.challenge {
                t.response = Some(challenge_response(2, secret, ch));
            }
            let mut c = [0u8; 16];
            rng.fill_bytes(&mut c);
            t.our_challenge = Some(c);
        }
        // Set-up limit: SCCCN must come within a hello interval.
        t.timers[Timer::Hello as usize] = Some(now + self.setup_limit());
        let _ = t.enqueue(Msg::Sccrp);
        self.tunnels[i].item = Some(t);
        self.schedule(i);
        self.note(i);
        debug!(
            "l2tp: SCCRQ from peer tunnel {} accepted as tunnel {}",
            peer_tid, id
        );
        Ok(())
    }

    fn setup_limit(&self) -> Duration {
        self.config.hello_interval.max(Duration::from_secs(60))
    }

    /// Reliable delivery on receipt (RFC 2661 §5.8): Nr first, then Ns.
    fn receive_control(
        &mut self,
        now: Duration,
        i: usize,
        msg: &mut [u8],
        rng: &mut impl CryptoRng,
    ) -> Result<(), Error> {
        let p = Packet::new_unchecked(&msg[..]);
        let (ns, nr, zlb) = (
            p.ns().unwrap_or(0),
            p.nr().unwrap_or(0),
            p.payload().is_empty(),
        );
        let initial = self.config.retransmit_initial;
        let window = self.config.receive_window;
        let Some(t) = self.t(i) else {
            return Err(Error::UnknownTunnel);
        };
        t.last_rx = now;
        if t.process_nr(nr, now, initial) > 0 {
            if t.state == TunnelState::Closing && t.origin == Origin::Local && t.queue.is_empty() {
                self.make_dead(i);
                return Ok(());
            }
            if t.next_sendable().is_some() {
                self.schedule(i);
            }
        }
        if zlb {
            return Ok(());
        }
        let Some(t) = self.t(i) else { return Ok(()) };
        let expected = t.nr;
        if ns == expected {
            self.deliver(now, i, msg, rng)?;
            self.drain_held(now, i, rng);
        } else if seq_before(ns, expected) {
            t.ack_pending = true;
            self.counters.rx_duplicate += 1;
            self.schedule(i);
        } else if ns.wrapping_sub(expected) < window {
            self.hold(i, ns, msg);
        } else {
            self.counters.rx_dropped += 1;
        }
        Ok(())
    }

    fn hold(&mut self, i: usize, ns: u16, msg: &[u8]) {
        let h = Some(self.thandle(i));
        if self.held.iter().any(|m| m.tunnel == h && m.ns == ns) {
            return;
        }
        let Some(slot) = self.held.iter_mut().find(|m| m.tunnel.is_none()) else {
            self.counters.rx_dropped += 1;
            return;
        };
        if msg.len() > HELD_MESSAGE_LEN {
            self.counters.rx_dropped += 1;
            return;
        }
        slot.tunnel = h;
        slot.ns = ns;
        // msg.len() <= HELD_MESSAGE_LEN, checked above.
        slot.len = u16::try_from(msg.len()).unwrap_or(0);
        slot.buf[..msg.len()].copy_from_slice(msg);
        self.counters.rx_held += 1;
    }

    fn drain_held(&mut self, now: Duration, i: usize, rng: &mut impl CryptoRng) {
        loop {
            let h = Some(self.thandle(i));
            let Some(expected) = self.tunnels[i].item.as_ref().map(|t| t.nr) else {
                return;
            };
            let Some(k) = self
                .held
                .iter()
                .position(|m| m.tunnel == h && m.ns == expected)
            else {
                return;
            };
            let mut local = [0u8; HELD_MESSAGE_LEN];
            let len = usize::from(self.held[k].len);
            local[..len].copy_from_slice(&self.held[k].buf[..len]);
            match self.deliver(now, i, &mut local[..len], rng) {
                Err(Error::Busy) => return,
                _ => self.held[k].tunnel = None,
            }
        }
    }

    /// An in-order control message: accept it (Nr advances) and act on it.
    fn deliver(
        &mut self,
        now: Duration,
        i: usize,
        msg: &mut [u8],
        rng: &mut impl CryptoRng,
    ) -> Result<(), Error> {
        let Some((mtype, type_mandatory)) = first_message_type(msg) else {
            self.counters.rx_malformed += 1;
            return Err(Error::Malformed(WireError::MessageTypeFirst));
        };
        let sid = Packet::new_unchecked(&msg[..]).session_id();
        let Some(t) = self.t(i) else { return Ok(()) };
        // Every message may need one answer, a CDN or StopCCN another.
        if t.free_queue() < 2 {
            self.counters.rx_busy += 1;
            return Err(Error::Busy);
        }
        t.nr = t.nr.wrapping_add(1);
        t.ack_pending = true;
        let closing = matches!(t.state, TunnelState::Closing | TunnelState::Dead);
        self.schedule(i);
        if closing {
            return Ok(());
        }
        let secret = self.config.secret.as_ref().map(Secret::as_bytes);
        let parsed = unhide_in_place(msg, secret).and_then(|len| Message::parse(&msg[12..len]));
        let m = match parsed {
            Ok(m) if m.unknown_mandatory.is_none() => m,
            Ok(m) => {
                self.counters.rx_unknown_mandatory += 1;
                debug!("l2tp: unknown mandatory AVP {:?}", m.unknown_mandatory);
                self.unknown_mandatory(now, i, mtype, sid, Some(&m));
                return Ok(());
            }
            Err(WireError::Hidden) => {
                self.counters.rx_unknown_mandatory += 1;
                self.unknown_mandatory(now, i, mtype, sid, None);
                return Ok(());
            }
            Err(e) => {
                // The message was received (and is acknowledged) but is unusable.
                self.counters.rx_malformed += 1;
                let reason = Reason {
                    result: 2,
                    error: Some(2),
                };
                if mtype.is_tunnel_scoped() {
                    self.close(now, i, reason, Origin::Local);
                } else if let Some(j) = self.session_by_id(i, sid) {
                    self.disconnect_internal(j, reason, Origin::Local);
                }
                return Err(Error::Malformed(e));
            }
        };
        let Some(t) = self.tunnels[i].item.as_ref() else {
            return Ok(());
        };
        let (role, state) = (t.role, t.state);
        match mtype {
            MessageType::Sccrp if role == Role::Lac && state == TunnelState::WaitCtlReply => {
                self.on_sccrp(now, i, &m);
            }
            MessageType::Scccn if role == Role::Lns && state == TunnelState::WaitCtlConn => {
                self.on_scccn(now, i, &m);
            }
            MessageType::StopCcn => self.on_stopccn(now, i, &m),
            MessageType::Hello => {}
            MessageType::Sccrq | MessageType::Sccrp | MessageType::Scccn => {
                self.close(now, i, Reason::FSM_ERROR, Origin::Local);
            }
            MessageType::Icrq => self.on_icrq(now, i, &m, rng),
            MessageType::Icrp => self.on_icrp(i, sid, &m),
            MessageType::Iccn => self.on_iccn(i, sid, &m),
            MessageType::Cdn => self.on_cdn(i, sid, &m),
            MessageType::Ocrq => {
                // Outgoing calls are not offered: refuse politely (RFC 2661 §7.5).
                self.counters.sessions_refused += 1;
                let remote = m.assigned_session_id.unwrap_or(0);
                self.refuse_call(
                    i,
                    remote,
                    Reason {
                        result: 5,
                        error: None,
                    },
                );
            }
            MessageType::Unknown(_) if type_mandatory => {
                self.counters.rx_unknown_mandatory += 1;
                self.close(now, i, Reason::UNKNOWN_MANDATORY, Origin::Local);
            }
            // OCRP/OCCN for calls we never made, WEN and SLI: acknowledged, nothing to do.
            _ => {}
        }
        Ok(())
    }

    /// RFC 2661 §4.1: an unrecognised AVP with the M bit ends the session
    /// (session messages) or the tunnel (tunnel messages).
    fn unknown_mandatory(
        &mut self,
        now: Duration,
        i: usize,
        mtype: MessageType,
        sid: u16,
        m: Option<&Message<'_>>,
    ) {
        if mtype.is_tunnel_scoped() {
            self.close(now, i, Reason::UNKNOWN_MANDATORY, Origin::Local);
        } else if let Some(j) = self.session_by_id(i, sid) {
            self.disconnect_internal(j, Reason::UNKNOWN_MANDATORY, Origin::Local);
        } else if let (MessageType::Icrq, Some(remote)) =
            (mtype, m.and_then(|m| m.assigned_session_id))
        {
            self.refuse_call(i, remote, Reason::UNKNOWN_MANDATORY);
        }
    }

    fn on_sccrp(&mut self, now: Duration, i: usize, m: &Message<'_>) {
        let secret = self.config.secret.as_ref().map(Secret::as_bytes);
        let interval = self.config.hello_interval;
        let Some(t) = self.tunnels[i].item.as_mut() else {
            return;
        };
        if let Some(id) = m.assigned_tunnel_id {
            t.remote_id = id;
        }
        let verdict = if m.protocol_version != Some((1, 0)) {
            Err(Reason {
                result: 5,
                error: Some(0x0100),
            })
        } else if t.remote_id == 0 {
            Err(Reason {
                result: 2,
                error: Some(3),
            })
        } else if let Some(ch) = t.our_challenge {
            let expected = challenge_response(2, secret.unwrap_or(&[]), &ch);
            match m.challenge_response {
                Some(r) if bool::from(r.ct_eq(&expected)) => Ok(()),
                _ => Err(Reason::NOT_AUTHORIZED),
            }
        } else {
            Ok(())
        };
        let verdict = verdict.and_then(|()| match (m.challenge, secret) {
            (Some(ch), Some(secret)) => {
                t.response = Some(challenge_response(3, secret, ch));
                Ok(())
            }
            (Some(_), None) => Err(Reason::NOT_AUTHORIZED),
            (None, _) => Ok(()),
        });
        if let Err(reason) = verdict {
            if reason == Reason::NOT_AUTHORIZED {
                self.counters.auth_failures += 1;
            }
            self.close(now, i, reason, Origin::Local);
            return;
        }
        learn_peer(t, m);
        t.state = TunnelState::Established;
        t.timers[Timer::Hello as usize] = Some(now + interval);
        let _ = t.enqueue(Msg::Scccn);
        self.tunnel_event(i, tunnel::EV_UP);
        self.start_waiting_calls(i);
    }

    fn on_scccn(&mut self, now: Duration, i: usize, m: &Message<'_>) {
        let secret = self.config.secret.as_ref().map(Secret::as_bytes);
        let interval = self.config.hello_interval;
        let Some(t) = self.tunnels[i].item.as_mut() else {
            return;
        };
        if let Some(ch) = t.our_challenge {
            let expected = challenge_response(3, secret.unwrap_or(&[]), &ch);
            let ok = m
                .challenge_response
                .is_some_and(|r| bool::from(r.ct_eq(&expected)));
            if !ok {
                self.counters.auth_failures += 1;
                self.close(now, i, Reason::NOT_AUTHORIZED, Origin::Local);
                return;
            }
        }
        t.state = TunnelState::Established;
        t.our_challenge = None;
        t.timers[Timer::Hello as usize] = Some(now + interval);
        self.tunnel_event(i, tunnel::EV_UP);
    }

    fn on_stopccn(&mut self, now: Duration, i: usize, m: &Message<'_>) {
        let hold = self.config.close_hold;
        let Some(t) = self.t(i) else { return };
        // The peer is gone: nothing more to deliver, only to acknowledge.
        t.clear_queue();
        if t.remote_id == 0 {
            t.remote_id = m.assigned_tunnel_id.unwrap_or(0);
        }
        t.reason = reason_of(m.result_code).or(Some(Reason::CLEAR));
        t.origin = Origin::Peer;
        t.state = TunnelState::Closing;
        t.timers = [None, None, Some(now + hold)];
        debug!("l2tp: tunnel {} closed by peer", t.local_id);
        self.tunnel_event(i, tunnel::EV_DOWN);
        self.sessions_down(i);
    }

    fn on_icrq(&mut self, now: Duration, i: usize, m: &Message<'_>, rng: &mut impl CryptoRng) {
        let Some(remote) = m.assigned_session_id.filter(|&s| s != 0) else {
            self.counters.rx_malformed += 1;
            return;
        };
        let Some(t) = self.tunnels[i].item.as_ref() else {
            return;
        };
        if t.state != TunnelState::Established {
            self.counters.sessions_refused += 1;
            // General error 1: no control connection exists yet.
            self.refuse_call(
                i,
                remote,
                Reason {
                    result: 2,
                    error: Some(1),
                },
            );
            return;
        }
        let Some(j) = self.free_session_slot() else {
            self.counters.sessions_refused += 1;
            debug!("l2tp: ICRQ refused: session table full");
            self.refuse_call(i, remote, Reason::NO_FACILITIES);
            return;
        };
        let local = draw_id(j, S, rng);
        let mut s = Session::new(self.thandle(i), local, SessionState::WaitConnect, now);
        s.remote_id = remote;
        s.call_serial = m.call_serial_number.unwrap_or(0);
        self.sessions[j].item = Some(s);
        if let Some(t) = self.t(i) {
            t.sessions += 1;
            let _ = t.enqueue(Msg::Icrp { local, remote });
        }
        self.session_event(j, session::EV_INCOMING);
    }

    fn on_icrp(&mut self, i: usize, sid: u16, m: &Message<'_>) {
        let Some(j) = self.session_by_id(i, sid) else {
            return;
        };
        let Some(s) = self.sessions[j].item.as_mut() else {
            return;
        };
        if s.state != SessionState::WaitReply {
            return;
        }
        let Some(remote) = m.assigned_session_id.filter(|&r| r != 0) else {
            self.disconnect_internal(
                j,
                Reason {
                    result: 2,
                    error: Some(3),
                },
                Origin::Local,
            );
            return;
        };
        s.remote_id = remote;
        s.state = SessionState::Established;
        let local = s.local_id;
        if let Some(t) = self.t(i) {
            let _ = t.enqueue(Msg::Iccn { local, remote });
        }
        self.session_event(j, session::EV_UP);
    }

    fn on_iccn(&mut self, i: usize, sid: u16, m: &Message<'_>) {
        let Some(j) = self.session_by_id(i, sid) else {
            return;
        };
        let Some(s) = self.sessions[j].item.as_mut() else {
            return;
        };
        if s.state != SessionState::WaitConnect {
            return;
        }
        s.tx_connect_speed = m.tx_connect_speed.unwrap_or(0);
        s.framing_type = m.framing_type.unwrap_or(0);
        s.send_seq = m.sequencing_required;
        s.state = SessionState::Established;
        self.session_event(j, session::EV_UP);
    }

    fn on_cdn(&mut self, i: usize, sid: u16, m: &Message<'_>) {
        let j = self.session_by_id(i, sid).or_else(|| {
            m.assigned_session_id
                .and_then(|r| self.session_by_remote(i, r))
        });
        let Some(j) = j else { return };
        let Some(s) = self.sessions[j].item.as_mut() else {
            return;
        };
        if s.state == SessionState::Closed {
            return;
        }
        s.state = SessionState::Closed;
        s.origin = Origin::Peer;
        s.reason = reason_of(m.result_code);
        s.q931 = m.q931_cause.map(|q| (q.cause, q.message_type));
        self.session_event(j, session::EV_DOWN);
    }

    fn refuse_call(&mut self, i: usize, remote: u16, reason: Reason) {
        if let Some(t) = self.t(i) {
            let _ = t.enqueue(Msg::Cdn {
                local: 0,
                remote,
                result: reason.result,
                error: reason.error,
            });
        }
    }

    fn start_waiting_calls(&mut self, i: usize) {
        let th = self.thandle(i);
        for j in 0..S {
            let Some(s) = self.sessions[j].item.as_mut() else {
                continue;
            };
            if s.tunnel != th || s.state != SessionState::WaitTunnel {
                continue;
            }
            let (local, serial) = (s.local_id, s.call_serial);
            let Some(t) = self.tunnels[i].item.as_mut() else {
                return;
            };
            if t.enqueue(Msg::Icrq { local, serial }).is_ok() {
                s.state = SessionState::WaitReply;
            } else {
                s.state = SessionState::Closed;
                s.reason = Some(Reason::NO_FACILITIES);
                self.session_event(j, session::EV_DOWN);
            }
        }
    }

    /// Ends the tunnel from our side with a StopCCN (RFC 2661 §5.7).
    fn close(&mut self, now: Duration, i: usize, reason: Reason, origin: Origin) {
        let hold = self.config.close_hold;
        let Some(t) = self.t(i) else { return };
        if matches!(t.state, TunnelState::Closing | TunnelState::Dead) {
            return;
        }
        t.drop_unsent();
        t.reason = Some(reason);
        t.origin = origin;
        let _ = t.enqueue(Msg::StopCcn);
        t.state = TunnelState::Closing;
        t.timers[Timer::Hello as usize] = None;
        t.timers[Timer::Close as usize] = Some(now + hold);
        debug!(
            "l2tp: closing tunnel {} with result {}",
            t.local_id, reason.result
        );
        self.tunnel_event(i, tunnel::EV_DOWN);
        self.sessions_down(i);
        self.schedule(i);
        self.note(i);
    }

    fn sessions_down(&mut self, i: usize) {
        let th = self.thandle(i);
        for j in 0..S {
            let Some(s) = self.sessions[j].item.as_mut() else {
                continue;
            };
            if s.tunnel == th && s.state != SessionState::Closed {
                s.state = SessionState::Closed;
                s.origin = Origin::Tunnel;
                s.reason = None;
                self.session_event(j, session::EV_DOWN);
            }
        }
    }

    fn disconnect_internal(&mut self, j: usize, reason: Reason, origin: Origin) {
        let Some(s) = self.sessions[j].item.as_mut() else {
            return;
        };
        if s.state == SessionState::Closed {
            return;
        }
        let send = s.state != SessionState::WaitTunnel;
        s.state = SessionState::Closed;
        s.reason = Some(reason);
        s.origin = origin;
        let (local, remote, th) = (s.local_id, s.remote_id, s.tunnel);
        self.session_event(j, session::EV_DOWN);
        if let (true, Some(i)) = (send, self.tunnel_index(th)) {
            if let Some(t) = self.t(i) {
                let _ = t.enqueue(Msg::Cdn {
                    local,
                    remote,
                    result: reason.result,
                    error: reason.error,
                });
            }
            self.schedule(i);
        }
    }

    fn make_dead(&mut self, i: usize) {
        let slot = &mut self.tunnels[i];
        let Some(t) = slot.item.as_mut() else { return };
        t.state = TunnelState::Dead;
        t.timers = [None; 3];
        t.clear_queue();
        if t.events == 0 && !slot.in_events {
            self.free_tunnel(i);
        }
    }

    /// Time passed: retransmissions, HELLO, the end of closing holds
    /// (RFC 2661 §5.8, §6.5). Cheap when nothing is due.
    pub fn handle_timeout(&mut self, now: Duration) {
        match self.next_timeout.get() {
            Some(t) if t <= now => {}
            _ => return,
        }
        let mut next = None;
        for i in 0..T {
            if self.tunnels[i].item.is_none() {
                continue;
            }
            self.fire_timers(now, i);
            if let Some(t) = self.tunnels[i].item.as_ref() {
                next = min_opt(next, t.earliest_timer());
            }
        }
        self.next_timeout = MaybeTime::new(next);
    }

    fn fire_timers(&mut self, now: Duration, i: usize) {
        let (max, cap) = (self.config.max_retransmissions, self.config.retransmit_cap);
        let interval = self.config.hello_interval;
        let due = |t: &Tunnel<P>, k: Timer| t.timers[k as usize].is_some_and(|d| d <= now);
        let Some(t) = self.tunnels[i].item.as_mut() else {
            return;
        };
        if due(t, Timer::Retransmit) {
            if t.on_retransmit_timeout(max, cap) {
                self.counters.retransmissions += 1;
                self.schedule(i);
            } else {
                self.counters.tunnels_timed_out += 1;
                debug!("l2tp: tunnel {} timed out", t.local_id);
                if t.state != TunnelState::Closing {
                    t.origin = Origin::Timeout;
                    t.reason = None;
                    self.tunnel_event(i, tunnel::EV_DOWN);
                    self.sessions_down(i);
                }
                self.make_dead(i);
                return;
            }
        }
        let Some(t) = self.t(i) else { return };
        if due(t, Timer::Hello) {
            match t.state {
                TunnelState::Established => {
                    let idle_until = t.last_rx + interval;
                    if now >= idle_until {
                        if t.queue.is_empty() {
                            let _ = t.enqueue(Msg::Hello);
                            self.schedule(i);
                        }
                        if let Some(t) = self.t(i) {
                            t.timers[Timer::Hello as usize] = Some(now + interval);
                        }
                    } else {
                        t.timers[Timer::Hello as usize] = Some(idle_until);
                    }
                }
                TunnelState::WaitCtlConn | TunnelState::WaitCtlReply => {
                    t.timers[Timer::Hello as usize] = None;
                    self.close(now, i, Reason::FSM_ERROR, Origin::Timeout);
                }
                _ => t.timers[Timer::Hello as usize] = None,
            }
        }
        let Some(t) = self.t(i) else { return };
        if due(t, Timer::Close) {
            t.timers[Timer::Close as usize] = None;
            self.make_dead(i);
        }
    }

    // ----- commands ------------------------------------------------------

    /// LAC: opens a control connection to `peer` (SCCRQ, RFC 2661 §7.2.1).
    /// With a secret configured, the SCCRQ carries a Challenge.
    ///
    /// # Errors
    /// [`Error::TableFull`].
    pub fn connect(
        &mut self,
        now: Duration,
        peer: P,
        rng: &mut impl CryptoRng,
    ) -> Result<TunnelHandle, Error> {
        let i = self
            .tunnels
            .iter()
            .position(|s| s.item.is_none())
            .ok_or(Error::TableFull)?;
        let id = draw_id(i, T, rng);
        let mut t = Tunnel::new(peer, Role::Lac, id, now, self.config.retransmit_initial);
        rng.fill_bytes(&mut t.rv_seed);
        if self.config.secret.is_some() {
            let mut c = [0u8; 16];
            rng.fill_bytes(&mut c);
            t.our_challenge = Some(c);
        }
        t.timers[Timer::Hello as usize] = Some(now + self.setup_limit());
        let _ = t.enqueue(Msg::Sccrq);
        self.tunnels[i].item = Some(t);
        self.schedule(i);
        self.note(i);
        Ok(self.thandle(i))
    }

    /// LAC: places an incoming call in `tunnel` (ICRQ, RFC 2661 §7.4.1). If
    /// the tunnel is still being set up the ICRQ waits for it.
    ///
    /// # Errors
    /// [`Error::InvalidHandle`], [`Error::InvalidState`] (the tunnel is
    /// closing), [`Error::TableFull`], [`Error::QueueFull`].
    pub fn place_call(
        &mut self,
        now: Duration,
        tunnel: TunnelHandle,
        rng: &mut impl CryptoRng,
    ) -> Result<SessionHandle, Error> {
        let i = self.tunnel_index(tunnel).ok_or(Error::InvalidHandle)?;
        let state = self.tunnels[i].item.as_ref().map(|t| t.state);
        let established = match state {
            Some(TunnelState::Established) => true,
            Some(TunnelState::WaitCtlReply | TunnelState::WaitCtlConn) => false,
            _ => return Err(Error::InvalidState),
        };
        let j = self.free_session_slot().ok_or(Error::TableFull)?;
        let local = draw_id(j, S, rng);
        let serial = self.call_serial.wrapping_add(1);
        if established {
            let t = self.t(i).ok_or(Error::InvalidHandle)?;
            t.enqueue(Msg::Icrq { local, serial })
                .map_err(|_| Error::QueueFull)?;
            self.schedule(i);
        }
        self.call_serial = serial;
        let state = if established {
            SessionState::WaitReply
        } else {
            SessionState::WaitTunnel
        };
        let mut s = Session::new(tunnel, local, state, now);
        s.call_serial = serial;
        self.sessions[j].item = Some(s);
        if let Some(t) = self.t(i) {
            t.sessions += 1;
        }
        Ok(self.shandle(j))
    }

    /// Ends a session with a CDN carrying `reason` (RFC 2661 §5.4.2, e.g.
    /// [`Reason::ADMINISTRATIVE`]). `SessionDown` follows.
    ///
    /// # Errors
    /// [`Error::InvalidHandle`], [`Error::InvalidState`] (already closed).
    pub fn disconnect(&mut self, session: SessionHandle, reason: Reason) -> Result<(), Error> {
        let j = self.session_index(session).ok_or(Error::InvalidHandle)?;
        if self.sessions[j]
            .item
            .as_ref()
            .is_some_and(|s| s.state == SessionState::Closed)
        {
            return Err(Error::InvalidState);
        }
        self.disconnect_internal(j, reason, Origin::Local);
        Ok(())
    }

    /// Ends a tunnel and all its sessions with a StopCCN carrying `reason`
    /// (RFC 2661 §5.7, e.g. [`Reason::CLEAR`]). `TunnelDown` follows.
    ///
    /// # Errors
    /// [`Error::InvalidHandle`], [`Error::InvalidState`] (already closing).
    pub fn close_tunnel(
        &mut self,
        now: Duration,
        tunnel: TunnelHandle,
        reason: Reason,
    ) -> Result<(), Error> {
        let i = self.tunnel_index(tunnel).ok_or(Error::InvalidHandle)?;
        if self.tunnels[i]
            .item
            .as_ref()
            .is_some_and(|t| matches!(t.state, TunnelState::Closing | TunnelState::Dead))
        {
            return Err(Error::InvalidState);
        }
        self.close(now, i, reason, Origin::Local);
        Ok(())
    }

    /// Encapsulates a PPP frame in place: `buf[payload]` is the frame, and
    /// the data header (RFC 2661 §3.1; with Ns when sequencing is on) is
    /// written into the headroom just in front of it. Returns the peer and
    /// the range of the L2TP message to send. At most [`DATA_HEADROOM`]
    /// bytes of headroom are used.
    ///
    /// # Errors
    /// [`Error::InvalidHandle`], [`Error::InvalidState`] (session or tunnel
    /// not established), [`Error::BufferTooSmall`] (too little headroom or
    /// a range outside `buf`).
    pub fn send_data(
        &mut self,
        now: Duration,
        session: SessionHandle,
        buf: &mut [u8],
        payload: Range<usize>,
    ) -> Result<(P, Range<usize>), Error> {
        let j = self.session_index(session).ok_or(Error::InvalidHandle)?;
        let th = self.sessions[j]
            .item
            .as_ref()
            .map(|s| s.tunnel)
            .ok_or(Error::InvalidHandle)?;
        let i = self.tunnel_index(th).ok_or(Error::InvalidState)?;
        let (Some(t), Some(s)) = (
            self.tunnels[i].item.as_ref(),
            self.sessions[j].item.as_mut(),
        ) else {
            return Err(Error::InvalidHandle);
        };
        if s.state != SessionState::Established || t.state != TunnelState::Established {
            return Err(Error::InvalidState);
        }
        if payload.start > payload.end || payload.end > buf.len() {
            return Err(Error::BufferTooSmall {
                needed: payload.end.max(payload.start),
            });
        }
        let hdr = HeaderRepr {
            control: false,
            with_length: false,
            tunnel_id: t.remote_id,
            session_id: s.remote_id,
            sequence: s.send_seq.then_some((s.data_ns, 0)),
            offset_size: None,
            priority: false,
        };
        let hl = hdr.header_len();
        if payload.start < hl {
            return Err(Error::BufferTooSmall { needed: hl });
        }
        let start = payload.start - hl;
        hdr.emit(&mut buf[start..payload.start], 0);
        if s.send_seq {
            s.data_ns = s.data_ns.wrapping_add(1);
        }
        s.counters.tx_packets += 1;
        s.counters.tx_bytes += payload.len() as u64;
        s.counters.last_activity = now;
        Ok((t.peer, start..payload.end))
    }

    // ----- polls ---------------------------------------------------------

    /// The next control datagram to send, written into `buf` (at most
    /// [`MAX_CONTROL_LEN`] bytes). Drain until `None` after every input.
    ///
    /// # Errors
    /// [`BufferTooSmall`]; the datagram stays queued.
    pub fn poll_transmit(
        &mut self,
        now: Duration,
        buf: &mut [u8],
    ) -> Result<Option<Transmit<P>>, BufferTooSmall> {
        if let Some(r) = self.refusals.front().copied() {
            let mut m = Message::new(MessageType::StopCcn);
            m.assigned_tunnel_id = Some(0);
            m.result_code = Some(ResultCode {
                result: r.reason.result,
                error: r.reason.error,
                message: &[],
            });
            let len = emit_message(&m, r.tunnel_id, 0, 0, r.nr, None, buf)?;
            let _ = self.refusals.pop_front();
            return Ok(Some(Transmit { peer: r.peer, len }));
        }
        while let Some(&i) = self.tx.front() {
            let i = usize::from(i);
            enum Next {
                Message(Outgoing),
                Zlb,
                Nothing,
            }
            let next = match self.tunnels[i].item.as_ref() {
                Some(t) if t.state != TunnelState::Dead => {
                    match t.next_sendable().and_then(|k| t.queue.get(k).copied()) {
                        Some(o) => Next::Message(o),
                        None if t.ack_pending => Next::Zlb,
                        None => Next::Nothing,
                    }
                }
                _ => Next::Nothing,
            };
            match next {
                Next::Message(o) => {
                    let len = self.emit_control(i, o, buf)?;
                    let Some(t) = self.t(i) else { return Ok(None) };
                    t.mark_sent();
                    t.ack_pending = false;
                    if t.timers[Timer::Retransmit as usize].is_none() {
                        t.timers[Timer::Retransmit as usize] = Some(now + t.rto);
                    }
                    let peer = t.peer;
                    self.note(i);
                    return Ok(Some(Transmit { peer, len }));
                }
                Next::Zlb => {
                    if buf.len() < 12 {
                        return Err(BufferTooSmall { needed: 12 });
                    }
                    let Some(t) = self.t(i) else { return Ok(None) };
                    HeaderRepr::control(t.remote_id, 0, t.zlb_ns(), t.nr).emit(&mut buf[..12], 12);
                    t.ack_pending = false;
                    let peer = t.peer;
                    self.counters.tx_zlb += 1;
                    return Ok(Some(Transmit { peer, len: 12 }));
                }
                Next::Nothing => {
                    let _ = self.tx.pop_front();
                    self.tunnels[i].in_tx = false;
                }
            }
        }
        Ok(None)
    }

    /// Rebuilds a queued message from the tunnel's state and writes it.
    fn emit_control(&self, i: usize, o: Outgoing, buf: &mut [u8]) -> Result<usize, BufferTooSmall> {
        let Some(t) = self.tunnels[i].item.as_ref() else {
            return Ok(0);
        };
        let cfg = &self.config;
        let mut m = Message::new(MessageType::Hello);
        let mut sid = 0;
        let start = |m: &mut Message<'_>| {
            m.protocol_version = Some((1, 0));
            // Synchronous and asynchronous framing (RFC 2661 §4.4.3: S = 1, A = 2).
            m.framing_capabilities = Some(3);
            m.bearer_capabilities = Some(0);
            m.firmware_revision = Some(cfg.firmware_revision);
            // Cut so that every message fits MAX_CONTROL_LEN.
            m.vendor_name = cfg.vendor_name.map(|v| &v[..v.len().min(64)]);
            m.receive_window_size = Some(cfg.receive_window);
        };
        let reason;
        match o.msg {
            Msg::Sccrq => {
                m.message_type = MessageType::Sccrq;
                start(&mut m);
                m.host_name = Some(&cfg.host_name);
                m.assigned_tunnel_id = Some(t.local_id);
                m.challenge = t.our_challenge.as_ref().map(|c| &c[..]);
            }
            Msg::Sccrp => {
                m.message_type = MessageType::Sccrp;
                start(&mut m);
                m.host_name = Some(&cfg.host_name);
                m.assigned_tunnel_id = Some(t.local_id);
                m.challenge = t.our_challenge.as_ref().map(|c| &c[..]);
                m.challenge_response = t.response;
            }
            Msg::Scccn => {
                m.message_type = MessageType::Scccn;
                m.challenge_response = t.response;
            }
            Msg::StopCcn => {
                m.message_type = MessageType::StopCcn;
                m.assigned_tunnel_id = Some(t.local_id);
                reason = t.reason.unwrap_or(Reason::CLEAR);
                m.result_code = Some(ResultCode {
                    result: reason.result,
                    error: reason.error,
                    message: &[],
                });
            }
            Msg::Hello => {}
            Msg::Icrq { local, serial } => {
                m.message_type = MessageType::Icrq;
                m.assigned_session_id = Some(local);
                m.call_serial_number = Some(serial);
                m.bearer_type = Some(0);
            }
            Msg::Icrp { local, remote } => {
                m.message_type = MessageType::Icrp;
                m.assigned_session_id = Some(local);
                sid = remote;
            }
            Msg::Iccn { local: _, remote } => {
                m.message_type = MessageType::Iccn;
                // A virtual call: report 100 Mbit/s and synchronous framing.
                m.tx_connect_speed = Some(100_000_000);
                m.framing_type = Some(1);
                sid = remote;
            }
            Msg::Cdn {
                local,
                remote,
                result,
                error,
            } => {
                m.message_type = MessageType::Cdn;
                m.assigned_session_id = Some(local);
                m.result_code = Some(ResultCode {
                    result,
                    error,
                    message: &[],
                });
                sid = remote;
            }
        }
        let secret = cfg.secret.as_ref().filter(|_| cfg.hide_avps);
        // A fresh, unpredictable Random Vector per Ns (RFC 2661 §4.3),
        // derived so that a retransmission needs no stored bytes.
        let rv: [u8; 16] = match secret {
            Some(_) => {
                let mut h = Md5::new();
                h.update(t.rv_seed);
                h.update(o.ns.to_be_bytes());
                h.update(t.local_id.to_be_bytes());
                h.finalize().into()
            }
            None => [0; 16],
        };
        let hiding = secret.map(|s| Hiding {
            secret: s.as_bytes(),
            random_vector: &rv,
        });
        emit_message(&m, t.remote_id, sid, o.ns, t.nr, hiding.as_ref(), buf)
    }

    /// The next event, if any. Drain until `None` after every input.
    pub fn poll_event(&mut self) -> Option<Event<P>> {
        while let Some(&i) = self.tunnel_events.front() {
            let i = usize::from(i);
            let tunnel = self.thandle(i);
            let slot = &mut self.tunnels[i];
            let Some(t) = slot.item.as_mut() else {
                let _ = self.tunnel_events.pop_front();
                slot.in_events = false;
                continue;
            };
            let peer = t.peer;
            if t.events & tunnel::EV_UP != 0 {
                t.events &= !tunnel::EV_UP;
                if t.events == 0 {
                    let _ = self.tunnel_events.pop_front();
                    slot.in_events = false;
                }
                return Some(Event::TunnelUp { tunnel, peer });
            }
            let _ = self.tunnel_events.pop_front();
            slot.in_events = false;
            if t.events & tunnel::EV_DOWN != 0 {
                t.events = 0;
                let ev = Event::TunnelDown {
                    tunnel,
                    peer,
                    reason: t.reason,
                    origin: t.origin,
                };
                if t.state == TunnelState::Dead {
                    self.free_tunnel(i);
                }
                return Some(ev);
            }
        }
        while let Some(&j) = self.session_events.front() {
            let j = usize::from(j);
            let session = self.shandle(j);
            let slot = &mut self.sessions[j];
            let Some(s) = slot.item.as_mut() else {
                let _ = self.session_events.pop_front();
                slot.in_events = false;
                continue;
            };
            let tunnel = s.tunnel;
            for flag in [session::EV_INCOMING, session::EV_UP] {
                if s.events & flag != 0 {
                    s.events &= !flag;
                    if s.events == 0 {
                        let _ = self.session_events.pop_front();
                        slot.in_events = false;
                    }
                    return Some(if flag == session::EV_UP {
                        Event::SessionUp { tunnel, session }
                    } else {
                        Event::IncomingCall { tunnel, session }
                    });
                }
            }
            let _ = self.session_events.pop_front();
            slot.in_events = false;
            if s.events & session::EV_DOWN != 0 {
                s.events = 0;
                let ev = Event::SessionDown {
                    tunnel,
                    session,
                    reason: s.reason,
                    q931: s.q931,
                    origin: s.origin,
                };
                self.free_session(j);
                return Some(ev);
            }
        }
        None
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next.
    /// O(1): a lower bound kept up to date as timers are set; it can be
    /// early (a timer was pushed back), never late.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.next_timeout.get()
    }
}

/// Reads the Message Type AVP that must come first (RFC 2661 §4.1), and
/// whether its M bit is set.
fn first_message_type(msg: &[u8]) -> Option<(MessageType, bool)> {
    let avp = AvpIter::new(msg.get(12..)?).next()?.ok()?;
    if avp.ietf_type() != Some(AvpType::MessageType) || avp.hidden || avp.value.len() != 2 {
        return None;
    }
    Some((
        MessageType::from(u16::from_be_bytes([avp.value[0], avp.value[1]])),
        avp.mandatory,
    ))
}

fn learn_peer<P>(t: &mut Tunnel<P>, m: &Message<'_>) {
    if let Some(w) = m.receive_window_size {
        t.peer_rws = w.max(1);
        t.ssthresh = t.peer_rws;
    }
    if let Some(h) = m.host_name {
        t.host_name.clear();
        let n = h.len().min(t.host_name.capacity());
        let _ = t.host_name.extend_from_slice(&h[..n]);
    }
    if let Some(v) = m.vendor_name {
        t.vendor_name.clear();
        let n = v.len().min(t.vendor_name.capacity());
        let _ = t.vendor_name.extend_from_slice(&v[..n]);
    }
    t.firmware_revision = m.firmware_revision;
    t.framing_capabilities = m.framing_capabilities.unwrap_or(0);
    t.bearer_capabilities = m.bearer_capabilities.unwrap_or(0);
}

fn emit_message(
    m: &Message<'_>,
    tunnel_id: u16,
    session_id: u16,
    ns: u16,
    nr: u16,
    hiding: Option<&Hiding<'_>>,
    buf: &mut [u8],
) -> Result<usize, BufferTooSmall> {
    let len = 12 + m.buffer_len(hiding);
    if buf.len() < len {
        return Err(BufferTooSmall { needed: len });
    }
    let total = u16::try_from(len).map_err(|_| BufferTooSmall { needed: len })?;
    HeaderRepr::control(tunnel_id, session_id, ns, nr).emit(&mut buf[..12], total);
    m.emit(&mut buf[12..len], hiding);
    Ok(len)
}

pub(crate) const fn tunnel_slot_size<P>() -> usize {
    size_of::<Slot<Tunnel<P>>>()
}

pub(crate) const fn session_slot_size() -> usize {
    size_of::<Slot<Session>>()
}
