//! TP-Link MINIFS: the read-only file system of TP-Link's TPOS firmware (range extenders such as
//! the RE450 v4; not VxWorks despite the company it keeps). All fields are big-endian. A 32-byte
//! header (`MINIFS`, ten NUL bytes, the word 3, the file count, the length of the first chunk and
//! the length of the name table) is followed by the name table (NUL-terminated directory and file
//! names), one 20-byte record per file (directory name offset, file name offset, chunk number,
//! offset in the decompressed chunk, length), one 12-byte record per chunk (data offset from the
//! end of that table, compressed size, decompressed size) and the chunks, each an LZMA-alone
//! stream holding the concatenated contents of one or more files.
//!
//! The probe checks the header, that every name offset lies in the name table, that the chunk
//! numbers are dense enough to be real and that the chunk table and the first chunk's LZMA
//! header are there. Extraction decodes one chunk at a time (bounded by the size the chunk table
//! gives) and cuts the files out of it. The members are the paths `directory/name`. There is no
//! checksum. A chunk whose decoded size differs from the table's, or a file that reaches past its
//! chunk, is reported.

use lzma_rust2::{Action, LzmaStream, Status};

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The MINIFS format.
#[derive(Debug)]
pub struct Minifs;

const MAGICS: &[Magic] = &[Magic::start(b"MINIFS\0\0\0\0\0\0\0\0\0\0\0\0\0\x03")];

const HEADER_LEN: usize = 32;
const FILE_LEN: usize = 20;
const CHUNK_LEN: usize = 12;
/// More files than this is not a real image (unblob uses the same bound).
const MAX_FILES: u32 = 0x1_0000;
/// Nor are names longer than this, on average.
const MAX_NAME: u32 = 1024;

#[derive(Debug, Clone, Copy)]
struct File {
    dir: u32,
    name: u32,
    chunk: u32,
    offset: u32,
    length: u32,
}

#[derive(Debug, Clone, Copy)]
struct Chunk {
    offset: u32,
    compressed: u32,
    decompressed: u32,
}

struct Image<'d> {
    names: &'d [u8],
    files: Vec<File>,
    chunks: Vec<Chunk>,
    first_chunk_len: u32,
    /// Where the chunk data starts.
    data_at: usize,
    /// Where the last chunk ends.
    end: u64,
}

fn parse(data: &[u8]) -> Option<Image<'_>> {
    if bytes::be32(data, 16)? != 3 {
        return None;
    }
    let count = bytes::be32(data, 20)?;
    let first_chunk_len = bytes::be32(data, 24)?;
    let names_len = bytes::be32(data, 28)?;
    if count == 0
        || count > MAX_FILES
        || first_chunk_len == 0
        || names_len == 0
        || names_len > count * MAX_NAME
    {
        return None;
    }
    let names = bytes::slice(data, HEADER_LEN, names_len as usize)?;
    // The table ends with the terminator of its last name.
    if names.last() != Some(&0) {
        return None;
    }
    let files_at = HEADER_LEN + names_len as usize;
    let table = bytes::slice(data, files_at, count as usize * FILE_LEN)?;
    let mut files = Vec::with_capacity(count as usize);
    let mut max_chunk = 0u32;
    for rec in table.chunks_exact(FILE_LEN) {
        let f = File {
            dir: bytes::be32(rec, 0)?,
            name: bytes::be32(rec, 4)?,
            chunk: bytes::be32(rec, 8)?,
            offset: bytes::be32(rec, 12)?,
            length: bytes::be32(rec, 16)?,
        };
        // Offsets into the name table; at most one chunk per file.
        if f.dir >= names_len || f.name >= names_len || f.chunk >= count {
            return None;
        }
        max_chunk = max_chunk.max(f.chunk);
        files.push(f);
    }
    let chunks_at = files_at + table.len();
    let chunk_count = max_chunk as usize + 1;
    let chunk_table = bytes::slice(data, chunks_at, chunk_count * CHUNK_LEN)?;
    let chunks: Vec<Chunk> = chunk_table
        .chunks_exact(CHUNK_LEN)
        .map(|rec| {
            Some(Chunk {
                offset: bytes::be32(rec, 0)?,
                compressed: bytes::be32(rec, 4)?,
                decompressed: bytes::be32(rec, 8)?,
            })
        })
        .collect::<Option<_>>()?;
    let data_at = chunks_at + chunk_table.len();
    // The first chunk must start with an LZMA-alone header (a valid properties byte).
    let first = chunks.first()?;
    if first.compressed < 13 || *data.get(data_at + first.offset as usize)? >= 225 {
        return None;
    }
    let end = chunks
        .iter()
        .map(|c| u64::from(c.offset) + u64::from(c.compressed))
        .max()
        .unwrap_or(0)
        + data_at as u64;
    Some(Image {
        names,
        files,
        chunks,
        first_chunk_len,
        data_at,
        end,
    })
}

