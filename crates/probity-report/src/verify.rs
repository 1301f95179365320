//! `probity verify`: re-derive every claim of a report from the input.
//!
//! Verification recomputes the input's digest, follows every locator of every finding from the
//! root input (checking each hop's digest on the way), and recomputes the digest of every evidence
//! region. It also checks that each evidence item agrees with itself (the quoted bytes hash to the
//! region's digest), so an edited report is caught as surely as an edited input.

use std::collections::HashMap;
use std::path::Path;

use probity_model::{Evidence, EvidenceKind, InputKind, Locator, Report, Sha256, hex};
use probity_unpack::extract::Spool;
use probity_unpack::{Content, Limits, NoProgress, Unpacker, resolve::resolve, tree};

/// What verification found.
#[derive(Debug, Default)]
pub struct Verification {
    /// The input digest the report states.
    pub input_expected: Option<Sha256>,
    /// The input digest recomputed now.
    pub input_actual: Option<Sha256>,
    /// Why the input could not be checked, if it could not.
    pub input_error: Option<String>,
    /// Findings whose every location and evidence item held.
    pub findings_verified: u64,
    /// Evidence items checked and found to hold (counted once per location).
    pub evidence_verified: u64,
    /// Evidence items that quote nothing checkable (for example an absence without a pattern).
    pub evidence_unverifiable: u64,
    /// Every failure, per finding.
    pub failures: Vec<Failure>,
}

impl Verification {
    /// Whether everything held.
    pub fn ok(&self) -> bool {
        self.input_error.is_none() && self.input_expected == self.input_actual && self.failures.is_empty()
    }
}

/// A finding whose evidence no longer holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Index of the finding in the report.
    pub finding: usize,
    /// Its rule.
    pub rule_id: String,
    /// Its fingerprint.
    pub fingerprint: String,
    /// What did not hold.
    pub reason: String,
}

/// Verifies `report` against the input at `input`.
pub fn verify(report: &Report, input: &Path) -> Verification {
    let mut v = Verification {
        input_expected: Some(report.input.sha256),
        ..Verification::default()
    };
    let limits = Limits::from_settings(&report.settings);
    match tree::load(input, &limits, &NoProgress) {
        Ok(t) => {
            let kind_matches = t.input().kind == report.input.kind;
            v.input_actual = Some(t.input().sha256);
            if !kind_matches {
                v.input_error = Some(format!(
                    "the report is about a {}, `{}` is not one",
                    if report.input.kind == InputKind::File {
                        "file"
                    } else {
                        "directory"
                    },
                    probity_unpack::error::display_path(input)
                ));
            }
        }
        Err(e) => v.input_error = Some(e.to_string()),
    }

    let unpacker = match Unpacker::new() {
        Ok(u) => u,
        Err(e) => {
            v.input_error = Some(e);
            return v;
        }
    };
    let spool = match Spool::temporary() {
        Ok(s) => s,
        Err(e) => {
            v.input_error = Some(format!("can not create a temporary directory: {e}"));
            return v;
        }
    };
    let mut cache: HashMap<Locator, Result<Content, String>> = HashMap::new();
    let mut open = |loc: &Locator| -> Result<Content, String> {
        let key = loc.artifact();
        cache
            .entry(key.clone())
            .or_insert_with(|| resolve(input, &key, &limits, &unpacker, &spool).map_err(|e| e.to_string()))
            .clone()
    };
    // Directories (and other objects without content) can be the subject of a finding (a
    // world-writable directory): there are no bytes to re-derive at such a location.
    let contentless: std::collections::HashSet<Locator> = report
        .artifacts
        .iter()
        .filter(|a| !a.kind.has_content())
        .filter_map(|a| probity_model::report::locator_of(&report.input.name, &report.artifacts, a.id))
        .collect();
    for (i, f) in report.findings.iter().enumerate() {
        let mut reasons = Vec::new();
        let mut verified = 0;
        if f.locations.is_empty() {
            reasons.push("the finding has no location".to_string());
        }
        for loc in &f.locations {
            if loc.range.is_none()
                && contentless.contains(loc)
                && f.evidence.iter().all(|e| e.region.is_none())
            {
                v.evidence_unverifiable += f.evidence.len() as u64;
                continue;
            }
            let content = match open(loc) {
                Ok(c) => c,
                Err(e) => {
                    reasons.push(e);
                    continue;
                }
            };
            if let Some(r) = loc.range
                && r.end().is_none_or(|end| end > content.len() as u64)
            {
                reasons.push(format!(
                    "{loc}: the range lies outside the {} bytes there",
                    content.len()
                ));
            }
            for (n, e) in f.evidence.iter().enumerate() {
                let (target, here) = match &e.at {
                    Some(at) => match open(at) {
                        Ok(c) => (c, at.clone()),
                        Err(err) => {
                            reasons.push(format!("evidence {}: {err}", n + 1));
                            continue;
                        }
                    },
                    None => (content.clone(), loc.artifact()),
                };
                match check_evidence(e, &target) {
                    Ok(true) => verified += 1,
                    Ok(false) => v.evidence_unverifiable += 1,
                    Err(why) => reasons.push(format!("evidence {} at {here}: {why}", n + 1)),
                }
            }
        }
        if reasons.is_empty() {
            v.findings_verified += 1;
            v.evidence_verified += verified;
        } else {
            v.failures.push(Failure {
                finding: i,
                rule_id: f.rule_id.to_string(),
                fingerprint: f.fingerprint.0.clone(),
                reason: reasons.join("; "),
            });
        }
    }
    v
}

/// Checks one evidence item against the bytes of its artifact: `Ok(true)` when it holds,
/// `Ok(false)` when there is nothing to check, `Err` with the reason when it does not hold.
fn check_evidence(e: &Evidence, content: &[u8]) -> Result<bool, String> {
    if let EvidenceKind::Absence { pattern, .. } = &e.kind {
        return match pattern {
            Some(p) if !p.as_bytes().is_empty() => match memchr::memmem::find(content, p.as_bytes()) {
                Some(at) => Err(format!("the pattern said to be absent occurs at {at:#x}")),
                None => Ok(true),
            },
            _ => Ok(false),
        };
    }
    let Some(region) = e.region else { return Ok(false) };
    let bytes = usize::try_from(region.offset)
        .ok()
        .zip(usize::try_from(region.length).ok())
        .and_then(|(off, len)| content.get(off..off.checked_add(len)?))
        .ok_or_else(|| {
            format!(
                "region @{:#x}+{} lies outside the {} bytes there",
                region.offset,
                region.length,
                content.len()
            )
        })?;
    let actual = Sha256::of(bytes);
    if actual != region.sha256 {
        return Err(format!(
            "bytes @{:#x}+{} now have SHA-256 {actual}, the report says {}",
            region.offset, region.length, region.sha256
        ));
    }
    // The quote must agree with the region, or the report itself was edited.
    match &e.kind {
        EvidenceKind::Bytes {
            hex: quoted,
            truncated,
        } => {
            let q = hex::decode(quoted).ok_or("the quoted hex is malformed")?;
            let consistent = if *truncated {
                bytes.starts_with(&q)
            } else {
                bytes == q.as_slice()
            };
            if !consistent {
                return Err("the quoted bytes differ from the bytes in the region".into());
            }
        }
        EvidenceKind::String { encoding, value } => {
            use probity_model::StringEncoding::*;
            if matches!(encoding, Ascii | Utf8 | Raw) && bytes != value.as_bytes() {
                return Err("the quoted string differs from the bytes in the region".into());
            }
        }
        _ => {}
    }
    Ok(true)
}
