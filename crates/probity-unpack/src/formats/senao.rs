//! Senao firmware images, used by EnGenius and some D-Link access points. A big-endian header
//! carries a 32-bit "magic" that is really the key of a simple obfuscation: payload byte `i` is
//! XORed with `key >> (i % 8)` (only the low 15 bits of the key matter). The payload is padded to
//! a block size when written; the header gives its real length.
//!
//! Two header families are known:
//! * v1, OpenWrt's `mksenaofw`: 0x60 bytes (head, vendor and product ids, a 16-byte version
//!   string, the firmware type, the payload length, a zero word, the MD5 of the payload, padding,
//!   a byte-sum checksum of the header, and the key 0x12345678 at 0x5C). Type 0 images with the
//!   module name `all` add a "capwap" header (ten words and a model name) before the payload; the
//!   checksum then covers it too.
//! * v2 (EnGenius EAP/ENS and others): a 0x80-byte header with the key 0x30471688 at 0x7C and the
//!   payload at 0x80; FACT also knows layouts with a 0x38- or 0xA0-byte prefix before it (key at
//!   0xB4 or 0x11C), and images with another key identified by the text `3047` 0x2E bytes into
//!   the header. In the v2 header the MD5 of the payload sits at 0x46 and its length at 0x3E; these
//!   two offsets come from one published image header (the `v7apac1200` tool) and FACT's sample,
//!   not from a specification. The remaining v2 fields, including a probable checksum at 0x78,
//!   are not understood.
//!
//! The key is only 32 bits and sits at a fixed offset, so the format is only looked for at the
//! start of a file, and the probe wants several header fields to agree. The header checksum (v1)
//! and the payload MD5 (both) are verified when present.

use md5::{Digest, Md5};

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The Senao format.
#[derive(Debug)]
pub struct Senao;

/// The `mksenaofw` default key, at 0x5C in v1 headers.
const V1_KEY: u32 = 0x1234_5678;
/// The key of v2 images, at 0x7C from the start of the v2 header.
const V2_KEY: u32 = 0x3047_1688;

const MAGICS: &[Magic] = &[
    Magic {
        bytes: &[0x12, 0x34, 0x56, 0x78],
        at: 0x5C,
    },
    Magic {
        bytes: &[0x30, 0x47, 0x16, 0x88],
        at: 0x7C,
    },
    Magic {
        bytes: &[0x30, 0x47, 0x16, 0x88],
        at: 0xB4,
    },
    Magic {
        bytes: &[0x30, 0x47, 0x16, 0x88],
        at: 0x11C,
    },
    Magic {
        bytes: b"3047",
        at: 0x2E,
    },
    Magic {
        bytes: b"3047",
        at: 0x66,
    },
    Magic {
        bytes: b"3047",
        at: 0xCE,
    },
];

const V1_HEADER: usize = 0x60;
const CAPWAP_LEN: usize = 40;
const MAX_MODEL: u32 = 256;
/// Where v2 headers start (FACT's v2a, v2b, v2c layouts, in FACT's order).
const V2_STARTS: [usize; 3] = [0x38, 0, 0xA0];
const V2_HEADER: usize = 0x80;

/// `mksenaofw`'s firmware types.
fn type_name(t: u32) -> &'static str {
    match t {
        0 => "combo",
        1 => "bootloader",
        2 => "kernel",
        3 => "kernelapp",
        4 => "apps",
        5 => "littleapps/factoryapps",
        6 => "sounds/littleapps",
        7 => "userconfig/appdata",
        8 => "userconfig",
        9 => "odmapps",
        10 => "factoryapps",
        11 => "odmapps",
        12 => "langpack",
        _ => "unknown",
    }
}

#[derive(Debug)]
enum Kind {
    V1 {
        vendor: u32,
        product: u32,
        version: String,
        fw_type: u32,
        capwap_model: Option<String>,
        /// Whether the header checksum matches.
        checksum_ok: bool,
    },
    V2 {
        /// Where the v2 header starts.
        start: usize,
        /// Whether the `3047` text is present.
        tag: bool,
    },
}

#[derive(Debug)]
struct Header {
    kind: Kind,
    key: u32,
    payload_at: usize,
    /// The payload length the header gives (`None` when the field is not plausible).
    size: Option<u32>,
    /// Where the MD5 of the payload is stored.
    md5_at: usize,
}

fn printable(field: &[u8]) -> bool {
    field.iter().all(|&b| (0x20..0x7F).contains(&b))
}

