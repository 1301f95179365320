//! Bosch security camera firmware (`.fw`), as documented by Anvil Secure's BoschFirmwareTool. The
//! file starts with a big-endian firmware header in a 1024-byte slot (magic `0x10122003`, target,
//! variant, version, length, base, a 32-bit byte-sum checksum, type and a "negative list"). A root
//! header with target `0x10` is followed by sub-headers, each in its own 1024-byte slot and
//! followed by `length` bytes of data obfuscated by XOR with `0x42`. De-obfuscated, the data is a
//! list of file records (magic `0xDEADAFFE`, the offset of the next record, a 32-byte name, the
//! file length, then the file), ended by a record of length zero. Each file becomes a member named
//! by its record; a file named `RomFS.bin…` holds more records of the same kind, and its files
//! become members below it. A checksum of zero means "not set"; a set one is compared with the
//! byte sum of the data after the header.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};
use probity_model::ArtifactKind;

/// The Bosch `.fw` firmware format.
#[derive(Debug)]
pub struct Bosch;

const MAGICS: &[Magic] = &[Magic::start(b"\x10\x12\x20\x03")];
const HEADER_LEN: usize = 0x400;
const RECORD_LEN: usize = 0x40;
const RECORD_MAGIC: u32 = 0xdead_affe;
const XOR: u8 = 0x42;
/// The target of a header that only contains other headers.
const NESTED: u32 = 0x10;
/// Bounds on what one image may hold.
const MAX_HEADERS: usize = 1024;
const MAX_RECORDS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct FwHeader {
    at: usize,
    target: u32,
    version: u32,
    length: usize,
    checksum: u32,
    ty: u32,
}

impl FwHeader {
    fn data_at(&self) -> usize {
        self.at + HEADER_LEN
    }

    fn end(&self) -> usize {
        self.data_at() + self.length
    }
}

fn fw_header(data: &[u8], at: usize) -> Option<FwHeader> {
    let h = bytes::slice(data, at, HEADER_LEN)?;
    if bytes::be32(h, 0)? != 0x1012_2003 {
        return None;
    }
    Some(FwHeader {
        at,
        target: bytes::be32(h, 4)?,
        version: bytes::be32(h, 0x0c)?,
        length: bytes::be32(h, 0x10)? as usize,
        checksum: bytes::be32(h, 0x18)?,
        ty: bytes::be32(h, 0x1c)?,
    })
}

/// The root header and the headers below it. A nested header's children follow its slot; any
/// other header is followed by its data.
fn headers(data: &[u8]) -> Option<(FwHeader, Vec<FwHeader>)> {
    let root = fw_header(data, 0)?;
    let mut subs = Vec::new();
    if root.target == NESTED {
        let mut at = HEADER_LEN;
        while subs.len() < MAX_HEADERS {
            let Some(h) = fw_header(data, at) else { break };
            subs.push(h);
            at = if h.target == NESTED { h.data_at() } else { h.end() };
        }
        if subs.is_empty() {
            return None;
        }
    } else if root.length == 0 || root.end() > data.len() {
        return None;
    }
    Some((root, subs))
}

/// A file record found in a de-obfuscated record list.
struct Record {
    name: Vec<u8>,
    /// Where the file's data lies in the list.
    at: usize,
    len: usize,
}

/// The records of a list; problems go to `notes`.
fn records(list: &[u8], notes: &mut Vec<String>, base: usize, what: &str) -> Vec<Record> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while out.len() < MAX_RECORDS {
        let Some(r) = bytes::slice(list, pos, RECORD_LEN) else {
            if pos < list.len() {
                notes.push(format!(
                    "{what}: record at {:#x} is cut ({} of {RECORD_LEN} header bytes)",
                    base + pos,
                    list.len() - pos
                ));
            }
            break;
        };
        let magic = bytes::be32(r, 0).unwrap_or(0);
        let next = bytes::be32(r, 4).unwrap_or(0) as usize;
        let len = bytes::be32(r, 0x28).unwrap_or(0) as usize;
        if len == 0 {
            // The terminating record.
            break;
        }
        if magic != RECORD_MAGIC {
            notes.push(format!(
                "{what}: no file record at {:#x} (magic {magic:#010x}); the list ends there",
                base + pos
            ));
            break;
        }
        let at = pos + RECORD_LEN;
        let have = list.len().saturating_sub(at).min(len);
        let name = bytes::cstr(&r[8..0x28]).to_vec();
        if have < len {
            notes.push(format!(
                "{what}: file `{}` at {:#x} is cut: {have} of {len} bytes present",
                probity_model::text::escape(&name),
                base + at
            ));
        }
        out.push(Record { name, at, len: have });
        if next < RECORD_LEN {
            notes.push(format!(
                "{what}: record at {:#x} gives an impossible offset {next:#x} to the next one; the list ends there",
                base + pos
            ));
            break;
        }
        match pos.checked_add(next) {
            Some(p) => pos = p,
            None => break,
        }
    }
    out
}

