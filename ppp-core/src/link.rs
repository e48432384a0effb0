//! [`Link`]: one PPP link (one L2TP session), authenticator or peer.

use core::net::Ipv4Addr;
use core::ops::Range;
use core::time::Duration;

use rand_core::CryptoRng;

use crate::Error;
use crate::auth::{Accept, Auth, Outcome, TimerOutcome};
use crate::config::{Config, ConfigError, Role, Settings};
use crate::cp::{Cp, Handled};
use crate::event::{DownReason, Event, Ipv4Config, Queued};
use crate::fsm::{Actions, Reply, State, pending};
use crate::ipcp::{Ipcp, configured};
use crate::lcp::Lcp;
use crate::time::{Deadline, millis};
use crate::wire::frame::{self, Frame};
use crate::wire::lcp::AuthMethod;
use crate::wire::{Protocol, cp, eap};

/// The link phases of RFC 1661 §3.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Phase {
    /// No link (before `open`, after the link went down).
    Dead,
    /// LCP negotiates.
    Establish,
    /// Authentication runs.
    Authenticate,
    /// IPCP negotiates or is Opened.
    Network,
    /// LCP is terminating.
    Terminate,
}

/// What [`Link::handle_frame`] found in a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Received {
    /// A control packet, consumed.
    Control,
    /// An IPv4 datagram (IPCP is Opened): its range in the frame buffer,
    /// untouched and uncopied.
    Ipv4(Range<usize>),
    /// Authenticator with EAP: an EAP Response from the peer to relay to the
    /// authentication server (the first is the Identity). Its range in the
    /// frame buffer.
    Eap(Range<usize>),
}

/// Counters for the session view.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Counters {
    /// Octets of PPP frames received (control and data).
    pub rx_bytes: u64,
    /// PPP frames received.
    pub rx_packets: u64,
    /// Octets of PPP frames sent.
    pub tx_bytes: u64,
    /// PPP frames sent.
    pub tx_packets: u64,
    /// Frames refused: malformed, unexpected, IPv4 before IPCP is Opened,
    /// unsupported protocols.
    pub rx_discarded: u32,
    /// IPv4 datagrams `encapsulate_ipv4` refused.
    pub tx_dropped: u32,
}

/// LCP keepalive (RFC 1661 §5.8).
#[derive(Debug, Clone)]
struct Echo {
    timer: Deadline,
    outstanding: u8,
    id: u8,
    request: bool,
}

/// Bytes of a rejected packet copied into Code-Reject/Protocol-Reject
/// (RFC 1661 §5.6/§5.7 allow truncation), and of Echo-Request data echoed
/// back (RFC 1661 §5.8 leaves the data to the sender's use; pppd and
/// Windows send the magic number alone).
const EXTRA_COPY: usize = 16;

/// The one pending packet we originate outside the automata: Code-Reject,
/// Protocol-Reject or Echo-Reply. One at a time: if a second is needed
/// before the first is polled, the second is dropped and the peer's
/// retransmission brings it back.
#[derive(Debug, Clone)]
struct Extra {
    kind: u8,
    /// Protocol-Reject: the rejected protocol. Echo-Reply: the Identifier.
    field: u16,
    len: u8,
    data: [u8; EXTRA_COPY],
}

mod extra {
    pub const NONE: u8 = 0;
    pub const LCP_CODE_REJECT: u8 = 1;
    pub const IPCP_CODE_REJECT: u8 = 2;
    pub const PROTOCOL_REJECT: u8 = 3;
    pub const ECHO_REPLY: u8 = 4;
}

const EVENTS: usize = 6;

/// A small ring of events. Full: new events are dropped, except `Down`,
/// which takes the last place (nothing follows it).
#[derive(Debug, Clone)]
struct Events {
    q: [Queued; EVENTS],
    head: u8,
    len: u8,
}

impl Events {
    fn push(&mut self, e: Queued) {
        let len = usize::from(self.len);
        if len == EVENTS {
            if let Queued::Down(_) = e {
                let last = (usize::from(self.head) + EVENTS - 1) % EVENTS;
                self.q[last] = e;
            }
            return;
        }
        self.q[(usize::from(self.head) + len) % EVENTS] = e;
        self.len += 1;
    }

    fn pop(&mut self) -> Option<Queued> {
        if self.len == 0 {
            return None;
        }
        let e = self.q[usize::from(self.head)];
        self.head = crate::wire::len8((usize::from(self.head) + 1) % EVENTS);
        self.len -= 1;
        Some(e)
    }
}

/// One PPP link: LCP, authentication and IPCP over one L2TP session, as
/// authenticator (gateway) or peer (client).
///
/// Method groups, as in quinn-proto's `Connection`:
/// - **handlers**: [`Link::handle_frame`], [`Link::handle_timeout`];
/// - **commands**: [`Link::open`], [`Link::close`], [`Link::lower_down`],
///   [`Link::accept`], [`Link::reject`], [`Link::set_peer_address`],
///   [`Link::send_eap`]; and the data path [`Link::encapsulate_ipv4`];
/// - **polls**, in this order after every handler or command:
///   [`Link::poll_transmit`] until `None`, [`Link::poll_event`] until
///   `None`, then sleep until [`Link::poll_timeout`];
/// - **getters**: [`Link::phase`], [`Link::lcp_state`], [`Link::ipcp_state`],
///   [`Link::auth_method`], [`Link::ipv4_config`], [`Link::counters`], ...
#[derive(Debug, Clone)]
pub struct Link {
    s: Settings,
    phase: Phase,
    lcp: Cp<Lcp>,
    ipcp: Cp<Ipcp>,
    /// The pending Configure-Ack/Nak/Reject (LCP or IPCP).
    reply: Reply,
    auth: Auth,
    echo: Echo,
    extra: Extra,
    events: Events,
    down_reason: Option<DownReason>,
    /// Identifier for the LCP packets we originate outside the automaton.
    ext_id: u8,
    address_requested: bool,
    counters: Counters,
    last_activity: u64,
}

