//! A simulated network for the gateway and its clients: a hand-advanced
//! clock, a NAT in front of the clients that want one, and loss,
//! duplication and reordering drawn from a seeded RNG.
#![allow(dead_code, clippy::cast_possible_truncation)]

pub mod datapath;
pub mod radius;

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sessiondb::Config;
use sessiondb::dialer::{Dialer, DialerConfig, DialerDestination, DialerEvent};
use sessiondb::gateway::{self, Destination, Gateway, Options};

/// The simulated gateway: 64 sessions.
pub type SimGateway = Gateway<64, 128, 256, 16, 8>;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

pub const GATEWAY: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
pub const NAT_PUBLIC: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
pub const PSK: &[u8] = b"l2tp-sim-psk";

/// The chapter's configuration, with values filled in, plus a pool for
/// the simulation and local users.
pub fn config(extra: &str) -> Config {
    let text = format!(
        "ip local pool sim 10.10.0.10-10.10.0.250 mask 255.255.255.0
crypto ipsec transform-set TS esp-aes esp-sha-hmac
crypto ipsec transform-set TS mode transport
crypto ipsec transform-set TS3 esp-3des esp-sha-hmac
crypto ipsec transform-set TS3 mode transport
crypto dynamic-map dyn 10 set transform-set TS TS3
crypto map outside_map 20 ipsec-isakmp dynamic dyn
crypto map outside_map interface outside
crypto isakmp enable outside
crypto isakmp policy 10
 authentication pre-share
 encryption aes-256
 hash sha
 group 14
 lifetime 86400
crypto isakmp policy 20
 authentication pre-share
 encryption 3des
 hash sha
 group 2
 lifetime 86400
crypto isakmp nat-traversal 20
group-policy DfltGrpPolicy attributes
 dns-server value 10.10.0.2 10.10.0.3
 wins-server value 10.10.0.4
 vpn-tunnel-protocol l2tp-ipsec
tunnel-group DefaultRAGroup general-attributes
 address-pool sim
tunnel-group DefaultRAGroup ipsec-attributes
 pre-shared-key {psk}
tunnel-group DefaultRAGroup ppp-attributes
 authentication ms-chap-v2
 authentication ms-chap-v1
 authentication pap
username alice password s3cret-Pass mschap
username bob password b0b-pass mschap
{extra}",
        psk = std::str::from_utf8(PSK).unwrap()
    );
    Config::parse(&text).unwrap_or_else(|e| panic!("{e}"))
}

pub fn options() -> Options {
    Options {
        inside_address: Ipv4Addr::new(10, 10, 0, 1),
        ..Options::default()
    }
}

#[derive(Clone, Debug)]
pub enum Wire {
    Udp {
        src: SocketAddrV4,
        dst: SocketAddrV4,
        payload: Vec<u8>,
    },
    Esp {
        src: Ipv4Addr,
        dst: Ipv4Addr,
        payload: Vec<u8>,
    },
    /// Between the gateway and the RADIUS server.
    Radius {
        to_server: bool,
        server: SocketAddrV4,
        payload: Vec<u8>,
    },
}

pub struct Faults {
    pub loss: f64,
    pub duplicate: f64,
    pub reorder: f64,
}

impl Faults {
    pub const NONE: Self = Self {
        loss: 0.0,
        duplicate: 0.0,
        reorder: 0.0,
    };
}

pub struct Client {
    pub dialer: Dialer,
    /// The client's own address.
    pub private: Ipv4Addr,
    pub behind_nat: bool,
    pub up: Option<DialerEvent>,
    pub address: Option<Ipv4Addr>,
    pub received: Vec<Vec<u8>>,
    pub events: Vec<DialerEvent>,
}

