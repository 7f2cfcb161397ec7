//! `dev docs`: the workspace's documentation site, static HTML (`blueprint-docs`).
//!
//! Reads the workspace's specs (`[workspace] specs` in blueprint.toml), or the spec
//! files given, and writes the site to `--out`: by default `target/docs` under the
//! workspace root, beside Cargo's own output, because the site is built from the
//! specs and never committed. The folder belongs to `dev docs`: one it wrote before
//! is replaced whole (so removed services leave no pages behind); any other
//! non-empty folder is refused.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use blueprint_spec::config::Config;
use blueprint_spec::{LoadOptions, Spec, load_with};

use crate::report::{Format, print_diagnostics};

#[derive(Debug, clap::Args)]
pub struct DocsArgs {
    /// Spec files to document [default: the workspace's specs, `[workspace] specs`
    /// in blueprint.toml].
    pub files: Vec<PathBuf>,
    /// Where to write the site [default: target/docs under the workspace root].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The blueprint.toml to read (default: found from the current folder upward).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// How to print spec diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

pub fn run(args: DocsArgs) -> anyhow::Result<ExitCode> {
    let config = match &args.config {
        Some(path) => Config::load(&std::path::absolute(path)?)?,
        None => Config::discover(&std::env::current_dir()?)?,
    };
    let explicit = !args.files.is_empty();
    let files = if explicit {
        args.files.clone()
    } else {
        config.workspace_specs()?
    };
    if files.is_empty() {
        bail!(
            "no specs to document: `[workspace] specs` in {} matches no file; pass spec files as arguments",
            config.path.as_deref().map_or_else(
                || "blueprint.toml (none found)".into(),
                |p| p.display().to_string()
            )
        );
    }

    let mut specs: Vec<Spec> = Vec::new();
    let mut invalid = false;
    for file in &files {
        // Given files resolve their imports through the blueprint.toml above them.
        let config = match (&args.config, explicit) {
            (None, true) => Config::discover(file)?,
            _ => config.clone(),
        };
        match load_with(file, &LoadOptions { config }) {
            Ok(spec) => specs.push(spec),
            Err(e) if e.is_io() => bail!("{e}"),
            Err(e) => {
                print_diagnostics(e.diagnostics.iter(), &e.sources, args.format)?;
                invalid = true;
            }
        }
    }
    if invalid {
        return Ok(ExitCode::from(1));
    }

    let specs: Vec<&Spec> = specs.iter().collect();
    let site = blueprint_docs::site(&specs, None);
    let out = args
        .out
        .unwrap_or_else(|| config.root.join("target").join("docs"));
    clear(&out)?;
    for file in &site {
        let path = out.join(&file.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&path, &file.contents)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "{} services documented in {}; open {}",
        specs.len(),
        out.display(),
        out.join("index.html").display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Empty `out` if `dev docs` wrote it; refuse a non-empty folder it did not write.
fn clear(out: &Path) -> anyhow::Result<()> {
    let mut entries = match std::fs::read_dir(out) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", out.display())),
    };
    if entries.next().is_none() {
        return Ok(());
    }
    let ours = std::fs::read_to_string(out.join("index.html"))
        .is_ok_and(|index| blueprint_docs::is_site_index(&index));
    if !ours {
        bail!(
            "{} is not empty and was not written by `dev docs`; pass another --out",
            out.display()
        );
    }
    std::fs::remove_dir_all(out).with_context(|| format!("removing the old site {}", out.display()))
}
