//! What wakes the publisher, which polls only once a minute here: a DAO write
//! (rung after it commits), a `Tx` (rung at its commit, not before), and on
//! PostgreSQL a writer outside our processes (plain SQL on a connection of its own,
//! without `blueprint.notify = off`, fires the table's NOTIFY trigger). One test,
//! its cases in sequence, alone in its binary: the in-process bell is process-wide,
//! so no other test's commit can be what woke a publisher.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod publishing;

use std::time::{Duration, Instant};

use blueprint::db::journal;
use blueprint_testkit::TestPostgres;
use publishing::{Env, SOON, STREAM, decode, memory, on_postgres, on_sqlite, sqlite_log, user};
use users_api::dao::users;
use users_api::models::UserEvent;

/// A DAO write wakes the publisher right after it commits.
async fn dao_writes_wake_the_publisher(env: Env) {
    let _publisher = env.start();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    users::insert(&env.db, &user("u1", "a@example.com"))
        .await
        .unwrap();
    assert_eq!(env.events(1).await.len(), 1);
    assert!(started.elapsed() < SOON);
}

/// Writes in a transaction wake the publisher at the commit, not before.
async fn transactions_publish_at_commit(env: Env) {
    let _publisher = env.start();
    let mut tx = env.db.begin().await.unwrap();
    users::insert(&mut tx, &user("u1", "a@example.com"))
        .await
        .unwrap();
    users::insert(&mut tx, &user("u2", "b@example.com"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut reader_before = 0;
    if env.streams.info(STREAM).await.is_ok() {
        reader_before = env.streams.info(STREAM).await.unwrap().messages;
    }
    assert_eq!(reader_before, 0, "nothing is published before the commit");
    tx.commit().await.unwrap();
    let started = Instant::now();
    assert_eq!(env.events(2).await.len(), 2);
    assert!(started.elapsed() < SOON);
}

/// Our own sessions do not notify; an outside writer does, and wakes the publisher.
async fn outside_writers_notify(env: Env) {
    use sqlx::Connection;
    let mut listener = sqlx::postgres::PgListener::connect(&env.db_url)
        .await
        .unwrap();
    listener.listen(journal::NOTIFY_CHANNEL).await.unwrap();
    // Ours: no notification.
    users::insert(&env.db, &user("u1", "a@example.com"))
        .await
        .unwrap();
    let quiet = tokio::time::timeout(Duration::from_millis(300), listener.recv()).await;
    assert!(quiet.is_err(), "our own write notified: {quiet:?}");

    let _publisher = env.start();
    env.wait_drained().await;
    let mut outside = sqlx::PgConnection::connect(&env.db_url).await.unwrap();
    let started = Instant::now();
    sqlx::query(
        "INSERT INTO users (id, email, name, status) VALUES ('u2', 'b@example.com', '{\"first\": \"Bo\"}', 'active')",
    )
    .execute(&mut outside)
    .await
    .unwrap();
    let got = env.events(2).await;
    assert_eq!(got.len(), 2);
    assert!(
        started.elapsed() < SOON,
        "woken by the notification, not the poll"
    );
    match decode(&got[1]) {
        UserEvent::UserUpserted(u) => assert_eq!(u.user.name.first.as_deref(), Some("Bo")),
        other => panic!("{other:?}"),
    }
    let note = tokio::time::timeout(Duration::from_secs(1), listener.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(note.payload(), "users");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wake_ups() {
    for streams in [memory, sqlite_log] {
        on_sqlite(streams, dao_writes_wake_the_publisher).await;
        on_sqlite(streams, transactions_publish_at_commit).await;
    }
    let pg = TestPostgres::start().unwrap_or_else(|e| panic!("PostgreSQL: {e}"));
    on_postgres(&pg, dao_writes_wake_the_publisher).await;
    on_postgres(&pg, transactions_publish_at_commit).await;
    on_postgres(&pg, outside_writers_notify).await;
}
