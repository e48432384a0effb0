//! The serial console: a line editor, an appliance-style command parser
//! (unique prefixes: `sh ver`), and the `show` commands.
//!
//! The board's commands live in the keyword tree [`ROOT`]. A line that is
//! not one of them goes to the gateway's console (`sessiondb::console`):
//! `show vpn-sessiondb ...`, `show running-config`, `show debug`,
//! `debug l2tp ...`, `no debug ...`, as on the host port.

use core::fmt::{self, Write as _};
use core::time::Duration;

use embassy_net::{HardwareAddress, Stack};
use embedded_io_async::{Read, Write};

use super::config::{BoardInfo, NetConfig};
use super::gateway::SharedGateway;
use super::stats::Stats;
use super::vpn::Wake;

/// Longest command line accepted; further characters ring the bell.
pub const MAX_LINE: usize = 128;
/// Room for the output of one command.
pub const MAX_OUTPUT: usize = 4096;

/// What a byte typed on the console did to the line being edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// Nothing to show.
    Nothing,
    /// The byte was added; echo it.
    Echo(u8),
    /// The last character was removed; erase it on the terminal.
    Erase,
    /// The line is complete (CR, LF or CR LF).
    Line,
    /// The line is full; ring the bell.
    Full,
    /// Ctrl-C: the line was discarded.
    Interrupt,
}

/// A fixed-size line editor: printable ASCII, backspace/delete, Ctrl-C,
/// CR/LF/CRLF line ends, ANSI escape sequences (arrow keys) swallowed.
#[derive(Debug)]
pub struct LineEditor<const N: usize> {
    buf: [u8; N],
    len: usize,
    after_cr: bool,
    escape: Escape,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    None,
    Esc,
    Csi,
}

impl<const N: usize> LineEditor<N> {
    /// An empty line.
    pub const fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
            after_cr: false,
            escape: Escape::None,
        }
    }

    /// Feeds one received byte.
    pub fn push(&mut self, byte: u8) -> Edit {
        let after_cr = core::mem::replace(&mut self.after_cr, byte == b'\r');
        match self.escape {
            Escape::Esc => {
                self.escape = if byte == b'[' {
                    Escape::Csi
                } else {
                    Escape::None
                };
                return Edit::Nothing;
            }
            Escape::Csi => {
                if (0x40..=0x7e).contains(&byte) {
                    self.escape = Escape::None;
                }
                return Edit::Nothing;
            }
            Escape::None => {}
        }
        match byte {
            b'\r' => Edit::Line,
            b'\n' if after_cr => Edit::Nothing,
            b'\n' => Edit::Line,
            0x08 | 0x7f => {
                if self.len == 0 {
                    Edit::Nothing
                } else {
                    self.len -= 1;
                    Edit::Erase
                }
            }
            0x03 => {
                self.len = 0;
                Edit::Interrupt
            }
            0x1b => {
                self.escape = Escape::Esc;
                Edit::Nothing
            }
            0x20..=0x7e => match self.buf.get_mut(self.len) {
                Some(slot) => {
                    *slot = byte;
                    self.len += 1;
                    Edit::Echo(byte)
                }
                None => Edit::Full,
            },
            _ => Edit::Nothing,
        }
    }

    /// The line so far (printable ASCII only, so always valid UTF-8).
    pub fn line(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }

    /// Starts a new line.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

impl<const N: usize> Default for LineEditor<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// A command the console understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// `help`: list the commands.
    Help,
    /// `show version`: firmware, board, uptime.
    ShowVersion,
    /// `show interfaces`: link, addresses and counters.
    ShowInterfaces,
}

/// One keyword of the command tree.
#[derive(Debug)]
pub struct Node {
    /// The keyword; any unique prefix of it is accepted.
    pub word: &'static str,
    /// One line of help.
    pub help: &'static str,
    /// What follows it.
    pub next: Next,
}

