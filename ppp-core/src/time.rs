//! Compact deadlines. The link keeps several timers; a `Duration` costs 16
//! bytes, a millisecond count 8, and PPP's timers (seconds) need no finer
//! grain.

use core::time::Duration;

/// Milliseconds since the port's epoch, or "not armed".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Deadline(u64);

impl Deadline {
    /// Not armed.
    pub const NONE: Self = Self(u64::MAX);

    /// `now + after`, saturating.
    pub fn after(now: Duration, after_ms: u32) -> Self {
        Self(
            millis(now)
                .saturating_add(u64::from(after_ms))
                .min(u64::MAX - 1),
        )
    }

    /// Whether armed.
    pub fn is_armed(self) -> bool {
        self != Self::NONE
    }

    /// Whether armed and due at `now`.
    pub fn is_due(self, now: Duration) -> bool {
        self.is_armed() && millis(now) >= self.0
    }

    /// As a `Duration`, when armed.
    pub fn get(self) -> Option<Duration> {
        self.is_armed().then(|| Duration::from_millis(self.0))
    }
}

/// Whole milliseconds of `d`, saturating.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX - 1)
}

/// Milliseconds of a configured interval, saturating at `u32::MAX` (49
/// days).
pub(crate) fn millis32(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}
