//! The gateway: one sans-IO L2TP Network Server that serves every remote
//! session from the first IKE packet to the last accounting record, by
//! composing the cores: ike-core (Main and Quick Mode), esp-core (the data
//! path), l2tp-core (tunnels and calls), ppp-core (LCP, authentication,
//! IPCP) and radius-core (AAA), under the configuration, policy, pools and
//! session table of this crate.
//!
//! # The run loop
//!
//! Inputs are [`Gateway::handle_datagram`] (UDP 500 and 4500),
//! [`Gateway::handle_esp`] (IP protocol 50), [`Gateway::handle_ip`] (IPv4
//! from the routed side), [`Gateway::handle_radius`] (answers from RADIUS
//! servers), [`Gateway::handle_timeout`] and the commands. After each, drain
//! [`Gateway::poll_transmit`] and [`Gateway::poll_event`] until `None`, then
//! sleep until [`Gateway::poll_timeout`].
//!
//! The data path works in place and returns its result at once: an uplink
//! datagram that carries an IPv4 packet returns the packet's range in the
//! caller's buffer (`handle_datagram`), and a downlink packet returns the
//! datagram to send, sealed in the same buffer (`handle_ip`). Buffers given
//! to them need [`HEADROOM`] bytes in front of the data and [`TAILROOM`]
//! behind it.

mod aaa;
mod convert;
mod datapath;
mod ike;
pub mod inet;
mod l2tp;
mod peer;
mod ppp;

use crate::config::{Config, Name};
use crate::debug::{DebugClass, DebugSettings};
use crate::pool::AddressPool;
use crate::session::{SessionTable, WallClock};
pub(crate) use convert::{esp_algorithms, esp_config};
use core::fmt::{self, Write};
use core::net::{Ipv4Addr, SocketAddrV4};
use core::ops::Range;
use core::time::Duration;
use peer::Peer;
pub use radius_core::AcctTerminateCause as TerminateCause;
use rand_core::CryptoRng;
use zero_none::{MaybeTime, ZeroNone};

/// Bytes the gateway writes in front of a packet on the downlink, and needs
/// in front of every buffer it builds a datagram in: ESP header and IV (24),
/// UDP (8), L2TP (10), PPP (4), rounded up.
pub const HEADROOM: usize = 64;
/// Bytes behind a packet for ESP padding, trailer and ICV.
pub const TAILROOM: usize = esp_core::MAX_TAILROOM;
/// The smallest buffer [`Gateway::poll_transmit`] accepts.
pub const MIN_TRANSMIT_BUFFER: usize = 2048;
/// Bytes of one client slot of the gateway: addresses, phase, handles into
/// the IKE, ESP and L2TP tables, the PPP link, the user and group names,
/// RADIUS state and timers (`docs/PERFORMANCE.md` adds the rest of a
/// session).
pub const PEER_SIZE: usize = size_of::<Option<Peer>>();
/// The IKE port.
pub const IKE_PORT: u16 = 500;
/// The NAT-T port (RFC 3947).
pub const NAT_T_PORT: u16 = 4500;
/// RADIUS server groups the gateway keeps clients for (one per
/// `aaa-server` group the configuration can hold).
pub const MAX_RADIUS_GROUPS: usize = crate::config::capacity::AAA_GROUPS;
/// Events the gateway queues between two drains of
/// [`Gateway::poll_event`] (debug lines are dropped first when it is full).
#[cfg(not(feature = "capacity-router"))]
pub const EVENT_QUEUE: usize = 64;
/// Events the gateway queues between two drains of
/// [`Gateway::poll_event`] (feature `capacity-router`).
#[cfg(feature = "capacity-router")]
pub const EVENT_QUEUE: usize = 16;
/// Bytes of a RADIUS request (an EAP message and its attributes).
pub const RADIUS_REQUEST_LEN: usize = 1600;
/// Housekeeping period: idle and session timeouts, NAT keepalives, the end
/// of a teardown's drain.
const TICK: Duration = Duration::from_secs(1);
/// How long a closing session keeps its SAs so that PPP Terminate, CDN and
/// StopCCN can still go out through ESP.
const DRAIN: Duration = Duration::from_secs(2);
/// How soon the next tick comes when slots waited for room in IKE's queues
/// to send their Deletes: long enough for the port to drain them.
const PACE: Duration = Duration::from_millis(10);
/// How long a client may take from Main Mode to IPCP: a client that is
/// not up by then (it stopped after Main Mode, after Quick Mode, without
/// an L2TP call, in authentication) is ended and its slot freed.
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a closed session's slot waits for a free RADIUS request slot
/// for its Accounting-Stop before the Stop is counted lost.
pub const STOP_PATIENCE: Duration = Duration::from_secs(60);

