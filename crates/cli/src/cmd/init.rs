//! `dev init NAME`: a new workspace in the folder NAME — `blueprint.toml`, a Cargo
//! workspace, a first service (`users` unless `--service` says otherwise) with its
//! code generated, a README, CI (the workflows `dev deploy manifests` writes) and a
//! git repository. It builds with `cargo build` and runs with `dev up` as it is.
//!
//! The runtime dependency: the checkout `dev` was built from (`--runtime-path` for
//! another one; paths are written relative to the workspace), or a registry version
//! (`--runtime-version`). It is written once, in `[workspace.dependencies]` and
//! `[gen] runtime`, and CI's `dev` command (`[deploy] dev`) follows it.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

use crate::cmd::deploy::{DeployCommand, ManifestsArgs};
use crate::cmd::r#gen::{self, GenArgs};
use crate::report::Format;
use crate::scaffold::{self, FIRST_PORT, Runtime, Service};

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The workspace's folder (created; if it exists it must be empty); its name
    /// names the workspace.
    pub path: PathBuf,
    /// The first service's key (lower-case letters, digits, `-`).
    #[arg(long, default_value = "users")]
    pub service: String,
    /// The first service's model (snake_case; default: the key made singular).
    #[arg(long)]
    pub model: Option<String>,
    /// The organization: spec namespaces are `io.<org>.<service>.v<major>`
    /// (default: the workspace's name).
    #[arg(long)]
    pub org: Option<String>,
    /// Depend on the Blueprint runtime crate at this path (default: the checkout
    /// `dev` was built from).
    #[arg(long, conflicts_with = "runtime_version")]
    pub runtime_path: Option<PathBuf>,
    /// Depend on this version of the Blueprint runtime from the registry.
    #[arg(long)]
    pub runtime_version: Option<String>,
}

pub fn run(args: InitArgs) -> anyhow::Result<ExitCode> {
    let root = std::path::absolute(&args.path)
        .with_context(|| format!("cannot resolve {}", args.path.display()))?;
    let name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .context("the workspace needs a folder name")?;
    if root.exists() {
        let empty = std::fs::read_dir(&root)
            .with_context(|| format!("cannot read {}", root.display()))?
            .next()
            .is_none();
        if !empty {
            bail!("{} exists and is not empty", root.display());
        }
    }
    let runtime = match (&args.runtime_path, &args.runtime_version) {
        (Some(path), _) => Runtime::Path(std::path::absolute(path)?),
        (None, Some(version)) => Runtime::Version(version.clone()),
        (None, None) => Runtime::Path(gen::default_runtime_path()),
    };
    let org = args.org.clone().unwrap_or_else(|| name.clone());
    let service = Service::new(&args.service, args.model.as_deref(), FIRST_PORT)?;

    let mut files = scaffold::workspace_files(&name, &org, &runtime, &root)?;
    files.push(("README.md".into(), scaffold::readme(&name, &service)));
    files.extend(service.files());
    scaffold::write_new(&root, &files)?;
    let config = root.join(blueprint_spec::config::FILE_NAME);
    append(&config, &service.config())?;
    eprintln!("created workspace {} with service {}", root.display(), service.key);

    let code = generate(&config)?;
    if code != ExitCode::SUCCESS {
        return Ok(code);
    }
    git_init(&root);
    eprintln!(
        "next: cd {} && cargo build && dev up",
        args.path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Add `text` at the end of the file at `path`.
pub(crate) fn append(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    let mut contents =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    if !contents.ends_with('\n') {
        contents.push('\n');
    }
    contents.push_str(text);
    std::fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))
}

/// `dev gen`, then `dev deploy manifests`, on the workspace of `config`.
pub(crate) fn generate(config: &std::path::Path) -> anyhow::Result<ExitCode> {
    let code = gen::run(&GenArgs {
        spec: None,
        out: None,
        crate_name: None,
        generators: Vec::new(),
        runtime_path: None,
        runtime_version: None,
        check: false,
        allow_destructive: false,
        config: Some(config.to_path_buf()),
        format: Format::Human,
    })?;
    if code != ExitCode::SUCCESS {
        return Ok(code);
    }
    crate::cmd::deploy::run(DeployCommand::Manifests(ManifestsArgs {
        out: None,
        check: false,
        force: false,
        config: Some(config.to_path_buf()),
    }))
}

/// A git repository in `root`, unless it is inside one already (as `cargo new`).
fn git_init(root: &std::path::Path) {
    let inside = Command::new("git")
        .args(["rev-parse", "--is-inside-work-tree"])
        .current_dir(root)
        .output()
        .is_ok_and(|o| o.status.success());
    if inside {
        return;
    }
    let done = Command::new("git")
        .args(["init", "--quiet"])
        .current_dir(root)
        .status()
        .is_ok_and(|s| s.success());
    if !done {
        eprintln!("note: `git init` failed; the workspace is not a git repository");
    }
}
