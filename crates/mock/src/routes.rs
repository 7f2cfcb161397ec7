//! Match a request path against the spec's operation paths.
//!
//! Hand-rolled rather than axum's router: specs legitimately declare one path
//! under two parameter names (`/users/:id` for GET, `/users/:guid` for DELETE),
//! which axum rejects as a conflict; and a 405 needs every operation whose path
//! matches, whatever its method.

use blueprint_spec::ir::{Method, Service};

#[derive(Debug)]
enum Segment {
    Static(String),
    Param(String),
}

#[derive(Debug)]
struct Route {
    segments: Vec<Segment>,
    method: Method,
    /// Index of the resource in `Service::resources`, then of the operation in it.
    at: (usize, usize),
}

/// Every operation of a service, by path pattern.
#[derive(Debug)]
pub struct RouteTable {
    routes: Vec<Route>,
}

/// The outcome of matching a method and path.
#[derive(Debug, PartialEq, Eq)]
pub enum Match<'a> {
    Found {
        /// `(resource index, operation index)` in the service.
        at: (usize, usize),
        /// `(name, percent-decoded value)` for each `:name` segment.
        params: Vec<(&'a str, String)>,
    },
    /// The path exists under these other methods.
    MethodNotAllowed(Vec<Method>),
    NotFound,
}

impl RouteTable {
    pub fn new(service: &Service) -> Self {
        let mut routes = Vec::new();
        for (r, resource) in service.resources.iter().enumerate() {
            for (o, op) in resource.operations.iter().enumerate() {
                let segments = split(&op.path)
                    .map(|s| match s.strip_prefix(':') {
                        Some(name) => Segment::Param(name.to_string()),
                        None => Segment::Static(s.to_string()),
                    })
                    .collect();
                routes.push(Route {
                    segments,
                    method: op.method,
                    at: (r, o),
                });
            }
        }
        RouteTable { routes }
    }

    pub fn find(&self, method: &str, path: &str) -> Match<'_> {
        let request: Vec<String> = split(path).map(percent_decode).collect();
        // The most specific path pattern that matches decides, whatever the method (as
        // OpenAPI and axum match): static segments beat parameters, leftmost first, so
        // `/users/new` takes the request before `/users/:id` is considered, and a
        // method only `/users/:id` has is a 405 there.
        let matching: Vec<&Route> = self
            .routes
            .iter()
            .filter(|r| matches(r, &request))
            .collect();
        let Some(most) = matching.iter().map(|r| specificity(r)).max() else {
            return Match::NotFound;
        };
        let mut best: Option<&Route> = None;
        let mut allowed = Vec::new();
        for route in matching.into_iter().filter(|r| specificity(r) == most) {
            if route.method.as_str() != method {
                allowed.push(route.method);
            } else if best.is_none() {
                // Among equals (one path under two parameter names) the first declared wins.
                best = Some(route);
            }
        }
        match best {
            Some(route) => Match::Found {
                at: route.at,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn table(ops: &[(&str, &str)]) -> RouteTable {
        let ops: Vec<String> = ops
            .iter()
            .map(|(m, p)| format!(r#"{{"method": "{m}", "path": "{p}"}}"#))
            .collect();
        let text = format!(
            r#"{{"name": "t", "models": {{"user": {{"fields": [{{"name": "id", "type": "string"}}]}}}},
               "resources": {{"user": {{"path": "", "operations": [{}]}}}}}}"#,
            ops.join(",")
        );
        let spec = blueprint_spec::load_str("t.json", &text, &Default::default())
            .unwrap_or_else(|e| panic!("{e}"));
        RouteTable::new(&spec.service)
    }

    #[test]
    fn static_segments_beat_parameters() {
        let t = table(&[
            ("GET", "/users/:id"),
            ("GET", "/users/new"),
            ("GET", "/:a/new"),
        ]);
        assert!(matches!(
            t.find("GET", "/users/new"),
            Match::Found { at: (0, 1), .. }
        ));
        assert!(matches!(
            t.find("GET", "/users/x"),
            Match::Found { at: (0, 0), .. }
        ));
        assert!(matches!(
            t.find("GET", "/orgs/new"),
            Match::Found { at: (0, 2), .. }
        ));
    }

    #[test]
    fn other_methods_make_a_405_and_unknown_paths_a_404() {
        let t = table(&[
            ("GET", "/users/:id"),
            ("DELETE", "/users/:guid"),
            ("PUT", "/users/new"),
        ]);
        // `/users/new` is its own path: only its methods count.
        assert_eq!(
            t.find("POST", "/users/new"),
            Match::MethodNotAllowed(vec![Method::Put])
        );
        assert_eq!(
            t.find("POST", "/users/x"),
            Match::MethodNotAllowed(vec![Method::Get, Method::Delete])
        );
        assert_eq!(t.find("GET", "/users"), Match::NotFound);
        assert_eq!(t.find("GET", "/users/a/b"), Match::NotFound);
        assert!(matches!(
            t.find("DELETE", "/users/x"),
            Match::Found { at: (0, 1), .. }
        ));
    }

    #[test]
    fn parameters_are_percent_decoded() {
        let t = table(&[("GET", "/users/:id")]);
        let Match::Found { params, .. } = t.find("GET", "/users/a%2Fb%20c%zz") else {
            panic!("no match");
        };
        assert_eq!(params, [("id", "a/b c%zz".to_string())]);
    }
}
