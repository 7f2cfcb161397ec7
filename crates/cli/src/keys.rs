//! Which JWT keys a workspace uses: `BLUEPRINT_JWT_PUBLIC_KEY`, else `[auth]
//! public_key` / `private_key` in `blueprint.toml` (paths relative to the workspace
//! root), else the development key pair under `.dev/`, made on first use.
//!
//! `dev token` signs with the private key; `dev up` passes the public key to the
//! services it starts as `BLUEPRINT_JWT_PUBLIC_KEY`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use blueprint::auth::{AuthSection, DevKeyPair, PUBLIC_KEY_ENV};

use crate::workspace::Workspace;

/// The development key pair, in `.dev/`.
const DEV_KEY_DIR: &str = "jwt";
const DEV_PRIVATE_KEY: &str = "private.pem";
const DEV_PUBLIC_KEY: &str = "public.pem";

/// Where a key came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Env,
    Config,
    Dev,
}

/// The workspace's keys, as paths.
#[derive(Debug, Clone)]
pub struct Keys {
    pub public: PathBuf,
    pub public_source: Source,
    /// `None` when the public key is configured without its private key.
    pub private: Option<PathBuf>,
}

/// The keys of `workspace`, making the development pair when no public key is
/// configured (and telling so on stderr).
pub fn resolve(workspace: &Workspace) -> Result<Keys> {
    let section: AuthSection = workspace.config.section("auth")?;
    let private = section.private_key.map(|p| workspace.path(p));
    if let Some(env) = std::env::var_os(PUBLIC_KEY_ENV).filter(|v| !v.is_empty()) {
        return Ok(Keys {
            public: PathBuf::from(env),
            public_source: Source::Env,
            private,
        });
    }
    if let Some(public) = section.public_key {
        return Ok(Keys {
            public: workspace.path(public),
            public_source: Source::Config,
            private,
        });
    }
    let (public, private) = ensure_dev_key_pair(workspace)?;
    Ok(Keys {
        public,
        public_source: Source::Dev,
        private: Some(private),
    })
}

/// The development key pair in `.dev/jwt/`, made if absent: `(public, private)`.
pub fn ensure_dev_key_pair(workspace: &Workspace) -> Result<(PathBuf, PathBuf)> {
    let dir = workspace.dev_dir().join(DEV_KEY_DIR);
    let public = dir.join(DEV_PUBLIC_KEY);
    let private = dir.join(DEV_PRIVATE_KEY);
    if public.is_file() && private.is_file() {
        return Ok((public, private));
    }
    let root = workspace.root();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let pair = DevKeyPair::generate()?;
    write_private(&private, &pair.private_pem)?;
    std::fs::write(&public, &pair.public_pem)
        .with_context(|| format!("cannot write {}", public.display()))?;
    eprintln!(
        "made a development key pair (Ed25519): {} and {}",
        rel(root, &private),
        rel(root, &public)
    );
    Ok((public, private))
}

fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The private key, readable by its owner only.
fn write_private(path: &Path, pem: &str) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    std::io::Write::write_all(&mut file, pem.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

impl Keys {
    /// The private key to sign with, or why there is none.
    pub fn private_key(&self) -> Result<&Path> {
        match &self.private {
            Some(p) => Ok(p),
            None => bail!(
                "the public key {} is configured ({}) without its private key: pass --key, or set `[auth] private_key`",
                self.public.display(),
                match self.public_source {
                    Source::Env => PUBLIC_KEY_ENV,
                    _ => "`[auth] public_key`",
                }
            ),
        }
    }
}
