//! The database schema, as an append-only list of migrations.
//!
//! `PRAGMA user_version` holds the number of migrations applied. A new schema change is a new
//! string at the end of [`MIGRATIONS`]; released strings are never edited.
//!
//! Times are RFC 3339 UTC text with exactly nine fractional digits, so text order is time
//! order. Lists (covers, CPEs, hostnames, scripts...) are JSON text; empty lists are stored as
//! NULL in the optional columns to keep large snapshots small.

use rusqlite::{Connection, TransactionBehavior};

/// Every migration, in order. Index `i` takes the schema from version `i` to `i + 1`.
pub(in crate::store) const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7, V8, V9];

/// The schema version this binary writes and reads.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

const V1: &str = r#"
CREATE TABLE snapshots (
    id             INTEGER PRIMARY KEY,
    started_at     TEXT    NOT NULL,
    finished_at    TEXT    NOT NULL,
    profile        TEXT    NOT NULL,
    nmap_args      TEXT    NOT NULL,
    nmap_version   TEXT    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('complete', 'partial', 'failed')),
    -- Denormalised counts for listings (history), written with the snapshot.
    hosts_up       INTEGER NOT NULL,
    open_ports     INTEGER NOT NULL,
    targets_total  INTEGER NOT NULL,
    targets_failed INTEGER NOT NULL
);
-- "latest snapshot (of a profile) before X"
CREATE INDEX snapshots_profile_started ON snapshots (profile, started_at, id);
CREATE INDEX snapshots_started ON snapshots (started_at, id);

CREATE TABLE snapshot_targets (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    entry       TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('completed', 'failed', 'timeout', 'unresolved')),
    error       TEXT,
    covers      TEXT    NOT NULL, -- JSON array of CIDR strings
    PRIMARY KEY (snapshot_id, position)
) WITHOUT ROWID;

CREATE TABLE hosts (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL, -- order nmap reported the host in
    ip          TEXT    NOT NULL, -- Host::ip(), '' when nmap gave none
    hostname    TEXT,             -- Host::hostname()
    state       TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    addresses   TEXT    NOT NULL, -- JSON [{addr, addrtype, vendor}]
    hostnames   TEXT,             -- JSON [{name, kind}]
    extraports  TEXT,             -- JSON [{state, count}]
    os_matches  TEXT,             -- JSON [{name, accuracy}]
    scripts     TEXT,             -- JSON [{id, output}]
    starttime   INTEGER,
    endtime     INTEGER,
    PRIMARY KEY (snapshot_id, position)
) WITHOUT ROWID;

-- "ports of a snapshot" is the primary key's prefix.
CREATE TABLE ports (
    snapshot_id   INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    host_position INTEGER NOT NULL,
    position      INTEGER NOT NULL, -- order nmap listed the port in
    ip            TEXT    NOT NULL,
    protocol      TEXT    NOT NULL,
    port          INTEGER NOT NULL,
    state         TEXT    NOT NULL,
    reason        TEXT    NOT NULL,
    service       TEXT    NOT NULL,
    product       TEXT    NOT NULL,
    version       TEXT    NOT NULL,
    extrainfo     TEXT    NOT NULL,
    ostype        TEXT    NOT NULL,
    tunnel        TEXT    NOT NULL,
    method        TEXT    NOT NULL,
    conf          INTEGER NOT NULL,
    cpe           TEXT    NOT NULL, -- JSON array of strings
    scripts       TEXT,             -- JSON [{id, output}]
    PRIMARY KEY (snapshot_id, host_position, position)
) WITHOUT ROWID;

-- Alerts outlive the snapshots that raised them (retention may delete those), so the snapshot
-- columns are plain ids, not foreign keys. Host alerts have NULL protocol and port.
CREATE TABLE alerts (
    id             INTEGER PRIMARY KEY,
    kind           TEXT    NOT NULL,
    severity       TEXT    NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
    ip             TEXT    NOT NULL,
    protocol       TEXT,
    port           INTEGER,
    message        TEXT    NOT NULL,
    status         TEXT    NOT NULL DEFAULT 'open'
                           CHECK (status IN ('open', 'actioned', 'ignored', 'resolved')),
    first_snapshot INTEGER NOT NULL,
    last_snapshot  INTEGER NOT NULL
);
CREATE INDEX alerts_status ON alerts (status, severity);
CREATE INDEX alerts_identity ON alerts (kind, ip, protocol, port);
"#;

