//! Distinguished name comparison (RFC 5280 §7.1), for an ID_DER_ASN1_DN
//! against a certificate's subject.
//!
//! Two DNs match if they have the same number of RDNs and the RDNs match
//! in order; two RDNs match if they have the same number of attributes
//! and each attribute of one matches a distinct attribute of the other;
//! two attributes match if their types are the same and their values
//! match after string preparation (RFC 4518). A peer may re-encode the
//! same name with other string types: strongSwan, given its identity as a
//! string, sends PrintableString where an OpenSSL-made certificate has
//! UTF8String.
//!
//! What is implemented of RFC 4518, without tables and without allocation:
//! - transcoding (§2.1) of PrintableString, IA5String, VisibleString,
//!   NumericString, UTF8String, BMPString (UCS-2) and UniversalString
//!   (UCS-4); a TeletexString only when every octet is a PrintableString
//!   character (the repertoire T.61 shares with ASCII);
//! - when both values are ASCII: the mapping of §2.2 (TAB, LF, VT, FF, CR
//!   to SPACE, other controls to nothing, case folding of A-Z for
//!   caseIgnoreMatch attributes) and the insignificant space handling of
//!   §2.6.1 (leading and trailing spaces dropped, inner runs of spaces
//!   equal whatever their length);
//! - otherwise the characters must be the same code points: a name that
//!   differs in non-ASCII case or Unicode normalization does not match (a
//!   refusal, never a false match).
//!
//! Values of other types (or not valid in their type) match only when
//! their encodings are identical. Every loop is bounded by the input: each
//! step consumes at least one octet, and an RDN with more than
//! [`MAX_RDN_ATTRIBUTES`] attributes must be identical byte for byte.

use super::der::{Reader, Tlv, tag};

/// Most attributes of one RDN compared attribute by attribute; a larger
/// (multi-valued) RDN must be byte-identical.
pub(crate) const MAX_RDN_ATTRIBUTES: usize = 8;

/// SET OF (X.690 §8.12), the tag of a RelativeDistinguishedName.
const SET: u8 = 0x31;

/// Universal tags of the character string types (X.680 §41).
mod string_tag {
    pub(super) const UTF8: u8 = 0x0c;
    pub(super) const NUMERIC: u8 = 0x12;
    pub(super) const PRINTABLE: u8 = 0x13;
    pub(super) const TELETEX: u8 = 0x14;
    pub(super) const IA5: u8 = 0x16;
    pub(super) const VISIBLE: u8 = 0x1a;
    pub(super) const UNIVERSAL: u8 = 0x1c;
    pub(super) const BMP: u8 = 0x1e;
}

/// id-at (2.5.4) attribute types whose equality rule is caseIgnoreMatch
/// (RFC 4519 §2, X.520): cn 3, sn 4, serialNumber 5, c 6, l 7, st 8,
/// street 9, o 10, ou 11, title 12, name 41, givenName 42, initials 43,
/// generationQualifier 44, dnQualifier 46, pseudonym 65.
const ID_AT_CASE_IGNORE: &[u8] = &[3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 41, 42, 43, 44, 46, 65];
/// 0.9.2342.19200300.100.1 (RFC 4519): uid (.1, caseIgnoreMatch) and
/// domainComponent (.25, caseIgnoreIA5Match, RFC 5280 §7.3).
const PILOT_ATTRIBUTE: &[u8] = &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01];

/// Whether attribute type `oid` (contents octets) compares ignoring case.
fn case_ignore(oid: &[u8]) -> bool {
    match oid {
        [0x55, 0x04, n] => ID_AT_CASE_IGNORE.contains(n),
        [p @ .., n] if p == PILOT_ATTRIBUTE => *n == 1 || *n == 25,
        _ => false,
    }
}

