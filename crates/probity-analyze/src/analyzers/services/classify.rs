//! What kind of service a program is, which port it listens on, and how it authenticates, from
//! its name and arguments alone.
//!
//! Ports come from the arguments (`-p 2323`, `-p 0.0.0.0:22`); when there are none, the
//! protocol's standard port is assumed for daemons whose name fixes it (telnet 23, SSH 22, FTP 21,
//! TFTP 69/udp, SNMP 161/udp). Web servers read their port from configuration files that are not
//! parsed here, so their port stays unknown unless `-p` gives it.

/// Program names (basenames) and the class they belong to.
const CLASSES: &[(&str, &[&str])] = &[
    ("telnet", &["telnetd", "utelnetd", "in.telnetd"]),
    ("ssh", &["dropbear", "sshd"]),
    (
        "ftp",
        &[
            "vsftpd",
            "ftpd",
            "proftpd",
            "pure-ftpd",
            "bftpd",
            "in.ftpd",
            "stupid-ftpd",
        ],
    ),
    ("tftp", &["tftpd", "in.tftpd", "utftpd", "atftpd", "tftpd-hpa"]),
    ("snmp", &["snmpd", "mini_snmpd"]),
    ("upnp", &["miniupnpd", "upnpd", "upnpd-igd"]),
    (
        "tr-069",
        &[
            "cwmpd",
            "cwmp",
            "tr069",
            "tr69",
            "tr69c",
            "tr069c",
            "cwmpclient",
            "easycwmpd",
        ],
    ),
    (
        "http",
        &[
            "httpd",
            "lighttpd",
            "uhttpd",
            "boa",
            "goahead",
            "mini_httpd",
            "mini-httpd",
            "thttpd",
            "nginx",
            "webs",
            "shttpd",
        ],
    ),
    ("dns", &["dnsmasq", "named", "dnsproxy", "dnrd"]),
    ("dhcp", &["udhcpd", "dhcpd", "odhcpd", "dhcp6s"]),
    (
        "debug",
        &[
            "mfgd",
            "factory",
            "factoryd",
            "debugd",
            "diagd",
            "tddp",
            "ated",
            "ated_tp",
            "telnetenable",
            "nvramd",
            "mptd",
        ],
    ),
    ("console", &["getty", "agetty", "mgetty", "login", "sulogin"]),
];

/// Shells: a shell on a terminal is a console without login.
pub const SHELLS: &[&str] = &["sh", "ash", "bash", "hush", "msh", "dash", "ksh", "zsh"];

/// The class of a program, from its basename.
pub fn class_of(basename: &[u8]) -> Option<&'static str> {
    let lower = basename.to_ascii_lowercase();
    CLASSES
        .iter()
        .find(|(_, names)| names.iter().any(|n| n.as_bytes() == lower.as_slice()))
        .map(|(c, _)| *c)
}

/// The last path component.
pub fn basename(path: &[u8]) -> &[u8] {
    path.rsplit(|&c| c == b'/').next().unwrap_or(path)
}

/// Whether `path` names a shell.
pub fn is_shell(path: &[u8]) -> bool {
    let b = basename(path);
    let b = b.strip_prefix(b"-").unwrap_or(b);
    SHELLS.iter().any(|s| s.as_bytes() == b)
}

/// The value of option `flag` (`-p 23`, `-p23`) in `args`.
pub fn option<'a>(args: &'a [Vec<u8>], flag: &[u8]) -> Option<&'a [u8]> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a.as_slice() == flag {
            return it.next().map(Vec::as_slice);
        }
        if let Some(rest) = a.strip_prefix(flag)
            && !rest.is_empty()
            && !a.starts_with(b"--")
        {
            return Some(rest);
        }
    }
    None
}

/// Whether the single-letter flag `f` is given (alone or in a group: `-B`, `-FBR`).
pub fn has_flag(args: &[Vec<u8>], f: u8, with_value: &[u8]) -> bool {
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
            continue;
        }
        let Some(letters) = a.strip_prefix(b"-") else {
            continue;
        };
        if letters.starts_with(b"-") {
            continue;
        }
        for (i, &c) in letters.iter().enumerate() {
            if c == f {
                return true;
            }
            if with_value.contains(&c) {
                // The rest of the word, or the next word, is this option's value.
                skip = i + 1 == letters.len();
                break;
            }
        }
    }
    false
}

