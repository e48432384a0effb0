//! The forwarder in the driver's path: a [`Driver`] wrapper that takes the
//! LAN's IPv4 frames for the client pool before the network stack sees
//! them, reads ARP on its way to the stack, and sends the frames the
//! forwarder builds (forwarded packets, ARP requests) between the stack's
//! own. Generic over the board's driver, like the rest of the application.
//!
//! The forwarder ([`crate::app::forward::Forwarder`]) is shared between
//! this wrapper (polled by the stack's runner) and the run loop
//! ([`crate::app::vpn::run`]) in [`Lan`]; all of them run in one task and
//! no borrow is held across an `await`. The driver side uses `try_borrow_mut`
//! all the same: a frame arriving while the loop holds the forwarder would
//! go to the stack, never to a panic.
//!
//! A frame the forwarder takes reaches the stack as an empty frame, which
//! smoltcp skips (`Interface::socket_ingress`: `if frame.is_empty()`).

use core::cell::{Cell, RefCell};
use core::task::{Context, Poll};

use embassy_net_driver::{Capabilities, Driver, HardwareAddress, LinkState, RxToken, TxToken};
use embassy_sync::waitqueue::WakerRegistration;

use super::forward::{Counters, Drop, ForwardConfig, Forwarder, Uplink};
use super::stats::Stats;
use super::vpn::now;

/// Frames the forwarder can queue for the driver (forwarded packets and
/// ARP requests): the run loop hands over one packet at a time and the
/// runner sends them before the loop's next wait ends.
pub const TX_FRAMES: usize = 2;
/// Packets from the LAN for clients that can wait for the run loop.
pub const RX_PACKETS: usize = 2;

/// The firmware's forwarder.
pub type FwForwarder = Forwarder<TX_FRAMES, RX_PACKETS>;

/// The forwarder as the driver wrapper and the run loop share it, with
/// the wakers of both sides.
#[derive(Debug)]
pub struct Lan {
    fwd: RefCell<FwForwarder>,
    /// The stack's runner, polled again when there are frames to send.
    runner: RefCell<WakerRegistration>,
    /// The run loop, woken when a packet for a client is queued.
    vpn: RefCell<WakerRegistration>,
    /// Where the counters are published (set by `configure`; a `None` is
    /// zero bytes, so the static costs no flash).
    stats: Cell<Option<&'static Stats>>,
}

impl Lan {
    /// An unconfigured forwarder (takes and sends nothing), for a `static`
    /// (all zero bytes: in `.bss`).
    pub const fn new() -> Self {
        Self {
            fwd: RefCell::new(Forwarder::new()),
            runner: RefCell::new(WakerRegistration::new()),
            vpn: RefCell::new(WakerRegistration::new()),
            stats: Cell::new(None),
        }
    }

    /// Sets the board's addresses and where the counters are published.
    pub fn configure(&self, config: ForwardConfig, stats: &'static Stats) {
        self.stats.set(Some(stats));
        self.with(|f| f.configure(config));
    }

    /// Runs `f` on the forwarder, then publishes its counters to
    /// [`Stats`] and wakes the runner if frames are queued. `None` if the
    /// forwarder is in use (cannot happen: one task, no borrow across an
    /// `await`).
    pub fn with<R>(&self, f: impl FnOnce(&mut FwForwarder) -> R) -> Option<R> {
        let mut fwd = self.fwd.try_borrow_mut().ok()?;
        let r = f(&mut fwd);
        if let Some(stats) = self.stats.get() {
            stats.set_forward(&fwd.counters);
        }
        let queued = !fwd.tx_queue().is_empty();
        drop(fwd);
        if queued && let Ok(mut w) = self.runner.try_borrow_mut() {
            w.wake();
        }
        Some(r)
    }

    /// A client's packet (source already checked by the gateway) for the
    /// LAN. Counted by the forwarder.
    pub fn uplink(&self, packet: &[u8]) -> Option<Result<Uplink, Drop>> {
        let now = now();
        self.with(|f| f.uplink(now, packet))
    }

    /// Counts a packet from the LAN that the run loop could not hand to a
    /// client.
    pub fn count(&self, drop: Drop) {
        self.with(|f| f.counters.count(drop));
    }

    /// Counts a packet from the LAN sealed for a client.
    pub fn count_to_client(&self) {
        self.with(|f| f.counters.to_clients = f.counters.to_clients.wrapping_add(1));
    }

    /// The forwarder's counters.
    pub fn counters(&self) -> Counters {
        self.with(|f| f.counters).unwrap_or_default()
    }

