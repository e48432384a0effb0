//! The application layer: everything above the board, generic over
//! [`embassy_net_driver::Driver`].
//!
//! [`run`] brings up embassy-net with a static IPv4 configuration and runs
//! three things side by side, forever:
//!
//! - the network stack's runner (the board's driver underneath);
//! - [`vpn::run`], **the seam**: UDP 500 and 4500 and a raw socket for IP
//!   protocol 50, driving the `sessiondb` gateway ([`gateway::FwGateway`],
//!   built from the compiled-in [`gateway::CONFIG_TEXT`]), and forwarding
//!   between the clients and the LAN ([`forward`], in the driver's path
//!   through [`lan::LanDriver`]);
//! - [`console::run`]: the serial console (`show version`, `show interfaces`,
//!   and the gateway's `show vpn-sessiondb ...`, `debug l2tp ...`).

pub mod config;
pub mod console;
pub mod counting;
pub mod forward;
pub mod gateway;
pub mod inside;
pub mod ipv4;
pub mod lan;
pub mod stats;
pub mod vpn;

pub use config::{BoardInfo, NetConfig};

use embassy_futures::join::join3;
use embassy_net::{Ipv4Cidr, StackResources, StaticConfigV4};
use embassy_net_driver::Driver;
use embedded_io_async::{Read, Write};
use rand_core::CryptoRng;
use static_cell::ConstStaticCell;

use counting::CountingDriver;
use embassy_net_driver::HardwareAddress;
use forward::{ForwardConfig, Subnet};
use lan::{Lan, LanDriver};
use stats::Stats;

/// The counters of this image, shown by `show interfaces`.
pub static STATS: Stats = Stats::new();

/// What `show version` says drives the VPN ports today.
pub const ENGINE: &str = "sessiondb gateway (L2TP over IPsec, IKEv1 PSK)";

/// Sockets of the stack: UDP 500, UDP 4500, raw ESP.
const SOCKETS: usize = 3;

/// Runs the firmware's application on a board's driver, console and RNG.
/// Never returns.
///
/// `rng` seeds the network stack (TCP/UDP port and ID randomisation) and is
/// handed to the gateway for every `handle_*` call.
///
/// # Panics
/// If called twice: the buffers are one static.
pub async fn run<D, C, R>(
    driver: D,
    console: C,
    mut rng: R,
    board: &'static BoardInfo,
    net: &'static NetConfig,
) -> !
where
    D: Driver,
    C: Read + Write,
    R: CryptoRng,
{
    // The long-lived buffers, each in its own static so that the all-zero
    // ones land in `.bss` and cost no flash.
    static STACK: ConstStaticCell<StackResources<SOCKETS>> =
        ConstStaticCell::new(StackResources::new());
    static VPN_META: ConstStaticCell<vpn::VpnMeta> = ConstStaticCell::new(vpn::VpnMeta::new());
    static VPN_BUFFERS: ConstStaticCell<vpn::VpnBuffers> =
        ConstStaticCell::new(vpn::VpnBuffers::new());
    static LAN: ConstStaticCell<Lan> = ConstStaticCell::new(Lan::new());

    // The forwarder between the clients and the LAN, in the driver's path.
    let mac = match driver.hardware_address() {
        HardwareAddress::Ethernet(mac) => mac,
        _ => [0; 6],
    };
    let lan: &'static Lan = LAN.take();
    lan.configure(
        ForwardConfig {
            mac,
            lan: Subnet::new(net.address, net.prefix_len),
            gateway: net.gateway,
            pool: Subnet::new(gateway::POOL_SUBNET.0, gateway::POOL_SUBNET.1),
        },
        &STATS,
    );

    let config = embassy_net::Config::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(net.address, net.prefix_len),
        gateway: net.gateway,
        dns_servers: heapless::Vec::new(),
    });
    let seed = rng.next_u64();
    let (stack, mut runner) = embassy_net::new(
        LanDriver::new(CountingDriver::new(driver, &STATS), lan),
        config,
        STACK.take(),
        seed,
    );
    info!(
        "{}: IPv4 {}/{} (static)",
        net.nameif, net.address, net.prefix_len
    );

    let gateway: &gateway::SharedGateway = gateway::build();
    info!(
        "gateway: {} sessions, {} bytes in its static (.data)",
        gateway::SESSIONS,
        size_of::<gateway::FwGateway>()
    );
    if let (Some(peak), Some(mark)) = (board.stack_peak, board.stack_mark) {
        info!(
            "stack: {} bytes deep at the most while building the gateway",
            peak()
        );
        mark();
        info!("stack: {} bytes deep after the mark", peak());
    }
    let wake = vpn::Wake::new();

    let (never, _, _) = join3(
        runner.run(),
        vpn::run(
            stack,
            gateway,
            &wake,
            &mut rng,
            VPN_META.take(),
            VPN_BUFFERS.take(),
            &STATS,
            net.address,
            lan,
        ),
        console::run(console, stack, board, net, &STATS, ENGINE, gateway, &wake),
    )
    .await;
    never
}
