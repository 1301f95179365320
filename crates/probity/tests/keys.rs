//! Keys and certificates end to end: a root file system built by `tests/fixtures/keys.sh` with
//! openssl, ssh-keygen, dropbearkey and puttygen, scanned by the binary; the key inventory and the
//! findings are asserted exactly, with fingerprints and dates as the tools themselves report them.
//! Then `--known-keys`, and the real-world samples of the shared corpus (skipped where absent).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

/// Builds the fixture into a fresh directory; returns it and the facts the tools wrote.
fn fixture() -> (tempfile::TempDir, BTreeMap<String, String>) {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(workspace().join("tests/fixtures/keys.sh"))
        .arg(dir.path())
        .output()
        .expect("run tests/fixtures/keys.sh");
    assert!(
        o.status.success(),
        "tests/fixtures/keys.sh failed (scripts/setup-debian installs openssl, openssh-client, dropbear-bin, putty-tools):\n{}{}",
        stdout(&o),
        stderr(&o)
    );
    let facts = fs::read_to_string(dir.path().join("facts.txt"))
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(' ').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    (dir, facts)
}

fn scan(path: &Path, extra: &[&str]) -> (Value, Vec<u8>) {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "scan".as_ref(),
        path.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
        "-q".as_ref(),
    ];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    let o = run_os(&args);
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    (serde_json::from_slice(&o.stdout).unwrap(), o.stdout)
}

/// The member path of a location (its last hop).
fn member(loc: &Value) -> String {
    loc["hops"].as_array().unwrap().last().unwrap()["member"]
        .as_str()
        .unwrap()
        .to_string()
}

