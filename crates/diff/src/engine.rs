//! The walk: pair up the elements of two specs by identity and classify each difference.
//!
//! Identity is what a client binds to: types, fields, parameters and enum values by
//! name, union members by type, operations by method and path (path parameters by
//! position), responses by status code. Types are compared as the spec writes them,
//! local ones unqualified, so moving the whole service to a new namespace does not
//! make every field "change type".

use std::collections::BTreeSet;

use blueprint_spec::Span;
use blueprint_spec::Spec;
use blueprint_spec::ir::{
    Attribute, AuthRule, Bound, Deprecation, Enum, Field, Header, Interface, Model, Operation,
    Parameter, ParameterLocation, Primitive, Resource, Service, Stream, TypeKind, TypeRef, Union,
};

use crate::category::{Category, Scope};
use crate::usage::{Usage, UsageMap, stream_name};
use crate::{Change, ChangeKind};

use ChangeKind::{Breaking, NonBreaking};

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
}

impl Owner {
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

    // -- service --------------------------------------------------------------

    fn service(&mut self, old: &Service, new: &Service) {
        let loc = Loc::both(old.span, new.span);
        if old.namespace != new.namespace {
            self.push(
                Breaking,
                Scope::Api,
                Category::NamespaceChanged,
                "namespace",
                format!(
                    "namespace changed from `{}` to `{}`: generated types and stream names move",
                    old.namespace, new.namespace
                ),
                loc,
            );
        }
        let meta = [
            ("name", Some(&old.name), Some(&new.name)),
            (
                "organization",
                old.organization.as_ref(),
                new.organization.as_ref(),
            ),
            (
                "application",
                Some(&old.application),
                Some(&new.application),
            ),
            ("version", Some(&old.version), Some(&new.version)),
            ("base_url", old.base_url.as_ref(), new.base_url.as_ref()),
        ];
        for (what, a, b) in meta {
            if let Some(message) = text_change(what, a.map(String::as_str), b.map(String::as_str)) {
                let cat = Category::ServiceMetadataChanged;
                self.push(NonBreaking, Scope::Api, cat, what, message, loc);
            }
        }
        if old.info != new.info {
            let cat = Category::ServiceMetadataChanged;
            self.push(
                NonBreaking,
                Scope::Api,
                cat,
                "info",
                "info (contact, license) changed",
                loc,
            );
        }
        let owner = Owner {
            path: String::new(),
            label: "service".into(),
            usage: Usage::default(),
        };
        self.docs(
            &owner,
            old.description.as_deref(),
            new.description.as_deref(),
            None,
            None,
            loc,
        );
        self.attributes(&owner, &old.attributes, &new.attributes, loc);

        let headers = Owner {
            path: String::new(),
            label: "service".into(),
            usage: Usage {
                request: true,
                ..Usage::default()
            },
        };
        let old_h: Vec<Member> = old.headers.iter().map(Member::header).collect();
        let new_h: Vec<Member> = new.headers.iter().map(Member::header).collect();
        self.members(MemberKind::Header, &headers, &old_h, &new_h, Loc::default());

        for i in &old.imports {
            match new.imports.iter().find(|n| n.uri == i.uri) {
                None => self.push(
                    NonBreaking,
                    Scope::Api,
                    Category::ImportChanged,
                    format!("imports.{}", i.uri),
                    format!("import `{}` removed", i.uri),
                    Loc {
                        old: Some(i.span),
                        new: Some(new.span),
                    },
                ),
                Some(n) if n.version != i.version || n.namespace != i.namespace => self.push(
                    NonBreaking,
                    Scope::Api,
                    Category::ImportChanged,
                    format!("imports.{}", i.uri),
                    format!(
                        "import `{}` changed from {} {} to {} {}",
                        i.uri, i.namespace, i.version, n.namespace, n.version
                    ),
                    Loc::both(i.span, n.span),
                ),
                Some(_) => {}
            }
        }
        for n in new
            .imports
            .iter()
            .filter(|n| !old.imports.iter().any(|i| i.uri == n.uri))
        {
            self.push(
                NonBreaking,
                Scope::Api,
                Category::ImportChanged,
                format!("imports.{}", n.uri),
                format!("import `{}` added", n.uri),
                Loc::new(n.span),
            );
        }

        let consumed = |s: &Service| -> Vec<String> {
            s.blueprint
                .consumes
                .iter()
                .map(|c| c.stream.clone())
                .collect()
        };
        let (was, now) = (consumed(old), consumed(new));
        for stream in was.iter().filter(|s| !now.contains(s)) {
            let message = format!("no longer consumes stream `{stream}`");
            let path = format!("consumes.{stream}");
            self.push(
                NonBreaking,
                Scope::Api,
                Category::ConsumesChanged,
                path,
                message,
                loc,
            );
        }
        for c in new
            .blueprint
            .consumes
            .iter()
            .filter(|c| !was.contains(&c.stream))
        {
            let message = format!("now consumes stream `{}`", c.stream);
            let path = format!("consumes.{}", c.stream);
            self.push(
                NonBreaking,
                Scope::Api,
                Category::ConsumesChanged,
                path,
                message,
                Loc::new(c.span),
            );
        }

        for a in &old.annotations {
            match new.annotations.iter().find(|n| n.name == a.name) {
                None => self.push(
                    NonBreaking,
                    Scope::Api,
                    Category::AnnotationChanged,
                    format!("annotations.{}", a.name),
                    format!("annotation `{}` removed", a.name),
                    Loc::old(a.span),
                ),
                Some(n) if n != a => self.push(
                    NonBreaking,
                    Scope::Api,
                    Category::AnnotationChanged,
                    format!("annotations.{}", a.name),
                    format!("annotation `{}` changed", a.name),
                    Loc::both(a.span, n.span),
                ),
                Some(_) => {}
            }
        }
        for n in new
            .annotations
            .iter()
            .filter(|n| !old.annotations.iter().any(|a| a.name == n.name))
        {
            self.push(
                NonBreaking,
                Scope::Api,
                Category::AnnotationChanged,
                format!("annotations.{}", n.name),
                format!("annotation `{}` added", n.name),
                Loc::new(n.span),
            );
        }
    }

    // -- types ----------------------------------------------------------------

