//! The recognise-only formats (`known.rs`): probes and extractions on arbitrary bytes never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

const NAMES: &[&str] = &[
    "arj", "cab", "lha", "lrzip", "zoo", "zpaq", "stuffit", "shar", "qcow", "btrfs", "f2fs", "jfs",
    "minix", "reiserfs", "udf", "xfs", "hfsplus", "ntfs",
];

fuzz_target!(|data: &[u8]| {
    for name in NAMES {
        probity_unpack::fuzzing::run_format(name, data);
    }
});
