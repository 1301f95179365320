//! xz streams (the .xz format of XZ Utils), with the BCJ filters kernels and squashfs images use.
//! The stream header's CRC-32 is checked in the probe; block and stream checks by the decoder.

use lzma_rust2::{Status, XzStream};

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};
use crate::formats::lzma::pump;

/// The xz format.
#[derive(Debug)]
pub struct Xz;

const MAGICS: &[Magic] = &[Magic::start(b"\xfd7zXZ\x00")];

impl Format for Xz {
    fn name(&self) -> &'static str {
        "xz"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let flags = bytes::slice(data, 6, 2)?;
        let crc = bytes::le32(data, 8)?;
        if flags[0] != 0 || flags[1] > 0x0f {
            return None;
        }
        // The stream header's CRC is checked by every xz decoder; a mismatch means this is not
        // an xz stream (vendors do not alter xz headers).
        if crc32fast::hash(flags) != crc {
            return None;
        }
        let check = match flags[1] {
            0 => "no check",
            1 => "CRC32",
            4 => "CRC64",
            10 => "SHA-256",
            _ => "reserved check",
        };
        Some(Probe {
            length: None,
            confidence: 95,
            description: format!("xz, {check}"),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        if let Some(p) = self.probe(data) {
            out.describe(p.description);
        }
        // One stream per candidate: a following stream is its own candidate.
        let mut stream = XzStream::new(false);
        pump(data, out, Entry::payload(), |input, output, action| {
            stream
                .process(input, output, action)
                .map(|r| (r.bytes_consumed, r.bytes_produced, r.status == Status::StreamEnd))
        })
    }
}
