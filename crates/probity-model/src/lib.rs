//! Probity's evidence model.
//!
//! Every stage of Probity speaks these types and nothing here does I/O: the unpacker builds the
//! [`Artifact`] tree, analyzers produce [`Finding`]s whose [`Evidence`] quotes the input at a
//! [`Locator`], and reporters render a [`Report`].
//!
//! ```
//! use probity_model::{ByteRange, Evidence, Hop, Locator, Sha256};
//!
//! let content = b"...xmlset_roodkcableoj28840ybtide...";
//! let loc = Locator {
//!     root: "rootfs".into(),
//!     hops: vec![Hop::dir_member("/usr/sbin/httpd", Some(Sha256::of(content)))],
//!     range: Some(ByteRange::new(3, 30)),
//! };
//! assert_eq!(loc.to_string(), "rootfs ▸ /usr/sbin/httpd @0x3+30");
//! let evidence = Evidence::bytes(3, &content[3..33]);
//! assert_eq!(evidence.region.unwrap().sha256, Sha256::of(b"xmlset_roodkcableoj28840ybtide"));
//! ```

pub mod artifact;
pub mod coverage;
pub mod digest;
pub mod evidence;
pub mod finding;
pub mod hex;
pub mod inventory;
pub mod locator;
pub mod problem;
pub mod report;
pub mod rule;
pub mod text;

pub use artifact::{Artifact, ArtifactId, ArtifactKind, ContentStatus};
pub use coverage::{
    ContainerCoverage, Coverage, EntropyClass, NotRead, Structure, StructureStatus, UnexplainedRegion,
};
pub use digest::{Sha256, Sha256Hasher};
pub use evidence::{Evidence, EvidenceKind, Field, Instruction, Region, StringEncoding};
pub use finding::{Finding, Fingerprint};
pub use inventory::{Account, Component, Inventory, KeyMaterial, PasswordState, Service};
pub use locator::{ByteRange, Hop, Locator};
pub use problem::{Problem, Stage};
pub use report::{
    InputInfo, InputKind, Manifest, ManifestEntry, Report, RulesetInfo, ScanSettings, SeverityCounts,
    Summary, ToolInfo,
};
pub use rule::{Confidence, RuleDescriptor, RuleDoc, RuleId, Severity};
pub use text::ByteString;
