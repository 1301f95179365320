//! Probity's command line: parses arguments, runs the command, renders progress and picks the
//! exit code (0 clean, 1 findings at or above `--fail-on` or a failed verification, 2 usage or
//! fatal error). The binary crate only calls [`run`].

mod args;
mod cmd_rules;
mod cmd_scan;
mod cmd_unpack;
mod cmd_verify;
mod progress;
mod size;
mod time;

use std::io::{self, IsTerminal};
use std::process::ExitCode;

use clap::Parser;

pub use args::Cli;
use args::{ColorChoice, Command};

/// Exit status: everything fine.
pub const EXIT_OK: u8 = 0;
/// Exit status: findings at or above `--fail-on`, or verification failed.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit status: bad usage or a fatal error.
pub const EXIT_ERROR: u8 = 2;

/// Runs the command line and returns the exit status.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with status 0; usage errors to stderr with 2.
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match &cli.command {
        Command::Scan(a) => cmd_scan::run(&cli, a),
        Command::Unpack(a) => cmd_unpack::run(&cli, a),
        Command::Verify(a) => cmd_verify::run(&cli, a),
        Command::Rules { command } => cmd_rules::run(&cli, command),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // A closed pipe (`probity … | head`) is not an error.
            if err.chain().any(|c| {
                c.downcast_ref::<io::Error>()
                    .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::from(EXIT_OK);
            }
            let chain: Vec<String> = err.chain().map(|c| c.to_string()).collect();
            eprintln!("probity: error: {}", chain.join(": "));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Whether to colour text written to stdout.
pub(crate) fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && io::stdout().is_terminal()
        }
    }
}
