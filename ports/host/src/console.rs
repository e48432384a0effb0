//! The operator's commands, as `lns serve` reads them on standard input and
//! from `lns ctl`: everything the session database's console understands
//! (`show vpn-sessiondb ...`, `show running-config`, `show debug`,
//! `debug l2tp CLASS LEVEL`, `no debug ...`, `undebug all`) plus the
//! commands that act on sessions (`vpn-sessiondb logoff ...`) and on the
//! port (`show lns counters`).

use crate::HostGateway;
use rand_core::CryptoRng;
use std::fmt::Write;
use std::time::Duration;

/// What `vpn-sessiondb logoff` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Logoff {
    /// `index N`.
    Index(u32),
    /// `name USER`.
    Name(String),
    /// `all`.
    All,
}

/// One line of operator input, sorted by who runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// Empty or a comment.
    Nothing,
    /// `vpn-sessiondb logoff ...` (`noconfirm` is accepted and implied).
    Logoff(Logoff),
    /// `help` or `?`.
    Help,
    /// `show lns counters`: the port's and the gateway's drop counters.
    Counters,
    /// Anything else: the session database's console.
    Gateway,
    /// A `vpn-sessiondb` line that is not understood.
    Invalid(String),
}

/// Sorts one input line.
pub fn classify(line: &str) -> Line {
    let words: Vec<&str> = line.split_ascii_whitespace().collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    match l.as_slice() {
        [] => Line::Nothing,
        [w, ..] if w.starts_with('!') || w.starts_with('#') => Line::Nothing,
        ["help"] | ["?"] => Line::Help,
        ["show", "lns", "counters"] => Line::Counters,
        ["vpn-sessiondb", "logoff", rest @ ..] => {
            let rest: Vec<&str> = rest.iter().copied().filter(|w| *w != "noconfirm").collect();
            let original = &words[2..];
            match rest.as_slice() {
                ["all"] => Line::Logoff(Logoff::All),
                ["index", n] => n.parse().map_or_else(
                    |_| {
                        Line::Invalid(format!(
                            "ERROR: % Invalid input detected at '{n}', expected a session index"
                        ))
                    },
                    |n| Line::Logoff(Logoff::Index(n)),
                ),
                ["name", _] => Line::Logoff(Logoff::Name(
                    original
                        .iter()
                        .find(|w| !w.eq_ignore_ascii_case("name"))
                        .map_or_else(String::new, |w| (*w).to_string()),
                )),
                _ => Line::Invalid(
                    "ERROR: % Incomplete command, expected all, index N or name USER".into(),
                ),
            }
        }
        ["vpn-sessiondb", ..] => {
            Line::Invalid("ERROR: % Invalid input detected, expected logoff".into())
        }
        _ => Line::Gateway,
    }
}

/// The commands `help` lists.
pub const HELP: &str = "\
show vpn-sessiondb summary
show vpn-sessiondb [detail] remote [filter protocol L2TPOverIPSec|L2TPOverIPSecOverNatT | filter name USER]
show running-config
show debug
show lns counters
debug l2tp {data|error|event|packet} [LEVEL]
no debug l2tp {data|error|event|packet}
undebug all
show aaa local user [locked]
clear aaa local user lockout {all | username USER}
vpn-sessiondb logoff {index N | name USER | all} [noconfirm]
";

/// Ends sessions as `vpn-sessiondb logoff` does, and writes what the
/// appliance prints. Returns how many sessions were logged off.
pub fn logoff(
    gw: &mut HostGateway,
    now: Duration,
    what: &Logoff,
    rng: &mut impl CryptoRng,
    out: &mut String,
) -> usize {
    match what {
        Logoff::Index(i) => {
            let n = usize::from(gw.logoff_index(now, *i, rng).is_ok());
            let _ = writeln!(out, "INFO: Number of sessions with index \"{i}\": {n}");
            let _ = writeln!(
                out,
                "INFO: Number of sessions from index \"{i}\" logged off : {n}"
            );
            n
        }
        Logoff::Name(name) => {
            let n = gw.logoff_name(now, name, rng);
            let _ = writeln!(out, "INFO: Number of sessions with name \"{name}\": {n}");
            let _ = writeln!(
                out,
                "INFO: Number of sessions from name \"{name}\" logged off : {n}"
            );
            n
        }
        Logoff::All => {
            let n = gw.sessions().len();
            let ended = gw.logoff_all(now, sessiondb::gateway::TerminateCause::AdminReset, rng);
            let _ = writeln!(out, "INFO: Number of sessions of type \"all\": {n}");
            let _ = writeln!(
                out,
                "INFO: Number of sessions of type \"all\" logged off : {n}"
            );
            ended
        }
    }
}

/// Runs one line against the gateway and returns its output. `counters`
/// supplies `show lns counters` (the port's own figures).
pub fn execute(
    gw: &mut HostGateway,
    now: Duration,
    line: &str,
    rng: &mut impl CryptoRng,
    counters: impl FnOnce(&mut String),
) -> String {
    let mut out = String::new();
    match classify(line) {
        Line::Nothing => {}
        Line::Help => out.push_str(HELP),
        Line::Counters => {
            counters(&mut out);
            let c = gw.counters();
            let _ = writeln!(out, "gateway: {c:?}");
            let (ike, esp, l2tp) = gw.core_counters();
            let _ = writeln!(out, "ike: {ike:?}");
            let _ = writeln!(out, "esp: {esp:?}");
            let _ = writeln!(out, "l2tp: {l2tp:?}");
            let _ = writeln!(out, "resources: {:?}", gw.resources());
        }
        Line::Logoff(what) => {
            logoff(gw, now, &what, rng, &mut out);
        }
        Line::Invalid(message) => {
            out.push_str(&message);
            out.push('\n');
        }
        Line::Gateway => {
            let _ = gw.console(now, line.trim(), &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_sorted_by_who_runs_them() {
        assert_eq!(classify("  "), Line::Nothing);
        assert_eq!(classify("! a comment"), Line::Nothing);
        assert_eq!(
            classify("vpn-sessiondb logoff index 7 noconfirm"),
            Line::Logoff(Logoff::Index(7))
        );
        assert_eq!(
            classify("VPN-SESSIONDB LOGOFF name Alice"),
            Line::Logoff(Logoff::Name("Alice".into())),
            "keywords in any case, the name as given"
        );
        assert_eq!(
            classify("vpn-sessiondb logoff all"),
            Line::Logoff(Logoff::All)
        );
        assert!(matches!(
            classify("vpn-sessiondb logoff index x"),
            Line::Invalid(_)
        ));
        assert!(matches!(classify("vpn-sessiondb logoff"), Line::Invalid(_)));
        assert!(matches!(classify("vpn-sessiondb foo"), Line::Invalid(_)));
        assert_eq!(classify("show lns counters"), Line::Counters);
        assert_eq!(classify("?"), Line::Help);
        assert_eq!(
            classify("show vpn-sessiondb detail remote filter protocol L2TPOverIPSec"),
            Line::Gateway
        );
        assert_eq!(classify("debug l2tp event 1"), Line::Gateway);
    }
}
