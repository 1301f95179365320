//! `probity scan`.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result};
use probity_analyze::{AnalysisOptions, RuleFilter, ScanOptions, scan};
use probity_model::{Report, Severity};
use probity_report::{human, json, sarif, text};

use crate::args::{Cli, Format, ScanArgs};
use crate::progress::Bar;
use crate::{EXIT_FINDINGS, EXIT_OK};

pub fn run(cli: &Cli, a: &ScanArgs) -> Result<u8> {
    // Files named on the command line are checked now: a typo is a usage error, not a problem
    // buried in the report.
    for (flag, path) in [("--wordlist", &a.wordlist), ("--known-keys", &a.known_keys)] {
        if let Some(p) = path {
            fs::File::open(p).with_context(|| {
                format!(
                    "{flag}: can not open `{}`",
                    probity_unpack::error::display_path(p)
                )
            })?;
        }
    }
    if let Some(p) = &a.known_keys {
        let shown = probity_unpack::error::display_path(p);
        let text = fs::read(p).with_context(|| format!("--known-keys: can not read `{shown}`"))?;
        probity_analyze::analyzers::keys::parse_known_keys(&String::from_utf8_lossy(&text))
            .map_err(|e| anyhow::anyhow!("--known-keys `{shown}`: {e}"))?;
    }
    // A word list past the bounds the accounts analyzer reads is refused now, not cut silently.
    if let Some(p) = &a.wordlist {
        probity_analyze::analyzers::accounts::read_wordlist(p).map_err(anyhow::Error::msg)?;
    }
    let opts = ScanOptions {
        limits: a.limits.limits(),
        rules: RuleFilter::excluding(&a.exclude_rules)?,
        timestamp: a.timestamp.then(crate::time::now_rfc3339),
        analysis: AnalysisOptions {
            wordlist: a.wordlist.clone(),
            known_keys: a.known_keys.clone(),
        },
    };
    let bar = Bar::new(cli.quiet, cli.verbose > 0);
    let report = scan(&a.path, &opts, &bar);
    bar.finish();
    let report =
        report.with_context(|| format!("can not scan `{}`", probity_unpack::error::display_path(&a.path)))?;

    let color = a.output.is_none() && crate::use_color(cli.color);
    match &a.output {
        Some(path) => write_atomically(path, |w| render(&report, a.format, color, w))?,
        None => {
            // Stdout is line-buffered: a report of many lines goes through a larger buffer.
            let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
            render(&report, a.format, color, &mut out)?;
            out.flush()?;
        }
    }
    if !cli.quiet && (a.output.is_some() || a.format != Format::Text) {
        eprintln!("probity: {}", one_line_summary(&report, a.output.as_deref()));
    }
    let threshold: Option<Severity> = a.fail_on.map(Into::into);
    Ok(match (threshold, report.max_severity()) {
        (Some(t), Some(max)) if max >= t => EXIT_FINDINGS,
        _ => EXIT_OK,
    })
}

fn render(report: &Report, format: Format, color: bool, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => text::write(
            report,
            &text::TextOptions {
                color,
                ..Default::default()
            },
            out,
        ),
        Format::Json => json::write(report, out),
        Format::Sarif => sarif::write(report, out),
    }
}

/// Writes to `FILE.tmp` and renames, so an interrupted run never leaves a truncated report.
fn write_atomically(path: &Path, body: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<()> {
    let shown = probity_unpack::error::display_path(path);
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = Path::new(&tmp_name);
    let file = fs::File::create(tmp).with_context(|| format!("can not create `{shown}.tmp`"))?;
    let mut w = io::BufWriter::new(file);
    body(&mut w)
        .and_then(|()| w.flush())
        .with_context(|| format!("can not write `{shown}.tmp`"))?;
    drop(w);
    fs::rename(tmp, path).with_context(|| format!("can not rename `{shown}.tmp` to `{shown}`"))?;
    Ok(())
}

fn one_line_summary(report: &Report, output: Option<&Path>) -> String {
    let s = &report.summary.by_severity;
    let parts: Vec<String> = Severity::ALL
        .iter()
        .filter(|sev| s.get(**sev) > 0)
        .map(|sev| format!("{} {sev}", s.get(*sev)))
        .collect();
    let counts = if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    };
    let dest = output
        .map(|p| format!("wrote `{}`: ", probity_unpack::error::display_path(p)))
        .unwrap_or_default();
    format!(
        "{dest}{}{counts}, {} analysed, {}",
        human::count(report.summary.findings, "finding", "findings"),
        human::count(
            report.coverage.files_analysed + report.coverage.files_duplicate,
            "file",
            "files"
        ),
        human::count(report.summary.problems, "problem", "problems"),
    )
}
