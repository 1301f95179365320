//! The rules of the boot attack-surface analyzer (area SVC) and their documentation.

use probity_model::{Confidence, RuleDescriptor, Severity};

use super::ID;

/// Telnet service started at boot.
pub const TELNET: &str = "PRB-SVC-001";
/// Shell on a console without login.
pub const CONSOLE_SHELL: &str = "PRB-SVC-002";
/// dropbear allows blank passwords.
pub const DROPBEAR_BLANK: &str = "PRB-SVC-003";
/// sshd permits empty passwords.
pub const SSHD_EMPTY: &str = "PRB-SVC-004";
/// sshd permits root login with a password.
pub const SSHD_ROOT: &str = "PRB-SVC-005";
/// TFTP or anonymous FTP started at boot.
pub const FILE_TRANSFER: &str = "PRB-SVC-006";
/// SNMP default community.
pub const SNMP_COMMUNITY: &str = "PRB-SVC-007";
/// Vendor debug or manufacturing daemon started at boot.
pub const DEBUG_DAEMON: &str = "PRB-SVC-008";

const HOW_WALK: &str = "For each root file system in the input (every container or scanned directory whose members \
     include `/etc`, and every directory in one that holds an `etc/` of its own, such as `squashfs-root/`), the analyzer reads `/etc/inittab` (or `/etc/init.d/rcS`, BusyBox's \
     default, when there is none), the start scripts under `/etc/rc.d` and `/etc/rc*.d`, `rc.local`, every \
     script in `/etc/init.d` (OpenWrt procd scripts included: `procd_set_param command`), systemd units \
     (`ExecStart=` under `lib/systemd/system` and `etc/systemd/system`), upstart jobs (`/etc/init/*.conf`), \
     runit services (`/etc/sv/*/run`, `/etc/service/*/run`), and `inetd.conf` or `xinetd.d` when inetd or xinetd \
     is itself started. \
     Scripts are split into simple commands by a shell-line tokenizer (quotes, comments, continuations, \
     `;`, `&`, `&&`, `|`, redirections) and the scripts they call (`/etc/rc.d/rc.local`, \
     `. /lib/functions.sh`, `sh /etc/init.d/x start`) are followed, at most 8 calls deep and each script \
     once. A command is a service when the program is a known daemon, runs in the background (`&`), is \
     named like a daemon (`…d`), or is started through `start-stop-daemon`, procd, systemd, inetd or an \
     inittab `respawn`/`askfirst`/`once` entry. Symbolic links are resolved inside the root file system.";

const FN_STATIC: &str = "The scripts are read, not run: every line counts whatever branch of an `if` or `case` it \
     is in, so a command that only runs under a condition that never holds (or in a function nobody \
     calls) is still reported. Check the evidence line in its context.";

const FN_STATIC_MISSES: &str = "Services started by compiled programs (a vendor `rc` binary, a web server that starts \
     telnetd on request), by scripts built at run time, by variables the simple assignment tracking does not \
     resolve, by `eval`, or by init systems not read here (s6, OpenRC's own syntax, vendor init binaries) are missed, and so are root \
     file systems Probity could not unpack.";

struct Spec {
    id: &'static str,
    name: &'static str,
    title: &'static str,
    severity: Severity,
    confidence: Confidence,
    cwe: &'static [&'static str],
    references: &'static [&'static str],
    remediation: &'static str,
    detects: &'static str,
    why: &'static str,
    how: &'static str,
    false_positives: &'static str,
    false_negatives: &'static str,
    example: &'static str,
}

