//! Hard-coded secrets (PRB-CRED-*): a small root file system with credentials in configuration
//! files, on script command lines, as service tokens and in a compiled executable; every finding
//! asserted with its evidence, and the clean look-alikes asserted silent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{put, scan_json, sha256_hex, shared};
use serde_json::Value;

/// (rule, member, message, evidence offset, evidence length) of every PRB-CRED finding.
fn cred_findings(r: &Value) -> Vec<(String, String, String, u64, u64)> {
    let mut v: Vec<_> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"].as_str().unwrap().starts_with("PRB-CRED"))
        .map(|f| {
            let hops = f["locations"][0]["hops"].as_array().unwrap();
            let region = &f["evidence"][0]["region"];
            (
                f["rule_id"].as_str().unwrap().to_string(),
                hops.last().unwrap()["member"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
                region["offset"].as_u64().unwrap(),
                region["length"].as_u64().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn offset_of(hay: &[u8], needle: &[u8]) -> u64 {
    hay.windows(needle.len()).position(|w| w == needle).unwrap() as u64
}

#[test]
fn credentials_in_configuration_scripts_tokens_and_executables() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let xml = b"<?xml version=\"1.0\"?>\n<config>\n  <AdminPassword>admin1234</AdminPassword>\n  \
                <PasswordMinLength>8</PasswordMinLength>\n  <user name=\"support\" password=\"$SUPPORT\"/>\n</config>\n";
    put(root, "etc/default_config.xml", xml);
    let hostapd =
        b"interface=wlan0\n# wpa_passphrase=commented\nwpa_passphrase=Welcome2Home\nwpa_key_mgmt=WPA-PSK\n";
    put(root, "etc/hostapd.conf", hostapd);
    let nss = b"passwd:\t\tcompat\nshadow:\t\tcompat\n";
    put(root, "etc/nsswitch.conf", nss);
    let rcs = b"#!/bin/sh\nmount -a\necho \"root:5up\" | chpasswd\ncwmpd --password=$ACS_PW &\nwget -u admin:tr069acs http://acs/\n";
    put(root, "etc/init.d/rcS", rcs);
    // The AWS documentation's example key id, glued to nothing; and one glued to a letter.
    let agent = b"endpoint=https://x\naws_id=AKIAIOSFODNN7EXAMPLE\nnot=XAKIAIOSFODNN7EXAMPLE\n";
    put(root, "usr/share/agent/agent.txt", agent);

    // A compiled login check: the user name and password are stored side by side.
    let src = root.join("login.c");
    std::fs::write(
        &src,
        "#include <string.h>\nint check(const char *u, const char *p) {\n  return !strcmp(u, \"root\") && \
         !strcmp(p, \"xc3511\");\n}\nint main(int c, char **v) { return c > 2 ? check(v[1], v[2]) : 0; }\n",
    )
    .unwrap();
    let exe = root.join("usr/sbin/logind");
    std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
    let cc = Command::new("cc")
        .args(["-O0", "-o"])
        .arg(&exe)
        .arg(&src)
        .status()
        .expect("cc (the system C compiler)");
    assert!(cc.success());
    std::fs::remove_file(&src).unwrap();
    let exe_bytes = std::fs::read(&exe).unwrap();

    let (r, _) = scan_json(root);
    let line_at = |data: &[u8], line: &[u8]| (offset_of(data, line), line.len() as u64);
    let (x_off, x_len) = line_at(xml, b"  <AdminPassword>admin1234</AdminPassword>");
    let (h_off, h_len) = line_at(hostapd, b"wpa_passphrase=Welcome2Home");
    let (c_off, c_len) = line_at(rcs, b"echo \"root:5up\" | chpasswd");
    let (w_off, w_len) = line_at(rcs, b"wget -u admin:tr069acs http://acs/");
    let aws = offset_of(agent, b"AKIAIOSFODNN7EXAMPLE\n");
    let pw = offset_of(&exe_bytes, b"xc3511\0");
    let s = String::from;
    assert_eq!(
        cred_findings(&r),
        vec![
            (
                s("PRB-CRED-001"),
                s("/usr/share/agent/agent.txt"),
                format!("AWS access key id (`AKIA…`, 20 characters) at offset {aws:#x}"),
                aws,
                20
            ),
            (
                s("PRB-CRED-002"),
                s("/etc/default_config.xml"),
                s("`admin_password` is set to a fixed 9-character value on line 3"),
                x_off,
                x_len
            ),
            (
                s("PRB-CRED-002"),
                s("/etc/hostapd.conf"),
                s("`wpa_passphrase` is set to a fixed 12-character value on line 3"),
                h_off,
                h_len
            ),
            (
                s("PRB-CRED-003"),
                s("/etc/init.d/rcS"),
                s("a fixed credential is passed as chpasswd input on line 3"),
                c_off,
                c_len
            ),
            (
                s("PRB-CRED-003"),
                s("/etc/init.d/rcS"),
                s("a fixed credential is passed as user:password option on line 5"),
                w_off,
                w_len
            ),
            (
                s("PRB-CRED-004"),
                s("/usr/sbin/logind"),
                format!("a 6-character password-like string is stored next to `root` at offset {pw:#x}"),
                pw,
                6
            ),
        ]
    );
    // The evidence quotes exactly the bytes it points at.
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "PRB-CRED-002" && f["message"].as_str().unwrap().contains("wpa_"))
        .unwrap();
    assert_eq!(f["evidence"][0]["type"], "lines");
    assert_eq!(f["evidence"][0]["excerpt"], "wpa_passphrase=Welcome2Home");
    assert_eq!(
        f["evidence"][0]["region"]["sha256"],
        sha256_hex(b"wpa_passphrase=Welcome2Home")
    );
    assert_eq!(f["evidence"][1]["fields"][1]["value"], "Welcome2Home");
    assert_eq!(f["severity"], "medium");
    assert_eq!(f["cwe"], serde_json::json!(["CWE-798", "CWE-260", "CWE-1392"]));
}

#[test]
fn clean_debian_binaries_give_no_credential_findings() {
    // Every hit in clean software is a false positive: the rate is in docs/benchmarks.md.
    let Some(shared) = shared() else { return };
    let debian = shared.join("corpus/elf/debian");
    if !Path::new(&debian).is_dir() {
        eprintln!("SKIPPED: {} is absent", debian.display());
        return;
    }
    let (r, _) = scan_json(&debian);
    assert_eq!(cred_findings(&r), vec![]);
}
