//! The mock, generated servers and the OpenAPI export agree on the wire format:
//! every value the mock synthesises validates against the exported schema of its
//! type (checked by the independent `openapi-schema-validator` from PyPI, with
//! format checking), a few values the mock rejects are rejected by the schema too,
//! and mutated values (numbers with and without fractions, `null`s, ...) are
//! accepted by a generated server exactly when the mock and the schema accept them.

mod common;

use std::path::Path;
use std::process::Command;

use blueprint::Validate;
use blueprint::serde::de::DeserializeOwned;
use blueprint::validate::{decode_checked, decode_walked};
use blueprint_mock::synth::Synth;
use blueprint_mock::validate;
use blueprint_spec::Spec;
use blueprint_spec::ir::{TypeKind, TypeRef};
use blueprint_testkit::python;
use serde_json::{Map, Value, json};

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

/// Values for mutations: numbers and `null` above all (integers with a zero
/// fraction, real fractions, the edges of 32 and 64 bits), then the odd string
/// and container. Out-of-range integers are written without a fraction: the
/// Python checker applies `int32`/`int64` to integers only.
fn pool() -> Vec<Value> {
    vec![
        json!(null),
        json!(0),
        json!(-1),
        json!(30),
        json!(30.0),
        json!(30.5),
        json!(150),
        json!(150.0),
        json!(151),
        json!(-0.0),
        json!(1e2),
        json!(0.1),
        json!(2_147_483_647),
        json!(2_147_483_648_i64),
        json!(-2_147_483_649_i64),
        json!(9_223_372_036_854_775_807_i64),
        json!(9_223_372_036_854_775_808_u64),
        json!(true),
        json!(""),
        json!(" "),
        json!("x"),
        json!("card"),
        json!("2024-01-15"),
        json!("3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f"),
        json!([]),
        json!([1]),
        json!({}),
    ]
}

/// Every value's location in `value`, as JSON pointers.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                pointers(item, format!("{at}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                pointers(
                    item,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        _ => {}
    }
    out.push(at);
}

/// Whether a generated server accepts a value (as one type).
type Accepts = fn(&Value) -> bool;

/// Whether a generated server accepts `value` as a `T`: the fast pass, else the walk.
fn server_accepts<T: Validate + DeserializeOwned>(value: &Value) -> bool {
    let bytes = value.to_string();
    match decode_checked::<T>(bytes.as_bytes(), "body") {
        Some(decided) => decided.is_ok(),
        None => decode_walked::<T>(value.clone(), "body").is_ok(),
    }
}

/// Mutated values of the shop's models and unions: a generated server accepts
/// one exactly when the mock does, and exactly when it is valid against the
/// exported OpenAPI schema (the independent checker from PyPI).
#[test]
fn server_mock_and_schema_agree_on_mutated_values() {
    use blueprint_mock_shop::models::{Address, Contact, Order, Payment, User};
    let shop = common::fixture("shop.json");
    let types: [(&str, Accepts); 5] = [
        ("user", server_accepts::<User>),
        ("address", server_accepts::<Address>),
        ("order", server_accepts::<Order>),
        ("payment", server_accepts::<Payment>),
        ("contact", server_accepts::<Contact>),
    ];
    let pool = pool();
    let mut rng = Rng(0x5eed);
    let mut instances = Vec::new();
    let (mut accepted, mut refused) = (0, 0);
    for (schema, server) in types {
        let t = TypeRef::Named(shop.service.named(kind_of(&shop, schema), schema));
        for seed in 0..MUTATED_PER_TYPE {
            let mut value = Synth::with_seed(&shop, seed % SEEDS).value(&t);
            for _ in 0..=(seed % 2) {
                let mut at = Vec::new();
                pointers(&value, String::new(), &mut at);
                let pointer = &at[rng.below(at.len())];
                let new = pool[rng.below(pool.len())].clone();
                if let Some(target) = value.pointer_mut(pointer) {
                    *target = new;
                }
            }
            let by_server = server(&value);
            let by_mock = validate::check(&shop, &t, &value, "body").is_empty();
            assert_eq!(
                by_server, by_mock,
                "{schema}: server accepts: {by_server}, mock: {by_mock}: {value}"
            );
            if by_server {
                accepted += 1;
            } else {
                refused += 1;
            }
            instances.push(
                json!({"document": "shop.json", "schema": schema, "value": value, "valid": by_server}),
            );
        }
    }
    assert!(
        accepted > 50 && refused > 50,
        "{accepted} accepted, {refused} refused"
    );

    let documents = json!({"shop.json": blueprint_codegen::openapi::document(&shop)});
    let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join("openapi-mutations.json");
    let input = json!({"documents": documents, "instances": instances});
    std::fs::write(&file, serde_json::to_vec(&input).expect("JSON")).expect("write the instances");
    if !python::module_available("openapi_schema_validator", "openapi-spec-validator") {
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openapi_agreement.py");
    let stdout = python::run(
        Command::new("python3").arg(&script).arg(&file),
        "servers and the OpenAPI export disagree",
    );
    let expected = format!("{} checked, 0 disagree", instances.len());
    assert!(stdout.contains(&expected), "unexpected output:\n{stdout}");
}

/// Mutated values per type.
const MUTATED_PER_TYPE: u64 = 160;

/// A deterministic pseudo-random sequence (splitmix64): the same mutations every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}
