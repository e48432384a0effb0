//! `lns serve`: the gateway over real sockets. UDP 500 and 4500 carry IKE
//! and NAT-T ESP, a raw socket carries plain ESP (IP protocol 50) when the
//! process may open one, a TUN device is the inside network with the pools
//! routed to it, and one more UDP socket talks to RADIUS servers.
//!
//! # The event loop
//!
//! It follows the sans-IO contract (`docs/ARCHITECTURE.md` §2): after an
//! input, drain `poll_transmit` and `poll_event` until `None`; sleep in
//! `poll(2)` until an input arrives or `poll_timeout` is due.
//!
//! Inputs come in batches: one `recvmmsg` takes up to [`BATCH`] datagrams,
//! each at [`HEADROOM`] in its own buffer. A datagram that carries data
//! (the gateway returns the range of an IPv4 packet) is written to the TUN
//! from where it was opened; any other datagram (IKE, L2TP control, PPP
//! negotiation) may have queued output, and the gateway is drained right
//! after it. A packet from the TUN is read into a buffer of the send batch
//! and sealed there in place by `handle_ip`; the batch goes out with one
//! `sendmmsg` per socket. Nothing is allocated per packet, and a data
//! packet is never copied.

use crate::cli::ServeArgs;
use crate::console;
use crate::ctl::{self, CtlServer, Reply};
use crate::pcap::Capture;
use crate::sys::{self, Batch, HEADROOM, PollFd, RawEsp, Signals, TAILROOM, Tun};
use crate::{Clock, HostGateway};
use rand_chacha::ChaCha20Rng;
use sessiondb::Config;
use sessiondb::gateway::{
    Destination, Error as GwError, Event, IKE_PORT, NAT_T_PORT, Options, TerminateCause,
};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

/// Datagrams per `recvmmsg`/`sendmmsg`.
pub const BATCH: usize = 64;
/// Batches taken from one socket before the others get their turn.
const ROUNDS: usize = 4;

/// What the port counts on its side of the gateway.
#[derive(Debug, Default, Clone, Copy)]
pub struct PortCounters {
    /// Datagrams received on UDP 500/4500 and the raw ESP socket.
    pub rx_datagrams: u64,
    /// Datagrams sent.
    pub tx_datagrams: u64,
    /// Datagrams dropped because a socket buffer stayed full.
    pub tx_dropped: u64,
    /// IPv4 packets written to the TUN (uplink).
    pub tun_out: u64,
    /// IPv4 packets for the TUN dropped (its queue full, or the device down).
    pub tun_dropped: u64,
    /// IPv4 packets read from the TUN (downlink).
    pub tun_in: u64,
    /// Packets from the TUN the gateway had no session for, or could not
    /// seal.
    pub tun_refused: u64,
    /// Datagrams the gateway refused.
    pub refused: u64,
    /// Plain ESP to send without a raw socket.
    pub no_raw_socket: u64,
}

impl PortCounters {
    fn write(&self, out: &mut String) {
        let _ = writeln!(out, "port: {self:?}");
    }
}

/// A configuration ready to serve, with what to print about it at start.
#[derive(Debug)]
pub struct Prepared {
    /// The configuration.
    pub config: Config,
    /// The text to print at start (the default configuration with its
    /// secrets, or a summary).
    pub banner: String,
}

/// Reads and parses `--config`, or makes the default configuration.
///
/// # Errors
/// A message for the operator: the file's error, or its first bad line.
pub fn prepare_config(args: &ServeArgs, rng: &mut impl rand_core::Rng) -> Result<Prepared, String> {
    match &args.config {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let config = Config::parse_with(&text, |n| log::debug!("{}: {n:?}", path.display()))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(Prepared {
                config,
                banner: format!("configuration from {}", path.display()),
            })
        }
        None => {
            let psk = crate::defaults::secret(rng, 20);
            let password = crate::defaults::secret(rng, 12);
            let dns = std::fs::read_to_string("/etc/resolv.conf")
                .ok()
                .and_then(|t| crate::defaults::host_dns(&t));
            let text = crate::defaults::config_text(&psk, "demo", &password, dns);
            let config = Config::parse(&text).map_err(|e| format!("default configuration: {e}"))?;
            let banner = format!(
                "{text}\n\
                 No --config: serving the configuration above.\n\
                 \x20 pre-shared key: {psk}\n\
                 \x20 user:           demo\n\
                 \x20 password:       {password}\n"
            );
            Ok(Prepared { config, banner })
        }
    }
}

