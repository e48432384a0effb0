//! A RADIUS server for the simulation: PAP, CHAP-MD5, MS-CHAPv1/v2 (with
//! MS-CHAP2-Success), EAP-MD5 through Access-Challenge, accounting. Its
//! cryptography is radius-core's and ppp-core's, each checked against
//! published vectors and real captures in their own crates; the FreeRADIUS
//! test is the independent judge of the same flows.

use radius_core::crypto;
use radius_core::wire::PacketBuilder;
use radius_core::{AttributeType, Code, MsAttributeType, Packet};
use std::collections::HashMap;

pub const SECRET: &[u8] = b"radsecret";

/// Per-user reply attributes.
#[derive(Default, Clone)]
pub struct UserReply {
    pub framed_ip: Option<[u8; 4]>,
    pub session_timeout: Option<u32>,
    pub class: Option<Vec<u8>>,
}

#[derive(Default)]
pub struct FakeRadius {
    pub users: HashMap<String, (String, UserReply)>,
    /// Drop every request (a server that never answers).
    pub silent: bool,
    /// Accounting-Starts and -Stops (by Acct-Session-Id) that arrived while
    /// the server was silent: sent by the gateway, never heard.
    pub unheard_starts: Vec<String>,
    pub unheard_stops: Vec<String>,
    pub access_requests: usize,
    /// Access-Requests that reached the server while it was silent.
    pub unheard_access_requests: usize,
    pub accepts: usize,
    pub rejects: usize,
    pub starts: Vec<String>,
    pub stops: Vec<(String, u32)>,
    /// Interim-Updates: session and Acct-Session-Time.
    pub interims: Vec<(String, u32)>,
    /// EAP-MD5 challenges handed out, by State.
    eap: HashMap<Vec<u8>, (String, u8, [u8; 16])>,
    next_state: u32,
}

/// The Acct-Session-Id and Acct-Status-Type of an Accounting-Request.
pub fn accounting_of(request: &[u8]) -> Option<(String, u32)> {
    let req = Packet::new_checked(request).ok()?;
    if req.code() != Code::AccountingRequest {
        return None;
    }
    let id = String::from_utf8_lossy(req.attribute(AttributeType::AcctSessionId)?).into_owned();
    Some((id, attr_u32(&req, AttributeType::AcctStatusType)?))
}

fn attr_u32(p: &Packet<&[u8]>, t: AttributeType) -> Option<u32> {
    p.attribute(t)
        .and_then(|v| <[u8; 4]>::try_from(v).ok())
        .map(u32::from_be_bytes)
}

impl FakeRadius {
    pub fn user(&mut self, name: &str, password: &str, reply: UserReply) {
        self.users
            .insert(name.to_owned(), (password.to_owned(), reply));
    }

    /// Answers one request, or `None` when silent or unparseable.
    pub fn answer(&mut self, request: &[u8]) -> Option<Vec<u8>> {
        let req = Packet::new_checked(request).ok()?;
        if self.silent {
            if req.code() == Code::AccessRequest {
                self.unheard_access_requests += 1;
            }
            if req.code() == Code::AccountingRequest
                && let Some(id) = req.attribute(AttributeType::AcctSessionId)
            {
                let id = String::from_utf8_lossy(id).into_owned();
                match attr_u32(&req, AttributeType::AcctStatusType) {
                    Some(1) => self.unheard_starts.push(id),
                    Some(2) => self.unheard_stops.push(id),
                    _ => {}
                }
            }
            return None;
        }
        match req.code() {
            Code::AccessRequest => Some(self.access(&req)),
            Code::AccountingRequest => {
                // RFC 2866 §3: the request authenticator is checked.
                let auth = crypto::packet_authenticator(req.as_bytes(), &[0; 16], SECRET);
                if auth != req.authenticator() {
                    return None;
                }
                let session = String::from_utf8_lossy(req.attribute(AttributeType::AcctSessionId)?)
                    .into_owned();
                match attr_u32(&req, AttributeType::AcctStatusType) {
                    Some(1) => self.starts.push(session),
                    Some(2) => self.stops.push((
                        session,
                        attr_u32(&req, AttributeType::AcctTerminateCause).unwrap_or(0),
                    )),
                    Some(3) => self.interims.push((
                        session,
                        attr_u32(&req, AttributeType::AcctSessionTime).unwrap_or(u32::MAX),
                    )),
                    _ => {}
                }
                Some(respond(&req, Code::AccountingResponse, &[], false))
            }
            _ => None,
        }
    }

