//! Artifacts: the nodes of the tree of everything found in the input.
//!
//! The root input is artifact 0. Every member of a container (a file in a directory tree, a file in a
//! file system image, the payload of a compressed stream) is a child of that container, with the
//! [`Hop`] that leads from the container to it. Content is identified by SHA-256: identical content
//! that occurs at several places is analysed once and the duplicates point at the first occurrence.

use serde::{Deserialize, Serialize};

use crate::digest::Sha256;
use crate::locator::Hop;
use crate::text::ByteString;

/// The index of an artifact in the report's artifact list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ArtifactId(pub u32);

impl ArtifactId {
    /// The root input.
    pub const ROOT: ArtifactId = ArtifactId(0);

    /// The index as `usize`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What kind of file system object an artifact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactKind {
    /// A regular file (or a byte stream such as a decompressed payload).
    File,
    /// A directory.
    Directory,
    /// A symbolic link (recorded, never followed).
    Symlink,
    /// A hard link to another member of the same container (archives record these explicitly).
    Hardlink,
    /// A named pipe (recorded, never opened).
    Fifo,
    /// A character device node (recorded, never opened or created).
    CharDevice,
    /// A block device node (recorded, never opened or created).
    BlockDevice,
    /// A Unix socket (recorded, never opened).
    Socket,
}

impl ArtifactKind {
    /// Whether this kind has byte content of its own.
    pub fn has_content(self) -> bool {
        matches!(self, ArtifactKind::File)
    }

    /// Whether this is a FIFO, device node or socket.
    pub fn is_special(self) -> bool {
        matches!(
            self,
            ArtifactKind::Fifo | ArtifactKind::CharDevice | ArtifactKind::BlockDevice | ArtifactKind::Socket
        )
    }
}

/// What happened to an artifact's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ContentStatus {
    /// Read and analysed.
    Analysed,
    /// Identical to an earlier artifact, which was analysed in its place.
    Duplicate {
        /// The artifact analysed in its place.
        of: ArtifactId,
    },
    /// Not read, and why (too large, unreadable, special file).
    NotRead {
        /// Why.
        reason: String,
    },
    /// The artifact has no content of its own (directory, link).
    None,
}

/// A node of the artifact tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    /// Its index.
    pub id: ArtifactId,
    /// The container it was found in (absent for the root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ArtifactId>,
    /// How it is reached from its parent (absent for the root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hop: Option<Hop>,
    /// What kind of object it is.
    pub kind: ArtifactKind,
    /// Size of its content in bytes (0 for objects without content).
    pub size: u64,
    /// SHA-256 of its content, when it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Sha256>,
    /// Unix permission bits and file type bits as recorded (`st_mode`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
    /// Owner user id as recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// Owner group id as recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
    /// Target of a symbolic or hard link, as recorded (never resolved on the host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_target: Option<ByteString>,
    /// Device numbers of a device node (major, minor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<(u32, u32)>,
    /// What the content was identified as (`elf`, `text`, `squashfs`, …), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_type: Option<String>,
    /// What happened to its content.
    pub content: ContentStatus,
}

impl Artifact {
    /// The member path this artifact has inside its container, if it has one.
    pub fn member(&self) -> Option<&ByteString> {
        self.hop.as_ref().and_then(|h| h.member.as_ref())
    }
}
