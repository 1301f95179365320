//! End-to-end: the services started at boot and the permission findings, on the root file system
//! built by `tests/fixtures/services.sh` and on the corpus (TL-WR841N, MT7628, FACT's init
//! systems), with exact inventories, findings and evidence.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use common::*;
use serde_json::Value;

/// Builds the fixture root file system into a fresh temporary directory.
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(workspace().join("tests/fixtures/services.sh"))
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    dir
}

/// One service as a line: `file:line binary [args] by port/proto class auth`.
fn service_lines(r: &Value) -> Vec<String> {
    r["inventory"]["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let loc = s["locations"].as_array().unwrap();
            assert_eq!(loc.len(), 1);
            let member = loc[0]["hops"].as_array().unwrap().last().unwrap()["member"]
                .as_str()
                .unwrap()
                .to_string();
            let args: Vec<&str> = s["arguments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            let port = match (s["port"].as_u64(), s["protocol"].as_str()) {
                (Some(p), Some(proto)) => format!("{p}/{proto}"),
                _ => "-".into(),
            };
            format!(
                "{member}:{} {} [{}] {} {port} {} {}",
                s["line"],
                s["binary"].as_str().unwrap(),
                args.join(" "),
                s["started_by"].as_str().unwrap(),
                s["class"].as_str().unwrap_or("-"),
                s["authentication"].as_str().unwrap()
            ) + &details(s)
        })
        .collect()
}

/// A service's details as ` name=value,…` (empty when it has none).
fn details(s: &Value) -> String {
    let Some(d) = s["details"].as_array() else {
        return String::new();
    };
    let parts: Vec<String> = d
        .iter()
        .map(|f| format!("{}={}", f["name"].as_str().unwrap(), f["value"].as_str().unwrap()))
        .collect();
    format!(" {}", parts.join(","))
}

/// One finding as a line: `rule severity confidence member [offset+length lines a-b]…`.
fn finding_lines(r: &Value, prefixes: &[&str]) -> Vec<String> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            let id = f["rule_id"].as_str().unwrap();
            prefixes.iter().any(|p| id.starts_with(p))
        })
        .map(|f| {
            let member = f["locations"][0]["hops"].as_array().unwrap().last().unwrap()["member"]
                .as_str()
                .unwrap()
                .to_string();
            let ev: Vec<String> = f["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| match e["type"].as_str().unwrap() {
                    "lines" => format!(
                        "{}+{} L{}-{}",
                        e["region"]["offset"], e["region"]["length"], e["first_line"], e["last_line"]
                    ),
                    other => format!("{other}:{}", e["format"].as_str().unwrap_or("")),
                })
                .collect();
            format!(
                "{} {} {} {member} {}",
                f["rule_id"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
                f["confidence"].as_str().unwrap(),
                ev.join(" ")
            )
        })
        .collect()
}

fn finding<'a>(r: &'a Value, rule: &str, member: &str) -> &'a Value {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == rule && f["locations"][0]["hops"][0]["member"] == member)
        .unwrap_or_else(|| panic!("no {rule} on {member}"))
}

