//! `dev verify`: call a running service and check every answer against its spec.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use blueprint_verify::{Options, verify};

use crate::cmd::token;
use crate::report::{self, Format};
use crate::services::{self, RunFile};
use crate::workspace::{self, Workspace};

/// How long a token minted for `--service` is valid: the length of a run.
const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// The environment variable holding a bearer token for the service (`dev token`
/// prints one: `export BLUEPRINT_TOKEN=$(dev token --user .. --agency ..)`).
pub const TOKEN_ENV: &str = "BLUEPRINT_TOKEN";

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The service's api.json (or `--service`).
    #[arg(required_unless_present = "service", conflicts_with = "service")]
    pub spec: Option<PathBuf>,
    /// A service of the workspace, by key or name: its spec, where `dev up` runs
    /// it (else its `[services.<key>] port`), and, when it checks tokens and none
    /// is given, a token from the workspace's key for a fresh user and agency.
    #[arg(long, value_name = "KEY")]
    pub service: Option<String>,
    /// Where the service runs (http only); `--service` finds it.
    #[arg(long, value_name = "URL", required_unless_present = "service")]
    pub url: Option<String>,
    /// A header sent with every request, `Name: value` (repeatable).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// A JWT sent as `Authorization: Bearer <token>` (unless a `--header` sets
    /// `Authorization`); `dev token` mints one.
    #[arg(long, env = TOKEN_ENV, hide_env_values = true, value_name = "JWT")]
    pub token: Option<String>,
    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
    #[arg(long, value_enum, default_value_t)]
    pub format: VerifyFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum VerifyFormat {
    /// A table per operation and a summary.
    #[default]
    Human,
    /// The full report as JSON.
    Json,
}

pub fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let format = match args.format {
        VerifyFormat::Human => Format::Human,
        VerifyFormat::Json => Format::Json,
    };
    let target = match &args.service {
        Some(service) => workspace_service(service, args.url.as_deref(), args.token.is_some())?,
        None => Target {
            // clap: a spec and a URL are required without `--service`.
            spec: args.spec.clone().context("a spec is required")?,
            url: args.url.clone().context("--url is required")?,
            token: None,
        },
    };
    let spec = match blueprint_spec::load(&target.spec) {
        Ok(spec) => {
            report::print_warnings(&spec, format)?;
            spec
        }
        Err(e) if e.is_io() => return Err(e.into()),
        Err(e) => {
            report::print_diagnostics(e.diagnostics.iter(), &e.sources, format)?;
            return Ok(ExitCode::from(1));
        }
    };
    let mut options = Options::new(&target.url);
    options.timeout = Duration::from_secs(args.timeout);
    for header in &args.headers {
        let Some((name, value)) = header.split_once(':') else {
            bail!("--header {header:?}: expected `Name: value`");
        };
        options
            .headers
            .push((name.trim().to_string(), value.trim().to_string()));
    }
    let has_auth = options
        .headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("authorization"));
    if !has_auth && let Some(token) = args.token.as_ref().or(target.token.as_ref()) {
        options.headers.push((
            "Authorization".to_string(),
            format!("Bearer {}", token.trim()),
        ));
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(verify(&spec, &options))?;
    let mut out = std::io::stdout().lock();
    match args.format {
        VerifyFormat::Human => write!(out, "{}", report.to_table())?,
        VerifyFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
    }
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What `dev verify` checks: a spec, the URL it runs at, and a minted token.
struct Target {
    spec: PathBuf,
    url: String,
    token: Option<String>,
}

/// A workspace service's spec and where it runs: `url` if given, else where a
/// running `dev up` runs it, else its configured port on loopback.
fn workspace_service(service: &str, url: Option<&str>, has_token: bool) -> anyhow::Result<Target> {
    let workspace = Workspace::discover()?;
    let Some(loaded) = workspace::load(workspace.config.clone())? else {
        bail!("the workspace's specs are invalid (reported above)");
    };
    let all = services::services(&loaded)?;
    let Some(found) = all.iter().find(|s| s.key == service || s.name == service) else {
        let known: Vec<&str> = all.iter().map(|s| s.key.as_str()).collect();
        bail!(
            "no service `{service}` in this workspace (it has: {})",
            known.join(", ")
        );
    };
    let spec = loaded
        .spec(&found.name)
        .map(|s| s.path.clone())
        .context("the service's spec")?;
    let run = RunFile::read(&workspace.dev_dir()).filter(|f| crate::supervise::alive(f.pid));
    let url = match url {
        Some(url) => url.to_owned(),
        None => run
            .as_ref()
            .and_then(|f| f.service(&found.name))
            .map(|r| r.url.clone())
            .or_else(|| found.port.map(services::local_url))
            .with_context(|| {
                format!(
                    "`{}` is not running under `dev up` and has no `[services.{}] port`: pass --url",
                    found.key, found.key
                )
            })?,
    };
    let token = if found.auth && !has_token {
        Some(token::mint_for_workspace(&workspace, TOKEN_LIFETIME)?)
    } else {
        None
    };
    Ok(Target { spec, url, token })
}
