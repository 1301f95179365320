//! JPEG, PNG, GIF and BMP pictures found anywhere, delimited by walking their structure: a JPEG by
//! its marker segments and entropy-coded data up to the end-of-image marker, a PNG by its chunks up
//! to `IEND`, a GIF by its blocks and sub-blocks up to the trailer, a BMP by the file size in its
//! header once the header's geometry has been checked against it.
//! Firmware embeds pictures in web servers, thumbnail caches and boot splash partitions; carving
//! them exactly leaves what follows them to be examined, and keeps their compressed contents from
//! being mistaken for anything else. The picture itself is the one member (`/image.jpg`,
//! `/image.png`, `/image.gif`, `/image.bmp`), so that a carved picture is a file of its own; a picture that is the whole content
//! adds nothing (the engine drops a member identical to its container).
//!
//! A picture at the start of a content that does not walk cleanly is left to [`super::media`],
//! which recognises it by its magic and covers the whole content.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// JPEG, PNG, GIF and BMP pictures.
#[derive(Debug)]
pub struct Picture;

const MAGICS: &[Magic] = &[
    Magic::start(b"\xff\xd8\xff"),
    Magic::start(b"\x89PNG\r\n\x1a\n"),
    Magic::start(b"GIF87a"),
    Magic::start(b"GIF89a"),
    Magic::start(b"BM"),
];

/// Upper bound on marker segments or chunks walked, so that a hostile file costs little.
const MAX_PARTS: usize = 100_000;

/// The length of a JPEG from its start-of-image marker through its end-of-image marker, when it has
/// a frame header and scan data in between.
fn jpeg_len(data: &[u8]) -> Option<usize> {
    if !data.starts_with(b"\xff\xd8") {
        return None;
    }
    // The first segment must be one that starts real files: an APPn, a quantisation or Huffman
    // table, or a frame header.
    let first = *data.get(3)?;
    if !matches!(first, 0xe0..=0xef | 0xdb | 0xc4 | 0xc0..=0xc2) {
        return None;
    }
    let mut at = 2usize;
    let (mut frame, mut scan) = (false, false);
    for _ in 0..MAX_PARTS {
        if *data.get(at)? != 0xff {
            return None;
        }
        // Any number of 0xFF fill bytes may precede a marker.
        while *data.get(at + 1)? == 0xff {
            at += 1;
        }
        let marker = data[at + 1];
        at += 2;
        match marker {
            0xd9 => return (frame && scan).then_some(at),
            0x01 | 0xd0..=0xd7 => {}
            0x00 => return None,
            _ => {
                let len = usize::from(bytes::be16(data, at)?);
                if len < 2 {
                    return None;
                }
                at = at.checked_add(len)?;
                if at > data.len() {
                    return None;
                }
                match marker {
                    0xc0..=0xcf if !matches!(marker, 0xc4 | 0xc8 | 0xcc) => frame = true,
                    0xda => {
                        if !frame {
                            return None;
                        }
                        scan = true;
                        at = entropy_end(data, at)?;
                    }
                    _ => {}
                }
            }
        }
    }
    None
}

/// Where the entropy-coded data that starts at `at` ends: at the first marker, that is a 0xFF not
/// followed by a stuffed zero or a restart marker.
fn entropy_end(data: &[u8], mut at: usize) -> Option<usize> {
    loop {
        at += memchr::memchr(0xff, data.get(at..)?)?;
        match *data.get(at + 1)? {
            0x00 | 0xd0..=0xd7 | 0xff => at += 1,
            _ => return Some(at),
        }
    }
}

/// The length of a PNG whose first chunk is its header: its chunks up to and including `IEND`.
fn png_len(data: &[u8]) -> Option<usize> {
    if !data.starts_with(b"\x89PNG\r\n\x1a\n") || data.get(12..16)? != b"IHDR" || bytes::be32(data, 8)? != 13
    {
        return None;
    }
    let mut at = 8usize;
    for _ in 0..MAX_PARTS {
        let len = bytes::be32(data, at)? as usize;
        let ty = bytes::slice(data, at + 4, 4)?;
        if !ty.iter().all(u8::is_ascii_alphabetic) {
            return None;
        }
        at = at.checked_add(12)?.checked_add(len)?;
        if at > data.len() {
            return None;
        }
        if ty == b"IEND" {
            return Some(at);
        }
    }
    None
}

