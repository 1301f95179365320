//! The attack surface at boot: which services a firmware image starts, how they authenticate, and
//! the findings that follow (telnet, a console shell, blank passwords, default SNMP communities,
//! debug daemons).
//!
//! The analyzer works on the whole tree ([`Analyzer::analyze_tree`]): a boot script and the daemon
//! it starts are different files, and an image may hold several root file systems ([`root`]).
//! For each root it follows the boot sequence ([`walk`]) with small parsers of its own
//! ([`inittab`], the shell tokenizer [`shell`], systemd and inetd in [`units`], configuration in
//! [`config`]), records every service in `inventory.services`, and reports the risky ones. When
//! `/bin/busybox` is an ELF binary, its applet table ([`busybox`]) says whether an applet started
//! through a link to it (`telnetd`) is compiled in; that goes into the finding's evidence.

pub mod busybox;
pub mod classify;
pub mod config;
pub mod inittab;
pub mod root;
mod rules;
pub mod shell;
pub mod units;
pub mod walk;

use probity_model::{
    ArtifactId, ByteString, Confidence, Evidence, EvidenceKind, Field, Region, RuleDescriptor, RuleId,
    Service, Severity,
};

use crate::analyzer::{Analyzer, AnalyzerFailure, Draft, Output, Subject, TreeContext};
use classify::{basename, class_of, is_shell};
use root::Root;
use units::Located;
use walk::{Found, Walk};

/// The analyzer's id.
pub const ID: &str = "services";

/// The boot attack-surface analyzer.
#[derive(Debug)]
pub struct Services {
    rules: Vec<RuleDescriptor>,
}

impl Default for Services {
    fn default() -> Self {
        Self::new()
    }
}

impl Services {
    /// The analyzer with its rules.
    pub fn new() -> Services {
        Services {
            rules: rules::descriptors(),
        }
    }

    fn rule(&self, id: &str) -> Option<RuleId> {
        self.rules
            .iter()
            .find(|r| r.id.as_str() == id)
            .map(|r| r.id.clone())
    }
}

/// Evidence quoting lines `first..=last` at `span` of `data`.
pub fn lines_evidence(data: &[u8], span: (usize, usize), first: u32, last: u32) -> Option<Evidence> {
    let bytes = data.get(span.0..span.1)?;
    Some(Evidence {
        kind: EvidenceKind::Lines {
            first_line: u64::from(first),
            last_line: u64::from(last),
            excerpt: ByteString::from(bytes),
        },
        region: Some(Region::of(span.0 as u64, bytes)),
        at: None,
    })
}

fn located_evidence(data: &[u8], at: &Located) -> Option<Evidence> {
    lines_evidence(data, (at.offset, at.offset + at.length), at.line, at.line)
}

fn text(b: &[u8]) -> String {
    probity_model::text::escape(b)
}

/// A service with what was decided about it.
struct Decided {
    found: Found,
    class: Option<&'static str>,
    authentication: &'static str,
    port: Option<(u16, &'static str)>,
    /// Evidence from a configuration file (sshd_config, vsftpd.conf), with its artifact.
    config: Option<(ArtifactId, Evidence)>,
    /// The BusyBox applet evidence: whether it is compiled in, and the evidence.
    applet: Option<(bool, Evidence)>,
}

impl Analyzer for Services {
    fn id(&self) -> &'static str {
        ID
    }

    fn rules(&self) -> &[RuleDescriptor] {
        &self.rules
    }

    fn analyze_tree(&self, cx: &TreeContext<'_>, out: &mut Output) -> Result<(), AnalyzerFailure> {
        for root in root::roots(cx.tree) {
            self.analyze_root(&root, out);
        }
        Ok(())
    }
}

