//! Accounts: who can log in, with which password.
//!
//! The analyzer finds the image's user databases (`passwd`, `shadow`, their backups and BusyBox
//! variants, `.htpasswd`, group passwords, account records compiled into other files), lists
//! every account in the inventory, and reports the accounts that give access: a second UID-0
//! account, empty and clear-text passwords, weak hash schemes, service accounts with a login shell,
//! and passwords recovered from their hashes with the built-in list of default credentials
//! (`rules/credentials.toml`) and `--wordlist`.
//!
//! It works on the whole tree at once ([`Analyzer::analyze_tree`]) because a `passwd` record
//! takes its password from the `shadow` file beside it, and because every hash of the image is
//! recovered in one parallel batch (identical hashes once). [`parse`] splits and validates
//! records, [`crack`] recovers passwords, [`docs`] holds the rules' documentation.

pub mod crack;
pub mod docs;
pub mod parse;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use probity_model::{
    Account, ArtifactId, ArtifactKind, ByteString, Evidence, EvidenceKind, Field, PasswordState, Region,
    RuleDescriptor, RuleId, Severity, Sha256, text::escape,
};
use probity_unpack::Tree;
use rayon::prelude::*;

use crate::AnalyzeError;
use crate::analyzer::{Analyzer, AnalyzerFailure, Draft, Output, Subject, TreeContext};
use crate::rules::RuleFile;
pub use crack::read_wordlist;
use crack::{Candidate, Origin, Recovery};
use parse::{DbKind, Record, RecordFormat};

/// The analyzer's id.
pub const ID: &str = "accounts";

/// Largest file parsed as a user database (real ones are a few KiB).
pub const MAX_DB_SIZE: u64 = 4 << 20;

/// Largest file searched for embedded account records.
pub const MAX_EMBEDDED_SCAN: u64 = 64 << 20;

/// Names of service and system accounts (besides user ids 1 to 999).
const SERVICE_NAMES: &[&str] = &[
    "daemon",
    "bin",
    "sys",
    "sync",
    "games",
    "man",
    "lp",
    "mail",
    "news",
    "uucp",
    "proxy",
    "www-data",
    "www",
    "backup",
    "list",
    "irc",
    "gnats",
    "nobody",
    "ftp",
    "tftp",
    "sshd",
    "messagebus",
    "dnsmasq",
    "ntp",
    "http",
    "httpd",
    "apache",
    "nginx",
    "mysql",
    "postgres",
    "avahi",
    "dbus",
    "quagga",
    "snmp",
    "operator",
    "halt",
    "shutdown",
    "uuidd",
    "network",
    "dhcp",
    "nogroup",
];

/// Shells that give an interactive session.
const INTERACTIVE_SHELLS: &[&[u8]] = &[
    b"sh", b"ash", b"bash", b"dash", b"zsh", b"ksh", b"mksh", b"csh", b"tcsh", b"hush", b"msh", b"lash",
    b"fish",
];

/// The accounts analyzer.
#[derive(Debug)]
pub struct Accounts {
    rules: Vec<RuleDescriptor>,
    builtin: Vec<Candidate>,
}

impl Accounts {
    /// Builds the analyzer with the built-in credential list (`rules/credentials.toml`).
    pub fn new(credentials: &RuleFile) -> Result<Accounts, AnalyzeError> {
        let builtin =
            crack::builtin(credentials.text).map_err(|e| AnalyzeError::rules(credentials.name, e))?;
        Ok(Accounts {
            rules: docs::rules(),
            builtin,
        })
    }
}

/// A user database found in the tree.
#[derive(Debug)]
struct DbFile {
    sha: Sha256,
    ids: Vec<ArtifactId>,
    records: Vec<Record>,
}

/// The path an artifact is known by: its member path, or the input's name for the root.
fn path_of(tree: &Tree, id: ArtifactId) -> Option<Vec<u8>> {
    if id == ArtifactId::ROOT {
        return Some(tree.input().name.as_bytes().to_vec());
    }
    tree.artifact(id)?.member().map(|m| m.as_bytes().to_vec())
}

