//! The generated DAO and DDL against real databases: SQLite (a file per case) and
//! PostgreSQL (one throwaway server, a database per case; or the server named by
//! `BLUEPRINT_TEST_PG_URL`). Every case runs on both.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::future::Future;
use std::path::Path;

use blueprint::db::migrate::{self, Migration, Migrations, State};
use blueprint::db::{Db, DbError, Dialect, Page, Refusal, Write, journal};
use blueprint_codegen::sql::{self, migrations};
use blueprint_testkit::TestPostgres;
use support::fixture_schema;

/// The `users` fixture's generated models and DAO (kept current by `tests/sql.rs`).
#[rustfmt::skip] // generated: prettyplease output, compared byte for byte
#[path = "generated/users/mod.rs"]
#[allow(dead_code, unused_qualifications)]
mod api;

/// The `types` fixture's: one field of every apibuilder type.
#[rustfmt::skip]
#[path = "generated/types/mod.rs"]
#[allow(dead_code, unused_qualifications)]
mod types_api;

/// The `auth` fixture's (tables scoped by the caller's agency and user): the
/// committed `blueprint-codegen-auth` package, which `dev gen --check` keeps current.
use blueprint_codegen_auth as auth_api;

use api::dao::users;
use api::models::{User, UserStatus};

fn user(id: &str, email: &str) -> User {
    User {
        id: id.to_string(),
        email: email.to_string(),
        name: Some(format!("name of {id}")),
        status: UserStatus::Active,
    }
}

/// Write the generated migrations of `schema` into `dir` and apply them.
async fn migrate_fixture(db: &Db, fixture: &str, dir: &Path) -> Vec<String> {
    let schema = fixture_schema(fixture);
    let files = migrations::generate(&schema, None, Default::default()).unwrap();
    for f in &files {
        let path = dir.join(&f.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &f.contents).unwrap();
    }
    let set = Migrations::from_dir(&Migrations::dir(dir, db.dialect())).unwrap();
    migrate::migrate(db, &set).await.unwrap()
}

async fn count(db: &Db, sql: &str) -> i64 {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

async fn texts(db: &Db, sql: &str) -> Vec<String> {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
    }
}

async fn journal_ops(db: &Db) -> Vec<String> {
    texts(
        db,
        "SELECT \"journal_operation\" || ':' || \"id\" || ':' || \"email\" FROM \"users_journal\" ORDER BY \"journal_id\"",
    )
    .await
}

// ---------------------------------------------------------------------------
// Cases: each gets a fresh, migrated database.

async fn crud_and_lookups(db: Db) {
    let alice = user("u1", "alice@example.com");
    users::insert(&db, &alice).await.unwrap();
    assert_eq!(
        users::find_by_id(&db, "u1").await.unwrap(),
        Some(alice.clone())
    );
    assert_eq!(
        users::find_by_email(&db, "alice@example.com")
            .await
            .unwrap(),
        Some(alice.clone())
    );
    // Expected user not found.
    assert_eq!(users::find_by_id(&db, "nobody").await.unwrap(), None);
    assert_eq!(
        users::find_by_email(&db, "nobody@example.com")
            .await
            .unwrap(),
        None
    );

    let mut changed = alice.clone();
    changed.name = None;
    changed.status = UserStatus::Suspended;
    assert_eq!(users::update(&db, &changed).await.unwrap(), Write::Changed);
    assert_eq!(
        users::find_by_id(&db, "u1").await.unwrap(),
        Some(changed.clone())
    );
    assert_eq!(
        users::update(&db, &changed).await.unwrap(),
        Write::Unchanged
    );
    assert_eq!(
        users::update(&db, &user("u9", "x@example.com"))
            .await
            .unwrap(),
        Write::NotFound
    );

    assert!(users::delete_by_id(&db, "u1").await.unwrap());
    assert!(!users::delete_by_id(&db, "u1").await.unwrap());
    assert_eq!(users::find_by_id(&db, "u1").await.unwrap(), None);
}

async fn constraints(db: Db) {
    users::insert(&db, &user("u1", "alice@example.com"))
        .await
        .unwrap();
    // Duplicate email: the unique index.
    let err = users::insert(&db, &user("u2", "alice@example.com"))
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::Unique(_)), "{err:?}");
    if db.dialect() == Dialect::Postgres {
        assert_eq!(err.constraint(), Some("users_email_key"));
    }
    // Duplicate key.
    let err = users::insert(&db, &user("u1", "other@example.com"))
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::Unique(_)), "{err:?}");
    // Empty (or blank) string in a required column: the check constraint.
    for empty in ["", "   "] {
        let err = users::insert(&db, &user("u3", empty)).await.unwrap_err();
        assert!(matches!(err, DbError::Check(_)), "{err:?}");
        assert_eq!(err.constraint(), Some("users_email_check"));
    }
    // Nothing of the failed writes was journaled.
    assert_eq!(journal_ops(&db).await, ["INSERT:u1:alice@example.com"]);
    // A primary key cannot be updated, whoever writes.
    let err = db
        .execute_script("UPDATE \"users\" SET \"id\" = 'u7' WHERE \"id\" = 'u1'")
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::KeyUpdate(_)), "{err:?}");
    assert!(
        err.to_string().contains("primary key of table \"users\""),
        "{err}"
    );
    assert!(matches!(err.refusal(), Some(Refusal::Invalid(_))));
    // Refusals are the input's fault: answered 409/422, never 500.
    let taken = users::insert(&db, &user("u2", "alice@example.com"))
        .await
        .unwrap_err();
    let Some(Refusal::Conflict(body)) = taken.refusal() else {
        panic!("{taken:?}");
    };
    assert_eq!((body.code.as_str(), body.violations.len()), ("conflict", 1));
    let blank = users::insert(&db, &user("u3", " ")).await.unwrap_err();
    let Some(Refusal::Invalid(body)) = blank.refusal() else {
        panic!("{blank:?}");
    };
    assert_eq!(body.code, "validation_failed");
    // The blank rule request validation enforces is the CHECK's: what one
    // refuses, the other refuses.
    for text in ["", " ", "   ", "\t", "\n", " a ", "\u{a0}"] {
        let refused = users::insert(&db, &user("u9", text)).await.is_err();
        assert_eq!(refused, blueprint::validate::is_blank(text), "{text:?}");
        users::delete_by_id(&db, "u9").await.unwrap();
    }
}

