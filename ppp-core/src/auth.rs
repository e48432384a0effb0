//! The Authentication phase (RFC 1661 §3.5) for both roles: PAP (RFC 1334),
//! CHAP-MD5 (RFC 1994), MS-CHAP (RFC 2433), MS-CHAP-V2 (RFC 2759) and EAP
//! (RFC 3748; pass-through for the authenticator, Identity and MD5-Challenge
//! for the peer).
//!
//! The authenticator never decides by itself: it hands the credentials to
//! the caller ([`AuthRequest`]) and waits for `accept`/`reject`, which may
//! come seconds later from RADIUS. Helpers on [`AuthRequest`] verify them
//! against an NT hash for a local user database.

use core::time::Duration;

use rand_core::CryptoRng;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::config::Settings;
use crate::crypto::{self, NtHash};
use crate::event::DownReason;
use crate::time::Deadline;
use crate::wire::chap::{self, FailureMessage, MsChapV1Response, MsChapV2Response, SuccessMessage};
use crate::wire::lcp::AuthMethod;
use crate::wire::{eap, pap};

/// Bytes of credentials the link holds, in one zeroized buffer: the
/// authenticator's own name (at most 16) and what the peer presents (PAP:
/// user name and password; CHAP-MD5: 16-octet response and user name;
/// MS-CHAP: 24; MS-CHAP-V2: 40), or the peer's own user name and password.
/// With a 3-letter authenticator name, an MS-CHAP-V2 user name may be 69
/// octets, a PAP user name and password 109 together. Longer credentials
/// are refused like wrong ones (PAP Nak / CHAP Failure, then the link
/// closes with `AuthFailed`).
pub const CREDENTIALS_CAPACITY: usize = 112;

const GRANTED: &[u8] = b"Access granted";
const DENIED: &[u8] = b"Access denied";

/// Credentials in one zeroized buffer: our own strings at the front
/// (authenticator: its CHAP name; peer: user name and password), then the
/// two strings the peer presented (authenticator only).
#[derive(Clone)]
struct Creds {
    buf: [u8; CREDENTIALS_CAPACITY],
    own_a: u8,
    own_b: u8,
    a: u8,
    b: u8,
}

impl Creds {
    const fn new() -> Self {
        Self {
            buf: [0; CREDENTIALS_CAPACITY],
            own_a: 0,
            own_b: 0,
            a: 0,
            b: 0,
        }
    }

    fn own_len(&self) -> usize {
        usize::from(self.own_a) + usize::from(self.own_b)
    }

    fn set_own(&mut self, a: &[u8], b: &[u8]) -> bool {
        self.buf.zeroize();
        self.a = 0;
        self.b = 0;
        if a.len() + b.len() > CREDENTIALS_CAPACITY {
            return false;
        }
        self.buf[..a.len()].copy_from_slice(a);
        self.buf[a.len()..a.len() + b.len()].copy_from_slice(b);
        self.own_a = crate::wire::len8(a.len());
        self.own_b = crate::wire::len8(b.len());
        true
    }

    fn own_a(&self) -> &[u8] {
        &self.buf[..usize::from(self.own_a)]
    }

    fn own_b(&self) -> &[u8] {
        &self.buf[usize::from(self.own_a)..self.own_len()]
    }

    fn set(&mut self, a: &[u8], b: &[u8]) -> bool {
        self.wipe();
        let at = self.own_len();
        if at + a.len() + b.len() > CREDENTIALS_CAPACITY {
            return false;
        }
        self.buf[at..at + a.len()].copy_from_slice(a);
        self.buf[at + a.len()..at + a.len() + b.len()].copy_from_slice(b);
        self.a = crate::wire::len8(a.len());
        self.b = crate::wire::len8(b.len());
        true
    }

    fn a(&self) -> &[u8] {
        let at = self.own_len();
        &self.buf[at..at + usize::from(self.a)]
    }

    fn b(&self) -> &[u8] {
        let at = self.own_len() + usize::from(self.a);
        &self.buf[at..at + usize::from(self.b)]
    }

    /// Wipes what the peer presented.
    fn wipe(&mut self) {
        let at = self.own_len();
        self.buf[at..].zeroize();
        self.a = 0;
        self.b = 0;
    }
}

impl Drop for Creds {
    fn drop(&mut self) {
        self.buf.zeroize();
    }
}

/// What the authenticator's caller decided, with what the Success packet
/// needs.
#[derive(Debug, Clone)]
pub enum Accept {
    /// PAP, CHAP-MD5, MS-CHAP, EAP: nothing more.
    Plain,
    /// MS-CHAP-V2 with the authenticator response computed elsewhere (the
    /// 20 octets of a RADIUS MS-CHAP2-Success, RFC 2548 §2.3.3).
    AuthenticatorResponse([u8; 20]),
    /// MS-CHAP-V2 with the user's NT hash: the link computes `S=`.
    NtHash(NtHash),
}

