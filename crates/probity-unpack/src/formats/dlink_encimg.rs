//! D-Link "encrpted_img" firmware (DIR-X1560, DIR-X1860, DIR-X5460 and other DIR-X models): the
//! 12-byte text magic `encrpted_img` (sic), the big-endian length of the payload, and the payload,
//! AES-256-CBC without padding. The key and IV are the same in every image and have been
//! published (see [`KEY`]). The plaintext is normally a UBI image. There is no checksum.
//!
//! How the chaining runs is not certain. unblob decrypts the payload in 128 KiB pieces (one UBI
//! physical eraseblock each) with one continuous CBC chain, and then overwrites the first 16 bytes
//! of every piece with a fixed UBI erase-counter header, because its first block comes out wrong.
//! That is what happens when the vendor restarts CBC with the same IV at every eraseblock, so this
//! module decrypts each 128 KiB piece on its own with the fixed IV, which restores those blocks
//! instead of patching them. As that reading rests on unblob's workaround and not on a real image
//! checked here, each piece's first block is also compared against the continuous-chain reading:
//! when only that one starts with the UBI magic `UBI#`, it is used (and a note says so).

use aes::cipher::{BlockDecryptMut, KeyIvInit, generic_array::GenericArray};

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The D-Link `encrpted_img` format.
#[derive(Debug)]
pub struct DlinkEncryptedImg;

const MAGIC: &[u8] = b"encrpted_img";
const MAGICS: &[Magic] = &[Magic::start(MAGIC)];
const HEADER_LEN: usize = 16;

/// The size of the pieces that are encrypted independently: a UBI physical eraseblock.
const PIECE: usize = 0x20000;

/// AES-256 key of `encrpted_img` images. Published in a conference talk on D-Link DIR-X firmware
/// (<https://www.youtube.com/watch?v=PPc5yDTFJFU>), and used by devttys0's `delink`
/// (`encrpted.rs`) and unblob's D-Link handler.
const KEY: &[u8; 32] = b"he9-4+M!)d6=m~we1,q2a3d1n&2*Z^%8";

/// AES IV of `encrpted_img` images, published with [`KEY`].
const IV: &[u8; 16] = b"J%1iQl8$=lm-;8AE";

fn payload_len(data: &[u8]) -> Option<u32> {
    if data.get(..MAGIC.len())? != MAGIC {
        return None;
    }
    let len = bytes::be32(data, 12)?;
    // Whole AES blocks, at least one.
    (len > 0 && len % 16 == 0).then_some(len)
}

/// Decrypts the whole blocks of `buf` in place with AES-256-CBC.
fn cbc_decrypt(iv: &[u8; 16], buf: &mut [u8]) {
    let mut dec = cbc::Decryptor::<aes::Aes256>::new(KEY.into(), iv.into());
    for block in buf.chunks_exact_mut(16) {
        dec.decrypt_block_mut(GenericArray::from_mut_slice(block));
    }
}

/// Decrypts `cipher` piece by piece. Returns the plaintext and how many pieces' first block was
/// taken from the continuous-chain reading.
fn decrypt(cipher: &[u8]) -> (Vec<u8>, usize) {
    let mut plain = cipher.to_vec();
    let mut chained = 0;
    for (i, piece) in plain.chunks_mut(PIECE).enumerate() {
        cbc_decrypt(IV, piece);
        // With one chain over the whole payload, the first block of this piece would have been
        // XORed with the last cipher block of the previous piece instead of the IV.
        let prev = i
            .checked_mul(PIECE)
            .and_then(|at| at.checked_sub(16))
            .and_then(|at| cipher.get(at..at + 16));
        if let (Some(prev), Some(first)) = (prev, piece.get_mut(..16)) {
            let alternative: Vec<u8> = first
                .iter()
                .zip(IV.iter().zip(prev))
                .map(|(p, (v, c))| p ^ v ^ c)
                .collect();
            if !first.starts_with(b"UBI#") && alternative.starts_with(b"UBI#") {
                first.copy_from_slice(&alternative);
                chained += 1;
            }
        }
    }
    (plain, chained)
}

impl Format for DlinkEncryptedImg {
    fn name(&self) -> &'static str {
        "dlink-encrpted-img"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let len = payload_len(data)?;
        Some(Probe {
            length: Some(HEADER_LEN as u64 + u64::from(len)),
            confidence: 85,
            description: format!("D-Link encrpted_img image, {len} bytes of AES-256-CBC ciphertext"),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let len = payload_len(data).ok_or_else(|| FormatError::invalid("bad encrpted_img header"))?;
        let end = HEADER_LEN.saturating_add(len as usize).min(data.len());
        let cipher = data.get(HEADER_LEN..end).unwrap_or_default();
        if (cipher.len() as u64) < u64::from(len) {
            out.note(format!(
                "image truncated: {} of {len} bytes of ciphertext present",
                cipher.len()
            ));
        }
        let whole = cipher.get(..cipher.len() - cipher.len() % 16).unwrap_or_default();
        let (plain, chained) = decrypt(whole);
        if chained > 0 {
            out.note(format!(
                "{chained} eraseblock(s) only start with the UBI magic when CBC is chained across eraseblocks; that reading was used for their first block"
            ));
        }
        let ubi = plain.starts_with(b"UBI#");
        out.describe(format!(
            "D-Link encrpted_img image, {len} bytes, AES-256-CBC decrypted with the public DIR-X \
             encrpted_img key (published in a conference talk; also in delink and unblob){}",
            if ubi { ", plaintext is a UBI image" } else { "" }
        ));
        out.file(Entry::file(b"/decrypted".to_vec()), plain)?;
        Ok(end as u64)
    }
}

#[cfg(test)]
mod tests {
    use aes::cipher::BlockEncryptMut;

