//! The body of an unpaged `GET /api/snapshots/{id}`: the snapshot's JSON written host by host
//! on a thread of its own into a bounded channel, so a 65,536-host snapshot is never held in
//! memory (a few chunks per request are). The bytes are those `ok_json` would write for the
//! whole [`Snapshot`].

use std::io::{self, Read, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use crate::snapshot::Snapshot;
use crate::store::{HostRange, Store};

/// Bytes per chunk handed to the connection, and chunks in flight per request.
const CHUNK: usize = 64 * 1024;
const CHUNKS_IN_FLIGHT: usize = 4;

/// The snapshot's JSON with its `"hosts":[]` split open: what comes before the hosts (up to and
/// including `[`) and after them. `None` when the JSON has no such key (not reachable: `hosts`
/// is a field of [`Snapshot`] and a key's quote is never unescaped inside a string).
fn split_around_hosts(head: &Snapshot) -> Option<(Vec<u8>, Vec<u8>)> {
    let text = serde_json::to_vec(head).ok()?;
    let key = b"\"hosts\":[]";
    let at = text.windows(key.len()).position(|w| w == key)?;
    let open = at + key.len() - 1;
    Some((text[..open].to_vec(), text[open..].to_vec()))
}

/// A reader over the JSON of snapshot `head` (loaded without its hosts), whose hosts a thread
/// reads through `store` (moved to it: a pooled PostgreSQL connection goes back when the
/// stream ends) and serialises as the connection takes them. A
/// failure half-way is an error of the reader (the connection then closes without finishing
/// the body, so the client sees it is cut), never a well-formed short body.
pub fn body(store: Store, head: &Snapshot) -> Option<impl Read + Send + 'static> {
    let (before, after) = split_around_hosts(head)?;
    let id = head.id?;
    let (tx, rx) = sync_channel(CHUNKS_IN_FLIGHT);
    std::thread::Builder::new()
        .name(format!("snapshot-{id}"))
        .spawn(move || {
            let mut out = ChunkWriter {
                tx,
                buf: Vec::with_capacity(CHUNK),
            };
            let result = write_all(&store, id, &before, &after, &mut out);
            match result {
                Ok(()) => {
                    let _ = out.finish();
                }
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                Err(e) => {
                    log::error!("streaming snapshot {id} stopped: {e}");
                    let _ = out.tx.send(Err(e));
                }
            }
        })
        .ok()?;
    Some(ChannelReader {
        rx,
        chunk: Vec::new(),
        at: 0,
        done: false,
    })
}

fn write_all(
    store: &Store,
    id: i64,
    before: &[u8],
    after: &[u8],
    out: &mut ChunkWriter,
) -> io::Result<()> {
    out.write_all(before)?;
    let mut first = true;
    let mut failed: Option<io::Error> = None;
    store
        .for_each_host(id, HostRange::default(), |_, host| {
            let step = (|| {
                if !first {
                    out.write_all(b",")?;
                }
                first = false;
                serde_json::to_writer(&mut *out, &host).map_err(io::Error::other)
            })();
            match step {
                Ok(()) => true,
                Err(e) => {
                    failed = Some(e);
                    false
                }
            }
        })
        .map_err(io::Error::other)?;
    if let Some(e) = failed {
        return Err(e);
    }
    out.write_all(after)
}

/// Collects bytes into chunks and sends each full one; blocks while the connection is
/// [`CHUNKS_IN_FLIGHT`] chunks behind, and fails once it has gone away.
struct ChunkWriter {
    tx: SyncSender<io::Result<Vec<u8>>>,
    buf: Vec<u8>,
}

impl ChunkWriter {
    fn send(&mut self) -> io::Result<()> {
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx
            .send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "client went away"))
    }

    /// Sends what is left, then the empty chunk that marks the end.
    fn finish(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.send()?;
        }
        self.send()
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The connection's side: chunks in order, an empty one at the end; a channel closed before
/// that (the thread failed or panicked) is an error.
struct ChannelReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    at: usize,
    done: bool,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.chunk.len() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Ok(chunk)) if chunk.is_empty() => self.done = true,
                Ok(Ok(chunk)) => (self.chunk, self.at) = (chunk, 0),
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the snapshot stream ended early",
                    ));
                }
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
