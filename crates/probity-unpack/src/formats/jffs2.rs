//! JFFS2, in both byte orders: a log of nodes (directory entries and inode data, each with header
//! and node CRCs) written across erase blocks. The newest version of each directory entry and the
//! data nodes of each inode, applied in version order, give the file system. zlib, rtime, LZO,
//! LZMA (OpenWrt's parameters), "zero" and uncompressed nodes are decoded.

use std::collections::{BTreeMap, HashMap};

use probity_model::ArtifactKind;

use crate::extract::{Entry, Extractor};
use crate::format::bytes::Endian;
use crate::format::{Format, FormatError, Magic, Probe};
use crate::formats::codec::{Codec, decompress};
use crate::formats::paths::kind_of_mode;

/// The JFFS2 format.
#[derive(Debug)]
pub struct Jffs2;

/// Any node kind at the start: a clean marker, a directory entry or an inode.
const MAGICS: &[Magic] = &[
    Magic::start(b"\x85\x19\x03\x20"),
    Magic::start(b"\x85\x19\x01\xe0"),
    Magic::start(b"\x85\x19\x02\xe0"),
    Magic::start(b"\x19\x85\x20\x03"),
    Magic::start(b"\x19\x85\xe0\x01"),
    Magic::start(b"\x19\x85\xe0\x02"),
];

const DIRENT: u16 = 0xe001;
const INODE: u16 = 0xe002;

/// Largest file rebuilt in memory.
const MAX_FILE: u64 = 256 << 20;

/// JFFS2's CRC-32: the reflected polynomial with a zero seed and no final inversion.
fn crc(data: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new_with_initial(0xffff_ffff);
    h.update(data);
    !h.finalize()
}

fn endian(data: &[u8]) -> Option<Endian> {
    match data.get(..2)? {
        b"\x85\x19" => Some(Endian::Little),
        b"\x19\x85" => Some(Endian::Big),
        _ => None,
    }
}

/// A node header at `at` whose header CRC holds: (type, total length).
fn node(data: &[u8], at: usize, e: Endian) -> Option<(u16, usize)> {
    if e.u16(data, at)? != 0x1985 {
        return None;
    }
    let ty = e.u16(data, at + 2)?;
    let len = e.u32(data, at + 4)? as usize;
    let stored = e.u32(data, at + 8)?;
    (crc(data.get(at..at + 8)?) == stored && len >= 12).then_some((ty, len))
}

#[derive(Debug, Clone)]
struct Dirent {
    version: u32,
    ino: u32,
    dtype: u8,
}

#[derive(Debug, Clone)]
struct DataNode {
    version: u32,
    mode: u32,
    uid: u32,
    gid: u32,
    isize: u32,
    offset: u32,
    dsize: u32,
    compr: u8,
    data: (usize, usize),
}

