//! Adobe ASCII85 blocks: binary data written as printable text between `<~` and `~>`, five
//! characters (`!` to `u`, base 85) for every four bytes, `z` standing for four zero bytes.
//! PostScript and some firmware tools (Xerox printer updates) carry payloads this way.
//!
//! A block is recognised only when every character up to the closing `~>` belongs to the
//! alphabet (or is white space), there are at least ten of them, every group of five stays below
//! 2^32 and the last group is not a lone character; the block is then decoded into one member.
//! The format has no checksum. The decoder is shared with the PostScript format.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe};

/// Adobe ASCII85 `<~ … ~>` blocks.
#[derive(Debug)]
pub struct Ascii85;

const MAGICS: &[Magic] = &[Magic::start(b"<~")];

/// Fewest significant characters a block must have to be taken for one.
const MIN_CHARS: usize = 10;

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}

/// Runs the ASCII85 decoder over `text` (without the `<~`/`~>` delimiters), handing each decoded
/// piece to `emit`. Returns the number of decoded bytes, or `None` when the text is not ASCII85:
/// a character outside the alphabet, a `z` inside a group, a group worth more than 2^32 - 1, or a
/// final group of a single character.
fn run(text: &[u8], mut emit: impl FnMut(&[u8])) -> Option<u64> {
    let mut acc: u64 = 0;
    let mut count = 0usize;
    let mut total: u64 = 0;
    for &c in text {
        match c {
            b'!'..=b'u' => {
                acc = acc * 85 + u64::from(c - b'!');
                count += 1;
                if count == 5 {
                    let word = u32::try_from(acc).ok()?;
                    emit(&word.to_be_bytes());
                    total += 4;
                    acc = 0;
                    count = 0;
                }
            }
            b'z' if count == 0 => {
                emit(&[0; 4]);
                total += 4;
            }
            c if is_space(c) => {}
            _ => return None,
        }
    }
    match count {
        0 => {}
        1 => return None,
        n => {
            // A final partial group is padded with the highest digit; n - 1 bytes are kept.
            for _ in n..5 {
                acc = acc * 85 + 84;
            }
            let word = u32::try_from(acc).ok()?;
            let keep = n - 1;
            emit(word.to_be_bytes().get(..keep)?);
            total += keep as u64;
        }
    }
    Some(total)
}

/// Decodes ASCII85 text (without the `<~`/`~>` delimiters; white space is skipped).
/// `None` when the text is not valid ASCII85 (see the module documentation).
pub(crate) fn decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 5 * 4 + 4);
    run(text, |piece| out.extend_from_slice(piece))?;
    Some(out)
}

/// A block at `data[0]`: the range of its encoded text, its total length (with `<~` and `~>`) and
/// how many bytes it decodes to.
struct Block {
    text: std::ops::Range<usize>,
    end: usize,
    decoded: u64,
}

fn block(data: &[u8]) -> Option<Block> {
    if !data.starts_with(b"<~") {
        return None;
    }
    // Every byte up to the `~` must belong to the alphabet: random data fails within a few bytes.
    let mut significant = 0usize;
    let mut at = 2usize;
    loop {
        let c = *data.get(at)?;
        match c {
            b'~' => break,
            b'!'..=b'u' | b'z' => significant += 1,
            c if is_space(c) => {}
            _ => return None,
        }
        at += 1;
    }
    if data.get(at + 1) != Some(&b'>') || significant < MIN_CHARS {
        return None;
    }
    let text = 2..at;
    let decoded = run(data.get(text.clone())?, |_| {})?;
    Some(Block {
        text,
        end: at + 2,
        decoded,
    })
}

