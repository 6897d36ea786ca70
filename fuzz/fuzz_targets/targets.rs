//! targets.txt grammar: any text parses or is refused with an error; every accepted target
//! prints back to text that parses to the same target, and counts its addresses without panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use security_scanner::target::{Target, parse_api_target, parse_targets};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(entries) = parse_targets(text, "fuzz") {
        for target in entries.iter().flat_map(|e| e.targets.iter()) {
            let _ = target.address_count();
            let printed = target.to_string();
            assert_eq!(
                Target::parse(&printed).as_ref(),
                Ok(target),
                "{printed:?} does not parse back"
            );
        }
    }
    let _ = parse_api_target(text);
});
