//! Probity's reports: writers for each output format, and verification of a report against its
//! input.
//!
//! Writers only read the [`probity_model::Report`]; each format is one module: [`text`] for people,
//! [`json`] for machines and for `verify`, [`sarif`] for code-scanning tools. [`verify::verify`]
//! re-derives every finding's evidence from the input.
//!
//! ```no_run
//! # let report: probity_model::Report = unimplemented!();
//! probity_report::json::write(&report, &mut std::io::stdout())?;
//! let v = probity_report::verify::verify(&report, "rootfs".as_ref());
//! assert!(v.ok(), "{} findings failed", v.failures.len());
//! # Ok::<(), std::io::Error>(())
//! ```

pub mod human;
pub mod json;
pub mod sarif;
pub mod text;
pub mod text_inventory;
pub mod verify;
