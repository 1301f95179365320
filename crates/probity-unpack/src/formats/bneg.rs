//! Instar "BNEG" update images, used by Instar IP cameras. A 20-byte little-endian header (the
//! text `BNEG`, a major and a minor version, and the sizes of two partitions) is followed by the
//! two partitions back to back, usually a kernel and a root file system. The format has no
//! checksum, so the header is validated by its versions and by both partitions fitting in the
//! data; each non-empty partition becomes a member (`/partition_1.bin`, `/partition_2.bin`).

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe, bytes};

/// The Instar BNEG format.
#[derive(Debug)]
pub struct Bneg;

const MAGICS: &[Magic] = &[Magic::start(b"BNEG")];
const HEADER_LEN: u64 = 20;

struct Header {
    major: u32,
    minor: u32,
    sizes: [u64; 2],
}

fn parse(data: &[u8]) -> Option<Header> {
    if data.get(..4)? != b"BNEG" {
        return None;
    }
    let major = bytes::le32(data, 4)?;
    let minor = bytes::le32(data, 8)?;
    let sizes = [
        u64::from(bytes::le32(data, 12)?),
        u64::from(bytes::le32(data, 16)?),
    ];
    // Versions are small numbers; at least one partition; both inside the data (there is no
    // checksum to vouch for a header whose partitions run past the end).
    if major > 0xff || minor > 0xff || sizes == [0, 0] {
        return None;
    }
    if HEADER_LEN + sizes[0] + sizes[1] > data.len() as u64 {
        return None;
    }
    Some(Header { major, minor, sizes })
}

fn describe(h: &Header) -> String {
    format!(
        "Instar BNEG image v{}.{}, partition 1 of {} bytes, partition 2 of {} bytes (no checksum)",
        h.major, h.minor, h.sizes[0], h.sizes[1]
    )
}

impl Format for Bneg {
    fn name(&self) -> &'static str {
        "bneg"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let h = parse(data)?;
        Some(Probe {
            length: Some(HEADER_LEN + h.sizes[0] + h.sizes[1]),
            confidence: 70,
            description: describe(&h),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let h = parse(data).ok_or_else(|| FormatError::invalid("bad BNEG header"))?;
        out.describe(describe(&h));
        let mut at = HEADER_LEN;
        for (i, &size) in h.sizes.iter().enumerate() {
            if size > 0 {
                out.region(
                    Entry::file(format!("/partition_{}.bin", i + 1).into_bytes()),
                    at,
                    size,
                );
            }
            at += size;
        }
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{ChildData, Spool};
    use crate::limits::Limits;

    fn image(sizes: [u32; 2], payload: &[u8]) -> Vec<u8> {
        let mut d = b"BNEG".to_vec();
        for v in [1, 2, sizes[0], sizes[1]] {
            d.extend_from_slice(&v.to_le_bytes());
        }
        d.extend_from_slice(payload);
        d
    }

    fn members(data: &[u8]) -> (u64, Vec<(Vec<u8>, u64, u64)>) {
        let limits = Limits::default();
        let spool = Spool::temporary().unwrap();
        let mut x = Extractor::new(&limits, &spool, data.len() as u64, 1 << 30);
        let used = Bneg.extract(data, &mut x).unwrap();
        let (children, notes, _, _) = x.into_parts();
        assert!(notes.is_empty());
        let got = children
            .iter()
            .map(|c| match c.data {
                ChildData::Region { offset, length } => (c.entry.member.clone().unwrap(), offset, length),
                _ => panic!("not a region"),
            })
            .collect();
        (used, got)
    }

    #[test]
    fn two_partitions() {
        let d = image([7, 8], b"foobar\ntest123\ntrailing");
        let p = Bneg.probe(&d).unwrap();
        assert_eq!(p.length, Some(35));
        let (used, got) = members(&d);
        assert_eq!(used, 35);
        assert_eq!(
            got,
            vec![
                (b"/partition_1.bin".to_vec(), 20, 7),
                (b"/partition_2.bin".to_vec(), 27, 8)
            ]
        );
    }

    #[test]
    fn empty_partition_is_skipped() {
        let d = image([0, 3], b"abc");
        let (used, got) = members(&d);
        assert_eq!(used, 23);
        assert_eq!(got, vec![(b"/partition_2.bin".to_vec(), 20, 3)]);
    }

    #[test]
    fn refuses_bad_headers() {
        // Partitions past the end, no partitions, absurd versions, truncated headers.
        assert!(Bneg.probe(&image([7, 8], b"short")).is_none());
        assert!(Bneg.probe(&image([0, 0], b"")).is_none());
        let mut d = image([1, 1], b"ab");
        d[4] = 0;
        d[7] = 1;
        assert!(Bneg.probe(&d).is_none());
        for n in 0..20 {
            assert!(Bneg.probe(&image([1, 1], b"ab")[..n]).is_none());
        }
    }
}
