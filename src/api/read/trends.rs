//! `GET /api/stats/trends`: per snapshot of the last N days its hosts up, open ports, score
//! and changes, from [`crate::history::timeline`].

use jiff::{SignedDuration, Timestamp};
use rouille::{Request, Response};
use serde::Serialize;

use super::query::Query;
use crate::api::error::ApiError;
use crate::api::respond::{Format, csv_response, ok_json, open_store, store_err};
use crate::api::state::State;
use crate::delta::DeltaConfig;
use crate::history::{TimelineRow, timeline};
use crate::report::timeline as timeline_report;
use crate::store::{Store, StoreError};

/// `GET /api/stats/trends`: days when not given, the most, and the most snapshots returned.
pub const DEFAULT_DAYS: u64 = 30;
pub const MAX_DAYS: u64 = 3660;
pub const MAX_TREND_POINTS: usize = 1000;

#[derive(Serialize)]
struct Trends<'a> {
    days: u64,
    profile: Option<&'a str>,
    /// Oldest first.
    snapshots: Vec<TimelineRow>,
}

/// The timeline of the snapshots that started in the last `days` days (of `profile` when
/// given), oldest first, at most [`MAX_TREND_POINTS`] (the newest).
fn recent_timeline(
    store: &Store,
    days: u64,
    profile: Option<&str>,
    delta_config: &DeltaConfig,
) -> Result<Vec<TimelineRow>, StoreError> {
    let hours = i64::try_from(days.saturating_mul(24)).unwrap_or(i64::MAX);
    let cutoff = Timestamp::now()
        .checked_sub(SignedDuration::from_hours(hours))
        .unwrap_or(Timestamp::MIN);
    let mut count = 0usize;
    let mut cursor = None;
    'pages: loop {
        let page = store.list_snapshots(256, cursor)?;
        let Some(last) = page.last() else { break };
        cursor = Some(last.id);
        for s in &page {
            if s.started_at < cutoff || count >= MAX_TREND_POINTS {
                break 'pages;
            }
            count += usize::from(profile.is_none_or(|p| p == s.profile));
        }
    }
    let mut rows = timeline(store, count, profile, None, delta_config)?;
    rows.reverse();
    Ok(rows)
}

/// `GET /api/stats/trends?days=N&profile=&format=`: per snapshot its hosts up, open ports,
/// score and changes.
pub fn get(state: &State, request: &Request) -> Result<Response, ApiError> {
    let q = Query::parse(request, &["days", "profile", "format"])?;
    let days = q.number("days", 1..=MAX_DAYS)?.unwrap_or(DEFAULT_DAYS);
    let profile = q.get("profile");
    let format = q.format()?;
    let rows = match open_store(&state.database)? {
        Some(store) => {
            recent_timeline(&store, days, profile, &state.delta_config).map_err(store_err)?
        }
        None => Vec::new(),
    };
    Ok(match format {
        Format::Json => ok_json(&Trends {
            days,
            profile,
            snapshots: rows,
        }),
        Format::Csv => csv_response("trends.csv", |w| timeline_report::csv(w, &rows)),
    })
}
