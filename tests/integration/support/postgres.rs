//! A private PostgreSQL cluster for the end-to-end tests: `scripts/pg-cluster.sh serve`
//! (initdb as `postgres`, loopback only), started once per test process and stopped by the
//! script when this process's end closes its standard input. Each test takes a fresh
//! database. Without PostgreSQL the tests that need it are skipped with a note, except under
//! `CI=true`, where they fail.

use std::io::{BufRead, BufReader};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// The cluster's URL prefix (`postgres://postgres:PASSWORD@127.0.0.1:PORT/`) and the pipe
/// whose closing stops it.
static CLUSTER: OnceLock<Result<(String, Mutex<ChildStdin>), String>> = OnceLock::new();

fn start() -> Result<(String, Mutex<ChildStdin>), String> {
    let port = super::server::free_port();
    let dir = std::env::temp_dir().join(format!("scanner-e2e-pg-{}-{port}", std::process::id()));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pg-cluster.sh");
    let mut child = Command::new("bash")
        .args([script, "serve"])
        .arg(&dir)
        .arg(port.to_string())
        .env("PG_FAST", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{script}: {e}"))?;
    let mut line = String::new();
    let stdout = child.stdout.take().ok_or("no stdout")?;
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let url = line
        .trim()
        .strip_prefix("ready ")
        .and_then(|u| u.strip_suffix("postgres"))
        .ok_or_else(|| format!("PostgreSQL did not start: {line:?}"))?;
    Ok((
        url.to_string(),
        Mutex::new(child.stdin.take().ok_or("no stdin")?),
    ))
}

/// A URL (with its password) of a fresh, empty database; `None` outside CI when PostgreSQL
/// cannot start.
pub fn fresh_database() -> Option<String> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let base = match CLUSTER.get_or_init(start) {
        Ok((base, _)) => base,
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("PostgreSQL end-to-end tests cannot run under CI=true: {e}")
        }
        Err(e) => {
            eprintln!("note: skipping a PostgreSQL end-to-end test: {e}");
            return None;
        }
    };
    let name = format!("e2e_{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let mut admin = postgres::Client::connect(&format!("{base}postgres"), postgres::NoTls)
        .expect("connect to the test cluster");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create a database");
    Some(format!("{base}{name}"))
}
