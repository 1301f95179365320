//! D-Link "SHRS" encrypted firmware, used by the DIR-1960, DIR-2660, DIR-3040, DIR-3060 and other
//! routers. A 0x6DC-byte big-endian header gives the plaintext and ciphertext lengths, the AES IV,
//! three SHA-512 digests (of the plaintext followed by the key, of the plaintext, and of the
//! ciphertext) and two RSA signatures; the AES-128-CBC ciphertext follows it. The key is the one
//! D-Link ships in every image's `imgdecrypt` tool, which has been published. The extraction
//! decrypts the image with it and checks the three digests: all three matching proves both the
//! data and the key. The signatures are not verifiable here and are left alone.

use aes::cipher::{BlockDecryptMut, KeyIvInit, generic_array::GenericArray};
use sha2::{Digest, Sha512};

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The D-Link SHRS encrypted image format.
#[derive(Debug)]
pub struct DlinkShrs;

const MAGICS: &[Magic] = &[Magic::start(b"SHRS")];

/// Where the ciphertext starts.
const HEADER_LEN: usize = 0x6DC;

/// The AES-128 key of SHRS images. Published by 0xricksanchez in "Breaking the D-Link DIR3060
/// Firmware Encryption" (2020, with the `dlink-decrypt` script), recovered from the `imgdecrypt`
/// binary of the DIR-3060 firmware; also used by devttys0's `delink` and by unblob.
///
/// `imgdecrypt` does not store it directly: it derives it by AES-128-CBC-decrypting the block
/// [`KEY_SEED`] with the key [`KEY_WRAP`] and the IV [`KEY_WRAP_IV`] (all three published in the same
/// write-up). The unit tests redo that derivation.
const KEY: [u8; 16] = [
    0xC0, 0x5F, 0xBF, 0x19, 0x36, 0xC9, 0x94, 0x29, 0xCE, 0x2A, 0x07, 0x81, 0xF0, 0x8D, 0x6A, 0xD8,
];

/// The block `imgdecrypt` decrypts to obtain [`KEY`].
#[cfg_attr(not(test), allow(dead_code))]
const KEY_SEED: [u8; 16] = [
    0xC8, 0xD3, 0x2F, 0x40, 0x9C, 0xAC, 0xB3, 0x47, 0xC8, 0xD2, 0x6F, 0xDC, 0xB9, 0x09, 0x0B, 0x3C,
];

/// The key `imgdecrypt` decrypts [`KEY_SEED`] with.
#[cfg_attr(not(test), allow(dead_code))]
const KEY_WRAP: [u8; 16] = [
    0x35, 0x87, 0x90, 0x03, 0x45, 0x19, 0xF8, 0xC8, 0x23, 0x5D, 0xB6, 0x49, 0x28, 0x39, 0xA7, 0x3F,
];

/// The IV `imgdecrypt` decrypts [`KEY_SEED`] with.
#[cfg_attr(not(test), allow(dead_code))]
const KEY_WRAP_IV: [u8; 16] = [
    0x98, 0xC9, 0xD8, 0xF0, 0x13, 0x3D, 0x06, 0x95, 0xE2, 0xA7, 0x09, 0xC8, 0xB6, 0x96, 0x82, 0xD4,
];

/// Offsets of the header fields.
const IV_AT: usize = 0x0C;
const KEYED_DIGEST_AT: usize = 0x1C;
const PLAIN_DIGEST_AT: usize = 0x5C;
const CIPHER_DIGEST_AT: usize = 0x9C;
const UNUSED_AT: usize = 0xDC;
const UNUSED_LEN: usize = 0x200;

struct Header {
    /// Length of the plaintext (the digests cover this many bytes).
    plain_len: u32,
    /// Length of the ciphertext after the header.
    cipher_len: u32,
    iv: [u8; 16],
    /// Whether the reserved area between the digests and the signatures is zero, as expected.
    reserved_zero: bool,
}

fn parse(data: &[u8]) -> Option<Header> {
    if data.get(..4)? != b"SHRS" {
        return None;
    }
    let plain_len = bytes::be32(data, 4)?;
    let cipher_len = bytes::be32(data, 8)?;
    let iv = bytes::arr::<16>(data, IV_AT)?;
    // The whole header must be present (the digests and signatures are in it).
    let reserved = bytes::slice(data, UNUSED_AT, UNUSED_LEN)?;
    if data.len() < HEADER_LEN {
        return None;
    }
    // CBC gives at most as much plaintext as ciphertext (rounded up to a whole block), and both are
    // non-empty. A ciphertext length that is not whole blocks can not be decrypted.
    if plain_len == 0 || cipher_len == 0 || cipher_len % 16 != 0 || plain_len > cipher_len {
        return None;
    }
    Some(Header {
        plain_len,
        cipher_len,
        iv,
        reserved_zero: reserved.iter().all(|&b| b == 0),
    })
}

