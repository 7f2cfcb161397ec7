//! The events service: `events` serves, `events migrate` applies the migrations.
//!
//! Interim wiring until the runtime's `blueprint::service` takes over
//! (configuration, database, streams, consumers, serving, shutdown); the service
//! itself is `api` (the trait on the DAO) and `anonymise` (the users consumer).

mod anonymise;
mod api;

use std::process::ExitCode;

use blueprint::consume::Driver;
use blueprint::db::Db;
use blueprint::db::migrate::{self, State};
use blueprint::server::ServerConfig;
use blueprint::stream::{Streams, StreamsUrl};
use events_api::consumers::UserEventHandler;

use crate::anonymise::Anonymiser;
use crate::api::Events;

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

async fn run() -> Result<(), String> {
    let url = env("DATABASE_URL", "sqlite:.dev/events.sqlite");
    let db = Db::connect(&url)
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    let migrations = events_api::migrations(db.dialect());
    if std::env::args().nth(1).as_deref() == Some("migrate") {
        let applied = migrate::migrate(&db, &migrations)
            .await
            .map_err(|e| format!("cannot migrate: {e}"))?;
        println!("applied {} migration(s)", applied.len());
        return Ok(());
    }
    let status = migrate::status(&db, &migrations)
        .await
        .map_err(|e| format!("cannot read the migrations' state: {e}"))?;
    if let Some(pending) = status.iter().find(|s| s.state != State::Applied) {
        return Err(format!(
            "migration {} is {:?}: run `events migrate` first",
            pending.name, pending.state
        ));
    }
    let root = std::env::current_dir().map_err(|e| e.to_string())?;
    let streams_url = StreamsUrl::from_env(None, &root).map_err(|e| e.to_string())?;
    let streams = Streams::open(&streams_url)
        .await
        .map_err(|e| format!("cannot open the streams: {e}"))?;
    let consumer = Driver::new(db.clone(), streams)
        .start(UserEventHandler(Anonymiser))
        .await
        .map_err(|e| format!("cannot start the users consumer: {e}"))?;
    let config = ServerConfig::default()
        .with_verifier_from_env()
        .map_err(|e| format!("cannot read the JWT public key: {e}"))?;
    let router = events_api::server::router_with_config(Events { db }, &config);
    let address = format!(
        "{}:{}",
        env("BLUEPRINT_BIND", "127.0.0.1"),
        env("PORT", "7102")
    );
    let listener = blueprint::tokio::net::TcpListener::bind(&address)
        .await
        .map_err(|e| format!("cannot listen on {address}: {e}"))?;
    println!("listening on http://{address}");
    blueprint::server::serve(listener, router)
        .await
        .map_err(|e| e.to_string())?;
    consumer.shutdown().await;
    Ok(())
}

#[blueprint::tokio::main(crate = "blueprint::tokio")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("events: {e}");
            ExitCode::FAILURE
        }
    }
}
