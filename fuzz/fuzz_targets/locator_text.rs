//! The text form of locators: any text parses or is refused, and what parses prints back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use probity_model::Locator;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(loc) = text.parse::<Locator>() {
        let printed = loc.to_string();
        let again: Locator = printed.parse().expect("a printed locator parses");
        assert_eq!(again, loc, "round trip of {printed:?}");
    }
});
