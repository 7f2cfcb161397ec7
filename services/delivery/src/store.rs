//! The queries the generated DAO does not have: across tenants (what the relay
//! and the dispatcher serve) and by time. Each returns ids with their agency, and
//! rows are then read and written through the scoped DAO, so `hash_code` and the
//! scope checks stay the DAO's. The exceptions are conditional writes, one
//! statement each so that concurrent processes cannot interleave: pull mode's
//! leases (scoped by agency and subscription in the statement itself, see
//! [`Queue`]), and the tables the delivery processes share — shard leases, the
//! process registry and throttle windows ([`Leases`], [`take_throttle`]).

use blueprint::chrono::{DateTime, Utc};
use std::sync::Arc;

use blueprint::db::{Db, DbError, Row, Statement, decode};
use blueprint::serde_json;
use blueprint::tokio;
use blueprint::uuid::Uuid;
use delivery_api::models::MessageStatus;
use serde::Deserialize;

/// A subscription as the processes share its work: its relay, and (active push
/// subscriptions) its shards under its epoch.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Listed {
    pub id: String,
    pub agency_id: Uuid,
    pub stream: String,
    /// Its shards are worked (active, push).
    pub delivering: bool,
    pub shards: i32,
    pub epoch: i32,
}

/// Every subscription, push or pull, whatever its status (its relay keeps
/// storing messages while it is paused or disabled).
const SUBSCRIPTIONS: Statement = Statement {
    postgres: "SELECT json_build_object(
    'id', id, 'agency_id', agency_id, 'stream', stream,
    'delivering', status = 'active' AND mode = 'push',
    'shards', shards, 'epoch', shard_epoch)::text
FROM subscriptions
ORDER BY id
LIMIT ($1::jsonb ->> 'limit')::bigint",
    sqlite: "SELECT json_object(
    'id', id, 'agency_id', agency_id, 'stream', stream,
    'delivering', json(CASE WHEN status = 'active' AND mode = 'push' THEN 'true' ELSE 'false' END),
    'shards', shards, 'epoch', shard_epoch)
FROM subscriptions
ORDER BY id
LIMIT ?1 ->> '$.limit'",
};

/// The head of a shard: its pending message of the lowest stream sequence,
/// due or not (a shard delivers in order, so its head waits for nothing
/// behind it), the whole row as the DAO reads it, and its subscription's
/// `hash_code` (null once deleted): the worker's copy of the subscription is
/// read again when that changed. The index on (subscription, status, sequence)
/// walks the pending messages in order; about `shards` of them are read to
/// find one of the shard.
const SHARD_HEAD: Statement = Statement {
    postgres: "SELECT json_build_object(
    'message', to_jsonb(m) - '{hash_code,created_at,updated_at}'::text[],
    'subscription_hash', (SELECT s.hash_code FROM subscriptions s WHERE s.id = m.subscription_id))::text
FROM messages m
WHERE subscription_id = $1::jsonb ->> 'subscription_id'
  AND status = 'pending'
  AND shard_key % ($1::jsonb ->> 'shards')::bigint = ($1::jsonb ->> 'shard')::bigint
ORDER BY sequence
LIMIT 1",
    sqlite: "SELECT json_object(
    'message', json_object('id', id, 'subscription_id', subscription_id,
        'agency_id', agency_id, 'stream', stream, 'sequence', sequence,
        'event_id', event_id, 'event_type', event_type, 'shard_key', shard_key,
        'body', body, 'status', status, 'attempts', attempts,
        'next_attempt_at', next_attempt_at, 'delivered_at', delivered_at,
        'last_error', last_error, 'lease', lease),
    'subscription_hash', (SELECT s.hash_code FROM subscriptions s WHERE s.id = m.subscription_id))
FROM messages m
WHERE subscription_id = ?1 ->> '$.subscription_id'
  AND status = 'pending'
  AND shard_key % (?1 ->> '$.shards') = (?1 ->> '$.shard')
