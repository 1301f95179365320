//! Realtek SDK images made by `cvimg` (RTL8196/RTL8197/RTL8198 routers and OpenWrt's
//! re-implementation): a 16-byte big-endian header (a 4-character signature such as `cs6c`
//! "kernel", `cr6c` "kernel with root file system", `r6cr` "root file system", `w6cp` "web pages",
//! a load address, a flash address and a length), the payload, and a 16-bit checksum chosen so that
//! the big-endian 16-bit words of the payload and the checksum add up to zero. The length counts
//! the payload and the checksum.
//!
//! An odd-length payload is padded with a zero byte before the checksum. OpenWrt's `cvimg` then
//! counts the last byte as a sign-extended low byte and leaves the pad out of the length; the
//! SDK's counts the pad in the length. Both are accepted.
//!
//! Some SDK builds (ASRock G10, for instance) use a 20-byte header with a 4-character module tag
//! before the length (`CSYS` with the tag `RN67`); the checksum of that variant is not documented,
//! so it is only reported when it happens to follow the same rule.
//!
//! The probe requires a known signature, word-aligned addresses (the load address a flash offset
//! below 256 MiB or a MIPS KSEG0/KSEG1 address, the flash address a flash offset or a KSEG1
//! address), and the payload and checksum within the data; for the signatures that are ordinary
//! words (`boot`, `root`, `webp`) the checksum must match as well.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The Realtek cvimg format.
#[derive(Debug)]
pub struct RealtekCvimg;

/// Signatures distinctive enough to be taken on the header alone, with what they mean.
const STRONG: &[(&[u8; 4], &str)] = &[
    (b"cs6c", "kernel"),
    (b"cr6c", "kernel with root file system"),
    (b"r6cr", "root file system"),
    (b"cs6b", "kernel"),
    (b"cr6b", "kernel with root file system"),
    (b"r6br", "root file system"),
    (b"w6bg", "web pages"),
    (b"w6cg", "web pages"),
    (b"w6cp", "web pages"),
    (b"csys", "kernel"),
    (b"csro", "kernel with root file system"),
    (b"CSYS", "firmware"),
    (b"OSKR", "firmware"),
];

/// Signatures that are ordinary words: taken only when the checksum matches.
const WEAK: &[(&[u8; 4], &str)] = &[
    (b"boot", "boot loader"),
    (b"root", "root file system"),
    (b"webp", "web pages"),
];

const MAGICS: &[Magic] = &[
    Magic::start(b"cs6c"),
    Magic::start(b"cr6c"),
    Magic::start(b"r6cr"),
    Magic::start(b"cs6b"),
    Magic::start(b"cr6b"),
    Magic::start(b"r6br"),
    Magic::start(b"w6bg"),
    Magic::start(b"w6cg"),
    Magic::start(b"w6cp"),
    Magic::start(b"csys"),
    Magic::start(b"csro"),
    Magic::start(b"CSYS"),
    Magic::start(b"OSKR"),
    Magic::start(b"boot"),
    Magic::start(b"root"),
    Magic::start(b"webp"),
];

/// The largest payload a weak signature's probe will sum.
const WEAK_MAX: u32 = 32 << 20;

#[derive(Debug, Clone, Copy)]
struct Header {
    sig: [u8; 4],
    what: &'static str,
    weak: bool,
    /// 16, or 20 with a module tag.
    header_len: usize,
    start: u32,
    burn: u32,
    tag: Option<[u8; 4]>,
    /// Payload plus checksum.
    len: u32,
}

impl Header {
    /// The payload length (the length field less the checksum).
    fn payload_len(&self) -> u32 {
        self.len - 2
    }
}

/// The checksum verdict.
#[derive(Debug, Clone)]
struct Check {
    ok: bool,
    stored: u16,
    /// The checksum the payload calls for (with the pad byte counted as the boot loader does).
    expected: u16,
    /// For an odd-length payload: how its last byte was counted.
    quirk: Option<&'static str>,
}

