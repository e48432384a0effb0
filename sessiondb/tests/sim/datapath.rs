//! One client up and its ESP keys exported: the setup shared by the
//! data-path benchmark (`benches/datapath.rs`) and the instruction counter
//! (`examples/datapath_count.rs`).

use super::{GATEWAY, Sim, Wire, ipv4_packet};
use esp_core::{Encapsulation, Lifetime, SaConfig};
use ike_core::config::IpsecLifetime;
use sessiondb::dialer::{Dialer, DialerConfig, DialerDestination};
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
    // A Windows-like client, except that it offers IPsec SAs without a
    // limit (Windows offers 250,000 KB, which a benchmark uses up).
    let private = Ipv4Addr::new(10, 0, 0, 2);
    let mut config = DialerConfig::windows_like(
        SocketAddrV4::new(GATEWAY, 500),
        SocketAddrV4::new(private, 500),
        super::PSK,
        b"alice",
        b"s3cret-Pass",
    )
    .unwrap()
    .with_method(ppp_core::AuthMethod::MsChapV2);
    config.ike.initiator.esp_lifetime = IpsecLifetime {
        seconds: 0,
        kilobytes: 0,
    };
    let i = sim.clients.len();
    sim.clients.push(super::Client {
        dialer: Dialer::new(&config).unwrap(),
        private,
        behind_nat: true,
        up: None,
        address: None,
        received: Vec::new(),
        events: Vec::new(),
    });
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
