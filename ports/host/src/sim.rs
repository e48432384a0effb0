//! `lns simulate`: many clients (the project's own [`Dialer`]s) against one
//! gateway in one process, over a simulated network with latency, loss and
//! optionally a NAT, on a hand-advanced clock. It shows the whole system
//! working in one command: sessions come up through IKE, ESP, L2TP, PPP
//! and IPCP, carry traffic, show in `show vpn-sessiondb`, and leave
//! nothing behind.
//!
//! The set-up phase runs on simulated time (deterministic for a seed); the
//! throughput phase calls the data path directly, with no simulated
//! network in between, and measures wall-clock time spent inside the
//! gateway.

use crate::HostGateway;
use crate::cli::SimulateArgs;
use crate::pcap::Capture;
use crate::sys::{BUF_LEN, HEADROOM};
use ppp_core::AuthMethod;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sessiondb::Config;
use sessiondb::dialer::{Dialer, DialerConfig, DialerDestination, DialerEvent};
use sessiondb::gateway::{Destination, Event, NAT_T_PORT, Options, Resources};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::ops::Range;
use std::time::{Duration, Instant};

/// Most clients one simulation runs (the host gateway's capacity).
pub const MAX_CLIENTS: usize = 256;
/// The gateway's public address.
pub const GATEWAY: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
/// The NAT's public address.
pub const NAT_PUBLIC: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
/// The gateway's inside address.
pub const INSIDE: Ipv4Addr = Ipv4Addr::new(10, 64, 0, 1);
/// The pre-shared key of the simulation.
pub const PSK: &str = "simulated-psk";
/// One-way latency of the simulated network.
const LATENCY: Duration = Duration::from_millis(5);
/// Time between two clients' first packets.
const ARRIVAL: Duration = Duration::from_millis(5);
/// Users besides `alice` (the configuration holds 32 users at most).
const USERS: usize = 31;

/// The simulation's configuration: the chapter's setup, a pool for
/// [`MAX_CLIENTS`], `alice` (client 0's own user) and users that share
/// the other clients.
pub fn config(clients: usize) -> Config {
    let logins = clients.saturating_sub(1).div_ceil(USERS).max(1);
    let mut users = String::from("username alice password s3cret-Pass mschap\n");
    for u in 1..=USERS {
        let _ = writeln!(
            users,
            "username user{u:02} password pw-{u:02}-secret mschap"
        );
    }
    let text = format!(
        "ip local pool sim 10.64.0.10-10.64.3.250 mask 255.255.252.0
crypto ipsec transform-set AES256-SHA esp-aes-256 esp-sha-hmac
crypto ipsec transform-set AES256-SHA mode transport
crypto ipsec transform-set 3DES-SHA esp-3des esp-sha-hmac
crypto ipsec transform-set 3DES-SHA mode transport
crypto dynamic-map dyn 10 set transform-set AES256-SHA 3DES-SHA
crypto map outside_map 20 ipsec-isakmp dynamic dyn
crypto map outside_map interface outside
crypto isakmp enable outside
crypto isakmp policy 10
 authentication pre-share
 encryption aes-256
 hash sha
 group 14
 lifetime 86400
crypto isakmp nat-traversal 20
group-policy DfltGrpPolicy attributes
 dns-server value 10.64.0.2
 vpn-tunnel-protocol l2tp-ipsec
 vpn-simultaneous-logins {logins}
tunnel-group DefaultRAGroup general-attributes
 address-pool sim
tunnel-group DefaultRAGroup ipsec-attributes
 pre-shared-key {PSK}
tunnel-group DefaultRAGroup ppp-attributes
 authentication ms-chap-v2
 authentication ms-chap-v1
 authentication pap
{users}"
    );
    match Config::parse(&text) {
        Ok(c) => c,
        Err(e) => unreachable!("the simulation's configuration: {e}"),
    }
}

/// Client `i`'s user, password and PPP method: `alice` for client 0, the
/// shared users for the others; three in four use MS-CHAPv2, then
/// MS-CHAPv1 and PAP.
pub fn credentials(i: usize) -> (String, String, AuthMethod) {
    let method = match i % 8 {
        3 => AuthMethod::MsChapV1,
        7 => AuthMethod::Pap,
        _ => AuthMethod::MsChapV2,
    };
    if i == 0 {
        return ("alice".into(), "s3cret-Pass".into(), AuthMethod::MsChapV2);
    }
    let u = (i - 1) % USERS + 1;
    (format!("user{u:02}"), format!("pw-{u:02}-secret"), method)
}