pub struct Sim {
    pub now: Duration,
    pub rng: ChaCha20Rng,
    pub gateway: Box<SimGateway>,
    pub gateway_rng: ChaCha20Rng,
    pub clients: Vec<Client>,
    pub client_rng: ChaCha20Rng,
    /// Packets in flight: (delivery time, sequence, to the gateway?, client index, wire).
    pub in_flight: Vec<(Duration, u64, Option<usize>, Wire)>,
    seq: u64,
    /// NAT: (client index, private port) <-> public port.
    nat_out: HashMap<(usize, u16), u16>,
    nat_in: HashMap<u16, (usize, u16)>,
    next_nat_port: u16,
    pub faults: Faults,
    pub gateway_events: Vec<gateway::Event>,
    pub inside: Vec<Vec<u8>>,
    pub dropped: u64,
    /// Every datagram the gateway sent to a client, as sent.
    pub to_clients: Vec<Wire>,
    pub radius: radius::FakeRadius,
    /// Send RADIUS to a real server over loopback instead (FreeRADIUS).
    pub real_radius: Option<std::net::UdpSocket>,
    vanished: std::collections::HashSet<usize>,
}

impl Sim {
    pub fn new(config: Config, seed: u64) -> Self {
        Self::with_options(config, options(), seed)
    }

    pub fn with_options(config: Config, options: Options, seed: u64) -> Self {
        Self {
            now: Duration::from_secs(1),
            rng: ChaCha20Rng::seed_from_u64(seed),
            gateway: Box::new(SimGateway::new(config, options)),
            gateway_rng: ChaCha20Rng::seed_from_u64(seed ^ 0x6a7e),
            clients: Vec::new(),
            client_rng: ChaCha20Rng::seed_from_u64(seed ^ 0xc11e),
            in_flight: Vec::new(),
            seq: 0,
            nat_out: HashMap::new(),
            nat_in: HashMap::new(),
            next_nat_port: 40_000,
            faults: Faults::NONE,
            gateway_events: Vec::new(),
            inside: Vec::new(),
            dropped: 0,
            to_clients: Vec::new(),
            radius: radius::FakeRadius::default(),
            real_radius: None,
            vanished: std::collections::HashSet::new(),
        }
    }

    /// Adds a client with the given PPP method and credentials.
    pub fn add_client(
        &mut self,
        behind_nat: bool,
        user: &str,
        password: &str,
        method: ppp_core::AuthMethod,
    ) -> usize {
        let private = self.next_client_address(behind_nat);
        let config = DialerConfig::windows_like(
            SocketAddrV4::new(GATEWAY, 500),
            SocketAddrV4::new(private, 500),
            PSK,
            user.as_bytes(),
            password.as_bytes(),
        )
        .unwrap()
        .with_method(method);
        self.add_dialer(behind_nat, &config)
    }

    /// The address a new client gets (private behind the NAT, public
    /// otherwise).
    pub fn next_client_address(&self, behind_nat: bool) -> Ipv4Addr {
        let i = self.clients.len();
        if behind_nat {
            Ipv4Addr::new(10, 0, 0, 2 + i as u8)
        } else {
            Ipv4Addr::new(198, 51, 100, 10 + i as u8)
        }
    }

    /// Adds a client made from `config` (whose `local` should be
    /// [`next_client_address`](Self::next_client_address)).
    pub fn add_dialer(&mut self, behind_nat: bool, config: &DialerConfig) -> usize {
        self.clients.push(Client {
            dialer: Dialer::new(config).unwrap(),
            private: *config.local.ip(),
            behind_nat,
            up: None,
            address: None,
            received: Vec::new(),
            events: Vec::new(),
        });
        self.clients.len() - 1
    }

    /// A Windows-like client that offers IPsec SAs without a lifetime (the
    /// dialer does not rekey; Windows offers an hour), for runs longer
    /// than that.
    pub fn add_lasting_client(&mut self, user: &str, password: &str) -> usize {
        let private = self.next_client_address(true);
        let mut config = DialerConfig::windows_like(
            SocketAddrV4::new(GATEWAY, 500),
            SocketAddrV4::new(private, 500),
            PSK,
            user.as_bytes(),
            password.as_bytes(),
        )
        .unwrap()
        .with_method(ppp_core::AuthMethod::MsChapV2);
        config.ike.initiator.esp_lifetime = ike_core::config::IpsecLifetime {
            seconds: 0,
            kilobytes: 0,
        };
        self.add_dialer(true, &config)
    }

