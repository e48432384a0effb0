//! The client against a small in-test server whose cryptography is the
//! crate's `crypto` module, itself checked against the zeek capture's
//! packets (`src/crypto.rs` tests). FreeRADIUS is the independent judge in
//! the gateway's tests.
#![allow(clippy::cast_possible_truncation)]

use radius_core::crypto::{self, find_message_authenticator};
use radius_core::wire::PacketBuilder;
use radius_core::{
    AccessRequest, AccountingRequest, AcctStatusType, AcctTerminateCause, AttributeType, Client,
    Code, Credentials, Error, Event, GroupConfig, MsAttributeType, NasInfo, Packet, ServerConfig,
    ServerId, Service,
};
use std::time::Duration;

const SECRET: &[u8] = b"testing123";

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Answers a request the way a RADIUS server does: Response Authenticator,
/// and a Message-Authenticator when asked to.
fn respond(
    request: &[u8],
    secret: &[u8],
    code: Code,
    attrs: &[(AttributeType, &[u8])],
    with_ma: bool,
) -> Vec<u8> {
    let req = Packet::new_checked(request).unwrap();
    let ra = req.authenticator();
    let mut buf = vec![0u8; 4096];
    let mut b = PacketBuilder::new(&mut buf, code, req.identifier(), &ra).unwrap();
    for (t, v) in attrs {
        b.split(*t, v).unwrap();
    }
    let ma = with_ma.then(|| {
        b.attribute(AttributeType::MessageAuthenticator, &[0; 16])
            .unwrap()
    });
    let packet = b.finish();
    if let Some(at) = ma {
        let mac = crypto::message_authenticator(packet, &ra, at, secret);
        packet[at..at + 16].copy_from_slice(&mac);
    }
    let auth = crypto::packet_authenticator(packet, &ra, secret);
    packet[4..20].copy_from_slice(&auth);
    packet.to_vec()
}

fn drain(
    client: &mut Client<8>,
    now: Duration,
    rng: &mut rand_chacha::ChaCha20Rng,
) -> Vec<(ServerId, Service, Vec<u8>)> {
    let mut out = Vec::new();
    let mut buf = [0u8; 2048];
    while let Some(t) = client.poll_transmit(now, rng, &mut buf).unwrap() {
        out.push((t.server, t.service, buf[..t.len].to_vec()));
    }
    out
}

fn pap(user: &'static [u8], password: &'static [u8]) -> AccessRequest<'static> {
    AccessRequest {
        user_name: user,
        credentials: Credentials::Pap { password },
        nas: NasInfo {
            nas_port: Some(7),
            l2tp: true,
            calling_station_id: Some(b"198.51.100.7"),
            ..NasInfo::default()
        },
    }
}

