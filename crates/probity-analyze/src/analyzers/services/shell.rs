//! A shell-line tokenizer: enough of the POSIX shell grammar to read which programs a boot script
//! starts, with their arguments and where. It is not an interpreter.
//!
//! What it understands: words separated by blanks; single quotes (literal), double quotes (with
//! `\"`, `\\`, `\$`, `` \` `` escapes), backslash escapes outside quotes, line continuations
//! (`\` + newline), comments (`#` at the start of a word), and the operators that end a command:
//! newline, `;`, `&` (the command runs in the background), `&&`, `|`, `||`, `(`, `)`. `$(…)`,
//! `${…}` and backquoted substitutions are kept verbatim inside the word they belong to.
//! Redirections (`> file`, `2>&1`, `</dev/null`) are dropped with their target. Leading reserved
//! words (`if`, `then`, `do`, `{`, `!`, …) are dropped so that `then telnetd` reads as `telnetd`.
//!
//! Known limits (documented for analysts): no expansion of variables except the simple
//! assignments the script walker tracks itself; every line counts, whatever `if`/`case` branch or
//! function it sits in (a daemon started only in a `stop)` branch or in a function never called is
//! still reported); here-documents are read as commands; `case` labels (`start)`) and function
//! headers (`name()`) come out as one-word commands; `eval` and aliases are not followed.

/// Most commands read from one script.
pub const MAX_COMMANDS: usize = 100_000;
/// Most words kept per command (the rest are dropped).
pub const MAX_WORDS: usize = 256;
/// Most bytes kept per word (the rest are dropped).
pub const MAX_WORD: usize = 4096;

/// One simple command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The words, quotes removed.
    pub words: Vec<Vec<u8>>,
    /// Line of the first word (1-based).
    pub line: u32,
    /// Offset of the first byte of the first word.
    pub start: usize,
    /// Offset one past the last byte of the last word.
    pub end: usize,
    /// Whether the command ends with `&` (runs in the background).
    pub background: bool,
}

const RESERVED: &[&[u8]] = &[
    b"if",
    b"then",
    b"else",
    b"elif",
    b"fi",
    b"do",
    b"done",
    b"while",
    b"until",
    b"for",
    b"case",
    b"esac",
    b"{",
    b"}",
    b"!",
    b"function",
    b"in",
];

struct Builder {
    out: Vec<Command>,
    words: Vec<Vec<u8>>,
    word: Option<Vec<u8>>,
    line: u32,
    start: usize,
    end: usize,
    cmd_line: u32,
    skip_next_word: bool,
}

impl Builder {
    fn begin_word(&mut self, at: usize) {
        if self.word.is_none() {
            if self.words.is_empty() {
                self.start = at;
                self.cmd_line = self.line;
            }
            self.word = Some(Vec::new());
        }
    }

    fn push(&mut self, b: u8, at: usize) {
        self.begin_word(at);
        if let Some(w) = self.word.as_mut()
            && w.len() < MAX_WORD
        {
            w.push(b);
        }
        self.end = at + 1;
    }

    fn end_word(&mut self) {
        if let Some(w) = self.word.take() {
            if self.skip_next_word {
                self.skip_next_word = false;
            } else if self.words.len() < MAX_WORDS {
                self.words.push(w);
            }
        }
    }

    fn end_command(&mut self, background: bool) {
        self.end_word();
        self.skip_next_word = false;
        let mut words = std::mem::take(&mut self.words);
        let leading = words
            .iter()
            .take_while(|w| RESERVED.contains(&w.as_slice()))
            .count();
        words.drain(..leading);
        if !words.is_empty() && self.out.len() < MAX_COMMANDS {
            self.out.push(Command {
                words,
                line: self.cmd_line,
                start: self.start,
                end: self.end,
                background,
            });
        }
    }
}

