//! LCP and the automaton against scripted packets: each RFC 1661 rule on
//! the wire.

mod common;

use std::time::Duration;

use common::*;
use hex_literal::hex;
use ppp_core::{AuthMethod, DownReason, Error, Event, Link, Phase, Received, State};

struct Driver {
    link: Link,
    rng: rand_chacha::ChaCha20Rng,
    now: Duration,
    events: Vec<Ev>,
}

impl Driver {
    fn new(c: &ppp_core::Config) -> (Self, Vec<Vec<u8>>) {
        let mut d = Self {
            link: Link::new(c).unwrap(),
            rng: testkit::rng(9),
            now: Duration::from_secs(1),
            events: vec![],
        };
        let now = d.now;
        d.link.open(now, &mut d.rng);
        let out = d.out();
        (d, out)
    }

    fn out(&mut self) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        let mut buf = [0u8; 1500];
        while let Some(n) = self.link.poll_transmit(self.now, &mut buf).unwrap() {
            v.push(buf[..n].to_vec());
        }
        while let Some(e) = self.link.poll_event() {
            if let Event::AddressRequest = e {
                self.events.push(Ev::AddressRequest);
                let now = self.now;
                self.link.set_peer_address(now, POOL_ADDRESS).unwrap();
                continue;
            }
            self.events.push(own(&e));
        }
        while let Some(n) = self.link.poll_transmit(self.now, &mut buf).unwrap() {
            v.push(buf[..n].to_vec());
        }
        v
    }

    fn feed(&mut self, frame: &[u8]) -> (Result<Received, Error>, Vec<Vec<u8>>) {
        let mut f = frame.to_vec();
        let r = self.link.handle_frame(self.now, &mut f, &mut self.rng);
        (r, self.out())
    }

    fn wait(&mut self, d: Duration) -> Vec<Vec<u8>> {
        let end = self.now + d;
        let mut out = Vec::new();
        while let Some(t) = self.link.poll_timeout().filter(|t| *t <= end) {
            self.now = t;
            let now = self.now;
            self.link.handle_timeout(now, &mut self.rng);
            out.extend(self.out());
        }
        self.now = end;
        out
    }
}

fn lcp(code: u8, id: u8, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0xff, 0x03, 0xc0, 0x21, code, id, 0, 0];
    f[6..8].copy_from_slice(&u16::try_from(4 + data.len()).unwrap().to_be_bytes());
    f.extend_from_slice(data);
    f
}

fn no_auth() -> ppp_core::Config {
    let mut c = authenticator_config(&[]);
    c.echo_interval = None;
    c
}

/// Brings LCP to Opened with a plain peer request; returns our request.
fn open(d: &mut Driver, ours: &[u8]) {
    assert_eq!(
        d.feed(&lcp(2, ours[5], &ours[8..])).0,
        Ok(Received::Control)
    );
    let (_, out) = d.feed(&lcp(1, 1, &hex!("05 06 11 22 33 44")));
    assert_eq!(out[0], lcp(2, 1, &hex!("05 06 11 22 33 44")));
    assert_eq!(d.link.lcp_state(), State::Opened);
}

#[test]
fn mru_outside_the_tunnel_is_nakd() {
    let (mut d, _) = Driver::new(&no_auth());
    let (_, out) = d.feed(&lcp(1, 1, &hex!("01 04 05 dc 05 06 11 22 33 44")));
    assert_eq!(
        out,
        vec![lcp(3, 1, &hex!("01 04 05 78"))],
        "1500 > 1400: Nak 1400"
    );
    let (_, out) = d.feed(&lcp(1, 2, &hex!("01 04 00 64")));
    assert_eq!(
        out,
        vec![lcp(3, 2, &hex!("01 04 02 40"))],
        "100 < 576: Nak 576"
    );
    let (_, out) = d.feed(&lcp(1, 3, &hex!("01 04 04 00")));
    assert_eq!(out, vec![lcp(2, 3, &hex!("01 04 04 00"))]);
    assert_eq!(d.link.lcp_state(), State::AckSent);
}

#[test]
fn magic_number_zero_or_ours_is_nakd_with_another() {
    let (mut d, ours) = Driver::new(&no_auth());
    let magic = d.link.magic_number();
    let at = ours[0].windows(2).position(|w| w == [5, 6]).unwrap();
    assert_eq!(ours[0][at + 2..at + 6], magic.to_be_bytes());
    for (id, value) in [(1u8, 0u32), (2, magic)] {
        let (_, out) = d.feed(&lcp(1, id, &[&[5u8, 6][..], &value.to_be_bytes()].concat()));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0][4..6], [3, id]);
        assert_eq!(out[0][8..10], [5, 6]);
        let proposed = u32::from_be_bytes(out[0][10..14].try_into().unwrap());
        assert!(proposed != 0 && proposed != magic);
    }
}

