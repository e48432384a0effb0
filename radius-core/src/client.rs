//! The sans-IO RADIUS client: requests in, datagrams out through
//! [`Client::poll_transmit`], answers as events, retransmission and failover
//! across the servers of a group on [`Client::handle_timeout`].

use crate::crypto::{self, CryptoError};
use crate::wire::{
    AcctStatusType, AcctTerminateCause, AttributeType, BuildError, Code, HEADER_LEN,
    MsAttributeType, Packet, PacketBuilder, WireError,
};
use core::fmt;
use core::net::Ipv4Addr;
use core::time::Duration;
use rand_core::CryptoRng;
use zeroize::Zeroize;

/// Most servers in one group (the appliance allows 16 per group; a gateway
/// rarely has more than two or three).
pub const MAX_SERVERS: usize = 8;
/// Longest shared secret accepted (the appliance's limit is 127 characters;
/// RFC 2865 §3 suggests at least 16 octets).
pub const MAX_SECRET_LEN: usize = 128;

/// One RADIUS server of the group, as the appliance's `aaa-server G (IF)
/// host IP` sub-mode configures it. The address is the caller's business:
/// the client names servers by [`ServerId`].
#[derive(Clone, Copy)]
pub struct ServerConfig<'a> {
    /// The shared secret (`key`).
    pub secret: &'a [u8],
    /// Time between retransmissions to this server (`retry-interval`, default 10 s).
    pub retry_interval: Duration,
    /// Time spent on this server before failing over (`timeout`, default 10 s);
    /// at least one transmission is always made.
    pub timeout: Duration,
    /// Serves authentication (UDP 1812 or the configured port).
    pub authentication: bool,
    /// Serves accounting (UDP 1813 or the configured port).
    pub accounting: bool,
}

impl fmt::Debug for ServerConfig<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("retry_interval", &self.retry_interval)
            .field("timeout", &self.timeout)
            .field("authentication", &self.authentication)
            .field("accounting", &self.accounting)
            .finish_non_exhaustive()
    }
}

impl<'a> ServerConfig<'a> {
    /// The appliance's defaults for a server with this key: retry every 10 s,
    /// give up after 10 s, authentication and accounting.
    pub const fn new(secret: &'a [u8]) -> Self {
        Self {
            secret,
            retry_interval: Duration::from_secs(10),
            timeout: Duration::from_secs(10),
            authentication: true,
            accounting: true,
        }
    }
}

/// Group-wide settings (`aaa-server G protocol radius` sub-mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupConfig {
    /// Failed requests in a row after which a server is skipped
    /// (`max-failed-attempts`, default 3).
    pub max_failed_attempts: u8,
    /// How long a failed server is skipped (`reactivation-mode depletion
    /// deadtime`, default 10 minutes). When every server is failed, all are
    /// tried again at once, as the appliance's depletion mode does.
    pub dead_time: Duration,
    /// Refuse Access-Accept/Reject/Challenge without a Message-Authenticator
    /// (protection against forged responses, CVE-2024-3596 "BlastRADIUS").
    /// Off by default for old servers; every Access-Request carries one
    /// regardless, first among its attributes.
    pub require_message_authenticator: bool,
}

impl Default for GroupConfig {
    fn default() -> Self {
        Self {
            max_failed_attempts: 3,
            dead_time: Duration::from_secs(600),
            require_message_authenticator: false,
        }
    }
}

/// Names a server of the group (its position in the order of `add_server`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ServerId(pub u8);

/// Names a request in flight or answered: slot and generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RequestId {
    index: u16,
    generation: u16,
}

/// Which UDP service a datagram goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Service {
    /// Authentication (UDP 1812 by default; `authentication-port`).
    Authentication,
    /// Accounting (UDP 1813 by default; `accounting-port`).
    Accounting,
}

/// A datagram written by [`Client::poll_transmit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Transmit {
    /// To which server.
    pub server: ServerId,
    /// To which of its ports.
    pub service: Service,
    /// Bytes written at the start of the buffer.
    pub len: usize,
}

