//! inetd.conf and xinetd parsing: bounded, and every location inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use probity_analyze::analyzers::services::units::{MAX_ENTRIES, parse_inetd, parse_xinetd};
use probity_analyze::analyzers::services::walk::port_by_name;

fuzz_target!(|data: &[u8]| {
    let e = parse_inetd(data);
    assert!(e.len() <= MAX_ENTRIES);
    for x in &e {
        assert!(x.at.offset + x.at.length <= data.len());
        let _ = port_by_name(Some(data), &x.service, "tcp");
    }
    let x = parse_xinetd(data);
    assert!(x.len() <= MAX_ENTRIES);
    for s in x {
        assert!(!s.server.is_empty());
        if let Some(at) = s.server_at {
            assert!(at.offset + at.length <= data.len());
        }
    }
});
