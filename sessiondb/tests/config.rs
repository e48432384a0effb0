//! The configuration language: the chapter's steps, the printer's round
//! trip, a whole appliance configuration pasted, and the bad forms of every
//! command with their line-numbered errors.

mod common;

use common::*;
use sessiondb::config::{
    AuthServer, AuthSet, Config, ConfigError, DhGroup, ErrorKind, EspEncryption, EspIntegrity,
    IkeAuthentication, IkeEncryption, IkeHash, IpsecMode, Notice, Password, Pools, PppAuth,
    SecretDisplay, Servers, TunnelProtocol,
};
use sessiondb::secret::{AsaMd5Hash, NtHash};

fn parse_collecting(text: &str) -> (Result<Config, ConfigError>, Vec<(u32, String)>) {
    let mut ignored = Vec::new();
    let r = Config::parse_with(text, |n| match n {
        Notice::Ignored { line, text } => ignored.push((line, text.to_string())),
        _ => unreachable!(),
    });
    (r, ignored)
}

fn chapter() -> Config {
    let (r, ignored) = parse_collecting(CHAPTER_STEPS);
    let cfg = r.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        ignored.is_empty(),
        "nothing of the chapter is skipped: {ignored:?}"
    );
    cfg
}

#[test]
fn the_chapter_steps_parse_into_the_model_they_describe() {
    let c = chapter();
    let pool = c.pool("pool_name").unwrap();
    assert_eq!(
        (pool.first, pool.last, pool.mask),
        (
            ip("90.208.1.200"),
            ip("90.208.1.250"),
            Some(ip("255.255.255.0"))
        )
    );

    // Step 1: transport mode.
    let ts = c.transform_set("trans_name").unwrap();
    assert_eq!(
        (ts.encryption, ts.integrity, ts.mode),
        (
            EspEncryption::TripleDes,
            EspIntegrity::Sha1,
            IpsecMode::Transport
        )
    );
    assert_eq!(
        c.dynamic_maps[0].transform_sets.as_slice(),
        &[name("trans_name")]
    );
    assert_eq!(c.crypto_maps[0].dynamic_map, "dyn_map");
    assert_eq!(c.crypto_map_interfaces[0].interface, "outside");

    let g = c.tunnel_group("DefaultRAGroup").unwrap();
    // Steps 2, 5, 7, 8, 9.
    assert_eq!(g.address_pools.as_slice(), &[name("pool_name")]);
    assert_eq!(
        g.accounting_server_group.as_deref(),
        Some("aaa_server_group")
    );
    assert_eq!(g.default_group_policy, "group_policy_name");
    assert_eq!(g.ppp_authentication, AuthSet::DEFAULT.with(PppAuth::Pap));
    assert_eq!(
        g.authentication_server,
        AuthServer::Local,
        "the later LOCAL replaces the server group"
    );
    assert_eq!(g.pre_shared_key.as_ref().unwrap().expose(), b"l2tpsecret");

    // Steps 3, 4, 6.
    let gp = c.group_policy("group_policy_name").unwrap();
    assert_eq!(
        gp.dns_servers,
        Servers::Value(ip("10.1.1.2"), Some(ip("10.1.1.3")))
    );
    assert_eq!(
        gp.wins_servers,
        Servers::Value(ip("10.1.1.6"), Some(ip("10.1.1.7")))
    );
    let protocols = gp.vpn.tunnel_protocols.unwrap();
    assert!(protocols.contains(TunnelProtocol::L2tpIpsec));
    assert!(!protocols.contains(TunnelProtocol::Ipsec));
    assert_eq!(gp.address_pools, Pools::Inherit);
    let u = c.user("user_name").unwrap();
    assert!(
        u.vpn
            .tunnel_protocols
            .unwrap()
            .contains(TunnelProtocol::L2tpIpsec)
    );

    // Step 10: the NT hash, never the clear text.
    let t = c.user("t_wmith").unwrap();
    assert_eq!(
        t.password,
        Password::NtEncrypted(NtHash::from_password("eu5d93h"))
    );
    assert!(t.verify_pap(b"eu5d93h"));
    assert!(!t.verify_pap(b"eu5d93H"));

    // Steps 11, 12.
    assert_eq!(c.l2tp_hello, 30);
    assert_eq!(c.nat_traversal, Some(30));
    assert_eq!(c.isakmp_interfaces.as_slice(), &[name("outside")]);
    let p = c.isakmp_policies[0];
    assert_eq!(
        (
            p.priority,
            p.authentication,
            p.encryption,
            p.hash,
            p.group,
            p.lifetime
        ),
        (
            10,
            IkeAuthentication::PreShare,
            IkeEncryption::TripleDes,
            IkeHash::Sha1,
            DhGroup::Group2,
            28_800
        )
    );

    // Tunnel-group switching.
    assert!(c.tunnel_group("telecommuters").unwrap().strip_group);
    assert_eq!(
        c.group_delimiter,
        Some(sessiondb::config::GroupDelimiter::At)
    );

    let radius = c.aaa_group("auth_server_group").unwrap();
    assert_eq!(
        (
            radius.hosts[0].authentication_port,
            radius.hosts[0].accounting_port
        ),
        (1812, 1813)
    );
    assert_eq!(
        c.aaa_group("aaa_server_group").unwrap().hosts[0].authentication_port,
        1645
    );
}

/// The NT hashes are Base64 of passlib 1.7.4's `nthash` (its own MD4) of
/// `user_pw1` (c1911466...) and `eu5d93h` (5a47a8a9...).
const CHAPTER_RUNNING_CONFIG: &str = "\
ip local pool pool_name 90.208.1.200-90.208.1.250 mask 255.255.255.0
aaa-server aaa_server_group protocol radius
aaa-server aaa_server_group (inside) host 10.1.1.4
 key *****
aaa-server auth_server_group protocol radius
aaa-server auth_server_group (inside) host 10.1.1.5
 key *****
 authentication-port 1812
 accounting-port 1813
crypto ipsec transform-set trans_name esp-3des esp-sha-hmac
crypto ipsec transform-set trans_name mode transport
crypto ipsec security-association lifetime seconds 28800
crypto ipsec security-association lifetime kilobytes 4608000
crypto dynamic-map dyn_map 10 set transform-set trans_name
crypto map outside_map 20 ipsec-isakmp dynamic dyn_map
crypto map outside_map interface outside
crypto isakmp enable outside
crypto isakmp policy 10
 authentication pre-share
 encryption 3des
 hash sha
 group 2
 lifetime 28800
crypto isakmp nat-traversal 30
l2tp tunnel hello 30
group-delimiter @
group-policy group_policy_name internal
group-policy group_policy_name attributes
 wins-server value 10.1.1.6 10.1.1.7
 dns-server value 10.1.1.2 10.1.1.3
 vpn-tunnel-protocol l2tp-ipsec
