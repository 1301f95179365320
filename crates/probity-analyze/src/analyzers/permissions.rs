//! File permissions: setuid and setgid programs, and world-writable files and directories, from
//! the modes the unpacker recorded (file system images keep them; a directory scan reads them
//! from the host).
//!
//! Only regular files and directories are looked at: a symbolic link's own mode is always 0777 and
//! means nothing, device nodes are a different question. The root of a directory scan is left
//! out (its mode is the host's, not the image's).

use probity_model::{
    Artifact, ArtifactId, ArtifactKind, ByteString, Confidence, Evidence, EvidenceKind, Field,
    RuleDescriptor, RuleDoc, RuleId, Severity,
};

use crate::analyzer::{Analyzer, AnalyzerFailure, Draft, Output, Subject, TreeContext};

/// The analyzer's id.
pub const ID: &str = "permissions";

const SETUID: &str = "PRB-PERM-001";
const WORLD_WRITABLE: &str = "PRB-PERM-002";
const WRITABLE_EXEC: &str = "PRB-PERM-003";

const S_ISUID: u32 = 0o4000;
const S_ISGID: u32 = 0o2000;
const S_ISVTX: u32 = 0o1000;
const S_IWOTH: u32 = 0o002;

/// Programs that are setuid root by design on embedded Linux (they drop or check privileges
/// themselves): BusyBox (its `suid` applets: su, passwd, ping, …) and the classic account tools.
/// A setuid-root program on this list is reported as info; any other as medium.
pub const EXPECTED_SETUID: &[&str] = &[
    "busybox",
    "su",
    "sudo",
    "passwd",
    "ping",
    "ping6",
    "mount",
    "umount",
    "chsh",
    "chfn",
    "newgrp",
    "gpasswd",
    "crontab",
    "traceroute",
    "traceroute6",
    "pkexec",
    "fusermount",
    "fusermount3",
];

/// Directories whose files are run as programs or by init: a world-writable file there (or the
/// directory itself) lets any local user replace what root runs.
pub const EXEC_DIRS: &[&str] = &[
    "/bin",
    "/sbin",
    "/usr/bin",
    "/usr/sbin",
    "/usr/local/bin",
    "/usr/local/sbin",
    "/lib",
    "/usr/lib",
    "/etc/init.d",
    "/etc/rc.d",
    "/etc/systemd",
    "/lib/systemd",
    "/usr/lib/systemd",
    "/etc/hotplug.d",
];

/// Files init runs directly.
const INIT_FILES: &[&str] = &[
    "/etc/inittab",
    "/etc/rc.local",
    "/etc/profile",
    "/etc/crontab",
    "/linuxrc",
    "/init",
];

/// The permissions analyzer.
#[derive(Debug)]
pub struct Permissions {
    rules: Vec<RuleDescriptor>,
}

impl Default for Permissions {
    fn default() -> Self {
        Self::new()
    }
}

/// A rule: (id, name, title), severity, CWE ids, references, remediation, documentation.
fn descriptor(
    (id, name, title): (&str, &str, &str),
    severity: Severity,
    cwe: &[&str],
    references: &[&str],
    remediation: &str,
    doc: RuleDoc,
) -> Option<RuleDescriptor> {
    crate::rules::RuleSpec {
        id,
        name,
        title,
        severity,
        confidence: Confidence::Confirmed,
        cwe,
        references,
        remediation,
        doc,
    }
    .build(ID)
}

const HOW: &str = "Every regular file and directory with a recorded mode (`st_mode`) is checked: the setuid \
     (04000), setgid (02000), sticky (01000) and other-write (0002) bits. Modes come from the file system \
     image (squashfs, cramfs, jffs2, ext, tar, cpio, …) or, for a directory scan, from the host.";

