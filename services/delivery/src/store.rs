//! The queries the generated DAO does not have: across tenants (what the relay
//! and the dispatcher serve) and by time. Each returns ids with their agency, and
//! rows are then read and written through the scoped DAO, so `hash_code` and the
//! scope checks stay the DAO's. Pull mode's leases are the exception: conditional
//! UPDATEs scoped by agency and subscription in the statement itself (see
//! [`Queue`]).

use blueprint::chrono::{DateTime, Utc};
use blueprint::db::{Db, DbError, Statement, decode};
use blueprint::serde_json;
use blueprint::uuid::Uuid;
use delivery_api::models::MessageStatus;
use serde::Deserialize;

/// A row's key and tenant.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Key {
    pub id: String,
    pub agency_id: Uuid,
}

/// A subscription the relay serves.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Relayed {
    pub id: String,
    pub agency_id: Uuid,
    pub stream: String,
}

/// Every subscription, push or pull, whatever its status (its relay keeps
/// storing messages while it is paused or disabled).
const RELAYED_SUBSCRIPTIONS: Statement = Statement {
    postgres: "SELECT json_build_object('id', id, 'agency_id', agency_id, 'stream', stream)::text
FROM subscriptions
ORDER BY id
LIMIT ($1::jsonb ->> 'limit')::bigint",
    sqlite: "SELECT json_object('id', id, 'agency_id', agency_id, 'stream', stream)
FROM subscriptions
ORDER BY id
LIMIT ?1 ->> '$.limit'",
};

/// Pending messages of active push subscriptions whose next attempt is due,
/// soonest first, leaving out those being attempted (`busy`).
const DUE_MESSAGES: Statement = Statement {
    postgres: "SELECT json_build_object('id', m.id, 'agency_id', m.agency_id)::text
FROM messages m
JOIN subscriptions s ON s.id = m.subscription_id
WHERE m.status = 'pending'
  AND s.status = 'active'
  AND s.mode = 'push'
  AND m.next_attempt_at <= now()
  AND m.id NOT IN (SELECT jsonb_array_elements_text($1::jsonb -> 'busy'))
ORDER BY m.next_attempt_at
LIMIT ($1::jsonb ->> 'limit')::bigint",
    sqlite: "SELECT json_object('id', m.id, 'agency_id', m.agency_id)
FROM messages m
JOIN subscriptions s ON s.id = m.subscription_id
WHERE m.status = 'pending'
  AND s.status = 'active'
  AND s.mode = 'push'
  AND m.next_attempt_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
  AND m.id NOT IN (SELECT value FROM json_each(?1, '$.busy'))
ORDER BY m.next_attempt_at
LIMIT ?1 ->> '$.limit'",
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

/// At most this many subscriptions are relayed by one process.
pub const MAX_SUBSCRIPTIONS: i64 = 10_000;

pub async fn relayed_subscriptions(db: &Db) -> Result<Vec<Relayed>, DbError> {
    let doc = serde_json::json!({ "limit": MAX_SUBSCRIPTIONS }).to_string();
    rows(db, &RELAYED_SUBSCRIPTIONS, &doc).await
}

pub async fn due_messages(db: &Db, busy: &[String], limit: i64) -> Result<Vec<Key>, DbError> {
    let doc = serde_json::json!({ "busy": busy, "limit": limit }).to_string();
    rows(db, &DUE_MESSAGES, &doc).await
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
