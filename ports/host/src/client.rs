//! `lns connect`: a userspace L2TP/IPsec client for Linux, the project's
//! own client roles ([`Dialer`]) over UDP 500/4500, a raw ESP socket and a
//! TUN device that takes the address the gateway assigns.
//!
//! Same event loop as the server (see [`crate::server`]): batched
//! receive, drain after every control datagram, TUN packets sealed in
//! place in the send batch. SIGINT/SIGTERM hang up properly: PPP
//! Terminate, CDN and StopCCN go out through ESP, then the IKE Deletes.

use crate::Clock;
use crate::cli::{ConnectArgs, mask_of};
use crate::pcap::Capture;
use crate::sys::{self, Batch, HEADROOM, PollFd, RawEsp, Signals, TAILROOM, Tun};
use ppp_core::Ipv4Config;
use rand_chacha::ChaCha20Rng;
use sessiondb::dialer::{Dialer, DialerConfig, DialerDestination, DialerEvent, DownCause};
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

/// Datagrams per batch.
const BATCH: usize = 64;

/// How the client ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Hung up on a signal after being connected.
    HungUp,
    /// The connection did not come up in time, or went down.
    Failed,
}

/// Our address towards `server`: the one the routing table picks.
///
/// # Errors
/// No route to the server.
pub fn local_address_towards(server: Ipv4Addr) -> io::Result<Ipv4Addr> {
    let probe = UdpSocket::bind("0.0.0.0:0")?;
    probe.connect(SocketAddrV4::new(server, 500))?;
    match probe.local_addr()? {
        std::net::SocketAddr::V4(a) => Ok(*a.ip()),
        std::net::SocketAddr::V6(_) => Err(io::Error::other("no IPv4 route")),
    }
}

struct Client {
    dialer: Dialer,
    rng: ChaCha20Rng,
    clock: Clock,
    ike: UdpSocket,
    natt: UdpSocket,
    esp: Option<RawEsp>,
    tun: Tun,
    rx: Batch,
    tx: Batch,
    local: Ipv4Addr,
    server: Ipv4Addr,
    capture: Option<Capture>,
    signals: Signals,
    args: ConnectArgs,
    up: Option<Ipv4Config>,
    closing: Option<(Duration, bool)>,
    failed: bool,
}

/// Runs `lns connect` until the connection fails or a signal hangs up.
///
/// # Errors
/// A message for the operator (privilege, socket, configuration).
pub fn run(args: ConnectArgs, signals: Signals) -> Result<Outcome, String> {
    let local = match args.local {
        Some(a) => a,
        None => local_address_towards(args.server)
            .map_err(|e| format!("no route to {}: {e}", args.server))?,
    };
    let bind = |port: u16| -> Result<UdpSocket, String> {
        let s = UdpSocket::bind(SocketAddrV4::new(local, port)).map_err(|e| {
            let hint = if e.kind() == io::ErrorKind::PermissionDenied {
                " (ports below 1024 need CAP_NET_BIND_SERVICE)"
            } else {
                ""
            };
            format!("UDP {local}:{port}: {e}{hint}")
        })?;
        sys::prepare_udp(&s).map_err(|e| e.to_string())?;
        Ok(s)
    };
    let ike = bind(500)?;
    let natt = bind(4500)?;
    let esp = match RawEsp::open() {
        Ok(s) => Some(s),
        Err(e) => {
            log::warn!("{e}: without a NAT on the way, the server's ESP cannot be received");
            None
        }
    };
    let tun = Tun::open(&args.tun).map_err(|e| e.to_string())?;
    let mut config = DialerConfig::windows_like(
        SocketAddrV4::new(args.server, 500),
        SocketAddrV4::new(local, 500),
        args.psk.as_bytes(),
        args.user.as_bytes(),
        args.password.as_bytes(),
    )
    .map_err(|e| format!("credentials: {e}"))?;
    // The appliance's default SA lifetime, so that a long transfer does not
    // outlive the kilobyte limit of a Windows proposal.
    config.ike.initiator.esp_lifetime = ike_core::config::IpsecLifetime {
        seconds: 28_800,
        kilobytes: 4_608_000,
    };
    if let Some(m) = args.auth {
        config = config.with_method(m);
    }
    let dialer = Dialer::new(&config).map_err(|e| format!("configuration: {e}"))?;
    let capture = match &args.pcap {
        Some(p) => Some(Capture::create(p).map_err(|e| format!("{}: {e}", p.display()))?),
        None => None,
    };
    let mut client = Client {
        dialer,
        rng: crate::system_rng().map_err(|e| format!("getrandom: {e}"))?,
        clock: Clock::new(),
        ike,
        natt,
        esp,
        tun,
        rx: Batch::new(BATCH),
        tx: Batch::new(BATCH),
        local,
        server: args.server,
        capture,
        signals,
        args,
        up: None,
        closing: None,
        failed: false,
    };
    log::info!(
        "connecting from {local} to {} as {:?}",
        client.server,
        client.args.user
    );
    let now = client.clock.now();
    client
        .dialer
        .connect(now, &mut client.rng)
        .map_err(|e| format!("connect: {e}"))?;
    Ok(client.run())
}

