//! The scan engine: load the input, run every analyzer, and assemble the report.
//!
//! Analysis runs in parallel (rayon) over distinct contents; results are collected in input order
//! and then sorted, so the report is byte-identical whatever the thread timing. An analyzer that
//! fails or panics on one content becomes a problem in the report and the scan goes on.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use probity_model::{
    ArtifactId, ContentStatus, Coverage, Finding, Fingerprint, Inventory, Problem, Report, RuleDescriptor,
    RuleId, RulesetInfo, Sha256, Stage, Summary, ToolInfo, report::SCHEMA_VERSION,
};
use probity_unpack::extract::Spool;
use probity_unpack::tree::TreeParts;
use probity_unpack::{Limits, Progress, Tree, Unpacker, tree};
use rayon::prelude::*;

use crate::AnalyzeError;
use crate::analyzer::{
    AnalysisOptions, Analyzer, AnalyzerFailure, ContentContext, Draft, Output, Subject, TreeContext,
};
use crate::analyzers::registry;
use crate::rules::{RuleFilter, ruleset_info};

/// What shapes a scan.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Bounds on what is read.
    pub limits: Limits,
    /// Which rules run.
    pub rules: RuleFilter,
    /// A timestamp to record (RFC 3339); `None` keeps the report byte-identical across runs.
    pub timestamp: Option<String>,
    /// Settings the analyzers read.
    pub analysis: AnalysisOptions,
}

/// Scans the input at `path` with every registered analyzer.
pub fn scan(path: &Path, opts: &ScanOptions, progress: &dyn Progress) -> Result<Report, AnalyzeError> {
    let analyzers = registry()?;
    let ruleset = ruleset_info()?;
    let unpacker = Unpacker::new().map_err(AnalyzeError::Usage)?;
    let spool = Spool::temporary()
        .map_err(|e| AnalyzeError::Usage(format!("can not create a temporary directory: {e}")))?;
    let mut tree = tree::load(path, &opts.limits, progress)?;
    unpacker.expand(&mut tree, &spool, progress);
    // The spool holds unpacked members until the analysis is done.
    let report = analyze(tree, &analyzers, ruleset, opts, progress);
    drop(spool);
    Ok(report)
}

