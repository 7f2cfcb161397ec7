//! `[deploy]` in `blueprint.toml`: environments in promotion order, with their
//! approval gates, and what the deployment manifests are built from.
//!
//! ```toml
//! [deploy]
//! registry = "ghcr.io/acme"        # images are <registry>/<service key>
//!
//! [[deploy.environments]]          # in promotion order
//! name = "staging"
//!
//! [[deploy.environments]]
//! name = "production"
//! approval = true                  # a person approves before anything deploys here
//! ```

use serde::Deserialize;

/// `[deploy]`, typed. Every key has a default.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeployConfig {
    /// Container registry (and path) images are pushed to: `<registry>/<key>`.
    pub registry: String,
    /// The image services are compiled in (first stage of each Dockerfile).
    pub builder_image: String,
    /// The image services run in: small, with a non-root user.
    pub runtime_image: String,
    /// The numeric user (and group) services run as: the Dockerfile's `USER`,
    /// Kubernetes' `runAsUser` (65532: distroless's `nonroot`).
    pub uid: u32,
    /// The port services listen on (`PORT`).
    pub port: u16,
    /// How workflows run `dev` (a command line; the workspace's own build by default).
    pub dev: String,
    /// The branch releases are made from.
    pub branch: String,
    /// Environments in promotion order.
    pub environments: Vec<Environment>,
}

impl Default for DeployConfig {
    fn default() -> Self {
        DeployConfig {
            registry: "ghcr.io/${{ github.repository_owner }}".into(),
            builder_image: "rust:1-bookworm".into(),
            runtime_image: "gcr.io/distroless/cc-debian12:nonroot".into(),
            uid: 65532,
            port: 8080,
            dev: "cargo run --quiet --locked -p blueprint-cli --bin dev --".into(),
            branch: "main".into(),
            environments: Vec::new(),
        }
    }
}

/// One environment services are deployed to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// Lower-case letters, digits and `-`: used in job and GitHub environment names.
    pub name: String,
    /// Whether a person approves before anything is deployed here.
    #[serde(default)]
    pub approval: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "[deploy] environment `{0}`: names are lower-case letters, digits and `-`, starting with a letter"
    )]
    BadEnvironmentName(String),
    #[error("[deploy] environment `{0}` is listed twice")]
    DuplicateEnvironment(String),
    #[error("[deploy] {key} = {value:?}: {why}")]
    BadValue {
        key: &'static str,
        value: String,
        why: &'static str,
    },
}

impl DeployConfig {
    /// Check what serde cannot: names usable in workflows, values without newlines.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut seen = std::collections::BTreeSet::new();
        for env in &self.environments {
            if !is_name(&env.name) {
                return Err(ConfigError::BadEnvironmentName(env.name.clone()));
            }
            if !seen.insert(&env.name) {
                return Err(ConfigError::DuplicateEnvironment(env.name.clone()));
            }
        }
        let single_line = [
            ("registry", &self.registry),
            ("builder_image", &self.builder_image),
            ("runtime_image", &self.runtime_image),
            ("dev", &self.dev),
            ("branch", &self.branch),
        ];
        for (key, value) in single_line {
            if value.trim().is_empty() || value.contains(['\n', '\r', '"', '\'']) {
                return Err(ConfigError::BadValue {
                    key,
                    value: value.clone(),
                    why: "expected one non-empty line without quotes",
                });
            }
        }
        if self.port == 0 {
            return Err(ConfigError::BadValue {
                key: "port",
                value: "0".into(),
                why: "expected a port number",
            });
        }
        Ok(())
    }
}

/// Lower-case letters, digits and `-`, starting with a letter.
pub(crate) fn is_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments_keep_their_order_and_names_are_checked() {
        let cfg: DeployConfig = toml::from_str(
            "[[environments]]\nname = \"staging\"\n[[environments]]\nname = \"production\"\napproval = true\n",
        )
        .expect("valid");
        assert_eq!(cfg.environments[0].name, "staging");
        assert!(cfg.environments[1].approval);
        assert_eq!(cfg.validate(), Ok(()));
        let bad: DeployConfig =
            toml::from_str("[[environments]]\nname = \"Prod env\"\n").expect("parses");
        assert!(matches!(
            bad.validate(),
            Err(ConfigError::BadEnvironmentName(_))
        ));
        assert!(toml::from_str::<DeployConfig>("regsitry = \"x\"\n").is_err());
    }
}
