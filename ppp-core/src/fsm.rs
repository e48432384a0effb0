//! The option negotiation automaton of RFC 1661 §4: ten states, sixteen
//! events, the restart timer and its counter, and Max-Failure. LCP and IPCP
//! each own one [`Fsm`]; what differs between them (which options exist and
//! what is acceptable) lives in [`crate::cp::Policy`].
//!
//! The transition table below is RFC 1661 §4.1 cell by cell. The automaton
//! never transmits: an action such as `scr` sets a pending flag that
//! `poll_transmit` turns into bytes, and the layer actions (`tlu`, `tld`,
//! `tls`, `tlf`) are returned to the caller.

use core::time::Duration;

use crate::time::Deadline;

/// The states of RFC 1661 §4.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum State {
    /// 0: the lower layer is down and no Open has occurred.
    Initial,
    /// 1: an Open has occurred, the lower layer is still down.
    Starting,
    /// 2: the lower layer is up, no Open has occurred (or after Close).
    Closed,
    /// 3: the automaton finished (Terminate-Ack sent, or the restart
    /// counter ran out) and waits for a Down or a Configure-Request.
    Stopped,
    /// 4: a Terminate-Request was sent after a Close.
    Closing,
    /// 5: a Terminate-Request was sent (or received) without a Close.
    Stopping,
    /// 6: a Configure-Request was sent.
    ReqSent,
    /// 7: a Configure-Request was sent and Acked.
    AckRcvd,
    /// 8: a Configure-Request was sent and a Configure-Ack was sent.
    AckSent,
    /// 9: both Configure-Acks have been exchanged.
    Opened,
}

impl State {
    const ALL: [State; 10] = [
        State::Initial,
        State::Starting,
        State::Closed,
        State::Stopped,
        State::Closing,
        State::Stopping,
        State::ReqSent,
        State::AckRcvd,
        State::AckSent,
        State::Opened,
    ];

    /// Whether the restart timer runs in this state (RFC 1661 §4.6: in
    /// Closing, Stopping, Req-Sent, Ack-Rcvd and Ack-Sent).
    pub const fn has_restart_timer(self) -> bool {
        matches!(
            self,
            Self::Closing | Self::Stopping | Self::ReqSent | Self::AckRcvd | Self::AckSent
        )
    }
}

/// The events of RFC 1661 §4.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(crate) enum Input {
    Up,
    Down,
    Open,
    Close,
    /// TO+: timeout with the restart counter above zero.
    TimeoutPlus,
    /// TO-: timeout with the counter expired.
    TimeoutMinus,
    /// RCR+: a Configure-Request that will be Acked.
    RcrGood,
    /// RCR-: a Configure-Request that will be Nak'd or Rejected.
    RcrBad,
    Rca,
    /// RCN: Configure-Nak or Configure-Reject.
    Rcn,
    Rtr,
    Rta,
    Ruc,
    /// RXJ+: a permitted Code-Reject or Protocol-Reject.
    RxjGood,
    /// RXJ-: a catastrophic one.
    RxjBad,
    /// RXR: Echo-Request, Echo-Reply or Discard-Request.
    Rxr,
}

/// The actions of RFC 1661 §4.4, as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Actions(pub u16);

#[allow(dead_code)]
impl Actions {
    pub const TLU: u16 = 1 << 0;
    pub const TLD: u16 = 1 << 1;
    pub const TLS: u16 = 1 << 2;
    pub const TLF: u16 = 1 << 3;
    pub const IRC: u16 = 1 << 4;
    pub const ZRC: u16 = 1 << 5;
    pub const SCR: u16 = 1 << 6;
    pub const SCA: u16 = 1 << 7;
    pub const SCN: u16 = 1 << 8;
    pub const STR: u16 = 1 << 9;
    pub const STA: u16 = 1 << 10;
    pub const SCJ: u16 = 1 << 11;
    pub const SER: u16 = 1 << 12;
    /// The event was illegal in this state ("-" in the table).
    pub const ILLEGAL: u16 = 1 << 15;

    pub const fn has(self, bits: u16) -> bool {
        self.0 & bits != 0
    }
}

#[derive(Clone, Copy)]
struct Cell {
    actions: u16,
    next: u8,
}

const ILLEGAL: Cell = Cell {
    actions: Actions::ILLEGAL,
    next: u8::MAX,
};

