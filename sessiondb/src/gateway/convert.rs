//! From the appliance's configuration to the configurations of the cores,
//! and from what one core reports to what another needs.

use crate::config::{
    self, Config, DhGroup, EspEncryption, EspIntegrity, IkeAuthentication, IkeEncryption, IkeHash,
    IpsecMode, PppAuth,
};
use crate::session::{Cipher, Hash};
use esp_core::{Encapsulation, Encryption, Integrity, Lifetime, SaConfig};
use ike_core::config as ikec;
use ike_core::crypto as ikex;
use ike_core::{ChildSa, EspKeys};

/// The `crypto isakmp policy` entries, transform sets, lifetimes, the
/// pre-shared key of `DefaultRAGroup` and NAT-T settings as ike-core's
/// responder configuration. Entries ike-core cannot serve (DES) are left
/// out: a client that offers only those gets NO-PROPOSAL-CHOSEN, as from an
/// appliance without them; `rsa-sig` entries wait for certificates.
pub(crate) fn ike_config(cfg: &Config) -> ike_core::Config {
    let mut ike = ike_core::Config::default();
    for p in &cfg.isakmp_policies {
        let (Some(encryption), Some(group)) = (ike_cipher(p.encryption), ike_group(p.group)) else {
            continue;
        };
        // rsa-sig is chosen only once the port has supplied the trust
        // point's certificates (Gateway::set_ike_credentials).
        let authentication = match p.authentication {
            IkeAuthentication::PreShare => ikec::Authentication::PreShare,
            IkeAuthentication::RsaSig => ikec::Authentication::RsaSig,
        };
        let hash = match p.hash {
            IkeHash::Md5 => ikex::HashAlg::Md5,
            IkeHash::Sha1 => ikex::HashAlg::Sha1,
            IkeHash::Sha256 => ikex::HashAlg::Sha256,
        };
        let _ = ike.isakmp_policies.push(ikec::IsakmpPolicy {
            priority: p.priority,
            proposal: ikec::IkeProposal {
                encryption,
                hash,
                authentication,
                group,
                lifetime_seconds: p.lifetime,
            },
        });
    }
    // The transform sets of the dynamic map(s) bound to the crypto map on
    // an interface, in sequence order; PFS from the first entry that sets it.
    let mut entries: heapless::Vec<&config::DynamicMapEntry, { config::capacity::DYNAMIC_MAPS }> =
        heapless::Vec::new();
    for map in &cfg.crypto_maps {
        if cfg.crypto_map_interfaces.iter().any(|i| i.map == map.name) {
            for d in cfg
                .dynamic_maps
                .iter()
                .filter(|d| d.name == map.dynamic_map)
            {
                let _ = entries.push(d);
            }
        }
    }
    entries.sort_unstable_by_key(|d| d.seq);
    for d in &entries {
        if ike.pfs.is_none() {
            ike.pfs = d.pfs.and_then(ike_group);
        }
        for name in &d.transform_sets {
            let Some(ts) = cfg.transform_set(name) else {
                continue;
            };
            let Some(t) = ike_transform(ts) else { continue };
            if !ike.transform_sets.contains(&t) {
                let _ = ike.transform_sets.push(t);
            }
        }
    }
    ike.ipsec_lifetime = ikec::IpsecLifetime {
        seconds: cfg.sa_lifetime.seconds,
        kilobytes: cfg.sa_lifetime.kilobytes,
    };
    ike.pre_shared_keys.default_remote_access = cfg
        .tunnel_group("DefaultRAGroup")
        .and_then(|tg| tg.pre_shared_key.as_ref())
        .and_then(|k| ikec::Psk::new(k.expose()));
    // DPD: `isakmp keepalive` of DefaultRAGroup, where every peer of the
    // dynamic map lands (the appliance's default when the group does not
    // exist).
    let keepalive = cfg
        .tunnel_group("DefaultRAGroup")
        .map(|tg| tg.isakmp_keepalive)
        .unwrap_or_default();
    ike.dpd_keepalive = match keepalive {
        config::IsakmpKeepalive::Disabled => None,
        config::IsakmpKeepalive::Enabled { threshold, retry } => Some(ikec::DpdTimers {
            threshold: core::time::Duration::from_secs(u64::from(threshold)),
            retry: core::time::Duration::from_secs(u64::from(retry)),
            ..ikec::DpdTimers::DEFAULT
        }),
    };
    ike.nat_traversal = cfg.nat_traversal.is_some();
    ike.nat_keepalive = cfg
        .nat_traversal
        .map(|s| core::time::Duration::from_secs(u64::from(s.max(10))));
    ike
}

