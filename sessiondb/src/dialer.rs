//! The client side: one L2TP/IPsec connection to a gateway, composed of the
//! cores' initiator roles (IKE initiator, ESP, L2TP LAC, PPP peer). It is
//! what the simulator runs by the dozen, what `lns connect` runs on a host,
//! and what lets a small device dial into a corporate VPN.
//!
//! Same run loop as the [`Gateway`](crate::gateway::Gateway): feed it
//! datagrams from the server (`handle_datagram`), IPv4 packets for the
//! server's side (`handle_ip`) and timeouts; drain `poll_transmit` and
//! `poll_event`; sleep until `poll_timeout`.

use crate::gateway::inet::{self, L2TP_PORT};
use core::fmt;
use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use core::ops::Range;
use core::time::Duration;
use esp_core::wire::udp_encap::{self, Classification};
use esp_core::{IpProtocol, SaTable, SealError};
use ike_core::Event as IkeEvent;
use ike_core::FailReason;
use ike_core::wire::NotifyType;
use ppp_core::{AuthMethod, DownReason, Ipv4Config};
use rand_core::CryptoRng;

/// What the dialer connects with.
#[derive(Debug, Clone)]
pub struct DialerConfig {
    /// The gateway (its IKE port, normally 500).
    pub server: SocketAddrV4,
    /// Our address and IKE source port as we see them.
    pub local: SocketAddrV4,
    /// IKE proposals, keys and NAT-T behaviour: `ike.initiator` and the
    /// pre-shared key for `server`.
    pub ike: ike_core::Config,
    /// PPP: user, password, methods (`ppp_core::Config::peer`).
    pub ppp: ppp_core::Config,
}

impl DialerConfig {
    /// A Windows-like client (its IKE proposal list) with a pre-shared key
    /// and PPP credentials.
    ///
    /// # Errors
    /// Names or passwords too long for PPP, or a key too long for IKE.
    pub fn windows_like(
        server: SocketAddrV4,
        local: SocketAddrV4,
        psk: &[u8],
        user: &[u8],
        password: &[u8],
    ) -> Result<Self, DialerError> {
        let mut ike = ike_core::Config {
            initiator: ike_core::proposals::windows10(),
            ..ike_core::Config::default()
        };
        let key = ike_core::config::Psk::new(psk).ok_or(DialerError::Config)?;
        ike.pre_shared_keys
            .by_address
            .push((core::net::IpAddr::V4(*server.ip()), key))
            .map_err(|_| DialerError::Config)?;
        let ppp = ppp_core::Config::peer(user, password).map_err(|_| DialerError::Config)?;
        Ok(Self {
            server,
            local,
            ike,
            ppp,
        })
    }

    /// Only `method` for PPP (a client that refuses every other one).
    pub fn with_method(mut self, method: AuthMethod) -> Self {
        self.ppp.auth_methods.clear();
        let _ = self.ppp.auth_methods.push(method);
        self
    }
}

/// Errors of the dialer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DialerError {
    /// The configuration cannot be used.
    Config,
    /// IKE refused to start or refused a datagram.
    Ike(ike_core::Error),
    /// ESP refused a packet.
    Esp(esp_core::OpenError),
    /// L2TP refused a message.
    L2tp(l2tp_core::Error),
    /// A datagram that is not what the port carries.
    Malformed,
    /// Not connected (no SA, tunnel, call or IPCP yet).
    NotUp,
    /// Not enough room around a packet.
    BufferTooSmall,
}

impl fmt::Display for DialerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

impl core::error::Error for DialerError {}

/// What happened to the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DialerEvent {
    /// IKE and Quick Mode are done: IPsec is up.
    IpsecUp,
    /// IPCP Opened: the address and name servers the gateway gave.
    Up(Ipv4Config),
    /// The connection is down; why, as far as the layer that noticed says.
    Down(DownCause),
}

/// Keys of the dialer's ESP SAs (see [`Dialer::esp_keys`]).
pub use crate::gateway::EspKeys;

/// Why the connection went down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DownCause {
    /// IKE failed (wrong key, no proposal, timeout).
    Ike(FailReason),
    /// The gateway deleted the IPsec SA.
    IpsecDeleted,
    /// The L2TP tunnel or call ended.
    L2tp,
    /// PPP went down (authentication failure, terminate, echo timeout).
    Ppp(DownReason),
    /// We hung up.
    Local,
}

