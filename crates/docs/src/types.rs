//! Types on a service page: references as links, and the model, enum, union and
//! interface sections (the service's own and its imports' alike).

use blueprint_mock::synth::Synth;
use blueprint_spec::Spec;
use blueprint_spec::ir::{
    Bound, Deprecation, Enum, Field, Interface, Model, NamedType, Service, TypeKind, TypeRef, Union,
};
use maud::{Markup, html};
use serde_json::Value;

use crate::anchor;

/// Renders types for the page of one spec: names relative to its namespace, links
/// to anchors on the same page (imported types are on it too).
pub struct Types<'a> {
    pub spec: &'a Spec,
}

impl<'a> Types<'a> {
    /// A type as the spec writes it, each named type a link to its section.
    pub fn reference(&self, t: &TypeRef) -> Markup {
        match t {
            TypeRef::Primitive(p) => html! { code { (p.as_str()) } },
            TypeRef::List(inner) => html! { code { "[" } (self.reference(inner)) code { "]" } },
            TypeRef::Map(inner) => html! { code { "map[" } (self.reference(inner)) code { "]" } },
            TypeRef::Named(n) => self.link(n),
        }
    }

    pub fn link(&self, n: &NamedType) -> Markup {
        let shown = TypeRef::Named(n.clone()).display_in(&self.spec.service.namespace);
        html! { a href={ "#" (anchor::type_(n)) } { code { (shown) } } }
    }

    /// A synthesised value of `t` as pretty JSON.
    pub fn example(&self, t: &TypeRef) -> Markup {
        json_block(&Synth::new(self.spec).value(t))
    }

    /// Every type `service` (this one or an import) defines, by kind.
    pub fn sections(&self, service: &Service) -> Markup {
        let named = |kind, name: &str| service.named(kind, name);
        html! {
            @if !service.models.is_empty() {
                h3.kind { "Models" }
                @for m in &service.models { (self.model(&named(TypeKind::Model, &m.name), m)) }
            }
            @if !service.enums.is_empty() {
                h3.kind { "Enums" }
                @for e in &service.enums { (self.enum_(&named(TypeKind::Enum, &e.name), e)) }
            }
            @if !service.unions.is_empty() {
                h3.kind { "Unions" }
                @for u in &service.unions { (self.union(&named(TypeKind::Union, &u.name), u)) }
            }
            @if !service.interfaces.is_empty() {
                h3.kind { "Interfaces" }
                @for i in &service.interfaces {
                    (self.interface(&named(TypeKind::Interface, &i.name), i))
                }
            }
        }
    }

    fn model(&self, n: &NamedType, m: &Model) -> Markup {
        html! {
            section.type id=(anchor::type_(n)) {
                h4 { code { (m.name) } " " span.badge { "model" } (deprecated(m.deprecation.as_ref())) }
                (description(m.description.as_deref()))
                @if !m.interfaces.is_empty() {
                    p { "Implements " @for (i, name) in m.interfaces.iter().enumerate() {
                        @if i > 0 { ", " } code { (name) }
                    } "." }
                }
                @if let Some(db) = &m.db {
                    p.muted { "Stored in table " code { (db.table) } ", primary key "
                        code { (db.primary_key.join(", ")) }
                        @if db.journal { "; changes are journaled" } "." }
                }
                (self.fields(&m.fields))
                h5 { "Example" }
                (self.example(&TypeRef::Named(n.clone())))
            }
        }
    }

    fn interface(&self, n: &NamedType, i: &Interface) -> Markup {
        html! {
            section.type id=(anchor::type_(n)) {
                h4 { code { (i.name) } " " span.badge { "interface" } (deprecated(i.deprecation.as_ref())) }
                (description(i.description.as_deref()))
                (self.fields(&i.fields))
            }
        }
    }

