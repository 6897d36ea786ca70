//! The connection layer: our own HTTP/1.1 reader and writer in front of the handlers, which
//! keep rouille's `Request` and `Response` types. It replaces tiny_http's server (the loop
//! rouille runs on) because tiny_http could be taken down by one request: it allocates a
//! declared `Content-Length` to discard an unread body, reads headers without limit, cannot
//! close a connection after a response, takes any `Transfer-Encoding` as chunked and spawns a
//! thread per connection without bound, panicking its accept thread when that fails (see
//! docs/ARCHITECTURE.md, "HTTP edge").
//!
//! What holds here: at most `api.max_connections` connections (each one thread), the next
//! answered 503 and closed; heads bounded ([`head`]: 431/414); bodies never buffered past the
//! cap ([`body`]); ambiguous framing refused and the connection closed; `Upgrade` ignored
//! (answered as HTTP/1.1) and the connection closed; socket timeouts so an idle or slow client
//! lets go of its thread; transient accept errors (out of descriptors) retried, any other one
//! ends [`serve_until`] with an error so the process exits non-zero and is restarted.

mod body;
mod head;
mod limits;
mod refusal;
mod write;

use std::io::{self, BufReader, ErrorKind, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use self::body::{BodyError, read_body};
use self::head::{Framing, HeadError, Version, read_head};
use self::refusal::Refusal;
use self::write::write_refusal;
use super::body::MAX_BODY_BYTES;
use super::pipeline::handle;
use super::state::{ServeError, State};

/// How long a request head may take to arrive complete, counted from the connection's start or
/// the previous response (idle keep-alive included): a client sending a byte a second
/// (slowloris) lets go of its thread after this.
const HEAD_DEADLINE: Duration = Duration::from_secs(20);
/// How long a body (at most 64 KiB) may take once its head is in.
const BODY_DEADLINE: Duration = Duration::from_secs(60);
/// How long one write may block on a client that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// Pause after a transient accept error (out of descriptors or memory).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// How often the stop watcher looks at the stop flag.
const POLL: Duration = Duration::from_millis(100);

/// Where connections come from (a listener, or a fault-injecting fake in tests).
pub(super) trait Accept {
    fn accept_one(&self) -> io::Result<TcpStream>;
}

impl Accept for TcpListener {
    fn accept_one(&self) -> io::Result<TcpStream> {
        self.accept().map(|(s, _)| s)
    }
}

/// Wakes a blocked `accept` once `stop` is set, by connecting to `addr` (the connection is
/// dropped unanswered).
pub(super) fn wake_on_stop(addr: SocketAddr, stop: Arc<AtomicBool>, done: Arc<AtomicBool>) {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => [127, 0, 0, 1].into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let spawned = std::thread::Builder::new()
        .name("stop-watch".into())
        .spawn(move || {
            while !stop.load(Ordering::SeqCst) && !done.load(Ordering::SeqCst) {
                std::thread::sleep(POLL);
            }
            if !done.load(Ordering::SeqCst) {
                let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
            }
        });
    if let Err(e) = spawned {
        log::warn!("no stop watcher ({e}); shutdown waits for the next connection");
    }
}

/// Accepts connections until `stop` is set; an accept error that is not transient ends it.
pub(super) fn serve_until(
    listener: &impl Accept,
    state: &Arc<State>,
    stop: &Arc<AtomicBool>,
    max_connections: usize,
) -> Result<(), ServeError> {
    let open = Arc::new(AtomicUsize::new(0));
    while !stop.load(Ordering::SeqCst) {
        let stream = match listener.accept_one() {
            Ok(stream) => stream,
            Err(e) if transient(&e) => {
                log::warn!("accept failed ({e}); retrying");
                std::thread::sleep(ACCEPT_BACKOFF);
                continue;
            }
            Err(e) => return Err(ServeError::Accept(e.to_string())),
        };
        if stop.load(Ordering::SeqCst) {
            break;
        }
        if open.load(Ordering::SeqCst) >= max_connections {
            refuse_connection(stream, state);
            continue;
        }
        open.fetch_add(1, Ordering::SeqCst);
        let guard = Counted(Arc::clone(&open));
        let state_for_thread = Arc::clone(state);
        let stop_for_thread = Arc::clone(stop);
        // The stream stays reachable for the refusal should the spawn fail.
        let Ok(for_thread) = stream.try_clone() else {
            drop(guard);
            refuse_connection(stream, state);
            continue;
        };
        let spawned = std::thread::Builder::new()
            .name("http".into())
            .spawn(move || {
                let _guard = guard;
                serve_connection(for_thread, &state_for_thread, &stop_for_thread);
            });
        if let Err(e) = spawned {
            log::error!("cannot start a connection thread ({e}); answering 503");
            refuse_connection(stream, state);
        }
    }
    Ok(())
}

/// Errors `accept` recovers from by itself: descriptors or memory run out, or the peer left.
fn transient(e: &io::Error) -> bool {
    const EMFILE: i32 = 24;
    const ENFILE: i32 = 23;
    const ENOBUFS: i32 = 105;
    const ENOMEM: i32 = 12;
    const EPROTO: i32 = 71;
    matches!(
        e.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::Interrupted | ErrorKind::WouldBlock
    ) || matches!(
        e.raw_os_error(),
        Some(EMFILE | ENFILE | ENOBUFS | ENOMEM | EPROTO)
    )
}

/// Counts an open connection for as long as it lives.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts a request as in flight for as long as it lives (shutdown waits for these).
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn enter(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        InFlight(Arc::clone(counter))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// 503 on the accept thread, with a short write timeout so a client that never reads costs
/// nothing, then close.
fn refuse_connection(mut stream: TcpStream, state: &State) {
    let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
    let refusal = Refusal::too_many_connections();
    state.metrics.rejected(refusal.code);
    let id = state.ids.next_id();
    let _ = write_refusal(&mut stream, &refusal, &id);
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// Serves the requests of one connection, one after the other, until it must close.
fn serve_connection(stream: TcpStream, state: &Arc<State>, stop: &AtomicBool) {
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let peer = stream
        .peer_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::with_capacity(8 * 1024, Timed::new(stream));
    let mut out = io::BufWriter::with_capacity(16 * 1024, write_half);
    loop {
        // An I/O error means the client is gone: nothing more to say on this connection.
        let keep = serve_one(&mut reader, &mut out, peer, state).unwrap_or(false);
        if !keep || stop.load(Ordering::SeqCst) {
            break;
        }
    }
    linger_close(out.get_ref());
}

/// A socket whose reads fail with `TimedOut` once `deadline` has passed, however slowly the
/// bytes trickle in (each read waits at most the time left).
struct Timed {
    stream: TcpStream,
    deadline: Instant,
}

impl Timed {
    fn new(stream: TcpStream) -> Self {
        Timed {
            stream,
            deadline: Instant::now() + HEAD_DEADLINE,
        }
    }
}

impl io::Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}

/// Closes gracefully: stop sending, then read and drop what the client still sends (bounded
/// in bytes and time) so the kernel does not answer unread data with a reset that could
/// destroy the response the client has not read yet (a 413 or 431 in particular).
fn linger_close(stream: &TcpStream) {
    const LINGER_BYTES: usize = 1 << 20;
    const LINGER_TIME: Duration = Duration::from_secs(2);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(250)));
    let started = Instant::now();
    let mut buf = [0u8; 8192];
    let mut drained = 0;
    while drained < LINGER_BYTES && started.elapsed() < LINGER_TIME {
        match (&mut &*stream).read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
}

/// Reads, handles and answers one request; returns whether the connection may carry another.
fn serve_one(
    reader: &mut BufReader<Timed>,
    out: &mut io::BufWriter<TcpStream>,
    peer: SocketAddr,
    state: &Arc<State>,
) -> io::Result<bool> {
    reader.get_mut().deadline = Instant::now() + HEAD_DEADLINE;
    let head = match read_head(reader) {
        Ok(head) => head,
        Err(HeadError::Gone) => return Ok(false),
        Err(HeadError::Refused(refusal)) => return refuse(out, &refusal, state),
    };
    let framing = match check_head(&head) {
        Ok(framing) => framing,
        Err(refusal) => return refuse(out, &refusal, state),
    };
    if head.values("Expect").next().is_some() {
        let continue_ok = head
            .values("Expect")
            .all(|v| v.trim().eq_ignore_ascii_case("100-continue"));
        if !continue_ok || head.version == Version::Http10 {
            return refuse(out, &Refusal::expectation_failed(), state);
        }
        if !matches!(framing, Framing::Length(n) if n > MAX_BODY_BYTES as u64) {
            use std::io::Write;
            out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
            out.flush()?;
        }
    }
    reader.get_mut().deadline = Instant::now() + BODY_DEADLINE;
    let body = match read_body(reader, framing, MAX_BODY_BYTES) {
        Ok(body) => body,
        Err(BodyError::Io) => return Ok(false),
        Err(BodyError::Malformed) => {
            let refusal =
                Refusal::bad_request("malformed_chunked_body", "the chunked body is malformed");
            return refuse(out, &refusal, state);
        }
    };
    let close = !body.complete
        || head.has_token("Connection", "close")
        || head.has_token("Connection", "upgrade")
        || head.values("Upgrade").next().is_some()
        || (head.version == Version::Http10 && !head.has_token("Connection", "keep-alive"));
    let head_only = head.method == "HEAD";
    let version = head.version;
    let request =
        rouille::Request::fake_http_from(peer, head.method, head.target, head.headers, body.bytes);
    let _in_flight = InFlight::enter(&state.in_flight);
    let response = handle(state, &request);
    let close = close || response.status_code == 413;
    let framing = write::Framing {
        version,
        head_only,
        close,
    };
    let closed = write::write_response(out, response, &framing)?;
    Ok(!closed)
}

/// The checks on a head that need no body: `Host` present (HTTP/1.1) and once, framing.
fn check_head(head: &head::Head) -> Result<Framing, Refusal> {
    let hosts = head.values("Host").count();
    if hosts > 1 || (hosts == 0 && head.version == Version::Http11) {
        return Err(Refusal::bad_request(
            "invalid_host",
            "an HTTP/1.1 request needs exactly one Host header",
        ));
    }
    head.framing()
}

/// Writes `refusal` and reports that the connection must close.
fn refuse(
    out: &mut io::BufWriter<TcpStream>,
    refusal: &Refusal,
    state: &State,
) -> io::Result<bool> {
    state.metrics.rejected(refusal.code);
    let id = state.ids.next_id();
    log::info!(
        "{id}: refused at the edge: {} {}",
        refusal.code,
        refusal.message
    );
    write_refusal(out, refusal, &id)?;
    Ok(false)
}

#[cfg(test)]
mod tests;
