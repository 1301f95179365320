//! Limits that keep a scan of hostile input bounded in time, memory and disk.

use std::time::Duration;

/// Bounds on what a scan reads, unpacks and records. Every bound that is reached is recorded in
/// the report as a problem, with what was left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Input files larger than this are recorded but not read.
    pub max_file_size: u64,
    /// Directories of an input tree nested deeper than this are recorded but not entered.
    pub max_dir_depth: u32,
    /// At most this many artifacts are recorded (input files and unpacked members together).
    pub max_artifacts: u64,
    /// Containers nested deeper than this are recorded but not unpacked.
    pub max_depth: u32,
    /// Unpacking stops after producing this many bytes in all.
    pub max_total_bytes: u64,
    /// A stream or container may produce at most this many times its own size (with a floor of
    /// [`Limits::ratio_floor`] bytes), which stops decompression bombs early.
    pub max_ratio: u64,
    /// Output below this size is never refused for its ratio (zero padding compresses extremely).
    pub ratio_floor: u64,
    /// Wall-clock time one extraction may take.
    pub extract_timeout: Duration,
}

impl Limits {
    /// The limits as recorded in a report.
    pub fn to_settings(&self, excluded_rules: Vec<String>) -> probity_model::ScanSettings {
        probity_model::ScanSettings {
            max_file_size: self.max_file_size,
            max_dir_depth: self.max_dir_depth,
            max_artifacts: self.max_artifacts,
            max_depth: self.max_depth,
            max_total_bytes: self.max_total_bytes,
            max_ratio: self.max_ratio,
            ratio_floor: self.ratio_floor,
            extract_timeout_ms: u64::try_from(self.extract_timeout.as_millis()).unwrap_or(u64::MAX),
            excluded_rules,
        }
    }

    /// The limits a report was made with.
    pub fn from_settings(s: &probity_model::ScanSettings) -> Limits {
        Limits {
            max_file_size: s.max_file_size,
            max_dir_depth: s.max_dir_depth,
            max_artifacts: s.max_artifacts,
            max_depth: s.max_depth,
            max_total_bytes: s.max_total_bytes,
            max_ratio: s.max_ratio,
            ratio_floor: s.ratio_floor,
            extract_timeout: Duration::from_millis(s.extract_timeout_ms),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: 2 << 30,
            max_dir_depth: 64,
            max_artifacts: 1_000_000,
            max_depth: 16,
            max_total_bytes: 4 << 30,
            max_ratio: 250,
            ratio_floor: 64 << 20,
            extract_timeout: Duration::from_secs(120),
        }
    }
}
