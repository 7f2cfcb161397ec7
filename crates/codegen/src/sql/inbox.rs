//! The consumer inbox: the tables a service that consumes streams gets in its own
//! database, written and read by `blueprint::consume` (the runtime owns the
//! statements, as it owns the journal's queue; the DDL is here so one migration
//! runner and one schema snapshot cover every table).
//!
//! - `_blueprint_inbox`: every event received from a consumed stream, stored before
//!   the stream is acknowledged, with its processing state (`pending`, `applied`,
//!   `parked`), attempts, next attempt and last error. On PostgreSQL it is
//!   partitioned by day of arrival (`received_at`), so retention drops partitions
//!   (`_blueprint_journal_maintain()` maintains it with the journals, from the
//!   `_blueprint_retention` registry).
//! - `_blueprint_inbox_applied`: the id of every applied event, inserted in the
//!   transaction that applies it. This is what makes processing idempotent: a
//!   partitioned table can only be unique on keys that include the partition key,
//!   so the inbox cannot refuse an event id received again on another day; this small
//!   unpartitioned table can, and its primary key also serialises two processes
//!   applying the same event. Ids are trimmed after the inbox retention (a `DELETE`
//!   of small rows; the payloads go with the partitions).

use super::Dialect;

/// Days inbox rows (and applied ids) are kept: the stream retention's default.
pub const RETENTION_DAYS: u32 = 7;

/// The inbox tables, indexes and retention registration; after [`Dialect::support`].
pub fn create(dialect: Dialect) -> String {
    let (table, rest) = match dialect {
        Dialect::Postgres => (POSTGRES_TABLE, POSTGRES_REST),
        Dialect::Sqlite => (SQLITE_TABLE, SQLITE_REST),
    };
    format!(
        "{table}{rest}INSERT INTO \"_blueprint_retention\" (\"table_name\", \"retention_days\") \
         VALUES ('_blueprint_inbox', {RETENTION_DAYS}) ON CONFLICT (\"table_name\") DO NOTHING;\n\n"
    )
}

/// Remove the inbox (the service no longer consumes streams).
pub fn remove() -> String {
    "DROP TABLE IF EXISTS \"_blueprint_inbox\";\n\
     DROP TABLE IF EXISTS \"_blueprint_inbox_applied\";\n\
     DELETE FROM \"_blueprint_retention\" WHERE \"table_name\" = '_blueprint_inbox';\n"
        .to_string()
}

// `status` has no CHECK: only the runtime writes it, and PostgreSQL re-plans CHECKs
// per statement (see the journal). Values: pending, applied, parked.
const POSTGRES_TABLE: &str = r#"-- The consumer inbox: events received from consumed streams, stored before they
-- are acknowledged, then applied once (see blueprint::consume).
CREATE TABLE "_blueprint_inbox" (
    "event_id" text NOT NULL,
    "stream" text NOT NULL,
    "sequence" bigint NOT NULL,
    "event_type" text NOT NULL,
    "partition_key" text,
    "event_timestamp" timestamptz NOT NULL,
    "payload" bytea NOT NULL,
    "received_at" timestamptz NOT NULL DEFAULT now(),
    "status" text NOT NULL DEFAULT 'pending',
    "attempts" integer NOT NULL DEFAULT 0,
    "next_attempt_at" timestamptz NOT NULL DEFAULT now(),
    "last_error" text,
    "applied_at" timestamptz,
    PRIMARY KEY ("event_id", "received_at")
) PARTITION BY RANGE ("received_at");
"#;

const POSTGRES_REST: &str = r#"-- What waits, in stream order; and per partition key, for the order within a key.
CREATE INDEX "_blueprint_inbox_pending" ON "_blueprint_inbox" ("stream", "sequence") WHERE "status" = 'pending';
CREATE INDEX "_blueprint_inbox_pending_key" ON "_blueprint_inbox" ("stream", "partition_key", "sequence") WHERE "status" = 'pending';
CREATE INDEX "_blueprint_inbox_failed" ON "_blueprint_inbox" ("received_at") WHERE "last_error" IS NOT NULL;
CREATE TABLE "_blueprint_inbox_applied" (
    "event_id" text PRIMARY KEY,
    "applied_at" timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX "_blueprint_inbox_applied_at" ON "_blueprint_inbox_applied" ("applied_at");
"#;

const SQLITE_TABLE: &str = r#"-- The consumer inbox: events received from consumed streams, stored before they
-- are acknowledged, then applied once (see blueprint::consume).
CREATE TABLE "_blueprint_inbox" (
    "event_id" TEXT NOT NULL PRIMARY KEY,
    "stream" TEXT NOT NULL,
    "sequence" INTEGER NOT NULL,
    "event_type" TEXT NOT NULL,
    "partition_key" TEXT,
    "event_timestamp" TEXT NOT NULL,
    "payload" BLOB NOT NULL,
    "received_at" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    "status" TEXT NOT NULL DEFAULT 'pending' CHECK ("status" IN ('pending', 'applied', 'parked')),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    "last_error" TEXT,
    "applied_at" TEXT
) STRICT;
"#;

const SQLITE_REST: &str = r#"CREATE INDEX "_blueprint_inbox_pending" ON "_blueprint_inbox" ("stream", "sequence") WHERE "status" = 'pending';
CREATE INDEX "_blueprint_inbox_pending_key" ON "_blueprint_inbox" ("stream", "partition_key", "sequence") WHERE "status" = 'pending';
CREATE INDEX "_blueprint_inbox_failed" ON "_blueprint_inbox" ("received_at") WHERE "last_error" IS NOT NULL;
CREATE INDEX "_blueprint_inbox_received" ON "_blueprint_inbox" ("received_at");
CREATE TABLE "_blueprint_inbox_applied" (
    "event_id" TEXT NOT NULL PRIMARY KEY,
    "applied_at" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
CREATE INDEX "_blueprint_inbox_applied_at" ON "_blueprint_inbox_applied" ("applied_at");
"#;
