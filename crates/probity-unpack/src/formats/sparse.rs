//! Android sparse images: raw, fill and "don't care" chunks expanded into the full image (every
//! byte charged to the budgets, so a forged block count can not fill the disk).

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The Android sparse image format.
#[derive(Debug)]
pub struct AndroidSparse;

const MAGICS: &[Magic] = &[Magic::start(b"\x3a\xff\x26\xed")];

struct Header {
    hdr: usize,
    chunk_hdr: usize,
    blk: u64,
    blocks: u32,
    chunks: u32,
}

fn parse(data: &[u8]) -> Option<Header> {
    if bytes::le16(data, 4)? != 1 {
        return None;
    }
    let h = Header {
        hdr: usize::from(bytes::le16(data, 8)?),
        chunk_hdr: usize::from(bytes::le16(data, 10)?),
        blk: u64::from(bytes::le32(data, 12)?),
        blocks: bytes::le32(data, 16)?,
        chunks: bytes::le32(data, 20)?,
    };
    (h.hdr >= 28 && h.chunk_hdr >= 12 && h.blk >= 512 && h.blk.is_multiple_of(4) && h.blk <= 1 << 20)
        .then_some(h)
}

impl Format for AndroidSparse {
    fn name(&self) -> &'static str {
        "android-sparse"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let h = parse(data)?;
        Some(Probe {
            length: None,
            confidence: 90,
            description: format!(
                "Android sparse image, {} blocks of {} bytes in {} chunks",
                h.blocks, h.blk, h.chunks
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let h = parse(data).ok_or_else(|| FormatError::invalid("bad sparse header"))?;
        if let Some(p) = self.probe(data) {
            out.describe(p.description);
        }
        let mut at = h.hdr;
        let mut sink = out.sink(Entry::payload());
        let mut written_blocks = 0u64;
        let mut result = Ok(());
        for _ in 0..h.chunks {
            if let Err(e) = out.check_time() {
                result = Err(e);
                break;
            }
            let (Some(ty), Some(count), Some(total)) = (
                bytes::le16(data, at),
                bytes::le32(data, at + 4),
                bytes::le32(data, at + 8),
            ) else {
                out.note("chunk header outside the data");
                break;
            };
            let body = at + h.chunk_hdr;
            let bytes_out = u64::from(count) * h.blk;
            let piece: Result<Vec<u8>, ()> = match ty {
                0xcac1 => bytes::slice(data, body, bytes_out as usize)
                    .map(<[u8]>::to_vec)
                    .ok_or(()),
                0xcac2..=0xcac4 => Ok(Vec::new()),
                _ => {
                    out.note(format!("unknown chunk type {ty:#06x} at {at:#x}"));
                    break;
                }
            };
            match (ty, piece) {
                (0xcac1, Ok(p)) => {
                    if let Err(e) = sink.write(out, &p, (body + p.len()) as u64) {
                        result = Err(e);
                        break;
                    }
                }
                (0xcac2 | 0xcac3, Ok(_)) => {
                    // Fill and "don't care" expand to count blocks of a 4-byte pattern (zeros),
                    // written a block at a time so the budget can stop a forged count.
                    let pattern = if ty == 0xcac2 {
                        bytes::slice(data, body, 4).unwrap_or(&[0; 4]).to_vec()
                    } else {
                        vec![0; 4]
                    };
                    let block = pattern.repeat(h.blk as usize / 4);
                    for _ in 0..count {
                        if let Err(e) = sink.write(out, &block, (at + total as usize) as u64) {
                            result = Err(e);
                            break;
                        }
                    }
                    if result.is_err() {
                        break;
                    }
                }
                (0xcac4, _) => {}
                _ => {
                    out.note(format!("raw chunk at {at:#x} extends past the data"));
                    result = Err(FormatError::invalid("truncated sparse image"));
                    break;
                }
            }
            written_blocks += u64::from(count);
            at += total as usize;
        }
        if written_blocks != u64::from(h.blocks) && result.is_ok() {
            out.note(format!(
                "chunks cover {written_blocks} blocks, the header says {}",
                h.blocks
            ));
        }
        sink.finish(out, result.is_err());
        crate::formats::gzip::finish_stream(result, out, at.min(data.len()) as u64)
    }
}
