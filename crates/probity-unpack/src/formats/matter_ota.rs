//! Matter over-the-air update images (the smart-home standard's OTA file format). A 16-byte
//! little-endian prefix (the file identifier `0x1BEEF11E`, the total size as a 64-bit word and the
//! header size) is followed by the header, a Matter TLV structure with context tags for the vendor
//! id (0), product id (1), software version (2) and its text (3), payload size (4), the optional
//! minimum and maximum applicable versions (5, 6) and release-notes URL (7), and the image digest
//! type (8, an IANA "named information" hash id) and digest (9); the payload follows. The payload
//! becomes `/payload`, and its digest is recomputed (SHA-256 and its truncations, SHA-384,
//! SHA-512): a match makes the image verified, a mismatch is reported.

use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The Matter OTA image format.
#[derive(Debug)]
pub struct MatterOta;

const MAGICS: &[Magic] = &[Magic::start(b"\x1e\xf1\xee\x1b")];
const PREFIX_LEN: usize = 16;
/// Real headers are a few hundred bytes; a larger one is not a Matter OTA header.
const MAX_HEADER: usize = 64 << 10;
/// Nesting limit for containers inside the header.
const MAX_DEPTH: usize = 16;

/// A TLV value the header uses.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value<'a> {
    Uint(u64),
    Text(&'a [u8]),
    Octets(&'a [u8]),
    Other,
}

/// The header's fields.
#[derive(Debug, Default)]
struct Header<'a> {
    total: u64,
    header_len: usize,
    vendor: Option<u64>,
    product: Option<u64>,
    version: Option<u64>,
    version_text: Option<&'a [u8]>,
    payload_len: Option<u64>,
    min_version: Option<u64>,
    max_version: Option<u64>,
    notes_url: Option<&'a [u8]>,
    digest_type: Option<u64>,
    digest: Option<&'a [u8]>,
}

/// Reads a little-endian unsigned integer of `n` bytes.
fn uint(tlv: &[u8], at: usize, n: usize) -> Option<u64> {
    let b = bytes::slice(tlv, at, n)?;
    Some(b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
}

/// One element at `at`: (control byte, context tag if any, value, next offset).
fn element(tlv: &[u8], at: usize) -> Option<(u8, Option<u8>, Value<'_>, usize)> {
    let ctrl = *tlv.get(at)?;
    let tag_len = [0usize, 1, 2, 4, 2, 4, 6, 8][usize::from(ctrl >> 5)];
    let tag = (ctrl >> 5 == 1).then(|| tlv.get(at + 1).copied()).flatten();
    let mut p = at.checked_add(1 + tag_len)?;
    if p > tlv.len() {
        return None;
    }
    let t = ctrl & 0x1f;
    let width = 1usize << (t & 3);
    let value = match t {
        0x00..=0x03 | 0x0a | 0x0b => {
            let n = match t {
                0x0a => 4,
                0x0b => 8,
                _ => width,
            };
            bytes::slice(tlv, p, n)?;
            p += n;
            Value::Other
        }
        0x04..=0x07 => {
            let v = uint(tlv, p, width)?;
            p += width;
            Value::Uint(v)
        }
        0x08 | 0x09 | 0x14..=0x18 => Value::Other,
        0x0c..=0x13 => {
            let n = usize::try_from(uint(tlv, p, width)?).ok()?;
            p += width;
            let s = bytes::slice(tlv, p, n)?;
            p += n;
            if t < 0x10 {
                Value::Text(s)
            } else {
                Value::Octets(s)
            }
        }
        _ => return None,
    };
    Some((ctrl, tag, value, p))
}

fn parse(data: &[u8]) -> Option<Header<'_>> {
    if data.get(..4)? != b"\x1e\xf1\xee\x1b" {
        return None;
    }
    let total = bytes::le64(data, 4)?;
    let header_len = bytes::le32(data, 12)? as usize;
    if header_len > MAX_HEADER {
        return None;
    }
    let tlv = bytes::slice(data, PREFIX_LEN, header_len)?;
    let mut h = Header {
        total,
        header_len,
        ..Header::default()
    };
    // The header is one anonymous structure.
    let (ctrl, _, _, mut p) = element(tlv, 0)?;
    if ctrl != 0x15 {
        return None;
    }
    let mut depth = 1;
    while depth > 0 {
        let (ctrl, tag, value, next) = element(tlv, p)?;
        p = next;
        match ctrl & 0x1f {
            0x15..=0x17 => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return None;
                }
                continue;
            }
            0x18 => {
                depth -= 1;
                continue;
            }
            _ => {}
        }
        if depth != 1 {
            continue;
        }
        match (tag, value) {
            (Some(0), Value::Uint(v)) => h.vendor = Some(v),
            (Some(1), Value::Uint(v)) => h.product = Some(v),
            (Some(2), Value::Uint(v)) => h.version = Some(v),
            (Some(3), Value::Text(s)) => h.version_text = Some(s),
            (Some(4), Value::Uint(v)) => h.payload_len = Some(v),
            (Some(5), Value::Uint(v)) => h.min_version = Some(v),
            (Some(6), Value::Uint(v)) => h.max_version = Some(v),
            (Some(7), Value::Text(s)) => h.notes_url = Some(s),
            (Some(8), Value::Uint(v)) => h.digest_type = Some(v),
            (Some(9), Value::Octets(s)) => h.digest = Some(s),
            _ => {}
        }
    }
    // The mandatory fields, and sizes that add up.
    let payload = h.payload_len?;
    if h.vendor.is_none()
        || h.product.is_none()
        || h.version.is_none()
        || h.version_text.is_none()
        || h.digest_type.is_none()
        || h.digest.is_none()
        || (PREFIX_LEN as u64 + header_len as u64).checked_add(payload)? != total
    {
        return None;
    }
    Some(h)
}

