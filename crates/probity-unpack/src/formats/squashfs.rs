//! squashfs 4.0, both byte orders, every compressor (gzip, LZMA, LZO, xz, LZ4, zstd).
//!
//! The super block locates the inode, directory, fragment and id tables; metadata is read in
//! blocks of at most 8 KiB, file data block by block (each decoded into at most the block size),
//! fragments through the fragment table. Directories are walked from the root inode with every
//! directory entered once (a looping directory graph ends), and every bound of the format is
//! checked against the image before it is used.

use std::collections::{HashMap, HashSet};

use probity_model::ArtifactKind;

use crate::extract::{Entry, Extractor};
use crate::format::bytes::Endian;
use crate::format::{Format, FormatError, Magic, Probe};
use crate::formats::codec::{Codec, decompress};
use crate::formats::squashfs_legacy;

/// The squashfs 4.0 format.
#[derive(Debug)]
pub struct Squashfs;

const MAGICS: &[Magic] = &[
    Magic::start(b"hsqs"),
    Magic::start(b"sqsh"),
    Magic::start(b"shsq"),
    Magic::start(b"qshs"),
    Magic::start(b"hsqt"),
    Magic::start(b"tqsh"),
    Magic::start(b"zlqs"),
    Magic::start(b"sqlz"),
];

const METADATA_SIZE: usize = 8192;
const NO_FRAGMENT: u32 = 0xffff_ffff;
const FLAG_COMPRESSOR_OPTIONS: u16 = 0x0400;

/// The parsed super block.
#[derive(Debug, Clone)]
pub(crate) struct Super {
    e: Endian,
    /// The byte order of metadata block length words (little endian in AVM's big-endian images).
    meta_e: Endian,
    inodes: u32,
    block_size: u32,
    frag_count: u32,
    compressor: u16,
    flags: u16,
    id_count: u16,
    root_inode: u64,
    bytes_used: u64,
    id_table: u64,
    inode_table: u64,
    dir_table: u64,
    frag_table: u64,
}

fn parse_super(data: &[u8]) -> Option<Super> {
    // Vendors change the magic but not the version: the byte order is the one in which the
    // major version reads 4.
    let magic = data.get(..4)?;
    if !squashfs_legacy::MAGICS.iter().any(|m| m.as_slice() == magic) {
        return None;
    }
    let e = [Endian::Little, Endian::Big]
        .into_iter()
        .find(|e| e.u16(data, 28) == Some(4))?;
    let mut s = Super {
        e,
        meta_e: e,
        inodes: e.u32(data, 4)?,
        block_size: e.u32(data, 12)?,
        frag_count: e.u32(data, 16)?,
        compressor: e.u16(data, 20)?,
        flags: e.u16(data, 24)?,
        id_count: e.u16(data, 26)?,
        root_inode: e.u64(data, 32)?,
        bytes_used: e.u64(data, 40)?,
        id_table: e.u64(data, 48)?,
        inode_table: e.u64(data, 64)?,
        dir_table: e.u64(data, 72)?,
        frag_table: e.u64(data, 80)?,
    };
    let block_log = e.u16(data, 22)?;
    if e.u16(data, 28)? != 4
        || e.u16(data, 30)? != 0
        || !(4096..=1 << 20).contains(&s.block_size)
        || !s.block_size.is_power_of_two()
        || u32::from(block_log) != s.block_size.trailing_zeros()
        || !(1..=6).contains(&s.compressor)
        || s.inode_table >= s.bytes_used
        || s.dir_table < s.inode_table
        || s.dir_table >= s.bytes_used
        || s.bytes_used < 96
    {
        return None;
    }
    if e == Endian::Big && !chain_ends_at(data, s.inode_table, s.dir_table, Endian::Big) {
        // AVM's big-endian squashfs keeps the metadata block length words little endian.
        if chain_ends_at(data, s.inode_table, s.dir_table, Endian::Little) {
            s.meta_e = Endian::Little;
        }
    }
    Some(s)
}

