//! gzip (RFC 1952): one member per candidate; concatenated members are found as further
//! candidates. The trailer's CRC-32 and size are checked by the decoder.

use flate2::bufread::GzDecoder;

use crate::extract::{Counting, Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe};

/// The gzip format.
#[derive(Debug)]
pub struct Gzip;

const MAGICS: &[Magic] = &[Magic::start(b"\x1f\x8b\x08")];

impl Format for Gzip {
    fn name(&self) -> &'static str {
        "gzip"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let flags = *data.get(3)?;
        let xfl = *data.get(8)?;
        let os = *data.get(9)?;
        // Reserved flag bits must be zero; XFL is 0, 2 or 4; OS is a known code or 255.
        if flags & 0xe0 != 0 || !matches!(xfl, 0 | 2 | 4) || (os > 13 && os != 255) {
            return None;
        }
        let mut description = String::from("gzip");
        if flags & 0x08 != 0 {
            // FNAME follows FEXTRA when both are present; only show it in the simple case.
            let start = if flags & 0x04 != 0 { None } else { Some(10) };
            if let Some(start) = start
                && let Some(rest) = data.get(start..(start + 256).min(data.len()))
                && let Some(end) = rest.iter().position(|&b| b == 0)
            {
                description = format!(
                    "gzip, original name `{}`",
                    probity_model::text::escape(&rest[..end])
                );
            }
        }
        Some(Probe {
            length: None,
            confidence: 60,
            description,
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        if let Some(p) = self.probe(data) {
            out.describe(p.description);
        }
        let (input, pos) = Counting::new(data);
        let mut dec = GzDecoder::new(input);
        let result = out.stream(Entry::payload(), &mut dec, &|| pos.get());
        finish_stream(result, out, pos.get())
    }
}

/// Shared ending of stream formats: a failure after some output keeps the output (marked
/// truncated, with a note); a failure before any output is an error.
pub(crate) fn finish_stream(
    result: Result<(), FormatError>,
    out: &mut Extractor<'_>,
    consumed: u64,
) -> Result<u64, FormatError> {
    match result {
        Ok(()) => Ok(consumed),
        Err(e @ FormatError::Limit(_)) => {
            out.note(e.to_string());
            Ok(consumed)
        }
        Err(e) if out.produced() > 0 => {
            out.note(format!("stream truncated or corrupt, kept what was decoded: {e}"));
            Ok(consumed)
        }
        Err(e) => Err(e),
    }
}
