//! The VPN application: the `sessiondb` gateway at the firmware's
//! capacities, the configuration compiled into the image, and the board's
//! own services on its inside address (ICMP echo and UDP echo, port 7).
//!
//! The gateway is sans-IO (docs/ARCHITECTURE.md sections 2 and 11); the
//! loop that drives it is [`crate::app::vpn::run`].

use core::cell::RefCell;
use core::net::Ipv4Addr;

use sessiondb::gateway::{Gateway, Options};
use static_cell::{ConstStaticCell, StaticCell};

use super::ipv4;

/// Sessions (remote clients) the firmware serves.
pub const SESSIONS: usize = 16;
/// ISAKMP SAs: one per session (no room for a Phase 1 rekey overlap).
pub const IKE_SAS: usize = 16;
/// ESP SAs: an inbound and an outbound per session.
pub const ESP_SAS: usize = 32;
/// IKE exchanges in flight at once (Main or Quick Mode); more wait for the
/// client's retransmission.
pub const EXCHANGES: usize = 2;
/// RADIUS requests in flight per server group.
pub const RADIUS_REQUESTS: usize = 2;

/// The gateway at the firmware's capacities.
pub type FwGateway = Gateway<SESSIONS, IKE_SAS, ESP_SAS, EXCHANGES, RADIUS_REQUESTS>;

/// The gateway as the tasks share it: a reference to its static, so that
/// the `RefCell` around it is a few bytes that can be moved freely.
pub type SharedGateway = RefCell<&'static mut FwGateway>;

/// The gateway's own address on the inside: IPCP's local address, the
/// address clients ping and send UDP echo to.
pub const INSIDE_ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);

/// UDP echo (RFC 862).
pub const ECHO_PORT: u16 = 7;

/// The configuration compiled into the image, in the appliance's syntax.
/// **Demonstration secrets**: the key and the password are in the source;
/// a deployed image must be built with its own.
pub const CONFIG_TEXT: &str = "\
! lns firmware: the compiled-in configuration (demonstration secrets)
ip local pool lns-pool 10.77.0.10-10.77.0.25 mask 255.255.255.0
crypto ipsec transform-set AES256-SHA esp-aes-256 esp-sha-hmac
crypto ipsec transform-set AES256-SHA mode transport
crypto ipsec transform-set AES128-SHA esp-aes esp-sha-hmac
crypto ipsec transform-set AES128-SHA mode transport
crypto ipsec transform-set 3DES-SHA esp-3des esp-sha-hmac
crypto ipsec transform-set 3DES-SHA mode transport
crypto dynamic-map dyn 10 set transform-set AES256-SHA AES128-SHA 3DES-SHA
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
 encryption aes-256
 hash sha
 group 2
 lifetime 86400
crypto isakmp policy 30
 authentication pre-share
 encryption 3des
 hash sha
 group 2
 lifetime 86400
crypto isakmp nat-traversal 20
group-policy DfltGrpPolicy attributes
 vpn-tunnel-protocol l2tp-ipsec
 vpn-simultaneous-logins 4
tunnel-group DefaultRAGroup general-attributes
 address-pool lns-pool
tunnel-group DefaultRAGroup ipsec-attributes
 pre-shared-key lns-firmware-demo-psk
tunnel-group DefaultRAGroup ppp-attributes
 authentication ms-chap-v2
 authentication ms-chap-v1
 authentication pap
username demo password demo-password mschap
l2tp tunnel hello 60
";

/// The gateway's options on this firmware.
pub fn options() -> Options {
    Options {
        inside_address: INSIDE_ADDRESS,
        ..Options::default()
    }
}

