//! Policy: pure functions of the configuration that decide where a
//! connection lands and what it may do.
//!
//! The order a gateway calls them in, for one L2TP/IPsec connection:
//!
//! 1. [`select_tunnel_group`] once PPP has the user name: tunnel-group
//!    switching (`user@group`) and what name is passed on for authentication.
//! 2. [`offered_auth`] for the LCP Configure-Request (which PPP
//!    authentication protocols to propose, [`AUTH_PREFERENCE`] order), then
//!    [`check_auth_method`] for the one the client agreed to.
//! 3. With the local database: [`local_pap`] or [`local_mschap`].
//! 4. [`authorize`]: group lock, the effective group policy, whether
//!    `l2tp-ipsec` is a permitted protocol, where the address comes from.
//! 5. [`simultaneous_login`] against the sessions of the same user.
//!
//! Every refusal is a [`Refusal`] that says why.

use core::fmt;
use core::net::Ipv4Addr;
use core::time::Duration;

use crate::config::{
    AaaProtocol, AaaServerGroup, AuthServer, AuthSet, Config, DEFAULT_IDLE_TIMEOUT_MINUTES,
    DEFAULT_SIMULTANEOUS_LOGINS, DEFAULT_TUNNEL_PROTOCOLS, GroupPolicy, Minutes, Name, Password,
    Pools, PppAuth, ProtocolSet, Servers, TunnelGroup, TunnelGroupType, TunnelProtocol, User,
};
use crate::secret::NtHash;

/// Why a connection is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Refusal {
    /// The tunnel group IKE selected does not exist.
    UnknownTunnelGroup,
    /// The tunnel group is a LAN-to-LAN group.
    NotRemoteAccess,
    /// The user's `group-lock` names another tunnel group.
    GroupLocked,
    /// A group policy named by the user or the AAA server does not exist.
    UnknownGroupPolicy,
    /// `l2tp-ipsec` is not in the effective `vpn-tunnel-protocol`.
    ProtocolNotPermitted,
    /// `vpn-simultaneous-logins 0`.
    LoginDisabled,
    /// The tunnel group allows no PPP authentication protocol.
    NoAuthMethod,
    /// The method is not among the tunnel group's `ppp-attributes`.
    MethodNotAllowed(PppAuth),
    /// The tunnel group authenticates against `LOCAL`, which cannot serve
    /// this method (the chapter: CHAP and EAP need a proxy server).
    LocalDatabaseCannotServe(PppAuth),
    /// The `authentication-server-group` is not a configured `aaa-server` group.
    UnknownServerGroup,
    /// EAP proxy needs a RADIUS server group.
    EapNeedsRadius,
    /// No local user of that name.
    UnknownUser,
    /// The user has `nopassword`.
    NoPassword,
    /// Wrong password.
    BadPassword,
    /// MS-CHAP against a local user whose password was not entered with
    /// `mschap` (only the NT hash serves MS-CHAP; the chapter's step 10).
    NoNtHash,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::UnknownTunnelGroup => f.write_str("tunnel group does not exist"),
            Refusal::NotRemoteAccess => f.write_str("tunnel group is not a remote-access group"),
            Refusal::GroupLocked => f.write_str("user is locked to another tunnel group"),
            Refusal::UnknownGroupPolicy => f.write_str("group policy does not exist"),
            Refusal::ProtocolNotPermitted => {
                f.write_str("l2tp-ipsec is not a permitted vpn-tunnel-protocol")
            }
            Refusal::LoginDisabled => f.write_str("vpn-simultaneous-logins is 0"),
            Refusal::NoAuthMethod => f.write_str("no PPP authentication protocol is enabled"),
            Refusal::MethodNotAllowed(m) => {
                write!(f, "PPP authentication {} is not enabled", m.keyword())
            }
            Refusal::LocalDatabaseCannotServe(m) => write!(
                f,
                "the local database cannot authenticate {} (only pap, ms-chap-v1 and ms-chap-v2; chap and eap-proxy need an authentication server)",
                m.keyword()
            ),
            Refusal::UnknownServerGroup => {
                f.write_str("authentication server group does not exist")
            }
            Refusal::EapNeedsRadius => f.write_str("eap-proxy needs a RADIUS server group"),
            Refusal::UnknownUser => f.write_str("no such user"),
            Refusal::NoPassword => f.write_str("user has no password"),
            Refusal::BadPassword => f.write_str("wrong password"),
            Refusal::NoNtHash => f.write_str(
                "user's password was not entered with mschap; MS-CHAP needs the NT hash",
            ),
        }
    }
}

