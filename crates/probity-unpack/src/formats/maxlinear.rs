//! Intel/MaxLinear Puma 6/7 "Intel Unified Image" firmware, used by DOCSIS cable modems. A
//! big-endian header (`VER2`, 160 bytes, or `VER3`, 252 bytes) holds an image name, the number of
//! parts, a hash area, a table of part sizes (10 or 20 words) and a table of part types (10 or 20
//! bytes); the parts follow the header back to back. Each part becomes a member named by its type:
//! 2 `atomkernel.img`, 3 `atomrootfs.hsqs`, 8 `armkernel.img`, 9 `armrootfs.hsqs`,
//! 10 `gwrootfs.bin`, anything else `unknown-<index>`. Signed images start with a DER signature
//! (`30 82` and a 16-bit length) right before the header: it is recognised as part of the image
//! and becomes `/signature.der`. The format has no checksum that can be recomputed (the hash
//! area's algorithm and coverage are not public), so the header is validated by its name, its
//! part count and its tables.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The Intel/MaxLinear unified image format.
#[derive(Debug)]
pub struct Maxlinear;

const MAGICS: &[Magic] = &[
    Magic::start(b"VER2"),
    Magic::start(b"VER3"),
    Magic::start(b"\x30\x82"),
];

/// The layout of one header version.
struct Layout {
    version: u8,
    len: usize,
    slots: usize,
    sizes_at: usize,
    types_at: usize,
}

const V2: Layout = Layout {
    version: 2,
    len: 0xa0,
    slots: 10,
    sizes_at: 0x5c,
    types_at: 0x84,
};

const V3: Layout = Layout {
    version: 3,
    len: 0xfc,
    slots: 20,
    sizes_at: 0x84,
    types_at: 0xd4,
};

struct Image {
    /// Length of the leading DER signature (0 when there is none).
    signature: usize,
    layout: &'static Layout,
    name: Vec<u8>,
    declared: u32,
    /// (slot index, type, size) of every non-empty part, in order.
    parts: Vec<(usize, u8, usize)>,
}

impl Image {
    fn header_at(&self) -> usize {
        self.signature
    }

    fn parts_at(&self) -> usize {
        self.signature + self.layout.len
    }

    fn end(&self) -> usize {
        self.parts_at() + self.parts.iter().map(|p| p.2).sum::<usize>()
    }
}

fn header(data: &[u8], signature: usize) -> Option<Image> {
    let layout = match data.get(signature..signature.checked_add(4)?)? {
        b"VER2" => &V2,
        b"VER3" => &V3,
        _ => return None,
    };
    let h = bytes::slice(data, signature, layout.len)?;
    // The name is printable text padded with NULs.
    let field = h.get(4..24)?;
    let name = bytes::cstr(field);
    if name.is_empty()
        || !name.iter().all(|b| (0x20..0x7f).contains(b))
        || field.get(name.len()..)?.iter().any(|&b| b != 0)
    {
        return None;
    }
    let declared = bytes::be32(h, 0x28)?;
    if declared == 0 || declared as usize > layout.slots {
        return None;
    }
    let mut parts = Vec::new();
    let mut total: usize = 0;
    for i in 0..layout.slots {
        let size = bytes::be32(h, layout.sizes_at + 4 * i)? as usize;
        let ty = *h.get(layout.types_at + i)?;
        if i >= declared as usize {
            // Slots past the declared count are unused.
            if size != 0 {
                return None;
            }
            continue;
        }
        if size > 0 {
            total = total.checked_add(size)?;
            parts.push((i, ty, size));
        }
    }
    if parts.is_empty() {
        return None;
    }
    let image = Image {
        signature,
        layout,
        name: name.to_vec(),
        declared,
        parts,
    };
    // The parts must at least start inside the data (the image may be cut short).
    (image.parts_at() < data.len()).then_some(image)
}

fn parse(data: &[u8]) -> Option<Image> {
    if data.starts_with(b"\x30\x82") {
        // A DER SEQUENCE with a two-byte length, directly followed by the header.
        let len = usize::from(bytes::be16(data, 2)?).checked_add(4)?;
        if len < 64 {
            return None;
        }
        return header(data, len);
    }
    header(data, 0)
}

fn part_name(index: usize, ty: u8) -> Vec<u8> {
    let name = match ty {
        2 => "atomkernel.img".to_string(),
        3 => "atomrootfs.hsqs".to_string(),
        8 => "armkernel.img".to_string(),
        9 => "armrootfs.hsqs".to_string(),
        10 => "gwrootfs.bin".to_string(),
        _ => format!("unknown-{index}"),
    };
    format!("/{name}").into_bytes()
}

fn describe(img: &Image) -> String {
    format!(
        "Intel/MaxLinear unified image VER{} `{}`, {} part(s) ({} declared){}; no checksum to verify",
        img.layout.version,
        probity_model::text::escape(&img.name),
        img.parts.len(),
        img.declared,
        if img.signature > 0 {
            format!(", signed ({}-byte DER signature)", img.signature)
        } else {
            String::new()
        }
    )
}