/// Starts the gateway in its static with [`CONFIG_TEXT`] and returns it.
///
/// The gateway is a `static` initialised at compile time
/// ([`Gateway::new_empty`]) and then configured in place
/// ([`Gateway::start`] parses the text into the gateway's own
/// configuration and clears every part slot by slot): nothing of the
/// gateway's size goes through the stack. The initialiser is all zero
/// bytes, so the static is in `.bss` and costs no flash
/// (`scripts/firmware-sizes.sh` fails otherwise; docs/PERFORMANCE.md,
/// ports/firmware). Built at
/// run time instead (`StaticCell::init_with(Gateway::new_empty)`), the
/// compiler assembled the value on the stack and copied it: 232 KB of
/// stack, where the H743 has 128 KiB of RAM.
///
/// # Panics
/// If called twice (the gateway is one static).
#[inline(never)]
pub fn build() -> &'static SharedGateway {
    static GATEWAY: ConstStaticCell<FwGateway> = ConstStaticCell::new(FwGateway::new_empty());
    static SHARED: StaticCell<SharedGateway> = StaticCell::new();
    let gateway = GATEWAY.take();
    if gateway.start(CONFIG_TEXT, options()).is_err() {
        // A build defect (the unit test `the_compiled_in_configuration_parses`
        // catches it): run with the default configuration, which refuses
        // every client, rather than not at all.
        warn!("the compiled-in configuration does not parse; serving nobody");
    }
    SHARED.init(RefCell::new(gateway))
}

