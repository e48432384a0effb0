//! The state kept per ISAKMP SA and per exchange.
//!
//! An [`IkeSa`] is what lives as long as the ISAKMP SA: cookies, addresses,
//! the negotiated algorithms, SKEYID_d, SKEYID_a, the encryption key and the
//! last phase 1 CBC block, the peer's identity and its IPsec SAs. It is
//! small (see `size_of_ike_sa` in the tests): everything that only a
//! negotiation needs (Diffie-Hellman values, nonces, the initiator's SA
//! payload, the last message sent) lives in an [`Exchange`] from a separate
//! pool and is zeroized and released when the negotiation ends.

use crate::buf::Buf;
use crate::config::IpsecLifetime;
use crate::config::{EspEncryption, EspIntegrity};
use crate::crypto::{
    DhGroup, DhPrivate, Digest64, KeyMaterial, MAX_BLOCK_LEN, MAX_DH_LEN, MAX_KEY_LEN, Secret,
};
use crate::event::{NatTVariant, PeerId, Role};
use crate::policy::Phase1Params;
use crate::wire::EncapsulationMode;
use core::net::{IpAddr, SocketAddr};
use core::time::Duration;
use zero_none::Occupied;

/// Largest ISAKMP message this crate builds or keeps for retransmission.
pub const MAX_MESSAGE_LEN: usize = 1280;
/// Largest initiator SA payload body kept for HASH_I/HASH_R.
pub(crate) const MAX_SA_BODY: usize = 1024;
/// Largest nonce (RFC 2409 §5: 8 to 256 octets).
pub(crate) const MAX_NONCE: usize = 256;
/// Length of the nonces this crate sends.
pub(crate) const NONCE_LEN: usize = 32;
/// IPsec SA pairs remembered per ISAKMP SA.
pub(crate) const MAX_CHILDREN: usize = 4;
/// Largest Quick Mode ID payload body echoed (IPv6 subnet: 4 + 32).
pub(crate) const MAX_ID_BODY: usize = 40;
/// Largest transform echoed in Quick Mode message 2.
pub(crate) const MAX_TRANSFORM: usize = 128;

/// Phase 1 progress of an SA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum P1State {
    /// Initiator, sent message 1.
    I1,
    /// Initiator, sent message 3.
    I2,
    /// Initiator, sent message 5.
    I3,
    /// Responder, sent message 2.
    R1,
    /// Responder, sent message 4.
    R2,
    /// Authenticated.
    Established,
}

/// Timers of an ISAKMP SA, indexed into [`IkeSa::timers`]. DPD and rekey
/// have their slots reserved for the next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum SaTimer {
    /// Lifetime end.
    Expire = 0,
    /// Next NAT-keepalive.
    Keepalive = 1,
    /// Dead Peer Detection: the next R-U-THERE, or the verdict.
    Dpd = 2,
    /// Phase 1 rekey: start the replacing Main Mode (initiator).
    Rekey = 3,
}

pub(crate) const SA_TIMERS: usize = 4;

/// Keys of an ISAKMP SA once derived.
#[derive(Debug, Clone)]
pub(crate) struct SaKeys {
    pub(crate) skeyid_d: Digest64,
    pub(crate) skeyid_a: Digest64,
    pub(crate) ka: Secret<MAX_KEY_LEN>,
    /// The last CBC output block of phase 1 (RFC 2409 Appendix B).
    pub(crate) last_block: Secret<MAX_BLOCK_LEN>,
}

/// A negotiated pair of IPsec SAs and its lifetime timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChildRef {
    pub(crate) spi_in: u32,
    pub(crate) spi_out: u32,
    /// Start a replacing Quick Mode at (we initiated this one).
    pub(crate) rekey_at: Option<Duration>,
    /// Delete it at: its lifetime, or the end of the overlap after its
    /// replacement.
    pub(crate) expire_at: Option<Duration>,
    /// Replaced: deleted at `expire_at` with `DeleteReason::Rekeyed`.
    pub(crate) replaced: bool,
}

/// An ISAKMP SA.
#[derive(Debug, Clone)]
pub(crate) struct IkeSa {
    pub(crate) role: Role,
    pub(crate) state: P1State,
    pub(crate) cky_i: [u8; 8],
    pub(crate) cky_r: [u8; 8],
    pub(crate) remote: SocketAddr,
    pub(crate) local: SocketAddr,
    pub(crate) nat_t: Option<NatTVariant>,
    pub(crate) remote_behind_nat: bool,
    pub(crate) local_behind_nat: bool,
    pub(crate) peer_dpd: bool,
    pub(crate) peer_fragmentation: bool,
    pub(crate) peer_ms_nt5: Option<u32>,
    pub(crate) params: Option<Phase1Params>,
    pub(crate) keys: Option<SaKeys>,
    pub(crate) peer_id: Option<PeerId>,
    pub(crate) children: heapless::Vec<ChildRef, MAX_CHILDREN>,
    /// The Main Mode exchange while it runs: (index, generation).
    pub(crate) phase1_exchange: Option<(u16, u16)>,
    pub(crate) established_at: Option<Duration>,
    pub(crate) timers: [Option<Duration>; SA_TIMERS],
    /// Message IDs of finished exchanges, so that a replay is refused.
    pub(crate) recent_mids: [u32; 4],
    pub(crate) recent_next: u8,
    /// Sequence number of our last R-U-THERE (RFC 3706 §7).
    pub(crate) dpd_seq: u32,
    /// Our R-U-THEREs not answered yet (0: none outstanding).
    pub(crate) dpd_outstanding: u8,
    /// When the peer was last heard: an authenticated message, an
    /// R-U-THERE-ACK, or traffic the caller reported.
    pub(crate) last_heard: Duration,
    /// The ISAKMP SA this one replaces (a phase 1 rekey we started):
    /// (slot, generation).
    pub(crate) rekey_of: Option<(u16, u16)>,
    /// Makes an empty table slot (`None`) all zero bytes (the `zero-none` crate).
    pub(crate) _occupied: Occupied,
}

