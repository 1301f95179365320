//! Arcadyan's obfuscated firmware (routers sold under many brands, e.g. Belkin, Zyxel, Telekom
//! Speedport, Arcadyan's own): an LZMA stream with its first 32 bytes scrambled and moved.
//!
//! The file starts with a 4-byte word; the LZMA stream begins at offset 4, but the two 32-byte
//! blocks at 0x04 and 0x68 are swapped, and the block that belongs at 0x04 (the stream's header and
//! first bytes) has the nibbles of every byte swapped and then every byte pair swapped. Undoing
//! those three steps gives an ordinary `.lzma` stream. Images end with a 24-byte trailer: a length,
//! the magic `0x12345678` and the CRC-32 of the file's first `length` bytes as stored (obfuscated),
//! which is checked.

use lzma_rust2::{LzmaStream, Status};

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};
use crate::formats::lzma::{plausible_dict, pump};

/// The Arcadyan obfuscated LZMA format.
#[derive(Debug)]
pub struct Arcadyan;

/// The scrambled first four bytes of an LZMA stream with properties 0x5D and a dictionary of
/// 64 KiB to 8 MiB, as they land at 0x68.
const MAGICS: &[Magic] = &[
    Magic {
        bytes: b"\x00\xd5\x01\x00",
        at: 0x68,
    },
    Magic {
        bytes: b"\x00\xd5\x02\x00",
        at: 0x68,
    },
    Magic {
        bytes: b"\x00\xd5\x04\x00",
        at: 0x68,
    },
    Magic {
        bytes: b"\x00\xd5\x08\x00",
        at: 0x68,
    },
    Magic {
        bytes: b"\x00\xd5\x10\x00",
        at: 0x68,
    },
    Magic {
        bytes: b"\x00\xd5\x20\x00",
        at: 0x68,
    },
    Magic {
        bytes: b"\x00\xd5\x40\x00",
        at: 0x68,
    },
    Magic {
        bytes: b"\x00\xd5\x80\x00",
        at: 0x68,
    },
];

const BLOCK: usize = 0x20;
const FIRST: usize = 0x04;
const SECOND: usize = 0x68;
const TRAILER_MAGIC: u32 = 0x1234_5678;

/// Images are small: anything larger is not one (and is not copied).
const MAX_IMAGE: usize = 64 << 20;

/// The first 0x88 bytes put back in order: the LZMA stream then starts at 4.
fn unscramble_head(data: &[u8]) -> Option<[u8; SECOND + BLOCK]> {
    let raw = data.get(..SECOND + BLOCK)?;
    let mut out = [0u8; SECOND + BLOCK];
    out.copy_from_slice(raw);
    out[FIRST..FIRST + BLOCK].copy_from_slice(&raw[SECOND..SECOND + BLOCK]);
    out[SECOND..SECOND + BLOCK].copy_from_slice(&raw[FIRST..FIRST + BLOCK]);
    for b in &mut out[FIRST..FIRST + BLOCK] {
        *b = b.rotate_left(4);
    }
    for pair in out[FIRST..FIRST + BLOCK].chunks_exact_mut(2) {
        pair.swap(0, 1);
    }
    Some(out)
}

/// The LZMA header after unscrambling: (properties, dictionary, size when stated).
fn header(head: &[u8]) -> Option<(u8, u32, Option<u64>)> {
    let props = *head.get(FIRST)?;
    let dict = bytes::le32(head, FIRST + 1)?;
    let size = bytes::le64(head, FIRST + 5)?;
    if props >= 225 || !plausible_dict(dict) || *head.get(FIRST + 13)? != 0 {
        return None;
    }
    let size = (size != u64::MAX).then_some(size);
    if size.is_some_and(|s| s == 0 || s > 1 << 32) {
        return None;
    }
    Some((props, dict, size))
}

/// The trailer at the end of `data`: (covered length, CRC-32) when present.
fn trailer(data: &[u8]) -> Option<(usize, u32)> {
    let t = data.get(data.len().checked_sub(24)?..)?;
    (bytes::le32(t, 16)? == TRAILER_MAGIC).then(|| {
        (
            bytes::le32(t, 12).unwrap_or(0) as usize,
            bytes::le32(t, 20).unwrap_or(0),
        )
    })
}

