//! The gateway under arbitrary sequences of datagrams (UDP 500/4500, ESP,
//! RADIUS), IPv4 packets from the routed side, console commands, log-offs
//! and time, interleaved with real clients whose handshake messages the
//! fuzzer drops, duplicates or corrupts one at a time, so that the deep
//! states (a half-done Quick Mode, an L2TP tunnel without a call, PPP in
//! authentication) are reached and then hit. A client may log in as
//! `u@rad`, which moves it to a tunnel group that authenticates against a
//! RADIUS server (the simulation's, answering PAP, CHAP, MS-CHAP and EAP-MD5
//! through Access-Challenge) with LOCAL as fallback, in one of five PPP
//! methods; the fuzzer decides whether that server answers. Nothing may
//! panic, every output must lie inside the buffer, and once every client is
//! gone and time has passed, nothing may be left in use.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use ppp_core::AuthMethod;
use rand_core::SeedableRng;
use sessiondb::dialer::{Dialer, DialerConfig, DialerDestination};
use sessiondb::gateway::{self, Destination, Gateway16, Options};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::OnceLock;
use std::time::Duration;

const GW: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
const PSK: &[u8] = b"fuzz-psk";

/// The simulation's RADIUS server, the one `sessiondb`'s tests use.
#[path = "../../sessiondb/tests/sim/radius.rs"]
#[allow(dead_code)]
mod radius;

fn config() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        "ip local pool p 10.1.0.10-10.1.0.13
crypto ipsec transform-set T esp-aes esp-sha-hmac
crypto ipsec transform-set T mode transport
crypto dynamic-map d 10 set transform-set T
crypto map m 10 ipsec-isakmp dynamic d
crypto map m interface outside
crypto isakmp enable outside
crypto isakmp policy 10
 authentication pre-share
 encryption 3des
 hash sha
 group 2
crypto isakmp nat-traversal 20
aaa-server R protocol radius
aaa-server R (inside) host 10.9.9.9
 key k
group-policy DfltGrpPolicy attributes
 vpn-tunnel-protocol l2tp-ipsec
 vpn-idle-timeout 1
tunnel-group DefaultRAGroup general-attributes
 address-pool p
 accounting-server-group R
tunnel-group DefaultRAGroup ipsec-attributes
 pre-shared-key fuzz-psk
tunnel-group DefaultRAGroup ppp-attributes
 authentication ms-chap-v2
 authentication pap
username u password pass-word mschap
group-delimiter @
aaa-server A protocol radius
aaa-server A (inside) host 10.9.9.8
 key radsecret
 timeout 2
 retry-interval 1
tunnel-group rad type remote-access
tunnel-group rad general-attributes
 address-pool p
 authentication-server-group A LOCAL
 accounting-server-group A
 strip-group
tunnel-group rad ppp-attributes
 authentication pap
 authentication chap
 authentication ms-chap-v1
 authentication ms-chap-v2
 authentication eap-proxy
"
        .to_owned()
    })
}

#[derive(Arbitrary, Debug)]
enum Fault {
    None,
    Drop,
    Duplicate,
    Flip { at: u16, mask: u8 },
    Truncate { len: u16 },
}

#[derive(Arbitrary, Debug)]
enum Step {
    Udp {
        nat_t: bool,
        from: u8,
        bytes: Vec<u8>,
    },
    Esp {
        from: u8,
        bytes: Vec<u8>,
    },
    Inside {
        dst: u8,
        bytes: Vec<u8>,
    },
    Radius {
        bytes: Vec<u8>,
    },
    Advance {
        millis: u16,
    },
    Console {
        line: String,
    },
    Logoff {
        index: u8,
    },
    /// A client connects; message number `at` of what it exchanges gets `fault`.
    Client {
        at: u8,
        fault: Fault,
        password_ok: bool,
        send_data: bool,
        aaa: Aaa,
    },
}

/// How a client's PPP login is checked.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Aaa {
    /// As `u`, in `DefaultRAGroup`: the local user database.
    Local,
    /// As `u@rad` with one PPP method; the RADIUS server answers, or is
    /// silent (LOCAL decides after the retries).
    Radius { method: u8, server_answers: bool },
}

struct World {
    now: Duration,
    gw: Box<Gateway16>,
    rng: rand_chacha::ChaCha20Rng,
    buf: Vec<u8>,
    radius: radius::FakeRadius,
}

impl World {
    fn drain_gateway(&mut self) -> Vec<(Destination, Vec<u8>)> {
        let mut out = Vec::new();
        for _ in 0..256 {
            let Some(t) = self
                .gw
                .poll_transmit(self.now, &mut self.rng, &mut self.buf)
            else {
                break;
            };
            assert!(t.range.end <= self.buf.len() && t.range.start <= t.range.end);
            out.push((t.destination, self.buf[t.range].to_vec()));
        }
        while self.gw.poll_event().is_some() {}
        out
    }

