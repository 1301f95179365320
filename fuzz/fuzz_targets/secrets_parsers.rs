//! The secrets analyzer's parsers on arbitrary bytes: configuration assignments and script command
//! lines never panic, values lie inside their line, and token spans and executable string pairs
//! lie inside the data, in order.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use probity_analyze::analyzers::secrets::{Secrets, assignments, binary_credentials, command_line_credentials};

fn analyzer() -> &'static Secrets {
    static A: OnceLock<Secrets> = OnceLock::new();
    A.get_or_init(|| Secrets::new().unwrap())
}

fuzz_target!(|data: &[u8]| {
    for line in data.split(|&b| b == b'\n').take(1000) {
        for (_, value) in assignments(line) {
            let inside = line.as_ptr_range();
            assert!(value.is_empty() || inside.contains(&value.as_ptr()));
        }
        let _ = command_line_credentials(line);
    }
    let spans = analyzer().token_spans(data);
    assert!(spans.iter().all(|&(s, e, _)| s < e && e <= data.len()));
    assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0));
    for (offset, _, password) in binary_credentials(data) {
        assert!(offset + password.len() <= data.len());
    }
});
