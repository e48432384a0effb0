//! Pair tests: our initiator against our responder over a simulated
//! network with loss, duplication, reordering and an optional NAT.

mod common;

use common::{
    Faults, I, PSK, R, Sim, assert_same_keys, esp, ike, initiator_config, responder_config,
};
use ike_core::config::{EspEncryption, EspIntegrity, IpsecLifetime, Mode, TransformSet};
use ike_core::crypto::{CipherAlg, DhGroup, HashAlg};
use ike_core::wire::{
    ExchangeType, Header, HeaderRepr, NotifyType, PayloadIter, PayloadType, VendorId,
};
use ike_core::{
    Config, DeleteReason, Encapsulation, Error, Event, FailReason, NatTVariant, Role, proposals,
};
use std::time::Duration;

fn set(encryption: EspEncryption, integrity: EspIntegrity) -> TransformSet {
    TransformSet {
        encryption,
        integrity,
        mode: Mode::Transport,
    }
}

/// The appliance-like LNS: AES-256/SHA/14, AES-128/SHA/2, 3DES/SHA/2;
/// transform sets AES-256-SHA then 3DES-SHA.
fn lns() -> Config {
    responder_config(
        &[
            ike(CipherAlg::Aes256, HashAlg::Sha1, DhGroup::Modp2048, 86_400),
            ike(CipherAlg::Aes128, HashAlg::Sha1, DhGroup::Modp1024, 86_400),
            ike(
                CipherAlg::TripleDes,
                HashAlg::Sha1,
                DhGroup::Modp1024,
                86_400,
            ),
        ],
        &[
            set(
                EspEncryption::AesCbc { key_bits: 256 },
                EspIntegrity::HmacSha1,
            ),
            set(EspEncryption::TripleDes, EspIntegrity::HmacSha1),
        ],
    )
}

