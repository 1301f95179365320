//! Tektronix hex files (`.tek`, `.hex`): text records `/AAAALLCC<data>DD` carrying a 16-bit
//! address (4 hex digits), a byte count (2), a header checksum (2: the sum of the values of the six
//! address and count digits, modulo 256), the data (2 hex digits a byte) and a data checksum (the
//! sum of the values of the data digits, modulo 256). A record with a count of zero, `/AAAA00CC`,
//! ends the file and gives the start address.
//!
//! Both checksums of every record are checked, and a record is sound only when both match (FACT's
//! older plugin accepted a record when either did); a mismatch is a note naming the record, and
//! the record's data is used all the same. The records become one member, `/image.bin`: the bytes
//! from the lowest to the highest address, gaps filled with 0xFF (as erased flash reads), as the
//! Intel HEX format does. Recognised only at the start of a file (the `/` magic is weak).

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe};

/// Tektronix hex.
#[derive(Debug)]
pub struct TekHex;

const MAGICS: &[Magic] = &[Magic::start(b"/")];

/// Largest span of addresses turned into an image.
const MAX_SPAN: u64 = 256 << 20;

/// The value of a hex digit.
pub(crate) fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// A run of hex digits as a number (at most 16 digits).
pub(crate) fn hex_number(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    digits
        .iter()
        .try_fold(0u64, |acc, &c| Some((acc << 4) | u64::from(hex_value(c)?)))
}

/// Hex text (an even number of digits) as bytes.
pub(crate) fn hex_bytes(digits: &[u8]) -> Option<Vec<u8>> {
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks_exact(2)
        .map(|p| Some(hex_value(*p.first()?)? << 4 | hex_value(*p.get(1)?)?))
        .collect()
}

/// The lines of `data` (without line ends) with their start offsets, and the offset after each.
pub(crate) fn lines(data: &[u8]) -> impl Iterator<Item = (usize, &[u8], usize)> + '_ {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        if at >= data.len() {
            return None;
        }
        let rest = data.get(at..)?;
        let (raw, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (rest.get(..i)?, at + i + 1),
            None => (rest, data.len()),
        };
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let start = at;
        at = next;
        Some((start, line, next))
    })
}

/// Image bytes written at a time.
const PIECE: u64 = 1 << 20;

/// Lays data chunks (address, bytes) out as one member, `/image.bin`, from the lowest to the
/// highest address, gaps filled with 0xFF, written in pieces (a sparse image is never held in
/// memory whole). Returns the load address and the bytes written, or `None` when there is no
/// data or the addresses span more than [`MAX_SPAN`] (a note then says so). `input_len` is the
/// size of the text, for the expansion ratio.
pub(crate) fn emit_image(
    mut chunks: Vec<(u64, Vec<u8>)>,
    input_len: u64,
    out: &mut Extractor<'_>,
) -> Result<Option<(u64, u64)>, FormatError> {
    chunks.retain(|c| !c.1.is_empty());
    // Stable: where records overlap, the one at the higher address (then the later one) wins.
    chunks.sort_by_key(|c| c.0);
    let Some(lo) = chunks.first().map(|c| c.0) else {
        return Ok(None);
    };
    let hi = chunks
        .iter()
        .map(|(a, b)| a.saturating_add(b.len() as u64))
        .max()
        .unwrap_or(lo);
    let span = hi - lo;
    if span > MAX_SPAN {
        out.note(format!(
            "the records span {span} bytes of addresses (from {lo:#x}), more than {MAX_SPAN}; no image was made"
        ));
        return Ok(None);
    }
    let mut sink = out.sink(Entry::file(b"/image.bin".to_vec()));
    let mut buf = Vec::with_capacity(PIECE.min(span) as usize);
    let mut result = Ok(());
    let mut first = 0usize;
    let mut ws = 0u64;
    while ws < span {
        result = out.check_time();
        if result.is_err() {
            break;
        }
        let we = ws.saturating_add(PIECE).min(span);
        buf.clear();
        buf.resize((we - ws) as usize, 0xff);
        // Records are short: those that end before this window are done with.
        let end_of = |(a, b): &(u64, Vec<u8>)| (a - lo).saturating_add(b.len() as u64);
        while chunks.get(first).is_some_and(|c| end_of(c) <= ws) {
            first += 1;
        }
        for c in chunks.get(first..).unwrap_or_default() {
            let s = c.0 - lo;
            if s >= we {
                break;
            }
            let e = end_of(c);
            if e <= ws {
                continue;
            }
            let (from, to) = (s.max(ws), e.min(we));
            let src = c.1.get((from - s) as usize..(to - s) as usize);
            let dst = buf.get_mut((from - ws) as usize..(to - ws) as usize);
            if let (Some(src), Some(dst)) = (src, dst) {
                dst.copy_from_slice(src);
            }
        }
        result = sink.write(out, &buf, input_len);
        if result.is_err() {
            break;
        }
        ws = we;
    }
    let written = sink.len();
    sink.finish(out, result.is_err());
    out.settle(result)?;
    Ok(Some((lo, written)))
}

