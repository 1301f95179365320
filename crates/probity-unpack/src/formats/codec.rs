//! Block decompressors shared by the file-system formats (squashfs, cramfs, JFFS2, UBIFS): each
//! decodes one block into at most `max_out` bytes, so a forged block can not expand past the
//! size its file system allows.

use std::io::Read;

use lzma_rust2::{Action, Lzma2Stream, LzmaStream, Status, XzStream};

/// A block compression method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// zlib (RFC 1950).
    Zlib,
    /// Raw deflate (RFC 1951).
    Deflate,
    /// LZMA with the 13-byte "alone" header in front of every block.
    LzmaAlone,
    /// Raw LZMA with fixed properties (vendor squashfs variants).
    LzmaRaw {
        /// Properties byte.
        props: u8,
        /// Dictionary size.
        dict: u32,
    },
    /// An xz stream per block.
    Xz,
    /// An LZO1X block.
    Lzo,
    /// An LZ4 block.
    Lz4,
    /// A zstd frame per block.
    Zstd,
}

/// Decodes `data` with `codec` into at most `max_out` bytes.
pub fn decompress(codec: Codec, data: &[u8], max_out: usize) -> Result<Vec<u8>, String> {
    match codec {
        Codec::Zlib => read_bounded(flate2::read::ZlibDecoder::new(data), max_out),
        Codec::Deflate => read_bounded(flate2::read::DeflateDecoder::new(data), max_out),
        Codec::LzmaAlone => {
            let props = *data.first().ok_or("empty LZMA block")?;
            let dict = data
                .get(1..5)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_le_bytes)
                .ok_or("short LZMA block")?;
            let size = data
                .get(5..13)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_le_bytes)
                .ok_or("short LZMA block")?;
            let size = if size == u64::MAX || size > max_out as u64 {
                None
            } else {
                Some(size)
            };
            // Vendors' squashfs 4 "lzma" is not always the .lzma format: another block shape
            // (see `vendor_block`) is tried when the standard one fails.
            lzma_raw(data.get(13..).unwrap_or_default(), props, dict, size, max_out).or_else(|e| {
                vendor_block(data, max_out, max_out)
                    .map(|(v, _)| v)
                    .map_err(|_| e)
            })
        }
        Codec::LzmaRaw { props, dict } => lzma_raw(data, props, dict, None, max_out),
        Codec::Xz => {
            if let Some(r) = xz_single_block(data, max_out) {
                return r;
            }
            let mut s = XzStream::new(false);
            run(data, max_out, |i, o, a| {
                s.process(i, o, a)
                    .map(|r| (r.bytes_consumed, r.bytes_produced, r.status == Status::StreamEnd))
            })
        }
        Codec::Lzo => lzo::decompress(data, max_out).map_err(|e| format!("corrupt LZO block: {e:?}")),
        Codec::Lz4 => {
            lz4_flex::block::decompress(data, max_out).map_err(|e| format!("corrupt LZ4 block: {e}"))
        }
        Codec::Zstd => {
            let mut dec = ruzstd::decoding::FrameDecoder::new();
            dec.set_max_window_size(8 << 20);
            let mut src = data;
            dec.init(&mut src).map_err(|e| format!("bad zstd frame: {e}"))?;
            let mut out = Vec::new();
            while !dec.is_finished() {
                dec.decode_blocks(
                    &mut src,
                    ruzstd::decoding::BlockDecodingStrategy::UptoBytes(max_out + 1),
                )
                .map_err(|e| format!("corrupt zstd block: {e}"))?;
                if let Some(c) = dec.collect() {
                    out.extend_from_slice(&c);
                }
                if out.len() > max_out {
                    return Err(format!("block decodes to more than {max_out} bytes"));
                }
            }
            if let Some(c) = dec.collect() {
                out.extend_from_slice(&c);
            }
            if out.len() > max_out {
                return Err(format!("block decodes to more than {max_out} bytes"));
            }
            Ok(out)
        }
    }
}

