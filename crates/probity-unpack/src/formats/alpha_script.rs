//! Alpha Networks script containers: a shell script (the updater) followed by marker lines and
//! the payloads it installs. Seen in firmware of Alpha Networks boards (FACT's `alphanetworks`).
//!
//! Layout: the script, then optionally a line `=== ddPack Boundary ===` followed by a
//! `begin-base64 <mode> <name>` block (`uuencode -m` style, ended by a `====` line) holding the
//! "ddPack" program, then a line `=== Firmware Boundary ===` and the firmware image up to the end
//! of the file. A firmware image stored inverted (every byte XOR 0xFF, recognised by the inverted
//! `REDSONIC` it then starts with) is turned back. The container has no checksum; it is
//! recognised only at the start of a file that begins with `#!`, whose script part is text and
//! whose marker lines stand alone on their lines.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe};

/// The Alpha Networks script container.
#[derive(Debug)]
pub struct AlphaScript;

const MAGICS: &[Magic] = &[Magic::start(b"#!")];

const DDPACK_MARK: &[u8] = b"\n=== ddPack Boundary ===\n";
const FIRMWARE_MARK: &[u8] = b"\n=== Firmware Boundary ===\n";
const REDSONIC: &[u8] = b"REDSONIC";

/// A streaming decoder of standard base64 (RFC 4648 alphabet) as `uuencode -m` and most tools
/// write it: white space is skipped; the `=` padding may be present (then only at the end) or
/// missing. Any other character, padding in the middle, or a length no encoder produces (one
/// character left over) makes the text invalid. Leftover bits of the last character are ignored,
/// as most decoders do.
#[derive(Debug, Default)]
pub(crate) struct Base64 {
    acc: u32,
    bits: u32,
    chars: usize,
    pads: usize,
}

impl Base64 {
    /// Decodes the next piece of text into `out`; `false` when the text is not valid base64.
    pub(crate) fn push(&mut self, text: &[u8], out: &mut Vec<u8>) -> bool {
        for &c in text {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                b'=' => {
                    self.pads += 1;
                    continue;
                }
                b' ' | b'\t' | b'\r' | b'\n' => continue,
                _ => return false,
            };
            if self.pads > 0 {
                return false;
            }
            self.chars += 1;
            self.acc = (self.acc << 6) | u32::from(v);
            self.bits += 6;
            if self.bits >= 8 {
                self.bits -= 8;
                out.push((self.acc >> self.bits) as u8);
                self.acc &= (1 << self.bits) - 1;
            }
        }
        true
    }

    /// Whether the text seen so far is complete base64.
    pub(crate) fn finish(&self) -> bool {
        self.chars % 4 != 1
            && self.pads <= 2
            && (self.pads == 0 || (self.chars + self.pads).is_multiple_of(4))
    }
}

/// Decodes base64 text (see [`Base64`]); `None` when it is not valid.
pub(crate) fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 3);
    let mut d = Base64::default();
    (d.push(text, &mut out) && d.finish()).then_some(out)
}

/// Piece size for members written in pieces.
const PIECE: usize = 1 << 20;

/// Where the parts are, relative to the start of the container.
struct Layout {
    /// End of the script (start of the first marker line).
    script_end: usize,
    /// Start of the ddPack section (after its marker line), when there is one.
    ddpack: Option<usize>,
    /// Start of the firmware marker line.
    firmware_mark: usize,
}

impl Layout {
    fn firmware_start(&self) -> usize {
        self.firmware_mark + FIRMWARE_MARK.len() - 1
    }
}

fn layout(data: &[u8]) -> Option<Layout> {
    if !data.starts_with(b"#!") {
        return None;
    }
    let firmware_mark = memchr::memmem::find(data, FIRMWARE_MARK)? + 1;
    let head = data.get(..firmware_mark)?;
    let ddpack_mark = memchr::memmem::find(head, DDPACK_MARK).map(|i| i + 1);
    let script_end = ddpack_mark.unwrap_or(firmware_mark);
    // The script is text.
    if memchr::memchr(0, data.get(..script_end)?).is_some() {
        return None;
    }
    Some(Layout {
        script_end,
        ddpack: ddpack_mark.map(|m| m + DDPACK_MARK.len() - 1),
        firmware_mark,
    })
}

/// The ddPack section's base64 block: (start, end) of the encoded text and the header line.
fn base64_block(section: &[u8]) -> Option<(usize, usize, &[u8])> {
    let begin = memchr::memmem::find(section, b"begin-base64")?;
    let line_end = begin + memchr::memchr(b'\n', section.get(begin..)?)?;
    let header = section.get(begin..line_end)?;
    let rest = section.get(line_end..)?;
    let end = line_end + memchr::memmem::find(rest, b"\n====\n")?;
    Some((line_end + 1, end.max(line_end + 1), header))
}

