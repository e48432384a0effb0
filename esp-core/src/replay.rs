//! The anti-replay window of an inbound SA (RFC 4303 §3.4.3).
//!
//! The window is a ring of `W` 64-bit words: bit `seq % (64 * W)` records
//! whether sequence number `seq` has been accepted. `top` is the highest
//! sequence number accepted so far. The configured `size` (at most `64 * W`)
//! decides how far left of `top` a packet may still arrive.

use crate::error::KeyError;

/// A sliding window of at most `64 * W` packets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayWindow<const W: usize> {
    top: u32,
    size: u16,
    bitmap: [u64; W],
}

/// Why a sequence number is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Replay {
    /// Already accepted once.
    Duplicate,
    /// Left of the window, or 0 (the first packet of an SA is 1).
    TooOld,
}

impl<const W: usize> ReplayWindow<W> {
    /// The largest window this type can hold, in packets.
    pub const CAPACITY: usize = 64 * W;

    /// A window of `size` packets; 0 turns anti-replay off.
    ///
    /// # Errors
    /// [`KeyError::ReplayWindowTooLarge`] if `size` exceeds [`Self::CAPACITY`].
    pub const fn new(size: u16) -> Result<Self, KeyError> {
        if size as usize > Self::CAPACITY {
            return Err(KeyError::ReplayWindowTooLarge);
        }
        Ok(Self {
            top: 0,
            size,
            bitmap: [0; W],
        })
    }

    /// The configured window size in packets (0: anti-replay off).
    pub const fn size(&self) -> u16 {
        self.size
    }

    /// The highest sequence number accepted so far (0 before the first).
    pub const fn top(&self) -> u32 {
        self.top
    }

    fn bit(seq: u32) -> (usize, u64) {
        // `seq as usize` is lossless on every target with at least 32-bit usize;
        // on 16-bit targets only the low bits matter for the modulo anyway.
        #[allow(clippy::cast_possible_truncation)]
        let index = (seq as usize) % Self::CAPACITY;
        (index / 64, 1u64 << (index % 64))
    }

    /// Checks a sequence number before the ICV is verified. Does not change
    /// the window.
    ///
    /// # Errors
    /// [`Replay::TooOld`] or [`Replay::Duplicate`].
    pub fn check(&self, seq: u32) -> Result<(), Replay> {
        if self.size == 0 {
            return Ok(());
        }
        if seq == 0 {
            return Err(Replay::TooOld);
        }
        if seq > self.top {
            return Ok(());
        }
        if self.top - seq >= u32::from(self.size) {
            return Err(Replay::TooOld);
        }
        let (word, mask) = Self::bit(seq);
        match self.bitmap.get(word) {
            Some(bits) if bits & mask != 0 => Err(Replay::Duplicate),
            _ => Ok(()),
        }
    }

    /// Records a sequence number whose packet passed the integrity check.
    /// Call only after [`check`](Self::check) accepted it.
    ///
    /// With anti-replay off the bitmap is left alone, but [`top`](Self::top)
    /// still follows the highest sequence number (the inbound SA reports it
    /// either way).
    pub fn accept(&mut self, seq: u32) {
        if self.size == 0 {
            self.top = self.top.max(seq);
            return;
        }
        if seq > self.top {
            let advance = seq - self.top;
            if advance as usize >= Self::CAPACITY {
                self.bitmap = [0; W];
            } else {
                // Clear the bits that now stand for the new sequence numbers.
                for s in self.top + 1..=seq {
                    let (word, mask) = Self::bit(s);
                    if let Some(bits) = self.bitmap.get_mut(word) {
                        *bits &= !mask;
                    }
                }
            }
            self.top = seq;
        }
        let (word, mask) = Self::bit(seq);
        if let Some(bits) = self.bitmap.get_mut(word) {
            *bits |= mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take<const W: usize>(w: &mut ReplayWindow<W>, seq: u32) -> Result<(), Replay> {
        w.check(seq)?;
        w.accept(seq);
        Ok(())
    }

    #[test]
    fn in_order_duplicates_and_old() {
        let mut w = ReplayWindow::<2>::new(128).unwrap();
        assert_eq!(take(&mut w, 0), Err(Replay::TooOld));
        for s in 1..=300 {
            assert_eq!(take(&mut w, s), Ok(()));
            assert_eq!(take(&mut w, s), Err(Replay::Duplicate));
        }
        // 300 - 173 = 127 < 128: inside the window, but already seen.
        assert_eq!(w.check(173), Err(Replay::Duplicate));
        // 300 - 172 = 128: left of the window.
        assert_eq!(w.check(172), Err(Replay::TooOld));
    }

    #[test]
    fn reordering_inside_the_window() {
        let mut w = ReplayWindow::<2>::new(128).unwrap();
        assert_eq!(take(&mut w, 200), Ok(()));
        for s in (73..200).rev() {
            assert_eq!(take(&mut w, s), Ok(()), "{s}");
        }
        assert_eq!(take(&mut w, 72), Err(Replay::TooOld));
        for s in 73..=200 {
            assert_eq!(w.check(s), Err(Replay::Duplicate));
        }
    }

    #[test]
    fn jumps_clear_stale_bits() {
        let mut w = ReplayWindow::<2>::new(128).unwrap();
        assert_eq!(take(&mut w, 5), Ok(()));
        // 5 + 128 maps to the same bit as 5: the jump must clear it.
        assert_eq!(take(&mut w, 5 + 128), Ok(()));
        assert_eq!(w.check(5 + 1), Ok(()));
        assert_eq!(take(&mut w, 5 + 128 + 1000), Ok(()));
        assert_eq!(w.check(5 + 128 + 1000 - 1), Ok(()));
        assert_eq!(w.check(u32::MAX), Ok(()));
    }

    #[test]
    fn smaller_window_than_capacity() {
        let mut w = ReplayWindow::<2>::new(32).unwrap();
        assert_eq!(take(&mut w, 100), Ok(()));
        assert_eq!(w.check(69), Ok(()));
        assert_eq!(w.check(68), Err(Replay::TooOld));
    }

    #[test]
    fn off_and_too_large() {
        let mut w = ReplayWindow::<1>::new(0).unwrap();
        assert_eq!(take(&mut w, 7), Ok(()));
        assert_eq!(take(&mut w, 7), Ok(()));
        assert_eq!(take(&mut w, 0), Ok(()));
        // Found by the scapy interop run: `top` stayed 0 with the window off.
        assert_eq!(w.top(), 7);
        assert_eq!(take(&mut w, 3), Ok(()));
        assert_eq!(w.top(), 7);
        assert_eq!(
            ReplayWindow::<1>::new(65),
            Err(KeyError::ReplayWindowTooLarge)
        );
        assert!(ReplayWindow::<16>::new(1024).is_ok());
    }
}
