//! `dev verify`: call a running service and check every answer against its spec.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use blueprint_verify::{Options, verify};

use crate::report::{self, Format};

/// The environment variable holding a bearer token for the service (`dev token`
/// prints one: `export BLUEPRINT_TOKEN=$(dev token --user .. --agency ..)`).
pub const TOKEN_ENV: &str = "BLUEPRINT_TOKEN";

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The service's api.json.
    pub spec: PathBuf,
    /// Where the service runs (http only).
    #[arg(long, value_name = "URL")]
    pub url: String,
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
    let spec = match blueprint_spec::load(&args.spec) {
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
    let mut options = Options::new(&args.url);
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
    if !has_auth && let Some(token) = &args.token {
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