/// Where a datagram of the dialer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialerDestination {
    /// UDP from our port `local_port` to the server's `remote`.
    Udp {
        /// Our port (500 or 4500 as IKE floated).
        local_port: u16,
        /// The server.
        remote: SocketAddrV4,
    },
    /// ESP in IP to the server.
    Esp {
        /// The server.
        remote: Ipv4Addr,
    },
}

/// A datagram to send: `buf[range]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialerTransmit {
    /// Where.
    pub destination: DialerDestination,
    /// Which bytes.
    pub range: Range<usize>,
}

#[derive(Debug, Clone, Copy)]
struct Child {
    spi_in: u32,
    inbound: esp_core::Handle,
    outbound: esp_core::Handle,
    remote: SocketAddrV4,
    udp: bool,
}

/// One client connection.
pub struct Dialer {
    server: SocketAddrV4,
    local: SocketAddrV4,
    ike: ike_core::Endpoint<2, 2>,
    ike_sa: Option<ike_core::SaHandle>,
    esp: SaTable<4>,
    child: Option<Child>,
    /// The pair a rekey replaced: it keeps taking inbound packets until
    /// ike-core deletes it after the overlap.
    previous: Option<Child>,
    l2tp: l2tp_core::Endpoint<(), 1, 1>,
    tunnel: Option<l2tp_core::TunnelHandle>,
    call: Option<l2tp_core::SessionHandle>,
    link: ppp_core::Link,
    ipv4: Option<Ipv4Config>,
    events: heapless::Deque<DialerEvent, 8>,
    closing: bool,
    keys: heapless::Vec<EspKeys, 2>,
    /// Main Modes started over after the server forgot ours.
    restarts: u8,
}

/// How many times a Main Mode the server forgot (INVALID-COOKIE while it is
/// still before message 4: a responder that evicted its half-open state
/// under a flood, or restarted) is started over with new cookies before the
/// dialer gives up.
pub const MAX_MAIN_MODE_RESTARTS: u8 = 2;

impl fmt::Debug for Dialer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dialer")
            .field("server", &self.server)
            .field("ipsec", &self.child.is_some())
            .field("ipv4", &self.ipv4)
            .finish_non_exhaustive()
    }
}

impl Dialer {
    /// A dialer, not yet connecting.
    ///
    /// # Errors
    /// [`DialerError::Config`] for a PPP configuration the link refuses.
    pub fn new(config: &DialerConfig) -> Result<Self, DialerError> {
        let link = ppp_core::Link::new(&config.ppp).map_err(|_| DialerError::Config)?;
        Ok(Self {
            server: config.server,
            local: config.local,
            ike: ike_core::Endpoint::new(config.ike.clone()),
            ike_sa: None,
            esp: SaTable::new(),
            child: None,
            previous: None,
            l2tp: l2tp_core::Endpoint::new(l2tp_core::Config::default()),
            tunnel: None,
            call: None,
            link,
            ipv4: None,
            events: heapless::Deque::new(),
            closing: false,
            keys: heapless::Vec::new(),
            restarts: 0,
        })
    }

    /// Starts Main Mode.
    ///
    /// # Errors
    /// IKE's refusal (no proposals, no key).
    pub fn connect(&mut self, now: Duration, rng: &mut impl CryptoRng) -> Result<(), DialerError> {
        let sa = self
            .ike
            .connect(
                now,
                SocketAddr::V4(self.server),
                SocketAddr::V4(self.local),
                rng,
            )
            .map_err(DialerError::Ike)?;
        self.ike_sa = Some(sa);
        Ok(())
    }

    /// The keys of the current ESP SA pair (inbound first), for a capture
    /// file tshark can decrypt. Key material: only for `--pcap` debugging.
    pub fn esp_keys(&self) -> &[EspKeys] {
        &self.keys
    }

    /// The IPv4 configuration once up.
    pub const fn ipv4(&self) -> Option<Ipv4Config> {
        self.ipv4
    }

    /// The PPP link (counters, state).
    pub const fn link(&self) -> &ppp_core::Link {
        &self.link
    }

