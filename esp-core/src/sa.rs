//! One unidirectional Security Association (RFC 4301 §4.1) in transport
//! mode, with in-place [`Sa::seal`] and [`Sa::open`] (RFC 4303 §3.3, §3.4).

use crate::algorithm::{Authenticator, Decryptor, Encryption, Encryptor, Integrity, MAX_BLOCK_LEN};
use crate::error::{KeyError, OpenError, SealError};
use crate::lifetime::{ExpiryReason, Lifetime};
use crate::replay::ReplayWindow;
use crate::wire::WireError;
use crate::wire::esp::{HEADER_LEN, IpProtocol, Packet, Repr, TRAILER_LEN, Trailer};
use core::fmt;
use core::ops::Range;
use core::time::Duration;
use rand_core::CryptoRng;
use subtle::ConstantTimeEq;

/// The default anti-replay window, in packets (the and the
/// appliance's default of 128; RFC 4303 §3.4.3 asks for at least 32).
pub const DEFAULT_REPLAY_WINDOW: u16 = 128;

/// Outbound sequence number at which a soft expiry asks for a new SA, well
/// before the hard stop at `u32::MAX` (RFC 4303 §3.3.3: never wrap).
pub const SEQUENCE_SOFT_LIMIT: u32 = u32::MAX - (1 << 24);

/// Whether an SA protects traffic we send or traffic we receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Direction {
    /// We receive with it: decryption key and replay window.
    Inbound,
    /// We send with it: encryption key and sequence counter.
    Outbound,
}

/// How ESP packets of an SA travel (RFC 3948).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Encapsulation {
    /// Plain ESP, IP protocol 50.
    None,
    /// ESP in UDP on port 4500, to or from the peer's current UDP port
    /// (which changes when its NAT rebinds).
    Udp {
        /// The peer's UDP port as last seen.
        peer_port: u16,
    },
}

/// Everything an SA needs besides its SPI: what IKE negotiated (RFC 2407
/// §4.5) plus local policy.
#[derive(Clone, Copy)]
pub struct SaConfig<'k> {
    /// Encryption algorithm.
    pub encryption: Encryption,
    /// Encryption key, [`Encryption::key_len`] bytes.
    pub encryption_key: &'k [u8],
    /// Integrity algorithm.
    pub integrity: Integrity,
    /// Integrity key, [`Integrity::key_len`] bytes.
    pub integrity_key: &'k [u8],
    /// Plain or UDP-encapsulated.
    pub encapsulation: Encapsulation,
    /// Anti-replay window in packets for an inbound SA (0: off). Forced off
    /// without integrity (RFC 4303 §3.4.3).
    pub replay_window: u16,
    /// Soft and hard lifetimes.
    pub lifetime: Lifetime,
}

impl fmt::Debug for SaConfig<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaConfig")
            .field("encryption", &self.encryption)
            .field("integrity", &self.integrity)
            .field("encapsulation", &self.encapsulation)
            .field("replay_window", &self.replay_window)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

/// Per-SA counters, for the session view and for diagnosis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Counters {
    /// Packets sealed (outbound) or opened (inbound).
    pub packets: u64,
    /// Payload bytes sealed or opened (what the kilobyte lifetime counts).
    pub bytes: u64,
    /// Inbound packets whose ICV did not match.
    pub integrity_failures: u32,
    /// Inbound packets refused by the replay window.
    pub replay_drops: u32,
    /// Inbound packets with a good ICV but bad padding.
    pub bad_padding: u32,
    /// Inbound packets too short for the algorithms, or with a ciphertext
    /// that is not a whole number of blocks.
    pub too_short: u32,
}

/// What [`Sa::open`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Opened {
    /// The packet's sequence number.
    pub sequence_number: u32,
    /// The protocol of the payload. [`IpProtocol::NoNextHeader`] marks a
    /// dummy packet (RFC 4303 §2.6), which the caller discards.
    pub next_header: IpProtocol,
    /// Where the payload lies in the buffer given to `open`.
    pub payload: Range<usize>,
}

/// A limit an SA reached, reported once by [`Sa::take_expiry`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Expiry {
    /// A new SA should be negotiated; this one still works.
    Soft(ExpiryReason),
    /// This SA no longer seals or opens anything.
    Hard(ExpiryReason),
}

