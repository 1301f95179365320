//! Linksys/Cybertan "code pattern" headers (`addpattern`): 32 bytes in front of a Broadcom TRX
//! (or, on a few boards, another image) that the vendor's web upgrade checks: a model pattern of
//! up to 8 characters (such as `W54G`, optionally followed by `PBOT`), the build date (year within
//! the century, month, day), the firmware version (three numbers), the id `U2ND` at offset 14, a
//! hardware version, a serial number, support flags and dual-image state bytes.
//!
//! There is no checksum; the probe checks the pattern characters, that the rest of the pattern
//! field is NUL or more pattern characters, and that the date is a calendar date. The header is
//! recognised and explained; the TRX after it is found by the signature scan on its own, so the
//! structure is the 32 bytes and has no members.

use crate::extract::Extractor;
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The Cybertan code pattern header.
#[derive(Debug)]
pub struct Cybertan;

const MAGICS: &[Magic] = &[Magic {
    bytes: b"U2ND",
    at: 14,
}];

const HEADER_LEN: usize = 32;

struct Header {
    pattern: Vec<u8>,
    date: [u8; 3],
    version: [u8; 3],
    hw_ver: u8,
    serial: u8,
    flags: u16,
    /// What follows the header, when it is recognised.
    next: Option<&'static str>,
}

fn parse(data: &[u8]) -> Option<Header> {
    let head = data.get(..HEADER_LEN)?;
    if &head[14..18] != b"U2ND" {
        return None;
    }
    let pattern = &head[0..8];
    let (first, second) = pattern.split_at(4);
    if !first.iter().all(u8::is_ascii_alphanumeric)
        || !(second.iter().all(|&b| b == 0) || second.iter().all(u8::is_ascii_alphanumeric))
    {
        return None;
    }
    let date: [u8; 3] = bytes::arr(head, 8)?;
    if date[0] > 99 || !(1..=12).contains(&date[1]) || !(1..=31).contains(&date[2]) {
        return None;
    }
    let next = match data.get(HEADER_LEN..HEADER_LEN + 4) {
        Some(b"HDR0") => Some("a TRX image"),
        Some(b"\x27\x05\x19\x56") => Some("a U-Boot image"),
        _ => None,
    };
    Some(Header {
        pattern: bytes::cstr(pattern).to_vec(),
        date,
        version: bytes::arr(head, 11)?,
        hw_ver: head[18],
        serial: head[19],
        flags: u16::from_le_bytes([head[20], head[21]]),
        next,
    })
}

fn describe(h: &Header) -> String {
    format!(
        "Linksys/Cybertan code pattern `{}`, firmware v{}.{}.{} built 20{:02}-{:02}-{:02}, hardware version {:#04x}, serial {}, flags {:#06x}, followed by {}",
        probity_model::text::escape(&h.pattern),
        h.version[0],
        h.version[1],
        h.version[2],
        h.date[0],
        h.date[1],
        h.date[2],
        h.hw_ver,
        h.serial,
        h.flags,
        h.next.unwrap_or("data of an unrecognised kind")
    )
}

impl Format for Cybertan {
    fn name(&self) -> &'static str {
        "cybertan"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let h = parse(data)?;
        Some(Probe {
            length: Some(HEADER_LEN as u64),
            confidence: if h.next.is_some() { 90 } else { 65 },
            description: describe(&h),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let h = parse(data).ok_or_else(|| FormatError::invalid("bad Cybertan code pattern"))?;
        out.describe(describe(&h));
        Ok(HEADER_LEN as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::Cybertan;
    use crate::format::Format;
    use crate::formats::seama::tests::run;

    /// The header `addpattern -p W54G -b -v v4.20.7 -2` writes on 2008-05-20, then a TRX magic.
    fn image() -> Vec<u8> {
        let mut d = b"W54GPBOT".to_vec();
        d.extend_from_slice(&[8, 5, 20]);
        d.extend_from_slice(&[4, 20, 7]);
        d.extend_from_slice(b"U2ND");
        d.push(1);
        d.push(0);
        d.extend_from_slice(&[0x07, 0x00]);
        d.extend_from_slice(&[0; 10]);
        assert_eq!(d.len(), 32);
        d.extend_from_slice(b"HDR0");
        d.extend_from_slice(&[0; 60]);
        d
    }

    #[test]
    fn header_is_explained_and_covers_32_bytes() {
        let d = image();
        let p = Cybertan.probe(&d).unwrap();
        assert_eq!(p.length, Some(32));
        assert_eq!(p.confidence, 90);
        assert_eq!(
            p.description,
            "Linksys/Cybertan code pattern `W54GPBOT`, firmware v4.20.7 built 2008-05-20, hardware version 0x01, serial 0, flags 0x0007, followed by a TRX image"
        );
        let (used, members, notes, desc, verified) = run(&Cybertan, &d);
        assert_eq!(used, 32);
        assert!(members.is_empty());
        assert!(notes.is_empty());
        assert!(!verified);
        assert_eq!(desc, p.description);
        // A short pattern padded with NULs, and an unknown payload.
        let mut d2 = d.clone();
        d2[4..8].fill(0);
        d2[32..36].copy_from_slice(b"XXXX");
        let p = Cybertan.probe(&d2).unwrap();
        assert_eq!(p.confidence, 65);
        assert!(p.description.starts_with("Linksys/Cybertan code pattern `W54G`,"));
        assert!(
            p.description
                .ends_with("followed by data of an unrecognised kind")
        );
    }

    #[test]
    fn mutated_images_are_harmless() {
        crate::formats::seama::tests::mutations_are_harmless("cybertan", &image());
    }

    #[test]
    fn garbage_is_refused() {
        let good = image();
        for n in 0..32 {
            assert!(Cybertan.probe(&good[..n]).is_none(), "{n}");
        }
        // A pattern that is not text, a half-text second word, month 13, day 0.
        for (at, b) in [(1, 0x01), (6, 0), (9, 13), (10, 0), (8, 100)] {
            let mut d = good.clone();
            d[at] = b;
            assert!(Cybertan.probe(&d).is_none(), "{at}");
        }
        assert!(
            Cybertan
                .probe(b"some text with U2ND inside of it, not a header")
                .is_none()
        );
        let mut state = 11u32;
        for _ in 0..300 {
            let mut d = Vec::new();
            for _ in 0..14 {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                d.push((state >> 16) as u8);
            }
            d.extend_from_slice(b"U2ND");
            d.extend_from_slice(&[0; 20]);
            assert!(Cybertan.probe(&d).is_none());
        }
    }
}
