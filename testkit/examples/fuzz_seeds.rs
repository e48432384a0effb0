//! Writes fuzz seed corpora drawn from the five reference L2TP/IPsec
//! sessions (`testdata/l2tp-ipsec/`, see `testdata/SOURCES.md`), whose ESP
//! this crate can open with the captured keys:
//!
//! - `ike_codec`: every ISAKMP message (non-ESP marker removed);
//! - `l2tp_codec`: every L2TP datagram carried inside ESP;
//! - `ppp_codec`: the PPP frame of every L2TP data message, and the PPP
//!   packet after its protocol field.
//!
//! Files are named `<session>-<kind>-<n>` and written once per distinct
//! content into `fuzz/seeds/<target>/` (or the directory given):
//!
//! ```sh
//! cargo run -p testkit --example fuzz_seeds [-- OUT_DIR]
//! ```

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use testkit::l2tp_ipsec::{Capture, sessions};

/// The PPP frame of an L2TP data message (RFC 2661 section 3.1), if any.
fn ppp_frame(l2tp: &[u8]) -> Option<&[u8]> {
    let flags = *l2tp.first()?;
    let version = l2tp.get(1)? & 0x0f;
    if flags & 0x80 != 0 || version != 2 {
        return None;
    }
    let mut at = 2;
    if flags & 0x40 != 0 {
        at += 2; // Length
    }
    at += 4; // Tunnel ID, Session ID
    if flags & 0x08 != 0 {
        at += 4; // Ns, Nr
    }
    if flags & 0x02 != 0 {
        let size = l2tp.get(at..at + 2)?;
        at += 2 + usize::from(u16::from_be_bytes([size[0], size[1]]));
    }
    l2tp.get(at..).filter(|f| !f.is_empty())
}

struct Seeds {
    dir: PathBuf,
    seen: HashSet<Vec<u8>>,
    written: usize,
}

impl Seeds {
    fn new(root: &Path, target: &str) -> Self {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).expect("create the seed directory");
        Seeds {
            dir,
            seen: HashSet::new(),
            written: 0,
        }
    }

    fn add(&mut self, name: &str, bytes: &[u8]) {
        if self.seen.insert(bytes.to_vec()) {
            let path = self.dir.join(format!("{name}-{}", self.written));
            std::fs::write(path, bytes).expect("write a seed");
            self.written += 1;
        }
    }
}

fn main() {
    let root = std::env::args().nth(1).map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/seeds")),
        PathBuf::from,
    );
    let mut ike = Seeds::new(&root, "ike_codec");
    let mut l2tp = Seeds::new(&root, "l2tp_codec");
    let mut ppp = Seeds::new(&root, "ppp_codec");
    for s in sessions() {
        for capture in [Capture::Loopback, Capture::LnsNic] {
            for m in s.ike_messages(capture) {
                ike.add(&format!("session-{}-isakmp", s.id), &m.bytes);
            }
            for d in s.l2tp_payloads(capture) {
                l2tp.add(&format!("session-{}-l2tp", s.id), &d.payload);
                if let Some(frame) = ppp_frame(&d.payload) {
                    ppp.add(&format!("session-{}-ppp-frame", s.id), frame);
                    // Address and control (FF 03) may be there; the
                    // protocol field is two octets here (no PFC in these
                    // sessions' control traffic).
                    let packet = frame.strip_prefix(&[0xff, 0x03]).unwrap_or(frame);
                    if let Some(p) = packet.get(2..).filter(|p| !p.is_empty()) {
                        ppp.add(&format!("session-{}-ppp-packet", s.id), p);
                    }
                }
            }
        }
    }
    for s in [&ike, &l2tp, &ppp] {
        println!("{}: {} seeds", s.dir.display(), s.written);
    }
}