/// The sum of the big-endian 16-bit words of `data` (an even number of bytes), mod 2^16.
fn word_sum(data: &[u8]) -> u16 {
    data.chunks_exact(2)
        .fold(0u16, |s, w| s.wrapping_add(u16::from_be_bytes([w[0], w[1]])))
}

fn plausible_addr(a: u32) -> bool {
    a.is_multiple_of(4) && (a < 0x1000_0000 || (0x8000_0000..0xc000_0000).contains(&a))
}

fn lookup(sig: &[u8; 4]) -> Option<(&'static str, bool)> {
    STRONG
        .iter()
        .find(|(s, _)| *s == sig)
        .map(|(_, w)| (*w, false))
        .or_else(|| WEAK.iter().find(|(s, _)| *s == sig).map(|(_, w)| (*w, true)))
}

fn header(data: &[u8], tagged: bool) -> Option<Header> {
    let sig: [u8; 4] = bytes::arr(data, 0)?;
    let (what, weak) = lookup(&sig)?;
    let start = bytes::be32(data, 4)?;
    let burn = bytes::be32(data, 8)?;
    let (header_len, tag, len) = if tagged {
        let tag: [u8; 4] = bytes::arr(data, 12)?;
        if !tag.iter().all(u8::is_ascii_alphanumeric) {
            return None;
        }
        (20, Some(tag), bytes::be32(data, 16)?)
    } else {
        (16, None, bytes::be32(data, 12)?)
    };
    // The module-tag variant is for ARM boards: any aligned load address.
    let start_ok = if tagged {
        start.is_multiple_of(4)
    } else {
        plausible_addr(start)
    };
    if !start_ok || !plausible_addr(burn) || (0x8000_0000..0xa000_0000).contains(&burn) {
        return None;
    }
    if len < 3 {
        return None;
    }
    Some(Header {
        sig,
        what,
        weak,
        header_len,
        start,
        burn,
        tag,
        len,
    })
}

/// Where the checksum is stored (relative to the header start): after the payload, and after a
/// pad byte when the payload length is odd. `None` when the data does not hold it.
fn locate(data: &[u8], h: &Header) -> Option<usize> {
    let n = usize::try_from(h.payload_len()).ok()?;
    let at = h.header_len.checked_add(n)?.checked_add(n % 2)?;
    bytes::be16(data, at)?;
    Some(at)
}

/// Checks the checksum stored at `at` (as found by [`locate`]).
fn verify(data: &[u8], h: &Header, at: usize) -> Check {
    let n = h.payload_len() as usize;
    let stored = bytes::be16(data, at).unwrap_or(0);
    let Some(payload) = bytes::slice(data, h.header_len, n).filter(|p| !p.is_empty()) else {
        return Check {
            ok: false,
            stored,
            expected: 0,
            quirk: None,
        };
    };
    if n.is_multiple_of(2) {
        let sum = word_sum(payload);
        return Check {
            ok: sum.wrapping_add(stored) == 0,
            stored,
            expected: sum.wrapping_neg(),
            quirk: None,
        };
    }
    // Odd: the last byte counts as the high byte of a word (the boot loader's view, and the SDK
    // tool's for bytes below 0x80), as OpenWrt's sign-extended low byte, or as a plain low byte.
    let (words, last) = payload.split_at(n - 1);
    let last = last.first().copied().unwrap_or(0);
    let base = word_sum(words);
    let high = base.wrapping_add(u16::from(last) << 8);
    let variants = [
        (high, "odd length: last byte padded"),
        (
            base.wrapping_add(i16::from(last as i8) as u16),
            "odd length: last byte as a sign-extended low byte, as OpenWrt's cvimg sums it",
        ),
        (
            base.wrapping_add(u16::from(last)),
            "odd length: last byte as a low byte",
        ),
    ];
    let hit = variants.iter().find(|(sum, _)| sum.wrapping_add(stored) == 0);
    Check {
        ok: hit.is_some(),
        stored,
        expected: high.wrapping_neg(),
        quirk: Some(hit.map_or(variants[0].1, |v| v.1)),
    }
}

