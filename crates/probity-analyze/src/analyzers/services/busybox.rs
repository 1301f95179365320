//! Which applets a BusyBox binary contains.
//!
//! Since BusyBox 1.17 the applet names are one string constant in `.rodata`: every name followed
//! by a NUL, sorted (the binary looks applets up by bisection), e.g. `[\0[[\0acpid\0adjtimex\0…`.
//! The method: find every run of at least [`MIN_APPLETS`] NUL-terminated names made of the
//! characters applet names use (`a-z 0-9 _ . - [`), take the longest stretch of each run in which
//! the names are strictly increasing, and keep the longest stretch of the file. Older BusyBox
//! versions keep a table of pointers to separate strings instead, and nothing is found there
//! (`None`): the caller says the applet list is unknown rather than empty.

/// Fewest names that make a table.
pub const MIN_APPLETS: usize = 8;

/// Longest applet name accepted.
const MAX_NAME: usize = 32;

/// The applet table found in a BusyBox binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applets {
    /// Offset of the first name in the file.
    pub offset: usize,
    /// Length of the table in bytes (through the last name's NUL).
    pub length: usize,
    /// The names, sorted.
    pub names: Vec<Vec<u8>>,
    /// Offset of each name in the file.
    pub offsets: Vec<usize>,
}

impl Applets {
    /// Whether `name` is compiled in.
    pub fn contains(&self, name: &[u8]) -> bool {
        self.names.binary_search_by(|n| n.as_slice().cmp(name)).is_ok()
    }

    /// Offset of `name` in the file, when it is in the table.
    pub fn position(&self, name: &[u8]) -> Option<usize> {
        let index = self.names.binary_search_by(|n| n.as_slice().cmp(name)).ok()?;
        self.offsets.get(index).copied()
    }
}

fn name_byte(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'_' | b'.' | b'-' | b'[')
}

/// Applets every BusyBox build has at least one of: a sorted run of other names (a table of
/// function names, `cat_main\0chmod_main\0…`) is not the applet table.
const COMMON: &[&[u8]] = &[
    b"sh", b"ash", b"ls", b"cat", b"echo", b"mount", b"init", b"sleep", b"true",
];