impl Format for Ascii85 {
    fn name(&self) -> &'static str {
        "ascii85"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let b = block(data)?;
        Some(Probe {
            length: Some(b.end as u64),
            confidence: 70,
            description: format!(
                "Adobe ASCII85 block, {} characters, {} bytes decoded",
                b.end, b.decoded
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let b = block(data).ok_or_else(|| FormatError::invalid("not an ASCII85 block"))?;
        let text = data
            .get(b.text.clone())
            .ok_or_else(|| FormatError::invalid("block outside the data"))?;
        let bytes = decode(text).ok_or_else(|| FormatError::invalid("bad ASCII85 text"))?;
        out.describe(format!(
            "Adobe ASCII85 block, {} characters, {} bytes decoded (no checksum)",
            b.end,
            bytes.len()
        ));
        out.file(Entry::file(b"/decoded.bin".to_vec()), bytes)?;
        Ok(b.end as u64)
    }
}

/// Shared by the unit tests of the formats of this family: runs a format's `extract` and
/// collects what it produced.
#[cfg(test)]
pub(crate) mod testing {
    use crate::extract::{ChildData, Extractor, Spool};
    use crate::format::{Format, FormatError};

    /// What one extraction produced.
    #[derive(Debug)]
    pub(crate) struct Outcome {
        /// The bytes the structure occupies.
        pub consumed: u64,
        /// The members: name and content.
        pub members: Vec<(String, Vec<u8>)>,
        /// The notes.
        pub notes: Vec<String>,
        /// The description.
        pub description: String,
        /// Whether the extractor was told the checksums matched.
        pub verified: bool,
    }

    impl Outcome {
        /// The content of member `name`.
        pub(crate) fn member(&self, name: &str) -> Option<&[u8]> {
            self.members
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, b)| b.as_slice())
        }

        /// The members' names, in order.
        pub(crate) fn names(&self) -> Vec<&str> {
            self.members.iter().map(|(n, _)| n.as_str()).collect()
        }
    }

