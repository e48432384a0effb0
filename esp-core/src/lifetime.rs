//! SA lifetimes (RFC 4301 §4.4.2.1): a soft limit asks for a new SA, a hard
//! limit ends this one. Both exist in seconds and in kilobytes, as in the
//! appliance's `crypto ipsec security-association lifetime seconds N
//! kilobytes M`.

use core::time::Duration;

/// A soft and a hard limit; 0 means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Limits {
    /// When to ask for a rekey.
    pub soft: u32,
    /// When the SA ends.
    pub hard: u32,
}

impl Limits {
    /// No limit at all.
    pub const NONE: Self = Self { soft: 0, hard: 0 };

    /// A hard limit with the soft limit at 90% of it.
    pub const fn from_hard(hard: u32) -> Self {
        Self {
            soft: hard - hard / 10,
            hard,
        }
    }
}

/// The lifetimes of one SA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Lifetime {
    /// Limits in seconds from installation.
    pub seconds: Limits,
    /// Limits in kilobytes (1024 bytes) of payload protected.
    pub kilobytes: Limits,
}

/// Which limit an SA reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ExpiryReason {
    /// The time limit.
    Time,
    /// The kilobyte limit.
    Bytes,
    /// The outbound sequence number is about to wrap (RFC 4303 §3.3.3: it
    /// must not; a new SA is needed).
    SequenceNumber,
}

impl Lifetime {
    /// No limits.
    pub const UNLIMITED: Self = Self {
        seconds: Limits::NONE,
        kilobytes: Limits::NONE,
    };

    /// The appliance's defaults: 28,800 seconds and 4,608,000 kilobytes.
    pub const APPLIANCE_DEFAULT: Self = Self::from_hard(28_800, 4_608_000);

    /// Hard limits as configured, soft limits at 90% of them (0: no limit).
    pub const fn from_hard(seconds: u32, kilobytes: u32) -> Self {
        Self {
            seconds: Limits::from_hard(seconds),
            kilobytes: Limits::from_hard(kilobytes),
        }
    }

    pub(crate) fn deadline(installed_at: Duration, seconds: u32) -> Option<Duration> {
        (seconds != 0).then(|| installed_at.saturating_add(Duration::from_secs(u64::from(seconds))))
    }

    pub(crate) fn byte_limit(kilobytes: u32) -> Option<u64> {
        (kilobytes != 0).then(|| u64::from(kilobytes) * 1024)
    }
}
