//! A service's page: overview, operations, streams, types.

use std::collections::HashSet;

use blueprint_mock::example::request_for;
use blueprint_mock::synth::Synth;
use blueprint_spec::ir::{Operation, ParameterLocation, Resource, Service, TypeKind, Union};
use maud::{Markup, html};

use crate::types::{Types, bounds, deprecated, description, json_block, value_text};
use crate::{ServiceDoc, Workspace, anchor, layout};

pub fn page(ws: &Workspace<'_>, doc: &ServiceDoc<'_>) -> String {
    let spec = doc.spec;
    let service = &spec.service;
    let types = Types { spec };
    let op_ids = operation_ids(service);

    let nav = html! {
        h2 { a href="#top" { (service.name) } }
        @if !service.resources.is_empty() {
            h2 { a href="#resources" { "Resources" } }
            ul { @for r in &service.resources {
                li { a href={ "#" (anchor::resource(&r.plural)) } { (r.plural) } }
            } }
        }
        @if service.streams().next().is_some() {
            h2 { a href="#streams" { "Streams" } }
            ul { @for (_, s) in service.streams() {
                li { a href={ "#" (anchor::stream(&s.name)) } { (short_stream(&s.name)) } }
            } }
        }
        @if !service.blueprint.consumes.is_empty() {
            h2 { a href="#consumes" { "Consumes" } }
            ul { @for c in &service.blueprint.consumes {
                li { a href={ "#" (anchor::consumed(&c.stream)) } { (short_stream(&c.stream)) } }
            } }
        }
        h2 { a href="#types" { "Types" } }
        ul {
            @for m in &service.models {
                li { (types.link(&service.named(TypeKind::Model, &m.name))) }
            }
            @for e in &service.enums {
                li { (types.link(&service.named(TypeKind::Enum, &e.name))) }
            }
            @for u in &service.unions {
                li { (types.link(&service.named(TypeKind::Union, &u.name))) }
            }
            @for i in &service.interfaces {
                li { (types.link(&service.named(TypeKind::Interface, &i.name))) }
            }
        }
        @if !spec.imports.is_empty() {
            h2 { a href="#imports" { "Imported types" } }
            ul { @for i in &spec.imports {
                li { a href={ "#" (import_id(&i.namespace)) } { (i.namespace) } }
            } }
        }
    };

    let main = html! {
        h1 #top { (service.name) }
        (description(service.description.as_deref()))
        (overview(doc))

        @if !service.resources.is_empty() {
            h2 #resources { "Resources" }
            @for (r, ids) in service.resources.iter().zip(&op_ids) {
                (resource(&types, r, ids))
            }
        }

        @if service.streams().next().is_some() {
            h2 #streams { "Streams" }
            @for (u, s) in service.streams() {
                section id=(anchor::stream(&s.name)) {
                    h3 { code { (s.name) } }
                    (description(u.description.as_deref()))
                    dl.meta {
                        dt { "Events" } dd { (types.link(&service.named(TypeKind::Union, &u.name))) }
                        dt { "Retention" } dd { (s.retention_hours) " hours" }
                        @if let Some(key) = &s.partition_key {
                            dt { "Partition key" } dd { code { (key) } }
                        }
                        dt { "Consumers" }
                        dd {
                            @let consumers = ws.consumers(&s.name);
                            @if consumers.is_empty() { span.muted { "none in this workspace" } }
                            @for (i, c) in consumers.iter().enumerate() {
                                @if i > 0 { ", " }
                                a href={ "../" (c.key) "/index.html#" (anchor::consumed(&s.name)) } { (c.spec.service.name) }
                            }
                        }
                    }
                    h4 { "Event types" }
                    (types.members(u, &service.namespace))
                    (event_examples(&types, u, &service.namespace))
                }
            }
        }

        @if !service.blueprint.consumes.is_empty() {
            h2 #consumes { "Consumed streams" }
            @for c in &service.blueprint.consumes {
                section id=(anchor::consumed(&c.stream)) {
                    h3 { code { (c.stream) } }
                    dl.meta {
                        dt { "Events" } dd { (types.link(&c.type_)) }
                        dt { "Published by" }
                        dd {
                            @match ws.publisher(&c.stream) {
                                Some(p) => a href={ "../" (p.key) "/index.html#" (anchor::stream(&c.stream)) } { (p.spec.service.name) },
                                None => { span.muted { (c.type_.namespace) " (outside this workspace)" } },
                            }
                        }
                    }
                    @if let Some(u) = spec.resolve_union(&c.type_) {
                        (description(u.description.as_deref()))
                        h4 { "Event types" }
                        (types.members(u, &c.type_.namespace))
                        (event_examples(&types, u, &c.type_.namespace))
                    }
                }
            }
        }

        h2 #types { "Types" }
        (types.sections(service))

        @if !spec.imports.is_empty() {
            h2 #imports { "Imported types" }
            @for i in &spec.imports {
                section id=(import_id(&i.namespace)) {
                    h3 { code { (i.namespace) } }
                    p.muted { (i.name) ", version " (i.version) }
                    (types.sections(i))
                }
            }
        }
    };
    layout::page(&format!("{} — API", service.name), "../", nav, main)
}

