//! Two XML files compared with each other: both are parsed at once, each on its own thread, and
//! matched address by address as their hosts arrive. Every TO host is kept (the score and the
//! report need the whole of TO); a FROM host is left out when it is its address's only report
//! on both sides and equal to its TO counterpart in everything trimming keeps, so it cannot
//! change anything. The two streams are consumed in step (the side that has delivered fewer
//! hosts is read next), so files listing hosts in the same order, as nmap's do, hold only a few
//! batches of FROM hosts waiting for their counterpart.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::{DiffError, Lean, parse_trimmed};
use crate::model::Host;
use crate::snapshot::{Snapshot, host_ip};

/// Hosts handed from a parser thread to the matcher at once.
const BATCH: usize = 256;
/// Batches a parser thread may run ahead of the matcher.
const QUEUE: usize = 8;

/// What became of an address's FROM report(s) so far.
enum FromState {
    /// One report, TO's not seen yet: (position in FROM, the report).
    Pending(usize, Host),
    /// One report, equal to TO's one report and left out: its position in FROM.
    Skipped(usize),
    /// Kept (every report of the address from now on is kept too).
    Kept,
}

/// Matches FROM and TO hosts as they come.
#[derive(Default)]
struct Matcher {
    to_hosts: Vec<Host>,
    /// Per TO address: index of its first report, and whether it has more than one.
    to_index: HashMap<IpAddr, (usize, bool)>,
    to_done: bool,
    from_state: HashMap<IpAddr, FromState>,
    /// FROM hosts kept, with their position in FROM (to restore the file's order).
    kept: Vec<(usize, Host)>,
    from_seen: usize,
    listed: Vec<IpAddr>,
}

impl Matcher {
    fn from_host(&mut self, h: Host) {
        let seq = self.from_seen;
        self.from_seen += 1;
        let Some(ip) = host_ip(&h) else {
            self.kept.push((seq, h));
            return;
        };
        self.listed.push(ip);
        match self.from_state.remove(&ip) {
            None => {
                let state = match self.to_index.get(&ip) {
                    Some(&(i, false)) if self.to_hosts[i] == h => FromState::Skipped(seq),
                    None if !self.to_done => FromState::Pending(seq, h),
                    _ => {
                        self.kept.push((seq, h));
                        FromState::Kept
                    }
                };
                self.from_state.insert(ip, state);
            }
            Some(earlier) => {
                self.restore(ip, earlier);
                self.kept.push((seq, h));
                self.from_state.insert(ip, FromState::Kept);
            }
        }
    }

    fn to_host(&mut self, h: Host) {
        let index = self.to_hosts.len();
        let ip = host_ip(&h);
        self.to_hosts.push(h);
        let Some(ip) = ip else { return };
        let first = match self.to_index.get_mut(&ip) {
            Some(entry) => {
                entry.1 = true;
                false
            }
            None => {
                self.to_index.insert(ip, (index, false));
                true
            }
        };
        match self.from_state.remove(&ip) {
            Some(FromState::Pending(seq, from)) if first && from == self.to_hosts[index] => {
                self.from_state.insert(ip, FromState::Skipped(seq));
            }
            Some(earlier) => {
                self.restore(ip, earlier);
                self.from_state.insert(ip, FromState::Kept);
            }
            None => {}
        }
    }

    /// Keeps the FROM report held back for `ip`: a waiting one, or a copy of the TO report a
    /// left-out one equalled.
    fn restore(&mut self, ip: IpAddr, state: FromState) {
        match state {
            FromState::Pending(seq, h) => self.kept.push((seq, h)),
            FromState::Skipped(seq) => {
                if let Some(&(i, _)) = self.to_index.get(&ip) {
                    self.kept.push((seq, self.to_hosts[i].clone()));
                }
            }
            FromState::Kept => {}
        }
    }

    /// FROM's kept hosts in file order, and the addresses left out.
    fn finish(mut self) -> (Vec<Host>, Vec<Host>, Vec<IpAddr>, HashSet<IpAddr>) {
        let mut skipped = HashSet::new();
        for (ip, state) in std::mem::take(&mut self.from_state) {
            match state {
                FromState::Skipped(_) => {
                    skipped.insert(ip);
                }
                FromState::Pending(seq, h) => self.kept.push((seq, h)),
                FromState::Kept => {}
            }
        }
        self.kept.sort_by_key(|(seq, _)| *seq);
        let kept = self.kept.into_iter().map(|(_, h)| h).collect();
        (kept, self.to_hosts, self.listed, skipped)
    }
}

/// Reads FROM and TO concurrently: FROM's hosts that could differ (a [`Lean`]) and the whole of
/// TO.
pub(super) fn load_pair(from: &Path, to: &Path) -> Result<(Lean, Snapshot), DiffError> {
    std::thread::scope(|scope| {
        let (from_tx, from_rx) = sync_channel::<Vec<Host>>(QUEUE);
        let (to_tx, to_rx) = sync_channel::<Vec<Host>>(QUEUE);
        let reader = |file: &Path, tx: SyncSender<Vec<Host>>| {
            let file = file.to_path_buf();
            move || {
                let mut batch = Vec::with_capacity(BATCH);
                let mut s = parse_trimmed(&file, |h| {
                    batch.push(h);
                    if batch.len() == BATCH {
                        // A closed channel means the matcher stopped: the rest is not needed.
                        let _ = tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
                    }
                })?;
                if !batch.is_empty() {
                    let _ = tx.send(batch);
                }
                s.hosts = Vec::new();
                Ok::<_, DiffError>(s)
            }
        };
        let from_thread = scope.spawn(reader(from, from_tx));
        let to_thread = scope.spawn(reader(to, to_tx));
        let matcher = match_streams(from_rx, to_rx);
        let join = |t: std::thread::ScopedJoinHandle<'_, Result<Snapshot, DiffError>>, p: &Path| {
            t.join().unwrap_or_else(|_| {
                Err(DiffError::Thread {
                    what: p.display().to_string(),
                })
            })
        };
        let mut a = join(from_thread, from)?;
        let mut b = join(to_thread, to)?;
        let (kept, to_hosts, listed, skipped) = matcher.finish();
        a.hosts = kept;
        b.hosts = to_hosts;
        Ok((
            Lean {
                snapshot: a,
                listed,
                skipped,
            },
            b,
        ))
    })
}

/// Feeds both streams to a [`Matcher`], reading next from the side that is behind.
fn match_streams(from: Receiver<Vec<Host>>, to: Receiver<Vec<Host>>) -> Matcher {
    let mut m = Matcher::default();
    let mut from_done = false;
    while !(from_done && m.to_done) {
        let read_from = m.to_done || (!from_done && m.from_seen <= m.to_hosts.len());
        if read_from {
            match from.recv() {
                Ok(batch) => batch.into_iter().for_each(|h| m.from_host(h)),
                Err(_) => from_done = true,
            }
        } else {
            match to.recv() {
                Ok(batch) => batch.into_iter().for_each(|h| m.to_host(h)),
                // What still waits has no TO counterpart: `finish` keeps it.
                Err(_) => m.to_done = true,
            }
        }
    }
    m
}
