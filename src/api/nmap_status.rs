//! Whether nmap is usable, as `/api/health` and `POST /api/scan` see it.
//!
//! Probing runs `nmap --version`, which takes tens of milliseconds, so the answer is cached:
//! readers get the last result at once and, when it is older than the refresh interval, one
//! background thread probes again. No reader ever waits for a probe (or for a scan), which
//! keeps health checks fast while every scan slot is busy.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How `nmap --version` is run: returns the version, or why nmap is unusable.
pub type ProbeFn = dyn Fn() -> Result<String, String> + Send + Sync;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NmapStatus {
    /// The version nmap reported, or `None` when it could not be run.
    pub version: Option<String>,
    /// Why nmap is unusable (for the log; never sent to clients).
    pub problem: Option<String>,
}

impl NmapStatus {
    pub fn available(&self) -> bool {
        self.version.is_some()
    }

    fn from_probe(result: Result<String, String>) -> Self {
        match result {
            Ok(v) => NmapStatus {
                version: Some(v),
                problem: None,
            },
            Err(e) => NmapStatus {
                version: None,
                problem: Some(e),
            },
        }
    }
}

pub struct NmapProbe {
    probe: Box<ProbeFn>,
    refresh_after: Duration,
    cached: Mutex<(NmapStatus, Instant)>,
    refreshing: AtomicBool,
}

impl NmapProbe {
    /// Probes once now (start-up wants to log the result), then caches.
    pub fn new(probe: Box<ProbeFn>, refresh_after: Duration) -> Arc<Self> {
        let first = NmapStatus::from_probe(probe());
        Arc::new(NmapProbe {
            probe,
            refresh_after,
            cached: Mutex::new((first, Instant::now())),
            refreshing: AtomicBool::new(false),
        })
    }

    /// The cached status; starts a background refresh when it is stale.
    pub fn status(self: &Arc<Self>) -> NmapStatus {
        let (status, at) = self
            .cached
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if at.elapsed() >= self.refresh_after && !self.refreshing.swap(true, Ordering::AcqRel) {
            let this = Arc::clone(self);
            let spawned = std::thread::Builder::new()
                .name("nmap-probe".into())
                .spawn(move || this.refresh());
            if spawned.is_err() {
                self.refreshing.store(false, Ordering::Release);
            }
        }
        status
    }

    fn refresh(&self) {
        let fresh = NmapStatus::from_probe((self.probe)());
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        if cached.0 != fresh {
            match &fresh.problem {
                None => log::info!(
                    "nmap is available: {}",
                    fresh.version.as_deref().unwrap_or("")
                ),
                Some(p) => log::warn!("nmap is unusable: {p}"),
            }
        }
        *cached = (fresh, Instant::now());
        drop(cached);
        self.refreshing.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn caches_then_refreshes_in_the_background() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let probe = NmapProbe::new(
            Box::new(move || {
                let n = c.fetch_add(1, Ordering::SeqCst);
                if n == 0 {
                    Err("not found".into())
                } else {
                    Ok("7.93".into())
                }
            }),
            Duration::from_millis(20),
        );
        assert!(!probe.status().available());
        assert_eq!(calls.load(Ordering::SeqCst), 1, "fresh cache: no new probe");
        std::thread::sleep(Duration::from_millis(30));
        // Stale: the caller still gets the cached answer at once; the refresh happens behind.
        assert!(!probe.status().available());
        let deadline = Instant::now() + Duration::from_secs(5);
        while !probe.status().available() {
            assert!(Instant::now() < deadline, "refresh never landed");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(probe.status().version.as_deref(), Some("7.93"));
    }
}
