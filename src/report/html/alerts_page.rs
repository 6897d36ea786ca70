//! `/alerts`: every alert, filtered by status, severity, kind, address or CIDR block, text and
//! date range (a plain GET form: the filters are the query of `GET /api/alerts`, whose JSON
//! and CSV the page links to), with bulk acknowledge / ignore / un-ignore and a note
//! ([`SCRIPT`], the page's only script).

use std::fmt::Write as _;

use super::alerts_view::{alert_port, seen_links};
use super::{escape, nav, page_with_script, severity_badge};
use crate::model::{AlertKind, AlertStatus, Severity};
use crate::report::text::plural;
use crate::store::Alert;

/// The filters as the user typed them (re-shown in the form, and passed on to the JSON and
/// CSV links).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertForm {
    pub status: String,
    pub min_severity: String,
    pub kind: String,
    pub ip: String,
    pub q: String,
    pub since: String,
    pub until: String,
}

impl AlertForm {
    /// The form's query string (`&`-joined, values percent-encoded), empty values left out.
    pub fn query(&self) -> String {
        [
            ("status", &self.status),
            ("min_severity", &self.min_severity),
            ("kind", &self.kind),
            ("ip", &self.ip),
            ("q", &self.q),
            ("since", &self.since),
            ("until", &self.until),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", super::url_component(v)))
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// What the page shows.
pub struct AlertsPage<'a> {
    pub form: &'a AlertForm,
    /// Why the filters were not applied (a bad value), shown above the form.
    pub message: Option<&'a str>,
    pub alerts: &'a [Alert],
    /// Whether more alerts match than are listed.
    pub more: bool,
}

/// Bulk actions: the checked rows' ids go to `POST /api/alerts/ack` or `/ignore` with the
/// note, or one by one to `/api/alerts/{id}/unignore`; then the page reloads with the same
/// filters. An error, or the ids the server could not change (and why), show in a live region
/// instead.
pub const SCRIPT: &str = r##"
var statusLine = document.getElementById("bulk-status");
var all = document.getElementById("select-all");
function boxes() { return Array.prototype.slice.call(document.querySelectorAll("input[name=alert]")); }
if (all) {
  all.addEventListener("change", function () { boxes().forEach(function (c) { c.checked = all.checked; }); });
}
function check(r) {
  if (r.ok) { return r.json(); }
  return r.json().then(function (j) {
    throw new Error(j.error ? j.error.message : "failed (" + r.status + ")");
  }, function () { throw new Error("failed (" + r.status + ")"); });
}
document.querySelectorAll("#bulk button[data-act]").forEach(function (b) {
  b.addEventListener("click", function () {
    var ids = boxes().filter(function (c) { return c.checked; }).map(function (c) { return Number(c.value); });
    if (!ids.length) { statusLine.textContent = "Select at least one alert first."; return; }
    var note = document.getElementById("bulk-note").value.trim();
    var act = b.dataset.act, work;
    if (act === "unignore") {
      work = Promise.all(ids.map(function (id) {
        return fetch("/api/alerts/" + id + "/unignore", { method: "POST" }).then(check);
      }));
    } else {
      var body = { ids: ids };
      if (note) { body.note = note; }
      work = fetch("/api/alerts/" + act, { method: "POST",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
        .then(check).then(function (r) {
          if (r.failed && r.failed.length) {
            throw new Error(r.changed.length + " changed; not changed: " + r.failed.map(function (f) {
              return "#" + f.id + " (" + f.message + ")"; }).join(", ") + ". Reload to see the list.");
          }
        });
    }
    statusLine.textContent = "Working…";
    work.then(function () { location.reload(); })
      .catch(function (e) { statusLine.textContent = e.message; });
  });
});
"##;

/// The whole alerts page.
pub fn render(p: &AlertsPage<'_>) -> String {
    let mut body = nav("alerts");
    let _ = writeln!(
        body,
        "<h1>Alerts</h1>\n<p class=\"meta\">{} alert{} listed{}</p>",
        p.alerts.len(),
        plural(p.alerts.len()),
        if p.more {
            " (the newest; narrow the filters or use the JSON for the rest)"
        } else {
            ""
        }
    );
    if let Some(message) = p.message {
        let _ = writeln!(
            body,
            "<p class=\"error\" role=\"alert\"><b>Filters not applied:</b> {}</p>",
            escape(message)
        );
    }
    body.push_str(&filter_form(p.form));
    let query = p.form.query();
    let amp = if query.is_empty() { "" } else { "&amp;" };
    let query_html = escape(&query);
    let _ = writeln!(
        body,
        "<nav class=\"exports\" aria-label=\"This list as data\"><b>This list</b> \
         <a href=\"/api/alerts?{query_html}\">JSON</a> \
         <a href=\"/api/alerts?{query_html}{amp}format=csv\">CSV</a></nav>"
    );
    if p.alerts.is_empty() {
        body.push_str(if *p.form == AlertForm::default() {
            "<p class=\"none\">No alerts yet: <span class=\"mono\">daily_scan</span> runs raise \
             them when a port opens, a host appears or an expectation breaks.</p>\n"
        } else {
            "<p class=\"none\">No alert matches these filters.</p>\n"
        });
        return page_with_script("Alerts", &body, None);
    }
    body.push_str(BULK_FORM);
    body.push_str(&table(p.alerts));
    page_with_script("Alerts", &body, Some(SCRIPT))
}

const BULK_FORM: &str = "<div id=\"bulk\" class=\"filters bulk\" role=\"group\" \
    aria-label=\"Act on the selected alerts\">\
    <label for=\"bulk-note\">Note</label><input id=\"bulk-note\" type=\"text\" maxlength=\"1000\" \
    placeholder=\"ticket, reason…\">\
    <button type=\"button\" data-act=\"ack\">Acknowledge selected</button>\
    <button type=\"button\" data-act=\"ignore\">Ignore selected</button>\
    <button type=\"button\" data-act=\"unignore\">Un-ignore selected</button>\
    <span id=\"bulk-status\" role=\"status\" aria-live=\"polite\"></span></div>\n";

fn table(alerts: &[Alert]) -> String {
    let mut rows = String::new();
    for a in alerts {
        let _ = writeln!(
            rows,
            "<tr data-alert=\"{id}\" data-status=\"{st}\"><td><input type=\"checkbox\" name=\"alert\" \
             value=\"{id}\" aria-label=\"Select alert {id}\"></td><td>{}</td><td class=\"kind\">{}</td>\
             <td class=\"mono\"><a href=\"/alerts?ip={ip_q}\">{ip}</a></td><td class=\"mono\">{}</td>\
             <td>{}</td><td><span class=\"state state-{st}\">{st}</span></td><td>{}</td><td>{}</td>\
             <td class=\"meta\">{}</td></tr>",
            severity_badge(a.severity),
            a.kind.as_str().replace('_', " "),
            alert_port(a),
            escape(&a.message),
            escape(a.note.as_deref().unwrap_or("")),
            seen_links(a),
            escape(&a.created_at.strftime("%Y-%m-%d %H:%M").to_string()),
            id = a.id,
            st = a.status.as_str(),
            ip = escape(&a.ip),
            ip_q = escape(&super::url_component(&a.ip)),
        );
    }
    format!(
        "<div class=\"scroll\"><table class=\"alerts\"><thead><tr><th><input type=\"checkbox\" \
         id=\"select-all\" aria-label=\"Select every listed alert\"></th><th>Severity</th>\
         <th>Alert</th><th>Host</th><th>Port</th><th>Message</th><th>State</th><th>Note</th>\
         <th>Seen in runs</th><th>Raised (UTC)</th></tr></thead><tbody>\n{rows}</tbody></table></div>\n"
    )
}

fn filter_form(f: &AlertForm) -> String {
    let select = |name: &str, label: &str, options: &[&str], chosen: &str| {
        let mut out = format!(
            "<span class=\"field\"><label for=\"a-{name}\">{label}</label><select id=\"a-{name}\" name=\"{name}\">\
             <option value=\"\">any</option>"
        );
        for value in options {
            let sel = if *value == chosen { " selected" } else { "" };
            let _ = write!(
                out,
                "<option value=\"{value}\"{sel}>{}</option>",
                value.replace('_', " ")
            );
        }
        out.push_str("</select></span>");
        out
    };
    let input = |name: &str, label: &str, kind: &str, hint: &str, value: &str| {
        format!(
            "<span class=\"field\"><label for=\"a-{name}\">{label}</label><input id=\"a-{name}\" \
             name=\"{name}\" type=\"{kind}\" placeholder=\"{hint}\" value=\"{}\"></span>",
            escape(value)
        )
    };
    let statuses: Vec<&str> = AlertStatus::ALL.iter().map(|s| s.as_str()).collect();
    let severities: Vec<&str> = Severity::ALL.iter().rev().map(|s| s.as_str()).collect();
    let kinds: Vec<&str> = AlertKind::ALL.iter().map(|k| k.as_str()).collect();
    let reset = if *f == AlertForm::default() {
        ""
    } else {
        " <a href=\"/alerts\">reset</a>"
    };
    format!(
        "<form class=\"filters stacked\" method=\"get\" action=\"/alerts\">{}{}{}{}{}{}{}\
         <button type=\"submit\">Apply</button>{reset}</form>\n",
        select("status", "Status", &statuses, &f.status),
        select(
            "min_severity",
            "Severity at least",
            &severities,
            &f.min_severity
        ),
        select("kind", "Kind", &kinds, &f.kind),
        input("ip", "Address or CIDR", "text", "127.0.0.0/24", &f.ip),
        input("q", "Text", "search", "message, note", &f.q),
        input("since", "From", "date", "", &f.since),
        input("until", "To", "date", "", &f.until),
    )
}
