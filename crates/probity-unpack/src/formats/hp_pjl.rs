//! HP printer firmware upgrades sent as PJL (Printer Job Language) jobs (`.rfu`, `.bdl` files):
//! text commands such as `@PJL COMMENT MODEL=…` separated by Universal Exit Language sequences
//! (`ESC %-12345X`), where each `@PJL UPGRADE SIZE=<n>` command is followed by `n` bytes of
//! binary firmware data.
//!
//! Two styles are known. In the older one the data follows the command's line directly and
//! starts with a 100-byte header (`?? ?? A8 01`, a 64-byte space-padded product name, an 8-byte
//! version, a 4-byte value of unknown meaning, zeros); the member is the data after that header,
//! named after the product. In the newer one a UEL sequence sits between the command and the data;
//! the member is the whole data, named after the command's offset. Newer files also end with an
//! "HP Signed File Fingerprint" text block (key, hash, base64 signature), kept as a member; the
//! signature is not verified (HP's public key is not at hand). The PJL commands themselves are
//! listed in the member `/commands.txt` (bare `@PJL` lines, which do nothing, are left out).
//!
//! The format is recognised only at the start of a file that starts with a UEL sequence (as PJL
//! jobs must) and has at least one `UPGRADE SIZE=` command.

use std::fmt::Write as _;

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe};

/// HP PJL firmware upgrade jobs.
#[derive(Debug)]
pub struct HpPjl;

const MAGICS: &[Magic] = &[Magic::start(b"\x1b%-12345X")];

const UEL: &[u8] = b"%-12345X";
const FP_BEGIN: &[u8] = b"--=</Begin HP Signed File Fingerprint\\>=--";
const FP_END: &[u8] = b"--=</End HP Signed File Fingerprint\\>=--";
/// Size of the header that starts an old-style upgrade's data.
const OLD_HEADER: usize = 100;
/// Most commands kept (the count goes on).
const MAX_COMMANDS: usize = 100_000;

/// One `@PJL UPGRADE` and its data.
struct Upgrade {
    /// Offset of the command.
    command: usize,
    /// The size the command announces.
    size: u64,
    /// Where the data starts.
    start: usize,
    /// Whether a UEL sequence separates the command from the data (newer style).
    uel: bool,
    /// The old-style header: product name and version.
    header: Option<(String, String)>,
}

impl Upgrade {
    /// The member: name, offset, length (within `len` bytes of data).
    fn member(&self, len: usize) -> (String, usize, usize) {
        let end = (self.start as u64).saturating_add(self.size).min(len as u64) as usize;
        match &self.header {
            Some((name, _)) if !name.is_empty() && self.size >= OLD_HEADER as u64 => {
                let from = (self.start + OLD_HEADER).min(end);
                let joined = name.split_whitespace().collect::<Vec<_>>().join("_");
                (format!("/{joined}.bin"), from, end - from)
            }
            _ => (format!("/{}.bin", self.command), self.start, end - self.start),
        }
    }
}

struct Job<'a> {
    /// The commands: offset and text (without the line end).
    commands: Vec<(usize, &'a [u8])>,
    count: usize,
    upgrades: Vec<Upgrade>,
    fingerprint: Option<(usize, usize)>,
    /// A fingerprint block without its end line.
    fingerprint_open: Option<usize>,
}

fn printable(c: u8) -> bool {
    (0x20..0x7f).contains(&c) || c == b'\t'
}

/// `SIZE=<n>` in an `UPGRADE` command (keywords are case-insensitive; spaces may surround `=`).
fn upgrade_size(text: &[u8]) -> Option<u64> {
    let rest = text.strip_prefix(b"@PJL")?.trim_ascii_start();
    let kw = rest.get(..7)?;
    if !kw.eq_ignore_ascii_case(b"UPGRADE") {
        return None;
    }
    let rest = rest.get(7..)?.trim_ascii_start();
    if !rest.get(..4)?.eq_ignore_ascii_case(b"SIZE") {
        return None;
    }
    let rest = rest
        .get(4..)?
        .trim_ascii_start()
        .strip_prefix(b"=")?
        .trim_ascii_start();
    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || digits > 15 {
        return None;
    }
    std::str::from_utf8(rest.get(..digits)?).ok()?.parse().ok()
}

