//! Informational exchanges (RFC 2408 §4.8, RFC 2409 §5.7): Delete and
//! Notify both ways, INITIAL-CONTACT (RFC 2407 §4.6.3.3), and the answer to
//! DPD's R-U-THERE (RFC 3706 §5).

use crate::buf::Buf;
use crate::crypto::{informational_hash, phase2_iv};
use crate::endpoint::{Endpoint, ONESHOT_LEN, TxItem};
use crate::event::{DeleteReason, Error, Event, FailReason, SaHandle};
use crate::message::{Parsed, decrypt, encrypt};
use crate::state::{ExState, P1State, SaTimer};
use crate::wire::{
    DOI_IPSEC, DeleteRepr, ExchangeType, HeaderRepr, MessageWriter, NotifyRepr, NotifyType,
    PayloadType, ProtocolId,
};
use core::net::SocketAddr;
use core::time::Duration;
use rand_core::CryptoRng;

/// The body of a protected Informational message we send.
#[derive(Clone, Copy)]
enum InfoBody<'a> {
    Notify {
        protocol: ProtocolId,
        spi: &'a [u8],
        notify_type: NotifyType,
        data: &'a [u8],
    },
    Delete {
        protocol: ProtocolId,
        spi_size: u8,
        spis: &'a [u8],
    },
}

impl<const SAS: usize, const EXCHANGES: usize> Endpoint<SAS, EXCHANGES> {
    /// Sends a protected Informational exchange on SA `i`: HDR*, HASH(1),
    /// N/D with a fresh message ID (RFC 2409 §5.7).
    fn send_protected(
        &mut self,
        i: usize,
        body: InfoBody<'_>,
        rng: &mut impl CryptoRng,
    ) -> Result<(), Error> {
        let mid = self.new_message_id(i, rng);
        let nat_t_port = self.config.nat_t_port;
        let sa = self.sas[i].sa.as_mut().ok_or(Error::InvalidHandle)?;
        let p = sa.params.ok_or(Error::InvalidState)?;
        let keys = sa.keys.as_ref().ok_or(Error::InvalidState)?;
        if keys.last_block.is_empty() {
            return Err(Error::InvalidState);
        }
        let mut data: Buf<ONESHOT_LEN> = Buf::new();
        let hdr = Self::header(sa, ExchangeType::Informational, true, mid);
        let mut m = MessageWriter::new(data.storage_mut(), &hdr);
        let hash = m.begin(PayloadType::Hash);
        m.body().put_zeros(p.hash.output_len());
        m.end(hash);
        let hash_at = hash.body();
        let hash_end = hash_at + p.hash.output_len();
        match body {
            InfoBody::Notify {
                protocol,
                spi,
                notify_type,
                data,
            } => {
                let mark = m.begin(PayloadType::Notification);
                NotifyRepr {
                    doi: DOI_IPSEC,
                    protocol,
                    notify_type,
                    spi,
                    data,
                }
                .emit(m.body());
                m.end(mark);
            }
            InfoBody::Delete {
                protocol,
                spi_size,
                spis,
            } => {
                let mark = m.begin(PayloadType::Delete);
                DeleteRepr::new(protocol, spi_size, spis).emit(m.body());
                m.end(mark);
            }
        }
        let len = m.finish().map_err(|_| Error::MessageTooLarge)?;
        let buf = data.storage_mut();
        let h = informational_hash(p.hash, keys.skeyid_a.as_slice(), mid, &buf[hash_end..len]);
        buf[hash_at..hash_end].copy_from_slice(h.as_slice());
        let mut iv = phase2_iv(
            p.hash,
            keys.last_block.as_slice(),
            mid,
            p.cipher.block_len(),
        );
        let total = encrypt(p.cipher, keys.ka.as_slice(), &mut iv, buf, len)?;
        data.set_len(total);
        sa.remember_mid(mid);
        let (remote, local) = (sa.remote, sa.local);
        if matches!(body, InfoBody::Notify { .. }) {
            self.counters.notifies_sent += 1;
        }
        self.queue(TxItem::OneShot {
            remote,
            local,
            marker: local.port() == nat_t_port,
            data,
        });
        Ok(())
    }

