//! ZyXEL ZyNOS ROMBIN objects (`zynos.h`, OpenWrt's `mkzynfw` and `zynsig`): a 48-byte
//! big-endian header with `SIG` at offset 6, an object type, the load address, the original and
//! compressed sizes, flags (0x80: compressed; 0x40: the original-data checksum is valid; 0x20: the
//! compressed-data checksum is valid), the two checksums, a version string and the address of the
//! memory map table. The object (`csize` bytes when compressed, else `osize`) follows the header.
//!
//! The checksums are 16-bit sums of big-endian words with the carry added back in (an odd last
//! byte is the high byte of a word). The one over the stored bytes is checked when its flag says
//! it is valid; the original-data checksum of a compressed object would need the object
//! decompressed and is not checked. OpenWrt's `mkzynfw` writes a whole-image header instead: an
//! original size of 2 and, as the "original checksum", the boot extension's magic, which the
//! checksum of everything after the header is forced to equal by a final fix-up word; that layout
//! is recognised and checked too.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The ZyNOS ROMBIN format.
#[derive(Debug)]
pub struct Zynos;

const fn at6(bytes: &'static [u8]) -> Magic {
    Magic { bytes, at: 6 }
}

const MAGICS: &[Magic] = &[
    at6(b"SIG\x01"),
    at6(b"SIG\x02"),
    at6(b"SIG\x03"),
    at6(b"SIG\x04"),
    at6(b"SIG\x05"),
    at6(b"SIG\x06"),
    at6(b"SIG\x07"),
    at6(b"SIG\x80"),
    at6(b"SIG\x81"),
    at6(b"SIG\x82"),
];

const HEADER_LEN: usize = 48;
const FLAG_COMPRESSED: u8 = 0x80;
const FLAG_OCSUM: u8 = 0x40;
const FLAG_CCSUM: u8 = 0x20;

fn type_name(t: u8) -> Option<&'static str> {
    Some(match t {
        1 => "ROM image",
        2 => "ROM boot",
        3 => "boot extension",
        4 => "ROM binary",
        5 => "ROM directory",
        6 => "type 6",
        7 => "ROM map",
        0x80 => "RAM",
        0x81 => "RAM code",
        0x82 => "RAM boot",
        _ => return None,
    })
}

/// The ZyNOS checksum: the sum of big-endian 16-bit words, adding 1 back whenever it passes
/// 0xFFFF; an odd last byte is the high byte of a word.
pub(crate) fn checksum(data: &[u8]) -> u16 {
    let mut sum = 0u32;
    for w in data.chunks(2) {
        let word = (u32::from(w[0]) << 8) | u32::from(w.get(1).copied().unwrap_or(0));
        sum += word;
        if sum > 0xffff {
            sum = (sum + 1) & 0xffff;
        }
    }
    sum as u16
}

#[derive(Debug)]
struct Header {
    addr: u32,
    ty: u8,
    osize: u32,
    csize: u32,
    flags: u8,
    ocsum: u16,
    ccsum: u16,
    version: Vec<u8>,
    mmap_addr: u32,
    /// The mkzynfw whole-image layout: the checksum of all the bytes after the header (to the
    /// end of the data) is the original checksum.
    whole_image: bool,
}

impl Header {
    fn compressed(&self) -> bool {
        self.flags & FLAG_COMPRESSED != 0
    }

    /// How many bytes follow the header.
    fn payload_len(&self, data_len: usize) -> u64 {
        if self.whole_image {
            data_len.saturating_sub(HEADER_LEN) as u64
        } else if self.compressed() {
            u64::from(self.csize)
        } else {
            u64::from(self.osize)
        }
    }
}

fn parse(data: &[u8]) -> Option<Header> {
    let head = data.get(..HEADER_LEN)?;
    if head.get(6..9)? != b"SIG" {
        return None;
    }
    let ty = head[9];
    type_name(ty)?;
    // The version: printable text, NUL-padded.
    let ver_field = &head[0x18..0x27];
    let version = bytes::cstr(ver_field);
    if !version.iter().all(|b| (0x20..0x7f).contains(b))
        || !ver_field[version.len()..].iter().all(|&b| b == 0)
    {
        return None;
    }
    let mut h = Header {
        addr: bytes::be32(head, 0)?,
        ty,
        osize: bytes::be32(head, 0x0a)?,
        csize: bytes::be32(head, 0x0e)?,
        flags: head[0x12],
        ocsum: bytes::be16(head, 0x14)?,
        ccsum: bytes::be16(head, 0x16)?,
        version: version.to_vec(),
        mmap_addr: bytes::be32(head, 0x27)?,
        whole_image: false,
    };
    if !h.addr.is_multiple_of(4) || h.osize == 0 || (h.compressed() && h.csize == 0) {
        return None;
    }
    let rest = &data[HEADER_LEN..];
    if !h.compressed() && h.osize == 2 && h.flags & FLAG_OCSUM != 0 {
        // Possibly mkzynfw's whole-image header: only then is the sum over the rest computed.
        let two = rest.get(..2)?;
        h.whole_image = checksum(two) != h.ocsum && checksum(rest) == h.ocsum;
    }
    if h.payload_len(data.len()) > rest.len() as u64 {
        return None;
    }
    Some(h)
}

