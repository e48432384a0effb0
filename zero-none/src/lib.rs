#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]

use core::time::Duration;

/// A field of one value, 1, in an eight-octet enum: the `u64`'s other
/// 2^64 − 1 values are the payload's largest niche (larger than a
/// `Duration`'s, a `char`'s, or that of an `Option`'s tag that rustc
/// widened to eight octets to fill padding, which a four-octet marker
/// lost to on x86-64), and rustc encodes `Option::None` as 0 in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u64)]
pub enum Occupied {
    /// The only value.
    #[default]
    Yes = 1,
}

/// An `Option<T>` whose `None` is all zero bytes (see the module).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZeroNone<T>(Option<(T, Occupied)>);

impl<T: Copy> ZeroNone<T> {
    /// `None`.
    pub const NONE: Self = Self(None);

    /// `Some(value)`.
    pub const fn some(value: T) -> Self {
        Self(Some((value, Occupied::Yes)))
    }

    /// From an `Option`.
    pub const fn new(value: Option<T>) -> Self {
        match value {
            Some(v) => Self::some(v),
            None => Self::NONE,
        }
    }

    /// As an `Option`.
    pub const fn get(self) -> Option<T> {
        match self.0 {
            Some((v, _)) => Some(v),
            None => None,
        }
    }
}

/// A deadline or interval that may be absent.
pub type MaybeTime = ZeroNone<Duration>;