    /// Hangs up: PPP Terminate, CDN, StopCCN, then the IKE Deletes.
    pub fn disconnect(&mut self, now: Duration, rng: &mut impl CryptoRng) {
        if self.closing {
            return;
        }
        self.closing = true;
        self.link.close(now);
        if let Some(call) = self.call {
            let _ = self
                .l2tp
                .disconnect(call, l2tp_core::Reason::ADMINISTRATIVE);
        }
        if let Some(tunnel) = self.tunnel {
            let _ = self
                .l2tp
                .close_tunnel(now, tunnel, l2tp_core::Reason::CLEAR);
        }
        self.pump(now, rng);
    }

    /// Deletes the IPsec and ISAKMP SAs (after `disconnect` drained).
    pub fn delete_sas(&mut self, now: Duration, rng: &mut impl CryptoRng) {
        for child in [self.previous.take(), self.child.take()]
            .into_iter()
            .flatten()
        {
            if let Some(sa) = self.ike_sa {
                let _ = self.ike.delete_child_sa(now, sa, child.spi_in, rng);
            }
            let _ = self.esp.remove(child.inbound);
            let _ = self.esp.remove(child.outbound);
        }
        if let Some(sa) = self.ike_sa.take() {
            let _ = self.ike.delete_sa(now, sa, rng);
        }
        self.pump(now, rng);
    }

    /// A datagram from the server at `buf[range]`, received on our
    /// `local_port`. Returns the range of an IPv4 packet for us, if it
    /// carried one.
    ///
    /// # Errors
    /// Why the datagram was dropped.
    pub fn handle_datagram(
        &mut self,
        now: Duration,
        from: SocketAddrV4,
        local_port: u16,
        buf: &mut [u8],
        range: Range<usize>,
        rng: &mut impl CryptoRng,
    ) -> Result<Option<Range<usize>>, DialerError> {
        let local = SocketAddr::V4(SocketAddrV4::new(*self.local.ip(), local_port));
        let datagram = buf.get(range.clone()).ok_or(DialerError::Malformed)?;
        let r = if local_port == 500 {
            let d = buf.get_mut(range).ok_or(DialerError::Malformed)?;
            self.ike
                .handle_datagram(now, SocketAddr::V4(from), local, d, rng)
                .map(|()| None)
                .map_err(DialerError::Ike)
        } else {
            match udp_encap::classify(datagram) {
                Ok(Classification::NatKeepalive) => Ok(None),
                Ok(Classification::Ike) => {
                    let d = buf
                        .get_mut(range.start + Classification::Ike.payload_offset()..range.end)
                        .ok_or(DialerError::Malformed)?;
                    self.ike
                        .handle_datagram(now, SocketAddr::V4(from), local, d, rng)
                        .map(|()| None)
                        .map_err(DialerError::Ike)
                }
                Ok(Classification::Esp) => self.esp_in(now, buf, range, rng),
                Err(_) => Err(DialerError::Malformed),
            }
        };
        self.pump(now, rng);
        r
    }

    /// ESP in IP from the server, at `buf[range]` (no IP header).
    ///
    /// # Errors
    /// Why the packet was dropped.
    pub fn handle_esp(
        &mut self,
        now: Duration,
        buf: &mut [u8],
        range: Range<usize>,
        rng: &mut impl CryptoRng,
    ) -> Result<Option<Range<usize>>, DialerError> {
        let r = self.esp_in(now, buf, range, rng);
        self.pump(now, rng);
        r
    }

    fn esp_in(
        &mut self,
        now: Duration,
        buf: &mut [u8],
        range: Range<usize>,
        rng: &mut impl CryptoRng,
    ) -> Result<Option<Range<usize>>, DialerError> {
        let base = range.start;
        let packet = buf.get_mut(range).ok_or(DialerError::Malformed)?;
        let (_, opened) = self.esp.open(now, packet).map_err(DialerError::Esp)?;
        if opened.next_header != IpProtocol::Udp {
            return Err(DialerError::Malformed);
        }
        let payload = base + opened.payload.start..base + opened.payload.end;
        let udp = inet::parse_udp(buf, payload).ok_or(DialerError::Malformed)?;
        let message = buf
            .get_mut(udp.payload.clone())
            .ok_or(DialerError::Malformed)?;
        let received = self
            .l2tp
            .handle_datagram(now, (), message, rng)
            .map_err(DialerError::L2tp)?;
        let l2tp_core::Received::Data { payload, .. } = received else {
            return Ok(None);
        };
        let frame = udp.payload.start + payload.start..udp.payload.start + payload.end;
        let bytes = buf.get_mut(frame.clone()).ok_or(DialerError::Malformed)?;
        match self.link.handle_frame(now, bytes, rng) {
            Ok(ppp_core::Received::Ipv4(r)) => Ok(Some(frame.start + r.start..frame.start + r.end)),
            _ => Ok(None),
        }
    }