impl Format for Arcadyan {
    fn name(&self) -> &'static str {
        "arcadyan"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let head = unscramble_head(data)?;
        let (_, dict, size) = header(&head)?;
        Some(Probe {
            length: None,
            confidence: 75,
            description: format!(
                "Arcadyan obfuscated LZMA, dictionary {} KiB{}",
                dict / 1024,
                size.map(|s| format!(", {s} bytes unpacked")).unwrap_or_default()
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        if data.len() > MAX_IMAGE {
            return Err(FormatError::invalid("too large for an Arcadyan image"));
        }
        let head = unscramble_head(data).ok_or_else(|| FormatError::invalid("truncated Arcadyan image"))?;
        let (props, dict, size) =
            header(&head).ok_or_else(|| FormatError::invalid("no LZMA stream after unscrambling"))?;
        let mut stream = data.to_vec();
        stream[..head.len()].copy_from_slice(&head);
        let mut decoder = LzmaStream::new_with_props(size.unwrap_or(u64::MAX), props, dict, None)
            .map_err(|e| FormatError::invalid(format!("bad LZMA properties: {e}")))?;
        let body = &stream[FIRST + 13..];
        let consumed = pump(body, out, Entry::payload(), |input, output, action| {
            decoder
                .process(input, output, action)
                .map(|r| (r.bytes_consumed, r.bytes_produced, r.status == Status::StreamEnd))
        })?;
        let end = FIRST as u64 + 13 + consumed;
        let mut description = format!("Arcadyan obfuscated LZMA, dictionary {} KiB", dict / 1024);
        let length = match trailer(data) {
            Some((covered, crc)) => {
                let ok = data.get(..covered).is_some_and(|c| crc32fast::hash(c) == crc);
                if ok {
                    out.verified();
                    description.push_str(&format!(", trailer CRC-32 verified over {covered} bytes"));
                } else {
                    out.note(format!(
                        "trailer CRC-32 mismatch: stored {crc:08x} over {covered} bytes"
                    ));
                    description.push_str(", trailer CRC-32 mismatch");
                }
                // The trailer describes the whole image, padding included.
                data.len() as u64
            }
            None => end,
        };
        out.describe(description);
        Ok(length)
    }
}

#[cfg(test)]
mod tests {
    use super::{FIRST, SECOND, header, unscramble_head};

    /// Scrambles a plain image the way Arcadyan's tool does (the inverse of `unscramble_head`).
    fn scramble(plain: &[u8]) -> Vec<u8> {
        let mut out = plain.to_vec();
        let mut first: Vec<u8> = plain[FIRST..FIRST + 32].to_vec();
        for pair in first.chunks_exact_mut(2) {
            pair.swap(0, 1);
        }
        for b in &mut first {
            *b = b.rotate_left(4);
        }
        out[SECOND..SECOND + 32].copy_from_slice(&first);
        out[FIRST..FIRST + 32].copy_from_slice(&plain[SECOND..SECOND + 32]);
        out
    }

    #[test]
    fn unscrambling_undoes_the_scrambling() {
        let mut plain: Vec<u8> = (0..200u32).map(|i| (i * 7 + 3) as u8).collect();
        // An .lzma header at 4: properties 0x5D, 8 MiB dictionary, 1000 bytes, a zero byte.
        plain[4..17].copy_from_slice(&[0x5d, 0, 0, 0x80, 0, 0xe8, 3, 0, 0, 0, 0, 0, 0]);
        plain[17] = 0;
        let scrambled = scramble(&plain);
        assert_eq!(&scrambled[SECOND..SECOND + 4], b"\x00\xd5\x08\x00");
        let head = unscramble_head(&scrambled).unwrap();
        assert_eq!(&head[..], &plain[..head.len()]);
        assert_eq!(header(&head), Some((0x5d, 8 << 20, Some(1000))));
        // Not scrambled, or too short: refused.
        assert!(header(&unscramble_head(&plain).unwrap()).is_none());
        assert!(unscramble_head(&scrambled[..100]).is_none());
    }
}
