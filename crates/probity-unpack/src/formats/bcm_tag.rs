//! Broadcom BCM63xx image tags (`bcm_tag.h`; made by Broadcom's `bcmImageBuilder` and OpenWrt's
//! `imagetag`): a 256-byte tag at the start of a flashable image, its fields mostly ASCII
//! decimal strings: tag version, two signature lines (`Broadcom Corporatio`, `ver. 2.0`), chip
//! and board ids, total length, the flash addresses and lengths of the boot loader (CFE), the root
//! file system and the kernel, and big-endian CRC-32s without the final inversion: of the tag's
//! first 236 bytes (checked when probing), of the image, of the root file system and of the
//! kernel (checked when extracting).
//!
//! The tag gives flash addresses, not file offsets. The file holds the tag, then the CFE if there
//! is one, then the image parts in address order; the tag itself sits in flash at the image
//! start, right before the lowest-addressed part. So this module assumes that the tag's own
//! address is that lowest part address less 256, and maps an address `a` to the file offset
//! `256 + cfe_length + (a - lowest)`. In OpenWrt's kernel-first layout the "flash image start"
//! is the kernel's address and the root file system follows the kernel (whose length includes
//! the padding up to it); in Broadcom's own layout the root file system comes first at the
//! "flash image start" and the kernel follows it.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The Broadcom image tag format.
#[derive(Debug)]
pub struct BcmTag;

const MAGICS: &[Magic] = &[Magic {
    bytes: b"Broadcom Corporatio",
    at: 4,
}];

const TAG_LEN: usize = 256;
/// The header CRC covers the tag up to here.
const HEADER_CRC_AT: usize = 236;

/// CRC-32 (IEEE, reflected) without the final inversion, as `cyg_crc32_accumulate` from
/// 0xFFFFFFFF computes it.
fn crc_noxor(data: &[u8]) -> u32 {
    !crc32fast::hash(data)
}

/// An ASCII decimal field: digits, then NUL padding; an empty field is 0.
fn decimal(field: &[u8]) -> Option<u64> {
    let digits = bytes::cstr(field);
    if !field.get(digits.len()..)?.iter().all(|&b| b == 0) {
        return None;
    }
    if digits.is_empty() {
        return Some(0);
    }
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// A part of the image: its member name and its place in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Part {
    name: &'static str,
    offset: u64,
    len: u64,
}

impl Part {
    fn end(&self) -> u64 {
        self.offset + self.len
    }
}

struct Tag {
    version: Vec<u8>,
    chip: Vec<u8>,
    board: Vec<u8>,
    header_ok: bool,
    header_crc: u32,
    /// The tag's assumed flash address.
    base: u64,
    cfe: Option<Part>,
    rootfs: Option<Part>,
    kernel: Option<Part>,
    image_crc: u32,
    rootfs_crc: u32,
    kernel_crc: u32,
}

impl Tag {
    fn parts(&self) -> impl Iterator<Item = Part> + '_ {
        [self.cfe, self.rootfs, self.kernel].into_iter().flatten()
    }

    fn end(&self) -> u64 {
        self.parts()
            .map(|p| p.end())
            .max()
            .unwrap_or(0)
            .max(TAG_LEN as u64)
    }
}

fn text(field: &[u8]) -> Option<Vec<u8>> {
    let t = bytes::cstr(field);
    t.iter().all(|b| (0x20..0x7f).contains(b)).then(|| t.to_vec())
}

