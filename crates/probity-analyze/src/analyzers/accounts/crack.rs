//! Password recovery: every recoverable hash in the image against the built-in list of default
//! and common credentials (`rules/credentials.toml`), the account names themselves, and the user's
//! `--wordlist`.
//!
//! Identical hashes are tried once. The work runs in parallel over hashes and candidates (rayon),
//! and for each hash the first candidate in list order that matches is kept, so the result does
//! not depend on thread timing. MD5-crypt and Apache's apr1 (the same algorithm with another magic)
//! are computed here from the algorithm's description with the `md-5` crate, which lets one
//! implementation serve both and compares digests without building strings; the other schemes
//! use the `pwhash` crate. The work is bounded by a budget (see [`plan`]).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use base64::Engine as _;
use md5::{Digest, Md5};
use rayon::prelude::*;
use serde::Deserialize;

/// Most candidates read from a `--wordlist`.
pub const MAX_WORDLIST_CANDIDATES: usize = 1_000_000;

/// Most bytes read from a `--wordlist` (a larger file is refused).
pub const MAX_WORDLIST_BYTES: u64 = 64 << 20;

/// Longest candidate tried (longer lines of a word list are skipped).
pub const MAX_CANDIDATE_LEN: usize = 256;

/// Where a candidate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The built-in list: the list's id and its public source.
    Builtin {
        /// The list's id in `rules/credentials.toml`.
        list: String,
        /// Where the list is published.
        url: String,
    },
    /// An account name found in the image.
    AccountName,
    /// The user's word list, at this line.
    Wordlist(usize),
}

impl Origin {
    /// How the origin is named in messages and evidence.
    pub fn describe(&self) -> String {
        match self {
            Origin::Builtin { list, url } => format!("built-in list `{list}` ({url})"),
            Origin::AccountName => "an account name in the image".into(),
            Origin::Wordlist(line) => format!("--wordlist, line {line}"),
        }
    }
}

/// A password candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The password.
    pub password: Vec<u8>,
    /// Where it comes from (the first source that lists it).
    pub origin: Origin,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialFile {
    list: Vec<CredentialList>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialList {
    id: String,
    title: String,
    url: String,
    /// `user:password` pairs (the user may be empty when the source names none).
    credentials: Vec<String>,
}

/// The built-in candidates, deduplicated, in file order.
pub fn builtin(text: &str) -> Result<Vec<Candidate>, String> {
    let parsed: CredentialFile = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut out: Vec<Candidate> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for list in parsed.list {
        if list.url.is_empty() || list.title.is_empty() || list.credentials.is_empty() {
            return Err(format!("list `{}` needs a title, a url and credentials", list.id));
        }
        for c in &list.credentials {
            let Some((_, password)) = c.split_once(':') else {
                return Err(format!("list `{}`: `{c}` is not user:password", list.id));
            };
            if seen.insert(password.as_bytes().to_vec()) {
                out.push(Candidate {
                    password: password.as_bytes().to_vec(),
                    origin: Origin::Builtin {
                        list: list.id.clone(),
                        url: list.url.clone(),
                    },
                });
            }
        }
    }
    Ok(out)
}

/// Reads a word list: one candidate per line (`\n` or `\r\n`), empty lines skipped, at most
/// [`MAX_WORDLIST_CANDIDATES`] candidates and [`MAX_WORDLIST_BYTES`] bytes.
pub fn read_wordlist(path: &Path) -> Result<Vec<Candidate>, String> {
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("--wordlist: can not open `{shown}`: {e}"))?;
    let mut data = Vec::new();
    file.take(MAX_WORDLIST_BYTES + 1)
        .read_to_end(&mut data)
        .map_err(|e| format!("--wordlist: can not read `{shown}`: {e}"))?;
    if data.len() as u64 > MAX_WORDLIST_BYTES {
        return Err(format!(
            "--wordlist: `{shown}` is larger than {} MiB",
            MAX_WORDLIST_BYTES >> 20
        ));
    }
    let mut out = Vec::new();
    for (i, line) in data.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line.len() > MAX_CANDIDATE_LEN {
            continue;
        }
        if out.len() == MAX_WORDLIST_CANDIDATES {
            return Err(format!(
                "--wordlist: `{shown}` has more than {MAX_WORDLIST_CANDIDATES} candidates"
            ));
        }
        out.push(Candidate {
            password: line.to_vec(),
            origin: Origin::Wordlist(i + 1),
        });
    }
    Ok(out)
}

