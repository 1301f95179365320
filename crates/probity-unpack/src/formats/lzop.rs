//! lzop files: a header (with its own checksum) and LZO1X blocks, each with its sizes and optional
//! checksums.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The lzop format.
#[derive(Debug)]
pub struct Lzop;

const MAGIC: &[u8] = b"\x89LZO\x00\x0d\x0a\x1a\x0a";
const MAGICS: &[Magic] = &[Magic::start(MAGIC)];

const F_ADLER32_D: u32 = 0x1;
const F_ADLER32_C: u32 = 0x2;
const F_H_EXTRA_FIELD: u32 = 0x40;
const F_CRC32_D: u32 = 0x100;
const F_CRC32_C: u32 = 0x200;
const F_H_FILTER: u32 = 0x800;
const F_H_CRC32: u32 = 0x1000;

/// Largest block lzop writes (256 KiB by default; 64 MiB is its hard limit).
const MAX_BLOCK: u32 = 64 << 20;

struct Header {
    flags: u32,
    name: Vec<u8>,
    end: usize,
}

fn header(data: &[u8]) -> Option<Header> {
    if !data.starts_with(MAGIC) {
        return None;
    }
    let mut p = MAGIC.len();
    let version = bytes::be16(data, p)?;
    p += 4; // version, library version
    if version >= 0x0940 {
        p += 2; // version needed to extract
    }
    let method = *data.get(p)?;
    if !matches!(method, 1..=3) {
        return None;
    }
    p += 1;
    if version >= 0x0940 {
        p += 1; // level
    }
    let flags = bytes::be32(data, p)?;
    p += 4;
    if flags & F_H_FILTER != 0 {
        p += 4;
    }
    p += 4 + 4; // mode, mtime low
    if version >= 0x0940 {
        p += 4; // mtime high
    }
    let name_len = *data.get(p)? as usize;
    let name = bytes::slice(data, p + 1, name_len)?.to_vec();
    p += 1 + name_len;
    let stored = bytes::be32(data, p)?;
    let field = data.get(MAGIC.len()..p)?;
    let ok = if flags & F_H_CRC32 != 0 {
        crc32fast::hash(field) == stored
    } else {
        adler32(field) == stored
    };
    if !ok {
        return None;
    }
    p += 4;
    if flags & F_H_EXTRA_FIELD != 0 {
        let len = bytes::be32(data, p)? as usize;
        p = p.checked_add(4 + len + 4)?;
    }
    Some(Header { flags, name, end: p })
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

impl Format for Lzop {
    fn name(&self) -> &'static str {
        "lzop"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let h = header(data)?;
        Some(Probe {
            length: None,
            confidence: 95,
            description: format!("lzop, original name `{}`", probity_model::text::escape(&h.name)),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let h = header(data).ok_or_else(|| FormatError::invalid("bad lzop header"))?;
        out.describe(format!(
            "lzop, original name `{}`",
            probity_model::text::escape(&h.name)
        ));
        let mut pos = h.end;
        let mut sink = out.sink(Entry::payload());
        let result = loop {
            if let Err(e) = out.check_time() {
                break Err(e);
            }
            let Some(dlen) = bytes::be32(data, pos) else {
                break Err(FormatError::invalid("truncated lzop block"));
            };
            pos += 4;
            if dlen == 0 {
                break Ok(());
            }
            let Some(clen) = bytes::be32(data, pos) else {
                break Err(FormatError::invalid("truncated lzop block"));
            };
            pos += 4;
            if dlen > MAX_BLOCK || clen > dlen {
                break Err(FormatError::invalid("lzop block sizes out of range"));
            }
            let mut dcheck = None;
            if h.flags & (F_ADLER32_D | F_CRC32_D) != 0 {
                dcheck = bytes::be32(data, pos);
                pos += 4;
            }
            if clen < dlen && h.flags & (F_ADLER32_C | F_CRC32_C) != 0 {
                pos += 4;
            }
            let Some(block) = bytes::slice(data, pos, clen as usize) else {
                break Err(FormatError::invalid("truncated lzop block"));
            };
            pos += clen as usize;
            let decoded = if clen == dlen {
                block.to_vec()
            } else {
                match lzo::decompress(block, dlen as usize) {
                    Ok(v) => v,
                    Err(e) => break Err(FormatError::invalid(format!("corrupt LZO block: {e:?}"))),
                }
            };
            if let Some(want) = dcheck {
                let got = if h.flags & F_CRC32_D != 0 {
                    crc32fast::hash(&decoded)
                } else {
                    adler32(&decoded)
                };
                if got != want {
                    out.note(format!("block checksum mismatch at offset {pos:#x}"));
                }
            }
            if let Err(e) = sink.write(out, &decoded, pos as u64) {
                break Err(e);
            }
        };
        sink.finish(out, result.is_err());
        crate::formats::gzip::finish_stream(result, out, pos as u64)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn adler32_known_value() {
        assert_eq!(super::adler32(b"Wikipedia"), 0x11e6_0398);
    }
}
