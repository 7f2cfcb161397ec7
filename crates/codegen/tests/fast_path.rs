//! A server decodes a body straight into its model and checks the typed value
//! (`Validate::check`), walking the JSON (`Validate::validate`) only when that
//! cannot decide. Both must give the same answer: the same decoded value, or the
//! same violations in the same order, for any body.
//!
//! Random mutations of valid documents of the roundtrip and `types` fixtures'
//! models (values swapped for others of the wrong type or out of bounds, keys
//! removed or added, objects written as arrays, duplicate keys, unknown fields
//! holding what only a full parse refuses, broken JSON) go through both passes.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::cell::Cell;
use std::fmt::Debug;

use blueprint::Validate;
use blueprint::serde::de::DeserializeOwned;
use blueprint::validate::{decode_checked, decode_walked};
use blueprint_codegen_roundtrip::models::{Node, Party, Sample, Shape};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};

/// The `types` fixture's models (kept current by `tests/sql.rs`): bounds on a
/// decimal, defaults with bounds, optional maps.
#[rustfmt::skip]
#[path = "generated/types/models/mod.rs"]
#[allow(dead_code, unused_qualifications)]
mod types_models;

/// Whether the fast pass decided `body`; panics when it disagrees with the walk.
fn agree<T: Validate + DeserializeOwned + PartialEq + Debug>(body: &[u8]) -> bool {
    let fast = decode_checked::<T>(body, "body");
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        // Malformed JSON is the walk's 400: the fast pass must not decide.
        assert!(
            fast.is_none(),
            "fast pass decided malformed JSON {:?}: {fast:?}",
            String::from_utf8_lossy(body)
        );
        return false;
    };
    let walked = decode_walked::<T>(value, "body");
    match fast {
        None => false,
        Some(fast) => {
            assert_eq!(
                fast,
                walked,
                "fast pass and walk disagree on {}",
                String::from_utf8_lossy(body)
            );
            true
        }
    }
}

/// Values swapped in: of every JSON kind, in and out of bounds, known and
/// unknown enum values and union tags, every accepted text form.
fn pool() -> Vec<Value> {
    vec![
        json!(null),
        json!(true),
        json!(0),
        json!(-1),
        json!(7),
        json!(1.5),
        json!(-0.0),
        json!(1000.0),
        json!(308.0),
        json!(1e2),
        json!(-2.5e9),
        json!(-1001),
        json!(2_147_483_648_i64),
        json!(9_223_372_036_854_775_808_u64),
        json!(""),
        json!("a"),
        json!("abcdefghijklmnopqrstuvwxyz"),
        json!("red"),
        json!("dark-blue"),
        json!("undefined"),
        json!("bogus"),
        json!("circle"),
        json!("SQUARE"),
        json!("string"),
        json!("color"),
        json!("5f1b0bd4-6b8e-4d8a-9f0e-1a2b3c4d5e6f"),
        json!("5F1B0BD4-6B8E-4D8A-9F0E-1A2B3C4D5E6F"),
        json!("urn:uuid:5f1b0bd4-6b8e-4d8a-9f0e-1a2b3c4d5e6f"),
        json!("5f1b0bd46b8e4d8a9f0e1a2b3c4d5e6f"),
        json!("   "),
        json!(" 2024-01-31"),
        json!("2024-1-31"),
        json!("2024-01-31 12:00:00Z"),
        json!("2024-01-31"),
        json!("2024-01-31T12:00:00Z"),
        json!("2024-01-31T12:00:00+02:00"),
        json!("12.50"),
        json!("-3"),
        json!([]),
        json!(["a"]),
        json!([1, "b"]),
        json!({}),
        json!({"radius": 1}),
        json!({"radius": -1}),
        json!({"kind": "bogus"}),
        json!({"kind": "string", "value": "s"}),
        json!({"kind": "color", "value": "bogus"}),
        json!({"guest": {"session": "s"}}),
        json!({"nobody": {}}),
        json!({"value": 5}),
        json!({"name": "n"}),
        json!({"x": 1, "y": 2}),
    ]
}

const KEYS: &[&str] = &[
    "kind", "value", "name", "children", "parent", "shape", "color", "mood", "string", "json",
    "junk", "guest", "member", "uuid", "long", "code", "price", "count", "labels", "tags",
];

/// Every value's location, as a JSON pointer.
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

type Edit = (u8, u16, u16);

