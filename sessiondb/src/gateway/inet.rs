//! The two small headers the gateway handles itself: the IPv4 header of
//! packets to and from the routed side, and the UDP header that transport
//! mode ESP carries in front of L2TP (RFC 768, RFC 791).

use core::net::Ipv4Addr;
use core::ops::Range;

/// Length of a UDP header.
pub const UDP_HEADER_LEN: usize = 8;
/// The L2TP port (RFC 2661 §8.1).
pub const L2TP_PORT: u16 = 1701;

/// What the gateway needs of an IPv4 packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Summary {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Total length from the header.
    pub total_len: usize,
}

/// Reads the addresses of an IPv4 packet, checking version, header length
/// and total length against the buffer.
pub fn ipv4_summary(packet: &[u8]) -> Option<Ipv4Summary> {
    let header = packet.get(..20)?;
    if header[0] >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(header[0] & 0x0f) * 4;
    let total_len = usize::from(u16::from_be_bytes([header[2], header[3]]));
    if ihl < 20 || total_len < ihl || total_len > packet.len() {
        return None;
    }
    Some(Ipv4Summary {
        src: Ipv4Addr::new(header[12], header[13], header[14], header[15]),
        dst: Ipv4Addr::new(header[16], header[17], header[18], header[19]),
        total_len,
    })
}

/// A UDP header inside a decrypted transport-mode ESP payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Udp {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Where the UDP payload lies.
    pub payload: Range<usize>,
}

/// Parses the UDP header at the start of `buf[range]`. The checksum is not
/// verified: the ESP ICV has already proved the bytes, and behind a NAT the
/// checksum covers the client's private address, which RFC 3948 §3.1.2
/// lets the receiver ignore.
pub fn parse_udp(buf: &[u8], range: Range<usize>) -> Option<Udp> {
    let datagram = buf.get(range.clone())?;
    let header = datagram.get(..UDP_HEADER_LEN)?;
    let len = usize::from(u16::from_be_bytes([header[4], header[5]]));
    if len < UDP_HEADER_LEN || len > datagram.len() {
        return None;
    }
    Some(Udp {
        src_port: u16::from_be_bytes([header[0], header[1]]),
        dst_port: u16::from_be_bytes([header[2], header[3]]),
        payload: range.start + UDP_HEADER_LEN..range.start + len,
    })
}

/// Writes a UDP header in front of `buf[payload]` and returns the range of
/// the datagram. With `addresses` (source, destination) the checksum is
/// computed over the pseudo-header; without, it is 0 ("no checksum", which
/// IPv4 allows and what a client behind NAT expects, RFC 3948 §3.1.2).
/// `None` if there is no headroom or the datagram would exceed 65,535 bytes.
pub fn write_udp(
    buf: &mut [u8],
    payload: Range<usize>,
    src_port: u16,
    dst_port: u16,
    addresses: Option<(Ipv4Addr, Ipv4Addr)>,
) -> Option<Range<usize>> {
    let start = payload.start.checked_sub(UDP_HEADER_LEN)?;
    let len = u16::try_from(payload.end.checked_sub(start)?).ok()?;
    let datagram = buf.get_mut(start..payload.end)?;
    datagram[0..2].copy_from_slice(&src_port.to_be_bytes());
    datagram[2..4].copy_from_slice(&dst_port.to_be_bytes());
    datagram[4..6].copy_from_slice(&len.to_be_bytes());
    datagram[6..8].copy_from_slice(&[0, 0]);
    if let Some((src, dst)) = addresses {
        let mut sum = ones_sum(0, &src.octets());
        sum = ones_sum(sum, &dst.octets());
        sum = ones_sum(sum, &[0, 17]);
        sum = ones_sum(sum, &len.to_be_bytes());
        sum = ones_sum(sum, datagram);
        let mut checksum = !fold(sum);
        if checksum == 0 {
            checksum = 0xffff; // RFC 768: a computed 0 is sent as all ones
        }
        datagram[6..8].copy_from_slice(&checksum.to_be_bytes());
    }
    Some(start..payload.end)
}

fn ones_sum(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    u16::try_from(sum).unwrap_or(0xffff)
}

/// Verifies a UDP checksum given the pseudo-header addresses (for tests and
/// diagnostics).
pub fn udp_checksum_ok(datagram: &[u8], src: Ipv4Addr, dst: Ipv4Addr) -> bool {
    let Some(len) = datagram.get(4..6).map(|l| [l[0], l[1]]) else {
        return false;
    };
    let mut sum = ones_sum(0, &src.octets());
    sum = ones_sum(sum, &dst.octets());
    sum = ones_sum(sum, &[0, 17]);
    sum = ones_sum(sum, &len);
    sum = ones_sum(sum, datagram);
    fold(sum) == 0xffff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_round_trip_with_and_without_checksum() {
        let mut buf = [0u8; 64];
        buf[20..25].copy_from_slice(b"hello");
        let a = Ipv4Addr::new(192, 0, 2, 1);
        let b = Ipv4Addr::new(198, 51, 100, 7);
        let r = write_udp(&mut buf, 20..25, 1701, 1701, Some((a, b))).unwrap();
        assert_eq!(r, 12..25);
        assert!(udp_checksum_ok(&buf[r.clone()], a, b));
        assert!(!udp_checksum_ok(
            &buf[r.clone()],
            a,
            Ipv4Addr::new(198, 51, 100, 8)
        ));
        let udp = parse_udp(&buf, r.clone()).unwrap();
        assert_eq!(
            (udp.src_port, udp.dst_port, &buf[udp.payload]),
            (1701, 1701, &b"hello"[..])
        );
        let r = write_udp(&mut buf, 20..25, 1701, 1701, None).unwrap();
        assert_eq!(&buf[r.start + 6..r.start + 8], &[0, 0]);
        assert!(
            write_udp(&mut buf, 4..10, 1, 1, None).is_none(),
            "no headroom"
        );
    }

    #[test]
    fn malformed_headers_are_none() {
        assert!(
            parse_udp(&[0, 1, 0, 2, 0, 7, 0, 0], 0..8).is_none(),
            "length below 8"
        );
        assert!(
            parse_udp(&[0, 1, 0, 2, 0, 9, 0, 0], 0..8).is_none(),
            "length past the end"
        );
        assert!(ipv4_summary(&[0x45; 19]).is_none());
        let mut p = [0u8; 28];
        p[0] = 0x45;
        p[3] = 28;
        assert!(ipv4_summary(&p).is_some());
        p[3] = 29;
        assert!(ipv4_summary(&p).is_none());
        p[3] = 28;
        p[0] = 0x65;
        assert!(ipv4_summary(&p).is_none());
    }
}