impl Permissions {
    /// The analyzer with its rules.
    pub fn new() -> Permissions {
        let rules = [
            descriptor(
                (SETUID, "SetuidSetgidProgram", "Setuid or setgid program"),
                Severity::Low,
                &["CWE-250", "CWE-269"],
                &[
                    "https://cwe.mitre.org/data/definitions/250.html",
                    "https://man7.org/linux/man-pages/man2/execve.2.html",
                ],
                "Remove the setuid/setgid bit unless the program needs it and is written to run with it.",
                RuleDoc {
                    detects: format!(
                        "Regular files with the setuid or setgid bit. Medium when the file is setuid and owned \
                         by root and its name is not one of the programs that are setuid root by design ({}); \
                         info for those; low otherwise.",
                        EXPECTED_SETUID.join(", ")
                    ),
                    why: "A setuid-root program runs with root's rights whoever starts it: any flaw in it is a \
                          local privilege escalation, and vendor programs are rarely written for that."
                        .into(),
                    how: HOW.into(),
                    false_positives: "A vendor program that really needs the bit and drops privileges \
                                      correctly; file systems whose modes were not preserved by the build."
                        .into(),
                    false_negatives: "Privileges granted otherwise (file capabilities in extended attributes, \
                                      sudo rules, a daemon running as root)."
                        .into(),
                    example: "`rootfs ▸ /usr/bin/diag`: mode 104755, uid 0.".into(),
                },
            ),
            descriptor(
                (WORLD_WRITABLE, "WorldWritable", "World-writable file, or directory without the sticky bit"),
                Severity::Medium,
                &["CWE-732", "CWE-276"],
                &["https://cwe.mitre.org/data/definitions/732.html"],
                "Remove write permission for others (`chmod o-w`), or set the sticky bit on shared directories.",
                RuleDoc {
                    detects: "Regular files writable by every user, and directories writable by every user \
                              without the sticky bit (anyone can delete or replace others' files there)."
                        .into(),
                    why: "Any local process (a compromised daemon running as nobody) can change what is \
                          stored there: configuration, data other programs trust, files root reads."
                        .into(),
                    how: HOW.into(),
                    false_positives: "Files in a read-only file system that are never copied to a writable \
                                      one; device-local scratch files."
                        .into(),
                    false_negatives: "Directories made world-writable at run time by boot scripts \
                                      (`mkdir -m 0777 /var/...`): the modes are those of the image."
                        .into(),
                    example: "`rootfs ▸ /etc/config`: directory, mode 040777, no sticky bit.".into(),
                },
            ),
            descriptor(
                (WRITABLE_EXEC, "WorldWritableExecutable", "World-writable program, library or init script"),
                Severity::High,
                &["CWE-732"],
                &["https://cwe.mitre.org/data/definitions/732.html"],
                "Remove write permission for others; programs and init scripts belong to root and are \
                 writable by root only.",
                RuleDoc {
                    detects: format!(
                        "World-writable regular files or directories (without the sticky bit) in directories \
                         whose files are run ({}), and world-writable init files ({}).",
                        EXEC_DIRS.join(", "),
                        INIT_FILES.join(", ")
                    ),
                    why: "Whoever can write there replaces code that root runs at the next boot or call: a \
                          local privilege escalation and a persistence point."
                        .into(),
                    how: HOW.into(),
                    false_positives: "A read-only file system whose files are never copied to writable \
                                      storage."
                        .into(),
                    false_negatives: "Executable files elsewhere (`/www/cgi-bin`, `/opt`), and write access \
                                      through group membership."
                        .into(),
                    example: "`rootfs ▸ /etc/init.d/rcS`: mode 100777.".into(),
                },
            ),
        ]
        .into_iter()
        .flatten()
        .collect();
        Permissions { rules }
    }

    fn rule(&self, id: &str) -> Option<RuleId> {
        self.rules
            .iter()
            .find(|r| r.id.as_str() == id)
            .map(|r| r.id.clone())
    }
}

fn in_exec_path(path: &[u8]) -> bool {
    INIT_FILES.iter().any(|f| f.as_bytes() == path)
        || EXEC_DIRS.iter().any(|d| {
            path.strip_prefix(d.as_bytes())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(b"/"))
        })
}

fn mode_evidence(a: &Artifact, path: &[u8], mode: u32) -> Evidence {
    let mut fields = vec![
        Field {
            name: "path".into(),
            value: ByteString::from(path),
        },
        Field {
            name: "mode".into(),
            value: ByteString::from(format!("{mode:o}")),
        },
    ];
    if let Some(uid) = a.uid {
        fields.push(Field {
            name: "uid".into(),
            value: ByteString::from(uid.to_string()),
        });
    }
    if let Some(gid) = a.gid {
        fields.push(Field {
            name: "gid".into(),
            value: ByteString::from(gid.to_string()),
        });
    }
    Evidence {
        kind: EvidenceKind::Record {
            format: "file-mode".into(),
            fields,
        },
        region: None,
        at: None,
    }
}

impl Analyzer for Permissions {
    fn id(&self) -> &'static str {
        ID
    }

    fn rules(&self) -> &[RuleDescriptor] {
        &self.rules
    }

    fn analyze_tree(&self, cx: &TreeContext<'_>, out: &mut Output) -> Result<(), AnalyzerFailure> {
        for a in cx.tree.artifacts() {
            if a.id == ArtifactId::ROOT || !matches!(a.kind, ArtifactKind::File | ArtifactKind::Directory) {
                continue;
            }
            let (Some(mode), Some(member)) = (a.mode, a.member()) else {
                continue;
            };
            if let Some(d) = self.check(a, member.as_bytes(), mode) {
                out.push(d);
            }
        }
        Ok(())
    }
}

