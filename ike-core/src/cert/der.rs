//! A small DER reader (ITU-T X.690 §8, §10): just enough for X.509
//! certificates (RFC 5280) and RSA keys (RFC 8017 Appendix A.1, RFC 5208).
//!
//! Every length is checked against what is left before it is used; a
//! read past the end, an indefinite length (BER, not DER), a length that
//! is not minimally encoded or a tag in high-tag-number form is an error,
//! never a panic. Nothing is copied: values are sub-slices of the input.

/// DER tags this crate reads (X.690 §8.1.2; context-specific ones as
/// `0x80 | n` and `0xa0 | n` for constructed).
pub(crate) mod tag {
    pub(crate) const BOOLEAN: u8 = 0x01;
    pub(crate) const INTEGER: u8 = 0x02;
    pub(crate) const BIT_STRING: u8 = 0x03;
    pub(crate) const OCTET_STRING: u8 = 0x04;
    pub(crate) const NULL: u8 = 0x05;
    pub(crate) const OID: u8 = 0x06;
    pub(crate) const UTC_TIME: u8 = 0x17;
    pub(crate) const GENERALIZED_TIME: u8 = 0x18;
    pub(crate) const SEQUENCE: u8 = 0x30;
}

/// Why DER could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DerError;

/// One TLV: its tag, its value, and the whole encoding (tag and length
/// included, as certificate signatures and DN comparisons need it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    pub(crate) value: &'a [u8],
    pub(crate) raw: &'a [u8],
}

/// A cursor over a sequence of TLVs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next TLV's tag, without consuming it.
    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.data.first().copied()
    }

    /// Reads any TLV.
    pub(crate) fn any(&mut self) -> Result<Tlv<'a>, DerError> {
        let d = self.data;
        let (&t, rest) = d.split_first().ok_or(DerError)?;
        // High-tag-number form (X.690 §8.1.2.4) is not used by X.509.
        if t & 0x1f == 0x1f {
            return Err(DerError);
        }
        let (&l0, rest) = rest.split_first().ok_or(DerError)?;
        let (len, hdr) = if l0 < 0x80 {
            (usize::from(l0), 2)
        } else {
            let n = usize::from(l0 & 0x7f);
            // 0x80 is BER's indefinite length; more than 4 octets of length
            // is more than any certificate this crate holds.
            if n == 0 || n > 4 {
                return Err(DerError);
            }
            let bytes = rest.get(..n).ok_or(DerError)?;
            if bytes[0] == 0 {
                return Err(DerError);
            }
            let mut len = 0usize;
            for b in bytes {
                len = (len << 8) | usize::from(*b);
            }
            // DER: the long form only for lengths above 127 (X.690 §10.1).
            if len < 0x80 {
                return Err(DerError);
            }
            (len, 2 + n)
        };
        let end = hdr.checked_add(len).ok_or(DerError)?;
        let raw = d.get(..end).ok_or(DerError)?;
        self.data = &d[end..];
        Ok(Tlv {
            tag: t,
            value: &raw[hdr..],
            raw,
        })
    }

    /// Reads a TLV that must have tag `t`.
    pub(crate) fn expect(&mut self, t: u8) -> Result<Tlv<'a>, DerError> {
        let v = self.any()?;
        if v.tag == t { Ok(v) } else { Err(DerError) }
    }

    /// Reads a TLV with tag `t` if the next one has it.
    pub(crate) fn optional(&mut self, t: u8) -> Result<Option<Tlv<'a>>, DerError> {
        if self.peek_tag() == Some(t) {
            self.expect(t).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Reads a SEQUENCE and returns a reader over its contents.
    pub(crate) fn sequence(&mut self) -> Result<Reader<'a>, DerError> {
        Ok(Reader::new(self.expect(tag::SEQUENCE)?.value))
    }

    /// Reads a non-negative INTEGER and returns its magnitude without
    /// leading zero octets (X.690 §8.3: minimal encoding is required).
    pub(crate) fn unsigned(&mut self) -> Result<&'a [u8], DerError> {
        let v = self.expect(tag::INTEGER)?.value;
        match v {
            [] => Err(DerError),
            [b, ..] if b & 0x80 != 0 => Err(DerError),
            [0, b, ..] if b & 0x80 == 0 => Err(DerError),
            [0, rest @ ..] => Ok(rest),
            _ => Ok(v),
        }
    }

    /// Requires that nothing is left.
    pub(crate) fn finish(&self) -> Result<(), DerError> {
        if self.data.is_empty() {
            Ok(())
        } else {
            Err(DerError)
        }
    }
}

