//! Rules: what each finding kind means, and the documentation behind `probity rules explain`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A stable rule identifier, `PRB-<AREA>-<NNN>` (for example `PRB-IND-001`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(String);

/// Why a string is not a rule id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a rule id of the form PRB-<AREA>-<NNN> (AREA: 2 to 8 capital letters)")]
pub struct RuleIdError(pub String);

impl RuleId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The area part (`IND` in `PRB-IND-001`).
    pub fn area(&self) -> &str {
        self.0.split('-').nth(1).unwrap_or_default()
    }
}

impl FromStr for RuleId {
    type Err = RuleIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('-').collect();
        let ok = matches!(parts.as_slice(), ["PRB", area, num]
            if (2..=8).contains(&area.len())
                && area.bytes().all(|b| b.is_ascii_uppercase())
                && num.len() == 3
                && num.bytes().all(|b| b.is_ascii_digit()));
        if ok {
            Ok(RuleId(s.to_string()))
        } else {
            Err(RuleIdError(s.to_string()))
        }
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RuleId({})", self.0)
    }
}

impl Serialize for RuleId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RuleId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// How bad a finding is if it is true.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing, not a weakness by itself.
    Info,
    /// A minor weakness.
    Low,
    /// A weakness that matters in some deployments.
    Medium,
    /// A serious weakness.
    High,
    /// Remote compromise or hidden access.
    Critical,
}

impl Severity {
    /// All severities, most severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// The lowercase name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a severity (critical, high, medium, low, info)"))
    }
}

/// How sure Probity is that a finding is true.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// The pattern suggests it; a person should check.
    Possible,
    /// Strong indication, not proven.
    Likely,
    /// Proven by the evidence (for example a recovered password).
    Confirmed,
}

impl Confidence {
    /// The lowercase name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Confidence::Possible => "possible",
            Confidence::Likely => "likely",
            Confidence::Confirmed => "confirmed",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The documentation of a rule, in fixed headings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RuleDoc {
    /// What it detects.
    pub detects: String,
    /// Why it matters.
    pub why: String,
    /// How it works.
    pub how: String,
    /// Known false positives.
    pub false_positives: String,
    /// Known false negatives.
    pub false_negatives: String,
    /// An example.
    pub example: String,
}

/// Everything a report reader needs to know about a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleDescriptor {
    /// The stable id.
    pub id: RuleId,
    /// A short CamelCase name (SARIF `name`).
    pub name: String,
    /// A one-line title.
    pub title: String,
    /// The analyzer that implements it.
    pub analyzer: String,
    /// Severity of its findings unless a finding says otherwise.
    pub severity: Severity,
    /// Confidence of its findings unless a finding says otherwise.
    pub confidence: Confidence,
    /// CWE ids (`CWE-798`).
    #[serde(default)]
    pub cwe: Vec<String>,
    /// CVE ids the rule is about, if any.
    #[serde(default)]
    pub cve: Vec<String>,
    /// Public sources the rule is built on (advisories, write-ups).
    #[serde(default)]
    pub references: Vec<String>,
    /// What to do about a finding.
    pub remediation: String,
    /// The full documentation.
    pub doc: RuleDoc,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids() {
        let id: RuleId = "PRB-IND-001".parse().unwrap();
        assert_eq!(id.area(), "IND");
        for bad in [
            "PRB-IND-01",
            "prb-IND-001",
            "PRB-X-001",
            "PRB-IND-001-2",
            "PRB-ind-001",
            "PRB-IND-0a1",
        ] {
            assert!(bad.parse::<RuleId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn severity_orders_and_parses() {
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Info);
        assert_eq!("medium".parse::<Severity>(), Ok(Severity::Medium));
        assert!("severe".parse::<Severity>().is_err());
    }
}
