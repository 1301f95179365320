//! The accounts analyzer's record parsing and hash identification never panic, and every record
//! they return is quoted exactly from the input at its offset.
#![no_main]

use libfuzzer_sys::fuzz_target;
use probity_analyze::analyzers::accounts::parse::{DbKind, identify, parse_db, scan_embedded};

fuzz_target!(|data: &[u8]| {
    for kind in [DbKind::Passwd, DbKind::Shadow, DbKind::Group, DbKind::Htpasswd, DbKind::Config] {
        for r in parse_db(data, kind) {
            assert_eq!(data.get(r.offset..r.offset + r.raw.len()), Some(r.raw.as_slice()));
            let _ = identify(r.password());
        }
    }
    for r in scan_embedded(data, &|_, _| false) {
        assert_eq!(data.get(r.offset..r.offset + r.raw.len()), Some(r.raw.as_slice()));
    }
    let _ = identify(data);
});
