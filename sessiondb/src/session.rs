//! The session table: one record per remote session, with its IKE, IPsec
//! and L2TP sub-sessions, as plain data.
//!
//! A gateway fills the records from the cores' events and getters (SPIs,
//! negotiated algorithms, ports, lifetimes, counters) and refreshes the
//! counters before printing; `show vpn-sessiondb` is a pure function of the
//! records and `now` (see [`crate::show`]). Times are `Duration`s on the
//! port's monotonic clock, like every `now` of the project; the only
//! wall-clock value is the login time the port supplies for display.

use core::fmt;
use core::net::Ipv4Addr;
use core::time::Duration;

use crate::config::{Name, PppAuth};
use crate::policy::{LoginDecision, simultaneous_login};

/// The remote-access protocol of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// L2TP inside ESP on IP protocol 50.
    L2tpOverIpsec,
    /// L2TP inside UDP-encapsulated ESP (RFC 3948), a NAT in between.
    L2tpOverIpsecOverNatT,
}

impl Protocol {
    /// Both protocols.
    pub const ALL: [Protocol; 2] = [Protocol::L2tpOverIpsec, Protocol::L2tpOverIpsecOverNatT];

    /// The name `show vpn-sessiondb` prints and `filter protocol` takes.
    pub const fn name(self) -> &'static str {
        match self {
            Protocol::L2tpOverIpsec => "L2TPOverIPSec",
            Protocol::L2tpOverIpsecOverNatT => "L2TPOverIPSecOverNatT",
        }
    }

    /// The name of the IPsec sub-session (`IPSec` / `IPSecOverNatT`).
    pub const fn ipsec_name(self) -> &'static str {
        match self {
            Protocol::L2tpOverIpsec => "IPSec",
            Protocol::L2tpOverIpsecOverNatT => "IPSecOverNatT",
        }
    }

    /// Parses a protocol name without regard to case (the chapter writes
    /// both `L2TPOverIPSec` and `l2tpOverIPsec`).
    pub fn from_name(s: &str) -> Option<Self> {
        Protocol::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s))
    }

    const fn slot(self) -> usize {
        match self {
            Protocol::L2tpOverIpsec => 0,
            Protocol::L2tpOverIpsecOverNatT => 1,
        }
    }
}

/// An encryption algorithm as `show vpn-sessiondb` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cipher {
    /// No encryption (`none`).
    None,
    /// DES.
    Des,
    /// 3DES.
    TripleDes,
    /// AES-128.
    Aes128,
    /// AES-192.
    Aes192,
    /// AES-256.
    Aes256,
}

impl Cipher {
    /// The displayed name.
    pub const fn name(self) -> &'static str {
        match self {
            Cipher::None => "none",
            Cipher::Des => "DES",
            Cipher::TripleDes => "3DES",
            Cipher::Aes128 => "AES128",
            Cipher::Aes192 => "AES192",
            Cipher::Aes256 => "AES256",
        }
    }
}

/// An integrity algorithm as `show vpn-sessiondb` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hash {
    /// No integrity (`none`).
    None,
    /// MD5 (HMAC-MD5-96 for ESP).
    Md5,
    /// SHA-1 (HMAC-SHA1-96 for ESP).
    Sha1,
    /// SHA-256.
    Sha256,
}

impl Hash {
    /// The displayed name.
    pub const fn name(self) -> &'static str {
        match self {
            Hash::None => "none",
            Hash::Md5 => "MD5",
            Hash::Sha1 => "SHA1",
            Hash::Sha256 => "SHA256",
        }
    }
}

/// IKEv1 phase 1 exchange (`IKE Neg Mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NegotiationMode {
    /// Main Mode (RFC 2409 §5).
    Main,
    /// Aggressive Mode (RFC 2409 §5).
    Aggressive,
}

impl NegotiationMode {
    /// The displayed name.
    pub const fn name(self) -> &'static str {
        match self {
            NegotiationMode::Main => "Main",
            NegotiationMode::Aggressive => "Aggressive",
        }
    }
}

/// IKE authentication (`Auth Mode` of the IKE sub-session).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IkeAuthMode {
    /// Pre-shared key.
    PreSharedKeys,
    /// RSA signature with a certificate.
    RsaCertificate,
}

impl IkeAuthMode {
    /// The displayed name.
    pub const fn name(self) -> &'static str {
        match self {
            IkeAuthMode::PreSharedKeys => "preSharedKeys",
            IkeAuthMode::RsaCertificate => "rsaCertificate",
        }
    }
}

