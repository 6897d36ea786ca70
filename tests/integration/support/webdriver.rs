//! A small W3C WebDriver client over `std::net`: Debian's `chromedriver` driving headless
//! `chromium` with the flags and a fresh profile, enough to load a page, find and
//! click elements, run a line of script and take a screenshot.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::server::free_port;

/// How long the driver may take to start, and a condition to come true (a bound, not a
/// measurement).
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The W3C key under which an element reference travels.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// `chromedriver` on a free loopback port; killed on drop (with the browser, which the
/// session's end closes first).
pub struct Driver {
    child: Child,
    addr: SocketAddr,
}

impl Driver {
    pub fn start(log: &Path) -> Driver {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is needed (scripts/test.sh installs chromium-driver with apt)");
        let driver = Driver {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        let until = Instant::now() + PATIENCE;
        loop {
            if let Ok((200, v)) = exchange(driver.addr, "GET", "/status", "")
                && v["value"]["ready"] == true
            {
                return driver;
            }
            assert!(Instant::now() < until, "chromedriver did not start");
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// A new headless Chromium session with a fresh profile in `profile`.
    pub fn session(&self, profile: &Path, width: u32, height: u32) -> Session<'_> {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-quic", "--no-first-run", "--disable-sync",
                    format!("--user-data-dir={}", profile.display()),
                    format!("--window-size={width},{height}"),
                ]
            }
        }}});
        let v = self.call("POST", "/session", Some(&caps));
        let id = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        Session { driver: self, id }
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let body = body.map(Value::to_string).unwrap_or_default();
        let (status, v) = exchange(self.addr, method, path, &body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        assert_eq!(status, 200, "{method} {path}: {v}");
        v["value"].clone()
    }

    fn try_call(&self, method: &str, path: &str) -> Result<Value, Value> {
        match exchange(self.addr, method, path, "") {
            Ok((200, v)) => Ok(v["value"].clone()),
            Ok((_, v)) => Err(v["value"].clone()),
            Err(e) => Err(Value::String(e.to_string())),
        }
    }
}

/// One WebDriver request. chromedriver keeps connections open whatever the client asks, so
/// the reply is read by its `Content-Length`, not to the end of the stream.
fn exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> std::io::Result<(u16, Value)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let mut length = 0usize;
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        if line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.trim().eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut bytes = vec![0; length];
    reader.read_exact(&mut bytes)?;
    let v = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Ok((status, v))
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser session; ended (browser closed) on drop.
pub struct Session<'d> {
    driver: &'d Driver,
    id: String,
}

/// A reference to an element of the current page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Session<'_> {
    fn path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.id)
    }

    fn post(&self, rest: &str, body: Value) -> Value {
        self.driver.call("POST", &self.path(rest), Some(&body))
    }

    fn get(&self, rest: &str) -> Value {
        self.driver.call("GET", &self.path(rest), None)
    }

    pub fn navigate(&self, url: &str) {
        self.post("/url", json!({"url": url}));
    }

    pub fn find_all(&self, css: &str) -> Vec<Element> {
        self.post("/elements", json!({"using": "css selector", "value": css}))
            .as_array()
            .expect("elements")
            .iter()
            .map(|e| Element(e[ELEMENT].as_str().expect("element id").to_string()))
            .collect()
    }

    pub fn find(&self, css: &str) -> Element {
        let mut all = self.find_all(css);
        assert!(!all.is_empty(), "no element matches {css:?}");
        all.remove(0)
    }

    pub fn text(&self, e: &Element) -> String {
        self.get(&format!("/element/{}/text", e.0))
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn attribute(&self, e: &Element, name: &str) -> Option<String> {
        self.get(&format!("/element/{}/attribute/{name}", e.0))
            .as_str()
            .map(String::from)
    }

    pub fn click(&self, e: &Element) {
        self.post(&format!("/element/{}/click", e.0), json!({}));
    }

    /// Runs `script` (a function body) in the page and returns its value.
    pub fn execute(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": []}))
    }

    /// Resizes the window (the viewport follows).
    pub fn set_window_size(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height}));
    }

    pub fn current_url(&self) -> String {
        self.get("/url").as_str().unwrap_or_default().to_string()
    }

    /// Types `text` into an input element.
    pub fn type_into(&self, e: &Element, text: &str) {
        self.post(&format!("/element/{}/value", e.0), json!({"text": text}));
    }

    /// Presses Tab once, as a keyboard user does.
    pub fn press_tab(&self) {
        let tab = "\u{E004}";
        self.post(
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
                {"type": "keyDown", "value": tab}, {"type": "keyUp", "value": tab}]}]}),
        );
    }

    /// Runs axe-core (`source`: axe.min.js) in the page and returns the violations of impact
    /// serious or critical, one line each (rule, impact, first target, help).
    pub fn axe_serious(&self, source: &str) -> Vec<String> {
        self.execute(&format!("{source}\nreturn true;"));
        let v = self.execute(
            "return axe.run(document, {resultTypes: ['violations']}).then(function (r) {\
               return r.violations.filter(function (v) {\
                 return v.impact === 'serious' || v.impact === 'critical';\
               }).map(function (v) {\
                 return v.id + ' (' + v.impact + ') ' + v.nodes.length + ' nodes, e.g. ' +\
                   JSON.stringify(v.nodes[0].target) + ': ' + v.help + ' | ' +\
                   (v.nodes[0].failureSummary || '').replace(/\\n/g, ' ');\
               });\
             });",
        );
        v.as_array()
            .unwrap_or_else(|| panic!("axe did not answer a list: {v}"))
            .iter()
            .map(|x| x.as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// The text of an open `alert()` dialog, if one is open.
    pub fn dialog_text(&self) -> Option<String> {
        self.driver
            .try_call("GET", &self.path("/alert/text"))
            .ok()
            .map(|v| v.as_str().unwrap_or_default().to_string())
    }

    /// A PNG of the viewport.
    pub fn screenshot(&self) -> Vec<u8> {
        let b64 = self.get("/screenshot");
        decode_base64(b64.as_str().expect("screenshot data"))
    }

    /// Polls `check` until it is true; panics after [`PATIENCE`].
    pub fn wait_for(&self, what: &str, mut check: impl FnMut(&Self) -> bool) {
        let until = Instant::now() + PATIENCE;
        while !check(self) {
            assert!(Instant::now() < until, "gave up waiting for {what}");
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let _ = self.driver.try_call("DELETE", &self.path(""));
    }
}

/// Standard base64 (the screenshot's encoding).
pub fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c:?}"),
    };
    let bytes: Vec<u8> = text
        .bytes()
        .filter(|b| *b != b'=' && !b.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= u32::from(value(c)) << (18 - 6 * i);
        }
        let [_, a, b, c] = n.to_be_bytes();
        out.extend_from_slice(&[a, b, c][..chunk.len() - 1]);
    }
    out
}

/// Width and height from a PNG's IHDR chunk.
pub fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&png[16..20]), be(&png[20..24]))
}
