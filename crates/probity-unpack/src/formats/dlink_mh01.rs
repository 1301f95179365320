//! D-Link "MH01" firmware images (E15, E30, R12, R15, R18, M18, M30, M32, M60 mesh routers). An
//! MH01 header is 16 bytes: the magic, the lengths of the two parts that follow it, and a marker
//! (`2B 1A` or `1A 2B`) that says whether those lengths are little or big endian. Released images
//! nest three of them: the outer MH01 holds an inner MH01 and an RSA signature; the inner one holds
//! the AES IV as a line of hex text and an OpenSSL `enc` blob ("Salted__", an 8-byte salt, then
//! AES-128-CBC ciphertext); the decrypted blob is again an MH01 holding the firmware and a second
//! signature.
//!
//! The AES key is derived from a password as `openssl enc -md sha256` does (EVP_BytesToKey with
//! SHA-256 and one round: the first 16 bytes of SHA-256(password ‖ salt)); the IV in the header is
//! used instead of the derived one. The passwords D-Link uses are public (see [`PASSWORDS`]); each
//! is tried on the first cipher block until one yields an MH01 header, and the result is then
//! checked for valid PKCS#7 padding. There is no checksum: a successful decryption (the inner MH01
//! header and the padding) is the check. The RSA signatures can not be verified here.
//!
//! An MH01 image that does not have this nested layout is unpacked as a plain container: its first
//! part is the firmware and its second the signature.

use aes::cipher::{BlockDecryptMut, KeyIvInit, generic_array::GenericArray};
use sha2::{Digest, Sha256};

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes, bytes::Endian};

/// The D-Link MH01 format.
#[derive(Debug)]
pub struct DlinkMh01;

const MAGICS: &[Magic] = &[Magic::start(b"MH01")];

const HEADER_LEN: usize = 16;

/// The passwords of D-Link's MH01 images, with the models they belong to where known.
///
/// D-Link published them in its GPL source code release for these devices (for example
/// `M30_sw_reva_GPLcode.tgz` on ftp.dlink.de). The labelled ones are the list in devttys0's
/// `delink` (`mh01.rs`); the others are from the `KEYS` list of FACT's `dlink_mh01` unpacker plugin
/// (which cites the same GPL release); the two lists overlap in part, and this is their union.
pub const PASSWORDS: &[(&str, &str)] = &[
    ("044b4e59846ecee953662ff2238fcc23", "E15 v1.00-v1.20"),
    ("927fc5786df1a9557524a0289e1e3f3b", "E15 > v1.20"),
    ("4d5ee2c8b5d0fdd9a9a2d351ba897752", "E30 v1.00-v1.10"),
    ("238a29b9432f688e30b701548c753146", "E30 > v1.10"),
    ("a4f7c17c3e0aa4532c2024ce6ac5f17c", "R12 v1.00-v1.10"),
    ("6b5a65dbc1ebc492ac6d8efbbb59ae09", "R12 > v1.10"),
    ("70070e579f97548a96a7794d4d779376", "R15 v1.00-v1.20"),
    ("7b4df82f7f042b9d0b40971be0ff53c4", "R15 > v1.20"),
    ("6276ccf4c1d8d6f54b481095e78ff97f", "R18"),
    ("1ae6c79be7d069ca74df7670bdfc4952", "M18"),
    ("b4517d9b98e04d9f075f5e78c743e097", "M30 v1.02-v1.10"),
    ("05c79b73cf88619d7b9725505cfd718f", "M30 > v1.10"),
    ("6b29f1d663a21b35fb45b69a42649f5e", "M32 v1.00-v1.10"),
    ("1bfb1004e29f9eb76dbe26eb0dd87cd1", "M32 > v1.10"),
    ("c5f8a1e22f808abc84f2e4a6fa5f10bb", "M60 v1.10"),
    ("6420da70a975455e4ddd6b8fa5b652e7", "M60 > v1.10"),
    ("08324188e8c509105186636274cf4bea", ""),
    ("0b8073ca811bf3de07a4b79d90cdb49e", ""),
    ("0bcca591c37f932c839d1eaa4dafc292", ""),
    ("118e57f905f0690157f8389b745b6ac8", ""),
    ("29f9ef6781fa478377d9954187fd078b", ""),
    ("3fb5d73c6ee959edb17ab70f4fb097cf", ""),
    ("443a194860796cd9d9a24d99c4242e64", ""),
    ("4e5aad6e440bdd16bdc8b6ad441e47ba", ""),
    ("5655840cefb7da085e7c3d9640e64922", ""),
    ("5c67ae65b2329711441a965bc3a73667", ""),
    ("6922920d95a6a48a44d8bf237bea3924", ""),
    ("6cc5de3f0022442fe809981fc1f40d4d", ""),
    ("80c4d262297149e54c04a91bc3329175", ""),
    ("94706d6f4245039c411af6c3a705e607", ""),
    ("95d620854d9a51c90ae0a22787f50e17", ""),
    ("a07e5f355c8f4037a218d791e2d58fa6", ""),
    ("b0b2e9efd78ec5dba99e02293c36a94f", ""),
    ("b40c8b7a06b235471b69591021f82e60", ""),
    ("c5ffe41dcdd9518060243921393e7d19", ""),
    ("ddcada1120056f68738e39d7336630eb", ""),
    ("df9c62b095a04e1f67bf4ffe21117eae", ""),
    ("e1d72a0952b1d349be0b7a32fbd1341e", ""),
    ("e5af7b6761f9791b6a522738275002db", ""),
    ("f21247200ea5d552efa08740522d0ff1", ""),
    ("f23051f55ed058c103c25ec37c6e1601", ""),
    ("fa0c50b3d95816b3fffd7da3efd5cb66", ""),
];

