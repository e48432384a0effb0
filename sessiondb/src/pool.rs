//! Address assignment: the first free address of a tunnel group's pools, in
//! the order configured, and static per-user addresses; never one address
//! twice.
//!
//! [`AddressPool`] keeps the addresses in use as a sorted array of at most
//! `N` entries (`N` = the session capacity), so the pools themselves can be
//! any size: allocating is a walk over the in-use addresses inside a pool,
//! lookups are binary searches, and nothing scales with the pool's size.

use core::fmt;
use core::net::Ipv4Addr;

use heapless::Vec;

use crate::config::{Config, IpLocalPool, Name};
use crate::policy::AddressSource;

/// Why no address could be assigned or released.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PoolError {
    /// Every assignable address of the pools is in use.
    Exhausted,
    /// No pool is configured for the session (no `address-pool`).
    NoPool,
    /// The static address is already in use by another session.
    InUse(Ipv4Addr),
    /// The address is not in use (a release of something never assigned).
    NotAllocated(Ipv4Addr),
    /// As many addresses are in use as the allocator can track.
    Full,
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::Exhausted => f.write_str("address pools exhausted"),
            PoolError::NoPool => f.write_str("no address pool configured"),
            PoolError::InUse(a) => write!(f, "address {a} is already assigned"),
            PoolError::NotAllocated(a) => write!(f, "address {a} is not assigned"),
            PoolError::Full => f.write_str("address table full"),
        }
    }
}

impl core::error::Error for PoolError {}

/// The addresses in use, at most `N`.
#[derive(Clone, Debug, Default)]
pub struct AddressPool<const N: usize> {
    used: Vec<u32, N>,
}

impl<const N: usize> AddressPool<N> {
    /// No address in use.
    pub const fn new() -> Self {
        AddressPool { used: Vec::new() }
    }

    /// Number of addresses in use.
    pub fn in_use(&self) -> usize {
        self.used.len()
    }

    /// `true` if `addr` is assigned.
    pub fn is_allocated(&self, addr: Ipv4Addr) -> bool {
        self.used.binary_search(&u32::from(addr)).is_ok()
    }

    /// Assigns an address as `source` says: the static address, or the first
    /// free address of the named pools of `cfg` in order.
    ///
    /// # Errors
    /// [`PoolError::InUse`], [`PoolError::Exhausted`], [`PoolError::NoPool`],
    /// [`PoolError::Full`].
    pub fn assign(
        &mut self,
        cfg: &Config,
        source: &AddressSource<'_>,
    ) -> Result<Ipv4Addr, PoolError> {
        match source {
            AddressSource::Static(ip) => self.reserve(*ip).map(|()| *ip),
            AddressSource::Pools(names) => self.allocate(pools_of(cfg, names)),
        }
    }

    /// The first free assignable address of `pools`, in order.
    ///
    /// # Errors
    /// [`PoolError::Exhausted`], [`PoolError::NoPool`], [`PoolError::Full`].
    pub fn allocate<'a>(
        &mut self,
        pools: impl IntoIterator<Item = &'a IpLocalPool>,
    ) -> Result<Ipv4Addr, PoolError> {
        if self.used.is_full() {
            return Err(PoolError::Full);
        }
        let mut any = false;
        for pool in pools {
            any = true;
            if let Some(a) = self.first_free(pool) {
                self.insert(a)?;
                return Ok(Ipv4Addr::from(a));
            }
        }
        Err(if any {
            PoolError::Exhausted
        } else {
            PoolError::NoPool
        })
    }

    /// Marks a static address as in use.
    ///
    /// # Errors
    /// [`PoolError::InUse`], [`PoolError::Full`].
    pub fn reserve(&mut self, addr: Ipv4Addr) -> Result<(), PoolError> {
        if self.is_allocated(addr) {
            return Err(PoolError::InUse(addr));
        }
        self.insert(u32::from(addr))
    }

    /// Returns an address at session end.
    ///
    /// # Errors
    /// [`PoolError::NotAllocated`] if it was not in use.
    pub fn release(&mut self, addr: Ipv4Addr) -> Result<(), PoolError> {
        match self.used.binary_search(&u32::from(addr)) {
            Ok(i) => {
                self.used.remove(i);
                Ok(())
            }
            Err(_) => Err(PoolError::NotAllocated(addr)),
        }
    }

    fn insert(&mut self, a: u32) -> Result<(), PoolError> {
        match self.used.binary_search(&a) {
            Ok(_) => Err(PoolError::InUse(Ipv4Addr::from(a))),
            Err(i) => self.used.insert(i, a).map_err(|_| PoolError::Full),
        }
    }

    /// Walks the in-use addresses inside the pool's range: the first gap
    /// that is assignable wins. Network and broadcast addresses are skipped
    /// like in-use ones.
    fn first_free(&self, pool: &IpLocalPool) -> Option<u32> {
        let first = u32::from(pool.first);
        let last = u32::from(pool.last);
        let mut candidate = first;
        let mut i = self.used.partition_point(|&u| u < first);
        loop {
            if candidate > last {
                return None;
            }
            let taken = self.used.get(i) == Some(&candidate);
            if taken {
                i += 1;
            } else if pool.assignable(Ipv4Addr::from(candidate)) {
                return Some(candidate);
            }
            candidate = candidate.checked_add(1)?;
        }
    }
}

/// The pools of `cfg` named by `names`, in order (unknown names skipped).
pub fn pools_of<'a>(
    cfg: &'a Config,
    names: &'a [Name],
) -> impl Iterator<Item = &'a IpLocalPool> + 'a {
    names.iter().filter_map(move |n| cfg.pool(n))
}
