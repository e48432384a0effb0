//! The ARM CMSDK APB UART (UART0 of the MPS2 boards): the console and the log.
//!
//! Register layout from the ARM Cortex-M System Design Kit Technical
//! Reference Manual, "APB UART": DATA 0x00, STATE 0x04 (bit 0 TX full, bit 1
//! RX full), CTRL 0x08 (bit 0 TX enable, bit 1 RX enable, bit 3 RX interrupt
//! enable), INTSTATUS/INTCLEAR 0x0C (bit 1 RX), BAUDDIV 0x10 (at least 16).
//!
//! Transmit is polled (a byte at a time, the UART has a one-byte buffer);
//! receive is interrupt driven into a 256-byte pipe that the console reads
//! (two of the longest lines the console accepts).

use core::convert::Infallible;

use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::pipe::Pipe;

use crate::app::stats::Counter;

use super::mmio::Mmio;

const DATA: usize = 0x00;
const STATE: usize = 0x04;
const CTRL: usize = 0x08;
const INTCLEAR: usize = 0x0c;
const BAUDDIV: usize = 0x10;

const STATE_TX_FULL: u32 = 1 << 0;
const STATE_RX_FULL: u32 = 1 << 1;
const CTRL_TX_EN: u32 = 1 << 0;
const CTRL_RX_EN: u32 = 1 << 1;
const CTRL_RX_INT_EN: u32 = 1 << 3;
const INT_RX: u32 = 1 << 1;

/// Received bytes, from the interrupt handler to the console.
static RX: Pipe<CriticalSectionRawMutex, 256> = Pipe::new();
/// Bytes lost because the console did not read them in time.
pub static RX_OVERRUNS: Counter = Counter::new();

/// UART0, after [`Uart::init`].
#[derive(Debug, Clone, Copy)]
pub struct Uart {
    regs: Mmio,
}

impl Uart {
    /// Enables the UART at `clock_hz / baud` and its receive interrupt.
    pub fn init(regs: Mmio, clock_hz: u32, baud: u32) -> Self {
        regs.write(CTRL, 0);
        regs.write(BAUDDIV, (clock_hz / baud.max(1)).max(16));
        regs.write(INTCLEAR, u32::MAX);
        regs.write(CTRL, CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INT_EN);
        Self { regs }
    }

    /// Names the already initialised UART (for the panic handler and the
    /// logger, which cannot be handed the console's value).
    pub const fn existing(regs: Mmio) -> Self {
        Self { regs }
    }

    /// Sends `bytes`, waiting for the transmitter before each one.
    pub fn write_blocking(&self, bytes: &[u8]) {
        for &b in bytes {
            while self.regs.read(STATE) & STATE_TX_FULL != 0 {}
            self.regs.write(DATA, u32::from(b));
        }
    }
}

/// The receive interrupt handler: move the byte into the pipe.
pub fn on_rx_interrupt(regs: Mmio) {
    regs.write(INTCLEAR, INT_RX);
    while regs.read(STATE) & STATE_RX_FULL != 0 {
        let byte = regs.read(DATA).to_le_bytes()[0];
        if RX.try_write(&[byte]).is_err() {
            RX_OVERRUNS.inc();
        }
    }
}

impl embedded_io_async::ErrorType for Uart {
    type Error = Infallible;
}

impl embedded_io_async::Read for Uart {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        if buf.is_empty() {
            return Ok(0);
        }
        Ok(RX.read(buf).await)
    }
}

impl embedded_io_async::Write for Uart {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        self.write_blocking(buf);
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), Infallible> {
        while self.regs.read(STATE) & STATE_TX_FULL != 0 {}
        Ok(())
    }
}

impl core::fmt::Write for Uart {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.write_blocking(s.as_bytes());
        Ok(())
    }
}

/// The `log` backend: one line per record on the UART, prefixed with the
/// time since boot, written inside a critical section so lines never mix.
#[derive(Debug)]
pub struct UartLogger {
    uart: Uart,
}

impl UartLogger {
    /// A logger writing to `uart`.
    pub const fn new(uart: Uart) -> Self {
        Self { uart }
    }
}

impl log::Log for UartLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        use core::fmt::Write as _;
        if !self.enabled(record.metadata()) {
            return;
        }
        let micros = embassy_time::Instant::now().as_micros();
        critical_section::with(|_| {
            let mut uart = self.uart;
            let _ = write!(
                uart,
                "[{:>5}.{:03}] {:<5} {}\r\n",
                micros / 1_000_000,
                micros / 1000 % 1000,
                record.level(),
                record.args()
            );
        });
    }

    fn flush(&self) {}
}
