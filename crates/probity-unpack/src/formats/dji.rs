//! DJI "xV4" firmware containers (Phantom 3, Inspire 1, Osmo and other DJI products of 2015-2017),
//! as documented by the dji-firmware-tools project (`dji_xv4_fwcon.py`). A 64-byte little-endian
//! header (magic 0x12345678, format version, end of the header area, a timestamp, manufacturer and
//! model names, the entry count and two version numbers XORed with the timestamp and 0x5127A564) is
//! followed by one 52-byte entry per module (target, encryption type, version, offset, stored and
//! decrypted lengths, MD5 of the stored and of the decrypted data) and a CRC-16 of the header and
//! entries (reflected polynomial 0x8408, initial value 0x3692, no final inversion).
//!
//! Modules of encryption type 1 are AES-128-CBC encrypted with a key that is the same in every DJI
//! product and has been published (see [`KEY`]), with a zero IV and the cipher restarted every 256
//! bytes. Modules are named after their target as dji-firmware-tools does, `m` followed by the
//! target kind and model as two two-digit numbers (`/m0305` is kind 3, model 5, the main
//! controller loader). The header CRC, and for each module both MD5s, are verified.

use aes::cipher::{BlockDecryptMut, KeyIvInit, generic_array::GenericArray};
use md5::{Digest, Md5};

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The DJI xV4 container format.
#[derive(Debug)]
pub struct Dji;

const MAGICS: &[Magic] = &[Magic::start(&[0x78, 0x56, 0x34, 0x12])];

const HEADER_LEN: usize = 64;
const ENTRY_LEN: usize = 52;
/// More entries than any DJI package has; bounds the header parsing.
const MAX_ENTRIES: u16 = 256;

/// AES-128 key of DJI xV4 modules of encryption type 1. Published by the "Original Gangsters"
/// DJI reverse-engineering group in dji-firmware-tools (`dji_xv4_fwcon.py`, GPL), taken from DJI's
/// own firmware, where it is also the AES key of the WKM OSD.
const KEY: [u8; 16] = [
    0x96, 0x70, 0x9A, 0xD3, 0x26, 0x67, 0x4A, 0xC3, 0x82, 0xB6, 0x69, 0x27, 0xE6, 0xD8, 0x84, 0x21,
];

/// The cipher restarts every this many bytes, with the same zero IV.
const CRYPT_CHUNK: usize = 256;

/// Module names of dji-firmware-tools, by (kind, model); a model of `None` names the whole kind.
const TARGETS: &[(u8, Option<u8>, &str)] = &[
    (1, None, "camera"),
    (2, None, "mobile app"),
    (3, None, "main controller"),
    (3, Some(5), "main controller loader"),
    (3, Some(6), "main controller app"),
    (4, None, "gimbal"),
    (5, None, "central board"),
    (6, None, "remote radio"),
    (7, None, "Wi-Fi"),
    (8, None, "video encoder in air"),
    (9, None, "lightbridge MCU in air"),
    (10, None, "battery firmware"),
    (11, None, "battery controller"),
    (12, None, "electronic speed control"),
    (13, None, "video decoder"),
    (14, None, "lightbridge MCU on ground"),
    (15, None, "transmitter usb controller"),
    (16, None, "receiver usb controller"),
    (17, None, "visual positioning"),
    (19, None, "lightbridge FPGA on air"),
    (20, None, "lightbridge FPGA on ground"),
    (25, None, "inertial measurement unit"),
    (26, None, "real time kinematic"),
    (27, None, "Wi-Fi ground"),
    (29, None, "power management unit"),
    (30, None, "test A"),
    (31, None, "test B"),
];

fn target_name(kind: u8, model: u8) -> Option<&'static str> {
    TARGETS
        .iter()
        .find(|t| t.0 == kind && t.1 == Some(model))
        .or_else(|| TARGETS.iter().find(|t| t.0 == kind && t.1.is_none()))
        .map(|t| t.2)
}

struct Module {
    target: u8,
    enc_type: u8,
    version: u32,
    offset: u32,
    stored_len: u32,
    decrypted_len: u32,
    stored_md5: [u8; 16],
    decrypted_md5: [u8; 16],
}

