//! The operator's exec commands of this feature: `show vpn-sessiondb ...`,
//! `show debug`, `show running-config`, `debug l2tp ...`, `no debug ...`,
//! and the local-user lockout commands `show aaa local user [locked]` and
//! `clear aaa local user {lockout | fail-attempts} {all | username NAME}`.
//! [`Command::parse`] reads one line; [`execute`] runs it against the
//! configuration, the session table, the debug settings and the local
//! users' failed-login counts.

use core::fmt::{self, Write};
use core::time::Duration;

use crate::config::{Config, SecretDisplay, Snippet};
use crate::debug::{DEFAULT_LEVEL, DebugClass, DebugSettings};
use crate::session::{Protocol, SessionTable};
use crate::show::{self, Filter};

/// One exec command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command<'a> {
    /// `show vpn-sessiondb detail remote [filter ...]`.
    ShowDetail(Filter<'a>),
    /// `show vpn-sessiondb remote [filter ...]`.
    ShowRemote(Filter<'a>),
    /// `show vpn-sessiondb summary`.
    ShowSummary,
    /// `show debug [l2tp]`.
    ShowDebug,
    /// `show running-config` (keys masked).
    ShowRunningConfig,
    /// `debug l2tp CLASS [LEVEL]`.
    Debug {
        /// The class.
        class: DebugClass,
        /// The level, 1..=255.
        level: u8,
    },
    /// `no debug l2tp CLASS` (`Some`), `no debug all` / `undebug all` (`None`).
    NoDebug(Option<DebugClass>),
    /// `show aaa local user` (every local user with a failed login), or
    /// with `locked` only those locked out by
    /// `aaa local authentication attempts max-fail`.
    ShowAaaLocalUser {
        /// `show aaa local user locked`.
        locked: bool,
    },
    /// `clear aaa local user lockout {all | username NAME}`, and its
    /// synonym here `clear aaa local user fail-attempts ...`: zeroes the
    /// failed-login count of one local user (`Some`) or of all (`None`),
    /// which also unlocks them.
    ClearAaaLocalUser(Option<&'a str>),
}

/// Why a command line was not understood.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandError {
    /// What was expected where the line went wrong.
    pub expected: &'static str,
    /// The token found there (empty at the end of the line).
    pub token: Snippet,
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.token.as_str().is_empty() {
            write!(f, "ERROR: % Incomplete command, expected {}", self.expected)
        } else {
            write!(
                f,
                "ERROR: % Invalid input detected at '{}', expected {}",
                self.token, self.expected
            )
        }
    }
}

impl core::error::Error for CommandError {}

fn err<T>(expected: &'static str, token: Option<&str>) -> Result<T, CommandError> {
    Err(CommandError {
        expected,
        token: Snippet::new(token.unwrap_or("")),
    })
}

fn is(tok: Option<&str>, keyword: &str) -> bool {
    tok.is_some_and(|t| t.eq_ignore_ascii_case(keyword))
}

impl<'a> Command<'a> {
    /// Parses one command line. Keywords are case-insensitive.
    ///
    /// # Errors
    /// A [`CommandError`] naming what was expected and where.
    pub fn parse(line: &'a str) -> Result<Self, CommandError> {
        let mut t = line.split_ascii_whitespace();
        let cmd = match t.next() {
            Some(w) if w.eq_ignore_ascii_case("show") => Self::parse_show(&mut t)?,
            Some(w) if w.eq_ignore_ascii_case("debug") => {
                let l2tp = t.next();
                if !is(l2tp, "l2tp") {
                    return err("l2tp", l2tp);
                }
                let c = t.next();
                let class = match c.and_then(DebugClass::from_keyword) {
                    Some(class) => class,
                    None => return err("data, error, event or packet", c),
                };
                let level = match t.next() {
                    None => DEFAULT_LEVEL,
                    Some(n) => match n.parse::<u8>() {
                        Ok(l) if l >= 1 && n.bytes().all(|b| b.is_ascii_digit()) => l,
                        _ => return err("a level 1-255", Some(n)),
                    },
                };
                Command::Debug { class, level }
            }
            Some(w) if w.eq_ignore_ascii_case("no") => {
                let d = t.next();
                if !is(d, "debug") {
                    return err("debug", d);
                }
                let what = t.next();
                if is(what, "all") {
                    Command::NoDebug(None)
                } else if is(what, "l2tp") {
                    let c = t.next();
                    match c.and_then(DebugClass::from_keyword) {
                        Some(class) => {
                            // `no debug l2tp event 1`: the level is accepted and ignored.
                            if let Some(n) = t.next()
                                && n.parse::<u8>().is_err()
                            {
                                return err("a level 1-255", Some(n));
                            }
                            Command::NoDebug(Some(class))
                        }
                        None => return err("data, error, event or packet", c),
                    }
                } else {
                    return err("l2tp or all", what);
                }
            }
            Some(w) if w.eq_ignore_ascii_case("undebug") => {
                let a = t.next();
                if !is(a, "all") {
                    return err("all", a);
                }
                Command::NoDebug(None)
            }
            Some(w) if w.eq_ignore_ascii_case("clear") => {
                for keyword in ["aaa", "local", "user"] {
                    let k = t.next();
                    if !is(k, keyword) {
                        return err(keyword, k);
                    }
                }
                let what = t.next();
                if !is(what, "lockout") && !is(what, "fail-attempts") {
                    return err("lockout or fail-attempts", what);
                }
                let who = t.next();
                if is(who, "all") {
                    Command::ClearAaaLocalUser(None)
                } else if is(who, "username") {
                    match t.next() {
                        Some(name) => Command::ClearAaaLocalUser(Some(name)),
                        None => return err("a user name", None),
                    }
                } else {
                    return err("all or username", who);
                }
            }
            other => return err("show, debug, no debug, undebug or clear", other),
        };
        match t.next() {
            None => Ok(cmd),
            Some(extra) => err("end of line", Some(extra)),
        }
    }