const fn c(actions: u16, next: u8) -> Cell {
    Cell { actions, next }
}

const TLU: u16 = Actions::TLU;
const TLD: u16 = Actions::TLD;
const TLS: u16 = Actions::TLS;
const TLF: u16 = Actions::TLF;
const IRC: u16 = Actions::IRC;
const ZRC: u16 = Actions::ZRC;
const SCR: u16 = Actions::SCR;
const SCA: u16 = Actions::SCA;
const SCN: u16 = Actions::SCN;
const STR: u16 = Actions::STR;
const STA: u16 = Actions::STA;
const SCJ: u16 = Actions::SCJ;
const SER: u16 = Actions::SER;
const X: Cell = ILLEGAL;

/// RFC 1661 §4.1, rows in the order of [`Input`], columns states 0 to 9.
/// The footnotes (p passive, r restart, x crossed connection) choose no
/// different transition and are not marked.
#[rustfmt::skip]
const TABLE: [[Cell; 10]; 16] = [
    //          0 Initial      1 Starting        2 Closed       3 Stopped                4 Closing       5 Stopping      6 Req-Sent          7 Ack-Rcvd          8 Ack-Sent          9 Opened
    /* Up   */ [c(0, 2),       c(IRC | SCR, 6),  X,             X,                       X,              X,              X,                  X,                  X,                  X],
    /* Down */ [X,             X,                c(0, 0),       c(TLS, 1),               c(0, 0),        c(0, 1),        c(0, 1),            c(0, 1),            c(0, 1),            c(TLD, 1)],
    /* Open */ [c(TLS, 1),     c(0, 1),          c(IRC | SCR, 6), c(0, 3),               c(0, 5),        c(0, 5),        c(0, 6),            c(0, 7),            c(0, 8),            c(0, 9)],
    /* Close*/ [c(0, 0),       c(TLF, 0),        c(0, 2),       c(0, 2),                 c(0, 4),        c(0, 4),        c(IRC | STR, 4),    c(IRC | STR, 4),    c(IRC | STR, 4),    c(TLD | IRC | STR, 4)],
    /* TO+  */ [X,             X,                X,             X,                       c(STR, 4),      c(STR, 5),      c(SCR, 6),          c(SCR, 6),          c(SCR, 8),          X],
    /* TO-  */ [X,             X,                X,             X,                       c(TLF, 2),      c(TLF, 3),      c(TLF, 3),          c(TLF, 3),          c(TLF, 3),          X],
    /* RCR+ */ [X,             X,                c(STA, 2),     c(IRC | SCR | SCA, 8),   c(0, 4),        c(0, 5),        c(SCA, 8),          c(SCA | TLU, 9),    c(SCA, 8),          c(TLD | SCR | SCA, 8)],
    /* RCR- */ [X,             X,                c(STA, 2),     c(IRC | SCR | SCN, 6),   c(0, 4),        c(0, 5),        c(SCN, 6),          c(SCN, 7),          c(SCN, 6),          c(TLD | SCR | SCN, 6)],
    /* RCA  */ [X,             X,                c(STA, 2),     c(STA, 3),               c(0, 4),        c(0, 5),        c(IRC, 7),          c(SCR, 6),          c(IRC | TLU, 9),    c(TLD | SCR, 6)],
    /* RCN  */ [X,             X,                c(STA, 2),     c(STA, 3),               c(0, 4),        c(0, 5),        c(IRC | SCR, 6),    c(SCR, 6),          c(IRC | SCR, 8),    c(TLD | SCR, 6)],
    /* RTR  */ [X,             X,                c(STA, 2),     c(STA, 3),               c(STA, 4),      c(STA, 5),      c(STA, 6),          c(STA, 6),          c(STA, 6),          c(TLD | ZRC | STA, 5)],
    /* RTA  */ [X,             X,                c(0, 2),       c(0, 3),                 c(TLF, 2),      c(TLF, 3),      c(0, 6),            c(0, 6),            c(0, 8),            c(TLD | SCR, 6)],
    /* RUC  */ [X,             X,                c(SCJ, 2),     c(SCJ, 3),               c(SCJ, 4),      c(SCJ, 5),      c(SCJ, 6),          c(SCJ, 7),          c(SCJ, 8),          c(SCJ, 9)],
    /* RXJ+ */ [X,             X,                c(0, 2),       c(0, 3),                 c(0, 4),        c(0, 5),        c(0, 6),            c(0, 6),            c(0, 8),            c(0, 9)],
    /* RXJ- */ [X,             X,                c(TLF, 2),     c(TLF, 3),               c(TLF, 2),      c(TLF, 3),      c(TLF, 3),          c(TLF, 3),          c(TLF, 3),          c(TLD | IRC | STR, 5)],
    /* RXR  */ [X,             X,                c(0, 2),       c(0, 3),                 c(0, 4),        c(0, 5),        c(0, 6),            c(0, 7),            c(0, 8),            c(SER, 9)],
];

