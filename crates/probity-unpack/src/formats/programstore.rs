//! Broadcom ProgramStore images: the 92-byte big-endian header that Broadcom's `ProgramStore` tool
//! puts in front of the firmware of BCM33xx cable modems (eCos "BFC" images such as
//! `ecram_sto.bin`, and also Linux kernels, tarballs and UBI images on newer chips). The header
//! carries a device-dependent signature, a control word (compression in the low three bits, `0x0100`
//! for a dual image), version, build time, payload length (header excluded), load address, file
//! name, a CRC-16 of its first 84 bytes (CRC-16/GENIBUS: poly 0x1021, init and xorout 0xFFFF) and a
//! CRC-32 of the payload. Broadcom's tool computes that CRC-32 MSB-first (the CRC-32/BZIP2
//! parameters); the reflected zlib CRC-32 is accepted too, and the description says which matched.
//!
//! There is no fixed magic: the signatures seen on real devices (the tool's default 0x3350 and the
//! vendors' 0x3390, 0xa825, 0xa81b, 0xa815, 0xa03a, 0x8364, 0xd22f, 0xc200, 0xa0eb) followed by a
//! valid control word are the magics, and the header CRC decides. A header whose CRC does not
//! match is accepted only when every other field is plausible, and is reported. An LZMA payload
//! (properties byte, 32-bit dictionary size, then the raw stream with no size field) is decoded to
//! `/image`. Streams without an end marker are decoded until the data runs out, as the modem's
//! loader does. An uncompressed payload is the region `/image`. A dual image gives `/image1` and
//! `/image2`. The other compressions (LZRW1/KH, miniLZO, NRV2D99) are not decoded: their payload
//! is kept as `/payload`, with a note.

use std::io::Read;

use lzma_rust2::LzmaReader;

