//! Our LNS against a Windows-like LAC whose messages are written here byte
//! by byte from the RFC 2661 field layouts (§3.1 header, §4.1 AVP header,
//! §4.4 values), independently of the crate's emitter: framing sync only,
//! empty bearer capabilities, firmware 0x0a00, vendor "Microsoft", receive
//! window 8, a Microsoft (vendor 311) AVP in the ICRQ. Then the data
//! channel with length, sequence and offset, the Q.931 cause of a CDN, and
//! the StopCCN.

use core::time::Duration;

use l2tp_core::wire::{Message, MessageType, Packet};
use l2tp_core::{Config, Endpoint, Error, Event, Origin, Reason, Received, SessionHandle};

/// One AVP, vendor 0 unless given (RFC 2661 §4.1: M bit, 10-bit length).
fn avp(mandatory: bool, vendor: u16, attr: u16, value: &[u8]) -> Vec<u8> {
    let [hi, lo] = u16::try_from(6 + value.len()).unwrap().to_be_bytes();
    let mut v = vec![(if mandatory { 0x80 } else { 0 }) | hi, lo];
    v.extend_from_slice(&vendor.to_be_bytes());
    v.extend_from_slice(&attr.to_be_bytes());
    v.extend_from_slice(value);
    v
}

fn msg_type(t: u16) -> Vec<u8> {
    avp(true, 0, 0, &t.to_be_bytes())
}

/// A control message: T, L, S set, version 2 (RFC 2661 §3.1).
fn ctl(tunnel: u16, session: u16, ns: u16, nr: u16, avps: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = avps.concat();
    let len = u16::try_from(12 + body.len()).unwrap();
    let mut v = vec![0xc8, 0x02];
    for f in [len, tunnel, session, ns, nr] {
        v.extend_from_slice(&f.to_be_bytes());
    }
    v.extend_from_slice(&body);
    v
}

const WIN_TUNNEL: u16 = 0x0042;
const WIN_SESSION: u16 = 0x0001;

type Ep = Endpoint<u32, 8, 8>;

struct Lns {
    ep: Ep,
    rng: rand_chacha::ChaCha20Rng,
    now: Duration,
    out: Vec<Vec<u8>>,
    events: Vec<Event<u32>>,
}

impl Lns {
    fn feed(&mut self, mut b: Vec<u8>) -> Result<(Received, Vec<u8>), Error> {
        let r = self
            .ep
            .handle_datagram(self.now, 9, &mut b, &mut self.rng)?;
        let mut buf = [0u8; l2tp_core::MAX_CONTROL_LEN];
        while let Some(t) = self.ep.poll_transmit(self.now, &mut buf).unwrap() {
            assert_eq!(t.peer, 9);
            self.out.push(buf[..t.len].to_vec());
        }
        while let Some(e) = self.ep.poll_event() {
            self.events.push(e);
        }
        Ok((r, b))
    }

    fn last(&self) -> Packet<&[u8]> {
        Packet::new_checked(&self.out.last().unwrap()[..]).unwrap()
    }
}