/// `(parent, directory, base name)` of an artifact's path.
type PathKey = (Option<ArtifactId>, Vec<u8>, Vec<u8>);

/// The [`PathKey`] of an artifact.
fn split_path(tree: &Tree, id: ArtifactId) -> Option<PathKey> {
    let path = path_of(tree, id)?;
    let parent = tree.artifact(id)?.parent;
    let cut = path.iter().rposition(|&b| b == b'/').map(|i| i + 1).unwrap_or(0);
    Some((parent, path.get(..cut)?.to_vec(), path.get(cut..)?.to_vec()))
}

fn find_db(
    tree: &Tree,
    sha: Sha256,
    ids: &[ArtifactId],
    covered: &HashMap<ArtifactId, Vec<(u64, u64)>>,
) -> Option<DbFile> {
    let first = *ids.first()?;
    let artifact = tree.artifact(first)?;
    if artifact.kind != ArtifactKind::File {
        return None;
    }
    let kind = ids
        .iter()
        .filter_map(|&id| path_of(tree, id))
        .filter_map(|p| parse::kind_of_path(&p))
        .min();
    let named = kind.is_some() && artifact.size <= MAX_DB_SIZE;
    if !named && artifact.size > MAX_EMBEDDED_SCAN {
        return None;
    }
    let content = tree.open(first).ok()?;
    // User databases are text: a file with a NUL byte (the `htpasswd` program, a `passwd`
    // binary) is only searched for embedded records.
    let text = memchr::memchr(0, &content).is_none();
    let mut records = match kind {
        Some(k) if named && text => parse::parse_db(&content, k),
        _ => Vec::new(),
    };
    if kind == Some(DbKind::Group) {
        // Only group passwords that are real hashes: a `group*` file's `x` or empty fields say
        // nothing about access, and a clear-text guess there would be noise.
        records.retain(
            |r| matches!(parse::identify(r.password()), (PasswordState::Hash, Some(s)) if s != "unknown"),
        );
    } else if records.is_empty() {
        let ranges = covered.get(&first).map(Vec::as_slice).unwrap_or_default();
        let skip = |o: u64, l: u64| ranges.iter().any(|&(s, e)| o < e && o.saturating_add(l) > s);
        records = parse::scan_embedded(&content, &skip);
    }
    (!records.is_empty()).then(|| DbFile {
        sha,
        ids: ids.to_vec(),
        records,
    })
}

/// The state of a password field and its hash scheme.
fn state_of(r: &Record) -> (PasswordState, Option<&'static str>) {
    parse::identify(r.password())
}

fn is_service(name: &[u8], uid: u32) -> bool {
    uid != 0
        && ((1..1000).contains(&uid)
            || SERVICE_NAMES.iter().any(|s| s.as_bytes() == name)
            || name.starts_with(b"systemd-"))
}

fn is_interactive(shell: &[u8]) -> bool {
    let base = shell.rsplit(|&b| b == b'/').next().unwrap_or(shell);
    INTERACTIVE_SHELLS.contains(&base)
}

fn record_evidence(r: &Record) -> Evidence {
    let names = r.format.field_names();
    let fields = r
        .fields
        .iter()
        .enumerate()
        .map(|(i, v)| Field {
            name: names
                .get(i)
                .map(|s| (*s).to_string())
                .unwrap_or_else(|| format!("field{}", i + 1)),
            value: ByteString(v.clone()),
        })
        .collect();
    Evidence {
        kind: EvidenceKind::Record {
            format: r.format.as_str().into(),
            fields,
        },
        region: Some(Region::of(r.offset as u64, &r.raw)),
        at: None,
    }
}

fn recovered_evidence(r: &Record, scheme: &str, c: &Candidate) -> Evidence {
    let field = |name: &str, value: ByteString| Field {
        name: name.into(),
        value,
    };
    Evidence {
        kind: EvidenceKind::Record {
            format: "recovered-password".into(),
            fields: vec![
                field("account", ByteString(r.name().to_vec())),
                field("scheme", scheme.into()),
                field("password", ByteString(c.password.clone())),
                field("candidate_source", c.origin.describe().into()),
            ],
        },
        region: None,
        at: None,
    }
}

