//! What the link reports through `poll_event`.

use core::net::Ipv4Addr;

use crate::auth::AuthRequest;
use crate::wire::lcp::AuthMethod;

/// Why the link went down (it reached the RFC 1661 This-Layer-Finished of
/// LCP, or the lower layer went away). After [`Event::Down`] the link sends
/// nothing more; the caller tears down the L2TP session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DownReason {
    /// The restart counter ran out during negotiation (Max-Configure,
    /// RFC 1661 §4.6), of LCP or of IPCP: the peer is silent.
    MaxConfigure,
    /// The negotiation did not converge: the peer kept Nak'ing a request we
    /// cannot change (RFC 1661 §4.6 Max-Failure).
    MaxFailure,
    /// The peer Nak'd every authentication method we offer, or asked for
    /// one the peer role does not do.
    NoCommonAuthMethod,
    /// The peer rejected the Authentication-Protocol option: it refuses to
    /// authenticate.
    AuthRefused,
    /// The credentials were rejected: by the caller's `reject` (authenticator)
    /// or by the authenticator's Nak/Failure, or a wrong MS-CHAP-V2 `S=`
    /// (peer).
    AuthFailed,
    /// Authentication did not finish within the configured time (no
    /// response, or no decision).
    AuthTimeout,
    /// The peer sent Terminate-Request.
    PeerTerminated,
    /// Echo-Requests went unanswered (RFC 1661 §5.8 keepalive).
    EchoTimeout,
    /// The link appears looped back (RFC 1661 §6.4).
    Loopback,
    /// The peer rejected LCP, IPCP or the authentication protocol
    /// (Protocol-Reject, or a catastrophic Code-Reject).
    ProtocolRejected,
    /// IPCP could not give the authenticator an address for the peer in
    /// time, or the peer refused every address.
    NoAddress,
    /// The caller closed the link.
    AdminClose,
    /// The caller reported the lower layer (the L2TP session) down.
    LowerDown,
}

/// The IPv4 configuration IPCP agreed on (RFC 1332, RFC 1877).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Config {
    /// Our address (the authenticator's own, or the one the peer was given).
    pub local: Ipv4Addr,
    /// The other end's address (the one assigned to the peer, or the
    /// server's).
    pub peer: Ipv4Addr,
    /// Primary and secondary DNS servers agreed on.
    pub dns: [Option<Ipv4Addr>; 2],
    /// Primary and secondary NBNS (WINS) servers agreed on.
    pub nbns: [Option<Ipv4Addr>; 2],
}

#[cfg(feature = "defmt")]
impl defmt::Format for Ipv4Config {
    fn format(&self, f: defmt::Formatter<'_>) {
        use crate::Ip;
        defmt::write!(
            f,
            "Ipv4Config {{ local: {}, peer: {}, dns: [{}, {}], nbns: [{}, {}] }}",
            Ip(self.local),
            Ip(self.peer),
            self.dns[0].map(Ip),
            self.dns[1].map(Ip),
            self.nbns[0].map(Ip),
            self.nbns[1].map(Ip)
        );
    }
}

/// Something that happened; drained with `poll_event`.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// Authenticator: the peer presented credentials; answer with
    /// `accept` or `reject` (now, or seconds later after RADIUS).
    AuthRequest(AuthRequest<'a>),
    /// Authenticator with EAP: the peer did not answer the last EAP Request
    /// sent with `send_eap`; send the same Request again.
    EapRetransmit,
    /// Authentication succeeded (authenticator: after `accept`; peer: the
    /// authenticator's Ack/Success, with a verified `S=` for MS-CHAP-V2).
    Authenticated(AuthMethod),
    /// Authenticator: IPCP needs the address to assign to the peer; answer
    /// with `set_peer_address`.
    AddressRequest,
    /// IPCP reached Opened: IPv4 flows.
    NetworkUp(Ipv4Config),
    /// IPCP left Opened (renegotiation or teardown): IPv4 stops.
    NetworkDown,
    /// The link is down; see [`DownReason`].
    Down(DownReason),
}

/// The events as the link queues them: one byte each, with the payload
/// read from the link's state when polled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Queued {
    AuthRequest,
    Authenticated(AuthMethod),
    AddressRequest,
    EapRetransmit,
    NetworkUp,
    NetworkDown,
    Down(DownReason),
}
