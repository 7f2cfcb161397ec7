//! AsyncAPI 3.0 export of a service's event streams.
//!
//! Mapping decisions:
//! - a channel per stream: the service's own (its `<x>_event` unions) and the ones
//!   it consumes (the `consumes` attribute). The channel's address is the stream name,
//!   `<namespace>.<union>.json`, which is also its NATS subject; its key is the
//!   union's component name (`user_event`, or fully qualified when imported);
//!   retention and partition key are the extensions `x-retention-hours` and
//!   `x-partition-key`;
//! - a message per union member (an event model): `name` is the member's wire value
//!   (its discriminator value, or wrapper key), `title` its type; the payload is the
//!   member's wire form exactly as the OpenAPI export writes it in the union's
//!   `oneOf` (the member's schema plus the discriminator's `const`), over the same
//!   component schemas ([`openapi::component_schemas`]): one truth for type → schema.
//!   `x-discriminator` names the discriminator property and the member's value, so a
//!   reader can pick the message before decoding;
//! - a `send` operation per own stream, a `receive` operation per consumed one, each
//!   naming every message of its channel;
//! - schemas use the default schema format (AsyncAPI Schema), whose `discriminator`
//!   is the property name: OpenAPI's `{"propertyName", "mapping"}` is written as its
//!   `propertyName` (the per-member values are on the messages).
//!
//! The output is deterministic: own streams in declaration order, then consumed ones
//! in the order the attribute lists them.

use blueprint_spec::Spec;
use blueprint_spec::ir::{NamedType, Service, Stream, TypeKind, TypeRef, Union};
use serde_json::{Map, Value, json};

use crate::openapi;

/// The file `dev gen --generators asyncapi` writes, relative to the output directory.
pub const FILE_NAME: &str = "asyncapi.json";

/// The AsyncAPI document for `spec`, as pretty JSON with a final newline.
pub fn render(spec: &Spec) -> String {
    let mut text = serde_json::to_string_pretty(&document(spec)).unwrap_or_default();
    text.push('\n');
    text
}

/// Whether a channel's stream is published or read by the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Send,
    Receive,
}

/// One stream the document describes.
struct Channel<'s> {
    /// The union's component name, also the channel's key.
    key: String,
    /// The stream name: address and NATS subject.
    address: &'s str,
    union_type: NamedType,
    union: &'s Union,
    /// Retention and partition key (the owner's, for a consumed stream).
    stream: Option<&'s Stream>,
    action: Action,
}

/// The AsyncAPI document for `spec`.
pub fn document(spec: &Spec) -> Value {
    let channels = channels(spec);
    let roots = channels
        .iter()
        .map(|c| TypeRef::Named(c.union_type.clone()))
        .collect();
    let mut schemas = openapi::component_schemas(spec, roots);

    let mut channel_map = Map::new();
    let mut operations = Map::new();
    let mut messages = Map::new();
    for c in &channels {
        let members = member_payloads(&schemas, c);
        let mut channel_messages = Map::new();
        let mut operation_messages = Vec::new();
        for (wire, message) in members {
            let key = unique_key(&channel_messages, &clean_key(&wire));
            let component = format!("{}.{key}", c.key);
            channel_messages.insert(
                key.clone(),
                json!({ "$ref": format!("#/components/messages/{component}") }),
            );
            operation_messages
                .push(json!({ "$ref": format!("#/channels/{}/messages/{key}", c.key) }));
            messages.insert(component, message);
        }

        let mut channel = Map::new();
        channel.insert("address".into(), json!(c.address));
        channel.insert("title".into(), json!(c.key));
        insert_opt(&mut channel, "description", c.union.description.as_deref());
        channel.insert("messages".into(), Value::Object(channel_messages));
        if let Some(s) = c.stream {
            channel.insert("x-retention-hours".into(), json!(s.retention_hours));
            insert_opt(&mut channel, "x-partition-key", s.partition_key.as_deref());
        }
        channel_map.insert(c.key.clone(), Value::Object(channel));

        let (verb, action) = match c.action {
            Action::Send => ("send", "Publishes"),
            Action::Receive => ("receive", "Consumes"),
        };
        operations.insert(
            format!("{verb}_{}", c.key),
            json!({
                "action": verb,
                "channel": { "$ref": format!("#/channels/{}", c.key) },
                "summary": format!("{action} the `{}` stream.", c.address),
                "messages": operation_messages,
            }),
        );
    }

    for schema in schemas.values_mut() {
        discriminator_as_property_name(schema);
    }
    let mut doc = Map::new();
    doc.insert("asyncapi".into(), json!("3.0.0"));
    doc.insert("info".into(), info(&spec.service));
    doc.insert("defaultContentType".into(), json!("application/json"));
    doc.insert("channels".into(), Value::Object(channel_map));
    doc.insert("operations".into(), Value::Object(operations));
    doc.insert(
        "components".into(),
        json!({ "schemas": schemas, "messages": messages }),
    );
    Value::Object(doc)
}

