//! Writing an unpacked tree to disk (`probity unpack -o DIR`), confined to `DIR`.
//!
//! Every on-disk path is built by Probity from escaped name components, never taken from the
//! input: `..`, `.`, absolute paths, control characters and bytes that are not UTF-8 become `%XX`
//! escapes, so nothing can land outside `DIR`. Regular files are written with permissions 0644 (or
//! 0755 when the member was executable) and never with setuid/setgid bits; device nodes, FIFOs
//! and sockets are recorded in the manifest only; symbolic links are created last, and only when
//! their target stays inside the container they belong to (a link can then never be written
//! through, and never points outside `DIR`). The original modes, owners and link targets are in
//! the manifest.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

use probity_model::{ArtifactId, ArtifactKind, Sha256, locator::DIR_FORMAT};
use rayon::prelude::*;

use crate::progress::Progress;
use crate::tree::Tree;

/// Where each artifact was written, relative to the output directory.
pub type Placement = HashMap<ArtifactId, PathBuf>;

/// Escapes one path component for the host file system.
pub fn escape_component(name: &[u8]) -> String {
    let mut out = String::new();
    for chunk in name.utf8_chunks() {
        for c in chunk.valid().chars() {
            // Printable characters stay; controls, invisible formatting characters (bidirectional
            // overrides), the path separators and `%` itself are escaped, so the escaping can be
            // read back and a name is always exactly one component.
            let keep = !c.is_control() && !invisible(c) && !matches!(c, '/' | '\\' | '%');
            if keep {
                out.push(c);
            } else {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    match out.as_str() {
        "" => "%00".into(),
        "." => "%2E".into(),
        ".." => "%2E%2E".into(),
        _ if out.len() > 200 => {
            // Keep names within file-system limits; the digest keeps distinct names distinct.
            let mut cut = 180;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            format!("{}~{}", &out[..cut], Sha256::of(name).short(12))
        }
        _ => out,
    }
}

fn invisible(c: char) -> bool {
    matches!(u32::from(c), 0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x2069 | 0xfeff)
}

/// The relative path of a member path, component by component.
fn member_path(member: &[u8]) -> PathBuf {
    let mut p = PathBuf::new();
    for comp in member.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
        p.push(escape_component(comp));
    }
    if p.as_os_str().is_empty() {
        p.push("%00");
    }
    p
}

/// Writes every unpacked artifact of `tree` under `dir` and returns where each went.
pub fn write_tree(tree: &Tree, dir: &Path, progress: &dyn Progress) -> io::Result<(Placement, Vec<String>)> {
    let mut placed: Placement = HashMap::new();
    let mut used: HashSet<PathBuf> = HashSet::new();
    let mut problems = Vec::new();
    let mut links = Vec::new();
    let mut files = Vec::new();
    let root_name = escape_component(tree.input().name.as_bytes());
    let total: u64 = tree
        .artifacts()
        .iter()
        .filter(|a| a.kind == ArtifactKind::File)
        .map(|a| a.size)
        .sum();
    progress.phase("writing", Some(total));
    for a in tree.artifacts() {
        let (Some(parent), Some(hop)) = (a.parent, a.hop.as_ref()) else {
            continue;
        };
        // Members of an input directory are the input itself: not copied.
        if hop.format == DIR_FORMAT {
            continue;
        }
        let base = children_dir(tree, parent, &placed, &root_name);
        let container = base.join(format!("{:x}-{}", hop.offset.unwrap_or(0), hop.format));
        let mut rel = match &hop.member {
            Some(m) => container.join(member_path(m.as_bytes())),
            None => container,
        };
        // Two members may escape to the same name (or repeat in an archive): keep both.
        if a.kind != ArtifactKind::Directory {
            let mut n = 1;
            let original = rel.clone();
            while used.contains(&rel) {
                rel = original.with_file_name(format!(
                    "{}~{n}",
                    original
                        .file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or_default()
                ));
                n += 1;
            }
        }
        debug_assert!(rel.components().all(|c| matches!(c, Component::Normal(_))));
        let target = dir.join(&rel);
        let result = match a.kind {
            ArtifactKind::Directory => fs::create_dir_all(&target),
            ArtifactKind::File => {
                // Written below, in parallel; placed now so that its members go beside it.
                files.push((a.id, rel.clone(), a.mode, a.size));
                Ok(())
            }
            ArtifactKind::Symlink => {
                if let Some(t) = &a.link_target {
                    links.push((
                        rel.clone(),
                        container_root(&rel, &hop.format, hop.offset),
                        t.as_bytes().to_vec(),
                    ));
                }
                continue;
            }
            _ => continue,
        };
        match result {
            Ok(()) => {
                used.insert(rel.clone());
                placed.insert(a.id, rel);
            }
            Err(e) => problems.push(format!("{}: not written: {e}", rel.display())),
        }
    }
    let failed: Vec<(ArtifactId, String)> = files
        .par_iter()
        .filter_map(|(id, rel, mode, size)| {
            let written = tree
                .open(*id)
                .map_err(|e| e.to_string())
                .and_then(|content| write_file(&dir.join(rel), &content, *mode).map_err(|e| e.to_string()));
            progress.advance(*size);
            written
                .err()
                .map(|e| (*id, format!("{}: not written: {e}", rel.display())))
        })
        .collect();
    for (id, problem) in failed {
        if let Some(rel) = placed.remove(&id) {
            used.remove(&rel);
        }
        problems.push(problem);
    }
    for (rel, root, target) in links {
        match link_target(&rel, &root, &target) {
            Some(relative) => {
                let at = dir.join(&rel);
                if let Some(parent) = at.parent() {
                    let _ = fs::create_dir_all(parent);
                }
                match std::os::unix::fs::symlink(&relative, &at) {
                    Ok(()) => {
                        used.insert(rel.clone());
                    }
                    Err(e) => problems.push(format!("{}: link not created: {e}", rel.display())),
                }
            }
            None => problems.push(format!(
                "{}: link to `{}` leaves its container; recorded in the manifest, not created",
                rel.display(),
                probity_model::text::escape(&target)
            )),
        }
    }
    Ok((placed, problems))
}

/// The directory that holds the members of `parent`.
fn children_dir(tree: &Tree, parent: ArtifactId, placed: &Placement, root_name: &str) -> PathBuf {
    if parent == ArtifactId::ROOT {
        return PathBuf::from(format!("{root_name}.extracted"));
    }
    match placed.get(&parent) {
        Some(p) => {
            let mut s = p.clone().into_os_string();
            s.push(".extracted");
            PathBuf::from(s)
        }
        None => {
            // A member of an input directory: its own path under the root's directory.
            let member = tree
                .artifact(parent)
                .and_then(|a| a.member())
                .map(|m| m.as_bytes().to_vec())
                .unwrap_or_default();
            let mut p = PathBuf::from(format!("{root_name}.extracted"))
                .join(member_path(&member))
                .into_os_string();
            p.push(".extracted");
            PathBuf::from(p)
        }
    }
}

/// The directory a container's members live in, given one member's path.
fn container_root(rel: &Path, format: &str, offset: Option<u64>) -> PathBuf {
    let name = format!("{:x}-{format}", offset.unwrap_or(0));
    let mut root = PathBuf::new();
    for c in rel.components() {
        root.push(c);
        if c.as_os_str() == name.as_str() {
            return root;
        }
    }
    rel.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// A relative symlink target for a link at `rel` pointing to `target` inside the container whose
/// members are under `root`; `None` when the target would leave it.
fn link_target(rel: &Path, root: &Path, target: &[u8]) -> Option<PathBuf> {
    let link_dir = rel.parent()?;
    // Resolve lexically: absolute targets are relative to the container's root.
    let mut resolved: Vec<String> = if target.first() == Some(&b'/') {
        root.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect()
    } else {
        link_dir
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect()
    };
    let floor = root.components().count();
    for comp in target.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
        match comp {
            b"." => {}
            b".." => {
                if resolved.len() <= floor {
                    return None;
                }
                resolved.pop();
            }
            c => resolved.push(escape_component(c)),
        }
    }
    let from: Vec<String> = link_dir
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let common = from.iter().zip(&resolved).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &resolved[common..] {
        out.push(c);
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    Some(out)
}

fn write_file(path: &Path, data: &[u8], mode: Option<u32>) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let exec = mode.is_some_and(|m| m & 0o111 != 0);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(if exec { 0o755 } else { 0o644 })
        .open(path)?;
    f.write_all(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_escaped() {
        assert_eq!(escape_component(b"busybox"), "busybox");
        assert_eq!(escape_component(b".."), "%2E%2E");
        assert_eq!(escape_component(b"."), "%2E");
        assert_eq!(escape_component(b""), "%00");
        assert_eq!(escape_component(b"a b\x1b\xff%"), "a b%1B%FF%25");
        assert_eq!(escape_component("x\u{202e}y".as_bytes()), "x%E2%80%AEy");
        assert_eq!(escape_component("é".as_bytes()), "é");
        assert_eq!(escape_component(b"back\\slash"), "back%5Cslash");
        let long = escape_component(&[b'a'; 300]);
        assert!(long.len() < 200 && long.starts_with("aaaa"));
    }

    #[test]
    fn member_paths_never_climb() {
        assert_eq!(
            member_path(b"/../../etc/passwd"),
            PathBuf::from("%2E%2E/%2E%2E/etc/passwd")
        );
        assert_eq!(member_path(b"//a///b"), PathBuf::from("a/b"));
        assert_eq!(member_path(b"/"), PathBuf::from("%00"));
    }

    #[test]
    fn links_stay_inside_their_container() {
        let root = Path::new("fw.extracted/0-squashfs");
        let link = Path::new("fw.extracted/0-squashfs/bin/sh");
        assert_eq!(
            link_target(link, root, b"busybox"),
            Some(PathBuf::from("busybox"))
        );
        assert_eq!(
            link_target(link, root, b"/bin/busybox"),
            Some(PathBuf::from("busybox"))
        );
        assert_eq!(
            link_target(link, root, b"../sbin/init"),
            Some(PathBuf::from("../sbin/init"))
        );
        assert_eq!(
            link_target(link, root, b"/etc/../usr/x"),
            Some(PathBuf::from("../usr/x"))
        );
        assert_eq!(link_target(link, root, b"../../../etc/passwd"), None);
        assert_eq!(link_target(link, root, b"/../etc/passwd"), None);
    }
}