/// The credentials the peer presented, in the method's own form.
/// `Debug` prints only the user name.
#[derive(Clone, Copy)]
pub enum Credentials<'a> {
    /// PAP Authenticate-Request (RFC 1334 §2.2.1).
    Pap {
        /// Peer-Id.
        user: &'a [u8],
        /// Password, in the clear.
        password: &'a [u8],
    },
    /// CHAP with MD5 (RFC 1994 §4.1).
    ChapMd5 {
        /// The Identifier of Challenge and Response (hashed in).
        identifier: u8,
        /// Our challenge.
        challenge: &'a [u8; 16],
        /// MD5(Identifier | secret | challenge) as the peer computed it.
        response: &'a [u8; 16],
        /// The Name field.
        user: &'a [u8],
    },
    /// MS-CHAP (RFC 2433 §3).
    MsChapV1 {
        /// The Identifier.
        identifier: u8,
        /// Our 8-octet challenge.
        challenge: &'a [u8; 8],
        /// The NT-Response.
        nt_response: &'a [u8; 24],
        /// The Name field.
        user: &'a [u8],
    },
    /// MS-CHAP-V2 (RFC 2759 §4).
    MsChapV2 {
        /// The Identifier.
        identifier: u8,
        /// Our 16-octet challenge.
        authenticator_challenge: &'a [u8; 16],
        /// The peer's challenge.
        peer_challenge: &'a [u8; 16],
        /// The NT-Response.
        nt_response: &'a [u8; 24],
        /// The Name field (possibly `DOMAIN\user`).
        user: &'a [u8],
    },
}

impl Credentials<'_> {
    /// The user name the peer gave.
    pub fn user(&self) -> &[u8] {
        match *self {
            Self::Pap { user, .. }
            | Self::ChapMd5 { user, .. }
            | Self::MsChapV1 { user, .. }
            | Self::MsChapV2 { user, .. } => user,
        }
    }

    /// The method.
    pub fn method(&self) -> AuthMethod {
        match self {
            Self::Pap { .. } => AuthMethod::Pap,
            Self::ChapMd5 { .. } => AuthMethod::ChapMd5,
            Self::MsChapV1 { .. } => AuthMethod::MsChapV1,
            Self::MsChapV2 { .. } => AuthMethod::MsChapV2,
        }
    }

    /// Verifies against a local database entry that stores only the NT hash
    /// (constant-time): PAP hashes the offered password, MS-CHAP and
    /// MS-CHAP-V2 check the NT-Response. On success, what to pass to
    /// `accept`. CHAP-MD5 cannot be verified from a hash and always gives
    /// `None`: send it to RADIUS, or use [`Credentials::verify_password`].
    pub fn verify(&self, hash: &NtHash) -> Option<Accept> {
        match *self {
            Self::Pap { password, .. } => {
                crypto::verify_pap(hash, password).then_some(Accept::Plain)
            }
            Self::ChapMd5 { .. } => None,
            Self::MsChapV1 {
                challenge,
                nt_response,
                ..
            } => crypto::verify_mschap_v1(hash, challenge, nt_response, true)
                .then_some(Accept::Plain),
            Self::MsChapV2 {
                authenticator_challenge,
                peer_challenge,
                nt_response,
                user,
                ..
            } => crypto::verify_mschap_v2(
                hash,
                authenticator_challenge,
                peer_challenge,
                user,
                nt_response,
            )
            .map(Accept::AuthenticatorResponse),
        }
    }

    /// Verifies against a cleartext password (constant-time), for every
    /// method.
    pub fn verify_password(&self, password: &[u8]) -> Option<Accept> {
        match *self {
            Self::Pap {
                password: offered, ..
            } => bool::from(offered.ct_eq(password)).then_some(Accept::Plain),
            Self::ChapMd5 {
                identifier,
                challenge,
                response,
                ..
            } => crypto::verify_chap_md5(password, identifier, challenge, response)
                .then_some(Accept::Plain),
            _ => self.verify(&NtHash::from_password_bytes(password)),
        }
    }
}

impl core::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{:?} {{ user: {:?}, .. }}",
            self.method(),
            crate::Bytes(self.user())
        )
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Credentials<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{} user={=[u8]}", self.method(), self.user());
    }
}

