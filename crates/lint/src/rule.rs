//! What a rule is: an id, a category, a severity, a rationale and a check.

use std::fmt;

use blueprint_spec::diag::Label;
use blueprint_spec::ir::{Model, Service, Spec, TypeRef};
use blueprint_spec::{Diagnostic, Severity, Span};
use serde::Serialize;

/// Rule categories, like buf's: `minimal` ⊂ `standard` ⊂ `strict` are nested levels
/// of API design rules; `events` and `db` are independent sets for Blueprint's
/// stream and table conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Mistakes: things that are wrong whatever the house style.
    Minimal,
    /// The house style every service follows (Flow's api-lint conventions).
    Standard,
    /// Pedantic: descriptions everywhere, no untyped JSON, boolean naming.
    Strict,
    /// Event streams: `*_event` unions and their event models.
    Events,
    /// `db` attributes: tables, keys, indexes, journals.
    Db,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Minimal,
        Category::Standard,
        Category::Strict,
        Category::Events,
        Category::Db,
    ];

    /// What `[lint] use` means when it is not set.
    pub const DEFAULT: [Category; 3] = [Category::Standard, Category::Events, Category::Db];

    pub fn as_str(&self) -> &'static str {
        match self {
            Category::Minimal => "minimal",
            Category::Standard => "standard",
            Category::Strict => "strict",
            Category::Events => "events",
            Category::Db => "db",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether enabling `self` enables the rules of category `rule`
    /// (the levels nest: `strict` includes `standard` includes `minimal`).
    pub fn includes(self, rule: Category) -> bool {
        use Category::*;
        match self {
            Minimal => rule == Minimal,
            Standard => matches!(rule, Minimal | Standard),
            Strict => matches!(rule, Minimal | Standard | Strict),
            Events => rule == Events,
            Db => rule == Db,
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The signature every rule's check has: read the spec, push findings.
pub type Check = fn(&Context<'_>, &mut Vec<Finding>);

/// A lint rule. The registry of all of them is [`crate::rules()`].
#[derive(Clone, Copy)]
pub struct Rule {
    /// Stable kebab-case id: the diagnostic code, and what config and `linter`
    /// attributes name.
    pub id: &'static str,
    pub category: Category,
    pub severity: Severity,
    /// One line: why the rule exists.
    pub rationale: &'static str,
    /// Names Flow's api-lint uses for the same check, accepted in `linter` ignores
    /// so existing Flow specs keep their suppressions.
    pub aliases: &'static [&'static str],
    pub(crate) check: Check,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("id", &self.id)
            .field("category", &self.category)
            .field("severity", &self.severity)
            .finish_non_exhaustive()
    }
}

impl Rule {
    /// Whether a name from a `linter` ignore list means this rule. Flow writes
    /// snake_case names, so `_` and `-` are interchangeable.
    pub fn is_named(&self, name: &str) -> bool {
        let name = name.trim().to_ascii_lowercase().replace('_', "-");
        self.id == name || self.aliases.iter().any(|a| a.replace('_', "-") == name)
    }
}

/// One finding of a rule, before it becomes a [`Diagnostic`] with the rule's id and
/// severity.
#[derive(Debug, Clone)]
pub struct Finding {
    pub span: Span,
    pub message: String,
    pub hint: Option<String>,
    pub labels: Vec<Label>,
}

impl Finding {
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Finding {
            span,
            message: message.into(),
            hint: None,
            labels: Vec::new(),
        }
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

    pub(crate) fn into_diagnostic(self, rule: &Rule) -> Diagnostic {
        let mut d = match rule.severity {
            Severity::Error => Diagnostic::error(rule.id, self.message),
            Severity::Warning => Diagnostic::warning(rule.id, self.message),
        }
        .at(self.span);
        d.hint = self.hint;
        d.labels = self.labels;
        d
    }
}

/// What a rule sees: the spec, with shortcuts for the local service.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub spec: &'a Spec,
    /// The service being linted (imports are not linted: they have their own owners).
    pub service: &'a Service,
}

impl<'a> Context<'a> {
    pub fn new(spec: &'a Spec) -> Self {
        Context {
            spec,
            service: &spec.service,
        }
    }

    /// The model a type refers to (in this service or an import).
    pub fn model(&self, t: &TypeRef) -> Option<&'a Model> {
        self.spec.resolve_model(t.named()?)
    }

    /// A type as the spec's author wrote it (local types unqualified).
    pub fn show(&self, t: &TypeRef) -> String {
        t.display_in(&self.service.namespace)
    }
}
