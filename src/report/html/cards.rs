//! The dashboard's entry cards: one per `targets.txt` entry as of its latest scan, with its
//! own score, status and change counts, and the filter and sort the page offers.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::Timestamp;

use crate::delta::{Band, Change, ChangeKind, Delta, DeltaStatus, Summary};
use crate::history::TimelineRow;
use crate::snapshot::entries::{
    EntryCount, Key, entry_counts, in_ranges, key, merged_ranges, up_hosts,
};
use crate::snapshot::{Snapshot, TargetRecord};
use crate::store::SnapshotSummary;

/// The latest snapshot of one profile and its delta against the previous one.
pub struct ProfileState {
    /// Its head and targets; `hosts` may be left empty (`up_hosts` and the counts say what the
    /// page needs of them), so a large snapshot's hosts need not be loaded.
    pub snapshot: Snapshot,
    pub delta: Delta,
    /// Per entry of its targets, the up hosts and open ports they cover (stored with the
    /// delta, or counted from the hosts).
    pub entries: BTreeMap<String, EntryCount>,
    pub hosts_up: usize,
    pub open_ports: usize,
}

impl ProfileState {
    /// The state of a snapshot loaded with its hosts.
    pub fn new(snapshot: Snapshot, delta: Delta) -> ProfileState {
        ProfileState {
            entries: entry_counts(&snapshot.targets, &up_hosts(&snapshot)),
            hosts_up: snapshot.hosts_up(),
            open_ports: snapshot.open_ports(),
            snapshot,
            delta,
        }
    }
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
    /// By entry name, A to Z.
    Name,
}

impl Sort {
    pub const NAMES: [&'static str; 4] = ["score", "recent", "oldest", "name"];

    pub fn parse(s: &str) -> Option<Sort> {
        match s {
            "score" => Some(Sort::Score),
            "recent" => Some(Sort::Recent),
            "oldest" => Some(Sort::Oldest),
            "name" => Some(Sort::Name),
            _ => None,
        }
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Sort::Score => "score",
            Sort::Recent => "recent",
            Sort::Oldest => "oldest",
            Sort::Name => "name",
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
    /// Targets of the entry in that snapshot, and how many of them did not complete.
    pub targets: usize,
    pub targets_failed: usize,
    /// The entry's changes (whose address its targets cover).
    pub changes: Vec<Change>,
    /// Candidate changes on the entry's addresses that the confirmation re-check dropped.
    pub unconfirmed: usize,
}

/// One card per entry of the given snapshots (newest first); an entry scanned by several
/// profiles shows its most recent scan. Changes and hosts count for every entry whose
/// targets cover their address.
///
/// Changes are looked up by binary search in each entry's merged address ranges (see
/// [`crate::snapshot::entries`]), so a snapshot of 65,536 hosts and as many entries costs
/// O((changes + targets) log n), not changes × targets; hosts are counted per entry already.
pub fn entry_cards(states: &[ProfileState]) -> Vec<EntryCard> {
    let mut cards: Vec<EntryCard> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();
    for state in states {
        let (snap, delta) = (&state.snapshot, &state.delta);
        let mut by_entry: HashMap<&str, Vec<&TargetRecord>> = HashMap::new();
        for t in &snap.targets {
            by_entry.entry(t.entry.as_str()).or_default().push(t);
        }
        let mut changes: Vec<(Key, &Change)> = delta
            .changes
            .iter()
            .filter_map(|c| Some((key(c.ip.parse().ok()?), c)))
            .collect();
        changes.sort_by_key(|(k, _)| *k);
        let mut unconfirmed: Vec<(Key, ())> = delta
            .unconfirmed
            .iter()
            .filter_map(|u| Some((key(u.ip.parse().ok()?), ())))
            .collect();
        unconfirmed.sort_unstable_by_key(|(k, _)| *k);
        for score in &delta.score.entries {
            if let Some(&i) = position.get(&score.entry)
                && cards[i].started_at >= snap.started_at
            {
                continue;
            }
            let targets = by_entry
                .get(score.entry.as_str())
                .map_or(&[][..], Vec::as_slice);
            let ranges = merged_ranges(targets);
            let mine: Vec<Change> = in_ranges(&changes, &ranges).map(|c| (*c).clone()).collect();
            let count = |kind| mine.iter().filter(|c| c.kind == kind).count();
            let names: HashSet<&str> = targets.iter().map(|t| t.target.as_str()).collect();
            let targets_failed = targets
                .iter()
                .filter(|t| t.status != crate::snapshot::TargetStatus::Completed)
                .count();
            let up = state.entries.get(&score.entry).copied().unwrap_or_default();
            let card = EntryCard {
                entry: score.entry.clone(),
                profile: snap.profile.clone(),
                snapshot: snap.id,
                started_at: snap.started_at,
                score: score.score,
                band: score.band,
                status: DeltaStatus::of(&mine),
                ports_opened: count(ChangeKind::PortOpened),
                ports_closed: count(ChangeKind::PortClosed),
                services_changed: count(ChangeKind::ServiceChanged),
                new_hosts: count(ChangeKind::NewHost),
                gone_hosts: count(ChangeKind::HostGone),
                not_compared: delta
                    .not_compared
                    .iter()
                    .filter(|n| names.contains(n.target.as_str()))
                    .count(),
                hosts_up: up.hosts_up,
                open_ports: up.open_ports,
                targets: targets.len(),
                targets_failed,
                changes: mine,
                unconfirmed: in_ranges(&unconfirmed, &ranges).count(),
            };
            match position.get(&card.entry) {
                Some(&i) => cards[i] = card,
                None => {
                    position.insert(card.entry.clone(), cards.len());
                    cards.push(card);
                }
            }
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
        Sort::Name => cards.sort_by(|a, b| a.entry.cmp(&b.entry)),
        Sort::Oldest => cards.sort_by(|a, b| {
            a.started_at
                .cmp(&b.started_at)
                .then_with(|| a.entry.cmp(&b.entry))
        }),
    }
    cards
}

/// One snapshot of one entry, for the entry's page and its JSON/CSV twin: the timeline row
/// narrowed to the entry (its hosts, open ports, score and change counts) and its changes.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EntryPoint {
    #[serde(flatten)]
    pub row: TimelineRow,
    pub changes: Vec<Change>,
}

/// The [`EntryPoint`] of `entry` in `state` (whose listing line is `summary`), or `None`
/// when that snapshot did not scan the entry.
pub fn entry_point(
    state: &ProfileState,
    summary: &SnapshotSummary,
    entry: &str,
) -> Option<EntryPoint> {
    let card = entry_cards(std::slice::from_ref(state))
        .into_iter()
        .find(|c| c.entry == entry)?;
    let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    Some(EntryPoint {
        row: TimelineRow {
            snapshot: SnapshotSummary {
                hosts_up: count(card.hosts_up),
                open_ports: count(card.open_ports),
                targets_total: count(card.targets),
                targets_failed: count(card.targets_failed),
                ..summary.clone()
            },
            score: card.score,
            band: card.band,
            compared_with: state.delta.from.as_ref().and_then(|f| f.snapshot),
            delta_status: card.status,
            changes: Summary {
                new_hosts: card.new_hosts,
                gone_hosts: card.gone_hosts,
                ports_opened: card.ports_opened,
                ports_closed: card.ports_closed,
                services_changed: card.services_changed,
                not_compared: card.not_compared,
                unconfirmed: card.unconfirmed,
            },
        },
        changes: card.changes,
    })
}
