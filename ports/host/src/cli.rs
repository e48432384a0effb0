//! The command line of `lns`. Bad arguments are an error message naming
//! the argument; `main` prints it with the usage and exits with status 2.

use ppp_core::AuthMethod;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

/// The usage text.
pub const USAGE: &str = "\
lns: an L2TP/IPsec VPN gateway (LNS) and client in user space

usage:
  lns serve [--config FILE] [--listen ADDR] [--tun NAME] [--inside ADDR]
            [--ctl PATH] [--pcap FILE] [--shutdown-timeout SECS]
            [--cert CHAIN.der --key KEY.der --ca CA.der...]   (rsa-sig)
  lns connect --server ADDR --psk KEY --user NAME --password PASSWORD
            [--auth mschapv2|mschapv1|chap|pap] [--tun NAME] [--route NET/LEN]...
            [--local ADDR] [--mtu N] [--timeout SECS] [--pcap FILE]
  lns simulate [--clients N] [--loss P] [--nat] [--seconds S] [--seed N] [--pcap FILE]
  lns check-config FILE
  lns ctl [--ctl PATH] COMMAND...      (e.g. lns ctl show vpn-sessiondb summary;
                                        lns ctl monitor streams debug lines)

options for every command: -v (more log), -q (less log); LNS_LOG=debug,esp_core=trace
--psk and --password may come from LNS_PSK and LNS_PASSWORD instead.
";

/// `lns serve`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeArgs {
    /// The configuration file (the appliance's syntax); `None`: the
    /// embedded default with generated secrets.
    pub config: Option<PathBuf>,
    /// The address the UDP sockets bind to.
    pub listen: Ipv4Addr,
    /// The TUN device name (`%d`: the kernel numbers it).
    pub tun: String,
    /// The gateway's inside address (on the TUN, and IPCP's local address).
    pub inside: Option<Ipv4Addr>,
    /// The control socket.
    pub ctl: Option<PathBuf>,
    /// `--pcap FILE`.
    pub pcap: Option<PathBuf>,
    /// How long SIGTERM/SIGINT waits for sessions to end.
    pub shutdown_timeout: Duration,
    /// `--cert FILE`: the gateway's certificate chain for `rsa-sig`
    /// policies (DER certificates concatenated, end-entity first).
    pub cert: Option<PathBuf>,
    /// `--key FILE`: its RSA private key (PKCS #1 or PKCS #8 DER).
    pub key: Option<PathBuf>,
    /// `--ca FILE` (repeatable): trust anchors for client certificates (DER).
    pub ca: Vec<PathBuf>,
}

/// `lns connect`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectArgs {
    /// The gateway.
    pub server: Ipv4Addr,
    /// The pre-shared key.
    pub psk: String,
    /// PPP user name.
    pub user: String,
    /// PPP password.
    pub password: String,
    /// Only this PPP authentication method (default: whichever the
    /// gateway asks for).
    pub auth: Option<AuthMethod>,
    /// The TUN device name.
    pub tun: String,
    /// Networks to route through the tunnel (besides the server's inside
    /// address).
    pub routes: Vec<(Ipv4Addr, u8)>,
    /// Our address towards the server (default: what the routing table
    /// picks).
    pub local: Option<Ipv4Addr>,
    /// The TUN MTU.
    pub mtu: u16,
    /// How long to wait for the connection to come up.
    pub timeout: Duration,
    /// `--pcap FILE`.
    pub pcap: Option<PathBuf>,
}

/// `lns simulate`.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulateArgs {
    /// Clients.
    pub clients: usize,
    /// Probability that a datagram is lost (each way).
    pub loss: f64,
    /// Every client behind one NAT.
    pub nat: bool,
    /// Wall-clock seconds of the throughput measurement.
    pub seconds: f64,
    /// Seed of the simulation's RNG.
    pub seed: u64,
    /// `--pcap FILE`.
    pub pcap: Option<PathBuf>,
}

impl Default for SimulateArgs {
    fn default() -> Self {
        Self {
            clients: 64,
            loss: 0.01,
            nat: false,
            seconds: 3.0,
            seed: 1,
            pcap: None,
        }
    }
}

/// A subcommand and its arguments.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `serve`.
    Serve(ServeArgs),
    /// `connect`.
    Connect(ConnectArgs),
    /// `simulate`.
    Simulate(SimulateArgs),
    /// `check-config FILE`.
    CheckConfig(PathBuf),
    /// `ctl [--ctl PATH] COMMAND...`.
    Ctl {
        /// The socket.
        ctl: Option<PathBuf>,
        /// The command line.
        line: String,
    },
    /// `help`, `-h`, `--help`.
    Help,
}

