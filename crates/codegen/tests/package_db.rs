//! A generated package's database side, on the users service's committed package
//! (`users-api`): its migrations are compiled in (the same files `dev gen` wrote,
//! so a service binary migrates its database from any folder), and a list
//! operation's request pages the DAO's `list` as is.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::Path;

use blueprint::db::migrate::{self, Migrations};
use blueprint::db::{Db, Dialect, Page};
use users_api::dao::users;
use users_api::models::{Name, User, UserStatus};
use users_api::operations::GetUsersRequest;

#[test]
fn embedded_migrations_are_the_files_dev_gen_wrote() {
    let package = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services/users/api");
    for dialect in [Dialect::Postgres, Dialect::Sqlite] {
        let on_disk = Migrations::from_dir(&Migrations::dir(&package, dialect)).unwrap();
        let embedded = users_api::migrations(dialect);
        assert!(embedded.iter().next().is_some(), "{dialect:?}");
        assert!(embedded.iter().eq(on_disk.iter()), "{dialect:?}");
    }
}

#[tokio::test]
async fn a_list_request_pages_the_dao() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("users.sqlite").display());
    let db = Db::connect(&url).await.unwrap();
    let applied = migrate::migrate(&db, &users_api::migrations(db.dialect()))
        .await
        .unwrap();
    assert_eq!(applied, ["0001_initial.sql"]);

    for id in ["u1", "u2", "u3"] {
        let user = User {
            id: id.to_string(),
            email: Some(format!("{id}@example.com")),
            name: Name {
                first: None,
                last: None,
            },
            status: UserStatus::Active,
        };
        users::insert(&db, &user).await.unwrap();
    }
    // What the generated router hands the service for `GET /users?limit=2&offset=1&sort=id`.
    let request = GetUsersRequest {
        id: Vec::new(),
        email: None,
        status: None,
        limit: 2,
        offset: 1,
        sort: "id".to_string(),
    };
    let page = Page::new(request.limit, request.offset).sorted(request.sort);
    let found = users::list(&db, &users::Filter::default(), &page)
        .await
        .unwrap();
    let ids: Vec<&str> = found.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["u2", "u3"]);
    db.close().await;
}
