//! Probity's analysis: the [`Analyzer`] trait, the registry of analyzers, the embedded rule data,
//! and the engine that runs a scan end to end.
//!
//! ```no_run
//! use probity_analyze::{ScanOptions, scan};
//! use probity_unpack::NoProgress;
//!
//! let report = scan("rootfs".as_ref(), &ScanOptions::default(), &NoProgress)?;
//! for f in &report.findings {
//!     println!("{} {} at {}", f.severity, f.rule_id, f.locations[0]);
//! }
//! # Ok::<(), probity_analyze::AnalyzeError>(())
//! ```

pub mod analyzer;
pub mod analyzers;
pub mod engine;
pub mod rules;

pub use analyzer::{AnalysisOptions, Analyzer, ContentContext, Draft, Output, Subject, TreeContext};
pub use engine::{ScanOptions, analyze, scan};
pub use rules::{RuleFilter, ruleset_info};

/// Errors that stop a scan before it starts (bad rule data, unusable input, bad options).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalyzeError {
    /// Rule data that does not parse or validate.
    #[error("rule file `{file}`: {message}")]
    Rules {
        /// The rule file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// The input can not be loaded.
    #[error(transparent)]
    Input(#[from] probity_unpack::UnpackError),
    /// A bad option.
    #[error("{0}")]
    Usage(String),
}

impl AnalyzeError {
    pub(crate) fn rules(file: &str, message: impl std::fmt::Display) -> AnalyzeError {
        AnalyzeError::Rules {
            file: file.to_string(),
            message: message.to_string(),
        }
    }
}

/// Every rule of every registered analyzer, sorted by id.
pub fn all_rules() -> Result<Vec<probity_model::RuleDescriptor>, AnalyzeError> {
    let mut rules: Vec<_> = analyzers::registry()?
        .iter()
        .flat_map(|a| a.rules().to_vec())
        .collect();
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(rules)
}
