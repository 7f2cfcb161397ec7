//! SQL generation without a database: DDL snapshots per fixture and dialect, the
//! migration planner, and the committed generated DAO being current.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use blueprint_codegen::sql::migrations::{self, MigrationError, Options, Snapshot};
use blueprint_codegen::sql::{self, Dialect};
use blueprint_codegen::{GenOptions, Generator, SqlOptions};
use support::{assert_generated, fixture_schema, load_fixture};

#[test]
fn ddl_snapshots() {
    for fixture in ["users.json", "types.json"] {
        let schema = fixture_schema(fixture);
        for dialect in Dialect::ALL {
            let name = format!(
                "ddl_{}_{}",
                fixture.trim_end_matches(".json"),
                dialect.name()
            );
            insta::assert_snapshot!(name, dialect.create_all(&schema));
        }
    }
}

#[test]
fn inbox_ddl_snapshots() {
    let schema = sql::Schema {
        tables: Vec::new(),
        inbox: true,
    };
    for dialect in Dialect::ALL {
        insta::assert_snapshot!(
            format!("ddl_inbox_{}", dialect.name()),
            dialect.create_all(&schema)
        );
    }
}

#[test]
fn consuming_streams_adds_the_inbox_and_stopping_is_destructive() {
    let (schema, v1) = initial();
    let mut consuming = schema.clone();
    consuming.inbox = true;
    let files = migrations::generate(&consuming, Some(&v1), Options::default()).unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "migrations/postgres/0002_create_inbox.sql",
            "migrations/sqlite/0002_create_inbox.sql",
            "migrations/schema.json"
        ]
    );
    for f in &files[..2] {
        assert!(
            f.contents.contains("CREATE TABLE \"_blueprint_inbox\""),
            "{}",
            f.contents
        );
        // The registry maintenance reads, for a database created before it existed.
        assert!(
            f.contents.contains("\"_blueprint_retention\""),
            "{}",
            f.contents
        );
    }
    let v2 = Snapshot::parse(&files[2].contents).unwrap();
    assert!(v2.schema.inbox);
    match migrations::generate(&schema, Some(&v2), Options::default()) {
        Err(MigrationError::Destructive(changes)) => {
            assert_eq!(changes, ["drop the consumer inbox"])
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn users_schema_has_bookkeeping_columns_and_indexes() {
    let schema = fixture_schema("users.json");
    let users = schema.table("users").unwrap();
    let names: Vec<&str> = users.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "id",
            "email",
            "name",
            "status",
            "hash_code",
            "created_at",
            "updated_at"
        ]
    );
    let indexes: Vec<(&str, bool)> = users
        .indexes
        .iter()
        .map(|i| (i.name.as_str(), i.unique))
        .collect();
    // Declared unique email index, and one derived from `GET /users?status=`.
    assert_eq!(
        indexes,
        [("users_email_key", true), ("users_status_idx", false)]
    );
    assert!(users.journal.is_some());
}

fn initial() -> (sql::Schema, Snapshot) {
    let schema = fixture_schema("users.json");
    let files = migrations::generate(&schema, None, Options::default()).unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "migrations/postgres/0001_initial.sql",
            "migrations/sqlite/0001_initial.sql",
            "migrations/schema.json"
        ]
    );
    let snapshot = Snapshot::parse(&files[2].contents).unwrap();
    (schema, snapshot)
}

#[test]
fn unchanged_schema_writes_no_migration() {
    let (schema, snapshot) = initial();
    let files = migrations::generate(&schema, Some(&snapshot), Options::default()).unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].path, migrations::SNAPSHOT);
    assert_eq!(files[0].contents, snapshot.to_json());
}

#[test]
fn added_column_and_index_are_altered() {
    let (mut schema, snapshot) = initial();
    let users = schema
        .tables
        .iter_mut()
        .find(|t| t.name == "users")
        .unwrap();
    let mut nickname = users.column("name").unwrap().clone();
    nickname.name = "nickname".to_string();
    users.columns.insert(4, nickname);
    users.indexes.push(sql::Index {
        name: "users_nickname_idx".to_string(),
        columns: vec!["nickname".to_string()],
        unique: false,
    });
    let files = migrations::generate(&schema, Some(&snapshot), Options::default()).unwrap();
    assert_eq!(
        files[0].path,
        "migrations/postgres/0002_add_users_nickname_and_more.sql"
    );
    insta::assert_snapshot!("migration_add_column_postgres", files[0].contents);
    insta::assert_snapshot!("migration_add_column_sqlite", files[1].contents);
    assert_eq!(Snapshot::parse(&files[2].contents).unwrap().version, 2);
}