/// Whether two DER Names (whole TLVs) are the same name (RFC 5280 §7.1):
/// the same RDNs in the same order, each with the same attribute types,
/// and values equal after RFC 4518 preparation whatever their string type.
/// Byte equality first; anything that is not a DER Name matches only
/// itself. Safe on any input (an ID payload arrives before the peer is
/// authenticated); symmetric in its arguments.
pub fn names_match(a: &[u8], b: &[u8]) -> bool {
    a == b || names_match_prepared(a, b).unwrap_or(false)
}

fn names_match_prepared(a: &[u8], b: &[u8]) -> Option<bool> {
    let mut outer_a = Reader::new(a);
    let mut outer_b = Reader::new(b);
    let mut rdns_a = outer_a.sequence().ok()?;
    let mut rdns_b = outer_b.sequence().ok()?;
    outer_a.finish().ok()?;
    outer_b.finish().ok()?;
    // Each round consumes at least two octets of each side.
    loop {
        match (rdns_a.is_empty(), rdns_b.is_empty()) {
            (true, true) => return Some(true),
            (false, false) => {}
            _ => return Some(false),
        }
        let ra = rdns_a.expect(SET).ok()?;
        let rb = rdns_b.expect(SET).ok()?;
        if !rdns_match(&ra, &rb)? {
            return Some(false);
        }
    }
}

/// An AttributeTypeAndValue ::= SEQUENCE { type OID, value ANY }: the
/// OID's contents and the value.
type Attribute<'a> = (&'a [u8], Tlv<'a>);

/// Reads the attributes of an RDN; `None` if it is not a non-empty SET OF
/// AttributeTypeAndValue or has more than [`MAX_RDN_ATTRIBUTES`]. Every
/// attribute is read before any is compared, so that a malformed one
/// refuses the name whatever the order of the others.
fn attributes<'a>(rdn: &Tlv<'a>) -> Option<([Attribute<'a>; MAX_RDN_ATTRIBUTES], usize)> {
    let empty = Tlv {
        tag: 0,
        value: &[],
        raw: &[],
    };
    let mut out = [(&[][..], empty); MAX_RDN_ATTRIBUTES];
    let mut n = 0;
    let mut r = Reader::new(rdn.value);
    // Each round consumes at least two octets.
    while !r.is_empty() {
        let mut atv = r.sequence().ok()?;
        let oid = atv.expect(tag::OID).ok()?.value;
        let value = atv.any().ok()?;
        atv.finish().ok()?;
        *out.get_mut(n)? = (oid, value);
        n += 1;
    }
    (n > 0).then_some((out, n))
}

fn rdns_match(a: &Tlv<'_>, b: &Tlv<'_>) -> Option<bool> {
    if a.raw == b.raw {
        return Some(true);
    }
    let (atvs_a, na) = attributes(a)?;
    let (atvs_b, nb) = attributes(b)?;
    if na != nb {
        return Some(false);
    }
    // Each attribute of `a` claims a distinct attribute of `b`. The
    // attribute match is an equivalence (same type, same value class), so
    // claiming the first equal one never misses a pairing that exists,
    // and the result does not depend on which name is `a`.
    let mut claimed = [false; MAX_RDN_ATTRIBUTES];
    for x in &atvs_a[..na] {
        let mut found = false;
        for (y, c) in atvs_b[..nb].iter().zip(claimed.iter_mut()) {
            if !*c && attributes_match(x, y) {
                *c = true;
                found = true;
                break;
            }
        }
        if !found {
            return Some(false);
        }
    }
    Some(true)
}

fn attributes_match((oid_a, va): &Attribute<'_>, (oid_b, vb): &Attribute<'_>) -> bool {
    oid_a == oid_b && (va.raw == vb.raw || values_match(va, vb, case_ignore(oid_a)))
}

/// Two string values: the same characters, and for ASCII the same after
/// RFC 4518 preparation (`fold`: caseIgnoreMatch).
fn values_match(a: &Tlv<'_>, b: &Tlv<'_>, fold: bool) -> bool {
    let (Some(ca), Some(cb)) = (Chars::new(a), Chars::new(b)) else {
        return false;
    };
    match (ca.check(), cb.check()) {
        (Some(true), Some(true)) => Prepared::new(ca, fold).eq(Prepared::new(cb, fold)),
        // Both valid, not both ASCII: the same code points.
        (Some(_), Some(_)) => ca.eq(cb),
        // Invalid in its type.
        _ => false,
    }
}

/// The characters of a string value, as Unicode scalar values.
#[derive(Clone)]
struct Chars<'a> {
    kind: u8,
    data: &'a [u8],
    /// False once a sequence invalid for the type was met (the stream
    /// then ends).
    valid: bool,
}

