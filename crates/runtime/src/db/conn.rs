//! [`Db`] (a pool of either dialect), [`Tx`] (a transaction) and [`Conn`] (what a
//! DAO call runs on: any of the two, or a caller's connection or transaction).

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions};
use sqlx::query::Query;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{
    AssertSqlSafe, PgConnection, PgPool, Postgres, Row as _, Sqlite, SqliteConnection, SqlitePool,
    Transaction,
};

use super::{DbError, journal};

/// The session setting every PostgreSQL connection of ours starts with (see
/// `journal::NOTIFY_CHANNEL`): `blueprint.notify = off`.
pub(crate) const OUR_SESSION: (&str, &str) = ("blueprint.notify", "off");

/// The two databases a service can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

/// A statement in both dialects; generated code holds these as constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statement {
    pub postgres: &'static str,
    pub sqlite: &'static str,
}

impl Statement {
    pub fn get(&self, dialect: Dialect) -> &'static str {
        match dialect {
            Dialect::Postgres => self.postgres,
            Dialect::Sqlite => self.sqlite,
        }
    }
}

/// A service's database: a connection pool of one dialect.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Db {
    /// Connect to `sqlite:<path>` (created when missing, WAL mode) or
    /// `postgres://...`.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // WAL + NORMAL: durable across process crashes, fsync per checkpoint.
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new().connect_with(options).await?;
            Ok(Db::Sqlite(pool))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // Our sessions say so: the journaled tables' NOTIFY trigger stays quiet for
            // them (their commits ring the in-process bell instead), so only writers
            // outside our processes pay for a NOTIFY.
            let options = PgConnectOptions::from_str(url)?.options([OUR_SESSION]);
            let pool = PgPoolOptions::new().connect_with(options).await?;
            Ok(Db::Postgres(pool))
        } else {
            Err(DbError::Url(url.to_string()))
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    pub async fn begin(&self) -> Result<Tx, DbError> {
        Ok(match self {
            Db::Sqlite(p) => TxInner::Sqlite(p.begin().await?),
            Db::Postgres(p) => TxInner::Postgres(p.begin().await?),
        }
        .into())
    }

    /// A transaction that takes SQLite's write lock at once (waiting for it up to
    /// the busy timeout): what it reads cannot change before it writes, and its
    /// first write cannot fail with "database is locked" because another connection
    /// wrote since its read. On PostgreSQL, [`Db::begin`].
    pub async fn begin_write(&self) -> Result<Tx, DbError> {
        Ok(match self {
            Db::Sqlite(p) => TxInner::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => TxInner::Postgres(p.begin().await?),
        }
        .into())
    }

    /// Run a script of several statements (migrations, maintenance).
    pub async fn execute_script(&self, sql: &str) -> Result<(), DbError> {
        self.conn().execute_script(sql).await
    }

    pub fn conn(&self) -> Conn<'_> {
        Conn::from(self)
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }
}

/// A transaction of either dialect; pass `&mut tx` to DAO calls, then commit.
/// A commit after a journaled write rings the publisher's in-process bell.
#[derive(Debug)]
pub struct Tx {
    inner: TxInner,
    /// A DAO call journaled a change in this transaction.
    journaled: bool,
}

/// The transaction a [`Tx`] holds, for the runtime's own statements (the inbox).
#[derive(Debug)]
pub(crate) enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl From<TxInner> for Tx {
    fn from(inner: TxInner) -> Self {
        Tx {
            inner,
            journaled: false,
        }
    }
}

impl Tx {
    #[cfg(feature = "consumer")]
    pub(crate) fn inner(&mut self) -> &mut TxInner {
        &mut self.inner
    }

    pub async fn commit(self) -> Result<(), DbError> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        if self.journaled {
            journal::committed();
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), DbError> {
        match self.inner {
            TxInner::Sqlite(t) => t.rollback().await?,
            TxInner::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }

    pub fn conn(&mut self) -> Conn<'_> {
        Conn::from(self)
    }
}

/// Where a DAO call runs: a pool, or a connection/transaction the caller holds.
/// Built with `From` from `&Db`, `&mut Tx`, the pools, and `&mut` connections or
/// transactions of either dialect.
#[derive(Debug)]
pub struct Conn<'c> {
    inner: Inner<'c>,
    /// Set when the connection is a [`Tx`]'s: its journaled flag, so the bell
    /// rings at its commit rather than now.
    tx_journaled: Option<&'c mut bool>,
}

#[derive(Debug)]
enum Inner<'c> {
    SqlitePool(&'c SqlitePool),
    Sqlite(&'c mut SqliteConnection),
    PostgresPool(&'c PgPool),
    Postgres(&'c mut PgConnection),
}

impl<'c> From<Inner<'c>> for Conn<'c> {
    fn from(inner: Inner<'c>) -> Self {
        Conn {
            inner,
            tx_journaled: None,
        }
    }
}

impl<'c> From<&'c Db> for Conn<'c> {
    fn from(db: &'c Db) -> Self {
        match db {
            Db::Sqlite(p) => Inner::SqlitePool(p).into(),
            Db::Postgres(p) => Inner::PostgresPool(p).into(),
        }
    }
}

impl<'c> From<&'c mut Tx> for Conn<'c> {
    fn from(tx: &'c mut Tx) -> Self {
        let inner = match &mut tx.inner {
            TxInner::Sqlite(t) => Inner::Sqlite(t),
            TxInner::Postgres(t) => Inner::Postgres(t),
        };
        Conn {
            inner,
            tx_journaled: Some(&mut tx.journaled),
        }
    }
}

