//! The users service: the generated `users` API served on its database. Everything
//! a service process does besides (settings, migrations, streams, publishing every
//! change on `user_event`, healthcheck, graceful shutdown) is `blueprint::service`'s.

mod api;

use std::process::ExitCode;

use blueprint::service::Service;
use users_api::server::router_with_config;

fn main() -> ExitCode {
    Service::new(users_api::SERVICE)
        .git_commit(option_env!("GIT_COMMIT"))
        .database(users_api::migrations)
        .publishes(users_api::events::journaled)
        .run(|app| router_with_config(api::Users::new(app.db().clone()), &app.server))
}