/// The length of a GIF: header, logical screen descriptor and global colour table, then
/// extension and image blocks (each a run of length-prefixed sub-blocks) up to the trailer byte.
fn gif_len(data: &[u8]) -> Option<usize> {
    if !(data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a")) {
        return None;
    }
    let (width, height) = (bytes::le16(data, 6)?, bytes::le16(data, 8)?);
    if width == 0 || height == 0 {
        return None;
    }
    let flags = *data.get(10)?;
    let mut at = 13usize;
    if flags & 0x80 != 0 {
        at += 3 << ((flags & 7) + 1);
    }
    let mut images = 0usize;
    for _ in 0..MAX_PARTS {
        match *data.get(at)? {
            0x3b => return (images > 0).then_some(at + 1),
            0x21 => at = gif_sub_blocks(data, at + 2)?,
            0x2c => {
                let local = *data.get(at + 9)?;
                at += 10;
                if local & 0x80 != 0 {
                    at += 3 << ((local & 7) + 1);
                }
                // The LZW minimum code size is 2 to 8 bits (1 is tolerated by decoders too).
                if !(1..=11).contains(data.get(at)?) {
                    return None;
                }
                at = gif_sub_blocks(data, at + 1)?;
                images += 1;
            }
            _ => return None,
        }
    }
    None
}

/// Where the sub-blocks that start at `at` end: past the zero-length block that terminates them.
fn gif_sub_blocks(data: &[u8], mut at: usize) -> Option<usize> {
    for _ in 0..data.len() {
        let len = usize::from(*data.get(at)?);
        at += 1 + len;
        if len == 0 {
            return Some(at);
        }
    }
    None
}

/// The length of a BMP: the file size its header states, when the header's geometry (one plane, a
/// standard bit depth and compression, pixel data after the headers) fits inside it.
fn bmp_len(data: &[u8]) -> Option<usize> {
    if !data.starts_with(b"BM") || bytes::le32(data, 6)? != 0 {
        return None;
    }
    let size = bytes::le32(data, 2)? as usize;
    let pixels = bytes::le32(data, 10)? as usize;
    let header = bytes::le32(data, 14)? as usize;
    let (width, height, planes, bpp, compression) = match header {
        12 => (
            u64::from(bytes::le16(data, 18)?),
            u64::from(bytes::le16(data, 20)?),
            bytes::le16(data, 22)?,
            bytes::le16(data, 24)?,
            0,
        ),
        40 | 52 | 56 | 64 | 108 | 124 => (
            u64::from(bytes::le32(data, 18)?),
            // A negative height is a top-down picture.
            u64::from((bytes::le32(data, 22)? as i32).unsigned_abs()),
            bytes::le16(data, 26)?,
            bytes::le16(data, 28)?,
            bytes::le32(data, 30)?,
        ),
        _ => return None,
    };
    if planes != 1
        || !matches!(bpp, 1 | 2 | 4 | 8 | 16 | 24 | 32)
        || compression > 6
        || !(1..=1 << 16).contains(&width)
        || !(1..=1 << 16).contains(&height)
        || pixels < 14 + header
        || pixels >= size
        || size > data.len()
    {
        return None;
    }
    // Uncompressed rows are padded to four bytes; the pixel array must fit in the stated size.
    if matches!(compression, 0 | 3 | 6) {
        let row = (u64::from(bpp) * width).div_ceil(32) * 4;
        if pixels as u64 + row * height > size as u64 {
            return None;
        }
    }
    Some(size)
}

