//! RADIUS for the gateway: Access-Requests for PPP credentials and EAP
//! (proxied), the answers applied to the session, accounting Start and
//! Stop.

use super::peer::{Login, stamp, unstamp};
use super::ppp::{DEFAULT_GROUP, OwnedCredentials, name_of};
use super::{Error, Gateway, Refused};
use crate::debug::DebugClass;
use crate::session::Session;
use core::fmt::Write;
use core::net::{Ipv4Addr, SocketAddrV4};
use core::time::Duration;
use ppp_core::{Accept, AuthMethod};
use radius_core::{
    AccessRequest, AccountingRequest, AcctStatusType, AttributeType, Code, Event as RadiusEvent,
    MsAttributeType, NasInfo,
};
use rand_core::CryptoRng;

/// What the NAS says of itself in every request; `slot` is the NAS-Port.
fn nas(options: &super::Options, slot: usize) -> NasInfo<'_> {
    NasInfo {
        nas_ip_address: options.nas_ip_address,
        nas_identifier: Some(options.nas_identifier.as_bytes()),
        nas_port: u32::try_from(slot).ok(),
        calling_station_id: None,
        called_station_id: None,
        l2tp: true,
    }
}

/// The text form of an address (Calling-Station-Id).
fn address_text(a: Ipv4Addr) -> heapless::String<16> {
    let mut s = heapless::String::new();
    let _ = write!(s, "{a}");
    s
}

