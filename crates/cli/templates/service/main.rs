//! The {{key}} service: the generated `{{key}}` API served on its database.
//! Everything else a service process does (settings, migrations, streams,
//! healthcheck, graceful shutdown) is `blueprint::service`'s.

mod api;

use std::process::ExitCode;

use blueprint::service::Service;
use {{crate}}::server::router_with_config;

fn main() -> ExitCode {
    Service::new({{crate}}::SERVICE)
        .git_commit(option_env!("GIT_COMMIT"))
        .database({{crate}}::migrations)
        .run(|app| router_with_config(api::{{Plural}}::new(app.db().clone()), &app.server))
}
