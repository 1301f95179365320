//! DrayTek Vigor 167 (and related modem) firmware images. A 256-byte big-endian header (the text
//! `2RDH`, the header size, the image size, a CRC-32 without final inversion over everything after
//! the header, then the kernel and squashfs sizes; all other bytes zero) is followed by the kernel
//! and the squashfs root file system, and by a 49-byte footer: `DrayTekImageMD5\n`, the MD5 of
//! everything before the footer in hexadecimal, and `\n`. The kernel and the root file system
//! become `/kernel` and `/rootfs`; the CRC and the MD5 are both verified, and a mismatch or a
//! damaged footer is reported without stopping the extraction.

use md5::{Digest, Md5};

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The DrayTek Vigor "2RDH" image format.
#[derive(Debug)]
pub struct Draytek;

const MAGICS: &[Magic] = &[Magic::start(b"2RDH")];
const HEADER_LEN: usize = 0x100;
const FOOTER_TAG: &[u8] = b"DrayTekImageMD5\n";
const FOOTER_LEN: usize = FOOTER_TAG.len() + 32 + 1;

struct Header {
    size_field: u32,
    crc: u32,
    kernel: usize,
    rootfs: usize,
}

impl Header {
    /// Where the footer starts: after the header, the kernel and the root file system.
    fn body_end(&self) -> usize {
        HEADER_LEN + self.kernel + self.rootfs
    }
}

fn parse(data: &[u8]) -> Option<Header> {
    let h = bytes::slice(data, 0, HEADER_LEN)?;
    if h.get(..4)? != b"2RDH" || bytes::be32(h, 4)? as usize != HEADER_LEN {
        return None;
    }
    // Everything but the named fields (and two unknown bytes at 0x89) is zero.
    let zero = |r: std::ops::Range<usize>| h.get(r).is_some_and(|s| s.iter().all(|&b| b == 0));
    if !zero(0x10..0x50) || !zero(0x58..0x89) || !zero(0x8b..HEADER_LEN) {
        return None;
    }
    let kernel = bytes::be32(h, 0x50)? as usize;
    let rootfs = bytes::be32(h, 0x54)? as usize;
    let header = Header {
        size_field: bytes::be32(h, 8)?,
        crc: bytes::be32(h, 0x0c)?,
        kernel,
        rootfs,
    };
    // The parts must at least start inside the data (the image may be cut short).
    if kernel.checked_add(rootfs)? == 0 || HEADER_LEN.checked_add(kernel)? > data.len() {
        return None;
    }
    Some(header)
}

