//! The shared auth security cases (`crates/runtime/tests/auth/cases`), each one a
//! request to the real `events` binary: tokens verified with the public key only,
//! refusals that leak nothing, another agency's event not found, roles; and what a
//! caller can and cannot say about itself in a body.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::collections::BTreeMap;

use blueprint::uuid::Uuid;
use blueprint_testkit::auth_cases::{self, AGENCY, Case, OTHER_AGENCY, USER};
use serde_json::json;
use support::{Backend, Client, runtime, token};

/// Headers at least this long may be refused by the HTTP server (431).
const HEADER_LIMIT: usize = 64 * 1024;

/// Every case, against a service trusting the case's keys (one service per key
/// set), with a fresh event of each agency per case (an admin's DELETE removes one).
#[test]
fn security_cases() {
    let backend = Backend::sqlite();
    let mut by_keys: BTreeMap<Option<String>, Vec<(String, Case)>> = BTreeMap::new();
    for (name, case) in auth_cases::cases() {
        by_keys
            .entry(case.keys.clone())
            .or_default()
            .push((name, case));
    }
    assert!(
        by_keys.values().map(Vec::len).sum::<usize>() > 30,
        "the cases are read"
    );
    // Events are recorded through a service trusting the test keys (a service
    // without a key refuses everyone); the cases' services share its database.
    let recorder = backend.start();
    let own = Client::new(&recorder, Some(token(USER, AGENCY, None)));
    let other = Client::new(&recorder, Some(token(Uuid::new_v4(), OTHER_AGENCY, None)));
    let runtime = runtime();
    let mut failures = Vec::new();
    for (keys, cases) in by_keys {
        let service = backend.start_with_keys(keys.as_deref());
        runtime.block_on(async {
            for (name, case) in cases {
                let own_event = own.record(json!({"type": "login"})).await;
                let other_event = other.record(json!({"type": "login"})).await;
                let (method, path) = case.request(
                    own_event["id"].as_str().unwrap(),
                    other_event["id"].as_str().unwrap(),
                );
                let (authorization, token) = case.authorization(auth_cases::now_ms());
                // A header beyond what HTTP servers buffer (hyper: about 400 KiB)
                // is refused by the server itself, before any handler: 431.
                let oversized = authorization
                    .as_ref()
                    .is_some_and(|a| a.len() > HEADER_LIMIT);
                let caller = Client::with_authorization(&service, authorization);
                let answer = caller.send(&method, &path, None).await;
                let expected = answer.status == case.status
                    || (oversized && case.status == 401 && answer.status == 431);
                if !expected {
                    failures.push(format!(
                        "{name} ({}): {method} {path}: expected {}, got {}: {}",
                        case.about, case.status, answer.status, answer.text
                    ));
                    continue;
                }
                let challenge = answer.challenge.clone().unwrap_or_default();
                match answer.status {
                    401 => {
                        assert!(
                            challenge.starts_with("Bearer"),
                            "{name}: a 401 names the scheme: {challenge:?}"
                        );
                        auth_cases::assert_refusal_leaks_nothing(
                            &challenge,
                            &answer.text,
                            token.as_deref(),
                        );
                    }
                    403 | 500 => auth_cases::assert_refusal_leaks_nothing(
                        &challenge,
                        &answer.text,
                        token.as_deref(),
                    ),
                    404 => assert!(
                        !answer.text.contains(&OTHER_AGENCY.to_string()),
                        "{name}: a 404 tells nothing of the event: {}",
                        answer.text
                    ),
                    _ => {}
                }
                if name == "other-agency-token" {
                    // That token's agency sees its own events and none of AGENCY's.
                    let agencies: Vec<_> = answer.body["events"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|e| e["agency_id"].clone())
                        .collect();
                    assert!(!agencies.is_empty(), "{name}: {}", answer.text);
                    assert!(
                        agencies.iter().all(|a| *a == json!(OTHER_AGENCY)),
                        "{name}: {}",
                        answer.text
                    );
                }
            }
        });
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The agency and the user of a recorded event are the token's: a body naming
/// others is refused (the form has no such fields) or, if it were accepted,
/// could not change them.
#[test]
fn the_body_cannot_choose_agency_or_user() {
    let backend = Backend::sqlite();
    let service = backend.start();
    let caller = Client::new(&service, Some(token(USER, AGENCY, None)));
    runtime().block_on(async {
        let smuggled = json!({
            "type": "login",
            "agency_id": OTHER_AGENCY,
            "user_id": Uuid::new_v4(),
        });
        let answer = caller.post(&smuggled).await;
        match answer.status {
            201 => {
                assert_eq!(answer.body["agency_id"], json!(AGENCY), "{}", answer.text);
                assert_eq!(answer.body["user_id"], json!(USER), "{}", answer.text);
            }
            422 => {}
            other => panic!("unexpected {other}: {}", answer.text),
        }
        // Whatever was answered, the other agency holds nothing.
        let other = Client::of_agency(&service, OTHER_AGENCY);
        let listed = other.get("/events").await;
        assert_eq!(listed.status, 200, "{}", listed.text);
        assert_eq!(listed.body["events"], json!([]), "{}", listed.text);
        // And an ordinary event is the token's.
        let event = caller.record(json!({"type": "login"})).await;
        assert_eq!(event["agency_id"], json!(AGENCY));
        assert_eq!(event["user_id"], json!(USER));
    });
}

/// Roles: recording and reading need a token only; deleting needs the role
/// `admin`, and an admin deletes in their own agency only.
#[test]
fn only_an_agency_admin_deletes() {
    let backend = Backend::sqlite();
    let service = backend.start();
    let member = Client::new(&service, Some(token(USER, AGENCY, Some("viewer"))));
    let admin = Client::new(&service, Some(token(Uuid::new_v4(), AGENCY, Some("admin"))));
    let other_admin = Client::new(
        &service,
        Some(token(Uuid::new_v4(), OTHER_AGENCY, Some("admin"))),
    );
    runtime().block_on(async {
        let id = member.record(json!({"type": "login"})).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let path = format!("/events/{id}");
        let refused = member.send("DELETE", &path, None).await;
        assert_eq!(refused.status, 403, "{}", refused.text);
        let elsewhere = other_admin.send("DELETE", &path, None).await;
        assert_eq!(elsewhere.status, 404, "{}", elsewhere.text);
        assert_eq!(member.get(&path).await.status, 200, "still there");
        let deleted = admin.send("DELETE", &path, None).await;
        assert_eq!(deleted.status, 204, "{}", deleted.text);
        assert_eq!(member.get(&path).await.status, 404, "gone");
        let again = admin.send("DELETE", &path, None).await;
        assert_eq!(again.status, 404, "{}", again.text);
    });
}
