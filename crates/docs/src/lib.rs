//! The documentation site of a workspace: its services' specs in, static HTML out.
//!
//! Pure, like codegen: [`site`] returns `(path, contents)` pairs and the caller
//! (`dev docs`) writes them. The site has no JavaScript and loads nothing from
//! outside its folder, so it opens from the file system:
//!
//! ```text
//! index.html              the service graph and every service
//! graph.svg               the graph picture, when the caller has one
//! style.css
//! <service>/index.html    one page per service (folder: its application key)
//! <service>/openapi.json  its OpenAPI 3.1 and AsyncAPI 3.0 exports
//! <service>/asyncapi.json
//! ```
//!
//! A service page has its description, version and spec hash (the one its
//! `/_internal_/version` reports); resources and operations with parameters,
//! responses and an example request and response; its streams with their event
//! types and which workspace services consume them; the streams it consumes and who
//! publishes them; and every model, enum, union and interface, imported ones
//! included, each type reference a link. Examples are the mock's synthesised values
//! (`blueprint_mock::synth`: defaults and `example`s first, always valid).
//!
//! HTML is written with `maud`, whose templates escape every interpolated value:
//! nothing from a spec reaches the page unescaped. The one exception is the graph
//! picture, which is a separate file shown with `<img>` (so even its scripts, if it
//! had any, would not run).

use std::path::PathBuf;

use blueprint_codegen::GeneratedFile;
use blueprint_spec::Spec;

mod index;
mod layout;
mod service;
mod types;

/// The file the graph picture is written to, beside `index.html`.
pub const GRAPH_FILE: &str = "graph.svg";

/// The documentation site for `services` (the workspace's specs, in the order
/// given). `graph_svg` is the service graph as SVG, shown on the index; without one
/// the index lists the graph's edges only. Files come back sorted by path.
pub fn site(services: &[&Spec], graph_svg: Option<&str>) -> Vec<GeneratedFile> {
    let workspace = Workspace::new(services);
    let mut files = vec![
        file("index.html", index::page(&workspace, graph_svg.is_some())),
        file(layout::STYLESHEET, layout::CSS.to_string()),
    ];
    if let Some(svg) = graph_svg {
        files.push(file(GRAPH_FILE, svg.to_string()));
    }
    for s in &workspace.services {
        let dir = PathBuf::from(&s.key);
        files.push(GeneratedFile {
            path: dir.join("index.html"),
            contents: service::page(&workspace, s),
        });
        files.push(GeneratedFile {
            path: dir.join(blueprint_codegen::openapi::FILE_NAME),
            contents: blueprint_codegen::openapi::render(s.spec),
        });
        files.push(GeneratedFile {
            path: dir.join(blueprint_codegen::asyncapi::FILE_NAME),
            contents: blueprint_codegen::asyncapi::render(s.spec),
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// Whether `index_html` is the index of a site [`site`] wrote (`dev docs` replaces
/// only such a folder).
pub fn is_site_index(index_html: &str) -> bool {
    index_html.contains(&format!(
        r#"<meta name="generator" content="{}">"#,
        layout::GENERATOR
    ))
}

fn file(path: &str, contents: String) -> GeneratedFile {
    GeneratedFile {
        path: PathBuf::from(path),
        contents,
    }
}

/// The services of the site, each with the folder its page is in.
struct Workspace<'a> {
    services: Vec<ServiceDoc<'a>>,
}

struct ServiceDoc<'a> {
    spec: &'a Spec,
    /// The page's folder: the application key (`-2`, `-3`... when two share one).
    key: String,
}

impl<'a> Workspace<'a> {
    fn new(specs: &[&'a Spec]) -> Self {
        let mut services: Vec<ServiceDoc<'a>> = Vec::new();
        for spec in specs {
            let base = spec.service.application.clone();
            let mut key = base.clone();
            let mut n = 1;
            while services.iter().any(|s| s.key == key) {
                n += 1;
                key = format!("{base}-{n}");
            }
            services.push(ServiceDoc { spec, key });
        }
        Workspace { services }
    }

    /// The workspace service that publishes `stream`.
    fn publisher(&self, stream: &str) -> Option<&ServiceDoc<'a>> {
        self.services
            .iter()
            .find(|s| s.spec.service.streams().any(|(_, st)| st.name == stream))
    }

    /// The workspace services that consume `stream`.
    fn consumers(&self, stream: &str) -> Vec<&ServiceDoc<'a>> {
        self.services
            .iter()
            .filter(|s| (s.spec.service.blueprint.consumes.iter()).any(|c| c.stream == stream))
            .collect()
    }
}

/// Anchors within a service page (HTML ids). Types use their qualified name, which
/// is unique across a service and its imports.
mod anchor {
    use blueprint_spec::ir::NamedType;

    pub fn type_(t: &NamedType) -> String {
        t.qualified()
    }

    pub fn stream(name: &str) -> String {
        format!("stream-{name}")
    }

    pub fn consumed(name: &str) -> String {
        format!("consumes-{name}")
    }

    pub fn resource(plural: &str) -> String {
        format!("resource-{plural}")
    }
}
