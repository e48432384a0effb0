//! `show running-config`: the configuration as the appliance prints it, in
//! its order (pools, AAA servers, crypto, group policies, users, tunnel
//! groups), sub-commands indented by one space, defaults left out. The output
//! parses back to the same [`Config`].

use core::fmt::{self, Write};

use super::*;

/// How keys appear in the printed configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretDisplay {
    /// As `show running-config` prints them: `*****`. Parsing this output
    /// back refuses the masked keys ([`ErrorKind::MaskedSecret`](super::ErrorKind::MaskedSecret)).
    Masked,
    /// In clear, as the appliance's `more system:running-config`: the form
    /// to save and to load again. Password hashes are printed in both modes.
    Clear,
}

/// A [`Config`] formatted as `show running-config` (see [`Config::running_config`]).
#[derive(Clone, Copy, Debug)]
pub struct RunningConfig<'a> {
    config: &'a Config,
    secrets: SecretDisplay,
}

impl fmt::Display for RunningConfig<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.config.write_running_config(f, self.secrets)
    }
}

impl Config {
    /// The configuration as `show running-config` prints it, as a `Display`.
    pub fn running_config(&self, secrets: SecretDisplay) -> RunningConfig<'_> {
        RunningConfig {
            config: self,
            secrets,
        }
    }

    /// Writes `show running-config` to `out`.
    ///
    /// # Errors
    /// Only those of `out`.
    pub fn write_running_config(
        &self,
        out: &mut impl Write,
        secrets: SecretDisplay,
    ) -> fmt::Result {
        let p = Printer { out, secrets };
        p.all(self)
    }
}

struct Printer<'o, W: Write> {
    out: &'o mut W,
    secrets: SecretDisplay,
}

fn secret_text(bytes: &[u8]) -> &str {
    // Keys are copied from configuration text, so they are UTF-8.
    core::str::from_utf8(bytes).unwrap_or("")
}

