//! VxWorks kernel images (Wind River's RTOS, in routers, printers, PLCs and cable modems),
//! recognised by their version strings, with the standalone symbol table recovered.
//!
//! **What the structure is.** A flat VxWorks image has no header, and the engine shows a
//! format only the bytes from its structure's start on. So the structure is the *version
//! banner*, the strings that `target/config/all/version.c` compiles in: `VxWorks`, the runtime
//! version, `VxWorks5.5.1` (5.x, no space) or `VxWorks 6.9` (6.x and later), the build date, and
//! `WIND version 2.x` and the Wind River copyright when they directly follow. They are read as
//! NUL-separated tokens that may be padded, so the layout of any compiler is accepted. The
//! structure's length is the banner's, so the signature scan still finds what the kernel embeds
//! after it (compressed web pages, file systems, certificates). A `WIND version` string or a
//! `Copyright 1984-… Wind River Systems` notice without a version banner is recognised as such
//! and analysed no further. That keeps one analysis per image.
//!
//! **What is analysed.** From the banner to the end of the data:
//! - The standalone symbol table (`standTbl` made by `makeSymTbl`, linked after `version.o`,
//!   so it and its names follow the banner). Its records are 16 bytes in 5.x (hash node, name,
//!   value, group, type at +14) and 20 bytes in 6.x (a `symRef` word before the group, type at
//!   +18), in either byte order. The type, group and padding bytes sit at the same place in both
//!   byte orders.
//! - The boot line (`dev(unit,proc)host:file h=… e=… u=… pw=…`), which can leak host addresses
//!   and credentials.
//!
//! Every record position is tested once for each layout, and the runs of valid records are
//! counted in the same pass. A valid record has a name pointer, a zero group and padding, and a
//! type byte of a defined symbol (absolute, code, data, bss or common, local or global, maybe
//! with the small-data or Thumb flag). The longest runs of at least 50 records are then checked.
//! The name pointers must have the byte order that keeps their high half nearly constant. After
//! one shift, at least nine in ten names must land on the starts of NUL-separated printable
//! strings. Candidate shifts come from trying each string start in the data against the gaps
//! between the first dozen sorted name pointers, and a wrong start fails almost at once. The
//! shift that places the most names wins. This matters when the names all have one length,
//! because then a shift by a whole name also fits, but it loses the names at the table's edges.
//! The shift gives the address of the banner. The image base is the address of `sysInit` (the
//! entry point and the first code of a RAM image), otherwise the lowest code symbol. All of this
//! is linear in the size of the data and runs only in `extract`. The probe reads only the
//! banner.
//!
//! The result is the member `/symbols.txt`: one line per symbol, `address type name`, sorted by
//! address, with `nm`-style type letters (`T` global code, `t` local code, `D`/`d` data, `B`/`b`
//! bss, `A`/`a` absolute, `C`/`c` common). A name that could not be located is written as
//! `<name at 0x…>`. The description gives the version, the byte order, the symbol count and
//! layout, the image base and the boot line. There is no checksum.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes::Endian};

/// The VxWorks image format.
#[derive(Debug)]
pub struct VxWorks;

const MAGICS: &[Magic] = &[
    Magic::start(b"VxWorks\0"),
    Magic::start(b"VxWorks5."),
    Magic::start(b"VxWorks 6."),
    Magic::start(b"VxWorks 7"),
    Magic::start(b"WIND version "),
    Magic::start(b"Copyright 1984-"),
    Magic::start(b"Copyright (c) 1984-"),
    Magic::start(b"Copyright (C) 1984-"),
];

/// Fewer records than this in a row are not taken for a symbol table.
const MIN_RECORDS: usize = 50;
/// How many of the longest runs of valid records are checked.
const RUNS_CHECKED: usize = 8;
/// More records than this are not read (the largest real tables hold tens of thousands).
const MAX_RECORDS: usize = 500_000;
/// Longest banner token read.
const MAX_TOKEN: usize = 96;

// ------------------------------------------------------------------------------------------------
// The banner

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// `VxWorks`.
    Name,
    /// `5.5.1`, `6.9 SMP`.
    Version,
    /// `VxWorks5.5.1`, `VxWorks 6.9`.
    Full,
    /// `Jun 18 2013, 12:19:11`.
    Date,
    /// `WIND version 2.6`.
    Wind,
    /// `Copyright 1984-2002 Wind River Systems, Inc.`
    Copyright,
}

#[derive(Debug, Default)]
struct Banner {
    /// Bytes from the first token to the NUL after the last.
    len: usize,
    version: Option<String>,
    date: Option<String>,
    wind: Option<String>,
}

