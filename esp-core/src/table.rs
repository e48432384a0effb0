//! A fixed-capacity table of SAs: SPI allocation, inbound lookup without a
//! scan, lifetimes as events and timeouts.

use crate::error::{OpenError, SealError, TableError};
use crate::lifetime::ExpiryReason;
use crate::sa::{Direction, Expiry, Opened, Sa, SaConfig};
use crate::wire::esp::{IpProtocol, Packet, Repr};
use core::fmt;
use core::ops::Range;
use core::time::Duration;

use rand_core::CryptoRng;
use zero_none::{MaybeTime, ZeroNone};

/// How long an SPI reserved with [`SaTable::reserve_spi`] waits for its SA
/// before the slot is reclaimed (a Quick Mode that never finished).
pub const DEFAULT_RESERVATION_TIMEOUT: Duration = Duration::from_secs(60);

/// Names one slot of an [`SaTable`]: the slot index and the generation of
/// its occupant. A handle kept after its SA is gone is refused, never
/// mistaken for the slot's next occupant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Handle {
    index: u16,
    generation: u16,
}

impl Handle {
    /// The slot index (stable while the SA lives; for display and logs).
    pub const fn index(self) -> u16 {
        self.index
    }
}

/// What the table reports through [`SaTable::poll_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Event {
    /// A soft limit was reached: negotiate a new SA. This one keeps working.
    SoftExpired {
        /// The SA.
        handle: Handle,
        /// Its SPI.
        spi: u32,
        /// Which limit.
        reason: ExpiryReason,
    },
    /// A hard limit was reached: the SA is gone (lookups fail, keys are
    /// zeroized) and `handle` is stale.
    HardExpired {
        /// The SA that was.
        handle: Handle,
        /// Its SPI.
        spi: u32,
        /// Which limit.
        reason: ExpiryReason,
    },
}

/// Counters of packets that no SA could take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TableCounters {
    /// ESP packets whose SPI names no inbound SA (RFC 4303 §3.4.2).
    pub unknown_spi: u64,
    /// ESP packets too short for a header, or with a reserved SPI.
    pub malformed: u64,
}

// Slots are stored inline by design (no allocator): every slot is as large as
// an SA whether it holds one or not.
#[allow(clippy::large_enum_variant)]
// An explicit tag, `Free` first: a free slot is all zero bytes (the `zero-none` crate).
#[repr(u8)]
enum State<const W: usize> {
    Free,
    Reserved {
        expires: Duration,
    },
    Active(Sa<W>),
    /// Hard-expired: keys gone, waiting for its event to be polled.
    Dead,
}

struct Slot<const W: usize> {
    generation: u16,
    /// The SPI of the current (or last) occupant.
    spi: u32,
    /// An event waiting for `poll_event`; a hard expiry replaces a soft one.
    pending: ZeroNone<Expiry>,
    state: State<W>,
}

impl<const W: usize> Slot<W> {
    const FREE: Self = Self {
        generation: 0,
        spi: 0,
        pending: ZeroNone::NONE,
        state: State::Free,
    };
}

/// `N` SAs stored inline; `W` sets the replay window capacity (64 × `W`
/// packets). Inbound SPIs allocated by [`reserve_spi`](Self::reserve_spi)
/// satisfy `spi % N == slot`, so [`open`](Self::open) finds the SA with one
/// modulo and one comparison.
///
/// Run loop: after [`open`](Self::open), [`seal`](Self::seal), a command or
/// [`handle_timeout`](Self::handle_timeout), drain
/// [`poll_event`](Self::poll_event) until `None`, then wake up at
/// [`poll_timeout`](Self::poll_timeout).
pub struct SaTable<const N: usize, const W: usize = 2> {
    slots: [Slot<W>; N],
    pending: usize,
    cursor: usize,
    next_deadline: MaybeTime,
    /// `None`: [`DEFAULT_RESERVATION_TIMEOUT`] (so that an empty table is
    /// all zero bytes, see the `zero-none` crate).
    reservation_timeout: MaybeTime,
    counters: TableCounters,
}

