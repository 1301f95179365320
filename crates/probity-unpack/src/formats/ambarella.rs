//! Ambarella ROMFS partitions, the read-only file store of Ambarella camera SoC firmware (action
//! cameras, dash cams, drones), holding calibration tables, fonts and images. A 2048-byte
//! little-endian header (the file count and the magic `0x66FC328A`, padded with `FF`) is followed
//! by one 128-byte entry per file (a 116-byte name, the file's offset and length, and the entry
//! magic `0x2387AB76`), padded to 2048 bytes, and by the files, each padded with `FF` to a multiple
//! of 2048 bytes. Every file becomes a member named by its entry. There is no checksum; the header
//! is validated by the magic of every entry and by every file lying after the table.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The Ambarella ROMFS format.
#[derive(Debug)]
pub struct Ambarella;

const MAGICS: &[Magic] = &[Magic {
    bytes: b"\x8a\x32\xfc\x66",
    at: 4,
}];
const BLOCK: usize = 2048;
const ENTRY_LEN: usize = 128;
const ENTRY_MAGIC: u32 = 0x2387_ab76;
/// More files than this is not a real partition.
const MAX_FILES: usize = 16384;

struct File {
    name: Vec<u8>,
    offset: usize,
    length: usize,
}

fn parse(data: &[u8]) -> Option<Vec<File>> {
    let count = bytes::le32(data, 0)? as usize;
    if count == 0 || count > MAX_FILES || bytes::le32(data, 4)? != 0x66fc_328a {
        return None;
    }
    let table_end = BLOCK + count * ENTRY_LEN;
    let mut files = Vec::with_capacity(count);
    for i in 0..count {
        let e = bytes::slice(data, BLOCK + i * ENTRY_LEN, ENTRY_LEN)?;
        if bytes::le32(e, 124)? != ENTRY_MAGIC {
            return None;
        }
        let name = bytes::cstr(e.get(..116)?);
        let offset = bytes::le32(e, 116)? as usize;
        if name.is_empty() || offset < table_end {
            return None;
        }
        files.push(File {
            name: name.to_vec(),
            offset,
            length: bytes::le32(e, 120)? as usize,
        });
    }
    Some(files)
}

/// Where the partition ends: after the last file and its `FF` padding (a file that fills its last
/// block exactly is still followed by a block of padding).
fn end(data: &[u8], files: &[File]) -> usize {
    let last = files.iter().map(|f| f.offset + f.length).max().unwrap_or(BLOCK);
    let padded = (last / BLOCK + 1) * BLOCK;
    match data.get(last..padded.min(data.len())) {
        Some(pad) if pad.iter().all(|&b| b == 0xff) => padded.min(data.len()),
        _ => last,
    }
}

impl Format for Ambarella {
    fn name(&self) -> &'static str {
        "ambarella-romfs"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let files = parse(data)?;
        Some(Probe {
            length: Some(end(data, &files) as u64),
            confidence: 85,
            description: format!("Ambarella ROMFS, {} file(s) (no checksum)", files.len()),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let files = parse(data).ok_or_else(|| FormatError::invalid("bad Ambarella ROMFS header"))?;
        out.describe(format!("Ambarella ROMFS, {} file(s) (no checksum)", files.len()));
        for f in &files {
            let have = data.len().saturating_sub(f.offset).min(f.length);
            let name = [b"/".as_slice(), &f.name].concat();
            if have < f.length {
                out.note(format!(
                    "file `{}` at {:#x} is cut: {have} of {} bytes present",
                    probity_model::text::escape(&f.name),
                    f.offset,
                    f.length
                ));
            }
            if have > 0 || (f.length == 0 && f.offset <= data.len()) {
                out.region(Entry::file(name), f.offset as u64, have as u64);
            }
        }
        Ok(end(data, &files).min(data.len()) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::seama::tests::run;

    fn romfs(files: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut d = vec![0xffu8; BLOCK];
        d[..4].copy_from_slice(&(files.len() as u32).to_le_bytes());
        d[4..8].copy_from_slice(&0x66fc_328au32.to_le_bytes());
        let table = (files.len() * ENTRY_LEN).div_ceil(BLOCK) * BLOCK;
        let mut entries = vec![0xffu8; table];
        let mut body = Vec::new();
        for (i, (name, content)) in files.iter().enumerate() {
            let e = &mut entries[i * ENTRY_LEN..(i + 1) * ENTRY_LEN];
            e[..116].fill(0);
            e[..name.len()].copy_from_slice(name);
            let offset = (BLOCK + table + body.len()) as u32;
            e[116..120].copy_from_slice(&offset.to_le_bytes());
            e[120..124].copy_from_slice(&(content.len() as u32).to_le_bytes());
            e[124..128].copy_from_slice(&ENTRY_MAGIC.to_le_bytes());
            body.extend_from_slice(content);
            body.resize((body.len() / BLOCK + 1) * BLOCK, 0xff);
        }
        d.extend_from_slice(&entries);
        d.extend_from_slice(&body);
        d
    }

    #[test]
    fn files_and_padding() {
        let full = [0x42u8; BLOCK];
        let d = romfs(&[(b"table_h.bin", b"abc"), (b"exact.bin", &full)]);
        // Header, table, one block for the first file, two for the second (exact fit + padding).
        assert_eq!(d.len(), 5 * BLOCK);
        let mut with_tail = d.clone();
        with_tail.extend_from_slice(b"next structure");
        assert_eq!(Ambarella.probe(&with_tail).unwrap().length, Some(d.len() as u64));
        let (used, regions, notes, _, _) = run(&Ambarella, &with_tail);
        assert_eq!(used, d.len() as u64);
        assert!(notes.is_empty());
        assert_eq!(
            regions,
            vec![
                (b"/table_h.bin".to_vec(), 4096, 3),
                (b"/exact.bin".to_vec(), 6144, 2048)
            ]
        );
    }

    #[test]
    fn cut_file_is_a_note() {
        let d = romfs(&[(b"a", b"abcdef")]);
        let (used, regions, notes, _, _) = run(&Ambarella, &d[..4096 + 4]);
        assert_eq!(used, 4100);
        assert_eq!(regions, vec![(b"/a".to_vec(), 4096, 4)]);
        assert_eq!(
            notes,
            vec!["file `a` at 0x1000 is cut: 4 of 6 bytes present".to_string()]
        );
    }

    #[test]
    fn refuses_garbage() {
        let d = romfs(&[(b"a", b"abcdef"), (b"b", b"x")]);
        for n in 0..BLOCK + 2 * ENTRY_LEN {
            assert!(Ambarella.probe(&d[..n]).is_none());
        }
        let mut bad = d.clone();
        bad[BLOCK + ENTRY_LEN + 124] = 0; // second entry's magic
        assert!(Ambarella.probe(&bad).is_none());
        let mut bad = d.clone();
        bad[0..4].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
        assert!(Ambarella.probe(&bad).is_none());
        let mut bad = d;
        bad[BLOCK + 116..BLOCK + 120].copy_from_slice(&16u32.to_le_bytes()); // inside the table
        assert!(Ambarella.probe(&bad).is_none());
    }
}
