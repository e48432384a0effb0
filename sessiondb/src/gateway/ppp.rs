//! The PPP link of a client and the decisions it asks for: which methods to
//! offer, who the user is and which tunnel group serves them, local or
//! RADIUS authentication, authorization, the address and name servers.

use super::peer::{Login, Phase, stamp};
use super::{Event, Gateway, Refused, TerminateCause, convert};
use crate::config::{Name, PppAuth};
use crate::debug::DebugClass;
use crate::policy::{self, AddressSource, Authenticator, LoginDecision, Refusal};
use crate::session::Session;
use core::time::Duration;
use ppp_core::{Accept, AuthMethod, Credentials, DownReason, Event as PppEvent};
use zeroize::Zeroize;

/// The tunnel group a pre-shared-key client lands in (the dynamic map's
/// default remote-access group, as on the appliance).
pub(super) const DEFAULT_GROUP: &str = "DefaultRAGroup";

/// The peer's credentials, copied out of the link so that the link can be
/// answered later (RADIUS) and a local fallback still has them.
#[derive(Clone)]
pub(super) enum OwnedCredentials {
    Pap {
        user: heapless::Vec<u8, 64>,
        password: heapless::Vec<u8, 64>,
    },
    Chap {
        user: heapless::Vec<u8, 64>,
        ident: u8,
        challenge: [u8; 16],
        response: [u8; 16],
    },
    MsChapV1 {
        user: heapless::Vec<u8, 64>,
        ident: u8,
        challenge: [u8; 8],
        nt_response: [u8; 24],
    },
    MsChapV2 {
        user: heapless::Vec<u8, 64>,
        ident: u8,
        challenge: [u8; 16],
        peer_challenge: [u8; 16],
        nt_response: [u8; 24],
    },
}

impl Drop for OwnedCredentials {
    fn drop(&mut self) {
        if let Self::Pap { password, .. } = self {
            password.as_mut_slice().zeroize();
        }
    }
}

impl OwnedCredentials {
    fn from_link(c: &Credentials<'_>) -> Option<Self> {
        let v = |b: &[u8]| heapless::Vec::from_slice(b).ok();
        Some(match *c {
            Credentials::Pap { user, password } => Self::Pap {
                user: v(user)?,
                password: v(password)?,
            },
            Credentials::ChapMd5 {
                identifier,
                challenge,
                response,
                user,
            } => Self::Chap {
                user: v(user)?,
                ident: identifier,
                challenge: *challenge,
                response: *response,
            },
            Credentials::MsChapV1 {
                identifier,
                challenge,
                nt_response,
                user,
            } => Self::MsChapV1 {
                user: v(user)?,
                ident: identifier,
                challenge: *challenge,
                nt_response: *nt_response,
            },
            Credentials::MsChapV2 {
                identifier,
                authenticator_challenge,
                peer_challenge,
                nt_response,
                user,
            } => Self::MsChapV2 {
                user: v(user)?,
                ident: identifier,
                challenge: *authenticator_challenge,
                peer_challenge: *peer_challenge,
                nt_response: *nt_response,
            },
        })
    }

    fn user(&self) -> &[u8] {
        match self {
            Self::Pap { user, .. }
            | Self::Chap { user, .. }
            | Self::MsChapV1 { user, .. }
            | Self::MsChapV2 { user, .. } => user,
        }
    }

    fn method(&self) -> AuthMethod {
        match self {
            Self::Pap { .. } => AuthMethod::Pap,
            Self::Chap { .. } => AuthMethod::ChapMd5,
            Self::MsChapV1 { .. } => AuthMethod::MsChapV1,
            Self::MsChapV2 { .. } => AuthMethod::MsChapV2,
        }
    }

