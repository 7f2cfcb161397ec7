//! The janitor: delivered messages and their attempts are removed once they are
//! older than the retention (`[delivery] retention`, default 7 days), dead
//! letters once older than the dead-letter retention (default 30 days; a
//! redrive makes a message pending again, so it is kept until delivered or
//! dead anew), and the messages of deleted subscriptions (which nobody can read
//! any more) at the next sweep. "Older" is the row's `updated_at`: when it was
//! delivered or died.
//!
//! A sweep deletes in batches of [`BATCH`] messages, each batch one
//! transaction (the messages, then their attempts), so a large backlog never
//! holds the database's write lock for long; it runs at start and then every
//! tenth of the retention (at least a second, at most an hour).

use std::time::Duration;

use blueprint::chrono::{SecondsFormat, Utc};
use blueprint::db::{Db, DbError, Statement, decode};
use blueprint::serde_json::{self, json};
use blueprint::tokio;
use serde::Deserialize;

/// Messages removed per transaction.
pub const BATCH: i64 = 1000;

/// Remove at most `limit` messages past their retention (delivered ones
/// updated before `cutoff`, dead ones before `dead_cutoff`, those whose
/// subscription is gone): their ids. A write first, so on SQLite the batch's
/// transaction takes the write lock at once (a read first could not upgrade
/// while another process writes).
const DELETE_EXPIRED: Statement = Statement {
    postgres: "DELETE FROM messages
WHERE id IN (
    SELECT m.id
    FROM messages m
    WHERE (m.status = 'delivered' AND m.updated_at < ($1::jsonb ->> 'cutoff')::timestamptz)
       OR (m.status = 'dead' AND m.updated_at < ($1::jsonb ->> 'dead_cutoff')::timestamptz)
       OR NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.id = m.subscription_id)
    LIMIT ($1::jsonb ->> 'limit')::bigint)
RETURNING json_build_object('id', id)::text",
    sqlite: "DELETE FROM messages
WHERE id IN (
    SELECT m.id
    FROM messages m
    WHERE (m.status = 'delivered' AND m.updated_at < ?1 ->> '$.cutoff')
       OR (m.status = 'dead' AND m.updated_at < ?1 ->> '$.dead_cutoff')
       OR NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.id = m.subscription_id)
    LIMIT ?1 ->> '$.limit')
RETURNING json_object('id', id)",
};

/// The attempts of the messages `ids` lists.
const DELETE_ATTEMPTS: Statement = Statement {
    postgres: "DELETE FROM attempts
WHERE message_id IN (SELECT jsonb_array_elements_text($1::jsonb -> 'ids'))",
    sqlite: "DELETE FROM attempts
WHERE message_id IN (SELECT value FROM json_each(?1, '$.ids'))",
};

#[derive(Debug, Deserialize)]
struct Expired {
    id: String,
}

/// What one sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub messages: u64,
    pub attempts: u64,
}

#[derive(Debug, Clone)]
pub struct Janitor {
    pub db: Db,
    /// How long delivered messages (and their attempts) are kept.
    pub retention: Duration,
    /// How long dead letters are kept.
    pub dead_retention: Duration,
    /// Messages removed per transaction ([`BATCH`]).
    pub batch: i64,
}

impl Janitor {
    /// Sweep now and then every tenth of the retention, until dropped.
    pub async fn run(self) {
        let every = (self.retention / 10).clamp(Duration::from_secs(1), Duration::from_secs(3600));
        loop {
            match self.sweep().await {
                Ok(swept) if swept.messages > 0 => tracing::info!(
                    messages = swept.messages,
                    attempts = swept.attempts,
                    "retention: removed expired messages"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "retention: sweep failed"),
            }
            tokio::time::sleep(every).await;
        }
    }

