//! Extended Tektronix hex files (`.xtek`, written by GNU objcopy's `tekhex` target and by
//! assemblers): text records `%LLTCC…` with a record length (2 hex digits: the characters after
//! the `%`), a type (`6` data, `3` symbol, `8` termination), a checksum (2 hex digits: the sum of
//! the values of every character after the `%` except the checksum's own two, modulo 256, where
//! `0`–`9` count 0–9, `A`–`Z` 10–35, `$` 36, `%` 37, `.` 38, `_` 39 and `a`–`z` 40–65), then for
//! data records an address (a digit giving its length, 0 meaning 16, then the digits) and the data,
//! for termination records the entry address, and for symbol records a section name and its
//! section and symbol definitions.
//!
//! Every record's checksum and length are checked; a mismatch is a note naming the record, and
//! the record is used all the same. The data records become one member, `/image.bin`, laid out
//! from the lowest to the highest address with gaps of 0xFF (as for Intel HEX); the sections and
//! symbols are listed in the description (a `1` field is read as GNU binutils writes it, a section
//! range, although the format's description calls it a global address symbol). Recognised only
//! at the start of a file.

use crate::extract::Extractor;
use crate::format::{Format, FormatError, Magic, Probe};
use crate::formats::tek_hex::{emit_image, hex_bytes, hex_number, hex_value, lines};

/// Extended Tektronix hex.
#[derive(Debug)]
pub struct ExtendedTekHex;

const MAGICS: &[Magic] = &[Magic::start(b"%")];
/// Most symbols listed in the description.
const MAX_LISTED: usize = 32;

/// The checksum value of a character, `None` for characters records never contain.
fn char_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'Z' => Some(c - b'A' + 10),
        b'$' => Some(36),
        b'%' => Some(37),
        b'.' => Some(38),
        b'_' => Some(39),
        b'a'..=b'z' => Some(c - b'a' + 40),
        _ => None,
    }
}

/// A length digit: 1–15, 0 meaning 16.
fn length_digit(c: u8) -> Option<usize> {
    match hex_value(c)? {
        0 => Some(16),
        n => Some(usize::from(n)),
    }
}

/// Reads fields from a record's text.
struct Cursor<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn done(&self) -> bool {
        self.at >= self.text.len()
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.text.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }

    /// A length digit and that many characters.
    fn counted(&mut self) -> Option<&'a [u8]> {
        let n = length_digit(*self.take(1)?.first()?)?;
        self.take(n)
    }

    /// A length digit and that many hex digits.
    fn number(&mut self) -> Option<u64> {
        hex_number(self.counted()?)
    }
}

/// What a record holds.
enum Body {
    Data(u64, Vec<u8>),
    /// A data record whose address or data can not be read.
    BadData,
    Symbols(Vec<String>),
    End(Option<u64>),
}

struct Record {
    line: usize,
    /// Length field, actual length.
    length: (usize, usize),
    /// Checksum: stored, computed.
    sum: (u8, u8),
    body: Body,
}

/// The definitions of a symbol record, as text; a part that can not be read ends the list with
/// a remark.
fn symbols(text: &[u8]) -> Vec<String> {
    let mut c = Cursor { text, at: 0 };
    let mut out = Vec::new();
    let Some(section) = c.counted().map(|s| String::from_utf8_lossy(s).into_owned()) else {
        out.push("(unreadable symbol record)".into());
        return out;
    };
    let mut fields = 0usize;
    while !c.done() && fields < 1000 {
        fields += 1;
        let parsed = (|| {
            let kind = *c.take(1)?.first()?;
            Some(match kind {
                b'0' => {
                    let base = c.number()?;
                    let len = c.number()?;
                    format!("section {section} {base:#x}+{len:#x}")
                }
                b'1' => {
                    let start = c.number()?;
                    let end = c.number()?;
                    format!("section {section} {start:#x}-{end:#x}")
                }
                b'2'..=b'8' => {
                    let name = String::from_utf8_lossy(c.counted()?).into_owned();
                    let value = c.number()?;
                    let what = match kind {
                        b'2' => "global scalar",
                        b'3' => "global code",
                        b'4' => "global data",
                        b'5' => "local address",
                        b'6' => "local scalar",
                        b'7' => "local code",
                        _ => "local data",
                    };
                    format!("{name}={value:#x} ({what}, {section})")
                }
                _ => return None,
            })
        })();
        match parsed {
            Some(s) => out.push(s),
            None => {
                out.push(format!("(unreadable definitions in section {section})"));
                break;
            }
        }
    }
    out
}

