//! The key analyzer's parsers on arbitrary bytes: Java KeyStore (JKS) files never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use probity_analyze::analyzers::keys;

fuzz_target!(|data: &[u8]| {
    let _ = keys::store::jks(data);
});
