//! A spec-driven HTTP mock server, and the value synthesis and request validation
//! behind it (reused by `dev verify`).
//!
//! The mock interprets the IR at runtime: no code generation, no compile step. It
//! is the router a generated server would be, with synthesised answers: the same
//! routes and built-in routes, the same layers, and every input read and
//! validated by the runtime's own code ([`blueprint::server::Inputs`],
//! [`blueprint::validate::Validator`]) driven from the IR, so its answer to any
//! request is a generated server's, up to the success body. For every operation it
//! - validates the request as a generated server does: malformed JSON is a `400`
//!   (`invalid_json`); every other problem — a missing required field or parameter, a
//!   wrong type, a blank required string, a value past `minimum`/`maximum`, an
//!   unknown enum value or union discriminator, a bad uuid/date/date-time, a `sort`
//!   the table cannot sort by, a single-valued parameter given twice — is collected
//!   into one `422`, in the shape of the type the operation declares for it
//!   ([`blueprint::ErrorShape`]; Blueprint's [`ErrorBody`] by default);
//! - answers with the first declared 2xx response (else `default`, as 200), its body
//!   synthesised by [`synth`] (`unit` → empty body).
//!
//! Unknown paths get a JSON `404`, known paths with another method a `405` with
//! `Allow`; bodies over 1 MiB a `413`; `GET /_internal_/healthcheck` answers
//! `{"status": "healthy"}` and `GET /_internal_/metrics` the runtime's metrics
//! (requests counted by route, as a generated server counts them) unless the spec
//! declares them; HEAD on a GET operation is the GET without a body. Authentication
//! is not checked: a mock answers everyone.
//!
//! Wire rules (shared with the OpenAPI export): decimals are JSON numbers (a decimal
//! string is accepted on input); an integer may be written `308.0`; dates are
//! `YYYY-MM-DD`, date-times RFC 3339 with a zone; unknown object keys are ignored; a
//! field with a `default` may be omitted, and one that may be omitted may be `null`;
//! union encoding is described in [`blueprint_spec::wire`].

pub mod example;
mod server;
pub mod synth;
pub mod validate;

use std::future::Future;
use std::sync::Arc;

use blueprint_spec::Spec;
use tokio::net::TcpListener;

pub use blueprint::error::ErrorBody;
pub use server::{BODY_LIMIT, HEALTHCHECK_PATH, router, router_with_auth};
pub use synth::value_for;
pub use validate::{Violation, check};

/// Serve the mock of `spec` on `listener` until `shutdown` completes, then finish the
/// requests in flight.
pub async fn serve(
    spec: Arc<Spec>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    blueprint::server::serve_with_shutdown(listener, router(spec), shutdown).await
}

/// [`serve`] with the operations that need a token checking it with `verifier`
/// (see [`router_with_auth`]).
pub async fn serve_with_auth(
    spec: Arc<Spec>,
    verifier: Arc<blueprint::auth::Verifier>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = router_with_auth(spec, verifier);
    blueprint::server::serve_with_shutdown(listener, router, shutdown).await
}