/// How the user proves who they are, in the form PPP received it.
#[derive(Debug, Clone, Copy)]
pub enum Credentials<'a> {
    /// PAP (RFC 2865 §5.2): hidden with the secret.
    Pap {
        /// The password, at most 128 octets.
        password: &'a [u8],
    },
    /// CHAP-MD5 (RFC 2865 §5.3, §5.40).
    Chap {
        /// The CHAP Identifier.
        ident: u8,
        /// The challenge the authenticator sent (sent as CHAP-Challenge).
        challenge: &'a [u8],
        /// The 16-octet response.
        response: &'a [u8; 16],
    },
    /// MS-CHAP v1 (RFC 2548 §2.1.3, §2.3.2).
    MsChapV1 {
        /// The CHAP Identifier.
        ident: u8,
        /// The 8-octet challenge (MS-CHAP-Challenge).
        challenge: &'a [u8; 8],
        /// The 49-octet response value: LM-Response, NT-Response, Flags.
        response: &'a [u8; 49],
    },
    /// MS-CHAP v2 (RFC 2548 §2.3.2, RFC 2759).
    MsChapV2 {
        /// The CHAP Identifier.
        ident: u8,
        /// The 16-octet authenticator challenge (MS-CHAP-Challenge).
        challenge: &'a [u8; 16],
        /// The 49-octet response value: Peer-Challenge, Reserved, NT-Response, Flags.
        response: &'a [u8; 49],
    },
    /// EAP (RFC 3579): one EAP packet from the peer, and the State of the
    /// previous Access-Challenge if there was one.
    Eap {
        /// The EAP packet.
        message: &'a [u8],
        /// The State to echo.
        state: Option<&'a [u8]>,
    },
}

/// What the NAS says about itself and the session (RFC 2865 §5.4, §5.5,
/// §5.30-32, §5.41; RFC 2868 for the tunnel attributes).
#[derive(Debug, Clone, Copy, Default)]
pub struct NasInfo<'a> {
    /// NAS-IP-Address.
    pub nas_ip_address: Option<Ipv4Addr>,
    /// NAS-Identifier.
    pub nas_identifier: Option<&'a [u8]>,
    /// NAS-Port (the session index).
    pub nas_port: Option<u32>,
    /// Calling-Station-Id (the client's public address).
    pub calling_station_id: Option<&'a [u8]>,
    /// Called-Station-Id (our address).
    pub called_station_id: Option<&'a [u8]>,
    /// Add Service-Type Framed, Framed-Protocol PPP, NAS-Port-Type Virtual and
    /// Tunnel-Type L2TP / Tunnel-Medium-Type IPv4.
    pub l2tp: bool,
}

/// An Access-Request.
#[derive(Debug, Clone, Copy)]
pub struct AccessRequest<'a> {
    /// User-Name (as the policy decided: with or without the group).
    pub user_name: &'a [u8],
    /// The credentials.
    pub credentials: Credentials<'a>,
    /// NAS attributes.
    pub nas: NasInfo<'a>,
}

/// An Accounting-Request (RFC 2866 §4.1).
#[derive(Debug, Clone, Copy)]
pub struct AccountingRequest<'a> {
    /// Start, Stop, Interim-Update.
    pub status: AcctStatusType,
    /// Acct-Session-Id.
    pub session_id: &'a [u8],
    /// User-Name.
    pub user_name: &'a [u8],
    /// Framed-IP-Address.
    pub framed_ip_address: Option<Ipv4Addr>,
    /// Class from the Access-Accept, echoed (RFC 2865 §5.25).
    pub class: Option<&'a [u8]>,
    /// Octets from the client (with Acct-Input-Gigawords above 2^32).
    pub input_octets: u64,
    /// Octets to the client.
    pub output_octets: u64,
    /// Packets from the client.
    pub input_packets: u32,
    /// Packets to the client.
    pub output_packets: u32,
    /// Acct-Session-Time in seconds (Stop and Interim-Update).
    pub session_time: Option<u32>,
    /// Acct-Terminate-Cause (Stop).
    pub terminate_cause: Option<AcctTerminateCause>,
    /// NAS attributes.
    pub nas: NasInfo<'a>,
}

/// Why a request could not be queued or a datagram was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// Every request slot is in use.
    TooManyRequests,
    /// No server of the group serves this kind of request.
    NoServer,
    /// The group already has [`MAX_SERVERS`] servers, or a secret is too long.
    BadServer,
    /// The request does not fit the slot's buffer.
    Build(BuildError),
    /// A password longer than 128 octets.
    PasswordTooLong,
    /// A datagram that is not RADIUS.
    Malformed(WireError),
    /// A response that answers no request in flight (late, duplicate, or
    /// never asked for).
    Unexpected,
    /// A response that does not authenticate.
    Crypto(CryptoError),
    /// A response code that does not answer the request's kind.
    WrongCode,
    /// A stale request id.
    StaleRequest,
}

impl From<BuildError> for Error {
    fn from(e: BuildError) -> Self {
        Self::Build(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooManyRequests => f.write_str("too many RADIUS requests in flight"),
            Self::NoServer => f.write_str("no RADIUS server for this request"),
            Self::BadServer => f.write_str("RADIUS server not accepted"),
            Self::Build(e) => write!(f, "RADIUS request: {e}"),
            Self::PasswordTooLong => f.write_str("password longer than 128 octets"),
            Self::Malformed(e) => write!(f, "{e}"),
            Self::Unexpected => f.write_str("RADIUS response to no request"),
            Self::Crypto(e) => write!(f, "RADIUS response refused: {e}"),
            Self::WrongCode => f.write_str("RADIUS response code does not fit the request"),
            Self::StaleRequest => f.write_str("stale RADIUS request id"),
        }
    }
}

