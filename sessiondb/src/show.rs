//! `show vpn-sessiondb`: the operator's view of the session table, written
//! to any `core::fmt::Write`, a pure function of the records and `now`.
//!
//! `detail remote` reproduces the chapter's two examples field for field:
//! the labels are the appliance's literal strings (most padded to 14
//! columns, the 13-character ones unpadded, as the appliance prints
//! `Rekey Int (T):` and `Encapsulation:`), the second column starts at
//! column 38 (39 in the L2TP block, whose labels are 13 wide), a value too
//! long for its column is followed by one space, and no line ends in a space.
//! `summary` and `remote` are not in the chapter; their layout follows the
//! same conventions and is documented in `docs/ARCHITECTURE.md`.

use core::fmt::{self, Display, Write};
use core::time::Duration;

use crate::session::{Idle, Protocol, Session, SessionTable, TimeRekey};

/// Which sessions to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter<'a> {
    /// All sessions.
    All,
    /// `filter protocol P`.
    Protocol(Protocol),
    /// `filter name USER`.
    Name(&'a str),
}

impl Filter<'_> {
    /// `true` if `s` passes the filter.
    pub fn matches(&self, s: &Session) -> bool {
        match self {
            Filter::All => true,
            Filter::Protocol(p) => s.protocol == *p,
            Filter::Name(n) => s.username.as_str() == *n,
        }
    }
}

/// Column where the second field of a two-field line starts.
const RIGHT_COLUMN: usize = 38;
/// The same for the L2TP block.
const L2TP_RIGHT_COLUMN: usize = 39;

/// A writer that knows its column, for padding.
struct Out<'w, W: Write> {
    w: &'w mut W,
    col: usize,
}

impl<W: Write> Write for Out<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for (i, part) in s.split('\n').enumerate() {
            if i > 0 {
                self.col = 0;
            }
            self.col += part.chars().count();
        }
        self.w.write_str(s)
    }
}

/// Writes a space before the first non-empty output, so that an empty value
/// leaves `Label :` without a trailing space.
struct Lead<'a, 'w, W: Write> {
    out: &'a mut Out<'w, W>,
    started: bool,
}

impl<W: Write> Write for Lead<'_, '_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if s.is_empty() {
            return Ok(());
        }
        if !self.started {
            self.started = true;
            self.out.write_char(' ')?;
        }
        self.out.write_str(s)
    }
}

/// Nothing: an empty value.
struct Empty;

impl Display for Empty {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

/// `N Seconds`.
struct Seconds(u64);

impl Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} Seconds", self.0)
    }
}

/// `N Minutes`, or `none`.
struct MinutesOf(Option<u64>);

impl Display for MinutesOf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(m) => write!(f, "{m} Minutes"),
            None => f.write_str("none"),
        }
    }
}

/// `1h:09m:18s`.
struct Elapsed(Duration);

impl Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.as_secs();
        write!(f, "{}h:{:02}m:{:02}s", s / 3600, s / 60 % 60, s % 60)
    }
}

fn rekey_left(r: &TimeRekey, now: Duration) -> Seconds {
    Seconds(r.due.saturating_sub(now).as_secs())
}

/// The idle timeout and what is left of it, in minutes rounded up (a
/// session with traffic a few seconds ago still shows the whole timeout,
/// as both chapter examples do).
fn idle_minutes(idle: &Idle, now: Duration) -> (MinutesOf, MinutesOf) {
    match idle.timeout {
        None => (MinutesOf(None), MinutesOf(None)),
        Some(t) => {
            let elapsed = now.saturating_sub(idle.last_activity);
            let left = t.saturating_sub(elapsed).as_secs();
            (
                MinutesOf(Some(t.as_secs() / 60)),
                MinutesOf(Some(left.div_ceil(60))),
            )
        }
    }
}

impl<W: Write> Out<'_, W> {
    fn field(&mut self, label: &str, value: &dyn Display) -> fmt::Result {
        self.write_str(label)?;
        self.write_char(':')?;
        let mut lead = Lead {
            out: self,
            started: false,
        };
        write!(lead, "{value}")
    }

    fn line(&mut self, label: &str, value: &dyn Display) -> fmt::Result {
        self.field(label, value)?;
        self.write_char('\n')
    }

    fn pair(
        &mut self,
        left: (&str, &dyn Display),
        right: (&str, &dyn Display),
        column: usize,
    ) -> fmt::Result {
        self.field(left.0, left.1)?;
        if self.col < column {
            for _ in self.col..column {
                self.write_char(' ')?;
            }
        } else {
            self.write_char(' ')?;
        }
        self.field(right.0, right.1)?;
        self.write_char('\n')
    }
}

/// An optional address, empty when unset.
struct OptAddr(Option<core::net::Ipv4Addr>);

impl Display for OptAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(a) => write!(f, "{a}"),
            None => Ok(()),
        }
    }
}

