//! The configuration parser.
//!
//! Input is the appliance's configuration text: either `show running-config`
//! output (sub-commands indented under the command that opens their mode) or
//! a CLI transcript with prompts (`hostname(config-tunnel-general)# ...`),
//! as the chapter writes its steps. A non-indented line while a mode is open
//! is taken as a sub-command when the mode knows its first word, as the
//! appliance's CLI does; otherwise it is a global command and closes the mode.
//!
//! Commands outside the feature (`interface`, `hostname`, `access-list`, ...)
//! and the known sub-commands this gateway does not act on are skipped and
//! reported through [`Notice::Ignored`], so a whole configuration can be
//! pasted. A bad form of a command this language owns is a [`ConfigError`]
//! naming the line, and parsing stops there.

use core::net::Ipv4Addr;
use core::str::SplitAsciiWhitespace;

use super::error::{ConfigError, Context, ErrorKind, ModeKind, Snippet};
use super::*;
use crate::secret::{AsaMd5Hash, MAX_PASSWORD_LEN, NtHash, PreSharedKey, RadiusKey};

/// Something the parser reports that is not an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice<'a> {
    /// A command or sub-command outside this feature, skipped.
    Ignored {
        /// 1-based line number.
        line: u32,
        /// The line, without indentation or prompt.
        text: &'a str,
    },
}

impl Config {
    /// Parses a configuration, starting from the appliance's defaults.
    ///
    /// # Errors
    /// The first line that is wrong, as a [`ConfigError`].
    pub fn parse(text: &str) -> core::result::Result<Config, ConfigError> {
        Config::parse_with(text, |_| {})
    }

    /// [`Config::parse`], reporting skipped lines to `notice`.
    ///
    /// # Errors
    /// The first line that is wrong, as a [`ConfigError`].
    pub fn parse_with(
        text: &str,
        notice: impl FnMut(Notice<'_>),
    ) -> core::result::Result<Config, ConfigError> {
        let mut config = Config::default();
        config.load(text, notice)?;
        Ok(config)
    }

    /// Replaces `self` with the configuration in `text`, in place (the model
    /// is large; firmware keeps it in a static). On error `self` is the
    /// default configuration.
    ///
    /// # Errors
    /// The first line that is wrong, as a [`ConfigError`].
    pub fn load(
        &mut self,
        text: &str,
        mut notice: impl FnMut(Notice<'_>),
    ) -> core::result::Result<(), ConfigError> {
        self.reset();
        let mut parser = Parser {
            cfg: self,
            mode: Mode::Global,
            notice: &mut notice,
        };
        let result = parser.run(text);
        if result.is_err() {
            self.reset();
        }
        result
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Global,
    /// Under a command that was skipped: its sub-commands are skipped too.
    Ignored,
    GroupPolicy(usize),
    TunnelGeneral(usize),
    TunnelIpsec(usize),
    TunnelPpp(usize),
    Username(usize),
    /// By priority: the policy list is kept sorted, so indices move.
    IsakmpPolicy(u16),
    AaaGroup(usize),
    AaaHost(usize, usize),
}

type Result<T> = core::result::Result<T, ConfigError>;

struct Parser<'c, 'n> {
    cfg: &'c mut Config,
    mode: Mode,
    notice: &'n mut dyn FnMut(Notice<'_>),
}

/// One line being parsed: its number, context and remaining tokens.
struct Line<'a> {
    no: u32,
    text: &'a str,
    toks: SplitAsciiWhitespace<'a>,
    ctx: Context,
}

fn kw(tok: &str, keyword: &str) -> bool {
    tok.eq_ignore_ascii_case(keyword)
}

impl<'a> Line<'a> {
    fn new(no: u32, text: &'a str) -> Self {
        Line {
            no,
            text,
            toks: text.split_ascii_whitespace(),
            ctx: Context::Command(""),
        }
    }

    fn err(&self, kind: ErrorKind, token: &str) -> ConfigError {
        ConfigError {
            line: self.no,
            context: self.ctx,
            kind,
            token: Snippet::new(token),
        }
    }

    fn next(&mut self) -> Option<&'a str> {
        self.toks.next()
    }

    fn req(&mut self, expected: &'static str) -> Result<&'a str> {
        self.toks
            .next()
            .ok_or_else(|| self.err(ErrorKind::MissingArgument { expected }, ""))
    }

    fn end(&mut self) -> Result<()> {
        match self.toks.next() {
            None => Ok(()),
            Some(t) => Err(self.err(ErrorKind::TrailingArgument, t)),
        }
    }

    fn name(&self, tok: &str) -> Result<Name> {
        // `(inside)` is an interface argument wherever a name may follow.
        if tok.starts_with('(') {
            return Err(self.err(
                ErrorKind::UnknownKeyword {
                    expected: "a name (not starting with '(')",
                },
                tok,
            ));
        }
        let mut n = Name::new();
        n.push_str(tok).map_err(|_| {
            self.err(
                ErrorKind::NameTooLong {
                    max: u16::try_from(NAME_LEN).unwrap_or(u16::MAX),
                },
                tok,
            )
        })?;
        Ok(n)
    }

    fn req_name(&mut self, expected: &'static str) -> Result<Name> {
        let t = self.req(expected)?;
        self.name(t)
    }

    fn num(&self, tok: &str, min: u32, max: u32) -> Result<u32> {
        if tok.is_empty() || tok.len() > 10 || !tok.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.err(ErrorKind::InvalidNumber, tok));
        }
        let v: u64 = tok
            .parse()
            .map_err(|_| self.err(ErrorKind::InvalidNumber, tok))?;
        if v < u64::from(min) || v > u64::from(max) {
            return Err(self.err(ErrorKind::OutOfRange { min, max }, tok));
        }
        u32::try_from(v).map_err(|_| self.err(ErrorKind::OutOfRange { min, max }, tok))
    }

    fn req_num(&mut self, expected: &'static str, min: u32, max: u32) -> Result<u32> {
        let t = self.req(expected)?;
        self.num(t, min, max)
    }

    fn req_u16(&mut self, expected: &'static str, min: u16, max: u16) -> Result<u16> {
        let t = self.req(expected)?;
        self.num_u16(t, min, max)
    }

    fn num_u16(&self, tok: &str, min: u16, max: u16) -> Result<u16> {
        let v = self.num(tok, u32::from(min), u32::from(max))?;
        u16::try_from(v).map_err(|_| {
            self.err(
                ErrorKind::OutOfRange {
                    min: u32::from(min),
                    max: u32::from(max),
                },
                tok,
            )
        })
    }

    fn addr(&self, tok: &str) -> Result<Ipv4Addr> {
        tok.parse::<Ipv4Addr>()
            .map_err(|_| self.err(ErrorKind::InvalidAddress, tok))
    }

    fn req_addr(&mut self, expected: &'static str) -> Result<Ipv4Addr> {
        let t = self.req(expected)?;
        self.addr(t)
    }

    fn mask(&self, tok: &str) -> Result<Ipv4Addr> {
        let m = self.addr(tok)?;
        let v = u32::from(m);
        if v.leading_ones() + v.trailing_zeros() != 32 {
            return Err(self.err(ErrorKind::InvalidMask, tok));
        }
        Ok(m)
    }

    fn keyword<T: Copy>(
        &self,
        tok: &str,
        table: &[(&str, T)],
        expected: &'static str,
    ) -> Result<T> {
        table
            .iter()
            .find(|(k, _)| kw(tok, k))
            .map(|(_, v)| *v)
            .ok_or_else(|| self.err(ErrorKind::UnknownKeyword { expected }, tok))
    }

    fn req_keyword<T: Copy>(&mut self, table: &[(&str, T)], expected: &'static str) -> Result<T> {
        let t = self.req(expected)?;
        self.keyword(t, table, expected)
    }

    fn secret<const N: usize>(&self, tok: &str) -> Result<Secret<N>> {
        if tok.bytes().all(|b| b == b'*') {
            return Err(self.err(ErrorKind::MaskedSecret, ""));
        }
        Secret::new(tok.as_bytes()).ok_or_else(|| {
            self.err(
                ErrorKind::SecretTooLong {
                    max: N.try_into().unwrap_or(u16::MAX),
                },
                "",
            )
        })
    }
}

