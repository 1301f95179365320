//! End-to-end: every format the fixture script can write is unpacked and compared, exactly, with
//! the tree it was made from and with what the format's reference tool extracts from it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;

fn scan(path: &Path) -> Value {
    scan_json(path).0
}

/// The fixture tree as each format can hold it: every file system and archive keeps names,
/// contents, link targets and modes; some formats keep less (noted per case).
fn expected() -> Listing {
    listing_of_dir(&fixtures().join("tree"))
}

#[test]
fn file_systems_and_archives_match_their_source_tree_exactly() {
    let exp = expected();
    assert_eq!(exp.len(), 27, "the fixture tree itself");
    let full = [
        "squashfs-gzip.img",
        "squashfs-lzo.img",
        "squashfs-lz4.img",
        "squashfs-xz.img",
        "squashfs-zstd.img",
        "squashfs-lzma.img",
        "jffs2-le.img",
        "jffs2-be.img",
        "ubifs.img",
        "ubi.img",
        "cramfs.img",
        "ext2.img",
        "ext4.img",
        "ext4.simg",
        "iso.img",
        "cpio-newc.cpio",
        "cpio-crc.cpio",
        "cpio-odc.cpio",
        "cpio-bin.cpio",
        "tar-gnu.tar",
        "tar-pax.tar",
        "tar-ustar.tar",
        "tar-gnu.tar.gz",
        "tar-gnu.tar.bz2",
        "tar-gnu.tar.xz",
        "tar-gnu.tar.lzma",
        "tar-gnu.tar.zst",
        "tar-gnu.tar.lz4",
        "tar-gnu.tar.lzo",
        "tar-gnu.tar.lz",
        "tar-gnu.tar.Z",
        "archive.zip",
        "archive.7z",
        "flash.bin",
    ];
    for name in full {
        let r = scan(&fixtures().join(name));
        let mut got = listing_of_report(&r);
        // Containers that carry a volume name or device node add members the tree does not have.
        got.remove("/rootfs");
        got.retain(|k, _| !k.starts_with("/dev") && k != "/lost+found");
        assert_eq!(got, exp, "{name}");
        assert_eq!(r["problems"], serde_json::json!([]), "{name}");
    }
    // romfs keeps only the executable bit of a mode.
    let r = scan(&fixtures().join("romfs.img"));
    let got = listing_of_report(&r);
    assert_eq!(without_modes(&got), without_modes(&exp), "romfs");
    assert_eq!(got["/bin/hello"].2, 0o100755);
    assert_eq!(got["/etc/passwd"].2, 0o100644);
}