fn established(sim: &Sim, node: usize) -> Vec<ike_core::SaInfo> {
    sim.events(node)
        .iter()
        .filter_map(|e| match e {
            Event::Phase1Established { info, .. } => Some(info.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn handshake_matrix_with_loss_duplication_and_nat() {
    let ciphers = [CipherAlg::TripleDes, CipherAlg::Aes128, CipherAlg::Aes256];
    let hashes = [HashAlg::Md5, HashAlg::Sha1, HashAlg::Sha256];
    let groups = [DhGroup::Modp1024, DhGroup::Modp1536, DhGroup::Modp2048];
    let mut seed = 1u64;
    let mut duplicates = 0;
    let mut retransmissions = 0;
    for c in ciphers {
        for h in hashes {
            for g in groups {
                for nat in [false, true] {
                    seed += 1;
                    let p = ike(c, h, g, 86_400);
                    let esp_enc = match c {
                        CipherAlg::TripleDes => EspEncryption::TripleDes,
                        CipherAlg::Aes128 => EspEncryption::AesCbc { key_bits: 128 },
                        _ => EspEncryption::AesCbc { key_bits: 256 },
                    };
                    let esp_int = match h {
                        HashAlg::Md5 => EspIntegrity::HmacMd5,
                        HashAlg::Sha1 => EspIntegrity::HmacSha1,
                        _ => EspIntegrity::HmacSha256,
                    };
                    let mut sim = Sim::pair(
                        initiator_config(proposals::single(p, esp(esp_enc, esp_int)), PSK),
                        responder_config(&[p], &[set(esp_enc, esp_int)]),
                        nat,
                        Faults::LOSSY,
                        seed,
                    );
                    sim.connect(I);
                    sim.run_for(Duration::from_secs(120));
                    let what = format!("{c:?} {h:?} {g:?} nat={nat}");
                    let ic = sim.children(I);
                    let rc = sim.children(R);
                    assert_eq!((ic.len(), rc.len()), (1, 1), "{what}: {:?}", sim.events(R));
                    assert_same_keys(&ic[0], &rc[0]);
                    assert_eq!((ic[0].encryption, ic[0].integrity), (esp_enc, esp_int));
                    // Duplicates are answered, never recomputed: one SA each.
                    assert_eq!(established(&sim, R).len(), 1, "{what}");
                    assert_eq!(established(&sim, I).len(), 1, "{what}");
                    let info = &established(&sim, R)[0];
                    assert_eq!((info.cipher, info.hash, info.group), (c, h, g));
                    assert_eq!(info.remote_behind_nat, nat, "{what}");
                    assert!(!info.local_behind_nat);
                    match (nat, rc[0].encapsulation) {
                        (
                            true,
                            Encapsulation::UdpTransport {
                                mode,
                                local_port,
                                remote_port,
                            },
                        ) => {
                            assert_eq!((mode, local_port), (4, 4500));
                            assert_eq!(Some(remote_port), sim_remote_port(&sim));
                        }
                        (false, Encapsulation::Transport) => {}
                        other => panic!("{what}: encapsulation {other:?}"),
                    }
                    assert_eq!(rc[0].initiator_selector.map(|s| s.port), Some(1701));
                    assert_eq!(rc[0].responder_selector.map(|s| s.protocol), Some(17));
                    duplicates += sim.nodes[R].ep.counters().duplicates_answered
                        + sim.nodes[I].ep.counters().duplicates_answered;
                    retransmissions += sim.nodes[I].ep.counters().retransmissions
                        + sim.nodes[R].ep.counters().retransmissions;
                }
            }
        }
    }
    // The faults really happened.
    assert!(
        duplicates > 0 && retransmissions > 0,
        "{duplicates} {retransmissions}"
    );
}

/// The NAT's public port the responder saw for the initiator's NAT-T
/// traffic.
fn sim_remote_port(sim: &Sim) -> Option<u16> {
    sim.delivered
        .iter()
        .rev()
        .find(|(to, _, dst, _)| *to == R && dst.port() == 4500)
        .map(|(_, src, _, _)| src.port())
}

#[test]
fn nat_traversal_floats_to_4500_with_keepalives() {
    let mut sim = Sim::pair(
        initiator_config(proposals::windows10(), PSK),
        lns(),
        true,
        Faults::NONE,
        9,
    );
    sim.connect(I);
    sim.run_for(Duration::from_secs(70));
    // Messages 1-4 on 500, then 4500 (RFC 3947 §4).
    let to_r: Vec<(u16, u8)> = sim
        .delivered
        .iter()
        .filter(|(to, ..)| *to == R)
        .map(|(_, _, dst, b)| (dst.port(), b[18]))
        .collect();
    assert_eq!(&to_r[..2], &[(500, 2), (500, 2)]);
    assert!(to_r[2..].iter().all(|(port, _)| *port == 4500), "{to_r:?}");
    let r = &established(&sim, R)[0];
    assert_eq!(r.nat_t, Some(NatTVariant::Rfc3947));
    assert!(r.remote_behind_nat);
    assert_eq!(r.local.port(), 4500);
    let i = &established(&sim, I)[0];
    assert!(i.local_behind_nat && !i.remote_behind_nat);
    // Keepalives every 20 s on both sides while a NAT is detected.
    assert!(sim.keepalives.get(&I).copied().unwrap_or(0) >= 3);
    assert!(sim.keepalives.get(&R).copied().unwrap_or(0) >= 3);
}

#[test]
fn draft_nat_t_uses_draft_numbers_and_mode_61444() {
    let mut ic = proposals::windows10();
    ic.nat_t_vendor_ids.clear();
    ic.nat_t_vendor_ids.push(NatTVariant::Draft02N).unwrap();
    let mut sim = Sim::pair(initiator_config(ic, PSK), lns(), true, Faults::NONE, 10);
    sim.connect(I);
    sim.run_for(Duration::from_secs(10));
    let r = &established(&sim, R)[0];
    assert_eq!(r.nat_t, Some(NatTVariant::Draft02N));
    // Message 2 answers with the draft-02\n vendor ID; message 4 carries
    // NAT-D with the draft number 130.
    let mm2 = sim
        .delivered
        .iter()
        .find(|(to, _, _, b)| *to == I && b[16] == 1)
        .unwrap();
    let vids: Vec<_> = PayloadIter::new(PayloadType::Sa, &mm2.3[28..])
        .map(|p| p.unwrap())
        .filter(|p| p.kind == PayloadType::VendorId)
        .filter_map(|p| VendorId(p.body).known())
        .collect();
    assert!(vids.contains(&ike_core::wire::KnownVendor::NatTDraft02N));
    assert!(!vids.contains(&ike_core::wire::KnownVendor::NatTRfc3947));
    let mm4 = sim
        .delivered
        .iter()
        .find(|(to, _, _, b)| *to == I && b[16] == 4)
        .unwrap();
    let kinds: Vec<_> = PayloadIter::new(PayloadType::KeyExchange, &mm4.3[28..])
        .map(|p| p.unwrap().kind)
        .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == PayloadType::NatDDraft)
            .count(),
        2
    );
    let c = &sim.children(R)[0];
    assert!(matches!(
        c.encapsulation,
        Encapsulation::UdpTransport { mode: 61444, .. }
    ));
    assert_same_keys(&sim.children(I)[0], c);
}

#[test]
fn windows10_list_selects_aes256_sha1_modp2048() {
    let mut sim = Sim::pair(
        initiator_config(proposals::windows10(), PSK),
        lns(),
        true,
        Faults::NONE,
        11,
    );
    sim.connect(I);
    sim.run_for(Duration::from_secs(10));
    let r = &established(&sim, R)[0];
    assert_eq!(
        (r.cipher, r.hash, r.group, r.lifetime_seconds),
        (CipherAlg::Aes256, HashAlg::Sha1, DhGroup::Modp2048, 28_800),
        "the peer's 8 h is below our 24 h: accepted as offered"
    );
    let c = &sim.children(R)[0];
    assert_eq!(c.encryption, EspEncryption::AesCbc { key_bits: 256 });
    assert_eq!(c.integrity, EspIntegrity::HmacSha1);
    assert_eq!(c.transform_set, Some(0));
    assert_eq!(
        c.lifetime,
        IpsecLifetime {
            seconds: 3600,
            kilobytes: 250_000
        },
        "Windows' lifetimes are below ours: no RESPONDER-LIFETIME"
    );
    assert_same_keys(&sim.children(I)[0], c);
}

#[test]
fn windows10_list_selects_ecp384_when_the_lns_has_group_20() {
    let mut lns = lns();
    lns.isakmp_policies
        .push(ike_core::config::IsakmpPolicy {
            priority: 5,
            proposal: ike(CipherAlg::Aes256, HashAlg::Sha1, DhGroup::Ecp384, 86_400),
        })
        .unwrap();
    let mut sim = Sim::pair(
        initiator_config(proposals::windows10(), PSK),
        lns,
        true,
        Faults::LOSSY,
        12,
    );
    sim.connect(I);
    sim.run_for(Duration::from_secs(60));
    let r = &established(&sim, R)[0];
    assert_eq!((r.cipher, r.group), (CipherAlg::Aes256, DhGroup::Ecp384));
    assert_same_keys(&sim.children(I)[0], &sim.children(R)[0]);
}

/// Groups 19 and 20 (RFC 5903) as phase 1 groups and as PFS groups, with
/// loss, duplication and a NAT; and a KE that is not on the curve.
#[test]
fn ecp_groups_19_and_20_phase1_and_pfs() {
    for (k, g) in [DhGroup::Ecp256, DhGroup::Ecp384].into_iter().enumerate() {
        let p = ike(CipherAlg::Aes128, HashAlg::Sha256, g, 86_400);
        let e = esp(
            EspEncryption::AesCbc { key_bits: 128 },
            EspIntegrity::HmacSha256,
        );
        let mut ic = proposals::single(p, e);
        ic.pfs = Some(g);
        let mut rc = responder_config(
            &[p],
            &[set(
                EspEncryption::AesCbc { key_bits: 128 },
                EspIntegrity::HmacSha256,
            )],
        );
        rc.pfs = Some(g);
        let mut sim = Sim::pair(
            initiator_config(ic, PSK),
            rc,
            true,
            Faults::LOSSY,
            40 + k as u64,
        );
        sim.connect(I);
        sim.run_for(Duration::from_secs(120));
        let info = &established(&sim, R)[0];
        assert_eq!(info.group, g);
        let (ic, rc) = (sim.children(I), sim.children(R));
        assert_eq!((ic.len(), rc.len()), (1, 1), "{g:?}");
        assert_eq!(rc[0].pfs, Some(g));
        assert_same_keys(&ic[0], &rc[0]);
    }
}

#[test]
fn android_list_selects_aes128_group2_and_3des_with_responder_lifetime() {
    let mut sim = Sim::pair(
        initiator_config(proposals::android(), PSK),
        lns(),
        false,
        Faults::NONE,
        12,
    );
    sim.connect(I);
    sim.run_for(Duration::from_secs(10));
    // Policy 10 (AES-256/group 14) is not offered; policy 20 matches
    // Android's third transform.
    let r = &established(&sim, R)[0];
    assert_eq!(
        (r.cipher, r.hash, r.group),
        (CipherAlg::Aes128, HashAlg::Sha1, DhGroup::Modp1024)
    );
    // Transform set 0 (AES-256) is not offered; set 1 (3DES-SHA) is.
    let c = &sim.children(R)[0];
    assert_eq!(
        (c.encryption, c.integrity),
        (EspEncryption::TripleDes, EspIntegrity::HmacSha1)
    );
    assert_eq!(c.transform_set, Some(1));
    // Android offers no kilobyte limit: we add ours and say so with
    // RESPONDER-LIFETIME, which the initiator honours.
    let ours = IpsecLifetime::DEFAULT;
    assert_eq!(c.lifetime, ours);
    assert_eq!(sim.children(I)[0].lifetime, ours);
    assert_same_keys(&sim.children(I)[0], c);
    assert!(matches!(c.encapsulation, Encapsulation::Transport));
}

#[test]
fn pfs_group14_both_ways_and_required_pfs_refused_without_it() {
    let mut ic = proposals::windows10();
    ic.pfs = Some(DhGroup::Modp2048);
    let mut lns_pfs = lns();
    lns_pfs.pfs = Some(DhGroup::Modp2048);
    let mut sim = Sim::pair(
        initiator_config(ic, PSK),
        lns_pfs.clone(),
        true,
        Faults::LOSSY,
        13,
    );
    sim.connect(I);
    sim.run_for(Duration::from_secs(60));
    let c = &sim.children(R)[0];
    assert_eq!(c.pfs, Some(DhGroup::Modp2048));
    assert_same_keys(&sim.children(I)[0], c);

    // The LNS requires PFS; a Windows client without it is refused with a
    // protected NO-PROPOSAL-CHOSEN, and only the Quick Mode fails.
    let mut sim = Sim::pair(
        initiator_config(proposals::windows10(), PSK),
        lns_pfs,
        false,
        Faults::NONE,
        14,
    );
    sim.connect(I);
    sim.run_for(Duration::from_secs(10));
    assert!(sim.children(R).is_empty());
    assert!(
        sim.events(I).iter().any(|e| matches!(
            e,
            Event::ChildSaFailed {
                reason: FailReason::PeerNotify(NotifyType::NoProposalChosen),
                spi_in: Some(_),
                ..
            }
        )),
        "{:?}",
        sim.events(I)
    );
    assert_eq!(established(&sim, R).len(), 1);
    assert_eq!(sim.nodes[R].ep.sa_handles().count(), 1);
}

#[test]
fn wrong_psk_fails_with_a_clear_event_and_disturbs_nothing_else() {
    let mut sim = Sim::new(lns(), Faults::NONE, 15);
    let good = sim.add_initiator(initiator_config(proposals::windows10(), PSK), true);
    let bad = sim.add_initiator(
        initiator_config(proposals::windows10(), b"not-the-psk"),
        true,
    );
    sim.connect(good);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.children(good).len(), 1);
    sim.connect(bad);
    sim.run_for(Duration::from_secs(120));
    let failures: Vec<_> = sim
        .events(R)
        .iter()
        .filter_map(|e| match e {
            Event::Phase1Failed { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect();
    assert_eq!(failures, vec![FailReason::AuthenticationFailed]);
    assert_eq!(sim.nodes[R].ep.counters().authentication_failures, 1);
    // The bad client gives up after its retransmissions.
    assert!(sim.events(bad).iter().any(|e| matches!(
        e,
        Event::Phase1Failed {
            reason: FailReason::Timeout,
            ..
        }
    )));
    // The good session is untouched: still established, its IPsec SAs
    // never deleted, and it can still negotiate.
    assert_eq!(sim.nodes[R].ep.sa_handles().count(), 1);
    assert_eq!(
        sim.count(R, |e| matches!(
            e,
            Event::ChildSaDeleted { .. } | Event::Phase1Deleted { .. }
        )),
        0
    );
    let h = sim.nodes[good].ep.sa_handles().next().unwrap();
    let now = sim.now;
    let n = &mut sim.nodes[good];
    n.ep.request_child_sa(now, h, &mut n.rng).unwrap();
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.children(good).len(), 2);
    assert_same_keys(&sim.children(good)[1], &sim.children(R)[1]);
}

#[test]
fn initial_contact_removes_the_rebooted_peers_old_sas() {
    let mut sim = Sim::new(lns(), Faults::NONE, 16);
    let client = sim.add_initiator(initiator_config(proposals::windows10(), PSK), true);
    let other = sim.add_initiator(initiator_config(proposals::windows10(), PSK), false);
    sim.connect(client);
    sim.connect(other);
    sim.run_for(Duration::from_secs(5));
    let old = sim.children(R);
    assert_eq!(old.len(), 2);
    let old_client = old
        .iter()
        .find(|c| c.remote.ip() == Sim::addr(common::NAT_PUBLIC_IP, 0).ip())
        .unwrap()
        .clone();
    // The client reboots and reconnects from the same NAT: message 5
    // carries INITIAL-CONTACT.
    sim.reboot(client, initiator_config(proposals::windows10(), PSK));
    sim.connect(client);
    sim.run_for(Duration::from_secs(5));
    assert!(sim.events(R).iter().any(|e| matches!(
        e,
        Event::ChildSaDeleted { spi_in, reason: DeleteReason::InitialContact, .. } if *spi_in == old_client.spi_in
    )));
    assert!(sim.events(R).iter().any(|e| matches!(
        e,
        Event::Phase1Deleted {
            reason: DeleteReason::InitialContact,
            ..
        }
    )));
    // The other peer's SA survives; two SAs remain.
    assert_eq!(sim.nodes[R].ep.sa_handles().count(), 2);
    assert_eq!(sim.children(R).len(), 3);
}

#[test]
fn delete_both_ways_and_dpd() {
    let mut sim = Sim::pair(
        initiator_config(proposals::windows10(), PSK),
        lns(),
        true,
        Faults::NONE,
        17,
    );
    sim.connect(I);
    sim.run_for(Duration::from_secs(5));
    let rc = sim.children(R)[0].clone();
    let ih = sim.nodes[I].ep.sa_handles().next().unwrap();
    let rh = sim.nodes[R].ep.sa_handles().next().unwrap();

    // DPD: R-U-THERE from the client, answered by the LNS.
    let now = sim.now;
    let n = &mut sim.nodes[I];
    let seq = n.ep.send_r_u_there(now, ih, &mut n.rng).unwrap();
    sim.run_for(Duration::from_secs(1));
    assert!(
        sim.events(I)
            .iter()
            .any(|e| matches!(e, Event::PeerAlive { sequence, .. } if *sequence == seq))
    );

    // The LNS deletes the IPsec SA pair: the client learns it.
    let now = sim.now;
    let n = &mut sim.nodes[R];
    n.ep.delete_child_sa(now, rh, rc.spi_in, &mut n.rng)
        .unwrap();
    assert_eq!(
        n.ep.delete_child_sa(now, rh, rc.spi_in, &mut n.rng),
        Err(Error::InvalidHandle)
    );
    sim.run_for(Duration::from_secs(1));
    assert!(sim.events(I).iter().any(|e| matches!(
        e,
        Event::ChildSaDeleted { spi_out, reason: DeleteReason::PeerDelete, .. } if *spi_out == rc.spi_in
    )));

    // A new pair, then the client disconnects as Windows does: Delete
    // ESP, then Delete ISAKMP.
    let now = sim.now;
    let n = &mut sim.nodes[I];
    n.ep.request_child_sa(now, ih, &mut n.rng).unwrap();
    sim.run_for(Duration::from_secs(2));
    let second = sim.children(R)[1].clone();
    let now = sim.now;
    let n = &mut sim.nodes[I];
    n.ep.delete_sa(now, ih, &mut n.rng).unwrap();
    assert_eq!(n.ep.sa_info(ih), None, "stale handle");
    assert_eq!(
        n.ep.delete_sa(now, ih, &mut n.rng),
        Err(Error::InvalidHandle)
    );
    sim.run_for(Duration::from_secs(1));
    let r_tail: Vec<_> = sim.events(R).iter().rev().take(2).cloned().collect();
    assert!(
        matches!(
            r_tail[0],
            Event::Phase1Deleted {
                reason: DeleteReason::PeerDelete,
                ..
            }
        ),
        "{r_tail:?}"
    );
    assert!(matches!(
        &r_tail[1],
        Event::ChildSaDeleted { spi_in, reason: DeleteReason::PeerDelete, .. } if *spi_in == second.spi_in
    ));
    assert_eq!(sim.nodes[R].ep.sa_handles().count(), 0);
    assert_eq!(sim.nodes[R].ep.sa_info(rh), None);
}

#[test]
fn a_silent_responder_makes_the_initiator_give_up() {
    let mut sim = Sim::pair(
        initiator_config(proposals::windows10(), PSK),
        lns(),
        false,
        Faults::NONE,
        18,
    );
    sim.nodes[R].mute = true;
    sim.connect(I);
    sim.run_for(Duration::from_secs(300));
    let c = sim.nodes[I].ep.counters();
    assert_eq!(c.retransmissions, 5);
    assert!(sim.events(I).iter().any(|e| matches!(
        e,
        Event::Phase1Failed {
            reason: FailReason::Timeout,
            ..
        }
    )));
    assert_eq!(sim.nodes[I].ep.sa_handles().count(), 0);
    // The responder's half-open SA expired too.
    assert_eq!(sim.nodes[R].ep.sa_handles().count(), 0);
    assert!(sim.events(R).iter().any(|e| matches!(
        e,
        Event::Phase1Failed {
            reason: FailReason::Timeout,
            ..
        }
    )));
    assert_eq!(sim.nodes[I].ep.poll_timeout(), None);
    assert_eq!(sim.nodes[R].ep.poll_timeout(), None);
}

#[test]
fn lost_quick_mode_3_is_recovered_by_the_responders_retransmission() {
    let mut sim = Sim::pair(
        initiator_config(proposals::windows10(), PSK),
        lns(),
        true,
        Faults::NONE,
        19,
    );
    // Lose the first Quick Mode message 3 (the initiator's short Quick
    // Mode message: HDR* and HASH(3) only). The responder retransmits its
    // message 2; the initiator, still holding the finished exchange,
    // answers with message 3 again instead of negotiating anew.
    let mut dropped = false;
    sim.drop_rule = Some(Box::new(move |from, b| {
        let isakmp = if b.len() > 4 && b[..4] == [0; 4] {
            &b[4..]
        } else {
            b
        };
        let qm3 = from == I && isakmp.len() > 28 && isakmp[18] == 32 && isakmp.len() < 100;
        if qm3 && !dropped {
            dropped = true;
            return true;
        }
        false
    }));
    sim.connect(I);
    sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.children(I).len(), 1);
    assert!(sim.children(R).is_empty(), "QM3 was lost");
    sim.run_for(Duration::from_secs(10));
    assert_eq!(sim.children(R).len(), 1);
    assert_same_keys(&sim.children(I)[0], &sim.children(R)[0]);
    assert!(sim.nodes[R].ep.counters().retransmissions >= 1);
    assert!(sim.nodes[I].ep.counters().duplicates_answered >= 1);
}

#[test]
fn phase1_expiry_sends_delete_and_reports() {
    let mut short = lns();
    for p in short.isakmp_policies.iter_mut() {
        p.proposal.lifetime_seconds = 600;
    }
    let mut ic = proposals::windows10();
    for p in ic.ike_proposals.iter_mut() {
        p.lifetime_seconds = 600;
    }
    ic.rekey = false; // expiry itself, without a replacement
    let mut sim = Sim::pair(initiator_config(ic, PSK), short, false, Faults::NONE, 20);
    sim.connect(I);
    sim.run_for(Duration::from_secs(700));
    for node in [I, R] {
        assert_eq!(
            sim.count(node, |e| matches!(
                e,
                Event::Phase1Deleted {
                    reason: DeleteReason::Expired | DeleteReason::PeerDelete,
                    ..
                }
            )),
            1
        );
        assert_eq!(sim.nodes[node].ep.sa_handles().count(), 0);
    }
    // Informational Deletes went both ways on the wire.
    let deletes = sim
        .delivered
        .iter()
        .filter(|(_, _, _, b)| {
            HeaderRepr::parse(&Header::new_checked(&b[..]).unwrap())
                .unwrap()
                .exchange_type
                == ExchangeType::Informational
        })
        .count();
    assert!(deletes >= 1);
    let _ = Role::Initiator;
}

#[test]
fn responder_lifetime_in_seconds_is_sent_and_honoured() {
    let mut short = lns();
    short.ipsec_lifetime = IpsecLifetime {
        seconds: 1800,
        kilobytes: 100_000,
    };
    let mut sim = Sim::pair(
        initiator_config(proposals::windows10(), PSK),
        short,
        false,
        Faults::NONE,
        21,
    );
    sim.connect(I);
    sim.run_for(Duration::from_secs(5));
    let want = IpsecLifetime {
        seconds: 1800,
        kilobytes: 100_000,
    };
    // Windows offered 3600 s / 250000 KB: both shortened by the responder,
    // and the initiator learnt it only from RESPONDER-LIFETIME.
    assert_eq!(sim.children(R)[0].lifetime, want);
    assert_eq!(sim.children(I)[0].lifetime, want);
}

/// Eight clients behind one NAT, one a second, against a responder with
/// eight exchange slots: each finished Main Mode used to linger in its slot
/// for 30 s (to resend MM6), so the later clients' Quick Modes found no
/// slot. An authentic Quick Mode now ends the linger; all eight get their
/// IPsec SAs within seconds. (Found by the gateway's 64-client simulation.)
#[test]
fn a_burst_of_clients_does_not_wait_for_lingering_main_modes() {
    let mut sim = Sim::new(lns(), Faults::NONE, 77);
    let clients: Vec<usize> = (0..8)
        .map(|_| sim.add_initiator(initiator_config(proposals::windows10(), PSK), true))
        .collect();
    for &c in &clients {
        sim.connect(c);
        sim.run_for(Duration::from_secs(1));
    }
    sim.run_for(Duration::from_secs(3));
    for &c in &clients {
        assert_eq!(sim.children(c).len(), 1, "client {c} has its IPsec SAs");
    }
    assert_eq!(sim.children(R).len(), 8);
}

/// DPD (RFC 3706) with the appliance's `isakmp keepalive threshold 30
/// retry 5` and 3 retries: a peer that answers stays up however idle it
/// is; a peer that falls silent is declared dead after the threshold and
/// the retries, not before, and its SAs are removed.
#[test]
fn dpd_keeps_a_live_idle_peer_and_declares_a_silent_one_dead() {
    let timers = ike_core::config::DpdTimers {
        threshold: Duration::from_secs(30),
        retry: Duration::from_secs(5),
        max_retries: 3,
    };
    let mut lns = lns();
    lns.dpd_keepalive = Some(timers);
    let mut client = initiator_config(proposals::windows10(), PSK);
    client.dpd_keepalive = None; // the client only answers
    let mut sim = Sim::pair(client, lns, true, Faults::NONE, 23);
    sim.connect(I);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.children(R).len(), 1);

    // Ten idle minutes with an answering client: probes every threshold,
    // each answered, nothing deleted.
    sim.run_for(Duration::from_secs(600));
    let alive = sim.count(R, |e| matches!(e, Event::PeerAlive { .. }));
    assert!((18..=21).contains(&alive), "{alive} probes answered");
    assert_eq!(sim.count(R, |e| matches!(e, Event::PeerDead { .. })), 0);
    assert_eq!(sim.nodes[R].ep.counters().dpd_probes, alive as u64);

    // Inbound traffic reported by the caller counts as life: no probe.
    let rh = sim.nodes[R].ep.sa_handles().next().unwrap();
    let probes = sim.nodes[R].ep.counters().dpd_probes;
    for _ in 0..12 {
        sim.run_for(Duration::from_secs(10));
        let now = sim.now;
        sim.nodes[R].ep.peer_activity(now, rh).unwrap();
    }
    assert_eq!(sim.nodes[R].ep.counters().dpd_probes, probes);

    // The client goes silent.
    sim.nodes[I].mute = true;
    let silent_at = sim.now;
    sim.run_for(timers.threshold - Duration::from_secs(1));
    assert_eq!(sim.count(R, |e| matches!(e, Event::PeerDead { .. })), 0);
    sim.run_for(timers.detection_time());
    let dead_at = sim.now;
    let dead = sim
        .events(R)
        .iter()
        .position(|e| matches!(e, Event::PeerDead { .. }))
        .expect("declared dead");
    let tail = &sim.events(R)[dead..];
    assert!(
        matches!(
            tail[1],
            Event::ChildSaDeleted {
                reason: DeleteReason::PeerDead,
                ..
            }
        ),
        "{tail:?}"
    );
    assert!(tail.iter().any(|e| matches!(
        e,
        Event::Phase1Deleted {
            reason: DeleteReason::PeerDead,
            ..
        }
    )));
    assert_eq!(sim.nodes[R].ep.sa_handles().count(), 0);
    assert_eq!(sim.nodes[R].ep.counters().dpd_dead_peers, 1);
    assert!(dead_at - silent_at <= timers.detection_time() + timers.threshold);
    assert_eq!(
        sim.nodes[R].ep.counters().dpd_probes - probes,
        u64::from(timers.max_retries) + 1
    );
}

/// Found by strongSwan 5.9.8 (charon with `rekey_time = 0`, which offers
/// Life-Duration 0): the responder took 0 s as the ISAKMP SA's lifetime and
/// deleted the SA as Main Mode completed, so Quick Mode met INVALID-SPI.
/// An initiator offering 0 gets the responder's policy lifetime, and one
/// configured with 0 keeps its SA without a limit.
#[test]
fn zero_lifetime_offer_keeps_the_isakmp_sa() {
    let mut ic = proposals::windows10();
    for p in ic.ike_proposals.iter_mut() {
        p.lifetime_seconds = 0;
    }
    ic.rekey = false;
    let mut sim = Sim::pair(initiator_config(ic, PSK), lns(), false, Faults::NONE, 23);
    sim.connect(I);
    sim.run_for(Duration::from_secs(600));
    for node in [I, R] {
        assert_eq!(established(&sim, node).len(), 1, "node {node}");
        assert_eq!(
            sim.count(node, |e| matches!(e, Event::Phase1Deleted { .. })),
            0,
            "node {node}: {:?}",
            sim.events(node)
        );
        assert_eq!(sim.nodes[node].ep.sa_handles().count(), 1);
        assert_eq!(sim.children(node).len(), 1, "node {node}: Quick Mode done");
    }
    assert_eq!(established(&sim, R)[0].lifetime_seconds, 86_400);
    assert_same_keys(&sim.children(I)[0], &sim.children(R)[0]);
}
