//! Helpers for the alert tests: a loopback webhook receiver the test runs, and readers of
//! `daily_scan alerts` output. Alert tests use addresses in 127.0.20.0/24 .. 127.0.29.0/24.

#![allow(dead_code)] // each alert theme uses a different subset

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::batch_env::{Install, describe};

/// What the receiver does with one request.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Status(u16),
    /// Read the request and never answer (holds the connection for a few seconds).
    Hang,
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// Request line and headers, as sent.
    pub head: String,
    pub body: String,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

/// An HTTP receiver on 127.0.0.1 (port 0) answering with `script` in order; the last answer
/// repeats. Requests are served one at a time and recorded.
pub struct Receiver {
    pub url: String,
    seen: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub fn start(script: &[Answer]) -> Receiver {
        Receiver::start_on(0, script)
    }

    /// [`Receiver::start`] on a given port of 127.0.0.1 (0: any).
    pub fn start_on(port: u16, script: &[Answer]) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let script = script.to_vec();
        std::thread::spawn(move || {
            for (i, stream) in listener.incoming().enumerate() {
                let Ok(mut stream) = stream else { return };
                let Ok(read_half) = stream.try_clone() else {
                    continue;
                };
                let mut reader = BufReader::new(read_half);
                let mut head = String::new();
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    head.push_str(&line);
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                log.lock().unwrap().push(Received {
                    head,
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                match script[i.min(script.len() - 1)] {
                    Answer::Status(code) => {
                        let _ = write!(
                            stream,
                            "HTTP/1.1 {code} Scripted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        );
                    }
                    Answer::Hang => std::thread::sleep(Duration::from_secs(4)),
                }
            }
        });
        Receiver {
            // The path stands for the secret part of a real webhook URL.
            url: format!("http://{addr}/services/T0/B0/s3cr3t-hook-path"),
            seen,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }
}

/// `daily_scan alerts [ARGS] --format json`.
pub fn alerts(install: &Install, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["alerts"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let out = install.run(&all);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
}

/// An alert as `kind severity ip port status first-last`.
pub fn brief(a: &Value) -> String {
    let port = a["port"]
        .as_u64()
        .map_or(String::new(), |p| format!(" {p}"));
    format!(
        "{} {} {}{port} {} {}-{}",
        a["kind"].as_str().unwrap(),
        a["severity"].as_str().unwrap(),
        a["ip"].as_str().unwrap(),
        a["status"].as_str().unwrap(),
        a["first_snapshot"],
        a["last_snapshot"]
    )
}

/// Every alert, oldest first, in brief.
pub fn all_alerts(install: &Install) -> Vec<String> {
    let mut list: Vec<String> = alerts(install, &[]).iter().map(brief).collect();
    list.reverse();
    list
}

/// `daily_scan alerts deliveries --format json`, oldest first.
pub fn deliveries(install: &Install) -> Vec<Value> {
    let out = install.run(&["alerts", "deliveries", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let mut list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    list.reverse();
    list
}

/// A `[[webhook]]` table.
pub fn webhook(url: &str, extra: &str) -> String {
    format!("\n[[webhook]]\nurl = \"{url}\"\n{extra}\n")
}
