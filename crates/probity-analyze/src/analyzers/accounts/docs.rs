//! The rules of the accounts analyzer and their documentation (`probity rules explain`).

use probity_model::{Confidence, RuleDescriptor, Severity};

use super::ID;

/// Non-root account with user id 0.
pub const UID0: &str = "PRB-ACC-001";
/// Active account with an empty password field.
pub const EMPTY: &str = "PRB-ACC-002";
/// Password stored in clear in a password field.
pub const PLAINTEXT: &str = "PRB-ACC-003";
/// Weak hash scheme on an active account.
pub const WEAK_HASH: &str = "PRB-ACC-004";
/// Password recovered from its hash.
pub const RECOVERED: &str = "PRB-ACC-005";
/// Service account with an interactive login shell.
pub const SERVICE_SHELL: &str = "PRB-ACC-006";

const CWE_798: &str = "https://cwe.mitre.org/data/definitions/798.html";

#[allow(clippy::too_many_arguments)]
fn rule(
    id: &str,
    name: &str,
    title: &str,
    severity: Severity,
    confidence: Confidence,
    cwe: &[&str],
    references: &[&str],
    remediation: &str,
    doc: [&str; 6],
) -> Option<RuleDescriptor> {
    crate::rules::RuleSpec {
        id,
        name,
        title,
        severity,
        confidence,
        cwe,
        references,
        remediation,
        doc: crate::rules::rule_doc(doc),
    }
    .build(ID)
}

const HOW_DB: &str = "User databases are recognised by name wherever they are in the image: `passwd`, `shadow`, \
    `group`, `gshadow`, `master.passwd` and their backups and variants (`passwd-`, `shadow.bak`, `passwd.orig`, \
    `passwd_test`, …), `.htpasswd` files, and files under `etc/config/` or `var/` whose lines are mostly \
    passwd- or shadow-format records. Every line is validated by its format before it is believed (7 fields \
    with numeric uid and gid for passwd, 8 or 9 fields with numeric or empty date fields for shadow, \
    `name:hash` with a recognisable hash for htpasswd-style lines); other lines are skipped. In every other \
    file, `name:$id$salt$digest` records of a known crypt format are looked for (user databases compiled \
    into binaries or configuration blobs). A `passwd` account whose field is `x` takes its password from the \
    `shadow` file in the same directory.";

