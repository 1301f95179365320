//! The text report: what a person needs in ten seconds. Input identity, findings by severity, the
//! most severe findings with where they are, the inventory of who can get in (accounts, services,
//! keys: [`crate::text_inventory`]), coverage, and problems. Everything that came from the
//! input is escaped, so a hostile file name can not rewrite the terminal.

use std::io::{self, Write};

use probity_model::{EntropyClass, EvidenceKind, InputKind, Report, Severity};

use crate::human::{bytes, count, thousands};

/// How to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextOptions {
    /// Use ANSI colours.
    pub color: bool,
    /// Show at most this many findings (the rest are counted).
    pub max_findings: usize,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            color: false,
            max_findings: 20,
        }
    }
}

fn paint(on: bool, code: &str, text: &str) -> String {
    if on {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    }
}

/// One container's accounting: "97.3% of 4,063,744 bytes explained by 2 structures; unexplained:
/// 64.0 KiB 0xFF padding, 2 opaque regions (96.0 KiB, entropy up to 7.98)".
pub fn container_line(cc: &probity_model::ContainerCoverage) -> String {
    let pct = if cc.size == 0 {
        100.0
    } else {
        cc.explained_bytes as f64 * 100.0 / cc.size as f64
    };
    let mut parts = Vec::new();
    for (class, label) in [
        (EntropyClass::FfPadding, "0xFF padding"),
        (EntropyClass::ZeroPadding, "zero padding"),
        (EntropyClass::Text, "text"),
    ] {
        let n: u64 = cc
            .unexplained
            .iter()
            .filter(|r| r.class == class)
            .map(|r| r.length)
            .sum();
        if n > 0 {
            parts.push(format!("{} {label}", bytes(n)));
        }
    }
    for (class, one, many) in [
        (
            EntropyClass::CompressedOrEncrypted,
            "opaque region",
            "opaque regions",
        ),
        (EntropyClass::Other, "unrecognised region", "unrecognised regions"),
    ] {
        let regions: Vec<_> = cc.unexplained.iter().filter(|r| r.class == class).collect();
        if !regions.is_empty() {
            let n: u64 = regions.iter().map(|r| r.length).sum();
            let e = regions.iter().map(|r| r.entropy).fold(0.0, f64::max);
            parts.push(format!(
                "{} ({}, entropy up to {e:.2})",
                count(regions.len() as u64, one, many),
                bytes(n)
            ));
        }
    }
    format!(
        "{pct:.1}% of {} bytes explained by {}{}",
        thousands(cc.size),
        count(cc.structures.len() as u64, "structure", "structures"),
        if parts.is_empty() {
            String::new()
        } else {
            format!("; unexplained: {}", parts.join(", "))
        }
    )
}

