//! `dev token`: mint a JWT for development and tests.
//!
//! Signs with `--key`, else `[auth] private_key`, else the development key pair
//! under `.dev/jwt/` (made on first use; `dev up` gives its public half to the
//! services). Prints only the token, so `export BLUEPRINT_TOKEN=$(dev token ...)`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use blueprint::auth::{Claims, SigningKey};
use blueprint::uuid::Uuid;

use crate::keys;
use crate::workspace::Workspace;

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// The caller (claim `u-id`).
    #[arg(long, value_name = "UUID")]
    pub user: Uuid,
    /// The caller's agency, the tenant (claim `a-id`).
    #[arg(long, value_name = "UUID")]
    pub agency: Uuid,
    /// The caller's role (claim `r`).
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
    /// How long the token is valid: `90s`, `30m`, `1h`, `7d`.
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = crate::args::parse_duration)]
    pub expires_in: Duration,
    /// The private key to sign with (PKCS#8 PEM: Ed25519, EC P-256 or RSA).
    #[arg(long, value_name = "PEM")]
    pub key: Option<PathBuf>,
    /// The key id to name in the token's header (`kid`), for JWKS with several keys.
    #[arg(long)]
    pub kid: Option<String>,
}

pub fn run(args: TokenArgs) -> Result<ExitCode> {
    let path = match &args.key {
        Some(key) => key.clone(),
        None => keys::resolve(&Workspace::discover()?)?
            .private_key()?
            .to_path_buf(),
    };
    let mut claims = Claims::new(args.user, args.agency, expiry_ms(args.expires_in)?);
    claims.role = args.role;
    println!("{}", sign(&path, args.kid, &claims)?);
    Ok(ExitCode::SUCCESS)
}

/// A token for a fresh user of a fresh agency, valid for `valid_for`, signed with
/// the workspace's key: what `dev verify --service` sends when given none.
pub fn mint_for_workspace(workspace: &Workspace, valid_for: Duration) -> Result<String> {
    let path = keys::resolve(workspace)?.private_key()?.to_path_buf();
    let claims = Claims::new(Uuid::new_v4(), Uuid::new_v4(), expiry_ms(valid_for)?);
    sign(&path, None, &claims)
}

/// Milliseconds since the epoch, `valid_for` from now.
fn expiry_ms(valid_for: Duration) -> Result<i64> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the clock is before 1970")?;
    let Some(expires) = now.checked_add(valid_for) else {
        bail!("--expires-in is too long");
    };
    i64::try_from(expires.as_millis()).context("--expires-in is too long")
}

/// `claims` signed with the private key at `path` (PKCS#8 PEM).
fn sign(path: &Path, kid: Option<String>, claims: &Claims) -> Result<String> {
    let pem = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the private key {}", path.display()))?;
    let mut key =
        SigningKey::from_pem(&pem).with_context(|| format!("private key {}", path.display()))?;
    if let Some(kid) = kid {
        key = key.with_kid(kid);
    }
    Ok(key.sign(claims)?)
}
