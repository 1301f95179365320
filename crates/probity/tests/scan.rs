//! End-to-end: `probity scan` on directory trees and files, with exact findings and evidence.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::path::Path;

use common::*;
use serde_json::Value;

const DLINK: &[u8] = b"xmlset_roodkcableoj28840ybtide";
const TENDA: &[u8] = b"w302r_mfg";
const XZ_HEX: &str = "f30f1efa554889f54c89ce5389fb81e7000000804883ec28488954241848894c2410";

/// A root file system with three planted indicators, one duplicated file, a clean file, a symlink
/// and an empty file.
fn planted(root: &Path) {
    put(root, "usr/sbin/httpd", &with_needles(4096, 1, DLINK, &[100]));
    put(root, "usr/sbin/httpd.bak", &with_needles(4096, 1, DLINK, &[100]));
    put(root, "bin/mfgd", &with_needles(2048, 2, TENDA, &[10, 1000]));
    let xz = probity_model::hex::decode(XZ_HEX).unwrap();
    put(root, "lib/liblzma.so.5", &with_needles(8192, 3, &xz, &[4096]));
    put(root, "etc/clean.conf", b"option = value\n");
    put(root, "etc/empty", b"");
    std::os::unix::fs::symlink("/usr/sbin/httpd", root.join("bin/web")).unwrap();
}

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    fs::create_dir(&root).unwrap();
    planted(&root);
    dir
}

fn finding<'a>(report: &'a Value, rule: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == rule)
        .unwrap_or_else(|| panic!("no {rule}"))
}

#[test]
fn planted_indicators_are_found_with_exact_evidence() {
    let dir = tree();
    let (r, _) = scan_json(&dir.path().join("rootfs"));
    assert_eq!(r["summary"]["findings"], 3);
    assert_eq!(r["summary"]["by_severity"]["critical"], 3);
    let ids: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["PRB-IND-001", "PRB-IND-002", "PRB-IND-011"]);

    let dlink = finding(&r, "PRB-IND-001");
    let locs: Vec<&Value> = dlink["locations"].as_array().unwrap().iter().collect();
    assert_eq!(locs.len(), 2, "identical content is one finding at both places");
    assert_eq!(locs[0]["hops"][0]["member"], "/usr/sbin/httpd");
    assert_eq!(locs[1]["hops"][0]["member"], "/usr/sbin/httpd.bak");
    assert_eq!(locs[0]["range"]["offset"], 100);
    assert_eq!(locs[0]["range"]["length"], 30);
    assert_eq!(
        locs[0]["hops"][0]["sha256"],
        sha256_hex(&with_needles(4096, 1, DLINK, &[100]))
    );
    let ev = &dlink["evidence"].as_array().unwrap()[0];
    assert_eq!(ev["type"], "string");
    assert_eq!(ev["encoding"], "ascii");
    assert_eq!(ev["value"], "xmlset_roodkcableoj28840ybtide");
    assert_eq!(ev["region"]["offset"], 100);
    assert_eq!(ev["region"]["sha256"], sha256_hex(DLINK));
    assert_eq!(dlink["cve"], serde_json::json!(["CVE-2013-6026"]));
    assert_eq!(
        dlink["references"][0],
        "https://nvd.nist.gov/vuln/detail/CVE-2013-6026"
    );

    let tenda = finding(&r, "PRB-IND-002");
    let offsets: Vec<u64> = tenda["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["region"]["offset"].as_u64().unwrap())
        .collect();
    assert_eq!(offsets, [10, 1000]);
    assert!(
        tenda["message"].as_str().unwrap().contains("occurs 2 times"),
        "{}",
        tenda["message"]
    );

    let xz = finding(&r, "PRB-IND-011");
    let ev = &xz["evidence"][0];
    assert_eq!(ev["type"], "bytes");
    assert_eq!(ev["hex"], XZ_HEX);
    assert_eq!(ev["region"]["offset"], 4096);
    assert_eq!(ev["region"]["length"], 34);
    assert_eq!(xz["locations"][0]["hops"][0]["member"], "/lib/liblzma.so.5");
}