impl Permissions {
    fn check(&self, a: &Artifact, path: &[u8], mode: u32) -> Option<Draft> {
        let name = path.rsplit(|&c| c == b'/').next().unwrap_or(path);
        let shown = probity_model::text::escape(path);
        let is_dir = a.kind == ArtifactKind::Directory;
        let world_writable = mode & S_IWOTH != 0 && !(is_dir && mode & S_ISVTX != 0);
        let (rule, severity, message, key) = if world_writable && in_exec_path(path) {
            let what = if is_dir { "directory" } else { "file" };
            (
                WRITABLE_EXEC,
                None,
                format!(
                    "{what} `{shown}` is world-writable (mode {mode:o}) where root runs programs or init reads"
                ),
                "world-writable-exec",
            )
        } else if world_writable {
            let (what, sticky) = if is_dir {
                ("directory", " without the sticky bit")
            } else {
                ("file", "")
            };
            (
                WORLD_WRITABLE,
                None,
                format!("{what} `{shown}` is world-writable{sticky} (mode {mode:o})"),
                "world-writable",
            )
        } else if !is_dir && mode & (S_ISUID | S_ISGID) != 0 {
            let setuid_root = mode & S_ISUID != 0 && a.uid == Some(0);
            let expected = EXPECTED_SETUID.iter().any(|e| e.as_bytes() == name);
            let severity = if setuid_root && !expected {
                Severity::Medium
            } else if expected {
                Severity::Info
            } else {
                Severity::Low
            };
            let bits = match (mode & S_ISUID != 0, mode & S_ISGID != 0) {
                (true, true) => "setuid and setgid",
                (true, false) => "setuid",
                _ => "setgid",
            };
            let owner = a.uid.map(|u| format!(", owner uid {u}")).unwrap_or_default();
            (
                SETUID,
                Some(severity),
                format!("`{shown}` is {bits} (mode {mode:o}{owner})"),
                "setuid-setgid",
            )
        } else {
            return None;
        };
        Some(Draft {
            rule: self.rule(rule)?,
            subject: Subject::Artifacts(vec![a.id]),
            message,
            evidence: vec![mode_evidence(a, path, mode)],
            key: key.into(),
            severity,
            confidence: None,
            cve: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn art(kind: ArtifactKind, mode: u32, uid: u32) -> Artifact {
        Artifact {
            id: ArtifactId(1),
            parent: Some(ArtifactId::ROOT),
            hop: None,
            kind,
            size: 0,
            sha256: None,
            mode: Some(mode),
            uid: Some(uid),
            gid: Some(0),
            link_target: None,
            device: None,
            file_type: None,
            content: probity_model::ContentStatus::None,
        }
    }

    #[test]
    fn modes() {
        let p = Permissions::new();
        assert_eq!(p.rules().len(), 3);
        let f = ArtifactKind::File;
        let d = ArtifactKind::Directory;
        let c = |k, m, u, path: &str| {
            p.check(&art(k, m, u), path.as_bytes(), m)
                .map(|d| (d.rule.to_string(), d.severity))
        };
        assert_eq!(
            c(f, 0o104755, 0, "/usr/bin/diag"),
            Some((SETUID.into(), Some(Severity::Medium)))
        );
        assert_eq!(
            c(f, 0o104755, 0, "/bin/busybox"),
            Some((SETUID.into(), Some(Severity::Info)))
        );
        assert_eq!(
            c(f, 0o102755, 0, "/usr/bin/x"),
            Some((SETUID.into(), Some(Severity::Low)))
        );
        assert_eq!(
            c(f, 0o104755, 1000, "/usr/bin/x"),
            Some((SETUID.into(), Some(Severity::Low)))
        );
        assert_eq!(c(d, 0o40777, 0, "/var/x"), Some((WORLD_WRITABLE.into(), None)));
        assert_eq!(c(d, 0o41777, 0, "/tmp"), None);
        assert_eq!(
            c(f, 0o100666, 0, "/etc/x.conf"),
            Some((WORLD_WRITABLE.into(), None))
        );
        assert_eq!(
            c(f, 0o100777, 0, "/etc/init.d/rcS"),
            Some((WRITABLE_EXEC.into(), None))
        );
        assert_eq!(c(d, 0o40777, 0, "/usr/sbin"), Some((WRITABLE_EXEC.into(), None)));
        assert_eq!(c(f, 0o100777, 0, "/binary"), Some((WORLD_WRITABLE.into(), None)));
        assert_eq!(c(f, 0o100755, 0, "/bin/x"), None);
    }
}
