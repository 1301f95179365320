//! sshd_config, snmpd.conf and the BusyBox applet table finder on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use probity_analyze::analyzers::services::busybox::{MIN_APPLETS, applets};
use probity_analyze::analyzers::services::config::{parse_snmpd, parse_sshd, vsftpd_anonymous};

fuzz_target!(|data: &[u8]| {
    let c = parse_sshd(data);
    for s in [&c.permit_root_login, &c.password_authentication, &c.permit_empty_passwords, &c.port]
        .into_iter()
        .flatten()
    {
        assert!(s.at.offset + s.at.length <= data.len());
    }
    for c in parse_snmpd(data) {
        assert!(c.at.offset + c.at.length <= data.len());
    }
    let _ = vsftpd_anonymous(data);
    if let Some(a) = applets(data) {
        assert!(a.names.len() >= MIN_APPLETS);
        assert!(a.names.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(&data[a.offset + a.length - 1], &0);
        for n in &a.names {
            let at = a.position(n).unwrap();
            assert_eq!(&data[at..at + n.len()], n.as_slice());
        }
    }
});