/// The certificates of `--cert`, `--key` and `--ca` for `rsa-sig`
/// policies, if given.
///
/// # Errors
/// A message naming the file that cannot be read or used.
pub fn credentials(args: &ServeArgs) -> Result<Option<ike_core::cert::Credentials>, String> {
    let (Some(cert), Some(key)) = (&args.cert, &args.key) else {
        return Ok(None);
    };
    let read = |p: &std::path::Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let mut c = ike_core::cert::Credentials::default();
    let key_der = zeroize::Zeroizing::new(read(key)?);
    c.set_own(&read(cert)?, &key_der)
        .map_err(|e| format!("{} with {}: {e:?}", cert.display(), key.display()))?;
    for ca in &args.ca {
        c.add_trust_anchor(&read(ca)?)
            .map_err(|e| format!("{}: {e:?}", ca.display()))?;
    }
    Ok(Some(c))
}

/// The inside address: `--inside`, or for the default configuration its
/// own, or the first host address of the first pool's network when that
/// is outside the pool.
///
/// # Errors
/// When none can be chosen.
pub fn inside_address(args: &ServeArgs, config: &Config) -> Result<Ipv4Addr, String> {
    if let Some(a) = args.inside {
        return Ok(a);
    }
    if args.config.is_none() {
        return Ok(crate::defaults::INSIDE_ADDRESS);
    }
    let pool = config
        .pools
        .first()
        .ok_or("the configuration has no `ip local pool`; give --inside ADDR")?;
    let mask = pool.mask.map_or(0xffff_ff00, u32::from);
    let candidate = Ipv4Addr::from((u32::from(pool.first) & mask) | 1);
    if pool.contains(candidate) {
        return Err(format!(
            "pool {} includes {candidate}; give the gateway's inside address with --inside ADDR",
            pool.name
        ));
    }
    Ok(candidate)
}

/// The networks to route to the TUN: each pool's range covered by its
/// mask (a /24 when it has none).
pub fn pool_routes(config: &Config) -> Vec<(Ipv4Addr, Ipv4Addr)> {
    let mut routes: Vec<(Ipv4Addr, Ipv4Addr)> = Vec::new();
    for pool in &config.pools {
        let mut mask = pool.mask.map_or(0xffff_ff00, u32::from);
        // Widen the mask until it covers the whole range.
        while mask != 0 && (u32::from(pool.first) & mask) != (u32::from(pool.last) & mask) {
            mask <<= 1;
        }
        let net = Ipv4Addr::from(u32::from(pool.first) & mask);
        let route = (net, Ipv4Addr::from(mask));
        if !routes.contains(&route) {
            routes.push(route);
        }
    }
    routes
}

struct Sockets {
    ike: UdpSocket,
    natt: UdpSocket,
    radius: UdpSocket,
    /// The RADIUS socket's own port (ephemeral), for the capture.
    radius_port: u16,
    esp: Option<RawEsp>,
}

impl Sockets {
    fn open(listen: Ipv4Addr) -> Result<Self, String> {
        let bind = |port: u16| -> Result<UdpSocket, String> {
            let s = UdpSocket::bind(SocketAddrV4::new(listen, port)).map_err(|e| {
                let hint = if e.kind() == io::ErrorKind::PermissionDenied {
                    " (ports below 1024 need CAP_NET_BIND_SERVICE)"
                } else if e.kind() == io::ErrorKind::AddrInUse {
                    " (is another IKE daemon, e.g. strongSwan or racoon, running?)"
                } else {
                    ""
                };
                format!("UDP {listen}:{port}: {e}{hint}")
            })?;
            sys::prepare_udp(&s).map_err(|e| format!("UDP {listen}:{port}: {e}"))?;
            Ok(s)
        };
        let ike = bind(IKE_PORT)?;
        let natt = bind(NAT_T_PORT)?;
        let radius = bind(0)?;
        let radius_port = radius.local_addr().map_or(0, |a| a.port());
        let esp = match RawEsp::open() {
            Ok(s) => Some(s),
            Err(e) => {
                log::warn!(
                    "{e}: clients without a NAT between them and this server cannot connect; \
                     clients behind a NAT use UDP 4500 and are not affected"
                );
                None
            }
        };
        Ok(Self {
            ike,
            natt,
            radius,
            radius_port,
            esp,
        })
    }
}

