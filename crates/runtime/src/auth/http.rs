//! Auth on requests: the bearer token, the check, the 401/403 answers, the layer.

use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::future::{Either, Ready, ready};
use tower::{Layer, Service};

use super::{AuthError, Claims, MAX_TOKEN_LEN, Rule, Verifier};
use crate::error::ErrorBody;
use crate::server::{Context, Inputs, ServerConfig, error};

/// The bearer token of the request's `Authorization` header.
///
/// `Ok(None)`: no `Authorization` header, or another scheme. Refused: several
/// `Authorization` headers, an empty token, a header that is not text, and any
/// header longer than [`MAX_TOKEN_LEN`] (checked before anything is decoded).
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(AuthError::Invalid("several Authorization headers"));
    }
    if value.len() > MAX_TOKEN_LEN + "Bearer ".len() {
        return Err(AuthError::Invalid("the token is too long"));
    }
    let value = value
        .to_str()
        .map_err(|_| AuthError::Invalid("malformed token"))?;
    let Some((scheme, token)) = value.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    match token.trim() {
        "" => Err(AuthError::Invalid("malformed token")),
        token => Ok(Some(token)),
    }
}

/// Authenticate a request for an operation with `rule`: its bearer token, verified
/// by `verifier` (`None`: the service has no key configured, which refuses every
/// caller), then the rule's roles and claims.
pub fn authenticate(
    headers: &HeaderMap,
    verifier: Option<&Verifier>,
    rule: &Rule,
) -> Result<Arc<Claims>, AuthError> {
    let token = bearer_token(headers)?.ok_or(AuthError::Missing)?;
    let verifier = verifier.ok_or(AuthError::NotConfigured)?;
    let claims = verifier.verify(token)?;
    rule.check(&claims)?;
    Ok(claims)
}

impl IntoResponse for AuthError {
    /// 401 (`unauthorized`, `invalid_token`) and 403 (`forbidden`) with a JSON
    /// body and an RFC 6750 `WWW-Authenticate` challenge; 500 when unconfigured.
    fn into_response(self) -> Response {
        let (status, code, challenge) = match &self {
            AuthError::Missing => (StatusCode::UNAUTHORIZED, "unauthorized", None),
            AuthError::Invalid(_) => (
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                Some("invalid_token"),
            ),
            AuthError::Forbidden(_) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                Some("insufficient_scope"),
            ),
            AuthError::NotConfigured => {
                tracing::error!("refusing a request: no JWT public key is configured");
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorBody::new("internal_error", "the server cannot verify tokens"),
                );
            }
        };
        let message = self.to_string();
        let header = match challenge {
            None => "Bearer".to_owned(),
            // Messages are fixed text without quotes or backslashes.
            Some(code) => format!(r#"Bearer error="{code}", error_description="{message}""#),
        };
        let mut response = error(status, ErrorBody::new(code, message));
        if let Ok(value) = HeaderValue::from_str(&header) {
            response.headers_mut().insert(WWW_AUTHENTICATE, value);
        }
        response
    }
}

impl Context {
    /// The verified claims of the caller, on operations that authenticate.
    pub fn claims(&self) -> Option<&Claims> {
        self.extensions.get::<Arc<Claims>>().map(|c| &**c)
    }
}

impl Inputs {
    /// The verified claims of the caller, on operations that authenticate (generated
    /// handlers set a body's scoped fields from them).
    pub fn claims(&self) -> Option<&Claims> {
        self.extensions().get::<Arc<Claims>>().map(|c| &**c)
    }
}

impl ServerConfig {
    /// The same configuration verifying tokens with `verifier`.
    pub fn with_verifier(mut self, verifier: Verifier) -> Self {
        self.auth = Some(Arc::new(verifier));
        self
    }

    /// The same configuration verifying tokens with the key file named by
    /// `BLUEPRINT_JWT_PUBLIC_KEY` (a PEM or JWKS file).
    pub fn with_verifier_from_env(self) -> Result<Self, super::KeyError> {
        Ok(self.with_verifier(Verifier::from_env()?))
    }
}

/// A tower layer requiring a valid token satisfying a [`Rule`] before the inner
/// service runs; the claims are put in the request's extensions (`Arc<Claims>`,
/// read with [`Context::claims`]). Refused requests are answered by the layer.
#[derive(Debug, Clone)]
pub struct RequireAuthLayer {
    verifier: Option<Arc<Verifier>>,
    rule: Arc<Rule>,
}

impl RequireAuthLayer {
    pub fn new(verifier: Option<Arc<Verifier>>, rule: Rule) -> Self {
        RequireAuthLayer {
            verifier,
            rule: Arc::new(rule),
        }
    }
}

impl<S> Layer<S> for RequireAuthLayer {
    type Service = RequireAuth<S>;

    fn layer(&self, inner: S) -> RequireAuth<S> {
        RequireAuth {
            inner,
            verifier: self.verifier.clone(),
            rule: Arc::clone(&self.rule),
        }
    }
}

/// The service of [`RequireAuthLayer`].
#[derive(Debug, Clone)]
pub struct RequireAuth<S> {
    inner: S,
    verifier: Option<Arc<Verifier>>,
    rule: Arc<Rule>,
}

impl<S, B> Service<Request<B>> for RequireAuth<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<Ready<Result<Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        match authenticate(req.headers(), self.verifier.as_deref(), &self.rule) {
            Ok(claims) => {
                req.extensions_mut().insert(claims);
                Either::Right(self.inner.call(req))
            }
            Err(e) => Either::Left(ready(Ok(e.into_response()))),
        }
    }
}