username user_name password wZEUZucHpgtX+A6tViIelQ== nt-encrypted
username user_name attributes
 vpn-tunnel-protocol l2tp-ipsec
username t_wmith password WkeoqUNHCDWVFDhEeqTe9Q== nt-encrypted
tunnel-group DefaultRAGroup general-attributes
 address-pool pool_name
 accounting-server-group aaa_server_group
 default-group-policy group_policy_name
tunnel-group DefaultRAGroup ipsec-attributes
 pre-shared-key *****
tunnel-group DefaultRAGroup ppp-attributes
 authentication pap
tunnel-group telecommuters type remote-access
tunnel-group telecommuters general-attributes
 strip-group
";

#[test]
fn show_running_config_of_the_chapter() {
    let c = chapter();
    let printed = c.running_config(SecretDisplay::Masked).to_string();
    assert_eq!(printed, CHAPTER_RUNNING_CONFIG);
    // The nt-encrypted form is the Base64 of the NT hash.
    let mut b64 = String::new();
    NtHash::from_password("eu5d93h")
        .write_appliance(&mut b64)
        .unwrap();
    assert!(printed.contains(&format!("username t_wmith password {b64} nt-encrypted")));
    for secret in [
        "eu5d93h",
        "user_pw1",
        "l2tpsecret",
        "acctsecret",
        "authsecret",
    ] {
        assert!(!printed.contains(secret));
        assert!(!format!("{c:?}").contains(secret), "Debug shows {secret}");
    }
}

#[test]
fn running_config_parses_back_to_the_same_model() {
    let c = chapter();
    let clear = c.running_config(SecretDisplay::Clear).to_string();
    assert!(clear.contains(" pre-shared-key l2tpsecret\n"));
    let (again, ignored) = parse_collecting(&clear);
    let again = again.unwrap();
    assert!(ignored.is_empty());
    assert_eq!(again, c);
    assert_eq!(
        again.running_config(SecretDisplay::Clear).to_string(),
        clear
    );
}

#[test]
fn the_masked_form_is_refused_with_its_line() {
    let c = chapter();
    let masked = c.running_config(SecretDisplay::Masked).to_string();
    let e = Config::parse(&masked).unwrap_err();
    assert_eq!(e.kind, ErrorKind::MaskedSecret);
    assert_eq!(e.line, 4);
    assert!(
        e.to_string()
            .starts_with("line 4: aaa-server host 10.1.1.4: '*****' is the masked form")
    );
}

#[test]
fn defaults_print_nothing_and_round_trip() {
    let c = Config::default();
    let printed = c.running_config(SecretDisplay::Clear).to_string();
    assert_eq!(
        printed,
        "crypto ipsec security-association lifetime seconds 28800\n\
         crypto ipsec security-association lifetime kilobytes 4608000\n"
    );
    assert_eq!(Config::parse(&printed).unwrap(), c);
    assert_eq!(Config::parse("").unwrap(), c);
}

/// Every command and attribute the language has, in non-default forms,
/// printed and parsed back.
#[test]
fn every_form_round_trips() {
    let text = "\
ip local pool a 10.0.0.1-10.0.0.9
ip local pool b 10.0.1.0-10.0.1.255 mask 255.255.255.0
aaa-server R protocol radius
aaa-server R (dmz) host 192.0.2.1 k1 timeout 7
 retry-interval 3
aaa-server R host 192.0.2.2
 key k2
aaa-server T protocol tacacs+
crypto ipsec ikev1 transform-set s1 esp-aes-256 esp-sha256-hmac
crypto ipsec transform-set s2 esp-aes
crypto ipsec transform-set s3 esp-null esp-md5-hmac
crypto ipsec transform-set s4 esp-des esp-none
crypto ipsec transform-set s5 esp-aes-192 esp-sha-hmac
crypto ipsec transform-set s1 mode transport
crypto ipsec transform-set s2 mode transport
crypto ipsec security-association lifetime seconds 3600 kilobytes 95000
crypto dynamic-map z 5 set pfs
crypto dynamic-map z 5 set ikev1 transform-set s1 s2 s3
crypto dynamic-map y 65535 set pfs group14
crypto dynamic-map y 65535 set transform-set s4
crypto map m 1 ipsec-isakmp dynamic z
crypto map m 2 ipsec-isakmp dynamic y
crypto map m interface outside
crypto ikev1 enable outside
crypto isakmp enable inside
crypto isakmp policy 20 authentication rsa-sig
crypto isakmp policy 20 encryption aes-256
crypto isakmp policy 5
 encryption aes-192
 hash md5
 group 20
 lifetime 120
crypto isakmp policy 7
 hash sha256
 group 19
 encryption des
crypto isakmp policy 8 group 14
crypto isakmp policy 9 group 5
crypto isakmp policy 11 group 1
crypto isakmp policy 12 encryption aes
crypto isakmp nat-traversal
crypto isakmp identity key-id vpn.example
l2tp tunnel hello 300
group-delimiter #
group-policy DfltGrpPolicy attributes
 vpn-tunnel-protocol IPSec l2tp-ipsec svc webvpn ikev2
 vpn-simultaneous-logins 0
 vpn-idle-timeout none
 vpn-session-timeout 35791394
 wins-server none
group-policy g internal
group-policy g attributes
 dns-server value 192.0.2.53
 address-pools value a b
 vpn-idle-timeout 1
 vpn-session-timeout none
group-policy h internal
group-policy h attributes
 address-pools none
 dns-server none
username u1 password 0123456789abcdefqwertyuiopasdfgh
username u2 password abc privilege 15
username u3 nopassword privilege 0
username u4 password DLaUiAX3l78qgoB5c7iVNw== nt-encrypted
username u5 password 8Ry2YjIyt7RRXU24 encrypted
username u1 attributes
 vpn-group-policy g
 vpn-framed-ip-address 10.9.9.9 255.255.255.0
 group-lock value tg2
 vpn-simultaneous-logins 2147483647
 vpn-idle-timeout 5
 vpn-session-timeout none
username u3 attributes
 vpn-framed-ip-address 10.9.9.8
 group-lock none
 vpn-tunnel-protocol l2tp-ipsec
tunnel-group DefaultRAGroup general-attributes
 authentication-server-group R LOCAL
 strip-realm
tunnel-group DefaultRAGroup ipsec-attributes
 ikev1 pre-shared-key p$k!\"with:odd'chars
 isakmp keepalive disable
tunnel-group DefaultRAGroup ppp-attributes
 no authentication chap
 no authentication ms-chap-v1
 authentication ms-chap-v2
 authentication eap-proxy
tunnel-group tg2 type ipsec-ra
tunnel-group tg2 general-attributes
 address-pool (outside) b a
 authentication-server-group (inside) R
 default-group-policy h
 strip-group
 strip-realm
 no strip-realm
tunnel-group tg2 ipsec-attributes
 ikev1 trust-point TP
 isakmp keepalive threshold 3600 retry 10
tunnel-group tg3 type ipsec-l2l
tunnel-group tg3 ipsec-attributes
 pre-shared-key x
tunnel-group tg4 type remote-access
tunnel-group tg4 ppp-attributes
 no authentication chap
 no authentication ms-chap-v1
";
    let (r, ignored) = parse_collecting(text);
    let c = r.unwrap_or_else(|e| panic!("{e}"));
    assert!(ignored.is_empty(), "{ignored:?}");
    let clear = c.running_config(SecretDisplay::Clear).to_string();
    let again = Config::parse(&clear).unwrap_or_else(|e| panic!("{e}\n{clear}"));
    assert_eq!(again, c, "{clear}");
    assert_eq!(
        again.running_config(SecretDisplay::Clear).to_string(),
        clear
    );

    // Spot checks of what the forms mean.
    assert_eq!(
        c.isakmp_policies
            .iter()
            .map(|p| p.priority)
            .collect::<Vec<_>>(),
        [5, 7, 8, 9, 11, 12, 20]
    );
    assert_eq!(
        c.dynamic_maps
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>(),
        ["y", "z"]
    );
    assert_eq!(c.dynamic_maps[1].pfs, Some(DhGroup::Group2));
    assert_eq!(c.sa_lifetime.seconds, 3600);
    assert_eq!(c.sa_lifetime.kilobytes, 95_000);
    assert_eq!(c.nat_traversal, Some(20));
    assert_eq!(c.isakmp_interfaces.len(), 2);
    assert_eq!(c.users.len(), 5);
    assert_eq!(c.user("u2").unwrap().privilege, 15);
    assert_eq!(
        c.user("u5").unwrap().password,
        Password::Encrypted(AsaMd5Hash::from_password(b"", "").unwrap())
    );
    assert_eq!(c.user("u1").unwrap().group_lock.as_deref(), Some("tg2"));
    assert_eq!(
        c.tunnel_group("tg2").unwrap().address_pools.as_slice(),
        &[name("b"), name("a")]
    );
    assert!(!c.tunnel_group("tg2").unwrap().strip_realm);
    assert_eq!(
        c.tunnel_group("DefaultRAGroup").unwrap().ppp_authentication,
        AuthSet::EMPTY
            .with(PppAuth::MsChapV2)
            .with(PppAuth::EapProxy)
    );
    let host = &c.aaa_group("R").unwrap().hosts[0];
    assert_eq!(
        (host.interface.as_str(), host.timeout, host.retry_interval),
        ("dmz", 7, 3)
    );
    assert_eq!(c.aaa_group("R").unwrap().hosts[1].interface, "inside");
}