fn is_version(s: &[u8]) -> bool {
    // Digits and dots, then optional words (`SMP`, `64-bit`, `SR0540`).
    let mut words = s.split(|&b| b == b' ');
    let Some(first) = words.next() else {
        return false;
    };
    s.len() <= 32
        && first.first().is_some_and(u8::is_ascii_digit)
        && first.last().is_some_and(u8::is_ascii_digit)
        && first.iter().all(|&b| b.is_ascii_digit() || b == b'.')
        && !first.windows(2).any(|w| w == b"..")
        && words.all(|w| !w.is_empty() && w.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-'))
}

fn is_date(s: &[u8]) -> bool {
    // `Mmm dd yyyy, hh:mm:ss` (__DATE__ ", " __TIME__), or without the comma.
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
    ];
    let s = match (s.get(11), s.len()) {
        (Some(b','), 21) => [&s[..11], &s[12..]].concat(),
        (_, 20) => s.to_vec(),
        _ => return false,
    };
    let digit = |i: usize| s.get(i).is_some_and(u8::is_ascii_digit);
    MONTHS.contains(&&s[..3])
        && s[3] == b' '
        && (s[4] == b' ' || digit(4))
        && digit(5)
        && s[6] == b' '
        && (7..11).all(digit)
        && s[11] == b' '
        && s[14] == b':'
        && s[17] == b':'
        && [12, 13, 15, 16, 18, 19].into_iter().all(digit)
}

fn classify(s: &[u8]) -> Option<Token> {
    if s == b"VxWorks" {
        return Some(Token::Name);
    }
    if let Some(rest) = s.strip_prefix(b"VxWorks") {
        let rest = rest.strip_prefix(b" ").unwrap_or(rest);
        return is_version(rest).then_some(Token::Full);
    }
    if let Some(rest) = s.strip_prefix(b"WIND version ") {
        return is_version(rest).then_some(Token::Wind);
    }
    if s.starts_with(b"Copyright") && memchr::memmem::find(s, b"Wind River Systems").is_some() {
        return Some(Token::Copyright);
    }
    if is_version(s) {
        return Some(Token::Version);
    }
    is_date(s).then_some(Token::Date)
}

/// The NUL-terminated printable token at `at`, if any.
fn token(data: &[u8], at: usize) -> Option<&[u8]> {
    let window = data.get(at..data.len().min(at.saturating_add(MAX_TOKEN + 1)))?;
    let end = memchr::memchr(0, window)?;
    let t = &window[..end];
    (!t.is_empty() && t.iter().all(|&b| (0x20..0x7f).contains(&b))).then_some(t)
}

/// Reads the banner starting at `data[0]`; `None` unless it starts with a banner token and
/// says something (a lone `VxWorks` must be followed by a version).
fn banner(data: &[u8]) -> Option<Banner> {
    let mut b = Banner::default();
    let mut at = 0usize;
    let mut kinds = Vec::new();
    let mut runtime = None;
    while kinds.len() < 8 {
        let Some(t) = token(data, at) else { break };
        let Some(kind) = classify(t) else { break };
        let text = String::from_utf8_lossy(t).into_owned();
        match kind {
            Token::Name | Token::Copyright => {}
            Token::Version => runtime = runtime.or(Some(text)),
            Token::Full => {
                let v = t.get(7..).unwrap_or_default();
                let v = v.strip_prefix(b" ").unwrap_or(v);
                b.version = b
                    .version
                    .take()
                    .or_else(|| Some(String::from_utf8_lossy(v).into_owned()));
            }
            Token::Date => b.date = b.date.take().or(Some(text)),
            Token::Wind => b.wind = b.wind.take().or_else(|| text.get(13..).map(str::to_string)),
        }
        kinds.push(kind);
        at += t.len() + 1;
        b.len = at;
        // Alignment padding between the strings.
        let pad = data
            .get(at..)
            .unwrap_or_default()
            .iter()
            .take(8)
            .take_while(|&&c| c == 0)
            .count();
        at += pad;
    }
    match kinds.first()? {
        // A lone `VxWorks` (a host name, a prompt) says nothing: a version must follow it.
        Token::Name if !matches!(kinds.get(1), Some(Token::Version | Token::Full)) => return None,
        // A banner starts with a name, the version string, the kernel version or the notice.
        Token::Version | Token::Date => return None,
        _ => {}
    }
    if b.version.is_none() && kinds.contains(&Token::Name) {
        b.version = runtime;
    }
    Some(b)
}

impl Banner {
    fn title(&self) -> String {
        let mut s = match &self.version {
            Some(v) => format!("VxWorks {v}"),
            None if self.wind.is_some() => "VxWorks kernel".to_string(),
            None => "Wind River copyright notice (VxWorks)".to_string(),
        };
        if let Some(w) = &self.wind {
            s.push_str(&format!(" (WIND version {w})"));
        }
        if let Some(d) = &self.date {
            s.push_str(&format!(", built {d}"));
        }
        s
    }
}

// ------------------------------------------------------------------------------------------------
// The symbol table

