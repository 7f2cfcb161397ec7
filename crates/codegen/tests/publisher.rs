//! The journal publisher end to end, on the users service's generated package:
//! DAO writes → journal → `blueprint::publish::Publisher` → stream. Every case runs
//! on SQLite with the `memory:` and the `sqlite:` stream backends, and on
//! PostgreSQL (`TestPostgres`) with NATS JetStream (`TestNats`, skipped locally
//! when `nats-server` is missing, a failure under `CI=true`).
//!
//! Publishers here poll once a minute, so events arrive because a commit woke the
//! publisher. Which wake-up works is `publisher_wakes.rs`'s to show: the bell is
//! process-wide, and these cases run in parallel.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod publishing;

use std::time::{Duration, Instant};

use blueprint::db::{Write, journal};
use blueprint::publish::{Publisher, PublisherConfig, read_queued};
use blueprint::stream::StreamEvent;
use blueprint_testkit::TestPostgres;
use publishing::{Env, SOON, STREAM, decode, on_postgres, on_sqlite, user};
use users_api::dao::users;
use users_api::events::{self, UserEventPublisher};
use users_api::models::{UserDeleted, UserEvent, UserUpserted};

// ---------------------------------------------------------------------------
// Cases

/// Each write is one event, in order, typed and shaped as the spec says; an
/// unchanged upsert is none; a delete carries the key.
async fn every_write_is_one_event(env: Env) {
    let _publisher = env.start();
    let alice = user("u1", "alice@example.com");
    users::insert(&env.db, &alice).await.unwrap();
    let mut renamed = alice.clone();
    renamed.email = Some("alice@new.example.com".into());
    assert_eq!(
        users::upsert(&env.db, &renamed).await.unwrap(),
        Write::Changed
    );
    assert_eq!(
        users::upsert(&env.db, &renamed).await.unwrap(),
        Write::Unchanged
    );
    users::insert(&env.db, &user("u2", "bob@example.com"))
        .await
        .unwrap();
    assert!(users::delete_by_id(&env.db, "u1").await.unwrap());

    let got = env.events(4).await;
    let types: Vec<&str> = got.iter().map(|m| m.event.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "user_upserted",
            "user_upserted",
            "user_upserted",
            "user_deleted"
        ]
    );
    let bodies: Vec<UserEvent> = got.iter().map(decode).collect();
    match &bodies[..] {
        [
            UserEvent::UserUpserted(a),
            UserEvent::UserUpserted(b),
            UserEvent::UserUpserted(c),
            UserEvent::UserDeleted(d),
        ] => {
            assert_eq!(a.user, alice);
            assert_eq!(b.user, renamed);
            assert_eq!(c.user.id, "u2");
            assert_eq!(d.id, "u1");
        }
        other => panic!("unexpected events {other:?}"),
    }
    // The envelope is the body's: one id, one time; the key partitions.
    for (m, body) in got.iter().zip(&bodies) {
        let envelope = body.envelope().unwrap();
        assert_eq!(m.event.id, envelope.id);
        assert_eq!(m.event.timestamp, envelope.timestamp);
        assert!(
            blueprint::uuid::Uuid::parse_str(&m.event.id).is_ok(),
            "{}",
            m.event.id
        );
    }
    let keys: Vec<Option<&str>> = got
        .iter()
        .map(|m| m.event.partition_key.as_deref())
        .collect();
    assert_eq!(keys, [Some("u1"), Some("u1"), Some("u2"), Some("u1")]);
    // The wire form is the union's: the discriminator and the member's fields.
    let json: serde_json::Value = serde_json::from_slice(&got[3].event.payload).unwrap();
    assert_eq!(json["discriminator"], "user_deleted");
    assert_eq!(json["id"], "u1");
    assert_eq!(env.queued().await, 0);
}

/// A publisher that crashed after publishing but before taking the records off
/// the queue: the next one publishes them again, and the stream keeps one copy.
async fn republish_after_a_crash_dedupes(env: Env) {
    for i in 0..3 {
        users::insert(
            &env.db,
            &user(&format!("u{i}"), &format!("{i}@example.com")),
        )
        .await
        .unwrap();
    }
    let publisher = env.publisher();
    publisher.ensure_streams().await.unwrap();
    // What the crashed publisher did: publish, and never mark.
    let records = read_queued(&env.db, &events::users::JOURNALED, 100)
        .await
        .unwrap();
    let sent: Vec<_> = records
        .iter()
        .map(|r| events::users::to_event(r).unwrap())
        .collect();
    env.streams.publish_batch(STREAM, &sent).await.unwrap();
    assert_eq!(env.queued().await, 3);

    assert_eq!(publisher.publish_queued().await.unwrap(), 3);
    assert_eq!(env.queued().await, 0);
    let got = env.events(3).await;
    assert_eq!(got.len(), 3, "republished events are stored once");
    let ids: Vec<&str> = got.iter().map(|m| m.event.id.as_str()).collect();
    let sent_ids: Vec<&str> = sent.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, sent_ids);
}