/// What follows a keyword.
#[derive(Debug)]
pub enum Next {
    /// The command is complete.
    Run(Command),
    /// Another keyword, from this list.
    Sub(&'static [Node]),
}

/// The top of the command tree.
pub const ROOT: &[Node] = &[
    Node {
        word: "help",
        help: "Describe the available commands",
        next: Next::Run(Command::Help),
    },
    Node {
        word: "show",
        help: "Show running system information",
        next: Next::Sub(SHOW),
    },
];

/// The keywords after `show`. `vpn-sessiondb` joins them with the gateway.
pub const SHOW: &[Node] = &[
    Node {
        word: "interfaces",
        help: "Interface status, addresses and counters",
        next: Next::Run(Command::ShowInterfaces),
    },
    Node {
        word: "version",
        help: "Firmware version, board and uptime",
        next: Next::Run(Command::ShowVersion),
    },
];

/// The gateway's commands, for `help` (parsed by `sessiondb::console`).
pub const GATEWAY_HELP: &[(&str, &str)] = &[
    (
        "show vpn-sessiondb ...",
        "Sessions: summary, remote, detail remote [filter ...]",
    ),
    ("show running-config", "The configuration (keys masked)"),
    ("show debug", "Debug classes and levels enabled"),
    (
        "debug l2tp CLASS [LEVEL]",
        "Debug lines: data, error, event, packet",
    ),
    ("no debug all", "Turn every debug class off"),
    (
        "show aaa local user [locked]",
        "Local users' failed logins and lockouts",
    ),
    (
        "clear aaa local user lockout ...",
        "Unlock: all, or username NAME",
    ),
];

/// Why a line is not a command; `column` is where the offending word starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// No keyword starts with this word, or a word follows a complete command.
    Invalid {
        /// Byte offset of the word in the line.
        column: usize,
    },
    /// The word is a prefix of more than one keyword.
    Ambiguous {
        /// Byte offset of the word in the line.
        column: usize,
    },
    /// The line ends before the command is complete.
    Incomplete,
}

/// Splits `line` into words with their byte offsets.
fn words(line: &str) -> impl Iterator<Item = (usize, &str)> {
    let bytes = line.as_bytes();
    let mut i = 0;
    core::iter::from_fn(move || {
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        if i >= bytes.len() {
            return None;
        }
        let start = i;
        while i < bytes.len() && bytes[i] != b' ' {
            i += 1;
        }
        Some((start, &line[start..i]))
    })
}

/// Parses a command line; `Ok(None)` for a blank line.
///
/// # Errors
/// [`ParseError`] with the column of the first word that does not fit.
pub fn parse(line: &str) -> Result<Option<Command>, ParseError> {
    parse_in(ROOT, line)
}

fn parse_in(root: &'static [Node], line: &str) -> Result<Option<Command>, ParseError> {
    let mut level = root;
    let mut found = None;
    for (column, word) in words(line) {
        if found.is_some() {
            return Err(ParseError::Invalid { column });
        }
        let word_lower = word.as_bytes();
        let mut candidates = level.iter().filter(|n| {
            n.word.len() >= word_lower.len()
                && n.word.as_bytes()[..word_lower.len()].eq_ignore_ascii_case(word_lower)
        });
        let node = match (candidates.next(), candidates.next()) {
            (None, _) => return Err(ParseError::Invalid { column }),
            (Some(n), None) => n,
            (Some(_), Some(_)) => match level.iter().find(|n| n.word.eq_ignore_ascii_case(word)) {
                Some(exact) => exact,
                None => return Err(ParseError::Ambiguous { column }),
            },
        };
        match node.next {
            Next::Run(command) => found = Some(command),
            Next::Sub(next) => level = next,
        }
    }
    match found {
        Some(command) => Ok(Some(command)),
        None if core::ptr::eq(level, root) => Ok(None),
        None => Err(ParseError::Incomplete),
    }
}

/// What the `show` commands report, gathered when the command runs.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    /// The board.
    pub board: &'a BoardInfo,
    /// The compiled-in network configuration.
    pub net: &'a NetConfig,
    /// The counters.
    pub stats: &'a Stats,
    /// Whether the Ethernet link is up.
    pub link_up: bool,
    /// The interface's MAC address.
    pub mac: [u8; 6],
    /// The IP MTU of the interface.
    pub mtu: usize,
    /// Time since boot.
    pub uptime: Duration,
    /// What drives UDP 500/4500 and ESP (the placeholder until the gateway lands).
    pub engine: &'a str,
}

