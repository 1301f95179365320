//! The `pkcs7` format: probe and extraction on arbitrary bytes never panic and respect the budgets.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| probity_unpack::fuzzing::run_format("pkcs7", data));
