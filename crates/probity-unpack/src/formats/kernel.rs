//! Linux kernel images: x86 bzImage (the setup header names the compressed payload) and ARM
//! zImage (the payload is found by the signatures of the kernel's compressors inside it). The
//! payload becomes a member, which the signature scan then decompresses.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// Linux kernel images.
#[derive(Debug)]
pub struct LinuxKernel;

const MAGICS: &[Magic] = &[
    Magic {
        bytes: b"HdrS",
        at: 0x202,
    },
    Magic {
        bytes: b"\x18\x28\x6f\x01",
        at: 0x24,
    },
    Magic {
        bytes: b"\x01\x6f\x28\x18",
        at: 0x24,
    },
];

/// Compressed-payload signatures the kernel's decompressors use, with the format that decodes them.
const PAYLOADS: &[(&[u8], &dyn Format)] = &[
    (b"\x1f\x8b\x08", &crate::formats::gzip::Gzip),
    (b"\xfd7zXZ\x00", &crate::formats::xz::Xz),
    (b"\x5d\x00\x00", &crate::formats::lzma::Lzma),
    (b"BZh", &crate::formats::bzip2::Bzip2),
    (b"\x89LZO", &crate::formats::lzop::Lzop),
    (b"\x02\x21\x4c\x18", &crate::formats::lz4::Lz4),
    (b"\x28\xb5\x2f\xfd", &crate::formats::zstd::Zstd),
];

enum Kind {
    BzImage {
        payload: (usize, usize),
        version: Vec<u8>,
    },
    ZImage {
        end: usize,
        big: bool,
    },
}

fn parse(data: &[u8]) -> Option<Kind> {
    if bytes::slice(data, 0x202, 4) == Some(b"HdrS") {
        let proto = bytes::le16(data, 0x206)?;
        if bytes::le16(data, 0x1fe)? != 0xaa55 || proto < 0x0208 {
            return None;
        }
        let setup = match *data.get(0x1f1)? {
            0 => 4,
            n => usize::from(n),
        };
        let off = (setup + 1) * 512 + bytes::le32(data, 0x248)? as usize;
        let len = bytes::le32(data, 0x24c)? as usize;
        let vptr = usize::from(bytes::le16(data, 0x20e)?);
        let version = if vptr > 0 {
            bytes::cstr(data.get(vptr + 0x200..(vptr + 0x200 + 128).min(data.len()))?).to_vec()
        } else {
            Vec::new()
        };
        return Some(Kind::BzImage {
            payload: (off, len),
            version,
        });
    }
    let big = bytes::slice(data, 0x24, 4)? == b"\x01\x6f\x28\x18";
    let rd = |o| {
        if big {
            bytes::be32(data, o)
        } else {
            bytes::le32(data, o)
        }
    };
    let (start, end) = (rd(0x28)?, rd(0x2c)?);
    // The image may be cut short (a partition dump); the header still says how long it was.
    (end > start && end - start >= 0x30 && end - start <= 64 << 20).then(|| Kind::ZImage {
        end: (end - start) as usize,
        big,
    })
}

impl Format for LinuxKernel {
    fn name(&self) -> &'static str {
        "linux-kernel"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        Some(match parse(data)? {
            Kind::BzImage { payload, version } => Probe {
                length: Some((payload.0 + payload.1).min(data.len()) as u64),
                confidence: 90,
                description: format!(
                    "Linux x86 bzImage, version `{}`",
                    probity_model::text::escape(&version)
                ),
            },
            Kind::ZImage { end, big } => Probe {
                length: Some(end.min(data.len()) as u64),
                confidence: 70,
                description: format!("Linux ARM zImage ({} endian)", if big { "big" } else { "little" }),
            },
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let kind = parse(data).ok_or_else(|| FormatError::invalid("bad kernel header"))?;
        if let Some(p) = self.probe(data) {
            out.describe(p.description);
        }
        match kind {
            Kind::BzImage {
                payload: (off, len), ..
            } => {
                if off.checked_add(len).is_none_or(|e| e > data.len()) {
                    return Err(FormatError::invalid("payload outside the image"));
                }
                out.region(Entry::payload(), off as u64, len as u64);
                Ok(data.len() as u64)
            }
            Kind::ZImage { end, .. } => {
                if end > data.len() {
                    out.note(format!("image truncated: {} of {end} bytes present", data.len()));
                }
                let image = &data[..end.min(data.len())];
                // The decompressor's code comes first; the payload starts at the first signature
                // of a kernel compressor whose header validates.
                let found = PAYLOADS
                    .iter()
                    .filter_map(|(magic, f)| {
                        let mut from = 0x30;
                        while let Some(p) = memchr::memmem::find(image.get(from..)?, magic) {
                            let at = from + p;
                            if f.probe(&image[at..]).is_some() {
                                return Some(at);
                            }
                            from = at + 1;
                        }
                        None
                    })
                    .min();
                match found {
                    Some(at) => out.region(Entry::payload(), at as u64, (image.len() - at) as u64),
                    None => out.note("no compressed payload found"),
                }
                Ok(image.len() as u64)
            }
        }
    }
}