/// IPsec encapsulation (`Encapsulation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encapsulation {
    /// Transport mode: what L2TP/IPsec uses.
    Transport,
    /// Tunnel mode.
    Tunnel,
}

impl Encapsulation {
    /// The displayed name.
    pub const fn name(self) -> &'static str {
        match self {
            Encapsulation::Transport => "Transport",
            Encapsulation::Tunnel => "Tunnel",
        }
    }
}

/// A UTC calendar time, as the port's real-time clock gives it; used only
/// for display (`Login Time`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct WallClock {
    /// Year, e.g. 2006.
    pub year: u16,
    /// Month 1..=12.
    pub month: u8,
    /// Day of the month 1..=31.
    pub day: u8,
    /// Hour 0..=23.
    pub hour: u8,
    /// Minute 0..=59.
    pub minute: u8,
    /// Second 0..=59 (60 for a leap second).
    pub second: u8,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];

impl WallClock {
    /// Days since 1970-01-01 (proleptic Gregorian; H. Hinnant's
    /// `days_from_civil`).
    pub fn days_since_epoch(&self) -> i64 {
        let m = i64::from(self.month.clamp(1, 12));
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// 1970-01-01 00:00:00 UTC.
    pub const EPOCH: Self = Self {
        year: 1970,
        month: 1,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
    };

    /// The time `secs` seconds after the epoch (H. Hinnant's
    /// `civil_from_days`).
    pub fn from_unix(secs: u64) -> Self {
        let days = i64::try_from(secs / 86_400).unwrap_or(0);
        let rem = secs % 86_400;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        let small = |v: i64| u8::try_from(v).unwrap_or(0);
        Self {
            year: u16::try_from(year).unwrap_or(u16::MAX),
            month: small(month),
            day: small(day),
            hour: small(i64::try_from(rem / 3600).unwrap_or(0)),
            minute: small(i64::try_from(rem % 3600 / 60).unwrap_or(0)),
            second: small(i64::try_from(rem % 60).unwrap_or(0)),
        }
    }

    /// Seconds since the epoch (0 for times before it).
    pub fn unix_seconds(&self) -> u64 {
        let days = u64::try_from(self.days_since_epoch()).unwrap_or(0);
        days * 86_400
            + u64::from(self.hour) * 3600
            + u64::from(self.minute) * 60
            + u64::from(self.second)
    }

    /// This time plus `d` (whole seconds).
    pub fn plus(&self, d: Duration) -> Self {
        Self::from_unix(self.unix_seconds().saturating_add(d.as_secs()))
    }

    /// The weekday's three-letter name.
    pub fn weekday(&self) -> &'static str {
        // 1970-01-01 was a Thursday; `rem_euclid(7)` is 0..=6.
        let d = usize::try_from(self.days_since_epoch().rem_euclid(7)).unwrap_or(0);
        WEEKDAYS[d % 7]
    }
}

/// `13:24:48 UTC Thu Mar 30 2006`, as `Login Time` shows it.
impl fmt::Display for WallClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A gateway that was never given the time of day (a board without
        // a clock source) keeps the default, year 0: say so rather than
        // print a date that is not one.
        if self.year == 0 {
            return f.write_str("unknown (no clock set)");
        }
        let month = MONTHS[usize::from(self.month.clamp(1, 12)) - 1];
        write!(
            f,
            "{:02}:{:02}:{:02} UTC {} {} {} {}",
            self.hour,
            self.minute,
            self.second,
            self.weekday(),
            month,
            self.day,
            self.year
        )
    }
}

/// Traffic counters of a sub-session (or of the whole session).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Counters {
    /// Bytes sent to the client.
    pub bytes_tx: u64,
    /// Bytes received from the client.
    pub bytes_rx: u64,
    /// Packets sent.
    pub packets_tx: u64,
    /// Packets received.
    pub packets_rx: u64,
}

/// One end of an IPsec selector: `80.208.1.2/255.255.255.255/17/1701`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Selector {
    /// Address.
    pub address: Ipv4Addr,
    /// Mask.
    pub mask: Ipv4Addr,
    /// IP protocol (17: UDP).
    pub protocol: u8,
    /// Port (0: any, as a NAT-T client's source port is).
    pub port: u16,
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.address, self.mask, self.protocol, self.port
        )
    }
}

