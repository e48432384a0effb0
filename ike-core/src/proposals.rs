//! Initiator proposal lists that mirror the built-in L2TP/IPsec clients, so
//! that tests and the simulator offer what real clients offer.
//!
//! Only transforms this crate implements are listed; the ones a client
//! offers beyond them are named in each function's documentation.

use crate::config::{
    Authentication, EspEncryption, EspIntegrity, EspProposal, IkeProposal, InitiatorConfig,
    IpsecLifetime,
};
use crate::crypto::{CipherAlg, DhGroup, HashAlg};

fn ike(encryption: CipherAlg, hash: HashAlg, group: DhGroup) -> IkeProposal {
    IkeProposal {
        encryption,
        hash,
        authentication: Authentication::PreShare,
        group,
        lifetime_seconds: 28_800,
    }
}

fn esp(encryption: EspEncryption, integrity: EspIntegrity) -> EspProposal {
    EspProposal {
        encryption,
        integrity,
    }
}

/// A Windows 10 L2TP/IPsec client with a pre-shared key.
///
/// Windows offers AES-256/SHA1/ECP-384 (group 20) and AES-128/SHA1/ECP-256
/// (group 19) first; libreswan responders without the ECP groups log
/// exactly those two as refused before choosing AES-256/SHA1/MODP2048
/// (hwdsl2/setup-ipsec-vpn#753, nm-l2tp/NetworkManager-l2tp#169). The
/// list is those two, then AES-256, AES-128 and 3DES with SHA1 and group
/// 14, then 3DES/SHA1/group 2. Lifetime 8 h.
/// Quick Mode: AES-256, AES-128, 3DES with HMAC-SHA1, then 3DES with
/// HMAC-MD5 (Windows also offers single DES, which is not implemented),
/// 3600 s / 250000 KB, no PFS.
pub fn windows10() -> InitiatorConfig {
    let mut c = InitiatorConfig::default();
    for p in [
        ike(CipherAlg::Aes256, HashAlg::Sha1, DhGroup::Ecp384),
        ike(CipherAlg::Aes128, HashAlg::Sha1, DhGroup::Ecp256),
        ike(CipherAlg::Aes256, HashAlg::Sha1, DhGroup::Modp2048),
        ike(CipherAlg::Aes128, HashAlg::Sha1, DhGroup::Modp2048),
        ike(CipherAlg::TripleDes, HashAlg::Sha1, DhGroup::Modp2048),
        ike(CipherAlg::TripleDes, HashAlg::Sha1, DhGroup::Modp1024),
    ] {
        let _ = c.ike_proposals.push(p);
    }
    for p in [
        esp(
            EspEncryption::AesCbc { key_bits: 256 },
            EspIntegrity::HmacSha1,
        ),
        esp(
            EspEncryption::AesCbc { key_bits: 128 },
            EspIntegrity::HmacSha1,
        ),
        esp(EspEncryption::TripleDes, EspIntegrity::HmacSha1),
        esp(EspEncryption::TripleDes, EspIntegrity::HmacMd5),
    ] {
        let _ = c.esp_proposals.push(p);
    }
    c.esp_lifetime = IpsecLifetime {
        seconds: 3600,
        kilobytes: 250_000,
    };
    c
}

/// An Android (4.x to 11) L2TP/IPsec PSK client: racoon as configured by
/// AOSP's `external/ipsec-tools/setup.c` (Apache-2.0): one phase 1
/// proposal with the transforms 3DES/SHA1, 3DES/MD5, DES/SHA1, DES/MD5,
/// AES-128/SHA1, AES-128/MD5, all MODP1024, 28800 s; Quick Mode with
/// 3DES, DES, AES-128 each with HMAC-SHA1 and HMAC-MD5, 28800 s. Single
/// DES is left out (not implemented).
pub fn android() -> InitiatorConfig {
    let mut c = InitiatorConfig::default();
    for p in [
        ike(CipherAlg::TripleDes, HashAlg::Sha1, DhGroup::Modp1024),
        ike(CipherAlg::TripleDes, HashAlg::Md5, DhGroup::Modp1024),
        ike(CipherAlg::Aes128, HashAlg::Sha1, DhGroup::Modp1024),
        ike(CipherAlg::Aes128, HashAlg::Md5, DhGroup::Modp1024),
    ] {
        let _ = c.ike_proposals.push(p);
    }
    for p in [
        esp(EspEncryption::TripleDes, EspIntegrity::HmacSha1),
        esp(EspEncryption::TripleDes, EspIntegrity::HmacMd5),
        esp(
            EspEncryption::AesCbc { key_bits: 128 },
            EspIntegrity::HmacSha1,
        ),
        esp(
            EspEncryption::AesCbc { key_bits: 128 },
            EspIntegrity::HmacMd5,
        ),
    ] {
        let _ = c.esp_proposals.push(p);
    }
    c.esp_lifetime = IpsecLifetime {
        seconds: 28_800,
        kilobytes: 0,
    };
    c
}

/// One proposal of each kind: the given phase 1 and ESP transforms.
pub fn single(ike_proposal: IkeProposal, esp_proposal: EspProposal) -> InitiatorConfig {
    let mut c = InitiatorConfig::default();
    let _ = c.ike_proposals.push(ike_proposal);
    let _ = c.esp_proposals.push(esp_proposal);
    c
}
