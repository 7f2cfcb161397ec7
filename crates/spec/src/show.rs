//! `dev spec show --json`: the normalised service in apibuilder's `service.json`
//! shape, plus a `blueprint` object with Blueprint's typed attributes.

use serde_json::{Value, json};

use crate::ir::{Service, Spec, TypeKind};

/// The normalised root service as JSON. As in apibuilder's `service.json`, the
/// service's own types are written by their local names (`user`, `[user]`) and
/// imported ones fully qualified.
pub fn service_json(spec: &Spec) -> Value {
    let s = &spec.service;
    let mut v = serde_json::to_value(s).unwrap_or(Value::Null);
    let prefixes: Vec<String> = TypeKind::ALL
        .iter()
        .map(|k| format!("{}.{}.", s.namespace, k.plural()))
        .collect();
    localize_types(&mut v, &prefixes);
    if let Value::Object(map) = &mut v {
        map.insert("blueprint".into(), blueprint(s));
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
