//! squashfs 1.x, 2.x and 3.x, both byte orders, with the block compressions vendors used.
//!
//! These versions store their structures as C bitfields in the byte and bit order of the machine
//! that wrote them: a structure is read as one integer of its bytes (little endian: bit 0 is the
//! low bit of byte 0; big endian: bit 0 is the high bit of byte 0) and every field is a
//! (position, width) in it ([`bits`]). The byte order is decided by the major version at offset 28,
//! which vendors do not alter, rather than by the magic, which they do (`shsq`, `qshs`, `hsqt`,
//! `tqsh`, `zlqs`, `sqlz` besides `hsqs`/`sqsh`).
//!
//! There is no compressor field before 4.0: stock images are zlib, and vendor SDKs patched in
//! LZMA in several shapes. Each block is decoded by what its first bytes say ([`decode`]): a zlib
//! header; an LZMA properties byte and dictionary size, with (sqlzma) or without (Broadcom) the
//! 8-byte size of the `.lzma` format; DD-WRT's 4-byte `pb lc lp fb` header; or a bare LZMA stream
//! with the fixed properties of the OpenWrt wrapper. Vendor blocks often have no end marker and no
//! recorded size: a block ends where its on-disk length ends.

use std::collections::HashSet;

use probity_model::ArtifactKind;

use crate::extract::{Entry, Extractor};
use crate::format::bytes::Endian;
use crate::format::{FormatError, Probe};
use crate::formats::codec::{Shape, vendor_block as decode};

/// Magics of squashfs images, standard and vendor, as they appear in the file.
pub(crate) const MAGICS: &[&[u8; 4]] = &[
    b"hsqs", b"sqsh", b"shsq", b"qshs", b"hsqt", b"tqsh", b"zlqs", b"sqlz",
];

const METADATA_SIZE: usize = 8192;
const INVALID_FRAG: u32 = 0xffff_ffff;
const FLAG_CHECK: u8 = 0x04;

/// The parsed super block of a 1.x–3.x image.
#[derive(Debug, Clone)]
pub(crate) struct Super {
    e: Endian,
    pub(crate) major: u16,
    pub(crate) minor: u16,
    pub(crate) inodes: u32,
    pub(crate) bytes_used: u64,
    uid_start: u64,
    guid_start: u64,
    inode_table: u64,
    dir_table: u64,
    frag_table: u64,
    pub(crate) block_size: u32,
    fragments: u32,
    flags: u8,
    no_uids: u8,
    no_guids: u8,
    root_inode: u64,
}

impl Super {
    fn be(&self) -> bool {
        self.e == Endian::Big
    }
}

/// Reads the super block at the start of `data`; `None` unless it is a plausible 1.x–3.x image.
pub(crate) fn parse(data: &[u8]) -> Option<Super> {
    let magic = data.get(..4)?;
    if !MAGICS.iter().any(|m| m.as_slice() == magic) {
        return None;
    }
    let e = [Endian::Little, Endian::Big]
        .into_iter()
        .find(|e| (1..=3).contains(&e.u16(data, 28).unwrap_or(0)))?;
    let major = e.u16(data, 28)?;
    let block_log = e.u16(data, 34)?;
    let (block_size, fragments) = if major == 1 {
        (u32::from(e.u16(data, 32)?), 0)
    } else {
        (e.u32(data, 51)?, e.u32(data, 55)?)
    };
    let (bytes_used, uid_start, guid_start, inode_table, dir_table, frag_table) = if major == 3 {
        (
            e.u64(data, 63)?,
            e.u64(data, 71)?,
            e.u64(data, 79)?,
            e.u64(data, 87)?,
            e.u64(data, 95)?,
            e.u64(data, 103)?,
        )
    } else {
        (
            u64::from(e.u32(data, 8)?),
            u64::from(e.u32(data, 12)?),
            u64::from(e.u32(data, 16)?),
            u64::from(e.u32(data, 20)?),
            u64::from(e.u32(data, 24)?),
            if major == 2 {
                u64::from(e.u32(data, 59)?)
            } else {
                0
            },
        )
    };
    let s = Super {
        e,
        major,
        minor: e.u16(data, 30)?,
        inodes: e.u32(data, 4)?,
        bytes_used,
        uid_start,
        guid_start,
        inode_table,
        dir_table,
        frag_table,
        block_size,
        fragments,
        flags: *data.get(36)?,
        no_uids: *data.get(37)?,
        no_guids: *data.get(38)?,
        root_inode: e.u64(data, 43)?,
    };
    let header = match major {
        1 => 51,
        2 => 63,
        _ => 119,
    };
    if !s.block_size.is_power_of_two()
        || !(if major == 1 { 512..=32768 } else { 4096..=1 << 20 }).contains(&s.block_size)
        || u32::from(block_log) != s.block_size.trailing_zeros()
        || s.inodes == 0
        || s.bytes_used < header
        || s.inode_table < header
        || s.inode_table >= s.dir_table
        || s.dir_table >= s.bytes_used
        || s.fragments > s.inodes
        || (s.root_inode >> 16) >= s.dir_table - s.inode_table
    {
        return None;
    }
    Some(s)
}

