//! Following the boot sequence of one root file system: inittab, rc scripts, init.d, systemd,
//! inetd and xinetd, down to the commands that start services.

use std::collections::{BTreeMap, BTreeSet};

use probity_model::ArtifactId;

use super::classify::{basename, class_of, is_shell};
use super::root::Root;
use super::{inittab, shell, units};

/// Deepest chain of scripts calling scripts that is followed.
pub const MAX_DEPTH: u32 = 8;
/// Most scripts read per root file system.
pub const MAX_SCRIPTS: usize = 2000;
/// Most script bytes read per root file system.
pub const MAX_SCRIPT_BYTES: usize = 64 << 20;
/// Most variables tracked per root file system.
const MAX_VARS: usize = 1024;

/// A command that starts a service, where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The program as written (after wrappers such as `start-stop-daemon` are removed).
    pub binary: Vec<u8>,
    /// Its arguments.
    pub arguments: Vec<Vec<u8>>,
    /// `inittab`, `rc-script`, `procd`, `systemd`, `inetd`, `xinetd`.
    pub started_by: &'static str,
    /// The file holding the starting line.
    pub file: ArtifactId,
    /// Its path in the root.
    pub path: Vec<u8>,
    /// Line (1-based) and last line of the starting command.
    pub line: u32,
    /// Last line of the starting command.
    pub last_line: u32,
    /// Byte range of the starting line(s) in the file.
    pub span: (usize, usize),
    /// Port and protocol given by the definition itself (inetd, xinetd).
    pub port: Option<(u16, &'static str)>,
    /// The inittab action, for inittab entries.
    pub action: Option<Vec<u8>>,
}

/// Where a command sits, and how what it starts is started.
#[derive(Debug, Clone)]
struct Site {
    file: ArtifactId,
    path: Vec<u8>,
    line: u32,
    last_line: u32,
    span: (usize, usize),
    started_by: &'static str,
    /// The command is a service whatever its name (procd, systemd, inittab respawn).
    explicit: bool,
    action: Option<Vec<u8>>,
}

/// Commands that are never services, even backgrounded or named `…d`.
const NOT_DAEMONS: &[&[u8]] = &[
    b"echo",
    b"sleep",
    b"cat",
    b"mount",
    b"umount",
    b"insmod",
    b"rmmod",
    b"modprobe",
    b"lsmod",
    b"depmod",
    b"ifconfig",
    b"route",
    b"mkdir",
    b"cp",
    b"mv",
    b"rm",
    b"ln",
    b"chmod",
    b"chown",
    b"test",
    b"[",
    b"[[",
    b"true",
    b"false",
    b"exit",
    b"export",
    b"set",
    b"read",
    b"sed",
    b"dd",
    b"cd",
    b"find",
    b"mknod",
    b"passwd",
    b"head",
    b"expand",
    b"pwd",
    b"wait",
    b"kill",
    b"killall",
    b"grep",
    b"awk",
    b"iptables",
    b"ip",
    b"brctl",
    b"vconfig",
    b"sysctl",
    b"logger",
    b"hostname",
    b"date",
    b"touch",
    b"nvram",
    b"uci",
    b"local",
    b"return",
    b"shift",
    b"trap",
    b"umask",
    b"ulimit",
    b"eval",
    b"printf",
    b"append",
    b"config_load",
    b"config_get",
    b"config_foreach",
    b"procd_open_instance",
    b"procd_close_instance",
    b"sync",
    b"usleep",
    b"unset",
    b"let",
    b"tar",
    b"gunzip",
    b"tr",
    b"cut",
    b"sort",
    b"ls",
    b"mkfs",
    b"mdev",
    b"hotplug",
    b"start",
    b"stop",
    b"restart",
    b"end",
    b"exec",
    b"reload",
    b"boot",
    b"case",
    b"esac",
    b"unload",
    b"load",
    b"killproc",
    b"uci_load",
    b"pidof",
];