#[test]
fn keywords_are_case_insensitive_and_names_are_not() {
    let c = Config::parse(
        "IP LOCAL POOL Pool 10.0.0.1-10.0.0.2\nTUNNEL-GROUP DefaultRAGroup GENERAL-ATTRIBUTES\n ADDRESS-POOL Pool\n",
    )
    .unwrap();
    assert_eq!(
        c.tunnel_group("DefaultRAGroup").unwrap().address_pools[0],
        "Pool"
    );
    let e = Config::parse("ip local pool Pool 10.0.0.1-10.0.0.2\ntunnel-group DefaultRAGroup general-attributes\n address-pool pool\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 3: tunnel-group DefaultRAGroup general-attributes: ip local pool 'pool' does not exist"
    );
}

/// A whole appliance configuration: everything unrelated is skipped with a
/// notice naming its line; the feature's commands take effect.
#[test]
fn a_whole_appliance_configuration_can_be_pasted() {
    let text = "\
: Saved
:
ASA Version 8.0(4)
!
hostname asa1
domain-name example.com
enable password 8Ry2YjIyt7RRXU24 encrypted
names
!
interface Ethernet0/0
 nameif outside
 security-level 0
 ip address 80.208.1.2 255.255.255.0
!
interface Ethernet0/1
 nameif inside
 security-level 100
 ip address 10.1.1.1 255.255.255.0
!
access-list split standard permit 10.1.1.0 255.255.255.0
ip local pool l2tp 90.208.1.200-90.208.1.250 mask 255.255.255.0
ip verify reverse-path interface outside
route outside 0.0.0.0 0.0.0.0 80.208.1.1 1
crypto ipsec transform-set TRANS esp-3des esp-sha-hmac
crypto ipsec transform-set TRANS mode transport
crypto ipsec df-bit clear-df outside
crypto dynamic-map DYN 10 set transform-set TRANS
crypto dynamic-map DYN 10 set security-association lifetime seconds 3600
crypto map VPN 20 ipsec-isakmp dynamic DYN
crypto map VPN 30 match address l2l
crypto map VPN 30 set peer 192.0.2.9
crypto map VPN interface outside
crypto ca trustpoint TP
 enrollment terminal
 crl configure
crypto isakmp enable outside
crypto isakmp policy 10
 authentication pre-share
 encryption 3des
 hash sha
 group 2
 lifetime 86400
crypto isakmp nat-traversal 20
crypto isakmp am-disable
telnet timeout 5
ssh timeout 5
webvpn
 enable outside
group-policy DfltGrpPolicy attributes
 vpn-tunnel-protocol IPSec l2tp-ipsec
 split-tunnel-policy tunnelspecified
 banner value hello
tunnel-group DefaultRAGroup general-attributes
 address-pool l2tp
 authorization-server-group LOCAL
tunnel-group DefaultRAGroup ipsec-attributes
 pre-shared-key cisco123
 peer-id-validate nocheck
tunnel-group DefaultRAGroup ppp-attributes
 authentication ms-chap-v2
username bob password bobpass99 mschap
username bob attributes
 service-type remote-access
prompt hostname context
Cryptochecksum:0123456789abcdef
: end
";
    let (r, ignored) = parse_collecting(text);
    let c = r.unwrap_or_else(|e| panic!("{e}"));
    let lines: Vec<u32> = ignored.iter().map(|(l, _)| *l).collect();
    assert_eq!(
        lines,
        [
            3, 5, 6, 7, 8, 10, 11, 12, 13, 15, 16, 17, 18, 20, 22, 23, 26, 28, 30, 31, 33, 34, 35,
            44, 45, 46, 47, 48, 51, 52, 55, 58, 63, 64, 65
        ]
    );
    assert_eq!(ignored[0].1, "ASA Version 8.0(4)");
    assert_eq!(ignored[6].1, "nameif outside");
    assert_eq!(c.pool("l2tp").unwrap().last, ip("90.208.1.250"));
    assert_eq!(c.transform_set("TRANS").unwrap().mode, IpsecMode::Transport);
    assert_eq!(c.crypto_maps.len(), 1);
    assert_eq!(
        c.tunnel_group("DefaultRAGroup").unwrap().address_pools[0],
        "l2tp"
    );
    assert!(
        c.default_group_policy()
            .vpn
            .tunnel_protocols
            .unwrap()
            .contains(TunnelProtocol::L2tpIpsec)
    );
    assert!(c.user("bob").unwrap().nt_hash().is_some());
}

