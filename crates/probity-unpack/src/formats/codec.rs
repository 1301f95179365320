//! Block decompressors shared by the file-system formats (squashfs, cramfs, JFFS2, UBIFS): each
//! decodes one block into at most `max_out` bytes, so a forged block can not expand past the
//! size its file system allows.

use std::io::Read;

use lzma_rust2::{Action, LzmaStream, Status, XzStream};

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
            lzma_raw(data.get(13..).unwrap_or_default(), props, dict, size, max_out)
        }
        Codec::LzmaRaw { props, dict } => lzma_raw(data, props, dict, None, max_out),
        Codec::Xz => {
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
