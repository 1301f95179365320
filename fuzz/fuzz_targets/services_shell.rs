//! The boot-script shell tokenizer: bounded output, offsets inside the input, line spans that
//! cover the command.
#![no_main]

use libfuzzer_sys::fuzz_target;
use probity_analyze::analyzers::services::shell::{MAX_COMMANDS, MAX_WORD, MAX_WORDS, commands, line_span};

fuzz_target!(|data: &[u8]| {
    let cmds = commands(data);
    assert!(cmds.len() <= MAX_COMMANDS);
    let mut last_line = 0;
    for c in &cmds {
        assert!(!c.words.is_empty() && c.words.len() <= MAX_WORDS);
        assert!(c.words.iter().all(|w| w.len() <= MAX_WORD));
        assert!(c.start <= c.end && c.end <= data.len());
        assert!(c.line >= last_line);
        last_line = c.line;
        let (a, b) = line_span(data, c.start, c.end);
        assert!(a <= c.start && b <= data.len() && a <= b);
    }
});
