//! Progress of a run: a bar on a terminal, log lines otherwise (cron mail, journald, files).
//!
//! indicatif draws only when stderr is a terminal; elsewhere each finished chunk is logged, and
//! a heartbeat line every [`HEARTBEAT`] says the run is alive while long chunks are running.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use log::info;

/// How often a run without a terminal logs that it is still working.
pub const HEARTBEAT: Duration = Duration::from_secs(60);

/// How a chunk ended, as progress reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkEnd {
    Completed,
    Failed,
    TimedOut,
}

impl ChunkEnd {
    fn as_str(self) -> &'static str {
        match self {
            ChunkEnd::Completed => "completed",
            ChunkEnd::Failed => "failed",
            ChunkEnd::TimedOut => "timed out",
        }
    }
}

pub struct Progress {
    bar: Option<ProgressBar>,
    chunks: usize,
    addresses: u64,
    done_chunks: AtomicUsize,
    done_addresses: AtomicU64,
    problems: AtomicUsize,
    started: Instant,
    stop: Mutex<Option<Sender<()>>>,
}

impl Progress {
    /// A bar when `stderr` is a terminal and `visible`; log lines otherwise.
    pub fn new(chunks: usize, addresses: u64, visible: bool) -> Progress {
        let bar = (visible && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(addresses), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} addresses {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_message(format!("0/{chunks} nmap runs"));
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            chunks,
            addresses,
            done_chunks: AtomicUsize::new(0),
            done_addresses: AtomicU64::new(0),
            problems: AtomicUsize::new(0),
            started: Instant::now(),
            stop: Mutex::new(None),
        }
    }

    /// Runs `work` while a heartbeat thread logs every [`HEARTBEAT`] (log mode only).
    pub fn run<T: Send>(&self, work: impl FnOnce() -> T + Send) -> T {
        if self.bar.is_some() {
            return work();
        }
        std::thread::scope(|scope| {
            let (tx, rx) = channel();
            if let Ok(mut stop) = self.stop.lock() {
                *stop = Some(tx);
            }
            scope.spawn(move || self.heartbeat(&rx));
            let out = work();
            if let Ok(mut stop) = self.stop.lock() {
                stop.take();
            }
            out
        })
    }

    fn heartbeat(&self, rx: &Receiver<()>) {
        loop {
            match rx.recv_timeout(HEARTBEAT) {
                Err(RecvTimeoutError::Timeout) => info!(
                    "still scanning: {}/{} nmap runs done ({}/{} addresses), {} s elapsed",
                    self.done_chunks.load(Ordering::Relaxed),
                    self.chunks,
                    self.done_addresses.load(Ordering::Relaxed),
                    self.addresses,
                    self.started.elapsed().as_secs()
                ),
                _ => return,
            }
        }
    }

    /// Records a finished chunk (`index` is 0-based).
    pub fn chunk_done(&self, index: usize, addresses: u64, end: ChunkEnd, took: Duration) {
        let done = self.done_chunks.fetch_add(1, Ordering::Relaxed) + 1;
        self.done_addresses.fetch_add(addresses, Ordering::Relaxed);
        if end != ChunkEnd::Completed {
            self.problems.fetch_add(1, Ordering::Relaxed);
        }
        match &self.bar {
            Some(bar) => {
                bar.inc(addresses);
                let problems = self.problems.load(Ordering::Relaxed);
                bar.set_message(if problems == 0 {
                    format!("{done}/{} nmap runs", self.chunks)
                } else {
                    format!("{done}/{} nmap runs, {problems} not completed", self.chunks)
                });
            }
            None => info!(
                "nmap run {}/{} {} ({addresses} addresses, {:.1} s); {done}/{} done",
                index + 1,
                self.chunks,
                end.as_str(),
                took.as_secs_f64(),
                self.chunks
            ),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
