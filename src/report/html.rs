//! The one HTML template of the project: the page frame, the stylesheet and the fragments
//! (score card, change counts, colour-coded changes table, not-compared table, history chart
//! and timeline, open ports) that both `report.html` ([`report`]) and the `api_server`
//! dashboard ([`dashboard`]) are assembled from.
//!
//! Every string that came from a scan (banners, hostnames, targets, errors) goes through
//! [`escape`]: the scanned network is attacker-controlled. A Content-Security-Policy forbids
//! every load and every script but the page's own (the dashboard's few lines, allowed by
//! hash), so even a missed escape could not fetch anything or run a script.

use std::fmt::Write as _;

use sha2::Digest as _;

use crate::delta::{Band, Change, ChangeKind, Delta, DeltaStatus, NotCompared, Score};
use crate::history::TimelineRow;
use crate::model::Severity;
use crate::snapshot::Snapshot;

/// Most rows of the open-ports table (a /16 can have hundreds of thousands).
pub const MAX_PORT_ROWS: usize = 2000;

/// Text made safe for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {
                let _ = write!(out, "&#xFFFD;");
            }
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#f6f8fa; --card:#fff;
  --critical:#cf222e; --high:#bc4c00; --medium:#9a6700; --low:#0969da; --info:#59636e;
  --new:#1a7f37; --removed:#cf222e; --changed:#9a6700; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
  color:var(--fg); background:var(--bg); }