/// Answers a packet addressed to the board itself, in place: an ICMP echo
/// request (RFC 792) becomes its reply, a UDP datagram to port 7 (RFC 862)
/// goes back to where it came from. Returns the length of the answer (an
/// IPv4 packet at the start of `packet`), or `None` when the packet is not
/// for these services (or malformed: nothing is read beyond its lengths).
pub fn serve_inside(packet: &mut [u8], inside: Ipv4Addr) -> Option<usize> {
    let first = *packet.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let header_len = usize::from(first & 0x0f) * 4;
    if header_len < ipv4::HEADER_LEN || packet.len() < header_len {
        return None;
    }
    let total_len = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
    if total_len < header_len || total_len > packet.len() {
        return None;
    }
    let frag = u16::from_be_bytes([packet[6], packet[7]]);
    if frag & 0x3fff != 0 || packet[16..20] != inside.octets() {
        return None;
    }
    let protocol = packet[9];
    let (header, rest) = packet.split_at_mut(header_len);
    let payload = rest.get_mut(..total_len - header_len)?;
    match protocol {
        1 => {
            // ICMP echo request (type 8, code 0) -> echo reply (type 0).
            if payload.len() < 8 || payload[0] != 8 || payload[1] != 0 {
                return None;
            }
            if ipv4::ones_complement_sum(payload) != 0xffff {
                return None;
            }
            payload[0] = 0;
            payload[2..4].fill(0);
            let sum = !ipv4::ones_complement_sum(payload);
            payload[2..4].copy_from_slice(&sum.to_be_bytes());
        }
        17 => {
            if payload.len() < 8 {
                return None;
            }
            let udp_len = usize::from(u16::from_be_bytes([payload[4], payload[5]]));
            if u16::from_be_bytes([payload[2], payload[3]]) != ECHO_PORT
                || udp_len < 8
                || udp_len > payload.len()
            {
                return None;
            }
            let (src_port, dst_port) = ([payload[0], payload[1]], [payload[2], payload[3]]);
            payload[0..2].copy_from_slice(&dst_port);
            payload[2..4].copy_from_slice(&src_port);
            // Zero: no checksum (RFC 768); a client still accepts it.
            payload[6..8].fill(0);
        }
        _ => return None,
    }
    // Swap the addresses, fresh TTL, header checksum anew.
    let mut src = [0u8; 4];
    src.copy_from_slice(&header[12..16]);
    header.copy_within(16..20, 12);
    header[16..20].copy_from_slice(&src);
    header[8] = 64;
    header[10..12].fill(0);
    let sum = !ipv4::ones_complement_sum(header);
    header[10..12].copy_from_slice(&sum.to_be_bytes());
    Some(total_len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sessiondb::Config;

    const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 10);

    fn packet(protocol: u8, payload: &[u8], dst: Ipv4Addr) -> Vec<u8> {
        let mut p = vec![0u8; 20];
        let (h, _) = p.split_at_mut(20);
        let h: &mut [u8; 20] = h.try_into().unwrap();
        ipv4::emit_header(h, CLIENT, dst, protocol, 7, payload.len()).unwrap();
        p.extend_from_slice(payload);
        p
    }

    fn icmp_echo(kind: u8) -> Vec<u8> {
        let mut m = vec![kind, 0, 0, 0, 0x12, 0x34, 0, 1];
        m.extend_from_slice(b"abcdefgh");
        let sum = !ipv4::ones_complement_sum(&m);
        m[2..4].copy_from_slice(&sum.to_be_bytes());
        m
    }

    /// The empty gateway is all zero bytes, read the only sound way: the
    /// linker put a `static` of it in `.bss` (reading its bytes would read
    /// padding). On the host, like `scripts/firmware-sizes.sh` on the
    /// images; a non-zero field moves the static to `.data`.
    #[test]
    #[allow(unsafe_code)]
    fn the_empty_gateway_is_in_bss() {
        static EMPTY: ConstStaticCell<FwGateway> = ConstStaticCell::new(FwGateway::new_empty());
        // The bounds of `.bss` that GNU ld and lld define on Linux.
        unsafe extern "C" {
            static __bss_start: u8;
            static _end: u8;
        }
        // Only the addresses of the two linker symbols are taken (safe);
        // nothing is read through them.
        let (start, end) = (&raw const __bss_start as usize, &raw const _end as usize);
        let at = &raw const EMPTY as usize;
        assert!(
            start <= at && at + size_of::<ConstStaticCell<FwGateway>>() <= end,
            "the empty gateway at {at:#x} is not in .bss ({start:#x}..{end:#x}): \
             Gateway::new_empty() is not all zero bytes"
        );
    }

    #[test]
    fn the_compiled_in_configuration_parses() {
        let config = Config::parse(CONFIG_TEXT).unwrap();
        let pool = config.pool("lns-pool").unwrap();
        assert!(
            !pool.contains(INSIDE_ADDRESS),
            "the inside address is not handed out"
        );
        assert!(config.user("demo").is_some());
        assert_eq!(config.nat_traversal, Some(20));
    }

    #[test]
    fn ping_is_answered_in_place() {
        let mut p = packet(1, &icmp_echo(8), INSIDE_ADDRESS);
        p.extend_from_slice(&[0xee; 8]); // tail beyond the packet
        let n = serve_inside(&mut p, INSIDE_ADDRESS).unwrap();
        assert_eq!(n, 36);
        assert_eq!(p[12..16], INSIDE_ADDRESS.octets());
        assert_eq!(p[16..20], CLIENT.octets());
        assert_eq!(ipv4::ones_complement_sum(&p[..20]), 0xffff, "IP checksum");
        assert_eq!(p[20], 0, "echo reply");
        assert_eq!(
            ipv4::ones_complement_sum(&p[20..36]),
            0xffff,
            "ICMP checksum"
        );
        assert_eq!(&p[28..36], b"abcdefgh");
    }

    #[test]
    fn udp_echo_swaps_the_ports() {
        let mut udp = vec![0x9c, 0x40, 0, 7, 0, 13, 0x12, 0x34];
        udp.extend_from_slice(b"hello");
        let mut p = packet(17, &udp, INSIDE_ADDRESS);
        let n = serve_inside(&mut p, INSIDE_ADDRESS).unwrap();
        assert_eq!(n, 33);
        assert_eq!(p[20..24], [0, 7, 0x9c, 0x40]);
        assert_eq!(&p[28..33], b"hello");
        assert_eq!(p[16..20], CLIENT.octets());
    }

    #[test]
    fn other_traffic_and_garbage_are_not_answered() {
        let other = Ipv4Addr::new(192, 168, 1, 5);
        assert_eq!(
            serve_inside(&mut packet(1, &icmp_echo(8), other), INSIDE_ADDRESS),
            None
        );
        assert_eq!(
            serve_inside(
                &mut packet(1, &icmp_echo(0), INSIDE_ADDRESS),
                INSIDE_ADDRESS
            ),
            None
        );
        let mut bad = icmp_echo(8);
        bad[9] ^= 1;
        assert_eq!(
            serve_inside(&mut packet(1, &bad, INSIDE_ADDRESS), INSIDE_ADDRESS),
            None
        );
        let udp = [0, 1, 0, 9, 0, 8, 0, 0];
        assert_eq!(
            serve_inside(&mut packet(17, &udp, INSIDE_ADDRESS), INSIDE_ADDRESS),
            None
        );
        // Truncations of a valid request never panic and are never answered.
        let p = packet(1, &icmp_echo(8), INSIDE_ADDRESS);
        for cut in 0..p.len() {
            let mut t = p[..cut].to_vec();
            assert_eq!(serve_inside(&mut t, INSIDE_ADDRESS), None, "cut at {cut}");
        }
        // Arbitrary bytes never panic.
        let mut x: u32 = 1;
        for _ in 0..2000 {
            let mut buf = [0u8; 48];
            for b in &mut buf {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                *b = x.to_le_bytes()[0];
            }
            buf[0] = 0x45;
            let _ = serve_inside(&mut buf, INSIDE_ADDRESS);
        }
    }

    /// The firmware's gateway against `SESSIONS + 1` dialers (the
    /// `sessiondb` client roles) over a lossless in-memory network, every
    /// client at its own address: 16 sessions come up, the 17th client is
    /// refused (the ISAKMP SA table is full) without a panic and without
    /// disturbing the others, and once a session ends it gets in.
    #[test]
    fn a_full_table_refuses_the_next_client_cleanly() {
        // A debug build moves the empty gateway (110 KB) through the stack.
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(full_table)
            .unwrap()
            .join()
            .unwrap();
    }

    fn full_table() {
        use core::net::SocketAddrV4;
        use core::time::Duration;
        use rand_chacha::ChaCha20Rng;
        use rand_core::SeedableRng;
        use sessiondb::dialer::{Dialer, DialerConfig, DialerDestination, DialerEvent};
        use sessiondb::gateway::{Destination, Event};

        const SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
        // Every client is `demo`: allow it as many logins as there are slots.
        let text = CONFIG_TEXT.replace("vpn-simultaneous-logins 4", "vpn-simultaneous-logins 32");
        // Built and started the way `build` does it on the board.
        let mut gw = Box::new(FwGateway::new_empty());
        gw.start(&text, options()).unwrap();
        let mut grng = ChaCha20Rng::seed_from_u64(1);
        let mut crng = ChaCha20Rng::seed_from_u64(2);
        let n = SESSIONS + 1;
        let client_addr = |i: usize| Ipv4Addr::new(192, 0, 2, 10 + u8::try_from(i).unwrap());
        let mut dialers: Vec<Dialer> = (0..n)
            .map(|i| {
                let c = DialerConfig::windows_like(
                    SocketAddrV4::new(SERVER, 500),
                    SocketAddrV4::new(client_addr(i), 500),
                    b"lns-firmware-demo-psk",
                    b"demo",
                    b"demo-password",
                )
                .unwrap();
                Dialer::new(&c).unwrap()
            })
            .collect();
        let mut up = vec![false; n];
        let mut now = Duration::ZERO;
        let mut buf = vec![0u8; 4096];

        // One step of the network: everything queued is delivered at once.
        let mut step = |gw: &mut FwGateway,
                        dialers: &mut Vec<Dialer>,
                        up: &mut Vec<bool>,
                        crng: &mut ChaCha20Rng,
                        now: Duration| {
            let mut moved = true;
            while moved {
                moved = false;
                while let Some(t) = gw.poll_transmit(now, &mut grng, &mut buf) {
                    moved = true;
                    let mut b = vec![0u8; 4096];
                    let len = t.range.len();
                    b[64..64 + len].copy_from_slice(&buf[t.range.clone()]);
                    match t.destination {
                        Destination::Client { local_port, remote } => {
                            let i = usize::from(remote.ip().octets()[3] - 10);
                            let _ = dialers[i].handle_datagram(
                                now,
                                SocketAddrV4::new(SERVER, local_port),
                                remote.port(),
                                &mut b,
                                64..64 + len,
                                crng,
                            );
                        }
                        Destination::ClientEsp { remote } => {
                            let i = usize::from(remote.octets()[3] - 10);
                            let _ = dialers[i].handle_esp(now, &mut b, 64..64 + len, crng);
                        }
                        Destination::Radius { .. } => panic!("no RADIUS is configured"),
                    }
                }
                while let Some(e) = gw.poll_event() {
                    if let Event::LoginRefused { .. } = e {
                        panic!("no login is refused here: {e:?}");
                    }
                }
                for i in 0..dialers.len() {
                    while let Some(t) = dialers[i].poll_transmit(now, &mut buf) {
                        moved = true;
                        let mut b = vec![0u8; 4096];
                        let len = t.range.len();
                        b[64..64 + len].copy_from_slice(&buf[t.range.clone()]);
                        match t.destination {
                            DialerDestination::Udp { local_port, .. } => {
                                let _ = gw.handle_datagram(
                                    now,
                                    SocketAddrV4::new(client_addr(i), local_port),
                                    SocketAddrV4::new(SERVER, local_port),
                                    &mut b,
                                    64..64 + len,
                                    &mut grng,
                                );
                            }
                            DialerDestination::Esp { .. } => {
                                let _ = gw.handle_esp(
                                    now,
                                    client_addr(i),
                                    &mut b,
                                    64..64 + len,
                                    &mut grng,
                                );
                            }
                        }
                    }
                    while let Some(e) = dialers[i].poll_event() {
                        if let DialerEvent::Up(_) = e {
                            up[i] = true;
                        }
                    }
                }
            }
            if gw.poll_timeout().is_some_and(|t| t <= now) {
                gw.handle_timeout(now, &mut grng);
            }
            for d in dialers.iter_mut() {
                if d.poll_timeout().is_some_and(|t| t <= now) {
                    d.handle_timeout(now, crng);
                }
            }
        };

        for i in 0..SESSIONS {
            dialers[i].connect(now, &mut crng).unwrap();
            for _ in 0..50 {
                now += Duration::from_millis(20);
                step(&mut gw, &mut dialers, &mut up, &mut crng, now);
            }
        }
        assert_eq!(
            up.iter().filter(|u| **u).count(),
            SESSIONS,
            "16 sessions up"
        );
        assert_eq!(gw.sessions().len(), SESSIONS);

        // The 17th: refused, for a minute of its retries.
        dialers[SESSIONS].connect(now, &mut crng).unwrap();
        for _ in 0..600 {
            now += Duration::from_millis(100);
            step(&mut gw, &mut dialers, &mut up, &mut crng, now);
        }
        assert!(!up[SESSIONS], "the 17th client is refused");
        assert_eq!(gw.sessions().len(), SESSIONS, "nobody else was disturbed");
        assert!(
            gw.core_counters().0.table_full > 0,
            "ike-core refused it: table full"
        );
    }

    /// Prints where the gateway's RAM goes at the firmware's capacities
    /// (run with `--nocapture`; docs/PERFORMANCE.md quotes it) and checks
    /// that the parts add up to no more than the whole.
    #[test]
    fn memory_breakdown() {
        use sessiondb::gateway::{
            EVENT_QUEUE, Event, MAX_RADIUS_GROUPS, PEER_SIZE, PeerId, RADIUS_REQUEST_LEN,
        };
        let parts: [(&str, usize); 9] = [
            ("Config (parsed configuration)", size_of::<Config>()),
            (
                "IKE endpoint (16 SAs, 2 exchanges)",
                size_of::<ike_core::Endpoint<IKE_SAS, EXCHANGES>>(),
            ),
            (
                "ESP SA table (32 SAs)",
                size_of::<esp_core::SaTable<ESP_SAS>>(),
            ),
            (
                "L2TP endpoint (16 tunnels, 16 sessions)",
                size_of::<l2tp_core::Endpoint<PeerId, SESSIONS, SESSIONS>>(),
            ),
            ("client slots with PPP links (16)", SESSIONS * PEER_SIZE),
            (
                "session records (16)",
                size_of::<sessiondb::SessionTable<SESSIONS>>(),
            ),
            (
                "RADIUS clients (groups x requests)",
                MAX_RADIUS_GROUPS
                    * size_of::<radius_core::Client<RADIUS_REQUESTS, RADIUS_REQUEST_LEN>>(),
            ),
            (
                "event queue",
                size_of::<heapless::Deque<Event, EVENT_QUEUE>>(),
            ),
            (
                "address pool",
                size_of::<sessiondb::AddressPool<SESSIONS>>(),
            ),
        ];
        let whole = size_of::<FwGateway>();
        let mut sum = 0;
        println!(
            "FwGateway = Gateway<{SESSIONS}, {IKE_SAS}, {ESP_SAS}, {EXCHANGES}, {RADIUS_REQUESTS}>: {whole} bytes"
        );
        for (what, bytes) in parts {
            println!("  {what:<42} {bytes:>7}");
            sum += bytes;
        }
        println!(
            "  {:<42} {:>7}",
            "rest (logins, indexes, counters, padding)",
            whole - sum
        );
        println!(
            "  IKE exchange slot {} bytes, IKE SA {} bytes",
            ike_core::EXCHANGE_SIZE,
            ike_core::IKE_SA_SIZE
        );
        assert!(sum <= whole);
    }
}