use crate::secret::Secret;

fn too_many(line: &Line<'_>, what: &'static str, max: usize, tok: &str) -> ConfigError {
    line.err(
        ErrorKind::TooMany {
            what,
            max: max.try_into().unwrap_or(u16::MAX),
        },
        tok,
    )
}

const ENCRYPTIONS: &[(&str, EspEncryption)] = &[
    ("esp-3des", EspEncryption::TripleDes),
    ("esp-aes", EspEncryption::Aes128),
    ("esp-aes-192", EspEncryption::Aes192),
    ("esp-aes-256", EspEncryption::Aes256),
    ("esp-des", EspEncryption::Des),
    ("esp-null", EspEncryption::Null),
];
const ENCRYPTIONS_EXPECTED: &str =
    "an ESP encryption (esp-3des, esp-aes, esp-aes-192, esp-aes-256, esp-des, esp-null)";
const INTEGRITIES: &[(&str, EspIntegrity)] = &[
    ("esp-md5-hmac", EspIntegrity::Md5),
    ("esp-sha-hmac", EspIntegrity::Sha1),
    ("esp-sha256-hmac", EspIntegrity::Sha256),
    ("esp-none", EspIntegrity::None),
];
const INTEGRITIES_EXPECTED: &str =
    "an ESP integrity (esp-md5-hmac, esp-sha-hmac, esp-sha256-hmac, esp-none)";
const PFS_GROUPS: &[(&str, DhGroup)] = &[
    ("group1", DhGroup::Group1),
    ("group2", DhGroup::Group2),
    ("group5", DhGroup::Group5),
    ("group14", DhGroup::Group14),
    ("group19", DhGroup::Group19),
    ("group20", DhGroup::Group20),
];
const PROTOCOLS: &[(&str, TunnelProtocol)] = &[
    ("ipsec", TunnelProtocol::Ipsec),
    ("ikev1", TunnelProtocol::Ipsec),
    ("l2tp-ipsec", TunnelProtocol::L2tpIpsec),
    ("webvpn", TunnelProtocol::Webvpn),
    ("ssl-clientless", TunnelProtocol::Webvpn),
    ("svc", TunnelProtocol::Svc),
    ("ssl-client", TunnelProtocol::Svc),
    ("ikev2", TunnelProtocol::Ikev2),
];
const PROTOCOLS_EXPECTED: &str = "a tunnel protocol (IPSec, l2tp-ipsec, webvpn, svc, ikev2)";
const PPP_AUTHS: &[(&str, PppAuth)] = &[
    ("pap", PppAuth::Pap),
    ("chap", PppAuth::Chap),
    ("ms-chap-v1", PppAuth::MsChapV1),
    ("ms-chap-v2", PppAuth::MsChapV2),
    ("eap-proxy", PppAuth::EapProxy),
];
const PPP_AUTHS_EXPECTED: &str = "pap, chap, ms-chap-v1, ms-chap-v2 or eap-proxy";

/// Sub-commands of each mode that this gateway acts on.
const GROUP_POLICY_ATTRS: &[&str] = &[
    "dns-server",
    "dns",
    "wins-server",
    "vpn-tunnel-protocol",
    "vpn-idle-timeout",
    "vpn-session-timeout",
    "vpn-simultaneous-logins",
    "address-pools",
];
/// Sub-commands the appliance has in each mode that do not concern this
/// feature: skipped with a notice.
const GROUP_POLICY_IGNORED: &[&str] = &[
    "banner",
    "split-tunnel-policy",
    "split-tunnel-network-list",
    "split-dns",
    "default-domain",
    "vpn-filter",
    "vpn-access-hours",
    "ipsec-udp",
    "ipsec-udp-port",
    "password-storage",
    "re-xauth",
    "group-lock",
    "pfs",
    "ip-comp",
    "client-firewall",
    "backup-servers",
    "msie-proxy",
    "webvpn",
    "anyconnect",
    "intercept-dhcp",
    "nac-settings",
    "dhcp-network-scope",
    "ipv6-address-pools",
    "client-access-rule",
    "secure-unit-authentication",
    "user-authentication",
    "user-authentication-idle-timeout",
    "ip-phone-bypass",
    "leap-bypass",
    "nem",
    "vlan",
    "description",
];
const TUNNEL_GENERAL_ATTRS: &[&str] = &[
    "address-pool",
    "authentication-server-group",
    "accounting-server-group",
    "default-group-policy",
    "group-policy",
    "strip-group",
    "strip-realm",
    "no",
];
const TUNNEL_GENERAL_IGNORED: &[&str] = &[
    "authorization-server-group",
    "authorization-required",
    "authorization-dn-attributes",
    "dhcp-server",
    "password-management",
    "override-account-disable",
    "username-from-certificate",
    "secondary-authentication-server-group",
    "secondary-username-from-certificate",
    "nat-assigned-to-public-ip",
    "scep-enrollment",
    "ipv6-address-pool",
];
const TUNNEL_IPSEC_ATTRS: &[&str] = &["pre-shared-key", "ikev1", "trust-point", "isakmp"];
const TUNNEL_IPSEC_IGNORED: &[&str] = &[
    "peer-id-validate",
    "chain",
    "radius-sdi-xauth",
    "client-update",
    "ikev2",
    "remote-authentication",
    "local-authentication",
];
const TUNNEL_PPP_ATTRS: &[&str] = &["authentication", "no"];
const USER_ATTRS: &[&str] = &[
    "vpn-tunnel-protocol",
    "vpn-group-policy",
    "vpn-framed-ip-address",
    "group-lock",
    "vpn-idle-timeout",
    "vpn-session-timeout",
    "vpn-simultaneous-logins",
];
const USER_IGNORED: &[&str] = &[
    "service-type",
    "password-storage",
    "vpn-filter",
    "vpn-access-hours",
    "memberof",
    "email",
    "ssh",
    "webvpn",
    "anyconnect",
    "vpn-framed-ipv6-address",
    "description",
];
const ISAKMP_POLICY_ATTRS: &[&str] = &["authentication", "encryption", "hash", "group", "lifetime"];
const AAA_GROUP_IGNORED: &[&str] = &[
    "accounting-mode",
    "max-failed-attempts",
    "reactivation-mode",
    "dynamic-authorization",
    "merge-dacl",
    "ad-agent-mode",
    "sso",
    "authorize-only",
];
const AAA_HOST_ATTRS: &[&str] = &[
    "key",
    "authentication-port",
    "accounting-port",
    "timeout",
    "retry-interval",
];
const AAA_HOST_IGNORED: &[&str] = &[
    "radius-common-pw",
    "acl-netmask-convert",
    "nt-auth-domain-controller",
];
const CRYPTO_ISAKMP_IGNORED: &[&str] = &[
    "am-disable",
    "ipsec-over-tcp",
    "disconnect-notify",
    "reload-wait",
    "limit",
    "fragmentation",
    "remote-access",
    "invalid-spi-recovery",
];
const CRYPTO_IPSEC_IGNORED: &[&str] = &[
    "df-bit",
    "fragmentation",
    "ikev2",
    "profile",
    "inner-routing-lookup",
];

/// The first words of the global commands this language owns.
const GLOBAL_HEADS: &[&str] = &[
    "ip",
    "crypto",
    "group-policy",
    "tunnel-group",
    "username",
    "aaa-server",
    "l2tp",
    "group-delimiter",
];

fn in_list(list: &[&str], tok: &str) -> bool {
    list.iter().any(|k| kw(tok, k))
}

/// Splits a CLI prompt off a line: `asa1(config-tunnel-general)# strip-group`
/// gives `(Some(true), "strip-group")`; `hostname(config)# x` gives
/// `(Some(false), "x")`; a line without prompt gives `(None, line)`.
fn strip_prompt(line: &str) -> (Option<bool>, &str) {
    let trimmed = line.trim_start();
    if let Some(hash) = trimmed.find('#') {
        let prompt = &trimmed[..hash];
        if prompt.ends_with(')')
            && prompt.contains("(config")
            && !prompt.bytes().any(|b| b.is_ascii_whitespace())
        {
            return (Some(prompt.contains("(config-")), &trimmed[hash + 1..]);
        }
    }
    (None, line)
}