/// The old-style header at the start of an upgrade's data: product name and version.
fn old_header(data: &[u8]) -> Option<(String, String)> {
    let h = data.get(..OLD_HEADER)?;
    if h.get(2..4)? != [0xa8, 0x01] {
        return None;
    }
    let name = h.get(4..68)?;
    let version = h.get(68..76)?;
    if !name.iter().chain(version).all(|&c| printable(c)) {
        return None;
    }
    let text = |b: &[u8]| String::from_utf8_lossy(b.trim_ascii()).into_owned();
    Some((text(name), text(version)))
}

/// A UEL sequence (with or without its ESC) at `data[0]`, and an optional line end after it:
/// how many bytes it takes.
fn uel_len(data: &[u8]) -> Option<usize> {
    let esc = usize::from(data.first() == Some(&0x1b));
    if !data.get(esc..)?.starts_with(UEL) {
        return None;
    }
    let mut n = esc + UEL.len();
    if data.get(n..n + 2) == Some(b"\r\n") {
        n += 2;
    } else if data.get(n) == Some(&b'\n') {
        n += 1;
    }
    Some(n)
}

fn parse(data: &[u8]) -> Option<Job<'_>> {
    if !data.starts_with(b"\x1b%-12345X") {
        return None;
    }
    let mut job = Job {
        commands: Vec::new(),
        count: 0,
        upgrades: Vec::new(),
        fingerprint: None,
        fingerprint_open: None,
    };
    let mut p = 0usize;
    while p < data.len() {
        let rest = data.get(p..)?;
        if rest.first() == Some(&0x1b) && rest.get(1..).is_some_and(|r| r.starts_with(UEL)) {
            p += 1 + UEL.len();
        } else if rest.starts_with(UEL) {
            p += UEL.len();
        } else if rest.starts_with(b"@PJL") {
            let text_len = rest.iter().take_while(|&&c| printable(c)).count();
            let text = rest.get(..text_len)?;
            let mut next = p + text_len;
            if data.get(next) == Some(&b'\r') {
                next += 1;
            }
            if data.get(next) == Some(&b'\n') {
                next += 1;
            }
            if text.trim_ascii_end() != b"@PJL" {
                job.count += 1;
                if job.commands.len() < MAX_COMMANDS {
                    job.commands.push((p, text));
                }
            }
            if let Some(size) = upgrade_size(text) {
                let (start, uel) = match data.get(next..).and_then(uel_len) {
                    Some(n) => (next + n, true),
                    None => (next, false),
                };
                let header = if uel {
                    None
                } else {
                    data.get(start..).and_then(old_header)
                };
                job.upgrades.push(Upgrade {
                    command: p,
                    size,
                    start,
                    uel,
                    header,
                });
                next = (start as u64).saturating_add(size).min(data.len() as u64) as usize;
            }
            p = next.max(p + 1);
        } else if rest.starts_with(FP_BEGIN) {
            match memchr::memmem::find(rest, FP_END) {
                Some(e) => {
                    let end = p + e + FP_END.len();
                    job.fingerprint.get_or_insert((p, end));
                    p = end;
                }
                None => {
                    job.fingerprint_open = Some(p);
                    p = data.len();
                }
            }
        } else {
            // Line ends, padding or unexplained bytes: on to the next thing that can start a
            // command, a UEL sequence or the fingerprint.
            p = match memchr::memchr3(b'@', b'%', b'-', rest.get(1..)?) {
                Some(i) => p + 1 + i,
                None => data.len(),
            };
        }
    }
    (!job.upgrades.is_empty()).then_some(job)
}

/// The value of `@PJL COMMENT <key>=<value>` among the commands.
fn comment<'a>(job: &Job<'a>, key: &str) -> Option<&'a [u8]> {
    job.commands.iter().find_map(|&(_, text)| {
        let rest = text.strip_prefix(b"@PJL")?.trim_ascii_start();
        let rest = rest.strip_prefix(b"COMMENT")?.trim_ascii_start();
        let rest = rest.strip_prefix(key.as_bytes())?.trim_ascii_start();
        Some(rest.strip_prefix(b"=")?.trim_ascii())
    })
}