ORDER BY sequence
LIMIT 1",
};

/// A subscription's messages counted by status (`failing`: pending after a
/// failed attempt, not leased now; `leased`: pull messages a receiver holds).
const MESSAGE_COUNTS: Statement = Statement {
    postgres: "SELECT json_build_object(
    'delivered', count(*) FILTER (WHERE status = 'delivered'),
    'pending', count(*) FILTER (WHERE status = 'pending'),
    'failing', count(*) FILTER (WHERE status = 'pending' AND attempts > 0
        AND NOT (lease IS NOT NULL AND next_attempt_at > now())),
    'leased', count(*) FILTER (WHERE status = 'pending'
        AND lease IS NOT NULL AND next_attempt_at > now()),
    'dead', count(*) FILTER (WHERE status = 'dead'))::text
FROM messages
WHERE subscription_id = $1::jsonb ->> 'subscription_id'
  AND agency_id = ($1::jsonb ->> 'agency_id')::uuid",
    sqlite: "SELECT json_object(
    'delivered', count(*) FILTER (WHERE status = 'delivered'),
    'pending', count(*) FILTER (WHERE status = 'pending'),
    'failing', count(*) FILTER (WHERE status = 'pending' AND attempts > 0
        AND NOT (lease IS NOT NULL AND next_attempt_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))),
    'leased', count(*) FILTER (WHERE status = 'pending'
        AND lease IS NOT NULL AND next_attempt_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    'dead', count(*) FILTER (WHERE status = 'dead'))
FROM messages
WHERE subscription_id = ?1 ->> '$.subscription_id'
  AND agency_id = ?1 ->> '$.agency_id'",
};

/// What [`MESSAGE_COUNTS`] answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Counts {
    pub delivered: i64,
    pub pending: i64,
    pub failing: i64,
    pub leased: i64,
    pub dead: i64,
}

pub async fn message_counts(
    db: &Db,
    agency_id: Uuid,
    subscription_id: &str,
) -> Result<Counts, DbError> {
    let doc = serde_json::json!({ "agency_id": agency_id, "subscription_id": subscription_id })
        .to_string();
    let found: Vec<Counts> = rows(db, &MESSAGE_COUNTS, &doc).await?;
    Ok(found.into_iter().next().unwrap_or_default())
}

/// At most this many subscriptions are served by the delivery processes.
pub const MAX_SUBSCRIPTIONS: i64 = 10_000;

pub async fn subscriptions(db: &Db) -> Result<Vec<Listed>, DbError> {
    let doc = serde_json::json!({ "limit": MAX_SUBSCRIPTIONS }).to_string();
    rows(db, &SUBSCRIPTIONS, &doc).await
}

/// A shard's head message, and its subscription's `hash_code` (`None` once
/// the subscription is deleted).
#[derive(Debug, Clone, Deserialize)]
pub struct Head {
    pub message: delivery_api::models::Message,
    pub subscription_hash: Option<i64>,
}

pub async fn shard_head(
    db: &Db,
    subscription_id: &str,
    shards: i32,
    shard: i32,
) -> Result<Option<Head>, DbError> {
    let doc = serde_json::json!({
        "subscription_id": subscription_id,
        "shards": shards,
        "shard": shard,
    })
    .to_string();
    Ok(rows(db, &SHARD_HEAD, &doc).await?.into_iter().next())
}

/// Store a batch of messages, one statement: `$1` is a JSON array of rows (the
/// DAO's shape, with their `hash_code`). A message already stored for its
/// subscription and event (a redelivered event) is left as it is.
const STORE_MESSAGES: Statement = Statement {
    postgres: "INSERT INTO messages (id, subscription_id, agency_id, stream, sequence, event_id,
    event_type, shard_key, body, status, attempts, next_attempt_at, delivered_at, last_error,
    lease, hash_code)
