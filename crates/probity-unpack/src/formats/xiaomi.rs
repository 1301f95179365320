//! Xiaomi router firmware images ("HDR1" and "HDR2", as read by OpenWrt's `xiaomifw`). A
//! little-endian header (the magic, the offset of the signature section, a CRC-32 without final
//! inversion, a device id, for HDR2 also a device name and a region, and up to eight blob offsets,
//! ended by a zero) is followed by the blobs, each with a 48-byte header (magic `0xBABE`, flash
//! offset, size, type, a 32-byte name) and its data, and by a 272-byte signature section (a size
//! word, padding and a 256-byte RSA signature, which can not be verified without Xiaomi's key).
//! Each blob becomes a member named by its name field. OpenWrt computes the CRC from byte 12 to the
//! end of the image; other images store it over the blob area only: either range is accepted and
//! the description says which one matched.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The Xiaomi HDR1/HDR2 format.
#[derive(Debug)]
pub struct Xiaomi;

const MAGICS: &[Magic] = &[Magic::start(b"HDR1"), Magic::start(b"HDR2")];
const BLOB_HEADER_LEN: usize = 48;
const BLOB_MAGIC: u32 = 0xbabe;
const SIGNATURE_LEN: usize = 272;
/// The CRC covers everything after its own field.
const CRC_FROM: usize = 12;

struct Blob {
    at: usize,
    size: usize,
    name: Vec<u8>,
}

impl Blob {
    fn data_at(&self) -> usize {
        self.at + BLOB_HEADER_LEN
    }
}

struct Header {
    version: u8,
    len: usize,
    sig_off: usize,
    crc: u32,
    device: String,
    blobs: Vec<Blob>,
}

fn text(field: &[u8]) -> String {
    probity_model::text::escape(bytes::cstr(field))
}

fn parse(data: &[u8]) -> Option<Header> {
    let (version, len, offsets_at) = match data.get(..4)? {
        b"HDR1" => (1, 0x30, 0x10),
        b"HDR2" => (2, 0x50, 0x30),
        _ => return None,
    };
    let head = bytes::slice(data, 0, len)?;
    let sig_off = bytes::le32(head, 4)? as usize;
    if sig_off < len || sig_off > data.len() {
        return None;
    }
    let device = if version == 1 {
        format!("device {:#06x}", bytes::le16(head, 0x0e)?)
    } else {
        format!(
            "device `{}`, region `{}`",
            text(head.get(0x10..0x18)?),
            text(head.get(0x18..0x20)?)
        )
    };
    let mut blobs = Vec::new();
    for i in 0..8 {
        let at = bytes::le32(head, offsets_at + 4 * i)? as usize;
        if at == 0 {
            break;
        }
        // Every blob lies between the header and the signature section.
        if at < len || bytes::le32(data, at)? != BLOB_MAGIC {
            return None;
        }
        let size = bytes::le32(data, at + 8)? as usize;
        let end = at.checked_add(BLOB_HEADER_LEN)?.checked_add(size)?;
        if end > sig_off {
            return None;
        }
        blobs.push(Blob {
            at,
            size,
            name: bytes::cstr(bytes::slice(data, at + 16, 32)?).to_vec(),
        });
    }
    if blobs.is_empty() {
        return None;
    }
    Some(Header {
        version,
        len,
        sig_off,
        crc: bytes::le32(head, 8)?,
        device,
        blobs,
    })
}