/// `directory/name`, starting with `/`.
fn path(names: &[u8], f: &File) -> Vec<u8> {
    let at = |o: u32| bytes::cstr(names.get(o as usize..).unwrap_or_default());
    let (dir, name) = (at(f.dir), at(f.name));
    let mut p = Vec::with_capacity(dir.len() + name.len() + 2);
    if !dir.starts_with(b"/") {
        p.push(b'/');
    }
    p.extend_from_slice(dir);
    if !p.ends_with(b"/") {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

/// Decodes one LZMA-alone chunk into at most `max` bytes (the chunk table's decompressed size).
fn decode_chunk(raw: &[u8], max: usize, out: &Extractor<'_>) -> Result<Vec<u8>, FormatError> {
    let (Some(&props), Some(dict), Some(size)) = (raw.first(), bytes::le32(raw, 1), bytes::le64(raw, 5))
    else {
        return Err(FormatError::invalid("too short for an LZMA header"));
    };
    let size = (size != u64::MAX && size <= max as u64).then_some(size);
    let mut dec = LzmaStream::new_with_props(size.unwrap_or(u64::MAX), props, dict.max(4096), None)
        .map_err(|e| FormatError::invalid(format!("bad LZMA properties: {e}")))?;
    let stream = raw.get(13..).unwrap_or_default();
    let mut v = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    let mut pos = 0usize;
    loop {
        out.check_time()?;
        let input = stream.get(pos..).unwrap_or_default();
        let action = if input.is_empty() {
            Action::Finish
        } else {
            Action::Run
        };
        let room = max.saturating_sub(v.len()).min(buf.len());
        if room == 0 {
            return Ok(v);
        }
        match dec.process(input, &mut buf[..room], action) {
            Ok(r) => {
                pos = pos.saturating_add(r.bytes_consumed);
                v.extend_from_slice(buf.get(..r.bytes_produced).unwrap_or_default());
                if r.status == Status::StreamEnd || (r.bytes_consumed == 0 && r.bytes_produced == 0) {
                    return Ok(v);
                }
            }
            Err(_) if input.is_empty() && !v.is_empty() => return Ok(v),
            Err(e) if v.is_empty() => return Err(FormatError::invalid(format!("corrupt LZMA data: {e}"))),
            // Keep what decoded; the caller compares the size with the table's.
            Err(_) => return Ok(v),
        }
    }
}

impl Format for Minifs {
    fn name(&self) -> &'static str {
        "minifs"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let img = parse(data)?;
        Some(Probe {
            length: Some(img.end),
            confidence: 85,
            description: describe(&img),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let img = parse(data).ok_or_else(|| FormatError::invalid("bad MINIFS header"))?;
        out.describe(describe(&img));
        if img
            .chunks
            .first()
            .is_some_and(|c| c.compressed != img.first_chunk_len)
        {
            out.note(format!(
                "the header gives the first chunk {} bytes, its table entry {}",
                img.first_chunk_len,
                img.chunks.first().map_or(0, |c| c.compressed)
            ));
        }
        // The files of each chunk (the parser made sure every chunk number has an entry).
        let mut by_chunk: Vec<Vec<File>> = vec![Vec::new(); img.chunks.len()];
        for f in &img.files {
            if let Some(list) = by_chunk.get_mut(f.chunk as usize) {
                list.push(*f);
            }
        }
        for ((id, chunk), files) in img.chunks.iter().enumerate().zip(by_chunk) {
            out.check_time()?;
            let members: Vec<(Vec<u8>, File)> = files
                .into_iter()
                .map(|f| (path(img.names, &f), f))
                .filter(|(p, _)| out.wants(p))
                .collect();
            if members.is_empty() {
                continue;
            }
            let at = img.data_at.saturating_add(chunk.offset as usize);
            let Some(raw) = data.get(at..) else {
                out.note(format!("chunk {id} starts past the end of the data"));
                continue;
            };
            if raw.len() < chunk.compressed as usize {
                out.note(format!(
                    "chunk {id} is truncated: {} of {} bytes present",
                    raw.len(),
                    chunk.compressed
                ));
            }
            let raw = raw.get(..chunk.compressed as usize).unwrap_or(raw);
            // Never more than the table says, nor more than LZMA could plausibly make of the
            // chunk's bytes (the engine's own ratio limit, 250 to 1 beyond 64 MiB).
            let max = (chunk.decompressed as usize).min((raw.len().saturating_mul(250)).max(64 << 20));
            let plain = match decode_chunk(raw, max, out) {
                Ok(v) => v,
                Err(e @ FormatError::Limit(_)) => return Err(e),
                Err(e) => {
                    out.note(format!("chunk {id} did not decode: {e}"));
                    continue;
                }
            };
            if plain.len() != chunk.decompressed as usize {
                out.note(format!(
                    "chunk {id} decodes to {} bytes, its table entry says {}",
                    plain.len(),
                    chunk.decompressed
                ));
            }
            for (p, f) in members {
                let start = (f.offset as usize).min(plain.len());
                let end = start.saturating_add(f.length as usize).min(plain.len());
                if end - start < f.length as usize {
                    out.note(format!(
                        "{} reaches past the end of chunk {id}: {} of {} bytes",
                        probity_model::text::escape(&p),
                        end - start,
                        f.length
                    ));
                }
                let r = out.file(Entry::file(p), plain.get(start..end).unwrap_or_default().to_vec());
                out.settle(r)?;
            }
        }
        Ok(img.end.min(data.len() as u64))
    }
}

fn describe(img: &Image<'_>) -> String {
    let total: u64 = img.chunks.iter().map(|c| u64::from(c.decompressed)).sum();
    format!(
        "TP-Link MINIFS, {} files in {} LZMA chunk{} ({total} bytes decompressed)",
        img.files.len(),
        img.chunks.len(),
        if img.chunks.len() == 1 { "" } else { "s" }
    )
}

#[cfg(test)]
mod tests {
    use super::{HEADER_LEN, Minifs};
    use crate::extract::{ChildData, Extractor, Spool};
    use crate::format::Format;

    fn unhex(s: &str) -> Vec<u8> {
        probity_model::hex::decode(s).unwrap()
    }

    /// `b"<html>hi</html>\n" + b"body{}\n" * 4` in Python's LZMA-alone (lc3 lp0 pb2, 64 KiB
    /// dictionary, size 44 recorded in the header).
    const CHUNK: &str =
        "5d000001002c00000000000000001e1a0a86ef4ad79fd59a9f61881dda2cbbb0fdfe1c58b2271c8bfffe0c7000";

    fn contents() -> (Vec<u8>, Vec<u8>) {
        (b"<html>hi</html>\n".to_vec(), b"body{}\n".repeat(4))
    }

    fn image() -> Vec<u8> {
        let chunk = unhex(CHUNK);
        let names = b"/web\0index.htm\0main.css\0";
        let (a, b) = contents();
        let mut d = b"MINIFS".to_vec();
        d.extend_from_slice(&[0; 10]);
        for v in [3u32, 2, chunk.len() as u32, names.len() as u32] {
            d.extend_from_slice(&v.to_be_bytes());
        }
        d.extend_from_slice(names);
        for rec in [
            [0u32, 5, 0, 0, a.len() as u32],
            [0, 15, 0, a.len() as u32, b.len() as u32],
        ] {
            for v in rec {
                d.extend_from_slice(&v.to_be_bytes());
            }
        }
        for v in [0u32, chunk.len() as u32, (a.len() + b.len()) as u32] {
            d.extend_from_slice(&v.to_be_bytes());
        }
        d.extend_from_slice(&chunk);
        d
    }

    type Members = Vec<(Vec<u8>, Vec<u8>)>;

    fn run(data: &[u8]) -> (u64, Members, Vec<String>) {
        let limits = crate::limits::Limits::default();
        let spool = Spool::temporary().unwrap();
        let mut x = Extractor::new(&limits, &spool, data.len() as u64, 1 << 30);
        let used = Minifs.extract(data, &mut x).unwrap();
        let (children, notes, _, _) = x.into_parts();
        let members = children
            .into_iter()
            .map(|c| match c.data {
                ChildData::Bytes(b) => (c.entry.member.unwrap(), b.to_vec()),
                _ => panic!("not in memory"),
            })
            .collect();
        (used, members, notes)
    }

    #[test]
    fn files_are_cut_from_their_chunk() {
        let img = image();
        let p = Minifs.probe(&img).unwrap();
        assert_eq!(p.length, Some(img.len() as u64));
        assert_eq!(
            p.description,
            "TP-Link MINIFS, 2 files in 1 LZMA chunk (44 bytes decompressed)"
        );
        // Trailing data is not part of the file system.
        let mut padded = img.clone();
        padded.extend_from_slice(&[0xff; 100]);
        let (used, members, notes) = run(&padded);
        assert_eq!(used, img.len() as u64);
        assert!(notes.is_empty(), "{notes:?}");
        let (a, b) = contents();
        assert_eq!(
            members,
            vec![(b"/web/index.htm".to_vec(), a), (b"/web/main.css".to_vec(), b)]
        );
    }

    #[test]
    fn size_mismatches_and_overlong_files_are_reported() {
        let mut img = image();
        let chunk_table = img.len() - unhex(CHUNK).len() - 12;
        // The table claims 50 decompressed bytes; the second file claims 30 bytes (28 exist).
        img[chunk_table + 8..chunk_table + 12].copy_from_slice(&50u32.to_be_bytes());
        let second = chunk_table - 20;
        img[second + 16..second + 20].copy_from_slice(&30u32.to_be_bytes());
        let (_, members, notes) = run(&img);
        assert_eq!(members.len(), 2);
        assert_eq!(members[1].1.len(), 28);
        assert_eq!(
            notes,
            vec![
                "chunk 0 decodes to 44 bytes, its table entry says 50".to_string(),
                "/web/main.css reaches past the end of chunk 0: 28 of 30 bytes".to_string()
            ]
        );
    }

    #[test]
    fn a_corrupt_chunk_is_a_note() {
        let mut img = image();
        let n = img.len();
        img[n - 30..n - 10].fill(0x55);
        let (_, _, notes) = run(&img);
        assert!(!notes.is_empty());
    }

    #[test]
    fn garbage_and_truncations_are_refused() {
        let img = image();
        for n in 0..img.len() - unhex(CHUNK).len() {
            assert!(Minifs.probe(&img[..n]).is_none(), "cut at {n}");
        }
        // Version other than 3, no files, a name offset outside the table, a chunk number beyond
        // the file count.
        for (at, v) in [
            (19usize, 4u8),
            (23, 0),
            (HEADER_LEN + 24 + 7, 99),
            (HEADER_LEN + 24 + 11, 9),
        ] {
            let mut d = img.clone();
            d[at] = v;
            assert!(Minifs.probe(&d).is_none(), "byte {at}");
        }
        let mut d = b"MINIFS\0\0\0\0\0\0\0\0\0\0\0\0\0\x03".to_vec();
        d.extend_from_slice(&[0xff; 200]);
        assert!(Minifs.probe(&d).is_none());
    }
}