/// Writes an uptime the way the appliance does: `1 day 2 hours 3 mins 4 secs`,
/// leaving out leading zero units.
pub fn write_uptime(out: &mut impl fmt::Write, uptime: Duration) -> fmt::Result {
    let total = uptime.as_secs();
    let units = [
        (total / 86_400, "day"),
        (total / 3600 % 24, "hour"),
        (total / 60 % 60, "min"),
        (total % 60, "sec"),
    ];
    let mut started = false;
    for (i, (n, unit)) in units.iter().enumerate() {
        let last = i == units.len() - 1;
        if *n == 0 && !started && !last {
            continue;
        }
        if started {
            out.write_char(' ')?;
        }
        started = true;
        write!(out, "{} {}{}", n, unit, if *n == 1 { "" } else { "s" })?;
    }
    Ok(())
}

fn write_mac(out: &mut impl fmt::Write, mac: [u8; 6]) -> fmt::Result {
    write!(
        out,
        "{:02x}{:02x}.{:02x}{:02x}.{:02x}{:02x}",
        mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]
    )
}

/// Runs `command` and writes its answer to `out` (lines end in `\n`).
///
/// # Errors
/// Only when `out` is full.
pub fn execute(command: Command, view: &View<'_>, out: &mut impl fmt::Write) -> fmt::Result {
    match command {
        Command::Help => {
            for node in ROOT {
                match node.next {
                    Next::Run(_) => writeln!(out, "  {:<28}{}", node.word, node.help)?,
                    Next::Sub(sub) => {
                        for leaf in sub {
                            let mut name = heapless::String::<32>::new();
                            write!(name, "{} {}", node.word, leaf.word)?;
                            writeln!(out, "  {:<28}{}", name.as_str(), leaf.help)?;
                        }
                    }
                }
            }
            for (name, help) in GATEWAY_HELP {
                writeln!(out, "  {name:<28}{help}")?;
            }
            Ok(())
        }
        Command::ShowVersion => {
            writeln!(
                out,
                "l2tp-ipsec-lns firmware Version {}",
                env!("CARGO_PKG_VERSION")
            )?;
            writeln!(out, "Board: {} ({})", view.board.name, view.board.cpu)?;
            writeln!(out, "Ethernet: {}", view.board.ethernet)?;
            writeln!(out, "RNG: {}", view.board.rng)?;
            writeln!(out, "Console: {}", view.board.console)?;
            writeln!(out, "VPN engine: {}", view.engine)?;
            if let Some(peak) = view.board.stack_peak {
                writeln!(out, "Stack: {} bytes at the deepest so far", peak())?;
            }
            write!(out, "{} up ", view.net.hostname)?;
            write_uptime(out, view.uptime)?;
            writeln!(out)
        }
        Command::ShowInterfaces => {
            let s = view.stats;
            let line = if view.link_up { "up" } else { "down" };
            writeln!(
                out,
                "Interface Ethernet0 \"{}\", is up, line protocol is {}",
                view.net.nameif, line
            )?;
            write!(out, "        MAC address ")?;
            write_mac(out, view.mac)?;
            writeln!(out, ", MTU {}", view.mtu)?;
            writeln!(
                out,
                "        IP address {}, subnet mask {}",
                view.net.address,
                view.net.netmask()
            )?;
            if let Some(gw) = view.net.gateway {
                writeln!(out, "        Default gateway {gw}")?;
            }
            writeln!(
                out,
                "        {} packets input, {} bytes",
                s.rx_frames.get(),
                s.rx_bytes.get()
            )?;
            writeln!(
                out,
                "        {} packets output, {} bytes",
                s.tx_frames.get(),
                s.tx_bytes.get()
            )?;
            writeln!(out, "        {} packets dropped", s.dropped.get())?;
            writeln!(out, "  UDP 500 (IKE): {} datagrams input", s.ike_rx.get())?;
            writeln!(
                out,
                "  UDP 4500 (NAT-T): {} datagrams input",
                s.nat_t_rx.get()
            )?;
            writeln!(out, "  UDP 500/4500: {} datagrams output", s.udp_tx.get())?;
            writeln!(
                out,
                "  IP protocol 50 (ESP): {} packets input, {} packets output",
                s.esp_rx.get(),
                s.esp_tx.get()
            )?;
            writeln!(
                out,
                "  Inside (ping, UDP echo): {} packets answered",
                s.inside.get()
            )?;
            writeln!(
                out,
                "  Forwarded: {} packets to the LAN, {} packets to clients, {} ARP requests",
                s.fwd_to_lan.get(),
                s.fwd_to_clients.get(),
                s.fwd_arp_requests.get()
            )?;
            writeln!(
                out,
                "  Not forwarded: {} no route, {} no ARP answer, {} TTL exceeded, {} too big, {} queue full, {} malformed",
                s.fwd_no_route.get(),
                s.fwd_no_arp.get(),
                s.fwd_ttl.get(),
                s.fwd_too_big.get(),
                s.fwd_queue_full.get(),
                s.fwd_malformed.get()
            )?;
            writeln!(out, "  Gateway timer: {} runs", s.timeouts.get())
        }
    }
}

