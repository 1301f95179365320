//! Escaping of input bytes for terminals and locator tokens is lossless and never emits a raw
//! control character.
#![no_main]

use libfuzzer_sys::fuzz_target;
use probity_model::locator::escape_token;
use probity_model::text::{escape, unescape};

fuzz_target!(|data: &[u8]| {
    let e = escape(data);
    assert!(!e.chars().any(|c| c.is_control()), "raw control character in {e:?}");
    assert_eq!(unescape(&e).as_deref(), Some(data));
    let t = escape_token(data);
    assert!(!t.contains(' ') && !t.is_empty());
    assert_eq!(unescape(&t).as_deref(), Some(data));
    let _ = unescape(std::str::from_utf8(data).unwrap_or_default());
});
