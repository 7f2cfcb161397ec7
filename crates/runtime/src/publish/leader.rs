//! Which of a service's processes publishes: one leader per database, the others
//! standing by (they retry at every poll and take over when the leader is gone).
//!
//! - PostgreSQL: a session advisory lock, held by a connection of its own (the
//!   server releases it when that connection or process dies).
//! - SQLite: an exclusive `flock` on `<database file>.publisher.lock` (released by
//!   the kernel when the process dies). An in-memory database has one process.
//!
//! Publishing stays correct without the lock (see `publish`'s module docs: two
//! publishers send the same records in the same journal order, and the stream
//! dedupes by event id); the lock only keeps the work, and the duplicates, to one.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;

use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};

use crate::db::{Db, DbError};

/// Leadership, held while this value lives.
#[derive(Debug)]
pub(super) enum Lease {
    Postgres(PgConnection),
    /// The lock file, locked while open.
    Sqlite {
        _locked: File,
    },
    /// Nobody else can publish this database (SQLite in memory).
    Sole,
}

impl Lease {
    /// Take leadership of `db` for publishing `tables`, if nobody has it.
    pub(super) async fn try_take(db: &Db, tables: &[&str]) -> Result<Option<Lease>, DbError> {
        match db {
            Db::Postgres(pool) => {
                let mut conn = PgConnection::connect_with(&pool.connect_options()).await?;
                let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                    .bind(lock_key(tables))
                    .fetch_one(&mut conn)
                    .await?;
                Ok(if taken {
                    Some(Lease::Postgres(conn))
                } else {
                    conn.close().await.ok();
                    None
                })
            }
            Db::Sqlite(pool) => {
                let path = pool.connect_options().get_filename().to_path_buf();
                if path.as_os_str().is_empty() || path.to_string_lossy().contains(":memory:") {
                    return Ok(Some(Lease::Sole));
                }
                let file = OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(lock_path(path))
                    .map_err(|e| DbError::Sqlx(sqlx::Error::Io(e)))?;
                match file.try_lock() {
                    Ok(()) => Ok(Some(Lease::Sqlite { _locked: file })),
                    Err(TryLockError::WouldBlock) => Ok(None),
                    Err(TryLockError::Error(e)) => Err(DbError::Sqlx(sqlx::Error::Io(e))),
                }
            }
        }
    }

    /// Whether the lease still holds: the PostgreSQL connection holding the lock
    /// is alive (if it died, the server released the lock).
    pub(super) async fn holds(&mut self) -> bool {
        match self {
            Lease::Postgres(conn) => conn.ping().await.is_ok(),
            Lease::Sqlite { .. } | Lease::Sole => true,
        }
    }
}

/// One lock per set of tables, so two services sharing a server's database each
/// have their own leader.
fn lock_key(tables: &[&str]) -> i64 {
    let mut sorted = tables.to_vec();
    sorted.sort_unstable();
    let digest = Sha256::digest(format!("blueprint-publisher:{}", sorted.join(",")));
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

fn lock_path(database: PathBuf) -> PathBuf {
    let mut name = database.into_os_string();
    name.push(".publisher.lock");
    name.into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

    use super::*;

    /// One lease per database at a time; released when its holder goes. Returns
    /// the lease of the next leader.
    async fn one_leader(db: &Db) -> Lease {
        let first = Lease::try_take(db, &["users"]).await.unwrap();
        assert!(first.is_some(), "the first publisher leads");
        assert!(
            Lease::try_take(db, &["users"]).await.unwrap().is_none(),
            "a second one stands by"
        );
        drop(first);
        // The server releases a dead session's lock once it sees the session end.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if let Some(next) = Lease::try_take(db, &["users"]).await.unwrap() {
                return next;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the lease was not released"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    #[tokio::test]
    async fn sqlite_file_has_one_leader() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("users.sqlite").display());
        let db = Db::connect(&url).await.unwrap();
        one_leader(&db).await;
    }

    #[tokio::test]
    async fn postgres_database_has_one_leader() {
        let pg = blueprint_testkit::TestPostgres::start().unwrap();
        let db = Db::connect(&pg.database("lease").unwrap()).await.unwrap();
        let mut lease = one_leader(&db).await;
        assert!(lease.holds().await);
        // Another service's tables in the same database have a leader of their own.
        assert!(Lease::try_take(&db, &["orders"]).await.unwrap().is_some());
    }
}