async fn journal_and_hash_code(db: Db) {
    let alice = user("u1", "alice@example.com");
    assert_eq!(users::upsert(&db, &alice).await.unwrap(), Write::Changed);
    // Unchanged upsert: no row written, no journal row.
    assert_eq!(users::upsert(&db, &alice).await.unwrap(), Write::Unchanged);
    assert_eq!(journal_ops(&db).await, ["INSERT:u1:alice@example.com"]);
    // Nor is another writer's UPDATE that changes nothing.
    db.execute_script("UPDATE \"users\" SET \"email\" = \"email\"")
        .await
        .unwrap();
    assert_eq!(journal_ops(&db).await, ["INSERT:u1:alice@example.com"]);

    let mut renamed = alice.clone();
    renamed.email = "alice@new.example.com".to_string();
    assert_eq!(users::upsert(&db, &renamed).await.unwrap(), Write::Changed);
    assert!(users::delete_by_id(&db, "u1").await.unwrap());
    // A DELETE journal row keeps the old values.
    assert_eq!(
        journal_ops(&db).await,
        [
            "INSERT:u1:alice@example.com",
            "UPDATE:u1:alice@new.example.com",
            "DELETE:u1:alice@new.example.com"
        ]
    );
    let hash = blueprint::db::hash_code(&renamed).unwrap();
    let stored = count(
        &db,
        "SELECT \"hash_code\" FROM \"users_journal\" WHERE \"journal_operation\" = 'DELETE'",
    )
    .await;
    assert_eq!(stored, hash);

    // Every journal row was queued for the publisher, in order.
    let queued = journal::queued(&db, 100).await.unwrap();
    let ids: Vec<i64> = queued.iter().map(|q| q.journal_id).collect();
    assert_eq!(ids.len(), 3);
    assert!(queued.iter().all(|q| q.table == "users"));

    // The publisher drains the queue; a replay re-queues the records.
    assert_eq!(journal::published(&db, &queued).await.unwrap(), 3);
    assert_eq!(journal::published(&db, &queued).await.unwrap(), 0);
    assert!(journal::queued(&db, 100).await.unwrap().is_empty());
    assert_eq!(journal::replay(&db, "users", ids[1]).await.unwrap(), 2);
    let again: Vec<i64> = journal::queued(&db, 100)
        .await
        .unwrap()
        .iter()
        .map(|q| q.journal_id)
        .collect();
    assert_eq!(again, ids[1..]);
    let err = journal::replay(&db, "nope", 0).await.unwrap_err();
    assert!(matches!(err, DbError::UnknownTable(_)), "{err:?}");
}

async fn transactions(db: Db) {
    let mut tx = db.begin().await.unwrap();
    users::insert(&mut tx, &user("u1", "a@example.com"))
        .await
        .unwrap();
    users::insert(&mut tx, &user("u2", "b@example.com"))
        .await
        .unwrap();
    assert!(users::find_by_id(&mut tx, "u2").await.unwrap().is_some());
    tx.rollback().await.unwrap();
    assert_eq!(users::find_by_id(&db, "u1").await.unwrap(), None);
    assert!(journal_ops(&db).await.is_empty(), "journal rolled back too");

    let mut tx = db.begin().await.unwrap();
    users::insert(&mut tx, &user("u1", "a@example.com"))
        .await
        .unwrap();
    // A failing statement in a transaction: the caller decides (here: roll back).
    assert!(
        users::insert(&mut tx, &user("u1", "b@example.com"))
            .await
            .is_err()
    );
    tx.rollback().await.unwrap();

    let mut tx = db.begin().await.unwrap();
    users::insert(&mut tx, &user("u1", "a@example.com"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(users::find_by_id(&db, "u1").await.unwrap().is_some());
    assert_eq!(journal_ops(&db).await, ["INSERT:u1:a@example.com"]);
}

async fn listing(db: Db) {
    for i in 0..30 {
        let mut u = user(&format!("u{i:02}"), &format!("user{i:02}@example.com"));
        if i % 3 == 0 {
            u.status = UserStatus::Inactive;
        }
        users::insert(&db, &u).await.unwrap();
    }
    let all = users::list(&db, &Default::default(), &Page::default().sorted("id"))
        .await
        .unwrap();
    assert_eq!(all.len(), 25, "Flow's default limit");
    assert_eq!(all[0].id, "u00");
    let page = users::list(&db, &Default::default(), &Page::new(1000, 28).sorted("-id"))
        .await
        .unwrap();
    let ids: Vec<&str> = page.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["u01", "u00"]);
    let inactive = users::Filter {
        status: Some(UserStatus::Inactive),
        ..Default::default()
    };
    let found = users::list(&db, &inactive, &Page::new(100, 0).sorted("email"))
        .await
        .unwrap();
    assert_eq!(found.len(), 10);
    assert!(found.iter().all(|u| u.status == UserStatus::Inactive));
    let one = users::Filter {
        email: Some("user07@example.com".to_string()),
        status: Some(UserStatus::Active),
        ..Default::default()
    };
    let found = users::list(&db, &one, &Page::default()).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, "u07");
    let err = users::list(&db, &Default::default(), &Page::default().sorted("name"))
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::InvalidSort(_)), "{err:?}");
}