SELECT r.id, r.subscription_id, r.agency_id, r.stream, r.sequence, r.event_id,
    r.event_type, r.shard_key, r.body, r.status, r.attempts, r.next_attempt_at,
    r.delivered_at, r.last_error, r.lease, r.hash_code
FROM jsonb_populate_recordset(NULL::messages, $1::text::jsonb) r
ON CONFLICT (subscription_id, event_id) DO NOTHING",
    sqlite: "INSERT INTO messages (id, subscription_id, agency_id, stream, sequence, event_id,
    event_type, shard_key, body, status, attempts, next_attempt_at, delivered_at, last_error,
    lease, hash_code)
SELECT m.value ->> 'id', m.value ->> 'subscription_id', m.value ->> 'agency_id',
    m.value ->> 'stream', m.value ->> 'sequence', m.value ->> 'event_id',
    m.value ->> 'event_type', m.value ->> 'shard_key', m.value ->> 'body',
    m.value ->> 'status', m.value ->> 'attempts',
    strftime('%Y-%m-%dT%H:%M:%fZ', m.value ->> 'next_attempt_at'),
    strftime('%Y-%m-%dT%H:%M:%fZ', m.value ->> 'delivered_at'),
    m.value ->> 'last_error', m.value ->> 'lease', m.value ->> 'hash_code'
FROM json_each(?1) m
WHERE true
ON CONFLICT (subscription_id, event_id) DO NOTHING",
};

/// Store `batch` as messages in one statement (so one transaction); how many
/// were new. Each row keeps the DAO's `hash_code`, so the DAO's next write of it
/// is compared with the right one.
pub async fn store_messages(
    db: &Db,
    writes: &Writes,
    batch: &[delivery_api::models::Message],
) -> Result<u64, DbError> {
    if batch.is_empty() {
        return Ok(0);
    }
    let rows = batch
        .iter()
        .map(|message| {
            let row = Row::new(message)?;
            let mut value: serde_json::Value =
                serde_json::from_str(&row.json).map_err(DbError::Encode)?;
            if let Some(fields) = value.as_object_mut() {
                fields.insert("hash_code".into(), row.hash_code.into());
            }
            Ok(value)
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    let doc = serde_json::Value::Array(rows).to_string();
    let _turn = writes.turn().await;
    db.conn()
        .execute(STORE_MESSAGES.get(db.dialect()).into(), &doc, &[])
        .await
}

/// On SQLite, this process's writes of messages and attempts (the relays' and
/// the shard workers') take turns at the database's write lock through one
/// mutex: a writer finding the lock taken would wait in SQLite's busy handler,
/// which sleeps 1, 2, 5, 10... ms between tries, where the mutex hands over the
/// moment the other commits (the runtime's consumer does the same). PostgreSQL
/// has no database-wide write lock: no turns.
#[derive(Debug, Clone)]
pub struct Writes(Option<Arc<tokio::sync::Mutex<()>>>);

impl Writes {
    pub fn new(db: &Db) -> Writes {
        Writes(matches!(db, Db::Sqlite(_)).then(Arc::default))
    }

    /// Wait for this process's turn to write (at once on PostgreSQL).
    pub async fn turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.0 {
            Some(mutex) => Some(mutex.lock().await),
            None => None,
        }
    }
}

// The tables the delivery processes share. Times are the database's clock, so
// processes on several machines agree on what has expired.

/// A process says it is alive until `ttl` from now.
const HEARTBEAT: Statement = Statement {
    postgres: "INSERT INTO delivery_processes (id, expires_at)
VALUES ($1::jsonb ->> 'owner', now() + make_interval(secs => ($1::jsonb ->> 'ttl')::float8))
ON CONFLICT (id) DO UPDATE
SET expires_at = excluded.expires_at,
    updated_at = now()",
    sqlite: "INSERT INTO delivery_processes (id, expires_at)
VALUES (?1 ->> '$.owner', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || (?1 ->> '$.ttl') || ' seconds'))
ON CONFLICT (id) DO UPDATE
SET expires_at = excluded.expires_at,
    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
};