// The memory budget of one link (issue 3), checked at compile time on every
// target: a field that makes it grow must pay for itself elsewhere.
const _: () = assert!(size_of::<Link>() <= 512);

/// Headroom [`Link::encapsulate_ipv4`] needs: Address, Control, Protocol.
pub const MAX_HEADROOM: usize = frame::MAX_HEADER_LEN;

impl Link {
    /// A link in the Dead phase; [`Link::open`] starts it.
    ///
    /// # Errors
    /// [`ConfigError`] for a configuration it cannot work with.
    pub fn new(config: &Config) -> Result<Self, ConfigError> {
        config.validate()?;
        let mut auth = Auth::new();
        let password = if config.role == Role::Peer {
            config.password.as_bytes()
        } else {
            &[]
        };
        if !auth.set_own_credentials(&config.name, password) {
            return Err(ConfigError::CredentialsTooLong);
        }
        Ok(Self {
            s: Settings::new(config),
            phase: Phase::Dead,
            lcp: Cp::new(Lcp::new()),
            ipcp: Cp::new(Ipcp::new()),
            reply: Reply::new(),
            auth,
            echo: Echo {
                timer: Deadline::NONE,
                outstanding: 0,
                id: 0,
                request: false,
            },
            extra: Extra {
                kind: extra::NONE,
                field: 0,
                len: 0,
                data: [0; EXTRA_COPY],
            },
            events: Events {
                q: [Queued::NetworkDown; EVENTS],
                head: 0,
                len: 0,
            },
            down_reason: None,
            ext_id: 0,
            address_requested: false,
            counters: Counters::default(),
            last_activity: 0,
        })
    }

    // ---- Getters ----

    /// The role.
    pub fn role(&self) -> Role {
        self.s.role
    }

    /// The RFC 1661 phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The LCP automaton's state.
    pub fn lcp_state(&self) -> State {
        self.lcp.fsm.state
    }

    /// The IPCP automaton's state.
    pub fn ipcp_state(&self) -> State {
        self.ipcp.fsm.state
    }

    /// The authentication method negotiated in LCP (the session view's
    /// "auth mode"), once LCP has chosen one.
    pub fn auth_method(&self) -> Option<AuthMethod> {
        match self.s.role {
            Role::Authenticator => self.lcp.policy.auth,
            Role::Peer => self.lcp.policy.peer.auth,
        }
        .filter(|_| self.lcp.fsm.state == State::Opened || self.auth.method.is_some())
    }

    /// The largest IPv4 datagram the peer accepts (its MRU).
    pub fn peer_mru(&self) -> u16 {
        self.lcp.policy.peer.mru
    }

    /// Our Magic-Number (zero when not negotiated).
    pub fn magic_number(&self) -> u32 {
        self.lcp.policy.magic
    }

    /// The IPv4 configuration, while IPCP is Opened.
    pub fn ipv4_config(&self) -> Option<Ipv4Config> {
        (self.ipcp.fsm.state == State::Opened).then(|| self.current_ipv4_config())
    }

    fn current_ipv4_config(&self) -> Ipv4Config {
        let p = &self.ipcp.policy;
        let unspecified = Ipv4Addr::UNSPECIFIED;
        match self.s.role {
            Role::Authenticator => {
                let acked = |i: usize| {
                    (p.peer.acked & (1 << i) != 0)
                        .then(|| configured(&self.s, i))
                        .flatten()
                };
                Ipv4Config {
                    local: p.want.get(0).unwrap_or(unspecified),
                    peer: p.assigned.unwrap_or(unspecified),
                    dns: [acked(1), acked(3)],
                    nbns: [acked(2), acked(4)],
                }
            }
            Role::Peer => {
                let got = |i: usize| p.want.get(i).filter(|a| !a.is_unspecified());
                Ipv4Config {
                    local: p.want.get(0).unwrap_or(unspecified),
                    peer: p.peer.address.unwrap_or(unspecified),
                    dns: [got(1), got(3)],
                    nbns: [got(2), got(4)],
                }
            }
        }
    }

    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// When the last frame arrived.
    pub fn last_activity(&self) -> Duration {
        Duration::from_millis(self.last_activity)
    }

    // ---- Commands ----