impl Module {
    fn end(&self) -> u64 {
        u64::from(self.offset) + u64::from(self.stored_len)
    }
}

struct Header {
    magic_ver: u16,
    timestamp: u32,
    manufacturer: String,
    model: String,
    ver_latest: u32,
    ver_rollback: u32,
    modules: Vec<Module>,
    crc_ok: bool,
    /// End of the header area (the CRC included).
    header_end: usize,
}

/// CRC-16 with the reflected polynomial 0x8408 (the CCITT one), as DJI uses it.
fn crc16(data: &[u8], init: u16) -> u16 {
    let mut c = init;
    for &b in data {
        c ^= u16::from(b);
        for _ in 0..8 {
            c = (c >> 1) ^ if c & 1 != 0 { 0x8408 } else { 0 };
        }
    }
    c
}

fn text(field: &[u8]) -> String {
    probity_model::text::escape(bytes::cstr(field))
}

fn version(v: u32) -> String {
    format!("{:02}.{:02}.{:04}", v >> 24, (v >> 16) & 0xFF, v & 0xFFFF)
}

fn parse(data: &[u8]) -> Option<Header> {
    if bytes::le32(data, 0)? != 0x1234_5678 {
        return None;
    }
    let magic_ver = bytes::le16(data, 4)?;
    let hdrend = bytes::le16(data, 6)?;
    let timestamp = bytes::le32(data, 8)?;
    let count = bytes::le16(data, 0x2C)?;
    if !matches!(magic_ver, 0x0001 | 0x1130) || count == 0 || count > MAX_ENTRIES {
        return None;
    }
    let header_end = HEADER_LEN + ENTRY_LEN * usize::from(count) + 2;
    if usize::from(hdrend) != header_end {
        return None;
    }
    let area = data.get(..header_end)?;
    let manufacturer = bytes::slice(area, 0x0C, 16)?;
    let model = bytes::slice(area, 0x1C, 16)?;
    // Names are short text.
    if !bytes::cstr(manufacturer)
        .iter()
        .chain(bytes::cstr(model))
        .all(|&b| (0x20..0x7F).contains(&b))
    {
        return None;
    }
    let unmask = |v: u32| v ^ timestamp ^ 0x5127_A564;
    let (latest, rollback) = (bytes::le32(area, 0x2E)?, bytes::le32(area, 0x32)?);
    let mut modules = Vec::with_capacity(usize::from(count));
    for i in 0..usize::from(count) {
        let e = bytes::slice(area, HEADER_LEN + ENTRY_LEN * i, ENTRY_LEN)?;
        let m = Module {
            target: *e.first()?,
            enc_type: e.get(1)? >> 4,
            version: bytes::le32(e, 4)?,
            offset: bytes::le32(e, 8)?,
            stored_len: bytes::le32(e, 12)?,
            decrypted_len: bytes::le32(e, 16)?,
            stored_md5: bytes::arr(e, 20)?,
            decrypted_md5: bytes::arr(e, 36)?,
        };
        // Module data lies after the header area.
        if m.stored_len > 0 && (m.offset as usize) < header_end {
            return None;
        }
        modules.push(m);
    }
    let crc_at = header_end - 2;
    let crc_ok = crc16(area.get(..crc_at)?, 0x3692) == bytes::le16(area, crc_at)?;
    Some(Header {
        magic_ver,
        timestamp,
        manufacturer: text(manufacturer),
        model: text(model),
        // An unversioned (2015) package stores zeros.
        ver_latest: if latest == 0 && rollback == 0 {
            0
        } else {
            unmask(latest)
        },
        ver_rollback: if latest == 0 && rollback == 0 {
            0
        } else {
            unmask(rollback)
        },
        modules,
        crc_ok,
        header_end,
    })
}

fn extent(h: &Header) -> u64 {
    h.modules
        .iter()
        .map(Module::end)
        .max()
        .unwrap_or(0)
        .max(h.header_end as u64)
}

fn describe(h: &Header, verdict: &str) -> String {
    format!(
        "DJI xV4 firmware package (format {:#06x}), `{}` `{}`, timestamp {}, version {} (rollback {}), {} modules, {verdict}",
        h.magic_ver,
        h.manufacturer,
        h.model,
        h.timestamp,
        version(h.ver_latest),
        version(h.ver_rollback),
        h.modules.len(),
    )
}