fn ike_cipher(e: IkeEncryption) -> Option<ikex::CipherAlg> {
    match e {
        IkeEncryption::Des => None,
        IkeEncryption::TripleDes => Some(ikex::CipherAlg::TripleDes),
        IkeEncryption::Aes128 => Some(ikex::CipherAlg::Aes128),
        IkeEncryption::Aes192 => Some(ikex::CipherAlg::Aes192),
        IkeEncryption::Aes256 => Some(ikex::CipherAlg::Aes256),
    }
}

fn ike_group(g: DhGroup) -> Option<ikex::DhGroup> {
    match g {
        DhGroup::Group1 => Some(ikex::DhGroup::Modp768),
        DhGroup::Group2 => Some(ikex::DhGroup::Modp1024),
        DhGroup::Group5 => Some(ikex::DhGroup::Modp1536),
        DhGroup::Group14 => Some(ikex::DhGroup::Modp2048),
        DhGroup::Group19 => Some(ikex::DhGroup::Ecp256),
        DhGroup::Group20 => Some(ikex::DhGroup::Ecp384),
    }
}

fn ike_transform(ts: &config::TransformSet) -> Option<ikec::TransformSet> {
    let encryption = match ts.encryption {
        EspEncryption::TripleDes => ikec::EspEncryption::TripleDes,
        EspEncryption::Aes128 => ikec::EspEncryption::AesCbc { key_bits: 128 },
        EspEncryption::Aes192 => ikec::EspEncryption::AesCbc { key_bits: 192 },
        EspEncryption::Aes256 => ikec::EspEncryption::AesCbc { key_bits: 256 },
        EspEncryption::Null => ikec::EspEncryption::Null,
        EspEncryption::Des => return None,
    };
    let integrity = match ts.integrity {
        EspIntegrity::Md5 => ikec::EspIntegrity::HmacMd5,
        EspIntegrity::Sha1 => ikec::EspIntegrity::HmacSha1,
        EspIntegrity::Sha256 => ikec::EspIntegrity::HmacSha256,
        EspIntegrity::None => return None,
    };
    let mode = match ts.mode {
        IpsecMode::Transport => ikec::Mode::Transport,
        IpsecMode::Tunnel => ikec::Mode::Tunnel,
    };
    Some(ikec::TransformSet {
        encryption,
        integrity,
        mode,
    })
}

/// esp-core's names for what Quick Mode negotiated.
pub(crate) fn esp_algorithms(child: &ChildSa) -> Option<(Encryption, Integrity)> {
    let e = match child.encryption {
        ikec::EspEncryption::TripleDes => Encryption::TripleDesCbc,
        ikec::EspEncryption::AesCbc { key_bits: 128 } => Encryption::AesCbc128,
        ikec::EspEncryption::AesCbc { key_bits: 192 } => Encryption::AesCbc192,
        ikec::EspEncryption::AesCbc { key_bits: 256 } => Encryption::AesCbc256,
        ikec::EspEncryption::Null => Encryption::Null,
        _ => return None,
    };
    let i = match child.integrity {
        ikec::EspIntegrity::HmacMd5 => Integrity::HmacMd5_96,
        ikec::EspIntegrity::HmacSha1 => Integrity::HmacSha1_96,
        ikec::EspIntegrity::HmacSha256 => Integrity::HmacSha256_128,
        _ => return None,
    };
    Some((e, i))
}

