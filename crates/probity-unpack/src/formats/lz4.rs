//! LZ4: the frame format (magic 0x184D2204) and the legacy format (magic 0x184C2102, used by
//! Linux kernels and initramfs images), decoded block by block.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The LZ4 formats.
#[derive(Debug)]
pub struct Lz4;

const MAGICS: &[Magic] = &[
    Magic::start(b"\x04\x22\x4d\x18"),
    Magic::start(b"\x02\x21\x4c\x18"),
];

/// Legacy blocks decode to at most 8 MiB.
const LEGACY_BLOCK: usize = 8 << 20;

fn block_max(bd: u8) -> Option<usize> {
    match (bd >> 4) & 7 {
        4 => Some(64 << 10),
        5 => Some(256 << 10),
        6 => Some(1 << 20),
        7 => Some(4 << 20),
        _ => None,
    }
}

impl Format for Lz4 {
    fn name(&self) -> &'static str {
        "lz4"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        if data.starts_with(b"\x02\x21\x4c\x18") {
            let first = bytes::le32(data, 4)? as usize;
            return (first > 0 && first <= lz4_flex::block::get_maximum_output_size(LEGACY_BLOCK)).then(
                || Probe {
                    length: None,
                    confidence: 50,
                    description: "LZ4 legacy frame".into(),
                },
            );
        }
        let flg = *data.get(4)?;
        let bd = *data.get(5)?;
        if flg >> 6 != 1 || flg & 0x02 != 0 || bd & 0x8f != 0 || block_max(bd).is_none() {
            return None;
        }
        Some(Probe {
            length: None,
            confidence: 70,
            description: "LZ4 frame".into(),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        if data.starts_with(b"\x02\x21\x4c\x18") {
            legacy(data, out)
        } else {
            frame(data, out)
        }
    }
}

fn legacy(data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
    out.describe("LZ4 legacy frame");
    let mut sink = out.sink(Entry::payload());
    let mut pos = 4usize;
    let mut buf = vec![0u8; LEGACY_BLOCK];
    let result = loop {
        if let Err(e) = out.check_time() {
            break Err(e);
        }
        let Some(len) = bytes::le32(data, pos) else {
            break Ok(());
        };
        let len = len as usize;
        // The stream ends at the end of the data, at another magic, or at a length no block has.
        if len == 0x184c_2102 || len == 0 || len > lz4_flex::block::get_maximum_output_size(LEGACY_BLOCK) {
            break Ok(());
        }
        let Some(block) = bytes::slice(data, pos + 4, len) else {
            // Kernels append the uncompressed size after the last block; a "block" that runs
            // past the data after real blocks were decoded is that trailer.
            if sink.is_empty() {
                break Err(FormatError::invalid("truncated LZ4 legacy block"));
            }
            break Ok(());
        };
        match lz4_flex::block::decompress_into(block, &mut buf) {
            Ok(n) => {
                pos += 4 + len;
                if let Err(e) = sink.write(out, &buf[..n], pos as u64) {
                    break Err(e);
                }
            }
            // Kernels append the uncompressed size after the last block: stop where blocks stop.
            Err(_) if !sink.is_empty() => break Ok(()),
            Err(e) => break Err(FormatError::invalid(format!("corrupt LZ4 block: {e}"))),
        }
    };
    sink.finish(out, result.is_err());
    crate::formats::gzip::finish_stream(result, out, pos as u64)
}

fn frame(data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
    out.describe("LZ4 frame");
    let flg = *data
        .get(4)
        .ok_or_else(|| FormatError::invalid("truncated LZ4 frame header"))?;
    let bd = *data
        .get(5)
        .ok_or_else(|| FormatError::invalid("truncated LZ4 frame header"))?;
    let max = block_max(bd).ok_or_else(|| FormatError::invalid("bad LZ4 block size"))?;
    let independent = flg & 0x20 != 0;
    let block_checksum = flg & 0x10 != 0;
    let content_size = flg & 0x08 != 0;
    let content_checksum = flg & 0x04 != 0;
    let dict_id = flg & 0x01 != 0;
    let mut pos = 6 + if content_size { 8 } else { 0 } + if dict_id { 4 } else { 0 } + 1;
    let mut sink = out.sink(Entry::payload());
    // Dependent blocks may refer to the previous 64 KiB of output.
    let mut window: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; max];
    let result = loop {
        if let Err(e) = out.check_time() {
            break Err(e);
        }
        let Some(word) = bytes::le32(data, pos) else {
            break Err(FormatError::invalid("truncated LZ4 frame"));
        };
        pos += 4;
        if word == 0 {
            if content_checksum {
                pos += 4;
            }
            break Ok(());
        }
        let stored = word & 0x8000_0000 != 0;
        let len = (word & 0x7fff_ffff) as usize;
        if len > max {
            break Err(FormatError::invalid(
                "LZ4 block larger than the frame's block size",
            ));
        }
        let Some(block) = bytes::slice(data, pos, len) else {
            break Err(FormatError::invalid("truncated LZ4 block"));
        };
        pos += len + if block_checksum { 4 } else { 0 };
        let decoded: Result<&[u8], String> = if stored {
            Ok(block)
        } else if independent || window.is_empty() {
            lz4_flex::block::decompress_into(block, &mut buf)
                .map(|n| &buf[..n])
                .map_err(|e| e.to_string())
        } else {
            lz4_flex::block::decompress_into_with_dict(block, &mut buf, &window)
                .map(|n| &buf[..n])
                .map_err(|e| e.to_string())
        };
        let piece = match decoded {
            Ok(p) => p.to_vec(),
            Err(e) => break Err(FormatError::invalid(format!("corrupt LZ4 block: {e}"))),
        };
        if !independent {
            window.extend_from_slice(&piece);
            if window.len() > 64 << 10 {
                window.drain(..window.len() - (64 << 10));
            }
        }
        if let Err(e) = sink.write(out, &piece, pos as u64) {
            break Err(e);
        }
    };
    sink.finish(out, result.is_err());
    crate::formats::gzip::finish_stream(result, out, pos.min(data.len()) as u64)
}
