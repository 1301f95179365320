//! The indicator pass over arbitrary content: offsets it reports always hold the pattern.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use probity_analyze::analyzers::indicators::{Indicators, MAX_EVIDENCE};

fn analyzer() -> &'static Indicators {
    static A: OnceLock<Indicators> = OnceLock::new();
    A.get_or_init(|| {
        let f = probity_analyze::rules::rule_file("indicators.toml").unwrap();
        Indicators::from_toml(f.name, f.text).unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    for (_, (count, starts)) in analyzer().hits(data, &|_, _| false) {
        assert!(count >= starts.len() as u64 && starts.len() <= MAX_EVIDENCE);
        assert!(starts.windows(2).all(|w| w[0] < w[1]));
        assert!(starts.iter().all(|&s| s < data.len()));
    }
});
