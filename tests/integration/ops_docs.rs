//! The operator docs cannot rot: every command of the `sh` blocks in README.md and
//! docs/OPERATIONS.md is run here (or listed with where else it is exercised, or why it cannot
//! run in a test), and the configuration reference is checked against `Config::default()`.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;

use security_scanner::config::{CliOverrides, Config};
use security_scanner::model::{AlertKind, Severity};
use security_scanner::store::{NewAlert, Store};

use crate::alerts_env::{Answer, Receiver, webhook};
use crate::batch_env::{Install, Service, describe};
use crate::support::fixture;
use crate::support::server::Server;

const DOCS: [&str; 3] = ["README.md", "docs/OPERATIONS.md", "docs/NOTIFICATIONS.md"];

fn read(relative: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)).unwrap()
}

/// The commands of every ```sh block: continuation lines joined, trailing comments removed.
fn sh_commands(markdown: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block && line.trim() == "```sh";
            continue;
        }
        if !in_block {
            continue;
        }
        let code = strip_comment(line);
        if let Some(head) = code.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        pending.push_str(code);
        let command = std::mem::take(&mut pending)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if !command.is_empty() {
            commands.push(command);
        }
    }
    commands
}

/// Cuts a ` # comment` (whitespace before the `#`, outside quotes).
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    let mut prev_space = true;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if prev_space => return line[..i].trim_end(),
            _ => {}
        }
        prev_space = c.is_whitespace();
    }
    line.trim_end()
}

/// Commands not run here: the prefix they start with, and where they are exercised instead.
const NOT_RUN: &[(&str, &str)] = &[
    ("./scripts/test.sh", ".ci/run runs it"),
    (
        "./scripts/serve.sh",
        "not run by tests: it builds the release binaries and serves in the foreground; \
         api_server itself is run here and by the api_* tests",
    ),
    (
        "cargo build --release --locked --bins",
        "the Dockerfile's build stage runs it (scripts/container-smoke.sh)",
    ),
    (
        "install ",
        "changes the machine (files under /usr/local, /etc)",
    ),
    ("useradd ", "changes the machine (a system user)"),
    (
        "systemctl ",
        "needs systemd as PID 1; the units are checked by ops_deploy",
    ),
    ("journalctl ", "needs systemd as PID 1"),
    (
        "scripts/pg-cluster.sh ",
        "the PostgreSQL tests start and stop their clusters with it (support/postgres.rs)",
    ),
    (
        "./daily_scan --db postgres://",
        "store_postgres runs daily_scan against a private PostgreSQL cluster",
    ),
    (
        "./daily_scan migrate-store ",
        "store_postgres::migrate_store_* runs it into a private PostgreSQL cluster",
    ),
    (
        "podman ",
        "scripts/container-smoke.sh runs it (checked below)",
    ),
];

/// Exit codes a run command may end with besides 0 (documented outcomes, not failures).
fn allowed_codes(command: &str) -> &'static [i32] {
    if command.contains(" diff ") {
        &[0, 1] // same / different
    } else if command.contains("--fail-on") {
        &[0, 3]
    } else {
        &[0]
    }
}

