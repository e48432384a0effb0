//! The configuration `lns serve` runs without `--config`: the chapter's
//! L2TP-over-IPsec setup with values filled in, a pre-shared key and a demo
//! user drawn at random, a pool on the TUN side, and the proposals the
//! built-in clients of Windows, macOS/iOS, Android and Linux offer.

use rand_core::Rng;
use std::net::Ipv4Addr;

/// The gateway's own address on the inside (on the TUN device, and IPCP's
/// local address).
pub const INSIDE_ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);

/// Characters of generated secrets: no look-alikes (0/O, 1/l/I), so that
/// a key read off a terminal can be typed into a phone.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A random secret of `len` characters.
pub fn secret(rng: &mut impl Rng, len: usize) -> String {
    (0..len)
        .map(|_| {
            let i = usize::try_from(rng.next_u32()).unwrap_or(0) % ALPHABET.len();
            char::from(ALPHABET[i])
        })
        .collect()
}

/// The first usable name server of `/etc/resolv.conf` (not a loopback
/// stub resolver, which a VPN client could not reach).
pub fn host_dns(resolv_conf: &str) -> Option<Ipv4Addr> {
    resolv_conf
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|a| a.trim().parse::<Ipv4Addr>().ok())
        .find(|a| !a.is_loopback() && !a.is_unspecified())
}

/// The default configuration text with `psk`, a user `user`/`password`
/// and `dns` as the clients' name server.
pub fn config_text(psk: &str, user: &str, password: &str, dns: Option<Ipv4Addr>) -> String {
    let dns = dns.map_or_else(String::new, |d| format!(" dns-server value {d}\n"));
    format!(
        "! lns serve: the embedded default configuration
ip local pool lns-pool 10.77.0.10-10.77.0.250 mask 255.255.255.0
crypto ipsec transform-set AES256-SHA esp-aes-256 esp-sha-hmac
crypto ipsec transform-set AES256-SHA mode transport
crypto ipsec transform-set AES128-SHA esp-aes esp-sha-hmac
crypto ipsec transform-set AES128-SHA mode transport
crypto ipsec transform-set 3DES-SHA esp-3des esp-sha-hmac
crypto ipsec transform-set 3DES-SHA mode transport
crypto ipsec transform-set AES256-SHA256 esp-aes-256 esp-sha256-hmac
crypto ipsec transform-set AES256-SHA256 mode transport
crypto dynamic-map dyn 10 set transform-set AES256-SHA AES128-SHA 3DES-SHA AES256-SHA256
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
 encryption aes
 hash sha
 group 14
 lifetime 86400
crypto isakmp policy 40
 authentication pre-share
 encryption 3des
 hash sha
 group 2
 lifetime 86400
crypto isakmp policy 50
 authentication pre-share
 encryption aes-256
 hash sha256
 group 14
 lifetime 86400
crypto isakmp nat-traversal 20
group-policy DfltGrpPolicy attributes
{dns} vpn-tunnel-protocol l2tp-ipsec
 vpn-simultaneous-logins 4
tunnel-group DefaultRAGroup general-attributes
 address-pool lns-pool
tunnel-group DefaultRAGroup ipsec-attributes
 pre-shared-key {psk}
tunnel-group DefaultRAGroup ppp-attributes
 authentication ms-chap-v2
 authentication ms-chap-v1
 authentication pap
username {user} password {password} mschap
l2tp tunnel hello 60
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    #[test]
    fn the_default_configuration_parses_with_its_secrets() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let psk = secret(&mut rng, 20);
        let pw = secret(&mut rng, 12);
        assert_eq!(psk.len(), 20);
        assert_ne!(psk, pw);
        let text = config_text(&psk, "demo", &pw, Some(Ipv4Addr::new(192, 0, 2, 53)));
        let config = sessiondb::Config::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let tg = config.tunnel_group("DefaultRAGroup").unwrap();
        assert_eq!(
            tg.pre_shared_key.as_ref().map(|k| k.expose()),
            Some(psk.as_bytes())
        );
        let user = config.user("demo").unwrap();
        assert!(user.nt_hash().is_some(), "stored as the NT hash (mschap)");
        let pool = config.pool("lns-pool").unwrap();
        assert!(
            !pool.contains(INSIDE_ADDRESS),
            "the inside address is not handed out"
        );
        assert_eq!(config.isakmp_policies.len(), 5);
        assert_eq!(config.nat_traversal, Some(20));
        let mut shown = String::new();
        config
            .write_running_config(&mut shown, sessiondb::SecretDisplay::Masked)
            .unwrap();
        assert!(!shown.contains(&psk), "show running-config masks the key");
        assert!(shown.contains("dns-server value 192.0.2.53"), "{shown}");
    }

    #[test]
    fn resolv_conf_gives_the_first_reachable_server() {
        let conf = "# generated\nnameserver 127.0.0.53\nsearch lan\nnameserver 192.0.2.1\nnameserver 192.0.2.2\n";
        assert_eq!(host_dns(conf), Some(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(host_dns("nameserver 127.0.0.1\n"), None);
        assert_eq!(host_dns("nameserver ::1\n"), None);
    }
}
