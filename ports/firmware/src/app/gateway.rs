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

pub use super::inside::{ECHO_PORT, serve_inside};

/// The subnet of the pool and the inside address (the pool's `mask`):
/// what the LAN routes to the board, and what the forwarder takes from the
/// LAN for the clients (`crate::app::forward`).
pub const POOL_SUBNET: (Ipv4Addr, u8) = (Ipv4Addr::new(10, 77, 0, 0), 24);

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

#[cfg(test)]
mod tests {
    use super::*;
    use sessiondb::Config;

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
        // The pool and the inside address lie in the subnet the LAN routes
        // to the board, and that subnet is the pool's mask.
        let subnet = crate::app::forward::Subnet::new(POOL_SUBNET.0, POOL_SUBNET.1);
        assert!(subnet.contains(pool.first) && subnet.contains(pool.last));
        assert!(subnet.contains(INSIDE_ADDRESS));
        assert_eq!(
            pool.mask.map(u32::from),
            Some(u32::MAX << (32 - u32::from(POOL_SUBNET.1)))
        );
        assert!(config.user("demo").is_some());
        assert_eq!(config.nat_traversal, Some(20));
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
