//! An embassy-net driver for the SMSC LAN9118 (LAN9220 family) Ethernet
//! controller: PIO through its FIFOs, interrupt-driven receive and link.
//!
//! Register layout and bits from the SMSC LAN9118 data sheet (section 5,
//! "Register Description"): receive and transmit go through FIFO ports; a
//! received frame is an RX status word (length in bits 29:16, FCS included;
//! error summary in bit 15) followed by its data words; a frame is sent as
//! TX command A (buffer size, first/last segment), TX command B (frame
//! length) and the data words. MAC and PHY registers are reached indirectly
//! through MAC_CSR_CMD/MAC_CSR_DATA and MII_ACC/MII_DATA.
//!
//! Interrupts: the handler masks whatever fired in INT_EN and wakes the
//! network task; the driver re-arms RX status level (RSFL) when it finds the
//! RX FIFO empty, and PHY_INT after it has read the PHY's interrupt source.
//! So the line never stays asserted and no event is lost between a check and
//! going to sleep.

use core::sync::atomic::{AtomicBool, Ordering};
use core::task::Context;

use embassy_net_driver::{Capabilities, Driver, HardwareAddress, LinkState, RxToken, TxToken};
use embassy_sync::waitqueue::AtomicWaker;

use crate::app::stats::Counter;

use super::mmio::Mmio;

// System control and status registers (byte offsets).
const RX_DATA_FIFO: usize = 0x00;
const TX_DATA_FIFO: usize = 0x20;
const RX_STATUS_FIFO: usize = 0x40;
const TX_STATUS_FIFO: usize = 0x48;
const ID_REV: usize = 0x50;
const IRQ_CFG: usize = 0x54;
const INT_STS: usize = 0x58;
const INT_EN: usize = 0x5c;
const BYTE_TEST: usize = 0x64;
const RX_CFG: usize = 0x6c;
const TX_CFG: usize = 0x70;
const HW_CFG: usize = 0x74;
const RX_FIFO_INF: usize = 0x7c;
const TX_FIFO_INF: usize = 0x80;
const PMT_CTRL: usize = 0x84;
const MAC_CSR_CMD: usize = 0xa4;
const MAC_CSR_DATA: usize = 0xa8;

// IRQ_CFG: enable the IRQ pin, active high, push-pull (the NVIC input is
// level-sensitive, active high).
const IRQ_EN: u32 = 1 << 8;
const IRQ_POL: u32 = 1 << 4;
const IRQ_TYPE: u32 = 1 << 0;

// INT_STS / INT_EN.
const INT_RSFL: u32 = 1 << 3;
const INT_PHY: u32 = 1 << 18;

const HW_CFG_SRST: u32 = 1 << 0;
const PMT_CTRL_READY: u32 = 1 << 0;
const TX_CFG_TX_ON: u32 = 1 << 1;
/// TX status FIFO overrun allowed: we do not read every TX status.
const TX_CFG_TXSAO: u32 = 1 << 2;
const MAC_CSR_BUSY: u32 = 1 << 31;
const MAC_CSR_READ: u32 = 1 << 30;

// MAC CSRs (indirect).
const MAC_CR: u32 = 1;
const MAC_ADDRH: u32 = 2;
const MAC_ADDRL: u32 = 3;
const MAC_MII_ACC: u32 = 6;
const MAC_MII_DATA: u32 = 7;
const MAC_CR_RXEN: u32 = 1 << 2;
const MAC_CR_TXEN: u32 = 1 << 3;
const MAC_CR_FDPX: u32 = 1 << 20;
const MII_BUSY: u32 = 1 << 0;
const MII_WRITE: u32 = 1 << 1;
/// The internal PHY's MII address.
const PHY_ADDR: u32 = 1;

// PHY registers (IEEE 802.3 clause 22, plus the LAN9118's own 29 and 30).
const PHY_BCR: u32 = 0;
const PHY_BSR: u32 = 1;
const PHY_ISR: u32 = 29;
const PHY_IMR: u32 = 30;
const PHY_BCR_ANEN: u32 = 1 << 12;
const PHY_BCR_ANRESTART: u32 = 1 << 9;
const PHY_BSR_LINK: u32 = 1 << 2;
/// Energy on, autonegotiation complete, link down.
const PHY_INT_LINK_EVENTS: u32 = (1 << 7) | (1 << 6) | (1 << 4);

// TX command words.
const TX_CMD_A_FIRST: u32 = 1 << 13;
const TX_CMD_A_LAST: u32 = 1 << 12;

// RX status word.
const RX_STS_ERROR: u32 = 1 << 15;

