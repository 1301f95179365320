//! DOS/MBR partition tables at the start of a disk or flash image: four 16-byte entries at 446 and
//! the `55 AA` signature at 510. Each used primary partition becomes a member (`/partition1` …),
//! a range of the image; extended partitions are listed, not followed. Recognised only at the start
//! of a content (two magic bytes would match anywhere), and only when every entry is well formed.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The MBR partition table.
#[derive(Debug)]
pub struct Mbr;

const MAGICS: &[Magic] = &[Magic {
    bytes: b"\x55\xaa",
    at: 510,
}];

const SECTOR: u64 = 512;

/// A used partition entry: (number 1–4, type, first byte, length in bytes).
fn partitions(data: &[u8]) -> Option<Vec<(usize, u8, u64, u64)>> {
    if data.get(510..512)? != b"\x55\xaa" {
        return None;
    }
    let mut out = Vec::new();
    for i in 0..4 {
        let e = bytes::slice(data, 446 + 16 * i, 16)?;
        let (status, ptype) = (e[0], e[4]);
        let (lba, count) = (u64::from(bytes::le32(e, 8)?), u64::from(bytes::le32(e, 12)?));
        if ptype == 0 {
            // An unused entry is all zero (or at most keeps a stale status byte of zero).
            if status != 0 || lba != 0 || count != 0 {
                return None;
            }
            continue;
        }
        if !matches!(status, 0x00 | 0x80) || lba == 0 || count == 0 {
            return None;
        }
        out.push((i + 1, ptype, lba * SECTOR, count * SECTOR));
    }
    // Partitions do not overlap each other or the table.
    let mut spans: Vec<(u64, u64)> = out.iter().map(|p| (p.2, p.2 + p.3)).collect();
    spans.sort_unstable();
    if out.is_empty() || spans.windows(2).any(|w| w[0].1 > w[1].0) {
        return None;
    }
    Some(out)
}

fn type_name(t: u8) -> &'static str {
    match t {
        0x01 | 0x04 | 0x06 | 0x0b | 0x0c | 0x0e => "FAT",
        0x05 | 0x0f | 0x85 => "extended",
        0x07 => "NTFS/exFAT",
        0x82 => "Linux swap",
        0x83 => "Linux",
        0x8e => "Linux LVM",
        0xee => "GPT protective",
        0xef => "EFI system",
        _ => "other",
    }
}

impl Format for Mbr {
    fn name(&self) -> &'static str {
        "mbr"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn anchored(&self) -> bool {
        true
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let parts = partitions(data)?;
        let end = parts.iter().map(|p| p.2 + p.3).max().unwrap_or(SECTOR);
        let list: Vec<String> = parts
            .iter()
            .map(|(n, t, _, len)| format!("{n}: {} ({t:#04x}), {} KiB", type_name(*t), len / 1024))
            .collect();
        Some(Probe {
            length: Some(end),
            confidence: 70,
            description: format!("MBR partition table; {}", list.join("; ")),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let parts = partitions(data).ok_or_else(|| FormatError::invalid("bad MBR partition table"))?;
        let len = data.len() as u64;
        for (n, ptype, start, size) in &parts {
            if matches!(ptype, 0x05 | 0x0f | 0x85) {
                out.note(format!(
                    "partition {n} is an extended partition; logical partitions are not listed"
                ));
            }
            if *start >= len {
                out.note(format!(
                    "partition {n} starts at {start:#x}, past the end of the image"
                ));
                continue;
            }
            if start + size > len {
                out.note(format!(
                    "partition {n} is cut: {} of {size} bytes present",
                    len - start
                ));
            }
            out.region(
                Entry::file(format!("/partition{n}").into_bytes()),
                *start,
                (*size).min(len - start),
            );
        }
        // The table spans the disk up to the end of its last partition. Space outside every
        // partition that holds anything but padding is a member too (`/gap-OFFSET`), so that data
        // hidden between partitions is analysed, not silently counted as explained.
        let end = parts.iter().map(|p| p.2 + p.3).max().unwrap_or(SECTOR).min(len);
        let mut spans: Vec<(u64, u64)> = parts.iter().map(|p| (p.2, (p.2 + p.3).min(len))).collect();
        spans.sort_unstable();
        let mut at = SECTOR;
        for (s, e) in spans.into_iter().chain(std::iter::once((end, end))) {
            let s = s.min(len);
            if s > at {
                let gap = &data[at as usize..s as usize];
                if gap.iter().any(|&b| b != 0 && b != 0xff) {
                    out.region(Entry::file(format!("/gap-{at:#x}").into_bytes()), at, s - at);
                }
            }
            at = at.max(e);
        }
        Ok(end)
    }
}

#[cfg(test)]
mod tests {
    use super::partitions;

    fn table(entries: &[(u8, u8, u32, u32)]) -> Vec<u8> {
        let mut d = vec![0u8; 4096];
        for (i, (status, t, lba, n)) in entries.iter().enumerate() {
            let e = 446 + 16 * i;
            d[e] = *status;
            d[e + 4] = *t;
            d[e + 8..e + 12].copy_from_slice(&lba.to_le_bytes());
            d[e + 12..e + 16].copy_from_slice(&n.to_le_bytes());
        }
        d[510] = 0x55;
        d[511] = 0xaa;
        d
    }

    #[test]
    fn well_formed_tables_only() {
        let ok = table(&[(0x80, 0x83, 1, 3), (0, 0x07, 4, 2)]);
        assert_eq!(
            partitions(&ok).unwrap(),
            vec![(1, 0x83, 512, 1536), (2, 0x07, 2048, 1024)]
        );
        // Overlapping partitions, a bad status byte, a used entry at sector 0, no entries at all.
        assert!(partitions(&table(&[(0, 0x83, 1, 4), (0, 0x83, 4, 2)])).is_none());
        assert!(partitions(&table(&[(0x12, 0x83, 1, 3)])).is_none());
        assert!(partitions(&table(&[(0, 0x83, 0, 3)])).is_none());
        assert!(partitions(&table(&[])).is_none());
    }

    #[test]
    fn partitions_past_the_end_and_hidden_gaps() {
        use crate::extract::{ChildData, Extractor, Spool};
        use crate::format::Format;
        // Partition 1 at sector 2 (1 sector), partition 2 past the end of the 4 KiB image; a
        // non-padding byte in sector 1, between the table and partition 1.
        let mut d = table(&[(0, 0x83, 2, 1), (0, 0x83, 100, 8)]);
        d[600] = 0x42;
        let limits = crate::limits::Limits::default();
        let spool = Spool::temporary().unwrap();
        let mut x = Extractor::new(&limits, &spool, d.len() as u64, 1 << 30);
        let used = super::Mbr.extract(&d, &mut x).unwrap();
        assert_eq!(used, 4096);
        let (children, notes, _, _) = x.into_parts();
        let got: Vec<(Vec<u8>, u64, u64)> = children
            .iter()
            .map(|c| match c.data {
                ChildData::Region { offset, length } => (c.entry.member.clone().unwrap(), offset, length),
                _ => panic!("not a region"),
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (b"/partition1".to_vec(), 1024, 512),
                (b"/gap-0x200".to_vec(), 512, 512)
            ]
        );
        assert_eq!(
            notes,
            vec!["partition 2 starts at 0xc800, past the end of the image".to_string()]
        );
    }
}