#[test]
fn sub_commands_without_indentation_follow_the_open_mode() {
    // As typed at the CLI (or pasted without indentation): a sub-command the
    // mode knows stays in the mode; anything else is a global command.
    let c = Config::parse(
        "ip local pool p 10.0.0.1-10.0.0.5\n\
         tunnel-group DefaultRAGroup general-attributes\n\
         address-pool p\n\
         strip-realm\n\
         group-policy DfltGrpPolicy attributes\n\
         vpn-tunnel-protocol l2tp-ipsec\n\
         l2tp tunnel hello 45\n\
         strip-group\n",
    );
    // `strip-group` after a global command is no longer in a mode: it is an
    // unknown global command, skipped.
    let c = c.unwrap();
    let g = c.tunnel_group("DefaultRAGroup").unwrap();
    assert!(g.strip_realm && !g.strip_group);
    assert_eq!(g.address_pools[0], "p");
    assert_eq!(c.l2tp_hello, 45);
    assert!(c.default_group_policy().vpn.tunnel_protocols.is_some());
}

#[test]
fn the_issue_example_error() {
    let mut text = String::new();
    text.push_str("ip local pool p 10.0.0.1-10.0.0.5\n");
    for i in 0..9 {
        text.push_str(&format!("! comment {i}\n"));
    }
    text.push_str("tunnel-group DefaultRAGroup general-attributes\n adress-pool p\n");
    let e = Config::parse(&text).unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 12: tunnel-group DefaultRAGroup general-attributes: unknown attribute 'adress-pool'"
    );
    assert_eq!(e.line, 12);
    assert_eq!(e.kind, ErrorKind::UnknownAttribute);
    assert_eq!(e.token.as_str(), "adress-pool");
    // Copy, fixed size.
    let copy = e;
    assert_eq!(copy, e);
    assert!(size_of::<ConfigError>() <= 128);
}

/// The preamble every bad line below is appended to (4 lines), so that each
/// error is on line 5 unless said otherwise.
const PREAMBLE: &str = "\
ip local pool p 10.0.0.1-10.0.0.9
crypto ipsec transform-set t esp-aes esp-sha-hmac
crypto dynamic-map d 10 set transform-set t
aaa-server R protocol radius
";