/// `show vpn-sessiondb detail remote [filter ...]`.
///
/// # Errors
/// Only those of `out`.
pub fn detail<const N: usize>(
    out: &mut impl Write,
    table: &SessionTable<N>,
    filter: Filter<'_>,
    now: Duration,
) -> fmt::Result {
    let mut o = Out { w: out, col: 0 };
    if !table.iter().any(|(_, s)| filter.matches(s)) {
        return no_sessions(&mut o, filter);
    }
    o.write_str("Session Type: Remote Detailed\n")?;
    for (_, s) in table.iter_by_index().filter(|(_, s)| filter.matches(s)) {
        o.write_char('\n')?;
        detail_one(&mut o, s, now)?;
    }
    Ok(())
}

fn no_sessions<W: Write>(o: &mut Out<'_, W>, filter: Filter<'_>) -> fmt::Result {
    match filter {
        Filter::All => o.write_str("INFO: There are presently no active sessions\n"),
        _ => o.write_str("INFO: There are presently no active sessions of the type specified\n"),
    }
}

fn detail_one<W: Write>(o: &mut Out<'_, W>, s: &Session, now: Duration) -> fmt::Result {
    let c = RIGHT_COLUMN;
    o.line("Username      ", &s.username)?;
    o.line("Index         ", &s.index)?;
    o.pair(
        ("Assigned IP   ", &OptAddr(s.assigned_ip)),
        ("Public IP     ", &s.public_ip),
        c,
    )?;
    o.pair(
        ("Protocol      ", &s.protocol.name()),
        ("Encryption    ", &s.encryption().name()),
        c,
    )?;
    o.line("Hashing       ", &s.hashing().name())?;
    o.pair(
        ("Bytes Tx      ", &s.bytes_tx),
        ("Bytes Rx      ", &s.bytes_rx),
        c,
    )?;
    o.pair(("Client Type   ", &Empty), ("Client Ver    ", &Empty), c)?;
    o.line("Group Policy  ", &s.group_policy)?;
    o.line("Tunnel Group  ", &s.tunnel_group)?;
    o.line("Login Time    ", &s.login_wall)?;
    o.line("Duration      ", &Elapsed(now.saturating_sub(s.login_at)))?;
    o.line("Filter Name   ", &s.filter_name)?;
    o.line("NAC Result    ", &"N/A")?;
    o.line("Posture Token ", &Empty)?;
    o.write_char('\n')?;

    let ipsec_name = s.protocol.ipsec_name();
    writeln!(o, "IKE Sessions: {}", u8::from(s.ike.is_some()))?;
    writeln!(o, "{ipsec_name} Sessions: {}", u8::from(s.ipsec.is_some()))?;
    writeln!(
        o,
        "{} Sessions: {}",
        s.protocol.name(),
        u8::from(s.l2tp.is_some())
    )?;

    if let Some(ike) = &s.ike {
        o.write_str("\nIKE:\n")?;
        o.line("Session ID    ", &ike.session_id)?;
        o.pair(
            ("UDP Src Port  ", &ike.udp_src_port),
            ("UDP Dst Port  ", &ike.udp_dst_port),
            c,
        )?;
        o.pair(
            ("IKE Neg Mode  ", &ike.negotiation_mode.name()),
            ("Auth Mode     ", &ike.auth_mode.name()),
            c,
        )?;
        o.pair(
            ("Encryption    ", &ike.encryption.name()),
            ("Hashing       ", &ike.hashing.name()),
            c,
        )?;
        o.pair(
            ("Rekey Int (T)", &Seconds(ike.rekey.interval.as_secs())),
            ("Rekey Left(T)", &rekey_left(&ike.rekey, now)),
            c,
        )?;
        o.line("D/H Group     ", &ike.dh_group)?;
    }

    if let Some(ipsec) = &s.ipsec {
        writeln!(o, "\n{ipsec_name}:")?;
        o.line("Session ID    ", &ipsec.session_id)?;
        o.line("Local Addr    ", &ipsec.local)?;
        o.line("Remote Addr   ", &ipsec.remote)?;
        o.pair(
            ("Encryption    ", &ipsec.encryption.name()),
            ("Hashing       ", &ipsec.hashing.name()),
            c,
        )?;
        o.line("Encapsulation", &ipsec.encapsulation.name())?;
        o.pair(
            (
                "Rekey Int (T)",
                &Seconds(ipsec.rekey_time.interval.as_secs()),
            ),
            ("Rekey Left(T)", &rekey_left(&ipsec.rekey_time, now)),
            c,
        )?;
        if let Some(d) = &ipsec.rekey_data {
            o.pair(
                ("Rekey Int (D)", &KBytes(d.interval_kb)),
                ("Rekey Left(D)", &KBytes(d.left_kb)),
                c,
            )?;
        }
        let (timeout, left) = idle_minutes(&ipsec.idle, now);
        o.pair(("Idle Time Out", &timeout), ("Idle TO Left  ", &left), c)?;
        o.pair(
            ("Bytes Tx      ", &ipsec.counters.bytes_tx),
            ("Bytes Rx      ", &ipsec.counters.bytes_rx),
            c,
        )?;
        o.pair(
            ("Pkts Tx       ", &ipsec.counters.packets_tx),
            ("Pkts Rx       ", &ipsec.counters.packets_rx),
            c,
        )?;
    }

    if let Some(l2tp) = &s.l2tp {
        let c = L2TP_RIGHT_COLUMN;
        writeln!(o, "\n{}:", s.protocol.name())?;
        o.line("Session ID   ", &l2tp.session_id)?;
        o.line("Username     ", &l2tp.username)?;
        o.line("Assigned IP  ", &l2tp.assigned_ip)?;
        o.pair(
            ("Encryption   ", &l2tp.encryption.name()),
            ("Auth Mode     ", &l2tp.auth_mode.display_name()),
            c,
        )?;
        let (timeout, left) = idle_minutes(&l2tp.idle, now);
        o.pair(("Idle Time Out", &timeout), ("Idle TO Left  ", &left), c)?;
        o.pair(
            ("Bytes Tx     ", &l2tp.counters.bytes_tx),
            ("Bytes Rx      ", &l2tp.counters.bytes_rx),
            c,
        )?;
        o.pair(
            ("Pkts Tx      ", &l2tp.counters.packets_tx),
            ("Pkts Rx       ", &l2tp.counters.packets_rx),
            c,
        )?;
    }
    Ok(())
}

