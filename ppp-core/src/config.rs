//! The link configuration: a plain struct with public fields and the RFC
//! defaults, checked once when the link is created.

use core::net::Ipv4Addr;
use core::time::Duration;

use zeroize::Zeroize;

use crate::wire::lcp::AuthMethod;

/// Longest authenticator name (the CHAP Name field of our Challenges).
pub const MAX_NAME_LEN: usize = 16;
/// Longest user name the peer role sends (PAP Peer-Id, CHAP Name, EAP
/// Identity).
pub const MAX_USER_LEN: usize = 64;
/// Longest password the peer role holds.
pub const MAX_PASSWORD_LEN: usize = 64;

/// Which end of the authentication and address assignment this link is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Role {
    /// The gateway (LNS): requires the peer to authenticate, assigns its
    /// address and DNS/NBNS servers.
    Authenticator,
    /// The dial-in client (or the simulator's client): authenticates itself
    /// and asks for an address.
    Peer,
}

/// A password, zeroized on drop and never printed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Password(heapless::Vec<u8, MAX_PASSWORD_LEN>);

impl Password {
    /// Wraps a password.
    ///
    /// # Errors
    /// [`ConfigError::PasswordTooLong`] beyond [`MAX_PASSWORD_LEN`] octets.
    pub fn new(password: &[u8]) -> Result<Self, ConfigError> {
        heapless::Vec::from_slice(password)
            .map(Self)
            .map_err(|_| ConfigError::PasswordTooLong)
    }

    /// The password octets.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Password {
    fn drop(&mut self) {
        // Only the first `len` octets were ever written.
        self.0.as_mut_slice().zeroize();
        self.0.clear();
    }
}

impl core::fmt::Debug for Password {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// The authentication methods, in order of preference: the authenticator
/// asks for the first and falls back along the list when the peer Naks
/// (RFC 1661 §6.2); the peer accepts any of them and Naks with the first.
pub type AuthMethods = heapless::Vec<AuthMethod, 5, u8>;

/// IPCP settings (RFC 1332, RFC 1877).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpcpConfig {
    /// Authenticator: our own address, sent in our Configure-Request
    /// (Windows shows it as the server address). Peer: the address to ask
    /// for first (`None` asks with 0.0.0.0).
    pub local_address: Option<Ipv4Addr>,
    /// Authenticator: primary and secondary DNS servers offered through
    /// Naks (RFC 1877 §1.1, §1.3); a request for one that is `None` is
    /// rejected.
    pub dns: [Option<Ipv4Addr>; 2],
    /// Authenticator: primary and secondary NBNS (WINS) servers (RFC 1877
    /// §1.2, §1.4).
    pub nbns: [Option<Ipv4Addr>; 2],
    /// Peer: ask for DNS servers.
    pub request_dns: bool,
    /// Peer: ask for NBNS servers.
    pub request_nbns: bool,
}

#[cfg(feature = "defmt")]
impl defmt::Format for IpcpConfig {
    fn format(&self, f: defmt::Formatter<'_>) {
        use crate::Ip;
        defmt::write!(
            f,
            "IpcpConfig {{ local: {}, dns: [{}, {}], nbns: [{}, {}] }}",
            self.local_address.map(Ip),
            self.dns[0].map(Ip),
            self.dns[1].map(Ip),
            self.nbns[0].map(Ip),
            self.nbns[1].map(Ip)
        );
    }
}

/// Everything a [`crate::Link`] is configured with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Authenticator or peer.
    pub role: Role,
    /// Authentication methods in order of preference (see [`AuthMethods`]).
    /// An authenticator with an empty list does not authenticate.
    pub auth_methods: AuthMethods,
    /// Authenticator: the CHAP Name of our Challenges. Peer: the user name.
    pub name: heapless::Vec<u8, MAX_USER_LEN>,
    /// Peer: the password (unused by the authenticator).
    pub password: Password,
    /// Our MRU, requested when it is not the default 1500 (RFC 1661 §6.1):
    /// set it to what fits the tunnel so that the peer's packets are not
    /// fragmented.
    pub mru: u16,
    /// The smallest MRU accepted from the peer; a smaller one is Nak'd with
    /// this value.
    pub peer_mru_min: u16,
    /// The largest MRU accepted from the peer; a larger one is Nak'd with
    /// this value (what fits the tunnel towards the peer).
    pub peer_mru_max: u16,
    /// An ACCM to request (RFC 1662 §7.1). L2TP carries no async framing, so
    /// the default is not to ask; the peer's ACCM is always Acked.
    pub accm: Option<u32>,
    /// Request Protocol-Field-Compression (we can receive compressed
    /// protocol fields; we always can).
    pub request_pfc: bool,
    /// Request Address-and-Control-Field-Compression.
    pub request_acfc: bool,
    /// The restart timer (RFC 1661 §4.6, default 3 s).
    pub restart_interval: Duration,
    /// Max-Configure (default 10).
    pub max_configure: u8,
    /// Max-Terminate (default 2).
    pub max_terminate: u8,
    /// Max-Failure (default 5).
    pub max_failure: u8,
    /// LCP Echo-Request interval once LCP is Opened (RFC 1661 §5.8);
    /// `None` disables keepalives.
    pub echo_interval: Option<Duration>,
    /// Unanswered Echo-Requests after which the link is closed.
    pub echo_failures: u8,
    /// The whole authentication phase must finish within this time,
    /// including the caller's decision.
    pub auth_timeout: Duration,
    /// IPCP settings.
    pub ipcp: IpcpConfig,
}

