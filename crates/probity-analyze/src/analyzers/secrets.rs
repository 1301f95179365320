//! Hard-coded secrets: credentials and tokens written into the image, the same on every unit.
//!
//! Four looks at every distinct content:
//!
//! - **Tokens with a recognisable format** anywhere (text or binary): cloud and service API keys
//!   whose shape is documented by their issuer (AWS access key ids, GitHub, GitLab, Slack, Google,
//!   Stripe, SendGrid). Each candidate starts with its issuer's prefix and must then have exactly
//!   the documented alphabet and length, with no letter or digit glued to either end.
//! - **Credentials in configuration files**: in text files that are configuration (by name or
//!   place: `*.conf`, `*.ini`, `*.xml`, `*.json`, nvram defaults, anything under `etc/`), a
//!   password-like key (`password`, `passwd`, `wpa_passphrase`, `psk`, `secret`, …) given a
//!   literal value, in `key=value`, `key: value`, XML element or attribute, or JSON form.
//! - **Credentials on command lines in scripts**: `--password=…`, `-u user:pass`, and
//!   `echo user:pass | chpasswd` with literal values.
//! - **Credential-looking strings in executables**: in an ELF file, a string shaped like a password
//!   (4–32 printable bytes without spaces, at least two character classes, not a format string,
//!   path or identifier) stored right next to a user name such as `admin` or `root` or a password
//!   label. This is a heuristic with a measured false-positive rate (docs/benchmarks.md); its
//!   findings are `possible`.
//!
//! Values already stated by a covered member (an unpacked archive's files) are the member's, as in
//! the indicator pass.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use probity_model::{
    Confidence, Evidence, EvidenceKind, Field, Region, RuleDescriptor, RuleId, Severity, StringEncoding,
};

use crate::AnalyzeError;
use crate::analyzer::{Analyzer, AnalyzerFailure, ContentContext, Draft, Output};

/// The analyzer's id.
pub const ID: &str = "secrets";

/// Text files larger than this are not read as configuration or scripts.
const MAX_TEXT: usize = 4 << 20;
/// Findings of one rule in one content (the rest are counted in the last message).
const MAX_PER_RULE: usize = 50;
/// Strings examined in one executable.
const MAX_STRINGS: usize = 500_000;

/// A token format: its prefix, the alphabet and length range of what follows.
struct TokenFormat {
    issuer: &'static str,
    prefix: &'static str,
    alphabet: fn(u8) -> bool,
    min: usize,
    max: usize,
}

fn alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}
fn upper_digit(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}
fn url_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}
fn slack(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}
fn sendgrid(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'
}

/// Formats as their issuers document them.
const TOKENS: &[TokenFormat] = &[
    TokenFormat {
        issuer: "AWS access key id",
        prefix: "AKIA",
        alphabet: upper_digit,
        min: 16,
        max: 16,
    },
    TokenFormat {
        issuer: "AWS temporary access key id",
        prefix: "ASIA",
        alphabet: upper_digit,
        min: 16,
        max: 16,
    },
    TokenFormat {
        issuer: "GitHub personal access token",
        prefix: "ghp_",
        alphabet: alnum,
        min: 36,
        max: 36,
    },
    TokenFormat {
        issuer: "GitHub OAuth token",
        prefix: "gho_",
        alphabet: alnum,
        min: 36,
        max: 36,
    },
    TokenFormat {
        issuer: "GitHub app token",
        prefix: "ghs_",
        alphabet: alnum,
        min: 36,
        max: 36,
    },
    TokenFormat {
        issuer: "GitHub refresh token",
        prefix: "ghr_",
        alphabet: alnum,
        min: 36,
        max: 36,
    },
    TokenFormat {
        issuer: "GitHub fine-grained token",
        prefix: "github_pat_",
        alphabet: url_safe,
        min: 82,
        max: 82,
    },
    TokenFormat {
        issuer: "GitLab personal access token",
        prefix: "glpat-",
        alphabet: url_safe,
        min: 20,
        max: 20,
    },
    TokenFormat {
        issuer: "Slack bot token",
        prefix: "xoxb-",
        alphabet: slack,
        min: 20,
        max: 200,
    },
    TokenFormat {
        issuer: "Slack user token",
        prefix: "xoxp-",
        alphabet: slack,
        min: 20,
        max: 200,
    },
    TokenFormat {
        issuer: "Slack app token",
        prefix: "xapp-",
        alphabet: slack,
        min: 20,
        max: 200,
    },
    TokenFormat {
        issuer: "Google API key",
        prefix: "AIza",
        alphabet: url_safe,
        min: 35,
        max: 35,
    },
    TokenFormat {
        issuer: "Stripe live secret key",
        prefix: "sk_live_",
        alphabet: alnum,
        min: 24,
        max: 99,
    },
    TokenFormat {
        issuer: "SendGrid API key",
        prefix: "SG.",
        alphabet: sendgrid,
        min: 66,
        max: 66,
    },
];

