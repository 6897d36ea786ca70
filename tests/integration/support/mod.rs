//! Helpers shared by the integration tests: fixtures, loopback listeners, process checks.

#![allow(dead_code)] // each theme uses a different subset

pub mod postgres;
pub mod server;
pub mod webdriver;

use std::fs;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

/// A file under `tests/fixtures/`.
pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative)
}

/// A fault-injection script from `tests/fixtures/fake-nmap/`.
pub fn fake_nmap(name: &str) -> PathBuf {
    fixture(&format!("fake-nmap/{name}"))
}

/// Opens a free TCP port on a loopback address, so that "host" `ip` has that port open for as
/// long as the listener lives. Connections complete in the kernel backlog; no accept needed.
pub fn listen(ip: Ipv4Addr) -> TcpListener {
    assert!(ip.is_loopback(), "tests only ever use loopback, not {ip}");
    TcpListener::bind((ip, 0)).unwrap_or_else(|e| panic!("binding {ip}:0: {e}"))
}

/// A port with nothing listening on `ip`: a free port is bound once, then released.
pub fn closed_port(ip: Ipv4Addr) -> u16 {
    let listener = listen(ip);
    let port = listener.local_addr().expect("listener address").port();
    drop(listener);
    port
}

/// Whether `pid` is a live process whose name (`/proc/<pid>/comm`, at most 15 bytes) is `comm`.
/// A zombie is dead, and so is a pid that now belongs to some other program.
pub fn process_alive(pid: u32, comm: &str) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // "<pid> (<comm>) <state> ...": comm may itself contain spaces or parentheses.
    let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
        return false;
    };
    let state = stat[close + 1..].trim_start().chars().next();
    &stat[open + 1..close] == comm && !matches!(state, Some('Z' | 'X' | 'x'))
}

/// Waits for a process that was just sent SIGKILL to be gone; false if it outlives `limit`.
/// (A bound on a liveness check, not a timing assertion: SIGKILL takes effect in microseconds.)
pub fn wait_until_dead(pid: u32, comm: &str, limit: Duration) -> bool {
    let until = Instant::now() + limit;
    while process_alive(pid, comm) {
        if Instant::now() >= until {
            return false;
        }
        thread::sleep(Duration::from_millis(10));
    }
    true
}

/// The whitespace-separated pids a fake nmap wrote to `path`.
pub fn read_pids(path: &Path) -> Vec<u32> {
    let text = fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("reading pid file {}: {e}", path.display()));
    text.split_whitespace()
        .map(|p| p.parse().unwrap_or_else(|e| panic!("pid {p:?}: {e}")))
        .collect()
}