impl Parser<'_, '_> {
    fn run(&mut self, text: &str) -> Result<()> {
        for (i, raw) in text.split('\n').enumerate() {
            let no = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            let (prompt, body) = strip_prompt(raw);
            let trimmed = body.trim();
            if trimmed.is_empty() || trimmed.starts_with('!') || trimmed.starts_with(':') {
                continue;
            }
            let indented = match prompt {
                Some(sub) => sub,
                None => body.starts_with(|c: char| c.is_whitespace()),
            };
            let mut line = Line::new(no, trimmed);
            let first = trimmed.split_ascii_whitespace().next().unwrap_or("");
            if kw(first, "exit") || kw(first, "end") {
                self.mode = Mode::Global;
                continue;
            }
            // `group-policy` is both a global command and (the chapter's
            // spelling of `default-group-policy`) a tunnel-group attribute:
            // without indentation or a prompt, a global command head wins.
            let sub = indented
                || (self.mode != Mode::Global
                    && self.mode_knows(first)
                    && !in_list(GLOBAL_HEADS, first));
            if sub {
                self.sub_command(&mut line)?;
            } else {
                self.mode = Mode::Global;
                self.global(&mut line)?;
            }
        }
        Ok(())
    }

    fn ignore(&mut self, line: &Line<'_>) {
        (self.notice)(Notice::Ignored {
            line: line.no,
            text: line.text,
        });
    }

    /// `true` if the open mode has a sub-command starting with `word`.
    fn mode_knows(&self, word: &str) -> bool {
        match self.mode {
            Mode::Global | Mode::Ignored => false,
            Mode::GroupPolicy(_) => {
                in_list(GROUP_POLICY_ATTRS, word) || in_list(GROUP_POLICY_IGNORED, word)
            }
            Mode::TunnelGeneral(_) => {
                in_list(TUNNEL_GENERAL_ATTRS, word) || in_list(TUNNEL_GENERAL_IGNORED, word)
            }
            Mode::TunnelIpsec(_) => {
                in_list(TUNNEL_IPSEC_ATTRS, word) || in_list(TUNNEL_IPSEC_IGNORED, word)
            }
            Mode::TunnelPpp(_) => in_list(TUNNEL_PPP_ATTRS, word),
            Mode::Username(_) => in_list(USER_ATTRS, word) || in_list(USER_IGNORED, word),
            Mode::IsakmpPolicy(_) => in_list(ISAKMP_POLICY_ATTRS, word),
            Mode::AaaGroup(_) => {
                kw(word, "interim-accounting-update") || in_list(AAA_GROUP_IGNORED, word)
            }
            Mode::AaaHost(..) => in_list(AAA_HOST_ATTRS, word) || in_list(AAA_HOST_IGNORED, word),
        }
    }

    fn sub_command(&mut self, line: &mut Line<'_>) -> Result<()> {
        let mode = self.mode;
        match mode {
            Mode::Global => {
                line.ctx = Context::Command("configuration");
                let first = line.next().unwrap_or("");
                Err(line.err(ErrorKind::NotInMode, first))
            }
            Mode::Ignored => {
                self.ignore(line);
                Ok(())
            }
            Mode::GroupPolicy(i) => {
                line.ctx = self.mode_ctx(ModeKind::GroupPolicy, &self.cfg.group_policies[i].name);
                self.group_policy_attr(line, i)
            }
            Mode::TunnelGeneral(i) => {
                line.ctx = self.mode_ctx(ModeKind::TunnelGeneral, &self.cfg.tunnel_groups[i].name);
                self.tunnel_general_attr(line, i)
            }
            Mode::TunnelIpsec(i) => {
                line.ctx = self.mode_ctx(ModeKind::TunnelIpsec, &self.cfg.tunnel_groups[i].name);
                self.tunnel_ipsec_attr(line, i)
            }
            Mode::TunnelPpp(i) => {
                line.ctx = self.mode_ctx(ModeKind::TunnelPpp, &self.cfg.tunnel_groups[i].name);
                self.tunnel_ppp_attr(line, i)
            }
            Mode::Username(i) => {
                line.ctx = self.mode_ctx(ModeKind::Username, &self.cfg.users[i].name);
                self.user_attr(line, i)
            }
            Mode::IsakmpPolicy(prio) => {
                let mut n: String<5> = String::new();
                let _ = core::fmt::write(&mut n, format_args!("{prio}"));
                line.ctx = self.mode_ctx(ModeKind::IsakmpPolicy, &n);
                let attr = line.req("an ISAKMP policy attribute")?;
                self.isakmp_policy_attr(line, prio, attr)
            }
            Mode::AaaGroup(g) => {
                line.ctx = self.mode_ctx(ModeKind::AaaGroup, &self.cfg.aaa_groups[g].name);
                let attr = line.req("an aaa-server group attribute")?;
                if kw(attr, "interim-accounting-update") {
                    let update = match line.next() {
                        None => InterimUpdate::AddressChange,
                        Some(t) if kw(t, "periodic") => {
                            let hours = match line.next() {
                                None => 24,
                                Some(h) => line.num(h, 1, 120)?,
                            };
                            InterimUpdate::Periodic {
                                hours: u8::try_from(hours).unwrap_or(24),
                            }
                        }
                        Some(t) => {
                            return Err(line.err(
                                ErrorKind::UnknownKeyword {
                                    expected: "periodic",
                                },
                                t,
                            ));
                        }
                    };
                    line.end()?;
                    self.cfg.aaa_groups[g].interim_update = Some(update);
                    Ok(())
                } else if in_list(AAA_GROUP_IGNORED, attr) {
                    self.ignore(line);
                    Ok(())
                } else {
                    Err(line.err(ErrorKind::UnknownAttribute, attr))
                }
            }
            Mode::AaaHost(g, h) => {
                let mut n: String<15> = String::new();
                let _ = core::fmt::write(
                    &mut n,
                    format_args!("{}", self.cfg.aaa_groups[g].hosts[h].address),
                );
                line.ctx = self.mode_ctx(ModeKind::AaaHost, &n);
                self.aaa_host_attr(line, g, h)
            }
        }
    }

    fn mode_ctx(&self, mode: ModeKind, name: &str) -> Context {
        Context::Mode {
            mode,
            name: Snippet::new(name),
        }
    }

    fn global(&mut self, line: &mut Line<'_>) -> Result<()> {
        let first = line.next().unwrap_or("");
        if kw(first, "ip") {
            let mut look = line.toks.clone();
            if look.next().is_some_and(|t| kw(t, "local"))
                && look.next().is_some_and(|t| kw(t, "pool"))
            {
                line.toks = look;
                line.ctx = Context::Command("ip local pool");
                return self.pool(line);
            }
        } else if kw(first, "crypto") {
            return self.crypto(line);
        } else if kw(first, "group-policy") {
            line.ctx = Context::Command("group-policy");
            return self.group_policy(line);
        } else if kw(first, "tunnel-group") {
            line.ctx = Context::Command("tunnel-group");
            return self.tunnel_group(line);
        } else if kw(first, "username") {
            line.ctx = Context::Command("username");
            return self.username(line);
        } else if kw(first, "aaa-server") {
            line.ctx = Context::Command("aaa-server");
            return self.aaa_server(line);
        } else if kw(first, "aaa") {
            let mut look = line.toks.clone();
            let words = ["local", "authentication", "attempts", "max-fail"];
            if words.iter().all(|w| look.next().is_some_and(|t| kw(t, w))) {
                line.toks = look;
                line.ctx = Context::Command("aaa local authentication attempts max-fail");
                let n = line.req_u16("a number of attempts (1-16)", 1, 16)?;
                line.end()?;
                self.cfg.local_max_fail = u8::try_from(n).ok();
                return Ok(());
            }
        } else if kw(first, "l2tp") {
            line.ctx = Context::Command("l2tp tunnel hello");
            return self.l2tp(line);
        } else if kw(first, "group-delimiter") {
            line.ctx = Context::Command("group-delimiter");
            let d = line.req_keyword(
                &[
                    ("@", GroupDelimiter::At),
                    ("#", GroupDelimiter::Hash),
                    ("!", GroupDelimiter::Bang),
                ],
                "a delimiter (@, # or !)",
            )?;
            line.end()?;
            self.cfg.group_delimiter = Some(d);
            return Ok(());
        }
        self.ignore(line);
        self.mode = Mode::Ignored;
        Ok(())
    }