/// Alerts gain their times and the operator's note. No release wrote alert rows under V1, so
/// the table is recreated. The partial unique index keeps one unresolved alert per identity;
/// `coalesce` makes host alerts (NULL protocol and port) collide as they should.
const V2: &str = r#"
DROP TABLE alerts;
CREATE TABLE alerts (
    id             INTEGER PRIMARY KEY,
    kind           TEXT    NOT NULL,
    severity       TEXT    NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
    ip             TEXT    NOT NULL,
    protocol       TEXT,
    port           INTEGER,
    message        TEXT    NOT NULL,
    status         TEXT    NOT NULL DEFAULT 'open'
                           CHECK (status IN ('open', 'actioned', 'ignored', 'resolved')),
    first_snapshot INTEGER NOT NULL,
    last_snapshot  INTEGER NOT NULL,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL,
    note           TEXT
);
CREATE INDEX alerts_status ON alerts (status, severity);
CREATE UNIQUE INDEX alerts_unresolved ON alerts (kind, ip, coalesce(protocol, ''), coalesce(port, -1))
    WHERE status <> 'resolved';
"#;

/// Webhook deliveries, one row per attempt. The webhook is its configured name and its
/// endpoint (scheme, host, port): URLs and tokens may be secrets and are never stored. The
/// snapshot is a plain id, like the alerts' (retention may delete the snapshot).
const V3: &str = r#"
CREATE TABLE deliveries (
    id           INTEGER PRIMARY KEY,
    snapshot_id  INTEGER NOT NULL,
    webhook      TEXT    NOT NULL,
    endpoint     TEXT    NOT NULL,
    format       TEXT    NOT NULL,
    alerts       INTEGER NOT NULL,
    attempt      INTEGER NOT NULL,
    attempted_at TEXT    NOT NULL,
    status_code  INTEGER,
    outcome      TEXT    NOT NULL CHECK (outcome IN ('delivered', 'retrying', 'failed')),
    error        TEXT
);
CREATE INDEX deliveries_snapshot ON deliveries (snapshot_id, id);
"#;

/// The outbox: each notification a run makes, written with the run's alerts and sent after
/// the commit; pending ones are retried by later runs until delivered or expired. The body
/// holds no secret (URLs, tokens and passwords are read from the configuration when sending).
/// Deliveries gain the outbox row they were an attempt at (NULL for test sends and rows
/// written before this version).
const V4: &str = r#"
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    snapshot_id  INTEGER NOT NULL,
    destination  TEXT    NOT NULL,
    channel      TEXT    NOT NULL CHECK (channel IN ('webhook', 'email')),
    format       TEXT    NOT NULL,
    alerts       INTEGER NOT NULL,
    body         TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'expired')),
    attempts     INTEGER NOT NULL,
    last_error   TEXT,
    delivered_at TEXT
);
CREATE INDEX outbox_pending ON outbox (status, id);
ALTER TABLE deliveries ADD COLUMN outbox_id INTEGER;
"#;

/// A port's TLS facts from the TLS pass (certificate, versions, grade): JSON `TlsInfo`, NULL
/// when the port was not examined. The partial index serves "the latest certificate seen on
/// each port before snapshot N" (`cert_changed`) and the certificates listing.
const V5: &str = r#"
ALTER TABLE ports ADD COLUMN tls TEXT;
CREATE INDEX ports_tls ON ports (ip, protocol, port, snapshot_id) WHERE tls IS NOT NULL;
"#;

