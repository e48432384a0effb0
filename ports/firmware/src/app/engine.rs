//! The seam between the firmware and the VPN gateway.
//!
//! [`Engine`] is the sans-IO surface the firmware drives (docs/ARCHITECTURE.md
//! section 2): inputs go in through `handle_*`, output comes out of
//! [`Engine::poll_transmit`], and [`Engine::poll_timeout`] says when to call
//! [`Engine::handle_timeout`]. The loop that drives it is
//! [`crate::app::vpn::run`], and it is the only place that does.
//!
//! Until the gateway of the `sessiondb` crate lands, the engine is
//! [`EchoPlaceholder`]: it echoes every UDP datagram back to its sender and
//! counts ESP packets. It is placeholder traffic, not a protocol. When the
//! gateway lands it implements `Engine` (or `vpn::run` calls it directly with
//! the same verbs) and `EchoPlaceholder` is deleted.

use core::net::{Ipv4Addr, SocketAddrV4};
use core::time::Duration;

use rand_core::CryptoRng;

/// The largest UDP payload that fits one Ethernet frame without IPv4
/// fragmentation (1500 - 20 - 8). embassy-net leaves fragmentation off, so a
/// larger datagram never arrives and must never be sent.
pub const MAX_UDP_PAYLOAD: usize = 1472;

/// The largest IPv4 packet that fits one Ethernet frame.
pub const MAX_IP_PACKET: usize = 1500;

/// Where an outgoing datagram goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Route {
    /// A UDP datagram from our port `local_port` (500 or 4500) to `remote`.
    Udp {
        /// Our source port: 500 (IKE) or 4500 (NAT-T).
        local_port: u16,
        /// The peer's address and port.
        remote: SocketAddrV4,
    },
    /// An ESP packet (IP protocol 50) to `remote`; the caller adds the IPv4
    /// header in the headroom in front of the buffer.
    Esp {
        /// The peer's address.
        remote: Ipv4Addr,
    },
}

/// One datagram written by [`Engine::poll_transmit`] into the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Transmit {
    /// Where it goes.
    pub route: Route,
    /// How many bytes at the start of the buffer it occupies.
    pub len: usize,
}

/// The sans-IO VPN engine as the firmware sees it: the shape of the
/// `sessiondb` gateway's run loop (docs/ARCHITECTURE.md section 2).
///
/// No method blocks, performs I/O or reads a clock; `now` is the time since
/// boot. After any `handle_*` the caller drains `poll_transmit` until `None`,
/// then sleeps until `poll_timeout` or the next datagram.
pub trait Engine {
    /// A UDP datagram arrived on `local_port` (500 or 4500) from `remote`.
    /// `datagram` is the UDP payload (for port 4500 with the RFC 3948
    /// non-ESP marker still on), writable so that ESP can be opened in place.
    fn handle_udp(
        &mut self,
        now: Duration,
        local_port: u16,
        remote: SocketAddrV4,
        datagram: &mut [u8],
        rng: &mut impl CryptoRng,
    );

    /// An ESP packet (IP protocol 50, RFC 4303) arrived from `remote`;
    /// `packet` starts at the SPI (the IPv4 header is already stripped).
    fn handle_esp(
        &mut self,
        now: Duration,
        remote: Ipv4Addr,
        packet: &mut [u8],
        rng: &mut impl CryptoRng,
    );

    /// The deadline of [`poll_timeout`](Self::poll_timeout) has passed.
    fn handle_timeout(&mut self, now: Duration, rng: &mut impl CryptoRng);

    /// Writes the next outgoing datagram into `buf` and says where it goes,
    /// or `None` when nothing is queued.
    fn poll_transmit(&mut self, now: Duration, buf: &mut [u8]) -> Option<Transmit>;

    /// When [`handle_timeout`](Self::handle_timeout) is due next, if ever.
    fn poll_timeout(&self) -> Option<Duration>;
}

/// **Placeholder traffic until the gateway lands.** Echoes each UDP datagram
/// received on 500 or 4500 back to its sender, from the port it came in on,
/// and counts ESP packets without answering them.
///
/// It holds at most one pending echo: the run loop drains `poll_transmit`
/// after every input, so a second datagram can only find the slot taken if
/// the caller breaks the contract; it is then dropped and counted.
#[derive(Debug)]
pub struct EchoPlaceholder {
    pending: Option<(u16, SocketAddrV4, usize)>,
    buf: [u8; MAX_UDP_PAYLOAD],
    /// ESP packets seen (and dropped: nothing here can open them).
    pub esp_seen: u32,
    /// Datagrams not echoed because one was already pending or the output
    /// buffer was too small.
    pub dropped: u32,
}

