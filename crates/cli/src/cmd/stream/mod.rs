//! `dev stream`: event streams from the command line.
//!
//! `dev stream ls`, `tail` and `publish` work on the workspace's streams (the stream
//! unions its specs own, [`catalog`]) on the backend services use
//! (`BLUEPRINT_STREAMS_URL`, else `[streams] url`, else `sqlite:.dev/streams.sqlite`).
//! `dev stream failures`: the events a consuming service failed to apply, read from
//! its inbox, and retries. `dev stream replay`: re-queue a journaled table's records
//! (`blueprint::db::journal::replay`, the only replay there is), so the service's
//! publisher sends them again. Both find the service's database as `dev db` finds it:
//! `--url`, else `DATABASE_URL`, else `[db] url`, else `.dev/<service>.sqlite`.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use blueprint::chrono::{DateTime, Utc};
use blueprint::consume::{Failure, FailureStatus, inbox};
use blueprint::db::Db;
use blueprint::db::journal::{self, ReplayFrom};

use super::db;

mod catalog;
mod ls;
mod publish;
mod tail;

#[derive(Debug, clap::Subcommand)]
pub enum StreamCommand {
    /// The workspace's streams (owner, event types, consuming services) and, on the
    /// backend, each one's last sequence and its durable consumers' positions and lag.
    #[command(after_long_help = ls::AFTER_HELP)]
    Ls(ls::LsArgs),
    /// Print a stream's events from a start position and follow new ones, without
    /// writing a consumer position.
    #[command(after_long_help = tail::AFTER_HELP)]
    Tail(tail::TailArgs),
    /// Publish JSON events from a file or stdin, each validated against the stream's
    /// union first: one invalid event and nothing is published.
    #[command(after_long_help = publish::AFTER_HELP)]
    Publish(publish::PublishArgs),
    /// Events a service's consumers failed to apply: retrying (with the next attempt
    /// time) or parked after their last attempt. `--retry ID` or `--retry-all` tries
    /// them again now, with their attempts counted afresh.
    ///
    /// JSON (`--format json`): `[{"event_id", "stream", "sequence", "event_type",
    /// "status": "retrying"|"parked", "attempts", "last_error", "received_at",
    /// "next_attempt_at", "payload"}]` (the payload as text, lossy for non-UTF-8).
    Failures(FailuresArgs),
    /// Publish a journaled table's records again: every record (default), those
    /// written since a time, or those from a journal id on. Within the stream's
    /// duplicate window (2 minutes) a republished event is stored once.
    Replay(ReplayArgs),
}

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The journaled table (`users`).
    #[arg(long)]
    table: String,
    /// Records written at or after this time (RFC 3339, `2024-05-01T10:00:00Z`).
    #[arg(long, conflicts_with = "from_id")]
    since: Option<String>,
    /// Records with this journal id or a later one.
    #[arg(long)]
    from_id: Option<i64>,
    /// The publishing service, whose database holds the journal (default: `[db] service`).
    #[arg(long)]
    service: Option<String>,
    /// The service's database URL (`sqlite:path` or `postgres://...`).
    #[arg(long, env = "DATABASE_URL")]
    url: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct FailuresArgs {
    /// The consuming service, whose database holds the inbox (default: `[db] service`).
    #[arg(long)]
    service: Option<String>,
    /// The service's database URL (`sqlite:path` or `postgres://...`).
    #[arg(long, env = "DATABASE_URL")]
    url: Option<String>,
    /// Only the failures of this stream (`<namespace>.<union>.json`).
    #[arg(long)]
    stream: Option<String>,
    /// Try this event (by event id) again now.
    #[arg(long, value_name = "EVENT_ID", conflicts_with = "retry_all")]
    retry: Option<String>,
    /// Try every failure (of `--stream`, if given) again now.
    #[arg(long)]
    retry_all: bool,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

pub fn run(command: StreamCommand) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match command {
        StreamCommand::Ls(args) => runtime.block_on(ls::run(args)),
        StreamCommand::Tail(args) => runtime.block_on(tail::run(args)),
        StreamCommand::Publish(args) => runtime.block_on(publish::run(args)),
        StreamCommand::Failures(args) => runtime.block_on(failures(args)),
        StreamCommand::Replay(args) => runtime.block_on(replay(args)),
    }
}