impl core::error::Error for Refusal {}

/// Where a connection landed, and the name to authenticate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Selection<'c, 'u> {
    /// The tunnel group.
    pub tunnel_group: &'c TunnelGroup,
    /// The user name passed on for authentication and authorization.
    pub username: &'u str,
    /// `true` if `user@group` switched away from the initial group.
    pub switched: bool,
}

/// Chooses the tunnel group and the name to authenticate.
///
/// `initial` is the group IKE selected (with a pre-shared key always
/// `DefaultRAGroup`; with certificates possibly another), `username` the PPP
/// name the client sent. As the chapter's "tunnel-group switching" says: with
/// a `group-delimiter` configured, a name `user<delim>group` whose `group`
/// is a tunnel group with `strip-group` moves the connection to that group
/// and passes on only `user`; otherwise the whole name is passed on. The
/// name is split at the last delimiter. Then the selected group's
/// `strip-realm` removes a `@realm` suffix.
///
/// # Errors
/// [`Refusal::UnknownTunnelGroup`], [`Refusal::NotRemoteAccess`].
pub fn select_tunnel_group<'c, 'u>(
    cfg: &'c Config,
    initial: &str,
    username: &'u str,
) -> Result<Selection<'c, 'u>, Refusal> {
    let mut group = cfg
        .tunnel_group(initial)
        .ok_or(Refusal::UnknownTunnelGroup)?;
    let mut name = username;
    let mut switched = false;
    if let Some(delimiter) = cfg.group_delimiter
        && let Some((user, target)) = username.rsplit_once(delimiter.as_char())
        && let Some(t) = cfg.tunnel_group(target)
        && t.strip_group
    {
        switched = t.name != group.name;
        group = t;
        name = user;
    }
    if group.kind != TunnelGroupType::RemoteAccess {
        return Err(Refusal::NotRemoteAccess);
    }
    if group.strip_realm
        && let Some((user, _realm)) = name.split_once('@')
    {
        name = user;
    }
    Ok(Selection {
        tunnel_group: group,
        username: name,
        switched,
    })
}

/// Who checks the credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Authenticator<'c> {
    /// The local user database.
    Local,
    /// An `aaa-server` group, with or without fallback to `LOCAL`.
    Server {
        /// The group.
        group: &'c AaaServerGroup,
        /// `authentication-server-group G LOCAL`.
        fallback_local: bool,
    },
}

/// The authenticator of a tunnel group.
///
/// # Errors
/// [`Refusal::UnknownServerGroup`] if the group is not configured.
pub fn authenticator<'c>(cfg: &'c Config, tg: &TunnelGroup) -> Result<Authenticator<'c>, Refusal> {
    match &tg.authentication_server {
        AuthServer::Local => Ok(Authenticator::Local),
        AuthServer::Group {
            name,
            fallback_local,
        } => Ok(Authenticator::Server {
            group: cfg.aaa_group(name).ok_or(Refusal::UnknownServerGroup)?,
            fallback_local: *fallback_local,
        }),
    }
}

/// The order in which PPP authentication protocols are proposed: strongest
/// first, EAP (when enabled) before all since it defers to the server.
pub const AUTH_PREFERENCE: [PppAuth; 5] = [
    PppAuth::EapProxy,
    PppAuth::MsChapV2,
    PppAuth::MsChapV1,
    PppAuth::Chap,
    PppAuth::Pap,
];

