//! A Windows-like client against our authenticator. Windows' built-in
//! L2TP/IPsec client offers Callback (CBCP), Multilink MRRU and an Endpoint
//! Discriminator in LCP, sends Identification packets once LCP is up, then
//! CCP (MPPE), IPCP with VJ compression and DNS/WINS requests, and IPv6CP.
//! No Windows capture exists in the reference set, so the frames are built
//! here from the RFC layouts of what Windows is documented to send; the
//! checks are RFC 1661's answers: Configure-Reject of exactly the unwanted
//! options, verbatim; silence for Identification; Protocol-Reject for CCP,
//! IPv6CP and MPLSCP; an IPCP Reject of VJ, then Naks with address, DNS and
//! WINS; and the link Opened with all of them.

mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use common::*;
use hex_literal::hex;
use ppp_core::crypto::{self, NtHash};
use ppp_core::wire::chap::{self, SuccessMessage};
use ppp_core::{AuthMethod, Event, Link, Received, State};

const WINS2: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 138);

struct Gateway {
    link: Link,
    rng: rand_chacha::ChaCha20Rng,
    now: Duration,
    out: Vec<Vec<u8>>,
    ups: Vec<ppp_core::Ipv4Config>,
    hash: NtHash,
}

impl Gateway {
    fn send(&mut self, frame: &[u8]) -> Result<Received, ppp_core::Error> {
        self.now += Duration::from_millis(20);
        let mut f = frame.to_vec();
        let r = self.link.handle_frame(self.now, &mut f, &mut self.rng);
        self.drain();
        r
    }

    fn drain(&mut self) {
        let mut buf = [0u8; 1500];
        loop {
            while let Some(n) = self.link.poll_transmit(self.now, &mut buf).unwrap() {
                self.out.push(buf[..n].to_vec());
            }
            let now = self.now;
            let decision = match self.link.poll_event() {
                None => break,
                Some(Event::AuthRequest(r)) => Some(r.credentials.verify(&self.hash)),
                Some(Event::AddressRequest) => {
                    self.link.set_peer_address(now, POOL_ADDRESS).unwrap();
                    None
                }
                Some(Event::NetworkUp(c)) => {
                    self.ups.push(c);
                    None
                }
                Some(_) => None,
            };
            match decision {
                Some(Some(a)) => self.link.accept(now, a).unwrap(),
                Some(None) => self.link.reject(now).unwrap(),
                None => {}
            }
        }
    }

    /// The frames sent since the last call.
    fn take(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.out)
    }
}

fn lcp(code: u8, id: u8, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0xff, 0x03, 0xc0, 0x21, code, id, 0, 0];
    f[6..8].copy_from_slice(&u16::try_from(4 + data.len()).unwrap().to_be_bytes());
    f.extend_from_slice(data);
    f
}

fn ncp(proto: u16, code: u8, id: u8, data: &[u8]) -> Vec<u8> {
    let mut f = lcp(code, id, data);
    f[2..4].copy_from_slice(&proto.to_be_bytes());
    f
}

