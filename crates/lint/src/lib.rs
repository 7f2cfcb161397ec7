//! Blueprint's linter: design rules over the spec IR.
//!
//! A [`Rule`] has a kebab-case id, a [`Category`] (`minimal` ⊂ `standard` ⊂
//! `strict`, plus `events` and `db`), a severity, a one-line rationale and a check
//! that reads the IR and reports findings. [`lint`] runs the rules a
//! [`LintConfig`] enables over the service of a loaded spec (never its imports:
//! they are linted where they are owned) and returns plain [`Diagnostic`]s whose
//! code is the rule id, sorted by position.
//!
//! Findings are suppressed by `[lint] ignore` globs (per file) and by the
//! Flow-compatible `linter` attribute on any element (for that element and
//! everything written inside it, decided by source spans).

pub mod config;
mod rule;
mod rules;
mod suppress;

pub use blueprint_spec::Diagnostic;
pub use config::{LintConfig, LintConfigError, LintSection};
pub use rule::{Category, Rule};
pub use rules::{all as rules, find as find_rule};

use blueprint_spec::{SourceMap, Span, Spec};

use crate::rule::Context;
use crate::suppress::Suppressions;

/// Run every rule `config` enables over `spec.service`.
pub fn lint(spec: &Spec, config: &LintConfig) -> Vec<Diagnostic> {
    let cx = Context::new(spec);
    let suppressions = Suppressions::collect(&spec.service);
    let file = spec.sources.path(spec.service.span.file);
    let mut diagnostics = Vec::new();
    let mut findings = Vec::new();
    for rule in config.enabled_rules() {
        if config.ignores_file(rule, file) || suppressions.ignores_everywhere(rule) {
            continue;
        }
        findings.clear();
        (rule.check)(&cx, &mut findings);
        diagnostics.extend(
            findings
                .drain(..)
                .filter(|f| !suppressions.ignores(rule, f.span))
                .map(|f| f.into_diagnostic(rule))
                .map(|d| first_lines(d, &spec.sources)),
        );
    }
    diagnostics.sort_by(|a, b| {
        let key = |d: &Diagnostic| d.span.map(|s| (s.file, s.start, s.end));
        key(a).cmp(&key(b)).then_with(|| a.code.cmp(&b.code))
    });
    diagnostics
}

/// Rules point at whole elements (a model, an operation), which span many lines;
/// rendered, that would print the whole element. Keep only the first line: it
/// names the element, and the message says what is wrong with it.
fn first_lines(mut d: Diagnostic, sources: &SourceMap) -> Diagnostic {
    d.span = d.span.map(|s| first_line(s, sources));
    for label in &mut d.labels {
        label.span = first_line(label.span, sources);
    }
    d
}

fn first_line(span: Span, sources: &SourceMap) -> Span {
    let snippet = sources.snippet(span);
    match snippet.find('\n') {
        Some(i) => Span::new(span.file, span.start as usize, span.start as usize + i),
        None => span,
    }
}
