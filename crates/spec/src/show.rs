//! `dev spec show --json`: the normalised service in apibuilder's `service.json`
//! shape, plus a `blueprint` object with Blueprint's typed attributes.

use serde_json::{Value, json};

use crate::ir::{Service, Spec};

/// The normalised root service as JSON.
pub fn service_json(spec: &Spec) -> Value {
    let s = &spec.service;
    let mut v = serde_json::to_value(s).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        map.insert("blueprint".into(), blueprint(s));
    }
    v
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
