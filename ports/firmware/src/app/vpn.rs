//! **The seam.** The one place where the gateway is driven: sockets in,
//! `handle_*`, drain `poll_transmit` and `poll_event`, sleep until
//! `poll_timeout`.
//!
//! ```text
//! loop {
//!     while let Some(t) = gateway.poll_transmit(now, rng, &mut tx[20..]) { send t }
//!     while let Some(e) = gateway.poll_event() { log e }
//!     select {
//!         UDP 500 / 4500 datagram => gateway.handle_datagram(now, from, to, rx, HEADROOM..)
//!         IP protocol 50 packet   => gateway.handle_esp(now, from, rx, payload)
//!         poll_timeout() reached  => gateway.handle_timeout(now, rng)
//!         the console woke us     => (a command may have queued output)
//!     }
//!         an IPv4 packet from the LAN for the pool => (the forwarder queued it)
//!     }
//!     an IPv4 packet from a client for the inside address => answered (ping, UDP echo), handle_ip, send
//!     an IPv4 packet from a client for anything else      => forwarded to the LAN (lan::Lan::uplink)
//!     an IPv4 packet from the LAN for a client             => handle_ip, send
//! }
//! ```
//!
//! The gateway is shared with the console through a `RefCell`: both run in
//! one task (`join`), and neither holds the borrow across an `await`, so a
//! borrow can never fail.
//!
//! Received datagrams are handed to the gateway in place, at
//! [`HEADROOM`] in the receive buffer with [`TAILROOM`] behind, so that a
//! packet for the inside address is answered and sealed where it was opened.

use core::future::poll_fn;
use core::net::{Ipv4Addr, SocketAddrV4};
use core::ops::Range;
use core::task::Poll;
use core::time::Duration;

use embassy_futures::select::{Either3, select3};
use embassy_net::raw::{self, IpProtocol, IpVersion, RawSocket};
use embassy_net::udp::{self, UdpSocket};
use embassy_net::{IpAddress, IpEndpoint, Stack};
use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embassy_sync::signal::Signal;
use embassy_time::{Instant, Timer};
use rand_core::CryptoRng;
use sessiondb::gateway::{Destination, Event, HEADROOM, MIN_TRANSMIT_BUFFER, TAILROOM};

use super::forward::Drop as FwdDrop;
use super::gateway::{SharedGateway, serve_inside};
use super::ipv4;
use super::lan::Lan;
use super::stats::Stats;

/// The largest UDP payload that fits one Ethernet frame without IPv4
/// fragmentation (1500 - 20 - 8). embassy-net leaves fragmentation off, so a
/// larger datagram never arrives.
pub const MAX_UDP_PAYLOAD: usize = 1472;

/// The largest IPv4 packet that fits one Ethernet frame.
pub const MAX_IP_PACKET: usize = 1500;

/// The receive buffer: the gateway's headroom, one IPv4 packet, its tailroom.
const RX_LEN: usize = HEADROOM + MAX_IP_PACKET + TAILROOM;
/// The transmit buffer: an IPv4 header, then what `poll_transmit` needs.
const TX_LEN: usize = ipv4::HEADER_LEN + MIN_TRANSMIT_BUFFER;

/// Wakes the loop when the console has run a command (a log-off or a
/// debug change can queue output or move the next deadline).
pub type Wake = Signal<NoopRawMutex, ()>;

/// UDP port of IKE (RFC 2409).
pub const IKE_PORT: u16 = 500;
/// UDP port of IKE and ESP behind a NAT (RFC 3947, RFC 3948).
pub const NAT_T_PORT: u16 = 4500;

/// Datagrams each UDP socket can queue in each direction.
const UDP_PACKETS: usize = 4;
/// Payload bytes the NAT-T socket (UDP 4500: IKE and all the data of
/// clients behind a NAT) can queue in each direction.
const UDP_BYTES: usize = 2 * MAX_IP_PACKET;
/// Payload bytes the IKE socket (UDP 500: Main Mode until NAT-T floats,
/// and clients without a NAT) can queue in each direction: one
/// full-sized datagram, or several IKE messages.
const IKE_BYTES: usize = MAX_IP_PACKET;
/// Packets the ESP socket can queue in each direction.
const ESP_PACKETS: usize = 4;
/// Bytes the ESP socket (ESP in IP, clients without a NAT) can queue in
/// each direction (whole IP packets).
const ESP_BYTES: usize = MAX_IP_PACKET;

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
    ike_rx: [u8; IKE_BYTES],
    ike_tx: [u8; IKE_BYTES],
    nat_t_rx: [u8; UDP_BYTES],
    nat_t_tx: [u8; UDP_BYTES],
    esp_rx: [u8; ESP_BYTES],
    esp_tx: [u8; ESP_BYTES],
    /// One received datagram, handed to the gateway in place, with the
    /// gateway's headroom in front and tailroom behind.
    rx: [u8; RX_LEN],
    /// One outgoing datagram from `poll_transmit`, with IPv4 header
    /// headroom in front.
    tx: [u8; TX_LEN],
}

