//! End-to-end: hostile archives are contained and bounded, and every refusal is reported.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

use common::*;
use serde_json::Value;

fn unpack(input: &Path, out: &Path) -> (Value, std::process::Output) {
    let o = run_os(&[
        "unpack".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    (
        serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap(),
        o,
    )
}

/// Every file under `root`, as paths relative to it.
fn all_files(root: &Path) -> Vec<String> {
    let mut out: Vec<String> = listing_of_dir(root).into_keys().collect();
    out.sort();
    out
}

#[test]
fn traversal_names_stay_inside_the_output_directory() {
    let fx = fixtures().join("hostile");
    for (name, escaped, absolute) in [
        ("traversal.tar", "escape-tar.txt", "/tmp/probity-abs-tar.txt"),
        ("traversal.cpio", "escape-cpio.txt", "/tmp/probity-abs-cpio.txt"),
        ("traversal.zip", "escape-zip.txt", "/tmp/probity-abs-zip.txt"),
        (
            "traversal-squashfs.img",
            "escape-sq.txt",
            "/tmp/probity-abs-none.txt",
        ),
    ] {
        let _ = fs::remove_file(absolute);
        let base = tempfile::tempdir().unwrap();
        let out = base.path().join("a/b/out");
        let (manifest, _) = unpack(&fx.join(name), &out);
        // Nothing was written next to or above the output directory.
        let outside: Vec<String> = all_files(base.path())
            .into_iter()
            .filter(|p| !p.starts_with("/a/b/out"))
            .collect();
        assert_eq!(outside, ["/a", "/a/b"], "{name}");
        assert!(!Path::new(absolute).exists(), "{name}: {absolute} was written");
        assert!(!Path::new("/tmp/probity-outside/through.txt").exists());
        assert!(!Path::new("/tmp/probity-through-cpio.txt").exists());
        // The member keeps its hostile name in the manifest; on disk it is escaped inside.
        let arts = manifest["artifacts"].as_array().unwrap();
        let member = format!("/../../{escaped}");
        let entry = arts
            .iter()
            .find(|a| a["hop"]["member"] == member.as_str())
            .unwrap_or_else(|| panic!("{name}: {member}"));
        let on_disk = entry["path"].as_str().unwrap();
        assert!(
            on_disk.ends_with(&format!("/%2E%2E/%2E%2E/{escaped}")),
            "{name}: {on_disk}"
        );
        assert!(out.join(on_disk).is_file(), "{name}");
    }
}

#[test]
fn links_are_recorded_never_written_through() {
    let fx = fixtures().join("hostile");
    let base = tempfile::tempdir().unwrap();
    let out = base.path().join("out");
    let (manifest, _) = unpack(&fx.join("traversal.tar"), &out);
    let arts = manifest["artifacts"].as_array().unwrap();
    let by = |m: &str| {
        arts.iter()
            .find(|a| a["hop"]["member"] == m)
            .unwrap_or_else(|| panic!("{m}"))
    };
    // The absolute symlink is recorded with its target; the file "through" it is a plain file in
    // a plain directory of the output, and the link itself is not created over it.
    assert_eq!(by("/evil-link")["kind"], "symlink");
    assert_eq!(by("/evil-link")["link_target"], "/tmp/probity-outside");
    let through = out.join(by("/evil-link/through.txt")["path"].as_str().unwrap());
    assert_eq!(fs::read(&through).unwrap(), b"written through a symlink\n");
    assert!(fs::symlink_metadata(through.parent().unwrap()).unwrap().is_dir());
    // A hard link to outside: recorded, never created.
    assert_eq!(by("/hard-out")["kind"], "hardlink");
    assert_eq!(by("/hard-out")["link_target"], "/../../../etc/passwd");
    assert!(by("/hard-out").get("path").is_none());
    // A link that climbs out of its container is not created, and that is reported.
    assert!(by("/dots-link").get("path").is_none());
    let problems: Vec<&str> = manifest["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["message"].as_str().unwrap())
        .collect();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("dots-link: link to `../../../../../../etc` leaves its container")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("evil-link: link not created")),
        "{problems:?}"
    );
    // No symbolic link anywhere in the output points outside it.
    for (path, (kind, target, _)) in listing_of_dir(&out) {
        if kind == 'l' {
            let resolved = out
                .join(path.trim_start_matches('/'))
                .parent()
                .unwrap()
                .join(&target);
            let canon = resolved
                .components()
                .fold(std::path::PathBuf::new(), |mut acc, c| {
                    match c {
                        std::path::Component::ParentDir => {
                            acc.pop();
                        }
                        std::path::Component::CurDir => {}
                        other => acc.push(other),
                    }
                    acc
                });
            assert!(canon.starts_with(&out), "{path} -> {target}");
        }
    }
}

#[test]
fn a_gzip_bomb_stops_at_the_expansion_ratio() {
    let bomb = fixtures().join("hostile/bomb.gz");
    let mut c = probity();
    c.args(["scan", "--format", "json", "-q"]).arg(&bomb);
    let o = run_with_timeout(c, Duration::from_secs(120));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let child = &r["artifacts"][1];
    let size = child["size"].as_u64().unwrap();
    // 10 GiB of zeros declared; the ratio limit (250) allows 64 MiB before it applies, and the
    // stream is cut right after.
    assert!((64 << 20..=65 << 20).contains(&size), "{size}");
    let msg = r["problems"][0]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("gzip at 0x0: output reached")
            && msg.contains("above the expansion ratio of 250 (limit --max-ratio)"),
        "{msg}"
    );
    assert_eq!(
        r["coverage"]["containers"][0]["structures"][0]["status"],
        "partial"
    );
    // The total budget is honoured too.
    let mut c = probity();
    c.args(["scan", "--format", "json", "-q", "--max-total-size", "1M"])
        .arg(&bomb);
    let o = run_with_timeout(c, Duration::from_secs(60));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["artifacts"][1]["size"], 1 << 20);
    assert!(
        r["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("(limit --max-total-size)")
    );
}

