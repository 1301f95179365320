//! Known indicators: exact byte strings that public advisories tie to a specific backdoor.
//!
//! The patterns come from `rules/indicators.toml`, one rule per entry (`PRB-IND-NNN`), each with the
//! advisory or analysis it comes from. All patterns are searched in one Aho-Corasick pass over each
//! distinct content; every hit becomes evidence (the matched bytes at their offset). This family
//! only finds backdoors someone already published: it is kept separate from the behaviour-based
//! rules so that those can be measured with it switched off (`--exclude-rule 'PRB-IND-*'`).

use std::collections::BTreeMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use probity_model::{Confidence, Evidence, RuleDescriptor, RuleDoc, RuleId, Severity, StringEncoding, hex};
use serde::Deserialize;

use crate::AnalyzeError;
use crate::analyzer::{Analyzer, AnalyzerFailure, ContentContext, Draft, Output};

/// The analyzer's id.
pub const ID: &str = "indicators";

/// Shortest pattern accepted: shorter constants occur by chance in binary data.
pub const MIN_PATTERN_LEN: usize = 8;

/// Most occurrences quoted as evidence in one finding (the message gives the full count).
pub const MAX_EVIDENCE: usize = 16;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorFile {
    indicator: Vec<IndicatorEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorEntry {
    id: String,
    name: String,
    title: String,
    #[serde(default)]
    string: Option<String>,
    #[serde(default)]
    hex: Option<String>,
    severity: String,
    confidence: String,
    #[serde(default)]
    cwe: Vec<String>,
    #[serde(default)]
    cve: Vec<String>,
    references: Vec<String>,
    description: String,
    remediation: String,
}

/// One compiled indicator.
#[derive(Debug)]
struct Indicator {
    rule: RuleDescriptor,
    pattern: Vec<u8>,
    /// Whether the pattern is text (quoted as a string) rather than a byte constant.
    text: bool,
}

/// The known-indicator analyzer.
#[derive(Debug)]
pub struct Indicators {
    indicators: Vec<Indicator>,
    rules: Vec<RuleDescriptor>,
    matcher: AhoCorasick,
}

impl Indicators {
    /// Builds the analyzer from the text of an indicator file.
    pub fn from_toml(file: &str, text: &str) -> Result<Indicators, AnalyzeError> {
        let parsed: IndicatorFile = toml::from_str(text).map_err(|e| AnalyzeError::rules(file, e))?;
        let mut indicators = Vec::with_capacity(parsed.indicator.len());
        let mut seen: BTreeMap<Vec<u8>, String> = BTreeMap::new();
        for entry in parsed.indicator {
            let fail = |m: String| AnalyzeError::rules(file, format!("{}: {m}", entry.id));
            let id: RuleId = entry
                .id
                .parse()
                .map_err(|e: probity_model::rule::RuleIdError| fail(e.to_string()))?;
            if id.area() != "IND" {
                return Err(fail("indicator ids are PRB-IND-NNN".into()));
            }
            let (pattern, is_text) = match (&entry.string, &entry.hex) {
                (Some(s), None) => (s.as_bytes().to_vec(), true),
                (None, Some(h)) => (
                    hex::decode(h).ok_or_else(|| fail(format!("`{h}` is not hex")))?,
                    false,
                ),
                _ => return Err(fail("exactly one of `string` and `hex` is required".into())),
            };
            if pattern.len() < MIN_PATTERN_LEN {
                return Err(fail(format!(
                    "pattern is {} bytes; at least {MIN_PATTERN_LEN} are required",
                    pattern.len()
                )));
            }
            if let Some((other_pattern, other)) = seen
                .iter()
                .find(|(p, _)| p.starts_with(&pattern) || pattern.starts_with(p))
            {
                let relation = if *other_pattern == pattern {
                    "the same pattern as"
                } else {
                    "a prefix of, or prefixed by,"
                };
                return Err(fail(format!("{relation} {other}")));
            }
            seen.insert(pattern.clone(), entry.id.clone());
            if entry.references.is_empty() {
                return Err(fail("every indicator needs at least one public reference".into()));
            }
            let severity: Severity = entry.severity.parse().map_err(fail)?;
            let confidence = match entry.confidence.as_str() {
                "possible" => Confidence::Possible,
                "likely" => Confidence::Likely,
                "confirmed" => Confidence::Confirmed,
                other => return Err(fail(format!("`{other}` is not a confidence"))),
            };
            let quoted = if is_text {
                format!("the string `{}`", probity_model::text::escape(&pattern))
            } else {
                format!("the byte sequence {}", entry.hex.as_deref().unwrap_or_default())
            };
            let description = entry.description.trim().replace('\n', " ");
            let rule = RuleDescriptor {
                id,
                name: entry.name,
                title: entry.title,
                analyzer: ID.into(),
                severity,
                confidence,
                cwe: entry.cwe,
                cve: entry.cve,
                references: entry.references.clone(),
                remediation: entry.remediation,
                doc: RuleDoc {
                    detects: format!("Content that contains {quoted}. {description}"),
                    why: format!(
                        "This exact value is tied by public analyses ({}) to hidden access in shipped \
                         network equipment. Its presence means the image carries the code or data of \
                         that mechanism, or a close relative of it.",
                        entry.references.join(", ")
                    ),
                    how: "Every distinct file content (identical files are read once) is searched in one \
                          Aho-Corasick pass for all known indicators at once; each occurrence is quoted as \
                          evidence with its offset and the SHA-256 of the matched bytes."
                        .into(),
                    false_positives: "Files that describe or detect the backdoor rather than implement it \
                         (a scanner's signature list, documentation, an exploit script kept in the image), \
                         and firmware in which the vendor left the value behind but removed the code that \
                         acts on it. Check the file the evidence points at before concluding."
                        .into(),
                    false_negatives:
                        "Only these exact bytes are matched: a copy that is obfuscated, encrypted, \
                         re-encoded (for example UTF-16), split across instructions, or stored in a \
                         container Probity could not unpack is missed, and so is any backdoor that was not \
                         published. Behaviour-based rules exist for the unpublished ones."
                            .into(),
                    example: format!(
                        "`rootfs ▸ /usr/sbin/httpd @0x1a2c4+{}`: evidence {quoted} at offset 0x1a2c4.",
                        pattern.len()
                    ),
                },
            };
            indicators.push(Indicator {
                rule,
                pattern,
                text: is_text,
            });
        }
        indicators.sort_by(|a, b| a.rule.id.cmp(&b.rule.id));
        let matcher = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .build(indicators.iter().map(|i| &i.pattern))
            .map_err(|e| AnalyzeError::rules(file, e))?;
        let rules = indicators.iter().map(|i| i.rule.clone()).collect();
        Ok(Indicators {
            indicators,
            rules,
            matcher,
        })
    }
}

impl Indicators {
    /// Every indicator found in `data`: its index, the number of occurrences, and the offsets of
    /// the first [`MAX_EVIDENCE`] of them in increasing order. Occurrences for which
    /// `skip(offset, length)` holds are left out.
    pub fn hits(&self, data: &[u8], skip: &dyn Fn(u64, u64) -> bool) -> BTreeMap<usize, (u64, Vec<usize>)> {
        let mut hits: BTreeMap<usize, (u64, Vec<usize>)> = BTreeMap::new();
        // Leftmost-first search keeps the matcher's SIMD prefilter (an overlapping search would run
        // the automaton over every byte, about 4x slower). Restarting one byte after the start of
        // each match still finds occurrences that overlap an earlier match; since no pattern is a
        // prefix of another (checked when the rules load), two patterns never match at the same
        // position, so every occurrence of every pattern is found.
        let mut at = 0;
        while at < data.len() {
            let Some(m) = self.matcher.find(aho_corasick::Input::new(data).range(at..)) else {
                break;
            };
            at = m.start() + 1;
            if skip(m.start() as u64, (m.end() - m.start()) as u64) {
                continue;
            }
            let slot = hits.entry(m.pattern().as_usize()).or_default();
            slot.0 += 1;
            if slot.1.len() < MAX_EVIDENCE {
                slot.1.push(m.start());
            }
        }
        hits
    }
}

impl Analyzer for Indicators {
    fn id(&self) -> &'static str {
        ID
    }

    fn rules(&self) -> &[RuleDescriptor] {
        &self.rules
    }

    fn analyze_content(&self, cx: &ContentContext<'_>, out: &mut Output) -> Result<(), AnalyzerFailure> {
        // A hit inside a member that is a byte-exact range of this content is the member's.
        for (index, (count, starts)) in self.hits(cx.data, &|o, l| cx.is_covered(o, l)) {
            let Some(ind) = self.indicators.get(index) else {
                continue;
            };
            let evidence: Vec<Evidence> = starts
                .iter()
                .filter_map(|&start| {
                    let bytes = cx.data.get(start..start + ind.pattern.len())?;
                    Some(if ind.text {
                        let enc = if bytes.is_ascii() {
                            StringEncoding::Ascii
                        } else {
                            StringEncoding::Utf8
                        };
                        Evidence::string(start as u64, bytes, enc, bytes)
                    } else {
                        Evidence::bytes(start as u64, bytes)
                    })
                })
                .collect();
            let first = starts.first().copied().unwrap_or_default();
            // Patterns come from our own rule data, not from the input; the text writer escapes
            // messages for the terminal anyway.
            let what = if ind.text {
                format!("`{}`", String::from_utf8_lossy(&ind.pattern))
            } else {
                format!("{}-byte constant", ind.pattern.len())
            };
            let message = if count == 1 {
                format!("{what} occurs once, at offset {first:#x}")
            } else {
                format!("{what} occurs {count} times, first at offset {first:#x}")
            };
            let mut draft =
                Draft::on_content(ind.rule.id.clone(), cx.sha256, message, ind.rule.id.to_string());
            draft.evidence = evidence;
            out.push(draft);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::rule_file;

    fn embedded() -> Indicators {
        let f = rule_file("indicators.toml").unwrap();
        Indicators::from_toml(f.name, f.text).unwrap()
    }

    #[test]
    fn embedded_rules_load() {
        let a = embedded();
        assert_eq!(a.rules().len(), 12);
        assert_eq!(a.rules()[0].id.as_str(), "PRB-IND-001");
        assert!(
            a.rules()
                .iter()
                .all(|r| !r.references.is_empty() && r.doc.detects.len() > 40)
        );
    }

    #[test]
    fn rejects_bad_entries() {
        let base = r#"[[indicator]]
id = "PRB-IND-001"
name = "X"
title = "t"
severity = "high"
confidence = "likely"
references = ["r"]
description = "d"
remediation = "r"
"#;
        let short = format!("{base}string = \"short\"\n");
        assert!(
            Indicators::from_toml("t", &short)
                .unwrap_err()
                .to_string()
                .contains("at least 8")
        );
        let both = format!("{base}string = \"longenough\"\nhex = \"0011223344556677\"\n");
        assert!(
            Indicators::from_toml("t", &both)
                .unwrap_err()
                .to_string()
                .contains("exactly one")
        );
        let badhex = format!("{base}hex = \"zz11223344556677\"\n");
        assert!(Indicators::from_toml("t", &badhex).is_err());
        let wrong_area = base.replace("PRB-IND-001", "PRB-CRED-001") + "string = \"longenough\"\n";
        assert!(Indicators::from_toml("t", &wrong_area).is_err());
        let unknown = format!("{base}string = \"longenough\"\nextra = 1\n");
        assert!(Indicators::from_toml("t", &unknown).is_err());
        let second = base.replace("PRB-IND-001", "PRB-IND-002");
        let prefix = format!("{base}string = \"longenough\"\n{second}string = \"longenough-and-more\"\n");
        assert!(
            Indicators::from_toml("t", &prefix)
                .unwrap_err()
                .to_string()
                .contains("prefix")
        );
    }

    #[test]
    fn overlapping_occurrences_are_all_found() {
        let rules = r#"[[indicator]]
id = "PRB-IND-001"
name = "A"
title = "a"
string = "abcabcab"
severity = "high"
confidence = "likely"
references = ["r"]
description = "d"
remediation = "r"
[[indicator]]
id = "PRB-IND-002"
name = "B"
title = "b"
string = "cabxyzxy"
severity = "high"
confidence = "likely"
references = ["r"]
description = "d"
remediation = "r"
"#;
        let a = Indicators::from_toml("t", rules).unwrap();
        // "abcabcab" at 0 and 3 (overlapping itself), "cabxyzxy" at 8 (overlapping the second).
        let hits = a.hits(b"abcabcabcabxyzxy", &|_, _| false);
        assert_eq!(hits.get(&0), Some(&(2, vec![0, 3])));
        assert_eq!(hits.get(&1), Some(&(1, vec![8])));
    }
}