/// The two record layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// VxWorks 5.x: 16-byte records, type byte at +14.
    V5,
    /// VxWorks 6.x: 20-byte records (with `symRef`), type byte at +18.
    V6,
}

impl Layout {
    fn stride(self) -> usize {
        match self {
            Layout::V5 => 16,
            Layout::V6 => 20,
        }
    }

    /// Whether `t` is a type byte of a defined symbol (undefined ones are never in the table).
    fn type_ok(self, t: u8) -> bool {
        let kind = t & 0x3e;
        let kinds: &[u8] = match self {
            // a.out style: abs 2, text 4, data 6, bss 8, common 0x12 (0x10: external ref).
            Layout::V5 => &[2, 4, 6, 8, 0x10, 0x12],
            // SYM_ABS 2, SYM_TEXT 4, SYM_DATA 8, SYM_BSS 0x10, SYM_COMM 0x20.
            Layout::V6 => &[2, 4, 8, 0x10, 0x20],
        };
        // The small-data and Thumb flags (0x40, 0x80) only add to a kind: alone they would take
        // the high byte of a MIPS kseg0 pointer (0x80…) for a type.
        kinds.contains(&kind)
    }

    /// `nm`-style letter: upper case for globals.
    fn letter(self, t: u8) -> char {
        let c = match (self, t & 0x3e) {
            (_, 2) => 'a',
            (_, 4) => 't',
            (Layout::V5, 6) | (Layout::V6, 8) => 'd',
            (Layout::V5, 8) | (Layout::V6, 0x10) => 'b',
            (Layout::V5, 0x12) | (Layout::V6, 0x20) => 'c',
            (Layout::V5, 0x10) => 'u',
            _ => '?',
        };
        if t & 1 != 0 { c.to_ascii_uppercase() } else { c }
    }

    fn is_text(self, t: u8) -> bool {
        t & 0x3e == 4
    }
}

/// Whether a valid record starts at `o`: name pointer set; group, type and padding as the
/// layout has them. The hash node and (6.x) `symRef` may hold anything.
fn record_ok(d: &[u8], o: usize, layout: Layout) -> bool {
    let s = layout.stride();
    let Some(r) = d.get(o..o + s) else { return false };
    let tail = &r[s - 4..];
    tail[3] == 0 && tail[0] == 0 && tail[1] == 0 && layout.type_ok(tail[2]) && r[4..8] != [0; 4]
}

/// A run of valid records.
#[derive(Debug, Clone, Copy)]
struct Run {
    at: usize,
    count: usize,
    layout: Layout,
}

/// The longest runs of at least [`MIN_RECORDS`] valid records, for both layouts: every position
/// is tested once per layout (each residue class of the stride is walked in turn).
fn runs(d: &[u8], out: &Extractor<'_>) -> Result<Vec<Run>, FormatError> {
    let mut best: Vec<Run> = Vec::new();
    let mut keep = |r: Run| {
        if r.count >= MIN_RECORDS {
            best.push(r);
            best.sort_by(|a, b| b.count.cmp(&a.count).then(a.at.cmp(&b.at)));
            best.truncate(RUNS_CHECKED);
        }
    };
    let mut steps = 0usize;
    for layout in [Layout::V5, Layout::V6] {
        let s = layout.stride();
        for phase in 0..s {
            let (mut start, mut count) = (phase, 0usize);
            let mut o = phase;
            while o + s <= d.len() {
                steps += 1;
                if steps.is_multiple_of(1 << 20) {
                    out.check_time()?;
                }
                if record_ok(d, o, layout) {
                    if count == 0 {
                        start = o;
                    }
                    count += 1;
                } else if count > 0 {
                    keep(Run {
                        at: start,
                        count,
                        layout,
                    });
                    count = 0;
                }
                o += s;
            }
            if count > 0 {
                keep(Run {
                    at: start,
                    count,
                    layout,
                });
            }
        }
    }
    Ok(best)
}

/// One record of the table.
#[derive(Debug)]
struct Symbol {
    value: u32,
    kind: u8,
    /// The name, when its pointer lands on one.
    name: Option<Vec<u8>>,
    pointer: u32,
}

/// A recovered symbol table.
#[derive(Debug)]
struct Table {
    at: usize,
    layout: Layout,
    endian: Endian,
    /// Address of `data[0]` (the banner).
    origin: u64,
    symbols: Vec<Symbol>,
    /// The word after the table equals the count (`standTblSize`).
    size_word: bool,
    /// The run of records went on past [`MAX_RECORDS`].
    capped: bool,
}

fn is_name_byte(b: u8) -> bool {
    (0x21..0x7f).contains(&b)
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || matches!(b, b'_' | b'$' | b'.' | b'@' | b'?')
}

