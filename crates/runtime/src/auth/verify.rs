//! Token verification with a bounded cache of verified tokens.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{decode, decode_header};
use quick_cache::sync::Cache;

use super::keys::KeySet;
use super::{Claims, DEFAULT_CACHE_CAPACITY, LEEWAY, MAX_TOKEN_LEN};

/// Why a request is refused.
///
/// Messages say what is wrong with the token in general terms only: nothing of
/// the keys, the token's claims or the verification internals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No bearer token (401, `WWW-Authenticate: Bearer` without an error code).
    #[error("this operation needs a bearer token")]
    Missing,
    /// The token is not acceptable (401, `error="invalid_token"`).
    #[error("{0}")]
    Invalid(&'static str),
    /// The caller may not do this (403, `error="insufficient_scope"`).
    #[error("{0}")]
    Forbidden(String),
    /// The service has no public key configured (500).
    #[error("this service has no public key to verify tokens with")]
    NotConfigured,
}

/// A verified token in the cache, until it expires.
#[derive(Debug, Clone)]
struct Verified {
    claims: Arc<Claims>,
    /// Expiry plus the leeway, epoch milliseconds.
    valid_until_ms: i64,
}

/// Verifies tokens against a [`KeySet`] and caches the verified ones.
///
/// The cache is keyed by the token's bytes (compared in full, so no two tokens
/// can share an entry) and bounded: once full, it evicts (S3-FIFO, as `quick_cache`
/// does). A cached token is still checked for expiry on every use; tokens that
/// fail verification are never cached.
pub struct Verifier {
    keys: KeySet,
    cache: Cache<Box<str>, Verified>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("keys", &self.keys)
            .field("cached", &self.cache.len())
            .finish()
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn leeway_ms() -> i64 {
    i64::try_from(LEEWAY.as_millis()).unwrap_or(0)
}

impl Verifier {
    /// A verifier over `keys` with the default cache size.
    pub fn new(keys: KeySet) -> Self {
        Self::with_cache_capacity(keys, DEFAULT_CACHE_CAPACITY)
    }

    /// A verifier over `keys` caching at most `capacity` verified tokens
    /// (0: no cache, every token is verified every time).
    pub fn with_cache_capacity(keys: KeySet, capacity: usize) -> Self {
        Verifier {
            keys,
            cache: Cache::new(capacity.max(1)),
        }
    }

    /// The verifier for the key file named by `BLUEPRINT_JWT_PUBLIC_KEY`.
    pub fn from_env() -> Result<Self, super::KeyError> {
        Ok(Self::new(KeySet::from_env()?))
    }

    /// The claims of `token` if it is valid now.
    pub fn verify(&self, token: &str) -> Result<Arc<Claims>, AuthError> {
        self.verify_at(token, now_ms())
    }

    /// The claims of `token` if it is valid at `now_ms` (epoch milliseconds).
    pub fn verify_at(&self, token: &str, now_ms: i64) -> Result<Arc<Claims>, AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::Invalid("the token is too long"));
        }
        if let Some(hit) = self.cache.get(token) {
            if now_ms <= hit.valid_until_ms {
                return Ok(hit.claims);
            }
            self.cache.remove(token);
            return Err(AuthError::Invalid("the token has expired"));
        }
        let claims = self.verify_signature(token)?;
        let Some(expiry) = claims.expiry_ms() else {
            return Err(AuthError::Invalid("the token has no expiry (`e` or `exp`)"));
        };
        let valid_until_ms = expiry.saturating_add(leeway_ms());
        if now_ms > valid_until_ms {
            return Err(AuthError::Invalid("the token has expired"));
        }
        if let Some(nbf) = claims.nbf
            && now_ms < nbf.saturating_mul(1000).saturating_sub(leeway_ms())
        {
            return Err(AuthError::Invalid("the token is not valid yet"));
        }
        let claims = Arc::new(claims);
        self.cache.insert(
            token.into(),
            Verified {
                claims: Arc::clone(&claims),
                valid_until_ms,
            },
        );
        Ok(claims)
    }

    /// Check the signature with the key the token names (by `kid`), else with each
    /// key of the token's algorithm; decode the claims.
    fn verify_signature(&self, token: &str) -> Result<Claims, AuthError> {
        let header = decode_header(token).map_err(|_| AuthError::Invalid("malformed token"))?;
        let mut candidates = self
            .keys
            .keys
            .iter()
            .filter(|k| match (&header.kid, &k.kid) {
                (Some(wanted), Some(kid)) => wanted == kid,
                _ => true,
            })
            .peekable();
        if candidates.peek().is_none() {
            return Err(AuthError::Invalid("the token's key id is unknown"));
        }
        let mut wrong_algorithm = true;
        for key in candidates {
            // The key decides the algorithm; the header's `alg` must equal it.
            if key.algorithm != header.alg {
                continue;
            }
            wrong_algorithm = false;
            match decode::<Claims>(token, &key.decoding, &key.validation) {
                Ok(data) => return Ok(data.claims),
                Err(e) => {
                    use jsonwebtoken::errors::ErrorKind;
                    match e.kind() {
                        ErrorKind::InvalidSignature => continue,
                        ErrorKind::Json(_) => {
                            return Err(AuthError::Invalid(
                                "the token's claims are invalid (`u-id` and `a-id` are required uuids)",
                            ));
                        }
                        _ => return Err(AuthError::Invalid("malformed token")),
                    }
                }
            }
        }
        Err(AuthError::Invalid(if wrong_algorithm {
            "the token's algorithm is not accepted"
        } else {
            "the token's signature is invalid"
        }))
    }
}