fn is_daemon(b: &[u8], background: bool) -> bool {
    if NOT_DAEMONS.contains(&b) || b.is_empty() || b.contains(&b'$') || b.contains(&b'=') {
        return false;
    }
    if class_of(b).is_some() || background {
        return true;
    }
    b.len() > 2
        && b.ends_with(b"d")
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// Whether a file a command names is a script to follow rather than a program: not ELF, and
/// either a `#!` script or a file under `/etc` (vendor `rcS` files without a `#!` line).
fn is_script(data: &[u8], path: &[u8]) -> bool {
    !data.starts_with(b"\x7fELF") && (data.starts_with(b"#!") || path.starts_with(b"/etc/"))
}

fn is_assignment(w: &[u8]) -> bool {
    let Some(eq) = w.iter().position(|&c| c == b'=') else {
        return false;
    };
    let name = w.get(..eq).unwrap_or_default();
    name.first()
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
        && name.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// The walk over one root file system.
#[derive(Debug)]
pub struct Walk<'r, 't> {
    root: &'r Root<'t>,
    visited: BTreeSet<ArtifactId>,
    vars: BTreeMap<Vec<u8>, Vec<u8>>,
    bytes_read: usize,
    /// What was found, in discovery order.
    pub found: Vec<Found>,
}

impl<'r, 't> Walk<'r, 't> {
    /// A walk over `root`.
    pub fn new(root: &'r Root<'t>) -> Self {
        Walk {
            root,
            visited: BTreeSet::new(),
            vars: BTreeMap::new(),
            bytes_read: 0,
            found: Vec::new(),
        }
    }

    /// Runs every entry point.
    pub fn run(&mut self) {
        self.inittab();
        let mut starts: Vec<Vec<u8>> = Vec::new();
        for dir in self.root.under(b"/etc") {
            let Some(name_at) = dir.iter().rposition(|&c| c == b'/') else {
                continue;
            };
            let (parent, name) = (
                dir.get(..name_at).unwrap_or_default(),
                dir.get(name_at + 1..).unwrap_or_default(),
            );
            let rc_dir = parent == b"/etc/rc.d"
                || (parent.starts_with(b"/etc/rc")
                    && parent.ends_with(b".d")
                    && parent != b"/etc/rc.d/init.d");
            if rc_dir && name.starts_with(b"S") {
                starts.push(dir.clone());
            }
        }
        starts.push(b"/etc/rc.local".to_vec());
        starts.push(b"/etc/rc.d/rc.local".to_vec());
        for p in self.root.children(b"/etc/init.d") {
            starts.push(p);
        }
        for p in starts {
            self.script_entry(&p);
        }
        // Upstart jobs and runit services: their `exec` lines start the service.
        for p in self.root.children(b"/etc/init") {
            if p.ends_with(b".conf")
                && let Some((id, rp, data)) = self.text(&p)
            {
                self.script(id, rp, &data, 0, "upstart");
            }
        }
        for dir in [&b"/etc/sv"[..], b"/etc/service"] {
            for p in self.root.children(dir) {
                let mut run = p.clone();
                run.extend_from_slice(b"/run");
                if let Some((id, rp, data)) = self.text(&run) {
                    self.script(id, rp, &data, 0, "runit");
                }
            }
        }
        for dir in [
            &b"/lib/systemd/system"[..],
            b"/usr/lib/systemd/system",
            b"/etc/systemd/system",
        ] {
            for p in self.root.under(dir) {
                self.systemd(&p);
            }
        }
        // inetd.conf and xinetd.d only matter when the super-server itself is started.
        let started = |name: &[u8]| self.found.iter().any(|f| basename(&f.binary) == name);
        let (inetd, xinetd) = (started(b"inetd"), started(b"xinetd"));
        if inetd {
            self.inetd();
        }
        if xinetd {
            self.xinetd();
        }
    }

    fn text(&self, path: &[u8]) -> Option<(ArtifactId, Vec<u8>, Vec<u8>)> {
        let (id, p) = self.root.lookup(path)?;
        let data = self.root.read(id)?;
        Some((id, p, data))
    }

    fn inittab(&mut self) {
        let Some((id, path, data)) = self.text(b"/etc/inittab") else {
            // BusyBox init without an inittab runs /etc/init.d/rcS.
            self.script_entry(b"/etc/init.d/rcS");
            return;
        };
        for e in inittab::parse(&data) {
            let process = e.process.strip_prefix(b"-").unwrap_or(&e.process);
            let Some(cmd) = shell::commands(process).into_iter().next() else {
                continue;
            };
            let span = (e.offset, e.offset + e.length);
            let explicit = matches!(e.action.as_slice(), b"respawn" | b"askfirst" | b"once");
            let site = Site {
                file: id,
                path: path.clone(),
                line: e.line,
                last_line: e.line,
                span,
                started_by: "inittab",
                explicit: explicit || cmd.words.first().is_some_and(|w| is_shell(w)),
                action: Some(e.action.clone()),
            };
            self.command(cmd.words, cmd.background, &site, 0);
        }
    }

    /// A script the boot sequence starts by itself (requires a `#!` line).
    fn script_entry(&mut self, path: &[u8]) {
        if let Some((id, p, data)) = self.text(path)
            && data.starts_with(b"#!")
        {
            self.script(id, p, &data, 0, "rc-script");
        }
    }

    fn follow(&mut self, word: &[u8], depth: u32) {
        if depth >= MAX_DEPTH {
            return;
        }
        if let Some((id, p)) = self.root.command(word)
            && !self.visited.contains(&id)
            && self.root.head(id, 4).is_some_and(|h| !h.starts_with(b"\x7fELF"))
            && let Some(data) = self.root.read(id)
        {
            self.script(id, p, &data, depth + 1, "rc-script");
        }
    }

    fn script(&mut self, id: ArtifactId, path: Vec<u8>, data: &[u8], depth: u32, started_by: &'static str) {
        if self.visited.len() >= MAX_SCRIPTS
            || self.bytes_read.saturating_add(data.len()) > MAX_SCRIPT_BYTES
            || !self.visited.insert(id)
        {
            return;
        }
        self.bytes_read += data.len();
        for cmd in shell::commands(data) {
            let span = shell::line_span(data, cmd.start, cmd.end);
            let newlines = data
                .get(span.0..span.1)
                .map_or(0, |s| s.iter().filter(|&&c| c == b'\n').count());
            let site = Site {
                file: id,
                path: path.clone(),
                line: cmd.line,
                last_line: cmd.line.saturating_add(u32::try_from(newlines).unwrap_or(0)),
                span,
                started_by,
                explicit: false,
                action: None,
            };
            self.command(cmd.words, cmd.background, &site, depth);
        }
    }

    fn substitute(&self, w: &[u8]) -> Vec<u8> {
        if !w.contains(&b'$') {
            return w.to_vec();
        }
        let mut out = Vec::with_capacity(w.len());
        let mut i = 0;
        while let Some(&c) = w.get(i) {
            if c == b'$' {
                let braced = w.get(i + 1) == Some(&b'{');
                let start = i + 1 + usize::from(braced);
                let len = w
                    .get(start..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                    .count();
                let name = w.get(start..start + len).unwrap_or_default();
                let closed = !braced || w.get(start + len) == Some(&b'}');
                if len > 0
                    && closed
                    && let Some(v) = self.vars.get(name)
                {
                    out.extend_from_slice(v);
                    i = start + len + usize::from(braced);
                    continue;
                }
            }
            out.push(c);
            i += 1;
        }
        out
    }

    fn command(&mut self, words: Vec<Vec<u8>>, background: bool, site: &Site, depth: u32) {
        let assignments = words.iter().take_while(|w| is_assignment(w)).count();
        if assignments == words.len() {
            for w in &words {
                if let Some(eq) = w.iter().position(|&c| c == b'=')
                    && (self.vars.len() < MAX_VARS)
                {
                    let value = self.substitute(w.get(eq + 1..).unwrap_or_default());
                    self.vars.insert(w.get(..eq).unwrap_or_default().to_vec(), value);
                }
            }
            return;
        }
        let mut words: Vec<Vec<u8>> = words
            .iter()
            .skip(assignments)
            .map(|w| self.substitute(w))
            .collect();
        let mut site = site.clone();
        // Wrappers that run the next word.
        for _ in 0..8 {
            let Some(first) = words.first() else {
                return;
            };
            let b = basename(first).to_vec();
            if b == b"exec" && matches!(site.started_by, "upstart" | "runit") {
                // What an upstart or runit job `exec`s is the service.
                site.explicit = true;
            }
            let drop = match b.as_slice() {
                b"exec" | b"nohup" | b"setsid" | b"busybox" if words.len() > 1 => 1,
                b"nice" => 1 + usize::from(words.get(1).is_some_and(|w| w == b"-n")) * 2,
                b"env" => {
                    1 + words
                        .iter()
                        .skip(1)
                        .take_while(|w| is_assignment(w) || w.starts_with(b"-"))
                        .count()
                }
                b"chpst" => {
                    let mut i = 1;
                    while let Some(w) = words.get(i) {
                        if !w.starts_with(b"-") {
                            break;
                        }
                        let valued = matches!(
                            w.as_slice(),
                            b"-u"
                                | b"-U"
                                | b"-b"
                                | b"-e"
                                | b"-/"
                                | b"-n"
                                | b"-l"
                                | b"-L"
                                | b"-m"
                                | b"-d"
                                | b"-o"
                                | b"-p"
                                | b"-f"
                                | b"-c"
                        );
                        i += 1 + usize::from(valued);
                    }
                    i
                }
                b"start-stop-daemon" => {
                    if !words.iter().any(|w| w == b"-S" || w == b"--start") {
                        return;
                    }
                    let mut exec: Option<Vec<u8>> = None;
                    let mut it = words.iter().skip(1);
                    let mut rest: Vec<Vec<u8>> = Vec::new();
                    while let Some(w) = it.next() {
                        if w == b"--" {
                            rest = it.cloned().collect();
                            break;
                        }
                        if let Some(v) = w
                            .strip_prefix(b"--exec=")
                            .or_else(|| w.strip_prefix(b"--startas="))
                        {
                            exec = Some(v.to_vec());
                        } else if matches!(w.as_slice(), b"-x" | b"--exec" | b"-a" | b"--startas") {
                            exec = it.next().cloned();
                        }
                    }
                    let Some(exec) = exec else {
                        return;
                    };
                    words = std::iter::once(exec).chain(rest).collect();
                    site.explicit = true;
                    continue;
                }
                b"service" => {
                    if let Some(name) = words.get(1)
                        && words.get(2).is_none_or(|a| a == b"start")
                    {
                        let mut p = b"/etc/init.d/".to_vec();
                        p.extend_from_slice(name);
                        self.follow(&p, depth);
                    }
                    return;
                }
                _ => 0,
            };
            if drop == 0 {
                break;
            }
            words.drain(..drop.min(words.len()));
        }
        let Some(first) = words.first().cloned() else {
            return;
        };
        let b = basename(&first).to_vec();
        if b == b"exec" {
            // `exec 2>&1`: only redirects.
            return;
        }
        let rest: Vec<Vec<u8>> = words.iter().skip(1).cloned().collect();
        match b.as_slice() {
            b"." | b"source" => {
                if let Some(p) = rest.first() {
                    self.follow(p, depth);
                }
                return;
            }
            b"procd_set_param" => {
                if rest.first().is_some_and(|w| w == b"command")
                    && let Some(bin) = rest.get(1)
                {
                    site.started_by = "procd";
                    self.push(bin.clone(), rest.iter().skip(2).cloned().collect(), &site);
                }
                return;
            }
            b"procd_append_param" => {
                if rest.first().is_some_and(|w| w == b"command")
                    && let Some(last) = self.found.last_mut()
                    && last.started_by == "procd"
                    && last.file == site.file
                {
                    last.arguments.extend(rest.iter().skip(1).cloned());
                    // The evidence covers the lines from the `procd_set_param` to this one.
                    if site.span.1 > last.span.1 {
                        last.span.1 = site.span.1;
                        last.last_line = site.last_line;
                    }
                }
                return;
            }
            b"service_start" => {
                if let Some(bin) = rest.first() {
                    self.push(bin.clone(), rest.iter().skip(1).cloned().collect(), &site);
                }
                return;
            }
            _ => {}
        }
        if is_shell(&b) && !rest.is_empty() {
            if rest.first().is_some_and(|w| w == b"-c") {
                if let Some(code) = rest.get(1)
                    && depth < MAX_DEPTH
                {
                    for c in shell::commands(code) {
                        self.command(c.words, c.background, &site, depth + 1);
                    }
                }
            } else if let Some(script) = rest.iter().find(|w| !w.starts_with(b"-")) {
                self.follow(script, depth);
            }
            return;
        }
        if let Some((id, p)) = self.root.command(&first)
            && let Some(head) = self.root.head(id, 4)
            && is_script(&head, &p)
        {
            self.follow(&first, depth);
            return;
        }
        if site.explicit || is_daemon(&b, background) {
            self.push(first, rest, &site);
        }
    }

    fn push(&mut self, binary: Vec<u8>, arguments: Vec<Vec<u8>>, site: &Site) {
        self.found.push(Found {
            binary,
            arguments,
            started_by: site.started_by,
            file: site.file,
            path: site.path.clone(),
            line: site.line,
            last_line: site.last_line,
            span: site.span,
            port: None,
            action: site.action.clone(),
        });
    }

    fn systemd(&mut self, path: &[u8]) {
        let Some((id, p, data)) = self.text(path) else {
            return;
        };
        if !self.visited.insert(id) {
            return;
        }
        for e in units::parse_systemd(&data) {
            let Some(cmd) = shell::commands(&e.command).into_iter().next() else {
                continue;
            };
            let site = Site {
                file: id,
                path: p.clone(),
                line: e.at.line,
                last_line: e.at.line,
                span: (e.at.offset, e.at.offset + e.at.length),
                started_by: "systemd",
                explicit: true,
                action: None,
            };
            self.command(cmd.words, false, &site, 0);
        }
    }

    fn inetd(&mut self) {
        let Some((id, path, data)) = self.text(b"/etc/inetd.conf") else {
            return;
        };
        let services = self.text(b"/etc/services").map(|(_, _, d)| d);
        for e in units::parse_inetd(&data) {
            let protocol = if e.protocol.starts_with(b"udp") {
                "udp"
            } else {
                "tcp"
            };
            let port = std::str::from_utf8(&e.service)
                .ok()
                .and_then(|s| s.parse::<u16>().ok())
                .or_else(|| port_by_name(services.as_deref(), &e.service, protocol));
            self.found.push(Found {
                binary: e.server,
                arguments: e.arguments,
                started_by: "inetd",
                file: id,
                path: path.clone(),
                line: e.at.line,
                last_line: e.at.line,
                span: (e.at.offset, e.at.offset + e.at.length),
                port: port.map(|p| (p, protocol)),
                action: Some(e.service),
            });
        }
    }

    fn xinetd(&mut self) {
        let services = self.text(b"/etc/services").map(|(_, _, d)| d);
        let mut files = vec![b"/etc/xinetd.conf".to_vec()];
        files.extend(self.root.children(b"/etc/xinetd.d"));
        for f in files {
            let Some((id, path, data)) = self.text(&f) else {
                continue;
            };
            for s in units::parse_xinetd(&data) {
                if s.disabled {
                    continue;
                }
                let Some(at) = s.server_at.or(s.at) else {
                    continue;
                };
                let protocol = if s.protocol.as_deref().is_some_and(|p| p.starts_with(b"udp")) {
                    "udp"
                } else {
                    "tcp"
                };
                let port = s
                    .port
                    .or_else(|| port_by_name(services.as_deref(), &s.name, protocol));
                self.found.push(Found {
                    binary: s.server,
                    arguments: s.arguments,
                    started_by: "xinetd",
                    file: id,
                    path: path.clone(),
                    line: at.line,
                    last_line: at.line,
                    span: (at.offset, at.offset + at.length),
                    port: port.map(|p| (p, protocol)),
                    action: Some(s.name),
                });
            }
        }
    }
}

/// Well-known ports, for inetd service names when the image has no `/etc/services`.
const WELL_KNOWN: &[(&str, u16, &str)] = &[
    ("ftp", 21, "tcp"),
    ("ssh", 22, "tcp"),
    ("telnet", 23, "tcp"),
    ("smtp", 25, "tcp"),
    ("domain", 53, "udp"),
    ("tftp", 69, "udp"),
    ("http", 80, "tcp"),
    ("pop3", 110, "tcp"),
    ("snmp", 161, "udp"),
    ("https", 443, "tcp"),
    ("exec", 512, "tcp"),
    ("login", 513, "tcp"),
    ("shell", 514, "tcp"),
];

/// The port of an inetd service name, from the image's `/etc/services` or the built-in table.
pub fn port_by_name(services: Option<&[u8]>, name: &[u8], protocol: &str) -> Option<u16> {
    if let Some(src) = services {
        for line in src.split(|&c| c == b'\n') {
            let line = line.split(|&c| c == b'#').next().unwrap_or_default();
            let mut f = line.split(|c| c.is_ascii_whitespace()).filter(|w| !w.is_empty());
            let (Some(n), Some(pp)) = (f.next(), f.next()) else {
                continue;
            };
            let mut pp = pp.splitn(2, |&c| c == b'/');
            let (Some(port), Some(proto)) = (pp.next(), pp.next()) else {
                continue;
            };
            if proto != protocol.as_bytes() {
                continue;
            }
            if n == name || f.any(|alias| alias == name) {
                return std::str::from_utf8(port).ok()?.parse().ok();
            }
        }
    }
    WELL_KNOWN
        .iter()
        .find(|(n, _, p)| n.as_bytes() == name && *p == protocol)
        .map(|(_, port, _)| *port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_names() {
        assert!(is_daemon(b"lld2d", false));
        assert!(is_daemon(b"cos", true));
        assert!(!is_daemon(b"cos", false));
        assert!(!is_daemon(b"insmod", false));
        assert!(!is_daemon(b"sleep", true));
        assert!(!is_daemon(b"rc.d", false));
        assert!(is_assignment(b"PROG=/usr/sbin/x") && !is_assignment(b"-p=1") && !is_assignment(b"x"));
    }

    #[test]
    fn services_file() {
        let s = b"# x\ntelnet\t\t23/tcp\nmytftp 6969/udp tftp2 # alias\n";
        assert_eq!(port_by_name(Some(s), b"telnet", "tcp"), Some(23));
        assert_eq!(port_by_name(Some(s), b"tftp2", "udp"), Some(6969));
        assert_eq!(port_by_name(Some(s), b"tftp", "udp"), Some(69));
        assert_eq!(port_by_name(None, b"nope", "tcp"), None);
    }
}