impl VpnBuffers {
    /// Zeroed buffers, for a `static`.
    pub const fn new() -> Self {
        Self {
            ike_rx: [0; IKE_BYTES],
            ike_tx: [0; IKE_BYTES],
            nat_t_rx: [0; UDP_BYTES],
            nat_t_tx: [0; UDP_BYTES],
            esp_rx: [0; ESP_BYTES],
            esp_tx: [0; ESP_BYTES],
            rx: [0; RX_LEN],
            tx: [0; TX_LEN],
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
    /// An IPv4 packet from the LAN for the pool, at `HEADROOM`.
    Lan {
        len: usize,
    },
    Dropped,
}

/// What became of a packet for a client.
enum Sealed {
    Sent,
    /// The sealed datagram would not fit one Ethernet frame (embassy-net
    /// does not fragment).
    TooBig,
    Refused,
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

/// Where the ESP payload of a raw packet starts in the receive buffer: the
/// IPv4 header (20 bytes without options) ends at [`HEADROOM`].
const ESP_RX_AT: usize = HEADROOM - ipv4::HEADER_LEN;

/// The sockets of the loop.
struct Sockets<'a> {
    ike: UdpSocket<'a>,
    nat_t: UdpSocket<'a>,
    esp: RawSocket<'a>,
    stack: Stack<'a>,
    identification: u16,
}

impl Sockets<'_> {
    /// Sends `buf[range]` to `destination`. For ESP in IP the IPv4 header
    /// goes into the 20 bytes in front of `range`, which the caller leaves
    /// free. Failures are counted, never fatal.
    async fn send(
        &mut self,
        destination: Destination,
        buf: &mut [u8],
        range: Range<usize>,
        stats: &Stats,
    ) {
        match destination {
            Destination::Client { local_port, remote } => {
                let socket = match local_port {
                    IKE_PORT => &self.ike,
                    NAT_T_PORT => &self.nat_t,
                    _ => {
                        stats.dropped.inc();
                        return;
                    }
                };
                let Some(payload) = buf.get(range) else {
                    stats.dropped.inc();
                    return;
                };
                let to = IpEndpoint::new(IpAddress::Ipv4(*remote.ip()), remote.port());
                match socket.send_to(payload, to).await {
                    Ok(()) => stats.udp_tx.inc(),
                    Err(_) => stats.dropped.inc(),
                }
            }
            Destination::ClientEsp { remote } => {
                let Some(src) = self.stack.config_v4().map(|c| c.address.address()) else {
                    stats.dropped.inc();
                    return;
                };
                let Some(start) = range.start.checked_sub(ipv4::HEADER_LEN) else {
                    stats.dropped.inc();
                    return;
                };
                self.identification = self.identification.wrapping_add(1);
                let len = range.len();
                let Some(header) = buf
                    .get_mut(start..range.start)
                    .and_then(|h| <&mut [u8; ipv4::HEADER_LEN]>::try_from(h).ok())
                else {
                    stats.dropped.inc();
                    return;
                };
                if ipv4::emit_header(
                    header,
                    src,
                    remote,
                    ipv4::PROTOCOL_ESP,
                    self.identification,
                    len,
                )
                .is_none()
                {
                    stats.dropped.inc();
                    return;
                }
                let Some(packet) = buf.get(start..range.end) else {
                    stats.dropped.inc();
                    return;
                };
                self.esp.send(packet).await;
                stats.esp_tx.inc();
            }
            // No RADIUS server is configured in the compiled-in
            // configuration; a RADIUS socket joins the loop with one.
            Destination::Radius { .. } => stats.dropped.inc(),
        }
    }
}

impl Sockets<'_> {
    /// Seals the IPv4 packet at `rx[packet]` (with the gateway's headroom
    /// and tailroom around it) for its client (`handle_ip`) and sends it.
    async fn seal_and_send(
        &mut self,
        gateway: &SharedGateway,
        rx: &mut [u8],
        tx: &mut [u8],
        packet: Range<usize>,
        stats: &Stats,
    ) -> Sealed {
        let sealed = gateway.borrow_mut().handle_ip(now(), rx, packet);
        let Ok(t) = sealed else {
            return Sealed::Refused;
        };
        match t.destination {
            Destination::ClientEsp { .. } => {
                if t.range.len() > MAX_IP_PACKET - ipv4::HEADER_LEN {
                    return Sealed::TooBig;
                }
                // ESP in IP needs its header in front: move the datagram
                // into the transmit buffer, which has room.
                let n = t.range.len();
                let (Some(dst), Some(src)) = (
                    tx.get_mut(ipv4::HEADER_LEN..ipv4::HEADER_LEN + n),
                    rx.get(t.range.clone()),
                ) else {
                    return Sealed::TooBig;
                };
                dst.copy_from_slice(src);
                let range = ipv4::HEADER_LEN..ipv4::HEADER_LEN + n;
                self.send(t.destination, tx, range, stats).await;
            }
            _ => {
                if t.range.len() > MAX_UDP_PAYLOAD {
                    return Sealed::TooBig;
                }
                self.send(t.destination, rx, t.range, stats).await;
            }
        }
        Sealed::Sent
    }
}

