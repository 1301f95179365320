//! UBIFS images (a UBIFS volume as UBI exposes it): the super block gives the logical erase block
//! size, the newest master node the root of the index, and the index (a B+ tree of CRC-checked
//! nodes) the inode, directory-entry and data nodes that make up the file system. Data blocks of
//! 4 KiB are stored raw, LZO, deflate or zstd compressed.

use std::collections::{BTreeMap, HashMap, HashSet};

use probity_model::ArtifactKind;

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};
use crate::formats::codec::{Codec, decompress};
use crate::formats::paths::kind_of_mode;
use crate::formats::ubi::crc;

/// The UBIFS format.
#[derive(Debug)]
pub struct Ubifs;

/// A node header with the super-block type.
const MAGICS: &[Magic] = &[Magic::start(b"\x31\x18\x10\x06")];

const INO: u8 = 0;
const DATA: u8 = 1;
const DENT: u8 = 2;
const SB: u8 = 6;
const MST: u8 = 7;
const IDX: u8 = 9;
const BLOCK: usize = 4096;
const ROOT_INUM: u64 = 1;

/// A node at `at` whose CRC holds: (type, length).
fn node(data: &[u8], at: usize) -> Option<(u8, usize)> {
    if bytes::le32(data, at)? != 0x0610_1831 {
        return None;
    }
    let len = bytes::le32(data, at + 16)? as usize;
    let body = data.get(at + 8..at.checked_add(len)?)?;
    (len >= 24 && crc(body) == bytes::le32(data, at + 4)?).then(|| (data[at + 20], len))
}

struct Fs<'d> {
    data: &'d [u8],
    leb: usize,
    inodes: HashMap<u64, usize>,
    dents: BTreeMap<u64, Vec<(Vec<u8>, u64)>>,
    blocks: HashMap<u64, BTreeMap<u32, usize>>,
}

impl Fs<'_> {
    fn at(&self, lnum: u32, offs: u32) -> usize {
        lnum as usize * self.leb + offs as usize
    }

    /// Walks the index from `(lnum, offs)`, collecting leaf nodes.
    fn walk(
        &mut self,
        lnum: u32,
        offs: u32,
        depth: usize,
        seen: &mut HashSet<usize>,
        out: &mut Extractor<'_>,
    ) -> Result<(), FormatError> {
        out.check_time()?;
        let at = self.at(lnum, offs);
        if depth > 64 || !seen.insert(at) {
            return Ok(());
        }
        let Some((ty, _)) = node(self.data, at) else {
            out.note(format!(
                "index points to a missing or damaged node at LEB {lnum}:{offs:#x}"
            ));
            return Ok(());
        };
        match ty {
            IDX => {
                let children = usize::from(bytes::le16(self.data, at + 24).unwrap_or(0));
                for i in 0..children.min(1024) {
                    let b = at + 28 + i * 20;
                    let (Some(l), Some(o)) = (bytes::le32(self.data, b), bytes::le32(self.data, b + 4))
                    else {
                        break;
                    };
                    self.walk(l, o, depth + 1, seen, out)?;
                }
            }
            INO => {
                let inum = bytes::le32(self.data, at + 24).unwrap_or(0) as u64;
                let newer = self
                    .inodes
                    .get(&inum)
                    .is_none_or(|&old| sqnum(self.data, old) < sqnum(self.data, at));
                if newer {
                    self.inodes.insert(inum, at);
                }
            }
            DENT => {
                let parent = bytes::le32(self.data, at + 24).unwrap_or(0) as u64;
                let inum = bytes::le64(self.data, at + 40).unwrap_or(0);
                let nlen = usize::from(bytes::le16(self.data, at + 50).unwrap_or(0));
                if let Some(name) = bytes::slice(self.data, at + 56, nlen) {
                    self.dents.entry(parent).or_default().push((name.to_vec(), inum));
                }
            }
            DATA => {
                let inum = bytes::le32(self.data, at + 24).unwrap_or(0) as u64;
                let block = bytes::le32(self.data, at + 28).unwrap_or(0) & 0x1fff_ffff;
                self.blocks.entry(inum).or_default().insert(block, at);
            }
            _ => {}
        }
        Ok(())
    }

    fn contents(&self, ino_at: usize) -> Result<Vec<u8>, String> {
        let inum = bytes::le32(self.data, ino_at + 24).unwrap_or(0) as u64;
        let size = bytes::le64(self.data, ino_at + 48).unwrap_or(0);
        if size > 256 << 20 {
            return Err(format!(
                "file of {size} bytes is larger than UBIFS files are rebuilt"
            ));
        }
        let mut buf = vec![0u8; size as usize];
        for (&block, &at) in self.blocks.get(&inum).into_iter().flatten() {
            let (_, len) = node(self.data, at).ok_or("damaged data node")?;
            let usize_ = bytes::le32(self.data, at + 40).unwrap_or(0) as usize;
            let compr = bytes::le16(self.data, at + 44).unwrap_or(0);
            let raw = self
                .data
                .get(at + 48..at + len)
                .ok_or("data node outside the image")?;
            let piece = match compr {
                0 => raw.to_vec(),
                1 => decompress(Codec::Lzo, raw, BLOCK)?,
                2 => decompress(Codec::Deflate, raw, BLOCK)?,
                3 => decompress(Codec::Zstd, raw, BLOCK)?,
                other => return Err(format!("compression type {other} is not supported")),
            };
            let piece = &piece[..piece.len().min(usize_)];
            let start = block as usize * BLOCK;
            let end = (start + piece.len()).min(buf.len());
            if start < end {
                buf[start..end].copy_from_slice(&piece[..end - start]);
            }
        }
        Ok(buf)
    }

    fn inline(&self, ino_at: usize) -> Vec<u8> {
        let len = bytes::le32(self.data, ino_at + 112).unwrap_or(0) as usize;
        bytes::slice(self.data, ino_at + 160, len.min(4096))
            .unwrap_or_default()
            .to_vec()
    }
}

