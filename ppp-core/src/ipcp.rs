//! The IPCP option policy (RFC 1332 §3, RFC 1877).
//!
//! Authenticator: Naks the peer's IP-Address (0.0.0.0 or any other) with
//! the address the caller assigned, Naks DNS/NBNS requests with the
//! configured servers and rejects what is not configured, rejects
//! IP-Compression-Protocol (VJ), the deprecated IP-Addresses and unknown
//! options, and offers its own address.
//!
//! Peer: asks for 0.0.0.0 (or a configured address) and the DNS/NBNS
//! servers, adopts the authenticator's Naks, Acks its address.

use core::net::Ipv4Addr;

use rand_core::CryptoRng;

use crate::config::Settings;
use crate::cp::{Policy, Seen, Verdict, options, put};
use crate::event::DownReason;
use crate::fsm::Reply;
use crate::wire::cp::RawOption;
use crate::wire::ipcp::{IpcpOption, kind};

/// The slots of the address-valued options, in the order they are sent.
const KINDS: [u8; 5] = [
    kind::IP_ADDRESS,
    kind::PRIMARY_DNS,
    kind::PRIMARY_NBNS,
    kind::SECONDARY_DNS,
    kind::SECONDARY_NBNS,
];

fn slot(k: u8) -> Option<usize> {
    KINDS.iter().position(|x| *x == k)
}

/// Five addresses with a presence mask (cheaper than five `Option`s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slots {
    pub addr: [Ipv4Addr; 5],
    pub present: u8,
}

impl Slots {
    pub const EMPTY: Self = Self {
        addr: [Ipv4Addr::UNSPECIFIED; 5],
        present: 0,
    };

    pub fn get(&self, i: usize) -> Option<Ipv4Addr> {
        (self.present & (1 << i) != 0).then(|| self.addr[i])
    }

    pub fn set(&mut self, i: usize, a: Option<Ipv4Addr>) {
        match a {
            Some(a) => {
                self.addr[i] = a;
                self.present |= 1 << i;
            }
            None => self.present &= !(1 << i),
        }
    }
}

/// What the peer's Acked request held: which slots, and (peer role) the
/// authenticator's address. For the authenticator the values of the slots
/// are the assigned address and the configured servers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PeerRequest {
    pub acked: u8,
    pub address: Option<Ipv4Addr>,
}

/// The IPCP policy state.
#[derive(Debug, Clone)]
pub(crate) struct Ipcp {
    /// Our Configure-Request: slot 0 our address, 1 to 4 the servers we ask
    /// for (peer role).
    pub want: Slots,
    /// The peer's acknowledged request.
    pub peer: PeerRequest,
    /// Authenticator: the address the caller assigned to the peer.
    pub assigned: Option<Ipv4Addr>,
}

/// The configured server for slot `i` (1 to 4).
pub(crate) fn configured(s: &Settings, i: usize) -> Option<Ipv4Addr> {
    match i {
        1 => s.ipcp.dns[0],
        2 => s.ipcp.nbns[0],
        3 => s.ipcp.dns[1],
        4 => s.ipcp.nbns[1],
        _ => None,
    }
}

impl Ipcp {
    pub const fn new() -> Self {
        Self {
            want: Slots::EMPTY,
            peer: PeerRequest {
                acked: 0,
                address: None,
            },
            assigned: None,
        }
    }

    /// The value we would Ack in slot `i`, given the peer's `value`.
    fn acceptable(&self, s: &Settings, i: usize, value: Ipv4Addr) -> Option<Ipv4Addr> {
        match (s.is_authenticator(), i) {
            (true, 0) => self.assigned,
            (true, _) => configured(s, i),
            // The authenticator tells us its address; 0.0.0.0 asks us to give
            // it one, which a peer cannot.
            (false, 0) => (!value.is_unspecified()).then_some(value),
            (false, _) => None,
        }
    }
}

impl Policy for Ipcp {
    const LCP: bool = false;
    const OWNER: u8 = 1;
    type Candidate = PeerRequest;

