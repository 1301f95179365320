//! Locators: where, down to the byte, inside nested containers.
//!
//! A [`Locator`] is the path from the root input to an artifact (and optionally a byte range in it),
//! hop by hop. Each [`Hop`] names the container format, where the container sits in its parent, the
//! member it selects, and the SHA-256 of the bytes it yields, so that anyone holding the root input
//! can walk it again and check every step.
//!
//! The human form reads left to right:
//!
//! ```text
//! firmware.bin @0x120200 squashfs ▸ /usr/sbin/httpd @0x4a1c0+32
//! rootfs ▸ /etc/shadow @0x0+40
//! ```
//!
//! `@0xOFF[+LEN] FORMAT` is a container found at that offset of the parent; `▸ MEMBER` selects a
//! member of it (a `▸` right after the root or after a complete hop selects a member of a directory);
//! a trailing `@0xOFF+LEN` is the byte range the locator points at. Names are escaped so that the text
//! form parses back ([`Locator::from_str`]); the JSON form carries the same hops plus their digests.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::digest::Sha256;
use crate::text::{ByteString, is_invisible_format, unescape};

/// The separator between a container and its member in the text form.
pub const MEMBER_SEP: &str = "▸";

/// The format name used for a member of a plain directory tree.
pub const DIR_FORMAT: &str = "dir";

/// A byte range inside an artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ByteRange {
    /// Offset of the first byte.
    pub offset: u64,
    /// Number of bytes.
    pub length: u64,
}

impl ByteRange {
    /// The range `[offset, offset + length)`.
    pub fn new(offset: u64, length: u64) -> Self {
        ByteRange { offset, length }
    }

    /// One past the last byte, or `None` on overflow.
    pub fn end(&self) -> Option<u64> {
        self.offset.checked_add(self.length)
    }
}

/// One step from a parent artifact to a child.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Hop {
    /// The container format that yields the child (`dir`, `squashfs`, `gzip`, …).
    pub format: String,
    /// Where the container starts in the parent (absent when it is the whole parent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// How many bytes of the parent the container occupies, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// The member selected inside the container (a path in a file system or archive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<ByteString>,
    /// SHA-256 of the bytes this hop yields. Absent only in a locator parsed from its text form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Sha256>,
}

impl Hop {
    /// A member of a plain directory tree.
    pub fn dir_member(path: impl Into<ByteString>, sha256: Option<Sha256>) -> Hop {
        Hop {
            format: DIR_FORMAT.to_string(),
            offset: None,
            length: None,
            member: Some(path.into()),
            sha256,
        }
    }

    /// The same hop without its digest and container offsets: what stays the same when the same
    /// file ships in another release of the product (used for fingerprints).
    pub fn stable_key(&self) -> String {
        let mut key = self.format.clone();
        if let Some(m) = &self.member {
            key.push('\u{0}');
            key.push_str(&escape_token(m.as_bytes()));
        }
        key
    }
}

/// Where something is: a root input, the hops to an artifact, and optionally a byte range in it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Locator {
    /// The root input's name as given to Probity (file or directory name).
    pub root: ByteString,
    /// The hops from the root to the artifact.
    #[serde(default)]
    pub hops: Vec<Hop>,
    /// The byte range inside the artifact, when the locator points at bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<ByteRange>,
}

impl Locator {
    /// The root input itself.
    pub fn root(name: impl Into<ByteString>) -> Locator {
        Locator {
            root: name.into(),
            hops: Vec::new(),
            range: None,
        }
    }

    /// The same locator pointing at `range` of its artifact.
    pub fn with_range(mut self, range: ByteRange) -> Locator {
        self.range = Some(range);
        self
    }

    /// The same locator without a byte range (the whole artifact).
    pub fn artifact(&self) -> Locator {
        Locator {
            root: self.root.clone(),
            hops: self.hops.clone(),
            range: None,
        }
    }

    /// A key that identifies the artifact independently of container offsets, digests and the
    /// root's file name: stable across runs and across releases of the scanned product.
    pub fn stable_key(&self) -> String {
        self.hops
            .iter()
            .map(Hop::stable_key)
            .collect::<Vec<_>>()
            .join("\u{1}")
    }
}