    fn pool(&mut self, line: &mut Line<'_>) -> Result<()> {
        let name = line.req_name("a pool name")?;
        let range = line.req("an address range FIRST-LAST")?;
        let (a, b) = range
            .split_once('-')
            .ok_or_else(|| line.err(ErrorKind::InvalidRange, range))?;
        let first = line.addr(a)?;
        let last = line.addr(b)?;
        if u32::from(last) < u32::from(first) {
            return Err(line.err(ErrorKind::InvalidRange, range));
        }
        let mut mask = None;
        if let Some(t) = line.next() {
            if !kw(t, "mask") {
                return Err(line.err(ErrorKind::UnknownKeyword { expected: "mask" }, t));
            }
            let m = line.req("a mask")?;
            mask = Some(line.mask(m)?);
        }
        line.end()?;
        let pool = IpLocalPool {
            name,
            first,
            last,
            mask,
        };
        if let Some(existing) = self.cfg.pools.iter().find(|p| p.name == pool.name) {
            if *existing != pool {
                return Err(line.err(
                    ErrorKind::Conflict {
                        what: "pool of that name",
                    },
                    &pool.name,
                ));
            }
            return Ok(());
        }
        let overlapping = self.cfg.pools.iter().any(|p| {
            u32::from(p.first) <= u32::from(pool.last) && u32::from(pool.first) <= u32::from(p.last)
        });
        if overlapping {
            return Err(line.err(
                ErrorKind::Conflict {
                    what: "pool's addresses",
                },
                range,
            ));
        }
        self.cfg
            .pools
            .push(pool)
            .map_err(|p| too_many(line, "pools", capacity::POOLS, &p.name))
    }

    fn crypto(&mut self, line: &mut Line<'_>) -> Result<()> {
        line.ctx = Context::Command("crypto");
        let second = line.req("ipsec, dynamic-map, map or isakmp")?;
        if kw(second, "ipsec") {
            line.ctx = Context::Command("crypto ipsec");
            let third = line.req("transform-set or security-association")?;
            if kw(third, "ikev1") {
                let fourth = line.req("transform-set")?;
                if kw(fourth, "transform-set") {
                    return self.transform_set(line);
                }
            } else if kw(third, "transform-set") {
                return self.transform_set(line);
            } else if kw(third, "security-association") {
                line.ctx = Context::Command("crypto ipsec security-association");
                let mut look = line.toks.clone();
                if look.next().is_some_and(|t| kw(t, "lifetime")) {
                    line.toks = look;
                    return self.sa_lifetime(line);
                }
                self.ignore(line);
                return Ok(());
            } else if in_list(CRYPTO_IPSEC_IGNORED, third) {
                self.ignore(line);
                return Ok(());
            }
            return Err(line.err(ErrorKind::UnknownCommand, third));
        } else if kw(second, "dynamic-map") {
            line.ctx = Context::Command("crypto dynamic-map");
            return self.dynamic_map(line);
        } else if kw(second, "map") {
            line.ctx = Context::Command("crypto map");
            return self.crypto_map(line);
        } else if kw(second, "isakmp") || kw(second, "ikev1") {
            line.ctx = Context::Command("crypto isakmp");
            return self.isakmp(line);
        }
        // crypto ca, crypto key, crypto ikev2, ...: not this feature.
        self.ignore(line);
        self.mode = Mode::Ignored;
        Ok(())
    }

    fn transform_set(&mut self, line: &mut Line<'_>) -> Result<()> {
        line.ctx = Context::Command("crypto ipsec transform-set");
        let name = line.req_name("a transform-set name")?;
        let t = line.req("an ESP encryption or mode")?;
        if kw(t, "mode") {
            let mode = line.req_keyword(
                &[
                    ("transport", IpsecMode::Transport),
                    ("tunnel", IpsecMode::Tunnel),
                ],
                "transport or tunnel",
            )?;
            line.end()?;
            let set = self
                .cfg
                .transform_sets
                .iter_mut()
                .find(|s| s.name == name)
                .ok_or_else(|| {
                    line.err(
                        ErrorKind::Undefined {
                            what: "transform-set",
                        },
                        &name,
                    )
                })?;
            set.mode = mode;
            return Ok(());
        }
        let encryption = line.keyword(t, ENCRYPTIONS, ENCRYPTIONS_EXPECTED)?;
        let mut integrity = EspIntegrity::None;
        if let Some(i) = line.next() {
            integrity = line.keyword(i, INTEGRITIES, INTEGRITIES_EXPECTED)?;
            if encryption == EspEncryption::Null && integrity == EspIntegrity::None {
                return Err(line.err(ErrorKind::Conflict { what: "esp-null" }, i));
            }
        } else if encryption == EspEncryption::Null {
            return Err(line.err(
                ErrorKind::MissingArgument {
                    expected: INTEGRITIES_EXPECTED,
                },
                "",
            ));
        }
        line.end()?;
        if let Some(set) = self.cfg.transform_sets.iter_mut().find(|s| s.name == name) {
            set.encryption = encryption;
            set.integrity = integrity;
            return Ok(());
        }
        self.cfg
            .transform_sets
            .push(TransformSet {
                name,
                encryption,
                integrity,
                mode: IpsecMode::Tunnel,
            })
            .map_err(|s| too_many(line, "transform sets", capacity::TRANSFORM_SETS, &s.name))
    }

    fn sa_lifetime(&mut self, line: &mut Line<'_>) -> Result<()> {
        let mut any = false;
        while let Some(t) = line.next() {
            if kw(t, "seconds") {
                self.cfg.sa_lifetime.seconds = line.req_num("seconds", 120, 2_147_483_647)?;
            } else if kw(t, "kilobytes") {
                self.cfg.sa_lifetime.kilobytes = line.req_num("kilobytes", 10, 2_147_483_647)?;
            } else {
                return Err(line.err(
                    ErrorKind::UnknownKeyword {
                        expected: "seconds or kilobytes",
                    },
                    t,
                ));
            }
            any = true;
        }
        if !any {
            return Err(line.err(
                ErrorKind::MissingArgument {
                    expected: "seconds N or kilobytes N",
                },
                "",
            ));
        }
        Ok(())
    }

    fn dynamic_map(&mut self, line: &mut Line<'_>) -> Result<()> {
        let name = line.req_name("a dynamic-map name")?;
        let seq = line.req_u16("a sequence number", 1, 65535)?;
        let verb = line.req("set or match")?;
        if kw(verb, "match") {
            self.ignore(line);
            return Ok(());
        }
        if !kw(verb, "set") {
            return Err(line.err(ErrorKind::UnknownCommand, verb));
        }
        let mut what = line.req("transform-set or pfs")?;
        if kw(what, "ikev1") {
            what = line.req("transform-set")?;
            if !kw(what, "transform-set") {
                self.ignore(line);
                return Ok(());
            }
        }
        if kw(what, "transform-set") {
            let mut sets: Vec<Name, { capacity::TRANSFORM_SETS_PER_MAP }> = Vec::new();
            while let Some(t) = line.next() {
                if self.cfg.transform_set(t).is_none() {
                    return Err(line.err(
                        ErrorKind::Undefined {
                            what: "transform-set",
                        },
                        t,
                    ));
                }
                let n = line.name(t)?;
                sets.push(n).map_err(|_| {
                    too_many(
                        line,
                        "transform sets in one map entry",
                        capacity::TRANSFORM_SETS_PER_MAP,
                        t,
                    )
                })?;
            }
            if sets.is_empty() {
                return Err(line.err(
                    ErrorKind::MissingArgument {
                        expected: "a transform-set name",
                    },
                    "",
                ));
            }
            let e = self.dynamic_map_entry(line, name, seq)?;
            e.transform_sets = sets;
            Ok(())
        } else if kw(what, "pfs") {
            let group = match line.next() {
                None => DhGroup::Group2,
                Some(g) => line.keyword(
                    g,
                    PFS_GROUPS,
                    "group1, group2, group5, group14, group19 or group20",
                )?,
            };
            line.end()?;
            let e = self.dynamic_map_entry(line, name, seq)?;
            e.pfs = Some(group);
            Ok(())
        } else if kw(what, "security-association")
            || kw(what, "nat-t-disable")
            || kw(what, "reverse-route")
            || kw(what, "peer")
        {
            self.ignore(line);
            Ok(())
        } else {
            Err(line.err(ErrorKind::UnknownCommand, what))
        }
    }

