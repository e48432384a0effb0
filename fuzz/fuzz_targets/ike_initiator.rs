//! `Endpoint` as initiator: every message the responder sends may be
//! dropped, duplicated, reordered, corrupted or truncated, arbitrary
//! datagrams are injected, the clock jumps, and commands run in between.
//! See `ike_pair.rs`.
#![no_main]

#[path = "ike_pair.rs"]
mod ike_pair;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: ike_pair::Input| {
    let mut h = ike_pair::Harness::new(&input);
    h.run(&input, ike_pair::Side::Initiator);
});