/// The common case of an xz stream per file-system block, decoded directly: one block, one LZMA2
/// filter, no check or a CRC-32 (verified here with a table-free CRC, several times faster than
/// the decoder's own). Anything else is `None`, for the general decoder; the stream's index is
/// not read (the block's check covers the data).
fn xz_single_block(data: &[u8], max_out: usize) -> Option<Result<Vec<u8>, String>> {
    fn varint(b: &[u8], p: &mut usize) -> Option<u64> {
        let mut v = 0u64;
        for i in 0..9 {
            let byte = *b.get(*p)?;
            *p += 1;
            v |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    let le32 = |b: &[u8], at: usize| {
        b.get(at..at + 4)
            .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
    };
    if data.get(..6)? != b"\xfd7zXZ\0" {
        return None;
    }
    let flags = data.get(6..8)?;
    let check = flags[1];
    if flags[0] != 0 || check > 1 || crc32fast::hash(flags) != le32(data, 8)? {
        return None;
    }
    let size = (usize::from(*data.get(12)?) + 1) * 4;
    let header = data.get(12..12 + size)?;
    if header[0] == 0 || crc32fast::hash(&header[..size - 4]) != le32(header, size - 4)? {
        return None;
    }
    // One filter, no reserved flags; the optional sizes are skipped.
    let bflags = header[1];
    if bflags & 0x3f != 0 {
        return None;
    }
    let mut p = 2;
    if bflags & 0x40 != 0 {
        varint(header, &mut p)?;
    }
    if bflags & 0x80 != 0 {
        varint(header, &mut p)?;
    }
    if varint(header, &mut p)? != 0x21 || varint(header, &mut p)? != 1 {
        return None;
    }
    let code = *header.get(p)?;
    if code > 40 {
        return None;
    }
    // The window grows with the output, which is bounded: the dictionary never needs more.
    let dict = if code == 40 {
        u32::MAX
    } else {
        (2 | u32::from(code & 1)) << (code / 2 + 11)
    };
    let dict = dict.min(u32::try_from(max_out).unwrap_or(u32::MAX)).max(4096);
    let body = data.get(12 + size..)?;
    let mut s = Lzma2Stream::new(dict);
    let (mut used, mut ended) = (0usize, false);
    let out = run(body, max_out, |i, o, a| {
        s.process(i, o, a).map(|r| {
            used += r.bytes_consumed;
            ended |= r.status == Status::StreamEnd;
            (r.bytes_consumed, r.bytes_produced, r.status == Status::StreamEnd)
        })
    });
    let out = match out {
        Ok(o) => o,
        Err(e) => return Some(Err(e)),
    };
    if !ended {
        return Some(Err("corrupt block: xz data ends early".into()));
    }
    if check == 1 {
        // The check follows the data, padded to a multiple of four bytes.
        let at = (12 + size + used).next_multiple_of(4);
        if le32(data, at) != Some(crc32fast::hash(&out)) {
            return Some(Err("corrupt block: xz CRC-32 mismatch".into()));
        }
    }
    Some(Ok(out))
}

/// How a vendor compressed a file-system block, as recognised from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// A zlib stream.
    Zlib,
    /// `.lzma` header: properties, dictionary, 8-byte size (sqlzma).
    LzmaAlone,
    /// Properties and dictionary only (Broadcom).
    LzmaProps5,
    /// DD-WRT: `pb lc lp fb`, then the stream.
    LzmaDdwrt,
    /// A bare stream with lc=3 lp=0 pb=2 (or lc=0 lp=2 pb=2, the 2005 wrapper).
    LzmaRaw,
}

impl Shape {
    /// How reports name it.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Zlib => "zlib",
            Shape::LzmaAlone => "LZMA (sqlzma)",
            Shape::LzmaProps5 => "LZMA (5-byte header)",
            Shape::LzmaDdwrt => "LZMA (DD-WRT)",
            Shape::LzmaRaw => "LZMA (raw)",
        }
    }
}

fn plausible_dict(d: u32) -> bool {
    (4096..=1 << 30).contains(&d) && {
        let tz = d.trailing_zeros();
        d >> tz == 1 || d >> tz == 3
    }
}

