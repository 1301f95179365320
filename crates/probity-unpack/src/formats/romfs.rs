//! romfs: a big-endian image with a checksum over its first 512 bytes and 16-byte aligned file
//! headers linked in lists (one per directory).

use probity_model::ArtifactKind;

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The romfs format.
#[derive(Debug)]
pub struct Romfs;

const MAGICS: &[Magic] = &[Magic::start(b"-rom1fs-")];

fn align16(n: usize) -> usize {
    n.div_ceil(16) * 16
}

/// The offset just past a NUL-terminated name padded to 16 bytes, and the name.
fn name_at(data: &[u8], at: usize) -> Option<(Vec<u8>, usize)> {
    let rest = data.get(at..)?;
    let len = rest.iter().take(4096).position(|&b| b == 0)?;
    Some((rest[..len].to_vec(), at + align16(len + 1)))
}

fn checksum_ok(data: &[u8], len: usize) -> bool {
    let n = len.min(512).min(data.len()) & !3;
    let sum = (0..n / 4).fold(0u32, |s, i| s.wrapping_add(bytes::be32(data, i * 4).unwrap_or(0)));
    sum == 0
}

impl Format for Romfs {
    fn name(&self) -> &'static str {
        "romfs"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let size = bytes::be32(data, 8)? as usize;
        let (name, _) = name_at(data, 16)?;
        let ok = checksum_ok(data, size);
        Some(Probe {
            length: Some(size as u64),
            confidence: if ok { 100 } else { 70 },
            description: format!(
                "romfs `{}`, {size} bytes, checksum {}",
                probity_model::text::escape(&name),
                if ok { "verified" } else { "mismatch" }
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let size = bytes::be32(data, 8).ok_or_else(|| FormatError::invalid("bad romfs header"))? as usize;
        if let Some(p) = self.probe(data) {
            out.describe(p.description);
        }
        if !checksum_ok(data, size) {
            out.note("header checksum mismatch");
        }
        let image = data.get(..size.min(data.len())).unwrap_or(data);
        let (_, first) = name_at(image, 16).ok_or_else(|| FormatError::invalid("bad volume name"))?;
        let mut seen = std::collections::HashSet::new();
        list(image, first, b"", 0, &mut seen, out)?;
        Ok(image.len() as u64)
    }
}

fn list(
    image: &[u8],
    mut at: usize,
    path: &[u8],
    depth: usize,
    seen: &mut std::collections::HashSet<usize>,
    out: &mut Extractor<'_>,
) -> Result<(), FormatError> {
    if depth > 128 {
        out.note("directories nested too deep; not walked further");
        return Ok(());
    }
    while at != 0 {
        out.check_time()?;
        if !seen.insert(at) {
            out.note("file headers form a loop; not walked further");
            return Ok(());
        }
        let (Some(next), Some(spec), Some(size)) = (
            bytes::be32(image, at),
            bytes::be32(image, at + 4),
            bytes::be32(image, at + 8),
        ) else {
            out.note(format!("file header at {at:#x} outside the image"));
            return Ok(());
        };
        let Some((name, data_at)) = name_at(image, at + 16) else {
            out.note(format!("file name at {at:#x} outside the image"));
            return Ok(());
        };
        let ty = next & 7;
        let exec = next & 8 != 0;
        at = (next & !15) as usize;
        if name == b"." || name == b".." {
            continue;
        }
        let mut p = path.to_vec();
        p.push(b'/');
        p.extend_from_slice(&name);
        let body = image.get(data_at..data_at.saturating_add(size as usize));
        let perm = if exec { 0o755 } else { 0o644 };
        let e = |kind, bits: u32| Entry {
            member: Some(p.clone()),
            kind: Some(kind),
            mode: Some(bits | perm),
            ..Entry::default()
        };
        match ty {
            1 => {
                out.entry(e(ArtifactKind::Directory, 0o040000));
                list(image, spec as usize, &p, depth + 1, seen, out)?;
            }
            2 => match body {
                Some(_) if !out.wants(&p) => out.entry(e(ArtifactKind::File, 0o100000)),
                Some(b) => out.region(e(ArtifactKind::File, 0o100000), data_at as u64, b.len() as u64),
                None => out.note(format!(
                    "`{}` extends past the image",
                    probity_model::text::escape(&p)
                )),
            },
            3 => out.entry(Entry {
                link_target: body.map(<[u8]>::to_vec),
                ..e(ArtifactKind::Symlink, 0o120000)
            }),
            4 | 5 => {
                let kind = if ty == 4 {
                    ArtifactKind::BlockDevice
                } else {
                    ArtifactKind::CharDevice
                };
                out.entry(Entry {
                    device: Some((spec >> 16, spec & 0xffff)),
                    ..e(kind, if ty == 4 { 0o060000 } else { 0o020000 })
                });
            }
            6 => out.entry(e(ArtifactKind::Socket, 0o140000)),
            7 => out.entry(e(ArtifactKind::Fifo, 0o010000)),
            _ => out.entry(Entry {
                kind: Some(ArtifactKind::Hardlink),
                link_target: Some(format!("#{spec:#x}").into_bytes()),
                ..e(ArtifactKind::Hardlink, 0o100000)
            }),
        }
    }
    Ok(())
}
