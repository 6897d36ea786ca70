//! The global limit on nmap processes: a fair counting semaphore with a deadline.
//!
//! A request reserves all the slots it will use (one per target, at most the limit) in one
//! step, then runs its targets on exactly those slots. Reserving atomically means two requests
//! can never each hold part of what they need and wait for the rest (no deadlock), and
//! waiters are served strictly in arrival order, so a large request is not starved by a stream
//! of small ones. A request that is not at the head with enough free slots by its deadline
//! leaves the queue with [`AcquireError::Timeout`].

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

pub struct Capacity {
    max: usize,
    state: Mutex<State>,
    changed: Condvar,
    closed: AtomicBool,
}

#[derive(Default)]
struct State {
    in_use: usize,
    next_ticket: u64,
    /// Tickets of the waiting requests; the smallest is served first.
    waiting: BTreeSet<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcquireError {
    /// Not enough free slots before the deadline.
    Timeout,
    /// The server is shutting down and starts no new scans.
    Closed,
}

/// Slots held by one request; released on drop.
pub struct Reservation<'a> {
    capacity: &'a Capacity,
    slots: usize,
}

impl std::fmt::Debug for Reservation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Reservation({} slots)", self.slots)
    }
}

impl Reservation<'_> {
    pub fn slots(&self) -> usize {
        self.slots
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut state = self.capacity.lock();
        state.in_use -= self.slots;
        drop(state);
        self.capacity.changed.notify_all();
    }
}

impl Capacity {
    pub fn new(max: usize) -> Self {
        Capacity {
            max: max.max(1),
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            closed: AtomicBool::new(false),
        }
    }

    pub fn max(&self) -> usize {
        self.max
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until `wanted` slots (clamped to 1..=max) are free and this request is first in
    /// line, or until `deadline`.
    pub fn acquire(
        &self,
        wanted: usize,
        deadline: Instant,
    ) -> Result<Reservation<'_>, AcquireError> {
        let slots = wanted.clamp(1, self.max);
        let mut state = self.lock();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.waiting.insert(ticket);
        loop {
            if self.is_closed() {
                state.waiting.remove(&ticket);
                drop(state);
                self.changed.notify_all();
                return Err(AcquireError::Closed);
            }
            let first = state.waiting.first() == Some(&ticket);
            if first && state.in_use + slots <= self.max {
                state.waiting.remove(&ticket);
                state.in_use += slots;
                drop(state);
                // The next in line may fit in what is left.
                self.changed.notify_all();
                return Ok(Reservation {
                    capacity: self,
                    slots,
                });
            }
            let now = Instant::now();
            if now >= deadline {
                state.waiting.remove(&ticket);
                drop(state);
                self.changed.notify_all();
                return Err(AcquireError::Timeout);
            }
            state = self
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Refuses every waiting and future request; held reservations stay valid.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let _guard = self.lock();
        self.changed.notify_all();
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use std::thread;
    use std::time::Duration;

    fn soon(ms: u64) -> Instant {
        Instant::now() + Duration::from_millis(ms)
    }

    #[test]
    fn reservations_are_clamped_and_released_on_drop() {
        let c = Capacity::new(2);
        let r = c.acquire(10, soon(10)).unwrap();
        assert_eq!(r.slots(), 2);
        assert_eq!(c.acquire(1, soon(20)).unwrap_err(), AcquireError::Timeout);
        drop(r);
        assert_eq!(c.acquire(0, soon(10)).unwrap().slots(), 1);
    }

    #[test]
    fn never_more_than_max_slots_in_use() {
        let c = Arc::new(Capacity::new(3));
        let in_use = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..12)
            .map(|i| {
                let (c, in_use, peak) = (c.clone(), in_use.clone(), peak.clone());
                thread::spawn(move || {
                    let r = c.acquire(1 + i % 3, soon(5000)).unwrap();
                    let now = in_use.fetch_add(r.slots(), Ordering::SeqCst) + r.slots();
                    peak.fetch_max(now, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(5));
                    in_use.fetch_sub(r.slots(), Ordering::SeqCst);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert!(peak.load(Ordering::SeqCst) <= 3);
    }

    #[test]
    fn waiters_are_served_in_arrival_order() {
        // A big request queued first is not overtaken by a small one arriving later.
        let c = Arc::new(Capacity::new(2));
        let held = c.acquire(1, soon(10)).unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let big = {
            let (c, order) = (c.clone(), order.clone());
            thread::spawn(move || {
                let _r = c.acquire(2, soon(5000)).unwrap();
                order.lock().unwrap().push("big");
            })
        };
        while c.lock().waiting.is_empty() {
            thread::yield_now();
        }
        let small = {
            let (c, order) = (c.clone(), order.clone());
            thread::spawn(move || {
                let _r = c.acquire(1, soon(5000)).unwrap();
                order.lock().unwrap().push("small");
            })
        };
        while c.lock().waiting.len() < 2 {
            thread::yield_now();
        }
        drop(held);
        big.join().unwrap();
        small.join().unwrap();
        assert_eq!(*order.lock().unwrap(), ["big", "small"]);
    }

    #[test]
    fn a_timed_out_head_lets_the_next_waiter_through() {
        let c = Arc::new(Capacity::new(2));
        let held = c.acquire(1, soon(10)).unwrap();
        let big = {
            let c = c.clone();
            thread::spawn(move || c.acquire(2, soon(50)).map(|r| r.slots()))
        };
        while c.lock().waiting.is_empty() {
            thread::yield_now();
        }
        // The small request waits behind the big one, which gives up at its deadline.
        let small = c.acquire(1, soon(5000)).map(|r| r.slots());
        assert_eq!(small, Ok(1));
        assert_eq!(big.join().unwrap(), Err(AcquireError::Timeout));
        drop(held);
    }

    #[test]
    fn close_refuses_waiters_and_newcomers() {
        let c = Arc::new(Capacity::new(1));
        let held = c.acquire(1, soon(10)).unwrap();
        let waiter = {
            let c = c.clone();
            thread::spawn(move || c.acquire(1, soon(10_000)).map(|r| r.slots()))
        };
        while c.lock().waiting.is_empty() {
            thread::yield_now();
        }
        c.close();
        assert_eq!(waiter.join().unwrap(), Err(AcquireError::Closed));
        assert_eq!(c.acquire(1, soon(10)).unwrap_err(), AcquireError::Closed);
        drop(held);
    }
}
