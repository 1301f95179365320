//! The artifact tree of one input, and access to the content of each artifact.
//!
//! [`load`] turns an input path (a file, or a directory holding an unpacked root file system) into
//! a [`Tree`]: the root artifact, every member, the SHA-256 of every regular file (hashed in
//! parallel, memory-mapped), duplicates marked, and the problems met on the way.

use std::collections::HashMap;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use probity_model::{
    Artifact, ArtifactId, ArtifactKind, ByteString, ContainerCoverage, ContentStatus, Hop, InputInfo,
    InputKind, Locator, Problem, Sha256, Sha256Hasher, Stage,
};
use rayon::prelude::*;

use crate::content::{Content, map_file};
use crate::error::{UnpackError, display_path};
use crate::limits::Limits;
use crate::progress::Progress;
use crate::walk::{Entry, walk};

/// Where an artifact's bytes live.
#[derive(Debug, Clone)]
pub enum Source {
    /// A file of the input on the host (read under `--max-file-size`).
    File(PathBuf),
    /// A spool file written while unpacking (its size is bounded by the unpacking budget).
    Spool(PathBuf),
    /// Bytes in memory.
    Memory(Arc<Vec<u8>>),
    /// A range of another artifact's content.
    Slice {
        /// The artifact whose content it is part of.
        of: ArtifactId,
        /// Offset in that content.
        offset: u64,
        /// Length.
        length: u64,
    },
}

/// The artifact tree of one input.
#[derive(Debug)]
pub struct Tree {
    input: InputInfo,
    artifacts: Vec<Artifact>,
    sources: Vec<Option<Source>>,
    problems: Vec<Problem>,
    containers: Vec<ContainerCoverage>,
    limits: Limits,
}

/// A tree taken apart (see [`Tree::into_parts`]).
#[derive(Debug)]
pub struct TreeParts {
    /// The input's identity.
    pub input: InputInfo,
    /// Every artifact.
    pub artifacts: Vec<Artifact>,
    /// Problems met while loading and unpacking.
    pub problems: Vec<Problem>,
    /// Byte-level coverage of each container.
    pub containers: Vec<ContainerCoverage>,
}

impl Tree {
    /// The input's identity.
    pub fn input(&self) -> &InputInfo {
        &self.input
    }

    /// Every artifact, the root first.
    pub fn artifacts(&self) -> &[Artifact] {
        &self.artifacts
    }

    /// Takes the tree apart.
    pub fn into_parts(self) -> TreeParts {
        TreeParts {
            input: self.input,
            artifacts: self.artifacts,
            problems: self.problems,
            containers: self.containers,
        }
    }

    /// Byte-level coverage of the containers unpacked so far.
    pub fn containers(&self) -> &[ContainerCoverage] {
        &self.containers
    }

    /// Records the coverage of a container.
    pub fn add_container(&mut self, c: ContainerCoverage) {
        self.containers.push(c);
    }

    /// The artifact `id`.
    pub fn artifact(&self, id: ArtifactId) -> Option<&Artifact> {
        self.artifacts.get(id.index())
    }

    /// Problems met while loading.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// The limits the tree was loaded with.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The locator of artifact `id`.
    pub fn locator(&self, id: ArtifactId) -> Locator {
        probity_model::report::locator_of(&self.input.name, &self.artifacts, id)
            .unwrap_or_else(|| Locator::root(self.input.name.clone()))
    }

    /// The bytes of artifact `id`.
    pub fn open(&self, id: ArtifactId) -> Result<Content, UnpackError> {
        self.open_at(id, 0)
    }