fn specs() -> Vec<Spec> {
    vec![
        Spec {
            id: TELNET,
            name: "TelnetServiceAtBoot",
            title: "Telnet service started at boot",
            severity: Severity::High,
            confidence: Confidence::Likely,
            cwe: &["CWE-319", "CWE-306"],
            references: &[
                "https://cwe.mitre.org/data/definitions/319.html",
                "https://www.usenix.org/conference/usenixsecurity17/technical-sessions/presentation/antonakakis",
                "https://www.cisa.gov/uscert/ncas/alerts/TA16-288A",
            ],
            remediation: "Do not start a telnet daemon in production firmware; offer SSH with per-device credentials \
                 if remote shell access is needed. Never start telnetd with `-l /bin/sh`.",
            detects: "A telnet daemon (`telnetd`, `utelnetd`, `in.telnetd`, BusyBox's `telnetd` applet) started by \
                 a boot script, init entry, unit or inetd. Critical when it is started with a shell as its \
                 login program (`telnetd -l /bin/sh`): anyone who reaches the port gets a root shell without a \
                 password.",
            why: "Telnet sends credentials in clear and is the service the Mirai family of botnets scans for \
                 with lists of factory passwords; `-l /bin/sh` skips authentication entirely and is a classic \
                 vendor backdoor.",
            how: HOW_WALK,
            false_positives: FN_STATIC,
            false_negatives: FN_STATIC_MISSES,
            example: "`rootfs ▸ /etc/init.d/rcS @0x3a+31`: `telnetd -l /bin/sh -p 2323 &` (line 4); telnetd is a \
                 BusyBox applet compiled into /bin/busybox.",
        },
        Spec {
            id: CONSOLE_SHELL,
            name: "ConsoleShellWithoutLogin",
            title: "Shell on a console without login",
            severity: Severity::High,
            confidence: Confidence::Likely,
            cwe: &["CWE-306"],
            references: &[
                "https://cwe.mitre.org/data/definitions/306.html",
                "https://git.busybox.net/busybox/tree/examples/inittab",
            ],
            remediation: "Start `getty`/`login` (or nothing) on serial consoles instead of a shell.",
            detects: "An `/etc/inittab` entry that starts a shell (`sh`, `ash`, `bash`, …, often as `-/bin/sh`) \
                 on a terminal with `respawn`, `askfirst`, `once`, `wait` or `sysinit`.",
            why: "Whoever connects to the serial console (a few pins on the board) gets a root shell without a \
                 password, which lets them read every secret of the device and change its software.",
            how: "`/etc/inittab` of every root file system is parsed in its SysV and BusyBox forms; entries that \
                 run at boot in the default runlevel are kept, and their process field is split by the shell \
                 tokenizer.",
            false_positives: "A console that is not wired out on the production board; a shell that itself asks \
                 for a password (rare).",
            false_negatives: "Consoles opened by scripts or by compiled programs rather than by inittab; a getty \
                 started with auto-login (`-a root`, `-n -l /bin/sh`).",
            example: "`rootfs ▸ /etc/inittab @0x1a+24`: `ttyS0::askfirst:-/bin/sh` (line 2).",
        },
        Spec {
            id: DROPBEAR_BLANK,
            name: "DropbearBlankPasswords",
            title: "dropbear SSH server allows blank passwords",
            severity: Severity::High,
            confidence: Confidence::Likely,
            cwe: &["CWE-521", "CWE-258"],
            references: &[
                "https://manpages.debian.org/bookworm/dropbear-bin/dropbear.8.en.html",
                "https://cwe.mitre.org/data/definitions/521.html",
            ],
            remediation: "Remove `-B`; require keys (`-s`) or per-device passwords.",
            detects: "dropbear started with `-B`, which lets accounts with an empty password log in.",
            why: "Embedded images often ship accounts with empty passwords (root among them); with `-B` these \
                 become a remote login without credentials.",
            how: HOW_WALK,
            false_positives: FN_STATIC,
            false_negatives: FN_STATIC_MISSES,
            example: "`rootfs ▸ /etc/init.d/dropbear @0x95+52`: `procd_set_param command /usr/sbin/dropbear -F -B \
                 -p 22` (line 6).",
        },
        Spec {
            id: SSHD_EMPTY,
            name: "SshdPermitEmptyPasswords",
            title: "OpenSSH server permits empty passwords",
            severity: Severity::High,
            confidence: Confidence::Likely,
            cwe: &["CWE-258", "CWE-521"],
            references: &[
                "https://man.openbsd.org/sshd_config#PermitEmptyPasswords",
                "https://cwe.mitre.org/data/definitions/258.html",
            ],
            remediation: "Set `PermitEmptyPasswords no` (the default).",
            detects: "`PermitEmptyPasswords yes` in an `sshd_config` (before any `Match` block).",
            why: "Accounts with an empty password can log in over the network without credentials.",
            how: "Every `/etc/ssh/sshd_config` of a root file system is read as sshd does: case-insensitive \
                 keywords, the first value of each keyword wins, `Match` blocks are conditional and not read.",
            false_positives: "A configuration that is shipped but never used (sshd not started, or started with \
                 `-f` pointing at another file): the message says whether sshd is started at boot.",
            false_negatives: "Settings in `Include`d files or inside `Match` blocks; configuration generated at \
                 run time.",
            example: "`rootfs ▸ /etc/ssh/sshd_config @0x10+24`: `PermitEmptyPasswords yes` (line 2).",
        },
        Spec {
            id: SSHD_ROOT,
            name: "SshdRootPasswordLogin",
            title: "OpenSSH server permits root login with a password",
            severity: Severity::Medium,
            confidence: Confidence::Likely,
            cwe: &["CWE-250", "CWE-307"],
            references: &[
                "https://man.openbsd.org/sshd_config#PermitRootLogin",
                "https://cwe.mitre.org/data/definitions/307.html",
            ],
            remediation: "Set `PermitRootLogin prohibit-password` (or `no`) and use keys.",
            detects: "`PermitRootLogin yes` while password authentication is not switched off.",
            why: "The root account can be attacked with password guessing over the network; on embedded devices \
                 its password is often a default shared by every unit.",
            how: "As for PRB-SVC-004: `PermitRootLogin` and `PasswordAuthentication` are read from each \
                 `sshd_config` (password authentication is on unless set to `no`).",
            false_positives: "A configuration that is not used at run time.",
            false_negatives: "Settings in `Include`d files, `Match` blocks, or generated at run time.",
            example: "`rootfs ▸ /etc/ssh/sshd_config @0x0+19`: `PermitRootLogin yes` (line 1).",
        },
        Spec {
            id: FILE_TRANSFER,
            name: "UnauthenticatedFileTransfer",
            title: "File transfer service without authentication started at boot",
            severity: Severity::High,
            confidence: Confidence::Likely,
            cwe: &["CWE-306"],
            references: &[
                "https://www.rfc-editor.org/rfc/rfc1350",
                "https://cwe.mitre.org/data/definitions/306.html",
            ],
            remediation: "Do not run a TFTP server or an anonymous FTP server on production devices.",
            detects: "A TFTP server started at boot (TFTP has no authentication at all), or an FTP server whose \
                 configuration enables anonymous login (`anonymous_enable=YES` in `vsftpd.conf`).",
            why: "Anyone who reaches the port can read (and often write) files on the device: configuration \
                 with credentials, or a replaced binary.",
            how: HOW_WALK,
            false_positives: FN_STATIC,
            false_negatives: FN_STATIC_MISSES,
            example: "`rootfs ▸ /etc/inetd.conf @0x2e+48`: `tftp dgram udp wait root /usr/sbin/tftpd tftpd /srv` \
                 (line 2).",
        },
        Spec {
            id: SNMP_COMMUNITY,
            name: "SnmpDefaultCommunity",
            title: "SNMP agent configured with a default community",
            severity: Severity::Medium,
            confidence: Confidence::Likely,
            cwe: &["CWE-1392", "CWE-798"],
            references: &[
                "https://www.cisa.gov/uscert/ncas/alerts/TA17-156A",
                "https://cwe.mitre.org/data/definitions/1392.html",
            ],
            remediation: "Use SNMPv3 with per-device credentials, or at least unique community strings; never a \
                 read-write `private` community.",
            detects: "`public` or `private` as a community in `snmpd.conf` (`rocommunity`, `rwcommunity`, \
                 `com2sec`). High for a community with write access.",
            why: "The default communities are the first thing scanners try; a read community leaks the device's \
                 configuration, a write community changes it.",
            how: "Every `snmpd.conf` under `/etc` of a root file system is read line by line.",
            false_positives: "A configuration that is shipped but replaced at run time (many vendors generate \
                 `snmpd.conf` from their settings database at boot).",
            false_negatives: "Communities set on the command line or generated at run time; non-default but \
                 guessable strings.",
            example: "`rootfs ▸ /etc/snmp/snmpd.conf @0x1a+26`: `rwcommunity private default` (line 2).",
        },
        Spec {
            id: DEBUG_DAEMON,
            name: "DebugDaemonAtBoot",
            title: "Vendor debug or manufacturing daemon started at boot",
            severity: Severity::Medium,
            confidence: Confidence::Possible,
            cwe: &["CWE-489", "CWE-1188"],
            references: &[
                "https://cwe.mitre.org/data/definitions/489.html",
                "http://www.devttys0.com/2013/10/from-china-with-love/",
            ],
            remediation: "Remove manufacturing and debug daemons from production images, or start them only on an \
                 authenticated request.",
            detects: "A daemon whose name marks a factory, debug or test service (`mfgd`, `factory`, `debugd`, \
                 `diagd`, `tddp`, `ated`, `telnetenable`, …) started at boot.",
            why: "These services are meant for the production line and typically accept commands without \
                 authentication: the Tenda `w302r_mfg` backdoor and TP-Link's TDDP are examples.",
            how: HOW_WALK,
            false_positives: "A daemon of that name that is harmless, or that checks a per-device secret.",
            false_negatives: "Debug services with other names, and those started by compiled programs.",
            example: "`rootfs ▸ /etc/init.d/rcS @0x80+6`: `mfgd &` (line 9).",
        },
    ]
}

/// The rule descriptors.
pub fn descriptors() -> Vec<RuleDescriptor> {
    specs()
        .into_iter()
        .filter_map(|s| {
            crate::rules::RuleSpec {
                id: s.id,
                name: s.name,
                title: s.title,
                severity: s.severity,
                confidence: s.confidence,
                cwe: s.cwe,
                references: s.references,
                remediation: s.remediation,
                doc: crate::rules::rule_doc([
                    s.detects,
                    s.why,
                    s.how,
                    s.false_positives,
                    s.false_negatives,
                    s.example,
                ]),
            }
            .build(ID)
        })
        .collect()
}
