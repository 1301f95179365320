//! `probity rules list|explain`.

use std::io::{self, Write};

use anyhow::{Result, bail};
use probity_analyze::all_rules;

use crate::EXIT_OK;
use crate::args::{Cli, ListFormat, RulesCommand};

pub fn run(_cli: &Cli, cmd: &RulesCommand) -> Result<u8> {
    let rules = all_rules()?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match cmd {
        RulesCommand::List {
            format: ListFormat::Json,
        } => {
            serde_json::to_writer_pretty(&mut out, &rules)?;
            writeln!(out)?;
        }
        RulesCommand::List {
            format: ListFormat::Text,
        } => {
            for r in &rules {
                writeln!(out, "{}  {:<8}  {}", r.id, r.severity, r.title)?;
            }
            writeln!(
                out,
                "\n{} rules; `probity rules explain ID` documents one.",
                rules.len()
            )?;
        }
        RulesCommand::Explain { id } => {
            let Some(r) = rules.iter().find(|r| r.id.as_str() == id.as_str()) else {
                bail!("no rule `{id}` (see `probity rules list`)");
            };
            let d = &r.doc;
            writeln!(out, "{} {}: {}", r.id, r.name, r.title)?;
            writeln!(
                out,
                "severity {}, confidence {}, analyzer `{}`",
                r.severity, r.confidence, r.analyzer
            )?;
            let ids: Vec<&String> = r.cwe.iter().chain(&r.cve).collect();
            if !ids.is_empty() {
                writeln!(
                    out,
                    "{}",
                    ids.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                )?;
            }
            for (heading, body) in [
                ("What it detects", &d.detects),
                ("Why it matters", &d.why),
                ("How it works", &d.how),
                ("Known false positives", &d.false_positives),
                ("Known false negatives", &d.false_negatives),
                ("Example", &d.example),
                ("Remediation", &r.remediation),
            ] {
                writeln!(out, "\n{heading}\n  {body}")?;
            }
            writeln!(out, "\nReferences")?;
            for u in &r.references {
                writeln!(out, "  {u}")?;
            }
        }
    }
    out.flush()?;
    Ok(EXIT_OK)
}