    /// Starts the link: LCP Open and Up (RFC 1661 §4.3), the lower layer
    /// (the L2TP session) being established. Sends the first
    /// Configure-Request.
    ///
    /// Only from the Dead phase (a new link, or one that went down): the
    /// automata start from Initial again.
    pub fn open<R: CryptoRng>(&mut self, now: Duration, rng: &mut R) {
        if self.phase != Phase::Dead {
            return;
        }
        self.lcp.fsm = crate::fsm::Fsm::new();
        self.ipcp.fsm = crate::fsm::Fsm::new();
        self.echo.timer = Deadline::NONE;
        self.phase = Phase::Establish;
        self.down_reason = None;
        self.address_requested = false;
        let a = self.lcp.open(now, &self.s);
        self.lcp.policy.draw_magic(rng);
        self.lcp_actions(now, rng, a);
    }

    /// Closes the link: LCP Terminate-Request, then [`Event::Down`] with
    /// [`DownReason::AdminClose`] when the peer acknowledges (or after
    /// Max-Terminate tries).
    pub fn close(&mut self, now: Duration) {
        self.close_with(now, DownReason::AdminClose);
    }

    /// The lower layer (L2TP session) is gone: the link is down at once.
    pub fn lower_down(&mut self, now: Duration) {
        if self.phase == Phase::Dead {
            return;
        }
        self.down_reason.get_or_insert(DownReason::LowerDown);
        let a = self.lcp.down(now, &self.s);
        self.lcp_layer(now, a);
        if self.phase != Phase::Dead {
            self.finish();
        }
    }

    /// Authenticator: the credentials of the pending [`Event::AuthRequest`]
    /// (or the EAP conversation) are good. Sends Ack/Success and starts
    /// IPCP.
    ///
    /// # Errors
    /// [`Error::InvalidState`] when no decision is pending,
    /// [`Error::MissingAuthenticatorResponse`] for MS-CHAP-V2 with
    /// [`Accept::Plain`].
    pub fn accept(&mut self, now: Duration, accept: Accept) -> Result<(), Error> {
        if self.s.role != Role::Authenticator || self.phase != Phase::Authenticate {
            return Err(Error::InvalidState);
        }
        let method = self.auth.accept(accept)?;
        self.events.push(Queued::Authenticated(method));
        self.network_phase(now);
        Ok(())
    }

    /// Authenticator: the credentials are bad. Sends Nak/Failure (MS-CHAP:
    /// `E=691 R=0`), then closes the link with [`DownReason::AuthFailed`].
    ///
    /// # Errors
    /// [`Error::InvalidState`] when no decision is pending.
    pub fn reject(&mut self, now: Duration) -> Result<(), Error> {
        if self.s.role != Role::Authenticator || self.phase != Phase::Authenticate {
            return Err(Error::InvalidState);
        }
        self.auth.reject()?;
        self.close_with(now, DownReason::AuthFailed);
        Ok(())
    }

    /// Authenticator: the address for the peer (from a pool, or RADIUS
    /// Framed-IP-Address). May be given before it is asked for; IPCP starts
    /// once authentication is done and the address is known.
    ///
    /// # Errors
    /// [`Error::InvalidState`] for a peer-role link or the address 0.0.0.0.
    pub fn set_peer_address(&mut self, now: Duration, address: Ipv4Addr) -> Result<(), Error> {
        if self.s.role != Role::Authenticator || address.is_unspecified() {
            return Err(Error::InvalidState);
        }
        self.ipcp.policy.assigned = Some(address);
        if self.phase == Phase::Network && self.ipcp.fsm.state == State::Initial {
            self.open_ipcp(now);
        }
        Ok(())
    }

    /// Authenticator: the DNS and NBNS (WINS) servers to offer the peer
    /// (RFC 1877), when they are only known after authentication (the
    /// group policy of the tunnel group the user switched to). Takes effect
    /// for IPCP negotiations that follow.
    ///
    /// # Errors
    /// [`Error::InvalidState`] for a peer-role link.
    pub fn set_name_servers(
        &mut self,
        dns: [Option<Ipv4Addr>; 2],
        nbns: [Option<Ipv4Addr>; 2],
    ) -> Result<(), Error> {
        if self.s.role != Role::Authenticator {
            return Err(Error::InvalidState);
        }
        self.s.ipcp.dns = dns;
        self.s.ipcp.nbns = nbns;
        Ok(())
    }

    /// Authenticator with EAP: frames an EAP Request from the authentication
    /// server for the peer, in place: `buf[eap]` holds the EAP packet, and
    /// the PPP header is written into the 4 bytes of headroom in front of
    /// it. Send the returned range like any frame. The request is
    /// outstanding until the peer answers; if it does not within the
    /// restart interval, [`Event::EapRetransmit`] asks for it again (RFC
    /// 3748 §4.3 puts retransmission on the authenticator, and the caller
    /// holds the packet), up to Max-Configure times.
    ///
    /// # Errors
    /// [`Error::InvalidState`] unless an EAP authentication is running,
    /// [`Error::Malformed`] unless `buf[eap]` is an EAP Request,
    /// [`Error::BufferTooSmall`] without headroom.
    pub fn send_eap(
        &mut self,
        now: Duration,
        buf: &mut [u8],
        eap: Range<usize>,
    ) -> Result<Range<usize>, Error> {
        if self.s.role != Role::Authenticator || self.phase != Phase::Authenticate {
            return Err(Error::InvalidState);
        }
        let packet = buf
            .get(eap.clone())
            .ok_or(Error::BufferTooSmall { needed: eap.end })?;
        let identifier = match eap::Repr::parse(packet)? {
            eap::Repr::Request { identifier, .. } => identifier,
            _ => return Err(Error::InvalidState),
        };
        if eap.start < 4 {
            return Err(Error::BufferTooSmall {
                needed: 4 - eap.start + buf.len(),
            });
        }
        self.auth.eap_request_sent(now, &self.s, identifier)?;
        frame::Repr {
            protocol: Protocol::Eap,
            compress_address_control: false,
            compress_protocol: false,
        }
        .emit(&mut buf[eap.start - 4..eap.start]);
        let r = eap.start - 4..eap.end;
        self.count_tx(r.len());
        Ok(r)
    }

