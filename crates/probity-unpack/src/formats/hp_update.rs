//! The compressed streams of HP printer "update streams" (the data of PJL firmware upgrades and
//! FACT's `firmware/hp-us` files): LZMA-alone streams with the unusual properties lc=3 lp=1 pb=1
//! (properties byte 0x39), a 32 MiB dictionary and an unknown uncompressed size, i.e. the 13-byte
//! header `39 00 00 00 02 FF FF FF FF FF FF FF FF`. The generic LZMA format does not look for
//! these properties, so this format does, and decodes each stream into one payload.
//!
//! An update stream as a whole has no known signature or header: FACT cuts such files into the
//! runs of data between zero padding of 16 bytes or more and looks for the header above anywhere.
//! Those runs are not a structure recorded in the file, so they are not turned into members here;
//! only the streams, which are recognised by their exact header, a first range-coder byte of zero
//! and a trial decoding of their first bytes, are. LZMA has no checksum.

use lzma_rust2::{Action, LzmaStream};

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe};
use crate::formats::lzma::decode_raw;

/// An LZMA stream of an HP update stream.
#[derive(Debug)]
pub struct HpUpdate;

const HEADER: &[u8] = b"\x39\x00\x00\x00\x02\xff\xff\xff\xff\xff\xff\xff\xff";
const MAGICS: &[Magic] = &[Magic::start(HEADER)];
const PROPS: u8 = 0x39;
const DICT: u32 = 0x0200_0000;

fn check(data: &[u8]) -> Option<()> {
    if !data.starts_with(HEADER) || *data.get(HEADER.len())? != 0 {
        return None;
    }
    // Decode a little: chance matches and damaged streams fail at once.
    let mut s = LzmaStream::new_with_props(u64::MAX, PROPS, DICT, None).ok()?;
    let mut buf = vec![0u8; 4096];
    let input = data.get(HEADER.len()..data.len().min(HEADER.len() + 4096))?;
    let r = s.process(input, &mut buf, Action::Run).ok()?;
    (r.bytes_produced > 0).then_some(())
}

impl Format for HpUpdate {
    fn name(&self) -> &'static str {
        "hp-update-stream"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        check(data)?;
        Some(Probe {
            length: None,
            confidence: 70,
            description: "HP update-stream LZMA (lc=3 lp=1 pb=1, 32 MiB dictionary, size unknown)".into(),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        check(data).ok_or_else(|| FormatError::invalid("not an HP update-stream LZMA stream"))?;
        let body = data.get(HEADER.len()..).unwrap_or_default();
        let consumed = decode_raw(body, PROPS, DICT, None, out, Entry::payload())?;
        out.describe(format!(
            "HP update-stream LZMA (lc=3 lp=1 pb=1, 32 MiB dictionary, size unknown): {} bytes compressed, {} bytes decoded (LZMA has no checksum)",
            HEADER.len() as u64 + consumed,
            out.produced()
        ));
        Ok(HEADER.len() as u64 + consumed)
    }
}

#[cfg(test)]
mod tests {
    use super::{HEADER, HpUpdate};
    use crate::format::Format;
    use crate::formats::ascii85::testing::run;

    /// The stream of FACT's `update_stream.bin` at 0x8d (45 bytes with its end marker), which
    /// decodes to `compressed_stream_data`.
    const STREAM: &[u8] = b"\x39\x00\x00\x00\x02\xff\xff\xff\xff\xff\xff\xff\xff\x00\x31\x9b\xca\x14\xa9\x35\xe1\xab\x0d\x28\x8f\xe9\x6d\x87\x57\x20\x22\xd2\xf8\x20\x1a\x18\xa1\xc6\xea\xb6\xff\xfa\xeb\x50\x00";

    #[test]
    fn decodes_a_stream() {
        let mut d = STREAM.to_vec();
        d.extend([0u8; 40]);
        d.extend(b"Last Data Block");
        assert!(HpUpdate.probe(&d).is_some());
        let o = run(&HpUpdate, &d).unwrap();
        assert_eq!(o.consumed, STREAM.len() as u64);
        assert_eq!(o.members.len(), 1);
        assert_eq!(o.members[0].1, b"compressed_stream_data");
        assert!(o.notes.is_empty(), "{:?}", o.notes);
    }

    #[test]
    fn damaged_stream_keeps_what_decoded_or_fails() {
        // Cut before the end marker: what was decoded is kept, with a note.
        let o = run(&HpUpdate, &STREAM[..STREAM.len() - 6]).unwrap();
        assert_eq!(o.notes.len(), 1, "{:?}", o.notes);
        assert!(b"compressed_stream_data".starts_with(&o.members[0].1));
    }

    #[test]
    fn mutations_never_break_the_invariants() {
        crate::formats::ascii85::testing::shake("hp-update-stream", STREAM, 300);
    }

    #[test]
    fn refuses_other_data() {
        assert!(HpUpdate.probe(HEADER).is_none());
        let mut d = HEADER.to_vec();
        d.extend([0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        let _ = HpUpdate.probe(&d);
        let mut d = STREAM.to_vec();
        d[13] = 1; // the range coder's first byte is always zero
        assert!(HpUpdate.probe(&d).is_none());
        let mut d = STREAM.to_vec();
        d[0] = 0x5d;
        assert!(HpUpdate.probe(&d).is_none());
        for n in 0..STREAM.len() {
            let _ = HpUpdate.probe(&STREAM[..n]);
            let _ = run(&HpUpdate, &STREAM[..n]);
        }
    }
}
