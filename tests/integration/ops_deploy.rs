//! `deploy/`: the systemd units pass `systemd-analyze verify` (with ExecStart pointed at the
//! binaries cargo built), carry the hardening the README promises and only use flags the
//! programs accept; the cron line, run as written against a temporary installation, scans and
//! writes its metrics, and skips its run while another one holds the flock.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::batch_env::{Install, Service, describe, snapshot_count};

const DAILY_SCAN: &str = env!("CARGO_BIN_EXE_daily_scan");
const API_SERVER: &str = env!("CARGO_BIN_EXE_api_server");

fn deploy(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(relative)
}

/// `section -> key -> values` (a key may repeat) of a unit file.
type Unit = BTreeMap<String, BTreeMap<String, Vec<String>>>;

fn parse_unit(path: &Path) -> Unit {
    let text = std::fs::read_to_string(path).unwrap();
    let mut unit = Unit::new();
    let mut section = String::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("{}:{}: not key=value", path.display(), n + 1));
        assert!(
            !section.is_empty(),
            "{}: key before any section",
            path.display()
        );
        assert!(
            !line.ends_with('\\'),
            "keep ExecStart on one line for this check"
        );
        unit.entry(section.clone())
            .or_default()
            .entry(key.trim().to_string())
            .or_default()
            .push(value.trim().to_string());
    }
    unit
}

fn one<'a>(unit: &'a Unit, section: &str, key: &str) -> &'a str {
    let values = &unit[section][key];
    assert_eq!(values.len(), 1, "[{section}] {key}");
    &values[0]
}

/// Every `--flag` of `command` (a whitespace-split command line) appears in `binary --help`.
fn flags_exist(binary: &str, command: &str) {
    let help = Command::new(binary).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in command.split_whitespace().filter(|w| w.starts_with("--")) {
        assert!(help.contains(flag), "{binary} --help lacks {flag}");
    }
}

#[test]
fn systemd_units_verify_and_are_hardened() {
    let names = [
        "daily-scan.service",
        "daily-scan.timer",
        "api-server.service",
    ];
    let dir = tempfile::tempdir().unwrap();
    for name in names {
        // systemd-analyze checks that ExecStart is executable: point it at cargo's binaries.
        let text = std::fs::read_to_string(deploy(&format!("systemd/{name}")))
            .unwrap()
            .replace("/usr/local/bin/daily_scan", DAILY_SCAN)
            .replace("/usr/local/bin/api_server", API_SERVER);
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .args(names.map(|n| dir.path().join(n)))
        .output()
        .expect("systemd-analyze (Debian package `systemd`) runs this test");
    // Unknown keys or bad values are only warnings on stderr: any output fails the test.
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        describe(&out)
    );

    for (name, binary) in [
        ("daily-scan.service", DAILY_SCAN),
        ("api-server.service", API_SERVER),
    ] {
        let unit = parse_unit(&deploy(&format!("systemd/{name}")));
        let service = &unit["Service"];
        for (key, value) in [
            ("NoNewPrivileges", "yes"),
            ("ProtectSystem", "strict"),
            ("ProtectHome", "yes"),
            ("PrivateTmp", "yes"),
            ("AmbientCapabilities", "CAP_NET_RAW"),
            ("CapabilityBoundingSet", "CAP_NET_RAW"),
            ("User", "scanner"),
        ] {
            assert_eq!(service[key], [value], "{name}: {key}");
        }
        let exec = one(&unit, "Service", "ExecStart");
        let program = exec.split_whitespace().next().unwrap();
        let expected = Path::new(binary).file_name().unwrap().to_str().unwrap();
        assert_eq!(program, format!("/usr/local/bin/{expected}"), "{name}");
        flags_exist(binary, exec);
        // What the services write must be writable under ProtectSystem=strict.
        assert_eq!(service["StateDirectory"], ["security-scanner"], "{name}");
    }
    let daily = parse_unit(&deploy("systemd/daily-scan.service"));
    assert_eq!(one(&daily, "Service", "Type"), "oneshot");
    let exec = one(&daily, "Service", "ExecStart");
    let metrics = exec.split("--metrics-file ").nth(1).unwrap();
    let metrics_dir = Path::new(metrics.split_whitespace().next().unwrap())
        .parent()
        .unwrap();
    assert_eq!(
        one(&daily, "Service", "ReadWritePaths"),
        metrics_dir.to_str().unwrap(),
        "the metrics directory is writable"
    );
    let timer = parse_unit(&deploy("systemd/daily-scan.timer"));
    assert_eq!(one(&timer, "Timer", "Persistent"), "true");
    let calendar = Command::new("systemd-analyze")
        .args(["calendar", one(&timer, "Timer", "OnCalendar")])
        .output()
        .unwrap();
    assert!(calendar.status.success(), "{}", describe(&calendar));
}

/// The cron entry's command (after the five time fields and the user).
fn cron_command() -> String {
    let text = std::fs::read_to_string(deploy("cron/security-scanner")).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty() && !l.contains('='))
        .collect();
    assert_eq!(lines.len(), 1, "one cron entry: {lines:?}");
    let fields: Vec<&str> = lines[0].splitn(7, ' ').collect();
    assert_eq!(fields[..6], ["0", "2", "*", "*", "*", "scanner"]);
    fields[6].to_string()
}