fn mutate(mut doc: Value, edits: &[Edit], text_edit: (u8, u16)) -> Vec<u8> {
    let pool = pool();
    for &(op, at, pick) in edits {
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        let pointer = &all[usize::from(at) % all.len()];
        let new = pool[usize::from(pick) % pool.len()].clone();
        let target = doc.pointer_mut(pointer).unwrap();
        match (op % 6, &mut *target) {
            (0, _) => *target = new,
            (1, Value::Object(map)) if !map.is_empty() => {
                let key = map
                    .keys()
                    .nth(usize::from(pick) % map.len())
                    .unwrap()
                    .clone();
                map.shift_remove(&key);
            }
            (2, Value::Object(map)) => {
                map.insert(KEYS[usize::from(pick) % KEYS.len()].to_owned(), new);
            }
            // A struct written as the array of its fields, serde's other form.
            (3, Value::Object(map)) => {
                *target = Value::Array(std::mem::take(map).into_iter().map(|(_, v)| v).collect());
            }
            (4, _) => *target = Value::Array(vec![target.take()]),
            _ => *target = Value::Null,
        }
    }
    let text = doc.to_string();
    let pick = usize::from(text_edit.1);
    let text = match text_edit.0 % 8 {
        // A key sent twice (the walk keeps the last; derived serde refuses).
        1 if text.starts_with("{\"") => {
            let key = KEYS[pick % KEYS.len()];
            let value = &pool[pick % pool.len()];
            format!("{{\"{key}\":{value},{}", &text[1..])
        }
        // Unknown fields only a full parse refuses.
        2 if text.starts_with('{') => {
            let junk = [
                "1e400",
                "\"\\ud800\"",
                "[\"\\udc00\"]",
                "{\"a\":-1e999}",
                "[1,{}]",
            ];
            format!("{{\"junk\":{},{}", junk[pick % junk.len()], &text[1..])
        }
        3 => format!("{text} x"),
        _ => text,
    };
    let mut bytes = text.into_bytes();
    if text_edit.0 % 8 == 4 {
        bytes.truncate(pick % bytes.len().max(1));
    }
    if text_edit.0 % 8 == 5 {
        // Invalid UTF-8 in an unknown field.
        if bytes.first() == Some(&b'{') {
            bytes.splice(1..1, b"\"junk\":\"\xff\",".iter().copied());
        }
    }
    bytes
}

/// Random mutations of each seed, through both passes. Deterministic (fixed RNG
/// seed); returns how many bodies the fast pass decided, of how many.
fn run<T: Validate + DeserializeOwned + PartialEq + Debug>(
    seeds: &[Value],
    cases: u32,
) -> (usize, usize) {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let decided = Cell::new(0);
    let total = Cell::new(0);
    let strategy = (
        0..seeds.len(),
        prop::collection::vec(any::<Edit>(), 0..4),
        any::<(u8, u16)>(),
    );
    runner
        .run(&strategy, |(seed, edits, text_edit)| {
            let body = mutate(seeds[seed].clone(), &edits, text_edit);
            total.set(total.get() + 1);
            decided.set(decided.get() + usize::from(agree::<T>(&body)));
            Ok(())
        })
        .unwrap();
    (decided.get(), total.get())
}

/// Every seed is valid and decided by the fast pass; mutations are decided
/// often enough that the comparison means something.
fn check_type<T: Validate + DeserializeOwned + PartialEq + Debug>(seeds: &[Value]) {
    for seed in seeds {
        let body = seed.to_string();
        assert!(agree::<T>(body.as_bytes()), "seed not decided: {body}");
        assert!(
            decode_checked::<T>(body.as_bytes(), "body")
                .unwrap()
                .is_ok()
        );
    }
    let (decided, total) = run::<T>(seeds, 1500);
    // Most mutations break a type, which only the walk reports in full.
    assert!(
        decided * 10 >= total,
        "the fast pass decided only {decided} of {total} bodies"
    );
}

fn roundtrip_sample() -> Value {
    json!({
        "boolean": true,
        "date": "2024-02-29",
        "date_time": "2024-02-29T12:30:00Z",
        "decimal": 12.5,
        "double": 0.25,
        "integer": -7,
        "long": 9_007_199_254_740_993_i64,
        "object": {"a": [1, 2]},
        "json": [null, {"b": true}],
        "string": "héllo",
        "uuid": "5f1b0bd4-6b8e-4d8a-9f0e-1a2b3c4d5e6f",
        "strings": ["x", "y"],
        "longs": {"one": 1, "two": 2},
        "color": "dark-blue",
        "maybe": "m",
        "count": 3,
        "mood": "red",
        "ratio": "12345678901234567890.123",
        "flags": [true, false],
        "type": "t",
        "x-request-id": "r",
        "userId": "u"
    })
}

#[test]
fn roundtrip_samples_agree() {
    let mut sparse = roundtrip_sample();
    for key in [
        "maybe",
        "count",
        "mood",
        "ratio",
        "flags",
        "type",
        "x-request-id",
    ] {
        sparse.as_object_mut().unwrap().remove(key);
    }
    sparse["userId"] = Value::Null;
    check_type::<Sample>(&[roundtrip_sample(), sparse]);
}

#[test]
fn shapes_agree() {
    check_type::<Shape>(&[
        json!({"kind": "circle", "radius": 2.0}),
        json!({"radius": 0}),
        json!({"kind": "SQUARE", "side": 3}),
        json!({"kind": "string", "value": "s"}),
        json!({"kind": "color", "value": "undefined"}),
    ]);
}