/// Whether the metadata blocks from `from`, with length words in byte order `e`, end exactly at
/// `to` (where the next table starts), as the inode table's blocks must.
fn chain_ends_at(data: &[u8], from: u64, to: u64, e: Endian) -> bool {
    let (mut at, to) = (from, to.min(data.len() as u64));
    for _ in 0..1 << 16 {
        if at == to {
            return true;
        }
        let Some(word) = usize::try_from(at).ok().and_then(|p| e.u16(data, p)) else {
            return false;
        };
        let len = u64::from(word & 0x7fff);
        if len == 0 || len > METADATA_SIZE as u64 + 16 {
            return false;
        }
        at += 2 + len;
        if at > to {
            return false;
        }
    }
    false
}

fn compressor_name(c: u16) -> &'static str {
    match c {
        1 => "gzip",
        2 => "lzma",
        3 => "lzo",
        4 => "xz",
        5 => "lz4",
        6 => "zstd",
        _ => "unknown",
    }
}

impl Format for Squashfs {
    fn name(&self) -> &'static str {
        "squashfs"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let Some(s) = parse_super(data) else {
            return squashfs_legacy::probe(data);
        };
        Some(Probe {
            length: Some(s.bytes_used),
            confidence: 90,
            description: format!(
                "squashfs 4.0, {} endian{}, {} compression, {} inodes, {} KiB blocks",
                if s.e == Endian::Little { "little" } else { "big" },
                if s.meta_e == s.e {
                    ""
                } else {
                    " (AVM: little-endian metadata lengths)"
                },
                compressor_name(s.compressor),
                s.inodes,
                s.block_size / 1024
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let Some(s) = parse_super(data) else {
            return squashfs_legacy::extract(data, out);
        };
        if let Some(p) = self.probe(data) {
            out.describe(p.description);
        }
        let image_len = (s.bytes_used as usize).min(data.len());
        if (image_len as u64) < s.bytes_used {
            out.note(format!(
                "image truncated: {} of {} bytes present",
                data.len(),
                s.bytes_used
            ));
        }
        let image = &data[..image_len];
        let codec = codec_for(&s, image)?;
        let mut fs = Fs {
            s: s.clone(),
            image,
            codec,
            meta_cache: HashMap::new(),
            ids: Vec::new(),
            frags: Vec::new(),
            queue: Vec::new(),
            queued: 0,
            ready: None,
        };
        fs.ids = fs
            .read_table(s.id_table, u64::from(s.id_count), 4)
            .unwrap_or_else(|e| {
                out.note(format!("id table unreadable ({e}); owners unknown"));
                Vec::new()
            });
        if s.frag_count > 0 && s.frag_table != u64::MAX {
            fs.frags = fs
                .read_table(s.frag_table, u64::from(s.frag_count), 16)
                .unwrap_or_else(|e| {
                    out.note(format!("fragment table unreadable ({e}); file tails are missing"));
                    Vec::new()
                });
        }
        let root = fs
            .inode(s.root_inode)
            .map_err(|e| FormatError::invalid(format!("root inode: {e}")))?;
        let mut visited = HashSet::new();
        fs.walk(&root, b"", 0, &mut visited, out)?;
        fs.drain(out)?;
        Ok(s.bytes_used.min(data.len() as u64))
    }
}

/// Picks the codec; for LZMA, vendors differ (a per-block header or raw streams), so the first
/// data or metadata block decides.
fn codec_for(s: &Super, _image: &[u8]) -> Result<Codec, FormatError> {
    Ok(match s.compressor {
        1 => Codec::Zlib,
        2 => Codec::LzmaAlone,
        3 => Codec::Lzo,
        4 => Codec::Xz,
        5 => Codec::Lz4,
        6 => Codec::Zstd,
        other => {
            return Err(FormatError::Unsupported(format!(
                "squashfs compressor id {other}"
            )));
        }
    })
}

/// An inode, reduced to what extraction needs.
#[derive(Debug, Clone)]
struct Inode {
    kind: ArtifactKind,
    mode: u32,
    uid: u32,
    gid: u32,
    number: u32,
    /// Directory: (start block, offset, listing size); file: (blocks start, size, fragment,
    /// fragment offset, block sizes); symlink: target; device: numbers.
    body: Body,
}

#[derive(Debug, Clone)]
enum Body {
    Dir {
        block: u32,
        offset: u16,
        size: u32,
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
    codec: Codec,
    meta_cache: HashMap<u64, (Vec<u8>, u64)>,
    ids: Vec<u8>,
    frags: Vec<u8>,
    /// Members walked but not yet handed to the extractor, in walk order; files among them are
    /// decompressed in parallel when the batch is flushed.
    queue: Vec<Pending>,
    /// Bytes of the files in `queue` that will be decompressed in parallel.
    queued: u64,
    /// The previous batch, decoded, waiting to be handed over while the next one decodes.
    ready: Option<Batch>,
}

/// Queued members with the decoded contents of the small files among them.
struct Batch {
    items: Vec<Pending>,
    data: Vec<Option<Decoded>>,
}

/// A small file decoded whole: its bytes, the input bytes that produced them (for the expansion
/// ratio), and why it stopped short, if it did.
struct Decoded {
    data: Vec<u8>,
    consumed: u64,
    failure: Option<String>,
}

/// A member waiting in [`Fs::queue`].
enum Pending {
    Entry(Entry),
    File(Inode, Entry),
}

/// Files up to this size are decompressed in parallel, whole in memory; larger ones are streamed.
const PREFETCH_MAX: u64 = 8 << 20;
/// A batch of queued files is flushed once it holds this many bytes (or `BATCH_FILES` files).
const BATCH_BYTES: u64 = 32 << 20;
const BATCH_FILES: usize = 512;

impl Fs<'_> {
    /// Reads the metadata block at image offset `at`: its bytes and the offset of the next block.
    fn meta_block(&mut self, at: u64) -> Result<(Vec<u8>, u64), String> {
        if let Some(hit) = self.meta_cache.get(&at) {
            return Ok(hit.clone());
        }
        let pos = usize::try_from(at).map_err(|_| "offset out of range")?;
        let header = self
            .s
            .meta_e
            .u16(self.image, pos)
            .ok_or("metadata block outside the image")?;
        let len = usize::from(header & 0x7fff);
        let raw = self
            .image
            .get(pos + 2..pos + 2 + len)
            .ok_or("metadata block outside the image")?;
        let block = if header & 0x8000 != 0 {
            raw.to_vec()
        } else {
            decompress(self.codec, raw, METADATA_SIZE)?
        };
        let next = at + 2 + len as u64;
        if self.meta_cache.len() > 4096 {
            self.meta_cache.clear();
        }
        self.meta_cache.insert(at, (block.clone(), next));
        Ok((block, next))
    }

    /// Reads `len` bytes of metadata starting at block `start` (image offset), offset `offset`.
    fn meta_read(&mut self, mut start: u64, offset: usize, len: usize) -> Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(len.min(1 << 20));
        let mut skip = offset;
        while out.len() < len {
            let (block, next) = self.meta_block(start)?;
            let chunk = block.get(skip..).ok_or("metadata offset beyond its block")?;
            if chunk.is_empty() && next == start {
                return Err("metadata ends early".into());
            }
            let take = chunk.len().min(len - out.len());
            out.extend_from_slice(&chunk[..take]);
            skip = 0;
            start = next;
            if take == 0 && out.len() < len && block.is_empty() {
                return Err("empty metadata block".into());
            }
        }
        Ok(out)
    }

    /// Reads a table of `count` entries of `size` bytes through its list of block pointers.
    fn read_table(&mut self, at: u64, count: u64, size: u64) -> Result<Vec<u8>, String> {
        let total = count.checked_mul(size).ok_or("table size overflows")?;
        if total > 64 << 20 {
            return Err("table too large".into());
        }
        let blocks = total.div_ceil(METADATA_SIZE as u64);
        let mut out = Vec::with_capacity(total as usize);
        for i in 0..blocks {
            let ptr = at
                .checked_add(i * 8)
                .and_then(|p| usize::try_from(p).ok())
                .and_then(|p| self.s.e.u64(self.image, p))
                .ok_or("table pointer outside the image")?;
            let (block, _) = self.meta_block(ptr)?;
            out.extend_from_slice(&block);
        }
        out.truncate(total as usize);
        if (out.len() as u64) < total {
            return Err("table shorter than its entry count".into());
        }
        Ok(out)
    }

    fn id(&self, idx: u16) -> u32 {
        self.s
            .e
            .u32(&self.ids, usize::from(idx) * 4)
            .unwrap_or(u32::from(idx))
    }

    /// Reads the inode a reference points to.
    fn inode(&mut self, reference: u64) -> Result<Inode, String> {
        let block = self.s.inode_table + (reference >> 16);
        let offset = (reference & 0xffff) as usize;
        let e = self.s.e;
        let h = self.meta_read(block, offset, 16)?;
        let ty = e.u16(&h, 0).unwrap_or(0);
        let perm = u32::from(e.u16(&h, 2).unwrap_or(0));
        let uid = self.id(e.u16(&h, 4).unwrap_or(0));
        let gid = self.id(e.u16(&h, 6).unwrap_or(0));
        let number = e.u32(&h, 12).unwrap_or(0);
        let rd = |fs: &mut Self, len: usize| fs.meta_read(block, offset, 16 + len);
        let (kind, type_bits, body) = match ty {
            1 => {
                let b = rd(self, 16)?;
                let dir_block = e.u32(&b, 16).unwrap_or(0);
                let size = u32::from(e.u16(&b, 24).unwrap_or(0));
                let off = e.u16(&b, 26).unwrap_or(0);
                (
                    ArtifactKind::Directory,
                    0o040000,
                    Body::Dir {
                        block: dir_block,
                        offset: off,
                        size,
                    },
                )
            }
            8 => {
                let b = rd(self, 24)?;
                let size = e.u32(&b, 20).unwrap_or(0);
                let dir_block = e.u32(&b, 24).unwrap_or(0);
                let off = e.u16(&b, 34).unwrap_or(0);
                (
                    ArtifactKind::Directory,
                    0o040000,
                    Body::Dir {
                        block: dir_block,
                        offset: off,
                        size,
                    },
                )
            }
            2 | 9 => {
                let (fixed, start, size, frag, frag_offset) = if ty == 2 {
                    let b = rd(self, 16)?;
                    (
                        16usize,
                        u64::from(e.u32(&b, 16).unwrap_or(0)),
                        u64::from(e.u32(&b, 28).unwrap_or(0)),
                        e.u32(&b, 20).unwrap_or(NO_FRAGMENT),
                        e.u32(&b, 24).unwrap_or(0),
                    )
                } else {
                    let b = rd(self, 40)?;
                    (
                        40usize,
                        e.u64(&b, 16).unwrap_or(0),
                        e.u64(&b, 24).unwrap_or(0),
                        e.u32(&b, 44).unwrap_or(NO_FRAGMENT),
                        e.u32(&b, 48).unwrap_or(0),
                    )
                };
                let bs = u64::from(self.s.block_size);
                let n = if frag == NO_FRAGMENT {
                    size.div_ceil(bs)
                } else {
                    size / bs
                };
                // Each block needs at least its 4-byte size entry in the image: a count beyond
                // that is forged.
                if n > self.image.len() as u64 / 4 + 1 {
                    return Err(format!(
                        "file of {size} bytes has more blocks than the image can hold"
                    ));
                }
                let b = rd(self, fixed + n as usize * 4)?;
                let blocks = (0..n as usize)
                    .map(|i| e.u32(&b, 16 + fixed + i * 4).unwrap_or(0))
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
            3 | 10 => {
                let b = rd(self, 8)?;
                let len = e.u32(&b, 20).unwrap_or(0) as usize;
                if len > 65536 {
                    return Err("symlink target too long".into());
                }
                let b = rd(self, 8 + len)?;
                (
                    ArtifactKind::Symlink,
                    0o120000,
                    Body::Link(b.get(24..24 + len).unwrap_or_default().to_vec()),
                )
            }
            4 | 11 => {
                let b = rd(self, 8)?;
                (
                    ArtifactKind::BlockDevice,
                    0o060000,
                    Body::Device(e.u32(&b, 20).unwrap_or(0)),
                )
            }
            5 | 12 => {
                let b = rd(self, 8)?;
                (
                    ArtifactKind::CharDevice,
                    0o020000,
                    Body::Device(e.u32(&b, 20).unwrap_or(0)),
                )
            }
            6 | 13 => (ArtifactKind::Fifo, 0o010000, Body::Other),
            7 | 14 => (ArtifactKind::Socket, 0o140000, Body::Other),
            other => return Err(format!("unknown inode type {other}")),
        };
        Ok(Inode {
            kind,
            mode: type_bits | (perm & 0o7777),
            uid,
            gid,
            number,
            body,
        })
    }

    fn walk(
        &mut self,
        dir: &Inode,
        path: &[u8],
        depth: usize,
        visited: &mut HashSet<u32>,
        out: &mut Extractor<'_>,
    ) -> Result<(), FormatError> {
        let Body::Dir { block, offset, size } = dir.body else {
            return Ok(());
        };
        if !visited.insert(dir.number) {
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
        let entries = match self.list(block, offset, size) {
            Ok(e) => e,
            Err(e) => {
                out.note(format!(
                    "directory `{}` unreadable: {e}",
                    probity_model::text::escape(path)
                ));
                return Ok(());
            }
        };
        for (name, inode_ref) in entries {
            out.check_time()?;
            if out.done() {
                return Ok(());
            }
            let mut child_path = path.to_vec();
            child_path.push(b'/');
            child_path.extend_from_slice(&name);
            let inode = match self.inode(inode_ref) {
                Ok(i) => i,
                Err(e) => {
                    out.note(format!("`{}`: {e}", probity_model::text::escape(&child_path)));
                    continue;
                }
            };
            let entry = Entry {
                member: Some(child_path.clone()),
                kind: Some(inode.kind),
                ..Entry::default()
            }
            .with_owner(inode.mode, inode.uid, inode.gid);
            let pending = match &inode.body {
                Body::Dir { .. } => {
                    self.enqueue(Pending::Entry(entry), out)?;
                    self.walk(&inode, &child_path, depth + 1, visited, out)?;
                    continue;
                }
                Body::File { .. } if out.wants(&child_path) => Pending::File(inode.clone(), entry),
                Body::File { .. } => Pending::Entry(Entry {
                    kind: Some(ArtifactKind::File),
                    ..entry
                }),
                Body::Link(target) => Pending::Entry(Entry {
                    link_target: Some(target.clone()),
                    ..entry
                }),
                Body::Device(dev) => {
                    let major = (dev >> 8) & 0xfff;
                    let minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
                    Pending::Entry(Entry {
                        device: Some((major, minor)),
                        ..entry
                    })
                }
                Body::Other => Pending::Entry(entry),
            };
            self.enqueue(pending, out)?;
        }
        Ok(())
    }

    /// The entries of a directory listing: (name, inode reference).
    fn list(&mut self, block: u32, offset: u16, size: u32) -> Result<Vec<(Vec<u8>, u64)>, String> {
        // The size counts 3 bytes for "." and ".." that are not stored.
        let len = (size as usize).saturating_sub(3);
        if len > 16 << 20 {
            return Err("directory listing too large".into());
        }
        let raw = self.meta_read(self.s.dir_table + u64::from(block), usize::from(offset), len)?;
        let e = self.s.e;
        let mut out = Vec::new();
        let mut p = 0usize;
        while p + 12 <= raw.len() {
            let count = e.u32(&raw, p).unwrap_or(0) as usize + 1;
            let start = e.u32(&raw, p + 4).unwrap_or(0);
            p += 12;
            if count > 256 {
                return Err("directory header with more than 256 entries".into());
            }
            for _ in 0..count {
                let off = e.u16(&raw, p).ok_or("directory entry truncated")?;
                let name_len = usize::from(e.u16(&raw, p + 6).ok_or("directory entry truncated")?) + 1;
                let name = raw
                    .get(p + 8..p + 8 + name_len)
                    .ok_or("directory entry truncated")?
                    .to_vec();
                p += 8 + name_len;
                out.push((name, (u64::from(start) << 16) | u64::from(off)));
            }
        }
        Ok(out)
    }

    /// Queues a member; flushes the batch when it is full (and hands everything over at once
    /// when one member is wanted, so that the walk can stop as soon as it is found).
    fn enqueue(&mut self, p: Pending, out: &mut Extractor<'_>) -> Result<(), FormatError> {
        if let Pending::File(inode, _) = &p
            && let Body::File { size, .. } = inode.body
            && size <= PREFETCH_MAX
        {
            self.queued += size;
        }
        let file = matches!(p, Pending::File(..));
        self.queue.push(p);
        if file && out.wants_one() {
            self.drain(out)?;
        } else if self.queued >= BATCH_BYTES || self.queue.len() >= BATCH_FILES {
            self.flush(out)?;
        }
        Ok(())
    }

    /// Decodes the queued batch in parallel while the previous one is handed to the extractor.
    fn flush(&mut self, out: &mut Extractor<'_>) -> Result<(), FormatError> {
        let queue = std::mem::take(&mut self.queue);
        self.queued = 0;
        let ready = self.ready.take();
        let me = &*self;
        let (decoded, emitted) = rayon::join(
            || me.decode_batch(queue),
            || ready.map_or(Ok(()), |b| me.emit(b, out)),
        );
        emitted?;
        self.ready = Some(decoded);
        Ok(())
    }

    /// Hands over everything queued.
    fn drain(&mut self, out: &mut Extractor<'_>) -> Result<(), FormatError> {
        self.flush(out)?;
        match self.ready.take() {
            Some(b) => self.emit(b, out),
            None => Ok(()),
        }
    }

    /// Decodes the small files of a batch in parallel, block by block (so that one large file does
    /// not hold up the batch), with every fragment block the batch needs decoded once.
    fn decode_batch(&self, items: Vec<Pending>) -> Batch {
        use rayon::prelude::*;
        enum Task {
            Frag(u32),
            Block { b: u32, pos: u64, want: usize },
        }
        let bs = u64::from(self.s.block_size);
        let mut tasks = Vec::new();
        let mut frag_task: HashMap<u32, usize> = HashMap::new();
        // Per item: the range of its block tasks and its fragment task, for the small files.
        let mut plan: Vec<Option<(std::ops::Range<usize>, Option<usize>)>> = Vec::with_capacity(items.len());
        for p in &items {
            let Pending::File(inode, _) = p else {
                plan.push(None);
                continue;
            };
            let Body::File {
                start,
                size,
                frag,
                blocks,
                ..
            } = &inode.body
            else {
                plan.push(None);
                continue;
            };
            if *size > PREFETCH_MAX {
                plan.push(None);
                continue;
            }
            let first = tasks.len();
            let (mut pos, mut left) = (*start, *size);
            for &b in blocks {
                let want = left.min(bs);
                tasks.push(Task::Block {
                    b,
                    pos,
                    want: want as usize,
                });
                pos = pos.saturating_add(u64::from(b & 0x00ff_ffff));
                left -= want;
            }
            let frag = (*frag != NO_FRAGMENT && left > 0).then(|| {
                *frag_task.entry(*frag).or_insert_with(|| {
                    tasks.push(Task::Frag(*frag));
                    tasks.len() - 1
                })
            });
            plan.push(Some((first..first + blocks.len(), frag)));
        }
        let done: Vec<Result<Vec<u8>, String>> = tasks
            .par_iter()
            .map(|t| match *t {
                Task::Frag(f) => self.read_fragment(f).map_err(|e| format!("fragment {f}: {e}")),
                Task::Block { b, pos, want } => self.block(b, pos, want).map(|mut v| {
                    v.truncate(want);
                    v
                }),
            })
            .collect();
        let data = items
            .iter()
            .zip(plan)
            .map(|(p, plan)| {
                let (Pending::File(inode, _), Some((blocks, frag))) = (p, plan) else {
                    return None;
                };
                Some(self.assemble(inode, &done[blocks], frag.map(|i| &done[i])))
            })
            .collect();
        Batch { items, data }
    }

    /// Hands a decoded batch to the extractor, in walk order.
    fn emit(&self, batch: Batch, out: &mut Extractor<'_>) -> Result<(), FormatError> {
        for (p, d) in batch.items.into_iter().zip(batch.data) {
            out.check_time()?;
            match (p, d) {
                (Pending::Entry(e), _) => out.entry(e),
                (Pending::File(inode, entry), Some(d)) => {
                    let mut sink = out.sink(entry);
                    if let Err(e) = sink.write(out, &d.data, d.consumed) {
                        sink.finish(out, true);
                        out.settle(Err(e))?;
                        continue;
                    }
                    let size = match inode.body {
                        Body::File { size, .. } => size,
                        _ => 0,
                    };
                    let truncated = d.failure.is_some() || (d.data.len() as u64) < size;
                    if let Some(f) = d.failure {
                        out.note(format!(
                            "file data unreadable ({f}); kept {} of {size} bytes",
                            d.data.len()
                        ));
                    }
                    sink.finish(out, truncated);
                }
                (Pending::File(inode, entry), None) => self.file(&inode, entry, out)?,
            }
        }
        Ok(())
    }

    /// Decodes one data block of a file: `b` is its size word, `pos` its image offset, `want`
    /// the bytes it holds.
    fn block(&self, b: u32, pos: u64, want: usize) -> Result<Vec<u8>, String> {
        let on_disk = (b & 0x00ff_ffff) as usize;
        if on_disk == 0 {
            return Ok(vec![0u8; want]);
        }
        let raw = usize::try_from(pos)
            .ok()
            .and_then(|p| self.image.get(p..p + on_disk))
            .ok_or("data block outside the image")?;
        if b & 0x0100_0000 != 0 {
            Ok(raw.to_vec())
        } else {
            decompress(self.codec, raw, self.s.block_size as usize)
        }
    }

    /// Puts a small file together from its decoded blocks and fragment block.
    fn assemble(
        &self,
        inode: &Inode,
        blocks: &[Result<Vec<u8>, String>],
        frag: Option<&Result<Vec<u8>, String>>,
    ) -> Decoded {
        let mut d = Decoded {
            data: Vec::new(),
            consumed: 1,
            failure: None,
        };
        let Body::File {
            start,
            size,
            frag_offset,
            blocks: sizes,
            ..
        } = &inode.body
        else {
            return d;
        };
        d.data.reserve(*size as usize);
        let mut pos = *start;
        for (block, &b) in blocks.iter().zip(sizes) {
            match block {
                Ok(piece) => d.data.extend_from_slice(piece),
                Err(e) => {
                    d.failure = Some(e.clone());
                    return d;
                }
            }
            pos = pos.saturating_add(u64::from(b & 0x00ff_ffff));
            d.consumed = pos - *start + 1;
        }
        if let Some(frag) = frag {
            d.consumed = self.image.len() as u64;
            let want = (*size).saturating_sub(d.data.len() as u64) as usize;
            match frag {
                Ok(block) => match block.get(*frag_offset as usize..*frag_offset as usize + want) {
                    Some(tail) => d.data.extend_from_slice(tail),
                    None => d.failure = Some("file tail outside its fragment".into()),
                },
                Err(e) => d.failure = Some(e.clone()),
            }
        }
        d
    }

    fn file(&self, inode: &Inode, entry: Entry, out: &mut Extractor<'_>) -> Result<(), FormatError> {
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
        let bs = self.s.block_size as usize;
        let mut sink = out.sink(entry);
        let mut pos = *start;
        let mut written = 0u64;
        let mut failure = None;
        for &b in blocks {
            if let Err(e) = out.check_time() {
                sink.finish(out, true);
                return out.settle(Err(e));
            }
            let want = (*size - written).min(bs as u64) as usize;
            let piece = match self.block(b, pos, want) {
                Ok(v) => v,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            };
            pos += u64::from(b & 0x00ff_ffff);
            let piece = &piece[..piece.len().min(want)];
            written += piece.len() as u64;
            if let Err(e) = sink.write(out, piece, pos - *start + 1) {
                sink.finish(out, true);
                return out.settle(Err(e));
            }
        }
        if failure.is_none() && *frag != NO_FRAGMENT && written < *size {
            match self.read_fragment(*frag) {
                Ok(block) => {
                    let want = (*size - written) as usize;
                    match block.get(*frag_offset as usize..*frag_offset as usize + want) {
                        Some(tail) => {
                            written += tail.len() as u64;
                            if let Err(e) = sink.write(out, tail, self.image.len() as u64) {
                                sink.finish(out, true);
                                return out.settle(Err(e));
                            }
                        }
                        None => failure = Some("file tail outside its fragment".into()),
                    }
                }
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

    fn read_fragment(&self, index: u32) -> Result<Vec<u8>, String> {
        let e = self.s.e;
        let base = index as usize * 16;
        let start = e.u64(&self.frags, base).ok_or("no such fragment")?;
        let size = e.u32(&self.frags, base + 8).ok_or("no such fragment")?;
        let on_disk = (size & 0x00ff_ffff) as usize;
        let raw = usize::try_from(start)
            .ok()
            .and_then(|p| self.image.get(p..p + on_disk))
            .ok_or("fragment outside the image")?;
        if size & 0x0100_0000 != 0 {
            Ok(raw.to_vec())
        } else {
            decompress(self.codec, raw, self.s.block_size as usize)
        }
    }
}

#[allow(dead_code)]
fn has_options(s: &Super) -> bool {
    s.flags & FLAG_COMPRESSOR_OPTIONS != 0
}