/// Keys whose value is a credential (compared lowercased, `-` and `.` read as `_`).
fn is_secret_key(key: &str) -> bool {
    const NOT: &[&str] = &[
        "hint", "policy", "length", "len", "min", "max", "expire", "file", "path", "enable", "required",
        "type", "mode", "changed", "url", "format", "timeout", "retry", "prompt", "label", "encrypt", "hash",
        "salt", "strength", "complex", "reset", "forgot", "field", "name", "check", "flag",
    ];
    // Whole words of the key: `password_min_length` is about a password, `admin_pwd` holds one.
    if key.is_empty() || key.len() > 64 || key.split('_').any(|w| NOT.iter().any(|n| w.starts_with(n))) {
        return false;
    }
    key.contains("passw")
        || key.contains("passphrase")
        || key.ends_with("pwd")
        || key.ends_with("_pass")
        || key == "pass"
        || key.ends_with("psk")
        || key.ends_with("secret")
        || key.starts_with("wep_key")
        || key == "community"
}

/// Whether a configured value is a literal credential rather than a placeholder, a reference or a
/// setting.
fn is_literal_value(v: &[u8]) -> bool {
    const PLACEHOLDERS: &[&str] = &[
        "none",
        "null",
        "(null)",
        "nil",
        "yes",
        "no",
        "true",
        "false",
        "on",
        "off",
        "enabled",
        "disabled",
        "required",
        "optional",
        "x",
        "xxx",
        "xxxx",
        "xxxxxx",
        "xxxxxxxx",
        "********",
        "******",
        "*",
        "changeit_here",
        "your_password",
        "password_here",
    ];
    if v.is_empty() || v.len() > 128 || v.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return false;
    }
    if matches!(v[0], b'$' | b'%' | b'@' | b'{' | b'<' | b'`' | b'[') || v.windows(2).any(|w| w == b"${") {
        return false;
    }
    let lower = String::from_utf8_lossy(v).to_ascii_lowercase();
    !PLACEHOLDERS.contains(&lower.as_str()) && !lower.chars().all(|c| c == '*')
}

/// A key in one spelling: lowercase words joined by `_` (`AdminPassword`, `admin-password` and
/// `admin.password` are all `admin_password`), so that words can be compared.
fn normalise_key(k: &[u8]) -> String {
    let k = String::from_utf8_lossy(k);
    let k = k.trim().trim_matches(|c| c == '"' || c == '\'');
    let mut out = String::with_capacity(k.len() + 4);
    let mut prev_lower = false;
    for c in k.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(match c {
            '-' | '.' => '_',
            c => c.to_ascii_lowercase(),
        });
    }
    out
}

fn unquote(v: &[u8]) -> &[u8] {
    let v = v.trim_ascii();
    let v = v.strip_suffix(b",").unwrap_or(v).trim_ascii();
    for q in [b'"', b'\''] {
        if v.len() >= 2 && v[0] == q && v[v.len() - 1] == q {
            return &v[1..v.len() - 1];
        }
    }
    v
}

