//! The recursive unpacking driver.
//!
//! [`Unpacker::expand`] takes a loaded [`Tree`] and unpacks every content in it, level by level:
//! the contents of one level are scanned and extracted in parallel, then their members are added
//! to the tree in a fixed order (so artifact ids and the report do not depend on thread timing),
//! hashed, de-duplicated (identical content is unpacked once, which also ends self-containing
//! archives), and the new contents form the next level. Nesting deeper than `--max-depth` is
//! recorded, not unpacked; the total output, the expansion ratio, the time per extraction and the
//! number of artifacts are bounded (see [`crate::extract`]).
//!
//! When `--max-total-size` is reached while several extractions run at once, which of them was
//! cut can depend on timing; the report names every one that was.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};

use probity_model::{
    Artifact, ArtifactId, ArtifactKind, ByteString, ContainerCoverage, ContentStatus, Hop, Problem, Sha256,
    Stage, Structure, StructureStatus,
};
use rayon::prelude::*;

use crate::content::{Content, map_file};
use crate::coverage::account;
use crate::extract::{Child, ChildData, Extractor, Spool};
use crate::format::{Format, FormatError, Probe};
use crate::formats;
use crate::limits::Limits;
use crate::progress::Progress;
use crate::sigscan::Scanner;
use crate::tree::{Source, Tree};

/// Most candidates examined in one content (a content full of weak magics is cut here, with a
/// problem recorded).
pub const MAX_CANDIDATES: usize = 100_000;

/// The unpacking engine: the registered formats and their compiled signatures.
pub struct Unpacker {
    formats: &'static [&'static dyn Format],
    scanner: Scanner,
}

impl std::fmt::Debug for Unpacker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unpacker")
            .field("formats", &self.formats.len())
            .finish()
    }
}

/// A structure found in a content and what unpacking it gave.
#[derive(Debug)]
struct Found {
    format: usize,
    start: u64,
    length: u64,
    probe: Probe,
    status: StructureStatus,
    children: Vec<Child>,
}

/// What scanning one content gave.
#[derive(Debug, Default)]
struct Outcome {
    found: Vec<Found>,
    problems: Vec<String>,
    size: u64,
}

impl Unpacker {
    /// The engine with every registered format.
    pub fn new() -> Result<Unpacker, String> {
        let formats = formats::registry();
        Ok(Unpacker {
            formats,
            scanner: Scanner::new(formats)?,
        })
    }