#[test]
fn pap_request_is_well_formed_and_accept_is_delivered() {
    let mut rng = testkit::rng(1);
    let mut client = Client::<8>::new(GroupConfig::default());
    let server = client.add_server(&ServerConfig::new(SECRET)).unwrap();
    let id = client
        .access_request(secs(0), &pap(b"alice", b"s3cret-Pass"))
        .unwrap();
    let sent = drain(&mut client, secs(0), &mut rng);
    assert_eq!(sent.len(), 1);
    let (to, service, request) = &sent[0];
    assert_eq!((*to, *service), (server, Service::Authentication));

    // What a server sees.
    let p = Packet::new_checked(&request[..]).unwrap();
    assert_eq!(p.code(), Code::AccessRequest);
    let first = p.attributes().next().unwrap().unwrap();
    assert_eq!(
        first.kind,
        AttributeType::MessageAuthenticator,
        "BlastRADIUS: first"
    );
    let at = find_message_authenticator(&p).unwrap();
    assert_eq!(
        crypto::message_authenticator(request, &p.authenticator(), at, SECRET),
        request[at..at + 16]
    );
    let mut hidden = p.attribute(AttributeType::UserPassword).unwrap().to_vec();
    assert_eq!(hidden.len(), 16);
    let n = crypto::unhide_user_password(SECRET, &p.authenticator(), &mut hidden).unwrap();
    assert_eq!(&hidden[..n], b"s3cret-Pass");
    assert_eq!(p.attribute(AttributeType::UserName), Some(&b"alice"[..]));
    assert_eq!(
        p.attribute(AttributeType::TunnelType),
        Some(&[0, 0, 0, 3][..])
    );
    assert_eq!(p.attribute(AttributeType::NasPort), Some(&[0, 0, 0, 7][..]));
    assert_eq!(
        p.attribute(AttributeType::CallingStationId),
        Some(&b"198.51.100.7"[..])
    );

    let accept = respond(
        request,
        SECRET,
        Code::AccessAccept,
        &[
            (AttributeType::FramedIpAddress, &[10, 1, 1, 9]),
            (AttributeType::SessionTimeout, &[0, 0, 14, 16]),
        ],
        false,
    );
    // A forged copy (wrong secret) and a copy with a wrong identifier change nothing.
    let forged = respond(request, b"wrong", Code::AccessAccept, &[], false);
    assert!(matches!(
        client.handle_datagram(server, &forged),
        Err(Error::Crypto(_))
    ));
    let mut other_id = accept.clone();
    other_id[1] ^= 1;
    assert_eq!(
        client.handle_datagram(server, &other_id),
        Err(Error::Unexpected)
    );
    assert_eq!(client.poll_event(), None);

    client.handle_datagram(server, &accept).unwrap();
    assert_eq!(
        client.poll_event(),
        Some(Event::Reply {
            request: id,
            code: Code::AccessAccept,
            server
        })
    );
    assert_eq!(client.poll_event(), None);
    let reply = client.reply(id).unwrap();
    assert_eq!(
        reply.attribute(AttributeType::FramedIpAddress),
        Some(&[10, 1, 1, 9][..])
    );
    // A duplicate of the answer is unexpected now.
    assert_eq!(
        client.handle_datagram(server, &accept),
        Err(Error::Unexpected)
    );
    client.release(id).unwrap();
    assert_eq!(client.release(id), Err(Error::StaleRequest));
    assert!(client.reply(id).is_none());
    assert_eq!(client.in_flight(), 0);
    assert_eq!(client.counters().dropped, 3);
}

#[test]
fn retransmission_then_failover_then_timeout() {
    let mut rng = testkit::rng(2);
    let mut client = Client::<8>::new(GroupConfig {
        max_failed_attempts: 1,
        ..GroupConfig::default()
    });
    // Server A: retry every 3 s, give up after 9 s (3 transmissions).
    let a = client
        .add_server(&ServerConfig {
            retry_interval: secs(3),
            timeout: secs(9),
            ..ServerConfig::new(SECRET)
        })
        .unwrap();
    let b = client
        .add_server(&ServerConfig::new(b"other-secret"))
        .unwrap();
    let id = client.access_request(secs(0), &pap(b"bob", b"pw")).unwrap();

    let mut log = Vec::new();
    let mut now = secs(0);
    loop {
        for (server, _, bytes) in drain(&mut client, now, &mut rng) {
            log.push((now.as_secs(), server, bytes));
        }
        let Some(next) = client.poll_timeout() else {
            break;
        };
        now = next;
        client.handle_timeout(now);
    }
    let when: Vec<(u64, ServerId)> = log.iter().map(|(t, s, _)| (*t, *s)).collect();
    assert_eq!(when, [(0, a), (3, a), (6, a), (9, b)]);
    // Retransmissions to one server are identical (RFC 5080 §2.2.1) ...
    assert_eq!(log[0].2, log[1].2);
    assert_eq!(log[1].2, log[2].2);
    // ... the failover is re-encoded for the other server's secret.
    let p = Packet::new_checked(&log[3].2[..]).unwrap();
    let mut hidden = p.attribute(AttributeType::UserPassword).unwrap().to_vec();
    let n = crypto::unhide_user_password(b"other-secret", &p.authenticator(), &mut hidden).unwrap();
    assert_eq!(&hidden[..n], b"pw");

    let events: Vec<Event> = std::iter::from_fn(|| client.poll_event()).collect();
    // a failed at 9 s, b at its own timeout after that: the group is down
    // until the first of them is back, its dead time (10 minutes by
    // default) after it failed.
    assert!(client.all_failed(now, Service::Authentication));
    assert!(client.all_failed(secs(9 + 599), Service::Authentication));
    assert!(!client.all_failed(secs(9 + 600), Service::Authentication));
    assert!(events.contains(&Event::ServerFailed { server: a }));
    assert!(events.contains(&Event::ServerFailed { server: b }));
    assert!(events.contains(&Event::TimedOut { request: id }));
    assert_eq!(client.in_flight(), 0);
    assert_eq!(client.counters().timeouts, 1);
    assert_eq!(client.counters().retransmissions, 2);

    // Both servers are dead now: depletion mode tries the first again.
    client.access_request(now, &pap(b"carol", b"pw")).unwrap();
    assert_eq!(drain(&mut client, now, &mut rng)[0].0, a);
}