/// Namespace, version, spec hash, where the exports are.
fn overview(doc: &ServiceDoc<'_>) -> Markup {
    let service = &doc.spec.service;
    html! {
        dl.meta {
            dt { "Namespace" } dd { code { (service.namespace) } }
            dt { "Version" } dd { (service.version) }
            dt { "Spec hash" } dd { code { (doc.spec.source_hash()) } " " span.muted { "(sha256, as " code { "GET /_internal_/version" } " reports it)" } }
            @if let Some(url) = &service.base_url { dt { "Base URL" } dd { code { (url) } } }
            @if let Some(l) = &service.info.license {
                dt { "License" }
                dd { @match &l.url { Some(u) => a href=(u) { (l.name) }, None => (l.name) } }
            }
            @if let Some(c) = &service.info.contact {
                dt { "Contact" }
                dd {
                    @if let Some(n) = &c.name { (n) " " }
                    @if let Some(e) = &c.email { a href={ "mailto:" (e) } { (e) } " " }
                    @if let Some(u) = &c.url { a href=(u) { (u) } }
                }
            }
            dt { "Exports" }
            dd {
                a href=(blueprint_codegen::openapi::FILE_NAME) { "OpenAPI 3.1" } ", "
                a href=(blueprint_codegen::asyncapi::FILE_NAME) { "AsyncAPI 3.0" }
            }
        }
    }
}

fn resource(types: &Types<'_>, r: &Resource, op_ids: &[String]) -> Markup {
    html! {
        section id=(anchor::resource(&r.plural)) {
            h3 { (r.plural) " " span.muted { "(" (types.reference(&r.type_)) ")" } (deprecated(r.deprecation.as_ref())) }
            (description(r.description.as_deref()))
            @for (op, id) in r.operations.iter().zip(op_ids) {
                (operation(types, op, id))
            }
        }
    }
}

