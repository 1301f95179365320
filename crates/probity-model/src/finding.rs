//! Findings: a claim about the input, with where it holds and the evidence for it.

use serde::{Deserialize, Serialize};

use crate::digest::Sha256;
use crate::evidence::Evidence;
use crate::locator::Locator;
use crate::rule::{Confidence, RuleId, Severity};

/// A fingerprint that stays the same for the same issue across runs and across releases of the
/// scanned product (used by `probity diff` and SARIF `partialFingerprints`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(pub String);

impl Fingerprint {
    /// The fingerprint of a rule firing on the artifact named by `stable_location` (see
    /// [`Locator::stable_key`]), distinguished by `key` (what the rule matched, never an offset).
    pub fn compute(rule: &RuleId, stable_location: &str, key: &str) -> Fingerprint {
        let mut material = Vec::new();
        for part in [rule.as_str(), stable_location, key] {
            material.extend_from_slice(&(part.len() as u64).to_le_bytes());
            material.extend_from_slice(part.as_bytes());
        }
        Fingerprint(Sha256::of(&material).short(32))
    }
}

/// A finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule that produced it.
    pub rule_id: RuleId,
    /// One-line title.
    pub title: String,
    /// How bad it is.
    pub severity: Severity,
    /// How sure we are.
    pub confidence: Confidence,
    /// What exactly was found, in a sentence or two.
    pub message: String,
    /// Every place the finding holds (identical content found at several places is one finding).
    pub locations: Vec<Locator>,
    /// The evidence.
    pub evidence: Vec<Evidence>,
    /// CWE ids.
    #[serde(default)]
    pub cwe: Vec<String>,
    /// CVE ids.
    #[serde(default)]
    pub cve: Vec<String>,
    /// Sources for the claim.
    #[serde(default)]
    pub references: Vec<String>,
    /// What to do about it.
    pub remediation: String,
    /// Stable identity across runs and releases.
    pub fingerprint: Fingerprint,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_depends_on_rule_place_and_key_only() {
        let rule: RuleId = "PRB-IND-001".parse().unwrap();
        let other: RuleId = "PRB-IND-002".parse().unwrap();
        let a = Fingerprint::compute(&rule, "dir\u{0}/bin/httpd", "k");
        assert_eq!(a, Fingerprint::compute(&rule, "dir\u{0}/bin/httpd", "k"));
        assert_eq!(a.0.len(), 32);
        assert_ne!(a, Fingerprint::compute(&other, "dir\u{0}/bin/httpd", "k"));
        assert_ne!(a, Fingerprint::compute(&rule, "dir\u{0}/bin/httpd2", "k"));
        // Length prefixes keep the parts apart: moving a character across a boundary changes it.
        assert_ne!(
            Fingerprint::compute(&rule, "ab", "c"),
            Fingerprint::compute(&rule, "a", "bc")
        );
    }
}
