//! The `api_server` dashboard at `/`: the state of every `targets.txt` entry at a glance, the
//! open alerts with ack/ignore buttons, the latest delta, and the history; built from the same
//! fragments as `report.html`.
//!
//! Pure: the caller reads the database and passes what to show. The only script is
//! [`SCRIPT`] (the alert buttons); filtering and sorting are a plain GET form served here.

use std::fmt::Write as _;
use std::net::IpAddr;

use jiff::Timestamp;

use super::*;
use crate::store::{Alert, AlertStatus};

/// The latest snapshot of one profile and its delta against the previous one.
pub struct ProfileState {
    pub snapshot: Snapshot,
    pub delta: Delta,
}

/// Card order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Lowest score first (entries without a score last).
    #[default]
    Score,
    /// Most recently scanned first.
    Recent,
    Oldest,
}

impl Sort {
    pub const NAMES: [&'static str; 3] = ["score", "recent", "oldest"];

    pub fn parse(s: &str) -> Option<Sort> {
        match s {
            "score" => Some(Sort::Score),
            "recent" => Some(Sort::Recent),
            "oldest" => Some(Sort::Oldest),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Sort::Score => "score",
            Sort::Recent => "recent",
            Sort::Oldest => "oldest",
        }
    }
}

/// The band filter: one band, or entries without a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BandFilter {
    Is(Band),
    NoScore,
}

impl BandFilter {
    pub const NAMES: [&'static str; 5] = ["Excellent", "Good", "Monitor", "Critical", "none"];

    pub fn parse(s: &str) -> Option<BandFilter> {
        Some(match s {
            "Excellent" => BandFilter::Is(Band::Excellent),
            "Good" => BandFilter::Is(Band::Good),
            "Monitor" => BandFilter::Is(Band::Monitor),
            "Critical" => BandFilter::Is(Band::Critical),
            "none" => BandFilter::NoScore,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            BandFilter::Is(b) => b.as_str(),
            BandFilter::NoScore => "none",
        }
    }

    fn accepts(self, band: Option<Band>) -> bool {
        match self {
            BandFilter::Is(b) => band == Some(b),
            BandFilter::NoScore => band.is_none(),
        }
    }
}

/// What the cards are narrowed to and how they are ordered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardFilter {
    pub status: Option<DeltaStatus>,
    pub band: Option<BandFilter>,
    pub sort: Sort,
    /// Case-insensitive part of the entry's name.
    pub search: String,
}

impl CardFilter {
    fn is_default(&self) -> bool {
        *self == CardFilter::default()
    }
}

/// One `targets.txt` entry as of the latest snapshot that scanned it.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryCard {
    pub entry: String,
    pub profile: String,
    pub snapshot: Option<i64>,
    pub started_at: Timestamp,
    pub score: Option<u8>,
    pub band: Option<Band>,
    pub status: DeltaStatus,
    pub ports_opened: usize,
    pub ports_closed: usize,
    pub services_changed: usize,
    pub new_hosts: usize,
    pub gone_hosts: usize,
    pub not_compared: usize,
    pub hosts_up: usize,
    pub open_ports: usize,
}

/// One card per entry of the given snapshots (newest first); an entry scanned by several
/// profiles shows its most recent scan. Changes and hosts count for every entry whose
/// targets cover their address.
pub fn entry_cards(states: &[ProfileState]) -> Vec<EntryCard> {
    let mut cards: Vec<EntryCard> = Vec::new();
    for state in states {
        let (snap, delta) = (&state.snapshot, &state.delta);
        for score in &delta.score.entries {
            if let Some(existing) = cards.iter().find(|c| c.entry == score.entry)
                && existing.started_at >= snap.started_at
            {
                continue;
            }
            let targets: Vec<_> = snap
                .targets
                .iter()
                .filter(|t| t.entry == score.entry)
                .collect();
            let covered = |ip: Option<IpAddr>| {
                ip.is_some_and(|ip| {
                    targets
                        .iter()
                        .any(|t| t.covers.iter().any(|n| n.contains(&ip)))
                })
            };
            let changes: Vec<Change> = delta
                .changes
                .iter()
                .filter(|c| covered(c.ip.parse().ok()))
                .cloned()
                .collect();
            let count = |kind| changes.iter().filter(|c| c.kind == kind).count();
            let up: Vec<_> = snap
                .hosts
                .iter()
                .filter(|h| h.is_up() && covered(crate::snapshot::host_ip(h)))
                .collect();
            let card = EntryCard {
                entry: score.entry.clone(),
                profile: snap.profile.clone(),
                snapshot: snap.id,
                started_at: snap.started_at,
                score: score.score,
                band: score.band,
                status: DeltaStatus::of(&changes),
                ports_opened: count(ChangeKind::PortOpened),
                ports_closed: count(ChangeKind::PortClosed),
                services_changed: count(ChangeKind::ServiceChanged),
                new_hosts: count(ChangeKind::NewHost),
                gone_hosts: count(ChangeKind::HostGone),
                not_compared: delta
                    .not_compared
                    .iter()
                    .filter(|n| targets.iter().any(|t| t.target == n.target))
                    .count(),
                hosts_up: up.len(),
                open_ports: up.iter().map(|h| h.open_ports().count()).sum(),
            };
            cards.retain(|c| c.entry != card.entry);
            cards.push(card);
        }
    }
    cards
}