impl Format for HpPjl {
    fn name(&self) -> &'static str {
        "hp-pjl"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn anchored(&self) -> bool {
        true
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let job = parse(data)?;
        Some(Probe {
            length: Some(data.len() as u64),
            confidence: 80,
            description: format!(
                "HP PJL firmware upgrade job, {} PJL commands, {} upgrades",
                job.count,
                job.upgrades.len()
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let job = parse(data).ok_or_else(|| FormatError::invalid("not a PJL upgrade job"))?;
        let mut parts = vec![format!("{} PJL commands", job.count)];
        for key in ["MODEL", "VERSION", "DATECODE"] {
            if let Some(v) = comment(&job, key) {
                parts.push(format!("{key}={}", String::from_utf8_lossy(v)));
            }
        }
        let mut upgrades = Vec::new();
        let mut names = std::collections::HashSet::new();
        for u in &job.upgrades {
            out.check_time()?;
            let (mut name, from, len) = u.member(data.len());
            // Two upgrades for the same product: the later ones get their offset in the name.
            if !names.insert(name.clone()) {
                name = format!("{}-{}.bin", name.trim_end_matches(".bin"), u.command);
                names.insert(name.clone());
            }
            let available = data.len().saturating_sub(u.start) as u64;
            if available < u.size {
                out.note(format!(
                    "the upgrade at {:#x} announces {} bytes, only {available} are present",
                    u.command, u.size
                ));
            }
            upgrades.push(match (&u.header, u.uel) {
                (Some((product, version)), _) => {
                    format!("\"{product}\" version {version} ({len} bytes after a {OLD_HEADER}-byte header)")
                }
                (None, true) => format!("{len} bytes after a UEL at {:#x}", u.start),
                (None, false) => format!("{len} bytes at {:#x}", u.start),
            });
            out.region(Entry::file(name.into_bytes()), from as u64, len as u64);
        }
        parts.push(format!("upgrades: {}", upgrades.join("; ")));
        let mut listing = String::new();
        for &(_, text) in &job.commands {
            let _ = writeln!(listing, "{}", String::from_utf8_lossy(text));
        }
        out.file(Entry::file(b"/commands.txt".to_vec()), listing.into_bytes())?;
        if let Some((from, to)) = job.fingerprint {
            let block = data.get(from..to).unwrap_or_default();
            let field = |key: &[u8]| {
                block.split(|&c| c == b'\n').find_map(|line| {
                    let v = line.strip_prefix(key)?;
                    Some(String::from_utf8_lossy(v.trim_ascii()).into_owned())
                })
            };
            parts.push(format!(
                "HP signed-file fingerprint (key {}, hash {}; signature not verified)",
                field(b"Key:").unwrap_or_else(|| "?".into()),
                field(b"Hash:").unwrap_or_else(|| "?".into())
            ));
            out.region(
                Entry::file(b"/fingerprint.txt".to_vec()),
                from as u64,
                (to - from) as u64,
            );
        }
        if let Some(at) = job.fingerprint_open {
            out.note(format!("the fingerprint block at {at:#x} has no end line"));
        }
        out.describe(format!("HP PJL firmware upgrade job: {}", parts.join(", ")));
        Ok(data.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::HpPjl;
    use crate::format::Format;
    use crate::formats::ascii85::testing::run;

    fn old_header(name: &str) -> Vec<u8> {
        let mut h = vec![0x03, 0x00, 0xa8, 0x01];
        h.extend(format!("{name:<64}").as_bytes());
        h.extend(b"072202  ");
        h.extend([0x04, 0x53, 0xb1, 0x21]);
        h.resize(100, 0);
        h
    }

    fn old_style() -> Vec<u8> {
        let mut d = b"\x1b%-12345X@PJL JOB\n\x1b%-12345X@PJL\r\n@PJL COMMENT MODEL=HP Color LaserJet CP4525      \r\n@PJL COMMENT DATECODE=20150731\r\n".to_vec();
        let body = b"\x00Test File 1";
        d.extend(format!("@PJL UPGRADE SIZE={}\r\n", 100 + body.len()).as_bytes());
        d.extend(old_header("HP Color LaserJet CP4525"));
        d.extend(body);
        d.extend(b"\r\n%-12345X@PJL EOJ\n\x1b%-12345X");
        d
    }

    #[test]
    fn old_style_job() {
        let d = old_style();
        let p = HpPjl.probe(&d).unwrap();
        assert!(
            p.description.contains("5 PJL commands, 1 upgrades"),
            "{}",
            p.description
        );
        let o = run(&HpPjl, &d).unwrap();
        assert_eq!(o.consumed, d.len() as u64);
        assert_eq!(o.names(), vec!["/HP_Color_LaserJet_CP4525.bin", "/commands.txt"]);
        assert_eq!(
            o.member("/HP_Color_LaserJet_CP4525.bin").unwrap(),
            b"\x00Test File 1"
        );
        let cmds = String::from_utf8(o.member("/commands.txt").unwrap().to_vec()).unwrap();
        assert_eq!(cmds.lines().next(), Some("@PJL JOB"));
        assert_eq!(cmds.lines().count(), 5);
        assert!(o.notes.is_empty(), "{:?}", o.notes);
        assert!(
            o.description.contains("MODEL=HP Color LaserJet CP4525,"),
            "{}",
            o.description
        );
        assert!(o.description.contains("version 072202"), "{}", o.description);
    }

    #[test]
    fn new_style_job_with_fingerprint() {
        let mut d =
            b"\x1b%-12345X@PJL DEFAULT SERVICEMODE = HPBOISEID\n@PJL COMMENT VERSION=20150112\n".to_vec();
        let at = d.len();
        d.extend(b"@PJL upgrade size = 8\n\x1b%-12345X\n\x94\x1e\x12@PJL\x00");
        d.extend(b"\x67\x21--=</Begin HP Signed File Fingerprint\\>=--\nKey: label_HPBBatch\nHash: sha256\n--=</End HP Signed File Fingerprint\\>=--\n");
        let o = run(&HpPjl, &d).unwrap();
        let name = format!("/{at}.bin");
        assert_eq!(
            o.names(),
            vec![name.as_str(), "/commands.txt", "/fingerprint.txt"]
        );
        assert_eq!(o.member(&name).unwrap(), b"\x94\x1e\x12@PJL\x00");
        let fp = o.member("/fingerprint.txt").unwrap();
        assert!(fp.starts_with(b"--=</Begin") && fp.ends_with(b"Fingerprint\\>=--"));
        assert!(
            o.description.contains("key label_HPBBatch, hash sha256"),
            "{}",
            o.description
        );
        // The "@PJL" inside the data is not a command.
        assert!(o.description.contains("3 PJL commands"), "{}", o.description);
    }

    #[test]
    fn same_product_twice() {
        let mut d = old_style();
        let second = d.len();
        d.extend(&old_style()[9..]);
        let o = run(&HpPjl, &d).unwrap();
        let later = format!("/HP_Color_LaserJet_CP4525-{}.bin", second + 116 - 9);
        assert_eq!(
            o.names(),
            vec!["/HP_Color_LaserJet_CP4525.bin", later.as_str(), "/commands.txt"]
        );
    }

    #[test]
    fn truncated_upgrade_is_a_note() {
        let mut d = old_style();
        let cut = d.len() - 30;
        d.truncate(cut);
        let o = run(&HpPjl, &d).unwrap();
        assert_eq!(o.notes.len(), 1, "{:?}", o.notes);
        assert_eq!(
            o.member("/HP_Color_LaserJet_CP4525.bin").unwrap(),
            &b"\x00Test File 1"[..10]
        );
        // Cut inside the header: the data is named after the command.
        let d = old_style();
        let o = run(&HpPjl, &d[..d.len() - 60]).unwrap();
        assert_eq!(o.notes.len(), 1);
    }

    #[test]
    fn mutations_never_break_the_invariants() {
        let mut d = old_style();
        d.extend(b"\x1b%-12345X@PJL UPGRADE SIZE=4\n\x1b%-12345X\nabcd--=</Begin HP Signed File Fingerprint\\>=--\nKey: k\n--=</End HP Signed File Fingerprint\\>=--\n");
        crate::formats::ascii85::testing::shake("hp-pjl", &d, 300);
    }

    #[test]
    fn refuses_other_data() {
        assert!(HpPjl.probe(b"\x1b%-12345X@PJL JOB\n@PJL EOJ\n").is_none()); // a print job
        assert!(HpPjl.probe(b"\x1b%-12345X@PJL UPGRADE SIZE=\n").is_none());
        assert!(
            HpPjl
                .probe(b"\x1b%-12345X@PJL UPGRADE SIZE=99999999999999999999\n")
                .is_none()
        );
        assert!(HpPjl.probe(b"\x1b%-12345X@PJL UPGRADE SIZE=1\nx").is_some());
        // The command listing (which starts with "@PJL") is not taken for a job again.
        assert!(HpPjl.probe(b"@PJL UPGRADE SIZE=1\nx").is_none());
        assert!(HpPjl.probe(b"x\x1b%-12345X@PJL UPGRADE SIZE=1\n").is_none());
        assert!(HpPjl.probe(b"").is_none());
        let d = old_style();
        for n in 0..d.len() {
            let _ = HpPjl.probe(&d[..n]);
            let _ = run(&HpPjl, &d[..n]);
        }
    }
}
