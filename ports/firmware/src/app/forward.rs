//! IPv4 forwarding between the VPN clients and the LAN behind the board
//! (RFC 1812), and the ARP (RFC 826) it needs: pure code on byte slices,
//! no embassy, no allocation, fixed capacities. The glue that feeds it
//! Ethernet frames and hands its frames to the driver is
//! [`crate::app::lan`]; the run loop ([`crate::app::vpn`]) gives it the
//! clients' packets and takes the LAN's packets for the clients.
//!
//! ```text
//!  client ──ESP──> gateway ──IPv4──> Forwarder::uplink ──Ethernet──> tx queue ──> driver
//!  driver ──Ethernet──> Forwarder::receive_frame ──IPv4 for the pool──> rx queue ──> handle_ip ──ESP──> client
//!                                   └── everything else (ARP snooped) ──> smoltcp
//! ```
//!
//! The board is a router: a forwarded packet's TTL is decremented and its
//! header checksum updated incrementally (RFC 1624). The next hop on the
//! LAN is the destination when it is on the board's subnet, else the
//! default gateway; its Ethernet address comes from a small neighbour
//! cache, filled from ARP replies to the board's requests and from the ARP
//! traffic addressed to the board. One packet waits while its next hop is
//! being resolved; ICMP errors are not sent (a drop is counted instead).
//!
//! Nothing here can panic on any input: every length is checked before it
//! is used, and what cannot be forwarded is counted by reason in
//! [`Counters`].

use core::net::Ipv4Addr;
use core::time::Duration;

use super::ipv4;

/// Length of an Ethernet II header (destination, source, EtherType).
pub const ETH_HEADER_LEN: usize = 14;
/// The largest IPv4 packet forwarded: the Ethernet MTU.
pub const MAX_PACKET: usize = 1500;
/// The largest frame the forwarder builds (without the FCS).
pub const MAX_FRAME: usize = ETH_HEADER_LEN + MAX_PACKET;
/// The shortest Ethernet frame without its FCS (IEEE 802.3): shorter frames
/// are padded with zeros.
pub const MIN_FRAME: usize = 60;
/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// Length of an ARP packet for IPv4 over Ethernet (RFC 826).
pub const ARP_LEN: usize = 28;
/// Entries of the neighbour cache.
pub const NEIGHBOURS: usize = 8;
/// How long a neighbour's address is used before it is asked again.
pub const NEIGHBOUR_LIFETIME: Duration = Duration::from_secs(300);
/// How long a packet waits for its next hop's ARP reply.
pub const ARP_TIMEOUT: Duration = Duration::from_secs(3);
/// How often an ARP request for the waiting packet's next hop is repeated.
pub const ARP_RETRY: Duration = Duration::from_secs(1);

const BROADCAST_MAC: [u8; 6] = [0xff; 6];

/// An IPv4 subnet: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subnet {
    /// Any address of the subnet (the host bits are ignored).
    pub address: Ipv4Addr,
    /// The prefix length, 0..=32 (larger counts as 32).
    pub prefix_len: u8,
}

impl Subnet {
    /// The subnet of `address`/`prefix_len`.
    pub const fn new(address: Ipv4Addr, prefix_len: u8) -> Self {
        Self {
            address,
            prefix_len,
        }
    }

    fn mask(self) -> u32 {
        let bits = u32::from(self.prefix_len.min(32));
        u32::MAX.checked_shl(32 - bits).unwrap_or(0)
    }

    /// Whether `addr` is in the subnet.
    pub fn contains(self, addr: Ipv4Addr) -> bool {
        let mask = self.mask();
        u32::from(addr) & mask == u32::from(self.address) & mask
    }

    /// The subnet's directed broadcast address (RFC 919).
    pub fn broadcast(self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.address) | !self.mask())
    }
}

/// What the forwarder knows about the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForwardConfig {
    /// The board's Ethernet address.
    pub mac: [u8; 6],
    /// The board's address on the LAN, and the LAN's prefix length.
    pub lan: Subnet,
    /// The LAN's default router, for destinations beyond the LAN.
    pub gateway: Option<Ipv4Addr>,
    /// The clients' pool (routed to the board by the LAN) and the gateway's
    /// inside address: IPv4 packets from the LAN to this subnet are taken
    /// for the clients.
    pub pool: Subnet,
}

impl ForwardConfig {
    /// An unconfigured forwarder: takes nothing, forwards nothing.
    pub const EMPTY: Self = Self {
        mac: [0; 6],
        lan: Subnet::new(Ipv4Addr::UNSPECIFIED, 0),
        gateway: None,
        pool: Subnet::new(Ipv4Addr::UNSPECIFIED, 0),
    };
}

/// Why a packet was not forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drop {
    /// Not a well-formed IPv4 packet (version, header length, total
    /// length, header checksum). Fragments are forwarded as they are.
    Malformed,
    /// No route: a broadcast, multicast, loopback or unspecified
    /// destination, the board's own LAN address, a pool address from a
    /// client, or a destination beyond the LAN without a default gateway.
    NoRoute,
    /// The next hop did not answer ARP in time, or another packet was
    /// already waiting for an answer.
    NoArp,
    /// TTL exhausted (RFC 1812 §5.3.1); no ICMP time exceeded is sent.
    Ttl,
    /// Larger than the link or the tunnel takes; no ICMP is sent.
    TooBig,
    /// The queue towards the driver or towards the run loop was full.
    QueueFull,
}

/// What [`Forwarder::uplink`] did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uplink {
    /// Queued for the driver, Ethernet header filled in.
    Queued,
    /// Waiting for the next hop's ARP reply (a request is queued).
    Resolving,
}

