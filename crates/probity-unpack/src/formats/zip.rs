//! ZIP archives. Members are read through the central directory when it is there (with zip64
//! sizes and offsets, and archives embedded at an offset), and recovered from the local headers
//! when it is not (a truncated download still yields its complete members). Stored, deflate,
//! bzip2, LZMA, zstd and xz members are decoded; encrypted members are recorded without data.

use std::io::Read;

use probity_model::ArtifactKind;

use crate::extract::{Counting, Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};
use crate::formats::paths::{kind_of_mode, normalise};

/// The ZIP format.
#[derive(Debug)]
pub struct Zip;

const MAGICS: &[Magic] = &[Magic::start(b"PK\x03\x04"), Magic::start(DAHUA)];
const LOCAL: &[u8] = b"PK\x03\x04";
/// Dahua firmware is a ZIP whose first local header says `DH` instead of `PK`.
const DAHUA: &[u8] = b"DH\x03\x04";

/// Whether a local file header starts at `at` (the first one may carry Dahua's magic).
fn is_local(data: &[u8], at: usize) -> bool {
    bytes::slice(data, at, 4).is_some_and(|m| m == LOCAL || (at == 0 && m == DAHUA))
}
const CENTRAL: &[u8] = b"PK\x01\x02";
const END: &[u8] = b"PK\x05\x06";
const END64_LOCATOR: &[u8] = b"PK\x06\x07";

#[derive(Debug, Clone)]
struct Member {
    name: Vec<u8>,
    flags: u16,
    method: u16,
    csize: u64,
    usize: u64,
    local: u64,
    mode: Option<u32>,
}

fn local_data_start(data: &[u8], at: usize) -> Option<usize> {
    if !is_local(data, at) {
        return None;
    }
    let n = usize::from(bytes::le16(data, at + 26)?);
    let e = usize::from(bytes::le16(data, at + 28)?);
    Some(at + 30 + n + e)
}

/// zip64 extra field: the 64-bit values that replace 0xffffffff ones, in order.
fn zip64(extra: &[u8], m: &mut Member, had_usize: bool, had_csize: bool, had_local: bool) {
    let mut p = 0;
    while let (Some(id), Some(len)) = (bytes::le16(extra, p), bytes::le16(extra, p + 2)) {
        let body = bytes::slice(extra, p + 4, usize::from(len)).unwrap_or_default();
        if id == 1 {
            let mut q = 0;
            let mut next = || {
                let v = bytes::le64(body, q);
                q += 8;
                v
            };
            if had_usize {
                m.usize = next().unwrap_or(m.usize);
            }
            if had_csize {
                m.csize = next().unwrap_or(m.csize);
            }
            if had_local {
                m.local = next().unwrap_or(m.local);
            }
        }
        p += 4 + usize::from(len);
    }
}

/// Upper bound on end-of-central-directory candidates examined, so that a hostile file costs little.
const MAX_EOCD_CANDIDATES: usize = 4096;

/// The central directory of the archive whose first local header is at the start of `data`:
/// (members, end of the archive relative to `data`), or `None`.
///
/// Archives are often concatenated (a vendor image made of one ZIP per directory, an archive
/// followed by another): the directory that belongs to this archive is the first one whose
/// members start at this archive's first local header. When none does (offsets that are neither
/// relative to this archive nor consistently shifted), the last directory with members is used, as
/// readers that look only at the end of a file do.
fn central(data: &[u8]) -> Option<(Vec<Member>, usize)> {
    let mut fallback = None;
    for eocd in memchr::memmem::find_iter(data, END).take(MAX_EOCD_CANDIDATES) {
        let Some((members, end)) = central_at(data, eocd) else {
            continue;
        };
        if members.iter().map(|m| m.local).min() == Some(0) {
            return Some((members, end));
        }
        if !members.is_empty() {
            fallback = Some((members, end));
        }
    }
    fallback
}

