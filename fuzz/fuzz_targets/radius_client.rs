//! The RADIUS client driven by arbitrary requests, datagrams (arbitrary, or
//! genuine answers with arbitrary damage) and timeouts. Nothing may panic,
//! every request ends (answered, released or timed out), and no slot leaks.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use radius_core::crypto;
use radius_core::wire::PacketBuilder;
use radius_core::{
    AccessRequest, AccountingRequest, AcctStatusType, AttributeType, Client, Code, Credentials,
    Event, GroupConfig, NasInfo, Packet, ServerConfig, ServerId,
};
use rand_core::SeedableRng;
use std::time::Duration;

#[derive(Arbitrary, Debug)]
enum Step {
    Pap {
        user: Vec<u8>,
        password: Vec<u8>,
    },
    Eap {
        message: Vec<u8>,
    },
    Accounting {
        stop: bool,
        octets: u64,
    },
    Garbage {
        server: u8,
        bytes: Vec<u8>,
    },
    Answer {
        code: u8,
        attrs: Vec<(u8, Vec<u8>)>,
        flip: Option<u16>,
        ma: bool,
    },
    Advance {
        secs: u8,
    },
    Release,
}

fuzz_target!(|steps: Vec<Step>| {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(0);
    let mut client = Client::<4, 1024>::new(GroupConfig::default());
    let a = client.add_server(&ServerConfig::new(b"one")).unwrap();
    let _b = client
        .add_server(&ServerConfig {
            retry_interval: Duration::from_secs(2),
            timeout: Duration::from_secs(5),
            ..ServerConfig::new(b"two")
        })
        .unwrap();
    let secret = |s: ServerId| if s == a { &b"one"[..] } else { &b"two"[..] };
    let mut now = Duration::ZERO;
    let mut last: Option<(ServerId, Vec<u8>)> = None;
    let mut replies = Vec::new();
    let mut buf = vec![0u8; 1100];
    for step in steps.iter().take(64) {
        match step {
            Step::Pap { user, password } => {
                let _ = client.access_request(
                    now,
                    &AccessRequest {
                        user_name: &user[..user.len().min(253)],
                        credentials: Credentials::Pap { password },
                        nas: NasInfo {
                            l2tp: true,
                            ..NasInfo::default()
                        },
                    },
                );
            }
            Step::Eap { message } => {
                let _ = client.access_request(
                    now,
                    &AccessRequest {
                        user_name: b"u",
                        credentials: Credentials::Eap {
                            message,
                            state: None,
                        },
                        nas: NasInfo::default(),
                    },
                );
            }
            Step::Accounting { stop, octets } => {
                let _ = client.accounting_request(
                    now,
                    &AccountingRequest {
                        status: if *stop {
                            AcctStatusType::Stop
                        } else {
                            AcctStatusType::Start
                        },
                        session_id: b"1",
                        user_name: b"u",
                        framed_ip_address: None,
                        class: None,
                        input_octets: *octets,
                        output_octets: *octets,
                        input_packets: 0,
                        output_packets: 0,
                        session_time: None,
                        terminate_cause: None,
                        nas: NasInfo::default(),
                    },
                );
            }
            Step::Garbage { server, bytes } => {
                let _ = client.handle_datagram(ServerId(server % 3), bytes);
            }
            Step::Answer {
                code,
                attrs,
                flip,
                ma,
            } => {
                if let Some((server, request)) = &last {
                    let req = Packet::new_checked(&request[..]).unwrap();
                    let ra = req.authenticator();
                    let mut out = vec![0u8; 4096];
                    let mut builder =
                        PacketBuilder::new(&mut out, Code::from(*code), req.identifier(), &ra)
                            .unwrap();
                    for (t, v) in attrs.iter().take(8) {
                        let _ = builder.attribute(AttributeType::from(*t), &v[..v.len().min(253)]);
                    }
                    let at = ma
                        .then(|| {
                            builder
                                .attribute(AttributeType::MessageAuthenticator, &[0; 16])
                                .ok()
                        })
                        .flatten();
                    let packet = builder.finish();
                    if let Some(at) = at {
                        let m = crypto::message_authenticator(packet, &ra, at, secret(*server));
                        packet[at..at + 16].copy_from_slice(&m);
                    }
                    let auth = crypto::packet_authenticator(packet, &ra, secret(*server));
                    packet[4..20].copy_from_slice(&auth);
                    let mut packet = packet.to_vec();
                    if let Some(f) = flip {
                        let i = usize::from(*f) % packet.len();
                        packet[i] ^= 1;
                    }
                    let _ = client.handle_datagram(*server, &packet);
                }
            }
            Step::Advance { secs } => {
                now += Duration::from_secs(u64::from(*secs % 30));
                client.handle_timeout(now);
            }
            Step::Release => {
                if let Some(id) = replies.pop() {
                    client.release(id).unwrap();
                }
            }
        }
        while let Ok(Some(t)) = client.poll_transmit(now, &mut rng, &mut buf) {
            last = Some((t.server, buf[..t.len].to_vec()));
        }
        while let Some(e) = client.poll_event() {
            if let Event::Reply { request, .. } = e {
                assert!(client.reply(request).is_some());
                replies.push(request);
            }
        }
    }
    // Everything ends: release the answers, let the rest time out.
    for id in replies.drain(..) {
        client.release(id).unwrap();
    }
    for _ in 0..100 {
        while let Ok(Some(_)) = client.poll_transmit(now, &mut rng, &mut buf) {}
        while let Some(e) = client.poll_event() {
            if let Event::Reply { request, .. } = e {
                client.release(request).unwrap();
            }
        }
        let Some(t) = client.poll_timeout() else {
            break;
        };
        now = t;
        client.handle_timeout(now);
    }
    while let Some(e) = client.poll_event() {
        if let Event::Reply { request, .. } = e {
            client.release(request).unwrap();
        }
    }
    assert_eq!(client.in_flight(), 0, "no request slot leaks");
});