/// One inventory entry as a line: path, kind, format, algorithm, bits, fingerprint, encrypted,
/// offset, and for certificates subject | issuer | not_before | not_after | self_signed.
fn key_lines(report: &Value) -> Vec<String> {
    report["inventory"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let s = |f: &str| match &k[f] {
                Value::Null => "-".to_string(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let locs: Vec<String> = k["locations"].as_array().unwrap().iter().map(member).collect();
            let mut line = format!(
                "{} {} {} {} {} {} encrypted={} @{}",
                locs.join(","),
                s("kind"),
                s("format"),
                s("algorithm"),
                s("bits"),
                s("fingerprint_sha256"),
                s("encrypted"),
                s("offset")
            );
            if k["kind"] == "certificate" {
                line += &format!(
                    " | {} | {} | {} | {} | self_signed={}",
                    s("subject"),
                    s("issuer"),
                    s("not_before"),
                    s("not_after"),
                    s("self_signed")
                );
            }
            line
        })
        .collect()
}

/// Each finding as a line: rule, severity, path@offset+length of its location, message.
fn finding_lines(report: &Value) -> Vec<String> {
    let mut out: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let locs: Vec<String> = f["locations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| format!("{}@{}+{}", member(l), l["range"]["offset"], l["range"]["length"]))
                .collect();
            format!(
                "{} {} {} {}",
                f["rule_id"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
                locs.join(","),
                f["message"].as_str().unwrap()
            )
        })
        .collect();
    out.sort();
    out
}

/// `assert_eq!` on sorted lines, naming what is missing and what is extra.
fn assert_lines(mut got: Vec<String>, mut expected: Vec<String>) {
    got.sort();
    expected.sort();
    let missing: Vec<&String> = expected.iter().filter(|e| !got.contains(e)).collect();
    let extra: Vec<&String> = got.iter().filter(|g| !expected.contains(g)).collect();
    assert_eq!(got, expected, "\nmissing: {missing:#?}\nextra: {extra:#?}");
}

fn len_of(root: &Path, rel: &str) -> usize {
    fs::metadata(root.join(rel.trim_start_matches('/')))
        .unwrap()
        .len() as usize
}

fn find(root: &Path, rel: &str, needle: &str) -> usize {
    let data = fs::read(root.join(rel.trim_start_matches('/'))).unwrap();
    data.windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .unwrap()
}

struct Fx {
    _dir: tempfile::TempDir,
    root: PathBuf,
    facts: BTreeMap<String, String>,
}

impl Fx {
    fn new() -> Fx {
        let (dir, facts) = fixture();
        let root = dir.path().join("root");
        Fx {
            _dir: dir,
            root,
            facts,
        }
    }
    fn f(&self, name: &str) -> &str {
        self.facts.get(name).unwrap_or_else(|| panic!("no fact {name}"))
    }
}

#[test]
fn fixture_inventory_and_findings_are_exact() {
    let fx = Fx::new();
    let (report, raw) = scan(&fx.root, &[]);
    validate_report_schema(&raw).unwrap();
    assert_eq!(report["problems"], serde_json::json!([]));
    let f = |n: &str| fx.f(n).to_string();
    let cert = |name: &str, subject: &str, issuer: &str, self_signed: bool| {
        format!(
            " | {subject} | {issuer} | {} | {} | self_signed={self_signed}",
            f(&format!("{name}.start")),
            f(&format!("{name}.end"))
        )
    };
    let server_cert_at = find(&fx.root, "/etc/ssl/server.pem", "-----BEGIN CERTIFICATE-----");
    let vendor_at = find(
        &fx.root,
        "/home/admin/.ssh/authorized_keys",
        "ecdsa-sha2-nistp256 ",
    );
    let expected = vec![
        format!(
            "/etc/dropbear/dropbear_rsa_host_key private-key dropbear rsa 2048 {} encrypted=false @0",
            f("dropbear")
        ),
        format!(
            "/etc/ssh/ssh_host_ed25519_key private-key openssh ed25519 256 {} encrypted=false @0",
            f("sshhost")
        ),
        format!(
            "/etc/ssh/ssh_host_ed25519_key.pub public-key ssh-public ed25519 256 {} encrypted=false @0",
            f("sshhost")
        ),
        format!(
            "/etc/ssl/certs/ca.crt certificate pem ec 384 {} encrypted=false @0",
            f("ca")
        ) + &cert(
            "ca",
            "CN=Example CA,O=Example Networks",
            "CN=Example CA,O=Example Networks",
            true,
        ),
        format!(
            "/etc/ssl/certs/weak.crt certificate pem rsa 1024 {} encrypted=false @0",
            f("weakcert")
        ) + &cert(
            "weakcert",
            "CN=router.local,O=Example Networks,C=DE",
            "CN=router.local,O=Example Networks,C=DE",
            true,
        ),
        format!(
            "/etc/ssl/certs/weak.der certificate der rsa 1024 {} encrypted=false @0",
            f("weakcert")
        ) + &cert(
            "weakcert",
            "CN=router.local,O=Example Networks,C=DE",
            "CN=router.local,O=Example Networks,C=DE",
            true,
        ),
        format!(
            "/etc/ssl/private/dsa.key private-key pem dsa 1024 {} encrypted=false @0",
            f("dsa")
        ),
        "/etc/ssl/private/legacy-encrypted.key private-key pem rsa - - encrypted=true @0".to_string(),
        "/etc/ssl/private/pkcs8-encrypted.key private-key pem - - - encrypted=true @0".to_string(),
        format!(
            "/etc/ssl/private/pkcs8.key private-key pem rsa 2048 {} encrypted=false @0",
            f("pkcs8")
        ),
        format!(
            "/etc/ssl/private/plain.p12 certificate pkcs12 ec 256 {} encrypted=false @{}",
            f("p12cert"),
            f("p12cert.offset")
        ) + &cert("p12cert", "CN=p12", "CN=p12", true),
        format!(
            "/etc/ssl/private/plain.p12 private-key pkcs12 ec 256 {} encrypted=false @{}",
            f("p12"),
            f("p12.offset")
        ),
        format!(
            "/etc/ssl/private/weak.key private-key pem rsa 1024 {} encrypted=false @0",
            f("weak")
        ),
        // OpenSSL's PKCS#12 defaults (AES-256-CBC, PBKDF2), opened with the empty password.
        format!(
            "/etc/ssl/private/weak.p12 certificate pkcs12 rsa 1024 {} encrypted=false @0",
            f("weakcert")
        ) + &cert(
            "weakcert",
            "CN=router.local,O=Example Networks,C=DE",
            "CN=router.local,O=Example Networks,C=DE",
            true,
        ),
        format!(
            "/etc/ssl/private/weak.p12 private-key pkcs12 rsa 1024 {} encrypted=false @0",
            f("weak")
        ),
        format!(
            "/etc/ssl/server.pem private-key pem ec 256 {} encrypted=false @0",
            f("server")
        ),
        format!(
            "/etc/ssl/server.pem certificate pem ec 256 {} encrypted=false @{server_cert_at}",
            f("servercert")
        ) + &cert(
            "servercert",
            "CN=device.example.net",
            "CN=Example CA,O=Example Networks",
            false,
        ),
        format!(
            "/home/admin/.ssh/authorized_keys public-key ssh-public rsa 3072 {} encrypted=false @0",
            f("vendor")
        ),
        format!(
            "/home/admin/.ssh/authorized_keys public-key ssh-public ec 256 {} encrypted=false @{vendor_at}",
            f("support")
        ),
        format!(
            "/root/admin.ppk private-key putty rsa 2048 {} encrypted=false @0",
            f("putty")
        ),
        format!(
            "/usr/bin/blob.bin private-key pem rsa 2048 {} encrypted=false @4096",
            f("embedded")
        ),
    ];
    assert_lines(key_lines(&report), expected);

    // Findings, with the byte range each is located at.
    let pem = |rel: &str| len_of(&fx.root, rel) - 1; // the file without its final newline
    let key001 = |rel: &str, off: usize, len: usize, what: &str, role: &str, format: &str, fp: &str| {
        format!(
            "PRB-KEY-001 high {rel}@{off}+{len} unencrypted {what} private key{role} in {format}, public-key fingerprint {fp}: every unit of the product carries it"
        )
    };
    let vendor_len = find(&fx.root, "/home/admin/.ssh/authorized_keys", " vendor@build");
    let support_len = find(&fx.root, "/home/admin/.ssh/authorized_keys", " support") - vendor_at;
    let server_key_len = find(&fx.root, "/etc/ssl/server.pem", "-----END EC PRIVATE KEY-----")
        + "-----END EC PRIVATE KEY-----".len();
    let server_cert_len = pem("/etc/ssl/server.pem") - server_cert_at;
    let expected = vec![
        key001(
            "/etc/dropbear/dropbear_rsa_host_key",
            0,
            len_of(&fx.root, "/etc/dropbear/dropbear_rsa_host_key"),
            "rsa 2048-bit",
            " (Dropbear SSH host key)",
            "dropbear (dropbear)",
            &f("dropbear"),
        ),
        key001(
            "/etc/ssh/ssh_host_ed25519_key",
            0,
            pem("/etc/ssh/ssh_host_ed25519_key"),
            "ed25519 256-bit",
            " (OpenSSH host key)",
            "openssh (openssh-key-v1)",
            &f("sshhost"),
        ),
        key001(
            "/etc/ssl/private/dsa.key",
            0,
            pem("/etc/ssl/private/dsa.key"),
            "dsa 1024-bit",
            " (TLS key)",
            "pem (DSA PRIVATE KEY)",
            &f("dsa"),
        ),
        key001(
            "/etc/ssl/private/pkcs8.key",
            0,
            pem("/etc/ssl/private/pkcs8.key"),
            "rsa 2048-bit",
            " (TLS key)",
            "pem (PRIVATE KEY)",
            &f("pkcs8"),
        ),
        key001(
            "/etc/ssl/private/plain.p12",
            f("p12.offset").parse().unwrap(),
            f("p12.length").parse().unwrap(),
            "ec p-256 256-bit",
            " (TLS key)",
            "pkcs12 (pkcs12)",
            &f("p12"),
        ),
        key001(
            "/etc/ssl/private/weak.key",
            0,
            pem("/etc/ssl/private/weak.key"),
            "rsa 1024-bit",
            " (TLS key)",
            "pem (RSA PRIVATE KEY)",
            &f("weak"),
        ),
        key001(
            "/etc/ssl/private/weak.p12",
            0,
            len_of(&fx.root, "/etc/ssl/private/weak.p12"),
            "rsa 1024-bit",
            " (TLS key)",
            "pkcs12 (pkcs12, opened with the empty password)",
            &f("weak"),
        ),
        key001(
            "/etc/ssl/server.pem",
            0,
            server_key_len,
            "ec p-256 256-bit",
            " (TLS key)",
            "pem (EC PRIVATE KEY)",
            &f("server"),
        ),
        key001(
            "/root/admin.ppk",
            0,
            pem("/root/admin.ppk"),
            "rsa 2048-bit",
            " (PuTTY user key)",
            "putty (PuTTY-User-Key-File-3)",
            &f("putty"),
        ),
        key001(
            "/usr/bin/blob.bin",
            4096,
            f("embedded.length").parse().unwrap(),
            "rsa 2048-bit",
            "",
            "pem (RSA PRIVATE KEY)",
            &f("embedded"),
        ),
        format!(
            "PRB-KEY-002 medium /etc/ssl/certs/weak.crt@0+{} certificate is rsa 1024-bit, below the 2048 bits required",
            pem("/etc/ssl/certs/weak.crt")
        ),
        format!(
            "PRB-KEY-002 medium /etc/ssl/certs/weak.der@0+{} certificate is rsa 1024-bit, below the 2048 bits required",
            len_of(&fx.root, "/etc/ssl/certs/weak.der")
        ),
        format!(
            "PRB-KEY-002 medium /etc/ssl/private/dsa.key@0+{} private key is dsa 1024-bit, below the 2048 bits required",
            pem("/etc/ssl/private/dsa.key")
        ),
        format!(
            "PRB-KEY-002 medium /etc/ssl/private/weak.key@0+{} private key is rsa 1024-bit, below the 2048 bits required",
            pem("/etc/ssl/private/weak.key")
        ),
        // The key and the certificate in the store are one finding with two pieces of evidence.
        format!(
            "PRB-KEY-002 medium /etc/ssl/private/weak.p12@0+{} private key is rsa 1024-bit, below the 2048 bits required",
            len_of(&fx.root, "/etc/ssl/private/weak.p12")
        ),
        format!(
            "PRB-KEY-003 medium /etc/ssl/private/weak.p12@0+{} the private key with fingerprint {} belongs to the certificate `CN=router.local,O=Example Networks,C=DE`: the device's identity is baked into the image",
            len_of(&fx.root, "/etc/ssl/private/weak.p12"),
            f("weak")
        ),
        format!(
            "PRB-KEY-003 medium /etc/ssl/private/plain.p12@{}+{} the private key with fingerprint {} belongs to the certificate `CN=p12`: the device's identity is baked into the image",
            f("p12.offset"),
            f("p12.length"),
            f("p12")
        ),
        format!(
            "PRB-KEY-003 medium /etc/ssl/private/weak.key@0+{} the private key with fingerprint {} belongs to the certificate `CN=router.local,O=Example Networks,C=DE`: the device's identity is baked into the image",
            pem("/etc/ssl/private/weak.key"),
            f("weak")
        ),
        format!(
            "PRB-KEY-003 medium /etc/ssl/server.pem@0+{server_key_len} the private key with fingerprint {} belongs to the certificate `CN=device.example.net`: the device's identity is baked into the image",
            f("server")
        ),
        format!(
            "PRB-KEY-004 low /etc/ssl/server.pem@{server_cert_at}+{server_cert_len} certificate `CN=device.example.net` issued by `CN=Example CA,O=Example Networks` is signed with ecdsa-with-SHA1"
        ),
        format!(
            "PRB-KEY-006 high /home/admin/.ssh/authorized_keys@0+{vendor_len} rsa 3072-bit SSH key is authorized to log in on every unit of the product"
        ),
        format!(
            "PRB-KEY-006 high /home/admin/.ssh/authorized_keys@{vendor_at}+{support_len} ec 256-bit SSH key is authorized to log in on every unit of the product"
        ),
    ];
    assert_lines(finding_lines(&report), expected);

    // Evidence: the key's bytes, its record, and for a match the certificate in the other file.
    let findings = report["findings"].as_array().unwrap();
    let matched = findings
        .iter()
        .find(|x| x["rule_id"] == "PRB-KEY-003" && member(&x["locations"][0]) == "/etc/ssl/private/weak.key")
        .unwrap();
    let ev = matched["evidence"].as_array().unwrap();
    assert_eq!(ev.len(), 7, "{ev:#?}");
    assert_eq!(ev[0]["type"], "bytes");
    assert_eq!(ev[0]["region"]["offset"], 0);
    let at: Vec<String> = [1, 3, 5].iter().map(|&i| member(&ev[i]["at"])).collect();
    assert_eq!(
        at,
        [
            "/etc/ssl/certs/weak.crt",
            "/etc/ssl/certs/weak.der",
            "/etc/ssl/private/weak.p12"
        ]
    );
    assert_eq!(ev[1]["region"]["length"], pem("/etc/ssl/certs/weak.crt"));
    assert_eq!(ev[2]["type"], "record");
    assert_eq!(ev[2]["fields"][1]["value"], f("weakcert"));
    let embedded = findings
        .iter()
        .find(|x| x["rule_id"] == "PRB-KEY-001" && member(&x["locations"][0]) == "/usr/bin/blob.bin")
        .unwrap();
    let record: BTreeMap<String, String> = embedded["evidence"][1]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["name"].as_str().unwrap().to_string(),
                x["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(record["algorithm"], "rsa");
    assert_eq!(record["bits"], "2048");
    assert_eq!(record["fingerprint_sha256"], f("embedded"));
    assert_eq!(record["structure"], "RSA PRIVATE KEY");
    let blob = fs::read(fx.root.join("usr/bin/blob.bin")).unwrap();
    assert_eq!(
        embedded["evidence"][0]["region"]["sha256"],
        probity_sha256(&blob[4096..4096 + f("embedded.length").parse::<usize>().unwrap()])
    );

    // `verify` re-derives every evidence region, the certificates in other files included.
    let saved = fx._dir.path().join("report.json");
    fs::write(&saved, &raw).unwrap();
    let v = run_os(&["verify".as_ref(), saved.as_os_str(), fx.root.as_os_str()]);
    assert_eq!(code(&v), 0, "{}{}", stdout(&v), stderr(&v));
    assert!(
        stdout(&v).starts_with("22 findings, 31 evidence items verified"),
        "{}",
        stdout(&v)
    );

    // The report is the same, byte for byte, on one thread.
    let mut one = probity();
    one.env("RAYON_NUM_THREADS", "1")
        .args(["scan", "--format", "json", "-q"])
        .arg(&fx.root);
    let o = run_with_timeout(one, std::time::Duration::from_secs(60));
    assert!(o.stdout == raw, "the report differs on one thread");

    // The text report lists the keys.
    let o = run_os(&["scan".as_ref(), fx.root.as_os_str(), "-q".as_ref()]);
    assert!(stdout(&o).contains(&f("embedded")[..16]), "{}", stdout(&o));
}

fn probity_sha256(data: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

#[test]
fn known_keys_mark_listed_keys_and_malformed_lists_are_refused() {
    let fx = Fx::new();
    let list = fx._dir.path().join("leaked.txt");
    fs::write(
        &list,
        format!(
            "# keys published in vendor firmware\n\n{}  # dropbear host key\n{}\n",
            fx.f("dropbear").to_uppercase(),
            "0".repeat(64)
        ),
    )
    .unwrap();
    let (report, _) = scan(&fx.root, &["--known-keys", list.to_str().unwrap()]);
    let leaked: Vec<String> = finding_lines(&report)
        .into_iter()
        .filter(|l| l.starts_with("PRB-KEY-005"))
        .collect();
    assert_eq!(
        leaked,
        [format!(
            "PRB-KEY-005 critical /etc/dropbear/dropbear_rsa_host_key@0+{} private key rsa 2048-bit with fingerprint {} is on the list of publicly leaked keys",
            len_of(&fx.root, "/etc/dropbear/dropbear_rsa_host_key"),
            fx.f("dropbear")
        )]
    );

    fs::write(
        &list,
        format!(
            "{}\nnot-a-fingerprint\n{}00\n",
            fx.f("dropbear"),
            fx.f("dropbear")
        ),
    )
    .unwrap();
    // A malformed list is a usage error, said before anything is scanned.
    let o = run_os(&[
        "scan".as_ref(),
        fx.root.as_os_str(),
        "--known-keys".as_ref(),
        list.as_os_str(),
    ]);
    assert_eq!(code(&o), 2);
    assert_eq!(
        stderr(&o),
        format!(
            "probity: error: --known-keys `{}`: lines 2, 3 are not a SHA-256 fingerprint in hex (64 hex digits)\n",
            list.display()
        )
    );
}

fn corpus() -> Option<PathBuf> {
    shared().map(|s| s.join("corpus"))
}

#[test]
fn fact_crypto_material() {
    let Some(c) = corpus() else { return };
    let dir = c.join("elf/fact/crypto_material");
    let (report, raw) = scan(&dir, &[]);
    validate_report_schema(&raw).unwrap();
    let mut got = key_lines(&report);
    got.sort();
    // Fingerprints as `openssl pkey -pubout -outform DER | sha256sum` and `ssh-keygen -l -E sha256`
    // print them (checked by hand when this test was written; see the module docs).
    let expected = [
        "/0x6C2DF2C5-pub.asc public-key pgp rsa 4096 - encrypted=false @0",
        "/error.der private-key der dsa 2048 97509070adcfde4be27fa3c204fd4f5aeddcd10a797521bb36df44dff77f7ea3 encrypted=false @0",
        "/generic_public_key public-key pem rsa 1024 0d646f35705548ac0328756dc2ffa919084355d0d08adbbaf5a7c93bfdb6fa51 encrypted=false @0",
        "/id_rsa private-key pem rsa 8192 0921115a860b0b4ba44c7e14a65866bce36ad3a7b6bb7af24522fb769fc8115c encrypted=false @0",
        "/id_rsa.pub public-key ssh-public rsa 2048 23a1234b8e956c613002ea03de8c6949cd1e0e255b4b987d55ce99e50cf65df4 encrypted=false @0",
        "/id_rsa_encrypted private-key pem rsa - - encrypted=true @0",
        "/pkcs private-key der rsa 1024 44b02c76f5aedff79c26c5e5a14c36140b5317f6443cef357236e1f0bfe7d719 encrypted=false @0",
        // Legacy OpenSSL PKCS#12 (RC2-40 certificate, 3DES key), opened with the empty password.
        "/pkcs12 certificate pkcs12 rsa 2048 9a35b5a66ccbff3f57d154504dbb830958935f31c3748a0b321564420698bb45 encrypted=false @0 | emailAddress=fsdaf,CN=dsaf,OU=dsadf,O=sdfadf,L=asdsawe,ST=ASD,C=DD | emailAddress=fsdaf,CN=dsaf,OU=dsadf,O=sdfadf,L=asdsawe,ST=ASD,C=DD | 2016-02-10T15:18:37Z | 2017-02-09T15:18:37Z | self_signed=true",
        "/pkcs12 private-key pkcs12 rsa 2048 9a35b5a66ccbff3f57d154504dbb830958935f31c3748a0b321564420698bb45 encrypted=false @0",
        "/ssl.crt certificate pem rsa 2048 0cb105c9fde5e262f7ffbba67f19ecc461d59d42cc9a7870dc4e6ddb3b919f00 encrypted=false @0 | CN=www.fkie.fraunhofer.de,OU=Services,OU=FKIE,O=Fraunhofer,L=Muenchen,ST=Bayern,C=DE | emailAddress=pki@fraunhofer.de,CN=Fraunhofer Service CA - G01,OU=Fraunhofer Corporate PKI,O=Fraunhofer,L=Muenchen,ST=Bayern,C=DE | 2014-07-03T13:38:22Z | 2017-08-31T17:37:11Z | self_signed=false",
        "/ssl.key private-key pem rsa 1024 7e364831a3d367f8aa7cc76c39426f75543569b95ab0b8841616e4d8e51a1055 encrypted=false @0",
    ];
    assert_eq!(got, expected);
    // The false-positive samples (FP_test, pkcs_fp.file, ssl_fp.file) yield nothing.
    let rules: Vec<String> = finding_lines(&report)
        .iter()
        .map(|l| {
            l.split(" (")
                .next()
                .unwrap()
                .split(", public-key")
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_lines(
        rules,
        [
            "PRB-KEY-001 high /error.der@0+858 unencrypted dsa 2048-bit private key in der",
            "PRB-KEY-001 high /id_rsa@0+6362 unencrypted rsa 8192-bit private key",
            "PRB-KEY-001 high /pkcs@0+608 unencrypted rsa 1024-bit private key in der",
            "PRB-KEY-001 high /pkcs12@0+2557 unencrypted rsa 2048-bit private key in pkcs12",
            "PRB-KEY-001 high /ssl.key@0+915 unencrypted rsa 1024-bit private key",
            "PRB-KEY-002 medium /generic_public_key@0+271 public key is rsa 1024-bit, below the 2048 bits required",
            "PRB-KEY-002 medium /pkcs@0+608 private key is rsa 1024-bit, below the 2048 bits required",
            "PRB-KEY-002 medium /ssl.key@0+915 private key is rsa 1024-bit, below the 2048 bits required",
            "PRB-KEY-003 medium /pkcs12@0+2557 the private key with fingerprint 9a35b5a66ccbff3f57d154504dbb830958935f31c3748a0b321564420698bb45 belongs to the certificate `emailAddress=fsdaf,CN=dsaf,OU=dsadf,O=sdfadf,L=asdsawe,ST=ASD,C=DD`: the device's identity is baked into the image",
        ]
        .map(String::from)
        .to_vec(),
    );
}

/// The key inventories of the two router images: TP-Link ships no key, certificate or
/// authorized key in either (dropbear generates its host keys at first boot; the
/// `-----BEGIN … PRIVATE KEY-----` strings in `dropbearmulti` and `libwpa_common.so` are format
/// constants without a body), so both are empty and no key finding is made.
#[test]
fn router_images_carry_no_keys() {
    let Some(c) = corpus() else { return };
    for sample in [
        "firmware/tplink-tl-wr841n-v10-3.16.9.bin",
        "firmware/tplink-mt7628/rootfs.squashfs",
    ] {
        let (report, _) = scan(&c.join(sample), &[]);
        assert_eq!(report["inventory"]["keys"], serde_json::json!([]), "{sample}");
        assert!(
            !finding_lines(&report).iter().any(|l| l.starts_with("PRB-KEY")),
            "{sample}"
        );
        assert!(
            !report["problems"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["source"] == "keys"),
            "{sample}"
        );
    }
}

/// The CableLabs code verification signature in front of the MaxLinear Puma 8 image, carved as
/// `/signature.p7`: its two certificates (fingerprints as `openssl pkcs7 -print_certs` and
/// `openssl pkey -pubout -outform DER | sha256sum` give them).
#[test]
fn maxlinear_signature_certificates() {
    let Some(c) = corpus() else { return };
    let (report, raw) = scan(
        &c.join("formats/fact_extractor/maxlinear/maxlinear-puma-8-vendor-image.bin"),
        &[],
    );
    validate_report_schema(&raw).unwrap();
    assert_eq!(
        key_lines(&report),
        [
            "/signature.p7 certificate pkcs7 rsa 2048 e80eccb34dcb95d2889e7feba903708f157ce80fa90038efd42e2feb6c466121 encrypted=false @60 | CN=Code Verification Certificate,O=Hitron Technologies Inc.,C=TW | CN=CableLabs CVC Certification Authority,OU=CVC CA01,O=CableLabs,C=US | 2016-02-16T18:13:43Z | 2026-02-16T18:13:43Z | self_signed=false",
            "/signature.p7 certificate pkcs7 rsa 3072 236cb2253491e2ef85e274345ab98414f330f06fdb6502b94a3c5877fdf9b216 encrypted=false @1078 | CN=CableLabs CVC Certification Authority,OU=CVC CA01,O=CableLabs,C=US | CN=CableLabs Root Certification Authority,OU=Root CA01,O=CableLabs,C=US | 2014-10-28T00:00:00Z | 2049-10-27T23:59:59Z | self_signed=false",
        ]
    );
    assert!(!finding_lines(&report).iter().any(|l| l.starts_with("PRB-KEY")));
}
