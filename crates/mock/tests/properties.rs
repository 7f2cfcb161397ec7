//! Properties: the validator never panics on any JSON, the server never answers 5xx
//! to any body, and synthesis honours any satisfiable `minimum`/`maximum`.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use blueprint_mock::synth::Synth;
use blueprint_mock::validate;
use blueprint_spec::ir::{TypeKind, TypeRef};
use proptest::prelude::*;
use serde_json::Value;

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop_oneof![
            Just("type".to_string()),
            Just("card".to_string()),
            Just("2024-02-29".to_string()),
            Just("3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f".to_string()),
            ".{0,12}",
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("type".to_string()),
                    Just("id".to_string()),
                    Just("value".to_string()),
                    "[a-z]{1,6}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn validation_never_panics(value in json()) {
        let spec = common::fixture("shop.json");
        let s = &spec.service;
        let types = s.models.iter().map(|m| s.named(TypeKind::Model, &m.name))
            .chain(s.unions.iter().map(|u| s.named(TypeKind::Union, &u.name)))
            .chain(s.enums.iter().map(|e| s.named(TypeKind::Enum, &e.name)));
        for t in types {
            let t = TypeRef::Named(t);
            // Any outcome but a panic; and the same value twice gives the same answer.
            let first = validate::check(&spec, &t, &value, "body");
            prop_assert_eq!(first, validate::check(&spec, &t, &value, "body"));
        }
    }

    #[test]
    fn any_body_gets_a_4xx_or_2xx(value in json(), raw in prop::collection::vec(any::<u8>(), 0..64)) {
        let spec = Arc::new(common::fixture("shop.json"));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
        for (uri, body) in [("/users", value.to_string().into_bytes()), ("/payments", value.to_string().into_bytes()),
                            ("/contacts", raw.clone())] {
            let request = Request::post(uri).body(Body::from(body)).expect("request");
            let (response, _) = runtime.block_on(common::send(&spec, request));
            let status = response.status().as_u16();
            prop_assert!(matches!(status, 200..=299 | 400 | 422), "{} -> {}", uri, status);
        }
    }

    #[test]
    fn synthesis_honours_bounds(
        string in bounds(0, 300),
        integer in (-1_000_000i64..1_000_000, 0i64..1_000_000),
        items in bounds(0, 40),
        seed in 0u64..16,
    ) {
        let text = format!(r#"{{"name": "b", "models": {{"m": {{"fields": [
            {{"name": "s", "type": "string", "minimum": {}, "maximum": {}}},
            {{"name": "i", "type": "long", "minimum": {}, "maximum": {}}},
            {{"name": "l", "type": "[integer]", "minimum": {}, "maximum": {}}}
        ]}}}}}}"#, string.0, string.1, integer.0, integer.0 + integer.1, items.0, items.1);
        let spec = blueprint_spec::load_str("b.json", &text, &Default::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let t = TypeRef::Named(spec.service.named(TypeKind::Model, "m"));
        let value = Synth::with_seed(&spec, seed).value(&t);
        prop_assert_eq!(validate::check(&spec, &t, &value, "m"), vec![], "{}", value);
    }
}

/// `(min, max)` with `min <= max`, both within `lo..=hi`.
fn bounds(lo: u32, hi: u32) -> impl Strategy<Value = (u32, u32)> {
    (lo..=hi, lo..=hi).prop_map(|(a, b)| (a.min(b), a.max(b)))
}
