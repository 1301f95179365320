//! Inventory: what the input is made of and who can get in: software components, the accounts of
//! its user databases, the keys and certificates it carries, and the services it starts at boot.
//! Each item says where it was found (locators) so that it can be checked again.

use serde::{Deserialize, Serialize};

use crate::evidence::Evidence;
use crate::locator::Locator;
use crate::text::ByteString;

/// The inventory section of a report.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Inventory {
    /// Software components identified, each with its evidence.
    #[serde(default)]
    pub components: Vec<Component>,
    /// Accounts from user databases (`passwd`, `shadow` and their kin), one per account and file.
    #[serde(default)]
    pub accounts: Vec<Account>,
    /// Private keys, public keys and certificates.
    #[serde(default)]
    pub keys: Vec<KeyMaterial>,
    /// Services started at boot.
    #[serde(default)]
    pub services: Vec<Service>,
}

impl Inventory {
    /// Sorts every section into its canonical order (by location, then by identity), so that a
    /// report does not depend on the order analyzers ran in.
    pub fn sort(&mut self) {
        self.components
            .sort_by(|a, b| (&a.locations, &a.name, &a.version).cmp(&(&b.locations, &b.name, &b.version)));
        self.accounts
            .sort_by(|a, b| (&a.locations, a.line, &a.name).cmp(&(&b.locations, b.line, &b.name)));
        self.keys
            .sort_by(|a, b| (&a.locations, a.offset, &a.kind).cmp(&(&b.locations, b.offset, &b.kind)));
        self.services
            .sort_by(|a, b| (&a.locations, a.line, &a.binary).cmp(&(&b.locations, b.line, &b.binary)));
    }
}

/// An account from a user database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The account name.
    pub name: ByteString,
    /// The database it comes from: `passwd`, `shadow`, `group`, `htpasswd`, …
    pub source: String,
    /// Line of the record in that file (1-based).
    pub line: u32,
    /// User id, when the database records one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// Primary group id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
    /// Home directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home: Option<ByteString>,
    /// Login shell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<ByteString>,
    /// What the password field says.
    pub password: PasswordState,
    /// The hash scheme when the password field holds a hash (`des-crypt`, `md5-crypt`, `apr1`,
    /// `sha256-crypt`, `sha512-crypt`, `bcrypt`, `yescrypt`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_type: Option<String>,
    /// Whether the password was recovered (the value is in the finding's evidence).
    #[serde(default)]
    pub recovered: bool,
    /// Where the record is (the file holding it).
    pub locations: Vec<Locator>,
}

/// The state of an account's password field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PasswordState {
    /// An empty field: no password is asked.
    Empty,
    /// Locked (`!`, `*`, `!!`, a hash prefixed with `!`).
    Locked,
    /// A hash.
    Hash,
    /// The password itself, in clear.
    Plaintext,
    /// The field defers to another database (`x` in `passwd`: see `shadow`).
    Elsewhere,
    /// Anything else.
    Unknown,
}

/// A private key, public key or certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyMaterial {
    /// `private-key`, `public-key` or `certificate`.
    pub kind: String,
    /// The encoding found (`pem`, `der`, `openssh`, `putty`, `pkcs8`, `pkcs12`, `jks`, …).
    pub format: String,
    /// The key algorithm (`rsa`, `dsa`, `ec`, `ed25519`, …), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    /// Key size in bits, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bits: Option<u32>,
    /// SHA-256 of the public key (SubjectPublicKeyInfo DER, or the SSH wire form for SSH keys),
    /// in hex; the same key found twice has the same fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint_sha256: Option<String>,
    /// Whether the private key is encrypted (and could not be opened).
    #[serde(default)]
    pub encrypted: bool,
    /// Certificate subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Certificate issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Certificate validity start (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    /// Certificate validity end (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    /// Whether the certificate is self-signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_signed: Option<bool>,
    /// Offset of the key or certificate in its file.
    pub offset: u64,
    /// Where it is (the file holding it).
    pub locations: Vec<Locator>,
}

/// A service started at boot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// The program started (as written in the script or unit).
    pub binary: ByteString,
    /// Its arguments.
    #[serde(default)]
    pub arguments: Vec<ByteString>,
    /// How it is started (`inittab`, `rc-script`, `procd`, `systemd`, `inetd`, `xinetd`).
    pub started_by: String,
    /// Line of the starting command in the file that starts it (1-based).
    pub line: u32,
    /// Listening port, when the arguments or configuration say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `tcp` or `udp`, with the port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// What kind of service it is (`telnet`, `ssh`, `ftp`, `tftp`, `snmp`, `upnp`, `tr-069`, `http`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// Authentication posture: `none`, `password`, `password-blank-allowed`, `key`, `unknown`.
    pub authentication: String,
    /// What else is known about it, as named values: `busybox-applet` (`compiled-in` or `absent`,
    /// for a program that is a link to BusyBox), `cgi-directory` (a directory of CGI programs a
    /// web server may run), ….
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<crate::evidence::Field>,
    /// Where it is started (the script or unit file).
    pub locations: Vec<Locator>,
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
