//! The ISAKMP codec on arbitrary bytes: the header, the payload chain and
//! every payload representation must parse without panicking, and what
//! parses must survive emit -> parse unchanged. Then the other direction:
//! messages built from arbitrary payloads with `MessageWriter` must parse
//! back to the same payloads, and a buffer that is too small must say how
//! much it needed. CBC decryption of arbitrary lengths must refuse, not
//! panic.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use ike_core::crypto::CipherAlg;
use ike_core::policy::{parse_esp_transform, parse_ike_transform};
use ike_core::wire::{
    Attribute, CertRepr, DeleteRepr, ExchangeType, Flags, Header, HeaderRepr, IdRepr,
    MessageWriter, NatOaRepr, NotifyRepr, Payload, PayloadIter, PayloadType, SaRepr, VendorId,
    Writer,
};
use libfuzzer_sys::fuzz_target;

/// What the fuzzer's bytes also say besides themselves: the first payload
/// type of the chain, the payloads to build, the too-small buffer and the
/// cipher. The bytes themselves are the message to parse, so that the seed
/// corpus (`fuzz/seeds/ike_codec/`, real ISAKMP messages) starts deep.
#[derive(Arbitrary, Debug)]
struct Input {
    first: u8,
    built: Vec<(u8, Vec<u8>)>,
    small: u16,
    cipher: CipherAlg,
}

