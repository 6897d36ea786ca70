//! api_server's PostgreSQL connections: a small bounded pool (r2d2), so each request borrows
//! a connection instead of paying a TLS handshake and a login, and a burst of requests waits a
//! bounded time for one instead of opening hundreds.

use std::time::Duration;

use r2d2_postgres::PostgresConnectionManager;
use r2d2_postgres::r2d2;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{Conn, Names, Postgres, check_version, connect};
use crate::config::PostgresUrl;
use crate::store::StoreError;

type Manager = PostgresConnectionManager<MakeRustlsConnect>;
pub(super) type Pooled = r2d2::PooledConnection<Manager>;

/// Connections kept at most; api_server's handlers are blocking, one connection each.
const MAX_SIZE: u32 = 8;
/// How long a request waits for a connection (or for the server to answer a new one).
const WAIT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct PgPool {
    pool: r2d2::Pool<Manager>,
    url: PostgresUrl,
}

impl PgPool {
    /// A pool over `url`. Connects lazily: api_server starts while the database is down and
    /// answers 503 `database_unavailable` until it is back.
    pub fn new(url: &PostgresUrl) -> Result<PgPool, StoreError> {
        let (config, tls) = connect::settings(url)?;
        let pool = r2d2::Pool::builder()
            .max_size(MAX_SIZE)
            .min_idle(Some(0))
            .connection_timeout(WAIT)
            .test_on_check_out(true)
            .build_unchecked(PostgresConnectionManager::new(config, tls));
        Ok(PgPool {
            pool,
            url: url.clone(),
        })
    }

    /// A connection at this binary's schema, as a backend.
    pub(in crate::store) fn get(&self) -> Result<Postgres, StoreError> {
        let names = Names::of(&self.url);
        let mut conn = self.pool.get().map_err(|e| self.unavailable(&e))?;
        check_version(&mut conn, &names)?;
        Ok(Postgres {
            conn: std::cell::RefCell::new(Conn::Pooled(conn)),
            names,
        })
    }

    /// Why no connection could be had: the last connection error when there was one.
    fn unavailable(&self, e: &r2d2::Error) -> StoreError {
        let reason = e.to_string();
        // r2d2 says "timed out waiting for connection: <last error>"; keep the cause.
        let reason = match reason.split_once(": ") {
            Some((_, cause)) if !cause.is_empty() => cause.to_string(),
            _ => reason,
        };
        StoreError::Unavailable {
            host: self.url.host(),
            reason: reason.replace('\n', " "),
        }
    }

    /// The database as messages name it.
    pub fn name(&self) -> String {
        self.url.to_string()
    }
}
