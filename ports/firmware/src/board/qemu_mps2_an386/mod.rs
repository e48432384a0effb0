//! The emulated board: QEMU's `mps2-an386` machine (ARM MPS2 FPGA board with
//! the AN386 Cortex-M4 image) in Debian's `qemu-system-arm`.
//!
//! | what | where |
//! |---|---|
//! | core | Cortex-M4F at 25 MHz, SysTick for embassy-time ([`systick`]) |
//! | Ethernet | SMSC LAN9118 at 0x4020_0000, IRQ 13 ([`lan9118`], the project's driver) |
//! | console and log | CMSDK APB UART0 at 0x4000_4000, RX IRQ 0 ([`uart`]) |
//! | randomness | none: a fixed-seed ChaCha20, **test only** ([`rng`]) |
//! | memory | 4 MiB SSRAM at 0 (code), 4 MiB SSRAM at 0x2000_0000 (data) |
//!
//! QEMU user networking gives the board 10.0.2.15/24 with the host at
//! 10.0.2.2; that is the compiled-in configuration ([`NET`]).

#![allow(unsafe_code)]

pub mod lan9118;
pub mod mmio;
pub mod rng;
pub mod systick;
pub mod uart;

use core::net::Ipv4Addr;

use cortex_m::peripheral::NVIC;
use cortex_m::peripheral::SCB;
use cortex_m_rt::{ExceptionFrame, exception};

use crate::app::{BoardInfo, NetConfig};

use lan9118::Lan9118;
use mmio::Mmio;
use rng::InsecureTestRng;
use uart::{Uart, UartLogger};

/// The core clock of the AN386 image (QEMU's SYSCLK).
pub const CORE_HZ: u32 = 25_000_000;
/// The console's baud rate (QEMU ignores it; real MPS2 hardware does not).
pub const BAUD: u32 = 115_200;

// SAFETY: 0x4020_0000 is the LAN9118's 256-byte register block and
// 0x4000_4000 UART0's in the MPS2 AN386 memory map (ARM AN386, "Memory
// map"); both are device memory for the whole run.
const LAN9118_REGS: Mmio = unsafe { Mmio::new(0x4020_0000) };
// SAFETY: see above.
const UART0_REGS: Mmio = unsafe { Mmio::new(0x4000_4000) };

/// The address the LAN9118 uses when its EEPROM holds none (QEMU always
/// provides one): locally administered, unicast.
const FALLBACK_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];

/// What `show version` says about this board.
pub static BOARD: BoardInfo = BoardInfo {
    name: "qemu-mps2-an386",
    cpu: "Cortex-M4F, QEMU mps2-an386",
    ethernet: "SMSC LAN9118 (project driver, PIO, IRQ 13)",
    rng: "fixed-seed ChaCha20, TEST ONLY, NOT SECURE",
    console: "CMSDK UART0",
    stack_peak: Some(stack_peak),
    stack_mark: Some(repaint_stack),
};

/// Bytes of stack below the first function of [`init`] that are painted
/// at boot and watched: far more than the firmware may use on the Nucleo
/// (128 KiB of RAM in all), so that an overrun there is measured here.
const PAINTED: usize = 1024 * 1024;
/// The paint.
const PAINT: u32 = 0x5354_4b21; // "STK!"

static STACK_TOP: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// Paints [`PAINTED`] bytes below the current stack pointer, so that
/// [`stack_peak`] can tell how deep the stack has gone. Called first thing
/// in [`init`], with interrupts still masked at the NVIC.
#[inline(never)]
fn paint_stack() {
    unsafe extern "C" {
        static _stack_start: u32;
    }
    // `_stack_start` is cortex-m-rt's linker symbol for the initial stack
    // pointer; only its address is taken.
    let top = core::ptr::addr_of!(_stack_start) as usize;
    STACK_TOP.store(top, core::sync::atomic::Ordering::Relaxed);
    paint_below_sp(top);
}

/// Paints from `top - PAINTED - 4096` (or less) up to 256 bytes below our
/// own frame.
#[inline(never)]
fn paint_below_sp(top: usize) {
    let sp = cortex_m::register::msp::read() as usize;
    let mut at = (sp - 256 - PAINTED).max(top - PAINTED - 4096);
    while at < sp - 256 {
        // SAFETY: the range lies below every live frame (the 4 MiB data
        // SSRAM holds .bss and then the stack), and the callers keep
        // interrupts off, so no handler's frame is there to be overwritten.
        unsafe { core::ptr::write_volatile(at as *mut u32, PAINT) };
        at += 4;
    }
}

/// Starts the measurement again from here: the stack below the current
/// frame is painted anew (with interrupts masked), so that [`stack_peak`]
/// reports the deepest point from now on. `app::run` calls it once the
/// gateway is built, after logging how deep building it went.
#[inline(never)]
fn repaint_stack() {
    let top = STACK_TOP.load(core::sync::atomic::Ordering::Relaxed);
    if top != 0 {
        critical_section::with(|_| paint_below_sp(top));
    }
}