    /// Compare the type definitions of one service (`local`) or one import.
    fn types(&mut self, old: &Service, new: &Service, local: bool) {
        let prefix = if local {
            String::new()
        } else {
            format!("{}.", old.namespace)
        };
        macro_rules! each_kind {
            ($field:ident, $kind:expr, $diff:ident) => {
                for o in &old.$field {
                    let key = self.type_key(old, local, $kind, &o.name);
                    if !local && !self.usage.is_reached(&key) {
                        continue;
                    }
                    let owner = Owner {
                        path: format!("{prefix}{}.{}", $kind.plural(), o.name),
                        label: format!("{} `{}`", kind_label($kind), key),
                        usage: self.usage.get(&key),
                    };
                    match new.$field.iter().find(|n| n.name == o.name) {
                        Some(n) => self.$diff(&owner, o, n),
                        None => self.type_removed(&owner, o.span),
                    }
                }
                if local {
                    for n in new
                        .$field
                        .iter()
                        .filter(|n| !old.$field.iter().any(|o| o.name == n.name))
                    {
                        self.push(
                            NonBreaking,
                            Scope::Api,
                            Category::TypeAdded,
                            format!("{prefix}{}.{}", $kind.plural(), n.name),
                            format!("{} `{}` added", kind_label($kind), n.name),
                            Loc::new(n.span),
                        );
                    }
                }
            };
        }
        each_kind!(enums, TypeKind::Enum, enum_);
        each_kind!(interfaces, TypeKind::Interface, interface);
        each_kind!(models, TypeKind::Model, model);
        each_kind!(unions, TypeKind::Union, union);
    }

    /// The usage key of a type: as the referencing spec writes it.
    fn type_key(&self, service: &Service, local: bool, kind: TypeKind, name: &str) -> String {
        if local {
            name.to_string()
        } else {
            service.named(kind, name).qualified()
        }
    }

    fn type_removed(&mut self, owner: &Owner, old_span: Span) {
        let mut message = format!("{} removed", owner.label);
        if owner.usage.is_event() {
            message.push_str(&format!(
                "; consumers of {} can no longer read events that contain it",
                owner.streams()
            ));
        }
        let loc = Loc::old(old_span);
        self.push(
            Breaking,
            owner.scope(),
            Category::TypeRemoved,
            &owner.path,
            message,
            loc,
        );
    }

    fn model(&mut self, owner: &Owner, old: &Model, new: &Model) {
        let loc = Loc::both(old.span, new.span);
        self.common(
            owner,
            &old.plural,
            &new.plural,
            old.description.as_deref(),
            new.description.as_deref(),
            old.deprecation.as_ref(),
            new.deprecation.as_ref(),
            &old.attributes,
            &new.attributes,
            loc,
        );
        self.implements(owner, &old.interfaces, &new.interfaces, loc);
        let old_f: Vec<Member> = old.fields.iter().map(Member::field).collect();
        let new_f: Vec<Member> = new.fields.iter().map(Member::field).collect();
        self.members(MemberKind::Field, owner, &old_f, &new_f, loc);
    }

    fn interface(&mut self, owner: &Owner, old: &Interface, new: &Interface) {
        let loc = Loc::both(old.span, new.span);
        self.common(
            owner,
            &old.plural,
            &new.plural,
            old.description.as_deref(),
            new.description.as_deref(),
            old.deprecation.as_ref(),
            new.deprecation.as_ref(),
            &old.attributes,
            &new.attributes,
            loc,
        );
        let old_f: Vec<Member> = old.fields.iter().map(Member::field).collect();
        let new_f: Vec<Member> = new.fields.iter().map(Member::field).collect();
        self.members(MemberKind::Field, owner, &old_f, &new_f, loc);
    }

    fn enum_(&mut self, owner: &Owner, old: &Enum, new: &Enum) {
        let loc = Loc::both(old.span, new.span);
        self.common(
            owner,
            &old.plural,
            &new.plural,
            old.description.as_deref(),
            new.description.as_deref(),
            old.deprecation.as_ref(),
            new.deprecation.as_ref(),
            &old.attributes,
            &new.attributes,
            loc,
        );
        let scope = owner.scope();
        // A value renamed in the spec but written the same on the wire is not a
        // wire change; pair those up first so they are not "removed" + "added".
        let renamed: Vec<(&str, &str)> = old
            .values
            .iter()
            .filter(|o| !new.values.iter().any(|n| n.name == o.name))
            .filter_map(|o| {
                new.values
                    .iter()
                    .find(|n| n.wire() == o.wire() && !old.values.iter().any(|x| x.name == n.name))
                    .map(|n| (o.name.as_str(), n.name.as_str()))
            })
            .collect();
        for o in &old.values {
            let path = format!("{}.values.{}", owner.path, o.name);
            match new.values.iter().find(|n| n.name == o.name) {
                Some(n) => {
                    let vloc = Loc::both(o.span, n.span);
                    if o.wire() != n.wire() {
                        let message = format!(
                            "{} value `{}` is now written `{}` on the wire instead of `{}`{}",
                            owner.label,
                            o.name,
                            n.wire(),
                            o.wire(),
                            event_note(owner, "stored events still carry the old value")
                        );
                        self.push(
                            Breaking,
                            scope,
                            Category::EnumValueWireChanged,
                            &path,
                            message,
                            vloc,
                        );
                    }
                    let vowner = Owner {
                        path: path.clone(),
                        label: format!("{} value `{}`", owner.label, o.name),
                        usage: owner.usage.clone(),
                    };
                    self.docs(
                        &vowner,
                        o.description.as_deref(),
                        n.description.as_deref(),
                        None,
                        None,
                        vloc,
                    );
                    self.deprecation(
                        &vowner,
                        o.deprecation.as_ref(),
                        n.deprecation.as_ref(),
                        vloc,
                    );
                    self.attributes(&vowner, &o.attributes, &n.attributes, vloc);
                }
                None => match renamed.iter().find(|(from, _)| *from == o.name) {
                    Some((_, to)) => {
                        let n_span = new.values.iter().find(|n| n.name == *to).map(|n| n.span);
                        let message = format!(
                            "{} value `{}` renamed to `{to}`; the wire value `{}` is unchanged",
                            owner.label,
                            o.name,
                            o.wire()
                        );
                        let vloc = Loc {
                            old: Some(o.span),
                            new: n_span,
                        };
                        self.push(
                            NonBreaking,
                            scope,
                            Category::EnumValueRenamed,
                            &path,
                            message,
                            vloc,
                        );
                    }
                    None => {
                        let message = format!(
                            "{} value `{}` removed{}",
                            owner.label,
                            o.name,
                            event_note(owner, "stored events that carry it no longer decode")
                        );
                        let vloc = Loc {
                            old: Some(o.span),
                            new: Some(new.span),
                        };
                        self.push(
                            Breaking,
                            scope,
                            Category::EnumValueRemoved,
                            &path,
                            message,
                            vloc,
                        );
                    }
                },
            }
        }
        for n in &new.values {
            let is_new = !old.values.iter().any(|o| o.name == n.name);
            if is_new && !renamed.iter().any(|(_, to)| *to == n.name) {
                let mut message = format!("{} value `{}` added", owner.label, n.name);
                if owner.usage.is_read_by_clients() {
                    message.push_str(" (readers must tolerate values they do not know)");
                }
                let path = format!("{}.values.{}", owner.path, n.name);
                self.push(
                    NonBreaking,
                    scope,
                    Category::EnumValueAdded,
                    path,
                    message,
                    Loc::new(n.span),
                );
            }
        }
    }

