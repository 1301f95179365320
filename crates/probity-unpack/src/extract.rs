//! The extractor: where a format puts what it unpacks, and where the budgets are enforced.
//!
//! A format reports members ([`Entry`] plus data) to an [`Extractor`]. Every byte of output is
//! charged against three bounds before it is kept: the bytes this extraction may still produce
//! (its share of `--max-total-size`), the expansion ratio (output may exceed
//! `ratio_floor` only up to `max_ratio` times the input consumed), and the wall-clock deadline.
//! When a bound is reached the extractor refuses further output with [`FormatError::Limit`], so a
//! decompression bomb stops after a few megabytes instead of filling the disk.
//!
//! Member data stays in memory while small and spills to a file in the [`Spool`] directory when
//! large, so memory stays bounded whatever the input.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use probity_model::{ArtifactKind, Sha256, Sha256Hasher};

use crate::format::FormatError;
use crate::limits::Limits;

/// Member data larger than this goes to a spool file instead of memory.
pub const SPILL_THRESHOLD: usize = 4 << 20;

/// In-memory member data across a whole run is capped at this; beyond it everything spills. With
/// the decoders' working memory this keeps the peak resident size under the input's size plus
/// 256 MiB (docs/benchmarks.md).
pub const MEMORY_CAP: u64 = 160 << 20;

/// Where large member data is written while a scan runs.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    counter: AtomicU64,
    in_memory: AtomicU64,
}

impl Spool {
    /// A spool in a fresh temporary directory (removed when the spool is dropped).
    pub fn temporary() -> io::Result<Spool> {
        let temp = tempfile::Builder::new().prefix("probity-spool-").tempdir()?;
        Ok(Spool {
            dir: temp.path().to_path_buf(),
            _temp: Some(temp),
            counter: AtomicU64::new(0),
            in_memory: AtomicU64::new(0),
        })
    }

    /// A spool in `dir` (created if needed; not removed).
    pub fn in_dir(dir: &Path) -> io::Result<Spool> {
        std::fs::create_dir_all(dir)?;
        Ok(Spool {
            dir: dir.to_path_buf(),
            _temp: None,
            counter: AtomicU64::new(0),
            in_memory: AtomicU64::new(0),
        })
    }

    fn new_file(&self) -> io::Result<(PathBuf, File)> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.join(format!("blob-{n:08}"));
        let file = File::options().write(true).create_new(true).open(&path)?;
        Ok((path, file))
    }

    /// Reserves `n` bytes of in-memory budget; `false` when the cap is reached.
    fn reserve_memory(&self, n: u64) -> bool {
        let before = self.in_memory.fetch_add(n, Ordering::Relaxed);
        if before + n > MEMORY_CAP {
            self.in_memory.fetch_sub(n, Ordering::Relaxed);
            false
        } else {
            true
        }
    }
}

/// Which budget bounds a member's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    /// The member's own expansion ratio.
    MemberRatio,
    /// The structure's expansion ratio.
    ContainerRatio,
    /// The total output budget.
    Total,
}

/// A member as a format describes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    /// Its path inside the container (absent for the single payload of a stream).
    pub member: Option<Vec<u8>>,
    /// What it is (the default, `None`, means a regular file).
    pub kind: Option<ArtifactKind>,
    /// `st_mode`-style permission and type bits, as recorded.
    pub mode: Option<u32>,
    /// Owner.
    pub uid: Option<u32>,
    /// Group.
    pub gid: Option<u32>,
    /// Link target (symbolic or hard link).
    pub link_target: Option<Vec<u8>>,
    /// Device numbers.
    pub device: Option<(u32, u32)>,
}

impl Entry {
    /// A regular file member.
    pub fn file(member: impl Into<Vec<u8>>) -> Entry {
        Entry {
            member: Some(member.into()),
            ..Entry::default()
        }
    }

    /// The single payload of a stream.
    pub fn payload() -> Entry {
        Entry::default()
    }

    /// The kind, defaulting to a regular file.
    pub fn kind(&self) -> ArtifactKind {
        self.kind.unwrap_or(ArtifactKind::File)
    }

    /// With permission/ownership metadata.
    pub fn with_owner(mut self, mode: u32, uid: u32, gid: u32) -> Entry {
        self.mode = Some(mode);
        self.uid = Some(uid);
        self.gid = Some(gid);
        self
    }
}

