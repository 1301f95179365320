//! FAT12, FAT16 and FAT32 file systems: the boot sector's parameters, cluster chains through the
//! allocation table (with loops cut), and directories with long (VFAT) names.

use std::collections::HashSet;

use probity_model::ArtifactKind;

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The FAT format.
#[derive(Debug)]
pub struct Fat;

const MAGICS: &[Magic] = &[
    Magic {
        bytes: b"FAT12   ",
        at: 54,
    },
    Magic {
        bytes: b"FAT16   ",
        at: 54,
    },
    Magic {
        bytes: b"FAT32   ",
        at: 82,
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Fat12,
    Fat16,
    Fat32,
}

#[derive(Debug, Clone)]
struct Bpb {
    cluster: usize,
    fat_at: usize,
    fat_size: usize,
    root_at: usize,
    root_entries: usize,
    data_at: usize,
    clusters: u32,
    root_cluster: u32,
    total: u64,
    kind: Kind,
}

fn parse(data: &[u8]) -> Option<Bpb> {
    let sector = usize::from(bytes::le16(data, 11)?);
    let spc = usize::from(*data.get(13)?);
    let reserved = usize::from(bytes::le16(data, 14)?);
    let fats = usize::from(*data.get(16)?);
    let root_entries = usize::from(bytes::le16(data, 17)?);
    let total16 = u64::from(bytes::le16(data, 19)?);
    let fat16 = usize::from(bytes::le16(data, 22)?);
    let total = if total16 != 0 {
        total16
    } else {
        u64::from(bytes::le32(data, 32)?)
    };
    let fat_size = if fat16 != 0 {
        fat16
    } else {
        bytes::le32(data, 36)? as usize
    };
    if !sector.is_power_of_two()
        || !(512..=4096).contains(&sector)
        || !spc.is_power_of_two()
        || reserved == 0
        || !(1..=4).contains(&fats)
        || fat_size == 0
        || bytes::le16(data, 510)? != 0xaa55
    {
        return None;
    }
    let root_sectors = (root_entries * 32).div_ceil(sector);
    let data_sector = reserved + fats * fat_size + root_sectors;
    let clusters = u32::try_from(total.checked_sub(data_sector as u64)? / spc as u64).ok()?;
    let kind = if clusters < 4085 {
        Kind::Fat12
    } else if clusters < 65525 {
        Kind::Fat16
    } else {
        Kind::Fat32
    };
    Some(Bpb {
        cluster: sector * spc,
        fat_at: reserved * sector,
        fat_size: fat_size * sector,
        root_at: (reserved + fats * fat_size) * sector,
        root_entries,
        data_at: data_sector * sector,
        clusters,
        root_cluster: if kind == Kind::Fat32 {
            bytes::le32(data, 44)?
        } else {
            0
        },
        total: total * sector as u64,
        kind,
    })
}

struct Fs<'d> {
    b: Bpb,
    data: &'d [u8],
}

impl Fs<'_> {
    fn next(&self, c: u32) -> Option<u32> {
        let fat = bytes::slice(self.data, self.b.fat_at, self.b.fat_size)?;
        let (v, end) = match self.b.kind {
            Kind::Fat12 => {
                let at = c as usize * 3 / 2;
                let w = u32::from(bytes::le16(fat, at)?);
                (if c.is_multiple_of(2) { w & 0xfff } else { w >> 4 }, 0xff8)
            }
            Kind::Fat16 => (u32::from(bytes::le16(fat, c as usize * 2)?), 0xfff8),
            Kind::Fat32 => (bytes::le32(fat, c as usize * 4)? & 0x0fff_ffff, 0x0fff_fff8),
        };
        (v >= 2 && v < end && v < self.b.clusters + 2).then_some(v)
    }

    /// The clusters of a chain, loops and out-of-range links cut.
    fn chain(&self, first: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut c = first;
        while c >= 2 && c < self.b.clusters + 2 && seen.insert(c) {
            out.push(c);
            match self.next(c) {
                Some(n) => c = n,
                None => break,
            }
        }
        out
    }

    fn read_chain(&self, first: u32, limit: usize) -> Vec<u8> {
        let mut v = Vec::new();
        for c in self.chain(first) {
            let at = self.b.data_at + (c as usize - 2) * self.b.cluster;
            match bytes::slice(self.data, at, self.b.cluster) {
                Some(b) => v.extend_from_slice(b),
                None => break,
            }
            if v.len() >= limit {
                break;
            }
        }
        v.truncate(limit);
        v
    }

    fn entries(&self, dir: &[u8]) -> Vec<(Vec<u8>, u8, u32, u32)> {
        let mut out = Vec::new();
        let mut lfn: Vec<(u8, Vec<u16>)> = Vec::new();
        for e in dir.chunks_exact(32) {
            match e[0] {
                0 => break,
                0xe5 => {
                    lfn.clear();
                    continue;
                }
                _ => {}
            }
            let attr = e[11];
            if attr & 0x3f == 0x0f {
                let units: Vec<u16> = [1..11, 14..26, 28..32]
                    .into_iter()
                    .flat_map(|r| e[r].chunks_exact(2).map(|p| u16::from_le_bytes([p[0], p[1]])))
                    .collect();
                lfn.push((e[0] & 0x1f, units));
                continue;
            }
            if attr & 0x08 != 0 {
                lfn.clear();
                continue;
            }
            let name = if lfn.is_empty() {
                short_name(e)
            } else {
                lfn.sort_by_key(|(seq, _)| *seq);
                let units: Vec<u16> = lfn
                    .iter()
                    .flat_map(|(_, u)| u.iter().copied())
                    .take_while(|&u| u != 0 && u != 0xffff)
                    .collect();
                String::from_utf16_lossy(&units).into_bytes()
            };
            lfn.clear();
            let cluster = (u32::from(bytes::le16(e, 20).unwrap_or(0)) << 16)
                | u32::from(bytes::le16(e, 26).unwrap_or(0));
            let size = bytes::le32(e, 28).unwrap_or(0);
            if name != b"." && name != b".." {
                out.push((name, attr, cluster, size));
            }
        }
        out
    }
}