impl Client {
    fn run(&mut self) -> Outcome {
        let deadline = self.clock.now() + self.args.timeout;
        loop {
            let now = self.clock.now();
            if self.dialer.poll_timeout().is_some_and(|t| t <= now) {
                self.dialer.handle_timeout(now, &mut self.rng);
            }
            self.drain(now);
            self.flush();
            if self.up.is_none() && self.closing.is_none() && now >= deadline {
                log::error!("no connection after {} s", self.args.timeout.as_secs());
                self.failed = true;
                self.hang_up(now);
            }
            if let Some((until, sas_deleted)) = self.closing {
                if !sas_deleted && now >= until {
                    self.dialer.delete_sas(now, &mut self.rng);
                    self.drain(now);
                    self.flush();
                    self.closing = Some((now + Duration::from_millis(300), true));
                } else if sas_deleted && now >= until {
                    return if self.failed {
                        Outcome::Failed
                    } else {
                        Outcome::HungUp
                    };
                }
            }

            let mut fds = [
                PollFd::new(self.ike.as_raw_fd(), libc::POLLIN),
                PollFd::new(self.natt.as_raw_fd(), libc::POLLIN),
                PollFd::new(self.tun.fd(), libc::POLLIN),
                PollFd::new(self.signals.fd(), libc::POLLIN),
                PollFd::new(self.esp.as_ref().map_or(-1, RawEsp::fd), libc::POLLIN),
            ];
            let now = self.clock.now();
            let mut timeout = self.dialer.poll_timeout().map(|t| t.saturating_sub(now));
            let tick = Duration::from_millis(100);
            timeout = Some(timeout.map_or(tick, |t| t.min(tick)));
            if let Err(e) = sys::poll(&mut fds, timeout) {
                log::error!("poll: {e}");
                return Outcome::Failed;
            }
            let now = self.clock.now();
            if fds[3].readable() {
                while let Some(sig) = self.signals.take() {
                    if self.closing.is_some() {
                        log::warn!("second signal {sig}: exiting at once");
                        std::process::exit(1);
                    }
                    log::info!("signal {sig}: hanging up");
                    self.hang_up(now);
                }
            }
            if fds[1].readable() {
                self.udp_in(now, 4500);
            }
            if fds[0].readable() {
                self.udp_in(now, 500);
            }
            if fds[4].readable() {
                self.esp_in(now);
            }
            if fds[2].readable() {
                self.tun_in(now);
            }
        }
    }

    /// PPP Terminate, CDN and StopCCN now; the IKE Deletes a little later,
    /// once those have left through ESP.
    fn hang_up(&mut self, now: Duration) {
        if self.closing.is_some() {
            return;
        }
        let wait = if self.up.is_some() {
            Duration::from_secs(2)
        } else {
            Duration::ZERO
        };
        // Closing first: the Down events the hang-up itself causes are
        // expected, not failures.
        self.closing = Some((now + wait, false));
        self.dialer.disconnect(now, &mut self.rng);
        self.drain(now);
        self.flush();
    }

    fn route(&self, d: DialerDestination) -> Option<(RawFd, SocketAddrV4)> {
        match d {
            DialerDestination::Udp { local_port, remote } => {
                let s = if local_port == 500 {
                    &self.ike
                } else {
                    &self.natt
                };
                Some((s.as_raw_fd(), remote))
            }
            DialerDestination::Esp { remote } => self
                .esp
                .as_ref()
                .map(|s| (s.fd(), SocketAddrV4::new(remote, 0))),
        }
    }

    fn commit(&mut self, d: DialerDestination, range: std::ops::Range<usize>) {
        let Some((fd, to)) = self.route(d) else {
            return;
        };
        if let (Some(c), Some(buf)) = (self.capture.as_mut(), self.tx.next_buffer()) {
            match d {
                DialerDestination::Udp { local_port, .. } => {
                    c.udp(
                        SocketAddrV4::new(self.local, local_port),
                        to,
                        &buf[range.clone()],
                    );
                }
                DialerDestination::Esp { remote } => c.esp(self.local, remote, &buf[range.clone()]),
            }
        }
        self.tx.commit(fd, to, range);
    }