/// For each file, the index of the file with the same directory and the other database name
/// (`passwd` ↔ `shadow`, `passwd-` ↔ `shadow-`, `passwd.bak` ↔ `shadow.bak`).
fn siblings(tree: &Tree, files: &[DbFile]) -> Vec<Option<usize>> {
    let mut by_path: HashMap<PathKey, usize> = HashMap::new();
    for (i, f) in files.iter().enumerate() {
        for &id in &f.ids {
            if let Some(key) = split_path(tree, id) {
                by_path.entry(key).or_insert(i);
            }
        }
    }
    files
        .iter()
        .map(|f| {
            f.ids.iter().find_map(|&id| {
                let (parent, dir, base) = split_path(tree, id)?;
                let other = if let Some(rest) = base.strip_prefix(b"passwd") {
                    [b"shadow".as_slice(), rest].concat()
                } else if let Some(rest) = base.strip_prefix(b"shadow") {
                    [b"passwd".as_slice(), rest].concat()
                } else {
                    return None;
                };
                by_path.get(&(parent, dir, other)).copied()
            })
        })
        .collect()
}

impl Accounts {
    fn candidates(&self, files: &[DbFile], cx: &TreeContext<'_>) -> Result<Vec<Candidate>, AnalyzerFailure> {
        let mut out = self.builtin.clone();
        let mut seen: HashSet<Vec<u8>> = out.iter().map(|c| c.password.clone()).collect();
        let names: BTreeSet<&[u8]> = files
            .iter()
            .flat_map(|f| f.records.iter().map(Record::name))
            .collect();
        for n in names {
            if seen.insert(n.to_vec()) {
                out.push(Candidate {
                    password: n.to_vec(),
                    origin: Origin::AccountName,
                });
            }
        }
        if let Some(path) = &cx.options.wordlist {
            for c in read_wordlist(path).map_err(AnalyzerFailure)? {
                if seen.insert(c.password.clone()) {
                    out.push(c);
                }
            }
        }
        Ok(out)
    }
}

impl Analyzer for Accounts {
    fn id(&self) -> &'static str {
        ID
    }

    fn rules(&self) -> &[RuleDescriptor] {
        &self.rules
    }

    fn analyze_tree(&self, cx: &TreeContext<'_>, out: &mut Output) -> Result<(), AnalyzerFailure> {
        let tree = cx.tree;
        let covered = tree.covered_ranges();
        let files: Vec<DbFile> = tree
            .unique_contents()
            .par_iter()
            .filter_map(|(sha, ids)| find_db(tree, *sha, ids, &covered))
            .collect();
        if files.is_empty() {
            return Ok(());
        }
        let hashes: Vec<(&'static str, Vec<u8>)> = files
            .iter()
            .flat_map(|f| &f.records)
            .filter_map(|r| match state_of(r) {
                (PasswordState::Hash, Some(s)) if crack::recoverable(s) => Some((s, r.password().to_vec())),
                _ => None,
            })
            .collect();
        let recovered = if hashes.is_empty() {
            BTreeMap::new()
        } else {
            let budget = if cx.options.wordlist.is_some() {
                crack::BUDGET_WORDLIST
            } else {
                crack::BUDGET_BUILTIN
            };
            crack::recover(&hashes, &self.candidates(&files, cx)?, budget)
        };
        let sibling = siblings(tree, &files);
        for (i, f) in files.iter().enumerate() {
            let other = sibling.get(i).copied().flatten().and_then(|j| files.get(j));
            let other_by_name: BTreeMap<&[u8], &Record> = other
                .map(|o| o.records.iter().rev().map(|r| (r.name(), r)).collect())
                .unwrap_or_default();
            let mut locations: Vec<_> = f.ids.iter().map(|&id| tree.locator(id)).collect();
            locations.sort_by_cached_key(|l| l.to_string());
            locations.dedup();
            for r in &f.records {
                let linked = other_by_name.get(r.name()).copied();
                emit(f, r, linked, &recovered, out);
                let (password, hash_type) = state_of(r);
                let is_passwd = r.format == RecordFormat::Passwd;
                let opt = |i: usize| (is_passwd).then(|| ByteString(r.field(i).to_vec()));
                out.inventory.accounts.push(Account {
                    name: ByteString(r.name().to_vec()),
                    source: r.format.as_str().into(),
                    line: r.line,
                    uid: r.uid(),
                    gid: if is_passwd || r.format == RecordFormat::Group {
                        r.number(if is_passwd { 3 } else { 2 })
                    } else {
                        None
                    },
                    home: opt(5),
                    shell: opt(6),
                    password,
                    hash_type: hash_type.map(Into::into),
                    recovered: recovered.get(r.password()).is_some_and(|x| x.found.is_some()),
                    locations: locations.clone(),
                });
            }
        }
        Ok(())
    }
}