impl fmt::Display for Locator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape_token(self.root.as_bytes()))?;
        for (i, hop) in self.hops.iter().enumerate() {
            // `▸ member` alone is short for a member of a directory, but only right after the root:
            // anywhere else it would attach to the previous hop when parsed back.
            let is_dir = i == 0 && hop.format == DIR_FORMAT && hop.offset.is_none() && hop.length.is_none();
            if !is_dir {
                if let Some(off) = hop.offset {
                    write!(f, " @{off:#x}")?;
                    if let Some(len) = hop.length {
                        write!(f, "+{len}")?;
                    }
                }
                write!(f, " {}", hop.format)?;
            }
            if let Some(member) = &hop.member {
                write!(f, " {MEMBER_SEP} {}", escape_token(member.as_bytes()))?;
            } else if is_dir {
                write!(f, " {}", hop.format)?;
            }
        }
        if let Some(r) = self.range {
            write!(f, " @{:#x}+{}", r.offset, r.length)?;
        }
        Ok(())
    }
}

/// Why a text locator could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid locator `{text}`: {reason}")]
pub struct LocatorParseError {
    /// The text that was parsed.
    pub text: String,
    /// What was wrong with it.
    pub reason: String,
}

impl FromStr for Locator {
    type Err = LocatorParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |reason: String| LocatorParseError {
            text: text.to_string(),
            reason,
        };
        let tokens: Vec<&str> = text.split(' ').collect();
        if tokens.iter().any(|t| t.is_empty()) {
            return Err(fail(
                "empty token (tokens are separated by exactly one space)".into(),
            ));
        }
        let (root_tok, rest) = tokens.split_first().ok_or_else(|| fail("empty".into()))?;
        let root = unescape(root_tok).ok_or_else(|| fail(format!("bad escape in `{root_tok}`")))?;
        let mut loc = Locator::root(root);
        let mut i = 0;
        while i < rest.len() {
            let tok = rest[i];
            if tok == MEMBER_SEP {
                // A member straight after the root or after a completed hop: a directory member.
                let member = member_at(rest, i + 1).map_err(fail)?;
                loc.hops.push(Hop::dir_member(member, None));
                i += 2;
                continue;
            }
            let (offset, length) = if let Some(spec) = tok.strip_prefix('@') {
                let (off, len) = parse_offset(spec).map_err(fail)?;
                match rest.get(i + 1) {
                    None => {
                        let len = len.ok_or_else(|| fail("final range needs a length".into()))?;
                        loc.range = Some(ByteRange::new(off, len));
                        i += 1;
                        continue;
                    }
                    Some(_) => {
                        i += 1;
                        (Some(off), len)
                    }
                }
            } else {
                (None, None)
            };
            let format = rest
                .get(i)
                .ok_or_else(|| fail("offset without a format".into()))?;
            if !is_format_name(format) {
                return Err(fail(format!("`{format}` is not a format name")));
            }
            let mut hop = Hop {
                format: (*format).to_string(),
                offset,
                length,
                member: None,
                sha256: None,
            };
            i += 1;
            if rest.get(i) == Some(&MEMBER_SEP) {
                hop.member = Some(member_at(rest, i + 1).map_err(fail)?.into());
                i += 2;
            }
            loc.hops.push(hop);
        }
        Ok(loc)
    }
}

fn member_at(tokens: &[&str], i: usize) -> Result<Vec<u8>, String> {
    let tok = tokens
        .get(i)
        .ok_or_else(|| format!("`{MEMBER_SEP}` without a member"))?;
    unescape(tok).ok_or_else(|| format!("bad escape in `{tok}`"))
}

fn parse_offset(spec: &str) -> Result<(u64, Option<u64>), String> {
    let (off, len) = match spec.split_once('+') {
        Some((o, l)) => (o, Some(l)),
        None => (spec, None),
    };
    let hex = off
        .strip_prefix("0x")
        .ok_or_else(|| format!("offset `{off}` must be hex with 0x"))?;
    let offset = u64::from_str_radix(hex, 16).map_err(|e| format!("offset `{off}`: {e}"))?;
    let length = match len {
        Some(l) => Some(l.parse::<u64>().map_err(|e| format!("length `{l}`: {e}"))?),
        None => None,
    };
    Ok((offset, length))
}

