//! Entry points for the cargo-fuzz targets in `fuzz/` (not part of the stable API).
//!
//! Each runs a format's probe and extraction on arbitrary bytes under tight budgets and checks
//! the invariants the engine relies on: members that are ranges of the input lie inside it, no
//! member exceeds the budget, and nothing panics.

use std::time::Duration;

use crate::extract::{ChildData, Extractor, Spool};
use crate::limits::Limits;
use crate::unpack::Unpacker;

fn limits() -> Limits {
    Limits {
        max_total_bytes: 8 << 20,
        ratio_floor: 1 << 20,
        extract_timeout: Duration::from_secs(5),
        ..Limits::default()
    }
}

#[allow(clippy::expect_used)]
fn unpacker() -> &'static Unpacker {
    static U: std::sync::OnceLock<Unpacker> = std::sync::OnceLock::new();
    U.get_or_init(|| Unpacker::new().expect("the registry compiles"))
}

/// Probes and extracts `data` as the format called `name`.
#[allow(clippy::panic, clippy::expect_used)]
pub fn run_format(name: &str, data: &[u8]) {
    let unpacker = unpacker();
    let format = unpacker
        .format(name)
        .unwrap_or_else(|| panic!("no format `{name}`"));
    let limits = limits();
    let spool = Spool::temporary().expect("a temporary directory");
    let _ = format.probe(data);
    let mut x = Extractor::new(&limits, &spool, data.len() as u64, limits.max_total_bytes);
    let result = format.extract(data, &mut x);
    let produced = x.produced();
    let (children, _, _, _) = x.into_parts();
    assert!(
        produced <= limits.max_total_bytes,
        "{name}: produced {produced} bytes"
    );
    if let Ok(consumed) = result {
        assert!(
            consumed <= data.len() as u64 || consumed == 0,
            "{name}: consumed {consumed} of {}",
            data.len()
        );
    }
    for c in children {
        if let ChildData::Region { offset, length } = c.data {
            assert!(
                offset.checked_add(length).is_some_and(|e| e <= data.len() as u64),
                "{name}: region outside the data"
            );
        }
    }
}

/// Runs the whole engine (signature scan, every format, recursion) on `data`.
#[allow(clippy::expect_used)]
pub fn run_engine(data: &[u8]) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("input.bin");
    std::fs::write(&path, data).expect("write the input");
    let limits = Limits {
        max_artifacts: 10_000,
        max_depth: 4,
        ..limits()
    };
    let Ok(mut tree) = crate::tree::load(&path, &limits, &crate::progress::NoProgress) else {
        return;
    };
    let spool = Spool::temporary().expect("a temporary directory");
    unpacker().expand(&mut tree, &spool, &crate::progress::NoProgress);
    for a in tree.artifacts() {
        if a.sha256.is_some() {
            let _ = tree.open(a.id);
        }
    }
}

/// Inputs that crashed a fuzz target once, rebuilt by hand so that they stay small.
/// Mutation test for a format's unit tests: 2,000 copies of `valid`, each with up to five bytes
/// replaced and cut at a random length (a fixed xorshift sequence, so every run is the same), go
/// through the format's probe and extraction; nothing may panic.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn mutated_inputs_never_panic(format: &dyn crate::format::Format, valid: &[u8]) {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let limits = Limits::default();
    let spool = Spool::temporary().unwrap();
    for _ in 0..2000 {
        let mut d = valid.to_vec();
        for _ in 0..next() % 6 {
            let i = next() as usize % d.len();
            d[i] = next() as u8;
        }
        let cut = next() as usize % (d.len() + 1);
        let d = &d[..cut];
        let _ = format.probe(d);
        let mut x = Extractor::new(&limits, &spool, d.len() as u64, 1 << 30);
        let _ = format.extract(d, &mut x);
    }
}

#[cfg(test)]
mod regressions {
    use super::run_format;

    fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
        buf[at..at + bytes.len()].copy_from_slice(bytes);
    }

    #[test]
    fn sevenz_next_header_end_overflow() {
        // A start header whose next-header offset plus length is 2^64 - 17: adding the 32-byte
        // signature header overflowed (found by format_sevenz, 150-second run).
        let mut d = b"7z\xbc\xaf\x27\x1c\x00\x04".to_vec();
        d.extend_from_slice(&[0; 4]);
        d.extend_from_slice(&0x7du64.to_le_bytes());
        d.extend_from_slice(&0xffff_ffff_ffff_ff7cu64.to_le_bytes());
        d.extend_from_slice(&[0; 4]);
        let crc = crc32fast::hash(&d[12..32]);
        d[8..12].copy_from_slice(&crc.to_le_bytes());
        run_format("7z", &d);
    }

    #[test]
    fn yaffs2_spare_cut_after_its_tags() {
        // 2048-byte chunks with 64-byte spares: an object header, then a data chunk whose spare
        // ends right after its 16 bytes of tags; the image was said to end at the full spare
        // (found by format_yaffs2, 150-second run).
        let tags = |seq: u32, obj: u32, chunk: u32, bytes: u32| {
            [seq, obj, chunk, bytes]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect::<Vec<u8>>()
        };
        let mut d = vec![0u8; 2048];
        put(&mut d, 0, &1u32.to_le_bytes()); // a file
        put(&mut d, 4, &1u32.to_le_bytes()); // in the root
        put(&mut d, 10, b"a");
        put(&mut d, 292, &4u32.to_le_bytes()); // its size
        d.extend_from_slice(&tags(0x1000, 257, 0, 0));
        d.extend_from_slice(&[0xff; 48]);
        let mut data = b"abcd".to_vec();
        data.resize(2048, 0xff);
        d.extend_from_slice(&data);
        d.extend_from_slice(&tags(0x1000, 257, 1, 4));
        run_format("yaffs2", &d);
    }

    #[test]
    fn zstd_count_past_a_short_frame() {
        // A 19-byte frame whose decoder reported reading 24 bytes (found by format_zstd,
        // 150-second run).
        run_format(
            "zstd",
            b"\x28\xb5\x2f\xfd\x44\x27\x22\x4d\x2b\x00\x00\x00\x00\x00\x01\x9c\x78\x00\x20",
        );
    }

    #[test]
    fn ihex_overlapping_records() {
        // The second record lies inside the first: the image must span the first one's end.
        run_format(
            "ihex",
            b":100000007465737420737472696E6720696E2066FC\n:03000500348C65B3\n:00000001FF\n",
        );
    }

    #[test]
    fn ext_block_count_overflow() {
        // A 64-bit block count whose size in bytes does not fit in 64 bits.
        let mut d = vec![0u8; 4096];
        let sb = 1024;
        put(&mut d, sb + 4, &0xffff_ffffu32.to_le_bytes());
        put(&mut d, sb + 20, &1u32.to_le_bytes());
        put(&mut d, sb + 32, &8192u32.to_le_bytes());
        put(&mut d, sb + 40, &16u32.to_le_bytes());
        put(&mut d, sb + 56, &0xef53u16.to_le_bytes());
        put(&mut d, sb + 76, &1u32.to_le_bytes());
        put(&mut d, sb + 88, &128u16.to_le_bytes());
        put(&mut d, sb + 96, &0x80u32.to_le_bytes());
        put(&mut d, sb + 0x150, &0xffff_ffffu32.to_le_bytes());
        run_format("ext", &d);
    }

    #[test]
    fn ext_inode_table_beyond_u64() {
        // A 64-bit ext4 whose group descriptor puts the inode table at block 2^64 - 1.
        let mut d = vec![0u8; 4096];
        let sb = 1024;
        put(&mut d, sb + 4, &4u32.to_le_bytes());
        put(&mut d, sb + 20, &1u32.to_le_bytes());
        put(&mut d, sb + 32, &8192u32.to_le_bytes());
        put(&mut d, sb + 40, &16u32.to_le_bytes());
        put(&mut d, sb + 56, &0xef53u16.to_le_bytes());
        put(&mut d, sb + 76, &1u32.to_le_bytes());
        put(&mut d, sb + 88, &128u16.to_le_bytes());
        put(&mut d, sb + 96, &0x80u32.to_le_bytes());
        put(&mut d, sb + 254, &64u16.to_le_bytes());
        put(&mut d, 2048 + 8, &u32::MAX.to_le_bytes());
        put(&mut d, 2048 + 0x28, &u32::MAX.to_le_bytes());
        run_format("ext", &d);
    }

    #[test]
    fn iso9660_short_directory_record() {
        // A directory record of 8 bytes, too short to hold the flags byte at offset 25.
        let mut d = vec![0u8; 19 * 2048];
        let pvd = 16 * 2048;
        put(&mut d, pvd, b"\x01CD001\x01");
        put(&mut d, pvd + 80, &19u32.to_le_bytes());
        put(&mut d, pvd + 128, &2048u16.to_le_bytes());
        put(&mut d, pvd + 158, &18u32.to_le_bytes());
        put(&mut d, pvd + 166, &2048u32.to_le_bytes());
        put(&mut d, 17 * 2048, b"\xffCD001\x01");
        d[18 * 2048] = 8;
        run_format("iso9660", &d);
    }

    #[test]
    fn ar_bsd_name_longer_than_the_data() {
        // A BSD-style member (`#1/50`) whose name length runs past the end of the archive.
        let mut d = b"!<arch>\n".to_vec();
        d.extend_from_slice(b"#1/50           0           0     0     644     82        `\n");
        d.extend_from_slice(b"short");
        run_format("ar", &d);
    }

    #[test]
    fn cpio_body_past_the_end() {
        // The input format_cpio found (132 bytes): an old binary header whose name runs past the
        // end of the data, so that the (empty) body would start beyond it.
        let hex: String = [
            "c7710153ece8e8ed4103030301000000f755f8f02200000000005c0000006765",
            "745f66696c65735f74d0655b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b",
            "5b5b5b5b5b5b5b5b5b3a5b5b5b5b73742f00c770000000000000000000000000",
            "0000007d000000007f0000000000030000000000000000000000000000000000",
            "00000069",
        ]
        .concat();
        let d: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0))
            .collect();
        run_format("cpio", &d);
    }

    #[test]
    fn jffs2_node_ending_off_the_padding() {
        // One directory entry of 41 bytes that ends the data: its 4-byte padding is missing.
        let crc = |b: &[u8]| {
            let mut h = crc32fast::Hasher::new_with_initial(0xffff_ffff);
            h.update(b);
            !h.finalize()
        };
        let mut n = vec![0u8; 41];
        put(&mut n, 0, &[0x85, 0x19, 0x01, 0xe0]);
        put(&mut n, 4, &41u32.to_le_bytes());
        let hc = crc(&n[..8]);
        put(&mut n, 8, &hc.to_le_bytes());
        put(&mut n, 12, &1u32.to_le_bytes());
        put(&mut n, 16, &1u32.to_le_bytes());
        put(&mut n, 20, &2u32.to_le_bytes());
        n[28] = 1;
        n[29] = 8;
        let nc = crc(&n[..32]);
        put(&mut n, 32, &nc.to_le_bytes());
        let namec = crc(b"a");
        put(&mut n, 36, &namec.to_le_bytes());
        n[40] = b'a';
        run_format("jffs2", &n);
    }
}
