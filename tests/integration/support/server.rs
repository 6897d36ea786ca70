//! The real `api_server` binary on a free loopback port with a temporary config, a minimal
//! HTTP/1.1 client (raw `TcpStream`, so malformed requests are possible too), and fake-nmap
//! wrappers for fault injection.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long start-up and shutdown may take before a test gives up (a bound, not a measurement).
const PATIENCE: Duration = Duration::from_secs(20);

/// A running `api_server`; killed on drop.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
}

/// A free loopback port (bound once, then released).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// Builds `config.toml` from `key = value` lines; keys starting with `api.` go in `[api]`.
fn config_text(port: u16, settings: &[(&str, &str)]) -> String {
    let mut top = vec![
        ("log_level".to_string(), "\"info\"".to_string()),
        ("nmap_path".to_string(), "\"/usr/bin/nmap\"".to_string()),
    ];
    let mut api = vec![
        ("bind".to_string(), format!("\"127.0.0.1:{port}\"")),
        ("rate_limit_per_minute".to_string(), "0".to_string()),
    ];
    for (key, value) in settings {
        let (list, key) = match key.strip_prefix("api.") {
            Some(k) => (&mut api, k),
            None => (&mut top, *key),
        };
        list.retain(|(k, _)| k != key);
        list.push((key.to_string(), value.to_string()));
    }
    let lines = |l: &[(String, String)]| {
        l.iter()
            .map(|(k, v)| format!("{k} = {v}\n"))
            .collect::<String>()
    };
    format!("{}\n[api]\n{}", lines(&top), lines(&api))
}

impl Server {
    /// Starts the server and waits until `/api/health` answers (200 or 503).
    pub fn start(settings: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let child = spawn(dir.path(), &config_text(port, settings));
        let server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let until = Instant::now() + PATIENCE;
        loop {
            if let Ok(r) = try_request(self.addr, "GET", "/api/health", &[], b"")
                && (r.status == 200 || r.status == 503)
            {
                return;
            }
            assert!(
                Instant::now() < until,
                "api_server never answered; log:\n{}",
                self.log()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    pub fn get(&self, path: &str) -> Reply {
        request(self.addr, "GET", path, &[], b"")
    }

    /// `POST /api/scan` with a JSON body.
    pub fn scan(&self, body: &serde_json::Value) -> Reply {
        self.scan_with(body, &[])
    }

    pub fn scan_with(&self, body: &serde_json::Value, headers: &[(&str, &str)]) -> Reply {
        let mut all = vec![("Content-Type", "application/json")];
        all.extend_from_slice(headers);
        request(
            self.addr,
            "POST",
            "/api/scan",
            &all,
            body.to_string().as_bytes(),
        )
    }

    /// True while the server process runs.
    pub fn child_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (e.g. "TERM") to the server.
    pub fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .args([format!("-{signal}"), self.pid().to_string()])
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -{signal} failed");
    }

    /// Waits for the server to exit by itself.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let until = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < until, "api_server did not exit");
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `api_server --config <dir>/config.toml` with stderr to `<dir>/stderr.log`, and no
/// `SCANNER_*` variables from the test environment.
pub fn spawn(dir: &Path, config: &str) -> Child {
    let config_path = dir.join("config.toml");
    fs::write(&config_path, config).expect("write config");
    let stderr = fs::File::create(dir.join("stderr.log")).expect("stderr log");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_api_server"));
    cmd.arg("--config")
        .arg(&config_path)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    for (key, _) in std::env::vars() {
        if key.starts_with("SCANNER_") || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }
    cmd.spawn().expect("spawn api_server")
}

/// Runs `api_server` with `config` to completion (for start-up failures).
pub fn run_to_exit(config: &str) -> (ExitStatus, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = spawn(dir.path(), config);
    let until = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("api_server kept running");
        }
        thread::sleep(Duration::from_millis(20));
    };
    let log = fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default();
    (status, log)
}

pub fn config_for_port(port: u16, settings: &[(&str, &str)]) -> String {
    config_text(port, settings)
}

/// One HTTP response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }

    /// `(status, error.code, error.field)` of an error reply.
    pub fn error(&self) -> (u16, String, Option<String>) {
        let v = self.json();
        let code = v["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code: {}", self.body))
            .to_string();
        (
            self.status,
            code,
            v["error"]["field"].as_str().map(String::from),
        )
    }
}

