//! Errors of input loading and locator resolution.

use std::io;
use std::path::Path;

use probity_model::text::escape;

/// Renders a host path for a message, escaping anything a terminal would interpret.
pub fn display_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    escape(path.as_os_str().as_bytes())
}

/// Why an input could not be loaded or a locator not resolved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UnpackError {
    /// The path does not exist.
    #[error("`{path}` does not exist")]
    NotFound {
        /// The path, escaped.
        path: String,
    },
    /// An I/O error on a path.
    #[error("can not read `{path}`: {source}")]
    Io {
        /// The path, escaped.
        path: String,
        /// The error.
        source: io::Error,
    },
    /// An empty input file.
    #[error("`{path}` is empty: there is nothing to scan")]
    Empty {
        /// The path, escaped.
        path: String,
    },
    /// A FIFO, device or socket given as the input.
    #[error("`{path}` is a {kind}; Probity reads only regular files and directories")]
    Special {
        /// The path, escaped.
        path: String,
        /// What it is.
        kind: &'static str,
    },
    /// A file above the size limit.
    #[error("`{path}` is {size} bytes, above the limit of {limit} bytes (raise it with --max-file-size)")]
    TooLarge {
        /// The path, escaped.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A symbolic link loop on the way to the input.
    #[error("`{path}`: too many levels of symbolic links")]
    SymlinkLoop {
        /// The path, escaped.
        path: String,
    },
    /// A locator that can not be followed.
    #[error("can not resolve `{locator}`: {reason}")]
    Resolve {
        /// The locator's text form.
        locator: String,
        /// Why.
        reason: String,
    },
}

impl UnpackError {
    /// Classifies an I/O error on `path`.
    pub fn io(path: &Path, source: io::Error) -> UnpackError {
        let path = display_path(path);
        match source.kind() {
            io::ErrorKind::NotFound => UnpackError::NotFound { path },
            _ if source.raw_os_error() == Some(libc::ELOOP) => UnpackError::SymlinkLoop { path },
            _ => UnpackError::Io { path, source },
        }
    }
}
