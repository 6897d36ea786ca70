//! The dashboard's entry cards: one per `targets.txt` entry as of its latest scan, with its
//! own score, status and change counts, and the filter and sort the page offers.

use std::net::IpAddr;

use jiff::Timestamp;

use crate::delta::{Band, Change, ChangeKind, Delta, DeltaStatus};
use crate::snapshot::Snapshot;

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

    pub(super) fn as_str(self) -> &'static str {
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

    pub(super) fn as_str(self) -> &'static str {
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
    pub(super) fn is_default(&self) -> bool {
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
