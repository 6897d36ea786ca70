//! The command line as a new user meets it: a fresh install's `history` and `alerts` (no
//! database yet), bare `daily_scan` beside a `targets.txt`, plurals in the summary, the alerts
//! CSV's final line end, a bad `SCANNER_API_TOKENS` naming the variable, `--dry-run` noticing
//! an unset `token_env`, `export --zip`, and `prune` removing report folders. Real nmap against
//! loopback listeners; addresses 127.0.62.x are this file's.

use std::net::Ipv4Addr;
use std::process::Command;

use crate::batch_env::{Install, Service, describe, stderr, stdout};

const HOST: Ipv4Addr = Ipv4Addr::new(127, 0, 62, 1);

#[test]
fn a_fresh_install_has_nothing_yet_and_bare_daily_scan_uses_targets_txt() {
    let install = Install::new("18171", "", "profile = \"quick\"");
    for (args, said) in [
        (&["history"][..], "No snapshots yet"),
        (&["alerts"][..], "No alerts yet"),
        (&["alerts", "deliveries"][..], ""),
    ] {
        let out = install.run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", describe(&out));
        assert!(stdout(&out).contains(said), "{args:?}: {}", describe(&out));
    }
    let json = install.run(&["history", "--format", "json"]);
    assert_eq!(stdout(&json).trim(), "[]");
    assert!(!install.db().exists(), "reading never creates the database");

    // No targets.txt: bare daily_scan says what to do.
    let bare = install.run(&[]);
    assert_eq!(bare.status.code(), Some(2));
    assert!(
        stderr(&bare).contains("no targets.txt here"),
        "{}",
        describe(&bare)
    );
    // With one beside it, bare daily_scan scans it: one host up, one open port, in the singular.
    install.targets(&["127.0.62.1"]);
    let _svc = Service::start(HOST, 18171, None);
    let run = install.run(&[]);
    assert_eq!(run.status.code(), Some(0), "{}", describe(&run));
    let text = stdout(&run);
    assert!(text.contains("1 host up, 1 open port"), "{text}");
    assert!(
        !text.contains("1 hosts") && !text.contains("1 open ports"),
        "{text}"
    );
    let log = stderr(&run);
    assert!(log.contains("scanning 1 address with 1 nmap run"), "{log}");
}

#[test]
fn token_problems_name_their_variable_and_dry_run_notices_an_unset_token_env() {
    let install = Install::new(
        "18172",
        "[[webhook]]\nname = \"siem\"\nurl = \"http://127.0.0.1:9/\"\ntoken_env = \"TRIAGE_TEST_UNSET_TOKEN\"\n",
        "",
    );
    install.targets(&["127.0.62.2"]);
    let out = install.run_with(&["history"], &[("SCANNER_API_TOKENS", "short")]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("environment variable `SCANNER_API_TOKENS`"),
        "{err}"
    );
    assert!(!err.contains("api.tokens"), "{err}");

    let dry = install.run(&["-f", "targets.txt", "--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", describe(&dry));
    assert!(
        stdout(&dry).contains("webhook \"siem\": token_env TRIAGE_TEST_UNSET_TOKEN is not set"),
        "{}",
        describe(&dry)
    );
    let set = install.run_with(
        &["-f", "targets.txt", "--dry-run"],
        &[("TRIAGE_TEST_UNSET_TOKEN", "0123456789abcdef")],
    );
    assert!(!stdout(&set).contains("is not set"), "{}", describe(&set));
}

#[test]
fn export_zips_every_run_and_prune_removes_the_folders_it_deletes() {
    let install = Install::new("18173", "", "profile = \"quick\"");
    install.targets(&["127.0.62.3"]);
    let first = install.scan(&[], &[], 0);
    let svc = Service::start(Ipv4Addr::new(127, 0, 62, 3), 18173, None);
    let second = install.scan(&[], &[], 0);
    drop(svc);
    let third = install.scan(&[], &[], 0);

    let alerts = install.run(&["alerts", "--format", "csv"]);
    let csv = stdout(&alerts);
    // The opening (resolved) and the closure (port_closed, open), after the header.
    assert!(csv.ends_with("\r\n") && csv.lines().count() == 3, "{csv:?}");

    let zip = install.path("all.zip");
    let out = install.run(&["export", "--zip", zip.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        stdout(&out).contains(": 3 runs, 12 files"),
        "{}",
        stdout(&out)
    );
    let listing = Command::new("python3")
        .args(["-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print('\\n'.join(z.namelist()))"])
        .arg(&zip)
        .output()
        .unwrap();
    assert!(listing.status.success(), "{}", describe(&listing));
    let names = stdout(&listing);
    for run in [&first, &second, &third] {
        let folder = run.dir.file_name().unwrap().to_str().unwrap();
        for file in ["report.html", "scan.json", "delta.json", "delta.csv"] {
            assert!(
                names.contains(&format!("{folder}/{file}")),
                "{folder}/{file}: {names}"
            );
        }
    }
    let none = install.run(&[
        "export",
        "--zip",
        zip.to_str().unwrap(),
        "--to",
        "2001-01-01",
    ]);
    assert!(
        stdout(&none).contains(": 0 runs, 0 files"),
        "{}",
        describe(&none)
    );
    let bad = install.run(&["export", "--zip", zip.to_str().unwrap(), "--from", "soon"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("--from"), "{}", describe(&bad));

    let pruned = install.run(&["prune", "--keep", "1"]);
    assert_eq!(pruned.status.code(), Some(0), "{}", describe(&pruned));
    let said = stdout(&pruned);
    assert!(
        said.starts_with("deleted 2 snapshots and 2 report folders ("),
        "{said}"
    );
    assert!(!first.dir.exists() && !second.dir.exists(), "{said}");
    assert!(
        third.dir.join("report.html").is_file(),
        "the kept run keeps its folder"
    );
}
