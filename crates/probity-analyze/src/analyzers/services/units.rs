//! Service definitions that are not shell scripts: systemd units (`ExecStart=`), `inetd.conf`
//! and `xinetd.d/*`. Each parser returns the lines that start a program, with their location.

/// Most entries read from one file.
pub const MAX_ENTRIES: usize = 4096;

/// A line of a file with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Line number (1-based).
    pub line: u32,
    /// Offset of the line.
    pub offset: usize,
    /// Length of the line (without its newline).
    pub length: usize,
}

/// Splits `src` into lines with positions (no `\r`).
pub fn lines(src: &[u8]) -> impl Iterator<Item = (Located, &[u8])> {
    let mut offset = 0usize;
    src.split(|&c| c == b'\n').enumerate().map(move |(n, raw)| {
        let here = offset;
        offset = offset.saturating_add(raw.len() + 1);
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        (
            Located {
                line: u32::try_from(n + 1).unwrap_or(u32::MAX),
                offset: here,
                length: line.len(),
            },
            line,
        )
    })
}

/// An `ExecStart=` of a systemd unit's `[Service]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecStart {
    /// The command line, prefixes (`-`, `@`, `:`, `+`, `!`) removed.
    pub command: Vec<u8>,
    /// Where.
    pub at: Located,
}

/// The `ExecStart=` lines of a unit (continuation lines are not joined: the first line is read).
pub fn parse_systemd(src: &[u8]) -> Vec<ExecStart> {
    let mut section: Vec<u8> = Vec::new();
    let mut out = Vec::new();
    for (at, line) in lines(src) {
        let t = line.trim_ascii();
        if t.starts_with(b"#") || t.starts_with(b";") {
            continue;
        }
        if let Some(rest) = t.strip_prefix(b"[") {
            section = rest.strip_suffix(b"]").unwrap_or(rest).to_vec();
            continue;
        }
        if section != b"Service" {
            continue;
        }
        let Some(eq) = t.iter().position(|&c| c == b'=') else {
            continue;
        };
        let (key, value) = (
            t.get(..eq).unwrap_or_default(),
            t.get(eq + 1..).unwrap_or_default(),
        );
        if key.trim_ascii() != b"ExecStart" {
            continue;
        }
        let mut v = value.trim_ascii();
        while let Some((&c, rest)) = v.split_first() {
            if matches!(c, b'-' | b'@' | b':' | b'+' | b'!') {
                v = rest;
            } else {
                break;
            }
        }
        if v.is_empty() {
            continue;
        }
        out.push(ExecStart {
            command: v.to_vec(),
            at,
        });
        if out.len() >= MAX_ENTRIES {
            break;
        }
    }
    out
}

/// An `inetd.conf` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InetdEntry {
    /// The service name or port (`telnet`, `23`, `127.0.0.1:23`: the address is dropped).
    pub service: Vec<u8>,
    /// The protocol (`tcp`, `udp`, `tcp6`, …).
    pub protocol: Vec<u8>,
    /// The server program.
    pub server: Vec<u8>,
    /// Its arguments, `argv[0]` left out.
    pub arguments: Vec<Vec<u8>>,
    /// Where.
    pub at: Located,
}

/// The entries of an `inetd.conf` (`service socket-type protocol wait user server argv…`).
pub fn parse_inetd(src: &[u8]) -> Vec<InetdEntry> {
    let mut out = Vec::new();
    for (at, line) in lines(src) {
        let t = line.trim_ascii();
        if t.is_empty() || t.starts_with(b"#") {
            continue;
        }
        let f: Vec<&[u8]> = t
            .split(|c| c.is_ascii_whitespace())
            .filter(|w| !w.is_empty())
            .take(64)
            .collect();
        let (Some(service), Some(protocol), Some(server)) = (f.first(), f.get(2), f.get(5)) else {
            continue;
        };
        let service = service
            .iter()
            .rposition(|&c| c == b':')
            .and_then(|p| service.get(p + 1..))
            .unwrap_or(service);
        if *server == b"internal" {
            continue;
        }
        // `tcpd` (TCP wrappers) runs its argv[0]: the program is the next field.
        let wrapped = server.rsplit(|&c| c == b'/').next() == Some(b"tcpd");
        let (server, args_from) = match (wrapped, f.get(6)) {
            (true, Some(argv0)) => (argv0, 7),
            _ => (server, 7),
        };
        out.push(InetdEntry {
            service: service.to_vec(),
            protocol: protocol.to_vec(),
            server: server.to_vec(),
            arguments: f.iter().skip(args_from).map(|w| w.to_vec()).collect(),
            at,
        });
        if out.len() >= MAX_ENTRIES {
            break;
        }
    }
    out
}