/// The findings of one record. `linked` is the record of the same name in the sibling database
/// (the shadow entry of a passwd record, or the passwd entry of a shadow record).
fn emit(
    f: &DbFile,
    r: &Record,
    linked: Option<&Record>,
    recovered: &BTreeMap<Vec<u8>, Recovery>,
    out: &mut Output,
) {
    let name = escape(r.name());
    let line = r.line;
    let uid = r.uid().or_else(|| linked.and_then(Record::uid));
    let superuser = uid == Some(0) || r.name() == b"root";
    let mut push =
        |rule: &str, message: String, key: String, severity: Option<Severity>, extra: Option<Evidence>| {
            let Ok(rule) = rule.parse::<RuleId>() else {
                return;
            };
            let mut d = Draft::on_content(rule, f.sha, message, key);
            d.subject = Subject::Content(f.sha);
            d.evidence.push(record_evidence(r));
            d.evidence.extend(extra);
            d.severity = severity;
            out.push(d);
        };
    let (state, scheme) = state_of(r);
    // A passwd field of `x` defers to shadow; the shadow record reports its own field.
    let locked_elsewhere =
        linked.is_some_and(|l| l.format != RecordFormat::Passwd && state_of(l).0 == PasswordState::Locked);
    let locked = state == PasswordState::Locked || locked_elsewhere;
    if r.format == RecordFormat::Passwd && r.uid() == Some(0) && r.name() != b"root" {
        let how = if locked { ", its password is locked" } else { "" };
        push(
            docs::UID0,
            format!("account `{name}` has user id 0 (line {line}{how})"),
            format!("uid0:{name}"),
            locked.then_some(Severity::Low),
            None,
        );
    }
    match (state, scheme) {
        (PasswordState::Empty, _) if r.format != RecordFormat::Group => push(
            docs::EMPTY,
            format!("account `{name}` has an empty password (line {line})"),
            format!("empty:{name}"),
            superuser.then_some(Severity::Critical),
            None,
        ),
        (PasswordState::Plaintext, _) => push(
            docs::PLAINTEXT,
            format!("account `{name}` stores its password in clear (line {line})"),
            format!("plaintext:{name}"),
            None,
            None,
        ),
        (PasswordState::Hash, Some(s)) => {
            if parse::is_weak(s) {
                push(
                    docs::WEAK_HASH,
                    format!("account `{name}` uses the weak hash scheme {s} (line {line})"),
                    format!("weak:{name}:{s}"),
                    None,
                    None,
                );
            }
            if let Some(c) = recovered.get(r.password()).and_then(|x| x.found.as_ref()) {
                push(
                    docs::RECOVERED,
                    format!(
                        "password of `{name}` recovered: `{}` ({s}, line {line}; candidate from {})",
                        escape(&c.password),
                        c.origin.describe()
                    ),
                    format!("recovered:{name}"),
                    Some(if superuser {
                        Severity::Critical
                    } else {
                        Severity::High
                    }),
                    Some(recovered_evidence(r, s, c)),
                );
            }
        }
        _ => {}
    }
    if let (Some(uid), Some(shell)) = (r.uid(), r.shell())
        && is_service(r.name(), uid)
        && is_interactive(shell)
        && !locked
    {
        push(
            docs::SERVICE_SHELL,
            format!(
                "service account `{name}` (uid {uid}) has login shell `{}` (line {line})",
                escape(shell)
            ),
            format!("shell:{name}"),
            None,
            None,
        );
    }
}
