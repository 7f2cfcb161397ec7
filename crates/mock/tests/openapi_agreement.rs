//! The mock and the OpenAPI export agree on the wire format: every value the mock
//! synthesises validates against the exported schema of its type (checked by the
//! independent `openapi-schema-validator` from PyPI, with format checking), and a few
//! values the mock rejects are rejected by the schema too.

mod common;

use std::path::Path;
use std::process::Command;

use blueprint_mock::synth::Synth;
use blueprint_mock::validate;
use blueprint_spec::Spec;
use blueprint_spec::ir::{TypeKind, TypeRef};
use blueprint_testkit::python;
use serde_json::{Map, json};

const SEEDS: u64 = 4;

#[test]
fn synthesised_values_match_the_exported_schemas() {
    let mut specs = common::corpus();
    specs.push(("shop.json".into(), common::fixture("shop.json")));
    let mut documents = Map::new();
    let mut instances = Vec::new();
    for (path, spec) in &specs {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 name")
            .to_string();
        documents.insert(name.clone(), blueprint_codegen::openapi::document(spec));
        for (schema, t) in local_types(spec) {
            for seed in 0..SEEDS {
                let value = Synth::with_seed(spec, seed).value(&t);
                instances.push(
                    json!({"document": name, "schema": schema, "value": value, "valid": true}),
                );
            }
        }
    }
    let shop = common::fixture("shop.json");
    for (schema, value) in [
        ("user", json!({})),
        ("payment", json!({"type": "cash"})),
        ("payment", json!({"type": "note", "value": 5})),
        ("contact", json!({"user": {}, "uuid": {"value": "x"}})),
        ("color", json!("green")),
        ("address", json!({"street": ""})),
    ] {
        let t = TypeRef::Named(shop.service.named(kind_of(&shop, schema), schema));
        assert!(
            !validate::check(&shop, &t, &value, "value").is_empty(),
            "the mock accepts {value}"
        );
        instances.push(
            json!({"document": "shop.json", "schema": schema, "value": value, "valid": false}),
        );
    }

    let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join("openapi-agreement.json");
    let input = json!({"documents": documents, "instances": instances});
    std::fs::write(&file, serde_json::to_vec(&input).expect("JSON")).expect("write the instances");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openapi_agreement.py");
    if !python::module_available("openapi_schema_validator", "openapi-spec-validator") {
        return;
    }
    let stdout = python::run(
        Command::new("python3").arg(&script).arg(&file),
        "mock and OpenAPI disagree",
    );
    let expected = format!("{} checked, 0 disagree", instances.len());
    assert!(stdout.contains(&expected), "unexpected output:\n{stdout}");
}

/// The service's own types, each with its component name (the plain name).
fn local_types(spec: &Spec) -> Vec<(String, TypeRef)> {
    let s = &spec.service;
    let named = |kind, name: &String| (name.clone(), TypeRef::Named(s.named(kind, name)));
    s.enums
        .iter()
        .map(|e| named(TypeKind::Enum, &e.name))
        .chain(s.models.iter().map(|m| named(TypeKind::Model, &m.name)))
        .chain(
            s.interfaces
                .iter()
                .map(|i| named(TypeKind::Interface, &i.name)),
        )
        .chain(s.unions.iter().map(|u| named(TypeKind::Union, &u.name)))
        .collect()
}

fn kind_of(spec: &Spec, name: &str) -> TypeKind {
    let s = &spec.service;
    if s.enum_(name).is_some() {
        TypeKind::Enum
    } else if s.union(name).is_some() {
        TypeKind::Union
    } else {
        TypeKind::Model
    }
}