    fn drain(&mut self, now: Duration) {
        loop {
            if self.tx.is_full() {
                self.flush();
            }
            let Some(buf) = self.tx.next_buffer() else {
                break;
            };
            let Some(t) = self.dialer.poll_transmit(now, buf) else {
                break;
            };
            self.commit(t.destination, t.range);
        }
        while let Some(e) = self.dialer.poll_event() {
            self.on_event(now, e);
        }
    }

    fn on_event(&mut self, now: Duration, e: DialerEvent) {
        match e {
            DialerEvent::IpsecUp => {
                log::info!("IPsec up with {}", self.server);
                if let Some(c) = self.capture.as_mut() {
                    for k in self.dialer.esp_keys() {
                        c.sa(k);
                    }
                }
            }
            DialerEvent::Up(cfg) => {
                if let Err(e) = self.configure(&cfg) {
                    log::error!("{e}");
                    self.failed = true;
                    self.hang_up(now);
                    return;
                }
                let dns: Vec<String> = cfg.dns.iter().flatten().map(ToString::to_string).collect();
                println!(
                    "connected: address {} on {}, server {}{}",
                    cfg.local,
                    self.tun.name(),
                    cfg.peer,
                    if dns.is_empty() {
                        String::new()
                    } else {
                        format!(", DNS {}", dns.join(" "))
                    }
                );
                self.up = Some(cfg);
            }
            DialerEvent::Down(cause) => {
                if self.closing.is_none() {
                    match cause {
                        DownCause::Ike(reason) => log::error!("IKE failed: {reason:?}"),
                        other => log::error!("connection down: {other:?}"),
                    }
                    self.failed = true;
                    self.hang_up(now);
                } else {
                    log::debug!("down: {cause:?}");
                }
            }
            other => log::debug!("{other:?}"),
        }
    }

    fn configure(&mut self, cfg: &Ipv4Config) -> Result<(), String> {
        self.tun
            .configure(
                cfg.local,
                Some(cfg.peer),
                Ipv4Addr::BROADCAST,
                self.args.mtu,
            )
            .map_err(|e| e.to_string())?;
        for (net, len) in &self.args.routes {
            self.tun
                .add_route(*net, mask_of(*len))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn flush(&mut self) {
        if !self.tx.is_empty()
            && let Err(e) = self.tx.send()
        {
            log::warn!("send: {e}");
        }
    }

    fn deliver(&mut self, packet: std::ops::Range<usize>, i: usize) {
        let (_, buf) = self.rx.get(i);
        let _ = self.tun.write(&buf[packet]);
    }

    fn udp_in(&mut self, now: Duration, port: u16) {
        let fd = if port == 500 {
            self.ike.as_raw_fd()
        } else {
            self.natt.as_raw_fd()
        };
        let n = self.rx.recv(fd).unwrap_or(0);
        for i in 0..n {
            let (meta, buf) = self.rx.get(i);
            let (peer, range) = (meta.peer, meta.range.clone());
            if let Some(c) = self.capture.as_mut() {
                c.udp(
                    peer,
                    SocketAddrV4::new(self.local, port),
                    &buf[range.clone()],
                );
            }
            match self
                .dialer
                .handle_datagram(now, peer, port, buf, range, &mut self.rng)
            {
                Ok(Some(packet)) => self.deliver(packet, i),
                Ok(None) => self.drain(now),
                Err(e) => {
                    log::debug!("from {peer}: {e}");
                    self.drain(now);
                }
            }
        }
    }

    fn esp_in(&mut self, now: Duration) {
        let Some(fd) = self.esp.as_ref().map(RawEsp::fd) else {
            return;
        };
        let n = self.rx.recv(fd).unwrap_or(0);
        for i in 0..n {
            let (meta, buf) = self.rx.get(i);
            let peer = meta.peer;
            if *peer.ip() != self.server {
                continue;
            }
            let Some((range, dst)) = sys::strip_ipv4_header(buf, meta.range.clone()) else {
                continue;
            };
            if let Some(c) = self.capture.as_mut() {
                c.esp(*peer.ip(), dst, &buf[range.clone()]);
            }
            match self.dialer.handle_esp(now, buf, range, &mut self.rng) {
                Ok(Some(packet)) => self.deliver(packet, i),
                Ok(None) => self.drain(now),
                Err(e) => {
                    log::debug!("ESP from {peer}: {e}");
                    self.drain(now);
                }
            }
        }
    }

    fn tun_in(&mut self, now: Duration) {
        for _ in 0..4 * BATCH {
            if self.tx.is_full() {
                self.flush();
            }
            let Some(buf) = self.tx.next_buffer() else {
                break;
            };
            let n = match self.tun.read(&mut buf[HEADROOM..sys::BUF_LEN - TAILROOM]) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if let Ok(t) = self.dialer.handle_ip(now, buf, HEADROOM..HEADROOM + n) {
                self.commit(t.destination, t.range);
            }
        }
        self.drain(now);
        self.flush();
    }
}
