//! The Wind River "management file system" (also called OWFS or MemFS): the flat store of web
//! pages and other files that TP-Link's VxWorks routers (WR702N, WR720N, WR543G and others) keep
//! after their kernel. It starts with 32 bytes of `owowow…`, then three big-endian words: the
//! type (1 when every file is an LZMA-alone stream, 2 when the files are stored), the number of
//! files and one word of unknown use. One 48-byte record per file follows: a NUL-padded name of
//! 40 bytes, the stored size and the offset of the data from the start of the magic. binwalk 2's
//! signatures also name an `OWOW…` form with little-endian fields, which is read the same way.
//!
//! A deleted file's record has its name overwritten with the magic, so the magic can also turn
//! up inside a table. The probe therefore requires a valid type, a plausible count, names that
//! are printable text (or such deleted records) and offsets behind the table, so a magic inside
//! a table is refused. The store ends at the end of its last file. Members are `/name`. An LZMA
//! file is decoded (its header gives the size), and one that does not decode is kept as stored,
//! with a note. Deleted records are counted in the description; they name no file. There is no checksum.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes, bytes::Endian};
use crate::formats::programstore::lzma_member;

/// The Wind River management file system.
#[derive(Debug)]
pub struct WindRiverMfs;

const MAGIC_BE: &[u8; 32] = b"owowowowowowowowowowowowowowowow";
const MAGIC_LE: &[u8; 32] = b"OWOWOWOWOWOWOWOWOWOWOWOWOWOWOWOW";
const MAGICS: &[Magic] = &[Magic::start(MAGIC_BE), Magic::start(MAGIC_LE)];

const HEADER_LEN: usize = 44;
const RECORD_LEN: usize = 48;
const NAME_LEN: usize = 40;
/// Far more files than any router holds (a WR720N has 194).
const MAX_FILES: u32 = 10_000;

#[derive(Debug)]
struct Record {
    name: Vec<u8>,
    size: u32,
    offset: u32,
    deleted: bool,
}

struct Store {
    endian: Endian,
    kind: u32,
    records: Vec<Record>,
    end: u64,
}

/// A name field overwritten with the magic pattern (a deleted record).
fn is_deleted(field: &[u8]) -> bool {
    let lower = field
        .iter()
        .take(32)
        .enumerate()
        .all(|(i, &b)| b == [b'o', b'w'][i % 2]);
    let upper = field
        .iter()
        .take(32)
        .enumerate()
        .all(|(i, &b)| b == [b'O', b'W'][i % 2]);
    lower || upper
}

fn parse(data: &[u8]) -> Option<Store> {
    let endian = match bytes::slice(data, 0, 32)? {
        m if m == MAGIC_BE => Endian::Big,
        m if m == MAGIC_LE => Endian::Little,
        _ => return None,
    };
    let kind = endian.u32(data, 32)?;
    let count = endian.u32(data, 36)?;
    if !(1..=2).contains(&kind) || count == 0 || count > MAX_FILES {
        return None;
    }
    let table_end = HEADER_LEN + count as usize * RECORD_LEN;
    let table = bytes::slice(data, HEADER_LEN, table_end - HEADER_LEN)?;
    let mut records = Vec::with_capacity(count as usize);
    let mut end = table_end as u64;
    for rec in table.chunks_exact(RECORD_LEN) {
        let field = rec.get(..NAME_LEN)?;
        let deleted = is_deleted(field);
        let name = bytes::cstr(field).to_vec();
        let size = endian.u32(rec, NAME_LEN)?;
        let offset = endian.u32(rec, NAME_LEN + 4)?;
        if !deleted {
            // A printable name, NUL-padded, and data behind the table.
            let padding = field.get(name.len()..).unwrap_or_default();
            if name.is_empty()
                || !name.iter().all(|&b| (0x20..0x7f).contains(&b))
                || padding.iter().any(|&b| b != 0)
                || (offset as usize) < table_end
            {
                return None;
            }
            end = end.max(u64::from(offset) + u64::from(size));
        }
        records.push(Record {
            name,
            size,
            offset,
            deleted,
        });
    }
    let first = records.iter().find(|r| !r.deleted && r.size > 0)?;
    // Compressed files are LZMA-alone streams: a properties byte below 225 and a dictionary size.
    if kind == 1
        && let Some(head) = bytes::slice(data, first.offset as usize, 5)
        && (head[0] >= 225 || bytes::le32(head, 1)? < 4096)
    {
        return None;
    }
    Some(Store {
        endian,
        kind,
        records,
        end,
    })
}