async fn migrations_runner(db: Db, dir: &Path) {
    let set = Migrations::from_dir(&Migrations::dir(dir, db.dialect())).unwrap();
    // Applied once; a second run applies nothing.
    assert!(migrate::migrate(&db, &set).await.unwrap().is_empty());
    let status = migrate::status(&db, &set).await.unwrap();
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].state, State::Applied);

    // A new migration is pending, then applied.
    let mut list: Vec<Migration> = set.iter().cloned().collect();
    list.push(Migration {
        name: "0002_nickname.sql".to_string(),
        sql: "ALTER TABLE \"users\" ADD COLUMN \"nickname\" text;".replace(
            "text",
            if db.dialect() == Dialect::Sqlite {
                "TEXT"
            } else {
                "text"
            },
        ),
    });
    let set2 = Migrations::new(list.clone());
    let status = migrate::status(&db, &set2).await.unwrap();
    assert_eq!(status[1].state, State::Pending);
    assert_eq!(
        migrate::migrate(&db, &set2).await.unwrap(),
        ["0002_nickname.sql"]
    );

    // Editing an applied file stops the runner.
    list[1].sql.push_str("\n-- edited\n");
    let edited = Migrations::new(list);
    let err = migrate::migrate(&db, &edited).await.unwrap_err();
    assert!(
        err.to_string().contains("0002_nickname.sql was edited"),
        "{err}"
    );
    assert_eq!(
        migrate::status(&db, &edited).await.unwrap()[1].state,
        State::Modified
    );
}

async fn generated_alter_applies(db: Db, dir: &Path) {
    // The planner's ALTERs for an added column and index apply on top of 0001.
    let previous = migrations::Snapshot::parse(
        &std::fs::read_to_string(dir.join(migrations::SNAPSHOT)).unwrap(),
    )
    .unwrap();
    let mut schema = previous.schema.clone();
    let users = schema
        .tables
        .iter_mut()
        .find(|t| t.name == "users")
        .unwrap();
    let mut nickname = users.column("name").unwrap().clone();
    nickname.name = "nickname".to_string();
    users.columns.insert(4, nickname);
    users.indexes.push(sql::Index {
        name: "users_nickname_idx".into(),
        columns: vec!["nickname".into()],
        unique: false,
    });
    let files = migrations::generate(&schema, Some(&previous), Default::default()).unwrap();
    for f in &files {
        std::fs::write(dir.join(&f.path), &f.contents).unwrap();
    }
    let set = Migrations::from_dir(&Migrations::dir(dir, db.dialect())).unwrap();
    assert_eq!(migrate::migrate(&db, &set).await.unwrap().len(), 1);
    // The journal follows the new column.
    db.execute_script(
        "INSERT INTO \"users\" (\"id\", \"email\", \"nickname\") VALUES ('u1', 'a@example.com', 'al')",
    )
    .await
    .unwrap();
    let nick = texts(&db, "SELECT \"nickname\" FROM \"users_journal\"").await;
    assert_eq!(nick, ["al"]);
}

async fn inbox_added_later_applies(db: Db, dir: &Path) {
    // A journaled database that starts consuming streams: 0002 creates the inbox,
    // with the support objects again (idempotent), and maintenance knows it.
    let previous = migrations::Snapshot::parse(
        &std::fs::read_to_string(dir.join(migrations::SNAPSHOT)).unwrap(),
    )
    .unwrap();
    let mut schema = previous.schema.clone();
    schema.inbox = true;
    let files = migrations::generate(&schema, Some(&previous), Default::default()).unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert!(
        names.contains(&"migrations/sqlite/0002_create_inbox.sql"),
        "{names:?}"
    );
    for f in &files {
        std::fs::write(dir.join(&f.path), &f.contents).unwrap();
    }
    let set = Migrations::from_dir(&Migrations::dir(dir, db.dialect())).unwrap();
    assert_eq!(migrate::migrate(&db, &set).await.unwrap().len(), 1);
    blueprint::consume::inbox::maintain(&db).await.unwrap();
    journal::maintain(&db).await.unwrap();
    if db.dialect() == Dialect::Postgres {
        // Today's partition exists for both the journal and the inbox.
        let partitions = texts(
            &db,
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent IN ('users_journal'::regclass, '_blueprint_inbox'::regclass) \
             AND c.relname LIKE '%' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD') ORDER BY 1",
        )
        .await;
        assert_eq!(partitions.len(), 2, "{partitions:?}");
    }
    assert_eq!(
        count(&db, "SELECT count(*) FROM \"_blueprint_inbox\"").await,
        0
    );
}

