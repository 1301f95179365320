//! lzip (`.lz`): a 6-byte header (`LZIP`, version 1, a coded dictionary size), a raw LZMA stream
//! (lc=3, lp=0, pb=2) that ends with an end marker, and a 20-byte trailer (CRC-32 of the data, data
//! size, member size). The trailer is checked: the CRC and sizes must match what was decoded.

use lzma_rust2::{LzmaStream, Status};

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};
use crate::formats::lzma::pump;

/// The lzip format.
#[derive(Debug)]
pub struct Lzip;

const MAGICS: &[Magic] = &[Magic::start(b"LZIP\x01")];

/// The dictionary size coded in the header's sixth byte: a power of two (bits 0–4) minus
/// sixteenths of it (bits 5–7), between 4 KiB and 512 MiB.
fn dict_size(code: u8) -> Option<u32> {
    let base = 1u32.checked_shl(u32::from(code & 0x1f))?;
    let size = base - (base / 16) * u32::from(code >> 5);
    (4096..=512 << 20).contains(&size).then_some(size)
}

impl Format for Lzip {
    fn name(&self) -> &'static str {
        "lzip"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let dict = dict_size(*data.get(5)?)?;
        // The range coder's first byte is always zero.
        if *data.get(6)? != 0 {
            return None;
        }
        Some(Probe {
            length: None,
            confidence: 85,
            description: format!("lzip, dictionary {} KiB", dict / 1024),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let dict = data
            .get(5)
            .copied()
            .and_then(dict_size)
            .ok_or_else(|| FormatError::invalid("bad lzip header"))?;
        out.describe(format!("lzip, dictionary {} KiB", dict / 1024));
        let body = data.get(6..).unwrap_or_default();
        let mut stream = LzmaStream::new_with_props(u64::MAX, 0x5d, dict, None)
            .map_err(|e| FormatError::invalid(format!("bad LZMA properties: {e}")))?;
        let mut crc = crc32fast::Hasher::new();
        let mut size = 0u64;
        let mut ended = false;
        let consumed = pump(body, out, Entry::payload(), |input, output, action| {
            let r = stream.process(input, output, action)?;
            crc.update(&output[..r.bytes_produced]);
            size += r.bytes_produced as u64;
            ended |= r.status == Status::StreamEnd;
            Ok((r.bytes_consumed, r.bytes_produced, r.status == Status::StreamEnd))
        })?;
        let end = 6 + consumed;
        if !ended {
            return Ok(end);
        }
        let trailer = bytes::slice(data, end as usize, 20);
        match trailer {
            None => out.note("the lzip trailer is missing; the data was not checked"),
            Some(t) => {
                let (want_crc, want_size, member) = (
                    bytes::le32(t, 0).unwrap_or(0),
                    bytes::le64(t, 4).unwrap_or(0),
                    bytes::le64(t, 12).unwrap_or(0),
                );
                if want_crc != crc.finalize() || want_size != size || member != end + 20 {
                    out.note(format!(
                        "lzip trailer mismatch: CRC-32 {want_crc:08x}, {want_size} bytes, member of {member} bytes stored; {size} bytes decoded from a member of {} bytes",
                        end + 20
                    ));
                } else {
                    out.verified();
                }
                return Ok(end + 20);
            }
        }
        Ok(end)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dictionary_sizes_decode_as_lzip_defines_them() {
        assert_eq!(super::dict_size(12), Some(4096));
        assert_eq!(super::dict_size(0x17), Some(8 << 20));
        // 2^24 minus 3/16 of it.
        assert_eq!(
            super::dict_size(0x18 | (3 << 5)),
            Some((16 << 20) - 3 * (1 << 20))
        );
        assert_eq!(super::dict_size(11), None);
        assert_eq!(super::dict_size(30), None);
    }
}
