//! `dev stream`: the service's event streams in development.
//!
//! `replay` re-queues a journaled table's records (`blueprint::db::journal::replay`,
//! the only replay there is), so the service's publisher sends them again. The
//! database is found as `dev db` finds it (`--url`, `DATABASE_URL`, `[db]`...).

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use blueprint::chrono::{DateTime, Utc};
use blueprint::db::journal::{self, ReplayFrom};

use super::db::{self, Target};

#[derive(Debug, clap::Subcommand)]
pub enum StreamCommand {
    /// Publish a journaled table's records again: every record (default), those
    /// written since a time, or those from a journal id on. Within the stream's
    /// duplicate window (2 minutes) a republished event is stored once.
    Replay {
        /// The journaled table (`users`).
        #[arg(long)]
        table: String,
        /// Records written at or after this time (RFC 3339, `2024-05-01T10:00:00Z`).
        #[arg(long, conflicts_with = "from_id")]
        since: Option<String>,
        /// Records with this journal id or a later one.
        #[arg(long)]
        from_id: Option<i64>,
        #[command(flatten)]
        target: Target,
    },
}

pub fn run(command: StreamCommand) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        match command {
            StreamCommand::Replay {
                table,
                since,
                from_id,
                target,
            } => {
                let from = match (since, from_id) {
                    (Some(t), _) => match DateTime::parse_from_rfc3339(&t) {
                        Ok(t) => ReplayFrom::Time(t.with_timezone(&Utc)),
                        Err(e) => bail!(
                            "--since `{t}`: {e} (expected RFC 3339, e.g. 2024-05-01T10:00:00Z)"
                        ),
                    },
                    (None, Some(id)) => ReplayFrom::Id(id),
                    (None, None) => ReplayFrom::Id(0),
                };
                let r = db::resolve(&target)?;
                let db = db::connect(&r.url).await?;
                let n = journal::replay(&db, &table, from)
                    .await
                    .with_context(|| format!("cannot replay `{table}` in {}", r.url))?;
                eprintln!(
                    "re-queued {n} journal records of `{table}`; the publisher sends them again"
                );
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}
