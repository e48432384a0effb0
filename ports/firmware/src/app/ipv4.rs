//! The few IPv4 header operations the raw ESP socket needs (RFC 791): a raw
//! socket hands over and takes whole IP packets.

use core::net::Ipv4Addr;
use core::ops::Range;

/// Length of an IPv4 header without options: the headroom the run loop
/// leaves in front of an outgoing ESP packet.
pub const HEADER_LEN: usize = 20;

/// IP protocol number of ESP (RFC 4303 §2, IANA).
pub const PROTOCOL_ESP: u8 = 50;

/// RFC 1071 one's-complement sum of `data` (16-bit big-endian words, an odd
/// last byte padded with zero), folded to 16 bits, not yet complemented.
pub fn ones_complement_sum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    // The loop above leaves at most 16 bits.
    u16::try_from(sum).unwrap_or(u16::MAX)
}

/// Checks an IPv4 packet from a raw socket and returns its source address
/// and the range of its payload, or `None` when it is not a well-formed
/// IPv4 packet of protocol `protocol` (wrong version, header length out of
/// range, total length beyond the buffer, a fragment).
pub fn parse(packet: &[u8], protocol: u8) -> Option<(Ipv4Addr, Range<usize>)> {
    let first = *packet.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let header_len = usize::from(first & 0x0f) * 4;
    if header_len < HEADER_LEN || packet.len() < header_len {
        return None;
    }
    let total_len = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
    if total_len < header_len || total_len > packet.len() {
        return None;
    }
    // More-fragments flag or a fragment offset: smoltcp reassembles nothing
    // here, and a fragment of ESP cannot be opened on its own.
    let frag = u16::from_be_bytes([packet[6], packet[7]]);
    if frag & 0x3fff != 0 || packet[9] != protocol {
        return None;
    }
    let src = Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]);
    Some((src, header_len..total_len))
}

/// Writes a 20-byte IPv4 header for a payload of `payload_len` bytes into
/// `header` (don't-fragment set, TTL 64, checksum filled in). Returns `None`
/// when the packet would exceed 65535 bytes.
pub fn emit_header(
    header: &mut [u8; HEADER_LEN],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: u8,
    identification: u16,
    payload_len: usize,
) -> Option<()> {
    let total = u16::try_from(HEADER_LEN.checked_add(payload_len)?).ok()?;
    header[0] = 0x45;
    header[1] = 0;
    header[2..4].copy_from_slice(&total.to_be_bytes());
    header[4..6].copy_from_slice(&identification.to_be_bytes());
    header[6..8].copy_from_slice(&0x4000u16.to_be_bytes());
    header[8] = 64;
    header[9] = protocol;
    header[10..12].fill(0);
    header[12..16].copy_from_slice(&src.octets());
    header[16..20].copy_from_slice(&dst.octets());
    let checksum = !ones_complement_sum(header);
    header[10..12].copy_from_slice(&checksum.to_be_bytes());
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_section3_example_sum() {
        // RFC 1071 §3 "Numerical Examples": the bytes 00 01 f2 03 f4 f5 f6 f7
        // sum to ddf2 (checksum = ~ddf2 = 220d).
        let bytes = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(ones_complement_sum(&bytes), 0xddf2);
        assert_eq!(!ones_complement_sum(&bytes), 0x220d);
    }

    #[test]
    fn emitted_header_checks_and_parses() {
        let mut packet = [0u8; HEADER_LEN + 12];
        packet[HEADER_LEN..].copy_from_slice(b"ESP-payload!");
        let (header, _) = packet.split_at_mut(HEADER_LEN);
        let header: &mut [u8; HEADER_LEN] = header.try_into().unwrap();
        let src = Ipv4Addr::new(192, 0, 2, 1);
        let dst = Ipv4Addr::new(198, 51, 100, 7);
        emit_header(header, src, dst, PROTOCOL_ESP, 0x1234, 12).unwrap();
        // A correct header sums to all ones (RFC 1071 §1, step 3 of the receiver).
        assert_eq!(ones_complement_sum(&packet[..HEADER_LEN]), 0xffff);
        assert_eq!(
            parse(&packet, PROTOCOL_ESP),
            Some((src, HEADER_LEN..HEADER_LEN + 12))
        );
        assert_eq!(parse(&packet, 17), None, "other protocol");
    }

    #[test]
    fn parse_refuses_malformed_packets() {
        let mut p = [0u8; 40];
        emit_header(
            (&mut p[..20]).try_into().unwrap(),
            Ipv4Addr::LOCALHOST,
            Ipv4Addr::LOCALHOST,
            50,
            0,
            20,
        )
        .unwrap();
        assert!(parse(&p, 50).is_some());
        assert_eq!(parse(&[], 50), None);
        assert_eq!(parse(&p[..19], 50), None, "shorter than a header");
        assert_eq!(parse(&p[..39], 50), None, "total length beyond the buffer");
        let mut v6 = p;
        v6[0] = 0x65;
        assert_eq!(parse(&v6, 50), None);
        let mut ihl = p;
        ihl[0] = 0x44;
        assert_eq!(parse(&ihl, 50), None, "header length below 20");
        let mut ihl = p;
        ihl[0] = 0x4f; // 60 bytes of header in a 40-byte packet
        assert_eq!(parse(&ihl, 50), None);
        let mut frag = p;
        frag[6] = 0x20; // more fragments
        assert_eq!(parse(&frag, 50), None);
        let mut short_total = p;
        short_total[2..4].copy_from_slice(&10u16.to_be_bytes());
        assert_eq!(
            parse(&short_total, 50),
            None,
            "total length below the header"
        );
    }

    #[test]
    fn emit_refuses_oversized_payloads() {
        let mut h = [0u8; HEADER_LEN];
        let a = Ipv4Addr::LOCALHOST;
        assert_eq!(emit_header(&mut h, a, a, 50, 0, 65_535 - 20), Some(()));
        assert_eq!(emit_header(&mut h, a, a, 50, 0, 65_535 - 19), None);
        assert_eq!(emit_header(&mut h, a, a, 50, 0, usize::MAX), None);
    }

    #[test]
    fn parse_never_panics_and_stays_in_bounds() {
        // Every value of every header byte, at every truncation of a valid
        // 40-byte packet: the result is None or a range inside the buffer.
        let mut p = [0u8; 40];
        emit_header(
            (&mut p[..20]).try_into().unwrap(),
            Ipv4Addr::LOCALHOST,
            Ipv4Addr::LOCALHOST,
            50,
            7,
            20,
        )
        .unwrap();
        for at in 0..HEADER_LEN {
            for value in 0..=255u8 {
                let mut q = p;
                q[at] = value;
                for len in 0..=q.len() {
                    if let Some((_, range)) = parse(&q[..len], 50) {
                        assert!(
                            range.start >= HEADER_LEN
                                && range.start <= range.end
                                && range.end <= len
                        );
                    }
                }
            }
        }
    }
}