    fn dynamic_map_entry(
        &mut self,
        line: &Line<'_>,
        name: Name,
        seq: u16,
    ) -> Result<&mut DynamicMapEntry> {
        let maps = &mut self.cfg.dynamic_maps;
        let pos = maps
            .iter()
            .position(|m| (m.name.as_str(), m.seq) >= (name.as_str(), seq));
        let idx = match pos {
            Some(i) if maps[i].name == name && maps[i].seq == seq => i,
            _ => {
                let at = pos.unwrap_or(maps.len());
                let entry = DynamicMapEntry {
                    name,
                    seq,
                    transform_sets: Vec::new(),
                    pfs: None,
                };
                maps.insert(at, entry).map_err(|e| {
                    too_many(line, "dynamic-map entries", capacity::DYNAMIC_MAPS, &e.name)
                })?;
                at
            }
        };
        Ok(&mut self.cfg.dynamic_maps[idx])
    }

    fn crypto_map(&mut self, line: &mut Line<'_>) -> Result<()> {
        let name = line.req_name("a crypto map name")?;
        let t = line.req("a sequence number or interface")?;
        if kw(t, "interface") {
            let interface = line.req_name("an interface name")?;
            line.end()?;
            if !self.cfg.crypto_maps.iter().any(|m| m.name == name) {
                return Err(line.err(ErrorKind::Undefined { what: "crypto map" }, &name));
            }
            if let Some(b) = self
                .cfg
                .crypto_map_interfaces
                .iter_mut()
                .find(|b| b.interface == interface)
            {
                b.map = name;
                return Ok(());
            }
            return self
                .cfg
                .crypto_map_interfaces
                .push(CryptoMapInterface {
                    map: name,
                    interface,
                })
                .map_err(|b| {
                    too_many(
                        line,
                        "crypto map interfaces",
                        capacity::CRYPTO_MAP_INTERFACES,
                        &b.interface,
                    )
                });
        }
        let seq = line.num_u16(t, 1, 65535)?;
        let mut look = line.toks.clone();
        let is_dynamic = look.next().is_some_and(|a| kw(a, "ipsec-isakmp"))
            && look.next().is_some_and(|b| kw(b, "dynamic"));
        if !is_dynamic {
            // match address / set peer / ...: a static (site-to-site) map.
            self.ignore(line);
            return Ok(());
        }
        line.toks = look;
        let dynamic_map = line.req_name("a dynamic-map name")?;
        line.end()?;
        if !self.cfg.dynamic_maps.iter().any(|m| m.name == dynamic_map) {
            return Err(line.err(
                ErrorKind::Undefined {
                    what: "dynamic-map",
                },
                &dynamic_map,
            ));
        }
        if let Some(e) = self
            .cfg
            .crypto_maps
            .iter_mut()
            .find(|e| e.name == name && e.seq == seq)
        {
            e.dynamic_map = dynamic_map;
            return Ok(());
        }
        self.cfg
            .crypto_maps
            .push(CryptoMapEntry {
                name,
                seq,
                dynamic_map,
            })
            .map_err(|e| too_many(line, "crypto map entries", capacity::CRYPTO_MAPS, &e.name))
    }

    fn isakmp(&mut self, line: &mut Line<'_>) -> Result<()> {
        let t = line.req("enable, policy, nat-traversal or identity")?;
        if kw(t, "enable") {
            let interface = line.req_name("an interface name")?;
            line.end()?;
            if !self.cfg.isakmp_interfaces.contains(&interface) {
                self.cfg.isakmp_interfaces.push(interface).map_err(|i| {
                    too_many(line, "isakmp interfaces", capacity::ISAKMP_INTERFACES, &i)
                })?;
            }
            Ok(())
        } else if kw(t, "policy") {
            let prio = line.req_u16("a policy priority", 1, 65535)?;
            let policies = &mut self.cfg.isakmp_policies;
            let pos = policies.iter().position(|p| p.priority >= prio);
            match pos {
                Some(i) if policies[i].priority == prio => {}
                _ => {
                    let at = pos.unwrap_or(policies.len());
                    policies.insert(at, IsakmpPolicy::new(prio)).map_err(|_| {
                        too_many(line, "isakmp policies", capacity::ISAKMP_POLICIES, "")
                    })?;
                }
            }
            match line.next() {
                // The one-line form of older releases:
                // `crypto isakmp policy 10 authentication pre-share`.
                Some(attr) => self.isakmp_policy_attr(line, prio, attr),
                None => {
                    self.mode = Mode::IsakmpPolicy(prio);
                    Ok(())
                }
            }
        } else if kw(t, "nat-traversal") {
            let keepalive = match line.next() {
                None => DEFAULT_NATT_KEEPALIVE,
                Some(n) => line.num_u16(n, 10, 3600)?,
            };
            line.end()?;
            self.cfg.nat_traversal = Some(keepalive);
            Ok(())
        } else if kw(t, "identity") {
            let id = line.req("address, hostname, key-id or auto")?;
            let identity = if kw(id, "address") {
                IsakmpIdentity::Address
            } else if kw(id, "hostname") {
                IsakmpIdentity::Hostname
            } else if kw(id, "auto") {
                IsakmpIdentity::Auto
            } else if kw(id, "key-id") {
                IsakmpIdentity::KeyId(line.req_name("a key-id")?)
            } else {
                return Err(line.err(
                    ErrorKind::UnknownKeyword {
                        expected: "address, hostname, key-id or auto",
                    },
                    id,
                ));
            };
            line.end()?;
            self.cfg.isakmp_identity = Some(identity);
            Ok(())
        } else if in_list(CRYPTO_ISAKMP_IGNORED, t) {
            self.ignore(line);
            Ok(())
        } else {
            Err(line.err(ErrorKind::UnknownCommand, t))
        }
    }

    fn isakmp_policy_attr(&mut self, line: &mut Line<'_>, prio: u16, attr: &str) -> Result<()> {
        let mut p = match self.cfg.isakmp_policies.iter().find(|p| p.priority == prio) {
            Some(p) => *p,
            None => IsakmpPolicy::new(prio),
        };
        if kw(attr, "authentication") {
            p.authentication = line.req_keyword(
                &[
                    ("pre-share", IkeAuthentication::PreShare),
                    ("rsa-sig", IkeAuthentication::RsaSig),
                ],
                "pre-share or rsa-sig",
            )?;
        } else if kw(attr, "encryption") {
            p.encryption = line.req_keyword(
                &[
                    ("des", IkeEncryption::Des),
                    ("3des", IkeEncryption::TripleDes),
                    ("aes", IkeEncryption::Aes128),
                    ("aes-192", IkeEncryption::Aes192),
                    ("aes-256", IkeEncryption::Aes256),
                ],
                "des, 3des, aes, aes-192 or aes-256",
            )?;
        } else if kw(attr, "hash") {
            p.hash = line.req_keyword(
                &[
                    ("md5", IkeHash::Md5),
                    ("sha", IkeHash::Sha1),
                    ("sha256", IkeHash::Sha256),
                ],
                "md5, sha or sha256",
            )?;
        } else if kw(attr, "group") {
            let t = line.req("a group number")?;
            let n = line.num(t, 1, 20)?;
            p.group = DhGroup::from_number(n).ok_or_else(|| {
                line.err(
                    ErrorKind::UnknownKeyword {
                        expected: "1, 2, 5, 14, 19 or 20",
                    },
                    t,
                )
            })?;
        } else if kw(attr, "lifetime") {
            p.lifetime = line.req_num("seconds", 120, 2_147_483_647)?;
        } else {
            return Err(line.err(ErrorKind::UnknownAttribute, attr));
        }
        line.end()?;
        if let Some(slot) = self
            .cfg
            .isakmp_policies
            .iter_mut()
            .find(|q| q.priority == prio)
        {
            *slot = p;
        }
        Ok(())
    }

