//! The events service (seed 002): the generated `events` API served on its
//! agency-scoped DAO (`api`), its journal published as `event_event`, and the
//! users stream's consumer (`anonymise`).
//! Everything a service process does besides (settings, migrations, streams,
//! token verification, consumers, healthcheck, graceful shutdown) is
//! `blueprint::service`'s.

mod anonymise;
mod api;

use std::process::ExitCode;

use blueprint::service::Service;
use events_api::consumers::UserEventHandler;
use events_api::server::router_with_config;

fn main() -> ExitCode {
    Service::new(events_api::SERVICE)
        .git_commit(option_env!("GIT_COMMIT"))
        .database(events_api::migrations)
        .publishes(events_api::events::journaled)
        .consumes(|_| UserEventHandler(anonymise::Anonymiser))
        .run(|app| router_with_config(api::Events::new(app.db().clone()), &app.server))
}