/// The printable NUL-terminated string at `q` that starts a string (a NUL or the start of the
/// data before it).
fn name_at(d: &[u8], q: usize) -> Option<&[u8]> {
    if q > 0 && *d.get(q - 1)? != 0 {
        return None;
    }
    let window = d.get(q..d.len().min(q + 256))?;
    let end = memchr::memchr(0, window)?;
    let n = &window[..end];
    (!n.is_empty() && n.iter().all(|&b| is_name_byte(b))).then_some(n)
}

/// Finds where the name pointers land. `anchor` (sorted, distinct) gives the candidates: offsets
/// `s` of `anchor[0]` such that the first dozen anchors all fall on string starts. Each candidate
/// is scored by how many of `all` (sorted, distinct) then resolve to names, and the best one that
/// resolves nine in ten is returned (the earliest on a tie; a table whose names all have the same
/// length also lines up when shifted by a whole name, but then loses the names at its edges).
fn align(d: &[u8], anchor: &[u64], all: &[u64], out: &Extractor<'_>) -> Result<Option<usize>, FormatError> {
    let (Some(&p0), Some(&last)) = (anchor.first(), anchor.last()) else {
        return Ok(None);
    };
    let span = usize::try_from(last - p0).unwrap_or(usize::MAX);
    if span >= d.len() {
        return Ok(None);
    }
    let deltas: Vec<usize> = anchor
        .iter()
        .take(12)
        .skip(1)
        .map(|&p| (p - p0) as usize)
        .collect();
    let first_gap = deltas.first().copied().unwrap_or(usize::MAX);
    let score = |here: usize| {
        all.iter()
            .filter(|&&p| {
                let q = (here as u64).checked_add(p).and_then(|x| x.checked_sub(p0));
                q.and_then(|q| usize::try_from(q).ok())
                    .is_some_and(|q| name_at(d, q).is_some())
            })
            .count()
    };
    let mut best: Option<(usize, usize)> = None;
    let mut checked = 0;
    let mut s = 0usize;
    while s + span < d.len() {
        let here = s;
        // The next candidate: just after the next NUL.
        s = match memchr::memchr(0, d.get(here..).unwrap_or_default()) {
            Some(i) => here + i + 1,
            None => d.len(),
        };
        if !is_name_start(d[here]) || (here > 0 && d[here - 1] != 0) {
            continue;
        }
        // The first name must end before the second begins.
        if name_at(d, here).is_none_or(|n| n.len() >= first_gap)
            || !deltas.iter().all(|&k| name_at(d, here + k).is_some())
        {
            continue;
        }
        out.check_time()?;
        let n = score(here);
        if n * 10 >= all.len() * 9 && best.is_none_or(|(_, b)| n > b) {
            best = Some((here, n));
            if n == all.len() {
                break;
            }
        }
        checked += 1;
        if checked >= 64 {
            break;
        }
    }
    Ok(best.map(|(here, _)| here))
}

/// Checks a run: its byte order, where its names are, and which records really belong to it.
fn resolve(d: &[u8], run: Run, out: &Extractor<'_>) -> Result<Option<Table>, FormatError> {
    let capped = run.count > MAX_RECORDS;
    let run = Run {
        count: run.count.min(MAX_RECORDS),
        ..run
    };
    let s = run.layout.stride();
    let word = |e: Endian, i: usize, f: usize| e.u32(d, run.at + i * s + f).unwrap_or(0);
    // The byte order keeps the high half of the name pointers nearly constant.
    let distinct = |e: Endian| {
        let mut v: Vec<u32> = (0..run.count.min(64)).map(|i| word(e, i, 4) >> 16).collect();
        v.sort_unstable();
        v.dedup();
        v.len()
    };
    let orders = if distinct(Endian::Big) <= distinct(Endian::Little) {
        [Endian::Big, Endian::Little]
    } else {
        [Endian::Little, Endian::Big]
    };
    for endian in orders {
        // The pointers of the inner records (the edges of a run may be neighbours that happen
        // to look like records).
        let inner = if run.count > 8 {
            2..run.count - 2
        } else {
            0..run.count
        };
        let mut ps: Vec<u64> = inner.map(|i| u64::from(word(endian, i, 4))).collect();
        ps.sort_unstable();
        ps.dedup();
        let mut all: Vec<u64> = (0..run.count).map(|i| u64::from(word(endian, i, 4))).collect();
        all.sort_unstable();
        all.dedup();
        let Some(at) = align(d, &ps, &all, out)? else {
            continue;
        };
        let Some(origin) = ps.first().and_then(|p| p.checked_sub(at as u64)) else {
            continue;
        };
        let name = |p: u32| {
            u64::from(p)
                .checked_sub(origin)
                .and_then(|q| usize::try_from(q).ok())
                .and_then(|q| name_at(d, q))
        };
        let mut symbols: Vec<Symbol> = (0..run.count)
            .map(|i| {
                let pointer = word(endian, i, 4);
                Symbol {
                    value: word(endian, i, 8),
                    kind: d.get(run.at + i * s + s - 2).copied().unwrap_or(0),
                    name: name(pointer).map(<[u8]>::to_vec),
                    pointer,
                }
            })
            .collect();
        // Trim edge records whose names do not resolve.
        let first = symbols.iter().position(|x| x.name.is_some()).unwrap_or(0);
        let last = symbols
            .iter()
            .rposition(|x| x.name.is_some())
            .map_or(0, |i| i + 1);
        if last <= first {
            continue;
        }
        symbols.truncate(last);
        symbols.drain(..first);
        let resolved = symbols.iter().filter(|x| x.name.is_some()).count();
        if symbols.len() < MIN_RECORDS || resolved * 10 < symbols.len() * 9 {
            continue;
        }
        let at = run.at + first * s;
        let size_word = endian.u32(d, at + symbols.len() * s) == u32::try_from(symbols.len()).ok();
        return Ok(Some(Table {
            at,
            layout: run.layout,
            endian,
            origin,
            symbols,
            size_word,
            capped,
        }));
    }
    Ok(None)
}

