//! UBI images: physical erase blocks with an erase-counter header and a volume-id header, both
//! CRC-protected. The layout volume's table names the volumes; each volume is rebuilt from its
//! logical erase blocks (the copy with the highest sequence number wins) and becomes a member,
//! which the signature scan then opens (UBIFS, squashfs, …).

use std::collections::BTreeMap;

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The UBI format.
#[derive(Debug)]
pub struct Ubi;

const MAGICS: &[Magic] = &[Magic::start(b"UBI#")];
const LAYOUT_VOLUME: u32 = 0x7fff_efff;

/// UBI's CRC-32 (initial value all ones, no final inversion).
pub(crate) fn crc(data: &[u8]) -> u32 {
    !crc32fast::hash(data)
}

struct Ec {
    vid: usize,
    data: usize,
    seq: u32,
}

fn ec(data: &[u8], at: usize) -> Option<Ec> {
    let h = bytes::slice(data, at, 64)?;
    if &h[..4] != b"UBI#" || h[4] != 1 || crc(&h[..60]) != bytes::be32(h, 60)? {
        return None;
    }
    Some(Ec {
        vid: bytes::be32(h, 16)? as usize,
        data: bytes::be32(h, 20)? as usize,
        seq: bytes::be32(h, 24)?,
    })
}

struct Vid {
    vol: u32,
    lnum: u32,
    data_size: u32,
    data_pad: u32,
    sqnum: u64,
    static_vol: bool,
}

fn vid(data: &[u8], at: usize) -> Option<Vid> {
    let h = bytes::slice(data, at, 64)?;
    if &h[..4] != b"UBI!" || crc(&h[..60]) != bytes::be32(h, 60)? {
        return None;
    }
    Some(Vid {
        vol: bytes::be32(h, 8)?,
        lnum: bytes::be32(h, 12)?,
        data_size: bytes::be32(h, 20)?,
        data_pad: bytes::be32(h, 28)?,
        sqnum: bytes::be64(h, 40)?,
        static_vol: h[5] == 2,
    })
}

/// The physical erase block size: the distance to the next valid erase-counter header.
fn peb_size(data: &[u8]) -> Option<usize> {
    let first = ec(data, 0)?;
    let min = first.data.max(first.vid + 64);
    let mut size = min.next_power_of_two().max(512);
    while size <= 4 << 20 {
        if let Some(next) = ec(data, size)
            && next.seq == first.seq
        {
            return Some(size);
        }
        size *= 2;
    }
    // A single block image.
    (data.len() >= min).then_some(data.len())
}

impl Format for Ubi {
    fn name(&self) -> &'static str {
        "ubi"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let e = ec(data, 0)?;
        let peb = peb_size(data)?;
        Some(Probe {
            length: None,
            confidence: 100,
            description: format!(
                "UBI image, {} KiB erase blocks, image sequence {:#010x}",
                peb / 1024,
                e.seq
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let first = ec(data, 0).ok_or_else(|| FormatError::invalid("bad UBI erase-counter header"))?;
        let peb =
            peb_size(data).ok_or_else(|| FormatError::invalid("can not determine the erase block size"))?;
        if let Some(p) = self.probe(data) {
            out.describe(p.description);
        }
        // volume -> lnum -> (sqnum, data range)
        let mut vols: BTreeMap<u32, BTreeMap<u32, (u64, usize, usize)>> = BTreeMap::new();
        let mut static_vols = std::collections::HashSet::new();
        let mut at = 0usize;
        let mut bad = 0;
        while at + peb <= data.len() || ec(data, at).is_some() {
            out.check_time()?;
            let Some(e) = ec(data, at) else {
                // An erased or damaged block: the image may go on.
                if data.get(at..at + 4).is_some_and(|m| m == b"\xff\xff\xff\xff") {
                    at += peb;
                    continue;
                }
                break;
            };
            if e.seq != first.seq {
                break;
            }
            match vid(data, at + e.vid) {
                Some(v) => {
                    let start = at + e.data;
                    let end = if v.static_vol {
                        start + v.data_size as usize
                    } else {
                        at + peb - v.data_pad as usize
                    };
                    if v.static_vol {
                        static_vols.insert(v.vol);
                    }
                    let slot = vols.entry(v.vol).or_default();
                    if slot.get(&v.lnum).is_none_or(|old| old.0 < v.sqnum) {
                        slot.insert(v.lnum, (v.sqnum, start, end.min(at + peb).min(data.len())));
                    }
                }
                None if data
                    .get(at + e.vid..at + e.vid + 4)
                    .is_some_and(|m| m != b"\xff\xff\xff\xff") =>
                {
                    bad += 1
                }
                None => {}
            }
            at += peb;
        }
        if bad > 0 {
            out.note(format!(
                "{bad} erase blocks with a bad volume-id header were skipped"
            ));
        }
        let names = vols
            .get(&LAYOUT_VOLUME)
            .and_then(|l| l.get(&0))
            .map(|&(_, s, e)| table(data.get(s..e).unwrap_or_default()))
            .unwrap_or_default();
        let leb = peb - first.data;
        for (vol, lebs) in vols.iter().filter(|(v, _)| **v != LAYOUT_VOLUME) {
            let name = names
                .get(vol)
                .cloned()
                .unwrap_or_else(|| format!("volume{vol}").into_bytes());
            let path = [b"/".as_slice(), &name].concat();
            if !out.wants(&path) {
                out.entry(Entry::file(path));
                continue;
            }
            let mut sink = out.sink(Entry::file(path));
            let last = lebs.keys().next_back().copied().unwrap_or(0);
            let mut failed = None;
            for lnum in 0..=last {
                let piece: Vec<u8> = match lebs.get(&lnum) {
                    Some(&(_, s, e)) => data.get(s..e).unwrap_or_default().to_vec(),
                    // An unmapped block of a dynamic volume reads as erased flash.
                    None if !static_vols.contains(vol) => vec![0xff; leb],
                    None => Vec::new(),
                };
                if let Err(e) = sink.write(out, &piece, data.len() as u64) {
                    failed = Some(e);
                    break;
                }
            }
            sink.finish(out, failed.is_some());
            if let Some(e) = failed {
                out.settle(Err(e))?;
            }
        }
        Ok(at.min(data.len()) as u64)
    }
}

/// The volume table: volume id -> name.
fn table(leb: &[u8]) -> BTreeMap<u32, Vec<u8>> {
    let mut out = BTreeMap::new();
    for (i, rec) in leb.chunks_exact(172).take(128).enumerate() {
        let len = usize::from(bytes::be16(rec, 14).unwrap_or(0));
        if bytes::be32(rec, 0).unwrap_or(0) == 0
            || len == 0
            || len > 127
            || crc(&rec[..168]) != bytes::be32(rec, 168).unwrap_or(0)
        {
            continue;
        }
        out.insert(i as u32, rec[16..16 + len].to_vec());
    }
    out
}
