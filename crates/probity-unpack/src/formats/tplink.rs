//! TP-Link firmware headers (`mktplinkfw` v1 and `mktplinkfw2` v2/v3 layouts): a 512-byte header
//! naming the kernel, root file system and (in images for flashing from the boot loader) the boot
//! loader, protected by an MD5 over the whole image computed with a fixed salt in the checksum
//! field. The salts used here are the ones OpenWrt's `mktplinkfw` documents; a checksum that
//! matches neither is reported, not fatal.

use md5::{Digest, Md5};

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The TP-Link header format.
#[derive(Debug)]
pub struct TpLink;

const MAGICS: &[Magic] = &[
    Magic::start(b"\x00\x00\x00\x01TP-LINK Technologies"),
    Magic::start(b"\x01\x00\x00\x00TP-LINK Technologies"),
    Magic::start(b"\x00\x00\x00\x02ver. "),
    Magic::start(b"\x00\x00\x00\x03ver. "),
    Magic::start(b"\x02\x00\x00\x00ver. "),
    Magic::start(b"\x03\x00\x00\x00ver. "),
];

const HEADER_LEN: usize = 0x200;
const SALT_NORMAL: [u8; 16] = [
    0xdc, 0xd7, 0x3a, 0xa5, 0xc3, 0x95, 0x98, 0xfb, 0xdd, 0xf9, 0xe7, 0xf4, 0x0e, 0xae, 0x47, 0x38,
];
const SALT_BOOT: [u8; 16] = [
    0x8c, 0xef, 0x33, 0x5b, 0xd5, 0xc5, 0xce, 0xfa, 0xa7, 0x9c, 0x28, 0xda, 0xb2, 0xe9, 0x0f, 0x42,
];

struct Header {
    version: u32,
    fw_version: String,
    hw_id: u32,
    md5_at: usize,
    fw_length: u32,
    kernel: (u32, u32),
    rootfs: (u32, u32),
    boot: (u32, u32),
}

fn parse(data: &[u8]) -> Option<Header> {
    // The version word is big endian in every image seen; accept either order of the same value.
    let raw = bytes::be32(data, 0)?;
    let version = if raw > 0xff { raw.swap_bytes() } else { raw };
    let be = |off| bytes::be32(data, off);
    let h = match version {
        1 => Header {
            version,
            fw_version: String::from_utf8_lossy(bytes::cstr(bytes::slice(data, 0x1c, 36)?)).into_owned(),
            hw_id: be(0x40)?,
            md5_at: 0x4c,
            fw_length: be(0x7c)?,
            kernel: (be(0x80)?, be(0x84)?),
            rootfs: (be(0x88)?, be(0x8c)?),
            boot: (be(0x90)?, be(0x94)?),
        },
        2 | 3 => Header {
            version,
            fw_version: String::from_utf8_lossy(bytes::cstr(bytes::slice(data, 4, 48)?)).into_owned(),
            hw_id: be(0x34)?,
            md5_at: 0x40,
            fw_length: be(0x70)?,
            kernel: (be(0x74)?, be(0x78)?),
            rootfs: (be(0x7c)?, be(0x80)?),
            boot: (be(0x84)?, be(0x88)?),
        },
        _ => return None,
    };
    let sane = |(o, l): (u32, u32)| {
        o.checked_add(l)
            .is_some_and(|end| end <= h.fw_length.max(HEADER_LEN as u32) || l == 0)
    };
    if (h.fw_length as usize) < HEADER_LEN || !sane(h.kernel) || !sane(h.rootfs) {
        return None;
    }
    Some(h)
}

