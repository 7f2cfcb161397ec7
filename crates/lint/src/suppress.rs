//! Per-element suppression through the Flow-compatible `linter` attribute:
//! `{"name": "linter", "value": {"ignore": ["rule-id", ...]}}` on any element
//! silences those rules for the element and everything written inside it.
//!
//! "Inside" is decided by source spans: a finding is suppressed when its span lies
//! within the span of an element that ignores its rule. That way every rule gets
//! suppression for free, whatever element it reports on. Service-level ignores
//! apply to the whole spec.

use blueprint_spec::Span;
use blueprint_spec::ir::{Documented, Service, linter_ignores};

use crate::rule::Rule;

/// Every element of a service that can carry attributes.
pub(crate) fn for_each_element<'a>(service: &'a Service, mut f: impl FnMut(&'a dyn Documented)) {
    f(service);
    for h in &service.headers {
        f(h);
    }
    for e in &service.enums {
        f(e);
        for v in &e.values {
            f(v);
        }
    }
    for i in &service.interfaces {
        f(i);
        for field in &i.fields {
            f(field);
        }
    }
    for m in &service.models {
        f(m);
        for field in &m.fields {
            f(field);
        }
    }
    for u in &service.unions {
        f(u);
        for t in &u.types {
            f(t);
        }
    }
    for r in &service.resources {
        f(r);
        for op in &r.operations {
            f(op);
            if let Some(body) = &op.body {
                f(body);
            }
            for p in &op.parameters {
                f(p);
            }
            for resp in &op.responses {
                f(resp);
                for h in &resp.headers {
                    f(h);
                }
            }
        }
    }
}

/// The `linter` ignores of one service, ready to test findings against.
#[derive(Debug, Default)]
pub(crate) struct Suppressions<'a> {
    /// Ignores on the service itself: they apply everywhere.
    global: Vec<&'a str>,
    /// Ignores on inner elements, with the element's span.
    regions: Vec<(Span, Vec<&'a str>)>,
}

impl<'a> Suppressions<'a> {
    pub(crate) fn collect(service: &'a Service) -> Self {
        let mut s = Suppressions {
            global: linter_ignores(&service.attributes),
            regions: Vec::new(),
        };
        for_each_element(service, |element| {
            if element.span() == service.span {
                return;
            }
            let names = linter_ignores(element.attributes());
            if !names.is_empty() {
                s.regions.push((element.span(), names));
            }
        });
        s
    }

    /// The service ignores `rule` everywhere.
    pub(crate) fn ignores_everywhere(&self, rule: &Rule) -> bool {
        self.global.iter().any(|n| rule.is_named(n))
    }

    /// A finding of `rule` at `span` falls inside an element that ignores it.
    pub(crate) fn ignores(&self, rule: &Rule, span: Span) -> bool {
        self.ignores_everywhere(rule)
            || self.regions.iter().any(|(region, names)| {
                contains(*region, span) && names.iter().any(|n| rule.is_named(n))
            })
    }
}

fn contains(outer: Span, inner: Span) -> bool {
    outer.file == inner.file && outer.start <= inner.start && inner.end <= outer.end
}
