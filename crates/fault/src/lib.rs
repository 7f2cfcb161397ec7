//! Fault tests of the journal → stream → consumer path (the tests are in
//! `tests/faults.rs`; this library is what their three processes share).
//!
//! - `fault-writer` performs a deterministic [`plan`] of journaled writes (inserts,
//!   updates, deletes) on the `users` table through the generated DAO; it does not
//!   publish.
//! - `fault-publisher` runs `blueprint::publish` on the writer's database.
//! - `fault-consumer` runs the `events` service's generated `user_event` consumer,
//!   whose handler records every applied event in [`APPLIED_TABLE`] in the
//!   transaction that applies it. That table has no unique key: an event applied
//!   twice is two rows.
//!
//! Each takes its database URL and the streams URL as arguments.

use blueprint::db::{Db, DbError, Statement};

/// One write of the plan, and the event the consumer must apply for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Write {
    pub op: Op,
    /// The user's id (`u<n>`).
    pub user: String,
    /// The `name.first` the write sets (`w<n>`, n the write's index); none for a delete.
    pub marker: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Insert,
    Update,
    Delete,
}

impl Op {
    /// The event type a write of this kind is published as.
    pub fn event_type(self) -> &'static str {
        match self {
            Op::Insert | Op::Update => "user_upserted",
            Op::Delete => "user_deleted",
        }
    }
}

/// The first `n` writes, always the same: 40% inserts of new users, 50% updates of
/// a live user (each changes the row, so each is journaled), 10% deletes of one.
pub fn plan(n: u64) -> Vec<Write> {
    let mut live: Vec<String> = Vec::new();
    let mut writes = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
    for k in 0..n {
        let marker = Some(format!("w{k}"));
        let pick = |salt: u64, len: usize| (k.wrapping_mul(salt) % len as u64) as usize;
        let write = match k % 10 {
            _ if live.len() < 10 => None,
            0..=3 => None,
            4..=8 => Some(Write {
                op: Op::Update,
                user: live[pick(7919, live.len())].clone(),
                marker: marker.clone(),
            }),
            _ => Some(Write {
                op: Op::Delete,
                user: live.swap_remove(pick(31, live.len())),
                marker: None,
            }),
        };
        writes.push(write.unwrap_or_else(|| {
            let user = format!("u{k}");
            live.push(user.clone());
            Write {
                op: Op::Insert,
                user,
                marker,
            }
        }));
    }
    writes
}

/// The consumer's record of applied events: no key, no unique constraint.
pub const APPLIED_TABLE: &str = "fault_applied";

/// Creates [`APPLIED_TABLE`] (both dialects). `seq` orders the rows as applied.
pub const CREATE_APPLIED: Statement = Statement {
    postgres: r#"CREATE TABLE IF NOT EXISTS "fault_applied" (
    "seq" BIGSERIAL,
    "event_id" TEXT NOT NULL,
    "event_type" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "marker" TEXT
)"#,
    sqlite: r#"CREATE TABLE IF NOT EXISTS "fault_applied" (
    "seq" INTEGER PRIMARY KEY AUTOINCREMENT,
    "event_id" TEXT NOT NULL,
    "event_type" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "marker" TEXT
)"#,
};

/// Records one applied event; `$1` is `{event_id, event_type, user_id, marker}`.
pub const RECORD_APPLIED: Statement = Statement {
    postgres: r#"INSERT INTO "fault_applied" ("event_id", "event_type", "user_id", "marker")
SELECT r."event_id", r."event_type", r."user_id", r."marker"
FROM jsonb_to_record($1::text::jsonb) AS r("event_id" text, "event_type" text, "user_id" text, "marker" text)"#,
    sqlite: r#"INSERT INTO "fault_applied" ("event_id", "event_type", "user_id", "marker")
VALUES (?1 ->> '$.event_id', ?1 ->> '$.event_type', ?1 ->> '$.user_id', ?1 ->> '$.marker')"#,
};

/// Create [`APPLIED_TABLE`] unless it exists.
pub async fn create_applied(db: &Db) -> Result<(), DbError> {
    db.execute_script(CREATE_APPLIED.get(db.dialect())).await
}

/// A process's tracing events (warnings and up unless `RUST_LOG` says otherwise)
/// on stderr, which the tests keep in a log file per process.
pub fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_mixes_inserts_updates_and_deletes_of_live_users() {
        let writes = plan(10_000);
        let count = |op| writes.iter().filter(|w| w.op == op).count();
        assert_eq!(writes.len(), 10_000);
        assert!(count(Op::Insert) > 3_000 && count(Op::Update) > 4_000 && count(Op::Delete) > 900);
        let mut live = std::collections::HashSet::new();
        for w in &writes {
            match w.op {
                Op::Insert => assert!(live.insert(w.user.clone()), "{w:?} inserted twice"),
                Op::Update => assert!(live.contains(&w.user), "{w:?} not live"),
                Op::Delete => assert!(live.remove(&w.user), "{w:?} not live"),
            }
        }
        assert_eq!(plan(10_000), writes, "deterministic");
    }
}