/// An MH01 header.
#[derive(Debug, Clone, Copy)]
struct Mh01 {
    endian: Endian,
    part1: u32,
    part2: u32,
}

impl Mh01 {
    fn parse(data: &[u8]) -> Option<Mh01> {
        if data.get(..4)? != b"MH01" {
            return None;
        }
        let endian = match data.get(12..14)? {
            [0x2B, 0x1A] => Endian::Little,
            [0x1A, 0x2B] => Endian::Big,
            _ => return None,
        };
        Some(Mh01 {
            endian,
            part1: endian.u32(data, 4)?,
            part2: endian.u32(data, 8)?,
        })
    }

    /// Offset of part 2 (part 1 is at [`HEADER_LEN`]).
    fn part2_at(&self) -> u64 {
        HEADER_LEN as u64 + u64::from(self.part1)
    }

    fn len(&self) -> u64 {
        self.part2_at() + u64::from(self.part2)
    }
}

/// The encrypted layout found inside the outer MH01.
struct Sealed<'a> {
    iv: [u8; 16],
    /// Offset of the OpenSSL blob from the start of the outer structure.
    blob_at: usize,
    salt: [u8; 8],
    /// The ciphertext (whole blocks).
    cipher: &'a [u8],
}

/// The nested layout: part 1 of `outer` is an MH01 of {IV text line, "Salted__" blob}.
fn sealed<'a>(data: &'a [u8], outer: &Mh01) -> Option<Sealed<'a>> {
    let part1 = data.get(HEADER_LEN..usize::try_from(outer.part2_at()).ok()?)?;
    let inner = Mh01::parse(part1)?;
    if inner.len() > part1.len() as u64 || inner.part1 > 64 {
        return None;
    }
    let iv_text = bytes::slice(part1, HEADER_LEN, inner.part1 as usize)?;
    let iv_text = std::str::from_utf8(iv_text)
        .ok()?
        .trim_end_matches(['\n', '\r', '\0']);
    let iv: [u8; 16] = probity_model::hex::decode(iv_text)?.try_into().ok()?;
    let blob_at = HEADER_LEN + usize::try_from(inner.part2_at()).ok()?;
    let blob = bytes::slice(data, blob_at, inner.part2 as usize)?;
    if blob.get(..8)? != b"Salted__" {
        return None;
    }
    let salt = bytes::arr::<8>(blob, 8)?;
    let cipher = blob.get(16..)?;
    if cipher.is_empty() || cipher.len() % 16 != 0 {
        return None;
    }
    Some(Sealed {
        iv,
        blob_at,
        salt,
        cipher,
    })
}

