//! U-Boot legacy images (`mkimage`): a 64-byte big-endian header with CRC-32s of itself and of the
//! data, the image type, and the compression of the payload. A compressed payload is decoded
//! here (so the kernel is one hop away); multi-file images yield each file.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The uImage format.
#[derive(Debug)]
pub struct UImage;

const MAGICS: &[Magic] = &[Magic::start(b"\x27\x05\x19\x56")];
const HEADER_LEN: usize = 64;

struct Header {
    hcrc_ok: bool,
    size: u32,
    dcrc: u32,
    os: u8,
    arch: u8,
    ty: u8,
    comp: u8,
    name: Vec<u8>,
}

fn parse(data: &[u8]) -> Option<Header> {
    let head = bytes::slice(data, 0, HEADER_LEN)?;
    let stored = bytes::be32(head, 4)?;
    let mut zeroed = head.to_vec();
    zeroed[4..8].copy_from_slice(&[0; 4]);
    let h = Header {
        hcrc_ok: crc32fast::hash(&zeroed) == stored,
        size: bytes::be32(head, 12)?,
        dcrc: bytes::be32(head, 24)?,
        os: head[28],
        arch: head[29],
        ty: head[30],
        comp: head[31],
        name: bytes::cstr(&head[32..64]).to_vec(),
    };
    // Without a matching header CRC, accept only plausible field values.
    if !h.hcrc_ok && (h.ty > 25 || h.comp > 6 || h.arch > 30 || h.os > 30) {
        return None;
    }
    Some(h)
}

fn type_name(t: u8) -> &'static str {
    match t {
        1 => "standalone program",
        2 => "kernel",
        3 => "RAM disk",
        4 => "multi-file",
        5 => "firmware",
        6 => "script",
        7 => "file system",
        8 => "flat device tree",
        _ => "image",
    }
}

fn comp_name(c: u8) -> &'static str {
    match c {
        0 => "uncompressed",
        1 => "gzip",
        2 => "bzip2",
        3 => "lzma",
        4 => "lzo",
        5 => "lz4",
        6 => "zstd",
        _ => "unknown compression",
    }
}

impl Format for UImage {
    fn name(&self) -> &'static str {
        "uimage"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let h = parse(data)?;
        Some(Probe {
            length: Some(HEADER_LEN as u64 + u64::from(h.size)),
            confidence: if h.hcrc_ok { 100 } else { 40 },
            description: format!(
                "U-Boot image `{}`, {}, {}{}",
                probity_model::text::escape(&h.name),
                type_name(h.ty),
                comp_name(h.comp),
                if h.hcrc_ok { "" } else { ", header CRC mismatch" }
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let h = parse(data).ok_or_else(|| FormatError::invalid("bad uImage header"))?;
        if let Some(p) = self.probe(data) {
            out.describe(p.description);
        }
        if !h.hcrc_ok {
            out.note("header CRC-32 does not match");
        }
        let size = h.size as usize;
        let payload = data.get(HEADER_LEN..HEADER_LEN + size);
        let Some(payload) = payload else {
            let have = data.len().saturating_sub(HEADER_LEN);
            out.note(format!("payload truncated: {have} of {size} bytes present"));
            if have > 0 {
                out.region(Entry::payload(), HEADER_LEN as u64, have as u64);
            }
            return Ok(data.len() as u64);
        };
        if crc32fast::hash(payload) != h.dcrc {
            out.note(format!(
                "data CRC-32 mismatch: stored {:#010x}, computed {:#010x}",
                h.dcrc,
                crc32fast::hash(payload)
            ));
        }
        if h.ty == 4 {
            multi(payload, out);
        } else {
            emit_payload(payload, HEADER_LEN as u64, h.comp, Entry::payload(), out)?;
        }
        Ok((HEADER_LEN + size) as u64)
    }
}

/// A payload: LZMA is decoded here (its raw form has only a weak signature); anything else is
/// kept as a region, whose signature scan then finds the gzip, bzip2, LZO or other stream in it.
fn emit_payload(
    payload: &[u8],
    at: u64,
    comp: u8,
    entry: Entry,
    out: &mut Extractor<'_>,
) -> Result<(), FormatError> {
    if comp == 3
        && let (Some(&props), Some(dict), Some(size)) =
            (payload.first(), bytes::le32(payload, 1), bytes::le64(payload, 5))
    {
        let size = (size != u64::MAX && size <= 1 << 32).then_some(size);
        match crate::formats::lzma::decode_raw(
            payload.get(13..).unwrap_or_default(),
            props,
            dict,
            size,
            out,
            entry.clone(),
        ) {
            Ok(_) => return Ok(()),
            Err(e) => out.note(format!("payload did not decode as LZMA: {e}; kept as is")),
        }
    }
    out.region(entry, at, payload.len() as u64);
    Ok(())
}

/// Multi-file images: a zero-terminated list of sizes, then the files, each padded to 4 bytes.
fn multi(payload: &[u8], out: &mut Extractor<'_>) {
    let mut sizes = Vec::new();
    let mut p = 0usize;
    while let Some(s) = bytes::be32(payload, p) {
        p += 4;
        if s == 0 {
            break;
        }
        sizes.push(s as usize);
        if sizes.len() > 256 {
            out.note("more than 256 files listed; the list is not trusted");
            return;
        }
    }
    for (i, s) in sizes.into_iter().enumerate() {
        if p.checked_add(s).is_none_or(|end| end > payload.len()) {
            out.note(format!("file {i} extends past the payload"));
            return;
        }
        out.region(
            Entry::file(format!("/{i}").into_bytes()),
            (HEADER_LEN + p) as u64,
            s as u64,
        );
        p += s.div_ceil(4) * 4;
    }
}
