//! Buffalo encrypted firmware records, as made by the vendor tools and OpenWrt's `buffalo-enc`
//! (`buffalo-lib.c`): the magic `start` or `asar1` (NUL-terminated), a seed byte, then the product
//! name, the version and the firmware data, each preceded by its big-endian length and encrypted
//! with RC4, and finally a checksum of the plaintext data. The RC4 key is the seed byte followed by
//! the public default key `Buffalo`; the seeds chain: the product name is encrypted with the seed
//! byte, the version with the first encrypted byte of the product name, and the data with the first
//! encrypted byte of the version. The checksum is `buffalo_csum`: starting from the data length,
//! each plaintext byte, sign-extended as a C `signed char`, is XORed in and followed by eight
//! reflected CRC-32 shift steps, without a final inversion.
//!
//! The probe decrypts the short product and version fields and wants both to be NUL-terminated
//! text, which makes random `start` strings fail. The `longstate` variant of `buffalo-enc` (an RC4
//! state as long as the data) is not supported; such images fail that test.
//!
//! Some images carry a 20-byte prefix before the record: `bgn` NUL, a zero word, a word of
//! unknown meaning (0xB1 in the one sample seen, FACT's test file), the total length of the file
//! and `0x11223344`, all big endian. It is not documented anywhere; when a record follows it
//! directly, the prefix is taken as part of the structure, which then extends to that total length
//! (covering the slack bytes after the record).

use rc4::{KeyInit, Rc4, StreamCipher, consts::U8};

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The Buffalo encrypted record format.
#[derive(Debug)]
pub struct Buffalo;

const MAGICS: &[Magic] = &[
    Magic::start(b"start\0"),
    Magic::start(b"asar1\0"),
    Magic::start(b"bgn\0"),
];

/// The default `buffalo-enc` key (OpenWrt `buffalo-enc.c`, also FACT's and binwalk's Buffalo
/// decryptors): public and used by all known images.
const KEY: &[u8; 7] = b"Buffalo";

/// Length of the `bgn` prefix.
const PREFIX_LEN: usize = 0x14;

/// Limits of `buffalo-lib.h` (`ENC_PRODUCT_LEN`, `ENC_VERSION_LEN`).
const MAX_PRODUCT: u32 = 32;
const MAX_VERSION: u32 = 8;

struct Record {
    /// Where the record starts (after the prefix, if any).
    at: usize,
    magic: &'static str,
    seed: u8,
    product: Vec<u8>,
    version: Vec<u8>,
    /// First encrypted byte of the version: the seed of the data.
    data_seed: u8,
    data_at: usize,
    data_len: u32,
    /// End of the record (after the checksum).
    end: u64,
    /// The `bgn` prefix's total length, when there is a prefix.
    prefix_total: Option<u32>,
}

/// RC4 with the key `seed ‖ "Buffalo"`, applied in place.
fn crypt(seed: u8, buf: &mut [u8]) {
    let mut key = [0u8; 8];
    key[0] = seed;
    key[1..].copy_from_slice(KEY);
    let mut rc4 = Rc4::<U8>::new(&key.into());
    rc4.apply_keystream(buf);
}

/// `buffalo_csum` of OpenWrt's `buffalo-lib.c`.
fn checksum(init: u32, data: &[u8]) -> u32 {
    let mut c = init;
    for &b in data {
        // The C code reads the byte through a `signed char *`.
        c ^= i32::from(b as i8) as u32;
        for _ in 0..8 {
            c = (c >> 1) ^ if c & 1 != 0 { 0xEDB8_8320 } else { 0 };
        }
    }
    c
}

/// A decrypted product or version field: NUL-terminated printable text.
fn text_field(field: &[u8]) -> bool {
    match field.split_last() {
        Some((0, text)) => text.iter().all(|&b| (0x20..0x7F).contains(&b)),
        _ => false,
    }
}

fn parse_record(data: &[u8], at: usize) -> Option<Record> {
    let magic = match data.get(at..at.checked_add(6)?)? {
        b"start\0" => "start",
        b"asar1\0" => "asar1",
        _ => return None,
    };
    let seed = *data.get(at + 6)?;
    let product_len = bytes::be32(data, at + 7)?;
    if product_len == 0 || product_len > MAX_PRODUCT {
        return None;
    }
    let product_at = at + 11;
    let product_enc = bytes::slice(data, product_at, product_len as usize)?;
    let version_len_at = product_at + product_len as usize;
    let version_len = bytes::be32(data, version_len_at)?;
    if version_len == 0 || version_len > MAX_VERSION {
        return None;
    }
    let version_at = version_len_at + 4;
    let version_enc = bytes::slice(data, version_at, version_len as usize)?;
    let data_len_at = version_at + version_len as usize;
    let data_len = bytes::be32(data, data_len_at)?;
    let data_at = data_len_at + 4;

    let mut product = product_enc.to_vec();
    crypt(seed, &mut product);
    let mut version = version_enc.to_vec();
    crypt(*product_enc.first()?, &mut version);
    if !text_field(&product) || !text_field(&version) {
        return None;
    }
    product.pop();
    version.pop();
    Some(Record {
        at,
        magic,
        seed,
        product,
        version,
        data_seed: *version_enc.first()?,
        data_at,
        data_len,
        end: data_at as u64 + u64::from(data_len) + 4,
        prefix_total: None,
    })
}