/// The central directory described by the end record at `eocd`.
fn central_at(data: &[u8], eocd: usize) -> Option<(Vec<Member>, usize)> {
    let entries = usize::from(bytes::le16(data, eocd + 10)?);
    let mut cd_size = u64::from(bytes::le32(data, eocd + 12)?);
    let mut cd_off = u64::from(bytes::le32(data, eocd + 16)?);
    let comment = usize::from(bytes::le16(data, eocd + 20)?);
    let mut count = entries as u64;
    if cd_off == 0xffff_ffff || entries == 0xffff {
        let loc = eocd.checked_sub(20)?;
        if bytes::slice(data, loc, 4)? == END64_LOCATOR {
            let rec = usize::try_from(bytes::le64(data, loc + 8)?).ok()?;
            count = bytes::le64(data, rec + 32)?;
            cd_size = bytes::le64(data, rec + 40)?;
            cd_off = bytes::le64(data, rec + 48)?;
        }
    }
    // Offsets are relative to the archive's start; if the archive is embedded (or prefixed, as
    // self-extracting archives are), the directory is not where the offset says: shift.
    let cd_at = (eocd as u64).checked_sub(cd_size)?;
    let shift = cd_at as i64 - cd_off as i64;
    let mut members = Vec::new();
    let mut p = usize::try_from(cd_at).ok()?;
    for _ in 0..count.min(1 << 20) {
        if bytes::slice(data, p, 4)? != CENTRAL {
            break;
        }
        let made_by_unix = bytes::le16(data, p + 4)? >> 8 == 3;
        let n = usize::from(bytes::le16(data, p + 28)?);
        let e = usize::from(bytes::le16(data, p + 30)?);
        let c = usize::from(bytes::le16(data, p + 32)?);
        let ext = bytes::le32(data, p + 38)?;
        let mut m = Member {
            name: bytes::slice(data, p + 46, n)?.to_vec(),
            flags: bytes::le16(data, p + 8)?,
            method: bytes::le16(data, p + 10)?,
            csize: u64::from(bytes::le32(data, p + 20)?),
            usize: u64::from(bytes::le32(data, p + 24)?),
            local: u64::from(bytes::le32(data, p + 42)?),
            mode: (made_by_unix && ext >> 16 != 0).then_some(ext >> 16),
        };
        let (hu, hc, hl) = (
            m.usize == 0xffff_ffff,
            m.csize == 0xffff_ffff,
            m.local == 0xffff_ffff,
        );
        if hu || hc || hl {
            zip64(
                bytes::slice(data, p + 46 + n, e).unwrap_or_default(),
                &mut m,
                hu,
                hc,
                hl,
            );
        }
        m.local = u64::try_from(m.local as i64 + shift).ok()?;
        members.push(m);
        p += 46 + n + e + c;
    }
    Some((members, eocd + 22 + comment))
}

/// Members recovered from local headers alone (no usable central directory).
fn scan_local(data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
    let mut at = 0usize;
    let mut count = 0;
    while is_local(data, at) {
        out.check_time()?;
        let flags = bytes::le16(data, at + 6).unwrap_or(0);
        let m = Member {
            name: bytes::slice(
                data,
                at + 30,
                usize::from(bytes::le16(data, at + 26).unwrap_or(0)),
            )
            .unwrap_or_default()
            .to_vec(),
            flags,
            method: bytes::le16(data, at + 8).unwrap_or(0),
            csize: u64::from(bytes::le32(data, at + 18).unwrap_or(0)),
            usize: u64::from(bytes::le32(data, at + 22).unwrap_or(0)),
            local: at as u64,
            mode: None,
        };
        count += 1;
        let start =
            local_data_start(data, at).ok_or_else(|| FormatError::invalid("truncated local header"))?;
        let used = member(data, &m, start, out)?;
        let Some(used) = used else { break };
        at = start + used;
        if flags & 0x08 != 0 {
            // Data descriptor, with or without its signature.
            at += if bytes::slice(data, at, 4) == Some(b"PK\x07\x08") {
                16
            } else {
                12
            };
        }
    }
    if count == 0 {
        return Err(FormatError::invalid("no local file header"));
    }
    out.note("no central directory: members recovered from their local headers");
    Ok(at.min(data.len()) as u64)
}

