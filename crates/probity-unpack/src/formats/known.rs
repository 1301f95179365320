//! Formats Probity recognises but does not unpack yet: archives and file systems that turn up in
//! firmware and on evaluation benches (ARJ, CAB, LHA, RAR, ARC, lrzip, ZOO, ZPAQ, StuffIt, shell archives,
//! QCOW, btrfs, F2FS, JFS, Minix, ReiserFS, UDF, XFS, HFS+, NTFS).
//!
//! Each is validated by more than its magic (a header checksum, version fields, a second magic),
//! recorded as a recognised structure with its length when the header gives it, and reported with a
//! precise problem ("NTFS file system: unpacking it is not supported; its bytes are analysed as
//! they are") instead of the vague "nothing recognised". One constant per format, one registry line
//! each.

use crate::extract::Extractor;
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// A format that is recognised, never unpacked.
#[derive(Debug)]
pub struct Known {
    name: &'static str,
    what: &'static str,
    magics: &'static [Magic],
    anchored: bool,
    /// `None` when `data` is not one; otherwise its length when the header says.
    check: fn(&[u8]) -> Option<Option<u64>>,
}

impl Format for Known {
    fn name(&self) -> &'static str {
        self.name
    }

    fn magics(&self) -> &'static [Magic] {
        self.magics
    }

    fn anchored(&self) -> bool {
        self.anchored
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let length = (self.check)(data)?;
        Some(Probe {
            length,
            confidence: 75,
            description: self.what.to_string(),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let length =
            (self.check)(data).ok_or_else(|| FormatError::invalid(format!("not a valid {}", self.what)))?;
        out.note(format!(
            "{}: unpacking it is not supported; its bytes are analysed as they are",
            self.what
        ));
        Ok(length.unwrap_or(data.len() as u64).min(data.len() as u64))
    }
}

const fn at(bytes: &'static [u8], at: usize) -> Magic {
    Magic { bytes, at }
}

/// ARJ: the main header's CRC-32 must match.
pub const ARJ: Known = Known {
    name: "arj",
    what: "ARJ archive",
    magics: &[at(b"\x60\xea", 0)],
    anchored: false,
    check: |d| {
        let size = usize::from(bytes::le16(d, 2)?);
        if !(20..=2600).contains(&size) || *d.get(10)? != 2 {
            return None;
        }
        let header = bytes::slice(d, 4, size)?;
        (crc32fast::hash(header) == bytes::le32(d, 4 + size)?).then_some(None)
    },
};

/// Microsoft Cabinet: version 1.3, its total size in the header.
pub const CAB: Known = Known {
    name: "cab",
    what: "Microsoft Cabinet archive",
    magics: &[at(b"MSCF\0\0\0\0", 0)],
    anchored: false,
    check: |d| {
        let size = bytes::le32(d, 8)?;
        (size >= 36 && d.get(24..26)? == [3, 1]).then_some(Some(u64::from(size)))
    },
};

/// LHA/LZH: a method id `-lh?-`/`-lz?-` at offset 2 and a header level of 0–2.
pub const LHA: Known = Known {
    name: "lha",
    what: "LHA archive",
    magics: &[at(b"-lh", 2), at(b"-lz", 2)],
    anchored: false,
    check: |d| {
        let method = *d.get(5)?;
        let ok = *d.get(6)? == b'-' && (method.is_ascii_digit() || matches!(method, b'd' | b's'));
        let level = *d.get(20)?;
        if !ok || level > 2 {
            return None;
        }
        // Levels 0 and 1 carry a checksum of the header bytes after the first two.
        if level < 2 {
            let size = usize::from(d[0]);
            let sum = bytes::slice(d, 2, size)?
                .iter()
                .fold(0u8, |a, &b| a.wrapping_add(b));
            if sum != d[1] {
                return None;
            }
        }
        Some(None)
    },
};

/// lrzip: `LRZI`, format version 0.x.
pub const LRZIP: Known = Known {
    name: "lrzip",
    what: "lrzip compressed file",
    magics: &[at(b"LRZI\0", 0)],
    anchored: false,
    check: |d| (*d.get(5)? <= 20).then_some(None),
};

/// RAR 1.5–4.x (the marker block, then a main header whose CRC-16 matches) and RAR 5 (the main
/// header's CRC-32 matches).
pub const RAR: Known = Known {
    name: "rar",
    what: "RAR archive",
    magics: &[at(b"Rar!\x1a\x07\x00", 0), at(b"Rar!\x1a\x07\x01\x00", 0)],
    anchored: false,
    check: |d| {
        if d.get(6)? == &0 {
            let size = usize::from(bytes::le16(d, 12)?);
            if *d.get(9)? != 0x73 || size < 7 {
                return None;
            }
            let crc = crc32fast::hash(bytes::slice(d, 9, size - 2)?) & 0xffff;
            (crc == u32::from(bytes::le16(d, 7)?)).then_some(None)
        } else {
            // A variable-length integer: 7 bits per byte, high bit set while more follow.
            let (mut size, mut n) = (0usize, 0usize);
            loop {
                let b = *d.get(12 + n)?;
                size |= usize::from(b & 0x7f) << (7 * n);
                n += 1;
                if b & 0x80 == 0 {
                    break;
                }
                if n == 3 {
                    return None;
                }
            }
            let crc = crc32fast::hash(bytes::slice(d, 12, n + size)?);
            (crc == bytes::le32(d, 8)?).then_some(None)
        }
    },
};

/// ARC (SEA's archiver, 1985): a chain of member headers (0x1A, a method, a NUL-terminated
/// 13-byte name, the compressed size) ending in 0x1A 0x00; weak magic, so only at the start of a
/// content and only when the chain walks to its end marker.
pub const ARC: Known = Known {
    name: "arc",
    what: "ARC archive",
    magics: &[at(b"\x1a", 0)],
    anchored: true,
    check: |d| {
        let mut at = 0usize;
        for members in 0..100_000 {
            if *d.get(at)? != 0x1a {
                return None;
            }
            let method = *d.get(at + 1)?;
            if method == 0 {
                return (members > 0).then_some(Some(at as u64 + 2));
            }
            let name = bytes::slice(d, at + 2, 13)?;
            let len = name.iter().position(|&b| b == 0)?;
            if method > 20 || len == 0 || !name[..len].iter().all(|b| b.is_ascii_graphic()) {
                return None;
            }
            let size = bytes::le32(d, at + 15)? as usize;
            let header = if method == 1 { 25 } else { 29 };
            at = at.checked_add(header)?.checked_add(size)?;
        }
        None
    },
};

/// ZOO: the text banner and the magic number at 20.
pub const ZOO: Known = Known {
    name: "zoo",
    what: "ZOO archive",
    magics: &[at(b"ZOO ", 0)],
    anchored: false,
    check: |d| (bytes::le32(d, 20)? == 0xfdc4_a7dc).then_some(None),
};

/// ZPAQ: the 13-byte block locator tag followed by a block header.
pub const ZPAQ: Known = Known {
    name: "zpaq",
    what: "ZPAQ archive",
    magics: &[at(b"7kSt\xa0\x31\x83\xd3\x8c\xb2\x28\xb0\xd3", 0)],
    anchored: false,
    check: |d| (d.get(13..16)? == b"zPQ").then_some(None),
};

/// StuffIt: classic (`SIT!` … `rLau`) and StuffIt X (`StuffIt!`).
pub const STUFFIT: Known = Known {
    name: "stuffit",
    what: "StuffIt archive",
    magics: &[at(b"StuffIt!", 0), at(b"SIT!", 0)],
    anchored: false,
    check: |d| (d.starts_with(b"StuffIt!") || d.get(10..14)? == b"rLau").then_some(None),
};

/// Shell archives: text that says so in its first lines (only at the start of a content).
pub const SHAR: Known = Known {
    name: "shar",
    what: "shell archive (shar)",
    magics: &[at(b"#!/bin/sh", 0), at(b"# This is a shell archive", 0)],
    anchored: true,
    check: |d| {
        let head = &d[..d.len().min(512)];
        head.windows(13).any(|w| w == b"shell archive").then_some(None)
    },
};

/// QCOW/QCOW2 disk images: versions 1 to 3.
pub const QCOW: Known = Known {
    name: "qcow",
    what: "QEMU QCOW disk image",
    magics: &[at(b"QFI\xfb", 0)],
    anchored: false,
    check: |d| (1..=3).contains(&bytes::be32(d, 4)?).then_some(None),
};

/// btrfs: its size in the super block at 64 KiB.
pub const BTRFS: Known = Known {
    name: "btrfs",
    what: "btrfs file system",
    magics: &[at(b"_BHRfS_M", 0x10040)],
    anchored: false,
    check: |d| {
        let total = bytes::le64(d, 0x10070)?;
        (total >= 0x11000).then_some(Some(total))
    },
};

/// F2FS: version fields and a block size of 4 KiB.
pub const F2FS: Known = Known {
    name: "f2fs",
    what: "F2FS file system",
    magics: &[at(b"\x10\x20\xf5\xf2", 0x400)],
    anchored: false,
    check: |d| {
        let log_block = bytes::le32(d, 0x410)?;
        let blocks = bytes::le64(d, 0x424)?;
        (log_block == 12 && blocks > 0).then_some(blocks.checked_mul(4096))
    },
};

/// JFS: the super block at 32 KiB with a plausible block size.
pub const JFS: Known = Known {
    name: "jfs",
    what: "JFS file system",
    magics: &[at(b"JFS1", 0x8000)],
    anchored: false,
    check: |d| matches!(bytes::le32(d, 0x8018)?, 512 | 1024 | 2048 | 4096).then_some(None),
};

/// Minix v1–v3 (only at the start of a content: the magic is two bytes).
pub const MINIX: Known = Known {
    name: "minix",
    what: "Minix file system",
    magics: &[
        at(b"\x7f\x13", 0x410),
        at(b"\x8f\x13", 0x410),
        at(b"\x68\x24", 0x410),
        at(b"\x78\x24", 0x410),
        at(b"\x5a\x4d", 0x418),
    ],
    anchored: true,
    check: |d| {
        let v3 = bytes::le16(d, 0x418)? == 0x4d5a;
        let inodes = if v3 {
            bytes::le32(d, 0x400)?
        } else {
            u32::from(bytes::le16(d, 0x400)?)
        };
        (inodes > 0 && bytes::le16(d, 0x40a)? == 0).then_some(None)
    },
};

/// ReiserFS 3.5/3.6 and with a journal relocated.
pub const REISERFS: Known = Known {
    name: "reiserfs",
    what: "ReiserFS file system",
    magics: &[
        at(b"ReIsErFs\0", 0x10034),
        at(b"ReIsEr2Fs\0", 0x10034),
        at(b"ReIsEr3Fs\0", 0x10034),
    ],
    anchored: false,
    check: |d| {
        let blocks = u64::from(bytes::le32(d, 0x10000)?);
        let size = u64::from(bytes::le16(d, 0x1002c)?);
        (blocks > 0 && matches!(size, 512 | 1024 | 2048 | 4096 | 8192)).then_some(Some(blocks * size))
    },
};

/// UDF: the extended area descriptor at 32 KiB with an NSR descriptor after it.
pub const UDF: Known = Known {
    name: "udf",
    what: "UDF file system",
    magics: &[at(b"BEA01", 0x8001)],
    anchored: false,
    check: |d| {
        (1..8)
            .filter_map(|i| d.get(0x8001 + i * 0x800..0x8006 + i * 0x800))
            .any(|id| id == b"NSR02" || id == b"NSR03")
            .then_some(None)
    },
};

/// XFS: block size and block count in the super block.
pub const XFS: Known = Known {
    name: "xfs",
    what: "XFS file system",
    magics: &[at(b"XFSB", 0)],
    anchored: false,
    check: |d| {
        let block = bytes::be32(d, 4)?;
        let blocks = bytes::be64(d, 8)?;
        (block.is_power_of_two() && (512..=65536).contains(&block) && blocks > 0)
            .then_some(blocks.checked_mul(u64::from(block)))
    },
};

/// HFS+ and HFSX: the volume header at 1 KiB.
pub const HFSPLUS: Known = Known {
    name: "hfsplus",
    what: "HFS+ file system",
    magics: &[at(b"H+\0\x04", 0x400), at(b"HX\0\x05", 0x400)],
    anchored: false,
    check: |d| {
        let block = bytes::be32(d, 0x428)?;
        let blocks = bytes::be32(d, 0x42c)?;
        (block.is_power_of_two() && block >= 512 && blocks > 0)
            .then_some(Some(u64::from(block) * u64::from(blocks)))
    },
};

/// NTFS: the boot sector's OEM id, geometry and signature.
pub const NTFS: Known = Known {
    name: "ntfs",
    what: "NTFS file system",
    magics: &[at(b"NTFS    ", 3)],
    anchored: false,
    check: |d| {
        let sector = u64::from(bytes::le16(d, 0x0b)?);
        let sectors = bytes::le64(d, 0x28)?;
        if d.get(510..512)? != b"\x55\xaa" || !matches!(sector, 256 | 512 | 1024 | 2048 | 4096) {
            return None;
        }
        // The volume ends with a copy of the boot sector, one sector past the count.
        Some(sectors.checked_add(1).and_then(|n| n.checked_mul(sector)))
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magics_alone_are_not_enough() {
        // A CAB header with the wrong version, ZOO without its second magic, an NTFS boot sector
        // without its signature.
        let mut cab = b"MSCF\0\0\0\0".to_vec();
        cab.extend_from_slice(&[0x40, 0, 0, 0]);
        cab.resize(40, 0);
        assert!(CAB.probe(&cab).is_none());
        cab[24] = 3;
        cab[25] = 1;
        assert_eq!(CAB.probe(&cab).unwrap().length, Some(64));
        let mut zoo = b"ZOO 2.10 Archive.\x1a\0\0".to_vec();
        zoo.extend_from_slice(&[0; 8]);
        assert!(ZOO.probe(&zoo).is_none());
        zoo[20..24].copy_from_slice(&0xfdc4_a7dcu32.to_le_bytes());
        assert!(ZOO.probe(&zoo).is_some());
        let mut ntfs = vec![0u8; 512];
        ntfs[3..11].copy_from_slice(b"NTFS    ");
        ntfs[0x0b] = 0;
        ntfs[0x0c] = 2;
        ntfs[0x28] = 7;
        assert!(NTFS.probe(&ntfs).is_none());
        ntfs[510] = 0x55;
        ntfs[511] = 0xaa;
        assert_eq!(NTFS.probe(&ntfs).unwrap().length, Some(8 * 512));
    }

    #[test]
    fn rar_headers_need_their_checksums() {
        // RAR 5: signature, CRC-32, then a main header of 3 bytes (size 3, type 1, flags 0, 0).
        let body = [3u8, 1, 0, 0];
        let mut rar5 = b"Rar!\x1a\x07\x01\x00".to_vec();
        rar5.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        rar5.extend_from_slice(&body);
        assert_eq!(RAR.probe(&rar5).unwrap().length, None);
        rar5[14] ^= 1;
        assert!(RAR.probe(&rar5).is_none());
        // RAR 4: marker block, then the 13-byte main header whose CRC-16 covers bytes 2..13.
        let mut main = vec![0x73u8, 0, 0, 13, 0];
        main.extend_from_slice(&[0; 6]);
        let crc = (crc32fast::hash(&main) & 0xffff) as u16;
        let mut rar4 = b"Rar!\x1a\x07\x00".to_vec();
        rar4.extend_from_slice(&crc.to_le_bytes());
        rar4.extend_from_slice(&main);
        assert!(RAR.probe(&rar4).is_some());
        rar4[7] ^= 1;
        assert!(RAR.probe(&rar4).is_none());
    }

    #[test]
    fn arc_is_delimited_by_its_end_marker() {
        // One stored member (method 2, 29-byte header) of 3 bytes, then the end marker.
        let mut arc = vec![0x1a, 2];
        arc.extend_from_slice(b"A.TXT\0\0\0\0\0\0\0\0");
        arc.extend_from_slice(&3u32.to_le_bytes());
        arc.extend_from_slice(&[0; 6]);
        arc.extend_from_slice(&3u32.to_le_bytes());
        arc.extend_from_slice(b"abc\x1a\x00trailing");
        assert_eq!(ARC.probe(&arc).unwrap().length, Some(29 + 3 + 2));
        // No end marker, an empty chain or an unprintable name: not an archive.
        assert!(ARC.probe(&arc[..33]).is_none());
        assert!(ARC.probe(b"\x1a\x00").is_none());
        arc[2] = 0x07;
        assert!(ARC.probe(&arc).is_none());
    }
}