    fn open_at(&self, id: ArtifactId, depth: u32) -> Result<Content, UnpackError> {
        let fail = |reason: &str| UnpackError::Resolve {
            locator: self.locator(id).to_string(),
            reason: reason.into(),
        };
        match self.sources.get(id.index()).and_then(Option::as_ref) {
            Some(Source::File(path)) => map_file(path, self.limits.max_file_size),
            Some(Source::Spool(path)) => map_file(path, u64::MAX),
            Some(Source::Memory(bytes)) => Ok(Content::owned(bytes.clone())),
            // Slices refer to an earlier artifact; the chain is as long as the nesting at most.
            Some(Source::Slice { of, offset, length }) if depth < 64 && *of != id => self
                .open_at(*of, depth + 1)?
                .slice(*offset, *length)
                .ok_or_else(|| fail("the range lies outside its parent")),
            _ => Err(fail("the artifact has no readable content")),
        }
    }

    /// For each container, the byte ranges explained by a structure that was completely
    /// unpacked: what those bytes hold is analysed in the members unpacked from them, so
    /// byte-level evidence there is reported on the members rather than again on the container.
    /// Ranges of structures unpacked only in part (or only recognised) are not listed: their raw
    /// bytes are still analysed.
    pub fn covered_ranges(&self) -> HashMap<ArtifactId, Vec<(u64, u64)>> {
        let mut out: HashMap<ArtifactId, Vec<(u64, u64)>> = HashMap::new();
        for c in &self.containers {
            for s in c
                .structures
                .iter()
                .filter(|s| s.status == probity_model::StructureStatus::Unpacked)
            {
                out.entry(c.artifact)
                    .or_default()
                    .push((s.offset, s.offset.saturating_add(s.length)));
            }
        }
        out
    }

    /// Adds an artifact (its id must be the next free one) with where its bytes live.
    pub fn push(&mut self, artifact: Artifact, source: Option<Source>) -> ArtifactId {
        let id = artifact.id;
        self.artifacts.push(artifact);
        self.sources.push(source);
        id
    }

    /// The id the next artifact gets.
    pub fn next_id(&self) -> ArtifactId {
        ArtifactId(u32::try_from(self.artifacts.len()).unwrap_or(u32::MAX))
    }