#[test]
fn artifacts_and_coverage_account_for_everything() {
    let dir = tree();
    let (r, _) = scan_json(&dir.path().join("rootfs"));
    let arts = r["artifacts"].as_array().unwrap();
    // root + 5 directories (bin, etc, lib, usr, usr/sbin) + 6 files + 1 symlink
    assert_eq!(arts.len(), 13);
    let link = arts.iter().find(|a| a["hop"]["member"] == "/bin/web").unwrap();
    assert_eq!(link["kind"], "symlink");
    assert_eq!(link["link_target"], "/usr/sbin/httpd");
    assert_eq!(link["content"]["status"], "none");
    let bak = arts
        .iter()
        .find(|a| a["hop"]["member"] == "/usr/sbin/httpd.bak")
        .unwrap();
    let httpd = arts
        .iter()
        .find(|a| a["hop"]["member"] == "/usr/sbin/httpd")
        .unwrap();
    assert_eq!(bak["content"]["status"], "duplicate");
    assert_eq!(bak["content"]["of"], httpd["id"]);
    let c = &r["coverage"];
    assert_eq!(c["files"], 6);
    assert_eq!(c["files_analysed"], 5);
    assert_eq!(c["files_duplicate"], 1);
    assert_eq!(c["files_not_read"], 0);
    assert_eq!(c["bytes_analysed"], 4096 + 2048 + 8192 + 15);
    assert_eq!(r["input"]["kind"], "directory");
    assert_eq!(r["input"]["size"], 4096 * 2 + 2048 + 8192 + 15);
    assert_eq!(r["problems"].as_array().unwrap().len(), 0);
}

#[test]
fn json_is_byte_identical_across_runs_and_thread_counts() {
    let dir = tree();
    let root = dir.path().join("rootfs");
    let (_, a) = scan_json(&root);
    let mut c = probity();
    c.env("RAYON_NUM_THREADS", "1")
        .args(["scan", "--format", "json", "-q"])
        .arg(&root);
    let b = run_with_timeout(c, std::time::Duration::from_secs(60));
    assert_eq!(code(&b), 0);
    assert_eq!(a, b.stdout);
    let (_, again) = scan_json(&root);
    assert_eq!(a, again);
}