use crate::extract::{Counting, Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The Broadcom ProgramStore format.
#[derive(Debug)]
pub struct ProgramStore;

const HEADER_LEN: usize = 92;

/// Each known signature followed by each valid control word (single or dual image; no compression,
/// LZRW1/KH, miniLZO, NRV2D99 or LZMA).
macro_rules! signatures {
    ($($sig:literal),*) => {
        &[$(
            Magic::start(&[($sig >> 8) as u8, ($sig & 0xff) as u8, 0, 0]),
            Magic::start(&[($sig >> 8) as u8, ($sig & 0xff) as u8, 0, 1]),
            Magic::start(&[($sig >> 8) as u8, ($sig & 0xff) as u8, 0, 2]),
            Magic::start(&[($sig >> 8) as u8, ($sig & 0xff) as u8, 0, 4]),
            Magic::start(&[($sig >> 8) as u8, ($sig & 0xff) as u8, 0, 5]),
            Magic::start(&[($sig >> 8) as u8, ($sig & 0xff) as u8, 1, 0]),
            Magic::start(&[($sig >> 8) as u8, ($sig & 0xff) as u8, 1, 1]),
            Magic::start(&[($sig >> 8) as u8, ($sig & 0xff) as u8, 1, 2]),
            Magic::start(&[($sig >> 8) as u8, ($sig & 0xff) as u8, 1, 4]),
            Magic::start(&[($sig >> 8) as u8, ($sig & 0xff) as u8, 1, 5]),
        )*]
    };
}

const MAGICS: &[Magic] = signatures!(
    0x3350, 0x3390, 0xa825, 0xa81b, 0xa815, 0xa03a, 0x8364, 0xd22f, 0xc200, 0xa0eb
);

/// A parsed header.
#[derive(Debug)]
struct Header {
    signature: u16,
    control: u16,
    major: u16,
    minor: u16,
    time: u32,
    length: u32,
    address: u32,
    name: Vec<u8>,
    length1: u32,
    length2: u32,
    hcs: u16,
    hcs_computed: u16,
    crc: u32,
}

impl Header {
    fn hcs_ok(&self) -> bool {
        self.hcs == self.hcs_computed
    }

    fn dual(&self) -> bool {
        self.control & 0x0100 != 0
    }

    fn compression(&self) -> u16 {
        self.control & 7
    }
}

/// CRC-16/GENIBUS (poly 0x1021, MSB first, init 0xFFFF, xorout 0xFFFF): the header checksum.
pub(crate) fn crc16_genibus(data: &[u8]) -> u16 {
    let mut crc = 0xffffu16;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    !crc
}

const fn bzip2_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u32) << 24;
        let mut k = 0;
        while k < 8 {
            c = if c & 0x8000_0000 != 0 {
                (c << 1) ^ 0x04c1_1db7
            } else {
                c << 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static BZIP2_TABLE: [u32; 256] = bzip2_table();

/// CRC-32/BZIP2 (poly 0x04C11DB7, MSB first, init and xorout 0xFFFFFFFF): the image checksum as
/// Broadcom's tool computes it.
pub(crate) fn crc32_bzip2(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc = (crc << 8) ^ BZIP2_TABLE[usize::from((crc >> 24) as u8 ^ b)];
    }
    !crc
}

fn parse(data: &[u8]) -> Option<Header> {
    let head = bytes::slice(data, 0, HEADER_LEN)?;
    let be16 = |o| bytes::be16(head, o);
    let be32 = |o| bytes::be32(head, o);
    let control = be16(2)?;
    // Dual-image flag and a compression of 0-2, 4 or 5 (3 is reserved); nothing else is defined.
    if control & !0x0107 != 0 || matches!(control & 7, 3 | 6 | 7) {
        return None;
    }
    // Eight reserved bytes after the name.
    if head.get(68..76)?.iter().any(|&b| b != 0) {
        return None;
    }
    let name_field = head.get(20..68)?;
    let h = Header {
        signature: be16(0)?,
        control,
        major: be16(4)?,
        minor: be16(6)?,
        time: be32(8)?,
        length: be32(12)?,
        address: be32(16)?,
        name: bytes::cstr(name_field).to_vec(),
        length1: be32(76)?,
        length2: be32(80)?,
        hcs: be16(84)?,
        hcs_computed: crc16_genibus(head.get(..84)?),
        crc: be32(88)?,
    };
    if h.length == 0 {
        return None;
    }
    if h.dual()
        && (u64::from(h.length1) + u64::from(h.length2) > u64::from(h.length)
            || h.length1 == 0
            || h.length2 == 0)
    {
        return None;
    }
    if !h.hcs_ok() {
        // Without the header checksum every field must look like the tool wrote it: a name that
        // starts with a letter and is NUL-padded, the second reserved word zero, a build time after
        // eCos existed (1998-09), a MIPS load address (or none), and a payload CRC.
        let padded = name_field.get(h.name.len()..).unwrap_or_default();
        let plausible = h.name.first().is_some_and(u8::is_ascii_alphabetic)
            && h.name.iter().all(|b| b.is_ascii_graphic())
            && padded.iter().all(|&b| b == 0)
            && be16(86)? == 0
            && h.time >= 904_608_000
            && (h.address == 0 || (h.address >= 0x8000_0000 && h.address.is_multiple_of(4)))
            && h.crc != 0;
        if !plausible {
            return None;
        }
    }
    Some(h)
}

fn compression_name(c: u16) -> &'static str {
    match c {
        0 => "uncompressed",
        1 => "LZRW1/KH",
        2 => "miniLZO",
        4 => "NRV2D99",
        5 => "LZMA",
        _ => "reserved compression 3",
    }
}

