//! Tenvis IP camera update packages ("PK2"). A 28-byte little-endian header (`PK2\0`, a camera
//! type, a creation time, a version, reserved bytes and the section count) is followed by
//! sections, each a 24-byte header (a type, `CMD` or `FILE`, the MD5 of the section's plain
//! content, and the payload size) and its payload. Payload data is obfuscated with a public
//! repeating 8-byte XOR key. A `CMD` section holds a shell command the camera runs during the
//! update; it becomes `/command-<n>.txt` in plain text. A `FILE` section holds a path, its length
//! and the file data; it becomes a member at its stored path. Every section's MD5 is verified; a
//! mismatch is reported, and a section cut short stops the parse with a note saying where,
//! keeping what was already parsed.

use md5::{Digest, Md5};

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The Tenvis PK2 format.
#[derive(Debug)]
pub struct TenvisPk2;

const MAGICS: &[Magic] = &[Magic::start(b"PK2\0")];
const HEADER_LEN: usize = 28;
const SECTION_HEADER_LEN: usize = 24;
/// More sections than this is not a real package.
const MAX_SECTIONS: u32 = 100_000;
/// The public XOR key of the Tenvis update tool.
const KEY: [u8; 8] = [0xa1, 0x83, 0x24, 0x78, 0xb3, 0x41, 0x43, 0x56];

fn unxor(data: &[u8]) -> Vec<u8> {
    data.iter().zip(KEY.iter().cycle()).map(|(b, k)| b ^ k).collect()
}

struct Header {
    camera: u32,
    time: u32,
    version: [u8; 4],
    count: u32,
}

fn parse(data: &[u8]) -> Option<Header> {
    if data.get(..4)? != b"PK2\0" {
        return None;
    }
    let count = bytes::le32(data, 24)?;
    // The first section must be one of the two known kinds.
    let first = bytes::slice(data, HEADER_LEN, 4)?;
    if count == 0 || count > MAX_SECTIONS || (first != b"CMD\0" && first != b"FILE") {
        return None;
    }
    Some(Header {
        camera: bytes::le32(data, 4)?,
        time: bytes::le32(data, 8)?,
        version: bytes::arr(data, 12)?,
        count,
    })
}

/// The end of the last complete section (walking the section headers only).
fn end(data: &[u8], count: u32) -> usize {
    let mut at = HEADER_LEN;
    for _ in 0..count {
        let Some(size) = bytes::le32(data, at + 20) else {
            break;
        };
        match (at + SECTION_HEADER_LEN).checked_add(size as usize) {
            Some(next) if next <= data.len() => at = next,
            _ => break,
        }
    }
    at
}