/// Forget the processes and leases that expired: an expired lease is as good as
/// none (nobody renews it; taking the unit over replaces it).
const FORGET_EXPIRED: [Statement; 2] = [
    Statement {
        postgres: "DELETE FROM delivery_processes WHERE expires_at <= now()",
        sqlite: "DELETE FROM delivery_processes
WHERE expires_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    },
    Statement {
        postgres: "DELETE FROM shard_leases WHERE expires_at <= now()",
        sqlite: "DELETE FROM shard_leases
WHERE expires_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    },
];

/// How many processes are alive.
const LIVE_PROCESSES: Statement = Statement {
    postgres: "SELECT json_build_object('id', id)::text
FROM delivery_processes
WHERE expires_at > now()
ORDER BY id",
    sqlite: "SELECT json_object('id', id)
FROM delivery_processes
WHERE expires_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
ORDER BY id",
};

/// Renew every lease the process still holds (unexpired); the ones it holds.
/// An expired lease is never renewed: someone may have taken it over.
const RENEW: Statement = Statement {
    postgres: "UPDATE shard_leases
SET expires_at = now() + make_interval(secs => ($1::jsonb ->> 'ttl')::float8),
    updated_at = now()
WHERE owner = $1::jsonb ->> 'owner'
  AND expires_at > now()
RETURNING json_build_object('id', id)::text",
    sqlite: "UPDATE shard_leases
SET expires_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || (?1 ->> '$.ttl') || ' seconds'),
    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE owner = ?1 ->> '$.owner'
  AND expires_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
RETURNING json_object('id', id)",
};

/// The leases that hold now, whoever's.
const HELD: Statement = Statement {
    postgres: "SELECT json_build_object('id', id)::text
FROM shard_leases
WHERE expires_at > now()",
    sqlite: "SELECT json_object('id', id)
FROM shard_leases
WHERE expires_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
};

/// Take a unit nobody holds (no row, or an expired one). A shard of epoch `e`
/// is taken only once no lease of an earlier epoch of its subscription holds:
/// the rebalancing barrier.
const ACQUIRE: Statement = Statement {
    postgres: "INSERT INTO shard_leases (id, subscription_id, epoch, shard, owner, expires_at)
SELECT $1::jsonb ->> 'id', $1::jsonb ->> 'subscription_id', ($1::jsonb ->> 'epoch')::int,
    ($1::jsonb ->> 'shard')::int, $1::jsonb ->> 'owner',
    now() + make_interval(secs => ($1::jsonb ->> 'ttl')::float8)
WHERE ($1::jsonb ->> 'shard')::int < 0
   OR NOT EXISTS (
    SELECT 1
    FROM shard_leases
    WHERE subscription_id = $1::jsonb ->> 'subscription_id'
      AND shard >= 0
      AND epoch < ($1::jsonb ->> 'epoch')::int
      AND expires_at > now())
ON CONFLICT (id) DO UPDATE
SET owner = excluded.owner,
    expires_at = excluded.expires_at,
    updated_at = now()
WHERE shard_leases.expires_at <= now()
RETURNING json_build_object('id', id)::text",
    sqlite: "INSERT INTO shard_leases (id, subscription_id, epoch, shard, owner, expires_at)
SELECT ?1 ->> '$.id', ?1 ->> '$.subscription_id', ?1 ->> '$.epoch', ?1 ->> '$.shard',
    ?1 ->> '$.owner',
    strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || (?1 ->> '$.ttl') || ' seconds')
WHERE (?1 ->> '$.shard') < 0
   OR NOT EXISTS (
    SELECT 1
    FROM shard_leases
    WHERE subscription_id = ?1 ->> '$.subscription_id'
      AND shard >= 0
      AND epoch < (?1 ->> '$.epoch')
      AND expires_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
ON CONFLICT (id) DO UPDATE
SET owner = excluded.owner,
    expires_at = excluded.expires_at,
    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE shard_leases.expires_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
RETURNING json_object('id', id)",
};