/// `YYYY-MM-DD HH:MM:SS UTC` for a Unix time.
fn utc(t: u32) -> String {
    let days = i64::from(t / 86_400);
    let secs = t % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn describe(h: &Header, checks: &str) -> String {
    let dual = if h.dual() {
        format!(", dual image ({} + {} bytes)", h.length1, h.length2)
    } else {
        String::new()
    };
    let address = if h.address == 0 {
        String::new()
    } else {
        format!(", load address {:#010x}", h.address)
    };
    format!(
        "Broadcom ProgramStore image `{}`, signature {:#06x}, version {}.{}, built {}{address}, {}, {} bytes{dual}; {checks}",
        probity_model::text::escape(&h.name),
        h.signature,
        h.major,
        h.minor,
        utc(h.time),
        compression_name(h.compression()),
        h.length,
    )
}

fn hcs_verdict(h: &Header) -> String {
    if h.hcs_ok() {
        "header CRC-16 verified".into()
    } else {
        format!(
            "header CRC-16 mismatch: stored {:#06x}, computed {:#06x}",
            h.hcs, h.hcs_computed
        )
    }
}

impl Format for ProgramStore {
    fn name(&self) -> &'static str {
        "programstore"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let h = parse(data)?;
        Some(Probe {
            length: Some(HEADER_LEN as u64 + u64::from(h.length)),
            confidence: if h.hcs_ok() { 100 } else { 60 },
            description: describe(&h, &hcs_verdict(&h)),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let h = parse(data).ok_or_else(|| FormatError::invalid("bad ProgramStore header"))?;
        let mut checks = hcs_verdict(&h);
        if h.hcs_ok() {
            out.verified();
        } else {
            out.note(checks.clone());
        }
        let want = h.length as usize;
        let body = data.get(HEADER_LEN..).unwrap_or_default();
        let payload = body.get(..want).unwrap_or(body);
        if payload.len() < want {
            out.note(format!(
                "payload truncated: {} of {want} bytes present; its CRC-32 can not be checked",
                payload.len()
            ));
            checks.push_str(", payload truncated");
        } else {
            let (bzip2, zlib) = (crc32_bzip2(payload), crc32fast::hash(payload));
            if bzip2 == h.crc {
                checks.push_str(
                    ", payload CRC-32 verified (MSB-first, CRC-32/BZIP2 as Broadcom's tool computes it)",
                );
            } else if zlib == h.crc {
                checks.push_str(", payload CRC-32 verified (reflected, zlib's CRC-32)");
            } else {
                let m = format!(
                    "payload CRC-32 mismatch: stored {:#010x}, computed {bzip2:#010x} (CRC-32/BZIP2) or {zlib:#010x} (zlib)",
                    h.crc
                );
                out.note(m.clone());
                checks.push_str(", ");
                checks.push_str(&m);
            }
        }
        let parts: Vec<(&[u8], usize, usize)> = if h.dual() {
            let (l1, l2) = (h.length1 as usize, h.length2 as usize);
            vec![(b"/image1", 0, l1), (b"/image2", want.saturating_sub(l2), l2)]
        } else {
            vec![(b"/image", 0, want)]
        };
        for (name, off, len) in parts {
            out.check_time()?;
            let Some(part) = payload.get(off..) else {
                out.note(format!(
                    "{} is missing (the payload is truncated)",
                    String::from_utf8_lossy(name)
                ));
                continue;
            };
            let part = part.get(..len).unwrap_or(part);
            if emit(&h, name, part, (HEADER_LEN + off) as u64, out)? == Some(LzmaEnd::InputEnd) {
                checks.push_str(&format!(
                    ", {} has no LZMA end marker (decoded to the end of its data)",
                    String::from_utf8_lossy(name)
                ));
            }
        }
        out.describe(describe(&h, &checks));
        Ok((HEADER_LEN + payload.len()) as u64)
    }
}

/// One image of the payload, decoded when its compression is LZMA (then how its stream ended).
fn emit(
    h: &Header,
    name: &[u8],
    part: &[u8],
    at: u64,
    out: &mut Extractor<'_>,
) -> Result<Option<LzmaEnd>, FormatError> {
    let shown = String::from_utf8_lossy(name).into_owned();
    // `/image1` → `/payload1` when the bytes can not be decoded here.
    let suffix = name.get(b"/image".len()..).unwrap_or_default();
    let payload_name = [b"/payload".as_slice(), suffix].concat();
    if !out.wants(name) && !out.wants(&payload_name) {
        return Ok(None);
    }
    match h.compression() {
        0 => {
            out.region(Entry::file(name.to_vec()), at, part.len() as u64);
        }
        5 => {
            let (Some(&props), Some(dict)) = (part.first(), bytes::le32(part, 1)) else {
                out.note(format!("{shown}: too short for an LZMA header"));
                out.region(Entry::file(name.to_vec()), at, part.len() as u64);
                return Ok(None);
            };
            let stream = part.get(5..).unwrap_or_default();
            let before = out.count();
            match lzma_member(stream, props, dict, None, out, Entry::file(name.to_vec())) {
                Ok((_, end)) => return Ok(Some(end)),
                Err(e @ FormatError::Limit(_)) => out.settle(Err(e))?,
                Err(e) if out.count() > before => {
                    out.note(format!("{shown} is cut short: {e}"));
                }
                Err(e) => {
                    out.note(format!("{shown} did not decode as LZMA: {e}; kept as is"));
                    out.region(Entry::file(name.to_vec()), at, part.len() as u64);
                }
            }
        }
        c => {
            out.note(format!(
                "{shown}: {} compression is not supported; the compressed payload is kept",
                compression_name(c)
            ));
            out.region(Entry::file(payload_name), at, part.len() as u64);
        }
    }
    Ok(None)
}

/// How an LZMA stream decoded into a member ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LzmaEnd {
    /// At its end marker.
    Marker,
    /// At the uncompressed size it was given.
    Size,
    /// Where the data ran out (a stream with neither a size nor an end marker).
    InputEnd,
}

/// Decodes a raw LZMA stream into one member, charging the extractor's budgets as it goes, and
/// returns the input bytes read and how it ended. Without a `size`, a stream that simply stops
/// (no end marker, as Broadcom's and other vendors' encoders write them) ends where the data does,
/// after its last complete symbol; with a `size`, running out of data first is an error. On an
/// error, what was decoded is kept as a truncated member.
pub(crate) fn lzma_member(
    stream: &[u8],
    props: u8,
    dict: u32,
    size: Option<u64>,
    out: &mut Extractor<'_>,
    entry: Entry,
) -> Result<(u64, LzmaEnd), FormatError> {
    let (input, pos) = Counting::new(stream);
    let mut dec = LzmaReader::new_with_props(input, size.unwrap_or(u64::MAX), props, dict.max(4096), None)
        .map_err(|e| FormatError::invalid(format!("bad LZMA properties: {e}")))?;
    // Hand over every complete symbol before reporting the error that stopped decoding.
    dec.set_defer_errors(true);
    let mut sink = out.sink(entry);
    let mut buf = vec![0u8; 64 << 10];
    let result = loop {
        if let Err(e) = out.check_time() {
            break Err(e);
        }
        match dec.read(&mut buf) {
            Ok(0) => {
                break Ok(if size.is_some() {
                    LzmaEnd::Size
                } else {
                    LzmaEnd::Marker
                });
            }
            Ok(n) => {
                if let Err(e) = sink.write(out, buf.get(..n).unwrap_or_default(), pos.get()) {
                    break Err(e);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // Out of data in the middle of a symbol: the normal end of a stream that has neither
            // a size nor an end marker (its last bytes only flush the range coder).
            Err(e)
                if e.kind() == std::io::ErrorKind::UnexpectedEof
                    && size.is_none()
                    && !sink.is_empty()
                    && pos.get() >= stream.len() as u64 =>
            {
                break Ok(LzmaEnd::InputEnd);
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break Err(FormatError::invalid(format!(
                    "the LZMA data ends early, after {} bytes of output",
                    sink.len()
                )));
            }
            Err(e) => {
                break Err(FormatError::invalid(format!(
                    "corrupt LZMA data after {} bytes of output: {e}",
                    sink.len()
                )));
            }
        }
    };
    sink.finish(out, result.is_err());
    result.map(|end| (pos.get(), end))
}

#[cfg(test)]
mod tests {
    use super::{HEADER_LEN, ProgramStore, crc16_genibus, crc32_bzip2, utc};
    use crate::format::Format;

    fn unhex(s: &str) -> Vec<u8> {
        probity_model::hex::decode(s).unwrap()
    }

    /// `b"probity programstore test payload\n" * 6` as Python's LZMA-alone encoder writes it
    /// (lc3 lp0 pb2, 64 KiB dictionary), with the 8-byte size removed: ProgramStore's form.
    const LZMA: &str = "5d0000010000381c8a21960f7c9ca4b861a98fb0099b29edf591a679c113782ea25b6a1553e0dceac8c560bf9fffabe70000";

    fn plain() -> Vec<u8> {
        b"probity programstore test payload\n".repeat(6)
    }

    fn header(control: u16, payload: &[u8], len1: u32, len2: u32) -> Vec<u8> {
        let mut h = Vec::new();
        h.extend_from_slice(&0x3350u16.to_be_bytes());
        h.extend_from_slice(&control.to_be_bytes());
        h.extend_from_slice(&2u16.to_be_bytes());
        h.extend_from_slice(&0x10u16.to_be_bytes());
        h.extend_from_slice(&1_700_000_000u32.to_be_bytes());
        h.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        h.extend_from_slice(&0x8000_4000u32.to_be_bytes());
        let mut name = b"ecram_sto.bin".to_vec();
        name.resize(48, 0);
        h.extend_from_slice(&name);
        h.extend_from_slice(&[0; 8]);
        h.extend_from_slice(&len1.to_be_bytes());
        h.extend_from_slice(&len2.to_be_bytes());
        let hcs = crc16_genibus(&h);
        h.extend_from_slice(&hcs.to_be_bytes());
        h.extend_from_slice(&[0, 0]);
        h.extend_from_slice(&crc32_bzip2(payload).to_be_bytes());
        assert_eq!(h.len(), HEADER_LEN);
        h.extend_from_slice(payload);
        h
    }

    type Members = Vec<(Vec<u8>, Vec<u8>)>;

    fn run(data: &[u8]) -> (u64, Members, Vec<String>, String, bool) {
        crate::formats::seama::tests::run_members(&ProgramStore, data)
    }

    #[test]
    fn check_values() {
        assert_eq!(crc16_genibus(b"123456789"), 0xd64e);
        assert_eq!(crc32_bzip2(b"123456789"), 0xfc89_1918);
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
    }

    #[test]
    fn lzma_image_is_decoded_and_both_checksums_verified() {
        let img = header(0x0005, &unhex(LZMA), 0, 0);
        let p = ProgramStore.probe(&img).unwrap();
        assert_eq!(p.confidence, 100);
        assert_eq!(p.length, Some(img.len() as u64));
        let (used, members, notes, description, verified) = run(&img);
        assert_eq!(used, img.len() as u64);
        assert!(verified);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(members, vec![(b"/image".to_vec(), plain())]);
        assert!(description.contains("`ecram_sto.bin`"), "{description}");
        assert!(
            description.contains("built 2023-11-14 22:13:20 UTC"),
            "{description}"
        );
        assert!(description.contains("header CRC-16 verified"), "{description}");
        assert!(
            description.contains("payload CRC-32 verified (MSB-first"),
            "{description}"
        );
    }

    /// Eight lines `line N of the probity programstore payload` (344 bytes) as 7-Zip's LZMA
    /// encoder writes them into a .7z (lc3 lp0 pb2, 64 KiB dictionary): no end marker, no size.
    const NO_MARKER: &str = "00361a4a1f08a026034d069df8b2a5acb047e22933942f4008410ba15f5001d431a65883f3966392b340e22928359d15feb53983b0c9c7272ba6bb7ed962bbb600";

    #[test]
    fn a_stream_without_end_marker_ends_with_the_data() {
        let mut payload = unhex("5d00000100");
        payload.extend_from_slice(&unhex(NO_MARKER));
        let img = header(0x0005, &payload, 0, 0);
        let (_, members, notes, description, _) = run(&img);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(
            description.ends_with(", /image has no LZMA end marker (decoded to the end of its data)"),
            "{description}"
        );
        let text: Vec<u8> = (0..8)
            .flat_map(|i| format!("line {i} of the probity programstore payload\n").into_bytes())
            .collect();
        // Every symbol is there. Nothing marks the end, so the decoder may also complete one
        // symbol out of the range coder's final flush bytes (here a single zero byte), as the
        // modem's own loader would.
        assert_eq!(members.len(), 1);
        assert_eq!(members[0].0, b"/image");
        assert!(members[0].1.starts_with(&text));
        assert!(members[0].1.len() <= text.len() + 1);
    }

    #[test]
    fn zlib_crc_variant_and_uncompressed_dual_image() {
        let payload: Vec<u8> = (0..100u8).collect();
        let mut img = header(0x0100, &payload, 40, 50);
        // Store zlib's CRC-32 instead of Broadcom's (the header CRC does not cover it).
        img[88..92].copy_from_slice(&crc32fast::hash(&payload).to_be_bytes());
        let (used, members, notes, description, verified) = run(&img);
        assert_eq!(used, img.len() as u64);
        assert!(verified);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(
            members,
            vec![
                (b"/image1".to_vec(), payload[..40].to_vec()),
                (b"/image2".to_vec(), payload[50..].to_vec())
            ]
        );
        assert!(
            description.contains("(reflected, zlib's CRC-32)"),
            "{description}"
        );
        assert!(
            description.contains("dual image (40 + 50 bytes)"),
            "{description}"
        );
    }

    #[test]
    fn bad_checksums_are_reported_and_extraction_goes_on() {
        let mut img = header(0x0005, &unhex(LZMA), 0, 0);
        img[84] ^= 0xff; // header CRC
        img[91] ^= 0x01; // payload CRC
        let p = ProgramStore.probe(&img).unwrap();
        assert_eq!(p.confidence, 60);
        let (_, members, notes, description, verified) = run(&img);
        assert!(!verified);
        assert_eq!(members, vec![(b"/image".to_vec(), plain())]);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes[0].starts_with("header CRC-16 mismatch: stored 0x"),
            "{notes:?}"
        );
        assert!(notes[1].starts_with("payload CRC-32 mismatch"), "{notes:?}");
        assert!(description.contains("header CRC-16 mismatch"), "{description}");
    }

    #[test]
    fn unsupported_compression_keeps_the_payload() {
        let payload = [7u8; 64];
        let img = header(0x0001, &payload, 0, 0);
        let (_, members, notes, _, _) = run(&img);
        assert_eq!(members, vec![(b"/payload".to_vec(), payload.to_vec())]);
        assert!(
            notes[0].contains("LZRW1/KH compression is not supported"),
            "{notes:?}"
        );
    }

    #[test]
    fn truncated_payload_is_noted() {
        let mut img = header(0x0000, &[1u8; 200], 0, 0);
        img.truncate(HEADER_LEN + 50);
        let (used, members, notes, _, _) = run(&img);
        assert_eq!(used, img.len() as u64);
        assert_eq!(members, vec![(b"/image".to_vec(), vec![1u8; 50])]);
        assert!(notes[0].starts_with("payload truncated: 50 of 200"), "{notes:?}");
    }

    #[test]
    fn garbage_and_implausible_headers_are_refused() {
        let good = header(0x0005, &unhex(LZMA), 0, 0);
        for n in 0..HEADER_LEN {
            assert!(ProgramStore.probe(&good[..n]).is_none());
        }
        // A bad header CRC with an implausible field: no.
        let mut bad = good.clone();
        bad[84] ^= 1;
        bad[20] = b'1';
        assert!(ProgramStore.probe(&bad).is_none());
        // Reserved bytes, an undefined control word, a zero length.
        for (at, v) in [(70, 1u8), (2, 2), (3, 3), (3, 6), (12, 0)] {
            let mut d = good.clone();
            d[at] = v;
            if at == 12 {
                d[12..16].fill(0);
            }
            assert!(ProgramStore.probe(&d).is_none(), "field at {at}");
        }
        let mut x = 0x1234_5678u32;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        for start in 0..noise.len() - HEADER_LEN {
            let mut d = noise[start..].to_vec();
            d[..4].copy_from_slice(&[0x33, 0x50, 0, 5]);
            assert!(ProgramStore.probe(&d).is_none());
        }
    }
}