#[test]
fn every_command_has_bad_forms_with_line_numbered_errors() {
    let cases: &[(&str, &str)] = &[
        // ip local pool
        ("ip local pool", "ip local pool: missing a pool name"),
        (
            "ip local pool q",
            "ip local pool: missing an address range FIRST-LAST",
        ),
        (
            "ip local pool q 10.0.1.1",
            "ip local pool: '10.0.1.1' is not an address range FIRST-LAST",
        ),
        (
            "ip local pool q 10.0.1.9-10.0.1.1",
            "ip local pool: '10.0.1.9-10.0.1.1' is not an address range FIRST-LAST",
        ),
        (
            "ip local pool q 10.0.1.1-10.0.1.300",
            "ip local pool: '10.0.1.300' is not an IPv4 address",
        ),
        (
            "ip local pool q 10.0.1.1-10.0.1.9 mask 255.0.255.0",
            "ip local pool: '255.0.255.0' is not a network mask",
        ),
        (
            "ip local pool q 10.0.1.1-10.0.1.9 netmask 255.255.255.0",
            "ip local pool: unknown keyword 'netmask', expected mask",
        ),
        (
            "ip local pool q 10.0.1.1-10.0.1.9 mask",
            "ip local pool: missing a mask",
        ),
        (
            "ip local pool q 10.0.0.5-10.0.0.20",
            "ip local pool: '10.0.0.5-10.0.0.20' conflicts with an earlier pool's addresses",
        ),
        (
            "ip local pool p 10.0.2.1-10.0.2.9",
            "ip local pool: 'p' conflicts with an earlier pool of that name",
        ),
        // crypto ipsec
        (
            "crypto ipsec",
            "crypto ipsec: missing transform-set or security-association",
        ),
        ("crypto ipsec frob", "crypto ipsec: unknown command 'frob'"),
        (
            "crypto ipsec transform-set",
            "crypto ipsec transform-set: missing a transform-set name",
        ),
        (
            "crypto ipsec transform-set u",
            "crypto ipsec transform-set: missing an ESP encryption or mode",
        ),
        (
            "crypto ipsec transform-set u esp-aes-512",
            "crypto ipsec transform-set: unknown keyword 'esp-aes-512', expected an ESP encryption (esp-3des, esp-aes, esp-aes-192, esp-aes-256, esp-des, esp-null)",
        ),
        (
            "crypto ipsec transform-set u esp-aes esp-sha512-hmac",
            "crypto ipsec transform-set: unknown keyword 'esp-sha512-hmac', expected an ESP integrity (esp-md5-hmac, esp-sha-hmac, esp-sha256-hmac, esp-none)",
        ),
        (
            "crypto ipsec transform-set u esp-null esp-none",
            "crypto ipsec transform-set: 'esp-none' conflicts with an earlier esp-null",
        ),
        (
            "crypto ipsec transform-set u esp-null",
            "crypto ipsec transform-set: missing an ESP integrity (esp-md5-hmac, esp-sha-hmac, esp-sha256-hmac, esp-none)",
        ),
        (
            "crypto ipsec transform-set u esp-aes esp-sha-hmac esp-md5-hmac",
            "crypto ipsec transform-set: unexpected argument 'esp-md5-hmac'",
        ),
        (
            "crypto ipsec transform-set u mode transport",
            "crypto ipsec transform-set: transform-set 'u' does not exist",
        ),
        (
            "crypto ipsec transform-set t mode transprt",
            "crypto ipsec transform-set: unknown keyword 'transprt', expected transport or tunnel",
        ),
        (
            "crypto ipsec transform-set t mode",
            "crypto ipsec transform-set: missing transport or tunnel",
        ),
        (
            "crypto ipsec security-association lifetime",
            "crypto ipsec security-association: missing seconds N or kilobytes N",
        ),
        (
            "crypto ipsec security-association lifetime seconds 119",
            "crypto ipsec security-association: '119' is out of range 120..2147483647",
        ),
        (
            "crypto ipsec security-association lifetime kilobytes 9",
            "crypto ipsec security-association: '9' is out of range 10..2147483647",
        ),
        (
            "crypto ipsec security-association lifetime minutes 5",
            "crypto ipsec security-association: unknown keyword 'minutes', expected seconds or kilobytes",
        ),
        (
            "crypto ipsec security-association lifetime seconds x",
            "crypto ipsec security-association: 'x' is not a number",
        ),
        // crypto dynamic-map
        (
            "crypto dynamic-map",
            "crypto dynamic-map: missing a dynamic-map name",
        ),
        (
            "crypto dynamic-map d",
            "crypto dynamic-map: missing a sequence number",
        ),
        (
            "crypto dynamic-map d 0 set pfs",
            "crypto dynamic-map: '0' is out of range 1..65535",
        ),
        (
            "crypto dynamic-map d 65536 set pfs",
            "crypto dynamic-map: '65536' is out of range 1..65535",
        ),
        (
            "crypto dynamic-map d 10",
            "crypto dynamic-map: missing set or match",
        ),
        (
            "crypto dynamic-map d 10 get pfs",
            "crypto dynamic-map: unknown command 'get'",
        ),
        (
            "crypto dynamic-map d 10 set",
            "crypto dynamic-map: missing transform-set or pfs",
        ),
        (
            "crypto dynamic-map d 10 set transform-set",
            "crypto dynamic-map: missing a transform-set name",
        ),
        (
            "crypto dynamic-map d 10 set transform-set t nope",
            "crypto dynamic-map: transform-set 'nope' does not exist",
        ),
        (
            "crypto dynamic-map d 10 set transform-set t t t t t t t",
            "crypto dynamic-map: too many transform sets in one map entry (at most 6) at 't'",
        ),
        (
            "crypto dynamic-map d 10 set pfs group3",
            "crypto dynamic-map: unknown keyword 'group3', expected group1, group2, group5, group14, group19 or group20",
        ),
        (
            "crypto dynamic-map d 10 set pfs group2 group5",
            "crypto dynamic-map: unexpected argument 'group5'",
        ),
        (
            "crypto dynamic-map d 10 set frob",
            "crypto dynamic-map: unknown command 'frob'",
        ),
        // crypto map
        ("crypto map", "crypto map: missing a crypto map name"),
        (
            "crypto map m",
            "crypto map: missing a sequence number or interface",
        ),
        (
            "crypto map m ten ipsec-isakmp dynamic d",
            "crypto map: 'ten' is not a number",
        ),
        (
            "crypto map m 10 ipsec-isakmp dynamic nope",
            "crypto map: dynamic-map 'nope' does not exist",
        ),
        (
            "crypto map m 10 ipsec-isakmp dynamic",
            "crypto map: missing a dynamic-map name",
        ),
        (
            "crypto map m 10 ipsec-isakmp dynamic d extra",
            "crypto map: unexpected argument 'extra'",
        ),
        (
            "crypto map m interface outside",
            "crypto map: crypto map 'm' does not exist",
        ),
        (
            "crypto map m interface",
            "crypto map: missing an interface name",
        ),
        // crypto isakmp
        (
            "crypto isakmp",
            "crypto isakmp: missing enable, policy, nat-traversal or identity",
        ),
        (
            "crypto isakmp frob",
            "crypto isakmp: unknown command 'frob'",
        ),
        (
            "crypto isakmp enable",
            "crypto isakmp: missing an interface name",
        ),
        (
            "crypto isakmp enable outside inside",
            "crypto isakmp: unexpected argument 'inside'",
        ),
        (
            "crypto isakmp policy",
            "crypto isakmp: missing a policy priority",
        ),
        (
            "crypto isakmp policy 70000",
            "crypto isakmp: '70000' is out of range 1..65535",
        ),
        (
            "crypto isakmp policy 10 authentication crack",
            "crypto isakmp: unknown keyword 'crack', expected pre-share or rsa-sig",
        ),
        (
            "crypto isakmp policy 10 frob",
            "crypto isakmp: unknown attribute 'frob'",
        ),
        (
            "crypto isakmp nat-traversal 9",
            "crypto isakmp: '9' is out of range 10..3600",
        ),
        (
            "crypto isakmp nat-traversal 3601",
            "crypto isakmp: '3601' is out of range 10..3600",
        ),
        (
            "crypto isakmp nat-traversal 20 30",
            "crypto isakmp: unexpected argument '30'",
        ),
        (
            "crypto isakmp identity",
            "crypto isakmp: missing address, hostname, key-id or auto",
        ),
        (
            "crypto isakmp identity dn",
            "crypto isakmp: unknown keyword 'dn', expected address, hostname, key-id or auto",
        ),
        (
            "crypto isakmp identity key-id",
            "crypto isakmp: missing a key-id",
        ),
        // group-policy
        ("group-policy", "group-policy: missing a group-policy name"),
        (
            "group-policy g",
            "group-policy: missing internal or attributes",
        ),
        (
            "group-policy g internals",
            "group-policy: unknown keyword 'internals', expected internal, external or attributes",
        ),
        (
            "group-policy g attributes",
            "group-policy: group-policy 'g' does not exist",
        ),
        (
            "group-policy g internal extra",
            "group-policy: unexpected argument 'extra'",
        ),
        // tunnel-group
        ("tunnel-group", "tunnel-group: missing a tunnel-group name"),
        (
            "tunnel-group x",
            "tunnel-group: missing type, general-attributes, ipsec-attributes or ppp-attributes",
        ),
        (
            "tunnel-group x type",
            "tunnel-group: missing remote-access, ipsec-ra or ipsec-l2l",
        ),
        (
            "tunnel-group x type webvpn",
            "tunnel-group: unknown keyword 'webvpn', expected remote-access, ipsec-ra or ipsec-l2l",
        ),
        (
            "tunnel-group DefaultRAGroup type ipsec-l2l",
            "tunnel-group: 'DefaultRAGroup' conflicts with an earlier tunnel-group type",
        ),
        (
            "tunnel-group x general-attributes",
            "tunnel-group: tunnel-group 'x' does not exist",
        ),
        (
            "tunnel-group x generl-attributes",
            "tunnel-group: unknown keyword 'generl-attributes', expected type, general-attributes, ipsec-attributes or ppp-attributes",
        ),
        // username
        ("username", "username: missing a user name"),
        (
            "username bob",
            "username: missing password, nopassword or attributes",
        ),
        (
            "username bob passwd x",
            "username: unknown keyword 'passwd', expected password, nopassword or attributes",
        ),
        ("username bob password", "username: missing a password"),
        (
            "username bob password ab",
            "username: password must be 3 to 32 characters",
        ),
        (
            "username bob password 0123456789abcdef0123456789abcdefX",
            "username: password must be 3 to 32 characters",
        ),
        (
            "username bob password abcd mschap extra",
            "username: unknown keyword 'extra', expected privilege",
        ),
        (
            "username bob password abcd privilege 16",
            "username: '16' is out of range 0..15",
        ),
        (
            "username bob password abcd privilege",
            "username: missing a privilege level",
        ),
        (
            "username bob password DLaUiAX3l78qgoB5c7iVNw nt-encrypted",
            "username: not a valid encrypted password form",
        ),
        (
            "username bob password 8Ry2YjIyt7RRXU2! encrypted",
            "username: not a valid encrypted password form",
        ),
        (
            "username bob attributes",
            "username: username 'bob' does not exist",
        ),
        ("username   ", "username: missing a user name"),
        // aaa-server
        ("aaa-server", "aaa-server: missing a server group name"),
        (
            "aaa-server R",
            "aaa-server: missing protocol or (interface) host",
        ),
        (
            "aaa-server R protocol ldap",
            "aaa-server: unknown keyword 'ldap', expected radius or tacacs+",
        ),
        (
            "aaa-server R protocol tacacs+",
            "aaa-server: 'R' conflicts with an earlier aaa-server protocol",
        ),
        (
            "aaa-server S (inside) host 10.0.0.1",
            "aaa-server: aaa-server group 'S' does not exist",
        ),
        (
            "aaa-server R () host 10.0.0.1",
            "aaa-server: unknown keyword '()', expected (interface)",
        ),
        (
            "aaa-server R (inside) hots 10.0.0.1",
            "aaa-server: unknown keyword 'hots', expected host",
        ),
        (
            "aaa-server R (inside) host 10.0.0",
            "aaa-server: '10.0.0' is not an IPv4 address",
        ),
        (
            "aaa-server R (inside) host 10.0.0.1 key timeout 0",
            "aaa-server: '0' is out of range 1..300",
        ),
        (
            "aaa-server R (inside) host 10.0.0.1 k1 k2",
            "aaa-server: unexpected argument 'k2'",
        ),
        // l2tp
        (
            "l2tp tunnel hello 9",
            "l2tp tunnel hello: '9' is out of range 10..300",
        ),
        (
            "l2tp tunnel hello 301",
            "l2tp tunnel hello: '301' is out of range 10..300",
        ),
        ("l2tp tunnel hello", "l2tp tunnel hello: missing seconds"),
        (
            "l2tp tunnel hello 60 60",
            "l2tp tunnel hello: unexpected argument '60'",
        ),
        (
            "l2tp tunnel retry 5",
            "l2tp tunnel hello: unknown command 'retry'",
        ),
        (
            "l2tp session",
            "l2tp tunnel hello: unknown command 'session'",
        ),
        // group-delimiter
        (
            "group-delimiter %",
            "group-delimiter: unknown keyword '%', expected a delimiter (@, # or !)",
        ),
        (
            "group-delimiter",
            "group-delimiter: missing a delimiter (@, # or !)",
        ),
        // an indented line goes to the open mode, here the aaa-server group's
        (
            " address-pool p",
            "aaa-server R: unknown attribute 'address-pool'",
        ),
    ];
    for (bad, message) in cases {
        let text = format!("{PREAMBLE}{bad}\n");
        let e = Config::parse(&text).expect_err(bad);
        assert_eq!(e.to_string(), format!("line 5: {message}"), "for {bad:?}");
        assert_eq!(e.line, 5);
    }
}

