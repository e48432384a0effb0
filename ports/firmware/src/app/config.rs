//! What is compiled into an image: the board's description and its static
//! IPv4 configuration.

use core::net::Ipv4Addr;

/// What `show version` says about the hardware.
#[derive(Debug, Clone, Copy)]
pub struct BoardInfo {
    /// The board's name, as the cargo feature and binary are named.
    pub name: &'static str,
    /// The processor core.
    pub cpu: &'static str,
    /// The Ethernet controller and its driver.
    pub ethernet: &'static str,
    /// Where randomness comes from. A test-only RNG must say so here.
    pub rng: &'static str,
    /// The console's physical port.
    pub console: &'static str,
    /// The deepest the main stack has been so far, in bytes, where the
    /// board measures it (`show version` prints it).
    pub stack_peak: Option<fn() -> usize>,
    /// Restarts the stack measurement from the current depth.
    pub stack_mark: Option<fn()>,
}

/// The static IPv4 configuration of the outside interface (no DHCP: a VPN
/// gateway's public address is configured, not leased).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetConfig {
    /// The appliance's host name, used in the console prompt.
    pub hostname: &'static str,
    /// The interface name shown by `show interfaces`.
    pub nameif: &'static str,
    /// The interface address.
    pub address: Ipv4Addr,
    /// The prefix length of the interface's subnet (0..=32).
    pub prefix_len: u8,
    /// The default gateway, if any.
    pub gateway: Option<Ipv4Addr>,
}

impl NetConfig {
    /// The subnet mask of [`prefix_len`](Self::prefix_len), e.g. 255.255.255.0 for 24.
    pub fn netmask(&self) -> Ipv4Addr {
        let bits = u32::from(self.prefix_len.min(32));
        let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
        Ipv4Addr::from(mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(prefix_len: u8) -> NetConfig {
        NetConfig {
            hostname: "lns",
            nameif: "outside",
            address: Ipv4Addr::new(10, 0, 2, 15),
            prefix_len,
            gateway: None,
        }
    }

    #[test]
    fn netmask_from_prefix() {
        assert_eq!(config(24).netmask(), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(config(32).netmask(), Ipv4Addr::new(255, 255, 255, 255));
        assert_eq!(config(0).netmask(), Ipv4Addr::new(0, 0, 0, 0));
        assert_eq!(config(20).netmask(), Ipv4Addr::new(255, 255, 240, 0));
        // Out of range is clamped, never a shift overflow.
        assert_eq!(config(40).netmask(), Ipv4Addr::new(255, 255, 255, 255));
    }
}