impl Format for Xiaomi {
    fn name(&self) -> &'static str {
        "xiaomi-hdr"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let h = parse(data)?;
        Some(Probe {
            length: Some((h.sig_off + SIGNATURE_LEN) as u64),
            confidence: 90,
            description: format!(
                "Xiaomi HDR{} firmware, {}, {} blob(s)",
                h.version,
                h.device,
                h.blobs.len()
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let h = parse(data).ok_or_else(|| FormatError::invalid("bad Xiaomi HDR header"))?;
        let end = h.sig_off + SIGNATURE_LEN;
        let used = end.min(data.len());
        let signature = if used < end {
            out.note(format!(
                "signature section at {:#x} cut: {} of {SIGNATURE_LEN} bytes present",
                h.sig_off,
                used - h.sig_off
            ));
            "signature section cut".to_string()
        } else {
            format!("signature section at {:#x} (not verifiable)", h.sig_off)
        };

        // The CRC (without the final inversion) over the whole image after its field, or over
        // the blob area only.
        let whole = (used == end).then(|| !crc32fast::hash(data.get(CRC_FROM..end).unwrap_or_default()));
        let blob_area = !crc32fast::hash(data.get(h.len..h.sig_off).unwrap_or_default());
        let verdict = if whole == Some(h.crc) {
            out.verified();
            format!("CRC-32 verified (over bytes {CRC_FROM:#x}..{end:#x}, the image after the CRC field)")
        } else if blob_area == h.crc {
            out.verified();
            format!(
                "CRC-32 verified (over bytes {:#x}..{:#x}, the blob area)",
                h.len, h.sig_off
            )
        } else {
            let msg = match whole {
                Some(w) => format!(
                    "CRC-32 mismatch: stored {:#010x}, computed {w:#010x} over the image after the CRC field and {blob_area:#010x} over the blob area",
                    h.crc
                ),
                None => format!(
                    "CRC-32 mismatch: stored {:#010x}, computed {blob_area:#010x} over the blob area (the whole image is cut)",
                    h.crc
                ),
            };
            out.note(msg.clone());
            msg
        };
        out.describe(format!(
            "Xiaomi HDR{} firmware, {}, {} blob(s), {signature}; {verdict}",
            h.version,
            h.device,
            h.blobs.len()
        ));

        for (i, b) in h.blobs.iter().enumerate() {
            let name = if b.name.is_empty() {
                format!("/blob-{i}").into_bytes()
            } else {
                [b"/".as_slice(), &b.name].concat()
            };
            out.region(Entry::file(name), b.data_at() as u64, b.size as u64);
        }
        Ok(used as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{Child, ChildData, Spool};
    use crate::limits::Limits;

    /// An image with `blobs`, the CRC over the blob area (`whole` = false) or over everything
    /// after the CRC field.
    fn image(version: u8, blobs: &[(&[u8], &[u8])], whole: bool) -> Vec<u8> {
        let (len, offsets_at) = if version == 1 { (0x30, 0x10) } else { (0x50, 0x30) };
        let mut d = vec![0u8; len];
        d[..4].copy_from_slice(if version == 1 { b"HDR1" } else { b"HDR2" });
        if version == 2 {
            d[0x10..0x14].copy_from_slice(b"RA70");
            d[0x18..0x1a].copy_from_slice(b"EU");
        } else {
            d[0x0e] = 0x47;
        }
        for (i, (name, payload)) in blobs.iter().enumerate() {
            let at = d.len() as u32;
            d[offsets_at + 4 * i..offsets_at + 4 * i + 4].copy_from_slice(&at.to_le_bytes());
            d.extend_from_slice(&BLOB_MAGIC.to_le_bytes());
            d.extend_from_slice(&u32::MAX.to_le_bytes());
            d.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            d.extend_from_slice(&[0xff, 0xff, 0, 0]);
            let mut n = [0u8; 32];
            n[..name.len()].copy_from_slice(name);
            d.extend_from_slice(&n);
            d.extend_from_slice(payload);
        }
        let sig_off = d.len() as u32;
        d[4..8].copy_from_slice(&sig_off.to_le_bytes());
        let blob_crc = !crc32fast::hash(&d[len..]);
        d.extend_from_slice(&[0x5a; SIGNATURE_LEN]);
        let crc = if whole {
            !crc32fast::hash(&d[CRC_FROM..])
        } else {
            blob_crc
        };
        d[8..12].copy_from_slice(&crc.to_le_bytes());
        d
    }

    fn run(data: &[u8]) -> (u64, Vec<Child>, Vec<String>, String, bool) {
        let limits = Limits::default();
        let spool = Spool::temporary().unwrap();
        let mut x = Extractor::new(&limits, &spool, data.len() as u64, 1 << 30);
        let used = Xiaomi.extract(data, &mut x).unwrap();
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

    const BLOBS: &[(&[u8], &[u8])] = &[(b"dir/file one", b"first"), (b"kernel", b"second!!")];

    #[test]
    fn hdr1_blobs_and_blob_area_crc() {
        let d = image(1, BLOBS, false);
        assert_eq!(Xiaomi.probe(&d).unwrap().length, Some(d.len() as u64));
        let (used, children, notes, desc, verified) = run(&d);
        assert_eq!(used, d.len() as u64);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(verified);
        assert!(desc.contains("device 0x0047"), "{desc}");
        assert!(
            desc.contains("CRC-32 verified (over bytes 0x30..0x9d, the blob area)"),
            "{desc}"
        );
        assert_eq!(
            regions(&children),
            vec![
                (b"/dir/file one".to_vec(), 0x60, 5),
                (b"/kernel".to_vec(), 0x95, 8)
            ]
        );
    }

    #[test]
    fn hdr2_whole_image_crc() {
        let d = image(2, BLOBS, true);
        let (used, children, notes, desc, verified) = run(&d);
        assert_eq!(used, d.len() as u64);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(verified);
        assert!(desc.contains("device `RA70`, region `EU`"), "{desc}");
        assert!(desc.contains("the image after the CRC field"), "{desc}");
        assert_eq!(regions(&children)[0], (b"/dir/file one".to_vec(), 0x80, 5));
    }

    #[test]
    fn crc_mismatch_is_a_note() {
        let mut d = image(1, BLOBS, false);
        d[0x60] ^= 1;
        let (_, children, notes, _, verified) = run(&d);
        assert!(!verified);
        assert_eq!(children.len(), 2);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].starts_with("CRC-32 mismatch: stored"), "{notes:?}");
        // A cut signature section: still the blobs, with a note.
        let d = image(1, BLOBS, false);
        let (used, children, notes, _, _) = run(&d[..d.len() - 100]);
        assert_eq!(used, d.len() as u64 - 100);
        assert_eq!(children.len(), 2);
        assert_eq!(
            notes,
            vec!["signature section at 0x9d cut: 172 of 272 bytes present".to_string()]
        );
    }

    #[test]
    fn refuses_garbage() {
        let d = image(1, BLOBS, false);
        for n in 0..0x9d {
            assert!(Xiaomi.probe(&d[..n]).is_none(), "{n}");
        }
        let mut bad = d.clone();
        bad[0x30] = 0; // blob magic
        assert!(Xiaomi.probe(&bad).is_none());
        let mut bad = d.clone();
        bad[0x10..0x14].fill(0); // no blobs
        assert!(Xiaomi.probe(&bad).is_none());
        let mut bad = d;
        bad[0x38] = 0xf0; // blob size runs into the signature
        assert!(Xiaomi.probe(&bad).is_none());
    }
}