/// The peer asks to be authenticated ([`crate::Event::AuthRequest`]).
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AuthRequest<'a> {
    /// What the peer presented.
    pub credentials: Credentials<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum St {
    Idle,
    /// Authenticator: challenge sent (or waiting for PAP / the EAP
    /// Identity). Peer: waiting for a challenge (or PAP request sent).
    Waiting,
    /// Authenticator: waiting for the caller (or relaying EAP). Peer:
    /// response sent, waiting for the result.
    Deciding,
    Succeeded,
    Failed,
}

mod tx {
    /// Authenticator: the CHAP Challenge.
    pub const CHALLENGE: u8 = 1;
    /// Authenticator: EAP-Request/Identity.
    pub const EAP_IDENTITY: u8 = 2;
    /// Authenticator: Ack/Nak, Success/Failure.
    pub const RESULT: u8 = 4;
    /// Peer: PAP request, CHAP response, EAP response.
    pub const RESPONSE: u8 = 8;
}

/// What an incoming authentication packet led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Nothing visible (a retransmission may have been queued).
    Nothing,
    /// Authenticator: credentials are ready for the caller.
    Request,
    /// Authenticator: an EAP Response to relay to the caller.
    Eap,
    /// Peer: authenticated.
    Succeeded,
    /// The link must close.
    Failed(DownReason),
}

/// What the authentication timers did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimerOutcome {
    Nothing,
    /// The caller must resend its EAP Request.
    EapRetransmit,
    Down(DownReason),
}

/// The authentication state of one link.
#[derive(Clone)]
pub(crate) struct Auth {
    pub method: Option<AuthMethod>,
    st: St,
    /// Authenticator: our Challenge's / the PAP request's Identifier.
    /// Peer: our PAP request's Identifier.
    id: u8,
    /// Identifier of the pending Result (authenticator) or Response (peer).
    tx_id: u8,
    retries: u8,
    tx: u8,
    /// Peer: the EAP Type of the pending response. Authenticator: 1 while
    /// an EAP Request (Identifier `id`) awaits its Response.
    eap_kind: u8,
    /// Retransmission.
    pub timer: Deadline,
    /// The whole phase.
    pub deadline: Deadline,
    /// Authenticator: the challenge in 0..16, the MS-CHAP-V2 authenticator
    /// response in 16..36 after `accept`. Peer: the response value (MD5 in
    /// 0..16; MS-CHAP NT-Response in 0..24; MS-CHAP-V2 peer challenge
    /// 0..16, NT-Response 16..40, challenge hash 40..48).
    scratch: [u8; 48],
    /// Authenticator: the peer's user name and password or response.
    /// Peer: our user name and password.
    creds: Creds,
}

impl core::fmt::Debug for Auth {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Auth")
            .field("method", &self.method)
            .field("st", &self.st)
            .finish_non_exhaustive()
    }
}

impl Drop for Auth {
    fn drop(&mut self) {
        self.scratch.zeroize();
    }
}

impl Auth {
    pub const fn new() -> Self {
        Self {
            method: None,
            st: St::Idle,
            id: 0,
            tx_id: 0,
            retries: 0,
            tx: 0,
            eap_kind: 0,
            timer: Deadline::NONE,
            deadline: Deadline::NONE,
            scratch: [0; 48],
            creds: Creds::new(),
        }
    }

    /// Keeps our own strings: the authenticator's name, or the peer's user
    /// name and password.
    pub fn set_own_credentials(&mut self, name: &[u8], password: &[u8]) -> bool {
        self.creds.set_own(name, password)
    }

    /// Ends the phase (LCP left Opened). A pending Failure/Nak still goes
    /// out: it precedes the Terminate-Request that follows a rejection.
    pub fn stop(&mut self) {
        let keep_result = self.st == St::Failed && self.tx & tx::RESULT != 0;
        self.st = St::Idle;
        self.tx = if keep_result { tx::RESULT } else { 0 };
        if !keep_result {
            self.method = None;
        } else {
            self.st = St::Failed;
        }
        self.timer = Deadline::NONE;
        self.deadline = Deadline::NONE;
        self.creds.wipe();
    }

