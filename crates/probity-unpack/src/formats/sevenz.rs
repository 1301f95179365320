//! 7-Zip archives, through the `sevenz-rust2` reader (LZMA, LZMA2, BCJ filters, bzip2, deflate,
//! PPMd, LZ4). The signature header's CRC is checked in the probe; encrypted archives are
//! reported, not opened.

use std::io::{Cursor, Read};

use sevenz_rust2::{ArchiveReader, Password};

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};
use crate::formats::paths::normalise;

/// The 7z format.
#[derive(Debug)]
pub struct SevenZ;

const MAGICS: &[Magic] = &[Magic::start(b"7z\xbc\xaf\x27\x1c")];

/// Memory the decoder may use for dictionaries and headers, in KiB.
const MEMORY_KB: usize = 256 << 10;

fn header(data: &[u8]) -> Option<(u64, bool)> {
    let start_crc = bytes::le32(data, 8)?;
    let rest = bytes::slice(data, 12, 20)?;
    let next_off = bytes::le64(data, 12)?;
    let next_len = bytes::le64(data, 20)?;
    Some((
        next_off.checked_add(next_len)?.checked_add(32)?,
        crc32fast::hash(rest) == start_crc,
    ))
}

impl Format for SevenZ {
    fn name(&self) -> &'static str {
        "7z"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let (len, ok) = header(data)?;
        ok.then(|| Probe {
            length: Some(len),
            confidence: 100,
            description: "7-Zip archive".into(),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let (len, ok) = header(data).ok_or_else(|| FormatError::invalid("bad 7z signature header"))?;
        if !ok {
            return Err(FormatError::invalid("7z start header CRC mismatch"));
        }
        out.describe("7-Zip archive");
        let Some(archive) = data.get(..usize::try_from(len).unwrap_or(usize::MAX)) else {
            return Err(FormatError::invalid(format!(
                "archive truncated: {} of {len} bytes present",
                data.len()
            )));
        };
        let mut reader =
            ArchiveReader::new_with_memory_limit(Cursor::new(archive), Password::empty(), MEMORY_KB)
                .map_err(|e| FormatError::invalid(format!("can not read the 7z headers: {e}")))?;
        reader.set_thread_count(1);
        let mut failure: Option<FormatError> = None;
        let result = reader.for_each_entries(|entry, r| {
            if out.check_time().is_err() {
                return Ok(false);
            }
            let path = normalise(entry.name.as_bytes());
            // p7zip stores the Unix mode in the high half of the attributes, flagged by 0x8000.
            let unix = (entry.has_windows_attributes && entry.windows_attributes & 0x8000 != 0)
                .then_some(entry.windows_attributes >> 16);
            if entry.is_directory {
                out.entry(Entry {
                    member: Some(path),
                    kind: Some(probity_model::ArtifactKind::Directory),
                    mode: Some(unix.unwrap_or(0o040755)),
                    ..Entry::default()
                });
                return Ok(true);
            }
            if unix.is_some_and(|m| m & 0o170000 == 0o120000) {
                // A symbolic link stored as such (`7z a -snl`): its content is the target.
                let mut target = Vec::new();
                let _ = r.take(4096).read_to_end(&mut target);
                out.entry(Entry {
                    member: Some(path),
                    kind: Some(probity_model::ArtifactKind::Symlink),
                    mode: unix,
                    link_target: Some(target),
                    ..Entry::default()
                });
                return Ok(true);
            }
            let file = Entry {
                mode: Some(unix.unwrap_or(0o100644)),
                ..Entry::file(path.clone())
            };
            if !out.wants(&path) {
                out.entry(file);
                return Ok(true);
            }
            let consumed = len;
            let mut counted = r.take(entry.size.saturating_add(1));
            if let Err(e) = out.stream(file, &mut counted, &|| consumed) {
                failure = Some(e);
                return Ok(false);
            }
            Ok(true)
        });
        if let Some(e) = failure {
            match e {
                FormatError::Limit(_) => out.settle(Err(e))?,
                _ => out.note(e.to_string()),
            }
        }
        if let Err(e) = result {
            let msg = e.to_string();
            if msg.to_lowercase().contains("password") {
                out.note("the archive is encrypted; members recorded without content");
            } else {
                out.note(format!("7z data: {msg}"));
            }
        }
        Ok(len)
    }
}