/// A time-based rekey: the interval and when it falls due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRekey {
    /// The negotiated lifetime (`Rekey Int (T)`).
    pub interval: Duration,
    /// When the SA must be rekeyed, on the monotonic clock (`Rekey Left(T)`
    /// is this minus `now`).
    pub due: Duration,
}

impl TimeRekey {
    /// A rekey of `interval` for an SA established at `established`.
    pub fn starting(established: Duration, interval: Duration) -> Self {
        TimeRekey {
            interval,
            due: established.saturating_add(interval),
        }
    }
}

/// A volume-based rekey, in kilobytes (`Rekey Int (D)`, `Rekey Left(D)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataRekey {
    /// The negotiated lifetime in kilobytes.
    pub interval_kb: u64,
    /// Kilobytes left before the current SA must be rekeyed (from the ESP
    /// SA's byte counters).
    pub left_kb: u64,
}

/// An idle timer: the timeout and the last activity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Idle {
    /// The idle timeout; `None`: no idle timeout.
    pub timeout: Option<Duration>,
    /// When traffic last passed, on the monotonic clock.
    pub last_activity: Duration,
}

/// The IKE (phase 1) sub-session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IkeSubSession {
    /// Sub-session ID.
    pub session_id: u32,
    /// The ISAKMP SA's cookies, initiator's then responder's (RFC 2408 §3.1);
    /// not shown by `detail`, kept to tie the record to ike-core's SA.
    pub cookies: [u64; 2],
    /// The client's UDP port (500, or 4500 after a NAT-T float).
    pub udp_src_port: u16,
    /// The gateway's UDP port.
    pub udp_dst_port: u16,
    /// Main or Aggressive Mode.
    pub negotiation_mode: NegotiationMode,
    /// Pre-shared key or certificate.
    pub auth_mode: IkeAuthMode,
    /// IKE encryption.
    pub encryption: Cipher,
    /// IKE hash.
    pub hashing: Hash,
    /// The IKE SA lifetime.
    pub rekey: TimeRekey,
    /// Diffie-Hellman group number.
    pub dh_group: u8,
}

/// The IPsec (phase 2) sub-session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpsecSubSession {
    /// Sub-session ID.
    pub session_id: u32,
    /// SPI of the inbound ESP SA (chosen by the gateway; esp-core's table slot).
    pub inbound_spi: u32,
    /// SPI of the outbound ESP SA (chosen by the client).
    pub outbound_spi: u32,
    /// The gateway's selector.
    pub local: Selector,
    /// The client's selector.
    pub remote: Selector,
    /// ESP encryption.
    pub encryption: Cipher,
    /// ESP integrity.
    pub hashing: Hash,
    /// Transport (always, for L2TP).
    pub encapsulation: Encapsulation,
    /// The SA lifetime in seconds.
    pub rekey_time: TimeRekey,
    /// The SA lifetime in kilobytes, if the client proposed one.
    pub rekey_data: Option<DataRekey>,
    /// Idle timer.
    pub idle: Idle,
    /// ESP counters (bytes of ESP payload).
    pub counters: Counters,
}

/// The L2TP (and PPP) sub-session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct L2tpSubSession {
    /// Sub-session ID.
    pub session_id: u32,
    /// L2TP tunnel IDs, the gateway's then the client's (RFC 2661 §3.1).
    pub tunnel_ids: [u16; 2],
    /// L2TP session IDs, the gateway's then the client's.
    pub session_ids: [u16; 2],
    /// The name PPP authenticated.
    pub username: Name,
    /// The address IPCP assigned.
    pub assigned_ip: Ipv4Addr,
    /// PPP encryption (MPPE is not negotiated: `none`).
    pub encryption: Cipher,
    /// The PPP authentication protocol used.
    pub auth_mode: PppAuth,
    /// Idle timer.
    pub idle: Idle,
    /// L2TP data counters.
    pub counters: Counters,
}