    fn union(&mut self, owner: &Owner, old: &Union, new: &Union) {
        let loc = Loc::both(old.span, new.span);
        let scope = owner.scope();
        match (&old.discriminator, &new.discriminator) {
            (None, Some(d)) => {
                let message = format!(
                    "{} now has discriminator `{d}`: members are written flattened instead of wrapped",
                    owner.label
                );
                let path = format!("{}.discriminator", owner.path);
                self.push(
                    Breaking,
                    scope,
                    Category::DiscriminatorAdded,
                    path,
                    message,
                    loc,
                );
            }
            (Some(d), None) => {
                let message = format!(
                    "{} lost discriminator `{d}`: members are written wrapped instead of flattened",
                    owner.label
                );
                let path = format!("{}.discriminator", owner.path);
                self.push(
                    Breaking,
                    scope,
                    Category::DiscriminatorRemoved,
                    path,
                    message,
                    loc,
                );
            }
            (Some(a), Some(b)) if a != b => {
                let message = format!("{} discriminator renamed from `{a}` to `{b}`", owner.label);
                let path = format!("{}.discriminator", owner.path);
                self.push(
                    Breaking,
                    scope,
                    Category::DiscriminatorChanged,
                    path,
                    message,
                    loc,
                );
            }
            _ => {}
        }
        self.implements(owner, &old.interfaces, &new.interfaces, loc);
        self.common(
            owner,
            &old.plural,
            &new.plural,
            old.description.as_deref(),
            new.description.as_deref(),
            old.deprecation.as_ref(),
            new.deprecation.as_ref(),
            &old.attributes,
            &new.attributes,
            loc,
        );

        let old_default = old.default_type().map(|t| self.old_type(&t.type_));
        let new_default = new.default_type().map(|t| self.new_type(&t.type_));
        let path = format!("{}.default", owner.path);
        match (&old_default, &new_default) {
            (None, Some(b)) => {
                let message = format!("{} default type set to `{b}`", owner.label);
                self.push(
                    NonBreaking,
                    scope,
                    Category::UnionDefaultAdded,
                    path,
                    message,
                    loc,
                );
            }
            (Some(a), None) => {
                let message = format!(
                    "{} default type `{a}` removed: payloads without a discriminator no longer decode",
                    owner.label
                );
                self.push(
                    Breaking,
                    scope,
                    Category::UnionDefaultChanged,
                    path,
                    message,
                    loc,
                );
            }
            (Some(a), Some(b)) if a != b => {
                let message = format!("{} default type changed from `{a}` to `{b}`", owner.label);
                self.push(
                    Breaking,
                    scope,
                    Category::UnionDefaultChanged,
                    path,
                    message,
                    loc,
                );
            }
            _ => {}
        }

        if let (Some(a), Some(b)) = (&old.stream, &new.stream) {
            self.stream(owner, a, b, loc);
        }
        let is_stream = stream_name(self.new_ns, new).is_some();
        for o in &old.types {
            let name = self.old_type(&o.type_);
            let path = format!("{}.types.{name}", owner.path);
            match new
                .types
                .iter()
                .find(|n| self.same_type(&o.type_, &n.type_))
            {
                Some(n) => {
                    let (a, b) = (o.wire_value(self.old_ns), n.wire_value(self.new_ns));
                    let tloc = Loc::both(o.span, n.span);
                    if a != b {
                        let message = format!(
                            "{} member `{name}` is now tagged `{b}` on the wire instead of `{a}`{}",
                            owner.label,
                            event_note(owner, "stored events carry the old tag")
                        );
                        self.push(
                            Breaking,
                            scope,
                            Category::UnionDiscriminatorValueChanged,
                            &path,
                            message,
                            tloc,
                        );
                    }
                    let towner = Owner {
                        path: path.clone(),
                        label: format!("{} member `{name}`", owner.label),
                        usage: owner.usage.clone(),
                    };
                    self.docs(
                        &towner,
                        o.description.as_deref(),
                        n.description.as_deref(),
                        None,
                        None,
                        tloc,
                    );
                    self.deprecation(
                        &towner,
                        o.deprecation.as_ref(),
                        n.deprecation.as_ref(),
                        tloc,
                    );
                    self.attributes(&towner, &o.attributes, &n.attributes, tloc);
                }
                None => {
                    let message = if is_stream {
                        format!(
                            "event type `{name}` removed from stream {}: consumers can no longer read events of this type already stored",
                            owner.streams()
                        )
                    } else {
                        format!("{} member `{name}` removed", owner.label)
                    };
                    let tloc = Loc {
                        old: Some(o.span),
                        new: Some(new.span),
                    };
                    self.push(
                        Breaking,
                        scope,
                        Category::UnionTypeRemoved,
                        path,
                        message,
                        tloc,
                    );
                }
            }
        }
        for n in &new.types {
            if !old.types.iter().any(|o| self.same_type(&o.type_, &n.type_)) {
                let name = self.new_type(&n.type_);
                let message = if is_stream {
                    format!("event type `{name}` added (consumers skip types they do not know)")
                } else {
                    format!("{} member `{name}` added", owner.label)
                };
                let path = format!("{}.types.{name}", owner.path);
                self.push(
                    NonBreaking,
                    scope,
                    Category::UnionTypeAdded,
                    path,
                    message,
                    Loc::new(n.span),
                );
            }
        }
    }