/// The digest of `payload` for an IANA named-information hash id, with the algorithm's name.
fn digest(kind: u64, payload: &[u8]) -> Option<(&'static str, Vec<u8>)> {
    let sha256 = || Sha256::digest(payload).to_vec();
    let truncated = |name, n: usize| Some((name, sha256().get(..n)?.to_vec()));
    match kind {
        1 => Some(("SHA-256", sha256())),
        2 => truncated("SHA-256-128", 16),
        3 => truncated("SHA-256-120", 15),
        4 => truncated("SHA-256-96", 12),
        5 => truncated("SHA-256-64", 8),
        6 => truncated("SHA-256-32", 4),
        7 => Some(("SHA-384", Sha384::digest(payload).to_vec())),
        8 => Some(("SHA-512", Sha512::digest(payload).to_vec())),
        _ => None,
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn describe(h: &Header<'_>) -> String {
    let mut s = format!(
        "Matter OTA image, vendor {:#06x}, product {:#06x}, software version {} (`{}`), payload {} bytes",
        h.vendor.unwrap_or(0),
        h.product.unwrap_or(0),
        h.version.unwrap_or(0),
        probity_model::text::escape(h.version_text.unwrap_or_default()),
        h.payload_len.unwrap_or(0)
    );
    match (h.min_version, h.max_version) {
        (Some(lo), Some(hi)) => s.push_str(&format!(", applies to versions {lo}..={hi}")),
        (Some(lo), None) => s.push_str(&format!(", applies from version {lo}")),
        (None, Some(hi)) => s.push_str(&format!(", applies up to version {hi}")),
        (None, None) => {}
    }
    if let Some(url) = h.notes_url {
        s.push_str(&format!(", release notes {}", probity_model::text::escape(url)));
    }
    s
}

impl Format for MatterOta {
    fn name(&self) -> &'static str {
        "matter-ota"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let h = parse(data)?;
        Some(Probe {
            length: Some(h.total),
            confidence: 90,
            description: describe(&h),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let h = parse(data).ok_or_else(|| FormatError::invalid("bad Matter OTA header"))?;
        let at = PREFIX_LEN + h.header_len;
        let want = usize::try_from(h.payload_len.unwrap_or(0)).unwrap_or(usize::MAX);
        let have = data.len().saturating_sub(at).min(want);
        let kind = h.digest_type.unwrap_or(0);
        let stored = h.digest.unwrap_or_default();
        let verdict = if have < want {
            out.note(format!("payload cut: {have} of {want} bytes present"));
            "digest not verifiable (truncated)".to_string()
        } else {
            match digest(kind, data.get(at..at + want).unwrap_or_default()) {
                Some((name, calc)) if calc == stored => {
                    out.verified();
                    format!("{name} image digest verified")
                }
                Some((name, calc)) => {
                    let msg = format!(
                        "{name} image digest mismatch: stored {}, computed {}",
                        hex(stored),
                        hex(&calc)
                    );
                    out.note(msg.clone());
                    msg
                }
                None => {
                    out.note(format!(
                        "image digest type {kind} is not supported; the digest was not checked"
                    ));
                    format!("digest type {kind} not checked")
                }
            }
        };
        out.describe(format!("{}; {verdict}", describe(&h)));
        if have > 0 || want == 0 {
            out.region(Entry::file(b"/payload".to_vec()), at as u64, have as u64);
        }
        Ok((at + have) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{ChildData, Spool};
    use crate::limits::Limits;

    /// The header of FACT's/binwalk's sample, for `payload` (with `digest_type` and a digest that
    /// matches unless `bad`).
    fn image(payload: &[u8], digest_type: u8, bad: bool) -> Vec<u8> {
        let mut tlv = vec![0x15];
        tlv.extend_from_slice(&[0x25, 0x00, 0x34, 0x12]); // vendor, u16
        tlv.extend_from_slice(&[0x25, 0x01, 0x34, 0x12]); // product, u16
        tlv.extend_from_slice(&[0x26, 0x02, 0x00, 0x6e, 0x00, 0x11]); // version, u32
        tlv.extend_from_slice(&[0x2c, 0x03, 0x09]);
        tlv.extend_from_slice(b"1.2.120.0");
        tlv.extend_from_slice(&[0x26, 0x04]);
        tlv.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        tlv.extend_from_slice(&[0x35, 0x0a, 0x24, 0x00, 0x07, 0x18]); // unknown nested struct
        tlv.extend_from_slice(&[0x24, 0x05, 0x03]); // min version
        tlv.extend_from_slice(&[0x24, 0x08, digest_type]);
        let mut d = digest(u64::from(digest_type), payload)
            .map(|x| x.1)
            .unwrap_or(vec![0; 32]);
        if bad {
            d[0] ^= 1;
        }
        tlv.extend_from_slice(&[0x30, 0x09, d.len() as u8]);
        tlv.extend_from_slice(&d);
        tlv.push(0x18);
        let mut out = b"\x1e\xf1\xee\x1b".to_vec();
        out.extend_from_slice(&((16 + tlv.len() + payload.len()) as u64).to_le_bytes());
        out.extend_from_slice(&(tlv.len() as u32).to_le_bytes());
        out.extend_from_slice(&tlv);
        out.extend_from_slice(payload);
        out
    }

    /// Bytes used, members, notes, description, verified.
    type Outcome = (u64, Vec<(Vec<u8>, u64, u64)>, Vec<String>, String, bool);

    fn run(data: &[u8]) -> Outcome {
        let limits = Limits::default();
        let spool = Spool::temporary().unwrap();
        let mut x = Extractor::new(&limits, &spool, data.len() as u64, 1 << 30);
        let used = MatterOta.extract(data, &mut x).unwrap();
        let verified = x.is_verified();
        let (children, notes, desc, _) = x.into_parts();
        let regions = children
            .iter()
            .map(|c| match c.data {
                ChildData::Region { offset, length } => (c.entry.member.clone().unwrap(), offset, length),
                _ => panic!("not a region"),
            })
            .collect();
        (used, regions, notes, desc, verified)
    }

    #[test]
    fn header_fields_and_sha256() {
        let d = image(b"PAYLOAD\n", 1, false);
        let p = MatterOta.probe(&d).unwrap();
        assert_eq!(p.length, Some(d.len() as u64));
        let (used, regions, notes, desc, verified) = run(&d);
        assert_eq!(used, d.len() as u64);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(verified);
        assert_eq!(
            desc,
            "Matter OTA image, vendor 0x1234, product 0x1234, software version 285240832 (`1.2.120.0`), \
             payload 8 bytes, applies from version 3; SHA-256 image digest verified"
        );
        assert_eq!(regions, vec![(b"/payload".to_vec(), d.len() as u64 - 8, 8)]);
    }

    #[test]
    fn other_digests_and_mismatch() {
        for kind in [2, 6, 7, 8] {
            let (_, _, notes, _, verified) = run(&image(b"abc", kind, false));
            assert!(verified && notes.is_empty(), "{kind}: {notes:?}");
        }
        let (_, regions, notes, _, verified) = run(&image(b"abc", 1, true));
        assert!(!verified);
        assert_eq!(regions.len(), 1);
        assert!(
            notes[0].starts_with("SHA-256 image digest mismatch: stored"),
            "{notes:?}"
        );
        let (_, regions, notes, _, verified) = run(&image(b"abc", 10, false));
        assert!(!verified);
        assert_eq!(regions.len(), 1);
        assert_eq!(
            notes,
            vec!["image digest type 10 is not supported; the digest was not checked".to_string()]
        );
        // A cut payload.
        let d = image(b"abcdef", 1, false);
        let (used, regions, notes, _, _) = run(&d[..d.len() - 2]);
        assert_eq!(used, d.len() as u64 - 2);
        assert_eq!(regions[0].2, 4);
        assert_eq!(notes, vec!["payload cut: 4 of 6 bytes present".to_string()]);
    }

    #[test]
    fn refuses_garbage() {
        let d = image(b"abc", 1, false);
        let header_end = d.len() - 3;
        for n in 0..header_end {
            assert!(MatterOta.probe(&d[..n]).is_none(), "{n}");
        }
        // A total size that does not add up; a header that is not a structure; huge lengths.
        let mut bad = d.clone();
        bad[4] ^= 1;
        assert!(MatterOta.probe(&bad).is_none());
        let mut bad = d.clone();
        bad[16] = 0x16;
        assert!(MatterOta.probe(&bad).is_none());
        let mut bad = d.clone();
        bad[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(MatterOta.probe(&bad).is_none());
        let mut bad = d;
        bad[16 + 17] = 0xff; // the version string's length
        assert!(MatterOta.probe(&bad).is_none());
    }
}
