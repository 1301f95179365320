//! `probity verify`.

use std::fs;

use anyhow::{Context, Result, anyhow};
use probity_report::{human, json, verify};

use crate::args::{Cli, VerifyArgs};
use crate::{EXIT_FINDINGS, EXIT_OK};

pub fn run(cli: &Cli, a: &VerifyArgs) -> Result<u8> {
    let shown = probity_unpack::error::display_path(&a.report);
    let text = fs::read(&a.report).with_context(|| format!("can not read `{shown}`"))?;
    let report = json::read(&text).map_err(|e| anyhow!("`{shown}`: {e}"))?;
    let v = verify::verify(&report, &a.path);
    let mut lines = Vec::new();
    if let Some(err) = &v.input_error {
        lines.push(format!("input: {err}"));
    } else if v.input_expected != v.input_actual {
        lines.push(format!(
            "input: SHA-256 is {}, the report says {}",
            v.input_actual.map(|d| d.to_hex()).unwrap_or_default(),
            v.input_expected.map(|d| d.to_hex()).unwrap_or_default()
        ));
    }
    for f in &v.failures {
        lines.push(format!(
            "FAILED finding {} {} (fingerprint {}): {}",
            f.finding + 1,
            f.rule_id,
            f.fingerprint,
            probity_model::text::escape(f.reason.as_bytes())
        ));
    }
    let summary = format!(
        "{}, {} verified{}",
        human::count(v.findings_verified, "finding", "findings"),
        human::count(v.evidence_verified, "evidence item", "evidence items"),
        if v.evidence_unverifiable > 0 {
            format!(" ({} with nothing to re-check)", v.evidence_unverifiable)
        } else {
            String::new()
        }
    );
    if !cli.quiet {
        for l in &lines {
            println!("{l}");
        }
        if v.ok() {
            println!("{summary}");
        } else {
            println!(
                "verification failed: {summary}; {} failed",
                human::count(v.failures.len() as u64, "finding", "findings")
            );
        }
    }
    Ok(if v.ok() { EXIT_OK } else { EXIT_FINDINGS })
}
