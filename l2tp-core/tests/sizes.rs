//! The memory budget of issue 4: a tunnel and a session together take at
//! most 768 bytes (docs/PERFORMANCE.md has the figures).

use l2tp_core::{Endpoint, session_size, tunnel_size};

#[test]
fn tunnel_and_session_fit_the_budget() {
    assert!(tunnel_size::<u64>() + session_size() <= 768);
    // The endpoint is its tables plus a fixed part that does not grow with them.
    let fixed = size_of::<Endpoint<u64, 1, 1>>() - tunnel_size::<u64>() - session_size();
    let big = size_of::<Endpoint<u64, 64, 64>>();
    assert!(big <= 64 * (tunnel_size::<u64>() + session_size()) + fixed + 64 * 8);
}