    fn stream(&mut self, owner: &Owner, old: &Stream, new: &Stream, loc: Loc) {
        let scope = owner.scope();
        if old.partition_key != new.partition_key {
            let show = |k: &Option<String>| {
                k.as_deref()
                    .map_or("none".to_string(), |k| format!("`{k}`"))
            };
            let message = format!(
                "stream `{}` partition key changed from {} to {}: events of one key may now be read out of order",
                new.name,
                show(&old.partition_key),
                show(&new.partition_key)
            );
            let path = format!("{}.stream.partition_key", owner.path);
            self.push(
                Breaking,
                scope,
                Category::StreamPartitionKeyChanged,
                path,
                message,
                loc,
            );
        }
        let path = format!("{}.stream.retention_hours", owner.path);
        let (a, b) = (old.retention_hours, new.retention_hours);
        if b < a {
            let message = format!(
                "stream `{}` retention lowered from {a}h to {b}h: consumers down for longer than that lose events",
                new.name
            );
            self.push(
                Breaking,
                scope,
                Category::StreamRetentionLowered,
                path,
                message,
                loc,
            );
        } else if b > a {
            let message = format!("stream `{}` retention raised from {a}h to {b}h", new.name);
            self.push(
                NonBreaking,
                scope,
                Category::StreamRetentionRaised,
                path,
                message,
                loc,
            );
        }
    }

