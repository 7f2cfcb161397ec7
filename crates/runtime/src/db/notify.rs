//! Wake-ups across processes sharing a database: PostgreSQL's LISTEN/NOTIFY. On
//! SQLite there are none (processes on one file look again on a timer instead).

use super::{Db, DbError};

impl Db {
    /// Wake the listeners of `channel` in every process on this database
    /// (PostgreSQL: `pg_notify`, delivered at commit); nothing on SQLite.
    pub async fn notify(&self, channel: &str) -> Result<(), DbError> {
        if let Db::Postgres(pool) = self {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(channel)
                .execute(pool)
                .await?;
        }
        Ok(())
    }

    /// Call `ring` for every notification on `channel` (PostgreSQL: `LISTEN` on a
    /// connection of its own, reconnecting by itself), until the task returned
    /// is aborted; `None` on SQLite.
    #[cfg(any(feature = "publish", feature = "service"))]
    pub fn listen(
        &self,
        channel: &'static str,
        ring: impl Fn() + Send + Sync + 'static,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let Db::Postgres(pool) = self else {
            return None;
        };
        let pool = pool.clone();
        Some(tokio::spawn(async move {
            loop {
                let listening = async {
                    let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
                    listener.listen(channel).await?;
                    loop {
                        listener.recv().await?;
                        ring();
                    }
                };
                let result: Result<(), sqlx::Error> = listening.await;
                if let Err(e) = result {
                    tracing::warn!(channel, error = %e, "listening for notifications failed; retrying");
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }))
    }
}