#[test]
fn looped_back_link_is_detected() {
    // Everything we send comes back to us.
    let (mut d, mut pending) = Driver::new(&no_auth());
    for _ in 0..200 {
        let Some(frame) = pending.pop() else { break };
        let (_, out) = d.feed(&frame);
        pending.extend(out);
        if d.link.phase() == Phase::Dead {
            break;
        }
    }
    assert!(
        d.events.contains(&Ev::Down(DownReason::Loopback)),
        "{:?}",
        d.events
    );
}

#[test]
fn naks_become_rejects_after_max_failure() {
    let (mut d, _) = Driver::new(&no_auth());
    for id in 1..=5 {
        let (_, out) = d.feed(&lcp(1, id, &hex!("01 04 05 dc")));
        assert_eq!(out, vec![lcp(3, id, &hex!("01 04 05 78"))]);
    }
    let (_, out) = d.feed(&lcp(1, 6, &hex!("01 04 05 dc")));
    assert_eq!(
        out,
        vec![lcp(4, 6, &hex!("01 04 05 dc"))],
        "RFC 1661 §4.6 Max-Failure"
    );
}

#[test]
fn repeated_options_and_unknown_options_are_rejected() {
    let (mut d, _) = Driver::new(&no_auth());
    let (_, out) = d.feed(&lcp(1, 1, &hex!("07 02 07 02 fe 04 01 02 01 04 05 dc")));
    assert_eq!(
        out,
        vec![lcp(4, 1, &hex!("07 02 fe 04 01 02"))],
        "the reject wins over the MRU Nak"
    );
    // A known option with a wrong length is rejected too.
    let (_, out) = d.feed(&lcp(1, 2, &hex!("05 05 01 02 03")));
    assert_eq!(out, vec![lcp(4, 2, &hex!("05 05 01 02 03"))]);
    // Malformed option lists are not answered.
    let (r, out) = d.feed(&lcp(1, 3, &hex!("05 09 01 02 03")));
    assert!(matches!(r, Err(Error::Malformed(_))));
    assert!(out.is_empty());
}

#[test]
fn wrong_acks_and_rejects_are_discarded() {
    let (mut d, ours) = Driver::new(&no_auth());
    let ours = &ours[0];
    // Wrong identifier, then modified content.
    assert_eq!(
        d.feed(&lcp(2, ours[5].wrapping_add(1), &ours[8..])).0,
        Err(Error::Unexpected)
    );
    let mut changed = ours[8..].to_vec();
    changed[3] ^= 1;
    assert_eq!(d.feed(&lcp(2, ours[5], &changed)).0, Err(Error::Unexpected));
    // A Reject of an option we did not send.
    assert_eq!(
        d.feed(&lcp(4, ours[5], &hex!("07 02"))).0,
        Err(Error::Unexpected)
    );
    assert_eq!(d.link.lcp_state(), State::ReqSent);
    // The right Ack.
    assert_eq!(
        d.feed(&lcp(2, ours[5], &ours[8..])).0,
        Ok(Received::Control)
    );
    assert_eq!(d.link.lcp_state(), State::AckRcvd);
}

#[test]
fn reject_of_the_magic_number_is_honoured() {
    let (mut d, ours) = Driver::new(&no_auth());
    let ours = &ours[0];
    let at = ours.windows(2).position(|w| w == [5, 6]).unwrap();
    let (_, out) = d.feed(&lcp(4, ours[5], &ours[at..at + 6]));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0][4], 1);
    assert!(
        !out[0][8..].windows(2).any(|w| w == [5, 6]),
        "no Magic-Number any more"
    );
    assert_eq!(d.link.magic_number(), 0);
}

#[test]
fn unknown_codes_get_code_reject_and_catastrophic_code_rejects_end_the_link() {
    let (mut d, ours) = Driver::new(&no_auth());
    open(&mut d, &ours[0]);
    let (_, out) = d.feed(&lcp(0x42, 7, &hex!("01 02 03")));
    assert_eq!(
        out,
        vec![lcp(7, out[0][5], &lcp(0x42, 7, &hex!("01 02 03"))[4..])]
    );
    // Echo-Request rejected: permitted, the link stays.
    assert_eq!(
        d.feed(&lcp(7, 1, &hex!("09 01 00 08 00 00 00 00"))).0,
        Ok(Received::Control)
    );
    assert_eq!(d.link.lcp_state(), State::Opened);
    // Configure-Request rejected: catastrophic.
    assert_eq!(
        d.feed(&lcp(7, 2, &hex!("01 01 00 04"))).0,
        Ok(Received::Control)
    );
    assert_eq!(d.link.lcp_state(), State::Stopping);
    d.wait(Duration::from_secs(10));
    assert!(
        d.events.contains(&Ev::Down(DownReason::ProtocolRejected)),
        "{:?}",
        d.events
    );
}

