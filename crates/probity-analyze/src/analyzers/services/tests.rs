//! The analyzer on small root file systems built in a temporary directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::Path;

use probity_unpack::{Limits, NoProgress, tree};

use super::*;
use crate::analyzer::AnalysisOptions;

fn put(root: &Path, rel: &str, content: &[u8]) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, content).unwrap();
}

/// (file, line, binary, arguments, started_by) of every service found in `root`.
/// (file, line, binary, arguments, started_by).
type Row = (String, u32, String, String, String);

fn services(root: &Path) -> (Vec<Row>, Output) {
    let tree = tree::load(root, &Limits::default(), &NoProgress).unwrap();
    let mut out = Output::default();
    let cx = TreeContext {
        tree: &tree,
        options: &AnalysisOptions::default(),
    };
    Services::new().analyze_tree(&cx, &mut out).unwrap();
    let list = out
        .inventory
        .services
        .iter()
        .map(|s| {
            (
                s.locations[0].hops[0].member.as_ref().unwrap().to_string(),
                s.line,
                s.binary.to_string(),
                s.arguments
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
                s.started_by.clone(),
            )
        })
        .collect();
    (list, out)
}

fn s(file: &str, line: u32, bin: &str, args: &str, by: &str) -> Row {
    (file.into(), line, bin.into(), args.into(), by.into())
}

#[test]
fn rules_are_documented() {
    let a = Services::new();
    assert_eq!(a.rules().len(), 8);
    for (i, r) in a.rules().iter().enumerate() {
        assert_eq!(r.id.to_string(), format!("PRB-SVC-{:03}", i + 1));
        assert!(!r.references.is_empty() && !r.cwe.is_empty());
        assert!(r.doc.detects.len() > 40 && r.doc.how.len() > 40 && r.doc.example.len() > 20);
    }
}

#[test]
fn procd_variables_wrappers_and_sh_c() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    put(
        r,
        "etc/init.d/dropbear",
        b"#!/bin/sh /etc/rc.common\nPROG=/usr/sbin/dropbear\nstart_service() {\n\tprocd_open_instance\n\tprocd_set_param command $PROG -F\n\tprocd_append_param command -p 2222\n}\n",
    );
    put(
        r,
        "etc/init.d/rcS",
        b"#!/bin/sh\nstart-stop-daemon -S -q -x /usr/sbin/snmpd -- -c /etc/snmpd.conf\nstart-stop-daemon -K -x /usr/sbin/x\n/bin/sh -c 'utelnetd -l /bin/ash &'\nexec nohup env A=1 miniupnpd -f /etc/upnp.conf\nservice_start /usr/sbin/cwmpd -d\nsleep 1 &\n",
    );
    let (list, _) = services(r);
    assert_eq!(
        list,
        vec![
            s(
                "/etc/init.d/dropbear",
                5,
                "/usr/sbin/dropbear",
                "-F -p 2222",
                "procd"
            ),
            s(
                "/etc/init.d/rcS",
                2,
                "/usr/sbin/snmpd",
                "-c /etc/snmpd.conf",
                "rc-script"
            ),
            s("/etc/init.d/rcS", 4, "utelnetd", "-l /bin/ash", "rc-script"),
            s(
                "/etc/init.d/rcS",
                5,
                "miniupnpd",
                "-f /etc/upnp.conf",
                "rc-script"
            ),
            s("/etc/init.d/rcS", 6, "/usr/sbin/cwmpd", "-d", "rc-script"),
        ]
    );
}

