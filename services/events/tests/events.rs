//! The events API on the real binary, on SQLite with the `sqlite:` log and on
//! PostgreSQL with JetStream: `dev verify`'s checks with a token, the standard
//! endpoints, recording and reading back, the filters, cursor paging that stays
//! stable while events are recorded, and shutdown.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::collections::HashSet;
use std::time::Duration;

use blueprint::chrono::{DateTime, TimeDelta, Utc};
use blueprint::uuid::Uuid;
use blueprint_testkit::ServiceProcess;
use serde_json::{Value, json};
use support::{Backend, Client, encode, ids, runtime, token};

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

fn run(backend: &Backend) {
    let mut service = backend.start();
    runtime().block_on(async {
        verify(&service).await;
        standard_endpoints(&service).await;
        record_and_read_back(&service).await;
        filters(&service).await;
        paging_is_stable_while_events_are_recorded(&service).await;
        invalid_input(&service).await;
    });
    let status = service.terminate(Duration::from_secs(30)).unwrap();
    assert!(
        status.success(),
        "{}: exit 0 on SIGTERM: {status}",
        backend.name
    );
}

/// `dev verify`'s checks, with a token (as `dev verify --token`) of an agency
/// admin, whom every operation admits: the spec and the server agree.
async fn verify(service: &ServiceProcess) {
    let spec = blueprint_spec::load(&support::spec_path()).unwrap();
    let mut options = blueprint_verify::Options::new(service.url());
    options.headers.push((
        "authorization".into(),
        format!(
            "Bearer {}",
            token(Uuid::new_v4(), Uuid::new_v4(), Some("admin"))
        ),
    ));
    let report = blueprint_verify::verify(&spec, &options).await.unwrap();
    let failures: Vec<String> = report
        .failures()
        .map(|(op, check)| {
            format!(
                "{} {}: {} -> {:?}: {}",
                op.method, op.path, check.request, check.status, check.detail
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "dev verify failed:\n{}\nservice output:\n{}",
        failures.join("\n"),
        service.output()
    );
    assert!(report.checks().count() > 10, "verify checked too little");
}

async fn standard_endpoints(service: &ServiceProcess) {
    let anyone = Client::new(service, None);
    let health = anyone.get("/_internal_/healthcheck").await;
    assert_eq!(
        (health.status, health.body),
        (200, json!({"status": "healthy"}))
    );
    let version = anyone.get("/_internal_/version").await;
    assert_eq!(version.status, 200);
    assert_eq!(version.body["name"], "events");
    assert_eq!(version.body["spec_hash"], events_api::SERVICE.spec_hash);
    let commit = version.body["git_commit"].as_str().unwrap_or_default();
    let hex = commit.strip_suffix("-dirty").unwrap_or(commit);
    assert!(
        hex.len() == 40 && hex.chars().all(|c| c.is_ascii_hexdigit()),
        "git_commit is the build's commit: {}",
        version.text
    );
}

async fn record_and_read_back(service: &ServiceProcess) {
    let (user, agency) = (Uuid::new_v4(), Uuid::new_v4());
    let caller = Client::new(service, Some(token(user, agency, None)));
    let event = caller
        .record(json!({
            "type": "login",
            "occurred_at": "2026-03-01T12:00:00.123456+02:00",
            "data": {"method": "password"},
            "ip_address": "192.0.2.7",
            "user_agent": "curl/8",
        }))
        .await;
    assert_eq!(event["agency_id"], json!(agency));
    assert_eq!(event["user_id"], json!(user));
    // In UTC, to the millisecond (what every database stores).
    assert_eq!(
        instant(&event["occurred_at"]),
        "2026-03-01T10:00:00.123Z".parse::<DateTime<Utc>>().unwrap()
    );
    let id = event["id"].as_str().unwrap();
    let got = caller.get(&format!("/events/{id}")).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.body, event, "read back as recorded");

    let now = caller.record(json!({"type": "logout"})).await;
    let age = Utc::now() - instant(&now["occurred_at"]);
    assert!(age < TimeDelta::seconds(60), "now, when left out: {now}");

    let missing = caller.get(&format!("/events/{}", Uuid::now_v7())).await;
    assert_eq!(missing.status, 404, "{}", missing.text);
    let stranger = Client::of_agency(service, Uuid::new_v4());
    let hidden = stranger.get(&format!("/events/{id}")).await;
    assert_eq!(hidden.status, 404, "another agency's: {}", hidden.text);
}

/// An event the filters test recorded.
struct Recorded {
    user: Uuid,
    kind: &'static str,
    at: DateTime<Utc>,
}

/// Which recorded events a filter keeps.
type Keep = Box<dyn Fn(&Recorded) -> bool>;

/// The list's filters, alone and together, across pages.
async fn filters(service: &ServiceProcess) {
    let agency = Uuid::new_v4();
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let as_alice = Client::new(service, Some(token(alice, agency, None)));
    let as_bob = Client::new(service, Some(token(bob, agency, None)));
    let base: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
    let mut recorded = Vec::new();
    for i in 0..24 {
        let (caller, user) = if i % 3 == 0 {
            (&as_bob, bob)
        } else {
            (&as_alice, alice)
        };
        let kind = if i % 2 == 0 { "login" } else { "view" };
        let at = base + TimeDelta::minutes(i);
        caller
            .record(json!({"type": kind, "occurred_at": at.to_rfc3339()}))
            .await;
        recorded.push(Recorded { user, kind, at });
    }
    // Another agency's events of the same types and times never show.
    let stranger = Client::of_agency(service, Uuid::new_v4());
    stranger
        .record(json!({"type": "login", "occurred_at": base.to_rfc3339()}))
        .await;

    let from = base + TimeDelta::minutes(5);
    let to = base + TimeDelta::minutes(17);
    let time = |t: DateTime<Utc>| encode(&t.to_rfc3339());
    let cases: Vec<(String, Keep)> = vec![
        ("/events".into(), Box::new(|_| true)),
        ("/events?type=login".into(), Box::new(|e| e.kind == "login")),
        (
            format!("/events?user_id={bob}"),
            Box::new(move |e| e.user == bob),
        ),
        (
            format!("/events?from={}&to={}", time(from), time(to)),
            Box::new(move |e| e.at >= from && e.at < to),
        ),
        (
            format!("/events?type=view&user_id={alice}&from={}", time(from)),
            Box::new(move |e| e.kind == "view" && e.user == alice && e.at >= from),
        ),
        ("/events?type=nothing".into(), Box::new(|_| false)),
    ];
    for (path, keep) in cases {
        let (events, _) = as_alice.all_pages(&path, 5).await;
        let mut expected: Vec<_> = recorded.iter().filter(|e| keep(e)).collect();
        expected.sort_by_key(|e| std::cmp::Reverse(e.at));
        let got: Vec<(Value, Value, DateTime<Utc>)> = events
            .iter()
            .map(|e| {
                (
                    e["user_id"].clone(),
                    e["type"].clone(),
                    instant(&e["occurred_at"]),
                )
            })
            .collect();
        let want: Vec<(Value, Value, DateTime<Utc>)> = expected
            .iter()
            .map(|e| (json!(e.user), json!(e.kind), e.at))
            .collect();
        assert_eq!(got, want, "{path}");
        assert!(
            events.iter().all(|e| e["agency_id"] == json!(agency)),
            "{path}: the caller's agency only"
        );
    }
}

/// Pages follow the cursor, not an offset: events recorded while a caller pages
/// (newer ones, which offset paging would shift the pages by, and older ones
/// still ahead of the cursor) never make a page repeat or skip an event.
async fn paging_is_stable_while_events_are_recorded(service: &ServiceProcess) {
    let agency = Uuid::new_v4();
    let reader = Client::of_agency(service, agency);
    let writer = Client::of_agency(service, agency);
    let base: DateTime<Utc> = "2025-06-01T00:00:00Z".parse().unwrap();
    let mut before = Vec::new();
    for i in 0..40 {
        // Pairs at one instant: the id breaks the tie.
        let at = base + TimeDelta::seconds(i / 2);
        let event = writer
            .record(json!({"type": "tick", "occurred_at": at.to_rfc3339()}))
            .await;
        before.push(event["id"].as_str().unwrap().to_owned());
    }

    let limit = 6;
    let mut seen: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut recorded_meanwhile = 0;
    loop {
        let url = match &cursor {
            Some(c) => format!("/events?limit={limit}&cursor={}", encode(c)),
            None => format!("/events?limit={limit}"),
        };
        // Each page is read while three events are recorded: one newer than
        // everything, one at an instant already paged past, one still ahead.
        let (page, ..) = tokio::join!(
            reader.get(&url),
            writer.record(json!({"type": "tick"})),
            writer.record(
                json!({"type": "tick", "occurred_at": (base + TimeDelta::seconds(19)).to_rfc3339()})
            ),
            writer.record(
                json!({"type": "tick", "occurred_at": (base - TimeDelta::days(1)).to_rfc3339()})
            ),
        );
        recorded_meanwhile += 3;
        assert_eq!(page.status, 200, "{}", page.text);
        seen.extend(page.body["events"].as_array().unwrap().iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(seen.len() < 1000, "paging ends");
    }
    let seen_ids = ids(&seen);
    let unique: HashSet<&String> = seen_ids.iter().collect();
    assert_eq!(unique.len(), seen_ids.len(), "no event twice");
    for id in &before {
        assert!(
            unique.contains(id),
            "no event recorded before paging is skipped: {id}"
        );
    }
    let keys: Vec<(DateTime<Utc>, String)> = seen
        .iter()
        .map(|e| {
            (
                instant(&e["occurred_at"]),
                e["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] > w[1]),
        "newest first, by occurred_at then id, across pages: {keys:?}"
    );
    assert!(recorded_meanwhile >= 9, "events were recorded while paging");
    // The old events come after every page's inserts ahead of the cursor.
    let all = reader.all_pages("/events", 100).await.0;
    assert_eq!(all.len(), before.len() + recorded_meanwhile);
}

async fn invalid_input(service: &ServiceProcess) {
    let caller = Client::of_agency(service, Uuid::new_v4());
    for path in [
        "/events?limit=0",
        "/events?limit=101",
        "/events?cursor=not-a-cursor",
        "/events?user_id=nobody",
        "/events?from=yesterday",
    ] {
        let answer = caller.get(path).await;
        assert_eq!(answer.status, 422, "{path}: {}", answer.text);
        assert_eq!(
            answer.body["code"], "validation_failed",
            "{path}: {}",
            answer.text
        );
    }
    for body in [
        json!({}),
        json!({"type": ""}),
        json!({"type": "x".repeat(101)}),
    ] {
        let answer = caller.post(&body).await;
        assert_eq!(answer.status, 422, "{body}: {}", answer.text);
    }
}

fn instant(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}
