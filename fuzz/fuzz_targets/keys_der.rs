//! The key analyzer's parsers on arbitrary bytes: DER structures (X.509, PKCS#1/#8, SEC1, PKCS#12, PKCS#7) and the whole-content scan never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use probity_analyze::analyzers::keys;

fuzz_target!(|data: &[u8]| {
    let _ = keys::der::certificate(data); let _ = keys::der::pkcs8_private(data); let _ = keys::der::sec1_private(data, None); let _ = keys::store::pkcs12(data); let _ = keys::store::pkcs7_certificates(data); let _ = keys::find_all(data);
});