    fn udp(&mut self, from: SocketAddrV4, port: u16, bytes: &[u8]) {
        let at = gateway::HEADROOM;
        let len = bytes.len().min(self.buf.len() - at - gateway::TAILROOM);
        self.buf[at..at + len].copy_from_slice(&bytes[..len]);
        let local = SocketAddrV4::new(GW, port);
        if let Ok(Some(r)) = self.gw.handle_datagram(
            self.now,
            from,
            local,
            &mut self.buf,
            at..at + len,
            &mut self.rng,
        ) {
            assert!(r.end <= self.buf.len());
        }
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
        if self.gw.poll_timeout().is_some_and(|t| t <= self.now) {
            self.gw.handle_timeout(self.now, &mut self.rng);
        }
    }

    /// Runs one client against the gateway for a simulated minute.
    fn client(
        &mut self,
        n: usize,
        at: u8,
        fault: &Fault,
        password_ok: bool,
        send_data: bool,
        aaa: Aaa,
    ) {
        let client = SocketAddrV4::new(Ipv4Addr::new(198, 51, 100, 1 + (n % 200) as u8), 500);
        let password: &[u8] = if password_ok { b"pass-word" } else { b"nope" };
        let user: &[u8] = match aaa {
            Aaa::Local => b"u",
            Aaa::Radius { .. } => b"u@rad",
        };
        let cfg =
            DialerConfig::windows_like(SocketAddrV4::new(GW, 500), client, PSK, user, password)
                .map(|c| match aaa {
                    Aaa::Local => c,
                    Aaa::Radius { method, .. } => c.with_method(
                        [
                            AuthMethod::Pap,
                            AuthMethod::ChapMd5,
                            AuthMethod::MsChapV1,
                            AuthMethod::MsChapV2,
                            AuthMethod::Eap,
                        ][usize::from(method) % 5],
                    ),
                });
        self.radius.silent = matches!(
            aaa,
            Aaa::Radius {
                server_answers: false,
                ..
            }
        );
        let cfg = match cfg {
            Ok(c) => c,
            Err(e) => {
                if std::env::var_os("GW_TRACE").is_some() {
                    eprintln!("config {e:?}");
                }
                return;
            }
        };
        let Ok(mut dialer) = Dialer::new(&cfg) else {
            return;
        };
        let mut crng = rand_chacha::ChaCha20Rng::seed_from_u64(n as u64);
        if dialer.connect(self.now, &mut crng).is_err() {
            return;
        }
        let mut count = 0u8;
        let mut cbuf = vec![0u8; 4096];
        for _ in 0..400 {
            // Client to gateway.
            let mut sent = Vec::new();
            while let Some(t) = dialer.poll_transmit(self.now, &mut cbuf) {
                sent.push((t.destination, cbuf[t.range].to_vec()));
            }
            for (dest, mut bytes) in sent {
                count = count.wrapping_add(1);
                let copies = if count == at {
                    match fault {
                        Fault::None => 1,
                        Fault::Drop => 0,
                        Fault::Duplicate => 2,
                        Fault::Flip { at, mask } => {
                            let i = usize::from(*at) % bytes.len().max(1);
                            if let Some(b) = bytes.get_mut(i) {
                                *b ^= mask;
                            }
                            1
                        }
                        Fault::Truncate { len } => {
                            bytes.truncate(usize::from(*len));
                            1
                        }
                    }
                } else {
                    1
                };
                for _ in 0..copies {
                    match dest {
                        DialerDestination::Udp { local_port, remote } => self.udp(
                            SocketAddrV4::new(*client.ip(), local_port),
                            remote.port(),
                            &bytes,
                        ),
                        DialerDestination::Esp { .. } => {
                            let at = gateway::HEADROOM;
                            let len = bytes.len().min(2000);
                            self.buf[at..at + len].copy_from_slice(&bytes[..len]);
                            let _ = self.gw.handle_esp(
                                self.now,
                                *client.ip(),
                                &mut self.buf,
                                at..at + len,
                                &mut self.rng,
                            );
                        }
                    }
                }
            }
            // Gateway to client.
            for (dest, bytes) in self.drain_gateway() {
                let at = gateway::HEADROOM;
                let len = bytes.len().min(2000);
                cbuf[at..at + len].copy_from_slice(&bytes[..len]);
                match dest {
                    Destination::Client { local_port, .. } => {
                        let _ = dialer.handle_datagram(
                            self.now,
                            SocketAddrV4::new(GW, local_port),
                            if local_port == 4500 { 4500 } else { 500 },
                            &mut cbuf,
                            at..at + len,
                            &mut crng,
                        );
                    }
                    Destination::ClientEsp { .. } => {
                        let _ = dialer.handle_esp(self.now, &mut cbuf, at..at + len, &mut crng);
                    }
                    Destination::Radius { server } => {
                        if let Some(reply) = self.radius.answer(&bytes) {
                            let _ = self
                                .gw
                                .handle_radius(self.now, server, &reply, &mut self.rng);
                        }
                    }
                }
            }
            if send_data && let Some(ip) = dialer.ipv4() {
                let mut p = vec![0u8; 28];
                p[0] = 0x45;
                p[3] = 28;
                p[12..16].copy_from_slice(&ip.local.octets());
                p[16..20].copy_from_slice(&ip.peer.octets());
                let at = gateway::HEADROOM;
                cbuf[at..at + 28].copy_from_slice(&p);
                if let Ok(t) = dialer.handle_ip(self.now, &mut cbuf, at..at + 28) {
                    let bytes = cbuf[t.range].to_vec();
                    if let DialerDestination::Udp { local_port, remote } = t.destination {
                        self.udp(
                            SocketAddrV4::new(*client.ip(), local_port),
                            remote.port(),
                            &bytes,
                        );
                    }
                }
            }
            let step = Duration::from_millis(150);
            self.now += step;
            if dialer.poll_timeout().is_some_and(|t| t <= self.now) {
                dialer.handle_timeout(self.now, &mut crng);
            }
            self.advance(Duration::ZERO);
        }
        if std::env::var_os("GW_TRACE").is_some() {
            eprintln!(
                "client {n}: {count} messages, fault {fault:?} at {at}, {aaa:?}, up {:?}",
                dialer.ipv4()
            );
        }
        dialer.disconnect(self.now, &mut crng);
    }
}

