//! The index: the service graph and a table of every service.

use maud::{Markup, html};

use crate::{GRAPH_FILE, ServiceDoc, Workspace, anchor, layout};

pub fn page(ws: &Workspace<'_>, has_graph: bool) -> String {
    let nav = html! {
        h2 { a href="#graph" { "Service graph" } }
        h2 { a href="#services" { "Services" } }
        ul { @for s in &ws.services {
            li { a href=(page_of(s)) { (s.spec.service.name) } }
        } }
    };
    let main = html! {
        h1 { "Services" }
        h2 #graph { "Service graph" }
        @if has_graph {
            figure.graph {
                img src=(GRAPH_FILE) alt="The service graph: which service consumes which stream";
            }
        }
        (edges(ws))
        h2 #services { "Services" }
        table {
            thead { tr {
                th { "Service" } th { "Version" } th { "Operations" } th { "Publishes" }
                th { "Consumes" } th { "Description" }
            } }
            tbody { @for s in &ws.services {
                @let service = &s.spec.service;
                tr {
                    td { a href=(page_of(s)) { (service.name) } }
                    td.nowrap { (service.version) }
                    td { (service.operations().count()) }
                    td { (service.streams().count()) }
                    td { (service.blueprint.consumes.len()) }
                    td.description { (service.description.as_deref().unwrap_or_default()) }
                }
            } }
        }
    };
    layout::page("Services", "", nav, main)
}

/// The graph as text: who publishes which stream and who consumes it.
fn edges(ws: &Workspace<'_>) -> Markup {
    html! {
        ul.edges {
            @for s in &ws.services {
                @let service = &s.spec.service;
                @for (_, stream) in service.streams() {
                    li {
                        a href=(page_of(s)) { (service.name) } " publishes "
                        a href={ (page_of(s)) "#" (anchor::stream(&stream.name)) } { code { (stream.name) } }
                        @let consumers = ws.consumers(&stream.name);
                        @if !consumers.is_empty() {
                            ", consumed by "
                            @for (i, c) in consumers.iter().enumerate() {
                                @if i > 0 { ", " }
                                a href=(page_of(c)) { (c.spec.service.name) }
                            }
                        }
                    }
                }
                @for c in &service.blueprint.consumes {
                    @if ws.publisher(&c.stream).is_none() {
                        li {
                            a href=(page_of(s)) { (service.name) } " consumes "
                            a href={ (page_of(s)) "#" (anchor::consumed(&c.stream)) } { code { (c.stream) } }
                            span.muted { " (published outside this workspace)" }
                        }
                    }
                }
            }
            @if ws.services.iter().all(|s| {
                s.spec.service.streams().next().is_none() && s.spec.service.blueprint.consumes.is_empty()
            }) {
                li.muted { "No service publishes or consumes a stream." }
            }
        }
    }
}

fn page_of(s: &ServiceDoc<'_>) -> String {
    format!("{}/index.html", s.key)
}