    fn start(&mut self, s: &Settings) {
        self.want = Slots::EMPTY;
        self.peer = PeerRequest::default();
        if s.is_authenticator() {
            self.want.set(0, s.ipcp.local_address);
        } else {
            self.want.set(
                0,
                Some(s.ipcp.local_address.unwrap_or(Ipv4Addr::UNSPECIFIED)),
            );
            if s.ipcp.request_dns {
                self.want.set(1, Some(Ipv4Addr::UNSPECIFIED));
                self.want.set(3, Some(Ipv4Addr::UNSPECIFIED));
            }
            if s.ipcp.request_nbns {
                self.want.set(2, Some(Ipv4Addr::UNSPECIFIED));
                self.want.set(4, Some(Ipv4Addr::UNSPECIFIED));
            }
        }
    }

    fn emit_request(&self, _s: &Settings, buf: &mut [u8]) -> usize {
        let mut at = 0;
        for (i, k) in KINDS.iter().enumerate() {
            if let Some(a) = self.want.get(i) {
                put(buf, &mut at, *k, &a.octets());
            }
        }
        at
    }

    fn begin_request<R: CryptoRng>(&mut self, _s: &Settings, _rng: &mut R) {}

    fn judge(&self, s: &Settings, raw: RawOption<'_>, c: &mut PeerRequest) -> Verdict {
        let value = match IpcpOption::parse(raw).ok().as_ref().and_then(address_of) {
            Some(a) => a,
            // VJ compression, the deprecated IP-Addresses, unknown options
            // and bad lengths.
            None => return Verdict::Reject,
        };
        let Some(i) = slot(raw.kind) else {
            return Verdict::Reject;
        };
        match self.acceptable(s, i, value) {
            Some(a) if a == value => {
                c.acked |= 1 << i;
                if i == 0 {
                    c.address = Some(a);
                }
                Verdict::Ack
            }
            Some(_) => Verdict::Nak,
            None => Verdict::Reject,
        }
    }

    fn nak_value(&self, s: &Settings, k: u8, _requested: &[u8], reply: &mut Reply) {
        let a = match slot(k) {
            Some(0) => self.assigned,
            Some(i) => configured(s, i),
            None => None,
        };
        if let Some(a) = a {
            reply.push(k, &a.octets());
        }
    }

    fn missing(&self, s: &Settings, seen: &Seen) -> Option<u8> {
        // A peer that does not ask for an address is told the one it gets
        // (RFC 1661 §5.3: a Nak may carry options the request lacked).
        (s.is_authenticator() && self.assigned.is_some() && !seen.has(kind::IP_ADDRESS))
            .then_some(kind::IP_ADDRESS)
    }

    fn commit(&mut self, c: PeerRequest) {
        self.peer = c;
    }

    fn receive_nak<R: CryptoRng>(
        &mut self,
        s: &Settings,
        _rng: &mut R,
        opts: &[u8],
    ) -> Result<(), DownReason> {
        if s.is_authenticator() {
            // Our own address is not negotiable.
            return Ok(());
        }
        for raw in options(opts) {
            let (Some(i), Ok(o)) = (slot(raw.kind), IpcpOption::parse(raw)) else {
                continue;
            };
            let wanted = i == 0
                || (s.ipcp.request_dns && (i == 1 || i == 3))
                || (s.ipcp.request_nbns && (i == 2 || i == 4));
            if let (true, Some(a)) = (wanted, address_of(&o)) {
                self.want.set(i, Some(a));
            }
        }
        Ok(())
    }

    fn receive_reject(&mut self, _s: &Settings, opts: &[u8]) -> Result<(), DownReason> {
        for raw in options(opts) {
            if let Some(i) = slot(raw.kind) {
                self.want.set(i, None);
            }
        }
        Ok(())
    }

    fn code_reject_is_fatal(_code: u8) -> bool {
        // IPCP only ever sends codes 1 to 7, all needed.
        true
    }
}

fn address_of(o: &IpcpOption<'_>) -> Option<Ipv4Addr> {
    match *o {
        IpcpOption::IpAddress(a)
        | IpcpOption::PrimaryDns(a)
        | IpcpOption::PrimaryNbns(a)
        | IpcpOption::SecondaryDns(a)
        | IpcpOption::SecondaryNbns(a) => Some(a),
        _ => None,
    }
}
