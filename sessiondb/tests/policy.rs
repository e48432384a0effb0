//! Decision tables: tunnel-group selection and switching, the PPP
//! authentication protocols each tunnel group offers and accepts (the
//! chapter's LOCAL rule), local authentication, authorization (group lock,
//! group-policy inheritance, protocol permission), simultaneous logins and
//! address pools.

mod common;

use common::*;
use core::time::Duration;
use sessiondb::config::{AuthSet, Config, PppAuth, TunnelProtocol};
use sessiondb::policy::{
    self, AddressSource, Authenticator, LoginDecision, Refusal, authorize, check_auth_method,
    local_mschap, local_pap, offered_auth, select_tunnel_group, simultaneous_login,
};
use sessiondb::pool::{AddressPool, PoolError, pools_of};
use sessiondb::secret::NtHash;

const POLICY_CONFIG: &str = "\
ip local pool p1 10.0.0.1-10.0.0.2
ip local pool p2 10.0.1.1-10.0.1.1
ip local pool gp 10.0.2.1-10.0.2.3
aaa-server RAD protocol radius
aaa-server RAD (inside) host 10.1.1.1
 key radkey
aaa-server TAC protocol tacacs+
group-delimiter @
group-policy l2tp internal
group-policy l2tp attributes
 vpn-tunnel-protocol l2tp-ipsec
 dns-server value 10.1.1.53 10.1.1.54
 vpn-simultaneous-logins 2
group-policy nol2tp internal
group-policy nol2tp attributes
 vpn-tunnel-protocol IPSec
group-policy pools internal
group-policy pools attributes
 address-pools value gp
 vpn-tunnel-protocol l2tp-ipsec
 wins-server value 10.1.1.137
username alice password alicepw1 mschap
username bob password bobpw123
username carol password carolpw1 mschap
username carol attributes
 vpn-group-policy nol2tp
username dave password davepw12 mschap
username dave attributes
 group-lock value telecommuters
 vpn-framed-ip-address 10.0.9.9 255.255.255.0
username erin nopassword
username frank password frankpw1
username frank attributes
 vpn-simultaneous-logins 0
username gina password ginapw12
username gina attributes
 vpn-idle-timeout none
 vpn-session-timeout 60
 vpn-tunnel-protocol l2tp-ipsec
tunnel-group DefaultRAGroup general-attributes
 address-pool p1 p2
 default-group-policy l2tp
tunnel-group DefaultRAGroup ppp-attributes
 authentication pap
tunnel-group telecommuters type remote-access
tunnel-group telecommuters general-attributes
 authentication-server-group RAD
 default-group-policy l2tp
 strip-group
tunnel-group nostrip type remote-access
tunnel-group nostrip general-attributes
 default-group-policy l2tp
tunnel-group realm type remote-access
tunnel-group realm general-attributes
 strip-group
 strip-realm
 default-group-policy pools
tunnel-group chaponly type remote-access
tunnel-group chaponly ppp-attributes
 no authentication ms-chap-v1
tunnel-group eaplocal type remote-access
tunnel-group eaplocal ppp-attributes
 authentication eap-proxy
 no authentication chap
 no authentication ms-chap-v1
tunnel-group eaptac type remote-access
tunnel-group eaptac general-attributes
 authentication-server-group TAC
tunnel-group eaptac ppp-attributes
 authentication eap-proxy
tunnel-group none type remote-access
tunnel-group none ppp-attributes
 no authentication chap
 no authentication ms-chap-v1
";