#[test]
fn every_mode_has_bad_forms_with_line_numbered_errors() {
    let setup = "\
ip local pool p 10.0.0.1-10.0.0.9
aaa-server R protocol radius
aaa-server R (inside) host 10.0.0.1
group-policy g internal
username bob password bobpass
";
    // (mode opener, bad sub-command, message)
    let cases: &[(&str, &str, &str)] = &[
        (
            "group-policy g attributes",
            "dns-server 1.2.3.4",
            "group-policy g attributes: unknown keyword '1.2.3.4', expected value or none",
        ),
        (
            "group-policy g attributes",
            "dns-server value 1.2.3",
            "group-policy g attributes: '1.2.3' is not an IPv4 address",
        ),
        (
            "group-policy g attributes",
            "dns-server value",
            "group-policy g attributes: missing a server address or none",
        ),
        (
            "group-policy g attributes",
            "wins-server value 1.1.1.1 2.2.2.2 3.3.3.3",
            "group-policy g attributes: unexpected argument '3.3.3.3'",
        ),
        (
            "group-policy g attributes",
            "vpn-tunnel-protocol pptp",
            "group-policy g attributes: unknown keyword 'pptp', expected a tunnel protocol (IPSec, l2tp-ipsec, webvpn, svc, ikev2)",
        ),
        (
            "group-policy g attributes",
            "vpn-tunnel-protocol",
            "group-policy g attributes: missing a tunnel protocol (IPSec, l2tp-ipsec, webvpn, svc, ikev2)",
        ),
        (
            "group-policy g attributes",
            "vpn-idle-timeout 0",
            "group-policy g attributes: '0' is out of range 1..35791394",
        ),
        (
            "group-policy g attributes",
            "vpn-session-timeout 35791395",
            "group-policy g attributes: '35791395' is out of range 1..35791394",
        ),
        (
            "group-policy g attributes",
            "vpn-simultaneous-logins -1",
            "group-policy g attributes: '-1' is not a number",
        ),
        (
            "group-policy g attributes",
            "vpn-simultaneous-logins 2147483648",
            "group-policy g attributes: '2147483648' is out of range 0..2147483647",
        ),
        (
            "group-policy g attributes",
            "address-pools value q",
            "group-policy g attributes: ip local pool 'q' does not exist",
        ),
        (
            "group-policy g attributes",
            "address-pools value",
            "group-policy g attributes: missing a pool name",
        ),
        (
            "group-policy g attributes",
            "address-pools p",
            "group-policy g attributes: unknown keyword 'p', expected value or none",
        ),
        (
            "group-policy g attributes",
            "adress-pools value p",
            "group-policy g attributes: unknown attribute 'adress-pools'",
        ),
        (
            "tunnel-group DefaultRAGroup general-attributes",
            "adress-pool p",
            "tunnel-group DefaultRAGroup general-attributes: unknown attribute 'adress-pool'",
        ),
        (
            "tunnel-group DefaultRAGroup general-attributes",
            "address-pool",
            "tunnel-group DefaultRAGroup general-attributes: missing a pool name",
        ),
        (
            "tunnel-group DefaultRAGroup general-attributes",
            "address-pool p q",
            "tunnel-group DefaultRAGroup general-attributes: ip local pool 'q' does not exist",
        ),
        (
            "tunnel-group DefaultRAGroup general-attributes",
            "authentication-server-group",
            "tunnel-group DefaultRAGroup general-attributes: missing LOCAL or an aaa-server group",
        ),
        (
            "tunnel-group DefaultRAGroup general-attributes",
            "authentication-server-group S",
            "tunnel-group DefaultRAGroup general-attributes: aaa-server group 'S' does not exist",
        ),
        (
            "tunnel-group DefaultRAGroup general-attributes",
            "authentication-server-group R REMOTE",
            "tunnel-group DefaultRAGroup general-attributes: unknown keyword 'REMOTE', expected LOCAL",
        ),
        (
            "tunnel-group DefaultRAGroup general-attributes",
            "authentication-server-group LOCAL R",
            "tunnel-group DefaultRAGroup general-attributes: unexpected argument 'R'",
        ),
        (
            "tunnel-group DefaultRAGroup general-attributes",
            "accounting-server-group S",
            "tunnel-group DefaultRAGroup general-attributes: aaa-server group 'S' does not exist",
        ),
        (
            "tunnel-group DefaultRAGroup general-attributes",
            "default-group-policy h",
            "tunnel-group DefaultRAGroup general-attributes: group-policy 'h' does not exist",
        ),
        (
            "tunnel-group DefaultRAGroup general-attributes",
            "group-policy",
            "tunnel-group DefaultRAGroup general-attributes: missing a group-policy name",
        ),
        (
            "tunnel-group DefaultRAGroup general-attributes",
            "strip-group yes",
            "tunnel-group DefaultRAGroup general-attributes: unexpected argument 'yes'",
        ),
        (
            "tunnel-group DefaultRAGroup general-attributes",
            "no frob",
            "tunnel-group DefaultRAGroup general-attributes: unknown attribute 'frob'",
        ),
        (
            "tunnel-group DefaultRAGroup ipsec-attributes",
            "pre-shared-key",
            "tunnel-group DefaultRAGroup ipsec-attributes: missing a key",
        ),
        (
            "tunnel-group DefaultRAGroup ipsec-attributes",
            "pre-shared-key *****",
            "tunnel-group DefaultRAGroup ipsec-attributes: '*****' is the masked form printed by show running-config; enter the key itself",
        ),
        (
            "tunnel-group DefaultRAGroup ipsec-attributes",
            &format!("pre-shared-key {}", "k".repeat(129)),
            "tunnel-group DefaultRAGroup ipsec-attributes: key is longer than 128 bytes",
        ),
        (
            "tunnel-group DefaultRAGroup ipsec-attributes",
            "pre-shared-key a b",
            "tunnel-group DefaultRAGroup ipsec-attributes: unexpected argument 'b'",
        ),
        (
            "tunnel-group DefaultRAGroup ipsec-attributes",
            "isakmp keepalive threshold 9 retry 2",
            "tunnel-group DefaultRAGroup ipsec-attributes: '9' is out of range 10..3600",
        ),
        (
            "tunnel-group DefaultRAGroup ipsec-attributes",
            "isakmp keepalive threshold 10 retry 11",
            "tunnel-group DefaultRAGroup ipsec-attributes: '11' is out of range 2..10",
        ),
        (
            "tunnel-group DefaultRAGroup ipsec-attributes",
            "isakmp keepalive threshold 10",
            "tunnel-group DefaultRAGroup ipsec-attributes: missing retry",
        ),
        (
            "tunnel-group DefaultRAGroup ipsec-attributes",
            "isakmp keepalive threshold 10 retries 2",
            "tunnel-group DefaultRAGroup ipsec-attributes: unknown keyword 'retries', expected retry",
        ),
        (
            "tunnel-group DefaultRAGroup ipsec-attributes",
            "isakmp keepalive off",
            "tunnel-group DefaultRAGroup ipsec-attributes: unknown keyword 'off', expected threshold or disable",
        ),
        (
            "tunnel-group DefaultRAGroup ipsec-attributes",
            "isakmp dpd",
            "tunnel-group DefaultRAGroup ipsec-attributes: unknown keyword 'dpd', expected keepalive",
        ),
        (
            "tunnel-group DefaultRAGroup ipsec-attributes",
            "trust-point",
            "tunnel-group DefaultRAGroup ipsec-attributes: missing a trustpoint name",
        ),
        (
            "tunnel-group DefaultRAGroup ipsec-attributes",
            "pre-share-key x",
            "tunnel-group DefaultRAGroup ipsec-attributes: unknown attribute 'pre-share-key'",
        ),
        (
            "tunnel-group DefaultRAGroup ppp-attributes",
            "authentication mschap",
            "tunnel-group DefaultRAGroup ppp-attributes: unknown keyword 'mschap', expected pap, chap, ms-chap-v1, ms-chap-v2 or eap-proxy",
        ),
        (
            "tunnel-group DefaultRAGroup ppp-attributes",
            "authentication",
            "tunnel-group DefaultRAGroup ppp-attributes: missing pap, chap, ms-chap-v1, ms-chap-v2 or eap-proxy",
        ),
        (
            "tunnel-group DefaultRAGroup ppp-attributes",
            "authentication pap chap",
            "tunnel-group DefaultRAGroup ppp-attributes: unexpected argument 'chap'",
        ),
        (
            "tunnel-group DefaultRAGroup ppp-attributes",
            "auth pap",
            "tunnel-group DefaultRAGroup ppp-attributes: unknown attribute 'auth'",
        ),
        (
            "tunnel-group DefaultRAGroup ppp-attributes",
            "no auth pap",
            "tunnel-group DefaultRAGroup ppp-attributes: unknown attribute 'auth'",
        ),
        (
            "username bob attributes",
            "vpn-group-policy h",
            "username bob attributes: group-policy 'h' does not exist",
        ),
        (
            "username bob attributes",
            "vpn-framed-ip-address",
            "username bob attributes: missing an address",
        ),
        (
            "username bob attributes",
            "vpn-framed-ip-address 10.0.0.1 255.255.0.255",
            "username bob attributes: '255.255.0.255' is not a network mask",
        ),
        (
            "username bob attributes",
            "group-lock tg",
            "username bob attributes: unknown keyword 'tg', expected value or none",
        ),
        (
            "username bob attributes",
            "group-lock value",
            "username bob attributes: missing a tunnel-group name",
        ),
        (
            "username bob attributes",
            "vpn-tunnel-protocol l2tp",
            "username bob attributes: unknown keyword 'l2tp', expected a tunnel protocol (IPSec, l2tp-ipsec, webvpn, svc, ikev2)",
        ),
        (
            "username bob attributes",
            "password x",
            "username bob attributes: unknown attribute 'password'",
        ),
        (
            "crypto isakmp policy 10",
            "encryption aes-128",
            "crypto isakmp policy 10: unknown keyword 'aes-128', expected des, 3des, aes, aes-192 or aes-256",
        ),
        (
            "crypto isakmp policy 10",
            "hash sha1",
            "crypto isakmp policy 10: unknown keyword 'sha1', expected md5, sha or sha256",
        ),
        (
            "crypto isakmp policy 10",
            "group 7",
            "crypto isakmp policy 10: unknown keyword '7', expected 1, 2, 5, 14, 19 or 20",
        ),
        (
            "crypto isakmp policy 10",
            "group 21",
            "crypto isakmp policy 10: '21' is out of range 1..20",
        ),
        (
            "crypto isakmp policy 10",
            "lifetime 119",
            "crypto isakmp policy 10: '119' is out of range 120..2147483647",
        ),
        (
            "crypto isakmp policy 10",
            "lifetime",
            "crypto isakmp policy 10: missing seconds",
        ),
        (
            "crypto isakmp policy 10",
            "authentication pre-share rsa-sig",
            "crypto isakmp policy 10: unexpected argument 'rsa-sig'",
        ),
        (
            "crypto isakmp policy 10",
            "prf sha",
            "crypto isakmp policy 10: unknown attribute 'prf'",
        ),
        (
            "aaa-server R protocol radius",
            "max-failed-attempt 3",
            "aaa-server R: unknown attribute 'max-failed-attempt'",
        ),
        (
            "aaa-server R (inside) host 10.0.0.1",
            "key",
            "aaa-server host 10.0.0.1: missing a key",
        ),
        (
            "aaa-server R (inside) host 10.0.0.1",
            &format!("key {}", "k".repeat(128)),
            "aaa-server host 10.0.0.1: key is longer than 127 bytes",
        ),
        (
            "aaa-server R (inside) host 10.0.0.1",
            "authentication-port 0",
            "aaa-server host 10.0.0.1: '0' is out of range 1..65535",
        ),
        (
            "aaa-server R (inside) host 10.0.0.1",
            "accounting-port 65536",
            "aaa-server host 10.0.0.1: '65536' is out of range 1..65535",
        ),
        (
            "aaa-server R (inside) host 10.0.0.1",
            "timeout 301",
            "aaa-server host 10.0.0.1: '301' is out of range 1..300",
        ),
        (
            "aaa-server R (inside) host 10.0.0.1",
            "retry-interval 11",
            "aaa-server host 10.0.0.1: '11' is out of range 1..10",
        ),
        (
            "aaa-server R (inside) host 10.0.0.1",
            "timeout 5 6",
            "aaa-server host 10.0.0.1: unexpected argument '6'",
        ),
        (
            "aaa-server R (inside) host 10.0.0.1",
            "port 1812",
            "aaa-server host 10.0.0.1: unknown attribute 'port'",
        ),
    ];
    for (opener, bad, message) in cases {
        let text = format!("{setup}{opener}\n {bad}\n");
        let e = Config::parse(&text).expect_err(bad);
        assert_eq!(
            e.to_string(),
            format!("line 7: {message}"),
            "for {opener:?} / {bad:?}"
        );
        // The same with a CLI prompt instead of indentation.
        let prompted = format!("{setup}{opener}\nasa(config-x)# {bad}\n");
        assert_eq!(Config::parse(&prompted).unwrap_err(), e, "prompted {bad:?}");
    }
}