#[test]
fn party_lists_agree() {
    check_type::<Vec<Party>>(&[json!([
        {"guest": {"session": "s"}},
        {"member": {"id": "5f1b0bd4-6b8e-4d8a-9f0e-1a2b3c4d5e6f", "email": "e"}},
        {"uuid": {"value": "5f1b0bd4-6b8e-4d8a-9f0e-1a2b3c4d5e6f"}},
        {"long": {"value": 5}}
    ])]);
}

#[test]
fn trees_agree() {
    check_type::<Node>(&[json!({
        "name": "root",
        "children": [
            {"name": "a", "shape": {"kind": "SQUARE", "side": 1}},
            {"name": "b", "children": [{"name": "c"}]}
        ],
        "parent": {"name": "p", "shape": {"kind": "color", "value": "red"}},
        "shape": {"radius": 1}
    })]);
}

#[test]
fn types_samples_agree() {
    let full = json!({
        "id": "5f1b0bd4-6b8e-4d8a-9f0e-1a2b3c4d5e6f",
        "code": "abc",
        "note": "n",
        "active": false,
        "count": 5,
        "total": -4,
        "ratio": 0.5,
        "price": "10.25",
        "day": "2024-01-31",
        "at": "2024-01-31T12:00:00+02:00",
        "color": "red",
        "tags": ["a"],
        "labels": {"b": "x", "a": "y"},
        "extra": {"any": [1]},
        "attributes": {"k": null},
        "origin": {"x": 1, "y": 2.5},
        "order": "o"
    });
    let minimal = json!({
        "id": "5f1b0bd4-6b8e-4d8a-9f0e-1a2b3c4d5e6f",
        "code": "ab",
        "total": 0,
        "price": 0,
        "day": "2024-01-31",
        "at": "2024-01-31T12:00:00Z"
    });
    // Its `price` is a bounded decimal: the fast pass leaves every such body to
    // the walk (see `the_walk_decides_what_decoding_loses`), so only agreement
    // is checked here.
    for seed in [&full, &minimal] {
        let body = seed.to_string();
        assert!(!agree::<types_models::Sample>(body.as_bytes()));
    }
    run::<types_models::Sample>(&[full.clone(), minimal], 1500);
    // Without the bound, the rest of the fixture goes through the fast pass.
    let mut point = full["origin"].clone();
    assert!(agree::<types_models::Point>(point.to_string().as_bytes()));
    point["x"] = json!("1");
    run::<types_models::Point>(&[full["origin"].clone(), point], 500);
}

/// What the fast pass decides alone: the benchmark's bodies and the usual
/// violations (it would be no faster if these fell back to the walk).
#[test]
fn common_answers_come_from_the_fast_pass() {
    let decided = |body: Value| {
        let text = body.to_string();
        decode_checked::<Sample>(text.as_bytes(), "body")
            .unwrap_or_else(|| panic!("not decided: {text}"))
            .map(|_| ())
            .map_err(|violations| {
                violations
                    .into_iter()
                    .map(|v| format!("{}: {}", v.path, v.message))
                    .collect::<Vec<_>>()
            })
    };
    let mut body = roundtrip_sample();
    assert_eq!(decided(body.clone()), Ok(()));
    body["string"] = json!("");
    body["integer"] = json!(1001);
    body["color"] = json!("green");
    body["json"] = Value::Null;
    assert_eq!(
        decided(body),
        Err(vec![
            "body.integer: must be at most 1000".to_owned(),
            "body.json: is required".to_owned(),
            "body.string: must not be blank".to_owned(),
            r#"body.color: invalid value "green"; must be one of: red, dark-blue, undefined"#
                .to_owned(),
        ])
    );
    let unknown = decode_checked::<Shape>(br#"{"kind":"triangle"}"#, "body").unwrap();
    assert_eq!(
        unknown.unwrap_err()[0].message,
        r#"unknown type "triangle"; must be one of: circle, SQUARE, string, color"#
    );
}

/// What the fast pass leaves to the walk, which alone knows the answer.
#[test]
fn the_walk_decides_what_decoding_loses() {
    // A struct written as an array, a key sent twice, junk serde would skim.
    assert!(decode_checked::<Shape>(br#"[2.0]"#, "body").is_none());
    assert!(decode_checked::<Node>(br#"{"name":"a","name":"b"}"#, "body").is_none());
    assert!(decode_checked::<Node>(br#"{"name":"a","junk":1e400}"#, "body").is_none());
    // A bound on a decimal: the walk measured the JSON as sent.
    let negative = br#"{"id":"5f1b0bd4-6b8e-4d8a-9f0e-1a2b3c4d5e6f","code":"ab","total":0,"price":-1,"day":"2024-01-31","at":"2024-01-31T12:00:00Z"}"#;
    assert!(decode_checked::<types_models::Sample>(negative, "body").is_none());
}
