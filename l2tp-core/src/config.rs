//! Endpoint configuration.

use core::time::Duration;

use zeroize::Zeroize;

/// Longest tunnel secret accepted.
pub const MAX_SECRET_LEN: usize = 64;
/// Longest host name kept (ours in the configuration, the peer's in the tunnel).
pub const MAX_HOST_NAME_LEN: usize = 64;

/// The shared tunnel secret (RFC 2661 §4.4.3, §4.3). Zeroized on drop,
/// never printed.
#[derive(Clone)]
pub struct Secret {
    bytes: [u8; MAX_SECRET_LEN],
    len: u8,
}

impl Secret {
    /// A secret of 1 to [`MAX_SECRET_LEN`] bytes.
    ///
    /// # Errors
    /// [`ConfigError::SecretLength`] for an empty or longer secret.
    pub fn new(secret: &[u8]) -> Result<Self, ConfigError> {
        if secret.is_empty() || secret.len() > MAX_SECRET_LEN {
            return Err(ConfigError::SecretLength);
        }
        let mut bytes = [0u8; MAX_SECRET_LEN];
        bytes[..secret.len()].copy_from_slice(secret);
        let len = u8::try_from(secret.len()).map_err(|_| ConfigError::SecretLength)?;
        Ok(Self { bytes, len })
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl core::fmt::Debug for Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// A configuration value out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConfigError {
    /// The secret is empty or longer than [`MAX_SECRET_LEN`].
    SecretLength,
    /// The host name is empty or longer than [`MAX_HOST_NAME_LEN`].
    HostNameLength,
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::SecretLength => write!(f, "tunnel secret must be 1..={MAX_SECRET_LEN} bytes"),
            Self::HostNameLength => write!(f, "host name must be 1..={MAX_HOST_NAME_LEN} bytes"),
        }
    }
}

impl core::error::Error for ConfigError {}

/// How an [`Endpoint`](crate::Endpoint) behaves. `Default` gives the
/// RFC 2661 recommendations and the appliance's defaults.
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) host_name: heapless::Vec<u8, MAX_HOST_NAME_LEN, u8>,
    /// Vendor Name AVP we send (RFC 2661 §4.4.3, optional); `None`: none.
    pub vendor_name: Option<&'static [u8]>,
    /// Firmware Revision AVP we send.
    pub firmware_revision: u16,
    pub(crate) receive_window: u16,
    pub(crate) hello_interval: Duration,
    pub(crate) secret: Option<Secret>,
    /// Hide the identifiers and call data (RFC 2661 §4.3) when a secret is set.
    pub hide_avps: bool,
    /// Accept SCCRQ from peers (act as LNS). Tunnels opened with
    /// [`Endpoint::connect`](crate::Endpoint::connect) are LAC either way.
    pub accept_tunnels: bool,
    /// First retransmission timeout (RFC 2661 §5.8: 1 s recommended).
    pub retransmit_initial: Duration,
    /// Cap of the doubled timeout (RFC 2661 §5.8: at least 8 s).
    pub retransmit_cap: Duration,
    /// Retransmissions before the tunnel is declared down (RFC 2661 §5.8: 5).
    pub max_retransmissions: u8,
    /// How long a closed tunnel is kept to acknowledge a repeated StopCCN
    /// (RFC 2661 §5.7: "a full retransmission cycle").
    pub close_hold: Duration,
    /// Tunnels one peer may hold open or opening at once (0: no limit).
    /// Beyond it an SCCRQ is refused with StopCCN result 2, error 4 (no
    /// resources), so that one peer cannot take the whole table.
    pub max_tunnels_per_peer: u8,
}

impl Config {
    /// What `Default` gives, usable in `const` contexts: host and vendor
    /// name `l2tp-ipsec-lns`, receive window 4, hello every 60 s, no
    /// secret, LNS, retransmission 1 s doubling to 8 s, 5 retries, a closed
    /// tunnel held 31 s, no limit of tunnels per peer.
    pub const DEFAULT: Self = Self {
        host_name: heapless::Vec::from_array(*b"l2tp-ipsec-lns"),
        vendor_name: Some(b"l2tp-ipsec-lns"),
        firmware_revision: 0x0100,
        receive_window: 4,
        hello_interval: Duration::from_secs(60),
        secret: None,
        hide_avps: false,
        accept_tunnels: true,
        retransmit_initial: Duration::from_secs(1),
        retransmit_cap: Duration::from_secs(8),
        max_retransmissions: 5,
        close_hold: Duration::from_secs(31),
        max_tunnels_per_peer: 0,
    };
}

impl Config {
    /// All zero bytes: no host name, vendor name or secret, tunnels
    /// refused, every timer, window and limit zero. The configuration of
    /// [`crate::Endpoint::new_empty`] (a port's `static` in `.bss`, see
    /// the `zero-none` crate); it serves nobody.
    pub(crate) const EMPTY: Self = Self {
        host_name: heapless::Vec::new(),
        vendor_name: None,
        firmware_revision: 0,
        receive_window: 0,
        hello_interval: Duration::ZERO,
        secret: None,
        hide_avps: false,
        accept_tunnels: false,
        retransmit_initial: Duration::ZERO,
        retransmit_cap: Duration::ZERO,
        max_retransmissions: 0,
        close_hold: Duration::ZERO,
        max_tunnels_per_peer: 0,
    };
}

impl Default for Config {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl Config {
    /// Sets the Host Name AVP we send (RFC 2661 §4.4.3).
    ///
    /// # Errors
    /// [`ConfigError::HostNameLength`].
    pub fn set_host_name(&mut self, name: &[u8]) -> Result<(), ConfigError> {
        if name.is_empty() {
            return Err(ConfigError::HostNameLength);
        }
        self.host_name =
            heapless::Vec::from_slice(name).map_err(|_| ConfigError::HostNameLength)?;
        Ok(())
    }

    /// Our host name.
    pub fn host_name(&self) -> &[u8] {
        &self.host_name
    }

    /// Sets the idle time after which a HELLO is sent (the appliance's
    /// `l2tp tunnel hello 10..300`), clamped to 10..=300 seconds.
    pub fn set_hello_interval(&mut self, seconds: u16) {
        self.hello_interval = Duration::from_secs(u64::from(seconds.clamp(10, 300)));
    }

    /// The hello interval.
    pub fn hello_interval(&self) -> Duration {
        self.hello_interval
    }

    /// Sets the Receive Window Size we advertise (RFC 2661 §5.8), clamped
    /// to 1..=[`MAX_RECEIVE_WINDOW`](crate::MAX_RECEIVE_WINDOW): messages
    /// that arrive early are held up to that many ahead.
    pub fn set_receive_window(&mut self, window: u16) {
        self.receive_window = window.clamp(1, crate::MAX_RECEIVE_WINDOW);
    }

    /// Our receive window.
    pub fn receive_window(&self) -> u16 {
        self.receive_window
    }

    /// Sets or clears the tunnel secret: with a secret every tunnel is
    /// authenticated (we send a Challenge and require the right response)
    /// and hidden AVPs can be read.
    pub fn set_secret(&mut self, secret: Option<Secret>) {
        self.secret = secret;
    }

    /// Whether a tunnel secret is set.
    pub fn has_secret(&self) -> bool {
        self.secret.is_some()
    }
}
