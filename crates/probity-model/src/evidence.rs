//! Evidence: the bytes, strings, lines, records or disassembly that prove a finding.
//!
//! Every piece of evidence that quotes the input carries a [`Region`] (offset, length, SHA-256 of
//! exactly those bytes), so `probity verify` can read the region again and compare. Evidence of
//! absence carries what was searched for instead.

use serde::{Deserialize, Serialize};

use crate::digest::Sha256;
use crate::locator::Locator;
use crate::text::ByteString;

/// Evidence quoted in the report for a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// What kind of evidence, with its kind-specific content.
    #[serde(flatten)]
    pub kind: EvidenceKind,
    /// The bytes the evidence quotes, inside the artifact it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// The artifact the evidence is in, when that is not the finding's own location. When absent,
    /// the evidence holds at every one of the finding's locations (they share the same content).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Locator>,
}

/// A byte range with the digest of its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Region {
    /// Offset of the first byte in the artifact.
    pub offset: u64,
    /// Number of bytes.
    pub length: u64,
    /// SHA-256 of the bytes.
    pub sha256: Sha256,
}

impl Region {
    /// The region of `bytes` found at `offset`.
    pub fn of(offset: u64, bytes: &[u8]) -> Region {
        Region {
            offset,
            length: bytes.len() as u64,
            sha256: Sha256::of(bytes),
        }
    }
}

/// The kinds of evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EvidenceKind {
    /// Raw bytes, quoted in hex (at most [`MAX_QUOTED_BYTES`]; the region gives the full extent).
    Bytes {
        /// Lowercase hex of the first bytes of the region.
        hex: String,
        /// Whether the quote is shorter than the region.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        truncated: bool,
    },
    /// A string in the content.
    String {
        /// How the string is encoded in the content.
        encoding: StringEncoding,
        /// The decoded text (base64 in JSON when it is not UTF-8).
        value: ByteString,
    },
    /// Lines of a text file.
    Lines {
        /// The first line quoted (1-based).
        first_line: u64,
        /// The last line quoted (1-based, inclusive).
        last_line: u64,
        /// The quoted lines.
        excerpt: ByteString,
    },
    /// Instructions from a binary.
    Disassembly {
        /// The instruction set (`mips`, `arm`, `thumb`, `aarch64`, `x86-64`, …).
        arch: String,
        /// The virtual address of the first instruction.
        address: u64,
        /// The instructions, in order.
        instructions: Vec<Instruction>,
    },
    /// A parsed structure (an account line, a header, a key).
    Record {
        /// What was parsed (`shadow`, `passwd`, `uimage-header`, …).
        format: String,
        /// The fields, in their order in the structure.
        fields: Vec<Field>,
    },
    /// Something looked for and not found.
    Absence {
        /// What was looked for, in words.
        searched_for: String,
        /// The exact byte pattern, when the search was for one (verify checks it is still absent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pattern: Option<ByteString>,
    },
}

/// The most bytes quoted in a `bytes` evidence item.
pub const MAX_QUOTED_BYTES: usize = 256;

/// Encodings of strings found in content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StringEncoding {
    /// 7-bit ASCII.
    Ascii,
    /// UTF-8.
    Utf8,
    /// UTF-16, little endian.
    Utf16le,
    /// UTF-16, big endian.
    Utf16be,
    /// Bytes matched exactly, whatever they encode.
    Raw,
}

/// One disassembled instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instruction {
    /// Its virtual address.
    pub address: u64,
    /// Its encoding, lowercase hex.
    pub bytes: String,
    /// Mnemonic and operands.
    pub text: String,
}

/// One field of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// The field's name.
    pub name: String,
    /// The field's value as it appears in the input.
    pub value: ByteString,
}

impl Evidence {
    /// Bytes found at `offset`, quoted in hex.
    pub fn bytes(offset: u64, data: &[u8]) -> Evidence {
        let quoted = &data[..data.len().min(MAX_QUOTED_BYTES)];
        Evidence {
            kind: EvidenceKind::Bytes {
                hex: crate::hex::encode(quoted),
                truncated: quoted.len() < data.len(),
            },
            region: Some(Region::of(offset, data)),
            at: None,
        }
    }

    /// A string found at `offset`; `raw` are its bytes in the content.
    pub fn string(
        offset: u64,
        raw: &[u8],
        encoding: StringEncoding,
        value: impl Into<ByteString>,
    ) -> Evidence {
        Evidence {
            kind: EvidenceKind::String {
                encoding,
                value: value.into(),
            },
            region: Some(Region::of(offset, raw)),
            at: None,
        }
    }

    /// The same evidence, located in another artifact than the finding's.
    pub fn located_at(mut self, at: Locator) -> Evidence {
        self.at = Some(at);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_evidence_quotes_and_hashes() {
        let e = Evidence::bytes(0x10, b"\x00\xffAB");
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["type"], "bytes");
        assert_eq!(json["hex"], "00ff4142");
        assert_eq!(json["region"]["offset"], 16);
        assert_eq!(json["region"]["length"], 4);
        assert_eq!(json["region"]["sha256"], Sha256::of(b"\x00\xffAB").to_hex());
        assert!(json.get("truncated").is_none());
        let back: Evidence = serde_json::from_value(json).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn long_bytes_are_truncated_in_the_quote_only() {
        let data = vec![7u8; MAX_QUOTED_BYTES + 1];
        let e = Evidence::bytes(0, &data);
        match &e.kind {
            EvidenceKind::Bytes { hex, truncated } => {
                assert_eq!(hex.len(), MAX_QUOTED_BYTES * 2);
                assert!(truncated);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(e.region.unwrap().length, MAX_QUOTED_BYTES as u64 + 1);
    }

    #[test]
    fn string_evidence_keeps_non_utf8_as_base64() {
        let e = Evidence::string(3, b"a\xff", StringEncoding::Raw, &b"a\xff"[..]);
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["value"]["base64"], "Yf8=");
        assert_eq!(serde_json::from_value::<Evidence>(json).unwrap(), e);
    }
}