impl IkeSa {
    pub(crate) fn new(role: Role, cky_i: [u8; 8], remote: SocketAddr, local: SocketAddr) -> Self {
        Self {
            role,
            state: match role {
                Role::Initiator => P1State::I1,
                Role::Responder => P1State::R1,
            },
            cky_i,
            cky_r: [0; 8],
            remote,
            local,
            nat_t: None,
            remote_behind_nat: false,
            local_behind_nat: false,
            peer_dpd: false,
            peer_fragmentation: false,
            peer_ms_nt5: None,
            params: None,
            keys: None,
            peer_id: None,
            children: heapless::Vec::new(),
            phase1_exchange: None,
            established_at: None,
            timers: [None; SA_TIMERS],
            recent_mids: [0; 4],
            recent_next: 0,
            dpd_seq: 0,
            dpd_outstanding: 0,
            last_heard: Duration::ZERO,
            rekey_of: None,
            _occupied: Occupied::Yes,
        }
    }

    pub(crate) fn established(&self) -> bool {
        self.state == P1State::Established
    }

    pub(crate) fn nat_detected(&self) -> bool {
        self.nat_t.is_some() && (self.remote_behind_nat || self.local_behind_nat)
    }

    pub(crate) fn remember_mid(&mut self, mid: u32) {
        let i = usize::from(self.recent_next) % self.recent_mids.len();
        self.recent_mids[i] = mid;
        self.recent_next = self.recent_next.wrapping_add(1);
    }

    pub(crate) fn mid_seen(&self, mid: u32) -> bool {
        self.recent_mids.contains(&mid)
    }

    pub(crate) fn set_timer(&mut self, t: SaTimer, at: Option<Duration>) {
        self.timers[t as usize] = at;
    }
}

/// Progress of an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExState {
    /// Main Mode running (the SA's [`P1State`] says where).
    MainMode,
    /// Main Mode done; kept to answer a retransmitted message 5.
    MainModeDone,
    /// Quick Mode initiator waiting for our SPI.
    QmIWaitSpi,
    /// Quick Mode initiator, sent message 1.
    QmI1,
    /// Quick Mode initiator, sent message 3; kept to answer a
    /// retransmitted message 2.
    QmIDone,
    /// Quick Mode responder waiting for our SPI.
    QmRWaitSpi,
    /// Quick Mode responder, sent message 2.
    QmR1,
}

/// What a Main Mode needs until it is authenticated.
#[derive(Debug)]
pub(crate) struct MainData {
    pub(crate) dh: Option<DhPrivate>,
    pub(crate) gxi: Buf<MAX_DH_LEN>,
    pub(crate) gxr: Buf<MAX_DH_LEN>,
    pub(crate) ni: Buf<MAX_NONCE>,
    pub(crate) nr: Buf<MAX_NONCE>,
    /// SAi_b: the body of the initiator's SA payload.
    pub(crate) sai_b: Buf<MAX_SA_BODY>,
    pub(crate) skeyid: Digest64,
}

impl MainData {
    pub(crate) fn new() -> Self {
        Self {
            dh: None,
            gxi: Buf::new(),
            gxr: Buf::new(),
            ni: Buf::new(),
            nr: Buf::new(),
            sai_b: Buf::new(),
            skeyid: Digest64::empty(),
        }
    }
}

/// The ESP parameters a Quick Mode settled on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QmParams {
    pub(crate) encryption: EspEncryption,
    pub(crate) integrity: EspIntegrity,
    pub(crate) encapsulation: EncapsulationMode,
    pub(crate) pfs: Option<DhGroup>,
    pub(crate) lifetime: IpsecLifetime,
    pub(crate) responder_lifetime: bool,
    pub(crate) transform_set: Option<usize>,
    pub(crate) proposal_number: u8,
}