    fn implements(&mut self, owner: &Owner, old: &[String], new: &[String], loc: Loc) {
        let added: Vec<&String> = new.iter().filter(|i| !old.contains(i)).collect();
        let removed: Vec<&String> = old.iter().filter(|i| !new.contains(i)).collect();
        if added.is_empty() && removed.is_empty() {
            return;
        }
        let list = |v: &[&String]| {
            v.iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut parts = Vec::new();
        if !added.is_empty() {
            parts.push(format!("now implements {}", list(&added)));
        }
        if !removed.is_empty() {
            parts.push(format!("no longer implements {}", list(&removed)));
        }
        let message = format!("{} {}", owner.label, parts.join(" and "));
        let path = format!("{}.interfaces", owner.path);
        self.push(
            Breaking,
            owner.scope(),
            Category::ImplementsChanged,
            path,
            message,
            loc,
        );
    }

    #[allow(clippy::too_many_arguments)] // the shared parts of every type definition
    fn common(
        &mut self,
        owner: &Owner,
        old_plural: &str,
        new_plural: &str,
        old_desc: Option<&str>,
        new_desc: Option<&str>,
        old_dep: Option<&Deprecation>,
        new_dep: Option<&Deprecation>,
        old_attrs: &[Attribute],
        new_attrs: &[Attribute],
        loc: Loc,
    ) {
        if old_plural != new_plural {
            let message = format!(
                "{} plural changed from `{old_plural}` to `{new_plural}`",
                owner.label
            );
            let path = format!("{}.plural", owner.path);
            self.push(
                NonBreaking,
                owner.scope(),
                Category::PluralChanged,
                path,
                message,
                loc,
            );
        }
        self.docs(owner, old_desc, new_desc, None, None, loc);
        self.deprecation(owner, old_dep, new_dep, loc);
        self.attributes(owner, old_attrs, new_attrs, loc);
    }

    fn docs(
        &mut self,
        owner: &Owner,
        old_desc: Option<&str>,
        new_desc: Option<&str>,
        old_example: Option<&str>,
        new_example: Option<&str>,
        loc: Loc,
    ) {
        let sub = |s: &str| join_path(&owner.path, s);
        if old_desc != new_desc {
            let message = format!("{} description changed", owner.label);
            self.push(
                NonBreaking,
                owner.scope(),
                Category::DescriptionChanged,
                sub("description"),
                message,
                loc,
            );
        }
        if old_example != new_example {
            let message = format!("{} example changed", owner.label);
            self.push(
                NonBreaking,
                owner.scope(),
                Category::DescriptionChanged,
                sub("example"),
                message,
                loc,
            );
        }
    }

    fn deprecation(
        &mut self,
        owner: &Owner,
        old: Option<&Deprecation>,
        new: Option<&Deprecation>,
        loc: Loc,
    ) {
        let message = match (old, new) {
            (None, Some(d)) => match &d.description {
                Some(why) => format!("{} deprecated: {why}", owner.label),
                None => format!("{} deprecated", owner.label),
            },
            (Some(_), None) => format!("{} no longer deprecated", owner.label),
            _ => return,
        };
        let path = join_path(&owner.path, "deprecation");
        self.push(
            NonBreaking,
            owner.scope(),
            Category::DeprecationChanged,
            path,
            message,
            loc,
        );
    }

    fn attributes(&mut self, owner: &Owner, old: &[Attribute], new: &[Attribute], loc: Loc) {
        // Attributes with typed meaning are compared by their meaning elsewhere.
        let (old, new) = (plain_attributes(old), plain_attributes(new));
        for a in &old {
            let path = join_path(&owner.path, &format!("attributes.{}", a.name));
            match new.iter().find(|b| b.name == a.name) {
                None => {
                    let message = format!("{} attribute `{}` removed", owner.label, a.name);
                    let aloc = Loc {
                        old: Some(a.span),
                        new: loc.new,
                    };
                    self.push(
                        NonBreaking,
                        owner.scope(),
                        Category::AttributeChanged,
                        path,
                        message,
                        aloc,
                    );
                }
                Some(b)
                    if a.value != b.value
                        || a.description != b.description
                        || a.deprecation != b.deprecation =>
                {
                    let message = format!("{} attribute `{}` changed", owner.label, a.name);
                    self.push(
                        NonBreaking,
                        owner.scope(),
                        Category::AttributeChanged,
                        path,
                        message,
                        Loc::both(a.span, b.span),
                    );
                }
                Some(_) => {}
            }
        }
        for b in new.iter().filter(|b| !old.iter().any(|a| a.name == b.name)) {
            let path = join_path(&owner.path, &format!("attributes.{}", b.name));
            let message = format!("{} attribute `{}` added", owner.label, b.name);
            self.push(
                NonBreaking,
                owner.scope(),
                Category::AttributeChanged,
                path,
                message,
                Loc::new(b.span),
            );
        }
    }

    // -- fields, parameters, headers ------------------------------------------

    fn members(
        &mut self,
        kind: MemberKind,
        owner: &Owner,
        old: &[Member],
        new: &[Member],
        parent: Loc,
    ) {
        let scope = owner.scope();
        for o in old {
            let path = join_path(&owner.path, &format!("{}.{}", kind.plural(), o.name));
            let Some(n) = new.iter().find(|n| n.name == o.name) else {
                let (k, cat) = match kind {
                    // A header the server no longer reads costs clients nothing (apibuilder).
                    MemberKind::Header => (NonBreaking, Category::HeaderRemoved),
                    MemberKind::Field => (Breaking, Category::FieldRemoved),
                    MemberKind::Parameter => (Breaking, Category::ParameterRemoved),
                };
                let mut message =
                    format!("{} `{}` removed from {}", kind.label(), o.name, owner.label);
                if scope == Scope::Event {
                    message.push_str(&format!(
                        "; consumers of {} that read it break",
                        owner.streams()
                    ));
                }
                let loc = Loc {
                    old: Some(o.span),
                    new: parent.new,
                };
                self.push(k, scope, cat, path, message, loc);
                continue;
            };
            self.member(kind, owner, &path, o, n);
        }
        for n in new.iter().filter(|n| !old.iter().any(|o| o.name == n.name)) {
            let path = join_path(&owner.path, &format!("{}.{}", kind.plural(), n.name));
            let loc = Loc::new(n.span);
            if n.required && n.default.is_none() {
                let cat = kind.pick(
                    Category::FieldAddedRequired,
                    Category::ParameterAddedRequired,
                    Category::HeaderAddedRequired,
                );
                let mut message = format!(
                    "required {} `{}` added to {} without a default",
                    kind.label(),
                    n.name,
                    owner.label
                );
                if scope == Scope::Event {
                    message.push_str(&format!(
                        "; events already stored on {} lack it",
                        owner.streams()
                    ));
                } else if kind == MemberKind::Field {
                    message.push_str("; writers of the old shape omit it");
                }
                self.push(Breaking, scope, cat, path, message, loc);
            } else {
                let cat = kind.pick(
                    Category::FieldAdded,
                    Category::ParameterAdded,
                    Category::HeaderAdded,
                );
                let how = match n.default {
                    Some(d) if n.required => format!("required with default {d}"),
                    Some(d) => format!("optional, default {d}"),
                    None => "optional".into(),
                };
                let message = format!(
                    "{} `{}` added to {} ({how})",
                    kind.label(),
                    n.name,
                    owner.label
                );
                self.push(NonBreaking, scope, cat, path, message, loc);
            }
        }
    }

    fn member(&mut self, kind: MemberKind, owner: &Owner, path: &str, o: &Member, n: &Member) {
        let scope = owner.scope();
        let loc = Loc::both(o.span, n.span);
        let what = format!("{} `{}` of {}", kind.label(), o.name, owner.label);
        let (ot, nt) = (self.old_type(o.type_), self.new_type(n.type_));
        if ot != nt {
            let cat = kind.pick(
                Category::FieldTypeChanged,
                Category::ParameterTypeChanged,
                Category::HeaderTypeChanged,
            );
            let mut message = format!("{what} changed type from `{ot}` to `{nt}`");
            match (numeric_rank(o.type_), numeric_rank(n.type_)) {
                (Some(a), Some(b)) if b < a => {
                    message.push_str(" (narrowed: old values may not fit)")
                }
                (Some(a), Some(b)) if b > a => {
                    message.push_str(" (widened: old readers may not fit new values)")
                }
                _ => {}
            }
            if scope == Scope::Event {
                message.push_str(&format!(
                    "; events already stored on {} were written as `{ot}`",
                    owner.streams()
                ));
            }
            self.push(
                Breaking,
                scope,
                cat,
                format!("{path}.type"),
                message,
                Loc::both(o.type_span, n.type_span),
            );
        }
        if let (Some(a), Some(b)) = (o.location, n.location) {
            if a != b {
                let message = format!(
                    "{what} moved from {} to {}",
                    location_name(a),
                    location_name(b)
                );
                self.push(
                    Breaking,
                    scope,
                    Category::ParameterLocationChanged,
                    format!("{path}.location"),
                    message,
                    loc,
                );
            }
        }
        match (o.required, n.required) {
            (false, true) => {
                let cat = kind.pick(
                    Category::FieldNowRequired,
                    Category::ParameterNowRequired,
                    Category::HeaderNowRequired,
                );
                let mut message = format!("{what} is now required");
                if scope == Scope::Event {
                    message.push_str(&format!(
                        "; events already stored on {} may lack it",
                        owner.streams()
                    ));
                }
                self.push(
                    Breaking,
                    scope,
                    cat,
                    format!("{path}.required"),
                    message,
                    loc,
                );
            }
            (true, false) => {
                let cat = kind.pick(
                    Category::FieldNowOptional,
                    Category::ParameterNowOptional,
                    Category::HeaderNowOptional,
                );
                // Optional in what clients send is relief; in what they read it is a hole.
                let readers = kind == MemberKind::Field && owner.usage.is_read_by_clients();
                let (k, why) = if readers {
                    let who = if scope == Scope::Event {
                        "consumers of new events"
                    } else {
                        "clients reading responses"
                    };
                    (Breaking, format!("; {who} that rely on it break"))
                } else {
                    (NonBreaking, String::new())
                };
                self.push(
                    k,
                    scope,
                    cat,
                    format!("{path}.required"),
                    format!("{what} is no longer required{why}"),
                    loc,
                );
            }
            _ => {}
        }
        let dpath = format!("{path}.default");
        match (o.default, n.default) {
            (Some(a), None) => {
                let message = format!("{what} lost its default {a}: callers that omit it now fail");
                self.push(
                    Breaking,
                    scope,
                    Category::DefaultRemoved,
                    dpath,
                    message,
                    loc,
                );
            }
            (None, Some(b)) => {
                let message = format!("{what} now defaults to {b}");
                self.push(
                    NonBreaking,
                    scope,
                    Category::DefaultAdded,
                    dpath,
                    message,
                    loc,
                );
            }
            (Some(a), Some(b)) if a != b => {
                // The default is what an omitted value means: for requests and stored
                // events that meaning changes silently; readers of responses see values.
                let request_side =
                    kind != MemberKind::Field || owner.usage.request || owner.usage.is_event();
                let k = if request_side { Breaking } else { NonBreaking };
                let message =
                    format!("{what} default changed from {a} to {b}: omitted values now mean {b}");
                self.push(k, scope, Category::DefaultChanged, dpath, message, loc);
            }
            _ => {}
        }
        self.bounds(scope, path, &what, o, n, loc);
        let mowner = Owner {
            path: path.to_string(),
            label: what.clone(),
            usage: owner.usage.clone(),
        };
        self.docs(
            &mowner,
            o.description,
            n.description,
            o.example,
            n.example,
            loc,
        );
        self.deprecation(&mowner, o.deprecation, n.deprecation, loc);
        self.attributes(&mowner, o.attributes, n.attributes, loc);
    }

    fn bounds(&mut self, scope: Scope, path: &str, what: &str, o: &Member, n: &Member, loc: Loc) {
        let min_path = format!("{path}.minimum");
        match (o.minimum, n.minimum) {
            (None, Some(b)) => self.push(
                Breaking,
                scope,
                Category::MinimumRaised,
                min_path,
                format!("{what} now has minimum {b}"),
                loc,
            ),
            (Some(a), None) => self.push(
                NonBreaking,
                scope,
                Category::MinimumLowered,
                min_path,
                format!("{what} minimum {a} removed"),
                loc,
            ),
            (Some(a), Some(b)) if b.value > a.value => self.push(
                Breaking,
                scope,
                Category::MinimumRaised,
                min_path,
                format!("{what} minimum raised from {a} to {b}"),
                loc,
            ),
            (Some(a), Some(b)) if b.value < a.value => self.push(
                NonBreaking,
                scope,
                Category::MinimumLowered,
                min_path,
                format!("{what} minimum lowered from {a} to {b}"),
                loc,
            ),
            _ => {}
        }
        let max_path = format!("{path}.maximum");
        match (o.maximum, n.maximum) {
            (None, Some(b)) => self.push(
                Breaking,
                scope,
                Category::MaximumLowered,
                max_path,
                format!("{what} now has maximum {b}"),
                loc,
            ),
            (Some(a), None) => self.push(
                NonBreaking,
                scope,
                Category::MaximumRaised,
                max_path,
                format!("{what} maximum {a} removed"),
                loc,
            ),
            (Some(a), Some(b)) if b.value < a.value => self.push(
                Breaking,
                scope,
                Category::MaximumLowered,
                max_path,
                format!("{what} maximum lowered from {a} to {b}"),
                loc,
            ),
            (Some(a), Some(b)) if b.value > a.value => self.push(
                NonBreaking,
                scope,
                Category::MaximumRaised,
                max_path,
                format!("{what} maximum raised from {a} to {b}"),
                loc,
            ),
            _ => {}
        }
    }

    // -- resources and operations ----------------------------------------------

    fn resources(&mut self, old: &Service, new: &Service) {
        for o in &old.resources {
            let name = self.old_type(&o.type_);
            let owner = Owner {
                path: format!("resources.{name}"),
                label: format!("resource `{name}`"),
                usage: Usage::default(),
            };
            let Some(n) = new
                .resources
                .iter()
                .find(|n| self.same_type(&o.type_, &n.type_))
            else {
                let ops: Vec<String> = o
                    .operations
                    .iter()
                    .map(|op| format!("{} {}", op.method, op.path))
                    .collect();
                let message = format!(
                    "resource `{name}` removed with its operations: {}",
                    ops.join(", ")
                );
                let loc = Loc::old(o.span);
                self.push(
                    Breaking,
                    Scope::Api,
                    Category::ResourceRemoved,
                    owner.path,
                    message,
                    loc,
                );
                continue;
            };
            self.resource(&owner, o, n);
        }
        for n in &new.resources {
            if !old
                .resources
                .iter()
                .any(|o| self.same_type(&o.type_, &n.type_))
            {
                let name = self.new_type(&n.type_);
                let message = format!("resource `{name}` added");
                self.push(
                    NonBreaking,
                    Scope::Api,
                    Category::ResourceAdded,
                    format!("resources.{name}"),
                    message,
                    Loc::new(n.span),
                );
            }
        }
    }

    fn resource(&mut self, owner: &Owner, old: &Resource, new: &Resource) {
        let loc = Loc::both(old.span, new.span);
        self.common(
            owner,
            &old.plural,
            &new.plural,
            old.description.as_deref(),
            new.description.as_deref(),
            old.deprecation.as_ref(),
            new.deprecation.as_ref(),
            &old.attributes,
            &new.attributes,
            loc,
        );
        for o in &old.operations {
            let path = format!("{}.operations.{} {}", owner.path, o.method, o.path);
            match new
                .operations
                .iter()
                .find(|n| n.method == o.method && same_route(&o.path, &n.path))
            {
                Some(n) => self.operation(&path, o, n),
                None => {
                    let message = format!("operation `{} {}` removed", o.method, o.path);
                    let oloc = Loc {
                        old: Some(o.span),
                        new: Some(new.span),
                    };
                    self.push(
                        Breaking,
                        Scope::Api,
                        Category::OperationRemoved,
                        path,
                        message,
                        oloc,
                    );
                }
            }
        }
        for n in &new.operations {
            if !old
                .operations
                .iter()
                .any(|o| o.method == n.method && same_route(&o.path, &n.path))
            {
                let path = format!("{}.operations.{} {}", owner.path, n.method, n.path);
                let message = format!("operation `{} {}` added", n.method, n.path);
                self.push(
                    NonBreaking,
                    Scope::Api,
                    Category::OperationAdded,
                    path,
                    message,
                    Loc::new(n.span),
                );
            }
        }
    }

    fn operation(&mut self, path: &str, old: &Operation, new: &Operation) {
        let loc = Loc::both(old.span, new.span);
        let label = format!("operation `{} {}`", old.method, old.path);
        let owner = Owner {
            path: path.to_string(),
            label: label.clone(),
            usage: Usage {
                request: true,
                ..Usage::default()
            },
        };
        self.docs(
            &owner,
            old.description.as_deref(),
            new.description.as_deref(),
            None,
            None,
            loc,
        );
        self.deprecation(
            &owner,
            old.deprecation.as_ref(),
            new.deprecation.as_ref(),
            loc,
        );
        self.attributes(&owner, &old.attributes, &new.attributes, loc);
        self.auth(&owner, old.auth.as_ref(), new.auth.as_ref(), loc);

        let body_path = format!("{path}.body");
        match (&old.body, &new.body) {
            (None, Some(b)) => {
                let message = format!("{label} now takes a `{}` body", self.new_type(&b.type_));
                self.push(
                    Breaking,
                    Scope::Api,
                    Category::BodyAdded,
                    body_path,
                    message,
                    Loc::both(old.span, b.span),
                );
            }
            (Some(a), None) => {
                let message = format!(
                    "{label} no longer takes a `{}` body",
                    self.old_type(&a.type_)
                );
                self.push(
                    Breaking,
                    Scope::Api,
                    Category::BodyRemoved,
                    body_path,
                    message,
                    Loc::both(a.span, new.span),
                );
            }
            (Some(a), Some(b)) => {
                if !self.same_type(&a.type_, &b.type_) {
                    let message = format!(
                        "{label} body type changed from `{}` to `{}`",
                        self.old_type(&a.type_),
                        self.new_type(&b.type_)
                    );
                    self.push(
                        Breaking,
                        Scope::Api,
                        Category::BodyTypeChanged,
                        &body_path,
                        message,
                        Loc::both(a.span, b.span),
                    );
                }
                let bowner = Owner {
                    path: body_path,
                    label: format!("{label} body"),
                    usage: owner.usage.clone(),
                };
                let bloc = Loc::both(a.span, b.span);
                self.docs(
                    &bowner,
                    a.description.as_deref(),
                    b.description.as_deref(),
                    None,
                    None,
                    bloc,
                );
                self.deprecation(
                    &bowner,
                    a.deprecation.as_ref(),
                    b.deprecation.as_ref(),
                    bloc,
                );
                self.attributes(&bowner, &a.attributes, &b.attributes, bloc);
            }
            (None, None) => {}
        }

        // Path parameters bind by position: `/users/:id` -> `/users/:user_id` is a rename.
        let renames: Vec<(&str, &str)> = old
            .path_params()
            .zip(new.path_params())
            .filter(|(a, b)| a != b)
            .collect();
        for (from, to) in &renames {
            let message = format!("path parameter `{from}` of {label} renamed to `{to}`");
            self.push(
                NonBreaking,
                Scope::Api,
                Category::PathParameterRenamed,
                format!("{path}.parameters.{from}"),
                message,
                loc,
            );
        }
        let old_p: Vec<Member> = old.parameters.iter().map(Member::parameter).collect();
        let new_p: Vec<Member> = new
            .parameters
            .iter()
            .map(|p| {
                let mut m = Member::parameter(p);
                if let Some((from, _)) = renames.iter().find(|(_, to)| *to == p.name) {
                    m.name = from;
                }
                m
            })
            .collect();
        self.members(MemberKind::Parameter, &owner, &old_p, &new_p, loc);

        for o in &old.responses {
            let rpath = format!("{path}.responses.{}", o.code);
            match new.responses.iter().find(|n| n.code == o.code) {
                None => {
                    let message = format!("{label} no longer declares response {}", o.code);
                    self.push(
                        Breaking,
                        Scope::Api,
                        Category::ResponseRemoved,
                        rpath,
                        message,
                        Loc {
                            old: Some(o.span),
                            new: Some(new.span),
                        },
                    );
                }
                Some(n) => {
                    let rloc = Loc::both(o.span, n.span);
                    if !self.same_type(&o.type_, &n.type_) {
                        let message = format!(
                            "{label} response {} type changed from `{}` to `{}`",
                            o.code,
                            self.old_type(&o.type_),
                            self.new_type(&n.type_)
                        );
                        self.push(
                            Breaking,
                            Scope::Api,
                            Category::ResponseTypeChanged,
                            format!("{rpath}.type"),
                            message,
                            rloc,
                        );
                    }
                    let rowner = Owner {
                        path: rpath,
                        label: format!("{label} response {}", o.code),
                        usage: Usage {
                            response: true,
                            ..Usage::default()
                        },
                    };
                    self.docs(
                        &rowner,
                        o.description.as_deref(),
                        n.description.as_deref(),
                        None,
                        None,
                        rloc,
                    );
                    self.deprecation(
                        &rowner,
                        o.deprecation.as_ref(),
                        n.deprecation.as_ref(),
                        rloc,
                    );
                    self.attributes(&rowner, &o.attributes, &n.attributes, rloc);
                }
            }
        }
        for n in new
            .responses
            .iter()
            .filter(|n| !old.responses.iter().any(|o| o.code == n.code))
        {
            let message = format!(
                "{label} now declares response {} (`{}`)",
                n.code,
                self.new_type(&n.type_)
            );
            self.push(
                NonBreaking,
                Scope::Api,
                Category::ResponseAdded,
                format!("{path}.responses.{}", n.code),
                message,
                Loc::new(n.span),
            );
        }
    }

    fn auth(&mut self, owner: &Owner, old: Option<&AuthRule>, new: Option<&AuthRule>, loc: Loc) {
        let open = AuthRule {
            required: false,
            roles: Vec::new(),
            claims: Vec::new(),
        };
        let (a, b) = (old.unwrap_or(&open), new.unwrap_or(&open));
        if a == b {
            return;
        }
        let set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<String>>();
        let (roles_a, roles_b) = (set(&a.roles), set(&b.roles));
        let mut tighter = Vec::new();
        if b.required && !a.required {
            tighter.push("now requires authentication".to_string());
        }
        if b.required && !roles_b.is_empty() {
            // Roles are alternatives and none means any authenticated caller.
            if !a.required || roles_a.is_empty() {
                tighter.push(format!(
                    "now needs one of the roles {}",
                    join_ticks(roles_b.iter())
                ));
            } else {
                let lost: Vec<&String> = roles_a.difference(&roles_b).collect();
                if !lost.is_empty() {
                    tighter.push(format!(
                        "no longer accepts the roles {}",
                        join_ticks(lost.into_iter())
                    ));
                }
            }
        }
        if b.required {
            let had = if a.required {
                set(&a.claims)
            } else {
                BTreeSet::new()
            };
            let claims_b = set(&b.claims);
            let needed: Vec<&String> = claims_b.difference(&had).collect();
            if !needed.is_empty() {
                tighter.push(format!(
                    "now needs the claims {}",
                    join_ticks(needed.into_iter())
                ));
            }
        }
        let path = format!("{}.auth", owner.path);
        if tighter.is_empty() {
            let message = format!("{} needs less authentication than before", owner.label);
            self.push(
                NonBreaking,
                Scope::Api,
                Category::AuthRelaxed,
                path,
                message,
                loc,
            );
        } else {
            let message = format!("{} {}", owner.label, tighter.join(", "));
            self.push(
                Breaking,
                Scope::Api,
                Category::AuthTightened,
                path,
                message,
                loc,
            );
        }
    }
}

// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MemberKind {
    Field,
    Parameter,
    Header,
}

