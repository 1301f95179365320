//! User databases: which files are one, how their records are split, and what a password field
//! holds.
//!
//! Everything here works on bytes from the image: records are validated by their format (field
//! count, numeric ids) before they are believed, lines are bounded, and nothing is assumed to be
//! UTF-8.

use probity_model::PasswordState;

/// Longest line considered a record (longer lines are skipped: no real record is this long).
pub const MAX_LINE: usize = 4096;

/// Most records read from one file.
pub const MAX_RECORDS: usize = 10_000;

/// What kind of database a file is, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DbKind {
    /// `passwd` (and backups); may also hold shadow-format lines.
    Passwd,
    /// `shadow` (and backups).
    Shadow,
    /// `group` / `gshadow` (group passwords only).
    Group,
    /// `.htpasswd`.
    Htpasswd,
    /// A file under `etc/config` or `var` that may hold passwd-format records.
    Config,
}

/// Suffixes of backup and variant copies (`passwd-`, `shadow.bak`, `passwd_test`, …).
fn is_variant_suffix(rest: &[u8]) -> bool {
    rest.is_empty() || matches!(rest.first(), Some(b'-' | b'.' | b'_' | b'~' | b'+'))
}

/// The database kind of a member path, if its name says it is one.
pub fn kind_of_path(path: &[u8]) -> Option<DbKind> {
    let base = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    let lower = base.to_ascii_lowercase();
    let starts = |p: &[u8]| lower.strip_prefix(p).is_some_and(is_variant_suffix);
    if lower.ends_with(b"htpasswd") || starts(b".htpasswd") || starts(b"htpasswd") {
        return Some(DbKind::Htpasswd);
    }
    if starts(b"shadow") {
        return Some(DbKind::Shadow);
    }
    if starts(b"passwd") || starts(b"master.passwd") {
        return Some(DbKind::Passwd);
    }
    if starts(b"group") || starts(b"gshadow") {
        return Some(DbKind::Group);
    }
    let in_dir = |d: &[u8]| path.windows(d.len()).any(|w| w == d) || path.starts_with(&d[1..]);
    if in_dir(b"/etc/config/") || in_dir(b"/var/") {
        return Some(DbKind::Config);
    }
    None
}

/// The record format of one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RecordFormat {
    /// `name:password:uid:gid:gecos:home:shell`.
    Passwd,
    /// `name:password:lastchg:min:max:warn:inactive:expire[:reserved]`.
    Shadow,
    /// `name:hash`.
    Htpasswd,
    /// `name:password:gid:members` or gshadow's `name:password:admins:members`.
    Group,
    /// `name:hash` found inside another file (see [`scan_embedded`]).
    Embedded,
}

impl RecordFormat {
    /// The name used in the inventory's `source` and in record evidence.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordFormat::Passwd => "passwd",
            RecordFormat::Shadow => "shadow",
            RecordFormat::Htpasswd => "htpasswd",
            RecordFormat::Group => "group",
            RecordFormat::Embedded => "embedded",
        }
    }

    /// The names of the record's fields, in order.
    pub fn field_names(self) -> &'static [&'static str] {
        match self {
            RecordFormat::Passwd => &["name", "password", "uid", "gid", "gecos", "home", "shell"],
            RecordFormat::Shadow => &[
                "name", "password", "lastchg", "min", "max", "warn", "inactive", "expire", "reserved",
            ],
            RecordFormat::Group => &["name", "password", "gid", "members"],
            RecordFormat::Htpasswd | RecordFormat::Embedded => &["name", "password"],
        }
    }
}

/// One record of a user database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its format.
    pub format: RecordFormat,
    /// Line number (1-based; for embedded records, the line the record starts on).
    pub line: u32,
    /// Offset of the record in the file.
    pub offset: usize,
    /// The record's bytes (the line without its end of line).
    pub raw: Vec<u8>,
    /// The fields.
    pub fields: Vec<Vec<u8>>,
}

impl Record {
    /// Field `i`, or empty.
    pub fn field(&self, i: usize) -> &[u8] {
        self.fields.get(i).map(Vec::as_slice).unwrap_or_default()
    }

    /// The account name.
    pub fn name(&self) -> &[u8] {
        self.field(0)
    }

    /// The password field.
    pub fn password(&self) -> &[u8] {
        self.field(1)
    }

    /// A numeric field.
    pub fn number(&self, i: usize) -> Option<u32> {
        parse_u32(self.field(i))
    }

    /// The user id (passwd records).
    pub fn uid(&self) -> Option<u32> {
        (self.format == RecordFormat::Passwd)
            .then(|| self.number(2))
            .flatten()
    }

