//! Unix `ar` archives (static libraries, Debian packages): GNU and BSD long names.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The ar format.
#[derive(Debug)]
pub struct Ar;

const MAGICS: &[Magic] = &[Magic::start(b"!<arch>\n")];

fn field(h: &[u8], from: usize, to: usize) -> Option<u64> {
    std::str::from_utf8(h.get(from..to)?).ok()?.trim().parse().ok()
}

impl Format for Ar {
    fn name(&self) -> &'static str {
        "ar"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let h = bytes::slice(data, 8, 60)?;
        (&h[58..60] == b"`\n").then(|| Probe {
            length: None,
            confidence: 90,
            description: "ar archive".into(),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        out.describe("ar archive");
        let mut at = 8usize;
        let mut names: &[u8] = &[];
        while let Some(h) = bytes::slice(data, at, 60) {
            out.check_time()?;
            if &h[58..60] != b"`\n" {
                out.note(format!("bad member header at {at:#x}; archive ends there"));
                break;
            }
            let size = field(h, 48, 58).ok_or_else(|| FormatError::invalid("bad member size"))? as usize;
            let mode = std::str::from_utf8(&h[40..48])
                .ok()
                .and_then(|s| u32::from_str_radix(s.trim(), 8).ok())
                .unwrap_or(0o100644);
            let uid = field(h, 28, 34).unwrap_or(0) as u32;
            let gid = field(h, 34, 40).unwrap_or(0) as u32;
            let mut body_at = at + 60;
            let mut body_len = size;
            let raw_name = &h[..16];
            let name: Vec<u8> = if raw_name.starts_with(b"#1/") {
                // BSD: the name is the first N bytes of the body.
                // The name is part of the body: it can not be longer than the body, nor run past
                // the data.
                let n = (field(raw_name, 3, 16).unwrap_or(0) as usize)
                    .min(size)
                    .min(data.len().saturating_sub(body_at));
                let name = bytes::slice(data, body_at, n).unwrap_or_default().to_vec();
                body_at += n;
                body_len = body_len.saturating_sub(n);
                bytes::cstr(&name).to_vec()
            } else if raw_name.starts_with(b"// ") {
                names = bytes::slice(data, body_at, size).unwrap_or_default();
                at = body_at + size.div_ceil(2) * 2;
                continue;
            } else if raw_name.starts_with(b"/ ") || raw_name.starts_with(b"__.SYMDEF") {
                at = body_at + size.div_ceil(2) * 2;
                continue;
            } else if raw_name[0] == b'/' && raw_name[1].is_ascii_digit() {
                let off = field(raw_name, 1, 16).unwrap_or(0) as usize;
                let rest = names.get(off..).unwrap_or_default();
                let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
                rest[..end].strip_suffix(b"/").unwrap_or(&rest[..end]).to_vec()
            } else {
                let trimmed = raw_name
                    .iter()
                    .rposition(|&b| b != b' ')
                    .map(|p| &raw_name[..=p])
                    .unwrap_or_default();
                trimmed.strip_suffix(b"/").unwrap_or(trimmed).to_vec()
            };
            let path = [b"/".as_slice(), &name].concat();
            let avail = data.len().saturating_sub(body_at).min(body_len);
            if avail < body_len {
                out.note(format!("`{}` is truncated", probity_model::text::escape(&path)));
            }
            out.region(
                Entry::file(path).with_owner(mode, uid, gid),
                body_at as u64,
                avail as u64,
            );
            at = at.saturating_add(60).saturating_add(size.div_ceil(2) * 2);
        }
        Ok(at.min(data.len()) as u64)
    }
}