#[test]
fn fixture_services_inventory_is_exact() {
    let dir = fixture();
    let (r, bytes) = scan_json(&dir.path().join("rootfs"));
    validate_report_schema(&bytes).unwrap();
    assert_eq!(
        service_lines(&r),
        [
            "/etc/inetd.conf:2 /usr/sbin/telnetd [-i] inetd 23/tcp telnet password busybox-applet=compiled-in",
            "/etc/inetd.conf:3 /usr/sbin/tftpd [-c /srv/tftp] inetd 69/udp tftp none busybox-applet=absent",
            "/etc/init.d/dropbear:8 /usr/sbin/dropbear [-F -P /var/run/dropbear.pid -B -p 22] procd 22/tcp ssh password-blank-allowed",
            "/etc/init.d/network:3 httpd [-p 80 -h /www] rc-script 80/tcp http unknown busybox-applet=compiled-in,cgi-directory=/www/cgi-bin",
            "/etc/init.d/rcS:4 telnetd [-l /bin/sh -p 2323] rc-script 2323/tcp telnet none busybox-applet=compiled-in",
            "/etc/init.d/rcS:7 /usr/sbin/mfgd [] rc-script - debug unknown",
            "/etc/init.d/rcS:8 /usr/sbin/inetd [] rc-script - - unknown",
            "/etc/inittab:2 /bin/sh [] inittab - console none busybox-applet=compiled-in",
            "/etc/inittab:3 /sbin/getty [-L ttyS1 115200 vt100] inittab - console password busybox-applet=compiled-in",
            "/etc/systemd/system/sshd.service:3 /usr/sbin/sshd [-D] systemd 2222/tcp ssh password-blank-allowed",
            "/lib/functions.sh:3 udhcpd [/etc/udhcpd.conf] rc-script - dhcp unknown busybox-applet=compiled-in",
            "/lib/systemd/system/snmpd.service:5 /usr/sbin/snmpd [-Lsd -f] systemd 161/udp snmp password",
        ]
    );
    assert_eq!(r["problems"].as_array().unwrap().len(), 0);
}

