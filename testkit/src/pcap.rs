//! A reader for classic libpcap files (the format of every capture in
//! `testdata/`): a 24-byte global header, then records of a 16-byte header
//! and the frame. Both byte orders and both timestamp resolutions.

use std::path::Path;
use std::time::Duration;

/// One captured frame.
#[derive(Debug, Clone)]
pub struct Record {
    /// Capture time since the Unix epoch.
    pub timestamp: Duration,
    /// The frame as captured (possibly truncated to the snap length).
    pub data: Vec<u8>,
}

/// A whole capture file.
#[derive(Debug, Clone)]
pub struct Capture {
    /// The link-layer header type (1 Ethernet, 0 BSD loopback, 113 Linux SLL, 101 raw IP).
    pub link_type: u32,
    /// The frames in file order.
    pub records: Vec<Record>,
}

/// Reads a capture; panics if the file is missing or not a classic pcap.
pub fn read(path: impl AsRef<Path>) -> Capture {
    let path = path.as_ref();
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses a capture held in memory.
pub fn parse(bytes: &[u8]) -> Result<Capture, String> {
    let header = bytes.get(..24).ok_or("shorter than the pcap header")?;
    let magic = [header[0], header[1], header[2], header[3]];
    let (big_endian, nanos) = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] => (false, false),
        [0xa1, 0xb2, 0xc3, 0xd4] => (true, false),
        [0x4d, 0x3c, 0xb2, 0xa1] => (false, true),
        [0xa1, 0xb2, 0x3c, 0x4d] => (true, true),
        _ => return Err(format!("not a classic pcap (magic {magic:02x?})")),
    };
    let u32_at = |b: &[u8], at: usize| -> u32 {
        let w = [b[at], b[at + 1], b[at + 2], b[at + 3]];
        if big_endian {
            u32::from_be_bytes(w)
        } else {
            u32::from_le_bytes(w)
        }
    };
    let link_type = u32_at(header, 20);
    let mut records = Vec::new();
    let mut at = 24;
    while at < bytes.len() {
        let rec = bytes.get(at..at + 16).ok_or("truncated record header")?;
        let secs = u64::from(u32_at(rec, 0));
        let frac = u64::from(u32_at(rec, 4));
        let len = u32_at(rec, 8) as usize;
        let data = bytes
            .get(at + 16..at + 16 + len)
            .ok_or("truncated record")?
            .to_vec();
        let timestamp = Duration::from_secs(secs)
            + if nanos {
                Duration::from_nanos(frac)
            } else {
                Duration::from_micros(frac)
            };
        records.push(Record { timestamp, data });
        at += 16 + len;
    }
    Ok(Capture { link_type, records })
}
