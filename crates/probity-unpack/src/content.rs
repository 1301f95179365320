//! Content: the bytes of an artifact. Large files are memory-mapped, never read whole into
//! memory; small files (at most [`READ_THRESHOLD`] bytes) are read with one `read` into a buffer of
//! their size, because mapping and unmapping thousands of small files from several threads costs
//! more (page-table work and TLB shootdowns, measured at about 25 µs per file on 2 cores, see
//! docs/benchmarks.md) than copying them. Memory stays bounded either way: at most one small-file
//! buffer per worker thread is alive at a time.
//!
//! Files are opened with `O_NOFOLLOW | O_NONBLOCK` and checked with `fstat` after opening, so a
//! path swapped for a symlink or a FIFO between the walk and the read is refused instead of being
//! followed or blocking the scan.

use std::fs::{File, OpenOptions};
use std::io;
use std::ops::Deref;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;

use crate::error::UnpackError;

/// The bytes of an artifact: a view into a memory map or an in-memory buffer. Cloning and
/// slicing are cheap (the backing store is shared).
#[derive(Debug, Clone)]
pub struct Content {
    backing: Backing,
    start: usize,
    len: usize,
}

#[derive(Debug, Clone)]
enum Backing {
    Mapped(Arc<Mmap>),
    Owned(Arc<Vec<u8>>),
    Empty,
}

impl Content {
    /// No bytes.
    pub fn empty() -> Content {
        Content {
            backing: Backing::Empty,
            start: 0,
            len: 0,
        }
    }

    /// Bytes held in memory.
    pub fn owned(bytes: Arc<Vec<u8>>) -> Content {
        let len = bytes.len();
        Content {
            backing: Backing::Owned(bytes),
            start: 0,
            len,
        }
    }

    fn mapped(map: Mmap) -> Content {
        let len = map.len();
        Content {
            backing: Backing::Mapped(Arc::new(map)),
            start: 0,
            len,
        }
    }

    /// The sub-range `[offset, offset + length)`, or `None` when it lies outside.
    pub fn slice(&self, offset: u64, length: u64) -> Option<Content> {
        let off = usize::try_from(offset).ok()?;
        let len = usize::try_from(length).ok()?;
        if off.checked_add(len)? > self.len {
            return None;
        }
        Some(Content {
            backing: self.backing.clone(),
            start: self.start + off,
            len,
        })
    }

    /// Whether the bytes are memory-mapped from a file.
    pub fn is_mapped(&self) -> bool {
        matches!(self.backing, Backing::Mapped(_))
    }
}

impl Deref for Content {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        let all: &[u8] = match &self.backing {
            Backing::Mapped(m) => m,
            Backing::Owned(b) => b.as_slice(),
            Backing::Empty => &[],
        };
        // `start..start + len` was checked against the backing store when the view was made.
        all.get(self.start..self.start + self.len).unwrap_or_default()
    }
}

/// Opens a regular file for reading without following a final symlink and without blocking;
/// returns it with its size.
pub fn open_regular(path: &Path) -> Result<(File, u64), UnpackError> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| UnpackError::io(path, e))?;
    let meta = file.metadata().map_err(|e| UnpackError::io(path, e))?;
    if !meta.is_file() {
        return Err(UnpackError::Io {
            path: crate::error::display_path(path),
            source: io::Error::other("not a regular file"),
        });
    }
    Ok((file, meta.len()))
}

/// Files up to this size are read into memory; larger ones are memory-mapped.
pub const READ_THRESHOLD: u64 = 256 << 10;

/// The content of the regular file at `path`, refusing files larger than `max_size`.
pub fn map_file(path: &Path, max_size: u64) -> Result<Content, UnpackError> {
    let (mut file, size) = open_regular(path)?;
    if size > max_size {
        return Err(UnpackError::TooLarge {
            path: crate::error::display_path(path),
            size,
            limit: max_size,
        });
    }
    if size == 0 {
        return Ok(Content::empty());
    }
    if size <= READ_THRESHOLD {
        return read_small(&mut file, size).map_err(|e| UnpackError::io(path, e));
    }
    map_open_file(&file).map_err(|e| UnpackError::io(path, e))
}

/// Reads a small file whole. The buffer is sized from `fstat` and never grows past it: a file
/// that grows while it is read is cut at the size it had when opened.
fn read_small(file: &mut File, size: u64) -> io::Result<Content> {
    use std::io::Read;
    let mut buf = Vec::with_capacity(usize::try_from(size).map_err(io::Error::other)?);
    file.take(size).read_to_end(&mut buf)?;
    Ok(if buf.is_empty() {
        Content::empty()
    } else {
        Content::owned(Arc::new(buf))
    })
}

#[allow(unsafe_code)]
fn map_open_file(file: &File) -> io::Result<Content> {
    // SAFETY: the map is read-only and private to this process. memmap2 can not make the mapping
    // safe against another process truncating the file while it is mapped (the access would
    // fault); Probity scans inputs at rest, as ripgrep does, and documents that the input must not
    // change during a scan.
    // Every page is read, so the pages are mapped in one call (`MAP_POPULATE`) rather than one
    // page fault at a time.
    let map = unsafe { memmap2::MmapOptions::new().populate().map(file)? };
    Ok(Content::mapped(map))
}
