//! Diagnostics: what every stage (load, validate, lint, diff) reports about a spec.
//!
//! A diagnostic is plain data (code, message, span, hint). Rendering is separate:
//! [`render_human`] draws it like rustc (miette's graphical handler: file:line:col,
//! the offending line with a caret, the hint), [`Diagnostic::to_json`] serialises it.

use std::fmt;

use serde::Serialize;

use crate::source::{SourceMap, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// A secondary location attached to a diagnostic ("first defined here").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable identifier: `spec/<rule>` for validation, the rule id for lint.
    pub code: String,
    pub message: String,
    pub span: Option<Span>,
    pub hint: Option<String>,
    pub labels: Vec<Label>,
}

impl Diagnostic {
    pub fn error(code: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code: code.into(),
            message: message.into(),
            span: None,
            hint: None,
            labels: Vec::new(),
        }
    }

    pub fn warning(code: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn at(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    pub fn at_opt(mut self, span: Option<Span>) -> Self {
        self.span = span.or(self.span);
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// `path:line:col` of the primary span, when it has one.
    pub fn location(&self, sources: &SourceMap) -> Option<String> {
        let (path, line, col) = sources.locate(self.span?)?;
        Some(format!("{}:{line}:{col}", path.display()))
    }

    /// A compact one-line form used by snapshot tests and `--format short`:
    /// `error[code] path:line:col: message`.
    pub fn to_short(&self, sources: &SourceMap) -> String {
        match self.location(sources) {
            Some(loc) => format!("{}[{}] {loc}: {}", self.severity, self.code, self.message),
            None => format!("{}[{}]: {}", self.severity, self.code, self.message),
        }
    }

    pub fn to_json(&self, sources: &SourceMap) -> serde_json::Value {
        let located = self.span.and_then(|s| sources.locate(s));
        serde_json::json!({
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "file": located.map(|(p, _, _)| p.display().to_string()),
            "line": located.map(|(_, l, _)| l),
            "column": located.map(|(_, _, c)| c),
            "hint": self.hint,
        })
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]: {}", self.severity, self.code, self.message)
    }
}

/// A list of diagnostics, usually the reason a spec failed to load.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// Sort by file, then position, so output is stable whatever order checks ran in.
    pub fn sort(&mut self) {
        self.0.sort_by_key(|d| {
            (
                d.span.map(|s| (s.file, s.start, s.end)),
                d.code.clone(),
                d.message.clone(),
            )
        });
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl Extend<Diagnostic> for Diagnostics {
    fn extend<T: IntoIterator<Item = Diagnostic>>(&mut self, iter: T) {
        self.0.extend(iter);
    }
}

/// Render like rustc: header, `--> file:line:col`, the source line with a caret
/// under the span, secondary labels, and the hint.
pub fn render_human(d: &Diagnostic, sources: &SourceMap, color: bool) -> String {
    use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic};

    let mut md = MietteDiagnostic::new(d.message.clone())
        .with_code(d.code.clone())
        .with_severity(match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        });
    if let Some(hint) = &d.hint {
        md = md.with_help(hint.clone());
    }
    let file = d.span.and_then(|s| sources.get(s.file));
    let mut out = String::new();
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_context_lines(1);
    let result = match (d.span, file) {
        (Some(span), Some(file)) => {
            let mut labels = vec![LabeledSpan::new_primary_with_span(
                None,
                (span.start as usize, span.len().max(1)),
            )];
            for l in d.labels.iter().filter(|l| l.span.file == span.file) {
                labels.push(LabeledSpan::new_with_span(
                    Some(l.message.clone()),
                    (l.span.start as usize, l.span.len().max(1)),
                ));
            }
            // miette appends `:line:col` of the primary label to the source name.
            let src = miette::NamedSource::new(file.path.display().to_string(), file.text.clone());
            let report = miette::Report::new(md.with_labels(labels)).with_source_code(src);
            handler.render_report(&mut out, report.as_ref())
        }
        _ => {
            let report = miette::Report::new(md);
            handler.render_report(&mut out, report.as_ref())
        }
    };
    if result.is_err() {
        // Rendering into a String cannot fail in practice; fall back to the plain form.
        return format!("{}\n", d.to_short(sources));
    }
    out
}