/// The restart timer and counters (RFC 1661 §4.6), from the link
/// configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(crate) struct Timers {
    pub restart_ms: u32,
    pub max_configure: u8,
    pub max_terminate: u8,
    pub max_failure: u8,
}

/// The pending Configure-Ack, -Nak or -Reject: its code, identifier and
/// option bytes (the echoed request, our proposals, or the rejected options
/// verbatim as RFC 1661 §5.4 requires). One reply is shared by LCP and IPCP:
/// the caller drains `poll_transmit` after each frame, so two are never
/// pending at once; if they were, the later one wins and the peer
/// retransmits the other request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    /// 2 Ack, 3 Nak, 4 Reject (RFC 1661 §5).
    pub code: u8,
    pub identifier: u8,
    /// The protocol whose automaton owns the reply (0 LCP, 1 IPCP).
    pub owner: u8,
    pub len: u8,
    pub bytes: [u8; REPLY_CAPACITY],
}

/// Option bytes one reply holds. The longest Ack this crate gives is 25
/// bytes (LCP) or 30 (IPCP); a Windows LCP request rejects Callback, MRRU
/// and an Endpoint Discriminator, about 30 bytes. Rejected options beyond
/// this are rejected in the next round, when the peer sends them again.
pub(crate) const REPLY_CAPACITY: usize = 40;

impl Reply {
    pub const fn new() -> Self {
        Self {
            code: 0,
            identifier: 0,
            owner: 0,
            len: 0,
            bytes: [0; REPLY_CAPACITY],
        }
    }

    /// The option bytes.
    pub fn options(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Appends one option; false when it does not fit.
    pub fn push(&mut self, kind: u8, data: &[u8]) -> bool {
        let at = usize::from(self.len);
        let n = 2 + data.len();
        if at + n > REPLY_CAPACITY {
            return false;
        }
        crate::wire::cp::RawOption { kind, data }.emit(&mut self.bytes[at..]);
        self.len = crate::wire::len8(at + n);
        true
    }
}

/// Pending outputs of one automaton.
pub(crate) mod pending {
    pub const SCR: u8 = 1;
    pub const STR: u8 = 2;
    pub const STA: u8 = 4;
    pub const REPLY: u8 = 8;
}

/// One automaton: its state, restart timer and counters, and the packets it
/// owes the peer.
#[derive(Debug, Clone)]
pub(crate) struct Fsm {
    pub state: State,
    restart_count: u8,
    /// Configure-Naks sent since the last Configure-Ack (Max-Failure).
    pub naks_sent: u8,
    /// Consecutive Configure-Naks received that left our request unchanged.
    pub stale_naks: u8,
    /// Identifier of the last Configure-Request or Terminate-Request.
    pub id: u8,
    /// Identifier for the pending Terminate-Ack.
    pub sta_id: u8,
    pub pending: u8,
    pub timer: Deadline,
}

impl Fsm {
    pub const fn new() -> Self {
        Self {
            state: State::Initial,
            restart_count: 0,
            naks_sent: 0,
            stale_naks: 0,
            id: 0,
            sta_id: 0,
            pending: 0,
            timer: Deadline::NONE,
        }
    }

    /// Whether Max-Failure Naks have been sent: further Naks become Rejects
    /// (RFC 1661 §4.6).
    pub fn naks_exhausted(&self, t: &Timers) -> bool {
        self.naks_sent >= t.max_failure
    }