impl<'c> From<&'c SqlitePool> for Conn<'c> {
    fn from(p: &'c SqlitePool) -> Self {
        Inner::SqlitePool(p).into()
    }
}

impl<'c> From<&'c PgPool> for Conn<'c> {
    fn from(p: &'c PgPool) -> Self {
        Inner::PostgresPool(p).into()
    }
}

impl<'c> From<&'c mut SqliteConnection> for Conn<'c> {
    fn from(c: &'c mut SqliteConnection) -> Self {
        Inner::Sqlite(c).into()
    }
}

impl<'c> From<&'c mut PgConnection> for Conn<'c> {
    fn from(c: &'c mut PgConnection) -> Self {
        Inner::Postgres(c).into()
    }
}

impl<'c> From<&'c mut Transaction<'_, Sqlite>> for Conn<'c> {
    fn from(t: &'c mut Transaction<'_, Sqlite>) -> Self {
        Inner::Sqlite(t).into()
    }
}

impl<'c> From<&'c mut Transaction<'_, Postgres>> for Conn<'c> {
    fn from(t: &'c mut Transaction<'_, Postgres>) -> Self {
        Inner::Postgres(t).into()
    }
}

impl<'c, 'd> From<&'c mut Conn<'d>> for Conn<'c> {
    /// Reborrow, to make several calls on one connection.
    fn from(c: &'c mut Conn<'d>) -> Self {
        let inner = match &mut c.inner {
            Inner::SqlitePool(p) => Inner::SqlitePool(p),
            Inner::Sqlite(c) => Inner::Sqlite(c),
            Inner::PostgresPool(p) => Inner::PostgresPool(p),
            Inner::Postgres(c) => Inner::Postgres(c),
        };
        Conn {
            inner,
            tx_journaled: c.tx_journaled.as_deref_mut(),
        }
    }
}

/// SQL text: generated constants, or built at run time from generated fragments
/// and validated names only (never from values, which are always bound).
pub type Sql = Cow<'static, str>;

fn pg_query(sql: Sql, doc: &str, extra: &[i64]) -> Query<'static, Postgres, PgArguments> {
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(doc.to_string());
    for x in extra {
        q = q.bind(*x);
    }
    q
}

fn sqlite_query(sql: Sql, doc: &str, extra: &[i64]) -> Query<'static, Sqlite, SqliteArguments> {
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(doc.to_string());
    for x in extra {
        q = q.bind(*x);
    }
    q
}