/// The data of a member.
#[derive(Debug, Clone)]
pub enum ChildData {
    /// No content (directories, links, devices).
    None,
    /// Bytes in memory.
    Bytes(Arc<Vec<u8>>),
    /// Bytes in a spool file.
    Spooled(PathBuf),
    /// A range of the structure's own bytes (no copy), relative to the structure's start.
    Region {
        /// Offset from the structure's start.
        offset: u64,
        /// Length.
        length: u64,
    },
}

/// A member with its data, as collected by an extractor.
#[derive(Debug, Clone)]
pub struct Child {
    /// The member's description.
    pub entry: Entry,
    /// Its data.
    pub data: ChildData,
    /// Its size.
    pub size: u64,
    /// The digest of its data, when the extractor computed it (regions are hashed later).
    pub sha256: Option<Sha256>,
    /// Whether the data is incomplete (truncated input or a limit).
    pub truncated: bool,
}

/// Receives the members of one structure and enforces the budgets.
#[derive(Debug)]
pub struct Extractor<'a> {
    limits: &'a Limits,
    spool: &'a Spool,
    allowance: u64,
    produced: u64,
    input_len: u64,
    deadline: Instant,
    want: Option<&'a [u8]>,
    children: Vec<Child>,
    notes: Vec<String>,
    description: String,
    limited: bool,
    verified: bool,
    global: Option<&'a AtomicU64>,
}