    /// Remove everything past its retention, a batch per transaction.
    pub async fn sweep(&self) -> Result<Swept, DbError> {
        let now = Utc::now();
        let cutoff = |keep: Duration| {
            let keep = blueprint::chrono::Duration::from_std(keep)
                .unwrap_or(blueprint::chrono::Duration::MAX);
            now.checked_sub_signed(keep)
                .unwrap_or(blueprint::chrono::DateTime::<Utc>::MIN_UTC)
                .to_rfc3339_opts(SecondsFormat::Millis, true)
        };
        let query = json!({
            "cutoff": cutoff(self.retention),
            "dead_cutoff": cutoff(self.dead_retention),
            "limit": self.batch,
        })
        .to_string();
        let dialect = self.db.dialect();
        let mut swept = Swept::default();
        loop {
            let mut tx = self.db.begin().await?;
            let expired: Vec<Expired> = tx
                .conn()
                .fetch_all(DELETE_EXPIRED.get(dialect).into(), &query, &[])
                .await?
                .iter()
                .map(|row| decode(row))
                .collect::<Result<_, _>>()?;
            if expired.is_empty() {
                tx.rollback().await?;
                return Ok(swept);
            }
            let ids: Vec<&str> = expired.iter().map(|e| e.id.as_str()).collect();
            let doc = serde_json::json!({ "ids": ids }).to_string();
            swept.messages += expired.len() as u64;
            swept.attempts += tx
                .conn()
                .execute(DELETE_ATTEMPTS.get(dialect).into(), &doc, &[])
                .await?;
            tx.commit().await?;
            if (expired.len() as i64) < self.batch {
                return Ok(swept);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use blueprint::chrono::DateTime;
    use blueprint::db::migrate::migrate;
    use blueprint::uuid::Uuid;
    use blueprint_testkit::TestPostgres;
    use delivery_api::dao::{attempts, messages, subscriptions};
    use delivery_api::models::{
        Attempt, Message, MessageStatus, Subscription, SubscriptionMode, SubscriptionStatus,
    };

    use super::*;

    const BACKDATE: Statement = Statement {
        postgres: "UPDATE messages SET updated_at = ($1::jsonb ->> 'at')::timestamptz
WHERE id = $1::jsonb ->> 'id'",
        sqlite: "UPDATE messages SET updated_at = ?1 ->> '$.at' WHERE id = ?1 ->> '$.id'",
    };

    const IDS: Statement = Statement {
        postgres: "SELECT json_build_object('id', id)::text FROM messages ORDER BY id",
        sqlite: "SELECT json_object('id', id) FROM messages ORDER BY id",
    };

    fn subscription(agency_id: Uuid, id: &str) -> Subscription {
        Subscription {
            id: id.into(),
            agency_id,
            stream: "test.v0.order_event.json".into(),
            event_types: None,
            url: "https://example.com/hook".into(),
            headers: None,
            mode: SubscriptionMode::Push,
            delivery_policy: serde_json::from_str("{}").unwrap(),
            throttle: None,
            status: SubscriptionStatus::Active,
            disabled_reason: None,
            start: "latest".into(),
            start_sequence: Some(1),
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
            previous_secret: None,
            previous_secret_expires_at: None,
            shards: 4,
            shard_epoch: 0,
        }
    }

    /// A message of `subscription` in `status`, last changed `age` ago, with two
    /// attempts.
    async fn message(
        db: &Db,
        agency_id: Uuid,
        subscription: &str,
        id: &str,
        status: MessageStatus,
        age: Duration,
    ) {
        let message = Message {
            id: id.into(),
            subscription_id: subscription.into(),
            agency_id,
            stream: "test.v0.order_event.json".into(),
            sequence: 1,
            event_id: id.into(),
            event_type: "order_placed".into(),
            shard_key: 0,
            body: "{}".into(),
            status,
            attempts: 2,
            next_attempt_at: None,
            delivered_at: None,
            last_error: None,
            lease: None,
        };
        messages::insert(db, &messages::Scope { agency_id }, &message)
            .await
            .unwrap();
        for n in 0..2 {
            let attempt = Attempt {
                id: format!("att_{id}_{n}"),
                message_id: id.into(),
                subscription_id: subscription.into(),
                agency_id,
                attempted_at: Utc::now(),
                status_code: Some(500),
                latency_ms: 1,
                response: None,
                error: None,
            };
            attempts::insert(db, &attempts::Scope { agency_id }, &attempt)
                .await
                .unwrap();
        }
        let at: DateTime<Utc> = Utc::now() - blueprint::chrono::Duration::from_std(age).unwrap();
        let doc =
            json!({"id": id, "at": at.to_rfc3339_opts(SecondsFormat::Millis, true)}).to_string();
        let changed = db
            .conn()
            .execute(BACKDATE.get(db.dialect()).into(), &doc, &[])
            .await
            .unwrap();
        assert_eq!(changed, 1);
    }

    #[derive(Deserialize)]
    struct Id {
        id: String,
    }

    async fn ids(db: &Db) -> Vec<String> {
        let rows = db
            .conn()
            .fetch_all(IDS.get(db.dialect()).into(), "{}", &[])
            .await
            .unwrap();
        rows.iter().map(|r| decode::<Id>(r).unwrap().id).collect()
    }

    /// Delivered messages past the retention, dead ones past theirs and those
    /// of deleted subscriptions go, with their attempts, in batches; the rest
    /// stays.
    async fn removes_what_expired(db: Db) {
        migrate(&db, &delivery_api::migrations(db.dialect()))
            .await
            .unwrap();
        let agency = Uuid::new_v4();
        let scope = subscriptions::Scope { agency_id: agency };
        subscriptions::insert(&db, &scope, &subscription(agency, "sub_kept"))
            .await
            .unwrap();
        subscriptions::insert(&db, &scope, &subscription(agency, "sub_deleted"))
            .await
            .unwrap();
        let day = Duration::from_secs(24 * 3600);
        let cases = [
            (
                "msg_a_delivered_old",
                "sub_kept",
                MessageStatus::Delivered,
                3 * day,
            ),
            (
                "msg_b_delivered_old",
                "sub_kept",
                MessageStatus::Delivered,
                2 * day,
            ),
            (
                "msg_c_delivered_old",
                "sub_kept",
                MessageStatus::Delivered,
                8 * day,
            ),
            (
                "msg_d_delivered_new",
                "sub_kept",
                MessageStatus::Delivered,
                day / 2,
            ),
            ("msg_e_dead_old", "sub_kept", MessageStatus::Dead, 3 * day),
            (
                "msg_f_dead_older",
                "sub_kept",
                MessageStatus::Dead,
                11 * day,
            ),
            (
                "msg_g_pending_old",
                "sub_kept",
                MessageStatus::Pending,
                30 * day,
            ),
            (
                "msg_h_of_deleted",
                "sub_deleted",
                MessageStatus::Pending,
                Duration::ZERO,
            ),
        ];
        for (id, subscription, status, age) in cases {
            message(&db, agency, subscription, id, status, age).await;
        }
        assert!(
            subscriptions::delete_by_id(&db, &scope, "sub_deleted")
                .await
                .unwrap()
        );

        let janitor = Janitor {
            db: db.clone(),
            retention: day,
            dead_retention: 10 * day,
            batch: 2,
        };
        let swept = janitor.sweep().await.unwrap();
        assert_eq!(
            swept,
            Swept {
                messages: 5,
                attempts: 10
            }
        );
        assert_eq!(
            ids(&db).await,
            ["msg_d_delivered_new", "msg_e_dead_old", "msg_g_pending_old"]
        );
        let left = attempts::list(
            &db,
            &attempts::Scope { agency_id: agency },
            &attempts::Filter::default(),
            &blueprint::db::Page::new(100, 0),
        )
        .await
        .unwrap();
        let mut of: Vec<&str> = left.iter().map(|a| a.message_id.as_str()).collect();
        of.sort_unstable();
        assert_eq!(
            of,
            [
                "msg_d_delivered_new",
                "msg_d_delivered_new",
                "msg_e_dead_old",
                "msg_e_dead_old",
                "msg_g_pending_old",
                "msg_g_pending_old"
            ]
        );
        // Nothing more to do.
        assert_eq!(janitor.sweep().await.unwrap(), Swept::default());
    }

    #[tokio::test]
    async fn removes_what_expired_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("delivery.sqlite").display());
        removes_what_expired(Db::connect(&url).await.unwrap()).await;
    }

    #[tokio::test]
    async fn removes_what_expired_on_postgres() {
        let pg = match TestPostgres::start() {
            Ok(pg) => pg,
            Err(e) if std::env::var_os("CI").is_none() => {
                eprintln!("note: no PostgreSQL ({e}); skipping");
                return;
            }
            Err(e) => panic!("PostgreSQL: {e}"),
        };
        let url = pg.database("delivery_retention").unwrap();
        removes_what_expired(Db::connect(&url).await.unwrap()).await;
    }
}