/// Finds the applet table in `data` (an ELF file).
pub fn applets(data: &[u8]) -> Option<Applets> {
    let mut best: Option<Vec<(usize, usize)>> = None;
    let mut i = 0;
    while i < data.len() {
        // One run of names starting at i: each name ends with a NUL; older builds pad names to
        // 4 bytes, so up to 3 more NULs may follow before the next name.
        let mut names: Vec<(usize, usize)> = Vec::new();
        let mut j = i;
        loop {
            let len = data
                .get(j..)
                .unwrap_or_default()
                .iter()
                .take(MAX_NAME + 1)
                .take_while(|&&c| name_byte(c))
                .count();
            if len == 0 || len > MAX_NAME || data.get(j + len) != Some(&0) {
                break;
            }
            names.push((j, len));
            j += len + 1;
            let pad = data
                .get(j..)
                .unwrap_or_default()
                .iter()
                .take(3)
                .take_while(|&&c| c == 0)
                .count();
            if data.get(j + pad).is_some_and(|&c| name_byte(c)) {
                j += pad;
            } else {
                break;
            }
        }
        if names.len() >= MIN_APPLETS {
            // The longest strictly increasing stretch of this run that looks like applets.
            let mut start = 0;
            for k in 1..=names.len() {
                let increasing = k < names.len()
                    && match (names.get(k - 1), names.get(k)) {
                        (Some(&(a, al)), Some(&(b, bl))) => data.get(a..a + al) < data.get(b..b + bl),
                        _ => false,
                    };
                if !increasing {
                    let stretch = names.get(start..k).unwrap_or_default();
                    let common = stretch
                        .iter()
                        .any(|&(o, l)| data.get(o..o + l).is_some_and(|n| COMMON.contains(&n)));
                    if stretch.len() >= MIN_APPLETS
                        && common
                        && best.as_ref().is_none_or(|b| stretch.len() > b.len())
                    {
                        best = Some(stretch.to_vec());
                    }
                    start = k;
                }
            }
        }
        i = if names.is_empty() { i + 1 } else { j.max(i + 1) };
    }
    let best = best?;
    let (&(offset, _), &(last, last_len)) = (best.first()?, best.last()?);
    let names = best
        .iter()
        .filter_map(|&(o, l)| data.get(o..o + l).map(<[u8]>::to_vec))
        .collect();
    Some(Applets {
        offset,
        length: last + last_len + 1 - offset,
        names,
        offsets: best.iter().map(|&(o, _)| o).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_sorted_table() {
        let mut data = b"\x7fELF junk\0zz\0aa\0".to_vec();
        let table = b"[\0[[\0ash\0cat\0ls\0sh\0telnetd\0tftp\0vi\0";
        data.extend_from_slice(table);
        data.extend_from_slice(b"\0\x01\x02 other strings\0b\0a\0");
        let a = applets(&data).unwrap();
        assert_eq!(a.offset, 16);
        assert_eq!(a.length, table.len());
        assert_eq!(a.names.len(), 9);
        assert!(a.contains(b"telnetd") && a.contains(b"[[") && !a.contains(b"httpd"));
        assert_eq!(a.position(b"telnetd"), Some(16 + 19));
        assert_eq!(&data[35..42], b"telnetd");
        assert_eq!(a.position(b"httpd"), None);
    }

    #[test]
    fn unsorted_or_short_runs_are_not_tables() {
        assert_eq!(applets(b"ls\0cat\0sh\0ash\0vi\0a\0b\0c\0"), None);
        // Sorted, but no common applet: a table of function names.
        assert_eq!(
            applets(b"cat_main\0cp_main\0df_main\0ln_main\0ls_main\0rm_main\0sh_main\0vi_main\0"),
            None
        );
        assert_eq!(applets(b"a\0b\0c\0"), None);
        assert_eq!(applets(b""), None);
        // A run with a sorted stretch inside keeps only that stretch.
        let a = applets(b"zz\0a\0b\0c\0d\0e\0ls\0m\0n\0a\0").unwrap();
        assert_eq!(a.offset, 3);
        assert_eq!(a.names.len(), 8);
    }

    #[test]
    fn names_padded_to_four_bytes() {
        // BusyBox 1.0x: names aligned, so 1 to 4 NULs between them.
        let data = b"\x7fELF\0\0\0\0cat_main\0chmod_main\0cp_main\0df_main\0ln_main\0ls_main\0sh_main\0xx_main\0\0\0cat\0ftpd\0\0\0\0init\0\0\0\0ls\0\0msh\0ping\0\0\0\0sh\0\0tftpd\0\0\0\0vconfig\0%s\n";
        let a = applets(data).unwrap();
        let names: Vec<&[u8]> = a.names.iter().map(Vec::as_slice).collect();
        assert_eq!(
            names,
            [
                &b"cat"[..],
                b"ftpd",
                b"init",
                b"ls",
                b"msh",
                b"ping",
                b"sh",
                b"tftpd",
                b"vconfig"
            ]
        );
        let at = a.position(b"sh").unwrap();
        assert_eq!(&data[at..at + 3], b"sh\0");
        assert_eq!(a.length, data.len() - 3 - a.offset);
    }

    /// Debian's busybox-static for five architectures: the table found is the whole applet list,
    /// 269 names (counted independently by reading the NUL-separated table from `[` to `zcat`).
    #[test]
    fn debian_busybox_static() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/elf/debian");
        if !dir.is_dir() {
            eprintln!("SKIPPED: ../shared/corpus is absent");
            return;
        }
        for (arch, offset) in [
            ("armel", 1_739_940),
            ("armhf", 1_171_692),
            ("arm64", 1_594_588),
            ("mipsel", 2_132_428),
            ("mips64el", 2_175_864),
        ] {
            let data = std::fs::read(dir.join(format!("busybox-static_{arch}/bin/busybox"))).unwrap();
            let a = applets(&data).unwrap();
            assert_eq!((a.offset, a.names.len(), a.length), (offset, 269, 1742), "{arch}");
            assert_eq!(a.names.first().map(Vec::as_slice), Some(&b"["[..]));
            assert_eq!(a.names.last().map(Vec::as_slice), Some(&b"zcat"[..]));
            for present in [
                "telnetd", "httpd", "udhcpd", "sh", "ash", "login", "getty", "telnet", "crond", "nc",
            ] {
                assert!(a.contains(present.as_bytes()), "{arch} {present}");
            }
            for absent in ["tftpd", "ftpd", "inetd", "dropbear", "sshd", "snmpd"] {
                assert!(!a.contains(absent.as_bytes()), "{arch} {absent}");
            }
        }
    }
}
