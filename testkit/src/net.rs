//! IPv4 packets and UDP datagrams out of captured frames.

use crate::pcap::Capture;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

/// An IPv4 packet (fragments are kept as they are; the captures have none).
#[derive(Debug, Clone)]
pub struct Ipv4Packet {
    /// Index of the frame in the capture.
    pub frame: usize,
    /// Capture time.
    pub timestamp: Duration,
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// IP protocol number.
    pub protocol: u8,
    /// The whole packet, header included.
    pub packet: Vec<u8>,
    /// Length of the IP header.
    pub header_len: usize,
}

impl Ipv4Packet {
    /// The bytes after the IP header (up to the IP total length).
    pub fn payload(&self) -> &[u8] {
        &self.packet[self.header_len..]
    }
}

/// A UDP datagram.
#[derive(Debug, Clone)]
pub struct UdpDatagram {
    /// Index of the frame in the capture.
    pub frame: usize,
    /// Capture time.
    pub timestamp: Duration,
    /// Source address and port.
    pub src: SocketAddrV4,
    /// Destination address and port.
    pub dst: SocketAddrV4,
    /// The UDP payload.
    pub payload: Vec<u8>,
}

/// The IPv4 packet inside a link-layer frame, if there is one.
pub fn ipv4_of_frame(link_type: u32, frame: &[u8]) -> Option<&[u8]> {
    let ip = match link_type {
        // BSD loopback: 4-byte address family in host order.
        0 => frame.get(4..)?,
        1 => {
            let mut ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
            let mut at = 14;
            while ethertype == 0x8100 {
                ethertype = u16::from_be_bytes([*frame.get(at + 2)?, *frame.get(at + 3)?]);
                at += 4;
            }
            match ethertype {
                0x0800 => frame.get(at..)?,
                // PPPoE session: 6-byte header, then a PPP protocol field.
                0x8864 => {
                    let ppp = frame.get(at + 6..)?;
                    if ppp.get(..2)? != [0x00, 0x21] {
                        return None;
                    }
                    ppp.get(2..)?
                }
                _ => return None,
            }
        }
        101 => frame,
        // Linux cooked capture: 16-byte header, protocol at 14.
        113 => {
            if frame.get(14..16)? != [0x08, 0x00] {
                return None;
            }
            frame.get(16..)?
        }
        _ => return None,
    };
    (ip.first()? >> 4 == 4).then_some(ip)
}

/// Every IPv4 packet of a capture.
pub fn ipv4_packets(capture: &Capture) -> Vec<Ipv4Packet> {
    let mut out = Vec::new();
    for (frame, record) in capture.records.iter().enumerate() {
        let Some(ip) = ipv4_of_frame(capture.link_type, &record.data) else {
            continue;
        };
        let header_len = usize::from(ip[0] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]])).min(ip.len());
        if total < header_len || header_len < 20 {
            continue;
        }
        out.push(Ipv4Packet {
            frame,
            timestamp: record.timestamp,
            src: Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]),
            dst: Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]),
            protocol: ip[9],
            packet: ip[..total].to_vec(),
            header_len,
        });
    }
    out
}

/// Every UDP datagram of a capture.
pub fn udp_datagrams(capture: &Capture) -> Vec<UdpDatagram> {
    ipv4_packets(capture)
        .into_iter()
        .filter(|p| p.protocol == 17)
        .filter_map(|p| {
            let udp = p.payload();
            let sport = u16::from_be_bytes([*udp.first()?, *udp.get(1)?]);
            let dport = u16::from_be_bytes([*udp.get(2)?, *udp.get(3)?]);
            let len = usize::from(u16::from_be_bytes([*udp.get(4)?, *udp.get(5)?]));
            let payload = udp.get(8..len.min(udp.len()))?.to_vec();
            Some(UdpDatagram {
                frame: p.frame,
                timestamp: p.timestamp,
                src: SocketAddrV4::new(p.src, sport),
                dst: SocketAddrV4::new(p.dst, dport),
                payload,
            })
        })
        .collect()
}
