//! Keys and certificates: private keys, public keys and certificates anywhere in the image, in
//! the inventory with their public-key fingerprints, and the findings they call for.
//!
//! `scan` finds the items of one content (PEM blocks and SSH / PuTTY keys anywhere, DER
//! structures and key stores as whole contents); this module turns them into inventory entries
//! and findings: an unencrypted private key shipped in the image (`PRB-KEY-001`), a weak key
//! (`PRB-KEY-002`), a certificate whose private key is also in the image (`PRB-KEY-003`, across
//! files, in [`Analyzer::analyze_tree`]), a CA-issued certificate signed over MD5 / SHA-1
//! (`PRB-KEY-004`), a key on the `--known-keys` list (`PRB-KEY-005`), and a key in an
//! `authorized_keys` file (`PRB-KEY-006`).
//!
//! Certificate expiry is deliberately not judged: the report must not depend on the day it is
//! made (see `PRB-KEY-004`'s documentation); validity dates are in the inventory.
//!
//! A `--known-keys` file with a malformed line is rejected as a whole: `probity scan` checks it
//! with [`parse_known_keys`] before scanning and stops with a usage error naming the bad lines.
//! (A library caller that skips that check gets the failure as a problem of the report, from
//! `analyze_tree`, whose output, the `PRB-KEY-003` matches included, the engine then drops.)

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, OnceLock};

use probity_model::{
    ArtifactId, ByteString, Evidence, EvidenceKind, Field, KeyMaterial, Locator, RuleDescriptor, RuleId,
    Sha256,
};
use rayon::prelude::*;

use crate::analyzer::{
    AnalysisOptions, Analyzer, AnalyzerFailure, ContentContext, Draft, Output, TreeContext,
};

pub mod der;
pub mod p12crypt;
pub mod pem;
pub mod pgp;
mod rules;
pub mod scan;
pub mod ssh;
pub mod store;

pub use scan::{Found, Kind, find_all};

/// The analyzer's id.
pub const ID: &str = "keys";

/// Largest `--known-keys` file read.
const MAX_KNOWN_KEYS_FILE: u64 = 64 << 20;

/// What the cross-file check needs to know of an item.
#[derive(Debug, Clone)]
struct Brief {
    kind: Kind,
    fingerprint: Sha256,
    offset: usize,
    length: usize,
    what: String,
}

/// The key and certificate analyzer.
#[derive(Debug)]
pub struct Keys {
    rules: Vec<RuleDescriptor>,
    known: OnceLock<Result<BTreeSet<Sha256>, String>>,
    /// Items of each content analysed so far, for the cross-file check; a content missing here
    /// is read again by `analyze_tree`, so the result does not depend on call order.
    seen: Mutex<HashMap<Sha256, Vec<Brief>>>,
}

impl Default for Keys {
    fn default() -> Self {
        Keys::new()
    }
}

impl Keys {
    /// The analyzer.
    pub fn new() -> Keys {
        Keys {
            rules: rules::descriptors(),
            known: OnceLock::new(),
            seen: Mutex::new(HashMap::new()),
        }
    }

    fn known(&self, options: &AnalysisOptions) -> &Result<BTreeSet<Sha256>, String> {
        self.known.get_or_init(|| match &options.known_keys {
            None => Ok(BTreeSet::new()),
            Some(path) => {
                use std::io::Read;
                let mut text = String::new();
                std::fs::File::open(path)
                    .and_then(|f| f.take(MAX_KNOWN_KEYS_FILE).read_to_string(&mut text))
                    .map_err(|e| format!("--known-keys: can not read `{}`: {e}", path.display()))?;
                parse_known_keys(&text).map_err(|e| format!("--known-keys `{}`: {e}", path.display()))
            }
        })
    }

    fn rule_id(&self, id: &str) -> Option<RuleId> {
        self.rules
            .iter()
            .find(|r| r.id.as_str() == id)
            .map(|r| r.id.clone())
    }
}

/// Reads a list of SHA-256 fingerprints: one per line in hex (64 digits, either case), blank
/// lines and `#` comments ignored. Every malformed line is named in the error.
pub fn parse_known_keys(text: &str) -> Result<BTreeSet<Sha256>, String> {
    let mut out = BTreeSet::new();
    let mut bad = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        match line.to_ascii_lowercase().parse::<Sha256>() {
            Ok(s) if line.len() == 64 => {
                out.insert(s);
            }
            _ => bad.push(i + 1),
        }
    }
    if bad.is_empty() {
        Ok(out)
    } else {
        let lines: Vec<String> = bad.iter().take(10).map(usize::to_string).collect();
        Err(format!(
            "line{} {} {} not a SHA-256 fingerprint in hex (64 hex digits)",
            if bad.len() == 1 { "" } else { "s" },
            lines.join(", "),
            if bad.len() == 1 { "is" } else { "are" }
        ))
    }
}

