//! cpio archives in all four encodings: `newc` (070701), `crc` (070702), portable ASCII `odc`
//! (070707), and the old binary format in either byte order. Hard links stored the `newc` way
//! (data only with the last link) are recorded as links to the member that has the data.

use std::collections::HashMap;

use probity_model::ArtifactKind;

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};
use crate::formats::paths::{kind_of_mode, normalise};

/// The cpio format.
#[derive(Debug)]
pub struct Cpio;

const MAGICS: &[Magic] = &[
    Magic::start(b"070701"),
    Magic::start(b"070702"),
    Magic::start(b"070707"),
    Magic::start(b"\xc7\x71"),
    Magic::start(b"\x71\xc7"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Newc,
    Odc,
    BinLe,
    BinBe,
}

struct Header {
    ino: u64,
    mode: u32,
    uid: u32,
    gid: u32,
    nlink: u32,
    rdev: (u32, u32),
    name: Vec<u8>,
    size: u64,
    data_at: usize,
    next: usize,
}

fn hex(field: &[u8]) -> Option<u64> {
    u64::from_str_radix(std::str::from_utf8(field).ok()?, 16).ok()
}

fn oct(field: &[u8]) -> Option<u64> {
    u64::from_str_radix(std::str::from_utf8(field).ok()?.trim_end_matches(['\0', ' ']), 8).ok()
}

fn kind(data: &[u8]) -> Option<Kind> {
    match data.get(..6)? {
        b"070701" | b"070702" => Some(Kind::Newc),
        b"070707" => Some(Kind::Odc),
        _ => match data.get(..2)? {
            b"\xc7\x71" => Some(Kind::BinLe),
            b"\x71\xc7" => Some(Kind::BinBe),
            _ => None,
        },
    }
}

fn align(n: usize, to: usize) -> usize {
    n.div_ceil(to) * to
}

fn header(data: &[u8], at: usize, k: Kind) -> Option<Header> {
    let h = data.get(at..)?;
    match k {
        Kind::Newc => {
            let f = |i: usize| hex(h.get(6 + i * 8..14 + i * 8)?);
            let namesize = f(11)? as usize;
            let size = f(6)?;
            if namesize == 0 || namesize > 4096 {
                return None;
            }
            let name = h.get(110..110 + namesize - 1)?.to_vec();
            let data_at = at + align(110 + namesize, 4);
            let next = data_at.checked_add(align(usize::try_from(size).ok()?, 4))?;
            Some(Header {
                ino: f(0)?,
                mode: f(1)? as u32,
                uid: f(2)? as u32,
                gid: f(3)? as u32,
                nlink: f(4)? as u32,
                rdev: (f(9)? as u32, f(10)? as u32),
                name,
                size,
                data_at,
                next,
            })
        }
        Kind::Odc => {
            let namesize = oct(h.get(59..65)?)? as usize;
            let size = oct(h.get(65..76)?)?;
            if namesize == 0 || namesize > 4096 {
                return None;
            }
            let rdev = oct(h.get(42..48)?)? as u32;
            let data_at = at + 76 + namesize;
            Some(Header {
                ino: oct(h.get(12..18)?)?,
                mode: oct(h.get(18..24)?)? as u32,
                uid: oct(h.get(24..30)?)? as u32,
                gid: oct(h.get(30..36)?)? as u32,
                nlink: oct(h.get(36..42)?)? as u32,
                rdev: ((rdev >> 8) & 0xff, rdev & 0xff),
                name: h.get(76..76 + namesize - 1)?.to_vec(),
                size,
                data_at,
                next: data_at.checked_add(usize::try_from(size).ok()?)?,
            })
        }
        Kind::BinLe | Kind::BinBe => {
            let w = |i: usize| {
                if k == Kind::BinLe {
                    bytes::le16(h, i * 2)
                } else {
                    bytes::be16(h, i * 2)
                }
            };
            // Words: magic, dev, ino, mode, uid, gid, nlink, rdev, mtime (2), namesize,
            // filesize (2, high word first).
            let namesize = usize::from(w(10)?);
            let size = (u64::from(w(11)?) << 16) | u64::from(w(12)?);
            if namesize == 0 {
                return None;
            }
            let rdev = u32::from(w(7)?);
            let data_at = at + align(26 + namesize, 2);
            Some(Header {
                ino: u64::from(w(2)?),
                mode: u32::from(w(3)?),
                uid: u32::from(w(4)?),
                gid: u32::from(w(5)?),
                nlink: u32::from(w(6)?),
                rdev: ((rdev >> 8) & 0xff, rdev & 0xff),
                name: h.get(26..26 + namesize - 1)?.to_vec(),
                size,
                data_at,
                next: data_at.checked_add(align(usize::try_from(size).ok()?, 2))?,
            })
        }
    }
}

impl Format for Cpio {
    fn name(&self) -> &'static str {
        "cpio"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let k = kind(data)?;
        // The binary magics are two bytes and the ASCII ones six: insist on sane entries, and for
        // the binary format on a second header (or the trailer) where the first entry ends.
        let sane = |h: &Header| {
            !h.name.is_empty()
                && h.name.len() < 1024
                && h.name.iter().all(|&b| b >= 0x20 && b != 0x7f)
                && matches!(
                    h.mode & 0o170000,
                    0o100000 | 0o040000 | 0o120000 | 0o020000 | 0o060000 | 0o010000 | 0o140000
                )
                && h.size < 1 << 32
        };
        let h = header(data, 0, k)?;
        if !sane(&h) {
            return None;
        }
        if matches!(k, Kind::BinLe | Kind::BinBe) && h.name != b"TRAILER!!!" {
            let rest = data.get(h.next..)?;
            let next = header(rest, 0, k)?;
            if kind(rest) != Some(k) || !(next.name == b"TRAILER!!!" || sane(&next)) {
                return None;
            }
        }
        let name = match k {
            Kind::Newc => "cpio (newc)",
            Kind::Odc => "cpio (odc)",
            Kind::BinLe => "cpio (old binary, little endian)",
            Kind::BinBe => "cpio (old binary, big endian)",
        };
        Some(Probe {
            length: None,
            confidence: if matches!(k, Kind::Newc | Kind::Odc) {
                85
            } else {
                50
            },
            description: name.into(),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let k = kind(data).ok_or_else(|| FormatError::invalid("not a cpio archive"))?;
        if let Some(p) = self.probe(data) {
            out.describe(p.description);
        }
        let mut at = 0usize;
        let mut count = 0usize;
        // newc hard links: (inode) -> path of the member that carries the data.
        let mut links: HashMap<u64, Vec<u8>> = HashMap::new();
        let mut pending: Vec<(u64, Entry)> = Vec::new();
        loop {
            out.check_time()?;
            let Some(h) = header(data, at, k) else {
                if count == 0 {
                    return Err(FormatError::invalid("bad cpio header"));
                }
                out.note(format!("archive ends without a trailer at {at:#x}"));
                break;
            };
            if h.name == b"TRAILER!!!" {
                at = h.next.min(data.len());
                // The cpio tool pads archives with zeros to a multiple of 512 bytes.
                let padded = (at.div_ceil(512) * 512).min(data.len());
                if data.get(at..padded).is_some_and(|p| p.iter().all(|&b| b == 0)) {
                    at = padded;
                }
                break;
            }
            count += 1;
            let path = normalise(&h.name);
            let kind = kind_of_mode(h.mode);
            let mut entry = Entry {
                member: Some(path.clone()),
                kind: Some(kind),
                ..Entry::default()
            }
            .with_owner(h.mode, h.uid, h.gid);
            let body = data.get(h.data_at..h.data_at.saturating_add(h.size as usize));
            if body.is_none() {
                out.note(format!("`{}` is truncated", probity_model::text::escape(&path)));
            }
            let body = body.unwrap_or_else(|| data.get(h.data_at..).unwrap_or_default());
            match kind {
                ArtifactKind::File if h.size == 0 && h.nlink > 1 && k == Kind::Newc => {
                    pending.push((h.ino, entry))
                }
                ArtifactKind::File => {
                    if h.nlink > 1 {
                        links.insert(h.ino, path.clone());
                    }
                    if out.wants(&path) {
                        // A body cut off by the end of the data starts at most there.
                        out.region(entry, h.data_at.min(data.len()) as u64, body.len() as u64);
                    } else {
                        out.entry(entry);
                    }
                }
                ArtifactKind::Symlink => {
                    entry.link_target = Some(body.to_vec());
                    out.entry(entry);
                }
                ArtifactKind::CharDevice | ArtifactKind::BlockDevice => {
                    entry.device = Some(h.rdev);
                    out.entry(entry);
                }
                _ => out.entry(entry),
            }
            if h.next <= at {
                return Err(FormatError::invalid("cpio entry does not advance"));
            }
            at = h.next;
            if at >= data.len() {
                out.note("archive ends without a trailer");
                at = data.len();
                break;
            }
        }
        for (ino, mut entry) in pending {
            match links.get(&ino) {
                Some(target) => {
                    entry.kind = Some(ArtifactKind::Hardlink);
                    entry.link_target = Some(target.clone());
                    out.entry(entry);
                }
                None => out.region(entry, 0, 0),
            }
        }
        Ok(at as u64)
    }
}
