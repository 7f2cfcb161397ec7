//! The walk: pair up the elements of two specs by identity and classify each difference.
//!
//! Identity is what a client binds to: types, fields, parameters and enum values by
//! name, union members by type, operations by method and path (path parameters by
//! position), responses by status code. Types are compared as the spec writes them,
//! local ones unqualified, so moving the whole service to a new namespace does not
//! make every field "change type".
//!
//! One file per part of a spec: [`service`] (namespace, metadata, headers,
//! imports), [`types`] (models, enums, unions, streams), [`members`] (fields,
//! parameters and headers: one set of rules), [`operations`] (resources, bodies,
//! responses, auth), [`metadata`] (descriptions, deprecations, attributes: never
//! breaking).

mod members;
mod metadata;
mod operations;
mod service;
mod types;

use blueprint_spec::ir::TypeRef;
use blueprint_spec::{Span, Spec};

use crate::category::{Category, Scope};
use crate::usage::{Usage, UsageMap};
use crate::{Change, ChangeKind};

pub(crate) fn changes(old: &Spec, new: &Spec) -> Vec<Change> {
    let mut usage = UsageMap::of(old);
    usage.merge(UsageMap::of(new));
    let mut d = Differ {
        old_ns: &old.service.namespace,
        new_ns: &new.service.namespace,
        usage,
        changes: Vec::new(),
    };
    d.service(&old.service, &new.service);
    d.types(&old.service, &new.service, true);
    // Imported types matter where this service's API or streams reach them: an
    // import bumped to a version whose `money` changed changes our wire format too.
    for old_import in &old.imports {
        if old_import.namespace == old.service.namespace {
            continue;
        }
        if let Some(new_import) = new
            .imports
            .iter()
            .find(|s| s.namespace == old_import.namespace)
        {
            d.types(old_import, new_import, false);
        }
    }
    d.resources(&old.service, &new.service);
    d.changes
}

/// Where a change is, in both versions.
#[derive(Debug, Clone, Copy, Default)]
struct Loc {
    old: Option<Span>,
    new: Option<Span>,
}

impl Loc {
    fn both(old: Span, new: Span) -> Loc {
        Loc {
            old: Some(old),
            new: Some(new),
        }
    }
    fn old(old: Span) -> Loc {
        Loc {
            old: Some(old),
            new: None,
        }
    }
    /// A removed element: where it was, and where its parent, which no longer has
    /// it, is in the new version.
    fn removed(old: Span, parent: Option<Span>) -> Loc {
        Loc {
            old: Some(old),
            new: parent,
        }
    }
    fn new(new: Span) -> Loc {
        Loc {
            old: None,
            new: Some(new),
        }
    }
}

/// The type whose insides are being compared: its path, label, and usage.
#[derive(Debug, Clone)]
struct Owner {
    path: String,
    /// `model user`, `operation GET /users`
    label: String,
    usage: Usage,
    /// The second audience of a type (see [`Owner::audiences`]): what does not
    /// depend on the audience (docs, plurals) was reported with the first.
    repeat: bool,
}

impl Owner {
    fn new(path: impl Into<String>, label: impl Into<String>, usage: Usage) -> Owner {
        Owner {
            path: path.into(),
            label: label.into(),
            usage,
            repeat: false,
        }
    }

    /// A part of this owner (an enum value, a field, a body): read and written
    /// wherever the owner is.
    fn child(&self, path: impl Into<String>, label: impl Into<String>) -> Owner {
        Owner {
            path: path.into(),
            label: label.into(),
            ..self.clone()
        }
    }

    /// This owner once per audience judged by its own rules: API clients (requests
    /// and responses) and stream consumers. A type both reach is compared for each,
    /// so removing a field both read is a `field-removed` and an `event-field-removed`.
    fn audiences(self) -> Vec<Owner> {
        let api = self.usage.request || self.usage.response;
        if !(api && self.usage.is_event()) {
            return vec![self];
        }
        let events = Owner {
            usage: Usage {
                request: false,
                response: false,
                streams: self.usage.streams.clone(),
            },
            repeat: true,
            ..self.clone()
        };
        let clients = Owner {
            usage: Usage {
                streams: Default::default(),
                ..self.usage
            },
            ..self
        };
        vec![clients, events]
    }

    fn scope(&self) -> Scope {
        if self.usage.is_event() {
            Scope::Event
        } else {
            Scope::Api
        }
    }

    fn streams(&self) -> String {
        self.usage
            .streams
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

struct Differ<'a> {
    old_ns: &'a str,
    new_ns: &'a str,
    usage: UsageMap,
    changes: Vec<Change>,
}

impl Differ<'_> {
    #[allow(clippy::too_many_arguments)] // one call shape for every emission site
    fn push(
        &mut self,
        kind: ChangeKind,
        scope: Scope,
        category: Category,
        path: impl Into<String>,
        message: impl Into<String>,
        loc: Loc,
    ) {
        self.changes.push(Change {
            kind,
            scope,
            category,
            path: path.into(),
            message: message.into(),
            old_span: loc.old,
            new_span: loc.new,
            allowed: None,
        });
    }

    fn old_type(&self, t: &TypeRef) -> String {
        t.display_in(self.old_ns)
    }

    fn new_type(&self, t: &TypeRef) -> String {
        t.display_in(self.new_ns)
    }

    fn same_type(&self, old: &TypeRef, new: &TypeRef) -> bool {
        self.old_type(old) == self.new_type(new)
    }
}

/// How one element of a list keyed by name differs between two versions.
#[derive(Debug)]
enum Edit<'a, T> {
    Removed(&'a T),
    Changed(&'a T, &'a T),
    Added(&'a T),
}

/// The edits between two lists whose elements pair up by `key`: removals and
/// changes (by `differ`) in old order, then additions in new order.
fn edits<'a, T>(
    old: &'a [T],
    new: &'a [T],
    key: impl Fn(&T) -> &str,
    differ: impl Fn(&T, &T) -> bool,
) -> Vec<Edit<'a, T>> {
    let mut out = Vec::new();
    for a in old {
        match new.iter().find(|b| key(b) == key(a)) {
            None => out.push(Edit::Removed(a)),
            Some(b) if differ(a, b) => out.push(Edit::Changed(a, b)),
            Some(_) => {}
        }
    }
    for b in new.iter().filter(|b| !old.iter().any(|a| key(a) == key(b))) {
        out.push(Edit::Added(b));
    }
    out
}

fn event_note(owner: &Owner, what: &str) -> String {
    if owner.usage.is_event() {
        format!("; {what} ({})", owner.streams())
    } else {
        String::new()
    }
}

fn join_path(base: &str, sub: &str) -> String {
    if base.is_empty() {
        sub.to_string()
    } else {
        format!("{base}.{sub}")
    }
}
