//! End-to-end: the accounts analyzer on a fixture root file system (built by
//! `tests/fixtures/accounts.py`), with and without `--wordlist`, and on the corpus (TP-Link images
//! and FACT's test data; skipped with a message where the corpus is absent).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

/// Builds the fixture in a temporary directory.
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new("python3")
        .arg(workspace().join("tests/fixtures/accounts.py"))
        .arg(dir.path())
        .output()
        .expect("python3 runs the fixture script");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    dir
}

/// Scans `path` (with extra arguments) and returns the report and its raw bytes.
fn scan(path: &Path, extra: &[&str]) -> (Value, Vec<u8>) {
    let mut args: Vec<&std::ffi::OsStr> = vec!["scan".as_ref(), path.as_os_str()];
    args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
    args.extend(["--format", "json", "-q"].map(std::ffi::OsStr::new));
    let o = run_os(&args);
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    (serde_json::from_slice(&o.stdout).unwrap(), o.stdout)
}

/// The member path of a locator's last hop.
fn member(loc: &Value) -> String {
    match loc["hops"].as_array().unwrap().last() {
        Some(hop) => hop["member"].as_str().unwrap().to_string(),
        None => "<root>".into(),
    }
}

/// `(rule, severity, member, offset, length, message)` of every accounts finding, in report order.
fn findings(r: &Value) -> Vec<(String, String, String, u64, u64, String)> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"].as_str().unwrap().starts_with("PRB-ACC-"))
        .map(|f| {
            let region = &f["evidence"][0]["region"];
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                member(&f["locations"][0]),
                region["offset"].as_u64().unwrap(),
                region["length"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// One line per inventory account: `member line source name uid password hash_type recovered`.
fn accounts(r: &Value) -> Vec<String> {
    r["inventory"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let locs: Vec<String> = a["locations"].as_array().unwrap().iter().map(member).collect();
            format!(
                "{} {} {} {} {} {} {} {}",
                locs.join(","),
                a["line"],
                a["source"].as_str().unwrap(),
                a["name"].as_str().unwrap(),
                a.get("uid").map(|u| u.to_string()).unwrap_or("-".into()),
                a["password"].as_str().unwrap(),
                a["hash_type"].as_str().unwrap_or("-"),
                a["recovered"],
            )
        })
        .collect()
}

fn f(
    rule: &str,
    sev: &str,
    member: &str,
    offset: u64,
    length: u64,
    msg: &str,
) -> (String, String, String, u64, u64, String) {
    (rule.into(), sev.into(), member.into(), offset, length, msg.into())
}

const MIRAI: &str =
    "built-in list `mirai` (https://github.com/jgamblin/Mirai-Source-Code/blob/master/mirai/bot/scanner.c)";

fn expected_fixture_findings(wordlist: bool) -> Vec<(String, String, String, u64, u64, String)> {
    let mut v = vec![
        f(
            "PRB-ACC-005",
            "critical",
            "/etc/shadow",
            123,
            58,
            &format!("password of `toor` recovered: `xc3511` (md5-crypt, line 2; candidate from {MIRAI})"),
        ),
        f(
            "PRB-ACC-005",
            "critical",
            "/etc/shadow-",
            0,
            37,
            &format!("password of `root` recovered: `1234` (des-crypt, line 1; candidate from {MIRAI})"),
        ),
        f(
            "PRB-ACC-001",
            "high",
            "/etc/passwd",
            30,
            29,
            "account `toor` has user id 0 (line 2)",
        ),
        f(
            "PRB-ACC-002",
            "high",
            "/etc/shadow",
            270,
            25,
            "account `guest` has an empty password (line 5)",
        ),
        f(
            "PRB-ACC-003",
            "high",
            "/etc/shadow",
            296,
            37,
            "account `support` stores its password in clear (line 6)",
        ),
    ];
    if wordlist {
        v.push(f(
            "PRB-ACC-005",
            "high",
            "/etc/shadow",
            334,
            122,
            "password of `netops` recovered: `Tr0ub4dor&3` (sha512-crypt, line 7; candidate from --wordlist, line 501)",
        ));
    }
    v.extend([
        f(
            "PRB-ACC-005",
            "high",
            "/etc/shadow",
            210,
            59,
            &format!("password of `admin` recovered: `admin` (md5-crypt, line 4; candidate from {MIRAI})"),
        ),
        f(
            "PRB-ACC-005",
            "high",
            "/www/.htpasswd",
            0,
            46,
            &format!("password of `webadmin` recovered: `password` (apr1, line 1; candidate from {MIRAI})"),
        ),
        f(
            "PRB-ACC-004",
            "medium",
            "/etc/shadow",
            123,
            58,
            "account `toor` uses the weak hash scheme md5-crypt (line 2)",
        ),
        f(
            "PRB-ACC-004",
            "medium",
            "/etc/shadow",
            210,
            59,
            "account `admin` uses the weak hash scheme md5-crypt (line 4)",
        ),
        f(
            "PRB-ACC-004",
            "medium",
            "/etc/shadow-",
            0,
            37,
            "account `root` uses the weak hash scheme des-crypt (line 1)",
        ),
        f(
            "PRB-ACC-004",
            "medium",
            "/www/.htpasswd",
            0,
            46,
            "account `webadmin` uses the weak hash scheme apr1 (line 1)",
        ),
        f(
            "PRB-ACC-006",
            "low",
            "/etc/passwd",
            98,
            32,
            "service account `ftp` (uid 21) has login shell `/bin/sh` (line 4)",
        ),
    ]);
    v
}

fn expected_fixture_accounts(wordlist: bool) -> Vec<String> {
    let netops = if wordlist { "true" } else { "false" };
    vec![
        "/etc/passwd 1 passwd root 0 elsewhere - false".to_string(),
        "/etc/passwd 2 passwd toor 0 elsewhere - false".into(),
        "/etc/passwd 3 passwd daemon 1 elsewhere - false".into(),
        "/etc/passwd 4 passwd ftp 21 elsewhere - false".into(),
        "/etc/passwd 5 passwd admin 1000 elsewhere - false".into(),
        "/etc/passwd 6 passwd guest 1001 elsewhere - false".into(),
        "/etc/passwd 7 passwd support 1002 elsewhere - false".into(),
        "/etc/passwd 8 passwd netops 1003 elsewhere - false".into(),
        "/etc/passwd 9 passwd nobody 65534 elsewhere - false".into(),
        "/etc/shadow 1 shadow root - hash sha512-crypt false".into(),
        "/etc/shadow 2 shadow toor - hash md5-crypt true".into(),
        "/etc/shadow 3 shadow daemon - locked - false".into(),
        "/etc/shadow 4 shadow admin - hash md5-crypt true".into(),
        "/etc/shadow 5 shadow guest - empty - false".into(),
        "/etc/shadow 6 shadow support - plaintext - false".into(),
        format!("/etc/shadow 7 shadow netops - hash sha512-crypt {netops}"),
        "/etc/shadow 8 shadow nobody - locked - false".into(),
        "/etc/shadow- 1 shadow root - hash des-crypt true".into(),
        "/www/.htpasswd 1 htpasswd webadmin - hash apr1 true".into(),
    ]
}

#[test]
fn fixture_accounts_and_findings_are_exact() {
    let dir = fixture();
    let root = dir.path().join("rootfs");
    let (r, raw) = scan(&root, &[]);
    validate_report_schema(&raw).unwrap();
    assert_eq!(findings(&r), expected_fixture_findings(false));
    assert_eq!(accounts(&r), expected_fixture_accounts(false));

    // Every record region is exactly the record's line, and its digest is the line's.
    let shadow = std::fs::read(root.join("etc/shadow")).unwrap();
    let toor = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "PRB-ACC-005" && f["message"].as_str().unwrap().contains("`toor`"))
        .unwrap();
    let line = &shadow[123..181];
    assert!(line.starts_with(b"toor:$1$toorsalt$") && line.ends_with(b":::"));
    assert_eq!(toor["evidence"][0]["type"], "record");
    assert_eq!(toor["evidence"][0]["format"], "shadow");
    assert_eq!(toor["evidence"][0]["region"]["sha256"], sha256_hex(line));
    assert_eq!(toor["evidence"][0]["fields"][0]["name"], "name");
    assert_eq!(toor["evidence"][0]["fields"][0]["value"], "toor");
    assert_eq!(
        toor["evidence"][0]["fields"][1]["value"],
        std::str::from_utf8(&line[5..39]).unwrap()
    );
    let rec = &toor["evidence"][1];
    assert_eq!(rec["format"], "recovered-password");
    let fields: Vec<(&str, &str)> = rec["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap(), f["value"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            ("account", "toor"),
            ("scheme", "md5-crypt"),
            ("password", "xc3511"),
            ("candidate_source", MIRAI)
        ]
    );
    assert_eq!(toor["confidence"], "confirmed");
    assert_eq!(toor["cwe"], serde_json::json!(["CWE-798", "CWE-521", "CWE-259"]));

    // Fingerprints differ between findings and do not depend on the run.
    let prints: std::collections::BTreeSet<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(prints.len(), r["findings"].as_array().unwrap().len());
    let (_, raw_again) = scan(&root, &[]);
    assert_eq!(raw, raw_again);

    // `verify` re-reads every record region.
    let report = dir.path().join("report.json");
    std::fs::write(&report, &raw).unwrap();
    let v = run_os(&["verify".as_ref(), report.as_os_str(), root.as_os_str()]);
    assert_eq!(code(&v), 0, "{}{}", stdout(&v), stderr(&v));
}

