//! The real board: ST Nucleo-H743ZI (STM32H743ZI, Cortex-M7 at 400 MHz,
//! LAN8742A RMII PHY on the board).
//!
//! | what | where |
//! |---|---|
//! | Ethernet | embassy-stm32 `Ethernet` (RMII: PA1 REF_CLK, PA2 MDIO, PC1 MDC, PA7 CRS_DV, PC4/PC5 RXD0/1, PG13/PB13 TXD0/1, PG11 TX_EN), generic PHY driver |
//! | randomness | the STM32 hardware RNG (clocked from HSI48) |
//! | console | USART3 on PD8/PD9: the ST-LINK virtual COM port, 115200 8N1 |
//! | log | defmt over RTT (probe-rs) |
//! | time | embassy-stm32's timer driver (`time-driver-any`) |
//!
//! **This image has been built but has not run on hardware yet.**

use core::convert::Infallible;
use core::net::Ipv4Addr;

use embassy_stm32::eth::{self, Ethernet, GenericPhy, PacketQueue, Sma};
use embassy_stm32::peripherals::{ETH, ETH_SMA, RNG, USART3};
use embassy_stm32::rng::{self, Rng};
use embassy_stm32::usart::{self, BufferedUart};
use embassy_stm32::{Config, bind_interrupts};
use rand_core::{TryCryptoRng, TryRng};
use static_cell::ConstStaticCell;

use crate::app::{BoardInfo, NetConfig};

/// What `show version` says about this board.
pub static BOARD: BoardInfo = BoardInfo {
    name: "nucleo-h743zi",
    cpu: "STM32H743ZI Cortex-M7 at 400 MHz",
    ethernet: "STM32 ETH (embassy-stm32), LAN8742A RMII PHY",
    rng: "STM32 hardware RNG",
    console: "USART3 (ST-LINK virtual COM port)",
    stack_peak: None,
    stack_mark: None,
};

/// The compiled-in network configuration of the outside interface. Change
/// it here for your network (see the README, "Routing the client pool").
pub static NET: NetConfig = NetConfig {
    hostname: "lns",
    nameif: "outside",
    address: Ipv4Addr::new(192, 168, 1, 250),
    prefix_len: 24,
    gateway: Some(Ipv4Addr::new(192, 168, 1, 1)),
};

// The `unsafe` of this board is inside embassy-stm32; the handlers this
// macro defines are the HAL's own.
#[allow(unsafe_code)]
mod irqs {
    use super::*;

    bind_interrupts!(pub struct Irqs {
        ETH => eth::InterruptHandler;
        RNG => rng::InterruptHandler<RNG>;
        USART3 => usart::BufferedInterruptHandler<USART3>;
    });
}
use irqs::Irqs;

/// The Ethernet driver type of this board.
pub type Eth = Ethernet<'static, ETH, GenericPhy<Sma<'static, ETH_SMA>>>;

/// The hardware RNG, as the cores take randomness (`rand_core` 0.10).
pub struct HwRng(Rng<'static, RNG>);

impl core::fmt::Debug for HwRng {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("HwRng")
    }
}

impl TryRng for HwRng {
    type Error = Infallible;

    // embassy-stm32 retries (resetting the RNG) on seed and clock errors,
    // so these never fail.
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.0.next_u32())
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.0.next_u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.0.fill_bytes(dst);
        Ok(())
    }
}

/// The STM32 RNG is a NIST SP 800-90B entropy source conditioned by the
/// peripheral (RM0433 "RNG"); it is the board's cryptographic randomness.
impl TryCryptoRng for HwRng {}

/// The board's parts, handed to [`crate::app::run`].
pub struct Board {
    /// The Ethernet MAC and PHY.
    pub ethernet: Eth,
    /// The console on the ST-LINK virtual COM port.
    pub console: BufferedUart<'static>,
    /// The hardware RNG.
    pub rng: HwRng,
}

