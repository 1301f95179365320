//! The whole unpacking engine on arbitrary bytes: signature scan, every format, recursion.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| probity_unpack::fuzzing::run_engine(data));
