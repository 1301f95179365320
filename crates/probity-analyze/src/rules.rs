//! Rule data embedded at build time, the ruleset identity, and rule selection.
//!
//! Rule data lives in `rules/*.toml` at the repository root (data, not code). The files are
//! embedded with `include_str!`, so the binary needs nothing beside it, and the report names the
//! ruleset by its declared version and a SHA-256 over all rule files.

use probity_model::{Confidence, RuleDescriptor, RuleDoc, RuleId, RulesetInfo, Severity, Sha256Hasher};
use serde::Deserialize;

use crate::AnalyzeError;

/// One embedded rule file.
#[derive(Debug, Clone, Copy)]
pub struct RuleFile {
    /// Its name under `rules/`.
    pub name: &'static str,
    /// Its text.
    pub text: &'static str,
}

/// Every embedded rule file, in the fixed order the ruleset digest uses.
pub const RULE_FILES: &[RuleFile] = &[
    RuleFile {
        name: "ruleset.toml",
        text: include_str!("../../../rules/ruleset.toml"),
    },
    RuleFile {
        name: "indicators.toml",
        text: include_str!("../../../rules/indicators.toml"),
    },
    RuleFile {
        name: "credentials.toml",
        text: include_str!("../../../rules/credentials.toml"),
    },
];

/// The embedded rule file called `name`.
pub fn rule_file(name: &str) -> Option<&'static RuleFile> {
    RULE_FILES.iter().find(|f| f.name == name)
}

#[derive(Deserialize)]
struct RulesetToml {
    version: String,
}

/// The ruleset's identity: its declared version and a digest over every rule file.
pub fn ruleset_info() -> Result<RulesetInfo, AnalyzeError> {
    let file = rule_file("ruleset.toml").ok_or_else(|| AnalyzeError::rules("ruleset.toml", "missing"))?;
    let parsed: RulesetToml = toml::from_str(file.text).map_err(|e| AnalyzeError::rules(file.name, e))?;
    let mut h = Sha256Hasher::new();
    for f in RULE_FILES {
        for part in [f.name.as_bytes(), f.text.as_bytes()] {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part);
        }
    }
    Ok(RulesetInfo {
        version: parsed.version,
        sha256: h.finish(),
    })
}

/// Which rules run: everything except the excluded patterns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleFilter {
    excluded: Vec<String>,
}

impl RuleFilter {
    /// A filter that excludes every rule matching one of `patterns`: an exact id (`PRB-IND-001`)
    /// or a prefix ending in `*` (`PRB-IND-*`).
    pub fn excluding(patterns: &[String]) -> Result<RuleFilter, AnalyzeError> {
        for p in patterns {
            let valid = match p.strip_suffix('*') {
                Some(prefix) => prefix.starts_with("PRB-") || prefix.is_empty() || "PRB-".starts_with(prefix),
                None => p.parse::<RuleId>().is_ok(),
            };
            if !valid {
                return Err(AnalyzeError::Usage(format!(
                    "`{p}` is not a rule id (PRB-AREA-NNN) or a prefix pattern ending in `*` (PRB-IND-*)"
                )));
            }
        }
        Ok(RuleFilter {
            excluded: patterns.to_vec(),
        })
    }

    /// Whether rule `id` runs.
    pub fn allows(&self, id: &RuleId) -> bool {
        !self.excluded.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => id.as_str().starts_with(prefix),
            None => id.as_str() == p,
        })
    }

    /// The patterns, as given.
    pub fn patterns(&self) -> &[String] {
        &self.excluded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ruleset_has_a_version_and_digest() {
        let info = ruleset_info().unwrap();
        assert_eq!(info.version, "2026.11.1");
        assert_eq!(info, ruleset_info().unwrap());
    }

    #[test]
    fn filter_patterns() {
        let f = RuleFilter::excluding(&["PRB-IND-*".into(), "PRB-CRED-002".into()]).unwrap();
        assert!(!f.allows(&"PRB-IND-001".parse().unwrap()));
        assert!(!f.allows(&"PRB-CRED-002".parse().unwrap()));
        assert!(f.allows(&"PRB-CRED-001".parse().unwrap()));
        assert!(RuleFilter::excluding(&["IND".into()]).is_err());
        assert!(RuleFilter::excluding(&["XYZ-*".into()]).is_err());
    }
}

/// What an analyzer writes for one of its rules; [`RuleSpec::build`] makes the descriptor (the
/// analyzer's id filled in, the id parsed). One constructor for every analyzer's rule table.
#[derive(Debug, Clone)]
pub struct RuleSpec<'a> {
    /// `PRB-<AREA>-<NNN>`.
    pub id: &'a str,
    /// CamelCase name (SARIF).
    pub name: &'a str,
    /// One-line title.
    pub title: &'a str,
    /// Default severity.
    pub severity: Severity,
    /// Default confidence.
    pub confidence: Confidence,
    /// CWE ids.
    pub cwe: &'a [&'a str],
    /// Public references.
    pub references: &'a [&'a str],
    /// What to do about it.
    pub remediation: &'a str,
    /// The documentation `probity rules explain` prints.
    pub doc: RuleDoc,
}

impl RuleSpec<'_> {
    /// The descriptor of this rule of `analyzer`; `None` when the id is malformed (a bug that the
    /// analyzers' unit tests catch).
    pub fn build(self, analyzer: &str) -> Option<RuleDescriptor> {
        Some(RuleDescriptor {
            id: self.id.parse::<RuleId>().ok()?,
            name: self.name.into(),
            title: self.title.into(),
            analyzer: analyzer.into(),
            severity: self.severity,
            confidence: self.confidence,
            cwe: self.cwe.iter().map(|c| c.to_string()).collect(),
            cve: Vec::new(),
            references: self.references.iter().map(|c| c.to_string()).collect(),
            remediation: self.remediation.into(),
            doc: self.doc,
        })
    }
}

/// Rule documentation from its six parts, in the order of the headings: what it detects, why it
/// matters, how it works, known false positives, known false negatives, an example.
pub fn rule_doc([detects, why, how, false_positives, false_negatives, example]: [&str; 6]) -> RuleDoc {
    RuleDoc {
        detects: detects.into(),
        why: why.into(),
        how: how.into(),
        false_positives: false_positives.into(),
        false_negatives: false_negatives.into(),
        example: example.into(),
    }
}