/// Port-level coverage and confirmation. `scanned_ports` is the port list a run probed
/// (`tcp:1-1000;udp:53`, NULL for older snapshots, which then compare only with their own
/// profile), `version_detection` whether it ran `-sV`, `unconfirmed` the JSON list of candidate
/// changes the re-check did not hold. `technique` is the profile without its `+ports=`
/// override: a run with other ports is compared with the latest run of the same technique.
const V6: &str = r#"
ALTER TABLE snapshots ADD COLUMN scanned_ports TEXT;
ALTER TABLE snapshots ADD COLUMN version_detection INTEGER;
ALTER TABLE snapshots ADD COLUMN unconfirmed TEXT;
ALTER TABLE snapshots ADD COLUMN technique TEXT;
UPDATE snapshots SET technique = CASE WHEN instr(profile, '+') > 0
                                      THEN substr(profile, 1, instr(profile, '+') - 1)
                                      ELSE profile END;
CREATE INDEX snapshots_technique_started ON snapshots (technique, started_at, id);
"#;

/// Each snapshot's delta, stored when the run that made it commits, so that the dashboard, the
/// delta routes and the timelines read it instead of recomputing it from two full snapshots.
/// `compared_with` is the snapshot it was compared with (NULL for a baseline; a plain id, as
/// retention may delete that snapshot) and `config` a fingerprint of the severity table and
/// `[[expect]]` it was computed with: a reader whose comparison would differ (another previous
/// snapshot, another configuration) recomputes instead. `head` is the JSON of what a timeline
/// row needs (status, score, band, summary), `delta` the whole `delta.json`. Snapshots stored
/// before this version have no row and are compared on read, as before.
const V7: &str = r#"
CREATE TABLE snapshot_deltas (
    snapshot_id   INTEGER PRIMARY KEY REFERENCES snapshots (id) ON DELETE CASCADE,
    compared_with INTEGER,
    config        TEXT    NOT NULL,
    head          TEXT    NOT NULL,
    delta         TEXT    NOT NULL
);
"#;

/// Beside each stored delta, the snapshot's per-entry counts of up hosts and open ports (JSON:
/// entry -> {hosts_up, open_ports}), so the dashboard's cards need not read every host. NULL
/// in rows stored by V7: the dashboard then counts from the hosts.
const V8: &str = r#"
ALTER TABLE snapshot_deltas ADD COLUMN entries TEXT;
"#;

/// V9: a target may be `shard_missing` (a sharded run finalized without the shard that held
/// it; PostgreSQL V5). Sharded runs need PostgreSQL, but `migrate-store` may bring their
/// snapshots here. SQLite cannot change a CHECK in place: the table is rebuilt, same columns.
const V9: &str = r#"
CREATE TABLE snapshot_targets_v9 (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    entry       TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    status      TEXT    NOT NULL
                CHECK (status IN ('completed', 'failed', 'timeout', 'unresolved', 'shard_missing')),
    error       TEXT,
    covers      TEXT    NOT NULL, -- JSON array of CIDR strings
    PRIMARY KEY (snapshot_id, position)
) WITHOUT ROWID;
INSERT INTO snapshot_targets_v9 (snapshot_id, position, entry, target, status, error, covers)
    SELECT snapshot_id, position, entry, target, status, error, covers FROM snapshot_targets;
DROP TABLE snapshot_targets;
ALTER TABLE snapshot_targets_v9 RENAME TO snapshot_targets;
"#;

/// The schema version recorded in the database.
pub(super) fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// What [`migrate`] found.
pub(super) enum Migration {
    /// The database is at [`SCHEMA_VERSION`] (possibly after applying migrations).
    Current,
    /// The database was written by a newer binary; nothing was changed.
    TooNew(i64),
}

/// Applies the missing migrations in one immediate transaction, so two processes opening a
/// fresh database at once serialise and the second sees the first's work.
pub(super) fn migrate(conn: &mut Connection) -> rusqlite::Result<Migration> {
    if version(conn)? == SCHEMA_VERSION {
        return Ok(Migration::Current);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found = version(&tx)?;
    if found > SCHEMA_VERSION {
        return Ok(Migration::TooNew(found));
    }
    for sql in MIGRATIONS.iter().skip(usize::try_from(found).unwrap_or(0)) {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(Migration::Current)
}