/// An Ethernet frame without FCS: 1500 bytes of payload, 14 of header.
pub const MTU: usize = 1514;
/// Frame buffer size: a maximal frame, its FCS, rounded up to whole words.
const FRAME_BUF: usize = 1520;
/// Spin limit for the controller's own busy bits and reset.
const SPIN_LIMIT: u32 = 100_000;

static WAKER: AtomicWaker = AtomicWaker::new();
/// Set by the interrupt handler when the PHY raised an interrupt.
static PHY_EVENT: AtomicBool = AtomicBool::new(true);

/// Driver-level error counters.
#[derive(Debug)]
pub struct Errors {
    /// Frames the controller flagged with an error (CRC, length, collision).
    pub rx_errors: Counter,
    /// Frames longer than [`MTU`] plus FCS, or shorter than a header.
    pub rx_length: Counter,
    /// Transmit requests longer than [`MTU`] (clamped).
    pub tx_oversize: Counter,
}

/// The driver's error counters.
pub static ERRORS: Errors = Errors {
    rx_errors: Counter::new(),
    rx_length: Counter::new(),
    tx_oversize: Counter::new(),
};

/// Why the controller did not come up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitError {
    /// BYTE_TEST did not read 0x87654321: nothing there, or a bus problem.
    NoDevice(u32),
    /// ID_REV names a chip this driver does not know.
    UnknownChip(u32),
    /// Soft reset or the power-management READY bit did not complete.
    ResetTimeout,
}

/// The LAN9118 at the base address of a [`Mmio`] block.
pub struct Lan9118 {
    regs: Mmio,
    mac: [u8; 6],
    link: LinkState,
    rx_buf: [u8; FRAME_BUF],
    tx_buf: [u8; FRAME_BUF],
}

/// The interrupt handler: mask what fired, note PHY events, wake the
/// network task. Call it from the controller's IRQ.
pub fn on_interrupt(regs: Mmio) {
    let enabled = regs.read(INT_EN);
    let fired = regs.read(INT_STS) & enabled;
    if fired & INT_PHY != 0 {
        PHY_EVENT.store(true, Ordering::Release);
    }
    regs.write(INT_EN, enabled & !fired);
    WAKER.wake();
}

impl core::fmt::Debug for Lan9118 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Lan9118")
            .field("mac", &self.mac)
            .field("link_up", &(self.link == LinkState::Up))
            .finish()
    }
}

fn spin_until(mut done: impl FnMut() -> bool) -> bool {
    (0..SPIN_LIMIT).any(|_| done())
}

impl Lan9118 {
    /// Resets the controller and brings it up: MAC address from its EEPROM
    /// (or `fallback_mac` when none is programmed), receive and transmit on,
    /// autonegotiation restarted, interrupts routed to the IRQ pin.
    ///
    /// # Errors
    /// [`InitError`] when the chip does not answer as a LAN9118 should.
    pub fn new(regs: Mmio, fallback_mac: [u8; 6]) -> Result<Self, InitError> {
        let test = regs.read(BYTE_TEST);
        if test != 0x8765_4321 {
            return Err(InitError::NoDevice(test));
        }
        let id = regs.read(ID_REV);
        // LAN9115/16/17/18 and LAN9215/16/17/18/20/21 share this interface.
        if !matches!(id >> 16, 0x0115..=0x0118 | 0x115a..=0x118a | 0x9210..=0x9221) {
            return Err(InitError::UnknownChip(id));
        }
        regs.write(INT_EN, 0);
        regs.write(HW_CFG, HW_CFG_SRST);
        if !spin_until(|| regs.read(HW_CFG) & HW_CFG_SRST == 0)
            || !spin_until(|| regs.read(PMT_CTRL) & PMT_CTRL_READY != 0)
        {
            return Err(InitError::ResetTimeout);
        }
        let mut this = Self {
            regs,
            mac: fallback_mac,
            link: LinkState::Down,
            rx_buf: [0; FRAME_BUF],
            tx_buf: [0; FRAME_BUF],
        };

        let low = this.mac_read(MAC_ADDRL).unwrap_or(0).to_le_bytes();
        let high = this.mac_read(MAC_ADDRH).unwrap_or(0).to_le_bytes();
        let eeprom_mac = [low[0], low[1], low[2], low[3], high[0], high[1]];
        // A multicast, all-zero or all-ones address means nothing programmed.
        if eeprom_mac[0] & 1 == 0 && eeprom_mac != [0; 6] {
            this.mac = eeprom_mac;
        } else {
            let [a, b, c, d, e, f] = this.mac;
            this.mac_write(MAC_ADDRL, u32::from_le_bytes([a, b, c, d]));
            this.mac_write(MAC_ADDRH, u32::from_le_bytes([e, f, 0, 0]));
        }

        // Receive: no offset, 4-byte end alignment. Transmit on.
        regs.write(RX_CFG, 0);
        regs.write(TX_CFG, TX_CFG_TX_ON | TX_CFG_TXSAO);
        // Our address and broadcast only (promiscuous mode is off).
        this.mac_write(MAC_CR, MAC_CR_TXEN | MAC_CR_RXEN | MAC_CR_FDPX);

        // PHY: interrupt on link events, autonegotiate.
        this.phy_write(PHY_IMR, PHY_INT_LINK_EVENTS);
        let _ = this.phy_read(PHY_ISR);
        this.phy_write(PHY_BCR, PHY_BCR_ANEN | PHY_BCR_ANRESTART);

        regs.write(INT_STS, u32::MAX);
        regs.write(IRQ_CFG, IRQ_EN | IRQ_POL | IRQ_TYPE);
        regs.write(INT_EN, INT_PHY);
        PHY_EVENT.store(true, Ordering::Release);
        let [a, b, c, d, e, f] = this.mac;
        info!(
            "LAN9118 ID_REV {:x}, MAC {:x}",
            id,
            u64::from_be_bytes([0, 0, a, b, c, d, e, f])
        );
        Ok(this)
    }