async fn replay(args: ReplayArgs) -> Result<ExitCode> {
    let from = match (&args.since, args.from_id) {
        (Some(t), _) => match DateTime::parse_from_rfc3339(t) {
            Ok(t) => ReplayFrom::Time(t.with_timezone(&Utc)),
            Err(e) => bail!("--since `{t}`: {e} (expected RFC 3339, e.g. 2024-05-01T10:00:00Z)"),
        },
        (None, Some(id)) => ReplayFrom::Id(id),
        (None, None) => ReplayFrom::Id(0),
    };
    let url = db::database_url(args.url, args.service)?;
    let database = db::connect(&url).await?;
    let table = &args.table;
    let n = journal::replay(&database, table, from)
        .await
        .with_context(|| format!("cannot replay `{table}` in {url}"))?;
    eprintln!("re-queued {n} journal records of `{table}`; the publisher sends them again");
    Ok(ExitCode::SUCCESS)
}

async fn failures(args: FailuresArgs) -> Result<ExitCode> {
    let url = db::database_url(args.url.clone(), args.service.clone())?;
    let database = Db::connect(&url)
        .await
        .with_context(|| format!("cannot open the database {url}"))?;
    let stream = args.stream.as_deref();
    if let Some(id) = &args.retry {
        if !inbox::retry(&database, id).await.context(NO_INBOX)? {
            bail!("no failed event `{id}` in the inbox of {url}");
        }
        eprintln!("event {id} will be tried again now");
        return Ok(ExitCode::SUCCESS);
    }
    if args.retry_all {
        let n = inbox::retry_all(&database, stream)
            .await
            .context(NO_INBOX)?;
        eprintln!("{n} event{} will be tried again now", plural(n));
        return Ok(ExitCode::SUCCESS);
    }
    let failures = inbox::failures(&database, stream).await.context(NO_INBOX)?;
    match args.format {
        Format::Json => {
            let list: Vec<serde_json::Value> = failures.iter().map(json).collect();
            println!("{}", serde_json::to_string_pretty(&list)?);
        }
        Format::Text => print_table(&failures),
    }
    let parked = failures
        .iter()
        .filter(|f| f.status == FailureStatus::Parked)
        .count();
    eprintln!(
        "{} failed event{} ({parked} parked)",
        failures.len(),
        plural(failures.len() as u64)
    );
    Ok(ExitCode::SUCCESS)
}

const NO_INBOX: &str = "cannot read the consumer inbox (does the service consume streams, and is its database migrated?)";

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn json(f: &Failure) -> serde_json::Value {
    serde_json::json!({
        "event_id": f.event_id,
        "stream": f.stream,
        "sequence": f.sequence,
        "event_type": f.event_type,
        "status": f.status.as_str(),
        "attempts": f.attempts,
        "last_error": f.last_error,
        "received_at": f.received_at,
        "next_attempt_at": f.next_attempt_at,
        "payload": String::from_utf8_lossy(&f.payload),
    })
}

fn print_table(failures: &[Failure]) {
    let rows: Vec<[String; 6]> = failures
        .iter()
        .map(|f| {
            let when = match f.status {
                FailureStatus::Parked => "parked".to_string(),
                FailureStatus::Retrying => format!(
                    "retry at {}",
                    f.next_attempt_at
                        .to_rfc3339_opts(blueprint::chrono::SecondsFormat::Secs, true)
                ),
            };
            [
                f.event_id.clone(),
                f.event_type.clone(),
                format!("{}#{}", f.stream, f.sequence),
                f.attempts.to_string(),
                when,
                f.last_error.lines().next().unwrap_or_default().to_string(),
            ]
        })
        .collect();
    let header = ["EVENT", "TYPE", "STREAM#SEQ", "ATTEMPTS", "STATUS", "ERROR"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(header.map(String::from)).chain(rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, w))| {
                if i + 1 == header.len() {
                    cell.clone()
                } else {
                    format!("{cell:<w$}")
                }
            })
            .collect();
        println!("{}", cells.join("  "));
    }
}
