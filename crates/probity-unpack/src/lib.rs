//! Probity's input side: loading an input into an artifact tree, reading content safely, and
//! resolving locators back to bytes.
//!
//! - [`tree::load`] walks a directory ([`walk`]) or maps a file, hashes every regular file in
//!   parallel and returns a [`Tree`] whose content is read through [`content::Content`] (memory
//!   maps, never whole files in memory).
//! - [`resolve::resolve`] follows a [`probity_model::Locator`] from the root input, checking each
//!   hop's digest, which is what `probity verify` builds on.
//!
//! ```no_run
//! use probity_unpack::{Limits, NoProgress, tree};
//!
//! let tree = tree::load("rootfs".as_ref(), &Limits::default(), &NoProgress)?;
//! for (sha, ids) in tree.unique_contents() {
//!     let bytes = tree.open(ids[0])?;
//!     println!("{sha}: {} bytes at {} places", bytes.len(), ids.len());
//! }
//! # Ok::<(), probity_unpack::UnpackError>(())
//! ```

pub mod content;
pub mod coverage;
pub mod error;
pub mod extract;
pub mod format;
pub mod formats;
#[doc(hidden)]
pub mod fuzzing;
pub mod limits;
pub mod output;
pub mod progress;
pub mod resolve;
pub mod sigscan;
pub mod tree;
pub mod unpack;
pub mod walk;

pub use content::Content;
pub use error::UnpackError;
pub use limits::Limits;
pub use progress::{NoProgress, Progress};
pub use tree::Tree;
pub use unpack::Unpacker;
