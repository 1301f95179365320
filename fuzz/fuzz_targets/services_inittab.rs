//! inittab parsing: entries lie inside the input, the process field where the entry says.
#![no_main]

use libfuzzer_sys::fuzz_target;
use probity_analyze::analyzers::services::inittab::{MAX_ENTRIES, parse};

fuzz_target!(|data: &[u8]| {
    let entries = parse(data);
    assert!(entries.len() <= MAX_ENTRIES);
    for e in entries {
        let line = &data[e.offset..e.offset + e.length];
        assert!(!line.contains(&b'\n'));
        assert!(e.process_offset >= e.offset && e.process_offset <= e.offset + e.length);
        assert!(line.ends_with(&e.process) || line.ends_with(b"\r"));
    }
});