/// Splits shell source into simple commands.
pub fn commands(src: &[u8]) -> Vec<Command> {
    let mut b = Builder {
        out: Vec::new(),
        words: Vec::new(),
        word: None,
        line: 1,
        start: 0,
        end: 0,
        cmd_line: 1,
        skip_next_word: false,
    };
    let mut i = 0;
    let at = |i: usize| src.get(i).copied();
    while let Some(c) = at(i) {
        if b.out.len() >= MAX_COMMANDS {
            break;
        }
        match c {
            b'\n' => {
                b.end_command(false);
                b.line = b.line.saturating_add(1);
                i += 1;
            }
            b' ' | b'\t' | b'\r' => {
                b.end_word();
                i += 1;
            }
            b'#' if b.word.is_none() => {
                while let Some(c) = at(i) {
                    if c == b'\n' {
                        break;
                    }
                    i += 1;
                }
            }
            b'\\' => {
                match at(i + 1) {
                    Some(b'\n') => b.line = b.line.saturating_add(1),
                    Some(n) => b.push(n, i + 1),
                    None => {}
                }
                i += 2;
            }
            b'\'' => {
                b.begin_word(i);
                i += 1;
                while let Some(c) = at(i) {
                    i += 1;
                    if c == b'\'' {
                        break;
                    }
                    if c == b'\n' {
                        b.line = b.line.saturating_add(1);
                    }
                    b.push(c, i - 1);
                }
                b.end = i;
            }
            b'"' => {
                b.begin_word(i);
                i += 1;
                while let Some(c) = at(i) {
                    i += 1;
                    match c {
                        b'"' => break,
                        b'\\' => match at(i) {
                            Some(n @ (b'"' | b'\\' | b'$' | b'`')) => {
                                b.push(n, i);
                                i += 1;
                            }
                            Some(b'\n') => {
                                b.line = b.line.saturating_add(1);
                                i += 1;
                            }
                            _ => b.push(b'\\', i - 1),
                        },
                        b'\n' => {
                            b.line = b.line.saturating_add(1);
                            b.push(c, i - 1);
                        }
                        _ => b.push(c, i - 1),
                    }
                }
                b.end = i;
            }
            b'$' if matches!(at(i + 1), Some(b'(' | b'{')) => {
                // A substitution, kept verbatim up to its matching bracket.
                let (open, close) = if at(i + 1) == Some(b'(') {
                    (b'(', b')')
                } else {
                    (b'{', b'}')
                };
                b.push(b'$', i);
                i += 1;
                let mut depth = 0u32;
                while let Some(c) = at(i) {
                    b.push(c, i);
                    i += 1;
                    if c == b'\n' {
                        b.line = b.line.saturating_add(1);
                    } else if c == open {
                        depth += 1;
                    } else if c == close {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            break;
                        }
                    }
                }
            }
            b'`' => {
                b.push(c, i);
                i += 1;
                while let Some(c) = at(i) {
                    b.push(c, i);
                    i += 1;
                    if c == b'\n' {
                        b.line = b.line.saturating_add(1);
                    } else if c == b'`' {
                        break;
                    }
                }
            }
            b'(' if b.words.len() + usize::from(b.word.is_some()) == 1
                && src
                    .get(i + 1..)
                    .is_some_and(|r| r.trim_ascii_start().starts_with(b")")) =>
            {
                // A function header `name()`: not a command.
                b.word = None;
                b.words.clear();
                i += 1;
            }
            b';' | b'(' | b')' => {
                b.end_command(false);
                i += 1;
            }
            b'|' => {
                b.end_command(false);
                i += if at(i + 1) == Some(b'|') { 2 } else { 1 };
            }
            b'&' => {
                if at(i + 1) == Some(b'&') {
                    b.end_command(false);
                    i += 2;
                } else {
                    b.end_command(true);
                    i += 1;
                }
            }
            b'>' | b'<' => {
                // A redirection: a word of digits right before it is the descriptor.
                if b.word.as_ref().is_some_and(|w| w.iter().all(u8::is_ascii_digit)) {
                    b.word = None;
                } else {
                    b.end_word();
                }
                i += 1;
                while matches!(at(i), Some(b'>' | b'<' | b'|')) {
                    i += 1;
                }
                if at(i) == Some(b'&') {
                    // `>&2`, `2>&1`, `>&-`: the target is part of the operator.
                    i += 1;
                    while matches!(at(i), Some(b'0'..=b'9' | b'-')) {
                        i += 1;
                    }
                } else {
                    b.skip_next_word = true;
                }
            }
            _ => {
                b.push(c, i);
                i += 1;
            }
        }
    }
    b.end_command(false);
    b.out
}

