//! `dev docs`: the workspace's documentation site, static HTML (`blueprint-docs`).
//!
//! Reads the workspace as `dev graph` does (`[workspace] specs` in blueprint.toml,
//! the services' `Cargo.toml`s for calls), or the spec files given (then the graph
//! has their streams only), and writes the site, with the graph's SVG on the index,
//! to `--out`: by default `target/docs` under the workspace root, beside Cargo's own
//! output, because the site is built from the specs and never committed. The folder
//! belongs to `dev docs`: one it wrote before is replaced whole (so removed services
//! leave no pages behind); any other non-empty folder is refused.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use blueprint_arch::{Graph, ServiceInput};
use blueprint_spec::config::Config;
use blueprint_spec::{LoadOptions, Spec, load_with};

use crate::report::{Format, print_diagnostics};
use crate::workspace;

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
    let (specs, graph, root) = if args.files.is_empty() {
        // The workspace as `dev graph` sees it: the picture has its calls edges too.
        let config = workspace::config(args.config.as_deref())?;
        let Some(loaded) = workspace::load(config)? else {
            return Ok(ExitCode::from(1));
        };
        let graph = blueprint_arch::render::svg(&loaded.graph);
        let specs: Vec<Spec> = loaded.specs.into_iter().map(|s| s.spec).collect();
        (specs, graph, loaded.config.root)
    } else {
        let Some(specs) = load_files(&args)? else {
            return Ok(ExitCode::from(1));
        };
        let root = match &args.config {
            Some(path) => Config::load(&std::path::absolute(path)?)?.root,
            None => workspace::Workspace::discover()?.root().to_path_buf(),
        };
        let graph = files_graph(&args.files, &specs, &root)?;
        (specs, graph, root)
    };

    let specs: Vec<&Spec> = specs.iter().collect();
    let site = blueprint_docs::site(&specs, Some(&graph));
    let out = args.out.unwrap_or_else(|| root.join("target").join("docs"));
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

/// The given spec files, each resolving its imports through the blueprint.toml
/// above it (or `--config`); `None` when one is invalid (reported).
fn load_files(args: &DocsArgs) -> anyhow::Result<Option<Vec<Spec>>> {
    let mut specs = Vec::new();
    let mut invalid = false;
    for file in &args.files {
        let config = match &args.config {
            Some(path) => Config::load(&std::path::absolute(path)?)?,
            None => Config::discover(file)?,
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
    Ok((!invalid).then_some(specs))
}

/// The graph of specs given as files: their streams (no Cargo.toml says who calls whom).
fn files_graph(files: &[PathBuf], specs: &[Spec], root: &Path) -> anyhow::Result<String> {
    let inputs: Vec<ServiceInput<'_>> = files
        .iter()
        .zip(specs)
        .map(|(file, spec)| ServiceInput {
            spec_path: workspace::relative(root, &std::path::absolute(file).unwrap_or_default()),
            spec,
            dependencies: BTreeSet::new(),
            client_packages: BTreeSet::new(),
        })
        .collect();
    let workspace = blueprint_arch::Workspace::new(&inputs)?;
    Ok(blueprint_arch::render::svg(&Graph::build(&workspace)))
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
