//! PKCS #7 / CMS signed data (DER): the signature blocks that signed firmware carries, such as the
//! CableLabs code verification signature in front of a DOCSIS cable-modem image. Recognised by the
//! DER `SEQUENCE` header followed by the `signedData` object identifier (1.2.840.113549.1.7.2) and
//! an explicit `[0]` content, delimited by the DER length, and kept as `/signature.p7` so that the
//! certificates in it can be examined; what follows it is examined as the rest of the image.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe};

/// PKCS #7 signed data.
#[derive(Debug)]
pub struct Pkcs7;

/// The DER encoding of the `signedData` object identifier, with its tag and length.
const SIGNED_DATA: &[u8] = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02";

/// The object identifier follows the outer header: 3, 4 or 5 bytes long for the long-form
/// lengths of one, two or three bytes that signatures of realistic size use.
const MAGICS: &[Magic] = &[
    Magic {
        bytes: SIGNED_DATA,
        at: 3,
    },
    Magic {
        bytes: SIGNED_DATA,
        at: 4,
    },
    Magic {
        bytes: SIGNED_DATA,
        at: 5,
    },
];

/// Signatures larger than this are not code signatures.
const MAX_LEN: usize = 16 << 20;

/// The total length of the DER structure at the start of `data`, when it is signed data.
fn signed_data_len(data: &[u8]) -> Option<usize> {
    if *data.first()? != 0x30 {
        return None;
    }
    let n = match *data.get(1)? {
        0x81 => 1,
        0x82 => 2,
        0x83 => 3,
        _ => return None,
    };
    let len = data
        .get(2..2 + n)?
        .iter()
        .fold(0usize, |v, &b| (v << 8) | usize::from(b));
    let header = 2 + n;
    if data.get(header..header + SIGNED_DATA.len())? != SIGNED_DATA
        || *data.get(header + SIGNED_DATA.len())? != 0xa0
        || len <= SIGNED_DATA.len() + 2
        || len > MAX_LEN
    {
        return None;
    }
    let total = header + len;
    (total <= data.len()).then_some(total)
}

impl Format for Pkcs7 {
    fn name(&self) -> &'static str {
        "pkcs7"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let len = signed_data_len(data)?;
        Some(Probe {
            length: Some(len as u64),
            confidence: 70,
            description: format!("PKCS #7 signed data, {len} bytes"),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let len = signed_data_len(data).ok_or_else(|| FormatError::invalid("not PKCS #7 signed data"))?;
        out.describe(format!("PKCS #7 signed data, {len} bytes"));
        out.region(Entry::file(b"/signature.p7"), 0, len as u64);
        Ok(len as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::signed_data_len;

    #[test]
    fn signed_data_is_delimited_by_its_der_length() {
        // SEQUENCE (2-byte length 16) { OID signedData, [0] { } ... } then trailing bytes.
        let mut d = b"\x30\x82\x00\x10".to_vec();
        d.extend_from_slice(b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02\xa0\x03\x02\x01\x01");
        assert_eq!(d.len(), 20);
        d.extend_from_slice(b"image follows");
        assert_eq!(signed_data_len(&d), Some(20));
        // Cut short, another object identifier (data, .7.1), or no explicit content: refused.
        assert_eq!(signed_data_len(&d[..19]), None);
        let mut other = d.clone();
        other[14] = 0x01;
        assert_eq!(signed_data_len(&other), None);
        let mut bare = d.clone();
        bare[15] = 0x31;
        assert_eq!(signed_data_len(&bare), None);
    }
}
