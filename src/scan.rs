//! The scan engine owned by `api_server`: runs the nmap work of every request on its own rayon
//! pool, never more than `max_concurrent_scans` nmap processes at once across all requests.

pub mod capacity;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::config::Config;
pub use capacity::{AcquireError, Capacity, Reservation};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot start the scan thread pool: {0}")]
    Pool(String),
}

pub struct ScanEngine {
    pool: rayon::ThreadPool,
    capacity: Capacity,
    /// nmap processes alive now (for health and metrics; read without any lock).
    running: AtomicUsize,
    queue_timeout: Duration,
}

impl ScanEngine {
    pub fn new(config: &Config) -> Result<Self, EngineError> {
        let max = config.api.max_concurrent_scans;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(max)
            .thread_name(|i| format!("scan-{i}"))
            .build()
            .map_err(|e| EngineError::Pool(e.to_string()))?;
        Ok(ScanEngine {
            pool,
            capacity: Capacity::new(max),
            running: AtomicUsize::new(0),
            queue_timeout: Duration::from_secs(config.api.queue_timeout),
        })
    }

    /// nmap processes running now.
    pub fn active_scans(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    pub fn max_concurrent_scans(&self) -> usize {
        self.capacity.max()
    }

    /// Starts no new nmap process from now on: waiting requests are refused, targets of running
    /// requests that have not started yet are reported failed.
    pub fn close(&self) {
        self.capacity.close();
    }
}
