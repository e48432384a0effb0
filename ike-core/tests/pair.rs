//! Pair tests: our initiator against our responder over a simulated
//! network with loss, duplication, reordering and an optional NAT.

mod common;

use common::{Faults, Pair, assert_same_keys};
use ike_core::config::{
    Authentication, EspEncryption, EspIntegrity, EspProposal, IkeProposal, IsakmpPolicy, Mode, Psk,
    TransformSet,
};
use ike_core::crypto::{CipherAlg, DhGroup, HashAlg};
use ike_core::{Config, Encapsulation, Event, proposals};
use std::time::Duration;

const PSK: &[u8] = b"l2tp-capture-psk";

fn responder_config(policies: &[IkeProposal], sets: &[TransformSet]) -> Config {
    let mut c = Config::default();
    for (k, p) in policies.iter().enumerate() {
        c.isakmp_policies
            .push(IsakmpPolicy {
                priority: 10 * (k as u16 + 1),
                proposal: *p,
            })
            .unwrap();
    }
    for s in sets {
        c.transform_sets.push(*s).unwrap();
    }
    c.pre_shared_keys.default_remote_access = Psk::new(PSK);
    c
}

fn initiator_config(ic: ike_core::config::InitiatorConfig) -> Config {
    let mut c = Config::default();
    c.initiator = ic;
    c.pre_shared_keys.default_remote_access = Psk::new(PSK);
    c
}

fn ike(encryption: CipherAlg, hash: HashAlg, group: DhGroup) -> IkeProposal {
    IkeProposal {
        encryption,
        hash,
        authentication: Authentication::PreShare,
        group,
        lifetime_seconds: 86_400,
    }
}

#[test]
fn handshake_matrix_with_loss_duplication_and_nat() {
    let ciphers = [CipherAlg::TripleDes, CipherAlg::Aes128, CipherAlg::Aes256];
    let hashes = [HashAlg::Md5, HashAlg::Sha1, HashAlg::Sha256];
    let groups = [DhGroup::Modp1024, DhGroup::Modp1536, DhGroup::Modp2048];
    let mut seed = 1u64;
    for c in ciphers {
        for h in hashes {
            for g in groups {
                for nat in [false, true] {
                    seed += 1;
                    let p = ike(c, h, g);
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
                    let set = TransformSet {
                        encryption: esp_enc,
                        integrity: esp_int,
                        mode: Mode::Transport,
                    };
                    let mut pair = Pair::new(
                        initiator_config(proposals::single(
                            p,
                            EspProposal {
                                encryption: esp_enc,
                                integrity: esp_int,
                            },
                        )),
                        responder_config(&[p], &[set]),
                        nat,
                        Faults {
                            loss_permille: 150,
                            dup_permille: 150,
                            max_jitter: Duration::from_millis(300),
                        },
                        seed,
                    );
                    pair.connect();
                    pair.run_until(pair.now + Duration::from_secs(120));
                    let ic = Pair::children(&pair.i_events);
                    let rc = Pair::children(&pair.r_events);
                    assert_eq!(
                        (ic.len(), rc.len()),
                        (1, 1),
                        "{c:?} {h:?} {g:?} nat={nat}: {:?} / {:?}",
                        pair.i_events,
                        pair.r_events
                    );
                    assert_same_keys(&ic[0], &rc[0]);
                    assert_eq!(ic[0].encryption, esp_enc);
                    assert_eq!(ic[0].integrity, esp_int);
                    match (nat, rc[0].encapsulation) {
                        (
                            true,
                            Encapsulation::UdpTransport {
                                mode, local_port, ..
                            },
                        ) => {
                            assert_eq!(mode, 4);
                            assert_eq!(local_port, 4500);
                        }
                        (false, Encapsulation::Transport) => {}
                        other => panic!("encapsulation {other:?}"),
                    }
                }
            }
        }
    }
}