#[test]
fn mschapv2_and_eap_attributes() {
    let mut rng = testkit::rng(3);
    let mut client = Client::<8>::new(GroupConfig::default());
    let server = client.add_server(&ServerConfig::new(SECRET)).unwrap();
    let challenge = [0x11u8; 16];
    let mut response = [0u8; 49];
    response[..16].copy_from_slice(&[0x22; 16]); // peer challenge
    response[24..48].copy_from_slice(&[0x33; 24]); // NT-Response
    response[48] = 0; // flags
    client
        .access_request(
            secs(0),
            &AccessRequest {
                user_name: b"alice",
                credentials: Credentials::MsChapV2 {
                    ident: 7,
                    challenge: &challenge,
                    response: &response,
                },
                nas: NasInfo::default(),
            },
        )
        .unwrap();
    let eap = [0x02u8; 600];
    let eap_id = client
        .access_request(
            secs(0),
            &AccessRequest {
                user_name: b"alice",
                credentials: Credentials::Eap {
                    message: &eap,
                    state: Some(b"state-1"),
                },
                nas: NasInfo::default(),
            },
        )
        .unwrap();
    let sent = drain(&mut client, secs(0), &mut rng);
    assert_eq!(sent.len(), 2);
    assert_ne!(
        sent[0].2[1], sent[1].2[1],
        "distinct identifiers towards one server"
    );

    let p = Packet::new_checked(&sent[0].2[..]).unwrap();
    assert_eq!(
        p.ms_attribute(MsAttributeType::MsChapChallenge),
        Some(&challenge[..])
    );
    let v = p.ms_attribute(MsAttributeType::MsChap2Response).unwrap();
    assert_eq!(v.len(), 50);
    assert_eq!((v[0], v[1]), (7, 0), "ident, flags");
    assert_eq!(&v[2..18], &[0x22; 16]);
    assert_eq!(&v[26..50], &[0x33; 24]);

    let p = Packet::new_checked(&sent[1].2[..]).unwrap();
    let eap_back: Vec<u8> = p
        .attributes()
        .map(Result::unwrap)
        .filter(|a| a.kind == AttributeType::EapMessage)
        .flat_map(|a| a.value.iter().copied())
        .collect();
    assert_eq!(eap_back, eap);
    assert_eq!(p.attribute(AttributeType::State), Some(&b"state-1"[..]));

    // An Access-Challenge with EAP but no Message-Authenticator is refused
    // (RFC 3579 §3.2); with one it is taken.
    let bare = respond(
        &sent[1].2,
        SECRET,
        Code::AccessChallenge,
        &[(AttributeType::EapMessage, &[1, 2, 0, 4])],
        false,
    );
    assert!(matches!(
        client.handle_datagram(server, &bare),
        Err(Error::Crypto(_))
    ));
    let good = respond(
        &sent[1].2,
        SECRET,
        Code::AccessChallenge,
        &[(AttributeType::EapMessage, &[1, 2, 0, 4])],
        true,
    );
    client.handle_datagram(server, &good).unwrap();
    assert_eq!(
        client.poll_event(),
        Some(Event::Reply {
            request: eap_id,
            code: Code::AccessChallenge,
            server
        })
    );
}

