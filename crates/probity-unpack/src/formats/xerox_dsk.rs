//! Xerox "DSK1.0" firmware files (Phaser and ColorQube printers): a 24-byte header
//! (`ESC DSK1.0`, three zero bytes, a byte of unknown meaning at 0x0A (1 in the known files), a
//! zero byte, the payload size as a little-endian u32 at 0x0C, eight zero bytes) followed by the
//! payload, base64 text of that size. An extended variant puts a 12-byte `ESC *FlashW` prefix
//! (with a little-endian u32 of unknown meaning) in front of the same header.
//!
//! The header's zero bytes and the base64 alphabet of the payload's first bytes are checked; the
//! payload is decoded into one member. The format has no checksum.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};
use crate::formats::alpha_script::Base64;

/// The Xerox DSK format.
#[derive(Debug)]
pub struct XeroxDsk;

const DSK: &[u8] = b"\x1bDSK1.0";
const FLASHW: &[u8] = b"\x1b*FlashW";
const MAGICS: &[Magic] = &[Magic::start(DSK), Magic::start(FLASHW)];
const HEADER: usize = 0x18;
/// Base64 text decoded at a time.
const PIECE: usize = 1 << 20;
/// Size of the extended variant's prefix.
const PREFIX: usize = 12;

struct Dsk {
    /// Where the DSK header starts (0, or 12 behind the extended prefix).
    base: usize,
    /// The extended prefix's value.
    prefix_value: Option<u32>,
    /// The byte at 0x0A.
    kind: u8,
    /// The payload size.
    size: u32,
}

impl Dsk {
    fn payload(&self) -> usize {
        self.base + HEADER
    }

    fn end(&self) -> u64 {
        self.payload() as u64 + u64::from(self.size)
    }
}

fn is_base64(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'\r' | b'\n')
}

fn parse(data: &[u8]) -> Option<Dsk> {
    let (base, prefix_value) = if data.starts_with(FLASHW) {
        (PREFIX, Some(bytes::le32(data, FLASHW.len())?))
    } else {
        (0, None)
    };
    let h = data.get(base..base + HEADER)?;
    if !h.starts_with(DSK) || h.get(7..10)? != [0, 0, 0] || *h.get(0x0b)? != 0 {
        return None;
    }
    if h.get(0x10..0x18)?.iter().any(|&b| b != 0) {
        return None;
    }
    let size = bytes::le32(h, 0x0c)?;
    if size < 4 {
        return None;
    }
    // The payload's first bytes (as many as are present, up to 64) must be base64 text.
    let payload = data.get(base + HEADER..)?;
    let sample = payload.get(..payload.len().min(size as usize).min(64))?;
    if sample.is_empty() || !sample.iter().all(|&c| is_base64(c)) {
        return None;
    }
    Some(Dsk {
        base,
        prefix_value,
        kind: *h.get(0x0a)?,
        size,
    })
}

