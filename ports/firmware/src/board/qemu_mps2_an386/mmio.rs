//! Volatile access to a block of 32-bit device registers.
//!
//! The only `unsafe` of the register drivers is here and in the interrupt
//! vector table: a driver names its block once, with [`Mmio::new`], and then
//! reads and writes by offset.

#![allow(unsafe_code)]

/// A block of memory-mapped 32-bit registers at a fixed address.
#[derive(Debug, Clone, Copy)]
pub struct Mmio {
    base: usize,
}

impl Mmio {
    /// Names the register block at `base`.
    ///
    /// # Safety
    /// `base` must be the address of a device register block that is valid
    /// for aligned volatile 32-bit reads and writes at every offset the
    /// driver uses, for the whole run of the program, and that no Rust object
    /// occupies (it is device memory, not RAM).
    pub const unsafe fn new(base: usize) -> Self {
        Self { base }
    }

    /// Reads the register at byte offset `offset`.
    #[inline]
    pub fn read(self, offset: usize) -> u32 {
        // SAFETY: `new`'s contract makes `base + offset` a valid, aligned
        // device register for the offsets the driver uses (all constants
        // within the block).
        unsafe { core::ptr::read_volatile((self.base + offset) as *const u32) }
    }

    /// Writes `value` to the register at byte offset `offset`.
    #[inline]
    pub fn write(self, offset: usize, value: u32) {
        // SAFETY: as in `read`; device registers are not Rust objects, so a
        // write aliases nothing.
        unsafe { core::ptr::write_volatile((self.base + offset) as *mut u32, value) }
    }

    /// Read-modify-write inside a critical section, so that an interrupt
    /// handler that writes the same register cannot interleave.
    #[inline]
    pub fn modify(self, offset: usize, f: impl FnOnce(u32) -> u32) {
        critical_section::with(|_| self.write(offset, f(self.read(offset))));
    }
}