/// What a Quick Mode needs until it ends.
#[derive(Debug)]
pub(crate) struct QuickData {
    pub(crate) ni: Buf<MAX_NONCE>,
    pub(crate) nr: Buf<MAX_NONCE>,
    pub(crate) spi_in: Option<u32>,
    pub(crate) spi_out: u32,
    pub(crate) params: Option<QmParams>,
    /// The chosen transform as received (responder echoes it).
    pub(crate) transform: Buf<MAX_TRANSFORM>,
    /// The inbound SPI of the pair this Quick Mode replaces (a rekey).
    pub(crate) replaces: Option<u32>,
    /// IDci and IDcr bodies as received or sent.
    pub(crate) idci: Buf<MAX_ID_BODY>,
    pub(crate) idcr: Buf<MAX_ID_BODY>,
    pub(crate) nat_oa_i: Option<IpAddr>,
    pub(crate) nat_oa_r: Option<IpAddr>,
    pub(crate) dh: Option<DhPrivate>,
    /// The peer's KE (responder keeps it until the SPI arrives).
    pub(crate) peer_ke: Buf<MAX_DH_LEN>,
    /// KEYMAT of the inbound and outbound SA, once computed.
    pub(crate) keymat_in: KeyMaterial,
    pub(crate) keymat_out: KeyMaterial,
}

impl QuickData {
    pub(crate) fn new() -> Self {
        Self {
            ni: Buf::new(),
            nr: Buf::new(),
            spi_in: None,
            spi_out: 0,
            params: None,
            transform: Buf::new(),
            replaces: None,
            idci: Buf::new(),
            idcr: Buf::new(),
            nat_oa_i: None,
            nat_oa_r: None,
            dh: None,
            peer_ke: Buf::new(),
            keymat_in: KeyMaterial::empty(),
            keymat_out: KeyMaterial::empty(),
        }
    }
}

/// Per-exchange data. (No allocator: the slot is sized for the largest.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum ExData {
    Main(MainData),
    Quick(QuickData),
    /// Finished: only the last message is kept.
    Done,
}

/// A running (or lingering) exchange.
#[derive(Debug)]
pub(crate) struct Exchange {
    pub(crate) sa: u16,
    pub(crate) sa_generation: u16,
    pub(crate) message_id: u32,
    pub(crate) state: ExState,
    /// The CBC state: the IV of the next message of this exchange.
    pub(crate) iv: Secret<MAX_BLOCK_LEN>,
    /// Our last message, as sent.
    pub(crate) tx: Buf<MAX_MESSAGE_LEN>,
    /// Digest of the peer's last message, to recognise a retransmission.
    pub(crate) rx_digest: Option<[u8; 16]>,
    pub(crate) resends: u8,
    pub(crate) retransmit_at: Option<Duration>,
    pub(crate) interval: Duration,
    /// Give up (a negotiation) or forget (a lingering exchange) at.
    pub(crate) deadline: Option<Duration>,
    /// Our last message lives in this large-message slot instead of `tx`.
    pub(crate) large: Option<u8>,
    pub(crate) data: ExData,
    /// Makes an empty pool slot (`None`) all zero bytes (the `zero-none` crate).
    pub(crate) _occupied: Occupied,
}

impl Exchange {
    pub(crate) fn new(
        sa: u16,
        sa_generation: u16,
        message_id: u32,
        state: ExState,
        data: ExData,
    ) -> Self {
        Self {
            sa,
            sa_generation,
            message_id,
            state,
            iv: Secret::empty(),
            tx: Buf::new(),
            rx_digest: None,
            resends: 0,
            retransmit_at: None,
            interval: Duration::ZERO,
            deadline: None,
            large: None,
            data,
            _occupied: Occupied::Yes,
        }
    }

    pub(crate) fn quick(&mut self) -> Option<&mut QuickData> {
        match &mut self.data {
            ExData::Quick(q) => Some(q),
            _ => None,
        }
    }
}

/// A slot of the SA table.
#[derive(Debug)]
pub(crate) struct SaSlot {
    pub(crate) generation: u16,
    pub(crate) sa: Option<IkeSa>,
}

impl SaSlot {
    pub(crate) const EMPTY: Self = Self {
        generation: 0,
        sa: None,
    };
}

/// A slot of the exchange pool.
#[derive(Debug)]
pub(crate) struct ExSlot {
    pub(crate) generation: u16,
    pub(crate) ex: Option<Exchange>,
}

impl ExSlot {
    pub(crate) const EMPTY: Self = Self {
        generation: 0,
        ex: None,
    };
}

/// Size in bytes of the state an established ISAKMP SA keeps in the table
/// (the Diffie-Hellman values, nonces and messages of its negotiation live
/// in an exchange slot, see [`EXCHANGE_SIZE`]).
pub const IKE_SA_SIZE: usize = size_of::<SaSlot>();

/// Size in bytes of one exchange slot (one running Main Mode or Quick
/// Mode: Diffie-Hellman values, nonces, the initiator's SA payload and the
/// last message sent).
pub const EXCHANGE_SIZE: usize = size_of::<ExSlot>();

// The budget of an established SA (issue 5): at most 1 KiB, checked at
// compile time on every target.
const _: () = assert!(IKE_SA_SIZE <= 1024);
