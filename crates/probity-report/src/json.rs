//! The JSON report: the model itself, pretty-printed. Byte-identical across runs because every
//! list in the model is sorted by the engine and no field depends on time unless asked for.

use std::io::{self, Write};

use probity_model::Report;

/// Writes `report` as JSON followed by a newline.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}

/// Reads a JSON report, refusing other schema major versions.
pub fn read(text: &[u8]) -> Result<Report, String> {
    let value: serde_json::Value = serde_json::from_slice(text).map_err(|e| format!("not JSON: {e}"))?;
    let version = value
        .get("schema_version")
        .and_then(|v| v.as_str())
        .ok_or("no `schema_version`: not a Probity report")?;
    let major = version.split('.').next().unwrap_or_default();
    let ours = probity_model::report::SCHEMA_VERSION
        .split('.')
        .next()
        .unwrap_or_default();
    if major != ours {
        return Err(format!(
            "report schema {version} is not supported (this Probity reads {ours}.x)"
        ));
    }
    serde_json::from_value(value).map_err(|e| format!("not a valid Probity report: {e}"))
}
