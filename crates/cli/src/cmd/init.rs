//! `dev init [DIR]`: a new workspace in DIR (default: the current folder) —
//! `blueprint.toml`, a Cargo workspace of `services/*` and `services/*/api`, a
//! `.gitignore` (`/target/`, `/.dev/`), a README, CI (the workflows `dev deploy
//! manifests` writes) and a git repository; with `--service KEY`, a first service as
//! `dev new KEY` adds it. Files that exist are never replaced: DIR may hold other
//! files (a `.git`), but none `dev init` writes.
//!
//! The runtime dependency (see [`scaffold::default_runtime`]): the Blueprint checkout `dev`
//! was built from when it is still there, else the registry version equal to `dev`'s
//! own; `--runtime-path` / `--runtime-version` choose. It is written once, in
//! `[workspace.dependencies]` and `[gen] runtime`, and CI's `dev` command
//! (`[deploy] dev`) follows it.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};
use blueprint_spec::config::{Config, FILE_NAME};

use crate::cmd::deploy::{DeployCommand, ManifestsArgs};
use crate::cmd::r#gen::{self, GenArgs};
use crate::report::Format;
use crate::scaffold::{self, FIRST_PORT, Runtime, Service};

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The workspace's folder (created when missing); its name names the workspace.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Also add a first service with this key, as `dev new KEY` does.
    #[arg(long, value_name = "KEY")]
    pub service: Option<String>,
    /// The first service's model (snake_case; default: the key made singular).
    #[arg(long, requires = "service")]
    pub model: Option<String>,
    /// The organization: spec namespaces are `io.<org>.<service>.v<major>`
    /// (default: the workspace's name).
    #[arg(long)]
    pub org: Option<String>,
    /// Depend on the Blueprint runtime crate at this path (`crates/runtime` of a
    /// checkout; default: the checkout `dev` was built from, when it is there).
    #[arg(long, conflicts_with = "runtime_version")]
    pub runtime_path: Option<PathBuf>,
    /// Depend on this version of the Blueprint runtime from the registry (default
    /// outside a checkout: `dev`'s own version).
    #[arg(long)]
    pub runtime_version: Option<String>,
}

pub fn run(args: InitArgs) -> anyhow::Result<ExitCode> {
    let root = std::path::absolute(&args.path)
        .with_context(|| format!("cannot resolve {}", args.path.display()))?;
    let root = normalise(&root);
    let name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .context("the workspace needs a folder name")?;
    if root.join(FILE_NAME).exists() {
        bail!(
            "{} is a Blueprint workspace already ({FILE_NAME} exists); add services with `dev new KEY`",
            root.display()
        );
    }
    let runtime = match (&args.runtime_path, &args.runtime_version) {
        (Some(path), _) => {
            let path = std::path::absolute(path)?;
            let checkout = path.join("Cargo.toml").is_file()
                && path.with_file_name("build").join("Cargo.toml").is_file();
            if !checkout {
                bail!(
                    "--runtime-path {}: expected the crates/runtime folder of a Blueprint checkout (crates/build beside it)",
                    path.display()
                );
            }
            Runtime::Path(path)
        }
        (None, Some(version)) => Runtime::Version(version.clone()),
        (None, None) => scaffold::default_runtime(),
    };
    let org = match &args.org {
        Some(org) => org.clone(),
        None => blueprint_spec::application_key(&name),
    };
    // Everything is checked before the first file is written.
    let service = match &args.service {
        Some(key) => Some(Service::new(key, args.model.as_deref(), FIRST_PORT)?),
        None => None,
    };
    let files = scaffold::workspace_files(&name, &org, &runtime, &root)?;
    if let Some(service) = &service {
        scaffold::refuse_existing(&root, &service.files())?;
    }
    scaffold::write_new(&root, &files)?;
    eprintln!("created workspace {name} in {}", root.display());
    let config_path = root.join(FILE_NAME);
    if let Some(service) = &service {
        crate::cmd::new::add(&Config::load(&config_path)?, service)?;
        eprintln!("created services/{} (port {})", service.key, service.port);
    }
    let code = generate(&config_path, true)?;
    if code != ExitCode::SUCCESS {
        return Ok(code);
    }
    git_init(&root);
    let cd = if args.path == Path::new(".") {
        String::new()
    } else {
        format!("cd {} && ", args.path.display())
    };
    match &service {
        Some(s) => eprintln!(
            "next: {cd}cargo build && dev up   (the spec: services/{0}/spec/{0}.json)",
            s.key
        ),
        None => eprintln!("next: {cd}dev new KEY   (a service: spec, binary, generated package)"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `dev gen` (when the workspace has gen targets), then, with `manifests`,
/// `dev deploy manifests`, on the workspace of `config`.
pub(crate) fn generate(config: &Path, manifests: bool) -> anyhow::Result<ExitCode> {
    if !r#gen::declared_targets(&Config::load(config)?)?.is_empty() {
        let code = r#gen::run(&GenArgs {
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
    }
    if !manifests {
        return Ok(ExitCode::SUCCESS);
    }
    crate::cmd::deploy::run(DeployCommand::Manifests(ManifestsArgs {
        out: None,
        check: false,
        force: false,
        config: Some(config.to_path_buf()),
    }))
}

/// `path` without `.` and `..` components (`dev init .` names the workspace after
/// the current folder).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// A git repository in `root`, unless it is inside one already (as `cargo new`).
fn git_init(root: &Path) {
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