    fn group_policy(&mut self, line: &mut Line<'_>) -> Result<()> {
        let name = line.req_name("a group-policy name")?;
        let t = line.req("internal or attributes")?;
        if kw(t, "internal") {
            line.end()?;
            if self.cfg.group_policy(&name).is_none() {
                self.cfg
                    .group_policies
                    .push(GroupPolicy::new(name))
                    .map_err(|g| {
                        too_many(line, "group policies", capacity::GROUP_POLICIES, &g.name)
                    })?;
            }
            Ok(())
        } else if kw(t, "attributes") {
            line.end()?;
            let i = self
                .cfg
                .group_policies
                .iter()
                .position(|g| g.name == name)
                .ok_or_else(|| {
                    line.err(
                        ErrorKind::Undefined {
                            what: "group-policy",
                        },
                        &name,
                    )
                })?;
            self.mode = Mode::GroupPolicy(i);
            Ok(())
        } else if kw(t, "external") {
            self.ignore(line);
            Ok(())
        } else {
            Err(line.err(
                ErrorKind::UnknownKeyword {
                    expected: "internal, external or attributes",
                },
                t,
            ))
        }
    }

    fn servers(&self, line: &mut Line<'_>) -> Result<Servers> {
        let t = line.req("value or none")?;
        let s = if kw(t, "none") {
            Servers::None
        } else if kw(t, "value") {
            let a = line.req("a server address or none")?;
            if kw(a, "none") {
                Servers::None
            } else {
                let a = line.addr(a)?;
                let b = match line.next() {
                    Some(b) => Some(line.addr(b)?),
                    None => None,
                };
                Servers::Value(a, b)
            }
        } else {
            return Err(line.err(
                ErrorKind::UnknownKeyword {
                    expected: "value or none",
                },
                t,
            ));
        };
        line.end()?;
        Ok(s)
    }

    fn protocols(&self, line: &mut Line<'_>) -> Result<ProtocolSet> {
        let mut set = ProtocolSet::EMPTY;
        while let Some(t) = line.next() {
            set = set.with(line.keyword(t, PROTOCOLS, PROTOCOLS_EXPECTED)?);
        }
        if set.is_empty() {
            return Err(line.err(
                ErrorKind::MissingArgument {
                    expected: PROTOCOLS_EXPECTED,
                },
                "",
            ));
        }
        Ok(set)
    }

    fn minutes(&self, line: &mut Line<'_>) -> Result<Minutes> {
        let t = line.req("minutes or none")?;
        let m = if kw(t, "none") {
            Minutes::Unlimited
        } else {
            Minutes::Limit(line.num(t, 1, 35_791_394)?)
        };
        line.end()?;
        Ok(m)
    }