impl Services {
    fn analyze_root(&self, root: &Root<'_>, out: &mut Output) {
        let mut walk = Walk::new(root);
        walk.run();
        let mut found = walk.found;
        found.sort_by(|a, b| {
            (&a.path, a.line, &a.binary, &a.arguments).cmp(&(&b.path, b.line, &b.binary, &b.arguments))
        });
        found.dedup();
        let busybox = root.lookup(b"/bin/busybox").and_then(|(id, _)| {
            let data = root.tree.open(id).ok()?;
            data.starts_with(b"\x7fELF")
                .then(|| busybox::applets(&data))
                .flatten()
                .map(|a| (id, a))
        });
        let sshd = self.config_file(root, &[b"/etc/ssh/sshd_config", b"/etc/sshd_config"]);
        let sshd_config = sshd.as_ref().map(|(_, d)| config::parse_sshd(d));
        let vsftpd = self.config_file(root, &[b"/etc/vsftpd.conf", b"/etc/vsftpd/vsftpd.conf"]);

        let mut decided = Vec::new();
        for f in found {
            let name = basename(&f.binary).to_vec();
            let shell_console = f.started_by == "inittab" && is_shell(&f.binary) && f.arguments.is_empty();
            let class = if shell_console {
                Some("console")
            } else {
                class_of(&name)
            };
            let mut authentication = if shell_console {
                "none"
            } else {
                classify::authentication(class, &name, &f.arguments)
            };
            let mut port = f.port.or_else(|| classify::port_of(class, &name, &f.arguments));
            let mut config_ev = None;
            if name == b"sshd"
                && let (Some((id, data)), Some(c)) = (&sshd, &sshd_config)
            {
                authentication = if c.empty_passwords() {
                    "password-blank-allowed"
                } else if c.passwords() {
                    "password"
                } else {
                    "key"
                };
                if classify::option(&f.arguments, b"-p").is_none()
                    && let Some(p) = c.port.as_ref().and_then(|p| classify::parse_port(&p.value))
                {
                    port = Some((p, "tcp"));
                }
                if let Some(s) = c.permit_empty_passwords.as_ref().filter(|_| c.empty_passwords()) {
                    config_ev = located_evidence(data, &s.at).map(|e| (*id, e));
                }
            }
            if class == Some("ftp")
                && let Some((id, data)) = &vsftpd
                && name == b"vsftpd"
                && let Some(at) = config::vsftpd_anonymous(data)
            {
                authentication = "none";
                config_ev = located_evidence(data, &at).map(|e| (*id, e));
            }
            let applet = busybox.as_ref().and_then(|(bb, table)| {
                let (id, _) = root.command(&f.binary)?;
                (id == *bb && name != b"busybox").then(|| {
                    let present = table.contains(&name);
                    let mut fields = vec![
                        Field {
                            name: "binary".into(),
                            value: ByteString::from(&b"/bin/busybox"[..]),
                        },
                        Field {
                            name: "applet".into(),
                            value: ByteString::from(name.as_slice()),
                        },
                        Field {
                            name: "compiled_in".into(),
                            value: ByteString::from(if present { "yes" } else { "no" }),
                        },
                        Field {
                            name: "applets".into(),
                            value: ByteString::from(table.names.len().to_string()),
                        },
                    ];
                    fields.push(Field {
                        name: "table_offset".into(),
                        value: ByteString::from(table.offset.to_string()),
                    });
                    // The region is the applet's name in the table, or the whole table when the
                    // name is not in it (what was searched).
                    let region = root.tree.open(*bb).ok().and_then(|data| {
                        let (offset, len) = match table.position(&name) {
                            Some(at) => (at, name.len()),
                            None => (table.offset, table.length),
                        };
                        Some(Region::of(offset as u64, data.get(offset..offset + len)?))
                    });
                    let ev = Evidence {
                        kind: EvidenceKind::Record {
                            format: "busybox-applets".into(),
                            fields,
                        },
                        region,
                        at: Some(root.tree.locator(*bb)),
                    };
                    (present, ev)
                })
            });
            decided.push(Decided {
                found: f,
                class,
                authentication,
                port,
                config: config_ev,
                applet,
            });
        }

        let cgi = cgi_directories(root);
        for d in &decided {
            let mut details = Vec::new();
            if let Some((present, _)) = &d.applet {
                details.push(Field {
                    name: "busybox-applet".into(),
                    value: ByteString::from(if *present { &b"compiled-in"[..] } else { b"absent" }),
                });
            }
            if d.class == Some("http") {
                details.extend(cgi.iter().map(|dir| Field {
                    name: "cgi-directory".into(),
                    value: ByteString::from(dir.as_slice()),
                }));
            }
            out.inventory.services.push(Service {
                binary: ByteString::from(d.found.binary.as_slice()),
                arguments: d
                    .found
                    .arguments
                    .iter()
                    .map(|a| ByteString::from(a.as_slice()))
                    .collect(),
                started_by: d.found.started_by.into(),
                line: d.found.line,
                port: d.port.map(|p| p.0),
                protocol: d.port.map(|p| p.1.to_string()),
                class: d.class.map(str::to_string),
                authentication: d.authentication.into(),
                details,
                locations: vec![root.tree.locator(d.found.file)],
            });
            self.service_findings(root, d, out);
        }
        let sshd_started = decided.iter().any(|d| basename(&d.found.binary) == b"sshd");
        if let (Some((id, data)), Some(c)) = (&sshd, &sshd_config) {
            self.sshd_findings(*id, data, c, sshd_started, out);
        }
        self.snmp_findings(root, out);
    }