/// The header at the start of `data` and where its checksum is. The payload and checksum must be
/// within the data; a weak signature's checksum must also match (the sum is computed here only
/// for those).
fn parse(data: &[u8]) -> Option<(Header, usize)> {
    let tagged = data.get(..4) == Some(b"CSYS".as_slice());
    let candidates = [true, false]
        .into_iter()
        .filter(|&t| !t || tagged)
        .filter_map(|t| header(data, t));
    for h in candidates {
        if h.weak && h.len > WEAK_MAX {
            continue;
        }
        let Some(at) = locate(data, &h) else { continue };
        if !h.weak || verify(data, &h, at).ok {
            return Some((h, at));
        }
    }
    None
}

/// The checksum verdict for the description; `None` for "not computed".
fn describe(h: &Header, c: Option<&Check>) -> String {
    let tag = h
        .tag
        .map(|t| format!(", module tag `{}`", String::from_utf8_lossy(&t)))
        .unwrap_or_default();
    let verdict = match c {
        None => String::new(),
        Some(c) if c.ok => ", checksum verified".to_string(),
        // The module-tag variant's checksum is not documented: no claim of a mismatch.
        Some(_) if h.tag.is_some() => {
            ", no 16-bit checksum recognised (undocumented for this variant)".to_string()
        }
        Some(c) => format!(
            ", checksum mismatch: stored {:#06x}, computed {:#06x}",
            c.stored, c.expected
        ),
    };
    let quirk = c
        .filter(|c| c.ok || h.tag.is_none())
        .and_then(|c| c.quirk)
        .map(|q| format!(" ({q})"))
        .unwrap_or_default();
    format!(
        "Realtek cvimg `{}` ({}){tag}, load address {:#010x}, flash address {:#x}, payload {} bytes{verdict}{quirk}",
        String::from_utf8_lossy(&h.sig),
        h.what,
        h.start,
        h.burn,
        payload(h, c),
    )
}

/// The payload length: up to the checksum, except for a module-tag image whose checksum was not
/// recognised (then the whole length).
fn payload(h: &Header, c: Option<&Check>) -> u64 {
    match c {
        Some(c) if !c.ok && h.tag.is_some() => u64::from(h.len),
        _ => u64::from(h.payload_len()),
    }
}

fn end(h: &Header, at: usize, c: Option<&Check>) -> u64 {
    match c {
        Some(c) if !c.ok && h.tag.is_some() => h.header_len as u64 + u64::from(h.len),
        _ => at as u64 + 2,
    }
}

impl Format for RealtekCvimg {
    fn name(&self) -> &'static str {
        "realtek-cvimg"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let (h, at) = parse(data)?;
        // The checksum covers the data: it is computed when extracting (and, for the weak
        // signatures, already by `parse`).
        let c = h.weak.then(|| verify(data, &h, at));
        Some(Probe {
            length: Some(end(&h, at, None)),
            confidence: if h.weak { 90 } else { 75 },
            description: describe(&h, c.as_ref()),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let (h, at) = parse(data).ok_or_else(|| FormatError::invalid("bad Realtek cvimg header"))?;
        let c = verify(data, &h, at);
        out.describe(describe(&h, Some(&c)));
        if c.ok {
            out.verified();
        } else if h.tag.is_none() {
            out.note(format!(
                "checksum mismatch: stored {:#06x}, computed {:#06x}",
                c.stored, c.expected
            ));
        }
        out.region(
            Entry::file(b"/payload".to_vec()),
            h.header_len as u64,
            payload(&h, Some(&c)),
        );
        Ok(end(&h, at, Some(&c)))
    }
}

#[cfg(test)]
mod tests {
    use super::{RealtekCvimg, word_sum};
    use crate::format::Format;
    use crate::formats::seama::tests::run;