/// A replay queues the records again and the publisher sends them again: inside
/// the stream's duplicate window, as the same events, stored once.
async fn replay_publishes_again(env: Env) {
    let publisher = env.publisher();
    publisher.ensure_streams().await.unwrap();
    users::insert(&env.db, &user("u1", "a@example.com"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let between = blueprint::chrono::Utc::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    users::insert(&env.db, &user("u2", "b@example.com"))
        .await
        .unwrap();
    assert_eq!(publisher.publish_queued().await.unwrap(), 2);
    assert_eq!(journal::replay(&env.db, "users", 0).await.unwrap(), 2);
    assert_eq!(env.queued().await, 2);
    assert_eq!(publisher.publish_queued().await.unwrap(), 2);
    assert_eq!(env.queued().await, 0);
    // By time: the records written since.
    assert_eq!(journal::replay(&env.db, "users", between).await.unwrap(), 1);
    assert_eq!(publisher.publish_queued().await.unwrap(), 1);
    assert_eq!(
        env.events(2).await.len(),
        2,
        "deduplicated within the window"
    );
}

/// A typed publisher for events outside the journal: the union's encoding and
/// the member's envelope.
async fn typed_publisher(env: Env) {
    let publisher = UserEventPublisher::new(env.streams.clone());
    publisher.ensure_stream().await.unwrap();
    let at = "2024-05-01T10:00:00Z".parse().unwrap();
    let ack = publisher
        .publish(UserDeleted {
            event_id: "evt-1".into(),
            timestamp: at,
            id: "u9".into(),
        })
        .await
        .unwrap();
    assert!(!ack.duplicate);
    let batch = [
        UserEvent::from(UserUpserted {
            event_id: "evt-2".into(),
            timestamp: at,
            user: user("u1", "a@example.com"),
        }),
        UserEvent::from(UserDeleted {
            event_id: "evt-1".into(),
            timestamp: at,
            id: "u9".into(),
        }),
    ];
    let acks = publisher.publish_batch(&batch).await.unwrap();
    assert_eq!(
        acks.iter().map(|a| a.duplicate).collect::<Vec<_>>(),
        [false, true]
    );
    let got = env.events(2).await;
    let ids: Vec<&str> = got.iter().map(|m| m.event.id.as_str()).collect();
    assert_eq!(ids, ["evt-1", "evt-2"]);
    assert_eq!(got[1].event.event_type, "user_upserted");
    assert_eq!(got[1].event.timestamp, at);
    assert_eq!(decode(&got[1]), batch[0]);
    // The stream has the spec's settings.
    assert_eq!(
        UserEvent::stream().max_age,
        Some(Duration::from_secs(168 * 3600))
    );
}

/// The stream server goes down: writes keep being journaled and queued, the
/// publisher retries, and once the server is back every record is published,
/// in order. (NATS only: it is the server that can go down.)
async fn server_down_loses_nothing(mut env: Env) {
    let Some(mut nats) = env.nats.take() else {
        return;
    };
    let _publisher = Publisher::new(env.db.clone(), env.streams.clone(), events::journaled())
        .config(PublisherConfig {
            poll: Duration::from_millis(200),
            retry_min: Duration::from_millis(50),
            retry_max: Duration::from_millis(400),
            ..PublisherConfig::default()
        })
        .start();
    users::insert(&env.db, &user("u0", "0@example.com"))
        .await
        .unwrap();
    let deadline = Instant::now() + SOON;
    while env.queued().await > 0 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    nats.kill();
    for i in 1..5 {
        users::insert(
            &env.db,
            &user(&format!("u{i}"), &format!("{i}@example.com")),
        )
        .await
        .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        env.queued().await,
        4,
        "nothing leaves the queue while the server is down"
    );
    nats.restart();
    env.wait_drained().await;
    let got = env.events(5).await;
    let ids: Vec<String> = got
        .iter()
        .map(|m| match decode(m) {
            UserEvent::UserUpserted(u) => u.user.id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids, ["u0", "u1", "u2", "u3", "u4"]);
}

/// Shutdown publishes what is queued before it returns.
async fn shutdown_drains_the_queue(env: Env) {
    let publisher = env.start();
    for i in 0..20 {
        users::insert(
            &env.db,
            &user(&format!("u{i}"), &format!("{i}@example.com")),
        )
        .await
        .unwrap();
    }
    publisher.shutdown(Duration::from_secs(5)).await;
    assert_eq!(env.queued().await, 0);
    assert_eq!(env.events(20).await.len(), 20);
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        mod sqlite_memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::on_sqlite(super::publishing::memory, super::$name).await;
                }
            )*
        }

        mod sqlite_log {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::on_sqlite(super::publishing::sqlite_log, super::$name).await;
                }
            )*
        }

        /// One PostgreSQL server for every case, a database and a NATS server each.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn postgres_nats() {
            let pg = TestPostgres::start().unwrap_or_else(|e| panic!("PostgreSQL: {e}"));
            $(
                eprintln!("postgres + nats: {}", stringify!($name));
                on_postgres(&pg, $name).await;
            )*
        }
    };
}

cases!(
    every_write_is_one_event,
    republish_after_a_crash_dedupes,
    replay_publishes_again,
    typed_publisher,
    server_down_loses_nothing,
    shutdown_drains_the_queue,
);
