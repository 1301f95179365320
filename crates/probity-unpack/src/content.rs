//! Content: the bytes of an artifact, memory-mapped from disk, never read whole into memory.
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

/// The bytes of an artifact.
#[derive(Debug, Clone)]
pub enum Content {
    /// A memory-mapped file.
    Mapped(Arc<Mmap>),
    /// Bytes held in memory (small unpacked members).
    Owned(Arc<[u8]>),
    /// No bytes.
    Empty,
}

impl Deref for Content {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Content::Mapped(m) => m,
            Content::Owned(b) => b,
            Content::Empty => &[],
        }
    }
}

/// Opens a regular file for reading without following a final symlink and without blocking.
pub fn open_regular(path: &Path) -> Result<File, UnpackError> {
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
    Ok(file)
}

/// Maps the regular file at `path`, refusing files larger than `max_size`.
pub fn map_file(path: &Path, max_size: u64) -> Result<Content, UnpackError> {
    let file = open_regular(path)?;
    let size = file.metadata().map_err(|e| UnpackError::io(path, e))?.len();
    if size > max_size {
        return Err(UnpackError::TooLarge {
            path: crate::error::display_path(path),
            size,
            limit: max_size,
        });
    }
    if size == 0 {
        return Ok(Content::Empty);
    }
    map_open_file(&file).map_err(|e| UnpackError::io(path, e))
}

#[allow(unsafe_code)]
fn map_open_file(file: &File) -> io::Result<Content> {
    // SAFETY: the map is read-only and private to this process. memmap2 can not make the mapping
    // safe against another process truncating the file while it is mapped (the access would
    // fault); Probity scans inputs at rest, as ripgrep does, and documents that the input must not
    // change during a scan.
    let map = unsafe { Mmap::map(file)? };
    #[cfg(unix)]
    {
        // Most scans read each file front to back once.
        let _ = map.advise(memmap2::Advice::Sequential);
    }
    Ok(Content::Mapped(Arc::new(map)))
}
