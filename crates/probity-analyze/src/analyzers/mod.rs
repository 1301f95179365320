//! The analyzer registry: one line per analyzer.

use crate::AnalyzeError;
use crate::analyzer::Analyzer;
use crate::rules::rule_file;

pub mod accounts;
pub mod indicators;
pub mod keys;
pub mod permissions;
pub mod secrets;
pub mod services;

/// Every analyzer, in the order their rules are listed.
pub fn registry() -> Result<Vec<Box<dyn Analyzer>>, AnalyzeError> {
    let indicators =
        rule_file("indicators.toml").ok_or_else(|| AnalyzeError::rules("indicators.toml", "missing"))?;
    let credentials =
        rule_file("credentials.toml").ok_or_else(|| AnalyzeError::rules("credentials.toml", "missing"))?;
    Ok(vec![
        Box::new(accounts::Accounts::new(credentials)?),
        Box::new(indicators::Indicators::from_toml(
            indicators.name,
            indicators.text,
        )?),
        Box::new(secrets::Secrets::new()?),
        Box::new(keys::Keys::new()),
        Box::new(services::Services::new()),
        Box::new(permissions::Permissions::new()),
    ])
}
