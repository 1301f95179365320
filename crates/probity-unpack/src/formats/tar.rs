//! tar archives: POSIX ustar, GNU (long names and links, base-256 sizes) and pax extended headers.
//! Each header's checksum is verified; the archive ends at two zero blocks or at the first block
//! that is not a valid header.

use probity_model::ArtifactKind;

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};
use crate::formats::paths::normalise;

/// The tar format.
#[derive(Debug)]
pub struct Tar;

const MAGICS: &[Magic] = &[Magic {
    bytes: b"ustar",
    at: 257,
}];
const BLOCK: usize = 512;
const RECORD: usize = 20 * BLOCK;

fn octal(field: &[u8]) -> Option<u64> {
    // GNU base-256: the high bit of the first byte set, the rest big-endian binary.
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let mut v: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            v = v.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(v);
    }
    let text = std::str::from_utf8(field)
        .ok()?
        .trim_matches(|c: char| c == '\0' || c == ' ');
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

fn checksum_ok(h: &[u8]) -> bool {
    let Some(stored) = h.get(148..156).and_then(octal) else {
        return false;
    };
    let sum: u64 = h
        .iter()
        .enumerate()
        .map(|(i, &b)| if (148..156).contains(&i) { 32 } else { u64::from(b) })
        .sum();
    sum == stored
}

/// A pax record value for `key` in an extended header body.
fn pax(body: &[u8], key: &[u8]) -> Option<Vec<u8>> {
    let mut rest = body;
    while !rest.is_empty() {
        let sp = rest.iter().position(|&b| b == b' ')?;
        let len: usize = std::str::from_utf8(&rest[..sp]).ok()?.parse().ok()?;
        let record = rest.get(..len)?;
        let kv = record.get(sp + 1..len.checked_sub(1)?)?;
        if let Some(eq) = kv.iter().position(|&b| b == b'=')
            && &kv[..eq] == key
        {
            return Some(kv[eq + 1..].to_vec());
        }
        rest = &rest[len..];
    }
    None
}

