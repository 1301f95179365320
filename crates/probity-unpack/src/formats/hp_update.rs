//! STUB: to be written (issue 4).

use crate::extract::Extractor;
use crate::format::{Format, FormatError, Magic, Probe};

/// STUB.
#[derive(Debug)]
pub struct HpUpdate;

impl Format for HpUpdate {
    fn name(&self) -> &'static str {
        "hp-update-stream"
    }

    fn magics(&self) -> &'static [Magic] {
        &[]
    }

    fn probe(&self, _data: &[u8]) -> Option<Probe> {
        None
    }

    fn extract(&self, _data: &[u8], _out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        Err(FormatError::invalid("not implemented"))
    }
}
