//! The session table, `show vpn-sessiondb summary` / `remote`, the console
//! commands and `debug l2tp`.

mod common;

use common::*;
use sessiondb::Config;
use sessiondb::console::{Command, execute};
use sessiondb::debug::{DebugClass, DebugSettings, DebugSink};
use sessiondb::policy::LoginDecision;
use sessiondb::session::{Protocol, Session, SessionTable, TableFull, WallClock};
use sessiondb::show::{self, Filter};

#[test]
fn handles_indices_and_capacity() {
    let mut t = SessionTable::<2>::new();
    let a = t.insert(example_1()).unwrap();
    let b = t.insert(example_2()).unwrap();
    assert_eq!(t.insert(example_1()), Err(TableFull));
    assert_eq!((t.get(a).unwrap().index, t.get(b).unwrap().index), (1, 2));
    let gone = t.remove(a).unwrap();
    assert_eq!(gone.username, "b_smith");
    assert!(
        t.get(a).is_none() && t.get_mut(a).is_none() && t.remove(a).is_none(),
        "stale handle"
    );
    // The slot is reused with a new generation and the next index.
    let c = t.insert(example_1()).unwrap();
    assert_ne!(c, a);
    assert!(t.get(a).is_none());
    assert_eq!(t.get(c).unwrap().index, 3);
    // Index order, whatever the slots.
    let order: Vec<u32> = t.iter_by_index().map(|(_, s)| s.index).collect();
    assert_eq!(order, [2, 3]);
    assert_eq!(t.find_index(3), Some(c));
    assert_eq!(t.find_index(1), None);
    t.get_mut(c).unwrap().bytes_tx = 7;
    assert_eq!(t.get(c).unwrap().bytes_tx, 7);
    assert_eq!(t.len(), 2);
}

#[test]
fn one_session_fits_the_memory_budget() {
    // DESIGN.md §8: a complete session under 4 KiB; the record is one part.
    let size = size_of::<Session>();
    assert!(size <= 1024, "Session is {size} bytes");
}

#[test]
fn simultaneous_logins_count_names_without_case() {
    let mut t = SessionTable::<4>::new();
    let mut s1 = example_1();
    s1.username = name("Alice");
    let mut s2 = example_1();
    s2.username = name("alice");
    s2.login_at = secs(LOGIN_1 + 10);
    // s2 idle since earlier than s1.
    s2.l2tp.as_mut().unwrap().idle.last_activity = secs(LOGIN_1 + 20);
    s2.ipsec.as_mut().unwrap().idle.last_activity = secs(LOGIN_1 + 20);
    let _h1 = t.insert(s1).unwrap();
    let h2 = t.insert(s2).unwrap();
    assert_eq!(t.admit("ALICE", 3), LoginDecision::Admit);
    assert_eq!(t.admit("ALICE", 2), LoginDecision::Replace(h2));
    assert_eq!(t.admit("ALICE", 0), LoginDecision::Refuse);
    assert_eq!(t.admit("bob", 1), LoginDecision::Admit);
}

#[test]
fn wall_clock_weekdays() {
    let w = |year, month, day| {
        WallClock {
            year,
            month,
            day,
            hour: 0,
            minute: 0,
            second: 0,
        }
        .weekday()
    };
    assert_eq!(w(2006, 3, 30), "Thu", "the chapter's Login Time");
    assert_eq!(w(1970, 1, 1), "Thu");
    assert_eq!(w(2000, 2, 29), "Tue");
    assert_eq!(w(2024, 12, 31), "Tue");
    assert_eq!(w(2100, 3, 1), "Mon");
    let t = WallClock {
        year: 2015,
        month: 6,
        day: 3,
        hour: 9,
        minute: 5,
        second: 7,
    };
    assert_eq!(t.to_string(), "09:05:07 UTC Wed Jun 3 2015");
    // A gateway never given the time of day (a board without a clock).
    assert_eq!(WallClock::default().to_string(), "unknown (no clock set)");
}

const SUMMARY: &str = "\
---------------------------------------------------------------------------
VPN Session Summary
---------------------------------------------------------------------------
                               Active : Cumulative : Peak Concur
                             ----------------------------------
