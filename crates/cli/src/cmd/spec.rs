//! `dev spec`: look at a spec the way every other command sees it.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use blueprint_spec::{Spec, show};

use crate::report::{Format, print_diagnostics, print_warnings};

#[derive(Debug, clap::Subcommand)]
pub enum SpecCommand {
    /// Load, normalise and validate a spec; print it (exit 1 with diagnostics when invalid).
    Show(ShowArgs),
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The api.json file.
    pub file: PathBuf,
    /// Print the normalised service as JSON (apibuilder's service.json shape plus
    /// Blueprint's attributes).
    #[arg(long)]
    pub json: bool,
    /// How to print diagnostics (on stderr): the errors of an invalid spec, or the
    /// warnings of a valid one.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

pub fn run(cmd: SpecCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        SpecCommand::Show(args) => show_cmd(&args),
    }
}

fn show_cmd(args: &ShowArgs) -> anyhow::Result<ExitCode> {
    let spec = match blueprint_spec::load(&args.file) {
        Ok(spec) => spec,
        // Unreadable file or blueprint.toml: exit 2, not "invalid spec".
        Err(err) if err.is_io() || err.is_config() => anyhow::bail!("{err}"),
        Err(err) => {
            print_diagnostics(err.diagnostics.iter(), &err.sources, args.format)?;
            return Ok(ExitCode::from(1));
        }
    };
    // Warnings on stderr, like every diagnostic; stdout carries the service.
    print_warnings(&spec, args.format)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let text = serde_json::to_string_pretty(&show::service_json(&spec))
            .context("serialising the service")?;
        writeln!(out, "{text}")?;
    } else {
        write!(out, "{}", summary(&spec))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A few lines: identity, counts, imports, Blueprint attributes.
fn summary(spec: &Spec) -> String {
    let s = &spec.service;
    let mut text = format!(
        "{} {} ({})\n  {} enums, {} interfaces, {} models, {} unions, {} resources, {} operations\n",
        s.name,
        s.version,
        s.namespace,
        s.enums.len(),
        s.interfaces.len(),
        s.models.len(),
        s.unions.len(),
        s.resources.len(),
        s.operations().count(),
    );
    for i in &s.imports {
        text.push_str(&format!("  imports {} ({})\n", i.namespace, i.uri));
    }
    for m in &s.models {
        if let Some(db) = &m.db {
            text.push_str(&format!(
                "  table {} (model {}, {} indexes)\n",
                db.table,
                m.name,
                db.indexes.len()
            ));
        }
    }
    for (_, stream) in s.streams() {
        text.push_str(&format!("  stream {}\n", stream.name));
    }
    for c in &s.blueprint.consumes {
        text.push_str(&format!("  consumes {}\n", c.stream));
    }
    text
}