/// Give a unit up (its work stopped).
const RELEASE: Statement = Statement {
    postgres: "DELETE FROM shard_leases
WHERE id = $1::jsonb ->> 'id'
  AND owner = $1::jsonb ->> 'owner'",
    sqlite: "DELETE FROM shard_leases
WHERE id = ?1 ->> '$.id'
  AND owner = ?1 ->> '$.owner'",
};

/// A row's id.
#[derive(Debug, Clone, Deserialize)]
struct Id {
    id: String,
}

/// One delivery process's side of the shared tables: its heartbeat and its
/// leases, each lasting `ttl` unrenewed.
#[derive(Debug, Clone)]
pub struct Leases {
    pub owner: String,
    pub ttl: std::time::Duration,
}

impl Leases {
    fn doc(&self, more: serde_json::Value) -> String {
        let mut doc = serde_json::json!({
            "owner": self.owner,
            "ttl": self.ttl.as_secs_f64(),
        });
        if let (Some(doc), serde_json::Value::Object(more)) = (doc.as_object_mut(), more) {
            doc.extend(more);
        }
        doc.to_string()
    }

    /// Say this process is alive, forget what expired; the live processes.
    pub async fn heartbeat(&self, db: &Db) -> Result<Vec<String>, DbError> {
        let doc = self.doc(serde_json::Value::Null);
        db.conn()
            .execute(HEARTBEAT.get(db.dialect()).into(), &doc, &[])
            .await?;
        for statement in &FORGET_EXPIRED {
            db.conn()
                .execute(statement.get(db.dialect()).into(), "{}", &[])
                .await?;
        }
        let live: Vec<Id> = rows(db, &LIVE_PROCESSES, "{}").await?;
        Ok(live.into_iter().map(|p| p.id).collect())
    }

    /// Renew every lease this process holds; the ids of those it still holds.
    pub async fn renew(&self, db: &Db) -> Result<Vec<String>, DbError> {
        let held: Vec<Id> = rows(db, &RENEW, &self.doc(serde_json::Value::Null)).await?;
        Ok(held.into_iter().map(|l| l.id).collect())
    }

    /// The ids of the leases that hold now, whoever's.
    pub async fn held(&self, db: &Db) -> Result<Vec<String>, DbError> {
        let held: Vec<Id> = rows(db, &HELD, "{}").await?;
        Ok(held.into_iter().map(|l| l.id).collect())
    }

    /// Take `unit` if nobody holds it (and, for a shard, no earlier epoch's
    /// lease of its subscription holds); whether it was taken.
    pub async fn acquire(&self, db: &Db, unit: &Unit) -> Result<bool, DbError> {
        let doc = self.doc(serde_json::json!({
            "id": unit.lease_id(),
            "subscription_id": unit.subscription_id,
            "epoch": unit.epoch,
            "shard": unit.shard,
        }));
        Ok(!rows::<Id>(db, &ACQUIRE, &doc).await?.is_empty())
    }

    /// Give `unit` up.
    pub async fn release(&self, db: &Db, unit: &Unit) -> Result<(), DbError> {
        let doc = self.doc(serde_json::json!({ "id": unit.lease_id() }));
        db.conn()
            .execute(RELEASE.get(db.dialect()).into(), &doc, &[])
            .await?;
        Ok(())
    }
}

/// What one lease covers: a subscription's relay (`shard` -1, epoch 0), or one
/// shard of its deliveries under an epoch.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Unit {
    pub subscription_id: String,
    pub epoch: i32,
    pub shard: i32,
}

impl Unit {
    /// The relay's shard number.
    pub const RELAY: i32 = -1;

    pub fn lease_id(&self) -> String {
        format!("{}/{}/{}", self.subscription_id, self.epoch, self.shard)
    }