L2TPOverIPSec                :      1 :          2 :           1
L2TPOverIPSecOverNatT        :      1 :          1 :           1
---------------------------------------------------------------------------
Total Active                 :      2             Total Cumulative :      3
Device Total VPN Capacity    :     16
Device Load                  :    12%
---------------------------------------------------------------------------
";

#[test]
fn summary() {
    let mut t = SessionTable::<16>::new();
    let h = t.insert(example_1()).unwrap();
    t.remove(h).unwrap();
    t.insert(example_1()).unwrap();
    t.insert(example_2()).unwrap();
    let mut out = String::new();
    show::summary(&mut out, &t).unwrap();
    assert_eq!(out, SUMMARY);
}

const REMOTE: &str = "\
Session Type: Remote

Username      : b_smith               Index         : 1
Assigned IP   : 90.208.1.200          Public IP     : 70.208.1.212
Protocol      : L2TPOverIPSec         Encryption    : 3DES
Hashing       : SHA1
Bytes Tx      : 418464                Bytes Rx      : 424440
Group Policy  : DfltGrpPolicy         Tunnel Group  : DefaultRAGroup
Login Time    : 13:24:48 UTC Thu Mar 30 2006
Duration      : 1h:10m:34s
NAC Result    : N/A

Username      : v_gonzalez            Index         : 2
Assigned IP   : 90.208.1.202          Public IP     : 70.208.1.2
Protocol      : L2TPOverIPSecOverNatT Encryption    : 3DES
Hashing       : MD5
Bytes Tx      : 1009                  Bytes Rx      : 2241
Group Policy  : DfltGrpPolicy         Tunnel Group  : l2tpcert
Login Time    : 14:35:15 UTC Thu Mar 30 2006
Duration      : 0h:00m:07s
NAC Result    : N/A
";

#[test]
fn remote() {
    let mut t = SessionTable::<4>::new();
    t.insert(example_1()).unwrap();
    t.insert(example_2()).unwrap();
    let mut out = String::new();
    show::remote(&mut out, &t, Filter::All, secs(NOW_2)).unwrap();
    assert_eq!(out, REMOTE);
}

#[test]
fn a_session_in_progress_shows_what_it_has() {
    let mut s = Session::new(
        ip("192.0.2.7"),
        Protocol::L2tpOverIpsec,
        secs(100),
        WallClock::default(),
    );
    s.ike = example_1().ike;
    let mut t = SessionTable::<1>::new();
    t.insert(s).unwrap();
    let mut out = String::new();
    show::detail(&mut out, &t, Filter::All, secs(40_000)).unwrap();
    assert!(out.contains("IKE Sessions: 1\nIPSec Sessions: 0\nL2TPOverIPSec Sessions: 0\n"));
    assert!(out.contains("Assigned IP   :                       Public IP     : 192.0.2.7\n"));
    assert!(
        out.contains("Encryption    : 3DES "),
        "the IKE SA's until IPsec is up"
    );
    // Past the rekey time: 0 left, never negative.
    assert!(out.contains("Rekey Left(T): 0 Seconds"));
    assert!(!out.contains("IPSec:"));
    assert!(!out.lines().any(|l| l.ends_with(' ')));
}

#[test]
fn long_values_push_the_second_column() {
    let mut s = example_1();
    s.username = name(&"u".repeat(64));
    s.public_ip = ip("203.0.113.255");
    s.assigned_ip = Some(ip("255.255.255.255"));
    s.bytes_tx = u64::MAX;
    let mut t = SessionTable::<1>::new();
    t.insert(s).unwrap();
    let mut out = String::new();
    show::detail(&mut out, &t, Filter::All, secs(NOW_1)).unwrap();
    assert!(out.contains("Bytes Tx      : 18446744073709551615  Bytes Rx      : 424440\n"));
    assert!(out.contains(&format!("Username      : {}\n", "u".repeat(64))));
}

#[test]
fn the_chapter_debug_example() {
    // hostname# debug l2tp event 1
    // hostname# show debug
    // debug l2tp event enabled at level 1
    let cfg = Config::default();
    let table = SessionTable::<1>::new();
    let mut debug = DebugSettings::new();
    let mut out = String::new();
    for line in ["debug l2tp event 1", "show debug"] {
        execute(
            &Command::parse(line).unwrap(),
            &mut out,
            &cfg,
            &table,
            &mut debug,
            &mut [],
            secs(0),
        )
        .unwrap();
    }
    assert_eq!(out, "debug l2tp event enabled at level 1\n");
}

