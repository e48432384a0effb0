//! What the IKE benchmark and the `ike_speed` example share: initiator and
//! responder configurations and a complete Main Mode + Quick Mode between
//! two endpoints in one process.
#![allow(dead_code)]

use ike_core::cert::ValidityCheck;
use ike_core::config::{
    Authentication, EspEncryption, EspIntegrity, EspProposal, IkeProposal, IsakmpPolicy, Mode, Psk,
    TransformSet,
};
use ike_core::crypto::{CipherAlg, DhGroup, HashAlg};
use ike_core::{Config, Endpoint, Event, proposals};
use rand_chacha::ChaCha20Rng;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

type Ep = Endpoint<2, 2>;

/// A file of the test PKI (`testdata/ike-core/certs/`).
macro_rules! pki {
    ($f:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../testdata/ike-core/certs/",
            $f
        ))
    };
}

pub fn configs(group: DhGroup) -> (Config, Config) {
    configs_with(group, Authentication::PreShare)
}

pub fn configs_with(group: DhGroup, authentication: Authentication) -> (Config, Config) {
    let p = IkeProposal {
        encryption: CipherAlg::Aes256,
        hash: HashAlg::Sha1,
        authentication,
        group,
        lifetime_seconds: 28_800,
    };
    let e = EspProposal {
        encryption: EspEncryption::AesCbc { key_bits: 256 },
        integrity: EspIntegrity::HmacSha1,
    };
    let mut r = Config::default();
    r.isakmp_policies
        .push(IsakmpPolicy {
            priority: 10,
            proposal: p,
        })
        .unwrap();
    r.transform_sets
        .push(TransformSet {
            encryption: e.encryption,
            integrity: e.integrity,
            mode: Mode::Transport,
        })
        .unwrap();
    r.pre_shared_keys.default_remote_access = Psk::new(b"bench-psk");
    let mut i = Config {
        initiator: proposals::single(p, e),
        ..Config::default()
    };
    i.pre_shared_keys.default_remote_access = Psk::new(b"bench-psk");
    if authentication == Authentication::RsaSig {
        i.credentials
            .set_own(pki!("client1.der"), pki!("client1.key"))
            .unwrap();
        i.credentials.add_trust_anchor(pki!("ca.der")).unwrap();
        i.credentials.validity = ValidityCheck::NoClock;
        r.credentials
            .set_own(pki!("lns.der"), pki!("lns.key"))
            .unwrap();
        r.credentials.add_trust_anchor(pki!("ca.der")).unwrap();
        r.credentials.validity = ValidityCheck::NoClock;
    }
    (i, r)
}

const R_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)), 500);
const I_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)), 500);

/// One full Main Mode + Quick Mode; returns the number of datagrams.
pub fn handshake(i_cfg: &Config, r_cfg: &Config, rng: &mut ChaCha20Rng) -> usize {
    let now = Duration::from_secs(1);
    let mut i = Ep::new(i_cfg.clone());
    let mut r = Ep::new(r_cfg.clone());
    i.connect(now, R_ADDR, I_ADDR, rng).unwrap();
    let mut buf = [0u8; 8192];
    let (mut done_i, mut done_r, mut datagrams, mut spi) = (false, false, 0, 0x1000);
    while !(done_i && done_r) {
        let mut progress = false;
        for to_r in [true, false] {
            let (from, to) = if to_r {
                (&mut i, &mut r)
            } else {
                (&mut r, &mut i)
            };
            while let Some(t) = from.poll_transmit(now, &mut buf).unwrap() {
                progress = true;
                datagrams += 1;
                let off = if t.non_esp_marker { 4 } else { 0 };
                let (src, dst) = (t.local, t.remote);
                to.handle_datagram(now, src, dst, &mut buf[off..t.len], rng)
                    .unwrap();
            }
            for (ep, is_i) in [(&mut i, true), (&mut r, false)] {
                while let Some(e) = ep.poll_event() {
                    match e {
                        Event::SpiNeeded { request, .. } => {
                            spi += 1;
                            ep.provide_spi(now, request, spi, rng).unwrap();
                            progress = true;
                        }
                        Event::ChildSaNegotiated(_) if is_i => done_i = true,
                        Event::ChildSaNegotiated(_) => done_r = true,
                        _ => {}
                    }
                }
            }
        }
        assert!(progress, "handshake stalled");
    }
    datagrams
}