#[test]
fn windows_negotiation_reaches_ipcp_opened_with_address_dns_and_wins() {
    let mut c = authenticator_config(&[AuthMethod::MsChapV2]);
    c.ipcp.nbns = [Some(WINS1), Some(WINS2)];
    let mut g = Gateway {
        link: Link::new(&c).unwrap(),
        rng: testkit::rng(42),
        now: Duration::from_secs(5),
        out: Vec::new(),
        ups: Vec::new(),
        hash: NtHash::from_password_bytes(PASSWORD),
    };
    let now = g.now;
    g.link.open(now, &mut g.rng);
    g.drain();
    let ours = g.take();
    assert_eq!(ours.len(), 1);
    let our_request = ours[0].clone();
    assert_eq!(&our_request[..5], &[0xff, 0x03, 0xc0, 0x21, 1]);
    // MRU 1400 and MS-CHAP-V2 asked for; Magic-Number present.
    assert_eq!(&our_request[8..17], &hex!("01 04 05 78 03 05 c2 23 81"));
    assert_eq!(our_request[17..19], [5, 6]);

    // Windows' first Configure-Request: MRU 1400, Magic, PFC, ACFC,
    // Callback with operation 6 (CBCP), MRRU 1614, Endpoint Discriminator
    // class 1 with a 20-octet address.
    let callback = hex!("0d 03 06");
    let mrru = hex!("11 04 06 4e");
    let ed = hex!("13 17 01 a4 f1 b7 2c 9d 4e 11 d0 83 6a 00 50 56 c0 00 08 00 00 00 00");
    let mut opts = hex!("01 04 05 78 05 06 3c 1d 7a 9b 07 02 08 02").to_vec();
    opts.extend_from_slice(&callback);
    opts.extend_from_slice(&mrru);
    opts.extend_from_slice(&ed);
    assert_eq!(g.send(&lcp(1, 0, &opts)), Ok(Received::Control));
    let out = g.take();
    assert_eq!(out.len(), 1);
    let mut rejected = callback.to_vec();
    rejected.extend_from_slice(&mrru);
    rejected.extend_from_slice(&ed);
    assert_eq!(
        out[0],
        lcp(4, 0, &rejected),
        "exactly the three options, verbatim"
    );

    // Windows Acks our request and sends the rest again.
    g.send(&lcp(2, our_request[5], &our_request[8..])).unwrap();
    assert!(g.take().is_empty());
    let opts2 = hex!("01 04 05 78 05 06 3c 1d 7a 9b 07 02 08 02");
    g.send(&lcp(1, 1, &opts2)).unwrap();
    let out = g.take();
    assert_eq!(out[0], lcp(2, 1, &opts2), "Ack, byte for byte");
    assert_eq!(g.link.lcp_state(), State::Opened);
    // The challenge follows the Ack (LCP Opened in both directions).
    let challenge_frame = out
        .iter()
        .find(|f| f[2..4] == [0xc2, 0x23])
        .unwrap()
        .clone();
    let chap::Repr::Challenge {
        identifier, value, ..
    } = chap::Repr::parse(&challenge_frame[4..]).unwrap()
    else {
        panic!()
    };
    let auth_ch: [u8; 16] = value.try_into().unwrap();

    // Identification packets (RFC 1570): silently accepted.
    let mut ident = hex!("3c 1d 7a 9b").to_vec();
    ident.extend_from_slice(b"MSRASV5.20");
    assert_eq!(g.send(&lcp(12, 2, &ident)), Ok(Received::Control));
    let mut ident = hex!("3c 1d 7a 9b").to_vec();
    ident.extend_from_slice(b"MSRAS-0-DESKTOP-42");
    assert_eq!(g.send(&lcp(12, 3, &ident)), Ok(Received::Control));
    assert!(g.take().is_empty());

    // The MS-CHAP-V2 Response, as Windows computes it (user with domain).
    let user = b"CORP\\alice";
    let peer_ch = hex!("21402324255E262A28295F2B3A337C7E");
    let nt = crypto::mschap_v2_nt_response(&auth_ch, &peer_ch, user, &g.hash);
    let mut value = peer_ch.to_vec();
    value.extend_from_slice(&[0; 8]);
    value.extend_from_slice(&nt);
    value.push(0);
    let resp = chap::Repr::Response {
        identifier,
        value: &value,
        name: user,
    };
    let mut f = vec![0xff, 0x03, 0xc2, 0x23];
    let mut body = vec![0u8; resp.buffer_len()];
    resp.emit(&mut body);
    f.extend_from_slice(&body);
    g.send(&f).unwrap();
    let out = g.take();
    let success = out
        .iter()
        .find(|f| f[2..5] == [0xc2, 0x23, 3])
        .expect("Success");
    let chap::Repr::Success { message, .. } = chap::Repr::parse(&success[4..]).unwrap() else {
        panic!()
    };
    let s = crypto::authenticator_response(&g.hash, &nt, &peer_ch, &auth_ch, user);
    assert_eq!(
        SuccessMessage::parse(message)
            .unwrap()
            .authenticator_response,
        s
    );
    let ipcp_request = out
        .iter()
        .find(|f| f[2..5] == [0x80, 0x21, 1])
        .expect("our IPCP request")
        .clone();
    assert_eq!(&ipcp_request[8..], &hex!("03 06 c0 00 02 01"));

    // CCP with MPPE: Protocol-Reject carrying 0x80FD and the start of the
    // rejected packet.
    let ccp = ncp(0x80fd, 1, 4, &hex!("12 06 01 00 00 60"));
    assert_eq!(
        g.send(&ccp),
        Err(ppp_core::Error::UnsupportedProtocol(0x80fd))
    );
    let out = g.take();
    assert_eq!(out.len(), 1);
    assert_eq!(&out[0][4..5], &[8]);
    assert_eq!(&out[0][8..10], &[0x80, 0xfd]);
    assert_eq!(&out[0][10..], &ccp[4..]);

    // IPCP with VJ compression and every address option at zero.
    let vj = hex!("02 06 00 2d 0f 01");
    let asks = hex!("03 06 00000000 81 06 00000000 82 06 00000000 83 06 00000000 84 06 00000000");
    let mut req = vj.to_vec();
    req.extend_from_slice(&asks);
    g.send(&ncp(0x8021, 1, 5, &req)).unwrap();
    let out = g.take();
    assert_eq!(
        out,
        vec![ncp(0x8021, 4, 5, &vj)],
        "Reject of VJ alone, verbatim"
    );

    // IPv6CP and MPLSCP: Protocol-Reject.
    for proto in [0x8057u16, 0x8281, 0xc029] {
        let f = ncp(proto, 1, 1, &hex!("01 0a 11 22 33 44 55 66 77 88"));
        assert_eq!(g.send(&f), Err(ppp_core::Error::UnsupportedProtocol(proto)));
        let out = g.take();
        assert_eq!(out.len(), 1, "{proto:04x}");
        assert_eq!(out[0][4], 8);
        assert_eq!(out[0][8..10], proto.to_be_bytes());
    }

    // Again without VJ: a Nak with the address, DNS and WINS servers.
    g.send(&ncp(0x8021, 1, 6, &asks)).unwrap();
    let out = g.take();
    let nak = hex!(
        "03 06 c0 00 02 0a 81 06 c0 00 02 35 82 06 c0 00 02 89 83 06 c6 33 64 35 84 06 c0 00 02 8a"
    );
    assert_eq!(out, vec![ncp(0x8021, 3, 6, &nak)]);
    // Windows Acks our request and asks with the Nak's values.
    g.send(&ncp(0x8021, 2, ipcp_request[5], &ipcp_request[8..]))
        .unwrap();
    g.send(&ncp(0x8021, 1, 7, &nak)).unwrap();
    let out = g.take();
    assert_eq!(out, vec![ncp(0x8021, 2, 7, &nak)]);
    assert_eq!(g.link.ipcp_state(), State::Opened);
    assert_eq!(
        g.ups,
        vec![ppp_core::Ipv4Config {
            local: LOCAL_ADDRESS,
            peer: POOL_ADDRESS,
            dns: [Some(DNS1), Some(DNS2)],
            nbns: [Some(WINS1), Some(WINS2)],
        }]
    );
    // Data flows; the peer asked for PFC and ACFC, so our frames are
    // compressed to one octet of header.
    let d = ipv4_datagram(LOCAL_ADDRESS, POOL_ADDRESS, b"x");
    let mut buf = vec![0u8; 4 + d.len()];
    buf[4..].copy_from_slice(&d);
    let end = buf.len();
    let r = g.link.encapsulate_ipv4(g.now, &mut buf, 4..end).unwrap();
    assert_eq!(r.start, 3);
    assert_eq!(buf[3], 0x21);
    let mut up = vec![0x21];
    up.extend_from_slice(&d);
    assert_eq!(g.send(&up), Ok(Received::Ipv4(1..up.len())));
    assert_eq!(
        g.link.counters().rx_discarded,
        4,
        "CCP, IPv6CP, MPLSCP, CBCP"
    );
}

#[test]
fn data_before_ipcp_is_dropped_and_counted() {
    let c = authenticator_config(&[AuthMethod::Pap]);
    let mut link = Link::new(&c).unwrap();
    let mut rng = testkit::rng(1);
    link.open(Duration::ZERO, &mut rng);
    let mut f = vec![0xff, 0x03, 0x00, 0x21, 0x45, 0, 0, 20];
    assert_eq!(
        link.handle_frame(Duration::ZERO, &mut f, &mut rng),
        Err(ppp_core::Error::NetworkNotOpen)
    );
    assert_eq!(link.counters().rx_discarded, 1);
    let mut buf = [0u8; 64];
    assert_eq!(
        link.encapsulate_ipv4(Duration::ZERO, &mut buf, 4..30),
        Err(ppp_core::Error::NetworkNotOpen)
    );
    assert_eq!(link.counters().tx_dropped, 1);
    // No Protocol-Reject for IPv4: it is a protocol we run (RFC 1661 §3.5).
    while let Some(n) = link.poll_transmit(Duration::ZERO, &mut buf).unwrap() {
        assert_ne!(buf[4], 8, "{:02x?}", &buf[..n]);
    }
}
