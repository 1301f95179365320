//! Intel HEX and Motorola S-record files: text records with checksums, turned into the binary
//! image they describe (from the lowest to the highest address; gaps are filled with 0xFF, as an
//! erased flash would read).

use std::collections::BTreeMap;

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe};

/// Intel HEX.
#[derive(Debug)]
pub struct IntelHex;

/// Motorola S-records.
#[derive(Debug)]
pub struct Srec;

const IHEX_MAGICS: &[Magic] = &[
    Magic::start(b":02"),
    Magic::start(b":04"),
    Magic::start(b":08"),
    Magic::start(b":10"),
    Magic::start(b":20"),
];
const SREC_MAGICS: &[Magic] = &[
    Magic::start(b"S0"),
    Magic::start(b"S1"),
    Magic::start(b"S2"),
    Magic::start(b"S3"),
];

/// Largest span of addresses turned into an image.
const MAX_SPAN: u64 = 256 << 20;

fn hex_bytes(text: &[u8]) -> Option<Vec<u8>> {
    probity_model::hex::decode(std::str::from_utf8(text).ok()?)
}

/// The text's lines (without line endings) up to the first line that is not a record.
fn lines(data: &[u8], lead: u8) -> (Vec<&[u8]>, usize) {
    let mut out = Vec::new();
    let mut at = 0;
    for line in data.split_inclusive(|&b| b == b'\n') {
        let trimmed = line.strip_suffix(b"\n").unwrap_or(line);
        let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
        if trimmed.first() != Some(&lead) {
            break;
        }
        out.push(trimmed);
        at += line.len();
    }
    (out, at)
}

/// Parsed records: data at addresses, and how many records had a bad checksum.
struct Image {
    chunks: BTreeMap<u64, Vec<u8>>,
    bad: usize,
    malformed: usize,
    records: usize,
    end: usize,
}

fn ihex(data: &[u8]) -> Option<Image> {
    let (recs, end) = lines(data, b':');
    let mut img = Image {
        chunks: BTreeMap::new(),
        bad: 0,
        malformed: 0,
        records: 0,
        end,
    };
    let mut base = 0u64;
    for r in recs {
        // A malformed record (odd digits, a length that does not match) is counted as bad and
        // skipped: the others are still worth decoding.
        let Some(b) = r
            .get(1..)
            .and_then(hex_bytes)
            .filter(|b| b.len() >= 5 && b.len() == usize::from(b[0]) + 5)
        else {
            img.malformed += 1;
            continue;
        };
        let len = usize::from(b[0]);
        if b.iter().fold(0u8, |s, &x| s.wrapping_add(x)) != 0 {
            img.bad += 1;
        }
        img.records += 1;
        let addr = u64::from(u16::from_be_bytes([b[1], b[2]]));
        match b[3] {
            0 => {
                img.chunks.insert(base + addr, b[4..4 + len].to_vec());
            }
            1 => break,
            2 => base = u64::from(u16::from_be_bytes([*b.get(4)?, *b.get(5)?])) << 4,
            4 => base = u64::from(u16::from_be_bytes([*b.get(4)?, *b.get(5)?])) << 16,
            3 | 5 => {}
            _ => return None,
        }
    }
    (img.records > 0).then_some(img)
}

fn srec(data: &[u8]) -> Option<Image> {
    let (recs, end) = lines(data, b'S');
    let mut img = Image {
        chunks: BTreeMap::new(),
        bad: 0,
        malformed: 0,
        records: 0,
        end,
    };
    for r in recs {
        let ty = *r.get(1)?;
        let Some(b) = r
            .get(2..)
            .and_then(hex_bytes)
            .filter(|b| b.len() >= 4 && b.len() == usize::from(b[0]) + 1)
        else {
            img.malformed += 1;
            continue;
        };
        let count = usize::from(b[0]);
        if !b.iter().fold(0u8, |s, &x| s.wrapping_add(x)) != 0 {
            img.bad += 1;
        }
        img.records += 1;
        let alen = match ty {
            b'0' | b'1' | b'5' | b'9' => 2,
            b'2' | b'6' | b'8' => 3,
            b'3' | b'7' => 4,
            _ => return None,
        };
        let addr = b
            .get(1..1 + alen)?
            .iter()
            .fold(0u64, |a, &x| (a << 8) | u64::from(x));
        if matches!(ty, b'1' | b'2' | b'3') {
            img.chunks.insert(addr, b.get(1 + alen..count)?.to_vec());
        }
    }
    (img.records > 0).then_some(img)
}