#[test]
fn windows_like_client() {
    let mut lns = Lns {
        ep: Ep::new(Config::default()),
        rng: testkit::rng(3),
        now: Duration::ZERO,
        out: vec![],
        events: vec![],
    };
    let sccrq = ctl(
        0,
        0,
        0,
        0,
        &[
            msg_type(1),
            avp(true, 0, 2, &[1, 0]),
            avp(true, 0, 3, &1u32.to_be_bytes()),
            avp(true, 0, 4, &0u32.to_be_bytes()),
            avp(false, 0, 6, &[0x0a, 0x00]),
            avp(true, 0, 7, b"DESKTOP-W11"),
            avp(false, 0, 8, b"Microsoft"),
            avp(true, 0, 9, &WIN_TUNNEL.to_be_bytes()),
            avp(true, 0, 10, &8u16.to_be_bytes()),
        ],
    );
    lns.feed(sccrq).unwrap();
    let p = lns.last();
    assert_eq!(
        (p.tunnel_id(), p.session_id(), p.ns(), p.nr()),
        (WIN_TUNNEL, 0, Some(0), Some(1))
    );
    let sccrp = Message::parse(p.payload()).unwrap();
    assert_eq!(sccrp.message_type, MessageType::Sccrp);
    assert_eq!(sccrp.protocol_version, Some((1, 0)));
    assert_eq!(sccrp.receive_window_size, Some(4));
    let our_tunnel = sccrp.assigned_tunnel_id.unwrap();
    assert_ne!(our_tunnel, 0);

    lns.now += Duration::from_millis(20);
    lns.feed(ctl(our_tunnel, 0, 1, 1, &[msg_type(3)])).unwrap();
    assert!(matches!(lns.events[..], [Event::TunnelUp { peer: 9, .. }]));
    let t = lns.ep.tunnel_handles().next().unwrap();
    let info = lns.ep.tunnel(t).unwrap();
    assert_eq!(info.peer_host_name, b"DESKTOP-W11");
    assert_eq!(info.peer_vendor_name, b"Microsoft");
    assert_eq!(info.peer_firmware_revision, Some(0x0a00));
    assert_eq!(info.peer_receive_window, 8);
    assert_eq!(info.peer_framing_capabilities, 1);
    assert_eq!(info.remote_id, WIN_TUNNEL);

    let icrq = ctl(
        our_tunnel,
        0,
        2,
        1,
        &[
            msg_type(10),
            avp(true, 0, 14, &WIN_SESSION.to_be_bytes()),
            avp(true, 0, 15, &0x1234_5678u32.to_be_bytes()),
            avp(true, 0, 18, &0u32.to_be_bytes()),
            avp(false, 311, 1, &[0, 0, 0, 1]),
        ],
    );
    lns.feed(icrq).unwrap();
    let p = lns.last();
    assert_eq!(
        (p.tunnel_id(), p.session_id(), p.ns(), p.nr()),
        (WIN_TUNNEL, WIN_SESSION, Some(1), Some(3))
    );
    let icrp = Message::parse(p.payload()).unwrap();
    assert_eq!(icrp.message_type, MessageType::Icrp);
    let our_session = icrp.assigned_session_id.unwrap();
    let session: SessionHandle = match lns.events[1] {
        Event::IncomingCall { session, .. } => session,
        ref e => panic!("{e:?}"),
    };
    assert_eq!(
        lns.ep.session(session).unwrap().call_serial_number,
        0x1234_5678
    );

    let iccn = ctl(
        our_tunnel,
        our_session,
        3,
        2,
        &[
            msg_type(12),
            avp(true, 0, 24, &100_000_000u32.to_be_bytes()),
            avp(true, 0, 19, &1u32.to_be_bytes()),
            avp(true, 0, 39, &[]),
        ],
    );
    lns.feed(iccn).unwrap();
    assert_eq!(lns.events[2], Event::SessionUp { tunnel: t, session });
    let p = lns.last();
    assert!(p.payload().is_empty(), "ZLB for the ICCN");
    assert_eq!((p.ns(), p.nr()), (Some(2), Some(4)));
    let s = lns.ep.session(session).unwrap();
    assert!(s.sequencing, "Sequencing Required honoured");
    assert_eq!((s.tx_connect_speed, s.framing_type), (100_000_000, 1));

    // Data with L and S (RFC 2661 §3.1): LCP Configure-Request.
    let lcp = [0xff, 0x03, 0xc0, 0x21, 0x01, 0x01, 0x00, 0x04];
    let mut d = vec![0x48, 0x02, 0, 20];
    for f in [our_tunnel, our_session, 0, 0] {
        d.extend_from_slice(&f.to_be_bytes());
    }
    d.extend_from_slice(&lcp);
    let (r, b) = lns.feed(d).unwrap();
    let Received::Data {
        session: s2,
        payload,
    } = r
    else {
        panic!()
    };
    assert_eq!((s2, &b[payload.clone()]), (session, &lcp[..]));
    assert_eq!(payload, 12..20);
    // With L, S and O: a 3-byte offset pad before the frame.
    let mut d = vec![0x4a, 0x02, 0, 25];
    for f in [our_tunnel, our_session, 1, 0, 3] {
        d.extend_from_slice(&f.to_be_bytes());
    }
    d.extend_from_slice(&[0xee; 3]);
    d.extend_from_slice(&lcp);
    let (r, b) = lns.feed(d).unwrap();
    let Received::Data { payload, .. } = r else {
        panic!()
    };
    assert_eq!(&b[payload], &lcp[..]);
    // An older Ns is dropped (RFC 2661 §5.4).
    let mut d = vec![0x08, 0x02];
    for f in [our_tunnel, our_session, 0, 0] {
        d.extend_from_slice(&f.to_be_bytes());
    }
    d.extend_from_slice(&lcp);
    assert_eq!(lns.feed(d).unwrap_err(), Error::OutOfSequence);
    let c = lns.ep.session(session).unwrap().counters;
    assert_eq!((c.rx_packets, c.rx_bytes, c.rx_out_of_sequence), (2, 16, 1));

    // Our data toward Windows carries Ns because it asked for sequencing.
    let mut buf = [0u8; 64];
    buf[16..24].copy_from_slice(&lcp);
    let (peer, range) = lns
        .ep
        .send_data(lns.now, session, &mut buf, 16..24)
        .unwrap();
    assert_eq!(peer, 9);
    assert_eq!(range, 6..24);
    assert_eq!(
        &buf[6..16],
        &[0x08, 0x02, 0x00, 0x42, 0x00, 0x01, 0, 0, 0, 0]
    );
    let (_, range) = lns
        .ep
        .send_data(lns.now, session, &mut buf, 16..24)
        .unwrap();
    assert_eq!(
        &buf[range.start + 6..range.start + 8],
        &[0, 1],
        "Ns counts up"
    );

    // CDN with a Q.931 cause (RFC 2661 §4.4.2: cause 16, message type 0x2d).
    let cdn = ctl(
        our_tunnel,
        our_session,
        4,
        2,
        &[
            msg_type(14),
            avp(true, 0, 1, &[0, 3, 0, 0]),
            avp(true, 0, 12, &[0, 16, 0x2d]),
            avp(true, 0, 14, &WIN_SESSION.to_be_bytes()),
        ],
    );
    lns.feed(cdn).unwrap();
    assert_eq!(
        lns.events[3],
        Event::SessionDown {
            tunnel: t,
            session,
            reason: Some(Reason {
                result: 3,
                error: Some(0)
            }),
            q931: Some((16, 0x2d)),
            origin: Origin::Peer,
        }
    );

    let stop = ctl(
        our_tunnel,
        0,
        5,
        2,
        &[
            msg_type(4),
            avp(true, 0, 9, &WIN_TUNNEL.to_be_bytes()),
            avp(true, 0, 1, &[0, 1]),
        ],
    );
    lns.feed(stop).unwrap();
    assert_eq!(
        lns.events[4],
        Event::TunnelDown {
            tunnel: t,
            peer: 9,
            reason: Some(Reason::CLEAR),
            origin: Origin::Peer
        }
    );
    let p = lns.last();
    assert!(
        p.payload().is_empty() && p.nr() == Some(6),
        "StopCCN acknowledged"
    );
    // A repeated StopCCN during the hold is acknowledged again.
    let stop = ctl(
        our_tunnel,
        0,
        5,
        2,
        &[
            msg_type(4),
            avp(true, 0, 9, &WIN_TUNNEL.to_be_bytes()),
            avp(true, 0, 1, &[0, 1]),
        ],
    );
    let before = lns.out.len();
    lns.feed(stop).unwrap();
    assert_eq!(lns.out.len(), before + 1);
    lns.now += Duration::from_secs(32);
    lns.ep.handle_timeout(lns.now);
    assert_eq!(lns.ep.tunnel_handles().count(), 0, "freed after the hold");
}

