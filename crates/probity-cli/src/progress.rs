//! Progress on stderr: a bar for work longer than a moment, silent when stderr is not a terminal
//! or with `-q`; with `-v`, one line per phase with its duration.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use probity_unpack::Progress;

/// How long work runs before a bar appears: shorter scans print no bar at all.
const SHOW_AFTER: Duration = Duration::from_millis(400);

/// The CLI's progress reporter.
#[derive(Debug)]
pub struct Bar {
    bar: ProgressBar,
    /// Whether the bar may be drawn at all (stderr is a terminal and not `-q`).
    visible: bool,
    shown: AtomicBool,
    started: Instant,
    verbose: bool,
    current: Mutex<Option<(String, Instant)>>,
}

impl Bar {
    /// A reporter; `quiet` hides everything, `verbose` logs phases.
    pub fn new(quiet: bool, verbose: bool) -> Bar {
        let visible = !quiet && std::io::stderr().is_terminal();
        // The bar starts hidden and is attached to stderr once work has lasted SHOW_AFTER.
        Bar {
            bar: ProgressBar::hidden(),
            visible,
            shown: AtomicBool::new(false),
            started: Instant::now(),
            verbose: verbose && !quiet,
            current: Mutex::new(None),
        }
    }

    fn maybe_show(&self) {
        if self.visible
            && !self.shown.load(Ordering::Relaxed)
            && self.started.elapsed() >= SHOW_AFTER
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(10));
            self.bar.enable_steady_tick(Duration::from_millis(250));
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
        self.maybe_show();
    }

    fn advance(&self, n: u64) {
        self.bar.inc(n);
        self.maybe_show();
    }
}
