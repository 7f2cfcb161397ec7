//! What the publisher tests share: a migrated database of the users service and
//! a streams backend, and reading them back.

#![allow(dead_code)] // each test binary uses its part
use std::future::Future;
use std::time::{Duration, Instant};

use blueprint::db::{Db, migrate};
use blueprint::publish::{Publisher, PublisherConfig, PublisherHandle, read_queued};
use blueprint::stream::{Message, StartAt, Streams};
use blueprint_testkit::{TestNats, TestPostgres};
use users_api::events;
use users_api::models::{Name, User, UserEvent, UserStatus};

pub const STREAM: &str = "io.blueprint.users.v0.user_event.json";
/// Long enough that only a wake-up explains an event arriving within [`SOON`].
pub const POLL: Duration = Duration::from_secs(60);
pub const SOON: Duration = Duration::from_secs(10);

/// One database and one streams backend, migrated and empty.
pub struct Env {
    pub db: Db,
    pub streams: Streams,
    /// The database's URL (for a connection of another process's kind).
    pub db_url: String,
    pub nats: Option<TestNats>,
    pub _dir: tempfile::TempDir,
}

impl Env {
    pub fn publisher(&self) -> Publisher {
        Publisher::new(self.db.clone(), self.streams.clone(), events::journaled()).config(
            PublisherConfig {
                poll: POLL,
                retry_min: Duration::from_millis(50),
                retry_max: Duration::from_millis(400),
                ..PublisherConfig::default()
            },
        )
    }

    pub fn start(&self) -> PublisherHandle {
        self.publisher().start()
    }

    /// Every event on the stream, once `n` are there (or `SOON` passed), and
    /// whatever else arrives shortly after: so a test sees extra events too.
    pub async fn events(&self, n: usize) -> Vec<Message> {
        let deadline = Instant::now() + SOON;
        loop {
            let got = self.read_all().await;
            if got.len() >= n || Instant::now() >= deadline {
                tokio::time::sleep(Duration::from_millis(100)).await;
                return self.read_all().await;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The stream from its start, read until a read finds nothing more.
    pub async fn read_all(&self) -> Vec<Message> {
        if self.streams.info(STREAM).await.is_err() {
            return Vec::new();
        }
        let mut reader = self
            .streams
            .reader(STREAM, StartAt::Earliest)
            .await
            .unwrap();
        let mut got = Vec::new();
        loop {
            let more = reader.read(1000, Duration::from_millis(100)).await.unwrap();
            if more.is_empty() {
                return got;
            }
            got.extend(more);
        }
    }

    pub async fn queued(&self) -> usize {
        read_queued(&self.db, &events::users::JOURNALED, 1000)
            .await
            .unwrap()
            .len()
    }

    pub async fn wait_drained(&self) {
        let deadline = Instant::now() + SOON;
        while self.queued().await > 0 {
            assert!(Instant::now() < deadline, "the queue was not drained");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

pub fn user(id: &str, email: &str) -> User {
    User {
        id: id.to_string(),
        email: Some(email.to_string()),
        name: Name {
            first: Some(format!("first of {id}")),
            last: None,
        },
        status: UserStatus::Active,
    }
}

pub fn decode(m: &Message) -> UserEvent {
    m.event.decode().unwrap()
}

// ---------------------------------------------------------------------------
// Backends

pub async fn migrated(url: &str) -> Db {
    let db = Db::connect(url).await.unwrap();
    migrate::migrate(&db, &users_api::migrations(db.dialect()))
        .await
        .unwrap();
    db
}

pub async fn on_sqlite<F, Fut>(streams_url: fn(&std::path::Path) -> String, case: F)
where
    F: FnOnce(Env) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite:{}", dir.path().join("users.sqlite").display());
    let db = migrated(&db_url).await;
    let streams = Streams::connect(&streams_url(dir.path())).await.unwrap();
    case(Env {
        db: db.clone(),
        streams,
        db_url,
        nats: None,
        _dir: dir,
    })
    .await;
    db.close().await;
}

pub async fn on_postgres<F, Fut>(pg: &TestPostgres, case: F)
where
    F: FnOnce(Env) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(nats) = TestNats::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db_url = pg.database("publisher").unwrap();
    let db = migrated(&db_url).await;
    let streams = Streams::connect(nats.url()).await.unwrap();
    case(Env {
        db: db.clone(),
        streams,
        db_url,
        nats: Some(nats),
        _dir: dir,
    })
    .await;
    db.close().await;
}

pub fn memory(_: &std::path::Path) -> String {
    "memory:".into()
}

/// The log with a one-minute poll of its own: readers are woken by its doorbell.
pub fn sqlite_log(dir: &std::path::Path) -> String {
    format!(
        "sqlite:{}?poll_ms=60000",
        dir.join("streams.sqlite").display()
    )
}