fn describe(h: &Header, checks: &[String]) -> String {
    let mut s = format!(
        "ZyNOS ROMBIN {} (type {:#04x}), load address {:#010x}, ",
        type_name(h.ty).unwrap_or("object"),
        h.ty,
        h.addr
    );
    if h.whole_image {
        s.push_str("whole-image header (mkzynfw layout)");
    } else if h.compressed() {
        s.push_str(&format!(
            "compressed, {} bytes ({} bytes original)",
            h.csize, h.osize
        ));
    } else {
        s.push_str(&format!("{} bytes", h.osize));
    }
    if !h.version.is_empty() {
        s.push_str(&format!(
            ", version `{}`",
            probity_model::text::escape(&h.version)
        ));
    }
    if h.mmap_addr != 0 {
        s.push_str(&format!(", memory map at {:#010x}", h.mmap_addr));
    }
    for c in checks {
        s.push_str(", ");
        s.push_str(c);
    }
    s
}

impl Format for Zynos {
    fn name(&self) -> &'static str {
        "zynos"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let h = parse(data)?;
        Some(Probe {
            length: Some(HEADER_LEN as u64 + h.payload_len(data.len())),
            // The whole-image layout was recognised by its checksum.
            confidence: if h.whole_image { 90 } else { 70 },
            description: describe(&h, &[]),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let h = parse(data).ok_or_else(|| FormatError::invalid("bad ZyNOS ROMBIN header"))?;
        let len = h.payload_len(data.len());
        // `parse` made sure the payload is within the data.
        let payload = data
            .get(HEADER_LEN..HEADER_LEN + len as usize)
            .unwrap_or_default();
        out.check_time()?;
        let mut checks = Vec::new();
        let mut verified = true;
        let mut any = false;
        let mut check = |what: &str, stored: u16, out: &mut Extractor<'_>| {
            let computed = checksum(payload);
            any = true;
            if computed == stored {
                checks.push(format!("{what} checksum verified"));
            } else {
                verified = false;
                checks.push(format!("{what} checksum mismatch"));
                out.note(format!(
                    "{what} checksum mismatch: stored {stored:#06x}, computed {computed:#06x}"
                ));
            }
        };
        if h.whole_image {
            check("whole-image", h.ocsum, out);
        } else {
            if h.flags & FLAG_CCSUM != 0 {
                check("compressed-data", h.ccsum, out);
            }
            if h.flags & FLAG_OCSUM != 0 {
                if h.compressed() {
                    checks.push("original-data checksum not checked (compressed)".to_string());
                } else {
                    check("original-data", h.ocsum, out);
                }
            }
        }
        if !any && !checks.iter().any(|c| c.contains("not checked")) {
            checks.push("no checksum flagged as valid".to_string());
        }
        out.describe(describe(&h, &checks));
        if any && verified {
            out.verified();
        }
        if len > 0 {
            out.region(Entry::file(b"/payload".to_vec()), HEADER_LEN as u64, len);
        }
        Ok(HEADER_LEN as u64 + len)
    }
}

#[cfg(test)]
mod tests {
    use super::{Zynos, checksum};
    use crate::format::Format;
    use crate::formats::seama::tests::run;

    #[test]
    fn checksum_matches_independent_values() {
        // From a Python transcription of mkzynfw's csum_update/csum_get.
        assert_eq!(checksum(b""), 0);
        assert_eq!(checksum(b"123456789"), 0x09d5);
        assert_eq!(checksum(&[0xff; 6]), 0xffff);
        let long: Vec<u8> = (0..100_001u32).map(|i| (i * 7 + 3) as u8).collect();
        assert_eq!(checksum(&long), 0x67f7);
    }

    fn header(ty: u8, osize: u32, csize: u32, flags: u8, ocsum: u16, ccsum: u16) -> Vec<u8> {
        let mut h = vec![0u8; 48];
        h[0..4].copy_from_slice(&0x8000_8000u32.to_be_bytes());
        h[6..9].copy_from_slice(b"SIG");
        h[9] = ty;
        h[0x0a..0x0e].copy_from_slice(&osize.to_be_bytes());
        h[0x0e..0x12].copy_from_slice(&csize.to_be_bytes());
        h[0x12] = flags;
        h[0x14..0x16].copy_from_slice(&ocsum.to_be_bytes());
        h[0x16..0x18].copy_from_slice(&ccsum.to_be_bytes());
        h[0x18..0x1d].copy_from_slice(b"V3.40");
        h[0x27..0x2b].copy_from_slice(&0xb40e_0000u32.to_be_bytes());
        h
    }