/// Writes the answer to a line that did not parse, appliance style: a `^`
/// under the offending word (`prompt_len` is the width of the prompt).
///
/// # Errors
/// Only when `out` is full.
pub fn write_error(
    out: &mut impl fmt::Write,
    line: &str,
    error: ParseError,
    prompt_len: usize,
) -> fmt::Result {
    match error {
        ParseError::Invalid { column } => {
            writeln!(out, "{:>width$}", "^", width = prompt_len + column + 1)?;
            writeln!(out, "ERROR: % Invalid input detected at '^' marker.")
        }
        ParseError::Ambiguous { column } => {
            let word = words(&line[column.min(line.len())..])
                .next()
                .map_or("", |(_, w)| w);
            writeln!(out, "ERROR: % Ambiguous command: \"{word}\"")
        }
        ParseError::Incomplete => writeln!(out, "ERROR: % Incomplete command"),
    }
}

/// Whether `line` is one of the gateway's commands (see
/// `sessiondb::console`): it parses as one, or it starts with a word only
/// the gateway knows (`debug`, `no`, `undebug`, `clear`), whose errors the gateway
/// words itself.
pub fn is_gateway_command(line: &str) -> bool {
    if sessiondb::console::Command::parse(line).is_ok() {
        return true;
    }
    let first = line.split_ascii_whitespace().next().unwrap_or("");
    !first.is_empty()
        && ["debug", "no", "undebug", "clear"].iter().any(|w| {
            w.get(..first.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(first))
        })
}

/// A `fmt::Write` into a `heapless::String` that keeps what fits and drops
/// the rest instead of failing mid-command (the gateway's output can be
/// longer than the console's buffer; the caller reports the truncation).
struct LimitedWriter<'a, const N: usize>(&'a mut heapless::String<N>);

impl<const N: usize> fmt::Write for LimitedWriter<'_, N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if self.0.push(c).is_err() {
                break;
            }
        }
        Ok(())
    }
}

/// Writes `text` to the console with every `\n` sent as `\r\n`.
async fn write_crlf<W: Write>(io: &mut W, text: &str) {
    for (i, part) in text.split('\n').enumerate() {
        if i > 0 {
            let _ = io.write_all(b"\r\n").await;
        }
        if !part.is_empty() {
            let _ = io.write_all(part.as_bytes()).await;
        }
    }
}