/// Runs `analyzers` over a loaded tree and assembles the report (the tree becomes the report's
/// artifact list).
pub fn analyze(
    tree: Tree,
    analyzers: &[Box<dyn Analyzer>],
    ruleset: RulesetInfo,
    opts: &ScanOptions,
    progress: &dyn Progress,
) -> Report {
    let active: Vec<&dyn Analyzer> = analyzers
        .iter()
        .map(|a| a.as_ref())
        .filter(|a| a.rules().iter().any(|r| opts.rules.allows(&r.id)))
        .collect();
    let contents = tree.unique_contents();
    let total: u64 = contents
        .iter()
        .filter_map(|(_, ids)| ids.first().and_then(|id| tree.artifact(*id)).map(|a| a.size))
        .sum();
    progress.phase("analysing", Some(total));

    let covered = tree.covered_ranges();
    let per_content: Vec<ContentOutcome> = contents
        .par_iter()
        .map(|(sha, ids)| {
            let ranges = ids
                .first()
                .and_then(|id| covered.get(id))
                .map(Vec::as_slice)
                .unwrap_or_default();
            analyze_one(&tree, &active, *sha, ids, ranges, &opts.analysis, progress)
        })
        .collect();
    let per_tree: Vec<(Output, Vec<Problem>)> = active
        .par_iter()
        .map(|a| {
            let mut output = Output::default();
            let mut problems = Vec::new();
            let cx = TreeContext {
                tree: &tree,
                options: &opts.analysis,
            };
            run_guarded(
                *a,
                None,
                &mut problems,
                |out| a.analyze_tree(&cx, out),
                &mut output,
            );
            (output, problems)
        })
        .collect();

    let mut unread_contents: BTreeMap<Sha256, String> = BTreeMap::new();
    let mut problems: Vec<Problem> = Vec::new();
    let mut drafts = Vec::new();
    let mut inventory = Inventory::default();
    for (d, p, unread) in per_content {
        drafts.extend(d.drafts);
        merge_inventory(&mut inventory, d.inventory);
        problems.extend(p);
        if let Some((id, reason)) = unread
            && let Some(sha) = tree.artifact(id).and_then(|a| a.sha256)
        {
            unread_contents.insert(sha, reason);
        }
    }
    for (d, p) in per_tree {
        drafts.extend(d.drafts);
        merge_inventory(&mut inventory, d.inventory);
        problems.extend(p);
    }
    inventory.sort();

    let rules: BTreeMap<RuleId, &RuleDescriptor> = active
        .iter()
        .flat_map(|a| a.rules())
        .map(|r| (r.id.clone(), r))
        .collect();
    let content_map: HashMap<Sha256, &Vec<ArtifactId>> = contents.iter().map(|(s, ids)| (*s, ids)).collect();
    let mut findings = Vec::new();
    let mut fired = BTreeSet::new();
    for draft in drafts.into_iter().filter(|d| opts.rules.allows(&d.rule)) {
        match finalize(&tree, &rules, &content_map, draft) {
            Ok(f) => {
                fired.insert(f.rule_id.clone());
                findings.push(f);
            }
            Err(p) => problems.push(p),
        }
    }
    findings.sort_by_cached_key(|f| {
        (
            std::cmp::Reverse(f.severity),
            f.rule_id.clone(),
            f.locations.first().map(|l| l.to_string()),
            f.fingerprint.clone(),
        )
    });
    let rules: Vec<RuleDescriptor> = fired
        .iter()
        .filter_map(|id| rules.get(id).map(|r| (*r).clone()))
        .collect();
    drop(content_map);
    drop(contents);

    let input_size = tree.input().size;
    let TreeParts {
        input,
        mut artifacts,
        problems: tree_problems,
        containers,
    } = tree.into_parts();
    for a in artifacts.iter_mut() {
        // Content that could not be opened for analysis was not analysed, wherever it occurs.
        if let Some(reason) = a.sha256.and_then(|sha| unread_contents.get(&sha)) {
            a.content = ContentStatus::NotRead {
                reason: reason.clone(),
            };
        }
    }
    problems.extend(tree_problems);
    problems.sort();
    problems.dedup();

    let mut summary = Summary {
        findings: findings.len() as u64,
        artifacts: artifacts.len() as u64,
        problems: problems.len() as u64,
        ..Summary::default()
    };
    for f in &findings {
        summary.by_severity.add(f.severity);
    }
    let mut coverage = Coverage::from_artifacts(input_size, &artifacts);
    coverage.containers = containers;
    Report {
        schema_version: SCHEMA_VERSION.into(),
        tool: ToolInfo {
            name: "probity".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        ruleset,
        input,
        timestamp: opts.timestamp.clone(),
        settings: opts.limits.to_settings(opts.rules.patterns().to_vec()),
        summary,
        rules,
        findings,
        artifacts,
        inventory,
        coverage,
        problems,
    }
}

type ContentOutcome = (Output, Vec<Problem>, Option<(ArtifactId, String)>);

fn merge_inventory(into: &mut Inventory, from: Inventory) {
    into.components.extend(from.components);
    into.accounts.extend(from.accounts);
    into.keys.extend(from.keys);
    into.services.extend(from.services);
}

fn analyze_one(
    tree: &Tree,
    active: &[&dyn Analyzer],
    sha: Sha256,
    ids: &[ArtifactId],
    covered: &[(u64, u64)],
    options: &AnalysisOptions,
    progress: &dyn Progress,
) -> ContentOutcome {
    let mut drafts = Output::default();
    let mut problems = Vec::new();
    let Some(&first) = ids.first() else {
        return (drafts, problems, None);
    };
    let size = tree.artifact(first).map(|a| a.size).unwrap_or_default();
    let outcome = match tree.open(first) {
        Ok(content) => {
            let cx = ContentContext {
                sha256: sha,
                data: &content,
                artifacts: ids,
                covered,
                tree,
                options,
            };
            for a in active {
                run_guarded(
                    *a,
                    Some(first),
                    &mut problems,
                    |out| a.analyze_content(&cx, out),
                    &mut drafts,
                );
            }
            None
        }
        Err(e) => {
            let reason = e.to_string();
            problems.push(Problem {
                artifact: Some(first),
                stage: Stage::Read,
                source: "read".into(),
                message: reason.clone(),
            });
            Some((first, reason))
        }
    };
    progress.advance(size);
    (drafts, problems, outcome)
}

/// Runs one analyzer call, turning a failure or a panic into a problem.
fn run_guarded(
    analyzer: &dyn Analyzer,
    artifact: Option<ArtifactId>,
    problems: &mut Vec<Problem>,
    call: impl FnOnce(&mut Output) -> Result<(), AnalyzerFailure>,
    output: &mut Output,
) {
    let mut local = Output::default();
    let message = match catch_unwind(AssertUnwindSafe(|| call(&mut local))) {
        Ok(Ok(())) => {
            output.drafts.extend(local.drafts);
            merge_inventory(&mut output.inventory, local.inventory);
            return;
        }
        Ok(Err(e)) => e.to_string(),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            format!("analyzer panicked (a bug; please report it): {what}")
        }
    };
    problems.push(Problem {
        artifact,
        stage: Stage::Analyze,
        source: analyzer.id().into(),
        message,
    });
}