/// `YYYY-MM-DD hh:mm:ss` (UTC) for a Unix time.
fn date(t: u32) -> String {
    let days = i64::from(t / 86400);
    let secs = t % 86400;
    // Days since 1970-01-01 to a civil date (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Format for TenvisPk2 {
    fn name(&self) -> &'static str {
        "tenvis-pk2"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let h = parse(data)?;
        Some(Probe {
            length: Some(end(data, h.count) as u64),
            confidence: 80,
            description: format!(
                "Tenvis PK2 update package, camera type {}, created {} UTC, {} section(s)",
                h.camera,
                date(h.time),
                h.count
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let h = parse(data).ok_or_else(|| FormatError::invalid("bad PK2 header"))?;
        let mut at = HEADER_LEN;
        let (mut commands, mut files, mut md5_ok, mut md5_bad, mut parsed) = (0, 0, 0, 0, 0);
        let mut problem = false;
        for n in 1..=h.count {
            out.check_time()?;
            let Some(head) = bytes::slice(data, at, SECTION_HEADER_LEN) else {
                out.note(format!(
                    "section {n} at offset {at}: header cut ({} of {SECTION_HEADER_LEN} bytes present); {} of {} sections not parsed",
                    data.len().saturating_sub(at),
                    h.count - n + 1,
                    h.count
                ));
                problem = true;
                // The cut section runs to the end of the data.
                at = data.len();
                break;
            };
            let kind = bytes::cstr(&head[..4]).to_vec();
            let label = probity_model::text::escape(&kind);
            let stored = &head[4..20];
            let size = bytes::le32(head, 20).unwrap_or(0) as usize;
            let payload_at = at + SECTION_HEADER_LEN;
            let Some(payload) = bytes::slice(data, payload_at, size) else {
                out.note(format!(
                    "error while parsing section {n} ({label}) at offset {at}: its payload at offset {payload_at} declares {size} bytes, but only {} remain; {} of {} sections not parsed",
                    data.len().saturating_sub(payload_at),
                    h.count - n + 1,
                    h.count
                ));
                problem = true;
                at = data.len();
                break;
            };
            // The plain content (what the MD5 covers) and the member it makes.
            let member = match kind.as_slice() {
                b"CMD" => {
                    commands += 1;
                    let plain = unxor(payload);
                    let mut text = plain.clone();
                    while text.last() == Some(&0) {
                        text.pop();
                    }
                    Some((plain, format!("/command-{commands}.txt").into_bytes(), text))
                }
                b"FILE" => match file(payload) {
                    Some((plain, path, content)) => {
                        files += 1;
                        let name = if path.starts_with(b"/") {
                            path
                        } else if path.is_empty() {
                            format!("/file-{files}").into_bytes()
                        } else {
                            [b"/".as_slice(), &path].concat()
                        };
                        Some((plain, name, content))
                    }
                    None => {
                        out.note(format!(
                            "section {n} (FILE) at offset {at}: the payload of {size} bytes does not hold a path and file data"
                        ));
                        problem = true;
                        None
                    }
                },
                _ => {
                    out.note(format!(
                        "section {n} at offset {at} has the unknown type `{label}`; skipped"
                    ));
                    problem = true;
                    None
                }
            };
            if let Some((plain, name, content)) = member {
                let calc = Md5::digest(&plain);
                if calc.as_slice() == stored {
                    md5_ok += 1;
                } else {
                    md5_bad += 1;
                    out.note(format!(
                        "section {n} ({label}) at offset {at}: MD5 mismatch: stored {}, computed {}",
                        hex(stored),
                        hex(&calc)
                    ));
                }
                if out.wants(&name) {
                    out.file(Entry::file(name), content)?;
                }
            }
            parsed += 1;
            at = payload_at + size;
        }
        let verdict = if md5_bad > 0 {
            format!("MD5 mismatch on {md5_bad} section(s)")
        } else if md5_ok > 0 {
            format!("MD5 verified on {md5_ok} section(s)")
        } else {
            "no section checked".to_string()
        };
        out.describe(format!(
            "Tenvis PK2 update package, camera type {}, created {} UTC, version {}, {} section(s) \
             ({parsed} parsed: {commands} command(s), {files} file(s)); {verdict}",
            h.camera,
            date(h.time),
            h.version.map(|b| b.to_string()).join("."),
            h.count
        ));
        if md5_bad == 0 && md5_ok > 0 && !problem {
            out.verified();
        }
        Ok(at as u64)
    }
}

/// A FILE payload: (the content the MD5 covers, the stored path, the file data).
fn file(payload: &[u8]) -> Option<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    let name_len = bytes::le32(payload, 0)? as usize;
    let name = bytes::slice(payload, 4, name_len)?;
    let data_at = 4usize.checked_add(name_len)?;
    let data_len = bytes::le32(payload, data_at)? as usize;
    let enc = bytes::slice(payload, data_at + 4, data_len)?;
    let content = unxor(enc);
    let mut plain = payload.get(..data_at + 4)?.to_vec();
    plain.extend_from_slice(&content);
    Some((plain, bytes::cstr(name).to_vec(), content))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{ChildData, Spool};
    use crate::limits::Limits;

    fn section(kind: &[u8; 4], plain: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut s = kind.to_vec();
        s.extend_from_slice(&Md5::digest(plain));
        s.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        s.extend_from_slice(payload);
        s
    }

    fn cmd(text: &[u8]) -> Vec<u8> {
        section(b"CMD\0", text, &unxor(text))
    }

    fn file_section(path: &[u8], content: &[u8]) -> Vec<u8> {
        let mut head = (path.len() as u32).to_le_bytes().to_vec();
        head.extend_from_slice(path);
        head.extend_from_slice(&(content.len() as u32).to_le_bytes());
        let mut plain = head.clone();
        plain.extend_from_slice(content);
        let mut payload = head;
        payload.extend_from_slice(&unxor(content));
        section(b"FILE", &plain, &payload)
    }

    fn package(sections: &[Vec<u8>]) -> Vec<u8> {
        let mut d = b"PK2\0".to_vec();
        d.extend_from_slice(&1234u32.to_le_bytes());
        d.extend_from_slice(&1_723_465_583u32.to_le_bytes());
        d.extend_from_slice(&[1, 2, 0, 0]);
        d.extend_from_slice(&[0; 8]);
        d.extend_from_slice(&(sections.len() as u32).to_le_bytes());
        for s in sections {
            d.extend_from_slice(s);
        }
        d
    }

    /// Bytes used, members, notes, description, verified.
    type Outcome = (u64, Vec<(Vec<u8>, Vec<u8>)>, Vec<String>, String, bool);

    fn run(data: &[u8]) -> Outcome {
        let limits = Limits::default();
        let spool = Spool::temporary().unwrap();
        let mut x = Extractor::new(&limits, &spool, data.len() as u64, 1 << 30);
        let used = TenvisPk2.extract(data, &mut x).unwrap();
        let verified = x.is_verified();
        let (children, notes, desc, _) = x.into_parts();
        let files = children
            .iter()
            .map(|c| match &c.data {
                ChildData::Bytes(b) => (c.entry.member.clone().unwrap(), b.to_vec()),
                _ => panic!("not in memory"),
            })
            .collect();
        (used, files, notes, desc, verified)
    }

    fn sample() -> Vec<u8> {
        package(&[
            cmd(b"echo \"foobar\"\n\0"),
            file_section(b"/foo\0", b"foobar\n"),
            file_section(b"bar\0", b"test\n1234\n"),
        ])
    }

    #[test]
    fn commands_and_files() {
        let d = sample();
        assert_eq!(TenvisPk2.probe(&d).unwrap().length, Some(d.len() as u64));
        let (used, files, notes, desc, verified) = run(&d);
        assert_eq!(used, d.len() as u64);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(verified);
        assert_eq!(
            desc,
            "Tenvis PK2 update package, camera type 1234, created 2024-08-12 12:26:23 UTC, version 1.2.0.0, \
             3 section(s) (3 parsed: 1 command(s), 2 file(s)); MD5 verified on 3 section(s)"
        );
        assert_eq!(
            files,
            vec![
                (b"/command-1.txt".to_vec(), b"echo \"foobar\"\n".to_vec()),
                (b"/foo".to_vec(), b"foobar\n".to_vec()),
                (b"/bar".to_vec(), b"test\n1234\n".to_vec()),
            ]
        );
    }

    #[test]
    fn md5_mismatch_is_a_note() {
        let mut d = sample();
        d[28 + 4] ^= 1; // the command's stored MD5
        let (_, files, notes, desc, verified) = run(&d);
        assert!(!verified);
        assert_eq!(files.len(), 3);
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].starts_with("section 1 (CMD) at offset 28: MD5 mismatch: stored"),
            "{notes:?}"
        );
        assert!(desc.ends_with("MD5 mismatch on 1 section(s)"));
    }

    #[test]
    fn cut_section_keeps_what_was_parsed() {
        // Like FACT's broken.pk2: the data ends inside the second section's payload.
        let d = sample();
        let (used, files, notes, _, verified) = run(&d[..100]);
        assert_eq!(used, 100);
        assert!(!verified);
        assert_eq!(
            files,
            vec![(b"/command-1.txt".to_vec(), b"echo \"foobar\"\n".to_vec())]
        );
        assert_eq!(
            notes,
            vec![
                "error while parsing section 2 (FILE) at offset 67: its payload at offset 91 declares 20 bytes, \
                 but only 9 remain; 2 of 3 sections not parsed"
                    .to_string()
            ]
        );
    }

    #[test]
    fn refuses_garbage() {
        let d = sample();
        for n in 0..32 {
            assert!(TenvisPk2.probe(&d[..n]).is_none());
        }
        let mut bad = d.clone();
        bad[28..32].copy_from_slice(b"XYZ\0");
        assert!(TenvisPk2.probe(&bad).is_none());
        let mut bad = d;
        bad[24..28].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(TenvisPk2.probe(&bad).is_none());
        // A FILE payload whose lengths run past it is a note, not a panic.
        let mut s = b"FILE".to_vec();
        s.extend_from_slice(&[0; 16]);
        s.extend_from_slice(&8u32.to_le_bytes());
        s.extend_from_slice(&u32::MAX.to_le_bytes());
        s.extend_from_slice(&[0; 4]);
        let (_, files, notes, _, _) = run(&package(&[s]));
        assert!(files.is_empty());
        assert!(
            notes[0].contains("does not hold a path and file data"),
            "{notes:?}"
        );
    }
}