    /// An IPv4 packet to send through the connection, at `buf[range]` with
    /// headroom and tailroom as the gateway's; sealed in place.
    ///
    /// # Errors
    /// [`DialerError::NotUp`] before IPCP is Opened;
    /// [`DialerError::Malformed`] for anything but a whole IPv4 packet (IPCP
    /// negotiated IPv4 only; an IPv6 packet from a host's TUN must not
    /// leave as a PPP IPv4 frame).
    pub fn handle_ip(
        &mut self,
        now: Duration,
        buf: &mut [u8],
        range: Range<usize>,
    ) -> Result<DialerTransmit, DialerError> {
        let summary = buf
            .get(range.clone())
            .and_then(inet::ipv4_summary)
            .ok_or(DialerError::Malformed)?;
        // As the gateway's: the packet is what its header says.
        let range = range.start..range.start + summary.total_len;
        let frame = self
            .link
            .encapsulate_ipv4(now, buf, range)
            .map_err(|_| DialerError::NotUp)?;
        self.frame_out(now, buf, frame)
    }

    /// Sends the caller's own L2TP message at `buf[message]` through the
    /// IPsec SA (UDP 1701 to 1701, RFC 3193 §4), bypassing the dialer's
    /// L2TP state: for tests and tools that put crafted L2TP in front of a
    /// gateway from inside a valid SA.
    ///
    /// # Errors
    /// [`DialerError::NotUp`] without an IPsec SA,
    /// [`DialerError::BufferTooSmall`] without room around the message.
    pub fn send_raw_l2tp(
        &mut self,
        now: Duration,
        buf: &mut [u8],
        message: Range<usize>,
    ) -> Result<DialerTransmit, DialerError> {
        self.seal(now, buf, message, L2TP_PORT, L2TP_PORT)
    }

    /// Sends `buf[payload]` as a UDP datagram from `src_port` to `dst_port`
    /// through the IPsec SA: for tests that put something other than L2TP
    /// under a valid transport-mode SA (the SA's traffic selector is UDP
    /// 1701, RFC 3193 §4, which the gateway enforces after decryption).
    ///
    /// # Errors
    /// As [`Dialer::send_raw_l2tp`].
    pub fn send_raw_udp(
        &mut self,
        now: Duration,
        buf: &mut [u8],
        payload: Range<usize>,
        src_port: u16,
        dst_port: u16,
    ) -> Result<DialerTransmit, DialerError> {
        self.seal(now, buf, payload, src_port, dst_port)
    }

    fn frame_out(
        &mut self,
        now: Duration,
        buf: &mut [u8],
        frame: Range<usize>,
    ) -> Result<DialerTransmit, DialerError> {
        let call = self.call.ok_or(DialerError::NotUp)?;
        let (_, message) = self
            .l2tp
            .send_data(now, call, buf, frame)
            .map_err(DialerError::L2tp)?;
        self.seal(now, buf, message, L2TP_PORT, L2TP_PORT)
    }

    fn seal(
        &mut self,
        now: Duration,
        buf: &mut [u8],
        message: Range<usize>,
        src_port: u16,
        dst_port: u16,
    ) -> Result<DialerTransmit, DialerError> {
        let child = self.child.ok_or(DialerError::NotUp)?;
        let datagram = inet::write_udp(buf, message, src_port, dst_port, None)
            .ok_or(DialerError::BufferTooSmall)?;
        let sealed = self
            .esp
            .seal(now, child.outbound, buf, datagram, IpProtocol::Udp)
            .map_err(|e| match e {
                SealError::BufferTooSmall { .. } | SealError::BadRange => {
                    DialerError::BufferTooSmall
                }
                _ => DialerError::NotUp,
            })?;
        let destination = if child.udp {
            DialerDestination::Udp {
                local_port: 4500,
                remote: child.remote,
            }
        } else {
            DialerDestination::Esp {
                remote: *child.remote.ip(),
            }
        };
        Ok(DialerTransmit {
            destination,
            range: sealed,
        })
    }

