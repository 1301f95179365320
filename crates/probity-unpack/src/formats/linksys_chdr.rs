//! Linksys "CHDR" firmware headers (OpenWrt's `linksys-addfwhdr`, Linksys E8350): 16 bytes in
//! the byte order of the build host (little endian): the magic `CHDR`, the length of the file
//! including the header, a CRC-32 and a reserved word that the tool sets to 1. The CRC is the
//! reflected IEEE CRC-32 started at 0xFFFFFFFF without the final inversion
//! (`cyg_crc32_accumulate`), over the reserved word's four bytes followed by the payload; it is
//! checked when extracting. The probe requires the reserved word to be 1 and the whole file to be
//! present.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The Linksys CHDR header.
#[derive(Debug)]
pub struct LinksysChdr;

const MAGICS: &[Magic] = &[Magic::start(b"CHDR")];

const HEADER_LEN: usize = 16;

struct Header {
    len: u32,
    crc: u32,
    res: [u8; 4],
}

fn parse(data: &[u8]) -> Option<Header> {
    if data.get(..4)? != b"CHDR" {
        return None;
    }
    let h = Header {
        len: bytes::le32(data, 4)?,
        crc: bytes::le32(data, 8)?,
        res: bytes::arr(data, 12)?,
    };
    if u32::from_le_bytes(h.res) != 1 || (h.len as usize) <= HEADER_LEN || h.len as usize > data.len() {
        return None;
    }
    Some(h)
}

/// The CRC the header should hold: over the reserved word and the payload, without the final
/// inversion.
fn crc(res: &[u8; 4], payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(res);
    h.update(payload);
    !h.finalize()
}

impl Format for LinksysChdr {
    fn name(&self) -> &'static str {
        "linksys-chdr"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let h = parse(data)?;
        Some(Probe {
            length: Some(u64::from(h.len)),
            // The CRC covers the payload: checked when extracting.
            confidence: 80,
            description: format!(
                "Linksys CHDR firmware header, {} bytes of payload",
                h.len as usize - HEADER_LEN
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let h = parse(data).ok_or_else(|| FormatError::invalid("bad CHDR header"))?;
        let payload = data.get(HEADER_LEN..h.len as usize).unwrap_or_default();
        let computed = crc(&h.res, payload);
        let verdict = if computed == h.crc {
            out.verified();
            "CRC-32 verified".to_string()
        } else {
            let m = format!(
                "CRC-32 mismatch: stored {:#010x}, computed {computed:#010x}",
                h.crc
            );
            out.note(m.clone());
            m
        };
        out.describe(format!(
            "Linksys CHDR firmware header, {} bytes of payload, {verdict}",
            payload.len()
        ));
        out.region(
            Entry::file(b"/payload".to_vec()),
            HEADER_LEN as u64,
            payload.len() as u64,
        );
        Ok(u64::from(h.len))
    }
}

#[cfg(test)]
mod tests {
    use super::{LinksysChdr, crc};
    use crate::format::Format;
    use crate::formats::seama::tests::run;

    /// CRC from Python: zlib.crc32(b"\x01\0\0\0" + payload) ^ 0xffffffff.
    const CRC_PAYLOAD: u32 = 0x889b_5bc1;

    fn image(payload: &[u8], stored: u32) -> Vec<u8> {
        let mut d = b"CHDR".to_vec();
        d.extend_from_slice(&(16 + payload.len() as u32).to_le_bytes());
        d.extend_from_slice(&stored.to_le_bytes());
        d.extend_from_slice(&1u32.to_le_bytes());
        d.extend_from_slice(payload);
        d
    }

    #[test]
    fn crc_matches_independent_value() {
        assert_eq!(crc(&[1, 0, 0, 0], b"sysupgrade.o payload"), CRC_PAYLOAD);
    }

    #[test]
    fn valid_image() {
        let mut d = image(b"sysupgrade.o payload", CRC_PAYLOAD);
        d.extend_from_slice(b"trailer");
        let p = LinksysChdr.probe(&d).unwrap();
        assert_eq!(p.length, Some(36));
        let (used, members, notes, desc, verified) = run(&LinksysChdr, &d);
        assert_eq!(used, 36);
        assert_eq!(members, vec![(b"/payload".to_vec(), 16, 20)]);
        assert!(notes.is_empty());
        assert!(verified);
        assert_eq!(
            desc,
            "Linksys CHDR firmware header, 20 bytes of payload, CRC-32 verified"
        );
    }

    #[test]
    fn bad_crc_is_reported() {
        let d = image(b"sysupgrade.o payload", CRC_PAYLOAD ^ 1);
        let (_, members, notes, desc, verified) = run(&LinksysChdr, &d);
        assert_eq!(members, vec![(b"/payload".to_vec(), 16, 20)]);
        assert!(!verified);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].starts_with("CRC-32 mismatch: stored"), "{notes:?}");
        assert!(desc.contains("CRC-32 mismatch"));
    }

    #[test]
    fn mutated_images_are_harmless() {
        crate::formats::seama::tests::mutations_are_harmless(
            "linksys-chdr",
            &image(b"sysupgrade.o payload", CRC_PAYLOAD),
        );
    }

    #[test]
    fn garbage_is_refused() {
        let good = image(b"sysupgrade.o payload", CRC_PAYLOAD);
        for n in 0..good.len() {
            assert!(LinksysChdr.probe(&good[..n]).is_none(), "{n}");
        }
        let mut d = good.clone();
        d[12] = 2;
        assert!(LinksysChdr.probe(&d).is_none());
        let mut d = good.clone();
        d[4..8].copy_from_slice(&16u32.to_le_bytes());
        assert!(LinksysChdr.probe(&d).is_none());
        let mut d = good;
        d[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(LinksysChdr.probe(&d).is_none());
        assert!(
            LinksysChdr
                .probe(b"CHDR and then some text, long enough")
                .is_none()
        );
    }
}
