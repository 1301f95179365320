//! End-to-end: `probity rules list|explain`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;

#[test]
fn list_shows_every_rule() {
    let o = run(&["rules", "list"]);
    assert_eq!(code(&o), 0);
    let out = stdout(&o);
    assert!(
        out.lines()
            .any(|l| l == "PRB-IND-001  critical  D-Link 'roodkcableoj' User-Agent authentication bypass"),
        "{out}"
    );
    // Rules per area: one line per analyzer family, updated when rules are added.
    let mut areas = std::collections::BTreeMap::new();
    for l in out.lines().filter(|l| l.starts_with("PRB-")) {
        *areas.entry(l.split('-').nth(1).unwrap().to_string()).or_insert(0) += 1;
    }
    let expected: std::collections::BTreeMap<String, i32> = [
        ("ACC", 6),
        ("CRED", 4),
        ("IND", 12),
        ("KEY", 6),
        ("PERM", 3),
        ("SVC", 8),
    ]
    .into_iter()
    .map(|(a, n)| (a.to_string(), n))
    .collect();
    assert_eq!(areas, expected);
    let total: i32 = expected.values().sum();
    assert!(out.contains(&format!("\n{total} rules;")), "{out}");
    let json = run(&["rules", "list", "--format", "json"]);
    let rules: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(rules.as_array().unwrap().len() as i32, total);
}

#[test]
fn explain_prints_every_heading() {
    let o = run(&["rules", "explain", "PRB-IND-011"]);
    assert_eq!(code(&o), 0);
    let out = stdout(&o);
    for h in [
        "What it detects",
        "Why it matters",
        "How it works",
        "Known false positives",
        "Known false negatives",
        "Example",
        "Remediation",
        "References",
    ] {
        assert!(out.contains(&format!("\n{h}\n")), "missing {h}: {out}");
    }
    assert!(out.contains("CVE-2024-3094"));
    let missing = run(&["rules", "explain", "PRB-IND-999"]);
    assert_eq!(code(&missing), 2);
    assert!(stderr(&missing).contains("no rule `PRB-IND-999`"));
}

#[test]
fn timestamp_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let f = put(dir.path(), "a.bin", b"0123456789abcdef");
    let (r, _) = scan_json(&f);
    assert!(r.get("timestamp").is_none());
    let o = run_os(&[
        "scan".as_ref(),
        f.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
        "--timestamp".as_ref(),
    ]);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ts = r["timestamp"].as_str().unwrap();
    assert_eq!(ts.len(), 20, "{ts}");
    assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b'T', "{ts}");
}
