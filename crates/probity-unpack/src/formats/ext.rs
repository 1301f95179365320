//! ext2, ext3 and ext4 file systems, read only: the super block, group descriptors (32 or 64
//! bytes), inodes with block maps (direct and 1-3 levels of indirection) or extent trees, and
//! linear directories (htree directories read linearly too). Journals are not replayed: what is
//! read is the state the blocks are in.

use std::collections::HashSet;

use probity_model::ArtifactKind;

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};
use crate::formats::paths::kind_of_mode;

/// The ext2/3/4 format.
#[derive(Debug)]
pub struct Ext;

const MAGICS: &[Magic] = &[Magic {
    bytes: b"\x53\xef",
    at: 0x438,
}];
const EXTENTS_FL: u32 = 0x80000;
const INLINE_DATA_FL: u32 = 0x1000_0000;
const INCOMPAT_64BIT: u32 = 0x80;
const INCOMPAT_EXTENTS: u32 = 0x40;
const INCOMPAT_JOURNAL_DEV: u32 = 0x8;

/// Largest file rebuilt (its bytes are charged to the budgets as they are read).
const MAX_FILE: u64 = 1 << 30;

#[derive(Debug, Clone)]
struct Super {
    block: usize,
    blocks: u64,
    inodes_per_group: u32,
    inode_size: usize,
    desc_size: usize,
    gdt_block: u64,
    groups: u64,
    name: Vec<u8>,
    kind: &'static str,
}

fn parse(data: &[u8]) -> Option<Super> {
    let sb = bytes::slice(data, 1024, 1024)?;
    let le32 = |o| bytes::le32(sb, o);
    let log = le32(24)?;
    if bytes::le16(sb, 56)? != 0xef53 || log > 6 {
        return None;
    }
    let block = 1024usize << log;
    let hi = if le32(96)? & INCOMPAT_64BIT != 0 {
        u64::from(le32(0x150)?) << 32
    } else {
        0
    };
    let blocks = u64::from(le32(4)?) | hi;
    let blocks_per_group = le32(32)?;
    let inodes_per_group = le32(40)?;
    let rev = le32(76)?;
    let inode_size = if rev == 0 {
        128
    } else {
        usize::from(bytes::le16(sb, 88)?)
    };
    let first_data = le32(20)?;
    let incompat = le32(96)?;
    let desc_size = if incompat & INCOMPAT_64BIT != 0 {
        usize::from(bytes::le16(sb, 254)?).max(32)
    } else {
        32
    };
    if blocks_per_group == 0
        || blocks_per_group as usize > 8 * block
        || inodes_per_group == 0
        || inodes_per_group as usize > 8 * block
        || !(128..=block).contains(&inode_size)
        || !inode_size.is_power_of_two()
        || rev > 1
        || first_data != u32::from(block == 1024)
        || blocks == 0
        || incompat & INCOMPAT_JOURNAL_DEV != 0
    {
        return None;
    }
    let compat = le32(92)?;
    let ro = le32(100)?;
    let kind = if incompat & INCOMPAT_EXTENTS != 0 || ro & 0x8 != 0 || incompat & INCOMPAT_64BIT != 0 {
        "ext4"
    } else if compat & 0x4 != 0 {
        "ext3"
    } else {
        "ext2"
    };
    Some(Super {
        block,
        blocks,
        inodes_per_group,
        inode_size,
        desc_size,
        gdt_block: u64::from(first_data) + 1,
        groups: blocks.div_ceil(u64::from(blocks_per_group)),
        name: bytes::cstr(&sb[120..136]).to_vec(),
        kind,
    })
}

struct Inode {
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    flags: u32,
    blocks_field: u32,
    iblock: [u8; 60],
}

struct Fs<'d> {
    s: Super,
    data: &'d [u8],
}

