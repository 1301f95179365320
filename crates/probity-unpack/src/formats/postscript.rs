//! PostScript firmware updates (Xerox printers, among others): a PostScript job whose code reads
//! binary payloads from its own text with `currentfile /ASCII85Decode filter …`, each payload
//! following as ASCII85 text (optionally opened by `<~`) up to `~>`.
//!
//! Every such payload is decoded into a member `/payload-<n>.bin` (numbered from 0 in file
//! order). Further filters named after the ASCII85 one (such as `/FlateDecode`) are reported, not
//! applied: a zlib stream in a decoded payload is found by the zlib format. The DSC comments of
//! the job's header (`%%Title:`, `%%For:`, …, up to `%%EndComments`) go into the description.
//! Recognised only at the start of a file that starts with `%!PS` and has at least one such
//! payload. PostScript has no checksum.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe};
use crate::formats::ascii85;

/// PostScript jobs carrying ASCII85 payloads.
#[derive(Debug)]
pub struct Postscript;

const MAGICS: &[Magic] = &[Magic::start(b"%!PS")];
const MARKER: &[u8] = b"currentfile /ASCII85Decode";
/// Most payloads taken from one file.
const MAX_PAYLOADS: usize = 10_000;
/// Most header comment lines read.
const MAX_COMMENTS: usize = 200;

/// One `currentfile /ASCII85Decode filter` payload.
struct Payload {
    /// Where the ASCII85 text starts and ends (without `<~` and `~>`).
    text: (usize, usize),
    /// Filters applied after the ASCII85 one.
    filters: Vec<String>,
}

/// The payload announced by the marker at `at`, and where the search goes on; `Err` with the
/// place to go on when it has no end.
fn payload(data: &[u8], at: usize) -> Result<(Payload, usize), usize> {
    let after = at + MARKER.len();
    let line_end =
        memchr::memchr(b'\n', data.get(after..).unwrap_or_default()).map_or(data.len(), |i| after + i);
    let line = data.get(after..line_end).unwrap_or_default();
    // The data starts after the operators on the marker's line, or at `<~` on that line.
    let (ops, start) = match memchr::memmem::find(line, b"<~") {
        Some(i) => (line.get(..i).unwrap_or_default(), after + i + 2),
        None => (line, (line_end + 1).min(data.len())),
    };
    let tokens: Vec<&[u8]> = ops
        .split(|c| c.is_ascii_whitespace())
        .filter(|t| !t.is_empty())
        .collect();
    let filters = tokens
        .windows(2)
        .filter(|w| w.get(1) == Some(&&b"filter"[..]) && w.first().is_some_and(|t| t.starts_with(b"/")))
        .filter_map(|w| w.first().map(|t| String::from_utf8_lossy(t).into_owned()))
        .collect();
    let mut start = start;
    while data.get(start).is_some_and(|c| c.is_ascii_whitespace()) {
        start += 1;
    }
    if data.get(start..).is_some_and(|r| r.starts_with(b"<~")) {
        start += 2;
    }
    match memchr::memmem::find(data.get(start..).unwrap_or_default(), b"~>") {
        Some(i) => Ok((
            Payload {
                text: (start, start + i),
                filters,
            },
            start + i + 2,
        )),
        None => Err(start),
    }
}

/// Whether the marker at `at` is followed by the `filter` operator.
fn is_filter(data: &[u8], at: usize) -> bool {
    let rest = data.get(at + MARKER.len()..).unwrap_or_default();
    if !rest.first().is_some_and(u8::is_ascii_whitespace) {
        return false;
    }
    let rest = rest.trim_ascii_start();
    rest.starts_with(b"filter") && rest.get(6).is_none_or(|c| c.is_ascii_whitespace())
}

/// The markers' offsets.
fn markers(data: &[u8]) -> impl Iterator<Item = usize> + '_ {
    memchr::memmem::find_iter(data, MARKER).filter(|&at| is_filter(data, at))
}

/// The DSC comments of the header: `%%Key: value` lines up to `%%EndComments`.
fn comments(data: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in data.split(|&c| c == b'\n').skip(1).take(MAX_COMMENTS) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line == b"%%EndComments" || !line.starts_with(b"%") {
            break;
        }
        let Some(body) = line.strip_prefix(b"%%") else {
            continue;
        };
        let Some(colon) = body.iter().position(|&c| c == b':') else {
            continue;
        };
        let key = body.get(..colon).unwrap_or_default();
        let value = body.get(colon + 1..).unwrap_or_default().trim_ascii();
        if !key.is_empty() && key.iter().all(u8::is_ascii_alphanumeric) {
            out.push((
                String::from_utf8_lossy(key).into_owned(),
                String::from_utf8_lossy(value).into_owned(),
            ));
        }
    }
    out
}

