//! Root file systems inside the artifact tree, and path lookup inside one of them.
//!
//! A firmware image can hold several root file systems (a main and a recovery one, or one per
//! partition). Members of a container are the container's children, with paths that start with
//! `/`; a container is a root file system when one of its members is under `/etc`. Lookups resolve
//! symbolic links (absolute targets against the same root, relative ones against the link's
//! directory), never on the host.

use std::collections::BTreeMap;

use probity_model::{ArtifactId, ArtifactKind};
use probity_unpack::Tree;

/// Largest file read as a script or configuration.
pub const MAX_TEXT: u64 = 1 << 20;

/// Most symbolic links followed in one lookup.
const MAX_LINKS: usize = 32;

/// One root file system.
#[derive(Debug)]
pub struct Root<'t> {
    /// The tree.
    pub tree: &'t Tree,
    /// The container (or the scanned directory).
    pub container: ArtifactId,
    /// Member path → artifact.
    pub members: BTreeMap<Vec<u8>, ArtifactId>,
}

/// Most root file systems looked for inside one container (a directory scan of an extraction
/// folder holds one per unpacked image).
pub const MAX_ROOTS_PER_CONTAINER: usize = 64;

/// Every root file system of the tree, ordered by container id and then by the directory it sits
/// in. A container's members at `/etc/…` make the container a root; members at `/X/etc/…` make
/// `/X` one too (a directory scan of an extraction folder holding `squashfs-root/`).
pub fn roots(tree: &Tree) -> Vec<Root<'_>> {
    let mut groups: BTreeMap<ArtifactId, BTreeMap<Vec<u8>, ArtifactId>> = BTreeMap::new();
    for a in tree.artifacts() {
        let (Some(parent), Some(member)) = (a.parent, a.member()) else {
            continue;
        };
        groups
            .entry(parent)
            .or_default()
            .entry(normalize(member.as_bytes()))
            .or_insert(a.id);
    }
    let mut out = Vec::new();
    for (container, members) in groups {
        let mut prefixes: std::collections::BTreeSet<Vec<u8>> = std::collections::BTreeSet::new();
        for p in members.keys() {
            if let Some(i) = p.windows(5).position(|w| w == b"/etc/") {
                if prefixes.len() >= MAX_ROOTS_PER_CONTAINER {
                    break;
                }
                prefixes.insert(p.get(..i).unwrap_or_default().to_vec());
            }
        }
        for prefix in prefixes {
            let rebased: BTreeMap<Vec<u8>, ArtifactId> = if prefix.is_empty() {
                members.clone()
            } else {
                let mut start = prefix.clone();
                start.push(b'/');
                members
                    .range(start.clone()..)
                    .take_while(|(p, _)| p.starts_with(&start))
                    .map(|(p, &id)| (p.get(prefix.len()..).unwrap_or_default().to_vec(), id))
                    .collect()
            };
            out.push(Root {
                tree,
                container,
                members: rebased,
            });
        }
    }
    out
}