    use super::*;
    use crate::extract::{ChildData, Spool};
    use crate::limits::Limits;

    fn encrypt(buf: &mut [u8], iv: &[u8; 16]) {
        let mut enc = cbc::Encryptor::<aes::Aes256>::new(KEY.into(), iv.into());
        for block in buf.chunks_exact_mut(16) {
            enc.encrypt_block_mut(GenericArray::from_mut_slice(block));
        }
    }

    /// An image whose plaintext is encrypted with CBC restarted at every eraseblock, or (when
    /// `chained`) with one chain throughout.
    fn image(plain: &[u8], chained: bool) -> Vec<u8> {
        let mut cipher = plain.to_vec();
        if chained {
            encrypt(&mut cipher, IV);
        } else {
            for piece in cipher.chunks_mut(PIECE) {
                encrypt(piece, IV);
            }
        }
        let mut d = MAGIC.to_vec();
        d.extend_from_slice(&(cipher.len() as u32).to_be_bytes());
        d.extend_from_slice(&cipher);
        d
    }

    fn run(d: &[u8]) -> (u64, Vec<u8>, Vec<String>, String) {
        let limits = Limits::default();
        let spool = Spool::temporary().unwrap();
        let mut x = Extractor::new(&limits, &spool, d.len() as u64, 1 << 30);
        let used = DlinkEncryptedImg.extract(d, &mut x).unwrap();
        let (children, notes, description, _) = x.into_parts();
        assert_eq!(children.len(), 1);
        assert_eq!(
            children[0].entry.member.as_deref(),
            Some(b"/decrypted".as_slice())
        );
        let bytes = match &children[0].data {
            ChildData::Bytes(b) => b.to_vec(),
            other => panic!("unexpected data {other:?}"),
        };
        (used, bytes, notes, description)
    }

    fn ubi_like(pieces: usize) -> Vec<u8> {
        let mut plain: Vec<u8> = (0..pieces * PIECE).map(|i| (i * 31 % 251) as u8).collect();
        for p in 0..pieces {
            plain[p * PIECE..p * PIECE + 4].copy_from_slice(b"UBI#");
        }
        plain
    }

    #[test]
    fn decrypts_small_image() {
        let plain = b"foobar 123 test 321 foobar test!";
        let d = image(plain, false);
        assert_eq!(DlinkEncryptedImg.probe(&d).unwrap().length, Some(48));
        let (used, bytes, notes, description) = run(&d);
        assert_eq!(used, 48);
        assert_eq!(bytes, plain);
        assert!(notes.is_empty());
        assert!(
            description.contains("public DIR-X encrpted_img key"),
            "{description}"
        );
    }

    #[test]
    fn eraseblocks_restart_the_chain() {
        let plain = ubi_like(3);
        let (_, bytes, notes, description) = run(&image(&plain, false));
        assert!(bytes == plain, "per-eraseblock decryption differs");
        assert!(notes.is_empty(), "{notes:?}");
        assert!(description.ends_with("plaintext is a UBI image"), "{description}");
    }

    #[test]
    fn a_continuous_chain_is_recognised() {
        let plain = ubi_like(3);
        let (_, bytes, notes, _) = run(&image(&plain, true));
        assert!(bytes == plain, "chained decryption differs");
        assert!(notes[0].starts_with("2 eraseblock(s)"), "{notes:?}");
    }

    #[test]
    fn truncated_image_is_noted() {
        let plain = [0x41u8; 64];
        let d = image(&plain, false);
        let (used, bytes, notes, _) = run(&d[..d.len() - 8]);
        assert_eq!(used, d.len() as u64 - 8);
        assert_eq!(bytes, plain[..48]);
        assert!(notes[0].contains("truncated"));
    }

    #[test]
    fn garbage_is_refused() {
        let d = image(&[0u8; 32], false);
        for n in 0..16 {
            assert!(DlinkEncryptedImg.probe(&d[..n]).is_none());
        }
        let mut bad = d.clone();
        bad[12..16].copy_from_slice(&33u32.to_be_bytes());
        assert!(DlinkEncryptedImg.probe(&bad).is_none());
        bad[12..16].copy_from_slice(&0u32.to_be_bytes());
        assert!(DlinkEncryptedImg.probe(&bad).is_none());
        let mut bad = d;
        bad[0] = b'E';
        assert!(DlinkEncryptedImg.probe(&bad).is_none());
        // A huge length with little data: only the data present is decrypted.
        let mut huge = MAGIC.to_vec();
        huge.extend_from_slice(&0xFFFF_FFF0u32.to_be_bytes());
        huge.extend_from_slice(&[0u8; 40]);
        let (_, bytes, notes, _) = run(&huge);
        assert_eq!(bytes.len(), 32);
        assert!(notes[0].contains("truncated"));
    }

    #[test]
    fn mutated_inputs_never_panic() {
        let valid = image(b"foobar 123 test 321 foobar test!", false);
        crate::fuzzing::mutated_inputs_never_panic(&DlinkEncryptedImg, &valid);
    }
}
