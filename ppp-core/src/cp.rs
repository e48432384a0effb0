//! One control protocol (LCP or IPCP): the packet handling of RFC 1661 §5
//! around a [`Fsm`], with the option decisions delegated to a [`Policy`].
//!
//! Every Configure-Request is judged option by option (Ack, Nak with our
//! value, or Reject verbatim) and the worst verdict decides the reply, as
//! RFC 1661 §5.2 to §5.4 say: any Reject makes the reply a Configure-Reject
//! of just the rejected options, else any Nak makes it a Configure-Nak of
//! just the Nak'd ones, else a Configure-Ack of the whole request.

use core::time::Duration;

use rand_core::CryptoRng;

use crate::Error;
use crate::config::Settings;
use crate::event::DownReason;
use crate::fsm::{Actions, Fsm, Input, REPLY_CAPACITY, Reply, pending};
use crate::wire::cp::{self, Options, RawOption};
use crate::wire::emit_header;

/// The longest Configure-Request a policy writes, with header.
pub(crate) const MAX_REQUEST_LEN: usize = 48;
/// The longest packet [`Cp::poll_transmit`] writes.
pub(crate) const MAX_PACKET_LEN: usize = cp::HEADER_LEN + REPLY_CAPACITY + 8;

/// The verdict on one option of the peer's Configure-Request, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Verdict {
    Ack,
    Nak,
    Reject,
}

/// Which option types a request contained: 256 bits.
#[derive(Debug, Default)]
pub(crate) struct Seen([u32; 8]);

impl Seen {
    /// Marks `kind`; true if it was already there.
    fn test_and_set(&mut self, kind: u8) -> bool {
        let (w, b) = (usize::from(kind / 32), kind % 32);
        let was = self.0[w] & (1 << b) != 0;
        self.0[w] |= 1 << b;
        was
    }

    /// Whether `kind` was in the request.
    pub fn has(&self, kind: u8) -> bool {
        self.0[usize::from(kind / 32)] & (1 << (kind % 32)) != 0
    }
}

/// What is protocol-specific: which options exist and which values are
/// acceptable.
pub(crate) trait Policy {
    /// Whether LCP's extra codes (8 to 13) exist.
    const LCP: bool;
    /// The owner tag in the shared [`Reply`].
    const OWNER: u8;
    /// The peer's values from one request, committed when it is Acked.
    type Candidate: Default;

    /// A negotiation begins (This-Layer-Started or an Open): our wishes from
    /// the configuration, the peer's values to their defaults.
    fn start(&mut self, s: &Settings);

    /// Writes the options of our Configure-Request; returns their length
    /// (at most `MAX_REQUEST_LEN - 4`).
    fn emit_request(&self, s: &Settings, buf: &mut [u8]) -> usize;

    /// Before the options of one request are judged (draws what a Nak
    /// might propose).
    fn begin_request<R: CryptoRng>(&mut self, s: &Settings, rng: &mut R);

    /// The verdict on one option (not a repeated type: the driver rejects
    /// those); an Ack records the value in the candidate.
    fn judge(&self, s: &Settings, o: RawOption<'_>, c: &mut Self::Candidate) -> Verdict;

    /// Appends the value we propose for a Nak'd option of type `kind`
    /// (`requested`: the data the peer sent, empty for a missing option).
    fn nak_value(&self, s: &Settings, kind: u8, requested: &[u8], reply: &mut Reply);

    /// An option the request lacked that we want the peer to include, told
    /// through the Nak (RFC 1661 §5.3).
    fn missing(&self, s: &Settings, seen: &Seen) -> Option<u8>;

    /// The request is Acked: these are the peer's values now.
    fn commit(&mut self, c: Self::Candidate);

    /// Applies a Configure-Nak to our wishes.
    ///
    /// # Errors
    /// A [`DownReason`] when the negotiation cannot go on.
    fn receive_nak<R: CryptoRng>(
        &mut self,
        s: &Settings,
        rng: &mut R,
        options: &[u8],
    ) -> Result<(), DownReason>;

    /// Applies a Configure-Reject (already checked to be a subset of our
    /// request).
    ///
    /// # Errors
    /// A [`DownReason`] when the negotiation cannot go on without the
    /// option.
    fn receive_reject(&mut self, s: &Settings, options: &[u8]) -> Result<(), DownReason>;

    /// Whether a Code-Reject of `code` is catastrophic (RXJ-).
    fn code_reject_is_fatal(code: u8) -> bool;
}

/// What [`Cp::handle_packet`] did.
#[derive(Debug)]
pub(crate) enum Handled<'a> {
    /// The automaton ran; the caller performs the layer actions, scj, ser.
    Fsm(Actions),
    /// An LCP code outside the automaton's core (8 to 13): the link handles
    /// it.
    Extension(cp::Repr<'a>),
    /// The negotiation cannot go on.
    Fatal(DownReason),
}

/// A control protocol: automaton and policy.
#[derive(Debug, Clone)]
pub(crate) struct Cp<P> {
    pub fsm: Fsm,
    pub policy: P,
}

impl<P: Policy> Cp<P> {
    pub const fn new(policy: P) -> Self {
        Self {
            fsm: Fsm::new(),
            policy,
        }
    }