/// How deep the main stack has been since boot, in bytes below its top:
/// the first painted word that was overwritten, searched from the bottom.
fn stack_peak() -> usize {
    let top = STACK_TOP.load(core::sync::atomic::Ordering::Relaxed);
    if top == 0 {
        return 0;
    }
    let mut at = top - PAINTED - 4096;
    // The painted area starts a little above this; skip what was never
    // painted (it holds whatever the SSRAM held).
    while at < top {
        // SAFETY: an aligned address inside the stack region of the data
        // SSRAM; reading it races with nothing (a word the stack uses now
        // reads as something other than the paint, which is all we ask).
        let word = unsafe { core::ptr::read_volatile(at as *const u32) };
        if word == PAINT {
            break;
        }
        at += 4;
    }
    while at < top {
        // SAFETY: as above.
        let word = unsafe { core::ptr::read_volatile(at as *const u32) };
        if word != PAINT {
            return top - at;
        }
        at += 4;
    }
    0
}

/// The compiled-in network configuration: QEMU user networking's guest
/// address, its gateway (the host) at 10.0.2.2.
pub static NET: NetConfig = NetConfig {
    hostname: "lns",
    nameif: "outside",
    address: Ipv4Addr::new(10, 0, 2, 15),
    prefix_len: 24,
    gateway: Some(Ipv4Addr::new(10, 0, 2, 2)),
};

/// The board's external interrupts that this firmware uses.
#[derive(Debug, Clone, Copy)]
enum Irq {
    Uart0Rx = 0,
    Ethernet = 13,
}

// SAFETY: the numbers are the AN386 interrupt lines of UART0 RX and the
// LAN9118 (QEMU hw/arm/mps2.c wires the same), all below the 32 of the table.
unsafe impl cortex_m::interrupt::InterruptNumber for Irq {
    fn number(self) -> u16 {
        self as u16
    }
}

/// One entry of the interrupt vector table.
#[derive(Clone, Copy)]
#[repr(C)]
pub union Vector {
    handler: unsafe extern "C" fn(),
    reserved: usize,
}

impl core::fmt::Debug for Vector {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Vector")
    }
}

unsafe extern "C" {
    /// cortex-m-rt's handler for interrupts nobody claimed.
    fn DefaultHandler();
}

extern "C" fn uart0_rx_handler() {
    uart::on_rx_interrupt(UART0_REGS);
}

extern "C" fn ethernet_handler() {
    lan9118::on_interrupt(LAN9118_REGS);
}

/// The device interrupt vectors that follow the core exceptions
/// (cortex-m-rt places `.vector_table.interrupts` after them).
// SAFETY: `no_mangle` gives the table the name cortex-m-rt's linker script
// requires (`__INTERRUPTS`); nothing else has that name in this image, and
// the link section is the one the script reserves for it.
#[unsafe(link_section = ".vector_table.interrupts")]
#[unsafe(no_mangle)]
static __INTERRUPTS: [Vector; 32] = {
    let mut table = [Vector {
        handler: DefaultHandler,
    }; 32];
    table[Irq::Uart0Rx as usize] = Vector {
        handler: uart0_rx_handler,
    };
    table[Irq::Ethernet as usize] = Vector {
        handler: ethernet_handler,
    };
    table
};

#[exception]
fn SysTick() {
    systick::on_systick();
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    use core::fmt::Write as _;
    let mut uart = Uart::existing(UART0_REGS);
    let _ = write!(
        uart,
        "\r\n*** HARD FAULT at pc={:#010x}, rebooting\r\n",
        frame.pc()
    );
    SCB::sys_reset()
}

/// Prints the panic message on the console and reboots: a router does not
/// stay down. Called from the binary's `#[panic_handler]`.
pub fn on_panic(info: &core::panic::PanicInfo<'_>) -> ! {
    use core::fmt::Write as _;
    cortex_m::interrupt::disable();
    let mut uart = Uart::existing(UART0_REGS);
    let _ = write!(uart, "\r\n*** PANIC: {info}, rebooting\r\n");
    SCB::sys_reset()
}

/// The board's parts, handed to [`crate::app::run`].
#[derive(Debug)]
pub struct Board {
    /// The Ethernet controller.
    pub ethernet: Lan9118,
    /// The console.
    pub console: Uart,
    /// The test-only RNG.
    pub rng: InsecureTestRng,
}

static LOGGER: UartLogger = UartLogger::new(Uart::existing(UART0_REGS));

/// Brings the board up: console and log, SysTick, Ethernet, interrupts.
///
/// # Errors
/// When the LAN9118 does not answer (see [`lan9118::InitError`]).
pub fn init(core: cortex_m::Peripherals) -> Result<Board, lan9118::InitError> {
    paint_stack();
    let console = Uart::init(UART0_REGS, CORE_HZ, BAUD);
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
    info!(
        "lns-firmware {} booting on {}",
        env!("CARGO_PKG_VERSION"),
        BOARD.name
    );
    systick::start(core.SYST, CORE_HZ);
    let rng = InsecureTestRng::new();
    let ethernet = Lan9118::new(LAN9118_REGS, FALLBACK_MAC)?;
    // SAFETY: both handlers are in the vector table above and touch only
    // their own device and interrupt-safe statics (a waker, a pipe).
    unsafe {
        NVIC::unmask(Irq::Uart0Rx);
        NVIC::unmask(Irq::Ethernet);
    }
    Ok(Board {
        ethernet,
        console,
        rng,
    })
}