impl Format for Jffs2 {
    fn name(&self) -> &'static str {
        "jffs2"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let e = endian(data)?;
        node(data, 0, e)?;
        Some(Probe {
            length: None,
            confidence: 95,
            description: format!(
                "JFFS2, {} endian",
                if e == Endian::Little { "little" } else { "big" }
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let e = endian(data).ok_or_else(|| FormatError::invalid("not JFFS2"))?;
        if let Some(p) = self.probe(data) {
            out.describe(p.description);
        }
        let mut dirents: HashMap<(u32, Vec<u8>), Dirent> = HashMap::new();
        let mut inodes: HashMap<u32, Vec<DataNode>> = HashMap::new();
        let mut at = 0usize;
        let mut end = 0usize;
        let mut bad = 0usize;
        let magic = if e == Endian::Little { 0x85u8 } else { 0x19 };
        while at + 12 <= data.len() {
            out.check_time()?;
            let Some((ty, len)) = node(data, at, e) else {
                // Skip erased flash and damaged nodes quickly: jump to the next possible magic.
                match memchr::memchr(magic, data.get(at + 1..).unwrap_or_default()) {
                    Some(p) => at = (at + 1 + p).next_multiple_of(4).max(at + 4),
                    None => break,
                }
                // Stop at the first run of other data that is clearly not part of the log.
                continue;
            };
            let Some(body) = data.get(at..at + len) else { break };
            match ty {
                DIRENT if body.len() >= 40 => {
                    let node_crc = e.u32(body, 32).unwrap_or(0);
                    let nsize = usize::from(body[28]);
                    if crc(&body[..32]) != node_crc {
                        bad += 1;
                    } else if let Some(name) = body.get(40..40 + nsize) {
                        let pino = e.u32(body, 12).unwrap_or(0);
                        let d = Dirent {
                            version: e.u32(body, 16).unwrap_or(0),
                            ino: e.u32(body, 20).unwrap_or(0),
                            dtype: body[29],
                        };
                        let key = (pino, name.to_vec());
                        if dirents.get(&key).is_none_or(|old| old.version < d.version) {
                            dirents.insert(key, d);
                        }
                    }
                }
                INODE if body.len() >= 68 => {
                    let node_crc = e.u32(body, 64).unwrap_or(0);
                    if crc(&body[..60]) != node_crc {
                        bad += 1;
                    } else {
                        let csize = e.u32(body, 48).unwrap_or(0) as usize;
                        let n = DataNode {
                            version: e.u32(body, 16).unwrap_or(0),
                            mode: e.u32(body, 20).unwrap_or(0),
                            uid: u32::from(e.u16(body, 24).unwrap_or(0)),
                            gid: u32::from(e.u16(body, 26).unwrap_or(0)),
                            isize: e.u32(body, 28).unwrap_or(0),
                            offset: e.u32(body, 44).unwrap_or(0),
                            dsize: e.u32(body, 52).unwrap_or(0),
                            compr: body[56],
                            data: (at + 68, (at + 68 + csize).min(at + len)),
                        };
                        inodes.entry(e.u32(body, 12).unwrap_or(0)).or_default().push(n);
                    }
                }
                _ => {}
            }
            at = (at + len).next_multiple_of(4);
            end = at;
        }
        if bad > 0 {
            out.note(format!("{bad} nodes with a bad node CRC were skipped"));
        }
        if dirents.is_empty() && inodes.is_empty() {
            return Err(FormatError::invalid("no valid JFFS2 nodes"));
        }
        // Paths: walk from the root (inode 1) through the newest directory entries.
        let mut children: BTreeMap<u32, Vec<(Vec<u8>, Dirent)>> = BTreeMap::new();
        for ((pino, name), d) in dirents {
            if d.ino != 0 {
                children.entry(pino).or_default().push((name, d));
            }
        }
        for list in children.values_mut() {
            list.sort_by(|a, b| a.0.cmp(&b.0));
        }
        let mut stack: Vec<(u32, Vec<u8>, usize)> = vec![(1, Vec::new(), 0)];
        let mut visited = std::collections::HashSet::new();
        while let Some((dir, path, depth)) = stack.pop() {
            if !visited.insert(dir) || depth > 128 {
                out.note("directory loop or nesting too deep in the entries; not walked further");
                continue;
            }
            for (name, d) in children.get(&dir).cloned().unwrap_or_default().into_iter().rev() {
                out.check_time()?;
                let mut p = path.clone();
                p.push(b'/');
                p.extend_from_slice(&name);
                let mut nodes = inodes.get(&d.ino).cloned().unwrap_or_default();
                nodes.sort_by_key(|n| n.version);
                let meta = nodes.last().cloned();
                let mode = meta.as_ref().map(|m| m.mode).unwrap_or(match d.dtype {
                    4 => 0o040755,
                    10 => 0o120777,
                    _ => 0o100644,
                });
                let kind = kind_of_mode(mode);
                let mut entry = Entry {
                    member: Some(p.clone()),
                    kind: Some(kind),
                    mode: Some(mode),
                    ..Entry::default()
                };
                if let Some(m) = &meta {
                    entry.uid = Some(m.uid);
                    entry.gid = Some(m.gid);
                }
                match kind {
                    ArtifactKind::Directory => {
                        out.entry(entry);
                        stack.push((d.ino, p, depth + 1));
                    }
                    ArtifactKind::File if !out.wants(&p) => out.entry(entry),
                    ArtifactKind::File
                    | ArtifactKind::Symlink
                    | ArtifactKind::CharDevice
                    | ArtifactKind::BlockDevice => match rebuild(data, &nodes) {
                        Ok(bytes) => match kind {
                            ArtifactKind::File => out.file(entry, bytes)?,
                            ArtifactKind::Symlink => out.entry(Entry {
                                link_target: Some(bytes),
                                ..entry
                            }),
                            _ => {
                                let dev = match bytes.len() {
                                    2 => u32::from(e.u16(&bytes, 0).unwrap_or(0)),
                                    _ => e.u32(&bytes, 0).unwrap_or(0),
                                };
                                out.entry(Entry {
                                    device: Some((
                                        (dev >> 8) & 0xfff,
                                        (dev & 0xff) | ((dev >> 12) & 0xfff00),
                                    )),
                                    ..entry
                                });
                            }
                        },
                        Err(err) => {
                            out.note(format!("`{}`: {err}", probity_model::text::escape(&p)));
                            out.entry(entry);
                        }
                    },
                    _ => out.entry(entry),
                }
            }
        }
        Ok(end.clamp(1, data.len()) as u64)
    }
}

/// Applies an inode's data nodes in version order.
fn rebuild(data: &[u8], nodes: &[DataNode]) -> Result<Vec<u8>, String> {
    let size = u64::from(nodes.last().map(|n| n.isize).unwrap_or(0));
    if size > MAX_FILE {
        return Err(format!(
            "file of {size} bytes is larger than JFFS2 files are rebuilt ({MAX_FILE})"
        ));
    }
    let mut buf = vec![0u8; size as usize];
    for n in nodes {
        if n.dsize == 0 {
            continue;
        }
        let raw = data
            .get(n.data.0..n.data.1)
            .ok_or("node data outside the image")?;
        let dsize = n.dsize as usize;
        if dsize > 1 << 20 {
            return Err("data node larger than a JFFS2 page".into());
        }
        let piece = match n.compr {
            0 => raw.to_vec(),
            1 => vec![0; dsize],
            2 => rtime(raw, dsize)?,
            6 => decompress(Codec::Zlib, raw, dsize)?,
            7 => decompress(Codec::Lzo, raw, dsize)?,
            8 => decompress(
                Codec::LzmaRaw {
                    props: 0,
                    dict: 0x2000,
                },
                raw,
                dsize,
            )?,
            other => return Err(format!("compression type {other} is not supported")),
        };
        let start = n.offset as usize;
        let end = (start + piece.len()).min(buf.len());
        if start < end {
            buf[start..end].copy_from_slice(&piece[..end - start]);
        }
    }
    Ok(buf)
}

/// The "rtime" compressor: (byte, repeat count) pairs, repeats copied from the byte's previous
/// position.
fn rtime(input: &[u8], out_len: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(out_len);
    let mut positions = [0usize; 256];
    let mut pos = 0;
    while out.len() < out_len {
        let (Some(&value), Some(&repeat)) = (input.get(pos), input.get(pos + 1)) else {
            return Err("rtime data ends early".into());
        };
        pos += 2;
        out.push(value);
        let back = positions[usize::from(value)];
        positions[usize::from(value)] = out.len();
        for from in back..back + usize::from(repeat) {
            if out.len() >= out_len {
                break;
            }
            let b = *out.get(from).ok_or("rtime back-reference out of range")?;
            out.push(b);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rtime_round() {
        // "aaaa": 'a' then 3 repeats copying from position 0 onwards.
        assert_eq!(super::rtime(&[b'a', 3], 4).unwrap(), b"aaaa");
        // The repeat copies from just after the previous occurrence of the byte.
        assert_eq!(super::rtime(&[b'a', 0, b'b', 0, b'a', 1], 4).unwrap(), b"abab");
        assert!(super::rtime(b"a", 4).is_err());
    }

    #[test]
    fn crc_matches_the_kernel_variant() {
        // Header of a clean marker from a real image: magic, type, length; stored CRC e41eb0b1.
        assert_eq!(super::crc(&[0x85, 0x19, 0x03, 0x20, 0x0c, 0, 0, 0]), 0xe41e_b0b1);
    }
}
