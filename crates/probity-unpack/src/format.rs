//! The interface every container and stream format implements.
//!
//! A format is one file in `formats/` and one line in [`crate::formats::registry`]. It declares the
//! magic bytes the signature scan looks for ([`Format::magics`]), validates a candidate by parsing
//! its header ([`Format::probe`], cheap, no allocation of output), and unpacks it
//! ([`Format::extract`]) into an [`Extractor`](crate::extract::Extractor), which enforces the
//! budgets and collects the members. Formats never touch the file system.

use crate::extract::Extractor;

/// Magic bytes that mark a candidate: `bytes` found at offset `at` from the structure's start.
#[derive(Debug, Clone, Copy)]
pub struct Magic {
    /// The bytes.
    pub bytes: &'static [u8],
    /// Where they sit relative to the start of the structure.
    pub at: usize,
}

impl Magic {
    /// Magic bytes at the start of the structure.
    pub const fn start(bytes: &'static [u8]) -> Magic {
        Magic { bytes, at: 0 }
    }
}

/// A validated candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// How many bytes the structure occupies, when its header says.
    pub length: Option<u64>,
    /// How sure the validation is, 0 to 100 (a checksum that matches is 100; a plausible header 50).
    pub confidence: u8,
    /// A one-line description from the header.
    pub description: String,
}

/// Why a format could not unpack a candidate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The data is not (or no longer) a valid instance of the format.
    #[error("{0}")]
    Invalid(String),
    /// A valid instance that uses something this build can not unpack.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A budget was reached.
    #[error("{0}")]
    Limit(String),
}

impl FormatError {
    /// An invalid-structure error.
    pub fn invalid(msg: impl Into<String>) -> FormatError {
        FormatError::Invalid(msg.into())
    }
}

/// A container or stream format.
pub trait Format: Send + Sync {
    /// The stable name used in locators (`squashfs`, `gzip`, …).
    fn name(&self) -> &'static str;

    /// The magic bytes that make the signature scan try this format.
    fn magics(&self) -> &'static [Magic];

    /// Whether the format is only recognised at the very start of a content (formats whose magic
    /// is weak or textual, such as Intel HEX).
    fn anchored(&self) -> bool {
        false
    }

    /// Validates the structure starting at `data[0]`; `None` when it is not one.
    fn probe(&self, data: &[u8]) -> Option<Probe>;

    /// Unpacks the structure starting at `data[0]`, returning how many bytes it occupies.
    /// Members go to `out`; a failure on one member is a note there, not an error, so that what can
    /// be recovered is recovered.
    fn extract(&self, data: &[u8], out: &mut Extractor<'_>) -> Result<u64, FormatError>;
}

/// Little helpers for reading integers from untrusted bytes without panicking.
pub mod bytes {
    /// `N` bytes at `off`.
    pub fn arr<const N: usize>(data: &[u8], off: usize) -> Option<[u8; N]> {
        data.get(off..off.checked_add(N)?)?.try_into().ok()
    }

    /// Little-endian u16 at `off`.
    pub fn le16(data: &[u8], off: usize) -> Option<u16> {
        arr(data, off).map(u16::from_le_bytes)
    }

    /// Big-endian u16 at `off`.
    pub fn be16(data: &[u8], off: usize) -> Option<u16> {
        arr(data, off).map(u16::from_be_bytes)
    }

    /// Little-endian u32 at `off`.
    pub fn le32(data: &[u8], off: usize) -> Option<u32> {
        arr(data, off).map(u32::from_le_bytes)
    }

    /// Big-endian u32 at `off`.
    pub fn be32(data: &[u8], off: usize) -> Option<u32> {
        arr(data, off).map(u32::from_be_bytes)
    }

    /// Little-endian u64 at `off`.
    pub fn le64(data: &[u8], off: usize) -> Option<u64> {
        arr(data, off).map(u64::from_le_bytes)
    }

    /// Big-endian u64 at `off`.
    pub fn be64(data: &[u8], off: usize) -> Option<u64> {
        arr(data, off).map(u64::from_be_bytes)
    }

    /// `len` bytes at `off`.
    pub fn slice(data: &[u8], off: usize, len: usize) -> Option<&[u8]> {
        data.get(off..off.checked_add(len)?)
    }

    /// A NUL-terminated string in a fixed-size field (without the NUL).
    pub fn cstr(field: &[u8]) -> &[u8] {
        let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
        &field[..end]
    }

    /// Readers of one endianness, for formats that come in both.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Endian {
        /// Little endian.
        Little,
        /// Big endian.
        Big,
    }

    impl Endian {
        /// u16 at `off`.
        pub fn u16(self, data: &[u8], off: usize) -> Option<u16> {
            match self {
                Endian::Little => le16(data, off),
                Endian::Big => be16(data, off),
            }
        }

        /// u32 at `off`.
        pub fn u32(self, data: &[u8], off: usize) -> Option<u32> {
            match self {
                Endian::Little => le32(data, off),
                Endian::Big => be32(data, off),
            }
        }

        /// u64 at `off`.
        pub fn u64(self, data: &[u8], off: usize) -> Option<u64> {
            match self {
                Endian::Little => le64(data, off),
                Endian::Big => be64(data, off),
            }
        }
    }
}