impl Format for Maxlinear {
    fn name(&self) -> &'static str {
        "maxlinear"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let img = parse(data)?;
        Some(Probe {
            length: Some(img.end() as u64),
            confidence: if img.end() <= data.len() { 80 } else { 60 },
            description: describe(&img),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let img = parse(data).ok_or_else(|| FormatError::invalid("bad VER2/VER3 header"))?;
        out.describe(describe(&img));
        if img.signature > 0 {
            out.region(Entry::file(b"/signature.der".to_vec()), 0, img.header_at() as u64);
        }
        let mut at = img.parts_at();
        for &(index, ty, size) in &img.parts {
            let have = data.len().saturating_sub(at).min(size);
            let name = part_name(index, ty);
            if have < size {
                out.note(format!(
                    "part {index} (`{}`) at {at:#x} is cut: {have} of {size} bytes present",
                    probity_model::text::escape(name.get(1..).unwrap_or_default())
                ));
            }
            if have > 0 {
                out.region(Entry::file(name), at as u64, have as u64);
            }
            at += size;
        }
        Ok(img.end().min(data.len()) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::seama::tests::run;

    fn image(layout: &Layout, declared: u32, parts: &[(u8, &[u8])]) -> Vec<u8> {
        let mut d = vec![0u8; layout.len];
        d[..4].copy_from_slice(if layout.version == 2 { b"VER2" } else { b"VER3" });
        d[4..23].copy_from_slice(b"Intel_Unified_Image");
        d[0x28..0x2c].copy_from_slice(&declared.to_be_bytes());
        for (i, (ty, payload)) in parts.iter().enumerate() {
            let s = layout.sizes_at + 4 * i;
            d[s..s + 4].copy_from_slice(&(payload.len() as u32).to_be_bytes());
            d[layout.types_at + i] = *ty;
        }
        for (_, payload) in parts {
            d.extend_from_slice(payload);
        }
        d
    }

    #[test]
    fn ver2_parts_named_by_type() {
        let d = image(&V2, 9, &[(2, b"kern"), (3, b"rootfs"), (10, b"gw"), (0x33, b"x")]);
        assert_eq!(Maxlinear.probe(&d).unwrap().length, Some(d.len() as u64));
        let (used, regions, notes, _, _) = run(&Maxlinear, &d);
        assert_eq!(used, d.len() as u64);
        assert!(notes.is_empty());
        assert_eq!(
            regions,
            vec![
                (b"/atomkernel.img".to_vec(), 0xa0, 4),
                (b"/atomrootfs.hsqs".to_vec(), 0xa4, 6),
                (b"/gwrootfs.bin".to_vec(), 0xaa, 2),
                (b"/unknown-3".to_vec(), 0xac, 1),
            ]
        );
    }

    #[test]
    fn ver3_with_signature() {
        let mut d = vec![0x30, 0x82, 0x00, 0x40];
        d.extend_from_slice(&[0x11; 0x40]);
        d.extend_from_slice(&image(&V3, 2, &[(8, b"arm kernel"), (9, b"arm rootfs")]));
        let p = Maxlinear.probe(&d).unwrap();
        assert!(
            p.description.contains("signed (68-byte DER signature)"),
            "{}",
            p.description
        );
        let (used, regions, notes, _, _) = run(&Maxlinear, &d);
        assert_eq!(used, d.len() as u64);
        assert!(notes.is_empty());
        assert_eq!(
            regions,
            vec![
                (b"/signature.der".to_vec(), 0, 0x44),
                (b"/armkernel.img".to_vec(), 0x44 + 0xfc, 10),
                (b"/armrootfs.hsqs".to_vec(), 0x44 + 0xfc + 10, 10),
            ]
        );
    }

    #[test]
    fn cut_part_is_a_note() {
        let d = image(&V2, 2, &[(2, b"kern"), (3, b"rootfs")]);
        let (used, regions, notes, _, _) = run(&Maxlinear, &d[..d.len() - 2]);
        assert_eq!(used, d.len() as u64 - 2);
        assert_eq!(regions[1], (b"/atomrootfs.hsqs".to_vec(), 0xa4, 4));
        assert_eq!(
            notes,
            vec!["part 1 (`atomrootfs.hsqs`) at 0xa4 is cut: 4 of 6 bytes present".to_string()]
        );
    }

    #[test]
    fn refuses_garbage() {
        let d = image(&V2, 1, &[(2, b"kern")]);
        for n in 0..=0xa0 {
            assert!(Maxlinear.probe(&d[..n]).is_none());
        }
        // A size past the declared count, no parts, a bad name, a DER blob not followed by a header.
        let mut bad = d.clone();
        bad[0x63] = 1;
        assert!(Maxlinear.probe(&bad).is_none());
        assert!(Maxlinear.probe(&image(&V2, 1, &[(2, b"")])).is_none());
        let mut bad = d.clone();
        bad[6] = 0x01;
        assert!(Maxlinear.probe(&bad).is_none());
        let mut der = vec![0x30, 0x82, 0x00, 0x40];
        der.extend_from_slice(&[0x11; 0x60]);
        der.extend_from_slice(&d);
        assert!(Maxlinear.probe(&der).is_none());
        assert!(Maxlinear.probe(b"\x30\x82\xff\xff").is_none());
    }
}
