//! What the host port parses itself, before the gateway sees anything: the
//! IPv4 header of a packet from the raw ESP socket (network input), an
//! operator line from the control socket or standard input, a command
//! line, and `/etc/resolv.conf`. None may panic; a stripped header's range
//! lies inside the packet.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let len = data.len();
    if let Some((range, _dst)) = lns_host::sys::strip_ipv4_header(data, 0..len) {
        assert!(range.start >= 20 && range.end == len && range.start <= range.end);
    }
    let text = String::from_utf8_lossy(data);
    let _ = lns_host::console::classify(&text);
    let _ = lns_host::cli::parse(text.split(['\0', ' ']).map(String::from).collect());
    let _ = lns_host::cli::parse_cidr(&text);
    let _ = lns_host::defaults::host_dns(&text);
});