#[test]
fn wordlist_recovers_one_more_password() {
    let dir = fixture();
    let words = dir.path().join("wordlist.txt");
    let (r, raw) = scan(
        &dir.path().join("rootfs"),
        &["--wordlist", words.to_str().unwrap()],
    );
    validate_report_schema(&raw).unwrap();
    assert_eq!(findings(&r), expected_fixture_findings(true));
    assert_eq!(accounts(&r), expected_fixture_accounts(true));
}

#[test]
fn oversized_wordlist_is_a_usage_error() {
    let dir = fixture();
    let words = dir.path().join("huge.txt");
    let mut text = String::with_capacity(8_000_000);
    for i in 0..1_000_001 {
        text.push_str(&format!("{i}\n"));
    }
    std::fs::write(&words, text).unwrap();
    let o = run_os(&[
        "scan".as_ref(),
        dir.path().join("rootfs").as_os_str(),
        "--wordlist".as_ref(),
        words.as_os_str(),
        "-q".as_ref(),
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("has more than 1000000 candidates"),
        "{}",
        stderr(&o)
    );
}

fn corpus(rel: &str) -> Option<PathBuf> {
    let p = shared()?.join("corpus").join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("SKIPPED: {} is absent", p.display());
        None
    }
}

#[test]
fn corpus_tl_wr841n_accounts() {
    let Some(image) = corpus("firmware/tplink-tl-wr841n-v10-3.16.9.bin") else {
        return;
    };
    let (r, _) = scan(&image, &[]);
    // /etc/passwd is a link to /tmp/passwd (written at run time); /etc/group has no passwords.
    assert_eq!(accounts(&r), ["/etc/shadow 1 shadow root - hash md5-crypt false"]);
    assert_eq!(
        findings(&r),
        [f(
            "PRB-ACC-004",
            "medium",
            "/etc/shadow",
            0,
            58,
            "account `root` uses the weak hash scheme md5-crypt (line 1)"
        )]
    );
    // The root password is not in the built-in list; a word list that has it recovers it.
    let dir = tempfile::tempdir().unwrap();
    let words = dir.path().join("w.txt");
    std::fs::write(&words, "admin\nsohoadmin\n").unwrap();
    let (r, _) = scan(&image, &["--wordlist", words.to_str().unwrap()]);
    assert_eq!(accounts(&r), ["/etc/shadow 1 shadow root - hash md5-crypt true"]);
    assert_eq!(
        findings(&r)[0],
        f(
            "PRB-ACC-005",
            "critical",
            "/etc/shadow",
            0,
            58,
            "password of `root` recovered: `sohoadmin` (md5-crypt, line 1; candidate from --wordlist, line 2)"
        )
    );
}