    pub fn connect(&mut self, i: usize) {
        let now = self.now;
        self.clients[i]
            .dialer
            .connect(now, &mut self.client_rng)
            .unwrap();
        self.flush();
    }

    fn trace(&self, from_client: Option<usize>, wire: &Wire, what: &str) {
        let Ok(t) = std::env::var("SIM_TRACE") else {
            return;
        };
        let (src, dst, len, head) = match wire {
            Wire::Radius {
                server,
                payload,
                to_server,
            } => (
                format!("radius {to_server}"),
                server.to_string(),
                payload.len(),
                String::new(),
            ),
            Wire::Udp { src, dst, payload } => (
                src.to_string(),
                dst.to_string(),
                payload.len(),
                payload
                    .iter()
                    .take(24)
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>(),
            ),
            Wire::Esp { src, dst, payload } => (
                src.to_string(),
                dst.to_string(),
                payload.len(),
                String::from("esp"),
            ),
        };
        let involves = |ip: &str| t.split(',').any(|x| ip.contains(x));
        if involves(&src) || involves(&dst) {
            eprintln!(
                "{:>8.3} {what:5} {:?} {src} -> {dst} {len} {head}",
                self.now.as_secs_f64(),
                from_client
            );
        }
    }

    fn send(&mut self, to_gateway: Option<usize>, wire: Wire) {
        self.trace(to_gateway, &wire, "send");
        if to_gateway.is_none() {
            self.to_clients.push(wire.clone());
        }
        if self.rng.random_bool_f64(self.faults.loss) {
            self.trace(to_gateway, &wire, "LOST");
            self.dropped += 1;
            return;
        }
        let copies = if self.rng.random_bool_f64(self.faults.duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let delay = if self.rng.random_bool_f64(self.faults.reorder) {
                Duration::from_millis(5 + u64::from(self.rng.next_u32() % 40))
            } else {
                Duration::from_millis(5)
            };
            self.seq += 1;
            self.in_flight
                .push((self.now + delay, self.seq, to_gateway, wire.clone()));
        }
    }

    /// `clients` hang up (PPP Terminate, CDN, StopCCN) and the network runs
    /// for `linger`; then they delete their SAs (the IKE Deletes) and it
    /// runs for `after`.
    pub fn hang_up(
        &mut self,
        clients: impl IntoIterator<Item = usize> + Clone,
        linger: Duration,
        after: Duration,
    ) {
        for c in clients.clone() {
            let now = self.now;
            self.clients[c].dialer.disconnect(now, &mut self.client_rng);
        }
        self.flush();
        self.run_until(self.now + linger);
        for c in clients {
            let now = self.now;
            self.clients[c].dialer.delete_sas(now, &mut self.client_rng);
        }
        self.flush();
        self.run_until(self.now + after);
    }