/// What the footer at `at` says: the MD5 it records, or what is wrong with it.
fn footer(data: &[u8], at: usize) -> Result<[u8; 16], String> {
    let rest = data.get(at..).unwrap_or_default();
    let found = &rest[..rest.len().min(FOOTER_LEN)];
    let damaged = |why: &str| {
        format!(
            "footer at {at:#x} is damaged: {why} ({} bytes present, starting `{}`); the MD5 was not checked",
            found.len(),
            probity_model::text::escape(&found[..found.len().min(20)])
        )
    };
    if !rest.starts_with(FOOTER_TAG) {
        if rest.is_empty() {
            return Err(format!(
                "footer at {at:#x} is missing: the data ends there; the MD5 was not checked"
            ));
        }
        return Err(damaged("no `DrayTekImageMD5` marker"));
    }
    if rest.len() < FOOTER_LEN {
        return Err(damaged(&format!("{} of {FOOTER_LEN} bytes", rest.len())));
    }
    let hex = &rest[FOOTER_TAG.len()..FOOTER_TAG.len() + 32];
    let mut md5 = [0u8; 16];
    for (i, pair) in hex.chunks(2).enumerate() {
        let digit = |c: u8| (c as char).to_digit(16);
        match (
            pair.first().and_then(|&c| digit(c)),
            pair.get(1).and_then(|&c| digit(c)),
        ) {
            (Some(hi), Some(lo)) => md5[i] = (hi * 16 + lo) as u8,
            _ => return Err(damaged("the MD5 is not 32 hexadecimal digits")),
        }
    }
    if rest.get(FOOTER_LEN - 1) != Some(&b'\n') {
        return Err(damaged("no newline after the MD5"));
    }
    Ok(md5)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Format for Draytek {
    fn name(&self) -> &'static str {
        "draytek"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let h = parse(data)?;
        let end = h.body_end();
        let length = if footer(data, end).is_ok() {
            end + FOOTER_LEN
        } else {
            end
        };
        Some(Probe {
            length: Some(length as u64),
            confidence: 90,
            description: format!(
                "DrayTek Vigor image, kernel {} bytes, root file system {} bytes",
                h.kernel, h.rootfs
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let h = parse(data).ok_or_else(|| FormatError::invalid("bad 2RDH header"))?;
        let end = h.body_end();
        let have = end.min(data.len());
        let mut verdicts = Vec::new();
        let mut good = 0;

        if have < end {
            out.note(format!(
                "image cut: {} of {} bytes of kernel and root file system present",
                have - HEADER_LEN,
                end - HEADER_LEN
            ));
            verdicts.push("CRC-32 and MD5 not verifiable (truncated)".to_string());
        } else {
            let body = data.get(HEADER_LEN..end).unwrap_or_default();
            let crc = !crc32fast::hash(body);
            if crc == h.crc {
                good += 1;
                verdicts.push("CRC-32 verified".to_string());
            } else {
                out.note(format!(
                    "CRC-32 mismatch: stored {:#010x}, computed {crc:#010x}",
                    h.crc
                ));
                verdicts.push(format!(
                    "CRC-32 mismatch: stored {:#010x}, computed {crc:#010x}",
                    h.crc
                ));
            }
            match footer(data, end) {
                Ok(stored) => {
                    let calc = Md5::digest(data.get(..end).unwrap_or_default());
                    if calc.as_slice() == stored {
                        good += 1;
                        verdicts.push("MD5 verified".to_string());
                    } else {
                        let msg = format!("MD5 mismatch: stored {}, computed {}", hex(&stored), hex(&calc));
                        out.note(msg.clone());
                        verdicts.push(msg);
                    }
                }
                Err(problem) => {
                    out.note(problem);
                    verdicts.push("MD5 not checked (footer damaged)".to_string());
                }
            }
        }
        let with_footer = end + FOOTER_LEN;
        if h.size_field as usize != end && h.size_field as usize != with_footer {
            out.note(format!(
                "the size field says {} bytes, but the header, kernel and root file system take {end} ({with_footer} with the footer)",
                h.size_field
            ));
        }
        out.describe(format!(
            "DrayTek Vigor image, kernel {} bytes, root file system {} bytes; {}",
            h.kernel,
            h.rootfs,
            verdicts.join(", ")
        ));
        if good == 2 {
            out.verified();
        }

        let kernel_have = h.kernel.min(have - HEADER_LEN);
        if h.kernel > 0 {
            out.region(
                Entry::file(b"/kernel".to_vec()),
                HEADER_LEN as u64,
                kernel_have as u64,
            );
        }
        let rootfs_at = HEADER_LEN + h.kernel;
        if h.rootfs > 0 && rootfs_at < have {
            out.region(
                Entry::file(b"/rootfs".to_vec()),
                rootfs_at as u64,
                (have - rootfs_at) as u64,
            );
        }
        let used = if have == end && footer(data, end).is_ok() {
            with_footer
        } else {
            have
        };
        Ok(used as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{Child, ChildData, Spool};
    use crate::limits::Limits;

    fn image(kernel: &[u8], rootfs: &[u8]) -> Vec<u8> {
        let mut d = vec![0u8; HEADER_LEN];
        d[..4].copy_from_slice(b"2RDH");
        d[4..8].copy_from_slice(&(HEADER_LEN as u32).to_be_bytes());
        let end = HEADER_LEN + kernel.len() + rootfs.len();
        d[8..12].copy_from_slice(&((end + FOOTER_LEN) as u32).to_be_bytes());
        d[0x50..0x54].copy_from_slice(&(kernel.len() as u32).to_be_bytes());
        d[0x54..0x58].copy_from_slice(&(rootfs.len() as u32).to_be_bytes());
        d.extend_from_slice(kernel);
        d.extend_from_slice(rootfs);
        let crc = !crc32fast::hash(&d[HEADER_LEN..]);
        d[12..16].copy_from_slice(&crc.to_be_bytes());
        let md5 = hex(&Md5::digest(&d));
        d.extend_from_slice(FOOTER_TAG);
        d.extend_from_slice(md5.as_bytes());
        d.push(b'\n');
        d
    }

    fn run(data: &[u8]) -> (u64, Vec<Child>, Vec<String>, String, bool) {
        let limits = Limits::default();
        let spool = Spool::temporary().unwrap();
        let mut x = Extractor::new(&limits, &spool, data.len() as u64, 1 << 30);
        let used = Draytek.extract(data, &mut x).unwrap();
        let verified = x.is_verified();
        let (children, notes, desc, _) = x.into_parts();
        (used, children, notes, desc, verified)
    }

    fn regions(children: &[Child]) -> Vec<(Vec<u8>, u64, u64)> {
        children
            .iter()
            .map(|c| match c.data {
                ChildData::Region { offset, length } => (c.entry.member.clone().unwrap(), offset, length),
                _ => panic!("not a region"),
            })
            .collect()
    }

    #[test]
    fn kernel_rootfs_and_both_checks() {
        let d = image(b"KERNEL", b"hsqs-rootfs");
        assert_eq!(Draytek.probe(&d).unwrap().length, Some(d.len() as u64));
        let (used, children, notes, desc, verified) = run(&d);
        assert_eq!(used, d.len() as u64);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(verified);
        assert!(desc.ends_with("CRC-32 verified, MD5 verified"), "{desc}");
        assert_eq!(
            regions(&children),
            vec![(b"/kernel".to_vec(), 0x100, 6), (b"/rootfs".to_vec(), 0x106, 11)]
        );
    }

    #[test]
    fn mismatches_are_notes() {
        let mut d = image(b"", b"hsqs-rootfs");
        d[0x100] ^= 0x20; // the root file system changes: both checks fail
        let (used, children, notes, _, verified) = run(&d);
        assert_eq!(used, d.len() as u64);
        assert!(!verified);
        assert_eq!(regions(&children), vec![(b"/rootfs".to_vec(), 0x100, 11)]);
        assert_eq!(notes.len(), 2);
        assert!(notes[0].starts_with("CRC-32 mismatch: stored"));
        assert!(notes[1].starts_with("MD5 mismatch: stored"));
    }

    #[test]
    fn damaged_footer_is_precise() {
        // The footer loses its marker (as in FACT's invalid sample): extraction goes on.
        let d = image(b"", b"hsqs-rootfs");
        let mut cut = d[..0x10b].to_vec();
        cut.extend_from_slice(&d[0x10b + 15..]);
        let (used, children, notes, _, _) = run(&cut);
        assert_eq!(used, 0x10b);
        assert_eq!(children.len(), 1);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("footer at 0x10b is damaged: no `DrayTekImageMD5` marker (34 bytes present"),
            "{}",
            notes[0]
        );
        // A footer cut in its digest.
        let (_, _, notes, _, _) = run(&d[..d.len() - 10]);
        assert!(notes[0].contains("is damaged: 39 of 49 bytes"), "{notes:?}");
    }

    #[test]
    fn refuses_garbage() {
        let d = image(b"K", b"R");
        for n in 0..HEADER_LEN {
            assert!(Draytek.probe(&d[..n]).is_none());
        }
        let mut bad = d.clone();
        bad[0x20] = 1;
        assert!(Draytek.probe(&bad).is_none());
        let mut bad = d.clone();
        bad[0x50..0x54].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(Draytek.probe(&bad).is_none());
        let mut bad = d;
        bad[7] = 0x80;
        assert!(Draytek.probe(&bad).is_none());
    }
}