    /// Open and Up together: the lower layer is already there.
    pub fn open(&mut self, now: Duration, s: &Settings) -> Actions {
        self.policy.start(s);
        self.fsm.stale_naks = 0;
        let a = self.fsm.event(Input::Open, now, &s.timers, None);
        let b = self.fsm.event(Input::Up, now, &s.timers, None);
        Actions(a.0 | b.0)
    }

    /// The lower layer went down.
    pub fn down(&mut self, now: Duration, s: &Settings) -> Actions {
        self.fsm.event(Input::Down, now, &s.timers, None)
    }

    /// Administrative Close.
    pub fn close(&mut self, now: Duration, s: &Settings) -> Actions {
        self.fsm.event(Input::Close, now, &s.timers, None)
    }

    /// Handles one packet of this protocol (the Information field of its
    /// frame).
    pub fn handle_packet<'a, R: CryptoRng>(
        &mut self,
        now: Duration,
        s: &Settings,
        rng: &mut R,
        data: &'a [u8],
        reply: &mut Reply,
    ) -> Result<Handled<'a>, Error> {
        let packet = cp::Packet::new_checked(data)?;
        let repr = cp::Repr::parse(&packet, P::LCP)?;
        let t = &s.timers;
        let negotiating = matches!(
            self.fsm.state,
            crate::State::ReqSent
                | crate::State::AckRcvd
                | crate::State::AckSent
                | crate::State::Opened
        );
        let ev = |fsm: &mut Fsm, input| Ok(Handled::Fsm(fsm.event(input, now, t, None)));
        match repr {
            cp::Repr::ConfigureRequest {
                identifier,
                options,
            } => {
                if matches!(
                    self.fsm.state,
                    crate::State::Initial | crate::State::Starting
                ) {
                    return Err(Error::Unexpected);
                }
                let reject_naks = self.fsm.naks_exhausted(t);
                let mut r = Reply::new();
                r.identifier = identifier;
                r.owner = P::OWNER;
                let good = self.judge_request(s, rng, options, reject_naks, &mut r)?;
                let input = if good { Input::RcrGood } else { Input::RcrBad };
                let a = self.fsm.event(input, now, t, Some(&r));
                if a.has(Actions::SCA | Actions::SCN) {
                    *reply = r;
                }
                Ok(Handled::Fsm(a))
            }
            cp::Repr::ConfigureAck {
                identifier,
                options,
            } => {
                if negotiating {
                    if identifier != self.fsm.id {
                        return Err(Error::Unexpected);
                    }
                    let mut ours = [0u8; MAX_REQUEST_LEN];
                    let n = self.policy.emit_request(s, &mut ours);
                    if options != &ours[..n] {
                        debug!("configure-ack does not match our request");
                        return Err(Error::Unexpected);
                    }
                    self.fsm.stale_naks = 0;
                }
                ev(&mut self.fsm, Input::Rca)
            }
            cp::Repr::ConfigureNak {
                identifier,
                options,
            }
            | cp::Repr::ConfigureReject {
                identifier,
                options,
            } => {
                if negotiating {
                    if identifier != self.fsm.id {
                        return Err(Error::Unexpected);
                    }
                    let mut before = [0u8; MAX_REQUEST_LEN];
                    let n = self.policy.emit_request(s, &mut before);
                    let outcome = if packet.code() == cp::Code::ConfigureNak {
                        self.policy.receive_nak(s, rng, options)
                    } else {
                        if !is_subset(options, &before[..n]) {
                            debug!("configure-reject is not a subset of our request");
                            return Err(Error::Unexpected);
                        }
                        self.policy.receive_reject(s, options)
                    };
                    if let Err(reason) = outcome {
                        return Ok(Handled::Fatal(reason));
                    }
                    let mut after = [0u8; MAX_REQUEST_LEN];
                    let m = self.policy.emit_request(s, &mut after);
                    if before[..n] == after[..m] {
                        self.fsm.stale_naks = self.fsm.stale_naks.saturating_add(1);
                        if self.fsm.stale_naks > t.max_failure {
                            return Ok(Handled::Fatal(DownReason::MaxFailure));
                        }
                    } else {
                        self.fsm.stale_naks = 0;
                    }
                }
                ev(&mut self.fsm, Input::Rcn)
            }
            cp::Repr::TerminateRequest { identifier, .. } => {
                self.fsm.sta_id = identifier;
                ev(&mut self.fsm, Input::Rtr)
            }
            cp::Repr::TerminateAck { .. } => ev(&mut self.fsm, Input::Rta),
            cp::Repr::CodeReject {
                rejected_packet, ..
            } => {
                let fatal = rejected_packet
                    .first()
                    .is_none_or(|&c| P::code_reject_is_fatal(c));
                ev(
                    &mut self.fsm,
                    if fatal { Input::RxjBad } else { Input::RxjGood },
                )
            }
            cp::Repr::Unknown { .. } => ev(&mut self.fsm, Input::Ruc),
            other => Ok(Handled::Extension(other)),
        }
    }

    /// RFC 1661 §5.2 to §5.4: judges every option, then answers with the
    /// worst verdict: all Acked, an Ack echoing the request byte for byte;
    /// any Rejected, a Reject of just those, verbatim; otherwise a Nak of
    /// just the Nak'd options with our values (and the options we want the
    /// peer to add). Returns whether the request is Acked.
    fn judge_request<R: CryptoRng>(
        &mut self,
        s: &Settings,
        rng: &mut R,
        opts: &[u8],
        reject_naks: bool,
        reply: &mut Reply,
    ) -> Result<bool, Error> {
        self.policy.begin_request(s, rng);
        let policy = &self.policy;
        let verdict = |o: RawOption<'_>, seen: &mut Seen, c: &mut P::Candidate| {
            // A repeated type is rejected: its meaning is undefined, and an
            // Ack could not say which value was taken.
            if seen.test_and_set(o.kind) {
                return Verdict::Reject;
            }
            match policy.judge(s, o, c) {
                // Max-Failure reached: Naks become Rejects (RFC 1661 §4.6).
                Verdict::Nak if reject_naks => Verdict::Reject,
                v => v,
            }
        };
        let mut candidate = P::Candidate::default();
        let mut seen = Seen::default();
        let mut worst = Verdict::Ack;
        for o in options(opts) {
            worst = worst.max(verdict(o, &mut seen, &mut candidate));
        }
        let hint = if reject_naks {
            None
        } else {
            policy.missing(s, &seen)
        };
        if hint.is_some() {
            worst = worst.max(Verdict::Nak);
        }
        reply.len = 0;
        let mut again = Seen::default();
        let mut scrap = P::Candidate::default();
        match worst {
            Verdict::Ack => {
                let n = opts.len();
                if n > REPLY_CAPACITY {
                    return Err(Error::TooLarge);
                }
                reply.code = 2;
                reply.bytes[..n].copy_from_slice(opts);
                reply.len = crate::wire::len8(n);
            }
            Verdict::Nak => {
                reply.code = 3;
                for o in options(opts) {
                    if verdict(o, &mut again, &mut scrap) == Verdict::Nak {
                        policy.nak_value(s, o.kind, o.data, reply);
                    }
                }
                if let Some(k) = hint {
                    policy.nak_value(s, k, &[], reply);
                }
            }
            Verdict::Reject => {
                reply.code = 4;
                for o in options(opts) {
                    if verdict(o, &mut again, &mut scrap) == Verdict::Reject
                        && !reply.push(o.kind, o.data)
                    {
                        debug!("reject list full; the rest waits for the next request");
                        break;
                    }
                }
                if reply.len == 0 {
                    return Err(Error::TooLarge);
                }
            }
        }
        if worst == Verdict::Ack {
            self.policy.commit(candidate);
        }
        Ok(worst == Verdict::Ack)
    }

    /// The restart timer.
    pub fn handle_timeout(&mut self, now: Duration, s: &Settings) -> Option<Actions> {
        self.fsm.timeout(now, &s.timers)
    }

    /// Whether a packet is waiting.
    pub fn wants_transmit(&self) -> bool {
        self.fsm.pending != 0
    }

    /// Writes the next pending packet (without PPP header) into `buf`, in
    /// the order Configure-Request, reply, Terminate-Request, Terminate-Ack.
    /// Only the pending kinds in `mask` are considered.
    pub fn poll_transmit(
        &mut self,
        s: &Settings,
        reply: &Reply,
        buf: &mut [u8],
        mask: u8,
    ) -> Result<Option<usize>, Error> {
        let mut scratch = [0u8; MAX_PACKET_LEN];
        if reply.owner != P::OWNER {
            // The shared reply was taken by the other protocol.
            self.fsm.pending &= !pending::REPLY;
        }
        let p = self.fsm.pending & mask;
        let (flag, len) = if p & pending::SCR != 0 {
            let n = self.policy.emit_request(s, &mut scratch[4..]);
            emit_header(&mut scratch, 1, self.fsm.id, 4 + n);
            (pending::SCR, 4 + n)
        } else if p & pending::REPLY != 0 {
            let n = usize::from(reply.len);
            scratch[4..4 + n].copy_from_slice(reply.options());
            emit_header(&mut scratch, reply.code, reply.identifier, 4 + n);
            (pending::REPLY, 4 + n)
        } else if p & pending::STR != 0 {
            emit_header(&mut scratch, 5, self.fsm.id, 4);
            (pending::STR, 4)
        } else if p & pending::STA != 0 {
            emit_header(&mut scratch, 6, self.fsm.sta_id, 4);
            (pending::STA, 4)
        } else {
            return Ok(None);
        };
        let out = buf
            .get_mut(..len)
            .ok_or(Error::BufferTooSmall { needed: len })?;
        out.copy_from_slice(&scratch[..len]);
        self.fsm.pending &= !flag;
        Ok(Some(len))
    }
}

