//! systemd unit parsing: every ExecStart lies on the line it names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use probity_analyze::analyzers::services::units::{MAX_ENTRIES, parse_systemd};

fuzz_target!(|data: &[u8]| {
    let e = parse_systemd(data);
    assert!(e.len() <= MAX_ENTRIES);
    for x in e {
        let line = &data[x.at.offset..x.at.offset + x.at.length];
        assert!(!x.command.is_empty());
        assert!(line.windows(x.command.len()).any(|w| w == x.command.as_slice()));
    }
});