    /// The login shell (passwd records).
    pub fn shell(&self) -> Option<&[u8]> {
        (self.format == RecordFormat::Passwd).then(|| self.field(6))
    }
}

fn parse_u32(f: &[u8]) -> Option<u32> {
    if f.is_empty() || f.len() > 10 || !f.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(f).ok()?.parse().ok()
}

/// Whether `f` is empty or a (possibly negative) decimal number, as shadow's date fields are.
fn empty_or_number(f: &[u8]) -> bool {
    let digits = f.strip_prefix(b"-").unwrap_or(f);
    f.is_empty() || (digits.len() <= 10 && !digits.is_empty() && digits.iter().all(u8::is_ascii_digit))
}

/// Whether `name` looks like an account name (printable, no spaces, no `:`; 1 to 64 bytes).
pub fn valid_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.iter().all(|&b| b.is_ascii_graphic() && b != b':')
        && !name.starts_with(b"#")
}

/// The format a line has, if it is a well-formed record of one the file may hold.
fn classify(fields: &[&[u8]], kind: DbKind) -> Option<RecordFormat> {
    let name = fields.first()?;
    if !valid_name(name) {
        return None;
    }
    let get = |i: usize| fields.get(i).copied().unwrap_or_default();
    let passwd = fields.len() == 7 && parse_u32(get(2)).is_some() && parse_u32(get(3)).is_some();
    let shadow = (8..=9).contains(&fields.len()) && fields.iter().skip(2).take(6).all(|f| empty_or_number(f));
    let hash_pair =
        fields.len() == 2 && matches!(identify(get(1)), (PasswordState::Hash, Some(s)) if s != "unknown");
    match kind {
        DbKind::Passwd | DbKind::Shadow => {
            if passwd {
                Some(RecordFormat::Passwd)
            } else if shadow {
                Some(RecordFormat::Shadow)
            } else if hash_pair {
                Some(RecordFormat::Htpasswd)
            } else {
                None
            }
        }
        DbKind::Config => passwd
            .then_some(RecordFormat::Passwd)
            .or(shadow.then_some(RecordFormat::Shadow)),
        DbKind::Htpasswd => (fields.len() == 2 && !get(1).is_empty()).then_some(RecordFormat::Htpasswd),
        DbKind::Group => (fields.len() == 4).then_some(RecordFormat::Group),
    }
}

/// The records of a database file of kind `kind`. Lines that are not well-formed records are
/// skipped (comments, blank lines, NIS `+`/`-` entries, garbage).
pub fn parse_db(data: &[u8], kind: DbKind) -> Vec<Record> {
    let mut out = Vec::new();
    let mut offset = 0usize;
    for (index, chunk) in data.split_inclusive(|&b| b == b'\n').enumerate() {
        let start = offset;
        offset += chunk.len();
        if out.len() >= MAX_RECORDS {
            break;
        }
        let line = chunk.strip_suffix(b"\n").unwrap_or(chunk);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line.len() > MAX_LINE || line.starts_with(b"+") || line.starts_with(b"-") {
            continue;
        }
        let fields: Vec<&[u8]> = line.split(|&b| b == b':').collect();
        let Some(format) = classify(&fields, kind) else {
            continue;
        };
        out.push(Record {
            format,
            line: u32::try_from(index + 1).unwrap_or(u32::MAX),
            offset: start,
            raw: line.to_vec(),
            fields: fields.iter().map(|f| f.to_vec()).collect(),
        });
    }
    // A file that only the directory says may be a database must look like one: most of its
    // non-comment lines must be records.
    if kind == DbKind::Config {
        let lines = data
            .split(|&b| b == b'\n')
            .filter(|l| !l.trim_ascii().is_empty() && !l.starts_with(b"#"))
            .count();
        if out.len() * 2 < lines {
            out.clear();
        }
    }
    out
}

/// Bytes allowed in the salts and digests of crypt(3) hashes.
fn is_crypt64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'/'
}

fn all_crypt64(s: &[u8]) -> bool {
    s.iter().all(|&b| is_crypt64(b))
}

