//! Flattened device trees, and U-Boot FIT images (device trees whose `/images` nodes carry the
//! kernel, device trees and RAM disks). Each FIT image is a member (`/images/NAME`), decoded when
//! its `compression` is gzip or LZMA; a plain device tree is recognised and its `/chosen/bootargs`
//! reported.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The device tree / FIT format.
#[derive(Debug)]
pub struct Dtb;

const MAGICS: &[Magic] = &[Magic::start(b"\xd0\x0d\xfe\xed")];

const BEGIN_NODE: u32 = 1;
const END_NODE: u32 = 2;
const PROP: u32 = 3;
const NOP: u32 = 4;
const END: u32 = 9;

/// A node with its properties (name, value as offset/length in the blob) and children.
#[derive(Debug, Default)]
struct Node {
    name: Vec<u8>,
    props: Vec<(Vec<u8>, usize, usize)>,
    children: Vec<Node>,
}

impl Node {
    fn prop<'d>(&self, blob: &'d [u8], name: &[u8]) -> Option<(&'d [u8], usize)> {
        self.props
            .iter()
            .find(|p| p.0 == name)
            .and_then(|&(_, at, len)| Some((blob.get(at..at + len)?, at)))
    }

    fn child(&self, name: &[u8]) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }
}

fn parse(blob: &[u8]) -> Option<(Node, u32)> {
    let total = bytes::be32(blob, 4)? as usize;
    let off_struct = bytes::be32(blob, 8)? as usize;
    let off_strings = bytes::be32(blob, 12)? as usize;
    let version = bytes::be32(blob, 20)?;
    if !(16..=17).contains(&version) || total > blob.len() || off_struct >= total || off_strings >= total {
        return None;
    }
    let blob = &blob[..total];
    let strings = blob.get(off_strings..)?;
    let mut at = off_struct;
    let mut stack: Vec<Node> = Vec::new();
    let mut root = None;
    for _ in 0..1_000_000 {
        let token = bytes::be32(blob, at)?;
        at += 4;
        match token {
            BEGIN_NODE => {
                let name = bytes::cstr(blob.get(at..)?);
                at += (name.len() + 1).next_multiple_of(4);
                stack.push(Node {
                    name: name.to_vec(),
                    ..Node::default()
                });
                if stack.len() > 64 {
                    return None;
                }
            }
            END_NODE => {
                let node = stack.pop()?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            PROP => {
                let len = bytes::be32(blob, at)? as usize;
                let nameoff = bytes::be32(blob, at + 4)? as usize;
                let name = bytes::cstr(strings.get(nameoff..)?).to_vec();
                blob.get(at + 8..at + 8 + len)?;
                stack.last_mut()?.props.push((name, at + 8, len));
                at += 8 + len.next_multiple_of(4);
            }
            NOP => {}
            END => return Some((root?, version)),
            _ => return None,
        }
    }
    None
}

impl Format for Dtb {
    fn name(&self) -> &'static str {
        "dtb"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let total = bytes::be32(data, 4)?;
        let (root, version) = parse(data)?;
        let fit = root.child(b"images").is_some();
        let description = root
            .prop(data, b"description")
            .map(|(d, _)| bytes::cstr(d).to_vec())
            .unwrap_or_default();
        Some(Probe {
            length: Some(u64::from(total)),
            confidence: 95,
            description: format!(
                "{} v{version}{}",
                if fit {
                    "U-Boot FIT image"
                } else {
                    "device tree blob"
                },
                if description.is_empty() {
                    String::new()
                } else {
                    format!(", `{}`", probity_model::text::escape(&description))
                }
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let (root, _) = parse(data).ok_or_else(|| FormatError::invalid("bad device tree"))?;
        let total = bytes::be32(data, 4).unwrap_or(0) as u64;
        let mut end = total;
        if let Some(p) = self.probe(data) {
            out.describe(p.description);
        }
        if let Some(args) = root.child(b"chosen").and_then(|c| c.prop(data, b"bootargs")) {
            out.note(format!(
                "boot arguments: `{}`",
                probity_model::text::escape(bytes::cstr(args.0))
            ));
        }
        let Some(images) = root.child(b"images") else {
            return Ok(total);
        };
        for img in &images.children {
            out.check_time()?;
            let path = [b"/images/".as_slice(), &img.name].concat();
            // Embedded data, or external data placed after the tree (`mkimage -E`).
            let (at, len) = if let Some((d, at)) = img.prop(data, b"data") {
                (at as u64, d.len() as u64)
            } else if let (Some((off, _)), Some((size, _))) = (
                img.prop(data, b"data-offset")
                    .or(img.prop(data, b"data-position")),
                img.prop(data, b"data-size"),
            ) {
                let base = if img.prop(data, b"data-position").is_some() {
                    0
                } else {
                    total.next_multiple_of(4)
                };
                (
                    base + u64::from(bytes::be32(off, 0).unwrap_or(0)),
                    u64::from(bytes::be32(size, 0).unwrap_or(0)),
                )
            } else {
                out.note(format!("`{}` has no data", probity_model::text::escape(&path)));
                continue;
            };
            if at.checked_add(len).is_none_or(|e| e > data.len() as u64) {
                out.note(format!(
                    "`{}` lies outside the data",
                    probity_model::text::escape(&path)
                ));
                continue;
            }
            end = end.max(at + len);
            let comp = img
                .prop(data, b"compression")
                .map(|(c, _)| bytes::cstr(c).to_vec())
                .unwrap_or_default();
            let slice = &data[at as usize..(at + len) as usize];
            if comp == b"lzma"
                && let (Some(&props), Some(dict), Some(size)) =
                    (slice.first(), bytes::le32(slice, 1), bytes::le64(slice, 5))
            {
                let size = (size != u64::MAX && size <= 1 << 32).then_some(size);
                if crate::formats::lzma::decode_raw(
                    slice.get(13..).unwrap_or_default(),
                    props,
                    dict,
                    size,
                    out,
                    Entry::file(path.clone()),
                )
                .is_ok()
                {
                    continue;
                }
            }
            // gzip and the rest: the signature scan of the member decodes it.
            out.region(Entry::file(path), at, len);
        }
        Ok(end)
    }
}
