//! The answers every Blueprint server (and `dev mock`) may give to any operation,
//! whatever its spec says, with the standard error body
//! `{"code", "message", "violations"?}` (`blueprint::error::ErrorBody`).
//!
//! They are declared on every operation that does not declare the status itself, as
//! `$ref`s to shared `components/responses`, so clients decode them and API testers
//! expect them. Operations whose `auth` requires a token may also answer 401, and 403
//! when their rule needs a role or a claim (the runtime's auth layer answers them
//! before any input is read).

use std::collections::BTreeSet;

use blueprint_spec::ir::{Operation, ResponseCode};
use serde_json::{Map, Value, json};

use super::names::Names;

/// `(status, response component, description)`.
const STANDARD: [(u16, &str, &str); 9] = [
    (
        400,
        "bad_request",
        "The body is not JSON (`invalid_json`) or could not be read (`invalid_body`).",
    ),
    (404, "not_found", "No such route or record (`not_found`)."),
    (
        405,
        "method_not_allowed",
        "The path does not take this method (`method_not_allowed`); `Allow` lists those it takes.",
    ),
    (
        413,
        "payload_too_large",
        "The body is over the size limit (`payload_too_large`).",
    ),
    (
        414,
        "uri_too_long",
        "The request target is over the size limit (`uri_too_long`).",
    ),
    (
        422,
        "validation_failed",
        "Some input is missing or invalid (`validation_failed`); `violations` lists each, with its path.",
    ),
    (
        431,
        "headers_too_large",
        "The request's headers are over the size or count limit (`headers_too_large`).",
    ),
    (
        500,
        "internal_error",
        "The service failed (`internal_error`).",
    ),
    (
        503,
        "unavailable",
        "The service did not answer in time (`timeout`).",
    ),
];

/// A token is missing or invalid: every operation whose `auth` requires one.
const UNAUTHORIZED: (u16, &str, &str) = (
    401,
    "unauthorized",
    "No valid bearer token (`unauthorized`, `invalid_token`); `WWW-Authenticate` says why.",
);

/// A valid token lacks a role or claim the operation's rule needs.
const FORBIDDEN: (u16, &str, &str) = (
    403,
    "forbidden",
    "The token lacks a role or claim the operation needs (`forbidden`).",
);

/// The answers `op` may give whatever it declares: the standard ones, and its auth
/// rule's.
fn answers(op: &Operation) -> impl Iterator<Item = (u16, &'static str, &'static str)> {
    let auth = op.auth.as_ref().filter(|a| a.required);
    let unauthorized = auth.map(|_| UNAUTHORIZED);
    let forbidden = auth.filter(|a| a.can_forbid()).map(|_| FORBIDDEN);
    STANDARD.into_iter().chain(unauthorized).chain(forbidden)
}

#[derive(Debug)]
pub(super) struct StandardErrors {
    /// Component names of the error body and of one violation.
    body: String,
    violation: String,
    /// The statuses some operation refers to.
    used: BTreeSet<u16>,
}

impl StandardErrors {
    pub(super) fn new(names: &mut Names) -> Self {
        StandardErrors {
            body: names.claim("blueprint_error"),
            violation: names.claim("blueprint_violation"),
            used: BTreeSet::new(),
        }
    }

    /// `(status, $ref)` for each standard answer `op` does not declare itself.
    pub(super) fn undeclared(&mut self, op: &Operation) -> Vec<(u16, String)> {
        let mut out = Vec::new();
        for (code, name, _) in answers(op) {
            if op.response(ResponseCode::Status(code)).is_none() {
                self.used.insert(code);
                out.push((code, format!("#/components/responses/{name}")));
            }
        }
        out
    }

    /// Add the error body's schemas to `schemas`; the response components used.
    pub(super) fn components(&self, schemas: &mut Map<String, Value>) -> Map<String, Value> {
        let mut responses = Map::new();
        if self.used.is_empty() {
            return responses;
        }
        let body_ref = format!("#/components/schemas/{}", self.body);
        for (code, name, description) in STANDARD.into_iter().chain([UNAUTHORIZED, FORBIDDEN]) {
            if !self.used.contains(&code) {
                continue;
            }
            let mut response = json!({
                "description": description,
                "content": {"application/json": {"schema": {"$ref": body_ref}}},
            });
            if code == 405 {
                response["headers"] = json!({"Allow": {
                    "description": "The methods the path takes, comma-separated.",
                    "schema": {"type": "string"},
                }});
            }
            if matches!(code, 401 | 403) {
                response["headers"] = json!({"WWW-Authenticate": {
                    "description": "The RFC 6750 bearer challenge (`Bearer error=\"...\"`).",
                    "schema": {"type": "string"},
                }});
            }
            responses.insert(name.to_string(), response);
        }
        schemas.insert(
            self.body.clone(),
            json!({
                "type": "object",
                "description": "Blueprint's error body: a stable machine-readable `code`, a `message` for people, and on 422 every invalid input.",
                "properties": {
                    "code": {"type": "string", "examples": ["validation_failed"]},
                    "message": {"type": "string"},
                    "violations": {
                        "type": "array",
                        "items": {"$ref": format!("#/components/schemas/{}", self.violation)},
                    },
                },
                "required": ["code", "message"],
            }),
        );
        schemas.insert(
            self.violation.clone(),
            json!({
                "type": "object",
                "description": "One invalid input: where (`body.email`, `query.limit`, `path.id`, `header.x-id`) and what is wrong.",
                "properties": {
                    "path": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["path", "message"],
            }),
        );
        responses
    }
}
