//! Unix `compress` (`.Z`): LZW with codes of 9 up to 16 bits, read least significant bit first.
//!
//! The header is `1F 9D` and a flags byte (bits 0–4: the largest code width; bit 7: "block mode",
//! in which code 256 clears the table). The writer emits codes in groups of eight, a group of `n`-bit
//! codes filling exactly `n` bytes; when the code width grows, or after a clear, the rest of the
//! current group is padding. The decoder follows the same grid, or it would read garbage after the
//! first width change.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe};

/// The `compress` format.
#[derive(Debug)]
pub struct Compress;

const MAGICS: &[Magic] = &[Magic::start(b"\x1f\x9d")];

const CLEAR: u32 = 256;

fn header(data: &[u8]) -> Option<(u32, bool)> {
    let flags = *data.get(2)?;
    let max_bits = u32::from(flags & 0x1f);
    // Bits 5 and 6 are unused; every writer sets them to zero.
    ((9..=16).contains(&max_bits) && flags & 0x60 == 0).then_some((max_bits, flags & 0x80 != 0))
}

/// Decodes `data` (after the header), handing the output to `emit` in pieces with the input bytes
/// read so far; stops at the first error `emit` returns. Returns the input bytes used.
fn decode(
    data: &[u8],
    max_bits: u32,
    block: bool,
    mut emit: impl FnMut(&[u8], u64) -> Result<(), FormatError>,
) -> Result<usize, FormatError> {
    let mut out: Vec<u8> = Vec::with_capacity(PIECE + 256);
    let total_bits = data.len() as u64 * 8;
    let mut prefix = vec![0u16; 1 << max_bits];
    let mut suffix = vec![0u8; 1 << max_bits];
    for (i, s) in suffix.iter_mut().enumerate().take(256) {
        *s = i as u8;
    }
    let first_free = if block { 257 } else { 256 };
    let mut free = first_free;
    let mut bits = 9u32;
    // The group grid starts where the current width started.
    let mut origin = 0u64;
    let mut pos = 0u64;
    let mut old: Option<u32> = None;
    let mut first_byte = 0u8;
    let mut stack = Vec::new();
    let realign = |pos: u64, origin: u64, bits: u32| {
        let group = u64::from(bits) * 8;
        let used = (pos - origin) % group;
        if used == 0 { pos } else { pos + group - used }
    };
    loop {
        // Grow the width when the table has outgrown it (the writer grows it at the same point).
        let max_code = if bits == max_bits {
            1u32 << max_bits
        } else {
            (1u32 << bits) - 1
        };
        if free > max_code && bits < max_bits {
            pos = realign(pos, origin, bits);
            origin = pos;
            bits += 1;
        }
        if pos + u64::from(bits) > total_bits {
            break;
        }
        let mut code = 0u32;
        for i in 0..bits {
            let p = pos + u64::from(i);
            let bit = (data[(p / 8) as usize] >> (p % 8)) & 1;
            code |= u32::from(bit) << i;
        }
        pos += u64::from(bits);
        if block && code == CLEAR {
            pos = realign(pos, origin, bits);
            origin = pos;
            bits = 9;
            free = first_free - 1;
            old = None;
            // The slot after CLEAR is not assigned by the next code.
            free += 1;
            continue;
        }
        let Some(prev) = old else {
            if code > 255 {
                return Err(FormatError::invalid(format!(
                    "first code {code} is not a literal"
                )));
            }
            first_byte = code as u8;
            out.push(first_byte);
            old = Some(code);
            continue;
        };
        stack.clear();
        let mut c = code;
        if code >= free {
            if code > free {
                return Err(FormatError::invalid(format!(
                    "code {code} beyond the table ({free} entries)"
                )));
            }
            // The KwKwK case: the previous string plus its own first byte.
            stack.push(first_byte);
            c = prev;
        }
        while c > 255 {
            stack.push(suffix[c as usize]);
            c = u32::from(prefix[c as usize]);
        }
        first_byte = c as u8;
        stack.push(first_byte);
        out.extend(stack.iter().rev());
        if out.len() >= PIECE {
            emit(&out, pos.div_ceil(8))?;
            out.clear();
        }
        if free < (1 << max_bits) {
            prefix[free as usize] = prev as u16;
            suffix[free as usize] = first_byte;
            free += 1;
        }
        old = Some(code);
    }
    emit(&out, pos.div_ceil(8))?;
    Ok(data.len())
}

/// Output is handed over in pieces of about this size.
const PIECE: usize = 64 << 10;

impl Format for Compress {
    fn name(&self) -> &'static str {
        "compress"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let (max_bits, block) = header(data)?;
        // The first code is a literal: its ninth bit is zero.
        if data.get(4)? & 1 != 0 {
            return None;
        }
        Some(Probe {
            length: None,
            confidence: 60,
            description: format!(
                "compress (LZW), up to {max_bits}-bit codes{}",
                if block { ", block mode" } else { "" }
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let (max_bits, block) = header(data).ok_or_else(|| FormatError::invalid("bad compress header"))?;
        if let Some(p) = self.probe(data) {
            out.describe(p.description);
        }
        // A .Z stream has no end marker and no length: it runs to the end of the data.
        let body = data.get(3..).unwrap_or_default();
        let mut sink = out.sink(Entry::payload());
        let result = decode(body, max_bits, block, |piece, consumed| {
            sink.write(out, piece, consumed)
        });
        let empty = sink.is_empty();
        sink.finish(out, result.is_err());
        match result {
            Ok(used) if !empty => Ok(3 + used as u64),
            Ok(_) => Err(FormatError::invalid("compress data decodes to nothing")),
            Err(e) => crate::formats::gzip::finish_stream(Err(e), out, data.len() as u64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    fn run(data: &[u8]) -> Result<Vec<u8>, crate::format::FormatError> {
        let mut out = Vec::new();
        decode(data, 16, true, |piece, _| {
            out.extend_from_slice(piece);
            Ok(())
        })?;
        Ok(out)
    }

    fn pack(codes: &[u32]) -> Vec<u8> {
        let mut data = vec![0u8; (codes.len() * 9).div_ceil(8)];
        for (n, c) in codes.iter().enumerate() {
            for i in 0..9 {
                let bit = n * 9 + i;
                data[bit / 8] |= (((c >> i) & 1) as u8) << (bit % 8);
            }
        }
        data
    }

    #[test]
    fn decodes_literals_repeats_and_the_kwkwk_case() {
        // a, b, 257 = "ab", 259 = "aba" (the code being defined: KwKwK), b.
        assert_eq!(run(&pack(&[97, 98, 257, 259, 98])).unwrap(), b"abababab");
    }

    #[test]
    fn refuses_a_code_beyond_the_table() {
        // 97 then 300: the table has 257 entries.
        assert!(run(&pack(&[97, 300])).is_err());
        assert!(run(&pack(&[300])).is_err());
    }
}
