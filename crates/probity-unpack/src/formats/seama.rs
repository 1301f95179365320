//! D-Link SEAMA images (D-Link's `seama` tool, OpenWrt's `oseama`): an *entity* is a 28-byte
//! big-endian header (magic `0x5EA3A417`, a reserved zero half-word, the size of the metadata, the
//! size of the data, and the MD5 of the data), NUL-separated `key=value` metadata strings, then
//! the data. A *seal* is a 12-byte header of the same kind without the MD5 and with a data size of
//! zero, its own metadata (typically `signature=<device>`), and the entities back to back.
//!
//! binwalk calls a seal with exactly one entity "DLOB" (the layout of most D-Link images); that
//! case is left to [`crate::formats::dlob`], so this module takes single entities and seals of
//! two or more entities. The MD5 of each entity is checked when extracting.

use md5::{Digest, Md5};

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The SEAMA format.
#[derive(Debug)]
pub struct Seama;

/// The magic, big-endian.
pub(crate) const MAGIC: [u8; 4] = [0x5e, 0xa3, 0xa4, 0x17];
const MAGICS: &[Magic] = &[Magic::start(&MAGIC)];

/// The size of a seal header.
pub(crate) const SEAL_LEN: usize = 12;
/// The size of an entity header.
pub(crate) const ENTITY_LEN: usize = 28;
/// How many entities a seal may hold before the walk stops.
const MAX_ENTITIES: usize = 64;
/// How much of the metadata goes into a description.
const META_SHOWN: usize = 160;

/// One SEAMA entity, with offsets relative to the start of the data it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entity {
    /// Where its header starts.
    pub(crate) at: usize,
    /// Its metadata (`key=value` strings separated by NULs, NUL-padded).
    pub(crate) meta: Vec<u8>,
    /// Where its data starts.
    pub(crate) data_at: usize,
    /// The size of its data.
    pub(crate) size: u32,
    /// The MD5 the header stores.
    pub(crate) md5: [u8; 16],
}

impl Entity {
    /// Where the entity ends according to its header.
    pub(crate) fn end(&self) -> u64 {
        self.data_at as u64 + u64::from(self.size)
    }

    /// Whether its data is all present.
    pub(crate) fn complete(&self, data: &[u8]) -> bool {
        self.end() <= data.len() as u64
    }
}

/// Whether `meta` looks like SEAMA metadata: empty, or printable ASCII strings separated and
/// padded by NULs with at least one `key=value`.
pub(crate) fn plausible_meta(meta: &[u8]) -> bool {
    meta.is_empty()
        || (meta
            .iter()
            .all(|&b| b == 0 || (0x20..0x7f).contains(&b) || b"\t\r\n".contains(&b))
            && meta.contains(&b'=')
            && meta.first() != Some(&0))
}

/// The metadata as one line: the strings joined with `; `, escaped, shortened.
pub(crate) fn meta_summary(meta: &[u8]) -> String {
    let strings: Vec<String> = meta
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(probity_model::text::escape)
        .collect();
    let joined = strings.join("; ");
    if joined.chars().count() > META_SHOWN {
        let cut: String = joined.chars().take(META_SHOWN).collect();
        format!("{cut}…")
    } else {
        joined
    }
}

/// A header's common fields at `at`: the metadata size and the data size, if the magic and the
/// reserved half-word are right.
fn common(data: &[u8], at: usize) -> Option<(usize, u32)> {
    if bytes::arr::<4>(data, at)? != MAGIC || bytes::be16(data, at.checked_add(4)?)? != 0 {
        return None;
    }
    let meta_len = usize::from(bytes::be16(data, at.checked_add(6)?)?);
    let size = bytes::be32(data, at.checked_add(8)?)?;
    Some((meta_len, size))
}

/// The seal header at the start of `data`: its metadata and where the first entity starts.
pub(crate) fn seal(data: &[u8]) -> Option<(Vec<u8>, usize)> {
    let (meta_len, size) = common(data, 0)?;
    if size != 0 {
        return None;
    }
    let meta = bytes::slice(data, SEAL_LEN, meta_len)?;
    plausible_meta(meta).then(|| (meta.to_vec(), SEAL_LEN + meta_len))
}

