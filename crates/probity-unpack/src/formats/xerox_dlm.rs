//! Xerox DLM ("dynamic loadable module") firmware files for Xerox multifunction printers: a text
//! header of `%%` lines between `%%XRXbegin` and `%%XRXend` (job type, comments, and the module's
//! `%%OID_ATT_DLM_NAME`, `_VERSION`, `_SIGNATURE` and `_EXTRACTION_CRITERIA`, the command that
//! unpacks it on the device), then the payload (typically a gzip-compressed tar) up to the end of
//! the file.
//!
//! The header is recognised only at the start of a file and only when every line up to
//! `%%XRXend` (within 64 KiB) is a printable `%%` line. The signature field looks like a SHA-256
//! value, but what it covers is not documented and it is not the digest of the payload, so it is
//! reported, not checked.

use crate::extract::{Entry, Extractor};
use crate::format::{Format, FormatError, Magic, Probe};

/// The Xerox DLM format.
#[derive(Debug)]
pub struct XeroxDlm;

const MAGICS: &[Magic] = &[Magic::start(b"%%XRXbegin")];

/// Largest header accepted.
const MAX_HEADER: usize = 64 << 10;

struct Header<'a> {
    /// `%%KEY value` fields, in order (value without its quotes).
    fields: Vec<(&'a [u8], &'a [u8])>,
    /// Where the payload starts.
    payload: usize,
}

impl<'a> Header<'a> {
    fn get(&self, key: &[u8]) -> Option<&'a [u8]> {
        self.fields.iter().find(|(k, _)| *k == key).map(|&(_, v)| v)
    }
}