    pub fn is_relay(&self) -> bool {
        self.shard == Unit::RELAY
    }
}

/// Count one webhook of a throttled subscription in the database's current
/// second, over every process: `false` when `limit` were started in it already.
const TAKE_THROTTLE: Statement = Statement {
    postgres: "INSERT INTO throttle_windows (id, second, started)
VALUES ($1::jsonb ->> 'id', floor(extract(epoch FROM clock_timestamp()))::bigint, 1)
ON CONFLICT (id) DO UPDATE
SET started = CASE WHEN throttle_windows.second = excluded.second
        THEN throttle_windows.started + 1 ELSE 1 END,
    second = excluded.second,
    updated_at = now()
WHERE throttle_windows.second <> excluded.second
   OR throttle_windows.started < ($1::jsonb ->> 'limit')::int
RETURNING json_build_object('id', id)::text",
    sqlite: "INSERT INTO throttle_windows (id, second, started)
VALUES (?1 ->> '$.id', CAST(strftime('%s', 'now') AS INTEGER), 1)
ON CONFLICT (id) DO UPDATE
SET started = CASE WHEN throttle_windows.second = excluded.second
        THEN throttle_windows.started + 1 ELSE 1 END,
    second = excluded.second,
    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE throttle_windows.second <> excluded.second
   OR throttle_windows.started < (?1 ->> '$.limit')
RETURNING json_object('id', id)",
};

/// Take one webhook of `subscription_id`'s budget of `limit` a second, over
/// every process; `false` when this second's is spent.
pub async fn take_throttle(db: &Db, subscription_id: &str, limit: i32) -> Result<bool, DbError> {
    let doc = serde_json::json!({ "id": subscription_id, "limit": limit }).to_string();
    Ok(!rows::<Id>(db, &TAKE_THROTTLE, &doc).await?.is_empty())
}

// Pull mode. Leases are taken and answered by conditional UPDATEs, not through
// the DAO's read-then-write, so that two receivers never hold the same message
// and a lease is applied at most once. They set `hash_code` to 0, so the DAO's
// next write of the row is never taken for an unchanged one.

/// Lease at most `max` visible messages of a subscription: one UPDATE … RETURNING
/// whose subquery picks the rows. On PostgreSQL the subquery locks them `FOR
/// UPDATE SKIP LOCKED`, so a concurrent receive takes the next ones instead of
/// waiting (and re-checks visibility on rows committed meanwhile); on SQLite
/// writers are serialized, so the statement is atomic as it stands. A message
/// leased before and not answered for (its lease expired) is marked
/// `lease expired` in `last_error`: ack, nack and delay always overwrite it.
const LEASE: Statement = Statement {
    postgres: "UPDATE messages m
SET lease = 'lease_' || replace(gen_random_uuid()::text, '-', ''),
    attempts = m.attempts + 1,
    next_attempt_at = now() + make_interval(secs => ($1::jsonb ->> 'visibility')::int),
    last_error = CASE WHEN m.lease IS NULL THEN m.last_error ELSE 'lease expired' END,
    hash_code = 0,
    updated_at = now()
WHERE m.id IN (
    SELECT id
    FROM messages
    WHERE subscription_id = $1::jsonb ->> 'subscription_id'
      AND agency_id = ($1::jsonb ->> 'agency_id')::uuid
      AND status = 'pending'
      AND next_attempt_at <= now()
    ORDER BY next_attempt_at, sequence
    LIMIT ($1::jsonb ->> 'max')::bigint
    FOR UPDATE SKIP LOCKED)
RETURNING json_build_object(
    'id', m.id, 'sequence', m.sequence, 'event_type', m.event_type, 'body', m.body,
    'attempts', m.attempts, 'lease', m.lease, 'visible_until', m.next_attempt_at,
    'expired', m.last_error IS NOT DISTINCT FROM 'lease expired')::text",
    sqlite: "UPDATE messages
SET lease = 'lease_' || lower(hex(randomblob(16))),
    attempts = attempts + 1,
    next_attempt_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || (?1 ->> '$.visibility') || ' seconds'),
    last_error = CASE WHEN lease IS NULL THEN last_error ELSE 'lease expired' END,
    hash_code = 0,
    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE id IN (
    SELECT id
    FROM messages
    WHERE subscription_id = ?1 ->> '$.subscription_id'
      AND agency_id = ?1 ->> '$.agency_id'
      AND status = 'pending'
      AND next_attempt_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    ORDER BY next_attempt_at, sequence
    LIMIT ?1 ->> '$.max')