/// Writes the text report.
pub fn write(report: &Report, opts: &TextOptions, out: &mut dyn Write) -> io::Result<()> {
    let c = opts.color;
    let input = &report.input;
    let kind = match input.kind {
        InputKind::File => "file",
        InputKind::Directory => "directory",
    };
    writeln!(
        out,
        "{} {} · {} ({kind}, {})",
        paint(c, "1", "Probity"),
        report.tool.version,
        paint(c, "1", &input.name.escaped()),
        bytes(input.size)
    )?;
    writeln!(out, "  sha256 {}", input.sha256)?;
    writeln!(
        out,
        "  rules  {} ({})",
        report.ruleset.version,
        report.ruleset.sha256.short(12)
    )?;
    if let Some(ts) = &report.timestamp {
        writeln!(out, "  time   {ts}")?;
    }
    writeln!(out)?;

    let s = &report.summary.by_severity;
    let parts: Vec<String> = Severity::ALL
        .iter()
        .map(|sev| {
            let n = s.get(*sev);
            let text = format!("{n} {sev}");
            if n > 0 {
                paint(c, severity_color(*sev), &text)
            } else {
                text
            }
        })
        .collect();
    writeln!(
        out,
        "{}: {}",
        paint(c, "1", &count(report.summary.findings, "finding", "findings")),
        parts.join(", ")
    )?;
    for f in report.findings.iter().take(opts.max_findings) {
        writeln!(out)?;
        let sev = format!("{:<8}", f.severity.as_str().to_uppercase());
        writeln!(
            out,
            "  {} {}  {} [{}]",
            paint(c, severity_color(f.severity), &sev),
            f.rule_id,
            f.title,
            f.confidence
        )?;
        for loc in f.locations.iter().take(3) {
            writeln!(out, "           at {loc}")?;
        }
        if f.locations.len() > 3 {
            writeln!(
                out,
                "           and {} more places with the same content",
                f.locations.len() - 3
            )?;
        }
        writeln!(
            out,
            "           {}",
            probity_model::text::escape(f.message.as_bytes())
        )?;
        if let Some(e) = f.evidence.first() {
            let quote = match &e.kind {
                EvidenceKind::String { value, .. } => format!("string \"{}\"", value.escaped()),
                EvidenceKind::Bytes { hex, truncated } => {
                    format!("bytes {hex}{}", if *truncated { "…" } else { "" })
                }
                EvidenceKind::Lines {
                    first_line, excerpt, ..
                } => format!("line {first_line}: {}", excerpt.escaped()),
                EvidenceKind::Record { format, .. } => format!("{format} record"),
                EvidenceKind::Disassembly { address, .. } => format!("code at {address:#x}"),
                EvidenceKind::Absence { searched_for, .. } => format!("absent: {searched_for}"),
                _ => "evidence".to_string(),
            };
            let at = e
                .region
                .map(|r| format!(" @{:#x}+{}", r.offset, r.length))
                .unwrap_or_default();
            writeln!(out, "           evidence: {quote}{at}")?;
        }
    }
    if report.findings.len() > opts.max_findings {
        writeln!(
            out,
            "\n  … and {} more (see --format json)",
            report.findings.len() - opts.max_findings
        )?;
    }
    writeln!(out)?;

    crate::text_inventory::write(report, &|h| paint(c, "1", h), out)?;
    let cov = &report.coverage;
    writeln!(
        out,
        "{}: {} of {} analysed ({} of distinct content){}{}{}",
        paint(c, "1", "Coverage"),
        thousands(cov.files_analysed + cov.files_duplicate),
        count(cov.files, "file", "files"),
        bytes(cov.bytes_analysed),
        if cov.files_duplicate > 0 {
            format!(
                "; {} identical to another, analysed once",
                thousands(cov.files_duplicate)
            )
        } else {
            String::new()
        },
        if cov.files_not_read > 0 {
            format!("; {} not read", thousands(cov.files_not_read))
        } else {
            String::new()
        },
        if cov.special_files > 0 {
            format!(
                "; {} recorded, never opened",
                count(cov.special_files, "special file", "special files")
            )
        } else {
            String::new()
        },
    )?;
    for nr in cov.not_read.iter().take(5) {
        let loc = report
            .locator_of(nr.artifact)
            .map(|l| l.to_string())
            .unwrap_or_default();
        writeln!(
            out,
            "  not read: {loc}: {}",
            probity_model::text::escape(nr.reason.as_bytes())
        )?;
    }
    if cov.not_read.len() > 5 {
        writeln!(out, "  … and {} more not read", cov.not_read.len() - 5)?;
    }
    // The input's own accounting, then any other container with bytes that are neither padding
    // nor explained (at most six lines).
    let interesting = |cc: &&probity_model::ContainerCoverage| {
        cc.artifact.0 == 0
            || cc
                .unexplained
                .iter()
                .any(|r| !matches!(r.class, EntropyClass::ZeroPadding | EntropyClass::FfPadding))
    };
    let shown: Vec<_> = cov.containers.iter().filter(interesting).collect();
    for cc in shown.iter().take(6) {
        let loc = report
            .locator_of(cc.artifact)
            .map(|l| l.to_string())
            .unwrap_or_default();
        writeln!(out, "  {loc}: {}", container_line(cc))?;
    }
    if shown.len() > 6 {
        writeln!(
            out,
            "  … and {} more containers with unexplained bytes (see --format json)",
            shown.len() - 6
        )?;
    }

    writeln!(
        out,
        "{}: {}",
        paint(c, "1", "Problems"),
        thousands(report.problems.len() as u64)
    )?;
    for p in report.problems.iter().take(10) {
        let loc = p
            .artifact
            .and_then(|a| report.locator_of(a))
            .map(|l| format!("{l}: "))
            .unwrap_or_default();
        writeln!(
            out,
            "  {}: {loc}{}",
            p.source,
            probity_model::text::escape(p.message.as_bytes())
        )?;
    }
    if report.problems.len() > 10 {
        writeln!(
            out,
            "  … and {} more (see --format json)",
            report.problems.len() - 10
        )?;
    }
    Ok(())
}