/// The entity whose header starts at `at` (its data may run past the end of `data`).
pub(crate) fn entity(data: &[u8], at: usize) -> Option<Entity> {
    let (meta_len, size) = common(data, at)?;
    if size == 0 {
        return None;
    }
    let meta_at = at.checked_add(ENTITY_LEN)?;
    let meta = bytes::slice(data, meta_at, meta_len)?;
    if !plausible_meta(meta) {
        return None;
    }
    Some(Entity {
        at,
        meta: meta.to_vec(),
        data_at: meta_at + meta_len,
        size,
        md5: bytes::arr(data, at.checked_add(12)?)?,
    })
}

/// The entities that follow each other from `at`: the walk stops at the first place that does not
/// hold an entity header, after an entity cut by the end of the data, or after `MAX_ENTITIES`.
pub(crate) fn entities(data: &[u8], at: usize) -> Vec<Entity> {
    let mut out = Vec::new();
    let mut at = at;
    while out.len() < MAX_ENTITIES {
        let Some(e) = entity(data, at) else { break };
        let complete = e.complete(data);
        let Ok(next) = usize::try_from(e.end()) else {
            out.push(e);
            break;
        };
        out.push(e);
        if !complete {
            break;
        }
        at = next;
    }
    out
}

/// Checks the MD5 of each entity and records its data as a member named by `name(index)`.
/// Returns whether every entity was complete and matched, and a verdict per entity.
pub(crate) fn extract_entities(
    data: &[u8],
    list: &[Entity],
    name: impl Fn(usize) -> String,
    out: &mut Extractor<'_>,
) -> Result<(bool, Vec<String>), FormatError> {
    let mut all_ok = true;
    let mut verdicts = Vec::new();
    for (i, e) in list.iter().enumerate() {
        out.check_time()?;
        let member = name(i);
        let avail = (data.len() as u64)
            .saturating_sub(e.data_at as u64)
            .min(u64::from(e.size));
        if avail > 0 {
            out.region(Entry::file(member.as_bytes()), e.data_at as u64, avail);
        }
        let Some(body) = bytes::slice(data, e.data_at, e.size as usize) else {
            all_ok = false;
            verdicts.push(format!("{member} truncated"));
            out.note(format!(
                "{member} ({} bytes at {:#x}) is cut by the end of the data: {avail} bytes present; its MD5 was not checked",
                e.size, e.data_at
            ));
            continue;
        };
        let computed: [u8; 16] = Md5::digest(body).into();
        if computed == e.md5 {
            verdicts.push(format!("{member} MD5 verified"));
        } else {
            all_ok = false;
            verdicts.push(format!("{member} MD5 mismatch"));
            out.note(format!(
                "{member}: MD5 mismatch: stored {}, computed {}",
                probity_model::hex::encode(&e.md5),
                probity_model::hex::encode(&computed)
            ));
        }
    }
    Ok((all_ok, verdicts))
}

/// What the header at the start of `data` is, as far as this module is concerned.
enum Layout {
    /// A lone entity.
    Entity(Entity),
    /// A seal: its metadata and two or more entities.
    Seal(Vec<u8>, Vec<Entity>),
}

fn parse(data: &[u8]) -> Option<Layout> {
    if let Some((meta, first)) = seal(data) {
        let list = entities(data, first);
        // One entity is the DLOB layout (see dlob.rs); none is not a seal.
        return (list.len() >= 2).then_some(Layout::Seal(meta, list));
    }
    let e = entity(data, 0)?;
    // A lone entity needs all its data (its header alone is too weak a sign).
    e.complete(data).then_some(Layout::Entity(e))
}