/// The contents of a BIT STRING with no unused bits (keys and signatures
/// are whole octets).
pub(crate) fn bit_string_octets<'a>(t: &Tlv<'a>) -> Result<&'a [u8], DerError> {
    match t.value.split_first() {
        Some((0, rest)) if t.tag == tag::BIT_STRING => Ok(rest),
        _ => Err(DerError),
    }
}

/// Seconds since 1970-01-01T00:00:00Z of a UTCTime (`YYMMDDHHMMSSZ`, years
/// 1950-2049) or GeneralizedTime (`YYYYMMDDHHMMSSZ`), the only forms
/// RFC 5280 §4.1.2.5.1-2 allows.
pub(crate) fn time(t: &Tlv<'_>) -> Result<i64, DerError> {
    let v = t.value;
    let (year, rest) = match (t.tag, v.len()) {
        (tag::UTC_TIME, 13) => {
            let yy = i64::from(digits(&v[..2])?);
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &v[2..])
        }
        (tag::GENERALIZED_TIME, 15) => (i64::from(digits(&v[..4])?), &v[4..]),
        _ => return Err(DerError),
    };
    if rest.last() != Some(&b'Z') {
        return Err(DerError);
    }
    let month = digits(&rest[0..2])?;
    let day = digits(&rest[2..4])?;
    let hour = digits(&rest[4..6])?;
    let minute = digits(&rest[6..8])?;
    let second = digits(&rest[8..10])?;
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(DerError);
    }
    let days = days_from_civil(year, month, day);
    Ok(days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second))
}

fn digits(b: &[u8]) -> Result<u32, DerError> {
    let mut v = 0u32;
    for c in b {
        if !c.is_ascii_digit() {
            return Err(DerError);
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Ok(v)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_short_long_and_refusals() {
        let mut r = Reader::new(&[0x30, 0x03, 0x02, 0x01, 0x05, 0x04, 0x00]);
        let s = r.expect(tag::SEQUENCE).unwrap();
        assert_eq!(s.raw.len(), 5);
        assert_eq!(Reader::new(s.value).unsigned().unwrap(), &[5]);
        assert_eq!(r.expect(tag::OCTET_STRING).unwrap().value, &[]);
        assert!(r.is_empty());
        let mut long = [0u8; 132];
        long[..4].copy_from_slice(&[0x04, 0x81, 0x80, 0xaa]);
        assert_eq!(Reader::new(&long[..131]).any().unwrap().value.len(), 128);
        for bad in [
            &[0x04, 0x80][..],            // indefinite
            &[0x04, 0x81, 0x05, 0, 0, 0], // long form for a short length
            &[0x04, 0x82, 0x00, 0x80],    // leading zero in the length
            &[0x04, 0x05, 0x00],          // past the end
            &[0x1f, 0x01, 0x00],          // high tag number
            &[0x04, 0x85, 1, 1, 1, 1, 1], // five length octets
            &[0x04],                      // no length
        ] {
            assert_eq!(Reader::new(bad).any(), Err(DerError), "{bad:02x?}");
        }
        // INTEGERs: minimal, non-negative.
        assert_eq!(Reader::new(&[2, 2, 0, 0x80]).unsigned().unwrap(), &[0x80]);
        assert!(Reader::new(&[2, 2, 0, 0x7f]).unsigned().is_err());
        assert!(Reader::new(&[2, 1, 0x80]).unsigned().is_err());
        assert!(Reader::new(&[2, 0]).unsigned().is_err());
    }

    #[test]
    fn times() {
        // RFC 5280 §4.1.2.5.1: UTCTime 49 is 2049, 50 is 1950.
        let utc = |s: &[u8]| {
            time(&Tlv {
                tag: tag::UTC_TIME,
                value: s,
                raw: s,
            })
        };
        let gentime = |s: &[u8]| {
            time(&Tlv {
                tag: tag::GENERALIZED_TIME,
                value: s,
                raw: s,
            })
        };
        assert_eq!(utc(b"700101000000Z"), Ok(0));
        assert_eq!(utc(b"000229120000Z"), Ok(951_825_600));
        assert_eq!(gentime(b"20380119031408Z"), Ok(2_147_483_648));
        assert_eq!(utc(b"491231235959Z"), gentime(b"20491231235959Z"));
        assert_eq!(utc(b"500101000000Z"), gentime(b"19500101000000Z"));
        assert!(utc(b"700101000000").is_err());
        assert!(utc(b"701301000000Z").is_err());
        assert!(gentime(b"2038011903140Z").is_err());
        assert!(utc(b"7a0101000000Z").is_err());
    }
}