fn parse(data: &[u8]) -> Option<Record> {
    if data.get(..4)? != b"bgn\0" {
        return parse_record(data, 0);
    }
    let mut r = parse_record(data, PREFIX_LEN)?;
    if bytes::be32(data, 4)? != 0 || bytes::be32(data, 16)? != 0x1122_3344 {
        return None;
    }
    r.prefix_total = Some(bytes::be32(data, 12)?);
    Some(r)
}

/// How many bytes the structure spans: to the prefix's total length when it covers the record,
/// else to the end of the record.
fn extent(r: &Record) -> u64 {
    match r.prefix_total {
        Some(total) if u64::from(total) >= r.end => u64::from(total),
        _ => r.end,
    }
}

fn describe(r: &Record, verdict: &str) -> String {
    format!(
        "Buffalo encrypted image ({} record{}), product `{}`, version `{}`, {} bytes of data, \
         RC4 with the public key `Buffalo` and seed {:#04x}{verdict}",
        r.magic,
        if r.prefix_total.is_some() {
            " after a bgn prefix"
        } else {
            ""
        },
        probity_model::text::escape(&r.product),
        probity_model::text::escape(&r.version),
        r.data_len,
        r.seed,
    )
}

impl Format for Buffalo {
    fn name(&self) -> &'static str {
        "buffalo"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let r = parse(data)?;
        Some(Probe {
            length: Some(extent(&r)),
            confidence: 85,
            description: describe(&r, ""),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let r = parse(data).ok_or_else(|| FormatError::invalid("bad Buffalo record"))?;
        if let Some(total) = r.prefix_total
            && u64::from(total) < r.end
        {
            out.note(format!(
                "the bgn prefix gives a total length of {total} bytes, less than the record's {}",
                r.end
            ));
        }
        let data_end = (r.data_at as u64 + u64::from(r.data_len)).min(data.len() as u64) as usize;
        let mut plain = data.get(r.data_at..data_end).unwrap_or_default().to_vec();
        crypt(r.data_seed, &mut plain);
        let stored = bytes::be32(data, r.data_at.saturating_add(r.data_len as usize));
        let verdict = match stored {
            Some(stored) if plain.len() == r.data_len as usize => {
                let computed = checksum(r.data_len, &plain);
                if computed == stored {
                    out.verified();
                    ", checksum verified".to_string()
                } else {
                    out.note(format!(
                        "checksum mismatch: stored {stored:#010x}, computed {computed:#010x}"
                    ));
                    format!(", checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")
                }
            }
            _ => {
                out.note(format!(
                    "record truncated: {} of {} bytes present",
                    data.len() - r.at.min(data.len()),
                    r.end - r.at as u64
                ));
                ", checksum not verifiable (truncated)".to_string()
            }
        };
        out.describe(describe(&r, &verdict));
        out.file(Entry::file(b"/data".to_vec()), plain)?;
        Ok(extent(&r).min(data.len() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{ChildData, Spool};
    use crate::limits::Limits;

    /// A record as `buffalo-enc` writes it.
    fn record(magic: &[u8], seed: u8, product: &str, version: &str, payload: &[u8]) -> Vec<u8> {
        let mut d = magic.to_vec();
        d.push(seed);
        let mut p = product.as_bytes().to_vec();
        p.push(0);
        crypt(seed, &mut p);
        d.extend_from_slice(&(p.len() as u32).to_be_bytes());
        d.extend_from_slice(&p);
        let mut v = version.as_bytes().to_vec();
        v.push(0);
        crypt(p[0], &mut v);
        d.extend_from_slice(&(v.len() as u32).to_be_bytes());
        d.extend_from_slice(&v);
        let mut body = payload.to_vec();
        crypt(v[0], &mut body);
        d.extend_from_slice(&(body.len() as u32).to_be_bytes());
        d.extend_from_slice(&body);
        d.extend_from_slice(&checksum(payload.len() as u32, payload).to_be_bytes());
        d
    }

    fn run(d: &[u8]) -> (u64, Vec<u8>, Vec<String>, String, bool) {
        let limits = Limits::default();
        let spool = Spool::temporary().unwrap();
        let mut x = Extractor::new(&limits, &spool, d.len() as u64, 1 << 30);
        let used = Buffalo.extract(d, &mut x).unwrap();
        let verified = x.is_verified();
        let (children, notes, description, _) = x.into_parts();
        assert_eq!(children.len(), 1);
        assert_eq!(children[0].entry.member.as_deref(), Some(b"/data".as_slice()));
        let bytes = match &children[0].data {
            ChildData::Bytes(b) => b.to_vec(),
            other => panic!("unexpected data {other:?}"),
        };
        (used, bytes, notes, description, verified)
    }

    #[test]
    fn checksum_sign_extends() {
        // 0x80 as a signed char is 0xFFFFFF80: the high bits of the register flip.
        assert_ne!(checksum(0, &[0x80]), {
            let mut c = 0x80u32;
            for _ in 0..8 {
                c = (c >> 1) ^ if c & 1 != 0 { 0xEDB8_8320 } else { 0 };
            }
            c
        });
    }

    #[test]
    fn decrypts_and_verifies() {
        let payload: Vec<u8> = (0..300u32).map(|i| (i * 13) as u8).collect();
        for magic in [b"start\0", b"asar1\0"] {
            let d = record(magic, b'O', "WZR-HP-G300NH", "1.99", &payload);
            let p = Buffalo.probe(&d).unwrap();
            assert_eq!(p.length, Some(d.len() as u64));
            let (used, bytes, notes, description, verified) = run(&d);
            assert_eq!(used, d.len() as u64);
            assert_eq!(bytes, payload);
            assert!(notes.is_empty(), "{notes:?}");
            assert!(verified);
            assert!(
                description.contains("product `WZR-HP-G300NH`, version `1.99`"),
                "{description}"
            );
            assert!(description.ends_with("checksum verified"), "{description}");
        }
    }

    #[test]
    fn bgn_prefix_extends_the_structure() {
        let rec = record(b"start\0", b'O', "test-product", "0.1.0", b"foobar 123 test\n");
        let total = (PREFIX_LEN + rec.len() + 2) as u32;
        let mut d = b"bgn\0".to_vec();
        for w in [0, 0xB1, total, 0x1122_3344u32] {
            d.extend_from_slice(&w.to_be_bytes());
        }
        d.extend_from_slice(&rec);
        d.extend_from_slice(&[0, 0]);
        assert_eq!(Buffalo.probe(&d).unwrap().length, Some(u64::from(total)));
        let (used, bytes, _, description, verified) = run(&d);
        assert_eq!(used, u64::from(total));
        assert_eq!(bytes, b"foobar 123 test\n");
        assert!(verified);
        assert!(description.contains("after a bgn prefix"), "{description}");
    }

    #[test]
    fn bad_checksum_is_noted_but_extracted() {
        let mut d = record(b"start\0", b'O', "p", "v", b"payload");
        let n = d.len();
        d[n - 1] ^= 1;
        let (_, bytes, notes, description, verified) = run(&d);
        assert_eq!(bytes, b"payload");
        assert!(!verified);
        assert!(notes[0].starts_with("checksum mismatch"), "{notes:?}");
        assert!(description.contains("checksum mismatch"), "{description}");
    }

    #[test]
    fn truncated_record_is_noted() {
        let d = record(b"start\0", b'O', "p", "v", &[7u8; 100]);
        let (used, bytes, notes, _, verified) = run(&d[..d.len() - 50]);
        assert_eq!(used, d.len() as u64 - 50);
        assert_eq!(bytes, vec![7u8; 54]);
        assert!(!verified);
        assert!(notes[0].starts_with("record truncated"), "{notes:?}");
    }

    #[test]
    fn garbage_is_refused() {
        let d = record(b"start\0", b'O', "product", "1.0", b"data");
        // Cut before the data length: refused.
        for n in 0..d.len() - 4 - 4 - 4 {
            assert!(Buffalo.probe(&d[..n]).is_none(), "{n}");
        }
        // A wrong seed makes the product decrypt to garbage.
        let mut bad = d.clone();
        bad[6] ^= 0x55;
        assert!(Buffalo.probe(&bad).is_none());
        // Random bytes after the magic.
        for s in 0..200u32 {
            let mut junk = b"start\0".to_vec();
            junk.extend((0..60u32).map(|i| (i.wrapping_mul(2654435761).wrapping_add(s * 7919) >> 13) as u8));
            junk[7..11].copy_from_slice(&(s % 40).to_be_bytes());
            assert!(Buffalo.probe(&junk).is_none());
        }
        assert!(Buffalo.probe(b"bgn\0\0\0\0\0").is_none());
    }

    #[test]
    fn mutated_inputs_never_panic() {
        let valid = record(b"start\0", b'O', "test-product", "0.1.0", b"foobar 123 test\n");
        crate::fuzzing::mutated_inputs_never_panic(&Buffalo, &valid);
    }
}
