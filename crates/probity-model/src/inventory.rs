//! Inventory: what the input is made of (components, and later services, accounts and keys).

use serde::{Deserialize, Serialize};

use crate::evidence::Evidence;
use crate::locator::Locator;

/// The inventory section of a report.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Inventory {
    /// Software components identified, each with its evidence.
    #[serde(default)]
    pub components: Vec<Component>,
}

/// A software component identified in the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    /// Product name.
    pub name: String,
    /// Version, when identified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Package URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// CPE 2.3 name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpe: Option<String>,
    /// How it was identified (`version-string`, `package-db`, …).
    pub method: String,
    /// Where it was found.
    pub locations: Vec<Locator>,
    /// What identified it.
    pub evidence: Vec<Evidence>,
}