impl Config {
    /// An authenticator with the RFC defaults, asking for `methods` in order,
    /// MRU 1400 and peer MRUs from 576 to 1400, echo every 10 s, five
    /// failures, a 30 s authentication timeout.
    pub fn authenticator(methods: &[AuthMethod]) -> Self {
        Self {
            role: Role::Authenticator,
            auth_methods: heapless::Vec::from_slice(&methods[..methods.len().min(5)])
                .unwrap_or_default(),
            name: heapless::Vec::new(),
            password: Password::default(),
            mru: 1400,
            peer_mru_min: 576,
            peer_mru_max: 1400,
            accm: None,
            request_pfc: false,
            request_acfc: false,
            restart_interval: Duration::from_secs(3),
            max_configure: 10,
            max_terminate: 2,
            max_failure: 5,
            echo_interval: Some(Duration::from_secs(10)),
            echo_failures: 5,
            auth_timeout: Duration::from_secs(30),
            ipcp: IpcpConfig {
                local_address: None,
                dns: [None; 2],
                nbns: [None; 2],
                request_dns: false,
                request_nbns: false,
            },
        }
    }

    /// A peer that authenticates as `user` with `password`, accepting every
    /// method (MS-CHAP-V2 first) and asking for an address and DNS.
    ///
    /// # Errors
    /// [`ConfigError::NameTooLong`], [`ConfigError::PasswordTooLong`].
    pub fn peer(user: &[u8], password: &[u8]) -> Result<Self, ConfigError> {
        let mut c = Self::authenticator(&[
            AuthMethod::MsChapV2,
            AuthMethod::MsChapV1,
            AuthMethod::ChapMd5,
            AuthMethod::Eap,
            AuthMethod::Pap,
        ]);
        c.role = Role::Peer;
        c.name = heapless::Vec::from_slice(user).map_err(|_| ConfigError::NameTooLong)?;
        c.password = Password::new(password)?;
        c.ipcp.request_dns = true;
        Ok(c)
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.role == Role::Authenticator && self.name.len() > MAX_NAME_LEN {
            return Err(ConfigError::NameTooLong);
        }
        if self.role == Role::Peer
            && self.name.len() + self.password.as_bytes().len() > crate::CREDENTIALS_CAPACITY
        {
            return Err(ConfigError::CredentialsTooLong);
        }
        if self.mru < MIN_MRU
            || self.peer_mru_min < MIN_MRU
            || self.peer_mru_min > self.peer_mru_max
        {
            return Err(ConfigError::BadMru);
        }
        if self.max_configure == 0 || self.max_terminate == 0 || self.max_failure == 0 {
            return Err(ConfigError::BadCounter);
        }
        let mut seen = 0u8;
        for m in &self.auth_methods {
            let bit = 1 << (*m as u8);
            if seen & bit != 0 {
                return Err(ConfigError::DuplicateAuthMethod);
            }
            seen |= bit;
        }
        Ok(())
    }
}

/// The smallest MRU this crate negotiates (pppd's MINMRU).
pub const MIN_MRU: u16 = 128;

/// A configuration the link cannot work with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConfigError {
    /// A name longer than its limit ([`MAX_NAME_LEN`] for an authenticator,
    /// [`MAX_USER_LEN`] for a peer).
    NameTooLong,
    /// A password longer than [`MAX_PASSWORD_LEN`].
    PasswordTooLong,
    /// Peer: user name and password together longer than
    /// [`crate::CREDENTIALS_CAPACITY`].
    CredentialsTooLong,
    /// An MRU below [`MIN_MRU`], or a peer MRU range that is empty.
    BadMru,
    /// Max-Configure, Max-Terminate or Max-Failure of zero.
    BadCounter,
    /// The same method twice in the list.
    DuplicateAuthMethod,
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::NameTooLong => "name too long",
            Self::PasswordTooLong => "password too long",
            Self::CredentialsTooLong => "user name and password together too long",
            Self::BadMru => "MRU below 128 or empty peer MRU range",
            Self::BadCounter => "restart counters must be at least 1",
            Self::DuplicateAuthMethod => "authentication method listed twice",
        })
    }
}

impl core::error::Error for ConfigError {}

/// The configuration as the link keeps it: without the peer's credentials
/// (which live, zeroized on drop, in the authentication state) and with the
/// timers in milliseconds.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub role: Role,
    pub auth: AuthMethods,
    pub mru: u16,
    pub peer_mru_min: u16,
    pub peer_mru_max: u16,
    /// Meaningful when `request_accm`.
    pub accm: u32,
    pub request_accm: bool,
    pub pfc: bool,
    pub acfc: bool,
    pub timers: crate::fsm::Timers,
    /// 0: no keepalive.
    pub echo_ms: u32,
    pub echo_failures: u8,
    pub auth_timeout_ms: u32,
    pub ipcp: IpcpConfig,
}

impl Settings {
    pub(crate) fn new(c: &Config) -> Self {
        use crate::time::millis32;
        Self {
            role: c.role,
            auth: c.auth_methods.clone(),
            mru: c.mru,
            peer_mru_min: c.peer_mru_min,
            peer_mru_max: c.peer_mru_max,
            accm: c.accm.unwrap_or(0),
            request_accm: c.accm.is_some(),
            pfc: c.request_pfc,
            acfc: c.request_acfc,
            timers: crate::fsm::Timers {
                restart_ms: millis32(c.restart_interval).max(1),
                max_configure: c.max_configure,
                max_terminate: c.max_terminate,
                max_failure: c.max_failure,
            },
            echo_ms: c.echo_interval.map_or(0, |d| millis32(d).max(1)),
            echo_failures: c.echo_failures.max(1),
            auth_timeout_ms: millis32(c.auth_timeout).max(1),
            ipcp: c.ipcp.clone(),
        }
    }

    pub(crate) fn is_authenticator(&self) -> bool {
        self.role == Role::Authenticator
    }
}