impl<'a> Chars<'a> {
    /// `None` for a type that is not a character string this module
    /// transcodes.
    fn new(t: &Tlv<'a>) -> Option<Self> {
        use string_tag::*;
        match t.tag {
            UTF8 | NUMERIC | PRINTABLE | TELETEX | IA5 | VISIBLE | UNIVERSAL | BMP => Some(Self {
                kind: t.tag,
                data: t.value,
                valid: true,
            }),
            _ => None,
        }
    }

    /// Whether the value is valid in its type (`None` if not) and all
    /// ASCII.
    fn check(&self) -> Option<bool> {
        let mut c = self.clone();
        let mut ascii = true;
        for ch in &mut c {
            ascii &= ch < 0x80;
        }
        c.valid.then_some(ascii)
    }

    fn invalid(&mut self) -> Option<u32> {
        self.valid = false;
        self.data = &[];
        None
    }
}

/// A PrintableString character (X.680 §41.4): also the characters a
/// TeletexString shares with ASCII.
fn printable(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b)
}

impl Iterator for Chars<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        use string_tag::*;
        let (&b0, rest) = self.data.split_first()?;
        match self.kind {
            NUMERIC | PRINTABLE | IA5 | VISIBLE => {
                if b0 >= 0x80 {
                    return self.invalid();
                }
                self.data = rest;
                Some(u32::from(b0))
            }
            TELETEX => {
                if !printable(b0) {
                    return self.invalid();
                }
                self.data = rest;
                Some(u32::from(b0))
            }
            BMP => {
                let Some((&[h, l], rest)) = self.data.split_first_chunk::<2>() else {
                    return self.invalid();
                };
                let c = u32::from(u16::from_be_bytes([h, l]));
                if char::from_u32(c).is_none() {
                    return self.invalid();
                }
                self.data = rest;
                Some(c)
            }
            UNIVERSAL => {
                let Some((q, rest)) = self.data.split_first_chunk::<4>() else {
                    return self.invalid();
                };
                let c = u32::from_be_bytes(*q);
                if char::from_u32(c).is_none() {
                    return self.invalid();
                }
                self.data = rest;
                Some(c)
            }
            // UTF8String: one scalar value, strictly decoded (at most four
            // octets are looked at).
            _ => {
                let n = match b0 {
                    0x00..=0x7f => 1,
                    0xc2..=0xdf => 2,
                    0xe0..=0xef => 3,
                    0xf0..=0xf4 => 4,
                    _ => return self.invalid(),
                };
                let Some(seq) = self.data.get(..n) else {
                    return self.invalid();
                };
                let Some(c) = core::str::from_utf8(seq)
                    .ok()
                    .and_then(|s| s.chars().next())
                else {
                    return self.invalid();
                };
                self.data = &self.data[n..];
                Some(u32::from(c))
            }
        }
    }
}

/// An ASCII string after RFC 4518 §2.2 mapping and §2.6.1 insignificant
/// space handling: no leading or trailing space, one space for any inner
/// run (the RFC's two-space form, compared the same way).
struct Prepared<'a> {
    chars: Chars<'a>,
    fold: bool,
    /// A non-space character has been produced.
    started: bool,
    /// Spaces were skipped since the last non-space character.
    space: bool,
    /// The character after a pending space.
    held: Option<u32>,
}