    /// Runs the format called `name` (probe and extraction, with the fuzz targets' invariant
    /// checks) over `rounds` random mutations of `seed`: bytes changed, inserted or removed, and
    /// cuts.
    pub(crate) fn shake(name: &str, seed: &[u8], rounds: usize) {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % (n.max(1) as u64)) as usize
        };
        const BYTES: &[u8] = b"\x00\xff\n\r%/:<>~=-@\x1b0123456789ABCDEFzu!S";
        for _ in 0..rounds {
            let mut d = seed.to_vec();
            for _ in 0..1 + next(4) {
                let at = next(d.len() + 1);
                let byte = if next(2) == 0 {
                    BYTES[next(BYTES.len())]
                } else {
                    next(256) as u8
                };
                match next(4) {
                    0 if at < d.len() => d[at] = byte,
                    1 => d.insert(at, byte),
                    2 if at < d.len() => {
                        d.remove(at);
                    }
                    _ => d.truncate(at),
                }
            }
            crate::fuzzing::run_format(name, &d);
        }
    }

    /// Runs `format.extract` over `data`.
    pub(crate) fn run(format: &dyn Format, data: &[u8]) -> Result<Outcome, FormatError> {
        let limits = crate::limits::Limits::default();
        let spool = Spool::temporary().map_err(|e| FormatError::invalid(e.to_string()))?;
        let mut x = Extractor::new(&limits, &spool, data.len() as u64, 1 << 30);
        let consumed = format.extract(data, &mut x)?;
        let verified = x.is_verified();
        let (children, notes, description, _) = x.into_parts();
        let members = children
            .into_iter()
            .map(|c| {
                let name = String::from_utf8_lossy(&c.entry.member.unwrap_or_default()).into_owned();
                let bytes = match c.data {
                    ChildData::Bytes(b) => b.to_vec(),
                    ChildData::Region { offset, length } => data
                        .get(offset as usize..(offset + length) as usize)
                        .map(<[u8]>::to_vec)
                        .unwrap_or_default(),
                    ChildData::Spooled(p) => std::fs::read(p).unwrap_or_default(),
                    ChildData::None => Vec::new(),
                };
                (name, bytes)
            })
            .collect();
        Ok(Outcome {
            consumed,
            members,
            notes,
            description,
            verified,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::testing::run;
    use super::{Ascii85, decode};
    use crate::format::Format;

    /// Encodes like Python's `base64.a85encode` (with `z` for zero groups), for the tests.
    fn encode(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for chunk in data.chunks(4) {
            let mut word = [0u8; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            let mut v = u32::from_be_bytes(word);
            if chunk.len() == 4 && v == 0 {
                out.push(b'z');
                continue;
            }
            let mut digits = [0u8; 5];
            for d in digits.iter_mut().rev() {
                *d = b'!' + (v % 85) as u8;
                v /= 85;
            }
            out.extend_from_slice(&digits[..chunk.len() + 1]);
        }
        out
    }

    #[test]
    fn decodes_known_text() {
        // The Adobe reference example: "Man " -> "9jqo^".
        assert_eq!(decode(b"9jqo^").unwrap(), b"Man ");
        assert_eq!(decode(b"9jqo^BlbD-").unwrap(), b"Man is d");
        assert_eq!(decode(b"9jqo^F*2M7").unwrap(), b"Man sure");
        assert_eq!(decode(b"z").unwrap(), [0u8; 4]);
        assert_eq!(decode(b"9jq\no^ \r\n").unwrap(), b"Man ");
        for n in 0..40usize {
            let data: Vec<u8> = (0..n).map(|i| (i * 37 % 256) as u8).collect();
            assert_eq!(decode(&encode(&data)).unwrap(), data, "length {n}");
        }
        let zeros = [0u8; 12];
        assert_eq!(encode(&zeros), b"zzz");
        assert_eq!(decode(b"zzz").unwrap(), zeros);
    }

    #[test]
    fn refuses_bad_text() {
        assert!(decode(b"9jqo^B").is_none()); // a final group of one character
        assert!(decode(b"9jzqo^").is_none()); // z inside a group
        assert!(decode(b"s8W-\"").is_none()); // 2^32: one above the largest group
        assert!(decode(b"s8W-!").is_some()); // 2^32 - 1
        assert!(decode(b"9jqo^v").is_none()); // outside the alphabet
    }

    #[test]
    fn extracts_a_block() {
        let payload = b"Hello World!\nThis string sequence represents a test\r\n".to_vec();
        let mut data = b"<~".to_vec();
        data.extend(encode(&payload));
        data.extend(b"~>\ntrailing");
        let p = Ascii85.probe(&data).unwrap();
        let end = data.len() - "\ntrailing".len();
        assert_eq!(p.length, Some(end as u64));
        let o = run(&Ascii85, &data).unwrap();
        assert_eq!(o.consumed, end as u64);
        assert_eq!(o.names(), vec!["/decoded.bin"]);
        assert_eq!(o.member("/decoded.bin").unwrap(), payload);
        assert!(o.notes.is_empty());
        assert!(!o.verified);
    }

    #[test]
    fn mutations_never_break_the_invariants() {
        let mut data = b"<~".to_vec();
        data.extend(encode(
            b"Hello World!\nThis string sequence represents a test\r\n\0\0\0\0",
        ));
        data.extend(b"~>\n");
        super::testing::shake("ascii85", &data, 300);
    }

    #[test]
    fn refuses_non_blocks() {
        for bad in [
            &b"<~"[..],
            b"<~87cURD]i,\"Ebo80",       // no end
            b"<~87cURD~>",               // too short
            b"<~87cURD]i,\"Ebo80~x",     // ~ not followed by >
            b"<~87cURD]i,\"Ebo80\xff~>", // a byte outside the alphabet
            b"<~87cURD]i,\"Ebo80E~>",    // a final lone character
            b"<~s8W-\"s8W-\"s8W-\"~>",   // groups above 2^32 - 1
            b"<-87cURD]i,\"Ebo80~>",
        ] {
            assert!(Ascii85.probe(bad).is_none(), "{bad:?}");
            assert!(run(&Ascii85, bad).is_err());
        }
        // Random bytes after the magic never panic.
        let mut x = 1u32;
        for _ in 0..200 {
            let mut d = b"<~".to_vec();
            for _ in 0..30 {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                d.push(b'!' + ((x >> 16) % 90) as u8);
            }
            d.extend(b"~>");
            let _ = Ascii85.probe(&d);
            let _ = run(&Ascii85, &d);
        }
    }
}