/// One remote session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The session index; assigned by [`SessionTable::insert`].
    pub index: u32,
    /// User name.
    pub username: Name,
    /// Address assigned to the client.
    pub assigned_ip: Option<Ipv4Addr>,
    /// The client's public address.
    pub public_ip: Ipv4Addr,
    /// Protocol.
    pub protocol: Protocol,
    /// Session-level byte counters (`Bytes Tx/Rx` of the session).
    pub bytes_tx: u64,
    /// See `bytes_tx`.
    pub bytes_rx: u64,
    /// Group policy in force.
    pub group_policy: Name,
    /// Tunnel group.
    pub tunnel_group: Name,
    /// When the session started, on the monotonic clock (`Duration` is
    /// `now` minus this).
    pub login_at: Duration,
    /// The wall-clock time of `login_at`, for `Login Time`.
    pub login_wall: WallClock,
    /// A filter (RADIUS Filter-Id or downloadable ACL name).
    pub filter_name: Name,
    /// The IKE sub-session, once phase 1 is up.
    pub ike: Option<IkeSubSession>,
    /// The IPsec sub-session, once phase 2 is up.
    pub ipsec: Option<IpsecSubSession>,
    /// The L2TP sub-session, once PPP is up.
    pub l2tp: Option<L2tpSubSession>,
    /// Makes an empty slot of the [`SessionTable`] (`None`) all zero bytes
    /// (the `zero-none` crate).
    _occupied: zero_none::Occupied,
}

impl Session {
    /// A session that has just begun: no sub-sessions, no counters.
    pub fn new(
        public_ip: Ipv4Addr,
        protocol: Protocol,
        login_at: Duration,
        login_wall: WallClock,
    ) -> Self {
        Session {
            index: 0,
            username: Name::new(),
            assigned_ip: None,
            public_ip,
            protocol,
            bytes_tx: 0,
            bytes_rx: 0,
            group_policy: Name::new(),
            tunnel_group: Name::new(),
            login_at,
            login_wall,
            filter_name: Name::new(),
            ike: None,
            ipsec: None,
            l2tp: None,
            _occupied: zero_none::Occupied::Yes,
        }
    }

    /// The session's encryption: that of its IPsec SA (or its IKE SA before).
    pub fn encryption(&self) -> Cipher {
        self.ipsec
            .map(|s| s.encryption)
            .or(self.ike.map(|s| s.encryption))
            .unwrap_or(Cipher::None)
    }

    /// The session's hashing: that of its IPsec SA (or its IKE SA before).
    pub fn hashing(&self) -> Hash {
        self.ipsec
            .map(|s| s.hashing)
            .or(self.ike.map(|s| s.hashing))
            .unwrap_or(Hash::None)
    }

    /// The last activity of the session: the latest of its sub-sessions'.
    pub fn last_activity(&self) -> Duration {
        let mut t = self.login_at;
        if let Some(s) = &self.ipsec {
            t = t.max(s.idle.last_activity);
        }
        if let Some(s) = &self.l2tp {
            t = t.max(s.idle.last_activity);
        }
        t
    }
}

/// A session's place in the table: slot and generation, so that a handle
/// kept past the session's end never reaches another session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SessionHandle {
    slot: u16,
    generation: u32,
}

/// The table is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableFull;

impl fmt::Display for TableFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("session table full")
    }
}

impl core::error::Error for TableFull {}

/// Per-protocol statistics for `show vpn-sessiondb summary`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ProtocolStats {
    /// Sessions now.
    pub active: usize,
    /// Sessions since the table was created.
    pub cumulative: u64,
    /// Most sessions at once.
    pub peak: usize,
}

impl ProtocolStats {
    /// All zero (what `Default` gives), usable in `const` contexts.
    pub const ZERO: Self = Self {
        active: 0,
        cumulative: 0,
        peak: 0,
    };
}

/// At most `N` sessions (`N` ≤ 65536).
#[derive(Clone, Debug)]
pub struct SessionTable<const N: usize> {
    slots: [Option<Session>; N],
    generations: [u32; N],
    /// The index last given (0 before the first, so that an empty table
    /// is all zero bytes: the `zero-none` crate).
    last_index: u32,
    /// Cumulative and peak counts; `active` is counted when asked.
    stats: [ProtocolStats; 2],
    total: ProtocolStats,
}

impl<const N: usize> Default for SessionTable<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> SessionTable<N> {
    /// An empty table (`const`: a gateway can be built at compile time).
    pub const fn new() -> Self {
        SessionTable {
            slots: [const { None }; N],
            generations: [0; N],
            last_index: 0,
            stats: [ProtocolStats::ZERO; 2],
            total: ProtocolStats::ZERO,
        }
    }

    /// Back to [`new`](Self::new), in place (slot by slot: the table is
    /// never moved through the stack as a whole).
    pub fn reset(&mut self) {
        // Exhaustive, so that a new field cannot be forgotten here.
        let SessionTable {
            slots,
            generations,
            last_index,
            stats,
            total,
        } = self;
        for s in slots.iter_mut() {
            *s = None;
        }
        *generations = [0; N];
        *last_index = 0;
        *stats = [ProtocolStats::ZERO; 2];
        *total = ProtocolStats::ZERO;
    }

