//! Broadcom "SAO" images, a chain of `SOBJ` objects used by recent Broadcom set-top-box and
//! gateway firmware. Each object is a 64-byte big-endian header (the text `SOBJ`, a CRC-32 of the
//! header bytes 8..64, a four-letter type such as `META`, `DTBB`, `KRNL` or `RTFS`, a version,
//! flags, the data size, code and signing types, and a CRC-32 of the data at 0x34) followed by its
//! data; the next object starts right after. Every object becomes a member named by its type
//! (`/META`, `/KRNL`, …; a repeated type gets a `-2`, `-3`, … suffix). Both CRCs of every object
//! are checked: a mismatch is reported and the object is extracted anyway.

use std::collections::HashMap;

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The Broadcom SAO object chain.
#[derive(Debug)]
pub struct BroadcomSao;

const MAGICS: &[Magic] = &[Magic::start(b"SOBJ")];
const HEADER_LEN: usize = 0x40;
/// More objects than this in one chain is not a real image.
const MAX_OBJECTS: usize = 4096;

/// One object header.
struct Object {
    /// Offset of the header from the chain's start.
    at: usize,
    kind: Vec<u8>,
    version: u16,
    size: usize,
    sign_type: u8,
    hcrc: u32,
    hcrc_calc: u32,
    dcrc: u32,
}

impl Object {
    fn data_at(&self) -> usize {
        self.at + HEADER_LEN
    }

    fn end(&self) -> Option<usize> {
        self.data_at().checked_add(self.size)
    }

    fn hcrc_ok(&self) -> bool {
        self.hcrc == self.hcrc_calc
    }
}

/// The type field: four letters or digits, possibly padded with NULs or spaces at the end.
fn kind(field: &[u8]) -> Option<Vec<u8>> {
    let trimmed: &[u8] = match field.iter().rposition(|&b| b != 0 && b != b' ') {
        Some(last) => &field[..=last],
        None => return None,
    };
    trimmed
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'_')
        .then(|| trimmed.to_vec())
}

fn object(data: &[u8], at: usize) -> Option<Object> {
    let h = bytes::slice(data, at, HEADER_LEN)?;
    if h.get(..4)? != b"SOBJ" {
        return None;
    }
    let size = bytes::be32(h, 0x10)? as usize;
    Some(Object {
        at,
        kind: kind(h.get(8..12)?)?,
        version: bytes::be16(h, 0x0c)?,
        size,
        sign_type: *h.get(0x1a)?,
        hcrc: bytes::be32(h, 4)?,
        hcrc_calc: crc32fast::hash(h.get(8..HEADER_LEN)?),
        dcrc: bytes::be32(h, 0x34)?,
    })
}

fn data_crc_ok(data: &[u8], o: &Object) -> Option<bool> {
    bytes::slice(data, o.data_at(), o.size).map(|d| crc32fast::hash(d) == o.dcrc)
}

/// The chain of object headers from `data[0]`: each header follows the previous object's data.
fn chain(data: &[u8]) -> Vec<Object> {
    let mut objects: Vec<Object> = Vec::new();
    let mut at = 0;
    while objects.len() < MAX_OBJECTS {
        let Some(o) = object(data, at) else { break };
        let next = o.end();
        objects.push(o);
        match next {
            Some(n) if n < data.len() => at = n,
            _ => break,
        }
    }
    objects
}

fn names(objects: &[Object]) -> String {
    let mut list: Vec<String> = objects
        .iter()
        .take(8)
        .map(|o| probity_model::text::escape(&o.kind))
        .collect();
    if objects.len() > 8 {
        list.push("…".into());
    }
    list.join(", ")
}

