//! What a run does once its snapshot is scanned (or a sharded run's parts put together):
//! confirm, TLS pass, save, compare, alerts, notifications, reports, retention.

use jiff::Timestamp;
use log::info;

use super::{
    BatchError, Recheck, RunOptions, RunOutput, confirm, create_output_dir, report_dir, retention,
    tls,
};
use crate::alerts::{self, AlertRules};
use crate::config::Config;
use crate::delta::Delta;
use crate::history;
use crate::notify;
use crate::report;
use crate::snapshot::Snapshot;
use crate::store::Store;

/// Everything after the scan, with the writer lock held: confirm the candidate changes, run
/// the TLS pass, save (as the finalized snapshot of sharded run `finalizes` when given),
/// compare, raise/resolve alerts, notify, write the reports, apply retention.
pub fn commit(
    config: &Config,
    store: &mut Store,
    recheck: &Recheck,
    mut snapshot: Snapshot,
    opts: &RunOptions,
    finalizes: Option<&str>,
) -> Result<RunOutput, BatchError> {
    create_output_dir(config)?;
    let out_dir = &config.output_dir;
    // What the run is compared with: loaded once for the re-check and the delta.
    let previous = history::previous_of_unsaved(store, &snapshot)?;
    let confirmation = if config.batch.confirm {
        confirm::confirm(
            recheck,
            previous.as_ref(),
            &mut snapshot,
            &opts.delta,
            config.batch.confirm_max,
        )
    } else {
        confirm::Confirmation::default()
    };
    let tls = tls::pass(config, &mut snapshot);
    // The delta is stored in the snapshot's transaction, for the readers (dashboard, delta
    // routes, timelines); a sharded run's is marked finalized in it too.
    let (id, delta) = match finalizes {
        None => history::save_with_delta(store, &mut snapshot, previous.as_ref(), &opts.delta)?,
        Some(run_id) => history::save_finalized_with_delta(
            store,
            run_id,
            &mut snapshot,
            previous.as_ref(),
            &opts.delta,
        )?
        .ok_or_else(|| BatchError::FinalizedElsewhere(run_id.to_string()))?,
    };
    drop(previous);
    info!(
        "saved snapshot {id} ({}): {} up, {}",
        snapshot.status.as_str(),
        report::text::count(snapshot.hosts_up() as u64, "host"),
        report::text::count(snapshot.open_ports() as u64, "open port")
    );
    let gone_after = config.alerts.gone_after_runs;
    let gone_held = if gone_after > 1 {
        let earlier = history::earlier_runs(
            store,
            id,
            alerts::gone::runs_needed(gone_after),
            &opts.delta,
        )?;
        let runs: Vec<(&Snapshot, &Delta)> = std::iter::once((&snapshot, &delta))
            .chain(earlier.iter().map(|(s, d)| (s, d)))
            .collect();
        Some(alerts::gone::held(&runs, gone_after))
    } else {
        None
    };
    let rules = AlertRules {
        cert_expiry_days: config.alerts.cert_expiry_days,
        now: Timestamp::now(),
        min_grade: config.tls.min_grade,
        self_signed: config.alerts.self_signed,
        previous_certs: tls::previous_certs(store.latest_port_tls(Some(id))?),
        open_port_min_severity: config.alerts.open_port_min_severity,
        gone_held,
    };
    let evaluation = alerts::evaluate(&snapshot, &delta, &opts.delta, &rules);
    let alerts = store.sync_alerts_and_enqueue(
        id,
        |unresolved| alerts::sync::plan(unresolved, id, &snapshot.profile, &evaluation),
        |sync| notify::enqueue(config, &snapshot, &delta, &opts.delta, sync),
    )?;
    if !alerts.raised.is_empty() || !alerts.resolved.is_empty() {
        info!(
            "alerts: {} raised, {} resolved, {} seen again",
            alerts.raised.len(),
            alerts.resolved.len(),
            alerts.refreshed
        );
    }
    // Sent as soon as the alerts and their notifications are committed: a report that cannot
    // be written later must not hold them up. The flush also retries earlier runs' pending
    // notifications.
    let env = |key: &str| std::env::var(key).ok();
    let webhooks = notify::flush(store, config, &env, opts.backoff);
    let timeline = history::timeline(
        store,
        history::CHART_POINTS,
        Some(&snapshot.profile),
        Some(id),
        &opts.delta,
    )?;
    let report_dir = report_dir(out_dir, snapshot.started_at)?;
    report::write_run_files(&report_dir, &snapshot, &delta, &timeline).map_err(|source| {
        BatchError::Output {
            path: report_dir.clone(),
            source,
        }
    })?;
    let pruned = retention(store, out_dir, config.batch.retention_days, opts.keep)?;
    Ok(RunOutput {
        snapshot,
        delta,
        timeline,
        report_dir,
        pruned,
        alerts,
        webhooks,
        confirmation,
        tls,
        sharded: None,
    })
}