/// The byte range of the whole lines `[start, end)` touches (without the final newline).
pub fn line_span(src: &[u8], start: usize, end: usize) -> (usize, usize) {
    let start = start.min(src.len());
    let end = end.clamp(start, src.len());
    let first = src
        .get(..start)
        .and_then(|s| s.iter().rposition(|&c| c == b'\n'))
        .map_or(0, |p| p + 1);
    let last = src
        .get(end..)
        .and_then(|s| s.iter().position(|&c| c == b'\n'))
        .map_or(src.len(), |p| end + p);
    // A command may end right after a newline it swallowed (a continuation): trim trailing ones.
    let mut last = last;
    while last > first && matches!(src.get(last - 1), Some(b'\n' | b'\r')) {
        last -= 1;
    }
    (first, last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(src: &str) -> Vec<(Vec<String>, u32, bool)> {
        commands(src.as_bytes())
            .into_iter()
            .map(|c| {
                (
                    c.words
                        .iter()
                        .map(|w| String::from_utf8_lossy(w).into_owned())
                        .collect(),
                    c.line,
                    c.background,
                )
            })
            .collect()
    }

    fn w(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn operators_quotes_and_comments() {
        let got = words(
            "#!/bin/sh\n\
             telnetd -l /bin/sh -p 2323 &  # backdoor\n\
             a 'b c' \"d \\\"e\\\"\" f\\ g; h && i || j | k\n\
             x \\\n  y >/dev/null 2>&1 </dev/null\n\
             if [ -x /bin/foo ]; then /bin/foo -d; fi\n\
             v=$(cat /x; echo) w `q r` ${A:-b c}\n\
             start_httpd() { httpd -p 8080; }\n",
        );
        assert_eq!(
            got,
            vec![
                (w(&["telnetd", "-l", "/bin/sh", "-p", "2323"]), 2, true),
                (w(&["a", "b c", "d \"e\"", "f g"]), 3, false),
                (w(&["h"]), 3, false),
                (w(&["i"]), 3, false),
                (w(&["j"]), 3, false),
                (w(&["k"]), 3, false),
                (w(&["x", "y"]), 4, false),
                (w(&["[", "-x", "/bin/foo", "]"]), 6, false),
                (w(&["/bin/foo", "-d"]), 6, false),
                (w(&["v=$(cat /x; echo)", "w", "`q r`", "${A:-b c}"]), 7, false),
                (w(&["httpd", "-p", "8080"]), 8, false),
            ]
        );
    }

    #[test]
    fn offsets_and_line_spans() {
        let src = b"echo a\n  httpd -p 80 &\nlast";
        let c = commands(src);
        assert_eq!((c[1].start, c[1].end), (9, 20));
        assert_eq!(line_span(src, c[1].start, c[1].end), (7, 22));
        assert_eq!(&src[7..22], b"  httpd -p 80 &");
        assert_eq!(line_span(src, c[2].start, c[2].end), (23, 27));
    }

    #[test]
    fn hostile_input_is_bounded() {
        let huge = vec![b'a'; 1 << 20];
        let c = commands(&huge);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].words[0].len(), MAX_WORD);
        let many = "a ".repeat(10_000);
        assert_eq!(commands(many.as_bytes())[0].words.len(), MAX_WORDS);
        let lines = ";".repeat(10) + &"x\n".repeat(MAX_COMMANDS + 5);
        assert_eq!(commands(lines.as_bytes()).len(), MAX_COMMANDS);
        // Unterminated quotes and substitutions, invalid UTF-8.
        for s in [
            &b"'abc"[..],
            b"\"abc\\",
            b"$(((",
            b"`x",
            b"\xff\xfe telnetd \xc3",
            b"\\",
            b">",
        ] {
            let _ = commands(s);
        }
        assert_eq!(commands(b"\xff\xfe telnetd")[0].words[1], b"telnetd");
    }
}