    /// The VPN attributes a group policy and a user share. `Ok(false)` if
    /// `attr` is not one of them.
    fn vpn_attr(&self, line: &mut Line<'_>, attr: &str, vpn: &mut VpnAttributes) -> Result<bool> {
        if kw(attr, "vpn-tunnel-protocol") {
            vpn.tunnel_protocols = Some(self.protocols(line)?);
        } else if kw(attr, "vpn-idle-timeout") {
            vpn.idle_timeout = self.minutes(line)?;
        } else if kw(attr, "vpn-session-timeout") {
            vpn.session_timeout = self.minutes(line)?;
        } else if kw(attr, "vpn-simultaneous-logins") {
            vpn.simultaneous_logins = Some(line.req_num("a number of logins", 0, 2_147_483_647)?);
            line.end()?;
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    fn group_policy_attr(&mut self, line: &mut Line<'_>, i: usize) -> Result<()> {
        let attr = line.req("a group-policy attribute")?;
        let mut gp = self.cfg.group_policies[i].clone();
        if kw(attr, "dns-server") || kw(attr, "dns") {
            gp.dns_servers = self.servers(line)?;
        } else if kw(attr, "wins-server") {
            gp.wins_servers = self.servers(line)?;
        } else if kw(attr, "address-pools") {
            let t = line.req("value or none")?;
            if kw(t, "none") {
                line.end()?;
                gp.address_pools = Pools::None;
            } else if kw(t, "value") {
                gp.address_pools = Pools::Value(self.pool_list(line)?);
            } else {
                return Err(line.err(
                    ErrorKind::UnknownKeyword {
                        expected: "value or none",
                    },
                    t,
                ));
            }
        } else if self.vpn_attr(line, attr, &mut gp.vpn)? {
        } else if in_list(GROUP_POLICY_IGNORED, attr) {
            self.ignore(line);
            return Ok(());
        } else {
            return Err(line.err(ErrorKind::UnknownAttribute, attr));
        }
        self.cfg.group_policies[i] = gp;
        Ok(())
    }

    /// One to six pool names, each defined.
    fn pool_list(&self, line: &mut Line<'_>) -> Result<Vec<Name, { capacity::POOLS_PER_GROUP }>> {
        let mut pools = Vec::new();
        while let Some(t) = line.next() {
            // `address-pool (inside) p1`: the interface is not needed here.
            if t.starts_with('(') && pools.is_empty() {
                continue;
            }
            if self.cfg.pool(t).is_none() {
                return Err(line.err(
                    ErrorKind::Undefined {
                        what: "ip local pool",
                    },
                    t,
                ));
            }
            let n = line.name(t)?;
            if pools.contains(&n) {
                continue;
            }
            pools
                .push(n)
                .map_err(|_| too_many(line, "pools in one group", capacity::POOLS_PER_GROUP, t))?;
        }
        if pools.is_empty() {
            return Err(line.err(
                ErrorKind::MissingArgument {
                    expected: "a pool name",
                },
                "",
            ));
        }
        Ok(pools)
    }

    fn tunnel_group(&mut self, line: &mut Line<'_>) -> Result<()> {
        let name = line.req_name("a tunnel-group name")?;
        let t = line.req("type, general-attributes, ipsec-attributes or ppp-attributes")?;
        if kw(t, "type") {
            let kind = line.req_keyword(
                &[
                    ("remote-access", TunnelGroupType::RemoteAccess),
                    ("ipsec-ra", TunnelGroupType::RemoteAccess),
                    ("ipsec-l2l", TunnelGroupType::LanToLan),
                ],
                "remote-access, ipsec-ra or ipsec-l2l",
            )?;
            line.end()?;
            match self.cfg.tunnel_group(&name) {
                Some(g) if g.kind != kind => Err(line.err(
                    ErrorKind::Conflict {
                        what: "tunnel-group type",
                    },
                    &name,
                )),
                Some(_) => Ok(()),
                None => self
                    .cfg
                    .tunnel_groups
                    .push(TunnelGroup::new(name, kind))
                    .map_err(|g| too_many(line, "tunnel groups", capacity::TUNNEL_GROUPS, &g.name)),
            }
        } else {
            let open = |i| {
                if kw(t, "general-attributes") {
                    Some(Mode::TunnelGeneral(i))
                } else if kw(t, "ipsec-attributes") {
                    Some(Mode::TunnelIpsec(i))
                } else if kw(t, "ppp-attributes") {
                    Some(Mode::TunnelPpp(i))
                } else {
                    None
                }
            };
            if kw(t, "webvpn-attributes") || kw(t, "ikev2") {
                self.ignore(line);
                self.mode = Mode::Ignored;
                return Ok(());
            }
            if open(0).is_none() {
                return Err(line.err(
                    ErrorKind::UnknownKeyword {
                        expected: "type, general-attributes, ipsec-attributes or ppp-attributes",
                    },
                    t,
                ));
            }
            line.end()?;
            let i = self
                .cfg
                .tunnel_groups
                .iter()
                .position(|g| g.name == name)
                .ok_or_else(|| {
                    line.err(
                        ErrorKind::Undefined {
                            what: "tunnel-group",
                        },
                        &name,
                    )
                })?;
            self.mode = open(i).unwrap_or(Mode::Ignored);
            Ok(())
        }
    }

    fn tunnel_general_attr(&mut self, line: &mut Line<'_>, i: usize) -> Result<()> {
        let mut attr = line.req("a general attribute")?;
        let mut negate = false;
        if kw(attr, "no") {
            negate = true;
            attr = line.req("a general attribute")?;
        }
        let mut g = self.cfg.tunnel_groups[i].clone();
        if kw(attr, "address-pool") {
            if negate {
                g.address_pools.clear();
                while line.next().is_some() {}
            } else {
                g.address_pools = self.pool_list(line)?;
            }
        } else if kw(attr, "authentication-server-group") && !negate {
            let mut t = line.req("LOCAL or an aaa-server group")?;
            if t.starts_with('(') {
                t = line.req("LOCAL or an aaa-server group")?;
            }
            if kw(t, "LOCAL") {
                line.end()?;
                g.authentication_server = AuthServer::Local;
            } else {
                if self.cfg.aaa_group(t).is_none() {
                    return Err(line.err(
                        ErrorKind::Undefined {
                            what: "aaa-server group",
                        },
                        t,
                    ));
                }
                let name = line.name(t)?;
                let fallback_local = match line.next() {
                    None => false,
                    Some(l) if kw(l, "LOCAL") => true,
                    Some(l) => {
                        return Err(line.err(ErrorKind::UnknownKeyword { expected: "LOCAL" }, l));
                    }
                };
                line.end()?;
                g.authentication_server = AuthServer::Group {
                    name,
                    fallback_local,
                };
            }
        } else if kw(attr, "accounting-server-group") {
            if negate {
                g.accounting_server_group = None;
                while line.next().is_some() {}
            } else {
                let t = line.req("an aaa-server group")?;
                if kw(t, "none") {
                    g.accounting_server_group = None;
                } else {
                    if self.cfg.aaa_group(t).is_none() {
                        return Err(line.err(
                            ErrorKind::Undefined {
                                what: "aaa-server group",
                            },
                            t,
                        ));
                    }
                    g.accounting_server_group = Some(line.name(t)?);
                }
                line.end()?;
            }
        } else if (kw(attr, "default-group-policy") || kw(attr, "group-policy")) && !negate {
            let t = line.req("a group-policy name")?;
            line.end()?;
            if self.cfg.group_policy(t).is_none() {
                return Err(line.err(
                    ErrorKind::Undefined {
                        what: "group-policy",
                    },
                    t,
                ));
            }
            g.default_group_policy = line.name(t)?;
        } else if kw(attr, "strip-group") {
            line.end()?;
            g.strip_group = !negate;
        } else if kw(attr, "strip-realm") {
            line.end()?;
            g.strip_realm = !negate;
        } else if in_list(TUNNEL_GENERAL_IGNORED, attr) {
            self.ignore(line);
            return Ok(());
        } else {
            return Err(line.err(ErrorKind::UnknownAttribute, attr));
        }
        self.cfg.tunnel_groups[i] = g;
        Ok(())
    }

    fn tunnel_ipsec_attr(&mut self, line: &mut Line<'_>, i: usize) -> Result<()> {
        let mut attr = line.req("an ipsec attribute")?;
        if kw(attr, "ikev1") {
            attr = line.req("pre-shared-key or trust-point")?;
            if !kw(attr, "pre-shared-key") && !kw(attr, "trust-point") {
                self.ignore(line);
                return Ok(());
            }
        }
        if kw(attr, "pre-shared-key") {
            let k = line.req("a key")?;
            let key: PreSharedKey = line.secret(k)?;
            line.end()?;
            self.cfg.tunnel_groups[i].pre_shared_key = Some(key);
        } else if kw(attr, "trust-point") {
            let tp = line.req_name("a trustpoint name")?;
            line.end()?;
            self.cfg.tunnel_groups[i].trust_point = Some(tp);
        } else if kw(attr, "isakmp") {
            let t = line.req("keepalive")?;
            if !kw(t, "keepalive") {
                if kw(t, "ikev1-user-authentication") {
                    self.ignore(line);
                    return Ok(());
                }
                return Err(line.err(
                    ErrorKind::UnknownKeyword {
                        expected: "keepalive",
                    },
                    t,
                ));
            }
            let keepalive = match line.next() {
                None => IsakmpKeepalive::default(),
                Some(d) if kw(d, "disable") => IsakmpKeepalive::Disabled,
                Some(th) if kw(th, "threshold") => {
                    let threshold = line.req_u16("seconds", 10, 3600)?;
                    let r = line.req("retry")?;
                    if !kw(r, "retry") {
                        return Err(line.err(ErrorKind::UnknownKeyword { expected: "retry" }, r));
                    }
                    let retry = line.req_u16("seconds", 2, 10)?;
                    IsakmpKeepalive::Enabled { threshold, retry }
                }
                Some(o) => {
                    return Err(line.err(
                        ErrorKind::UnknownKeyword {
                            expected: "threshold or disable",
                        },
                        o,
                    ));
                }
            };
            line.end()?;
            self.cfg.tunnel_groups[i].isakmp_keepalive = keepalive;
        } else if in_list(TUNNEL_IPSEC_IGNORED, attr) {
            self.ignore(line);
        } else {
            return Err(line.err(ErrorKind::UnknownAttribute, attr));
        }
        Ok(())
    }

    fn tunnel_ppp_attr(&mut self, line: &mut Line<'_>, i: usize) -> Result<()> {
        let mut attr = line.req("authentication")?;
        let negate = kw(attr, "no");
        if negate {
            attr = line.req("authentication")?;
        }
        if !kw(attr, "authentication") {
            return Err(line.err(ErrorKind::UnknownAttribute, attr));
        }
        let method = line.req_keyword(PPP_AUTHS, PPP_AUTHS_EXPECTED)?;
        line.end()?;
        let g = &mut self.cfg.tunnel_groups[i];
        g.ppp_authentication = if negate {
            g.ppp_authentication.without(method)
        } else {
            g.ppp_authentication.with(method)
        };
        Ok(())
    }

    fn username(&mut self, line: &mut Line<'_>) -> Result<()> {
        let name = line.req_name("a user name")?;
        let t = line.req("password, nopassword or attributes")?;
        if kw(t, "attributes") {
            line.end()?;
            let i = self
                .cfg
                .users
                .iter()
                .position(|u| u.name == name)
                .ok_or_else(|| line.err(ErrorKind::Undefined { what: "username" }, &name))?;
            self.mode = Mode::Username(i);
            return Ok(());
        }
        let password = if kw(t, "password") {
            let pw = line.req("a password")?;
            let mut look = line.toks.clone();
            let form = look.next();
            if form.is_some_and(|f| kw(f, "encrypted")) {
                line.toks = look;
                Password::Encrypted(
                    AsaMd5Hash::from_appliance(pw)
                        .ok_or_else(|| line.err(ErrorKind::InvalidHash, ""))?,
                )
            } else if form.is_some_and(|f| kw(f, "nt-encrypted")) {
                line.toks = look;
                Password::NtEncrypted(
                    NtHash::from_appliance(pw)
                        .ok_or_else(|| line.err(ErrorKind::InvalidHash, ""))?,
                )
            } else {
                let chars = pw.chars().count();
                if !(3..=MAX_PASSWORD_LEN).contains(&chars) || pw.len() > MAX_PASSWORD_LEN {
                    return Err(line.err(ErrorKind::PasswordLength, ""));
                }
                if form.is_some_and(|f| kw(f, "mschap")) {
                    line.toks = look;
                    Password::NtEncrypted(NtHash::from_password(pw))
                } else {
                    Password::Encrypted(
                        AsaMd5Hash::from_password(pw.as_bytes(), &name)
                            .ok_or_else(|| line.err(ErrorKind::PasswordLength, ""))?,
                    )
                }
            }
        } else if kw(t, "nopassword") {
            Password::None
        } else {
            return Err(line.err(
                ErrorKind::UnknownKeyword {
                    expected: "password, nopassword or attributes",
                },
                t,
            ));
        };
        let mut privilege = 2;
        if let Some(p) = line.next() {
            if !kw(p, "privilege") {
                return Err(line.err(
                    ErrorKind::UnknownKeyword {
                        expected: "privilege",
                    },
                    p,
                ));
            }
            let t = line.req("a privilege level")?;
            let p = line.num_u16(t, 0, 15)?;
            privilege = u8::try_from(p).unwrap_or(15);
        }
        line.end()?;
        if let Some(u) = self.cfg.users.iter_mut().find(|u| u.name == name) {
            u.password = password;
            u.privilege = privilege;
            return Ok(());
        }
        self.cfg
            .users
            .push(User {
                name,
                password,
                privilege,
                group_policy: None,
                framed_ip: None,
                group_lock: None,
                vpn: VpnAttributes::default(),
            })
            .map_err(|u| too_many(line, "users", capacity::USERS, &u.name))
    }

    fn user_attr(&mut self, line: &mut Line<'_>, i: usize) -> Result<()> {
        let attr = line.req("a user attribute")?;
        let mut u = self.cfg.users[i].clone();
        if kw(attr, "vpn-group-policy") {
            let t = line.req("a group-policy name")?;
            line.end()?;
            if self.cfg.group_policy(t).is_none() {
                return Err(line.err(
                    ErrorKind::Undefined {
                        what: "group-policy",
                    },
                    t,
                ));
            }
            u.group_policy = Some(line.name(t)?);
        } else if kw(attr, "vpn-framed-ip-address") {
            let ip = line.req_addr("an address")?;
            let mask = match line.next() {
                Some(m) => Some(line.mask(m)?),
                None => None,
            };
            line.end()?;
            u.framed_ip = Some((ip, mask));
        } else if kw(attr, "group-lock") {
            let t = line.req("value or none")?;
            if kw(t, "none") {
                u.group_lock = None;
            } else if kw(t, "value") {
                u.group_lock = Some(line.req_name("a tunnel-group name")?);
            } else {
                return Err(line.err(
                    ErrorKind::UnknownKeyword {
                        expected: "value or none",
                    },
                    t,
                ));
            }
            line.end()?;
        } else if self.vpn_attr(line, attr, &mut u.vpn)? {
        } else if in_list(USER_IGNORED, attr) {
            self.ignore(line);
            return Ok(());
        } else {
            return Err(line.err(ErrorKind::UnknownAttribute, attr));
        }
        self.cfg.users[i] = u;
        Ok(())
    }

    fn aaa_server(&mut self, line: &mut Line<'_>) -> Result<()> {
        let name = line.req_name("a server group name")?;
        let t = line.req("protocol or (interface) host")?;
        if kw(t, "protocol") {
            let protocol = line.req_keyword(
                &[
                    ("radius", AaaProtocol::Radius),
                    ("tacacs+", AaaProtocol::TacacsPlus),
                ],
                "radius or tacacs+",
            )?;
            line.end()?;
            let g = match self.cfg.aaa_groups.iter().position(|g| g.name == name) {
                Some(g) if self.cfg.aaa_groups[g].protocol != protocol => {
                    return Err(line.err(
                        ErrorKind::Conflict {
                            what: "aaa-server protocol",
                        },
                        &name,
                    ));
                }
                Some(g) => g,
                None => {
                    self.cfg
                        .aaa_groups
                        .push(AaaServerGroup {
                            name,
                            protocol,
                            hosts: Vec::new(),
                            interim_update: None,
                        })
                        .map_err(|g| {
                            too_many(line, "aaa-server groups", capacity::AAA_GROUPS, &g.name)
                        })?;
                    self.cfg.aaa_groups.len() - 1
                }
            };
            self.mode = Mode::AaaGroup(g);
            return Ok(());
        }
        let (interface, host_kw) = if t.starts_with('(') {
            let inner = t
                .strip_prefix('(')
                .and_then(|s| s.strip_suffix(')'))
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    line.err(
                        ErrorKind::UnknownKeyword {
                            expected: "(interface)",
                        },
                        t,
                    )
                })?;
            (line.name(inner)?, line.req("host")?)
        } else {
            (line.name("inside")?, t)
        };
        if !kw(host_kw, "host") {
            return Err(line.err(ErrorKind::UnknownKeyword { expected: "host" }, host_kw));
        }
        let address = line.req_addr("a server address")?;
        let g = self
            .cfg
            .aaa_groups
            .iter()
            .position(|g| g.name == name)
            .ok_or_else(|| {
                line.err(
                    ErrorKind::Undefined {
                        what: "aaa-server group",
                    },
                    &name,
                )
            })?;
        let mut key = None;
        let mut timeout = None;
        while let Some(x) = line.next() {
            if kw(x, "timeout") {
                timeout = Some(line.req_u16("seconds", 1, 300)?);
            } else if key.is_none() && timeout.is_none() {
                key = Some(line.secret::<127>(x)?);
            } else {
                return Err(line.err(ErrorKind::TrailingArgument, x));
            }
        }
        let hosts = &mut self.cfg.aaa_groups[g].hosts;
        let h = match hosts.iter().position(|h| h.address == address) {
            Some(h) => {
                hosts[h].interface = interface;
                h
            }
            None => {
                hosts
                    .push(AaaServerHost::new(interface, address))
                    .map_err(|_| {
                        too_many(
                            line,
                            "hosts in one aaa-server group",
                            capacity::AAA_HOSTS_PER_GROUP,
                            "",
                        )
                    })?;
                hosts.len() - 1
            }
        };
        if let Some(k) = key {
            hosts[h].key = Some(k);
        }
        if let Some(t) = timeout {
            hosts[h].timeout = t;
        }
        self.mode = Mode::AaaHost(g, h);
        Ok(())
    }