async fn destructive_migration_applies(db: Db, dir: &Path) {
    // Drop a column and widen an enum (SQLite rebuilds the table) with rows present.
    users::insert(&db, &user("u1", "a@example.com"))
        .await
        .unwrap();
    let previous = migrations::Snapshot::parse(
        &std::fs::read_to_string(dir.join(migrations::SNAPSHOT)).unwrap(),
    )
    .unwrap();
    let mut schema = previous.schema.clone();
    let table = schema
        .tables
        .iter_mut()
        .find(|t| t.name == "users")
        .unwrap();
    table.columns.retain(|c| c.name != "name");
    let status = table
        .columns
        .iter_mut()
        .find(|c| c.name == "status")
        .unwrap();
    status.ty = sql::ColumnType::Enum {
        values: vec![
            "active".into(),
            "inactive".into(),
            "suspended".into(),
            "banned".into(),
        ],
    };
    let allow = migrations::Options {
        allow_destructive: true,
    };
    for f in migrations::generate(&schema, Some(&previous), allow).unwrap() {
        std::fs::write(dir.join(&f.path), &f.contents).unwrap();
    }
    let set = Migrations::from_dir(&Migrations::dir(dir, db.dialect())).unwrap();
    assert_eq!(migrate::migrate(&db, &set).await.unwrap().len(), 1);
    // Rows kept, new value accepted, old checks, key guard and journal still on.
    db.execute_script("UPDATE \"users\" SET \"status\" = 'banned' WHERE \"id\" = 'u1'")
        .await
        .unwrap();
    let err = db
        .execute_script("UPDATE \"users\" SET \"status\" = 'nope'")
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::Check(_)), "{err:?}");
    let err = db
        .execute_script("UPDATE \"users\" SET \"id\" = 'u2'")
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::KeyUpdate(_)), "{err:?}");
    let ops = texts(
        &db,
        "SELECT \"journal_operation\" || ':' || \"status\" FROM \"users_journal\" ORDER BY \"journal_id\"",
    )
    .await;
    assert_eq!(ops, ["INSERT:active", "UPDATE:banned"]);
}

async fn plain_insert_uses_defaults(db: Db) {
    db.execute_script("INSERT INTO \"users\" (\"id\", \"email\") VALUES ('u1', 'a@example.com')")
        .await
        .unwrap();
    let u = users::find_by_id(&db, "u1").await.unwrap().unwrap();
    assert_eq!(u.status, UserStatus::Active, "spec default");
    assert_eq!(u.name, None);
    // hash_code 0 never matches a real hash: the DAO's next upsert rewrites the row.
    let mut same = u.clone();
    same.name = None;
    assert_eq!(users::upsert(&db, &same).await.unwrap(), Write::Changed);
    assert_eq!(users::upsert(&db, &same).await.unwrap(), Write::Unchanged);
}

async fn retention(db: Db) {
    journal::maintain(&db).await.unwrap();
    match db.dialect() {
        Dialect::Postgres => {
            // Yesterday .. today + 3, each with its part of the queue (partial index).
            let parts = count(
                &db,
                "SELECT count(*) FROM pg_inherits WHERE inhparent = '\"users_journal\"'::regclass",
            )
            .await;
            assert_eq!(parts, 5);
            let queues = count(
                &db,
                "SELECT count(*) FROM pg_inherits h JOIN pg_index i ON i.indrelid = h.inhrelid \
                 WHERE h.inhparent = '\"users_journal\"'::regclass AND i.indpred IS NOT NULL",
            )
            .await;
            assert_eq!(queues, 5);
            // An expired partition is dropped, and its queued records with it.
            db.execute_script(
                "CREATE TABLE \"users_journal_p20000101\" PARTITION OF \"users_journal\" \
                 FOR VALUES FROM ('2000-01-01 00:00+00') TO ('2000-01-02 00:00+00'); \
                 INSERT INTO \"users_journal\" (\"journal_operation\", \"journal_timestamp\", \"id\") \
                 VALUES ('INSERT', '2000-01-01 12:00+00', 'old')",
            )
            .await
            .unwrap();
            assert_eq!(journal::queued(&db, 10).await.unwrap().len(), 1);
            journal::maintain(&db).await.unwrap();
            assert!(journal::queued(&db, 10).await.unwrap().is_empty());
            let old = count(
                &db,
                "SELECT count(*) FROM pg_class WHERE relname = 'users_journal_p20000101'",
            )
            .await;
            assert_eq!(old, 0);
        }
        Dialect::Sqlite => {
            let expired = "INSERT INTO \"users_journal\" (\"journal_operation\", \"journal_timestamp\", \"id\", \"email\") \
                 VALUES ('INSERT', '2000-01-01T00:00:00.000Z', 'old', 'old@example.com')";
            db.execute_script(expired).await.unwrap();
            users::insert(&db, &user("u1", "a@example.com"))
                .await
                .unwrap();
            journal::maintain(&db).await.unwrap();
            assert_eq!(journal_ops(&db).await, ["INSERT:u1:a@example.com"]);
            // Everything expired: the newest row stays, so the next id follows it.
            db.execute_script(
                "UPDATE \"users_journal\" SET \"journal_timestamp\" = '2000-01-01T00:00:00.000Z'",
            )
            .await
            .unwrap();
            journal::maintain(&db).await.unwrap();
            users::insert(&db, &user("u2", "b@example.com"))
                .await
                .unwrap();
            assert_eq!(
                journal_ops(&db).await,
                ["INSERT:u1:a@example.com", "INSERT:u2:b@example.com"]
            );
            let newest = count(&db, "SELECT max(\"journal_id\") FROM \"users_journal\"").await;
            assert_eq!(newest, 3);
        }
    }
}