/// A hash prepared for fast checking.
#[derive(Debug, Clone)]
enum Target {
    /// MD5-crypt or apr1: magic, salt, and the 22-character digest.
    Md5 {
        magic: &'static [u8],
        salt: Vec<u8>,
        digest: Vec<u8>,
    },
    /// Unsalted SHA-1 (`{SHA}` of htpasswd) or Mosquitto's salted SHA-512: the salt and digest.
    Sha {
        sha512: bool,
        salt: Vec<u8>,
        digest: Vec<u8>,
    },
    /// Checked by `pwhash`.
    Pwhash { scheme: &'static str, hash: String },
}

impl Target {
    fn new(scheme: &str, hash: &[u8]) -> Option<Target> {
        let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.decode(s).ok();
        let (magic, rest): (&'static [u8], &[u8]) = match scheme {
            "sha1-base64" => {
                return Some(Target::Sha {
                    sha512: false,
                    salt: Vec::new(),
                    digest: b64(hash.strip_prefix(b"{SHA}")?)?,
                });
            }
            "mosquitto-sha512" => {
                let rest = hash.strip_prefix(b"$6$")?;
                let dollar = rest.iter().position(|&b| b == b'$')?;
                return Some(Target::Sha {
                    sha512: true,
                    salt: b64(rest.get(..dollar)?)?,
                    digest: b64(rest.get(dollar + 1..)?)?,
                });
            }
            "md5-crypt" => (b"$1$", hash.strip_prefix(b"$1$")?),
            "apr1" => (b"$apr1$", hash.strip_prefix(b"$apr1$")?),
            "des-crypt" | "bsdi-crypt" | "sha256-crypt" | "sha512-crypt" | "bcrypt" | "sha1-crypt" => {
                let scheme = match scheme {
                    "des-crypt" => "des-crypt",
                    "bsdi-crypt" => "bsdi-crypt",
                    "sha256-crypt" => "sha256-crypt",
                    "sha512-crypt" => "sha512-crypt",
                    "bcrypt" => "bcrypt",
                    _ => "sha1-crypt",
                };
                return Some(Target::Pwhash {
                    scheme,
                    hash: String::from_utf8(hash.to_vec()).ok()?,
                });
            }
            _ => return None,
        };
        let dollar = rest.iter().position(|&b| b == b'$')?;
        Some(Target::Md5 {
            magic,
            salt: rest.get(..dollar)?.to_vec(),
            digest: rest.get(dollar + 1..)?.to_vec(),
        })
    }