impl core::fmt::Debug for Board {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Board")
    }
}

/// The clock tree: HSI (64 MHz) / 4 * 50 = 800 MHz VCO; PLL1 P / 2 = 400 MHz
/// system clock (voltage scale 1), AHB 200 MHz, APBs 100 MHz; HSI48 for the
/// RNG.
fn config() -> Config {
    use embassy_stm32::rcc::{
        AHBPrescaler, APBPrescaler, HSIPrescaler, Hsi48Config, Pll, PllDiv, PllMul, PllPreDiv,
        PllSource, Sysclk, VoltageScale,
    };
    let mut config = Config::default();
    config.rcc.hsi = Some(HSIPrescaler::DIV1);
    config.rcc.csi = true;
    config.rcc.hsi48 = Some(Hsi48Config {
        sync_from_usb: false,
    });
    config.rcc.pll1 = Some(Pll {
        source: PllSource::HSI,
        prediv: PllPreDiv::DIV4,
        mul: PllMul::MUL50,
        fracn: None,
        divp: Some(PllDiv::DIV2),
        divq: Some(PllDiv::DIV8),
        divr: None,
    });
    config.rcc.sys = Sysclk::PLL1_P;
    config.rcc.ahb_pre = AHBPrescaler::DIV2;
    config.rcc.apb1_pre = APBPrescaler::DIV2;
    config.rcc.apb2_pre = APBPrescaler::DIV2;
    config.rcc.apb3_pre = APBPrescaler::DIV2;
    config.rcc.apb4_pre = APBPrescaler::DIV2;
    config.rcc.voltage_scale = VoltageScale::Scale1;
    config
}

/// A locally administered unicast MAC address derived from the chip's
/// 96-bit unique ID, so that two boards on one LAN differ.
fn mac_address() -> [u8; 6] {
    let id = embassy_stm32::uid::uid();
    [
        0x02,
        id[0] ^ id[6],
        id[1] ^ id[7],
        id[2] ^ id[8],
        id[3] ^ id[9],
        id[4] ^ id[10] ^ id[5] ^ id[11],
    ]
}

/// Brings the board up: clocks, Ethernet (the PHY negotiates in the
/// background), RNG, console.
pub fn init() -> Board {
    let p = embassy_stm32::init(config());
    info!(
        "lns-firmware {} booting on {}",
        env!("CARGO_PKG_VERSION"),
        BOARD.name
    );

    // The descriptors and buffers must be in memory the Ethernet DMA can
    // reach: embassy-stm32's memory.x puts RAM in AXI SRAM, which it can.
    static PACKETS: ConstStaticCell<PacketQueue<4, 4>> = ConstStaticCell::new(PacketQueue::new());
    let ethernet = Ethernet::new(
        PACKETS.take(),
        p.ETH,
        Irqs,
        p.PA1,
        p.PA7,
        p.PC4,
        p.PC5,
        p.PG13,
        p.PB13,
        p.PG11,
        mac_address(),
        p.ETH_SMA,
        p.PA2,
        p.PC1,
    );

    let rng = HwRng(Rng::new(p.RNG, Irqs));

    static TX_BUF: ConstStaticCell<[u8; 512]> = ConstStaticCell::new([0; 512]);
    static RX_BUF: ConstStaticCell<[u8; 64]> = ConstStaticCell::new([0; 64]);
    let mut uart_config = usart::Config::default();
    uart_config.baudrate = 115_200;
    let console = match BufferedUart::new(
        p.USART3,
        p.PD9,
        p.PD8,
        TX_BUF.take(),
        RX_BUF.take(),
        Irqs,
        uart_config,
    ) {
        Ok(console) => console,
        // 115200 8N1 is valid for USART3 at 100 MHz; this cannot happen.
        Err(_) => {
            defmt::error!("USART3 configuration refused");
            loop {
                cortex_m::asm::wfi();
            }
        }
    };
    Board {
        ethernet,
        console,
        rng,
    }
}