    fn enum_(&self, n: &NamedType, e: &Enum) -> Markup {
        html! {
            section.type id=(anchor::type_(n)) {
                h4 { code { (e.name) } " " span.badge { "enum" } (deprecated(e.deprecation.as_ref())) }
                (description(e.description.as_deref()))
                table {
                    thead { tr { th { "Value" } th { "Description" } } }
                    tbody {
                        @for v in &e.values {
                            tr {
                                td { code { (v.wire()) } (deprecated(v.deprecation.as_ref())) }
                                td.description { (v.description.as_deref().unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
        }
    }

    fn union(&self, n: &NamedType, u: &Union) -> Markup {
        html! {
            section.type id=(anchor::type_(n)) {
                h4 { code { (u.name) } " " span.badge { "union" } (deprecated(u.deprecation.as_ref())) }
                (description(u.description.as_deref()))
                p.muted {
                    @match &u.discriminator {
                        Some(d) => { "A member is written as its fields plus " code { (d) } " set to the member's value." }
                        None => { "A member is written as an object with one key, the member's value." }
                    }
                    @if let Some(s) = &u.stream {
                        " Published as the stream " (self.stream_link(n, &s.name)) "."
                    }
                }
                (self.members(u, &n.namespace))
                h5 { "Example" }
                (self.example(&TypeRef::Named(n.clone())))
            }
        }
    }

    /// A stream by name: a link to its section when this page has one (the
    /// service's own streams and the ones it consumes).
    fn stream_link(&self, union: &NamedType, stream: &str) -> Markup {
        let service = &self.spec.service;
        let target = if union.namespace == service.namespace {
            Some(anchor::stream(stream))
        } else if service
            .blueprint
            .consumes
            .iter()
            .any(|c| c.stream == stream)
        {
            Some(anchor::consumed(stream))
        } else {
            None
        };
        html! {
            @match target {
                Some(id) => a href={ "#" (id) } { code { (stream) } },
                None => code { (stream) },
            }
        }
    }

    /// A union's members: wire value, type, whether it is the default.
    pub fn members(&self, u: &Union, namespace: &str) -> Markup {
        html! {
            table {
                thead { tr { th { "Value" } th { "Type" } th { "Description" } } }
                tbody {
                    @for m in &u.types {
                        tr {
                            td {
                                code { (m.wire_value(namespace)) }
                                @if m.default { " " span.badge { "default" } }
                                (deprecated(m.deprecation.as_ref()))
                            }
                            td { (self.reference(&m.type_)) }
                            td.description { (m.description.as_deref().unwrap_or_default()) }
                        }
                    }
                }
            }
        }
    }

    fn fields(&self, fields: &[Field]) -> Markup {
        if fields.is_empty() {
            return html! { p.muted { "No fields." } };
        }
        html! {
            table {
                thead { tr {
                    th { "Field" } th { "Type" } th { "Required" } th { "Default" }
                    th { "Bounds" } th { "Description" }
                } }
                tbody {
                    @for f in fields {
                        tr {
                            td { code { (f.name) } (deprecated(f.deprecation.as_ref())) }
                            td { (self.reference(&f.type_)) }
                            td { @if f.required { "yes" } @else { "no" } }
                            td { @if let Some(d) = &f.default { code { (value_text(d)) } } }
                            td { (bounds(f.minimum.as_ref(), f.maximum.as_ref())) }
                            td {
                                span.description { (f.description.as_deref().unwrap_or_default()) }
                                @if let Some(e) = &f.example {
                                    " " span.muted { "Example: " code { (value_text(e)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `min 1, max 100` (lengths for strings, counts for lists and maps).
pub fn bounds(minimum: Option<&Bound>, maximum: Option<&Bound>) -> Markup {
    html! {
        @if let Some(b) = minimum { "min " (b.text) }
        @if minimum.is_some() && maximum.is_some() { ", " }
        @if let Some(b) = maximum { "max " (b.text) }
    }
}

/// A default or example as a reader would type it: a string as its text, any other
/// value as JSON (the type column tells `25` from `"25"`).
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn description(text: Option<&str>) -> Markup {
    html! { @if let Some(t) = text { p.description { (t) } } }
}

pub fn deprecated(d: Option<&Deprecation>) -> Markup {
    html! {
        @if let Some(d) = d {
            " " span.badge.deprecated title=[d.description.as_deref()] { "deprecated" }
        }
    }
}

pub fn json_block(value: &Value) -> Markup {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    html! { pre { code { (text) } } }
}
