//! The mock answers every operation of every corpus spec with a declared status and a
//! body that decodes as the declared type, given a valid request built from the spec.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use blueprint_mock::example;
use blueprint_mock::synth::Synth;
use blueprint_mock::validate;
use blueprint_spec::Spec;
use blueprint_spec::ir::{Operation, ResponseCode};
use serde_json::Value;

#[tokio::test]
async fn every_operation_of_every_corpus_spec() {
    let specs = common::corpus();
    let mut operations = 0;
    let mut failures = Vec::new();
    for (path, spec) in &specs {
        let spec = Arc::new(spec.clone());
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        for (_, op) in spec.service.operations() {
            operations += 1;
            for seed in 0..SEEDS {
                if let Err(e) = exercise(&spec, op, seed).await {
                    failures.push(format!(
                        "{name}: {} {} (seed {seed}): {e}",
                        op.method, op.path
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {operations} operations failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    if !specs.is_empty() {
        assert!(
            operations > 50,
            "only {operations} operations in the corpus"
        );
    }
    eprintln!("{operations} operations of {} specs answered", specs.len());
}

/// Requests per operation, each from another seed (seed 0 is the plain one).
const SEEDS: u64 = 3;

fn valid_request(spec: &Spec, op: &Operation, seed: u64) -> Request<Body> {
    example::request_for(spec, op, seed)
        .to_http()
        .expect("the spec's headers are valid HTTP")
}

async fn exercise(spec: &Arc<Spec>, op: &Operation, seed: u64) -> Result<(), String> {
    // The synthesised request body must itself decode, or the test proves nothing.
    let request = example::request_for(spec, op, seed);
    if let (Some(b), Some(v)) = (&op.body, &request.body) {
        let errors = validate::check(spec, &b.type_, v, "body");
        if !errors.is_empty() {
            return Err(format!("synthesised request body invalid: {errors:?}"));
        }
    }
    let (response, bytes) = common::send(spec, valid_request(spec, op, seed)).await;
    let status = response.status().as_u16();
    let declared = op
        .response(ResponseCode::Status(status))
        .or_else(|| op.response(ResponseCode::Default));
    let Some(declared) = declared else {
        let body = String::from_utf8_lossy(&bytes);
        return Err(format!("status {status} not declared; body: {body}"));
    };
    if declared.type_.is_unit() {
        return if bytes.is_empty() {
            Ok(())
        } else {
            Err("a unit response with a body".into())
        };
    }
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("body is not JSON: {e}"))?;
    let errors = validate::check(spec, &declared.type_, &value, "response");
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("response does not decode: {errors:?}"))
    }
}

#[tokio::test]
async fn responses_are_deterministic() {
    let spec = Arc::new(common::fixture("shop.json"));
    for (_, op) in spec.service.operations() {
        let (_, first) = common::send(&spec, valid_request(&spec, op, 0)).await;
        let (_, second) = common::send(&spec, valid_request(&spec, op, 0)).await;
        assert_eq!(first, second, "{} {}", op.method, op.path);
    }
}

/// Synthesis and validation agree: every type of every corpus spec (the fixture's
/// too), under several seeds, synthesises to a value the validator accepts.
#[test]
fn synthesised_values_validate_for_every_type_and_seed() {
    let mut specs = common::corpus();
    specs.push(("shop.json".into(), common::fixture("shop.json")));
    let mut checked = 0;
    let mut failures = Vec::new();
    for (path, spec) in &specs {
        for t in all_types(spec) {
            for seed in 0..8 {
                let value = Synth::with_seed(spec, seed).value(&t);
                let errors = validate::check(spec, &t, &value, "value");
                checked += 1;
                if !errors.is_empty() {
                    failures.push(format!(
                        "{}: {} (seed {seed}): {value} -> {errors:?}",
                        path.display(),
                        t.display_in("")
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 100, "only {checked} values checked");
}

/// Every type a spec defines or imports, as a reference.
fn all_types(spec: &Spec) -> Vec<blueprint_spec::ir::TypeRef> {
    use blueprint_spec::ir::{TypeKind, TypeRef};
    std::iter::once(&spec.service)
        .chain(&spec.imports)
        .flat_map(|s| {
            let named = |kind, name: &String| TypeRef::Named(s.named(kind, name));
            s.enums
                .iter()
                .map(move |e| named(TypeKind::Enum, &e.name))
                .chain(
                    s.models
                        .iter()
                        .map(move |m| named(TypeKind::Model, &m.name)),
                )
                .chain(
                    s.interfaces
                        .iter()
                        .map(move |i| named(TypeKind::Interface, &i.name)),
                )
                .chain(
                    s.unions
                        .iter()
                        .map(move |u| named(TypeKind::Union, &u.name)),
                )
                .collect::<Vec<_>>()
        })
        .collect()
}
