//! One client up and its ESP keys exported: the setup shared by the
//! data-path benchmark (`benches/datapath.rs`) and the instruction counter
//! (`examples/datapath_count.rs`).

use super::{GATEWAY, Sim, Wire, ipv4_packet};
use esp_core::{Encapsulation, Lifetime, Sa, SaConfig};
use sessiondb::dialer::DialerDestination;
use sessiondb::gateway::{self, Event};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

/// Packets sealed per batch for the uplink (a packet opens only once).
pub const BATCH: usize = 256;
/// A host on the routed side.
pub const INSIDE: Ipv4Addr = Ipv4Addr::new(10, 10, 0, 1);

/// A gateway with one client up, and what a benchmark needs of it.
pub struct Setup {
    pub sim: Sim,
    /// The client's assigned address.
    pub client: Ipv4Addr,
    /// The client's address and port as the gateway sees them (after the NAT).
    pub public: SocketAddrV4,
    /// The gateway's outbound and inbound ESP keys.
    pub outbound: gateway::EspKeys,
    pub inbound: gateway::EspKeys,
}

/// One Windows-like client brought up behind a NAT (MS-CHAPv2), the
/// gateway exporting its ESP keys.
pub fn setup() -> Setup {
    let mut options = super::options();
    options.export_keys = true;
    // Lifetimes far beyond what a benchmark sends, so no rekey intervenes.
    let config = super::config(
        "crypto ipsec security-association lifetime kilobytes 2147483647\n\
         crypto ipsec security-association lifetime seconds 2147483647\n",
    );
    let mut sim = Sim::with_options(config, options, 7);
    // Windows offers 250,000 KB, which a benchmark uses up.
    let i = sim.add_lasting_client("alice", "s3cret-Pass");
    sim.connect(i);
    sim.run_until(Duration::from_secs(20));
    let client = sim.clients[i].address.expect("the client came up");
    let keys: Vec<_> = sim
        .gateway_events
        .iter()
        .filter_map(|e| match e {
            Event::EspKeys(k) => Some(k.clone()),
            _ => None,
        })
        .collect();
    let outbound = keys.iter().rfind(|k| !k.inbound).unwrap().clone();
    let inbound = keys.iter().rfind(|k| k.inbound).unwrap().clone();
    let public = sim
        .to_clients
        .iter()
        .rev()
        .find_map(|w| match w {
            Wire::Udp { src, dst, .. } if src.port() == 4500 => Some(*dst),
            _ => None,
        })
        .expect("NAT-T was negotiated");
    Setup {
        sim,
        client,
        public,
        outbound,
        inbound,
    }
}

/// An SA configuration from exported keys.
pub fn sa_config(k: &gateway::EspKeys) -> SaConfig<'_> {
    SaConfig {
        encryption: k.encryption,
        encryption_key: &k.encryption_key,
        integrity: k.integrity,
        integrity_key: &k.integrity_key,
        encapsulation: Encapsulation::Udp { peer_port: 4500 },
        replay_window: esp_core::DEFAULT_REPLAY_WINDOW,
        lifetime: Lifetime::UNLIMITED,
    }
}

/// `BATCH` UDP 4500 payloads from the client, each an `n`-byte IPv4 packet
/// for the routed side.
pub fn client_batch(s: &mut Setup, n: usize) -> Vec<Vec<u8>> {
    let now = s.sim.now;
    let at = gateway::HEADROOM;
    let p = ipv4_packet(s.client, INSIDE, &vec![0xa5; n - 20]);
    let mut cbuf = vec![0u8; 4096];
    (0..BATCH)
        .map(|_| {
            cbuf[at..at + n].copy_from_slice(&p);
            let t = s.sim.clients[0]
                .dialer
                .handle_ip(now, &mut cbuf, at..at + n)
                .unwrap();
            assert!(matches!(t.destination, DialerDestination::Udp { .. }));
            cbuf[t.range].to_vec()
        })
        .collect()
}

/// Feeds `packets` (from [`client_batch`]) up through the gateway, or
/// through `bare` alone when given, and returns the time that took.
pub fn time_up(
    s: &mut Setup,
    bare: Option<&mut Sa>,
    packets: &[Vec<u8>],
    n: usize,
    buf: &mut [u8],
) -> Duration {
    let now = s.sim.now;
    let at = gateway::HEADROOM;
    let mut bare = bare;
    let start = std::time::Instant::now();
    for p in packets {
        let range = at..at + p.len();
        buf[range.clone()].copy_from_slice(p);
        if let Some(sa) = bare.as_deref_mut() {
            std::hint::black_box(sa.open(now, &mut buf[range]).unwrap());
        } else {
            let r = s
                .sim
                .gateway
                .handle_datagram(
                    now,
                    s.public,
                    SocketAddrV4::new(GATEWAY, 4500),
                    buf,
                    range,
                    &mut s.sim.gateway_rng,
                )
                .unwrap();
            assert_eq!(r.map(|r| r.len()), Some(n));
        }
    }
    start.elapsed()
}

/// The ESP payload length and the UDP 4500 payload length the gateway
/// produces for an `n`-byte packet to the client, found by opening one.
pub fn sealed_lengths(s: &mut Setup, n: usize, buf: &mut [u8]) -> (usize, usize) {
    let now = s.sim.now;
    let at = gateway::HEADROOM;
    let packet = ipv4_packet(INSIDE, s.client, &vec![0x5a; n - 20]);
    let mut check: Sa = Sa::new_inbound(now, s.outbound.spi, &sa_config(&s.outbound)).unwrap();
    buf[at..at + n].copy_from_slice(&packet);
    let t = s.sim.gateway.handle_ip(now, buf, at..at + n).unwrap();
    let wire = t.range.len();
    (
        check.open(now, &mut buf[t.range]).unwrap().payload.len(),
        wire,
    )
}