fn cfg() -> Config {
    Config::parse(POLICY_CONFIG).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn tunnel_group_switching_decision_table() {
    let c = cfg();
    // (initial group, PPP name) -> (group, name passed on, switched)
    let table: &[(&str, &str, &str, &str, bool)] = &[
        ("DefaultRAGroup", "alice", "DefaultRAGroup", "alice", false),
        (
            "DefaultRAGroup",
            "alice@telecommuters",
            "telecommuters",
            "alice",
            true,
        ),
        // The target has no strip-group: no switching, the whole name is passed on.
        (
            "DefaultRAGroup",
            "alice@nostrip",
            "DefaultRAGroup",
            "alice@nostrip",
            false,
        ),
        (
            "DefaultRAGroup",
            "alice@nosuch",
            "DefaultRAGroup",
            "alice@nosuch",
            false,
        ),
        // Case matters in names.
        (
            "DefaultRAGroup",
            "alice@Telecommuters",
            "DefaultRAGroup",
            "alice@Telecommuters",
            false,
        ),
        // The last delimiter separates the group.
        (
            "DefaultRAGroup",
            "a@b@telecommuters",
            "telecommuters",
            "a@b",
            true,
        ),
        // strip-realm of the selected group removes the realm.
        (
            "DefaultRAGroup",
            "alice@corp.example@realm",
            "realm",
            "alice",
            true,
        ),
        ("DefaultRAGroup", "alice@realm", "realm", "alice", true),
        ("realm", "alice@corp.example", "realm", "alice", false),
        (
            "DefaultRAGroup",
            "@telecommuters",
            "telecommuters",
            "",
            true,
        ),
        // Already in the named group: no switch, but strip-group still strips.
        (
            "telecommuters",
            "alice@telecommuters",
            "telecommuters",
            "alice",
            false,
        ),
        ("telecommuters", "alice", "telecommuters", "alice", false),
    ];
    for &(initial, user, group, name, switched) in table {
        let s = select_tunnel_group(&c, initial, user).unwrap();
        assert_eq!(
            (s.tunnel_group.name.as_str(), s.username, s.switched),
            (group, name, switched),
            "{initial} / {user}"
        );
    }
    assert_eq!(
        select_tunnel_group(&c, "nosuch", "alice"),
        Err(Refusal::UnknownTunnelGroup)
    );
    assert_eq!(
        select_tunnel_group(&c, "DefaultL2LGroup", "alice"),
        Err(Refusal::NotRemoteAccess)
    );
}

#[test]
fn switching_follows_the_configured_delimiter() {
    let hash = POLICY_CONFIG.replace("group-delimiter @", "group-delimiter #");
    let c = Config::parse(&hash).unwrap();
    let s = select_tunnel_group(&c, "DefaultRAGroup", "alice#telecommuters").unwrap();
    assert_eq!(
        (s.tunnel_group.name.as_str(), s.username),
        ("telecommuters", "alice")
    );
    let s = select_tunnel_group(&c, "DefaultRAGroup", "alice@telecommuters").unwrap();
    assert_eq!(
        (s.tunnel_group.name.as_str(), s.username),
        ("DefaultRAGroup", "alice@telecommuters")
    );
    // realm's strip-realm still splits at '@'.
    let s = select_tunnel_group(&c, "DefaultRAGroup", "alice@corp#realm").unwrap();
    assert_eq!(
        (s.tunnel_group.name.as_str(), s.username),
        ("realm", "alice")
    );

    let none = POLICY_CONFIG.replace("group-delimiter @\n", "");
    let c = Config::parse(&none).unwrap();
    let s = select_tunnel_group(&c, "DefaultRAGroup", "alice@telecommuters").unwrap();
    assert_eq!(
        (s.tunnel_group.name.as_str(), s.username, s.switched),
        ("DefaultRAGroup", "alice@telecommuters", false)
    );
}

#[test]
fn ppp_authentication_decision_table_with_the_local_database_rule() {
    let c = cfg();
    let tg = |n: &str| c.tunnel_group(n).unwrap();
    let set = |m: &[PppAuth]| m.iter().fold(AuthSet::EMPTY, |s, a| s.with(*a));
    // What LCP offers.
    assert_eq!(
        offered_auth(&c, tg("DefaultRAGroup")),
        Ok(set(&[PppAuth::Pap, PppAuth::MsChapV1]))
    );
    assert_eq!(
        offered_auth(&c, tg("telecommuters")),
        Ok(set(&[PppAuth::Chap, PppAuth::MsChapV1]))
    );
    assert_eq!(
        offered_auth(&c, tg("chaponly")),
        Err(Refusal::LocalDatabaseCannotServe(PppAuth::Chap))
    );
    assert_eq!(
        offered_auth(&c, tg("eaplocal")),
        Err(Refusal::LocalDatabaseCannotServe(PppAuth::EapProxy))
    );
    assert_eq!(
        offered_auth(&c, tg("eaptac")),
        Ok(set(&[PppAuth::Chap, PppAuth::MsChapV1]))
    );
    assert_eq!(offered_auth(&c, tg("none")), Err(Refusal::NoAuthMethod));

    // What the client agreed to. (group, method) -> who checks it, or why not.
    let rad = c.aaa_group("RAD").unwrap();
    let table: &[(&str, PppAuth, Result<Authenticator<'_>, Refusal>)] = &[
        ("DefaultRAGroup", PppAuth::Pap, Ok(Authenticator::Local)),
        (
            "DefaultRAGroup",
            PppAuth::MsChapV1,
            Ok(Authenticator::Local),
        ),
        (
            "DefaultRAGroup",
            PppAuth::Chap,
            Err(Refusal::LocalDatabaseCannotServe(PppAuth::Chap)),
        ),
        (
            "DefaultRAGroup",
            PppAuth::MsChapV2,
            Err(Refusal::MethodNotAllowed(PppAuth::MsChapV2)),
        ),
        (
            "DefaultRAGroup",
            PppAuth::EapProxy,
            Err(Refusal::MethodNotAllowed(PppAuth::EapProxy)),
        ),
        (
            "telecommuters",
            PppAuth::Chap,
            Ok(Authenticator::Server {
                group: rad,
                fallback_local: false,
            }),
        ),
        (
            "telecommuters",
            PppAuth::Pap,
            Err(Refusal::MethodNotAllowed(PppAuth::Pap)),
        ),
        (
            "eaplocal",
            PppAuth::EapProxy,
            Err(Refusal::LocalDatabaseCannotServe(PppAuth::EapProxy)),
        ),
        ("eaptac", PppAuth::EapProxy, Err(Refusal::EapNeedsRadius)),
    ];
    for (group, method, expected) in table {
        assert_eq!(
            &check_auth_method(&c, tg(group), *method),
            expected,
            "{group} {method:?}"
        );
    }
    let why = Refusal::LocalDatabaseCannotServe(PppAuth::Chap).to_string();
    assert!(
        why.contains("local database cannot authenticate chap"),
        "{why}"
    );
    // The preference order puts the strongest first.
    assert_eq!(policy::AUTH_PREFERENCE[1], PppAuth::MsChapV2);
}

#[test]
fn local_database_decision_table() {
    let c = cfg();
    assert_eq!(local_pap(&c, "alice", b"alicepw1").unwrap().name, "alice");
    assert_eq!(local_pap(&c, "bob", b"bobpw123").unwrap().name, "bob");
    assert_eq!(local_pap(&c, "bob", b"bobpw124"), Err(Refusal::BadPassword));
    assert_eq!(local_pap(&c, "bob", b""), Err(Refusal::BadPassword));
    assert_eq!(local_pap(&c, "Bob", b"bobpw123"), Err(Refusal::UnknownUser));
    assert_eq!(local_pap(&c, "zed", b"x"), Err(Refusal::UnknownUser));
    assert_eq!(local_pap(&c, "erin", b""), Err(Refusal::NoPassword));
    assert_eq!(
        local_pap(&c, "alice", &[0xff, 0xfe]),
        Err(Refusal::BadPassword)
    );

    let (u, h) = local_mschap(&c, "alice").unwrap();
    assert_eq!(
        (u.name.as_str(), h),
        ("alice", &NtHash::from_password("alicepw1"))
    );
    // bob was entered without `mschap`: only PAP can check him (step 10).
    assert_eq!(local_mschap(&c, "bob").map(|_| ()), Err(Refusal::NoNtHash));
    assert_eq!(
        local_mschap(&c, "erin").map(|_| ()),
        Err(Refusal::NoPassword)
    );
    assert_eq!(
        local_mschap(&c, "zed").map(|_| ()),
        Err(Refusal::UnknownUser)
    );
}

#[test]
fn authorization_decision_table() {
    let c = cfg();
    let tg = |n: &str| c.tunnel_group(n).unwrap();
    let user = |n: &str| c.user(n);

    let a = authorize(&c, tg("DefaultRAGroup"), user("alice"), None, None).unwrap();
    assert_eq!(a.policy.group_policy, "l2tp");
    assert_eq!(
        a.policy.dns_servers,
        [Some(ip("10.1.1.53")), Some(ip("10.1.1.54"))]
    );
    assert_eq!(a.policy.wins_servers, [None, None]);
    assert_eq!(a.policy.simultaneous_logins, 2);
    assert_eq!(a.policy.idle_timeout_minutes, Some(30), "built-in default");
    assert_eq!(a.policy.session_timeout_minutes, None);
    assert_eq!(a.address, AddressSource::Pools(&[name("p1"), name("p2")]));

    // The user's group policy does not permit l2tp-ipsec.
    assert_eq!(
        authorize(&c, tg("DefaultRAGroup"), user("carol"), None, None),
        Err(Refusal::ProtocolNotPermitted)
    );
    // Group lock.
    assert_eq!(
        authorize(&c, tg("DefaultRAGroup"), user("dave"), None, None),
        Err(Refusal::GroupLocked)
    );
    let d = authorize(&c, tg("telecommuters"), user("dave"), None, None).unwrap();
    assert_eq!(d.address, AddressSource::Static(ip("10.0.9.9")));
    // vpn-simultaneous-logins 0.
    assert_eq!(
        authorize(&c, tg("DefaultRAGroup"), user("frank"), None, None),
        Err(Refusal::LoginDisabled)
    );
    // User attributes over the group policy.
    let g = authorize(&c, tg("DefaultRAGroup"), user("gina"), None, None).unwrap();
    assert_eq!(
        (
            g.policy.idle_timeout_minutes,
            g.policy.session_timeout_minutes
        ),
        (None, Some(60))
    );
    // DfltGrpPolicy does not permit l2tp-ipsec until step 6 is done.
    assert_eq!(
        authorize(&c, tg("eaplocal"), user("alice"), None, None),
        Err(Refusal::ProtocolNotPermitted)
    );
    let mut c6 = c.clone();
    c6.load(&format!("{POLICY_CONFIG}group-policy DfltGrpPolicy attributes\n vpn-tunnel-protocol l2tp-ipsec\n"), |_| {}).unwrap();
    let ok = authorize(
        &c6,
        c6.tunnel_group("eaplocal").unwrap(),
        c6.user("alice"),
        None,
        None,
    )
    .unwrap();
    assert_eq!(ok.policy.group_policy, "DfltGrpPolicy");
    assert_eq!(ok.address, AddressSource::Pools(&[]));

    // A server-authenticated user unknown locally, with a group policy and
    // an address from the server.
    let r = authorize(&c, tg("telecommuters"), None, Some("pools"), None).unwrap();
    assert_eq!(r.policy.group_policy, "pools");
    assert_eq!(r.policy.wins_servers, [Some(ip("10.1.1.137")), None]);
    // `pools` sets no DNS: inherited from the tunnel group's default policy `l2tp`.
    assert_eq!(
        r.policy.dns_servers,
        [Some(ip("10.1.1.53")), Some(ip("10.1.1.54"))]
    );
    assert_eq!(r.policy.simultaneous_logins, 2);
    assert_eq!(
        r.address,
        AddressSource::Pools(&[name("gp")]),
        "the group policy's pools over the tunnel group's"
    );
    let f = authorize(&c, tg("telecommuters"), None, None, Some(ip("10.0.7.7"))).unwrap();
    assert_eq!(f.address, AddressSource::Static(ip("10.0.7.7")));
    assert_eq!(
        authorize(&c, tg("telecommuters"), None, Some("nosuch"), None),
        Err(Refusal::UnknownGroupPolicy)
    );
    // realm's default group policy carries pools.
    let p = authorize(&c, tg("realm"), user("alice"), None, None).unwrap();
    assert!(
        p.policy
            .tunnel_protocols
            .contains(TunnelProtocol::L2tpIpsec)
    );
    assert_eq!(p.address, AddressSource::Pools(&[name("gp")]));
}

#[test]
fn simultaneous_login_decision_table() {
    let d = |s| Duration::from_secs(s);
    // (handle, last activity, login)
    let two = [(1, d(100), d(10)), (2, d(50), d(20))];
    assert_eq!(simultaneous_login(0, []), LoginDecision::<u8>::Refuse);
    assert_eq!(simultaneous_login(3, two), LoginDecision::Admit);
    assert_eq!(
        simultaneous_login(2, two),
        LoginDecision::Replace(2),
        "the one idle longest"
    );
    let tie = [(1, d(100), d(20)), (2, d(100), d(10))];
    assert_eq!(
        simultaneous_login(2, tie),
        LoginDecision::Replace(2),
        "equally idle: the oldest"
    );
    assert_eq!(
        simultaneous_login(1, [(7, d(5), d(5))]),
        LoginDecision::Replace(7)
    );
    assert_eq!(simultaneous_login(1, []), LoginDecision::<u8>::Admit);
}

#[test]
fn pools_in_order_exhaustion_and_release() {
    let c = cfg();
    let a = authorize(
        &c,
        c.tunnel_group("DefaultRAGroup").unwrap(),
        c.user("alice"),
        None,
        None,
    )
    .unwrap();
    let mut pool = AddressPool::<16>::new();
    let got: Vec<_> = (0..3)
        .map(|_| pool.assign(&c, &a.address).unwrap())
        .collect();
    assert_eq!(got, [ip("10.0.0.1"), ip("10.0.0.2"), ip("10.0.1.1")]);
    assert_eq!(pool.assign(&c, &a.address), Err(PoolError::Exhausted));
    assert_eq!(PoolError::Exhausted.to_string(), "address pools exhausted");
    pool.release(ip("10.0.0.2")).unwrap();
    assert_eq!(
        pool.release(ip("10.0.0.2")),
        Err(PoolError::NotAllocated(ip("10.0.0.2")))
    );
    assert_eq!(pool.assign(&c, &a.address), Ok(ip("10.0.0.2")));
    assert_eq!(pool.in_use(), 3);
    // A static address is never handed out again, inside a pool or not.
    let mut pool = AddressPool::<16>::new();
    pool.reserve(ip("10.0.0.1")).unwrap();
    assert_eq!(
        pool.reserve(ip("10.0.0.1")),
        Err(PoolError::InUse(ip("10.0.0.1")))
    );
    assert_eq!(
        pool.allocate(pools_of(&c, &[name("p1")])),
        Ok(ip("10.0.0.2"))
    );
    let dave = authorize(
        &c,
        c.tunnel_group("telecommuters").unwrap(),
        c.user("dave"),
        None,
        None,
    )
    .unwrap();
    assert_eq!(pool.assign(&c, &dave.address), Ok(ip("10.0.9.9")));
    assert_eq!(
        pool.assign(&c, &dave.address),
        Err(PoolError::InUse(ip("10.0.9.9")))
    );
    assert_eq!(pool.allocate(pools_of(&c, &[])), Err(PoolError::NoPool));
    // The allocator's own capacity.
    let mut small = AddressPool::<2>::new();
    small.allocate(pools_of(&c, &[name("gp")])).unwrap();
    small.allocate(pools_of(&c, &[name("gp")])).unwrap();
    assert_eq!(
        small.allocate(pools_of(&c, &[name("gp")])),
        Err(PoolError::Full)
    );
}

#[test]
fn masked_pools_skip_network_and_broadcast() {
    let c = Config::parse(
        "ip local pool lan 10.0.1.0-10.0.1.255 mask 255.255.255.0\n\
         ip local pool p30 10.0.2.0-10.0.2.3 mask 255.255.255.252\n\
         ip local pool host 10.0.3.7-10.0.3.7 mask 255.255.255.255\n",
    )
    .unwrap();
    let mut pool = AddressPool::<300>::new();
    let lan = [name("lan")];
    let mut all = Vec::new();
    while let Ok(a) = pool.allocate(pools_of(&c, &lan)) {
        all.push(a);
    }
    assert_eq!(all.len(), 254);
    assert_eq!((all[0], all[253]), (ip("10.0.1.1"), ip("10.0.1.254")));
    let p30 = [name("p30")];
    assert_eq!(pool.allocate(pools_of(&c, &p30)), Ok(ip("10.0.2.1")));
    assert_eq!(pool.allocate(pools_of(&c, &p30)), Ok(ip("10.0.2.2")));
    assert_eq!(pool.allocate(pools_of(&c, &p30)), Err(PoolError::Exhausted));
    assert_eq!(
        pool.allocate(pools_of(&c, &[name("host")])),
        Ok(ip("10.0.3.7"))
    );
}

/// Random assignments and releases against a model: never one address
/// twice, always the lowest free one, released addresses come back.
#[test]
fn never_one_address_twice() {
    let c =
        Config::parse("ip local pool a 10.0.0.1-10.0.0.40\nip local pool b 10.0.1.1-10.0.1.20\n")
            .unwrap();
    let names = [name("a"), name("b")];
    let mut pool = AddressPool::<64>::new();
    let mut model = std::collections::BTreeSet::new();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let candidates: Vec<_> = (1..=40)
        .map(|i| ip(&format!("10.0.0.{i}")))
        .chain((1..=20).map(|i| ip(&format!("10.0.1.{i}"))))
        .collect();
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if !x.is_multiple_of(3) {
            let expected = candidates.iter().find(|a| !model.contains(*a)).copied();
            match pool.allocate(pools_of(&c, &names)) {
                Ok(a) => {
                    assert_eq!(Some(a), expected);
                    assert!(model.insert(a), "{a} handed out twice");
                }
                Err(e) => {
                    assert_eq!(e, PoolError::Exhausted);
                    assert_eq!(expected, None);
                }
            }
        } else if !model.is_empty() {
            let victim = *model.iter().nth((x >> 8) as usize % model.len()).unwrap();
            model.remove(&victim);
            pool.release(victim).unwrap();
        }
        assert_eq!(pool.in_use(), model.len());
    }
}

#[test]
fn a_huge_pool_costs_nothing_extra() {
    let c = Config::parse("ip local pool big 10.0.0.0-10.255.255.255 mask 255.0.0.0\n").unwrap();
    let mut pool = AddressPool::<1024>::new();
    for i in 0..1024u32 {
        let a = pool.allocate(pools_of(&c, &[name("big")])).unwrap();
        assert_eq!(u32::from(a), u32::from(ip("10.0.0.1")) + i);
    }
    assert_eq!(
        pool.allocate(pools_of(&c, &[name("big")])),
        Err(PoolError::Full)
    );
}
