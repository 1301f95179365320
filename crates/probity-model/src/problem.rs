//! Problems: what failed, where, and why. A failure on one file is data, not an abort.

use serde::{Deserialize, Serialize};

use crate::artifact::ArtifactId;

/// The pipeline stage a problem happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Walking a directory tree.
    Walk,
    /// Reading or hashing content.
    Read,
    /// Unpacking a container.
    Unpack,
    /// Identifying content.
    Identify,
    /// Running an analyzer.
    Analyze,
}

/// Something that went wrong on one artifact.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Problem {
    /// The artifact concerned, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<ArtifactId>,
    /// The stage.
    pub stage: Stage,
    /// The component that reported it (an analyzer id, an extractor name, `walk`).
    pub source: String,
    /// What happened, in one line.
    pub message: String,
}
