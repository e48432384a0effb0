//! Rekeying under continuous traffic (RFC 2409 §4, §5.5): the client
//! renews its ISAKMP SA (a new Main Mode while the old one lives) and its
//! IPsec SA pairs (a new Quick Mode, the old pair kept for the overlap);
//! the traffic model counts every packet sent on an SPI its receiver does
//! not hold. Also: RESPONDER-LIFETIME and the 300 s floor, and a rekey
//! asked for by the caller (a kilobyte limit).

mod common;

use common::{Faults, I, PSK, R, Sim, assert_same_keys, ike, initiator_config, responder_config};
use ike_core::config::{EspEncryption, EspIntegrity, IpsecLifetime, Mode, TransformSet};
use ike_core::crypto::{CipherAlg, DhGroup, HashAlg};
use ike_core::{DeleteReason, Event, proposals};
use std::collections::HashSet;
use std::time::Duration;

fn set() -> TransformSet {
    TransformSet {
        encryption: EspEncryption::AesCbc { key_bits: 256 },
        integrity: EspIntegrity::HmacSha1,
        mode: Mode::Transport,
    }
}

/// What one node's ESP table would hold, from its events.
#[derive(Default)]
struct Esp {
    inbound: HashSet<u32>,
    /// Outbound SPIs in the order installed; the newest is used.
    outbound: Vec<u32>,
    newest_inbound: Option<u32>,
    seen: usize,
}

impl Esp {
    fn update(&mut self, events: &[Event]) {
        for e in &events[self.seen..] {
            match e {
                Event::ChildSaNegotiated(c) => {
                    self.inbound.insert(c.spi_in);
                    self.newest_inbound = Some(c.spi_in);
                    self.outbound.push(c.spi_out);
                }
                Event::ChildSaDeleted {
                    spi_in, spi_out, ..
                } => {
                    self.inbound.remove(spi_in);
                    self.outbound.retain(|s| s != spi_out);
                }
                _ => {}
            }
        }
        self.seen = events.len();
    }
}

#[test]
fn phase1_and_phase2_rekeys_under_traffic_lose_no_packet() {
    let p = ike(CipherAlg::Aes256, HashAlg::Sha1, DhGroup::Ecp256, 900);
    let mut lns = responder_config(&[p], &[set()]);
    lns.ipsec_lifetime = IpsecLifetime {
        seconds: 300,
        kilobytes: 0,
    };
    let e = common::esp(
        EspEncryption::AesCbc { key_bits: 256 },
        EspIntegrity::HmacSha1,
    );
    let mut ic = proposals::single(p, e);
    ic.esp_lifetime = IpsecLifetime {
        seconds: 3600,
        kilobytes: 0,
    };
    let mut sim = Sim::pair(initiator_config(ic, PSK), lns, true, Faults::NONE, 77);
    sim.connect(I);
    let (mut i_esp, mut r_esp) = (Esp::default(), Esp::default());
    let (mut sent, mut lost, mut naive_lost) = (0u64, 0u64, 0u64);
    // 50 minutes, one packet each way every 100 ms. A packet takes the
    // network's 5 ms, like the IKE messages sent before it on the same
    // path, and is lost if its receiver does not hold its SPI then.
    for _ in 0..30_000 {
        sim.run_for(Duration::from_millis(95));
        i_esp.update(sim.events(I));
        r_esp.update(sim.events(R));
        let in_flight = [
            i_esp.outbound.last().copied(),
            r_esp.outbound.last().copied(),
        ];
        sim.run_for(Duration::from_millis(5));
        i_esp.update(sim.events(I));
        r_esp.update(sim.events(R));
        for (spi, rx) in in_flight.into_iter().zip([&r_esp, &i_esp]) {
            if let Some(spi) = spi {
                sent += 1;
                if !rx.inbound.contains(&spi) {
                    lost += 1;
                }
                // A receiver that dropped the old inbound SA as soon as the
                // new pair was negotiated (no overlap).
                if rx.newest_inbound != Some(spi) {
                    naive_lost += 1;
                }
            }
        }
    }
    assert!(sent > 59_000, "{sent}");
    assert_eq!(lost, 0, "packets lost");
    // The model does see loss: without the overlap, the packets the client
    // sent on the old pair while the LNS's Quick Mode 2 was answered
    // (the LNS switches first) would have been lost.
    assert!(naive_lost > 0, "{naive_lost}");
    // RESPONDER-LIFETIME shortened the client's 3600 s to 300 s: a Quick
    // Mode every 270 s, each old pair deleted after the overlap.
    let negotiated = sim.count(R, |e| matches!(e, Event::ChildSaNegotiated(_)));
    assert!((10..=13).contains(&negotiated), "{negotiated}");
    assert!(sim.children(I).iter().all(|c| c.lifetime.seconds == 300));
    let rekeyed = sim.count(I, |e| {
        matches!(
            e,
            Event::ChildSaDeleted {
                reason: DeleteReason::Rekeyed,
                ..
            }
        )
    });
    // Every replaced pair is deleted, but the last replaced one may still
    // be in its overlap when the run ends.
    assert!((negotiated - 2..negotiated).contains(&rekeyed), "{rekeyed}");
    assert_eq!(
        sim.count(R, |e| matches!(
            e,
            Event::ChildSaDeleted {
                reason: DeleteReason::PeerDelete,
                ..
            }
        )),
        rekeyed
    );
    // Phase 1: 900 s, renewed at 810 s three times; never more than the
    // old and the new SA at once, never a failure, and never more than two
    // IPsec SA pairs held.
    for n in [I, R] {
        let c = sim.nodes[n].ep.counters();
        assert_eq!(c.phase1_rekeys, 3, "node {n}: {c:?}");
        assert_eq!(sim.count(n, |e| matches!(e, Event::Phase1Failed { .. })), 0);
        assert!(sim.nodes[n].ep.sa_handles().count() <= 2);
    }
    assert!(i_esp.inbound.len() <= 2 && r_esp.inbound.len() <= 2);
    let replaced: Vec<_> = sim
        .events(R)
        .iter()
        .filter_map(|e| match e {
            Event::Phase1Established { info, .. } => Some(info.replaces.is_some()),
            _ => None,
        })
        .collect();
    assert_eq!(replaced, vec![false, true, true, true]);
    let last = sim.children(I).len() - 1;
    assert_same_keys(&sim.children(I)[last], &sim.children(R)[last]);
}