enum Keys<const W: usize> {
    Inbound {
        cipher: Decryptor,
        replay: ReplayWindow<W>,
    },
    Outbound {
        cipher: Encryptor,
        /// Last sequence number used (0: none yet).
        sequence_number: u32,
        /// Secret part of the IV nonce (see `docs/ARCHITECTURE.md`, "The CBC IV").
        iv_salt: u64,
    },
}

/// One unidirectional SA in transport mode. `W` is the replay window's
/// capacity in 64-packet words (default 2: up to 128 packets).
///
/// Keys live only in the cipher and HMAC states, which zeroize on drop.
pub struct Sa<const W: usize = 2> {
    spi: u32,
    encryption: Encryption,
    integrity: Integrity,
    encapsulation: Encapsulation,
    lifetime: Lifetime,
    installed_at: Duration,
    last_activity: Duration,
    soft: Option<ExpiryReason>,
    hard: Option<ExpiryReason>,
    reported_soft: bool,
    reported_hard: bool,
    counters: Counters,
    auth: Authenticator,
    keys: Keys<W>,
}

impl<const W: usize> Drop for Sa<W> {
    fn drop(&mut self) {
        // The key schedules and HMAC states zeroize themselves (the crates'
        // `zeroize` features, checked by a test); the IV salt is ours.
        if let Keys::Outbound { iv_salt, .. } = &mut self.keys {
            zeroize::Zeroize::zeroize(iv_salt);
        }
    }
}