impl core::error::Error for Error {}

/// What happened to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Event {
    /// A server answered; read it with [`Client::reply`], then
    /// [`Client::release`] the request.
    Reply {
        /// The request.
        request: RequestId,
        /// Access-Accept, Access-Reject, Access-Challenge or Accounting-Response.
        code: Code,
        /// The server that answered.
        server: ServerId,
    },
    /// No server answered; the request is gone.
    TimedOut {
        /// The request.
        request: RequestId,
    },
    /// A server stopped answering and is skipped for the dead time.
    ServerFailed {
        /// The server.
        server: ServerId,
    },
}

/// Counters for `show aaa-server` style statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Counters {
    /// Requests sent, retransmissions included.
    pub transmissions: u64,
    /// Retransmissions.
    pub retransmissions: u64,
    /// Responses accepted.
    pub responses: u64,
    /// Datagrams refused: malformed, unexpected, failed authentication.
    pub dropped: u64,
    /// Requests no server answered.
    pub timeouts: u64,
}

struct Server {
    secret: heapless::Vec<u8, MAX_SECRET_LEN>,
    retry_interval: Duration,
    attempts: u32,
    authentication: bool,
    accounting: bool,
    next_id: u8,
    failures: u8,
    dead_until: Option<Duration>,
    /// A `ServerFailed` event not yet polled.
    failure_pending: bool,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.secret.as_mut_slice().zeroize();
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Free,
    /// Waiting for `server` to answer `id`; `send` when due.
    Waiting,
    /// Answered: the slot buffer holds the response.
    Answered,
    /// No server answered; freed once the event has been polled.
    TimedOut,
}

/// The template of a request: attributes as they go on the wire, except
/// that the User-Password holds the padded cleartext until it is hidden for
/// a particular server and authenticator.
struct Slot<const B: usize> {
    generation: u16,
    phase: Phase,
    /// The event of an `Answered` or `TimedOut` slot has been polled.
    reported: bool,
    /// The code of the answer.
    code: Code,
    service: Service,
    send: bool,
    server: u8,
    /// Servers tried for this request, as a bit set.
    tried: u8,
    id: u8,
    authenticator: [u8; 16],
    attempts: u32,
    next_retry: Duration,
    started: Duration,
    /// Attribute bytes (no header) of the template, then the response.
    buf: [u8; B],
    len: usize,
    /// Offset and length, in `buf`, of the padded cleartext password.
    password: Option<(usize, usize)>,
    /// Offset in `buf` of the Message-Authenticator value.
    message_authenticator: Option<usize>,
    /// Offset in `buf` of the Acct-Delay-Time value.
    delay_time: Option<usize>,
}

impl<const B: usize> Slot<B> {
    const FREE: Self = Self {
        generation: 0,
        phase: Phase::Free,
        reported: false,
        code: Code::AccessReject,
        service: Service::Authentication,
        send: false,
        server: 0,
        tried: 0,
        id: 0,
        authenticator: [0; 16],
        attempts: 0,
        next_retry: Duration::ZERO,
        started: Duration::ZERO,
        buf: [0; B],
        len: 0,
        password: None,
        message_authenticator: None,
        delay_time: None,
    };

    fn clear(&mut self) {
        self.buf.zeroize();
        let generation = self.generation.wrapping_add(1);
        *self = Self::FREE;
        self.generation = generation;
    }
}

/// A RADIUS client for one server group, with `P` requests in flight at
/// most, each up to `B` bytes (a full EAP exchange needs about 1,600; the
/// RFC maximum is 4,096).
///
/// Run loop: after [`access_request`](Self::access_request),
/// [`accounting_request`](Self::accounting_request),
/// [`handle_datagram`](Self::handle_datagram) or
/// [`handle_timeout`](Self::handle_timeout), drain
/// [`poll_transmit`](Self::poll_transmit) and [`poll_event`](Self::poll_event),
/// then wait for a datagram or [`poll_timeout`](Self::poll_timeout).
pub struct Client<const P: usize, const B: usize = 1600> {
    group: GroupConfig,
    servers: heapless::Vec<Server, MAX_SERVERS>,
    slots: [Slot<B>; P],
    /// Slots and servers with an event not yet polled.
    pending: usize,
    cursor: usize,
    counters: Counters,
}

