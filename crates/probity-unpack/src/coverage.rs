//! Byte-level coverage of a container: which bytes recognised structures explain, and what the
//! rest looks like.
//!
//! Unexplained bytes are split into regions by what they look like (zero padding, 0xFF padding
//! as in erased flash, text, compressed-or-encrypted, other), measured in blocks and merged, so
//! a report can say "2 opaque regions, 96 KiB, entropy 7.98" instead of "some bytes unknown".

use probity_model::{EntropyClass, UnexplainedRegion};

/// Most regions listed per container; beyond it, regions are measured in coarser blocks.
pub const MAX_REGIONS: usize = 512;

/// Shannon entropy of `data`, bits per byte.
pub fn entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u64; 256];
    for &b in data {
        counts[usize::from(b)] += 1;
    }
    let n = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// What `block` looks like.
pub fn classify(block: &[u8]) -> EntropyClass {
    if block.iter().all(|&b| b == 0) {
        return EntropyClass::ZeroPadding;
    }
    if block.iter().all(|&b| b == 0xff) {
        return EntropyClass::FfPadding;
    }
    let printable = block
        .iter()
        .filter(|&&b| (0x20..0x7f).contains(&b) || matches!(b, b'\n' | b'\r' | b'\t'))
        .count();
    if printable * 100 >= block.len() * 95 {
        return EntropyClass::Text;
    }
    // Short blocks can not show high entropy (at most log2(len) bits); scale the threshold.
    let max_possible = (block.len() as f64).log2().min(8.0);
    if entropy(block) >= max_possible * 0.92 && block.len() >= 64 {
        return EntropyClass::CompressedOrEncrypted;
    }
    EntropyClass::Other
}

fn round3(x: f64) -> f64 {
    let r = (x * 1000.0).round() / 1000.0;
    // A single-valued region sums to -0.0; report it as 0.
    if r <= 0.0 { 0.0 } else { r }
}

/// Merges `explained` ranges (start, end) over `0..len`; returns the merged ranges.
pub fn merge(mut ranges: Vec<(u64, u64)>, len: u64) -> Vec<(u64, u64)> {
    ranges.retain(|r| r.0 < r.1);
    for r in &mut ranges {
        r.1 = r.1.min(len);
    }
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (s, e) in ranges {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ if s < e => out.push((s, e)),
            _ => {}
        }
    }
    out
}

/// Explained byte count and unexplained regions of `data`, given explained ranges.
pub fn account(data: &[u8], explained: Vec<(u64, u64)>) -> (u64, Vec<UnexplainedRegion>) {
    let len = data.len() as u64;
    let merged = merge(explained, len);
    let explained_bytes = merged.iter().map(|(s, e)| e - s).sum();
    let mut gaps = Vec::new();
    let mut cur = 0u64;
    for (s, e) in &merged {
        if *s > cur {
            gaps.push((cur, *s));
        }
        cur = *e;
    }
    if cur < len {
        gaps.push((cur, len));
    }
    let total_gap: u64 = gaps.iter().map(|(s, e)| e - s).sum();
    // Blocks of 4 KiB, coarser when the gaps are large, so the list stays short.
    let block = 4096u64.max(total_gap / MAX_REGIONS as u64 + 1);
    let mut regions: Vec<UnexplainedRegion> = Vec::new();
    for (s, e) in gaps {
        let mut off = s;
        while off < e {
            // Blocks are aligned to multiples of the block size, as flash and file systems are.
            let end = e.min((off / block + 1) * block);
            let piece = data.get(off as usize..end as usize).unwrap_or_default();
            let class = classify(piece);
            match regions.last_mut() {
                Some(last) if last.class == class && last.offset + last.length == off => {
                    last.length += end - off
                }
                _ => regions.push(UnexplainedRegion {
                    offset: off,
                    length: end - off,
                    class,
                    entropy: 0.0,
                }),
            }
            off = end;
        }
    }
    for r in &mut regions {
        let piece = data
            .get(r.offset as usize..(r.offset + r.length) as usize)
            .unwrap_or_default();
        r.entropy = round3(entropy(piece));
    }
    (explained_bytes, regions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(classify(&[0; 4096]), EntropyClass::ZeroPadding);
        assert_eq!(classify(&[0xff; 4096]), EntropyClass::FfPadding);
        assert_eq!(classify(&b"hello world\n".repeat(300)), EntropyClass::Text);
        let noise: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        assert_eq!(classify(&noise), EntropyClass::CompressedOrEncrypted);
        assert_eq!(entropy(&[7; 100]), 0.0);
        assert!((entropy(&(0..=255).collect::<Vec<u8>>()) - 8.0).abs() < 1e-9);
    }

    #[test]
    fn accounting() {
        let mut data = vec![0u8; 8192];
        data.extend_from_slice(&[0xff; 4096]);
        data.extend_from_slice(&[0x41; 100]);
        let (explained, regions) = account(&data, vec![(0, 4096), (2048, 6000)]);
        assert_eq!(explained, 6000);
        let got: Vec<(u64, u64, EntropyClass)> =
            regions.iter().map(|r| (r.offset, r.length, r.class)).collect();
        assert_eq!(
            got,
            [
                (6000, 2192, EntropyClass::ZeroPadding),
                (8192, 4096, EntropyClass::FfPadding),
                (12288, 100, EntropyClass::Text)
            ]
        );
        assert_eq!(merge(vec![(5, 3), (10, 20), (0, 4), (3, 11)], 15), [(0, 15)]);
    }
}