/// One parsed record.
struct Record {
    line: usize,
    addr: u64,
    data: Vec<u8>,
    /// Header checksum: stored, computed.
    c1: (u8, u8),
    /// Data checksum: stored, computed (`None` for the termination record).
    c2: Option<(u8, u8)>,
}

impl Record {
    fn sound(&self) -> bool {
        self.c1.0 == self.c1.1 && self.c2.is_none_or(|(s, c)| s == c)
    }
}

fn digit_sum(digits: &[u8]) -> Option<u8> {
    digits
        .iter()
        .try_fold(0u8, |s, &c| Some(s.wrapping_add(hex_value(c)?)))
}

/// A record line, `None` when it is not one.
fn record(line: &[u8], number: usize) -> Option<Record> {
    let body = line.strip_prefix(b"/")?;
    let head = body.get(..6)?;
    let addr = hex_number(head.get(..4)?)?;
    let count = usize::try_from(hex_number(head.get(4..6)?)?).ok()?;
    let c1 = (u8::try_from(hex_number(body.get(6..8)?)?).ok()?, digit_sum(head)?);
    if count == 0 {
        return (body.len() == 8).then_some(Record {
            line: number,
            addr,
            data: Vec::new(),
            c1,
            c2: None,
        });
    }
    if body.len() != 8 + 2 * count + 2 {
        return None;
    }
    let digits = body.get(8..8 + 2 * count)?;
    let data = hex_bytes(digits)?;
    let stored = u8::try_from(hex_number(body.get(8 + 2 * count..)?)?).ok()?;
    Some(Record {
        line: number,
        addr,
        data,
        c1,
        c2: Some((stored, digit_sum(digits)?)),
    })
}

struct File {
    records: Vec<Record>,
    /// Offset after the last record's line.
    end: usize,
    /// The termination record, when there is one.
    terminated: bool,
}

fn parse(data: &[u8]) -> Option<File> {
    let mut records = Vec::new();
    let mut end = 0usize;
    let mut terminated = false;
    for (i, (_, line, next)) in lines(data).enumerate() {
        let Some(r) = record(line, i + 1) else { break };
        end = next;
        let last = r.data.is_empty();
        records.push(r);
        if last {
            terminated = true;
            break;
        }
    }
    records.iter().any(|r| !r.data.is_empty()).then_some(File {
        records,
        end,
        terminated,
    })
}

