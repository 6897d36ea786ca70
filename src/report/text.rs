//! The terminal summary of a run (and of `daily_scan report`): status, score and band, the
//! changes grouped by severity, and what was not compared and why.
//!
//! Banners and hostnames come from the scanned network: every such string goes through
//! [`clean`], so an escape sequence in a banner cannot repaint or hijack the terminal.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::delta::{Change, ChangeKind, Delta, PortView};
use crate::model::Severity;
use crate::snapshot::Snapshot;

/// Most per-entry scores listed; the lowest are shown first.
const MAX_ENTRY_SCORES: usize = 20;

/// True for characters that must not reach a terminal raw: control characters (ESC, CR, BEL,
/// C1 ...), bidirectional overrides and isolates (U+202A-202E, U+2066-2069, the marks U+200E/F,
/// U+061C: they reorder what follows, "Trojan Source"), and invisible zero-width characters
/// (U+200B-200D, U+2060, U+FEFF: they hide text inside an address or name).
fn unsafe_for_terminal(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2060}'
                | '\u{061C}'
                | '\u{FEFF}'
        )
}

/// `s` with every character [`unsafe_for_terminal`] written as a visible escape (`\u{1b}`,
/// `\n`, `\u{202e}`): scan text (banners, hostnames, nmap's `errormsg`) on its way to a terminal.
pub fn clean(s: &str) -> Cow<'_, str> {
    escape_where(s, unsafe_for_terminal)
}

/// [`clean`] that keeps line breaks: for multi-line messages of our own that embed scan text.
pub fn clean_lines(s: &str) -> Cow<'_, str> {
    escape_where(s, |c| c != '\n' && unsafe_for_terminal(c))
}

fn escape_where(s: &str, unsafe_char: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(&unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !unsafe_char(c) {
            out.push(c);
        } else if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.extend(c.escape_unicode());
        }
    }
    Cow::Owned(out)
}

/// `s` safe inside Slack `mrkdwn` text: `&`, `<` and `>` as the entities Slack asks for, so
/// scan text cannot forge a link (`<https://evil|click>`) or a mention (`<!channel>`).
pub fn slack(s: &str) -> Cow<'_, str> {
    if !s.contains(['&', '<', '>']) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;"),
    )
}