/// Decrypts `data` in place as DJI does: AES-128-CBC with a zero IV restarted every 256 bytes.
/// Returns how many trailing bytes (less than a block) were left as they are.
fn decrypt(data: &mut [u8]) -> usize {
    let mut left = 0;
    for chunk in data.chunks_mut(CRYPT_CHUNK) {
        let mut dec = cbc::Decryptor::<aes::Aes128>::new((&KEY).into(), (&[0u8; 16]).into());
        let mut blocks = chunk.chunks_exact_mut(16);
        for block in &mut blocks {
            dec.decrypt_block_mut(GenericArray::from_mut_slice(block));
        }
        left += blocks.into_remainder().len();
    }
    left
}

impl Format for Dji {
    fn name(&self) -> &'static str {
        "dji"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let h = parse(data)?;
        Some(Probe {
            length: Some(extent(&h)),
            confidence: if h.crc_ok { 100 } else { 60 },
            description: describe(
                &h,
                if h.crc_ok {
                    "header CRC-16 verified"
                } else {
                    "header CRC-16 mismatch"
                },
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let h = parse(data).ok_or_else(|| FormatError::invalid("bad DJI xV4 header"))?;
        if !h.crc_ok {
            out.note("header CRC-16 mismatch");
        }
        let mut seen: Vec<String> = Vec::new();
        let mut bad_md5 = 0usize;
        for (i, m) in h.modules.iter().enumerate() {
            out.check_time()?;
            if m.stored_len == 0 {
                continue;
            }
            let kind = m.target & 31;
            let model = m.target >> 5;
            let base = format!("m{kind:02}{model:02}");
            // dji-firmware-tools suffixes repeated targets with a, b, ...
            let mut name = base.clone();
            let mut suffix = b'a';
            while seen.contains(&name) && suffix <= b'z' {
                name = format!("{base}{}", char::from(suffix));
                suffix += 1;
            }
            seen.push(name.clone());
            let path = format!("/{name}").into_bytes();
            let what = target_name(kind, model).unwrap_or("unknown target");
            let label = format!("module {i} ({name}, {what}, version {})", version(m.version));
            if !out.wants(&path) {
                out.entry(Entry::file(path));
                continue;
            }
            // A module that starts past the end of the data has nothing present (and is recorded
            // as an empty region at the end, never outside the data).
            let start = (m.offset as usize).min(data.len());
            let end = usize::try_from(m.end())
                .unwrap_or(usize::MAX)
                .min(data.len())
                .max(start);
            let stored = data.get(start..end).unwrap_or_default();
            if (stored.len() as u64) < u64::from(m.stored_len) {
                out.note(format!(
                    "{label}: truncated, {} of {} bytes present",
                    stored.len(),
                    m.stored_len
                ));
            }
            let complete = stored.len() as u64 == u64::from(m.stored_len);
            if complete && Md5::digest(stored).as_slice() != m.stored_md5 {
                bad_md5 += 1;
                out.note(format!("{label}: MD5 of the stored data mismatch"));
            }
            let plain = match m.enc_type {
                0 => stored.to_vec(),
                1 => {
                    let mut p = stored.to_vec();
                    let left = decrypt(&mut p);
                    if left > 0 {
                        out.note(format!(
                            "{label}: {left} bytes at the end of 256-byte pieces are not whole AES blocks and were left as stored"
                        ));
                    }
                    p
                }
                t => {
                    out.note(format!(
                        "{label}: unknown encryption type {t}; the data is kept as stored"
                    ));
                    out.region(Entry::file(path), start as u64, stored.len() as u64);
                    continue;
                }
            };
            if complete {
                if Md5::digest(&plain).as_slice() != m.decrypted_md5 {
                    bad_md5 += 1;
                    out.note(format!("{label}: MD5 of the decrypted data mismatch"));
                }
                if m.decrypted_len != m.stored_len {
                    out.note(format!(
                        "{label}: decrypted length {} differs from the stored length {}",
                        m.decrypted_len, m.stored_len
                    ));
                }
            }
            if m.enc_type == 0 {
                out.region(Entry::file(path), start as u64, stored.len() as u64);
            } else {
                out.file(Entry::file(path), plain)?;
            }
        }
        let encrypted = h.modules.iter().any(|m| m.enc_type == 1);
        let mut verdict = if h.crc_ok {
            "header CRC-16 verified".to_string()
        } else {
            "header CRC-16 mismatch".to_string()
        };
        if !out.wants_one() {
            verdict.push_str(if bad_md5 == 0 {
                ", module MD5s verified"
            } else {
                ", module MD5 mismatch"
            });
            if h.crc_ok && bad_md5 == 0 {
                out.verified();
            }
        }
        if encrypted {
            verdict.push_str(", AES-128 modules decrypted with the public DJI xV4 key (dji-firmware-tools)");
        }
        out.describe(describe(&h, &verdict));
        Ok(extent(&h).min(data.len() as u64))
    }
}

#[cfg(test)]
mod tests {
    use aes::cipher::BlockEncryptMut;

    use super::*;

    /// Member names and data.
    type Members = Vec<(Vec<u8>, Vec<u8>)>;

    fn encrypt(data: &mut [u8]) {
        for chunk in data.chunks_mut(CRYPT_CHUNK) {
            let mut enc = cbc::Encryptor::<aes::Aes128>::new((&KEY).into(), (&[0u8; 16]).into());
            for block in chunk.chunks_exact_mut(16) {
                enc.encrypt_block_mut(GenericArray::from_mut_slice(block));
            }
        }
    }

    /// A package with modules (target, encryption type, plaintext).
    fn package(modules: &[(u8, u8, Vec<u8>)]) -> Vec<u8> {
        let ts = 1_437_759_614u32;
        let mut d = vec![0u8; HEADER_LEN];
        d[..4].copy_from_slice(&0x1234_5678u32.to_le_bytes());
        d[4..6].copy_from_slice(&1u16.to_le_bytes());
        let hdrend = HEADER_LEN + ENTRY_LEN * modules.len() + 2;
        d[6..8].copy_from_slice(&(hdrend as u16).to_le_bytes());
        d[8..12].copy_from_slice(&ts.to_le_bytes());
        d[0x0C..0x0F].copy_from_slice(b"DJI");
        d[0x1C..0x1F].copy_from_slice(b"P3X");
        d[0x2C..0x2E].copy_from_slice(&(modules.len() as u16).to_le_bytes());
        d[0x2E..0x32].copy_from_slice(&(0x0103_0014 ^ ts ^ 0x5127_A564).to_le_bytes());
        d[0x32..0x36].copy_from_slice(&(0x0101_0009 ^ ts ^ 0x5127_A564).to_le_bytes());
        let mut body = Vec::new();
        for (target, enc, plain) in modules {
            let mut stored = plain.clone();
            if *enc == 1 {
                encrypt(&mut stored);
            }
            let mut e = vec![0u8; ENTRY_LEN];
            e[0] = *target;
            e[1] = enc << 4;
            e[4..8].copy_from_slice(&0x0103_0014u32.to_le_bytes());
            e[8..12].copy_from_slice(&((hdrend + body.len()) as u32).to_le_bytes());
            e[12..16].copy_from_slice(&(stored.len() as u32).to_le_bytes());
            e[16..20].copy_from_slice(&(plain.len() as u32).to_le_bytes());
            e[20..36].copy_from_slice(&Md5::digest(&stored));
            e[36..52].copy_from_slice(&Md5::digest(plain));
            d.extend_from_slice(&e);
            body.extend_from_slice(&stored);
        }
        let crc = crc16(&d, 0x3692);
        d.extend_from_slice(&crc.to_le_bytes());
        d.extend_from_slice(&body);
        d
    }

    fn run(d: &[u8]) -> (u64, Members, Vec<String>, String, bool) {
        crate::formats::seama::tests::run_members(&Dji, d)
    }

    fn sample_modules() -> Vec<(u8, u8, Vec<u8>)> {
        vec![
            (0xA3, 1, (0..608u32).map(|i| (i * 7) as u8).collect()),
            (0x0C, 1, vec![0x33; 512]),
            (0x0C, 0, b"plain module".to_vec()),
        ]
    }

    #[test]
    fn crc16_reference() {
        // CRC-16/KERMIT (the same register without DJI's initial value) of "123456789".
        assert_eq!(crc16(b"123456789", 0), 0x2189);
    }

    #[test]
    fn decrypts_and_verifies() {
        let mods = sample_modules();
        let d = package(&mods);
        let p = Dji.probe(&d).unwrap();
        assert_eq!(p.confidence, 100);
        assert_eq!(p.length, Some(d.len() as u64));
        let (used, members, notes, description, verified) = run(&d);
        assert_eq!(used, d.len() as u64);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(verified);
        assert_eq!(
            members,
            vec![
                (b"/m0305".to_vec(), mods[0].2.clone()),
                (b"/m1200".to_vec(), mods[1].2.clone()),
                (b"/m1200a".to_vec(), mods[2].2.clone()),
            ]
        );
        assert!(
            description.contains("version 01.03.0020 (rollback 01.01.0009)"),
            "{description}"
        );
        assert!(
            description.contains("header CRC-16 verified, module MD5s verified"),
            "{description}"
        );
    }

    #[test]
    fn bad_checksums_are_noted_but_extracted() {
        let mods = sample_modules();
        let mut d = package(&mods);
        d[0x10] ^= 1; // In the manufacturer name: CRC mismatch.
        let last = d.len() - 1;
        d[last] ^= 1; // In the plain module: MD5 mismatches.
        let p = Dji.probe(&d).unwrap();
        assert_eq!(p.confidence, 60);
        let (_, members, notes, description, verified) = run(&d);
        assert!(!verified);
        assert_eq!(members.len(), 3);
        assert_eq!(members[0].1, mods[0].2);
        assert_eq!(notes[0], "header CRC-16 mismatch");
        assert!(
            notes[1].contains("m1200a") && notes[1].contains("stored data mismatch"),
            "{notes:?}"
        );
        assert!(description.contains("module MD5 mismatch"), "{description}");
    }

    #[test]
    fn garbage_is_refused() {
        let d = package(&sample_modules());
        let hdr_end = HEADER_LEN + 3 * ENTRY_LEN + 2;
        for n in 0..hdr_end {
            assert!(Dji.probe(&d[..n]).is_none());
        }
        let mut bad = d.clone();
        bad[6] ^= 1; // Header end offset.
        assert!(Dji.probe(&bad).is_none());
        let mut bad = d.clone();
        bad[4] = 7; // Format version.
        assert!(Dji.probe(&bad).is_none());
        // A module offset inside the header.
        let mut bad = d.clone();
        bad[HEADER_LEN + 8..HEADER_LEN + 12].copy_from_slice(&10u32.to_le_bytes());
        assert!(Dji.probe(&bad).is_none());
        // Hostile lengths: extraction is bounded by the data.
        let mut huge = d.clone();
        huge[HEADER_LEN + 12..HEADER_LEN + 16].copy_from_slice(&u32::MAX.to_le_bytes());
        let (_, members, notes, _, _) = run(&huge);
        assert_eq!(members.len(), 3);
        assert!(notes.iter().any(|n| n.contains("truncated")), "{notes:?}");
    }

    #[test]
    fn module_past_the_end_stays_inside_the_data() {
        // Found by fuzzing (format_dji): a module whose offset lies beyond the data was recorded
        // as a region starting outside it.
        let mut d = package(&sample_modules());
        let at = HEADER_LEN + 2 * ENTRY_LEN + 8;
        let past = d.len() as u32 + 100;
        d[at..at + 4].copy_from_slice(&past.to_le_bytes());
        crate::fuzzing::run_format("dji", &d);
        let (_, members, notes, _, _) = run(&d);
        assert_eq!(members.len(), 3);
        assert_eq!(members[2].1, b"");
        assert!(
            notes.iter().any(|n| n.contains("truncated, 0 of 12 bytes")),
            "{notes:?}"
        );
    }

    #[test]
    fn mutated_inputs_never_panic() {
        let valid = package(&sample_modules());
        crate::fuzzing::mutated_inputs_never_panic(&Dji, &valid);
    }
}
