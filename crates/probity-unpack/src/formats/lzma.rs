//! LZMA "alone" streams (the `.lzma` format of LZMA Utils and the 7-Zip SDK): a 13-byte header
//! (properties, dictionary size, uncompressed size) and the raw stream. Vendor tools often write an
//! unknown (all ones) or simply wrong uncompressed size; a size that can not be right is treated as
//! unknown and decoding stops at the end marker or where the data stops decoding.

use lzma_rust2::{Action, LzmaStream, Status};

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};
use crate::formats::gzip::finish_stream;

/// The LZMA-alone format.
#[derive(Debug)]
pub struct Lzma;

/// Properties bytes seen in practice (lc=3 lp=0 pb=2 is the default almost everyone uses) with the
/// dictionary-size bytes that follow for power-of-two dictionaries of 64 KiB and up.
const MAGICS: &[Magic] = &[
    Magic::start(b"\x5d\x00\x00"),
    Magic::start(b"\x6d\x00\x00"),
    Magic::start(b"\x6c\x00\x00"),
    // lc=2, lp=2, pb=2: TP-Link's VxWorks images.
    Magic::start(b"\x6e\x00\x00"),
];

/// A dictionary size an encoder would really write: 2^n or 2^n + 2^(n-1), 4 KiB to 1.5 GiB.
pub(crate) fn plausible_dict(d: u32) -> bool {
    (4096..=(3 << 29)).contains(&d) && {
        let tz = d.trailing_zeros();
        d >> tz == 1 || d >> tz == 3
    }
}

/// Decodes a raw LZMA stream with known properties into one member; returns input consumed.
pub(crate) fn decode_raw(
    data: &[u8],
    props: u8,
    dict: u32,
    size: Option<u64>,
    out: &mut Extractor<'_>,
    entry: Entry,
) -> Result<u64, FormatError> {
    let mut stream = LzmaStream::new_with_props(size.unwrap_or(u64::MAX), props, dict, None)
        .map_err(|e| FormatError::invalid(format!("bad LZMA properties: {e}")))?;
    pump(data, out, entry, |input, output, action| {
        stream
            .process(input, output, action)
            .map(|r| (r.bytes_consumed, r.bytes_produced, r.status == Status::StreamEnd))
    })
}

/// Drives a sans-I/O decoder over `data` into one member; returns input consumed. A failure after
/// some output keeps it (truncated) with a note.
pub(crate) fn pump(
    data: &[u8],
    out: &mut Extractor<'_>,
    entry: Entry,
    mut step: impl FnMut(&[u8], &mut [u8], Action) -> Result<(usize, usize, bool), std::io::Error>,
) -> Result<u64, FormatError> {
    let mut sink = out.sink(entry);
    let mut buf = vec![0u8; 256 << 10];
    let mut pos = 0usize;
    let result = loop {
        if let Err(e) = out.check_time() {
            break Err(e);
        }
        let input = data.get(pos..).unwrap_or_default();
        let action = if input.is_empty() {
            Action::Finish
        } else {
            Action::Run
        };
        match step(input, &mut buf, action) {
            Ok((used, made, end)) => {
                pos += used;
                if let Err(e) = sink.write(out, buf.get(..made).unwrap_or_default(), pos as u64) {
                    break Err(e);
                }
                if end {
                    break Ok(());
                }
                if used == 0 && made == 0 {
                    break Err(FormatError::invalid("the stream ends before its end marker"));
                }
            }
            Err(e) => break Err(FormatError::invalid(format!("corrupt LZMA data: {e}"))),
        }
    };
    let failed = result.is_err();
    sink.finish(out, failed);
    finish_stream(result, out, pos as u64)
}

impl Format for Lzma {
    fn name(&self) -> &'static str {
        "lzma"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let props = *data.first()?;
        let dict = bytes::le32(data, 1)?;
        let size = bytes::le64(data, 5)?;
        if props >= 9 * 5 * 5 || !plausible_dict(dict) {
            return None;
        }
        let known = size != u64::MAX;
        // A stream of a few bytes is a chance match (a header-like run of bytes in code or data),
        // not something anyone compresses.
        if known && !(16..=1 << 34).contains(&size) {
            return None;
        }
        // The range coder's first byte is always zero.
        if *data.get(13)? != 0 {
            return None;
        }
        // Decode a little to rule out chance matches.
        let mut s =
            LzmaStream::new_with_props(if known { size } else { u64::MAX }, props, dict, None).ok()?;
        let mut buf = vec![0u8; 4096];
        let input = data.get(13..data.len().min(13 + 4096))?;
        let r = s.process(input, &mut buf, Action::Run).ok()?;
        if r.bytes_produced == 0 {
            return None;
        }
        let size_text = if known {
            format!("{size} bytes")
        } else {
            "unknown size".into()
        };
        Some(Probe {
            length: None,
            confidence: 55,
            description: format!("LZMA, dictionary {} KiB, uncompressed {size_text}", dict / 1024),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let props = *data
            .first()
            .ok_or_else(|| FormatError::invalid("truncated LZMA header"))?;
        let dict = bytes::le32(data, 1).ok_or_else(|| FormatError::invalid("truncated LZMA header"))?;
        let size = bytes::le64(data, 5).ok_or_else(|| FormatError::invalid("truncated LZMA header"))?;
        if let Some(p) = self.probe(data) {
            out.describe(p.description);
        }
        // An uncompressed size larger than the budget allows can not be right for this input (and
        // would make the decoder wait for output that never comes): treat it as unknown.
        let stated = (size != u64::MAX && size <= 1 << 34).then_some(size);
        let body = data.get(13..).unwrap_or_default();
        let consumed = decode_raw(body, props, dict, stated, out, Entry::payload())?;
        Ok(13 + consumed)
    }
}
