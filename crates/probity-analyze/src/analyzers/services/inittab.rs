//! `/etc/inittab`, in its SysV (`id:runlevels:action:process`) and BusyBox (`tty::action:process`,
//! the id naming the terminal) forms.
//!
//! Only the entries init runs while booting into the default runlevel are returned: actions
//! `sysinit`, `boot`, `bootwait`, `wait`, `once`, `respawn` and `askfirst`; when an `initdefault`
//! entry names a runlevel, entries restricted to other runlevels are left out (`sysinit`, `boot`
//! and `bootwait` run whatever the runlevel). `shutdown`, `ctrlaltdel`, `restart`, power events and
//! `off` entries do not start anything at boot.

/// Most entries read from one file.
pub const MAX_ENTRIES: usize = 4096;

/// One inittab entry that runs at boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The id field (BusyBox: the terminal, empty for the console).
    pub id: Vec<u8>,
    /// The action (`respawn`, …).
    pub action: Vec<u8>,
    /// The process field as written (a leading `-` included).
    pub process: Vec<u8>,
    /// Line number (1-based).
    pub line: u32,
    /// Offset of the line in the file.
    pub offset: usize,
    /// Length of the line (without its newline).
    pub length: usize,
    /// Offset of the process field in the file.
    pub process_offset: usize,
}

const AT_BOOT: &[&[u8]] = &[
    b"sysinit",
    b"boot",
    b"bootwait",
    b"wait",
    b"once",
    b"respawn",
    b"askfirst",
];
const ANY_RUNLEVEL: &[&[u8]] = &[b"sysinit", b"boot", b"bootwait"];

/// The entries of `src` that run at boot, in file order.
pub fn parse(src: &[u8]) -> Vec<Entry> {
    let mut lines = Vec::new();
    let mut offset = 0usize;
    for (n, raw) in src.split(|&c| c == b'\n').enumerate() {
        let here = offset;
        offset = offset.saturating_add(raw.len() + 1);
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let trimmed = line.trim_ascii_start();
        if trimmed.is_empty() || trimmed.starts_with(b"#") {
            continue;
        }
        let mut fields = line.splitn(4, |&c| c == b':');
        let (Some(id), Some(levels), Some(action), Some(process)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let process_offset = here + id.len() + levels.len() + action.len() + 3;
        lines.push((
            id.trim_ascii().to_vec(),
            levels.trim_ascii().to_vec(),
            action.trim_ascii().to_vec(),
            process.to_vec(),
            u32::try_from(n + 1).unwrap_or(u32::MAX),
            here,
            line.len(),
            process_offset,
        ));
        if lines.len() >= MAX_ENTRIES {
            break;
        }
    }
    let default_level = lines
        .iter()
        .find(|l| l.2 == b"initdefault")
        .and_then(|l| l.1.first().copied());
    lines
        .into_iter()
        .filter(|l| AT_BOOT.contains(&l.2.as_slice()))
        .filter(|l| {
            ANY_RUNLEVEL.contains(&l.2.as_slice())
                || l.1.is_empty()
                || default_level.is_none_or(|d| l.1.contains(&d))
        })
        .map(
            |(id, _, action, process, line, offset, length, process_offset)| Entry {
                id,
                action,
                process,
                line,
                offset,
                length,
                process_offset,
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busybox_form() {
        let src = b"::sysinit:/etc/init.d/rcS\nttyS0::askfirst:-/bin/sh\n::respawn:/sbin/getty ttyS0 115200\n::shutdown:/bin/umount -a\n";
        let e = parse(src);
        assert_eq!(e.len(), 3);
        assert_eq!(e[1].id, b"ttyS0");
        assert_eq!(e[1].action, b"askfirst");
        assert_eq!(e[1].process, b"-/bin/sh");
        assert_eq!(
            (e[1].line, e[1].offset, e[1].length, e[1].process_offset),
            (2, 26, 24, 42)
        );
        assert_eq!(&src[42..50], b"-/bin/sh");
    }

    #[test]
    fn sysv_runlevels() {
        let src = b"id:2:initdefault:\r\nsi::sysinit:/etc/init.d/rcS\n~:S:wait:/sbin/sulogin\nl2:2:wait:/etc/init.d/rc 2\nl3:3:wait:/etc/init.d/rc 3\n1:23:respawn:/sbin/getty tty1\n# c:1:respawn:x\nbad line\n";
        let parsed = parse(src);
        let got: Vec<&[u8]> = parsed.iter().map(|e| e.process.as_slice()).collect();
        assert_eq!(
            got,
            [&b"/etc/init.d/rcS"[..], b"/etc/init.d/rc 2", b"/sbin/getty tty1"]
        );
    }

    #[test]
    fn hostile() {
        assert!(parse(b"\xff:\xfe:respawn:\xff\xff").len() == 1);
        let many = "::respawn:/bin/x\n".repeat(MAX_ENTRIES + 10);
        assert_eq!(parse(many.as_bytes()).len(), MAX_ENTRIES);
        assert!(parse(b":::").is_empty());
    }
}