/// Time as `2026-11-21 02:00:01 UTC`.
pub fn time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `service product version`, blanks skipped.
pub fn service_text(v: &PortView) -> String {
    [&v.service, &v.product, &v.version]
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| clean(s).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// One change as a line: a sign (`+` new, `-` removed, `~` changed), where, and what.
pub fn change_line(c: &Change) -> String {
    let ip = clean(&c.ip);
    let Some(p) = &c.port else {
        return match c.kind {
            ChangeKind::HostGone => format!("- {ip}  host is no longer up"),
            _ => format!("+ {ip}  new host up"),
        };
    };
    let port = format!("{}/{}", p.port, clean(&p.protocol));
    let before = p.before.as_ref().map(service_text).unwrap_or_default();
    let after = p.after.as_ref().map(service_text).unwrap_or_default();
    let unexpected = if p.unexpected { " (unexpected)" } else { "" };
    match c.kind {
        ChangeKind::PortOpened => format!("+ {ip}  {port}  opened{unexpected}  {after}"),
        ChangeKind::PortClosed => {
            let now = p
                .after
                .as_ref()
                .map(|v| format!(", now {}", clean(&v.state)))
                .unwrap_or_default();
            format!("- {ip}  {port}  closed (was {before}{now})")
        }
        _ => format!("~ {ip}  {port}  service changed: {before} -> {after}"),
    }
}

/// The summary printed at the end of a run.
pub fn summary(snapshot: &Snapshot, delta: &Delta) -> String {
    let mut out = String::new();
    let id = snapshot
        .id
        .map_or_else(|| "(not saved)".to_string(), |id| id.to_string());
    let took = snapshot
        .finished_at
        .duration_since(snapshot.started_at)
        .as_secs_f64();
    let _ = writeln!(
        out,
        "Snapshot {id}: profile {}, {} ({took:.1} s), {}",
        clean(&snapshot.profile),
        time(snapshot.started_at),
        snapshot.status.as_str()
    );
    let mut counts = std::collections::BTreeMap::new();
    for t in &snapshot.targets {
        *counts.entry(t.status.as_str()).or_insert(0usize) += 1;
    }
    let counts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
    let _ = writeln!(
        out,
        "Targets: {} ({}); {}, {}",
        snapshot.targets.len(),
        counts.join(", "),
        count(snapshot.hosts_up() as u64, "host") + " up",
        count(snapshot.open_ports() as u64, "open port")
    );
    match (&delta.from, &delta.note) {
        (_, Some(note)) => {
            let _ = writeln!(out, "{}", clean(note));
        }
        (Some(from), None) => {
            let what = from.snapshot.map_or_else(
                || from.file.clone().unwrap_or_default(),
                |id| format!("snapshot {id}"),
            );
            let _ = writeln!(
                out,
                "Compared with {} ({})",
                clean(&what),
                time(from.started_at)
            );
        }
        (None, None) => {}
    }
    let score = match (delta.score.overall, delta.score.band) {
        (Some(s), Some(b)) => format!("{s}/100 ({})", b.as_str()),
        _ => "none (no target completed)".to_string(),
    };
    let incomplete = delta
        .incomplete
        .map(|i| format!(" ({})", i.text()))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "Status: {}{incomplete}   Score: {score}",
        delta.status.as_str().to_uppercase()
    );
    if delta.summary.unconfirmed > 0 {
        let _ = writeln!(
            out,
            "Unconfirmed: {} possible changes did not hold when re-checked (not reported)",
            delta.summary.unconfirmed
        );
    }
    out.push('\n');
    changes_by_severity(&mut out, &delta.changes);
    not_compared(&mut out, snapshot, delta);
    entry_scores(&mut out, delta);
    out
}

fn changes_by_severity(out: &mut String, changes: &[Change]) {
    if changes.is_empty() {
        let _ = writeln!(out, "No changes.");
        return;
    }
    let _ = writeln!(out, "Changes ({}):", changes.len());
    for severity in Severity::ALL.iter().rev() {
        let group: Vec<&Change> = changes.iter().filter(|c| c.severity == *severity).collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "  {} ({})",
            severity.as_str().to_uppercase(),
            group.len()
        );
        for c in group {
            let _ = writeln!(out, "    {}", change_line(c));
        }
    }
}