#[test]
fn the_cron_line_scans_and_flock_skips_an_overlapping_run() {
    let command = cron_command();
    flags_exist(DAILY_SCAN, &command);
    assert!(command.contains("flock -n "), "{command}");
    let svc = Service::start(Ipv4Addr::new(127, 0, 43, 1), 0, None);
    let install = Install::new(&svc.port().to_string(), "", "profile = \"quick\"");
    install.targets(&["127.0.43.1"]);
    std::fs::create_dir(install.path("textfile")).unwrap();
    let root = install.dir.path().to_str().unwrap();
    // The line as written, with its absolute paths moved into the temporary installation.
    let command = command
        .replace("/var/lib/security-scanner", root)
        .replace(
            "/etc/security-scanner/targets.txt",
            &format!("{root}/targets.txt"),
        )
        .replace(
            "/var/lib/node_exporter/textfile_collector",
            &format!("{root}/textfile"),
        );
    let bin_dir = Path::new(DAILY_SCAN).parent().unwrap();
    let run = || {
        Command::new("sh")
            .args(["-c", &command])
            .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
            .env("SCANNER_CONFIG", install.path("config.toml"))
            .output()
            .unwrap()
    };
    assert!(
        command.contains(" --quiet "),
        "cron mails nothing on a quiet night: {command}"
    );
    let out = run();
    assert!(out.status.success(), "{command}\n{}", describe(&out));
    let log = std::fs::read_to_string(install.path("daily_scan.log")).unwrap();
    assert_eq!(log, "", "--quiet: a night with nothing new logs nothing");
    assert_eq!(snapshot_count(&install.db()), 1, "but it scanned");
    assert!(install.path("textfile/daily_scan.prom").is_file());
    // A port that closed is news: the summary goes to the log.
    let port = svc.port();
    drop(svc);
    let out = run();
    assert!(out.status.success(), "{command}\n{}", describe(&out));
    let log = std::fs::read_to_string(install.path("daily_scan.log")).unwrap();
    assert!(log.contains(&port.to_string()), "{log}");

    // Another run holds the cron lock: this one exits at once without scanning.
    let lock = std::fs::File::create(install.path("daily_scan.cron.lock")).unwrap();
    lock.lock().unwrap();
    let out = run();
    assert_eq!(
        out.status.code(),
        Some(1),
        "flock -n gave up: {}",
        describe(&out)
    );
    assert_eq!(
        std::fs::read_to_string(install.path("daily_scan.log")).unwrap(),
        log,
        "no second run"
    );
}

/// What the units' `User=scanner` + `AmbientCapabilities=CAP_NET_RAW` give daily_scan,
/// reproduced with `setpriv`: an unprivileged user whose only capability is an ambient
/// CAP_NET_RAW runs the stealth (SYN) profile and finds the open port.
#[test]
fn an_ambient_cap_net_raw_is_enough_for_the_stealth_profile() {
    use std::os::unix::fs::PermissionsExt;
    let svc = Service::start(Ipv4Addr::new(127, 0, 44, 1), 0, None);
    let install = Install::new(&svc.port().to_string(), "", "profile = \"stealth\"");
    install.targets(&["127.0.44.1"]);
    std::fs::set_permissions(install.dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let config = install.path("config.toml");
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all,+net_raw",
            "--ambient-caps=+net_raw",
            "--bounding-set=-all,+net_raw",
            DAILY_SCAN,
            "--config",
            config.to_str().unwrap(),
            "-f",
            "targets.txt",
            "--format",
            "json",
        ])
        .current_dir(install.dir.path())
        .env_remove("NMAP_PRIVILEGED")
        .output()
        .expect("setpriv (util-linux)");
    assert!(out.status.success(), "{}", describe(&out));
    let scan = install.latest_scan_text();
    assert!(
        scan.contains("--privileged"),
        "nmap was told it may use raw sockets"
    );
    assert!(scan.contains("-sS"), "{scan}");
    let open = install.latest_scan_has_open(svc.port());
    assert!(open, "{scan}");
}

/// The api_server unit's task and descriptor limits leave room for the connection cap of the
/// shipped config (one thread and two descriptors per connection, plus the scan pool and its
/// nmap processes): a cap above them would let the kernel, not the server, refuse connections
/// (issue 14, row 2: an accept thread that died on "failed to spawn thread").
#[test]
fn api_server_unit_limits_fit_the_connection_cap() {
    let unit = parse_unit(&deploy("systemd/api-server.service"));
    let number = |key: &str| -> u64 {
        unit["Service"][key][0]
            .parse()
            .unwrap_or_else(|_| panic!("{key} is not a number"))
    };
    let config: toml::Table =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml"))
            .unwrap()
            .parse()
            .unwrap();
    let api = config["api"].as_table().unwrap();
    let connections = api["max_connections"].as_integer().unwrap() as u64;
    let scans = api["max_concurrent_scans"].as_integer().unwrap() as u64;
    let tasks = number("TasksMax");
    let files = number("LimitNOFILE");
    assert!(
        tasks >= connections + 2 * scans + 64,
        "TasksMax={tasks} < {connections} connections + 2 x {scans} scans + 64"
    );
    assert!(
        files >= 4 * connections + 1024,
        "LimitNOFILE={files} < 4 x {connections} connections + 1024"
    );
}