/// The cards `filter` keeps, in its order.
pub fn filter_cards(mut cards: Vec<EntryCard>, filter: &CardFilter) -> Vec<EntryCard> {
    let needle = filter.search.trim().to_lowercase();
    cards.retain(|c| {
        filter.status.is_none_or(|s| c.status == s)
            && filter.band.is_none_or(|b| b.accepts(c.band))
            && (needle.is_empty() || c.entry.to_lowercase().contains(&needle))
    });
    match filter.sort {
        Sort::Score => cards.sort_by(|a, b| {
            (a.score.is_none(), a.score, &a.entry).cmp(&(b.score.is_none(), b.score, &b.entry))
        }),
        Sort::Recent => cards.sort_by(|a, b| {
            b.started_at
                .cmp(&a.started_at)
                .then_with(|| a.entry.cmp(&b.entry))
        }),
        Sort::Oldest => cards.sort_by(|a, b| {
            a.started_at
                .cmp(&b.started_at)
                .then_with(|| a.entry.cmp(&b.entry))
        }),
    }
    cards
}

/// Everything the page shows.
pub struct Dashboard<'a> {
    /// The latest snapshot of each profile, newest first.
    pub states: &'a [ProfileState],
    /// The newest profile's timeline, newest first.
    pub timeline: &'a [TimelineRow],
    /// Open alerts, newest first (at most a page).
    pub alerts: &'a [Alert],
    /// How many alerts are open in all.
    pub open_alerts: usize,
    pub filter: &'a CardFilter,
}

/// The alert buttons: POST to the alert's action and show its new state in the row. No
/// other script runs on the page (the CSP allows this one by hash).
pub const SCRIPT: &str = r#"
document.querySelectorAll("tr[data-alert] button[data-act]").forEach(function (b) {
  b.addEventListener("click", function () {
    var row = b.closest("tr"), state = row.querySelector(".state");
    row.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
    fetch("/api/alerts/" + row.dataset.alert + "/" + b.dataset.act, { method: "POST" })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
      .then(function (res) {
        if (res.ok) {
          row.dataset.status = res.body.status;
          state.textContent = res.body.status;
          state.className = "state state-" + res.body.status;
          row.querySelectorAll("button").forEach(function (x) { x.remove(); });
        } else {
          state.textContent = res.body.error ? res.body.error.message : "failed";
          row.querySelectorAll("button").forEach(function (x) { x.disabled = false; });
        }
      })
      .catch(function (e) { state.textContent = String(e); });
  });
});
"#;