#[test]
fn echo_request_is_answered_with_our_magic_and_the_data() {
    let (mut d, ours) = Driver::new(&no_auth());
    // Not answered before Opened.
    let (r, out) = d.feed(&lcp(9, 1, &hex!("11 22 33 44 aa bb")));
    assert_eq!((r, out.len()), (Err(Error::Unexpected), 0));
    open(&mut d, &ours[0]);
    let m = d.link.magic_number().to_be_bytes();
    let (_, out) = d.feed(&lcp(9, 5, &hex!("11 22 33 44 aa bb")));
    assert_eq!(out, vec![lcp(10, 5, &[&m[..], &hex!("aa bb")].concat())]);
    // Our own magic number in an Echo-Request: looped back, not answered.
    let (r, out) = d.feed(&lcp(9, 6, &m));
    assert_eq!((r, out.len()), (Err(Error::Unexpected), 0));
    // Discard-Request: nothing.
    assert!(d.feed(&lcp(11, 7, &hex!("11 22 33 44"))).1.is_empty());
}

#[test]
fn terminate_request_during_negotiation_is_acked() {
    let (mut d, _) = Driver::new(&no_auth());
    let (_, out) = d.feed(&lcp(5, 9, b"bye"));
    assert_eq!(out, vec![lcp(6, 9, &[])]);
    assert_eq!(d.link.lcp_state(), State::ReqSent);
}

#[test]
fn configure_request_in_opened_renegotiates() {
    let (mut d, ours) = Driver::new(&no_auth());
    open(&mut d, &ours[0]);
    assert_eq!(d.link.phase(), Phase::Network);
    let (_, out) = d.feed(&lcp(1, 2, &hex!("05 06 11 22 33 55")));
    // tld, scr, sca: a new request of ours and the Ack.
    assert_eq!(out.len(), 2, "{out:02x?}");
    assert!(out.iter().any(|f| f[4] == 1));
    assert!(out.contains(&lcp(2, 2, &hex!("05 06 11 22 33 55"))));
    assert_eq!(d.link.lcp_state(), State::AckSent);
    assert_eq!(d.link.phase(), Phase::Establish);
}

#[test]
fn peer_role_naks_an_authentication_it_does_not_do() {
    let c = peer_config(&[AuthMethod::MsChapV2, AuthMethod::Pap], PASSWORD);
    let (mut d, _) = Driver::new(&c);
    // CHAP-MD5 asked: Nak with our first choice, MS-CHAP-V2.
    let (_, out) = d.feed(&lcp(1, 1, &hex!("03 05 c2 23 05")));
    assert_eq!(out, vec![lcp(3, 1, &hex!("03 05 c2 23 81"))]);
    let (_, out) = d.feed(&lcp(1, 2, &hex!("03 04 c0 23")));
    assert_eq!(out, vec![lcp(2, 2, &hex!("03 04 c0 23"))]);
}

#[test]
fn authenticator_rejects_being_asked_to_authenticate() {
    let (mut d, _) = Driver::new(&authenticator_config(&[AuthMethod::Pap]));
    let (_, out) = d.feed(&lcp(1, 1, &hex!("03 04 c0 23 05 06 11 22 33 44")));
    assert_eq!(out, vec![lcp(4, 1, &hex!("03 04 c0 23"))]);
}

#[test]
fn peer_rejecting_authentication_closes_the_link() {
    let (mut d, ours) = Driver::new(&authenticator_config(&[AuthMethod::MsChapV2]));
    let ours = &ours[0];
    let (_, out) = d.feed(&lcp(4, ours[5], &hex!("03 05 c2 23 81")));
    assert_eq!(out[0][4], 5, "Terminate-Request");
    assert_eq!(d.feed(&lcp(6, out[0][5], &[])).0, Ok(Received::Control));
    assert!(
        d.events.contains(&Ev::Down(DownReason::AuthRefused)),
        "{:?}",
        d.events
    );
}

#[test]
fn frames_after_down_are_refused() {
    let (mut d, _) = Driver::new(&no_auth());
    let now = d.now;
    d.link.lower_down(now);
    assert_eq!(d.out(), Vec::<Vec<u8>>::new());
    assert_eq!(
        d.feed(&lcp(1, 1, &hex!("05 06 11 22 33 44"))).0,
        Err(Error::Unexpected)
    );
    assert!(d.events.contains(&Ev::Down(DownReason::LowerDown)));
}
