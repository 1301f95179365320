//! Limits that keep a scan of hostile input bounded.

/// Bounds on what a scan reads and records. Every bound that is reached is recorded in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Files larger than this are recorded but not read.
    pub max_file_size: u64,
    /// Directories nested deeper than this are recorded but not entered.
    pub max_depth: u32,
    /// At most this many artifacts are recorded.
    pub max_artifacts: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: 2 << 30,
            max_depth: 64,
            max_artifacts: 1_000_000,
        }
    }
}