fn parse(data: &[u8]) -> Option<Tag> {
    let tag = data.get(..TAG_LEN)?;
    if tag.get(4..23)? != b"Broadcom Corporatio" {
        return None;
    }
    let field = |at: usize, len: usize| decimal(&tag[at..at + len]);
    let version = bytes::cstr(&tag[0..4]);
    if version.is_empty() || decimal(&tag[0..4]).is_none() {
        return None;
    }
    if !matches!(tag[60], b'0' | b'1') || tag[61] != 0 {
        return None;
    }
    let chip = text(&tag[38..44])?;
    let board = text(&tag[44..60])?;
    let cfe_len = field(84, 10)?;
    let image_start = field(94, 12)?;
    let root_len = field(106, 10)?;
    let kernel_addr = field(116, 12)?;
    let kernel_len = field(128, 10)?;
    field(62, 10)?;
    field(72, 12)?;
    let header_crc = bytes::be32(tag, HEADER_CRC_AT)?;
    let header_ok = crc_noxor(&tag[..HEADER_CRC_AT]) == header_crc;

    // The parts in flash: the kernel where the tag says; the root file system after the kernel
    // when the "image start" is the kernel (OpenWrt), else at the image start (Broadcom).
    let kernel = (kernel_len > 0).then_some((kernel_addr, kernel_len));
    let rootfs_addr = if image_start == kernel_addr && kernel_len > 0 {
        kernel_addr.checked_add(kernel_len)?
    } else {
        image_start
    };
    let rootfs = (root_len > 0).then_some((rootfs_addr, root_len));
    let lowest = [kernel, rootfs].iter().flatten().map(|p| p.0).min()?;
    let base = lowest.checked_sub(TAG_LEN as u64)?;
    let place = |name, part: Option<(u64, u64)>| -> Option<Option<Part>> {
        match part {
            None => Some(None),
            Some((addr, len)) => Some(Some(Part {
                name,
                offset: (TAG_LEN as u64)
                    .checked_add(cfe_len)?
                    .checked_add(addr - lowest)?,
                len,
            })),
        }
    };
    let t = Tag {
        version: version.to_vec(),
        chip,
        board,
        header_ok,
        header_crc,
        base,
        cfe: (cfe_len > 0).then_some(Part {
            name: "/cfe",
            offset: TAG_LEN as u64,
            len: cfe_len,
        }),
        rootfs: place("/rootfs", rootfs)?,
        kernel: place("/kernel", kernel)?,
        image_crc: bytes::be32(tag, 216)?,
        rootfs_crc: bytes::be32(tag, 220)?,
        kernel_crc: bytes::be32(tag, 224)?,
    };
    // Without a matching header CRC, the whole image must be present.
    if !header_ok && t.end() > data.len() as u64 {
        return None;
    }
    Some(t)
}

fn describe(t: &Tag, checks: &[String]) -> String {
    let mut s = format!(
        "Broadcom BCM63xx image tag v{}, chip {}, board `{}`, tag at flash address {:#x} (assumed), ",
        probity_model::text::escape(&t.version),
        probity_model::text::escape(&t.chip),
        probity_model::text::escape(&t.board),
        t.base,
    );
    let parts: Vec<String> = t
        .parts()
        .map(|p| format!("{} {} bytes at {:#x}", &p.name[1..], p.len, p.offset))
        .collect();
    s.push_str(&parts.join(", "));
    if t.header_ok {
        s.push_str(", header CRC verified");
    } else {
        s.push_str(&format!(", header CRC mismatch (stored {:#010x})", t.header_crc));
    }
    for c in checks {
        s.push_str(", ");
        s.push_str(c);
    }
    s
}

/// The bytes of `part` when the data holds all of them.
fn whole(data: &[u8], part: Option<Part>) -> Option<&[u8]> {
    let p = part?;
    data.get(usize::try_from(p.offset).ok()?..usize::try_from(p.end()).ok()?)
}

/// Checks a stored CRC against the coverages a tag maker may have used (the usual one first);
/// `None` when the stored value is zero (not set) or the usual coverage is not all in the data.
fn check_crc(what: &str, stored: u32, coverages: &[Option<&[u8]>], out: &mut Extractor<'_>) -> Option<bool> {
    if stored == 0 || coverages.first()?.is_none() {
        return None;
    }
    let mut first = None;
    for c in coverages.iter().flatten() {
        let computed = crc_noxor(c);
        if computed == stored {
            return Some(true);
        }
        first.get_or_insert(computed);
    }
    let computed = first?;
    out.note(format!(
        "{what} CRC mismatch: stored {stored:#010x}, computed {computed:#010x}"
    ));
    Some(false)
}