/// Settings of the gateway that are not in the appliance's configuration.
#[derive(Debug, Clone)]
pub struct Options {
    /// The gateway's own address on the PPP links (IPCP's local address;
    /// Windows shows it as the server address).
    pub inside_address: Ipv4Addr,
    /// NAS-IP-Address and NAS-Identifier in RADIUS requests.
    pub nas_ip_address: Option<Ipv4Addr>,
    /// NAS-Identifier.
    pub nas_identifier: Name,
    /// Anti-replay window of inbound ESP SAs.
    pub replay_window: u16,
    /// The PPP MRU asked of the client: what fits the tunnel (1500 minus
    /// IP, UDP, ESP, UDP, L2TP and PPP overheads, rounded down).
    pub mru: u16,
    /// The L2TP host name.
    pub host_name: Name,
    /// Report the keys of every ESP SA installed ([`Event::EspKeys`]), for
    /// a capture file that tshark can decrypt (`--pcap`). Off by default:
    /// it hands out key material.
    pub export_keys: bool,
}

impl Default for Options {
    fn default() -> Self {
        let mut host_name = Name::new();
        let _ = host_name.push_str("lns");
        Self {
            inside_address: Ipv4Addr::new(192, 0, 2, 1),
            nas_ip_address: None,
            nas_identifier: host_name.clone(),
            replay_window: esp_core::DEFAULT_REPLAY_WINDOW,
            mru: 1400,
            host_name,
            export_keys: false,
        }
    }
}

/// Names a remote client: a slot of the gateway and its generation. It is
/// L2TP's peer handle, so that tunnels are told apart by the IPsec SA pair
/// that carries them, not by address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PeerId {
    index: u16,
    generation: u16,
}

/// Where a datagram from [`Gateway::poll_transmit`] or
/// [`Gateway::handle_ip`] goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Destination {
    /// UDP from our `local_port` (500 or 4500) to a client.
    Client {
        /// Our port.
        local_port: u16,
        /// The client's address and port, as this host sees them.
        remote: SocketAddrV4,
    },
    /// ESP directly in IP (protocol 50) to a client without NAT.
    ClientEsp {
        /// The client.
        remote: Ipv4Addr,
    },
    /// UDP to a RADIUS server (from any local port).
    Radius {
        /// The server's address and port.
        server: SocketAddrV4,
    },
}

/// A datagram to send: `buf[range]` to `destination`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Transmit {
    /// Where.
    pub destination: Destination,
    /// Which bytes of the buffer.
    pub range: Range<usize>,
}

/// A `debug l2tp` line, already filtered by the configured class and level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebugLine {
    /// Its class.
    pub class: DebugClass,
    /// Its level.
    pub level: u8,
    /// The text.
    pub text: heapless::String<160>,
}

/// What happened, for the port to log or act on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A session reached IPCP Opened: the client has `address`.
    SessionUp {
        /// The session's index (as `show vpn-sessiondb` shows it).
        index: u32,
        /// The user.
        user: Name,
        /// The client's address.
        address: Ipv4Addr,
    },
    /// A session ended.
    SessionDown {
        /// Its index.
        index: u32,
        /// Why (as accounting reports it).
        cause: TerminateCause,
    },
    /// A client was refused during authentication or authorization.
    LoginRefused {
        /// The client.
        remote: SocketAddrV4,
        /// The user name it gave.
        user: Name,
        /// Why.
        reason: Refused,
    },
    /// A `debug l2tp` line.
    Debug(DebugLine),
    /// The keys of an ESP SA just installed (only with
    /// [`Options::export_keys`]).
    EspKeys(EspKeys),
}

/// The keys of one ESP SA, for Wireshark's `esp_sa` table. Zeroized on
/// drop; `Debug` prints the SPI and algorithms only.
#[derive(Clone, PartialEq, Eq)]
pub struct EspKeys {
    /// The SPI.
    pub spi: u32,
    /// Inbound (the client sends with it) or outbound.
    pub inbound: bool,
    /// The encryption algorithm.
    pub encryption: esp_core::Encryption,
    /// Its key.
    pub encryption_key: heapless::Vec<u8, 32>,
    /// The integrity algorithm.
    pub integrity: esp_core::Integrity,
    /// Its key.
    pub integrity_key: heapless::Vec<u8, 32>,
}

