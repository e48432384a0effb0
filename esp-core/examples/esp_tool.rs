//! `esp_tool`: esp-core behind a line protocol on stdin/stdout, so that ESP
//! implementations nobody here wrote (scapy, see `scripts/interop/`) can be
//! put face to face with it. One request per line, one reply line per
//! request, in order; hex for every byte string (`-` for an empty one).
//!
//! ```text
//! in  ENC EKEY INTEG AKEY [WINDOW]  -> ok ID SPI        inbound SA; the SaTable picks the SPI
//! out SPI ENC EKEY INTEG AKEY       -> ok ID            outbound SA with the peer's SPI
//! seal ID NEXT_HEADER PAYLOAD       -> ok ESP           ESP packet, SPI to ICV
//! open ESP                          -> ok ID SEQ NEXT_HEADER PAYLOAD | err ERROR
//! open-udp DATAGRAM                 -> the same for a UDP-4500 payload, through
//!                                      udp_encap::classify; or `keepalive`, `ike IKE`
//! counters ID                       -> ok packets=N bytes=N integrity_failures=N ...
//! remove ID                         -> ok               the SA is gone (its SPI unknown)
//! table-counters                    -> ok malformed=N unknown_spi=N
//! ```
//!
//! `ENC` is `null`, `3des-cbc`, `aes-cbc-128`, `aes-cbc-192` or `aes-cbc-256`;
//! `INTEG` is `none`, `hmac-md5-96`, `hmac-sha1-96`, `hmac-sha256-128` or
//! `hmac-sha256-96`. SPIs are hex (`0x` optional), `NEXT_HEADER` and `SEQ`
//! decimal, `ID` the SA's number in the order of creation. `ERROR` is the
//! `Debug` form of the [`esp_core::OpenError`] (`IntegrityCheckFailed`,
//! `Replay`, `UnknownSpi(..)`, `Malformed(Truncated)`, ...). A request the
//! tool cannot parse gets `bad REASON`. Test keys only: this is a test tool.
//!
//! Run: `cargo run -p esp-core --example esp_tool`.

use esp_core::wire::udp_encap::{Classification, classify};
use esp_core::{
    Encapsulation, Encryption, Handle, Integrity, IpProtocol, Lifetime, MAX_HEADROOM, MAX_TAILROOM,
    SaConfig, SaTable,
};
use rand_core::SeedableRng;
use std::fmt::Write as _;
use std::io::{self, BufRead, Write};
use std::time::Duration;

const NOW: Duration = Duration::from_secs(1);

fn encryption(name: &str) -> Option<Encryption> {
    Some(match name {
        "null" => Encryption::Null,
        "3des-cbc" => Encryption::TripleDesCbc,
        "aes-cbc-128" => Encryption::AesCbc128,
        "aes-cbc-192" => Encryption::AesCbc192,
        "aes-cbc-256" => Encryption::AesCbc256,
        _ => return None,
    })
}

fn integrity(name: &str) -> Option<Integrity> {
    Some(match name {
        "none" => Integrity::None,
        "hmac-md5-96" => Integrity::HmacMd5_96,
        "hmac-sha1-96" => Integrity::HmacSha1_96,
        "hmac-sha256-128" => Integrity::HmacSha256_128,
        "hmac-sha256-96" => Integrity::HmacSha256_96,
        _ => return None,
    })
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s == "-" {
        return Some(Vec::new());
    }
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "-".into();
    }
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn spi(s: &str) -> Option<u32> {
    u32::from_str_radix(s.trim_start_matches("0x"), 16).ok()
}

struct Tool {
    table: Box<SaTable<64>>,
    handles: Vec<Handle>,
    rng: rand_chacha::ChaCha20Rng,
}