    /// Sends a protected Notify on SA `i`.
    pub(crate) fn send_notify_protected(
        &mut self,
        i: usize,
        protocol: ProtocolId,
        spi: &[u8],
        notify_type: NotifyType,
        data: &[u8],
        rng: &mut impl CryptoRng,
    ) -> Result<(), Error> {
        self.send_protected(
            i,
            InfoBody::Notify {
                protocol,
                spi,
                notify_type,
                data,
            },
            rng,
        )
    }

    fn cookie_pair(&self, i: usize) -> [u8; 16] {
        let mut spi = [0u8; 16];
        if let Some(sa) = self.sas[i].sa.as_ref() {
            spi[..8].copy_from_slice(&sa.cky_i);
            spi[8..].copy_from_slice(&sa.cky_r);
        }
        spi
    }

    /// A protected Informational message on SA `i`.
    pub(crate) fn informational(
        &mut self,
        i: usize,
        now: Duration,
        remote: SocketAddr,
        hdr: &HeaderRepr,
        msg: &mut [u8],
        rng: &mut impl CryptoRng,
    ) -> Result<(), Error> {
        let sa = self.sas[i].sa.as_ref().ok_or(Error::UnknownSa)?;
        let p = sa.params.ok_or(Error::UnexpectedMessage)?;
        let keys = sa.keys.as_ref().ok_or(Error::UnexpectedMessage)?;
        if keys.last_block.is_empty() {
            return Err(Error::UnexpectedMessage);
        }
        let mid = hdr.message_id;
        if mid == 0 || sa.mid_seen(mid) {
            return Err(Error::InvalidMessageId);
        }
        let iv = phase2_iv(
            p.hash,
            keys.last_block.as_slice(),
            mid,
            p.cipher.block_len(),
        );
        decrypt(p.cipher, keys.ka.as_slice(), &iv, msg)?;
        let body = Self::body_of(msg);
        let parsed = Parsed::new(hdr.next_payload, body)?;
        let first = parsed
            .items
            .first()
            .filter(|h| h.kind == PayloadType::Hash)
            .ok_or(Error::MissingPayload)?;
        let rest = body.get(first.end()..parsed.end).unwrap_or(&[]);
        if !informational_hash(p.hash, keys.skeyid_a.as_slice(), mid, rest).ct_eq(first.body) {
            return Err(Error::IntegrityCheckFailed);
        }
        let (cky_i, cky_r) = (sa.cky_i, sa.cky_r);
        if let Some(sa) = self.sas[i].sa.as_mut() {
            sa.remember_mid(mid);
        }
        self.peer_heard(i, now);
        let handle = self.handle_of(i);
        for pl in &parsed.items[1..] {
            match pl.kind {
                PayloadType::Notification => {
                    let n = NotifyRepr::parse(pl.body)?;
                    match n.notify_type {
                        NotifyType::RUThere if self.config.dpd => {
                            let spi = self.cookie_pair(i);
                            let seq = n.data.get(..4).unwrap_or(&[]);
                            self.send_notify_protected(
                                i,
                                ProtocolId::Isakmp,
                                &spi,
                                NotifyType::RUThereAck,
                                seq,
                                rng,
                            )?;
                        }
                        NotifyType::InitialContact => self.initial_contact(i),
                        NotifyType::RUThereAck => {
                            let seq = n.data.get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok());
                            let state = self.sas[i]
                                .sa
                                .as_ref()
                                .map(|s| (s.dpd_seq, s.dpd_outstanding));
                            // RFC 3706 §7: the ACK echoes the sequence
                            // number of one of our R-U-THEREs (any of those
                            // still outstanding, or the last one).
                            if let (Some(seq), Some((last, outstanding))) = (seq, state) {
                                let seq = u32::from_be_bytes(seq);
                                if last != 0
                                    && last.wrapping_sub(seq) < u32::from(outstanding.max(1))
                                {
                                    self.emit(Event::PeerAlive {
                                        sa: handle,
                                        sequence: seq,
                                    });
                                }
                            }
                        }
                        t => {
                            if t.is_error() {
                                self.fail_pending_quick_modes(i, t);
                            }
                            self.emit(Event::NotifyReceived {
                                sa: Some(handle),
                                remote,
                                notify: t,
                            });
                        }
                    }
                }
                PayloadType::Delete => {
                    let mut d = DeleteRepr::parse(pl.body)?;
                    match (d.protocol, d.spi_size) {
                        (ProtocolId::Isakmp, 16) => {
                            let ours = d.spis.any(|s| s[..8] == cky_i && s[8..] == cky_r);
                            if ours {
                                let remote = self.sas[i].sa.as_ref().map_or(remote, |s| s.remote);
                                self.emit(Event::Phase1Deleted {
                                    sa: handle,
                                    remote,
                                    reason: DeleteReason::PeerDelete,
                                });
                                self.remove_sa(i);
                                return Ok(());
                            }
                        }
                        (ProtocolId::Esp, 4) => {
                            for spi in d.spis {
                                let Ok(spi) = <[u8; 4]>::try_from(spi) else {
                                    continue;
                                };
                                self.peer_deleted_child(i, u32::from_be_bytes(spi));
                            }
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The peer deleted an IPsec SA: the SPI is its inbound one (our
    /// outbound), or, from some peers, ours.
    fn peer_deleted_child(&mut self, i: usize, spi: u32) {
        let handle = self.handle_of(i);
        let Some(sa) = self.sas[i].sa.as_mut() else {
            return;
        };
        let Some(k) = sa
            .children
            .iter()
            .position(|c| c.spi_out == spi)
            .or_else(|| sa.children.iter().position(|c| c.spi_in == spi))
        else {
            return;
        };
        let c = sa.children.remove(k);
        self.emit(Event::ChildSaDeleted {
            sa: handle,
            spi_in: c.spi_in,
            spi_out: c.spi_out,
            reason: DeleteReason::PeerDelete,
        });
    }

    fn fail_pending_quick_modes(&mut self, i: usize, t: NotifyType) {
        for x in 0..EXCHANGES {
            let pending = self.exchanges[x]
                .ex
                .as_ref()
                .is_some_and(|e| usize::from(e.sa) == i && e.state == ExState::QmI1);
            if pending {
                self.fail_exchange(x, FailReason::PeerNotify(t));
            }
        }
    }

    /// An unprotected Informational message: only an error Notify for one
    /// of our own negotiations still before message 4 is acted on (it
    /// cannot be authenticated, RFC 2408 §4.8); everything else is
    /// reported and ignored.
    pub(crate) fn clear_informational(
        &mut self,
        now: Duration,
        remote: SocketAddr,
        hdr: &HeaderRepr,
        msg: &mut [u8],
    ) -> Result<(), Error> {
        let _ = now;
        if hdr.flags.encryption() {
            return Err(Error::UnexpectedMessage);
        }
        let parsed = Parsed::new(hdr.next_payload, Self::body_of(msg))?;
        let ours = self.sas.iter().position(|s| {
            s.sa.as_ref().is_some_and(|sa| {
                sa.cky_i == hdr.initiator_cookie
                    && matches!(sa.state, P1State::I1 | P1State::I2)
                    && sa.remote.ip() == remote.ip()
            })
        });
        for pl in parsed.all(PayloadType::Notification) {
            let n = NotifyRepr::parse(pl.body)?;
            match ours {
                Some(i) if n.notify_type.is_error() => {
                    self.fail_phase1(i, FailReason::PeerNotify(n.notify_type));
                    return Ok(());
                }
                _ => self.emit(Event::NotifyReceived {
                    sa: None,
                    remote,
                    notify: n.notify_type,
                }),
            }
        }
        Ok(())
    }

    /// An SA's lifetime ran out: tell the peer (Delete) and remove it.
    /// Its IPsec SAs live on until their own lifetimes end (RFC 2409 does
    /// not tie them to the ISAKMP SA).
    pub(crate) fn expire_sa(&mut self, i: usize, now: Duration, rng: &mut impl CryptoRng) {
        let _ = now;
        let established = self.sas[i].sa.as_ref().is_some_and(|s| s.established());
        if !established {
            self.fail_phase1(i, FailReason::Timeout);
            return;
        }
        let spi = self.cookie_pair(i);
        let _ = self.send_protected(
            i,
            InfoBody::Delete {
                protocol: ProtocolId::Isakmp,
                spi_size: 16,
                spis: &spi,
            },
            rng,
        );
        let handle = self.handle_of(i);
        let remote = self.sas[i].sa.as_ref().map(|s| s.remote);
        if let Some(remote) = remote {
            self.emit(Event::Phase1Deleted {
                sa: handle,
                remote,
                reason: DeleteReason::Expired,
            });
        }
        self.remove_sa(i);
    }

    /// The DPD timer of SA `i` fired (RFC 3706 §5.5): probe a peer that
    /// has been silent for the threshold, probe again after `retry` while
    /// unanswered, and declare it dead after `max_retries` probes.
    pub(crate) fn dpd_timer(&mut self, i: usize, now: Duration, rng: &mut impl CryptoRng) {
        let Some(t) = self.config.dpd_keepalive else {
            if let Some(sa) = self.sas[i].sa.as_mut() {
                sa.set_timer(SaTimer::Dpd, None);
            }
            return;
        };
        let Some(sa) = self.sas[i].sa.as_mut() else {
            return;
        };
        if sa.dpd_outstanding == 0 {
            let due = sa.last_heard + t.threshold;
            if due > now {
                sa.set_timer(SaTimer::Dpd, Some(due));
                return;
            }
        } else if sa.dpd_outstanding > t.max_retries {
            let remote = sa.remote;
            let handle = self.handle_of(i);
            self.counters.dpd_dead_peers += 1;
            warn!("DPD: peer dead after {} R-U-THEREs", t.max_retries);
            self.emit(Event::PeerDead { sa: handle, remote });
            self.delete_sa_with_children(i, DeleteReason::PeerDead);
            return;
        }
        sa.dpd_outstanding = sa.dpd_outstanding.saturating_add(1);
        sa.set_timer(SaTimer::Dpd, Some(now + t.retry));
        self.counters.dpd_probes += 1;
        let handle = self.handle_of(i);
        let _ = self.r_u_there(i, handle, rng);
    }

    /// Sends an R-U-THERE (RFC 3706 §5) on an established SA; the answer
    /// is [`Event::PeerAlive`] with the returned sequence number. The DPD
    /// timer ([`crate::config::DpdTimers`]) sends them by itself; this is
    /// for a caller that wants to probe now.
    ///
    /// # Errors
    /// [`Error::InvalidHandle`], or [`Error::InvalidState`] before phase 1
    /// is established.
    pub fn send_r_u_there(
        &mut self,
        now: Duration,
        sa: SaHandle,
        rng: &mut impl CryptoRng,
    ) -> Result<u32, Error> {
        let _ = now;
        let i = self.resolve(sa)?;
        let seq = self.r_u_there(i, sa, rng)?;
        self.update_timeout();
        Ok(seq)
    }

    fn r_u_there(
        &mut self,
        i: usize,
        sa: SaHandle,
        rng: &mut impl CryptoRng,
    ) -> Result<u32, Error> {
        let _ = sa;
        let s = self.sas[i].sa.as_mut().ok_or(Error::InvalidHandle)?;
        if !s.established() {
            return Err(Error::InvalidState);
        }
        if s.dpd_seq == 0 {
            s.dpd_seq = rng.next_u32() & 0x7fff_ffff;
        }
        s.dpd_seq = s.dpd_seq.wrapping_add(1).max(1);
        let seq = s.dpd_seq;
        let spi = self.cookie_pair(i);
        self.send_notify_protected(
            i,
            ProtocolId::Isakmp,
            &spi,
            NotifyType::RUThere,
            &seq.to_be_bytes(),
            rng,
        )?;
        Ok(seq)
    }

    /// Tells the endpoint that the peer of `sa` is alive: inbound ESP
    /// traffic arrived from it (RFC 3706 §5.5: DPD probes only a peer
    /// that has been silent). O(1); call it per packet or per batch.
    ///
    /// # Errors
    /// [`Error::InvalidHandle`] for a gone SA.
    pub fn peer_activity(&mut self, now: Duration, sa: SaHandle) -> Result<(), Error> {
        let i = self.resolve(sa)?;
        self.peer_heard(i, now);
        Ok(())
    }

    /// Deletes one of our IPsec SA pairs: sends a Delete with our inbound
    /// SPI (RFC 2408 §3.15) and forgets it. No event: the caller asked.
    ///
    /// # Errors
    /// [`Error::InvalidHandle`] for a gone SA or an unknown SPI.
    pub fn delete_child_sa(
        &mut self,
        now: Duration,
        sa: SaHandle,
        spi_in: u32,
        rng: &mut impl CryptoRng,
    ) -> Result<(), Error> {
        let _ = now;
        let i = self.resolve(sa)?;
        let s = self.sas[i].sa.as_mut().ok_or(Error::InvalidHandle)?;
        let k = s
            .children
            .iter()
            .position(|c| c.spi_in == spi_in)
            .ok_or(Error::InvalidHandle)?;
        s.children.remove(k);
        let r = self.delete_child_spi(i, spi_in, rng);
        self.update_timeout();
        r
    }

    /// Sends a Delete for our inbound SPI of an IPsec SA pair.
    pub(crate) fn delete_child_spi(
        &mut self,
        i: usize,
        spi_in: u32,
        rng: &mut impl CryptoRng,
    ) -> Result<(), Error> {
        self.send_protected(
            i,
            InfoBody::Delete {
                protocol: ProtocolId::Esp,
                spi_size: 4,
                spis: &spi_in.to_be_bytes(),
            },
            rng,
        )
    }

    /// Deletes an ISAKMP SA: sends a Delete for its IPsec SAs, then one for
    /// itself (as Windows does on disconnect), reports both, and removes it.
    ///
    /// # Errors
    /// [`Error::InvalidHandle`] for a gone SA.
    pub fn delete_sa(
        &mut self,
        now: Duration,
        sa: SaHandle,
        rng: &mut impl CryptoRng,
    ) -> Result<(), Error> {
        let _ = now;
        let i = self.resolve(sa)?;
        let s = self.sas[i].sa.as_ref().ok_or(Error::InvalidHandle)?;
        if s.established() {
            let mut spis = [0u8; 4 * crate::state::MAX_CHILDREN];
            let n = s.children.len();
            for (k, c) in s.children.iter().enumerate() {
                spis[4 * k..4 * k + 4].copy_from_slice(&c.spi_in.to_be_bytes());
            }
            if n > 0 {
                let _ = self.send_protected(
                    i,
                    InfoBody::Delete {
                        protocol: ProtocolId::Esp,
                        spi_size: 4,
                        spis: &spis[..4 * n],
                    },
                    rng,
                );
            }
            let cookies = self.cookie_pair(i);
            let _ = self.send_protected(
                i,
                InfoBody::Delete {
                    protocol: ProtocolId::Isakmp,
                    spi_size: 16,
                    spis: &cookies,
                },
                rng,
            );
        }
        self.delete_sa_with_children(i, DeleteReason::Local);
        self.update_timeout();
        Ok(())
    }
}