    /// The downlink data path: writes the PPP header in front of the IPv4
    /// datagram at `buf[datagram]` (into the caller's headroom, at most
    /// [`MAX_HEADROOM`] bytes), honouring the peer's ACFC and PFC, and
    /// returns the frame's range. Nothing is copied.
    ///
    /// # Errors
    /// [`Error::NetworkNotOpen`] before IPCP is Opened,
    /// [`Error::ExceedsMru`] for a datagram longer than the peer's MRU,
    /// [`Error::BufferTooSmall`] without enough headroom. Each is counted in
    /// `tx_dropped`.
    pub fn encapsulate_ipv4(
        &mut self,
        _now: Duration,
        buf: &mut [u8],
        datagram: Range<usize>,
    ) -> Result<Range<usize>, Error> {
        let r = self.encapsulate(buf, datagram);
        match r {
            Ok(ref range) => self.count_tx(range.len()),
            Err(_) => self.counters.tx_dropped = self.counters.tx_dropped.saturating_add(1),
        }
        r
    }

    fn encapsulate(&self, buf: &mut [u8], datagram: Range<usize>) -> Result<Range<usize>, Error> {
        if self.ipcp.fsm.state != State::Opened {
            return Err(Error::NetworkNotOpen);
        }
        if datagram.end > buf.len() || datagram.start > datagram.end {
            return Err(Error::BufferTooSmall {
                needed: datagram.end,
            });
        }
        let mru = self.lcp.policy.peer.mru;
        if datagram.len() > usize::from(mru) {
            return Err(Error::ExceedsMru { mru });
        }
        let peer = &self.lcp.policy.peer;
        let header = frame::Repr {
            protocol: Protocol::Ipv4,
            compress_address_control: peer.acfc,
            compress_protocol: peer.pfc,
        };
        let hl = header.header_len();
        if datagram.start < hl {
            return Err(Error::BufferTooSmall {
                needed: buf.len() + hl - datagram.start,
            });
        }
        header.emit(&mut buf[datagram.start - hl..datagram.start]);
        Ok(datagram.start - hl..datagram.end)
    }

    // ---- Handlers ----

    /// One PPP frame from the lower layer (Address and Control present or
    /// not, Protocol one or two octets). Control packets are consumed; an
    /// IPv4 datagram's range is returned once IPCP is Opened.
    ///
    /// # Errors
    /// See [`Error`]: the frame was refused (and counted); any answer the
    /// RFC requires (Protocol-Reject, Code-Reject) is queued.
    pub fn handle_frame<R: CryptoRng>(
        &mut self,
        now: Duration,
        frame: &mut [u8],
        rng: &mut R,
    ) -> Result<Received, Error> {
        self.counters.rx_packets = self.counters.rx_packets.saturating_add(1);
        self.counters.rx_bytes = self.counters.rx_bytes.saturating_add(frame.len() as u64);
        self.last_activity = millis(now);
        let r = self.dispatch(now, frame, rng);
        if let Err(e) = r {
            self.counters.rx_discarded = self.counters.rx_discarded.saturating_add(1);
            debug!("ppp: frame refused: {:?}", e);
        }
        r
    }

    fn dispatch<R: CryptoRng>(
        &mut self,
        now: Duration,
        frame: &[u8],
        rng: &mut R,
    ) -> Result<Received, Error> {
        if self.phase == Phase::Dead {
            return Err(Error::Unexpected);
        }
        let f = Frame::new_checked(frame)?;
        let hl = f.header_len();
        let payload = &frame[hl..];
        match f.protocol() {
            Protocol::Lcp => self.handle_lcp(now, payload, rng),
            p @ (Protocol::Pap | Protocol::Chap | Protocol::Eap) => {
                self.handle_auth(now, p, hl, frame.len(), payload, rng)
            }
            Protocol::Ipcp => {
                if self.phase == Phase::Authenticate && self.auth.peer_eap_implied_success() {
                    self.events.push(Queued::Authenticated(AuthMethod::Eap));
                    self.network_phase(now);
                }
                if self.phase != Phase::Network || self.ipcp.fsm.state == State::Initial {
                    // RFC 1661 §3.5: NCP packets before the Network phase
                    // are silently discarded.
                    return Err(Error::Unexpected);
                }
                let h = self
                    .ipcp
                    .handle_packet(now, &self.s, rng, payload, &mut self.reply)?;
                match h {
                    Handled::Fsm(a) => {
                        if a.has(Actions::SCJ) {
                            self.queue_extra(extra::IPCP_CODE_REJECT, 0, payload);
                        }
                        // Packets finish IPCP by a catastrophic Code-Reject, or
                        // by the Terminate-Ack of a termination.
                        let reason = if payload.first() == Some(&7) {
                            DownReason::ProtocolRejected
                        } else {
                            DownReason::PeerTerminated
                        };
                        self.ipcp_actions(now, a, reason);
                    }
                    Handled::Fatal(reason) => self.close_with(now, reason),
                    // IPCP has no extension codes.
                    Handled::Extension(_) => return Err(Error::Unexpected),
                }
                Ok(Received::Control)
            }
            Protocol::Ipv4 => {
                if self.ipcp.fsm.state == State::Opened {
                    Ok(Received::Ipv4(hl..frame.len()))
                } else {
                    Err(Error::NetworkNotOpen)
                }
            }
            other => {
                let number = u16::from(other);
                // RFC 1661 §5.7: only in the LCP Opened state.
                if self.lcp.fsm.state == State::Opened {
                    self.queue_extra(extra::PROTOCOL_REJECT, number, payload);
                }
                Err(Error::UnsupportedProtocol(number))
            }
        }
    }