    /// Drains every output of the gateway and the clients into the network.
    pub fn flush(&mut self) {
        let now = self.now;
        let mut buf = vec![0u8; 4096];
        while let Some(t) = self
            .gateway
            .poll_transmit(now, &mut self.gateway_rng, &mut buf)
        {
            let payload = buf[t.range.clone()].to_vec();
            match t.destination {
                Destination::Client { local_port, remote } => {
                    let wire = Wire::Udp {
                        src: SocketAddrV4::new(GATEWAY, local_port),
                        dst: remote,
                        payload,
                    };
                    self.send(None, wire);
                }
                Destination::ClientEsp { remote } => {
                    self.send(
                        None,
                        Wire::Esp {
                            src: GATEWAY,
                            dst: remote,
                            payload,
                        },
                    );
                }
                Destination::Radius { server } => {
                    self.send(
                        None,
                        Wire::Radius {
                            to_server: true,
                            server,
                            payload,
                        },
                    );
                }
            }
        }
        while let Some(e) = self.gateway.poll_event() {
            if std::env::var("SIM_DEBUG").is_ok() {
                eprintln!("{:>8.3} gateway {:?}", self.now.as_secs_f64(), e);
            }
            self.gateway_events.push(e);
        }
        for i in 0..self.clients.len() {
            while let Some(t) = self.clients[i].dialer.poll_transmit(now, &mut buf) {
                if self.vanished.contains(&i) {
                    continue;
                }
                let payload = buf[t.range.clone()].to_vec();
                let private = self.clients[i].private;
                let wire = match t.destination {
                    DialerDestination::Udp { local_port, remote } => Wire::Udp {
                        src: SocketAddrV4::new(private, local_port),
                        dst: remote,
                        payload,
                    },
                    DialerDestination::Esp { remote } => Wire::Esp {
                        src: private,
                        dst: remote,
                        payload,
                    },
                };
                let wire = if self.clients[i].behind_nat {
                    self.nat_outbound(i, wire)
                } else {
                    Some(wire)
                };
                if let Some(w) = wire {
                    self.send(Some(i), w);
                }
            }
            while let Some(e) = self.clients[i].dialer.poll_event() {
                if let DialerEvent::Up(cfg) = e {
                    self.clients[i].address = Some(cfg.local);
                    self.clients[i].up = Some(e);
                }
                self.clients[i].events.push(e);
            }
        }
    }

    fn nat_outbound(&mut self, i: usize, wire: Wire) -> Option<Wire> {
        match wire {
            Wire::Udp { src, dst, payload } => {
                let key = (i, src.port());
                let port = match self.nat_out.get(&key) {
                    Some(p) => *p,
                    None => {
                        let p = self.next_nat_port;
                        self.next_nat_port += 1;
                        self.nat_out.insert(key, p);
                        self.nat_in.insert(p, key);
                        p
                    }
                };
                Some(Wire::Udp {
                    src: SocketAddrV4::new(NAT_PUBLIC, port),
                    dst,
                    payload,
                })
            }
            // A NAT without IPsec passthrough drops plain ESP.
            Wire::Esp { .. } | Wire::Radius { .. } => None,
        }
    }

    /// Puts a new dialer in client slot `i` (a new connection from the same
    /// host: the NAT gives it new public ports).
    pub fn renew_client(&mut self, i: usize, config: &DialerConfig) {
        self.vanished.remove(&i);
        self.rebind_nat(i);
        let c = &mut self.clients[i];
        c.dialer = Dialer::new(config).unwrap();
        c.up = None;
        c.address = None;
        c.received.clear();
        c.events.clear();
    }

    /// Whether client `i` vanished.
    pub fn has_vanished(&self, i: usize) -> bool {
        self.vanished.contains(&i)
    }

    /// Sends `wire` from client `i` (through its NAT, if behind one).
    pub fn send_from_client(&mut self, i: usize, wire: Wire) {
        let wire = if self.clients[i].behind_nat {
            self.nat_outbound(i, wire)
        } else {
            Some(wire)
        };
        if let Some(w) = wire {
            self.send(Some(i), w);
        }
    }

    /// Puts `wire` on the network towards the gateway as it is (a replay
    /// of something already sent).
    pub fn send_from_client_raw(&mut self, wire: Wire) {
        self.send(Some(0), wire);
    }

    /// The client is gone: nothing more from it, nothing reaches it.
    pub fn vanish(&mut self, i: usize) {
        self.vanished.insert(i);
    }

    /// Moves a client's NAT mapping to new public ports (a rebinding).
    pub fn rebind_nat(&mut self, i: usize) {
        let keys: Vec<_> = self
            .nat_out
            .keys()
            .filter(|(c, _)| *c == i)
            .copied()
            .collect();
        for key in keys {
            let old = self.nat_out.remove(&key).unwrap();
            self.nat_in.remove(&old);
            let p = self.next_nat_port;
            self.next_nat_port += 1;
            self.nat_out.insert(key, p);
            self.nat_in.insert(p, key);
        }
    }

