//! The graph as text, DOT, Mermaid or SVG.
//!
//! Every form draws the same thing: one node per service (marked `db` when it owns
//! a database), a solid arrow per call, a dashed arrow per consumed stream labelled
//! with the stream's union, pointing from the dependent service to its dependency.
//! SVG is laid out in process by `layout-rs` (a layered, Sugiyama-style layout, as
//! Graphviz's `dot`), so no Graphviz is needed at run time.

use std::fmt::Write as _;

use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;

use crate::graph::{EdgeKind, Graph};

/// Human-readable: services, edges, then cycles, dangling consumes and warnings.
pub fn text(graph: &Graph) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "services ({}):", graph.services.len());
    let width = graph
        .services
        .iter()
        .map(|sv| sv.name.len())
        .max()
        .unwrap_or(0);
    for sv in &graph.services {
        let mut facts = vec![sv.spec.clone()];
        if sv.database {
            facts.push(format!("db ({})", sv.tables.join(", ")));
        }
        if !sv.streams.is_empty() {
            facts.push(format!("owns {}", sv.streams.join(", ")));
        }
        let _ = writeln!(s, "  {:<width$}  {}", sv.name, facts.join("; "));
    }
    let _ = writeln!(
        s,
        "\nedges ({}), dependent -> dependency:",
        graph.edges.len()
    );
    for e in &graph.edges {
        let what = match (e.kind, &e.stream, &e.package) {
            (EdgeKind::Consumes, Some(stream), _) => format!("consumes {stream}"),
            (EdgeKind::Calls, _, Some(package)) => format!("calls (through {package})"),
            (kind, _, _) => kind.as_str().to_string(),
        };
        let _ = writeln!(s, "  {} -> {}  {what}", e.from, e.to);
    }
    for cycle in &graph.cycles {
        let sync = graph.sync_cycles.contains(cycle);
        let verdict = if sync {
            "error: a cycle of calls (each needs the others up first)"
        } else {
            "allowed: it goes through a stream"
        };
        let _ = writeln!(s, "\ncycle {}: {verdict}", cycle.join(", "));
    }
    for d in &graph.dangling {
        let _ = writeln!(
            s,
            "\nerror: {} consumes {}, which no service of the workspace owns",
            d.service, d.stream
        );
    }
    for w in &graph.warnings {
        let _ = writeln!(s, "\nwarning: {w}");
    }
    s
}

/// The short label of a stream: its union's name.
fn stream_label(stream: &str) -> &str {
    let base = stream.strip_suffix(".json").unwrap_or(stream);
    base.rsplit('.').next().unwrap_or(base)
}

fn dot_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

fn node_label(graph: &Graph, name: &str) -> String {
    match graph.service(name) {
        Some(s) if s.database => format!("{name}\n(db)"),
        _ => name.to_string(),
    }
}

/// Graphviz DOT.
pub fn dot(graph: &Graph) -> String {
    let mut s = String::from("digraph workspace {\n  node [shape=box];\n");
    for sv in &graph.services {
        let _ = writeln!(
            s,
            "  {} [label={}];",
            dot_quote(&sv.name),
            dot_quote(&node_label(graph, &sv.name))
        );
    }
    for e in &graph.edges {
        let attrs = match (e.kind, &e.stream) {
            (EdgeKind::Consumes, Some(stream)) => {
                format!("label={}, style=dashed", dot_quote(stream_label(stream)))
            }
            _ => "label=\"calls\"".to_string(),
        };
        let _ = writeln!(
            s,
            "  {} -> {} [{attrs}];",
            dot_quote(&e.from),
            dot_quote(&e.to)
        );
    }
    s.push_str("}\n");
    s
}

/// Mermaid flowchart (renders on GitHub in a ```mermaid block).
pub fn mermaid(graph: &Graph) -> String {
    let mut s = String::from("flowchart TD\n");
    // Mermaid ids must be plain: number the services.
    let id = |name: &str| {
        graph
            .services
            .iter()
            .position(|sv| sv.name == name)
            .map_or_else(|| "unknown".to_string(), |i| format!("s{i}"))
    };
    let text = |t: &str| t.replace('"', "#quot;");
    for (i, sv) in graph.services.iter().enumerate() {
        if sv.database {
            let _ = writeln!(s, "  s{i}[(\"{} (db)\")]", text(&sv.name));
        } else {
            let _ = writeln!(s, "  s{i}[\"{}\"]", text(&sv.name));
        }
    }
    for e in &graph.edges {
        match (e.kind, &e.stream) {
            (EdgeKind::Consumes, Some(stream)) => {
                let _ = writeln!(
                    s,
                    "  {} -. \"{}\" .-> {}",
                    id(&e.from),
                    text(stream_label(stream)),
                    id(&e.to)
                );
            }
            _ => {
                let _ = writeln!(s, "  {} -- calls --> {}", id(&e.from), id(&e.to));
            }
        }
    }
    s
}

/// SVG, laid out in process.
pub fn svg(graph: &Graph) -> String {
    if graph.services.is_empty() {
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"0\" height=\"0\"></svg>\n"
            .to_string();
    }
    const FONT: usize = 14;
    let dir = Orientation::TopToBottom;
    let mut vg = VisualGraph::new(dir);
    let handles: Vec<_> = graph
        .services
        .iter()
        .map(|sv| {
            let shape = ShapeKind::new_box(&node_label(graph, &sv.name));
            let look = StyleAttr::new(
                layout::core::color::Color::fast("black"),
                if sv.database { 2 } else { 1 },
                Some(layout::core::color::Color::fast("white")),
                if sv.database { 8 } else { 0 },
                FONT,
            );
            let size = layout::std_shapes::render::get_shape_size(dir, &shape, FONT, false);
            vg.add_node(Element::create(shape, look, dir, size))
        })
        .collect();
    let index = |name: &str| graph.services.iter().position(|s| s.name == name);
    for e in &graph.edges {
        let (Some(from), Some(to)) = (index(&e.from), index(&e.to)) else {
            continue;
        };
        let (label, line) = match (e.kind, &e.stream) {
            (EdgeKind::Consumes, Some(stream)) => (stream_label(stream), LineStyleKind::Dashed),
            _ => ("calls", LineStyleKind::Normal),
        };
        let look = StyleAttr::new(layout::core::color::Color::fast("black"), 1, None, 0, FONT);
        let arrow = Arrow::new(
            LineEndKind::None,
            LineEndKind::Arrow,
            line,
            label,
            &look,
            &None,
            &None,
        );
        vg.add_edge(arrow, handles[from], handles[to]);
    }
    let mut writer = SVGWriter::new();
    vg.do_it(false, false, false, &mut writer);
    writer.finalize()
}