impl Conn<'_> {
    pub fn dialect(&self) -> Dialect {
        match self.inner {
            Inner::SqlitePool(_) | Inner::Sqlite(_) => Dialect::Sqlite,
            Inner::PostgresPool(_) | Inner::Postgres(_) => Dialect::Postgres,
        }
    }

    /// [`Conn::execute`] for a write to a journaled table: when it changed rows,
    /// the publisher's in-process bell rings after the commit (at once on a pool;
    /// at [`Tx::commit`] in a `Tx`; at once in a caller's own sqlx transaction,
    /// before its commit, so there the publisher finds the record at its next look).
    pub async fn execute_journaled(
        mut self,
        sql: Sql,
        doc: &str,
        extra: &[i64],
    ) -> Result<u64, DbError> {
        let tx_journaled = self.tx_journaled.take();
        let n = self.execute(sql, doc, extra).await?;
        if n > 0 {
            match tx_journaled {
                Some(flag) => *flag = true,
                None => journal::committed(),
            }
        }
        Ok(n)
    }

    /// This connection journaled a change: ring the publisher's bell now, or at
    /// the commit of the `Tx` it belongs to.
    pub(crate) fn journaled(self) {
        match self.tx_journaled {
            Some(flag) => *flag = true,
            None => journal::committed(),
        }
    }

    /// Run `sql` with the JSON document as parameter 1 and `extra` as 2, 3...;
    /// the number of rows affected.
    pub async fn execute(self, sql: Sql, doc: &str, extra: &[i64]) -> Result<u64, DbError> {
        Ok(match self.inner {
            Inner::SqlitePool(p) => sqlite_query(sql, doc, extra)
                .execute(p)
                .await?
                .rows_affected(),
            Inner::Sqlite(c) => sqlite_query(sql, doc, extra)
                .execute(c)
                .await?
                .rows_affected(),
            Inner::PostgresPool(p) => pg_query(sql, doc, extra).execute(p).await?.rows_affected(),
            Inner::Postgres(c) => pg_query(sql, doc, extra).execute(c).await?.rows_affected(),
        })
    }

    /// The first column (a JSON text) of the first row, if any.
    pub async fn fetch_optional(
        self,
        sql: Sql,
        doc: &str,
        extra: &[i64],
    ) -> Result<Option<String>, DbError> {
        let text = match self.inner {
            Inner::SqlitePool(p) => {
                first_text(sqlite_query(sql, doc, extra).fetch_optional(p).await?)
            }
            Inner::Sqlite(c) => first_text(sqlite_query(sql, doc, extra).fetch_optional(c).await?),
            Inner::PostgresPool(p) => {
                first_text(pg_query(sql, doc, extra).fetch_optional(p).await?)
            }
            Inner::Postgres(c) => first_text(pg_query(sql, doc, extra).fetch_optional(c).await?),
        };
        Ok(text?)
    }

    /// The first column (a JSON text) of every row.
    pub async fn fetch_all(
        self,
        sql: Sql,
        doc: &str,
        extra: &[i64],
    ) -> Result<Vec<String>, DbError> {
        let texts: Result<Vec<String>, sqlx::Error> = match self.inner {
            Inner::SqlitePool(p) => sqlite_query(sql, doc, extra)
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect(),
            Inner::Sqlite(c) => sqlite_query(sql, doc, extra)
                .fetch_all(c)
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect(),
            Inner::PostgresPool(p) => pg_query(sql, doc, extra)
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect(),
            Inner::Postgres(c) => pg_query(sql, doc, extra)
                .fetch_all(c)
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect(),
        };
        Ok(texts?)
    }

    /// Whether `sql` returns a row.
    pub async fn exists(self, sql: Sql, doc: &str) -> Result<bool, DbError> {
        Ok(match self.inner {
            Inner::SqlitePool(p) => sqlite_query(sql, doc, &[])
                .fetch_optional(p)
                .await?
                .is_some(),
            Inner::Sqlite(c) => sqlite_query(sql, doc, &[])
                .fetch_optional(c)
                .await?
                .is_some(),
            Inner::PostgresPool(p) => pg_query(sql, doc, &[]).fetch_optional(p).await?.is_some(),
            Inner::Postgres(c) => pg_query(sql, doc, &[]).fetch_optional(c).await?.is_some(),
        })
    }

    /// Run a script of several statements, unparameterised.
    pub async fn execute_script(self, sql: &str) -> Result<(), DbError> {
        let sql = AssertSqlSafe(sql.to_string());
        match self.inner {
            Inner::SqlitePool(p) => sqlx::raw_sql(sql).execute(p).await.map(drop)?,
            Inner::Sqlite(c) => sqlx::raw_sql(sql).execute(c).await.map(drop)?,
            Inner::PostgresPool(p) => sqlx::raw_sql(sql).execute(p).await.map(drop)?,
            Inner::Postgres(c) => sqlx::raw_sql(sql).execute(c).await.map(drop)?,
        }
        Ok(())
    }

    /// Rows of a query with text and integer columns only, for bookkeeping tables
    /// (migrations, journal): each row as its columns rendered as text.
    pub(crate) async fn fetch_rows(
        self,
        sql: impl Into<Sql>,
        binds: &[&str],
    ) -> Result<Vec<Vec<String>>, DbError> {
        fn text<R: sqlx::Row>(r: &R, i: usize) -> Result<String, sqlx::Error>
        where
            usize: sqlx::ColumnIndex<R>,
            for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            for<'r> i32: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        {
            r.try_get::<String, _>(i)
                .or_else(|_| r.try_get::<i64, _>(i).map(|n| n.to_string()))
                .or_else(|_| r.try_get::<i32, _>(i).map(|n| n.to_string()))
        }
        fn rows<R: sqlx::Row>(rows: Vec<R>) -> Result<Vec<Vec<String>>, sqlx::Error>
        where
            usize: sqlx::ColumnIndex<R>,
            for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            for<'r> i32: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        {
            rows.iter()
                .map(|r| (0..r.len()).map(|i| text(r, i)).collect())
                .collect()
        }
        let owned: Vec<String> = binds.iter().map(|s| s.to_string()).collect();
        let sql = AssertSqlSafe(sql.into());
        Ok(match self.inner {
            Inner::SqlitePool(p) => rows(bind_all(sqlx::query(sql), &owned).fetch_all(p).await?)?,
            Inner::Sqlite(c) => rows(bind_all(sqlx::query(sql), &owned).fetch_all(c).await?)?,
            Inner::PostgresPool(p) => rows(bind_all(sqlx::query(sql), &owned).fetch_all(p).await?)?,
            Inner::Postgres(c) => rows(bind_all(sqlx::query(sql), &owned).fetch_all(c).await?)?,
        })
    }
}

fn bind_all<'q, DB: sqlx::Database>(
    mut q: Query<'q, DB, DB::Arguments>,
    binds: &[String],
) -> Query<'q, DB, DB::Arguments>
where
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    for b in binds {
        q = q.bind(b.clone());
    }
    q
}

fn first_text<R: sqlx::Row>(row: Option<R>) -> Result<Option<String>, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    row.map(|r| r.try_get::<String, _>(0)).transpose()
}