#[test]
fn debug_commands_decision_table() {
    let ok: &[(&str, Command<'_>)] = &[
        (
            "debug l2tp event",
            Command::Debug {
                class: DebugClass::Event,
                level: 1,
            },
        ),
        (
            "debug l2tp data 255",
            Command::Debug {
                class: DebugClass::Data,
                level: 255,
            },
        ),
        (
            "DEBUG L2TP Packet 7",
            Command::Debug {
                class: DebugClass::Packet,
                level: 7,
            },
        ),
        (
            "debug l2tp error 1",
            Command::Debug {
                class: DebugClass::Error,
                level: 1,
            },
        ),
        (
            "no debug l2tp event",
            Command::NoDebug(Some(DebugClass::Event)),
        ),
        (
            "no debug l2tp event 1",
            Command::NoDebug(Some(DebugClass::Event)),
        ),
        ("no debug all", Command::NoDebug(None)),
        ("undebug all", Command::NoDebug(None)),
        ("show debug", Command::ShowDebug),
        ("show debug l2tp", Command::ShowDebug),
        ("show running-config", Command::ShowRunningConfig),
        (
            "show aaa local user",
            Command::ShowAaaLocalUser { locked: false },
        ),
        (
            "SHOW AAA LOCAL USER LOCKED",
            Command::ShowAaaLocalUser { locked: true },
        ),
        (
            "clear aaa local user lockout all",
            Command::ClearAaaLocalUser(None),
        ),
        (
            "clear aaa local user lockout username b_smith",
            Command::ClearAaaLocalUser(Some("b_smith")),
        ),
        (
            "clear aaa local user fail-attempts username b_smith",
            Command::ClearAaaLocalUser(Some("b_smith")),
        ),
        ("show vpn-sessiondb summary", Command::ShowSummary),
        (
            "show vpn-sessiondb remote",
            Command::ShowRemote(Filter::All),
        ),
        (
            "show vpn-sessiondb detail remote filter protocol L2TPOverIPSec",
            Command::ShowDetail(Filter::Protocol(Protocol::L2tpOverIpsec)),
        ),
        // As the chapter's prose spells it.
        (
            "show vpn-sessiondb detailed remote filter protocol l2tpOverIPsec",
            Command::ShowDetail(Filter::Protocol(Protocol::L2tpOverIpsec)),
        ),
        (
            "show vpn-sessiondb detail remote filter protocol L2TPOverIPSecOverNatT",
            Command::ShowDetail(Filter::Protocol(Protocol::L2tpOverIpsecOverNatT)),
        ),
        (
            "show vpn-sessiondb remote filter name b_smith",
            Command::ShowRemote(Filter::Name("b_smith")),
        ),
    ];
    for (line, cmd) in ok {
        assert_eq!(Command::parse(line).as_ref(), Ok(cmd), "{line}");
    }
    let bad: &[(&str, &str)] = &[
        (
            "debug l2tp event 0",
            "ERROR: % Invalid input detected at '0', expected a level 1-255",
        ),
        (
            "debug l2tp event 256",
            "ERROR: % Invalid input detected at '256', expected a level 1-255",
        ),
        (
            "debug l2tp event +5",
            "ERROR: % Invalid input detected at '+5', expected a level 1-255",
        ),
        (
            "debug l2tp events",
            "ERROR: % Invalid input detected at 'events', expected data, error, event or packet",
        ),
        (
            "debug l2tp",
            "ERROR: % Incomplete command, expected data, error, event or packet",
        ),
        (
            "debug ppp event",
            "ERROR: % Invalid input detected at 'ppp', expected l2tp",
        ),
        (
            "show aaa local",
            "ERROR: % Incomplete command, expected user",
        ),
        (
            "show aaa local user unlocked",
            "ERROR: % Invalid input detected at 'unlocked', expected end of line",
        ),
        (
            "clear aaa local user lockout",
            "ERROR: % Incomplete command, expected all or username",
        ),
        (
            "clear aaa local user lockout username",
            "ERROR: % Incomplete command, expected a user name",
        ),
        (
            "clear aaa local user unlock all",
            "ERROR: % Invalid input detected at 'unlock', expected lockout or fail-attempts",
        ),
        (
            "clear vpn-sessiondb",
            "ERROR: % Invalid input detected at 'vpn-sessiondb', expected aaa",
        ),
        (
            "debug l2tp event 1 2",
            "ERROR: % Invalid input detected at '2', expected end of line",
        ),
        (
            "no debug l2tp",
            "ERROR: % Incomplete command, expected data, error, event or packet",
        ),
        (
            "no debug ppp",
            "ERROR: % Invalid input detected at 'ppp', expected l2tp or all",
        ),
        (
            "show vpn-sessiondb",
            "ERROR: % Incomplete command, expected detail, remote or summary",
        ),
        (
            "show vpn-sessiondb detail",
            "ERROR: % Incomplete command, expected remote",
        ),
        (
            "show vpn-sessiondb detail remote filter protocol PPTP",
            "ERROR: % Invalid input detected at 'PPTP', expected L2TPOverIPSec or L2TPOverIPSecOverNatT",
        ),
        (
            "show vpn-sessiondb remote filter",
            "ERROR: % Incomplete command, expected protocol or name",
        ),
        (
            "show vpn-sessiondb remote filter name",
            "ERROR: % Incomplete command, expected a user name",
        ),
        (
            "show crypto isakmp sa",
            "ERROR: % Invalid input detected at 'crypto', expected vpn-sessiondb, aaa, debug or running-config",
        ),
        (
            "",
            "ERROR: % Incomplete command, expected show, debug, no debug, undebug or clear",
        ),
    ];
    for (line, message) in bad {
        assert_eq!(
            Command::parse(line).unwrap_err().to_string(),
            *message,
            "{line:?}"
        );
    }
}

#[test]
fn debug_settings_and_sink_filter_by_class_and_level() {
    let mut d = DebugSettings::new();
    let mut out = String::new();
    d.write_show_debug(&mut out).unwrap();
    assert_eq!(out, "", "nothing enabled, nothing shown");
    d.enable(DebugClass::Packet, 9);
    d.enable(DebugClass::Data, 2);
    d.write_show_debug(&mut out).unwrap();
    assert_eq!(
        out,
        "debug l2tp data enabled at level 2\ndebug l2tp packet enabled at level 9\n"
    );
    d.disable(DebugClass::Data);
    assert_eq!(d.level(DebugClass::Data), None);
    d.disable_all();
    assert_eq!(d, DebugSettings::new());

    let mut sink = DebugSink::new(String::new());
    sink.settings.enable(DebugClass::Event, 2);
    sink.log(DebugClass::Event, 1, format_args!("tunnel {} up", 7))
        .unwrap();
    sink.log(DebugClass::Event, 2, format_args!("session {} up", 1))
        .unwrap();
    sink.log(DebugClass::Event, 3, format_args!("too detailed"))
        .unwrap();
    sink.log(DebugClass::Packet, 1, format_args!("packet"))
        .unwrap();
    sink.log(DebugClass::Error, 1, format_args!("error"))
        .unwrap();
    assert!(sink.enabled(DebugClass::Event, 2) && !sink.enabled(DebugClass::Event, 3));
    assert_eq!(sink.writer(), "tunnel 7 up\nsession 1 up\n");
    assert_eq!(sink.counts(), (2, 3));
}

#[test]
fn console_runs_the_show_commands() {
    let cfg = Config::parse(CHAPTER_STEPS).unwrap();
    let mut table = SessionTable::<4>::new();
    table.insert(example_1()).unwrap();
    let mut debug = DebugSettings::new();
    let mut out = String::new();
    let mut run = |line: &str, out: &mut String| {
        let cmd = Command::parse(line).unwrap();
        execute(&cmd, out, &cfg, &table, &mut debug, &mut [], secs(NOW_1)).unwrap();
    };
    run(
        "show vpn-sessiondb detail remote filter protocol L2TPOverIPSec",
        &mut out,
    );
    let golden = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/sessiondb/show-detail-l2tpoveripsec.golden"
    ))
    .unwrap();
    assert_eq!(out, golden);
    out.clear();
    run("show running-config", &mut out);
    assert!(out.contains(" pre-shared-key *****\n") && !out.contains("l2tpsecret"));
}