    /// Runs one event through the table and performs the automaton's own
    /// actions (irc, zrc, scr, sca, scn, str, sta and the timer). Returns
    /// all actions, so the caller can do the layer actions, scj and ser.
    /// For RCR events `reply` is the answer prepared by the policy; it is
    /// marked pending when the table says sca or scn.
    pub fn event(
        &mut self,
        input: Input,
        now: Duration,
        t: &Timers,
        reply: Option<&Reply>,
    ) -> Actions {
        let cell = TABLE[input as usize][self.state as usize];
        if cell.actions & Actions::ILLEGAL != 0 {
            debug!("fsm: illegal event {:?} in {:?}", input, self.state);
            return Actions(Actions::ILLEGAL);
        }
        let a = cell.actions;
        let next = State::ALL[usize::from(cell.next)];
        trace!("fsm: {:?} in {:?} -> {:?}", input, self.state, next);
        if a & (IRC | ZRC) != 0 {
            self.restart_count = if a & ZRC != 0 {
                0
            } else if a & STR != 0 {
                t.max_terminate
            } else {
                t.max_configure
            };
        }
        if a & ZRC != 0 {
            self.timer = Deadline::after(now, t.restart_ms);
        }
        if a & STR != 0 {
            self.pending = (self.pending & !(pending::SCR | pending::REPLY)) | pending::STR;
            self.send_counted(now, t);
        }
        if a & SCR != 0 {
            self.pending |= pending::SCR;
            self.send_counted(now, t);
        }
        if let Some(r) = reply.filter(|_| a & (SCA | SCN) != 0) {
            self.pending |= pending::REPLY;
            if a & SCA != 0 {
                self.naks_sent = 0;
            } else if r.code == 3 {
                self.naks_sent = self.naks_sent.saturating_add(1);
            }
        }
        if a & STA != 0 {
            self.pending |= pending::STA;
        }
        self.state = next;
        if !next.has_restart_timer() {
            self.timer = Deadline::NONE;
        }
        if matches!(next, State::Initial | State::Starting) {
            // The lower layer is down: nothing can be sent.
            self.pending = 0;
        } else if a & TLF != 0 {
            self.pending &= pending::STA;
        }
        if matches!(input, Input::Open | Input::Up) && a & IRC != 0 {
            self.naks_sent = 0;
        }
        Actions(a)
    }

    /// A Configure-Request or Terminate-Request goes out: new Identifier,
    /// one less retransmission left, timer restarted.
    fn send_counted(&mut self, now: Duration, t: &Timers) {
        self.id = self.id.wrapping_add(1);
        self.restart_count = self.restart_count.saturating_sub(1);
        self.timer = Deadline::after(now, t.restart_ms);
    }