    fn access(&mut self, req: &Packet<&[u8]>) -> Vec<u8> {
        self.access_requests += 1;
        // BlastRADIUS hygiene: the gateway always sends a Message-Authenticator.
        let Some(at) = crypto::find_message_authenticator(req) else {
            return self.reject(req);
        };
        let ma = crypto::message_authenticator(req.as_bytes(), &req.authenticator(), at, SECRET);
        if ma[..] != req.as_bytes()[at..at + 16] {
            return self.reject(req);
        }
        let user =
            String::from_utf8_lossy(req.attribute(AttributeType::UserName).unwrap_or_default())
                .into_owned();
        if let Some(eap) = req.attribute(AttributeType::EapMessage) {
            return self.eap(req, &user, eap);
        }
        let Some((password, reply)) = self.users.get(&user).cloned() else {
            return self.reject(req);
        };
        let ra = req.authenticator();
        let mut extra: Vec<(AttributeType, Vec<u8>)> = Vec::new();
        let mut ms2_success = None;
        let ok = if let Some(hidden) = req.attribute(AttributeType::UserPassword) {
            let mut buf = hidden.to_vec();
            let n = crypto::unhide_user_password(SECRET, &ra, &mut buf).unwrap_or(0);
            buf[..n] == *password.as_bytes()
        } else if let Some(chap) = req.attribute(AttributeType::ChapPassword) {
            let challenge = req
                .attribute(AttributeType::ChapChallenge)
                .map_or(ra.to_vec(), <[u8]>::to_vec);
            let want =
                ppp_core::crypto::chap_md5_response(chap[0], password.as_bytes(), &challenge);
            chap[1..] == want
        } else if let Some(r) = req.ms_attribute(MsAttributeType::MsChap2Response) {
            let challenge: [u8; 16] = req
                .ms_attribute(MsAttributeType::MsChapChallenge)
                .unwrap()
                .try_into()
                .unwrap();
            let peer: [u8; 16] = r[2..18].try_into().unwrap();
            let nt: [u8; 24] = r[26..50].try_into().unwrap();
            let hash = ppp_core::crypto::NtHash::from_password(&password);
            match ppp_core::crypto::verify_mschap_v2(&hash, &challenge, &peer, user.as_bytes(), &nt)
            {
                Some(s) => {
                    let mut v = vec![r[0]];
                    v.extend_from_slice(b"S=");
                    v.extend(s.iter().flat_map(|b| format!("{b:02X}").into_bytes()));
                    ms2_success = Some(v);
                    true
                }
                None => false,
            }
        } else if let Some(r) = req.ms_attribute(MsAttributeType::MsChapResponse) {
            let challenge: [u8; 8] = req
                .ms_attribute(MsAttributeType::MsChapChallenge)
                .unwrap()
                .try_into()
                .unwrap();
            let nt: [u8; 24] = r[26..50].try_into().unwrap();
            let hash = ppp_core::crypto::NtHash::from_password(&password);
            ppp_core::crypto::verify_mschap_v1(&hash, &challenge, &nt, true)
        } else {
            false
        };
        if !ok {
            return self.reject(req);
        }
        self.accepts += 1;
        if let Some(ip) = reply.framed_ip {
            extra.push((AttributeType::FramedIpAddress, ip.to_vec()));
        }
        if let Some(t) = reply.session_timeout {
            extra.push((AttributeType::SessionTimeout, t.to_be_bytes().to_vec()));
        }
        if let Some(c) = reply.class {
            extra.push((AttributeType::Class, c));
        }
        let attrs: Vec<(AttributeType, &[u8])> = extra.iter().map(|(t, v)| (*t, &v[..])).collect();
        respond_with_ms2(req, Code::AccessAccept, &attrs, ms2_success.as_deref())
    }