fn find_table(d: &[u8], out: &Extractor<'_>) -> Result<Option<Table>, FormatError> {
    for run in runs(d, out)? {
        if let Some(t) = resolve(d, run, out)? {
            return Ok(Some(t));
        }
    }
    Ok(None)
}

impl Table {
    /// The image base: `sysInit` (the entry point, at the start of a RAM image), or the lowest
    /// code symbol; and which it was.
    fn base(&self) -> Option<(u32, &'static str)> {
        let code = self.symbols.iter().filter(|x| self.layout.is_text(x.kind));
        if let Some(x) = code.clone().find(|x| x.name.as_deref() == Some(b"sysInit")) {
            return Some((x.value, "sysInit"));
        }
        code.map(|x| x.value).min().map(|v| (v, "lowest code symbol"))
    }

    fn listing(&self) -> Vec<u8> {
        let mut rows: Vec<(u32, char, Vec<u8>)> = self
            .symbols
            .iter()
            .map(|x| {
                let name = x
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("<name at {:#010x}>", x.pointer).into_bytes());
                (x.value, self.layout.letter(x.kind), name)
            })
            .collect();
        rows.sort();
        let mut text = Vec::with_capacity(rows.len() * 24);
        for (value, letter, name) in rows {
            text.extend_from_slice(format!("{value:08x} {letter} ").as_bytes());
            text.extend_from_slice(&name);
            text.push(b'\n');
        }
        text
    }
}

// ------------------------------------------------------------------------------------------------
// The boot line

/// The first boot line in the data: `dev(unit,proc)host:file` then ` key=value` fields, up to
/// the NUL that ends it.
fn boot_line(d: &[u8], out: &Extractor<'_>) -> Result<Option<Vec<u8>>, FormatError> {
    for (n, p) in memchr::memchr_iter(b'(', d).enumerate() {
        if n.is_multiple_of(1 << 16) {
            out.check_time()?;
        }
        // The device name: the letters and digits before the parenthesis, from the first lower
        // case letter (the string may follow other data without a NUL in between).
        let run = d[..p]
            .iter()
            .rev()
            .take(24)
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let Some(skip) = d[p - run..p].iter().position(u8::is_ascii_lowercase) else {
            continue;
        };
        let (start, name_len) = (p - run + skip, run - skip);
        if name_len == 0 || name_len > 16 {
            continue;
        }
        let Some(text) = token(d, start).or_else(|| {
            // Boot lines may be longer than a banner token.
            let w = d.get(start..d.len().min(start + 256))?;
            let end = memchr::memchr(0, w)?;
            let t = &w[..end];
            t.iter().all(|&b| (0x20..0x7f).contains(&b)).then_some(t)
        }) else {
            continue;
        };
        if looks_like_boot_line(&text[name_len..]) {
            return Ok(Some(text.to_vec()));
        }
    }
    Ok(None)
}

/// `(unit,proc)host:file key=value…` after the device name.
fn looks_like_boot_line(s: &[u8]) -> bool {
    let digits = |s: &[u8]| s.iter().take_while(|b| b.is_ascii_digit()).count();
    let Some(s) = s.strip_prefix(b"(") else {
        return false;
    };
    let a = digits(s);
    let Some(s) = s.get(a..).and_then(|s| s.strip_prefix(b",")) else {
        return false;
    };
    let b = digits(s);
    let Some(s) = s.get(b..).and_then(|s| s.strip_prefix(b")")) else {
        return false;
    };
    if a == 0 || b == 0 {
        return false;
    }
    let mut fields = s.split(|&c| c == b' ');
    let Some(target) = fields.next() else { return false };
    let Some(colon) = target.iter().position(|&c| c == b':') else {
        return false;
    };
    if colon == 0 || colon + 1 >= target.len() {
        return false;
    }
    let mut keys = 0;
    for f in fields.filter(|f| !f.is_empty()) {
        let k = f.iter().take_while(|b| b.is_ascii_lowercase()).count();
        if !(1..=2).contains(&k) || f.get(k) != Some(&b'=') {
            return false;
        }
        keys += 1;
    }
    keys > 0
}