    #[test]
    fn word_sum_matches_independent_values() {
        // Python: sum(int.from_bytes(d[i:i+2], 'big') for i in range(0, len(d), 2)) & 0xffff
        assert_eq!(word_sum(b"12345678"), 0xd0d4);
        let long: Vec<u8> = (0..100_000u32).map(|i| (i * 7 + 3) as u8).collect();
        assert_eq!(word_sum(&long), 0xa2f0);
    }

    /// An image as the SDK's cvimg makes it (pad counted in the length), with the checksum
    /// written from a constant computed in Python when given.
    fn image(sig: &[u8; 4], start: u32, burn: u32, payload: &[u8], csum: u16) -> Vec<u8> {
        let mut d = sig.to_vec();
        d.extend_from_slice(&start.to_be_bytes());
        d.extend_from_slice(&burn.to_be_bytes());
        d.extend_from_slice(&(payload.len() as u32 + 2).to_be_bytes());
        d.extend_from_slice(payload);
        d.extend_from_slice(&csum.to_be_bytes());
        d
    }

    #[test]
    fn kernel_image_verifies() {
        // The checksum of "12345678": (-0xd0d4) & 0xffff = 0x2f2c.
        let d = image(b"cs6c", 0x8050_0000, 0x30000, b"12345678", 0x2f2c);
        let p = RealtekCvimg.probe(&d).unwrap();
        assert_eq!(p.length, Some(26));
        assert_eq!(p.confidence, 75);
        assert_eq!(
            p.description,
            "Realtek cvimg `cs6c` (kernel), load address 0x80500000, flash address 0x30000, payload 8 bytes"
        );
        let (used, members, notes, desc, verified) = run(&RealtekCvimg, &d);
        assert_eq!(used, 26);
        assert_eq!(members, vec![(b"/payload".to_vec(), 16, 8)]);
        assert!(notes.is_empty());
        assert!(verified);
        assert!(desc.ends_with("payload 8 bytes, checksum verified"), "{desc}");
    }

    #[test]
    fn odd_payloads_both_ways() {
        // OpenWrt: "123" + pad 0 + checksum; the length is 3 + 2. Words: 0x3132, then 0x33 as a
        // signed low byte: sum 0x3165, checksum 0xce9b.
        let mut d = b"cs6c".to_vec();
        d.extend_from_slice(&0x8050_0000u32.to_be_bytes());
        d.extend_from_slice(&0x20000u32.to_be_bytes());
        d.extend_from_slice(&5u32.to_be_bytes());
        d.extend_from_slice(b"123\0");
        d.extend_from_slice(&0xce9bu16.to_be_bytes());
        let (used, members, notes, desc, verified) = run(&RealtekCvimg, &d);
        assert_eq!(used, 22);
        assert_eq!(members, vec![(b"/payload".to_vec(), 16, 3)]);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(verified);
        assert!(
            desc.contains("sign-extended low byte, as OpenWrt's cvimg sums it)"),
            "{desc}"
        );
        // With a last byte of 0xff, OpenWrt adds -1: "12\xff" gives 0x3132 - 1 = 0x3131,
        // checksum 0xcecf.
        let mut d2 = d.clone();
        d2[18] = 0xff;
        d2[20..22].copy_from_slice(&0xcecfu16.to_be_bytes());
        assert!(run(&RealtekCvimg, &d2).4);
        // The SDK: the pad is part of the payload and the length: "123\0" → 0x3132 + 0x3300.
        let d3 = image(b"r6cr", 0xf0000, 0x150000, b"123\0", 0x9bce);
        let (_, members, notes, _, verified) = run(&RealtekCvimg, &d3);
        assert_eq!(members, vec![(b"/payload".to_vec(), 16, 4)]);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(verified);
    }

    #[test]
    fn bad_checksum_is_reported() {
        let d = image(b"cr6c", 0x8050_0000, 0x30000, b"12345678", 0x2f2d);
        let (_, members, notes, desc, verified) = run(&RealtekCvimg, &d);
        assert_eq!(members, vec![(b"/payload".to_vec(), 16, 8)]);
        assert!(!verified);
        assert_eq!(
            notes,
            vec!["checksum mismatch: stored 0x2f2d, computed 0x2f2c".to_string()]
        );
        assert!(desc.contains("checksum mismatch"));
    }

