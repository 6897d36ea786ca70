//! Helpers for the `daily_scan` end-to-end tests: a temporary installation (config, targets,
//! database, output directory), the real binary, and loopback services that answer nmap's
//! version detection at once (a silent listener costs `-sV` seconds per port).

#![allow(dead_code)] // each batch theme uses a different subset

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_daily_scan");

/// A TCP service on `ip:port` until dropped. With a banner it greets every connection with it
/// (nmap's NULL probe reads it: `SSH-2.0-OpenSSH_8.9\r\n` is identified as OpenSSH 8.9);
/// without one it closes every connection at once (nmap reports `tcpwrapped`, quickly).
pub struct Service {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Service {
    pub fn start(ip: Ipv4Addr, port: u16, banner: Option<&'static [u8]>) -> Service {
        assert!(ip.is_loopback(), "tests only ever use loopback, not {ip}");
        let listener =
            TcpListener::bind((ip, port)).unwrap_or_else(|e| panic!("binding {ip}:{port}: {e}"));
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                if let Some(banner) = banner {
                    let _ = conn.write_all(banner);
                    // Keep the connection open briefly, as a real server would.
                    thread::spawn(move || {
                        thread::sleep(Duration::from_millis(500));
                        drop(conn);
                    });
                }
            }
        });
        Service {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for Service {
    /// Stops accepting and closes the listening socket: the port is closed afterwards.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop; retried, as a test may be dropping SYNs to this port.
        for _ in 0..50 {
            if TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok() {
                break;
            }
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A temporary daily_scan installation.
pub struct Install {
    pub dir: tempfile::TempDir,
}

impl Install {
    /// `config.toml` with the output (and database) in the temp dir, the given `[batch]`
    /// ports (always explicit: other services listen on this machine) and extra top-level
    /// and `[batch]` lines.
    pub fn new(ports: &str, top: &str, batch: &str) -> Install {
        let dir = tempfile::tempdir().unwrap();
        let timeout = if top.contains("nmap_timeout") {
            ""
        } else {
            "nmap_timeout = 60\n"
        };
        let config = format!(
            "output_dir = \"out\"\nlog_level = \"info\"\n{timeout}{top}\n\
             [batch]\nports = \"{ports}\"\n{batch}\n"
        );
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        Install { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn db(&self) -> PathBuf {
        self.path("out/scans.db")
    }

    /// The newest report folder's scan.json, as text.
    pub fn latest_scan_text(&self) -> String {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(self.path("out"))
            .expect("the output directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("scan.json").is_file())
            .collect();
        dirs.sort();
        let path = dirs.last().expect("a report folder").join("scan.json");
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// Whether the newest scan.json has `port` open on some host.
    pub fn latest_scan_has_open(&self, port: u16) -> bool {
        let doc: Value = serde_json::from_str(&self.latest_scan_text()).unwrap();
        doc["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|h| h["ports"].as_array().unwrap())
            .any(|p| p["portid"] == port && p["state"] == "open")
    }

    /// A copy of config.toml named `name` whose nmap is `nmap` (a wrapper script).
    pub fn config_with_nmap(&self, name: &str, nmap: &Path) -> String {
        let config = std::fs::read_to_string(self.path("config.toml")).unwrap();
        let text = format!("nmap_path = \"{}\"\n{config}", nmap.display());
        std::fs::write(self.path(name), text).unwrap();
        name.to_string()
    }

    pub fn targets(&self, lines: &[&str]) {
        std::fs::write(self.path("targets.txt"), lines.join("\n") + "\n").unwrap();
    }

    /// `daily_scan --config config.toml ARGS`, in the install dir, SCANNER_* unset.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(self.dir.path())
            .arg("--config")
            .arg(self.path("config.toml"))
            .args(args)
            .stdin(Stdio::null());
        for var in [
            "SCANNER_CONFIG",
            "SCANNER_OUTPUT_DIR",
            "SCANNER_LOG_LEVEL",
            "SCANNER_NMAP_TIMEOUT",
            "RUST_LOG",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.command(args);
        cmd.envs(env.iter().copied());
        cmd.output().expect("running daily_scan")
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }

    /// A batch run of `targets.txt`; panics unless it exits with `code`.
    pub fn scan(&self, extra: &[&str], env: &[(&str, &str)], code: i32) -> Run {
        let mut args = vec!["-f", "targets.txt"];
        args.extend_from_slice(extra);
        let out = self.run_with(&args, env);
        assert_eq!(out.status.code(), Some(code), "{}", describe(&out));
        Run::new(self, out)
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    )
}

/// A finished batch run: its output and report folder.
pub struct Run {
    pub out: Output,
    pub dir: PathBuf,
}

impl Run {
    fn new(install: &Install, out: Output) -> Run {
        let text = stdout(&out);
        let dir = text
            .lines()
            .find_map(|l| l.strip_prefix("Reports: "))
            .map(|d| install.dir.path().join(d.split(" (").next().unwrap_or(d)))
            .unwrap_or_else(|| panic!("no report folder in the output\n{}", describe(&out)));
        Run { out, dir }
    }

    pub fn json(&self, name: &str) -> Value {
        let path = self.dir.join(name);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    pub fn delta(&self) -> Value {
        self.json("delta.json")
    }

    pub fn text(&self) -> String {
        stdout(&self.out)
    }
}

/// Changes of a delta as `kind severity ip port/proto` lines (host changes without a port).
pub fn changes(delta: &Value) -> Vec<String> {
    delta["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            let head = format!(
                "{} {} {}",
                c["kind"].as_str().unwrap(),
                c["severity"].as_str().unwrap(),
                c["ip"].as_str().unwrap()
            );
            match c["port"].as_u64() {
                Some(p) => format!("{head} {p}/{}", c["protocol"].as_str().unwrap()),
                None => head,
            }
        })
        .collect()
}

/// `target reason` lines of a delta's not_compared list.
pub fn not_compared(delta: &Value) -> Vec<String> {
    delta["not_compared"]
        .as_array()
        .expect("not_compared")
        .iter()
        .map(|n| {
            format!(
                "{} {}",
                n["target"].as_str().unwrap(),
                n["reason"].as_str().unwrap()
            )
        })
        .collect()
}

/// The fault-injecting nmap wrapper (see the script).
pub fn faulty_nmap() -> PathBuf {
    crate::support::fake_nmap("faulty.sh")
}

/// Number of snapshots in the database, read directly with SQLite.
pub fn snapshot_count(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("SELECT count(*) FROM snapshots", [], |r| r.get(0))
        .unwrap()
}
