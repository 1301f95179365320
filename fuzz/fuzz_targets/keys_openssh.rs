//! The key analyzer's parsers on arbitrary bytes: OpenSSH `openssh-key-v1` containers, SSH public key blobs and lines, Dropbear key files never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use probity_analyze::analyzers::keys;

fuzz_target!(|data: &[u8]| {
    let _ = keys::ssh::openssh_private(data); let _ = keys::ssh::public_blob(data); let _ = keys::ssh::dropbear(data); let _ = keys::ssh::public_lines(data);
});