/// `$id$[rounds=N$]salt$digest` with a digest of `len` crypt64 characters and a salt of at most
/// `max_salt` of them.
fn modular(rest: &[u8], max_salt: usize, len: usize, rounds: bool) -> bool {
    let rest = match rest.strip_prefix(b"rounds=") {
        Some(r) if rounds => {
            let Some(end) = r.iter().position(|&b| b == b'$') else {
                return false;
            };
            if parse_u32(r.get(..end).unwrap_or_default()).is_none() {
                return false;
            }
            r.get(end + 1..).unwrap_or_default()
        }
        _ => rest,
    };
    let Some(dollar) = rest.iter().position(|&b| b == b'$') else {
        return false;
    };
    let (salt, digest) = (
        rest.get(..dollar).unwrap_or_default(),
        rest.get(dollar + 1..).unwrap_or_default(),
    );
    salt.len() <= max_salt && all_crypt64(salt) && digest.len() == len && all_crypt64(digest)
}

/// What a password field holds, and the hash scheme when it is a hash.
pub fn identify(field: &[u8]) -> (PasswordState, Option<&'static str>) {
    let hash = |s| (PasswordState::Hash, Some(s));
    match field {
        b"" => return (PasswordState::Empty, None),
        b"x" => return (PasswordState::Elsewhere, None),
        _ => {}
    }
    if field.starts_with(b"!") || field.starts_with(b"*") || field == b"NP" || field == b"LK" {
        return (PasswordState::Locked, None);
    }
    if let Some(rest) = field.strip_prefix(b"$1$") {
        if modular(rest, 8, 22, false) {
            return hash("md5-crypt");
        }
    } else if let Some(rest) = field.strip_prefix(b"$apr1$") {
        if modular(rest, 8, 22, false) {
            return hash("apr1");
        }
    } else if let Some(rest) = field.strip_prefix(b"$5$") {
        if modular(rest, 16, 43, true) {
            return hash("sha256-crypt");
        }
    } else if let Some(rest) = field.strip_prefix(b"$6$") {
        if modular(rest, 16, 86, true) {
            return hash("sha512-crypt");
        }
    } else if field.len() == 60
        && (field.starts_with(b"$2a$") || field.starts_with(b"$2b$") || field.starts_with(b"$2y$"))
    {
        let cost = field.get(4..6).and_then(parse_u32);
        if cost.is_some_and(|c| (4..=31).contains(&c))
            && field.get(6) == Some(&b'$')
            && field.get(7..).is_some_and(all_crypt64)
        {
            return hash("bcrypt");
        }
    } else if field.starts_with(b"$y$") || field.starts_with(b"$gy$") {
        return hash("yescrypt");
    } else if field.starts_with(b"$7$") {
        return hash("scrypt");
    } else if field.starts_with(b"$sha1$") {
        return hash("sha1-crypt");
    } else if field.starts_with(b"$md5") {
        return hash("sun-md5-crypt");
    }
    if let Some(rest) = field.strip_prefix(b"$6$")
        && let Some((salt, digest)) = split_once(rest, b'$')
        && is_base64(salt)
        && digest.len() == 88
        && is_base64(digest)
    {
        // Mosquitto's password file: base64 salt, base64 SHA-512 of password and salt.
        return hash("mosquitto-sha512");
    }
    if field.starts_with(b"$") {
        // A modular-crypt-looking field Probity does not know (or a malformed one).
        return (PasswordState::Hash, Some("unknown"));
    }
    if field.strip_prefix(b"{SHA}").is_some_and(|rest| rest.len() == 28) {
        return hash("sha1-base64");
    }
    if field.starts_with(b"{SSHA}") {
        return hash("ssha-base64");
    }
    if field.len() == 13 && all_crypt64(field) {
        return hash("des-crypt");
    }
    if field.len() == 20 && field.starts_with(b"_") && field.get(1..).is_some_and(all_crypt64) {
        return hash("bsdi-crypt");
    }
    if field.len() <= 64 && field.iter().all(|b| b.is_ascii_graphic()) {
        return (PasswordState::Plaintext, None);
    }
    (PasswordState::Unknown, None)
}