impl MemberKind {
    fn label(self) -> &'static str {
        match self {
            MemberKind::Field => "field",
            MemberKind::Parameter => "parameter",
            MemberKind::Header => "header",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            MemberKind::Field => "fields",
            MemberKind::Parameter => "parameters",
            MemberKind::Header => "headers",
        }
    }

    fn pick(self, field: Category, parameter: Category, header: Category) -> Category {
        match self {
            MemberKind::Field => field,
            MemberKind::Parameter => parameter,
            MemberKind::Header => header,
        }
    }
}

/// What fields, parameters and headers have in common, for one set of rules.
#[derive(Debug, Clone)]
struct Member<'a> {
    name: &'a str,
    type_: &'a TypeRef,
    required: bool,
    default: Option<&'a serde_json::Value>,
    minimum: Option<&'a Bound>,
    maximum: Option<&'a Bound>,
    example: Option<&'a str>,
    description: Option<&'a str>,
    deprecation: Option<&'a Deprecation>,
    attributes: &'a [Attribute],
    location: Option<ParameterLocation>,
    span: Span,
    type_span: Span,
}

impl<'a> Member<'a> {
    fn field(f: &'a Field) -> Self {
        Member {
            name: &f.name,
            type_: &f.type_,
            required: f.required,
            default: f.default.as_ref(),
            minimum: f.minimum.as_ref(),
            maximum: f.maximum.as_ref(),
            example: f.example.as_deref(),
            description: f.description.as_deref(),
            deprecation: f.deprecation.as_ref(),
            attributes: &f.attributes,
            location: None,
            span: f.span,
            type_span: if f.type_span.is_empty() {
                f.span
            } else {
                f.type_span
            },
        }
    }