/// `N K-Bytes`.
struct KBytes(u64);

impl Display for KBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} K-Bytes", self.0)
    }
}

/// `show vpn-sessiondb remote [filter ...]`: one block per session.
///
/// # Errors
/// Only those of `out`.
pub fn remote<const N: usize>(
    out: &mut impl Write,
    table: &SessionTable<N>,
    filter: Filter<'_>,
    now: Duration,
) -> fmt::Result {
    let mut o = Out { w: out, col: 0 };
    if !table.iter().any(|(_, s)| filter.matches(s)) {
        return no_sessions(&mut o, filter);
    }
    o.write_str("Session Type: Remote\n")?;
    let c = RIGHT_COLUMN;
    for (_, s) in table.iter_by_index().filter(|(_, s)| filter.matches(s)) {
        o.write_char('\n')?;
        o.pair(
            ("Username      ", &s.username),
            ("Index         ", &s.index),
            c,
        )?;
        o.pair(
            ("Assigned IP   ", &OptAddr(s.assigned_ip)),
            ("Public IP     ", &s.public_ip),
            c,
        )?;
        o.pair(
            ("Protocol      ", &s.protocol.name()),
            ("Encryption    ", &s.encryption().name()),
            c,
        )?;
        o.line("Hashing       ", &s.hashing().name())?;
        o.pair(
            ("Bytes Tx      ", &s.bytes_tx),
            ("Bytes Rx      ", &s.bytes_rx),
            c,
        )?;
        o.pair(
            ("Group Policy  ", &s.group_policy),
            ("Tunnel Group  ", &s.tunnel_group),
            c,
        )?;
        o.line("Login Time    ", &s.login_wall)?;
        o.line("Duration      ", &Elapsed(now.saturating_sub(s.login_at)))?;
        o.line("NAC Result    ", &"N/A")?;
    }
    Ok(())
}

const RULE: &str = "---------------------------------------------------------------------------\n";

/// `show vpn-sessiondb summary`: active, cumulative and peak sessions per
/// protocol, the totals, and the device load.
///
/// # Errors
/// Only those of `out`.
pub fn summary<const N: usize>(out: &mut impl Write, table: &SessionTable<N>) -> fmt::Result {
    let mut o = Out { w: out, col: 0 };
    o.write_str(RULE)?;
    o.write_str("VPN Session Summary\n")?;
    o.write_str(RULE)?;
    o.write_str("                               Active : Cumulative : Peak Concur\n")?;
    o.write_str("                             ----------------------------------\n")?;
    for p in Protocol::ALL {
        let st = table.stats(p);
        if st.cumulative == 0 {
            continue;
        }
        writeln!(
            o,
            "{:<29}: {:>6} : {:>10} : {:>11}",
            p.name(),
            st.active,
            st.cumulative,
            st.peak
        )?;
    }
    o.write_str(RULE)?;
    let total = table.total_stats();
    writeln!(
        o,
        "{:<29}: {:>6}             Total Cumulative : {:>6}",
        "Total Active", total.active, total.cumulative
    )?;
    writeln!(o, "{:<29}: {:>6}", "Device Total VPN Capacity", N)?;
    let load = (total.active * 100).checked_div(N).unwrap_or(0);
    writeln!(o, "{:<29}: {:>5}%", "Device Load", load)?;
    o.write_str(RULE)
}
