//! Member paths from a report are confined: resolution never leaves the root.
#![no_main]

use std::path::{Component, Path};

use libfuzzer_sys::fuzz_target;
use probity_unpack::resolve::confined_path;

fuzz_target!(|data: &[u8]| {
    let root = Path::new("/nonexistent-probity-fuzz-root");
    if let Ok(p) = confined_path(root, data) {
        let rest = p.strip_prefix(root).expect("stays under the root");
        assert!(rest.components().all(|c| matches!(c, Component::Normal(_))), "{p:?}");
    }
});