/// What the command line asked for, and how talkative to be.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// `-v` minus `-q`.
    pub verbosity: i8,
    /// The subcommand.
    pub command: Command,
}

struct Args {
    items: Vec<String>,
    at: usize,
}

impl Args {
    fn next(&mut self) -> Option<String> {
        let a = self.items.get(self.at).cloned();
        self.at += 1;
        a
    }

    /// The value of `flag`, from `--flag VALUE` or `--flag=VALUE`.
    fn value(&mut self, flag: &str, inline: Option<String>) -> Result<String, String> {
        inline
            .or_else(|| self.next())
            .ok_or_else(|| format!("{flag} needs a value"))
    }
}

fn parsed<T: std::str::FromStr>(flag: &str, v: &str, what: &str) -> Result<T, String> {
    v.parse().map_err(|_| format!("{flag} {v}: not {what}"))
}

fn seconds(flag: &str, v: &str) -> Result<Duration, String> {
    let s: f64 = parsed(flag, v, "a number of seconds")?;
    if !(s.is_finite() && (0.0..1e9).contains(&s)) {
        return Err(format!("{flag} {v}: not a number of seconds"));
    }
    Ok(Duration::from_secs_f64(s))
}

/// `NET/LEN`, e.g. `10.77.0.0/24`.
pub fn parse_cidr(s: &str) -> Option<(Ipv4Addr, u8)> {
    let (a, l) = s.split_once('/').unwrap_or((s, "32"));
    let len: u8 = l.parse().ok().filter(|&l| l <= 32)?;
    Some((a.parse().ok()?, len))
}

/// The netmask of a prefix length.
pub fn mask_of(len: u8) -> Ipv4Addr {
    Ipv4Addr::from(
        u32::MAX
            .checked_shl(32 - u32::from(len.min(32)))
            .unwrap_or(0),
    )
}

fn auth_method(v: &str) -> Result<AuthMethod, String> {
    match v.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
        "mschapv2" => Ok(AuthMethod::MsChapV2),
        "mschapv1" | "mschap" => Ok(AuthMethod::MsChapV1),
        "chap" | "chapmd5" => Ok(AuthMethod::ChapMd5),
        "pap" => Ok(AuthMethod::Pap),
        _ => Err(format!(
            "--auth {v}: not one of mschapv2, mschapv1, chap, pap"
        )),
    }
}

/// Parses the arguments after the program name.
///
/// # Errors
/// A message naming the argument that is wrong.
pub fn parse(items: Vec<String>) -> Result<Invocation, String> {
    let mut args = Args { items, at: 0 };
    let mut verbosity: i8 = 0;
    let mut command: Option<String> = None;
    let mut rest = Vec::new();
    // Global flags may stand anywhere; everything else is the command's.
    while let Some(a) = args.next() {
        match a.as_str() {
            "-v" | "--verbose" => verbosity = verbosity.saturating_add(1),
            "-vv" => verbosity = verbosity.saturating_add(2),
            "-q" | "--quiet" => verbosity = verbosity.saturating_sub(1),
            "-h" | "--help" | "help" if command.is_none() => {
                return Ok(Invocation {
                    verbosity,
                    command: Command::Help,
                });
            }
            _ if command.is_none() && !a.starts_with('-') => command = Some(a),
            _ => rest.push(a),
        }
    }
    let mut args = Args { items: rest, at: 0 };
    let command = match command.as_deref() {
        Some("serve") => Command::Serve(serve(&mut args)?),
        Some("connect") => Command::Connect(connect(&mut args)?),
        Some("simulate") => Command::Simulate(simulate(&mut args)?),
        Some("check-config") => {
            let file = args.next().ok_or("check-config needs a FILE")?;
            if let Some(extra) = args.next() {
                return Err(format!("check-config: unexpected argument {extra}"));
            }
            Command::CheckConfig(PathBuf::from(file))
        }
        Some("ctl") => {
            let mut ctl = None;
            let mut words = Vec::new();
            while let Some(a) = args.next() {
                let (flag, inline) = split_flag(&a);
                if flag == "--ctl" && words.is_empty() {
                    ctl = Some(PathBuf::from(args.value("--ctl", inline)?));
                } else {
                    words.push(a);
                }
            }
            if words.is_empty() {
                return Err(
                    "ctl needs a COMMAND, e.g. `lns ctl show vpn-sessiondb summary`".into(),
                );
            }
            Command::Ctl {
                ctl,
                line: words.join(" "),
            }
        }
        Some(other) => return Err(format!("unknown command {other}")),
        None => return Err("a command is needed".into()),
    };
    Ok(Invocation { verbosity, command })
}

