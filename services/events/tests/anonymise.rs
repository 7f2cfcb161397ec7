//! A user deleted by the users service: the events service, consuming the users
//! stream, erases the personal data of that user's events in every agency and
//! keeps the events; once per event, whatever the stream redelivers.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::time::Duration;

use blueprint::chrono::Utc;
use blueprint::consume::inbox;
use blueprint::stream::{Event, StreamConfig, Streams};
use blueprint::uuid::Uuid;
use events_api::models::io_blueprint_users_v0::{UserDeleted, UserEvent};
use serde_json::{Value, json};
use support::{Backend, Client, USERS_STREAM, runtime, token, until};

/// How long the stream remembers an event id: short, so a test republishes the
/// same event as a new message (a redelivery the stream cannot dedupe).
const DUPLICATE_WINDOW: Duration = Duration::from_millis(200);

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn on_sqlite_and_the_sqlite_log() {
    run(&Backend::sqlite());
}

#[test]
fn on_postgres_and_jetstream() {
    if let Some(backend) = Backend::postgres() {
        run(&backend);
    }
}

/// `user_deleted` as the users service publishes it: the typed union member,
/// keyed by the user.
fn user_deleted(event_id: &str, user_id: &str) -> Event {
    let event = UserEvent::from(UserDeleted {
        event_id: event_id.to_owned(),
        timestamp: Utc::now(),
        id: user_id.to_owned(),
    });
    Event::json(event_id, "user_deleted", &event)
        .unwrap()
        .with_partition_key(user_id)
}

async fn publish(streams: &Streams, event: &Event) {
    streams.publish(USERS_STREAM, event).await.unwrap();
}

fn personal(kind: &str) -> Value {
    json!({
        "type": kind,
        "data": {"page": "/home"},
        "ip_address": "192.0.2.1",
        "user_agent": "Mozilla/5.0",
    })
}

fn run(backend: &Backend) {
    let rt = runtime();
    // The users service's stream, as its publisher creates it.
    let streams = rt.block_on(async {
        let streams = backend.streams().await;
        let mut config = StreamConfig::new(USERS_STREAM);
        config.duplicate_window = DUPLICATE_WINDOW;
        streams.ensure_stream(&config).await.unwrap();
        streams
    });
    let service = backend.start();
    let (agency, elsewhere) = (Uuid::new_v4(), Uuid::new_v4());
    let (gone, kept, marker) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let as_gone = Client::new(&service, Some(token(gone, agency, None)));
    // The same user's token for another agency: erased there too.
    let as_gone_elsewhere = Client::new(&service, Some(token(gone, elsewhere, None)));
    let as_kept = Client::new(&service, Some(token(kept, agency, None)));
    let as_marker = Client::new(&service, Some(token(marker, agency, None)));
    let admin = Client::new(&service, Some(token(Uuid::new_v4(), agency, Some("admin"))));
    let admin_elsewhere = Client::new(&service, Some(token(Uuid::new_v4(), elsewhere, None)));

    rt.block_on(async {
        for kind in ["login", "view", "logout"] {
            as_gone.record(personal(kind)).await;
            as_kept.record(personal(kind)).await;
        }
        as_gone_elsewhere.record(personal("login")).await;
        as_marker.record(personal("login")).await;
        let events_of = |client: Client, user: Uuid| async move {
            client
                .all_pages(&format!("/events?user_id={user}"), 100)
                .await
                .0
        };
        let erased = |events: &[Value]| {
            events.iter().all(|e| {
                e.get("ip_address").is_none_or(Value::is_null)
                    && e.get("user_agent").is_none_or(Value::is_null)
            })
        };
        let before = events_of(admin.clone(), gone).await;
        assert_eq!(before.len(), 3);
        assert!(!erased(&before));

        // The users service deletes the user (by its own id form).
        let deletion = user_deleted("evt-delete-1", &format!("usr-{}", gone.simple()));
        publish(&streams, &deletion).await;
        until("the deleted user's events are anonymised", WAIT, || async {
            erased(&events_of(admin.clone(), gone).await)
                && erased(&events_of(admin_elsewhere.clone(), gone).await)
        })
        .await;
        let after = events_of(admin.clone(), gone).await;
        assert_eq!(after.len(), before.len(), "the events are kept");
        for (was, is) in before.iter().zip(&after) {
            for field in ["id", "agency_id", "user_id", "type", "occurred_at", "data"] {
                assert_eq!(was[field], is[field], "{field} is kept");
            }
        }
        let others = events_of(admin.clone(), kept).await;
        assert_eq!(others.len(), 3);
        assert!(
            others.iter().all(|e| e["ip_address"] == "192.0.2.1"),
            "another user's personal data is kept: {others:?}"
        );

        // The user's token is still valid for a while: a later event keeps its
        // personal data when the stream redelivers the deletion (applied once).
        let later = as_gone.record(personal("late")).await;
        tokio::time::sleep(DUPLICATE_WINDOW * 2).await;
        publish(&streams, &deletion).await;
        // Then a deletion of another user: once it is applied, the redelivered
        // one (published before it, in order) was handled.
        publish(&streams, &user_deleted("evt-delete-2", &marker.to_string())).await;
        until("the marker user is anonymised", WAIT, || async {
            erased(&events_of(admin.clone(), marker).await)
        })
        .await;
        let id = later["id"].as_str().unwrap();
        let still = as_gone.get(&format!("/events/{id}")).await;
        assert_eq!(still.status, 200, "{}", still.text);
        assert_eq!(
            still.body["ip_address"], "192.0.2.1",
            "the redelivered deletion is not applied again"
        );

        let db = backend.db().await;
        let counts = inbox::counts(&db, USERS_STREAM).await.unwrap();
        assert_eq!(
            (counts.applied, counts.parked, counts.pending),
            (2, 0, 0),
            "two deletions applied, the redelivery not"
        );
        let info = streams.info(USERS_STREAM).await.unwrap();
        assert!(
            info.messages >= 3,
            "the deletion was stored twice: {info:?}"
        );
        db.close().await;
    });
    drop(service);
}