fn sample(id: &str, order: Option<&str>) -> types_api::models::Sample {
    serde_json::from_value(serde_json::json!({
        "id": id,
        "code": "abc",
        "active": false,
        "count": 7,
        "total": 9_007_199_254_740_993_i64,
        "ratio": 0.25,
        "price": "12345678901234567890.123456789",
        "day": "2024-02-29",
        "at": "2024-03-01T10:11:12.345Z",
        "color": "GREEN",
        "tags": ["a", "b"],
        "labels": {"k": "v"},
        "extra": [1, "two", {"three": 3}],
        "attributes": {"nested": {"x": null}},
        "origin": {"x": 1.5, "y": -2.0},
        "order": order,
    }))
    .unwrap()
}

async fn all_types_round_trip(db: Db) {
    // The `types` fixture: every column type, composite key, no journal; on a
    // database emptied by `reset`.
    use types_api::dao::samples;
    migrate::reset(&db).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    migrate_fixture(&db, "types.json", dir.path()).await;

    let id = "6f1b6a1e-3c1c-4c39-9a47-4c0b0e7b0f11";
    let row = sample(id, Some("first"));
    samples::insert(&db, &row).await.unwrap();
    let uuid: blueprint::uuid::Uuid = id.parse().unwrap();
    let back = samples::find_by_id(&db, &uuid).await.unwrap().unwrap();
    // Every value survives the database unchanged (decimal digits, UTC instant,
    // 64-bit integer, nested JSON), so the content hash is stable too.
    assert_eq!(back, row);
    assert_eq!(samples::upsert(&db, &back).await.unwrap(), Write::Unchanged);
    assert_eq!(
        samples::find_by_order(&db, "first").await.unwrap().as_ref(),
        Some(&row)
    );
    // A second row, without the (nullable, unique) `order`.
    let minimal = sample("00000000-0000-0000-0000-000000000001", None);
    samples::insert(&db, &minimal).await.unwrap();
    let filter = samples::Filter {
        code: Some("abc".to_string()),
        day: Some("2024-02-29".parse().unwrap()),
        ..Default::default()
    };
    let found = samples::list(&db, &filter, &Page::default().sorted("id"))
        .await
        .unwrap();
    assert_eq!(found, [minimal, row]);

    // Checks: a code shorter than its minimum, a count above its maximum.
    let mut short = sample("00000000-0000-0000-0000-000000000002", None);
    short.code = "x".to_string();
    let err = samples::insert(&db, &short).await.unwrap_err();
    assert!(matches!(err, DbError::Check(_)), "{err:?}");
    let mut big = sample("00000000-0000-0000-0000-000000000002", None);
    big.count = 101;
    let err = samples::insert(&db, &big).await.unwrap_err();
    assert_eq!(err.constraint(), Some("samples_count_check"), "{err:?}");

    db.execute_script(
        "INSERT INTO \"settings\" (\"scope\", \"key\", \"value\") VALUES ('a', 'b', '{\"x\": 1}')",
    )
    .await
    .unwrap();
}

async fn declared_timestamps_stay_managed(db: Db) {
    // A model may declare `created_at` and `updated_at` to read them: the database
    // still sets them, and they are not content.
    use types_api::dao::notes;
    use types_api::models::Note;
    migrate::reset(&db).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    migrate_fixture(&db, "types.json", dir.path()).await;

    let long_ago: blueprint::chrono::DateTime<blueprint::chrono::Utc> =
        "2000-01-01T00:00:00Z".parse().unwrap();
    let note = Note {
        id: "n1".to_string(),
        text: "hello".to_string(),
        created_at: long_ago,
        updated_at: None,
    };
    notes::insert(&db, &note).await.unwrap();
    let stored = notes::find_by_id(&db, "n1").await.unwrap().unwrap();
    assert!(
        stored.created_at > long_ago,
        "set by the database: {stored:?}"
    );
    let updated_at = stored.updated_at.expect("read like created_at");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM \"notes\" WHERE \"created_at\" IS NOT NULL AND \"updated_at\" IS NOT NULL"
        )
        .await,
        1
    );
    // Read back and written again, or written with other timestamps: unchanged.
    assert_eq!(notes::upsert(&db, &stored).await.unwrap(), Write::Unchanged);
    assert_eq!(notes::update(&db, &note).await.unwrap(), Write::Unchanged);

    // A change of content moves `updated_at`, never `created_at`.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let changed = Note {
        text: "bye".to_string(),
        ..note
    };
    assert_eq!(notes::upsert(&db, &changed).await.unwrap(), Write::Changed);
    let after = notes::find_by_id(&db, "n1").await.unwrap().unwrap();
    assert_eq!(after.text, "bye");
    assert_eq!(after.created_at, stored.created_at);
    assert!(after.updated_at.unwrap() > updated_at, "{after:?}");
}

/// Corpus specs that get a `db` attribute on every model with a scalar `id` (added
/// to the loaded JSON here; the shared files are only read).
const CORPUS: [&str; 3] = [
    "flow-delta.json",
    "core-quality.json",
    "flow-lib-event-test.json",
];

fn corpus_schema(name: &str) -> Option<sql::Schema> {
    let dir = blueprint_testkit::corpus_dir()?;
    let path = dir.join(name);
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut tables = 0;
    for model in json["models"].as_object_mut().unwrap().values_mut() {
        let has_id = model["fields"].as_array().unwrap().iter().any(|f| {
            f["name"] == "id"
                && ["string", "uuid", "long", "integer"].contains(&f["type"].as_str().unwrap_or(""))
        });
        if has_id {
            let attrs = model
                .as_object_mut()
                .unwrap()
                .entry("attributes")
                .or_insert(serde_json::json!([]));
            attrs
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({"name": "db", "value": {}}));
            tables += 1;
        }
    }
    let options = blueprint_spec::LoadOptions {
        config: blueprint_spec::config::Config::discover(&dir).unwrap(),
    };
    let spec = blueprint_spec::load_str(&path.to_string_lossy(), &json.to_string(), &options)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let schema = sql::schema(&spec).unwrap_or_else(|d| panic!("{name}: {d:?}"));
    assert_eq!(schema.tables.len(), tables, "{name}");
    assert!(tables > 0, "{name}");
    Some(schema)
}

