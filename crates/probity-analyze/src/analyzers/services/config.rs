//! Configuration files that decide how a service authenticates: `sshd_config`, `snmpd.conf` and
//! `vsftpd.conf`.

use super::units::{Located, lines};

/// Most settings read from one file.
pub const MAX_ENTRIES: usize = 4096;

/// A setting with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The value as written.
    pub value: Vec<u8>,
    /// Where.
    pub at: Located,
}

/// The `sshd_config` settings that decide who can log in. sshd uses the first value it reads for
/// each keyword; settings inside `Match` blocks are conditional and left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SshdConfig {
    /// `PermitRootLogin`.
    pub permit_root_login: Option<Setting>,
    /// `PasswordAuthentication`.
    pub password_authentication: Option<Setting>,
    /// `PermitEmptyPasswords`.
    pub permit_empty_passwords: Option<Setting>,
    /// `Port`.
    pub port: Option<Setting>,
}

/// Reads an `sshd_config`.
pub fn parse_sshd(src: &[u8]) -> SshdConfig {
    let mut c = SshdConfig::default();
    for (at, line) in lines(src).take(MAX_ENTRIES * 4) {
        let t = line.trim_ascii();
        if t.is_empty() || t.starts_with(b"#") {
            continue;
        }
        let split = t
            .iter()
            .position(|&b| b.is_ascii_whitespace() || b == b'=')
            .unwrap_or(t.len());
        let key = t.get(..split).unwrap_or_default().to_ascii_lowercase();
        let value = t
            .get(split..)
            .unwrap_or_default()
            .trim_ascii()
            .strip_prefix(b"=")
            .map_or_else(
                || t.get(split..).unwrap_or_default().trim_ascii(),
                <[u8]>::trim_ascii,
            );
        let value = value
            .split(|b| b.is_ascii_whitespace())
            .next()
            .unwrap_or_default()
            .to_vec();
        let slot = match key.as_slice() {
            b"match" => break,
            b"permitrootlogin" => &mut c.permit_root_login,
            b"passwordauthentication" => &mut c.password_authentication,
            b"permitemptypasswords" => &mut c.permit_empty_passwords,
            b"port" => &mut c.port,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(Setting { value, at });
        }
    }
    c
}

impl SshdConfig {
    fn is(s: &Option<Setting>, v: &[u8]) -> bool {
        s.as_ref().is_some_and(|s| s.value.eq_ignore_ascii_case(v))
    }

    /// `PermitEmptyPasswords yes` (the default is no).
    pub fn empty_passwords(&self) -> bool {
        Self::is(&self.permit_empty_passwords, b"yes")
    }

    /// Whether password logins are allowed (the default is yes).
    pub fn passwords(&self) -> bool {
        !Self::is(&self.password_authentication, b"no")
    }

    /// `PermitRootLogin yes` (the default since OpenSSH 7.0 is `prohibit-password`).
    pub fn root_with_password(&self) -> bool {
        Self::is(&self.permit_root_login, b"yes") && self.passwords()
    }
}

/// An SNMP community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Community {
    /// The community string.
    pub name: Vec<u8>,
    /// Whether it grants write access.
    pub write: bool,
    /// The directive (`rocommunity`, `rwcommunity`, `com2sec`).
    pub directive: Vec<u8>,
    /// Where.
    pub at: Located,
}

/// The communities of an `snmpd.conf` (`rocommunity`, `rwcommunity` and their `6` forms;
/// `com2sec` maps a community to a security name whose access is set elsewhere: it counts as
/// read-only unless the security name contains `rw`).
pub fn parse_snmpd(src: &[u8]) -> Vec<Community> {
    let mut out = Vec::new();
    for (at, line) in lines(src) {
        let t = line.trim_ascii();
        if t.starts_with(b"#") {
            continue;
        }
        let f: Vec<&[u8]> = t
            .split(|c| c.is_ascii_whitespace())
            .filter(|w| !w.is_empty())
            .take(8)
            .collect();
        let Some(directive) = f.first() else {
            continue;
        };
        let d = directive.to_ascii_lowercase();
        let (name, write) = match d.as_slice() {
            b"rocommunity" | b"rocommunity6" => (f.get(1), false),
            b"rwcommunity" | b"rwcommunity6" => (f.get(1), true),
            b"com2sec" | b"com2sec6" => (
                f.get(3),
                f.get(1)
                    .is_some_and(|n| n.to_ascii_lowercase().windows(2).any(|w| w == b"rw")),
            ),
            _ => continue,
        };
        let Some(name) = name else {
            continue;
        };
        out.push(Community {
            name: name.to_vec(),
            write,
            directive: d,
            at,
        });
        if out.len() >= MAX_ENTRIES {
            break;
        }
    }
    out
}

/// `anonymous_enable=YES` in a `vsftpd.conf`, with where it is.
pub fn vsftpd_anonymous(src: &[u8]) -> Option<Located> {
    lines(src).find_map(|(at, line)| {
        let t = line.trim_ascii();
        let v = t.strip_prefix(b"anonymous_enable=")?;
        v.trim_ascii().eq_ignore_ascii_case(b"YES").then_some(at)
    })
}

/// Whether a community string is a well-known default.
pub fn is_default_community(name: &[u8]) -> bool {
    [&b"public"[..], b"private"]
        .iter()
        .any(|d| name.eq_ignore_ascii_case(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sshd_first_value_wins_and_match_stops() {
        let c = parse_sshd(
            b"# PermitRootLogin no\nPort 2222\nPermitEmptyPasswords yes\npermitrootlogin=yes\nPermitRootLogin no\nMatch User x\nPasswordAuthentication no\n",
        );
        assert!(c.empty_passwords());
        assert!(c.passwords());
        assert!(c.root_with_password());
        assert_eq!(c.port.as_ref().map(|p| p.value.as_slice()), Some(&b"2222"[..]));
        assert_eq!(c.permit_empty_passwords.as_ref().map(|p| p.at.line), Some(3));
        let d = parse_sshd(b"PasswordAuthentication no\nPermitRootLogin yes\n");
        assert!(!d.root_with_password() && !d.empty_passwords());
    }

    #[test]
    fn snmp_communities() {
        let c = parse_snmpd(
            b"rocommunity public default\nrwcommunity private 10.0.0.0/8\n# rwcommunity x\ncom2sec rwuser default s3cret\nsyslocation x\nrocommunity\n",
        );
        let got: Vec<(&[u8], bool, u32)> = c
            .iter()
            .map(|c| (c.name.as_slice(), c.write, c.at.line))
            .collect();
        assert_eq!(
            got,
            [
                (&b"public"[..], false, 1),
                (b"private", true, 2),
                (b"s3cret", true, 4)
            ]
        );
        assert!(is_default_community(b"Public") && !is_default_community(b"s3cret"));
    }

    #[test]
    fn vsftpd() {
        assert_eq!(
            vsftpd_anonymous(b"listen=YES\nanonymous_enable=YES\n").map(|a| a.line),
            Some(2)
        );
        assert_eq!(vsftpd_anonymous(b"anonymous_enable=NO\n"), None);
    }
}