fn short_name(e: &[u8]) -> Vec<u8> {
    let base: Vec<u8> = e[..8]
        .iter()
        .copied()
        .rev()
        .skip_while(|&b| b == b' ')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let ext: Vec<u8> = e[8..11]
        .iter()
        .copied()
        .rev()
        .skip_while(|&b| b == b' ')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let lower = |v: Vec<u8>, on: bool| if on { v.to_ascii_lowercase() } else { v };
    let mut name = lower(base, e[12] & 0x08 != 0);
    if name.first() == Some(&0x05) {
        name[0] = 0xe5;
    }
    if !ext.is_empty() {
        name.push(b'.');
        name.extend(lower(ext, e[12] & 0x10 != 0));
    }
    name
}

impl Format for Fat {
    fn name(&self) -> &'static str {
        "fat"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let b = parse(data)?;
        let label = bytes::slice(data, if b.kind == Kind::Fat32 { 71 } else { 43 }, 11)
            .map(|l| String::from_utf8_lossy(l).trim_end().to_string())
            .unwrap_or_default();
        Some(Probe {
            length: Some(b.total),
            confidence: 85,
            description: format!(
                "{:?} file system `{}`, {} clusters of {} bytes",
                b.kind,
                probity_model::text::escape(label.as_bytes()),
                b.clusters,
                b.cluster
            )
            .replace("Fat", "FAT"),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let b = parse(data).ok_or_else(|| FormatError::invalid("bad FAT boot sector"))?;
        if let Some(p) = self.probe(data) {
            out.describe(p.description);
        }
        let fs = Fs { b: b.clone(), data };
        let root = if b.kind == Kind::Fat32 {
            fs.read_chain(b.root_cluster, 64 << 20)
        } else {
            bytes::slice(data, b.root_at, b.root_entries * 32)
                .unwrap_or_default()
                .to_vec()
        };
        let mut stack = vec![(root, Vec::new(), 0usize)];
        let mut seen = HashSet::new();
        while let Some((dir, path, depth)) = stack.pop() {
            for (name, attr, cluster, size) in fs.entries(&dir) {
                out.check_time()?;
                let mut p = path.clone();
                p.push(b'/');
                p.extend_from_slice(&name);
                let readonly = attr & 0x01 != 0;
                if attr & 0x10 != 0 {
                    out.entry(Entry {
                        member: Some(p.clone()),
                        kind: Some(ArtifactKind::Directory),
                        mode: Some(0o040755),
                        ..Entry::default()
                    });
                    if depth < 64 && cluster >= 2 && seen.insert(cluster) {
                        stack.push((fs.read_chain(cluster, 64 << 20), p, depth + 1));
                    }
                    continue;
                }
                let entry = Entry {
                    member: Some(p.clone()),
                    kind: Some(ArtifactKind::File),
                    mode: Some(if readonly { 0o100444 } else { 0o100644 }),
                    ..Entry::default()
                };
                if !out.wants(&p) {
                    out.entry(entry);
                    continue;
                }
                let content = if size == 0 {
                    Vec::new()
                } else {
                    fs.read_chain(cluster, size as usize)
                };
                if content.len() < size as usize {
                    out.note(format!(
                        "`{}`: {} of {size} bytes in its cluster chain",
                        probity_model::text::escape(&p),
                        content.len()
                    ));
                }
                out.file(entry, content)?;
            }
        }
        Ok(b.total.min(data.len() as u64))
    }
}