    fn handle_lcp<R: CryptoRng>(
        &mut self,
        now: Duration,
        payload: &[u8],
        rng: &mut R,
    ) -> Result<Received, Error> {
        let h = self
            .lcp
            .handle_packet(now, &self.s, rng, payload, &mut self.reply)?;
        match h {
            Handled::Fsm(a) => {
                if a.has(Actions::SCJ) {
                    self.queue_extra(extra::LCP_CODE_REJECT, 0, payload);
                }
                if a.has(Actions::ILLEGAL) {
                    return Err(Error::Unexpected);
                }
                match payload.first() {
                    // Terminate-Request.
                    Some(5) => {
                        self.down_reason.get_or_insert(DownReason::PeerTerminated);
                    }
                    // RXJ-: a Code-Reject of something LCP cannot do without.
                    Some(7) if a.has(Actions::TLF | Actions::STR) => {
                        self.down_reason.get_or_insert(DownReason::ProtocolRejected);
                    }
                    _ => {}
                }
                self.lcp_actions(now, rng, a);
            }
            Handled::Fatal(reason) => self.close_with(now, reason),
            Handled::Extension(repr) => self.lcp_extension(now, repr)?,
        }
        Ok(Received::Control)
    }

    fn lcp_extension(&mut self, now: Duration, repr: cp::Repr<'_>) -> Result<(), Error> {
        use crate::fsm::Input;
        let t = &self.s.timers;
        let ours = self.lcp.policy.magic;
        match repr {
            cp::Repr::EchoRequest {
                identifier,
                magic_number,
                data,
            } => {
                if ours != 0 && magic_number == ours {
                    // RFC 1661 §6.4: our own number means a looped-back link.
                    debug!("lcp: echo request with our magic number");
                    return Err(Error::Unexpected);
                }
                // RXR: ser in Opened, nothing elsewhere.
                if !self
                    .lcp
                    .fsm
                    .event(Input::Rxr, now, t, None)
                    .has(Actions::SER)
                {
                    return Err(Error::Unexpected);
                }
                self.queue_extra(extra::ECHO_REPLY, u16::from(identifier), data);
            }
            cp::Repr::EchoReply { magic_number, .. } => {
                self.lcp.fsm.event(Input::Rxr, now, t, None);
                if self.lcp.fsm.state != State::Opened || (ours != 0 && magic_number == ours) {
                    return Err(Error::Unexpected);
                }
                // Any reply shows the peer alive, also a late one to an
                // earlier request (a slow path must not look dead).
                self.echo.outstanding = 0;
            }
            cp::Repr::DiscardRequest { .. } => {
                self.lcp.fsm.event(Input::Rxr, now, t, None);
            }
            cp::Repr::ProtocolReject {
                rejected_protocol, ..
            } => {
                if self.lcp.fsm.state != State::Opened {
                    return Err(Error::Unexpected);
                }
                match Protocol::from(rejected_protocol) {
                    // RXJ- for IPCP: it finishes, and the link with it.
                    Protocol::Ipcp => {
                        let a = self.ipcp.fsm.event(Input::RxjBad, now, t, None);
                        self.ipcp_actions(now, a, DownReason::ProtocolRejected);
                    }
                    // RXJ- for LCP itself.
                    Protocol::Lcp => {
                        self.down_reason.get_or_insert(DownReason::ProtocolRejected);
                        let a = self.lcp.fsm.event(Input::RxjBad, now, t, None);
                        self.lcp_layer(now, a);
                    }
                    p @ (Protocol::Pap | Protocol::Chap | Protocol::Eap)
                        if self.auth.method.map(AuthMethod::ppp_protocol) == Some(p) =>
                    {
                        self.close_with(now, DownReason::ProtocolRejected);
                    }
                    // RXJ+: nothing we send.
                    _ => {}
                }
            }
            // Identification (Windows sends its version and host name) and
            // Time-Remaining (RFC 1570): nothing to answer.
            _ => {}
        }
        Ok(())
    }