#[test]
fn a_caller_reported_kilobyte_limit_rekeys_as_initiator() {
    let p = ike(CipherAlg::Aes128, HashAlg::Sha1, DhGroup::Modp2048, 28_800);
    let lns = responder_config(&[p], &[set()]);
    let e = common::esp(
        EspEncryption::AesCbc { key_bits: 256 },
        EspIntegrity::HmacSha1,
    );
    // The client answers Quick Modes too (its transform set).
    let mut client = initiator_config(proposals::single(p, e), PSK);
    client.transform_sets.push(set()).unwrap();
    let mut sim = Sim::pair(client, lns, false, Faults::LOSSY, 78);
    sim.connect(I);
    sim.run_for(Duration::from_secs(30));
    // The LNS (Quick Mode responder) renews the pair itself, as if its
    // ESP table had reported the soft kilobyte limit.
    let old = sim.children(R)[0].clone();
    let h = sim.nodes[R].ep.sa_handles().next().unwrap();
    let now = sim.now;
    let n = &mut sim.nodes[R];
    n.ep.rekey_child_sa(now, h, old.spi_in, &mut n.rng).unwrap();
    assert!(n.ep.rekey_child_sa(now, h, 1234, &mut n.rng).is_err());
    sim.run_for(Duration::from_secs(60));
    let (ic, rc) = (sim.children(I), sim.children(R));
    assert_eq!((ic.len(), rc.len()), (2, 2));
    assert_eq!(rc[1].role, ike_core::Role::Initiator);
    assert_same_keys(&ic[1], &rc[1]);
    assert!(sim.events(R).iter().any(|e| matches!(
        e,
        Event::ChildSaDeleted { spi_in, reason: DeleteReason::Rekeyed, .. } if *spi_in == old.spi_in
    )));
    assert!(sim.events(I).iter().any(|e| matches!(
        e,
        Event::ChildSaDeleted { spi_out, reason: DeleteReason::PeerDelete, .. } if *spi_out == old.spi_in
    )));
}

/// The LNS never imposes less than 300 s (Windows' floor), and the client
/// never offers less.
#[test]
fn lifetimes_below_300_seconds_are_raised() {
    let p = ike(CipherAlg::Aes128, HashAlg::Sha1, DhGroup::Modp2048, 28_800);
    let mut lns = responder_config(&[p], &[set()]);
    lns.ipsec_lifetime = IpsecLifetime {
        seconds: 60,
        kilobytes: 0,
    };
    let e = common::esp(
        EspEncryption::AesCbc { key_bits: 256 },
        EspIntegrity::HmacSha1,
    );
    let mut sim = Sim::pair(
        initiator_config(proposals::single(p, e), PSK),
        lns,
        false,
        Faults::NONE,
        79,
    );
    sim.connect(I);
    sim.run_for(Duration::from_secs(10));
    assert_eq!(sim.children(R)[0].lifetime.seconds, 300);
    assert_eq!(sim.children(I)[0].lifetime.seconds, 300);

    let mut ic = proposals::single(p, e);
    ic.esp_lifetime.seconds = 100;
    let mut sim = Sim::pair(
        initiator_config(ic, PSK),
        responder_config(&[p], &[set()]),
        false,
        Faults::NONE,
        80,
    );
    sim.connect(I);
    sim.run_for(Duration::from_secs(10));
    assert_eq!(sim.children(R)[0].lifetime.seconds, 300);
}
