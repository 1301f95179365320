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
        out.starts_with("PRB-ACC-001  high  Account other than root with user id 0\n"),
        "{out}"
    );
    assert!(
        out.contains("\nPRB-IND-001  critical  D-Link 'roodkcableoj' User-Agent authentication bypass\n"),
        "{out}"
    );
    assert!(out.contains("\n18 rules;"), "{out}");
    let json = run(&["rules", "list", "--format", "json"]);
    let rules: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(rules.as_array().unwrap().len(), 18);
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
