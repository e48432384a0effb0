//! One control connection: its state (RFC 2661 §7.2), its reliable delivery
//! (§5.8 and Appendix A) and the facts learned from the peer.

use core::time::Duration;

use heapless::Deque;

/// Outgoing messages a tunnel keeps: unacknowledged ones and those waiting
/// for the window.
pub const SEND_QUEUE: usize = 8;
/// Longest peer Vendor Name kept.
pub const MAX_VENDOR_NAME_LEN: usize = 32;

/// Which side of the control connection we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Role {
    /// We answered the peer's SCCRQ (L2TP Network Server).
    Lns,
    /// We sent the SCCRQ (L2TP Access Concentrator).
    Lac,
}

/// Tunnel states of RFC 2661 §7.2, plus the closing hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TunnelState {
    /// LAC: SCCRQ sent, waiting for SCCRP (`wait-ctl-reply`).
    WaitCtlReply,
    /// LNS: SCCRP sent, waiting for SCCCN (`wait-ctl-conn`).
    WaitCtlConn,
    /// `established`.
    Established,
    /// StopCCN sent or received: only acknowledgements go out until the
    /// hold period ends (§5.7).
    Closing,
    /// Gone; the slot is freed once its events have been polled.
    Dead,
}

/// What a queued message is; the bytes are rebuilt from this and the
/// tunnel's state at each (re)transmission, so nothing is kept but this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Msg {
    Sccrq,
    Sccrp,
    Scccn,
    StopCcn,
    Hello,
    Icrq {
        local: u16,
        serial: u32,
    },
    Icrp {
        local: u16,
        remote: u16,
    },
    Iccn {
        local: u16,
        remote: u16,
    },
    Cdn {
        local: u16,
        remote: u16,
        result: u16,
        error: Option<u16>,
    },
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Outgoing {
    pub ns: u16,
    pub msg: Msg,
}

/// The timers of a tunnel, an index into `Tunnel::timers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// Oldest unacknowledged message (§5.8).
    Retransmit = 0,
    /// Idle keepalive when established (§6.5); set-up limit before.
    Hello = 1,
    /// End of the closing hold.
    Close = 2,
}

/// `a` comes before `b` in sequence-number space (RFC 2661 §5.8, modulo 2^16).
pub(crate) fn seq_before(a: u16, b: u16) -> bool {
    (a.wrapping_sub(b) as i16) < 0
}

#[derive(Debug)]
pub(crate) struct Tunnel<P> {
    pub peer: P,
    pub role: Role,
    pub state: TunnelState,
    pub local_id: u16,
    pub remote_id: u16,
    /// Ns of the next new message.
    pub ns_next: u16,
    /// Next Ns expected from the peer (what we send as Nr).
    pub nr: u16,
    pub peer_rws: u16,
    /// Congestion window and slow-start threshold (Appendix A).
    pub cwnd: u16,
    pub ssthresh: u16,
    pub cwnd_acks: u16,
    pub queue: Deque<Outgoing, SEND_QUEUE>,
    /// `queue[..in_flight]` have been sent at least once: what an Nr may acknowledge.
    pub in_flight: u8,
    /// `queue[cursor]` is the next to (re)transmit; a timeout resets it to 0.
    pub cursor: u8,
    pub retries: u8,
    pub rto: Duration,
    pub ack_pending: bool,
    pub timers: [Option<Duration>; 3],
    pub last_rx: Duration,
    pub our_challenge: Option<[u8; 16]>,
    pub response: Option<[u8; 16]>,
    /// Seed of the per-message Random Vectors for hidden AVPs.
    pub rv_seed: [u8; 16],
    /// Our StopCCN's result, or the peer's.
    pub reason: Option<crate::Reason>,
    pub origin: crate::Origin,
    pub events: u8,
    pub sessions: u16,
    pub host_name: heapless::Vec<u8, { crate::config::MAX_HOST_NAME_LEN }, u8>,
    pub vendor_name: heapless::Vec<u8, MAX_VENDOR_NAME_LEN, u8>,
    pub firmware_revision: Option<u16>,
    pub framing_capabilities: u32,
    pub bearer_capabilities: u32,
    /// Makes an empty table slot (`None`) all zero bytes (the `zero-none` crate).
    pub _occupied: zero_none::Occupied,
}

pub(crate) const EV_UP: u8 = 1;
pub(crate) const EV_DOWN: u8 = 2;

impl<P> Tunnel<P> {
    pub fn new(peer: P, role: Role, local_id: u16, now: Duration, rto: Duration) -> Self {
        Self {
            peer,
            role,
            state: match role {
                Role::Lac => TunnelState::WaitCtlReply,
                Role::Lns => TunnelState::WaitCtlConn,
            },
            local_id,
            remote_id: 0,
            ns_next: 0,
            nr: 0,
            peer_rws: 4,
            cwnd: 1,
            ssthresh: 4,
            cwnd_acks: 0,
            queue: Deque::new(),
            in_flight: 0,
            cursor: 0,
            retries: 0,
            rto,
            ack_pending: false,
            timers: [None; 3],
            last_rx: now,
            our_challenge: None,
            response: None,
            rv_seed: [0; 16],
            reason: None,
            origin: crate::Origin::Local,
            events: 0,
            sessions: 0,
            host_name: heapless::Vec::new(),
            vendor_name: heapless::Vec::new(),
            firmware_revision: None,
            framing_capabilities: 0,
            bearer_capabilities: 0,
            _occupied: zero_none::Occupied::Yes,
        }
    }