fn emit(img: Image, what: &str, out: &mut Extractor<'_>) -> Result<u64, FormatError> {
    if img.malformed > 0 {
        out.note(format!("{} malformed records skipped", img.malformed));
    }
    if img.bad > 0 {
        out.note(format!(
            "{} of {} records have a bad checksum",
            img.bad, img.records
        ));
    }
    let Some(&lo) = img.chunks.keys().next() else {
        return Ok(img.end as u64);
    };
    // Records may overlap or come in any order: the image spans to the end of the furthest one.
    let end = img
        .chunks
        .iter()
        .map(|(a, b)| a + b.len() as u64)
        .max()
        .unwrap_or(lo);
    let span = end - lo;
    if span > MAX_SPAN {
        return Err(FormatError::Limit(format!(
            "{what} spans {span} bytes of addresses, more than {MAX_SPAN}"
        )));
    }
    let mut image = vec![0xffu8; span as usize];
    for (addr, bytes) in &img.chunks {
        let at = (addr - lo) as usize;
        image[at..at + bytes.len()].copy_from_slice(bytes);
    }
    out.describe(format!(
        "{what}, {} records, load address {lo:#x}, {span} bytes",
        img.records
    ));
    out.file(Entry::payload(), image)?;
    Ok(img.end as u64)
}

impl Format for IntelHex {
    fn name(&self) -> &'static str {
        "ihex"
    }

    fn magics(&self) -> &'static [Magic] {
        IHEX_MAGICS
    }

    fn anchored(&self) -> bool {
        true
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let img = ihex(data)?;
        Some(Probe {
            length: Some(img.end as u64),
            confidence: if img.bad == 0 && img.malformed == 0 {
                90
            } else {
                40
            },
            description: "Intel HEX".into(),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        emit(
            ihex(data).ok_or_else(|| FormatError::invalid("bad Intel HEX record"))?,
            "Intel HEX",
            out,
        )
    }
}

impl Format for Srec {
    fn name(&self) -> &'static str {
        "srec"
    }

    fn magics(&self) -> &'static [Magic] {
        SREC_MAGICS
    }

    fn anchored(&self) -> bool {
        true
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let img = srec(data)?;
        Some(Probe {
            length: Some(img.end as u64),
            confidence: if img.bad == 0 && img.malformed == 0 {
                90
            } else {
                40
            },
            description: "Motorola S-records".into(),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        emit(
            srec(data).ok_or_else(|| FormatError::invalid("bad S-record"))?,
            "Motorola S-records",
            out,
        )
    }
}

/// Intel HEX records found inside other data (a loader, a log, a memory dump): only a run of at
/// least four records with correct checksums counts, since colons and hex digits are common.
#[derive(Debug)]
pub struct IntelHexCarved;

/// S-records found inside other data, under the same rule as [`IntelHexCarved`].
#[derive(Debug)]
pub struct SrecCarved;

/// How many valid records a carved run needs.
const CARVE_RECORDS: usize = 4;

impl Format for IntelHexCarved {
    fn name(&self) -> &'static str {
        "ihex"
    }

    fn magics(&self) -> &'static [Magic] {
        IHEX_MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let img = ihex(data)?;
        (img.bad == 0 && img.malformed == 0 && img.records >= CARVE_RECORDS).then(|| Probe {
            length: Some(img.end as u64),
            confidence: 80,
            description: "Intel HEX".into(),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        IntelHex.extract(data, out)
    }
}

impl Format for SrecCarved {
    fn name(&self) -> &'static str {
        "srec"
    }

    fn magics(&self) -> &'static [Magic] {
        SREC_MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let img = srec(data)?;
        (img.bad == 0 && img.malformed == 0 && img.records >= CARVE_RECORDS).then(|| Probe {
            length: Some(img.end as u64),
            confidence: 80,
            description: "Motorola S-records".into(),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        Srec.extract(data, out)
    }
}