/// The PPP authentication protocols to offer in LCP for this tunnel group:
/// those enabled in `ppp-attributes` that its authenticator can serve.
///
/// The appliance would offer CHAP with `LOCAL` and then fail the user (the
/// chapter's note); leaving out what cannot succeed lets a client that also
/// speaks PAP or MS-CHAP connect. When nothing remains, the refusal names the
/// chapter's rule.
///
/// # Errors
/// [`Refusal::LocalDatabaseCannotServe`], [`Refusal::EapNeedsRadius`],
/// [`Refusal::NoAuthMethod`], [`Refusal::UnknownServerGroup`].
pub fn offered_auth(cfg: &Config, tg: &TunnelGroup) -> Result<AuthSet, Refusal> {
    let enabled = tg.ppp_authentication;
    let mut usable = enabled;
    let mut first_refusal = None;
    for m in enabled.iter() {
        if let Err(r) = servable(cfg, tg, m) {
            usable = usable.without(m);
            first_refusal.get_or_insert(r);
        }
    }
    if usable.is_empty() {
        return Err(first_refusal.unwrap_or(Refusal::NoAuthMethod));
    }
    Ok(usable)
}

fn servable<'c>(
    cfg: &'c Config,
    tg: &TunnelGroup,
    method: PppAuth,
) -> Result<Authenticator<'c>, Refusal> {
    let auth = authenticator(cfg, tg)?;
    match auth {
        Authenticator::Local if !method.local_database_can_serve() => {
            Err(Refusal::LocalDatabaseCannotServe(method))
        }
        Authenticator::Server { group, .. }
            if method == PppAuth::EapProxy && group.protocol != AaaProtocol::Radius =>
        {
            Err(Refusal::EapNeedsRadius)
        }
        a => Ok(a),
    }
}

/// Checks the method the client agreed to in LCP and says who verifies it.
///
/// # Errors
/// [`Refusal::MethodNotAllowed`], [`Refusal::LocalDatabaseCannotServe`],
/// [`Refusal::EapNeedsRadius`], [`Refusal::UnknownServerGroup`].
pub fn check_auth_method<'c>(
    cfg: &'c Config,
    tg: &TunnelGroup,
    method: PppAuth,
) -> Result<Authenticator<'c>, Refusal> {
    if !tg.ppp_authentication.contains(method) {
        return Err(Refusal::MethodNotAllowed(method));
    }
    servable(cfg, tg, method)
}

/// PAP against the local database (RFC 1334 §2.2.1): the user, if the
/// password matches.
///
/// # Errors
/// [`Refusal::UnknownUser`], [`Refusal::NoPassword`], [`Refusal::BadPassword`].
pub fn local_pap<'c>(
    cfg: &'c Config,
    username: &str,
    password: &[u8],
) -> Result<&'c User, Refusal> {
    let user = cfg.user(username).ok_or(Refusal::UnknownUser)?;
    if user.password == Password::None {
        return Err(Refusal::NoPassword);
    }
    if user.verify_pap(password) {
        Ok(user)
    } else {
        Err(Refusal::BadPassword)
    }
}

/// MS-CHAPv1/v2 against the local database: the user and the NT hash the
/// MS-CHAP computation needs (RFC 2433 §A.5, RFC 2759 §8.1).
///
/// # Errors
/// [`Refusal::UnknownUser`], [`Refusal::NoPassword`], [`Refusal::NoNtHash`].
pub fn local_mschap<'c>(
    cfg: &'c Config,
    username: &str,
) -> Result<(&'c User, &'c NtHash), Refusal> {
    let user = cfg.user(username).ok_or(Refusal::UnknownUser)?;
    match &user.password {
        Password::None => Err(Refusal::NoPassword),
        Password::Encrypted(_) => Err(Refusal::NoNtHash),
        Password::NtEncrypted(h) => Ok((user, h)),
    }
}