/// Which salt makes the stored MD5 match, if any.
fn checksum(data: &[u8], h: &Header) -> Result<&'static str, String> {
    let len = h.fw_length as usize;
    let Some(image) = data.get(..len) else {
        return Err(format!(
            "not verifiable: the image is truncated ({} of {len} bytes)",
            data.len()
        ));
    };
    let stored = bytes::slice(image, h.md5_at, 16).ok_or("no checksum field")?;
    if stored.iter().all(|&b| b == 0) {
        // The second header of a v3 image carries no checksum: the first one covers the image.
        return Err("absent (zero), as in the second header of v3 images".into());
    }
    for (name, salt) in [("normal", SALT_NORMAL), ("boot", SALT_BOOT)] {
        let mut md5 = Md5::new();
        md5.update(&image[..h.md5_at]);
        md5.update(salt);
        md5.update(&image[h.md5_at + 16..]);
        if md5.finalize().as_slice() == stored {
            return Ok(name);
        }
    }
    Err(format!(
        "MD5 mismatch: stored {}",
        probity_model::hex::encode(stored)
    ))
}

impl Format for TpLink {
    fn name(&self) -> &'static str {
        "tplink"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        // The header alone decides: the MD5 covers the whole image, so it is checked once, when the
        // image is extracted (and the description then says whether it matched).
        let h = parse(data)?;
        Some(Probe {
            length: Some(extent(&h)),
            confidence: 80,
            description: describe(&h, None),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let h = parse(data).ok_or_else(|| FormatError::invalid("bad TP-Link header"))?;
        // The MD5 covers the whole image: computed once here.
        let check = checksum(data, &h);
        out.describe(describe(&h, Some(&check)));
        match check {
            Ok(_) => out.verified(),
            Err(e) => out.note(format!("checksum {e}")),
        }
        let parts: Vec<(&str, (u32, u32))> = if boot_image(&h) {
            vec![("/bootloader", bootloader(&h))]
        } else {
            vec![("/kernel", h.kernel), ("/rootfs", h.rootfs)]
        };
        for (name, (off, len)) in parts {
            if len == 0 {
                continue;
            }
            let end = u64::from(off) + u64::from(len);
            if end > data.len() as u64 {
                out.note(format!(
                    "{name} ({len} bytes at {off:#x}) extends past the end of the data; cut"
                ));
            }
            let avail = (data.len() as u64)
                .saturating_sub(u64::from(off))
                .min(u64::from(len));
            if avail > 0 {
                out.region(Entry::file(name.as_bytes()), u64::from(off), avail);
            }
        }
        Ok(extent(&h).min(data.len() as u64))
    }
}

fn describe(h: &Header, check: Option<&Result<&'static str, String>>) -> String {
    let check = match check {
        None => String::new(),
        Some(Ok(salt)) => format!(", MD5 verified ({salt} salt)"),
        Some(Err(e)) => format!(", checksum {e}"),
    };
    format!(
        "TP-Link firmware header v{}, `{}`, hardware id {:#010x}{check}",
        h.version,
        probity_model::text::escape(h.fw_version.as_bytes()),
        h.hw_id,
    )
}

/// In images made for flashing from the boot loader, the boot loader follows the header.
fn bootloader(h: &Header) -> (u32, u32) {
    if h.boot.1 == 0 {
        (0, 0)
    } else {
        (h.boot.0.max(HEADER_LEN as u32), h.boot.1)
    }
}

/// Whether this header fronts an image for flashing from the boot loader: the boot loader follows
/// it, and the kernel and root file system offsets belong to a second header (the firmware proper)
/// further on, which the signature scan finds on its own.
fn boot_image(h: &Header) -> bool {
    h.boot.1 > 0 && u64::from(h.kernel.0) < HEADER_LEN as u64 + u64::from(h.boot.1)
}

/// What the header describes: up to the end of the last part it names.
fn extent(h: &Header) -> u64 {
    if boot_image(h) {
        return HEADER_LEN as u64 + u64::from(h.boot.1);
    }
    let end = [h.kernel, h.rootfs]
        .iter()
        .filter(|p| p.1 > 0)
        .map(|(o, l)| u64::from(*o) + u64::from(*l))
        .max()
        .unwrap_or(0);
    end.max(HEADER_LEN as u64)
}