    /// Verifies against a local user's stored secrets (PAP against either
    /// form, MS-CHAP against the NT hash).
    pub(super) fn verify_local(
        &self,
        cfg: &crate::config::Config,
        username: &str,
    ) -> Result<Accept, Refusal> {
        match self {
            Self::Pap { password, .. } => {
                policy::local_pap(cfg, username, password).map(|_| Accept::Plain)
            }
            Self::MsChapV1 {
                challenge,
                nt_response,
                ..
            } => {
                let (_, hash) = policy::local_mschap(cfg, username)?;
                let hash = ppp_core::crypto::NtHash::from_bytes(*hash.expose());
                if ppp_core::crypto::verify_mschap_v1(&hash, challenge, nt_response, true) {
                    Ok(Accept::Plain)
                } else {
                    Err(Refusal::BadPassword)
                }
            }
            Self::MsChapV2 {
                user,
                challenge,
                peer_challenge,
                nt_response,
                ..
            } => {
                let (_, hash) = policy::local_mschap(cfg, username)?;
                let hash = ppp_core::crypto::NtHash::from_bytes(*hash.expose());
                ppp_core::crypto::verify_mschap_v2(
                    &hash,
                    challenge,
                    peer_challenge,
                    user,
                    nt_response,
                )
                .map(Accept::AuthenticatorResponse)
                .ok_or(Refusal::BadPassword)
            }
            // CHAP needs the cleartext; the policy never sends it here.
            Self::Chap { .. } => Err(Refusal::LocalDatabaseCannotServe(PppAuth::Chap)),
        }
    }

    /// The RADIUS form of these credentials (RFC 2865 §5.2/5.3, RFC 2548).
    pub(super) fn radius(&self) -> (radius_core::Credentials<'_>, [u8; 49]) {
        let mut value = [0u8; 49];
        let c = match self {
            Self::Pap { password, .. } => radius_core::Credentials::Pap { password },
            Self::Chap {
                ident,
                challenge,
                response,
                ..
            } => radius_core::Credentials::Chap {
                ident: *ident,
                challenge,
                response,
            },
            Self::MsChapV1 {
                ident,
                challenge,
                nt_response,
                ..
            } => {
                // RFC 2433 §5: LM-Response (zeros: not sent), NT-Response, use-NT flag.
                value[24..48].copy_from_slice(nt_response);
                value[48] = 1;
                return (
                    radius_core::Credentials::MsChapV1 {
                        ident: *ident,
                        challenge,
                        response: &[0; 49],
                    },
                    value,
                );
            }
            Self::MsChapV2 {
                ident,
                challenge,
                peer_challenge,
                nt_response,
                ..
            } => {
                value[..16].copy_from_slice(peer_challenge);
                value[24..48].copy_from_slice(nt_response);
                return (
                    radius_core::Credentials::MsChapV2 {
                        ident: *ident,
                        challenge,
                        response: &[0; 49],
                    },
                    value,
                );
            }
        };
        (c, value)
    }
}

/// What the link reported, owned.
enum LinkEvent {
    Auth(OwnedCredentials),
    AuthTooLong,
    EapRetransmit,
    Authenticated(AuthMethod),
    AddressRequest,
    NetworkUp,
    Down(DownReason),
    Other,
}