impl<const W: usize> fmt::Debug for Sa<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sa")
            .field("spi", &format_args!("{:#010x}", self.spi))
            .field("direction", &self.direction())
            .field("encryption", &self.encryption)
            .field("integrity", &self.integrity)
            .field("encapsulation", &self.encapsulation)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl<const W: usize> Sa<W> {
    fn new(
        now: Duration,
        spi: u32,
        config: &SaConfig<'_>,
        keys: Keys<W>,
    ) -> Result<Self, KeyError> {
        if config.encryption == Encryption::Null && config.integrity == Integrity::None {
            return Err(KeyError::NullWithoutIntegrity);
        }
        Ok(Self {
            spi,
            encryption: config.encryption,
            integrity: config.integrity,
            encapsulation: config.encapsulation,
            lifetime: config.lifetime,
            installed_at: now,
            last_activity: now,
            soft: None,
            hard: None,
            reported_soft: false,
            reported_hard: false,
            counters: Counters::default(),
            auth: Authenticator::new(config.integrity, config.integrity_key)?,
            keys,
        })
    }

    /// An SA for packets we receive with `spi`.
    ///
    /// # Errors
    /// Wrong key lengths, NULL without integrity, or a replay window larger
    /// than `64 * W`.
    pub fn new_inbound(now: Duration, spi: u32, config: &SaConfig<'_>) -> Result<Self, KeyError> {
        let window = if config.integrity == Integrity::None {
            0
        } else {
            config.replay_window
        };
        let keys = Keys::Inbound {
            cipher: Decryptor::new(config.encryption, config.encryption_key)?,
            replay: ReplayWindow::new(window)?,
        };
        Self::new(now, spi, config, keys)
    }

    /// An SA for packets we send with the peer's `spi`. Draws the secret IV
    /// salt from `rng`.
    ///
    /// # Errors
    /// Wrong key lengths, or NULL without integrity.
    pub fn new_outbound(
        now: Duration,
        spi: u32,
        config: &SaConfig<'_>,
        rng: &mut impl CryptoRng,
    ) -> Result<Self, KeyError> {
        let keys = Keys::Outbound {
            cipher: Encryptor::new(config.encryption, config.encryption_key)?,
            sequence_number: 0,
            iv_salt: rng.next_u64(),
        };
        Self::new(now, spi, config, keys)
    }

    /// The SPI on the wire.
    pub const fn spi(&self) -> u32 {
        self.spi
    }

    /// Inbound or outbound.
    pub const fn direction(&self) -> Direction {
        match self.keys {
            Keys::Inbound { .. } => Direction::Inbound,
            Keys::Outbound { .. } => Direction::Outbound,
        }
    }

    /// The encryption algorithm.
    pub const fn encryption(&self) -> Encryption {
        self.encryption
    }

    /// The integrity algorithm.
    pub const fn integrity(&self) -> Integrity {
        self.integrity
    }

    /// Plain or UDP-encapsulated, with the peer's current port.
    pub const fn encapsulation(&self) -> Encapsulation {
        self.encapsulation
    }

    /// Records the peer's new UDP port after a NAT rebinding (RFC 3948 §4
    /// leaves port tracking to the implementation; the caller learns the new
    /// port from an authenticated inbound packet).
    pub fn set_encapsulation(&mut self, encapsulation: Encapsulation) {
        self.encapsulation = encapsulation;
    }

    /// The configured lifetimes.
    pub const fn lifetime(&self) -> Lifetime {
        self.lifetime
    }

    /// When the SA was installed.
    pub const fn installed_at(&self) -> Duration {
        self.installed_at
    }

    /// When a packet was last sealed or opened (for idle timeouts).
    pub const fn last_activity(&self) -> Duration {
        self.last_activity
    }

    /// The counters.
    pub const fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The last sequence number sent (outbound) or the highest accepted
    /// (inbound).
    pub fn sequence_number(&self) -> u32 {
        match &self.keys {
            Keys::Inbound { replay, .. } => replay.top(),
            Keys::Outbound {
                sequence_number, ..
            } => *sequence_number,
        }
    }

    /// Time left until the hard time limit, if there is one.
    pub fn time_left(&self, now: Duration) -> Option<Duration> {
        Lifetime::deadline(self.installed_at, self.lifetime.seconds.hard)
            .map(|d| d.saturating_sub(now))
    }

    /// Kilobytes left until the hard byte limit, if there is one.
    pub fn kilobytes_left(&self) -> Option<u64> {
        Lifetime::byte_limit(self.lifetime.kilobytes.hard)
            .map(|limit| limit.saturating_sub(self.counters.bytes) / 1024)
    }

    /// Bytes written in front of the payload by [`seal`](Self::seal).
    pub const fn headroom(&self) -> usize {
        HEADER_LEN + self.encryption.iv_len()
    }

    /// Most bytes written behind a payload by [`seal`](Self::seal).
    pub const fn max_tailroom(&self) -> usize {
        self.encryption.alignment() - 1 + TRAILER_LEN + self.integrity.icv_len()
    }

    /// The soft limit reached, if any (reported or not).
    pub const fn soft_expired(&self) -> Option<ExpiryReason> {
        self.soft
    }

    /// The hard limit reached, if any (reported or not).
    pub const fn hard_expired(&self) -> Option<ExpiryReason> {
        self.hard
    }

    /// Returns each newly reached limit once: the soft one, then the hard
    /// one (a hard limit reached first is reported alone).
    pub fn take_expiry(&mut self) -> Option<Expiry> {
        if let Some(reason) = self.hard
            && !self.reported_hard
        {
            self.reported_hard = true;
            self.reported_soft = true;
            return Some(Expiry::Hard(reason));
        }
        if let Some(reason) = self.soft
            && !self.reported_soft
        {
            self.reported_soft = true;
            return Some(Expiry::Soft(reason));
        }
        None
    }

    /// The next time at which a time limit is reached, if any is pending.
    pub fn poll_timeout(&self) -> Option<Duration> {
        if self.hard.is_some() {
            return None;
        }
        let hard = Lifetime::deadline(self.installed_at, self.lifetime.seconds.hard);
        if self.soft.is_some() {
            return hard;
        }
        match Lifetime::deadline(self.installed_at, self.lifetime.seconds.soft) {
            Some(soft) if hard.is_none_or(|h| soft < h) => Some(soft),
            _ => hard,
        }
    }

    /// Evaluates the time limits at `now`; see [`take_expiry`](Self::take_expiry).
    pub fn handle_timeout(&mut self, now: Duration) {
        if self.hard.is_some() {
            return;
        }
        let reached =
            |seconds| Lifetime::deadline(self.installed_at, seconds).is_some_and(|d| now >= d);
        if reached(self.lifetime.seconds.hard) {
            self.hard = Some(ExpiryReason::Time);
        } else if self.soft.is_none() && reached(self.lifetime.seconds.soft) {
            self.soft = Some(ExpiryReason::Time);
        }
    }

    /// Counts `bytes` of payload and raises the byte limits they reach.
    fn account(&mut self, now: Duration, bytes: usize) {
        self.counters.packets += 1;
        self.counters.bytes = self.counters.bytes.saturating_add(bytes as u64);
        self.last_activity = now;
        let total = self.counters.bytes;
        if Lifetime::byte_limit(self.lifetime.kilobytes.hard).is_some_and(|l| total >= l) {
            self.hard.get_or_insert(ExpiryReason::Bytes);
        } else if Lifetime::byte_limit(self.lifetime.kilobytes.soft).is_some_and(|l| total >= l) {
            self.soft.get_or_insert(ExpiryReason::Bytes);
        }
    }

    /// Encapsulates `buf[payload]` in place (RFC 4303 §3.3): writes the ESP
    /// header and IV into the headroom in front of it and the padding,
    /// trailer and ICV into the tailroom behind it, encrypts, and returns
    /// the range of the ESP packet in `buf`.
    ///
    /// The CBC IV is `E_K(nonce)` with a secret per-SA salt and the sequence
    /// number in the nonce (NIST SP 800-38A Appendix C; see
    /// `docs/ARCHITECTURE.md`): unpredictable without an RNG on the data path.
    ///
    /// # Errors
    /// [`SealError::BufferTooSmall`] if `payload.start < self.headroom()` or
    /// the tailroom is too small; [`SealError::Expired`] once the SA is past
    /// its hard lifetime; [`SealError::WrongDirection`] on an inbound SA;
    /// [`SealError::BadRange`] if `payload` is not inside `buf`.
    pub fn seal(
        &mut self,
        now: Duration,
        buf: &mut [u8],
        payload: Range<usize>,
        next_header: IpProtocol,
    ) -> Result<Range<usize>, SealError> {
        self.seal_inner(now, buf, payload, next_header, None)
    }

    /// [`seal`](Self::seal) with a caller-chosen IV, for the RFC 3602
    /// known-answer tests only.
    #[cfg(test)]
    pub(crate) fn seal_with_iv(
        &mut self,
        now: Duration,
        buf: &mut [u8],
        payload: Range<usize>,
        next_header: IpProtocol,
        iv: &[u8],
    ) -> Result<Range<usize>, SealError> {
        self.seal_inner(now, buf, payload, next_header, Some(iv))
    }

    fn seal_inner(
        &mut self,
        now: Duration,
        buf: &mut [u8],
        payload: Range<usize>,
        next_header: IpProtocol,
        fixed_iv: Option<&[u8]>,
    ) -> Result<Range<usize>, SealError> {
        self.handle_timeout(now);
        let Keys::Outbound {
            cipher,
            sequence_number,
            iv_salt,
        } = &mut self.keys
        else {
            return Err(SealError::WrongDirection);
        };
        if self.hard.is_some() {
            return Err(SealError::Expired);
        }
        if payload.start > payload.end || payload.end > buf.len() {
            return Err(SealError::BadRange);
        }
        let iv_len = self.encryption.iv_len();
        let headroom = HEADER_LEN + iv_len;
        let data_len = payload.len();
        let trailer = Trailer::aligned(data_len, self.encryption.alignment(), next_header);
        let ct_end = payload.end + trailer.buffer_len();
        let icv_len = self.integrity.icv_len();
        let end = ct_end + icv_len;
        if payload.start < headroom || end > buf.len() {
            return Err(SealError::BufferTooSmall {
                headroom,
                needed: payload.start.max(headroom) + data_len + trailer.buffer_len() + icv_len,
            });
        }
        // The hard limit on the sequence number is raised when it is used,
        // so this cannot overflow.
        *sequence_number += 1;
        let seq = *sequence_number;
        let start = payload.start - headroom;

        let esp = &mut buf[start..end];
        Repr {
            spi: self.spi,
            sequence_number: seq,
        }
        .emit(&mut Packet::new_unchecked(&mut *esp));
        let ct_len = ct_end - payload.start;
        trailer.emit(&mut esp[headroom + data_len..headroom + ct_len]);
        match fixed_iv {
            Some(fixed) if fixed.len() == iv_len => {
                let (head, body) = esp.split_at_mut(headroom);
                head[HEADER_LEN..].copy_from_slice(fixed);
                cipher.encrypt(&head[HEADER_LEN..], &mut body[..ct_len]);
            }
            _ => {
                // IV = E_K(nonce): the nonce goes where the IV belongs and one
                // CBC pass from an all-zero IV encrypts it together with the
                // payload, since E_K(0 XOR nonce) is exactly the IV and the
                // chain continues from it. One cipher call per packet.
                write_nonce(*iv_salt, seq, &mut esp[HEADER_LEN..headroom]);
                cipher.encrypt(
                    &[0; MAX_BLOCK_LEN][..iv_len],
                    &mut esp[HEADER_LEN..headroom + ct_len],
                );
            }
        }

        let (authenticated, icv) = esp.split_at_mut(end - start - icv_len);
        let mut mac = [0u8; 32];
        self.auth.mac(authenticated, &mut mac);
        icv.copy_from_slice(&mac[..icv_len]);

        if seq == u32::MAX {
            self.hard.get_or_insert(ExpiryReason::SequenceNumber);
        } else if seq >= SEQUENCE_SOFT_LIMIT {
            self.soft.get_or_insert(ExpiryReason::SequenceNumber);
        }
        self.account(now, data_len);
        Ok(start..end)
    }

    /// Decapsulates the ESP packet that fills `buf` in place (RFC 4303
    /// §3.4): checks length, replay window and ICV (in constant time, before
    /// decrypting anything), decrypts, updates the replay window, verifies
    /// the padding, and returns where the payload lies in `buf`.
    ///
    /// The caller must already know that `buf`'s SPI is this SA's (the
    /// [`SaTable`](crate::SaTable) looks it up).
    ///
    /// # Errors
    /// A distinct [`OpenError`] per reason; each also increments a counter.
    /// The SA is unchanged by a refused packet except for that counter.
    pub fn open(&mut self, now: Duration, buf: &mut [u8]) -> Result<Opened, OpenError> {
        self.handle_timeout(now);
        let Keys::Inbound { cipher, replay } = &mut self.keys else {
            return Err(OpenError::WrongDirection);
        };
        if self.hard.is_some() {
            return Err(OpenError::Expired);
        }
        let iv_len = self.encryption.iv_len();
        let icv_len = self.integrity.icv_len();
        let block = self.encryption.block_len();
        let min_ct = block.max(TRAILER_LEN);
        let Some(ct_len) = buf
            .len()
            .checked_sub(HEADER_LEN + iv_len + icv_len)
            .filter(|&n| n >= min_ct)
        else {
            self.counters.too_short += 1;
            return Err(WireError::Truncated.into());
        };
        if ct_len % block != 0 {
            self.counters.too_short += 1;
            return Err(WireError::Truncated.into());
        }
        let seq = Packet::new_unchecked(&*buf).sequence_number();
        if let Err(why) = replay.check(seq) {
            self.counters.replay_drops += 1;
            debug!("esp: replay {:?} spi {} seq {}", why, self.spi, seq);
            return Err(OpenError::Replay);
        }

        let (authenticated, icv) = buf.split_at_mut(buf.len() - icv_len);
        let mut mac = [0u8; 32];
        self.auth.mac(authenticated, &mut mac);
        if !bool::from(mac[..icv_len].ct_eq(icv)) {
            self.counters.integrity_failures += 1;
            debug!("esp: ICV mismatch spi {} seq {}", self.spi, seq);
            return Err(OpenError::IntegrityCheckFailed);
        }

        let (head, ciphertext) = authenticated.split_at_mut(HEADER_LEN + iv_len);
        cipher.decrypt(&head[HEADER_LEN..], ciphertext);
        // The packet is genuine: it moves the window even if its padding is bad.
        replay.accept(seq);

        let Ok((trailer, data_len)) = Trailer::parse(ciphertext) else {
            self.counters.bad_padding += 1;
            debug!("esp: bad padding spi {} seq {}", self.spi, seq);
            return Err(OpenError::BadPadding);
        };
        self.account(now, data_len);
        let start = HEADER_LEN + iv_len;
        Ok(Opened {
            sequence_number: seq,
            next_header: trailer.next_header,
            payload: start..start + data_len,
        })
    }
}