impl<const N: usize, const W: usize> fmt::Debug for SaTable<N, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaTable")
            .field("capacity", &N)
            .field("len", &self.len())
            .field("next_deadline", &self.next_deadline.get())
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl<const N: usize, const W: usize> Default for SaTable<N, W> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, const W: usize> SaTable<N, W> {
    const CAPACITY_OK: () = assert!(N > 0 && N <= 1 << 16, "SaTable capacity must be 1..=65536");

    /// An empty table.
    pub const fn new() -> Self {
        let () = Self::CAPACITY_OK;
        Self {
            slots: [const { Slot::FREE }; N],
            pending: 0,
            cursor: 0,
            next_deadline: MaybeTime::NONE,
            reservation_timeout: MaybeTime::NONE,
            counters: TableCounters {
                unknown_spi: 0,
                malformed: 0,
            },
        }
    }

    /// Back to [`new`](Self::new), in place: every SA is removed (its keys
    /// zeroized on drop) slot by slot, so that a table kept in a `static`
    /// is never moved through the stack as a whole.
    pub fn reset(&mut self) {
        // Exhaustive, so that a new field cannot be forgotten here.
        let Self {
            slots,
            pending,
            cursor,
            next_deadline,
            reservation_timeout,
            counters,
        } = self;
        for s in slots.iter_mut() {
            *s = Slot::FREE;
        }
        *pending = 0;
        *cursor = 0;
        *next_deadline = MaybeTime::NONE;
        *reservation_timeout = MaybeTime::NONE;
        *counters = TableCounters {
            unknown_spi: 0,
            malformed: 0,
        };
    }

    /// Sets how long a reserved SPI waits for its SA.
    pub fn set_reservation_timeout(&mut self, timeout: Duration) {
        self.reservation_timeout = MaybeTime::some(timeout);
    }

    /// The capacity `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Slots in use (reserved, active, or waiting for their expiry event).
    pub fn len(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| !matches!(s.state, State::Free))
            .count()
    }

    /// No slot in use.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Packets no SA could take.
    pub const fn counters(&self) -> &TableCounters {
        &self.counters
    }

    fn slot_index(handle: Handle) -> usize {
        usize::from(handle.index)
    }

    fn handle_of(index: usize, generation: u16) -> Handle {
        // `index < N <= 65536`, so it fits.
        #[allow(clippy::cast_possible_truncation)]
        let index = index as u16;
        Handle { index, generation }
    }

    fn slot(&self, handle: Handle) -> Option<&Slot<W>> {
        self.slots
            .get(Self::slot_index(handle))
            .filter(|s| s.generation == handle.generation && !matches!(s.state, State::Free))
    }

    fn slot_mut(&mut self, handle: Handle) -> Option<&mut Slot<W>> {
        self.slots
            .get_mut(Self::slot_index(handle))
            .filter(|s| s.generation == handle.generation && !matches!(s.state, State::Free))
    }

    fn free_index(&self) -> Result<usize, TableError> {
        self.slots
            .iter()
            .position(|s| matches!(s.state, State::Free))
            .ok_or(TableError::TableFull)
    }

    fn earliest(&mut self, deadline: Option<Duration>) {
        if let Some(d) = deadline
            && self.next_deadline.get().is_none_or(|n| d < n)
        {
            self.next_deadline = MaybeTime::some(d);
        }
    }

    /// Reserves a slot and allocates the inbound SPI that encodes it, for
    /// IKE to offer the peer. The reservation lapses after the reservation
    /// timeout unless [`install_inbound`](Self::install_inbound) fills it.
    ///
    /// # Errors
    /// [`TableError::TableFull`].
    pub fn reserve_spi(
        &mut self,
        now: Duration,
        rng: &mut impl CryptoRng,
    ) -> Result<(Handle, u32), TableError> {
        let index = self.free_index()?;
        let modulus = N as u64;
        // The high bit keeps the SPI out of the reserved range 0..=255.
        let r = u64::from(rng.next_u32() | 0x8000_0000);
        let mut spi = r - r % modulus + index as u64;
        if spi > u64::from(u32::MAX) {
            spi -= modulus;
        }
        let previous = self.slots.get(index).map_or(0, |s| s.spi);
        if spi == u64::from(previous) {
            // Never hand out the SPI the slot's last SA had: its packets may
            // still be in flight.
            spi = if spi + modulus <= u64::from(u32::MAX) {
                spi + modulus
            } else {
                spi - modulus
            };
        }
        let spi = u32::try_from(spi).map_err(|_| TableError::TableFull)?;
        let timeout = self
            .reservation_timeout
            .get()
            .unwrap_or(DEFAULT_RESERVATION_TIMEOUT);
        let expires = now.saturating_add(timeout);
        let slot = self.slots.get_mut(index).ok_or(TableError::TableFull)?;
        slot.spi = spi;
        slot.state = State::Reserved { expires };
        let handle = Self::handle_of(index, slot.generation);
        self.earliest(Some(expires));
        Ok((handle, spi))
    }

    /// Installs the inbound SA for a reserved SPI.
    ///
    /// # Errors
    /// [`TableError::StaleHandle`], [`TableError::WrongState`] if the handle
    /// is not a reservation, or the key errors of [`Sa::new_inbound`].
    pub fn install_inbound(
        &mut self,
        now: Duration,
        handle: Handle,
        config: &SaConfig<'_>,
    ) -> Result<(), TableError> {
        let slot = self.slot_mut(handle).ok_or(TableError::StaleHandle)?;
        if !matches!(slot.state, State::Reserved { .. }) {
            return Err(TableError::WrongState);
        }
        slot.state = State::Active(Sa::new_inbound(now, slot.spi, config)?);
        // The reservation's deadline is gone: recompute (a control-plane
        // event, so the scan is fine; the packet path never scans).
        self.recompute_deadline();
        Ok(())
    }

    /// Reserves an SPI and installs its inbound SA in one step.
    ///
    /// # Errors
    /// As [`reserve_spi`](Self::reserve_spi) and
    /// [`install_inbound`](Self::install_inbound); nothing is left reserved
    /// on error.
    pub fn insert_inbound(
        &mut self,
        now: Duration,
        config: &SaConfig<'_>,
        rng: &mut impl CryptoRng,
    ) -> Result<(Handle, u32), TableError> {
        let (handle, spi) = self.reserve_spi(now, rng)?;
        match self.install_inbound(now, handle, config) {
            Ok(()) => Ok((handle, spi)),
            Err(e) => {
                let _ = self.remove(handle);
                Err(e)
            }
        }
    }

    /// Installs an outbound SA with the SPI the peer chose.
    ///
    /// # Errors
    /// [`TableError::TableFull`] or the key errors of [`Sa::new_outbound`].
    pub fn insert_outbound(
        &mut self,
        now: Duration,
        spi: u32,
        config: &SaConfig<'_>,
        rng: &mut impl CryptoRng,
    ) -> Result<Handle, TableError> {
        let index = self.free_index()?;
        let sa = Sa::new_outbound(now, spi, config, rng)?;
        let deadline = sa.poll_timeout();
        let slot = self.slots.get_mut(index).ok_or(TableError::TableFull)?;
        slot.spi = spi;
        slot.state = State::Active(sa);
        let handle = Self::handle_of(index, slot.generation);
        self.earliest(deadline);
        Ok(handle)
    }

    /// Removes an SA or a reservation at once (an IKE Delete, a session
    /// ending). Its keys are zeroized and its pending event dropped.
    ///
    /// # Errors
    /// [`TableError::StaleHandle`].
    pub fn remove(&mut self, handle: Handle) -> Result<(), TableError> {
        let slot = self.slot_mut(handle).ok_or(TableError::StaleHandle)?;
        let had_event = slot.pending.get().is_some();
        slot.pending = ZeroNone::NONE;
        slot.state = State::Free;
        slot.generation = slot.generation.wrapping_add(1);
        if had_event {
            self.pending -= 1;
        }
        self.recompute_deadline();
        Ok(())
    }

    fn recompute_deadline(&mut self) {
        self.next_deadline = MaybeTime::new(
            self.slots
                .iter()
                .filter_map(|s| match &s.state {
                    State::Reserved { expires } => Some(*expires),
                    State::Active(sa) => sa.poll_timeout(),
                    State::Free | State::Dead => None,
                })
                .min(),
        );
    }

    /// The SA behind a handle.
    pub fn get(&self, handle: Handle) -> Option<&Sa<W>> {
        match &self.slot(handle)?.state {
            State::Active(sa) => Some(sa),
            _ => None,
        }
    }

    /// The SA behind a handle, mutably (e.g. to record a new peer port).
    pub fn get_mut(&mut self, handle: Handle) -> Option<&mut Sa<W>> {
        match &mut self.slot_mut(handle)?.state {
            State::Active(sa) => Some(sa),
            _ => None,
        }
    }

    /// The live inbound SA with this SPI: one modulo, one comparison.
    pub fn lookup_inbound(&self, spi: u32) -> Option<Handle> {
        let index = usize::try_from(u64::from(spi) % N as u64).ok()?;
        let slot = self.slots.get(index)?;
        match &slot.state {
            State::Active(sa) if slot.spi == spi && sa.direction() == Direction::Inbound => {
                Some(Self::handle_of(index, slot.generation))
            }
            _ => None,
        }
    }

    /// The reservation made for `spi` by [`reserve_spi`](Self::reserve_spi)
    /// and not installed yet: one modulo, one comparison.
    pub fn lookup_reserved(&self, spi: u32) -> Option<Handle> {
        let index = usize::try_from(u64::from(spi) % N as u64).ok()?;
        let slot = self.slots.get(index)?;
        match slot.state {
            State::Reserved { .. } if slot.spi == spi => {
                Some(Self::handle_of(index, slot.generation))
            }
            _ => None,
        }
    }

    /// Every active SA with its handle.
    pub fn iter(&self) -> impl Iterator<Item = (Handle, &Sa<W>)> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match &s.state {
                State::Active(sa) => Some((Self::handle_of(i, s.generation), sa)),
                _ => None,
            })
    }

    fn note_expiry(&mut self, index: usize) {
        let Some(slot) = self.slots.get_mut(index) else {
            return;
        };
        let State::Active(sa) = &mut slot.state else {
            return;
        };
        let Some(expiry) = sa.take_expiry() else {
            return;
        };
        if slot.pending.get().is_none() {
            self.pending += 1;
        }
        slot.pending = ZeroNone::some(expiry);
        if let Expiry::Hard(reason) = expiry {
            debug!("esp: SA {} hard-expired ({:?})", slot.spi, reason);
            // Dropping the SA zeroizes its keys now, not when the event is polled.
            slot.state = State::Dead;
        }
    }

    /// Opens the ESP packet that fills `buf` (starting at the SPI), in place.
    /// See [`Sa::open`].
    ///
    /// # Errors
    /// [`OpenError::Malformed`] or [`OpenError::UnknownSpi`] (counted in
    /// [`TableCounters`]), or the SA's own [`OpenError`].
    pub fn open(&mut self, now: Duration, buf: &mut [u8]) -> Result<(Handle, Opened), OpenError> {
        let repr = match Packet::new_checked(&*buf).and_then(|p| Repr::parse(&p)) {
            Ok(repr) => repr,
            Err(e) => {
                self.counters.malformed += 1;
                return Err(e.into());
            }
        };
        let Some(handle) = self.lookup_inbound(repr.spi) else {
            self.counters.unknown_spi += 1;
            debug!("esp: unknown SPI {}", repr.spi);
            return Err(OpenError::UnknownSpi(repr.spi));
        };
        let index = Self::slot_index(handle);
        let result = match self.slots.get_mut(index).map(|s| &mut s.state) {
            Some(State::Active(sa)) => sa.open(now, buf),
            _ => Err(OpenError::UnknownSpi(repr.spi)),
        };
        self.note_expiry(index);
        result.map(|opened| (handle, opened))
    }

    /// Seals `buf[payload]` with the outbound SA `handle`. See [`Sa::seal`].
    ///
    /// # Errors
    /// [`SealError::StaleHandle`], or the SA's own [`SealError`].
    pub fn seal(
        &mut self,
        now: Duration,
        handle: Handle,
        buf: &mut [u8],
        payload: Range<usize>,
        next_header: IpProtocol,
    ) -> Result<Range<usize>, SealError> {
        let result = match self.slot_mut(handle).map(|s| &mut s.state) {
            Some(State::Active(sa)) => sa.seal(now, buf, payload, next_header),
            Some(State::Dead) => Err(SealError::Expired),
            _ => Err(SealError::StaleHandle),
        };
        self.note_expiry(Self::slot_index(handle));
        result
    }

    /// Evaluates the time limits of every SA at `now` and reclaims lapsed
    /// reservations. Cheap when nothing is due: call it whenever
    /// [`poll_timeout`](Self::poll_timeout) is reached.
    pub fn handle_timeout(&mut self, now: Duration) {
        if self.next_deadline.get().is_none_or(|d| now < d) {
            return;
        }
        let mut next: Option<Duration> = None;
        for index in 0..N {
            let Some(slot) = self.slots.get_mut(index) else {
                continue;
            };
            let deadline = match &mut slot.state {
                State::Reserved { expires } if now >= *expires => {
                    slot.state = State::Free;
                    slot.generation = slot.generation.wrapping_add(1);
                    None
                }
                State::Reserved { expires } => Some(*expires),
                State::Active(sa) => {
                    sa.handle_timeout(now);
                    sa.poll_timeout()
                }
                State::Free | State::Dead => None,
            };
            self.note_expiry(index);
            if let Some(d) = deadline
                && next.is_none_or(|n| d < n)
            {
                next = Some(d);
            }
        }
        self.next_deadline = MaybeTime::new(next);
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next.
    pub const fn poll_timeout(&self) -> Option<Duration> {
        self.next_deadline.get()
    }

    /// Whether [`poll_event`](Self::poll_event) has anything: a check the
    /// caller can make on every packet.
    pub const fn has_events(&self) -> bool {
        self.pending != 0
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        if self.pending == 0 {
            return None;
        }
        for _ in 0..N {
            let index = self.cursor;
            self.cursor = (self.cursor + 1) % N;
            let Some(slot) = self.slots.get_mut(index) else {
                continue;
            };
            let Some(expiry) = slot.pending.get() else {
                continue;
            };
            slot.pending = ZeroNone::NONE;
            self.pending -= 1;
            let handle = Self::handle_of(index, slot.generation);
            let spi = slot.spi;
            return Some(match expiry {
                Expiry::Soft(reason) => Event::SoftExpired {
                    handle,
                    spi,
                    reason,
                },
                Expiry::Hard(reason) => {
                    if let State::Dead = slot.state {
                        slot.state = State::Free;
                        slot.generation = slot.generation.wrapping_add(1);
                    }
                    Event::HardExpired {
                        handle,
                        spi,
                        reason,
                    }
                }
            });
        }
        None
    }
}