/// Every rule of the analyzer, in id order.
pub fn rules() -> Vec<RuleDescriptor> {
    [
        rule(
            UID0,
            "NonRootUidZero",
            "Account other than root with user id 0",
            Severity::High,
            Confidence::Confirmed,
            &["CWE-250", "CWE-912"],
            &["https://cwe.mitre.org/data/definitions/912.html", "https://man7.org/linux/man-pages/man5/passwd.5.html"],
            "Remove the account or give it its own non-zero user id; if a second administrative login is \
             really needed, document it and protect it like root's.",
            [
                "A passwd record whose user id is 0 and whose name is not `root`. Severity is lowered to low \
                 when the account's password is locked (in the record or in the shadow file beside it): no \
                 password login, but anything that runs as it or logs in with a key is root.",
                "The kernel grants every privilege to user id 0, whatever the name: a second UID-0 account is a \
                 second root login, and a classic way to hide a backdoor account among service accounts (`toor`, \
                 `admin`, `support`).",
                HOW_DB,
                "BSD systems ship `toor` as a documented alternate root account; some vendors use a UID-0 `admin` \
                 as the device's management login by design (still a second root, but documented).",
                "Accounts created at run time (by a start-up script or a management daemon) are not in the image's \
                 files and are not seen; nor are databases in containers Probity could not unpack.",
                "`/etc/passwd` line 3: `admin:x:0:0:admin:/:/bin/sh`: account `admin` has user id 0.",
            ],
        ),
        rule(
            EMPTY,
            "EmptyPassword",
            "Active account with an empty password",
            Severity::High,
            Confidence::Confirmed,
            &["CWE-258", "CWE-521"],
            &["https://cwe.mitre.org/data/definitions/258.html", "https://man7.org/linux/man-pages/man5/shadow.5.html"],
            "Lock the account (`!` or `*` in the password field) or set a unique per-device password that the \
             operator must change on first use.",
            [
                "An account whose password field is empty: in `shadow`, or in `passwd` when no shadow entry \
                 overrides it. Severity is raised to critical for accounts with user id 0.",
                "An empty password field means no password is asked: anyone who reaches a login prompt (console, \
                 telnet, SSH with empty passwords allowed, `su`) is in. This is one of the hidden-access patterns \
                 most often found in shipped network equipment.",
                HOW_DB,
                "Some login programs refuse empty passwords (Dropbear without `-B`, OpenSSH with \
                 `PermitEmptyPasswords no`, PAM without `nullok`): the account is then unusable rather than open. \
                 The services analysis says which login services are started.",
                "A password field that is set at first boot from a template elsewhere is not seen.",
                "`/etc/shadow` line 1: `root::10933:0:99999:7:::`: account `root` has an empty password.",
            ],
        ),
        rule(
            PLAINTEXT,
            "PlaintextPassword",
            "Password stored in clear in a password field",
            Severity::High,
            Confidence::Likely,
            &["CWE-256", "CWE-798"],
            &["https://cwe.mitre.org/data/definitions/256.html", CWE_798],
            "Store only a salted, slow hash (SHA-512-crypt, bcrypt or yescrypt); generate a unique password per \
             device.",
            [
                "A password field that holds neither a recognisable hash, nor a lock marker, nor `x`: printable \
                 text that is the password itself.",
                "Anyone who can read the image (every firmware download) reads the password, and it is the same \
                 on every device of the product line.",
                HOW_DB,
                "A hash in a scheme Probity does not know that happens to be printable and shorter than 65 bytes \
                 (formats that start with `$` or `{` are reported as hashes, not here); a 13-character password \
                 made of letters, digits, `.` and `/` is taken for a DES-crypt hash instead.",
                "Plain-text passwords stored outside user databases (configuration files, nvram defaults) are \
                 the hard-coded-credentials analysis's business.",
                "`/etc/shadow` line 2: `admin:admin:0:0:99999:7:::`: account `admin` stores its password in clear.",
            ],
        ),
        rule(
            WEAK_HASH,
            "WeakPasswordHash",
            "Weak password hash scheme on an active account",
            Severity::Medium,
            Confidence::Confirmed,
            &["CWE-916", "CWE-328"],
            &["https://cwe.mitre.org/data/definitions/916.html", "https://www.openwall.com/john/"],
            "Use SHA-512-crypt, bcrypt or yescrypt; the device's `passwd` tool and its libc must support it.",
            [
                "An active (not locked) account whose hash is DES crypt, BSDi crypt, MD5-crypt (`$1$`), Apache \
                 apr1, unsalted `{SHA}` or Mosquitto's single salted SHA-512.",
                "These schemes are fast enough to brute-force on one graphics card (DES crypt also ignores \
                 everything past 8 characters): whoever holds the image recovers all but the strongest passwords.",
                HOW_DB,
                "Accounts that no service allows to log in with a password are still reported: the hash is there \
                 for anyone to attack.",
                "Locked accounts are not reported (their hashes are still tried by password recovery).",
                "`/etc/passwd.bak` line 1: `admin:$1$$iC.dUsGpxNNJGeOm1dFio/:0:0:root:/:/bin/sh`: MD5-crypt.",
            ],
        ),
        rule(
            RECOVERED,
            "RecoveredPassword",
            "Account password recovered from its hash",
            Severity::High,
            Confidence::Confirmed,
            &["CWE-798", "CWE-521", "CWE-259"],
            &[
                CWE_798,
                "https://github.com/jgamblin/Mirai-Source-Code/blob/master/mirai/bot/scanner.c",
                "https://github.com/danielmiessler/SecLists/tree/master/Passwords/Default-Credentials",
            ],
            "Remove the built-in password: ship accounts locked, or with a unique per-device password that \
             must be changed on first use.",
            [
                "An account whose password hash matches a default or common password (the built-in list in \
                 `rules/credentials.toml`, each entry with where it is published), the name of an account in the \
                 image, or a line of `--wordlist`. Critical when the account has user id 0 or is `root`, high \
                 otherwise.",
                "A password that is in a published list is a password attackers try first (the Mirai botnet \
                 took over hundreds of thousands of devices with 62 such pairs). The finding is proven: the \
                 recovered value hashes to the record's hash, which anyone can check.",
                "Every hash of a recoverable scheme found in the image is tried once (identical hashes are \
                 deduplicated), in parallel, against the candidates in order: built-in list, account names, \
                 word list (at most 1,000,000 lines). DES crypt, BSDi crypt, SHA-256/512-crypt, SHA1-crypt and \
                 bcrypt are computed with the `pwhash` crate; MD5-crypt, apr1, htpasswd's `{SHA}` and \
                 Mosquitto's salted SHA-512 by Probity (with the `md-5`, `sha1` and `sha2` crates). The work is bounded by a budget counted in units of \
                 about one MD5-crypt (SHA-512-crypt at 5000 rounds: 10; bcrypt cost 5: 8, doubling per cost \
                 step; more rounds, proportionally more): 2,000,000 units per scan without `--wordlist`, \
                 200,000,000 with one. Hashes are served in a fixed order, each with every candidate while \
                 the budget lasts, so the result does not depend on the machine. bcrypt above cost 14 and \
                 SHA-crypt or BSDi crypt above 1,000,000 rounds are not tried at all. Hashes of locked accounts are \
                 not tried.",
                "None: a match is a proof. (The account may be unusable for login, for example when no login \
                 service runs; the password is still the vendor's.)",
                "yescrypt, scrypt, Sun MD5, `{SSHA}` and unknown schemes are not tried (no maintained \
                 implementation is used for them yet); candidates beyond \
                 the work budget are not tried; DES crypt is tried with candidates of at most 8 \
                 bytes (it ignores the rest).",
                "`/etc/passwd.bak` line 1 (`admin:$1$$iC.dUsGpxNNJGeOm1dFio/:0:0:root:/:/bin/sh`): the password \
                 of `admin` is `1234` (built-in list `mirai`).",
            ],
        ),
        rule(
            SERVICE_SHELL,
            "ServiceAccountLoginShell",
            "Service account with an interactive login shell",
            Severity::Low,
            Confidence::Likely,
            &["CWE-250"],
            &["https://man7.org/linux/man-pages/man5/passwd.5.html", "https://www.debian.org/doc/debian-policy/ch-opersys.html#users-and-groups"],
            "Give service accounts `/sbin/nologin` or `/bin/false` as shell.",
            [
                "A passwd account that is a service or system account (user id between 1 and 999, or a name \
                 such as `daemon`, `bin`, `nobody`, `ftp`, `www-data`, `sshd`) whose shell is an interactive one \
                 (`sh`, `ash`, `bash`, …), when its password is not locked in a shadow file.",
                "Service accounts are not meant to log in; with a shell, a password or key set on them (or a \
                 service flaw that runs as them) gives an interactive foothold.",
                HOW_DB,
                "BusyBox images often give every account `/bin/sh` by habit; if no login service allows the \
                 account in (locked password, no key) the shell is never reached.",
                "Shells with unusual paths or names are not recognised as interactive.",
                "`/etc/passwd` line 4: `ftp:x:21:21:ftp:/var/ftp:/bin/sh`: service account `ftp` has shell `/bin/sh`.",
            ],
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}
