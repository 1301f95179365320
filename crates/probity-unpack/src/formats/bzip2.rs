//! bzip2 streams: `BZh` and the block size digit, then the block (or end-of-stream) magic. Block
//! CRCs and the stream CRC are checked by the decoder.

use bzip2::bufread::BzDecoder;

use crate::extract::{Counting, Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe};
use crate::formats::gzip::finish_stream;

/// The bzip2 format.
#[derive(Debug)]
pub struct Bzip2;

const MAGICS: &[Magic] = &[
    Magic::start(b"BZh1\x31\x41\x59\x26\x53\x59"),
    Magic::start(b"BZh2\x31\x41\x59\x26\x53\x59"),
    Magic::start(b"BZh3\x31\x41\x59\x26\x53\x59"),
    Magic::start(b"BZh4\x31\x41\x59\x26\x53\x59"),
    Magic::start(b"BZh5\x31\x41\x59\x26\x53\x59"),
    Magic::start(b"BZh6\x31\x41\x59\x26\x53\x59"),
    Magic::start(b"BZh7\x31\x41\x59\x26\x53\x59"),
    Magic::start(b"BZh8\x31\x41\x59\x26\x53\x59"),
    Magic::start(b"BZh9\x31\x41\x59\x26\x53\x59"),
];

impl Format for Bzip2 {
    fn name(&self) -> &'static str {
        "bzip2"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let level = *data.get(3)?;
        (data.starts_with(b"BZh") && (b'1'..=b'9').contains(&level)).then(|| Probe {
            length: None,
            confidence: 85,
            description: format!("bzip2, {}00 KiB blocks", char::from(level)),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        if let Some(p) = self.probe(data) {
            out.describe(p.description);
        }
        let (input, pos) = Counting::new(data);
        let mut dec = BzDecoder::new(input);
        let result = out.stream(Entry::payload(), &mut dec, &|| pos.get());
        finish_stream(result, out, pos.get())
    }
}