    /// The restart timer, if it is due: TO+ or TO-.
    pub fn timeout(&mut self, now: Duration, t: &Timers) -> Option<Actions> {
        if !self.timer.is_due(now) {
            return None;
        }
        self.timer = Deadline::NONE;
        let input = if self.restart_count > 0 {
            Input::TimeoutPlus
        } else {
            Input::TimeoutMinus
        };
        Some(self.event(input, now, t, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timers = Timers {
        restart_ms: 3000,
        max_configure: 10,
        max_terminate: 2,
        max_failure: 5,
    };

    fn at(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// The table as RFC 1661 §4.1 prints it, parsed, compared with TABLE:
    /// a transcription check independent of the `c(..)` spelling above.
    #[test]
    fn table_matches_the_rfc_text() {
        const RFC: &str = "
 Up   |    2     irc,scr/6     -         -         -         -          -         -         -           -
 Down |    -         -         0       tls/1       0         1          1         1         1         tld/1
 Open |  tls/1       1     irc,scr/6     3r        5r        5r         6         7         8           9r
 Close|    0       tlf/0       2         2         4         4      irc,str/4 irc,str/4 irc,str/4 tld,irc,str/4
  TO+ |    -         -         -         -       str/4     str/5      scr/6     scr/6     scr/8         -
  TO- |    -         -         -         -       tlf/2     tlf/3      tlf/3p    tlf/3p    tlf/3p        -
 RCR+ |    -         -       sta/2 irc,scr,sca/8   4         5        sca/8   sca,tlu/9   sca/8   tld,scr,sca/8
 RCR- |    -         -       sta/2 irc,scr,scn/6   4         5        scn/6     scn/7     scn/6   tld,scr,scn/6
 RCA  |    -         -       sta/2     sta/3       4         5        irc/7     scr/6x  irc,tlu/9   tld,scr/6x
 RCN  |    -         -       sta/2     sta/3       4         5      irc,scr/6   scr/6x  irc,scr/8   tld,scr/6x
 RTR  |    -         -       sta/2     sta/3     sta/4     sta/5      sta/6     sta/6     sta/6   tld,zrc,sta/5
 RTA  |    -         -         2         3       tlf/2     tlf/3        6         6         8       tld,scr/6
 RUC  |    -         -       scj/2     scj/3     scj/4     scj/5      scj/6     scj/7     scj/8       scj/9
 RXJ+ |    -         -         2         3         4         5          6         6         8           9
 RXJ- |    -         -       tlf/2     tlf/3     tlf/2     tlf/3      tlf/3     tlf/3     tlf/3   tld,irc,str/5
 RXR  |    -         -         2         3         4         5          6         7         8         ser/9";
        let names = [
            ("tlu", TLU),
            ("tld", TLD),
            ("tls", TLS),
            ("tlf", TLF),
            ("irc", IRC),
            ("zrc", ZRC),
            ("scr", SCR),
            ("sca", SCA),
            ("scn", SCN),
            ("str", STR),
            ("sta", STA),
            ("scj", SCJ),
            ("ser", SER),
        ];
        let rows: std::vec::Vec<&str> = RFC.lines().filter(|l| l.contains('|')).collect();
        assert_eq!(rows.len(), 16);
        for (r, line) in rows.iter().enumerate() {
            let cells: std::vec::Vec<&str> =
                line.split('|').nth(1).unwrap().split_whitespace().collect();
            assert_eq!(cells.len(), 10, "{line}");
            for (s, text) in cells.iter().enumerate() {
                let got = TABLE[r][s];
                if *text == "-" {
                    assert_eq!(got.actions, Actions::ILLEGAL, "row {r} state {s}");
                    continue;
                }
                let text = text.trim_end_matches(['p', 'r', 'x']);
                let (acts, next) = text.rsplit_once('/').unwrap_or(("", text));
                let mut bits = 0;
                for a in acts.split(',').filter(|a| !a.is_empty()) {
                    bits |= names.iter().find(|(n, _)| *n == a).unwrap().1;
                }
                assert_eq!(
                    (got.actions, got.next),
                    (bits, next.parse::<u8>().unwrap()),
                    "row {r} state {s}"
                );
            }
        }
    }

    #[test]
    fn restart_counter_gives_max_configure_requests() {
        let mut f = Fsm::new();
        f.event(Input::Open, at(0), &T, None);
        f.event(Input::Up, at(0), &T, None);
        assert_eq!(f.state, State::ReqSent);
        let mut sent = 1;
        let mut now = 0;
        loop {
            now += 3;
            let a = f.timeout(at(now), &T).unwrap();
            if a.has(Actions::TLF) {
                break;
            }
            assert!(a.has(Actions::SCR));
            sent += 1;
        }
        assert_eq!(sent, 10);
        assert_eq!(now, 30);
        assert_eq!(f.state, State::Stopped);
        assert_eq!(f.timer, Deadline::NONE);
    }

    #[test]
    fn close_sends_max_terminate_requests() {
        let mut f = Fsm::new();
        f.event(Input::Open, at(0), &T, None);
        f.event(Input::Up, at(0), &T, None);
        let a = f.event(Input::Close, at(1), &T, None);
        assert!(a.has(Actions::STR));
        assert_eq!(f.pending & pending::SCR, 0, "a pending request is dropped");
        assert!(f.timeout(at(4), &T).unwrap().has(Actions::STR));
        assert!(f.timeout(at(7), &T).unwrap().has(Actions::TLF));
        assert_eq!(f.state, State::Closed);
    }

    #[test]
    fn timer_not_due_does_nothing_and_illegal_events_change_nothing() {
        let mut f = Fsm::new();
        assert!(f.timeout(at(100), &T).is_none());
        assert!(f.event(Input::Rca, at(0), &T, None).has(Actions::ILLEGAL));
        assert_eq!(f.state, State::Initial);
    }

    #[test]
    fn reply_capacity() {
        let mut r = Reply::new();
        assert!(r.push(13, &[6]));
        assert_eq!(r.options(), &[13, 3, 6]);
        assert!(!r.push(200, &[0; 40]));
        assert_eq!(r.len, 3);
    }
}
