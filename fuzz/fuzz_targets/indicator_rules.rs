//! The indicator rule file parser refuses bad rule data with an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use probity_analyze::analyzers::indicators::Indicators;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Indicators::from_toml("fuzz.toml", text);
    }
});
