//! The LCP option policy (RFC 1661 §6): MRU, ACCM, Authentication-Protocol,
//! Magic-Number with loop-back detection, PFC and ACFC; everything else
//! (Callback, MRRU, Short Sequence, Endpoint Discriminator, Quality-Protocol,
//! unknown types) is rejected.

use rand_core::CryptoRng;

use crate::config::{MIN_MRU, Settings};
use crate::cp::{Policy, Seen, Verdict, options, put};
use crate::event::DownReason;
use crate::fsm::Reply;
use crate::wire::cp::RawOption;
use crate::wire::lcp::{AuthMethod, LcpOption, kind};

/// The default MRU (RFC 1661 §6.1).
pub const DEFAULT_MRU: u16 = 1500;

/// What the peer asked for in its last Acked Configure-Request: how we must
/// send to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PeerOptions {
    /// The largest Information field the peer receives.
    pub mru: u16,
    pub accm: u32,
    /// Peer role: the method the authenticator wants.
    pub auth: Option<AuthMethod>,
    pub magic: u32,
    /// The peer receives one-octet protocol fields.
    pub pfc: bool,
    /// The peer receives frames without Address and Control.
    pub acfc: bool,
}

impl Default for PeerOptions {
    fn default() -> Self {
        Self {
            mru: DEFAULT_MRU,
            accm: u32::MAX,
            auth: None,
            magic: 0,
            pfc: false,
            acfc: false,
        }
    }
}

/// The LCP policy state: our request and the peer's Acked one.
#[derive(Debug, Clone)]
pub(crate) struct Lcp {
    /// Zero: not requesting an MRU.
    pub mru: u16,
    pub accm: u32,
    pub request_accm: bool,
    /// Authenticator: the method we ask for.
    pub auth: Option<AuthMethod>,
    /// Authenticator: bit i set when `Settings::auth[i]` was tried.
    auth_tried: u8,
    /// Zero: not requesting a Magic-Number.
    pub magic: u32,
    pub pfc: bool,
    pub acfc: bool,
    /// Configure-Naks of our Magic-Number that echoed our own Nak value
    /// (RFC 1661 §6.4: a loop grows more likely with each).
    loops: u8,
    /// The Magic-Number our Configure-Nak proposes.
    nak_magic: u32,
    /// The peer's acknowledged request.
    pub peer: PeerOptions,
}

fn nonzero_magic<R: CryptoRng>(rng: &mut R, not: u32) -> u32 {
    for _ in 0..8 {
        let m = rng.next_u32();
        if m != 0 && m != not {
            return m;
        }
    }
    // Only a broken RNG gets here; never loop on it.
    match not ^ 0x5a5a_5a5a {
        0 => 1,
        m => m,
    }
}

impl Lcp {
    pub fn new() -> Self {
        Self {
            mru: 0,
            accm: 0,
            request_accm: false,
            auth: None,
            auth_tried: 0,
            magic: 0,
            pfc: false,
            acfc: false,
            loops: 0,
            nak_magic: 0,
            peer: PeerOptions::default(),
        }
    }
}

impl Lcp {
    /// Chooses our Magic-Number (RFC 1661 §6.4: as randomly as possible).
    pub fn draw_magic<R: CryptoRng>(&mut self, rng: &mut R) {
        self.magic = nonzero_magic(rng, 0);
    }
}

impl Policy for Lcp {
    const LCP: bool = true;
    const OWNER: u8 = 0;
    type Candidate = PeerOptions;

    fn start(&mut self, s: &Settings) {
        self.mru = if s.mru == DEFAULT_MRU { 0 } else { s.mru };
        self.accm = s.accm;
        self.request_accm = s.request_accm;
        self.auth = if s.is_authenticator() {
            s.auth.first().copied()
        } else {
            None
        };
        self.auth_tried = u8::from(self.auth.is_some());
        self.pfc = s.pfc;
        self.acfc = s.acfc;
        self.peer = PeerOptions::default();
        self.loops = 0;
    }

    fn emit_request(&self, _s: &Settings, buf: &mut [u8]) -> usize {
        let mut at = 0;
        if self.mru != 0 {
            put(buf, &mut at, kind::MRU, &self.mru.to_be_bytes());
        }
        if self.request_accm {
            put(buf, &mut at, kind::ACCM, &self.accm.to_be_bytes());
        }
        if let Some(m) = self.auth {
            let o = m.to_option();
            o.emit(&mut buf[at..]);
            at += o.buffer_len();
        }
        if self.magic != 0 {
            put(buf, &mut at, kind::MAGIC_NUMBER, &self.magic.to_be_bytes());
        }
        if self.pfc {
            put(buf, &mut at, kind::PFC, &[]);
        }
        if self.acfc {
            put(buf, &mut at, kind::ACFC, &[]);
        }
        at
    }

    fn begin_request<R: CryptoRng>(&mut self, _s: &Settings, rng: &mut R) {
        self.nak_magic = nonzero_magic(rng, self.magic);
    }