impl<const P: usize, const B: usize> fmt::Debug for Client<P, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("servers", &self.servers.len())
            .field(
                "in_flight",
                &self.slots.iter().filter(|s| s.phase != Phase::Free).count(),
            )
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl<const P: usize, const B: usize> Default for Client<P, B> {
    fn default() -> Self {
        Self::new(GroupConfig::default())
    }
}

impl<const P: usize, const B: usize> Client<P, B> {
    const LIMITS: () = assert!(
        P > 0 && P <= 256 && B >= 256 && B <= 4096,
        "Client<P, B>: 1..=256 requests of 256..=4096 bytes"
    );

    /// A client with no servers yet.
    pub fn new(group: GroupConfig) -> Self {
        let () = Self::LIMITS;
        Self {
            group,
            servers: heapless::Vec::new(),
            slots: [const { Slot::FREE }; P],
            pending: 0,
            cursor: 0,
            counters: Counters::default(),
        }
    }

    /// Adds a server; servers are tried in the order they were added.
    ///
    /// # Errors
    /// [`Error::BadServer`] if the group is full or the secret too long.
    pub fn add_server(&mut self, config: &ServerConfig<'_>) -> Result<ServerId, Error> {
        let secret = heapless::Vec::from_slice(config.secret).map_err(|_| Error::BadServer)?;
        let interval = config.retry_interval.max(Duration::from_millis(100));
        let attempts = u32::try_from(config.timeout.as_millis() / interval.as_millis())
            .unwrap_or(u32::MAX)
            .max(1);
        let id = u8::try_from(self.servers.len()).map_err(|_| Error::BadServer)?;
        self.servers
            .push(Server {
                secret,
                retry_interval: interval,
                attempts,
                authentication: config.authentication,
                accounting: config.accounting,
                next_id: 0,
                failures: 0,
                dead_until: None,
                failure_pending: false,
            })
            .map_err(|_| Error::BadServer)?;
        Ok(ServerId(id))
    }

    /// Counters.
    pub const fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Whether the group is down for `service`: it has servers for it and
    /// every one of them has failed and is within its dead time. The
    /// appliance's `reactivation-mode depletion` counts such a group as
    /// unavailable, so a caller with another way to decide (the LOCAL
    /// fallback of `authentication-server-group G LOCAL`) decides at once
    /// instead of waiting for dead servers to time out again. A new request
    /// is still sent to a failed server (depletion), for callers without
    /// such a fallback.
    pub fn all_failed(&self, now: Duration, service: Service) -> bool {
        let mut serving = self
            .servers
            .iter()
            .filter(|s| Self::serves(s, service))
            .peekable();
        serving.peek().is_some() && serving.all(|s| s.dead_until.is_some_and(|t| now < t))
    }

    /// Requests in flight or answered and not yet released.
    pub fn in_flight(&self) -> usize {
        self.slots.iter().filter(|s| s.phase != Phase::Free).count()
    }

    fn serves(server: &Server, service: Service) -> bool {
        match service {
            Service::Authentication => server.authentication,
            Service::Accounting => server.accounting,
        }
    }

    /// The first server for a request that it has not tried yet, preferring
    /// live servers; when every untried one is dead, the first of them.
    fn pick_server(&self, now: Duration, service: Service, tried: u8) -> Option<u8> {
        let candidates = || {
            self.servers
                .iter()
                .enumerate()
                .filter(move |(i, s)| Self::serves(s, service) && tried & (1 << i) == 0)
        };
        let alive = candidates().find(|(_, s)| s.dead_until.is_none_or(|t| now >= t));
        let chosen = alive.or_else(|| {
            // Depletion: when every untried server is dead, try them anyway.
            candidates().next()
        })?;
        u8::try_from(chosen.0).ok()
    }

    fn free_slot(&self) -> Result<usize, Error> {
        self.slots
            .iter()
            .position(|s| s.phase == Phase::Free)
            .ok_or(Error::TooManyRequests)
    }

    fn request_id(&self, index: usize) -> RequestId {
        let generation = self.slots.get(index).map_or(0, |s| s.generation);
        // `index < P <= 256`.
        RequestId {
            index: u16::try_from(index).unwrap_or(u16::MAX),
            generation,
        }
    }

    /// Queues an Access-Request. The first transmission comes out of the next
    /// [`poll_transmit`](Self::poll_transmit).
    ///
    /// # Errors
    /// [`Error::TooManyRequests`], [`Error::NoServer`], [`Error::PasswordTooLong`],
    /// or [`Error::Build`] if the request does not fit `B` bytes.
    pub fn access_request(
        &mut self,
        now: Duration,
        request: &AccessRequest<'_>,
    ) -> Result<RequestId, Error> {
        self.submit(now, Service::Authentication, |slot| {
            build_access(slot, request)
        })
    }