    #[test]
    fn weak_signatures_need_the_checksum() {
        let good = image(b"root", 0x180000, 0x180000, b"12345678", 0x2f2c);
        let p = RealtekCvimg.probe(&good).unwrap();
        assert_eq!(p.confidence, 90);
        assert!(p.description.ends_with("checksum verified"), "{}", p.description);
        let bad = image(b"root", 0x180000, 0x180000, b"12345678", 0x2f2d);
        assert!(RealtekCvimg.probe(&bad).is_none());
        // Text that starts with "root" is not an image.
        assert!(RealtekCvimg.probe(b"root:x:0:0:root:/root:/bin/sh\n").is_none());
        assert!(RealtekCvimg.probe(b"boot loader version 1.2.3.4\n").is_none());
    }

    #[test]
    fn module_tag_variant() {
        // CSYS + RN67: 20-byte header; here the checksum follows the usual rule.
        let mut d = b"CSYS".to_vec();
        d.extend_from_slice(&0x4200_0000u32.to_be_bytes());
        d.extend_from_slice(&0x70000u32.to_be_bytes());
        d.extend_from_slice(b"RN67");
        d.extend_from_slice(&10u32.to_be_bytes());
        d.extend_from_slice(b"12345678");
        d.extend_from_slice(&0x2f2cu16.to_be_bytes());
        let (used, members, notes, desc, verified) = run(&RealtekCvimg, &d);
        assert_eq!(used, 30);
        assert_eq!(members, vec![(b"/payload".to_vec(), 20, 8)]);
        assert!(notes.is_empty());
        assert!(verified);
        assert!(desc.contains("module tag `RN67`"), "{desc}");
        // Without a recognisable checksum: the whole length is the payload, and no note.
        let last = d.len() - 1;
        d[last] ^= 0x55;
        let (used, members, notes, desc, verified) = run(&RealtekCvimg, &d);
        assert_eq!(used, 30);
        assert_eq!(members, vec![(b"/payload".to_vec(), 20, 10)]);
        assert!(notes.is_empty());
        assert!(!verified);
        assert!(desc.contains("no 16-bit checksum recognised"), "{desc}");
    }

    #[test]
    fn mutated_images_are_harmless() {
        crate::formats::seama::tests::mutations_are_harmless(
            "realtek-cvimg",
            &image(b"cs6c", 0x8050_0000, 0x30000, b"12345678", 0x2f2c),
        );
    }

    #[test]
    fn garbage_is_refused() {
        let good = image(b"cs6c", 0x8050_0000, 0x30000, b"12345678", 0x2f2c);
        for n in 0..good.len() {
            assert!(RealtekCvimg.probe(&good[..n]).is_none(), "{n}");
        }
        // Unaligned or implausible addresses, a length past the data, a length of 2.
        for (start, burn) in [
            (0x8050_0001, 0x30000),
            (0x7000_0000, 0x30000),
            (0x8050_0000, 0x9000_0000),
            (0xc000_0000, 0),
        ] {
            let d = image(b"cs6c", start, burn, b"12345678", 0x2f2c);
            assert!(RealtekCvimg.probe(&d).is_none(), "{start:#x} {burn:#x}");
        }
        let mut d = good.clone();
        d[12..16].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(RealtekCvimg.probe(&d).is_none());
        let d = image(b"cs6c", 0x8050_0000, 0x30000, b"", 0);
        assert!(RealtekCvimg.probe(&d).is_none());
        let mut state = 99u32;
        for _ in 0..300 {
            let mut d = b"cr6c".to_vec();
            for _ in 0..64 {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                d.push((state >> 16) as u8);
            }
            assert!(RealtekCvimg.probe(&d).is_none());
        }
    }
}