async fn corpus_ddl_applies(db: Db) {
    for name in CORPUS {
        let Some(schema) = corpus_schema(name) else {
            return;
        };
        migrate::reset(&db).await.unwrap();
        let ddl = sql::Dialect::ALL
            .into_iter()
            .find(|d| {
                d.name()
                    == if db.dialect() == Dialect::Postgres {
                        "postgres"
                    } else {
                        "sqlite"
                    }
            })
            .unwrap()
            .create_all(&schema);
        db.execute_script(&ddl)
            .await
            .unwrap_or_else(|e| panic!("{name} on {:?}: {e}", db.dialect()));
    }
}

fn event(
    id: u128,
    agency: blueprint::uuid::Uuid,
    kind: &str,
    name: Option<&str>,
) -> auth_api::models::Event {
    serde_json::from_value(serde_json::json!({
        "id": blueprint::uuid::Uuid::from_u128(id),
        "agency_id": agency,
        "user_id": blueprint::uuid::Uuid::from_u128(0x75),
        "type": kind,
        "name": name,
        "timestamp": "2024-03-01T10:11:12.345Z",
    }))
    .unwrap()
}

/// A scoped DAO never crosses tenants: another agency's rows are not found, not
/// listed, not updated, not overwritten by an upsert, not deleted; a row of another
/// agency is refused before any SQL runs.
async fn tenant_scope(db: Db) {
    use auth_api::dao::{events, notes};
    use blueprint::auth::Claims;
    use blueprint::uuid::Uuid;
    migrate::reset(&db).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    migrate_fixture(&db, "auth.json", dir.path()).await;

    let (a, b) = (Uuid::from_u128(0xa), Uuid::from_u128(0xb));
    let mine = events::Scope { agency_id: a };
    let theirs = events::Scope { agency_id: b };
    let own = event(1, a, "login", Some("first"));
    let other = event(2, b, "login", Some("second"));
    events::insert(&db, &mine, &own).await.unwrap();
    events::insert(&db, &theirs, &other).await.unwrap();
    let err = events::insert(&db, &mine, &event(3, b, "login", None))
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::OutOfScope("agency_id")), "{err:?}");

    // Lookups: by key and by unique index, within the scope only.
    let (own_id, other_id) = (own.id, other.id);
    assert_eq!(
        events::find_by_id(&db, &mine, &own_id).await.unwrap(),
        Some(own.clone())
    );
    assert_eq!(
        events::find_by_id(&db, &mine, &other_id).await.unwrap(),
        None
    );
    assert_eq!(
        events::find_by_name(&db, &mine, "second").await.unwrap(),
        None
    );
    assert_eq!(
        events::find_by_name(&db, &theirs, "second").await.unwrap(),
        Some(other.clone())
    );

    // Lists: the scope always applies, with or without filters.
    let page = Page::default();
    let all = events::list(&db, &mine, &events::Filter::default(), &page)
        .await
        .unwrap();
    assert_eq!(all, vec![own.clone()]);
    let by_id = events::Filter {
        id: Some(other_id),
        ..Default::default()
    };
    assert!(
        events::list(&db, &mine, &by_id, &page)
            .await
            .unwrap()
            .is_empty()
    );
    let by_type = events::Filter {
        r#type: Some("login".into()),
        ..Default::default()
    };
    assert_eq!(
        events::list(&db, &theirs, &by_type, &page).await.unwrap(),
        vec![other.clone()]
    );

    // Writes: another tenant's row, even relabelled as ours, is never touched.
    let hijack = auth_api::models::Event {
        agency_id: a,
        r#type: "hijacked".into(),
        ..other.clone()
    };
    let err = events::update(&db, &mine, &other).await.unwrap_err();
    assert!(matches!(err, DbError::OutOfScope(_)), "{err:?}");
    assert_eq!(
        events::update(&db, &mine, &hijack).await.unwrap(),
        Write::NotFound
    );
    assert_eq!(
        events::upsert(&db, &mine, &hijack).await.unwrap(),
        Write::NotFound
    );
    assert!(!events::delete_by_id(&db, &mine, &other_id).await.unwrap());
    assert_eq!(
        events::find_by_id(&db, &theirs, &other_id).await.unwrap(),
        Some(other.clone()),
        "the other agency's row is intact"
    );

    // Within the scope everything works as unscoped.
    let mut changed = own.clone();
    changed.name = None;
    assert_eq!(
        events::update(&db, &mine, &changed).await.unwrap(),
        Write::Changed
    );
    assert_eq!(
        events::upsert(&db, &mine, &changed).await.unwrap(),
        Write::Unchanged
    );
    assert!(events::delete_by_id(&db, &mine, &own_id).await.unwrap());

    // Scopes come from verified claims: a uuid claim, and one kept as text.
    let user = Uuid::from_u128(0x75);
    let claims = Claims::new(user, a, i64::MAX);
    assert_eq!(events::Scope::from_claims(&claims).unwrap(), mine);
    let notes_scope = notes::Scope::from_claims(&claims).unwrap();
    assert_eq!(notes_scope.owner_id, user.to_string());
    let note: auth_api::models::Note = serde_json::from_value(serde_json::json!({
        "id": "n1", "owner_id": user.to_string(), "text": "mine"
    }))
    .unwrap();
    notes::insert(&db, &notes_scope, &note).await.unwrap();
    let stranger = notes::Scope {
        owner_id: "someone else".into(),
    };
    assert_eq!(notes::find_by_id(&db, &stranger, "n1").await.unwrap(), None);
    assert_eq!(
        notes::find_by_id(&db, &notes_scope, "n1").await.unwrap(),
        Some(note)
    );
}

