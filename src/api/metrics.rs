//! Counters for `GET /metrics`, rendered in the Prometheus text format (version 0.0.4).
//!
//! Labels only ever take values from closed sets (route patterns, status codes, profile names,
//! outcomes, error codes), never raw request text, so the series count stays bounded.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the nmap duration histogram buckets.
const DURATION_BUCKETS: [f64; 12] = [
    0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
];

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(&'static str, u16), u64>,
    scans: BTreeMap<(String, &'static str), u64>,
    rejected: BTreeMap<&'static str, u64>,
    /// Cumulative counts per bucket, then the sum and count of observations.
    duration_buckets: [u64; DURATION_BUCKETS.len()],
    duration_sum: f64,
    duration_count: u64,
}

/// Values read at render time rather than counted.
pub struct Gauges {
    pub active_scans: usize,
    pub max_concurrent_scans: usize,
    pub uptime: Duration,
    pub nmap_available: bool,
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn request(&self, route: &'static str, status: u16) {
        *self.lock().requests.entry((route, status)).or_default() += 1;
    }

    /// A request refused with an error; `reason` is the error code.
    pub fn rejected(&self, reason: &'static str) {
        *self.lock().rejected.entry(reason).or_default() += 1;
    }

    /// One target's outcome; `nmap_duration` when an nmap process ran for it.
    pub fn scan(&self, profile: &str, outcome: &'static str, nmap_duration: Option<Duration>) {
        let mut inner = self.lock();
        *inner
            .scans
            .entry((profile.to_string(), outcome))
            .or_default() += 1;
        if let Some(d) = nmap_duration {
            let secs = d.as_secs_f64();
            for (count, bound) in inner.duration_buckets.iter_mut().zip(DURATION_BUCKETS) {
                if secs <= bound {
                    *count += 1;
                }
            }
            inner.duration_sum += secs;
            inner.duration_count += 1;
        }
    }

    pub fn render(&self, gauges: &Gauges) -> String {
        let inner = self.lock();
        let mut out = String::with_capacity(4096);
        header(
            &mut out,
            "scanner_http_requests_total",
            "counter",
            "HTTP requests by route pattern and status code.",
        );
        for ((route, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "scanner_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        header(
            &mut out,
            "scanner_rejected_requests_total",
            "counter",
            "Requests answered with an error, by error code.",
        );
        for (reason, n) in &inner.rejected {
            let _ = writeln!(
                out,
                "scanner_rejected_requests_total{{reason=\"{}\"}} {n}",
                escape(reason)
            );
        }
        header(
            &mut out,
            "scanner_scans_total",
            "counter",
            "Target scans by profile and outcome (completed, failed, timeout).",
        );
        for ((profile, outcome), n) in &inner.scans {
            let _ = writeln!(
                out,
                "scanner_scans_total{{profile=\"{}\",outcome=\"{outcome}\"}} {n}",
                escape(profile)
            );
        }
        header(
            &mut out,
            "scanner_nmap_duration_seconds",
            "histogram",
            "Wall time of nmap processes.",
        );
        for (count, bound) in inner.duration_buckets.iter().zip(DURATION_BUCKETS) {
            let _ = writeln!(
                out,
                "scanner_nmap_duration_seconds_bucket{{le=\"{bound}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "scanner_nmap_duration_seconds_bucket{{le=\"+Inf\"}} {}\n\
             scanner_nmap_duration_seconds_sum {}\n\
             scanner_nmap_duration_seconds_count {}",
            inner.duration_count, inner.duration_sum, inner.duration_count
        );
        drop(inner);
        let gauges_list = [
            (
                "scanner_active_scans",
                "nmap scan processes running now.",
                gauges.active_scans as f64,
            ),
            (
                "scanner_max_concurrent_scans",
                "Configured limit of nmap scan processes.",
                gauges.max_concurrent_scans as f64,
            ),
            (
                "scanner_nmap_available",
                "1 when the last nmap probe succeeded.",
                f64::from(u8::from(gauges.nmap_available)),
            ),
            (
                "scanner_uptime_seconds",
                "Seconds since the server started.",
                gauges.uptime.as_secs_f64().floor(),
            ),
        ];
        for (name, help, value) in gauges_list {
            header(&mut out, name, "gauge", help);
            let _ = writeln!(out, "{name} {value}");
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Label value escaping of the text format: backslash, double quote, newline.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gauges() -> Gauges {
        Gauges {
            active_scans: 1,
            max_concurrent_scans: 8,
            uptime: Duration::from_secs(5),
            nmap_available: true,
        }
    }

    #[test]
    fn counters_and_histogram_render_in_text_format() {
        let m = Metrics::default();
        m.request("/api/health", 200);
        m.request("/api/health", 200);
        m.request("/api/scan", 400);
        m.rejected("invalid_target");
        m.scan("quick", "completed", Some(Duration::from_millis(300)));
        m.scan("quick", "failed", None);
        let text = m.render(&gauges());
        for line in [
            "scanner_http_requests_total{route=\"/api/health\",status=\"200\"} 2",
            "scanner_http_requests_total{route=\"/api/scan\",status=\"400\"} 1",
            "scanner_rejected_requests_total{reason=\"invalid_target\"} 1",
            "scanner_scans_total{profile=\"quick\",outcome=\"completed\"} 1",
            "scanner_scans_total{profile=\"quick\",outcome=\"failed\"} 1",
            "scanner_nmap_duration_seconds_bucket{le=\"0.25\"} 0",
            "scanner_nmap_duration_seconds_bucket{le=\"0.5\"} 1",
            "scanner_nmap_duration_seconds_bucket{le=\"+Inf\"} 1",
            "scanner_nmap_duration_seconds_count 1",
            "scanner_active_scans 1",
            "scanner_max_concurrent_scans 8",
            "# TYPE scanner_nmap_duration_seconds histogram",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}\n{text}");
        }
    }

    #[test]
    fn every_sample_line_is_name_labels_value() {
        let m = Metrics::default();
        m.request("unmatched", 404);
        for line in m.render(&gauges()).lines().filter(|l| !l.starts_with('#')) {
            let (series, value) = line.rsplit_once(' ').unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
            assert!(series.starts_with("scanner_"), "{line}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