/// The whole dashboard page.
pub fn render(d: &Dashboard<'_>) -> String {
    let mut body = String::new();
    let latest = d.states.first();
    body.push_str(&header(latest));
    let Some(latest) = latest else {
        body.push_str(
            "<p class=\"none\">No scans yet. Run <span class=\"mono\">daily_scan -f \
             targets.txt</span>; its snapshots show here.</p>\n",
        );
        return page_with_script("Network security dashboard", &body, None);
    };
    body.push_str(&headline(latest, d.open_alerts));
    body.push_str("<div class=\"cards\">\n");
    body.push_str(&score_card(&latest.delta.score, latest.delta.status));
    body.push_str(&summary_card(&latest.delta));
    body.push_str(&alerts_card(d.alerts, d.open_alerts));
    body.push_str("</div>\n");

    let all = entry_cards(d.states);
    let total = all.len();
    let cards = filter_cards(all, d.filter);
    let _ = writeln!(
        body,
        "<h2>Targets <span class=\"meta\">({} of {total} shown)</span></h2>",
        cards.len()
    );
    body.push_str(&filter_form(d.filter));
    body.push_str(&cards_html(&cards));

    let _ = writeln!(
        body,
        "<h2 id=\"alerts\">Open alerts <span class=\"meta\">({})</span></h2>",
        d.open_alerts
    );
    body.push_str(&alerts_table(d.alerts, d.open_alerts));

    let compared = match latest.delta.from.as_ref().and_then(|f| f.snapshot) {
        Some(id) => format!("snapshot #{} vs #{id}", opt_id(latest.snapshot.id)),
        None => format!("snapshot #{}", opt_id(latest.snapshot.id)),
    };
    let _ = writeln!(
        body,
        "<h2>Latest changes <span class=\"meta\">({compared}, profile {})</span></h2>",
        escape(&latest.snapshot.profile)
    );
    if let Some(note) = &latest.delta.note {
        let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(note));
    }
    body.push_str(&changes_table(&latest.delta.changes));
    if !latest.delta.not_compared.is_empty() {
        body.push_str("<h2>Not compared</h2>\n");
        body.push_str(&not_compared_table(
            &latest.delta.not_compared,
            &latest.snapshot,
        ));
    }
    let _ = writeln!(
        body,
        "<h2>History <span class=\"meta\">(profile {})</span></h2>",
        escape(&latest.snapshot.profile)
    );
    body.push_str(&history_chart(d.timeline));
    body.push_str("<h2>Timeline</h2>\n");
    body.push_str(&timeline_table(&d.timeline[..d.timeline.len().min(15)]));
    let _ = writeln!(
        body,
        "<footer>api_server {} &middot; scores and deltas recomputed from the database with this \
         server's severity table</footer>",
        env!("CARGO_PKG_VERSION")
    );
    page_with_script("Network security dashboard", &body, Some(SCRIPT))
}

/// One sentence on the latest run, coloured by its status: what a reader needs first.
fn headline(latest: &ProfileState, open_alerts: usize) -> String {
    let delta = &latest.delta;
    let since = match delta.from.as_ref().and_then(|f| f.snapshot) {
        Some(id) => format!("since snapshot #{id}"),
        None => String::new(),
    };
    let alerts = match open_alerts {
        0 => "no open alerts".to_string(),
        1 => "<a href=\"#alerts\">1 open alert</a>".to_string(),
        n => format!("<a href=\"#alerts\">{n} open alerts</a>"),
    };
    let score = match (delta.score.overall, delta.score.band) {
        (Some(n), Some(b)) => format!("score {n} ({})", b.as_str()),
        _ => "no score (no target completed)".to_string(),
    };
    let (class, lead, detail) = match (delta.status, &delta.from) {
        (_, None) => (
            "stable",
            "Baseline".to_string(),
            "the first snapshot of this profile: nothing to compare with yet".to_string(),
        ),
        (DeltaStatus::Stable, Some(_)) => (
            "stable",
            "Stable".to_string(),
            format!("nothing changed {since}"),
        ),
        (DeltaStatus::Changes, Some(_)) => (
            "changes",
            "Changes".to_string(),
            format!("{} {since}, none critical", change_counts(&delta.summary)),
        ),
        (DeltaStatus::Critical, Some(_)) => {
            let mut worst: Vec<&Change> = delta
                .changes
                .iter()
                .filter(|c| c.kind == ChangeKind::PortOpened)
                .collect();
            worst.sort_by_key(|c| std::cmp::Reverse(c.severity));
            let named: Vec<String> = worst
                .iter()
                .take(3)
                .map(|c| match &c.port {
                    Some(p) => format!(
                        "<b>{}/{}</b> on <b>{}</b> ({})",
                        p.port,
                        escape(&p.protocol),
                        escape(&c.ip),
                        c.severity.as_str()
                    ),
                    None => escape(&c.ip),
                })
                .collect();
            let more = worst.len().saturating_sub(3);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            (
                "critical",
                "Critical change".to_string(),
                format!(
                    "opened {since}: {}{more} &middot; {}",
                    named.join(", "),
                    change_counts(&delta.summary)
                ),
            )
        }
    };
    let not_compared = match delta.summary.not_compared {
        0 => String::new(),
        n => format!(" &middot; {n} target{} not compared", plural(n)),
    };
    format!(
        "<div class=\"headline headline-{class}\"><b>{lead}</b>: {detail} &middot; {score} \
         &middot; {alerts}{not_compared}</div>\n"
    )
}

fn change_counts(s: &crate::delta::Summary) -> String {
    let mut parts = Vec::new();
    for (n, what) in [
        (s.ports_opened, "opened"),
        (s.ports_closed, "closed"),
        (s.services_changed, "changed"),
    ] {
        if n > 0 {
            parts.push(format!("{n} port{} {what}", plural(n)));
        }
    }
    for (n, what) in [(s.new_hosts, "new"), (s.gone_hosts, "gone")] {
        if n > 0 {
            parts.push(format!("{n} host{} {what}", plural(n)));
        }
    }
    if parts.is_empty() {
        "no changes".to_string()
    } else {
        parts.join(", ")
    }
}

