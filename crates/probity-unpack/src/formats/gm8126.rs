//! Grain Media GM8126 flash images, found in the firmware of cheap IP cameras built on that SoC.
//! The 256-byte header, as the vendor SDK's image tool writes it (every 32-bit word byte-swapped,
//! so it reads big-endian), holds the magic `80 5A 47 4D` ("\x80ZGM"), a checksum word (zero
//! in the images the tool makes), the payload size at 8, an unused word of zero, an 80-byte image
//! name at 0x10 and reserved space. The payload (the kernel) follows at 0x100 and becomes the
//! member `/kernel.img`, as stored (the same tool also byte-swaps the payload's words, but other
//! producers, such as the one that made FACT's sample, do not: no swapping is undone here). The header is validated by its unused word, a printable,
//! NUL-padded name and a payload that fits in the data; a non-zero checksum word is compared with
//! the CRC-32 of the payload (the SDK does not say which checksum it means).

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The Grain Media GM8126 image format.
#[derive(Debug)]
pub struct Gm8126;

const MAGICS: &[Magic] = &[Magic::start(b"\x80ZGM")];
const HEADER_LEN: usize = 0x100;

struct Header {
    checksum: u32,
    size: u64,
    name: Vec<u8>,
}

const NAME_LEN: usize = 80;

fn parse(data: &[u8]) -> Option<Header> {
    let head = bytes::slice(data, 0, HEADER_LEN)?;
    if head.get(..4)? != b"\x80ZGM" || bytes::be32(head, 12)? != 0 {
        return None;
    }
    let checksum = bytes::be32(head, 4)?;
    let size = u64::from(bytes::be32(head, 8)?);
    let field = bytes::slice(head, 0x10, NAME_LEN)?;
    let name = bytes::cstr(field);
    // The name is printable text, padded with NULs.
    let printable = name.iter().all(|b| (0x20..0x7f).contains(b));
    let padded = field.get(name.len()..)?.iter().all(|&b| b == 0);
    if size == 0 || !printable || !padded || HEADER_LEN as u64 + size > data.len() as u64 {
        return None;
    }
    Some(Header {
        checksum,
        size,
        name: name.to_vec(),
    })
}

fn describe(h: &Header, verdict: &str) -> String {
    format!(
        "Grain Media GM8126 image `{}`, kernel of {} bytes, {verdict}",
        probity_model::text::escape(&h.name),
        h.size
    )
}

const NO_CHECKSUM: &str = "no checksum set";

impl Format for Gm8126 {
    fn name(&self) -> &'static str {
        "gm8126"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let h = parse(data)?;
        Some(Probe {
            length: Some(HEADER_LEN as u64 + h.size),
            confidence: 75,
            description: describe(&h, NO_CHECKSUM),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let h = parse(data).ok_or_else(|| FormatError::invalid("bad GM8126 header"))?;
        let verdict = if h.checksum == 0 {
            NO_CHECKSUM.to_string()
        } else {
            let payload = bytes::slice(data, HEADER_LEN, h.size as usize).unwrap_or_default();
            if crc32fast::hash(payload) == h.checksum {
                out.verified();
                "CRC-32 verified".to_string()
            } else {
                format!(
                    "checksum word {:#010x} (not the CRC-32 of the payload; algorithm unknown, not verified)",
                    h.checksum
                )
            }
        };
        out.describe(describe(&h, &verdict));
        out.region(Entry::file(b"/kernel.img".to_vec()), HEADER_LEN as u64, h.size);
        Ok(HEADER_LEN as u64 + h.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{ChildData, Spool};
    use crate::limits::Limits;

    fn image(size: u32, name: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut d = vec![0u8; HEADER_LEN];
        d[..4].copy_from_slice(b"\x80ZGM");
        d[8..12].copy_from_slice(&size.to_be_bytes());
        d[0x10..0x10 + name.len()].copy_from_slice(name);
        d.extend_from_slice(payload);
        d
    }

    #[test]
    fn kernel_member() {
        let d = image(10, b"image name", b"foobar 123");
        let p = Gm8126.probe(&d).unwrap();
        assert_eq!(p.length, Some(266));
        assert!(p.description.contains("`image name`"));
        let limits = Limits::default();
        let spool = Spool::temporary().unwrap();
        let mut x = Extractor::new(&limits, &spool, d.len() as u64, 1 << 30);
        assert_eq!(Gm8126.extract(&d, &mut x).unwrap(), 266);
        let (children, notes, _, _) = x.into_parts();
        assert!(notes.is_empty());
        assert_eq!(children.len(), 1);
        assert_eq!(
            children[0].entry.member.as_deref(),
            Some(b"/kernel.img".as_slice())
        );
        assert!(matches!(
            children[0].data,
            ChildData::Region {
                offset: 0x100,
                length: 10
            }
        ));
    }

    #[test]
    fn checksum_word() {
        let limits = Limits::default();
        let spool = Spool::temporary().unwrap();
        for (word, verified) in [(crc32fast::hash(b"abc"), true), (0x1234, false)] {
            let mut d = image(3, b"n", b"abc");
            d[4..8].copy_from_slice(&word.to_be_bytes());
            let mut x = Extractor::new(&limits, &spool, d.len() as u64, 1 << 30);
            Gm8126.extract(&d, &mut x).unwrap();
            assert_eq!(x.is_verified(), verified);
            let (children, _, desc, _) = x.into_parts();
            assert_eq!(children.len(), 1);
            assert_eq!(desc.contains("CRC-32 verified"), verified);
        }
    }

    #[test]
    fn refuses_bad_headers() {
        assert!(Gm8126.probe(&image(11, b"image name", b"foobar 123")).is_none());
        assert!(Gm8126.probe(&image(0, b"image name", b"")).is_none());
        assert!(Gm8126.probe(&image(3, b"bad\x01name", b"abc")).is_none());
        let mut d = image(3, b"n", b"abc");
        d[13] = 1; // the unused word
        assert!(Gm8126.probe(&d).is_none());
        let mut d = image(3, b"n", b"abc");
        d[0x50] = 7;
        assert!(Gm8126.probe(&d).is_none());
        for n in 0..0x100 {
            assert!(Gm8126.probe(&image(1, b"n", b"x")[..n]).is_none());
        }
    }
}