fn reparse<T: PartialEq + std::fmt::Debug>(
    body: &[u8],
    parse: impl Fn(&[u8]) -> Option<T>,
    emit: impl Fn(&T, &mut Writer<'_>),
) {
    let Some(a) = parse(body) else { return };
    let mut out = vec![0u8; body.len() + 8];
    let mut w = Writer::new(&mut out);
    emit(&a, &mut w);
    let n = w.finish().expect("emit fits the parsed size");
    let b = parse(&out[..n]).expect("emitted bytes parse");
    assert_eq!(a, b);
}

fn payload(p: &Payload<'_>) {
    let b = p.body;
    match p.kind {
        PayloadType::Sa => {
            if let Ok(sa) = SaRepr::parse(b) {
                for prop in sa.proposals.clone().flatten() {
                    for t in prop.transforms.clone().flatten() {
                        let _ = parse_ike_transform(&t);
                        let _ = parse_esp_transform(&t);
                        for a in t.attributes.clone().flatten() {
                            let _ = a.as_u64();
                            let mut out = vec![0u8; a.buffer_len()];
                            let mut w = Writer::new(&mut out);
                            a.emit(&mut w);
                            assert_eq!(w.finish(), Ok(a.buffer_len()));
                        }
                    }
                }
                let mut out = vec![0u8; sa.buffer_len()];
                let mut w = Writer::new(&mut out);
                sa.emit(&mut w);
                assert_eq!(w.finish(), Ok(sa.buffer_len()));
                assert_eq!(&out[..], b);
            }
        }
        PayloadType::Identification => reparse(
            b,
            |x| {
                IdRepr::parse(x)
                    .ok()
                    .map(|i| (i.id_type, i.protocol, i.port, i.data.to_vec()))
            },
            |(t, p, port, d), w| {
                IdRepr {
                    id_type: *t,
                    protocol: *p,
                    port: *port,
                    data: d,
                }
                .emit(w);
            },
        ),
        PayloadType::Certificate | PayloadType::CertificateRequest => reparse(
            b,
            |x| {
                CertRepr::parse(x)
                    .ok()
                    .map(|c| (c.encoding, c.data.to_vec()))
            },
            |(e, d), w| {
                CertRepr {
                    encoding: *e,
                    data: d,
                }
                .emit(w)
            },
        ),
        PayloadType::Notification => reparse(
            b,
            |x| {
                NotifyRepr::parse(x).ok().map(|n| {
                    (
                        n.doi,
                        n.protocol,
                        n.notify_type,
                        n.spi.to_vec(),
                        n.data.to_vec(),
                    )
                })
            },
            |(doi, p, t, spi, d), w| {
                NotifyRepr {
                    doi: *doi,
                    protocol: *p,
                    notify_type: *t,
                    spi,
                    data: d,
                }
                .emit(w);
            },
        ),
        PayloadType::Delete => reparse(
            b,
            |x| {
                DeleteRepr::parse(x)
                    .ok()
                    .map(|d| (d.protocol, d.spi_size, d.spis.collect::<Vec<_>>().concat()))
            },
            |(p, s, spis), w| DeleteRepr::new(*p, *s, spis).emit(w),
        ),
        PayloadType::NatOa | PayloadType::NatOaDraft => {
            reparse(b, |x| NatOaRepr::parse(x).ok(), |r, w| r.emit(w));
        }
        PayloadType::VendorId => {
            let v = VendorId(b);
            let _ = (v.known(), v.ms_nt5_version());
        }
        _ => {}
    }
}

fuzz_target!(|raw: &[u8]| {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(raw)) else {
        return;
    };
    // Arbitrary bytes as a message.
    if let Ok(h) = Header::new_checked(raw) {
        if let Ok(r) = HeaderRepr::parse(&h) {
            let mut out = [0u8; 28];
            let mut w = Writer::new(&mut out);
            r.emit(&mut w);
            assert_eq!(w.finish(), Ok(28));
            assert_eq!(&out[..], &raw[..28]);
        }
        for p in PayloadIter::new(h.next_payload().into(), h.payload()).flatten() {
            assert!(p.end() <= h.payload().len());
            payload(&p);
        }
    }
    // Arbitrary bytes as a chain and as each payload body.
    for p in PayloadIter::new(input.first.into(), raw).flatten() {
        payload(&p);
    }
    for kind in [1u8, 5, 6, 11, 12, 13, 21, 131] {
        payload(&Payload {
            kind: kind.into(),
            next: PayloadType::None,
            body: raw,
            offset: 0,
            len: raw.len() + 4,
        });
    }
    let _ = Attribute::emit_u32;

    // Built messages parse back.
    let hdr = HeaderRepr {
        initiator_cookie: [1; 8],
        responder_cookie: [2; 8],
        next_payload: PayloadType::None,
        major_version: 1,
        minor_version: 0,
        exchange_type: ExchangeType::IdentityProtection,
        flags: Flags::empty(),
        message_id: 0,
        length: 0,
    };
    let payloads: Vec<(PayloadType, &[u8])> = input
        .built
        .iter()
        .take(16)
        .filter(|(k, b)| *k != 0 && b.len() <= 1000)
        .map(|(k, b)| (PayloadType::from(*k), &b[..]))
        .collect();
    let mut buf = vec![0u8; 28 + payloads.iter().map(|(_, b)| b.len() + 4).sum::<usize>()];
    let mut m = MessageWriter::new(&mut buf, &hdr);
    for (k, b) in &payloads {
        m.payload(*k, b);
    }
    let len = m.finish().expect("sized exactly");
    assert_eq!(len, buf.len());
    let h = Header::new_checked(&buf[..]).unwrap();
    let back: Vec<(PayloadType, &[u8])> = PayloadIter::new(h.next_payload().into(), h.payload())
        .map(|p| p.map(|p| (p.kind, p.body)).unwrap())
        .collect();
    assert_eq!(back, payloads);
    // Too small: the error says exactly how much.
    let small = usize::from(input.small) % (len + 1);
    if small < len {
        let mut tiny = vec![0u8; small];
        let mut m = MessageWriter::new(&mut tiny, &hdr);
        for (k, b) in &payloads {
            m.payload(*k, b);
        }
        assert_eq!(m.finish().unwrap_err().needed, len);
    }

    // CBC on arbitrary lengths and IVs.
    let key = [7u8; 32];
    let mut iv = raw.iter().copied().take(16).collect::<Vec<_>>();
    let mut data = raw.to_vec();
    let ok = input
        .cipher
        .decrypt(&key[..input.cipher.key_len()], &mut iv, &mut data);
    assert_eq!(
        ok,
        iv.len() == input.cipher.block_len() && raw.len() % input.cipher.block_len() == 0
    );
});