    /// Queues an Accounting-Request.
    ///
    /// # Errors
    /// As [`access_request`](Self::access_request).
    pub fn accounting_request(
        &mut self,
        now: Duration,
        request: &AccountingRequest<'_>,
    ) -> Result<RequestId, Error> {
        self.submit(now, Service::Accounting, |slot| {
            build_accounting(slot, request)
        })
    }

    fn submit(
        &mut self,
        now: Duration,
        service: Service,
        build: impl FnOnce(&mut Slot<B>) -> Result<(), Error>,
    ) -> Result<RequestId, Error> {
        let server = self.pick_server(now, service, 0).ok_or(Error::NoServer)?;
        let index = self.free_slot()?;
        let slot = self.slots.get_mut(index).ok_or(Error::TooManyRequests)?;
        if let Err(e) = build(slot) {
            slot.clear();
            return Err(e);
        }
        Self::start(slot, now, service, server);
        Ok(self.request_id(index))
    }

    fn start(slot: &mut Slot<B>, now: Duration, service: Service, server: u8) {
        slot.phase = Phase::Waiting;
        slot.service = service;
        slot.server = server;
        slot.tried = 1 << server;
        slot.started = now;
        slot.attempts = 0;
        slot.send = true;
        slot.next_retry = now;
    }

    /// An identifier not in use towards `server` (RFC 2865 §3: unique among
    /// outstanding requests to one server).
    fn allocate_id(&mut self, server: u8) -> u8 {
        let Some(s) = self.servers.get_mut(usize::from(server)) else {
            return 0;
        };
        for _ in 0..256 {
            let id = s.next_id;
            s.next_id = s.next_id.wrapping_add(1);
            let busy = self.slots.iter().any(|slot| {
                slot.phase == Phase::Waiting
                    && slot.server == server
                    && slot.id == id
                    && slot.attempts > 0
            });
            if !busy {
                return id;
            }
        }
        0
    }

    /// Writes the next datagram to send into `buf`.
    ///
    /// # Errors
    /// [`Error::Build`] if `buf` is shorter than the request (use at least
    /// `B + 20` bytes).
    pub fn poll_transmit(
        &mut self,
        now: Duration,
        rng: &mut impl CryptoRng,
        buf: &mut [u8],
    ) -> Result<Option<Transmit>, Error> {
        let Some(index) = self
            .slots
            .iter()
            .position(|s| s.phase == Phase::Waiting && s.send)
        else {
            return Ok(None);
        };
        let (server_index, first) = match self.slots.get(index) {
            Some(s) => (s.server, s.attempts == 0),
            None => return Ok(None),
        };
        let id = if first {
            self.allocate_id(server_index)
        } else {
            self.slots.get(index).map_or(0, |s| s.id)
        };
        let (Some(slot), Some(server)) = (
            self.slots.get_mut(index),
            self.servers.get(usize::from(server_index)),
        ) else {
            return Ok(None);
        };
        if first {
            slot.id = id;
            if slot.service == Service::Authentication {
                rng.fill_bytes(&mut slot.authenticator);
            }
            if let Some(at) = slot.delay_time {
                let secs =
                    u32::try_from(now.saturating_sub(slot.started).as_secs()).unwrap_or(u32::MAX);
                if let Some(v) = slot.buf.get_mut(at..at + 4) {
                    v.copy_from_slice(&secs.to_be_bytes());
                }
            }
        } else {
            self.counters.retransmissions += 1;
        }
        let (len, authenticator) = encode(slot, server, buf)?;
        slot.authenticator = authenticator;
        slot.send = false;
        slot.attempts += 1;
        slot.next_retry = now + server.retry_interval;
        self.counters.transmissions += 1;
        Ok(Some(Transmit {
            server: ServerId(server_index),
            service: slot.service,
            len,
        }))
    }

    /// Processes a datagram received from `server`.
    ///
    /// # Errors
    /// Refused datagrams ([`Error::Malformed`], [`Error::Unexpected`],
    /// [`Error::Crypto`], [`Error::WrongCode`]) are counted and change
    /// nothing; the request keeps waiting for a genuine answer.
    pub fn handle_datagram(&mut self, server: ServerId, datagram: &[u8]) -> Result<(), Error> {
        let result = self.accept(server, datagram);
        if let Err(e) = result {
            self.counters.dropped += 1;
            debug!("radius: dropped response from server {}: {:?}", server.0, e);
        }
        result
    }

