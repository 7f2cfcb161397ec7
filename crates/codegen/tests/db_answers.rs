//! A generated server's operations that declare a 422 convert a `DbError` into
//! their declared answer, so a handler maps a refused write in one line
//! (`Err(e) => e.into()`): a taken value is the declared 409 (the users service's
//! `POST /users`), or a 422 where the operation declares no 409 (the events
//! service's `POST /events`); a value a CHECK refuses is the 422.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use blueprint::db::{DbError, Violation};
use users_api::models::ValidationError;
use users_api::operations::PostUsersResponse;

fn violation(constraint: &str) -> Violation {
    Violation {
        constraint: Some(constraint.to_owned()),
        message: "refused".to_owned(),
    }
}

#[test]
fn a_taken_value_is_the_declared_409() {
    let taken = PostUsersResponse::from(DbError::Unique(violation("users_email_key")));
    let PostUsersResponse::Conflict(ValidationError {
        code, violations, ..
    }) = taken
    else {
        panic!("{taken:?}");
    };
    assert_eq!(code, "conflict");
    let violations = violations.unwrap();
    assert_eq!(violations[0].path, "body");
    assert!(violations[0].message.contains("users_email_key"));

    let blank = PostUsersResponse::from(DbError::Check(violation("users_email_check")));
    assert!(
        matches!(&blank, PostUsersResponse::UnprocessableEntity(e) if e.code == "validation_failed"),
        "{blank:?}"
    );
}

#[test]
fn without_a_declared_409_a_taken_value_is_the_422() {
    use events_api::operations::PostEventsResponse;
    let taken = PostEventsResponse::from(DbError::Unique(violation("events_pkey")));
    assert!(
        matches!(&taken, PostEventsResponse::UnprocessableEntity(e) if e.code == "conflict"),
        "{taken:?}"
    );
}

#[test]
#[should_panic(expected = "database failure")]
fn other_failures_are_the_servers() {
    let _ = PostUsersResponse::from(DbError::Url("nowhere:".to_owned()));
}
