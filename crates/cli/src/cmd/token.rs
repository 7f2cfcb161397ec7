//! `dev token`: mint a JWT for development and tests.
//!
//! Signs with `--key`, else `[auth] private_key`, else the development key pair
//! under `.dev/jwt/` (made on first use; `dev up` gives its public half to the
//! services). Prints only the token, so `export BLUEPRINT_TOKEN=$(dev token ...)`.

use std::path::PathBuf;
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
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration)]
    pub expires_in: Duration,
    /// The private key to sign with (PKCS#8 PEM: Ed25519, EC P-256 or RSA).
    #[arg(long, value_name = "PEM")]
    pub key: Option<PathBuf>,
    /// The key id to name in the token's header (`kid`), for JWKS with several keys.
    #[arg(long)]
    pub kid: Option<String>,
}

/// `90s`, `30m`, `1h`, `7d`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{text}` has no unit: write 90s, 30m, 1h or 7d"))?;
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` does not start with a number"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit `{unit}`: use s, m, h or d")),
    };
    n.checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{text}` is too long"))
}

pub fn run(args: TokenArgs) -> Result<ExitCode> {
    let path = match &args.key {
        Some(key) => key.clone(),
        None => keys::resolve(&Workspace::discover()?)?
            .private_key()?
            .to_path_buf(),
    };
    let pem = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the private key {}", path.display()))?;
    let mut key =
        SigningKey::from_pem(&pem).with_context(|| format!("private key {}", path.display()))?;
    if let Some(kid) = args.kid {
        key = key.with_kid(kid);
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the clock is before 1970")?;
    let Some(expires) = now.checked_add(args.expires_in) else {
        bail!("--expires-in is too long");
    };
    let expires_ms = i64::try_from(expires.as_millis()).context("--expires-in is too long")?;
    let mut claims = Claims::new(args.user, args.agency, expires_ms);
    claims.role = args.role;
    println!("{}", key.sign(&claims)?);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert!(parse_duration("1").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("1w").is_err());
    }
}
