//! YAFFS2 images as `mkyaffs2image` and NAND dumps produce them: chunks of data followed by a
//! spare area holding packed tags (sequence number, object id, chunk id, byte count). The chunk
//! and spare sizes and the byte order are found by trying the common NAND geometries on the first
//! object header. Object headers give names, parents, modes and sizes; data chunks, the newest
//! sequence winning, give file contents.

use std::collections::{BTreeMap, HashMap};

use probity_model::ArtifactKind;

use crate::extract::{Entry, Extractor};
use crate::format::bytes::{Endian, cstr};
use crate::format::{Format, FormatError, Magic, Probe};

/// The YAFFS2 format.
#[derive(Debug)]
pub struct Yaffs2;

/// A first object header: a file, symlink or directory whose parent is the root (object 1),
/// with the unused checksum field set to 0xffff.
const MAGICS: &[Magic] = &[
    Magic::start(b"\x01\x00\x00\x00\x01\x00\x00\x00\xff\xff"),
    Magic::start(b"\x02\x00\x00\x00\x01\x00\x00\x00\xff\xff"),
    Magic::start(b"\x03\x00\x00\x00\x01\x00\x00\x00\xff\xff"),
    Magic::start(b"\x00\x00\x00\x01\x00\x00\x00\x01\xff\xff"),
    Magic::start(b"\x00\x00\x00\x02\x00\x00\x00\x01\xff\xff"),
    Magic::start(b"\x00\x00\x00\x03\x00\x00\x00\x01\xff\xff"),
];

const GEOMETRIES: &[(usize, usize)] = &[
    (2048, 64),
    (512, 16),
    (4096, 128),
    (8192, 256),
    (1024, 32),
    (16384, 512),
];

#[derive(Debug, Clone, Copy)]
struct Geometry {
    chunk: usize,
    spare: usize,
    tags_at: usize,
    e: Endian,
}

struct Tags {
    seq: u32,
    obj: u32,
    chunk: u32,
    bytes: u32,
}

fn tags(data: &[u8], g: Geometry, index: usize) -> Option<Tags> {
    let at = index.checked_mul(g.chunk + g.spare)? + g.chunk + g.tags_at;
    let mut t = Tags {
        seq: g.e.u32(data, at)?,
        obj: g.e.u32(data, at + 4)?,
        chunk: g.e.u32(data, at + 8)?,
        bytes: g.e.u32(data, at + 12)?,
    };
    if t.chunk & 0x8000_0000 != 0 {
        // Extra header information packed into the tags: the chunk is an object header.
        t.chunk = 0;
        t.obj &= 0x0fff_ffff;
    }
    Some(t)
}

fn geometry(data: &[u8]) -> Option<Geometry> {
    let e = if data.first()? != &0 {
        Endian::Little
    } else {
        Endian::Big
    };
    // Score each geometry by how many of the first chunks carry plausible tags; the first chunk
    // must be an object header.
    let plausible = |t: &Tags, chunk: usize| {
        (0x1000..0xefff_ff00).contains(&t.seq)
            && t.obj > 0
            && t.obj < 1 << 18
            && t.chunk < 1 << 20
            && (t.chunk == 0 || t.bytes as usize <= chunk)
    };
    let mut best: Option<(usize, Geometry)> = None;
    for &(chunk, spare) in GEOMETRIES {
        for tags_at in [0, 2] {
            let g = Geometry {
                chunk,
                spare,
                tags_at,
                e,
            };
            let Some(first) = tags(data, g, 0) else { continue };
            if first.chunk != 0 || !plausible(&first, chunk) {
                continue;
            }
            let score = (0..64)
                .filter_map(|i| tags(data, g, i))
                .filter(|t| (t.seq == 0xffff_ffff && t.obj == 0xffff_ffff) || plausible(t, chunk))
                .count();
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, g));
            }
        }
    }
    best.map(|(_, g)| g)
}

#[derive(Debug, Clone)]
struct Object {
    seq: u32,
    index: usize,
    ty: u32,
    parent: u32,
    name: Vec<u8>,
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    equiv: u32,
    alias: Vec<u8>,
    rdev: u32,
}

