//! The gateway built at compile time and started in place
//! (`Gateway::new_empty`, `Gateway::start`), as a port with a small stack
//! keeps it in a `static`, against the by-value `Gateway::new`.

use sessiondb::Config;
use sessiondb::gateway::{Gateway, Gateway16, Options, Resources};

const TEXT: &str = "\
ip local pool p 10.77.0.10-10.77.0.25 mask 255.255.255.0
crypto ipsec transform-set T esp-aes-256 esp-sha-hmac
crypto ipsec transform-set T mode transport
crypto dynamic-map dyn 10 set transform-set T
crypto map outside_map 20 ipsec-isakmp dynamic dyn
crypto map outside_map interface outside
crypto isakmp enable outside
crypto isakmp policy 10
 authentication pre-share
 encryption aes-256
 hash sha
 group 14
 lifetime 86400
crypto isakmp nat-traversal 20
group-policy DfltGrpPolicy attributes
 vpn-tunnel-protocol l2tp-ipsec
tunnel-group DefaultRAGroup general-attributes
 address-pool p
tunnel-group DefaultRAGroup ipsec-attributes
 pre-shared-key in-place-psk
tunnel-group DefaultRAGroup ppp-attributes
 authentication ms-chap-v2
username u password in-place-password mschap
";

/// A gateway in a `static`, evaluated at compile time.
type Small = Gateway<4, 4, 8, 2, 2>;
static COMPILE_TIME: std::sync::Mutex<Small> = std::sync::Mutex::new(Small::new_empty());

fn big_stack(f: fn()) {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn the_empty_gateway_holds_nothing_and_serves_nobody() {
    big_stack(|| {
        let g = Box::new(Gateway16::new_empty());
        assert_eq!(g.resources(), Resources::default());
        assert_eq!(*g.config(), Config::EMPTY);
        // No built-in policy in the empty configuration: nothing is set.
        assert!(
            g.config()
                .default_group_policy()
                .vpn
                .tunnel_protocols
                .is_none()
        );
        assert!(g.poll_timeout().is_none());
    });
    let s = COMPILE_TIME.lock().unwrap();
    assert_eq!(s.resources(), Resources::default());
    assert_eq!(*s.config(), Config::EMPTY);
}

#[test]
fn start_in_place_equals_new_by_value() {
    big_stack(|| {
        let mut g = Box::new(Gateway16::new_empty());
        g.start(TEXT, Options::default()).unwrap();
        let config = Config::parse(TEXT).unwrap();
        assert_eq!(*g.config(), config);
        let n = Box::new(Gateway16::new(config, Options::default()));
        assert_eq!(g.resources(), n.resources());
        assert_eq!(g.poll_timeout(), n.poll_timeout());
        assert_eq!(g.counters(), n.counters());
        assert!(g.config().user("u").is_some());
    });
}

#[test]
fn a_wrong_configuration_leaves_the_default_one() {
    big_stack(|| {
        let mut g = Box::new(Gateway16::new_empty());
        g.start(TEXT, Options::default()).unwrap();
        let e = g
            .start(
                "crypto isakmp policy 10\n encryption rot13\n",
                Options::default(),
            )
            .unwrap_err();
        assert_eq!(e.line, 2);
        assert_eq!(*g.config(), Config::default());
        assert!(g.config().user("u").is_none());
        assert_eq!(g.resources(), Resources::default());
    });
}