fn describe(s: &Store) -> String {
    let live = s.records.iter().filter(|r| !r.deleted).count();
    let deleted = s.records.len() - live;
    format!(
        "Wind River management file system ({}), {live} files{}, {}",
        if s.endian == Endian::Big {
            "big-endian"
        } else {
            "little-endian"
        },
        match deleted {
            0 => String::new(),
            1 => " and 1 deleted record".to_string(),
            n => format!(" and {n} deleted records"),
        },
        if s.kind == 1 { "LZMA-compressed" } else { "stored" }
    )
}

impl Format for WindRiverMfs {
    fn name(&self) -> &'static str {
        "wr-mgmt-fs"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let s = parse(data)?;
        Some(Probe {
            length: Some(s.end),
            confidence: 80,
            description: describe(&s),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let s = parse(data).ok_or_else(|| FormatError::invalid("bad management file system header"))?;
        out.describe(describe(&s));
        for r in &s.records {
            out.check_time()?;
            // A deleted record is counted in the description; it names no file.
            if r.deleted {
                continue;
            }
            let mut member = Vec::with_capacity(r.name.len() + 1);
            if !r.name.starts_with(b"/") {
                member.push(b'/');
            }
            member.extend_from_slice(&r.name);
            if !out.wants(&member) {
                continue;
            }
            let shown = probity_model::text::escape(&member);
            let start = (r.offset as usize).min(data.len());
            let stored = data.get(start..).unwrap_or_default();
            if stored.len() < r.size as usize {
                out.note(format!(
                    "{shown} is truncated: {} of {} bytes present",
                    stored.len(),
                    r.size
                ));
            }
            let stored = stored.get(..r.size as usize).unwrap_or(stored);
            if s.kind == 2 || stored.is_empty() {
                out.region(Entry::file(member), start as u64, stored.len() as u64);
                continue;
            }
            let (Some(&props), Some(dict), Some(size)) =
                (stored.first(), bytes::le32(stored, 1), bytes::le64(stored, 5))
            else {
                out.note(format!("{shown} is too short for an LZMA header; kept as stored"));
                out.region(Entry::file(member), start as u64, stored.len() as u64);
                continue;
            };
            // A size the stored bytes could not possibly hold is not trusted.
            let size =
                (size != u64::MAX && size <= (stored.len() as u64).saturating_mul(8000)).then_some(size);
            let before = out.count();
            match lzma_member(
                stored.get(13..).unwrap_or_default(),
                props,
                dict,
                size,
                out,
                Entry::file(member.clone()),
            ) {
                Ok(_) => {}
                Err(e @ FormatError::Limit(_)) => out.settle(Err(e))?,
                Err(e) if out.count() > before => out.note(format!("{shown} is cut short: {e}")),
                Err(e) => {
                    out.note(format!("{shown} did not decode as LZMA ({e}); kept as stored"));
                    out.region(Entry::file(member), start as u64, stored.len() as u64);
                }
            }
        }
        Ok(s.end.min(data.len() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::{MAGIC_BE, MAGIC_LE, WindRiverMfs};
    use crate::format::Format;

    fn unhex(s: &str) -> Vec<u8> {
        probity_model::hex::decode(s).unwrap()
    }

    /// `b"<html>hi</html>\n" + b"body{}\n" * 4` in Python's LZMA-alone (lc3 lp0 pb2, 64 KiB
    /// dictionary, size 44 recorded in the header).
    const LZMA: &str =
        "5d000001002c00000000000000001e1a0a86ef4ad79fd59a9f61881dda2cbbb0fdfe1c58b2271c8bfffe0c7000";

    fn plain() -> Vec<u8> {
        [b"<html>hi</html>\n".as_slice(), &b"body{}\n".repeat(4)].concat()
    }

    /// A store with the given (name field, data) records, type `kind`, in either byte order.
    fn store(kind: u32, files: &[(&[u8], &[u8])], big: bool) -> Vec<u8> {
        let w = |v: u32| if big { v.to_be_bytes() } else { v.to_le_bytes() };
        let mut d = if big { MAGIC_BE.to_vec() } else { MAGIC_LE.to_vec() };
        d.extend_from_slice(&w(kind));
        d.extend_from_slice(&w(files.len() as u32));
        d.extend_from_slice(&w(0));
        let mut off = 44 + 48 * files.len();
        let mut blobs = Vec::new();
        for (name, data) in files {
            let mut field = name.to_vec();
            field.resize(40, 0);
            d.extend_from_slice(&field);
            d.extend_from_slice(&w(data.len() as u32));
            d.extend_from_slice(&w(off as u32));
            off += data.len();
            blobs.extend_from_slice(data);
        }
        d.extend_from_slice(&blobs);
        d
    }

    type Members = Vec<(Vec<u8>, Vec<u8>)>;

    fn run(data: &[u8]) -> (u64, Members, Vec<String>, String) {
        let (used, members, notes, description, _) =
            crate::formats::seama::tests::run_members(&WindRiverMfs, data);
        (used, members, notes, description)
    }

    #[test]
    fn lzma_files_are_decoded_and_a_deleted_record_is_reported() {
        let deleted = [b'o', b'w'].repeat(20);
        let img = store(
            1,
            &[(b"index.htm", &unhex(LZMA)), (&deleted, b""), (b"empty.txt", b"")],
            true,
        );
        let p = WindRiverMfs.probe(&img).unwrap();
        assert_eq!(p.length, Some(img.len() as u64));
        let mut padded = img.clone();
        padded.extend_from_slice(&[0xff; 64]);
        let (used, members, notes, description) = run(&padded);
        assert_eq!(used, img.len() as u64);
        assert_eq!(
            members,
            vec![
                (b"/index.htm".to_vec(), plain()),
                (b"/empty.txt".to_vec(), Vec::new())
            ]
        );
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(
            description,
            "Wind River management file system (big-endian), 2 files and 1 deleted record, LZMA-compressed"
        );
        // The magic inside the table (the deleted record's name) is not a store.
        let at = 44 + 48;
        for k in 0..=8 {
            assert!(WindRiverMfs.probe(&img[at + k..]).is_none(), "at +{k}");
        }
    }

    #[test]
    fn stored_files_little_endian() {
        let img = store(2, &[(b"a.txt", b"hello"), (b"dir/b.bin", b"\x00\x01\x02")], false);
        let (used, members, notes, _) = run(&img);
        assert_eq!(used, img.len() as u64);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(
            members,
            vec![
                (b"/a.txt".to_vec(), b"hello".to_vec()),
                (b"/dir/b.bin".to_vec(), b"\x00\x01\x02".to_vec())
            ]
        );
    }

    #[test]
    fn undecodable_and_truncated_files_are_kept_with_notes() {
        let mut bad = unhex(LZMA);
        bad[20..40].fill(0xff);
        let img = store(1, &[(b"x.htm", &bad), (b"y.htm", &unhex(LZMA))], true);
        let cut = &img[..img.len() - 10];
        let (_, members, notes, _) = run(cut);
        // What decoded of each is kept (marked truncated), with the reason.
        assert_eq!(members.len(), 2, "{notes:?}");
        assert!(plain().starts_with(&members[1].1));
        assert_eq!(
            notes,
            vec![
                "/x.htm is cut short: corrupt LZMA data after 19 bytes of output: dist overflow".to_string(),
                "/y.htm is truncated: 35 of 45 bytes present".to_string(),
                "/y.htm is cut short: the LZMA data ends early, after 20 bytes of output".to_string()
            ]
        );
    }

    #[test]
    fn garbage_is_refused() {
        let img = store(1, &[(b"index.htm", &unhex(LZMA))], true);
        for n in 0..44 + 48 {
            assert!(WindRiverMfs.probe(&img[..n]).is_none(), "cut at {n}");
        }
        // Type 3, no files, a non-printable name, data inside the table.
        for (at, v) in [(35usize, 3u8), (39, 0), (44, 1), (91, 10)] {
            let mut d = img.clone();
            d[at] = v;
            assert!(WindRiverMfs.probe(&d).is_none(), "byte {at}");
        }
        // Text that happens to contain the magic.
        let mut text = MAGIC_BE.to_vec();
        text.extend_from_slice(b"owowowow and so on, with no table at all behind it........................");
        assert!(WindRiverMfs.probe(&text).is_none());
    }
}