fn sqnum(data: &[u8], at: usize) -> u64 {
    bytes::le64(data, at + 8).unwrap_or(0)
}

impl Format for Ubifs {
    fn name(&self) -> &'static str {
        "ubifs"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let (ty, _) = node(data, 0)?;
        if ty != SB {
            return None;
        }
        let leb = bytes::le32(data, 36)?;
        let count = bytes::le32(data, 40)?;
        Some(Probe {
            length: Some(u64::from(leb) * u64::from(count)),
            confidence: 100,
            description: format!("UBIFS, {count} erase blocks of {} KiB", leb / 1024),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let p = self
            .probe(data)
            .ok_or_else(|| FormatError::invalid("bad UBIFS super block"))?;
        out.describe(p.description.clone());
        let leb = bytes::le32(data, 36).unwrap_or(0) as usize;
        if !(4096..=16 << 20).contains(&leb) {
            return Err(FormatError::invalid("implausible erase block size"));
        }
        // The newest master node (LEBs 1 and 2 hold copies).
        let mut best: Option<usize> = None;
        for lnum in 1..=2 {
            let mut at = lnum * leb;
            while at < (lnum + 1) * leb {
                match node(data, at) {
                    Some((MST, len)) => {
                        if best.is_none_or(|b| sqnum(data, b) < sqnum(data, at)) {
                            best = Some(at);
                        }
                        at += len.next_multiple_of(8);
                    }
                    Some((_, len)) => at += len.next_multiple_of(8),
                    None => break,
                }
            }
        }
        let mst = best.ok_or_else(|| FormatError::invalid("no valid master node"))?;
        let root_lnum = bytes::le32(data, mst + 48).unwrap_or(0);
        let root_offs = bytes::le32(data, mst + 52).unwrap_or(0);
        let mut fs = Fs {
            data,
            leb,
            inodes: HashMap::new(),
            dents: BTreeMap::new(),
            blocks: HashMap::new(),
        };
        fs.walk(root_lnum, root_offs, 0, &mut HashSet::new(), out)?;
        let mut stack = vec![(ROOT_INUM, Vec::new(), 0usize)];
        let mut visited = HashSet::new();
        while let Some((dir, path, depth)) = stack.pop() {
            if !visited.insert(dir) || depth > 128 {
                continue;
            }
            let mut entries = fs.dents.get(&dir).cloned().unwrap_or_default();
            entries.sort();
            for (name, inum) in entries.into_iter().rev() {
                out.check_time()?;
                let mut p = path.clone();
                p.push(b'/');
                p.extend_from_slice(&name);
                let Some(&ino) = fs.inodes.get(&inum) else {
                    out.note(format!(
                        "`{}`: inode {inum} missing",
                        probity_model::text::escape(&p)
                    ));
                    continue;
                };
                let mode = bytes::le32(data, ino + 104).unwrap_or(0);
                let uid = bytes::le32(data, ino + 96).unwrap_or(0);
                let gid = bytes::le32(data, ino + 100).unwrap_or(0);
                let kind = kind_of_mode(mode);
                let entry = Entry {
                    member: Some(p.clone()),
                    kind: Some(kind),
                    ..Entry::default()
                }
                .with_owner(mode, uid, gid);
                match kind {
                    ArtifactKind::Directory => {
                        out.entry(entry);
                        stack.push((inum, p, depth + 1));
                    }
                    ArtifactKind::File if !out.wants(&p) => out.entry(entry),
                    ArtifactKind::File => match fs.contents(ino) {
                        Ok(b) => out.file(entry, b)?,
                        Err(e) => {
                            out.note(format!("`{}`: {e}", probity_model::text::escape(&p)));
                            out.entry(entry);
                        }
                    },
                    ArtifactKind::Symlink => out.entry(Entry {
                        link_target: Some(fs.inline(ino)),
                        ..entry
                    }),
                    ArtifactKind::CharDevice | ArtifactKind::BlockDevice => {
                        let d = fs.inline(ino);
                        let dev = bytes::le32(&d, 0)
                            .or(bytes::le16(&d, 0).map(u32::from))
                            .unwrap_or(0);
                        out.entry(Entry {
                            device: Some(((dev >> 8) & 0xfff, (dev & 0xff) | ((dev >> 12) & 0xfff00))),
                            ..entry
                        });
                    }
                    _ => out.entry(entry),
                }
            }
        }
        Ok(p.length.unwrap_or(data.len() as u64).min(data.len() as u64))
    }
}
