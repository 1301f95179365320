//! Netgear `.chk` images, as written by Netgear's `mkchkimg` and the OpenWrt and unblob tools that
//! follow it: a big-endian header of 40 bytes plus the board id (a short ASCII string, stored
//! without a terminator, so the header is `40 + strlen(board_id)` bytes), then the kernel and the
//! root file system back to back. The header carries four Netgear checksums (a Fletcher-like pair
//! of running sums folded to 16 bits each): of the kernel, of the root file system, of both as one
//! stream, and of the header itself (computed with its own field zeroed, over the 40 bytes and the
//! board id). The header checksum is checked when probing; the others when extracting. A mismatch
//! is reported, and the parts are extracted anyway.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The Netgear CHK format.
#[derive(Debug)]
pub struct NetgearChk;

const MAGICS: &[Magic] = &[Magic::start(b"*#$^")];

/// The fixed part of the header (the board id follows it).
const FIXED_LEN: usize = 40;
/// `mkchkimg` refuses longer board ids.
const MAX_BOARD_ID: usize = 64;
/// Where the header checksum is stored.
const HEADER_SUM_AT: usize = 0x24;

/// The Netgear checksum: two running 32-bit sums (of the bytes, and of the first sum after each
/// byte), each folded to 16 bits at the end.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NetgearSum {
    c0: u32,
    c1: u32,
}

impl NetgearSum {
    /// Adds `data` to the sums.
    pub(crate) fn update(&mut self, data: &[u8]) {
        let (mut c0, mut c1) = (self.c0, self.c1);
        for &b in data {
            c0 = c0.wrapping_add(u32::from(b));
            c1 = c1.wrapping_add(c0);
        }
        self.c0 = c0;
        self.c1 = c1;
    }

    /// The checksum: the folded second sum in the high half, the folded first in the low half.
    pub(crate) fn finish(self) -> u32 {
        fn fold(c: u32) -> u32 {
            let b = (c & 0xffff) + (c >> 16);
            ((b >> 16) + b) & 0xffff
        }
        (fold(self.c1) << 16) | fold(self.c0)
    }

    /// The checksum of `data` alone.
    pub(crate) fn of(data: &[u8]) -> u32 {
        let mut s = NetgearSum::default();
        s.update(data);
        s.finish()
    }
}

struct Header {
    header_len: usize,
    reserved: [u8; 8],
    kernel_sum: u32,
    rootfs_sum: u32,
    kernel_len: u32,
    rootfs_len: u32,
    image_sum: u32,
    header_sum: u32,
    board_id: Vec<u8>,
    /// Whether the stored header checksum matches.
    header_ok: bool,
}

impl Header {
    /// Where the structure ends according to the header.
    fn end(&self) -> u64 {
        self.header_len as u64 + u64::from(self.kernel_len) + u64::from(self.rootfs_len)
    }
}

/// The header checksum: over the fixed part with the checksum field zeroed, then the board id.
fn header_checksum(head: &[u8]) -> Option<u32> {
    let mut fixed: [u8; FIXED_LEN] = bytes::arr(head, 0)?;
    fixed[HEADER_SUM_AT..HEADER_SUM_AT + 4].fill(0);
    let mut s = NetgearSum::default();
    s.update(&fixed);
    s.update(head.get(FIXED_LEN..)?);
    Some(s.finish())
}

fn parse(data: &[u8]) -> Option<Header> {
    if data.get(..4)? != b"*#$^" {
        return None;
    }
    let be = |off| bytes::be32(data, off);
    let header_len = usize::try_from(be(4)?).ok()?;
    if !(FIXED_LEN..=FIXED_LEN + MAX_BOARD_ID).contains(&header_len) {
        return None;
    }
    let head = data.get(..header_len)?;
    let board_id = head.get(FIXED_LEN..)?.to_vec();
    // The board id is printable ASCII (the tool copies a command-line string without its NUL).
    if !board_id.iter().all(|b| (0x20..0x7f).contains(b)) {
        return None;
    }
    let h = Header {
        header_len,
        reserved: bytes::arr(data, 8)?,
        kernel_sum: be(0x10)?,
        rootfs_sum: be(0x14)?,
        kernel_len: be(0x18)?,
        rootfs_len: be(0x1c)?,
        image_sum: be(0x20)?,
        header_sum: be(HEADER_SUM_AT)?,
        header_ok: header_checksum(head)? == be(HEADER_SUM_AT)?,
        board_id,
    };
    if h.kernel_len == 0 && h.rootfs_len == 0 {
        return None;
    }
    // Without a matching header checksum, only a complete image with a known region code and an
    // empty rootfs checksum for an absent rootfs is accepted.
    if !h.header_ok
        && (h.end() > data.len() as u64
            || !(1..=2).contains(&h.reserved[0])
            || (h.rootfs_len == 0 && h.rootfs_sum != 0))
    {
        return None;
    }
    Some(h)
}