fuzz_target!(|steps: Vec<Step>| {
    let config = sessiondb::Config::parse(config()).expect("the fuzz configuration parses");
    let mut w = World {
        now: Duration::from_secs(1),
        gw: Box::new(Gateway16::new(config, Options::default())),
        rng: rand_chacha::ChaCha20Rng::seed_from_u64(0),
        buf: vec![0u8; 4096],
        radius: radius::FakeRadius::default(),
    };
    w.radius
        .user("u", "pass-word", radius::UserReply::default());
    let mut clients = 0;
    for step in steps.iter().take(24) {
        match step {
            Step::Udp { nat_t, from, bytes } => {
                let from =
                    SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, *from), 40_000 + u16::from(*from));
                w.udp(from, if *nat_t { 4500 } else { 500 }, bytes);
            }
            Step::Esp { from, bytes } => {
                let at = gateway::HEADROOM;
                let len = bytes.len().min(2000);
                w.buf[at..at + len].copy_from_slice(&bytes[..len]);
                let _ = w.gw.handle_esp(
                    w.now,
                    Ipv4Addr::new(192, 0, 2, *from),
                    &mut w.buf,
                    at..at + len,
                    &mut w.rng,
                );
            }
            Step::Inside { dst, bytes } => {
                let at = gateway::HEADROOM;
                let mut p = bytes.clone();
                if p.len() >= 20 {
                    p[16..20].copy_from_slice(&[10, 1, 0, 10 + dst % 4]);
                }
                let len = p.len().min(1500);
                w.buf[at..at + len].copy_from_slice(&p[..len]);
                if let Ok(t) = w.gw.handle_ip(w.now, &mut w.buf, at..at + len) {
                    assert!(t.range.end <= w.buf.len());
                }
            }
            Step::Radius { bytes } => {
                let _ = w.gw.handle_radius(
                    w.now,
                    SocketAddrV4::new(Ipv4Addr::new(10, 9, 9, 9), 1812),
                    bytes,
                    &mut w.rng,
                );
            }
            Step::Advance { millis } => w.advance(Duration::from_millis(u64::from(*millis) * 50)),
            Step::Console { line } => {
                let mut out = String::new();
                let _ = w.gw.console(w.now, line, &mut out);
            }
            Step::Logoff { index } => {
                let _ = w.gw.logoff_index(w.now, u32::from(*index), &mut w.rng);
            }
            Step::Client {
                at,
                fault,
                password_ok,
                send_data,
                aaa,
            } => {
                clients += 1;
                w.client(clients, *at, fault, *password_ok, *send_data, *aaa);
            }
        }
        w.drain_gateway();
    }
    // Everyone gone: after long enough, nothing is left in use (the clients'
    // idle timeout is a minute; L2TP and IKE give up within a few more).
    for _ in 0..40 {
        w.advance(Duration::from_secs(15));
        w.drain_gateway();
    }
    let r = w.gw.resources();
    assert_eq!((r.sessions, r.peers, r.addresses), (0, 0, 0), "{r:?}");
});
