//! Request ids and the one log line written for every request.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Hands out request ids: a per-process random prefix and a counter, so ids are unique within
/// a run and unlikely to repeat across restarts.
pub struct RequestIds {
    prefix: u32,
    next: AtomicU64,
}

impl Default for RequestIds {
    fn default() -> Self {
        let prefix = RandomState::new().hash_one(std::process::id()) as u32;
        RequestIds {
            prefix,
            next: AtomicU64::new(1),
        }
    }
}

impl RequestIds {
    pub fn next_id(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("{:08x}-{n:06}", self.prefix)
    }
}

/// Everything the access log line says about one request.
pub struct Entry<'a> {
    pub id: &'a str,
    pub method: &'a str,
    pub url: &'a str,
    pub status: u16,
    pub duration: Duration,
    pub client: &'a SocketAddr,
}

/// `id method url status duration client`, with the URL escaped so a client cannot forge log
/// lines; written at info level (warn for 5xx).
pub fn log(entry: &Entry<'_>) {
    let line = format_line(entry);
    if entry.status >= 500 {
        log::warn!(target: "access", "{line}");
    } else {
        log::info!(target: "access", "{line}");
    }
}

fn format_line(e: &Entry<'_>) -> String {
    let url: String = e
        .url
        .chars()
        .take(200)
        .flat_map(char::escape_debug)
        .collect();
    let method: String = e
        .method
        .chars()
        .take(16)
        .flat_map(char::escape_debug)
        .collect();
    format!(
        "{} {method} {url} {} {:.1}ms {}",
        e.id,
        e.status,
        e.duration.as_secs_f64() * 1000.0,
        e.client
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct() {
        let ids = RequestIds::default();
        let a = ids.next_id();
        let b = ids.next_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 15);
    }

    #[test]
    fn line_escapes_control_characters() {
        let client: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let line = format_line(&Entry {
            id: "x-1",
            method: "GET",
            url: "/a\nINFO forged",
            status: 404,
            duration: Duration::from_micros(1500),
            client: &client,
        });
        assert_eq!(line, "x-1 GET /a\\nINFO forged 404 1.5ms 127.0.0.1:4000");
    }
}
