//! Two XML files compared with each other: both are parsed at once, each on its own thread, and
//! matched address by address as their hosts arrive. Every TO host is kept (the score and the
//! report need the whole of TO); a FROM host is left out when it is its address's only report
//! on both sides and equal to its TO counterpart in everything trimming keeps, so it cannot
//! change anything. Files listing hosts in the same order, as nmap's do, hold only a few batches
//! of FROM hosts waiting for their counterpart; at most [`MAX_PENDING`] wait in any case.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::Path;
use std::sync::mpsc::{TryRecvError, sync_channel};

use super::{DiffError, Lean, parse_trimmed};
use crate::model::Host;
use crate::snapshot::{Snapshot, host_ip};

/// Hosts handed from a parser thread to the matcher at once.
const BATCH: usize = 256;
/// Batches the TO thread may run ahead of the matcher.
const QUEUE: usize = 64;
/// FROM hosts that may wait for their TO counterpart before FROM waits for TO.
const MAX_PENDING: usize = 16_384;

/// What became of an address's FROM report(s) so far.
enum FromState {
    /// One report, TO's not seen yet: (position in FROM, the report).
    Pending(usize, Box<Host>),
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
    /// FROM hosts in [`FromState::Pending`].
    pending: usize,
    listed: Vec<IpAddr>,
}

impl Matcher {
    fn take_from(&mut self, h: Host) {
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
                    None if !self.to_done => {
                        self.pending += 1;
                        FromState::Pending(seq, Box::new(h))
                    }
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

    fn take_to(&mut self, h: Host) {
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
            Some(FromState::Pending(seq, from)) if first && *from == self.to_hosts[index] => {
                self.pending -= 1;
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
            FromState::Pending(seq, h) => {
                self.pending -= 1;
                self.kept.push((seq, *h));
            }
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
                FromState::Pending(seq, h) => self.kept.push((seq, *h)),
                FromState::Kept => {}
            }
        }
        self.kept.sort_by_key(|(seq, _)| *seq);
        let kept = self.kept.into_iter().map(|(_, h)| h).collect();
        (kept, self.to_hosts, self.listed, skipped)
    }
}

/// Reads FROM and TO concurrently: FROM's hosts that could differ (a [`Lean`]) and the whole of
/// TO. TO is parsed on a thread of its own, FROM on the calling thread, which takes in TO's
/// hosts as they arrive without waiting for them, unless more than [`MAX_PENDING`] FROM hosts
/// wait for their counterpart (then it waits for TO, which bounds memory).
pub(super) fn load_pair(from: &Path, to: &Path) -> Result<(Lean, Snapshot), DiffError> {
    std::thread::scope(|scope| {
        let (tx, rx) = sync_channel::<Vec<Host>>(QUEUE);
        let to_path = to.to_path_buf();
        let to_thread = scope.spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            let mut s = parse_trimmed(&to_path, |h| {
                batch.push(h);
                if batch.len() == BATCH {
                    // A closed channel means FROM failed: the rest is not needed.
                    let _ = tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
                }
            })?;
            if !batch.is_empty() {
                let _ = tx.send(batch);
            }
            s.hosts = Vec::new();
            Ok::<_, DiffError>(s)
        });
        let mut m = Matcher::default();
        let take = |m: &mut Matcher, batch: Option<Vec<Host>>| match batch {
            Some(batch) => batch.into_iter().for_each(|h| m.take_to(h)),
            None => m.to_done = true,
        };
        let mut a = parse_trimmed(from, |h| {
            while !m.to_done {
                match rx.try_recv() {
                    Ok(batch) => take(&mut m, Some(batch)),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => take(&mut m, None),
                }
            }
            m.take_from(h);
            while m.pending > MAX_PENDING && !m.to_done {
                take(&mut m, rx.recv().ok());
            }
        })?;
        while !m.to_done {
            take(&mut m, rx.recv().ok());
        }
        let mut b = to_thread.join().unwrap_or_else(|_| {
            Err(DiffError::Thread {
                what: to.display().to_string(),
            })
        })?;
        let (kept, to_hosts, listed, skipped) = m.finish();
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