/// A request with a body and `Connection: close`; Content-Length is added unless given.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    try_request(addr, method, path, headers, body)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

pub fn try_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Reply> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let has_length = headers.iter().any(|(k, _)| {
        k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("transfer-encoding")
    });
    if !has_length && (!body.is_empty() || method == "POST") {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut raw = head.into_bytes();
    raw.extend_from_slice(body);
    raw_exchange(addr, &raw)
}

/// Sends `raw` bytes as they are and reads the reply until the server closes.
pub fn raw_exchange(addr: SocketAddr, raw: &[u8]) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    // The server may answer (413) and close before reading everything; that is fine.
    let _ = stream.write_all(raw);
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    parse_reply(&bytes).ok_or_else(|| std::io::Error::other(format!("unparsable reply: {bytes:?}")))
}

fn parse_reply(bytes: &[u8]) -> Option<Reply> {
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&bytes[..split]);
    let body = &bytes[split + 4..];
    let mut lines = head.lines();
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    Some(Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// The body of a `Transfer-Encoding: chunked` reply (the server chunks bodies above 32 KiB).
fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let eol = rest.windows(2).position(|w| w == b"\r\n")?;
        let line = std::str::from_utf8(&rest[..eol]).ok()?;
        let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
        let data = &rest[eol + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(data.get(..size)?);
        rest = data.get(size..)?.strip_prefix(b"\r\n")?;
    }
}

/// An executable shell script in `dir`.
pub fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// A wrapper "nmap" that appends its arguments to `log` for every scan (not for the
/// `--version` probe), optionally sleeps, then runs the real nmap.
pub fn logging_nmap(dir: &Path, log: &Path, sleep_secs: f64) -> PathBuf {
    script(
        dir,
        "nmap-wrapper",
        &format!(
            "case \"$*\" in *--version*) ;; *) echo \"$*\" >> '{}'; sleep {sleep_secs} ;; esac\n\
             exec /usr/bin/nmap \"$@\"",
            log.display()
        ),
    )
}

/// Scan invocations recorded by [`logging_nmap`].
pub fn logged_scans(log: &Path) -> Vec<String> {
    fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

/// Live processes whose command line contains `needle` (arguments joined with spaces).
pub fn processes_matching(needle: &str) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(raw) = fs::read(format!("/proc/{pid}/cmdline")) else {
                return false;
            };
            let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ");
            cmdline.contains(needle) && !zombie(*pid)
        })
        .collect()
}

/// Like [`processes_matching`], restricted to direct children of `parent`: the processes a
/// server spawned, not the short-lived forks those make (a fork shares its parent's argv until
/// it execs, which would be counted twice).
pub fn children_matching(parent: u32, needle: &str) -> Vec<u32> {
    processes_matching(needle)
        .into_iter()
        .filter(|pid| parent_of(*pid) == Some(parent))
        .collect()
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let close = stat.rfind(')')?;
    stat[close + 1..].split_whitespace().nth(1)?.parse().ok()
}

fn zombie(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let close = s.rfind(')')?;
            s[close + 1..].trim_start().chars().next()
        })
        .is_none_or(|state| matches!(state, 'Z' | 'X' | 'x'))
}

/// The banner an OpenSSH server sends first; nmap `-sV` names it from this alone.
pub const SSH_BANNER: &[u8] = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";

/// A listener on `ip` that greets every connection with [`SSH_BANNER`], so `-sV` identifies
/// the port as `ssh` / `OpenSSH` / `9.2p1 Debian 2`. Serves until the test process exits.
pub fn ssh_listener(ip: std::net::Ipv4Addr) -> u16 {
    assert!(ip.is_loopback(), "tests only ever use loopback, not {ip}");
    let listener = TcpListener::bind((ip, 0)).unwrap_or_else(|e| panic!("bind {ip}:0: {e}"));
    let port = listener.local_addr().expect("local addr").port();
    thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            thread::spawn(move || {
                let mut conn = conn;
                let _ = conn.write_all(SSH_BANNER);
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                let mut buf = [0u8; 256];
                let _ = conn.read(&mut buf);
            });
        }
    });
    port
}