impl Fs<'_> {
    fn block(&self, n: u64) -> Option<&[u8]> {
        let start = usize::try_from(n.checked_mul(self.s.block as u64)?).ok()?;
        bytes::slice(self.data, start, self.s.block)
    }

    fn inode(&self, n: u32) -> Result<Inode, String> {
        if n == 0 {
            return Err("inode 0".into());
        }
        let group = u64::from((n - 1) / self.s.inodes_per_group);
        let index = ((n - 1) % self.s.inodes_per_group) as usize;
        if group >= self.s.groups {
            return Err(format!("inode {n} beyond the last group"));
        }
        let gd_at = self
            .s
            .gdt_block
            .checked_mul(self.s.block as u64)
            .and_then(|b| b.checked_add(group.checked_mul(self.s.desc_size as u64)?))
            .and_then(|b| usize::try_from(b).ok())
            .ok_or("group descriptor out of range")?;
        let lo = bytes::le32(self.data, gd_at + 8).ok_or("group descriptor outside the image")?;
        let hi = if self.s.desc_size >= 64 {
            bytes::le32(self.data, gd_at + 0x28).unwrap_or(0)
        } else {
            0
        };
        let table = (u64::from(hi) << 32) | u64::from(lo);
        let at = table
            .checked_mul(self.s.block as u64)
            .and_then(|t| t.checked_add((index * self.s.inode_size) as u64))
            .and_then(|t| usize::try_from(t).ok())
            .ok_or("inode table out of range")?;
        let raw = bytes::slice(self.data, at, 128).ok_or_else(|| format!("inode {n} outside the image"))?;
        let mut iblock = [0u8; 60];
        iblock.copy_from_slice(&raw[40..100]);
        Ok(Inode {
            mode: u32::from(bytes::le16(raw, 0).unwrap_or(0)),
            uid: u32::from(bytes::le16(raw, 2).unwrap_or(0))
                | (u32::from(bytes::le16(raw, 120).unwrap_or(0)) << 16),
            gid: u32::from(bytes::le16(raw, 24).unwrap_or(0))
                | (u32::from(bytes::le16(raw, 122).unwrap_or(0)) << 16),
            size: u64::from(bytes::le32(raw, 4).unwrap_or(0))
                | (u64::from(bytes::le32(raw, 108).unwrap_or(0)) << 32),
            flags: bytes::le32(raw, 32).unwrap_or(0),
            blocks_field: bytes::le32(raw, 28).unwrap_or(0),
            iblock,
        })
    }

    /// The physical blocks of an inode in logical order (`0` for a hole), up to `count`.
    fn blocks(&self, ino: &Inode, count: u64) -> Result<Vec<u64>, String> {
        if count > MAX_FILE / 1024 {
            return Err("file too large".into());
        }
        let mut out = vec![0u64; count as usize];
        if ino.flags & EXTENTS_FL != 0 {
            self.extents(&ino.iblock, 0, &mut out)?;
        } else {
            let direct = |i: usize| u64::from(bytes::le32(&ino.iblock, i * 4).unwrap_or(0));
            let mut logical = 0u64;
            for i in 0..12 {
                if logical >= count {
                    return Ok(out);
                }
                out[logical as usize] = direct(i);
                logical += 1;
            }
            for (i, level) in [(12, 1), (13, 2), (14, 3)] {
                if logical >= count {
                    break;
                }
                self.indirect(direct(i), level, &mut logical, &mut out)?;
            }
        }
        Ok(out)
    }

    fn indirect(&self, block: u64, level: u32, logical: &mut u64, out: &mut [u64]) -> Result<(), String> {
        let per = (self.s.block / 4) as u64;
        if block == 0 {
            *logical += per.pow(level);
            return Ok(());
        }
        let b = self.block(block).ok_or("indirect block outside the image")?;
        for i in 0..per as usize {
            if *logical as usize >= out.len() {
                return Ok(());
            }
            let n = u64::from(bytes::le32(b, i * 4).unwrap_or(0));
            if level == 1 {
                out[*logical as usize] = n;
                *logical += 1;
            } else {
                self.indirect(n, level - 1, logical, out)?;
            }
        }
        Ok(())
    }

    fn extents(&self, node: &[u8], depth: usize, out: &mut [u64]) -> Result<(), String> {
        if depth > 8 || bytes::le16(node, 0) != Some(0xf30a) {
            return Err("bad extent tree".into());
        }
        let entries = usize::from(bytes::le16(node, 2).unwrap_or(0));
        let tree_depth = bytes::le16(node, 6).unwrap_or(0);
        for i in 0..entries {
            let e = 12 + i * 12;
            let logical = bytes::le32(node, e).ok_or("extent outside its node")?;
            if tree_depth == 0 {
                let mut len = u32::from(bytes::le16(node, e + 4).unwrap_or(0));
                let uninit = len > 32768;
                if uninit {
                    len -= 32768;
                }
                let start = (u64::from(bytes::le16(node, e + 6).unwrap_or(0)) << 32)
                    | u64::from(bytes::le32(node, e + 8).unwrap_or(0));
                for k in 0..u64::from(len) {
                    if let Some(slot) = out.get_mut((u64::from(logical) + k) as usize) {
                        // Uninitialised extents read as zeros.
                        *slot = if uninit { 0 } else { start + k };
                    }
                }
            } else {
                let leaf = u64::from(bytes::le32(node, e + 4).unwrap_or(0))
                    | (u64::from(bytes::le16(node, e + 8).unwrap_or(0)) << 32);
                let child = self.block(leaf).ok_or("extent index outside the image")?;
                self.extents(child, depth + 1, out)?;
            }
        }
        Ok(())
    }

    /// Reads an inode's data, sending it to `sink` block by block (so the budgets apply).
    fn read(&self, ino: &Inode, out: &mut Extractor<'_>, entry: Entry) -> Result<(), FormatError> {
        if ino.flags & INLINE_DATA_FL != 0 {
            let n = (ino.size as usize).min(60);
            return out.file(entry, ino.iblock[..n].to_vec());
        }
        if ino.size > MAX_FILE {
            out.note(format!(
                "file of {} bytes is larger than ext files are read",
                ino.size
            ));
            out.entry(entry);
            return Ok(());
        }
        let count = ino.size.div_ceil(self.s.block as u64);
        let blocks = match self.blocks(ino, count) {
            Ok(b) => b,
            Err(e) => {
                out.note(e);
                out.entry(entry);
                return Ok(());
            }
        };
        let mut sink = out.sink(entry);
        let zero = vec![0u8; self.s.block];
        let mut left = ino.size;
        for b in blocks {
            let piece = if b == 0 {
                &zero[..]
            } else {
                self.block(b).unwrap_or(&zero[..])
            };
            let take = left.min(self.s.block as u64) as usize;
            if let Err(e) = sink.write(out, &piece[..take], self.data.len() as u64) {
                sink.finish(out, true);
                return out.settle(Err(e));
            }
            left -= take as u64;
        }
        sink.finish(out, false);
        Ok(())
    }

    fn data_of(&self, ino: &Inode, limit: u64) -> Result<Vec<u8>, String> {
        let size = ino.size.min(limit);
        let blocks = self.blocks(ino, size.div_ceil(self.s.block as u64))?;
        let mut v = Vec::with_capacity(size as usize);
        for b in blocks {
            let piece = self.block(b).ok_or("block outside the image")?;
            v.extend_from_slice(&piece[..(size as usize - v.len()).min(piece.len())]);
        }
        Ok(v)
    }
}