/// The role a key plays, when its path says it.
fn role(paths: &[String], f: &Found) -> Option<&'static str> {
    let any = |needles: &[&str]| paths.iter().any(|p| needles.iter().any(|n| p.contains(n)));
    if f.format == "putty" {
        return Some("PuTTY user key");
    }
    if any(&["dropbear"]) {
        Some("Dropbear SSH host key")
    } else if any(&["ssh_host_", "/etc/ssh/"]) {
        Some("OpenSSH host key")
    } else if any(&["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "/.ssh/"]) {
        Some("SSH user key")
    } else if any(&[
        "ssl", "tls", "https", "cert", "lighttpd", "uhttpd", "nginx", "stunnel", "webs",
    ]) {
        Some("TLS key")
    } else {
        None
    }
}

fn describe(f: &Found) -> String {
    let alg = f.algorithm.as_deref().unwrap_or("unknown-algorithm");
    let curve = f.curve.as_deref().map(|c| format!(" {c}")).unwrap_or_default();
    match f.bits {
        Some(b) => format!("{alg}{curve} {b}-bit"),
        None => format!("{alg}{curve}"),
    }
}

fn fp_hex(f: &Found) -> Option<String> {
    f.fingerprint.map(|s| s.to_hex())
}

/// The finding key: the fingerprint, or what the item is when it has none.
fn finding_key(f: &Found) -> String {
    fp_hex(f).unwrap_or_else(|| format!("{}:{}:{}:{}", f.kind.as_str(), f.format, f.structure, describe(f)))
}

/// The evidence for an item: its bytes, and the parsed record.
fn evidence(data: &[u8], f: &Found) -> Vec<Evidence> {
    let mut out = Vec::new();
    if let Some(bytes) = data.get(f.offset..f.offset.saturating_add(f.length)) {
        out.push(Evidence::bytes(f.offset as u64, bytes));
    }
    let mut fields: Vec<(String, String)> = vec![
        ("kind".into(), f.kind.as_str().into()),
        ("format".into(), f.format.into()),
        ("structure".into(), f.structure.clone()),
    ];
    let mut opt = |name: &str, v: Option<String>| {
        if let Some(v) = v {
            fields.push((name.into(), v));
        }
    };
    opt("algorithm", f.algorithm.clone());
    opt("curve", f.curve.clone());
    opt("bits", f.bits.map(|b| b.to_string()));
    opt("fingerprint_sha256", fp_hex(f));
    opt("encrypted", Some(f.encrypted.to_string()));
    if let Some(c) = &f.cert {
        opt("subject", Some(c.subject.clone()));
        opt("issuer", Some(c.issuer.clone()));
        opt("not_before", c.not_before.clone());
        opt("not_after", c.not_after.clone());
    }
    fields.extend(f.notes.iter().cloned());
    out.push(record("key", fields));
    out
}

fn inventory_entry(f: &Found, locations: &[Locator]) -> KeyMaterial {
    KeyMaterial {
        kind: f.kind.as_str().into(),
        format: f.format.into(),
        algorithm: f.algorithm.clone(),
        bits: f.bits,
        fingerprint_sha256: fp_hex(f),
        encrypted: f.encrypted,
        subject: f.cert.as_ref().map(|c| c.subject.clone()),
        issuer: f.cert.as_ref().map(|c| c.issuer.clone()),
        not_before: f.cert.as_ref().and_then(|c| c.not_before.clone()),
        not_after: f.cert.as_ref().and_then(|c| c.not_after.clone()),
        self_signed: f.cert.as_ref().map(|c| c.self_signed),
        offset: f.offset as u64,
        locations: locations.to_vec(),
    }
}

fn weak(f: &Found) -> Option<u32> {
    let bits = f.bits?;
    let min = match f.algorithm.as_deref()? {
        "rsa" | "dsa" | "elgamal" => 2048,
        "ec" => 224,
        _ => return None,
    };
    (bits < min).then_some(min)
}

/// Drafts of one content, merged by rule and key (the same key twice in a file is one finding
/// with two pieces of evidence).
struct Drafts<'k> {
    keys: &'k Keys,
    sha: Sha256,
    drafts: BTreeMap<(&'static str, String), Draft>,
}

impl<'k> Drafts<'k> {
    fn new(keys: &'k Keys, sha: Sha256) -> Self {
        Drafts {
            keys,
            sha,
            drafts: BTreeMap::new(),
        }
    }