/// Extracts one member whose data starts at `start`; returns the compressed length it used, or
/// `None` when the member can not be delimited (recovery stops there).
fn member(
    data: &[u8],
    m: &Member,
    start: usize,
    out: &mut Extractor<'_>,
) -> Result<Option<usize>, FormatError> {
    let path = normalise(&m.name);
    let is_dir = m.name.ends_with(b"/");
    let mode = m.mode.unwrap_or(if is_dir { 0o040755 } else { 0o100644 });
    let kind = if is_dir {
        ArtifactKind::Directory
    } else {
        kind_of_mode(mode)
    };
    let entry = Entry {
        member: Some(path.clone()),
        kind: Some(kind),
        mode: Some(mode),
        ..Entry::default()
    };
    let shown = probity_model::text::escape(&path);
    if kind == ArtifactKind::Directory {
        out.entry(entry);
        return Ok(Some(0));
    }
    let known = m.flags & 0x08 == 0 || m.csize > 0;
    let raw = if known {
        data.get(start..start.saturating_add(m.csize as usize))
    } else {
        data.get(start..)
    };
    let Some(raw) = raw else {
        out.note(format!("`{shown}` is truncated"));
        return Ok(None);
    };
    if m.flags & 0x01 != 0 {
        out.note(format!("`{shown}` is encrypted; recorded without its content"));
        out.entry(Entry {
            kind: Some(ArtifactKind::File),
            ..entry
        });
        return Ok(known.then_some(raw.len()));
    }
    if kind == ArtifactKind::Symlink {
        out.entry(Entry {
            link_target: Some(raw.to_vec()),
            ..entry
        });
        return Ok(Some(raw.len()));
    }
    if !out.wants(&path) {
        out.entry(entry);
        return Ok(known.then_some(raw.len()));
    }
    let used = match m.method {
        0 if known => {
            out.region(entry, start as u64, raw.len() as u64);
            raw.len()
        }
        8 => {
            let (input, pos) = Counting::new(raw);
            let mut dec = flate2::bufread::DeflateDecoder::new(input);
            if let Err(e) = out.stream(entry, &mut dec, &|| pos.get()) {
                match e {
                    FormatError::Limit(_) => out.settle(Err(e))?,
                    _ => out.note(format!("`{shown}`: {e}")),
                }
            }
            pos.get() as usize
        }
        12 => decode(out, entry, &shown, bzip2::read::BzDecoder::new(raw), raw.len())?,
        93 => match ruzstd::decoding::StreamingDecoder::new(raw) {
            Ok(d) => decode(out, entry, &shown, d, raw.len())?,
            Err(e) => {
                out.note(format!("`{shown}`: bad zstd data: {e}"));
                raw.len()
            }
        },
        14 | 95 => {
            let consumed = if m.method == 14 {
                // 2-byte version, 2-byte properties size, properties (5 bytes), raw LZMA.
                let plen = usize::from(bytes::le16(raw, 2).unwrap_or(5));
                match (raw.get(4), bytes::le32(raw, 5)) {
                    (Some(&props), Some(dict)) => {
                        let size = (m.flags & 0x02 == 0).then_some(m.usize);
                        crate::formats::lzma::decode_raw(
                            raw.get(4 + plen..).unwrap_or_default(),
                            props,
                            dict,
                            size,
                            out,
                            entry,
                        )
                        .map(|c| c as usize + 4 + plen)
                    }
                    _ => Err(FormatError::invalid("short LZMA member header")),
                }
            } else {
                let mut s = lzma_rust2::XzStream::new(false);
                crate::formats::lzma::pump(raw, out, entry, |i, o, a| {
                    s.process(i, o, a).map(|r| {
                        (
                            r.bytes_consumed,
                            r.bytes_produced,
                            r.status == lzma_rust2::Status::StreamEnd,
                        )
                    })
                })
                .map(|c| c as usize)
            };
            match consumed {
                Ok(c) => c,
                Err(e @ FormatError::Limit(_)) => {
                    out.settle(Err(e))?;
                    raw.len()
                }
                Err(e) => {
                    out.note(format!("`{shown}`: {e}"));
                    raw.len()
                }
            }
        }
        other => {
            out.note(format!(
                "`{shown}` uses compression method {other}, which is not supported; recorded without content"
            ));
            out.entry(Entry {
                kind: Some(ArtifactKind::File),
                ..entry
            });
            raw.len()
        }
    };
    Ok(Some(if known { raw.len() } else { used }))
}

fn decode(
    out: &mut Extractor<'_>,
    entry: Entry,
    shown: &str,
    mut r: impl Read,
    len: usize,
) -> Result<usize, FormatError> {
    let consumed = len as u64;
    if let Err(e) = out.stream(entry, &mut r, &|| consumed) {
        match e {
            FormatError::Limit(_) => out.settle(Err(e))?,
            _ => out.note(format!("`{shown}`: {e}")),
        }
    }
    Ok(len)
}