    /// The next packet from the LAN for a client, copied into `out`;
    /// registers the run loop's waker when there is none.
    pub fn poll_downlink(&self, out: &mut [u8], cx: &mut Context<'_>) -> Poll<usize> {
        if let Ok(mut w) = self.vpn.try_borrow_mut() {
            w.register(cx.waker());
        }
        loop {
            match self.with(|f| {
                let q = f.rx_queue();
                if q.is_empty() {
                    None
                } else {
                    Some(q.pop_into(out))
                }
            }) {
                Some(Some(Some(n))) => return Poll::Ready(n),
                // Longer than `out`: dropped (the queue holds at most MAX_FRAME).
                Some(Some(None)) => self.count(Drop::TooBig),
                _ => return Poll::Pending,
            }
        }
    }

    /// Frame received by the driver: taken by the forwarder or not.
    fn receive_frame(&self, frame: &[u8]) -> bool {
        let now = now();
        let Some((taken, queued)) = self.with(|f| {
            let before = f.rx_queue().len();
            let taken = f.receive_frame(now, frame);
            (taken, f.rx_queue().len() > before)
        }) else {
            return false;
        };
        if queued && let Ok(mut w) = self.vpn.try_borrow_mut() {
            w.wake();
        }
        taken
    }
}

/// Wraps the board's driver: see the [module](self).
#[derive(Debug)]
pub struct LanDriver<D> {
    inner: D,
    lan: &'static Lan,
}

impl<D: Driver> LanDriver<D> {
    /// Wraps `inner`, forwarding through `lan`.
    pub fn new(inner: D, lan: &'static Lan) -> Self {
        Self { inner, lan }
    }

    /// Hands the forwarder's queued frames to the driver while it has room.
    fn flush(&mut self, cx: &mut Context<'_>) {
        if let Ok(mut w) = self.lan.runner.try_borrow_mut() {
            w.register(cx.waker());
        }
        let Ok(mut fwd) = self.lan.fwd.try_borrow_mut() else {
            return;
        };
        while let Some(frame) = fwd.tx_queue().front() {
            let Some(token) = self.inner.transmit(cx) else {
                // The driver wakes the runner when it has room again.
                return;
            };
            token.consume(frame.len(), |buf| {
                if let Some(b) = buf.get_mut(..frame.len()) {
                    b.copy_from_slice(frame);
                }
            });
            fwd.tx_queue().pop();
        }
    }
}

/// A received frame; offered to the forwarder when the stack consumes it.
#[derive(Debug)]
pub struct LanRx<T> {
    inner: T,
    lan: &'static Lan,
}

impl<T: RxToken> RxToken for LanRx<T> {
    fn consume<R, F>(self, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        let lan = self.lan;
        self.inner.consume(|frame| {
            if lan.receive_frame(frame) {
                f(&mut [])
            } else {
                f(frame)
            }
        })
    }
}

impl<D: Driver> Driver for LanDriver<D> {
    type RxToken<'a>
        = LanRx<D::RxToken<'a>>
    where
        Self: 'a;
    type TxToken<'a>
        = D::TxToken<'a>
    where
        Self: 'a;

    fn receive(&mut self, cx: &mut Context<'_>) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        self.flush(cx);
        let lan = self.lan;
        self.inner
            .receive(cx)
            .map(|(rx, tx)| (LanRx { inner: rx, lan }, tx))
    }

