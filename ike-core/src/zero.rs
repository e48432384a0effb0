//! Empty states that are all zero bytes.
//!
//! A port keeps its state (the gateway, with this crate's parts) in a `static` built at
//! compile time; when every byte of that initial value is zero the linker
//! puts the static in `.bss`, and it costs no flash. The `None` of an
//! `Option` is stored in a niche of its payload, which is often not zero
//! (1 000 000 000 in the nanoseconds of a `Duration`, the first unused tag
//! of an enum). [`Occupied`], a field of every slot's payload, gives the
//! payload a larger niche whose `None` rustc puts at zero; [`ZeroNone`]
//! does the same for a value that has no room for a field of its own.
//! Layout is not a language guarantee: `scripts/firmware-sizes.sh` checks
//! the result on the firmware image (the gateway must be in `.bss`).

use core::time::Duration;

/// A field of one value, 1, in an eight-octet enum: the `u64`'s other
/// 2^64 − 1 values are the payload's largest niche (larger than a
/// `Duration`'s, a `char`'s, or that of an `Option`'s tag that rustc
/// widened to eight octets to fill padding, which a four-octet marker
/// lost to on x86-64), and rustc encodes `Option::None` as 0 in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u64)]
pub(crate) enum Occupied {
    /// The only value.
    #[default]
    Yes = 1,
}

/// An `Option<T>` whose `None` is all zero bytes (see the module).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ZeroNone<T>(Option<(T, Occupied)>);

impl<T: Copy> ZeroNone<T> {
    /// `None`.
    pub(crate) const NONE: Self = Self(None);

    /// `Some(value)`.
    pub(crate) const fn some(value: T) -> Self {
        Self(Some((value, Occupied::Yes)))
    }

    /// From an `Option`.
    #[allow(dead_code)] // Not every crate needs every conversion.
    pub(crate) const fn new(value: Option<T>) -> Self {
        match value {
            Some(v) => Self::some(v),
            None => Self::NONE,
        }
    }

    /// As an `Option`.
    pub(crate) const fn get(self) -> Option<T> {
        match self.0 {
            Some((v, _)) => Some(v),
            None => None,
        }
    }
}

/// A deadline or interval that may be absent.
pub(crate) type MaybeTime = ZeroNone<Duration>;