    fn add(&mut self, rule: &'static str, key: String, message: String, evidence: Vec<Evidence>) {
        let Some(id) = self.keys.rule_id(rule) else {
            return;
        };
        self.drafts
            .entry((rule, key.clone()))
            .or_insert_with(|| Draft::on_content(id, self.sha, message, key))
            .evidence
            .extend(evidence);
    }

    fn into_drafts(self) -> impl Iterator<Item = Draft> {
        self.drafts.into_values()
    }
}

impl Analyzer for Keys {
    fn id(&self) -> &'static str {
        ID
    }

    fn rules(&self) -> &[RuleDescriptor] {
        &self.rules
    }

    fn analyze_content(&self, cx: &ContentContext<'_>, out: &mut Output) -> Result<(), AnalyzerFailure> {
        // Items inside a completely unpacked member are the member's. An item read from the
        // whole content is this content's even so: the unpacker may record a structure that
        // spans its whole content (a PKCS#7 file recognised as PKCS#7), whose "member" is this
        // very content.
        let items: Vec<Found> = find_all(cx.data)
            .into_iter()
            .filter(|f| f.whole_content || !cx.is_covered(f.offset as u64, f.length as u64))
            .collect();
        if let Ok(mut seen) = self.seen.lock() {
            seen.insert(cx.sha256, briefs(&items));
        }
        if items.is_empty() {
            return Ok(());
        }
        let mut locations: Vec<Locator> = cx.artifacts.iter().map(|id| cx.tree.locator(*id)).collect();
        locations.sort_by_cached_key(|l| l.to_string());
        locations.dedup();
        // Member paths only: the input's own name says nothing about a key's role.
        let paths: Vec<String> = locations
            .iter()
            .map(|l| {
                l.hops
                    .iter()
                    .filter_map(|h| h.member.as_ref())
                    .map(|m| String::from_utf8_lossy(m.as_bytes()).to_ascii_lowercase())
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .collect();
        let authorized = paths.iter().any(|p| p.contains("authorized_keys"));
        let known = self.known(cx.options).as_ref().ok();
        let mut drafts = Drafts::new(self, cx.sha256);
        for f in &items {
            out.inventory.keys.push(inventory_entry(f, &locations));
            let what = describe(f);
            let key = finding_key(f);
            let ev = || evidence(cx.data, f);
            if f.kind == Kind::PrivateKey && !f.encrypted {
                let role = role(&paths, f).map(|r| format!(" ({r})")).unwrap_or_default();
                let fp = fp_hex(f)
                    .map(|h| format!(", public-key fingerprint {h}"))
                    .unwrap_or_default();
                drafts.add(
                    rules::EMBEDDED_PRIVATE_KEY,
                    key.clone(),
                    format!(
                        "unencrypted {what} private key{role} in {} ({}){fp}: every unit of the product carries it",
                        f.format, f.structure
                    ),
                    ev(),
                );
            }
            if let Some(min) = weak(f) {
                drafts.add(
                    rules::WEAK_KEY,
                    key.clone(),
                    format!(
                        "{} is {what}, below the {min} bits required",
                        f.kind.as_str().replace('-', " ")
                    ),
                    ev(),
                );
            }
            if let Some(c) = &f.cert
                && !c.self_signed
                && let Some(sig) = c.weak_signature
            {
                drafts.add(
                    rules::WEAK_SIGNATURE,
                    key.clone(),
                    format!(
                        "certificate `{}` issued by `{}` is signed with {sig}",
                        c.subject, c.issuer
                    ),
                    ev(),
                );
            }
            if let (Some(known), Some(fp)) = (known, f.fingerprint)
                && known.contains(&fp)
            {
                drafts.add(
                    rules::KNOWN_LEAKED_KEY,
                    key.clone(),
                    format!(
                        "{} {what} with fingerprint {} is on the list of publicly leaked keys",
                        f.kind.as_str().replace('-', " "),
                        fp.to_hex()
                    ),
                    ev(),
                );
            }
            if authorized && f.format == "ssh-public" {
                drafts.add(
                    rules::AUTHORIZED_KEY,
                    key.clone(),
                    format!("{what} SSH key is authorized to log in on every unit of the product"),
                    ev(),
                );
            }
        }
        out.drafts.extend(drafts.into_drafts());
        Ok(())
    }

    fn analyze_tree(&self, cx: &TreeContext<'_>, out: &mut Output) -> Result<(), AnalyzerFailure> {
        let contents = cx.tree.unique_contents();
        let covered = cx.tree.covered_ranges();
        let cached: HashMap<Sha256, Vec<Brief>> = match self.seen.lock() {
            Ok(mut seen) => contents
                .iter()
                .filter_map(|(s, _)| Some((*s, seen.remove(s)?)))
                .collect(),
            Err(_) => HashMap::new(),
        };
        // Contents not seen by `analyze_content` (another call order) are read again.
        let all: Vec<(Sha256, Vec<Brief>)> = contents
            .par_iter()
            .filter_map(|(sha, ids)| {
                if let Some(b) = cached.get(sha) {
                    return Some((*sha, b.clone()));
                }
                let first = *ids.first()?;
                let data = cx.tree.open(first).ok()?;
                let ranges = covered.get(&first).map(Vec::as_slice).unwrap_or_default();
                let inside = |o: u64, l: u64| ranges.iter().any(|&(s, e)| o >= s && o.saturating_add(l) <= e);
                let items: Vec<Found> = find_all(&data)
                    .into_iter()
                    .filter(|f| f.whole_content || !inside(f.offset as u64, f.length as u64))
                    .collect();
                Some((*sha, briefs(&items)))
            })
            .collect();
        let mut certs: BTreeMap<Sha256, Vec<(Sha256, &Brief)>> = BTreeMap::new();
        for (sha, items) in &all {
            for b in items.iter().filter(|b| b.kind == Kind::Certificate) {
                certs.entry(b.fingerprint).or_default().push((*sha, b));
            }
        }
        let first_of: HashMap<Sha256, ArtifactId> = contents
            .iter()
            .filter_map(|(s, ids)| Some((*s, *ids.first()?)))
            .collect();
        let locator_of = |sha: &Sha256| {
            contents.iter().find(|(s, _)| s == sha).and_then(|(_, ids)| {
                ids.iter()
                    .map(|id| cx.tree.locator(*id))
                    .min_by_key(|l| l.to_string())
            })
        };
        // The bytes `[offset, offset + length)` of content `sha`, as evidence.
        let region = |sha: &Sha256, b: &Brief| -> Option<Evidence> {
            let data = cx.tree.open(*first_of.get(sha)?).ok()?;
            let bytes = data.get(b.offset..b.offset.checked_add(b.length)?)?;
            Some(Evidence::bytes(b.offset as u64, bytes))
        };
        for (sha, items) in &all {
            let mut drafts = Drafts::new(self, *sha);
            for key in items.iter().filter(|b| b.kind == Kind::PrivateKey) {
                let Some(matches) = certs.get(&key.fingerprint) else {
                    continue;
                };
                // The key's own bytes come first: the finding is located at them.
                let mut evidence: Vec<Evidence> = region(sha, key).into_iter().collect();
                let mut subjects = BTreeSet::new();
                for (cert_sha, cert) in matches {
                    subjects.insert(cert.what.clone());
                    let bytes = region(cert_sha, cert);
                    let at = if cert_sha == sha {
                        None
                    } else {
                        locator_of(cert_sha)
                    };
                    let place = |e: Evidence| match &at {
                        Some(at) => e.located_at(at.clone()),
                        None => e,
                    };
                    evidence.extend(bytes.map(place));
                    evidence.push(place(record(
                        "key-match",
                        vec![
                            ("certificate".into(), cert.what.clone()),
                            ("fingerprint_sha256".into(), cert.fingerprint.to_hex()),
                        ],
                    )));
                }
                let subjects: Vec<String> = subjects.into_iter().map(|s| format!("`{s}`")).collect();
                drafts.add(
                    rules::CERTIFICATE_WITH_KEY,
                    key.fingerprint.to_hex(),
                    format!(
                        "the private key with fingerprint {} belongs to the certificate{} {}: the device's identity is baked into the image",
                        key.fingerprint.to_hex(),
                        if subjects.len() == 1 { "" } else { "s" },
                        subjects.join(", ")
                    ),
                    evidence,
                );
            }
            out.drafts.extend(drafts.into_drafts());
        }
        if let Err(e) = self.known(cx.options) {
            return Err(AnalyzerFailure(e.clone()));
        }
        Ok(())
    }
}

/// A record evidence item.
fn record(format: &str, fields: Vec<(String, String)>) -> Evidence {
    Evidence {
        kind: EvidenceKind::Record {
            format: format.into(),
            fields: fields
                .into_iter()
                .map(|(name, value)| Field {
                    name,
                    value: ByteString::from(value),
                })
                .collect(),
        },
        region: None,
        at: None,
    }
}

fn briefs(items: &[Found]) -> Vec<Brief> {
    items
        .iter()
        .filter(|f| matches!(f.kind, Kind::PrivateKey | Kind::Certificate))
        .filter_map(|f| {
            Some(Brief {
                kind: f.kind,
                fingerprint: f.fingerprint?,
                offset: f.offset,
                length: f.length,
                what: match &f.cert {
                    Some(c) => c.subject.clone(),
                    None => describe(f),
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
