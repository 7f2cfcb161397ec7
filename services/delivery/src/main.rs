//! The delivery service: the generated `delivery` API on its database, plus the
//! relay (streams → messages), the dispatcher (messages → signed webhooks) and
//! the janitor (retention) running beside it, the relay's and dispatcher's work
//! shared with the service's other processes through leases (`shards.rs`); pull
//! subscriptions lease their messages through the API (`pull.rs`); operators list
//! every subscription's figures on `/_internal_/subscriptions` (`internal.rs`).
//! Everything else a service process does is `blueprint::service`'s.

mod api;
mod bell;
mod dispatch;
mod internal;
mod policy;
mod pull;
mod relay;
mod retention;
mod settings;
mod shards;
mod sign;
mod store;
mod target;

use std::process::ExitCode;
use std::sync::Arc;

use blueprint::service::{Config, Service};
use blueprint::tokio;
use blueprint::uuid::Uuid;
use delivery_api::server::router_with_config;
use tokio::sync::Notify;

use crate::bell::Bell;
use crate::dispatch::Dispatcher;
use crate::relay::Relay;
use crate::retention::Janitor;
use crate::settings::Settings;
use crate::shards::Coordinator;
use crate::store::{Leases, Writes};

/// The largest request body the API reads (413 beyond).
const BODY_LIMIT: usize = 64 * 1024;

fn main() -> ExitCode {
    let settings = match Config::from_env(delivery_api::SERVICE.key)
        .map_err(settings::SettingsError::from)
        .and_then(|config| Settings::load(&config))
    {
        Ok(settings) => Arc::new(settings),
        Err(e) => {
            eprintln!("delivery: error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let client = match dispatch::client(&settings) {
        Ok(client) => client,
        Err(e) => {
            eprintln!("delivery: error: cannot build the HTTP client: {e}");
            return ExitCode::FAILURE;
        }
    };
    Service::new(delivery_api::SERVICE)
        .git_commit(option_env!("GIT_COMMIT"))
        .database(delivery_api::migrations)
        .streams()
        .run(move |app| {
            let db = app.db().clone();
            let changed = Arc::new(Notify::new());
            let bell = Bell::new(db.clone());
            // Held for the process's life: the other processes' rings.
            let listening = bell.listen();
            let writes = Writes::new(&db);
            let relay = Relay {
                db: db.clone(),
                streams: app.streams().clone(),
                bell: bell.clone(),
                writes: writes.clone(),
            };
            let dispatcher = Dispatcher::new(db.clone(), client, bell.clone(), writes);
            let leases = Leases {
                owner: format!("proc_{}", Uuid::new_v4().simple()),
                ttl: settings.lease_ttl,
            };
            tracing::info!(process = %leases.owner, ttl = ?leases.ttl, "delivery: sharing the work");
            tokio::spawn(
                Coordinator {
                    db: db.clone(),
                    streams: app.streams().clone(),
                    leases,
                    relay,
                    dispatcher,
                    changed: changed.clone(),
                }
                .run(listening),
            );
            tokio::spawn(
                Janitor {
                    db: db.clone(),
                    retention: settings.retention,
                    dead_retention: settings.dead_retention,
                    batch: retention::BATCH,
                }
                .run(),
            );
            for note in settings.notes() {
                tracing::warn!("{note}");
            }
            let server = blueprint::server::ServerConfig {
                notes: settings.notes(),
                // Subscriptions are small: refuse anything larger before reading it.
                body_limit: BODY_LIMIT,
                ..app.server.clone()
            };
            let internal = internal::router(db.clone(), app.streams().clone());
            let api = api::Delivery {
                db,
                streams: app.streams().clone(),
                settings,
                changed,
                bell,
            };
            router_with_config(api, &server).merge(internal)
        })
}