struct Node {
    dialer: Dialer,
    /// The client's own address (private behind the NAT).
    address: Ipv4Addr,
    nat: bool,
    user: String,
    assigned: Option<Ipv4Addr>,
    up_at: Option<Duration>,
    keys_captured: bool,
}

/// A datagram on the simulated wire.
struct Packet {
    at: Duration,
    seq: u64,
    to_gateway: bool,
    src: SocketAddrV4,
    dst: SocketAddrV4,
    /// ESP in IP (ports 0) rather than UDP.
    esp: bool,
    buf: Box<[u8; BUF_LEN]>,
    range: Range<usize>,
}

impl PartialEq for Packet {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Packet {}
impl PartialOrd for Packet {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Packet {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// The simulation.
pub struct Sim {
    now: Duration,
    gw: Box<HostGateway>,
    gw_rng: ChaCha20Rng,
    net_rng: ChaCha20Rng,
    client_rng: ChaCha20Rng,
    nodes: Vec<Node>,
    by_address: HashMap<Ipv4Addr, usize>,
    nat_out: HashMap<(usize, u16), u16>,
    nat_in: HashMap<u16, (usize, u16)>,
    next_nat_port: u16,
    wire: BinaryHeap<Reverse<Packet>>,
    seq: u64,
    /// Spare packet buffers. Boxed because a buffer travels inside a
    /// `Packet` through the wire's heap: moving a pointer, not 2 KB.
    #[allow(clippy::vec_box)]
    free: Vec<Box<[u8; BUF_LEN]>>,
    loss: f64,
    capture: Option<Capture>,
    /// Wall-clock time spent inside the gateway.
    gw_time: Duration,
    sent: u64,
    lost: u64,
    sessions_up: usize,
    refused: usize,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("now", &self.now)
            .field("clients", &self.nodes.len())
            .finish_non_exhaustive()
    }
}

/// What a run measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Clients that came up.
    pub up: usize,
    /// Simulated time from the first client's first packet to the last
    /// client's IPCP Opened.
    pub setup_sim: Duration,
    /// Wall-clock time of the set-up phase (both ends' work).
    pub setup_wall: Duration,
    /// Of which inside the gateway.
    pub setup_gateway: Duration,
    /// CPU time this thread spent in the set-up phase (both ends; `None`
    /// where the kernel does not tell).
    pub setup_cpu: Option<Duration>,
    /// Per packet size: (size, packets each way, gateway time, wall time).
    pub throughput: Vec<(usize, u64, Duration, Duration)>,
    /// What the gateway held after every client left.
    pub left: Resources,
    /// Datagrams sent and lost on the simulated wire during set-up.
    pub wire: (u64, u64),
}

/// The CPU time the calling thread has used so far: the first field of
/// Linux's `/proc/thread-self/schedstat`, in nanoseconds. Unlike a clock,
/// it does not count the time other processes had the core.
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Runs the gateway call `f`, adding its wall-clock time to `gw_time`.
macro_rules! timed {
    ($sim:ident, $e:expr) => {{
        let t0 = Instant::now();
        let r = $e;
        $sim.gw_time += t0.elapsed();
        r
    }};
}

impl Sim {
    /// A gateway and `args.clients` clients, none connected yet.
    ///
    /// # Errors
    /// The capture file cannot be created.
    pub fn new(args: &SimulateArgs) -> std::io::Result<Self> {
        let capture = args.pcap.as_deref().map(Capture::create).transpose()?;
        let options = Options {
            inside_address: INSIDE,
            export_keys: capture.is_some(),
            ..Options::default()
        };
        let mut gw = crate::new_gateway(config(args.clients), options);
        gw.set_wall_clock(Duration::ZERO, crate::wall_clock());
        let mut sim = Self {
            now: Duration::ZERO,
            gw,
            gw_rng: ChaCha20Rng::seed_from_u64(args.seed),
            net_rng: ChaCha20Rng::seed_from_u64(args.seed ^ 0x6e65_7477),
            client_rng: ChaCha20Rng::seed_from_u64(args.seed ^ 0x636c_6965),
            nodes: Vec::new(),
            by_address: HashMap::new(),
            nat_out: HashMap::new(),
            nat_in: HashMap::new(),
            next_nat_port: 40_000,
            wire: BinaryHeap::new(),
            seq: 0,
            free: Vec::new(),
            loss: args.loss,
            capture,
            gw_time: Duration::ZERO,
            sent: 0,
            lost: 0,
            sessions_up: 0,
            refused: 0,
        };
        for i in 0..args.clients {
            let hi = u8::try_from(i / 250).unwrap_or(0);
            let lo = u8::try_from(i % 250).unwrap_or(0) + 2;
            let address = if args.nat {
                Ipv4Addr::new(192, 168, hi, lo)
            } else {
                Ipv4Addr::new(198, 18, hi, lo)
            };
            let (user, password, method) = credentials(i);
            let mut dc = match DialerConfig::windows_like(
                SocketAddrV4::new(GATEWAY, 500),
                SocketAddrV4::new(address, 500),
                PSK.as_bytes(),
                user.as_bytes(),
                password.as_bytes(),
            ) {
                Ok(c) => c.with_method(method),
                Err(e) => unreachable!("client configuration: {e}"),
            };
            dc.ike.initiator.esp_lifetime.kilobytes = 0;
            let dialer = match Dialer::new(&dc) {
                Ok(d) => d,
                Err(e) => unreachable!("client: {e}"),
            };
            sim.by_address.insert(address, i);
            sim.nodes.push(Node {
                dialer,
                address,
                nat: args.nat,
                user,
                assigned: None,
                up_at: None,
                keys_captured: false,
            });
        }
        Ok(sim)
    }