#[test]
fn every_documented_command_runs_or_is_accounted_for() {
    let svc = Service::start(Ipv4Addr::new(127, 0, 47, 1), 0, None);
    // The `notify test secops` and `notify retry` examples send to this receiver.
    let hook = Receiver::start(&[Answer::Status(200)]);
    let install = Install::new(
        &svc.port().to_string(),
        "",
        &webhook(&hook.url, "name = \"secops\""),
    );
    install.targets(&["127.0.47.1"]);
    let dir = install.dir.path();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_daily_scan"), dir.join("daily_scan")).unwrap();
    // Snapshots 1 to 12 exist, as the `report 12` / `diff 11 12` examples assume.
    let xml = fixture("loopback/sv_two_hosts.xml");
    for _ in 0..12 {
        let out = install.run(&["import", xml.to_str().unwrap(), "--profile", "docs"]);
        assert!(out.status.success(), "{}", describe(&out));
    }
    // Alerts 1 to 13 exist, as the `alerts ack 12` / `alerts ignore 13` examples assume; imports
    // raise none, so they are set up through the store as a run would leave them.
    let mut store = Store::open(&install.db()).unwrap();
    for port in 1..=13u16 {
        store
            .insert_alert(&NewAlert {
                kind: AlertKind::UnexpectedPort,
                severity: Severity::High,
                ip: "127.0.47.1".into(),
                protocol: Some("tcp".into()),
                port: Some(20_000 + port),
                message: format!("{}/tcp open, not expected", 20_000 + port),
                snapshot: 12,
            })
            .unwrap();
    }
    drop(store);
    std::fs::create_dir(dir.join("old-scans")).unwrap();
    std::fs::copy(&xml, dir.join("old-scans/a.xml")).unwrap();
    // The read API's examples (`/api/snapshots/12`, `/api/alerts/7/ack`) read this database.
    let database = format!("\"{}\"", install.db().display());
    let server = Server::start(&[("database", &database)]);
    let base = format!("127.0.0.1:{}", server.addr.port());
    let smoke = read("scripts/container-smoke.sh");
    let dockerfile = read("Dockerfile");

    let mut ran = 0;
    for doc in DOCS {
        for command in sh_commands(&read(doc)) {
            if let Some((_, reason)) = NOT_RUN.iter().find(|(p, _)| command.starts_with(p)) {
                eprintln!("{doc}: not run here ({reason}): {command}");
                if command.starts_with("podman ") {
                    let sub = command.split_whitespace().nth(1).unwrap();
                    assert!(smoke.contains(&format!("podman {sub}")), "{command}");
                    for flag in command.split_whitespace().filter(|w| w.starts_with("--")) {
                        assert!(smoke.contains(flag), "smoke script lacks {flag}: {command}");
                    }
                }
                if command.starts_with("cargo build") {
                    assert!(dockerfile.contains(&command), "{command}");
                }
                continue;
            }
            assert!(
                [
                    "curl ",
                    "./daily_scan ",
                    "./target/release/daily_scan ",
                    "nmap "
                ]
                .iter()
                .any(|p| command.starts_with(p)),
                "{doc}: a new kind of command, neither run nor listed in NOT_RUN: {command}"
            );
            let runnable = command
                .replace("localhost:5000", &base)
                .replace("./target/release/daily_scan", "./daily_scan")
                .replacen("curl ", "curl --fail --max-time 120 ", 1);
            let out = Command::new("sh")
                .args(["-c", &runnable])
                .current_dir(dir)
                .env("SCANNER_CONFIG", install.path("config.toml"))
                .env("SCANNER_TOKEN", "docs-test-token-0123456789")
                .env_remove("SCANNER_OUTPUT_DIR")
                .output()
                .unwrap();
            let code = out.status.code().unwrap_or(-1);
            assert!(
                allowed_codes(&command).contains(&code),
                "{doc}: {runnable}\n{}",
                describe(&out)
            );
            ran += 1;
        }
    }
    assert!(
        ran >= 20,
        "only {ran} commands ran: did the extraction break?"
    );
    assert!(
        dir.join("daily_scan.prom").is_file(),
        "the metrics example wrote its file"
    );
    assert!(dir.join("report-12.html").is_file());
}

#[test]
fn comments_and_continuations_are_handled() {
    let md = "```sh\ncurl -s x \\\n     -d '{\"a\": \"#b\"}'   # note\n./daily_scan history  # c\n```\n\
              ```cron\n0 2 * * * x\n```\n";
    assert_eq!(
        sh_commands(md),
        ["curl -s x -d '{\"a\": \"#b\"}'", "./daily_scan history"]
    );
}

/// Rows of the table under "## Configuration reference": (key, default, variable).
fn config_rows() -> Vec<(String, String, String)> {
    let doc = read("docs/OPERATIONS.md");
    let section = doc
        .split("## Configuration reference")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    let unquote = |cell: &str| cell.trim().trim_matches('`').to_string();
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split(" | ").collect();
            (
                unquote(cells[0].trim_start_matches('|')),
                unquote(cells[1]),
                unquote(cells[2]),
            )
        })
        .collect()
}

