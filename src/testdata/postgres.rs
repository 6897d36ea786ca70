//! A private PostgreSQL cluster for unit tests, so the store's tests run on both backends.
//!
//! Started once per test process by `scripts/pg-cluster.sh serve` (initdb as `postgres`,
//! loopback only, a free port) and held by a pipe to its standard input: when the test process
//! ends, however it ends, the pipe closes and the script stops the cluster and removes its
//! directory. Each test gets a fresh database in it. Where PostgreSQL cannot start, the
//! PostgreSQL half of a test is skipped with a note, except under `CI=true`, where it fails.

use std::io::{BufRead, BufReader};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::config::PostgresUrl;

pub(crate) struct Cluster {
    /// `postgres://postgres:...@127.0.0.1:PORT/` (a database name follows).
    base: String,
    /// Closing it stops the cluster; kept open for the life of the process.
    _stdin: Mutex<ChildStdin>,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();

/// Starts a cluster with `env` given to the script (e.g. `PG_SSL_DIR`); it stops when the
/// returned value is dropped (or the process ends).
pub(crate) fn start_with(env: &[(&str, &str)]) -> Result<Cluster, String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free loopback port: {e}"))?
        .port();
    let dir = std::env::temp_dir().join(format!("scanner-unit-pg-{}-{port}", std::process::id()));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pg-cluster.sh");
    let mut child = Command::new("bash")
        .arg(script)
        .arg("serve")
        .arg(&dir)
        .arg(port.to_string())
        .env("PG_FAST", "1")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run {script}: {e}"))?;
    let stdin = child.stdin.take().ok_or("no stdin pipe")?;
    let stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("reading {script}: {e}"))?;
    let url = line
        .trim()
        .strip_prefix("ready ")
        .ok_or_else(|| format!("PostgreSQL did not start ({script} said {line:?})"))?;
    let base = url
        .strip_suffix("postgres")
        .ok_or_else(|| format!("unexpected URL {url}"))?
        .to_string();
    Ok(Cluster {
        base,
        _stdin: Mutex::new(stdin),
    })
}

impl Cluster {
    /// `host:port` of the cluster.
    pub(crate) fn host(&self) -> &str {
        self.base
            .rsplit('@')
            .next()
            .unwrap_or_default()
            .trim_end_matches('/')
    }
}

/// Whether a cluster that could not start fails the test (under `CI=true`) rather than skips.
pub(crate) fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A fresh, empty database in the test cluster; `None` (with a note) when PostgreSQL is not
/// available outside CI.
pub(crate) fn fresh_database() -> Option<PostgresUrl> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let cluster = match CLUSTER.get_or_init(|| start_with(&[])) {
        Ok(c) => c,
        Err(e) if required() => {
            panic!("PostgreSQL tests cannot run under CI=true: {e}")
        }
        Err(e) => {
            eprintln!("note: skipping the PostgreSQL half of this test: {e}");
            return None;
        }
    };
    let name = format!("unit_{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let mut admin =
        postgres::Client::connect(&format!("{}postgres", cluster.base), postgres::NoTls)
            .expect("connect to the test cluster");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create a test database");
    Some(PostgresUrl::parse(&format!("{}{name}", cluster.base)).expect("test URL"))
}
