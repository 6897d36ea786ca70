//! Port-spec parser: any text parses or is refused; an accepted spec agrees with itself (count,
//! contains, and the nmap argument it prints parses back to the same spec).
#![no_main]

use libfuzzer_sys::fuzz_target;
use security_scanner::profile::PortSpec;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for limit in [None, Some(1000)] {
        let Ok(spec) = PortSpec::parse(text, limit) else {
            continue;
        };
        let counted: u32 = spec
            .ranges()
            .iter()
            .map(|&(a, b)| u32::from(b) - u32::from(a) + 1)
            .sum();
        assert_eq!(spec.count(), counted);
        if let Some(max) = limit {
            assert!(spec.count() <= max);
        }
        for &(a, b) in spec.ranges() {
            assert!(a <= b && spec.contains(a) && spec.contains(b));
        }
        let arg = spec.to_nmap_arg();
        assert_eq!(PortSpec::parse(&arg, None).as_ref(), Ok(&spec), "{arg:?}");
    }
});
