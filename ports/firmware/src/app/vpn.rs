//! **The seam.** The one place where the VPN engine is driven: sockets in,
//! `handle_*`, drain `poll_transmit`, sleep until `poll_timeout`.
//!
//! ```text
//! loop {
//!     while let Some(t) = engine.poll_transmit(now, &mut tx[20..]) { send t }
//!     select {
//!         UDP 500 / UDP 4500 datagram => engine.handle_udp(now, port, from, &mut rx[..n])
//!         IP protocol 50 packet       => engine.handle_esp(now, from, &mut rx[ip payload])
//!         poll_timeout() reached      => engine.handle_timeout(now)
//!     }
//! }
//! ```
//!
//! The gateway of the `sessiondb` crate takes the place of
//! [`EchoPlaceholder`](super::engine::EchoPlaceholder) in
//! [`crate::app::run`]; this loop stays as it is. Inner-side traffic (the
//! IPv4 packets of PPP clients, forwarded to and from the LAN) will be a
//! second input and output of the same loop once the gateway emits it.

use core::future::poll_fn;
use core::net::SocketAddrV4;
use core::task::Poll;
use core::time::Duration;

use embassy_futures::select::{Either, select};
use embassy_net::raw::{self, IpProtocol, IpVersion, RawSocket};
use embassy_net::udp::{self, UdpSocket};
use embassy_net::{IpAddress, IpEndpoint, Stack};
use embassy_time::{Instant, Timer};
use rand_core::CryptoRng;

use super::engine::{Engine, MAX_IP_PACKET, Route};
use super::ipv4;
use super::stats::Stats;

/// UDP port of IKE (RFC 2409).
pub const IKE_PORT: u16 = 500;
/// UDP port of IKE and ESP behind a NAT (RFC 3947, RFC 3948).
pub const NAT_T_PORT: u16 = 4500;

/// Datagrams each UDP socket can queue in each direction.
const UDP_PACKETS: usize = 4;
/// Payload bytes each UDP socket can queue in each direction.
const UDP_BYTES: usize = 2 * MAX_IP_PACKET;
/// Packets the ESP socket can queue in each direction.
const ESP_PACKETS: usize = 4;
/// Bytes the ESP socket can queue in each direction (whole IP packets).
const ESP_BYTES: usize = 2 * MAX_IP_PACKET;

/// Packet metadata of the three sockets. Kept apart from the byte buffers
/// because an empty metadata entry is not all zero bytes: this small struct
/// goes to `.data`, the large all-zero buffers to `.bss` (no flash copy).
#[derive(Debug)]
pub struct VpnMeta {
    ike_rx: [udp::PacketMetadata; UDP_PACKETS],
    ike_tx: [udp::PacketMetadata; UDP_PACKETS],
    nat_t_rx: [udp::PacketMetadata; UDP_PACKETS],
    nat_t_tx: [udp::PacketMetadata; UDP_PACKETS],
    esp_rx: [raw::PacketMetadata; ESP_PACKETS],
    esp_tx: [raw::PacketMetadata; ESP_PACKETS],
}

impl VpnMeta {
    /// Empty metadata, for a `static`.
    pub const fn new() -> Self {
        Self {
            ike_rx: [udp::PacketMetadata::EMPTY; UDP_PACKETS],
            ike_tx: [udp::PacketMetadata::EMPTY; UDP_PACKETS],
            nat_t_rx: [udp::PacketMetadata::EMPTY; UDP_PACKETS],
            nat_t_tx: [udp::PacketMetadata::EMPTY; UDP_PACKETS],
            esp_rx: [raw::PacketMetadata::EMPTY; ESP_PACKETS],
            esp_tx: [raw::PacketMetadata::EMPTY; ESP_PACKETS],
        }
    }
}

impl Default for VpnMeta {
    fn default() -> Self {
        Self::new()
    }
}