fn finalize(
    tree: &Tree,
    rules: &BTreeMap<RuleId, &RuleDescriptor>,
    content_map: &HashMap<Sha256, &Vec<ArtifactId>>,
    draft: Draft,
) -> Result<Finding, Problem> {
    let problem = |message: String| Problem {
        artifact: None,
        stage: Stage::Analyze,
        source: "engine".into(),
        message,
    };
    let rule = rules
        .get(&draft.rule)
        .ok_or_else(|| problem(format!("finding for unknown rule {}", draft.rule)))?;
    let ids: Vec<ArtifactId> = match &draft.subject {
        Subject::Content(sha) => content_map.get(sha).map(|v| v.to_vec()).unwrap_or_default(),
        Subject::Artifacts(ids) => ids.clone(),
    };
    let range = draft
        .evidence
        .iter()
        .find(|e| e.at.is_none())
        .and_then(|e| e.region)
        .map(|r| probity_model::ByteRange::new(r.offset, r.length));
    let mut locations: Vec<_> = ids
        .iter()
        .map(|id| {
            let loc = tree.locator(*id);
            match range {
                Some(r) => loc.with_range(r),
                None => loc,
            }
        })
        .collect();
    locations.sort_by_cached_key(|l| l.to_string());
    locations.dedup();
    let first = locations
        .first()
        .ok_or_else(|| problem(format!("{} finding without a location", draft.rule)))?;
    let fingerprint = Fingerprint::compute(&rule.id, &first.stable_key(), &draft.key);
    let mut cve: Vec<String> = rule.cve.iter().chain(&draft.cve).cloned().collect();
    cve.sort();
    cve.dedup();
    Ok(Finding {
        rule_id: rule.id.clone(),
        title: rule.title.clone(),
        severity: draft.severity.unwrap_or(rule.severity),
        confidence: draft.confidence.unwrap_or(rule.confidence),
        message: draft.message,
        locations,
        evidence: draft.evidence,
        cwe: rule.cwe.clone(),
        cve,
        references: rule.references.clone(),
        remediation: rule.remediation.clone(),
        fingerprint,
    })
}
