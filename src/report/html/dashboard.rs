//! The `api_server` dashboard at `/`: the state of every `targets.txt` entry at a glance, the
//! open alerts with ack/ignore buttons, the latest delta, and the history; built from the same
//! fragments as `report.html`.
//!
//! Pure: the caller reads the database and passes what to show. The only script is
//! [`SCRIPT`] (the alert buttons); filtering and sorting are a plain GET form served here.

use std::fmt::Write as _;

use super::*;
use crate::report::certificates::CertificateRow;
use crate::store::{Alert, ShardRun};

use super::alerts_view::{alerts_card, alerts_table};
pub use super::cards::{
    BandFilter, CardFilter, EntryCard, ProfileState, Sort, entry_cards, filter_cards,
};
use super::headline::headline;
use super::shards_view::waiting_runs;
use crate::report::text::plural;

/// Rows of the "Latest changes" and "Not compared" tables; the rest are behind links to the
/// delta routes.
pub const TOP_CHANGES: usize = 50;

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
    /// TLS ports that are expired, expiring or weak, most urgent first.
    pub certificates: &'a [CertificateRow],
    pub filter: &'a CardFilter,
    /// Why the filters in the address were not applied (a bad value), shown above the cards.
    pub message: Option<&'a str>,
    /// Sharded runs not finalized yet, newest first.
    pub sharded: &'a [ShardRun],
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
    let mut body = nav("dashboard");
    let latest = d.states.first();
    body.push_str(&header(latest));
    if let Some(message) = d.message {
        let _ = writeln!(
            body,
            "<p class=\"error\" role=\"alert\"><b>Filters not applied:</b> {}</p>",
            escape(message)
        );
    }
    let Some(latest) = latest else {
        if d.sharded.is_empty() {
            body.push_str(
                "<p class=\"none\">No scans yet. Run <span class=\"mono\">daily_scan -f \
                 targets.txt</span>; its snapshots show here.</p>\n",
            );
        }
        body.push_str(&waiting_runs(d.sharded));
        return page_with_script("Network security dashboard", &body, None);
    };
    body.push_str(&headline(latest, d.open_alerts));
    body.push_str("<div class=\"cards\">\n");
    body.push_str(&score_card(&latest.delta.score, latest.delta.status));
    body.push_str(&summary_card(&latest.delta));
    body.push_str(&alerts_card(d.alerts, d.open_alerts));
    body.push_str("</div>\n");
    body.push_str(&waiting_runs(d.sharded));

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
        "<h2 id=\"alerts\">Open alerts <span class=\"meta\">({}, \
         <a href=\"/alerts?status=open\">filter and act in bulk</a>)</span></h2>",
        d.open_alerts
    );
    body.push_str(&alerts_table(d.alerts, d.open_alerts));

    let _ = writeln!(
        body,
        "<h2 id=\"certificates\">Certificates <span class=\"meta\">(expired, expiring soon or \
         weak: {})</span></h2>",
        d.certificates.len()
    );
    body.push_str(&certificates_table(
        d.certificates,
        "No TLS certificate needs attention.",
    ));

    let compared = match latest.delta.from.as_ref().and_then(|f| f.snapshot) {
        Some(id) => format!("snapshot #{} vs #{id}", opt_id(latest.snapshot.id)),
        None => format!("snapshot #{}", opt_id(latest.snapshot.id)),
    };
    let _ = writeln!(
        body,
        "<h2>Latest changes <span class=\"meta\">({compared}, profile {}, \
         <a href=\"/runs/{}\">run page</a>)</span></h2>",
        escape(&latest.snapshot.profile),
        opt_id(latest.snapshot.id)
    );
    if let Some(note) = &latest.delta.note {
        let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(note));
    }
    body.push_str(&top_changes(&latest.delta.changes, latest.snapshot.id));
    if !latest.delta.not_compared.is_empty() {
        body.push_str("<h2>Not compared</h2>\n");
        let not_compared = &latest.delta.not_compared;
        let shown = &not_compared[..not_compared.len().min(TOP_CHANGES)];
        body.push_str(&not_compared_table(shown, &latest.snapshot));
        if shown.len() < not_compared.len() {
            let _ = writeln!(
                body,
                "<p class=\"meta\">The first {} of {} targets not compared. All of them: \
                 <a href=\"/api/snapshots/{id}/delta\">JSON</a> (<span class=\"mono\">not_compared\
                 </span>).</p>",
                shown.len(),
                not_compared.len(),
                id = opt_id(latest.snapshot.id)
            );
        }
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

/// The [`TOP_CHANGES`] most severe changes, with links to all of them (the delta routes) when
/// there are more: a large delta would otherwise make the page megabytes long.
fn top_changes(changes: &[Change], id: Option<i64>) -> String {
    if changes.len() <= TOP_CHANGES {
        return changes_table(changes);
    }
    let mut sorted: Vec<&Change> = changes.iter().collect();
    sorted.sort_by_key(|c| std::cmp::Reverse(c.severity));
    let top: Vec<Change> = sorted.into_iter().take(TOP_CHANGES).cloned().collect();
    let mut html = changes_table(&top);
    let id = opt_id(id);
    let _ = writeln!(
        html,
        "<p class=\"meta\">The {TOP_CHANGES} most severe of {} changes. All of them: \
         <a href=\"/api/snapshots/{id}/delta?format=csv\">CSV</a>, \
         <a href=\"/api/snapshots/{id}/delta\">JSON</a>.</p>",
        changes.len()
    );
    html
}

fn opt_id(id: Option<i64>) -> String {
    id.map_or_else(|| "?".to_string(), |i| i.to_string())
}

fn header(latest: Option<&ProfileState>) -> String {
    let meta = match latest {
        Some(s) => format!(
            "latest run <a href=\"/runs/{id}\"><b>#{id}</b></a> &middot; profile <b>{}</b> &middot; \
             started {} &middot; {}",
            escape(&s.snapshot.profile),
            escape(&crate::report::text::time(s.snapshot.started_at)),
            crate::report::text::counts_line(s.snapshot.targets.len(), s.hosts_up, s.open_ports),
            id = opt_id(s.snapshot.id),
        ),
        None => "no snapshots".to_string(),
    };
    let exports = match latest.and_then(|s| s.snapshot.id) {
        Some(id) => format!(
            "<nav class=\"exports\"><b>Export</b> latest delta \
             <a href=\"/api/snapshots/{id}/delta\">JSON</a> <a href=\"/api/snapshots/{id}/delta?format=csv\">CSV</a>\
             <span class=\"sep\">|</span>snapshots <a href=\"/api/snapshots\">JSON</a> <a href=\"/api/snapshots?format=csv\">CSV</a>\
             <span class=\"sep\">|</span>trends <a href=\"/api/stats/trends\">JSON</a> <a href=\"/api/stats/trends?format=csv\">CSV</a>\
             <span class=\"sep\">|</span>alerts <a href=\"/api/alerts?status=open\">JSON</a> <a href=\"/api/alerts?status=open&amp;format=csv\">CSV</a>\
             <span class=\"sep\">|</span><a href=\"/api/export.zip\">every run's files (ZIP)</a></nav>"
        ),
        None => String::new(),
    };
    format!(
        "<div class=\"top\"><div><h1>Network security dashboard</h1>\n<p class=\"meta\" \
         style=\"margin-bottom:4px\">{meta}</p>{exports}</div></div>\n"
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
                ("oldest", "oldest"),
                ("name", "name")
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
             <div class=\"name mono\"><a href=\"/entries/{link}\">{name}</a></div>\
             <div class=\"row\"><span class=\"num {cls}\">{num}</span><span class=\"band {cls}\">{band}</span>\
             <span class=\"status status-{st}\">{st}</span></div>\
             <div class=\"meta\">{} host{} up &middot; {} open port{}</div>\
             <div class=\"badges\">{badges}</div>\
             <div class=\"meta small\" title=\"profile {}\"><a href=\"/runs/{run}\">run #{run}</a> &middot; {}</div></div>",
            c.hosts_up,
            plural(c.hosts_up),
            c.open_ports,
            plural(c.open_ports),
            escape(&c.profile),
            escape(&crate::report::text::time(c.started_at)),
            run = opt_id(c.snapshot),
            link = escape(&url_component(&c.entry)),
            st = c.status.as_str(),
            name = escape(&c.entry),
            cls = band_class(c.band),
        );
    }
    out.push_str("</div>\n");
    out
}

#[cfg(test)]
mod tests;