impl Format for Tar {
    fn name(&self) -> &'static str {
        "tar"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let h = bytes::slice(data, 0, BLOCK)?;
        checksum_ok(h).then(|| Probe {
            length: None,
            confidence: 95,
            description: if &h[257..263] == b"ustar\0" {
                "tar (POSIX ustar)".into()
            } else {
                "tar (GNU)".into()
            },
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        if let Some(p) = self.probe(data) {
            out.describe(p.description);
        }
        let mut at = 0usize;
        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        let mut pax_path: Option<Vec<u8>> = None;
        let mut pax_link: Option<Vec<u8>> = None;
        let mut pax_size: Option<u64> = None;
        let mut count = 0;
        loop {
            out.check_time()?;
            let Some(h) = bytes::slice(data, at, BLOCK) else {
                out.note(format!("archive truncated at {at:#x}"));
                at = data.len();
                break;
            };
            if h.iter().all(|&b| b == 0) {
                // End of archive: zero blocks, up to the end of the 10 KiB record tar pads to.
                let record_end = (at / RECORD + 1) * RECORD;
                at += BLOCK;
                while at < record_end
                    && bytes::slice(data, at, BLOCK).is_some_and(|b| b.iter().all(|&x| x == 0))
                {
                    at += BLOCK;
                }
                break;
            }
            if !checksum_ok(h) {
                if count == 0 {
                    return Err(FormatError::invalid("bad tar header checksum"));
                }
                out.note(format!("header checksum mismatch at {at:#x}; archive ends there"));
                break;
            }
            count += 1;
            let size = pax_size
                .take()
                .or_else(|| octal(&h[124..136]))
                .ok_or_else(|| FormatError::invalid("bad size field"))?;
            let typeflag = h[156];
            let body_at = at + BLOCK;
            let Some(next) = usize::try_from(size)
                .ok()
                .and_then(|s| body_at.checked_add(s.div_ceil(BLOCK) * BLOCK))
            else {
                return Err(FormatError::invalid("entry size out of range"));
            };
            let body = data
                .get(body_at..body_at.saturating_add(size as usize).min(data.len()))
                .unwrap_or_default();
            match typeflag {
                b'L' => {
                    long_name = Some(bytes::cstr(body).to_vec());
                    at = next;
                    continue;
                }
                b'K' => {
                    long_link = Some(bytes::cstr(body).to_vec());
                    at = next;
                    continue;
                }
                b'x' => {
                    pax_path = pax(body, b"path");
                    pax_link = pax(body, b"linkpath");
                    pax_size = pax(body, b"size").and_then(|v| std::str::from_utf8(&v).ok()?.parse().ok());
                    at = next;
                    continue;
                }
                b'g' | b'V' => {
                    at = next;
                    continue;
                }
                _ => {}
            }
            let mut name = bytes::cstr(&h[0..100]).to_vec();
            if &h[257..262] == b"ustar" {
                let prefix = bytes::cstr(&h[345..500]);
                if !prefix.is_empty() && &h[257..263] == b"ustar\0" {
                    name = [prefix, b"/", &name].concat();
                }
            }
            let name = pax_path.take().or(long_name.take()).unwrap_or(name);
            let link = pax_link
                .take()
                .or(long_link.take())
                .unwrap_or_else(|| bytes::cstr(&h[157..257]).to_vec());
            let path = normalise(&name);
            let mode = octal(&h[100..108]).unwrap_or(0) as u32;
            let uid = octal(&h[108..116]).unwrap_or(0) as u32;
            let gid = octal(&h[116..124]).unwrap_or(0) as u32;
            let (kind, type_bits) = match typeflag {
                b'0' | b'\0' | b'7' | b'S' => (ArtifactKind::File, 0o100000),
                b'1' => (ArtifactKind::Hardlink, 0o100000),
                b'2' => (ArtifactKind::Symlink, 0o120000),
                b'3' => (ArtifactKind::CharDevice, 0o020000),
                b'4' => (ArtifactKind::BlockDevice, 0o060000),
                b'5' => (ArtifactKind::Directory, 0o040000),
                b'6' => (ArtifactKind::Fifo, 0o010000),
                other => {
                    out.note(format!(
                        "entry of unknown type {:?} at {at:#x}, kept as a file",
                        char::from(other)
                    ));
                    (ArtifactKind::File, 0o100000)
                }
            };
            let mut entry = Entry {
                member: Some(path.clone()),
                kind: Some(kind),
                ..Entry::default()
            }
            .with_owner(type_bits | (mode & 0o7777), uid, gid);
            match kind {
                ArtifactKind::File => {
                    if typeflag == b'S' {
                        out.note(format!(
                            "`{}` is a GNU sparse file; its stored data is kept without the holes",
                            probity_model::text::escape(&path)
                        ));
                    }
                    if (body.len() as u64) < size {
                        out.note(format!(
                            "`{}` is truncated: {} of {size} bytes present",
                            probity_model::text::escape(&path),
                            body.len()
                        ));
                    }
                    if out.wants(&path) {
                        out.region(entry, body_at as u64, body.len() as u64);
                    } else {
                        out.entry(entry);
                    }
                }
                ArtifactKind::Hardlink => {
                    entry.link_target = Some(normalise(&link));
                    out.entry(entry);
                }
                ArtifactKind::Symlink => {
                    entry.link_target = Some(link);
                    out.entry(entry);
                }
                ArtifactKind::CharDevice | ArtifactKind::BlockDevice => {
                    entry.device = Some((
                        octal(&h[329..337]).unwrap_or(0) as u32,
                        octal(&h[337..345]).unwrap_or(0) as u32,
                    ));
                    out.entry(entry);
                }
                _ => out.entry(entry),
            }
            at = next;
        }
        Ok(at.min(data.len()) as u64)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn octal_fields() {
        assert_eq!(super::octal(b"0000644\0"), Some(0o644));
        assert_eq!(super::octal(b"        "), Some(0));
        assert_eq!(
            super::octal(&[0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]),
            Some(1 << 32)
        );
        assert_eq!(super::octal(b"9"), None);
        assert_eq!(
            super::pax(b"20 path=/etc/passwd\n", b"path"),
            Some(b"/etc/passwd".to_vec())
        );
        assert_eq!(super::pax(b"99 path=x\n", b"path"), None);
    }
}