    fn accept(&mut self, server: ServerId, datagram: &[u8]) -> Result<(), Error> {
        let packet = Packet::new_checked(datagram).map_err(Error::Malformed)?;
        let index = self
            .slots
            .iter()
            .position(|s| {
                s.phase == Phase::Waiting
                    && s.server == server.0
                    && s.attempts > 0
                    && s.id == packet.identifier()
            })
            .ok_or(Error::Unexpected)?;
        let s = self
            .servers
            .get(usize::from(server.0))
            .ok_or(Error::Unexpected)?;
        let slot = self.slots.get(index).ok_or(Error::Unexpected)?;
        let code = packet.code();
        let fits = match slot.service {
            Service::Authentication => {
                matches!(
                    code,
                    Code::AccessAccept | Code::AccessReject | Code::AccessChallenge
                )
            }
            Service::Accounting => code == Code::AccountingResponse,
        };
        if !fits {
            return Err(Error::WrongCode);
        }
        let require =
            self.group.require_message_authenticator && slot.service == Service::Authentication;
        crypto::verify_response(&packet, &slot.authenticator, &s.secret, require)
            .map_err(Error::Crypto)?;
        let bytes = packet.as_bytes();
        let slot = self.slots.get_mut(index).ok_or(Error::Unexpected)?;
        let stored =
            slot.buf
                .get_mut(..bytes.len())
                .ok_or(Error::Build(BuildError::BufferTooSmall {
                    needed: bytes.len(),
                }))?;
        stored.copy_from_slice(bytes);
        slot.buf[bytes.len()..].zeroize();
        slot.len = bytes.len();
        slot.phase = Phase::Answered;
        slot.code = code;
        slot.reported = false;
        slot.password = None;
        self.pending += 1;
        if let Some(s) = self.servers.get_mut(usize::from(server.0)) {
            s.failures = 0;
            s.dead_until = None;
        }
        self.counters.responses += 1;
        Ok(())
    }

    /// Retransmits what is due and fails over to the next server when a
    /// server has had its `timeout`.
    pub fn handle_timeout(&mut self, now: Duration) {
        for index in 0..P {
            let Some(slot) = self.slots.get(index) else {
                continue;
            };
            if slot.phase != Phase::Waiting || slot.send || now < slot.next_retry {
                continue;
            }
            let (server, tried, service) = (slot.server, slot.tried, slot.service);
            let budget = self
                .servers
                .get(usize::from(server))
                .map_or(1, |s| s.attempts);
            if slot.attempts < budget {
                if let Some(slot) = self.slots.get_mut(index) {
                    slot.send = true;
                }
                continue;
            }
            // This server had its chance.
            self.server_failed(now, server);
            match self.pick_server(now, service, tried) {
                Some(next) => {
                    if let Some(slot) = self.slots.get_mut(index) {
                        slot.server = next;
                        slot.tried |= 1 << next;
                        slot.attempts = 0;
                        slot.send = true;
                    }
                }
                None => {
                    if let Some(slot) = self.slots.get_mut(index) {
                        // Keep the generation until the event is polled; the
                        // request's bytes (and password) go now.
                        slot.buf.zeroize();
                        slot.password = None;
                        slot.phase = Phase::TimedOut;
                        slot.reported = false;
                    }
                    self.pending += 1;
                    self.counters.timeouts += 1;
                }
            }
        }
    }