/// The 20 octets of an `S=<40 hex digits>` authenticator response (the
/// value of MS-CHAP2-Success after its Ident octet, RFC 2548 §2.3.3).
fn authenticator_response(value: &[u8]) -> Option<[u8; 20]> {
    let text = value.get(1..)?.strip_prefix(b"S=")?;
    let hex = text.get(..40)?;
    let mut out = [0u8; 20];
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let s = core::str::from_utf8(pair).ok()?;
        *o = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

impl<const N: usize, const IKE: usize, const ESP: usize, const X: usize, const R: usize>
    Gateway<N, IKE, ESP, X, R>
{
    fn radius_group(&self, name: &str) -> Option<usize> {
        self.radius.iter().position(|g| g.name.as_str() == name)
    }

    /// The entry of `slot`'s login in progress.
    pub(super) fn login_index(&self, slot: usize) -> Option<usize> {
        let id = self.peers.get(slot)?.as_ref()?.id;
        self.logins
            .iter()
            .position(|l| l.as_ref().is_some_and(|l| l.peer == id))
    }

    /// The entry waiting for RADIUS group `g`'s `request`.
    fn login_of_request(&self, g: usize, request: radius_core::RequestId) -> Option<usize> {
        self.logins.iter().position(|l| {
            l.as_ref()
                .and_then(|l| l.request)
                .is_some_and(|(lg, r)| usize::from(lg) == g && r == request)
        })
    }

    /// Ends `slot`'s login in progress, if any: its request and any kept
    /// Access-Challenge go back to the RADIUS client.
    pub(super) fn drop_login(&mut self, slot: usize) {
        if let Some(i) = self.login_index(slot)
            && let Some(login) = self.logins[i].take()
        {
            self.release_login(&login);
        }
    }

    /// Puts `login` in the table of logins in progress in place of any
    /// earlier one of the slot; when every entry is taken the login is
    /// refused with [`Refused::Busy`] and `None` returned.
    fn start_login(&mut self, now: Duration, slot: usize, login: Login) -> Option<usize> {
        self.drop_login(slot);
        let Some(free) = self.logins.iter().position(Option::is_none) else {
            self.refuse_as(now, slot, &login.user, Refused::Busy);
            return None;
        };
        self.logins[free] = Some(login);
        Some(free)
    }

    fn release_login(&mut self, login: &Login) {
        for (g, request) in [login.request, login.eap_reply].into_iter().flatten() {
            if let Some(grp) = self.radius.get_mut(usize::from(g)) {
                let _ = grp.client.release(request);
            }
        }
    }

    /// Sends the user's credentials to the tunnel group's server group;
    /// `login` waits for the answer in the table of logins in progress.
    pub(super) fn radius_authenticate(
        &mut self,
        now: Duration,
        slot: usize,
        group: &str,
        login: Login,
        cred: OwnedCredentials,
        method: crate::config::PppAuth,
    ) {
        let Some(g) = self.radius_group(group) else {
            self.refuse_as(
                now,
                slot,
                &login.user,
                Refused::Policy(crate::policy::Refusal::UnknownServerGroup),
            );
            return;
        };
        let user = login.user.clone();
        let Some(i) = self.start_login(now, slot, login) else {
            return;
        };
        let calling = self.peers[slot]
            .as_ref()
            .map(|p| address_text(*p.remote.ip()));
        let mut nas = nas(&self.options, slot);
        nas.calling_station_id = calling.as_ref().map(|s| s.as_bytes());
        let (credentials, value) = cred.radius();
        // The MS-CHAP response values were built beside the credentials.
        let credentials = match credentials {
            radius_core::Credentials::MsChapV1 {
                ident, challenge, ..
            } => radius_core::Credentials::MsChapV1 {
                ident,
                challenge,
                response: &value,
            },
            radius_core::Credentials::MsChapV2 {
                ident, challenge, ..
            } => radius_core::Credentials::MsChapV2 {
                ident,
                challenge,
                response: &value,
            },
            other => other,
        };
        let request = AccessRequest {
            user_name: user.as_bytes(),
            credentials,
            nas,
        };
        let Some(group) = self.radius.get_mut(g) else {
            return;
        };
        // Every server failed and within its dead time, and LOCAL behind
        // the group: the local database decides at once, as on the
        // appliance, instead of after the dead servers' timeouts.
        let tunnel_group = self.logins[i].as_ref().map(|l| &l.tunnel_group);
        let down = group
            .client
            .all_failed(now, radius_core::Service::Authentication)
            && tunnel_group.is_some_and(|tg| falls_back_locally(&self.config, tg));
        let sent = if down {
            Err(radius_core::Error::NoServer)
        } else {
            group.client.access_request(now, &request)
        };
        match sent {
            Ok(id) => {
                if let Some(login) = self.logins[i].as_mut() {
                    login.request = Some((u8::try_from(g).unwrap_or(u8::MAX), id));
                    login.method = super::convert::ppp_method(method);
                    login.fallback = Some(cred);
                }
            }
            // Every request slot is taken (by accounting being
            // retransmitted to a server that is away, say): the server may
            // well be alive, so the local database does not decide; the
            // client may try again.
            Err(radius_core::Error::TooManyRequests) => {
                self.refuse_as(now, slot, &user, Refused::Busy);
            }
            // No server to ask: as if none had answered, so that the local
            // database serves when the group allows.
            Err(_) => {
                if let Some(login) = self.logins[i].as_mut() {
                    login.fallback = Some(cred);
                }
                self.server_timeout(now, i);
            }
        }
    }

    /// An EAP Response from the client (RFC 3579): the first one names the
    /// user and selects the tunnel group; each goes to the server with the
    /// State of the previous Access-Challenge.
    pub(super) fn eap_from_peer(&mut self, now: Duration, slot: usize, eap: &[u8]) {
        // EAP-Response/Identity (RFC 3748 §5.1): code 2, type 1.
        let identity = (eap.len() >= 5 && eap[0] == 2 && eap[4] == 1)
            .then(|| core::str::from_utf8(&eap[5..]).ok())
            .flatten();
        if let Some(identity) = identity {
            let (group, user) =
                match crate::policy::select_tunnel_group(&self.config, DEFAULT_GROUP, identity) {
                    Ok(sel) => (sel.tunnel_group.name.clone(), name_of(sel.username)),
                    Err(r) => {
                        self.refuse_as(now, slot, &name_of(identity), Refused::Policy(r));
                        return;
                    }
                };
            let Some(id) = self.peers[slot].as_ref().map(|p| p.id) else {
                return;
            };
            let mut login = Login::new(id, user, group);
            login.method = AuthMethod::Eap;
            if self.start_login(now, slot, login).is_none() {
                return;
            }
        }
        let Some(i) = self.login_index(slot) else {
            // An EAP Response before any Identity names no one.
            self.refuse(now, slot, Refused::BadCredentials);
            return;
        };
        let Some(login) = self.logins[i].as_mut() else {
            return;
        };
        // The previous Challenge is answered: forget it.
        let answered = login.eap_reply.take();
        let (group, user, state) = (
            login.tunnel_group.clone(),
            login.user.clone(),
            login.eap_state.clone(),
        );
        if let Some((g, request)) = answered
            && let Some(grp) = self.radius.get_mut(usize::from(g))
        {
            let _ = grp.client.release(request);
        }
        let server =
            self.config
                .tunnel_group(&group)
                .and_then(|tg| {
                    match crate::policy::check_auth_method(
                        &self.config,
                        tg,
                        crate::config::PppAuth::EapProxy,
                    ) {
                        Ok(crate::policy::Authenticator::Server { group, .. }) => {
                            Some(group.name.clone())
                        }
                        _ => None,
                    }
                });
        let Some(server) = server else {
            self.refuse(
                now,
                slot,
                Refused::Policy(crate::policy::Refusal::EapNeedsRadius),
            );
            return;
        };
        let Some(g) = self.radius_group(&server) else {
            self.refuse(
                now,
                slot,
                Refused::Policy(crate::policy::Refusal::UnknownServerGroup),
            );
            return;
        };
        let nas = nas(&self.options, slot);
        let request = AccessRequest {
            user_name: user.as_bytes(),
            credentials: radius_core::Credentials::Eap {
                message: eap,
                state: (!state.is_empty()).then_some(&state[..]),
            },
            nas,
        };
        let result = self
            .radius
            .get_mut(g)
            .map(|grp| grp.client.access_request(now, &request));
        match result {
            Some(Ok(id)) => {
                if let Some(login) = self.logins[i].as_mut() {
                    login.request = Some((u8::try_from(g).unwrap_or(u8::MAX), id));
                }
            }
            _ => self.refuse(now, slot, Refused::ServerTimeout),
        }
    }

    /// Drains every RADIUS client's events; returns whether there were any.
    pub(super) fn drain_radius(&mut self, now: Duration) -> bool {
        let mut any = false;
        for g in 0..self.radius.len() {
            while let Some(event) = self
                .radius
                .get_mut(g)
                .and_then(|grp| grp.client.poll_event())
            {
                any = true;
                self.on_radius(now, g, event);
            }
        }
        any
    }

    fn on_radius(&mut self, now: Duration, g: usize, event: RadiusEvent) {
        match event {
            RadiusEvent::Reply { request, code, .. } => {
                let Some(i) = self.login_of_request(g, request) else {
                    // Accounting answers, or an answer for a login that has
                    // gone: nothing to do but free the request.
                    if let Some(grp) = self.radius.get_mut(g) {
                        let _ = grp.client.release(request);
                    }
                    return;
                };
                self.on_access_reply(now, i, g, request, code);
            }
            RadiusEvent::TimedOut { request } => {
                if let Some(i) = self.login_of_request(g, request) {
                    self.server_timeout(now, i);
                }
            }
            RadiusEvent::ServerFailed { server } => {
                self.debug(
                    DebugClass::Error,
                    1,
                    format_args!("AAA: server {} of group {} failed", server.0, g),
                );
            }
            _ => {}
        }
    }

    /// No server answered: the local database when the group allows
    /// (`authentication-server-group G LOCAL`), otherwise a refusal.
    fn server_timeout(&mut self, now: Duration, i: usize) {
        let Some(mut login) = self.logins.get_mut(i).and_then(Option::take) else {
            return;
        };
        // The client already forgot the timed-out request.
        login.request = None;
        self.release_login(&login);
        let Some(slot) = self.peer_slot(login.peer) else {
            return;
        };
        let local = falls_back_locally(&self.config, &login.tunnel_group);
        match login.fallback.take() {
            Some(cred) if local => {
                let verdict = self.verify_local_limited(&cred, &login.user);
                self.decided(now, slot, verdict, (&login.user, &login.tunnel_group), None);
            }
            _ => self.refuse_as(now, slot, &login.user, Refused::ServerTimeout),
        }
    }

    fn on_access_reply(
        &mut self,
        now: Duration,
        i: usize,
        g: usize,
        request: radius_core::RequestId,
        code: Code,
    ) {
        let Some(login) = self.logins.get(i).and_then(Option::as_ref) else {
            return;
        };
        let method = login.method;
        let Some(slot) = self.peer_slot(login.peer) else {
            self.logins[i] = None;
            if let Some(grp) = self.radius.get_mut(g) {
                let _ = grp.client.release(request);
            }
            return;
        };
        let Some(reply) = self.radius.get(g).and_then(|grp| grp.client.reply(request)) else {
            return;
        };
        let framed = reply
            .attribute(AttributeType::FramedIpAddress)
            .and_then(|v| <[u8; 4]>::try_from(v).ok())
            .map(Ipv4Addr::from)
            .filter(|a| {
                !a.is_unspecified()
                    && *a != Ipv4Addr::BROADCAST
                    && *a != Ipv4Addr::new(255, 255, 255, 254)
            });
        let seconds = |t| {
            reply
                .attribute(t)
                .and_then(|v| <[u8; 4]>::try_from(v).ok())
                .map(|v| Duration::from_secs(u64::from(u32::from_be_bytes(v))))
        };
        let (session_timeout, idle_timeout) = (
            seconds(AttributeType::SessionTimeout),
            seconds(AttributeType::IdleTimeout),
        );
        let class: heapless::Vec<u8, 64, u8> = reply
            .attribute(AttributeType::Class)
            .and_then(|c| heapless::Vec::from_slice(&c[..c.len().min(64)]).ok())
            .unwrap_or_default();
        let filter = reply
            .attribute(AttributeType::FilterId)
            .and_then(|f| core::str::from_utf8(f).ok())
            .map(name_of);
        // A State longer than the attribute allows was refused by the codec.
        let state = reply
            .attribute(AttributeType::State)
            .and_then(|s| heapless::Vec::from_slice(s).ok());
        let s_value = reply
            .ms_attribute(MsAttributeType::MsChap2Success)
            .and_then(authenticator_response);
        let has_eap = reply.attribute(AttributeType::EapMessage).is_some();
        let keep_reply = code == Code::AccessChallenge && has_eap;
        if !keep_reply && let Some(grp) = self.radius.get_mut(g) {
            let _ = grp.client.release(request);
        }
        if keep_reply {
            // The next EAP Response from the client continues this login.
            if let Some(login) = self.logins[i].as_mut() {
                login.request = None;
                login.eap_state = state.unwrap_or_default();
                login.eap_reply = Some((u8::try_from(g).unwrap_or(u8::MAX), request));
            }
            if let Some(p) = self.peers[slot].as_mut() {
                p.eap_resend = true;
            }
            self.link_touched(slot);
            return;
        }
        let Some(mut login) = self.logins[i].take() else {
            return;
        };
        login.request = None;
        self.release_login(&login);
        if code != Code::AccessAccept {
            self.refuse_as(now, slot, &login.user, Refused::BadCredentials);
            return;
        }
        if let Some(p) = self.peers[slot].as_mut() {
            p.framed_ip = framed;
            p.session_timeout = session_timeout.map(stamp);
            p.idle_timeout = idle_timeout.map(stamp);
            p.class = class;
        }
        let accept = match method {
            AuthMethod::MsChapV2 => match s_value {
                Some(s) => Ok(Accept::AuthenticatorResponse(s)),
                // An Accept without MS-CHAP2-Success cannot prove the
                // server to the client (RFC 2548 §2.3.3).
                None => Err(Refused::BadCredentials),
            },
            _ => Ok(Accept::Plain),
        };
        self.decided(
            now,
            slot,
            accept,
            (&login.user, &login.tunnel_group),
            filter,
        );
    }

    /// Frames the EAP Request kept from the last Access-Challenge into
    /// `buf[at..]` and returns its PPP frame's range.
    pub(super) fn frame_eap(
        &mut self,
        now: Duration,
        slot: usize,
        buf: &mut [u8],
        at: usize,
    ) -> Option<core::ops::Range<usize>> {
        let login = self.logins.get(self.login_index(slot)?)?.as_ref()?;
        let (g, request) = login.eap_reply?;
        let reply = self.radius.get(usize::from(g))?.client.reply(request)?;
        let mut end = at;
        for attr in reply.attributes().map_while(Result::ok) {
            if attr.kind == AttributeType::EapMessage {
                let dst = buf.get_mut(end..end + attr.value.len())?;
                dst.copy_from_slice(attr.value);
                end += attr.value.len();
            }
        }
        let link = self.peers.get_mut(slot)?.as_mut()?.link.as_mut()?;
        link.send_eap(now, buf, at..end).ok()
    }

    /// A datagram from a RADIUS server.
    ///
    /// # Errors
    /// [`Error::Radius`] for a datagram from no configured server or one the
    /// client refused (counted there).
    pub fn handle_radius(
        &mut self,
        now: Duration,
        from: SocketAddrV4,
        datagram: &[u8],
        rng: &mut impl CryptoRng,
    ) -> Result<(), Error> {
        let found = self.radius.iter().enumerate().find_map(|(g, grp)| {
            grp.servers
                .iter()
                .position(|(auth, acct)| *auth == from || *acct == from)
                .map(|s| (g, s))
        });
        let Some((g, s)) = found else {
            return Err(Error::Radius);
        };
        let server = radius_core::ServerId(u8::try_from(s).unwrap_or(u8::MAX));
        let r = self
            .radius
            .get_mut(g)
            .map(|grp| grp.client.handle_datagram(server, datagram));
        self.pump(now, rng);
        match r {
            Some(Ok(())) => Ok(()),
            _ => Err(Error::Radius),
        }
    }

    /// Accounting-Start (again on later ticks while the RADIUS client has
    /// no free request slot).
    pub(super) fn send_accounting_start(&mut self, now: Duration, slot: usize) {
        if self.account(now, slot, AcctStatusType::Start, None) {
            self.schedule_interim(now, slot);
        }
    }

    /// The next Interim-Update of the slot, `hours` from now when its
    /// accounting group says `interim-accounting-update periodic hours`.
    fn schedule_interim(&mut self, now: Duration, slot: usize) {
        let Some(p) = self.peers.get(slot).and_then(Option::as_ref) else {
            return;
        };
        let hours = p
            .accounting
            .and_then(|g| self.radius.get(usize::from(g)))
            .and_then(|g| self.config.aaa_group(&g.name))
            .and_then(|g| match g.interim_update? {
                crate::config::InterimUpdate::Periodic { hours } => Some(hours),
                crate::config::InterimUpdate::AddressChange => None,
            });
        if let Some(p) = self.peers[slot].as_mut() {
            p.interim_at = hours.map(|h| stamp(now).saturating_add(u32::from(h) * 3600));
        }
    }

    /// An Interim-Update with the counts so far (RFC 2869 §5.1), and the
    /// next one scheduled.
    pub(super) fn send_accounting_interim(&mut self, now: Duration, slot: usize) {
        self.refresh_record(now, slot);
        let record = self.peers[slot]
            .as_ref()
            .and_then(|p| p.session)
            .and_then(|h| self.sessions.get(h))
            .cloned();
        self.account(now, slot, AcctStatusType::InterimUpdate, record.as_ref());
        self.schedule_interim(now, slot);
    }

    /// Accounting-Stop; `false` if the RADIUS client had no free request
    /// slot, in which case the caller keeps what the Stop needs and tries
    /// again (see `end_session`).
    pub(super) fn send_accounting_stop(
        &mut self,
        now: Duration,
        slot: usize,
        record: Option<&Session>,
    ) -> bool {
        self.account(now, slot, AcctStatusType::Stop, record)
    }

    /// Sends one accounting request; `false` only if it was needed and the
    /// RADIUS client could not take it.
    fn account(
        &mut self,
        now: Duration,
        slot: usize,
        status: AcctStatusType,
        record: Option<&Session>,
    ) -> bool {
        let Some(p) = self.peers.get(slot).and_then(Option::as_ref) else {
            return true;
        };
        let Some(g) = p.accounting else { return true };
        let user = p
            .session
            .and_then(|h| self.sessions.get(h))
            .map(|r| r.username.as_bytes())
            .unwrap_or_default();
        if status != AcctStatusType::Start && !p.acct_started {
            // The session ends before its Start could be sent (every
            // request slot was taken all along): no Stop without a Start,
            // and the session's accounting is counted as lost.
            if status == AcctStatusType::Stop {
                self.counters.accounting_lost += 1;
            }
            return true;
        }
        // A deferred Stop counts the session up to its end, not its sending.
        let end = match p.phase {
            super::peer::Phase::Closing { until } => {
                unstamp(until).saturating_sub(super::DRAIN).min(now)
            }
            _ => now,
        };
        let mut session_id: heapless::String<16> = heapless::String::new();
        let _ = write!(session_id, "{:08X}", p.acct_session_id);
        let calling = address_text(*p.remote.ip());
        let counters = p.link.as_ref().map(|l| *l.counters());
        let (bytes_rx, bytes_tx) = record.map_or((0, 0), |r| (r.bytes_rx, r.bytes_tx));
        let mut nas = nas(&self.options, slot);
        nas.calling_station_id = Some(calling.as_bytes());
        let request = AccountingRequest {
            status,
            session_id: session_id.as_bytes(),
            user_name: user,
            framed_ip_address: p.address.or(record.and_then(|r| r.assigned_ip)),
            class: (!p.class.is_empty()).then_some(&p.class[..]),
            input_octets: counters.map_or(bytes_rx, |c| c.rx_bytes),
            output_octets: counters.map_or(bytes_tx, |c| c.tx_bytes),
            input_packets: counters.map_or(0, |c| u32::try_from(c.rx_packets).unwrap_or(u32::MAX)),
            output_packets: counters.map_or(0, |c| u32::try_from(c.tx_packets).unwrap_or(u32::MAX)),
            session_time: (status != AcctStatusType::Start).then(|| {
                u32::try_from(end.saturating_sub(unstamp(p.login_at)).as_secs()).unwrap_or(u32::MAX)
            }),
            terminate_cause: (status == AcctStatusType::Stop)
                .then(|| p.cause.unwrap_or(super::TerminateCause::NasRequest)),
            nas,
        };
        let sent = self
            .radius
            .get_mut(usize::from(g))
            .is_some_and(|grp| grp.client.accounting_request(now, &request).is_ok());
        if sent
            && status == AcctStatusType::Start
            && let Some(p) = self.peers[slot].as_mut()
        {
            p.acct_started = true;
        }
        if !sent {
            self.counters.accounting_deferred += 1;
        }
        sent
    }
}

/// Whether tunnel group `name` authenticates against a server group with
/// the local database behind it (`authentication-server-group G LOCAL`).
fn falls_back_locally(config: &crate::Config, name: &str) -> bool {
    config.tunnel_group(name).is_some_and(|tg| {
        matches!(
            tg.authentication_server,
            crate::config::AuthServer::Group {
                fallback_local: true,
                ..
            }
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ms_chap2_success_value() {
        let mut v = [0u8; 43];
        v[0] = 7;
        v[1..3].copy_from_slice(b"S=");
        v[3..].copy_from_slice(b"0123456789ABCDEF0123456789abcdef01234567");
        let r = authenticator_response(&v).unwrap();
        assert_eq!(r[..4], [0x01, 0x23, 0x45, 0x67]);
        assert!(authenticator_response(&v[..20]).is_none());
        v[1] = b'X';
        assert!(authenticator_response(&v).is_none());
    }
}