main { max-width:1180px; margin:0 auto; padding:24px 28px 40px; }
h1 { font-size:22px; margin:0 0 4px; }
h2 { font-size:16px; margin:28px 0 10px; }
.meta { color:var(--muted); margin:0 0 18px; }
.cards { display:flex; gap:16px; flex-wrap:wrap; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:16px 20px; }
.score { min-width:250px; display:flex; align-items:center; gap:18px; }
.score .num { font-size:46px; font-weight:700; line-height:1; }
.score .band { font-size:15px; font-weight:600; }
.band-Excellent { color:#1a7f37; } .band-Good { color:#0969da; }
.band-Monitor { color:#9a6700; } .band-Critical { color:#cf222e; } .band-none { color:var(--muted); }
.status { display:inline-block; padding:2px 10px; border-radius:999px; font-weight:600;
  font-size:12px; text-transform:uppercase; letter-spacing:.04em; color:#fff; }
.status-critical { background:var(--critical); } .status-changes { background:#9a6700; }
.status-stable { background:#1a7f37; }
.counts { display:grid; grid-template-columns:repeat(3, auto); gap:4px 22px; align-content:center; }
.counts b { font-size:18px; margin-right:4px; }
table { width:100%; border-collapse:collapse; background:var(--card); border:1px solid var(--line);
  border-radius:10px; overflow:hidden; }
th, td { text-align:left; padding:7px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:#eef1f4; font-weight:600; font-size:12px; color:var(--muted); text-transform:uppercase;
  letter-spacing:.03em; }
tr:last-child td { border-bottom:0; }
td.mono, .mono { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:13px; }
tr.new td:first-child { border-left:4px solid var(--new); }
tr.removed td:first-child { border-left:4px solid var(--removed); }
tr.changed td:first-child { border-left:4px solid var(--changed); }
.kind { font-weight:600; } .kind-new { color:var(--new); } .kind-removed { color:var(--removed); }
.kind-changed { color:var(--changed); }
.sev { display:inline-block; min-width:64px; text-align:center; padding:1px 8px; border-radius:4px;
  font-size:12px; font-weight:600; color:#fff; }
.sev-critical { background:var(--critical); } .sev-high { background:var(--high); }
.sev-medium { background:var(--medium); } .sev-low { background:var(--low); }
.sev-info { background:var(--info); }
.was { color:var(--muted); text-decoration:line-through; }
.none { color:var(--muted); font-style:italic; background:var(--card); border:1px dashed var(--line);
  border-radius:10px; padding:12px 16px; margin:0; }
.note { background:#fff8c5; border:1px solid #d4a72c66; border-radius:10px; padding:10px 16px; }
.chart { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:12px; }
.chart svg { display:block; width:100%; height:auto; }
footer { color:var(--muted); margin-top:32px; font-size:12px; }
.top { display:flex; justify-content:space-between; align-items:flex-start; gap:16px; flex-wrap:wrap; }
.exports a { color:#0550ae; text-decoration:underline; margin-left:4px; }
.exports { font-size:13px; color:var(--muted); margin:6px 0 14px; }
h1 .mono { font-size:inherit; overflow-wrap:anywhere; }
.filters.stacked { align-items:flex-end; }
.exports .sep { color:var(--muted); margin:0 8px; }
.headline { border-radius:10px; padding:12px 18px; margin:0 0 16px; font-size:15px; border:1px solid; }
.headline a { color:inherit; }
.headline-critical { background:#ffebe9; border-color:#cf222e; color:#82071e; }
.headline-changes { background:#fff8c5; border-color:#d4a72c; color:#4d2d00; }
.headline-stable { background:#dafbe1; border-color:#1a7f37; color:#044f1e; }
.small { font-size:12px; margin-top:6px; }
.alerts-card { display:grid; grid-template-columns:repeat(2, auto); gap:4px 18px; align-content:center; }
.alerts-card .big { font-size:34px; font-weight:700; line-height:1; grid-column:1 / -1; }
.filters { display:flex; gap:10px; align-items:center; flex-wrap:wrap; margin:0 0 12px; }
.filters label { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.03em; }
.filters select, .filters input, .filters button { font:inherit; padding:4px 8px; border:1px solid var(--line);
  border-radius:6px; background:var(--card); }
.filters button { background:#1f2328; color:#fff; border-color:#1f2328; cursor:pointer; }
.entries { display:grid; grid-template-columns:repeat(auto-fill, minmax(260px, 1fr)); gap:12px; }
.entry { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:12px 14px;
  border-top:5px solid var(--line); }
.entry.status-critical { border-top-color:var(--critical); }
.entry.status-changes { border-top-color:#9a6700; } .entry.status-stable { border-top-color:#1a7f37; }
.entry .name { font-weight:600; word-break:break-all; }
.entry .row { display:flex; align-items:baseline; gap:10px; margin:6px 0; }
.entry .num { font-size:30px; font-weight:700; line-height:1; }
.entry.status-critical, .entry.status-changes, .entry.status-stable { background-image:none; }
.badges { display:flex; gap:6px; flex-wrap:wrap; margin-top:6px; }
.badge { display:inline-block; padding:1px 8px; border-radius:999px; font-size:12px; font-weight:600;
  border:1px solid var(--line); color:var(--muted); }
.badge.new { color:var(--new); border-color:var(--new); background:#dafbe1; }
.badge.removed { color:var(--removed); border-color:var(--removed); background:#ffebe9; }
.badge.changed { color:var(--changed); border-color:var(--changed); background:#fff8c5; }
button.act { font:inherit; font-size:12px; padding:2px 10px; border-radius:6px; border:1px solid var(--line);
  background:var(--card); cursor:pointer; margin-right:4px; }
button.act.ack { border-color:#1a7f37; color:#1a7f37; } button.act.ignore { color:var(--muted); }
.state { font-weight:600; } .state-open { color:var(--critical); } .state-actioned { color:#1a7f37; }
.state-ignored { color:var(--muted); }
table.alerts td.kind, table.alerts td:last-child { white-space:nowrap; }
a { color:#0550ae; }
a:focus-visible, button:focus-visible, input:focus, input:focus-within, select:focus, table:focus-visible, .chart:focus-visible {
  outline:3px solid #0969da; outline-offset:2px; }
nav.site { display:flex; gap:16px; margin:0 0 12px; font-weight:600; }
nav.site a { text-decoration:none; } nav.site a[aria-current] { color:var(--fg); text-decoration:underline; }
h3 { font-size:14px; margin:18px 0 8px; }
.error { background:#ffebe9; border:1px solid #cf222e; color:#82071e; border-radius:10px; padding:10px 16px; }
.scroll { overflow-x:auto; }
.filters .field { display:inline-flex; flex-direction:column; gap:2px; }
.bulk { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:10px 12px; }
.bulk input[type=text] { min-width:16em; }
#bulk-status { color:var(--fg); }
@media (max-width: 700px) {
  main { padding:12px 10px 28px; }
  table { display:block; overflow-x:auto; }
  .chart { overflow-x:auto; } .chart svg { min-width:640px; }
  .card { min-width:0; max-width:100%; }
  .mono, .entry .name { overflow-wrap:anywhere; }
  .score { min-width:0; }
  .counts { grid-template-columns:repeat(2, auto); }
  th, td { padding:6px 6px; }
  .bulk input[type=text] { min-width:0; width:100%; }
}
"#;

/// Text percent-encoded for a URL path segment or query value (everything but unreserved
/// characters), so an entry such as `127.0.0.0/29` stays one segment.
pub fn url_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The pages' top navigation; `current` is marked for assistive technology.
pub(crate) fn nav(current: &str) -> String {
    let link = |href: &str, name: &str, text: &str| {
        let here = if name == current {
            " aria-current=\"page\""
        } else {
            ""
        };
        format!("<a href=\"{href}\"{here}>{text}</a>")
    };
    format!(
        "<nav class=\"site\" aria-label=\"Pages\">{}{}</nav>\n",
        link("/", "dashboard", "Dashboard"),
        link("/alerts", "alerts", "Alerts")
    )
}

/// The whole document around `body`.
pub fn page(title: &str, body: &str) -> String {
    page_with_script(title, body, None)
}

/// The whole document around `body`, with `script` (plain JavaScript) inline at the end; the
/// Content-Security-Policy lets only that exact script run (by its hash).
pub fn page_with_script(title: &str, body: &str, script: Option<&str>) -> String {
    let script_tag = script.map_or(String::new(), |js| format!("<script>{js}</script>\n"));
    // On a narrow screen a wide table scrolls sideways inside itself; a keyboard user reaches
    // it with Tab to scroll it. Only this module writes `<table` (scan text is escaped).
    let body = body.replace("<table", "<table tabindex=\"0\"");
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n\
         {script_tag}</body>\n</html>\n",
        content_security_policy(script),
        escape(title)
    )
}

/// The Content-Security-Policy of a page: nothing loads from anywhere; without `script` no
/// script runs at all, with it only that script (by SHA-256), which may call this server.
pub fn content_security_policy(script: Option<&str>) -> String {
    const BASE: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
    match script {
        None => BASE.to_string(),
        Some(js) => format!(
            "{BASE}; script-src 'sha256-{}'; connect-src 'self'; form-action 'self'; \
             base-uri 'none'; frame-ancestors 'none'",
            base64(&sha2::Sha256::digest(js.as_bytes()))
        ),
    }
}

/// Standard base64 with padding (RFC 4648), for the CSP script hash.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub(crate) fn band_class(band: Option<Band>) -> &'static str {
    band.map_or("band-none", |b| match b {
        Band::Excellent => "band-Excellent",
        Band::Good => "band-Good",
        Band::Monitor => "band-Monitor",
        Band::Critical => "band-Critical",
    })
}

/// The score (0-100) with its band, and the delta status.
pub fn score_card(score: &Score, status: DeltaStatus) -> String {
    let (num, band) = match (score.overall, score.band) {
        (Some(s), Some(b)) => (s.to_string(), b.as_str()),
        _ => ("–".to_string(), "no target completed"),
    };
    format!(
        "<div class=\"card score\"><div class=\"num {cls}\">{num}</div><div>\
         <div class=\"band {cls}\">{band}</div><div class=\"meta\" style=\"margin:2px 0 6px\">\
         security score / 100</div><span class=\"status status-{st}\">{label}</span></div></div>\n",
        cls = band_class(score.band),
        st = status.as_str(),
        label = match status {
            DeltaStatus::Critical => "critical change",
            DeltaStatus::Changes => "changes",
            DeltaStatus::Stable => "stable",
            DeltaStatus::Failed => "failed: no target completed",
        }
    )
}

/// The counts of the delta's summary.
pub fn summary_card(delta: &Delta) -> String {
    let s = &delta.summary;
    // "1 port closed", "2 ports closed": the noun takes the count's plural ending.
    let cell = |n: usize, noun: &str, what: &str| {
        let s = if noun.is_empty() {
            ""
        } else {
            crate::report::text::plural(n)
        };
        format!("<div><b>{n}</b>{noun}{s}{what}</div>")
    };
    format!(
        "<div class=\"card counts\">{}{}{}{}{}{}</div>\n",
        cell(s.ports_opened, "port", " opened"),
        cell(s.ports_closed, "port", " closed"),
        cell(s.services_changed, "service", " changed"),
        cell(s.new_hosts, "new host", ""),
        cell(s.gone_hosts, "host", " gone"),
        cell(s.not_compared, "", "not compared"),
    )
}

fn kind_class(kind: ChangeKind) -> (&'static str, &'static str) {
    match kind {
        ChangeKind::NewHost => ("new", "new host"),
        ChangeKind::PortOpened => ("new", "port opened"),
        ChangeKind::HostGone => ("removed", "host gone"),
        ChangeKind::PortClosed => ("removed", "port closed"),
        ChangeKind::ServiceChanged => ("changed", "service changed"),
    }
}

pub(crate) fn severity_badge(s: Severity) -> String {
    format!("<span class=\"sev sev-{0}\">{0}</span>", s.as_str())
}

fn service_html(v: &crate::delta::PortView) -> String {
    // nmap names a closed or filtered port after its port table ("ms-wbt-server" for 3389):
    // a guess, not a service that ran. Only an open port's service is shown.
    if v.state != "open" {
        return format!("<span class=\"meta\">{}</span>", escape(&v.state));
    }
    let text = super::text::service_text(v);
    let text = if text.is_empty() {
        "-".to_string()
    } else {
        text
    };
    format!(
        "{} <span class=\"meta\">({})</span>",
        escape(&text),
        escape(&v.state)
    )
}

/// One row per change, colour-coded new / removed / changed, with its severity.
pub fn changes_table(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "<p class=\"none\">No changes.</p>\n".to_string();
    }
    let mut rows = String::new();
    let mut sorted: Vec<&Change> = changes.iter().collect();
    sorted.sort_by_key(|c| std::cmp::Reverse(c.severity));
    for c in sorted {
        let (class, label) = kind_class(c.kind);
        let (port, before, after) = match &c.port {
            Some(p) => (
                format!("{}/{}", p.port, escape(&p.protocol)),
                p.before.as_ref().map(service_html).unwrap_or_default(),
                p.after.as_ref().map(service_html).unwrap_or_default(),
            ),
            None => (String::new(), String::new(), String::new()),
        };
        let unexpected = match &c.port {
            Some(p) if p.unexpected => " <span class=\"sev sev-high\">unexpected</span>",
            _ => "",
        };
        let _ = writeln!(
            rows,
            "<tr class=\"{class}\"><td>{}</td><td class=\"kind kind-{class}\">{label}{unexpected}\
             </td><td class=\"mono\">{}</td><td class=\"mono\">{port}</td><td><span class=\"was\">\
             {before}</span></td><td>{after}</td></tr>",
            severity_badge(c.severity),
            escape(&c.ip),
        );
    }
    format!(
        "<table><thead><tr><th>Severity</th><th>Change</th><th>Host</th><th>Port</th>\
         <th>Before</th><th>After</th></tr></thead><tbody>\n{rows}</tbody></table>\n"
    )
}

/// Targets that were not compared, with the reason and the scan's error.
pub fn not_compared_table(items: &[NotCompared], snapshot: &Snapshot) -> String {
    if items.is_empty() {
        return "<p class=\"none\">Every target was compared.</p>\n".to_string();
    }
    // The first target of each name, looked up once each (a snapshot may have 65k targets).
    let mut errors: std::collections::HashMap<&str, Option<&str>> =
        std::collections::HashMap::with_capacity(snapshot.targets.len());
    for t in &snapshot.targets {
        errors.entry(&t.target).or_insert(t.error.as_deref());
    }
    let mut rows = String::new();
    for n in items {
        let error = errors
            .get(n.target.as_str())
            .copied()
            .flatten()
            .unwrap_or("");
        let _ = writeln!(
            rows,
            "<tr><td class=\"mono\">{}</td><td><b>{}</b></td><td>{}</td><td class=\"mono\">{}</td></tr>",
            escape(&n.target),
            n.reason.as_str(),
            n.reason.explain(),
            escape(error)
        );
    }
    format!(
        "<table><thead><tr><th>Target</th><th>Reason</th><th>Meaning</th><th>Error</th></tr>\
         </thead><tbody>\n{rows}</tbody></table>\n"
    )
}

/// Scores per `targets.txt` entry, lowest first.
pub fn entry_scores_table(score: &Score) -> String {
    let mut entries: Vec<_> = score.entries.iter().collect();
    entries.sort_by_key(|e| (e.score.is_some(), e.score));
    let mut rows = String::new();
    for e in entries {
        let (num, band) = match (e.score, e.band) {
            (Some(s), Some(b)) => (s.to_string(), b.as_str()),
            _ => ("–".to_string(), "not scanned"),
        };
        let _ = writeln!(
            rows,
            "<tr><td class=\"mono\">{}</td><td><b class=\"{}\">{num}</b></td><td class=\"{1}\">{band}</td></tr>",
            escape(&e.entry),
            band_class(e.band)
        );
    }
    format!(
        "<table><thead><tr><th>Entry</th><th>Score</th><th>Band</th></tr></thead><tbody>\n\
         {rows}</tbody></table>\n"
    )
}

/// Hosts with open ports now (at most [`MAX_PORT_ROWS`] rows).
pub fn open_ports_table(snapshot: &Snapshot) -> String {
    let mut rows = String::new();
    let mut count = 0usize;
    let mut total = 0usize;
    for h in snapshot.hosts.iter().filter(|h| h.is_up()) {
        for p in h.open_ports() {
            total += 1;
            if count >= MAX_PORT_ROWS {
                continue;
            }
            count += 1;
            let s = &p.service;
            let _ = writeln!(
                rows,
                "<tr><td class=\"mono\">{}</td><td>{}</td><td class=\"mono\">{}/{}</td><td>{}</td>\
                 <td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(h.ip().unwrap_or("")),
                escape(h.hostname().unwrap_or("")),
                p.portid,
                escape(&p.protocol),
                escape(&s.name),
                escape(&s.product),
                escape(&s.version),
                escape(&s.extrainfo)
            );
        }
    }
    if total == 0 {
        return "<p class=\"none\">No open ports.</p>\n".to_string();
    }
    let more = if total > count {
        format!(
            "<p class=\"meta\">Showing {count} of {total} open ports; scan.json has them all.</p>\n"
        )
    } else {
        String::new()
    };
    format!(
        "<table><thead><tr><th>Host</th><th>Hostname</th><th>Port</th><th>Service</th>\
         <th>Product</th><th>Version</th><th>Extra</th></tr></thead><tbody>\n{rows}</tbody>\
         </table>\n{more}"
    )
}

pub mod alerts_page;
mod alerts_view;
mod cards;
mod certificates_view;
mod chart;
pub mod dashboard;
pub mod entry_page;
mod headline;
mod report;
pub mod run_page;
mod shards_view;
mod timeline;
pub use cards::{EntryPoint, entry_point};
pub use certificates_view::certificates_table;
pub use chart::history_chart;
pub use report::{heading, run_report};
pub use timeline::timeline_table;

#[cfg(test)]
mod tests;