fn parse_v1(data: &[u8]) -> Option<Header> {
    let be = |off| bytes::be32(data, off);
    let key = be(0x5C)?;
    if key != V1_KEY {
        return None;
    }
    let vendor = be(4)?;
    let product = be(8)?;
    let version_field = bytes::slice(data, 0x0C, 16)?;
    let version = bytes::cstr(version_field);
    let fw_type = be(0x1C)?;
    let size = be(0x20)?;
    // mksenaofw writes a NUL-terminated version, non-zero ids, a known type, a zero word and a
    // non-empty payload.
    if version.len() >= 16
        || !printable(version)
        || vendor == 0
        || product == 0
        || fw_type > 12
        || be(0x24)? != 0
        || size == 0
    {
        return None;
    }
    let mut payload_at = V1_HEADER;
    let mut capwap_model = None;
    if fw_type == 0 && data.get(V1_HEADER..V1_HEADER + 4) == Some(b"all\0") {
        let model_size = be(0x84)?;
        if model_size > MAX_MODEL {
            return None;
        }
        let model = bytes::slice(data, V1_HEADER + CAPWAP_LEN, model_size as usize)?;
        capwap_model = Some(probity_model::text::escape(bytes::cstr(model)));
        payload_at = V1_HEADER + CAPWAP_LEN + model_size as usize;
    }
    // The checksum is the byte sum of the header with the checksum field still zero, plus the
    // capwap header when there is one.
    let stored = be(0x58)?;
    let sum = data
        .get(..payload_at)?
        .iter()
        .enumerate()
        .filter(|(i, _)| !(0x58..0x5C).contains(i))
        .fold(0u32, |s, (_, &b)| s.wrapping_add(u32::from(b)));
    Some(Header {
        kind: Kind::V1 {
            vendor,
            product,
            version: probity_model::text::escape(version),
            fw_type,
            capwap_model,
            checksum_ok: sum == stored,
        },
        key,
        payload_at,
        size: Some(size),
        md5_at: 0x28,
    })
}

fn parse_v2(data: &[u8], start: usize) -> Option<Header> {
    let key = bytes::be32(data, start + 0x7C)?;
    let payload_at = start + V2_HEADER;
    let available = data.len().checked_sub(payload_at)?;
    let tag = data.get(start + 0x2E..start + 0x32) == Some(b"3047");
    let size = bytes::be32(data, start + 0x3E)?;
    let size_ok = size > 0 && size as usize <= available;
    let known = key == V2_KEY;
    // The key alone is a 32-bit coincidence away: a second field has to agree.
    if !((known && (tag || size_ok)) || (tag && size_ok && key != 0)) {
        return None;
    }
    Some(Header {
        kind: Kind::V2 { start, tag },
        key,
        payload_at,
        size: size_ok.then_some(size),
        md5_at: start + 0x46,
    })
}

fn parse(data: &[u8]) -> Option<Header> {
    parse_v1(data).or_else(|| V2_STARTS.iter().find_map(|&s| parse_v2(data, s)))
}

/// The keystream byte for payload offset `i`.
fn key_byte(key: u32, i: usize) -> u8 {
    (key >> (i % 8)) as u8
}

/// The payload length and the structure's extent: the payload, then the padding that follows it
/// (bytes that decrypt to zero), bounded by the data.
fn span(h: &Header, data: &[u8]) -> (usize, usize) {
    let available = data.len().saturating_sub(h.payload_at);
    let size = h.size.map_or(available, |s| (s as usize).min(available));
    let mut end = h.payload_at + size;
    let mut i = size;
    while let Some(&b) = data.get(end) {
        if b != key_byte(h.key, i) {
            break;
        }
        end += 1;
        i += 1;
    }
    (size, end)
}

fn describe(h: &Header) -> String {
    match &h.kind {
        Kind::V1 {
            vendor,
            product,
            version,
            fw_type,
            capwap_model,
            ..
        } => format!(
            "Senao firmware (v1 header), vendor {vendor:#x}, product {product:#x}, version `{version}`, \
             type {fw_type} ({}){}, XOR key {:#010x}",
            type_name(*fw_type),
            capwap_model
                .as_ref()
                .map(|m| format!(", capwap model `{m}`"))
                .unwrap_or_default(),
            h.key
        ),
        Kind::V2 { start, .. } => format!(
            "Senao firmware (v2 header at {start:#x}), payload at {:#x}, XOR key {:#010x}",
            h.payload_at, h.key
        ),
    }
}