#[test]
fn an_indented_line_with_no_mode_open() {
    let e = Config::parse("! first\n address-pool p\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 2: configuration: sub-command 'address-pool' outside any mode"
    );
    let e = Config::parse("l2tp tunnel hello 30\n strip-group\n").unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotInMode);
}

#[test]
fn secrets_never_appear_in_errors() {
    let e = Config::parse(&format!(
        "tunnel-group DefaultRAGroup ipsec-attributes\n pre-shared-key {}\n",
        "s3cr3t".repeat(30)
    ))
    .unwrap_err();
    assert!(!e.to_string().contains("s3cr3t"));
    let e = Config::parse("username bob password s3\n").unwrap_err();
    assert!(!e.to_string().contains("s3 ") && !format!("{e:?}").contains("\"s3\""));
}

#[test]
fn capacities_are_errors_not_panics() {
    let mut text = String::new();
    for i in 0..=sessiondb::config::capacity::USERS {
        text.push_str(&format!("username user{i} password secret{i}\n"));
    }
    let e = Config::parse(&text).unwrap_err();
    assert_eq!(
        e.line,
        u32::try_from(sessiondb::config::capacity::USERS + 1).unwrap()
    );
    assert_eq!(
        e.to_string(),
        format!(
            "line {}: username: too many users (at most 32) at 'user32'",
            e.line
        )
    );
    let long = "n".repeat(65);
    let e = Config::parse(&format!("group-policy {long} internal\n")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NameTooLong { max: 64 });
    assert!(e.token.is_truncated());
}

