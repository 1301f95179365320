//! End-to-end: `probity verify` re-derives every finding, and names the ones that no longer hold.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use common::*;
use serde_json::Value;

const DLINK: &[u8] = b"xmlset_roodkcableoj28840ybtide";
const ZYXEL: &[u8] = b"PrOw!aN_fXp";

fn setup() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    put(&root, "usr/sbin/httpd", &with_needles(4096, 1, DLINK, &[100]));
    put(
        &root,
        "usr/sbin/httpd.copy",
        &with_needles(4096, 1, DLINK, &[100]),
    );
    put(&root, "bin/zysh", &with_needles(1024, 2, ZYXEL, &[7, 500]));
    put(&root, "etc/motd", b"welcome\n");
    let report = dir.path().join("report.json");
    let o = run_os(&[
        "scan".as_ref(),
        root.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
        "-o".as_ref(),
        report.as_os_str(),
        "-q".as_ref(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    (dir, root, report)
}

fn verify(report: &Path, root: &Path) -> std::process::Output {
    run_os(&["verify".as_ref(), report.as_os_str(), root.as_os_str()])
}

fn flip(path: &Path, offset: usize) {
    let mut b = fs::read(path).unwrap();
    b[offset] ^= 0x20;
    fs::write(path, b).unwrap();
}

#[test]
fn untouched_input_verifies() {
    let (_dir, root, report) = setup();
    let o = verify(&report, &root);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    // 2 findings; PRB-IND-001 has 1 evidence item at 2 locations, PRB-IND-003 has 2 at 1.
    assert_eq!(stdout(&o).trim(), "2 findings, 4 evidence items verified");
}

#[test]
fn one_changed_byte_in_evidence_fails_naming_the_finding() {
    let (_dir, root, report) = setup();
    flip(&root.join("bin/zysh"), 500 + 3);
    let o = verify(&report, &root);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    let r: Value = serde_json::from_slice(&fs::read(&report).unwrap()).unwrap();
    let zy = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "PRB-IND-003")
        .unwrap();
    let fp = zy["fingerprint"].as_str().unwrap();
    assert!(
        out.contains(&format!("FAILED finding 2 PRB-IND-003 (fingerprint {fp})")),
        "{out}"
    );
    assert!(
        !out.contains("PRB-IND-001"),
        "the untouched finding still holds: {out}"
    );
    assert!(out.contains("input: SHA-256 is"), "{out}");
    assert!(
        out.contains("verification failed: 1 finding, 2 evidence items verified; 1 finding failed"),
        "{out}"
    );
}

#[test]
fn a_change_elsewhere_fails_on_the_input_digest_only() {
    let (_dir, root, report) = setup();
    fs::write(root.join("etc/motd"), b"welcome!\n").unwrap();
    let o = verify(&report, &root);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(out.starts_with("input: SHA-256 is"), "{out}");
    assert!(!out.contains("FAILED"), "{out}");
}

#[test]
fn an_edited_report_fails() {
    let (_dir, root, report) = setup();
    let mut r: Value = serde_json::from_slice(&fs::read(&report).unwrap()).unwrap();
    // Claim the evidence says something else, keeping the region's digest.
    let f = r["findings"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|f| f["rule_id"] == "PRB-IND-001")
        .unwrap();
    f["evidence"][0]["value"] = Value::from("xmlset_roodkcableoj28840ybtidX");
    fs::write(&report, serde_json::to_vec(&r).unwrap()).unwrap();
    let o = verify(&report, &root);
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("the quoted string differs from the bytes in the region"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_removed_file_fails_the_finding() {
    let (_dir, root, report) = setup();
    fs::remove_file(root.join("usr/sbin/httpd.copy")).unwrap();
    let o = verify(&report, &root);
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("FAILED finding 1 PRB-IND-001"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_non_utf8_member_name_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    fs::create_dir(&root).unwrap();
    let name = std::ffi::OsStr::from_bytes(b"bad\xffname");
    fs::write(root.join(name), with_needles(64, 5, DLINK, &[8])).unwrap();
    let report = dir.path().join("r.json");
    let o = run_os(&[
        "scan".as_ref(),
        root.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
        "-o".as_ref(),
        report.as_os_str(),
    ]);
    assert_eq!(code(&o), 0);
    let r: Value = serde_json::from_slice(&fs::read(&report).unwrap()).unwrap();
    assert_eq!(
        r["findings"][0]["locations"][0]["hops"][0]["member"],
        serde_json::json!({"base64": "L2JhZP9uYW1l"})
    );
    let v = verify(&report, &root);
    assert_eq!(code(&v), 0, "{}", stdout(&v));
    assert_eq!(stdout(&v).trim(), "1 finding, 1 evidence item verified");
}

#[test]
fn verify_refuses_what_is_not_a_report() {
    let (dir, root, _) = setup();
    let junk = put(dir.path(), "junk.json", b"{\"hello\": 1}");
    let o = verify(&junk, &root);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("not a Probity report"), "{}", stderr(&o));
    let future = put(dir.path(), "future.json", b"{\"schema_version\": \"9.0.0\"}");
    let o = verify(&future, &root);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("report schema 9.0.0 is not supported"),
        "{}",
        stderr(&o)
    );
    let missing = verify(&dir.path().join("nope.json"), &root);
    assert_eq!(code(&missing), 2);
}