/// A record line, `None` when it is not one.
fn record(line: &[u8], number: usize) -> Option<Record> {
    let body = line.strip_prefix(b"%")?;
    let declared = usize::try_from(hex_number(body.get(..2)?)?).ok()?;
    let kind = *body.get(2)?;
    if !matches!(kind, b'3' | b'6' | b'8') {
        return None;
    }
    let stored = u8::try_from(hex_number(body.get(3..5)?)?).ok()?;
    let mut computed = 0u8;
    for (i, &c) in body.iter().enumerate() {
        let v = char_value(c)?;
        if !(3..5).contains(&i) {
            computed = computed.wrapping_add(v);
        }
    }
    let rest = body.get(5..)?;
    let body = match kind {
        b'6' => {
            let mut c = Cursor { text: rest, at: 0 };
            let parsed = c
                .number()
                .and_then(|addr| Some((addr, hex_bytes(rest.get(c.at..)?)?)));
            match parsed {
                Some((addr, data)) => Body::Data(addr, data),
                None => Body::BadData,
            }
        }
        b'8' => Body::End(Cursor { text: rest, at: 0 }.number()),
        _ => Body::Symbols(symbols(rest)),
    };
    Some(Record {
        line: number,
        length: (declared, line.len() - 1),
        sum: (stored, computed),
        body,
    })
}

struct File {
    records: Vec<Record>,
    end: usize,
}

fn parse(data: &[u8]) -> Option<File> {
    let mut records = Vec::new();
    let mut end = 0usize;
    for (i, (_, line, next)) in lines(data).enumerate() {
        let Some(r) = record(line, i + 1) else { break };
        end = next;
        let last = matches!(r.body, Body::End(_));
        records.push(r);
        if last {
            break;
        }
    }
    records
        .iter()
        .any(|r| matches!(&r.body, Body::Data(_, d) if !d.is_empty()))
        .then_some(File { records, end })
}