fn not_compared(out: &mut String, snapshot: &Snapshot, delta: &Delta) {
    if delta.not_compared.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nNot compared ({}):", delta.not_compared.len());
    for n in &delta.not_compared {
        let error = snapshot
            .targets
            .iter()
            .find(|t| t.target == n.target)
            .and_then(|t| t.error.as_deref())
            .map(|e| format!(" ({})", clean(e)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {}  {}: {}{error}",
            clean(&n.target),
            n.reason.as_str(),
            n.reason.explain()
        );
    }
}

fn entry_scores(out: &mut String, delta: &Delta) {
    let entries = &delta.score.entries;
    if entries.len() < 2 {
        return;
    }
    let mut sorted: Vec<_> = entries.iter().collect();
    sorted.sort_by_key(|e| (e.score.is_some(), e.score));
    let _ = writeln!(out, "\nScore by entry (lowest first):");
    let width = sorted
        .iter()
        .take(MAX_ENTRY_SCORES)
        .map(|e| e.entry.chars().count())
        .max()
        .unwrap_or(0);
    for e in sorted.iter().take(MAX_ENTRY_SCORES) {
        let score = match (e.score, e.band) {
            (Some(s), Some(b)) => format!("{s:>3} {}", b.as_str()),
            _ => "  - not scanned".to_string(),
        };
        let _ = writeln!(out, "  {:<width$}  {score}", clean(&e.entry));
    }
    if sorted.len() > MAX_ENTRY_SCORES {
        let _ = writeln!(out, "  ... and {} more", sorted.len() - MAX_ENTRY_SCORES);
    }
}

/// The plural ending of a count's noun: "1 port", "2 ports".
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `n noun`, the noun in the plural unless `n` is 1 (`1 address`, `2 addresses`).
pub fn count(n: u64, noun: &str) -> String {
    match (n, noun.ends_with('s')) {
        (1, _) => format!("1 {noun}"),
        (_, true) => format!("{n} {noun}es"),
        _ => format!("{n} {noun}s"),
    }
}

/// `3 targets, 1 host up, 2 open ports`: the counts every run summary starts with.
pub fn counts_line(targets: usize, hosts_up: usize, open_ports: usize) -> String {
    let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
    format!(
        "{}, {} up, {}",
        count(n(targets), "target"),
        count(n(hosts_up), "host"),
        count(n(open_ports), "open port")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delta::PortChange;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(clean("OpenSSH 9.2"), "OpenSSH 9.2");
        assert!(matches!(clean("plain"), Cow::Borrowed(_)));
        assert_eq!(clean("x\u{1b}[2Jy\r\n"), "x\\u{1b}[2Jy\\r\\n");
    }

    #[test]
    fn change_lines_read_as_signs() {
        let view = |service: &str, version: &str| PortView {
            state: "open".into(),
            service: service.into(),
            product: String::new(),
            version: version.into(),
        };
        let port = |before, after| {
            Some(PortChange {
                protocol: "tcp".into(),
                port: 22,
                before,
                after,
                unexpected: false,
            })
        };
        let change = |kind, port| Change {
            kind,
            severity: Severity::High,
            ip: "127.0.0.2".into(),
            port,
        };
        assert_eq!(
            change_line(&change(ChangeKind::NewHost, None)),
            "+ 127.0.0.2  new host up"
        );
        assert_eq!(
            change_line(&change(
                ChangeKind::PortOpened,
                port(None, Some(view("ssh", "")))
            )),
            "+ 127.0.0.2  22/tcp  opened  ssh"
        );
        let mut closed = view("ssh", "");
        closed.state = "closed".into();
        assert_eq!(
            change_line(&change(
                ChangeKind::PortClosed,
                port(Some(view("ssh", "")), Some(closed))
            )),
            "- 127.0.0.2  22/tcp  closed (was ssh, now closed)"
        );
        assert_eq!(
            change_line(&change(
                ChangeKind::ServiceChanged,
                port(Some(view("ssh", "8.9")), Some(view("ssh", "9.2\u{7}")))
            )),
            "~ 127.0.0.2  22/tcp  service changed: ssh 8.9 -> ssh 9.2\\u{7}"
        );
    }
}

#[cfg(test)]
mod escape_tests {
    use super::*;

    #[test]
    fn terminal_text_shows_controls_bidi_and_zero_width_as_escapes() {
        assert_eq!(clean("ssh\u{1b}[2J\u{7}"), "ssh\\u{1b}[2J\\u{7}");
        assert_eq!(clean("evil\u{202E}gpj.exe"), "evil\\u{202e}gpj.exe");
        assert_eq!(clean("a\u{2066}b\u{2069}"), "a\\u{2066}b\\u{2069}");
        assert_eq!(clean("127.0.0.1\u{200B}"), "127.0.0.1\\u{200b}");
        assert_eq!(clean("\u{FEFF}x\u{2060}"), "\\u{feff}x\\u{2060}");
        assert_eq!(clean("a\r\nb"), "a\\r\\nb");
        assert_eq!(clean_lines("a\nb\u{1b}"), "a\nb\\u{1b}");
        assert!(matches!(clean("plain OpenSSH 9.2p1 ü"), Cow::Borrowed(_)));
    }

    #[test]
    fn slack_markup_is_escaped() {
        assert_eq!(
            slack("<!channel> & <https://x|y>"),
            "&lt;!channel&gt; &amp; &lt;https://x|y&gt;"
        );
        assert!(matches!(slack("nginx 1.22"), Cow::Borrowed(_)));
    }
}