#[test]
fn corpus_mt7628_accounts() {
    let Some(image) = corpus("firmware/tplink-mt7628/rootfs.squashfs") else {
        return;
    };
    let (r, _) = scan(&image, &[]);
    assert_eq!(
        accounts(&r),
        [
            "/etc/passwd.bak 1 passwd admin 0 hash md5-crypt true",
            "/etc/passwd.bak 2 passwd dropbear 500 elsewhere - false",
            "/etc/passwd.bak 3 passwd nobody 0 locked - false",
        ]
    );
    assert_eq!(
        findings(&r),
        [
            f(
                "PRB-ACC-005",
                "critical",
                "/etc/passwd.bak",
                0,
                51,
                &format!("password of `admin` recovered: `1234` (md5-crypt, line 1; candidate from {MIRAI})")
            ),
            f(
                "PRB-ACC-001",
                "high",
                "/etc/passwd.bak",
                0,
                51,
                "account `admin` has user id 0 (line 1)"
            ),
            f(
                "PRB-ACC-004",
                "medium",
                "/etc/passwd.bak",
                0,
                51,
                "account `admin` uses the weak hash scheme md5-crypt (line 1)"
            ),
            f(
                "PRB-ACC-001",
                "low",
                "/etc/passwd.bak",
                102,
                29,
                "account `nobody` has user id 0 (line 3, its password is locked)"
            ),
            f(
                "PRB-ACC-006",
                "low",
                "/etc/passwd.bak",
                52,
                49,
                "service account `dropbear` (uid 500) has login shell `/bin/sh` (line 2)"
            ),
        ]
    );
}

