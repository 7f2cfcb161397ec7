//! The migration runner: applies generated migration files in file-name order, each
//! in its own transaction, and records them with a checksum in
//! `_blueprint_migrations`. A file that was applied and then edited stops the run:
//! migrations are history, a change is a new file.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{Db, DbError, Dialect};

pub const MARKER_TABLE: &str = "_blueprint_migrations";

/// One migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// File name, e.g. `0001_initial.sql`; order of application.
    pub name: String,
    pub sql: String,
}

impl Migration {
    /// Hex SHA-256 of the file's content.
    pub fn checksum(&self) -> String {
        Sha256::digest(self.sql.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("cannot read migrations from {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "migration {name} was edited after it was applied (checksum {applied} applied, {current} now); \
         restore it and put the change in a new migration"
    )]
    Modified {
        name: String,
        applied: String,
        current: String,
    },
    #[error("migration {0} is recorded as applied but its file is missing")]
    Missing(String),
    #[error("migration {name} failed: {source}")]
    Failed {
        name: String,
        #[source]
        source: Box<DbError>,
    },
}

/// The migrations of one dialect, in application order.
#[derive(Debug, Clone, Default)]
pub struct Migrations(Vec<Migration>);

impl Migrations {
    pub fn new(mut migrations: Vec<Migration>) -> Migrations {
        migrations.sort_by(|a, b| a.name.cmp(&b.name));
        Migrations(migrations)
    }

    /// Migrations compiled into the binary: `(file name, SQL)` pairs, as a generated
    /// package's `migrations(dialect)` lists them with `include_str!`.
    pub fn embedded(files: &[(&str, &str)]) -> Migrations {
        Migrations::new(
            files
                .iter()
                .map(|(name, sql)| Migration {
                    name: (*name).to_owned(),
                    sql: (*sql).to_owned(),
                })
                .collect(),
        )
    }

    /// `*.sql` files of `dir`.
    pub fn from_dir(dir: &Path) -> Result<Migrations, MigrateError> {
        let io = |source| MigrateError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.extension().is_some_and(|e| e == "sql") {
                let sql = std::fs::read_to_string(&path).map_err(|source| MigrateError::Io {
                    path: path.clone(),
                    source,
                })?;
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                out.push(Migration { name, sql });
            }
        }
        Ok(Migrations::new(out))
    }

