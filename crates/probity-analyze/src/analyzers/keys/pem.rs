//! PEM (RFC 7468) and OpenPGP ASCII armor blocks, found anywhere in a content.
//!
//! A block is `-----BEGIN <label>-----`, optional `Name: value` headers (RFC 1421's `Proc-Type`
//! and `DEK-Info`, OpenPGP's `Version`), base64 lines, and the matching `-----END <label>-----`.
//! Blocks are bounded in size and number, so a hostile file can not make the scan quadratic or
//! unbounded.

use base64::Engine;
use memchr::memmem;

/// The most PEM blocks read from one content (a CA bundle holds about 150).
pub const MAX_BLOCKS: usize = 4096;
/// The largest block read (an armored OpenPGP key with many signatures can be large).
pub const MAX_BLOCK: usize = 1 << 20;
const MAX_LABEL: usize = 64;

/// One PEM block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Offset of `-----BEGIN`.
    pub offset: usize,
    /// Length up to and including the closing dashes of the END line.
    pub length: usize,
    /// The label (`RSA PRIVATE KEY`).
    pub label: String,
    /// Whether an RFC 1421 `Proc-Type: 4,ENCRYPTED` header is present.
    pub encrypted: bool,
    /// The decoded body (empty when the body is not base64).
    pub der: Vec<u8>,
}

/// Every PEM block in `data`, in order.
pub fn blocks(data: &[u8]) -> Vec<Block> {
    let mut out = Vec::new();
    let begin = memmem::Finder::new(b"-----BEGIN ");
    let mut at = 0;
    while let Some(rel) = data.get(at..).and_then(|d| begin.find(d)) {
        if out.len() >= MAX_BLOCKS {
            break;
        }
        let start = at + rel;
        at = start + 1;
        let Some((label, body_start)) = label_at(data, start) else {
            continue;
        };
        let end_marker = format!("-----END {label}-----");
        let window_end = data.len().min(body_start.saturating_add(MAX_BLOCK));
        let Some(window) = data.get(body_start..window_end) else {
            continue;
        };
        let Some(end_rel) = memmem::find(window, end_marker.as_bytes()) else {
            continue;
        };
        let body = window.get(..end_rel).unwrap_or_default();
        let (encrypted, der) = decode_body(body);
        let length = body_start + end_rel + end_marker.len() - start;
        out.push(Block {
            offset: start,
            length,
            label,
            encrypted,
            der,
        });
        at = start + length;
    }
    out
}

/// The label of the BEGIN line at `start` and where the body starts.
fn label_at(data: &[u8], start: usize) -> Option<(String, usize)> {
    let from = start + b"-----BEGIN ".len();
    let line = data.get(from..data.len().min(from + MAX_LABEL + 5))?;
    let close = memmem::find(line, b"-----")?;
    let label = line.get(..close)?;
    if label.is_empty()
        || !label
            .iter()
            .all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ')
    {
        return None;
    }
    Some((String::from_utf8_lossy(label).into_owned(), from + close + 5))
}

/// Decodes a body: headers (lines with a colon before the base64 starts) are read for
/// `Proc-Type: 4,ENCRYPTED` and skipped; an OpenPGP checksum line (`=abcd`) is dropped.
fn decode_body(body: &[u8]) -> (bool, Vec<u8>) {
    let mut encrypted = false;
    let mut b64 = Vec::with_capacity(body.len());
    let mut in_headers = true;
    for line in body.split(|&b| b == b'\n') {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        if in_headers && line.contains(&b':') {
            if line.starts_with(b"Proc-Type:") && line.ends_with(b"ENCRYPTED") {
                encrypted = true;
            }
            continue;
        }
        in_headers = false;
        if line.first() == Some(&b'=') && line.len() <= 5 {
            continue; // OpenPGP armor checksum
        }
        b64.extend(line.iter().filter(|b| !b.is_ascii_whitespace()));
    }
    let engine = base64::engine::general_purpose::STANDARD;
    let der = engine
        .decode(&b64)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(&b64))
        .unwrap_or_default();
    (encrypted, der)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_blocks_with_headers_and_noise() {
        let data = b"xx\0-----BEGIN RSA PRIVATE KEY-----\r\nProc-Type: 4,ENCRYPTED\r\nDEK-Info: AES-128-CBC,00\r\n\r\nAAEC\r\nAw==\r\n-----END RSA PRIVATE KEY-----\nyy-----BEGIN X-----";
        let b = blocks(data);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].offset, 3);
        assert_eq!(b[0].label, "RSA PRIVATE KEY");
        assert!(b[0].encrypted);
        assert_eq!(b[0].der, vec![0, 1, 2, 3]);
        assert_eq!(&data[3 + b[0].length - 5..3 + b[0].length], b"-----");
    }

    #[test]
    fn bad_bodies_decode_to_nothing() {
        let b = blocks(b"-----BEGIN CERTIFICATE-----0000\x82\x82-----END CERTIFICATE-----");
        assert_eq!(b.len(), 1);
        assert!(b[0].der.is_empty());
        assert!(blocks(b"-----BEGIN lower-----\n-----END lower-----").is_empty());
    }
}
