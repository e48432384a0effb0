//! The project's own load generator for `scripts/bench-host.sh`.
//!
//! ```text
//! loadgen udp-send --to ADDR:PORT --size BYTES --seconds S [--rate PPS]
//! loadgen udp-sink --listen ADDR:PORT --seconds S
//! loadgen sessions --server ADDR --psk KEY --user NAME --password PW --count N
//! ```
//!
//! `udp-send` sends IPv4 packets of BYTES bytes in all (UDP payload
//! BYTES - 28) as fast as `sendmmsg` takes them, or at PPS packets per
//! second (paced per batch of 64); `udp-sink` counts what
//! arrives and prints `packets bytes seconds` between the first and the
//! last packet (the rate the tunnel delivered). `sessions` runs N client
//! connections (the project's [`Dialer`]) over real UDP sockets, each pair
//! on its own ports as N clients behind one NAT, and prints how long the
//! N sessions took to come up: `sessions seconds`. At most `--window W`
//! (default 32) are negotiating at any time: a gateway limits the
//! half-open IKE SAs of one address (a quarter of its IKE table), and
//! these clients all share one.

use lns_host::sys::{self, Batch, HEADROOM, PollFd};
use sessiondb::dialer::{Dialer, DialerConfig, DialerDestination, DialerEvent};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::ExitCode;
use std::time::{Duration, Instant};

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn need<T: std::str::FromStr>(args: &[String], name: &str) -> Result<T, String> {
    flag(args, name)
        .ok_or_else(|| format!("{name} is needed"))?
        .parse()
        .map_err(|_| format!("{name}: bad value"))
}