/// Forwarding counters, wrapping like interface counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Packets from clients sent to the LAN.
    pub to_lan: u32,
    /// Packets from the LAN sealed for clients (counted by the run loop,
    /// which hands them to the gateway).
    pub to_clients: u32,
    /// ARP requests sent.
    pub arp_requests: u32,
    /// Drops by reason: [`Drop::Malformed`].
    pub malformed: u32,
    /// Drops by reason: [`Drop::NoRoute`].
    pub no_route: u32,
    /// Drops by reason: [`Drop::NoArp`].
    pub no_arp: u32,
    /// Drops by reason: [`Drop::Ttl`].
    pub ttl: u32,
    /// Drops by reason: [`Drop::TooBig`].
    pub too_big: u32,
    /// Drops by reason: [`Drop::QueueFull`].
    pub queue_full: u32,
}

impl Counters {
    /// All zero.
    pub const ZERO: Self = Self {
        to_lan: 0,
        to_clients: 0,
        arp_requests: 0,
        malformed: 0,
        no_route: 0,
        no_arp: 0,
        ttl: 0,
        too_big: 0,
        queue_full: 0,
    };

    /// Counts a drop.
    pub fn count(&mut self, drop: Drop) {
        let c = match drop {
            Drop::Malformed => &mut self.malformed,
            Drop::NoRoute => &mut self.no_route,
            Drop::NoArp => &mut self.no_arp,
            Drop::Ttl => &mut self.ttl,
            Drop::TooBig => &mut self.too_big,
            Drop::QueueFull => &mut self.queue_full,
        };
        *c = c.wrapping_add(1);
    }
}

/// A first-in first-out queue of up to `N` byte strings of up to
/// [`MAX_FRAME`] bytes each, in place.
#[derive(Debug)]
pub struct Queue<const N: usize> {
    bufs: [[u8; MAX_FRAME]; N],
    lens: [u16; N],
    head: usize,
    len: usize,
}

impl<const N: usize> Queue<N> {
    /// An empty queue (all zero bytes: a `static` of it goes to `.bss`).
    pub const fn new() -> Self {
        Self {
            bufs: [[0; MAX_FRAME]; N],
            lens: [0; N],
            head: 0,
            len: 0,
        }
    }

    /// Entries queued.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends the entry that `fill` writes into a zeroed buffer of
    /// [`MAX_FRAME`] bytes; `fill` returns its length, or `None` to append
    /// nothing. Returns `Err(())` when the queue is full (`fill` is not
    /// called), else what `fill` returned.
    fn push_with(
        &mut self,
        fill: impl FnOnce(&mut [u8; MAX_FRAME]) -> Option<usize>,
    ) -> Result<Option<usize>, ()> {
        if self.len >= N {
            return Err(());
        }
        let at = (self.head + self.len) % N;
        let (Some(buf), Some(len_slot)) = (self.bufs.get_mut(at), self.lens.get_mut(at)) else {
            return Err(());
        };
        buf.fill(0);
        let Some(n) = fill(buf) else {
            return Ok(None);
        };
        let n = n.min(MAX_FRAME);
        *len_slot = u16::try_from(n).unwrap_or(0);
        self.len += 1;
        Ok(Some(n))
    }

    /// Appends a copy of `bytes` (at most [`MAX_FRAME`]); `false` when the
    /// queue is full or `bytes` too long.
    pub fn push(&mut self, bytes: &[u8]) -> bool {
        if bytes.len() > MAX_FRAME {
            return false;
        }
        matches!(
            self.push_with(|buf| {
                buf.get_mut(..bytes.len())?.copy_from_slice(bytes);
                Some(bytes.len())
            }),
            Ok(Some(_))
        )
    }

    /// The oldest entry.
    pub fn front(&self) -> Option<&[u8]> {
        if self.len == 0 {
            return None;
        }
        let n = usize::from(*self.lens.get(self.head)?);
        self.bufs.get(self.head)?.get(..n)
    }

    /// Removes the oldest entry.
    pub fn pop(&mut self) {
        if self.len > 0 {
            self.head = (self.head + 1) % N.max(1);
            self.len -= 1;
        }
    }

    /// Copies the oldest entry into `out` and removes it; returns its
    /// length, or `None` when empty or `out` is too short (then the entry
    /// is removed all the same: it can never be taken).
    pub fn pop_into(&mut self, out: &mut [u8]) -> Option<usize> {
        let front = self.front()?;
        let n = front.len();
        let copied = out.get_mut(..n).map(|o| o.copy_from_slice(front));
        self.pop();
        copied.map(|()| n)
    }
}

impl<const N: usize> Default for Queue<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, Clone, Copy)]
struct Neighbour {
    ip: Ipv4Addr,
    mac: [u8; 6],
    at: Duration,
    valid: bool,
}

impl Neighbour {
    const EMPTY: Self = Self {
        ip: Ipv4Addr::UNSPECIFIED,
        mac: [0; 6],
        at: Duration::ZERO,
        valid: false,
    };
}

/// A packet waiting for its next hop's Ethernet address: a whole frame,
/// destination address still blank.
#[derive(Debug)]
struct Waiting {
    frame: [u8; MAX_FRAME],
    len: usize,
    next_hop: Ipv4Addr,
    since: Duration,
    asked: Duration,
    valid: bool,
}

