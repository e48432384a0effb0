//! Every ppp-core codec on arbitrary bytes: parse -> emit -> parse. A parse
//! may fail (with an error, never a panic); whatever parses must emit into
//! `buffer_len()` bytes without panicking, and parse back to the same value
//! (byte for byte where the format has one encoding).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ppp_core::wire::chap::{
    self, FailureMessage, MsChapV1Response, MsChapV2Response, SuccessMessage,
};
use ppp_core::wire::cp::{self, Options};
use ppp_core::wire::frame::{self, Frame};
use ppp_core::wire::ipcp::IpcpOption;
use ppp_core::wire::lcp::LcpOption;
use ppp_core::wire::{eap, pap};

fn control(data: &[u8], lcp: bool) {
    let Ok(p) = cp::Packet::new_checked(data) else {
        return;
    };
    let Ok(r) = cp::Repr::parse(&p, lcp) else {
        return;
    };
    let mut out = vec![0u8; r.buffer_len()];
    r.emit(&mut out);
    assert_eq!(out, p.as_bytes(), "one encoding");
    let p2 = cp::Packet::new_checked(&out[..]).unwrap();
    assert_eq!(cp::Repr::parse(&p2, lcp).unwrap(), r);
    if let cp::Repr::ConfigureRequest { options, .. }
    | cp::Repr::ConfigureAck { options, .. }
    | cp::Repr::ConfigureNak { options, .. }
    | cp::Repr::ConfigureReject { options, .. } = r
    {
        for o in Options::new(options) {
            let o = o.expect("parse validated the list");
            if let Ok(l) = LcpOption::parse(o) {
                let mut b = vec![0u8; l.buffer_len()];
                l.emit(&mut b);
                assert_eq!(b[0], o.kind);
                assert_eq!(&b[2..], o.data);
            }
            if let Ok(i) = IpcpOption::parse(o) {
                let mut b = vec![0u8; i.buffer_len()];
                i.emit(&mut b);
                assert_eq!(b[0], o.kind);
                assert_eq!(&b[2..], o.data);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // The frame header.
    if let Ok(f) = Frame::new_checked(data) {
        let r = frame::Repr::parse(&f);
        assert_eq!(r.header_len(), f.header_len());
        let mut h = [0u8; 4];
        r.emit(&mut h);
        assert_eq!(&h[..r.header_len()], &data[..r.header_len()]);
        assert!(f.payload().len() + f.header_len() == data.len());
    }
    // Every packet codec on the same bytes.
    control(data, true);
    control(data, false);
    if let Ok(r) = pap::Repr::parse(data) {
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut out);
        assert_eq!(pap::Repr::parse(&out).unwrap(), r);
    }
    if let Ok(r) = chap::Repr::parse(data) {
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut out);
        assert_eq!(out, data[..out.len()]);
        assert_eq!(chap::Repr::parse(&out).unwrap(), r);
    }
    if let Ok(r) = eap::Repr::parse(data) {
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut out);
        assert_eq!(eap::Repr::parse(&out).unwrap(), r);
        if let eap::Repr::Request { data: d, .. } = r {
            if let Ok(m) = eap::Md5Challenge::parse(d) {
                let mut b = vec![0u8; m.buffer_len()];
                m.emit(&mut b);
                assert_eq!(eap::Md5Challenge::parse(&b).unwrap(), m);
            }
        }
    }
    // The MS-CHAP value and message formats.
    if let Ok(v) = MsChapV1Response::parse(data) {
        assert_eq!(MsChapV1Response::parse(&v.to_bytes()).unwrap(), v);
    }
    if let Ok(v) = MsChapV2Response::parse(data) {
        assert_eq!(MsChapV2Response::parse(&v.to_bytes()).unwrap(), v);
    }
    if let Ok(m) = SuccessMessage::parse(data) {
        let mut b = vec![0u8; m.buffer_len()];
        m.emit(&mut b);
        assert_eq!(SuccessMessage::parse(&b).unwrap(), m);
    }
    if let Ok(m) = FailureMessage::parse(data) {
        let mut b = vec![0u8; m.buffer_len()];
        m.emit(&mut b);
        let again = FailureMessage::parse(&b).unwrap();
        assert_eq!(
            (again.error, again.retry, again.challenge(), again.version),
            (m.error, m.retry, m.challenge(), m.version)
        );
        assert_eq!(again.message, m.message);
    }
});
