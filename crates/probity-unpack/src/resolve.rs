//! Following a locator from the root input back to bytes.
//!
//! Resolution never trusts the locator: member paths with `..` or `.` are refused, no symbolic
//! link is followed on the way, and each hop's SHA-256 (when the locator carries one) is checked
//! against the bytes actually reached, so a changed input is detected at the first hop it affects.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use probity_model::{Locator, Sha256, locator::DIR_FORMAT};

use crate::content::{Content, map_file};
use crate::error::UnpackError;
use crate::extract::Spool;
use crate::limits::Limits;
use crate::unpack::Unpacker;

/// The bytes `locator` leads to from the root input at `root` (the whole artifact; the caller
/// applies the locator's byte range). Container hops are unpacked again with `unpacker`, and each
/// hop's digest is checked against what it yields.
pub fn resolve(
    root: &Path,
    locator: &Locator,
    limits: &Limits,
    unpacker: &Unpacker,
    spool: &Spool,
) -> Result<Content, UnpackError> {
    let fail = |reason: String| UnpackError::Resolve {
        locator: locator.to_string(),
        reason,
    };
    if locator.hops.is_empty() {
        return map_file(root, limits.max_file_size);
    }
    let mut current: Option<Content> = None;
    for (i, hop) in locator.hops.iter().enumerate() {
        let content = if hop.format == DIR_FORMAT {
            if i != 0 {
                return Err(fail("a directory member can only be the first hop".into()));
            }
            let member = hop
                .member
                .as_ref()
                .ok_or_else(|| fail("directory hop without a member".into()))?;
            let path = confined_path(root, member.as_bytes()).map_err(fail)?;
            map_file(&path, limits.max_file_size)?
        } else {
            let parent = match &current {
                Some(c) => c.clone(),
                None => map_file(root, limits.max_file_size)?,
            };
            unpacker
                .extract_member(&parent, hop, limits, spool)
                .map_err(fail)?
        };
        if let Some(expected) = hop.sha256 {
            let actual = Sha256::of(&content);
            if actual != expected {
                return Err(fail(format!(
                    "hop {} yields content with SHA-256 {actual}, the locator says {expected}",
                    i + 1
                )));
            }
        }
        current = Some(content);
    }
    current.ok_or_else(|| fail("no hops".into()))
}

/// Joins a member path under `root`, refusing `.` and `..` components and any symbolic link on
/// the way (the final component is opened with `O_NOFOLLOW` by the caller).
pub fn confined_path(root: &Path, member: &[u8]) -> Result<PathBuf, String> {
    let mut path = root.to_path_buf();
    let components: Vec<&[u8]> = member.split(|&b| b == b'/').filter(|c| !c.is_empty()).collect();
    if components.is_empty() {
        return Err("empty member path".into());
    }
    for (i, comp) in components.iter().enumerate() {
        if *comp == b"." || *comp == b".." {
            return Err(format!(
                "member path `{}` leaves its container",
                probity_model::text::escape(member)
            ));
        }
        path.push(std::ffi::OsStr::from_bytes(comp));
        if i + 1 < components.len() {
            let meta = fs::symlink_metadata(&path)
                .map_err(|e| format!("`{}`: {e}", crate::error::display_path(&path)))?;
            if !meta.is_dir() {
                return Err(format!(
                    "`{}` is not a directory (symbolic links are not followed)",
                    crate::error::display_path(&path)
                ));
            }
        }
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_escapes() {
        let root = Path::new("/nonexistent-root");
        assert!(confined_path(root, b"/../etc/passwd").is_err());
        assert!(confined_path(root, b"/a/./b").is_err());
        assert!(confined_path(root, b"///").is_err());
        assert_eq!(
            confined_path(root, b"/x").unwrap(),
            Path::new("/nonexistent-root/x")
        );
    }

    #[test]
    fn refuses_symlinked_directories() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("real")).unwrap();
        fs::write(dir.path().join("real/f"), b"x").unwrap();
        std::os::unix::fs::symlink("real", dir.path().join("link")).unwrap();
        assert!(confined_path(dir.path(), b"/real/f").is_ok());
        let err = confined_path(dir.path(), b"/link/f").unwrap_err();
        assert!(err.contains("symbolic links are not followed"), "{err}");
    }
}