    /// The credentials for [`crate::Event::AuthRequest`].
    pub fn request(&self) -> Option<AuthRequest<'_>> {
        if self.st != St::Deciding {
            return None;
        }
        // PAP: (user, password); CHAP: (response, user).
        let (a, b) = (self.creds.a(), self.creds.b());
        let user = b;
        let credentials = match self.method? {
            AuthMethod::Pap => Credentials::Pap {
                user: a,
                password: b,
            },
            AuthMethod::ChapMd5 => Credentials::ChapMd5 {
                identifier: self.id,
                challenge: self.scratch[..16].try_into().ok()?,
                response: a.try_into().ok()?,
                user,
            },
            AuthMethod::MsChapV1 => Credentials::MsChapV1 {
                identifier: self.id,
                challenge: self.scratch[..8].try_into().ok()?,
                nt_response: a.try_into().ok()?,
                user,
            },
            AuthMethod::MsChapV2 => Credentials::MsChapV2 {
                identifier: self.id,
                authenticator_challenge: self.scratch[..16].try_into().ok()?,
                peer_challenge: a.get(..16)?.try_into().ok()?,
                nt_response: a.get(16..40)?.try_into().ok()?,
                user,
            },
            AuthMethod::Eap => return None,
        };
        Some(AuthRequest { credentials })
    }

    // ---- Authenticator ----

    /// Starts authenticating the peer with `method` (LCP is Opened in both
    /// directions, so iOS gets no challenge too early).
    pub fn start_authenticator<R: CryptoRng>(
        &mut self,
        now: Duration,
        s: &Settings,
        rng: &mut R,
        method: AuthMethod,
    ) {
        self.method = Some(method);
        self.st = St::Waiting;
        self.tx = 0;
        self.creds.wipe();
        self.deadline = Deadline::after(now, s.auth_timeout_ms);
        self.id = rng.next_u32().to_le_bytes()[0];
        match method {
            AuthMethod::Pap => {}
            AuthMethod::ChapMd5 | AuthMethod::MsChapV1 | AuthMethod::MsChapV2 => {
                rng.fill_bytes(&mut self.scratch[..16]);
                self.tx = tx::CHALLENGE;
            }
            AuthMethod::Eap => {
                self.tx = tx::EAP_IDENTITY;
                self.eap_kind = 1;
            }
        }
        if self.tx != 0 {
            self.retries = s.timers.max_configure.saturating_sub(1);
            self.timer = Deadline::after(now, s.timers.restart_ms);
        }
    }

    /// The caller accepted.
    pub fn accept(&mut self, a: Accept) -> Result<AuthMethod, crate::Error> {
        let method = self.method.ok_or(crate::Error::InvalidState)?;
        if self.st != St::Deciding {
            return Err(crate::Error::InvalidState);
        }
        if method == AuthMethod::MsChapV2 {
            let s = match a {
                Accept::AuthenticatorResponse(s) => s,
                Accept::NtHash(h) => {
                    let cred = self.creds.a();
                    let (Some(pc), Some(nt)) = (cred.get(..16), cred.get(16..40)) else {
                        return Err(crate::Error::InvalidState);
                    };
                    let (Ok(pc), Ok(nt)) = (<&[u8; 16]>::try_from(pc), <&[u8; 24]>::try_from(nt))
                    else {
                        return Err(crate::Error::InvalidState);
                    };
                    let mut ch = [0u8; 16];
                    ch.copy_from_slice(&self.scratch[..16]);
                    crypto::authenticator_response(&h, nt, pc, &ch, self.creds.b())
                }
                Accept::Plain => return Err(crate::Error::MissingAuthenticatorResponse),
            };
            self.scratch[16..36].copy_from_slice(&s);
        }
        self.creds.wipe();
        self.st = St::Succeeded;
        self.tx = tx::RESULT;
        self.tx_id = self.id;
        self.timer = Deadline::NONE;
        self.deadline = Deadline::NONE;
        Ok(method)
    }

    /// The caller rejected.
    pub fn reject(&mut self) -> Result<(), crate::Error> {
        if self.st != St::Deciding {
            return Err(crate::Error::InvalidState);
        }
        self.fail();
        Ok(())
    }

    fn fail(&mut self) {
        self.creds.wipe();
        self.st = St::Failed;
        self.tx = tx::RESULT;
        self.tx_id = self.id;
        self.timer = Deadline::NONE;
        self.deadline = Deadline::NONE;
    }

    /// A PAP packet, authenticator side.
    pub fn authenticator_pap(&mut self, p: pap::Repr<'_>) -> Outcome {
        let pap::Repr::Request {
            identifier,
            peer_id,
            password,
        } = p
        else {
            return Outcome::Nothing;
        };
        match self.st {
            St::Waiting => {
                self.id = identifier;
                if !self.creds.set(peer_id, password) {
                    debug!("pap: credentials longer than the link holds");
                    self.fail();
                    return Outcome::Failed(DownReason::AuthFailed);
                }
                self.st = St::Deciding;
                Outcome::Request
            }
            // RFC 1334 §2.2.1: a repeated request after the answer gets the
            // same answer (the Ack may have been lost).
            St::Succeeded | St::Failed => {
                self.tx_id = identifier;
                self.tx |= tx::RESULT;
                Outcome::Nothing
            }
            St::Idle | St::Deciding => Outcome::Nothing,
        }
    }

    /// A CHAP packet, authenticator side.
    pub fn authenticator_chap(&mut self, p: chap::Repr<'_>) -> Outcome {
        let chap::Repr::Response {
            identifier,
            value,
            name,
        } = p
        else {
            return Outcome::Nothing;
        };
        if identifier != self.id {
            return Outcome::Nothing;
        }
        match self.st {
            St::Waiting => {}
            // RFC 1994 §4.2: a repeated Response gets the same answer.
            St::Succeeded | St::Failed => {
                self.tx |= tx::RESULT;
                return Outcome::Nothing;
            }
            St::Idle | St::Deciding => return Outcome::Nothing,
        }
        let stored = match self.method {
            Some(AuthMethod::ChapMd5) if value.len() == 16 => self.creds.set(value, name),
            Some(AuthMethod::MsChapV1) => match MsChapV1Response::parse(value) {
                // Only the NT response is used; an LM-only response is
                // refused (the LM hash is neither stored nor safe).
                Ok(r) if r.use_nt_response => self.creds.set(&r.nt_response, name),
                _ => false,
            },
            Some(AuthMethod::MsChapV2) => match MsChapV2Response::parse(value) {
                Ok(r) => {
                    let mut v = [0u8; 40];
                    v[..16].copy_from_slice(&r.peer_challenge);
                    v[16..].copy_from_slice(&r.nt_response);
                    self.creds.set(&v, name)
                }
                Err(_) => false,
            },
            _ => false,
        };
        if !stored {
            debug!("chap: response of the wrong form or too long");
            self.fail();
            return Outcome::Failed(DownReason::AuthFailed);
        }
        self.st = St::Deciding;
        self.tx &= !tx::CHALLENGE;
        self.timer = Deadline::NONE;
        Outcome::Request
    }

    /// An EAP packet, authenticator side: the Response to the outstanding
    /// Request goes to the caller, once (RFC 3748 §4.1: a Response whose
    /// Identifier is not the outstanding Request's is discarded, and so is
    /// a duplicate).
    pub fn authenticator_eap(&mut self, p: eap::Repr<'_>) -> Outcome {
        match (p, self.st) {
            (eap::Repr::Response { identifier, .. }, St::Waiting | St::Deciding)
                if self.eap_kind == 1 && identifier == self.id =>
            {
                self.eap_kind = 0;
                self.tx_id = identifier;
                self.st = St::Deciding;
                self.tx &= !tx::EAP_IDENTITY;
                self.timer = Deadline::NONE;
                Outcome::Eap
            }
            _ => Outcome::Nothing,
        }
    }

    /// The caller sends an EAP Request to the peer (pass-through): it is
    /// outstanding until its Response, and retransmitted (by the caller, on
    /// [`crate::Event::EapRetransmit`]) at the restart interval.
    pub fn eap_request_sent(
        &mut self,
        now: Duration,
        s: &Settings,
        identifier: u8,
    ) -> Result<(), crate::Error> {
        if self.method != Some(AuthMethod::Eap) || !matches!(self.st, St::Waiting | St::Deciding) {
            return Err(crate::Error::InvalidState);
        }
        let retransmission = self.eap_kind == 1 && identifier == self.id && self.st == St::Deciding;
        self.st = St::Deciding;
        self.tx &= !tx::EAP_IDENTITY;
        self.id = identifier;
        self.eap_kind = 1;
        if !retransmission {
            self.retries = s.timers.max_configure.saturating_sub(1);
        }
        self.timer = Deadline::after(now, s.timers.restart_ms);
        Ok(())
    }

    /// Peer with EAP: an NCP packet from the authenticator while we wait for
    /// the result means the EAP-Success was lost (RFC 3748 §4.2: Success is
    /// not retransmitted, the peer must allow for its loss; §3.4: the lower
    /// layer's progress is the indication).
    pub fn peer_eap_implied_success(&mut self) -> bool {
        if self.method == Some(AuthMethod::Eap) && self.st == St::Deciding {
            self.peer_done();
            true
        } else {
            false
        }
    }

    // ---- Peer ----

    /// Starts authenticating ourselves with the method the authenticator
    /// asked for.
    pub fn start_peer(&mut self, now: Duration, s: &Settings, method: AuthMethod) {
        self.method = Some(method);
        self.st = St::Waiting;
        self.tx = 0;
        self.deadline = Deadline::after(now, s.auth_timeout_ms);
        if method == AuthMethod::Pap {
            self.id = self.id.wrapping_add(1);
            self.tx = tx::RESPONSE;
            self.retries = s.timers.max_configure.saturating_sub(1);
            self.timer = Deadline::after(now, s.timers.restart_ms);
        }
    }

    /// A PAP packet, peer side.
    pub fn peer_pap(&mut self, p: pap::Repr<'_>) -> Outcome {
        if self.st != St::Waiting || p.identifier() != self.id {
            return Outcome::Nothing;
        }
        match p {
            pap::Repr::Ack { .. } => self.peer_done(),
            pap::Repr::Nak { .. } => self.peer_failed(),
            pap::Repr::Request { .. } => Outcome::Nothing,
        }
    }

    fn peer_done(&mut self) -> Outcome {
        self.st = St::Succeeded;
        self.tx = 0;
        self.timer = Deadline::NONE;
        self.deadline = Deadline::NONE;
        Outcome::Succeeded
    }

    fn peer_failed(&mut self) -> Outcome {
        self.st = St::Failed;
        self.tx = 0;
        self.timer = Deadline::NONE;
        self.deadline = Deadline::NONE;
        Outcome::Failed(DownReason::AuthFailed)
    }

    /// A CHAP packet, peer side.
    pub fn peer_chap<R: CryptoRng>(
        &mut self,
        now: Duration,
        s: &Settings,
        rng: &mut R,
        p: chap::Repr<'_>,
    ) -> Outcome {
        let Some(method) = self.method else {
            return Outcome::Nothing;
        };
        match p {
            chap::Repr::Challenge {
                identifier, value, ..
            } => {
                if identifier == self.tx_id && matches!(self.st, St::Deciding | St::Succeeded) {
                    // A retransmitted challenge: the same response again.
                    self.tx |= tx::RESPONSE;
                    return Outcome::Nothing;
                }
                if self.st == St::Failed || self.st == St::Idle {
                    return Outcome::Nothing;
                }
                let hash = NtHash::from_password_bytes(self.creds.own_b());
                match method {
                    AuthMethod::ChapMd5 if !value.is_empty() => {
                        let r = crypto::chap_md5_response(identifier, self.creds.own_b(), value);
                        self.scratch[..16].copy_from_slice(&r);
                    }
                    AuthMethod::MsChapV1 if value.len() == 8 => {
                        let mut c = [0u8; 8];
                        c.copy_from_slice(value);
                        self.scratch[..24]
                            .copy_from_slice(&crypto::mschap_v1_nt_response(&c, &hash));
                    }
                    AuthMethod::MsChapV2 if value.len() == 16 => {
                        let mut ac = [0u8; 16];
                        ac.copy_from_slice(value);
                        let mut pc = [0u8; 16];
                        rng.fill_bytes(&mut pc);
                        let ch = crypto::challenge_hash(&pc, &ac, self.creds.own_a());
                        let nt = crypto::challenge_response(&ch, &hash);
                        self.scratch[..16].copy_from_slice(&pc);
                        self.scratch[16..40].copy_from_slice(&nt);
                        self.scratch[40..48].copy_from_slice(&ch);
                    }
                    _ => {
                        debug!("chap: challenge of the wrong length for {:?}", method);
                        return Outcome::Nothing;
                    }
                }
                self.tx_id = identifier;
                self.tx |= tx::RESPONSE;
                if self.st != St::Succeeded {
                    self.st = St::Deciding;
                }
                self.retries = s.timers.max_configure.saturating_sub(1);
                self.timer = Deadline::after(now, s.timers.restart_ms);
                Outcome::Nothing
            }
            chap::Repr::Success {
                identifier,
                message,
            } => {
                if self.st != St::Deciding || identifier != self.tx_id {
                    return Outcome::Nothing;
                }
                if method == AuthMethod::MsChapV2 {
                    // RFC 2759 §5: the peer checks the authenticator response
                    // (mutual authentication).
                    let hash = NtHash::from_password_bytes(self.creds.own_b());
                    let mut nt = [0u8; 24];
                    nt.copy_from_slice(&self.scratch[16..40]);
                    let mut ch = [0u8; 8];
                    ch.copy_from_slice(&self.scratch[40..48]);
                    let expected =
                        crypto::authenticator_response_from_challenge_hash(&hash, &nt, &ch);
                    let ok = SuccessMessage::parse(message)
                        .is_ok_and(|m| bool::from(m.authenticator_response.ct_eq(&expected)));
                    if !ok {
                        debug!("mschapv2: the authenticator's S= is wrong");
                        return self.peer_failed();
                    }
                }
                self.peer_done()
            }
            chap::Repr::Failure { identifier, .. } => {
                if matches!(self.st, St::Deciding | St::Succeeded) && identifier == self.tx_id {
                    self.peer_failed()
                } else {
                    Outcome::Nothing
                }
            }
            chap::Repr::Response { .. } => Outcome::Nothing,
        }
    }

    /// An EAP packet, peer side.
    pub fn peer_eap(&mut self, p: eap::Repr<'_>) -> Outcome {
        if !matches!(self.st, St::Waiting | St::Deciding) {
            return Outcome::Nothing;
        }
        match p {
            eap::Repr::Request {
                identifier,
                kind,
                data,
            } => {
                self.eap_kind = match kind {
                    eap::kind::IDENTITY | eap::kind::NOTIFICATION => kind,
                    eap::kind::MD5_CHALLENGE => match eap::Md5Challenge::parse(data) {
                        Ok(c) => {
                            let r =
                                crypto::chap_md5_response(identifier, self.creds.own_b(), c.value);
                            self.scratch[..16].copy_from_slice(&r);
                            kind
                        }
                        Err(_) => return Outcome::Nothing,
                    },
                    // Legacy Nak (RFC 3748 §5.3.1): we only do MD5.
                    _ => eap::kind::NAK,
                };
                self.tx_id = identifier;
                self.tx |= tx::RESPONSE;
                self.st = St::Deciding;
                Outcome::Nothing
            }
            eap::Repr::Success { .. } => self.peer_done(),
            eap::Repr::Failure { .. } => self.peer_failed(),
            eap::Repr::Response { .. } => Outcome::Nothing,
        }
    }

    // ---- Both ----

    /// Timers: retransmission and the phase deadline.
    pub fn handle_timeout(&mut self, now: Duration, s: &Settings) -> TimerOutcome {
        if self.deadline.is_due(now) {
            self.deadline = Deadline::NONE;
            self.timer = Deadline::NONE;
            self.st = St::Failed;
            self.tx = 0;
            return TimerOutcome::Down(DownReason::AuthTimeout);
        }
        if self.timer.is_due(now) {
            if self.retries == 0 {
                self.timer = Deadline::NONE;
                self.st = St::Failed;
                self.tx = 0;
                return TimerOutcome::Down(DownReason::AuthTimeout);
            }
            self.retries -= 1;
            self.timer = Deadline::after(now, s.timers.restart_ms);
            match (s.is_authenticator(), self.method, self.st) {
                // The caller holds the relayed Request.
                (true, Some(AuthMethod::Eap), St::Deciding) => return TimerOutcome::EapRetransmit,
                (true, Some(AuthMethod::Eap), _) => self.tx |= tx::EAP_IDENTITY,
                (true, _, _) => self.tx |= tx::CHALLENGE,
                (false, _, _) => self.tx |= tx::RESPONSE,
            }
        }
        TimerOutcome::Nothing
    }

    /// The next deadline.
    pub fn poll_timeout(&self) -> Deadline {
        self.timer.min(self.deadline)
    }

    /// Whether a packet is waiting.
    pub fn wants_transmit(&self) -> bool {
        self.tx != 0
    }

    /// Writes the next packet (the protocol's Information field) into
    /// `buf`; returns the protocol and length.
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Result<Option<(u16, usize)>, crate::Error> {
        let Some(method) = self.method else {
            self.tx = 0;
            return Ok(None);
        };
        let mut scratch = [0u8; 4 + 2 + CREDENTIALS_CAPACITY + chap::MSCHAP_RESPONSE_LEN];
        let (flag, proto, len) = if self.tx & tx::CHALLENGE != 0 {
            let n = if method == AuthMethod::MsChapV1 {
                8
            } else {
                16
            };
            let r = chap::Repr::Challenge {
                identifier: self.id,
                value: &self.scratch[..n],
                name: self.creds.own_a(),
            };
            r.emit(&mut scratch);
            (tx::CHALLENGE, 0xc223, r.buffer_len())
        } else if self.tx & tx::EAP_IDENTITY != 0 {
            let r = eap::Repr::Request {
                identifier: self.id,
                kind: eap::kind::IDENTITY,
                data: &[],
            };
            r.emit(&mut scratch);
            (tx::EAP_IDENTITY, 0xc227, r.buffer_len())
        } else if self.tx & tx::RESULT != 0 {
            let ok = self.st == St::Succeeded;
            let (proto, len) = self.emit_result(method, ok, &mut scratch);
            (tx::RESULT, proto, len)
        } else if self.tx & tx::RESPONSE != 0 {
            let (proto, len) = self.emit_response(method, &mut scratch);
            (tx::RESPONSE, proto, len)
        } else {
            return Ok(None);
        };
        let out = buf
            .get_mut(..len)
            .ok_or(crate::Error::BufferTooSmall { needed: len })?;
        out.copy_from_slice(&scratch[..len]);
        scratch.zeroize();
        self.tx &= !flag;
        Ok(Some((proto, len)))
    }

    fn emit_result(&self, method: AuthMethod, ok: bool, out: &mut [u8]) -> (u16, usize) {
        let identifier = self.tx_id;
        match method {
            AuthMethod::Pap => {
                let message = if ok { GRANTED } else { DENIED };
                let r = if ok {
                    pap::Repr::Ack {
                        identifier,
                        message,
                    }
                } else {
                    pap::Repr::Nak {
                        identifier,
                        message,
                    }
                };
                r.emit(out);
                (0xc023, r.buffer_len())
            }
            AuthMethod::Eap => {
                let r = if ok {
                    eap::Repr::Success { identifier }
                } else {
                    eap::Repr::Failure { identifier }
                };
                r.emit(out);
                (0xc227, r.buffer_len())
            }
            _ => {
                // The message is built in place after the 4-octet header.
                let mut msg = [0u8; 96];
                let n = match (method, ok) {
                    (AuthMethod::MsChapV2, true) => {
                        let mut authenticator_response = [0u8; 20];
                        authenticator_response.copy_from_slice(&self.scratch[16..36]);
                        let m = SuccessMessage {
                            authenticator_response,
                            message: GRANTED,
                        };
                        m.emit(&mut msg);
                        m.buffer_len()
                    }
                    (AuthMethod::MsChapV1 | AuthMethod::MsChapV2, false) => {
                        // RFC 2433 §5 / RFC 2759 §6: E=691 (authentication
                        // failure), no retry; MS-CHAP-V2 adds the challenge,
                        // version 3 and a message.
                        let v2 = method == AuthMethod::MsChapV2;
                        let mut challenge = ([0u8; 16], 0);
                        if v2 {
                            challenge.0.copy_from_slice(&self.scratch[..16]);
                            challenge.1 = 16;
                        }
                        let m = FailureMessage {
                            error: 691,
                            retry: false,
                            challenge,
                            version: v2.then_some(3),
                            message: v2.then_some(DENIED),
                        };
                        m.emit(&mut msg);
                        m.buffer_len()
                    }
                    (_, true) => {
                        msg[..GRANTED.len()].copy_from_slice(GRANTED);
                        GRANTED.len()
                    }
                    (_, false) => {
                        msg[..DENIED.len()].copy_from_slice(DENIED);
                        DENIED.len()
                    }
                };
                let r = if ok {
                    chap::Repr::Success {
                        identifier,
                        message: &msg[..n],
                    }
                } else {
                    chap::Repr::Failure {
                        identifier,
                        message: &msg[..n],
                    }
                };
                r.emit(out);
                (0xc223, r.buffer_len())
            }
        }
    }

    fn emit_response(&self, method: AuthMethod, out: &mut [u8]) -> (u16, usize) {
        let (user, password) = (self.creds.own_a(), self.creds.own_b());
        let identifier = self.tx_id;
        match method {
            AuthMethod::Pap => {
                let r = pap::Repr::Request {
                    identifier: self.id,
                    peer_id: user,
                    password,
                };
                r.emit(out);
                (0xc023, r.buffer_len())
            }
            AuthMethod::Eap => {
                let mut md5 = [0u8; 17];
                let data: &[u8] = match self.eap_kind {
                    eap::kind::IDENTITY => user,
                    eap::kind::MD5_CHALLENGE => {
                        md5[0] = 16;
                        md5[1..].copy_from_slice(&self.scratch[..16]);
                        &md5
                    }
                    eap::kind::NAK => &[eap::kind::MD5_CHALLENGE],
                    _ => &[],
                };
                let r = eap::Repr::Response {
                    identifier,
                    kind: self.eap_kind,
                    data,
                };
                r.emit(out);
                (0xc227, r.buffer_len())
            }
            _ => {
                let mut v = [0u8; chap::MSCHAP_RESPONSE_LEN];
                let value: &[u8] = match method {
                    AuthMethod::ChapMd5 => &self.scratch[..16],
                    AuthMethod::MsChapV1 => {
                        // LM-Response zero, NT-Response, "use NT" (RFC 2433 §3).
                        v[24..48].copy_from_slice(&self.scratch[..24]);
                        v[48] = 1;
                        &v
                    }
                    _ => {
                        v[..16].copy_from_slice(&self.scratch[..16]);
                        v[24..48].copy_from_slice(&self.scratch[16..40]);
                        &v
                    }
                };
                let r = chap::Repr::Response {
                    identifier,
                    value,
                    name: user,
                };
                r.emit(out);
                (0xc223, r.buffer_len())
            }
        }
    }
}