// ------------------------------------------------------------------------------------------------

impl Format for VxWorks {
    fn name(&self) -> &'static str {
        "vxworks"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let b = banner(data)?;
        let confidence = match (&b.version, &b.date, &b.wind) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => 80,
            (Some(_), None, None) => 65,
            (None, _, Some(_)) => 60,
            _ => 50,
        };
        Some(Probe {
            length: Some(b.len as u64),
            confidence,
            description: b.title(),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let b = banner(data).ok_or_else(|| FormatError::invalid("not a VxWorks version banner"))?;
        let mut text = b.title();
        if b.version.is_none() {
            // The kernel version or the notice alone: recognised, not analysed (the version
            // banner, when the image has one, does that).
            out.describe(text);
            return Ok(b.len as u64);
        }
        if b.wind.is_none()
            && let Some(at) = memchr::memmem::find(data, b"WIND version ")
            && let Some(t) = token(data, at)
            && classify(t) == Some(Token::Wind)
        {
            text.push_str(&format!(" ({})", String::from_utf8_lossy(t)));
        }
        let table = find_table(data, out)?;
        match &table {
            Some(t) => {
                text.push_str(&format!(
                    "; {}, {} symbols ({} {}-byte records at +{:#x}{})",
                    if t.endian == Endian::Big {
                        "big-endian"
                    } else {
                        "little-endian"
                    },
                    t.symbols.len(),
                    if t.layout == Layout::V5 {
                        "VxWorks 5"
                    } else {
                        "VxWorks 6"
                    },
                    t.layout.stride(),
                    t.at,
                    if t.size_word { ", standTblSize matches" } else { "" }
                ));
                if let Some((base, how)) = t.base() {
                    text.push_str(&format!("; image base {base:#010x} ({how})"));
                    if let Some(off) = t.origin.checked_sub(u64::from(base)) {
                        text.push_str(&format!(", this banner at image offset {off:#x}"));
                    }
                }
            }
            None => text.push_str("; no symbol table after the banner"),
        }
        if let Some(line) = boot_line(data, out)? {
            text.push_str(&format!("; boot line `{}`", probity_model::text::escape(&line)));
        }
        out.describe(text);
        if table.as_ref().is_some_and(|t| t.capped) {
            out.note(format!(
                "the symbol table goes on past {MAX_RECORDS} records; only those were read"
            ));
        }
        if let Some(t) = table {
            let r = out.file(Entry::file(b"/symbols.txt".to_vec()), t.listing());
            out.settle(r)?;
        }
        Ok(b.len as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::{Layout, VxWorks, banner, looks_like_boot_line};
    use crate::extract::{ChildData, Extractor, Spool};
    use crate::format::Format;

    const BOOT: &[u8] =
        b"motetsec(0,0)host:vxWorks.st h=192.168.1.2 e=192.168.1.1:ffffff00 u=target pw=vxTarget tn=probity";

    struct Image {
        data: Vec<u8>,
        banner_at: usize,
        table_at: usize,
    }

    /// A flat image at `base`: code (sysInit first), the version banner, the names, a boot line,
    /// a symbol table of `n` records sorted by name (all code but the last, a data symbol), and
    /// its size word. Names are 4-aligned for big-endian images, packed for little-endian ones.
    fn image(layout: Layout, big: bool, n: usize, base: u32) -> Image {
        let w = |v: u32| if big { v.to_be_bytes() } else { v.to_le_bytes() };
        let mut d = vec![0x11u8; 0x200];
        d[..4].copy_from_slice(&[0x40, 0x80, 0x90, 0x00]);
        let banner_at = d.len();
        let v6 = layout == Layout::V6;
        if v6 {
            d.extend_from_slice(b"VxWorks\0VxWorks 6.8\0Jun 18 2013, 12:19:11\0WIND version 2.11\0");
        } else {
            d.extend_from_slice(b"VxWorks\0" as &[u8]);
            d.extend_from_slice(
                b"5.5.1\0\0\0VxWorks5.5.1\0\0\0\0Jun 18 2013, 12:19:11\0\0\0WIND version 2.6\0\0\0\0",
            );
        }
        d.extend_from_slice(b"Copyright 1984-2002 Wind River Systems, Inc.\0");
        // Names, sorted: fn0000.. then sysInit, then a data symbol vxTicks.
        let mut names: Vec<String> = (0..n - 2).map(|i| format!("fn{i:04}")).collect();
        names.push("sysInit".into());
        names.push("vxTicks".into());
        let mut ptrs = Vec::new();
        for name in &names {
            if big {
                while !d.len().is_multiple_of(4) {
                    d.push(0);
                }
            }
            ptrs.push(base + d.len() as u32);
            d.extend_from_slice(name.as_bytes());
            d.push(0);
        }
        // The boot line array follows other data directly (no NUL before it).
        d.extend_from_slice(&[0, 0x80, 0x01, 0x2c, b'A']);
        d.extend_from_slice(BOOT);
        d.push(0);
        while !d.len().is_multiple_of(4) {
            d.push(0);
        }
        let table_at = d.len();
        for (i, name) in names.iter().enumerate() {
            let (value, ty) = match name.as_str() {
                "sysInit" => (base, 5),
                "vxTicks" => (base + 0x1000, if v6 { 9 } else { 7 }),
                _ => (base + 0x10 + 4 * i as u32, 5),
            };
            // A hash node and symRef that are not zero must not matter.
            d.extend_from_slice(&w(if i == 3 { base + 0x40 } else { 0 }));
            d.extend_from_slice(&w(ptrs[i]));
            d.extend_from_slice(&w(value));
            if v6 {
                d.extend_from_slice(&w(if i == 5 { 0x1234 } else { 0 }));
            }
            d.extend_from_slice(&[0, 0, ty, 0]);
        }
        d.extend_from_slice(&w(n as u32));
        d.extend_from_slice(&[0x22; 64]);
        Image {
            data: d,
            banner_at,
            table_at,
        }
    }

    type Members = Vec<(Vec<u8>, Vec<u8>)>;

    fn run(data: &[u8]) -> (u64, Members, Vec<String>, String) {
        let limits = crate::limits::Limits::default();
        let spool = Spool::temporary().unwrap();
        let mut x = Extractor::new(&limits, &spool, data.len() as u64, 1 << 30);
        let used = VxWorks.extract(data, &mut x).unwrap();
        let (children, notes, description, _) = x.into_parts();
        let members = children
            .into_iter()
            .map(|c| match c.data {
                ChildData::Bytes(b) => (c.entry.member.unwrap(), b.to_vec()),
                _ => panic!("not in memory"),
            })
            .collect();
        (used, members, notes, description)
    }

    #[test]
    fn vxworks5_big_endian() {
        let img = image(Layout::V5, true, 120, 0x8001_0000);
        let d = &img.data[img.banner_at..];
        let p = VxWorks.probe(d).unwrap();
        assert_eq!(
            p.description,
            "VxWorks 5.5.1 (WIND version 2.6), built Jun 18 2013, 12:19:11"
        );
        // The banner: up to the NUL after the copyright.
        let banner_len = 8 + 8 + 16 + 24 + 20 + 45;
        assert_eq!(p.length, Some(banner_len));
        let (used, members, notes, description) = run(d);
        assert_eq!(used, banner_len);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(
            description,
            format!(
                "VxWorks 5.5.1 (WIND version 2.6), built Jun 18 2013, 12:19:11; big-endian, 120 symbols \
                 (VxWorks 5 16-byte records at +{:#x}, standTblSize matches); image base 0x80010000 \
                 (sysInit), this banner at image offset 0x200; boot line `{}`",
                img.table_at - img.banner_at,
                String::from_utf8_lossy(BOOT)
            )
        );
        assert_eq!(members.len(), 1);
        assert_eq!(members[0].0, b"/symbols.txt");
        let listing = String::from_utf8(members[0].1.clone()).unwrap();
        let lines: Vec<&str> = listing.lines().collect();
        assert_eq!(lines.len(), 120);
        assert_eq!(lines[0], "80010000 T sysInit");
        assert_eq!(lines[1], "80010010 T fn0000");
        assert_eq!(lines[2], "80010014 T fn0001");
        assert_eq!(lines[119], "80011000 D vxTicks");
    }

    #[test]
    fn vxworks6_little_endian_packed_strings() {
        let img = image(Layout::V6, false, 80, 0x0001_0000);
        let d = &img.data[img.banner_at..];
        assert_eq!(
            VxWorks.probe(d).unwrap().description,
            "VxWorks 6.8 (WIND version 2.11), built Jun 18 2013, 12:19:11"
        );
        let (_, members, _, description) = run(d);
        assert!(
            description.contains(&format!(
                "little-endian, 80 symbols (VxWorks 6 20-byte records at +{:#x}, standTblSize matches); \
                 image base 0x00010000 (sysInit), this banner at image offset 0x200",
                img.table_at - img.banner_at
            )),
            "{description}"
        );
        let listing = String::from_utf8(members[0].1.clone()).unwrap();
        assert!(
            listing.starts_with("00010000 T sysInit\n00010010 T fn0000\n"),
            "{listing}"
        );
        assert!(listing.ends_with("00011000 D vxTicks\n"), "{listing}");
    }

    #[test]
    fn each_layout_finds_nothing_in_the_other() {
        // A 6.x table read as 5.x records (and back) is no table: the banner alone remains.
        for (layout, big) in [
            (Layout::V5, true),
            (Layout::V6, false),
            (Layout::V6, true),
            (Layout::V5, false),
        ] {
            let img = image(layout, big, 100, 0x8000_0000);
            let other = if layout == Layout::V5 {
                Layout::V6
            } else {
                Layout::V5
            };
            let d = &img.data[img.banner_at..];
            let limits = crate::limits::Limits::default();
            let spool = Spool::temporary().unwrap();
            let x = Extractor::new(&limits, &spool, 1, 1 << 20);
            let runs = super::runs(d, &x).unwrap();
            assert!(
                runs.iter().all(|r| r.layout != other),
                "{layout:?} {big}: {runs:?}"
            );
            assert_eq!(runs.len(), 1, "{layout:?} {big}: {runs:?}");
        }
    }

    #[test]
    fn a_short_table_is_no_table() {
        let img = image(Layout::V5, true, 40, 0x8001_0000);
        let (_, members, _, description) = run(&img.data[img.banner_at..]);
        assert!(members.is_empty());
        assert!(
            description.contains("no symbol table after the banner"),
            "{description}"
        );
        assert!(
            description.contains("boot line `motetsec(0,0)host:"),
            "{description}"
        );
    }

    #[test]
    fn kernel_version_and_notice_alone_are_only_recognised() {
        for (text, title) in [
            (
                &b"WIND version 2.6\0\0\0\0xyz"[..],
                "VxWorks kernel (WIND version 2.6)",
            ),
            (
                b"Copyright 1984-2002 Wind River Systems, Inc.\0abc",
                "Wind River copyright notice (VxWorks)",
            ),
        ] {
            let p = VxWorks.probe(text).unwrap();
            assert_eq!(p.description, title);
            let (used, members, _, description) = run(text);
            assert_eq!(used, p.length.unwrap());
            assert!(members.is_empty());
            assert_eq!(description, title);
        }
    }

    #[test]
    fn banners_in_other_orders() {
        // Literals emitted in reverse order, and a 6.9 SMP string alone.
        let rev = b"VxWorks5.4.2\0\0\0\x005.4.2\0\0\0VxWorks\0Mar  3 2001, 10:00:01\0\xff";
        let b = banner(rev).unwrap();
        assert_eq!(b.version.as_deref(), Some("5.4.2"));
        assert_eq!(b.date.as_deref(), Some("Mar  3 2001, 10:00:01"));
        assert_eq!(b.len, rev.len() - 1);
        let smp = banner(b"VxWorks 6.9 SMP 64-bit\0").unwrap();
        assert_eq!(smp.version.as_deref(), Some("6.9 SMP 64-bit"));
        let seven = banner(b"VxWorks 7 SR0540\0").unwrap();
        assert_eq!(seven.version.as_deref(), Some("7 SR0540"));
    }

    #[test]
    fn weak_or_broken_banners_are_refused() {
        for bad in [
            &b"VxWorks\0"[..],
            b"VxWorks\0hostname\0",
            b"VxWorks\0VxWorks\0",
            b"VxWorks5.\0",
            b"VxWorks5.5.1",
            b"VxWorks 6.9 is great\n\0",
            b"VxWorks 6..9\0",
            b"WIND version \0",
            b"WIND version 2.6 beta!\0",
            b"Copyright 1984-2002 Someone Else\0",
            b"",
        ] {
            assert!(VxWorks.probe(bad).is_none(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn boot_line_shapes() {
        assert!(looks_like_boot_line(&BOOT[8..]));
        assert!(looks_like_boot_line(b"(0,0)host:/vxWorks f=0x08"));
        assert!(!looks_like_boot_line(b"(0,0)host:/vxWorks"));
        assert!(!looks_like_boot_line(b"(a,0)host:/vxWorks h=1"));
        assert!(!looks_like_boot_line(b"(0,0)/vxWorks h=1"));
        assert!(!looks_like_boot_line(b"(0,0)host:file hello=1"));
    }

    #[test]
    fn garbage_never_panics() {
        let img = image(Layout::V5, true, 120, 0x8001_0000);
        let mut x = 0x9e37_79b9u32;
        let mut noise: Vec<u8> = (0..20_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        noise[..img.data.len() - img.banner_at].copy_from_slice(&img.data[img.banner_at..]);
        // Every cut of a real image, and a banner followed by noise.
        for cut in (0..img.data.len() - img.banner_at).step_by(37) {
            let d = &img.data[img.banner_at..img.banner_at + cut];
            if VxWorks.probe(d).is_some() {
                run(d);
            }
        }
        for start in 0..200 {
            let d = &noise[start..];
            if VxWorks.probe(d).is_some() {
                run(d);
            }
        }
    }
}