/// The byte buffers of the loop: the three sockets' queues, one received
/// datagram and one outgoing datagram. All zero, for a `static` in `.bss`.
#[derive(Debug)]
pub struct VpnBuffers {
    ike_rx: [u8; UDP_BYTES],
    ike_tx: [u8; UDP_BYTES],
    nat_t_rx: [u8; UDP_BYTES],
    nat_t_tx: [u8; UDP_BYTES],
    esp_rx: [u8; ESP_BYTES],
    esp_tx: [u8; ESP_BYTES],
    /// One received datagram, handed to the engine in place.
    rx: [u8; MAX_IP_PACKET],
    /// One outgoing datagram, with IPv4 header headroom in front.
    tx: [u8; ipv4::HEADER_LEN + MAX_IP_PACKET],
}

impl VpnBuffers {
    /// Zeroed buffers, for a `static`.
    pub const fn new() -> Self {
        Self {
            ike_rx: [0; UDP_BYTES],
            ike_tx: [0; UDP_BYTES],
            nat_t_rx: [0; UDP_BYTES],
            nat_t_tx: [0; UDP_BYTES],
            esp_rx: [0; ESP_BYTES],
            esp_tx: [0; ESP_BYTES],
            rx: [0; MAX_IP_PACKET],
            tx: [0; ipv4::HEADER_LEN + MAX_IP_PACKET],
        }
    }
}

impl Default for VpnBuffers {
    fn default() -> Self {
        Self::new()
    }
}

/// The monotonic time since boot, as the sans-IO cores take it.
pub fn now() -> Duration {
    Duration::from_micros(Instant::now().as_micros())
}

/// What one wait on the three sockets produced.
enum Received {
    Udp {
        local_port: u16,
        remote: SocketAddrV4,
        len: usize,
    },
    Esp {
        len: usize,
    },
    Dropped,
}

fn to_socket_addr(endpoint: IpEndpoint) -> SocketAddrV4 {
    let IpAddress::Ipv4(addr) = endpoint.addr;
    SocketAddrV4::new(addr, endpoint.port)
}

fn poll_udp(
    socket: &UdpSocket<'_>,
    local_port: u16,
    buf: &mut [u8],
    cx: &mut core::task::Context<'_>,
) -> Poll<Received> {
    socket.poll_recv_from(buf, cx).map(|r| match r {
        Ok((len, meta)) => Received::Udp {
            local_port,
            remote: to_socket_addr(meta.endpoint),
            len,
        },
        Err(udp::RecvError::Truncated) => Received::Dropped,
    })
}

