//! The board's own services on the gateway's inside address, for clients
//! (through the tunnel) and for the LAN: ICMP echo (RFC 792) and UDP echo
//! (RFC 862, port 7), answered in place. Pure code on byte slices (the
//! fuzz target `firmware_forward` includes this file).

use core::net::Ipv4Addr;

use super::ipv4;

/// UDP echo (RFC 862).
pub const ECHO_PORT: u16 = 7;

/// Answers a packet addressed to the board itself, in place: an ICMP echo
/// request (RFC 792) becomes its reply, a UDP datagram to port 7 (RFC 862)
/// goes back to where it came from. Returns the length of the answer (an
/// IPv4 packet at the start of `packet`), or `None` when the packet is not
/// for these services (or malformed: nothing is read beyond its lengths).
pub fn serve_inside(packet: &mut [u8], inside: Ipv4Addr) -> Option<usize> {
    let first = *packet.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let header_len = usize::from(first & 0x0f) * 4;
    if header_len < ipv4::HEADER_LEN || packet.len() < header_len {
        return None;
    }
    let total_len = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
    if total_len < header_len || total_len > packet.len() {
        return None;
    }
    let frag = u16::from_be_bytes([packet[6], packet[7]]);
    if frag & 0x3fff != 0 || packet[16..20] != inside.octets() {
        return None;
    }
    let protocol = packet[9];
    let (header, rest) = packet.split_at_mut(header_len);
    let payload = rest.get_mut(..total_len - header_len)?;
    match protocol {
        1 => {
            // ICMP echo request (type 8, code 0) -> echo reply (type 0).
            if payload.len() < 8 || payload[0] != 8 || payload[1] != 0 {
                return None;
            }
            if ipv4::ones_complement_sum(payload) != 0xffff {
                return None;
            }
            payload[0] = 0;
            payload[2..4].fill(0);
            let sum = !ipv4::ones_complement_sum(payload);
            payload[2..4].copy_from_slice(&sum.to_be_bytes());
        }
        17 => {
            if payload.len() < 8 {
                return None;
            }
            let udp_len = usize::from(u16::from_be_bytes([payload[4], payload[5]]));
            if u16::from_be_bytes([payload[2], payload[3]]) != ECHO_PORT
                || udp_len < 8
                || udp_len > payload.len()
            {
                return None;
            }
            let (src_port, dst_port) = ([payload[0], payload[1]], [payload[2], payload[3]]);
            payload[0..2].copy_from_slice(&dst_port);
            payload[2..4].copy_from_slice(&src_port);
            // Zero: no checksum (RFC 768); a client still accepts it.
            payload[6..8].fill(0);
        }
        _ => return None,
    }
    // Swap the addresses, fresh TTL, header checksum anew.
    let mut src = [0u8; 4];
    src.copy_from_slice(&header[12..16]);
    header.copy_within(16..20, 12);
    header[16..20].copy_from_slice(&src);
    header[8] = 64;
    header[10..12].fill(0);
    let sum = !ipv4::ones_complement_sum(header);
    header[10..12].copy_from_slice(&sum.to_be_bytes());
    Some(total_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INSIDE_ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
    const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 10);

    fn packet(protocol: u8, payload: &[u8], dst: Ipv4Addr) -> Vec<u8> {
        let mut p = vec![0u8; 20];
        let (h, _) = p.split_at_mut(20);
        let h: &mut [u8; 20] = h.try_into().unwrap();
        ipv4::emit_header(h, CLIENT, dst, protocol, 7, payload.len()).unwrap();
        p.extend_from_slice(payload);
        p
    }

    fn icmp_echo(kind: u8) -> Vec<u8> {
        let mut m = vec![kind, 0, 0, 0, 0x12, 0x34, 0, 1];
        m.extend_from_slice(b"abcdefgh");
        let sum = !ipv4::ones_complement_sum(&m);
        m[2..4].copy_from_slice(&sum.to_be_bytes());
        m
    }

    #[test]
    fn ping_is_answered_in_place() {
        let mut p = packet(1, &icmp_echo(8), INSIDE_ADDRESS);
        p.extend_from_slice(&[0xee; 8]); // tail beyond the packet
        let n = serve_inside(&mut p, INSIDE_ADDRESS).unwrap();
        assert_eq!(n, 36);
        assert_eq!(p[12..16], INSIDE_ADDRESS.octets());
        assert_eq!(p[16..20], CLIENT.octets());
        assert_eq!(ipv4::ones_complement_sum(&p[..20]), 0xffff, "IP checksum");
        assert_eq!(p[20], 0, "echo reply");
        assert_eq!(
            ipv4::ones_complement_sum(&p[20..36]),
            0xffff,
            "ICMP checksum"
        );
        assert_eq!(&p[28..36], b"abcdefgh");
    }

    #[test]
    fn udp_echo_swaps_the_ports() {
        let mut udp = vec![0x9c, 0x40, 0, 7, 0, 13, 0x12, 0x34];
        udp.extend_from_slice(b"hello");
        let mut p = packet(17, &udp, INSIDE_ADDRESS);
        let n = serve_inside(&mut p, INSIDE_ADDRESS).unwrap();
        assert_eq!(n, 33);
        assert_eq!(p[20..24], [0, 7, 0x9c, 0x40]);
        assert_eq!(&p[28..33], b"hello");
        assert_eq!(p[16..20], CLIENT.octets());
    }

    #[test]
    fn other_traffic_and_garbage_are_not_answered() {
        let other = Ipv4Addr::new(192, 168, 1, 5);
        assert_eq!(
            serve_inside(&mut packet(1, &icmp_echo(8), other), INSIDE_ADDRESS),
            None
        );
        assert_eq!(
            serve_inside(
                &mut packet(1, &icmp_echo(0), INSIDE_ADDRESS),
                INSIDE_ADDRESS
            ),
            None
        );
        let mut bad = icmp_echo(8);
        bad[9] ^= 1;
        assert_eq!(
            serve_inside(&mut packet(1, &bad, INSIDE_ADDRESS), INSIDE_ADDRESS),
            None
        );
        let udp = [0, 1, 0, 9, 0, 8, 0, 0];
        assert_eq!(
            serve_inside(&mut packet(17, &udp, INSIDE_ADDRESS), INSIDE_ADDRESS),
            None
        );
        // Truncations of a valid request never panic and are never answered.
        let p = packet(1, &icmp_echo(8), INSIDE_ADDRESS);
        for cut in 0..p.len() {
            let mut t = p[..cut].to_vec();
            assert_eq!(serve_inside(&mut t, INSIDE_ADDRESS), None, "cut at {cut}");
        }
        // Arbitrary bytes never panic.
        let mut x: u32 = 1;
        for _ in 0..2000 {
            let mut buf = [0u8; 48];
            for b in &mut buf {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                *b = x.to_le_bytes()[0];
            }
            buf[0] = 0x45;
            let _ = serve_inside(&mut buf, INSIDE_ADDRESS);
        }
    }
}
