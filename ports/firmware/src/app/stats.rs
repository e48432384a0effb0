//! Counters shared between the network tasks and the console.
//!
//! Plain `AtomicU32`s (Cortex-M4/M7 have no 64-bit atomics); they wrap, as
//! interface counters do. Writers use `Relaxed`: the console only needs each
//! counter to be eventually right, not a consistent snapshot of all of them.

use core::sync::atomic::{AtomicU32, Ordering};

use super::forward::Counters;

/// One wrapping event counter.
#[derive(Debug)]
pub struct Counter(AtomicU32);

impl Counter {
    /// A counter at zero.
    pub const fn new() -> Self {
        Self(AtomicU32::new(0))
    }

    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }

    /// Adds `n` (wrapping); a length above `u32::MAX` counts as `u32::MAX`.
    pub fn add(&self, n: usize) {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// Sets the value (a counter kept elsewhere, published here).
    pub fn set(&self, n: u32) {
        self.0.store(n, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Default for Counter {
    fn default() -> Self {
        Self::new()
    }
}

/// Every counter the console shows.
#[derive(Debug, Default)]
pub struct Stats {
    /// Ethernet frames received from the driver.
    pub rx_frames: Counter,
    /// Bytes of those frames (Ethernet header included, FCS excluded).
    pub rx_bytes: Counter,
    /// Ethernet frames handed to the driver.
    pub tx_frames: Counter,
    /// Bytes of those frames.
    pub tx_bytes: Counter,
    /// UDP datagrams received on port 500 (IKE).
    pub ike_rx: Counter,
    /// UDP datagrams received on port 4500 (NAT-T: IKE and ESP-in-UDP).
    pub nat_t_rx: Counter,
    /// UDP datagrams sent from port 500 or 4500.
    pub udp_tx: Counter,
    /// IP protocol 50 (ESP) packets received.
    pub esp_rx: Counter,
    /// IP protocol 50 packets sent.
    pub esp_tx: Counter,
    /// IPv4 packets from clients answered by the board itself (ping, UDP
    /// echo on the inside address).
    pub inside: Counter,
    /// Times the gateway's timer ran (`handle_timeout`).
    pub timeouts: Counter,
    /// Received packets that were not handed on (malformed, truncated, or
    /// refused by the engine).
    pub dropped: Counter,
    /// Forwarding (`crate::app::forward`): packets from clients sent to
    /// the LAN.
    pub fwd_to_lan: Counter,
    /// Packets from the LAN handed on towards clients.
    pub fwd_to_clients: Counter,
    /// ARP requests the forwarder sent.
    pub fwd_arp_requests: Counter,
    /// Forwarding drops: malformed IPv4.
    pub fwd_malformed: Counter,
    /// Forwarding drops: no route (or no such client).
    pub fwd_no_route: Counter,
    /// Forwarding drops: no ARP answer from the next hop.
    pub fwd_no_arp: Counter,
    /// Forwarding drops: TTL exhausted.
    pub fwd_ttl: Counter,
    /// Forwarding drops: larger than the link or the tunnel takes.
    pub fwd_too_big: Counter,
    /// Forwarding drops: a queue was full.
    pub fwd_queue_full: Counter,
}

impl Stats {
    /// All counters at zero.
    pub const fn new() -> Self {
        Self {
            rx_frames: Counter::new(),
            rx_bytes: Counter::new(),
            tx_frames: Counter::new(),
            tx_bytes: Counter::new(),
            ike_rx: Counter::new(),
            nat_t_rx: Counter::new(),
            udp_tx: Counter::new(),
            esp_rx: Counter::new(),
            esp_tx: Counter::new(),
            inside: Counter::new(),
            timeouts: Counter::new(),
            dropped: Counter::new(),
            fwd_to_lan: Counter::new(),
            fwd_to_clients: Counter::new(),
            fwd_arp_requests: Counter::new(),
            fwd_malformed: Counter::new(),
            fwd_no_route: Counter::new(),
            fwd_no_arp: Counter::new(),
            fwd_ttl: Counter::new(),
            fwd_too_big: Counter::new(),
            fwd_queue_full: Counter::new(),
        }
    }

    /// Publishes the forwarder's counters (kept in the forwarder, which
    /// is not shared with the console).
    pub fn set_forward(&self, c: &Counters) {
        self.fwd_to_lan.set(c.to_lan);
        self.fwd_to_clients.set(c.to_clients);
        self.fwd_arp_requests.set(c.arp_requests);
        self.fwd_malformed.set(c.malformed);
        self.fwd_no_route.set(c.no_route);
        self.fwd_no_arp.set(c.no_arp);
        self.fwd_ttl.set(c.ttl);
        self.fwd_too_big.set(c.too_big);
        self.fwd_queue_full.set(c.queue_full);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_wraps_and_saturates_the_increment() {
        let c = Counter::new();
        c.add(usize::MAX); // clamped to u32::MAX
        assert_eq!(c.get(), u32::MAX);
        c.inc();
        assert_eq!(c.get(), 0, "interface counters wrap");
    }
}