fn opt_id(id: Option<i64>) -> String {
    id.map_or_else(|| "?".to_string(), |i| i.to_string())
}

fn header(latest: Option<&ProfileState>) -> String {
    let meta = match latest {
        Some(s) => format!(
            "latest snapshot <b>#{}</b> &middot; profile <b>{}</b> &middot; started {} &middot; \
             {} targets, {} hosts up, {} open ports",
            opt_id(s.snapshot.id),
            escape(&s.snapshot.profile),
            escape(&crate::report::text::time(s.snapshot.started_at)),
            s.snapshot.targets.len(),
            s.snapshot.hosts_up(),
            s.snapshot.open_ports()
        ),
        None => "no snapshots".to_string(),
    };
    let exports = match latest.and_then(|s| s.snapshot.id) {
        Some(id) => format!(
            "<nav class=\"exports\"><b>Export</b> latest delta \
             <a href=\"/api/snapshots/{id}/delta\">JSON</a> <a href=\"/api/snapshots/{id}/delta?format=csv\">CSV</a>\
             <span class=\"sep\">|</span>snapshots <a href=\"/api/snapshots\">JSON</a> <a href=\"/api/snapshots?format=csv\">CSV</a>\
             <span class=\"sep\">|</span>trends <a href=\"/api/stats/trends\">JSON</a> <a href=\"/api/stats/trends?format=csv\">CSV</a>\
             <span class=\"sep\">|</span>alerts <a href=\"/api/alerts?status=open\">JSON</a> <a href=\"/api/alerts?status=open&amp;format=csv\">CSV</a></nav>"
        ),
        None => String::new(),
    };
    format!(
        "<div class=\"top\"><div><h1>Network security dashboard</h1>\n<p class=\"meta\" \
         style=\"margin-bottom:4px\">{meta}</p>{exports}</div></div>\n"
    )
}

fn alerts_card(alerts: &[Alert], open: usize) -> String {
    let mut by_severity = String::new();
    for sev in [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ] {
        let n = alerts.iter().filter(|a| a.severity == sev).count();
        if n > 0 {
            let _ = write!(by_severity, "<div>{} <b>{n}</b></div>", severity_badge(sev));
        }
    }
    let class = if open == 0 {
        "band-Excellent"
    } else {
        "band-Critical"
    };
    format!(
        "<div class=\"card alerts-card\"><div class=\"big {class}\">{open}</div>\
         <div class=\"meta\" style=\"grid-column:1 / -1\">open alerts \
         <a href=\"#alerts\">(see below)</a></div>{by_severity}</div>\n"
    )
}

fn filter_form(f: &CardFilter) -> String {
    let select = |name: &str, label: &str, options: &[(&str, &str)], chosen: &str| {
        let mut out = format!(
            "<label for=\"f-{name}\">{label}</label><select id=\"f-{name}\" name=\"{name}\">"
        );
        for (value, text) in options {
            let sel = if *value == chosen { " selected" } else { "" };
            let _ = write!(out, "<option value=\"{value}\"{sel}>{text}</option>");
        }
        out.push_str("</select>");
        out
    };
    let status = f.status.map_or("", DeltaStatus::as_str);
    let band = f.band.map_or("", BandFilter::as_str);
    let reset = if f.is_default() {
        ""
    } else {
        " <a href=\"/\">reset</a>"
    };
    format!(
        "<form class=\"filters\" method=\"get\" action=\"/\">{}{}{}\
         <label for=\"f-q\">Search</label><input id=\"f-q\" name=\"q\" type=\"search\" \
         placeholder=\"entry name\" value=\"{}\"><button type=\"submit\">Apply</button>{reset}</form>\n",
        select(
            "status",
            "Status",
            &[
                ("", "all"),
                ("critical", "critical"),
                ("changes", "changes"),
                ("stable", "stable")
            ],
            status
        ),
        select(
            "band",
            "Band",
            &[
                ("", "all"),
                ("Excellent", "Excellent"),
                ("Good", "Good"),
                ("Monitor", "Monitor"),
                ("Critical", "Critical"),
                ("none", "no score"),
            ],
            band
        ),
        select(
            "sort",
            "Sort",
            &[
                ("score", "worst score first"),
                ("recent", "recent"),
                ("oldest", "oldest")
            ],
            f.sort.as_str()
        ),
        escape(&f.search)
    )
}

