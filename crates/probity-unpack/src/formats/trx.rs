//! Broadcom TRX images: a header with the image length, a CRC-32 over the rest, and the offsets of
//! up to three (v1) or four (v2) partitions (typically loader, kernel, root file system).

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The TRX format.
#[derive(Debug)]
pub struct Trx;

const MAGICS: &[Magic] = &[Magic::start(b"HDR0")];

struct Header {
    len: u32,
    crc_ok: Option<bool>,
    version: u16,
    offsets: Vec<u32>,
}

fn parse(data: &[u8]) -> Option<Header> {
    let len = bytes::le32(data, 4)?;
    let crc = bytes::le32(data, 8)?;
    let flag_version = bytes::le32(data, 12)?;
    let version = (flag_version >> 16) as u16;
    let n = match version {
        1 => 3,
        2 => 4,
        _ => return None,
    };
    let header_len = 16 + 4 * n;
    if (len as usize) < header_len {
        return None;
    }
    let offsets: Vec<u32> = (0..n)
        .map(|i| bytes::le32(data, 16 + 4 * i).unwrap_or(0))
        .collect();
    if offsets
        .iter()
        .any(|&o| o != 0 && (o as usize) < header_len.min(28) || o > len)
    {
        return None;
    }
    // The CRC covers everything after the CRC field, without the final inversion.
    let crc_ok = data
        .get(12..len as usize)
        .map(|body| !crc32fast::hash(body) == crc);
    Some(Header {
        len,
        crc_ok,
        version,
        offsets,
    })
}

impl Format for Trx {
    fn name(&self) -> &'static str {
        "trx"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let h = parse(data)?;
        Some(Probe {
            length: Some(u64::from(h.len)),
            confidence: if h.crc_ok == Some(true) { 100 } else { 60 },
            description: format!(
                "Broadcom TRX v{}, {} bytes, CRC-32 {}",
                h.version,
                h.len,
                match h.crc_ok {
                    Some(true) => "verified",
                    Some(false) => "mismatch",
                    None => "not verifiable (truncated)",
                }
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let h = parse(data).ok_or_else(|| FormatError::invalid("bad TRX header"))?;
        if let Some(p) = self.probe(data) {
            out.describe(p.description);
        }
        match h.crc_ok {
            Some(false) => out.note("CRC-32 mismatch"),
            None => out.note(format!(
                "image truncated: {} of {} bytes present",
                data.len(),
                h.len
            )),
            Some(true) => {}
        }
        let end = (h.len as usize).min(data.len());
        let mut parts: Vec<u32> = h.offsets.iter().copied().filter(|&o| o != 0).collect();
        parts.sort_unstable();
        parts.dedup();
        for (i, &start) in parts.iter().enumerate() {
            let stop = parts.get(i + 1).map(|&n| n as usize).unwrap_or(end).min(end);
            if (start as usize) < stop {
                out.region(
                    Entry::file(format!("/partition{i}").into_bytes()),
                    u64::from(start),
                    (stop - start as usize) as u64,
                );
            }
        }
        Ok(end as u64)
    }
}
