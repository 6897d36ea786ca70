use super::*;

const TUNING: &str = "-T4 --max-retries 2 --host-timeout 10m --min-rate 800 --max-rate 2000 -n \
                      --noninteractive";

fn argv(profile: Profile, ports: Option<&str>) -> String {
    let spec = ports.map(|p| PortSpec::parse(p, None).unwrap());
    profile
        .nmap_args(&NmapTuning::default(), spec.as_ref())
        .join(" ")
}

#[test]
fn each_profile_has_its_exact_argv() {
    let udp_common = format!("-sS -sU --top-ports 1000 -p T:1-65535,U:{UDP_TOP_100} {TUNING}");
    let cases = [
        (Profile::Quick, format!("-sT --top-ports 100 {TUNING}")),
        (
            Profile::Default,
            format!("-sT --top-ports 1000 -sV {TUNING}"),
        ),
        (Profile::Stealth, format!("-sS --top-ports 1000 {TUNING}")),
        (Profile::TcpFull, format!("-sT -p 1-65535 -sV {TUNING}")),
        (Profile::UdpCommon, udp_common),
        (Profile::UdpFull, format!("-sU -p 1-65535 {TUNING}")),
    ];
    for (profile, expected) in cases {
        assert_eq!(argv(profile, None), expected, "{profile}");
    }
}

#[test]
fn a_port_selection_replaces_the_profiles_own() {
    let cases = [
        (Profile::Quick, format!("-sT -p 22,80,8000-8100 {TUNING}")),
        (
            Profile::Default,
            format!("-sT -p 22,80,8000-8100 -sV {TUNING}"),
        ),
        (Profile::Stealth, format!("-sS -p 22,80,8000-8100 {TUNING}")),
        (
            Profile::TcpFull,
            format!("-sT -p 22,80,8000-8100 -sV {TUNING}"),
        ),
        (
            Profile::UdpCommon,
            format!("-sS -sU -p T:22,80,8000-8100,U:22,80,8000-8100 {TUNING}"),
        ),
        (Profile::UdpFull, format!("-sU -p 22,80,8000-8100 {TUNING}")),
    ];
    for (profile, expected) in cases {
        assert_eq!(
            argv(profile, Some("8000-8100,80,22")),
            expected,
            "{profile}"
        );
    }
}

#[test]
fn every_argv_is_safe_to_hand_to_nmap() {
    for profile in Profile::ALL {
        for ports in [None, Some("1-65535")] {
            let args = profile.nmap_args(
                &NmapTuning::default(),
                ports.map(|p| PortSpec::parse(p, None).unwrap()).as_ref(),
            );
            assert_eq!(args.last().map(String::as_str), Some("--noninteractive"));
            assert!(
                !args.iter().any(|a| a.starts_with("-o")),
                "{profile}: output flags"
            );
            assert!(
                args.iter()
                    .all(|a| !a.is_empty() && !a.contains(char::is_whitespace))
            );
            let scan_flags: Vec<&String> = args
                .iter()
                .filter(|a| a.starts_with("-s") && *a != "-sV")
                .collect();
            assert!(
                !scan_flags.is_empty(),
                "{profile}: the scan technique is explicit"
            );
            let raw = scan_flags.iter().any(|a| *a == "-sS" || *a == "-sU");
            assert_eq!(raw, profile.needs_raw_socket(), "{profile}");
        }
    }
}

#[test]
fn reverse_dns_drops_dash_n() {
    let tuning = NmapTuning {
        reverse_dns: true,
        timing: "aggressive".into(),
        ..NmapTuning::default()
    };
    assert_eq!(
        Profile::Quick.nmap_args(&tuning, None).join(" "),
        "-sT --top-ports 100 -T4 --max-retries 2 --host-timeout 10m --min-rate 800 \
         --max-rate 2000 --noninteractive"
    );
}

#[test]
fn udp_top_100_list_is_a_valid_selection_of_100_ports() {
    let spec = PortSpec::parse(UDP_TOP_100, None).unwrap();
    assert_eq!(spec.count(), 100);
    assert_eq!(spec.to_nmap_arg(), UDP_TOP_100);
}

#[test]
fn names_round_trip() {
    let names: Vec<&str> = Profile::ALL.iter().map(|p| p.name()).collect();
    assert_eq!(
        names,
        [
            "quick",
            "default",
            "stealth",
            "tcp_full",
            "udp_common",
            "udp_full"
        ]
    );
    for profile in Profile::ALL {
        assert_eq!(profile.name().parse::<Profile>(), Ok(profile));
        assert_eq!(profile.to_string(), profile.name());
        let json = serde_json::to_string(&profile).unwrap();
        assert_eq!(json, format!("\"{}\"", profile.name()));
        assert_eq!(serde_json::from_str::<Profile>(&json).unwrap(), profile);
        assert!(!profile.description().is_empty());
    }
}

#[test]
fn unknown_profile_lists_the_valid_names() {
    for bad in ["", "Quick", "full", "tcp-full", "quick ", "quick;id"] {
        let err = bad.parse::<Profile>().unwrap_err();
        assert_eq!(err.code(), "unknown_profile");
        assert!(
            err.to_string().ends_with(
                "valid profiles: quick, default, stealth, tcp_full, udp_common, udp_full"
            ),
            "{err}"
        );
    }
    let err = "a\u{1b}[2J".parse::<Profile>().unwrap_err().to_string();
    assert!(err.contains("\\u{1b}"), "{err}");
    assert!(
        "x".repeat(10_000)
            .parse::<Profile>()
            .unwrap_err()
            .to_string()
            .len()
            < 200
    );
}

#[test]
fn api_and_privilege_rules() {
    let allowed: Vec<Profile> = Profile::ALL
        .into_iter()
        .filter(|p| p.api_allowed())
        .collect();
    assert_eq!(
        allowed,
        [Profile::Quick, Profile::Default, Profile::Stealth]
    );
    let raw: Vec<Profile> = Profile::ALL
        .into_iter()
        .filter(|p| p.needs_raw_socket())
        .collect();
    assert_eq!(
        raw,
        [Profile::Stealth, Profile::UdpCommon, Profile::UdpFull]
    );

    let err = Profile::TcpFull.check_api().unwrap_err();
    assert_eq!(err.code(), "profile_batch_only");
    assert!(
        err.to_string().contains("daily_scan --profile tcp_full"),
        "{err}"
    );
    assert!(Profile::Default.check_api().is_ok());

    let err = Profile::Stealth
        .check_privilege(RawSocketAccess::None)
        .unwrap_err();
    assert_eq!(err.code(), "profile_needs_privilege");
    assert!(
        Profile::Stealth
            .check_privilege(RawSocketAccess::Root)
            .is_ok()
    );
    assert!(
        Profile::UdpFull
            .check_privilege(RawSocketAccess::Capability)
            .is_ok()
    );
    assert!(
        Profile::Quick
            .check_privilege(RawSocketAccess::None)
            .is_ok()
    );
}
