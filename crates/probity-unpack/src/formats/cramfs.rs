//! cramfs, in both byte orders: a super block with a CRC-32 over the image, 12-byte inodes with
//! packed fields, and files stored as zlib blocks of 4 KiB behind a table of block end offsets.

use probity_model::ArtifactKind;

use crate::extract::{Entry, Extractor};
use crate::format::bytes::Endian;
use crate::format::{Format, FormatError, Magic, Probe, bytes};
use crate::formats::codec::{Codec, decompress};
use crate::formats::paths::kind_of_mode;

/// The cramfs format.
#[derive(Debug)]
pub struct Cramfs;

const MAGICS: &[Magic] = &[
    Magic::start(b"\x45\x3d\xcd\x28"),
    Magic::start(b"\x28\xcd\x3d\x45"),
];
const PAGE: usize = 4096;
const FLAG_EXT_BLOCK_POINTERS: u32 = 0x800;

struct Inode {
    mode: u32,
    uid: u32,
    size: u32,
    gid: u32,
    name: Vec<u8>,
    offset: usize,
}

fn inode(data: &[u8], at: usize, e: Endian) -> Option<(Inode, usize)> {
    let w0 = e.u32(data, at)?;
    let w1 = e.u32(data, at + 4)?;
    let w2 = e.u32(data, at + 8)?;
    // Bit fields are allocated from the low bits on little-endian hosts and from the high bits
    // on big-endian ones.
    let (mode, uid, size, gid, namelen, offset) = match e {
        Endian::Little => (
            w0 & 0xffff,
            w0 >> 16,
            w1 & 0xff_ffff,
            w1 >> 24,
            w2 & 0x3f,
            w2 >> 6,
        ),
        Endian::Big => (
            w0 >> 16,
            w0 & 0xffff,
            w1 >> 8,
            w1 & 0xff,
            w2 >> 26,
            w2 & 0x03ff_ffff,
        ),
    };
    let name_len = namelen as usize * 4;
    let name = bytes::cstr(bytes::slice(data, at + 12, name_len)?).to_vec();
    Some((
        Inode {
            mode,
            uid,
            size,
            gid,
            name,
            offset: offset as usize * 4,
        },
        at + 12 + name_len,
    ))
}

struct Super {
    e: Endian,
    size: u32,
    flags: u32,
    files: u32,
    crc_ok: bool,
    name: Vec<u8>,
}

fn parse(data: &[u8]) -> Option<Super> {
    let e = match data.get(..4)? {
        b"\x45\x3d\xcd\x28" => Endian::Little,
        b"\x28\xcd\x3d\x45" => Endian::Big,
        _ => return None,
    };
    if bytes::slice(data, 16, 16)? != b"Compressed ROMFS" {
        return None;
    }
    let size = e.u32(data, 4)?;
    let flags = e.u32(data, 8)?;
    let crc = e.u32(data, 32)?;
    let crc_ok = data.get(..size as usize).is_some_and(|img| {
        let mut h = crc32fast::Hasher::new();
        h.update(&img[..32]);
        h.update(&[0; 4]);
        h.update(&img[36..]);
        h.finalize() == crc
    });
    Some(Super {
        e,
        size,
        flags,
        files: e.u32(data, 44)?,
        crc_ok,
        name: bytes::cstr(bytes::slice(data, 48, 16)?).to_vec(),
    })
}

impl Format for Cramfs {
    fn name(&self) -> &'static str {
        "cramfs"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let s = parse(data)?;
        Some(Probe {
            length: Some(u64::from(s.size)),
            confidence: if s.crc_ok { 100 } else { 80 },
            description: format!(
                "cramfs, {} endian, `{}`, {} files, CRC-32 {}",
                if s.e == Endian::Little { "little" } else { "big" },
                probity_model::text::escape(&s.name),
                s.files,
                if s.crc_ok { "verified" } else { "mismatch" }
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let s = parse(data).ok_or_else(|| FormatError::invalid("bad cramfs super block"))?;
        if let Some(p) = self.probe(data) {
            out.describe(p.description);
        }
        if !s.crc_ok {
            out.note("CRC-32 mismatch (or image truncated)");
        }
        if s.flags & FLAG_EXT_BLOCK_POINTERS != 0 {
            return Err(FormatError::Unsupported(
                "cramfs with extended block pointers".into(),
            ));
        }
        let image = data.get(..(s.size as usize).min(data.len())).unwrap_or(data);
        let (root, _) = inode(image, 64, s.e).ok_or_else(|| FormatError::invalid("bad root inode"))?;
        let mut seen = std::collections::HashSet::new();
        walk(image, s.e, &root, b"", 0, &mut seen, out)?;
        Ok(image.len() as u64)
    }
}

fn walk(
    image: &[u8],
    e: Endian,
    dir: &Inode,
    path: &[u8],
    depth: usize,
    seen: &mut std::collections::HashSet<usize>,
    out: &mut Extractor<'_>,
) -> Result<(), FormatError> {
    if depth > 128 || !seen.insert(dir.offset) {
        out.note("directory loop or nesting too deep; not walked further");
        return Ok(());
    }
    let mut at = dir.offset;
    let end = dir.offset.saturating_add(dir.size as usize).min(image.len());
    while at < end {
        out.check_time()?;
        let Some((ino, next)) = inode(image, at, e) else {
            out.note("directory entry outside the image");
            break;
        };
        at = next;
        let mut p = path.to_vec();
        p.push(b'/');
        p.extend_from_slice(&ino.name);
        let kind = kind_of_mode(ino.mode);
        let entry = Entry {
            member: Some(p.clone()),
            kind: Some(kind),
            ..Entry::default()
        }
        .with_owner(ino.mode, ino.uid, ino.gid);
        match kind {
            ArtifactKind::Directory => {
                out.entry(entry);
                walk(image, e, &ino, &p, depth + 1, seen, out)?;
            }
            ArtifactKind::File | ArtifactKind::Symlink => {
                if kind == ArtifactKind::File && !out.wants(&p) {
                    out.entry(entry);
                    continue;
                }
                match contents(image, e, &ino) {
                    Ok(bytes) if kind == ArtifactKind::Symlink => out.entry(Entry {
                        link_target: Some(bytes),
                        ..entry
                    }),
                    Ok(bytes) => out.file(entry, bytes)?,
                    Err(err) => {
                        out.note(format!("`{}`: {err}", probity_model::text::escape(&p)));
                        out.entry(entry);
                    }
                }
            }
            ArtifactKind::CharDevice | ArtifactKind::BlockDevice => {
                // The size field holds the device number.
                out.entry(Entry {
                    device: Some((ino.size >> 8, ino.size & 0xff)),
                    ..entry
                });
            }
            _ => out.entry(entry),
        }
    }
    Ok(())
}

fn contents(image: &[u8], e: Endian, ino: &Inode) -> Result<Vec<u8>, String> {
    let size = ino.size as usize;
    if size == 0 {
        return Ok(Vec::new());
    }
    let blocks = size.div_ceil(PAGE);
    let mut out = Vec::with_capacity(size);
    let mut start = ino.offset + blocks * 4;
    for i in 0..blocks {
        let end = e
            .u32(image, ino.offset + i * 4)
            .ok_or("block table outside the image")? as usize;
        let raw = image.get(start..end).ok_or("block outside the image")?;
        let want = (size - out.len()).min(PAGE);
        if raw.is_empty() {
            out.resize(out.len() + want, 0);
        } else {
            let block = decompress(Codec::Zlib, raw, PAGE)?;
            out.extend_from_slice(&block[..block.len().min(want)]);
        }
        start = end;
    }
    Ok(out)
}
