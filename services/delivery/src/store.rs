//! The queries the generated DAO does not have: across tenants (what the relay
//! and the dispatcher serve) and by time. Each returns ids with their agency, and
//! rows are then read and written through the scoped DAO, so `hash_code` and the
//! scope checks stay the DAO's.

use blueprint::db::{Db, DbError, Statement, decode};
use blueprint::serde_json;
use blueprint::uuid::Uuid;
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

/// Every push subscription, whatever its status (its relay keeps storing
/// messages while it is paused or disabled).
const PUSH_SUBSCRIPTIONS: Statement = Statement {
    postgres: "SELECT json_build_object('id', id, 'agency_id', agency_id, 'stream', stream)::text
FROM subscriptions
WHERE mode = 'push'
ORDER BY id
LIMIT ($1::jsonb ->> 'limit')::bigint",
    sqlite: "SELECT json_object('id', id, 'agency_id', agency_id, 'stream', stream)
FROM subscriptions
WHERE mode = 'push'
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
/// failed attempt).
const MESSAGE_COUNTS: Statement = Statement {
    postgres: "SELECT json_build_object(
    'delivered', count(*) FILTER (WHERE status = 'delivered'),
    'pending', count(*) FILTER (WHERE status = 'pending'),
    'failing', count(*) FILTER (WHERE status = 'pending' AND attempts > 0),
    'dead', count(*) FILTER (WHERE status = 'dead'))::text
FROM messages
WHERE subscription_id = $1::jsonb ->> 'subscription_id'
  AND agency_id = ($1::jsonb ->> 'agency_id')::uuid",
    sqlite: "SELECT json_object(
    'delivered', count(*) FILTER (WHERE status = 'delivered'),
    'pending', count(*) FILTER (WHERE status = 'pending'),
    'failing', count(*) FILTER (WHERE status = 'pending' AND attempts > 0),
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

pub async fn push_subscriptions(db: &Db) -> Result<Vec<Relayed>, DbError> {
    let doc = serde_json::json!({ "limit": MAX_SUBSCRIPTIONS }).to_string();
    rows(db, &PUSH_SUBSCRIPTIONS, &doc).await
}

pub async fn due_messages(db: &Db, busy: &[String], limit: i64) -> Result<Vec<Key>, DbError> {
    let doc = serde_json::json!({ "busy": busy, "limit": limit }).to_string();
    rows(db, &DUE_MESSAGES, &doc).await
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
