//! SARIF 2.1.0 output, for code-scanning dashboards and other SARIF consumers.
//!
//! Rules go to `tool.driver.rules` with their full documentation as help text and a
//! `security-severity`; every result carries `partialFingerprints` (Probity's stable fingerprint).
//! Byte positions are `region.byteOffset`/`byteLength`. Nested artifacts are listed in
//! `run.artifacts` with `parentIndex`. Because GitHub reads only the first location and ignores
//! nested artifacts, a result inside a container points its first location at the top-level input
//! and names the nested path in the message; the precise nested location follows in
//! `relatedLocations`. Problems become tool execution notifications.

use std::collections::BTreeMap;
use std::io::{self, Write};

use probity_model::{
    Confidence, InputKind, Locator, Report, RuleDescriptor, Severity, Sha256, locator::DIR_FORMAT,
};
use serde_json::{Value, json};

/// The URI of the project, for `informationUri`.
pub const INFORMATION_URI: &str = "https://github.com/probity-project/probity";

/// Writes `report` as SARIF 2.1.0.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &to_value(report))?;
    out.write_all(b"\n")
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// The `security-severity` score GitHub maps back to the same severity band.
fn security_severity(s: Severity) -> Option<&'static str> {
    match s {
        Severity::Critical => Some("9.5"),
        Severity::High => Some("8.0"),
        Severity::Medium => Some("5.5"),
        Severity::Low => Some("2.0"),
        Severity::Info => None,
    }
}

fn precision(c: Confidence) -> &'static str {
    match c {
        Confidence::Confirmed => "very-high",
        Confidence::Likely => "high",
        Confidence::Possible => "medium",
    }
}