    fn config_file(&self, root: &Root<'_>, paths: &[&[u8]]) -> Option<(ArtifactId, Vec<u8>)> {
        paths.iter().find_map(|p| {
            let (id, _) = root.lookup(p)?;
            Some((id, root.read(id)?))
        })
    }

    fn draft(
        &self,
        rule: &str,
        file: ArtifactId,
        message: String,
        key: String,
        evidence: Vec<Evidence>,
    ) -> Option<Draft> {
        Some(Draft {
            rule: self.rule(rule)?,
            subject: Subject::Artifacts(vec![file]),
            message,
            evidence,
            key,
            severity: None,
            confidence: None,
            cve: Vec::new(),
        })
    }

    fn service_findings(&self, root: &Root<'_>, d: &Decided, out: &mut Output) {
        let f = &d.found;
        let Some(data) = root.read(f.file) else {
            return;
        };
        let Some(start) = lines_evidence(&data, f.span, f.line, f.last_line) else {
            return;
        };
        let key = format!("{}\u{0}{}\u{0}{}", text(&f.binary), f.started_by, text(&f.path));
        let command = text(&f.binary);
        let at = format!("{} line {}", text(&f.path), f.line);
        let mut evidence = vec![start];
        if let Some((id, ev)) = &d.config {
            evidence.push(ev.clone().located_at(root.tree.locator(*id)));
        }
        let applet_note = match &d.applet {
            Some((true, ev)) => {
                evidence.push(ev.clone());
                "; the applet is compiled into /bin/busybox".to_string()
            }
            Some((false, ev)) => {
                evidence.push(ev.clone());
                "; the applet is NOT compiled into /bin/busybox, so the command fails".to_string()
            }
            None => String::new(),
        };
        let missing_applet = matches!(d.applet, Some((false, _)));
        let port = d
            .port
            .map(|(p, proto)| format!(" on {proto} port {p}"))
            .unwrap_or_default();
        let mut drafts = Vec::new();
        match d.class {
            Some("telnet") => {
                let no_login = d.authentication == "none";
                let msg = if no_login {
                    format!(
                        "`{command}` is started by {at}{port} with a shell as its login program: a root shell without password{applet_note}"
                    )
                } else {
                    format!("`{command}` is started by {at}{port}{applet_note}")
                };
                if let Some(mut dr) = self.draft(rules::TELNET, f.file, msg, key.clone(), evidence.clone()) {
                    if no_login {
                        dr.severity = Some(Severity::Critical);
                    }
                    drafts.push(dr);
                }
            }
            Some("console") if d.authentication == "none" => {
                let msg = format!("{at} starts `{command}` on a console without login");
                drafts.extend(self.draft(rules::CONSOLE_SHELL, f.file, msg, key.clone(), evidence.clone()));
            }
            Some("ssh")
                if d.authentication == "password-blank-allowed" && basename(&f.binary) == b"dropbear" =>
            {
                let valued = b"bprPWKIcajkT";
                let root = if classify::has_flag(&f.arguments, b'w', valued) {
                    " (except root: -w)"
                } else if classify::has_flag(&f.arguments, b'g', valued) {
                    " (root only with a key: -g)"
                } else {
                    ""
                };
                let msg = format!(
                    "`{command}` is started by {at}{port} with -B: accounts with an empty password can log in{root}"
                );
                drafts.extend(self.draft(rules::DROPBEAR_BLANK, f.file, msg, key.clone(), evidence.clone()));
            }
            Some("tftp") => {
                let msg =
                    format!("TFTP server `{command}` is started by {at}{port}; TFTP has no authentication");
                drafts.extend(self.draft(rules::FILE_TRANSFER, f.file, msg, key.clone(), evidence.clone()));
            }
            Some("ftp") if d.authentication == "none" => {
                let msg =
                    format!("FTP server `{command}` is started by {at}{port} with anonymous login enabled");
                drafts.extend(self.draft(rules::FILE_TRANSFER, f.file, msg, key.clone(), evidence.clone()));
            }
            Some("debug") => {
                let msg =
                    format!("debug or manufacturing daemon `{command}` is started by {at}{applet_note}");
                drafts.extend(self.draft(rules::DEBUG_DAEMON, f.file, msg, key.clone(), evidence.clone()));
            }
            _ => {}
        }
        for mut dr in drafts {
            if missing_applet {
                dr.confidence = Some(Confidence::Possible);
            }
            out.push(dr);
        }
    }