/// Whether `s` can name a container format: lowercase ASCII letters, digits and `._+-`.
pub fn is_format_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._+-".contains(c))
}

/// Escapes a name so that it is one token of the text form: like [`crate::text::escape`], plus
/// whitespace, the member separator and a leading `@`.
pub fn escape_token(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '@' if out.is_empty() => out.push_str("\\x40"),
                c if c.is_ascii_control() || c == ' ' => out.push_str(&format!("\\x{:02x}", u32::from(c))),
                c if c.is_control() || c.is_whitespace() || is_invisible_format(c) || c == '▸' => {
                    out.push_str(&format!("\\u{{{:04x}}}", u32::from(c)))
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    if out.is_empty() {
        // An empty name still needs a token: `\-` is the escape for "nothing".
        out.push_str("\\-");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Locator {
        Locator {
            root: "firmware.bin".into(),
            hops: vec![Hop {
                format: "squashfs".into(),
                offset: Some(0x120200),
                length: None,
                member: Some("/usr/sbin/httpd".into()),
                sha256: Some(Sha256::of(b"x")),
            }],
            range: Some(ByteRange::new(0x4a1c0, 32)),
        }
    }

    #[test]
    fn human_form() {
        assert_eq!(
            sample().to_string(),
            "firmware.bin @0x120200 squashfs ▸ /usr/sbin/httpd @0x4a1c0+32"
        );
        let dir = Locator {
            root: "rootfs".into(),
            hops: vec![Hop::dir_member("/etc/shadow", None)],
            range: Some(ByteRange::new(0, 40)),
        };
        assert_eq!(dir.to_string(), "rootfs ▸ /etc/shadow @0x0+40");
        assert_eq!(
            Locator::root("a.bin")
                .with_range(ByteRange::new(16, 4))
                .to_string(),
            "a.bin @0x10+4"
        );
    }

    #[test]
    fn parses_back() {
        let mut expected = sample();
        expected.hops[0].sha256 = None;
        let text = sample().to_string();
        assert_eq!(text.parse::<Locator>().unwrap(), expected);
        for text in [
            "rootfs ▸ /etc/shadow @0x0+40",
            "fw.bin @0x40+100 uimage @0x0 gzip ▸ /a\\x20b dir ▸ /c",
            "fw.bin",
            "a\\x20b.bin @0x10+4",
            "j j dir ▸ j",
            "r ▸ /a dir",
        ] {
            let loc: Locator = text.parse().unwrap();
            assert_eq!(loc.to_string(), text);
        }
        // The `▸ member` shorthand after a complete hop is accepted, and printed in full.
        let short: Locator = "fw.bin gzip ▸ /a ▸ /c".parse().unwrap();
        assert_eq!(short.to_string(), "fw.bin gzip ▸ /a dir ▸ /c");
    }

    #[test]
    fn hostile_names_round_trip() {
        let names: [&[u8]; 7] = [
            b"",
            b"@evil",
            b"a b",
            "x\u{25b8}y".as_bytes(),
            b"\xff\xfe",
            b"back\\slash",
            "\u{202e}txt".as_bytes(),
        ];
        for name in names {
            let loc = Locator {
                root: "r".into(),
                hops: vec![Hop::dir_member(name, None)],
                range: None,
            };
            let text = loc.to_string();
            assert!(!text.contains('\u{202e}'));
            assert_eq!(text.parse::<Locator>().unwrap(), loc, "{text}");
        }
    }

    #[test]
    fn rejects_malformed() {
        for text in [
            "",
            "fw.bin  x",
            "fw.bin @0x10",
            "fw.bin @10+4",
            "fw.bin @0x10+4 BAD",
            "fw.bin ▸",
            "r @0xzz+1",
        ] {
            assert!(text.parse::<Locator>().is_err(), "{text}");
        }
    }

    #[test]
    fn stable_key_ignores_offsets_and_digests() {
        let mut other = sample();
        other.hops[0].offset = Some(0x200000);
        other.hops[0].sha256 = None;
        other.root = "firmware-v2.bin".into();
        assert_eq!(sample().stable_key(), other.stable_key());
    }
}