/// The probe of a 1.x–3.x image.
pub(crate) fn probe(data: &[u8]) -> Option<Probe> {
    let s = parse(data)?;
    Some(Probe {
        length: Some(s.bytes_used),
        confidence: 85,
        description: describe(&s, None),
    })
}

fn describe(s: &Super, codec: Option<&str>) -> String {
    format!(
        "squashfs {}.{}, {} endian, {} inodes, {} KiB blocks{}",
        s.major,
        s.minor,
        if s.be() { "big" } else { "little" },
        s.inodes,
        s.block_size / 1024,
        codec.map(|c| format!(", {c} compression")).unwrap_or_default()
    )
}

/// Reads `width` bits at bit position `pos` of a bitfield structure in `b` (see the module text).
pub(crate) fn bits(b: &[u8], pos: usize, width: usize, be: bool) -> u64 {
    let mut v = 0u64;
    for k in 0..width {
        let p = pos + k;
        let Some(&byte) = b.get(p / 8) else { break };
        if be {
            v = (v << 1) | u64::from((byte >> (7 - p % 8)) & 1);
        } else {
            v |= u64::from((byte >> (p % 8)) & 1) << k;
        }
    }
    v
}

/// An inode, reduced to what extraction needs.
#[derive(Debug, Clone)]
struct Inode {
    kind: ArtifactKind,
    mode: u32,
    uid: u32,
    gid: u32,
    body: Body,
}

#[derive(Debug, Clone)]
enum Body {
    Dir {
        block: u64,
        offset: u64,
        len: u64,
    },
    File {
        start: u64,
        size: u64,
        frag: u32,
        frag_offset: u32,
        blocks: Vec<u32>,
    },
    Link(Vec<u8>),
    Device(u32),
    Other,
}

struct Fs<'d> {
    s: Super,
    image: &'d [u8],
    uids: Vec<u32>,
    gids: Vec<u32>,
    frags: Vec<u8>,
    shapes: HashSet<Shape>,
    meta_cache: std::collections::HashMap<u64, (std::sync::Arc<Vec<u8>>, u64, bool)>,
    last_frag: Option<(u32, std::sync::Arc<Vec<u8>>)>,
}

/// Unpacks a 1.x–3.x image.
pub(crate) fn extract(data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
    let s = parse(data).ok_or_else(|| FormatError::invalid("bad squashfs super block"))?;
    let image_len = usize::try_from(s.bytes_used)
        .unwrap_or(usize::MAX)
        .min(data.len());
    if (image_len as u64) < s.bytes_used {
        out.note(format!(
            "image truncated: {} of {} bytes present",
            data.len(),
            s.bytes_used
        ));
    }
    let mut fs = Fs {
        image: &data[..image_len],
        uids: Vec::new(),
        gids: Vec::new(),
        frags: Vec::new(),
        shapes: HashSet::new(),
        meta_cache: std::collections::HashMap::new(),
        last_frag: None,
        s,
    };
    let e = fs.s.e;
    let ids = |start: u64, n: u8| -> Vec<u32> {
        (0..usize::from(n))
            .map_while(|i| e.u32(fs.image, usize::try_from(start).ok()? + i * 4))
            .collect()
    };
    fs.uids = ids(fs.s.uid_start, fs.s.no_uids);
    fs.gids = if fs.s.no_guids > 0 {
        ids(fs.s.guid_start, fs.s.no_guids)
    } else {
        Vec::new()
    };
    if fs.s.major >= 2 && fs.s.fragments > 0 {
        match fs.fragment_table() {
            Ok(t) => fs.frags = t,
            Err(e) => out.note(format!("fragment table unreadable ({e}); file tails are missing")),
        }
    }
    let root = fs
        .inode(fs.s.root_inode)
        .map_err(|e| FormatError::invalid(format!("root inode: {e}")))?;
    let mut visited = HashSet::new();
    let root_ref = fs.s.root_inode;
    fs.walk(&root, root_ref, b"", 0, &mut visited, out)?;
    let mut shapes: Vec<&str> = fs.shapes.iter().map(|s| s.name()).collect();
    shapes.sort_unstable();
    let codec = (!shapes.is_empty()).then(|| shapes.join(" and "));
    out.describe(describe(&fs.s, codec.as_deref()));
    Ok(fs.s.bytes_used.min(data.len() as u64))
}