/// A credential assignment found in a line: (key as written, value).
pub fn assignments(line: &[u8]) -> Vec<(String, &[u8])> {
    let mut found = Vec::new();
    let t = line.trim_ascii();
    if t.starts_with(b"#") || t.starts_with(b";") || t.starts_with(b"//") || t.starts_with(b"<!--") {
        return found;
    }
    // XML element: <Key>value</Key>
    if let Some(rest) = t.strip_prefix(b"<")
        && let Some(close) = rest.iter().position(|&b| b == b'>')
    {
        let name = &rest[..close];
        let body = &rest[close + 1..];
        let mut end_tag = b"</".to_vec();
        end_tag.extend_from_slice(name);
        end_tag.push(b'>');
        if !name.is_empty()
            && name
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
            && let Some(pos) = memchr::memmem::find(body, &end_tag)
        {
            found.push((normalise_key(name), &body[..pos]));
            return found;
        }
    }
    // XML attributes: key="value"
    if t.starts_with(b"<") {
        let mut at = 0;
        while let Some(eq) = t.get(at..).and_then(|r| memchr::memmem::find(r, b"=\"")) {
            let eq = at + eq;
            let start = t[..eq]
                .iter()
                .rposition(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.'))
                .map_or(0, |p| p + 1);
            let vstart = eq + 2;
            let Some(len) = t.get(vstart..).and_then(|r| r.iter().position(|&b| b == b'"')) else {
                break;
            };
            found.push((normalise_key(&t[start..eq]), &t[vstart..vstart + len]));
            at = vstart + len + 1;
        }
        return found;
    }
    // key=value, key: value, "key": "value"
    let Some(sep) = t.iter().position(|&b| b == b'=' || b == b':') else {
        return found;
    };
    let key = t[..sep].trim_ascii();
    // `export KEY=value`, `option key 'value'` (UCI) forms keep the last word as the key.
    let key = key.rsplit(|&b| b == b' ' || b == b'\t').next().unwrap_or(key);
    found.push((normalise_key(key), unquote(&t[sep + 1..])));
    found
}

/// Whether `name` marks a configuration file (by name or place).
fn is_config_name(path: &[u8]) -> bool {
    let lower = String::from_utf8_lossy(path).to_ascii_lowercase();
    let base = lower.rsplit('/').next().unwrap_or(&lower);
    // Files whose `passwd:` lines name something else than a password (NSS databases).
    if base == "nsswitch.conf" {
        return false;
    }
    const EXT: &[&str] = &[
        ".conf",
        ".cfg",
        ".ini",
        ".xml",
        ".json",
        ".config",
        ".cnf",
        ".properties",
        ".default",
    ];
    EXT.iter().any(|e| base.ends_with(e))
        || base.contains("default")
        || base.contains("nvram")
        || lower.starts_with("/etc/")
        || lower.contains("/etc/")
}

fn is_script(path: &[u8], data: &[u8]) -> bool {
    let lower = String::from_utf8_lossy(path).to_ascii_lowercase();
    data.starts_with(b"#!")
        || lower.ends_with(".sh")
        || lower.contains("/init.d/")
        || lower.contains("/rc.d/")
}

/// Whether `data` reads as text: no NUL, and at least 95% printable or white space in the head.
fn is_text(data: &[u8]) -> bool {
    let head = &data[..data.len().min(8192)];
    if head.is_empty() || head.contains(&0) {
        return false;
    }
    let printable = head
        .iter()
        .filter(|&&b| (0x20..0x7f).contains(&b) || matches!(b, b'\n' | b'\r' | b'\t') || b >= 0x80)
        .count();
    printable * 100 >= head.len() * 95
}

/// Lines of `data` with their 1-based numbers and offsets.
fn lines(data: &[u8]) -> impl Iterator<Item = (u64, usize, &[u8])> {
    let mut at = 0usize;
    let mut n = 0u64;
    std::iter::from_fn(move || {
        if at >= data.len() {
            return None;
        }
        let end = memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |p| at + p);
        let line = &data[at..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let start = at;
        at = end + 1;
        n += 1;
        Some((n, start, line))
    })
}

fn line_evidence(n: u64, offset: usize, line: &[u8]) -> Evidence {
    Evidence {
        kind: EvidenceKind::Lines {
            first_line: n,
            last_line: n,
            excerpt: line.to_vec().into(),
        },
        region: Some(Region::of(offset as u64, line)),
        at: None,
    }
}

/// A short, stable tag of a secret value for fingerprints (never the value itself).
fn tag(value: &[u8]) -> String {
    probity_model::Sha256::of(value).to_hex()[..12].to_string()
}

/// Credentials on a script's command line: (token index in the line, user, secret).
pub fn command_line_credentials(line: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let t = line.trim_ascii();
    if t.starts_with(b"#") {
        return Vec::new();
    }
    let words: Vec<&[u8]> = t
        .split(|&b| b == b' ' || b == b'\t')
        .filter(|w| !w.is_empty())
        .map(unquote)
        .collect();
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let next = words.get(i + 1).copied().unwrap_or_default();
        for flag in [&b"--password"[..], b"--passwd", b"-password", b"--pass"] {
            if let Some(v) = w.strip_prefix(flag).and_then(|r| r.strip_prefix(b"="))
                && is_literal_value(v)
            {
                out.push(("password option", v.to_vec()));
            } else if *w == flag && is_literal_value(next) {
                out.push(("password option", next.to_vec()));
            }
        }
        if (*w == b"-u" || *w == b"--user")
            && let Some(colon) = next.iter().position(|&b| b == b':')
            && colon > 0
            && is_literal_value(&next[colon + 1..])
        {
            out.push(("user:password option", next.to_vec()));
        }
    }
    if memchr::memmem::find(t, b"chpasswd").is_some() && words.first() == Some(&&b"echo"[..]) {
        for w in &words[1..] {
            if *w == b"|" || w.starts_with(b"|") {
                break;
            }
            if let Some(colon) = w.iter().position(|&b| b == b':')
                && colon > 0
                && is_literal_value(&w[colon + 1..])
            {
                out.push(("chpasswd input", w.to_vec()));
            }
        }
    }
    out
}