impl Format for Picture {
    fn name(&self) -> &'static str {
        "picture"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let (kind, len) = if data.starts_with(b"\xff\xd8") {
            ("JPEG image", jpeg_len(data)?)
        } else if data.starts_with(b"GIF") {
            ("GIF image", gif_len(data)?)
        } else if data.starts_with(b"BM") {
            ("BMP image", bmp_len(data)?)
        } else {
            ("PNG image", png_len(data)?)
        };
        Some(Probe {
            length: Some(len as u64),
            confidence: 80,
            description: format!("{kind}, {len} bytes"),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let p = self
            .probe(data)
            .ok_or_else(|| FormatError::invalid("not a complete JPEG, PNG, GIF or BMP picture"))?;
        out.describe(p.description);
        let len = p.length.unwrap_or(0);
        let name: &[u8] = if data.starts_with(b"\xff\xd8") {
            b"/image.jpg"
        } else if data.starts_with(b"GIF") {
            b"/image.gif"
        } else if data.starts_with(b"BM") {
            b"/image.bmp"
        } else {
            b"/image.png"
        };
        out.region(Entry::file(name), 0, len);
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::{bmp_len, gif_len, jpeg_len, png_len};

    /// A minimal JPEG: SOI, APP0, DQT-less frame header, SOS, scan data with a stuffed 0xFF and a
    /// restart marker, EOI.
    fn jpeg() -> Vec<u8> {
        let mut j = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00".to_vec();
        j.extend_from_slice(b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00");
        j.extend_from_slice(b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00");
        j.extend_from_slice(b"\x12\xff\x00\x34\xff\xd0\x56");
        j.extend_from_slice(b"\xff\xd9");
        j
    }

    #[test]
    fn jpeg_is_delimited_by_its_end_marker() {
        let mut j = jpeg();
        let n = j.len();
        j.extend_from_slice(b"trailing bytes\xff\xd9");
        assert_eq!(jpeg_len(&j), Some(n));
        // Without a frame header, or cut before the end, it is not a picture.
        assert_eq!(jpeg_len(&j[..n - 1]), None);
        let mut no_frame = j[..20].to_vec();
        no_frame.extend_from_slice(&j[33..]);
        assert_eq!(jpeg_len(&no_frame), None);
    }

    #[test]
    fn png_is_delimited_by_iend() {
        let mut p = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
        p.extend_from_slice(&[0; 13 + 4]);
        p.extend_from_slice(b"\x00\x00\x00\x00IEND\xae\x42\x60\x82");
        let n = p.len();
        p.extend_from_slice(b"more");
        assert_eq!(png_len(&p), Some(n));
        assert_eq!(png_len(&p[..n - 1]), None);
    }

    #[test]
    fn gif_is_delimited_by_its_trailer() {
        // 2x1 pixels, a two-entry global colour table, a graphic control extension, one image.
        let mut g = b"GIF89a\x02\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff".to_vec();
        g.extend_from_slice(b"\x21\xf9\x04\x00\x00\x00\x00\x00");
        g.extend_from_slice(b"\x2c\x00\x00\x00\x00\x02\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b");
        let n = g.len();
        g.extend_from_slice(b"\x3b\x3b");
        assert_eq!(gif_len(&g), Some(n));
        assert_eq!(gif_len(&g[..n - 1]), None);
        // A trailer with no image before it is not a picture.
        assert_eq!(gif_len(b"GIF89a\x01\x00\x01\x00\x00\x00\x00\x3b"), None);
    }

    #[test]
    fn bmp_size_must_hold_its_pixels() {
        // 3x2 pixels at 24 bits: rows of 9 bytes padded to 12, 24 bytes of pixels after 54 bytes.
        let mut b = b"BM".to_vec();
        for v in [78u32, 0, 54, 40, 3, 2] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&24u16.to_le_bytes());
        b.extend_from_slice(&[0; 24]);
        b.extend_from_slice(&[0x55; 24]);
        assert_eq!(b.len(), 78);
        b.extend_from_slice(b"after");
        assert_eq!(bmp_len(&b), Some(78));
        // A stated size too small for the pixel array, or past the data, is rejected.
        let mut short = b.clone();
        short[2] = 77;
        assert_eq!(bmp_len(&short), None);
        assert_eq!(bmp_len(&b[..77]), None);
        // Two planes is not a BMP.
        let mut planes = b.clone();
        planes[26] = 2;
        assert_eq!(bmp_len(&planes), None);
    }
}