impl<'a> Extractor<'a> {
    /// An extractor for a structure of `input_len` bytes that may produce at most `allowance`.
    pub fn new(limits: &'a Limits, spool: &'a Spool, input_len: u64, allowance: u64) -> Extractor<'a> {
        Extractor {
            limits,
            spool,
            allowance,
            produced: 0,
            input_len,
            deadline: Instant::now() + limits.extract_timeout,
            want: None,
            children: Vec::new(),
            notes: Vec::new(),
            description: String::new(),
            limited: false,
            verified: false,
            global: None,
        }
    }

    /// Also charges every byte to `used`, the bytes produced by the whole run, so that parallel
    /// extractions together stay under `--max-total-size`.
    pub fn with_global(mut self, used: &'a AtomicU64) -> Extractor<'a> {
        self.global = Some(used);
        self
    }

    /// Only the member `member` (or the payload, for `b""`) is wanted: formats skip the data of
    /// every other member (used to resolve a locator).
    pub fn only(mut self, member: &'a [u8]) -> Extractor<'a> {
        self.want = Some(member);
        self
    }

    /// Whether the data of `member` is wanted.
    pub fn wants(&self, member: &[u8]) -> bool {
        self.want.is_none_or(|w| w == member)
    }

    /// Says that the structure's own checksum or digest matched: its confidence becomes 100.
    pub fn verified(&mut self) {
        self.verified = true;
    }

    /// Whether [`Extractor::verified`] was called.
    pub fn is_verified(&self) -> bool {
        self.verified
    }

    /// Whether only one member is wanted (locator resolution), not all of them.
    pub fn wants_one(&self) -> bool {
        self.want.is_some()
    }

    /// Whether only one member is wanted and it has been found (formats may stop early).
    pub fn done(&self) -> bool {
        self.want.is_some() && self.children.iter().any(|c| c.data_present())
    }

    /// Fails once the extraction has run past its deadline.
    pub fn check_time(&self) -> Result<(), FormatError> {
        if Instant::now() > self.deadline {
            return Err(FormatError::Limit(format!(
                "extraction took longer than {} s (limit --extract-timeout)",
                self.limits.extract_timeout.as_secs()
            )));
        }
        Ok(())
    }

    /// Records a non-fatal problem (a member that failed, a bad checksum).
    pub fn note(&mut self, msg: impl Into<String>) {
        if self.notes.len() < 1000 {
            self.notes.push(msg.into());
        }
    }

    /// Sets the structure's one-line description.
    pub fn describe(&mut self, text: impl Into<String>) {
        self.description = text.into();
    }

    /// Records a member without data (directory, link, device node).
    pub fn entry(&mut self, entry: Entry) {
        self.children.push(Child {
            entry,
            data: ChildData::None,
            size: 0,
            sha256: None,
            truncated: false,
        });
    }

    /// Records a member whose data is a range of the structure itself (no copy is made).
    pub fn region(&mut self, entry: Entry, offset: u64, length: u64) {
        self.children.push(Child {
            entry,
            data: ChildData::Region { offset, length },
            size: length,
            sha256: None,
            truncated: false,
        });
    }

    /// The most bytes a member that has `written` bytes from `consumed` input bytes may still
    /// take, and which bound decides it. A member may expand to `max_ratio` times its own input;
    /// the whole structure to `max_ratio` times its size (both beyond `ratio_floor`); and the run
    /// stays under the total budget.
    fn room(&self, written: u64, consumed: u64) -> (u64, Bound) {
        let ratio = |input: u64| {
            self.limits
                .ratio_floor
                .max(self.limits.max_ratio.saturating_mul(input))
        };
        let mut best = (ratio(consumed).saturating_sub(written), Bound::MemberRatio);
        for candidate in [
            (
                ratio(self.input_len).saturating_sub(self.produced),
                Bound::ContainerRatio,
            ),
            (self.allowance.saturating_sub(self.produced), Bound::Total),
            (
                self.global.map_or(u64::MAX, |used| {
                    self.limits
                        .max_total_bytes
                        .saturating_sub(used.load(Ordering::Relaxed))
                }),
                Bound::Total,
            ),
        ] {
            if candidate.0 < best.0 {
                best = candidate;
            }
        }
        best
    }

    /// Whether this extraction can produce nothing more (its own ratio or the total budget is
    /// used up), as opposed to one member having reached its own ratio.
    pub fn exhausted(&self) -> bool {
        let (room, bound) = self.room(0, u64::MAX);
        room == 0 && bound != Bound::MemberRatio
    }

    fn limit_message(&self, bound: Bound, written: u64, consumed: u64) -> String {
        match bound {
            Bound::MemberRatio => format!(
                "output reached {written} bytes from {consumed} input bytes, above the expansion ratio of {} (limit --max-ratio)",
                self.limits.max_ratio
            ),
            Bound::ContainerRatio => format!(
                "the structure's output reached {} bytes from its {} bytes, above the expansion ratio of {} (limit --max-ratio)",
                self.produced, self.input_len, self.limits.max_ratio
            ),
            Bound::Total => format!(
                "unpacking reached the total output budget of {} bytes (limit --max-total-size)",
                self.limits.max_total_bytes
            ),
        }
    }

    /// Turns a member's limit into a note when the extraction can go on with other members;
    /// passes every other error (and a limit that stops the whole extraction) through.
    pub fn settle(&mut self, result: Result<(), FormatError>) -> Result<(), FormatError> {
        match result {
            Err(FormatError::Limit(msg)) if !self.exhausted() => {
                self.note(msg);
                Ok(())
            }
            other => other,
        }
    }

    /// Records a member whose bytes are already in memory.
    /// A member that reaches its own expansion ratio is kept truncated, with a note, and the
    /// extraction goes on; an error is returned only when nothing more can be produced.
    pub fn file(&mut self, entry: Entry, bytes: Vec<u8>) -> Result<(), FormatError> {
        let mut sink = self.sink(entry);
        let r = sink.write(self, &bytes, self.input_len);
        sink.finish(self, r.is_err());
        self.settle(r)
    }

    /// Starts a member whose bytes arrive in pieces; see [`Sink`].
    pub fn sink(&mut self, entry: Entry) -> Sink {
        Sink {
            entry,
            buf: Vec::new(),
            file: None,
            hasher: Sha256Hasher::new(),
            len: 0,
        }
    }

    /// Copies a decoder's output into a member, charging the budgets as it goes; `consumed`
    /// reports how many input bytes the decoder has read so far (for the ratio). Errors are
    /// returned as they are (stream formats decide what a limit means for them; see `settle`).
    pub fn stream(
        &mut self,
        entry: Entry,
        reader: &mut dyn Read,
        consumed: &dyn Fn() -> u64,
    ) -> Result<(), FormatError> {
        let mut sink = self.sink(entry);
        let mut buf = vec![0u8; 64 << 10];
        let result = loop {
            if let Err(e) = self.check_time() {
                break Err(e);
            }
            match reader.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    if let Err(e) = sink.write(self, &buf[..n], consumed()) {
                        break Err(e);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    break Err(FormatError::invalid(format!(
                        "corrupt stream after {} bytes of output: {e}",
                        sink.len
                    )));
                }
            }
        };
        sink.finish(self, result.is_err());
        result
    }

    /// Takes the collected members, notes and description.
    pub fn into_parts(self) -> (Vec<Child>, Vec<String>, String, bool) {
        (self.children, self.notes, self.description, self.limited)
    }

    /// Bytes produced so far.
    pub fn produced(&self) -> u64 {
        self.produced
    }

    /// Number of members recorded so far.
    pub fn count(&self) -> usize {
        self.children.len()
    }
}

impl Child {
    fn data_present(&self) -> bool {
        !matches!(self.data, ChildData::None)
    }
}