fn extent(h: &Header) -> u64 {
    HEADER_LEN as u64 + u64::from(h.cipher_len)
}

/// Decrypts the whole 16-byte blocks of `buf` in place with AES-128-CBC.
fn cbc_decrypt(key: &[u8; 16], iv: &[u8; 16], buf: &mut [u8]) {
    let mut dec = cbc::Decryptor::<aes::Aes128>::new(key.into(), iv.into());
    for block in buf.chunks_exact_mut(16) {
        dec.decrypt_block_mut(GenericArray::from_mut_slice(block));
    }
}

fn sha512(parts: &[&[u8]]) -> [u8; 64] {
    let mut h = Sha512::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

impl Format for DlinkShrs {
    fn name(&self) -> &'static str {
        "dlink-shrs"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        // The digests cover the whole image: they are checked when it is extracted.
        let h = parse(data)?;
        Some(Probe {
            length: Some(extent(&h)),
            confidence: if h.reserved_zero { 85 } else { 70 },
            description: format!(
                "D-Link SHRS encrypted image, {} bytes of AES-128-CBC ciphertext, {} bytes of plaintext",
                h.cipher_len, h.plain_len
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let h = parse(data).ok_or_else(|| FormatError::invalid("bad SHRS header"))?;
        let end = usize::try_from(extent(&h)).unwrap_or(usize::MAX).min(data.len());
        let cipher = data.get(HEADER_LEN..end).unwrap_or_default();
        let complete = cipher.len() as u64 == u64::from(h.cipher_len);
        if !complete {
            out.note(format!(
                "image truncated: {} of {} bytes of ciphertext present",
                cipher.len(),
                h.cipher_len
            ));
        }
        if !h.reserved_zero {
            out.note("the reserved area of the header (0xdc..0x2dc) is not zero");
        }
        let whole = cipher.len() - cipher.len() % 16;
        let mut plain = cipher.get(..whole).unwrap_or_default().to_vec();
        cbc_decrypt(&KEY, &h.iv, &mut plain);
        plain.truncate(h.plain_len as usize);

        let stored = |at| bytes::arr::<64>(data, at);
        let mut checks: Vec<(&str, bool)> = Vec::new();
        if complete {
            checks.push(("ciphertext", stored(CIPHER_DIGEST_AT) == Some(sha512(&[cipher]))));
        }
        if plain.len() as u64 == u64::from(h.plain_len) {
            checks.push(("plaintext", stored(PLAIN_DIGEST_AT) == Some(sha512(&[&plain]))));
            checks.push((
                "plaintext with key",
                stored(KEYED_DIGEST_AT) == Some(sha512(&[&plain, &KEY])),
            ));
        }
        let failed: Vec<&str> = checks.iter().filter(|c| !c.1).map(|c| c.0).collect();
        let verdict = if checks.len() == 3 && failed.is_empty() {
            out.verified();
            "all three SHA-512 digests verified".to_string()
        } else if checks.is_empty() {
            "SHA-512 digests not verifiable (truncated)".to_string()
        } else if failed.is_empty() {
            "SHA-512 digests partly verifiable (truncated), those checked match".to_string()
        } else {
            format!("SHA-512 mismatch ({})", failed.join(", "))
        };
        for f in &failed {
            out.note(format!("SHA-512 digest of the {f} does not match the header"));
        }
        if failed.contains(&"plaintext") && !failed.contains(&"ciphertext") {
            out.note("the ciphertext is intact but does not decrypt with the public SHRS key: the image may use another key");
        }
        out.describe(format!(
            "D-Link SHRS encrypted image, {} bytes of plaintext, decrypted with the public SHRS key \
             (DIR-3060 imgdecrypt key, published by 0xricksanchez), {verdict}",
            h.plain_len
        ));
        out.file(Entry::file(b"/decrypted".to_vec()), plain)?;
        Ok(end as u64)
    }
}

#[cfg(test)]
mod tests {
    use aes::cipher::{BlockEncryptMut, KeyIvInit, generic_array::GenericArray};

    use super::*;
    use crate::extract::{ChildData, Spool};
    use crate::limits::Limits;

    /// Member names and data.
    type Members = Vec<(Vec<u8>, Vec<u8>)>;

    fn encrypt(key: &[u8; 16], iv: &[u8; 16], buf: &mut [u8]) {
        let mut enc = cbc::Encryptor::<aes::Aes128>::new(key.into(), iv.into());
        for block in buf.chunks_exact_mut(16) {
            enc.encrypt_block_mut(GenericArray::from_mut_slice(block));
        }
    }

    fn image(plain: &[u8]) -> Vec<u8> {
        let mut padded = plain.to_vec();
        padded.resize(plain.len().div_ceil(16) * 16, 0);
        let iv = [0x5a; 16];
        let mut cipher = padded.clone();
        encrypt(&KEY, &iv, &mut cipher);
        let mut d = vec![0u8; HEADER_LEN];
        d[..4].copy_from_slice(b"SHRS");
        d[4..8].copy_from_slice(&(plain.len() as u32).to_be_bytes());
        d[8..12].copy_from_slice(&(cipher.len() as u32).to_be_bytes());
        d[IV_AT..IV_AT + 16].copy_from_slice(&iv);
        d[KEYED_DIGEST_AT..KEYED_DIGEST_AT + 64].copy_from_slice(&sha512(&[plain, &KEY]));
        d[PLAIN_DIGEST_AT..PLAIN_DIGEST_AT + 64].copy_from_slice(&sha512(&[plain]));
        d[CIPHER_DIGEST_AT..CIPHER_DIGEST_AT + 64].copy_from_slice(&sha512(&[&cipher]));
        d[0x2DC..HEADER_LEN].fill(0x77);
        d.extend_from_slice(&cipher);
        d
    }

    fn run(d: &[u8]) -> (u64, Members, Vec<String>, String, bool) {
        let limits = Limits::default();
        let spool = Spool::temporary().unwrap();
        let mut x = Extractor::new(&limits, &spool, d.len() as u64, 1 << 30);
        let used = DlinkShrs.extract(d, &mut x).unwrap();
        let verified = x.is_verified();
        let (children, notes, description, _) = x.into_parts();
        let members = children
            .into_iter()
            .map(|c| match c.data {
                ChildData::Bytes(b) => (c.entry.member.unwrap(), b.to_vec()),
                other => panic!("unexpected data {other:?}"),
            })
            .collect();
        (used, members, notes, description, verified)
    }

    #[test]
    fn the_key_is_derived_as_published() {
        let mut k = KEY_SEED;
        cbc_decrypt(&KEY_WRAP, &KEY_WRAP_IV, &mut k);
        assert_eq!(k, KEY);
    }

    #[test]
    fn decrypts_and_verifies() {
        let plain = b"This is a decrypted test file!\n\nand some more";
        let d = image(plain);
        let p = DlinkShrs.probe(&d).unwrap();
        assert_eq!(p.length, Some(d.len() as u64));
        let (used, members, notes, description, verified) = run(&d);
        assert_eq!(used, d.len() as u64);
        assert_eq!(members, vec![(b"/decrypted".to_vec(), plain.to_vec())]);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(verified);
        assert!(
            description.contains("all three SHA-512 digests verified"),
            "{description}"
        );
    }

    #[test]
    fn bad_digest_is_noted_but_extracted() {
        let plain = b"0123456789abcdef0123";
        let mut d = image(plain);
        d[PLAIN_DIGEST_AT] ^= 1;
        let (_, members, notes, description, verified) = run(&d);
        assert_eq!(members, vec![(b"/decrypted".to_vec(), plain.to_vec())]);
        assert!(!verified);
        assert!(
            description.contains("SHA-512 mismatch (plaintext)"),
            "{description}"
        );
        assert!(
            notes.iter().any(|n| n.contains("plaintext does not match")),
            "{notes:?}"
        );
    }

    #[test]
    fn truncated_image_is_noted() {
        let plain = [7u8; 64];
        let d = image(&plain);
        let cut = &d[..d.len() - 20];
        let (used, members, notes, _, verified) = run(cut);
        assert_eq!(used, cut.len() as u64);
        assert_eq!(members[0].1, plain[..32].to_vec());
        assert!(!verified);
        assert!(notes[0].contains("truncated"), "{notes:?}");
    }

    #[test]
    fn garbage_is_refused() {
        let d = image(b"hello");
        assert!(DlinkShrs.probe(&d[..HEADER_LEN - 1]).is_none());
        assert!(DlinkShrs.probe(b"SHRS").is_none());
        let mut bad = d.clone();
        bad[8..12].copy_from_slice(&17u32.to_be_bytes());
        assert!(DlinkShrs.probe(&bad).is_none());
        let mut bad = d.clone();
        bad[4..8].copy_from_slice(&100u32.to_be_bytes());
        assert!(DlinkShrs.probe(&bad).is_none());
        let mut bad = d;
        bad[4..8].copy_from_slice(&0u32.to_be_bytes());
        assert!(DlinkShrs.probe(&bad).is_none());
        for n in 0..64 {
            let junk: Vec<u8> = (0..n * 40).map(|i| (i * 7 + n) as u8).collect();
            let _ = DlinkShrs.probe(&junk);
        }
    }

    #[test]
    fn mutated_inputs_never_panic() {
        let valid = image(b"This is a decrypted test file!\n\nmore");
        crate::fuzzing::mutated_inputs_never_panic(&DlinkShrs, &valid);
    }
}
