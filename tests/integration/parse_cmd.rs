//! `daily_scan parse`: nmap XML to the API's JSON view or CSV, exit 2 on unusable files.

use std::process::{Command, Output};

use crate::support::fixture;

fn daily_scan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_daily_scan"))
        .args(args)
        .output()
        .expect("running daily_scan")
}

fn fixture_arg(rel: &str) -> String {
    fixture(rel).to_string_lossy().into_owned()
}

#[test]
fn parse_prints_the_per_host_json_of_a_real_capture() {
    let out = daily_scan(&["parse", &fixture_arg("loopback/sv_two_hosts.xml")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let hosts = json[0]["hosts"].as_array().expect("hosts array");
    let ssh = hosts
        .iter()
        .find(|h| h["ip"] == "127.0.0.3")
        .expect("host 127.0.0.3");
    assert_eq!(ssh["host_state"], "up");
    assert_eq!(ssh["open_ports"][0]["port"], 18022);
    assert_eq!(ssh["open_ports"][0]["service"], "ssh");
    assert_eq!(ssh["open_ports"][0]["product"], "OpenSSH");
    assert_eq!(json[0]["nmap_version"], "7.93");
}

#[test]
fn parse_csv_has_a_header_and_a_row_per_open_port() {
    let out = daily_scan(&[
        "parse",
        "--format",
        "csv",
        &fixture_arg("loopback/sv_two_hosts.xml"),
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 3, "{text}");
    assert!(rows[2].contains(",tcp,18022,open,ssh,OpenSSH,"), "{text}");
}

#[test]
fn parse_refuses_incomplete_and_missing_files_with_exit_2() {
    let incomplete = fixture_arg("peer/libnmap/libnmap__test__files__1_hosts_incomplete.xml");
    let out = daily_scan(&["parse", &incomplete]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing half-printed");
    assert!(String::from_utf8_lossy(&out.stderr).contains("incomplete scan"));

    let out = daily_scan(&["parse", "/nonexistent/scan.xml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/scan.xml"));
}

/// Issue 14, row 8: nmap's `errormsg` (scan text) on the `diff` error path reaches the
/// terminal with escape sequences, bidi overrides and zero-width characters shown as escapes.
#[test]
fn nmap_errormsg_on_the_diff_error_path_is_terminal_safe() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.xml");
    std::fs::write(
        &bad,
        "<nmaprun><runstats><finished time=\"1795281619\" elapsed=\"0.02\" exit=\"error\" \
         errormsg=\"&#x1b;]0;pwned&#x7;&#x1b;[2Jdevice\u{202E}gpj.exe\u{200B}\"/>\
         <hosts up=\"0\" down=\"0\" total=\"0\"/></runstats></nmaprun>\n",
    )
    .unwrap();
    let good = fixture_arg("loopback/sv_two_hosts.xml");
    let out = Command::new(env!("CARGO_BIN_EXE_daily_scan"))
        .args(["diff", bad.to_str().unwrap(), &good])
        .env("SCANNER_OUTPUT_DIR", dir.path())
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("device"), "{stderr}");
    for raw in ['\u{1b}', '\u{7}', '\u{202E}', '\u{200B}'] {
        assert!(
            !stderr.contains(raw),
            "{raw:?} reached the terminal: {stderr:?}"
        );
    }
    assert!(
        stderr.contains("\\u{1b}") && stderr.contains("\\u{202e}"),
        "{stderr}"
    );
}