fn region(code: u8) -> String {
    match code {
        1 => "worldwide".to_string(),
        2 => "North America".to_string(),
        n => format!("region {n}"),
    }
}

fn describe(h: &Header, checks: &str) -> String {
    let r = &h.reserved;
    format!(
        "Netgear CHK image, board `{}`, {}, version V{}.{}.{}.{}_{}.{}.{}, kernel {} bytes, rootfs {} bytes, header checksum {}{checks}",
        probity_model::text::escape(&h.board_id),
        region(r[0]),
        r[1],
        r[2],
        r[3],
        r[4],
        r[5],
        r[6],
        r[7],
        h.kernel_len,
        h.rootfs_len,
        if h.header_ok {
            "verified".to_string()
        } else {
            format!("mismatch (stored {:#010x})", h.header_sum)
        }
    )
}

impl Format for NetgearChk {
    fn name(&self) -> &'static str {
        "netgear-chk"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let h = parse(data)?;
        Some(Probe {
            length: Some(h.end()),
            confidence: if h.header_ok { 100 } else { 60 },
            description: describe(&h, ""),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let h = parse(data).ok_or_else(|| FormatError::invalid("bad Netgear CHK header"))?;
        if !h.header_ok {
            let computed = data.get(..h.header_len).and_then(header_checksum).unwrap_or(0);
            out.note(format!(
                "header checksum mismatch: stored {:#010x}, computed {computed:#010x}",
                h.header_sum
            ));
        }
        let kernel_at = h.header_len as u64;
        let rootfs_at = kernel_at + u64::from(h.kernel_len);
        let parts = [
            ("/kernel", kernel_at, h.kernel_len, "kernel", h.kernel_sum),
            ("/rootfs", rootfs_at, h.rootfs_len, "rootfs", h.rootfs_sum),
        ];
        let mut checks = Vec::new();
        let mut all_ok = h.header_ok;
        let mut image = NetgearSum::default();
        let mut complete = true;
        for (name, at, len, what, stored) in parts {
            out.check_time()?;
            if len == 0 {
                continue;
            }
            let avail = (data.len() as u64).saturating_sub(at).min(u64::from(len));
            if avail < u64::from(len) {
                complete = false;
                out.note(format!(
                    "{what} ({len} bytes at {at:#x}) is cut by the end of the data: {avail} bytes present; its checksum was not checked"
                ));
            }
            if avail > 0 {
                out.region(Entry::file(name.as_bytes()), at, avail);
            }
            // Both offsets are within the data when the part is complete.
            let Some(part) = data.get(at as usize..(at + u64::from(len)) as usize) else {
                all_ok = false;
                continue;
            };
            image.update(part);
            let computed = NetgearSum::of(part);
            if computed == stored {
                checks.push(format!("{what} checksum verified"));
            } else {
                all_ok = false;
                checks.push(format!("{what} checksum mismatch"));
                out.note(format!(
                    "{what} checksum mismatch: stored {stored:#010x}, computed {computed:#010x}"
                ));
            }
        }
        if h.rootfs_len == 0 && h.rootfs_sum != 0 {
            out.note(format!(
                "no rootfs, but a rootfs checksum of {:#010x} is stored",
                h.rootfs_sum
            ));
        }
        if complete {
            let computed = image.finish();
            if computed == h.image_sum {
                checks.push("image checksum verified".to_string());
            } else {
                all_ok = false;
                checks.push("image checksum mismatch".to_string());
                out.note(format!(
                    "image checksum mismatch: stored {:#010x}, computed {computed:#010x}",
                    h.image_sum
                ));
            }
        }
        let checks = if checks.is_empty() {
            String::new()
        } else {
            format!(", {}", checks.join(", "))
        };
        out.describe(describe(&h, &checks));
        if all_ok && complete {
            out.verified();
        }
        Ok(h.end().min(data.len() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::{NetgearChk, NetgearSum};
    use crate::format::Format;
    use crate::formats::seama::tests::Run;

    /// 100 000 bytes of `(i * 7 + 3) mod 256`: long enough that both 32-bit sums wrap.
    fn long_input() -> Vec<u8> {
        (0..100_000u32).map(|i| (i * 7 + 3) as u8).collect()
    }

    #[test]
    fn checksum_matches_independent_values() {
        // Computed with a separate Python implementation (big integers reduced mod 2^32, then
        // folded) of the algorithm in mkchkimg.c.
        assert_eq!(NetgearSum::of(b""), 0);
        assert_eq!(NetgearSum::of(b"123456789"), 0x0915_01dd);
        assert_eq!(NetgearSum::of(&long_input()), 0x5701_8972);
        // Feeding in pieces gives the same result.
        let mut s = NetgearSum::default();
        let data = long_input();
        s.update(&data[..12_345]);
        s.update(&data[12_345..]);
        assert_eq!(s.finish(), 0x5701_8972);
    }

    /// A CHK image with the given parts; checksums computed by the module's (separately checked)
    /// checksum function.
    fn image(board: &[u8], kernel: &[u8], rootfs: &[u8]) -> Vec<u8> {
        let mut d = Vec::new();
        d.extend_from_slice(b"*#$^");
        d.extend_from_slice(&(40 + board.len() as u32).to_be_bytes());
        d.extend_from_slice(&[2, 1, 0, 3, 4, 10, 0, 5]);
        let mut img = NetgearSum::default();
        img.update(kernel);
        img.update(rootfs);
        let rootfs_sum = if rootfs.is_empty() {
            0
        } else {
            NetgearSum::of(rootfs)
        };
        for v in [
            NetgearSum::of(kernel),
            rootfs_sum,
            kernel.len() as u32,
            rootfs.len() as u32,
            img.finish(),
            0,
        ] {
            d.extend_from_slice(&v.to_be_bytes());
        }
        d.extend_from_slice(board);
        let hs = NetgearSum::of(&d);
        d[0x24..0x28].copy_from_slice(&hs.to_be_bytes());
        d.extend_from_slice(kernel);
        d.extend_from_slice(rootfs);
        d
    }

    fn run(d: &[u8]) -> Run {
        crate::formats::seama::tests::run(&NetgearChk, d)
    }

    #[test]
    fn valid_image_yields_kernel_and_rootfs() {
        let kernel = long_input();
        let d = image(b"U12H270T00_NETGEAR", &kernel[..5000], b"hsqs rootfs bytes");
        let p = NetgearChk.probe(&d).unwrap();
        assert_eq!(p.confidence, 100);
        assert_eq!(p.length, Some(58 + 5000 + 17));
        assert!(
            p.description.contains("board `U12H270T00_NETGEAR`"),
            "{}",
            p.description
        );
        assert!(p.description.contains("North America, version V1.0.3.4_10.0.5"));
        let (used, members, notes, desc, verified) = run(&d);
        assert_eq!(used, d.len() as u64);
        assert_eq!(
            members,
            vec![(b"/kernel".to_vec(), 58, 5000), (b"/rootfs".to_vec(), 5058, 17)]
        );
        assert!(notes.is_empty(), "{notes:?}");
        assert!(verified);
        assert!(
            desc.ends_with(
                "header checksum verified, kernel checksum verified, rootfs checksum verified, image checksum verified"
            ),
            "{desc}"
        );
    }

    #[test]
    fn kernel_only_image() {
        let d = image(b"R7000", b"HDR0 a trx would be here", b"");
        let (used, members, notes, _, verified) = run(&d);
        assert_eq!(used, d.len() as u64);
        assert_eq!(members, vec![(b"/kernel".to_vec(), 45, 24)]);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(verified);
    }

    #[test]
    fn bad_checksums_are_reported_but_parts_extracted() {
        let mut d = image(b"R7000", b"kernel", b"rootfs");
        // A flipped rootfs byte: rootfs and image checksums fail, the header still verifies.
        let last = d.len() - 1;
        d[last] ^= 1;
        let (_, members, notes, desc, verified) = run(&d);
        assert_eq!(members.len(), 2);
        assert!(!verified);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes[0].starts_with("rootfs checksum mismatch: stored 0x"),
            "{notes:?}"
        );
        assert!(notes[1].starts_with("image checksum mismatch"), "{notes:?}");
        assert!(desc.contains("rootfs checksum mismatch"));
        // A damaged header checksum: still accepted (complete image, known region), lower
        // confidence, a note.
        let mut d = image(b"R7000", b"kernel", b"rootfs");
        d[0x27] ^= 0x10;
        assert_eq!(NetgearChk.probe(&d).unwrap().confidence, 60);
        let (_, members, notes, _, verified) = run(&d);
        assert_eq!(members.len(), 2);
        assert!(!verified);
        assert!(notes[0].starts_with("header checksum mismatch"), "{notes:?}");
    }

    #[test]
    fn truncated_image_with_good_header_is_cut() {
        let d = image(b"R7000", &[0x55; 300], &[0x66; 300]);
        let cut = &d[..45 + 400];
        let p = NetgearChk.probe(cut).unwrap();
        assert_eq!(p.length, Some(45 + 600));
        let (used, members, notes, _, verified) = run(cut);
        assert_eq!(used, cut.len() as u64);
        assert_eq!(
            members,
            vec![(b"/kernel".to_vec(), 45, 300), (b"/rootfs".to_vec(), 345, 100)]
        );
        assert!(!verified);
        assert_eq!(notes.len(), 1, "{notes:?}");
        // The same truncation with a broken header checksum is refused.
        let mut bad = cut.to_vec();
        bad[0x24] ^= 1;
        assert!(NetgearChk.probe(&bad).is_none());
    }

    #[test]
    fn mutated_images_are_harmless() {
        crate::formats::seama::tests::mutations_are_harmless(
            "netgear-chk",
            &image(b"R7000", b"kernel", b"rootfs"),
        );
    }

    #[test]
    fn garbage_is_refused() {
        let good = image(b"R7000", b"kernel", b"rootfs");
        for n in 0..good.len() {
            let _ = NetgearChk.probe(&good[..n]);
        }
        for n in 0..45 {
            assert!(NetgearChk.probe(&good[..n]).is_none(), "{n}");
        }
        // A header length out of range, a board id with a control byte, no parts at all.
        let mut d = good.clone();
        d[4..8].copy_from_slice(&200u32.to_be_bytes());
        assert!(NetgearChk.probe(&d).is_none());
        let mut d = image(b"R7\x01000", b"kernel", b"rootfs");
        assert!(NetgearChk.probe(&d).is_none());
        d = image(b"R7000", b"", b"");
        assert!(NetgearChk.probe(&d).is_none());
        // Huge lengths with a broken header checksum.
        let mut d = good.clone();
        d[0x18..0x1c].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(NetgearChk.probe(&d).is_none());
        // Pseudo-random bytes behind the magic.
        let mut state = 0x1234_5678u32;
        for _ in 0..200 {
            let mut d = b"*#$^".to_vec();
            for _ in 0..200 {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                d.push((state >> 16) as u8);
            }
            assert!(NetgearChk.probe(&d).is_none());
        }
    }

    #[test]
    fn huge_lengths_with_valid_header_do_not_allocate() {
        let mut d = image(b"R7000", b"k", b"r");
        d[0x18..0x1c].copy_from_slice(&u32::MAX.to_be_bytes());
        d[0x1c..0x20].copy_from_slice(&u32::MAX.to_be_bytes());
        d[0x24..0x28].fill(0);
        let hs = NetgearSum::of(&d[..45]);
        d[0x24..0x28].copy_from_slice(&hs.to_be_bytes());
        let p = NetgearChk.probe(&d).unwrap();
        assert_eq!(p.length, Some(45 + 2 * u64::from(u32::MAX)));
        let (used, members, notes, _, _) = run(&d);
        assert_eq!(used, d.len() as u64);
        assert_eq!(members, vec![(b"/kernel".to_vec(), 45, 2)]);
        assert_eq!(notes.len(), 2, "{notes:?}");
    }
}