    /// `<root>/migrations/<dialect>/`, the layout `dev gen` writes.
    pub fn dir(root: &Path, dialect: Dialect) -> PathBuf {
        root.join("migrations").join(match dialect {
            Dialect::Postgres => "postgres",
            Dialect::Sqlite => "sqlite",
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = &Migration> {
        self.0.iter()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Applied,
    Pending,
    /// Applied, and the file changed since.
    Modified,
    /// Recorded as applied, no such file.
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub name: String,
    pub state: State,
    /// When applied (as the database prints it).
    pub applied_at: Option<String>,
}

/// The lock serialising migration runners on PostgreSQL (several replicas starting
/// at once), held by a transaction.
const LOCK: &str = "SELECT pg_advisory_xact_lock(7286150373)";

async fn ensure_marker(db: &Db) -> Result<(), DbError> {
    match db.dialect() {
        // Under the runners' lock: two concurrent `CREATE TABLE IF NOT EXISTS` of
        // one table race in PostgreSQL (a unique violation in `pg_type`).
        Dialect::Postgres => {
            let mut tx = db.begin().await?;
            tx.conn()
                .execute_script(&format!(
                    "{LOCK}; CREATE TABLE IF NOT EXISTS \"_blueprint_migrations\" (\
                     \"name\" text PRIMARY KEY, \"checksum\" text NOT NULL, \
                     \"applied_at\" timestamptz NOT NULL DEFAULT now())"
                ))
                .await?;
            tx.commit().await
        }
        Dialect::Sqlite => {
            db.execute_script(
                "CREATE TABLE IF NOT EXISTS \"_blueprint_migrations\" (\
                 \"name\" TEXT PRIMARY KEY, \"checksum\" TEXT NOT NULL, \
                 \"applied_at\" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))) STRICT",
            )
            .await
        }
    }
}

/// (name, checksum, applied_at) of applied migrations.
async fn applied(db: &Db) -> Result<Vec<(String, String, String)>, DbError> {
    let sql = match db.dialect() {
        Dialect::Postgres => {
            "SELECT \"name\", \"checksum\", \"applied_at\"::text FROM \"_blueprint_migrations\" ORDER BY \"name\""
        }
        Dialect::Sqlite => {
            "SELECT \"name\", \"checksum\", \"applied_at\" FROM \"_blueprint_migrations\" ORDER BY \"name\""
        }
    };
    Ok(db
        .conn()
        .fetch_rows(sql, &[])
        .await?
        .into_iter()
        .filter_map(|r| match <[String; 3]>::try_from(r) {
            Ok([a, b, c]) => Some((a, b, c)),
            Err(_) => None,
        })
        .collect())
}

/// Where each migration stands.
pub async fn status(db: &Db, migrations: &Migrations) -> Result<Vec<Status>, DbError> {
    ensure_marker(db).await?;
    let applied = applied(db).await?;
    let mut out: Vec<Status> = migrations
        .iter()
        .map(|m| {
            let record = applied.iter().find(|(n, _, _)| *n == m.name);
            Status {
                name: m.name.clone(),
                state: match record {
                    None => State::Pending,
                    Some((_, sum, _)) if *sum == m.checksum() => State::Applied,
                    Some(_) => State::Modified,
                },
                applied_at: record.map(|(_, _, at)| at.clone()),
            }
        })
        .collect();
    for (name, _, at) in &applied {
        if !migrations.iter().any(|m| &m.name == name) {
            out.push(Status {
                name: name.clone(),
                state: State::Missing,
                applied_at: Some(at.clone()),
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Apply pending migrations in order; the names this call applied (not those another
/// runner applied meanwhile). Refuses to start when an
/// applied migration was edited or removed.
pub async fn migrate(db: &Db, migrations: &Migrations) -> Result<Vec<String>, DbError> {
    let status = status(db, migrations).await?;
    for s in &status {
        match s.state {
            State::Modified => {
                let applied = applied(db).await?;
                let (_, sum, _) = applied
                    .iter()
                    .find(|(n, _, _)| *n == s.name)
                    .cloned()
                    .unwrap_or_default();
                let current = migrations
                    .iter()
                    .find(|m| m.name == s.name)
                    .map(Migration::checksum)
                    .unwrap_or_default();
                return Err(MigrateError::Modified {
                    name: s.name.clone(),
                    applied: sum,
                    current,
                }
                .into());
            }
            State::Missing => return Err(MigrateError::Missing(s.name.clone()).into()),
            State::Applied | State::Pending => {}
        }
    }
    let mut done = Vec::new();
    for m in migrations.iter() {
        if status
            .iter()
            .any(|s| s.name == m.name && s.state == State::Applied)
        {
            continue;
        }
        let applied = apply(db, m).await.map_err(|e| MigrateError::Failed {
            name: m.name.clone(),
            source: Box::new(e),
        })?;
        if applied {
            done.push(m.name.clone());
        }
    }
    Ok(done)
}

/// Apply one migration unless another runner did meanwhile; whether this one did.
async fn apply(db: &Db, m: &Migration) -> Result<bool, DbError> {
    // SQLite: the write lock up front (a deferred transaction that read the marker
    // table would fail at its first write if another runner wrote meanwhile).
    let mut tx = db.begin_write().await?;
    if db.dialect() == Dialect::Postgres {
        tx.conn().execute_script(LOCK).await?;
    }
    let already = tx
        .conn()
        .fetch_rows(
            "SELECT \"name\" FROM \"_blueprint_migrations\" WHERE \"name\" = $1",
            &[&m.name],
        )
        .await?;
    if already.is_empty() {
        tx.conn().execute_script(&m.sql).await?;
        tx.conn()
            .fetch_rows(
                "INSERT INTO \"_blueprint_migrations\" (\"name\", \"checksum\") VALUES ($1, $2) RETURNING \"name\"",
                &[&m.name, &m.checksum()],
            )
            .await?;
    }
    tx.commit().await?;
    Ok(already.is_empty())
}

/// Drop everything Blueprint created: for `dev db reset` (development only).
pub async fn reset(db: &Db) -> Result<(), DbError> {
    match db {
        Db::Postgres(_) => {
            db.execute_script("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
                .await
        }
        Db::Sqlite(_) => {
            let objects = db
                .conn()
                .fetch_rows(
                    "SELECT type, name FROM sqlite_schema WHERE type IN ('table', 'view') \
                     AND name NOT LIKE 'sqlite_%'",
                    &[],
                )
                .await?;
            let mut script = String::from("PRAGMA foreign_keys = OFF;\n");
            for o in objects {
                if let [kind, name] = o.as_slice() {
                    script.push_str(&format!(
                        "DROP {} IF EXISTS \"{}\";\n",
                        kind.to_uppercase(),
                        name.replace('"', "\"\"")
                    ));
                }
            }
            script.push_str("PRAGMA foreign_keys = ON;\n");
            db.execute_script(&script).await
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

    use super::*;

    /// Eight runners start migrating `url` together (several processes of a
    /// service starting at once, as the writer and the publisher of the fault tests
    /// do): each succeeds, and the migration is applied once.
    async fn concurrent_runners(url: &str) {
        let migrations = Migrations::embedded(&[(
            "0001_initial.sql",
            "CREATE TABLE \"things\" (\"id\" text PRIMARY KEY)",
        )]);
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(8));
        let mut runners = Vec::new();
        for _ in 0..8 {
            let db = Db::connect(url).await.unwrap();
            // A connection each, open before they start together.
            db.execute_script("SELECT 1").await.unwrap();
            let (migrations, start) = (migrations.clone(), start.clone());
            runners.push(tokio::spawn(async move {
                start.wait().await;
                migrate(&db, &migrations).await
            }));
        }
        let mut applied = 0;
        for r in runners {
            applied += r.await.unwrap().unwrap().len();
        }
        assert_eq!(applied, 1, "the migration is applied once");
    }

    /// Two concurrent `CREATE TABLE IF NOT EXISTS` of the marker table race in
    /// PostgreSQL (a unique violation in `pg_type`): it is created under the lock.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_runners_on_a_new_postgres_database_all_succeed() {
        let pg = blueprint_testkit::TestPostgres::start().unwrap();
        for round in 0..5 {
            concurrent_runners(&pg.database(&format!("migrate_race_{round}")).unwrap()).await;
        }
    }

    /// A deferred SQLite transaction that reads, then writes, fails at once
    /// ("database is locked") when another connection wrote meanwhile: each
    /// migration takes the write lock up front.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_runners_on_a_new_sqlite_file_all_succeed() {
        let dir = tempfile::tempdir().unwrap();
        for round in 0..5 {
            let path = dir.path().join(format!("race{round}.sqlite"));
            concurrent_runners(&format!("sqlite:{}", path.display())).await;
        }
    }
}
