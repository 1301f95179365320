//! zlib (RFC 1950) streams: a two-byte header, deflate data, an Adler-32 trailer. The header is a
//! weak signature, so a candidate counts only if the start of its deflate data decodes.

use flate2::bufread::ZlibDecoder;
use flate2::{Decompress, FlushDecompress, Status};

use crate::extract::{Counting, Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe};
use crate::formats::gzip::finish_stream;

/// The zlib format.
#[derive(Debug)]
pub struct Zlib;

const MAGICS: &[Magic] = &[
    Magic::start(b"\x78\x01"),
    Magic::start(b"\x78\x5e"),
    Magic::start(b"\x78\x9c"),
    Magic::start(b"\x78\xda"),
];

impl Format for Zlib {
    fn name(&self) -> &'static str {
        "zlib"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let cmf = *data.first()?;
        let flg = *data.get(1)?;
        if cmf & 0x0f != 8
            || cmf >> 4 > 7
            || (u16::from(cmf) * 256 + u16::from(flg)) % 31 != 0
            || flg & 0x20 != 0
        {
            return None;
        }
        // Decode up to 4 KiB of output from the first 2 KiB of input: random bytes fail within a
        // few symbols, real streams do not.
        let mut d = Decompress::new(true);
        let mut outbuf = vec![0u8; 4096];
        let input = &data[..data.len().min(2048)];
        match d.decompress(input, &mut outbuf, FlushDecompress::None) {
            Ok(Status::Ok | Status::StreamEnd | Status::BufError)
                if d.total_out() >= 16 || d.total_in() as usize == input.len() =>
            {
                Some(Probe {
                    length: None,
                    confidence: 40,
                    description: "zlib stream".into(),
                })
            }
            _ => None,
        }
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        out.describe("zlib stream");
        let (input, pos) = Counting::new(data);
        let mut dec = ZlibDecoder::new(input);
        let result = out.stream(Entry::payload(), &mut dec, &|| pos.get());
        finish_stream(result, out, pos.get())
    }
}