    fn sshd_findings(
        &self,
        id: ArtifactId,
        data: &[u8],
        c: &config::SshdConfig,
        started: bool,
        out: &mut Output,
    ) {
        let state = if started {
            "sshd is started at boot"
        } else {
            "no sshd start was found in the boot scripts"
        };
        if c.empty_passwords()
            && let Some(s) = &c.permit_empty_passwords
            && let Some(ev) = located_evidence(data, &s.at)
        {
            let msg = format!(
                "`PermitEmptyPasswords {}` (line {}); {state}",
                text(&s.value),
                s.at.line
            );
            out.drafts.extend(self.draft(
                rules::SSHD_EMPTY,
                id,
                msg,
                "PermitEmptyPasswords".into(),
                vec![ev],
            ));
        }
        if c.root_with_password()
            && let Some(s) = &c.permit_root_login
            && let Some(ev) = located_evidence(data, &s.at)
        {
            let mut evidence = vec![ev];
            if let Some(p) = &c.password_authentication
                && let Some(e) = located_evidence(data, &p.at)
            {
                evidence.push(e);
            }
            let msg = format!(
                "`PermitRootLogin {}` (line {}) with password authentication on; {state}",
                text(&s.value),
                s.at.line
            );
            out.drafts
                .extend(self.draft(rules::SSHD_ROOT, id, msg, "PermitRootLogin".into(), evidence));
        }
    }

    fn snmp_findings(&self, root: &Root<'_>, out: &mut Output) {
        for p in [&b"/etc/snmp/snmpd.conf"[..], b"/etc/snmpd.conf"] {
            let Some((id, _)) = root.lookup(p) else {
                continue;
            };
            let Some(data) = root.read(id) else {
                continue;
            };
            for c in config::parse_snmpd(&data) {
                if !config::is_default_community(&c.name) {
                    continue;
                }
                let Some(ev) = located_evidence(&data, &c.at) else {
                    continue;
                };
                let access = if c.write { "read-write" } else { "read-only" };
                let msg = format!(
                    "default SNMP community `{}` with {access} access (`{}`, line {})",
                    text(&c.name),
                    text(&c.directive),
                    c.at.line
                );
                let key = format!("{}\u{0}{}", text(&c.directive), text(&c.name));
                if let Some(mut d) = self.draft(rules::SNMP_COMMUNITY, id, msg, key, vec![ev]) {
                    if c.write {
                        d.severity = Some(Severity::High);
                    }
                    out.push(d);
                }
            }
        }
    }
}

/// Most CGI directories listed for one root.
const MAX_CGI_DIRECTORIES: usize = 16;

/// Directories of CGI programs in a root file system: directories named `cgi-bin`, and the
/// directories holding `*.cgi` files, sorted. A web server started at boot may run what they hold
/// (which one depends on its configuration, which is not read: every web service of the root
/// lists them all).
fn cgi_directories(root: &Root<'_>) -> Vec<Vec<u8>> {
    let mut dirs = std::collections::BTreeSet::new();
    for path in root.members.keys() {
        let (parent, name) = match path.iter().rposition(|&c| c == b'/') {
            Some(i) => (&path[..i], &path[i + 1..]),
            None => (&b""[..], path.as_slice()),
        };
        if name == b"cgi-bin" {
            dirs.insert(path.clone());
        } else if name.ends_with(b".cgi") && !parent.is_empty() {
            dirs.insert(parent.to_vec());
        }
    }
    dirs.into_iter().take(MAX_CGI_DIRECTORIES).collect()
}

#[cfg(test)]
mod tests;