impl Format for BroadcomSao {
    fn name(&self) -> &'static str {
        "broadcom-sao"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let first = object(data, 0)?;
        // The header CRC vouches for the header; without it, the data CRC or a second object
        // right after the first one must.
        let confidence = if first.hcrc_ok() {
            100
        } else if data_crc_ok(data, &first) == Some(true) {
            85
        } else if first.end().and_then(|n| object(data, n)).is_some() {
            60
        } else {
            return None;
        };
        let objects = chain(data);
        let end = objects.last().and_then(Object::end).unwrap_or(HEADER_LEN);
        Some(Probe {
            length: Some(end as u64),
            confidence,
            description: format!(
                "Broadcom SAO image, {} object(s): {}",
                objects.len(),
                names(&objects)
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let objects = chain(data);
        if objects.is_empty() {
            return Err(FormatError::invalid("bad SOBJ header"));
        }
        let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
        let (mut hcrc_bad, mut dcrc_bad, mut cut) = (0, 0, 0);
        let mut end = 0;
        for o in &objects {
            out.check_time()?;
            let label = probity_model::text::escape(&o.kind);
            if !o.hcrc_ok() {
                hcrc_bad += 1;
                out.note(format!(
                    "object {label} at {:#x}: header CRC-32 mismatch: stored {:#010x}, computed {:#010x}",
                    o.at, o.hcrc, o.hcrc_calc
                ));
            }
            let have = data.len().saturating_sub(o.data_at()).min(o.size);
            if have < o.size {
                cut += 1;
                out.note(format!(
                    "object {label} at {:#x} is cut: {have} of {} data bytes present",
                    o.at, o.size
                ));
            } else if data_crc_ok(data, o) == Some(false) {
                dcrc_bad += 1;
                let calc = bytes::slice(data, o.data_at(), o.size).map_or(0, crc32fast::hash);
                out.note(format!(
                    "object {label} at {:#x}: data CRC-32 mismatch: stored {:#010x}, computed {calc:#010x}",
                    o.at, o.dcrc
                ));
            }
            if o.sign_type & 0x80 != 0 {
                out.note(format!(
                    "object {label} at {:#x} is encrypted (signing type {:#04x}); its data is extracted as stored",
                    o.at, o.sign_type
                ));
            }
            let n = seen.entry(o.kind.clone()).or_insert(0);
            *n += 1;
            let mut name = [b"/".as_slice(), &o.kind].concat();
            if *n > 1 {
                name.extend_from_slice(format!("-{n}").as_bytes());
            }
            out.region(Entry::file(name), o.data_at() as u64, have as u64);
            end = o.data_at() + have;
        }
        let verdict = |bad: usize, what: &str| {
            if bad == 0 {
                format!("{what} CRC-32 verified")
            } else {
                format!("{what} CRC-32 mismatch on {bad} object(s)")
            }
        };
        out.describe(format!(
            "Broadcom SAO image, {} object(s): {} (version {:#06x}); {}, {}{}",
            objects.len(),
            names(&objects),
            objects.first().map_or(0, |o| o.version),
            verdict(hcrc_bad, "header"),
            verdict(dcrc_bad, "data"),
            if cut > 0 { ", truncated" } else { "" }
        ));
        if hcrc_bad == 0 && dcrc_bad == 0 && cut == 0 {
            out.verified();
        }
        Ok(end as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{Child, ChildData, Spool};
    use crate::limits::Limits;

    fn object(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut h = vec![0u8; HEADER_LEN];
        h[..4].copy_from_slice(b"SOBJ");
        h[8..12].copy_from_slice(kind);
        h[0x0c..0x0e].copy_from_slice(&0x0100u16.to_be_bytes());
        let size = (payload.len() as u32).to_be_bytes();
        h[0x10..0x14].copy_from_slice(&size);
        h[0x14..0x18].copy_from_slice(&size);
        h[0x34..0x38].copy_from_slice(&crc32fast::hash(payload).to_be_bytes());
        let hcrc = crc32fast::hash(&h[8..]);
        h[4..8].copy_from_slice(&hcrc.to_be_bytes());
        h.extend_from_slice(payload);
        h
    }

    fn run(data: &[u8]) -> (u64, Vec<Child>, Vec<String>, String, bool) {
        let limits = Limits::default();
        let spool = Spool::temporary().unwrap();
        let mut x = Extractor::new(&limits, &spool, data.len() as u64, 1 << 30);
        let used = BroadcomSao.extract(data, &mut x).unwrap();
        let verified = x.is_verified();
        let (children, notes, desc, _) = x.into_parts();
        (used, children, notes, desc, verified)
    }

    fn regions(children: &[Child]) -> Vec<(Vec<u8>, u64, u64)> {
        children
            .iter()
            .map(|c| match c.data {
                ChildData::Region { offset, length } => (c.entry.member.clone().unwrap(), offset, length),
                _ => panic!("not a region"),
            })
            .collect()
    }

    fn sample() -> Vec<u8> {
        [
            object(b"META", b"{\"x\":1}\n"),
            object(b"KRNL", b"kernel"),
            object(b"KRNL", b"second kernel"),
            object(b"RTFS", b"hsqs...."),
        ]
        .concat()
    }

    #[test]
    fn chain_of_objects() {
        let d = sample();
        let p = BroadcomSao.probe(&d).unwrap();
        assert_eq!(p.confidence, 100);
        assert_eq!(p.length, Some(d.len() as u64));
        let (used, children, notes, desc, verified) = run(&d);
        assert_eq!(used, d.len() as u64);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(verified);
        assert!(
            desc.contains("header CRC-32 verified, data CRC-32 verified"),
            "{desc}"
        );
        assert_eq!(
            regions(&children),
            vec![
                (b"/META".to_vec(), 0x40, 8),
                (b"/KRNL".to_vec(), 0x88, 6),
                (b"/KRNL-2".to_vec(), 0xce, 13),
                (b"/RTFS".to_vec(), 0x11b, 8),
            ]
        );
    }

    #[test]
    fn bad_crcs_are_notes() {
        let mut d = sample();
        d[0x0e] ^= 1; // the META flags: header CRC now wrong
        d[0x88] ^= 1; // the first KRNL's data
        let p = BroadcomSao.probe(&d).unwrap();
        assert_eq!(p.confidence, 85);
        let (used, children, notes, desc, verified) = run(&d);
        assert_eq!(used, d.len() as u64);
        assert_eq!(children.len(), 4);
        assert!(!verified);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].starts_with("object META at 0x0: header CRC-32 mismatch"));
        assert!(notes[1].starts_with("object KRNL at 0x48: data CRC-32 mismatch"));
        assert!(desc.contains("header CRC-32 mismatch on 1 object(s), data CRC-32 mismatch on 1 object(s)"));
    }

    #[test]
    fn truncated_last_object() {
        let d = sample();
        let cut = &d[..d.len() - 3];
        let (used, children, notes, _, verified) = run(cut);
        assert_eq!(used, cut.len() as u64);
        assert!(!verified);
        assert_eq!(regions(&children)[3], (b"/RTFS".to_vec(), 0x11b, 5));
        assert_eq!(
            notes,
            vec!["object RTFS at 0xdb is cut: 5 of 8 data bytes present".to_string()]
        );
    }

    #[test]
    fn refuses_garbage() {
        // Both CRCs wrong and nothing after: refused; bad type letters: refused.
        let mut d = object(b"META", b"abc");
        d[5] ^= 1;
        d[0x40] ^= 1;
        assert!(BroadcomSao.probe(&d).is_none());
        assert!(BroadcomSao.probe(&object(b"ME\x01A", b"abc")).is_none());
        let d = sample();
        for n in 0..HEADER_LEN {
            assert!(BroadcomSao.probe(&d[..n]).is_none());
        }
        let mut d = b"SOBJ".to_vec();
        d.extend_from_slice(&[0xff; 60]);
        assert!(BroadcomSao.probe(&d).is_none());
    }
}
