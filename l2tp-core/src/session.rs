//! One session (one PPP link) inside a tunnel: the incoming-call states of
//! RFC 2661 §7.4 and the counters of the session view.

use core::time::Duration;

use crate::{Origin, Reason, TunnelHandle};

/// Session states of RFC 2661 §7.4.1 (LAC) and §7.4.2 (LNS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SessionState {
    /// LAC: the call waits for its tunnel to be established (`wait-tunnel`).
    WaitTunnel,
    /// LAC: ICRQ sent, waiting for ICRP (`wait-reply`).
    WaitReply,
    /// LNS: ICRP sent, waiting for ICCN (`wait-connect`).
    WaitConnect,
    /// `established`: data flows.
    Established,
    /// Disconnected; the slot is freed once `SessionDown` has been polled.
    Closed,
}

/// Traffic counters of one session (the session view's Bytes/Packets Tx/Rx).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SessionCounters {
    /// PPP bytes received (L2TP header excluded).
    pub rx_bytes: u64,
    /// Data messages received.
    pub rx_packets: u64,
    /// PPP bytes sent.
    pub tx_bytes: u64,
    /// Data messages sent.
    pub tx_packets: u64,
    /// Data messages dropped: out of sequence (RFC 2661 §5.4).
    pub rx_out_of_sequence: u64,
    /// Time of the last data message in either direction.
    pub last_activity: Duration,
}

#[derive(Debug)]
pub(crate) struct Session {
    pub tunnel: TunnelHandle,
    pub local_id: u16,
    pub remote_id: u16,
    pub state: SessionState,
    pub call_serial: u32,
    /// Send Ns/Nr in data messages (Sequencing Required, or the LNS did).
    pub send_seq: bool,
    pub data_ns: u16,
    /// Next data Ns expected, once the peer has sent sequence numbers.
    pub data_nr: Option<u16>,
    pub counters: SessionCounters,
    pub tx_connect_speed: u32,
    pub framing_type: u32,
    pub reason: Option<Reason>,
    pub q931: Option<(u16, u8)>,
    pub origin: Origin,
    pub events: u8,
    /// Makes an empty table slot (`None`) all zero bytes (the `zero-none` crate).
    pub _occupied: zero_none::Occupied,
}

pub(crate) const EV_INCOMING: u8 = 1;
pub(crate) const EV_UP: u8 = 2;
pub(crate) const EV_DOWN: u8 = 4;

impl Session {
    pub fn new(tunnel: TunnelHandle, local_id: u16, state: SessionState, now: Duration) -> Self {
        Self {
            tunnel,
            local_id,
            remote_id: 0,
            state,
            call_serial: 0,
            send_seq: false,
            data_ns: 0,
            data_nr: None,
            counters: SessionCounters {
                last_activity: now,
                ..SessionCounters::default()
            },
            tx_connect_speed: 0,
            framing_type: 0,
            reason: None,
            q931: None,
            origin: Origin::Local,
            events: 0,
            _occupied: zero_none::Occupied::Yes,
        }
    }
}