#[test]
fn destructive_changes_are_refused_without_the_flag() {
    let (mut schema, snapshot) = initial();
    let users = schema
        .tables
        .iter_mut()
        .find(|t| t.name == "users")
        .unwrap();
    users.columns.retain(|c| c.name != "name");
    let email = users
        .columns
        .iter_mut()
        .find(|c| c.name == "email")
        .unwrap();
    email.ty = sql::ColumnType::Uuid;
    let err = migrations::generate(&schema, Some(&snapshot), Options::default()).unwrap_err();
    let MigrationError::Destructive(changes) = &err else {
        panic!("{err}")
    };
    assert_eq!(
        changes,
        &[
            "change the type of `users.email`",
            "drop column `users.name`"
        ]
    );
    assert!(err.to_string().contains("--allow-destructive"), "{err}");

    let files = migrations::generate(
        &schema,
        Some(&snapshot),
        Options {
            allow_destructive: true,
        },
    )
    .unwrap();
    insta::assert_snapshot!("migration_destructive_postgres", files[0].contents);
    insta::assert_snapshot!("migration_destructive_sqlite", files[1].contents);
}

#[test]
fn dropped_table_is_destructive() {
    let (_, snapshot) = initial();
    let err = migrations::generate(&sql::Schema::default(), Some(&snapshot), Options::default())
        .unwrap_err();
    assert!(err.to_string().contains("drop table `users`"), "{err}");
}

#[test]
fn required_column_without_default_is_destructive_but_with_default_is_not() {
    let (mut schema, snapshot) = initial();
    let users = schema
        .tables
        .iter_mut()
        .find(|t| t.name == "users")
        .unwrap();
    let mut age = users.column("email").unwrap().clone();
    age.name = "age".to_string();
    age.ty = sql::ColumnType::Integer;
    age.non_empty = false;
    users.columns.insert(4, age.clone());
    assert!(migrations::generate(&schema, Some(&snapshot), Options::default()).is_err());
    let users = schema
        .tables
        .iter_mut()
        .find(|t| t.name == "users")
        .unwrap();
    users.columns[4].default = Some(serde_json::json!(18));
    let files = migrations::generate(&schema, Some(&snapshot), Options::default()).unwrap();
    assert!(
        files[0]
            .contents
            .contains("ALTER TABLE \"users\" ADD COLUMN \"age\" integer NOT NULL DEFAULT 18;")
    );
}

/// The models and DAOs the database tests compile (`tests/generated/<fixture>/`;
/// the `auth` fixture's are the `blueprint-codegen-auth` package's).
#[test]
fn generated_code_is_current() {
    for fixture in ["users", "types"] {
        let spec = load_fixture(&format!("{fixture}.json"));
        let options = GenOptions {
            generators: vec![Generator::Models, Generator::Dao],
            ..GenOptions::default()
        };
        let files = blueprint_codegen::generate(&spec, &options).unwrap();
        let paths: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
        assert_eq!(paths, ["dao.rs", "mod.rs", "models/mod.rs"]);
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/generated")
            .join(fixture);
        for f in files {
            assert_generated(&dir.join(&f.path), &f.contents);
        }
    }
}

#[test]
fn sql_generators_write_migrations_of_the_selected_dialects() {
    let spec = load_fixture("users.json");
    let options = GenOptions {
        generators: vec![Generator::SqlSqlite],
        ..GenOptions::default()
    };
    let files = blueprint_codegen::generate(&spec, &options).unwrap();
    let paths: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
    assert_eq!(
        paths,
        [
            "migrations/schema.json",
            "migrations/sqlite/0001_initial.sql"
        ]
    );

    // Generating again from the written snapshot: nothing new to migrate.
    let sql = SqlOptions {
        previous: Some(Snapshot::parse(&files[0].contents).unwrap()),
        ..SqlOptions::default()
    };
    let again = blueprint_codegen::generate_with_sql(&spec, &options, &sql).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].contents, files[0].contents);
}
