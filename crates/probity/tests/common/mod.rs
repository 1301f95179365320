//! Helpers shared by the end-to-end tests: run the real binary, build input trees, validate output.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary under test.
pub fn probity() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_probity"));
    c.env_remove("NO_COLOR");
    c
}

/// Runs `cmd`, failing the test if it does not finish within `limit` (a hang is a bug).
pub fn run_with_timeout(mut cmd: Command, limit: Duration) -> Output {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    let mut child = cmd.spawn().expect("spawn probity");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        stdout.read_to_end(&mut b).ok();
        b
    });
    let err_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        stderr.read_to_end(&mut b).ok();
        b
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            child.kill().ok();
            panic!("probity did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
    }
}

/// Runs probity with `args` (60 s limit).
pub fn run(args: &[&str]) -> Output {
    let mut c = probity();
    c.args(args);
    run_with_timeout(c, Duration::from_secs(60))
}

/// Runs probity with `args` on paths.
pub fn run_os(args: &[&std::ffi::OsStr]) -> Output {
    let mut c = probity();
    c.args(args);
    run_with_timeout(c, Duration::from_secs(60))
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes `content` at `rel` under `root`, creating directories.
pub fn put(root: &Path, rel: &str, content: &[u8]) -> PathBuf {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, content).unwrap();
    p
}

/// `len` bytes of deterministic filler that contains no indicator.
pub fn filler(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) | 0x80)
        .collect()
}

/// `filler(len)` with `needle` written at each offset in `at`.
pub fn with_needles(len: usize, seed: u8, needle: &[u8], at: &[usize]) -> Vec<u8> {
    let mut v = filler(len, seed);
    for &o in at {
        v[o..o + needle.len()].copy_from_slice(needle);
    }
    v
}

/// The JSON report of scanning `path` (asserting exit status 0).
pub fn scan_json(path: &Path) -> (Value, Vec<u8>) {
    let o = run_os(&[
        "scan".as_ref(),
        path.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
        "-q".as_ref(),
    ]);
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    (serde_json::from_slice(&o.stdout).expect("JSON report"), o.stdout)
}

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// `../shared` beside the workspace, or `None` (the caller skips with a message).
pub fn shared() -> Option<PathBuf> {
    let p = workspace().join("../shared");
    if p.join("schemas").is_dir() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: ../shared is absent (tests that need the shared corpus or schemas run where it exists)"
        );
        None
    }
}

/// Validates `doc` against our own report schema with Python's jsonschema (Draft 2020-12).
pub fn validate_report_schema(doc: &[u8]) -> Result<(), String> {
    let schema = workspace().join("schema/report.schema.json");
    let dir = tempfile::tempdir().unwrap();
    let doc_path = dir.path().join("report.json");
    fs::write(&doc_path, doc).unwrap();
    let script = "import json,sys,jsonschema\n\
        s=json.load(open(sys.argv[1]))\n\
        jsonschema.Draft202012Validator.check_schema(s)\n\
        errs=sorted(jsonschema.Draft202012Validator(s).iter_errors(json.load(open(sys.argv[2]))), key=str)\n\
        [print(e.json_path, e.message[:300]) for e in errs]\n\
        sys.exit(1 if errs else 0)\n";
    let o = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&schema)
        .arg(&doc_path)
        .output()
        .expect("python3 is needed to validate the report schema");
    if o.status.success() {
        Ok(())
    } else {
        Err(format!("{}{}", stdout(&o), stderr(&o)))
    }
}

/// Validates a document with `../shared/schemas/validate.py`; `None` when ../shared is absent.
pub fn validate_shared(schema: &str, doc: &[u8]) -> Option<Result<(), String>> {
    let shared = shared()?;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("doc.json");
    fs::write(&p, doc).unwrap();
    let o = Command::new("python3")
        .arg(shared.join("schemas/validate.py"))
        .arg(schema)
        .arg(&p)
        .output()
        .unwrap();
    Some(if o.status.success() {
        Ok(())
    } else {
        Err(format!("{}{}", stdout(&o), stderr(&o)))
    })
}

/// Whether the tests run as root (permission bits do not stop root from reading).
pub fn is_root() -> bool {
    fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

/// A command that runs probity as an unprivileged user when the tests run as root.
pub fn probity_unprivileged() -> Command {
    if is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(env!("CARGO_BIN_EXE_probity"));
        c
    } else {
        probity()
    }
}

pub fn sha256_hex(data: &[u8]) -> String {
    probity_model::Sha256::of(data).to_hex()
}

/// The fixtures built by `tests/fixtures/build.sh` (built once per test run; the script is a no-op
/// when they are current).
pub fn fixtures() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let out = workspace().join("target/fixtures");
        let o = Command::new(workspace().join("tests/fixtures/build.sh"))
            .arg(&out)
            .output()
            .expect("run tests/fixtures/build.sh");
        assert!(
            o.status.success(),
            "building the fixtures failed (scripts/setup-debian installs the tools they need):\n{}{}",
            stdout(&o),
            stderr(&o)
        );
        out
    })
}

/// What a tree holds: member path -> (kind, content digest or link target, mode).
pub type Listing = std::collections::BTreeMap<String, (char, String, u32)>;

/// The listing of a directory on disk (paths relative to it, starting with `/`).
pub fn listing_of_dir(root: &Path) -> Listing {
    let mut out = Listing::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let rel = format!("/{}", p.strip_prefix(root).unwrap().to_string_lossy());
            let meta = fs::symlink_metadata(&p).unwrap();
            let mode = meta.mode();
            if meta.file_type().is_symlink() {
                out.insert(
                    rel,
                    (
                        'l',
                        fs::read_link(&p).unwrap().to_string_lossy().into_owned(),
                        mode,
                    ),
                );
            } else if meta.is_dir() {
                out.insert(rel, ('d', String::new(), mode));
                stack.push(p);
            } else if meta.is_file() {
                out.insert(rel, ('f', sha256_hex(&fs::read(&p).unwrap()), mode));
            }
        }
    }
    out
}

/// The members Probity found (in any container) that have UTF-8 member paths.
pub fn listing_of_report(r: &Value) -> Listing {
    let mut out = Listing::new();
    for a in r["artifacts"].as_array().unwrap() {
        let Some(member) = a["hop"]["member"].as_str() else {
            continue;
        };
        let mode = a["mode"].as_u64().unwrap_or(0) as u32;
        let entry = match a["kind"].as_str().unwrap() {
            "file" => ('f', a["sha256"].as_str().unwrap_or("").to_string(), mode),
            "directory" => ('d', String::new(), mode),
            "symlink" => ('l', a["link_target"].as_str().unwrap_or("").to_string(), mode),
            _ => continue,
        };
        out.insert(member.to_string(), entry);
    }
    out
}

/// Drops modes (for formats that do not keep them, or tools that apply a umask).
pub fn without_modes(l: &Listing) -> Listing {
    l.iter()
        .map(|(k, v)| (k.clone(), (v.0, v.1.clone(), 0)))
        .collect()
}