impl EchoPlaceholder {
    /// An echo with nothing pending.
    pub const fn new() -> Self {
        Self {
            pending: None,
            buf: [0; MAX_UDP_PAYLOAD],
            esp_seen: 0,
            dropped: 0,
        }
    }
}

impl Default for EchoPlaceholder {
    fn default() -> Self {
        Self::new()
    }
}

impl Engine for EchoPlaceholder {
    fn handle_udp(
        &mut self,
        _now: Duration,
        local_port: u16,
        remote: SocketAddrV4,
        datagram: &mut [u8],
        _rng: &mut impl CryptoRng,
    ) {
        if self.pending.is_some() || datagram.len() > self.buf.len() {
            self.dropped = self.dropped.wrapping_add(1);
            return;
        }
        self.buf[..datagram.len()].copy_from_slice(datagram);
        self.pending = Some((local_port, remote, datagram.len()));
    }

    fn handle_esp(
        &mut self,
        _now: Duration,
        _remote: Ipv4Addr,
        _packet: &mut [u8],
        _rng: &mut impl CryptoRng,
    ) {
        self.esp_seen = self.esp_seen.wrapping_add(1);
    }

    fn handle_timeout(&mut self, _now: Duration, _rng: &mut impl CryptoRng) {}

    fn poll_transmit(&mut self, _now: Duration, buf: &mut [u8]) -> Option<Transmit> {
        let (local_port, remote, len) = self.pending.take()?;
        let Some(out) = buf.get_mut(..len) else {
            self.dropped = self.dropped.wrapping_add(1);
            return None;
        };
        out.copy_from_slice(&self.buf[..len]);
        Some(Transmit {
            route: Route::Udp { local_port, remote },
            len,
        })
    }

    fn poll_timeout(&self) -> Option<Duration> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic RNG; the placeholder never draws from it.
    struct Zero;
    impl rand_core::TryRng for Zero {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(0)
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            Ok(0)
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            dst.fill(0);
            Ok(())
        }
    }
    impl rand_core::TryCryptoRng for Zero {}

    const PEER: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 2, 2), 40000);

    #[test]
    fn echoes_from_the_port_it_arrived_on() {
        let mut e = EchoPlaceholder::new();
        let mut data = *b"\x00\x00\x00\x00isakmp";
        e.handle_udp(Duration::ZERO, 4500, PEER, &mut data, &mut Zero);
        assert_eq!(e.poll_timeout(), None);
        let mut out = [0u8; 64];
        let t = e.poll_transmit(Duration::ZERO, &mut out).unwrap();
        assert_eq!(
            t,
            Transmit {
                route: Route::Udp {
                    local_port: 4500,
                    remote: PEER
                },
                len: 10
            }
        );
        assert_eq!(&out[..t.len], b"\x00\x00\x00\x00isakmp");
        assert_eq!(e.poll_transmit(Duration::ZERO, &mut out), None, "drained");
    }

    #[test]
    fn a_second_datagram_before_draining_is_dropped_and_counted() {
        let mut e = EchoPlaceholder::new();
        e.handle_udp(Duration::ZERO, 500, PEER, &mut [1, 2, 3], &mut Zero);
        e.handle_udp(Duration::ZERO, 500, PEER, &mut [4, 5, 6], &mut Zero);
        assert_eq!(e.dropped, 1);
        let mut out = [0u8; 8];
        let t = e.poll_transmit(Duration::ZERO, &mut out).unwrap();
        assert_eq!(&out[..t.len], &[1, 2, 3], "the first one is kept");
    }

    #[test]
    fn too_small_an_output_buffer_drops_instead_of_panicking() {
        let mut e = EchoPlaceholder::new();
        e.handle_udp(Duration::ZERO, 500, PEER, &mut [7; 100], &mut Zero);
        assert_eq!(e.poll_transmit(Duration::ZERO, &mut [0u8; 10]), None);
        assert_eq!(e.dropped, 1);
        let mut big = [0u8; MAX_UDP_PAYLOAD + 1];
        e.handle_udp(Duration::ZERO, 500, PEER, &mut big, &mut Zero);
        assert_eq!(e.dropped, 2, "larger than any unfragmented datagram");
    }

    #[test]
    fn esp_is_counted_not_answered() {
        let mut e = EchoPlaceholder::new();
        e.handle_esp(Duration::ZERO, *PEER.ip(), &mut [0; 32], &mut Zero);
        e.handle_esp(Duration::ZERO, *PEER.ip(), &mut [0; 32], &mut Zero);
        assert_eq!(e.esp_seen, 2);
        assert_eq!(e.poll_transmit(Duration::ZERO, &mut [0u8; 64]), None);
    }
}