/// Decodes one compressed block of at most `max` bytes, of which the caller needs the first `need`;
/// returns the bytes and the block's shape.
///
/// Vendor LZMA blocks often have neither an end marker nor a recorded size, and a decoder can not
/// finish the last symbols of such a stream without reading past its end: the block is decoded
/// with zero padding behind it and stops after `need` bytes, which the caller knows (a data block's
/// size; the bytes a metadata or fragment read wants). A stream that has an end marker stops there.
pub fn vendor_block(raw: &[u8], need: usize, max: usize) -> Result<(Vec<u8>, Shape), String> {
    let (b0, b1) = (*raw.first().ok_or("empty block")?, *raw.get(1).unwrap_or(&0));
    if b0 & 0x0f == 8 && b0 >> 4 <= 7 && (u16::from(b0) << 8 | u16::from(b1)) % 31 == 0 {
        return decompress(Codec::Zlib, raw, max).map(|v| (v, Shape::Zlib));
    }
    let need = need.min(max);
    let lzma = |body: &[u8], props: u8, dict: u32| {
        let mut padded = Vec::with_capacity(body.len() + 32);
        padded.extend_from_slice(body);
        padded.extend_from_slice(&[0; 32]);
        lzma_prefix(&padded, props, dict, need)
    };
    // Every shape the first bytes allow is tried in turn; the first that decodes wins (a DD-WRT
    // header with pb = 0 also starts with a zero byte, like a bare stream).
    let mut first_error = None;
    let mut attempt = |r: Result<Vec<u8>, String>, shape: Shape| match r {
        Ok(v) => Some((v, shape)),
        Err(e) => {
            first_error.get_or_insert(e);
            None
        }
    };
    let dict = raw
        .get(1..5)
        .map(|d| u32::from_le_bytes([d[0], d[1], d[2], d[3]]));
    if b0 < 225 && b0 != 0 && dict.is_some_and(plausible_dict) {
        let dict = dict.unwrap_or(1 << 23);
        // sqlzma keeps the 8-byte size of the .lzma format; Broadcom drops it.
        let size = raw
            .get(5..13)
            .map(|d| u64::from_le_bytes(d.try_into().unwrap_or([0; 8])));
        if size.is_some_and(|s| s == u64::MAX || (s > 0 && s <= 1 << 20))
            && let Some(hit) = attempt(
                lzma(raw.get(13..).unwrap_or_default(), b0, dict),
                Shape::LzmaAlone,
            )
        {
            return Ok(hit);
        }
        if let Some(hit) = attempt(
            lzma(raw.get(5..).unwrap_or_default(), b0, dict),
            Shape::LzmaProps5,
        ) {
            return Ok(hit);
        }
    }
    if let [pb, lc, lp, _fb, 0, ..] = *raw
        && pb <= 4
        && lc <= 8
        && lp <= 4
        && let Some(hit) = attempt(lzma(&raw[4..], (pb * 5 + lp) * 9 + lc, 1 << 23), Shape::LzmaDdwrt)
    {
        return Ok(hit);
    }
    if b0 == 0 {
        // A bare stream: the range coder's first byte is zero.
        for props in [0x5d, (2 * 5 + 2) * 9] {
            if let Some(hit) = attempt(lzma(raw, props, 1 << 23), Shape::LzmaRaw) {
                return Ok(hit);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| format!("unknown block compression (first bytes {b0:02x} {b1:02x})")))
}

fn read_bounded(mut r: impl Read, max_out: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    (&mut r)
        .take(max_out as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("corrupt block: {e}"))?;
    if out.len() > max_out {
        return Err(format!("block decodes to more than {max_out} bytes"));
    }
    Ok(out)
}

/// The first `need` bytes of a raw LZMA stream (fewer if it ends first), without checking
/// anything past them: for blocks whose true length nothing records, decoded with padding behind
/// them (see the legacy squashfs reader).
pub fn lzma_prefix(data: &[u8], props: u8, dict: u32, need: usize) -> Result<Vec<u8>, String> {
    let mut s = LzmaStream::new_with_props(u64::MAX, props, dict.clamp(4096, 1 << 26), None)
        .map_err(|e| format!("bad LZMA properties: {e}"))?;
    let mut out = vec![0u8; need];
    let (mut pos, mut made) = (0usize, 0usize);
    while made < need {
        let r = s
            .process(data.get(pos..).unwrap_or_default(), &mut out[made..], Action::Run)
            .map_err(|e| format!("corrupt LZMA block: {e}"))?;
        pos += r.bytes_consumed;
        made += r.bytes_produced;
        if r.status == Status::StreamEnd || (r.bytes_consumed == 0 && r.bytes_produced == 0) {
            break;
        }
    }
    if made == 0 {
        return Err("LZMA block decodes to nothing".into());
    }
    out.truncate(made);
    Ok(out)
}

/// Decodes a raw LZMA stream (no header) into at most `max_out` bytes.
pub fn lzma_raw(
    data: &[u8],
    props: u8,
    dict: u32,
    size: Option<u64>,
    max_out: usize,
) -> Result<Vec<u8>, String> {
    let mut s = LzmaStream::new_with_props(size.unwrap_or(u64::MAX), props, dict.max(4096), None)
        .map_err(|e| format!("bad LZMA properties: {e}"))?;
    run(data, max_out, |i, o, a| {
        s.process(i, o, a)
            .map(|r| (r.bytes_consumed, r.bytes_produced, r.status == Status::StreamEnd))
    })
}

fn run(
    data: &[u8],
    max_out: usize,
    mut step: impl FnMut(&[u8], &mut [u8], Action) -> std::io::Result<(usize, usize, bool)>,
) -> Result<Vec<u8>, String> {
    let mut out = vec![0u8; max_out];
    let mut pos = 0;
    let mut made = 0;
    loop {
        let input = data.get(pos..).unwrap_or_default();
        let action = if input.is_empty() {
            Action::Finish
        } else {
            Action::Run
        };
        let room = out.get_mut(made..).unwrap_or_default();
        if room.is_empty() {
            // Full: the stream must end here (a decoder that wants to write more is over size).
            let mut probe = [0u8; 1];
            return match step(input, &mut probe, action) {
                Ok((_, 0, _)) | Err(_) => {
                    out.truncate(made);
                    Ok(out)
                }
                Ok(_) => Err(format!("block decodes to more than {max_out} bytes")),
            };
        }
        let (used, n, end) = step(input, room, action).map_err(|e| format!("corrupt block: {e}"))?;
        pos += used;
        made += n;
        if end || (used == 0 && n == 0) {
            out.truncate(made);
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Codec, decompress, xz_single_block};

    fn unhex(s: &str) -> Vec<u8> {
        probity_model::hex::decode(s).unwrap()
    }

    // `printf 'probity probity probity probity\n' | xz --check=crc32` (and --check=crc64).
    const CRC32: &str = "fd377a585a0000016922de360200210116000000742fe5a3e0001f00105d00381c8a21960f7c9ca53acafbe892000000cab0744b00012820493bb5469042990d010000000001595a";
    const CRC64: &str = "fd377a585a000004e6d6b4460200210116000000742fe5a3e0001f00105d00381c8a21960f7c9ca53acafbe89200000095127c236c4d34f600012c204dfed9221fb6f37d010000000004595a";
    const TEXT: &[u8] = b"probity probity probity probity\n";

    #[test]
    fn xz_blocks_decode_on_both_paths() {
        // CRC-32: the direct path; CRC-64: the general decoder.
        assert_eq!(xz_single_block(&unhex(CRC32), 4096).unwrap().unwrap(), TEXT);
        assert!(xz_single_block(&unhex(CRC64), 4096).is_none());
        for s in [CRC32, CRC64] {
            assert_eq!(decompress(Codec::Xz, &unhex(s), 4096).unwrap(), TEXT);
            // Bounded: a block that decodes to more than allowed is refused.
            assert!(decompress(Codec::Xz, &unhex(s), 10).is_err());
        }
    }

    #[test]
    fn a_wrong_xz_check_is_an_error() {
        let mut b = unhex(CRC32);
        // The CRC-32 of the data comes before the index (8 bytes here) and the footer (12).
        let at = b.len() - 4 - 8 - 12;
        b[at] ^= 1;
        assert_eq!(
            decompress(Codec::Xz, &b, 4096).unwrap_err(),
            "corrupt block: xz CRC-32 mismatch"
        );
    }
}