    /// The format called `name`.
    pub fn format(&self, name: &str) -> Option<&'static dyn Format> {
        self.formats.iter().copied().find(|f| f.name() == name)
    }

    /// Unpacks every content of `tree`, recursively.
    pub fn expand(&self, tree: &mut Tree, spool: &Spool, progress: &dyn Progress) {
        let limits = tree.limits().clone();
        let used = AtomicU64::new(0);
        let mut first_seen: HashMap<Sha256, ArtifactId> = HashMap::new();
        let mut frontier: Vec<ArtifactId> = Vec::new();
        for a in tree.artifacts() {
            if let (Some(sha), ContentStatus::Analysed) = (a.sha256, &a.content) {
                first_seen.entry(sha).or_insert(a.id);
                if a.kind == ArtifactKind::File {
                    frontier.push(a.id);
                }
            }
        }
        let mut artifact_limit_hit = false;
        let mut depth = 0u32;
        while !frontier.is_empty() {
            let at_limit = depth >= limits.max_depth;
            let total: u64 = frontier
                .iter()
                .filter_map(|id| tree.artifact(*id))
                .map(|a| a.size)
                .sum();
            progress.phase(
                if depth == 0 {
                    "unpacking"
                } else {
                    "unpacking nested"
                },
                Some(total),
            );
            let outcomes: Vec<Outcome> = frontier
                .par_iter()
                .map(|id| {
                    let outcome = match tree.open(*id) {
                        Ok(content) => self.scan_content(&content, &limits, spool, &used, at_limit),
                        Err(e) => Outcome {
                            problems: vec![e.to_string()],
                            ..Outcome::default()
                        },
                    };
                    progress.advance(outcome.size);
                    outcome
                })
                .collect();
            let mut next = Vec::new();
            for (id, outcome) in frontier.iter().copied().zip(outcomes) {
                self.apply(
                    tree,
                    id,
                    outcome,
                    at_limit,
                    &mut first_seen,
                    &mut next,
                    &mut artifact_limit_hit,
                );
            }
            frontier = next;
            depth += 1;
        }
    }

    /// Scans one content for structures and extracts them (or, at the depth limit, only
    /// recognises them).
    fn scan_content(
        &self,
        data: &Content,
        limits: &Limits,
        spool: &Spool,
        used: &AtomicU64,
        recognise_only: bool,
    ) -> Outcome {
        let mut out = Outcome {
            size: data.len() as u64,
            ..Outcome::default()
        };
        let (candidates, cut) = self.scanner.candidates(data, MAX_CANDIDATES);
        if cut {
            out.problems.push(format!(
                "more than {MAX_CANDIDATES} signature candidates; only the first {MAX_CANDIDATES} were examined"
            ));
        }
        let mut covered_end = 0usize;
        for c in candidates {
            if c.start < covered_end {
                continue;
            }
            let Some(format) = self.formats.get(c.format).copied() else {
                continue;
            };
            let Some(slice) = data.get(c.start..) else {
                continue;
            };
            let probe = match catch_unwind(AssertUnwindSafe(|| format.probe(slice))) {
                Ok(Some(p)) => p,
                Ok(None) => continue,
                Err(_) => {
                    out.problems.push(format!(
                        "the {} probe panicked at {:#x} (a bug)",
                        format.name(),
                        c.start
                    ));
                    continue;
                }
            };
            if recognise_only {
                let length = probe
                    .length
                    .unwrap_or(slice.len() as u64)
                    .min(slice.len() as u64)
                    .max(1);
                out.problems.push(format!(
                    "{} at {:#x} not unpacked: containers are nested deeper than {} levels (limit --max-depth)",
                    format.name(),
                    c.start,
                    limits.max_depth
                ));
                covered_end = c.start + length as usize;
                out.found.push(Found {
                    format: c.format,
                    start: c.start as u64,
                    length,
                    probe,
                    status: StructureStatus::Recognised,
                    children: Vec::new(),
                });
                continue;
            }
            let input_len = probe.length.unwrap_or(slice.len() as u64);
            let allowance = limits
                .max_total_bytes
                .saturating_sub(used.load(Ordering::Relaxed));
            let mut x = Extractor::new(limits, spool, input_len, allowance).with_global(used);
            let result = catch_unwind(AssertUnwindSafe(|| format.extract(slice, &mut x)));
            let verified = x.is_verified();
            let (mut children, mut notes, description, mut limited) = x.into_parts();
            let name = format.name();
            // An extraction that stopped (a budget, damaged data) after producing members keeps
            // them: what could be recovered is recovered, and the stop is reported.
            let result = match result {
                Ok(Err(e)) if !children.is_empty() => {
                    limited |= matches!(e, FormatError::Limit(_));
                    notes.push(format!(
                        "unpacking stopped; later members were not extracted: {e}"
                    ));
                    Ok(Ok(probe.length.unwrap_or(slice.len() as u64)))
                }
                other => other,
            };
            match result {
                Ok(Ok(consumed)) => {
                    let length = consumed.clamp(1, slice.len() as u64);
                    covered_end = c.start + length as usize;
                    // Hash members that are ranges of the structure itself.
                    children.retain_mut(|ch| match ch.data {
                        ChildData::Region { offset, length } => {
                            match data.slice(c.start as u64 + offset, length) {
                                Some(bytes) => {
                                    ch.sha256 = Some(Sha256::of(&bytes));
                                    true
                                }
                                None => {
                                    out.problems.push(format!(
                                        "{name} at {:#x}: a member lies outside the data",
                                        c.start
                                    ));
                                    false
                                }
                            }
                        }
                        _ => true,
                    });
                    let partial = limited || !notes.is_empty() || children.iter().any(|ch| ch.truncated);
                    for n in notes {
                        out.problems.push(format!("{name} at {:#x}: {n}", c.start));
                    }
                    let status = if children.is_empty() {
                        StructureStatus::Recognised
                    } else if partial {
                        StructureStatus::Partial
                    } else {
                        StructureStatus::Unpacked
                    };
                    let probe = Probe {
                        description: if description.is_empty() {
                            probe.description
                        } else {
                            description
                        },
                        confidence: if verified { 100 } else { probe.confidence },
                        ..probe
                    };
                    out.found.push(Found {
                        format: c.format,
                        start: c.start as u64,
                        length,
                        probe,
                        status,
                        children,
                    });
                }
                Ok(Err(e)) => {
                    // Weak signatures match by chance; only a failure of a well-validated
                    // candidate, or of one that starts the content, is worth reporting.
                    if probe.confidence >= 70 || c.start == 0 {
                        out.problems
                            .push(format!("could not unpack {name} at {:#x}: {e}", c.start));
                    }
                }
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    out.problems.push(format!(
                        "the {name} extractor panicked at {:#x} (a bug): {what}",
                        c.start
                    ));
                }
            }
        }
        out
    }

    /// Adds what scanning `id` found to the tree, in order.
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &self,
        tree: &mut Tree,
        id: ArtifactId,
        outcome: Outcome,
        at_limit: bool,
        first_seen: &mut HashMap<Sha256, ArtifactId>,
        next: &mut Vec<ArtifactId>,
        artifact_limit_hit: &mut bool,
    ) {
        let limits = tree.limits().clone();
        for p in outcome.problems {
            tree.add_problem(Problem {
                artifact: Some(id),
                stage: Stage::Unpack,
                source: "unpack".into(),
                message: p,
            });
        }
        if outcome.found.is_empty()
            && !(id == ArtifactId::ROOT && tree.artifact(id).is_some_and(|a| a.kind == ArtifactKind::File))
        {
            return;
        }
        if let Some(first) = outcome.found.first()
            && first.start == 0
            && let Some(name) = self.formats.get(first.format).map(|f| f.name())
            && let Some(a) = tree.artifact_mut(id)
        {
            a.file_type = Some(name.to_string());
        }
        // Coverage of this container.
        let explained: Vec<(u64, u64)> = outcome
            .found
            .iter()
            .map(|f| (f.start, f.start + f.length))
            .collect();
        let coverage = match tree.open(id) {
            Ok(content) => {
                let (explained_bytes, unexplained) = account(&content, explained);
                Some((content.len() as u64, explained_bytes, unexplained))
            }
            Err(_) => None,
        };
        let structures: Vec<Structure> = outcome
            .found
            .iter()
            .map(|f| Structure {
                offset: f.start,
                length: f.length,
                format: self
                    .formats
                    .get(f.format)
                    .map(|x| x.name())
                    .unwrap_or_default()
                    .to_string(),
                confidence: f.probe.confidence,
                status: f.status,
                description: f.probe.description.clone(),
            })
            .collect();
        let whole = coverage.as_ref().map(|c| c.0);
        if let Some((size, explained_bytes, unexplained)) = coverage {
            if structures.is_empty() {
                // Only the input itself gets here with nothing found: say so plainly.
                let looks = unexplained
                    .iter()
                    .max_by_key(|r| r.length)
                    .map(|r| {
                        format!(
                            "; most of it looks like {} (entropy {:.2})",
                            r.class.describe(),
                            r.entropy
                        )
                    })
                    .unwrap_or_default();
                tree.add_problem(Problem {
                    artifact: Some(id),
                    stage: Stage::Unpack,
                    source: "unpack".into(),
                    message: format!(
                        "no known container, file system or compressed stream was recognised; the input is analysed as raw bytes{looks}"
                    ),
                });
            }
            tree.add_container(ContainerCoverage {
                artifact: id,
                size,
                explained_bytes,
                structures,
                unexplained,
            });
        }
        if at_limit {
            return;
        }
        for f in outcome.found {
            let name = self.formats.get(f.format).map(|x| x.name()).unwrap_or_default();
            for child in f.children {
                // A member that is exactly this content (a picture that is the whole file) adds
                // nothing but a duplicate.
                if f.start == 0
                    && matches!(child.data, ChildData::Region { offset: 0, length } if Some(length) == whole)
                {
                    continue;
                }
                if tree.artifacts().len() as u64 >= limits.max_artifacts {
                    if !*artifact_limit_hit {
                        *artifact_limit_hit = true;
                        tree.add_problem(Problem {
                            artifact: Some(id),
                            stage: Stage::Unpack,
                            source: "unpack".into(),
                            message: format!(
                                "stopped recording artifacts at {} (limit --max-artifacts); later members are not in the report",
                                limits.max_artifacts
                            ),
                        });
                    }
                    return;
                }
                let new_id = tree.next_id();
                let kind = child.entry.kind();
                let has_content = kind == ArtifactKind::File && !matches!(child.data, ChildData::None);
                let sha = if has_content { child.sha256 } else { None };
                let content = match (has_content, sha) {
                    (true, Some(s)) => match first_seen.get(&s) {
                        Some(&of) => ContentStatus::Duplicate { of },
                        None => {
                            first_seen.insert(s, new_id);
                            next.push(new_id);
                            ContentStatus::Analysed
                        }
                    },
                    _ if kind.is_special() => ContentStatus::NotRead {
                        reason: "special file: recorded, never created or opened".into(),
                    },
                    _ => ContentStatus::None,
                };
                let source = match child.data {
                    ChildData::None => None,
                    ChildData::Bytes(b) => Some(Source::Memory(b)),
                    ChildData::Spooled(p) => Some(Source::Spool(p)),
                    ChildData::Region { offset, length } => Some(Source::Slice {
                        of: id,
                        offset: f.start + offset,
                        length,
                    }),
                };
                let hop = Hop {
                    format: name.to_string(),
                    offset: Some(f.start),
                    length: Some(f.length),
                    member: child.entry.member.map(ByteString),
                    sha256: sha,
                };
                let artifact = Artifact {
                    id: new_id,
                    parent: Some(id),
                    hop: Some(hop),
                    kind,
                    size: if has_content { child.size } else { 0 },
                    sha256: sha,
                    mode: child.entry.mode,
                    uid: child.entry.uid,
                    gid: child.entry.gid,
                    link_target: child.entry.link_target.map(ByteString),
                    device: child.entry.device,
                    file_type: None,
                    content,
                };
                tree.push(artifact, source);
            }
        }
    }

    /// Extracts the member a hop names from its parent's bytes (used to resolve locators).
    pub fn extract_member(
        &self,
        parent: &Content,
        hop: &Hop,
        limits: &Limits,
        spool: &Spool,
    ) -> Result<Content, String> {
        let format = self
            .format(&hop.format)
            .ok_or_else(|| format!("unknown container format `{}`", hop.format))?;
        let offset = hop.offset.unwrap_or(0);
        let rest = parent
            .slice(offset, (parent.len() as u64).saturating_sub(offset))
            .ok_or("the container's offset lies outside its parent")?;
        let want: &[u8] = hop.member.as_ref().map(ByteString::as_bytes).unwrap_or_default();
        let mut x = Extractor::new(limits, spool, rest.len() as u64, limits.max_total_bytes).only(want);
        let result = catch_unwind(AssertUnwindSafe(|| format.extract(&rest, &mut x)));
        let (children, _notes, _, _) = x.into_parts();
        match result {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(format!("{} at {offset:#x}: {e}", hop.format)),
            Err(_) => return Err(format!("the {} extractor panicked", hop.format)),
        }
        let child = children
            .into_iter()
            .find(|c| {
                c.entry.member.as_deref().unwrap_or_default() == want && !matches!(c.data, ChildData::None)
            })
            .ok_or_else(|| {
                format!(
                    "{} at {offset:#x} has no member `{}`",
                    hop.format,
                    probity_model::text::escape(want)
                )
            })?;
        match child.data {
            ChildData::Bytes(b) => Ok(Content::owned(b)),
            ChildData::Spooled(p) => map_file(&p, u64::MAX).map_err(|e| e.to_string()),
            ChildData::Region { offset: o, length } => rest
                .slice(o, length)
                .ok_or_else(|| "member outside its container".into()),
            ChildData::None => Err("the member has no content".into()),
        }
    }
}