    fn buffer(&mut self) -> Box<[u8; BUF_LEN]> {
        self.free.pop().unwrap_or_else(|| Box::new([0u8; BUF_LEN]))
    }

    /// Puts a datagram on the wire: lost with probability `loss`, else
    /// delivered after the latency plus up to 1 ms of jitter (so that
    /// some packets overtake others).
    fn send(&mut self, mut p: Packet) {
        self.sent += 1;
        if let Some(c) = self.capture.as_mut() {
            let bytes = &p.buf[p.range.clone()];
            if p.esp {
                c.esp(*p.src.ip(), *p.dst.ip(), bytes);
            } else {
                c.udp(p.src, p.dst, bytes);
            }
        }
        let draw = f64::from(self.net_rng.next_u32()) / f64::from(u32::MAX);
        if draw < self.loss {
            self.lost += 1;
            self.free.push(p.buf);
            return;
        }
        let jitter = Duration::from_micros(u64::from(self.net_rng.next_u32() % 1000));
        p.at = self.now + LATENCY + jitter;
        self.seq += 1;
        p.seq = self.seq;
        self.wire.push(Reverse(p));
    }

    /// Drains the gateway onto the wire and handles its events.
    fn drain_gateway(&mut self) {
        loop {
            let mut buf = self.buffer();
            let now = self.now;
            let t = timed!(
                self,
                self.gw.poll_transmit(now, &mut self.gw_rng, &mut buf[..])
            );
            let Some(t) = t else {
                self.free.push(buf);
                break;
            };
            let (dst, src, esp) = match t.destination {
                Destination::Client { local_port, remote } => {
                    (remote, SocketAddrV4::new(GATEWAY, local_port), false)
                }
                Destination::ClientEsp { remote } => (
                    SocketAddrV4::new(remote, 0),
                    SocketAddrV4::new(GATEWAY, 0),
                    true,
                ),
                Destination::Radius { .. } => {
                    self.free.push(buf);
                    continue;
                }
            };
            self.send(Packet {
                at: now,
                seq: 0,
                to_gateway: false,
                src,
                dst,
                esp,
                buf,
                range: t.range,
            });
        }
        while let Some(e) = self.gw.poll_event() {
            match e {
                Event::SessionUp { .. } => self.sessions_up += 1,
                Event::LoginRefused { user, reason, .. } => {
                    self.refused += 1;
                    log::warn!("login of {user} refused: {reason:?}");
                }
                Event::EspKeys(k) => {
                    if let Some(c) = self.capture.as_mut() {
                        c.sa(&k);
                    }
                }
                Event::Debug(line) => println!("{}", line.text),
                _ => {}
            }
        }
    }