/// The running server.
pub struct Server {
    gw: Box<HostGateway>,
    rng: ChaCha20Rng,
    clock: Clock,
    sockets: Sockets,
    tun: Tun,
    rx: Batch,
    tx: Batch,
    listen: Ipv4Addr,
    /// Our address as the last client addressed it (for the capture).
    last_local: Ipv4Addr,
    capture: Option<Capture>,
    ctl: Option<CtlServer>,
    stdin: Option<Vec<u8>>,
    signals: Signals,
    counters: PortCounters,
    shutdown: Option<Duration>,
    shutdown_timeout: Duration,
    next_wall_clock: Duration,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("tun", &self.tun.name())
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

/// Runs `lns serve` until SIGTERM/SIGINT and the end of every session.
/// `signals` must have been created before any thread was started.
///
/// # Errors
/// A message for the operator (configuration, privilege, socket).
pub fn run(args: ServeArgs, signals: Signals) -> Result<(), String> {
    let mut rng = crate::system_rng().map_err(|e| format!("getrandom: {e}"))?;
    let prepared = prepare_config(&args, &mut rng)?;
    let inside = inside_address(&args, &prepared.config)?;
    let routes = pool_routes(&prepared.config);

    // Privileges first: a server that cannot start prints no secrets.
    let sockets = Sockets::open(args.listen)?;
    let tun = Tun::open(&args.tun).map_err(|e| e.to_string())?;
    let mtu = Options::default().mru;
    tun.configure(inside, None, Ipv4Addr::BROADCAST, mtu)
        .map_err(|e| e.to_string())?;
    for (net, mask) in &routes {
        tun.add_route(*net, *mask).map_err(|e| e.to_string())?;
    }
    let capture = match &args.pcap {
        Some(p) => Some(Capture::create(p).map_err(|e| format!("{}: {e}", p.display()))?),
        None => None,
    };
    let ctl_path = ctl::path(args.ctl.as_deref());
    let ctl = match CtlServer::bind(&ctl_path) {
        Ok(c) => Some(c),
        Err(e) => {
            log::warn!("control socket {e}: `lns ctl` will not reach this server");
            None
        }
    };
    println!("{}", prepared.banner);
    // Standard input stays blocking (its file description is the shell's
    // terminal too): it is read only when poll says a line is there.
    let stdin = sys::is_terminal(0).then(Vec::new);

    let options = Options {
        inside_address: inside,
        export_keys: capture.is_some(),
        nas_ip_address: (!args.listen.is_unspecified()).then_some(args.listen),
        ..Options::default()
    };
    let clock = Clock::new();
    let mut gw = crate::new_gateway(prepared.config, options);
    gw.set_wall_clock(clock.now(), crate::wall_clock());
    if let Some(credentials) = credentials(&args)? {
        gw.set_ike_credentials(credentials);
    }

    log::info!(
        "serving on {}:{IKE_PORT} and :{NAT_T_PORT} (ESP in UDP){}; inside {} on {} (MTU {mtu}), routes {}",
        args.listen,
        if sockets.esp.is_some() {
            ", raw ESP (IP protocol 50)"
        } else {
            ""
        },
        inside,
        tun.name(),
        routes
            .iter()
            .map(|(n, m)| format!("{n}/{}", u32::from(*m).count_ones()))
            .collect::<Vec<_>>()
            .join(" ")
    );
    if let Some(c) = &capture {
        log::info!(
            "capturing to {} with ESP keys in {}",
            args.pcap
                .as_deref()
                .map_or(String::new(), |p| p.display().to_string()),
            c.keys_path().display()
        );
    }
    if ctl.is_some() {
        log::info!("control socket {}", ctl_path.display());
    }

    let mut server = Server {
        gw,
        rng,
        clock,
        sockets,
        tun,
        rx: Batch::new(BATCH),
        tx: Batch::new(BATCH),
        listen: args.listen,
        last_local: args.listen,
        capture,
        ctl,
        stdin,
        signals,
        counters: PortCounters::default(),
        shutdown: None,
        shutdown_timeout: args.shutdown_timeout,
        next_wall_clock: Duration::from_secs(60),
    };
    server.run()
}

impl Server {
    fn run(&mut self) -> Result<(), String> {
        loop {
            let now = self.clock.now();
            if self.gw.poll_timeout().is_some_and(|t| t <= now) {
                self.gw.handle_timeout(now, &mut self.rng);
                self.drain(now);
            }
            if now >= self.next_wall_clock {
                self.gw.set_wall_clock(now, crate::wall_clock());
                self.next_wall_clock = now + Duration::from_secs(60);
            }
            self.flush();
            if let Some(deadline) = self.shutdown {
                let r = self.gw.resources();
                if r.sessions == 0 && r.peers == 0 && r.radius_requests == 0 {
                    log::info!("every session ended; exiting");
                    return Ok(());
                }
                if now >= deadline {
                    log::warn!("shutdown timeout with {r:?} left; exiting");
                    return Ok(());
                }
            }

            let mut fds = [PollFd::new(-1, 0); 24];
            let mut n = 0;
            let mut add = |fd: RawFd| {
                if n < fds.len() {
                    fds[n] = PollFd::new(fd, libc::POLLIN);
                    n += 1;
                }
            };
            add(self.sockets.ike.as_raw_fd()); // 0
            add(self.sockets.natt.as_raw_fd()); // 1
            add(self.sockets.radius.as_raw_fd()); // 2
            add(self.tun.fd()); // 3
            add(self.signals.fd()); // 4
            add(self.sockets.esp.as_ref().map_or(-1, RawEsp::fd)); // 5
            add(if self.stdin.is_some() { 0 } else { -1 }); // 6
            if let Some(c) = &self.ctl {
                for fd in c.fds() {
                    add(fd);
                }
            }
            let now = self.clock.now();
            let mut timeout = self.gw.poll_timeout().map(|t| t.saturating_sub(now));
            if self.shutdown.is_some() {
                timeout = Some(timeout.map_or(Duration::from_millis(100), |t| {
                    t.min(Duration::from_millis(100))
                }));
            }
            sys::poll(&mut fds[..n], timeout).map_err(|e| format!("poll: {e}"))?;
            let ready: [bool; 8] = std::array::from_fn(|i| i < n && fds[i].readable());
            let ctl_ready = fds[7..n].iter().any(PollFd::readable);

            let now = self.clock.now();
            if ready[4] {
                self.on_signal(now);
            }
            if ready[1] {
                self.udp_in(now, NAT_T_PORT);
            }
            if ready[0] {
                self.udp_in(now, IKE_PORT);
            }
            if ready[5] {
                self.esp_in(now);
            }
            if ready[3] {
                self.tun_in(now);
            }
            if ready[2] {
                self.radius_in(now);
            }
            if ready[6] {
                self.stdin_in(now);
            }
            if ctl_ready {
                self.ctl_in(now);
            }
            self.drain(now);
        }
    }