#[test]
fn corpus_fact_users_and_passwords() {
    let Some(dir) = corpus("elf/fact/users_and_passwords") else {
        return;
    };
    let common = "built-in list `common-passwords` (https://github.com/danielmiessler/SecLists/blob/master/Passwords/Common-Credentials/10-million-password-list-top-100.txt)";
    let vendor = "built-in list `vendor-defaults` (https://github.com/danielmiessler/SecLists/blob/master/Passwords/Default-Credentials/default-passwords.csv)";

    // Shadow lines, htpasswd lines (apr1, {SHA}, Mosquitto's SHA-512) in one file.
    let (r, _) = scan(&dir.join("passwd_test"), &[]);
    let recovered: Vec<(String, String)> = findings(&r)
        .into_iter()
        .filter(|f| f.0 == "PRB-ACC-005")
        .map(|f| (f.1, f.5))
        .collect();
    let rec = |sev: &str, who: &str, pw: &str, scheme: &str, line: u32, from: &str| {
        (
            sev.to_string(),
            format!("password of `{who}` recovered: `{pw}` ({scheme}, line {line}; candidate from {from})"),
        )
    };
    assert_eq!(
        recovered,
        [
            rec("critical", "root", "root", "des-crypt", 9, MIRAI),
            rec("high", "test", "123456", "mosquitto-sha512", 7, MIRAI),
            rec("high", "admin", "admin", "sha1-base64", 8, MIRAI),
            rec("high", "user", "1234", "bcrypt", 10, MIRAI),
            rec("high", "user2", "secret", "md5-crypt", 11, vendor),
            rec("high", "nosalt", "root", "md5-crypt", 12, MIRAI),
            rec("high", "johndoe", "123456", "sha512-crypt", 4, MIRAI),
            rec("high", "max", "dragon", "apr1", 6, common),
        ]
    );
    assert_eq!(
        accounts(&r),
        [
            "<root> 1 shadow vboxadd - locked - false",
            "<root> 2 shadow mongodb - locked - false",
            "<root> 3 shadow clamav - locked - false",
            "<root> 4 shadow johndoe - hash sha512-crypt true",
            "<root> 5 shadow pulse - locked - false",
            "<root> 6 htpasswd max - hash apr1 true",
            "<root> 7 htpasswd test - hash mosquitto-sha512 true",
            "<root> 8 htpasswd admin - hash sha1-base64 true",
            "<root> 9 shadow root - hash des-crypt true",
            "<root> 10 shadow user - hash bcrypt true",
            "<root> 11 shadow user2 - hash md5-crypt true",
            "<root> 12 shadow nosalt - hash md5-crypt true",
        ]
    );
    let weak: Vec<String> = findings(&r)
        .into_iter()
        .filter(|f| f.0 == "PRB-ACC-004")
        .map(|f| f.5)
        .collect();
    assert_eq!(weak.len(), 6, "{weak:?}");

    // Records embedded in binary data.
    let (r, _) = scan(&dir.join("passwd.bin"), &[]);
    assert_eq!(
        accounts(&r),
        [
            "<root> 1 embedded johndoe - hash sha512-crypt true",
            "<root> 1 embedded max - hash apr1 true",
        ]
    );
    assert_eq!(
        findings(&r),
        [
            f(
                "PRB-ACC-005",
                "high",
                "<root>",
                3,
                106,
                &format!(
                    "password of `johndoe` recovered: `123456` (sha512-crypt, line 1; candidate from {MIRAI})"
                )
            ),
            f(
                "PRB-ACC-005",
                "high",
                "<root>",
                112,
                41,
                &format!("password of `max` recovered: `dragon` (apr1, line 1; candidate from {common})")
            ),
            f(
                "PRB-ACC-004",
                "medium",
                "<root>",
                112,
                41,
                "account `max` uses the weak hash scheme apr1 (line 1)"
            ),
        ]
    );

    // `user1:$.su.CHAR…` and the like: JavaScript and shell, not accounts.
    let (r, _) = scan(&dir.join("passwd_FP_test"), &[]);
    assert_eq!(accounts(&r), Vec::<String>::new());
    assert_eq!(findings(&r), []);
}
