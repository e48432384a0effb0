//! What L2TP reports, acted on: the tunnel of a client, its call (one PPP
//! link per client, as the appliance has), and their ends.

use super::peer::Phase;
use super::{Gateway, TerminateCause};
use crate::debug::DebugClass;
use core::time::Duration;
use l2tp_core::{Event as L2tpEvent, Origin, Reason};

impl<const N: usize, const IKE: usize, const ESP: usize, const X: usize, const R: usize>
    Gateway<N, IKE, ESP, X, R>
{
    /// Drains L2TP's events; returns whether there were any.
    pub(super) fn drain_l2tp(
        &mut self,
        now: Duration,
        rng: &mut impl rand_core::CryptoRng,
    ) -> bool {
        let mut any = false;
        while let Some(event) = self.l2tp.poll_event() {
            any = true;
            self.on_l2tp(now, event, rng);
        }
        any
    }

    fn on_l2tp(
        &mut self,
        now: Duration,
        event: L2tpEvent<super::PeerId>,
        rng: &mut impl rand_core::CryptoRng,
    ) {
        match event {
            L2tpEvent::TunnelUp { tunnel, peer } => {
                if let Some(slot) = self.peer_slot(peer) {
                    if let Some(p) = self.peers[slot].as_mut() {
                        // A second tunnel from the same client replaces the first.
                        let old = p.tunnel.replace(tunnel);
                        if let Some(old) = old.filter(|&o| o != tunnel) {
                            let _ = self.l2tp.close_tunnel(now, old, Reason::CLEAR);
                        }
                    }
                    let ids = self.l2tp.tunnel(tunnel).map(|t| (t.local_id, t.remote_id));
                    self.debug(
                        DebugClass::Event,
                        1,
                        format_args!("L2TP: tunnel up, ids {:?}, peer {}", ids, slot),
                    );
                } else {
                    let _ = self.l2tp.close_tunnel(now, tunnel, Reason::CLEAR);
                }
            }
            L2tpEvent::TunnelDown {
                tunnel,
                peer,
                origin,
                ..
            } => {
                if let Some(slot) = self.peer_slot(peer)
                    && self.peers[slot]
                        .as_ref()
                        .is_some_and(|p| p.tunnel == Some(tunnel))
                {
                    if let Some(p) = self.peers[slot].as_mut() {
                        p.tunnel = None;
                    }
                    let cause = match origin {
                        Origin::Peer => TerminateCause::UserRequest,
                        Origin::Timeout => TerminateCause::LostCarrier,
                        _ => TerminateCause::NasRequest,
                    };
                    self.teardown(now, slot, cause);
                }
            }
            L2tpEvent::IncomingCall { tunnel, session } => {
                let slot = self
                    .l2tp
                    .tunnel(tunnel)
                    .map(|t| t.peer)
                    .and_then(|peer| self.peer_slot(peer));
                let Some(slot) = slot else {
                    let _ = self.l2tp.disconnect(session, Reason::NO_FACILITIES);
                    return;
                };
                let busy = self.peers[slot]
                    .as_ref()
                    .is_some_and(|p| p.call.is_some() || p.closing());
                if busy {
                    let _ = self.l2tp.disconnect(session, Reason::NO_FACILITIES);
                    return;
                }
                if let Some(p) = self.peers[slot].as_mut() {
                    p.call = Some(session);
                }
                self.create_link(now, slot);
            }
            L2tpEvent::SessionUp { session, .. } => {
                let slot = self
                    .peers
                    .iter()
                    .position(|p| p.as_ref().is_some_and(|p| p.call == Some(session)));
                if let Some(slot) = slot {
                    self.open_link(now, slot, rng);
                }
            }
            L2tpEvent::SessionDown {
                session, origin, ..
            } => {
                let slot = self
                    .peers
                    .iter()
                    .position(|p| p.as_ref().is_some_and(|p| p.call == Some(session)));
                if let Some(slot) = slot {
                    if let Some(p) = self.peers[slot].as_mut() {
                        p.call = None;
                        if let Some(link) = p.link.as_mut() {
                            link.lower_down(now);
                        }
                    }
                    let cause = match origin {
                        Origin::Peer => TerminateCause::UserRequest,
                        Origin::Timeout => TerminateCause::LostCarrier,
                        _ => TerminateCause::NasRequest,
                    };
                    let up = self.peers[slot]
                        .as_ref()
                        .is_some_and(|p| p.phase != Phase::Ipsec);
                    if up {
                        self.teardown(now, slot, cause);
                    }
                }
            }
        }
    }
}
