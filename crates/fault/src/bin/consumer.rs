//! `fault-consumer --db URL --streams URL`: the `events` service's generated
//! `user_event` consumer (durable consumer `fault`) until killed; its handler
//! records each applied event in `fault_applied`, in the transaction that
//! applies it. Migrates the database first.

use std::time::Duration;

use blueprint::consume::{ConsumeConfig, ConsumeError, Driver, EventMeta};
use blueprint::db::{Db, Tx, migrate};
use blueprint::serde_json::json;
use blueprint::stream::Streams;
use blueprint_fault::RECORD_APPLIED;
use clap::Parser;
use events_api::consumers::{UserEventConsumer, UserEventHandler};
use events_api::models::io_blueprint_users_v0::{UserDeleted, UserUpserted};

#[derive(Debug, Parser)]
struct Args {
    #[arg(long)]
    db: String,
    #[arg(long)]
    streams: String,
    /// How long the stream waits for an ack before delivering again (ms).
    #[arg(long, default_value_t = 30_000)]
    ack_wait_ms: u64,
}

/// Records what it applies.
struct Recorder;

async fn record(
    tx: &mut Tx,
    meta: &EventMeta,
    user: &str,
    marker: Option<&str>,
) -> Result<(), ConsumeError> {
    let row = json!({
        "event_id": meta.event_id,
        "event_type": meta.event_type,
        "user_id": user,
        "marker": marker,
    })
    .to_string();
    let mut conn = tx.conn();
    let sql = RECORD_APPLIED.get(conn.dialect());
    blueprint::db::Conn::from(&mut conn)
        .execute(sql.into(), &row, &[])
        .await?;
    Ok(())
}

impl UserEventConsumer for Recorder {
    async fn user_upserted(
        &self,
        tx: &mut Tx,
        event: UserUpserted,
        meta: &EventMeta,
    ) -> Result<(), ConsumeError> {
        record(tx, meta, &event.user.id, event.user.name.first.as_deref()).await
    }

    async fn user_deleted(
        &self,
        tx: &mut Tx,
        event: UserDeleted,
        meta: &EventMeta,
    ) -> Result<(), ConsumeError> {
        record(tx, meta, &event.id, None).await
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    blueprint_fault::init_logs();
    let args = Args::parse();
    let db = Db::connect(&args.db).await?;
    migrate::migrate(&db, &events_api::migrations(db.dialect())).await?;
    blueprint_fault::create_applied(&db).await?;
    let streams = Streams::connect(&args.streams).await?;
    let config = ConsumeConfig::default()
        .name("fault")
        .ack_wait(Duration::from_millis(args.ack_wait_ms));
    let _running = Driver::new(db, streams)
        .config(config)
        .start(UserEventHandler(Recorder))
        .await?;
    std::future::pending::<()>().await;
    Ok(())
}
