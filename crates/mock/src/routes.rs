//! Match a request path against the spec's operation paths.
//!
//! Hand-rolled rather than axum's router: specs legitimately declare
//! `/users/:id` and `/users/:guid/x`, or one path under two parameter names, which
//! axum rejects as conflicts; and we need every matching operation to tell a 404
//! from a 405.

use blueprint_spec::ir::{Method, Operation, Service};

#[derive(Debug)]
enum Segment {
    Static(String),
    Param(String),
}

#[derive(Debug)]
struct Route {
    segments: Vec<Segment>,
    operation: usize,
}

/// Every operation of a service, by path pattern.
#[derive(Debug)]
pub struct RouteTable {
    routes: Vec<Route>,
}

/// The outcome of matching a method and path.
#[derive(Debug)]
pub enum Match<'a> {
    Found {
        operation: usize,
        /// `(name, decoded value)` for each `:name` segment.
        params: Vec<(&'a str, String)>,
    },
    /// The path exists under other methods.
    MethodNotAllowed(Vec<Method>),
    NotFound,
}

impl RouteTable {
    /// `operations` in the order [`Service::operations`] yields them; the index
    /// into that order identifies an operation.
    pub fn new(service: &Service) -> Self {
        let routes = service
            .operations()
            .enumerate()
            .map(|(i, (_, op))| Route {
                segments: split(&op.path)
                    .map(|s| match s.strip_prefix(':') {
                        Some(name) => Segment::Param(name.to_string()),
                        None => Segment::Static(s.to_string()),
                    })
                    .collect(),
                operation: i,
            })
            .collect();
        RouteTable { routes }
    }

    pub fn find<'a>(&'a self, operations: &[&Operation], method: &str, path: &str) -> Match<'a> {
        let request: Vec<String> = split(path).map(percent_decode).collect();
        let matching = self.routes.iter().filter(|r| matches(r, &request));
        let mut best: Option<&Route> = None;
        let mut allowed = Vec::new();
        for route in matching {
            let op_method = operations[route.operation].method;
            if op_method.as_str() != method {
                allowed.push(op_method);
                continue;
            }
            // Static segments beat parameters, leftmost first: `/users/new` over `/users/:id`.
            if best.is_none_or(|b| specificity(route) > specificity(b)) {
                best = Some(route);
            }
        }
        match best {
            Some(route) => Match::Found {
                operation: route.operation,
                params: route
                    .segments
                    .iter()
                    .zip(request)
                    .filter_map(|(seg, value)| match seg {
                        Segment::Param(name) => Some((name.as_str(), value)),
                        Segment::Static(_) => None,
                    })
                    .collect(),
            },
            None if allowed.is_empty() => Match::NotFound,
            None => {
                allowed.sort();
                allowed.dedup();
                Match::MethodNotAllowed(allowed)
            }
        }
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

fn matches(route: &Route, request: &[String]) -> bool {
    route.segments.len() == request.len()
        && route
            .segments
            .iter()
            .zip(request)
            .all(|(seg, value)| match seg {
                Segment::Static(s) => s == value,
                Segment::Param(_) => !value.is_empty(),
            })
}

fn specificity(route: &Route) -> Vec<bool> {
    route
        .segments
        .iter()
        .map(|s| matches!(s, Segment::Static(_)))
        .collect()
}

/// `%2F` → `/`; invalid escapes and non-UTF-8 results are kept as written.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                // Two hex digits make one byte.
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}