    fn transmit(&mut self, cx: &mut Context<'_>) -> Option<Self::TxToken<'_>> {
        self.flush(cx);
        self.inner.transmit(cx)
    }

    fn link_state(&mut self, cx: &mut Context<'_>) -> LinkState {
        self.inner.link_state(cx)
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn hardware_address(&self) -> HardwareAddress {
        self.inner.hardware_address()
    }
}

impl Default for Lan {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::forward::{ETHERTYPE_ARP, ETHERTYPE_IPV4, Subnet};
    use crate::app::ipv4;
    use core::net::Ipv4Addr;
    use core::task::Waker;
    use std::collections::VecDeque;

    const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
    const HOST_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x50];
    const ME: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);
    const HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 50);
    const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 10);

    /// A driver with frames to receive and a record of what was sent.
    #[derive(Default)]
    struct Mock {
        rx: VecDeque<Vec<u8>>,
        tx: Vec<Vec<u8>>,
    }
    struct MockRx(Vec<u8>);
    struct MockTx<'a>(&'a mut Vec<Vec<u8>>);

    impl RxToken for MockRx {
        fn consume<R, F: FnOnce(&mut [u8]) -> R>(mut self, f: F) -> R {
            f(&mut self.0)
        }
    }
    impl TxToken for MockTx<'_> {
        fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
            let mut buf = vec![0u8; len];
            let r = f(&mut buf);
            self.0.push(buf);
            r
        }
    }
    impl Driver for Mock {
        type RxToken<'a> = MockRx;
        type TxToken<'a> = MockTx<'a>;
        fn receive(&mut self, _: &mut Context<'_>) -> Option<(MockRx, MockTx<'_>)> {
            let frame = self.rx.pop_front()?;
            Some((MockRx(frame), MockTx(&mut self.tx)))
        }
        fn transmit(&mut self, _: &mut Context<'_>) -> Option<MockTx<'_>> {
            Some(MockTx(&mut self.tx))
        }
        fn link_state(&mut self, _: &mut Context<'_>) -> LinkState {
            LinkState::Up
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities::default()
        }
        fn hardware_address(&self) -> HardwareAddress {
            HardwareAddress::Ethernet(MAC)
        }
    }

    fn frame(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
        [&dst[..], &src[..], &ethertype.to_be_bytes()[..], payload].concat()
    }

    fn ping(src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
        let icmp = [8u8, 0, 0xf7, 0xfe, 0, 1, 0, 0];
        let mut h = [0u8; 20];
        ipv4::emit_header(&mut h, src, dst, 1, 1, icmp.len()).unwrap();
        [&h[..], &icmp[..]].concat()
    }

    /// What the stack sees of the next received frame.
    fn stack_receives(d: &mut LanDriver<Mock>, cx: &mut Context<'_>) -> Option<Vec<u8>> {
        let (rx, _tx) = d.receive(cx)?;
        Some(rx.consume(|f| f.to_vec()))
    }

    #[test]
    fn the_wrapper_takes_the_pool_frames_and_sends_the_forwarders() {
        let stats: &'static Stats = Box::leak(Box::new(Stats::new()));
        let lan: &'static Lan = Box::leak(Box::new(Lan::new()));
        lan.configure(
            ForwardConfig {
                mac: MAC,
                lan: Subnet::new(ME, 24),
                gateway: None,
                pool: Subnet::new(Ipv4Addr::new(10, 77, 0, 0), 24),
            },
            stats,
        );
        let mut d = LanDriver::new(Mock::default(), lan);
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(d.hardware_address(), HardwareAddress::Ethernet(MAC));

        // The host asks for the board: the stack gets the ARP request whole
        // (it answers), and the forwarder learns the host on the way.
        let mut arp = vec![0, 1, 8, 0, 6, 4, 0, 1];
        arp.extend_from_slice(&HOST_MAC);
        arp.extend_from_slice(&HOST.octets());
        arp.extend_from_slice(&[0; 6]);
        arp.extend_from_slice(&ME.octets());
        let request = frame([0xff; 6], HOST_MAC, ETHERTYPE_ARP, &arp);
        d.inner.rx.push_back(request.clone());
        assert_eq!(stack_receives(&mut d, &mut cx), Some(request));

        // The host's packet for a client: the stack gets an empty frame, the
        // loop gets the packet (TTL 63).
        let to_client = ping(HOST, CLIENT);
        d.inner
            .rx
            .push_back(frame(MAC, HOST_MAC, ETHERTYPE_IPV4, &to_client));
        assert_eq!(stack_receives(&mut d, &mut cx), Some(vec![]));
        let mut out = [0u8; 1500];
        assert_eq!(
            lan.poll_downlink(&mut out, &mut cx),
            Poll::Ready(to_client.len())
        );
        assert_eq!(out[8], 63);
        assert!(lan.poll_downlink(&mut out, &mut cx).is_pending());

        // A packet for the board's own address is the stack's.
        let to_me = frame(MAC, HOST_MAC, ETHERTYPE_IPV4, &ping(HOST, ME));
        d.inner.rx.push_back(to_me.clone());
        assert_eq!(stack_receives(&mut d, &mut cx), Some(to_me));

        // A client's packet for the host: out with the next transmit, before
        // the stack's own frame.
        assert_eq!(lan.uplink(&ping(CLIENT, HOST)), Some(Ok(Uplink::Queued)));
        assert!(d.inner.tx.is_empty());
        let token = d.transmit(&mut cx).unwrap();
        token.consume(42, |b| b.fill(0xaa));
        assert_eq!(d.inner.tx.len(), 2);
        assert_eq!(&d.inner.tx[0][..6], &HOST_MAC);
        assert_eq!(
            &d.inner.tx[0][14 + 12..14 + 20],
            &ping(CLIENT, HOST)[12..20]
        );
        assert_eq!(d.inner.tx[1], vec![0xaa; 42]);
        assert_eq!(stats.fwd_to_lan.get(), 1);
    }
}