/// A port in `[addr:]port` form.
pub fn parse_port(v: &[u8]) -> Option<u16> {
    let p = v.rsplit(|&c| c == b':').next().unwrap_or(v);
    std::str::from_utf8(p).ok()?.parse().ok().filter(|&p| p > 0)
}

/// Port and protocol for a class, from the arguments or the class's standard port.
pub fn port_of(class: Option<&str>, basename: &[u8], args: &[Vec<u8>]) -> Option<(u16, &'static str)> {
    let from_args = |flag: &[u8]| option(args, flag).and_then(parse_port);
    match class? {
        "telnet" => Some((from_args(b"-p").unwrap_or(23), "tcp")),
        "ssh" => Some((from_args(b"-p").unwrap_or(22), "tcp")),
        "ftp" if basename != b"vsftpd" => Some((from_args(b"-p").unwrap_or(21), "tcp")),
        "ftp" => Some((21, "tcp")),
        "tftp" => Some((69, "udp")),
        "snmp" => Some((161, "udp")),
        "http" => from_args(b"-p").map(|p| (p, "tcp")),
        _ => None,
    }
}

/// Authentication posture from the arguments: `none`, `password`, `password-blank-allowed`,
/// `key` or `unknown`. Configuration files (sshd_config) refine it elsewhere.
pub fn authentication(class: Option<&str>, basename: &[u8], args: &[Vec<u8>]) -> &'static str {
    match class {
        Some("telnet") => match option(args, b"-l") {
            Some(login) if is_shell(login) => "none",
            _ => "password",
        },
        Some("ssh") if basename == b"dropbear" => {
            // dropbear: -s disables password logins, -B allows blank ones. Options taking a value
            // are skipped so that their value is not read as flags.
            let valued = b"bprPWKIcajkT";
            if has_flag(args, b's', valued) {
                "key"
            } else if has_flag(args, b'B', valued) {
                "password-blank-allowed"
            } else {
                "password"
            }
        }
        Some("ssh") => "password",
        Some("tftp") => "none",
        // UPnP IGD has no authentication by design; SNMP communities are shared passwords.
        Some("upnp") => "none",
        Some("snmp") => "password",
        Some("console") => "password",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn classes_ports_and_posture() {
        assert_eq!(class_of(b"utelnetd"), Some("telnet"));
        assert_eq!(class_of(b"dnsProxy"), Some("dns"));
        assert_eq!(class_of(b"ls"), None);
        let t = a(&["-l", "/bin/sh", "-p", "2323"]);
        assert_eq!(port_of(Some("telnet"), b"telnetd", &t), Some((2323, "tcp")));
        assert_eq!(authentication(Some("telnet"), b"telnetd", &t), "none");
        assert_eq!(
            authentication(Some("telnet"), b"telnetd", &a(&["-l", "/bin/login"])),
            "password"
        );
        let d = a(&["-F", "-P", "/var/run/db.pid", "-p", "0.0.0.0:2222", "-B"]);
        assert_eq!(port_of(Some("ssh"), b"dropbear", &d), Some((2222, "tcp")));
        assert_eq!(
            authentication(Some("ssh"), b"dropbear", &d),
            "password-blank-allowed"
        );
        assert_eq!(authentication(Some("ssh"), b"dropbear", &a(&["-sg"])), "key");
        // `-p B` is a port value, not the -B flag.
        assert_eq!(
            authentication(Some("ssh"), b"dropbear", &a(&["-p", "B"])),
            "password"
        );
        assert_eq!(port_of(Some("http"), b"httpd", &a(&["-p80"])), Some((80, "tcp")));
        assert_eq!(port_of(Some("http"), b"httpd", &[]), None);
        assert!(is_shell(b"-/bin/sh") && is_shell(b"ash") && !is_shell(b"/bin/login"));
    }
}