#[test]
fn a_nested_zip_bomb_is_unpacked_once_per_distinct_content() {
    let mut c = probity();
    c.args(["scan", "--format", "json", "-q"])
        .arg(fixtures().join("hostile/nested-bomb.zip"));
    let o = run_with_timeout(c, Duration::from_secs(120));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    // 16 middle zips and 16 inner zips in the first middle one: identical contents are unpacked
    // once (15 + 15 duplicates). The first inner zip holds 4 members of 100 MiB of zeros: the
    // first stops at its own ratio (64 MiB, the floor), the second where the inner zip as a whole
    // reaches 250 times its size, and unpacking that zip stops there.
    let arts = r["artifacts"].as_array().unwrap();
    assert_eq!(arts.len(), 1 + 16 + 16 + 2);
    let dup = arts
        .iter()
        .filter(|a| a["content"]["status"] == "duplicate")
        .count();
    assert_eq!(dup, 15 + 15);
    let inner = arts.iter().find(|a| a["hop"]["member"] == "/inner0.zip").unwrap();
    let zeros: Vec<u64> = arts
        .iter()
        .filter(|a| {
            a["hop"]["member"]
                .as_str()
                .is_some_and(|m| m.starts_with("/zeros"))
        })
        .map(|a| a["size"].as_u64().unwrap())
        .collect();
    assert_eq!(zeros[0], 64 << 20);
    assert_eq!(zeros.iter().sum::<u64>(), 250 * inner["size"].as_u64().unwrap());
    let msgs: Vec<&str> = r["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["message"].as_str().unwrap())
        .collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(msgs[0].contains("output reached 67108864 bytes") && msgs[0].ends_with("(limit --max-ratio)"));
    assert!(
        msgs[1]
            .contains("unpacking stopped; later members were not extracted: the structure's output reached")
    );
}

#[test]
fn two_hundred_levels_of_nesting_end_at_the_depth_limit() {
    let r = scan_json(&fixtures().join("hostile/nested-200.gz")).0;
    assert_eq!(r["artifacts"].as_array().unwrap().len(), 1 + 16);
    let p = &r["problems"].as_array().unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(
        p[0]["message"],
        "gzip at 0x0 not unpacked: containers are nested deeper than 16 levels (limit --max-depth)"
    );
    assert_eq!(p[0]["artifact"], 16);
}

#[test]
fn a_zip_that_contains_itself_is_unpacked_once() {
    // tests/fixtures/zipquine.py: a zip whose one member inflates to the zip itself, byte for byte.
    let quine = fixtures().join("hostile/quine.zip");
    let bytes = fs::read(&quine).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (m, _) = unpack(&quine, &dir.path().join("out"));
    let arts = m["artifacts"].as_array().unwrap();
    // The input and its member, which has the input's digest and so is not unpacked again.
    assert_eq!(arts.len(), 2);
    assert_eq!(arts[1]["hop"]["member"], "/zip-quine-all-the-way-down.zip");
    assert_eq!(arts[1]["size"], bytes.len() as u64);
    assert_eq!(arts[1]["sha256"], arts[0]["sha256"]);
    assert_eq!(arts[1]["content"]["status"], "duplicate");
    assert_eq!(arts[1]["content"]["of"], 0);
    assert_eq!(m["problems"].as_array().unwrap().len(), 0, "{:?}", m["problems"]);
    // The member is written once, and is the input.
    let member = dir
        .path()
        .join("out/quine.zip.extracted/0-zip/zip-quine-all-the-way-down.zip");
    assert_eq!(fs::read(member).unwrap(), bytes);
}