    fn eap(&mut self, req: &Packet<&[u8]>, user: &str, eap: &[u8]) -> Vec<u8> {
        let message: Vec<u8> = req
            .attributes()
            .map_while(Result::ok)
            .filter(|a| a.kind == AttributeType::EapMessage)
            .flat_map(|a| a.value.iter().copied())
            .collect();
        let _ = eap;
        match (message.first(), message.get(4)) {
            // Response/Identity: send an MD5-Challenge.
            (Some(2), Some(1)) => {
                let id = message[1].wrapping_add(1);
                let challenge = [0x5a ^ id; 16];
                self.next_state += 1;
                let state = format!("state-{}", self.next_state).into_bytes();
                self.eap
                    .insert(state.clone(), (user.to_owned(), id, challenge));
                let mut request = vec![1, id, 0, 22, 4, 16];
                request.extend_from_slice(&challenge);
                respond(
                    req,
                    Code::AccessChallenge,
                    &[
                        (AttributeType::EapMessage, &request),
                        (AttributeType::State, &state),
                    ],
                    true,
                )
            }
            // Response/MD5-Challenge.
            (Some(2), Some(4)) => {
                let state = req
                    .attribute(AttributeType::State)
                    .unwrap_or_default()
                    .to_vec();
                let Some((name, id, challenge)) = self.eap.remove(&state) else {
                    return self.reject(req);
                };
                let Some((password, _)) = self.users.get(&name).cloned() else {
                    return self.reject(req);
                };
                let want = ppp_core::crypto::chap_md5_response(id, password.as_bytes(), &challenge);
                if message.get(6..22) == Some(&want[..]) {
                    self.accepts += 1;
                    respond(
                        req,
                        Code::AccessAccept,
                        &[(AttributeType::EapMessage, &[3, id, 0, 4])],
                        true,
                    )
                } else {
                    self.rejects += 1;
                    respond(
                        req,
                        Code::AccessReject,
                        &[(AttributeType::EapMessage, &[4, id, 0, 4])],
                        true,
                    )
                }
            }
            _ => self.reject(req),
        }
    }

    fn reject(&mut self, req: &Packet<&[u8]>) -> Vec<u8> {
        self.rejects += 1;
        respond(req, Code::AccessReject, &[], false)
    }
}

fn respond(
    req: &Packet<&[u8]>,
    code: Code,
    attrs: &[(AttributeType, &[u8])],
    with_ma: bool,
) -> Vec<u8> {
    build(req, code, attrs, None, with_ma)
}

fn respond_with_ms2(
    req: &Packet<&[u8]>,
    code: Code,
    attrs: &[(AttributeType, &[u8])],
    ms2: Option<&[u8]>,
) -> Vec<u8> {
    build(req, code, attrs, ms2, true)
}

fn build(
    req: &Packet<&[u8]>,
    code: Code,
    attrs: &[(AttributeType, &[u8])],
    ms2: Option<&[u8]>,
    with_ma: bool,
) -> Vec<u8> {
    let ra = req.authenticator();
    let mut buf = vec![0u8; 4096];
    let mut b = PacketBuilder::new(&mut buf, code, req.identifier(), &ra).unwrap();
    for (t, v) in attrs {
        b.split(*t, v).unwrap();
    }
    if let Some(v) = ms2 {
        b.microsoft(MsAttributeType::MsChap2Success, v).unwrap();
    }
    let ma = with_ma.then(|| {
        b.attribute(AttributeType::MessageAuthenticator, &[0; 16])
            .unwrap()
    });
    let packet = b.finish();
    if let Some(at) = ma {
        let m = crypto::message_authenticator(packet, &ra, at, SECRET);
        packet[at..at + 16].copy_from_slice(&m);
    }
    let auth = crypto::packet_authenticator(packet, &ra, SECRET);
    packet[4..20].copy_from_slice(&auth);
    packet.to_vec()
}
