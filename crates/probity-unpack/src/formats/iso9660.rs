//! ISO 9660 images, with Rock Ridge (POSIX names, modes, symbolic links) when present, Joliet
//! names otherwise, and zisofs-compressed files decoded.

use std::collections::HashSet;

use probity_model::ArtifactKind;

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};
use crate::formats::codec::{Codec, decompress};

/// The ISO 9660 format.
#[derive(Debug)]
pub struct Iso9660;

const MAGICS: &[Magic] = &[Magic {
    bytes: b"\x01CD001\x01",
    at: 0x8000,
}];
const SECTOR: usize = 2048;
const ZISOFS_MAGIC: &[u8] = b"\x37\xe4\x53\x96\xc9\xdb\xd6\x07";

struct Volume {
    block: usize,
    blocks: u64,
    root: (u32, u32),
    joliet: Option<(u32, u32)>,
    name: String,
}

fn parse(data: &[u8]) -> Option<Volume> {
    let pvd = bytes::slice(data, 16 * SECTOR, SECTOR)?;
    if &pvd[..7] != b"\x01CD001\x01" {
        return None;
    }
    let block = usize::from(bytes::le16(pvd, 128)?);
    if !matches!(block, 512 | 1024 | 2048) {
        return None;
    }
    let root = (bytes::le32(pvd, 156 + 2)?, bytes::le32(pvd, 156 + 10)?);
    let mut joliet = None;
    // Supplementary descriptors follow until the terminator (type 255).
    for i in 17..64 {
        let Some(d) = bytes::slice(data, i * SECTOR, SECTOR) else {
            break;
        };
        if &d[1..6] != b"CD001" || d[0] == 255 {
            break;
        }
        if d[0] == 2 && matches!(&d[88..91], b"%/@" | b"%/C" | b"%/E") {
            joliet = Some((bytes::le32(d, 156 + 2)?, bytes::le32(d, 156 + 10)?));
        }
    }
    Some(Volume {
        block,
        blocks: u64::from(bytes::le32(pvd, 80)?),
        root,
        joliet,
        name: String::from_utf8_lossy(&pvd[40..72]).trim_end().to_string(),
    })
}

/// Rock Ridge fields of a directory record's system use area.
#[derive(Default)]
struct Rr {
    name: Option<Vec<u8>>,
    mode: Option<u32>,
    uid: Option<u32>,
    gid: Option<u32>,
    link: Option<Vec<u8>>,
    zisofs: bool,
}

fn rock_ridge(mut su: &[u8]) -> Rr {
    let mut rr = Rr::default();
    while su.len() >= 4 {
        let len = usize::from(su[2]);
        if len < 4 || len > su.len() {
            break;
        }
        let body = &su[4..len];
        match &su[..2] {
            b"NM" if !body.is_empty() => rr.name.get_or_insert_with(Vec::new).extend_from_slice(&body[1..]),
            b"PX" => {
                // Each field is stored both-endian (8 bytes): mode, links, uid, gid.
                rr.mode = bytes::le32(body, 0);
                rr.uid = bytes::le32(body, 16);
                rr.gid = bytes::le32(body, 24);
            }
            b"SL" if !body.is_empty() => {
                let link = rr.link.get_or_insert_with(Vec::new);
                let mut p = 1;
                while p + 2 <= body.len() {
                    let flags = body[p];
                    let clen = usize::from(body[p + 1]);
                    let comp = body.get(p + 2..p + 2 + clen).unwrap_or_default();
                    if !link.is_empty() && !link.ends_with(b"/") {
                        link.push(b'/');
                    }
                    match flags & 0x0e {
                        0x02 => link.push(b'.'),
                        0x04 => link.extend_from_slice(b".."),
                        0x08 => link.push(b'/'),
                        _ => link.extend_from_slice(comp),
                    }
                    p += 2 + clen;
                }
            }
            b"ZF" if body.starts_with(b"pz") => rr.zisofs = true,
            _ => {}
        }
        su = &su[len..];
    }
    rr
}

fn iso_name(raw: &[u8], joliet: bool) -> Vec<u8> {
    let name = if joliet {
        let units: Vec<u16> = raw
            .chunks_exact(2)
            .map(|p| u16::from_be_bytes([p[0], p[1]]))
            .collect();
        String::from_utf16_lossy(&units).into_bytes()
    } else {
        raw.to_vec()
    };
    let name = match name.iter().position(|&b| b == b';') {
        Some(p) => name[..p].to_vec(),
        None => name,
    };
    name.strip_suffix(b".").map(<[u8]>::to_vec).unwrap_or(name)
}

/// Decodes a zisofs file: a header, a block pointer table, zlib blocks.
fn zisofs(raw: &[u8]) -> Result<Vec<u8>, String> {
    if !raw.starts_with(ZISOFS_MAGIC) {
        return Ok(raw.to_vec());
    }
    let size = bytes::le32(raw, 8).ok_or("short zisofs header")? as usize;
    let header = usize::from(*raw.get(12).ok_or("short zisofs header")?) * 4;
    let log = u32::from(*raw.get(13).ok_or("short zisofs header")?);
    if !(15..=17).contains(&log) || size > 1 << 30 {
        return Err("bad zisofs header".into());
    }
    let block = 1usize << log;
    let n = size.div_ceil(block);
    let mut out = Vec::with_capacity(size);
    for i in 0..n {
        let s = bytes::le32(raw, header + i * 4).ok_or("zisofs pointer outside the file")? as usize;
        let e = bytes::le32(raw, header + i * 4 + 4).ok_or("zisofs pointer outside the file")? as usize;
        let want = (size - out.len()).min(block);
        if e <= s {
            out.resize(out.len() + want, 0);
        } else {
            let piece = decompress(
                Codec::Zlib,
                raw.get(s..e).ok_or("zisofs block outside the file")?,
                block,
            )?;
            out.extend_from_slice(&piece[..piece.len().min(want)]);
        }
    }
    Ok(out)
}

