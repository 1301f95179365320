//! Media files (PNG, JPEG, GIF, BMP, PDF, RIFF): recognised so that their compressed contents are
//! not mistaken for firmware and carved. A PNG is delimited by its chunks (bytes appended after
//! `IEND` are then examined); the others cover the whole content.

use crate::extract::Extractor;
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// Media formats.
#[derive(Debug)]
pub struct Media;

const MAGICS: &[Magic] = &[
    Magic::start(b"\x89PNG\r\n\x1a\n"),
    Magic::start(b"\xff\xd8\xff"),
    Magic::start(b"GIF87a"),
    Magic::start(b"GIF89a"),
    Magic::start(b"%PDF-"),
    Magic::start(b"RIFF"),
    Magic::start(b"BM"),
];

fn kind(data: &[u8]) -> Option<&'static str> {
    Some(if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        "PNG image"
    } else if data.starts_with(b"\xff\xd8\xff") {
        "JPEG image"
    } else if data.starts_with(b"GIF8") {
        "GIF image"
    } else if data.starts_with(b"%PDF-") {
        "PDF document"
    } else if data.starts_with(b"RIFF") && matches!(data.get(8..12)?, b"WAVE" | b"AVI " | b"WEBP") {
        "RIFF media"
    } else if data.starts_with(b"BM")
        && bytes::le32(data, 2)? as usize <= data.len()
        && matches!(bytes::le32(data, 14)?, 12 | 40 | 52 | 56 | 108 | 124)
    {
        "BMP image"
    } else {
        return None;
    })
}

/// The length of a PNG: its chunks up to and including `IEND`.
fn png_len(data: &[u8]) -> Option<usize> {
    let mut at = 8;
    for _ in 0..100_000 {
        let len = bytes::be32(data, at)? as usize;
        let ty = bytes::slice(data, at + 4, 4)?;
        at = at.checked_add(12 + len)?;
        if ty == b"IEND" {
            return (at <= data.len()).then_some(at);
        }
    }
    None
}

impl Format for Media {
    fn name(&self) -> &'static str {
        "media"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn anchored(&self) -> bool {
        true
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let k = kind(data)?;
        let length = if k == "PNG image" {
            png_len(data).map(|l| l as u64)
        } else {
            Some(data.len() as u64)
        };
        Some(Probe {
            length,
            confidence: 60,
            description: k.into(),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let p = self
            .probe(data)
            .ok_or_else(|| FormatError::invalid("not a known media file"))?;
        out.describe(p.description);
        Ok(p.length.unwrap_or(data.len() as u64))
    }
}