/// The group policy in force for a session, every attribute resolved
/// (user attributes, then the user's group policy, then the tunnel group's
/// default group policy, then `DfltGrpPolicy`, then the built-in defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EffectivePolicy<'c> {
    /// The group policy name `show vpn-sessiondb` prints.
    pub group_policy: &'c str,
    /// DNS servers for IPCP (RFC 1877 options 129, 131).
    pub dns_servers: [Option<Ipv4Addr>; 2],
    /// WINS servers for IPCP (RFC 1877 options 130, 132).
    pub wins_servers: [Option<Ipv4Addr>; 2],
    /// Permitted tunnel protocols.
    pub tunnel_protocols: ProtocolSet,
    /// Idle timeout in minutes; `None`: none.
    pub idle_timeout_minutes: Option<u32>,
    /// Session timeout in minutes; `None`: none.
    pub session_timeout_minutes: Option<u32>,
    /// Simultaneous logins allowed for one user name.
    pub simultaneous_logins: u32,
    /// Pools to allocate from, in order.
    pub address_pools: &'c [Name],
}

/// Resolves the effective group policy.
///
/// `assigned` is a group policy an AAA server named for the user (RADIUS
/// Class `OU=`); a local user's `vpn-group-policy` takes precedence.
///
/// # Errors
/// [`Refusal::UnknownGroupPolicy`].
pub fn effective_policy<'c>(
    cfg: &'c Config,
    tg: &'c TunnelGroup,
    user: Option<&'c User>,
    assigned: Option<&str>,
) -> Result<EffectivePolicy<'c>, Refusal> {
    let user_gp: Option<&'c GroupPolicy> =
        match user.and_then(|u| u.group_policy.as_deref()).or(assigned) {
            Some(n) => Some(cfg.group_policy(n).ok_or(Refusal::UnknownGroupPolicy)?),
            None => None,
        };
    let tg_gp = cfg
        .group_policy(&tg.default_group_policy)
        .ok_or(Refusal::UnknownGroupPolicy)?;
    let dflt = cfg.default_group_policy();
    let chain = [user_gp, Some(tg_gp), Some(dflt)];
    let policies = || chain.iter().flatten().copied();
    let user_vpn = user.map(|u| &u.vpn);

    let servers = |pick: fn(&GroupPolicy) -> Servers| {
        for gp in policies() {
            match pick(gp) {
                Servers::Inherit => continue,
                Servers::None => return [None, None],
                Servers::Value(a, b) => return [Some(a), b],
            }
        }
        [None, None]
    };
    let minutes = |pick: fn(&crate::config::VpnAttributes) -> Minutes, default: Option<u32>| {
        let from_user = user_vpn.map(pick).into_iter();
        for m in from_user.chain(policies().map(|gp| pick(&gp.vpn))) {
            match m {
                Minutes::Inherit => continue,
                Minutes::Unlimited => return None,
                Minutes::Limit(n) => return Some(n),
            }
        }
        default
    };
    let tunnel_protocols = user_vpn
        .and_then(|v| v.tunnel_protocols)
        .or_else(|| policies().find_map(|gp| gp.vpn.tunnel_protocols))
        .unwrap_or(DEFAULT_TUNNEL_PROTOCOLS);
    let simultaneous_logins = user_vpn
        .and_then(|v| v.simultaneous_logins)
        .or_else(|| policies().find_map(|gp| gp.vpn.simultaneous_logins))
        .unwrap_or(DEFAULT_SIMULTANEOUS_LOGINS);
    let mut address_pools: &'c [Name] = &tg.address_pools;
    for gp in policies() {
        match &gp.address_pools {
            Pools::Inherit => continue,
            Pools::None => break,
            Pools::Value(list) => {
                address_pools = list;
                break;
            }
        }
    }
    Ok(EffectivePolicy {
        group_policy: user_gp.map_or(tg_gp.name.as_str(), |g| g.name.as_str()),
        dns_servers: servers(|g| g.dns_servers),
        wins_servers: servers(|g| g.wins_servers),
        tunnel_protocols,
        idle_timeout_minutes: minutes(|v| v.idle_timeout, Some(DEFAULT_IDLE_TIMEOUT_MINUTES)),
        session_timeout_minutes: minutes(|v| v.session_timeout, None),
        simultaneous_logins,
        address_pools,
    })
}