impl Format for XeroxDsk {
    fn name(&self) -> &'static str {
        "xerox-dsk"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let d = parse(data)?;
        Some(Probe {
            length: Some(d.end()),
            confidence: 80,
            description: format!(
                "Xerox DSK1.0{}, base64 payload of {} characters",
                if d.prefix_value.is_some() {
                    " (extended)"
                } else {
                    ""
                },
                d.size
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let d = parse(data).ok_or_else(|| FormatError::invalid("not a Xerox DSK1.0 header"))?;
        let end = d.end().min(data.len() as u64) as usize;
        if (end as u64) < d.end() {
            out.note(format!(
                "the payload is cut off: {} of {} characters present",
                end - d.payload(),
                d.size
            ));
        }
        let text = data.get(d.payload()..end).unwrap_or_default();
        let prefix = match d.prefix_value {
            Some(v) => format!(" behind an ESC*FlashW prefix (value {v:#x})"),
            None => String::new(),
        };
        // Decoded in pieces: the payload may be large.
        let mut decoder = Base64::default();
        let mut sink = out.sink(Entry::file(b"/payload.bin".to_vec()));
        let mut buf = Vec::with_capacity(PIECE / 4 * 3 + 3);
        let mut result = Ok(());
        let mut bad_at = None;
        let mut done = 0usize;
        for piece in text.chunks(PIECE) {
            result = out.check_time();
            if result.is_err() {
                break;
            }
            buf.clear();
            let valid = decoder.push(piece, &mut buf);
            done += piece.len();
            result = sink.write(out, &buf, done as u64);
            if !valid {
                bad_at = Some(d.payload() + done - piece.len());
                break;
            }
            if result.is_err() {
                break;
            }
        }
        if bad_at.is_none() && result.is_ok() && !decoder.finish() {
            bad_at = Some(end);
        }
        let decoded = sink.len();
        sink.finish(out, result.is_err() || bad_at.is_some());
        out.describe(format!(
            "Xerox DSK1.0{prefix}, byte 0x0A = {}, base64 payload of {} characters decoded to {decoded} bytes (no checksum)",
            d.kind, d.size
        ));
        if let Some(at) = bad_at {
            out.note(format!(
                "the payload is not valid base64 (in the {} KiB from {at:#x}); the {decoded} bytes decoded before were kept",
                PIECE >> 10
            ));
        }
        out.settle(result)?;
        Ok(end as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::XeroxDsk;
    use crate::format::Format;
    use crate::formats::ascii85::testing::run;

    fn dsk(payload: &[u8]) -> Vec<u8> {
        let mut d = b"\x1bDSK1.0\0\0\0\x01\0".to_vec();
        d.extend((payload.len() as u32).to_le_bytes());
        d.extend([0u8; 8]);
        d.extend(payload);
        d
    }

    #[test]
    fn plain_and_extended() {
        let d = dsk(b"QLQJABtF\nZm9vYmFy\n");
        let p = XeroxDsk.probe(&d).unwrap();
        assert_eq!(p.length, Some(d.len() as u64));
        let mut with_tail = d.clone();
        with_tail.extend(b"TRAILER");
        let o = run(&XeroxDsk, &with_tail).unwrap();
        assert_eq!(o.consumed, d.len() as u64);
        assert_eq!(o.names(), vec!["/payload.bin"]);
        assert_eq!(
            o.member("/payload.bin").unwrap(),
            b"\x40\xb4\x09\x00\x1b\x45foobar"
        );
        assert!(o.notes.is_empty());

        let mut e = b"\x1b*FlashW\xb5\x02\x00\x00".to_vec();
        e.extend(&d);
        let o = run(&XeroxDsk, &e).unwrap();
        assert_eq!(o.consumed, e.len() as u64);
        assert_eq!(
            o.member("/payload.bin").unwrap(),
            b"\x40\xb4\x09\x00\x1b\x45foobar"
        );
        assert!(o.description.contains("value 0x2b5"), "{}", o.description);
    }

    /// Base64 with line breaks every 76 characters, for the tests.
    fn encode(data: &[u8]) -> Vec<u8> {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = Vec::new();
        for (i, c) in data.chunks(3).enumerate() {
            if i > 0 && i % 19 == 0 {
                out.push(b'\n');
            }
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for k in 0..4 {
                out.push(if k <= c.len() {
                    A[(n >> (18 - 6 * k) & 63) as usize]
                } else {
                    b'='
                });
            }
        }
        out.push(b'\n');
        out
    }

    #[test]
    fn large_payload_in_pieces() {
        let payload: Vec<u8> = (0..3_000_001u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let d = dsk(&encode(&payload));
        let o = run(&XeroxDsk, &d).unwrap();
        assert!(o.notes.is_empty(), "{:?}", o.notes);
        assert_eq!(o.member("/payload.bin").unwrap(), payload);
    }

    #[test]
    fn truncated_or_bad_payload_is_a_note() {
        let d = dsk(b"Zm9vYmFyZm9v");
        let o = run(&XeroxDsk, &d[..d.len() - 4]).unwrap();
        assert_eq!(o.member("/payload.bin").unwrap(), b"foobar");
        assert_eq!(o.notes.len(), 1, "{:?}", o.notes);
        // A character outside the alphabet past the bytes the probe looks at.
        let mut text = vec![b'A'; 64];
        text.extend(b"*AAA");
        let o = run(&XeroxDsk, &dsk(&text)).unwrap();
        assert_eq!(o.member("/payload.bin").unwrap(), [0u8; 48]);
        assert_eq!(o.notes.len(), 1);
        // A length no encoder writes: what decoded is kept.
        let o = run(&XeroxDsk, &dsk(b"Zm9vY")).unwrap();
        assert_eq!(o.member("/payload.bin").unwrap(), b"foo");
        assert_eq!(o.notes.len(), 1);
    }

    #[test]
    fn mutations_never_break_the_invariants() {
        let d = dsk(b"QLQJABtF\nZm9vYmFy\n");
        crate::formats::ascii85::testing::shake("xerox-dsk", &d, 300);
        let mut e = b"\x1b*FlashW\xb5\x02\x00\x00".to_vec();
        e.extend(&d);
        crate::formats::ascii85::testing::shake("xerox-dsk", &e, 300);
    }

    #[test]
    fn refuses_other_data() {
        let d = dsk(b"Zm9vYmFy");
        for n in 0..0x19 {
            assert!(XeroxDsk.probe(&d[..n]).is_none(), "cut at {n}");
        }
        for at in [7, 8, 9, 0x0b, 0x10, 0x17] {
            let mut x = d.clone();
            x[at] = 1;
            assert!(XeroxDsk.probe(&x).is_none(), "byte {at}");
        }
        let mut x = d.clone();
        x[0x18] = 0;
        assert!(XeroxDsk.probe(&x).is_none());
        let mut x = d.clone();
        x[0x0c] = 2;
        assert!(XeroxDsk.probe(&x).is_none());
        assert!(XeroxDsk.probe(b"\x1b*FlashW\xb5\x02\x00\x00\x1bDSK1.1").is_none());
        assert!(run(&XeroxDsk, b"\x1bDSK1.0").is_err());
    }
}