/// A member being written in pieces. Call [`Sink::write`] with each piece and
/// [`Sink::finish`] at the end (also after an error: what was written is kept, marked truncated).
#[derive(Debug)]
pub struct Sink {
    entry: Entry,
    buf: Vec<u8>,
    file: Option<(PathBuf, io::BufWriter<File>)>,
    hasher: Sha256Hasher,
    len: u64,
}

impl Sink {
    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `piece`, given `consumed` input bytes so far (for the ratio).
    pub fn write(&mut self, x: &mut Extractor<'_>, piece: &[u8], consumed: u64) -> Result<(), FormatError> {
        let (room, bound) = x.room(self.len, consumed);
        let take = piece.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let (kept, over) = piece.split_at(take);
        self.append(x, kept)?;
        if !over.is_empty() {
            x.limited = true;
            return Err(FormatError::Limit(x.limit_message(bound, self.len, consumed)));
        }
        Ok(())
    }

    fn append(&mut self, x: &mut Extractor<'_>, piece: &[u8]) -> Result<(), FormatError> {
        if piece.is_empty() {
            return Ok(());
        }
        self.hasher.update(piece);
        self.len += piece.len() as u64;
        x.produced += piece.len() as u64;
        if let Some(used) = x.global {
            used.fetch_add(piece.len() as u64, Ordering::Relaxed);
        }
        if let Some((_, w)) = &mut self.file {
            return w
                .write_all(piece)
                .map_err(|e| FormatError::Limit(format!("can not write to the spool: {e}")));
        }
        if self.buf.len() + piece.len() > SPILL_THRESHOLD {
            let (path, file) = x
                .spool
                .new_file()
                .map_err(|e| FormatError::Limit(format!("can not create a spool file: {e}")))?;
            let mut w = io::BufWriter::with_capacity(1 << 20, file);
            w.write_all(&self.buf)
                .and_then(|()| w.write_all(piece))
                .map_err(|e| FormatError::Limit(format!("can not write to the spool: {e}")))?;
            self.buf = Vec::new();
            self.file = Some((path, w));
            return Ok(());
        }
        self.buf.extend_from_slice(piece);
        Ok(())
    }

    /// Ends the member and records it.
    pub fn finish(self, x: &mut Extractor<'_>, truncated: bool) {
        // A member that failed before producing anything recovered nothing: it is not recorded
        // (the failure itself is reported by the format).
        if truncated && self.len == 0 {
            if let Some((path, _)) = &self.file {
                let _ = std::fs::remove_file(path);
            }
            return;
        }
        let sha = self.hasher.finish();
        let data = match self.file {
            Some((path, mut w)) => match w.flush() {
                Ok(()) => ChildData::Spooled(path),
                Err(e) => {
                    x.note(format!("can not write to the spool: {e}"));
                    return;
                }
            },
            None if x.spool.reserve_memory(self.buf.len() as u64) => ChildData::Bytes(Arc::new(self.buf)),
            None => match x
                .spool
                .new_file()
                .and_then(|(path, mut f)| f.write_all(&self.buf).map(|()| path))
            {
                Ok(path) => ChildData::Spooled(path),
                Err(e) => {
                    x.note(format!("can not write to the spool: {e}"));
                    return;
                }
            },
        };
        x.children.push(Child {
            entry: self.entry,
            data,
            size: self.len,
            sha256: Some(sha),
            truncated,
        });
    }
}

/// A `Read` over a byte slice that counts what was consumed (shared with the ratio check).
#[derive(Debug)]
pub struct Counting<'d> {
    data: &'d [u8],
    pos: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<'d> Counting<'d> {
    /// Reads `data`; the returned handle reports the bytes consumed.
    pub fn new(data: &'d [u8]) -> (Counting<'d>, std::rc::Rc<std::cell::Cell<u64>>) {
        let pos = std::rc::Rc::new(std::cell::Cell::new(0));
        (
            Counting {
                data,
                pos: pos.clone(),
            },
            pos,
        )
    }

    fn rest(&self) -> &'d [u8] {
        let p = usize::try_from(self.pos.get()).unwrap_or(usize::MAX);
        self.data.get(p..).unwrap_or_default()
    }
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = self.rest();
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos.set(self.pos.get() + n as u64);
        Ok(n)
    }
}

impl io::BufRead for Counting<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        Ok(self.rest())
    }

    fn consume(&mut self, amt: usize) {
        let n = amt.min(self.rest().len());
        self.pos.set(self.pos.get() + n as u64);
    }
}