fn cards_html(cards: &[EntryCard]) -> String {
    if cards.is_empty() {
        return "<p class=\"none\">No entry matches these filters.</p>\n".to_string();
    }
    let mut out = String::from("<div class=\"entries\">\n");
    for c in cards {
        let (num, band) = match (c.score, c.band) {
            (Some(s), Some(b)) => (s.to_string(), b.as_str()),
            _ => ("–".to_string(), "not scanned"),
        };
        let mut badges = String::new();
        let mut badge = |n: usize, class: &str, text: &str| {
            if n > 0 {
                let _ = write!(badges, "<span class=\"badge {class}\">{text}</span>");
            }
        };
        badge(
            c.ports_opened,
            "new",
            &format!("+{} new port{}", c.ports_opened, plural(c.ports_opened)),
        );
        badge(
            c.ports_closed,
            "removed",
            &format!("−{} closed", c.ports_closed),
        );
        badge(
            c.services_changed,
            "changed",
            &format!(
                "~{} service change{}",
                c.services_changed,
                plural(c.services_changed)
            ),
        );
        badge(
            c.new_hosts,
            "new",
            &format!("+{} host{}", c.new_hosts, plural(c.new_hosts)),
        );
        badge(
            c.gone_hosts,
            "removed",
            &format!("−{} host{}", c.gone_hosts, plural(c.gone_hosts)),
        );
        badge(
            c.not_compared,
            "",
            &format!("{} not compared", c.not_compared),
        );
        if badges.is_empty() {
            badges.push_str("<span class=\"badge\">no changes</span>");
        }
        let _ = writeln!(
            out,
            "<div class=\"entry status-{st}\" data-entry=\"{name}\" data-status=\"{st}\">\
             <div class=\"name mono\">{name}</div>\
             <div class=\"row\"><span class=\"num {cls}\">{num}</span><span class=\"band {cls}\">{band}</span>\
             <span class=\"status status-{st}\">{st}</span></div>\
             <div class=\"meta\">{} host{} up &middot; {} open port{}</div>\
             <div class=\"badges\">{badges}</div>\
             <div class=\"meta small\" title=\"profile {}\">snapshot #{} &middot; {}</div></div>",
            c.hosts_up,
            plural(c.hosts_up),
            c.open_ports,
            plural(c.open_ports),
            escape(&c.profile),
            opt_id(c.snapshot),
            escape(&crate::report::text::time(c.started_at)),
            st = c.status.as_str(),
            name = escape(&c.entry),
            cls = band_class(c.band),
        );
    }
    out.push_str("</div>\n");
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn alerts_table(alerts: &[Alert], open: usize) -> String {
    if alerts.is_empty() {
        return "<p class=\"none\">No open alerts.</p>\n".to_string();
    }
    let mut rows = String::new();
    for a in alerts {
        let port = match (&a.protocol, a.port) {
            (Some(proto), Some(port)) => format!("{port}/{}", escape(proto)),
            _ => String::new(),
        };
        let buttons = match a.status {
            AlertStatus::Open => {
                "<button class=\"act ack\" data-act=\"ack\">Ack</button>\
                 <button class=\"act ignore\" data-act=\"ignore\">Ignore</button>"
            }
            AlertStatus::Actioned => {
                "<button class=\"act ignore\" data-act=\"ignore\">Ignore</button>"
            }
            _ => "",
        };
        let _ = writeln!(
            rows,
            "<tr data-alert=\"{id}\" data-status=\"{st}\"><td>{}</td><td class=\"kind\">{}</td>\
             <td class=\"mono\">{}</td><td class=\"mono\">{port}</td><td>{}</td>\
             <td class=\"meta\">#{} → #{}</td><td><span class=\"state state-{st}\">{st}</span></td>\
             <td>{buttons}</td></tr>",
            severity_badge(a.severity),
            a.kind.as_str().replace('_', " "),
            escape(&a.ip),
            escape(&a.message),
            a.first_snapshot,
            a.last_snapshot,
            id = a.id,
            st = a.status.as_str(),
        );
    }
    let more = if open > alerts.len() {
        format!(
            "<p class=\"meta\">Showing the {} newest of {open}; \
             <a href=\"/api/alerts?status=open\">/api/alerts?status=open</a> has them all.</p>\n",
            alerts.len()
        )
    } else {
        String::new()
    };
    format!(
        "<table class=\"alerts\"><thead><tr><th>Severity</th><th>Alert</th><th>Host</th>\
         <th>Port</th><th>Message</th><th>Seen</th><th>State</th><th></th></tr></thead><tbody>\n\
         {rows}</tbody></table>\n{more}"
    )
}

#[cfg(test)]
#[path = "dashboard_tests.rs"]
mod tests;
