//! A real SMTP server for the email tests: Debian's aiosmtpd (system python), started by the
//! test on a free 127.0.0.1 port with a Maildir, optionally STARTTLS with a certificate the
//! test makes with openssl (a test CA signing a 127.0.0.1 leaf) and AUTH LOGIN/PLAIN.
//! Received mail is read back with python's own `email` parser (an oracle independent of
//! lettre).

#![allow(dead_code)] // each email test uses a different subset

use std::io::BufRead;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

const PYTHON: &str = "/usr/bin/python3";

const SERVER: &str = r#"
import os, ssl, sys
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword

port, maildir, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
user, password = os.environ.get("SMTP_USER", ""), os.environ.get("SMTP_PASS", "")

def check(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and data.login.decode() == user \
        and data.password.decode() == password
    return AuthResult(success=ok)

ctx = None
if cert:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
if os.environ.get("SMTPS"):
    kwargs = dict(hostname="127.0.0.1", port=port, ssl_context=ctx)
else:
    kwargs = dict(hostname="127.0.0.1", port=port, tls_context=ctx, require_starttls=bool(ctx))
if user:
    kwargs.update(authenticator=check, auth_require_tls=bool(ctx))
controller = Controller(Mailbox(maildir), **kwargs)
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"#;

const READER: &str = r#"
import email, email.policy, json, os, sys
out = []
new = os.path.join(sys.argv[1], "new")
for name in sorted(os.listdir(new)) if os.path.isdir(new) else []:
    raw = open(os.path.join(new, name), "rb").read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    parts = {p.get_content_type(): p.get_content() for p in msg.walk() if not p.is_multipart()}
    out.append({
        "subject": str(msg["subject"]),
        "from": str(msg["from"]),
        "to": str(msg["to"]),
        "content_type": msg.get_content_type(),
        "headers": "".join(f"{k}: {v}\n" for k, v in msg.items()),
        "raw": raw.decode("utf-8", "replace"),
        "text": parts.get("text/plain", ""),
        "html": parts.get("text/html", ""),
    })
print(json.dumps(out))
"#;

/// A free port on 127.0.0.1 (bound, noted, released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A test CA (`ca.pem`) and a leaf for 127.0.0.1 it signed (`cert.pem`, `key.pem`), in `dir`.
pub struct Certs {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Makes a CA named `name` in `dir/name-ca.pem` (and its key).
pub fn make_ca(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let ca = dir.join(format!("{name}-ca.pem"));
    let key = dir.join(format!("{name}-ca.key"));
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args([
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name} test CA"),
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&ca));
    (ca, key)
}

pub fn make_certs(dir: &Path) -> Certs {
    let (ca, ca_key) = make_ca(dir, "smtp");
    let key = dir.join("key.pem");
    let csr = dir.join("leaf.csr");
    let cert = dir.join("cert.pem");
    let ext = dir.join("leaf.ext");
    std::fs::write(
        &ext,
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(Command::new("openssl")
        .args([
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-subj", "/CN=127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&csr));
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-CAcreateserial"])
        .arg("-in")
        .arg(&csr)
        .arg("-CA")
        .arg(&ca)
        .arg("-CAkey")
        .arg(&ca_key)
        .arg("-extfile")
        .arg(&ext)
        .arg("-out")
        .arg(&cert));
    Certs { ca, cert, key }
}

/// aiosmtpd on 127.0.0.1:`port` until dropped.
pub struct Smtp {
    pub port: u16,
    pub maildir: PathBuf,
    child: Child,
}

impl Smtp {
    /// With `certs`: STARTTLS required. With `login`: AUTH required to be this user/password.
    pub fn start(dir: &Path, certs: Option<&Certs>, login: Option<(&str, &str)>) -> Smtp {
        Smtp::spawn(dir, certs, login, false)
    }

    /// SMTPS: TLS from the first byte with `certs`.
    pub fn start_smtps(dir: &Path, certs: &Certs) -> Smtp {
        Smtp::spawn(dir, Some(certs), None, true)
    }

    fn spawn(dir: &Path, certs: Option<&Certs>, login: Option<(&str, &str)>, smtps: bool) -> Smtp {
        let port = free_port();
        let maildir = dir.join(format!("maildir-{port}"));
        let script = dir.join("smtp_server.py");
        std::fs::write(&script, SERVER).unwrap();
        let (cert, key) = certs.map_or((PathBuf::new(), PathBuf::new()), |c| {
            (c.cert.clone(), c.key.clone())
        });
        let (user, pass) = login.unwrap_or(("", ""));
        let mut child = Command::new(PYTHON)
            .arg(&script)
            .arg(port.to_string())
            .arg(&maildir)
            .arg(&cert)
            .arg(&key)
            .env("SMTP_USER", user)
            .env("SMTP_PASS", pass)
            .env("SMTPS", if smtps { "1" } else { "" })
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // Its log (a refused STARTTLS prints a traceback there) stays beside the maildir.
            .stderr(std::fs::File::create(dir.join(format!("aiosmtpd-{port}.log"))).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("starting aiosmtpd with {PYTHON}: {e} (scripts/ensure-deps.sh installs python3-aiosmtpd)"));
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line.trim(),
            "ready",
            "aiosmtpd did not start (is Debian's python3-aiosmtpd installed?)"
        );
        Smtp {
            port,
            maildir,
            child,
        }
    }

    /// Every message received, parsed: subject, from, to, headers, raw, text and html parts.
    pub fn messages(&self) -> Vec<Value> {
        let out = Command::new(PYTHON)
            .arg("-c")
            .arg(READER)
            .arg(&self.maildir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An `[[email]]` table for `smtp`.
pub fn email(name: &str, port: u16, extra: &str) -> String {
    format!(
        "\n[[email]]\nname = \"{name}\"\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {port}\n\
         from = \"daily_scan <scanner@example.org>\"\nto = [\"secops@example.org\"]\n{extra}\n"
    )
}