    fn on_signal(&mut self, now: Duration) {
        while let Some(sig) = self.signals.take() {
            if self.shutdown.is_some() {
                log::warn!("second signal {sig}: exiting at once");
                self.flush();
                std::process::exit(1);
            }
            let n = self
                .gw
                .logoff_all(now, TerminateCause::AdminReboot, &mut self.rng);
            log::info!(
                "signal {sig}: ending {n} client(s) (PPP Terminate, CDN, StopCCN, IKE Deletes, accounting Stop); \
                 waiting up to {} s",
                self.shutdown_timeout.as_secs()
            );
            self.shutdown = Some(now + self.shutdown_timeout);
        }
    }

    /// The socket a datagram to `destination` leaves by, and its address.
    fn route(&self, destination: Destination) -> Option<(RawFd, SocketAddrV4)> {
        match destination {
            Destination::Client { local_port, remote } => {
                let s = if local_port == IKE_PORT {
                    &self.sockets.ike
                } else {
                    &self.sockets.natt
                };
                Some((s.as_raw_fd(), remote))
            }
            Destination::ClientEsp { remote } => self
                .sockets
                .esp
                .as_ref()
                .map(|s| (s.fd(), SocketAddrV4::new(remote, 0))),
            Destination::Radius { server } => Some((self.sockets.radius.as_raw_fd(), server)),
        }
    }

