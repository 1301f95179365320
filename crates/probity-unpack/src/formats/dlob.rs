//! D-Link "DLOB" images (binwalk's name for them): two big-endian headers back to back, both with
//! the SEAMA magic `0x5EA3A417`. The first is 12 bytes (magic, metadata size, data size, which is
//! zero) followed by its metadata (typically `signature=<device>`); the second is 28 bytes
//! (magic, metadata size, data size, 16 more bytes) followed by its metadata (such as
//! `dev=/dev/mtdblock/1` and `type=firmware`) and the payload.
//!
//! Byte for byte this is a SEAMA seal holding exactly one entity, and the 16 bytes are the MD5 of
//! the payload in the images D-Link's `seama` tool makes: the MD5 is checked, and a mismatch is
//! reported. The split with [`crate::formats::seama`] is by the number of entities: this module
//! takes a metadata-only header followed by exactly one second header (nothing but the end of
//! the data or a non-SEAMA byte after its payload); SEAMA takes lone entities and seals of two or
//! more entities.

use crate::extract::Extractor;
use crate::format::{Format, FormatError, Magic, Probe};
use crate::formats::seama::{self, Entity};

/// The DLOB format.
#[derive(Debug)]
pub struct Dlob;

const MAGICS: &[Magic] = &[Magic::start(&seama::MAGIC)];

struct Header {
    meta: Vec<u8>,
    second: Entity,
}

fn parse(data: &[u8]) -> Option<Header> {
    // Header 1: metadata only (data size 0), then header 2 right after its metadata.
    let (meta, first) = seama::seal(data)?;
    let mut list = seama::entities(data, first);
    if list.len() != 1 {
        return None;
    }
    let second = list.pop()?;
    Some(Header { meta, second })
}

fn describe(h: &Header, verdict: &str) -> String {
    format!(
        "D-Link DLOB image, meta `{}`, second header meta `{}`, payload {} bytes at {:#x}{verdict}",
        seama::meta_summary(&h.meta),
        seama::meta_summary(&h.second.meta),
        h.second.size,
        h.second.data_at
    )
}

impl Format for Dlob {
    fn name(&self) -> &'static str {
        "dlob"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let h = parse(data)?;
        Some(Probe {
            length: Some(h.second.end()),
            confidence: if h.second.complete(data) { 80 } else { 60 },
            description: describe(&h, ""),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let h = parse(data).ok_or_else(|| FormatError::invalid("bad DLOB headers"))?;
        let (ok, verdicts) = seama::extract_entities(
            data,
            std::slice::from_ref(&h.second),
            |_| "/image".to_string(),
            out,
        )?;
        let verdict = verdicts
            .first()
            .map(|v| format!(", {}", v.replace("/image ", "payload ")))
            .unwrap_or_default();
        out.describe(describe(&h, &verdict));
        if ok {
            out.verified();
        }
        Ok(h.second.end().min(data.len() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::Dlob;
    use crate::format::Format;
    use crate::formats::seama::Seama;
    use crate::formats::seama::tests::{MD5_FIRMWARE, MD5_SECOND, entity, meta, run, seal};

    fn image() -> Vec<u8> {
        let second = entity(
            &meta(&["dev=/dev/mtdblock/1", "type=firmware"]),
            b"firmware image data",
            MD5_FIRMWARE,
        );
        seal(&meta(&["signature=wrgac25_dlink.2013gui_dir850l"]), &[second])
    }

    #[test]
    fn two_headers_and_the_payload() {
        let d = image();
        // Header 1: 12 + 40 bytes of metadata; header 2: 28 + 36; payload 19 bytes.
        assert_eq!(d.len(), 12 + 40 + 28 + 36 + 19);
        let p = Dlob.probe(&d).unwrap();
        assert_eq!(p.length, Some(d.len() as u64));
        assert_eq!(p.confidence, 80);
        assert!(Seama.probe(&d).is_none());
        let (used, members, notes, desc, verified) = run(&Dlob, &d);
        assert_eq!(used, d.len() as u64);
        assert_eq!(members, vec![(b"/image".to_vec(), 116, 19)]);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(verified);
        assert_eq!(
            desc,
            "D-Link DLOB image, meta `signature=wrgac25_dlink.2013gui_dir850l`, second header meta `dev=/dev/mtdblock/1; type=firmware`, payload 19 bytes at 0x74, payload MD5 verified"
        );
    }

    #[test]
    fn md5_mismatch_is_reported_and_payload_kept() {
        let mut d = image();
        d[12 + 40 + 12] ^= 0xff;
        let (_, members, notes, desc, verified) = run(&Dlob, &d);
        assert_eq!(members, vec![(b"/image".to_vec(), 116, 19)]);
        assert!(!verified);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].starts_with("/image: MD5 mismatch"), "{notes:?}");
        assert!(desc.ends_with("payload MD5 mismatch"), "{desc}");
    }

    #[test]
    fn truncated_payload_is_cut() {
        let d = image();
        let cut = &d[..d.len() - 4];
        let p = Dlob.probe(cut).unwrap();
        assert_eq!(p.confidence, 60);
        assert_eq!(p.length, Some(d.len() as u64));
        let (used, members, notes, _, verified) = run(&Dlob, cut);
        assert_eq!(used, cut.len() as u64);
        assert_eq!(members, vec![(b"/image".to_vec(), 116, 15)]);
        assert!(!verified);
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn seama_shapes_are_refused() {
        // A lone entity (no metadata-only first header), and a seal of two entities.
        let e = entity(&meta(&["type=firmware"]), b"firmware image data", MD5_FIRMWARE);
        assert!(Dlob.probe(&e).is_none());
        let e2 = entity(&meta(&["type=x"]), b"second entity", MD5_SECOND);
        assert!(
            Dlob.probe(&seal(&meta(&["signature=x"]), &[e.clone(), e2]))
                .is_none()
        );
        // Header 1 with a data size, header 1 alone, header 2 without a payload.
        let mut d = image();
        d[11] = 1;
        assert!(Dlob.probe(&d).is_none());
        let d = seal(&meta(&["signature=x"]), &[]);
        assert!(Dlob.probe(&d).is_none());
        let d = seal(&meta(&["signature=x"]), &[entity(&meta(&["a=b"]), b"", [0; 16])]);
        assert!(Dlob.probe(&d).is_none());
    }

    #[test]
    fn mutated_images_are_harmless() {
        crate::formats::seama::tests::mutations_are_harmless("dlob", &image());
    }

    #[test]
    fn garbage_is_refused() {
        let good = image();
        for n in 0..116 {
            assert!(Dlob.probe(&good[..n]).is_none(), "{n}");
        }
        // A metadata size pointing past the data, and one that is not text.
        let mut d = good.clone();
        d[6] = 0xff;
        assert!(Dlob.probe(&d).is_none());
        let mut d = good;
        d[12] = 0x01;
        assert!(Dlob.probe(&d).is_none());
        let mut state = 7u32;
        for _ in 0..200 {
            let mut d = crate::formats::seama::MAGIC.to_vec();
            d.extend_from_slice(&[0, 0, 0, 8, 0, 0, 0, 0]);
            for _ in 0..100 {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                d.push((state >> 16) as u8);
            }
            assert!(Dlob.probe(&d).is_none());
        }
    }
}