/// `path` as an absolute path without `.`, `..` or repeated slashes.
pub fn normalize(path: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for c in path.split(|&c| c == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut out = Vec::with_capacity(path.len() + 1);
    for p in parts {
        out.push(b'/');
        out.extend_from_slice(p);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

fn dirname(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&c| c == b'/') {
        Some(0) | None => b"/",
        Some(p) => path.get(..p).unwrap_or(b"/"),
    }
}

fn join(dir: &[u8], target: &[u8]) -> Vec<u8> {
    if target.starts_with(b"/") {
        normalize(target)
    } else {
        let mut p = dir.to_vec();
        p.push(b'/');
        p.extend_from_slice(target);
        normalize(&p)
    }
}

/// Directories searched for a command given without a path.
pub const PATH: &[&[u8]] = &[
    b"/bin",
    b"/sbin",
    b"/usr/bin",
    b"/usr/sbin",
    b"/usr/local/bin",
    b"/usr/local/sbin",
];

impl Root<'_> {
    /// The regular file at `path` (symbolic links resolved), with its resolved path.
    pub fn lookup(&self, path: &[u8]) -> Option<(ArtifactId, Vec<u8>)> {
        let mut p = normalize(path);
        for _ in 0..MAX_LINKS {
            if let Some(&id) = self.members.get(&p) {
                let a = self.tree.artifact(id)?;
                match a.kind {
                    ArtifactKind::File => return Some((id, p)),
                    ArtifactKind::Symlink | ArtifactKind::Hardlink => {
                        let target = a.link_target.as_ref()?.as_bytes();
                        p = if a.kind == ArtifactKind::Hardlink {
                            normalize(target)
                        } else {
                            join(dirname(&p), target)
                        };
                        continue;
                    }
                    _ => return None,
                }
            }
            // A symbolic link on the way: rewrite the longest linked prefix.
            let mut rewritten = None;
            let mut end = p.len();
            while let Some(slash) = p.get(..end).and_then(|s| s.iter().rposition(|&c| c == b'/')) {
                if slash == 0 {
                    break;
                }
                let prefix = p.get(..slash).unwrap_or_default();
                if let Some(a) = self.members.get(prefix).and_then(|&id| self.tree.artifact(id))
                    && a.kind == ArtifactKind::Symlink
                    && let Some(t) = &a.link_target
                {
                    let mut np = join(dirname(prefix), t.as_bytes());
                    np.extend_from_slice(p.get(slash..).unwrap_or_default());
                    rewritten = Some(normalize(&np));
                    break;
                }
                end = slash;
            }
            p = rewritten?;
        }
        None
    }

    /// A command as a script names it: a path, or a name looked up in [`PATH`].
    pub fn command(&self, word: &[u8]) -> Option<(ArtifactId, Vec<u8>)> {
        if word.is_empty() || word.contains(&b'$') {
            return None;
        }
        if word.contains(&b'/') {
            return self.lookup(word);
        }
        PATH.iter().find_map(|dir| {
            let mut p = dir.to_vec();
            p.push(b'/');
            p.extend_from_slice(word);
            self.lookup(&p)
        })
    }

    /// The content of a file (at most [`MAX_TEXT`] bytes).
    pub fn read(&self, id: ArtifactId) -> Option<Vec<u8>> {
        let a = self.tree.artifact(id)?;
        if a.size > MAX_TEXT {
            return None;
        }
        self.tree.open(id).ok().map(|c| c.to_vec())
    }

    /// The first bytes of a file (at most `n`), without copying the rest.
    pub fn head(&self, id: ArtifactId, n: usize) -> Option<Vec<u8>> {
        let c = self.tree.open(id).ok()?;
        Some(c.get(..n.min(c.len())).unwrap_or_default().to_vec())
    }

    /// Member paths under `dir` (at any depth), sorted.
    pub fn under(&self, dir: &[u8]) -> Vec<Vec<u8>> {
        let mut prefix = normalize(dir);
        prefix.push(b'/');
        self.members
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// Member paths directly in `dir`, sorted.
    pub fn children(&self, dir: &[u8]) -> Vec<Vec<u8>> {
        let depth = normalize(dir).iter().filter(|&&c| c == b'/').count() + usize::from(dir != b"/");
        self.under(dir)
            .into_iter()
            .filter(|p| p.iter().filter(|&&c| c == b'/').count() == depth)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(normalize(b"etc//init.d/../rc.d/./S10x"), b"/etc/rc.d/S10x");
        assert_eq!(normalize(b"/../.."), b"/");
        assert_eq!(join(b"/etc/rc.d", b"../init.d/x"), b"/etc/init.d/x");
        assert_eq!(join(b"/usr/bin", b"/bin/busybox"), b"/bin/busybox");
        assert_eq!(dirname(b"/sbin"), b"/");
    }
}