    /// The NAT's public port for client `i`'s private port.
    fn nat_port(&mut self, i: usize, port: u16) -> u16 {
        if let Some(p) = self.nat_out.get(&(i, port)) {
            return *p;
        }
        let p = self.next_nat_port;
        self.next_nat_port = self.next_nat_port.wrapping_add(1).max(1024);
        self.nat_out.insert((i, port), p);
        self.nat_in.insert(p, (i, port));
        p
    }

    /// Where client `i`'s datagram appears to come from on the gateway's
    /// side; `None` if the NAT drops it (plain ESP).
    fn outside_source(
        &mut self,
        i: usize,
        d: DialerDestination,
    ) -> Option<(SocketAddrV4, SocketAddrV4, bool)> {
        let node = &self.nodes[i];
        let (address, nat) = (node.address, node.nat);
        match d {
            DialerDestination::Udp { local_port, remote } => {
                let src = if nat {
                    SocketAddrV4::new(NAT_PUBLIC, self.nat_port(i, local_port))
                } else {
                    SocketAddrV4::new(address, local_port)
                };
                Some((src, remote, false))
            }
            DialerDestination::Esp { remote } if !nat => Some((
                SocketAddrV4::new(address, 0),
                SocketAddrV4::new(remote, 0),
                true,
            )),
            DialerDestination::Esp { .. } => None,
        }
    }