    /// Delivers what is due, then runs timers, until `until`.
    pub fn run_until(&mut self, until: Duration) {
        while self.now < until {
            self.in_flight.sort_by_key(|(t, s, _, _)| (*t, *s));
            let next_packet = self.in_flight.first().map(|(t, ..)| *t);
            let mut next = [next_packet, self.gateway.poll_timeout()]
                .into_iter()
                .chain(self.clients.iter().map(|c| c.dialer.poll_timeout()))
                .flatten()
                .min()
                .unwrap_or(until)
                .min(until);
            if next < self.now {
                next = self.now;
            }
            self.now = next;
            while let Some(pos) = self.in_flight.iter().position(|(t, ..)| *t <= self.now) {
                let (_, _, from_client, wire) = self.in_flight.remove(pos);
                self.deliver(from_client, wire);
                self.flush();
            }
            let now = self.now;
            if self.gateway.poll_timeout().is_some_and(|t| t <= now) {
                self.gateway.handle_timeout(now, &mut self.gateway_rng);
            }
            for c in &mut self.clients {
                if c.dialer.poll_timeout().is_some_and(|t| t <= now) {
                    c.dialer.handle_timeout(now, &mut self.client_rng);
                }
            }
            self.flush();
            if self.in_flight.is_empty() && next == until {
                break;
            }
        }
        self.now = self.now.max(until);
    }

    fn deliver(&mut self, from_client: Option<usize>, wire: Wire) {
        let now = self.now;
        let mut buf = vec![0u8; 4096];
        let at = gateway::HEADROOM;
        match (from_client, wire) {
            (Some(_), Wire::Udp { src, dst, payload }) => {
                buf[at..at + payload.len()].copy_from_slice(&payload);
                let r = self.gateway.handle_datagram(
                    now,
                    src,
                    dst,
                    &mut buf,
                    at..at + payload.len(),
                    &mut self.gateway_rng,
                );
                if let Ok(Some(packet)) = r {
                    self.inside.push(buf[packet].to_vec());
                }
            }
            (Some(_), Wire::Esp { src, payload, .. }) => {
                buf[at..at + payload.len()].copy_from_slice(&payload);
                if let Ok(Some(packet)) = self.gateway.handle_esp(
                    now,
                    src,
                    &mut buf,
                    at..at + payload.len(),
                    &mut self.gateway_rng,
                ) {
                    self.inside.push(buf[packet].to_vec());
                }
            }
            (None, Wire::Udp { src, dst, payload }) => {
                let (i, port) = if dst.ip() == &NAT_PUBLIC {
                    match self.nat_in.get(&dst.port()) {
                        Some(&(i, p)) => (i, p),
                        None => return,
                    }
                } else {
                    match self.clients.iter().position(|c| c.private == *dst.ip()) {
                        Some(i) => (i, dst.port()),
                        None => return,
                    }
                };
                if self.vanished.contains(&i) {
                    return;
                }
                buf[at..at + payload.len()].copy_from_slice(&payload);
                let c = &mut self.clients[i];
                if let Ok(Some(packet)) = c.dialer.handle_datagram(
                    now,
                    src,
                    port,
                    &mut buf,
                    at..at + payload.len(),
                    &mut self.client_rng,
                ) {
                    c.received.push(buf[packet].to_vec());
                }
            }
            (
                _,
                Wire::Radius {
                    to_server: true,
                    server,
                    payload,
                },
            ) => {
                let answer = match &self.real_radius {
                    Some(socket) => {
                        socket.send_to(&payload, server).unwrap();
                        let mut answer = vec![0u8; 4096];
                        match socket.recv_from(&mut answer) {
                            Ok((n, _)) => {
                                answer.truncate(n);
                                Some(answer)
                            }
                            Err(_) => None,
                        }
                    }
                    None => self.radius.answer(&payload),
                };
                if let Some(answer) = answer {
                    self.send(
                        Some(usize::MAX),
                        Wire::Radius {
                            to_server: false,
                            server,
                            payload: answer,
                        },
                    );
                }
            }
            (
                _,
                Wire::Radius {
                    to_server: false,
                    server,
                    payload,
                },
            ) => {
                let _ = self
                    .gateway
                    .handle_radius(now, server, &payload, &mut self.gateway_rng);
            }
            (None, Wire::Esp { dst, payload, .. }) => {
                let Some(i) = self.clients.iter().position(|c| c.private == dst) else {
                    return;
                };
                buf[at..at + payload.len()].copy_from_slice(&payload);
                let c = &mut self.clients[i];
                if let Ok(Some(packet)) =
                    c.dialer
                        .handle_esp(now, &mut buf, at..at + payload.len(), &mut self.client_rng)
                {
                    c.received.push(buf[packet].to_vec());
                }
            }
        }
    }

