//! Progress on stderr: a bar for work longer than a moment, silent when stderr is not a terminal
//! or with `-q`; with `-v`, one line per phase with its duration.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use probity_unpack::Progress;

/// The CLI's progress reporter.
#[derive(Debug)]
pub struct Bar {
    bar: ProgressBar,
    verbose: bool,
    current: Mutex<Option<(String, Instant)>>,
}

impl Bar {
    /// A reporter; `quiet` hides everything, `verbose` logs phases.
    pub fn new(quiet: bool, verbose: bool) -> Bar {
        let visible = !quiet && std::io::stderr().is_terminal();
        let bar = if visible {
            let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10));
            // Nothing is drawn for work that finishes within a moment.
            b.enable_steady_tick(Duration::from_millis(250));
            b
        } else {
            ProgressBar::hidden()
        };
        Bar {
            bar,
            verbose: verbose && !quiet,
            current: Mutex::new(None),
        }
    }

    fn log_end(&self) {
        if let Ok(mut cur) = self.current.lock()
            && let Some((name, start)) = cur.take()
            && self.verbose
        {
            self.bar
                .suspend(|| eprintln!("probity: {name} done in {:.2}s", start.elapsed().as_secs_f64()));
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.log_end();
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn phase(&self, name: &str, total: Option<u64>) {
        self.log_end();
        if let Ok(mut cur) = self.current.lock() {
            *cur = Some((name.to_string(), Instant::now()));
        }
        match total {
            Some(t) => {
                self.bar.set_style(
                    ProgressStyle::with_template(
                        "{msg:>10} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                self.bar.set_length(t);
                self.bar.set_position(0);
            }
            None => {
                self.bar.set_style(
                    ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
            }
        }
        self.bar.set_message(name.to_string());
    }

    fn advance(&self, n: u64) {
        self.bar.inc(n);
    }
}
