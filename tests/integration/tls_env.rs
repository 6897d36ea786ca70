//! Helpers for the TLS watch tests: certificates made with the openssl CLI in the test's own
//! directory, and `openssl s_server` listeners on loopback addresses. Nothing is fetched.

#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A certificate and its key, in PEM files.
#[derive(Debug, Clone)]
pub struct Cert {
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the openssl CLI (scripts/ensure-deps.sh installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed certificate for `cn`, valid for `days` from now.
pub fn self_signed(dir: &Path, name: &str, cn: &str, days: u32) -> Cert {
    let (cert, key) = (format!("{name}.pem"), format!("{name}.key"));
    let subject = format!("/CN={cn}");
    let days = days.to_string();
    openssl(
        dir,
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &cert,
            "-days", &days, "-subj", &subject,
        ],
    );
    Cert {
        cert: dir.join(cert),
        key: dir.join(key),
    }
}

/// A self-signed certificate for `cn` valid from `start` to `end` (`YYYYMMDDHHMMSSZ`), made with
/// `openssl ca -selfsign` (`req` cannot back-date on OpenSSL 3.0).
pub fn self_signed_between(dir: &Path, name: &str, cn: &str, start: &str, end: &str) -> Cert {
    let ca = dir.join(format!("{name}-ca"));
    std::fs::create_dir_all(&ca).unwrap();
    std::fs::write(ca.join("index.txt"), "").unwrap();
    std::fs::write(ca.join("serial"), "01\n").unwrap();
    let conf = format!(
        "[ca]\ndefault_ca = d\n[d]\ndatabase = {0}/index.txt\nnew_certs_dir = {0}\n\
         serial = {0}/serial\ndefault_md = sha256\npolicy = p\nunique_subject = no\n\
         [p]\ncommonName = supplied\n",
        ca.display()
    );
    std::fs::write(ca.join("ca.cnf"), conf).unwrap();
    let (cert, key, csr) = (
        format!("{name}.pem"),
        format!("{name}.key"),
        format!("{name}.csr"),
    );
    let subject = format!("/CN={cn}");
    openssl(
        dir,
        &[
            "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &csr, "-subj",
            &subject,
        ],
    );
    let cnf = ca.join("ca.cnf");
    openssl(
        dir,
        &[
            "ca",
            "-batch",
            "-config",
            cnf.to_str().unwrap(),
            "-selfsign",
            "-keyfile",
            &key,
            "-in",
            &csr,
            "-out",
            &cert,
            "-startdate",
            start,
            "-enddate",
            end,
            "-notext",
        ],
    );
    Cert {
        cert: dir.join(cert),
        key: dir.join(key),
    }
}

/// SHA-256 of a certificate as `openssl x509 -fingerprint` prints it, lower-case hex.
pub fn fingerprint(cert: &Cert) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(&cert.cert)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let hex = text.trim().rsplit('=').next().unwrap_or("");
    hex.replace(':', "").to_ascii_lowercase()
}

/// An `openssl s_server -www` on `ip:port`; killed when dropped.
pub struct TlsServer {
    child: Child,
    pub addr: SocketAddr,
}

impl TlsServer {
    /// Starts the server with `extra` arguments (e.g. `-tls1`) and waits until it accepts.
    pub fn start(ip: Ipv4Addr, port: u16, cert: &Cert, extra: &[&str]) -> TlsServer {
        let addr = SocketAddr::from((ip, port));
        let child = Command::new("openssl")
            .arg("s_server")
            .arg("-accept")
            .arg(addr.to_string())
            .arg("-cert")
            .arg(&cert.cert)
            .arg("-key")
            .arg(&cert.key)
            .args(["-www", "-quiet"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server");
        let server = TlsServer { child, addr };
        let until = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(Instant::now() < until, "s_server never listened on {addr}");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
