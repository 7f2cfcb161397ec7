//! The dependency graph between services, derived from their contracts.
//!
//! An edge `from -> to` means `from` depends on `to`:
//! - **consumes**: `from`'s spec lists, in its `consumes` attribute, a stream that
//!   `to`'s spec owns (a `*_event` union);
//! - **calls**: `from`'s spec imports `to`'s spec (an import whose namespace is
//!   `to`'s) *and* one of `from`'s crates depends on a package generated from `to`'s
//!   spec with the `client` generator. Either alone is no call: an import may be
//!   for types or a consumed stream only, and a package dependency without the
//!   import is reported as a warning.
//!
//! Cycles are strongly connected components. One through a stream is allowed
//! (asynchronous: each side keeps running while the other is down); one made of
//! calls alone is an error (each side needs the other to be up first). A consumed
//! stream that no workspace service owns is *dangling*, also an error.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::workspace::{Service, Workspace};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeKind {
    Consumes,
    Calls,
}

impl EdgeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Consumes => "consumes",
            EdgeKind::Calls => "calls",
        }
    }
}

/// `from` depends on `to`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
    /// For `consumes`: the stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// For `calls`: the client package `from` depends on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
}

/// A consumed stream no workspace service owns.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Dangling {
    pub service: String,
    pub stream: String,
}

/// The graph as `dev graph --format json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Graph {
    /// Sorted by name.
    pub services: Vec<Service>,
    /// Sorted by `from`, `to`, kind, stream.
    pub edges: Vec<Edge>,
    /// Every cycle (strongly connected component of two or more services), its
    /// names sorted; the list sorted.
    pub cycles: Vec<Vec<String>>,
    /// The cycles made of `calls` edges alone: errors.
    pub sync_cycles: Vec<Vec<String>>,
    pub dangling: Vec<Dangling>,
    /// Findings that are not errors.
    pub warnings: Vec<String>,
}

impl Graph {
    pub fn build(workspace: &Workspace) -> Graph {
        let services = &workspace.services;
        let mut owners: BTreeMap<&str, &Service> = BTreeMap::new();
        for s in services {
            for stream in &s.streams {
                owners.insert(stream, s);
            }
        }
        let mut edges = BTreeSet::new();
        let mut dangling = BTreeSet::new();
        let mut warnings = Vec::new();
        for s in services {
            for stream in &s.consumes {
                match owners.get(stream.as_str()) {
                    Some(owner) => {
                        edges.insert(Edge {
                            from: s.name.clone(),
                            to: owner.name.clone(),
                            kind: EdgeKind::Consumes,
                            stream: Some(stream.clone()),
                            package: None,
                        });
                    }
                    None => {
                        dangling.insert(Dangling {
                            service: s.name.clone(),
                            stream: stream.clone(),
                        });
                    }
                }
            }
            for other in services.iter().filter(|o| o.name != s.name) {
                let Some(package) = other
                    .client_packages
                    .iter()
                    .find(|p| s.dependencies.contains(*p))
                else {
                    continue;
                };
                if s.imports.contains(&other.namespace) {
                    edges.insert(Edge {
                        from: s.name.clone(),
                        to: other.name.clone(),
                        kind: EdgeKind::Calls,
                        stream: None,
                        package: Some(package.clone()),
                    });
                } else {
                    warnings.push(format!(
                        "{} depends on `{package}`, the client of {}, but its spec does not import {} ({}): \
                         not counted as a call",
                        s.name, other.name, other.spec, other.namespace
                    ));
                }
            }
        }
        let edges: Vec<Edge> = edges.into_iter().collect();
        let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
        let all_cycles = cycles(&names, edges.iter());
        let sync_cycles = cycles(&names, edges.iter().filter(|e| e.kind == EdgeKind::Calls));
        Graph {
            services: services.clone(),
            edges,
            cycles: all_cycles,
            sync_cycles,
            dangling: dangling.into_iter().collect(),
            warnings,
        }
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// Whether the graph has errors: a synchronous cycle or a dangling consume.
    pub fn has_errors(&self) -> bool {
        !self.sync_cycles.is_empty() || !self.dangling.is_empty()
    }

    /// The services `name` depends on directly.
    pub fn dependencies(&self, name: &str) -> BTreeSet<&str> {
        self.edges
            .iter()
            .filter(|e| e.from == name)
            .map(|e| e.to.as_str())
            .collect()
    }

    /// The services that depend on `name` directly.
    pub fn dependents(&self, name: &str) -> BTreeSet<&str> {
        self.edges
            .iter()
            .filter(|e| e.to == name)
            .map(|e| e.from.as_str())
            .collect()
    }

    /// Every service's layer: 0 for those that depend on nobody, else one more than
    /// the deepest service they depend on. The services of one cycle share a layer
    /// (they are deployed together), so this is defined for any graph.
    pub fn layers(&self) -> BTreeMap<String, usize> {
        let names: Vec<&str> = self.services.iter().map(|s| s.name.as_str()).collect();
        let components = components(&names, self.edges.iter());
        let component_of: BTreeMap<&str, usize> = components
            .iter()
            .enumerate()
            .flat_map(|(i, c)| c.iter().map(move |n| (n.as_str(), i)))
            .collect();
        // Tarjan's algorithm emits a component after every component it reaches,
        // so dependencies are numbered first: one pass in order settles layers.
        let mut component_layer = vec![0usize; components.len()];
        for (i, members) in components.iter().enumerate() {
            let mut layer = 0;
            for e in self.edges.iter().filter(|e| members.contains(&e.from)) {
                let dep = component_of[e.to.as_str()];
                if dep != i {
                    layer = layer.max(component_layer[dep] + 1);
                }
            }
            component_layer[i] = layer;
        }
        names
            .iter()
            .map(|n| (n.to_string(), component_layer[component_of[n]]))
            .collect()
    }
}

/// Strongly connected components of two or more services, sorted.
fn cycles<'e>(names: &[&str], edges: impl Iterator<Item = &'e Edge>) -> Vec<Vec<String>> {
    let mut found: Vec<Vec<String>> = components(names, edges)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| c.into_iter().collect())
        .collect();
    found.sort();
    found
}