#[test]
fn the_plain_password_is_stored_in_the_appliance_encrypted_form() {
    let c = Config::parse("username user password 0123456789abcdef\n").unwrap();
    let u = c.user("user").unwrap();
    // passlib 1.7.4 `cisco_asa`, confirmed on ASA 9.6.
    assert_eq!(
        c.running_config(SecretDisplay::Masked).to_string(),
        "crypto ipsec security-association lifetime seconds 28800\n\
         crypto ipsec security-association lifetime kilobytes 4608000\n\
         username user password IneB.wc9sfRzLPoh encrypted\n"
    );
    assert!(u.verify_pap(b"0123456789abcdef"));
    assert!(!u.verify_pap(b"0123456789abcdeF"));
    assert!(u.nt_hash().is_none());
}

#[test]
fn load_in_place_resets_on_error() {
    let mut c = chapter();
    let e = c.load("l2tp tunnel hello 5\n", |_| {}).unwrap_err();
    assert_eq!(e.line, 1);
    assert_eq!(c, Config::default());
    c.load(CHAPTER_STEPS, |_| {}).unwrap();
    assert_eq!(c, chapter());
}

#[test]
fn interim_accounting_update_forms() {
    use sessiondb::config::InterimUpdate;
    let group = |text: &str| {
        let (r, ignored) = parse_collecting(&format!("aaa-server R protocol radius\n{text}"));
        assert!(ignored.is_empty(), "{ignored:?}");
        r.map(|c| c.aaa_groups[0].interim_update)
    };
    assert_eq!(group(""), Ok(None));
    assert_eq!(
        group(" interim-accounting-update\n"),
        Ok(Some(InterimUpdate::AddressChange))
    );
    assert_eq!(
        group(" interim-accounting-update periodic\n"),
        Ok(Some(InterimUpdate::Periodic { hours: 24 }))
    );
    assert_eq!(
        group(" interim-accounting-update periodic 120\n"),
        Ok(Some(InterimUpdate::Periodic { hours: 120 }))
    );
    for bad in ["periodic 0", "periodic 121", "hourly", "periodic 2 3"] {
        let e = group(&format!(" interim-accounting-update {bad}\n")).unwrap_err();
        assert_eq!(e.line, 2, "{bad}: {e}");
    }
    // The printer writes it back in the group's mode.
    let (c, _) = parse_collecting(
        "aaa-server R protocol radius\n interim-accounting-update periodic 2\naaa-server R (inside) host 10.9.9.9\n key k\n",
    );
    let c = c.unwrap();
    let text = c.running_config(SecretDisplay::Clear).to_string();
    assert!(
        text.contains("aaa-server R protocol radius\n interim-accounting-update periodic 2\n"),
        "{text}"
    );
    assert_eq!(parse_collecting(&text).0.unwrap(), c);
}