impl EspKeys {
    /// The keys of one direction of a negotiated pair.
    pub(crate) fn of(
        spi: u32,
        inbound: bool,
        algorithms: (esp_core::Encryption, esp_core::Integrity),
        keys: &ike_core::EspKeys,
    ) -> Self {
        Self {
            spi,
            inbound,
            encryption: algorithms.0,
            encryption_key: heapless::Vec::from_slice(keys.encryption_key()).unwrap_or_default(),
            integrity: algorithms.1,
            integrity_key: heapless::Vec::from_slice(keys.integrity_key()).unwrap_or_default(),
        }
    }
}

impl Drop for EspKeys {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(self.encryption_key.as_mut_slice());
        zeroize::Zeroize::zeroize(self.integrity_key.as_mut_slice());
    }
}

impl fmt::Debug for EspKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EspKeys")
            .field("spi", &format_args!("{:#010x}", self.spi))
            .field("inbound", &self.inbound)
            .field("encryption", &self.encryption)
            .field("integrity", &self.integrity)
            .finish_non_exhaustive()
    }
}

/// Why a login was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Refused {
    /// The policy said no (unknown group, method not allowed, protocol not
    /// permitted, group lock, simultaneous logins, ...).
    Policy(crate::policy::Refusal),
    /// Wrong password (local database) or Access-Reject.
    BadCredentials,
    /// No RADIUS server answered.
    ServerTimeout,
    /// No address left in the pools.
    NoAddress,
    /// The session table is full.
    TableFull,
    /// Every RADIUS request slot is taken by other logins in progress; the
    /// client may try again.
    Busy,
    /// The local user had `aaa local authentication attempts max-fail`
    /// consecutive failed logins and is locked out until
    /// [`Gateway::clear_local_lockout`]. On the wire it is an ordinary
    /// authentication failure, as on the appliance.
    LockedOut,
}

/// Errors of the handlers. None of them disturbs another session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// A datagram that is not what its port carries.
    Malformed,
    /// ESP the SA table refused (unknown SPI, replay, ICV, padding).
    Esp(esp_core::OpenError),
    /// IKE refused the datagram.
    Ike(ike_core::Error),
    /// L2TP refused the message.
    L2tp(l2tp_core::Error),
    /// Inside ESP, something other than UDP to port 1701: the appliance
    /// carries only L2TP (the SA's selectors), so it is dropped.
    NotL2tp,
    /// An IPv4 packet from a client with a source address that is not the
    /// one it was assigned.
    Spoofed,
    /// An IPv4 packet for an address that is no client's.
    NoRoute,
    /// Plain L2TP (UDP 1701 outside ESP): not served, as on the appliance.
    PlainL2tp,
    /// Not enough room around the packet; the buffer needs [`HEADROOM`] in
    /// front and [`TAILROOM`] behind.
    BufferTooSmall,
    /// A RADIUS datagram from no configured server, or refused by the client.
    Radius,
    /// The session is not up (no SA, no L2TP session, no IPCP).
    NotUp,
    /// A command's target does not exist.
    NoSuchSession,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed => f.write_str("malformed datagram"),
            Self::Esp(e) => write!(f, "ESP: {e}"),
            Self::Ike(e) => write!(f, "IKE: {e:?}"),
            Self::L2tp(e) => write!(f, "L2TP: {e:?}"),
            Self::NotL2tp => f.write_str("ESP payload is not L2TP"),
            Self::Spoofed => f.write_str("IPv4 source is not the client's address"),
            Self::NoRoute => f.write_str("no client has this address"),
            Self::PlainL2tp => f.write_str("L2TP outside IPsec is not served"),
            Self::BufferTooSmall => f.write_str("buffer without headroom or tailroom"),
            Self::Radius => f.write_str("RADIUS datagram refused"),
            Self::NotUp => f.write_str("session not up"),
            Self::NoSuchSession => f.write_str("no such session"),
        }
    }
}

impl core::error::Error for Error {}

/// Counters of what the gateway dropped, for diagnosis.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Counters {
    /// Datagrams on 500/4500 that were neither IKE, ESP nor keepalive.
    pub malformed: u64,
    /// ESP refused by the SA table.
    pub esp_dropped: u64,
    /// ESP that did not carry UDP to port 1701.
    pub not_l2tp: u64,
    /// Plain UDP 1701 datagrams.
    pub plain_l2tp: u64,
    /// IPv4 from clients with a foreign source address.
    pub spoofed: u64,
    /// IPv4 from the routed side for no client.
    pub no_route: u64,
    /// Control output that had no SA to leave by.
    pub no_sa: u64,
    /// Logins refused.
    pub refused: u64,
    /// Sessions that reached IPCP Opened.
    pub sessions_up: u64,
    /// Sessions that ended.
    pub sessions_down: u64,
    /// Clients ended because they were not up within [`SETUP_TIMEOUT`].
    pub setup_timeouts: u64,
    /// Accounting requests that found every RADIUS request slot taken and
    /// were sent on a later tick.
    pub accounting_deferred: u64,
    /// Sessions whose accounting was cut short: an Accounting-Stop given
    /// up after [`STOP_PATIENCE`] of trying, or a session that ended before
    /// its Accounting-Start found a free request slot (neither is sent).
    pub accounting_lost: u64,
    /// Logins refused because the local user is locked out.
    pub locked_out: u64,
}