fn udp_send(args: &[String]) -> Result<(), String> {
    let to: SocketAddrV4 = need(args, "--to")?;
    let size: usize = need(args, "--size")?;
    let seconds: f64 = need(args, "--seconds")?;
    if !(29..=1472).contains(&size) {
        return Err("--size: 29..=1472".into());
    }
    let socket = UdpSocket::bind("0.0.0.0:0").map_err(|e| e.to_string())?;
    sys::prepare_udp(&socket).map_err(|e| e.to_string())?;
    let mut batch = Batch::new(64);
    let payload = size - 28;
    let rate: Option<f64> = flag(args, "--rate").and_then(|r| r.parse().ok());
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(seconds);
    let (mut sent, mut dropped) = (0u64, 0u64);
    let mut seq = 0u64;
    while Instant::now() < end {
        if let Some(rate) = rate {
            // Ahead of the schedule: wait for it.
            let due = start + Duration::from_secs_f64(seq as f64 / rate);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        while let Some(buf) = batch.next_buffer() {
            buf[HEADROOM..HEADROOM + 8].copy_from_slice(&seq.to_be_bytes());
            seq += 1;
            batch.commit(socket.as_raw_fd(), to, HEADROOM..HEADROOM + payload);
        }
        let (s, d) = batch.send().map_err(|e| e.to_string())?;
        sent += s as u64;
        dropped += d as u64;
    }
    println!("{sent} {dropped}");
    Ok(())
}

fn udp_sink(args: &[String]) -> Result<(), String> {
    let listen: SocketAddrV4 = need(args, "--listen")?;
    let seconds: f64 = need(args, "--seconds")?;
    let socket = UdpSocket::bind(listen).map_err(|e| format!("{listen}: {e}"))?;
    sys::prepare_udp(&socket).map_err(|e| e.to_string())?;
    let mut batch = Batch::new(64);
    let start = Instant::now();
    let (mut first, mut last) = (None::<Instant>, start);
    let (mut packets, mut bytes) = (0u64, 0u64);
    let limit = Duration::from_secs_f64(seconds + 5.0);
    loop {
        let quiet = first.is_some() && last.elapsed() > Duration::from_millis(500);
        if quiet || start.elapsed() > limit {
            break;
        }
        let mut fds = [PollFd::new(socket.as_raw_fd(), libc::POLLIN)];
        sys::poll(&mut fds, Some(Duration::from_millis(100))).map_err(|e| e.to_string())?;
        loop {
            let n = batch.recv(socket.as_raw_fd()).map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            let now = Instant::now();
            first.get_or_insert(now);
            last = now;
            packets += n as u64;
            for i in 0..n {
                bytes += batch.get(i).0.range.len() as u64 + 28;
            }
        }
    }
    let secs = first.map_or(0.0, |f| (last - f).as_secs_f64());
    println!("{packets} {bytes} {secs:.6}");
    Ok(())
}

struct Client {
    dialer: Dialer,
    ike: UdpSocket,
    natt: UdpSocket,
    started: bool,
    up: bool,
}

fn sessions(args: &[String]) -> Result<(), String> {
    let server: Ipv4Addr = need(args, "--server")?;
    let psk: String = need(args, "--psk")?;
    let user: String = need(args, "--user")?;
    let password: String = need(args, "--password")?;
    let count: usize = need(args, "--count")?;
    let timeout: f64 = flag(args, "--timeout")
        .and_then(|t| t.parse().ok())
        .unwrap_or(60.0);
    let window: usize = flag(args, "--window")
        .and_then(|t| t.parse().ok())
        .unwrap_or(32);
    let local = lns_host::client::local_address_towards(server).map_err(|e| e.to_string())?;
    let mut rng = lns_host::system_rng().map_err(|e| e.to_string())?;
    let clock = lns_host::Clock::new();
    let mut clients = Vec::with_capacity(count);
    for _ in 0..count {
        let bind = || -> Result<UdpSocket, String> {
            let s = UdpSocket::bind(SocketAddrV4::new(local, 0)).map_err(|e| e.to_string())?;
            sys::prepare_udp(&s).map_err(|e| e.to_string())?;
            Ok(s)
        };
        let (ike, natt) = (bind()?, bind()?);
        // NAT-D covers our address as port 500: the server sees another
        // port, takes these clients for N clients behind one NAT and
        // carries their ESP in UDP, which each pair of sockets receives.
        let config = DialerConfig::windows_like(
            SocketAddrV4::new(server, 500),
            SocketAddrV4::new(local, 500),
            psk.as_bytes(),
            user.as_bytes(),
            password.as_bytes(),
        )
        .map_err(|e| e.to_string())?;
        // They all identify as the same address: INITIAL-CONTACT from one
        // would tell the gateway to drop the others' SAs (RFC 2407 §4.6.3.3).
        let mut config = config;
        config.ike.initiator.initial_contact = false;
        let dialer = Dialer::new(&config).map_err(|e| e.to_string())?;
        clients.push(Client {
            dialer,
            ike,
            natt,
            started: false,
            up: false,
        });
    }
    let mut rx = Batch::new(16);
    let mut tx = Batch::new(64);
    let start = clock.now();
    let mut up = 0;
    let mut started = 0;
    let deadline = start + Duration::from_secs_f64(timeout);
    let mut fds: Vec<PollFd> = Vec::with_capacity(2 * count);
    while up < count && clock.now() < deadline {
        let now = clock.now();
        for c in clients.iter_mut().filter(|c| !c.started) {
            if started - up >= window {
                break;
            }
            c.started = true;
            started += 1;
            c.dialer.connect(now, &mut rng).map_err(|e| e.to_string())?;
        }
        for c in clients.iter_mut().filter(|c| c.started) {
            if c.dialer.poll_timeout().is_some_and(|t| t <= now) {
                c.dialer.handle_timeout(now, &mut rng);
            }
            loop {
                if tx.is_full() {
                    tx.send().map_err(|e| e.to_string())?;
                }
                let Some(buf) = tx.next_buffer() else { break };
                let Some(t) = c.dialer.poll_transmit(now, buf) else {
                    break;
                };
                if let DialerDestination::Udp { local_port, remote } = t.destination {
                    let s = if local_port == 500 { &c.ike } else { &c.natt };
                    tx.commit(s.as_raw_fd(), remote, t.range);
                }
            }
            while let Some(e) = c.dialer.poll_event() {
                match e {
                    DialerEvent::Up(_) if !c.up => {
                        c.up = true;
                        up += 1;
                    }
                    DialerEvent::Down(cause) => return Err(format!("a session failed: {cause:?}")),
                    _ => {}
                }
            }
        }
        tx.send().map_err(|e| e.to_string())?;
        fds.clear();
        for c in &clients {
            fds.push(PollFd::new(c.ike.as_raw_fd(), libc::POLLIN));
            fds.push(PollFd::new(c.natt.as_raw_fd(), libc::POLLIN));
        }
        sys::poll(&mut fds, Some(Duration::from_millis(20))).map_err(|e| e.to_string())?;
        let now = clock.now();
        for (k, f) in fds.iter().enumerate() {
            if !f.readable() {
                continue;
            }
            let c = &mut clients[k / 2];
            let (fd, port) = if k % 2 == 0 {
                (c.ike.as_raw_fd(), 500)
            } else {
                (c.natt.as_raw_fd(), 4500)
            };
            let n = rx.recv(fd).map_err(|e| e.to_string())?;
            for i in 0..n {
                let (meta, buf) = rx.get(i);
                let (peer, range) = (meta.peer, meta.range.clone());
                let _ = c
                    .dialer
                    .handle_datagram(now, peer, port, buf, range, &mut rng);
            }
        }
    }
    let took = clock.now() - start;
    println!("{up} {:.6}", took.as_secs_f64());
    // Hang up: PPP Terminate, CDN, StopCCN, then the Deletes.
    let now = clock.now();
    for c in &mut clients {
        c.dialer.disconnect(now, &mut rng);
        c.dialer.delete_sas(now, &mut rng);
        while let Some(buf) = tx.next_buffer() {
            let Some(t) = c.dialer.poll_transmit(now, buf) else {
                break;
            };
            if let DialerDestination::Udp { local_port, remote } = t.destination {
                let s = if local_port == 500 { &c.ike } else { &c.natt };
                tx.commit(s.as_raw_fd(), remote, t.range);
            }
            if tx.is_full() {
                tx.send().map_err(|e| e.to_string())?;
            }
        }
    }
    tx.send().map_err(|e| e.to_string())?;
    if up < count {
        return Err(format!("{up} of {count} sessions up after {timeout} s"));
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.first().map(String::as_str) {
        Some("udp-send") => udp_send(&args),
        Some("udp-sink") => udp_sink(&args),
        Some("sessions") => lns_host::run_big({
            let args = args.clone();
            move || sessions(&args)
        }),
        _ => Err("usage: loadgen udp-send|udp-sink|sessions ...".into()),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}
