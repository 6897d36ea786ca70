//! `GET /`: the dashboard, rendered on the server from the database (see
//! [`crate::report::html::dashboard`]). Filters come as query parameters of a plain form:
//! `status`, `band`, `sort`, `q`.

use rouille::{Request, Response};

use super::query::Query;
use crate::api::error::ApiError;
use crate::api::respond::{html_response, open_store};
use crate::api::state::State;
use crate::delta::DeltaStatus;
use crate::history::{self, CHART_POINTS, timeline};
use crate::model::AlertStatus;
use crate::report::certificates::{self, CertPolicy, CertificateRow};
use crate::report::html::dashboard;
use crate::store::{AlertFilter, Store, StoreError};

/// Profiles shown (the latest snapshot of each), alerts listed, and history points charted.
const MAX_PROFILES: usize = 20;
const MAX_ALERT_ROWS: usize = 100;
const MAX_ALERTS_COUNTED: usize = 10_000;
/// Newest sharded runs looked at for the "in progress" panel.
const MAX_SHARDED_RUNS: u32 = 10;
/// Longest search text kept.
const MAX_SEARCH_CHARS: usize = 200;

pub fn page(state: &State, request: &Request) -> Result<Response, ApiError> {
    // A bad filter in a browser re-renders the page with the message (and default filters),
    // not a JSON error the user cannot act on.
    let (filter, message) = match card_filter(request) {
        Ok(filter) => (filter, None),
        Err(e) => (dashboard::CardFilter::default(), Some(e.message)),
    };
    let html = match open_store(&state.database)? {
        Some(store) => render(state, &store, &filter, message.as_deref())
            .map_err(|e| ApiError::from_store(&e))?,
        None => dashboard::render(&dashboard::Dashboard {
            states: &[],
            timeline: &[],
            alerts: &[],
            open_alerts: 0,
            certificates: &[],
            filter: &filter,
            message: message.as_deref(),
            sharded: &[],
        }),
    };
    let response = html_response(html, Some(dashboard::SCRIPT));
    Ok(if message.is_some() {
        response.with_status_code(400)
    } else {
        response
    })
}

fn card_filter(request: &Request) -> Result<dashboard::CardFilter, ApiError> {
    let q = Query::parse(request, &["status", "band", "sort", "q"])?;
    Ok(dashboard::CardFilter {
        status: match q.choice("status", &["critical", "changes", "stable", "failed"])? {
            Some("critical") => Some(DeltaStatus::Critical),
            Some("changes") => Some(DeltaStatus::Changes),
            Some("failed") => Some(DeltaStatus::Failed),
            Some(_) => Some(DeltaStatus::Stable),
            None => None,
        },
        band: q
            .choice("band", &dashboard::BandFilter::NAMES)?
            .and_then(dashboard::BandFilter::parse),
        sort: q
            .choice("sort", &dashboard::Sort::NAMES)?
            .and_then(dashboard::Sort::parse)
            .unwrap_or_default(),
        search: q
            .get("q")
            .unwrap_or("")
            .chars()
            .take(MAX_SEARCH_CHARS)
            .collect(),
    })
}

fn render(
    state: &State,
    store: &Store,
    filter: &dashboard::CardFilter,
    message: Option<&str>,
) -> Result<String, StoreError> {
    let delta_config = &state.delta_config;
    let mut states = Vec::new();
    for id in store.latest_per_profile()?.into_iter().take(MAX_PROFILES) {
        // Head and targets, and per entry its up hosts and open ports (stored with the delta):
        // not every host.
        let snapshot = store.load_snapshot_head(id)?;
        let delta = history::delta_of_id(store, id, delta_config)?;
        let counts = store.snapshot_summary(id)?;
        let entries = history::entry_counts(store, id, &snapshot.targets)?;
        states.push(dashboard::ProfileState {
            snapshot,
            delta,
            entries,
            hosts_up: usize::try_from(counts.hosts_up).unwrap_or(usize::MAX),
            open_ports: usize::try_from(counts.open_ports).unwrap_or(usize::MAX),
        });
    }
    let history = match states.first() {
        Some(s) => timeline(
            store,
            CHART_POINTS,
            Some(&s.snapshot.profile),
            None,
            delta_config,
        )?,
        None => Vec::new(),
    };
    let mut alerts = store.list_alerts(&AlertFilter {
        status: Some(AlertStatus::Open),
        limit: Some(MAX_ALERTS_COUNTED),
        ..AlertFilter::default()
    })?;
    let open_alerts = alerts.len();
    alerts.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.id.cmp(&a.id)));
    alerts.truncate(MAX_ALERT_ROWS);
    let policy = CertPolicy {
        now: jiff::Timestamp::now(),
        expiring_within: state.cert_expiry_days,
        min_grade: state.min_grade,
    };
    let mut certificates = certificates::of_ports(&store.latest_port_tls(None)?, &policy);
    certificates.retain(CertificateRow::flagged);
    certificates::sort_by_urgency(&mut certificates);
    let mut sharded = store.shard_runs(None, MAX_SHARDED_RUNS)?;
    sharded.retain(|r| r.finalized_at.is_none());
    Ok(dashboard::render(&dashboard::Dashboard {
        states: &states,
        timeline: &history,
        alerts: &alerts,
        open_alerts,
        certificates: &certificates,
        filter,
        message,
        sharded: &sharded,
    }))
}