#[test]
fn report_validates_against_its_schema() {
    let dir = tree();
    let (_, raw) = scan_json(&dir.path().join("rootfs"));
    validate_report_schema(&raw).unwrap();
    // The validation is meaningful: a report missing a required field fails.
    let mut broken: Value = serde_json::from_slice(&raw).unwrap();
    broken["findings"][0]
        .as_object_mut()
        .unwrap()
        .remove("fingerprint");
    assert!(validate_report_schema(&serde_json::to_vec(&broken).unwrap()).is_err());
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let dir = tree();
    let o = run_os(&[
        "scan".as_ref(),
        dir.path().join("rootfs").as_os_str(),
        "--format".as_ref(),
        "sarif".as_ref(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let sarif: Value = serde_json::from_slice(&o.stdout).unwrap();
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), 3);
    let rule = &run["tool"]["driver"]["rules"][0];
    assert_eq!(rule["id"], "PRB-IND-001");
    assert_eq!(rule["properties"]["security-severity"], "9.5");
    assert!(
        rule["help"]["text"]
            .as_str()
            .unwrap()
            .contains("Known false positives")
    );
    let res = &run["results"][0];
    assert_eq!(res["ruleId"], "PRB-IND-001");
    assert_eq!(res["ruleIndex"], 0);
    assert_eq!(res["level"], "error");
    assert_eq!(
        res["partialFingerprints"]["probity/v1"].as_str().unwrap().len(),
        32
    );
    let loc = &res["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "rootfs/usr/sbin/httpd");
    assert_eq!(loc["region"]["byteOffset"], 100);
    assert_eq!(loc["region"]["byteLength"], 30);
    let idx = loc["artifactLocation"]["index"].as_u64().unwrap() as usize;
    assert_eq!(run["artifacts"][idx]["parentIndex"], 0);
    assert_eq!(run["artifacts"][0]["roles"][0], "analysisTarget");
    if let Some(result) = validate_shared("sarif-2.1.0", &o.stdout) {
        result.unwrap();
    }
}

#[test]
fn fingerprints_survive_a_new_release_with_moved_bytes() {
    let dir = tree();
    let (a, _) = scan_json(&dir.path().join("rootfs"));
    // "Release 2": the string moves inside the file and the tree is renamed.
    let root2 = dir.path().join("rootfs-v2");
    fs::create_dir(&root2).unwrap();
    planted(&root2);
    put(&root2, "usr/sbin/httpd", &with_needles(6000, 9, DLINK, &[3000]));
    let (b, _) = scan_json(&root2);
    let fp = |r: &Value, rule: &str| finding(r, rule)["fingerprint"].clone();
    assert_eq!(fp(&a, "PRB-IND-001"), fp(&b, "PRB-IND-001"));
    assert_eq!(fp(&a, "PRB-IND-011"), fp(&b, "PRB-IND-011"));
    assert_ne!(fp(&a, "PRB-IND-001"), fp(&a, "PRB-IND-011"));
}

#[test]
fn single_file_input() {
    let dir = tempfile::tempdir().unwrap();
    let f = put(dir.path(), "firmware.bin", &with_needles(1000, 4, TENDA, &[512]));
    let (r, _) = scan_json(&f);
    assert_eq!(r["input"]["kind"], "file");
    assert_eq!(r["input"]["name"], "firmware.bin");
    assert_eq!(r["input"]["size"], 1000);
    assert_eq!(
        r["input"]["sha256"],
        sha256_hex(&with_needles(1000, 4, TENDA, &[512]))
    );
    let f0 = &r["findings"][0];
    assert_eq!(f0["rule_id"], "PRB-IND-002");
    assert_eq!(f0["locations"][0]["hops"], serde_json::json!([]));
    assert_eq!(
        f0["locations"][0]["range"],
        serde_json::json!({"offset": 512, "length": 9})
    );
    let text = run_os(&[
        "scan".as_ref(),
        f.as_os_str(),
        "--color".as_ref(),
        "never".as_ref(),
    ]);
    assert!(
        stdout(&text).contains("at firmware.bin @0x200+9"),
        "{}",
        stdout(&text)
    );
}

#[test]
fn fail_on_sets_the_exit_status() {
    let dir = tree();
    let root = dir.path().join("rootfs");
    let with = |sev: &str| {
        code(&run_os(&[
            "scan".as_ref(),
            root.as_os_str(),
            "-q".as_ref(),
            "--fail-on".as_ref(),
            sev.as_ref(),
        ]))
    };
    assert_eq!(with("critical"), 1);
    assert_eq!(with("info"), 1);
    let clean = tempfile::tempdir().unwrap();
    put(clean.path(), "etc/ok", b"nothing here");
    assert_eq!(
        code(&run_os(&[
            "scan".as_ref(),
            clean.path().as_os_str(),
            "-q".as_ref(),
            "--fail-on".as_ref(),
            "info".as_ref()
        ])),
        0
    );
    assert_eq!(
        code(&run_os(&["scan".as_ref(), root.as_os_str(), "-q".as_ref()])),
        0,
        "no --fail-on: findings do not fail"
    );
}

#[test]
fn excluded_rules_do_not_run() {
    let dir = tree();
    let root = dir.path().join("rootfs");
    let o = run_os(&[
        "scan".as_ref(),
        root.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
        "--exclude-rule".as_ref(),
        "PRB-IND-00*".as_ref(),
    ]);
    assert_eq!(code(&o), 0);
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["PRB-IND-011"]);
    assert_eq!(
        r["settings"]["excluded_rules"],
        serde_json::json!(["PRB-IND-00*"])
    );
    let bad = run_os(&[
        "scan".as_ref(),
        root.as_os_str(),
        "--exclude-rule".as_ref(),
        "IND".as_ref(),
    ]);
    assert_eq!(code(&bad), 2);
    assert!(stderr(&bad).contains("not a rule id"), "{}", stderr(&bad));
}

#[test]
fn text_report_escapes_hostile_names_and_honours_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    put(&root, "www/\x1b[2Jevil\u{202e}txt", DLINK);
    let mut c = probity();
    c.args(["scan", "--color", "always"]).arg(&root);
    let colored = run_with_timeout(c, std::time::Duration::from_secs(60));
    let out = stdout(&colored);
    assert!(out.contains("\x1b[1;31mCRITICAL"), "colour requested: {out}");
    assert!(out.contains("/www/\\x1b[2Jevil\\u{202e}txt"), "{out}");
    assert!(
        !out.contains("\x1b[2J") && !out.contains('\u{202e}'),
        "raw control characters leaked"
    );
    let mut c = probity();
    c.env("NO_COLOR", "1").args(["scan"]).arg(&root);
    let plain = run_with_timeout(c, std::time::Duration::from_secs(60));
    assert!(!stdout(&plain).contains('\x1b'), "NO_COLOR must disable colour");
    assert!(
        stdout(&plain).contains("1 finding: 1 critical, 0 high, 0 medium, 0 low, 0 info"),
        "{}",
        stdout(&plain)
    );
}

#[test]
fn output_file_is_written_and_summary_goes_to_stderr() {
    let dir = tree();
    let out = dir.path().join("report.json");
    let o = run_os(&[
        "scan".as_ref(),
        dir.path().join("rootfs").as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(code(&o), 0);
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains("3 findings (3 critical)"), "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&fs::read(&out).unwrap()).unwrap();
    assert_eq!(r["summary"]["findings"], 3);
    assert!(!dir.path().join("report.json.tmp").exists());
}
