//! Zstandard frames (RFC 8878), decoded block by block so the output is charged as it grows.

use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe};
use crate::formats::gzip::finish_stream;

/// The zstd format.
#[derive(Debug)]
pub struct Zstd;

const MAGICS: &[Magic] = &[Magic::start(b"\x28\xb5\x2f\xfd")];

/// Largest window accepted (the format allows up to 3.75 TiB; decoders commonly stop at 128 MiB).
const MAX_WINDOW: u64 = 128 << 20;

impl Format for Zstd {
    fn name(&self) -> &'static str {
        "zstd"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let fhd = *data.get(4)?;
        // Reserved bit 3 must be zero.
        if fhd & 0x08 != 0 {
            return None;
        }
        Some(Probe {
            length: None,
            confidence: 70,
            description: "Zstandard frame".into(),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        out.describe("Zstandard frame");
        let mut dec = FrameDecoder::new();
        dec.set_max_window_size(MAX_WINDOW);
        let mut source = data;
        dec.init(&mut source)
            .map_err(|e| FormatError::invalid(format!("bad zstd frame header: {e}")))?;
        let header_len = (data.len() - source.len()) as u64;
        let mut sink = out.sink(Entry::payload());
        let result = loop {
            if let Err(e) = out.check_time() {
                break Err(e);
            }
            if dec.is_finished() {
                break Ok(());
            }
            if let Err(e) = dec.decode_blocks(&mut source, BlockDecodingStrategy::UptoBytes(1 << 20)) {
                break Err(FormatError::invalid(format!("corrupt zstd data: {e}")));
            }
            // The decoder's count can run past a frame cut short (it counts what it expected to
            // read, such as a missing checksum): never more than the data.
            let consumed = (header_len + dec.bytes_read_from_source()).min(data.len() as u64);
            if let Some(chunk) = dec.collect()
                && let Err(e) = sink.write(out, &chunk, consumed)
            {
                break Err(e);
            }
        };
        // Everything decoded so far, including what a finished frame leaves in the buffer.
        if result.is_ok()
            && let Some(rest) = dec.collect()
            && let Err(e) = sink.write(out, &rest, (data.len() - source.len()) as u64)
        {
            sink.finish(out, true);
            return finish_stream(Err(e), out, (data.len() - source.len()) as u64);
        }
        let mut consumed = (data.len() - source.len()) as u64;
        if result.is_ok()
            && let (Some(want), Some(got)) = (dec.get_checksum_from_data(), dec.get_calculated_checksum())
        {
            if want != got {
                out.note(format!(
                    "content checksum mismatch: stored {want:#010x}, computed {got:#010x}"
                ));
            }
            consumed = consumed
                .max(header_len + dec.bytes_read_from_source())
                .min(data.len() as u64);
        }
        sink.finish(out, result.is_err());
        finish_stream(result, out, consumed)
    }
}
