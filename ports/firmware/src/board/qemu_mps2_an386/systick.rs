//! An embassy-time driver on the Cortex-M SysTick timer.
//!
//! SysTick runs from the core clock and interrupts every millisecond; the
//! handler fires the timer queue's alarms. `now()` reads the MPS2 FPGA's
//! free-running 25 MHz COUNTER (extended to 64 bits), not a count of
//! ticks, which QEMU delivers late on a loaded host. Time has the 1 MHz
//! resolution embassy-time expects by default. Alarms fire on the first
//! tick at or after their time (about 1 ms late). The cost is a 1 kHz interrupt, fine for an emulated
//! test board; a production port would use a tickless timer.

#![allow(unsafe_code)]

use core::cell::{Cell, RefCell};
use core::task::Waker;

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;

use super::mmio::Mmio;
use critical_section::Mutex;
use embassy_time_driver::Driver;
use embassy_time_queue_utils::Queue;

/// The SysTick time driver.
#[derive(Debug)]
pub struct SysTickDriver {
    /// SysTick interrupts since [`start`] (diagnostics only).
    millis: Mutex<Cell<u64>>,
    /// The last COUNTER value read and the high bits of the extended count.
    counter: Mutex<Cell<(u32, u64)>>,
    /// The next alarm, in microseconds (`u64::MAX`: none).
    alarm: Mutex<Cell<u64>>,
    queue: Mutex<RefCell<Queue>>,
    /// Core clock cycles per microsecond.
    cycles_per_us: Mutex<Cell<u32>>,
}

/// Core clock cycles in one SysTick period, set by [`start`].
static RELOAD: Mutex<Cell<u32>> = Mutex::new(Cell::new(0));

embassy_time_driver::time_driver_impl!(static DRIVER: SysTickDriver = SysTickDriver {
    millis: Mutex::new(Cell::new(0)),
    counter: Mutex::new(Cell::new((0, 0))),
    alarm: Mutex::new(Cell::new(u64::MAX)),
    queue: Mutex::new(RefCell::new(Queue::new())),
    cycles_per_us: Mutex::new(Cell::new(1)),
});

/// Starts SysTick at 1 kHz from a core clock of `core_hz`. Takes the SYST
/// peripheral for good: from now on only this driver reads the counter.
pub fn start(mut syst: SYST, core_hz: u32) {
    let reload = core_hz / 1000 - 1;
    critical_section::with(|cs| {
        RELOAD.borrow(cs).set(reload);
        DRIVER
            .cycles_per_us
            .borrow(cs)
            .set((core_hz / 1_000_000).max(1));
    });
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(reload);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

/// The MPS2 FPGA IO block (ARM AN386, "FPGA system control and I/O").
// SAFETY: 0x4002_8000 is the FPGAIO register block of the MPS2 AN386 memory
// map; only its read-only COUNTER register is read here.
const FPGAIO: Mmio = unsafe { Mmio::new(0x4002_8000) };
/// COUNTER: a free-running 32-bit up counter at the 25 MHz reference clock.
const FPGAIO_COUNTER: usize = 0x18;
/// Ticks of COUNTER per microsecond.
const COUNTER_PER_US: u64 = 25;

impl SysTickDriver {
    /// Microseconds since boot, from the FPGA's free-running counter
    /// extended to 64 bits. Time does not come from counting SysTick
    /// interrupts: under emulation on a loaded host, QEMU delivers the 1 kHz
    /// tick late and coalesces ticks, so a tick count runs slow (measured:
    /// 8 s counted in 15 s). The counter is read at least every millisecond
    /// (the tick) and wraps every 171 s, so one wrap between two reads is
    /// all there can be.
    fn now_in(&self, cs: critical_section::CriticalSection<'_>) -> u64 {
        let counter = FPGAIO.read(FPGAIO_COUNTER);
        let (last, mut high) = self.counter.borrow(cs).get();
        if counter < last {
            high += 1 << 32;
        }
        self.counter.borrow(cs).set((counter, high));
        (high | u64::from(counter)) / COUNTER_PER_US
    }

    /// The SysTick interrupt: fire due alarms.
    fn on_tick(&self) {
        critical_section::with(|cs| {
            let millis = self.millis.borrow(cs).get() + 1;
            self.millis.borrow(cs).set(millis);
            let now = self.now_in(cs);
            if now >= self.alarm.borrow(cs).get() {
                let next = self.queue.borrow_ref_mut(cs).next_expiration(now);
                self.alarm.borrow(cs).set(next);
            }
        });
    }
}

impl Driver for SysTickDriver {
    fn now(&self) -> u64 {
        critical_section::with(|cs| self.now_in(cs))
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        critical_section::with(|cs| {
            let mut queue = self.queue.borrow_ref_mut(cs);
            if queue.schedule_wake(at, waker) {
                let next = queue.next_expiration(self.now_in(cs));
                self.alarm.borrow(cs).set(next);
            }
        });
    }
}

/// The SysTick exception handler: called from the board's `SysTick`.
pub fn on_systick() {
    DRIVER.on_tick();
}