impl<W: Write> Printer<'_, W> {
    fn all(mut self, c: &Config) -> fmt::Result {
        for pool in &c.pools {
            write!(
                self.out,
                "ip local pool {} {}-{}",
                pool.name, pool.first, pool.last
            )?;
            if let Some(m) = pool.mask {
                write!(self.out, " mask {m}")?;
            }
            self.out.write_char('\n')?;
        }
        for g in &c.aaa_groups {
            self.aaa_group(g)?;
        }
        for t in &c.transform_sets {
            write!(
                self.out,
                "crypto ipsec transform-set {} {}",
                t.name,
                t.encryption.keyword()
            )?;
            if t.integrity != EspIntegrity::None {
                write!(self.out, " {}", t.integrity.keyword())?;
            }
            self.out.write_char('\n')?;
            if t.mode == IpsecMode::Transport {
                writeln!(
                    self.out,
                    "crypto ipsec transform-set {} mode transport",
                    t.name
                )?;
            }
        }
        writeln!(
            self.out,
            "crypto ipsec security-association lifetime seconds {}",
            c.sa_lifetime.seconds
        )?;
        writeln!(
            self.out,
            "crypto ipsec security-association lifetime kilobytes {}",
            c.sa_lifetime.kilobytes
        )?;
        for d in &c.dynamic_maps {
            if let Some(g) = d.pfs {
                writeln!(
                    self.out,
                    "crypto dynamic-map {} {} set pfs group{}",
                    d.name,
                    d.seq,
                    g.number()
                )?;
            }
            if !d.transform_sets.is_empty() {
                write!(
                    self.out,
                    "crypto dynamic-map {} {} set transform-set",
                    d.name, d.seq
                )?;
                for t in &d.transform_sets {
                    write!(self.out, " {t}")?;
                }
                self.out.write_char('\n')?;
            }
        }
        for m in &c.crypto_maps {
            writeln!(
                self.out,
                "crypto map {} {} ipsec-isakmp dynamic {}",
                m.name, m.seq, m.dynamic_map
            )?;
        }
        for b in &c.crypto_map_interfaces {
            writeln!(self.out, "crypto map {} interface {}", b.map, b.interface)?;
        }
        for i in &c.isakmp_interfaces {
            writeln!(self.out, "crypto isakmp enable {i}")?;
        }
        for p in &c.isakmp_policies {
            writeln!(self.out, "crypto isakmp policy {}", p.priority)?;
            let auth = match p.authentication {
                IkeAuthentication::PreShare => "pre-share",
                IkeAuthentication::RsaSig => "rsa-sig",
            };
            writeln!(self.out, " authentication {auth}")?;
            writeln!(self.out, " encryption {}", p.encryption.keyword())?;
            writeln!(self.out, " hash {}", p.hash.keyword())?;
            writeln!(self.out, " group {}", p.group.number())?;
            writeln!(self.out, " lifetime {}", p.lifetime)?;
        }
        if let Some(k) = c.nat_traversal {
            writeln!(self.out, "crypto isakmp nat-traversal {k}")?;
        }
        if let Some(identity) = &c.isakmp_identity {
            self.out.write_str("crypto isakmp identity ")?;
            match identity {
                IsakmpIdentity::Address => self.out.write_str("address\n")?,
                IsakmpIdentity::Hostname => self.out.write_str("hostname\n")?,
                IsakmpIdentity::Auto => self.out.write_str("auto\n")?,
                IsakmpIdentity::KeyId(id) => writeln!(self.out, "key-id {id}")?,
            }
        }
        if c.l2tp_hello != DEFAULT_L2TP_HELLO {
            writeln!(self.out, "l2tp tunnel hello {}", c.l2tp_hello)?;
        }
        if let Some(d) = c.group_delimiter {
            writeln!(self.out, "group-delimiter {}", d.as_char())?;
        }
        if let Some(n) = c.local_max_fail {
            writeln!(self.out, "aaa local authentication attempts max-fail {n}")?;
        }
        for gp in &c.group_policies {
            self.group_policy(gp)?;
        }
        for u in &c.users {
            self.user(u)?;
        }
        for g in &c.tunnel_groups {
            self.tunnel_group(g)?;
        }
        Ok(())
    }

    fn aaa_group(&mut self, g: &AaaServerGroup) -> fmt::Result {
        let proto = match g.protocol {
            AaaProtocol::Radius => "radius",
            AaaProtocol::TacacsPlus => "tacacs+",
        };
        writeln!(self.out, "aaa-server {} protocol {proto}", g.name)?;
        match g.interim_update {
            None => {}
            Some(InterimUpdate::AddressChange) => {
                writeln!(self.out, " interim-accounting-update")?;
            }
            Some(InterimUpdate::Periodic { hours }) => {
                writeln!(self.out, " interim-accounting-update periodic {hours}")?;
            }
        }
        for h in &g.hosts {
            writeln!(
                self.out,
                "aaa-server {} ({}) host {}",
                g.name, h.interface, h.address
            )?;
            if let Some(k) = &h.key {
                match self.secrets {
                    SecretDisplay::Masked => writeln!(self.out, " key *****")?,
                    SecretDisplay::Clear => writeln!(self.out, " key {}", secret_text(k.expose()))?,
                }
            }
            if h.authentication_port != DEFAULT_RADIUS_AUTH_PORT {
                writeln!(self.out, " authentication-port {}", h.authentication_port)?;
            }
            if h.accounting_port != DEFAULT_RADIUS_ACCT_PORT {
                writeln!(self.out, " accounting-port {}", h.accounting_port)?;
            }
            if h.timeout != DEFAULT_AAA_TIMEOUT {
                writeln!(self.out, " timeout {}", h.timeout)?;
            }
            if h.retry_interval != DEFAULT_AAA_RETRY_INTERVAL {
                writeln!(self.out, " retry-interval {}", h.retry_interval)?;
            }
        }
        Ok(())
    }

    fn servers(&mut self, keyword: &str, s: Servers) -> fmt::Result {
        match s {
            Servers::Inherit => Ok(()),
            Servers::None => writeln!(self.out, " {keyword} none"),
            Servers::Value(a, None) => writeln!(self.out, " {keyword} value {a}"),
            Servers::Value(a, Some(b)) => writeln!(self.out, " {keyword} value {a} {b}"),
        }
    }

    fn minutes(&mut self, keyword: &str, m: Minutes) -> fmt::Result {
        match m {
            Minutes::Inherit => Ok(()),
            Minutes::Unlimited => writeln!(self.out, " {keyword} none"),
            Minutes::Limit(n) => writeln!(self.out, " {keyword} {n}"),
        }
    }

    fn protocols(&mut self, set: ProtocolSet) -> fmt::Result {
        self.out.write_str(" vpn-tunnel-protocol")?;
        for p in set.iter() {
            write!(self.out, " {}", p.keyword())?;
        }
        self.out.write_char('\n')
    }

    fn group_policy(&mut self, gp: &GroupPolicy) -> fmt::Result {
        let builtin = gp.name == DEFAULT_GROUP_POLICY;
        if !builtin {
            writeln!(self.out, "group-policy {} internal", gp.name)?;
        }
        if gp.is_empty() {
            return Ok(());
        }
        writeln!(self.out, "group-policy {} attributes", gp.name)?;
        self.servers("wins-server", gp.wins_servers)?;
        self.servers("dns-server", gp.dns_servers)?;
        if let Some(n) = gp.vpn.simultaneous_logins {
            writeln!(self.out, " vpn-simultaneous-logins {n}")?;
        }
        self.minutes("vpn-idle-timeout", gp.vpn.idle_timeout)?;
        self.minutes("vpn-session-timeout", gp.vpn.session_timeout)?;
        if let Some(set) = gp.vpn.tunnel_protocols {
            self.protocols(set)?;
        }
        match &gp.address_pools {
            Pools::Inherit => {}
            Pools::None => writeln!(self.out, " address-pools none")?,
            Pools::Value(list) => {
                self.out.write_str(" address-pools value")?;
                for p in list {
                    write!(self.out, " {p}")?;
                }
                self.out.write_char('\n')?;
            }
        }
        Ok(())
    }

    fn user(&mut self, u: &User) -> fmt::Result {
        write!(self.out, "username {}", u.name)?;
        match &u.password {
            Password::None => self.out.write_str(" nopassword")?,
            Password::Encrypted(h) => {
                self.out.write_str(" password ")?;
                h.write_appliance(self.out)?;
                self.out.write_str(" encrypted")?;
            }
            Password::NtEncrypted(h) => {
                self.out.write_str(" password ")?;
                h.write_appliance(self.out)?;
                self.out.write_str(" nt-encrypted")?;
            }
        }
        if u.privilege != 2 {
            write!(self.out, " privilege {}", u.privilege)?;
        }
        self.out.write_char('\n')?;
        if !u.has_attributes() {
            return Ok(());
        }
        writeln!(self.out, "username {} attributes", u.name)?;
        if let Some(gp) = &u.group_policy {
            writeln!(self.out, " vpn-group-policy {gp}")?;
        }
        if let Some(set) = u.vpn.tunnel_protocols {
            self.protocols(set)?;
        }
        if let Some((ip, mask)) = u.framed_ip {
            write!(self.out, " vpn-framed-ip-address {ip}")?;
            if let Some(m) = mask {
                write!(self.out, " {m}")?;
            }
            self.out.write_char('\n')?;
        }
        if let Some(tg) = &u.group_lock {
            writeln!(self.out, " group-lock value {tg}")?;
        }
        if let Some(n) = u.vpn.simultaneous_logins {
            writeln!(self.out, " vpn-simultaneous-logins {n}")?;
        }
        self.minutes("vpn-idle-timeout", u.vpn.idle_timeout)?;
        self.minutes("vpn-session-timeout", u.vpn.session_timeout)?;
        Ok(())
    }

    fn tunnel_group(&mut self, g: &TunnelGroup) -> fmt::Result {
        if !g.is_builtin() {
            let kind = match g.kind {
                TunnelGroupType::RemoteAccess => "remote-access",
                TunnelGroupType::LanToLan => "ipsec-l2l",
            };
            writeln!(self.out, "tunnel-group {} type {kind}", g.name)?;
        }
        let default = TunnelGroup::new(g.name.clone(), g.kind);
        let general_default = g.address_pools.is_empty()
            && g.authentication_server == default.authentication_server
            && g.accounting_server_group.is_none()
            && g.default_group_policy == default.default_group_policy
            && !g.strip_group
            && !g.strip_realm;
        if !general_default {
            writeln!(self.out, "tunnel-group {} general-attributes", g.name)?;
            if !g.address_pools.is_empty() {
                self.out.write_str(" address-pool")?;
                for p in &g.address_pools {
                    write!(self.out, " {p}")?;
                }
                self.out.write_char('\n')?;
            }
            if let AuthServer::Group {
                name,
                fallback_local,
            } = &g.authentication_server
            {
                write!(self.out, " authentication-server-group {name}")?;
                if *fallback_local {
                    self.out.write_str(" LOCAL")?;
                }
                self.out.write_char('\n')?;
            }
            if let Some(a) = &g.accounting_server_group {
                writeln!(self.out, " accounting-server-group {a}")?;
            }
            if g.default_group_policy != default.default_group_policy {
                writeln!(self.out, " default-group-policy {}", g.default_group_policy)?;
            }
            if g.strip_realm {
                writeln!(self.out, " strip-realm")?;
            }
            if g.strip_group {
                writeln!(self.out, " strip-group")?;
            }
        }
        if g.pre_shared_key.is_some()
            || g.trust_point.is_some()
            || g.isakmp_keepalive != default.isakmp_keepalive
        {
            writeln!(self.out, "tunnel-group {} ipsec-attributes", g.name)?;
            if let Some(k) = &g.pre_shared_key {
                match self.secrets {
                    SecretDisplay::Masked => writeln!(self.out, " pre-shared-key *****")?,
                    SecretDisplay::Clear => {
                        writeln!(self.out, " pre-shared-key {}", secret_text(k.expose()))?;
                    }
                }
            }
            if let Some(tp) = &g.trust_point {
                writeln!(self.out, " trust-point {tp}")?;
            }
            match g.isakmp_keepalive {
                k if k == default.isakmp_keepalive => {}
                IsakmpKeepalive::Disabled => writeln!(self.out, " isakmp keepalive disable")?,
                IsakmpKeepalive::Enabled { threshold, retry } => {
                    writeln!(
                        self.out,
                        " isakmp keepalive threshold {threshold} retry {retry}"
                    )?;
                }
            }
        }
        if g.ppp_authentication != AuthSet::DEFAULT {
            writeln!(self.out, "tunnel-group {} ppp-attributes", g.name)?;
            for a in PppAuth::ALL {
                let on = g.ppp_authentication.contains(a);
                let by_default = AuthSet::DEFAULT.contains(a);
                if on && !by_default {
                    writeln!(self.out, " authentication {}", a.keyword())?;
                } else if !on && by_default {
                    writeln!(self.out, " no authentication {}", a.keyword())?;
                }
            }
        }
        Ok(())
    }
}