impl Format for Iso9660 {
    fn name(&self) -> &'static str {
        "iso9660"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let v = parse(data)?;
        Some(Probe {
            length: Some(v.blocks * v.block as u64),
            confidence: 95,
            description: format!(
                "ISO 9660 `{}`{}",
                probity_model::text::escape(v.name.as_bytes()),
                if v.joliet.is_some() { ", Joliet" } else { "" }
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let v = parse(data).ok_or_else(|| FormatError::invalid("bad ISO 9660 volume descriptor"))?;
        if let Some(p) = self.probe(data) {
            out.describe(p.description);
        }
        let bs = v.block;
        // Rock Ridge is announced by an "SP" entry in the root's "." record.
        let root_dir = bytes::slice(data, v.root.0 as usize * bs, 256).unwrap_or_default();
        let first_len = usize::from(*root_dir.first().unwrap_or(&0));
        let name_len = usize::from(*root_dir.get(32).unwrap_or(&0));
        let su_at = 33 + name_len + (1 - name_len % 2);
        let rock = root_dir
            .get(su_at..first_len)
            .is_some_and(|su| su.starts_with(b"SP"));
        let (root, joliet) = match (rock, v.joliet) {
            (false, Some(j)) => (j, true),
            _ => (v.root, false),
        };
        let mut stack = vec![(root, Vec::new(), 0usize)];
        let mut seen = HashSet::new();
        while let Some(((lba, len), path, depth)) = stack.pop() {
            if depth > 64 || !seen.insert(lba) {
                continue;
            }
            let Some(dir) = bytes::slice(data, lba as usize * bs, (len as usize).min(16 << 20)) else {
                out.note(format!(
                    "directory `{}` outside the image",
                    probity_model::text::escape(&path)
                ));
                continue;
            };
            let mut p = 0usize;
            let mut subdirs = Vec::new();
            while p < dir.len() {
                out.check_time()?;
                let rlen = usize::from(dir[p]);
                if rlen == 0 {
                    // Records do not cross sector boundaries: skip to the next sector.
                    p = (p / SECTOR + 1) * SECTOR;
                    continue;
                }
                let Some(rec) = dir.get(p..p + rlen) else { break };
                p += rlen;
                let nlen = usize::from(*rec.get(32).unwrap_or(&0));
                let raw_name = rec.get(33..33 + nlen).unwrap_or_default();
                if raw_name == b"\0" || raw_name == b"\x01" {
                    continue;
                }
                let rr = if rock {
                    rock_ridge(rec.get(33 + nlen + (1 - nlen % 2)..).unwrap_or_default())
                } else {
                    Rr::default()
                };
                let name = rr.name.clone().unwrap_or_else(|| iso_name(raw_name, joliet));
                let mut child = path.clone();
                child.push(b'/');
                child.extend_from_slice(&name);
                let is_dir = rec.get(25).is_some_and(|f| f & 0x02 != 0);
                let extent = bytes::le32(rec, 2).unwrap_or(0);
                let size = bytes::le32(rec, 10).unwrap_or(0);
                let mode = rr.mode.unwrap_or(if is_dir { 0o040755 } else { 0o100644 });
                let mut entry = Entry {
                    member: Some(child.clone()),
                    mode: Some(mode),
                    uid: rr.uid,
                    gid: rr.gid,
                    ..Entry::default()
                };
                if let Some(link) = rr.link {
                    entry.kind = Some(ArtifactKind::Symlink);
                    entry.link_target = Some(link);
                    out.entry(entry);
                } else if is_dir {
                    entry.kind = Some(ArtifactKind::Directory);
                    out.entry(entry);
                    subdirs.push(((extent, size), child));
                } else if !out.wants(&child) {
                    out.entry(entry);
                } else {
                    let at = extent as usize * bs;
                    match bytes::slice(data, at, size as usize) {
                        Some(raw) if rr.zisofs || raw.starts_with(ZISOFS_MAGIC) => match zisofs(raw) {
                            Ok(b) => out.file(entry, b)?,
                            Err(e) => {
                                out.note(format!("`{}`: {e}", probity_model::text::escape(&child)));
                                out.region(entry, at as u64, size as u64);
                            }
                        },
                        Some(_) => out.region(entry, at as u64, u64::from(size)),
                        None => out.note(format!(
                            "`{}` lies outside the image",
                            probity_model::text::escape(&child)
                        )),
                    }
                }
            }
            for s in subdirs.into_iter().rev() {
                stack.push((s.0, s.1, depth + 1));
            }
        }
        Ok((v.blocks * bs as u64).min(data.len() as u64))
    }
}