/// Printable strings of at least 4 bytes in `data`: (offset, bytes), at most [`MAX_STRINGS`].
fn strings(data: &[u8]) -> Vec<(usize, &[u8])> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &b) in data.iter().enumerate() {
        let printable = (0x20..0x7f).contains(&b) || b == b'\t';
        match (printable, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if i - s >= 4 && b == 0 {
                    out.push((s, &data[s..i]));
                    if out.len() >= MAX_STRINGS {
                        return out;
                    }
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// User names that sit next to a hard-coded password in the binaries of published backdoors and
/// default logins. Labels and prompts (`Password:`) and generic words (`user`) are left out: next
/// to them, clean binaries store option names and algorithm names (measured on Debian binaries).
fn is_user_or_label(s: &[u8]) -> bool {
    // Generic words (`debug`, `operator`, `manager`) were dropped after they matched option and
    // symbol names in /usr/bin (docs/benchmarks.md).
    const WORDS: &[&str] = &[
        "root",
        "admin",
        "administrator",
        "support",
        "guest",
        "super",
        "superuser",
        "telnetadmin",
        "supervisor",
    ];
    let lower = String::from_utf8_lossy(s.trim_ascii()).to_ascii_lowercase();
    WORDS.contains(&lower.as_str())
}

/// Whether a string is shaped like a password: 4–32 bytes, no space, at least two character
/// classes, and not a format string, path, identifier, version or file name.
fn looks_like_password(s: &[u8]) -> bool {
    // Letters, digits and the punctuation people put in passwords; brackets, quotes, separators
    // and path or format characters mark code and text (`(unknown)`, `operator<`, `a::b`).
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"!@#$^&*_+=.?~-".contains(&b);
    if !(4..=32).contains(&s.len()) || !s.iter().all(|&b| allowed(b)) {
        return false;
    }
    let classes = [
        s.iter().any(u8::is_ascii_lowercase),
        s.iter().any(u8::is_ascii_uppercase),
        s.iter().any(u8::is_ascii_digit),
        s.iter().any(|b| b.is_ascii_punctuation()),
    ];
    if classes.iter().filter(|&&c| c).count() < 2 {
        return false;
    }
    // Identifiers (snake_case, dashed-words, CamelCase words, `UTF-8`), versions, file names and
    // algorithm names are not passwords.
    const TECHNICAL: &[&str] = &[
        "sha1",
        "sha224",
        "sha256",
        "sha384",
        "sha512",
        "md4",
        "md5",
        "base64",
        "base32",
        "utf8",
        "utf16",
        "x509",
        "aes128",
        "aes192",
        "aes256",
        "des3",
        "3des",
        "rc4",
        "ipv4",
        "ipv6",
        "x86_64",
        "i386",
        "i686",
        "arm64",
        "mips32",
        "mips64",
        "ucs2",
        "ucs4",
        "http1",
        "tls1",
        "ssl3",
        "ssh2",
        "pkcs1",
        "pkcs7",
        "pkcs8",
        "pkcs12",
        "ed25519",
        "x25519",
        "crc32",
        "ripemd160",
        "blake2b",
        "blake2s",
    ];
    let lower = String::from_utf8_lossy(s).to_ascii_lowercase();
    if TECHNICAL.contains(&lower.as_str()) {
        return false;
    }
    let ident = s
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && (s.contains(&b'_') || s.contains(&b'-'))
        || s.iter().all(|&b| b.is_ascii_alphabetic());
    let version = s.iter().all(|&b| b.is_ascii_digit() || b == b'.' || b == b'-');
    let dotted = s.iter().filter(|&&b| b == b'.').count() > 0 && s.iter().any(u8::is_ascii_alphabetic);
    let punct = s.iter().filter(|b| b.is_ascii_punctuation()).count();
    !(ident
        || version
        || dotted
        || punct * 2 > s.len()
        || s[0] == b'-'
        || s[0] == b'='
        || is_user_or_label(s))
}

/// Adjacent string pairs (user or label, password-like) in an executable: (offset, user, password).
pub fn binary_credentials(data: &[u8]) -> Vec<(usize, &[u8], &[u8])> {
    let strs = strings(data);
    let mut out = Vec::new();
    for pair in strs.windows(2) {
        let [(o1, a), (o2, b)] = [pair[0], pair[1]];
        // Adjacent in storage: the second starts within 8 bytes (alignment padding) of the first's end.
        if o2 > o1 + a.len() + 8 {
            continue;
        }
        if is_user_or_label(a) && looks_like_password(b) {
            out.push((o2, a, b));
        } else if is_user_or_label(b) && looks_like_password(a) {
            out.push((o1, b, a));
        }
    }
    out
}

/// The secrets analyzer.
#[derive(Debug)]
pub struct Secrets {
    rules: Vec<RuleDescriptor>,
    tokens: AhoCorasick,
}

/// A rule of this analyzer: `[id, CamelCase name, title]`, then the rest of the descriptor.
fn rule(
    [id, name, title]: [&str; 3],
    severity: Severity,
    confidence: Confidence,
    cwe: &[&str],
    references: &[&str],
    remediation: &str,
    doc: [&str; 6],
) -> Result<RuleDescriptor, AnalyzeError> {
    crate::rules::RuleSpec {
        id,
        name,
        title,
        severity,
        confidence,
        cwe,
        references,
        remediation,
        doc: crate::rules::rule_doc(doc),
    }
    .build(ID)
    .ok_or_else(|| AnalyzeError::rules(ID, format!("`{id}` is not a rule id")))
}

impl Secrets {
    /// Builds the analyzer.
    pub fn new() -> Result<Secrets, AnalyzeError> {
        let rules = vec![
            rule(
                [
                    "PRB-CRED-001",
                    "ServiceTokenInImage",
                    "API token or access key of an online service in the image",
                ],
                Severity::High,
                Confidence::Likely,
                &["CWE-798"],
                &[
                    "https://cwe.mitre.org/data/definitions/798.html",
                    "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html",
                    "https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/",
                ],
                "Revoke the token with its issuer, and give each device its own credential provisioned \
                 at first use instead of one built into the firmware.",
                [
                    "A token whose format its issuer documents (AWS access key ids `AKIA…`/`ASIA…`, GitHub \
                     `ghp_…`/`github_pat_…`, GitLab `glpat-…`, Slack `xoxb-…`, Google `AIza…`, Stripe \
                     `sk_live_…`, SendGrid `SG.…`) anywhere in a file, text or binary.",
                    "Every unit of the product carries the same token: anyone who downloads the firmware \
                     can act as the vendor's account on that service (read telemetry, push updates, send \
                     messages) until the token is revoked.",
                    "One Aho-Corasick pass for the issuers' prefixes; each candidate must then have exactly \
                     the documented alphabet and length, with no letter or digit glued to either end.",
                    "Example or test values in documentation shipped in the image, and revoked tokens: \
                     the rule can not tell whether a token still works (it never contacts the service).",
                    "Tokens without a distinctive prefix (most passwords, generic 32-hex API keys), tokens \
                     split or encoded (base64, XOR), and formats not in the list.",
                    "`rootfs ▸ /usr/bin/cloudagent @0x1a2c0+20`: `AKIA` followed by 16 upper-case letters \
                     and digits (AWS access key id).",
                ],
            )?,
            rule(
                [
                    "PRB-CRED-002",
                    "CredentialInConfiguration",
                    "Password or passphrase set to a fixed value in a configuration file",
                ],
                Severity::Medium,
                Confidence::Likely,
                &["CWE-798", "CWE-260", "CWE-1392"],
                &[
                    "https://cwe.mitre.org/data/definitions/260.html",
                    "https://cwe.mitre.org/data/definitions/1392.html",
                ],
                "Ship no shared credential: generate a per-device password (printed on the label) or \
                 force the user to set one at first login, and keep configured secrets out of the \
                 read-only image.",
                [
                    "In a text configuration file (`*.conf`, `*.cfg`, `*.ini`, `*.xml`, `*.json`, nvram \
                     defaults, anything under `etc/`), a key that names a credential (`password`, \
                     `passwd`, `*_pwd`, `wpa_passphrase`, `psk`, `secret`, `wep_key*`, `community`) given \
                     a literal value, as `key=value`, `key: value`, an XML element or attribute, or JSON.",
                    "A credential in the image is the same on every unit and readable by anyone with the \
                     firmware: a default administrator, Wi-Fi or PPPoE password that users rarely \
                     change, or a service secret they can not change.",
                    "Text files are read line by line; assignments are parsed in the four syntaxes; keys \
                     are compared case-insensitively with `-` and `.` read as `_`, and keys about \
                     credentials rather than holding one (`password_min_length`, `passwd_file`, \
                     `password_hint`…) are skipped, as are placeholders, variable references and \
                     booleans.",
                    "Values that are not used as credentials despite their key name, defaults that the \
                     device replaces with a per-unit value at first boot, and examples in comments the \
                     parser does not recognise as comments.",
                    "Credentials in binary configuration blobs, in compressed or encrypted nvram, under \
                     key names not in the list, or assembled at run time.",
                    "`rootfs ▸ /etc/default_config.xml @0x2f1+38`, line 17: \
                     `<AdminPassword>admin1234</AdminPassword>`.",
                ],
            )?,
            rule(
                [
                    "PRB-CRED-003",
                    "CredentialOnCommandLine",
                    "Script passes a fixed credential on a command line",
                ],
                Severity::Medium,
                Confidence::Likely,
                &["CWE-798", "CWE-214"],
                &[
                    "https://cwe.mitre.org/data/definitions/798.html",
                    "https://cwe.mitre.org/data/definitions/214.html",
                ],
                "Take the credential from per-device storage at run time, and pass secrets through a \
                 file or the environment rather than arguments (which any local user can read in the \
                 process list).",
                [
                    "In a shell script (a `#!` file, `*.sh`, `init.d` and `rc.d` scripts), a literal value \
                     given to `--password=`, `--passwd`, `-password`, `--pass`, a `user:password` after \
                     `-u`/`--user`, or a `user:password` line piped into `chpasswd`.",
                    "The script sets the same credential on every unit (often an account's password at \
                     boot, overriding whatever the user chose), and exposes it in the process list.",
                    "Script lines are split into words (quotes removed); the options above are matched \
                     and their values must be literals (no `$VAR`, `${…}`, `%s`).",
                    "Scripts that are never run, and test or example invocations kept in the image.",
                    "Credentials assembled from variables, read from files, passed through here-documents \
                     or heavily quoted shell constructs the word splitter does not follow.",
                    "`rootfs ▸ /etc/init.d/rcS @0x3c0+34`, line 21: `echo \"root:5up\" | chpasswd`.",
                ],
            )?,
            rule(
                [
                    "PRB-CRED-004",
                    "CredentialStringInExecutable",
                    "Password-like string stored next to a user name in an executable",
                ],
                Severity::Medium,
                Confidence::Possible,
                &["CWE-798", "CWE-259"],
                &["https://cwe.mitre.org/data/definitions/259.html"],
                "Check the code that uses the string: if it is compared with user input, remove the \
                 hard-coded login or make it per-device.",
                [
                    "In an ELF executable or library, a string shaped like a password (4–32 printable \
                     bytes without spaces, at least two character classes, not a format string, path, \
                     identifier, version or file name) stored immediately next to a user name or label \
                     (`root`, `admin`, `support`, `guest`, `password:`, …).",
                    "Hard-coded logins in router daemons (telnet and web servers, CLI shells) are usually \
                     a user name and a password defined together, which compilers store side by side; \
                     this is how several published backdoors looked in the binary.",
                    "Printable NUL-terminated strings are listed in file order; each pair of strings \
                     stored within 8 bytes of each other is checked for a user name or label on one side \
                     and a password-shaped string on the other.",
                    "Unrelated neighbours: a user name next to an unrelated token (a locale, a mode \
                     string). The rate measured on clean Debian binaries is in docs/benchmarks.md; \
                     confidence is `possible`. Confirm with the code that uses the string.",
                    "Passwords stored away from their user name, built at run time, obfuscated, or only \
                     compared as a hash; passwords that are plain words or a single character class \
                     (`admin`, `1234`: the built-in default-credential list is checked against account \
                     hashes instead).",
                    "`rootfs ▸ /usr/sbin/telnetd @0x1f3a4+8`: `xc3511` stored right after `root`.",
                ],
            )?,
        ];
        let tokens = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .build(TOKENS.iter().map(|t| t.prefix))
            .map_err(|e| AnalyzeError::rules(ID, e))?;
        Ok(Secrets { rules, tokens })
    }

    fn rule_id(&self, i: usize) -> RuleId {
        self.rules
            .get(i)
            .map(|r| r.id.clone())
            .unwrap_or_else(|| self.rules[0].id.clone())
    }

    /// Tokens in `data`: (start, end, index in [`TOKENS`]), at most [`MAX_PER_RULE`].
    pub fn token_spans(&self, data: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut spans = Vec::new();
        let mut at = 0;
        while at < data.len() && spans.len() < MAX_PER_RULE {
            let Some(m) = self.tokens.find(aho_corasick::Input::new(data).range(at..)) else {
                break;
            };
            at = m.start() + 1;
            let Some(fmt) = TOKENS.get(m.pattern().as_usize()) else {
                continue;
            };
            if m.start() > 0
                && data
                    .get(m.start() - 1)
                    .is_some_and(|&b| b.is_ascii_alphanumeric())
            {
                continue;
            }
            let len = data
                .get(m.end()..)
                .unwrap_or_default()
                .iter()
                .take(fmt.max + 1)
                .take_while(|&&b| (fmt.alphabet)(b))
                .count();
            if (fmt.min..=fmt.max).contains(&len) {
                spans.push((m.start(), m.end() + len, m.pattern().as_usize()));
                at = m.end() + len;
            }
        }
        spans
    }

    fn find_tokens(&self, cx: &ContentContext<'_>, out: &mut Output) {
        for (start, end, i) in self.token_spans(cx.data) {
            let (Some(fmt), Some(token)) = (TOKENS.get(i), cx.data.get(start..end)) else {
                continue;
            };
            if cx.is_covered(start as u64, token.len() as u64) {
                continue;
            }
            let mut d = Draft::on_content(
                self.rule_id(0),
                cx.sha256,
                format!(
                    "{} (`{}…`, {} characters) at offset {start:#x}",
                    fmt.issuer,
                    fmt.prefix,
                    token.len()
                ),
                format!("{}:{}", fmt.prefix, tag(token)),
            );
            d.evidence.push(Evidence::string(
                start as u64,
                token,
                StringEncoding::Ascii,
                token,
            ));
            out.push(d);
        }
    }

    fn find_in_text(&self, cx: &ContentContext<'_>, path: &[u8], out: &mut Output) {
        let script = is_script(path, cx.data);
        // Shell variables in scripts hold commands as often as values (`cat_passwd='cat
        // /etc/passwd'`): scripts are read for command lines only.
        let config = is_config_name(path) && !script;
        let (mut configs, mut scripts) = (0, 0);
        for (n, offset, line) in lines(cx.data) {
            if config && configs < MAX_PER_RULE {
                for (key, value) in assignments(line) {
                    if is_secret_key(&key) && is_literal_value(value) {
                        configs += 1;
                        let mut d = Draft::on_content(
                            self.rule_id(1),
                            cx.sha256,
                            format!(
                                "`{key}` is set to a fixed {}-character value on line {n}",
                                value.len()
                            ),
                            format!("{key}={}", tag(value)),
                        );
                        d.evidence.push(line_evidence(n, offset, line));
                        d.evidence.push(Evidence {
                            kind: EvidenceKind::Record {
                                format: "assignment".into(),
                                fields: vec![
                                    Field {
                                        name: "key".into(),
                                        value: key.clone().into_bytes().into(),
                                    },
                                    Field {
                                        name: "value".into(),
                                        value: value.to_vec().into(),
                                    },
                                ],
                            },
                            region: None,
                            at: None,
                        });
                        out.push(d);
                    }
                }
            }
            if script && scripts < MAX_PER_RULE {
                for (what, value) in command_line_credentials(line) {
                    scripts += 1;
                    let mut d = Draft::on_content(
                        self.rule_id(2),
                        cx.sha256,
                        format!("a fixed credential is passed as {what} on line {n}"),
                        format!("{what}:{}", tag(&value)),
                    );
                    d.evidence.push(line_evidence(n, offset, line));
                    out.push(d);
                }
            }
        }
    }

    fn find_in_binary(&self, cx: &ContentContext<'_>, out: &mut Output) {
        for (offset, user, password) in binary_credentials(cx.data).into_iter().take(MAX_PER_RULE) {
            if cx.is_covered(offset as u64, password.len() as u64) {
                continue;
            }
            let mut d = Draft::on_content(
                self.rule_id(3),
                cx.sha256,
                format!(
                    "a {}-character password-like string is stored next to `{}` at offset {offset:#x}",
                    password.len(),
                    String::from_utf8_lossy(user)
                ),
                format!(
                    "{}:{}",
                    String::from_utf8_lossy(user).to_ascii_lowercase(),
                    tag(password)
                ),
            );
            d.evidence.push(Evidence::string(
                offset as u64,
                password,
                StringEncoding::Ascii,
                password,
            ));
            out.push(d);
        }
    }
}

impl Analyzer for Secrets {
    fn id(&self) -> &'static str {
        ID
    }

    fn rules(&self) -> &[RuleDescriptor] {
        &self.rules
    }

    fn analyze_content(&self, cx: &ContentContext<'_>, out: &mut Output) -> Result<(), AnalyzerFailure> {
        self.find_tokens(cx, out);
        if cx.data.starts_with(b"\x7fELF") {
            self.find_in_binary(cx, out);
        } else if cx.data.len() <= MAX_TEXT && is_text(cx.data) {
            // A content's name: the member paths of the artifacts that hold it (any one is
            // enough to classify; identical files are analysed once).
            let mut names: Vec<Vec<u8>> = cx
                .artifacts
                .iter()
                .filter_map(|id| cx.tree.artifact(*id))
                .filter_map(|a| a.member().map(|m| m.as_bytes().to_vec()))
                .collect();
            names.sort();
            let path = names
                .iter()
                .find(|n| is_config_name(n) || is_script(n, cx.data))
                .or(names.first())
                .cloned()
                .unwrap_or_default();
            self.find_in_text(cx, &path, out);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_in_four_syntaxes() {
        let got = |l: &str| -> Vec<(String, String)> {
            assignments(l.as_bytes())
                .into_iter()
                .map(|(k, v)| (k, String::from_utf8_lossy(v).into_owned()))
                .collect()
        };
        assert_eq!(
            got("wpa_passphrase=Secret123"),
            [("wpa_passphrase".into(), "Secret123".into())]
        );
        assert_eq!(
            got("  Admin-Password : \"p4ss\""),
            [("admin_password".into(), "p4ss".into())]
        );
        assert_eq!(
            got("<AdminPassword>admin1234</AdminPassword>"),
            [("admin_password".into(), "admin1234".into())]
        );
        assert_eq!(
            got(r#"<user name="admin" password="hunter2"/>"#),
            [
                ("name".into(), "admin".into()),
                ("password".into(), "hunter2".into())
            ]
        );
        assert_eq!(
            got(r#"  "http_passwd": "admin","#),
            [("http_passwd".into(), "admin".into())]
        );
        assert_eq!(got("option key 'x'"), Vec::<(String, String)>::new());
        assert_eq!(got("# password=commented"), Vec::<(String, String)>::new());
    }

    #[test]
    fn secret_keys_and_literal_values() {
        for k in [
            "password",
            "http_passwd",
            "wpa_passphrase",
            "admin_pwd",
            "wpa_psk",
            "radius_secret",
            "wep_key0",
            "pass",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "password_min_length",
            "passwd_file",
            "password_hint",
            "username",
            "key",
            "passthrough",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
        for v in ["admin", "1234", "p@ss w0rd"] {
            assert!(is_literal_value(v.as_bytes()), "{v}");
        }
        for v in [
            "",
            "$PASS",
            "${pw}",
            "%s",
            "<password>",
            "********",
            "none",
            "true",
        ] {
            assert!(!is_literal_value(v.as_bytes()), "{v}");
        }
    }

    #[test]
    fn command_lines() {
        let got = |l: &str| -> Vec<String> {
            command_line_credentials(l.as_bytes())
                .into_iter()
                .map(|(w, v)| format!("{w}={}", String::from_utf8_lossy(&v)))
                .collect()
        };
        assert_eq!(got("echo \"root:5up\" | chpasswd"), ["chpasswd input=root:5up"]);
        assert_eq!(got("cwmpd --password=acs123 &"), ["password option=acs123"]);
        assert_eq!(
            got("wget -u admin:admin http://x"),
            ["user:password option=admin:admin"]
        );
        assert!(got("cwmpd --password=$ACS_PW").is_empty());
        assert!(got("# echo root:x | chpasswd").is_empty());
    }

    #[test]
    fn password_shapes() {
        for s in ["xc3511", "Zte521", "7ujMko0admin", "hi3518", "P@ssw0rd"] {
            assert!(looks_like_password(s.as_bytes()), "{s}");
        }
        for s in [
            "admin",
            "1234",
            "root",
            "%s:%d",
            "/bin/sh",
            "libc.so.6",
            "do_login",
            "1.2.3",
            "ThisIsCamel",
            "---x",
        ] {
            assert!(!looks_like_password(s.as_bytes()), "{s}");
        }
    }

    #[test]
    fn adjacent_strings_in_a_binary() {
        let mut bin = b"\x7fELF\x01\x02\x03\x00".to_vec();
        bin.extend_from_slice(b"\x00\x00root\x00xc3511\x00\x00\x00\x00usage: %s\x00admin\x00\x00\x00");
        bin.extend_from_slice(&[0u8; 64]);
        bin.extend_from_slice(b"Zte521\x00");
        let got = binary_credentials(&bin);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0], (15, &b"root"[..], &b"xc3511"[..]));
    }

    #[test]
    fn tokens_need_their_exact_shape() {
        let s = Secrets::new().unwrap();
        let starts = |data: &[u8]| -> Vec<usize> { s.token_spans(data).iter().map(|t| t.0).collect() };
        assert_eq!(s.token_spans(b"key=AKIAIOSFODNN7EXAMPLE;"), [(4, 24, 0)]);
        assert!(starts(b"key=AKIAIOSFODNN7EXAMPLEX").is_empty());
        assert!(starts(b"xAKIAIOSFODNN7EXAMPLE").is_empty());
        assert!(starts(b"AKIAiosfodnn7example").is_empty());
        let gh = format!("token: ghp_{}\n", "a1B2".repeat(9));
        assert_eq!(starts(gh.as_bytes()), [7]);
    }
}