    fn capture_out(&mut self, fd: RawFd, to: SocketAddrV4, range: std::ops::Range<usize>) {
        let Some(c) = self.capture.as_mut() else {
            return;
        };
        let Some(buf) = self.tx.next_buffer() else {
            return;
        };
        let bytes = &buf[range];
        let local = self.last_local;
        if Some(fd) == self.sockets.esp.as_ref().map(RawEsp::fd) {
            c.esp(local, *to.ip(), bytes);
        } else {
            let port = if fd == self.sockets.ike.as_raw_fd() {
                IKE_PORT
            } else if fd == self.sockets.natt.as_raw_fd() {
                NAT_T_PORT
            } else {
                self.sockets.radius_port
            };
            c.udp(SocketAddrV4::new(local, port), to, bytes);
        }
    }

    /// Queues what `buf[range]` of the next send buffer is, to `destination`.
    fn commit(&mut self, destination: Destination, range: std::ops::Range<usize>) {
        match self.route(destination) {
            Some((fd, to)) => {
                self.capture_out(fd, to, range.clone());
                self.tx.commit(fd, to, range);
            }
            None => self.counters.no_raw_socket += 1,
        }
    }

    /// Drains the gateway: every datagram into the send batch (sent when
    /// full), every event acted on.
    fn drain(&mut self, now: Duration) {
        loop {
            if self.tx.is_full() {
                self.flush();
            }
            let Some(buf) = self.tx.next_buffer() else {
                break;
            };
            let Some(t) = self.gw.poll_transmit(now, &mut self.rng, buf) else {
                break;
            };
            self.commit(t.destination, t.range);
        }
        while let Some(e) = self.gw.poll_event() {
            self.on_event(e);
        }
    }

    fn on_event(&mut self, e: Event) {
        match e {
            Event::SessionUp {
                index,
                user,
                address,
            } => log::info!("session {index}: {user} up with {address}"),
            Event::SessionDown { index, cause } => {
                log::info!("session {index}: down ({cause:?})");
            }
            Event::LoginRefused {
                remote,
                user,
                reason,
            } => log::warn!("login of {user:?} from {remote} refused: {reason:?}"),
            Event::Debug(line) => {
                let mut out = io::stdout().lock();
                let _ = writeln!(out, "{}", line.text);
                if let Some(c) = self.ctl.as_mut() {
                    c.broadcast(&line.text);
                }
            }
            Event::EspKeys(k) => {
                if let Some(c) = self.capture.as_mut() {
                    c.sa(&k);
                }
            }
            other => log::debug!("{other:?}"),
        }
    }

    fn flush(&mut self) {
        if self.tx.is_empty() {
            return;
        }
        match self.tx.send() {
            Ok((sent, dropped)) => {
                self.counters.tx_datagrams += sent as u64;
                self.counters.tx_dropped += dropped as u64;
            }
            Err(e) => log::warn!("send: {e}"),
        }
    }

    fn udp_in(&mut self, now: Duration, port: u16) {
        let fd = if port == IKE_PORT {
            self.sockets.ike.as_raw_fd()
        } else {
            self.sockets.natt.as_raw_fd()
        };
        for _ in 0..ROUNDS {
            let n = match self.rx.recv(fd) {
                Ok(n) => n,
                Err(e) => {
                    log::debug!("UDP {port}: {e}");
                    0
                }
            };
            if n == 0 {
                break;
            }
            self.counters.rx_datagrams += n as u64;
            for i in 0..n {
                let (meta, buf) = self.rx.get(i);
                let (peer, range) = (meta.peer, meta.range.clone());
                let local_ip = meta.local.unwrap_or(self.listen);
                self.last_local = local_ip;
                let local = SocketAddrV4::new(local_ip, port);
                if let Some(c) = self.capture.as_mut() {
                    c.udp(peer, local, &buf[range.clone()]);
                }
                let r = self
                    .gw
                    .handle_datagram(now, peer, local, buf, range, &mut self.rng);
                match r {
                    Ok(Some(packet)) => {
                        if self.tun.write(&buf[packet]).unwrap_or(false) {
                            self.counters.tun_out += 1;
                        } else {
                            self.counters.tun_dropped += 1;
                        }
                    }
                    Ok(None) => self.drain(now),
                    Err(e) => {
                        self.refused(peer, &e);
                        self.drain(now);
                    }
                }
            }
            if n < self.rx.capacity() {
                break;
            }
        }
    }

    fn refused(&mut self, peer: SocketAddrV4, e: &GwError) {
        self.counters.refused += 1;
        log::debug!("from {peer}: {e}");
    }