/// RFC 1661 §5.4: the options of a Configure-Reject "MUST be a proper subset
/// of those in the last transmitted Configure-Request": each one must be
/// one of ours, byte for byte, in the same order.
fn is_subset(rejected: &[u8], ours: &[u8]) -> bool {
    let mut mine = Options::new(ours);
    'next: for o in Options::new(rejected) {
        let Ok(o) = o else { return false };
        for m in mine.by_ref() {
            match m {
                Ok(m) if m == o => continue 'next,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        return false;
    }
    true
}

/// Walks an option list that `cp::Repr::parse` has validated.
pub(crate) fn options(bytes: &[u8]) -> impl Iterator<Item = RawOption<'_>> {
    Options::new(bytes).map_while(Result::ok)
}

/// Appends one option to `buf` at `*at`.
pub(crate) fn put(buf: &mut [u8], at: &mut usize, kind: u8, data: &[u8]) {
    RawOption { kind, data }.emit(&mut buf[*at..]);
    *at += 2 + data.len();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reject_subset_check() {
        let ours = [1, 4, 5, 0, 5, 6, 1, 2, 3, 4, 7, 2];
        assert!(is_subset(&[5, 6, 1, 2, 3, 4], &ours));
        assert!(is_subset(&[1, 4, 5, 0, 7, 2], &ours));
        assert!(!is_subset(&[7, 2, 1, 4, 5, 0], &ours), "reordered");
        assert!(!is_subset(&[5, 6, 1, 2, 3, 5], &ours), "modified");
        assert!(!is_subset(&[8, 2], &ours), "not ours");
    }
}