/// `a.b = v` as TOML: `[a]` then `b = v`.
fn toml_line(key: &str, value: &str) -> String {
    match key.split_once('.') {
        Some((table, key)) => format!("[{table}]\n{key} = {value}\n"),
        None => format!("{key} = {value}\n"),
    }
}

/// Leaf keys of a configuration, dotted, with their values; a table is a leaf unless the doc
/// lists keys inside it.
fn flatten(config: &Config, documented: &[String]) -> BTreeMap<String, toml::Value> {
    let value = toml::Value::try_from(config).unwrap();
    let mut keys = BTreeMap::new();
    for (k, v) in value.as_table().unwrap() {
        match v.as_table() {
            Some(t) if documented.iter().any(|d| d.starts_with(&format!("{k}."))) => {
                for (sub, v) in t {
                    keys.insert(format!("{k}.{sub}"), v.clone());
                }
            }
            _ => {
                keys.insert(k.clone(), v.clone());
            }
        }
    }
    keys
}

#[test]
fn the_configuration_reference_matches_the_program() {
    let rows = config_rows();
    assert!(rows.len() >= 20, "{rows:?}");
    let documented: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    for (key, default, _) in &rows {
        let text = if default == "unset" {
            toml_line(key, "\"probe\"")
        } else {
            toml_line(key, default)
        };
        let parsed = Config::from_toml(&text)
            .unwrap_or_else(|e| panic!("documented `{key}` = {default}: {e}"));
        if default == "unset" {
            assert_ne!(parsed, Config::default(), "{key} exists");
        } else {
            assert_eq!(
                parsed,
                Config::default(),
                "the default of `{key}` is not {default}"
            );
        }
    }
    let defaults = flatten(&Config::default(), &documented);
    for key in defaults.keys() {
        assert!(
            documented.contains(key),
            "config key `{key}` (default {}) is missing from docs/OPERATIONS.md",
            defaults[key]
        );
    }

    // Each SCANNER_* variable the program reads is documented with the key it changes.
    let source = read("src/config.rs");
    let probes = [
        ("SCANNER_OUTPUT_DIR", "/probe"),
        ("SCANNER_LOG_LEVEL", "debug"),
        ("SCANNER_NMAP_TIMEOUT", "7"),
        ("SCANNER_BIND", "127.0.0.1:7"),
        ("SCANNER_DATABASE", "/probe/scans.db"),
        ("SCANNER_API_TOKENS", "probe-token-0123456789"),
        ("SCANNER_API_READ_TOKENS", "probe-reader-0123456789"),
    ];
    let empty = tempfile::NamedTempFile::new().unwrap();
    for var in source
        .split("env(\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|v| *v != "SCANNER_CONFIG")
    {
        let (_, probe) = probes.iter().find(|(v, _)| *v == var).unwrap_or_else(|| {
            panic!("{var}: add a probe value to this test and a row to the doc")
        });
        let (key, _, _) = rows
            .iter()
            .find(|r| r.2 == var)
            .unwrap_or_else(|| panic!("{var} is not in the configuration reference"));
        let cli = CliOverrides {
            config: Some(empty.path().to_path_buf()),
            ..CliOverrides::default()
        };
        let loaded = Config::load_with(&cli, |k| (k == var).then(|| probe.to_string())).unwrap();
        let after = flatten(&loaded, &documented);
        let changed: Vec<&String> = after
            .keys()
            .filter(|k| after.get(*k) != defaults.get(*k))
            .collect();
        assert_eq!(changed, [key], "{var} changes exactly `{key}`");
    }
}

#[test]
fn the_readme_cron_line_is_the_shipped_one() {
    let readme = read("README.md");
    let block = readme
        .split("```cron\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a cron block in README.md");
    let shipped = read("deploy/cron/security-scanner");
    let entry = shipped
        .lines()
        .find(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap();
    assert_eq!(
        block.trim(),
        entry,
        "README and deploy/cron/security-scanner differ"
    );
}