/// The forwarder: configuration, neighbour cache, the queue of frames for
/// the driver (`TX` frames) and the queue of packets from the LAN for the
/// clients (`RX` packets), one packet waiting for ARP, and counters.
#[derive(Debug)]
pub struct Forwarder<const TX: usize, const RX: usize> {
    config: ForwardConfig,
    configured: bool,
    neighbours: [Neighbour; NEIGHBOURS],
    waiting: Waiting,
    tx: Queue<TX>,
    rx: Queue<RX>,
    /// What was forwarded and what was dropped, by reason.
    pub counters: Counters,
}

impl<const TX: usize, const RX: usize> Forwarder<TX, RX> {
    /// An unconfigured forwarder (takes and forwards nothing), for a
    /// `static`: all zero bytes, so it costs no flash.
    pub const fn new() -> Self {
        Self {
            config: ForwardConfig::EMPTY,
            configured: false,
            neighbours: [Neighbour::EMPTY; NEIGHBOURS],
            waiting: Waiting {
                frame: [0; MAX_FRAME],
                len: 0,
                next_hop: Ipv4Addr::UNSPECIFIED,
                since: Duration::ZERO,
                asked: Duration::ZERO,
                valid: false,
            },
            tx: Queue::new(),
            rx: Queue::new(),
            counters: Counters::ZERO,
        }
    }