/// The nonce whose encryption is the IV: for a 16-byte block `salt || 0 ||
/// seq`, for an 8-byte block `salt XOR seq`. Unique per packet because the
/// sequence number is, and secret because the salt is.
fn write_nonce(salt: u64, seq: u32, slot: &mut [u8]) {
    match slot.len() {
        16 => {
            slot[..8].copy_from_slice(&salt.to_be_bytes());
            slot[8..].copy_from_slice(&u64::from(seq).to_be_bytes());
        }
        8 => slot.copy_from_slice(&(salt ^ u64::from(seq)).to_be_bytes()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;
    use rand_chacha::ChaCha20Rng;
    use rand_core::{Rng, SeedableRng};

    const T0: Duration = Duration::from_secs(100);

    fn rng() -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(7)
    }

    // RFC 3602 §4 Cases #5 and #6: transport-mode ESP with AES-128-CBC and
    // no ICV (the RFC's examples use encryption only).
    const KEY: [u8; 16] = hex!("90d382b410eeba7ad938c46cec1a82bf");

    fn rfc3602_config() -> SaConfig<'static> {
        SaConfig {
            encryption: Encryption::AesCbc128,
            encryption_key: &KEY,
            integrity: Integrity::None,
            integrity_key: &[],
            encapsulation: Encapsulation::None,
            replay_window: DEFAULT_REPLAY_WINDOW,
            lifetime: Lifetime::UNLIMITED,
        }
    }

    struct Case {
        seq: u32,
        iv: &'static [u8],
        payload: &'static [u8],
        esp: &'static [u8],
    }

    const CASES: [Case; 2] = [
        Case {
            seq: 1,
            iv: &hex!("e96e8c08ab465763fd098d45dd3ff893"),
            payload: &hex!(
                "08000ebda70a00008e9c083db95b0700 08090a0b0c0d0e0f1011121314151617"
                "18191a1b1c1d1e1f2021222324252627 28292a2b2c2d2e2f3031323334353637"
            ),
            esp: &hex!(
                "0000432100000001e96e8c08ab465763fd098d45dd3ff893f663c25d325c18c6"
                "a9453e194e120849a4870b66cc6b9965330013b4898dc856a4699e523a55db08"
                "0b59ec3a8e4b7e52775b07d1db34ed9c538ab50c551b874aa269add047ad2d59"
                "13ac19b7cfbad4a6"
            ),
        },
        Case {
            seq: 8,
            iv: &hex!("69d08df7d203329db093fc4924e5bd80"),
            payload: &hex!("0800b5e8a80a0500a69c083d0b660e00777777777777777777777777"),
            esp: &hex!(
                "000043210000000869d08df7d203329db093fc4924e5bd80f51995881ec4e0c4"
                "488987ce742e8109689bb379d2d750c0d915dca346a89f75"
            ),
        },
    ];

    #[test]
    fn rfc3602_transport_mode_cases_5_and_6_seal() {
        let mut sa = Sa::<2>::new_outbound(T0, 0x4321, &rfc3602_config(), &mut rng()).unwrap();
        for case in &CASES {
            // Sequence numbers of the two cases are 1 and 8.
            if let Keys::Outbound {
                sequence_number, ..
            } = &mut sa.keys
            {
                *sequence_number = case.seq - 1;
            }
            let mut buf = [0u8; 128];
            let start = sa.headroom();
            buf[start..start + case.payload.len()].copy_from_slice(case.payload);
            let range = sa
                .seal_with_iv(
                    T0,
                    &mut buf,
                    start..start + case.payload.len(),
                    IpProtocol::Icmp,
                    case.iv,
                )
                .unwrap();
            assert_eq!(&buf[range], case.esp);
        }
    }

    #[test]
    fn rfc3602_transport_mode_cases_5_and_6_open() {
        let mut sa = Sa::<2>::new_inbound(T0, 0x4321, &rfc3602_config()).unwrap();
        for case in &CASES {
            let mut buf = case.esp.to_vec();
            let opened = sa.open(T0, &mut buf).unwrap();
            assert_eq!(opened.sequence_number, case.seq);
            assert_eq!(opened.next_header, IpProtocol::Icmp);
            assert_eq!(&buf[opened.payload], case.payload);
        }
        assert_eq!(sa.counters().packets, 2);
    }

    /// The IV is `AES_K(salt || 0 || seq)` with the salt the SA drew from
    /// its RNG: recomputed here with the aes crate directly.
    #[test]
    fn derived_iv_is_the_documented_construction() {
        use aes::cipher::{BlockCipherEncrypt, KeyInit};
        let cfg = rfc3602_config();
        let first_two_ivs = |seed| {
            let mut sa =
                Sa::<2>::new_outbound(T0, 0x4321, &cfg, &mut ChaCha20Rng::seed_from_u64(seed))
                    .unwrap();
            let mut ivs = [[0u8; 16]; 2];
            for iv in &mut ivs {
                let mut buf = [0u8; 64];
                let r = sa.seal(T0, &mut buf, 24..28, IpProtocol::Udp).unwrap();
                iv.copy_from_slice(&buf[r.start + 8..r.start + 24]);
            }
            ivs
        };
        let a = first_two_ivs(1);
        assert_ne!(a[0], a[1]);
        assert_ne!(a[0], first_two_ivs(2)[0]);
        let salt = ChaCha20Rng::seed_from_u64(1).next_u64();
        let aes = aes::Aes128::new_from_slice(&KEY).unwrap();
        for (seq, iv) in [1u64, 2].into_iter().zip(a) {
            let mut block = [0u8; 16];
            block[..8].copy_from_slice(&salt.to_be_bytes());
            block[8..].copy_from_slice(&seq.to_be_bytes());
            let mut block = block.into();
            aes.encrypt_block(&mut block);
            assert_eq!(block.as_slice(), iv);
        }
    }

    /// The outbound sequence number never wraps (RFC 4303 §3.3.3): soft
    /// expiry at [`SEQUENCE_SOFT_LIMIT`], hard once 2^32 - 1 has been sent.
    #[test]
    fn sequence_number_never_wraps() {
        let mut sa = Sa::<2>::new_outbound(T0, 0x4321, &rfc3602_config(), &mut rng()).unwrap();
        let seal = |sa: &mut Sa<2>| {
            let mut buf = [0u8; 64];
            sa.seal(T0, &mut buf, 24..28, IpProtocol::Udp)
        };
        let set = |sa: &mut Sa<2>, n: u32| {
            if let Keys::Outbound {
                sequence_number, ..
            } = &mut sa.keys
            {
                *sequence_number = n;
            }
        };
        set(&mut sa, SEQUENCE_SOFT_LIMIT - 2);
        assert!(seal(&mut sa).is_ok());
        assert_eq!(sa.take_expiry(), None);
        assert!(seal(&mut sa).is_ok());
        assert_eq!(sa.sequence_number(), SEQUENCE_SOFT_LIMIT);
        assert_eq!(
            sa.take_expiry(),
            Some(Expiry::Soft(ExpiryReason::SequenceNumber))
        );
        set(&mut sa, u32::MAX - 2);
        assert!(seal(&mut sa).is_ok());
        assert_eq!(sa.take_expiry(), None);
        assert!(seal(&mut sa).is_ok());
        assert_eq!(sa.sequence_number(), u32::MAX);
        assert_eq!(
            sa.take_expiry(),
            Some(Expiry::Hard(ExpiryReason::SequenceNumber))
        );
        assert_eq!(seal(&mut sa), Err(SealError::Expired));
        assert_eq!(sa.sequence_number(), u32::MAX);
    }

    /// Every type that holds key material zeroizes itself on drop: the
    /// workspace enables the RustCrypto crates' `zeroize` features, and this
    /// stops compiling if one of them goes missing.
    #[test]
    fn key_material_zeroizes_on_drop() {
        use hmac::digest::block_api::CoreProxy;
        fn zeroizes<T: zeroize::ZeroizeOnDrop>() {}
        zeroizes::<aes::Aes128Enc>();
        zeroizes::<aes::Aes192Dec>();
        zeroizes::<aes::Aes256Enc>();
        zeroizes::<des::TdesEde3>();
        zeroizes::<<md5::Md5 as CoreProxy>::Core>();
        zeroizes::<<sha1::Sha1 as CoreProxy>::Core>();
        zeroizes::<<sha2::Sha256 as CoreProxy>::Core>();
    }

    #[test]
    fn null_without_integrity_is_refused() {
        let cfg = SaConfig {
            encryption: Encryption::Null,
            encryption_key: &[],
            ..rfc3602_config()
        };
        assert_eq!(
            Sa::<2>::new_inbound(T0, 0x1000, &cfg).unwrap_err(),
            KeyError::NullWithoutIntegrity
        );
    }
}
