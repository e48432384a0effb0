//! An embassy-time driver on the Cortex-M SysTick timer.
//!
//! SysTick runs from the core clock and interrupts every millisecond; the
//! handler counts milliseconds and fires the timer queue's alarms. `now()`
//! adds the microseconds elapsed in the current millisecond from the
//! counter's current value, so time has the 1 MHz resolution embassy-time
//! expects by default. Alarms fire on the first tick at or after their time
//! (at most 1 ms late). The cost is a 1 kHz interrupt, fine for an emulated
//! test board; a production port would use a tickless timer.

#![allow(unsafe_code)]

use core::cell::{Cell, RefCell};
use core::task::Waker;

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::{SCB, SYST};
use critical_section::Mutex;
use embassy_time_driver::Driver;
use embassy_time_queue_utils::Queue;

/// The SysTick time driver.
#[derive(Debug)]
pub struct SysTickDriver {
    /// Milliseconds since [`start`].
    millis: Mutex<Cell<u64>>,
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

impl SysTickDriver {
    fn now_in(&self, cs: critical_section::CriticalSection<'_>) -> u64 {
        let reload = RELOAD.borrow(cs).get();
        let per_us = u64::from(self.cycles_per_us.borrow(cs).get());
        let mut millis = self.millis.borrow(cs).get();
        let mut current = SYST::get_current();
        // The counter wrapped but its interrupt has not run (we hold the
        // critical section): count that millisecond, and re-read the counter,
        // which has certainly wrapped by now.
        if SCB::is_pendst_pending() {
            millis += 1;
            current = SYST::get_current();
        }
        let elapsed = u64::from(reload.saturating_sub(current)) / per_us;
        millis * 1000 + elapsed.min(999)
    }

    /// The SysTick interrupt: one more millisecond; fire due alarms.
    fn on_tick(&self) {
        critical_section::with(|cs| {
            let millis = self.millis.borrow(cs).get() + 1;
            self.millis.borrow(cs).set(millis);
            let now = millis * 1000;
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
