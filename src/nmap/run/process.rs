//! The subprocess machinery behind `run` and `probe_version`: spawn in a new process group,
//! drain both pipes on reader threads, enforce the deadline and the stdout cap, kill and reap.

use std::io::{self, Read};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::thread;
use std::time::{Duration, Instant};

use log::{debug, warn};
use process_wrap::std::{ChildWrapper, CommandWrap, ProcessGroup};

use super::STDERR_TAIL_BYTES;
use super::text::TailBuffer;

/// After nmap exits or is killed: how long to wait for it to be reaped and for its pipes to close.
const GRACE: Duration = Duration::from_secs(2);
/// How often the calling thread checks whether nmap has exited while no output arrives.
const POLL: Duration = Duration::from_millis(10);
const READ_CHUNK: usize = 64 * 1024;
/// Chunks in flight between a reader thread and the caller; bounds memory beyond the caps.
const CHANNEL_CHUNKS: usize = 8;

/// How a subprocess run ended, before it is turned into a `RunOutcome` or a `RunError`.
#[derive(Debug)]
pub(super) enum Ending {
    Exited(ExitStatus),
    SpawnFailed(io::Error),
    TimedOut,
    OutputTooLarge,
    /// Something on our side broke (a pipe read, waitpid, a thread spawn): what, and why.
    Broken(&'static str, io::Error),
}

#[derive(Debug)]
pub(super) struct Execution {
    pub(super) ending: Ending,
    /// The leader's exit status, when it was reaped (also after a kill).
    pub(super) status: Option<ExitStatus>,
    pub(super) stdout: Vec<u8>,
    pub(super) stderr: TailBuffer,
    pub(super) duration: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Stdout,
    Stderr,
}

#[derive(Debug)]
enum Message {
    Data(Stream, Vec<u8>),
    Eof,
    Failed(io::Error),
}

/// Output received so far, with the stdout cap applied.
#[derive(Debug)]
struct Collected {
    stdout: Vec<u8>,
    stderr: TailBuffer,
    max_stdout: usize,
    open_streams: usize,
}

impl Collected {
    /// Takes one reader message; returns the ending it forces, if any.
    fn absorb(&mut self, msg: Message) -> Option<Ending> {
        match msg {
            Message::Data(Stream::Stdout, bytes) => {
                if bytes.len() > self.max_stdout.saturating_sub(self.stdout.len()) {
                    return Some(Ending::OutputTooLarge);
                }
                self.stdout.extend_from_slice(&bytes);
            }
            Message::Data(Stream::Stderr, bytes) => self.stderr.push(&bytes),
            Message::Eof => self.open_streams = self.open_streams.saturating_sub(1),
            Message::Failed(e) => {
                self.open_streams = self.open_streams.saturating_sub(1);
                return Some(Ending::Broken("reading nmap's output", e));
            }
        }
        None
    }
}

/// Runs `program args` in a new process group and returns how it ended with what it printed.
pub(super) fn execute(
    program: &Path,
    args: &[String],
    timeout: Duration,
    max_stdout: usize,
) -> Execution {
    let start = Instant::now();
    let mut collected = Collected {
        stdout: Vec::new(),
        stderr: TailBuffer::new(STDERR_TAIL_BYTES),
        max_stdout,
        open_streams: 0,
    };
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut wrapped = CommandWrap::from(command);
    wrapped.wrap(ProcessGroup::leader());
    let child = match wrapped.spawn() {
        Ok(child) => child,
        Err(e) => {
            return Execution {
                ending: Ending::SpawnFailed(e),
                status: None,
                stdout: Vec::new(),
                stderr: collected.stderr,
                duration: start.elapsed(),
            };
        }
    };
    let mut group = Group::new(child);
    debug!("nmap started as pid {} (its own process group)", group.pid);

    let (tx, rx) = mpsc::sync_channel(CHANNEL_CHUNKS);
    let mut ending = None;
    let pipes = [
        (Stream::Stdout, group.child.stdout().take().map(pipe_reader)),
        (Stream::Stderr, group.child.stderr().take().map(pipe_reader)),
    ];
    for (stream, pipe) in pipes {
        let Some(pipe) = pipe else { continue };
        match spawn_reader(stream, pipe, tx.clone()) {
            Ok(()) => collected.open_streams += 1,
            Err(e) => ending = Some(Ending::Broken("starting a reader thread", e)),
        }
    }
    drop(tx);

    let deadline = start.checked_add(timeout);
    let ending = match ending {
        Some(ending) => ending,
        None => supervise(&mut group, &rx, &mut collected, deadline),
    };

    // However it ended, nothing in the group may outlive this call.
    group.kill();
    let status = group.reap_within(GRACE);
    let ending = drain(&rx, &mut collected, ending);
    group.settled = true;

    Execution {
        ending,
        status,
        stdout: collected.stdout,
        stderr: collected.stderr,
        duration: start.elapsed(),
    }
}

/// Feeds output to `collected` until the leader exits, the deadline passes, or output breaks a
/// limit.
fn supervise(
    group: &mut Group,
    rx: &Receiver<Message>,
    collected: &mut Collected,
    deadline: Option<Instant>,
) -> Ending {
    loop {
        match group.try_wait() {
            Ok(Some(status)) => return Ending::Exited(status),
            Ok(None) => {}
            Err(e) => return Ending::Broken("waiting for nmap", e),
        }
        let wait = match deadline {
            None => POLL,
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => left.min(POLL),
                _ => return Ending::TimedOut,
            },
        };
        if collected.open_streams == 0 {
            thread::sleep(wait);
            continue;
        }
        match rx.recv_timeout(wait) {
            Ok(msg) => {
                if let Some(ending) = collected.absorb(msg) {
                    return ending;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => collected.open_streams = 0,
        }
    }
}

/// After the group was killed: collects what is still in the pipes, for at most `GRACE` (a
/// process that escaped the group may hold them open for ever). Output arriving now can still
/// turn a clean exit into a failure.
fn drain(rx: &Receiver<Message>, collected: &mut Collected, mut ending: Ending) -> Ending {
    let until = Instant::now() + GRACE;
    while collected.open_streams > 0 {
        let Some(left) = until.checked_duration_since(Instant::now()) else {
            warn!(
                "nmap's output pipes were still open {} s after it ended (held by a process \
                 outside its process group); stopped reading them",
                GRACE.as_secs()
            );
            break;
        };
        match rx.recv_timeout(left) {
            Ok(msg) => {
                if let Some(forced) = collected.absorb(msg)
                    && matches!(ending, Ending::Exited(_))
                {
                    ending = forced;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    ending
}

fn pipe_reader(pipe: impl Read + Send + 'static) -> Box<dyn Read + Send> {
    Box::new(pipe)
}

/// Copies one pipe into the channel until EOF, an error, or the receiver going away.
fn spawn_reader(
    stream: Stream,
    mut pipe: Box<dyn Read + Send>,
    tx: SyncSender<Message>,
) -> io::Result<()> {
    let name = match stream {
        Stream::Stdout => "nmap-stdout",
        Stream::Stderr => "nmap-stderr",
    };
    thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let mut buf = vec![0; READ_CHUNK];
            loop {
                let msg = match pipe.read(&mut buf) {
                    Ok(0) => Message::Eof,
                    Ok(n) => Message::Data(stream, buf[..n].to_vec()),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => Message::Failed(e),
                };
                let last = !matches!(msg, Message::Data(..));
                if tx.send(msg).is_err() || last {
                    return;
                }
            }
        })?;
    Ok(())
}

/// The spawned process group. Dropping it before the run settled (a panic) still kills the group.
struct Group {
    child: Box<dyn ChildWrapper>,
    pid: u32,
    status: Option<ExitStatus>,
    settled: bool,
}

impl Group {
    fn new(child: Box<dyn ChildWrapper>) -> Self {
        let pid = child.id();
        Group {
            child,
            pid,
            status: None,
            settled: false,
        }
    }

    /// Has the leader (nmap itself) exited? Asks about the leader's pid only: process-wrap's
    /// group-wide wait would block on, or lose the status to, other members of the group.
    fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = self.child.inner_mut().try_wait()?;
        }
        Ok(self.status)
    }

    /// SIGKILL to the whole process group (nmap and anything it started).
    fn kill(&mut self) {
        if let Err(e) = self.child.start_kill() {
            // ESRCH: the leader exited and took no one with it; the usual case.
            debug!("killing nmap's process group {}: {e}", self.pid);
        }
    }

    /// Reaps the leader, waiting at most `limit` (a SIGKILLed process dies promptly unless stuck
    /// in the kernel).
    fn reap_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + limit;
        loop {
            match self.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < until => thread::sleep(POLL),
                Ok(None) => {
                    warn!(
                        "nmap (pid {}) did not die within {} s of SIGKILL",
                        self.pid,
                        limit.as_secs()
                    );
                    return None;
                }
                Err(e) => {
                    warn!("waiting for nmap (pid {}): {e}", self.pid);
                    return None;
                }
            }
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if !self.settled {
            self.kill();
            let _ = self.reap_within(GRACE);
        }
    }
}
