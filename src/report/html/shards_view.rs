//! The dashboard's panel of sharded runs still waiting for shards (or for their finish):
//! which shards are in, running or missing, and what closes the run.

use std::fmt::Write as _;

use super::escape;
use crate::report::runs::state;
use crate::report::text::time;
use crate::store::ShardRun;

/// The panel, or nothing when no sharded run is waiting.
pub(super) fn waiting_runs(runs: &[ShardRun]) -> String {
    if runs.is_empty() {
        return String::new();
    }
    let mut rows = String::new();
    for r in runs {
        let missing: Vec<String> = r.missing_shards().iter().map(u32::to_string).collect();
        let _ = writeln!(
            rows,
            "<tr><td class=\"mono\">{}</td><td>{}</td><td>{} of {}</td><td>{}</td>\
             <td>{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
            escape(&r.run_id),
            time(r.created_at),
            r.stored(),
            r.shards,
            r.running(),
            r.failed(),
            if missing.is_empty() {
                "none".to_string()
            } else {
                missing.join(", ")
            },
            state(r),
        );
    }
    format!(
        "<h2 id=\"sharded-runs\">Sharded runs in progress <span class=\"meta\">({})</span></h2>\n\
         <div class=\"scroll\"><table class=\"alerts\"><caption class=\"meta\">A run's snapshot appears once its last \
         shard is in. <span class=\"mono\">daily_scan finalize --run-id RUN</span> closes it \
         without the missing shards: their targets are not compared, never closed or gone.\
         </caption>\n<thead><tr><th scope=\"col\">Run</th><th scope=\"col\">Started</th>\
         <th scope=\"col\">Shards in</th><th scope=\"col\">Running</th>\
         <th scope=\"col\">Failed</th><th scope=\"col\">Not in</th><th scope=\"col\">State</th>\
         </tr></thead>\n<tbody>\n{rows}</tbody></table></div>\n",
        runs.len()
    )
}