impl Format for Ext {
    fn name(&self) -> &'static str {
        "ext"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let s = parse(data)?;
        Some(Probe {
            length: Some(s.blocks.saturating_mul(s.block as u64)),
            confidence: 85,
            description: format!(
                "{}, `{}`, {} blocks of {} bytes",
                s.kind,
                probity_model::text::escape(&s.name),
                s.blocks,
                s.block
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let s = parse(data).ok_or_else(|| FormatError::invalid("bad ext super block"))?;
        if let Some(p) = self.probe(data) {
            out.describe(p.description);
        }
        let total = s.blocks.saturating_mul(s.block as u64);
        if total > data.len() as u64 {
            out.note(format!(
                "image truncated: {} of {total} bytes present",
                data.len()
            ));
        }
        let fs = Fs { s, data };
        let mut visited = HashSet::new();
        let mut stack = vec![(2u32, Vec::new(), 0usize)];
        while let Some((dir, path, depth)) = stack.pop() {
            out.check_time()?;
            if !visited.insert(dir) || depth > 128 {
                continue;
            }
            let ino = fs.inode(dir).map_err(FormatError::invalid)?;
            let listing = match fs.data_of(&ino, 64 << 20) {
                Ok(l) => l,
                Err(e) => {
                    out.note(format!("directory `{}`: {e}", probity_model::text::escape(&path)));
                    continue;
                }
            };
            let mut p = 0usize;
            let mut subdirs = Vec::new();
            while p + 8 <= listing.len() {
                let inum = bytes::le32(&listing, p).unwrap_or(0);
                let rec = usize::from(bytes::le16(&listing, p + 4).unwrap_or(0));
                let nlen = usize::from(listing[p + 6]);
                if rec < 8 {
                    break;
                }
                let name = listing.get(p + 8..p + 8 + nlen).unwrap_or_default().to_vec();
                p += rec;
                if inum == 0 || name == b"." || name == b".." || name.is_empty() {
                    continue;
                }
                let mut child = path.clone();
                child.push(b'/');
                child.extend_from_slice(&name);
                let ci = match fs.inode(inum) {
                    Ok(i) => i,
                    Err(e) => {
                        out.note(format!("`{}`: {e}", probity_model::text::escape(&child)));
                        continue;
                    }
                };
                let kind = kind_of_mode(ci.mode);
                let entry = Entry {
                    member: Some(child.clone()),
                    kind: Some(kind),
                    ..Entry::default()
                }
                .with_owner(ci.mode, ci.uid, ci.gid);
                match kind {
                    ArtifactKind::Directory => {
                        out.entry(entry);
                        subdirs.push((inum, child));
                    }
                    ArtifactKind::File if out.wants(&child) => fs.read(&ci, out, entry)?,
                    ArtifactKind::Symlink => {
                        // A fast symlink keeps its target in the block map area.
                        let fast = ci.flags & EXTENTS_FL == 0
                            && ci.size < 60
                            && (ci.blocks_field == 0 || ci.flags & INLINE_DATA_FL != 0);
                        let target = if fast {
                            ci.iblock[..ci.size as usize].to_vec()
                        } else {
                            fs.data_of(&ci, 4096).unwrap_or_default()
                        };
                        out.entry(Entry {
                            link_target: Some(target),
                            ..entry
                        });
                    }
                    ArtifactKind::CharDevice | ArtifactKind::BlockDevice => {
                        let old = u32::from(bytes::le16(&ci.iblock, 0).unwrap_or(0));
                        let new = bytes::le32(&ci.iblock, 4).unwrap_or(0);
                        let dev = if old != 0 {
                            ((old >> 8) & 0xff, old & 0xff)
                        } else {
                            ((new & 0xfff00) >> 8, (new & 0xff) | ((new >> 12) & 0xfff00))
                        };
                        out.entry(Entry {
                            device: Some(dev),
                            ..entry
                        });
                    }
                    _ => out.entry(entry),
                }
            }
            for (inum, child) in subdirs.into_iter().rev() {
                stack.push((inum, child, depth + 1));
            }
        }
        Ok(total.min(data.len() as u64))
    }
}