/// The esp-core SA configuration for one direction of a negotiated pair.
pub(crate) fn esp_config<'k>(
    child: &ChildSa,
    keys: &'k EspKeys,
    algorithms: (Encryption, Integrity),
    replay_window: u16,
) -> SaConfig<'k> {
    let encapsulation = match child.encapsulation {
        ike_core::Encapsulation::Transport => Encapsulation::None,
        ike_core::Encapsulation::UdpTransport { remote_port, .. } => Encapsulation::Udp {
            peer_port: remote_port,
        },
    };
    SaConfig {
        encryption: algorithms.0,
        encryption_key: keys.encryption_key(),
        integrity: algorithms.1,
        integrity_key: keys.integrity_key(),
        encapsulation,
        replay_window,
        lifetime: Lifetime::from_hard(child.lifetime.seconds, child.lifetime.kilobytes),
    }
}

/// The session view's cipher name for an ESP algorithm.
pub(crate) fn cipher_of(e: Encryption) -> Cipher {
    match e {
        Encryption::TripleDesCbc => Cipher::TripleDes,
        Encryption::AesCbc128 => Cipher::Aes128,
        Encryption::AesCbc192 => Cipher::Aes192,
        Encryption::AesCbc256 => Cipher::Aes256,
        _ => Cipher::None,
    }
}

/// The session view's hash name for an ESP algorithm.
pub(crate) fn hash_of(i: Integrity) -> Hash {
    match i {
        Integrity::HmacMd5_96 => Hash::Md5,
        Integrity::HmacSha1_96 => Hash::Sha1,
        Integrity::HmacSha256_128 | Integrity::HmacSha256_96 => Hash::Sha256,
        _ => Hash::None,
    }
}

/// The session view's names for the IKE SA's algorithms.
pub(crate) fn ike_names(info: &ike_core::SaInfo) -> (Cipher, Hash, u8) {
    let cipher = match info.cipher {
        ikex::CipherAlg::TripleDes => Cipher::TripleDes,
        ikex::CipherAlg::Aes128 => Cipher::Aes128,
        ikex::CipherAlg::Aes192 => Cipher::Aes192,
        ikex::CipherAlg::Aes256 => Cipher::Aes256,
        _ => Cipher::None,
    };
    let hash = match info.hash {
        ikex::HashAlg::Md5 => Hash::Md5,
        ikex::HashAlg::Sha1 => Hash::Sha1,
        ikex::HashAlg::Sha256 => Hash::Sha256,
        _ => Hash::None,
    };
    let group = u8::try_from(info.group.ike_value()).unwrap_or(0);
    (cipher, hash, group)
}

/// PPP's method for a configured `authentication` keyword.
pub(crate) fn ppp_method(a: PppAuth) -> ppp_core::AuthMethod {
    match a {
        PppAuth::Pap => ppp_core::AuthMethod::Pap,
        PppAuth::Chap => ppp_core::AuthMethod::ChapMd5,
        PppAuth::MsChapV1 => ppp_core::AuthMethod::MsChapV1,
        PppAuth::MsChapV2 => ppp_core::AuthMethod::MsChapV2,
        PppAuth::EapProxy => ppp_core::AuthMethod::Eap,
    }
}

/// The configured keyword for a PPP method.
pub(crate) fn ppp_auth(m: ppp_core::AuthMethod) -> PppAuth {
    match m {
        ppp_core::AuthMethod::Pap => PppAuth::Pap,
        ppp_core::AuthMethod::ChapMd5 => PppAuth::Chap,
        ppp_core::AuthMethod::MsChapV1 => PppAuth::MsChapV1,
        ppp_core::AuthMethod::MsChapV2 => PppAuth::MsChapV2,
        _ => PppAuth::EapProxy,
    }
}