    fn parameter(p: &'a Parameter) -> Self {
        Member {
            name: &p.name,
            type_: &p.type_,
            required: p.required,
            default: p.default.as_ref(),
            minimum: p.minimum.as_ref(),
            maximum: p.maximum.as_ref(),
            example: p.example.as_deref(),
            description: p.description.as_deref(),
            deprecation: p.deprecation.as_ref(),
            attributes: &p.attributes,
            location: Some(p.location),
            span: p.span,
            type_span: p.span,
        }
    }

    fn header(h: &'a Header) -> Self {
        Member {
            name: &h.name,
            type_: &h.type_,
            required: h.required,
            default: h.default.as_ref(),
            minimum: None,
            maximum: None,
            example: None,
            description: h.description.as_deref(),
            deprecation: h.deprecation.as_ref(),
            attributes: &h.attributes,
            location: None,
            span: h.span,
            type_span: h.span,
        }
    }
}

/// Blueprint attributes diffed by meaning (`auth` as auth-tightened/-relaxed,
/// `stream` as stream-*, `consumes` as consumes-changed).
const SEMANTIC_ATTRIBUTES: &[&str] = &["auth", "stream", "consumes"];

fn plain_attributes(attrs: &[Attribute]) -> Vec<&Attribute> {
    attrs
        .iter()
        .filter(|a| !SEMANTIC_ATTRIBUTES.contains(&a.name.as_str()))
        .collect()
}