    fn matches(&self, password: &[u8]) -> bool {
        match self {
            Target::Md5 { magic, salt, digest } => {
                md5_crypt_digest(password, magic, salt) == digest.as_slice()
            }
            Target::Sha { sha512, salt, digest } => {
                if *sha512 {
                    sha2::Sha512::new()
                        .chain_update(password)
                        .chain_update(salt)
                        .finalize()
                        .as_slice()
                        == digest
                } else {
                    sha1::Sha1::digest(password).as_slice() == digest
                }
            }
            Target::Pwhash { scheme, hash } => match *scheme {
                // DES crypt reads only the first 8 bytes: a longer candidate would "match" for its
                // prefix and be reported as a password it is not, so it is skipped.
                "des-crypt" => password.len() <= 8 && pwhash::unix_crypt::verify(password, hash),
                "bsdi-crypt" => pwhash::bsdi_crypt::verify(password, hash),
                "sha256-crypt" => pwhash::sha256_crypt::verify(password, hash),
                "sha512-crypt" => pwhash::sha512_crypt::verify(password, hash),
                "bcrypt" => password.len() <= 72 && pwhash::bcrypt::verify(password, hash),
                _ => pwhash::sha1_crypt::verify(password, hash),
            },
        }
    }
}

/// The schemes Probity can try candidates against.
pub fn recoverable(scheme: &str) -> bool {
    matches!(
        scheme,
        "md5-crypt"
            | "apr1"
            | "des-crypt"
            | "bsdi-crypt"
            | "sha256-crypt"
            | "sha512-crypt"
            | "bcrypt"
            | "sha1-crypt"
            | "sha1-base64"
            | "mosquitto-sha512"
    )
}

/// Work budget of one scan without `--wordlist`, in units of about one MD5-crypt (see
/// [`unit_cost`]): a few minutes on two cores at worst, however many hashes a hostile image holds.
pub const BUDGET_BUILTIN: u64 = 2_000_000;

/// Work budget of one scan with `--wordlist` (the user asked for the work; still bounded).
pub const BUDGET_WORDLIST: u64 = 200_000_000;

fn number(b: &[u8]) -> Option<u64> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// The work one candidate costs against `hash`, in units of about one MD5-crypt, or `None` when a
/// single candidate costs too much to try at all (bcrypt above cost 14, SHA-crypt above 1,000,000
/// rounds, BSDi crypt above 1,000,000 rounds).
pub fn unit_cost(scheme: &str, hash: &[u8]) -> Option<u64> {
    match scheme {
        "bcrypt" => {
            let cost = hash.get(4..6).and_then(number)?;
            // Cost 5 (2^5 key schedule rounds) is about 8 MD5-crypts; each step doubles it.
            (cost <= 14).then(|| 1u64 << cost.saturating_sub(2))
        }
        "sha256-crypt" | "sha512-crypt" => {
            let rounds = hash
                .split(|&b| b == b'$')
                .find_map(|f| f.strip_prefix(b"rounds="))
                .map_or(Some(5000), number)?;
            // SHA-512-crypt at its default 5000 rounds is about 10 MD5-crypts.
            (rounds <= 1_000_000).then_some((rounds / 500).max(1))
        }
        "sha1-crypt" => {
            let rounds = hash.split(|&b| b == b'$').nth(2).and_then(number)?;
            (rounds <= 1_000_000).then_some((rounds / 1000).max(1))
        }
        "bsdi-crypt" => {
            // `_` and 4 characters of rounds, least significant first.
            let mut rounds = 0u64;
            for (i, &c) in hash.get(1..5)?.iter().enumerate() {
                let v = CRYPT64.iter().position(|&x| x == c)? as u64;
                rounds |= v << (6 * i);
            }
            (rounds <= 1_000_000).then_some((rounds / 1000).max(1))
        }
        _ => Some(1),
    }
}

/// How many candidates each hash gets (in the order given): all of them while the budget lasts,
/// then fewer, then none. The plan depends only on the hashes and the number of candidates, so
/// the result does not depend on how fast the machine is.
pub fn plan(hashes: &[(Vec<u8>, &'static str)], candidates: usize, budget: u64) -> Vec<usize> {
    let mut left = budget;
    hashes
        .iter()
        .map(|(hash, scheme)| {
            let Some(unit) = unit_cost(scheme, hash) else {
                return 0;
            };
            let cap = (left / unit).min(candidates as u64);
            left -= cap * unit;
            usize::try_from(cap).unwrap_or(candidates)
        })
        .collect()
}

/// What recovery found for one hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// The password, when found.
    pub found: Option<Candidate>,
    /// How many candidates were tried (all of them when the password was not found).
    pub tried: usize,
    /// Whether the candidate list was cut (the work budget, or a scheme too costly to try).
    pub capped: bool,
}

/// Tries `candidates` against every `(scheme, hash)` within `budget` (see [`plan`]); the key of
/// the result is the hash.
pub fn recover(
    hashes: &[(&'static str, Vec<u8>)],
    candidates: &[Candidate],
    budget: u64,
) -> BTreeMap<Vec<u8>, Recovery> {
    let mut unique: BTreeMap<Vec<u8>, &'static str> = BTreeMap::new();
    for (scheme, hash) in hashes {
        if recoverable(scheme) {
            unique.insert(hash.clone(), scheme);
        }
    }
    let unique: Vec<(Vec<u8>, &'static str)> = unique.into_iter().collect();
    let caps = plan(&unique, candidates.len(), budget);
    unique
        .par_iter()
        .zip(caps)
        .filter_map(|((hash, scheme), cap)| {
            let target = Target::new(scheme, hash)?;
            let list = candidates.get(..cap).unwrap_or(candidates);
            let found = list
                .par_iter()
                .with_min_len(16)
                .position_first(|c| target.matches(&c.password));
            Some((
                hash.clone(),
                Recovery {
                    found: found.and_then(|i| list.get(i).cloned()),
                    tried: found.map(|i| i + 1).unwrap_or(list.len()),
                    capped: cap < candidates.len(),
                },
            ))
        })
        .collect()
}

const CRYPT64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn push64(out: &mut Vec<u8>, mut v: u32, n: usize) {
    for _ in 0..n {
        out.push(CRYPT64.get((v & 0x3f) as usize).copied().unwrap_or(b'.'));
        v >>= 6;
    }
}

/// The 22-character digest of MD5-crypt (`magic` `$1$`) or apr1 (`$apr1$`) for `password` and
/// `salt` (at most 8 bytes are used), as the algorithm of Poul-Henning Kamp's FreeBSD
/// `crypt-md5.c` defines it.
pub fn md5_crypt_digest(password: &[u8], magic: &[u8], salt: &[u8]) -> Vec<u8> {
    let salt = salt.get(..8).unwrap_or(salt);
    let alternate: [u8; 16] = Md5::new()
        .chain_update(password)
        .chain_update(salt)
        .chain_update(password)
        .finalize()
        .into();
    let mut ctx = Md5::new()
        .chain_update(password)
        .chain_update(magic)
        .chain_update(salt);
    let mut left = password.len();
    while left > 0 {
        let n = left.min(16);
        ctx.update(alternate.get(..n).unwrap_or_default());
        left -= n;
    }
    let mut bits = password.len();
    while bits > 0 {
        if bits & 1 == 1 {
            ctx.update([0u8]);
        } else {
            ctx.update(password.get(..1).unwrap_or_default());
        }
        bits >>= 1;
    }
    let mut digest: [u8; 16] = ctx.finalize().into();
    for round in 0..1000 {
        let mut c = Md5::new();
        if round % 2 == 1 {
            c.update(password);
        } else {
            c.update(digest);
        }
        if round % 3 != 0 {
            c.update(salt);
        }
        if round % 7 != 0 {
            c.update(password);
        }
        if round % 2 == 1 {
            c.update(digest);
        } else {
            c.update(password);
        }
        digest = c.finalize().into();
    }
    let d = |i: usize| u32::from(digest.get(i).copied().unwrap_or_default());
    let mut out = Vec::with_capacity(22);
    for (a, b, c) in [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)] {
        push64(&mut out, (d(a) << 16) | (d(b) << 8) | d(c), 4);
    }
    push64(&mut out, d(11), 2);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(p: &str) -> Candidate {
        Candidate {
            password: p.as_bytes().to_vec(),
            origin: Origin::AccountName,
        }
    }

    #[test]
    fn md5_crypt_and_apr1_known_answers() {
        // `openssl passwd -1 -salt abc 1234`, `openssl passwd -apr1 -salt nMebU24m dragon`.
        assert_eq!(
            md5_crypt_digest(b"1234", b"$1$", b"abc"),
            b"5bFcx/QfAOJAy7G8fC9AW1".to_vec()
        );
        assert_eq!(
            md5_crypt_digest(b"password", b"$1$", b"5pZSV9va"),
            b"azfrPr6af3Fc7dLblQXVa0".to_vec()
        );
        assert_eq!(md5_crypt_digest(b"", b"$1$", b"").len(), 22);
    }

    #[test]
    fn recovers_each_scheme() {
        let hashes: Vec<(&'static str, Vec<u8>)> = vec![
            ("md5-crypt", b"$1$abc$5bFcx/QfAOJAy7G8fC9AW1".to_vec()),
            ("des-crypt", b"aZGJuE6EXrjEE".to_vec()),
            (
                "sha512-crypt",
                b"$6$saltsalt$pZXv3jkWuVGiKMp8q5a9z6wJchF9GLd4zwSt7OqiQp3bqEw4SB8rttUbrc2Lhj5GBXu/RD.qF0apMNLkHD5a4.".to_vec(),
            ),
            ("bcrypt", b"$2y$05$bvIG6Nmid91Mu9RcmmWZfO5HJIMCT8riNW0hEp8f6/FuA2/mHZFpe".to_vec()),
            ("yescrypt", b"$y$j9T$abc$def".to_vec()),
            ("sha1-base64", b"{SHA}0DPiKuNIrrVmD8IUCuw1hQxNqZc=".to_vec()),
            (
                "mosquitto-sha512",
                b"$6$AQIDBAUG$LJOy7+x1cwKlJ74yCwBak1Vn83DyaKE5NvpC7zMcxwNux1pl+BEs5RH/YIjJKm/hOE+9D3CpvHrEGqYQM4SqjA==".to_vec(),
            ),
        ];
        let cands = vec![
            cand("nope"),
            cand("test"),
            cand("1234"),
            cand("password"),
            cand("1234"),
            cand("admin"),
            cand("123456"),
        ];
        let r = recover(&hashes, &cands, BUDGET_BUILTIN);
        assert_eq!(r.len(), 6, "yescrypt is not recoverable");
        let found = |h: &[u8]| {
            r[h].found
                .as_ref()
                .map(|c| String::from_utf8(c.password.clone()).unwrap())
        };
        assert_eq!(found(&hashes[5].1).as_deref(), Some("admin"));
        assert_eq!(found(&hashes[6].1).as_deref(), Some("123456"));
        assert_eq!(found(b"$1$abc$5bFcx/QfAOJAy7G8fC9AW1").as_deref(), Some("1234"));
        assert_eq!(r[&b"$1$abc$5bFcx/QfAOJAy7G8fC9AW1"[..]].tried, 3);
        assert_eq!(found(b"aZGJuE6EXrjEE").as_deref(), Some("test"));
        assert_eq!(
            found(b"$2y$05$bvIG6Nmid91Mu9RcmmWZfO5HJIMCT8riNW0hEp8f6/FuA2/mHZFpe").as_deref(),
            Some("password")
        );
        let sha = &r[&hashes[2].1];
        assert_eq!(sha.found, None);
        assert_eq!(sha.tried, 7);
    }

    #[test]
    fn des_does_not_match_on_a_longer_candidate() {
        let r = recover(
            &[("des-crypt", b"aZGJuE6EXrjEE".to_vec())],
            &[cand("test1234extra")],
            BUDGET_BUILTIN,
        );
        assert_eq!(r[&b"aZGJuE6EXrjEE"[..]].found, None);
    }

    #[test]
    fn costly_schemes_and_the_budget() {
        assert_eq!(unit_cost("bcrypt", b"$2b$05$x"), Some(8));
        assert_eq!(unit_cost("bcrypt", b"$2b$10$x"), Some(256));
        assert_eq!(unit_cost("bcrypt", b"$2b$31$x"), None);
        assert_eq!(unit_cost("sha512-crypt", b"$6$s$h"), Some(10));
        assert_eq!(unit_cost("sha512-crypt", b"$6$rounds=50000$s$h"), Some(100));
        assert_eq!(unit_cost("sha512-crypt", b"$6$rounds=999999999$s$h"), None);
        assert_eq!(unit_cost("sha1-crypt", b"$sha1$40000$s$h"), Some(40));
        assert_eq!(unit_cost("bsdi-crypt", b"_J9..CCCCXBrJUJV154M"), Some(1));
        assert_eq!(unit_cost("bsdi-crypt", b"_zzzzCCCCXBrJUJV154M"), None);
        assert_eq!(unit_cost("md5-crypt", b"$1$s$h"), Some(1));
        let hashes = vec![
            (b"$1$a$h".to_vec(), "md5-crypt"),
            (b"$6$b$h".to_vec(), "sha512-crypt"),
            (b"$2b$31$x".to_vec(), "bcrypt"),
            (b"$1$c$h".to_vec(), "md5-crypt"),
        ];
        // 100 candidates, a budget of 150 units: the MD5 hash gets all, the SHA-512 hash 5, the
        // rest nothing.
        assert_eq!(plan(&hashes, 100, 150), [100, 5, 0, 0]);
        assert_eq!(plan(&hashes, 100, u64::MAX), [100, 100, 0, 100]);
    }

    #[test]
    fn builtin_list_loads() {
        let f = crate::rules::rule_file("credentials.toml").unwrap();
        let b = builtin(f.text).unwrap();
        assert!(b.len() >= 100, "{}", b.len());
        assert!(b.iter().any(|c| c.password == b"xc3511"));
        assert!(builtin("[[list]]\nid='a'\ntitle='t'\nurl='u'\ncredentials=['nocolon']\n").is_err());
    }

    #[test]
    fn wordlist_limits() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w");
        std::fs::write(&p, b"a\r\n\nb\n\xff\n").unwrap();
        let w = read_wordlist(&p).unwrap();
        let words: Vec<&[u8]> = w.iter().map(|c| c.password.as_slice()).collect();
        assert_eq!(words, [&b"a"[..], b"b", b"\xff"]);
        assert_eq!(w[2].origin, Origin::Wordlist(4));
        assert!(read_wordlist(&dir.path().join("missing")).is_err());
    }
}