    /// A client sends an IPv4 packet (ICMP-like, protocol 253) to `dst`.
    pub fn client_sends(&mut self, i: usize, dst: Ipv4Addr, body: &[u8]) -> bool {
        let Some(src) = self.clients[i].address else {
            return false;
        };
        let packet = ipv4_packet(src, dst, body);
        let mut buf = vec![0u8; 4096];
        let at = gateway::HEADROOM;
        buf[at..at + packet.len()].copy_from_slice(&packet);
        let now = self.now;
        let Ok(t) = self.clients[i]
            .dialer
            .handle_ip(now, &mut buf, at..at + packet.len())
        else {
            return false;
        };
        let payload = buf[t.range].to_vec();
        let private = self.clients[i].private;
        let wire = match t.destination {
            DialerDestination::Udp { local_port, remote } => Wire::Udp {
                src: SocketAddrV4::new(private, local_port),
                dst: remote,
                payload,
            },
            DialerDestination::Esp { remote } => Wire::Esp {
                src: private,
                dst: remote,
                payload,
            },
        };
        let wire = if self.clients[i].behind_nat {
            self.nat_outbound(i, wire)
        } else {
            Some(wire)
        };
        if let Some(w) = wire {
            self.send(Some(i), w);
        }
        true
    }

    /// The routed side sends an IPv4 packet to a client address.
    pub fn inside_sends(&mut self, src: Ipv4Addr, dst: Ipv4Addr, body: &[u8]) -> bool {
        let packet = ipv4_packet(src, dst, body);
        let mut buf = vec![0u8; 4096];
        let at = gateway::HEADROOM;
        buf[at..at + packet.len()].copy_from_slice(&packet);
        let now = self.now;
        let Ok(t) = self.gateway.handle_ip(now, &mut buf, at..at + packet.len()) else {
            return false;
        };
        let payload = buf[t.range].to_vec();
        let wire = match t.destination {
            Destination::Client { local_port, remote } => Wire::Udp {
                src: SocketAddrV4::new(GATEWAY, local_port),
                dst: remote,
                payload,
            },
            Destination::ClientEsp { remote } => Wire::Esp {
                src: GATEWAY,
                dst: remote,
                payload,
            },
            Destination::Radius { .. } => return false,
        };
        self.send(None, wire);
        true
    }
}

/// A minimal IPv4 packet with a correct header checksum.
pub fn ipv4_packet(src: Ipv4Addr, dst: Ipv4Addr, body: &[u8]) -> Vec<u8> {
    let total = 20 + body.len();
    let mut p = vec![0u8; total];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    p[8] = 64;
    p[9] = 253;
    p[12..16].copy_from_slice(&src.octets());
    p[16..20].copy_from_slice(&dst.octets());
    let mut sum = 0u32;
    for c in p[..20].chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    p[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    p[20..].copy_from_slice(body);
    p
}

trait BoolF64 {
    fn random_bool_f64(&mut self, p: f64) -> bool;
}

impl BoolF64 for ChaCha20Rng {
    fn random_bool_f64(&mut self, p: f64) -> bool {
        p > 0.0 && (f64::from(self.next_u32()) / f64::from(u32::MAX)) < p
    }
}

/// Runs `f` on a thread with a large stack: the gateway is several hundred
/// kilobytes of fixed storage, and a debug build moves it by value on its
/// way into its `Box`.
pub fn big_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}