#[test]
fn sccrq_of_an_unsupported_version_is_refused() {
    let mut lns = Lns {
        ep: Ep::new(Config::default()),
        rng: testkit::rng(4),
        now: Duration::ZERO,
        out: vec![],
        events: vec![],
    };
    let sccrq = ctl(
        0,
        0,
        0,
        0,
        &[
            msg_type(1),
            avp(true, 0, 2, &[3, 0]),
            avp(true, 0, 3, &1u32.to_be_bytes()),
            avp(true, 0, 7, b"v3"),
            avp(true, 0, 9, &7u16.to_be_bytes()),
        ],
    );
    lns.feed(sccrq).unwrap();
    let p = lns.last();
    assert_eq!((p.tunnel_id(), p.ns(), p.nr()), (7, Some(0), Some(1)));
    let m = Message::parse(p.payload()).unwrap();
    assert_eq!(m.message_type, MessageType::StopCcn);
    // Result 5, the error code carries the highest version we support, 1.0.
    let rc = m.result_code.unwrap();
    assert_eq!((rc.result, rc.error), (5, Some(0x0100)));
    assert_eq!(lns.ep.tunnel_handles().count(), 0);
    // An L2TPv3 header (version 3) is not ours at all.
    let mut v3 = vec![0xc8, 0x03, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0];
    assert!(matches!(
        lns.ep.handle_datagram(lns.now, 9, &mut v3, &mut lns.rng),
        Err(Error::Malformed(_))
    ));
}