#[test]
fn script_cycles_and_depth_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    // a -> b -> a (a cycle), and a chain of 20 scripts calling each other.
    put(r, "etc/inittab", b"::sysinit:/etc/a\n");
    put(r, "etc/a", b"#!/bin/sh\n. /etc/b\nadaemond\n");
    put(r, "etc/b", b"#!/bin/sh\nsh /etc/a\nbdaemond\n/etc/c0 start\n");
    for i in 0..20 {
        put(
            r,
            &format!("etc/c{i}"),
            format!("#!/bin/sh\n/etc/c{}\nchain{i}d\n", i + 1).as_bytes(),
        );
    }
    let (list, _) = services(r);
    let names: Vec<&str> = list.iter().map(|s| s.2.as_str()).collect();
    // inittab (depth 0) -> a (1) -> b (2) -> c0 (3) … c5 (8): deeper scripts are not read.
    assert_eq!(
        names,
        [
            "adaemond", "bdaemond", "chain0d", "chain1d", "chain2d", "chain3d", "chain4d", "chain5d"
        ]
    );
}

#[test]
fn hostile_files() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let mut huge = b"#!/bin/sh\n".to_vec();
    huge.extend(std::iter::repeat_n(b'x', 900_000));
    huge.extend_from_slice(b"\n\xff\xfe\ntelnetd -l /bin/sh # \xff\n");
    put(r, "etc/init.d/rcS", &huge);
    put(
        r,
        "etc/inittab",
        b"\xff\xff::respawn:/sbin/getty \xff\n::sysinit:/etc/init.d/rcS\n",
    );
    // A symbolic link loop.
    std::os::unix::fs::symlink("/etc/loop2", r.join("etc/loop1")).unwrap();
    std::os::unix::fs::symlink("/etc/loop1", r.join("etc/loop2")).unwrap();
    put(r, "etc/init.d/x", b"#!/bin/sh\n/etc/loop1\n");
    let (list, _) = services(r);
    let names: Vec<(u32, &str)> = list.iter().map(|s| (s.1, s.2.as_str())).collect();
    assert_eq!(names, [(4, "telnetd"), (1, "/sbin/getty")]);
}

#[test]
fn root_file_systems_in_subdirectories() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    put(
        r,
        "a/squashfs-root/etc/inittab",
        b"::respawn:/usr/sbin/telnetd -F\n",
    );
    put(r, "b/rootfs/etc/init.d/rcS", b"#!/bin/sh\nhttpd &\n");
    put(r, "etc/inittab", b"::askfirst:/bin/login\n");
    let (list, _) = services(r);
    assert_eq!(
        list,
        // In the order of the roots: the scanned directory, then its subdirectories.
        vec![
            s("/etc/inittab", 1, "/bin/login", "", "inittab"),
            s(
                "/a/squashfs-root/etc/inittab",
                1,
                "/usr/sbin/telnetd",
                "-F",
                "inittab"
            ),
            s("/b/rootfs/etc/init.d/rcS", 2, "httpd", "", "rc-script"),
        ]
    );
}

#[test]
fn super_servers_count_only_when_started() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    put(
        r,
        "etc/inetd.conf",
        b"telnet stream tcp nowait root /usr/sbin/telnetd telnetd\n",
    );
    put(
        r,
        "etc/xinetd.d/tftp",
        b"service mytftp\n{\n  server = /usr/sbin/in.tftpd\n  server_args = -s /srv\n  protocol = udp\n}\n",
    );
    put(r, "etc/services", b"mytftp 6969/udp\n");
    put(r, "etc/init.d/rcS", b"#!/bin/sh\n# inetd\n");
    let (list, _) = services(r);
    assert!(list.is_empty(), "{list:?}");
    put(r, "etc/init.d/rcS", b"#!/bin/sh\nxinetd -stayalive\n");
    let (list, out) = services(r);
    assert_eq!(
        list,
        vec![
            s("/etc/init.d/rcS", 2, "xinetd", "-stayalive", "rc-script"),
            s("/etc/xinetd.d/tftp", 3, "/usr/sbin/in.tftpd", "-s /srv", "xinetd"),
        ]
    );
    let tftp = &out.inventory.services[1];
    assert_eq!((tftp.port, tftp.protocol.as_deref()), (Some(6969), Some("udp")));
    assert_eq!(tftp.class.as_deref(), Some("tftp"));
    assert_eq!(out.drafts.len(), 1);
    assert_eq!(out.drafts[0].rule.to_string(), "PRB-SVC-006");
}