impl Format for ExtendedTekHex {
    fn name(&self) -> &'static str {
        "xtek-hex"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn anchored(&self) -> bool {
        true
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let f = parse(data)?;
        let sound = f
            .records
            .iter()
            .all(|r| r.sum.0 == r.sum.1 && r.length.0 == r.length.1);
        Some(Probe {
            length: Some(f.end as u64),
            confidence: if sound { 90 } else { 40 },
            description: format!("Extended Tektronix hex, {} records", f.records.len()),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let f = parse(data).ok_or_else(|| FormatError::invalid("not Extended Tektronix hex"))?;
        let (mut bad_sums, mut bad_lengths) = (0usize, 0usize);
        let mut chunks = Vec::new();
        let mut listed = Vec::new();
        let mut entry = None;
        for (k, r) in f.records.iter().enumerate() {
            let k = k + 1;
            if r.length.0 != r.length.1 {
                bad_lengths += 1;
                out.note(format!(
                    "record {k} (line {}): record length mismatch: the length field says {} characters, the record has {}",
                    r.line, r.length.0, r.length.1
                ));
            }
            if r.sum.0 != r.sum.1 {
                bad_sums += 1;
                out.note(format!(
                    "record {k} (line {}): checksum mismatch: stored {:#04x}, computed {:#04x}",
                    r.line, r.sum.0, r.sum.1
                ));
            }
            match &r.body {
                Body::Data(addr, bytes) => chunks.push((*addr, bytes.clone())),
                Body::BadData => out.note(format!(
                    "record {k} (line {}): the data record's address or data can not be read",
                    r.line
                )),
                Body::Symbols(s) => listed.extend(s.iter().cloned()),
                Body::End(e) => {
                    entry = *e;
                    if e.is_none() && r.length.0 == r.length.1 {
                        out.note(format!(
                            "record {k} (line {}): the termination record has no readable address",
                            r.line
                        ));
                    }
                }
            }
        }
        if !matches!(f.records.last().map(|r| &r.body), Some(Body::End(_))) {
            out.note("no termination record");
        }
        let n = f.records.len();
        let verdict = if bad_sums == 0 && bad_lengths == 0 {
            out.verified();
            "checksum and length verified on every record".to_string()
        } else {
            let mut v = Vec::new();
            if bad_sums > 0 {
                v.push(format!("checksum mismatch in {bad_sums} of {n} records"));
            }
            if bad_lengths > 0 {
                v.push(format!("length mismatch in {bad_lengths} of {n} records"));
            }
            v.join(", ")
        };
        let mut extra = String::new();
        if let Some(e) = entry {
            extra.push_str(&format!(", entry {e:#x}"));
        }
        if !listed.is_empty() {
            let more = listed.len().saturating_sub(MAX_LISTED);
            listed.truncate(MAX_LISTED);
            extra.push_str(&format!(", symbols: {}", listed.join(", ")));
            if more > 0 {
                extra.push_str(&format!(" and {more} more"));
            }
        }
        match emit_image(chunks, data.len() as u64, out)? {
            Some((lo, size)) => out.describe(format!(
                "Extended Tektronix hex, {n} records, load address {lo:#x}, {size} bytes{extra}; {verdict}"
            )),
            None => out.describe(format!("Extended Tektronix hex, {n} records{extra}; {verdict}")),
        }
        Ok(f.end as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::{ExtendedTekHex, char_value};
    use crate::format::Format;
    use crate::formats::ascii85::testing::run;

    /// A record of type `kind` with `rest` after the checksum, with correct length and checksum.
    fn rec(kind: char, rest: &str) -> String {
        let len = format!("{:02X}", rest.len() + 5);
        let sum = format!("{len}{kind}{rest}")
            .bytes()
            .map(|c| u32::from(char_value(c).unwrap()))
            .sum::<u32>()
            & 0xff;
        format!("%{len}{kind}{sum:02X}{rest}")
    }

    fn data(addr: u64, bytes: &[u8]) -> String {
        let a = format!("{addr:X}");
        let d: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
        rec('6', &format!("{:X}{a}{d}", a.len() % 16))
    }

    #[test]
    fn the_fact_sample_records() {
        assert_eq!(rec('3', "5.sec1110246"), "%113CF5.sec1110246");
        assert_eq!(rec('8', "800000000"), "%0E81E800000000");
        assert_eq!(rec('6', "800000040726C642E0A00"), "%1A65C800000040726C642E0A00");
    }

    #[test]
    fn image_symbols_and_entry() {
        let text = format!(
            "{}\n{}\n{}\n{}\n{}\nrest",
            data(0x100, b"abc"),
            data(0x106, b"z"),
            rec('3', "5.sec11310041046"),
            rec('3', "4text34main3120"),
            rec('8', "3100")
        );
        let d = text.as_bytes();
        let p = ExtendedTekHex.probe(d).unwrap();
        assert_eq!(p.confidence, 90);
        let o = run(&ExtendedTekHex, d).unwrap();
        assert_eq!(o.consumed, (d.len() - 4) as u64);
        assert_eq!(o.names(), vec!["/image.bin"]);
        assert_eq!(o.member("/image.bin").unwrap(), b"abc\xff\xff\xffz");
        assert!(o.verified);
        assert!(o.notes.is_empty(), "{:?}", o.notes);
        assert!(
            o.description.contains("load address 0x100, 7 bytes, entry 0x100"),
            "{}",
            o.description
        );
        assert!(
            o.description.contains("section .sec1 0x100-0x1046"),
            "{}",
            o.description
        );
        assert!(
            o.description.contains("main=0x120 (global code, text)"),
            "{}",
            o.description
        );
    }

    #[test]
    fn sparse_image_across_pieces() {
        let edge: Vec<u8> = (0..32u8).collect();
        let text = format!(
            "{}\n{}\n{}\n{}\n",
            data(0x2000_0000, b"start"),
            data(0x2010_0000 - 16, &edge),
            data(0x2025_0000, b"end"),
            rec('8', "820000000")
        );
        let o = run(&ExtendedTekHex, text.as_bytes()).unwrap();
        assert!(o.notes.is_empty(), "{:?}", o.notes);
        let image = o.member("/image.bin").unwrap();
        assert_eq!(image.len(), 0x25_0003);
        assert_eq!(&image[..5], b"start");
        assert_eq!(&image[0x10_0000 - 16..0x10_0000 + 16], &edge[..]);
        assert_eq!(&image[0x25_0000..], b"end");
        assert!(image[5..0x10_0000 - 16].iter().all(|&b| b == 0xff));
        assert!(image[0x10_0010..0x25_0000].iter().all(|&b| b == 0xff));
        assert!(
            o.description
                .contains("load address 0x20000000, 2424835 bytes, entry 0x20000000"),
            "{}",
            o.description
        );
        // Addresses too far apart for an image: a note, no member.
        let text = format!("{}\n{}\n", data(0, b"a"), data(0x1_0000_0000, b"b"));
        let o = run(&ExtendedTekHex, text.as_bytes()).unwrap();
        assert!(o.members.is_empty());
        assert_eq!(o.notes.len(), 2, "{:?}", o.notes); // the span, no termination record
    }

    #[test]
    fn mismatches_are_notes_naming_the_record() {
        let good = data(0, b"Hello");
        let mut bad_sum = good.clone();
        bad_sum.replace_range(4..6, "00");
        let mut bad_len = good.clone();
        bad_len.replace_range(1..3, "FF");
        let text = format!("{bad_sum}\n{}\n{bad_len}\n%078101", data(0x10, b"x"));
        let o = run(&ExtendedTekHex, text.as_bytes()).unwrap();
        assert!(!o.verified);
        assert!(
            o.notes
                .iter()
                .any(|n| n.starts_with("record 1 (line 1): checksum mismatch: stored 0x00")),
            "{:?}",
            o.notes
        );
        assert!(
            o.notes.iter().any(|n| n.starts_with(
                "record 3 (line 3): record length mismatch: the length field says 255 characters"
            )),
            "{:?}",
            o.notes
        );
        // The objcopy terminator that lost its last character.
        assert!(o.notes.iter().any(|n| n.starts_with("record 4 (line 4): record length mismatch: the length field says 7 characters, the record has 6")), "{:?}", o.notes);
        assert_eq!(&o.member("/image.bin").unwrap()[..5], b"Hello");
        assert!(
            o.description
                .contains("checksum mismatch in 2 of 4 records, length mismatch in 2 of 4 records"),
            "{}",
            o.description
        );
    }

    #[test]
    fn mutations_never_break_the_invariants() {
        let text = format!(
            "{}\n{}\n{}\n{}\n{}\n",
            data(0, b"Hello"),
            data(0xffff_ffff_ffff_fff0, b"x"),
            rec('3', "5.sec11310041046"),
            rec('3', "4text34main3120"),
            rec('8', "3100")
        );
        crate::formats::ascii85::testing::shake("xtek-hex", text.as_bytes(), 300);
    }

    #[test]
    fn refuses_other_text() {
        for bad in [
            &b"%"[..],
            b"%0E81E800000000",             // a terminator alone
            b"%1A65C800000040726C64!E0A00", // a character outside the set
            b"%1A75C800000040726C642E0A00", // unknown type
            b"%PDF-1.4\n",
            b"%!PS-Adobe\n",
            b"x%1A65C800000040726C642E0A00",
        ] {
            assert!(
                ExtendedTekHex.probe(bad).is_none(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
            assert!(run(&ExtendedTekHex, bad).is_err());
        }
        let text = format!(
            "{}\n{}\n{}\n",
            data(0x20, b"data"),
            rec('3', "5.sec1110246"),
            rec('8', "10")
        );
        for n in 0..text.len() {
            let _ = ExtendedTekHex.probe(&text.as_bytes()[..n]);
            let _ = run(&ExtendedTekHex, &text.as_bytes()[..n]);
        }
        // Symbol records that can not be read do not panic.
        for s in ["", "0", "F", "5.sec", "5.sec19", "5.sec13x", "5.sec1200"] {
            let _ = super::symbols(s.as_bytes());
        }
    }
}