#[test]
fn fixture_service_findings_are_exact() {
    let dir = fixture();
    let (r, _) = scan_json(&dir.path().join("rootfs"));
    assert_eq!(
        finding_lines(&r, &["PRB-SVC"]),
        [
            "PRB-SVC-001 critical likely /etc/init.d/rcS 33+28 L4-4 record:busybox-applets",
            "PRB-SVC-001 high likely /etc/inetd.conf 17+58 L2-2 record:busybox-applets",
            "PRB-SVC-002 high likely /etc/inittab 26+24 L2-2 record:busybox-applets",
            "PRB-SVC-003 high likely /etc/init.d/dropbear 110+97 L8-9",
            "PRB-SVC-004 high likely /etc/ssh/sshd_config 30+24 L3-3",
            // tftpd is a link to a BusyBox without the tftpd applet: only possible.
            "PRB-SVC-006 high possible /etc/inetd.conf 76+59 L3-3 record:busybox-applets",
            "PRB-SVC-007 high likely /etc/snmp/snmpd.conf 43+27 L3-3",
            "PRB-SVC-005 medium likely /etc/ssh/sshd_config 10+19 L2-2",
            "PRB-SVC-007 medium likely /etc/snmp/snmpd.conf 16+26 L2-2",
            "PRB-SVC-008 medium possible /etc/init.d/rcS 108+16 L7-7",
        ]
    );
    // The evidence quotes the exact bytes, and the location points at them.
    let rcs = std::fs::read(dir.path().join("rootfs/etc/init.d/rcS")).unwrap();
    let telnet = finding(&r, "PRB-SVC-001", "/etc/init.d/rcS");
    let ev = &telnet["evidence"][0];
    assert_eq!(ev["excerpt"], "telnetd -l /bin/sh -p 2323 &");
    assert_eq!(ev["region"]["sha256"], sha256_hex(&rcs[33..61]));
    assert_eq!(telnet["locations"][0]["range"]["offset"], 33);
    assert_eq!(telnet["locations"][0]["range"]["length"], 28);
    assert_eq!(telnet["cwe"], serde_json::json!(["CWE-319", "CWE-306"]));
    let applets = &telnet["evidence"][1];
    assert_eq!(applets["at"]["hops"][0]["member"], "/bin/busybox");
    let fields: Vec<(String, String)> = applets["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_string(),
                f["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expect = [
        ("binary", "/bin/busybox"),
        ("applet", "telnetd"),
        ("compiled_in", "yes"),
        ("applets", "11"),
        ("table_offset", "16"),
    ];
    assert_eq!(
        fields,
        expect
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );
    // The applet's name in the table: `[`, `[[`, ash … sh precede telnetd.
    assert_eq!(applets["region"]["offset"], 16 + 37);
    assert_eq!(applets["region"]["length"], 7);
    assert_eq!(applets["region"]["sha256"], sha256_hex(b"telnetd"));
    let tftp = finding(&r, "PRB-SVC-006", "/etc/inetd.conf");
    assert_eq!(tftp["evidence"][1]["fields"][2]["value"], "no");
    // Not in the table: the region is the whole table that was searched.
    assert_eq!(tftp["evidence"][1]["region"]["offset"], 16);
    assert_eq!(tftp["evidence"][1]["region"]["length"], 52);

    // `probity verify` re-derives every region from the input.
    let report = dir.path().join("report.json");
    std::fs::write(&report, serde_json::to_vec(&r).unwrap()).unwrap();
    let v = run_os(&[
        "verify".as_ref(),
        report.as_os_str(),
        dir.path().join("rootfs").as_os_str(),
    ]);
    assert_eq!(code(&v), 0, "{}{}", stdout(&v), stderr(&v));
    assert_eq!(
        telnet["message"],
        "`telnetd` is started by /etc/init.d/rcS line 4 on tcp port 2323 with a shell as its login \
         program: a root shell without password; the applet is compiled into /bin/busybox"
    );
    let dropbear = finding(&r, "PRB-SVC-003", "/etc/init.d/dropbear");
    assert_eq!(
        dropbear["message"],
        "`/usr/sbin/dropbear` is started by /etc/init.d/dropbear line 8 on tcp port 22 with -B: \
         accounts with an empty password can log in"
    );
    assert_eq!(
        dropbear["evidence"][0]["excerpt"],
        "\tprocd_set_param command \"$PROG\" -F -P /var/run/dropbear.pid\n\tprocd_append_param command -B -p 22"
    );
    let snmp = finding(&r, "PRB-SVC-007", "/etc/snmp/snmpd.conf");
    assert_eq!(snmp["evidence"][0]["excerpt"], "rwcommunity private default");
    // Fingerprints do not depend on offsets: distinct per finding.
    let mut fps: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    fps.sort();
    fps.dedup();
    assert_eq!(fps.len(), r["findings"].as_array().unwrap().len());
}

#[test]
fn fixture_permission_findings_are_exact() {
    let dir = fixture();
    let (r, _) = scan_json(&dir.path().join("rootfs"));
    // Owned by root only when the tests run as root (the fixture can not chown otherwise).
    let diag = if is_root() { "medium" } else { "low" };
    let mut expect = vec![
        "PRB-PERM-003 high confirmed /etc/init.d/rcS record:file-mode".to_string(),
        format!("PRB-PERM-001 {diag} confirmed /usr/bin/diag record:file-mode"),
        "PRB-PERM-002 medium confirmed /var/shared record:file-mode".to_string(),
        "PRB-PERM-001 info confirmed /bin/busybox record:file-mode".to_string(),
    ];
    if !is_root() {
        expect.swap(1, 2);
    }
    assert_eq!(finding_lines(&r, &["PRB-PERM"]), expect);
    let rcs = finding(&r, "PRB-PERM-003", "/etc/init.d/rcS");
    assert_eq!(rcs["evidence"][0]["fields"][1]["value"], "100777");
    let shared = finding(&r, "PRB-PERM-002", "/var/shared");
    assert_eq!(
        shared["message"],
        "directory `/var/shared` is world-writable without the sticky bit (mode 40777)"
    );
    assert_eq!(shared["evidence"][0]["fields"][1]["value"], "40777");
    let diag = finding(&r, "PRB-PERM-001", "/usr/bin/diag");
    assert_eq!(diag["evidence"][0]["fields"][1]["value"], "104755");
}

fn corpus_scan(rel: &str) -> Option<Value> {
    let shared = shared()?;
    let (r, _) = scan_json(&shared.join("corpus").join(rel));
    Some(r)
}

#[test]
fn tplink_wr841n_services() {
    let Some(r) = corpus_scan("firmware/tplink-tl-wr841n-v10-3.16.9.bin") else {
        return;
    };
    // inittab: sysinit runs /etc/rc.d/rcS (mounts, modules through rc.modules, then the web
    // server in the background); a getty with login on the serial console. dropbear is in the
    // image but no boot script starts it (the web server does, on request), and rc.wlan is not
    // called at boot. BusyBox 1.01 keeps no applet name table.
    assert_eq!(
        service_lines(&r),
        [
            "/etc/inittab:2 /sbin/getty [ttyS0 115200] inittab - console password busybox-applet=compiled-in",
            "/etc/rc.d/rcS:37 /usr/bin/httpd [] rc-script - http unknown",
        ]
    );
    assert_eq!(finding_lines(&r, &["PRB-SVC"]), Vec::<String>::new());
    assert_eq!(finding_lines(&r, &["PRB-PERM"]), Vec::<String>::new());
}

#[test]
fn tplink_mt7628_services() {
    let Some(r) = corpus_scan("firmware/tplink-mt7628/rootfs.squashfs") else {
        return;
    };
    // inittab: rcS, and /bin/login on ttyS1 (askfirst). rcS loads modules, runs
    // /sbin/config-mii.sh (switch set-up, no daemons) and starts TP-Link's `cos` in the background.
    assert_eq!(
        service_lines(&r),
        [
            "/etc/init.d/rcS:76 cos [] rc-script - - unknown",
            "/etc/inittab:2 /bin/login [] inittab - console password busybox-applet=compiled-in",
        ]
    );
    assert_eq!(finding_lines(&r, &["PRB-SVC"]), Vec::<String>::new());
    assert_eq!(finding_lines(&r, &["PRB-PERM"]), Vec::<String>::new());
}

#[test]
fn fact_init_systems() {
    let Some(r) = corpus_scan("elf/fact/init_systems") else {
        return;
    };
    // SysV inittab with initdefault 2: the gettys of runlevels 2 and 3 run, the ttyS0/ttyS1
    // gettys of runlevel 3 only do not; /etc/init.d/rcS and /etc/init.d/rc are not in the sample.
    // The upstart job, both runit services, and the systemd unit (a file without the .service
    // suffix) each start one program; inittab.invalid, README and the skeleton start nothing.
    assert_eq!(
        service_lines(&r),
        [
            "/etc/init/baz.conf:10 /usr/local/bin/baz [/home/foo/config.ru] upstart - - unknown",
            "/etc/init/baz.conf:22 /bin/baz.sh [-runonce -silent] upstart - - unknown",
            "/etc/inittab:32 /sbin/getty [tty1 VC linux] inittab - console password",
            "/etc/inittab:33 /sbin/getty [tty2 VC linux] inittab - console password",
            "/etc/inittab:34 /sbin/getty [tty3 VC linux] inittab - console password",
            "/etc/inittab:35 /sbin/getty [tty4 VC linux] inittab - console password",
            "/etc/service/lighttpd/run:3 myprocess [last line] runit - - unknown",
            "/etc/sv/example/run:3 /opt/example/foo-service.sh [] runit - - unknown",
            "/etc/systemd/system/foobar:10 /usr/sbin/foobar [-n] systemd - - unknown",
        ]
    );
    assert_eq!(finding_lines(&r, &["PRB-SVC"]), Vec::<String>::new());
}

#[test]
fn binwalk_squashfs_v2_root_shells_and_modes() {
    let Some(r) = corpus_scan("formats/binwalk/squashfs_v2.bin") else {
        return;
    };
    // A 2007 ADSL router root file system. inittab starts `-/bin/sh` with respawn on the console
    // and with askfirst on tty2: two shells without login. rcS has `#/sbin/inetd` commented out,
    // so inetd.conf's telnetd and ftpd are not started. BusyBox 1.0x pads its applet names to 4
    // bytes: the table holds 47 applets from `[` to `vconfig` (sh yes, telnetd no).
    assert_eq!(
        service_lines(&r),
        [
            "/etc/inittab:2 /bin/sh [] inittab - console none busybox-applet=compiled-in",
            "/etc/inittab:3 /bin/sh [] inittab - console none busybox-applet=compiled-in",
        ]
    );
    let shell = finding(&r, "PRB-SVC-002", "/etc/inittab");
    assert_eq!(shell["evidence"][0]["excerpt"], "::respawn:-/bin/sh");
    let applets: Vec<&str> = shell["evidence"][1]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["value"].as_str().unwrap())
        .collect();
    assert_eq!(applets, ["/bin/busybox", "sh", "yes", "47", "195568"]);
    // unsquashfs -lls agrees: these are 0777 in the image.
    assert_eq!(
        finding_lines(&r, &["PRB-SVC", "PRB-PERM"]),
        [
            "PRB-PERM-003 high confirmed /etc/init.d record:file-mode",
            "PRB-PERM-003 high confirmed /etc/init.d/rcS record:file-mode",
            "PRB-PERM-003 high confirmed /etc/inittab record:file-mode",
            "PRB-PERM-003 high confirmed /etc/profile record:file-mode",
            "PRB-SVC-002 high likely /etc/inittab 26+18 L2-2 record:busybox-applets",
            "PRB-SVC-002 high likely /etc/inittab 45+23 L3-3 record:busybox-applets",
            "PRB-PERM-002 medium confirmed /etc/arl record:file-mode",
            "PRB-PERM-002 medium confirmed /etc/dhcp record:file-mode",
            "PRB-PERM-002 medium confirmed /etc/dhcp/dhcp_getdata record:file-mode",
            "PRB-PERM-002 medium confirmed /etc/dhcp6c.conf.sample record:file-mode",
            "PRB-PERM-002 medium confirmed /etc/dhcp6s.conf.sample record:file-mode",
            "PRB-PERM-002 medium confirmed /etc/fstab record:file-mode",
            "PRB-PERM-002 medium confirmed /etc/inetd.conf record:file-mode",
            "PRB-PERM-002 medium confirmed /etc/iproute2 record:file-mode",
            "PRB-PERM-002 medium confirmed /etc/ipv6_start.sample record:file-mode",
            "PRB-PERM-002 medium confirmed /etc/modules_install record:file-mode",
            "PRB-PERM-002 medium confirmed /etc/ppp record:file-mode",
            "PRB-PERM-002 medium confirmed /etc/ppp/chap-secrets record:file-mode",
            "PRB-PERM-002 medium confirmed /etc/ppp/ip-down record:file-mode",
            "PRB-PERM-002 medium confirmed /etc/ppp/ip-up record:file-mode",
            "PRB-PERM-002 medium confirmed /etc/ppp/options record:file-mode",
            "PRB-PERM-002 medium confirmed /etc/ppp/pap-secrets record:file-mode",
            "PRB-PERM-002 medium confirmed /etc/radvd.conf.sample record:file-mode",
            "PRB-PERM-002 medium confirmed /etc/rsa_host_key record:file-mode",
            "PRB-PERM-002 medium confirmed /etc/services record:file-mode",
            "PRB-PERM-002 medium confirmed /etc/snmp record:file-mode",
            "PRB-PERM-002 medium confirmed /etc/vlan record:file-mode",
        ]
    );
}

#[test]
fn modes_recorded_by_unpackers_reach_the_permission_rules() {
    // tests/fixtures/build.sh makes /usr/bin/suid-helper mode 4755 in every image it builds.
    let fx = fixtures();
    for name in ["tar-gnu.tar", "squashfs-xz.img", "jffs2-be.img", "cpio-newc.cpio"] {
        let (r, _) = scan_json(&fx.join(name));
        let f: Vec<&Value> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule_id"].as_str().unwrap().starts_with("PRB-PERM"))
            .collect();
        assert_eq!(f.len(), 1, "{name}");
        assert_eq!(f[0]["rule_id"], "PRB-PERM-001", "{name}");
        let last = f[0]["locations"][0]["hops"].as_array().unwrap().last().unwrap();
        assert_eq!(last["member"], "/usr/bin/suid-helper", "{name}");
        assert_eq!(f[0]["evidence"][0]["fields"][1]["value"], "104755", "{name}");
    }
}