impl<const N: usize, const IKE: usize, const ESP: usize, const X: usize, const R: usize>
    Gateway<N, IKE, ESP, X, R>
{
    /// The PPP link for a client's call, as the default group asks: its
    /// methods (the strongest first), the MRU that fits the tunnel, our
    /// inside address, the default group policy's name servers.
    pub(super) fn create_link(&mut self, _now: Duration, slot: usize) {
        let offered = self
            .config
            .tunnel_group(DEFAULT_GROUP)
            .and_then(|tg| policy::offered_auth(&self.config, tg).ok());
        let mut methods: heapless::Vec<AuthMethod, 5> = heapless::Vec::new();
        for m in [
            PppAuth::MsChapV2,
            PppAuth::MsChapV1,
            PppAuth::Chap,
            PppAuth::Pap,
            PppAuth::EapProxy,
        ] {
            if offered.is_some_and(|o| o.contains(m)) {
                let _ = methods.push(convert::ppp_method(m));
            }
        }
        if methods.is_empty() {
            // Nothing the gateway can serve: the client will be refused by
            // LCP with no common method; offer MS-CHAPv2 so that it sees why.
            let _ = methods.push(AuthMethod::MsChapV2);
        }
        let mut config = ppp_core::Config::authenticator(&methods);
        config.mru = self.options.mru;
        config.peer_mru_max = self.options.mru;
        let host = self.options.host_name.as_bytes();
        let _ = config.name.extend_from_slice(&host[..host.len().min(16)]);
        config.ipcp.local_address = Some(self.options.inside_address);
        if let Some(tg) = self.config.tunnel_group(DEFAULT_GROUP)
            && let Ok(p) = policy::effective_policy(&self.config, tg, None, None)
        {
            config.ipcp.dns = p.dns_servers;
            config.ipcp.nbns = p.wins_servers;
        }
        let link = ppp_core::Link::new(&config).ok();
        if let Some(p) = self.peers[slot].as_mut() {
            p.link = link;
        }
    }

    pub(super) fn open_link<G: rand_core::CryptoRng>(
        &mut self,
        now: Duration,
        slot: usize,
        rng: &mut G,
    ) {
        if let Some(link) = self.peers[slot].as_mut().and_then(|p| p.link.as_mut()) {
            link.open(now, rng);
        }
        self.link_touched(slot);
    }

    fn next_link_event(&mut self, slot: usize) -> Option<LinkEvent> {
        let link = self.peers.get_mut(slot)?.as_mut()?.link.as_mut()?;
        let event = link.poll_event()?;
        Some(match event {
            PppEvent::AuthRequest(req) => match OwnedCredentials::from_link(&req.credentials) {
                Some(c) => LinkEvent::Auth(c),
                None => LinkEvent::AuthTooLong,
            },
            PppEvent::EapRetransmit => LinkEvent::EapRetransmit,
            PppEvent::Authenticated(m) => LinkEvent::Authenticated(m),
            PppEvent::AddressRequest => LinkEvent::AddressRequest,
            PppEvent::NetworkUp(_) => LinkEvent::NetworkUp,
            PppEvent::Down(r) => LinkEvent::Down(r),
            _ => LinkEvent::Other,
        })
    }

    /// Acts on everything the link of `slot` reported; returns whether
    /// there was anything.
    pub(super) fn drain_link_events(&mut self, now: Duration, slot: usize) -> bool {
        let mut any = false;
        while let Some(event) = self.next_link_event(slot) {
            any = true;
            match event {
                LinkEvent::Auth(c) => self.on_auth(now, slot, c),
                LinkEvent::AuthTooLong => {
                    self.refuse(now, slot, Refused::BadCredentials);
                }
                LinkEvent::EapRetransmit => {
                    if let Some(p) = self.peers[slot].as_mut() {
                        p.eap_resend = true;
                    }
                }
                LinkEvent::Authenticated(m) => {
                    if let Some(p) = self.peers[slot].as_mut() {
                        p.auth_mode = Some(m);
                    }
                }
                LinkEvent::AddressRequest => self.assign_address(now, slot),
                LinkEvent::NetworkUp => self.session_up(now, slot),
                LinkEvent::Down(reason) => {
                    let cause = match reason {
                        DownReason::PeerTerminated => TerminateCause::UserRequest,
                        DownReason::EchoTimeout
                        | DownReason::MaxConfigure
                        | DownReason::LowerDown => TerminateCause::LostCarrier,
                        DownReason::AuthFailed
                        | DownReason::AuthRefused
                        | DownReason::NoCommonAuthMethod => TerminateCause::UserError,
                        DownReason::AdminClose => TerminateCause::AdminReset,
                        _ => TerminateCause::NasError,
                    };
                    self.teardown(now, slot, cause);
                }
                LinkEvent::Other => {}
            }
        }
        any
    }

    /// The user presented credentials: which tunnel group, which server,
    /// and either a local decision now or a RADIUS request.
    fn on_auth(&mut self, now: Duration, slot: usize, cred: OwnedCredentials) {
        let Ok(user) = core::str::from_utf8(cred.user()) else {
            self.refuse(now, slot, Refused::BadCredentials);
            return;
        };
        // MS-CHAP names may carry a Windows domain (DOMAIN\user).
        let user = user.rsplit('\\').next().unwrap_or(user);
        let (group, username) = match policy::select_tunnel_group(&self.config, DEFAULT_GROUP, user)
        {
            Ok(s) => (s.tunnel_group.name.clone(), name_of(s.username)),
            Err(r) => {
                self.refuse_as(now, slot, &name_of(user), Refused::Policy(r));
                return;
            }
        };
        let method = convert::ppp_auth(cred.method());
        let authenticator = match self.config.tunnel_group(&group) {
            Some(tg) => policy::check_auth_method(&self.config, tg, method),
            None => Err(Refusal::UnknownTunnelGroup),
        };
        match authenticator {
            Err(r) => self.refuse_as(now, slot, &username, Refused::Policy(r)),
            Ok(Authenticator::Local) => {
                let verdict = self.verify_local_limited(&cred, &username);
                self.decided(now, slot, verdict, (&username, &group), None);
            }
            Ok(Authenticator::Server { group: aaa, .. }) => {
                let name = aaa.name.clone();
                let Some(id) = self.peers[slot].as_ref().map(|p| p.id) else {
                    return;
                };
                let login = Login::new(id, username, group);
                self.radius_authenticate(now, slot, &name, login, cred, method);
            }
        }
    }

    /// The local database's verdict under the appliance's failed-login
    /// limit (`aaa local authentication attempts max-fail N`): a locked-out
    /// user is refused without looking at the credentials; a wrong
    /// password counts one more consecutive failure, a right one clears
    /// them.
    pub(super) fn verify_local_limited(
        &mut self,
        cred: &OwnedCredentials,
        username: &str,
    ) -> Result<Accept, Refused> {
        let index = self.config.users.iter().position(|u| u.name == username);
        if index.is_some_and(|i| self.locked_out(i)) {
            self.counters.locked_out += 1;
            return Err(Refused::LockedOut);
        }
        let verdict = cred.verify_local(&self.config, username);
        if let Some(i) = index {
            match verdict {
                Ok(_) => self.local_failures[i] = 0,
                Err(Refusal::BadPassword) => {
                    self.local_failures[i] = self.local_failures[i].saturating_add(1);
                    if self.locked_out(i) {
                        self.debug(
                            DebugClass::Event,
                            1,
                            format_args!("AAA: local user {} locked out", username),
                        );
                    }
                }
                Err(_) => {}
            }
        }
        verdict.map_err(Refused::Policy)
    }

    /// The name a slot's login goes by: its session record's, else the
    /// one of its login in progress.
    pub(super) fn user_of(&self, slot: usize) -> Name {
        let p = self.peers.get(slot).and_then(Option::as_ref);
        if let Some(record) = p.and_then(|p| p.session).and_then(|h| self.sessions.get(h)) {
            return record.username.clone();
        }
        self.login_index(slot)
            .and_then(|i| self.logins[i].as_ref())
            .map(|l| l.user.clone())
            .unwrap_or_default()
    }

    /// Authentication decided for `who` (user, tunnel group): authorize
    /// (group lock, protocol, logins), create the session record, set the
    /// group policy's name servers, answer the link.
    pub(super) fn decided(
        &mut self,
        now: Duration,
        slot: usize,
        verdict: Result<Accept, Refused>,
        who: (&Name, &Name),
        filter: Option<Name>,
    ) {
        let (user, group) = who;
        let accept = match verdict {
            Ok(a) => a,
            Err(r) => {
                self.refuse_as(now, slot, user, r);
                return;
            }
        };
        let Some(p) = self.peers[slot].as_ref() else {
            return;
        };
        let (framed, remote, nat) = (p.framed_ip, p.remote, p.nat);
        let Some(tg) = self.config.tunnel_group(group) else {
            self.refuse_as(
                now,
                slot,
                user,
                Refused::Policy(Refusal::UnknownTunnelGroup),
            );
            return;
        };
        let record = self.config.user(user);
        let auth = match policy::authorize(&self.config, tg, record, None, framed) {
            Ok(a) => a,
            Err(r) => {
                self.refuse_as(now, slot, user, Refused::Policy(r));
                return;
            }
        };
        // Accounting follows the tunnel group, however the user was
        // authenticated (local database or RADIUS).
        let accounting = tg
            .accounting_server_group
            .as_ref()
            .and_then(|name| self.radius.iter().position(|g| g.name == *name))
            .and_then(|i| u8::try_from(i).ok());
        let (limit, dns, wins, gp) = (
            auth.policy.simultaneous_logins,
            auth.policy.dns_servers,
            auth.policy.wins_servers,
            name_of(auth.policy.group_policy),
        );
        let idle = auth
            .policy
            .idle_timeout_minutes
            .map(|m| Duration::from_secs(u64::from(m) * 60));
        let lifetime = auth
            .policy
            .session_timeout_minutes
            .map(|m| Duration::from_secs(u64::from(m) * 60));
        match self.sessions.admit(user, limit) {
            LoginDecision::Admit => {}
            LoginDecision::Replace(old) => {
                let victim = self
                    .peers
                    .iter()
                    .position(|p| p.as_ref().is_some_and(|p| p.session == Some(old)));
                if let Some(v) = victim {
                    self.teardown(now, v, TerminateCause::AdminReset);
                }
            }
            LoginDecision::Refuse => {
                self.refuse_as(now, slot, user, Refused::Policy(Refusal::LoginDisabled));
                return;
            }
        }
        // The record from now on holds who this is.
        let protocol = if nat {
            crate::session::Protocol::L2tpOverIpsecOverNatT
        } else {
            crate::session::Protocol::L2tpOverIpsec
        };
        let mut record = Session::new(*remote.ip(), protocol, now, self.wall_at(now));
        record.username = user.clone();
        record.tunnel_group = group.clone();
        record.group_policy = gp;
        record.filter_name = filter.unwrap_or_default();
        if let Some(old) = self.peers[slot].as_mut().and_then(|p| p.session.take()) {
            let _ = self.sessions.remove(old);
        }
        let Ok(handle) = self.sessions.insert(record) else {
            self.refuse_as(now, slot, user, Refused::TableFull);
            return;
        };
        if let Some(p) = self.peers[slot].as_mut() {
            p.session = Some(handle);
            p.accounting = accounting;
            // RADIUS Idle-/Session-Timeout win over the group policy.
            p.idle_timeout = p.idle_timeout.or(idle.map(stamp));
            p.session_timeout = p.session_timeout.or(lifetime.map(stamp));
            if let Some(link) = p.link.as_mut() {
                let _ = link.set_name_servers(dns, wins);
                let _ = link.accept(now, accept);
            }
        }
        self.debug(
            DebugClass::Event,
            1,
            format_args!("PPP: user {} authenticated", user),
        );
        self.link_touched(slot);
    }

    /// A login refused: the link answers with its method's failure and
    /// closes; the event says why.
    pub(super) fn refuse(&mut self, now: Duration, slot: usize, reason: Refused) {
        let user = self.user_of(slot);
        self.refuse_as(now, slot, &user, reason);
    }

    /// [`refuse`](Self::refuse), naming `user` in the event; any login in
    /// progress for the slot ends.
    pub(super) fn refuse_as(&mut self, now: Duration, slot: usize, user: &Name, reason: Refused) {
        self.counters.refused += 1;
        self.drop_login(slot);
        let Some(p) = self.peers[slot].as_mut() else {
            return;
        };
        let remote = p.remote;
        p.cause = Some(TerminateCause::UserError);
        if let Some(link) = p.link.as_mut()
            && link.reject(now).is_err()
        {
            link.close(now);
        }
        self.emit(Event::LoginRefused {
            remote,
            user: user.clone(),
            reason,
        });
        self.debug(
            DebugClass::Error,
            1,
            format_args!("PPP: user {} refused: {:?}", user, reason),
        );
        self.link_touched(slot);
    }

    /// IPCP asks for the client's address: the static one (user attribute
    /// or RADIUS Framed-IP-Address) or the first free one of the group
    /// policy's pools.
    fn assign_address(&mut self, now: Duration, slot: usize) {
        let Some(p) = self.peers[slot].as_ref() else {
            return;
        };
        let framed = p.framed_ip;
        let record = p.session.and_then(|h| self.sessions.get(h));
        let source = record.and_then(|r| {
            let tg = self.config.tunnel_group(&r.tunnel_group)?;
            policy::authorize(
                &self.config,
                tg,
                self.config.user(&r.username),
                None,
                framed,
            )
            .ok()
            .map(|a| a.address)
        });
        let assigned = match source {
            Some(AddressSource::Static(ip)) => self.pool.reserve(ip).map(|()| ip).ok(),
            Some(source @ AddressSource::Pools(_)) => self.pool.assign(&self.config, &source).ok(),
            None => None,
        };
        let Some(address) = assigned else {
            self.refuse(now, slot, Refused::NoAddress);
            return;
        };
        self.map_address(address, slot);
        if let Some(p) = self.peers[slot].as_mut() {
            p.address = Some(address);
            if let Some(link) = p.link.as_mut() {
                let _ = link.set_peer_address(now, address);
            }
        }
        self.link_touched(slot);
    }

    /// IPCP Opened: the session is up, its record complete, accounting
    /// starts.
    fn session_up(&mut self, now: Duration, slot: usize) {
        let login_wall = self.wall_at(now);
        let Some(p) = self.peers[slot].as_mut() else {
            return;
        };
        if p.session_index.is_some() {
            return;
        }
        let Some(handle) = p.session else {
            // IPCP cannot open before authentication decided; if it did,
            // there is no one to account the session to.
            self.teardown(now, slot, TerminateCause::NasError);
            return;
        };
        p.phase = Phase::Up;
        p.login_at = stamp(now);
        p.last_data = stamp(now);
        self.acct_session = self.acct_session.wrapping_add(1);
        p.acct_session_id = self.acct_session;
        let address = p.address;
        let Some(record) = self.sessions.get_mut(handle) else {
            return;
        };
        record.login_at = now;
        record.login_wall = login_wall;
        record.assigned_ip = address;
        let (index, user) = (record.index, record.username.clone());
        if let Some(p) = self.peers[slot].as_mut() {
            p.session_index = Some(index);
        }
        self.refresh_record(now, slot);
        self.counters.sessions_up += 1;
        self.send_accounting_start(now, slot);
        if let Some(address) = address {
            self.emit(Event::SessionUp {
                index,
                user: user.clone(),
                address,
            });
        }
        self.debug(
            DebugClass::Event,
            1,
            format_args!(
                "L2TP session {} up: user {} address {:?}",
                index, user, address
            ),
        );
    }

    fn wall_at(&self, now: Duration) -> crate::session::WallClock {
        let Some((base, wall)) = self.wall.get() else {
            return crate::session::WallClock::default();
        };
        wall.plus(now.saturating_sub(base))
    }
}

/// A name cut to the configuration's name length.
pub(super) fn name_of(s: &str) -> Name {
    let mut n = Name::new();
    for c in s.chars() {
        if n.push(c).is_err() {
            break;
        }
    }
    n
}