    fn aaa_host_attr(&mut self, line: &mut Line<'_>, g: usize, h: usize) -> Result<()> {
        let attr = line.req("a server attribute")?;
        let mut host = self.cfg.aaa_groups[g].hosts[h].clone();
        if kw(attr, "key") {
            let k = line.req("a key")?;
            let key: RadiusKey = line.secret(k)?;
            host.key = Some(key);
        } else if kw(attr, "authentication-port") {
            host.authentication_port = line.req_u16("a port", 1, 65535)?;
        } else if kw(attr, "accounting-port") {
            host.accounting_port = line.req_u16("a port", 1, 65535)?;
        } else if kw(attr, "timeout") {
            host.timeout = line.req_u16("seconds", 1, 300)?;
        } else if kw(attr, "retry-interval") {
            host.retry_interval = line.req_u16("seconds", 1, 10)?;
        } else if in_list(AAA_HOST_IGNORED, attr) {
            self.ignore(line);
            return Ok(());
        } else {
            return Err(line.err(ErrorKind::UnknownAttribute, attr));
        }
        line.end()?;
        self.cfg.aaa_groups[g].hosts[h] = host;
        Ok(())
    }

    fn l2tp(&mut self, line: &mut Line<'_>) -> Result<()> {
        let t = line.req("tunnel")?;
        if !kw(t, "tunnel") {
            return Err(line.err(ErrorKind::UnknownCommand, t));
        }
        let h = line.req("hello")?;
        if !kw(h, "hello") {
            return Err(line.err(ErrorKind::UnknownCommand, h));
        }
        self.cfg.l2tp_hello = line.req_u16("seconds", 10, 300)?;
        line.end()
    }
}
