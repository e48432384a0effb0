//! Shared test data: the chapter's configuration and the session records of
//! the chapter's two `show vpn-sessiondb` examples.
#![allow(dead_code)]

use core::net::Ipv4Addr;
use core::time::Duration;

use sessiondb::config::{Name, PppAuth};
use sessiondb::session::{
    Cipher, Counters, DataRekey, Encapsulation, Hash, Idle, IkeAuthMode, IkeSubSession,
    IpsecSubSession, L2tpSubSession, NegotiationMode, Protocol, Selector, Session, TimeRekey,
    WallClock,
};

pub const CHAPTER_STEPS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../testdata/sessiondb/chapter-steps.txt"
));
pub const CHAPTER_EXAMPLE_1: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../testdata/sessiondb/chapter-example-l2tpoveripsec.txt"
));
pub const CHAPTER_EXAMPLE_2: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../testdata/sessiondb/chapter-example-l2tpoveripsecovernatt.txt"
));

pub fn name(s: &str) -> Name {
    let mut n = Name::new();
    n.push_str(s).unwrap();
    n
}

pub fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Monotonic time of the first example's login (13:24:48 UTC).
pub const LOGIN_1: u64 = 5000;
/// When the first example was printed: its Duration is 1h:09m:18s.
pub const NOW_1: u64 = LOGIN_1 + 4158;
/// The second example's login (14:35:15 UTC, 4227 s after the first).
pub const LOGIN_2: u64 = LOGIN_1 + 4227;
/// When the second example was printed: Duration 0h:00m:07s.
pub const NOW_2: u64 = LOGIN_2 + 7;

const HOST_SELECTOR: Selector = Selector {
    address: Ipv4Addr::new(80, 208, 1, 2),
    mask: Ipv4Addr::new(255, 255, 255, 255),
    protocol: 17,
    port: 1701,
};

/// b_smith, the chapter's L2TPOverIPSec example, with the values it shows.
pub fn example_1() -> Session {
    let login = secs(LOGIN_1);
    let now = secs(NOW_1);
    let mut s = Session::new(
        ip("70.208.1.212"),
        Protocol::L2tpOverIpsec,
        login,
        WallClock {
            year: 2006,
            month: 3,
            day: 30,
            hour: 13,
            minute: 24,
            second: 48,
        },
    );
    s.username = name("b_smith");
    s.assigned_ip = Some(ip("90.208.1.200"));
    s.bytes_tx = 418_464;
    s.bytes_rx = 424_440;
    s.group_policy = name("DfltGrpPolicy");
    s.tunnel_group = name("DefaultRAGroup");
    s.filter_name = name("#ACSACL#-IP-ACL4Clients-440fa5aa");
    s.ike = Some(IkeSubSession {
        session_id: 1,
        cookies: [0x1122_3344_5566_7788, 0x99aa_bbcc_ddee_ff00],
        udp_src_port: 500,
        udp_dst_port: 500,
        negotiation_mode: NegotiationMode::Main,
        auth_mode: IkeAuthMode::PreSharedKeys,
        encryption: Cipher::TripleDes,
        hashing: Hash::Sha1,
        // Phase 1 completed a second after the session began.
        rekey: TimeRekey::starting(login + secs(1), secs(28_800)),
        dh_group: 2,
    });
    s.ipsec = Some(IpsecSubSession {
        session_id: 2,
        inbound_spi: 0x8000_0101,
        outbound_spi: 0xc0ff_ee01,
        local: HOST_SELECTOR,
        remote: Selector {
            address: ip("70.208.1.212"),
            ..HOST_SELECTOR
        },
        encryption: Cipher::TripleDes,
        hashing: Hash::Sha1,
        encapsulation: Encapsulation::Transport,
        // The current SA was rekeyed 744 s before the display.
        rekey_time: TimeRekey::starting(now - secs(744), secs(3600)),
        rekey_data: Some(DataRekey {
            interval_kb: 95_000,
            left_kb: 95_000,
        }),
        idle: Idle {
            timeout: Some(secs(30 * 60)),
            last_activity: now - secs(2),
        },
        counters: Counters {
            bytes_tx: 419_064,
            bytes_rx: 425_040,
            packets_tx: 4201,
            packets_rx: 4227,
        },
    });
    s.l2tp = Some(L2tpSubSession {
        session_id: 3,
        tunnel_ids: [7, 1],
        session_ids: [11, 1],
        username: name("l2tp"),
        assigned_ip: ip("90.208.1.200"),
        encryption: Cipher::None,
        auth_mode: PppAuth::Pap,
        idle: Idle {
            timeout: Some(secs(30 * 60)),
            last_activity: now - secs(1),
        },
        counters: Counters {
            bytes_tx: 301_386,
            bytes_rx: 306_480,
            packets_tx: 4198,
            packets_rx: 4224,
        },
    });
    s
}

/// v_gonzalez, the chapter's L2TPOverIPSecOverNatT example.
pub fn example_2() -> Session {
    let login = secs(LOGIN_2);
    let now = secs(NOW_2);
    let mut s = Session::new(
        ip("70.208.1.2"),
        Protocol::L2tpOverIpsecOverNatT,
        login,
        WallClock {
            year: 2006,
            month: 3,
            day: 30,
            hour: 14,
            minute: 35,
            second: 15,
        },
    );
    s.username = name("v_gonzalez");
    s.assigned_ip = Some(ip("90.208.1.202"));
    s.bytes_tx = 1009;
    s.bytes_rx = 2241;
    s.group_policy = name("DfltGrpPolicy");
    s.tunnel_group = name("l2tpcert");
    s.ike = Some(IkeSubSession {
        session_id: 1,
        cookies: [0x1122_3344_5566_7788, 0x99aa_bbcc_ddee_ff00],
        udp_src_port: 4500,
        udp_dst_port: 4500,
        negotiation_mode: NegotiationMode::Main,
        auth_mode: IkeAuthMode::RsaCertificate,
        encryption: Cipher::TripleDes,
        hashing: Hash::Md5,
        rekey: TimeRekey::starting(login + secs(1), secs(300)),
        dh_group: 2,
    });
    s.ipsec = Some(IpsecSubSession {
        session_id: 2,
        inbound_spi: 0x8000_0101,
        outbound_spi: 0xc0ff_ee01,
        local: HOST_SELECTOR,
        remote: Selector {
            address: ip("70.208.1.2"),
            port: 0,
            ..HOST_SELECTOR
        },
        encryption: Cipher::TripleDes,
        hashing: Hash::Md5,
        encapsulation: Encapsulation::Transport,
        rekey_time: TimeRekey::starting(login, secs(300)),
        rekey_data: None,
        idle: Idle {
            timeout: Some(secs(60)),
            last_activity: now - secs(3),
        },
        counters: Counters {
            bytes_tx: 1209,
            bytes_rx: 2793,
            packets_tx: 20,
            packets_rx: 32,
        },
    });
    s.l2tp = Some(L2tpSubSession {
        session_id: 3,
        tunnel_ids: [7, 1],
        session_ids: [11, 1],
        username: name("v_gonzalez"),
        assigned_ip: ip("90.208.1.202"),
        encryption: Cipher::None,
        auth_mode: PppAuth::Pap,
        idle: Idle {
            timeout: Some(secs(60)),
            last_activity: now - secs(3),
        },
        counters: Counters {
            bytes_tx: 584,
            bytes_rx: 2224,
            packets_tx: 18,
            packets_rx: 30,
        },
    });
    s
}
