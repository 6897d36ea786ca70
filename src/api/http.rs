//! The accept loop: tiny_http (the server under rouille) accepts connections, and each request
//! runs on a thread of its own with rouille's `Request` and `Response` types.
//!
//! rouille's own `Server::poll_timeout` only returns after a quiet spell with no request, so a
//! steady stream of health checks could hold off shutdown forever; this loop checks the stop
//! flag after every request instead. Each request thread counts itself in flight until its
//! response has been written, so shutdown never exits under a client's feet.
//!
//! Neither tiny_http nor rouille sets socket timeouts: a client that sends its body slowly
//! holds its own thread (not the loop). Put a reverse proxy in front for slow-client limits.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use super::body::MAX_BODY_BYTES;
use super::pipeline::handle;
use super::state::{ServeError, State};

/// How often the loop looks at the stop flag when no request arrives.
const POLL: Duration = Duration::from_millis(100);

/// Serves requests until `stop` is set.
pub(super) fn serve_until(
    server: &tiny_http::Server,
    state: &Arc<State>,
    stop: &AtomicBool,
) -> Result<(), ServeError> {
    while !stop.load(Ordering::SeqCst) {
        match server.recv_timeout(POLL) {
            Ok(Some(request)) => spawn_request(request, state),
            Ok(None) => {}
            // tiny_http's accept thread has stopped (it gives up on the first accept error).
            Err(e) => return Err(ServeError::Accept(e.to_string())),
        }
    }
    Ok(())
}

/// Counts a request as in flight for as long as it lives.
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

fn spawn_request(mut request: tiny_http::Request, state: &Arc<State>) {
    let guard = InFlight::enter(&state.in_flight);
    let state = Arc::clone(state);
    let spawned = std::thread::Builder::new()
        .name("http".into())
        .spawn(move || {
            let _guard = guard;
            let rouille_request = to_rouille(&mut request);
            let response = handle(&state, &rouille_request);
            // Nothing to do if the client has gone.
            let _ = request.respond(to_tiny(response));
        });
    if let Err(e) = spawned {
        log::error!("cannot start a thread for a request ({e}); dropping its connection");
    }
}

/// rouille's view of the request. The body is read here, at most one byte past the cap (so the
/// handler can tell "too large"), and not at all when the declared length is already over it
/// or unreadable: the handler answers 413 or 400 from the header alone.
fn to_rouille(request: &mut tiny_http::Request) -> rouille::Request {
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_string(),
                h.value.as_str().to_string(),
            )
        })
        .collect();
    let declared = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Content-Length"))
        .map(|(_, v)| v.trim().parse::<u64>());
    let mut body = Vec::new();
    let readable = match declared {
        None => true,
        Some(Ok(n)) => n <= MAX_BODY_BYTES as u64,
        Some(Err(_)) => false,
    };
    if readable {
        let _ = request
            .as_reader()
            .take(MAX_BODY_BYTES as u64 + 1)
            .read_to_end(&mut body);
    }
    let from = request
        .remote_addr()
        .copied()
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
    rouille::Request::fake_http_from(
        from,
        request.method().as_str(),
        request.url(),
        headers,
        body,
    )
}

fn to_tiny(response: rouille::Response) -> tiny_http::Response<Box<dyn Read + Send>> {
    let (data, length) = response.data.into_reader_and_size();
    let mut out = tiny_http::Response::empty(response.status_code).with_data(data, length);
    for (name, value) in &response.headers {
        if name.eq_ignore_ascii_case("Content-Length") {
            continue;
        }
        match tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            Ok(header) => out.add_header(header),
            Err(()) => log::error!("dropping an invalid response header {name:?}"),
        }
    }
    out
}
