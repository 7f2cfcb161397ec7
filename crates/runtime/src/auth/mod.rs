//! JWT auth for services: callers present a token signed by the users service's
//! private key; a service holds only the public key.
//!
//! - [`KeySet`]: the public keys, from a PEM file (an RSA, EC P-256 or Ed25519
//!   public key) or a JWKS file (several keys, chosen by `kid`). Each key pins its
//!   algorithm (RS256, ES256 or EdDSA): the token header's `alg` must equal it, so a
//!   token cannot choose how it is checked (no `none`, no HS256 keyed with the
//!   public key).
//! - [`Verifier`]: verifies a token against the keys, checks expiry with
//!   [`LEEWAY`], and keeps verified tokens in a bounded cache keyed by the token's
//!   bytes, so a caller's repeated token costs a lookup instead of a signature check.
//! - [`Claims`]: the token's claims, typed: `u-id`, `a-id`, `e` (expiry, epoch ms),
//!   `r` (role), standard `exp`/`nbf`, any others kept.
//! - [`Rule`]: what an operation asks of the caller (roles, claims), as declared
//!   by its `auth` attribute.
//! - With the `server` feature: [`authenticate`] (the check generated handlers run
//!   before reading any input), [`RequireAuthLayer`] (the same as a tower layer for
//!   hand-written routes), and the answers: 401 with `WWW-Authenticate: Bearer ...`
//!   (RFC 6750) and 403, both with a JSON [`ErrorBody`](crate::ErrorBody).
//! - [`SigningKey`] and [`DevKeyPair`]: minting tokens for development and tests
//!   (`dev token`), and the development key pair `dev up` creates.

mod claims;
#[cfg(feature = "server")]
mod http;
mod keys;
mod sign;
mod verify;

use std::time::Duration;

pub use claims::Claims;
#[cfg(feature = "server")]
pub use http::{RequireAuth, RequireAuthLayer, authenticate, bearer_token};
pub use jsonwebtoken::{Algorithm, Header};
pub use keys::{KeyError, KeySet, PUBLIC_KEY_ENV};
pub use sign::{DevKeyPair, SigningKey};
pub use verify::{AuthError, Verifier};

/// Longest token accepted, in bytes. A longer `Authorization` header is refused
/// (401) before any decoding: real tokens are a few hundred bytes (an RS256
/// signature with a 4096-bit key is 683).
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Clock skew tolerated between the token issuer and this service: a token is
/// accepted until 30 s after its expiry, and from 30 s before its `nbf`.
pub const LEEWAY: Duration = Duration::from_secs(30);

/// `[auth]` in `blueprint.toml` (read with `Config::section::<AuthSection>("auth")`,
/// or by `blueprint::service`); paths are relative to the workspace root.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    /// The public key (PEM or JWKS) services verify tokens with;
    /// `BLUEPRINT_JWT_PUBLIC_KEY` wins over it.
    pub public_key: Option<std::path::PathBuf>,
    /// Its private key, for `dev token` (development and test environments only).
    pub private_key: Option<std::path::PathBuf>,
}

/// Verified tokens kept by default (see [`Verifier::with_cache_capacity`]).
pub const DEFAULT_CACHE_CAPACITY: usize = 10_000;

/// What an operation asks of its caller beyond a valid token, as declared by its
/// `auth` attribute: `Rule::any().roles(["admin"]).claims(["tenant"])`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rule {
    /// The caller's role (claim `r`) must be one of these, when non-empty.
    roles: Vec<String>,
    /// Claims the token must carry.
    claims: Vec<String>,
}

impl Rule {
    /// Any caller with a valid token.
    pub fn any() -> Self {
        Rule::default()
    }

    /// The same rule, accepting only callers with one of `roles`.
    pub fn roles<S: Into<String>>(mut self, roles: impl IntoIterator<Item = S>) -> Self {
        self.roles.extend(roles.into_iter().map(Into::into));
        self
    }

    /// The same rule, accepting only tokens that carry every one of `claims`.
    pub fn claims<S: Into<String>>(mut self, claims: impl IntoIterator<Item = S>) -> Self {
        self.claims.extend(claims.into_iter().map(Into::into));
        self
    }

    /// Whether `claims` satisfy the rule; the 403 to answer otherwise.
    pub fn check(&self, claims: &Claims) -> Result<(), AuthError> {
        if !self.roles.is_empty()
            && !claims
                .role
                .as_deref()
                .is_some_and(|r| self.roles.iter().any(|role| role == r))
        {
            return Err(AuthError::Forbidden(format!(
                "this operation needs the role {}",
                self.roles.join(" or ")
            )));
        }
        if let Some(missing) = self.claims.iter().find(|c| !claims.has(c)) {
            return Err(AuthError::Forbidden(format!(
                "this operation needs the claim `{missing}`"
            )));
        }
        Ok(())
    }
}
