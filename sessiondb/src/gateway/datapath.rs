//! The data path, in place, and the output side: ESP to UDP to L2TP to PPP
//! to IPv4 on the uplink; IPv4 to PPP to L2TP to UDP to ESP on the
//! downlink; control messages of every layer wrapped the same way.

use super::inet::{self, L2TP_PORT};
use super::{Destination, Error, Gateway, IKE_PORT, NAT_T_PORT, Transmit};
use crate::debug::DebugClass;
use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use core::ops::Range;
use core::time::Duration;
use esp_core::wire::udp_encap::{self, Classification};
use esp_core::{IpProtocol, SealError};
use rand_core::CryptoRng;

impl<const N: usize, const IKE: usize, const ESP: usize, const X: usize, const R: usize>
    Gateway<N, IKE, ESP, X, R>
{
    /// A UDP datagram arrived on our port `local.port()` (500 or 4500) from
    /// `remote`; it lies at `buf[range]`. IKE goes to ike-core; ESP (on
    /// 4500) is opened in place and, if it carries an IPv4 packet for the
    /// routed side, the packet's range in `buf` is returned.
    ///
    /// # Errors
    /// Why the datagram was dropped; nothing else is disturbed.
    pub fn handle_datagram(
        &mut self,
        now: Duration,
        remote: SocketAddrV4,
        local: SocketAddrV4,
        buf: &mut [u8],
        range: Range<usize>,
        rng: &mut impl CryptoRng,
    ) -> Result<Option<Range<usize>>, Error> {
        let Some(datagram) = buf.get(range.clone()) else {
            return Err(Error::Malformed);
        };
        let result = if local.port() == IKE_PORT {
            self.ike_in(now, remote, local, buf, range, rng)
                .map(|()| None)
        } else {
            match udp_encap::classify(datagram) {
                Ok(Classification::NatKeepalive) => Ok(None),
                Ok(Classification::Ike) => {
                    let start = range.start + Classification::Ike.payload_offset();
                    self.ike_in(now, remote, local, buf, start..range.end, rng)
                        .map(|()| None)
                }
                Ok(Classification::Esp) => self.esp_in(now, remote, true, buf, range, rng),
                Err(_) => {
                    self.counters.malformed += 1;
                    Err(Error::Malformed)
                }
            }
        };
        self.pump_after(now, &result, rng);
        result
    }

    /// [`pump`](Self::pump) after an input, except on the fast path: an
    /// IPv4 packet delivered touched only counters and replay windows, and
    /// unless ESP reached a lifetime on the way no component has news.
    fn pump_after(
        &mut self,
        now: Duration,
        result: &Result<Option<Range<usize>>, Error>,
        rng: &mut impl CryptoRng,
    ) {
        if matches!(result, Ok(Some(_))) && !self.esp.has_events() {
            return;
        }
        self.pump(now, rng);
    }

    /// An ESP packet arrived in IP (protocol 50) from `remote` to `local`;
    /// it lies at `buf[range]` (without the IP header). As
    /// [`handle_datagram`](Self::handle_datagram).
    ///
    /// # Errors
    /// Why the packet was dropped.
    pub fn handle_esp(
        &mut self,
        now: Duration,
        remote: Ipv4Addr,
        buf: &mut [u8],
        range: Range<usize>,
        rng: &mut impl CryptoRng,
    ) -> Result<Option<Range<usize>>, Error> {
        let r = self.esp_in(now, SocketAddrV4::new(remote, 0), false, buf, range, rng);
        self.pump_after(now, &r, rng);
        r
    }

    /// A plain UDP datagram to port 1701 (L2TP outside IPsec): the
    /// appliance does not serve it; dropped and counted.
    ///
    /// # Errors
    /// Always [`Error::PlainL2tp`].
    pub fn handle_plain_l2tp(&mut self) -> Result<(), Error> {
        self.counters.plain_l2tp += 1;
        Err(Error::PlainL2tp)
    }

    fn ike_in(
        &mut self,
        now: Duration,
        remote: SocketAddrV4,
        local: SocketAddrV4,
        buf: &mut [u8],
        range: Range<usize>,
        rng: &mut impl CryptoRng,
    ) -> Result<(), Error> {
        let datagram = buf.get_mut(range).ok_or(Error::Malformed)?;
        self.ike
            .handle_datagram(
                now,
                SocketAddr::V4(remote),
                SocketAddr::V4(local),
                datagram,
                rng,
            )
            .map_err(Error::Ike)
    }

    fn esp_in(
        &mut self,
        now: Duration,
        remote: SocketAddrV4,
        udp: bool,
        buf: &mut [u8],
        range: Range<usize>,
        rng: &mut impl CryptoRng,
    ) -> Result<Option<Range<usize>>, Error> {
        let base = range.start;
        let packet = buf.get_mut(range).ok_or(Error::Malformed)?;
        let (handle, opened) = match self.esp.open(now, packet) {
            Ok(o) => o,
            Err(e) => {
                self.counters.esp_dropped += 1;
                return Err(Error::Esp(e));
            }
        };
        let Some(slot) = self.slot_of_esp(handle) else {
            self.counters.esp_dropped += 1;
            return Err(Error::NotUp);
        };
        let payload = base + opened.payload.start..base + opened.payload.end;
        let udp_header = match opened.next_header {
            IpProtocol::Udp => inet::parse_udp(buf, payload),
            _ => None,
        };
        let Some(inner) = udp_header.filter(|u| u.dst_port == L2TP_PORT) else {
            self.counters.not_l2tp += 1;
            return Err(Error::NotL2tp);
        };
        let Some(p) = self.peers.get_mut(slot).and_then(Option::as_mut) else {
            return Err(Error::NotUp);
        };
        p.inner_port = inner.src_port;
        // Authentic inbound ESP: the client is alive, DPD need not probe.
        if let Some(sa) = p.ike_sa {
            let _ = self.ike.peer_activity(now, sa);
        }
        // A NAT that rebinds gives the client a new public port; its ESP
        // proves it is the same client, so answers follow the new port.
        if udp && remote != p.remote {
            p.remote = remote;
            let outbound = p.current().map(|c| c.outbound);
            if let Some(sa) = outbound.and_then(|h| self.esp.get_mut(h)) {
                sa.set_encapsulation(esp_core::Encapsulation::Udp {
                    peer_port: remote.port(),
                });
            }
        }
        let id = p.id;
        let l2tp = inner.payload.clone();
        let message = buf.get_mut(l2tp.clone()).ok_or(Error::Malformed)?;
        let received = self
            .l2tp
            .handle_datagram(now, id, message, rng)
            .map_err(Error::L2tp)?;
        let l2tp_core::Received::Data { payload, .. } = received else {
            return Ok(None);
        };
        let frame = l2tp.start + payload.start..l2tp.start + payload.end;
        self.ppp_in(now, slot, buf, frame, rng)
    }

    fn ppp_in(
        &mut self,
        now: Duration,
        slot: usize,
        buf: &mut [u8],
        frame: Range<usize>,
        rng: &mut impl CryptoRng,
    ) -> Result<Option<Range<usize>>, Error> {
        let base = frame.start;
        let received = {
            let Some(link) = self
                .peers
                .get_mut(slot)
                .and_then(Option::as_mut)
                .and_then(|p| p.link.as_mut())
            else {
                return Err(Error::NotUp);
            };
            let bytes = buf.get_mut(frame).ok_or(Error::Malformed)?;
            link.handle_frame(now, bytes, rng)
        };
        match received {
            Ok(ppp_core::Received::Ipv4(r)) => {
                let packet = base + r.start..base + r.end;
                let assigned = self.peers[slot].as_ref().and_then(|p| p.address);
                let src = buf
                    .get(packet.clone())
                    .and_then(inet::ipv4_summary)
                    .map(|s| s.src);
                if src.is_none() || src != assigned {
                    self.counters.spoofed += 1;
                    return Err(Error::Spoofed);
                }
                if let Some(p) = self.peers.get_mut(slot).and_then(Option::as_mut) {
                    p.last_data = super::peer::stamp(now);
                }
                if self.debug.enabled(DebugClass::Data, 1) {
                    self.debug(
                        DebugClass::Data,
                        1,
                        format_args!("L2TP data in: {} bytes from peer {}", packet.len(), slot),
                    );
                }
                Ok(Some(packet))
            }
            Ok(ppp_core::Received::Eap(r)) => {
                let eap = base + r.start..base + r.end;
                self.link_touched(slot);
                if let Some(bytes) = buf.get(eap) {
                    self.eap_from_peer(now, slot, bytes);
                }
                Ok(None)
            }
            Ok(ppp_core::Received::Control) => {
                self.link_touched(slot);
                Ok(None)
            }
            Err(_) => {
                self.link_touched(slot);
                Ok(None)
            }
        }
    }

    /// An IPv4 packet from the routed side, at `buf[range]` with
    /// [`HEADROOM`](super::HEADROOM) in front and
    /// [`TAILROOM`](super::TAILROOM) behind: sealed in place for the client
    /// it is addressed to. Returns what to send.
    ///
    /// # Errors
    /// [`Error::NoRoute`] for an address that is no client's,
    /// [`Error::NotUp`], [`Error::BufferTooSmall`].
    pub fn handle_ip(
        &mut self,
        now: Duration,
        buf: &mut [u8],
        range: Range<usize>,
    ) -> Result<Transmit, Error> {
        let summary = buf
            .get(range.clone())
            .and_then(inet::ipv4_summary)
            .ok_or(Error::Malformed)?;
        let Some(slot) = self.slot_of_address(summary.dst) else {
            self.counters.no_route += 1;
            return Err(Error::NoRoute);
        };
        let packet = range.start..range.start + summary.total_len;
        let frame = {
            let p = self
                .peers
                .get_mut(slot)
                .and_then(Option::as_mut)
                .ok_or(Error::NotUp)?;
            p.last_data = super::peer::stamp(now);
            let link = p.link.as_mut().ok_or(Error::NotUp)?;
            link.encapsulate_ipv4(now, buf, packet)
                .map_err(|_| Error::BufferTooSmall)?
        };
        self.frame_out(now, slot, buf, frame)
    }

    /// Sends a PPP frame at `buf[frame]` of peer `slot`: L2TP data header,
    /// inner UDP header, ESP.
    fn frame_out(
        &mut self,
        now: Duration,
        slot: usize,
        buf: &mut [u8],
        frame: Range<usize>,
    ) -> Result<Transmit, Error> {
        let call = self
            .peers
            .get(slot)
            .and_then(Option::as_ref)
            .and_then(|p| p.call)
            .ok_or(Error::NotUp)?;
        let (_, message) = self
            .l2tp
            .send_data(now, call, buf, frame)
            .map_err(Error::L2tp)?;
        self.seal_l2tp(now, slot, buf, message)
    }

    /// Wraps an L2TP message at `buf[message]` for peer `slot` in UDP and
    /// ESP, in place.
    fn seal_l2tp(
        &mut self,
        now: Duration,
        slot: usize,
        buf: &mut [u8],
        message: Range<usize>,
    ) -> Result<Transmit, Error> {
        let p = self
            .peers
            .get(slot)
            .and_then(Option::as_ref)
            .ok_or(Error::NotUp)?;
        let Some(child) = p.current() else {
            self.counters.no_sa += 1;
            return Err(Error::NotUp);
        };
        let (outbound, nat, remote, local, inner_port) =
            (child.outbound, p.nat, p.remote, p.local, p.inner_port);
        // Behind a NAT the client checks the UDP checksum against its own
        // private address, which we do not know: send none (RFC 3948 §3.1.2).
        let addresses = (!nat).then_some((*local.ip(), *remote.ip()));
        let datagram = inet::write_udp(buf, message, L2TP_PORT, inner_port, addresses)
            .ok_or(Error::BufferTooSmall)?;
        let sealed = self
            .esp
            .seal(now, outbound, buf, datagram, IpProtocol::Udp)
            .map_err(|e| match e {
                SealError::BufferTooSmall { .. } | SealError::BadRange => Error::BufferTooSmall,
                // Past its hard lifetime, or removed: nothing to send with
                // until the rekey installs the next SA.
                _ => Error::NotUp,
            })?;
        let destination = match self.esp.get(outbound).map(esp_core::Sa::encapsulation) {
            Some(esp_core::Encapsulation::Udp { peer_port }) => Destination::Client {
                local_port: NAT_T_PORT,
                remote: SocketAddrV4::new(*remote.ip(), peer_port),
            },
            _ => Destination::ClientEsp {
                remote: *remote.ip(),
            },
        };
        Ok(Transmit {
            destination,
            range: sealed,
        })
    }

    /// Keeps the state machines moving after any input: every component's
    /// events, until none has any.
    pub(super) fn pump(&mut self, now: Duration, rng: &mut impl CryptoRng) {
        for _ in 0..64 {
            let mut any = self.drain_ike(now, rng);
            any |= self.drain_l2tp(now, rng);
            any |= self.drain_radius(now);
            while let Some(e) = self.esp.poll_event() {
                any = true;
                self.on_esp(now, e, rng);
            }
            let touched: heapless::Vec<u16, N> = self.ppp_output.iter().copied().collect();
            for slot in touched {
                any |= self.drain_link_events(now, usize::from(slot));
            }
            if !any {
                break;
            }
        }
    }

    fn on_esp(&mut self, now: Duration, event: esp_core::Event, rng: &mut impl CryptoRng) {
        // A soft kilobyte or sequence-number limit: renew the pair with a
        // Quick Mode of our own (the time limit is ike-core's to watch, and
        // the client renews what it negotiated).
        if let esp_core::Event::SoftExpired {
            handle,
            reason: esp_core::ExpiryReason::Bytes | esp_core::ExpiryReason::SequenceNumber,
            ..
        } = event
        {
            let found = self.slot_of_esp(handle).and_then(|slot| {
                let p = self.peers.get(slot)?.as_ref()?;
                let c = p
                    .children
                    .iter()
                    .flatten()
                    .find(|c| c.inbound == handle || c.outbound == handle)?;
                Some((p.ike_sa?, c.spi_in))
            });
            if let Some((sa, spi_in)) = found {
                let _ = self.ike.rekey_child_sa(now, sa, spi_in, rng);
            }
            return;
        }
        // A hard expiry ends the pair: its other direction goes too, and the
        // session with the last pair.
        if let esp_core::Event::HardExpired { handle, .. } = event
            && let Some(slot) = self.slot_of_esp(handle)
        {
            let Some(p) = self.peers.get_mut(slot).and_then(Option::as_mut) else {
                return;
            };
            let Some(child) = p
                .children
                .iter_mut()
                .find(|c| c.is_some_and(|c| c.inbound == handle || c.outbound == handle))
                .and_then(Option::take)
            else {
                return;
            };
            let left = p.children.iter().flatten().count();
            self.remove_child_sas(&child);
            if left == 0 {
                self.teardown(now, slot, super::TerminateCause::SessionTimeout);
            }
        }
    }

    /// The next datagram of any component, built into `buf`. `None`: nothing
    /// to send; `Some(None)`: something was consumed without a datagram
    /// (e.g. a frame with no SA to leave by), try again.
    pub(super) fn next_transmit(
        &mut self,
        now: Duration,
        rng: &mut impl CryptoRng,
        buf: &mut [u8],
    ) -> Option<Option<Transmit>> {
        // IKE: the marker is already in front when it belongs there.
        if let Ok(Some(t)) = self.ike.poll_transmit(now, buf) {
            let (SocketAddr::V4(remote), SocketAddr::V4(local)) = (t.remote, t.local) else {
                return Some(None);
            };
            return Some(Some(Transmit {
                destination: Destination::Client {
                    local_port: local.port(),
                    remote,
                },
                range: 0..t.len,
            }));
        }
        // L2TP control messages, through ESP.
        let headroom = super::HEADROOM;
        let room = buf.len().saturating_sub(super::TAILROOM);
        if let Some(area) = buf.get_mut(headroom..room)
            && let Ok(Some(t)) = self.l2tp.poll_transmit(now, area)
        {
            let Some(slot) = self.peer_slot(t.peer) else {
                self.counters.no_sa += 1;
                return Some(None);
            };
            return Some(
                self.seal_l2tp(now, slot, buf, headroom..headroom + t.len)
                    .ok(),
            );
        }
        // PPP control frames (and EAP Requests kept from RADIUS).
        while let Some(&slot) = self.ppp_output.front() {
            let slot = usize::from(slot);
            if let Some(frame) = self.next_frame(now, slot, buf) {
                return Some(self.frame_out(now, slot, buf, frame).ok());
            }
            self.ppp_output.pop_front();
            if let Some(p) = self.peers.get_mut(slot).and_then(Option::as_mut) {
                p.ppp_queued = false;
            }
        }
        // RADIUS.
        for g in 0..self.radius.len() {
            let Some(group) = self.radius.get_mut(g) else {
                continue;
            };
            if let Ok(Some(t)) = group.client.poll_transmit(now, rng, buf) {
                let server = group
                    .servers
                    .get(usize::from(t.server.0))
                    .map(|(auth, acct)| match t.service {
                        radius_core::Service::Authentication => *auth,
                        radius_core::Service::Accounting => *acct,
                    });
                return Some(server.map(|server| Transmit {
                    destination: Destination::Radius { server },
                    range: 0..t.len,
                }));
            }
        }
        // NAT keepalives (RFC 3948 §2.3).
        for p in self.peers.iter_mut().flatten() {
            if p.keepalive_due {
                p.keepalive_due = false;
                if let Some(b) = buf.first_mut() {
                    *b = udp_encap::NAT_KEEPALIVE[0];
                }
                return Some(Some(Transmit {
                    destination: Destination::Client {
                        local_port: NAT_T_PORT,
                        remote: p.remote,
                    },
                    range: 0..1,
                }));
            }
        }
        None
    }

    /// The next PPP frame of peer `slot`, framed at [`HEADROOM`](super::HEADROOM)
    /// in `buf`: a kept EAP Request first, then the link's own output.
    fn next_frame(&mut self, now: Duration, slot: usize, buf: &mut [u8]) -> Option<Range<usize>> {
        let headroom = super::HEADROOM;
        let resend = self.peers.get(slot)?.as_ref()?.eap_resend;
        if resend {
            if let Some(p) = self.peers.get_mut(slot).and_then(Option::as_mut) {
                p.eap_resend = false;
            }
            if let Some(frame) = self.frame_eap(now, slot, buf, headroom + ppp_core::MAX_HEADROOM) {
                return Some(frame);
            }
        }
        let room = buf.len().saturating_sub(super::TAILROOM);
        let link = self.peers.get_mut(slot)?.as_mut()?.link.as_mut()?;
        let area = buf.get_mut(headroom..room)?;
        let n = link.poll_transmit(now, area).ok()??;
        Some(headroom..headroom + n)
    }
}