fn parse(data: &[u8]) -> Option<Header<'_>> {
    if !data.starts_with(b"%%XRXbegin") {
        return None;
    }
    let head = data.get(..data.len().min(MAX_HEADER))?;
    let mut fields = Vec::new();
    let mut at = 0usize;
    let mut first = true;
    loop {
        let nl = memchr::memchr(b'\n', head.get(at..)?)?;
        let raw = head.get(at..at + nl)?;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let next = at + nl + 1;
        if !line.starts_with(b"%%") || !line.iter().all(|&c| (0x20..0x7f).contains(&c) || c == b'\t') {
            return None;
        }
        if first {
            if line != b"%%XRXbegin" {
                return None;
            }
            first = false;
        } else if line == b"%%XRXend" {
            return Some(Header {
                fields,
                payload: next,
            });
        } else {
            let body = line.get(2..)?;
            let split = body
                .iter()
                .position(|c| c.is_ascii_whitespace())
                .unwrap_or(body.len());
            let key = body.get(..split)?;
            let value = body.get(split..)?.trim_ascii();
            let value = value
                .strip_prefix(b"\"")
                .and_then(|v| v.strip_suffix(b"\""))
                .unwrap_or(value);
            fields.push((key, value));
        }
        at = next;
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Format for XeroxDlm {
    fn name(&self) -> &'static str {
        "xerox-dlm"
    }

    fn magics(&self) -> &'static [Magic] {
        MAGICS
    }

    fn anchored(&self) -> bool {
        true
    }

    fn probe(&self, data: &[u8]) -> Option<Probe> {
        let h = parse(data)?;
        Some(Probe {
            length: Some(data.len() as u64),
            confidence: 85,
            description: format!(
                "Xerox DLM \"{}\", {}-byte header",
                text(h.get(b"OID_ATT_DLM_NAME").unwrap_or_default()),
                h.payload
            ),
        })
    }

    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError> {
        let h = parse(data).ok_or_else(|| FormatError::invalid("not a Xerox DLM header"))?;
        let mut parts = Vec::new();
        if let Some(name) = h.get(b"OID_ATT_DLM_NAME") {
            parts.push(format!("\"{}\"", text(name)));
        }
        if let Some(v) = h.get(b"OID_ATT_DLM_VERSION") {
            parts.push(format!("version {}", text(v)));
        }
        if let Some(v) = h.get(b"OID_ATT_DLM_EXTRACTION_CRITERIA") {
            parts.push(format!("extraction \"{}\"", text(v)));
        }
        if let Some(v) = h.get(b"OID_ATT_DLM_SIGNATURE") {
            parts.push(format!(
                "signature {} (not checked: what it covers is unknown)",
                text(v)
            ));
        }
        let size = data.len() - h.payload.min(data.len());
        parts.push(format!("payload of {size} bytes at {:#x}", h.payload));
        out.describe(format!("Xerox DLM {}", parts.join(", ")));
        if size == 0 {
            out.note("the DLM header is followed by no payload");
        } else {
            out.region(
                Entry::file(b"/dlm_data.bin".to_vec()),
                h.payload as u64,
                size as u64,
            );
        }
        Ok(data.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::XeroxDlm;
    use crate::format::Format;
    use crate::formats::ascii85::testing::run;

    const HEADER: &[u8] = b"%%XRXbegin\n%%OID_ATT_JOB_TYPE OID_VAL_JOB_TYPE_DYNAMIC_LOADABLE_MODULE\n%%OID_ATT_JOB_COMMENT \"DLM toolkit 2.0\"\n%%OID_ATT_DLM_NAME \"080415_08142013\"\n%%OID_ATT_DLM_VERSION \"NO_DLM_VERSION_CHECK\"\n%%OID_ATT_DLM_SIGNATURE \"90ec11f7\"\n%%OID_ATT_DLM_EXTRACTION_CRITERIA \"upgradeExtract.sh /tmp/x.dnld\"\n%%XRXend\n";

    #[test]
    fn header_and_payload() {
        let mut d = HEADER.to_vec();
        d.extend(b"\x1f\x8b\x08\x08payload");
        let p = XeroxDlm.probe(&d).unwrap();
        assert!(p.description.contains("080415_08142013"));
        let o = run(&XeroxDlm, &d).unwrap();
        assert_eq!(o.consumed, d.len() as u64);
        assert_eq!(o.names(), vec!["/dlm_data.bin"]);
        assert_eq!(o.member("/dlm_data.bin").unwrap(), b"\x1f\x8b\x08\x08payload");
        assert!(o.notes.is_empty());
        assert!(
            o.description.contains("version NO_DLM_VERSION_CHECK"),
            "{}",
            o.description
        );
        assert!(
            o.description
                .contains("extraction \"upgradeExtract.sh /tmp/x.dnld\"")
        );
        assert!(o.description.contains("signature 90ec11f7 (not checked"));
        // CRLF line ends are accepted too.
        let crlf: Vec<u8> = String::from_utf8_lossy(HEADER).replace('\n', "\r\n").into_bytes();
        let mut d = crlf.clone();
        d.extend(b"data");
        assert_eq!(
            run(&XeroxDlm, &d).unwrap().member("/dlm_data.bin").unwrap(),
            b"data"
        );
    }

    #[test]
    fn empty_payload_is_a_note() {
        let o = run(&XeroxDlm, HEADER).unwrap();
        assert!(o.members.is_empty());
        assert_eq!(o.notes.len(), 1);
    }

    #[test]
    fn mutations_never_break_the_invariants() {
        let mut d = HEADER.to_vec();
        d.extend(b"\x1f\x8b\x08\x08payload");
        crate::formats::ascii85::testing::shake("xerox-dlm", &d, 300);
    }

    #[test]
    fn refuses_other_text() {
        for n in 0..HEADER.len() {
            assert!(XeroxDlm.probe(&HEADER[..n]).is_none(), "cut at {n}");
        }
        assert!(XeroxDlm.probe(b"%%XRXbegin\nsome text\n%%XRXend\n").is_none());
        assert!(XeroxDlm.probe(b"%%XRXbeginning\n%%XRXend\n").is_none());
        assert!(XeroxDlm.probe(b"%%XRXbegin\n%%A \x01\n%%XRXend\n").is_none());
        let mut long = b"%%XRXbegin\n".to_vec();
        while long.len() < (64 << 10) {
            long.extend(b"%%OID_ATT_JOB_COMMENT \"padding\"\n");
        }
        long.extend(b"%%XRXend\n");
        assert!(XeroxDlm.probe(&long).is_none());
        assert!(run(&XeroxDlm, b"%%XRXbegin\n").is_err());
    }
}
