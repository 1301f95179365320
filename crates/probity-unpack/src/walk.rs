//! Walking a directory tree (an already-unpacked root file system) without following anything.
//!
//! Symbolic links are recorded with their target and never followed, so a link can not lead the
//! walk out of the root or into a loop. FIFOs, sockets and device nodes are recorded and never
//! opened. Names are kept as raw bytes. Directories are entered once per (device, inode), which
//! also stops bind-mount loops, and no deeper than the depth limit.

use std::collections::HashSet;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use probity_model::{ArtifactKind, Problem, Stage};

use crate::error::{UnpackError, display_path};
use crate::limits::Limits;

/// One object found in the tree.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its path relative to the root, starting with `/`, as raw bytes.
    pub path: Vec<u8>,
    /// Its path on the host.
    pub host_path: PathBuf,
    /// What it is.
    pub kind: ArtifactKind,
    /// Size in bytes (regular files).
    pub size: u64,
    /// Size actually allocated on disk, in bytes (a sparse file's is far below its size).
    pub allocated: u64,
    /// `st_mode`.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Target of a symbolic link.
    pub link_target: Option<Vec<u8>>,
    /// Device numbers of a device node.
    pub device: Option<(u32, u32)>,
}

/// What a walk found.
#[derive(Debug, Default)]
pub struct WalkOutcome {
    /// Everything found, in depth-first order with siblings sorted by name bytes.
    pub entries: Vec<Entry>,
    /// What could not be walked.
    pub problems: Vec<Problem>,
}

/// Walks the directory `root`. Fails only when `root` itself can not be listed.
pub fn walk(root: &Path, limits: &Limits) -> Result<WalkOutcome, UnpackError> {
    let mut out = WalkOutcome::default();
    let root_meta = fs::metadata(root).map_err(|e| UnpackError::io(root, e))?;
    let mut seen_dirs = HashSet::new();
    seen_dirs.insert((root_meta.dev(), root_meta.ino()));
    let first = list(root).map_err(|e| UnpackError::io(root, e))?;
    // Each stack item is a directory's remaining children, in reverse order so `pop` yields them
    // sorted, with the directory's relative path and depth.
    let mut stack: Vec<(Vec<u8>, u32, Vec<PathBuf>)> = vec![(Vec::new(), 1, reversed(first))];
    while let Some((prefix, depth, children)) = stack.last_mut() {
        let Some(host_path) = children.pop() else {
            stack.pop();
            continue;
        };
        let (prefix, depth) = (prefix.clone(), *depth);
        if out.entries.len() as u64 >= limits.max_artifacts {
            out.problems.push(problem(format!(
                "stopped after {} entries (limit --max-artifacts); the rest of the tree was not walked",
                limits.max_artifacts
            )));
            break;
        }
        let mut path = prefix;
        path.push(b'/');
        path.extend_from_slice(host_path.file_name().map(|n| n.as_bytes()).unwrap_or_default());
        let meta = match fs::symlink_metadata(&host_path) {
            Ok(m) => m,
            Err(e) => {
                out.problems.push(problem(format!(
                    "can not stat `{}`: {e}",
                    display_path(&host_path)
                )));
                continue;
            }
        };
        let ft = meta.file_type();
        let kind = if ft.is_file() {
            ArtifactKind::File
        } else if ft.is_dir() {
            ArtifactKind::Directory
        } else if ft.is_symlink() {
            ArtifactKind::Symlink
        } else if ft.is_fifo() {
            ArtifactKind::Fifo
        } else if ft.is_char_device() {
            ArtifactKind::CharDevice
        } else if ft.is_block_device() {
            ArtifactKind::BlockDevice
        } else {
            ArtifactKind::Socket
        };
        let link_target = if kind == ArtifactKind::Symlink {
            match fs::read_link(&host_path) {
                Ok(t) => Some(t.as_os_str().as_bytes().to_vec()),
                Err(e) => {
                    out.problems.push(problem(format!(
                        "can not read link `{}`: {e}",
                        display_path(&host_path)
                    )));
                    None
                }
            }
        } else {
            None
        };
        let device = matches!(kind, ArtifactKind::CharDevice | ArtifactKind::BlockDevice)
            .then(|| split_dev(meta.rdev()));
        out.entries.push(Entry {
            path: path.clone(),
            host_path: host_path.clone(),
            kind,
            size: if kind == ArtifactKind::File { meta.len() } else { 0 },
            allocated: meta.blocks().saturating_mul(512),
            mode: meta.mode(),
            uid: meta.uid(),
            gid: meta.gid(),
            link_target,
            device,
        });
        if kind != ArtifactKind::Directory {
            continue;
        }
        if depth >= limits.max_dir_depth {
            out.problems.push(problem(format!(
                "`{}` is nested deeper than {} levels (limit --max-dir-depth); not entered",
                probity_model::text::escape(&path),
                limits.max_dir_depth
            )));
            continue;
        }
        if !seen_dirs.insert((meta.dev(), meta.ino())) {
            out.problems.push(problem(format!(
                "`{}` is a directory already walked (bind mount loop); not entered again",
                probity_model::text::escape(&path)
            )));
            continue;
        }
        match list(&host_path) {
            Ok(children) => stack.push((path, depth + 1, reversed(children))),
            Err(e) => out.problems.push(problem(format!(
                "can not list `{}`: {e}",
                display_path(&host_path)
            ))),
        }
    }
    Ok(out)
}

fn problem(message: String) -> Problem {
    Problem {
        artifact: None,
        stage: Stage::Walk,
        source: "walk".into(),
        message,
    }
}

fn list(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut children = Vec::new();
    for entry in fs::read_dir(dir)? {
        children.push(entry?.path());
    }
    children.sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
    Ok(children)
}

fn reversed(mut v: Vec<PathBuf>) -> Vec<PathBuf> {
    v.reverse();
    v
}

/// Splits a Linux `dev_t` into (major, minor).
fn split_dev(dev: u64) -> (u32, u32) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    (
        u32::try_from(major).unwrap_or(u32::MAX),
        u32::try_from(minor).unwrap_or(u32::MAX),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_numbers_split_like_glibc() {
        // makedev(1, 3) = /dev/null; makedev(259, 70000) uses the extended fields.
        assert_eq!(split_dev(0x0103), (1, 3));
        let dev: u64 = ((259 & 0xfff) << 8) | ((70000 & 0xff) as u64) | (((70000u64) & !0xff) << 12);
        assert_eq!(split_dev(dev), (259, 70000));
    }
}