fn split_flag(a: &str) -> (&str, Option<String>) {
    match a.split_once('=') {
        Some((f, v)) if a.starts_with("--") => (f, Some(v.to_string())),
        _ => (a, None),
    }
}

fn serve(args: &mut Args) -> Result<ServeArgs, String> {
    let mut s = ServeArgs {
        config: None,
        listen: Ipv4Addr::UNSPECIFIED,
        tun: "lns%d".into(),
        inside: None,
        ctl: None,
        pcap: None,
        shutdown_timeout: Duration::from_secs(10),
        cert: None,
        key: None,
        ca: Vec::new(),
    };
    while let Some(a) = args.next() {
        let (flag, inline) = split_flag(&a);
        match flag {
            "--config" => s.config = Some(args.value(flag, inline)?.into()),
            "--listen" => s.listen = parsed(flag, &args.value(flag, inline)?, "an IPv4 address")?,
            "--tun" => s.tun = args.value(flag, inline)?,
            "--inside" => {
                s.inside = Some(parsed(flag, &args.value(flag, inline)?, "an IPv4 address")?);
            }
            "--ctl" => s.ctl = Some(args.value(flag, inline)?.into()),
            "--pcap" => s.pcap = Some(args.value(flag, inline)?.into()),
            "--shutdown-timeout" => s.shutdown_timeout = seconds(flag, &args.value(flag, inline)?)?,
            "--cert" => s.cert = Some(args.value(flag, inline)?.into()),
            "--key" => s.key = Some(args.value(flag, inline)?.into()),
            "--ca" => s.ca.push(args.value(flag, inline)?.into()),
            _ => return Err(format!("serve: unknown argument {a}")),
        }
    }
    if s.cert.is_some() != s.key.is_some() || (s.cert.is_some() && s.ca.is_empty()) {
        return Err("serve: --cert, --key and --ca go together".into());
    }
    Ok(s)
}

fn connect(args: &mut Args) -> Result<ConnectArgs, String> {
    let mut server = None;
    let mut psk = std::env::var("LNS_PSK").ok();
    let mut user = None;
    let mut password = std::env::var("LNS_PASSWORD").ok();
    let mut c = ConnectArgs {
        server: Ipv4Addr::UNSPECIFIED,
        psk: String::new(),
        user: String::new(),
        password: String::new(),
        auth: None,
        tun: "lnsc%d".into(),
        routes: Vec::new(),
        local: None,
        mtu: 1400,
        timeout: Duration::from_secs(60),
        pcap: None,
    };
    while let Some(a) = args.next() {
        let (flag, inline) = split_flag(&a);
        match flag {
            "--server" => {
                server = Some(parsed(flag, &args.value(flag, inline)?, "an IPv4 address")?);
            }
            "--psk" => psk = Some(args.value(flag, inline)?),
            "--user" => user = Some(args.value(flag, inline)?),
            "--password" => password = Some(args.value(flag, inline)?),
            "--auth" => c.auth = Some(auth_method(&args.value(flag, inline)?)?),
            "--tun" => c.tun = args.value(flag, inline)?,
            "--route" => {
                let v = args.value(flag, inline)?;
                c.routes
                    .push(parse_cidr(&v).ok_or_else(|| format!("--route {v}: not NET/LEN"))?);
            }
            "--local" => {
                c.local = Some(parsed(flag, &args.value(flag, inline)?, "an IPv4 address")?);
            }
            "--mtu" => {
                let v = args.value(flag, inline)?;
                c.mtu = parsed(flag, &v, "an MTU")?;
                if !(576..=1500).contains(&c.mtu) {
                    return Err(format!("--mtu {v}: not in 576..=1500"));
                }
            }
            "--timeout" => c.timeout = seconds(flag, &args.value(flag, inline)?)?,
            "--pcap" => c.pcap = Some(args.value(flag, inline)?.into()),
            _ => return Err(format!("connect: unknown argument {a}")),
        }
    }
    c.server = server.ok_or("connect needs --server ADDR")?;
    c.psk = psk.ok_or("connect needs --psk KEY (or LNS_PSK)")?;
    c.user = user.ok_or("connect needs --user NAME")?;
    c.password = password.ok_or("connect needs --password PASSWORD (or LNS_PASSWORD)")?;
    Ok(c)
}