/// Logs what the gateway reports.
fn log_event(event: &Event) {
    match event {
        Event::SessionUp {
            index,
            user,
            address,
        } => info!(
            "session {} up: user {} address {}",
            index,
            user.as_str(),
            address
        ),
        Event::SessionDown { index, cause } => {
            info!("session {} down: {:?}", index, cause);
        }
        Event::LoginRefused {
            remote,
            user,
            reason,
        } => warn!(
            "login refused: {} user {} ({:?})",
            remote,
            user.as_str(),
            reason
        ),
        Event::Debug(line) => info!("{}", line.text.as_str()),
        _ => {}
    }
}

/// Drives the gateway forever from the sockets of `stack`: UDP 500, UDP
/// 4500 and a raw IPv4 socket for protocol 50 (ESP). Packets that clients
/// send to the gateway's inside address are answered by [`serve_inside`];
/// packets for other destinations are forwarded to the LAN through `lan`,
/// and the LAN's packets for the pool that `lan` took from the driver are
/// sealed for their clients (or, for the inside address, answered).
///
/// Never panics on what arrives: what the gateway refuses comes back as an
/// error value, which is counted in `stats.dropped`.
#[allow(clippy::too_many_arguments)]
pub async fn run<R: CryptoRng>(
    stack: Stack<'static>,
    gateway: &SharedGateway,
    wake: &Wake,
    rng: &mut R,
    meta: &'static mut VpnMeta,
    bufs: &'static mut VpnBuffers,
    stats: &'static Stats,
    local: Ipv4Addr,
    lan: &'static Lan,
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
    let mut ike = UdpSocket::new(stack, &mut meta.ike_rx, ike_rx, &mut meta.ike_tx, ike_tx);
    let mut nat_t = UdpSocket::new(
        stack,
        &mut meta.nat_t_rx,
        nat_t_rx,
        &mut meta.nat_t_tx,
        nat_t_tx,
    );
    let esp = RawSocket::new(
        stack,
        Some(IpVersion::Ipv4),
        Some(IpProtocol::IpSecEsp),
        &mut meta.esp_rx,
        esp_rx,
        &mut meta.esp_tx,
        esp_tx,
    );
    // Binding a fresh socket to a non-zero port cannot fail.
    if ike.bind(IKE_PORT).is_err() || nat_t.bind(NAT_T_PORT).is_err() {
        warn!("cannot bind UDP 500/4500");
    }
    let mut sockets = Sockets {
        ike,
        nat_t,
        esp,
        stack,
        identification: 0,
    };
    let inside = super::gateway::INSIDE_ADDRESS;
    info!(
        "gateway: listening on UDP {} and {}, IP protocol {}; inside address {}",
        IKE_PORT,
        NAT_T_PORT,
        ipv4::PROTOCOL_ESP,
        inside
    );

    // A packet from the LAN longer than the PPP MRU the gateway asks of
    // clients is not sealed (no ICMP "fragmentation needed" is sent).
    let tunnel_mtu = usize::from(super::gateway::options().mru);

    // Which source is polled first: rotated so that a flood on one port
    // (or from the LAN) cannot starve the others.
    let mut turn: usize = 0;
    loop {
        // Drain: everything the gateway has to send goes out before we wait.
        loop {
            let t = gateway
                .borrow_mut()
                .poll_transmit(now(), rng, &mut tx[ipv4::HEADER_LEN..]);
            let Some(t) = t else { break };
            let range = t.range.start + ipv4::HEADER_LEN..t.range.end + ipv4::HEADER_LEN;
            sockets.send(t.destination, tx, range, stats).await;
        }
        loop {
            let e = gateway.borrow_mut().poll_event();
            let Some(e) = e else { break };
            log_event(&e);
        }

        let deadline = gateway.borrow().poll_timeout();
        let arp_at = lan.with(|f| f.poll_at()).flatten();
        let wake_at = match (deadline, arp_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let receive = poll_fn(|cx| {
            for i in 0..4 {
                let which = (turn + i) % 4;
                let polled = match which {
                    0 => poll_udp(&sockets.ike, IKE_PORT, &mut rx[HEADROOM..], cx),
                    1 => poll_udp(&sockets.nat_t, NAT_T_PORT, &mut rx[HEADROOM..], cx),
                    2 => sockets
                        .esp
                        .poll_recv(&mut rx[ESP_RX_AT..], cx)
                        .map(|r| match r {
                            Ok(len) => Received::Esp { len },
                            Err(raw::RecvError::Truncated) => Received::Dropped,
                        }),
                    _ => lan
                        .poll_downlink(&mut rx[HEADROOM..HEADROOM + MAX_IP_PACKET], cx)
                        .map(|len| Received::Lan { len }),
                };
                if let Poll::Ready(r) = polled {
                    turn = which + 1;
                    return Poll::Ready(r);
                }
            }
            Poll::Pending
        });
        let sleep = async {
            match wake_at {
                Some(at) => {
                    let micros = u64::try_from(at.as_micros()).unwrap_or(u64::MAX);
                    Timer::at(Instant::from_micros(micros)).await;
                }
                None => core::future::pending::<()>().await,
            }
        };

        let delivered = match select3(receive, sleep, wake.wait()).await {
            Either3::First(Received::Udp {
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
                let to = SocketAddrV4::new(local, local_port);
                gateway.borrow_mut().handle_datagram(
                    now(),
                    remote,
                    to,
                    rx,
                    HEADROOM..HEADROOM + len,
                    rng,
                )
            }
            Either3::First(Received::Esp { len }) => {
                stats.esp_rx.inc();
                let parsed = rx
                    .get(ESP_RX_AT..ESP_RX_AT + len)
                    .and_then(|p| ipv4::parse(p, ipv4::PROTOCOL_ESP));
                match parsed {
                    Some((from, range)) => {
                        let range = ESP_RX_AT + range.start..ESP_RX_AT + range.end;
                        gateway.borrow_mut().handle_esp(now(), from, rx, range, rng)
                    }
                    None => {
                        stats.dropped.inc();
                        Ok(None)
                    }
                }
            }
            Either3::First(Received::Lan { len }) => {
                let packet = HEADROOM..HEADROOM + len;
                let answer = rx
                    .get_mut(packet.clone())
                    .and_then(|p| serve_inside(p, inside));
                if let Some(n) = answer {
                    // The LAN pinged the inside address: the answer goes back.
                    stats.inside.inc();
                    if let Some(p) = rx.get(HEADROOM..HEADROOM + n) {
                        lan.uplink(p);
                    }
                } else if len > tunnel_mtu {
                    lan.count(FwdDrop::TooBig);
                } else {
                    match sockets.seal_and_send(gateway, rx, tx, packet, stats).await {
                        Sealed::Sent => lan.count_to_client(),
                        Sealed::TooBig => lan.count(FwdDrop::TooBig),
                        // No client has that address (or its session is not up).
                        Sealed::Refused => lan.count(FwdDrop::NoRoute),
                    }
                }
                Ok(None)
            }
            Either3::First(Received::Dropped) => {
                stats.dropped.inc();
                Ok(None)
            }
            Either3::Second(()) => {
                lan.with(|f| f.poll(now()));
                // The gateway's deadline, if that is what woke us.
                if deadline.is_some() && deadline == wake_at {
                    stats.timeouts.inc();
                    gateway.borrow_mut().handle_timeout(now(), rng);
                }
                Ok(None)
            }
            Either3::Third(()) => Ok(None),
        };

        match delivered {
            Ok(None) => {}
            Err(e) => {
                stats.dropped.inc();
                debug!("dropped: {}", e);
            }
            // An IPv4 packet from a client, in `rx[packet]`.
            Ok(Some(packet)) => {
                let answer = rx
                    .get_mut(packet.clone())
                    .and_then(|p| serve_inside(p, inside));
                let Some(len) = answer else {
                    // Not for the board: to the LAN. The gateway has
                    // checked the source (the client's own address); what
                    // cannot be forwarded is counted by the forwarder.
                    if let Some(p) = rx.get(packet) {
                        lan.uplink(p);
                    }
                    continue;
                };
                stats.inside.inc();
                let answer = packet.start..packet.start + len;
                match sockets.seal_and_send(gateway, rx, tx, answer, stats).await {
                    Sealed::Sent => {}
                    Sealed::TooBig | Sealed::Refused => stats.dropped.inc(),
                }
            }
        }
    }
}
