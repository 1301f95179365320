//! The key analyzer's parsers on arbitrary bytes: PEM / armor blocks found anywhere, and what their bodies decode to never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use probity_analyze::analyzers::keys;

fuzz_target!(|data: &[u8]| {
    for b in keys::pem::blocks(data) { let _ = keys::find_all(&b.der); }
});