    /// The next datagram to send, written into `buf` (at least 2,048 bytes).
    pub fn poll_transmit(&mut self, now: Duration, buf: &mut [u8]) -> Option<DialerTransmit> {
        if let Ok(Some(t)) = self.ike.poll_transmit(now, buf) {
            let (SocketAddr::V4(remote), SocketAddr::V4(local)) = (t.remote, t.local) else {
                return None;
            };
            return Some(DialerTransmit {
                destination: DialerDestination::Udp {
                    local_port: local.port(),
                    remote,
                },
                range: 0..t.len,
            });
        }
        let headroom = crate::gateway::HEADROOM;
        let room = buf.len().saturating_sub(crate::gateway::TAILROOM);
        for _ in 0..4 {
            let area = buf.get_mut(headroom..room)?;
            match self.l2tp.poll_transmit(now, area) {
                Ok(Some(t)) => {
                    if let Ok(t) =
                        self.seal(now, buf, headroom..headroom + t.len, L2TP_PORT, L2TP_PORT)
                    {
                        return Some(t);
                    }
                }
                _ => break,
            }
        }
        for _ in 0..4 {
            let area = buf.get_mut(headroom..room)?;
            let Ok(Some(n)) = self.link.poll_transmit(now, area) else {
                break;
            };
            if let Ok(t) = self.frame_out(now, buf, headroom..headroom + n) {
                return Some(t);
            }
        }
        None
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<DialerEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due.
    pub fn poll_timeout(&self) -> Option<Duration> {
        [
            self.ike.poll_timeout(),
            self.esp.poll_timeout(),
            self.l2tp.poll_timeout(),
            self.link.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Runs what is due.
    pub fn handle_timeout(&mut self, now: Duration, rng: &mut impl CryptoRng) {
        self.ike.handle_timeout(now, rng);
        self.esp.handle_timeout(now);
        self.l2tp.handle_timeout(now);
        self.link.handle_timeout(now, rng);
        self.pump(now, rng);
    }

    fn pump(&mut self, now: Duration, rng: &mut impl CryptoRng) {
        for _ in 0..16 {
            let mut any = false;
            while let Some(e) = self.ike.poll_event() {
                any = true;
                self.on_ike(now, e, rng);
            }
            while let Some(e) = self.l2tp.poll_event() {
                any = true;
                self.on_l2tp(now, e, rng);
            }
            while let Some(e) = self.link.poll_event() {
                any = true;
                match e {
                    ppp_core::Event::NetworkUp(cfg) => {
                        self.ipv4 = Some(cfg);
                        let _ = self.events.push_back(DialerEvent::Up(cfg));
                    }
                    ppp_core::Event::Down(reason) => {
                        self.ipv4 = None;
                        let _ = self
                            .events
                            .push_back(DialerEvent::Down(DownCause::Ppp(reason)));
                    }
                    _ => {}
                }
            }
            while self.esp.poll_event().is_some() {}
            if !any {
                break;
            }
        }
    }

    fn on_ike(&mut self, now: Duration, event: IkeEvent, rng: &mut impl CryptoRng) {
        match event {
            IkeEvent::SpiNeeded { request, .. } => {
                if let Ok((_, spi)) = self.esp.reserve_spi(now, rng) {
                    let _ = self.ike.provide_spi(now, request, spi, rng);
                }
            }
            IkeEvent::ChildSaNegotiated(child) => {
                let Some(algorithms) = crate::gateway::esp_algorithms(&child) else {
                    return;
                };
                let inbound = crate::gateway::esp_config(&child, &child.keys_in, algorithms, 128);
                let outbound = crate::gateway::esp_config(&child, &child.keys_out, algorithms, 128);
                let (udp, remote_port) = match child.encapsulation {
                    ike_core::Encapsulation::UdpTransport { remote_port, .. } => {
                        (true, remote_port)
                    }
                    ike_core::Encapsulation::Transport => (false, 0),
                };
                let Some(h_in) = self.esp.lookup_reserved(child.spi_in) else {
                    return;
                };
                if self.esp.install_inbound(now, h_in, &inbound).is_err() {
                    return;
                }
                let Ok(h_out) = self.esp.insert_outbound(now, child.spi_out, &outbound, rng) else {
                    return;
                };
                let SocketAddr::V4(remote) = child.remote else {
                    return;
                };
                // A rekey: the old pair stays for inbound packets in flight
                // (one older than that is gone).
                if let Some(old) = self.previous.take() {
                    let _ = self.esp.remove(old.inbound);
                    let _ = self.esp.remove(old.outbound);
                }
                self.previous = self.child.take();
                self.child = Some(Child {
                    spi_in: child.spi_in,
                    inbound: h_in,
                    outbound: h_out,
                    remote: if udp {
                        SocketAddrV4::new(*remote.ip(), remote_port)
                    } else {
                        remote
                    },
                    udp,
                });
                self.keys.clear();
                let _ = self
                    .keys
                    .push(EspKeys::of(child.spi_in, true, algorithms, &child.keys_in));
                let _ = self.keys.push(EspKeys::of(
                    child.spi_out,
                    false,
                    algorithms,
                    &child.keys_out,
                ));
                let _ = self.events.push_back(DialerEvent::IpsecUp);
                if self.tunnel.is_none() && !self.closing {
                    self.tunnel = self.l2tp.connect(now, (), rng).ok();
                }
            }
            // The server forgot our Main Mode (RFC 2408 §5.3: INVALID-COOKIE
            // for cookies it does not know): start over, a few times. The
            // Notify is unprotected, so at worst a forged one costs a new
            // Main Mode.
            IkeEvent::Phase1Failed {
                reason: FailReason::PeerNotify(NotifyType::InvalidCookie),
                ..
            } if !self.closing && self.restarts < MAX_MAIN_MODE_RESTARTS => {
                self.restarts += 1;
                if self.connect(now, rng).is_err() {
                    let _ = self.events.push_back(DialerEvent::Down(DownCause::Ike(
                        FailReason::PeerNotify(NotifyType::InvalidCookie),
                    )));
                }
            }
            IkeEvent::Phase1Failed { reason, .. } | IkeEvent::ChildSaFailed { reason, .. } => {
                let _ = self
                    .events
                    .push_back(DialerEvent::Down(DownCause::Ike(reason)));
            }
            IkeEvent::ChildSaDeleted { spi_in, .. } => {
                // The replaced pair at the end of a rekey's overlap.
                if let Some(old) = self.previous.filter(|c| c.spi_in == spi_in) {
                    self.previous = None;
                    let _ = self.esp.remove(old.inbound);
                    let _ = self.esp.remove(old.outbound);
                    return;
                }
                if let Some(c) = self.child.take() {
                    let _ = self.esp.remove(c.inbound);
                    let _ = self.esp.remove(c.outbound);
                }
                let _ = self
                    .events
                    .push_back(DialerEvent::Down(DownCause::IpsecDeleted));
            }
            // A phase 1 rekey: the new ISAKMP SA is the one to delete.
            IkeEvent::Phase1Established { sa, info }
                if info.replaces.is_some() && info.replaces == self.ike_sa =>
            {
                self.ike_sa = Some(sa);
            }
            _ => {}
        }
    }

    fn on_l2tp(&mut self, now: Duration, event: l2tp_core::Event<()>, rng: &mut impl CryptoRng) {
        match event {
            l2tp_core::Event::TunnelUp { tunnel, .. } => {
                self.tunnel = Some(tunnel);
                if self.call.is_none() && !self.closing {
                    self.call = self.l2tp.place_call(now, tunnel, rng).ok();
                }
            }
            l2tp_core::Event::SessionUp { session, .. } => {
                self.call = Some(session);
                self.link.open(now, rng);
            }
            l2tp_core::Event::SessionDown { .. } => {
                self.call = None;
                self.link.lower_down(now);
                let _ = self.events.push_back(DialerEvent::Down(DownCause::L2tp));
            }
            l2tp_core::Event::TunnelDown { .. } => {
                self.tunnel = None;
                self.call = None;
            }
            _ => {}
        }
    }
}
