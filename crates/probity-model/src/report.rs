//! The report: one schema-versioned document holding everything a scan found.

use serde::{Deserialize, Serialize};

use crate::artifact::{Artifact, ArtifactId};
use crate::coverage::Coverage;
use crate::digest::Sha256;
use crate::finding::Finding;
use crate::inventory::Inventory;
use crate::locator::Locator;
use crate::problem::Problem;
use crate::rule::{RuleDescriptor, Severity};
use crate::text::ByteString;

/// The version of the report's JSON schema (`schema/report.schema.json`).
pub const SCHEMA_VERSION: &str = "1.0.0";

/// A scan report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The report schema's version.
    pub schema_version: String,
    /// The tool that wrote it.
    pub tool: ToolInfo,
    /// The rules it ran.
    pub ruleset: RulesetInfo,
    /// The input's identity.
    pub input: InputInfo,
    /// When the scan ran (RFC 3339), only when asked for: reports are otherwise byte-identical.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// The settings that shaped the result.
    pub settings: ScanSettings,
    /// Counts.
    pub summary: Summary,
    /// The rules that produced findings, with their documentation.
    pub rules: Vec<RuleDescriptor>,
    /// The findings, most severe first.
    pub findings: Vec<Finding>,
    /// Every artifact found, in tree order.
    pub artifacts: Vec<Artifact>,
    /// What the input is made of.
    pub inventory: Inventory,
    /// What was and was not analysed.
    pub coverage: Coverage,
    /// What failed, where and why.
    pub problems: Vec<Problem>,
}

/// The tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    /// `probity`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// The ruleset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesetInfo {
    /// The ruleset's declared version.
    pub version: String,
    /// SHA-256 over the rule files, in a fixed order.
    pub sha256: Sha256,
}

/// What kind of input was scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// A single file (an image, a binary).
    File,
    /// A directory tree (an unpacked root file system).
    Directory,
}

/// The input's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputInfo {
    /// Its name as given (the last path component).
    pub name: ByteString,
    /// File or directory.
    pub kind: InputKind,
    /// Its size (for a directory: the total size of its regular files).
    pub size: u64,
    /// SHA-256 of a file; for a directory, the tree digest (see `docs/report.md`).
    pub sha256: Sha256,
}

/// Settings that shape the result (limits, rule selection).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanSettings {
    /// Input files larger than this were not read.
    pub max_file_size: u64,
    /// Deepest directory nesting walked in an input tree.
    pub max_dir_depth: u32,
    /// Most artifacts recorded.
    pub max_artifacts: u64,
    /// Deepest nesting of containers unpacked.
    pub max_depth: u32,
    /// Most bytes produced by unpacking, in all.
    pub max_total_bytes: u64,
    /// Largest expansion ratio of one stream or container.
    pub max_ratio: u64,
    /// Output size below which the ratio is not enforced.
    pub ratio_floor: u64,
    /// Time one extraction may take, in milliseconds.
    pub extract_timeout_ms: u64,
    /// Rules excluded on request.
    #[serde(default)]
    pub excluded_rules: Vec<String>,
}

/// Counts, for a reader in a hurry.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Summary {
    /// Number of findings.
    pub findings: u64,
    /// Number of findings per severity.
    pub by_severity: SeverityCounts,
    /// Number of artifacts.
    pub artifacts: u64,
    /// Number of problems.
    pub problems: u64,
}

/// Findings per severity.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SeverityCounts {
    /// Critical.
    pub critical: u64,
    /// High.
    pub high: u64,
    /// Medium.
    pub medium: u64,
    /// Low.
    pub low: u64,
    /// Info.
    pub info: u64,
}

impl SeverityCounts {
    /// The count for one severity.
    pub fn get(&self, s: Severity) -> u64 {
        match s {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }

    /// Adds one finding of severity `s`.
    pub fn add(&mut self, s: Severity) {
        let slot = match s {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
            Severity::Info => &mut self.info,
        };
        *slot += 1;
    }
}

impl Report {
    /// The artifact with id `id`, if the report has it.
    pub fn artifact(&self, id: ArtifactId) -> Option<&Artifact> {
        self.artifacts.get(id.index()).filter(|a| a.id == id)
    }

    /// The locator of artifact `id`: the root, then the hops of each ancestor in turn. `None` when
    /// the id or one of its ancestors is missing or the parent chain loops.
    pub fn locator_of(&self, id: ArtifactId) -> Option<Locator> {
        locator_of(&self.input.name, &self.artifacts, id)
    }

    /// The most severe finding's severity, if there is any finding.
    pub fn max_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// The locator of artifact `id` in `artifacts` (indexed by id), under the root named `root`.
pub fn locator_of(root: &ByteString, artifacts: &[Artifact], id: ArtifactId) -> Option<Locator> {
    let mut hops = Vec::new();
    let mut cur = artifacts.get(id.index())?;
    for _ in 0..=artifacts.len() {
        match (cur.parent, &cur.hop) {
            (None, _) => {
                hops.reverse();
                return Some(Locator {
                    root: root.clone(),
                    hops,
                    range: None,
                });
            }
            (Some(parent), Some(hop)) => {
                hops.push(hop.clone());
                cur = artifacts.get(parent.index())?;
            }
            (Some(_), None) => return None,
        }
    }
    None
}

/// The version of the unpack manifest's format.
pub const MANIFEST_VERSION: &str = "1.0.0";

/// `manifest.json` of `probity unpack`: every artifact, where it was written, and the coverage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The manifest format's version.
    pub schema_version: String,
    /// The tool that wrote it.
    pub tool: ToolInfo,
    /// The input's identity.
    pub input: InputInfo,
    /// The limits unpacking ran with.
    pub settings: ScanSettings,
    /// Every artifact, in tree order.
    pub artifacts: Vec<ManifestEntry>,
    /// What was and was not unpacked.
    pub coverage: Coverage,
    /// What failed, where and why.
    pub problems: Vec<Problem>,
}

/// One artifact in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// The artifact.
    #[serde(flatten)]
    pub artifact: Artifact,
    /// Its locator, as text.
    pub locator: String,
    /// Where it was written, relative to the output directory (absent when not written: the
    /// input itself, directories of the input, links leaving their container, device nodes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<ByteString>,
}
