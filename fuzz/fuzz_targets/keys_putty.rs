//! The key analyzer's parsers on arbitrary bytes: PuTTY `.ppk` key files never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use probity_analyze::analyzers::keys;

fuzz_target!(|data: &[u8]| {
    let _ = keys::ssh::putty(data);
});