#[test]
fn accounting_start_and_stop() {
    let mut rng = testkit::rng(4);
    let mut client = Client::<8>::new(GroupConfig::default());
    let server = client.add_server(&ServerConfig::new(SECRET)).unwrap();
    let stop = AccountingRequest {
        status: AcctStatusType::Stop,
        session_id: b"0000000a",
        user_name: b"alice",
        framed_ip_address: Some([192, 0, 2, 10].into()),
        class: Some(b"class-from-accept"),
        input_octets: (5 << 32) + 17,
        output_octets: 1000,
        input_packets: 3,
        output_packets: 4,
        session_time: Some(65),
        terminate_cause: Some(AcctTerminateCause::UserRequest),
        nas: NasInfo {
            l2tp: true,
            ..NasInfo::default()
        },
    };
    let id = client.accounting_request(secs(100), &stop).unwrap();
    // Sent two seconds later: Acct-Delay-Time says so.
    let sent = drain(&mut client, secs(102), &mut rng);
    let (_, service, request) = &sent[0];
    assert_eq!(*service, Service::Accounting);
    let p = Packet::new_checked(&request[..]).unwrap();
    assert_eq!(p.code(), Code::AccountingRequest);
    assert_eq!(
        crypto::packet_authenticator(request, &[0; 16], SECRET),
        p.authenticator(),
        "RFC 2866 §3"
    );
    let u32_of = |t| u32::from_be_bytes(p.attribute(t).unwrap().try_into().unwrap());
    assert_eq!(u32_of(AttributeType::AcctStatusType), 2);
    assert_eq!(u32_of(AttributeType::AcctDelayTime), 2);
    assert_eq!(u32_of(AttributeType::AcctInputOctets), 17);
    assert_eq!(u32_of(AttributeType::AcctInputGigawords), 5);
    assert_eq!(u32_of(AttributeType::AcctOutputOctets), 1000);
    assert!(p.attribute(AttributeType::AcctOutputGigawords).is_none());
    assert_eq!(u32_of(AttributeType::AcctSessionTime), 65);
    assert_eq!(u32_of(AttributeType::AcctTerminateCause), 1);
    assert_eq!(
        p.attribute(AttributeType::Class),
        Some(&b"class-from-accept"[..])
    );
    assert!(find_message_authenticator(&p).is_none());

    // An Access-Accept is no answer to accounting.
    let wrong = respond(request, SECRET, Code::AccessAccept, &[], false);
    assert_eq!(
        client.handle_datagram(server, &wrong),
        Err(Error::WrongCode)
    );
    let ok = respond(request, SECRET, Code::AccountingResponse, &[], false);
    client.handle_datagram(server, &ok).unwrap();
    assert_eq!(
        client.poll_event(),
        Some(Event::Reply {
            request: id,
            code: Code::AccountingResponse,
            server
        })
    );
    client.release(id).unwrap();
}

#[test]
fn capacity_and_malformed_datagrams() {
    let mut rng = testkit::rng(5);
    let mut client = Client::<2>::new(GroupConfig::default());
    assert_eq!(
        client.access_request(secs(0), &pap(b"x", b"y")),
        Err(Error::NoServer)
    );
    let server = client.add_server(&ServerConfig::new(SECRET)).unwrap();
    client.access_request(secs(0), &pap(b"a", b"1")).unwrap();
    client.access_request(secs(0), &pap(b"b", b"2")).unwrap();
    assert_eq!(
        client.access_request(secs(0), &pap(b"c", b"3")),
        Err(Error::TooManyRequests)
    );
    let long = [b'p'; 129];
    let mut c2 = Client::<2>::new(GroupConfig::default());
    c2.add_server(&ServerConfig::new(SECRET)).unwrap();
    assert_eq!(
        c2.access_request(
            secs(0),
            &AccessRequest {
                user_name: b"u",
                credentials: Credentials::Pap { password: &long },
                nas: NasInfo::default()
            }
        ),
        Err(Error::PasswordTooLong)
    );
    assert_eq!(c2.in_flight(), 0, "a refused request leaves no slot behind");
    drain_two(&mut client, &mut rng);
    for bad in [&[][..], &[2, 0, 0, 19][..], &[2, 0, 0, 40, 0, 0][..]] {
        assert!(matches!(
            client.handle_datagram(server, bad),
            Err(Error::Malformed(_))
        ));
    }
}

fn drain_two(client: &mut Client<2>, rng: &mut rand_chacha::ChaCha20Rng) {
    let mut buf = [0u8; 2048];
    while client
        .poll_transmit(secs(0), rng, &mut buf)
        .unwrap()
        .is_some()
    {}
}
