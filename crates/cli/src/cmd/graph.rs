//! `dev graph`: the services of the workspace and how they depend on each other,
//! derived from the specs (and the services' `Cargo.toml`s for calls).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::workspace;

#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct GraphArgs {
    #[arg(long, value_enum, default_value_t)]
    pub format: GraphFormat,
    /// The blueprint.toml to read (default: found from the current folder upward).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum GraphFormat {
    #[default]
    Text,
    Json,
    /// Graphviz DOT.
    Dot,
    /// Laid out in process: no Graphviz needed.
    Svg,
    /// A Mermaid flowchart (renders in GitHub Markdown).
    Mermaid,
}

const AFTER_HELP: &str = "\
Edges (`from` depends on `to`):
  consumes  from's spec lists, in its `consumes` attribute, a stream to's spec owns
  calls     from's spec imports to's spec (an import with to's namespace) and a
            Cargo.toml under services/<from key>/ depends, in [dependencies], on a
            package generated from to's spec with the `client` generator (the
            `crate` of its [[gen.target]])

A cycle through a stream is allowed; a cycle of calls alone is an error, and so is
a consumed stream that no service of the workspace owns (dangling). Exit 1 on an
error or an invalid spec.

--format json:
  services[]     name (the spec's `name`), key (application key: folder
                 services/<key>/, release tags <key>-v<version>), spec (file,
                 relative to the workspace root), namespace, streams (stream names it
                 owns), consumes (stream names), database (bool: it has `db` models),
                 tables, client_packages
  edges[]        from, to, kind (\"consumes\" | \"calls\"), stream (consumes),
                 package (calls: the client package)
  cycles         [[names]]: every cycle (services that depend on each other), names
                 sorted
  sync_cycles    [[names]]: the cycles made of calls alone (errors)
  dangling[]     service, stream: consumed streams no workspace service owns
  warnings       [text]
Everything is sorted, so the output is stable.";

pub fn run(args: GraphArgs) -> anyhow::Result<ExitCode> {
    let config = workspace::config(args.config.as_deref())?;
    let Some(loaded) = workspace::load(config)? else {
        return Ok(ExitCode::from(1));
    };
    let graph = &loaded.graph;
    let out = match args.format {
        GraphFormat::Text => blueprint_arch::render::text(graph),
        GraphFormat::Json => format!("{}\n", serde_json::to_string_pretty(graph)?),
        GraphFormat::Dot => blueprint_arch::render::dot(graph),
        GraphFormat::Svg => blueprint_arch::render::svg(graph),
        GraphFormat::Mermaid => blueprint_arch::render::mermaid(graph),
    };
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(if graph.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