impl<'a> Prepared<'a> {
    fn new(chars: Chars<'a>, fold: bool) -> Self {
        Self {
            chars,
            fold,
            started: false,
            space: false,
            held: None,
        }
    }
}

impl Iterator for Prepared<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        if let Some(c) = self.held.take() {
            return Some(c);
        }
        // Each round consumes one character of the input.
        loop {
            let c = self.chars.next()?;
            let c = match c {
                // §2.2: TAB, LF, VT, FF, CR are SPACE.
                0x09..=0x0d | 0x20 => {
                    self.space = self.started;
                    continue;
                }
                // §2.2: other control characters are mapped to nothing.
                0x00..=0x1f | 0x7f => continue,
                // §2.2 with RFC 3454 B.2 for caseIgnoreMatch.
                0x41..=0x5a if self.fold => c + 0x20,
                _ => c,
            };
            self.started = true;
            if core::mem::take(&mut self.space) {
                self.held = Some(c);
                return Some(0x20);
            }
            return Some(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    /// An attribute: OID contents, string tag, value.
    type Atv<'a> = (&'a [u8], u8, &'a [u8]);

    /// A Name from RDNs of attributes.
    fn name(rdns: &[&[Atv<'_>]]) -> Vec<u8> {
        let tlv = |t: u8, v: &[u8]| {
            let [hi, lo] = u16::try_from(v.len()).unwrap().to_be_bytes();
            let mut o = match (hi, lo) {
                (0, 0..0x80) => vec![t, lo],
                (0, _) => vec![t, 0x81, lo],
                _ => vec![t, 0x82, hi, lo],
            };
            o.extend_from_slice(v);
            o
        };
        let mut seq = Vec::new();
        for rdn in rdns {
            let mut set = Vec::new();
            for (oid, t, v) in *rdn {
                let mut atv = tlv(tag::OID, oid);
                atv.extend(tlv(*t, v));
                set.extend(tlv(tag::SEQUENCE, &atv));
            }
            seq.extend(tlv(SET, &set));
        }
        tlv(tag::SEQUENCE, &seq)
    }

    const C: &[u8] = &[0x55, 0x04, 0x06];
    const O: &[u8] = &[0x55, 0x04, 0x0a];
    const OU: &[u8] = &[0x55, 0x04, 0x0b];
    const CN: &[u8] = &[0x55, 0x04, 0x03];
    /// emailAddress 1.2.840.113549.1.9.1: no caseIgnoreMatch here.
    const EMAIL: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01];
    const DC: &[u8] = &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19];
    use string_tag::*;

    /// The interop finding: strongSwan's PrintableString re-encoding of an
    /// OpenSSL (UTF8String) subject.
    fn interop(t: u8, cn: &[u8]) -> Vec<u8> {
        name(&[
            &[(C, PRINTABLE, b"US")],
            &[(O, t, b"Interop Test")],
            &[(OU, t, b"DefaultRAGroup")],
            &[(CN, t, cn)],
        ])
    }

    #[test]
    fn printable_utf8_ia5_t61_bmp_universal_are_the_same_characters() {
        let utf8 = interop(UTF8, b"client.interop.test");
        assert!(names_match(&utf8, &utf8));
        for t in [PRINTABLE, IA5, VISIBLE, TELETEX] {
            let other = interop(t, b"client.interop.test");
            assert_ne!(utf8, other);
            assert!(names_match(&utf8, &other), "{t:#x}");
            assert!(names_match(&other, &utf8), "{t:#x}");
        }
        let bmp = |s: &[u8]| s.iter().flat_map(|b| [0, *b]).collect::<Vec<u8>>();
        let ucs4 = |s: &[u8]| s.iter().flat_map(|b| [0, 0, 0, *b]).collect::<Vec<u8>>();
        let wide = |t: u8, f: &dyn Fn(&[u8]) -> Vec<u8>| {
            name(&[
                &[(C, PRINTABLE, b"US")],
                &[(O, t, &f(b"Interop Test"))],
                &[(OU, t, &f(b"DefaultRAGroup"))],
                &[(CN, t, &f(b"client.interop.test"))],
            ])
        };
        assert!(names_match(&utf8, &wide(BMP, &bmp)));
        assert!(names_match(&wide(UNIVERSAL, &ucs4), &utf8));
        // Non-ASCII: the same code points in UTF-8 and UCS-2 match; a
        // different one does not.
        let e_acute_utf8 = name(&[&[(CN, UTF8, "José".as_bytes())]]);
        let e_acute_bmp = name(&[&[(CN, BMP, &[0, b'J', 0, b'o', 0, b's', 0, 0xe9])]]);
        let e_grave_bmp = name(&[&[(CN, BMP, &[0, b'J', 0, b'o', 0, b's', 0, 0xe8])]]);
        assert!(names_match(&e_acute_utf8, &e_acute_bmp));
        assert!(!names_match(&e_acute_utf8, &e_grave_bmp));
        // A different value is a different name.
        assert!(!names_match(
            &utf8,
            &interop(PRINTABLE, b"client2.interop.test")
        ));
    }

    #[test]
    fn case_and_insignificant_spaces_per_rfc_4518() {
        let cert = interop(UTF8, b"client.interop.test");
        for same in [
            &b"CLIENT.Interop.Test"[..],
            b"  client.interop.test",
            b"client.interop.test   ",
            b"\tclient.interop.test\r\n",
        ] {
            assert!(names_match(&cert, &interop(PRINTABLE, same)), "{same:?}");
        }
        let spaced = name(&[&[(CN, UTF8, b"Interop   Test  Client")]]);
        for same in [&b"interop test client"[..], b" Interop Test\t Client "] {
            let id = name(&[&[(CN, PRINTABLE, same)]]);
            assert!(names_match(&spaced, &id), "{same:?}");
        }
        for different in [
            &b"InteropTest Client"[..],
            b"Interop Test Clients",
            b"Interop Test",
        ] {
            let id = name(&[&[(CN, PRINTABLE, different)]]);
            assert!(!names_match(&spaced, &id), "{different:?}");
        }
        // All spaces and empty are the same (RFC 4518: two SPACEs).
        let blank = name(&[&[(CN, UTF8, b"   ")]]);
        assert!(names_match(&blank, &name(&[&[(CN, PRINTABLE, b"")]])));
        assert!(!names_match(&blank, &name(&[&[(CN, PRINTABLE, b"a")]])));
        // domainComponent ignores case (RFC 5280 §7.3).
        let dc = name(&[&[(DC, IA5, b"Example")], &[(DC, IA5, b"COM")]]);
        assert!(names_match(
            &dc,
            &name(&[&[(DC, UTF8, b"example")], &[(DC, IA5, b"com")]])
        ));
        // An attribute without caseIgnoreMatch here: transcoding only.
        let email = name(&[&[(EMAIL, IA5, b"Client@Example.com")]]);
        assert!(names_match(
            &email,
            &name(&[&[(EMAIL, UTF8, b"Client@Example.com")]])
        ));
        assert!(!names_match(
            &email,
            &name(&[&[(EMAIL, IA5, b"client@example.com")]])
        ));
        // Non-ASCII case is not folded: refused, never a false match.
        let upper = name(&[&[(CN, UTF8, "JOSÉ".as_bytes())]]);
        assert!(!names_match(
            &upper,
            &name(&[&[(CN, UTF8, "josé".as_bytes())]])
        ));
    }

    #[test]
    fn order_types_and_number_of_attributes_must_agree() {
        let cert = interop(UTF8, b"client.interop.test");
        // Another RDN order.
        let reordered = name(&[
            &[(CN, PRINTABLE, b"client.interop.test")],
            &[(OU, PRINTABLE, b"DefaultRAGroup")],
            &[(O, PRINTABLE, b"Interop Test")],
            &[(C, PRINTABLE, b"US")],
        ]);
        assert!(!names_match(&cert, &reordered));
        // Another type with the same value.
        let retyped = name(&[
            &[(C, PRINTABLE, b"US")],
            &[(O, PRINTABLE, b"Interop Test")],
            &[(O, PRINTABLE, b"DefaultRAGroup")],
            &[(CN, PRINTABLE, b"client.interop.test")],
        ]);
        assert!(!names_match(&cert, &retyped));
        // One RDN more, one RDN fewer.
        let mut longer: Vec<&[Atv<'_>]> = vec![
            &[(C, PRINTABLE, b"US")],
            &[(O, PRINTABLE, b"Interop Test")],
            &[(OU, PRINTABLE, b"DefaultRAGroup")],
            &[(CN, PRINTABLE, b"client.interop.test")],
        ];
        assert!(names_match(&cert, &name(&longer)));
        longer.push(&[(CN, PRINTABLE, b"x")]);
        assert!(!names_match(&cert, &name(&longer)));
        assert!(!names_match(&name(&longer), &cert));
        longer.truncate(3);
        assert!(!names_match(&cert, &name(&longer)));
        // A multi-valued RDN: attributes in any order within the SET
        // (RFC 5280 §7.1), but the same number of them.
        let multi = name(&[&[(O, UTF8, b"Example"), (CN, UTF8, b"client1")]]);
        let swapped = name(&[&[(CN, PRINTABLE, b"client1"), (O, PRINTABLE, b"example")]]);
        assert!(names_match(&multi, &swapped));
        let twice = name(&[&[(CN, PRINTABLE, b"client1"), (CN, PRINTABLE, b"client1")]]);
        assert!(!names_match(&multi, &twice));
        let two_rdns = name(&[&[(O, UTF8, b"Example")], &[(CN, UTF8, b"client1")]]);
        assert!(!names_match(&multi, &two_rdns));
        let one = name(&[&[(O, UTF8, b"Example")]]);
        assert!(!names_match(&multi, &one));
        // A value that is not a string matches only itself.
        let int = name(&[&[(CN, tag::INTEGER, b"\x01")]]);
        assert!(names_match(&int, &int.clone()));
        assert!(!names_match(&int, &name(&[&[(CN, PRINTABLE, b"\x01")]])));
    }

    /// 200,000 seeded mutations (octet changes, insertions, deletions,
    /// truncations) of names with multi-valued RDNs and every string
    /// type: no panic, and the comparison stays reflexive and symmetric.
    #[test]
    fn mutated_names_never_panic_and_compare_symmetrically() {
        let seeds = [
            interop(UTF8, b"client.interop.test"),
            interop(PRINTABLE, b"CLIENT.interop.test  "),
            name(&[
                &[
                    (O, BMP, &[0, b'E', 0, b'x']),
                    (CN, UNIVERSAL, &[0, 0, 0, b'a']),
                ],
                &[
                    (DC, IA5, b"Ex"),
                    (OU, TELETEX, b"a b"),
                    (EMAIL, VISIBLE, b"x"),
                ],
            ]),
            name(&[
                &[(CN, PRINTABLE, b"ex"), (O, UTF8, b"a")],
                &[
                    (DC, UTF8, b"eX"),
                    (OU, PRINTABLE, b"a  b"),
                    (EMAIL, IA5, b"x"),
                ],
            ]),
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = move |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            usize::try_from(x % u64::try_from(n.max(1)).unwrap()).unwrap()
        };
        let mut matched = 0;
        for i in 0..200_000 {
            let a = &seeds[i % seeds.len()];
            let b = &seeds[rnd(seeds.len())];
            let mut m = a.clone();
            for _ in 0..=rnd(3) {
                let at = rnd(m.len() + 1);
                match rnd(4) {
                    0 if at < m.len() => m[at] ^= 1 << rnd(8),
                    1 => m.insert(at, [0x20, 0x0c, 0x13, 0x31, 0x30, 0x80][rnd(6)]),
                    2 if at < m.len() => drop(m.remove(at)),
                    _ => m.truncate(at),
                }
            }
            assert!(names_match(&m, &m));
            let (ab, ba) = (names_match(&m, b), names_match(b, &m));
            assert_eq!(ab, ba, "{m:02x?} {b:02x?}");
            matched += usize::from(ab);
        }
        // Some mutations (spaces, case, string tags) keep the name.
        assert!(matched > 0);
    }

    #[test]
    fn truncated_garbage_and_invalid_strings_are_refused_without_panic() {
        let cert = interop(UTF8, b"client.interop.test");
        let id = interop(PRINTABLE, b"CLIENT.interop.test");
        assert!(names_match(&cert, &id));
        // Every truncation, and every single-octet change, of the ID: no
        // panic; a truncation never matches.
        for n in 0..id.len() {
            assert!(!names_match(&cert, &id[..n]), "{n}");
            assert!(!names_match(&id[..n], &cert), "{n}");
        }
        for i in 0..id.len() {
            for x in [0x01u8, 0x80, 0xff] {
                let mut bad = id.clone();
                bad[i] ^= x;
                let _ = names_match(&cert, &bad);
                let _ = names_match(&bad, &cert);
            }
        }
        // Trailing octets after the Name, BER indefinite lengths, garbage.
        let mut trailing = id.clone();
        trailing.push(0);
        assert!(!names_match(&cert, &trailing));
        for garbage in [
            &[][..],
            &[0x30, 0x80, 0x00, 0x00],
            &[0x30, 0x00],
            &[0x30, 0x02, 0x31, 0x00],
            &[0x30, 0x04, 0x31, 0x02, 0x30, 0x00],
            &[0xff; 16],
        ] {
            assert!(!names_match(&cert, garbage), "{garbage:02x?}");
        }
        // Invalid in their types: refused, whatever the characters.
        for (t, v) in [
            (PRINTABLE, &b"client.interop.tes\xf4"[..]),
            (UTF8, b"client.interop.tes\xc3"),     // cut sequence
            (UTF8, b"client.interop.tes\xc0\xb4"), // overlong
            (UTF8, b"client.interop.tes\xed\xa0\x80"), // surrogate
            (TELETEX, b"client.interop.test\x7e"), // not shared with ASCII
        ] {
            let bad = interop(t, v);
            assert!(!names_match(&cert, &bad), "{t:#x} {v:02x?}");
        }
        let odd_bmp = name(&[&[(CN, BMP, &[0, b'a', 0])]]);
        assert!(!names_match(&name(&[&[(CN, UTF8, b"a")]]), &odd_bmp));
        let surrogate = name(&[&[(CN, BMP, &[0xd8, 0x00])]]);
        assert!(!names_match(
            &name(&[&[(CN, UTF8, "\u{d7ff}".as_bytes())]]),
            &surrogate
        ));
        // An RDN larger than MAX_RDN_ATTRIBUTES: byte equality only.
        let many: Vec<Atv<'_>> = (0..=MAX_RDN_ATTRIBUTES)
            .map(|_| (CN, UTF8, &b"a"[..]))
            .collect();
        let many_printable: Vec<Atv<'_>> = (0..=MAX_RDN_ATTRIBUTES)
            .map(|_| (CN, PRINTABLE, &b"a"[..]))
            .collect();
        let big = name(&[&many]);
        assert!(names_match(&big, &big.clone()));
        assert!(!names_match(&big, &name(&[&many_printable])));
    }
}