    fn esp_in(&mut self, now: Duration) {
        let Some(fd) = self.sockets.esp.as_ref().map(RawEsp::fd) else {
            return;
        };
        for _ in 0..ROUNDS {
            let n = self.rx.recv(fd).unwrap_or(0);
            if n == 0 {
                break;
            }
            self.counters.rx_datagrams += n as u64;
            for i in 0..n {
                let (meta, buf) = self.rx.get(i);
                let peer = meta.peer;
                let Some((range, dst)) = sys::strip_ipv4_header(buf, meta.range.clone()) else {
                    continue;
                };
                if let Some(c) = self.capture.as_mut() {
                    c.esp(*peer.ip(), dst, &buf[range.clone()]);
                }
                match self
                    .gw
                    .handle_esp(now, *peer.ip(), buf, range, &mut self.rng)
                {
                    Ok(Some(packet)) => {
                        if self.tun.write(&buf[packet]).unwrap_or(false) {
                            self.counters.tun_out += 1;
                        } else {
                            self.counters.tun_dropped += 1;
                        }
                    }
                    Ok(None) => self.drain(now),
                    Err(e) => {
                        self.refused(peer, &e);
                        self.drain(now);
                    }
                }
            }
            if n < self.rx.capacity() {
                break;
            }
        }
    }

    /// Downlink: IPv4 packets from the TUN, sealed in place in the send
    /// batch's buffers.
    fn tun_in(&mut self, now: Duration) {
        for _ in 0..ROUNDS * BATCH {
            if self.tx.is_full() {
                self.flush();
            }
            let Some(buf) = self.tx.next_buffer() else {
                break;
            };
            let n = match self.tun.read(&mut buf[HEADROOM..sys::BUF_LEN - TAILROOM]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    log::warn!("TUN: {e}");
                    break;
                }
            };
            self.counters.tun_in += 1;
            match self.gw.handle_ip(now, buf, HEADROOM..HEADROOM + n) {
                Ok(t) => self.commit(t.destination, t.range),
                Err(_) => self.counters.tun_refused += 1,
            }
        }
        // handle_ip queues nothing but a rare event (an SA's soft expiry):
        // one drain per batch keeps the contract.
        self.drain(now);
        self.flush();
    }

    fn radius_in(&mut self, now: Duration) {
        let fd = self.sockets.radius.as_raw_fd();
        let n = self.rx.recv(fd).unwrap_or(0);
        for i in 0..n {
            let (meta, buf) = self.rx.get(i);
            let (peer, range) = (meta.peer, meta.range.clone());
            if let Some(c) = self.capture.as_mut() {
                let local = meta.local.unwrap_or(self.last_local);
                let to = SocketAddrV4::new(local, self.sockets.radius_port);
                c.udp(peer, to, &buf[range.clone()]);
            }
            if let Err(e) = self.gw.handle_radius(now, peer, &buf[range], &mut self.rng) {
                log::debug!("RADIUS from {peer}: {e}");
            }
            self.drain(now);
        }
    }

    fn command(&mut self, now: Duration, line: &str) -> String {
        let counters = self.counters;
        let out = console::execute(&mut self.gw, now, line, &mut self.rng, |o| {
            counters.write(o);
        });
        self.drain(now);
        out
    }