#[test]
fn legacy_squashfs_matches_its_writer_exactly() {
    // tests/fixtures/sqfs_legacy.py writes squashfs 1.0, 2.0, 2.1 and 3.1 images in both byte orders,
    // zlib and the vendor LZMA shapes, and lists every member; the zlib ones were checked against
    // unsquashfs when the writer was made.
    let dir = fixtures().join("legacy");
    let expected = fs::read_to_string(dir.join("sqfs-legacy.expected")).unwrap();
    let mut by_image: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for line in expected.lines().filter(|l| !l.starts_with('#')) {
        let (image, rest) = line.split_once('\t').unwrap();
        by_image.entry(image).or_default().push(rest.to_string());
    }
    assert_eq!(by_image.len(), 11);
    for (image, want) in by_image {
        let r = scan(&dir.join(image));
        assert_eq!(r["problems"], serde_json::json!([]), "{image}");
        let got: Vec<String> = r["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["hop"]["format"] == "squashfs")
            .map(|a| {
                let kind = a["kind"].as_str().unwrap();
                let target = a["link_target"].as_str().unwrap_or("");
                let size = if kind == "symlink" {
                    target.len() as u64
                } else {
                    a["size"].as_u64().unwrap()
                };
                let extra = match (kind, &a["device"]) {
                    ("symlink", _) => target.to_string(),
                    (_, Value::Array(d)) => format!("{},{}", d[0], d[1]),
                    _ => "-".into(),
                };
                format!(
                    "{}\t{kind}\t0{:o}\t{}\t{}\t{size}\t{}\t{extra}",
                    a["hop"]["member"].as_str().unwrap(),
                    a["mode"].as_u64().unwrap(),
                    a["uid"],
                    a["gid"],
                    a["sha256"].as_str().unwrap_or("-"),
                )
            })
            .collect();
        let mut got = got;
        got.sort();
        assert_eq!(got, want, "{image}");
    }
}

#[test]
fn rtos_images_match_their_builder() {
    // tests/fixtures/rtos.py builds VxWorks 5.x/6.x kernels (compiled, symbol tables from the
    // compiler's own `nm`), a boot ROM, eCos in ProgramStore, MINIFS and the Wind River management
    // file system, and says in rtos.expected what must be recovered from each.
    let dir = fixtures().join("rtos");
    let expected: Value = serde_json::from_slice(&fs::read(dir.join("rtos.expected")).unwrap()).unwrap();
    assert_eq!(
        expected["skipped"],
        serde_json::json!([]),
        "scripts/setup-debian installs the compilers"
    );
    let cases = expected.as_object().unwrap();
    assert_eq!(cases.len(), 11);
    for (name, e) in cases.iter().filter(|(k, _)| *k != "skipped") {
        let r = scan(&dir.join(name));
        let root = &r["coverage"]["containers"][0];
        let structures = root["structures"].as_array().unwrap();
        for want in e["structures"].as_array().into_iter().flatten() {
            let hit = structures
                .iter()
                .find(|s| s["format"] == want["format"] && s["offset"] == want["offset"])
                .unwrap_or_else(|| panic!("{name}: no {want}"));
            for key in ["length", "confidence", "description"] {
                if !want[key].is_null() {
                    assert_eq!(hit[key], want[key], "{name}: {key}");
                }
            }
        }
        let descriptions: Vec<&str> = structures
            .iter()
            .map(|s| s["description"].as_str().unwrap())
            .collect();
        for d in e["description_contains"].as_array().into_iter().flatten() {
            let d = d.as_str().unwrap();
            assert!(
                descriptions.iter().any(|x| x.contains(d)),
                "{name}: no description with `{d}`: {descriptions:?}"
            );
        }
        let members: std::collections::BTreeMap<&str, &Value> = r["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["parent"] == 0)
            .filter_map(|a| a["hop"]["member"].as_str().map(|m| (m, a)))
            .collect();
        for (member, want) in e["members"].as_object().into_iter().flatten() {
            let a = members
                .get(member.as_str())
                .unwrap_or_else(|| panic!("{name}: no member {member}"));
            assert_eq!(
                (&a["size"], &a["sha256"]),
                (&want["size"], &want["sha256"]),
                "{name}: {member}"
            );
        }
        // TP-Link's VxWorks image: the LZMA kernel (properties 0x6E) in front of the file system.
        if let Some(sha) = e["kernel_lzma"]["decoded_sha256"].as_str() {
            assert!(
                r["artifacts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|a| a["sha256"] == sha),
                "{name}: the kernel"
            );
        }
        if let Some(sha) = e["inflated_sha256"].as_str() {
            assert!(
                r["artifacts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|a| a["sha256"] == sha),
                "{name}: the inflated kernel"
            );
        }
        let problems: Vec<&str> = r["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["message"].as_str().unwrap())
            .collect();
        for p in e["problems_contain"].as_array().into_iter().flatten() {
            let p = p.as_str().unwrap();
            assert!(
                problems.iter().any(|x| x.contains(p)),
                "{name}: no problem with `{p}`: {problems:?}"
            );
        }
    }
    // The recovered symbol tables are exactly what the compiler's `nm` lists.
    for (image, listing) in [
        ("vx5-mips-be.bin", "vx5-mips-be.symbols.txt"),
        ("vx6-arm-le.bin", "vx6-arm-le.symbols.txt"),
    ] {
        let r = scan(&dir.join(image));
        let symbols = r["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["hop"]["member"] == "/symbols.txt")
            .unwrap();
        assert_eq!(
            symbols["sha256"],
            sha256_hex(&fs::read(dir.join(listing)).unwrap()),
            "{image}"
        );
    }
}

#[test]
fn squashfs_keeps_devices_owners_and_special_modes() {
    let r = scan(&fixtures().join("squashfs-xz.img"));
    let arts = r["artifacts"].as_array().unwrap();
    let console = arts
        .iter()
        .find(|a| a["hop"]["member"] == "/dev/console")
        .unwrap();
    assert_eq!(console["kind"], "char_device");
    assert_eq!(console["device"], serde_json::json!([5, 1]));
    assert_eq!(console["mode"], 0o020600);
    let suid = arts
        .iter()
        .find(|a| a["hop"]["member"] == "/usr/bin/suid-helper")
        .unwrap();
    assert_eq!(suid["mode"], 0o104755);
    assert_eq!(suid["uid"], 0);
    let hello = arts.iter().find(|a| a["hop"]["member"] == "/bin/hello").unwrap();
    assert_eq!(
        suid["content"],
        serde_json::json!({"status": "duplicate", "of": hello["id"]})
    );
    let c = &r["coverage"]["containers"][0];
    let s = &c["structures"][0];
    assert_eq!(s["format"], "squashfs");
    assert_eq!(s["status"], "unpacked");
    assert!(
        s["description"]
            .as_str()
            .unwrap()
            .starts_with("squashfs 4.0, little endian, xz compression")
    );
}

/// Runs a reference extractor into a fresh directory and lists what it wrote.
fn reference(args: &[&str], dir: &Path) -> Listing {
    let out = dir.join("ref");
    fs::create_dir_all(&out).unwrap();
    let mut cmd = Command::new(args[0]);
    for a in &args[1..] {
        cmd.arg(a.replace("{out}", out.to_str().unwrap()));
    }
    cmd.current_dir(&out);
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    // Some tools write absolute link targets as paths under their output directory.
    let prefix = out.to_string_lossy().into_owned();
    listing_of_dir(&out)
        .into_iter()
        .map(|(k, (kind, v, m))| {
            (
                k,
                (kind, v.strip_prefix(&prefix).map(str::to_string).unwrap_or(v), m),
            )
        })
        .collect()
}

#[test]
fn reference_tools_extract_the_same_files() {
    let fx = fixtures();
    let f = |n: &str| fx.join(n).to_str().unwrap().to_string();
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "squashfs-lzma.img",
            vec![
                "unsquashfs".into(),
                "-q".into(),
                "-n".into(),
                "-d".into(),
                "{out}/x".into(),
                f("squashfs-lzma.img"),
            ],
        ),
        ("tar-pax.tar", vec!["tar".into(), "-xf".into(), f("tar-pax.tar")]),
        ("archive.zip", vec!["unzip".into(), "-q".into(), f("archive.zip")]),
        (
            "archive.7z",
            vec![
                "7z".into(),
                "x".into(),
                "-snl".into(),
                "-bd".into(),
                f("archive.7z"),
            ],
        ),
        (
            "cpio-newc.cpio",
            vec![
                "sh".into(),
                "-c".into(),
                format!("cpio --quiet -idm < {}", f("cpio-newc.cpio")),
            ],
        ),
        (
            "cramfs.img",
            vec!["fsck.cramfs".into(), "--extract={out}/x".into(), f("cramfs.img")],
        ),
        (
            "ext4.img",
            vec![
                "debugfs".into(),
                "-R".into(),
                "rdump / {out}".into(),
                f("ext4.img"),
            ],
        ),
    ];
    for (name, args) in cases {
        let dir = tempfile::tempdir().unwrap();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut theirs = reference(&args, dir.path());
        // Tools that extract into a subdirectory.
        if theirs.keys().all(|k| k.starts_with("/x")) {
            theirs = theirs
                .into_iter()
                .filter_map(|(k, v)| {
                    k.strip_prefix("/x")
                        .filter(|s| !s.is_empty())
                        .map(|s| (s.to_string(), v))
                })
                .collect();
        }
        theirs.retain(|k, _| !k.starts_with("/dev") && k != "/lost+found");
        let mut ours = listing_of_report(&scan(&fx.join(name)));
        ours.retain(|k, _| !k.starts_with("/dev") && k != "/lost+found");
        // Tools apply the umask and their own ownership rules to modes: compare names, kinds,
        // contents and link targets.
        assert_eq!(
            without_modes(&ours),
            without_modes(&theirs),
            "{name} vs {}",
            args[0]
        );
    }
    // FAT can not hold links: mtools copied the link's target; compare with mtools' own copy out.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fat");
    fs::create_dir(&out).unwrap();
    let o = Command::new("mcopy")
        .env("MTOOLS_SKIP_CHECK", "1")
        .args(["-s", "-n", "-i"])
        .arg(fx.join("fat.img"))
        .arg("::*")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let theirs = without_modes(&listing_of_dir(&out));
    let ours = without_modes(&listing_of_report(&scan(&fx.join("fat.img"))));
    assert_eq!(ours, theirs, "fat vs mcopy");
    assert_eq!(ours.len(), 16);
}

#[test]
fn containers_streams_and_text_formats() {
    let fx = fixtures();
    // uImage with a gzip payload: the header, then the kernel two hops away.
    let r = scan(&fx.join("uimage-gzip.bin"));
    let kernel = fs::read(fx.join("tree/bin/hello")).unwrap();
    let arts = r["artifacts"].as_array().unwrap();
    let last = arts.last().unwrap();
    assert_eq!(last["sha256"], sha256_hex(&kernel));
    assert_eq!(last["hop"]["format"], "gzip");
    let s = &r["coverage"]["containers"][0]["structures"][0];
    assert_eq!(s["format"], "uimage");
    assert_eq!(s["confidence"], 100, "header CRC verified");
    assert_eq!(
        s["description"],
        "U-Boot image `probity fixture kernel`, kernel, gzip"
    );
    // Multi-file uImage: each file is a member.
    let r = scan(&fx.join("uimage-multi.bin"));
    let got = listing_of_report(&r);
    assert_eq!(
        got["/0"].1,
        sha256_hex(&fs::read(fx.join("tree/etc/passwd")).unwrap())
    );
    assert_eq!(
        got["/1"].1,
        sha256_hex(&fs::read(fx.join("tree/www/index.html")).unwrap())
    );
    // Intel HEX and S-records decode back to the bytes objcopy was given.
    let passwd = sha256_hex(&fs::read(fx.join("tree/etc/passwd")).unwrap());
    for name in ["passwd.hex", "passwd.srec"] {
        let r = scan(&fx.join(name));
        assert_eq!(r["artifacts"][1]["sha256"], passwd, "{name}");
    }
    // ar: three members.
    let r = scan(&fx.join("archive.a"));
    let got = listing_of_report(&r);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        ["/index.html", "/passwd", "/text.txt"]
    );
}

#[test]
fn flash_image_coverage_accounts_for_every_byte() {
    let fx = fixtures();
    let flash = fs::read(fx.join("flash.bin")).unwrap();
    let uimage_len = fs::metadata(fx.join("uimage-gzip.bin")).unwrap().len();
    let sq = fs::read(fx.join("squashfs-xz.img")).unwrap();
    let bytes_used = u64::from_le_bytes(sq[40..48].try_into().unwrap());
    let r = scan(&fx.join("flash.bin"));
    let c = &r["coverage"]["containers"][0];
    assert_eq!(c["artifact"], 0);
    assert_eq!(c["size"], flash.len() as u64);
    assert_eq!(c["explained_bytes"], uimage_len + bytes_used);
    let structures: Vec<(u64, u64, &str)> = c["structures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["offset"].as_u64().unwrap(),
                s["length"].as_u64().unwrap(),
                s["format"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        structures,
        [(0, uimage_len, "uimage"), (0x10000, bytes_used, "squashfs")]
    );
    // What is not explained is erased flash: 0xFF padding after the kernel and after the root
    // file system (and mksquashfs' own zero padding to 4 KiB).
    let regions: Vec<(u64, u64, &str)> = c["unexplained"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["offset"].as_u64().unwrap(),
                u["length"].as_u64().unwrap(),
                u["class"].as_str().unwrap(),
            )
        })
        .collect();
    let sq_end = 0x10000 + bytes_used;
    let padded = 0x10000 + sq.len() as u64;
    let mut want = vec![(uimage_len, 0x10000 - uimage_len, "ff_padding")];
    if padded > sq_end {
        want.push((sq_end, padded - sq_end, "zero_padding"));
    }
    want.push((padded, flash.len() as u64 - padded, "ff_padding"));
    assert_eq!(regions, want);
    // The text report states it.
    let o = run_os(&[
        "scan".as_ref(),
        fx.join("flash.bin").as_os_str(),
        "--color".as_ref(),
        "never".as_ref(),
    ]);
    let text = stdout(&o);
    let pct = (uimage_len + bytes_used) as f64 * 100.0 / flash.len() as f64;
    assert!(text.contains(&format!("flash.bin: {pct:.1}% of ")), "{text}");
}

#[test]
fn unpack_writes_a_confined_mirror_with_a_manifest() {
    let fx = fixtures();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = run_os(&[
        "unpack".as_ref(),
        fx.join("flash.bin").as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let root = out.join("flash.bin.extracted/10000-squashfs");
    let on_disk = listing_of_dir(&root);
    let exp = expected();
    // Regular files: same names and contents; never setuid on the host; executables stay so.
    for (path, (kind, digest, mode)) in &exp {
        let got = on_disk.get(path).unwrap_or_else(|| panic!("{path} missing"));
        match kind {
            'f' => {
                assert_eq!(&got.1, digest, "{path}");
                assert_eq!(got.2 & 0o7000, 0, "{path}: no setuid/setgid/sticky bits on disk");
                assert_eq!(got.2 & 0o111 != 0, mode & 0o111 != 0, "{path}: exec bit");
            }
            'l' => assert_eq!(got.0, 'l', "{path}"),
            _ => assert_eq!(got.0, kind.to_owned(), "{path}"),
        }
    }
    // Links are relative and stay inside the container's directory.
    assert_eq!(on_disk["/bin/sh"].1, "hello");
    assert_eq!(on_disk["/etc/passwd-link"].1, "passwd");
    // The device node is in the manifest, not on disk.
    assert!(!root.join("dev/console").exists());
    let manifest: Value = serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let console = manifest["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["hop"]["member"] == "/dev/console")
        .unwrap();
    assert_eq!(console["kind"], "char_device");
    assert!(console.get("path").is_none());
    let hello = manifest["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["hop"]["member"] == "/bin/hello")
        .unwrap();
    assert_eq!(hello["path"], "flash.bin.extracted/10000-squashfs/bin/hello");
    assert_eq!(
        hello["locator"],
        format!(
            "flash.bin @0x10000+{} squashfs ▸ /bin/hello",
            hello["hop"]["length"]
        )
    );
    assert!(!out.join(".probity-spool").exists(), "the spool is removed");
    // The output directory must be new or empty.
    let again = run_os(&[
        "unpack".as_ref(),
        fx.join("flash.bin").as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(code(&again), 2);
    assert!(stderr(&again).contains("exists and is not empty"));
}

#[test]
fn findings_inside_containers_verify_and_fail_when_the_image_changes() {
    let fx = fixtures();
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "tar-gnu.tar",
        "tar-gnu.tar.gz",
        "squashfs-xz.img",
        "jffs2-be.img",
        "ubi.img",
    ] {
        let img = dir.path().join(name);
        fs::copy(fx.join(name), &img).unwrap();
        let report = dir.path().join(format!("{name}.json"));
        // The fixture tree's setuid helper is a permission finding (checked in tests/services.rs):
        // left out here, where the subject is evidence inside containers.
        let o = run_os(&[
            "scan".as_ref(),
            img.as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
            "--exclude-rule".as_ref(),
            "PRB-PERM-*".as_ref(),
            "-o".as_ref(),
            report.as_os_str(),
        ]);
        assert_eq!(code(&o), 0);
        let r: Value = serde_json::from_slice(&fs::read(&report).unwrap()).unwrap();
        let f = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule_id"] == "PRB-IND-001")
            .unwrap_or_else(|| panic!("{name}: no finding"));
        let loc = &f["locations"][0];
        let last = loc["hops"].as_array().unwrap().last().unwrap();
        assert_eq!(last["member"], "/usr/share/doc/indicators.txt", "{name}");
        // Evidence is reported once, on the member: the raw bytes of a completely unpacked
        // structure (where a tar entry, or a JFFS2 node stored uncompressed, also holds the text)
        // are analysed through what was unpacked from them.
        assert_eq!(r["summary"]["findings"], 1, "{name}");
        let v = run_os(&["verify".as_ref(), report.as_os_str(), img.as_os_str()]);
        assert_eq!(code(&v), 0, "{name}: {}", stdout(&v));
        assert_eq!(stdout(&v).trim(), "1 finding, 1 evidence item verified", "{name}");
    }
    // Change one byte of the evidence inside the tar member: the finding fails, by name.
    let img = dir.path().join("tar-gnu.tar");
    let report = dir.path().join("tar-gnu.tar.json");
    let r: Value = serde_json::from_slice(&fs::read(&report).unwrap()).unwrap();
    let f = &r["findings"][0];
    let mut bytes = fs::read(&img).unwrap();
    // The member's data starts where its text does; the evidence offset is relative to it.
    let member_start = memchr_find(&bytes, b"Known indicator planted");
    let at = member_start + f["evidence"][0]["region"]["offset"].as_u64().unwrap() as usize + 3;
    bytes[at] ^= 0x01;
    fs::write(&img, &bytes).unwrap();
    let v = run_os(&["verify".as_ref(), report.as_os_str(), img.as_os_str()]);
    assert_eq!(code(&v), 1);
    assert!(
        stdout(&v).contains(&format!(
            "FAILED finding 1 PRB-IND-001 (fingerprint {})",
            f["fingerprint"].as_str().unwrap()
        )),
        "{}",
        stdout(&v)
    );
}

fn memchr_find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .position(|w| w == needle)
        .expect("needle")
}
