//! Arbitrary operator input into the console: every line is parsed as an
//! exec command and run against a configuration and a table holding
//! sessions in several states; no panic, and `show` output never has a line
//! ending in a space. The first bytes choose `now`, the debug level a
//! message is logged at and the failed logins of the local users. The
//! configuration is the chapter's (the `sessiondb_config_parse` seed) with a
//! lockout limit, so `show running-config` and `show aaa local user` have
//! groups, servers and users to print.
#![no_main]

use core::time::Duration;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use sessiondb::config::{Config, PppAuth};
use sessiondb::console::{Command, execute};
use sessiondb::debug::{DebugClass, DebugSink};
use sessiondb::session::{
    Cipher, Counters, DataRekey, Encapsulation, Hash, Idle, IkeAuthMode, IkeSubSession,
    IpsecSubSession, L2tpSubSession, NegotiationMode, Protocol, Selector, Session, SessionTable,
    TimeRekey, WallClock,
};

static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    let text = concat!(
        include_str!("../seeds/sessiondb_config_parse/chapter-steps.txt"),
        "\naaa local authentication attempts max-fail 3\n",
    );
    Config::parse(text).expect("the chapter's configuration parses")
});

fn table() -> SessionTable<4> {
    let mut t = SessionTable::new();
    let sel = Selector {
        address: [192, 0, 2, 1].into(),
        mask: [255, 255, 255, 255].into(),
        protocol: 17,
        port: 1701,
    };
    let wall = WallClock {
        year: 2026,
        month: 2,
        day: 29,
        hour: 23,
        minute: 59,
        second: 60,
    };
    let mut full = Session::new(
        [198, 51, 100, 7].into(),
        Protocol::L2tpOverIpsecOverNatT,
        Duration::from_secs(10),
        wall,
    );
    full.username.push_str("alice").ok();
    full.ike = Some(IkeSubSession {
        session_id: 1,
        cookies: [1, 2],
        udp_src_port: 4500,
        udp_dst_port: 4500,
        negotiation_mode: NegotiationMode::Aggressive,
        auth_mode: IkeAuthMode::RsaCertificate,
        encryption: Cipher::Aes256,
        hashing: Hash::Sha256,
        rekey: TimeRekey::starting(Duration::from_secs(11), Duration::from_secs(86_400)),
        dh_group: 14,
    });
    full.ipsec = Some(IpsecSubSession {
        session_id: 2,
        inbound_spi: 3,
        outbound_spi: 4,
        local: sel,
        remote: sel,
        encryption: Cipher::Aes128,
        hashing: Hash::Sha1,
        encapsulation: Encapsulation::Transport,
        rekey_time: TimeRekey::starting(Duration::from_secs(12), Duration::from_secs(3600)),
        rekey_data: Some(DataRekey {
            interval_kb: u64::MAX,
            left_kb: 0,
        }),
        idle: Idle {
            timeout: Some(Duration::MAX),
            last_activity: Duration::MAX,
        },
        counters: Counters {
            bytes_tx: u64::MAX,
            bytes_rx: 0,
            packets_tx: 1,
            packets_rx: u64::MAX,
        },
    });
    full.l2tp = Some(L2tpSubSession {
        session_id: 3,
        tunnel_ids: [1, 2],
        session_ids: [3, 4],
        username: full.username.clone(),
        assigned_ip: [10, 0, 0, 1].into(),
        encryption: Cipher::None,
        auth_mode: PppAuth::EapProxy,
        idle: Idle {
            timeout: None,
            last_activity: Duration::ZERO,
        },
        counters: Counters::default(),
    });
    t.insert(full).ok();
    let bare = Session::new(
        [203, 0, 113, 9].into(),
        Protocol::L2tpOverIpsec,
        Duration::MAX,
        WallClock::default(),
    );
    t.insert(bare).ok();
    t
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 9 {
        return;
    }
    let now = Duration::from_secs(u64::from_le_bytes(data[..8].try_into().unwrap_or([0; 8])));
    let level = data[8];
    let text = String::from_utf8_lossy(&data[9..]);
    let config = &*CONFIG;
    let table = table();
    let mut sink = DebugSink::new(String::new());
    let mut failures = vec![level; config.users.len()];
    for line in text.lines() {
        let mut out = String::new();
        match Command::parse(line) {
            Ok(cmd) => {
                execute(
                    &cmd,
                    &mut out,
                    config,
                    &table,
                    &mut sink.settings,
                    &mut failures,
                    now,
                )
                .unwrap();
                assert!(!out.lines().any(|l| l.ends_with(' ')), "{out}");
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
        for class in DebugClass::ALL {
            sink.log(class, level, format_args!("{line}")).unwrap();
        }
    }
});