    /// The controller's MAC address.
    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    fn mac_read(&self, reg: u32) -> Option<u32> {
        self.regs
            .write(MAC_CSR_CMD, MAC_CSR_BUSY | MAC_CSR_READ | reg);
        spin_until(|| self.regs.read(MAC_CSR_CMD) & MAC_CSR_BUSY == 0)
            .then(|| self.regs.read(MAC_CSR_DATA))
    }

    fn mac_write(&self, reg: u32, value: u32) {
        self.regs.write(MAC_CSR_DATA, value);
        self.regs.write(MAC_CSR_CMD, MAC_CSR_BUSY | reg);
        spin_until(|| self.regs.read(MAC_CSR_CMD) & MAC_CSR_BUSY == 0);
    }

    fn mii_wait(&self) -> bool {
        spin_until(|| {
            self.mac_read(MAC_MII_ACC)
                .is_some_and(|v| v & MII_BUSY == 0)
        })
    }

    fn phy_read(&self, reg: u32) -> Option<u32> {
        if !self.mii_wait() {
            return None;
        }
        self.mac_write(MAC_MII_ACC, (PHY_ADDR << 11) | (reg << 6) | MII_BUSY);
        if !self.mii_wait() {
            return None;
        }
        self.mac_read(MAC_MII_DATA).map(|v| v & 0xffff)
    }

    fn phy_write(&self, reg: u32, value: u32) {
        if !self.mii_wait() {
            return;
        }
        self.mac_write(MAC_MII_DATA, value);
        self.mac_write(
            MAC_MII_ACC,
            (PHY_ADDR << 11) | (reg << 6) | MII_WRITE | MII_BUSY,
        );
        self.mii_wait();
    }

    /// Frames waiting in the RX status FIFO.
    fn rx_frames(&self) -> u32 {
        (self.regs.read(RX_FIFO_INF) >> 16) & 0xff
    }

    /// Whether the TX data FIFO has room for a maximal frame and its two
    /// command words.
    fn tx_room(&self) -> bool {
        let free = self.regs.read(TX_FIFO_INF) & 0xffff;
        usize::try_from(free).unwrap_or(0) >= FRAME_BUF + 8
    }

    /// Discards `words` data words of a frame we do not want.
    fn discard(&self, words: usize) {
        for _ in 0..words {
            let _ = self.regs.read(RX_DATA_FIFO);
        }
    }

    /// Pops RX statuses until one describes a good frame; returns its length
    /// without FCS, or `None` when the FIFO holds no good frame.
    fn next_good_frame(&self) -> Option<usize> {
        while self.rx_frames() > 0 {
            let status = self.regs.read(RX_STATUS_FIFO);
            let len = usize::try_from((status >> 16) & 0x3fff).unwrap_or(0);
            let words = len.div_ceil(4);
            if status & RX_STS_ERROR != 0 {
                ERRORS.rx_errors.inc();
                self.discard(words);
                continue;
            }
            if !(14 + 4..=FRAME_BUF).contains(&len) {
                ERRORS.rx_length.inc();
                self.discard(words);
                continue;
            }
            return Some(len - 4);
        }
        None
    }
}

/// A received frame still in the RX data FIFO.
#[derive(Debug)]
pub struct Lan9118Rx<'a> {
    regs: Mmio,
    buf: &'a mut [u8; FRAME_BUF],
    /// Frame length without FCS.
    len: usize,
    consumed: bool,
}