/// The AES key `openssl enc -md sha256 -k PASSWORD` derives with `salt`.
fn derive_key(password: &str, salt: &[u8; 8]) -> [u8; 16] {
    let digest = Sha256::new()
        .chain_update(password.as_bytes())
        .chain_update(salt)
        .finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// Decrypts the whole 16-byte blocks of `buf` in place with AES-128-CBC.
fn cbc_decrypt(key: &[u8; 16], iv: &[u8; 16], buf: &mut [u8]) {
    let mut dec = cbc::Decryptor::<aes::Aes128>::new(key.into(), iv.into());
    for block in buf.chunks_exact_mut(16) {
        dec.decrypt_block_mut(GenericArray::from_mut_slice(block));
    }
}

/// The published passwords (indexes into [`PASSWORDS`]) and keys whose decryption of the first
/// block is a plausible MH01 header, in the order of the list.
fn candidate_keys<'a>(s: &'a Sealed<'_>) -> impl Iterator<Item = (usize, [u8; 16])> + 'a {
    let first = s.cipher.get(..16);
    PASSWORDS
        .iter()
        .enumerate()
        .filter_map(move |(i, (password, _))| {
            let key = derive_key(password, &s.salt);
            let mut block = [0u8; 16];
            block.copy_from_slice(first?);
            cbc_decrypt(&key, &s.iv, &mut block);
            let h = Mh01::parse(&block)?;
            (h.len() <= s.cipher.len() as u64).then_some((i, key))
        })
}

/// Decrypts the ciphertext with the first candidate key whose plaintext also ends in valid PKCS#7
/// padding (padding stripped), or else with the first candidate (nothing stripped). Returns the
/// password index, the plaintext and whether the padding was valid.
fn decrypt(s: &Sealed<'_>) -> Option<(usize, Vec<u8>, bool)> {
    let mut fallback = None;
    for (index, key) in candidate_keys(s) {
        let mut plain = s.cipher.to_vec();
        cbc_decrypt(&key, &s.iv, &mut plain);
        if let Some(n) = unpad(&plain).map(<[u8]>::len) {
            plain.truncate(n);
            return Some((index, plain, true));
        }
        if fallback.is_none() {
            fallback = Some((index, plain, false));
        }
    }
    fallback
}

/// Strips PKCS#7 padding; `None` when it is not valid.
fn unpad(plain: &[u8]) -> Option<&[u8]> {
    let n = *plain.last()?;
    if n == 0 || n > 16 || usize::from(n) > plain.len() {
        return None;
    }
    let (body, pad) = plain.split_at(plain.len() - usize::from(n));
    pad.iter().all(|&b| b == n).then_some(body)
}

fn password_label(i: usize) -> String {
    match PASSWORDS.get(i) {
        Some((p, "")) => format!("public MH01 password {p} (D-Link GPL release)"),
        Some((p, model)) => format!("public MH01 password {p} for {model} (D-Link GPL release)"),
        None => String::new(),
    }
}

/// Emits a part of a structure as a region, cut to the data present (with a note when cut).
fn part(out: &mut Extractor<'_>, name: &str, at: u64, len: u64, available: u64) {
    let have = available.saturating_sub(at).min(len);
    if have < len {
        out.note(format!(
            "{name} ({len} bytes at {at:#x}) extends past the end of the data; cut to {have} bytes"
        ));
    }
    if have > 0 {
        out.region(Entry::file(name.as_bytes().to_vec()), at, have);
    }
}

impl Format for DlinkMh01 {
    fn name(&self) -> &'static str {
        "dlink-mh01"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let outer = Mh01::parse(data)?;
        if outer.part1 == 0 || outer.len() > data.len() as u64 {
            return None;
        }
        // Trying the published passwords costs one SHA-256 and one AES block each.
        let (confidence, description) = match sealed(data, &outer) {
            Some(s) => match candidate_keys(&s).next() {
                Some((i, _)) => (
                    95,
                    format!(
                        "D-Link MH01 encrypted image, {} bytes of AES-128-CBC ciphertext, key from the {}",
                        s.cipher.len(),
                        password_label(i)
                    ),
                ),
                None => (
                    80,
                    format!(
                        "D-Link MH01 encrypted image, {} bytes of AES-128-CBC ciphertext, no published password matches",
                        s.cipher.len()
                    ),
                ),
            },
            None => (
                60,
                format!(
                    "D-Link MH01 container, parts of {} and {} bytes",
                    outer.part1, outer.part2
                ),
            ),
        };
        Some(Probe {
            length: Some(outer.len()),
            confidence,
            description,
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let outer = Mh01::parse(data).ok_or_else(|| FormatError::invalid("bad MH01 header"))?;
        let available = data.len() as u64;
        let end = outer.len().min(available);
        let endian = match outer.endian {
            Endian::Little => "little",
            Endian::Big => "big",
        };
        let Some(s) = sealed(data, &outer) else {
            out.describe(format!(
                "D-Link MH01 container ({endian} endian), parts of {} and {} bytes, not encrypted",
                outer.part1, outer.part2
            ));
            part(
                out,
                "/firmware",
                HEADER_LEN as u64,
                u64::from(outer.part1),
                available,
            );
            part(
                out,
                "/signature",
                outer.part2_at(),
                u64::from(outer.part2),
                available,
            );
            return Ok(end);
        };
        let Some((index, plain, padding_ok)) = decrypt(&s) else {
            out.describe(format!(
                "D-Link MH01 encrypted image ({endian} endian), {} bytes of AES-128-CBC ciphertext, not decrypted",
                s.cipher.len()
            ));
            out.note("no published MH01 password decrypts this image; the ciphertext is kept as it is");
            part(
                out,
                "/encrypted",
                s.blob_at as u64,
                16 + s.cipher.len() as u64,
                available,
            );
            part(
                out,
                "/signature2",
                outer.part2_at(),
                u64::from(outer.part2),
                available,
            );
            return Ok(end);
        };
        if !padding_ok {
            out.note("the decrypted data does not end in valid PKCS#7 padding");
        }
        // candidate_keys checked that the first block is an MH01 header.
        let inner = Mh01::parse(&plain).ok_or_else(|| FormatError::invalid("bad inner MH01 header"))?;
        let fw_len = u64::from(inner.part1);
        let sig_at = inner.part2_at();
        let sig_end = inner.len();
        let plain_len = plain.len() as u64;
        if padding_ok && sig_end < plain_len {
            out.note(format!(
                "{} bytes follow the inner MH01 parts in the decrypted data",
                plain_len - sig_end
            ));
        }
        out.describe(format!(
            "D-Link MH01 encrypted image ({endian} endian), {} bytes of firmware, AES-128-CBC decrypted with the key from the {}{}",
            fw_len,
            password_label(index),
            if padding_ok { ", padding valid" } else { ", padding invalid" }
        ));
        let take = |at: u64, len: u64| -> Vec<u8> {
            let from = usize::try_from(at.min(plain_len)).unwrap_or(usize::MAX);
            let to = usize::try_from(at.saturating_add(len).min(plain_len)).unwrap_or(usize::MAX);
            plain.get(from..to).unwrap_or_default().to_vec()
        };
        let firmware = take(HEADER_LEN as u64, fw_len);
        let signature = take(sig_at, u64::from(inner.part2));
        if sig_end > plain_len {
            out.note(format!(
                "the inner MH01 header announces {sig_end} bytes but only {plain_len} were decrypted"
            ));
        }
        out.file(Entry::file(b"/firmware".to_vec()), firmware)?;
        if !signature.is_empty() {
            out.file(Entry::file(b"/signature1".to_vec()), signature)?;
        }
        part(
            out,
            "/signature2",
            outer.part2_at(),
            u64::from(outer.part2),
            available,
        );
        Ok(end)
    }
}

#[cfg(test)]
mod tests {
    use aes::cipher::BlockEncryptMut;

    use super::*;
    use crate::extract::Spool;
    use crate::limits::Limits;

    /// Member names and data.
    type Members = Vec<(Vec<u8>, Vec<u8>)>;

    fn header(part1: usize, part2: usize, le: bool) -> Vec<u8> {
        let mut h = b"MH01".to_vec();
        let (a, b) = if le {
            ((part1 as u32).to_le_bytes(), (part2 as u32).to_le_bytes())
        } else {
            ((part1 as u32).to_be_bytes(), (part2 as u32).to_be_bytes())
        };
        h.extend_from_slice(&a);
        h.extend_from_slice(&b);
        h.extend_from_slice(if le { &[0x2B, 0x1A] } else { &[0x1A, 0x2B] });
        h.extend_from_slice(&[0x12, 0x34]);
        h
    }

    fn mh01(p1: &[u8], p2: &[u8], le: bool) -> Vec<u8> {
        let mut d = header(p1.len(), p2.len(), le);
        d.extend_from_slice(p1);
        d.extend_from_slice(p2);
        d
    }

    /// An image encrypted with password `pw`, as D-Link builds them.
    fn image(fw: &[u8], pw: &str, le: bool) -> Vec<u8> {
        let sig1 = [0x11u8; 64];
        let sig2 = [0x22u8; 64];
        let mut plain = mh01(fw, &sig1, le);
        let pad = 16 - plain.len() % 16;
        plain.extend(std::iter::repeat_n(pad as u8, pad));
        let salt = *b"saltsalt";
        let iv = [0xA5u8; 16];
        let key = derive_key(pw, &salt);
        let mut enc = cbc::Encryptor::<aes::Aes128>::new((&key).into(), (&iv).into());
        for block in plain.chunks_exact_mut(16) {
            enc.encrypt_block_mut(GenericArray::from_mut_slice(block));
        }
        let mut blob = b"Salted__".to_vec();
        blob.extend_from_slice(&salt);
        blob.extend_from_slice(&plain);
        let iv_line = format!("{}\n", probity_model::hex::encode(&iv));
        let inner = mh01(iv_line.as_bytes(), &blob, le);
        mh01(&inner, &sig2, le)
    }

    fn run(d: &[u8]) -> (u64, Members, Vec<String>, String) {
        let (used, members, notes, description, _) = crate::formats::seama::tests::run_members(&DlinkMh01, d);
        (used, members, notes, description)
    }

    #[test]
    fn decrypts_with_each_endianness() {
        for le in [true, false] {
            let d = image(b"foobar 1234 test\n", "6b29f1d663a21b35fb45b69a42649f5e", le);
            let p = DlinkMh01.probe(&d).unwrap();
            assert_eq!(p.length, Some(d.len() as u64));
            assert_eq!(p.confidence, 95);
            let (used, members, notes, description) = run(&d);
            assert_eq!(used, d.len() as u64);
            assert!(notes.is_empty(), "{notes:?}");
            assert!(description.contains("M32 v1.00-v1.10"), "{description}");
            assert_eq!(
                members,
                vec![
                    (b"/firmware".to_vec(), b"foobar 1234 test\n".to_vec()),
                    (b"/signature1".to_vec(), vec![0x11; 64]),
                    (b"/signature2".to_vec(), vec![0x22; 64]),
                ]
            );
        }
    }

    #[test]
    fn unknown_password_keeps_the_ciphertext() {
        let d = image(b"firmware", "not a published password", true);
        assert_eq!(DlinkMh01.probe(&d).unwrap().confidence, 80);
        let (_, members, notes, _) = run(&d);
        let names: Vec<&[u8]> = members.iter().map(|m| m.0.as_slice()).collect();
        assert_eq!(names, vec![b"/encrypted".as_slice(), b"/signature2"]);
        assert!(members[0].1.starts_with(b"Salted__"));
        assert!(notes[0].contains("no published MH01 password"), "{notes:?}");
    }

    #[test]
    fn bad_padding_is_noted_but_extracted() {
        let mut d = image(b"0123456789", "044b4e59846ecee953662ff2238fcc23", true);
        // Corrupt the last cipher block: only the padding (and the end of the signature) change.
        let last = d.len() - 64 - 1;
        d[last] ^= 0xFF;
        let (_, members, notes, description) = run(&d);
        assert_eq!(members[0], (b"/firmware".to_vec(), b"0123456789".to_vec()));
        assert!(description.contains("padding invalid"), "{description}");
        assert!(notes.iter().any(|n| n.contains("PKCS#7")), "{notes:?}");
    }

    #[test]
    fn plain_container() {
        let d = mh01(b"kernel+rootfs", b"sig", false);
        assert_eq!(DlinkMh01.probe(&d).unwrap().confidence, 60);
        let (used, members, notes, _) = run(&d);
        assert_eq!(used, d.len() as u64);
        assert!(notes.is_empty());
        assert_eq!(
            members,
            vec![
                (b"/firmware".to_vec(), b"kernel+rootfs".to_vec()),
                (b"/signature".to_vec(), b"sig".to_vec())
            ]
        );
    }

    #[test]
    fn garbage_is_refused() {
        let d = image(b"x", "6b29f1d663a21b35fb45b69a42649f5e", true);
        for n in 0..d.len() {
            assert!(DlinkMh01.probe(&d[..n]).is_none());
        }
        let mut bad = d.clone();
        bad[12] = 0;
        assert!(DlinkMh01.probe(&bad).is_none());
        let mut bad = d.clone();
        bad[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(DlinkMh01.probe(&bad).is_none());
        // Hostile inner lengths never panic.
        for at in [16 + 4, 16 + 8] {
            let mut bad = d.clone();
            bad[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
            let _ = DlinkMh01.probe(&bad);
            let limits = Limits::default();
            let spool = Spool::temporary().unwrap();
            let mut x = Extractor::new(&limits, &spool, bad.len() as u64, 1 << 30);
            let _ = DlinkMh01.extract(&bad, &mut x);
        }
    }

    #[test]
    fn mutated_inputs_never_panic() {
        let valid = image(b"foobar 1234 test\n", "6b29f1d663a21b35fb45b69a42649f5e", true);
        crate::fuzzing::mutated_inputs_never_panic(&DlinkMh01, &valid);
    }
}