impl Format for AlphaScript {
    fn name(&self) -> &'static str {
        "alphanetworks"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn anchored(&self) -> bool {
        true
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let l = layout(data)?;
        Some(Probe {
            length: Some(data.len() as u64),
            confidence: 80,
            description: format!(
                "Alpha Networks script container, {}-byte script{}, firmware of {} bytes",
                l.script_end,
                if l.ddpack.is_some() { ", ddPack" } else { "" },
                data.len().saturating_sub(l.firmware_start())
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let l = layout(data).ok_or_else(|| FormatError::invalid("not an Alpha Networks script container"))?;
        let mut parts = vec![format!("{}-byte script", l.script_end)];
        out.region(Entry::file(b"/script.sh".to_vec()), 0, l.script_end as u64);

        if let Some(start) = l.ddpack {
            let section = data.get(start..l.firmware_mark).unwrap_or_default();
            match base64_block(section) {
                Some((from, to, header)) => {
                    let text = section.get(from..to).unwrap_or_default();
                    match base64_decode(text) {
                        Some(elf) => {
                            parts.push(format!(
                                "ddPack of {} bytes from base64 at {:#x} (\"{}\")",
                                elf.len(),
                                start + from,
                                String::from_utf8_lossy(header)
                            ));
                            out.file(Entry::file(b"/ddPack.elf".to_vec()), elf)?;
                        }
                        None => out.note(format!(
                            "the ddPack base64 block at {:#x} is not valid base64",
                            start + from
                        )),
                    }
                }
                None => out.note("the ddPack section has no complete begin-base64 … ==== block"),
            }
        }

        let fw_start = l.firmware_start();
        let firmware = data.get(fw_start..).unwrap_or_default();
        if firmware.is_empty() {
            out.note("nothing follows the firmware boundary");
        } else if firmware.len() >= REDSONIC.len() && firmware.iter().zip(REDSONIC).all(|(&b, &r)| b == !r) {
            parts.push(format!(
                "firmware of {} bytes stored inverted (XOR 0xFF undone: it starts with an inverted \"REDSONIC\")",
                firmware.len()
            ));
            // Written in pieces: the firmware may be large.
            let mut sink = out.sink(Entry::file(b"/firmware.bin".to_vec()));
            let mut buf = Vec::with_capacity(PIECE.min(firmware.len()));
            let mut result = Ok(());
            let mut done = 0usize;
            for piece in firmware.chunks(PIECE) {
                result = out.check_time();
                if result.is_err() {
                    break;
                }
                buf.clear();
                buf.extend(piece.iter().map(|b| !b));
                done += piece.len();
                result = sink.write(out, &buf, done as u64);
                if result.is_err() {
                    break;
                }
            }
            sink.finish(out, result.is_err());
            out.settle(result)?;
        } else {
            parts.push(format!("firmware of {} bytes at {fw_start:#x}", firmware.len()));
            out.region(
                Entry::file(b"/firmware.bin".to_vec()),
                fw_start as u64,
                firmware.len() as u64,
            );
        }
        out.describe(format!(
            "Alpha Networks script container: {} (no checksum)",
            parts.join(", ")
        ));
        Ok(data.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::{AlphaScript, base64_decode};
    use crate::format::Format;
    use crate::formats::ascii85::testing::run;

    const SCRIPT: &[u8] = b"#!/bin/sh\nVENDOR=\"foo\"\nHWBOARD=\"bar\"\nHWVERSION=\"1.0.0\"\n\n";

    #[test]
    fn base64() {
        assert_eq!(base64_decode(b"Zm9vYmFyMTIzNA").unwrap(), b"foobar1234");
        assert_eq!(base64_decode(b"Zm9vYmFyMTIzNA==").unwrap(), b"foobar1234");
        assert_eq!(base64_decode(b"Zm9v\r\nYmFy\n").unwrap(), b"foobar");
        assert_eq!(base64_decode(b"").unwrap(), b"");
        assert_eq!(base64_decode(b"+/+/").unwrap(), [0xfb, 0xff, 0xbf]);
        assert_eq!(base64_decode(b"TQ==").unwrap(), b"M");
        assert_eq!(base64_decode(b"TWE=").unwrap(), b"Ma");
        assert!(base64_decode(b"Zm9vY").is_none()); // one character left over
        assert!(base64_decode(b"Zm=9v").is_none()); // padding in the middle
        assert!(base64_decode(b"Zm9v*").is_none()); // outside the alphabet
        assert!(base64_decode(b"TQ=").is_none()); // incomplete padding
        assert!(base64_decode(b"TQ===").is_none());
        assert!(base64_decode(b"Zm9v-_").is_none()); // the URL alphabet is not this one
    }

    fn container(ddpack: Option<&[u8]>, firmware: &[u8]) -> Vec<u8> {
        let mut d = SCRIPT.to_vec();
        if let Some(b64) = ddpack {
            d.extend(b"=== ddPack Boundary ===\nbegin-base64 755 /dev/stdout\n");
            d.extend(b64);
            d.extend(b"\n====\n");
        }
        d.extend(b"=== Firmware Boundary ===\n");
        d.extend(firmware);
        d
    }

    #[test]
    fn plain_container() {
        let d = container(Some(b"Zm9vYmFyMTIzNA"), b"firmware_foobar\n");
        assert_eq!(d.len(), 171);
        let p = AlphaScript.probe(&d).unwrap();
        assert_eq!(p.length, Some(171));
        let o = run(&AlphaScript, &d).unwrap();
        assert_eq!(o.consumed, 171);
        assert_eq!(o.names(), vec!["/script.sh", "/ddPack.elf", "/firmware.bin"]);
        assert_eq!(o.member("/script.sh").unwrap(), SCRIPT);
        assert_eq!(o.member("/ddPack.elf").unwrap(), b"foobar1234");
        assert_eq!(o.member("/firmware.bin").unwrap(), b"firmware_foobar\n");
        assert!(o.notes.is_empty(), "{:?}", o.notes);
        assert!(o.description.contains("base64 at 0x6d"), "{}", o.description);
    }

    #[test]
    fn inverted_firmware() {
        let fw: Vec<u8> = b"REDSONICfw_foobar".iter().map(|b| !b).collect();
        let d = container(None, &fw);
        assert_eq!(d.len(), 99);
        let o = run(&AlphaScript, &d).unwrap();
        assert_eq!(o.names(), vec!["/script.sh", "/firmware.bin"]);
        assert_eq!(o.member("/firmware.bin").unwrap(), b"REDSONICfw_foobar");
        assert!(o.description.contains("inverted"), "{}", o.description);
        assert!(o.notes.is_empty());
    }

    #[test]
    fn large_inverted_firmware() {
        let mut plain = b"REDSONIC".to_vec();
        plain.extend((0..2_500_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8));
        let inverted: Vec<u8> = plain.iter().map(|b| !b).collect();
        let o = run(&AlphaScript, &container(None, &inverted)).unwrap();
        assert!(o.notes.is_empty(), "{:?}", o.notes);
        assert_eq!(o.member("/firmware.bin").unwrap(), plain);
    }

    #[test]
    fn damaged_ddpack_is_a_note() {
        let d = container(Some(b"Zm9v*mFy"), b"fw");
        let o = run(&AlphaScript, &d).unwrap();
        assert_eq!(o.names(), vec!["/script.sh", "/firmware.bin"]);
        assert_eq!(o.notes.len(), 1, "{:?}", o.notes);
        // No end marker for the block.
        let mut d = SCRIPT.to_vec();
        d.extend(b"=== ddPack Boundary ===\nbegin-base64 755 x\nZm9v\n=== Firmware Boundary ===\nfw");
        let o = run(&AlphaScript, &d).unwrap();
        assert_eq!(o.names(), vec!["/script.sh", "/firmware.bin"]);
        assert_eq!(o.notes.len(), 1);
        // Nothing after the boundary.
        let o = run(&AlphaScript, &container(None, b"")).unwrap();
        assert_eq!(o.names(), vec!["/script.sh"]);
        assert_eq!(o.notes.len(), 1);
    }

    #[test]
    fn mutations_never_break_the_invariants() {
        let fw: Vec<u8> = b"REDSONICfw_foobar".iter().map(|b| !b).collect();
        crate::formats::ascii85::testing::shake(
            "alphanetworks",
            &container(Some(b"Zm9vYmFyMTIzNA"), &fw),
            500,
        );
    }

    #[test]
    fn refuses_other_scripts() {
        let good = container(None, b"fw");
        // Every cut before the end of the marker line loses the marker.
        for n in 0..good.len() - 2 {
            assert!(AlphaScript.probe(&good[..n]).is_none(), "cut at {n}");
        }
        assert!(AlphaScript.probe(&good[..good.len() - 2]).is_some());
        assert!(AlphaScript.probe(b"#!/bin/sh\necho hello\n").is_none());
        // The marker inside a line (a command that mentions it) is not a boundary.
        assert!(
            AlphaScript
                .probe(b"#!/bin/sh\nsed '1,/=== Firmware Boundary ===\n/d'\n")
                .is_none()
        );
        // Binary before the marker.
        let mut d = b"#!/bin/sh\n\0".to_vec();
        d.extend(b"\n=== Firmware Boundary ===\nfw");
        assert!(AlphaScript.probe(&d).is_none());
        assert!(AlphaScript.probe(&good[1..]).is_none());
        assert!(run(&AlphaScript, b"#!/bin/sh\n").is_err());
    }
}
