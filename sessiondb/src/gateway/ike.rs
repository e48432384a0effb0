//! What IKE reports, acted on: a peer slot per established ISAKMP SA, our
//! inbound SPIs from the ESP table, the negotiated SA pairs installed in
//! it, deletes and failures unwound.

use super::peer::{Child, Phase};
use super::{Gateway, TerminateCause, convert};
use crate::debug::DebugClass;
use core::net::{SocketAddr, SocketAddrV4};
use core::time::Duration;
use ike_core::{ChildSa, DeleteReason, Event as IkeEvent};
use rand_core::CryptoRng;

fn v4(a: SocketAddr) -> Option<SocketAddrV4> {
    match a {
        SocketAddr::V4(a) => Some(a),
        SocketAddr::V6(_) => None,
    }
}

impl<const N: usize, const IKE: usize, const ESP: usize, const X: usize, const R: usize>
    Gateway<N, IKE, ESP, X, R>
{
    fn slot_of_ike_sa(&self, sa: ike_core::SaHandle) -> Option<usize> {
        self.peers
            .iter()
            .position(|p| p.as_ref().is_some_and(|p| p.ike_sa == Some(sa)))
    }

    /// Drains IKE's events; returns whether there were any.
    pub(super) fn drain_ike(&mut self, now: Duration, rng: &mut impl CryptoRng) -> bool {
        let mut any = false;
        while let Some(event) = self.ike.poll_event() {
            any = true;
            self.on_ike(now, event, rng);
        }
        any
    }

    fn on_ike(&mut self, now: Duration, event: IkeEvent, rng: &mut impl CryptoRng) {
        match event {
            IkeEvent::Phase1Established { sa, info } => {
                let (Some(remote), Some(local)) = (v4(info.remote), v4(info.local)) else {
                    let _ = self.ike.delete_sa(now, sa, rng);
                    return;
                };
                // A phase 1 rekey: the client's session moves to the new
                // ISAKMP SA with its IPsec SAs.
                let rekeyed = info.replaces.and_then(|old| self.slot_of_ike_sa(old));
                let slot = match rekeyed.or_else(|| self.slot_of_ike_sa(sa)) {
                    Some(s) => Some(s),
                    None => self.new_peer(now, remote, local),
                };
                let Some(slot) = slot else {
                    // No room for another client: refuse it cleanly.
                    self.counters.refused += 1;
                    let _ = self.ike.delete_sa(now, sa, rng);
                    return;
                };
                if let Some(p) = self.peers[slot].as_mut() {
                    p.ike_sa = Some(sa);
                    p.remote = remote;
                    p.local = local;
                    p.nat = info.remote_behind_nat
                        || info.local_behind_nat
                        || local.port() == super::NAT_T_PORT;
                }
                self.debug(
                    DebugClass::Event,
                    1,
                    format_args!("IKE: Phase 1 established with {}", remote),
                );
            }
            IkeEvent::Phase1Failed { remote, reason, .. } => {
                self.debug(
                    DebugClass::Error,
                    1,
                    format_args!("IKE: Phase 1 with {} failed: {:?}", remote, reason),
                );
            }
            IkeEvent::Phase1Deleted { sa, reason, .. } => {
                if let Some(slot) = self.slot_of_ike_sa(sa) {
                    let children = self.peers[slot]
                        .as_ref()
                        .map_or(0, |p| p.children.iter().flatten().count());
                    if let Some(p) = self.peers[slot].as_mut() {
                        p.ike_sa = None;
                    }
                    // INITIAL-CONTACT: the client reconnected; its old
                    // session is gone. Without IPsec SAs nothing can flow.
                    if reason == DeleteReason::InitialContact || children == 0 {
                        self.teardown(now, slot, TerminateCause::UserRequest);
                    }
                }
            }
            IkeEvent::SpiNeeded { request, sa, .. } => match self.esp.reserve_spi(now, rng) {
                Ok((_, spi)) => {
                    let _ = self.ike.provide_spi(now, request, spi, rng);
                }
                Err(_) => {
                    // A full ESP table: Quick Mode fails with the SPI missing.
                    self.debug(
                        DebugClass::Error,
                        1,
                        format_args!("IPsec: SA table full, Quick Mode on {:?} refused", sa),
                    );
                }
            },
            IkeEvent::ChildSaNegotiated(child) => self.install_child(now, &child, rng),
            IkeEvent::ChildSaFailed {
                spi_in: Some(spi), ..
            } => self.release_reservation(spi),
            IkeEvent::ChildSaDeleted {
                sa, spi_in, reason, ..
            } => {
                let Some(slot) = self.slot_of_ike_sa(sa).or_else(|| self.slot_of_spi(spi_in))
                else {
                    if let Some(h) = self.esp.lookup_inbound(spi_in) {
                        let _ = self.esp.remove(h);
                    }
                    return;
                };
                let removed = self.peers[slot].as_mut().and_then(|p| {
                    let i = p
                        .children
                        .iter()
                        .position(|c| c.is_some_and(|c| c.spi_in == spi_in))?;
                    p.children[i].take()
                });
                if let Some(child) = removed {
                    self.remove_child_sas(&child);
                }
                let left = self.peers[slot]
                    .as_ref()
                    .map_or(0, |p| p.children.iter().flatten().count());
                if left == 0 {
                    let cause = match reason {
                        DeleteReason::Expired => TerminateCause::SessionTimeout,
                        // DPD found the client gone (RFC 3706).
                        DeleteReason::PeerDead => TerminateCause::LostCarrier,
                        _ => TerminateCause::UserRequest,
                    };
                    // The client deleted the SA that carried L2TP: nothing
                    // more can go out; end the rest now.
                    self.teardown(now, slot, cause);
                }
            }
            _ => {}
        }
    }

    fn slot_of_spi(&self, spi_in: u32) -> Option<usize> {
        self.peers.iter().position(|p| {
            p.as_ref()
                .is_some_and(|p| p.children.iter().flatten().any(|c| c.spi_in == spi_in))
        })
    }

    fn release_reservation(&mut self, spi: u32) {
        if let Some(h) = self.esp.lookup_reserved(spi) {
            let _ = self.esp.remove(h);
        }
    }

    /// Installs a negotiated pair in the ESP table, inbound in the slot its
    /// SPI reserved, and binds it to the client's peer slot.
    fn install_child(&mut self, now: Duration, child: &ChildSa, rng: &mut impl CryptoRng) {
        let Some(slot) = self.slot_of_ike_sa(child.ike_sa) else {
            let _ = self
                .ike
                .delete_child_sa(now, child.ike_sa, child.spi_in, rng);
            return;
        };
        let Some(algorithms) = convert::esp_algorithms(child) else {
            let _ = self
                .ike
                .delete_child_sa(now, child.ike_sa, child.spi_in, rng);
            return;
        };
        let window = self.options.replay_window;
        let inbound_config = convert::esp_config(child, &child.keys_in, algorithms, window);
        let outbound_config = convert::esp_config(child, &child.keys_out, algorithms, window);
        // The inbound SPI came from reserve_spi: its slot is spi % ESP.
        let inbound = self.reserved_handle(child.spi_in).and_then(|h| {
            self.esp.install_inbound(now, h, &inbound_config).ok()?;
            Some(h)
        });
        let outbound = self
            .esp
            .insert_outbound(now, child.spi_out, &outbound_config, rng)
            .ok();
        let (Some(inbound), Some(outbound)) = (inbound, outbound) else {
            if let Some(h) = inbound {
                let _ = self.esp.remove(h);
            }
            if let Some(h) = outbound {
                let _ = self.esp.remove(h);
            }
            let _ = self
                .ike
                .delete_child_sa(now, child.ike_sa, child.spi_in, rng);
            return;
        };
        if self.options.export_keys {
            self.emit(super::Event::EspKeys(super::EspKeys::of(
                child.spi_in,
                true,
                algorithms,
                &child.keys_in,
            )));
            self.emit(super::Event::EspKeys(super::EspKeys::of(
                child.spi_out,
                false,
                algorithms,
                &child.keys_out,
            )));
        }
        let owner = u16::try_from(slot + 1).unwrap_or(0);
        for h in [inbound, outbound] {
            if let Some(o) = self.esp_owner.get_mut(usize::from(h.index())) {
                *o = owner;
            }
        }
        let new = Child {
            spi_in: child.spi_in,
            spi_out: child.spi_out,
            inbound,
            outbound,
            installed_at: now,
        };
        // Keep the newest two: the current pair and, during a rekey, the
        // one it replaces (its inbound side still takes late packets).
        let old = self.peers[slot].as_mut().and_then(|p| {
            if let Some(free) = p.children.iter_mut().find(|c| c.is_none()) {
                *free = Some(new);
                return None;
            }
            let oldest = p
                .children
                .iter_mut()
                .min_by_key(|c| c.map_or(Duration::ZERO, |c| c.installed_at))?;
            oldest.replace(new)
        });
        if let Some(old) = old {
            self.remove_child_sas(&old);
        }
        if let Some(remote) = v4(child.remote)
            && let Some(p) = self.peers[slot].as_mut()
        {
            p.remote = remote;
            if matches!(
                child.encapsulation,
                ike_core::Encapsulation::UdpTransport { .. }
            ) {
                p.nat = true;
            }
            if p.phase == Phase::Ipsec {
                p.phase = Phase::Connecting;
            }
        }
        self.debug(
            DebugClass::Event,
            1,
            format_args!(
                "IPsec: SA pair in {:#010x} out {:#010x} installed",
                child.spi_in, child.spi_out
            ),
        );
    }

    fn reserved_handle(&self, spi: u32) -> Option<esp_core::Handle> {
        self.esp.lookup_reserved(spi)
    }
}