fn byte_sum(data: &[u8]) -> u32 {
    data.iter().fold(0u32, |s, &b| s.wrapping_add(u32::from(b)))
}

fn target_name(t: u32) -> String {
    if t == NESTED {
        "0x10 (nested)".to_string()
    } else {
        format!("{t:#x}")
    }
}

impl Format for Bosch {
    fn name(&self) -> &'static str {
        "bosch-fw"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let (root, subs) = headers(data)?;
        let end = subs.iter().map(FwHeader::end).max().unwrap_or(root.end());
        Some(Probe {
            length: Some(end as u64),
            confidence: if subs.is_empty() { 50 } else { 85 },
            description: format!(
                "Bosch firmware, version {:#x}, target {}, {} sub-header(s)",
                root.version,
                target_name(root.target),
                subs.len()
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let (root, subs) = headers(data).ok_or_else(|| FormatError::invalid("bad Bosch firmware header"))?;
        let end = subs.iter().map(FwHeader::end).max().unwrap_or(root.end());
        let used = end.min(data.len());
        if used < end {
            out.note(format!("image cut: {used} of {end} bytes present"));
        }

        // Checksums: zero means not set.
        let (mut set, mut bad) = (0, 0);
        for h in std::iter::once(&root).chain(&subs) {
            if h.checksum == 0 {
                continue;
            }
            set += 1;
            let (range, what) = if h.at == 0 {
                (HEADER_LEN..used, "everything after it")
            } else {
                (h.data_at()..h.end().min(used), "its data")
            };
            let calc = byte_sum(data.get(range).unwrap_or_default());
            if calc != h.checksum {
                bad += 1;
                out.note(format!(
                    "header at {:#x}: checksum mismatch: stored {:#010x}, computed {calc:#010x} (byte sum of {what})",
                    h.at, h.checksum
                ));
            }
        }

        let mut notes = Vec::new();
        let mut count = 0;
        let lists: Vec<FwHeader> = if subs.is_empty() {
            vec![root]
        } else {
            subs.iter().copied().filter(|h| h.target != NESTED).collect()
        };
        for h in &lists {
            out.check_time()?;
            let Some(raw) = data.get(h.data_at()..h.end().min(used)) else {
                continue;
            };
            let plain: Vec<u8> = raw.iter().map(|b| b ^ XOR).collect();
            if bytes::be32(&plain, 0) != Some(RECORD_MAGIC) {
                notes.push(format!(
                    "header at {:#x} (target {:#x}, type {:#x}): its {} data bytes are not a list of file records (encrypted or unknown); kept as stored",
                    h.at,
                    h.target,
                    h.ty,
                    raw.len()
                ));
                out.region(
                    Entry::file(format!("/data-{:#x}.bin", h.at).into_bytes()),
                    h.data_at() as u64,
                    raw.len() as u64,
                );
                continue;
            }
            let what = format!("header at {:#x}", h.at);
            for r in records(&plain, &mut notes, h.data_at(), &what) {
                count += 1;
                let content = plain.get(r.at..r.at + r.len).unwrap_or_default();
                let name = [b"/".as_slice(), &r.name].concat();
                if r.name.starts_with(b"RomFS.bin") && bytes::be32(content, 0) == Some(RECORD_MAGIC) {
                    let inner_what = format!("{} in {what}", probity_model::text::escape(&r.name));
                    let inner = records(content, &mut notes, h.data_at() + r.at, &inner_what);
                    out.entry(Entry {
                        member: Some(name.clone()),
                        kind: Some(ArtifactKind::Directory),
                        ..Entry::default()
                    });
                    for f in inner {
                        count += 1;
                        let child = [name.as_slice(), b"/", &f.name].concat();
                        if out.wants(&child) {
                            let bytes = content.get(f.at..f.at + f.len).unwrap_or_default().to_vec();
                            out.file(Entry::file(child), bytes)?;
                        }
                    }
                } else if out.wants(&name) {
                    out.file(Entry::file(name), content.to_vec())?;
                }
            }
        }
        for n in notes {
            out.note(n);
        }

        let verdict = if set == 0 {
            "checksums not set".to_string()
        } else if bad == 0 {
            out.verified();
            format!("byte-sum checksum verified on {set} header(s)")
        } else {
            format!("checksum mismatch on {bad} of {set} header(s)")
        };
        out.describe(format!(
            "Bosch firmware, version {:#x}, target {}, {} sub-header(s), {count} file(s); {verdict}",
            root.version,
            target_name(root.target),
            subs.len()
        ));
        Ok(used as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{ChildData, Spool};
    use crate::limits::Limits;

    fn fw_header(target: u32, length: usize, checksum: u32) -> Vec<u8> {
        let mut h = vec![0u8; HEADER_LEN];
        h[..4].copy_from_slice(&0x1012_2003u32.to_be_bytes());
        h[4..8].copy_from_slice(&target.to_be_bytes());
        h[0x0c..0x10].copy_from_slice(&0x632u32.to_be_bytes());
        h[0x10..0x14].copy_from_slice(&(length as u32).to_be_bytes());
        h[0x18..0x1c].copy_from_slice(&checksum.to_be_bytes());
        h[0x1c..0x20].copy_from_slice(&0x16u32.to_be_bytes());
        h
    }

    fn record(name: &[u8], content: &[u8]) -> Vec<u8> {
        let mut r = vec![0u8; RECORD_LEN];
        r[..4].copy_from_slice(&RECORD_MAGIC.to_be_bytes());
        r[4..8].copy_from_slice(&((RECORD_LEN + content.len()) as u32).to_be_bytes());
        r[8..8 + name.len()].copy_from_slice(name);
        r[0x28..0x2c].copy_from_slice(&(content.len() as u32).to_be_bytes());
        r.extend_from_slice(content);
        r
    }

    /// A nested image with one sub-header holding `records` (plus the terminator).
    fn image(records: &[Vec<u8>], checksum: bool) -> Vec<u8> {
        let mut list: Vec<u8> = records.concat();
        list.extend_from_slice(&[0u8; RECORD_LEN]);
        let data: Vec<u8> = list.iter().map(|b| b ^ XOR).collect();
        let sum = if checksum { byte_sum(&data) } else { 0 };
        let mut d = fw_header(NESTED, data.len() + 0x40, 0);
        d.extend_from_slice(&fw_header(0x999, data.len(), sum));
        d.extend_from_slice(&data);
        if checksum {
            let all = byte_sum(&d[HEADER_LEN..]);
            d[0x18..0x1c].copy_from_slice(&all.to_be_bytes());
        }
        d
    }

    /// Bytes used, members, notes, description, verified.
    type Outcome = (u64, Vec<(Vec<u8>, Option<Vec<u8>>)>, Vec<String>, String, bool);

    fn run(data: &[u8]) -> Outcome {
        let limits = Limits::default();
        let spool = Spool::temporary().unwrap();
        let mut x = Extractor::new(&limits, &spool, data.len() as u64, 1 << 30);
        let used = Bosch.extract(data, &mut x).unwrap();
        let verified = x.is_verified();
        let (children, notes, desc, _) = x.into_parts();
        let files = children
            .iter()
            .map(|c| {
                let content = match &c.data {
                    ChildData::Bytes(b) => Some(b.to_vec()),
                    ChildData::None => None,
                    _ => panic!("unexpected member data"),
                };
                (c.entry.member.clone().unwrap(), content)
            })
            .collect();
        (used, files, notes, desc, verified)
    }

    #[test]
    fn files_and_checksums_not_set() {
        let d = image(
            &[
                record(b"test_file_1.txt", b"this is a test file!\n"),
                record(b"b", b"xyz"),
            ],
            false,
        );
        assert_eq!(Bosch.probe(&d).unwrap().length, Some(d.len() as u64));
        let (used, files, notes, desc, verified) = run(&d);
        assert_eq!(used, d.len() as u64);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(!verified);
        assert!(
            desc.ends_with("1 sub-header(s), 2 file(s); checksums not set"),
            "{desc}"
        );
        assert_eq!(
            files,
            vec![
                (
                    b"/test_file_1.txt".to_vec(),
                    Some(b"this is a test file!\n".to_vec())
                ),
                (b"/b".to_vec(), Some(b"xyz".to_vec())),
            ]
        );
    }

    #[test]
    fn checksums_verified_and_mismatch() {
        let d = image(&[record(b"a", b"abc")], true);
        let (_, files, notes, desc, verified) = run(&d);
        assert!(verified, "{notes:?}");
        assert!(
            desc.ends_with("byte-sum checksum verified on 2 header(s)"),
            "{desc}"
        );
        assert_eq!(files.len(), 1);
        let mut bad = d;
        bad[0x800 + RECORD_LEN] ^= 0x01; // a byte of the file: both sums change
        let (_, files, notes, _, verified) = run(&bad);
        assert!(!verified);
        assert_eq!(files.len(), 1);
        assert_eq!(notes.len(), 2);
        assert!(
            notes[0].starts_with("header at 0x0: checksum mismatch"),
            "{notes:?}"
        );
    }

    #[test]
    fn nested_romfs() {
        let inner = [record(b"etc/passwd", b"root::0:0"), record(b"x", b"1")].concat();
        let mut romfs = inner;
        romfs.extend_from_slice(&[0u8; RECORD_LEN]);
        let d = image(&[record(b"RomFS.bin", &romfs), record(b"after", b"z")], false);
        let (_, files, notes, desc, _) = run(&d);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(desc.contains("4 file(s)"), "{desc}");
        assert_eq!(
            files,
            vec![
                (b"/RomFS.bin".to_vec(), None),
                (b"/RomFS.bin/etc/passwd".to_vec(), Some(b"root::0:0".to_vec())),
                (b"/RomFS.bin/x".to_vec(), Some(b"1".to_vec())),
                (b"/after".to_vec(), Some(b"z".to_vec())),
            ]
        );
    }

    #[test]
    fn damaged_lists_are_notes() {
        let mut d = image(&[record(b"a", b"abc"), record(b"b", b"def")], false);
        // The second record's magic.
        let second = 0x800 + RECORD_LEN + 3;
        d[second] ^= 0xff;
        let (_, files, notes, _, _) = run(&d);
        assert_eq!(files.len(), 1);
        assert!(
            notes[0].starts_with("header at 0x400: no file record at 0x843"),
            "{notes:?}"
        );
        // A list cut inside a file.
        let d = image(&[record(b"a", b"abcdef")], false);
        let (used, files, notes, _, _) = run(&d[..0x800 + RECORD_LEN + 2]);
        assert_eq!(used, 0x842);
        assert_eq!(files, vec![(b"/a".to_vec(), Some(b"ab".to_vec()))]);
        assert!(notes[0].starts_with("image cut"), "{notes:?}");
        assert!(
            notes[1].contains("file `a` at 0x840 is cut: 2 of 6 bytes present"),
            "{notes:?}"
        );
    }

    #[test]
    fn refuses_garbage() {
        let d = image(&[record(b"a", b"abc")], false);
        for n in 0..0x800 {
            assert!(Bosch.probe(&d[..n]).is_none());
        }
        // A nested root without sub-headers; a plain root whose length runs past the end.
        let mut bad = d.clone();
        bad[0x400] = 0;
        assert!(Bosch.probe(&bad).is_none());
        let mut plain = fw_header(0x999, 100, 0);
        plain.extend_from_slice(&[0x42; 50]);
        assert!(Bosch.probe(&plain).is_none());
        plain.extend_from_slice(&[0x42; 50]);
        assert!(Bosch.probe(&plain).is_some());
    }
}