/// Where a session's address comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressSource<'c> {
    /// A fixed address: the AAA server's Framed-IP-Address or the user's
    /// `vpn-framed-ip-address`.
    Static(Ipv4Addr),
    /// The first free address of these pools, in order.
    Pools(&'c [Name]),
}

/// Everything authorization decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Authorization<'c> {
    /// The effective group policy.
    pub policy: EffectivePolicy<'c>,
    /// Where the address comes from.
    pub address: AddressSource<'c>,
}

/// Authorizes an authenticated user in a tunnel group.
///
/// `user` is the local user (if the local database knows the name, also
/// when a server authenticated it), `assigned` a group policy named by the
/// AAA server, `framed_ip` a Framed-IP-Address from the AAA server.
///
/// # Errors
/// [`Refusal::GroupLocked`], [`Refusal::UnknownGroupPolicy`],
/// [`Refusal::ProtocolNotPermitted`], [`Refusal::LoginDisabled`].
pub fn authorize<'c>(
    cfg: &'c Config,
    tg: &'c TunnelGroup,
    user: Option<&'c User>,
    assigned: Option<&str>,
    framed_ip: Option<Ipv4Addr>,
) -> Result<Authorization<'c>, Refusal> {
    if let Some(lock) = user.and_then(|u| u.group_lock.as_ref())
        && *lock != tg.name
    {
        return Err(Refusal::GroupLocked);
    }
    let policy = effective_policy(cfg, tg, user, assigned)?;
    if !policy.tunnel_protocols.contains(TunnelProtocol::L2tpIpsec) {
        return Err(Refusal::ProtocolNotPermitted);
    }
    if policy.simultaneous_logins == 0 {
        return Err(Refusal::LoginDisabled);
    }
    let address = match framed_ip.or_else(|| user.and_then(|u| u.framed_ip.map(|(ip, _)| ip))) {
        Some(ip) => AddressSource::Static(ip),
        None => AddressSource::Pools(policy.address_pools),
    };
    Ok(Authorization { policy, address })
}

/// What to do with a new login of a user who may already have sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginDecision<H> {
    /// Below the limit: admit.
    Admit,
    /// At the limit: admit and log off this existing session.
    Replace(H),
    /// The limit is 0.
    Refuse,
}

/// The appliance's `vpn-simultaneous-logins` rule: below the limit a login
/// is admitted; at the limit the new login is admitted and the existing
/// session idle longest is logged off (the oldest one when equally idle);
/// with a limit of 0 nobody logs in.
///
/// `existing` yields, for each session of the same user name (compared
/// without regard to case, as the appliance counts them), its handle, its
/// last activity and its login time.
pub fn simultaneous_login<H: Copy>(
    limit: u32,
    existing: impl IntoIterator<Item = (H, Duration, Duration)>,
) -> LoginDecision<H> {
    if limit == 0 {
        return LoginDecision::Refuse;
    }
    let mut count: u64 = 0;
    let mut victim: Option<(H, Duration, Duration)> = None;
    for (h, last_activity, login) in existing {
        count += 1;
        let replace = match victim {
            None => true,
            Some((_, a, l)) => (last_activity, login) < (a, l),
        };
        if replace {
            victim = Some((h, last_activity, login));
        }
    }
    match victim {
        Some((h, _, _)) if count >= u64::from(limit) => LoginDecision::Replace(h),
        _ => LoginDecision::Admit,
    }
}