RETURNING json_object(
    'id', id, 'sequence', sequence, 'event_type', event_type, 'body', body,
    'attempts', attempts, 'lease', lease, 'visible_until', next_attempt_at,
    'expired', json(CASE WHEN last_error IS 'lease expired' THEN 'true' ELSE 'false' END))",
};

/// The message a lease holds now (pending, its lease not expired).
const LEASED: Statement = Statement {
    postgres: "SELECT json_build_object('id', id, 'attempts', attempts)::text
FROM messages
WHERE subscription_id = $1::jsonb ->> 'subscription_id'
  AND agency_id = ($1::jsonb ->> 'agency_id')::uuid
  AND lease = $1::jsonb ->> 'lease'
  AND status = 'pending'
  AND next_attempt_at > now()",
    sqlite: "SELECT json_object('id', id, 'attempts', attempts)
FROM messages
WHERE subscription_id = ?1 ->> '$.subscription_id'
  AND agency_id = ?1 ->> '$.agency_id'
  AND lease = ?1 ->> '$.lease'
  AND status = 'pending'
  AND next_attempt_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
};

/// Answer for a lease that still holds: the message's new status, next visible
/// time and error; the lease ends.
const SETTLE: Statement = Statement {
    postgres: "UPDATE messages
SET status = $1::jsonb ->> 'status',
    next_attempt_at = ($1::jsonb ->> 'next_attempt_at')::timestamptz,
    delivered_at = ($1::jsonb ->> 'delivered_at')::timestamptz,
    last_error = $1::jsonb ->> 'last_error',
    lease = NULL,
    hash_code = 0,
    updated_at = now()
WHERE subscription_id = $1::jsonb ->> 'subscription_id'
  AND agency_id = ($1::jsonb ->> 'agency_id')::uuid
  AND lease = $1::jsonb ->> 'lease'
  AND status = 'pending'
  AND next_attempt_at > now()
RETURNING json_build_object('id', id, 'attempts', attempts)::text",
    sqlite: "UPDATE messages
SET status = ?1 ->> '$.status',
    next_attempt_at = strftime('%Y-%m-%dT%H:%M:%fZ', ?1 ->> '$.next_attempt_at'),
    delivered_at = strftime('%Y-%m-%dT%H:%M:%fZ', ?1 ->> '$.delivered_at'),
    last_error = ?1 ->> '$.last_error',
    lease = NULL,
    hash_code = 0,
    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE subscription_id = ?1 ->> '$.subscription_id'
  AND agency_id = ?1 ->> '$.agency_id'
  AND lease = ?1 ->> '$.lease'
  AND status = 'pending'
  AND next_attempt_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
RETURNING json_object('id', id, 'attempts', attempts)",
};

/// Move a held lease's end (SQS's ChangeMessageVisibility): the message is
/// visible again after `seconds`, and the lease holds until then.
const DELAY: Statement = Statement {
    postgres: "UPDATE messages
SET next_attempt_at = now() + make_interval(secs => ($1::jsonb ->> 'seconds')::int),
    hash_code = 0,
    updated_at = now()
WHERE subscription_id = $1::jsonb ->> 'subscription_id'
  AND agency_id = ($1::jsonb ->> 'agency_id')::uuid
  AND lease = $1::jsonb ->> 'lease'
  AND status = 'pending'
  AND next_attempt_at > now()
RETURNING json_build_object('id', id, 'attempts', attempts)::text",
    sqlite: "UPDATE messages
SET next_attempt_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || (?1 ->> '$.seconds') || ' seconds'),
    hash_code = 0,
    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE subscription_id = ?1 ->> '$.subscription_id'
  AND agency_id = ?1 ->> '$.agency_id'
  AND lease = ?1 ->> '$.lease'
  AND status = 'pending'
  AND next_attempt_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