    #[test]
    fn uncompressed_object_as_zynsig_writes_it() {
        let mut d = header(3, 9, 0, 0x40, 0x09d5, 0);
        d.extend_from_slice(b"123456789");
        d.extend_from_slice(b"trailing");
        let p = Zynos.probe(&d).unwrap();
        assert_eq!(p.length, Some(57));
        assert_eq!(
            p.description,
            "ZyNOS ROMBIN boot extension (type 0x03), load address 0x80008000, 9 bytes, version `V3.40`, memory map at 0xb40e0000"
        );
        let (used, members, notes, desc, verified) = run(&Zynos, &d);
        assert_eq!(used, 57);
        assert_eq!(members, vec![(b"/payload".to_vec(), 48, 9)]);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(verified);
        assert!(desc.ends_with(", original-data checksum verified"), "{desc}");
    }

    #[test]
    fn compressed_object() {
        let mut d = header(4, 1000, 9, 0xe0, 0x1234, 0x09d5);
        d.extend_from_slice(b"123456789");
        let (used, members, notes, desc, verified) = run(&Zynos, &d);
        assert_eq!(used, 57);
        assert_eq!(members, vec![(b"/payload".to_vec(), 48, 9)]);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(verified);
        assert!(
            desc.contains("compressed, 9 bytes (1000 bytes original)"),
            "{desc}"
        );
        assert!(
            desc.ends_with(
                "compressed-data checksum verified, original-data checksum not checked (compressed)"
            ),
            "{desc}"
        );
    }

    #[test]
    fn mismatch_is_reported() {
        let mut d = header(3, 9, 0, 0x40, 0x09d6, 0);
        d.extend_from_slice(b"123456789");
        let (_, members, notes, desc, verified) = run(&Zynos, &d);
        assert_eq!(members, vec![(b"/payload".to_vec(), 48, 9)]);
        assert!(!verified);
        assert_eq!(
            notes,
            vec!["original-data checksum mismatch: stored 0x09d6, computed 0x09d5".to_string()]
        );
        assert!(desc.ends_with("original-data checksum mismatch"));
        // No flag: nothing to check.
        let mut d = header(3, 9, 0, 0, 0, 0);
        d.extend_from_slice(b"123456789");
        let (_, _, notes, desc, verified) = run(&Zynos, &d);
        assert!(notes.is_empty() && !verified);
        assert!(desc.ends_with("no checksum flagged as valid"), "{desc}");
    }

    #[test]
    fn mkzynfw_whole_image_layout() {
        // osize 2, the boot extension's magic as the checksum, and a fix-up word at the end that
        // makes the sum of everything after the header equal to it (computed as mkzynfw does).
        let magic = 0x4d4d;
        let mut body = b"bootext code".to_vec();
        body.extend_from_slice(&[0xff; 20]);
        let sum = checksum(&body);
        let fix = if sum <= magic {
            magic - sum
        } else {
            magic.wrapping_sub(sum).wrapping_sub(1)
        };
        body.extend_from_slice(&fix.to_be_bytes());
        let mut d = header(3, 2, 0, 0x40, magic, 0);
        d.extend_from_slice(&body);
        let p = Zynos.probe(&d).unwrap();
        assert_eq!(p.length, Some(d.len() as u64));
        assert_eq!(p.confidence, 90);
        let (used, members, notes, desc, verified) = run(&Zynos, &d);
        assert_eq!(used, d.len() as u64);
        assert_eq!(members, vec![(b"/payload".to_vec(), 48, 34)]);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(verified);
        assert!(desc.contains("whole-image header (mkzynfw layout)"));
        assert!(desc.ends_with("whole-image checksum verified"), "{desc}");
    }

    #[test]
    fn mutated_images_are_harmless() {
        crate::formats::seama::tests::mutations_are_harmless(
            "zynos",
            &[header(3, 9, 0, 0x40, 0x09d5, 0), b"123456789".to_vec()].concat(),
        );
    }

    #[test]
    fn garbage_is_refused() {
        let mut good = header(3, 9, 0, 0x40, 0x09d5, 0);
        good.extend_from_slice(b"123456789");
        for n in 0..good.len() {
            assert!(Zynos.probe(&good[..n]).is_none(), "{n}");
        }
        // Unknown type, unaligned address, version not text, no size, size past the data.
        for (at, b) in [(9, 0x08), (3, 0x01), (0x1a, 0x07), (0x1e, b'x'), (0x0d, 0)] {
            let mut d = good.clone();
            d[at] = b;
            assert!(Zynos.probe(&d).is_none(), "{at}");
        }
        let mut d = good.clone();
        d[0x0a..0x0e].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(Zynos.probe(&d).is_none());
        // Compressed with no compressed size.
        let mut d = header(4, 9, 0, 0x80, 0, 0);
        d.extend_from_slice(b"123456789");
        assert!(Zynos.probe(&d).is_none());
        // Text that happens to contain "SIG".
        assert!(
            Zynos
                .probe(b"abcdefSIG\x01 a signal handler was installed here, see manual")
                .is_none()
        );
        let mut state = 3u32;
        for _ in 0..300 {
            let mut d = vec![0x80, 0, 0x80, 0, 0, 0];
            d.extend_from_slice(b"SIG\x04");
            for _ in 0..80 {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                d.push((state >> 16) as u8);
            }
            assert!(Zynos.probe(&d).is_none());
        }
    }
}