/// A `service` block of an xinetd file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct XinetdService {
    /// The service name.
    pub name: Vec<u8>,
    /// `server`.
    pub server: Vec<u8>,
    /// `server_args`, split on blanks.
    pub arguments: Vec<Vec<u8>>,
    /// `port`.
    pub port: Option<u16>,
    /// `protocol`.
    pub protocol: Option<Vec<u8>>,
    /// `disable = yes`.
    pub disabled: bool,
    /// The `service` line.
    pub at: Option<Located>,
    /// The `server` line.
    pub server_at: Option<Located>,
}

/// The service blocks of an xinetd configuration file.
pub fn parse_xinetd(src: &[u8]) -> Vec<XinetdService> {
    let mut out = Vec::new();
    let mut current: Option<XinetdService> = None;
    for (at, line) in lines(src) {
        let t = line.trim_ascii();
        if t.is_empty() || t.starts_with(b"#") {
            continue;
        }
        if let Some(name) = t.strip_prefix(b"service") {
            let name = name.trim_ascii();
            current = Some(XinetdService {
                name: name.strip_suffix(b"{").unwrap_or(name).trim_ascii().to_vec(),
                at: Some(at),
                ..XinetdService::default()
            });
            continue;
        }
        if t.starts_with(b"}") {
            if let Some(s) = current.take()
                && !s.server.is_empty()
                && out.len() < MAX_ENTRIES
            {
                out.push(s);
            }
            continue;
        }
        let Some(s) = current.as_mut() else {
            continue;
        };
        let Some(eq) = t.iter().position(|&c| c == b'=') else {
            continue;
        };
        let key = t.get(..eq).unwrap_or_default();
        let key = key
            .strip_suffix(b"+")
            .or_else(|| key.strip_suffix(b"-"))
            .unwrap_or(key);
        let value = t.get(eq + 1..).unwrap_or_default().trim_ascii();
        match key.trim_ascii() {
            b"server" => {
                s.server = value.to_vec();
                s.server_at = Some(at);
            }
            b"server_args" => {
                s.arguments = value
                    .split(|c| c.is_ascii_whitespace())
                    .filter(|w| !w.is_empty())
                    .take(64)
                    .map(<[u8]>::to_vec)
                    .collect();
            }
            b"port" => s.port = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()),
            b"protocol" => s.protocol = Some(value.to_vec()),
            b"disable" => s.disabled = value.eq_ignore_ascii_case(b"yes"),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemd_exec_start() {
        let src = b"[Unit]\nExecStart=/not/here\n[Service]\nType=notify\nExecStartPre=/bin/sh -c x\nExecStart=-/usr/sbin/foobar -n\n# ExecStart=/x\nExecStart=\n[Install]\nExecStart=/nope\n";
        let e = parse_systemd(src);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].command, b"/usr/sbin/foobar -n");
        assert_eq!(
            e[0].at,
            Located {
                line: 6,
                offset: 75,
                length: 30
            }
        );
    }

    #[test]
    fn inetd_entries() {
        let src = b"# comment\ntelnet\tstream tcp nowait root /usr/sbin/telnetd telnetd -i\n127.0.0.1:69 dgram udp wait root /usr/sbin/tftpd tftpd /tftpboot\nshort line\necho stream tcp nowait root internal\nftp stream tcp nowait root /usr/sbin/tcpd in.ftpd -l\n";
        let e = parse_inetd(src);
        assert_eq!(e.len(), 3);
        assert_eq!(e[2].server, b"in.ftpd");
        assert_eq!(e[2].arguments, vec![b"-l".to_vec()]);
        assert_eq!(e[0].service, b"telnet");
        assert_eq!(e[0].server, b"/usr/sbin/telnetd");
        assert_eq!(e[0].arguments, vec![b"-i".to_vec()]);
        assert_eq!(e[0].at.line, 2);
        assert_eq!(e[1].service, b"69");
        assert_eq!(e[1].protocol, b"udp");
    }

    #[test]
    fn xinetd_blocks() {
        let src = b"service telnet\n{\n  disable = no\n  server = /usr/sbin/in.telnetd\n  server_args = -h -L /bin/login\n  port = 23\n  protocol = tcp\n}\nservice tftp {\n disable = yes\n server = /usr/sbin/in.tftpd\n}\n";
        let s = parse_xinetd(src);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].name, b"telnet");
        assert_eq!(s[0].arguments.len(), 3);
        assert_eq!(s[0].port, Some(23));
        assert_eq!(s[0].server_at.as_ref().map(|a| a.line), Some(4));
        assert!(!s[0].disabled);
        assert!(s[1].disabled);
    }

    #[test]
    fn hostile() {
        for src in [
            &b"\xff[Service]\nExecStart=\xff"[..],
            b"[",
            b"=",
            b"service {\n}",
            b"a b c d e f",
        ] {
            let _ = (parse_systemd(src), parse_inetd(src), parse_xinetd(src));
        }
        let many = "[Service]\n".to_string() + &"ExecStart=/x\n".repeat(MAX_ENTRIES + 1);
        assert_eq!(parse_systemd(many.as_bytes()).len(), MAX_ENTRIES);
    }
}