/// Tarjan's strongly connected components, dependencies before dependents.
///
/// Hand-written rather than taken from a graph library: workspaces have tens of
/// services, and this and [`Graph::layers`] are the only graph algorithms needed.
fn components<'e>(names: &[&str], edges: impl Iterator<Item = &'e Edge>) -> Vec<BTreeSet<String>> {
    let index_of: BTreeMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let mut succ: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); names.len()];
    for e in edges {
        if let (Some(&f), Some(&t)) = (index_of.get(e.from.as_str()), index_of.get(e.to.as_str())) {
            succ[f].insert(t);
        }
    }
    struct State {
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(v: usize, succ: &[BTreeSet<usize>], st: &mut State) {
        st.index[v] = Some(st.next);
        st.low[v] = st.next;
        st.next += 1;
        st.stack.push(v);
        st.on_stack[v] = true;
        for &w in &succ[v] {
            match st.index[w] {
                None => {
                    visit(w, succ, st);
                    st.low[v] = st.low[v].min(st.low[w]);
                }
                Some(iw) if st.on_stack[w] => st.low[v] = st.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(st.low[v]) == st.index[v] {
            let mut component = Vec::new();
            while let Some(w) = st.stack.pop() {
                st.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            st.out.push(component);
        }
    }
    let n = names.len();
    let mut st = State {
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if st.index[v].is_none() {
            visit(v, &succ, &mut st);
        }
    }
    st.out
        .into_iter()
        .map(|c| c.into_iter().map(|i| names[i].to_string()).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(from: &str, to: &str, kind: EdgeKind) -> Edge {
        Edge {
            from: from.into(),
            to: to.into(),
            kind,
            stream: None,
            package: None,
        }
    }

    #[test]
    fn components_come_dependencies_first() {
        let names = ["a", "b", "c", "d"];
        let edges = [
            edge("a", "b", EdgeKind::Calls),
            edge("b", "c", EdgeKind::Consumes),
            edge("c", "b", EdgeKind::Consumes),
            edge("d", "a", EdgeKind::Calls),
        ];
        let comps = components(&names, edges.iter());
        let order: Vec<Vec<&str>> = comps
            .iter()
            .map(|c| c.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(order, vec![vec!["b", "c"], vec!["a"], vec!["d"]]);
        assert_eq!(cycles(&names, edges.iter()), vec![vec!["b", "c"]]);
        assert!(cycles(&names, edges.iter().filter(|e| e.kind == EdgeKind::Calls)).is_empty());
    }
}