    /// Drains client `i` onto the wire and handles its events.
    fn drain_client(&mut self, i: usize) {
        let now = self.now;
        loop {
            let mut buf = self.buffer();
            let Some(t) = self.nodes[i].dialer.poll_transmit(now, &mut buf[..]) else {
                self.free.push(buf);
                break;
            };
            match self.outside_source(i, t.destination) {
                Some((src, dst, esp)) => self.send(Packet {
                    at: now,
                    seq: 0,
                    to_gateway: true,
                    src,
                    dst,
                    esp,
                    buf,
                    range: t.range,
                }),
                None => self.free.push(buf),
            }
        }
        while let Some(e) = self.nodes[i].dialer.poll_event() {
            match e {
                DialerEvent::Up(cfg) => {
                    self.nodes[i].assigned = Some(cfg.local);
                    self.nodes[i].up_at = Some(now);
                }
                DialerEvent::IpsecUp if !self.nodes[i].keys_captured => {
                    self.nodes[i].keys_captured = true;
                    if let Some(c) = self.capture.as_mut() {
                        for k in self.nodes[i].dialer.esp_keys() {
                            c.sa(k);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Delivers one datagram and drains the side that received it.
    fn deliver(&mut self, mut p: Packet) {
        let now = self.now;
        if p.to_gateway {
            let r = if p.esp {
                timed!(
                    self,
                    self.gw.handle_esp(
                        now,
                        *p.src.ip(),
                        &mut p.buf[..],
                        p.range.clone(),
                        &mut self.gw_rng
                    )
                )
            } else {
                timed!(
                    self,
                    self.gw.handle_datagram(
                        now,
                        p.src,
                        p.dst,
                        &mut p.buf[..],
                        p.range.clone(),
                        &mut self.gw_rng
                    )
                )
            };
            if let Err(e) = r {
                log::debug!("gateway refused a datagram from {}: {e}", p.src);
            }
            self.free.push(p.buf);
            self.drain_gateway();
            return;
        }
        let target = if *p.dst.ip() == NAT_PUBLIC {
            self.nat_in.get(&p.dst.port()).copied()
        } else {
            self.by_address.get(p.dst.ip()).map(|&i| (i, p.dst.port()))
        };
        let Some((i, port)) = target else {
            self.free.push(p.buf);
            return;
        };
        let rng = &mut self.client_rng;
        let d = &mut self.nodes[i].dialer;
        let r = if p.esp {
            d.handle_esp(now, &mut p.buf[..], p.range.clone(), rng)
        } else {
            d.handle_datagram(now, p.src, port, &mut p.buf[..], p.range.clone(), rng)
        };
        if let Err(e) = r {
            log::debug!("client {i} refused a datagram: {e}");
        }
        self.free.push(p.buf);
        self.drain_client(i);
    }

    /// Runs the simulated network until `until`, or until `done` says so.
    fn run_until(&mut self, until: Duration, mut done: impl FnMut(&Self) -> bool) {
        while self.now < until && !done(self) {
            let mut next = until;
            if let Some(Reverse(p)) = self.wire.peek() {
                next = next.min(p.at);
            }
            if let Some(t) = self.gw.poll_timeout() {
                next = next.min(t);
            }
            for n in &self.nodes {
                if let Some(t) = n.dialer.poll_timeout() {
                    next = next.min(t);
                }
            }
            self.now = self.now.max(next);
            while self.wire.peek().is_some_and(|Reverse(p)| p.at <= self.now) {
                if let Some(Reverse(p)) = self.wire.pop() {
                    self.deliver(p);
                }
            }
            let now = self.now;
            if self.gw.poll_timeout().is_some_and(|t| t <= now) {
                timed!(self, self.gw.handle_timeout(now, &mut self.gw_rng));
                self.drain_gateway();
            }
            for i in 0..self.nodes.len() {
                if self.nodes[i]
                    .dialer
                    .poll_timeout()
                    .is_some_and(|t| t <= now)
                {
                    self.nodes[i]
                        .dialer
                        .handle_timeout(now, &mut self.client_rng);
                    self.drain_client(i);
                }
            }
        }
    }

    /// Clients up on both ends: IPCP Opened at the client and a session
    /// up at the gateway (a lost Configure-Ack can leave the gateway's
    /// IPCP behind the client's for a restart interval).
    fn up(&self) -> usize {
        let c = self.gw.counters();
        let gateway = usize::try_from(c.sessions_up.saturating_sub(c.sessions_down)).unwrap_or(0);
        self.nodes
            .iter()
            .filter(|n| n.assigned.is_some())
            .count()
            .min(gateway)
    }

    /// Phase 1: every client connects, one every 5 ms of simulated time;
    /// the network runs until all are up (or two simulated minutes pass).
    fn set_up(&mut self, report: &mut Report, progress: &mut Progress) {
        let wall = Instant::now();
        let cpu = thread_cpu_time();
        let gw_before = self.gw_time;
        let start = Duration::from_secs(1);
        self.now = start;
        let n = self.nodes.len();
        for i in 0..n {
            let at = start + ARRIVAL * u32::try_from(i).unwrap_or(u32::MAX);
            self.run_until(at, |_| false);
            self.now = at;
            if let Err(e) = self.nodes[i].dialer.connect(at, &mut self.client_rng) {
                log::error!("client {i}: {e}");
            }
            self.drain_client(i);
            progress.show(self.up(), n, self.now);
        }
        let limit = self.now + Duration::from_secs(120);
        while self.now < limit && self.up() < n {
            let step = self.now + Duration::from_millis(50);
            self.run_until(step.min(limit), |s| s.up() == n);
            progress.show(self.up(), n, self.now);
        }
        progress.done(self.up(), n, self.now);
        report.up = self.up();
        report.setup_sim = self
            .nodes
            .iter()
            .filter_map(|n| n.up_at)
            .max()
            .unwrap_or(self.now)
            .saturating_sub(start);
        report.setup_wall = wall.elapsed();
        report.setup_cpu = cpu.zip(thread_cpu_time()).map(|(a, b)| b.saturating_sub(a));
        report.setup_gateway = self.gw_time - gw_before;
        report.wire = (self.sent, self.lost);
    }

    /// Phase 2: IPv4 packets of `size` bytes from each client to the
    /// inside and back, straight through the data path, for `time`.
    /// Every packet is checked on arrival. Returns (packets each way,
    /// gateway time, wall time).
    fn throughput(
        &mut self,
        size: usize,
        time: Duration,
    ) -> Result<(u64, Duration, Duration), String> {
        let up: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].assigned.is_some())
            .collect();
        if up.is_empty() {
            return Ok((0, Duration::ZERO, Duration::ZERO));
        }
        let mut buf = self.buffer();
        let gw_before = self.gw_time;
        let wall = Instant::now();
        let mut packets = 0u64;
        let now = self.now;
        'outer: loop {
            for &i in &up {
                let Some(addr) = self.nodes[i].assigned else {
                    continue;
                };
                // Uplink: the client seals, the gateway opens.
                let range = write_udp_packet(&mut buf[..], addr, INSIDE, size, packets);
                let t = self.nodes[i]
                    .dialer
                    .handle_ip(now, &mut buf[..], range)
                    .map_err(|e| format!("client {i} cannot send: {e}"))?;
                let Some((src, dst, esp)) = self.outside_source(i, t.destination) else {
                    return Err(format!("client {i}: plain ESP behind the NAT"));
                };
                let r = if esp {
                    timed!(
                        self,
                        self.gw
                            .handle_esp(now, *src.ip(), &mut buf[..], t.range, &mut self.gw_rng)
                    )
                } else {
                    timed!(
                        self,
                        self.gw.handle_datagram(
                            now,
                            src,
                            dst,
                            &mut buf[..],
                            t.range,
                            &mut self.gw_rng
                        )
                    )
                };
                match r {
                    Ok(Some(p)) if check_packet(&buf[p.clone()], addr, INSIDE, size, packets) => {}
                    other => return Err(format!("uplink of client {i}: {other:?}")),
                }
                // Downlink: the gateway seals, the client opens.
                let range = write_udp_packet(&mut buf[..], INSIDE, addr, size, packets);
                let t = timed!(self, self.gw.handle_ip(now, &mut buf[..], range))
                    .map_err(|e| format!("downlink to client {i}: {e}"))?;
                let node = &mut self.nodes[i];
                let r = match t.destination {
                    Destination::Client { remote, .. } => {
                        let port = if node.nat {
                            self.nat_in.get(&remote.port()).map_or(0, |&(_, p)| p)
                        } else {
                            remote.port()
                        };
                        node.dialer.handle_datagram(
                            now,
                            SocketAddrV4::new(GATEWAY, NAT_T_PORT),
                            port,
                            &mut buf[..],
                            t.range,
                            &mut self.client_rng,
                        )
                    }
                    Destination::ClientEsp { .. } => {
                        node.dialer
                            .handle_esp(now, &mut buf[..], t.range, &mut self.client_rng)
                    }
                    Destination::Radius { .. } => return Err("downlink to RADIUS".into()),
                };
                match r {
                    Ok(Some(p)) if check_packet(&buf[p.clone()], INSIDE, addr, size, packets) => {}
                    other => return Err(format!("downlink to client {i}: {other:?}")),
                }
                packets += 1;
                if packets.is_multiple_of(256) && wall.elapsed() >= time {
                    break 'outer;
                }
            }
        }
        self.free.push(buf);
        Ok((packets, self.gw_time - gw_before, wall.elapsed()))
    }

    /// Phase 3: every client hangs up (PPP Terminate, CDN, StopCCN, then
    /// the IKE Deletes); the network runs until the gateway holds nothing.
    fn tear_down(&mut self) -> Resources {
        let now = self.now;
        for i in 0..self.nodes.len() {
            self.nodes[i].dialer.disconnect(now, &mut self.client_rng);
            self.drain_client(i);
        }
        self.run_until(now + Duration::from_secs(5), |_| false);
        let now = self.now;
        for i in 0..self.nodes.len() {
            self.nodes[i].dialer.delete_sas(now, &mut self.client_rng);
            self.drain_client(i);
        }
        let limit = self.now + Duration::from_secs(120);
        while self.now < limit && self.gw.resources() != Resources::default() {
            let step = self.now + Duration::from_secs(1);
            self.run_until(step, |s| s.gw.resources() == Resources::default());
        }
        self.gw.resources()
    }

    /// A console command against the gateway.
    fn console(&mut self, line: &str) -> String {
        let mut out = String::new();
        let now = self.now;
        let _ = self.gw.console(now, line, &mut out);
        out
    }
}

/// Writes an IPv4/UDP packet of `size` bytes in all at [`HEADROOM`]:
/// `seq` in the payload, the rest a pattern.
fn write_udp_packet(
    buf: &mut [u8],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    size: usize,
    seq: u64,
) -> Range<usize> {
    let size = size.clamp(36, 1500);
    let p = &mut buf[HEADROOM..HEADROOM + size];
    p[..20].copy_from_slice(&[
        0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    p[2..4].copy_from_slice(&u16::try_from(size).unwrap_or(1500).to_be_bytes());
    p[12..16].copy_from_slice(&src.octets());
    p[16..20].copy_from_slice(&dst.octets());
    let sum = crate::pcap::internet_checksum(&p[..20]);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    p[20..22].copy_from_slice(&9000u16.to_be_bytes());
    p[22..24].copy_from_slice(&9000u16.to_be_bytes());
    p[24..26].copy_from_slice(&u16::try_from(size - 20).unwrap_or(0).to_be_bytes());
    p[26..28].copy_from_slice(&[0, 0]);
    p[28..36].copy_from_slice(&seq.to_be_bytes());
    for (j, b) in p[36..].iter_mut().enumerate() {
        *b = pattern(j);
    }
    HEADROOM..HEADROOM + size
}

/// The payload byte at offset `j`.
fn pattern(j: usize) -> u8 {
    u8::try_from(j & 0xff).unwrap_or(0).wrapping_mul(31)
}

fn check_packet(p: &[u8], src: Ipv4Addr, dst: Ipv4Addr, size: usize, seq: u64) -> bool {
    let size = size.clamp(36, 1500);
    p.len() == size
        && p[12..16] == src.octets()
        && p[16..20] == dst.octets()
        && p[28..36] == seq.to_be_bytes()
        && p[36..].iter().enumerate().all(|(j, &b)| b == pattern(j))
}

/// The progress bar on standard error while sessions come up (one line at
/// the end when standard error is not a terminal).
#[derive(Debug)]
struct Progress {
    tty: bool,
    last: usize,
}

impl Progress {
    fn show(&mut self, up: usize, n: usize, now: Duration) {
        if !self.tty || up == self.last && up != 0 {
            return;
        }
        self.last = up;
        let width = 40;
        let filled = up * width / n.max(1);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\rsessions up [{}{}] {up}/{n}  (simulated t = {:.2} s)",
            "#".repeat(filled),
            ".".repeat(width - filled),
            now.as_secs_f64()
        );
        let _ = err.flush();
    }

    fn done(&mut self, up: usize, n: usize, now: Duration) {
        self.last = usize::MAX;
        if self.tty {
            self.show(up, n, now);
            eprintln!();
        } else {
            eprintln!(
                "sessions up: {up}/{n} (simulated t = {:.2} s)",
                now.as_secs_f64()
            );
        }
    }
}

fn rate(count: f64, time: Duration) -> f64 {
    if time.is_zero() {
        0.0
    } else {
        count / time.as_secs_f64()
    }
}

/// Runs `lns simulate` and prints its report. Returns whether every client
/// came up, carried traffic, and left nothing behind.
///
/// # Errors
/// The capture file cannot be created.
pub fn run(args: &SimulateArgs) -> std::io::Result<bool> {
    let mut sim = Sim::new(args)?;
    println!(
        "lns simulate: {} clients{} against one gateway, {:.1}% loss each way, 5 ms latency (seed {})",
        args.clients,
        if args.nat { " behind one NAT" } else { "" },
        args.loss * 100.0,
        args.seed
    );
    let mut report = Report::default();
    let mut progress = Progress {
        tty: crate::sys::is_terminal(2),
        last: usize::MAX,
    };
    sim.set_up(&mut report, &mut progress);
    let mut ok = report.up == args.clients;
    if !ok {
        println!(
            "only {} of {} clients came up ({} refused)",
            report.up, args.clients, sim.refused
        );
    }

    // The capture holds the control plane; the throughput phase would
    // swamp it.
    let capture = sim.capture.take();
    let per_size = Duration::from_secs_f64(args.seconds / 3.0);
    for size in [64, 512, 1400] {
        match sim.throughput(size, per_size) {
            Ok((packets, gw, wall)) => report.throughput.push((size, packets, gw, wall)),
            Err(e) => {
                println!("data path error: {e}");
                ok = false;
            }
        }
    }
    // Traffic in the counters `show` prints, then the operator's view.
    sim.run_until(sim.now + Duration::from_secs(1), |_| false);
    println!();
    println!("# show vpn-sessiondb summary");
    print!("{}", sim.console("show vpn-sessiondb summary"));
    println!();
    let detail = format!(
        "show vpn-sessiondb detail remote filter name {}",
        sim.nodes[0].user
    );
    println!("# {detail}");
    print!("{}", sim.console(&detail));
    sim.capture = capture;

    report.left = sim.tear_down();
    let clean = report.left == Resources::default();
    ok &= clean;

    println!();
    println!(
        "Set-up: {} sessions in {:.2} s of simulated time; {:.3} s wall-clock for both ends \
         ({:.0} sessions/s), of which {:.3} s in the gateway ({:.0} sessions/s for the gateway alone)",
        report.up,
        report.setup_sim.as_secs_f64(),
        report.setup_wall.as_secs_f64(),
        rate(report.up as f64, report.setup_wall),
        report.setup_gateway.as_secs_f64(),
        rate(report.up as f64, report.setup_gateway),
    );
    if let Some(cpu) = report.setup_cpu.filter(|_| report.up > 0) {
        // The gateway's share of the CPU time, in the proportion of its
        // share of the wall-clock time (preemption falls on both alike).
        let share = report.setup_gateway.as_secs_f64() / report.setup_wall.as_secs_f64().max(1e-9);
        let per = cpu.as_secs_f64() / report.up as f64;
        println!(
            "        CPU time: {:.3} s for both ends, {:.2} ms per session; the gateway's share {:.2} ms per session",
            cpu.as_secs_f64(),
            per * 1e3,
            per * share.min(1.0) * 1e3,
        );
    }
    println!(
        "        {} datagrams on the simulated wire, {} lost",
        report.wire.0, report.wire.1
    );
    println!(
        "Data path, straight through (IPv4 packets of SIZE bytes; each client sends one and gets one back):"
    );
    println!(
        "   size   gateway packets/s   gateway Mbit/s   (whole loop incl. clients: packets/s)"
    );
    for (size, packets, gw, wall) in &report.throughput {
        let both = 2.0 * *packets as f64;
        println!(
            "  {size:>5}   {:>17.0}   {:>14.1}   {:>10.0}",
            rate(both, *gw),
            rate(both * *size as f64 * 8.0, *gw) / 1e6,
            rate(both, *wall),
        );
    }
    println!(
        "Teardown: every client hung up; the gateway holds {}",
        if clean {
            "nothing (sessions, addresses, SAs, tunnels, RADIUS requests all 0)".to_string()
        } else {
            format!("{:?}", report.left)
        }
    );
    if let Some(c) = &sim.capture {
        println!(
            "Capture: {} with ESP keys in {}",
            args.pcap
                .as_deref()
                .map_or(String::new(), |p| p.display().to_string()),
            c.keys_path().display()
        );
    }
    Ok(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(clients: usize, nat: bool, loss: f64) -> SimulateArgs {
        SimulateArgs {
            clients,
            loss,
            nat,
            seconds: 0.0,
            seed: 7,
            pcap: None,
        }
    }

    fn on_big_stack(f: impl FnOnce() + Send + 'static) {
        crate::run_big(f);
    }

    #[test]
    fn clients_come_up_carry_checked_packets_and_leave_nothing() {
        on_big_stack(|| {
            for nat in [false, true] {
                let a = args(12, nat, 0.02);
                let mut sim = Sim::new(&a).unwrap();
                let mut report = Report::default();
                let mut progress = Progress {
                    tty: false,
                    last: usize::MAX,
                };
                sim.set_up(&mut report, &mut progress);
                assert_eq!(report.up, 12, "nat {nat}");
                assert!(report.wire.1 > 0, "the loss was exercised");
                let (packets, _, _) = sim.throughput(512, Duration::ZERO).unwrap();
                assert!(packets >= 12, "each client sent and received");
                let summary = sim.console("show vpn-sessiondb summary");
                let protocol = if nat {
                    "L2TPOverIPSecOverNatT"
                } else {
                    "L2TPOverIPSec"
                };
                assert!(summary.contains(protocol), "{summary}");
                let detail = sim.console("show vpn-sessiondb detail remote filter name alice");
                assert!(
                    detail.contains("Username     : alice")
                        || detail.contains("Username      : alice"),
                    "{detail}"
                );
                assert_eq!(sim.tear_down(), Resources::default());
            }
        });
    }

    #[test]
    fn a_datagram_that_is_not_the_packet_sent_fails_the_check() {
        let mut buf = [0u8; BUF_LEN];
        let a = Ipv4Addr::new(10, 0, 0, 1);
        let b = Ipv4Addr::new(10, 0, 0, 2);
        let r = write_udp_packet(&mut buf, a, b, 100, 5);
        assert_eq!(
            crate::pcap::internet_checksum(&buf[r.start..r.start + 20]),
            0
        );
        assert!(check_packet(&buf[r.clone()], a, b, 100, 5));
        assert!(!check_packet(&buf[r.clone()], a, b, 100, 6));
        buf[r.end - 1] ^= 1;
        assert!(!check_packet(&buf[r], a, b, 100, 5));
    }

    #[test]
    fn credentials_match_the_configuration() {
        let config = config(100);
        for i in 0..100 {
            let (user, password, _) = credentials(i);
            let u = config.user(&user).unwrap();
            assert!(u.verify_pap(password.as_bytes()), "{user}");
        }
    }
}