/// One event of the `auth` fixture at `second` past a fixed minute, with a user
/// and an address.
fn timed(
    id: u128,
    agency: blueprint::uuid::Uuid,
    second: u32,
    user: u128,
) -> auth_api::models::Event {
    serde_json::from_value(serde_json::json!({
        "id": blueprint::uuid::Uuid::from_u128(id),
        "agency_id": agency,
        "user_id": blueprint::uuid::Uuid::from_u128(user),
        "type": if id.is_multiple_of(3) { "logout" } else { "login" },
        "timestamp": format!("2024-03-01T10:11:{second:02}.500Z"),
        "ip_address": format!("10.0.0.{id}"),
    }))
    .unwrap()
}

/// Every page of `list_after` in `sort`, `limit` rows a page; `between` runs
/// after each page (inserting rows meanwhile).
async fn all_pages(
    db: &Db,
    scope: &auth_api::dao::events::Scope,
    filter: &auth_api::dao::events::Filter,
    sort: &str,
    limit: i64,
    mut between: impl AsyncFnMut(usize),
) -> Vec<blueprint::uuid::Uuid> {
    use auth_api::dao::events;
    use blueprint::db::Keyset;
    let mut seen = Vec::new();
    let mut cursor = None;
    for page in 0.. {
        let slice = events::list_after(db, scope, filter, &Keyset::new(limit, cursor).sorted(sort))
            .await
            .unwrap();
        assert!(slice.rows.len() <= usize::try_from(limit).unwrap());
        seen.extend(slice.rows.iter().map(|e| e.id));
        between(page).await;
        match slice.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    seen
}

/// Keyset pages: every row once, in the sort's order then the key's, whatever is
/// inserted between pages; bounds on an ordered column; bad cursors refused. Then
/// erasure: a user's personal data nulled in every scope and in the journal, the
/// rows kept, a second erasure changing nothing.
async fn keyset_ranges_and_erasure(db: Db) {
    use auth_api::dao::events;
    use blueprint::db::Keyset;
    use blueprint::uuid::Uuid;
    migrate::reset(&db).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    migrate_fixture(&db, "auth.json", dir.path()).await;
    let (a, b) = (Uuid::from_u128(0xa), Uuid::from_u128(0xb));
    let (mine, theirs) = (
        events::Scope { agency_id: a },
        events::Scope { agency_id: b },
    );
    // 30 events of ours, three to a second (ties broken by the key), 5 of theirs.
    let mut ours = Vec::new();
    for id in 1..=30u128 {
        let e = timed(id, a, u32::try_from(id / 3).unwrap(), 0x75 + id % 2);
        events::insert(&db, &mine, &e).await.unwrap();
        ours.push(e);
    }
    for id in 31..=35u128 {
        events::insert(&db, &theirs, &timed(id, b, 1, 0x75))
            .await
            .unwrap();
    }
    let mut newest_first = ours.clone();
    newest_first.sort_by_key(|e| std::cmp::Reverse((e.timestamp, e.id)));
    let expected: Vec<Uuid> = newest_first.iter().map(|e| e.id).collect();
    let none = events::Filter::default();
    let seen = all_pages(&db, &mine, &none, "-timestamp", 7, async |_| {}).await;
    assert_eq!(
        seen, expected,
        "newest first, ties by key, another agency's never"
    );

    // Mixed directions: type ascending, then newest first.
    let mut by_type = ours.clone();
    by_type.sort_by(|x, y| (&x.r#type, y.timestamp, y.id).cmp(&(&y.r#type, x.timestamp, x.id)));
    let seen = all_pages(&db, &mine, &none, "type,-timestamp", 4, async |_| {}).await;
    assert_eq!(seen, by_type.iter().map(|e| e.id).collect::<Vec<_>>());

    // Inserts between pages, newer and older than the cursor, with equal
    // timestamps: the rows that were there come once each, in order.
    let mut next_id = 100u128;
    let seen = all_pages(&db, &mine, &none, "-timestamp", 5, async |page| {
        for second in [0, 5, 9, 30] {
            next_id += 1;
            let e = timed(next_id, a, second + u32::try_from(page).unwrap() % 3, 0x99);
            events::insert(&db, &mine, &e).await.unwrap();
        }
    })
    .await;
    let unique: std::collections::HashSet<&Uuid> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no row twice");
    let old: Vec<Uuid> = seen
        .iter()
        .copied()
        .filter(|id| expected.contains(id))
        .collect();
    assert_eq!(old, expected, "every row that was there, in order");

    // Bounds: from inclusive, to exclusive; with the other filters.
    let at = |second: u32| {
        format!("2024-03-01T10:11:{second:02}.500Z")
            .parse()
            .unwrap()
    };
    let window = events::Filter {
        timestamp_from: Some(at(2)),
        timestamp_to: Some(at(4)),
        user_id: Some(Uuid::from_u128(0x75)),
        ..Default::default()
    };
    let rows = events::list_after(
        &db,
        &mine,
        &window,
        &Keyset::first(100).sorted("-timestamp"),
    )
    .await
    .unwrap();
    let want: Vec<Uuid> = newest_first
        .iter()
        .filter(|e| {
            e.timestamp >= at(2) && e.timestamp < at(4) && e.user_id == Uuid::from_u128(0x75)
        })
        .map(|e| e.id)
        .collect();
    assert!(!want.is_empty());
    assert_eq!(rows.rows.iter().map(|e| e.id).collect::<Vec<_>>(), want);
    assert_eq!(rows.next, None);

    // A cursor of another sort, or not one at all, is refused before any SQL.
    let first = events::list_after(&db, &mine, &none, &Keyset::first(2).sorted("-timestamp"))
        .await
        .unwrap();
    let cursor = first.next.unwrap();
    for (sort, cursor) in [
        ("type", cursor.clone()),
        ("-timestamp", format!("{cursor}x")),
        ("-timestamp", "e30".into()),
    ] {
        let err = events::list_after(
            &db,
            &mine,
            &none,
            &Keyset::new(2, Some(cursor)).sorted(sort),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, DbError::InvalidCursor(_)), "{err:?}");
        assert!(matches!(err.refusal(), Some(Refusal::Invalid(_))));
    }

    // Erasure, by user, across agencies: user 0x75 has rows in both.
    let user = events::Filter {
        user_id: Some(Uuid::from_u128(0x75)),
        ..Default::default()
    };
    let held = |db: Db| async move {
        count(&db, "SELECT count(*) FROM events WHERE user_id IN ('00000000-0000-0000-0000-000000000075') AND ip_address IS NOT NULL").await
    };
    let before = held(db.clone()).await;
    assert!(before > 5);
    let total = count(&db, "SELECT count(*) FROM events").await;
    assert!(matches!(
        events::erase_personal_data(&db, &events::Filter::default()).await,
        Err(DbError::Unfiltered)
    ));
    let changed = events::erase_personal_data(&db, &user).await.unwrap();
    assert_eq!(i64::try_from(changed).unwrap(), before);
    assert_eq!(held(db.clone()).await, 0);
    assert_eq!(
        count(&db, "SELECT count(*) FROM events").await,
        total,
        "rows kept"
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM events_journal WHERE user_id IN ('00000000-0000-0000-0000-000000000075') AND ip_address IS NOT NULL").await,
        0,
        "and the journal's copies"
    );
    let theirs_row = events::find_by_id(&db, &theirs, &Uuid::from_u128(31))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (theirs_row.ip_address, theirs_row.r#type.as_str()),
        (None, "login")
    );
    assert!(
        events::find_by_id(&db, &mine, &Uuid::from_u128(3))
            .await
            .unwrap()
            .unwrap()
            .ip_address
            .is_some(),
        "other users keep theirs"
    );
    let journaled = count(&db, "SELECT count(*) FROM events_journal").await;
    assert_eq!(
        events::erase_personal_data(&db, &user).await.unwrap(),
        0,
        "idempotent"
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM events_journal").await,
        journaled
    );
    // The erased row's hash is unknown: writing its old content back writes.
    let before_erasure = timed(2, a, 0, 0x75);
    assert_eq!(
        events::upsert(&db, &mine, &before_erasure).await.unwrap(),
        Write::Changed
    );
}

// ---------------------------------------------------------------------------
// Drivers

/// Run `case` on a fresh SQLite file with the users migrations applied.
async fn on_sqlite<F, Fut>(case: F)
where
    F: FnOnce(Db, std::path::PathBuf) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("test.sqlite").display());
    let db = Db::connect(&url).await.unwrap();
    migrate_fixture(&db, "users.json", dir.path()).await;
    case(db.clone(), dir.path().to_path_buf()).await;
    db.close().await;
}