impl Format for Senao {
    fn name(&self) -> &'static str {
        "senao"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn anchored(&self) -> bool {
        true
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let h = parse(data)?;
        let (_, end) = span(&h, data);
        let confidence = match &h.kind {
            Kind::V1 {
                checksum_ok: true, ..
            } => 100,
            Kind::V1 { .. } => 70,
            Kind::V2 { tag: true, .. } if h.key == V2_KEY => 85,
            Kind::V2 { .. } => 65,
        };
        Some(Probe {
            length: Some(end as u64),
            confidence,
            description: describe(&h),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let h = parse(data).ok_or_else(|| FormatError::invalid("bad Senao header"))?;
        let (size, end) = span(&h, data);
        let mut checks = Vec::new();
        if let Kind::V1 { checksum_ok, .. } = h.kind {
            if checksum_ok {
                checks.push("header checksum verified".to_string());
            } else {
                out.note("header checksum mismatch");
                checks.push("header checksum mismatch".to_string());
            }
        }
        match h.size {
            Some(s) if s as usize > size => {
                out.note(format!("payload truncated: {size} of {s} bytes present"));
            }
            None => {
                out.note("the payload length field is not plausible; the payload runs to the end of the data")
            }
            _ => {}
        }
        let payload = data.get(h.payload_at..h.payload_at + size).unwrap_or_default();
        let plain: Vec<u8> = payload
            .iter()
            .enumerate()
            .map(|(i, &b)| b ^ key_byte(h.key, i))
            .collect();
        if h.size.is_some_and(|s| s as usize == size) {
            let stored = bytes::slice(data, h.md5_at, 16);
            let computed = Md5::digest(&plain);
            if stored == Some(computed.as_slice()) {
                checks.push("MD5 verified".to_string());
                // The MD5 covers the whole payload; with a v1 header the checksum covers the rest.
                if !matches!(
                    h.kind,
                    Kind::V1 {
                        checksum_ok: false,
                        ..
                    }
                ) {
                    out.verified();
                }
            } else {
                let stored = stored.map(probity_model::hex::encode).unwrap_or_default();
                let hedge = if matches!(h.kind, Kind::V2 { .. }) {
                    " (the position of the v2 MD5 field is inferred, see the format notes)"
                } else {
                    ""
                };
                out.note(format!(
                    "MD5 mismatch: stored {stored}, computed {}{hedge}",
                    probity_model::hex::encode(&computed)
                ));
                checks.push("MD5 mismatch".to_string());
            }
        }
        let checks = if checks.is_empty() {
            String::new()
        } else {
            format!(", {}", checks.join(", "))
        };
        out.describe(format!("{}, {size} bytes{checks}", describe(&h)));
        out.file(Entry::file(b"/decrypted".to_vec()), plain)?;
        Ok(end as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{ChildData, Spool};
    use crate::limits::Limits;

    fn obfuscate(key: u32, plain: &[u8], padded: usize) -> Vec<u8> {
        let mut p = plain.to_vec();
        p.resize(padded.max(plain.len()), 0);
        p.iter().enumerate().map(|(i, &b)| b ^ key_byte(key, i)).collect()
    }

    /// A v1 image as `mksenaofw` writes it (with a capwap header for `model`).
    fn v1(plain: &[u8], model: Option<&str>, padded: usize) -> Vec<u8> {
        let mut h = vec![0u8; V1_HEADER];
        h[4..8].copy_from_slice(&0x101u32.to_be_bytes());
        h[8..12].copy_from_slice(&0x6006u32.to_be_bytes());
        h[0x0C..0x0F].copy_from_slice(b"1.2");
        h[0x1C..0x20].copy_from_slice(&(if model.is_some() { 0u32 } else { 2 }).to_be_bytes());
        h[0x20..0x24].copy_from_slice(&(plain.len() as u32).to_be_bytes());
        h[0x28..0x38].copy_from_slice(&Md5::digest(plain));
        h[0x5C..0x60].copy_from_slice(&V1_KEY.to_be_bytes());
        if let Some(m) = model {
            let mut cw = vec![0u8; CAPWAP_LEN];
            cw[..4].copy_from_slice(b"all\0");
            cw[20..24].copy_from_slice(&171101u32.to_be_bytes());
            cw[36..40].copy_from_slice(&(m.len() as u32).to_be_bytes());
            h.extend_from_slice(&cw);
            h.extend_from_slice(m.as_bytes());
        }
        let sum = h.iter().fold(0u32, |s, &b| s + u32::from(b));
        h[0x58..0x5C].copy_from_slice(&sum.to_be_bytes());
        h.extend_from_slice(&obfuscate(V1_KEY, plain, padded));
        h
    }

    /// A v2 header laid out like the published `v7apac1200` one, at `start`.
    fn v2(plain: &[u8], start: usize, key: u32) -> Vec<u8> {
        let mut d = vec![0x5Au8; start];
        let mut h = vec![0u8; V2_HEADER];
        h[7] = 3;
        h[0x2E..0x32].copy_from_slice(b"3047");
        h[0x3E..0x42].copy_from_slice(&(plain.len() as u32).to_be_bytes());
        h[0x46..0x56].copy_from_slice(&Md5::digest(plain));
        h[0x7C..0x80].copy_from_slice(&key.to_be_bytes());
        d.extend_from_slice(&h);
        d.extend_from_slice(&obfuscate(key, plain, 0));
        d
    }

    fn run(d: &[u8]) -> (u64, Vec<u8>, Vec<String>, String, bool) {
        let limits = Limits::default();
        let spool = Spool::temporary().unwrap();
        let mut x = Extractor::new(&limits, &spool, d.len() as u64, 1 << 30);
        let used = Senao.extract(d, &mut x).unwrap();
        let verified = x.is_verified();
        let (children, notes, description, _) = x.into_parts();
        assert_eq!(children.len(), 1);
        assert_eq!(
            children[0].entry.member.as_deref(),
            Some(b"/decrypted".as_slice())
        );
        let bytes = match &children[0].data {
            ChildData::Bytes(b) => b.to_vec(),
            other => panic!("unexpected data {other:?}"),
        };
        (used, bytes, notes, description, verified)
    }

    #[test]
    fn v1_with_padding() {
        let plain = b"foobar1234test\nthis is a test firmware image";
        let mut d = v1(plain, None, 512);
        d.extend_from_slice(b"trailing");
        let p = Senao.probe(&d).unwrap();
        assert_eq!(p.confidence, 100);
        assert_eq!(p.length, Some((V1_HEADER + 512) as u64));
        let (used, bytes, notes, description, verified) = run(&d);
        assert_eq!(used, (V1_HEADER + 512) as u64);
        assert_eq!(bytes, plain);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(verified);
        assert!(
            description.contains("version `1.2`, type 2 (kernel)")
                && description.ends_with("header checksum verified, MD5 verified"),
            "{description}"
        );
    }

    #[test]
    fn v1_with_capwap_header() {
        let plain = b"capwap payload";
        let d = v1(plain, Some("ENS620EXT"), 0);
        let p = Senao.probe(&d).unwrap();
        assert_eq!(p.confidence, 100);
        let (_, bytes, notes, description, verified) = run(&d);
        assert_eq!(bytes, plain);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(verified);
        assert!(description.contains("capwap model `ENS620EXT`"), "{description}");
    }

    #[test]
    fn v1_bad_checksums_are_noted() {
        let plain = b"0123456789";
        let mut d = v1(plain, None, 0);
        d[0x28] ^= 1;
        let (_, bytes, notes, _, verified) = run(&d);
        assert_eq!(bytes, plain);
        assert!(!verified);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert_eq!(notes[0], "header checksum mismatch");
        assert!(notes[1].starts_with("MD5 mismatch"));
    }

    #[test]
    fn v2_layouts() {
        let plain = b"foobar1234test\nthis is a test firmware image";
        for start in [0, 0x38, 0xA0] {
            for key in [V2_KEY, 0x1122_3344] {
                let d = v2(plain, start, key);
                let p = Senao.probe(&d).unwrap();
                assert_eq!(p.length, Some(d.len() as u64));
                let (used, bytes, notes, description, verified) = run(&d);
                assert_eq!(used, d.len() as u64);
                assert_eq!(bytes, plain, "{start:#x} {key:#x}");
                assert!(notes.is_empty(), "{notes:?}");
                assert!(verified);
                assert!(
                    description.contains(&format!("v2 header at {start:#x}")),
                    "{description}"
                );
            }
        }
    }

    #[test]
    fn garbage_is_refused() {
        let d = v1(b"payload", None, 0);
        for n in 0..V1_HEADER {
            assert!(Senao.probe(&d[..n]).is_none());
        }
        // The key alone is not enough.
        let mut lone = vec![0u8; 0x100];
        lone[0x5C..0x60].copy_from_slice(&V1_KEY.to_be_bytes());
        assert!(Senao.probe(&lone).is_none());
        let mut lone = vec![0xEEu8; 0x100];
        lone[0x7C..0x80].copy_from_slice(&V2_KEY.to_be_bytes());
        assert!(Senao.probe(&lone).is_none());
        let mut lone = vec![0xEEu8; 0x100];
        lone[0x2E..0x32].copy_from_slice(b"3047");
        assert!(Senao.probe(&lone).is_none());
        // A v1 header with a non-zero reserved word.
        let mut bad = d.clone();
        bad[0x27] = 1;
        assert!(Senao.probe(&bad).is_none());
        // A huge model size never panics.
        let mut cw = v1(b"x", Some("M"), 0);
        cw[0x84..0x88].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(Senao.probe(&cw).is_none());
    }

    #[test]
    fn mutated_inputs_never_panic() {
        let valid = v1(b"foobar1234test", Some("M"), 64);
        crate::fuzzing::mutated_inputs_never_panic(&Senao, &valid);
    }
}
