//! `fault-publisher --db URL --streams URL`: `blueprint::publish` on the
//! writer's database until killed. `--replicas N` publishes on a stream of N
//! copies (a JetStream cluster) instead of the spec's one.

use blueprint::db::{Db, migrate};
use blueprint::publish::{Journaled, Publisher};
use blueprint::stream::{StreamConfig, StreamEvent, Streams};
use clap::Parser;
use users_api::models::UserEvent;

#[derive(Debug, Parser)]
struct Args {
    #[arg(long)]
    db: String,
    #[arg(long)]
    streams: String,
    #[arg(long, default_value_t = 1)]
    replicas: u8,
}

/// The spec's `user_event` stream with three copies.
fn replicated() -> StreamConfig {
    StreamConfig {
        replicas: 3,
        ..UserEvent::stream()
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    blueprint_fault::init_logs();
    let args = Args::parse();
    let db = Db::connect(&args.db).await?;
    migrate::migrate(&db, &users_api::migrations(db.dialect())).await?;
    let streams = Streams::connect(&args.streams).await?;
    let tables = users_api::events::journaled()
        .into_iter()
        .map(|t| match args.replicas {
            1 => t,
            3 => Journaled {
                stream: replicated,
                ..t
            },
            n => panic!("--replicas {n}: 1 or 3"),
        });
    let _running = Publisher::new(db, streams, tables).start();
    std::future::pending::<()>().await;
    Ok(())
}
