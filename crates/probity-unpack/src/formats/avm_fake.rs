//! AVM's "fake squashfs": a 256-byte header that starts with `sqsh` and is otherwise zero, in front
//! of a file system image that is not squashfs (FRITZ!Box `filesystem` images carry an ext2 this
//! way). The header is explained; everything after it is the one member, `/image`.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe};

/// The AVM fake squashfs wrapper.
#[derive(Debug)]
pub struct AvmFakeSquashfs;

const MAGICS: &[Magic] = &[Magic::start(b"sqsh")];

const HEADER: usize = 256;

fn valid(data: &[u8]) -> bool {
    data.len() > HEADER && data.starts_with(b"sqsh") && data[4..HEADER].iter().all(|&b| b == 0)
}

impl Format for AvmFakeSquashfs {
    fn name(&self) -> &'static str {
        "avm-fake-squashfs"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        valid(data).then(|| Probe {
            length: None,
            confidence: 70,
            description: "AVM fake squashfs header (256 bytes) in front of another image".into(),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        if !valid(data) {
            return Err(FormatError::invalid("not an AVM fake squashfs header"));
        }
        out.describe("AVM fake squashfs header (256 bytes) in front of another image");
        out.region(
            Entry::file(b"/image".to_vec()),
            HEADER as u64,
            (data.len() - HEADER) as u64,
        );
        Ok(data.len() as u64)
    }
}
