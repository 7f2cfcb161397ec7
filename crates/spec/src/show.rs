//! `dev spec show --json`: the normalised service in apibuilder's `service.json`
//! shape, plus a `blueprint` object with Blueprint's typed attributes.
//!
//! The output is itself loadable: a spec may import it as a resolved
//! `service.json` (tested in `tests/roundtrip.rs`).

use serde_json::{Map, Value, json};

use crate::ir::{Service, Spec, TypeKind};

/// The normalised root service as JSON.
pub fn service_json(spec: &Spec) -> Value {
    service_value(&spec.service)
}

/// One service as apibuilder's `service.json`: keys in apibuilder's order, the
/// service's own types by their local names (`user`, `[user]`), imported ones fully
/// qualified, every union member's discriminator value filled in.
pub fn service_value(service: &Service) -> Value {
    let mut s = service.clone();
    for u in &mut s.unions {
        for t in &mut u.types {
            if t.discriminator_value.is_none() {
                t.discriminator_value = Some(t.wire_value(&service.namespace));
            }
        }
    }
    let Ok(Value::Object(mut fields)) = serde_json::to_value(&s) else {
        return Value::Null;
    };
    let mut out = Map::new();
    out.insert("name".into(), json!(s.name));
    if let Some(org) = &s.organization {
        out.insert("organization".into(), json!({ "key": org }));
    }
    out.insert("application".into(), json!({ "key": s.application }));
    for key in [
        "namespace",
        "version",
        "info",
        "base_url",
        "description",
        "headers",
        "imports",
        "enums",
        "interfaces",
        "unions",
        "models",
        "resources",
        "attributes",
        "annotations",
    ] {
        if let Some(v) = fields.remove(key) {
            out.insert(key.into(), v);
        }
    }
    // apibuilder writes an import's organization and application as `{"key": ...}`.
    for import in out
        .get_mut("imports")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        for key in ["organization", "application"] {
            if let Some(v) = import.get_mut(key)
                && v.is_string()
            {
                *v = json!({ "key": v.take() });
            }
        }
    }
    let mut v = Value::Object(out);
    let prefixes: Vec<String> = TypeKind::ALL
        .iter()
        .map(|k| format!("{}.{}.", s.namespace, k.plural()))
        .collect();
    localize_types(&mut v, &prefixes);
    if let Value::Object(map) = &mut v {
        map.insert("blueprint".into(), blueprint(&s));
    }
    v
}

/// Strip the local namespace from every `"type"` value.
fn localize_types(v: &mut Value, prefixes: &[String]) {
    match v {
        Value::Object(map) => {
            for (k, x) in map.iter_mut() {
                match x {
                    Value::String(t) if k == "type" => {
                        for p in prefixes {
                            *t = t.replace(p.as_str(), "");
                        }
                    }
                    _ => localize_types(x, prefixes),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|x| localize_types(x, prefixes)),
        _ => {}
    }
}

/// Blueprint's typed attributes: tables (with derived indexes), streams,
/// consumed streams, the service's default auth rule.
fn blueprint(s: &Service) -> Value {
    let tables: Vec<Value> = s
        .models
        .iter()
        .filter_map(|m| {
            let db = m.db.as_ref()?;
            let mut t = serde_json::to_value(db).unwrap_or(Value::Null);
            if let Value::Object(o) = &mut t {
                o.insert("model".into(), json!(m.name));
            }
            Some(t)
        })
        .collect();
    let streams: Vec<Value> = s
        .streams()
        .map(|(u, st)| {
            json!({
                "union": u.name,
                "name": st.name,
                "retention_hours": st.retention_hours,
                "partition_key": st.partition_key,
                "replicas": st.replicas,
            })
        })
        .collect();
    json!({
        "tables": tables,
        "streams": streams,
        "consumes": s.blueprint.consumes,
        "auth": s.blueprint.auth,
    })
}