/// Percent-encodes bytes for a URI path: unreserved characters and `/` stay, everything else
/// (including bytes that are not UTF-8) becomes `%XX`.
pub fn uri_path(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn rule_help(r: &RuleDescriptor) -> (String, String) {
    let d = &r.doc;
    let refs = r.references.join("\n");
    let text = format!(
        "What it detects: {}\n\nWhy it matters: {}\n\nHow it works: {}\n\nKnown false positives: {}\n\n\
         Known false negatives: {}\n\nExample: {}\n\nRemediation: {}\n\nReferences:\n{refs}",
        d.detects, d.why, d.how, d.false_positives, d.false_negatives, d.example, r.remediation
    );
    let md_refs: String = r.references.iter().map(|u| format!("- <{u}>\n")).collect();
    let markdown = format!(
        "**What it detects.** {}\n\n**Why it matters.** {}\n\n**How it works.** {}\n\n\
         **Known false positives.** {}\n\n**Known false negatives.** {}\n\n**Example.** {}\n\n\
         **Remediation.** {}\n\n**References**\n\n{md_refs}",
        d.detects, d.why, d.how, d.false_positives, d.false_negatives, d.example, r.remediation
    );
    (text, markdown)
}

/// Builds `run.artifacts`, one entry per distinct artifact a result points at, with its chain of
/// parents; returns the entries and a map from a locator (without range) to its index.
struct Artifacts {
    entries: Vec<Value>,
    index: BTreeMap<String, usize>,
    sizes: BTreeMap<Sha256, u64>,
}

impl Artifacts {
    fn new(report: &Report, root_uri: &str) -> Artifacts {
        let mut root = json!({
            "location": { "uri": root_uri },
            "roles": ["analysisTarget"],
            "hashes": { "sha-256": report.input.sha256.to_hex() },
        });
        if report.input.kind == InputKind::File {
            root["length"] = json!(report.input.size);
        }
        let mut index = BTreeMap::new();
        index.insert(Locator::root(report.input.name.clone()).to_string(), 0);
        let sizes = report
            .artifacts
            .iter()
            .filter_map(|a| Some((a.sha256?, a.size)))
            .collect();
        Artifacts {
            entries: vec![root],
            index,
            sizes,
        }
    }

    /// The index of the artifact `loc` (range ignored) names, adding it and its parents.
    fn add(&mut self, root_uri: &str, loc: &Locator) -> usize {
        let mut parent = 0;
        for depth in 1..=loc.hops.len() {
            let partial = Locator {
                root: loc.root.clone(),
                hops: loc.hops[..depth].to_vec(),
                range: None,
            };
            let key = partial.to_string();
            if let Some(&i) = self.index.get(&key) {
                parent = i;
                continue;
            }
            let hop = &loc.hops[depth - 1];
            let mut entry = json!({ "parentIndex": parent });
            match &hop.member {
                Some(member) if hop.format == DIR_FORMAT && depth == 1 => {
                    let uri = format!("{root_uri}{}", uri_path(&ensure_slash(member.as_bytes())));
                    entry["location"] = json!({ "uri": uri });
                }
                Some(member) => {
                    entry["location"] = json!({ "uri": uri_path(&ensure_slash(member.as_bytes())) });
                }
                None => {
                    entry["description"] = json!({ "text": format!("{} stream", hop.format) });
                }
            }
            if hop.member.is_none() || hop.format != DIR_FORMAT {
                entry["properties"] = json!({ "format": hop.format });
            }
            if let Some(off) = hop.offset {
                entry["offset"] = json!(off);
            }
            if let Some(sha) = hop.sha256 {
                entry["hashes"] = json!({ "sha-256": sha.to_hex() });
                if let Some(size) = self.sizes.get(&sha) {
                    entry["length"] = json!(size);
                }
            }
            entry["roles"] = json!(["resultFile"]);
            let i = self.entries.len();
            self.entries.push(entry);
            self.index.insert(key, i);
            parent = i;
        }
        parent
    }
}

fn ensure_slash(path: &[u8]) -> Vec<u8> {
    if path.first() == Some(&b'/') {
        path.to_vec()
    } else {
        [b"/", path].concat()
    }
}

/// The SARIF document for `report`.
pub fn to_value(report: &Report) -> Value {
    let root_uri = uri_path(report.input.name.as_bytes());
    let rule_index: BTreeMap<&str, usize> = report
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let rules: Vec<Value> = report
        .rules
        .iter()
        .map(|r| {
            let (text, markdown) = rule_help(r);
            let mut tags = vec![json!("firmware")];
            if r.severity > Severity::Info {
                tags.insert(0, json!("security"));
            }
            tags.extend(
                r.cwe
                    .iter()
                    .map(|c| json!(format!("external/cwe/{}", c.to_lowercase()))),
            );
            let mut props =
                json!({ "tags": tags, "precision": precision(r.confidence), "analyzer": r.analyzer });
            if let Some(ss) = security_severity(r.severity) {
                props["security-severity"] = json!(ss);
            }
            if !r.cve.is_empty() {
                props["cve"] = json!(r.cve);
            }
            json!({
                "id": r.id.as_str(),
                "name": r.name,
                "shortDescription": { "text": r.title },
                "fullDescription": { "text": r.doc.detects },
                "help": { "text": text, "markdown": markdown },
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": props,
            })
        })
        .collect();

    let mut artifacts = Artifacts::new(report, &root_uri);
    let mut results = Vec::new();
    for f in &report.findings {
        let mut locations = Vec::new();
        let mut related = Vec::new();
        for (n, loc) in f.locations.iter().enumerate() {
            let idx = artifacts.add(&root_uri, &loc.artifact());
            let uri = artifacts.entries[idx]["location"]["uri"].clone();
            let nested = !(loc.hops.is_empty() || (loc.hops.len() == 1 && loc.hops[0].format == DIR_FORMAT));
            let mut precise = json!({ "artifactLocation": { "index": idx } });
            if uri.is_string() {
                precise["artifactLocation"]["uri"] = uri;
            }
            if let Some(r) = loc.range {
                precise["region"] = json!({ "byteOffset": r.offset, "byteLength": r.length });
            }
            if !nested {
                locations
                    .push(json!({ "physicalLocation": precise, "message": { "text": loc.to_string() } }));
            } else {
                locations.push(json!({
                    "physicalLocation": { "artifactLocation": { "uri": root_uri, "index": 0 } },
                    "message": { "text": loc.to_string() },
                }));
                related.push(
                    json!({ "id": n, "physicalLocation": precise, "message": { "text": loc.to_string() } }),
                );
            }
        }
        let where_ = f
            .locations
            .first()
            .map(|l| format!(" (at {l})"))
            .unwrap_or_default();
        let mut result = json!({
            "ruleId": f.rule_id.as_str(),
            "level": level(f.severity),
            "message": { "text": format!("{}{where_}", f.message) },
            "locations": locations,
            "partialFingerprints": { "probity/v1": f.fingerprint.0 },
            "properties": {
                "severity": f.severity.as_str(),
                "confidence": f.confidence.as_str(),
                "locators": f.locations.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
                "cwe": f.cwe,
                "cve": f.cve,
            },
        });
        if let Some(&i) = rule_index.get(f.rule_id.as_str()) {
            result["ruleIndex"] = json!(i);
        }
        if !related.is_empty() {
            result["relatedLocations"] = json!(related);
        }
        results.push(result);
    }

    let notifications: Vec<Value> = report
        .problems
        .iter()
        .map(|p| {
            let at = p
                .artifact
                .and_then(|a| report.locator_of(a))
                .map(|l| format!("{l}: "))
                .unwrap_or_default();
            json!({
                "level": "warning",
                "message": { "text": format!("{}: {at}{}", p.source, p.message) },
                "properties": { "stage": p.stage },
            })
        })
        .collect();

    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "probity",
                "version": report.tool.version,
                "semanticVersion": report.tool.version,
                "informationUri": INFORMATION_URI,
                "rules": rules,
                "properties": { "ruleset": report.ruleset.version, "rulesetSha256": report.ruleset.sha256.to_hex() },
            }},
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "artifacts": artifacts.entries,
            "results": results,
            "columnKind": "unicodeCodePoints",
            "properties": {
                "input": { "name": report.input.name, "sha256": report.input.sha256.to_hex(), "size": report.input.size },
                "coverage": {
                    "files": report.coverage.files,
                    "filesAnalysed": report.coverage.files_analysed,
                    "filesNotRead": report.coverage.files_not_read,
                },
            },
        }],
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn uri_escaping() {
        assert_eq!(super::uri_path(b"/usr/sbin/httpd"), "/usr/sbin/httpd");
        assert_eq!(super::uri_path(b"/a b/\xff%"), "/a%20b/%FF%25");
    }
}