    /// Capacity.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Sessions now.
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    /// `true` if there is no session.
    pub fn is_empty(&self) -> bool {
        self.slots.iter().all(Option::is_none)
    }

    fn active(&self, p: Protocol) -> usize {
        self.slots
            .iter()
            .flatten()
            .filter(|s| s.protocol == p)
            .count()
    }

    /// Statistics of one protocol.
    pub fn stats(&self, p: Protocol) -> ProtocolStats {
        ProtocolStats {
            active: self.active(p),
            ..self.stats[p.slot()]
        }
    }

    /// Statistics of all sessions.
    pub fn total_stats(&self) -> ProtocolStats {
        ProtocolStats {
            active: self.len(),
            ..self.total
        }
    }

    /// Adds a session, giving it the next index.
    ///
    /// # Errors
    /// [`TableFull`].
    pub fn insert(&mut self, mut session: Session) -> Result<SessionHandle, TableFull> {
        let slot = self
            .slots
            .iter()
            .position(Option::is_none)
            .ok_or(TableFull)?;
        let slot_u16 = u16::try_from(slot).map_err(|_| TableFull)?;
        self.last_index = match self.last_index.wrapping_add(1) {
            0 => 1,
            n => n,
        };
        session.index = self.last_index;
        let protocol = session.protocol;
        self.slots[slot] = Some(session);
        let (active, total) = (self.active(protocol), self.len());
        let per = &mut self.stats[protocol.slot()];
        per.cumulative += 1;
        per.peak = per.peak.max(active);
        self.total.cumulative += 1;
        self.total.peak = self.total.peak.max(total);
        Ok(SessionHandle {
            slot: slot_u16,
            generation: self.generations[slot],
        })
    }

    fn live(&self, h: SessionHandle) -> Option<usize> {
        let i = usize::from(h.slot);
        (i < N && self.generations[i] == h.generation && self.slots[i].is_some()).then_some(i)
    }

    /// The session of a handle (`None` if it has ended).
    pub fn get(&self, h: SessionHandle) -> Option<&Session> {
        self.live(h).and_then(|i| self.slots[i].as_ref())
    }

    /// The session of a handle, to update (`None` if it has ended).
    pub fn get_mut(&mut self, h: SessionHandle) -> Option<&mut Session> {
        let i = self.live(h)?;
        self.slots[i].as_mut()
    }

    /// Removes a session; the handle becomes stale.
    pub fn remove(&mut self, h: SessionHandle) -> Option<Session> {
        let i = self.live(h)?;
        let s = self.slots[i].take()?;
        self.generations[i] = self.generations[i].wrapping_add(1);
        Some(s)
    }

    /// All sessions, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (SessionHandle, &Session)> {
        self.slots.iter().enumerate().filter_map(|(i, s)| {
            s.as_ref().map(|s| {
                (
                    SessionHandle {
                        // `insert` refuses slots past u16::MAX.
                        slot: u16::try_from(i).unwrap_or(u16::MAX),
                        generation: self.generations[i],
                    },
                    s,
                )
            })
        })
    }

    /// All sessions in index order (the order `show vpn-sessiondb` lists them).
    pub fn iter_by_index(&self) -> impl Iterator<Item = (SessionHandle, &Session)> {
        let mut last: Option<u32> = None;
        core::iter::from_fn(move || {
            let next = self
                .iter()
                .filter(|(_, s)| last.is_none_or(|l| s.index > l))
                .min_by_key(|(_, s)| s.index)?;
            last = Some(next.1.index);
            Some(next)
        })
    }

    /// The session with this index.
    pub fn find_index(&self, index: u32) -> Option<SessionHandle> {
        self.iter().find(|(_, s)| s.index == index).map(|(h, _)| h)
    }

    /// The sessions of a user name, compared without regard to case (the
    /// appliance counts `User1` and `user1` together).
    pub fn user_sessions<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = (SessionHandle, &'a Session)> + 'a {
        self.iter()
            .filter(move |(_, s)| s.username.eq_ignore_ascii_case(name))
    }

    /// Applies `vpn-simultaneous-logins` to a new login of `name`.
    pub fn admit(&self, name: &str, limit: u32) -> LoginDecision<SessionHandle> {
        simultaneous_login(
            limit,
            self.user_sessions(name)
                .map(|(h, s)| (h, s.last_activity(), s.login_at)),
        )
    }
}