impl Tool {
    fn config<'k>(
        args: &[&str],
        ekey: &'k [u8],
        akey: &'k [u8],
        window: u16,
    ) -> Result<SaConfig<'k>, String> {
        Ok(SaConfig {
            encryption: encryption(args[0]).ok_or("unknown encryption")?,
            encryption_key: ekey,
            integrity: integrity(args[2]).ok_or("unknown integrity")?,
            integrity_key: akey,
            encapsulation: Encapsulation::None,
            replay_window: window,
            lifetime: Lifetime::UNLIMITED,
        })
    }

    fn id(&self, handle: Handle) -> usize {
        self.handles
            .iter()
            .position(|&h| h == handle)
            .unwrap_or(usize::MAX)
    }

    fn handle(&self, id: &str) -> Result<Handle, String> {
        id.parse::<usize>()
            .ok()
            .and_then(|i| self.handles.get(i).copied())
            .ok_or_else(|| "unknown SA id".into())
    }

    fn open(&mut self, packet: &[u8]) -> String {
        let mut buf = packet.to_vec();
        match self.table.open(NOW, &mut buf) {
            Ok((handle, opened)) => format!(
                "ok {} {} {} {}",
                self.id(handle),
                opened.sequence_number,
                u8::from(opened.next_header),
                hex(&buf[opened.payload])
            ),
            Err(e) => format!("err {e:?}"),
        }
    }

    fn request(&mut self, line: &str) -> Result<String, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let bytes = |s: &str| unhex(s).ok_or_else(|| format!("bad hex {s:?}"));
        match words.as_slice() {
            ["in", args @ ..] if args.len() == 4 || args.len() == 5 => {
                let (ekey, akey) = (bytes(args[1])?, bytes(args[3])?);
                let window = args
                    .get(4)
                    .map_or(Ok(128), |w| w.parse())
                    .map_err(|_| "bad window")?;
                let config = Self::config(args, &ekey, &akey, window)?;
                let (handle, spi) = self
                    .table
                    .insert_inbound(NOW, &config, &mut self.rng)
                    .map_err(|e| format!("refused {e:?}"))?;
                self.handles.push(handle);
                Ok(format!("ok {} {spi:08x}", self.handles.len() - 1))
            }
            ["out", spi_hex, args @ ..] if args.len() == 4 => {
                let spi = spi(spi_hex).ok_or("bad SPI")?;
                let (ekey, akey) = (bytes(args[1])?, bytes(args[3])?);
                let config = Self::config(args, &ekey, &akey, 0)?;
                let handle = self
                    .table
                    .insert_outbound(NOW, spi, &config, &mut self.rng)
                    .map_err(|e| format!("refused {e:?}"))?;
                self.handles.push(handle);
                Ok(format!("ok {}", self.handles.len() - 1))
            }
            ["seal", id, next_header, payload] => {
                let handle = self.handle(id)?;
                let next_header: u8 = next_header.parse().map_err(|_| "bad next header")?;
                let payload = bytes(payload)?;
                let mut buf = vec![0u8; MAX_HEADROOM + payload.len() + MAX_TAILROOM];
                let range = MAX_HEADROOM..MAX_HEADROOM + payload.len();
                buf[range.clone()].copy_from_slice(&payload);
                let esp = self
                    .table
                    .seal(NOW, handle, &mut buf, range, IpProtocol::from(next_header))
                    .map_err(|e| format!("refused {e:?}"))?;
                Ok(format!("ok {}", hex(&buf[esp])))
            }
            ["open", packet] => Ok(self.open(&bytes(packet)?)),
            ["open-udp", datagram] => {
                let datagram = bytes(datagram)?;
                Ok(match classify(&datagram) {
                    Ok(Classification::NatKeepalive) => "keepalive".into(),
                    Ok(c @ Classification::Ike) => {
                        format!("ike {}", hex(&datagram[c.payload_offset()..]))
                    }
                    Ok(c @ Classification::Esp) => self.open(&datagram[c.payload_offset()..]),
                    Err(e) => format!("err Malformed({e:?})"),
                })
            }
            ["counters", id] => {
                let sa = self.table.get(self.handle(id)?).ok_or("SA gone")?;
                let c = sa.counters();
                Ok(format!(
                    "ok packets={} bytes={} integrity_failures={} replay_drops={} \
                     bad_padding={} too_short={} sequence_number={}",
                    c.packets,
                    c.bytes,
                    c.integrity_failures,
                    c.replay_drops,
                    c.bad_padding,
                    c.too_short,
                    sa.sequence_number()
                ))
            }
            ["remove", id] => {
                let handle = self.handle(id)?;
                self.table
                    .remove(handle)
                    .map_err(|e| format!("refused {e:?}"))?;
                Ok("ok".into())
            }
            ["table-counters"] => {
                let c = self.table.counters();
                Ok(format!(
                    "ok malformed={} unknown_spi={}",
                    c.malformed, c.unknown_spi
                ))
            }
            _ => Err("unknown request".into()),
        }
    }
}

fn main() -> io::Result<()> {
    let seed = std::env::var("ESP_TOOL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let mut tool = Tool {
        table: Box::new(SaTable::new()),
        handles: Vec::new(),
        rng: rand_chacha::ChaCha20Rng::seed_from_u64(seed),
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    for line in io::stdin().lock().lines() {
        let line = line?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let reply = tool
            .request(line)
            .unwrap_or_else(|why| format!("bad {why}"));
        writeln!(out, "{reply}")?;
        out.flush()?;
    }
    Ok(())
}