    fn stdin_in(&mut self, now: Duration) {
        let mut chunk = [0u8; 1024];
        let n = match sys::read_stdin(&mut chunk) {
            Ok(0) | Err(_) => {
                self.stdin = None;
                return;
            }
            Ok(n) => n,
        };
        let Some(pending) = self.stdin.as_mut() else {
            return;
        };
        pending.extend_from_slice(&chunk[..n]);
        let mut lines = Vec::new();
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            lines.push(String::from_utf8_lossy(&line).trim().to_string());
        }
        for line in lines {
            let out = self.command(now, &line);
            let mut stdout = io::stdout().lock();
            let _ = stdout.write_all(out.as_bytes());
            let _ = stdout.flush();
        }
    }

    fn ctl_in(&mut self, now: Duration) {
        let Some(mut ctl) = self.ctl.take() else {
            return;
        };
        ctl.service(|line| {
            if line.eq_ignore_ascii_case("monitor") || line.eq_ignore_ascii_case("terminal monitor")
            {
                Reply::Monitor
            } else {
                Reply::Text(self.command(now, line))
            }
        });
        self.ctl = Some(ctl);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(config: Option<&str>) -> ServeArgs {
        ServeArgs {
            config: config.map(Into::into),
            listen: Ipv4Addr::UNSPECIFIED,
            tun: "t".into(),
            inside: None,
            ctl: None,
            pcap: None,
            shutdown_timeout: Duration::from_secs(1),
            cert: None,
            key: None,
            ca: Vec::new(),
        }
    }

    #[test]
    fn certificates_from_der_files() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/ike-core/certs");
        let mut a = args(None);
        assert!(credentials(&a).unwrap().is_none());
        a.cert = Some(dir.join("lns.der"));
        a.key = Some(dir.join("lns.key"));
        a.ca = vec![dir.join("ca.der")];
        let c = credentials(&a).unwrap().unwrap();
        assert!(c.usable());
        // Another certificate's key: refused, naming both files.
        a.key = Some(dir.join("client1.key"));
        let e = credentials(&a).unwrap_err();
        assert!(
            e.contains("lns.der") && e.contains("client1.key") && e.contains("KeyMismatch"),
            "{e}"
        );
        a.key = Some(dir.join("no-such.key"));
        assert!(credentials(&a).unwrap_err().contains("no-such.key"));
    }

    #[test]
    fn pools_are_routed_by_their_mask_widened_to_cover_the_range() {
        let config = Config::parse(
            "ip local pool a 10.1.2.10-10.1.2.50 mask 255.255.255.0
ip local pool b 10.9.0.200-10.9.1.20 mask 255.255.255.0
ip local pool c 192.0.2.10-192.0.2.20",
        )
        .unwrap();
        assert_eq!(
            pool_routes(&config),
            [
                (Ipv4Addr::new(10, 1, 2, 0), Ipv4Addr::new(255, 255, 255, 0)),
                (Ipv4Addr::new(10, 9, 0, 0), Ipv4Addr::new(255, 255, 254, 0)),
                (Ipv4Addr::new(192, 0, 2, 0), Ipv4Addr::new(255, 255, 255, 0)),
            ]
        );
        let a = args(Some("x.cfg"));
        assert_eq!(inside_address(&a, &config), Ok(Ipv4Addr::new(10, 1, 2, 1)));
        let whole = Config::parse("ip local pool a 10.1.2.1-10.1.2.50 mask 255.255.255.0").unwrap();
        assert!(inside_address(&a, &whole).unwrap_err().contains("--inside"));
    }

    #[test]
    fn the_chapter_example_configuration_serves_its_pool() {
        let config = Config::parse(include_str!("../examples/chapter.conf"))
            .unwrap_or_else(|e| panic!("examples/chapter.conf: {e}"));
        let a = args(Some("examples/chapter.conf"));
        assert_eq!(
            inside_address(&a, &config),
            Ok(Ipv4Addr::new(192, 168, 77, 1))
        );
        assert_eq!(
            pool_routes(&config),
            [(
                Ipv4Addr::new(192, 168, 77, 0),
                Ipv4Addr::new(255, 255, 255, 0)
            )]
        );
        let tg = config.tunnel_group("DefaultRAGroup").unwrap();
        assert!(
            tg.ppp_authentication
                .contains(sessiondb::config::PppAuth::MsChapV2)
        );
        assert!(config.user("alice").is_some());
    }

    #[test]
    fn the_default_configuration_prints_its_secrets_and_a_bad_file_its_line() {
        let mut rng = <ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(3);
        let p = prepare_config(&args(None), &mut rng).unwrap();
        assert!(p.banner.contains("pre-shared key: "), "{}", p.banner);
        assert!(p.banner.contains("user:           demo"));
        assert_eq!(
            inside_address(&args(None), &p.config),
            Ok(crate::defaults::INSIDE_ADDRESS)
        );

        let dir = std::env::temp_dir().join(format!("lns-serve-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("bad.cfg");
        std::fs::write(&file, "ip local pool p 10.0.0.1-10.0.0.9\ntunnel-group DefaultRAGroup general-attributes\n adress-pool p\n").unwrap();
        let e = prepare_config(&args(file.to_str()), &mut rng).unwrap_err();
        assert!(e.contains("line 3") && e.contains("adress-pool"), "{e}");
        let e = prepare_config(&args(Some("/nonexistent/lns.cfg")), &mut rng).unwrap_err();
        assert!(e.contains("/nonexistent/lns.cfg"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
