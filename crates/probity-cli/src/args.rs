//! The command line, as clap derive types. Every flag has help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Evaluate network-equipment firmware for backdoors, vulnerabilities and engineering defects,
/// and back every claim with evidence anyone can check again.
#[derive(Debug, Parser)]
#[command(name = "probity", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Print nothing on stderr except errors (no progress, no summary).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print each phase and its duration on stderr.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// When to use colours in text output (NO_COLOR in the environment means never).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan a firmware image, a binary, or an unpacked root file system, and report findings.
    Scan(ScanArgs),
    /// Unpack a firmware image recursively into a directory, with a manifest of every artifact.
    Unpack(UnpackArgs),
    /// Check that a report's findings still hold on the input: every locator and evidence hash.
    Verify(VerifyArgs),
    /// List the rules, or explain one.
    Rules {
        /// What to show.
        #[command(subcommand)]
        command: RulesCommand,
    },
}

/// `probity scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The input: a file (image, binary) or a directory (an unpacked root file system).
    pub path: PathBuf,
    /// Report format.
    #[arg(short, long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit with status 1 when a finding at or above this severity exists.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<SeverityArg>,
    /// Record the scan time in the report (reports are otherwise byte-identical across runs).
    #[arg(long)]
    pub timestamp: bool,
    /// Exclude rules: an id (PRB-IND-001) or a prefix ending in * (PRB-IND-*). Repeatable.
    #[arg(long = "exclude-rule", value_name = "PATTERN")]
    pub exclude_rules: Vec<String>,
    /// Extra password candidates to try against the hashes found, one per line (in addition to the
    /// built-in list of default and common credentials).
    #[arg(long, value_name = "FILE")]
    pub wordlist: Option<PathBuf>,
    /// SHA-256 fingerprints of publicly leaked keys, one per line (hex; `#` starts a comment): keys
    /// in the input with one of these fingerprints are reported as known-compromised.
    #[arg(long, value_name = "FILE")]
    pub known_keys: Option<PathBuf>,
    /// Bounds on reading and unpacking.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Bounds that keep work on hostile input finite; each one reached is recorded in the report.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Input files larger than this are recorded but not read (suffixes K, M, G, T: powers of 1024).
    #[arg(long, value_name = "SIZE", default_value = "2G", value_parser = crate::size::parse_size)]
    pub max_file_size: u64,
    /// Containers nested deeper than this are recorded but not unpacked.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub max_depth: u32,
    /// Directories of an input tree nested deeper than this are recorded but not entered.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub max_dir_depth: u32,
    /// Stop recording artifacts (files found or unpacked) after this many.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub max_artifacts: u64,
    /// Unpacking stops after producing this many bytes in all.
    #[arg(long, value_name = "SIZE", default_value = "4G", value_parser = crate::size::parse_size)]
    pub max_total_size: u64,
    /// A stream or container may expand to at most this many times its size (beyond 64 MiB).
    #[arg(long, value_name = "N", default_value_t = 250)]
    pub max_ratio: u64,
    /// Seconds one extraction may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub extract_timeout: u64,
}

impl LimitArgs {
    /// The limits these flags describe.
    pub fn limits(&self) -> probity_unpack::Limits {
        probity_unpack::Limits {
            max_file_size: self.max_file_size,
            max_dir_depth: self.max_dir_depth,
            max_artifacts: self.max_artifacts,
            max_depth: self.max_depth,
            max_total_bytes: self.max_total_size,
            max_ratio: self.max_ratio.max(1),
            extract_timeout: std::time::Duration::from_secs(self.extract_timeout.max(1)),
            ..probity_unpack::Limits::default()
        }
    }
}

/// `probity unpack`.
#[derive(Debug, Args)]
pub struct UnpackArgs {
    /// The input: a firmware image (or any file), or a directory whose files are unpacked.
    pub path: PathBuf,
    /// The output directory (created; must not exist or be empty).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Bounds on reading and unpacking.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// `probity verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A JSON report written by `probity scan --format json`.
    pub report: PathBuf,
    /// The input the report is about.
    pub path: PathBuf,
}

/// `probity rules …`.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List every rule: id, severity, title.
    List {
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Explain a rule: what it detects, why it matters, how, false positives and negatives, example.
    Explain {
        /// The rule id, for example PRB-IND-001.
        id: String,
    },
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A summary for people.
    Text,
    /// The full report (the input of `probity verify`).
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
}

/// Formats of `rules list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table.
    Text,
    /// JSON, with full documentation.
    Json,
}

/// Severities, as a flag value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    /// Critical only.
    Critical,
    /// High or worse.
    High,
    /// Medium or worse.
    Medium,
    /// Low or worse.
    Low,
    /// Any finding.
    Info,
}

impl From<SeverityArg> for probity_model::Severity {
    fn from(s: SeverityArg) -> Self {
        use probity_model::Severity as S;
        match s {
            SeverityArg::Critical => S::Critical,
            SeverityArg::High => S::High,
            SeverityArg::Medium => S::Medium,
            SeverityArg::Low => S::Low,
            SeverityArg::Info => S::Info,
        }
    }
}

/// Colour choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colours when stdout is a terminal and NO_COLOR is unset.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}