impl Format for TekHex {
    fn name(&self) -> &'static str {
        "tek-hex"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn anchored(&self) -> bool {
        true
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let f = parse(data)?;
        let bad = f.records.iter().filter(|r| !r.sound()).count();
        Some(Probe {
            length: Some(f.end as u64),
            confidence: if bad == 0 { 90 } else { 40 },
            description: format!("Tektronix hex, {} records", f.records.len()),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let f = parse(data).ok_or_else(|| FormatError::invalid("not Tektronix hex"))?;
        let mut bad = 0usize;
        for r in &f.records {
            if r.c1.0 != r.c1.1 {
                out.note(format!(
                    "record {} (line {}, address {:#06x}): header checksum mismatch: stored {:#04x}, computed {:#04x}",
                    r.line, r.line, r.addr, r.c1.0, r.c1.1
                ));
            }
            if let Some((stored, computed)) = r.c2.filter(|(s, c)| s != c) {
                out.note(format!(
                    "record {} (line {}, address {:#06x}): data checksum mismatch: stored {stored:#04x}, computed {computed:#04x}",
                    r.line, r.line, r.addr
                ));
            }
            bad += usize::from(!r.sound());
        }
        if !f.terminated {
            out.note("no termination record (a record with a count of 0)");
        }
        let chunks: Vec<(u64, Vec<u8>)> = f
            .records
            .iter()
            .filter(|r| !r.data.is_empty())
            .map(|r| (r.addr, r.data.clone()))
            .collect();
        let verdict = if bad == 0 {
            out.verified();
            "both checksums verified on every record".to_string()
        } else {
            format!("checksum mismatch in {bad} of {} records", f.records.len())
        };
        let start = f
            .records
            .last()
            .filter(|_| f.terminated)
            .map(|r| format!(", start address {:#06x}", r.addr))
            .unwrap_or_default();
        let what = format!("Tektronix hex, {} records", f.records.len());
        match emit_image(chunks, data.len() as u64, out)? {
            Some((lo, size)) => out.describe(format!(
                "{what}, load address {lo:#x}, {size} bytes{start}; {verdict}"
            )),
            None => out.describe(format!("{what}; {verdict}")),
        }
        Ok(f.end as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::TekHex;
    use crate::format::Format;
    use crate::formats::ascii85::testing::run;

    /// A record for `addr` and `data`, with correct checksums.
    fn rec(addr: u16, data: &[u8]) -> String {
        let head = format!("{addr:04X}{:02X}", data.len());
        let sum = |s: &str| s.chars().map(|c| c.to_digit(16).unwrap()).sum::<u32>() & 0xff;
        let digits: String = data.iter().map(|b| format!("{b:02X}")).collect();
        if data.is_empty() {
            format!("/{head}{:02X}", sum(&head))
        } else {
            format!("/{head}{:02X}{digits}{:02X}", sum(&head), sum(&digits))
        }
    }

    #[test]
    fn the_fact_sample_records() {
        // The first record of FACT's testfile.tek, as written there.
        assert_eq!(
            rec(
                0,
                &[
                    0x7c, 0x08, 0x02, 0xa6, 0x90, 0x01, 0x00, 0x04, 0x94, 0x21, 0xff, 0xf0, 0x7c, 0x6c, 0x1b,
                    0x78, 0x7c, 0x8c, 0x23, 0x78, 0x3c, 0x60, 0x00, 0x00, 0x38, 0x63, 0x00, 0x00, 0x4b, 0xff,
                    0xff, 0xe5
                ]
            ),
            "/000020027C0802A6900100049421FFF07C6C1B787C8C23783C600000386300004BFFFFE57A"
        );
        assert_eq!(rec(0, b""), "/00000000");
    }

    #[test]
    fn image_with_gap() {
        let text = format!(
            "{}\r\n{}\r\n{}\r\ntrailing",
            rec(0x10, b"abc"),
            rec(0x18, b"xy"),
            rec(0x10, b"")
        );
        let d = text.as_bytes();
        let p = TekHex.probe(d).unwrap();
        assert_eq!(p.confidence, 90);
        let o = run(&TekHex, d).unwrap();
        assert_eq!(o.consumed, (d.len() - "trailing".len()) as u64);
        assert_eq!(o.names(), vec!["/image.bin"]);
        assert_eq!(o.member("/image.bin").unwrap(), b"abc\xff\xff\xff\xff\xffxy");
        assert!(o.verified);
        assert!(o.notes.is_empty(), "{:?}", o.notes);
        assert!(o.description.contains("load address 0x10"), "{}", o.description);
        assert!(
            o.description.contains("start address 0x0010"),
            "{}",
            o.description
        );
    }

    #[test]
    fn a_bad_checksum_is_a_note_naming_the_record() {
        let good = rec(0, b"Hello world.\n");
        let mut bad = good.clone();
        bad.replace_range(bad.len() - 2.., "00"); // data checksum
        let text = format!("{}\n{bad}\n{}", rec(0x40, b"!"), rec(0, b""));
        let o = run(&TekHex, text.as_bytes()).unwrap();
        assert!(!o.verified);
        assert_eq!(o.notes.len(), 1, "{:?}", o.notes);
        assert!(
            o.notes[0].starts_with("record 2 (line 2, address 0x0000): data checksum mismatch"),
            "{}",
            o.notes[0]
        );
        assert!(o.description.contains("checksum mismatch in 1 of 3 records"));
        assert_eq!(&o.member("/image.bin").unwrap()[..13], b"Hello world.\n");
        // The header checksum alone.
        let mut bad = good;
        bad.replace_range(7..9, "FF");
        let o = run(&TekHex, bad.as_bytes()).unwrap();
        assert!(
            o.notes
                .iter()
                .any(|n| n.contains("header checksum mismatch: stored 0xff, computed 0x0d")),
            "{:?}",
            o.notes
        );
        assert!(o.notes.iter().any(|n| n.contains("no termination record")));
    }

    #[test]
    fn mutations_never_break_the_invariants() {
        let text = format!(
            "{}\n{}\n{}\n{}\n",
            rec(0, b"Hello"),
            rec(0x20, b" world"),
            rec(0xfff0, b"\xff\x00"),
            rec(0, b"")
        );
        crate::formats::ascii85::testing::shake("tek-hex", text.as_bytes(), 300);
    }

    #[test]
    fn refuses_other_text() {
        for bad in [
            &b"/"[..],
            b"/0000",
            b"/00000000",         // a terminator alone: no data
            b"/0000020241",       // short
            b"/00000202414G0F",   // not hex
            b"/000002024142030",  // too long
            b"/0000020241424300", // too long
            b"/usr/bin/env sh\n",
            b"x/000001014141\n",
        ] {
            assert!(TekHex.probe(bad).is_none(), "{:?}", String::from_utf8_lossy(bad));
            assert!(run(&TekHex, bad).is_err());
        }
        let text = format!("{}\n{}\n", rec(0x20, b"data"), rec(0, b""));
        for n in 0..text.len() {
            let _ = TekHex.probe(&text.as_bytes()[..n]);
            let _ = run(&TekHex, &text.as_bytes()[..n]);
        }
    }
}
