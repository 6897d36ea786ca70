//! `/runs/{id}`: one run in the browser: its score and delta, what it covered and what it
//! could not compare, the alerts it raised and resolved, and links to its four files.

use std::fmt::Write as _;

use super::*;
use crate::report::text::plural;
use crate::store::Alert;

use super::alerts_view::alert_rows_table;

/// Most target rows listed (a run over a /16 of single addresses has 65,536).
const MAX_TARGET_ROWS: usize = 500;

/// What the run page shows.
pub struct RunView<'a> {
    /// The run, loaded for comparison (targets, hosts, open ports).
    pub snapshot: &'a Snapshot,
    pub delta: &'a Delta,
    pub raised: &'a [Alert],
    pub resolved: &'a [Alert],
    /// The run's files still on disk (names from [`crate::report::run_files::FILES`]);
    /// `None` when its folder is gone.
    pub files: Option<Vec<&'static str>>,
}

/// The whole run page.
pub fn render(v: &RunView<'_>) -> String {
    let s = v.snapshot;
    let id = s.id.unwrap_or_default();
    let mut body = nav("run");
    let compared = match v.delta.from.as_ref().and_then(|f| f.snapshot) {
        Some(prev) => format!("compared with <a href=\"/runs/{prev}\">run #{prev}</a>"),
        None => "baseline (nothing earlier to compare with)".to_string(),
    };
    let _ = writeln!(
        body,
        "<h1>Run #{id}</h1>\n<p class=\"meta\">profile <b>{}</b> &middot; started {} &middot; \
         {} target{}, {} host{} up, {} open port{} &middot; {compared}</p>",
        escape(&s.profile),
        escape(&crate::report::text::time(s.started_at)),
        s.targets.len(),
        plural(s.targets.len()),
        s.hosts_up(),
        plural(s.hosts_up()),
        s.open_ports(),
        plural(s.open_ports()),
    );
    body.push_str(&files_nav(id, v.files.as_deref()));
    body.push_str("<div class=\"cards\">\n");
    body.push_str(&score_card(&v.delta.score, v.delta.status));
    body.push_str(&summary_card(v.delta));
    body.push_str("</div>\n");
    if let Some(note) = &v.delta.note {
        let _ = writeln!(body, "<p class=\"note\">{}</p>", escape(note));
    }
    body.push_str("<h2>Changes</h2>\n");
    body.push_str(&changes_table(&v.delta.changes));
    let _ = writeln!(
        body,
        "<h2 id=\"raised\">Alerts raised <span class=\"meta\">({})</span></h2>",
        v.raised.len()
    );
    body.push_str(&alert_rows_table(v.raised, "This run raised no alert."));
    let _ = writeln!(
        body,
        "<h2 id=\"resolved\">Alerts resolved <span class=\"meta\">({})</span></h2>",
        v.resolved.len()
    );
    body.push_str(&alert_rows_table(v.resolved, "This run resolved no alert."));
    body.push_str("<h2>Coverage</h2>\n");
    body.push_str(&coverage(s));
    body.push_str("<h2>Not compared</h2>\n");
    body.push_str(&not_compared_table(&v.delta.not_compared, s));
    if !v.delta.score.entries.is_empty() {
        body.push_str("<h2>Score by targets.txt entry</h2>\n");
        body.push_str(&entry_scores_table(&v.delta.score));
    }
    page(&format!("Run #{id} ({})", s.profile), &body)
}

/// The page for a run that is not stored (never was, or retention deleted it); `shown` is the
/// id as asked (escaped here).
pub fn missing(shown: &str) -> String {
    let shown: String = shown.chars().take(40).collect();
    let id = escape(&shown);
    let mut body = nav("run");
    let _ = writeln!(
        body,
        "<h1>Run #{id}</h1>\n<p class=\"none\">No run #{id} is stored: it never existed, or \
         retention deleted it (with its report folder). The <a href=\"/\">dashboard</a> \
         timeline lists the runs there are.</p>"
    );
    page(&format!("Run #{shown} not found"), &body)
}

/// Links to the run's files, or why there are none.
fn files_nav(id: i64, files: Option<&[&'static str]>) -> String {
    match files {
        Some(names) if !names.is_empty() => {
            let links: Vec<String> = names
                .iter()
                .map(|n| format!("<a href=\"/runs/{id}/files/{n}\">{n}</a>"))
                .collect();
            format!(
                "<nav class=\"exports\" aria-label=\"Run files\"><b>Files</b> {} \
                 <span class=\"sep\">|</span> <a href=\"/api/runs/{id}\">JSON</a> \
                 <a href=\"/api/snapshots/{id}/delta?format=csv\">delta CSV</a></nav>\n",
                links.join(" ")
            )
        }
        _ => format!(
            "<p class=\"meta\">This run's report folder is no longer on disk (pruned, or written \
             under another output directory). <a href=\"/api/runs/{id}\">JSON</a></p>\n"
        ),
    }
}

/// How many targets completed, and every target that did not.
fn coverage(s: &Snapshot) -> String {
    let total = s.targets.len();
    let incomplete: Vec<_> = s.targets.iter().filter(|t| !t.is_completed()).collect();
    let mut out = format!(
        "<p>{} of {total} target{} completed.</p>\n",
        total - incomplete.len(),
        plural(total)
    );
    if incomplete.is_empty() {
        return out;
    }
    let mut rows = String::new();
    for t in incomplete.iter().take(MAX_TARGET_ROWS) {
        let _ = writeln!(
            rows,
            "<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td><td class=\"mono\">{}</td></tr>",
            escape(&t.target),
            escape(&t.entry),
            t.status.as_str(),
            escape(t.error.as_deref().unwrap_or(""))
        );
    }
    let _ = writeln!(
        out,
        "<div class=\"scroll\"><table><thead><tr><th>Target</th><th>Entry</th><th>Status</th>\
         <th>Error</th></tr></thead><tbody>\n{rows}</tbody></table></div>"
    );
    out
}