    /// Sets the board's addresses; forgets neighbours and queued frames.
    pub fn configure(&mut self, config: ForwardConfig) {
        self.config = config;
        self.configured = true;
        self.neighbours = [Neighbour::EMPTY; NEIGHBOURS];
        self.waiting.valid = false;
        while !self.tx.is_empty() {
            self.tx.pop();
        }
        while !self.rx.is_empty() {
            self.rx.pop();
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ForwardConfig {
        &self.config
    }

    /// Frames queued for the driver.
    pub fn tx_queue(&mut self) -> &mut Queue<TX> {
        &mut self.tx
    }

    /// Packets from the LAN queued for the clients (IPv4, no Ethernet
    /// header, TTL already decremented).
    pub fn rx_queue(&mut self) -> &mut Queue<RX> {
        &mut self.rx
    }

    /// The Ethernet address of `ip` if the cache has a fresh one.
    pub fn neighbour(&self, now: Duration, ip: Ipv4Addr) -> Option<[u8; 6]> {
        self.neighbours
            .iter()
            .find(|n| n.valid && n.ip == ip && now.saturating_sub(n.at) < NEIGHBOUR_LIFETIME)
            .map(|n| n.mac)
    }

    /// Records `ip` at `mac`: updates an entry for `ip`, or when `create`,
    /// takes a free or the oldest entry.
    fn learn(&mut self, now: Duration, ip: Ipv4Addr, mac: [u8; 6], create: bool) {
        if let Some(n) = self.neighbours.iter_mut().find(|n| n.valid && n.ip == ip) {
            n.mac = mac;
            n.at = now;
            return;
        }
        if !create {
            return;
        }
        let slot = match self.neighbours.iter().position(|n| !n.valid) {
            Some(i) => Some(i),
            None => self
                .neighbours
                .iter()
                .enumerate()
                .min_by_key(|(_, n)| n.at)
                .map(|(i, _)| i),
        };
        if let Some(n) = slot.and_then(|i| self.neighbours.get_mut(i)) {
            *n = Neighbour {
                ip,
                mac,
                at: now,
                valid: true,
            };
        }
    }

    /// A frame the driver received. Returns `true` when the forwarder took
    /// it (an IPv4 packet to the board's Ethernet address for the pool:
    /// TTL decremented and queued for the clients, or dropped and counted),
    /// `false` when it is for the network stack (everything else; ARP is
    /// read on the way to learn neighbours).
    pub fn receive_frame(&mut self, now: Duration, frame: &[u8]) -> bool {
        if !self.configured {
            return false;
        }
        let Some(ethertype) = frame.get(12..14) else {
            return false;
        };
        let ethertype = u16::from_be_bytes([ethertype[0], ethertype[1]]);
        let Some(payload) = frame.get(ETH_HEADER_LEN..) else {
            return false;
        };
        match ethertype {
            ETHERTYPE_ARP => {
                self.snoop_arp(now, payload);
                false
            }
            ETHERTYPE_IPV4 => {
                if frame.get(..6) != Some(&self.config.mac[..]) {
                    return false;
                }
                let Some(dst) = payload.get(16..20) else {
                    return false;
                };
                let dst = Ipv4Addr::new(dst[0], dst[1], dst[2], dst[3]);
                if !self.is_pool(dst) {
                    return false;
                }
                if let Err(drop) = self.downlink(payload) {
                    self.counters.count(drop);
                }
                true
            }
            _ => false,
        }
    }

    fn is_pool(&self, dst: Ipv4Addr) -> bool {
        self.config.pool.contains(dst) && dst != self.config.lan.address && !dst.is_unspecified()
    }

    /// An IPv4 packet from the LAN for the pool: checked, TTL decremented,
    /// queued for the run loop.
    fn downlink(&mut self, payload: &[u8]) -> Result<(), Drop> {
        let len = check_ipv4(payload).ok_or(Drop::Malformed)?;
        if len > MAX_PACKET {
            return Err(Drop::TooBig);
        }
        let packet = payload.get(..len).ok_or(Drop::Malformed)?;
        let dst = Ipv4Addr::new(packet[16], packet[17], packet[18], packet[19]);
        if dst == self.config.pool.broadcast() {
            return Err(Drop::NoRoute);
        }
        if packet[8] <= 1 {
            return Err(Drop::Ttl);
        }
        let pushed = self.rx.push_with(|buf| {
            let out = buf.get_mut(..len)?;
            out.copy_from_slice(packet);
            decrement_ttl(out);
            Some(len)
        });
        match pushed {
            // Counted in `to_clients` once the gateway has sealed it.
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(Drop::Malformed),
            Err(()) => Err(Drop::QueueFull),
        }
    }

    /// Reads an ARP packet (RFC 826) on its way to the stack: the sender's
    /// address updates the cache, and is added when the packet is for the
    /// board (a reply to its request, or a request for its address). A
    /// packet waiting for that sender goes out.
    fn snoop_arp(&mut self, now: Duration, arp: &[u8]) {
        let Some(arp) = arp.get(..ARP_LEN) else {
            return;
        };
        // Ethernet (1), IPv4, 6-byte and 4-byte addresses.
        if arp[0..6] != [0, 1, 0x08, 0x00, 6, 4] {
            return;
        }
        let op = u16::from_be_bytes([arp[6], arp[7]]);
        if op != 1 && op != 2 {
            return;
        }
        let mut sha = [0u8; 6];
        sha.copy_from_slice(&arp[8..14]);
        let spa = Ipv4Addr::new(arp[14], arp[15], arp[16], arp[17]);
        let tpa = Ipv4Addr::new(arp[24], arp[25], arp[26], arp[27]);
        let lan = self.config.lan;
        if !lan.contains(spa)
            || spa == lan.address
            || spa.is_unspecified()
            || spa == lan.broadcast()
            || sha[0] & 1 != 0
            || sha == [0; 6]
        {
            return;
        }
        self.learn(now, spa, sha, tpa == lan.address);
        if self.waiting.valid && self.waiting.next_hop == spa && self.neighbour(now, spa).is_some()
        {
            self.send_waiting(sha);
        }
    }

    fn send_waiting(&mut self, mac: [u8; 6]) {
        let w = &mut self.waiting;
        w.valid = false;
        let Some(frame) = w.frame.get_mut(..w.len) else {
            return;
        };
        if let Some(dst) = frame.get_mut(..6) {
            dst.copy_from_slice(&mac);
        }
        if self.tx.push(frame) {
            self.counters.to_lan = self.counters.to_lan.wrapping_add(1);
        } else {
            self.counters.count(Drop::QueueFull);
        }
    }

    /// Drops the waiting packet when its next hop did not answer within
    /// [`ARP_TIMEOUT`], and repeats the request every [`ARP_RETRY`] until
    /// then. Called from the run loop now and then.
    pub fn poll(&mut self, now: Duration) {
        if !self.waiting.valid {
            return;
        }
        if now.saturating_sub(self.waiting.since) >= ARP_TIMEOUT {
            self.waiting.valid = false;
            self.counters.count(Drop::NoArp);
        } else if now.saturating_sub(self.waiting.asked) >= ARP_RETRY {
            self.waiting.asked = now;
            self.request(self.waiting.next_hop);
        }
    }

    /// When the run loop should call [`poll`](Self::poll) next.
    pub fn poll_at(&self) -> Option<Duration> {
        self.waiting
            .valid
            .then(|| (self.waiting.asked + ARP_RETRY).min(self.waiting.since + ARP_TIMEOUT))
    }

    /// Queues an ARP request for `ip`.
    fn request(&mut self, ip: Ipv4Addr) {
        let (mac, me) = (self.config.mac, self.config.lan.address);
        let pushed = self.tx.push_with(|buf| {
            let n = emit_arp_request(buf, mac, me, ip)?;
            Some(n.max(MIN_FRAME))
        });
        match pushed {
            Ok(Some(_)) => self.counters.arp_requests = self.counters.arp_requests.wrapping_add(1),
            _ => self.counters.count(Drop::QueueFull),
        }
    }

    /// The next hop on the LAN for `dst`: `dst` itself on the LAN's
    /// subnet, else the default gateway. `None` for what is not forwarded.
    pub fn next_hop(&self, dst: Ipv4Addr) -> Option<Ipv4Addr> {
        let lan = self.config.lan;
        if !self.configured
            || dst.is_unspecified()
            || dst.is_broadcast()
            || dst.is_multicast()
            || dst.is_loopback()
            || dst.octets()[0] >= 240
            || dst == lan.address
            || self.config.pool.contains(dst)
        {
            return None;
        }
        if lan.contains(dst) {
            (dst != lan.broadcast()).then_some(dst)
        } else {
            self.config.gateway.filter(|g| lan.contains(*g))
        }
    }

    /// An IPv4 packet from a client (the gateway has checked its source
    /// address): forwarded to the LAN with its TTL decremented. Queued as
    /// a frame for the driver when the next hop's address is known, else
    /// kept while an ARP request asks for it (one packet at a time).
    ///
    /// # Errors
    /// Why it was dropped (also counted in [`Forwarder::counters`]).
    pub fn uplink(&mut self, now: Duration, packet: &[u8]) -> Result<Uplink, Drop> {
        let r = self.uplink_inner(now, packet);
        match r {
            Ok(Uplink::Queued) => self.counters.to_lan = self.counters.to_lan.wrapping_add(1),
            Ok(Uplink::Resolving) => {}
            Err(drop) => self.counters.count(drop),
        }
        r
    }

    fn uplink_inner(&mut self, now: Duration, packet: &[u8]) -> Result<Uplink, Drop> {
        let len = check_ipv4(packet).ok_or(Drop::Malformed)?;
        if len > MAX_PACKET {
            return Err(Drop::TooBig);
        }
        let packet = packet.get(..len).ok_or(Drop::Malformed)?;
        let dst = Ipv4Addr::new(packet[16], packet[17], packet[18], packet[19]);
        let next_hop = self.next_hop(dst).ok_or(Drop::NoRoute)?;
        if packet[8] <= 1 {
            return Err(Drop::Ttl);
        }
        let mac = self.neighbour(now, next_hop);
        let src_mac = self.config.mac;
        let fill = |buf: &mut [u8; MAX_FRAME]| -> Option<usize> {
            let n = ETH_HEADER_LEN + len;
            let frame = buf.get_mut(..n)?;
            frame[0..6].copy_from_slice(&mac.unwrap_or([0; 6]));
            frame[6..12].copy_from_slice(&src_mac);
            frame[12..14].copy_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
            let ip = &mut frame[ETH_HEADER_LEN..];
            ip.copy_from_slice(packet);
            decrement_ttl(ip);
            Some(n.max(MIN_FRAME))
        };
        if mac.is_some() {
            return match self.tx.push_with(fill) {
                Ok(Some(_)) => Ok(Uplink::Queued),
                Ok(None) => Err(Drop::Malformed),
                Err(()) => Err(Drop::QueueFull),
            };
        }
        // Not resolved: the packet waits, unless another already does.
        if self.waiting.valid {
            if now.saturating_sub(self.waiting.since) < ARP_TIMEOUT {
                return Err(Drop::NoArp);
            }
            // The one waiting never got an answer: it is dropped instead.
            self.counters.count(Drop::NoArp);
        }
        let n = fill(&mut self.waiting.frame).ok_or(Drop::Malformed)?;
        self.waiting.len = n;
        self.waiting.next_hop = next_hop;
        self.waiting.since = now;
        self.waiting.asked = now;
        self.waiting.valid = true;
        self.request(next_hop);
        Ok(Uplink::Resolving)
    }
}

impl<const TX: usize, const RX: usize> Default for Forwarder<TX, RX> {
    fn default() -> Self {
        Self::new()
    }
}

/// Checks an IPv4 header (RFC 791; RFC 1812 §5.2.2: version 4, header
/// length at least 20, total length at least the header and within the
/// buffer, header checksum) and returns the total length.
pub fn check_ipv4(packet: &[u8]) -> Option<usize> {
    let first = *packet.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let header_len = usize::from(first & 0x0f) * 4;
    if header_len < ipv4::HEADER_LEN {
        return None;
    }
    let header = packet.get(..header_len)?;
    let total_len = usize::from(u16::from_be_bytes([header[2], header[3]]));
    if total_len < header_len || total_len > packet.len() {
        return None;
    }
    (ipv4::ones_complement_sum(header) == 0xffff).then_some(total_len)
}

/// Decrements the TTL of a checked IPv4 header (a TTL of 0 stays 0) and
/// updates its checksum incrementally (RFC 1624, eqn. 3:
/// `HC' = ~(~HC + ~m + m')`).
pub fn decrement_ttl(header: &mut [u8]) {
    let Some(h) = header.get_mut(..12) else {
        return;
    };
    if h[8] == 0 {
        return;
    }
    let old = u16::from_be_bytes([h[8], h[9]]);
    h[8] -= 1;
    let new = u16::from_be_bytes([h[8], h[9]]);
    let hc = u16::from_be_bytes([h[10], h[11]]);
    h[10..12].copy_from_slice(&update_checksum(hc, old, new).to_be_bytes());
}

/// The checksum `hc` after a 16-bit word of the data changed from `old` to
/// `new` (RFC 1624, eqn. 3: `HC' = ~(~HC + ~m + m')`).
pub fn update_checksum(hc: u16, old: u16, new: u16) -> u16 {
    let mut sum = u32::from(!hc) + u32::from(!old) + u32::from(new);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !u16::try_from(sum).unwrap_or(u16::MAX)
}

/// Writes a broadcast ARP request (RFC 826) from `mac`/`me` for `target`
/// into `buf`; returns its length (42 bytes, unpadded).
pub fn emit_arp_request(
    buf: &mut [u8],
    mac: [u8; 6],
    me: Ipv4Addr,
    target: Ipv4Addr,
) -> Option<usize> {
    let n = ETH_HEADER_LEN + ARP_LEN;
    let f = buf.get_mut(..n)?;
    f[0..6].copy_from_slice(&BROADCAST_MAC);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&ETHERTYPE_ARP.to_be_bytes());
    f[14..22].copy_from_slice(&[0, 1, 0x08, 0x00, 6, 4, 0, 1]);
    f[22..28].copy_from_slice(&mac);
    f[28..32].copy_from_slice(&me.octets());
    f[32..38].fill(0);
    f[38..42].copy_from_slice(&target.octets());
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
    const HOST_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x50];
    const ROUTER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
    const ME: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);
    const HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 50);
    const ROUTER: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);
    const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 10);
    const T0: Duration = Duration::from_secs(100);

    type Fwd = Forwarder<2, 2>;

    fn forwarder() -> Box<Fwd> {
        let mut f = Box::new(Fwd::new());
        f.configure(ForwardConfig {
            mac: MAC,
            lan: Subnet::new(ME, 24),
            gateway: Some(ROUTER),
            pool: Subnet::new(Ipv4Addr::new(10, 77, 0, 0), 24),
        });
        f
    }

    /// An ICMP echo request as `ping` sends it, with a correct header.
    fn ip(src: Ipv4Addr, dst: Ipv4Addr, ttl: u8) -> Vec<u8> {
        let payload = b"\x08\x00\xf7\xfe\x00\x01\x00\x00";
        let mut h = [0u8; 20];
        ipv4::emit_header(&mut h, src, dst, 1, 0x1c46, payload.len()).unwrap();
        h[8] = ttl;
        h[10..12].fill(0);
        let sum = !ipv4::ones_complement_sum(&h);
        h[10..12].copy_from_slice(&sum.to_be_bytes());
        let mut p = h.to_vec();
        p.extend_from_slice(payload);
        p
    }

    fn frame(dst_mac: [u8; 6], src_mac: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = dst_mac.to_vec();
        f.extend_from_slice(&src_mac);
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    /// An ARP packet laid out field by field from RFC 826.
    fn arp(op: u16, sha: [u8; 6], spa: Ipv4Addr, tha: [u8; 6], tpa: Ipv4Addr) -> Vec<u8> {
        let mut a = vec![];
        a.extend_from_slice(&1u16.to_be_bytes()); // ar$hrd: Ethernet
        a.extend_from_slice(&0x0800u16.to_be_bytes()); // ar$pro: IP
        a.push(6); // ar$hln
        a.push(4); // ar$pln
        a.extend_from_slice(&op.to_be_bytes()); // ar$op
        a.extend_from_slice(&sha);
        a.extend_from_slice(&spa.octets());
        a.extend_from_slice(&tha);
        a.extend_from_slice(&tpa.octets());
        a
    }

    fn pop_tx(f: &mut Fwd) -> Option<Vec<u8>> {
        let v = f.tx_queue().front().map(<[u8]>::to_vec);
        f.tx_queue().pop();
        v
    }

    #[test]
    fn rfc1624_section4_example() {
        // m = 0x5555 -> m' = 0x3285 with HC = 0xDD2F gives HC' = 0x0000.
        assert_eq!(update_checksum(0xdd2f, 0x5555, 0x3285), 0x0000);
    }

    #[test]
    fn ttl_decrement_matches_a_full_recomputation() {
        // The header of the example in the IPv4 header checksum article
        // (checksum 0xb861): TTL 0x40 -> 0x3f moves the sum by 0x0100.
        let mut h: Vec<u8> = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ]
        .to_vec();
        assert_eq!(ipv4::ones_complement_sum(&h), 0xffff);
        decrement_ttl(&mut h);
        assert_eq!(h[8], 0x3f);
        assert_eq!(h[10..12], [0xb9, 0x61]);
        // Every TTL and many headers: incremental == recomputed (RFC 1071).
        let mut x: u32 = 7;
        for ttl in 1..=255u8 {
            let mut p = ip(Ipv4Addr::from(x), Ipv4Addr::from(x.rotate_left(7)), ttl);
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            decrement_ttl(&mut p[..20]);
            assert_eq!(p[8], ttl - 1);
            assert_eq!(ipv4::ones_complement_sum(&p[..20]), 0xffff, "ttl {ttl}");
        }
    }

    #[test]
    fn arp_request_is_laid_out_as_rfc826_says() {
        let mut buf = [0u8; 64];
        let n = emit_arp_request(&mut buf, MAC, ME, HOST).unwrap();
        let want = frame([0xff; 6], MAC, 0x0806, &arp(1, MAC, ME, [0; 6], HOST));
        assert_eq!(&buf[..n], &want[..]);
        assert_eq!(emit_arp_request(&mut buf[..41], MAC, ME, HOST), None);
    }

    #[test]
    fn a_client_packet_to_a_lan_host_waits_for_arp_then_goes_out() {
        let mut f = forwarder();
        let p = ip(CLIENT, HOST, 64);
        assert_eq!(f.uplink(T0, &p), Ok(Uplink::Resolving));
        // The request for the host is queued; nothing else yet.
        let req = pop_tx(&mut f).unwrap();
        assert_eq!(req.len(), MIN_FRAME, "padded to the minimum frame");
        assert_eq!(
            &req[..42],
            &frame([0xff; 6], MAC, 0x0806, &arp(1, MAC, ME, [0; 6], HOST))[..]
        );
        assert!(pop_tx(&mut f).is_none());
        // The reply: passed to the stack (false), and the packet leaves.
        let reply = frame(MAC, HOST_MAC, 0x0806, &arp(2, HOST_MAC, HOST, MAC, ME));
        assert!(!f.receive_frame(T0, &reply));
        let out = pop_tx(&mut f).unwrap();
        assert_eq!(out.len(), MIN_FRAME);
        assert_eq!(&out[..6], &HOST_MAC);
        assert_eq!(&out[6..12], &MAC);
        assert_eq!(&out[12..14], &[0x08, 0x00]);
        let fwd = &out[14..14 + p.len()];
        assert_eq!(fwd[8], 63, "TTL decremented");
        assert_eq!(
            ipv4::ones_complement_sum(&fwd[..20]),
            0xffff,
            "checksum updated"
        );
        assert_eq!(fwd[..8], p[..8]);
        assert_eq!(fwd[9], p[9]);
        assert_eq!(fwd[12..], p[12..], "addresses and payload unchanged");
        // The next one goes straight out: the host is in the cache.
        assert_eq!(f.uplink(T0, &p), Ok(Uplink::Queued));
        assert_eq!(&pop_tx(&mut f).unwrap()[..6], &HOST_MAC);
        assert_eq!(f.counters.to_lan, 2);
        assert_eq!(f.counters.arp_requests, 1);
    }

    #[test]
    fn beyond_the_lan_the_next_hop_is_the_default_gateway() {
        let mut f = forwarder();
        assert_eq!(f.next_hop(Ipv4Addr::new(192, 0, 2, 1)), Some(ROUTER));
        assert_eq!(f.next_hop(HOST), Some(HOST));
        // Learnt from the router's request for the board (it routes the pool here).
        let req = frame(
            [0xff; 6],
            ROUTER_MAC,
            0x0806,
            &arp(1, ROUTER_MAC, ROUTER, [0; 6], ME),
        );
        assert!(!f.receive_frame(T0, &req));
        assert_eq!(
            f.uplink(T0, &ip(CLIENT, Ipv4Addr::new(192, 0, 2, 1), 64)),
            Ok(Uplink::Queued)
        );
        assert_eq!(&pop_tx(&mut f).unwrap()[..6], &ROUTER_MAC);
        // Without a default gateway there is no route.
        let mut f = forwarder();
        let mut c = *f.config();
        c.gateway = None;
        f.configure(c);
        assert_eq!(
            f.uplink(T0, &ip(CLIENT, Ipv4Addr::new(192, 0, 2, 1), 64)),
            Err(Drop::NoRoute)
        );
    }

    #[test]
    fn what_is_not_forwarded_is_counted_by_reason() {
        let mut f = forwarder();
        let req = frame(
            [0xff; 6],
            HOST_MAC,
            0x0806,
            &arp(1, HOST_MAC, HOST, [0; 6], ME),
        );
        assert!(!f.receive_frame(T0, &req));
        assert_eq!(f.uplink(T0, &ip(CLIENT, HOST, 1)), Err(Drop::Ttl));
        assert_eq!(f.uplink(T0, &ip(CLIENT, HOST, 0)), Err(Drop::Ttl));
        for dst in [
            Ipv4Addr::BROADCAST,
            Ipv4Addr::new(10, 0, 2, 255),
            Ipv4Addr::new(224, 0, 0, 1),
            Ipv4Addr::new(127, 0, 0, 1),
            Ipv4Addr::UNSPECIFIED,
            ME,
            Ipv4Addr::new(10, 77, 0, 11),
            Ipv4Addr::new(240, 0, 0, 1),
        ] {
            assert_eq!(
                f.uplink(T0, &ip(CLIENT, dst, 64)),
                Err(Drop::NoRoute),
                "{dst}"
            );
        }
        let mut bad = ip(CLIENT, HOST, 64);
        bad[11] ^= 1;
        assert_eq!(f.uplink(T0, &bad), Err(Drop::Malformed), "header checksum");
        let good = ip(CLIENT, HOST, 64);
        assert_eq!(f.uplink(T0, &good[..good.len() - 1]), Err(Drop::Malformed));
        // Two queued, the third finds the queue full.
        assert_eq!(f.uplink(T0, &good), Ok(Uplink::Queued));
        assert_eq!(f.uplink(T0, &good), Ok(Uplink::Queued));
        assert_eq!(f.uplink(T0, &good), Err(Drop::QueueFull));
        assert_eq!(
            f.counters,
            Counters {
                to_lan: 2,
                ttl: 2,
                no_route: 8,
                malformed: 2,
                queue_full: 1,
                ..Counters::ZERO
            }
        );
    }

    #[test]
    fn an_unanswered_arp_drops_the_waiting_packet() {
        let mut f = forwarder();
        let p = ip(CLIENT, HOST, 64);
        assert_eq!(f.uplink(T0, &p), Ok(Uplink::Resolving));
        assert!(pop_tx(&mut f).is_some());
        // A second packet while the first waits: dropped.
        assert_eq!(f.uplink(T0, &p), Err(Drop::NoArp));
        assert_eq!(f.poll_at(), Some(T0 + ARP_RETRY));
        f.poll(T0 + ARP_RETRY);
        assert!(pop_tx(&mut f).unwrap()[..6] == [0xff; 6], "asked again");
        f.poll(T0 + ARP_TIMEOUT);
        assert_eq!(f.poll_at(), None);
        assert_eq!(f.counters.no_arp, 2);
        assert_eq!(f.counters.arp_requests, 2);
        // A late reply sends nothing.
        let reply = frame(MAC, HOST_MAC, 0x0806, &arp(2, HOST_MAC, HOST, MAC, ME));
        f.receive_frame(T0 + ARP_TIMEOUT, &reply);
        assert!(pop_tx(&mut f).is_none());
        // And a waiting packet past its time is replaced by the next one.
        let other = Ipv4Addr::new(10, 0, 2, 60);
        assert_eq!(f.uplink(T0, &ip(CLIENT, other, 64)), Ok(Uplink::Resolving));
        let later = T0 + ARP_TIMEOUT;
        assert_eq!(
            f.uplink(later, &ip(CLIENT, Ipv4Addr::new(10, 0, 2, 61), 64)),
            Ok(Uplink::Resolving)
        );
        assert_eq!(f.counters.no_arp, 3);
    }

    #[test]
    fn neighbours_age_out_and_the_oldest_makes_room() {
        let mut f = forwarder();
        let reply = frame(MAC, HOST_MAC, 0x0806, &arp(2, HOST_MAC, HOST, MAC, ME));
        f.receive_frame(T0, &reply);
        assert_eq!(f.neighbour(T0, HOST), Some(HOST_MAC));
        assert_eq!(f.neighbour(T0 + NEIGHBOUR_LIFETIME, HOST), None, "stale");
        // ARP not addressed to the board updates but does not add.
        let other = Ipv4Addr::new(10, 0, 2, 70);
        let gratuitous = frame(
            [0xff; 6],
            ROUTER_MAC,
            0x0806,
            &arp(1, ROUTER_MAC, other, [0; 6], other),
        );
        f.receive_frame(T0, &gratuitous);
        assert_eq!(f.neighbour(T0, other), None);
        // Off-subnet, multicast or zero senders are never learnt.
        for (sha, spa) in [
            (ROUTER_MAC, Ipv4Addr::new(192, 0, 2, 1)),
            ([0x01, 0, 0x5e, 0, 0, 1], other),
            ([0; 6], other),
            (ROUTER_MAC, Ipv4Addr::new(10, 0, 2, 255)),
        ] {
            f.receive_frame(T0, &frame(MAC, sha, 0x0806, &arp(2, sha, spa, MAC, ME)));
            assert_eq!(f.neighbour(T0, spa), None, "{spa}");
        }
        // NEIGHBOURS more hosts: the oldest (HOST) is replaced.
        for i in 0..NEIGHBOURS {
            let ip4 = Ipv4Addr::new(10, 0, 2, 100 + u8::try_from(i).unwrap());
            let at = T0 + Duration::from_secs(1 + u64::try_from(i).unwrap());
            f.receive_frame(
                at,
                &frame(MAC, ROUTER_MAC, 0x0806, &arp(2, ROUTER_MAC, ip4, MAC, ME)),
            );
            assert_eq!(f.neighbour(at, ip4), Some(ROUTER_MAC));
        }
        assert_eq!(f.neighbour(T0 + Duration::from_secs(20), HOST), None);
    }

    #[test]
    fn lan_packets_for_the_pool_are_taken_others_go_to_the_stack() {
        let mut f = forwarder();
        let p = ip(HOST, CLIENT, 64);
        assert!(f.receive_frame(T0, &frame(MAC, HOST_MAC, 0x0800, &p)));
        let mut out = [0u8; MAX_PACKET];
        let n = f.rx_queue().pop_into(&mut out).unwrap();
        assert_eq!(n, p.len());
        assert_eq!(out[8], 63);
        assert_eq!(ipv4::ones_complement_sum(&out[..20]), 0xffff);
        assert_eq!(out[12..n], p[12..]);
        // Ethernet padding behind the packet is not taken along.
        let mut padded = frame(MAC, HOST_MAC, 0x0800, &p);
        padded.resize(60, 0);
        assert!(f.receive_frame(T0, &padded));
        assert_eq!(f.rx_queue().pop_into(&mut out), Some(p.len()));
        // For the board's own address, another MAC, or ARP: the stack's.
        assert!(!f.receive_frame(T0, &frame(MAC, HOST_MAC, 0x0800, &ip(HOST, ME, 64))));
        assert!(!f.receive_frame(T0, &frame(HOST_MAC, MAC, 0x0800, &p)));
        assert!(!f.receive_frame(T0, &frame([0xff; 6], HOST_MAC, 0x0800, &p)));
        assert!(!f.receive_frame(T0, &frame(MAC, HOST_MAC, 0x86dd, &p)));
        // Taken but dropped: TTL, broadcast of the pool, bad header, full queue.
        assert!(f.receive_frame(T0, &frame(MAC, HOST_MAC, 0x0800, &ip(HOST, CLIENT, 1))));
        let bcast = ip(HOST, Ipv4Addr::new(10, 77, 0, 255), 64);
        assert!(f.receive_frame(T0, &frame(MAC, HOST_MAC, 0x0800, &bcast)));
        let mut bad = p.clone();
        bad[2] = 0xff;
        assert!(f.receive_frame(T0, &frame(MAC, HOST_MAC, 0x0800, &bad)));
        for _ in 0..3 {
            assert!(f.receive_frame(T0, &frame(MAC, HOST_MAC, 0x0800, &p)));
        }
        assert_eq!(f.rx_queue().len(), 2);
        assert_eq!(
            (
                f.counters.ttl,
                f.counters.no_route,
                f.counters.malformed,
                f.counters.queue_full
            ),
            (1, 1, 1, 1)
        );
        // Unconfigured: takes nothing, forwards nothing.
        let mut empty = Box::new(Fwd::new());
        assert!(!empty.receive_frame(T0, &frame(MAC, HOST_MAC, 0x0800, &p)));
        assert!(!empty.receive_frame(
            T0,
            &frame(
                [0; 6],
                HOST_MAC,
                0x0800,
                &ip(HOST, Ipv4Addr::UNSPECIFIED, 9)
            )
        ));
        assert_eq!(empty.uplink(T0, &ip(CLIENT, HOST, 64)), Err(Drop::NoRoute));
    }

    #[test]
    fn truncations_and_noise_never_panic_and_stay_in_bounds() {
        let mut f = forwarder();
        let frames = [
            frame(MAC, HOST_MAC, 0x0800, &ip(HOST, CLIENT, 64)),
            frame(MAC, HOST_MAC, 0x0806, &arp(2, HOST_MAC, HOST, MAC, ME)),
        ];
        let mut out = [0u8; MAX_PACKET];
        for fr in &frames {
            for cut in 0..fr.len() {
                f.receive_frame(T0, &fr[..cut]);
                let _ = f.uplink(T0, &fr[14.min(cut)..cut]);
            }
        }
        while f.rx_queue().pop_into(&mut out).is_some() {}
        let mut x: u32 = 1;
        for round in 0..20_000u32 {
            let mut buf = [0u8; 80];
            for b in &mut buf {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                *b = x.to_le_bytes()[0];
            }
            buf[..6].copy_from_slice(&MAC);
            buf[12..14].copy_from_slice(if round % 2 == 0 { &[8, 0] } else { &[8, 6] });
            buf[14] = 0x45;
            buf[30..33].copy_from_slice(&[10, 77, 0]);
            let len = usize::try_from(x % 81).unwrap();
            f.receive_frame(T0, &buf[..len]);
            let _ = f.uplink(T0, &buf[14.min(len)..len]);
            while f.rx_queue().pop_into(&mut out).is_some() {}
            while let Some(fr) = f.tx_queue().front() {
                assert!(fr.len() <= MAX_FRAME);
                f.tx_queue().pop();
            }
        }
    }
}