impl Format for BcmTag {
    fn name(&self) -> &'static str {
        "bcm-tag"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let t = parse(data)?;
        Some(Probe {
            length: Some(t.end()),
            confidence: if t.header_ok { 100 } else { 60 },
            description: describe(&t, &[]),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let t = parse(data).ok_or_else(|| FormatError::invalid("bad Broadcom image tag"))?;
        if !t.header_ok {
            out.note(format!(
                "header CRC mismatch: stored {:#010x}, computed {:#010x}",
                t.header_crc,
                crc_noxor(data.get(..HEADER_CRC_AT).unwrap_or_default())
            ));
        }
        for p in t.parts() {
            let avail = (data.len() as u64).saturating_sub(p.offset).min(p.len);
            if avail < p.len {
                out.note(format!(
                    "{} ({} bytes at {:#x}) is cut by the end of the data: {avail} bytes present",
                    &p.name[1..],
                    p.len,
                    p.offset
                ));
            }
            if avail > 0 {
                out.region(Entry::file(p.name.as_bytes()), p.offset, avail);
            }
        }
        out.check_time()?;
        // The image CRC covers the kernel and the root file system as one span from the lower of
        // the two (or, on Pirelli boards, the kernel alone).
        let span = [t.rootfs, t.kernel]
            .into_iter()
            .flatten()
            .map(|p| p.offset)
            .min()
            .map(|offset| Part {
                name: "",
                offset,
                len: t.rootfs.map_or(0, |p| p.len) + t.kernel.map_or(0, |p| p.len),
            });
        let kernel = whole(data, t.kernel);
        let rootfs = whole(data, t.rootfs);
        // OpenWrt's imagetag sums the root file system's length from the kernel's start.
        let rootfs_from_kernel = t.kernel.zip(t.rootfs).and_then(|(k, r)| {
            whole(
                data,
                Some(Part {
                    name: "",
                    offset: k.offset,
                    len: r.len,
                }),
            )
        });
        let results = [
            (
                "image",
                check_crc("image", t.image_crc, &[whole(data, span), kernel], out),
            ),
            (
                "rootfs",
                check_crc("rootfs", t.rootfs_crc, &[rootfs, rootfs_from_kernel], out),
            ),
            ("kernel", check_crc("kernel", t.kernel_crc, &[kernel], out)),
        ];
        let mut checks = Vec::new();
        for (what, r) in &results {
            match r {
                Some(true) => checks.push(format!("{what} CRC verified")),
                Some(false) => checks.push(format!("{what} CRC mismatch")),
                None => {}
            }
        }
        out.describe(describe(&t, &checks));
        if t.header_ok && results[0].1 == Some(true) && results.iter().all(|r| r.1 != Some(false)) {
            out.verified();
        }
        Ok(t.end().min(data.len() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::{BcmTag, crc_noxor};
    use crate::format::Format;
    use crate::formats::seama::tests::run;

    #[test]
    fn crc_matches_independent_values() {
        // Python: zlib.crc32(x) ^ 0xffffffff
        assert_eq!(crc_noxor(b"123456789"), 0x340b_c6d9);
        assert_eq!(crc_noxor(b""), 0xffff_ffff);
    }

    fn put(tag: &mut [u8], at: usize, text: &str) {
        tag[at..at + text.len()].copy_from_slice(text.as_bytes());
    }

    /// A tag for OpenWrt's kernel-first layout: kernel at `base + 256`, root file system after
    /// it; `crcs` are the image, rootfs and kernel CRCs (computed in Python for the fixed test
    /// data, or zero).
    fn tag(cfe: usize, kernel: usize, rootfs: usize, crcs: [u32; 3]) -> Vec<u8> {
        let mut t = vec![0u8; 256];
        put(&mut t, 0, "6");
        put(&mut t, 4, "Broadcom Corporatio");
        put(&mut t, 24, "ver. 2.0");
        put(&mut t, 38, "6348");
        put(&mut t, 44, "96348GW-11");
        put(&mut t, 60, "1");
        put(&mut t, 62, &(kernel + rootfs).to_string());
        put(&mut t, 72, if cfe > 0 { "3217031168" } else { "0" });
        put(&mut t, 84, &cfe.to_string());
        let kernel_addr = 0xbfc1_0000u64 + 256;
        put(&mut t, 94, &kernel_addr.to_string());
        put(&mut t, 106, &rootfs.to_string());
        put(&mut t, 116, &kernel_addr.to_string());
        put(&mut t, 128, &kernel.to_string());
        for (i, c) in crcs.iter().enumerate() {
            t[216 + 4 * i..220 + 4 * i].copy_from_slice(&c.to_be_bytes());
        }
        let h = crc_noxor(&t[..236]);
        t[236..240].copy_from_slice(&h.to_be_bytes());
        t
    }

    /// The test image's parts: "KERNEL" * 10 (60 bytes), "ROOTFS" * 20 (120 bytes).
    fn parts() -> (Vec<u8>, Vec<u8>) {
        (b"KERNEL".repeat(10), b"ROOTFS".repeat(20))
    }

    /// CRC-32 without final inversion, from Python's zlib: of kernel ‖ rootfs, of the rootfs, of
    /// the kernel.
    const CRCS: [u32; 3] = [0x9d0b_e338, 0x5090_4a07, 0x93e9_e562];

    #[test]
    fn kernel_first_image() {
        let (k, r) = parts();
        let mut d = tag(0, k.len(), r.len(), CRCS);
        d.extend_from_slice(&k);
        d.extend_from_slice(&r);
        let p = BcmTag.probe(&d).unwrap();
        assert_eq!(p.confidence, 100);
        assert_eq!(p.length, Some(256 + 180));
        let (used, members, notes, desc, verified) = run(&BcmTag, &d);
        assert_eq!(used, 436);
        assert_eq!(
            members,
            vec![(b"/rootfs".to_vec(), 316, 120), (b"/kernel".to_vec(), 256, 60)]
        );
        assert!(notes.is_empty(), "{notes:?}");
        assert!(verified);
        assert_eq!(
            desc,
            "Broadcom BCM63xx image tag v6, chip 6348, board `96348GW-11`, tag at flash address 0xbfc10000 (assumed), rootfs 120 bytes at 0x13c, kernel 60 bytes at 0x100, header CRC verified, image CRC verified, rootfs CRC verified, kernel CRC verified"
        );
    }

    #[test]
    fn cfe_and_rootfs_first_layout() {
        // Broadcom's order: CFE, then the root file system at the image start, then the kernel.
        let (k, r) = parts();
        let mut t = tag(16, k.len(), r.len(), [0; 3]);
        let rootfs_addr = 0xbfc1_0000u64 + 256;
        let kernel_addr = rootfs_addr + r.len() as u64;
        t[94..106].fill(0);
        t[116..128].fill(0);
        t[94..94 + 10].copy_from_slice(rootfs_addr.to_string().as_bytes());
        t[116..126].copy_from_slice(kernel_addr.to_string().as_bytes());
        let h = crc_noxor(&t[..236]);
        t[236..240].copy_from_slice(&h.to_be_bytes());
        let mut d = t;
        d.extend_from_slice(&[0xcf; 16]);
        d.extend_from_slice(&r);
        d.extend_from_slice(&k);
        let (used, members, notes, _, verified) = run(&BcmTag, &d);
        assert_eq!(used, d.len() as u64);
        assert_eq!(
            members,
            vec![
                (b"/cfe".to_vec(), 256, 16),
                (b"/rootfs".to_vec(), 272, 120),
                (b"/kernel".to_vec(), 392, 60)
            ]
        );
        assert!(notes.is_empty(), "{notes:?}");
        // No data CRC set: only the header CRC verifies, which is not the whole image.
        assert!(!verified);
    }

    #[test]
    fn crc_mismatches_are_reported() {
        let (k, r) = parts();
        let mut d = tag(0, k.len(), r.len(), CRCS);
        d.extend_from_slice(&k);
        d.extend_from_slice(&r);
        let last = d.len() - 1;
        d[last] ^= 1;
        let (_, members, notes, desc, verified) = run(&BcmTag, &d);
        assert_eq!(members.len(), 2);
        assert!(!verified);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes[0].starts_with("image CRC mismatch: stored 0x9d0be338"),
            "{notes:?}"
        );
        assert!(notes[1].starts_with("rootfs CRC mismatch"), "{notes:?}");
        assert!(desc.ends_with("image CRC mismatch, rootfs CRC mismatch, kernel CRC verified"));
        // A damaged header CRC with the whole image present: accepted at lower confidence.
        let mut d2 = d.clone();
        d2[237] ^= 1;
        assert_eq!(BcmTag.probe(&d2).unwrap().confidence, 60);
        let (_, _, notes, _, _) = run(&BcmTag, &d2);
        assert!(notes[0].starts_with("header CRC mismatch"), "{notes:?}");
        // ... but not when the image is cut.
        assert!(BcmTag.probe(&d2[..300]).is_none());
    }

    #[test]
    fn truncated_image_with_good_tag() {
        let (k, r) = parts();
        let mut d = tag(0, k.len(), r.len(), CRCS);
        d.extend_from_slice(&k);
        d.extend_from_slice(&r[..20]);
        let (used, members, notes, _, verified) = run(&BcmTag, &d);
        assert_eq!(used, d.len() as u64);
        assert_eq!(
            members,
            vec![(b"/rootfs".to_vec(), 316, 20), (b"/kernel".to_vec(), 256, 60)]
        );
        assert!(!verified);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("rootfs (120 bytes at 0x13c) is cut"),
            "{notes:?}"
        );
    }

    #[test]
    fn mutated_images_are_harmless() {
        let (k, r) = parts();
        let mut d = tag(16, k.len(), r.len(), CRCS);
        d.extend_from_slice(&[0xcf; 16]);
        d.extend_from_slice(&k);
        d.extend_from_slice(&r);
        crate::formats::seama::tests::mutations_are_harmless("bcm-tag", &d);
    }

    #[test]
    fn garbage_is_refused() {
        let (k, r) = parts();
        let mut good = tag(0, k.len(), r.len(), CRCS);
        good.extend_from_slice(&k);
        good.extend_from_slice(&r);
        for n in 0..256 {
            assert!(BcmTag.probe(&good[..n]).is_none(), "{n}");
        }
        // Non-decimal length, a bad endianness flag, addresses below the tag size, no parts.
        for (at, bytes) in [(128, &b"12x"[..]), (60, b"2"), (0, b"A"), (116, b"000000000010")] {
            let mut d = good.clone();
            d[at..at + bytes.len()].copy_from_slice(bytes);
            let h = crc_noxor(&d[..236]);
            d[236..240].copy_from_slice(&h.to_be_bytes());
            assert!(BcmTag.probe(&d).is_none(), "{at}");
        }
        let d = tag(0, 0, 0, [0; 3]);
        assert!(BcmTag.probe(&d).is_none());
        // Huge lengths with a valid tag: nothing allocated, members cut.
        let mut d = tag(0, 9_999_999_999, 9_999_999_999, [0; 3]);
        d.extend_from_slice(&k);
        let p = BcmTag.probe(&d).unwrap();
        assert_eq!(p.length, Some(256 + 2 * 9_999_999_999));
        let (_, members, _, _, _) = run(&BcmTag, &d);
        assert_eq!(members, vec![(b"/kernel".to_vec(), 256, 60)]);
        let mut state = 5u32;
        for _ in 0..100 {
            let mut d = b"6\0\0\0Broadcom Corporatio".to_vec();
            for _ in 0..300 {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                d.push((state >> 16) as u8);
            }
            assert!(BcmTag.probe(&d).is_none());
        }
    }
}