impl Format for Yaffs2 {
    fn name(&self) -> &'static str {
        "yaffs2"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let g = geometry(data)?;
        // The first object header must be a real one: a printable name, a mode whose type bits
        // agree with the object type, and a size the image could hold.
        let e = g.e;
        let ty = e.u32(data, 0)?;
        let name = cstr(data.get(10..266)?);
        let mode = e.u32(data, 268)?;
        let size = u64::from(e.u32(data, 292)?);
        let type_bits = match ty {
            1 => 0o100000,
            2 => 0o120000,
            3 => 0o040000,
            _ => return None,
        };
        if name.is_empty()
            || name.len() >= 256
            || !name.iter().all(|&b| b >= 0x20 && b != 0x7f)
            || mode & 0o170000 != type_bits
            || (ty == 1 && size > (data.len() as u64) * 2)
        {
            return None;
        }
        Some(Probe {
            length: None,
            confidence: 80,
            description: format!(
                "YAFFS2, {}-byte chunks with {}-byte spare, {} endian",
                g.chunk,
                g.spare,
                if g.e == Endian::Little { "little" } else { "big" }
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let g = geometry(data).ok_or_else(|| FormatError::invalid("no YAFFS2 geometry fits"))?;
        if let Some(p) = self.probe(data) {
            out.describe(p.description);
        }
        let e = g.e;
        let stride = g.chunk + g.spare;
        let mut objects: HashMap<u32, Object> = HashMap::new();
        let mut chunks: HashMap<u32, BTreeMap<u32, (u32, usize, usize)>> = HashMap::new();
        let mut index = 0usize;
        let mut end = 0usize;
        while let Some(t) = tags(data, g, index) {
            out.check_time()?;
            let base = index * stride;
            index += 1;
            if t.seq == 0xffff_ffff || t.obj == 0xffff_ffff {
                continue; // erased
            }
            // The last chunk's spare area may be cut short after its tags.
            end = (base + stride).min(data.len());
            if t.chunk == 0 {
                let h = &data[base..base + g.chunk];
                let o = Object {
                    seq: t.seq,
                    index,
                    ty: e.u32(h, 0).unwrap_or(0),
                    parent: e.u32(h, 4).unwrap_or(0),
                    name: cstr(h.get(10..266).unwrap_or_default()).to_vec(),
                    mode: e.u32(h, 268).unwrap_or(0),
                    uid: e.u32(h, 272).unwrap_or(0),
                    gid: e.u32(h, 276).unwrap_or(0),
                    size: {
                        let lo = u64::from(e.u32(h, 292).unwrap_or(0));
                        let hi = e.u32(h, 500).unwrap_or(0xffff_ffff);
                        if hi == 0xffff_ffff {
                            lo
                        } else {
                            lo | (u64::from(hi) << 32)
                        }
                    },
                    equiv: e.u32(h, 296).unwrap_or(0),
                    alias: cstr(h.get(300..460).unwrap_or_default()).to_vec(),
                    rdev: e.u32(h, 460).unwrap_or(0),
                };
                if objects
                    .get(&t.obj)
                    .is_none_or(|old| (old.seq, old.index) < (o.seq, o.index))
                {
                    objects.insert(t.obj, o);
                }
            } else {
                let slot = chunks.entry(t.obj).or_default();
                if slot.get(&t.chunk).is_none_or(|old| old.0 <= t.seq) {
                    slot.insert(t.chunk, (t.seq, base, (t.bytes as usize).min(g.chunk)));
                }
            }
        }
        if objects.is_empty() {
            return Err(FormatError::invalid("no object headers"));
        }
        // Paths from parents; objects under "unlinked" (3) or "deleted" (4) are dropped.
        let mut kids: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for (id, o) in &objects {
            if !matches!(o.parent, 3 | 4) && *id != o.parent {
                kids.entry(o.parent).or_default().push(*id);
            }
        }
        let mut paths: HashMap<u32, Vec<u8>> = HashMap::new();
        let mut stack = vec![(1u32, Vec::new(), 0usize)];
        while let Some((dir, path, depth)) = stack.pop() {
            if depth > 128 {
                out.note("directories nested too deep; not walked further");
                continue;
            }
            let mut list = kids.get(&dir).cloned().unwrap_or_default();
            list.sort_by(|a, b| objects[a].name.cmp(&objects[b].name));
            for id in list.into_iter().rev() {
                out.check_time()?;
                let o = objects[&id].clone();
                let mut p = path.clone();
                p.push(b'/');
                p.extend_from_slice(&o.name);
                if paths.insert(id, p.clone()).is_some() {
                    continue;
                }
                let entry = Entry {
                    member: Some(p.clone()),
                    ..Entry::default()
                }
                .with_owner(o.mode, o.uid, o.gid);
                match o.ty {
                    3 => {
                        out.entry(Entry {
                            kind: Some(ArtifactKind::Directory),
                            ..entry
                        });
                        stack.push((id, p, depth + 1));
                    }
                    1 if !out.wants(&p) => out.entry(Entry {
                        kind: Some(ArtifactKind::File),
                        ..entry
                    }),
                    1 => {
                        let mut sink = out.sink(Entry {
                            kind: Some(ArtifactKind::File),
                            ..entry
                        });
                        let mut written = 0u64;
                        let mut failed = None;
                        for (&n, &(_, at, len)) in chunks.get(&id).into_iter().flatten() {
                            let pos = u64::from(n - 1) * g.chunk as u64;
                            if pos >= o.size {
                                continue;
                            }
                            // Holes between chunks read as zeros.
                            if pos > written {
                                let gap = vec![0u8; (pos - written).min(64 << 20) as usize];
                                if let Err(e) = sink.write(out, &gap, data.len() as u64) {
                                    failed = Some(e);
                                    break;
                                }
                                written += gap.len() as u64;
                            }
                            let take = (len as u64).min(o.size - written) as usize;
                            if let Err(e) = sink.write(out, &data[at..at + take], data.len() as u64) {
                                failed = Some(e);
                                break;
                            }
                            written += take as u64;
                        }
                        if written < o.size && failed.is_none() {
                            out.note(format!(
                                "`{}`: {written} of {} bytes present",
                                probity_model::text::escape(&p),
                                o.size
                            ));
                        }
                        sink.finish(out, failed.is_some() || written < o.size);
                        if let Some(e) = failed {
                            out.settle(Err(e))?;
                        }
                    }
                    2 => out.entry(Entry {
                        kind: Some(ArtifactKind::Symlink),
                        link_target: Some(o.alias.clone()),
                        ..entry
                    }),
                    4 => out.entry(Entry {
                        kind: Some(ArtifactKind::Hardlink),
                        link_target: Some(format!("#object{}", o.equiv).into_bytes()),
                        ..entry
                    }),
                    _ => {
                        let kind = crate::formats::paths::kind_of_mode(o.mode);
                        let device = matches!(kind, ArtifactKind::CharDevice | ArtifactKind::BlockDevice)
                            .then_some((
                                (o.rdev >> 8) & 0xfff,
                                (o.rdev & 0xff) | ((o.rdev >> 12) & 0xfff00),
                            ));
                        out.entry(Entry {
                            kind: Some(kind),
                            device,
                            ..entry
                        });
                    }
                }
            }
        }
        Ok(end as u64)
    }
}
