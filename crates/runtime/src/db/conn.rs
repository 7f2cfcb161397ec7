//! [`Db`] (a pool of either dialect), [`Tx`] (a transaction) and [`Conn`] (what a
//! DAO call runs on: any of the two, or a caller's connection or transaction).

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgArguments, PgPoolOptions};
use sqlx::query::Query;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{
    AssertSqlSafe, PgConnection, PgPool, Postgres, Row as _, Sqlite, SqliteConnection, SqlitePool,
    Transaction,
};

use super::DbError;

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
            let pool = PgPoolOptions::new().connect(url).await?;
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
            Db::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
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
#[derive(Debug)]
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub async fn commit(self) -> Result<(), DbError> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), DbError> {
        match self {
            Tx::Sqlite(t) => t.rollback().await?,
            Tx::Postgres(t) => t.rollback().await?,
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
pub struct Conn<'c>(Inner<'c>);

#[derive(Debug)]
enum Inner<'c> {
    SqlitePool(&'c SqlitePool),
    Sqlite(&'c mut SqliteConnection),
    PostgresPool(&'c PgPool),
    Postgres(&'c mut PgConnection),
}

impl<'c> From<&'c Db> for Conn<'c> {
    fn from(db: &'c Db) -> Self {
        match db {
            Db::Sqlite(p) => Conn(Inner::SqlitePool(p)),
            Db::Postgres(p) => Conn(Inner::PostgresPool(p)),
        }
    }
}

impl<'c> From<&'c mut Tx> for Conn<'c> {
    fn from(tx: &'c mut Tx) -> Self {
        match tx {
            Tx::Sqlite(t) => Conn(Inner::Sqlite(t)),
            Tx::Postgres(t) => Conn(Inner::Postgres(t)),
        }
    }
}

impl<'c> From<&'c SqlitePool> for Conn<'c> {
    fn from(p: &'c SqlitePool) -> Self {
        Conn(Inner::SqlitePool(p))
    }
}

impl<'c> From<&'c PgPool> for Conn<'c> {
    fn from(p: &'c PgPool) -> Self {
        Conn(Inner::PostgresPool(p))
    }
}

impl<'c> From<&'c mut SqliteConnection> for Conn<'c> {
    fn from(c: &'c mut SqliteConnection) -> Self {
        Conn(Inner::Sqlite(c))
    }
}

impl<'c> From<&'c mut PgConnection> for Conn<'c> {
    fn from(c: &'c mut PgConnection) -> Self {
        Conn(Inner::Postgres(c))
    }
}

impl<'c> From<&'c mut Transaction<'_, Sqlite>> for Conn<'c> {
    fn from(t: &'c mut Transaction<'_, Sqlite>) -> Self {
        Conn(Inner::Sqlite(t))
    }
}

impl<'c> From<&'c mut Transaction<'_, Postgres>> for Conn<'c> {
    fn from(t: &'c mut Transaction<'_, Postgres>) -> Self {
        Conn(Inner::Postgres(t))
    }
}

impl<'c, 'd> From<&'c mut Conn<'d>> for Conn<'c> {
    /// Reborrow, to make several calls on one connection.
    fn from(c: &'c mut Conn<'d>) -> Self {
        Conn(match &mut c.0 {
            Inner::SqlitePool(p) => Inner::SqlitePool(p),
            Inner::Sqlite(c) => Inner::Sqlite(c),
            Inner::PostgresPool(p) => Inner::PostgresPool(p),
            Inner::Postgres(c) => Inner::Postgres(c),
        })
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
        match self.0 {
            Inner::SqlitePool(_) | Inner::Sqlite(_) => Dialect::Sqlite,
            Inner::PostgresPool(_) | Inner::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Run `sql` with the JSON document as parameter 1 and `extra` as 2, 3...;
    /// the number of rows affected.
    pub async fn execute(self, sql: Sql, doc: &str, extra: &[i64]) -> Result<u64, DbError> {
        Ok(match self.0 {
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
        let text = match self.0 {
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
        let texts: Result<Vec<String>, sqlx::Error> = match self.0 {
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
        Ok(match self.0 {
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
        match self.0 {
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
        Ok(match self.0 {
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
