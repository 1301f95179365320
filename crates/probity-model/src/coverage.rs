//! Coverage: what Probity looked at, and what it did not.
//!
//! "No backdoor found" only means something next to how much of the input was actually analysed.
//! Coverage counts files and bytes analysed, lists everything that was not read and why, and (for
//! containers) accounts for every byte as explained by a recognised structure or not.

use serde::{Deserialize, Serialize};

use crate::artifact::ArtifactId;

/// The coverage section of a report.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Coverage {
    /// Bytes in the input (a file's size, or the total size of a tree's regular files).
    pub input_bytes: u64,
    /// Regular files (and byte streams) found.
    pub files: u64,
    /// Files whose content the analyzers read.
    pub files_analysed: u64,
    /// Files identical to one analysed elsewhere (analysed once, reported at every place).
    pub files_duplicate: u64,
    /// Files not read (see `not_read`).
    pub files_not_read: u64,
    /// FIFOs, sockets and device nodes: recorded, never opened.
    pub special_files: u64,
    /// Bytes of distinct content the analyzers read.
    pub bytes_analysed: u64,
    /// Everything that was not read, with the reason.
    #[serde(default)]
    pub not_read: Vec<NotRead>,
    /// Byte-level accounting of each container.
    #[serde(default)]
    pub containers: Vec<ContainerCoverage>,
}

impl Coverage {
    /// The file counts of a finished artifact list (containers are added by the unpacker).
    pub fn from_artifacts(input_bytes: u64, artifacts: &[crate::Artifact]) -> Coverage {
        use crate::{ArtifactKind, ContentStatus};
        let mut c = Coverage {
            input_bytes,
            ..Coverage::default()
        };
        for a in artifacts {
            if a.kind.is_special() {
                c.special_files += 1;
                continue;
            }
            if a.kind != ArtifactKind::File {
                continue;
            }
            c.files += 1;
            match &a.content {
                ContentStatus::Analysed => {
                    c.files_analysed += 1;
                    c.bytes_analysed += a.size;
                }
                ContentStatus::Duplicate { .. } => c.files_duplicate += 1,
                ContentStatus::NotRead { reason } => {
                    c.files_not_read += 1;
                    c.not_read.push(NotRead {
                        artifact: a.id,
                        reason: reason.clone(),
                    });
                }
                ContentStatus::None => {}
            }
        }
        c
    }
}

/// An artifact whose content was not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotRead {
    /// The artifact.
    pub artifact: ArtifactId,
    /// Why it was not read.
    pub reason: String,
}

/// How much of a container's bytes recognised structures explain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerCoverage {
    /// The container.
    pub artifact: ArtifactId,
    /// Its size.
    pub size: u64,
    /// Bytes explained by recognised structures (headers, file systems, streams).
    pub explained_bytes: u64,
    /// The structures recognised in it, in offset order.
    #[serde(default)]
    pub structures: Vec<Structure>,
    /// Every region nothing explains.
    #[serde(default)]
    pub unexplained: Vec<UnexplainedRegion>,
}

/// A structure recognised inside a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Structure {
    /// Where it starts.
    pub offset: u64,
    /// How many bytes it occupies.
    pub length: u64,
    /// Its format (`squashfs`, `gzip`, `uimage`, …).
    pub format: String,
    /// How sure the signature scan was (0 to 100), from the validation of its header.
    pub confidence: u8,
    /// What unpacking it gave: `unpacked`, `partial` (some members failed or a limit was reached),
    /// or `recognised` (identified, nothing to unpack or unpacking failed).
    pub status: StructureStatus,
    /// A one-line description (header fields worth knowing: name, version, checksum verdict).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// What unpacking a recognised structure gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StructureStatus {
    /// Everything in it was unpacked.
    Unpacked,
    /// Some of it was unpacked.
    Partial,
    /// Recognised; nothing could be or had to be unpacked.
    Recognised,
}

/// A region no recognised structure explains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnexplainedRegion {
    /// Offset in the container.
    pub offset: u64,
    /// Length.
    pub length: u64,
    /// What its bytes look like.
    pub class: EntropyClass,
    /// Shannon entropy in bits per byte (0 to 8), rounded to 3 decimals.
    pub entropy: f64,
}

/// What unexplained bytes look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EntropyClass {
    /// All zero bytes.
    ZeroPadding,
    /// All 0xFF bytes (erased flash).
    FfPadding,
    /// Printable text.
    Text,
    /// High entropy: compressed or encrypted.
    CompressedOrEncrypted,
    /// Anything else.
    Other,
}

impl EntropyClass {
    /// The class in words.
    pub fn describe(self) -> &'static str {
        match self {
            EntropyClass::ZeroPadding => "zero padding",
            EntropyClass::FfPadding => "0xFF padding (erased flash)",
            EntropyClass::Text => "text",
            EntropyClass::CompressedOrEncrypted => "compressed or encrypted data",
            EntropyClass::Other => "unrecognised data",
        }
    }
}
