//! Byte strings from the input, carried without loss.
//!
//! File names, link targets and matched content come from the image, so they are bytes, not text.
//! In JSON a [`ByteString`] is a plain string when it is valid UTF-8 and `{"base64": "…"}` when it is
//! not (the same split ripgrep's JSON printer makes), so nothing is ever replaced by U+FFFD.
//! [`escape`] renders any bytes safely for a terminal: control characters, invalid UTF-8 and
//! bidirectional overrides become visible escapes, so an image can not rewrite the reader's screen.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes that came from the input (a path, a link target, a matched string).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ByteString(pub Vec<u8>);

impl ByteString {
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The text when it is valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// A terminal-safe rendering (see [`escape`]).
    pub fn escaped(&self) -> String {
        escape(&self.0)
    }
}

impl From<&str> for ByteString {
    fn from(s: &str) -> Self {
        ByteString(s.as_bytes().to_vec())
    }
}

impl From<String> for ByteString {
    fn from(s: String) -> Self {
        ByteString(s.into_bytes())
    }
}

impl From<&[u8]> for ByteString {
    fn from(b: &[u8]) -> Self {
        ByteString(b.to_vec())
    }
}

impl From<Vec<u8>> for ByteString {
    fn from(b: Vec<u8>) -> Self {
        ByteString(b)
    }
}

impl fmt::Debug for ByteString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", escape(&self.0))
    }
}

impl fmt::Display for ByteString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(&self.0))
    }
}

impl Serialize for ByteString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(&self.0) {
            Ok(text) => s.serialize_str(text),
            Err(_) => {
                use serde::ser::SerializeMap;
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("base64", &BASE64.encode(&self.0))?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for ByteString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ByteString;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or {\"base64\": …}")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteString, E> {
                Ok(ByteString::from(v))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ByteString, A::Error> {
                let mut out = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key != "base64" {
                        return Err(de::Error::unknown_field(&key, &["base64"]));
                    }
                    let text: String = map.next_value()?;
                    out = Some(BASE64.decode(text.as_bytes()).map_err(de::Error::custom)?);
                }
                out.map(ByteString)
                    .ok_or_else(|| de::Error::missing_field("base64"))
            }
        }
        d.deserialize_any(V)
    }
}

/// Renders bytes for a terminal or a one-line log: printable UTF-8 is kept; `\` becomes `\\`;
/// ASCII control characters and bytes that are not UTF-8 become `\xNN`; other control characters,
/// bidirectional controls and invisible format characters become `\u{NNNN}`. [`unescape`] reverses it.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_escaped_char(&mut out, c);
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

fn push_escaped_char(out: &mut String, c: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        // ASCII controls are written as the byte they are; other controls as the code point, so
        // that `\xNN` always means one raw byte and the escaping can be reversed (see `unescape`).
        c if c.is_ascii_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
        c if c.is_control() => out.push_str(&format!("\\u{{{:04x}}}", u32::from(c))),
        c if is_invisible_format(c) => out.push_str(&format!("\\u{{{:04x}}}", u32::from(c))),
        c => out.push(c),
    }
}

/// Reverses [`escape`] (and the extra escapes a locator token uses); `None` on a malformed escape.
pub fn unescape(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('\\') {
        out.extend_from_slice(&rest.as_bytes()[..pos]);
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix('\\') {
            out.push(b'\\');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('-') {
            // `\-` stands for nothing: the token of an empty name.
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('x') {
            let hex = tail.get(..2)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else if let Some(tail) = after.strip_prefix("u{") {
            let end = tail.find('}')?;
            let c = char::from_u32(u32::from_str_radix(tail.get(..end)?, 16).ok()?)?;
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            rest = &tail[end + 1..];
        } else {
            return None;
        }
    }
    out.extend_from_slice(rest.as_bytes());
    Some(out)
}

/// Characters that change how surrounding text is displayed without being visible themselves
/// (bidirectional embeddings and overrides, isolates, zero-width characters).
pub(crate) fn is_invisible_format(c: char) -> bool {
    matches!(
        u32::from(c),
        0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x2069 | 0xfeff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_forms() {
        let utf8 = ByteString::from("/etc/passwd");
        assert_eq!(serde_json::to_string(&utf8).unwrap(), "\"/etc/passwd\"");
        let raw = ByteString(vec![b'a', 0xff, b'b']);
        let json = serde_json::to_string(&raw).unwrap();
        assert_eq!(json, "{\"base64\":\"Yf9i\"}");
        assert_eq!(serde_json::from_str::<ByteString>(&json).unwrap(), raw);
        assert_eq!(
            serde_json::from_str::<ByteString>("\"x\"").unwrap(),
            ByteString::from("x")
        );
        assert!(serde_json::from_str::<ByteString>("{\"hex\":\"00\"}").is_err());
    }

    #[test]
    fn escapes_what_a_terminal_would_interpret() {
        assert_eq!(escape(b"plain/path"), "plain/path");
        assert_eq!(escape(b"\x1b[31mred"), "\\x1b[31mred");
        assert_eq!(escape(b"a\\b"), "a\\\\b");
        assert_eq!(escape(&[0x66, 0xff, 0x0a]), "f\\xff\\x0a");
        assert_eq!(escape("é✓".as_bytes()), "é✓");
        assert_eq!(escape("a\u{202e}b".as_bytes()), "a\\u{202e}b");
        assert_eq!(escape("\u{85}".as_bytes()), "\\u{0085}");
    }

    #[test]
    fn unescape_reverses_escape() {
        let samples: [&[u8]; 6] = [
            b"plain",
            b"\x1b[0m",
            &[0x85, 0xc2, 0x85],
            "a\u{202e}\\".as_bytes(),
            b"",
            &[0xff; 3],
        ];
        for s in samples {
            assert_eq!(unescape(&escape(s)).as_deref(), Some(s), "{s:?}");
        }
        assert_eq!(unescape("\\q"), None);
        assert_eq!(unescape("\\x4"), None);
        assert_eq!(unescape("\\u{110000}"), None);
    }
}