fn describe(layout: &Layout, verdicts: &[String]) -> String {
    let tail = if verdicts.is_empty() {
        String::new()
    } else {
        format!(", {}", verdicts.join(", "))
    };
    match layout {
        Layout::Entity(e) => format!(
            "D-Link SEAMA entity, {} bytes of data, meta `{}`{tail}",
            e.size,
            meta_summary(&e.meta)
        ),
        Layout::Seal(meta, list) => format!(
            "D-Link SEAMA seal, meta `{}`, {} entities ({}){tail}",
            meta_summary(meta),
            list.len(),
            list.iter()
                .map(|e| format!("{} bytes, `{}`", e.size, meta_summary(&e.meta)))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

fn end(layout: &Layout) -> u64 {
    match layout {
        Layout::Entity(e) => e.end(),
        Layout::Seal(_, list) => list.last().map_or(SEAL_LEN as u64, Entity::end),
    }
}

impl Format for Seama {
    fn name(&self) -> &'static str {
        "seama"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let layout = parse(data)?;
        let complete = match &layout {
            Layout::Entity(e) => e.complete(data),
            Layout::Seal(_, list) => list.iter().all(|e| e.complete(data)),
        };
        Some(Probe {
            length: Some(end(&layout)),
            // The MD5 covers the data, so it is checked when extracting.
            confidence: if complete { 80 } else { 60 },
            description: describe(&layout, &[]),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let layout = parse(data).ok_or_else(|| FormatError::invalid("bad SEAMA header"))?;
        let (ok, verdicts) = match &layout {
            Layout::Entity(e) => {
                extract_entities(data, std::slice::from_ref(e), |_| "/image".to_string(), out)?
            }
            Layout::Seal(_, list) => extract_entities(data, list, |i| format!("/image{i}"), out)?,
        };
        out.describe(describe(&layout, &verdicts));
        if ok {
            out.verified();
        }
        Ok(end(&layout).min(data.len() as u64))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::Seama;
    use crate::extract::{ChildData, Extractor, Spool};
    use crate::format::Format;

    /// MD5 values computed with Python's hashlib.
    pub(crate) const MD5_FIRMWARE: [u8; 16] = [
        0x2f, 0x24, 0x51, 0xe5, 0xb3, 0x82, 0x29, 0x7d, 0x6f, 0xb5, 0x7e, 0xfa, 0x42, 0x95, 0x97, 0x14,
    ];
    pub(crate) const MD5_SECOND: [u8; 16] = [
        0xf2, 0x78, 0x40, 0xf6, 0x73, 0x5f, 0x1b, 0xb3, 0xe4, 0xfa, 0x59, 0x9f, 0x91, 0xdd, 0x82, 0x28,
    ];

    /// Metadata strings NUL-terminated and padded to 4 bytes, as `oseama` writes them.
    pub(crate) fn meta(strings: &[&str]) -> Vec<u8> {
        let mut m = Vec::new();
        for s in strings {
            m.extend_from_slice(s.as_bytes());
            m.push(0);
            while m.len() % 4 != 0 {
                m.push(0);
            }
        }
        m
    }

    pub(crate) fn entity(meta: &[u8], data: &[u8], md5: [u8; 16]) -> Vec<u8> {
        let mut d = super::MAGIC.to_vec();
        d.extend_from_slice(&0u16.to_be_bytes());
        d.extend_from_slice(&(meta.len() as u16).to_be_bytes());
        d.extend_from_slice(&(data.len() as u32).to_be_bytes());
        d.extend_from_slice(&md5);
        d.extend_from_slice(meta);
        d.extend_from_slice(data);
        d
    }

    pub(crate) fn seal(meta: &[u8], entities: &[Vec<u8>]) -> Vec<u8> {
        let mut d = super::MAGIC.to_vec();
        d.extend_from_slice(&0u16.to_be_bytes());
        d.extend_from_slice(&(meta.len() as u16).to_be_bytes());
        d.extend_from_slice(&0u32.to_be_bytes());
        d.extend_from_slice(meta);
        for e in entities {
            d.extend_from_slice(e);
        }
        d
    }

    /// Runs the format `name` (probe and extract, with the invariants the fuzz targets check) on
    /// every truncation of `good`, on `good` with each of its first 512 bytes changed, and on
    /// pseudo-random multi-byte mutations: nothing may panic or break the invariants.
    pub(crate) fn mutations_are_harmless(name: &str, good: &[u8]) {
        for n in 0..good.len() {
            crate::fuzzing::run_format(name, &good[..n]);
        }
        for i in 0..good.len().min(512) {
            for v in [0x00, 0xff, good[i] ^ 0x01, good[i].wrapping_add(0x80)] {
                let mut d = good.to_vec();
                d[i] = v;
                crate::fuzzing::run_format(name, &d);
            }
        }
        let mut state = 0x2545_f491u32;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        for _ in 0..500 {
            let mut d = good.to_vec();
            for _ in 0..1 + next() % 4 {
                let i = next() as usize % d.len().max(1);
                if let Some(b) = d.get_mut(i) {
                    *b = next() as u8;
                }
            }
            let cut = d.len() - next() as usize % (d.len() / 4 + 1);
            crate::fuzzing::run_format(name, &d[..cut]);
        }
    }

    pub(crate) type Run = (u64, Vec<(Vec<u8>, u64, u64)>, Vec<String>, String, bool);

    /// (consumed, (member path, member bytes) for members that are ranges of the input or decoded
    /// bytes, notes, description, verified).
    pub(crate) type MemberRun = (u64, Vec<(Vec<u8>, Vec<u8>)>, Vec<String>, String, bool);

    /// Extracts `d` as `f` with default limits and returns every member's bytes; a member
    /// delivered any other way (spooled, streamed) fails the test.
    pub(crate) fn run_members(f: &dyn Format, d: &[u8]) -> MemberRun {
        let limits = crate::limits::Limits::default();
        let spool = Spool::temporary().unwrap();
        let mut x = Extractor::new(&limits, &spool, d.len() as u64, 1 << 30);
        let used = f.extract(d, &mut x).unwrap();
        let verified = x.is_verified();
        let (children, notes, description, _) = x.into_parts();
        let members = children
            .into_iter()
            .map(|c| {
                let bytes = match c.data {
                    ChildData::Bytes(b) => b.to_vec(),
                    ChildData::Region { offset, length } => {
                        d[offset as usize..(offset + length) as usize].to_vec()
                    }
                    other => panic!("unexpected member data {other:?}"),
                };
                (c.entry.member.unwrap(), bytes)
            })
            .collect();
        (used, members, notes, description, verified)
    }

    pub(crate) fn run(f: &dyn Format, d: &[u8]) -> Run {
        let limits = crate::limits::Limits::default();
        let spool = Spool::temporary().unwrap();
        let mut x = Extractor::new(&limits, &spool, d.len() as u64, 1 << 30);
        let used = f.extract(d, &mut x).unwrap();
        let verified = x.is_verified();
        let (children, notes, description, _) = x.into_parts();
        let members = children
            .iter()
            .map(|c| match c.data {
                ChildData::Region { offset, length } => (c.entry.member.clone().unwrap(), offset, length),
                _ => panic!("not a region"),
            })
            .collect();
        (used, members, notes, description, verified)
    }

    #[test]
    fn md5_of_test_data_matches_independent_values() {
        use md5::{Digest, Md5};
        let a: [u8; 16] = Md5::digest(b"firmware image data").into();
        assert_eq!(a, MD5_FIRMWARE);
        let b: [u8; 16] = Md5::digest(b"second entity").into();
        assert_eq!(b, MD5_SECOND);
    }

    #[test]
    fn lone_entity() {
        let m = meta(&["dev=/dev/mtdblock/2", "type=firmware"]);
        assert_eq!(m.len(), 20 + 16);
        let d = entity(&m, b"firmware image data", MD5_FIRMWARE);
        let p = Seama.probe(&d).unwrap();
        assert_eq!(p.length, Some(28 + 36 + 19));
        assert_eq!(
            p.description,
            "D-Link SEAMA entity, 19 bytes of data, meta `dev=/dev/mtdblock/2; type=firmware`"
        );
        let (used, members, notes, desc, verified) = run(&Seama, &d);
        assert_eq!(used, d.len() as u64);
        assert_eq!(members, vec![(b"/image".to_vec(), 64, 19)]);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(verified);
        assert!(desc.ends_with(", /image MD5 verified"), "{desc}");
    }

    #[test]
    fn seal_of_two_entities() {
        let e0 = entity(
            &meta(&["dev=/dev/mtdblock/2"]),
            b"firmware image data",
            MD5_FIRMWARE,
        );
        let e1 = entity(&meta(&["type=config"]), b"second entity", MD5_SECOND);
        let d = seal(
            &meta(&["signature=wrgac25_dlink.2013gui_dir850l"]),
            &[e0.clone(), e1],
        );
        let p = Seama.probe(&d).unwrap();
        assert_eq!(p.length, Some(d.len() as u64));
        assert!(
            p.description.starts_with(
                "D-Link SEAMA seal, meta `signature=wrgac25_dlink.2013gui_dir850l`, 2 entities (19 bytes, `dev=/dev/mtdblock/2`; 13 bytes, `type=config`)"
            ),
            "{}",
            p.description
        );
        let (used, members, notes, desc, verified) = run(&Seama, &d);
        assert_eq!(used, d.len() as u64);
        let first = 12 + 40 + 28 + 20;
        let second = first + 19 + 28 + 12;
        assert_eq!(
            members,
            vec![
                (b"/image0".to_vec(), first as u64, 19),
                (b"/image1".to_vec(), second as u64, 13)
            ]
        );
        assert!(notes.is_empty(), "{notes:?}");
        assert!(verified);
        assert!(
            desc.ends_with("/image0 MD5 verified, /image1 MD5 verified"),
            "{desc}"
        );
        // A seal with one entity is DLOB's, not this format's.
        let one = seal(&meta(&["signature=x"]), &[e0]);
        assert!(Seama.probe(&one).is_none());
        assert!(crate::formats::dlob::Dlob.probe(&one).is_some());
    }

    #[test]
    fn md5_mismatch_and_truncation_are_reported() {
        let mut d = entity(&meta(&["type=firmware"]), b"firmware image data", MD5_FIRMWARE);
        let last = d.len() - 1;
        d[last] ^= 0x20;
        let (_, members, notes, desc, verified) = run(&Seama, &d);
        assert_eq!(members.len(), 1);
        assert!(!verified);
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].starts_with("/image: MD5 mismatch: stored 2f2451e5b382297d6fb57efa42959714, computed "),
            "{notes:?}"
        );
        assert!(desc.ends_with("/image MD5 mismatch"));
        // A seal whose second entity is cut: recognised, the cut part kept with a note.
        let e0 = entity(&meta(&["a=b"]), b"firmware image data", MD5_FIRMWARE);
        let e1 = entity(&meta(&["c=d"]), b"second entity", MD5_SECOND);
        let full = seal(&meta(&["signature=x"]), &[e0, e1]);
        let cut = &full[..full.len() - 5];
        let p = Seama.probe(cut).unwrap();
        assert_eq!(p.confidence, 60);
        let (used, members, notes, _, verified) = run(&Seama, cut);
        assert_eq!(used, cut.len() as u64);
        assert_eq!(members.len(), 2);
        assert_eq!(members[1].2, 8);
        assert!(!verified);
        assert_eq!(notes.len(), 1, "{notes:?}");
    }

    #[test]
    fn garbage_is_refused() {
        let good = entity(&meta(&["type=firmware"]), b"firmware image data", MD5_FIRMWARE);
        for n in 0..good.len() {
            // A lone entity needs all its data.
            assert!(Seama.probe(&good[..n]).is_none(), "{n}");
        }
        // Reserved half-word set, metadata that is not text, metadata without `=`.
        let mut d = good.clone();
        d[5] = 1;
        assert!(Seama.probe(&d).is_none());
        let d = entity(b"\x01\x02\x03\x04", b"x", [0; 16]);
        assert!(Seama.probe(&d).is_none());
        let d = entity(b"abcd", b"x", [0; 16]);
        assert!(Seama.probe(&d).is_none());
        // A seal header followed by nothing, or by garbage.
        let d = seal(&meta(&["signature=x"]), &[]);
        assert!(Seama.probe(&d).is_none());
        let d = seal(&meta(&["signature=x"]), &[vec![0xff; 64]]);
        assert!(Seama.probe(&d).is_none());
        // A huge data size is not allocated.
        let mut d = good;
        d[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(Seama.probe(&d).is_none());
        let mut state = 0x9e37_79b9u32;
        for _ in 0..200 {
            let mut d = super::MAGIC.to_vec();
            for _ in 0..100 {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                d.push((state >> 16) as u8);
            }
            assert!(Seama.probe(&d).is_none());
        }
    }

    #[test]
    fn mutated_images_are_harmless() {
        let e0 = entity(
            &meta(&["dev=/dev/mtdblock/2"]),
            b"firmware image data",
            MD5_FIRMWARE,
        );
        let e1 = entity(&meta(&["type=config"]), b"second entity", MD5_SECOND);
        mutations_are_harmless("seama", &e0);
        mutations_are_harmless("seama", &seal(&meta(&["signature=x"]), &[e0, e1]));
    }

    #[test]
    fn long_metadata_is_escaped_and_shortened() {
        let long = format!("key={}\u{1b}", "v".repeat(300));
        let s = super::meta_summary(long.as_bytes());
        assert!(s.ends_with('…'));
        assert_eq!(s.chars().count(), 161);
        assert_eq!(super::meta_summary(b"a=\\b\0c=d\0\0"), "a=\\\\b; c=d");
    }
}