async fn on_postgres<F, Fut>(pg: &TestPostgres, case: F)
where
    F: FnOnce(Db, std::path::PathBuf) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let url = pg.database("dao").unwrap();
    let db = Db::connect(&url).await.unwrap();
    migrate_fixture(&db, "users.json", dir.path()).await;
    case(db.clone(), dir.path().to_path_buf()).await;
    db.close().await;
}

macro_rules! cases {
    ($($name:ident $(($dir:ident))?),* $(,)?) => {
        mod sqlite_cases {
            $(
                #[tokio::test]
                async fn $name() {
                    super::on_sqlite(|db, _dir| async move {
                        super::$name(db $(, &cases!(@dir $dir _dir))?).await
                    })
                    .await;
                }
            )*
        }

        /// One server for every case (starting one costs seconds), a database each.
        #[tokio::test]
        async fn postgres_cases() {
            let pg = TestPostgres::start().unwrap_or_else(|e| panic!("PostgreSQL: {e}"));
            $(
                eprintln!("postgres: {}", stringify!($name));
                on_postgres(&pg, |db, _dir| async move {
                    $name(db $(, &cases!(@dir $dir _dir))?).await
                })
                .await;
            )*
        }
    };
    (@dir $dir:ident $actual:ident) => { $actual };
}

cases!(
    crud_and_lookups,
    constraints,
    journal_and_hash_code,
    transactions,
    listing,
    migrations_runner(dir),
    generated_alter_applies(dir),
    inbox_added_later_applies(dir),
    destructive_migration_applies(dir),
    plain_insert_uses_defaults,
    retention,
    all_types_round_trip,
    tenant_scope,
    keyset_ranges_and_erasure,
    declared_timestamps_stay_managed,
    corpus_ddl_applies,
);