impl Fs<'_> {
    /// One metadata block at image offset `at`, at least its first `need` bytes when it has them:
    /// its bytes and where the next block starts.
    fn meta_block(&mut self, at: u64, need: usize) -> Result<(std::sync::Arc<Vec<u8>>, u64), String> {
        if let Some((block, next, complete)) = self.meta_cache.get(&at)
            && (*complete || block.len() >= need)
        {
            return Ok((block.clone(), *next));
        }
        let pos = usize::try_from(at).map_err(|_| "offset out of range")?;
        let header = self
            .s
            .e
            .u16(self.image, pos)
            .ok_or("metadata block outside the image")?;
        let skip = if self.s.flags & FLAG_CHECK != 0 { 3 } else { 2 };
        let len = usize::from(header & 0x7fff);
        let raw = self
            .image
            .get(pos + skip..pos + skip + len)
            .ok_or("metadata block outside the image")?;
        let (block, complete) = if header & 0x8000 != 0 {
            (raw.to_vec(), true)
        } else {
            let (v, shape) = decode(raw, need.max(1), METADATA_SIZE)?;
            self.shapes.insert(shape);
            // A block that gave less than was asked for has ended; one that gave all of it may
            // hold more, up to the metadata block size.
            let complete = shape == Shape::Zlib || v.len() < need || v.len() == METADATA_SIZE;
            (v, complete)
        };
        let next = at + (skip + len) as u64;
        if self.meta_cache.len() > 4096 {
            self.meta_cache.clear();
        }
        let block = std::sync::Arc::new(block);
        self.meta_cache.insert(at, (block.clone(), next, complete));
        Ok((block, next))
    }

    /// `len` bytes of a metadata table, starting in the block at image offset `start`, at `offset`.
    fn meta_read(&mut self, mut start: u64, mut offset: usize, len: usize) -> Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(len.min(1 << 20));
        while out.len() < len {
            let need = (offset + len - out.len()).min(METADATA_SIZE);
            let (block, next) = self.meta_block(start, need)?;
            let piece = block.get(offset..).ok_or("metadata offset past the block")?;
            if piece.is_empty() {
                return Err("empty metadata block".into());
            }
            out.extend_from_slice(&piece[..piece.len().min(len - out.len())]);
            start = next;
            offset = 0;
        }
        Ok(out)
    }

    /// The decompressed fragment entries (v2: 8 bytes each; v3: 16).
    fn fragment_table(&mut self) -> Result<Vec<u8>, String> {
        let entry = if self.s.major == 2 { 8 } else { 16 };
        let total = self.s.fragments as usize * entry;
        let pointers = total.div_ceil(METADATA_SIZE);
        let mut out = Vec::with_capacity(total);
        for i in 0..pointers {
            let at = usize::try_from(self.s.frag_table).map_err(|_| "offset out of range")?;
            let ptr = if self.s.major == 2 {
                u64::from(
                    self.s
                        .e
                        .u32(self.image, at + i * 4)
                        .ok_or("fragment index outside the image")?,
                )
            } else {
                self.s
                    .e
                    .u64(self.image, at + i * 8)
                    .ok_or("fragment index outside the image")?
            };
            let (block, _) = self.meta_block(ptr, (total - out.len()).min(METADATA_SIZE))?;
            out.extend_from_slice(&block);
        }
        out.truncate(total);
        Ok(out)
    }

    /// The inode at reference `r` (metadata block << 16 | offset).
    fn inode(&mut self, r: u64) -> Result<Inode, String> {
        let (be, major) = (self.s.be(), self.s.major);
        let start = self.s.inode_table + (r >> 16);
        let offset = (r & 0xffff) as usize;
        let base = self.meta_read(start, offset, if major == 3 { 12 } else { 4 })?;
        let bs = u64::from(self.s.block_size);
        // Type, mode and owner indexes.
        let (ty, mode, uid_idx, gid_idx, nocheck) = match major {
            1 => {
                let t = bits(&base, 0, 4, be) as u32;
                let mode = bits(&base, 4, 12, be) as u32;
                let uid = bits(&base, 16, 4, be) as u32;
                let gid = bits(&base, 20, 4, be) as u32;
                if t == 0 {
                    // An IPC inode: a FIFO or socket, with the uid's high bits in its own field.
                    let ipc = bits(&base, 24, 4, be) as u32;
                    let high = bits(&base, 28, 4, be) as u32;
                    (if ipc == 7 { 7 } else { 6 }, mode, high * 16 + uid, gid, 15)
                } else {
                    ((t - 1) % 5 + 1, mode, (t - 1) / 5 * 16 + uid, gid, 15)
                }
            }
            _ => (
                bits(&base, 0, 4, be) as u32,
                bits(&base, 4, 12, be) as u32,
                bits(&base, 16, 8, be) as u32,
                bits(&base, 24, 8, be) as u32,
                255,
            ),
        };
        let uid = *self.uids.get(uid_idx as usize).unwrap_or(&uid_idx);
        let gid = if gid_idx == nocheck {
            uid
        } else {
            *self.gids.get(gid_idx as usize).unwrap_or(&gid_idx)
        };
        // Fixed size by version and type.
        let size = match (major, ty) {
            (1, 1) => 14,
            (1, 2) => 15,
            (1, 3..=5) => 5,
            (1, _) => 4,
            (2, 1) => 15,
            (2, 8) => 18,
            (2, 2) => 24,
            (2, 3..=5) => 6,
            (2, 6 | 7) => 4,
            (3, 1) => 28,
            (3, 8) => 31,
            (3, 2) => 32,
            (3, 9) => 40,
            (3, 3..=5) => 18,
            (3, 6 | 7) => 16,
            _ => return Err(format!("unknown inode type {ty}")),
        };
        let b = self.meta_read(start, offset, size)?;
        let f = |pos: usize, width: usize| bits(&b, pos, width, be);
        let (kind, type_bits, body) = match (major, ty) {
            (_, 1 | 8) => {
                let (len, off, blk) = match (major, ty) {
                    (1, _) => (f(24, 19), f(43, 13), f(88, 24)),
                    (2, 1) => (f(32, 19), f(51, 13), f(96, 24)),
                    (2, _) => (f(32, 27), f(59, 13), f(104, 24)),
                    (_, 1) => (f(128, 19).saturating_sub(3), f(147, 13), f(160, 32)),
                    _ => (f(128, 27).saturating_sub(3), f(155, 13), f(168, 32)),
                };
                (
                    ArtifactKind::Directory,
                    0o040000,
                    Body::Dir {
                        block: blk,
                        offset: off,
                        len,
                    },
                )
            }
            (_, 2 | 9) => {
                let (start, size, frag, frag_offset) = match (major, ty) {
                    (1, _) => (f(56, 32), f(88, 32), INVALID_FRAG, 0),
                    (2, _) => (f(64, 32), f(160, 32), f(96, 32) as u32, f(128, 32) as u32),
                    (_, 2) => (f(96, 64), f(224, 32), f(160, 32) as u32, f(192, 32) as u32),
                    _ => (f(128, 64), f(256, 64), f(192, 32) as u32, f(224, 32) as u32),
                };
                let count = if frag == INVALID_FRAG || major == 1 {
                    size.div_ceil(bs)
                } else {
                    size / bs
                };
                if count > 1 << 24 {
                    return Err(format!("file of {size} bytes is implausibly large"));
                }
                // The block list follows the fixed part in the inode stream.
                let word = if major == 1 { 2 } else { 4 };
                let fixed = b.len();
                let raw = self.meta_read(
                    self.s.inode_table + (r >> 16),
                    offset,
                    fixed + count as usize * word,
                )?;
                let blocks = raw[fixed..]
                    .chunks_exact(word)
                    .map(|c| {
                        if word == 2 {
                            u32::from(self.s.e.u16(c, 0).unwrap_or(0))
                        } else {
                            self.s.e.u32(c, 0).unwrap_or(0)
                        }
                    })
                    .collect();
                (
                    ArtifactKind::File,
                    0o100000,
                    Body::File {
                        start,
                        size,
                        frag,
                        frag_offset,
                        blocks,
                    },
                )
            }
            (_, 3) => {
                let (len, fixed) = match major {
                    1 => (f(24, 16), 5),
                    2 => (f(32, 16), 6),
                    _ => (f(128, 16), 18),
                };
                let target = self.meta_read(start, offset, fixed + len as usize)?;
                (
                    ArtifactKind::Symlink,
                    0o120000,
                    Body::Link(target[fixed..].to_vec()),
                )
            }
            (_, 4 | 5) => {
                let rdev = match major {
                    1 => f(24, 16),
                    2 => f(32, 16),
                    _ => f(128, 16),
                } as u32;
                if ty == 4 {
                    (ArtifactKind::BlockDevice, 0o060000, Body::Device(rdev))
                } else {
                    (ArtifactKind::CharDevice, 0o020000, Body::Device(rdev))
                }
            }
            (_, 7) => (ArtifactKind::Socket, 0o140000, Body::Other),
            _ => (ArtifactKind::Fifo, 0o010000, Body::Other),
        };
        Ok(Inode {
            kind,
            mode: type_bits | (mode & 0o7777),
            uid,
            gid,
            body,
        })
    }

    /// The entries of a directory listing: (name, inode reference).
    fn list(&mut self, block: u64, offset: u64, len: u64) -> Result<Vec<(Vec<u8>, u64)>, String> {
        if len > 16 << 20 {
            return Err("directory listing too large".into());
        }
        let raw = self.meta_read(self.s.dir_table + block, offset as usize, len as usize)?;
        let (be, v3) = (self.s.be(), self.s.major == 3);
        let (head, ent) = if v3 { (9, 5) } else { (4, 3) };
        let mut out = Vec::new();
        let mut p = 0usize;
        while p + head <= raw.len() {
            let h = &raw[p..p + head];
            let count = bits(h, 0, 8, be) as usize + 1;
            let start = bits(h, 8, if v3 { 32 } else { 24 }, be);
            p += head;
            for _ in 0..count {
                let e = raw.get(p..p + ent).ok_or("directory entry truncated")?;
                let off = bits(e, 0, 13, be);
                let size = bits(e, 16, 8, be) as usize + 1;
                let name = raw
                    .get(p + ent..p + ent + size)
                    .ok_or("directory entry truncated")?
                    .to_vec();
                p += ent + size;
                out.push((name, (start << 16) | off));
            }
        }
        Ok(out)
    }

    fn walk(
        &mut self,
        dir: &Inode,
        dir_ref: u64,
        path: &[u8],
        depth: usize,
        visited: &mut HashSet<u64>,
        out: &mut Extractor<'_>,
    ) -> Result<(), FormatError> {
        let Body::Dir { block, offset, len } = dir.body else {
            return Ok(());
        };
        // Versions before 3 have no inode numbers: a directory is known by its inode reference.
        if !visited.insert(dir_ref) {
            out.note(format!(
                "directory `{}` is reached twice (a loop); not walked again",
                probity_model::text::escape(path)
            ));
            return Ok(());
        }
        if depth > 256 {
            out.note("directories nested deeper than 256 levels; not walked further");
            return Ok(());
        }
        let mut entries = match self.list(block, offset, len) {
            Ok(e) => e,
            Err(e) => {
                out.note(format!(
                    "directory `{}` unreadable: {e}",
                    probity_model::text::escape(path)
                ));
                return Ok(());
            }
        };
        // 1.x and 2.0 listings may be unsorted; the member order is made deterministic either way.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, r) in entries {
            out.check_time()?;
            if out.done() {
                return Ok(());
            }
            let mut child = path.to_vec();
            child.push(b'/');
            child.extend_from_slice(&name);
            let inode = match self.inode(r) {
                Ok(i) => i,
                Err(e) => {
                    out.note(format!("`{}`: {e}", probity_model::text::escape(&child)));
                    continue;
                }
            };
            let entry = Entry {
                member: Some(child.clone()),
                kind: Some(inode.kind),
                ..Entry::default()
            }
            .with_owner(inode.mode, inode.uid, inode.gid);
            match &inode.body {
                Body::Dir { .. } => {
                    out.entry(entry);
                    self.walk(&inode, r, &child, depth + 1, visited, out)?;
                }
                Body::File { .. } if out.wants(&child) => self.file(&inode, entry, out)?,
                Body::File { .. } => out.entry(entry),
                Body::Link(target) => out.entry(Entry {
                    link_target: Some(target.clone()),
                    ..entry
                }),
                Body::Device(rdev) => out.entry(Entry {
                    device: Some((rdev >> 8, rdev & 0xff)),
                    ..entry
                }),
                Body::Other => out.entry(entry),
            }
        }
        Ok(())
    }

    /// Decodes one data block: `word` is its block-list entry, `pos` its image offset; the caller
    /// needs its first `need` bytes.
    fn data_block(&mut self, word: u32, pos: u64, need: usize) -> Result<Vec<u8>, String> {
        let (uncompressed, len) = if self.s.major == 1 {
            // 16-bit words: a length field of zero with the flag set is a whole 32 KiB block stored
            // as it is (the length does not fit beside the flag).
            let len = (word & 0x7fff) as usize;
            (
                word & 0x8000 != 0,
                if len == 0 && word != 0 { 0x8000 } else { len },
            )
        } else {
            (word & 0x0100_0000 != 0, (word & 0x00ff_ffff) as usize)
        };
        if len == 0 {
            // A sparse block.
            return Ok(vec![0; need]);
        }
        let raw = usize::try_from(pos)
            .ok()
            .and_then(|p| self.image.get(p..p + len))
            .ok_or("data block outside the image")?;
        if uncompressed {
            return Ok(raw.to_vec());
        }
        let (v, shape) = decode(raw, need, self.s.block_size as usize)?;
        self.shapes.insert(shape);
        Ok(v)
    }

    fn file(&mut self, inode: &Inode, entry: Entry, out: &mut Extractor<'_>) -> Result<(), FormatError> {
        let Body::File {
            start,
            size,
            frag,
            frag_offset,
            blocks,
        } = &inode.body
        else {
            return Ok(());
        };
        let bs = u64::from(self.s.block_size);
        let mut sink = out.sink(entry);
        let mut pos = *start;
        let mut written = 0u64;
        let mut failure = None;
        for &w in blocks {
            if let Err(e) = out.check_time() {
                sink.finish(out, true);
                return out.settle(Err(e));
            }
            let want = (*size - written).min(bs) as usize;
            match self.data_block(w, pos, want) {
                Ok(piece) => {
                    let piece = &piece[..piece.len().min(want)];
                    written += piece.len() as u64;
                    if let Err(e) = sink.write(out, piece, pos - *start + 1) {
                        sink.finish(out, true);
                        return out.settle(Err(e));
                    }
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
            let len = match (self.s.major, w) {
                (1, 0x8000) => 0x8000,
                (1, _) => w & 0x7fff,
                _ => w & 0x00ff_ffff,
            };
            pos += u64::from(len);
        }
        if failure.is_none() && *frag != INVALID_FRAG && written < *size {
            let want = (*size - written) as usize;
            match self.fragment(*frag, *frag_offset as usize + want) {
                Ok(block) => match block.get(*frag_offset as usize..*frag_offset as usize + want) {
                    Some(tail) => {
                        written += tail.len() as u64;
                        if let Err(e) = sink.write(out, tail, self.image.len() as u64) {
                            sink.finish(out, true);
                            return out.settle(Err(e));
                        }
                    }
                    None => failure = Some("file tail outside its fragment".into()),
                },
                Err(e) => failure = Some(format!("fragment {frag}: {e}")),
            }
        }
        let truncated = failure.is_some() || written < *size;
        if let Some(f) = failure {
            out.note(format!(
                "file data unreadable ({f}); kept {written} of {size} bytes"
            ));
        }
        sink.finish(out, truncated);
        Ok(())
    }

    /// The decompressed fragment block `index`, at least its first `need` bytes.
    fn fragment(&mut self, index: u32, need: usize) -> Result<std::sync::Arc<Vec<u8>>, String> {
        if let Some((i, b)) = &self.last_frag
            && *i == index
            && b.len() >= need
        {
            return Ok(b.clone());
        }
        let (entry, e) = (if self.s.major == 2 { 8 } else { 16 }, self.s.e);
        let base = index as usize * entry;
        let (start, size) = if self.s.major == 2 {
            (
                u64::from(e.u32(&self.frags, base).ok_or("no such fragment")?),
                e.u32(&self.frags, base + 4),
            )
        } else {
            (
                e.u64(&self.frags, base).ok_or("no such fragment")?,
                e.u32(&self.frags, base + 8),
            )
        };
        let size = size.ok_or("no such fragment")?;
        // Exactly what is needed: a vendor block without an end marker can not be decoded past
        // its true end, which nothing records (a later file that needs more decodes it again).
        let block = std::sync::Arc::new(self.data_block(size, start, need)?);
        self.last_frag = Some((index, block.clone()));
        Ok(block)
    }
}