impl Format for Postscript {
    fn name(&self) -> &'static str {
        "postscript"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn anchored(&self) -> bool {
        true
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        if !data.starts_with(b"%!PS") {
            return None;
        }
        let first = markers(data).next()?;
        payload(data, first).ok()?;
        let title = comments(data)
            .into_iter()
            .find(|(k, _)| k == "Title")
            .map(|(_, v)| format!(" \"{v}\""))
            .unwrap_or_default();
        Some(Probe {
            length: Some(data.len() as u64),
            confidence: 75,
            description: format!("PostScript{title} with ASCII85 payloads"),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        if self.probe(data).is_none() {
            return Err(FormatError::invalid("not a PostScript job with ASCII85 payloads"));
        }
        let mut n = 0usize;
        let mut next = 0usize;
        let mut filtered = Vec::new();
        for at in markers(data) {
            out.check_time()?;
            if at < next {
                continue; // a marker inside the previous payload's text
            }
            if n == MAX_PAYLOADS {
                out.note(format!(
                    "more than {MAX_PAYLOADS} payloads; the rest were not decoded"
                ));
                break;
            }
            match payload(data, at) {
                Ok((p, after)) => {
                    next = after;
                    let name = format!("/payload-{n}.bin");
                    let text = data.get(p.text.0..p.text.1).unwrap_or_default();
                    match ascii85::decode(text) {
                        Some(bytes) => out.file(Entry::file(name.into_bytes()), bytes)?,
                        None => out.note(format!("payload {n} at {:#x} is not valid ASCII85", p.text.0)),
                    }
                    if !p.filters.is_empty() {
                        filtered.push(format!("payload-{n} then {}", p.filters.join(" ")));
                    }
                }
                Err(start) => {
                    out.note(format!("payload {n} at {start:#x} has no ~> end"));
                    break;
                }
            }
            n += 1;
        }
        let mut parts: Vec<String> = comments(data)
            .into_iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        parts.push(format!("{n} ASCII85 payloads"));
        if !filtered.is_empty() {
            parts.push(format!("further filters, not applied: {}", filtered.join(", ")));
        }
        out.describe(format!("PostScript job ({}; no checksum)", parts.join("; ")));
        Ok(data.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::Postscript;
    use crate::format::Format;
    use crate::formats::ascii85::testing::run;

    const JOB: &[u8] = b"%!PS-Adobe\n%%Title: Firmware Update\n%%ReleaseVersions: vx=10.80,ps=4.19.0\n%%EndComments\n\n/ptype (8580) def\ncurrentfile /ASCII85Decode filter cvx exec\n<~<+oue+DGm>FD,5.Anc:,F<FCgH#.D-A0C~>\n%!PS\n(/flash0/x) (x) (sc) 16#00008000 7152256 currentfile /ASCII85Decode filter /FlateDecode filter flashLoadFile\n<~@;^\"*BOu3kAoD^,@<;~>\n";

    #[test]
    fn payloads_and_comments() {
        assert!(Postscript.probe(JOB).is_some());
        let o = run(&Postscript, JOB).unwrap();
        assert_eq!(o.consumed, JOB.len() as u64);
        assert_eq!(o.names(), vec!["/payload-0.bin", "/payload-1.bin"]);
        assert_eq!(o.member("/payload-0.bin").unwrap(), b"This is the first Payload!");
        assert_eq!(o.member("/payload-1.bin").unwrap(), b"another_format");
        assert!(o.notes.is_empty(), "{:?}", o.notes);
        assert!(
            o.description.contains("Title: Firmware Update;"),
            "{}",
            o.description
        );
        assert!(o.description.contains("ReleaseVersions: vx=10.80,ps=4.19.0;"));
        assert!(o.description.contains("2 ASCII85 payloads"));
        assert!(
            o.description.contains("payload-1 then /FlateDecode"),
            "{}",
            o.description
        );
    }

    #[test]
    fn payload_without_brackets_and_bad_payloads() {
        let job = b"%!PS\ncurrentfile /ASCII85Decode filter cvx exec\n87cURD]i,\"Ebo80~>\ncurrentfile /ASCII85Decode filter cvx exec\n<~87cURD]i,\"Ebo80E~>\n";
        let o = run(&Postscript, job).unwrap();
        assert_eq!(o.names(), vec!["/payload-0.bin"]);
        assert_eq!(o.member("/payload-0.bin").unwrap(), b"Hello World!");
        assert_eq!(o.notes.len(), 1, "{:?}", o.notes);
        // A payload without its end.
        let job = b"%!PS\ncurrentfile /ASCII85Decode filter cvx exec\n<~87cURD]i,\"Ebo80~>\ncurrentfile /ASCII85Decode filter cvx exec\n<~87cURD]i,";
        let o = run(&Postscript, job).unwrap();
        assert_eq!(o.names(), vec!["/payload-0.bin"]);
        assert_eq!(o.notes.len(), 1);
    }

    #[test]
    fn mutations_never_break_the_invariants() {
        crate::formats::ascii85::testing::shake("postscript", JOB, 300);
    }

    #[test]
    fn refuses_other_postscript() {
        assert!(
            Postscript
                .probe(b"%!PS-Adobe-3.0\n%%Title: a page\nshowpage\n")
                .is_none()
        );
        assert!(
            Postscript
                .probe(b"%!PS\ncurrentfile /ASCII85Decode filter\n<~abc")
                .is_none()
        );
        assert!(
            Postscript
                .probe(b"%!PS\ncurrentfile /ASCII85Decodefilter\n<~abc~>")
                .is_none()
        );
        assert!(
            Postscript
                .probe(b"x%!PS\ncurrentfile /ASCII85Decode filter\n<~abc~>")
                .is_none()
        );
        assert!(run(&Postscript, b"%!PS\n").is_err());
        for n in 0..JOB.len() {
            let _ = Postscript.probe(&JOB[..n]);
            let _ = run(&Postscript, &JOB[..n]);
        }
    }
}