fn split_once(s: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let i = s.iter().position(|&b| b == sep)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

fn is_base64(s: &[u8]) -> bool {
    !s.is_empty()
        && s.iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
}

/// Whether a hash scheme is weak (fast or truncating).
pub fn is_weak(scheme: &str) -> bool {
    matches!(
        scheme,
        "des-crypt" | "bsdi-crypt" | "md5-crypt" | "apr1" | "sha1-base64" | "mosquitto-sha512"
    )
}

/// Records of the form `name:$id$…` embedded in any file: a user database compiled into a
/// binary or a configuration blob. Only hashes of a recognised modular-crypt format count, with a
/// name right before them, so that arbitrary `:$` in code or text is not taken for a record.
pub fn scan_embedded(data: &[u8], skip: &dyn Fn(u64, u64) -> bool) -> Vec<Record> {
    let mut out = Vec::new();
    let (mut counted, mut lines_before) = (0usize, 0usize);
    for colon in memchr::memmem::find_iter(data, b":$") {
        if out.len() >= MAX_RECORDS {
            break;
        }
        // The name: up to 32 bytes of [A-Za-z0-9_.-] before the colon.
        let mut start = colon;
        while start > 0 && colon - start < 32 {
            match data.get(start - 1) {
                Some(&b) if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-') => start -= 1,
                _ => break,
            }
        }
        if start == colon {
            continue;
        }
        let hash_start = colon + 1;
        let hash_len = data
            .get(hash_start..)
            .unwrap_or_default()
            .iter()
            .take(128)
            .take_while(|&&b| is_crypt64(b) || b == b'$' || b == b'=')
            .count();
        let hash = data.get(hash_start..hash_start + hash_len).unwrap_or_default();
        if !matches!(identify(hash), (PasswordState::Hash, Some(s)) if s != "unknown") {
            continue;
        }
        let end = hash_start + hash_len;
        if skip(start as u64, (end - start) as u64) {
            continue;
        }
        let (Some(name), Some(raw)) = (data.get(start..colon), data.get(start..end)) else {
            continue;
        };
        // Lines are counted incrementally: records come in increasing order of offset.
        lines_before += data
            .get(counted..start)
            .map(|b| memchr::memchr_iter(b'\n', b).count())
            .unwrap_or_default();
        counted = counted.max(start);
        let line = lines_before + 1;
        out.push(Record {
            format: RecordFormat::Embedded,
            line: u32::try_from(line).unwrap_or(u32::MAX),
            offset: start,
            raw: raw.to_vec(),
            fields: vec![name.to_vec(), hash.to_vec()],
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names() {
        assert_eq!(kind_of_path(b"/etc/passwd"), Some(DbKind::Passwd));
        assert_eq!(kind_of_path(b"/etc/passwd-"), Some(DbKind::Passwd));
        assert_eq!(kind_of_path(b"/etc/passwd.bak"), Some(DbKind::Passwd));
        assert_eq!(kind_of_path(b"/etc/shadow.orig"), Some(DbKind::Shadow));
        assert_eq!(kind_of_path(b"/etc/shadow-"), Some(DbKind::Shadow));
        assert_eq!(kind_of_path(b"/etc/gshadow"), Some(DbKind::Group));
        assert_eq!(kind_of_path(b"/www/.htpasswd"), Some(DbKind::Htpasswd));
        assert_eq!(kind_of_path(b"/www/admin.htpasswd"), Some(DbKind::Htpasswd));
        assert_eq!(kind_of_path(b"/etc/config/users"), Some(DbKind::Config));
        assert_eq!(kind_of_path(b"/var/passwd_backup"), Some(DbKind::Passwd));
        assert_eq!(kind_of_path(b"/usr/bin/passwdx"), None);
        assert_eq!(kind_of_path(b"/etc/hosts"), None);
    }

    #[test]
    fn passwd_and_shadow_records() {
        let data = b"# comment\nroot:x:0:0:root:/root:/bin/sh\n\nbad:x:a:0:::\n+nis::::::\r\n\
                     admin:$1$abc$5bFcx/QfAOJAy7G8fC9AW1:17000:0:99999:7:::\r\n";
        let r = parse_db(data, DbKind::Passwd);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].format, RecordFormat::Passwd);
        assert_eq!((r[0].line, r[0].offset), (2, 10));
        assert_eq!(r[0].uid(), Some(0));
        assert_eq!(r[0].shell(), Some(&b"/bin/sh"[..]));
        assert_eq!(r[1].format, RecordFormat::Shadow);
        assert_eq!(r[1].line, 6);
        assert_eq!(
            r[1].raw,
            b"admin:$1$abc$5bFcx/QfAOJAy7G8fC9AW1:17000:0:99999:7:::".to_vec()
        );
        assert_eq!(&data[r[1].offset..r[1].offset + r[1].raw.len()], &r[1].raw[..]);
    }

    #[test]
    fn hostile_lines() {
        let mut data = vec![b'a'; MAX_LINE + 10];
        data.extend_from_slice(
            b":x:0:0:::\n\xff\xfe:x:1:1:a:/:/bin/sh\nmissing:x:0\n\n::::::\nu:\xff:1:1:a:/:/bin/sh\n",
        );
        let r = parse_db(&data, DbKind::Passwd);
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!((r[0].name(), r[0].line), (&b"u"[..], 6));
        assert_eq!(identify(r[0].password()), (PasswordState::Unknown, None));
        assert!(parse_db(b"\x00\x01\x02", DbKind::Shadow).is_empty());
        assert!(parse_db(b"", DbKind::Passwd).is_empty());
    }

    #[test]
    fn config_files_need_mostly_records() {
        assert_eq!(
            parse_db(b"root:x:0:0::/:/bin/sh\nfoo=bar\n", DbKind::Config).len(),
            1
        );
        assert!(parse_db(b"root:x:0:0::/:/bin/sh\nfoo=bar\nbaz=1\n", DbKind::Config).is_empty());
    }

    #[test]
    fn hash_schemes() {
        let cases: &[(&[u8], PasswordState, Option<&str>)] = &[
            (b"", PasswordState::Empty, None),
            (b"x", PasswordState::Elsewhere, None),
            (b"!", PasswordState::Locked, None),
            (b"!!", PasswordState::Locked, None),
            (b"*", PasswordState::Locked, None),
            (b"!$1$abc$5bFcx/QfAOJAy7G8fC9AW1", PasswordState::Locked, None),
            (b"aZGJuE6EXrjEE", PasswordState::Hash, Some("des-crypt")),
            (b"_J9..CCCCXBrJUJV154M", PasswordState::Hash, Some("bsdi-crypt")),
            (b"$1$abc$5bFcx/QfAOJAy7G8fC9AW1", PasswordState::Hash, Some("md5-crypt")),
            (b"$1$$oCLuEVgI1iAqOA8pwkzAg1", PasswordState::Hash, Some("md5-crypt")),
            (b"$apr1$nMebU24m$ofpVAehRJU5Jq8KUcsVYj1", PasswordState::Hash, Some("apr1")),
            (
                b"$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZF4KE6Ev/",
                PasswordState::Hash,
                Some("sha256-crypt"),
            ),
            (
                b"$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA",
                PasswordState::Hash,
                Some("sha256-crypt"),
            ),
            (
                b"$6$HcGU0JUp$LbTjc1Ai4TcTwZRi5sRyObUUHsRHtEj6YXTgduYpESFRYMZrfzZCspg2flG78QGwaqe8GSf8NLfE7tTVOUpSc1",
                PasswordState::Hash,
                Some("sha512-crypt"),
            ),
            (
                b"$2y$05$Eoj2qF43EErrJix4Gtmuq..0FA8AFdqUUmjEqlWsUFzda8.n6OFgW",
                PasswordState::Hash,
                Some("bcrypt"),
            ),
            (b"$y$j9T$abc$def", PasswordState::Hash, Some("yescrypt")),
            (b"$7$CU..../....abc$def", PasswordState::Hash, Some("scrypt")),
            (b"$sha1$40000$salt$hash", PasswordState::Hash, Some("sha1-crypt")),
            (b"$6$AQIDBAUG$LJOy7+x1cw==", PasswordState::Hash, Some("unknown")),
            (
                b"$6$AQIDBAUG$LJOy7+x1cwKlJ74yCwBak1Vn83DyaKE5NvpC7zMcxwNux1pl+BEs5RH/YIjJKm/hOE+9D3CpvHrEGqYQM4SqjA==",
                PasswordState::Hash,
                Some("mosquitto-sha512"),
            ),
            (b"{SHA}0DPiKuNIrrVmD8IUCuw1hQxNqZc=", PasswordState::Hash, Some("sha1-base64")),
            (b"admin", PasswordState::Plaintext, None),
            (b"pass word", PasswordState::Unknown, None),
            (b"\xff\xfe", PasswordState::Unknown, None),
        ];
        for (field, state, scheme) in cases {
            assert_eq!(
                identify(field),
                (*state, *scheme),
                "{}",
                String::from_utf8_lossy(field)
            );
        }
    }

    #[test]
    fn embedded_records() {
        let data = b"\xfa\xafjohndoe:$1$abc$5bFcx/QfAOJAy7G8fC9AW1\xcc\nuser1:$.su.CHAR\nx:$1$short$abc\n\
                     \n\x00a:$1$abc$5bFcx/QfAOJAy7G8fC9AW1";
        let r = scan_embedded(data, &|_, _| false);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].name(), b"johndoe");
        assert_eq!(r[0].line, 1);
        assert_eq!((r[1].name(), r[1].line), (&b"a"[..], 5));
        assert_eq!((r[0].offset, r[0].raw.len()), (2, 37));
        assert_eq!(scan_embedded(data, &|o, _| o == 2).len(), 1);
    }
}