impl Counters {
    /// All zero (what `Default` gives), usable in `const` contexts.
    pub const ZERO: Self = Self {
        malformed: 0,
        esp_dropped: 0,
        not_l2tp: 0,
        plain_l2tp: 0,
        spoofed: 0,
        no_route: 0,
        no_sa: 0,
        refused: 0,
        sessions_up: 0,
        sessions_down: 0,
        setup_timeouts: 0,
        accounting_deferred: 0,
        accounting_lost: 0,
        locked_out: 0,
    };
}

/// What the gateway holds, from [`Gateway::resources`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resources {
    /// Records in the session table.
    pub sessions: usize,
    /// Client slots (from Main Mode to the end of a teardown).
    pub peers: usize,
    /// Pool addresses assigned.
    pub addresses: usize,
    /// ESP SAs and SPI reservations.
    pub esp_sas: usize,
    /// ISAKMP SAs.
    pub ike_sas: usize,
    /// L2TP tunnels (including closed ones held to re-acknowledge StopCCN).
    pub l2tp_tunnels: usize,
    /// RADIUS requests in flight or unanswered.
    pub radius_requests: usize,
    /// Logins RADIUS is deciding (at most `R`).
    pub logins: usize,
}

/// One RADIUS server group and its client.
struct RadiusGroup<const R: usize> {
    name: Name,
    client: radius_core::Client<R, RADIUS_REQUEST_LEN>,
    /// Authentication and accounting addresses of each server, by `ServerId`.
    servers: heapless::Vec<(SocketAddrV4, SocketAddrV4), { radius_core::MAX_SERVERS }>,
}

/// The gateway, with room for `N` remote sessions, `IKE` ISAKMP SAs,
/// `ESP` IPsec SAs (four per session covers a rekey overlap), `X`
/// concurrent IKE negotiations and `R` RADIUS requests in flight per
/// server group.
pub struct Gateway<
    const N: usize,
    const IKE: usize,
    const ESP: usize,
    const X: usize,
    const R: usize,
> {
    config: Config,
    options: Options,
    ike: ike_core::Endpoint<IKE, X>,
    esp: esp_core::SaTable<ESP>,
    /// For each ESP slot, the peer slot + 1 that owns it (0: none).
    esp_owner: [u16; ESP],
    l2tp: l2tp_core::Endpoint<PeerId, N, N>,
    peers: [Option<Peer>; N],
    /// Logins RADIUS is deciding (at most one per request slot).
    logins: [Option<peer::Login>; R],
    generations: [u16; N],
    /// Assigned addresses and their peer slots, sorted by address.
    by_address: heapless::Vec<(u32, u16), N>,
    pool: AddressPool<N>,
    sessions: SessionTable<N>,
    radius: heapless::Vec<RadiusGroup<R>, MAX_RADIUS_GROUPS>,
    debug: DebugSettings,
    events: heapless::Deque<Event, EVENT_QUEUE>,
    /// Peers whose PPP link may have a frame to send.
    ppp_output: heapless::Deque<u16, N>,
    counters: Counters,
    wall: ZeroNone<(Duration, WallClock)>,
    next_tick: MaybeTime,
    /// The Acct-Session-Id last given (0 before the first).
    acct_session: u32,
    /// Consecutive failed logins of each local user (by position in
    /// `config.users`).
    local_failures: [u8; crate::config::capacity::USERS],
}

/// A gateway for a small router: 16 sessions.
pub type Gateway16 = Gateway<16, 32, 64, 8, 8>;
/// A gateway for a host: 256 sessions.
pub type Gateway256 = Gateway<256, 512, 1024, 64, 64>;