fn operation(types: &Types<'_>, op: &Operation, id: &str) -> Markup {
    let spec = types.spec;
    let method = op.method.as_str();
    let example = request_for(spec, op, 0);
    let success = op
        .responses
        .iter()
        .find(|r| r.code.is_success())
        .or_else(|| op.responses.first());
    html! {
        article.operation id=(id) {
            h4 {
                a href={ "#" (id) } { span.method.(method.to_ascii_lowercase()) { (method) } }
                code { (op.path) }
                (deprecated(op.deprecation.as_ref()))
            }
            (description(op.description.as_deref()))
            @if let Some(auth) = op.auth.as_ref().filter(|a| a.required) {
                p { "Needs a bearer JWT"
                    @if !auth.roles.is_empty() { " with one of the roles " code { (auth.roles.join(", ")) } }
                    @if !auth.claims.is_empty() { " and the claims " code { (auth.claims.join(", ")) } }
                    "." }
            }
            @if !op.parameters.is_empty() {
                h5 { "Parameters" }
                table {
                    thead { tr {
                        th { "Name" } th { "In" } th { "Type" } th { "Required" } th { "Default" }
                        th { "Bounds" } th { "Description" }
                    } }
                    tbody { @for p in &op.parameters {
                        tr {
                            td { code { (p.name) } (deprecated(p.deprecation.as_ref())) }
                            td { (location(p.location)) }
                            td { (types.reference(&p.type_)) }
                            td { @if p.required { "yes" } @else { "no" } }
                            td { @if let Some(d) = &p.default { code { (value_text(d)) } } }
                            td { (bounds(p.minimum.as_ref(), p.maximum.as_ref())) }
                            td {
                                span.description { (p.description.as_deref().unwrap_or_default()) }
                                @if let Some(e) = &p.example { " " span.muted { "Example: " code { (value_text(e)) } } }
                            }
                        }
                    } }
                }
            }
            @if let Some(body) = op.body.as_ref().filter(|b| !b.type_.is_unit()) {
                h5 { "Body" }
                p { (types.reference(&body.type_)) " " span.description { (body.description.as_deref().unwrap_or_default()) } }
            }
            h5 { "Responses" }
            table {
                thead { tr { th { "Status" } th { "Type" } th { "Description" } } }
                tbody { @for r in &op.responses {
                    tr {
                        td { code { (r.code) } }
                        td { @if r.type_.is_unit() { span.muted { "no body" } } @else { (types.reference(&r.type_)) } }
                        td.description { (r.description.as_deref().unwrap_or_default()) }
                    }
                } }
            }
            div.examples {
                div {
                    h5 { "Example request" }
                    pre { code {
                        (method) " " (example.uri)
                        @for (name, value) in &example.headers { "\n" (name) ": " (value) }
                        @if let Some(body) = &example.body {
                            "\nContent-Type: application/json\n\n"
                            (serde_json::to_string_pretty(body).unwrap_or_default())
                        }
                    } }
                }
                @if let Some(r) = success {
                    div {
                        h5 { "Example response (" (r.code) ")" }
                        @if r.type_.is_unit() {
                            p.muted { "No body." }
                        } @else {
                            (json_block(&Synth::new(spec).value(&r.type_)))
                        }
                    }
                }
            }
        }
    }
}

/// An example of every event type of a stream.
fn event_examples(types: &Types<'_>, u: &Union, namespace: &str) -> Markup {
    let synth = Synth::new(types.spec);
    html! {
        @for m in &u.types {
            h5 { "Example " code { (m.wire_value(namespace)) } }
            (json_block(&synth.union_member(u, namespace, m)))
        }
    }
}

fn location(l: ParameterLocation) -> &'static str {
    match l {
        ParameterLocation::Path => "path",
        ParameterLocation::Query => "query",
        ParameterLocation::Form => "form",
        ParameterLocation::Header => "header",
    }
}

/// `io.blueprint.users.v0.user_event.json` → `user_event` (the side bar is narrow).
fn short_stream(name: &str) -> &str {
    let name = name.strip_suffix(".json").unwrap_or(name);
    name.rsplit('.').next().unwrap_or(name)
}

fn import_id(namespace: &str) -> String {
    format!("import-{namespace}")
}

/// Each operation's anchor, per resource: `op-get-users-by-id` for
/// `GET /users/:id`, made unique within the page.
fn operation_ids(service: &Service) -> Vec<Vec<String>> {
    let mut taken = HashSet::new();
    let mut id_of = |op: &Operation| {
        let mut base = format!("op-{}", op.method.as_str().to_ascii_lowercase());
        for seg in op.path.split('/').filter(|s| !s.is_empty()) {
            base.push('-');
            match seg.strip_prefix(':') {
                Some(name) => {
                    base.push_str("by-");
                    base.push_str(name);
                }
                None => base.push_str(seg),
            }
        }
        let base: String = base
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let mut id = base.clone();
        let mut n = 1;
        while !taken.insert(id.clone()) {
            n += 1;
            id = format!("{base}-{n}");
        }
        id
    };
    (service.resources.iter())
        .map(|r| r.operations.iter().map(&mut id_of).collect())
        .collect()
}