    pub fn free_queue(&self) -> usize {
        SEND_QUEUE - self.queue.len()
    }

    /// Queues a new message with the next Ns.
    pub fn enqueue(&mut self, msg: Msg) -> Result<(), Msg> {
        let ns = self.ns_next;
        self.queue
            .push_back(Outgoing { ns, msg })
            .map_err(|o| o.msg)?;
        self.ns_next = ns.wrapping_add(1);
        Ok(())
    }

    /// Drops the queued messages that have never been sent, giving their
    /// sequence numbers back.
    pub fn drop_unsent(&mut self) {
        while self.queue.len() > usize::from(self.in_flight) {
            if let Some(o) = self.queue.pop_back() {
                self.ns_next = o.ns;
            }
        }
    }

    pub fn window(&self) -> usize {
        usize::from(self.cwnd.min(self.peer_rws).max(1))
    }

    /// Index of the next message to transmit, if the window allows.
    pub fn next_sendable(&self) -> Option<usize> {
        let i = usize::from(self.cursor);
        (i < self.queue.len() && i < self.window()).then_some(i)
    }

    /// `queue[next_sendable()]` has just been transmitted.
    pub fn mark_sent(&mut self) {
        self.cursor += 1;
        self.in_flight = self.in_flight.max(self.cursor);
    }

    /// Forgets everything queued, sent or not.
    pub fn clear_queue(&mut self) {
        self.queue.clear();
        self.in_flight = 0;
        self.cursor = 0;
    }

    /// Ns for a ZLB: the next Ns not yet sent (RFC 2661 §5.8).
    pub fn zlb_ns(&self) -> u16 {
        self.queue
            .get(usize::from(self.in_flight))
            .map_or(self.ns_next, |o| o.ns)
    }

    /// Processes the peer's Nr: drops what it acknowledges and grows the
    /// congestion window (Appendix A). Returns how many were acknowledged;
    /// an Nr acknowledging messages never sent is ignored.
    pub fn process_nr(&mut self, nr: u16, now: Duration, initial_rto: Duration) -> usize {
        let Some(front) = self.queue.front() else {
            return 0;
        };
        let acked = usize::from(nr.wrapping_sub(front.ns));
        if acked == 0 || acked > usize::from(self.in_flight) {
            return 0;
        }
        for _ in 0..acked {
            let _ = self.queue.pop_front();
            if self.cwnd < self.ssthresh {
                self.cwnd += 1;
            } else {
                self.cwnd_acks += 1;
                if self.cwnd_acks >= self.cwnd {
                    self.cwnd += 1;
                    self.cwnd_acks = 0;
                }
            }
        }
        self.cwnd = self.cwnd.min(self.peer_rws.max(1));
        // acked <= in_flight <= SEND_QUEUE, checked above.
        let acked8 = u8::try_from(acked).unwrap_or(u8::MAX);
        self.in_flight -= acked8;
        self.cursor = self.cursor.saturating_sub(acked8);
        self.retries = 0;
        self.rto = initial_rto;
        self.timers[Timer::Retransmit as usize] = (self.in_flight > 0).then_some(now + self.rto);
        acked
    }

    /// The retransmission timer fired: back off, shrink the window, resend
    /// from the oldest (Appendix A). Returns false when retries are exhausted.
    pub fn on_retransmit_timeout(&mut self, max: u8, cap: Duration) -> bool {
        self.timers[Timer::Retransmit as usize] = None;
        if self.in_flight == 0 {
            return true;
        }
        self.retries = self.retries.saturating_add(1);
        if self.retries > max {
            return false;
        }
        self.ssthresh = (self.cwnd / 2).max(1);
        self.cwnd = 1;
        self.cwnd_acks = 0;
        self.cursor = 0;
        self.rto = (self.rto * 2).min(cap);
        true
    }

    pub fn earliest_timer(&self) -> Option<Duration> {
        self.timers.iter().flatten().min().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_comparison_wraps() {
        assert!(seq_before(0, 1));
        assert!(seq_before(65535, 0));
        assert!(!seq_before(0, 65535));
        assert!(!seq_before(5, 5));
        assert!(seq_before(10, 10 + 32767));
    }

    #[test]
    fn backoff_doubles_to_cap_then_gives_up() {
        let s = Duration::from_secs;
        let mut t = Tunnel::new((), Role::Lac, 1, s(0), s(1));
        t.enqueue(Msg::Hello).unwrap();
        let mut rtos = heapless::Vec::<u64, 8>::new();
        loop {
            t.in_flight = 1;
            t.cursor = 1;
            if !t.on_retransmit_timeout(5, s(8)) {
                break;
            }
            rtos.push(t.rto.as_secs()).unwrap();
        }
        assert_eq!(rtos.as_slice(), &[2, 4, 8, 8, 8]);
    }

    #[test]
    fn bogus_nr_is_ignored() {
        let s = Duration::from_secs;
        let mut t = Tunnel::new((), Role::Lac, 1, s(0), s(1));
        t.enqueue(Msg::Hello).unwrap();
        t.enqueue(Msg::Hello).unwrap();
        t.in_flight = 1;
        // Acknowledges two, only one was sent.
        assert_eq!(t.process_nr(2, s(0), s(1)), 0);
        assert_eq!(t.process_nr(1, s(0), s(1)), 1);
        assert_eq!(t.queue.len(), 1);
    }
}
