//! The inventory part of the text report: who can get in. Accounts, services started at boot, and
//! keys and certificates, as short tables (at most [`MAX_ROWS`] rows each; the JSON report has
//! them all). Everything from the input is escaped.

use std::io::{self, Write};

use probity_model::text::escape;
use probity_model::{ByteString, PasswordState, Report};

/// Rows shown per table.
pub const MAX_ROWS: usize = 25;

fn show(b: &ByteString) -> String {
    escape(b.as_bytes())
}

/// Text from a report (which may have been read back from anywhere), escaped for a terminal.
fn e(s: &str) -> String {
    escape(s.as_bytes())
}

fn more(out: &mut dyn Write, total: usize) -> io::Result<()> {
    if total > MAX_ROWS {
        writeln!(out, "  … and {} more (see --format json)", total - MAX_ROWS)?;
    }
    Ok(())
}

/// Writes the accounts, services and keys tables; nothing when the inventory has none of them.
pub fn write(report: &Report, heading: &dyn Fn(&str) -> String, out: &mut dyn Write) -> io::Result<()> {
    let inv = &report.inventory;
    if !inv.accounts.is_empty() {
        writeln!(out, "{}: {}", heading("Accounts"), inv.accounts.len())?;
        writeln!(
            out,
            "  {:<16} {:>6} {:<10} {:<14} {:<18} where",
            "name", "uid", "password", "hash", "shell"
        )?;
        for a in inv.accounts.iter().take(MAX_ROWS) {
            let password = match a.password {
                PasswordState::Empty => "EMPTY",
                PasswordState::Locked => "locked",
                PasswordState::Hash if a.recovered => "RECOVERED",
                PasswordState::Hash => "hash",
                PasswordState::Plaintext => "PLAINTEXT",
                PasswordState::Elsewhere => "elsewhere",
                PasswordState::Unknown => "unknown",
            };
            writeln!(
                out,
                "  {:<16} {:>6} {:<10} {:<14} {:<18} {}:{}",
                show(&a.name),
                a.uid.map(|u| u.to_string()).unwrap_or_else(|| "-".into()),
                password,
                e(a.hash_type.as_deref().unwrap_or("-")),
                a.shell.as_ref().map(show).unwrap_or_else(|| "-".into()),
                a.locations.first().map(|l| l.to_string()).unwrap_or_default(),
                a.line,
            )?;
        }
        more(out, inv.accounts.len())?;
    }
    if !inv.services.is_empty() {
        writeln!(out, "{}: {}", heading("Services at boot"), inv.services.len())?;
        for s in inv.services.iter().take(MAX_ROWS) {
            let args: Vec<String> = s.arguments.iter().map(show).collect();
            let port = match (s.port, &s.protocol) {
                (Some(p), Some(proto)) => format!(" port {p}/{proto}"),
                (Some(p), None) => format!(" port {p}"),
                _ => String::new(),
            };
            writeln!(
                out,
                "  {}{}{port}, authentication {}{} ({} at {}:{})",
                show(&s.binary),
                args.iter().map(|a| format!(" {a}")).collect::<String>(),
                e(&s.authentication),
                s.class
                    .as_deref()
                    .map(|c| format!(", {}", e(c)))
                    .unwrap_or_default()
                    + &s.details
                        .iter()
                        .map(|d| format!(", {} {}", e(&d.name), show(&d.value)))
                        .collect::<String>(),
                e(&s.started_by),
                s.locations.first().map(|l| l.to_string()).unwrap_or_default(),
                s.line,
            )?;
        }
        more(out, inv.services.len())?;
    }
    if !inv.keys.is_empty() {
        writeln!(out, "{}: {}", heading("Keys and certificates"), inv.keys.len())?;
        for k in inv.keys.iter().take(MAX_ROWS) {
            let mut what = format!("{} {}", e(&k.kind), e(&k.format));
            if let Some(alg) = &k.algorithm {
                what.push_str(&format!(" {}", e(alg)));
            }
            if let Some(bits) = k.bits {
                what.push_str(&format!(" {bits} bits"));
            }
            if k.encrypted {
                what.push_str(" (encrypted)");
            }
            if let Some(subject) = &k.subject {
                what.push_str(&format!(", subject {}", e(subject)));
            }
            let fp = k
                .fingerprint_sha256
                .as_deref()
                .map(|f| {
                    // A report read back may come from anywhere: no byte slicing, and escaped.
                    let short: String = f.chars().take(16).collect();
                    format!(", SHA256:{}", escape(short.as_bytes()))
                })
                .unwrap_or_default();
            writeln!(
                out,
                "  {what}{fp} at {}",
                k.locations.first().map(|l| l.to_string()).unwrap_or_default()
            )?;
        }
        more(out, inv.keys.len())?;
    }
    Ok(())
}