/// Drives `engine` forever from the sockets of `stack`: UDP 500, UDP 4500
/// and a raw IPv4 socket for protocol 50 (ESP).
///
/// Never panics on what arrives: a malformed ESP packet or a truncated
/// datagram is counted in `stats.dropped` and skipped.
pub async fn run<E: Engine, R: CryptoRng>(
    stack: Stack<'static>,
    engine: &mut E,
    rng: &mut R,
    meta: &'static mut VpnMeta,
    bufs: &'static mut VpnBuffers,
    stats: &'static Stats,
) -> ! {
    let VpnBuffers {
        ike_rx,
        ike_tx,
        nat_t_rx,
        nat_t_tx,
        esp_rx,
        esp_tx,
        rx,
        tx,
    } = bufs;
    let mut ike_socket = UdpSocket::new(stack, &mut meta.ike_rx, ike_rx, &mut meta.ike_tx, ike_tx);
    let mut nat_t_socket = UdpSocket::new(
        stack,
        &mut meta.nat_t_rx,
        nat_t_rx,
        &mut meta.nat_t_tx,
        nat_t_tx,
    );
    let esp_socket = RawSocket::new(
        stack,
        Some(IpVersion::Ipv4),
        Some(IpProtocol::IpSecEsp),
        &mut meta.esp_rx,
        esp_rx,
        &mut meta.esp_tx,
        esp_tx,
    );
    // Binding a fresh socket to a non-zero port cannot fail.
    if ike_socket.bind(IKE_PORT).is_err() || nat_t_socket.bind(NAT_T_PORT).is_err() {
        warn!("cannot bind UDP 500/4500");
    }
    info!(
        "listening on UDP {} and {}, IP protocol {}",
        IKE_PORT,
        NAT_T_PORT,
        ipv4::PROTOCOL_ESP
    );

    let mut identification: u16 = 0;
    // Which socket is polled first: rotated so that a flood on one port
    // cannot starve the others.
    let mut turn: usize = 0;
    loop {
        // Drain: everything the engine has to send goes out before we wait.
        loop {
            let now = now();
            let Some(t) = engine.poll_transmit(now, &mut tx[ipv4::HEADER_LEN..]) else {
                break;
            };
            let Some(payload) = tx.get(ipv4::HEADER_LEN..ipv4::HEADER_LEN + t.len) else {
                stats.dropped.inc();
                continue;
            };
            match t.route {
                Route::Udp { local_port, remote } => {
                    let socket = match local_port {
                        IKE_PORT => &ike_socket,
                        NAT_T_PORT => &nat_t_socket,
                        _ => {
                            stats.dropped.inc();
                            continue;
                        }
                    };
                    let to = IpEndpoint::new(IpAddress::Ipv4(*remote.ip()), remote.port());
                    match socket.send_to(payload, to).await {
                        Ok(()) => stats.udp_tx.inc(),
                        Err(_) => stats.dropped.inc(),
                    }
                }
                Route::Esp { remote } => {
                    let Some(src) = stack.config_v4().map(|c| c.address.address()) else {
                        stats.dropped.inc();
                        continue;
                    };
                    identification = identification.wrapping_add(1);
                    let (header, _) = tx.split_at_mut(ipv4::HEADER_LEN);
                    let header: &mut [u8; ipv4::HEADER_LEN] = match header.try_into() {
                        Ok(h) => h,
                        Err(_) => continue,
                    };
                    if ipv4::emit_header(
                        header,
                        src,
                        remote,
                        ipv4::PROTOCOL_ESP,
                        identification,
                        t.len,
                    )
                    .is_none()
                    {
                        stats.dropped.inc();
                        continue;
                    }
                    esp_socket.send(&tx[..ipv4::HEADER_LEN + t.len]).await;
                    stats.esp_tx.inc();
                }
            }
        }

        let deadline = engine.poll_timeout();
        let receive = poll_fn(|cx| {
            for i in 0..3 {
                let which = (turn + i) % 3;
                let polled = match which {
                    0 => poll_udp(&ike_socket, IKE_PORT, rx, cx),
                    1 => poll_udp(&nat_t_socket, NAT_T_PORT, rx, cx),
                    _ => esp_socket.poll_recv(rx, cx).map(|r| match r {
                        Ok(len) => Received::Esp { len },
                        Err(raw::RecvError::Truncated) => Received::Dropped,
                    }),
                };
                if let Poll::Ready(r) = polled {
                    turn = which + 1;
                    return Poll::Ready(r);
                }
            }
            Poll::Pending
        });
        let sleep = async {
            match deadline {
                Some(at) => {
                    let micros = u64::try_from(at.as_micros()).unwrap_or(u64::MAX);
                    Timer::at(Instant::from_micros(micros)).await;
                }
                None => core::future::pending::<()>().await,
            }
        };

        match select(receive, sleep).await {
            Either::First(Received::Udp {
                local_port,
                remote,
                len,
            }) => {
                if local_port == IKE_PORT {
                    stats.ike_rx.inc();
                } else {
                    stats.nat_t_rx.inc();
                }
                debug!("udp {} from {} len {}", local_port, remote, len);
                match rx.get_mut(..len) {
                    Some(datagram) => engine.handle_udp(now(), local_port, remote, datagram, rng),
                    None => stats.dropped.inc(),
                }
            }
            Either::First(Received::Esp { len }) => {
                stats.esp_rx.inc();
                let packet = rx.get_mut(..len).unwrap_or_default();
                match ipv4::parse(packet, ipv4::PROTOCOL_ESP) {
                    Some((from, range)) => match packet.get_mut(range) {
                        Some(esp) => engine.handle_esp(now(), from, esp, rng),
                        None => stats.dropped.inc(),
                    },
                    None => stats.dropped.inc(),
                }
            }
            Either::First(Received::Dropped) => stats.dropped.inc(),
            Either::Second(()) => engine.handle_timeout(now(), rng),
        }
    }
}