impl<const N: usize, const IKE: usize, const ESP: usize, const X: usize, const R: usize> fmt::Debug
    for Gateway<N, IKE, ESP, X, R>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gateway")
            .field("sessions", &self.sessions.len())
            .field("peers", &self.peers.iter().flatten().count())
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl<const N: usize, const IKE: usize, const ESP: usize, const X: usize, const R: usize>
    Gateway<N, IKE, ESP, X, R>
{
    const SIZES: () = assert!(
        N > 0 && N < u16::MAX as usize && IKE >= N && ESP >= 2 * N,
        "Gateway<N, IKE, ESP, X, R>: IKE >= N and ESP >= 2 N"
    );

    /// A gateway serving `config`, returned by value (the host's way; a
    /// port with a small stack keeps [`new_empty`](Self::new_empty) in a
    /// `static` and calls [`start`](Self::start) instead).
    pub fn new(config: Config, options: Options) -> Self {
        let mut gateway = Self::new_empty();
        gateway.config = config;
        gateway.reset(options);
        gateway
    }

    /// A gateway that holds nothing and serves nobody (its configuration is
    /// [`Config::EMPTY`]), for a `static` initialised at compile time: a
    /// port keeps it there and [`start`](Self::start)s it in place, so
    /// that the gateway (about 110 KB at a router's capacities) never goes
    /// through the stack.
    ///
    /// Called at run time instead, it builds the value on the stack like
    /// any constructor (the compiler did not write it straight into a
    /// static in our measurements). The value is all zero bytes (empty
    /// slots, timers, counters and configurations; the `zero-none` crate), so such
    /// a static goes into `.bss` and costs no flash: the firmware's
    /// `scripts/firmware-sizes.sh` checks it.
    pub const fn new_empty() -> Self {
        let () = Self::SIZES;
        Self {
            config: Config::EMPTY,
            options: Options {
                inside_address: Ipv4Addr::UNSPECIFIED,
                nas_ip_address: None,
                nas_identifier: Name::new(),
                // Zero like everything here (the `zero-none` crate); `start` sets
                // the caller's options.
                replay_window: 0,
                mru: 0,
                host_name: Name::new(),
                export_keys: false,
            },
            ike: ike_core::Endpoint::new_empty(),
            esp: esp_core::SaTable::new(),
            esp_owner: [0; ESP],
            l2tp: l2tp_core::Endpoint::new_empty(),
            peers: [const { None }; N],
            logins: [const { None }; R],
            generations: [0; N],
            by_address: heapless::Vec::new(),
            pool: AddressPool::new(),
            sessions: SessionTable::new(),
            radius: heapless::Vec::new(),
            debug: DebugSettings::new(),
            events: heapless::Deque::new(),
            ppp_output: heapless::Deque::new(),
            counters: Counters::ZERO,
            wall: ZeroNone::NONE,
            next_tick: MaybeTime::NONE,
            acct_session: 0,
            local_failures: [0; crate::config::capacity::USERS],
        }
    }

    /// (Re)starts the gateway in place with the configuration in `text`
    /// (the appliance's syntax, [`Config::load`]) and `options`: the
    /// configuration is parsed into the gateway's own, everything the
    /// gateway held is dropped (clients are forgotten without a word to
    /// them) and every part is cleared slot by slot. Nothing of the
    /// gateway's size goes through the stack.
    ///
    /// # Errors
    /// The first wrong line; the gateway then runs with the default
    /// configuration, which serves nobody.
    pub fn start(&mut self, text: &str, options: Options) -> Result<(), crate::ConfigError> {
        let result = self.config.load(text, |_| {});
        self.reset(options);
        result
    }

    /// Clears every part in place and derives the cores' configurations
    /// from `self.config` and `options`.
    fn reset(&mut self, options: Options) {
        let () = Self::SIZES;
        let mut l2tp_config = l2tp_core::Config::default();
        let _ = l2tp_config.set_host_name(options.host_name.as_bytes());
        l2tp_config.set_hello_interval(self.config.l2tp_hello);
        // A closed tunnel is held to re-acknowledge a lost StopCCN; when the
        // IPsec SA is gone nothing can be sent, so keep the hold short.
        l2tp_config.close_hold = Duration::from_secs(8);
        // A client has one tunnel (and briefly a second when it redials
        // before the first is gone): no more, so that SCCRQs from inside
        // one SA cannot take the whole table.
        l2tp_config.max_tunnels_per_peer = 2;
        // Exhaustive, so that a new field cannot be forgotten here.
        let Self {
            config: _,
            options: o,
            ike,
            esp,
            esp_owner,
            l2tp,
            peers,
            logins,
            generations,
            by_address,
            pool,
            sessions,
            radius: _,
            debug,
            events,
            ppp_output,
            counters,
            wall,
            next_tick,
            acct_session,
            local_failures,
        } = self;
        *o = options;
        ike.reset(Self::ike_config(&self.config));
        esp.reset();
        *esp_owner = [0; ESP];
        l2tp.reset(l2tp_config);
        for p in peers.iter_mut() {
            *p = None;
        }
        for l in logins.iter_mut() {
            *l = None;
        }
        *generations = [0; N];
        by_address.clear();
        *pool = AddressPool::new();
        sessions.reset();
        *debug = DebugSettings::new();
        events.clear();
        ppp_output.clear();
        *counters = Counters::ZERO;
        *wall = ZeroNone::NONE;
        *next_tick = MaybeTime::NONE;
        *acct_session = 0;
        *local_failures = [0; crate::config::capacity::USERS];
        // The configuration is the caller's; the RADIUS groups follow it.
        self.build_radius(None);
    }

    /// The configuration in force.
    pub const fn config(&self) -> &Config {
        &self.config
    }

    /// Drop counters.
    pub const fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The session table (refreshed from the live counters by
    /// [`refresh_sessions`](Self::refresh_sessions)).
    pub const fn sessions(&self) -> &SessionTable<N> {
        &self.sessions
    }

    /// The debug settings.
    pub const fn debug_settings(&self) -> &DebugSettings {
        &self.debug
    }

    /// Tells the gateway what wall-clock time `now` is, for the login times
    /// `show vpn-sessiondb` prints. Without it, login times show the epoch.
    pub fn set_wall_clock(&mut self, now: Duration, wall: WallClock) {
        self.wall = ZeroNone::some((now, wall));
        // Certificate validity (RSA-signature clients) uses the same clock.
        let days = u64::try_from(wall.days_since_epoch()).unwrap_or(0);
        let unix = days * 86_400
            + u64::from(wall.hour) * 3600
            + u64::from(wall.minute) * 60
            + u64::from(wall.second);
        self.ike.set_wall_clock(now, unix);
    }

    /// The certificates for `rsa-sig` policies: the gateway's chain and key,
    /// and the CA certificates of the trust point that `tunnel-group
    /// DefaultRAGroup ipsec-attributes / trust-point` names (the port reads
    /// them from its certificate store). Until they are set, `rsa-sig`
    /// policies are never chosen.
    pub fn set_ike_credentials(&mut self, credentials: ike_core::cert::Credentials) {
        let mut c = self.ike.config().clone();
        c.credentials = credentials;
        self.ike.set_config(c);
    }

    /// What is in use, for leak checks: after every client has gone, all of
    /// it is zero.
    pub fn resources(&self) -> Resources {
        Resources {
            sessions: self.sessions.len(),
            peers: self.peers.iter().flatten().count(),
            addresses: self.pool.in_use(),
            esp_sas: self.esp.len(),
            ike_sas: self.ike.sa_handles().count(),
            l2tp_tunnels: self.l2tp.tunnel_handles().count(),
            radius_requests: self.radius.iter().map(|g| g.client.in_flight()).sum(),
            logins: self.logins.iter().flatten().count(),
        }
    }

    /// The component statistics of the cores, for diagnosis.
    pub fn core_counters(
        &self,
    ) -> (
        ike_core::Counters,
        esp_core::TableCounters,
        l2tp_core::Counters,
    ) {
        (
            *self.ike.counters(),
            *self.esp.counters(),
            *self.l2tp.counters(),
        )
    }

    /// ike-core's configuration: the appliance's, with half-open limits
    /// that scale with the capacity. Many clients behind one NAT share one
    /// address, so the per-address limit is a quarter of all half-open SAs
    /// rather than a handful.
    fn ike_config(config: &Config) -> ike_core::Config {
        let mut ike = convert::ike_config(config);
        ike.limits.max_half_open = (IKE / 2).max(16);
        ike.limits.max_half_open_per_peer = (IKE / 8).max(4);
        ike
    }

    /// The RADIUS clients of the configuration's server groups. A group
    /// that is unchanged from `previous` (same place, same servers) keeps
    /// its client, so that requests in flight (an Accounting-Start, a
    /// login's Access-Request) go on being retransmitted across a reload.
    fn build_radius(&mut self, previous: Option<&Config>) {
        let groups = &self.config.aaa_groups;
        self.radius.truncate(groups.len());
        for (i, group) in groups.iter().enumerate() {
            let unchanged = i < self.radius.len()
                && previous.is_some_and(|p| p.aaa_groups.get(i) == Some(group));
            if unchanged {
                continue;
            }
            let built = Self::new_radius_group(group);
            match self.radius.get_mut(i) {
                Some(slot) => *slot = built,
                None => {
                    let _ = self.radius.push(built);
                }
            }
        }
    }

    fn new_radius_group(group: &crate::config::AaaServerGroup) -> RadiusGroup<R> {
        let mut client = radius_core::Client::new(radius_core::GroupConfig::default());
        let mut servers = heapless::Vec::new();
        for host in &group.hosts {
            let Some(key) = host.key.as_ref() else {
                continue;
            };
            let server = radius_core::ServerConfig {
                secret: key.expose(),
                retry_interval: Duration::from_secs(u64::from(host.retry_interval.max(1))),
                timeout: Duration::from_secs(u64::from(host.timeout.max(1))),
                authentication: true,
                accounting: true,
            };
            if client.add_server(&server).is_ok() {
                let _ = servers.push((
                    SocketAddrV4::new(host.address, host.authentication_port),
                    SocketAddrV4::new(host.address, host.accounting_port),
                ));
            }
        }
        RadiusGroup {
            name: group.name.clone(),
            client,
            servers,
        }
    }

    // -----------------------------------------------------------------
    // Output
    // -----------------------------------------------------------------

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn emit(&mut self, event: Event) {
        if self.events.is_full() {
            // Debug lines are the first to go when the port does not drain.
            if let Some(pos) = self
                .events
                .iter()
                .position(|e| matches!(e, Event::Debug(_)))
            {
                let mut kept = heapless::Deque::new();
                for (i, e) in self.events.iter().enumerate() {
                    if i != pos {
                        let _ = kept.push_back(e.clone());
                    }
                }
                self.events = kept;
            }
        }
        let _ = self.events.push_back(event);
    }

    /// Emits a `debug l2tp` line if its class is enabled at `level`.
    fn debug(&mut self, class: DebugClass, level: u8, args: fmt::Arguments<'_>) {
        if !self.debug.enabled(class, level) {
            return;
        }
        let mut text = heapless::String::new();
        let _ = text.write_fmt(args);
        self.emit(Event::Debug(DebugLine { class, level, text }));
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let mut next = self.next_tick.get();
        let mut take = |t: Option<Duration>| {
            if let Some(t) = t
                && next.is_none_or(|n| t < n)
            {
                next = Some(t);
            }
        };
        take(self.ike.poll_timeout());
        take(self.esp.poll_timeout());
        take(self.l2tp.poll_timeout());
        for g in &self.radius {
            take(g.client.poll_timeout());
        }
        for p in self.peers.iter().flatten() {
            take(p.link.as_ref().and_then(ppp_core::Link::poll_timeout));
        }
        next
    }

    /// Runs what is due at `now`: retransmissions, lifetimes, keepalives,
    /// idle and session timeouts.
    pub fn handle_timeout(&mut self, now: Duration, rng: &mut impl CryptoRng) {
        self.ike.handle_timeout(now, rng);
        self.esp.handle_timeout(now);
        self.l2tp.handle_timeout(now);
        for g in &mut self.radius {
            g.client.handle_timeout(now);
        }
        for i in 0..N {
            let due = self.peers[i]
                .as_ref()
                .and_then(|p| p.link.as_ref())
                .and_then(ppp_core::Link::poll_timeout)
                .is_some_and(|d| now >= d);
            if due {
                if let Some(link) = self.peers[i].as_mut().and_then(|p| p.link.as_mut()) {
                    link.handle_timeout(now, rng);
                }
                self.link_touched(i);
            }
        }
        if self.next_tick.get().is_some_and(|t| now >= t) {
            self.housekeeping(now, rng);
        }
        self.pump(now, rng);
    }

    /// Writes the next datagram into `buf` (at least
    /// [`MIN_TRANSMIT_BUFFER`] bytes) and says where it goes.
    pub fn poll_transmit(
        &mut self,
        now: Duration,
        rng: &mut impl CryptoRng,
        buf: &mut [u8],
    ) -> Option<Transmit> {
        if buf.len() < MIN_TRANSMIT_BUFFER {
            return None;
        }
        loop {
            let t = self.next_transmit(now, rng, buf);
            // Sending can produce events (e.g. a PPP frame that had no SA to
            // leave by); keep the state machines moving.
            self.pump(now, rng);
            match t {
                Some(Some(t)) => return Some(t),
                Some(None) => continue,
                None => return None,
            }
        }
    }

    // -----------------------------------------------------------------
    // Commands
    // -----------------------------------------------------------------

    /// `vpn-sessiondb logoff index N`: ends the session with the proper
    /// wire messages (PPP Terminate, CDN, StopCCN, IKE Deletes) and
    /// accounting Stop with Admin-Reset.
    ///
    /// # Errors
    /// [`Error::NoSuchSession`].
    pub fn logoff_index(
        &mut self,
        now: Duration,
        index: u32,
        rng: &mut impl CryptoRng,
    ) -> Result<(), Error> {
        let slot = self
            .peers
            .iter()
            .position(|p| p.as_ref().is_some_and(|p| p.session_index == Some(index)))
            .ok_or(Error::NoSuchSession)?;
        self.teardown(now, slot, TerminateCause::AdminReset);
        self.pump(now, rng);
        Ok(())
    }

    /// `vpn-sessiondb logoff name USER`: every session of the user.
    /// Returns how many were ended.
    pub fn logoff_name(&mut self, now: Duration, name: &str, rng: &mut impl CryptoRng) -> usize {
        let mut n = 0;
        for slot in 0..N {
            if self.peers[slot].as_ref().is_some_and(|p| {
                p.session_index.is_some()
                    && p.session
                        .and_then(|h| self.sessions.get(h))
                        .is_some_and(|r| r.username.as_str() == name)
            }) {
                self.teardown(now, slot, TerminateCause::AdminReset);
                n += 1;
            }
        }
        self.pump(now, rng);
        n
    }

    /// `vpn-sessiondb logoff all`, and what a port does before it exits
    /// (with [`TerminateCause::AdminReboot`]): every client, including one
    /// still in IKE or PPP negotiation, is ended with the proper wire
    /// messages and accounting Stop. Returns how many clients.
    pub fn logoff_all(
        &mut self,
        now: Duration,
        cause: TerminateCause,
        rng: &mut impl CryptoRng,
    ) -> usize {
        let mut n = 0;
        for slot in 0..N {
            if self.peers[slot].as_ref().is_some_and(|p| !p.closing()) {
                self.teardown(now, slot, cause);
                n += 1;
            }
        }
        self.pump(now, rng);
        n
    }

    /// Replaces the configuration. Sessions whose tunnel group, group
    /// policy or pool address the new configuration no longer allows are
    /// ended (accounting cause NAS-Request); the others continue.
    pub fn replace_config(&mut self, now: Duration, config: Config, rng: &mut impl CryptoRng) {
        let mut ike = Self::ike_config(&config);
        ike.credentials = self.ike.config().credentials.clone();
        self.ike.set_config(ike);
        let previous = core::mem::replace(&mut self.config, config);
        self.build_radius(Some(&previous));
        // Failed-login counts follow their users across a reload.
        let mut failures = [0; crate::config::capacity::USERS];
        for (i, user) in self.config.users.iter().enumerate() {
            if let Some(j) = previous.users.iter().position(|u| u.name == user.name) {
                failures[i] = self.local_failures.get(j).copied().unwrap_or(0);
            }
        }
        self.local_failures = failures;
        for slot in 0..N {
            let keep = match self.peers[slot].as_ref() {
                Some(p) if p.session_index.is_some() => self.still_allowed(p),
                _ => true,
            };
            if !keep {
                self.teardown(now, slot, TerminateCause::NasRequest);
            }
        }
        self.pump(now, rng);
    }

    /// The consecutive failed logins of local user `name`, and whether it
    /// is locked out (`show aaa local user`).
    pub fn local_user_failures(&self, name: &str) -> Option<(u8, bool)> {
        let i = self.config.users.iter().position(|u| u.name == name)?;
        let failures = self.local_failures[i];
        Some((failures, self.locked_out(i)))
    }

    /// `clear aaa local user lockout {all | username NAME}`: unlocks
    /// (and zeroes the failure count of) one local user, or every one with
    /// `None`; returns how many were locked out.
    pub fn clear_local_lockout(&mut self, name: Option<&str>) -> usize {
        crate::console::clear_local_failures(&self.config, &mut self.local_failures, name)
    }

    fn locked_out(&self, i: usize) -> bool {
        let failures = self.local_failures.get(i).copied().unwrap_or(0);
        self.config.local_user_locked(i, failures)
    }

    /// Runs one console line (`show vpn-sessiondb ...`, `show debug`,
    /// `show running-config`, `debug l2tp ...`, `no debug ...`,
    /// `show aaa local user [locked]`, `clear aaa local user lockout ...`)
    /// and writes its output; the session records are refreshed first.
    ///
    /// # Errors
    /// The command's parse error, written to `out` as the appliance does,
    /// is also returned.
    pub fn console(
        &mut self,
        now: Duration,
        line: &str,
        out: &mut impl Write,
    ) -> Result<(), crate::console::CommandError> {
        let command = match crate::console::Command::parse(line) {
            Ok(c) => c,
            Err(e) => {
                let _ = writeln!(out, "{e}");
                return Err(e);
            }
        };
        self.refresh_sessions(now);
        let _ = crate::console::execute(
            &command,
            out,
            &self.config,
            &self.sessions,
            &mut self.debug,
            &mut self.local_failures,
            now,
        );
        Ok(())
    }

    /// Copies the live counters and timers of every session into its record.
    pub fn refresh_sessions(&mut self, now: Duration) {
        for slot in 0..N {
            self.refresh_record(now, slot);
        }
    }
}
