//! Which direction each type travels in: sent by clients (request bodies and
//! parameters), sent to clients (responses), or stored and replayed (events).
//!
//! Whether a change breaks anyone depends on it: a field becoming optional is fine
//! for what clients send but breaks clients reading responses and consumers reading
//! events. Types no operation or stream reaches (a library of shared models that
//! other services import) count as both request and response.

use std::collections::{BTreeSet, HashMap};

use blueprint_spec::Spec;
use blueprint_spec::ir::{TypeDef, TypeRef};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    pub request: bool,
    pub response: bool,
    /// Stream names (`<namespace>.<union>.json`) whose events contain the type.
    pub streams: BTreeSet<String>,
}

impl Usage {
    /// What a type no operation or stream reaches is assumed to be.
    fn unreached() -> Usage {
        Usage {
            request: true,
            response: true,
            streams: BTreeSet::new(),
        }
    }

    pub fn is_event(&self) -> bool {
        !self.streams.is_empty()
    }

    /// Read by someone other than its writer: responses and events.
    pub fn is_read_by_clients(&self) -> bool {
        self.response || self.is_event()
    }

    pub fn merge(&mut self, other: &Usage) {
        self.request |= other.request;
        self.response |= other.response;
        self.streams.extend(other.streams.iter().cloned());
    }
}

#[derive(Debug, Clone, Copy)]
enum Root<'a> {
    Request,
    Response,
    Stream(&'a str),
}

/// Usage of every type, keyed by the type as written in its spec (local types by
/// name, imported ones fully qualified) so the old and new specs' keys line up even
/// when the local namespace changed.
#[derive(Debug, Default)]
pub struct UsageMap {
    by_type: HashMap<String, Usage>,
}

impl UsageMap {
    pub fn of(spec: &Spec) -> UsageMap {
        let mut map = UsageMap::default();
        let ns = spec.service.namespace.as_str();
        let service = &spec.service;
        for (_, op) in service.operations() {
            for p in &op.parameters {
                map.walk(spec, ns, &p.type_, Root::Request);
            }
            if let Some(body) = &op.body {
                map.walk(spec, ns, &body.type_, Root::Request);
            }
            for r in &op.responses {
                map.walk(spec, ns, &r.type_, Root::Response);
            }
        }
        for u in &service.unions {
            if let Some(stream) = stream_name(ns, u) {
                let t = TypeRef::Named(service.named(blueprint_spec::ir::TypeKind::Union, &u.name));
                map.walk(spec, ns, &t, Root::Stream(&stream));
            }
        }
        map
    }

    pub fn merge(&mut self, other: UsageMap) {
        for (k, v) in other.by_type {
            self.by_type.entry(k).or_default().merge(&v);
        }
    }

    /// Usage of a type by its key (see [`UsageMap`]).
    pub fn get(&self, key: &str) -> Usage {
        self.by_type
            .get(key)
            .cloned()
            .unwrap_or_else(Usage::unreached)
    }

    pub fn is_reached(&self, key: &str) -> bool {
        self.by_type.contains_key(key)
    }

    fn walk(&mut self, spec: &Spec, ns: &str, t: &TypeRef, root: Root<'_>) {
        let TypeRef::Named(named) = t.element() else {
            return;
        };
        let key = t.element().display_in(ns);
        let usage = self.by_type.entry(key).or_default();
        let first_visit = match root {
            Root::Request => !std::mem::replace(&mut usage.request, true),
            Root::Response => !std::mem::replace(&mut usage.response, true),
            Root::Stream(s) => usage.streams.insert(s.to_string()),
        };
        if !first_visit {
            return;
        }
        match spec.resolve(named) {
            Some(TypeDef::Model(m)) => {
                for f in &m.fields {
                    self.walk(spec, ns, &f.type_, root);
                }
            }
            Some(TypeDef::Interface(i)) => {
                for f in &i.fields {
                    self.walk(spec, ns, &f.type_, root);
                }
            }
            Some(TypeDef::Union(u)) => {
                for member in &u.types {
                    self.walk(spec, ns, &member.type_, root);
                }
            }
            Some(TypeDef::Enum(_)) | None => {}
        }
    }
}

/// The stream a union is, if it is one: the loader marks `*_event` unions.
pub fn stream_name(namespace: &str, u: &blueprint_spec::ir::Union) -> Option<String> {
    match &u.stream {
        Some(s) => Some(s.name.clone()),
        None if u.name.ends_with("_event") => Some(format!("{namespace}.{}.json", u.name)),
        None => None,
    }
}
