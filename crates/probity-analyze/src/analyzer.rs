//! The analyzer interface every detection plugs into.
//!
//! An [`Analyzer`] declares its rules and looks at the input in one or both of two ways:
//! [`Analyzer::analyze_content`] once per distinct content (identical files are analysed once, in
//! parallel), and [`Analyzer::analyze_tree`] once per scan with the whole artifact tree (for checks
//! that relate several files, such as a boot script and the daemon it starts). It reports
//! [`Draft`]s into an [`Output`]; the engine turns them into findings with locators and
//! fingerprints, so analyzers never deal with where their content came from. Inventory items
//! (accounts, keys, services) go into the same output with their locators
//! (`tree.locator(id)`), and the engine merges and sorts them.

use std::path::PathBuf;

use probity_model::{ArtifactId, Confidence, Evidence, Inventory, RuleDescriptor, RuleId, Severity, Sha256};
use probity_unpack::Tree;

/// A finding as an analyzer reports it, before the engine locates and fingerprints it.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The rule (one of the analyzer's own).
    pub rule: RuleId,
    /// What the finding is about.
    pub subject: Subject,
    /// The specific message.
    pub message: String,
    /// Evidence; regions are relative to the subject's content unless an item carries `at`.
    pub evidence: Vec<Evidence>,
    /// What distinguishes this finding from others of the same rule on the same subject (never an
    /// offset: it must stay the same across releases). Part of the fingerprint.
    pub key: String,
    /// Overrides the rule's severity.
    pub severity: Option<Severity>,
    /// Overrides the rule's confidence.
    pub confidence: Option<Confidence>,
    /// CVE ids specific to this finding (added to the rule's).
    pub cve: Vec<String>,
}

impl Draft {
    /// A draft about content `sha256`, with the rule's default severity and confidence.
    pub fn on_content(rule: RuleId, sha256: Sha256, message: String, key: String) -> Draft {
        Draft {
            rule,
            subject: Subject::Content(sha256),
            message,
            evidence: Vec::new(),
            key,
            severity: None,
            confidence: None,
            cve: Vec::new(),
        }
    }
}

/// What an analyzer call produces: finding drafts and inventory items.
#[derive(Debug, Default)]
pub struct Output {
    /// Findings, before the engine locates and fingerprints them.
    pub drafts: Vec<Draft>,
    /// Inventory items, already located.
    pub inventory: Inventory,
}

impl Output {
    /// Adds a finding draft.
    pub fn push(&mut self, draft: Draft) {
        self.drafts.push(draft);
    }
}

/// Settings that analyzers read (from the command line), shared by every call.
#[derive(Debug, Clone, Default)]
pub struct AnalysisOptions {
    /// Extra password candidates, one per line (`--wordlist`).
    pub wordlist: Option<PathBuf>,
    /// SHA-256 fingerprints of publicly leaked keys, one per line (`--known-keys`).
    pub known_keys: Option<PathBuf>,
}

/// What a finding is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A content: the finding holds wherever that content occurs.
    Content(Sha256),
    /// Specific artifacts.
    Artifacts(Vec<ArtifactId>),
}

/// What [`Analyzer::analyze_content`] sees.
#[derive(Debug)]
pub struct ContentContext<'a> {
    /// The content's digest.
    pub sha256: Sha256,
    /// The bytes.
    pub data: &'a [u8],
    /// Every artifact with this content (at least one).
    pub artifacts: &'a [ArtifactId],
    /// Byte ranges of this content explained by structures that were completely unpacked (a
    /// squashfs image, a tar archive). What they hold is analysed in the members; byte-level
    /// evidence inside these ranges belongs to the members, not to this content.
    pub covered: &'a [(u64, u64)],
    /// The whole tree, for names and metadata.
    pub tree: &'a Tree,
    /// Settings from the command line.
    pub options: &'a AnalysisOptions,
}

impl ContentContext<'_> {
    /// Whether `[offset, offset + len)` lies wholly inside a covered range (see `covered`).
    pub fn is_covered(&self, offset: u64, len: u64) -> bool {
        self.covered
            .iter()
            .any(|&(s, e)| offset >= s && offset.saturating_add(len) <= e)
    }
}

/// What [`Analyzer::analyze_tree`] sees.
#[derive(Debug)]
pub struct TreeContext<'a> {
    /// The whole tree.
    pub tree: &'a Tree,
    /// Settings from the command line.
    pub options: &'a AnalysisOptions,
}

/// A failure of an analyzer on one content or tree; recorded as a problem, the scan goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AnalyzerFailure(pub String);

/// A detection. Implementations live in `analyzers/`, one file each, and are listed once in
/// [`crate::analyzers::registry`].
pub trait Analyzer: Send + Sync + std::fmt::Debug {
    /// A short stable id (`indicators`).
    fn id(&self) -> &'static str;

    /// The rules this analyzer can report.
    fn rules(&self) -> &[RuleDescriptor];

    /// Looks at one distinct content.
    fn analyze_content(&self, _cx: &ContentContext<'_>, _out: &mut Output) -> Result<(), AnalyzerFailure> {
        Ok(())
    }

    /// Looks at the whole tree, once per scan.
    fn analyze_tree(&self, _cx: &TreeContext<'_>, _out: &mut Output) -> Result<(), AnalyzerFailure> {
        Ok(())
    }
}