    fn judge(&self, s: &Settings, raw: RawOption<'_>, c: &mut PeerOptions) -> Verdict {
        match LcpOption::parse(raw) {
            Ok(LcpOption::Mru(v)) => {
                if v < s.peer_mru_min || v > s.peer_mru_max {
                    return Verdict::Nak;
                }
                c.mru = v;
            }
            Ok(LcpOption::Accm(v)) => c.accm = v,
            Ok(LcpOption::AuthProtocol { protocol, data }) => {
                // The authenticator does not authenticate itself to the peer.
                if s.is_authenticator() || s.auth.is_empty() {
                    return Verdict::Reject;
                }
                match AuthMethod::from_option(protocol, data) {
                    Some(m) if s.auth.contains(&m) => c.auth = Some(m),
                    _ => return Verdict::Nak,
                }
            }
            Ok(LcpOption::MagicNumber(v)) => {
                // RFC 1661 §6.4: zero MUST be Nak'd; our own number means a
                // possible loop, answered with a Nak of a different one.
                if v == 0 || v == self.magic {
                    debug!("lcp: peer's magic is zero or ours, loop-back suspected");
                    return Verdict::Nak;
                }
                c.magic = v;
            }
            Ok(LcpOption::Pfc) => c.pfc = true,
            Ok(LcpOption::Acfc) => c.acfc = true,
            // Callback, MRRU, Short Sequence, Endpoint Discriminator,
            // Quality-Protocol, unknown types, wrong lengths.
            _ => return Verdict::Reject,
        }
        Verdict::Ack
    }

    fn nak_value(&self, s: &Settings, k: u8, requested: &[u8], reply: &mut Reply) {
        match k {
            kind::MRU => {
                // Nak'd only when outside the range: propose the nearest end.
                let v = if requested.len() == 2 {
                    u16::from_be_bytes([requested[0], requested[1]])
                } else {
                    0
                };
                reply.push(
                    kind::MRU,
                    &v.clamp(s.peer_mru_min, s.peer_mru_max).to_be_bytes(),
                );
            }
            kind::AUTH_PROTOCOL => {
                if let Some(m) = s.auth.first() {
                    let [hi, lo] = m.protocol().to_be_bytes();
                    match m.chap_algorithm() {
                        Some(alg) => reply.push(k, &[hi, lo, alg]),
                        None => reply.push(k, &[hi, lo]),
                    };
                }
            }
            kind::MAGIC_NUMBER => {
                reply.push(k, &self.nak_magic.to_be_bytes());
            }
            _ => {}
        }
    }

    fn missing(&self, _s: &Settings, _seen: &Seen) -> Option<u8> {
        None
    }

    fn commit(&mut self, c: PeerOptions) {
        self.peer = c;
    }

    fn receive_nak<R: CryptoRng>(
        &mut self,
        s: &Settings,
        rng: &mut R,
        opts: &[u8],
    ) -> Result<(), DownReason> {
        for raw in options(opts) {
            match LcpOption::parse(raw) {
                // Whatever the peer proposes that we can receive.
                Ok(LcpOption::Mru(v))
                    if (MIN_MRU..=DEFAULT_MRU).contains(&v)
                        && (self.mru != 0 || v != DEFAULT_MRU) =>
                {
                    self.mru = v;
                }
                Ok(LcpOption::Accm(v)) if self.request_accm => self.accm = v,
                Ok(LcpOption::AuthProtocol { protocol, data }) if self.auth.is_some() => {
                    // RFC 1661 §6.2: the Nak names the method the peer
                    // prefers. Take it if we allow it and have not tried it,
                    // else the next untried method of ours.
                    let tried = |i: usize| self.auth_tried & (1 << i) != 0;
                    let wanted = AuthMethod::from_option(protocol, data)
                        .and_then(|m| s.auth.iter().position(|x| *x == m))
                        .filter(|i| !tried(*i));
                    let next = wanted.or_else(|| (0..s.auth.len()).find(|i| !tried(*i)));
                    let Some(i) = next else {
                        return Err(DownReason::NoCommonAuthMethod);
                    };
                    self.auth_tried |= 1 << i;
                    self.auth = Some(s.auth[i]);
                }
                Ok(LcpOption::MagicNumber(v)) if self.magic != 0 => {
                    if v == self.nak_magic {
                        self.loops = self.loops.saturating_add(1);
                        if self.loops >= s.timers.max_failure {
                            return Err(DownReason::Loopback);
                        }
                    }
                    self.magic = nonzero_magic(rng, self.magic);
                }
                // A Nak of a flag can only mean "don't".
                Ok(LcpOption::Pfc) => self.pfc = false,
                Ok(LcpOption::Acfc) => self.acfc = false,
                // Options we did not ask for are hints we do not take.
                _ => {}
            }
        }
        Ok(())
    }

    fn receive_reject(&mut self, _s: &Settings, opts: &[u8]) -> Result<(), DownReason> {
        for raw in options(opts) {
            match raw.kind {
                kind::MRU => self.mru = 0,
                kind::ACCM => self.request_accm = false,
                kind::AUTH_PROTOCOL if self.auth.is_some() => return Err(DownReason::AuthRefused),
                kind::MAGIC_NUMBER => self.magic = 0,
                kind::PFC => self.pfc = false,
                kind::ACFC => self.acfc = false,
                _ => {}
            }
        }
        Ok(())
    }

    fn code_reject_is_fatal(code: u8) -> bool {
        // RFC 1661 §5.6: rejecting one of the codes the automaton needs is
        // catastrophic; Echo, Discard, Identification and Time-Remaining are
        // optional.
        (1..=7).contains(&code)
    }
}