    fn parse_show(t: &mut core::str::SplitAsciiWhitespace<'a>) -> Result<Self, CommandError> {
        let what = t.next();
        if is(what, "debug") {
            let mut look = t.clone();
            if is(look.next(), "l2tp") {
                *t = look;
            }
            return Ok(Command::ShowDebug);
        }
        if is(what, "running-config") || is(what, "run") {
            return Ok(Command::ShowRunningConfig);
        }
        if is(what, "aaa") {
            for keyword in ["local", "user"] {
                let k = t.next();
                if !is(k, keyword) {
                    return err(keyword, k);
                }
            }
            let mut look = t.clone();
            let locked = is(look.next(), "locked");
            if locked {
                *t = look;
            }
            return Ok(Command::ShowAaaLocalUser { locked });
        }
        if !is(what, "vpn-sessiondb") {
            return err("vpn-sessiondb, aaa, debug or running-config", what);
        }
        let kind = t.next();
        if is(kind, "summary") {
            return Ok(Command::ShowSummary);
        }
        let detail = is(kind, "detail") || is(kind, "detailed");
        if detail {
            let r = t.next();
            if !is(r, "remote") {
                return err("remote", r);
            }
        } else if !is(kind, "remote") {
            return err("detail, remote or summary", kind);
        }
        let mut filter = Filter::All;
        let f = t.next();
        if f.is_some() {
            if !is(f, "filter") {
                return err("filter", f);
            }
            let by = t.next();
            let v = t.next();
            filter = if is(by, "protocol") {
                match v.and_then(Protocol::from_name) {
                    Some(p) => Filter::Protocol(p),
                    None => return err("L2TPOverIPSec or L2TPOverIPSecOverNatT", v),
                }
            } else if is(by, "name") {
                match v {
                    Some(n) => Filter::Name(n),
                    None => return err("a user name", None),
                }
            } else {
                return err("protocol or name", by);
            };
        }
        Ok(if detail {
            Command::ShowDetail(filter)
        } else {
            Command::ShowRemote(filter)
        })
    }
}

/// Runs a command: `show` commands write to `out`, `debug` commands change
/// `debug` and `clear aaa local user` commands `local_failures` (and print
/// nothing, as the appliance does). `local_failures` holds the consecutive
/// failed logins of each of `config.users`, in the same order.
///
/// # Errors
/// Only those of `out`.
pub fn execute<const N: usize>(
    command: &Command<'_>,
    out: &mut impl Write,
    config: &Config,
    table: &SessionTable<N>,
    debug: &mut DebugSettings,
    local_failures: &mut [u8],
    now: Duration,
) -> fmt::Result {
    match *command {
        Command::ShowDetail(f) => show::detail(out, table, f, now),
        Command::ShowRemote(f) => show::remote(out, table, f, now),
        Command::ShowSummary => show::summary(out, table),
        Command::ShowDebug => debug.write_show_debug(out),
        Command::ShowRunningConfig => config.write_running_config(out, SecretDisplay::Masked),
        Command::Debug { class, level } => {
            debug.enable(class, level);
            Ok(())
        }
        Command::NoDebug(Some(class)) => {
            debug.disable(class);
            Ok(())
        }
        Command::NoDebug(None) => {
            debug.disable_all();
            Ok(())
        }
        Command::ShowAaaLocalUser { locked } => {
            show_aaa_local_user(out, config, local_failures, locked)
        }
        Command::ClearAaaLocalUser(name) => {
            clear_local_failures(config, local_failures, name);
            Ok(())
        }
    }
}

/// `clear aaa local user lockout {all | username NAME}`: zeroes the
/// consecutive failed logins of local user `name` (every user with `None`),
/// which unlocks it; returns how many of them were locked out.
pub fn clear_local_failures(
    config: &Config,
    local_failures: &mut [u8],
    name: Option<&str>,
) -> usize {
    let mut unlocked = 0;
    for (i, (user, failures)) in config
        .users
        .iter()
        .zip(local_failures.iter_mut())
        .enumerate()
    {
        if name.is_none_or(|n| user.name == n) {
            unlocked += usize::from(config.local_user_locked(i, *failures));
            *failures = 0;
        }
    }
    unlocked
}

/// `show aaa local user [locked]`: one line per local user with at least
/// one consecutive failed login (or, with `locked`, per locked-out user),
/// in the appliance's columns. There is no automatic unlock, so `Lock-time`
/// is always `-`.
fn show_aaa_local_user(
    out: &mut impl Write,
    config: &Config,
    local_failures: &[u8],
    locked_only: bool,
) -> fmt::Result {
    writeln!(out, "Lock-time Failed-attempts Locked User")?;
    for (i, (user, &failures)) in config.users.iter().zip(local_failures).enumerate() {
        let locked = config.local_user_locked(i, failures);
        if failures == 0 || (locked_only && !locked) {
            continue;
        }
        let yn = if locked { 'Y' } else { 'N' };
        writeln!(out, "{:>9} {failures:>15} {yn:>6} {}", "-", user.name)?;
    }
    Ok(())
}