impl Format for Zip {
    fn name(&self) -> &'static str {
        "zip"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        // The low byte of "version needed" is the specification version; some tools put the
        // host system in the high byte.
        let version = *data.get(4)?;
        let method = bytes::le16(data, 8)?;
        let n = bytes::le16(data, 26)?;
        if version > 100 || !matches!(method, 0 | 1 | 6 | 8 | 9 | 12 | 14 | 93 | 95 | 98 | 99) || n == 0 {
            return None;
        }
        // Dahua's altered magic alone proves little: its archive must end in a central directory.
        if data.starts_with(DAHUA) && central(data).is_none_or(|(m, _)| m.is_empty()) {
            return None;
        }
        Some(Probe {
            length: None,
            confidence: 75,
            description: "ZIP archive".into(),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        out.describe(if data.starts_with(DAHUA) {
            "ZIP archive (Dahua: the first local header's magic is `DH`)"
        } else {
            "ZIP archive"
        });
        let Some((members, end)) = central(data) else {
            return scan_local(data, out);
        };
        if members.is_empty() {
            return scan_local(data, out);
        }
        for m in &members {
            out.check_time()?;
            if out.done() {
                break;
            }
            let Some(start) = usize::try_from(m.local)
                .ok()
                .and_then(|l| local_data_start(data, l))
            else {
                out.note(format!(
                    "`{}`: local header missing",
                    probity_model::text::escape(&m.name)
                ));
                continue;
            };
            member(data, m, start, out)?;
        }
        Ok(end.min(data.len()) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::central;

    /// A ZIP archive of stored members, built by hand: local headers, central directory, end.
    fn stored(members: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut z = Vec::new();
        let mut dir = Vec::new();
        for (name, body) in members {
            let crc = crc32fast::hash(body);
            let local = z.len() as u32;
            z.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
            z.extend_from_slice(&crc.to_le_bytes());
            z.extend_from_slice(&(body.len() as u32).to_le_bytes());
            z.extend_from_slice(&(body.len() as u32).to_le_bytes());
            z.extend_from_slice(&(name.len() as u16).to_le_bytes());
            z.extend_from_slice(&[0, 0]);
            z.extend_from_slice(name);
            z.extend_from_slice(body);
            dir.extend_from_slice(b"PK\x01\x02\x14\x03\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
            dir.extend_from_slice(&crc.to_le_bytes());
            dir.extend_from_slice(&(body.len() as u32).to_le_bytes());
            dir.extend_from_slice(&(body.len() as u32).to_le_bytes());
            dir.extend_from_slice(&(name.len() as u16).to_le_bytes());
            dir.extend_from_slice(&[0; 12]);
            dir.extend_from_slice(&local.to_le_bytes());
            dir.extend_from_slice(name);
        }
        let cd_off = z.len() as u32;
        z.extend_from_slice(&dir);
        z.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00");
        z.extend_from_slice(&(members.len() as u16).to_le_bytes());
        z.extend_from_slice(&(members.len() as u16).to_le_bytes());
        z.extend_from_slice(&(dir.len() as u32).to_le_bytes());
        z.extend_from_slice(&cd_off.to_le_bytes());
        z.extend_from_slice(&[0, 0]);
        z
    }

    #[test]
    fn concatenated_archives_each_keep_their_own_directory() {
        let first = stored(&[(b"a.txt", b"alpha"), (b"b.txt", b"beta")]);
        let second = stored(&[(b"c.txt", b"gamma")]);
        let mut data = first.clone();
        data.extend_from_slice(b"vendor header between archives");
        data.extend_from_slice(&second);
        let (members, end) = central(&data).expect("first directory");
        let names: Vec<&[u8]> = members.iter().map(|m| m.name.as_slice()).collect();
        assert_eq!(names, [b"a.txt".as_slice(), b"b.txt"]);
        assert_eq!(members[1].local, 30 + 5 + 5);
        assert_eq!(end, first.len());
        // Seen from the second archive, its own directory is the one that matches.
        let at = data.len() - second.len();
        let (members, end) = central(&data[at..]).expect("second directory");
        assert_eq!(members.len(), 1);
        assert_eq!(members[0].name, b"c.txt");
        assert_eq!(end, second.len());
    }
}