    /// Records a problem.
    pub fn add_problem(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    /// Mutable access to an artifact (to record what unpacking found).
    pub fn artifact_mut(&mut self, id: ArtifactId) -> Option<&mut Artifact> {
        self.artifacts.get_mut(id.index())
    }

    /// Distinct contents to analyse: each content digest with every artifact that has it, in
    /// order of first occurrence. Artifacts whose content was not read are left out.
    pub fn unique_contents(&self) -> Vec<(Sha256, Vec<ArtifactId>)> {
        let mut order: Vec<(Sha256, Vec<ArtifactId>)> = Vec::new();
        let mut index: HashMap<Sha256, usize> = HashMap::new();
        for a in &self.artifacts {
            let (Some(sha), true) = (a.sha256, a.kind.has_content()) else {
                continue;
            };
            if matches!(a.content, ContentStatus::NotRead { .. }) {
                continue;
            }
            let slot = *index.entry(sha).or_insert_with(|| {
                order.push((sha, Vec::new()));
                order.len() - 1
            });
            if let Some(entry) = order.get_mut(slot) {
                entry.1.push(a.id);
            }
        }
        order
    }

    /// The artifact whose member path in the root directory is `path`, if any.
    pub fn find_member(&self, path: &[u8]) -> Option<ArtifactId> {
        self.artifacts
            .iter()
            .find(|a| a.parent == Some(ArtifactId::ROOT) && a.member().is_some_and(|m| m.as_bytes() == path))
            .map(|a| a.id)
    }
}

/// The name an input is reported under: its last path component.
pub fn input_name(path: &Path) -> ByteString {
    let name = path
        .file_name()
        .map(|n| n.as_bytes().to_vec())
        .or_else(|| {
            fs::canonicalize(path)
                .ok()?
                .file_name()
                .map(|n| n.as_bytes().to_vec())
        })
        .unwrap_or_else(|| b"input".to_vec());
    ByteString(name)
}

/// Loads the input at `path`: a regular file or a directory tree.
pub fn load(path: &Path, limits: &Limits, progress: &dyn Progress) -> Result<Tree, UnpackError> {
    let meta = fs::metadata(path).map_err(|e| UnpackError::io(path, e))?;
    let name = input_name(path);
    let ft = meta.file_type();
    if ft.is_dir() {
        load_dir(path, name, limits, progress)
    } else if ft.is_file() {
        load_file(path, name, meta.len(), limits, progress)
    } else {
        let kind = if ft.is_fifo() {
            "FIFO"
        } else if ft.is_socket() {
            "socket"
        } else if ft.is_char_device() {
            "character device"
        } else {
            "block device"
        };
        Err(UnpackError::Special {
            path: display_path(path),
            kind,
        })
    }
}

fn load_file(
    path: &Path,
    name: ByteString,
    size: u64,
    limits: &Limits,
    progress: &dyn Progress,
) -> Result<Tree, UnpackError> {
    if size == 0 {
        return Err(UnpackError::Empty {
            path: display_path(path),
        });
    }
    progress.phase("hashing", Some(size));
    let content = map_file(path, limits.max_file_size)?;
    let sha = Sha256::of(&content);
    progress.advance(size);
    let root = Artifact {
        id: ArtifactId::ROOT,
        parent: None,
        hop: None,
        kind: ArtifactKind::File,
        size,
        sha256: Some(sha),
        mode: None,
        uid: None,
        gid: None,
        link_target: None,
        device: None,
        file_type: None,
        content: ContentStatus::Analysed,
    };
    Ok(Tree {
        input: InputInfo {
            name,
            kind: InputKind::File,
            size,
            sha256: sha,
        },
        artifacts: vec![root],
        sources: vec![Some(Source::File(path.to_path_buf()))],
        problems: Vec::new(),
        containers: Vec::new(),
        limits: limits.clone(),
    })
}

fn load_dir(
    path: &Path,
    name: ByteString,
    limits: &Limits,
    progress: &dyn Progress,
) -> Result<Tree, UnpackError> {
    progress.phase("walking", None);
    let walked = walk(path, limits)?;
    let mut problems = walked.problems;
    let total: u64 = walked
        .entries
        .iter()
        .filter(|e| e.kind == ArtifactKind::File && e.size <= limits.max_file_size)
        .map(|e| e.size)
        .sum();
    progress.phase("hashing", Some(total));
    let hashes: Vec<Option<Result<Sha256, String>>> = walked
        .entries
        .par_iter()
        .map(|e| hash_entry(e, limits, progress))
        .collect();

    let root_meta = fs::metadata(path).map_err(|e| UnpackError::io(path, e))?;
    let mut artifacts = vec![Artifact {
        id: ArtifactId::ROOT,
        parent: None,
        hop: None,
        kind: ArtifactKind::Directory,
        size: 0,
        sha256: None,
        mode: Some(root_meta.mode()),
        uid: Some(root_meta.uid()),
        gid: Some(root_meta.gid()),
        link_target: None,
        device: None,
        file_type: None,
        content: ContentStatus::None,
    }];
    let mut sources = vec![None];
    let mut first_seen: HashMap<Sha256, ArtifactId> = HashMap::new();
    for (entry, hash) in walked.entries.into_iter().zip(hashes) {
        let id = ArtifactId(u32::try_from(artifacts.len()).unwrap_or(u32::MAX));
        let (sha256, content) = match (entry.kind, hash) {
            (ArtifactKind::File, Some(Ok(sha))) => {
                let status = match first_seen.get(&sha) {
                    Some(&of) => ContentStatus::Duplicate { of },
                    None => {
                        first_seen.insert(sha, id);
                        ContentStatus::Analysed
                    }
                };
                (Some(sha), status)
            }
            (ArtifactKind::File, Some(Err(reason))) => {
                problems.push(Problem {
                    artifact: Some(id),
                    stage: Stage::Read,
                    source: "read".into(),
                    message: reason.clone(),
                });
                (None, ContentStatus::NotRead { reason })
            }
            (ArtifactKind::File, None) => (
                None,
                ContentStatus::NotRead {
                    reason: format!(
                        "{} bytes, above the limit of {} bytes (--max-file-size){}",
                        entry.size,
                        limits.max_file_size,
                        if entry.allocated < entry.size / 2 {
                            "; sparse file"
                        } else {
                            ""
                        }
                    ),
                },
            ),
            (kind, _) if kind.is_special() => (
                None,
                ContentStatus::NotRead {
                    reason: "special file: recorded, never opened".into(),
                },
            ),
            _ => (None, ContentStatus::None),
        };
        let has_source = entry.kind == ArtifactKind::File && sha256.is_some();
        sources.push(has_source.then(|| Source::File(entry.host_path.clone())));
        artifacts.push(Artifact {
            id,
            parent: Some(ArtifactId::ROOT),
            hop: Some(Hop::dir_member(entry.path, sha256)),
            kind: entry.kind,
            size: entry.size,
            sha256,
            mode: Some(entry.mode),
            uid: Some(entry.uid),
            gid: Some(entry.gid),
            link_target: entry.link_target.map(ByteString),
            device: entry.device,
            file_type: None,
            content,
        });
    }
    let size = artifacts
        .iter()
        .filter(|a| a.kind == ArtifactKind::File)
        .map(|a| a.size)
        .sum();
    let sha256 = tree_digest(&artifacts);
    Ok(Tree {
        input: InputInfo {
            name,
            kind: InputKind::Directory,
            size,
            sha256,
        },
        artifacts,
        sources,
        problems,
        containers: Vec::new(),
        limits: limits.clone(),
    })
}

/// Hashes a regular file; `None` when it is not a regular file or is above the size limit.
fn hash_entry(e: &Entry, limits: &Limits, progress: &dyn Progress) -> Option<Result<Sha256, String>> {
    if e.kind != ArtifactKind::File || e.size > limits.max_file_size {
        return None;
    }
    let result = map_file(&e.host_path, limits.max_file_size)
        .map(|c| Sha256::of(&c))
        .map_err(|err| err.to_string());
    progress.advance(e.size);
    Some(result)
}

/// The digest that identifies a directory input: SHA-256 over every member in tree order, each as
/// a kind tag, its path, and then the content digest (regular files read), the size (regular
/// files not read) or the link target (symbolic links). Modes and owners are left out on purpose:
/// copying a tree without preserving them must not change its identity.
pub fn tree_digest(artifacts: &[Artifact]) -> Sha256 {
    let mut h = Sha256Hasher::new();
    h.update(b"probity-tree-v1\0");
    let field = |h: &mut Sha256Hasher, bytes: &[u8]| {
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    for a in artifacts.iter().filter(|a| a.parent == Some(ArtifactId::ROOT)) {
        let tag: u8 = match a.kind {
            ArtifactKind::File => b'f',
            ArtifactKind::Directory => b'd',
            ArtifactKind::Symlink => b'l',
            ArtifactKind::Hardlink => b'h',
            ArtifactKind::Fifo => b'p',
            ArtifactKind::CharDevice => b'c',
            ArtifactKind::BlockDevice => b'b',
            ArtifactKind::Socket => b's',
        };
        h.update(&[tag]);
        field(&mut h, a.member().map(ByteString::as_bytes).unwrap_or_default());
        match (a.kind, a.sha256, &a.link_target) {
            (ArtifactKind::File, Some(sha), _) => h.update(&sha.0),
            (ArtifactKind::File, None, _) => h.update(&a.size.to_le_bytes()),
            (_, _, Some(target)) => field(&mut h, target.as_bytes()),
            _ => {}
        }
    }
    h.finish()
}