fn kind_label(kind: TypeKind) -> &'static str {
    match kind {
        TypeKind::Enum => "enum",
        TypeKind::Interface => "interface",
        TypeKind::Model => "model",
        TypeKind::Union => "union",
    }
}

fn location_name(l: ParameterLocation) -> &'static str {
    match l {
        ParameterLocation::Path => "path",
        ParameterLocation::Query => "query",
        ParameterLocation::Form => "form",
        ParameterLocation::Header => "header",
    }
}

/// Ordering of numeric types by the values they hold, to say narrowed or widened.
fn numeric_rank(t: &TypeRef) -> Option<u8> {
    match t {
        TypeRef::Primitive(Primitive::Integer) => Some(0),
        TypeRef::Primitive(Primitive::Long) => Some(1),
        TypeRef::Primitive(Primitive::Double) => Some(2),
        TypeRef::Primitive(Primitive::Decimal) => Some(3),
        _ => None,
    }
}

/// Two paths are the same route when they differ only in path parameter names.
fn same_route(a: &str, b: &str) -> bool {
    let norm = |p: &str| -> Vec<String> {
        p.split('/')
            .map(|s| {
                if s.starts_with(':') {
                    ":".to_string()
                } else {
                    s.to_string()
                }
            })
            .collect()
    };
    norm(a) == norm(b)
}

fn text_change(what: &str, old: Option<&str>, new: Option<&str>) -> Option<String> {
    match (old, new) {
        (a, b) if a == b => None,
        (None, Some(b)) => Some(format!("{what} set to `{b}`")),
        (Some(a), None) => Some(format!("{what} `{a}` removed")),
        (Some(a), Some(b)) => Some(format!("{what} changed from `{a}` to `{b}`")),
        (None, None) => None,
    }
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

fn join_ticks<'a>(items: impl Iterator<Item = &'a String>) -> String {
    items
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