/// The console task: reads lines from `io` and answers them, forever.
#[allow(clippy::too_many_arguments)]
pub async fn run<C: Read + Write>(
    mut io: C,
    stack: Stack<'static>,
    board: &'static BoardInfo,
    net: &'static NetConfig,
    stats: &'static Stats,
    engine: &'static str,
    gateway: &SharedGateway,
    wake: &Wake,
) -> ! {
    let mut editor = LineEditor::<MAX_LINE>::new();
    let mut out = heapless::String::<MAX_OUTPUT>::new();
    let mut prompt = heapless::String::<40>::new();
    let _ = write!(prompt, "{}# ", net.hostname);

    let _ = write!(
        out,
        "\nl2tp-ipsec-lns firmware {} on {}\nType help for the commands.\n\n",
        env!("CARGO_PKG_VERSION"),
        board.name
    );
    write_crlf(&mut io, &out).await;
    let _ = io.write_all(prompt.as_bytes()).await;

    let mut rx = [0u8; 32];
    loop {
        let n = match io.read(&mut rx).await {
            Ok(n) if n > 0 => n,
            // A framing error or an empty read: nothing to do but read again,
            // without spinning.
            _ => {
                embassy_time::Timer::after_millis(10).await;
                continue;
            }
        };
        for &byte in &rx[..n] {
            match editor.push(byte) {
                Edit::Nothing => {}
                Edit::Echo(c) => {
                    let _ = io.write_all(&[c]).await;
                }
                Edit::Erase => {
                    let _ = io.write_all(b"\x08 \x08").await;
                }
                Edit::Full => {
                    let _ = io.write_all(b"\x07").await;
                }
                Edit::Interrupt => {
                    let _ = io.write_all(b"^C\r\n").await;
                    let _ = io.write_all(prompt.as_bytes()).await;
                }
                Edit::Line => {
                    let _ = io.write_all(b"\r\n").await;
                    out.clear();
                    let line = editor.line();
                    let written = match parse(line) {
                        Ok(None) => Ok(()),
                        Ok(Some(command)) => {
                            let (mac, mtu) = match stack.hardware_address() {
                                HardwareAddress::Ethernet(mac) => (mac.0, 1500),
                                #[allow(unreachable_patterns)]
                                _ => ([0; 6], 1500),
                            };
                            let view = View {
                                board,
                                net,
                                stats,
                                link_up: stack.is_link_up(),
                                mac,
                                mtu,
                                uptime: super::vpn::now(),
                                engine,
                            };
                            execute(command, &view, &mut out)
                        }
                        // Not one of the board's commands: the gateway's
                        // (`show vpn-sessiondb ...`, `debug l2tp ...`,
                        // `show running-config`, ...). Its own errors are
                        // shown for the words only it knows.
                        Err(error) => {
                            if is_gateway_command(line) {
                                // The parse error, if any, is written to `out`.
                                let _ = gateway.borrow_mut().console(
                                    super::vpn::now(),
                                    line,
                                    &mut LimitedWriter(&mut out),
                                );
                                wake.signal(());
                                if out.len() == out.capacity() {
                                    Err(fmt::Error)
                                } else {
                                    Ok(())
                                }
                            } else {
                                write_error(&mut out, line, error, prompt.len())
                            }
                        }
                    };
                    write_crlf(&mut io, &out).await;
                    if written.is_err() {
                        let _ = io.write_all(b"\r\n% output truncated\r\n").await;
                    }
                    editor.clear();
                    let _ = io.write_all(prompt.as_bytes()).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use core::net::Ipv4Addr;

    use super::*;

    fn feed<const N: usize>(e: &mut LineEditor<N>, bytes: &[u8]) -> Vec<Edit> {
        bytes.iter().map(|&b| e.push(b)).collect()
    }

    #[test]
    fn line_editing() {
        let mut e = LineEditor::<8>::new();
        assert_eq!(
            feed(&mut e, b"shx\x7f"),
            [
                Edit::Echo(b's'),
                Edit::Echo(b'h'),
                Edit::Echo(b'x'),
                Edit::Erase
            ]
        );
        assert_eq!(e.line(), "sh");
        // CR LF is one line end, not two.
        assert_eq!(feed(&mut e, b"\r\n"), [Edit::Line, Edit::Nothing]);
        e.clear();
        assert_eq!(
            feed(&mut e, b"\n"),
            [Edit::Line],
            "a bare LF ends a line too"
        );
        // Backspace on an empty line does nothing.
        assert_eq!(feed(&mut e, b"\x08"), [Edit::Nothing]);
        // Full line rings the bell and keeps what fits.
        let r = feed(&mut e, b"123456789");
        assert_eq!(r[8], Edit::Full);
        assert_eq!(e.line(), "12345678");
        assert_eq!(e.push(0x03), Edit::Interrupt);
        assert_eq!(e.line(), "");
    }

    #[test]
    fn escape_sequences_and_control_bytes_are_swallowed() {
        let mut e = LineEditor::<16>::new();
        // Up arrow, a NUL, a UTF-8 byte, then text.
        feed(&mut e, b"\x1b[A\x00\xc3ok");
        assert_eq!(e.line(), "ok");
        feed(&mut e, b"\x1bOx"); // ESC O x: SS3, the byte after ESC is eaten
        assert_eq!(e.line(), "okx");
    }

    #[test]
    fn parses_full_words_and_unique_prefixes() {
        assert_eq!(parse("show version"), Ok(Some(Command::ShowVersion)));
        assert_eq!(parse("  sh   ver  "), Ok(Some(Command::ShowVersion)));
        assert_eq!(parse("SHOW INTERFACES"), Ok(Some(Command::ShowInterfaces)));
        assert_eq!(parse("sh int"), Ok(Some(Command::ShowInterfaces)));
        assert_eq!(parse("help"), Ok(Some(Command::Help)));
        assert_eq!(parse(""), Ok(None));
        assert_eq!(parse("   "), Ok(None));
    }

    #[test]
    fn parse_errors_point_at_the_word() {
        assert_eq!(parse("show foo"), Err(ParseError::Invalid { column: 5 }));
        assert_eq!(parse("shw"), Err(ParseError::Invalid { column: 0 }));
        assert_eq!(
            parse("show version now"),
            Err(ParseError::Invalid { column: 13 })
        );
        assert_eq!(parse("show"), Err(ParseError::Incomplete));
    }

    #[test]
    fn ambiguous_prefixes_and_exact_words() {
        // The tree as it will be once the gateway adds `show vpn-sessiondb`.
        const SHOW: &[Node] = &[
            Node {
                word: "version",
                help: "",
                next: Next::Run(Command::ShowVersion),
            },
            Node {
                word: "vpn",
                help: "",
                next: Next::Run(Command::ShowInterfaces),
            },
            Node {
                word: "vpn-sessiondb",
                help: "",
                next: Next::Run(Command::Help),
            },
        ];
        const ROOT: &[Node] = &[Node {
            word: "show",
            help: "",
            next: Next::Sub(SHOW),
        }];
        assert_eq!(
            parse_in(ROOT, "show v"),
            Err(ParseError::Ambiguous { column: 5 })
        );
        assert_eq!(parse_in(ROOT, "show ve"), Ok(Some(Command::ShowVersion)));
        // An exact keyword wins over the longer one it prefixes.
        assert_eq!(
            parse_in(ROOT, "show vpn"),
            Ok(Some(Command::ShowInterfaces))
        );
        assert_eq!(parse_in(ROOT, "show vpn-s"), Ok(Some(Command::Help)));
        let mut out = String::new();
        write_error(&mut out, "show v", ParseError::Ambiguous { column: 5 }, 5).unwrap();
        assert_eq!(out, "ERROR: % Ambiguous command: \"v\"\n");
    }

    #[test]
    fn error_marker_sits_under_the_word() {
        let mut out = String::new();
        write_error(
            &mut out,
            "show foo",
            ParseError::Invalid { column: 5 },
            "lns# ".len(),
        )
        .unwrap();
        // "lns# show foo": the 'f' is at offset 10.
        assert_eq!(
            out,
            "          ^\nERROR: % Invalid input detected at '^' marker.\n"
        );
    }

    #[test]
    fn uptime_like_the_appliance() {
        let f = |s| {
            let mut o = String::new();
            write_uptime(&mut o, Duration::from_secs(s)).unwrap();
            o
        };
        assert_eq!(f(0), "0 secs");
        assert_eq!(f(1), "1 sec");
        assert_eq!(f(65), "1 min 5 secs");
        assert_eq!(f(3600), "1 hour 0 mins 0 secs");
        assert_eq!(f(90_061), "1 day 1 hour 1 min 1 sec");
    }

    fn view<'a>(board: &'a BoardInfo, net: &'a NetConfig, stats: &'a Stats) -> View<'a> {
        View {
            board,
            net,
            stats,
            link_up: true,
            mac: [0x52, 0x54, 0x00, 0x12, 0x34, 0x56],
            mtu: 1500,
            uptime: Duration::from_secs(75),
            engine: "test",
        }
    }

    const BOARD: BoardInfo = BoardInfo {
        name: "b",
        cpu: "c",
        ethernet: "e",
        rng: "r",
        console: "u",
        stack_peak: None,
        stack_mark: None,
    };
    const NET: NetConfig = NetConfig {
        hostname: "lns",
        nameif: "outside",
        address: Ipv4Addr::new(10, 0, 2, 15),
        prefix_len: 24,
        gateway: Some(Ipv4Addr::new(10, 0, 2, 2)),
    };

    #[test]
    fn show_interfaces_reports_the_counters() {
        let stats = Stats::new();
        stats.rx_frames.add(3);
        stats.rx_bytes.add(300);
        stats.ike_rx.inc();
        stats.esp_rx.add(2);
        stats.set_forward(&crate::app::forward::Counters {
            to_lan: 5,
            to_clients: 4,
            arp_requests: 1,
            no_arp: 2,
            ttl: 3,
            ..Default::default()
        });
        let mut out = String::new();
        execute(
            Command::ShowInterfaces,
            &view(&BOARD, &NET, &stats),
            &mut out,
        )
        .unwrap();
        assert!(
            out.starts_with("Interface Ethernet0 \"outside\", is up, line protocol is up\n"),
            "{out}"
        );
        assert!(
            out.contains("MAC address 5254.0012.3456, MTU 1500\n"),
            "{out}"
        );
        assert!(
            out.contains("IP address 10.0.2.15, subnet mask 255.255.255.0\n"),
            "{out}"
        );
        assert!(out.contains("Default gateway 10.0.2.2\n"), "{out}");
        assert!(out.contains("3 packets input, 300 bytes\n"), "{out}");
        assert!(out.contains("UDP 500 (IKE): 1 datagrams input\n"), "{out}");
        assert!(
            out.contains("IP protocol 50 (ESP): 2 packets input, 0 packets output\n"),
            "{out}"
        );
        assert!(
            out.contains("Forwarded: 5 packets to the LAN, 4 packets to clients, 1 ARP requests\n"),
            "{out}"
        );
        assert!(
            out.contains("Not forwarded: 0 no route, 2 no ARP answer, 3 TTL exceeded, 0 too big, 0 queue full, 0 malformed\n"),
            "{out}"
        );
    }

    #[test]
    fn show_version_and_help() {
        let stats = Stats::new();
        let mut out = String::new();
        execute(Command::ShowVersion, &view(&BOARD, &NET, &stats), &mut out).unwrap();
        assert!(out.starts_with(concat!(
            "l2tp-ipsec-lns firmware Version ",
            env!("CARGO_PKG_VERSION"),
            "\n"
        )));
        assert!(out.ends_with("lns up 1 min 15 secs\n"), "{out}");
        out.clear();
        execute(Command::Help, &view(&BOARD, &NET, &stats), &mut out).unwrap();
        assert!(out.contains("show version"), "{out}");
        assert!(out.contains("show interfaces"), "{out}");
    }

    #[test]
    fn output_that_does_not_fit_is_an_error_not_a_panic() {
        let stats = Stats::new();
        let mut small = heapless::String::<64>::new();
        assert!(
            execute(
                Command::ShowInterfaces,
                &view(&BOARD, &NET, &stats),
                &mut small
            )
            .is_err()
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_editor_or_the_parser() {
        // A fixed-seed xorshift stream of every byte value, including the
        // control and escape bytes, mostly in short lines.
        let mut state: u32 = 0x1234_5678;
        let mut e = LineEditor::<MAX_LINE>::new();
        let mut lines = 0;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let byte = if state.is_multiple_of(7) {
                b'\r'
            } else {
                state.to_le_bytes()[1]
            };
            if e.push(byte) == Edit::Line {
                let line = e.line().to_owned();
                match parse(&line) {
                    Ok(_) => {}
                    Err(error) => {
                        let mut out = String::new();
                        write_error(&mut out, &line, error, 5).unwrap();
                    }
                }
                e.clear();
                lines += 1;
            }
        }
        assert!(lines > 10_000);
    }
}
