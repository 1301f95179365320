//! The key analyzer's parsers on arbitrary bytes: OpenPGP key packets never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use probity_analyze::analyzers::keys;

fuzz_target!(|data: &[u8]| {
    let _ = keys::pgp::key(data);
});