    fn handle_auth<R: CryptoRng>(
        &mut self,
        now: Duration,
        protocol: Protocol,
        hl: usize,
        end: usize,
        payload: &[u8],
        rng: &mut R,
    ) -> Result<Received, Error> {
        // RFC 1661 §3.5: authentication packets belong to the Authentication
        // phase; a repeated Response or a re-challenge may come later.
        if !matches!(self.phase, Phase::Authenticate | Phase::Network) {
            return Err(Error::Unexpected);
        }
        let method = self.auth.method.ok_or(Error::Unexpected)?;
        if method.ppp_protocol() != protocol {
            return Err(Error::Unexpected);
        }
        let authenticator = self.s.role == Role::Authenticator;
        let outcome = match protocol {
            Protocol::Pap => {
                let p = crate::wire::pap::Repr::parse(payload)?;
                if authenticator {
                    self.auth.authenticator_pap(p)
                } else {
                    self.auth.peer_pap(p)
                }
            }
            Protocol::Chap => {
                let p = crate::wire::chap::Repr::parse(payload)?;
                if authenticator {
                    self.auth.authenticator_chap(p)
                } else {
                    self.auth.peer_chap(now, &self.s, rng, p)
                }
            }
            _ => {
                let p = eap::Repr::parse(payload)?;
                if authenticator {
                    self.auth.authenticator_eap(p)
                } else {
                    self.auth.peer_eap(p)
                }
            }
        };
        match outcome {
            Outcome::Nothing => {}
            Outcome::Request => self.events.push(Queued::AuthRequest),
            Outcome::Eap => {
                let len = usize::from(crate::wire::be16(payload, 2));
                return Ok(Received::Eap(hl..(hl + len).min(end)));
            }
            Outcome::Succeeded => {
                if self.phase == Phase::Authenticate {
                    self.events.push(Queued::Authenticated(method));
                    self.network_phase(now);
                }
            }
            Outcome::Failed(reason) => self.close_with(now, reason),
        }
        Ok(Received::Control)
    }

    /// Runs the timers that are due.
    pub fn handle_timeout<R: CryptoRng>(&mut self, now: Duration, rng: &mut R) {
        if self.phase == Phase::Dead {
            return;
        }
        let state = self.lcp.fsm.state;
        if let Some(a) = self.lcp.handle_timeout(now, &self.s) {
            if a.has(Actions::TLF) && self.down_reason.is_none() {
                self.down_reason = Some(match state {
                    State::Stopping => DownReason::PeerTerminated,
                    State::Closing => DownReason::AdminClose,
                    _ => DownReason::MaxConfigure,
                });
            }
            self.lcp_actions(now, rng, a);
        }
        let state = self.ipcp.fsm.state;
        if let Some(a) = self.ipcp.handle_timeout(now, &self.s) {
            let reason = if state == State::Stopping {
                DownReason::PeerTerminated
            } else {
                DownReason::MaxConfigure
            };
            self.ipcp_actions(now, a, reason);
        }
        match self.auth.handle_timeout(now, &self.s) {
            TimerOutcome::Nothing => {}
            TimerOutcome::EapRetransmit => self.events.push(Queued::EapRetransmit),
            // The same deadline bounds the wait for the peer's address.
            TimerOutcome::Down(_) if self.phase == Phase::Network => {
                self.close_with(now, DownReason::NoAddress);
            }
            TimerOutcome::Down(reason) => self.close_with(now, reason),
        }
        if self.echo.timer.is_due(now) {
            if self.echo.outstanding >= self.s.echo_failures {
                self.echo.timer = Deadline::NONE;
                self.close_with(now, DownReason::EchoTimeout);
            } else {
                self.echo.outstanding += 1;
                self.echo.id = self.echo.id.wrapping_add(1);
                self.echo.request = true;
                self.echo.timer = Deadline::after(now, self.s.echo_ms);
            }
        }
    }

    // ---- Polls ----