fn simulate(args: &mut Args) -> Result<SimulateArgs, String> {
    let mut s = SimulateArgs::default();
    while let Some(a) = args.next() {
        let (flag, inline) = split_flag(&a);
        match flag {
            "--clients" => {
                let v = args.value(flag, inline)?;
                s.clients = parsed(flag, &v, "a number of clients")?;
                if !(1..=crate::sim::MAX_CLIENTS).contains(&s.clients) {
                    return Err(format!(
                        "--clients {v}: not in 1..={}",
                        crate::sim::MAX_CLIENTS
                    ));
                }
            }
            "--loss" => {
                let v = args.value(flag, inline)?;
                s.loss = parsed(flag, &v, "a probability")?;
                if !(0.0..=0.5).contains(&s.loss) {
                    return Err(format!("--loss {v}: not in 0..=0.5"));
                }
            }
            "--nat" => s.nat = true,
            "--seconds" => {
                let v = args.value(flag, inline)?;
                s.seconds = seconds(flag, &v)?.as_secs_f64();
                if s.seconds > 3600.0 {
                    return Err(format!("--seconds {v}: at most 3600"));
                }
            }
            "--seed" => s.seed = parsed(flag, &args.value(flag, inline)?, "a number")?,
            "--pcap" => s.pcap = Some(args.value(flag, inline)?.into()),
            _ => return Err(format!("simulate: unknown argument {a}")),
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Invocation, String> {
        parse(s.split_whitespace().map(String::from).collect())
    }

    #[test]
    fn subcommands_and_their_flags() {
        let i = p("-v serve --config a.cfg --listen=192.0.2.1 --pcap x.pcap -q").unwrap();
        assert_eq!(i.verbosity, 0);
        let Command::Serve(s) = i.command else {
            panic!()
        };
        assert_eq!(s.config, Some(PathBuf::from("a.cfg")));
        assert_eq!(s.listen, Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(s.pcap, Some(PathBuf::from("x.pcap")));

        let Command::Connect(c) = p("connect --server 192.0.2.1 --psk k --user u --password pw --auth pap --route 10.0.0.0/8")
            .unwrap()
            .command
        else {
            panic!()
        };
        assert_eq!(c.auth, Some(AuthMethod::Pap));
        assert_eq!(c.routes, [(Ipv4Addr::new(10, 0, 0, 0), 8)]);

        let Command::Simulate(s) = p("simulate --clients 10 --loss 0.05 --nat --seconds 1")
            .unwrap()
            .command
        else {
            panic!()
        };
        assert_eq!((s.clients, s.loss, s.nat, s.seconds), (10, 0.05, true, 1.0));

        assert_eq!(
            p("ctl --ctl /tmp/s show vpn-sessiondb summary")
                .unwrap()
                .command,
            Command::Ctl {
                ctl: Some("/tmp/s".into()),
                line: "show vpn-sessiondb summary".into()
            }
        );
        assert_eq!(
            p("check-config f").unwrap().command,
            Command::CheckConfig("f".into())
        );
        assert_eq!(p("--help").unwrap().command, Command::Help);
    }

    #[test]
    fn bad_arguments_say_which() {
        for (line, says) in [
            ("", "a command is needed"),
            ("frobnicate", "unknown command frobnicate"),
            ("serve --listen nowhere", "--listen nowhere"),
            ("serve --bogus", "--bogus"),
            ("serve --config", "--config needs a value"),
            (
                "serve --cert c.der --ca ca.der",
                "--cert, --key and --ca go together",
            ),
            (
                "serve --cert c.der --key k.der",
                "--cert, --key and --ca go together",
            ),
            ("connect --psk k --user u --password p", "--server"),
            (
                "connect --server 192.0.2.1 --psk k --user u --password p --auth ntlm",
                "--auth ntlm",
            ),
            ("simulate --clients 0", "--clients 0"),
            ("simulate --loss 2", "--loss 2"),
            ("ctl", "ctl needs a COMMAND"),
            ("check-config", "check-config needs a FILE"),
        ] {
            let e = p(line).unwrap_err();
            assert!(e.contains(says), "{line:?}: {e}");
        }
    }

    #[test]
    fn prefixes_and_masks() {
        assert_eq!(
            parse_cidr("10.1.0.0/16"),
            Some((Ipv4Addr::new(10, 1, 0, 0), 16))
        );
        assert_eq!(
            parse_cidr("192.0.2.7"),
            Some((Ipv4Addr::new(192, 0, 2, 7), 32))
        );
        assert_eq!(parse_cidr("10.0.0.0/33"), None);
        assert_eq!(mask_of(24), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(mask_of(0), Ipv4Addr::UNSPECIFIED);
        assert_eq!(mask_of(32), Ipv4Addr::BROADCAST);
    }
}