RETURNING json_object('id', id, 'attempts', attempts)",
};

/// A message [`LEASE`] took.
#[derive(Debug, Clone, Deserialize)]
pub struct Leased {
    pub id: String,
    pub sequence: i64,
    pub event_type: String,
    pub body: String,
    pub attempts: i32,
    pub lease: String,
    pub visible_until: DateTime<Utc>,
    /// Its previous lease expired unanswered.
    pub expired: bool,
}

/// A message a lease names.
#[derive(Debug, Clone, Deserialize)]
pub struct Held {
    pub id: String,
    pub attempts: i32,
}

/// Where a subscription's messages are, for the pull statements.
#[derive(Debug, Clone, Copy)]
pub struct Queue<'a> {
    pub agency_id: Uuid,
    pub subscription_id: &'a str,
}

impl Queue<'_> {
    fn doc(&self, more: serde_json::Value) -> String {
        let mut doc = serde_json::json!({
            "agency_id": self.agency_id,
            "subscription_id": self.subscription_id,
        });
        if let (Some(doc), serde_json::Value::Object(more)) = (doc.as_object_mut(), more) {
            doc.extend(more);
        }
        doc.to_string()
    }

    /// Lease at most `max` visible messages for `visibility` seconds, oldest
    /// first.
    pub async fn lease(&self, db: &Db, max: i32, visibility: i32) -> Result<Vec<Leased>, DbError> {
        let doc = self.doc(serde_json::json!({ "max": max, "visibility": visibility }));
        let mut leased: Vec<Leased> = rows(db, &LEASE, &doc).await?;
        leased.sort_by_key(|m| m.sequence);
        Ok(leased)
    }

    /// The message `lease` holds now.
    pub async fn held(&self, db: &Db, lease: &str) -> Result<Option<Held>, DbError> {
        let doc = self.doc(serde_json::json!({ "lease": lease }));
        Ok(rows(db, &LEASED, &doc).await?.into_iter().next())
    }

    /// End `lease` with the message's next state; `None` when it no longer holds.
    pub async fn settle(
        &self,
        db: &Db,
        lease: &str,
        next: Settled,
    ) -> Result<Option<Held>, DbError> {
        let doc = self.doc(serde_json::json!({
            "lease": lease,
            "status": next.status,
            "next_attempt_at": next.next_attempt_at,
            "delivered_at": next.delivered_at,
            "last_error": next.last_error,
        }));
        Ok(rows(db, &SETTLE, &doc).await?.into_iter().next())
    }

    /// Make `lease`'s message visible again in `seconds`; `None` when the lease
    /// no longer holds.
    pub async fn delay(&self, db: &Db, lease: &str, seconds: i32) -> Result<Option<Held>, DbError> {
        let doc = self.doc(serde_json::json!({ "lease": lease, "seconds": seconds }));
        Ok(rows(db, &DELAY, &doc).await?.into_iter().next())
    }
}

/// A leased message's state once answered for.
#[derive(Debug, Clone)]
pub struct Settled {
    pub status: MessageStatus,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

async fn rows<T: serde::de::DeserializeOwned>(
    db: &Db,
    statement: &Statement,
    doc: &str,
) -> Result<Vec<T>, DbError> {
    let sql = statement.get(db.dialect());
    db.conn()
        .fetch_all(sql.into(), doc, &[])
        .await?
        .iter()
        .map(|row| decode(row))
        .collect()
}
