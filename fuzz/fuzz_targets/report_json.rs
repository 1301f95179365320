//! Reading a report (the input of `probity verify`, which may come from anyone) never panics, and
//! every report it accepts renders in every format.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = probity_report::json::read(data) {
        let mut out = Vec::new();
        probity_report::json::write(&report, &mut out).unwrap();
        let again = probity_report::json::read(&out).expect("our own output reads back");
        assert_eq!(again, report);
        probity_report::sarif::write(&report, &mut Vec::new()).unwrap();
        probity_report::text::write(&report, &Default::default(), &mut Vec::new()).unwrap();
    }
});