/// Room for one frame in the TX data FIFO.
#[derive(Debug)]
pub struct Lan9118Tx<'a> {
    regs: Mmio,
    buf: &'a mut [u8; FRAME_BUF],
}

impl RxToken for Lan9118Rx<'_> {
    fn consume<R, F>(mut self, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        // The frame, its FCS and the padding to a whole word.
        let words = (self.len + 4).div_ceil(4);
        for chunk in self.buf.chunks_exact_mut(4).take(words) {
            chunk.copy_from_slice(&self.regs.read(RX_DATA_FIFO).to_le_bytes());
        }
        self.consumed = true;
        f(&mut self.buf[..self.len])
    }
}

impl Drop for Lan9118Rx<'_> {
    /// A token dropped unconsumed must still take its words out of the
    /// FIFO, or every later frame would be read misaligned.
    fn drop(&mut self) {
        if !self.consumed {
            for _ in 0..(self.len + 4).div_ceil(4) {
                let _ = self.regs.read(RX_DATA_FIFO);
            }
        }
    }
}

impl TxToken for Lan9118Tx<'_> {
    fn consume<R, F>(self, len: usize, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        let len = if len > MTU {
            ERRORS.tx_oversize.inc();
            MTU
        } else {
            len
        };
        let result = f(&mut self.buf[..len]);
        // `len` <= MTU < 2^11, the width of both length fields.
        let len_field = u32::try_from(len).unwrap_or(0);
        self.regs
            .write(TX_DATA_FIFO, TX_CMD_A_FIRST | TX_CMD_A_LAST | len_field);
        self.regs.write(TX_DATA_FIFO, len_field);
        for chunk in self.buf[..len.next_multiple_of(4)].chunks_exact(4) {
            self.regs.write(
                TX_DATA_FIFO,
                u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]),
            );
        }
        // Statuses are not needed (TXSAO); keep the status FIFO from filling.
        while (self.regs.read(TX_FIFO_INF) >> 16) & 0xff != 0 {
            let _ = self.regs.read(TX_STATUS_FIFO);
        }
        result
    }
}

impl Driver for Lan9118 {
    type RxToken<'a>
        = Lan9118Rx<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = Lan9118Tx<'a>
    where
        Self: 'a;

    fn receive(&mut self, cx: &mut Context<'_>) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        // A received frame may need an answer (ARP): only take one when a
        // frame can also be sent. The controller drains its TX FIFO onto the
        // wire within microseconds, so asking again at once is cheap.
        if !self.tx_room() {
            cx.waker().wake_by_ref();
            return None;
        }
        let regs = self.regs;
        let len = match self.next_good_frame() {
            Some(len) => len,
            None => {
                // Arm RSFL, then look again: a frame that arrived in between
                // either shows here or raises the interrupt.
                WAKER.register(cx.waker());
                regs.write(INT_STS, INT_RSFL);
                regs.modify(INT_EN, |v| v | INT_RSFL);
                self.next_good_frame()?
            }
        };
        let Self { rx_buf, tx_buf, .. } = self;
        Some((
            Lan9118Rx {
                regs,
                buf: rx_buf,
                len,
                consumed: false,
            },
            Lan9118Tx { regs, buf: tx_buf },
        ))
    }

    fn transmit(&mut self, cx: &mut Context<'_>) -> Option<Self::TxToken<'_>> {
        if !self.tx_room() {
            cx.waker().wake_by_ref();
            return None;
        }
        Some(Lan9118Tx {
            regs: self.regs,
            buf: &mut self.tx_buf,
        })
    }

    fn link_state(&mut self, cx: &mut Context<'_>) -> LinkState {
        WAKER.register(cx.waker());
        if PHY_EVENT.swap(false, Ordering::AcqRel) {
            // Reading the PHY's interrupt source clears it; the link bit of
            // the status register latches low, so read it twice.
            let _ = self.phy_read(PHY_ISR);
            let _ = self.phy_read(PHY_BSR);
            let up = self
                .phy_read(PHY_BSR)
                .is_some_and(|bsr| bsr & PHY_BSR_LINK != 0);
            let link = if up { LinkState::Up } else { LinkState::Down };
            if link != self.link {
                info!("LAN9118 link {}", if up { "up" } else { "down" });
            }
            self.link = link;
            self.regs.write(INT_STS, INT_PHY);
            self.regs.modify(INT_EN, |v| v | INT_PHY);
        }
        self.link
    }

    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::default();
        caps.max_transmission_unit = MTU;
        caps.max_burst_size = Some(1);
        caps
    }

    fn hardware_address(&self) -> HardwareAddress {
        HardwareAddress::Ethernet(self.mac)
    }
}
