//! The `probity` binary: everything happens in `probity-cli`.

fn main() -> std::process::ExitCode {
    probity_cli::run()
}