/// The service's own streams, then the ones it consumes.
fn channels(spec: &Spec) -> Vec<Channel<'_>> {
    let service = &spec.service;
    let own = service.streams().map(|(union, stream)| {
        let union_type = service.named(TypeKind::Union, &union.name);
        Channel {
            key: openapi::component_name(spec, &union_type),
            address: &stream.name,
            union_type,
            union,
            stream: Some(stream),
            action: Action::Send,
        }
    });
    // The loader resolved every consumed union; one that did not resolve has no messages to describe.
    let consumed = service.blueprint.consumes.iter().filter_map(|c| {
        let union = spec.resolve_union(&c.type_)?;
        Some(Channel {
            key: openapi::component_name(spec, &c.type_),
            address: &c.stream,
            union_type: c.type_.clone(),
            union,
            stream: union.stream.as_ref(),
            action: Action::Receive,
        })
    });
    own.chain(consumed).collect()
}

/// `(wire value, message)` per member of the channel's union, in member order.
///
/// The payloads are the items of the union schema's `oneOf`, which the OpenAPI
/// export writes one per member, in member order.
fn member_payloads(schemas: &Map<String, Value>, c: &Channel<'_>) -> Vec<(String, Value)> {
    let items = schemas
        .get(&c.key)
        .and_then(|u| u.get("oneOf"))
        .and_then(Value::as_array);
    c.union
        .types
        .iter()
        .enumerate()
        .map(|(i, member)| {
            let wire = member.wire_value(&c.union_type.namespace);
            let mut message = Map::new();
            message.insert("name".into(), json!(wire));
            message.insert(
                "title".into(),
                json!(member.type_.display_in(&c.union_type.namespace)),
            );
            insert_opt(&mut message, "summary", member.description.as_deref());
            message.insert("contentType".into(), json!("application/json"));
            let payload = items.and_then(|items| items.get(i)).cloned();
            message.insert("payload".into(), payload.unwrap_or_else(|| json!({})));
            if let Some(disc) = &c.union.discriminator {
                message.insert(
                    "x-discriminator".into(),
                    json!({ "propertyName": disc, "value": wire }),
                );
            }
            (wire, Value::Object(message))
        })
        .collect()
}

fn info(service: &Service) -> Value {
    let mut info = Map::new();
    info.insert("title".into(), json!(service.name));
    info.insert("version".into(), json!(service.version));
    insert_opt(&mut info, "description", service.description.as_deref());
    if let Some(c) = &service.info.contact {
        let mut contact = Map::new();
        insert_opt(&mut contact, "name", c.name.as_deref());
        insert_opt(&mut contact, "url", c.url.as_deref());
        insert_opt(&mut contact, "email", c.email.as_deref());
        info.insert("contact".into(), Value::Object(contact));
    }
    if let Some(l) = &service.info.license {
        let mut license = Map::new();
        license.insert("name".into(), json!(l.name));
        insert_opt(&mut license, "url", l.url.as_deref());
        info.insert("license".into(), Value::Object(license));
    }
    Value::Object(info)
}

/// AsyncAPI Schema's `discriminator` is the property name; OpenAPI's is an object.
/// Rewrites every schema position under `schema` (not property names that happen
/// to be called `discriminator`).
fn discriminator_as_property_name(schema: &mut Value) {
    let Value::Object(s) = schema else {
        return;
    };
    if let Some(name) = s
        .get("discriminator")
        .and_then(|d| d.get("propertyName"))
        .cloned()
    {
        s.insert("discriminator".into(), name);
    }
    if let Some(Value::Object(properties)) = s.get_mut("properties") {
        properties
            .values_mut()
            .for_each(discriminator_as_property_name);
    }
    for key in ["items", "additionalProperties"] {
        if let Some(inner) = s.get_mut(key) {
            discriminator_as_property_name(inner);
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(Value::Array(items)) = s.get_mut(key) {
            items.iter_mut().for_each(discriminator_as_property_name);
        }
    }
}

/// A map key AsyncAPI accepts (`[A-Za-z0-9._-]`); other characters become `_`.
fn clean_key(s: &str) -> String {
    let key: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if key.is_empty() { "_".into() } else { key }
}

/// `key`, or `key_2`, `key_3`... when cleaning made two wire values alike.
fn unique_key(taken: &Map<String, Value>, key: &str) -> String {
    if !taken.contains_key(key) {
        return key.to_string();
    }
    (2..)
        .map(|n| format!("{key}_{n}"))
        .find(|k| !taken.contains_key(k))
        .unwrap_or_else(|| key.to_string())
}

fn insert_opt(map: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(v) = value {
        map.insert(key.into(), json!(v));
    }
}