    fn server_failed(&mut self, now: Duration, server: u8) {
        let (max, dead_time) = (self.group.max_failed_attempts, self.group.dead_time);
        let Some(s) = self.servers.get_mut(usize::from(server)) else {
            return;
        };
        s.failures = s.failures.saturating_add(1);
        if s.failures >= max && s.dead_until.is_none() {
            s.dead_until = Some(now + dead_time);
            if !s.failure_pending {
                s.failure_pending = true;
                self.pending += 1;
            }
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.slots
            .iter()
            .filter(|s| s.phase == Phase::Waiting && !s.send)
            .map(|s| s.next_retry)
            .min()
    }

    /// The next event. O(1) when there is none.
    pub fn poll_event(&mut self) -> Option<Event> {
        if self.pending == 0 {
            return None;
        }
        for (i, s) in self.servers.iter_mut().enumerate() {
            if s.failure_pending {
                s.failure_pending = false;
                self.pending -= 1;
                return Some(Event::ServerFailed {
                    server: ServerId(u8::try_from(i).unwrap_or(u8::MAX)),
                });
            }
        }
        for _ in 0..P {
            let index = self.cursor;
            self.cursor = (self.cursor + 1) % P;
            let request = self.request_id(index);
            let Some(slot) = self.slots.get_mut(index) else {
                continue;
            };
            if slot.reported || !matches!(slot.phase, Phase::Answered | Phase::TimedOut) {
                continue;
            }
            slot.reported = true;
            self.pending -= 1;
            return Some(match slot.phase {
                Phase::TimedOut => {
                    slot.clear();
                    Event::TimedOut { request }
                }
                _ => Event::Reply {
                    request,
                    code: slot.code,
                    server: ServerId(slot.server),
                },
            });
        }
        None
    }

    /// The answer to a request, once [`Event::Reply`] said it came.
    pub fn reply(&self, request: RequestId) -> Option<Packet<&[u8]>> {
        let slot = self.slots.get(usize::from(request.index))?;
        if slot.generation != request.generation || slot.phase != Phase::Answered {
            return None;
        }
        Packet::new_checked(slot.buf.get(..slot.len)?).ok()
    }

    /// Forgets a request (answered or not): its slot is zeroized and reused.
    ///
    /// # Errors
    /// [`Error::StaleRequest`].
    pub fn release(&mut self, request: RequestId) -> Result<(), Error> {
        let slot = self
            .slots
            .get_mut(usize::from(request.index))
            .filter(|s| {
                s.generation == request.generation
                    && matches!(s.phase, Phase::Waiting | Phase::Answered)
            })
            .ok_or(Error::StaleRequest)?;
        if slot.phase == Phase::Answered && !slot.reported {
            self.pending -= 1;
        }
        slot.clear();
        Ok(())
    }
}

/// Writes the attributes of an Access-Request into the slot's template.
fn build_access<const B: usize>(
    slot: &mut Slot<B>,
    request: &AccessRequest<'_>,
) -> Result<(), Error> {
    let mut b = PacketBuilder::new(&mut slot.buf, Code::AccessRequest, 0, &[0; 16])?;
    // Message-Authenticator first (the BlastRADIUS mitigation; RFC 3579 §3.2
    // requires it with EAP-Message and allows it everywhere).
    let ma = b.attribute(AttributeType::MessageAuthenticator, &[0; 16])?;
    b.attribute(AttributeType::UserName, request.user_name)?;
    let mut password = None;
    match request.credentials {
        Credentials::Pap { password: pw } => {
            if pw.len() > crypto::MAX_PASSWORD_LEN {
                return Err(Error::PasswordTooLong);
            }
            let mut padded = [0u8; crypto::MAX_PASSWORD_LEN];
            let n = crypto::hidden_len(pw.len());
            padded[..pw.len()].copy_from_slice(pw);
            let at = b.attribute(AttributeType::UserPassword, &padded[..n]);
            padded.zeroize();
            password = Some((at?, n));
        }
        Credentials::Chap {
            ident,
            challenge,
            response,
        } => {
            let mut value = [0u8; 17];
            value[0] = ident;
            value[1..].copy_from_slice(response);
            b.attribute(AttributeType::ChapPassword, &value)?;
            b.attribute(AttributeType::ChapChallenge, challenge)?;
        }
        Credentials::MsChapV1 {
            ident,
            challenge,
            response,
        } => {
            b.microsoft(MsAttributeType::MsChapChallenge, challenge)?;
            // RFC 2548 §2.1.3: Ident, Flags, LM-Response, NT-Response; the PPP
            // value (RFC 2433 §5) is LM-Response, NT-Response, Flags.
            let mut value = [0u8; 50];
            value[0] = ident;
            value[1] = response[48];
            value[2..50].copy_from_slice(&response[..48]);
            b.microsoft(MsAttributeType::MsChapResponse, &value)?;
        }
        Credentials::MsChapV2 {
            ident,
            challenge,
            response,
        } => {
            b.microsoft(MsAttributeType::MsChapChallenge, challenge)?;
            // RFC 2548 §2.3.2: Ident, Flags, Peer-Challenge, Reserved,
            // Response; the PPP value (RFC 2759 §4) ends with Flags instead.
            let mut value = [0u8; 50];
            value[0] = ident;
            value[1] = response[48];
            value[2..50].copy_from_slice(&response[..48]);
            b.microsoft(MsAttributeType::MsChap2Response, &value)?;
        }
        Credentials::Eap { message, state } => {
            b.split(AttributeType::EapMessage, message)?;
            if let Some(state) = state {
                b.attribute(AttributeType::State, state)?;
            }
        }
    }
    nas_attributes(&mut b, &request.nas)?;
    let len = b.len();
    slot.len = len;
    slot.password = password;
    slot.message_authenticator = Some(ma);
    slot.delay_time = None;
    Ok(())
}

fn build_accounting<const B: usize>(
    slot: &mut Slot<B>,
    request: &AccountingRequest<'_>,
) -> Result<(), Error> {
    let mut b = PacketBuilder::new(&mut slot.buf, Code::AccountingRequest, 0, &[0; 16])?;
    b.u32(AttributeType::AcctStatusType, request.status.into())?;
    b.attribute(AttributeType::AcctSessionId, request.session_id)?;
    b.attribute(AttributeType::UserName, request.user_name)?;
    // RFC 2866 §5.2: the client fills in the delay at each transmission.
    let delay = b.attribute(AttributeType::AcctDelayTime, &[0; 4])?;
    b.u32(AttributeType::AcctAuthentic, 1)?; // RADIUS
    if let Some(ip) = request.framed_ip_address {
        b.ipv4(AttributeType::FramedIpAddress, ip)?;
    }
    if let Some(class) = request.class {
        b.attribute(AttributeType::Class, class)?;
    }
    if request.status != AcctStatusType::Start {
        let split = |v: u64| {
            (
                u32::try_from(v & 0xffff_ffff).unwrap_or(0),
                u32::try_from(v >> 32).unwrap_or(u32::MAX),
            )
        };
        let (input, input_giga) = split(request.input_octets);
        let (output, output_giga) = split(request.output_octets);
        b.u32(AttributeType::AcctInputOctets, input)?;
        b.u32(AttributeType::AcctOutputOctets, output)?;
        if input_giga > 0 {
            b.u32(AttributeType::AcctInputGigawords, input_giga)?;
        }
        if output_giga > 0 {
            b.u32(AttributeType::AcctOutputGigawords, output_giga)?;
        }
        b.u32(AttributeType::AcctInputPackets, request.input_packets)?;
        b.u32(AttributeType::AcctOutputPackets, request.output_packets)?;
        if let Some(t) = request.session_time {
            b.u32(AttributeType::AcctSessionTime, t)?;
        }
    }
    if let Some(cause) = request.terminate_cause {
        b.u32(AttributeType::AcctTerminateCause, cause.into())?;
    }
    nas_attributes(&mut b, &request.nas)?;
    slot.len = b.len();
    slot.password = None;
    slot.message_authenticator = None;
    slot.delay_time = Some(delay);
    Ok(())
}

fn nas_attributes(b: &mut PacketBuilder<'_>, nas: &NasInfo<'_>) -> Result<(), Error> {
    if let Some(ip) = nas.nas_ip_address {
        b.ipv4(AttributeType::NasIpAddress, ip)?;
    }
    if let Some(id) = nas.nas_identifier {
        b.attribute(AttributeType::NasIdentifier, id)?;
    }
    if let Some(port) = nas.nas_port {
        b.u32(AttributeType::NasPort, port)?;
    }
    if nas.l2tp {
        b.u32(AttributeType::ServiceType, 2)?; // Framed
        b.u32(AttributeType::FramedProtocol, 1)?; // PPP
        b.u32(AttributeType::NasPortType, 5)?; // Virtual
        b.tagged_u24(AttributeType::TunnelType, 0, 3)?; // L2TP (RFC 2868 §3.1)
        b.tagged_u24(AttributeType::TunnelMediumType, 0, 1)?; // IPv4
    }
    if let Some(id) = nas.calling_station_id {
        b.attribute(AttributeType::CallingStationId, id)?;
    }
    if let Some(id) = nas.called_station_id {
        b.attribute(AttributeType::CalledStationId, id)?;
    }
    Ok(())
}

/// Turns a slot's template into the datagram for `server`: header with the
/// identifier and authenticator, the password hidden, the authenticators
/// computed.
fn encode<const B: usize>(
    slot: &Slot<B>,
    server: &Server,
    out: &mut [u8],
) -> Result<(usize, [u8; 16]), Error> {
    let len = slot.len;
    let dst = out
        .get_mut(..len)
        .ok_or(Error::Build(BuildError::BufferTooSmall { needed: len }))?;
    dst.copy_from_slice(
        slot.buf
            .get(..len)
            .ok_or(Error::Build(BuildError::BufferTooSmall { needed: len }))?,
    );
    dst[1] = slot.id;
    let length = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes();
    dst[2..4].copy_from_slice(&length);
    match slot.service {
        Service::Authentication => {
            dst[4..HEADER_LEN].copy_from_slice(&slot.authenticator);
            if let Some((at, n)) = slot.password {
                let hidden = dst.get_mut(at..at + n).ok_or(Error::PasswordTooLong)?;
                crypto::hide_user_password(&server.secret, &slot.authenticator, hidden)
                    .map_err(Error::Crypto)?;
            }
            if let Some(at) = slot.message_authenticator {
                let ma =
                    crypto::message_authenticator(dst, &slot.authenticator, at, &server.secret);
                dst[at..at + 16].copy_from_slice(&ma);
            }
        }
        Service::Accounting => {
            let auth = crypto::packet_authenticator(dst, &[0; 16], &server.secret);
            dst[4..HEADER_LEN].copy_from_slice(&auth);
            return Ok((len, auth));
        }
    }
    Ok((len, slot.authenticator))
}