    /// When [`Link::handle_timeout`] wants to run next.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.lcp
            .fsm
            .timer
            .min(self.ipcp.fsm.timer)
            .min(self.auth.poll_timeout())
            .min(self.echo.timer)
            .get()
    }

    /// Writes the next control frame into `buf` (Address, Control and a
    /// two-octet Protocol always present, as LCP requires and every peer
    /// accepts) and returns its length.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] when `buf` cannot hold the frame; it stays
    /// pending. 1500 bytes always suffice (control frames stay below 300).
    pub fn poll_transmit(
        &mut self,
        _now: Duration,
        buf: &mut [u8],
    ) -> Result<Option<usize>, Error> {
        let r = self.next_frame(buf);
        if let Ok(Some(n)) = r {
            self.count_tx(n);
        }
        r
    }

    fn next_frame(&mut self, buf: &mut [u8]) -> Result<Option<usize>, Error> {
        let (head, body) = if buf.len() >= 4 {
            buf.split_at_mut(4)
        } else {
            (&mut buf[..], &mut [][..])
        };
        let with_header = |r: Result<Option<usize>, Error>, head: &mut [u8], proto: u16| match r {
            Ok(Some(n)) if head.len() == 4 => {
                frame::Repr {
                    protocol: Protocol::from(proto),
                    compress_address_control: false,
                    compress_protocol: false,
                }
                .emit(head);
                Ok(Some(4 + n))
            }
            Ok(Some(n)) => Err(Error::BufferTooSmall { needed: 4 + n }),
            Err(Error::BufferTooSmall { needed }) => {
                Err(Error::BufferTooSmall { needed: 4 + needed })
            }
            other => other,
        };
        // 1. LCP answers and requests, except Terminate-Request (which must
        //    follow an authentication Failure).
        let lcp_mask = pending::SCR | pending::REPLY | pending::STA;
        if self.lcp.fsm.pending & lcp_mask != 0 {
            let r = self.lcp.poll_transmit(&self.s, &self.reply, body, lcp_mask);
            if !matches!(r, Ok(None)) {
                return with_header(r, head, 0xc021);
            }
        }
        // 2. Code-Reject, Protocol-Reject, Echo-Reply.
        if self.extra.kind != extra::NONE {
            let r = self.emit_extra(body);
            let proto = if self.extra.kind == extra::IPCP_CODE_REJECT {
                0x8021
            } else {
                0xc021
            };
            let out = with_header(r, head, proto);
            if out.is_ok() {
                self.extra.kind = extra::NONE;
            }
            return out;
        }
        // 3. Authentication.
        if self.auth.wants_transmit() {
            match self.auth.poll_transmit(body) {
                Ok(Some((proto, n))) => return with_header(Ok(Some(n)), head, proto),
                Ok(None) => {}
                Err(e) => return with_header(Err(e), head, 0),
            }
        }
        // 4. LCP Terminate-Request, Echo-Request.
        if self.lcp.fsm.pending != 0 {
            let r = self
                .lcp
                .poll_transmit(&self.s, &self.reply, body, pending::STR);
            if !matches!(r, Ok(None)) {
                return with_header(r, head, 0xc021);
            }
        }
        if self.echo.request {
            let repr = cp::Repr::EchoRequest {
                identifier: self.echo.id,
                magic_number: self.lcp.policy.magic,
                data: &[],
            };
            let out = with_header(emit_repr(&repr, body), head, 0xc021);
            if out.is_ok() {
                self.echo.request = false;
            }
            return out;
        }
        // 5. IPCP.
        if self.ipcp.wants_transmit() {
            let all = pending::SCR | pending::REPLY | pending::STR | pending::STA;
            let r = self.ipcp.poll_transmit(&self.s, &self.reply, body, all);
            return with_header(r, head, 0x8021);
        }
        Ok(None)
    }

    fn emit_extra(&mut self, body: &mut [u8]) -> Result<Option<usize>, Error> {
        let x = &self.extra;
        let data = &x.data[..usize::from(x.len)];
        let repr = match x.kind {
            extra::ECHO_REPLY => cp::Repr::EchoReply {
                identifier: x.field.to_be_bytes()[1],
                magic_number: self.lcp.policy.magic,
                data,
            },
            extra::PROTOCOL_REJECT => cp::Repr::ProtocolReject {
                identifier: self.ext_id.wrapping_add(1),
                rejected_protocol: x.field,
                rejected_information: data,
            },
            _ => cp::Repr::CodeReject {
                identifier: self.ext_id.wrapping_add(1),
                rejected_packet: data,
            },
        };
        let r = emit_repr(&repr, body);
        if r.is_ok() && x.kind != extra::ECHO_REPLY {
            self.ext_id = self.ext_id.wrapping_add(1);
        }
        r
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event<'_>> {
        loop {
            let e = self.events.pop()?;
            return Some(match e {
                Queued::AuthRequest => {
                    if self.auth.request().is_none() {
                        // Decided or torn down before it was polled.
                        continue;
                    }
                    return self.auth.request().map(Event::AuthRequest);
                }
                Queued::Authenticated(m) => Event::Authenticated(m),
                Queued::AddressRequest => {
                    if self.ipcp.policy.assigned.is_some() || self.phase != Phase::Network {
                        continue;
                    }
                    Event::AddressRequest
                }
                Queued::NetworkUp => Event::NetworkUp(self.current_ipv4_config()),
                Queued::NetworkDown => Event::NetworkDown,
                Queued::EapRetransmit => {
                    if self.phase != Phase::Authenticate {
                        continue;
                    }
                    Event::EapRetransmit
                }
                Queued::Down(r) => Event::Down(r),
            });
        }
    }

    // ---- Internals ----

    fn count_tx(&mut self, n: usize) {
        self.counters.tx_packets = self.counters.tx_packets.saturating_add(1);
        self.counters.tx_bytes = self.counters.tx_bytes.saturating_add(n as u64);
    }

    /// Keeps a (truncated) copy of a packet to reject, or of Echo-Request
    /// data to echo.
    fn queue_extra(&mut self, kind: u8, field: u16, data: &[u8]) {
        if self.extra.kind != extra::NONE {
            debug!("ppp: one extra packet already pending, dropping another");
            return;
        }
        // A Code-Reject copies the packet without its padding.
        let data = if matches!(kind, extra::LCP_CODE_REJECT | extra::IPCP_CODE_REJECT) {
            let len = usize::from(crate::wire::be16(data, 2)).min(data.len());
            &data[..len]
        } else {
            data
        };
        let n = data.len().min(EXTRA_COPY);
        self.extra = Extra {
            kind,
            field,
            len: crate::wire::len8(n),
            data: [0; EXTRA_COPY],
        };
        self.extra.data[..n].copy_from_slice(&data[..n]);
    }

    fn close_with(&mut self, now: Duration, reason: DownReason) {
        if self.phase == Phase::Dead {
            return;
        }
        self.down_reason.get_or_insert(reason);
        // A Close never reaches This-Layer-Up.
        let a = self.lcp.close(now, &self.s);
        self.lcp_layer(now, a);
        if matches!(self.lcp.fsm.state, State::Closing | State::Stopping) {
            self.phase = Phase::Terminate;
        }
    }

    /// The layer actions of LCP (RFC 1661 §4.4).
    fn lcp_actions<R: CryptoRng>(&mut self, now: Duration, rng: &mut R, a: Actions) {
        self.lcp_layer(now, a);
        if a.has(Actions::TLU) {
            self.lcp_up(now, rng);
        }
    }

    /// This-Layer-Down and This-Layer-Finished of LCP.
    fn lcp_layer(&mut self, now: Duration, a: Actions) {
        if a.has(Actions::TLD) {
            self.echo.timer = Deadline::NONE;
            self.echo.request = false;
            if self.extra.kind == extra::ECHO_REPLY {
                self.extra.kind = extra::NONE;
            }
            self.auth.stop();
            let b = self.ipcp.down(now, &self.s);
            self.ipcp_actions(now, b, DownReason::LowerDown);
            self.ipcp.fsm = crate::fsm::Fsm::new();
            self.address_requested = false;
            self.phase = if matches!(self.lcp.fsm.state, State::Closing | State::Stopping) {
                Phase::Terminate
            } else {
                Phase::Establish
            };
        }
        if a.has(Actions::TLF) {
            self.finish();
        }
    }

    /// This-Layer-Up of LCP: authentication, or straight to the network.
    fn lcp_up<R: CryptoRng>(&mut self, now: Duration, rng: &mut R) {
        self.phase = Phase::Authenticate;
        if self.s.echo_ms != 0 {
            self.echo.outstanding = 0;
            self.echo.timer = Deadline::after(now, self.s.echo_ms);
        }
        match self.s.role {
            Role::Authenticator => match self.lcp.policy.auth {
                Some(m) => self.auth.start_authenticator(now, &self.s, rng, m),
                None => self.network_phase(now),
            },
            Role::Peer => match self.lcp.policy.peer.auth {
                Some(m) => self.auth.start_peer(now, &self.s, m),
                None => self.network_phase(now),
            },
        }
    }

    fn network_phase(&mut self, now: Duration) {
        self.phase = Phase::Network;
        if self.s.role == Role::Authenticator && self.ipcp.policy.assigned.is_none() {
            if !self.address_requested {
                self.address_requested = true;
                self.events.push(Queued::AddressRequest);
                // The address must come within the authentication timeout.
                self.auth.deadline = Deadline::after(now, self.s.auth_timeout_ms);
            }
            return;
        }
        self.open_ipcp(now);
    }

    fn open_ipcp(&mut self, now: Duration) {
        self.auth.deadline = Deadline::NONE;
        let a = self.ipcp.open(now, &self.s);
        self.ipcp_actions(now, a, DownReason::MaxConfigure);
    }

    /// The layer actions of IPCP; `finished` is why, should IPCP finish.
    fn ipcp_actions(&mut self, now: Duration, a: Actions, finished: DownReason) {
        if a.has(Actions::TLU) {
            self.events.push(Queued::NetworkUp);
        }
        if a.has(Actions::TLD) {
            self.events.push(Queued::NetworkDown);
        }
        if a.has(Actions::TLF) && self.lcp.fsm.state == State::Opened {
            // IPv4 is the link's only use: without IPCP it is closed.
            self.close_with(now, finished);
        }
    }

    /// This-Layer-Finished of LCP, or the lower layer gone: the link is down.
    fn finish(&mut self) {
        if self.phase == Phase::Dead {
            return;
        }
        self.phase = Phase::Dead;
        self.echo.timer = Deadline::NONE;
        self.auth.stop();
        self.auth.timer = Deadline::NONE;
        self.ipcp.fsm = crate::fsm::Fsm::new();
        let reason = self.down_reason.unwrap_or(DownReason::MaxConfigure);
        self.events.push(Queued::Down(reason));
    }
}

fn emit_repr(repr: &cp::Repr<'_>, body: &mut [u8]) -> Result<Option<usize>, Error> {
    let n = repr.buffer_len();
    let out = body
        .get_mut(..n)
        .ok_or(Error::BufferTooSmall { needed: n })?;
    repr.emit(out);
    Ok(Some(n))
}

/// `size_of` the link's parts, for the memory report in
/// `docs/PERFORMANCE.md` (`cargo run --example size`).
#[doc(hidden)]
pub fn size_report() -> [(&'static str, usize); 11] {
    use core::mem::size_of;
    [
        ("Link", size_of::<Link>()),
        ("settings", size_of::<Settings>()),
        ("lcp (automaton + options)", size_of::<Cp<Lcp>>()),
        ("ipcp (automaton + options)", size_of::<Cp<Ipcp>>()),
        ("shared Configure reply", size_of::<Reply>()),
        ("auth (incl. credentials)", size_of::<Auth>()),
        ("echo keepalive", size_of::<Echo>()),
        ("code/protocol reject, echo reply", size_of::<Extra>()),
        ("events", size_of::<Events>()),
        ("counters", size_of::<Counters>()),
        ("one automaton", size_of::<crate::fsm::Fsm>()),
    ]
}
