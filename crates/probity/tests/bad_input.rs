//! End-to-end: hostile and broken inputs get a clear one-line error (exit 2) or a recorded
//! problem, never a panic or a hang.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use common::*;
use serde_json::Value;

fn assert_clean_error(o: &std::process::Output, expected: &str) {
    assert_eq!(code(o), 2, "stdout {} stderr {}", stdout(o), stderr(o));
    let err = stderr(o);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("probity: error: "), "{err}");
    assert!(err.contains(expected), "expected `{expected}` in {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn missing_path() {
    let o = run(&["scan", "/nonexistent/firmware.bin"]);
    assert_clean_error(&o, "`/nonexistent/firmware.bin` does not exist");
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = put(dir.path(), "empty.bin", b"");
    assert_clean_error(
        &run_os(&["scan".as_ref(), f.as_os_str()]),
        "is empty: there is nothing to scan",
    );
}

fn unprivileged_scan(path: &std::path::Path) -> std::process::Output {
    let mut c: Command = probity_unprivileged();
    c.args(["scan", "--format", "json"]).arg(path);
    run_with_timeout(c, Duration::from_secs(60))
}

#[test]
fn unreadable_file_as_input() {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let f = put(dir.path(), "secret.bin", b"0123456789");
    fs::set_permissions(&f, fs::Permissions::from_mode(0o000)).unwrap();
    assert_clean_error(&unprivileged_scan(&f), "Permission denied");
}

#[test]
fn unreadable_file_in_a_tree_is_a_problem_not_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let root = dir.path().join("rootfs");
    put(&root, "etc/ok", b"fine");
    let f = put(&root, "etc/shadow", b"root:x:0:0");
    for d in [&root, &root.join("etc")] {
        fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
    }
    fs::set_permissions(&f, fs::Permissions::from_mode(0o000)).unwrap();
    let o = unprivileged_scan(&root);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["coverage"]["files_analysed"], 1);
    assert_eq!(r["coverage"]["files_not_read"], 1);
    let p = &r["problems"][0];
    assert_eq!(p["stage"], "read");
    assert!(
        p["message"].as_str().unwrap().contains("Permission denied"),
        "{p}"
    );
    let shadow = r["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["hop"]["member"] == "/etc/shadow")
        .unwrap();
    assert_eq!(shadow["content"]["status"], "not_read");
}

#[test]
fn symlink_loops_are_recorded_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    fs::create_dir(&root).unwrap();
    std::os::unix::fs::symlink("b", root.join("a")).unwrap();
    std::os::unix::fs::symlink("a", root.join("b")).unwrap();
    std::os::unix::fs::symlink(".", root.join("self")).unwrap();
    std::os::unix::fs::symlink("/", root.join("host-root")).unwrap();
    put(&root, "etc/f", b"data");
    let (r, _) = scan_json(&root);
    let links: Vec<(String, String)> = r["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "symlink")
        .map(|a| {
            (
                a["hop"]["member"].as_str().unwrap().to_string(),
                a["link_target"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        links,
        [
            ("/a".into(), "b".into()),
            ("/b".into(), "a".into()),
            ("/host-root".into(), "/".into()),
            ("/self".into(), ".".into())
        ]
    );
    assert_eq!(r["coverage"]["files"], 1, "nothing outside the root was read");
}

#[test]
fn symlink_loop_as_input() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("l2", dir.path().join("l1")).unwrap();
    std::os::unix::fs::symlink("l1", dir.path().join("l2")).unwrap();
    assert_clean_error(
        &run_os(&["scan".as_ref(), dir.path().join("l1").as_os_str()]),
        "too many levels of symbolic links",
    );
}

fn mkfifo(path: &std::path::Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
    assert!(ok, "mkfifo");
}

#[test]
fn fifo_in_a_tree_is_recorded_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    put(&root, "etc/f", b"data");
    mkfifo(&root.join("dev-pipe"));
    // Nobody writes to the FIFO: opening it for reading would block forever.
    let o = run_with_timeout(
        {
            let mut c = probity();
            c.args(["scan", "--format", "json"]).arg(&root);
            c
        },
        Duration::from_secs(30),
    );
    assert_eq!(code(&o), 0);
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let fifo = r["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["hop"]["member"] == "/dev-pipe")
        .unwrap();
    assert_eq!(fifo["kind"], "fifo");
    assert_eq!(fifo["content"]["status"], "not_read");
    assert_eq!(r["coverage"]["special_files"], 1);
}

#[test]
fn fifo_as_input() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("pipe");
    mkfifo(&p);
    assert_clean_error(
        &run_os(&["scan".as_ref(), p.as_os_str()]),
        "is a FIFO; Probity reads only regular files and directories",
    );
}

#[test]
fn sparse_100_gib_file_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    put(&root, "etc/f", b"data");
    let big = root.join("huge.img");
    fs::File::create(&big).unwrap().set_len(100 << 30).unwrap();
    let (r, _) = scan_json(&root);
    assert_eq!(r["coverage"]["files_not_read"], 1);
    let reason = r["coverage"]["not_read"][0]["reason"].as_str().unwrap();
    assert_eq!(
        reason,
        "107374182400 bytes, above the limit of 2147483648 bytes (--max-file-size); sparse file"
    );
    assert_eq!(r["input"]["size"], (100u64 << 30) + 4);
    // As the input itself: refused up front.
    assert_clean_error(
        &run_os(&["scan".as_ref(), big.as_os_str()]),
        "is 107374182400 bytes, above the limit of 2147483648 bytes",
    );
}

#[test]
fn invalid_utf8_names_are_preserved() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    fs::create_dir(&root).unwrap();
    fs::write(root.join(std::ffi::OsStr::from_bytes(b"caf\xe9")), b"x").unwrap();
    let (r, _) = scan_json(&root);
    let a = &r["artifacts"][1];
    assert_eq!(a["hop"]["member"], serde_json::json!({"base64": "L2NhZuk="}));
    let o = run_os(&["scan".as_ref(), root.as_os_str()]);
    assert_eq!(code(&o), 0);
}

#[test]
fn directory_deeper_than_the_limit_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    let mut p = root.clone();
    for i in 0..5 {
        p = p.join(format!("d{i}"));
    }
    put(&p, "leaf", b"deep");
    let o = run_os(&[
        "scan".as_ref(),
        root.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
        "--max-dir-depth".as_ref(),
        "3".as_ref(),
    ]);
    assert_eq!(code(&o), 0);
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let msg = r["problems"][0]["message"].as_str().unwrap();
    assert_eq!(
        msg,
        "`/d0/d1/d2` is nested deeper than 3 levels (limit --max-dir-depth); not entered"
    );
    assert_eq!(r["coverage"]["files"], 0);
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(code(&run(&["scan"])), 2);
    assert_eq!(code(&run(&["scan", ".", "--format", "pdf"])), 2);
    assert_eq!(code(&run(&["scan", ".", "--max-file-size", "lots"])), 2);
    assert_eq!(code(&run(&["frobnicate"])), 2);
    let help = run(&["scan", "--help"]);
    assert_eq!(code(&help), 0);
    for flag in [
        "--format",
        "--output",
        "--fail-on",
        "--timestamp",
        "--exclude-rule",
        "--max-file-size",
        "--quiet",
        "--verbose",
        "--color",
    ] {
        assert!(stdout(&help).contains(flag), "help documents {flag}");
    }
}
