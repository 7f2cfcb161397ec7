//! Breaking-change detection between two versions of a spec.
//!
//! [`diff`] walks two [`Spec`]s side by side and reports every [`Change`]: what
//! changed ([`Category`]), where (a dotted path such as `models.user.fields.email`
//! and the spans in both versions), and whether it breaks someone ([`ChangeKind`]).
//!
//! The rules start from apibuilder's `ServiceDiff` (everything it calls breaking is
//! breaking here too) and add what it cannot see:
//! - wire renames: an enum value's `value` or a union member's `discriminator_value`
//!   changing breaks every reader while the spec "looks" the same;
//! - direction: a field becoming optional, or a default changing, is judged by
//!   whether the type is sent by clients, returned to them, or stored as an event;
//! - events: anything inside a type reached from a `*_event` stream union is in the
//!   [`Scope::Event`] and judged by what already-stored events and still-deployed
//!   consumers need (its id is prefixed `event-`); a type requests or responses
//!   reach too is also judged for API clients, so one change may be reported in
//!   both scopes.
//!
//! Breaking changes are *blocking* unless allowed: by a `[diff] allow` rule
//! ([`DiffConfig`]), or because the namespace moved to a new major version
//! (`io.acme.users.v0` → `io.acme.users.v1`), which is how a spec says "this is a new API".

mod category;
mod config;
mod engine;
mod usage;

use blueprint_spec::{Span, Spec};
use serde::Serialize;

pub use category::{Category, Scope};
pub use config::{AllowError, AllowRule, DiffConfig, DiffSection, glob_match, parse_id};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    Breaking,
    NonBreaking,
}

/// Why a breaking change does not block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "kebab-case")]
pub enum Allowed {
    /// A `[diff] allow` rule, as written.
    Rule { rule: String },
    /// The namespace moved to a new major version.
    MajorVersion { from: String, to: String },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub scope: Scope,
    pub category: Category,
    /// Dotted location in the spec: `models.user.fields.email`,
    /// `resources.user.operations.GET /users/:id.parameters.limit`.
    pub path: String,
    pub message: String,
    /// Where the changed element is in the old spec (absent for additions).
    #[serde(skip)]
    pub old_span: Option<Span>,
    /// Where it is in the new spec (for removals: its former parent, when known).
    #[serde(skip)]
    pub new_span: Option<Span>,
    /// Set when a breaking change is accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Allowed>,
}

impl Change {
    /// The id allow rules match: the category, `event-` prefixed in the event scope.
    pub fn id(&self) -> String {
        match self.scope {
            Scope::Api => self.category.as_str().to_string(),
            Scope::Event => format!("event-{}", self.category.as_str()),
        }
    }

    pub fn is_breaking(&self) -> bool {
        self.kind == ChangeKind::Breaking
    }

    /// Breaking and not allowed.
    pub fn is_blocking(&self) -> bool {
        self.is_breaking() && self.allowed.is_none()
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// In walk order: service, headers, imports, types, resources.
    pub changes: Vec<Change>,
    /// `(old, new)` namespaces when the namespace moved to a higher major version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub major_version_bump: Option<(String, String)>,
}

impl Report {
    pub fn breaking(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.is_breaking())
    }

    pub fn non_breaking(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| !c.is_breaking())
    }

    pub fn blocking(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.is_blocking())
    }

    /// Whether a breaking change is neither allowed nor covered by a major version.
    pub fn is_blocked(&self) -> bool {
        self.blocking().next().is_some()
    }
}

/// Every change from `old` to `new`, classified, with allowances applied.
pub fn diff(old: &Spec, new: &Spec, config: &DiffConfig) -> Report {
    let mut changes = engine::changes(old, new);
    let major_version_bump = major_version_bump(&old.service.namespace, &new.service.namespace);
    for change in changes.iter_mut().filter(|c| c.is_breaking()) {
        change.allowed =
            if let Some(rule) = config.allowing(change.scope, change.category, &change.path) {
                Some(Allowed::Rule {
                    rule: rule.text.clone(),
                })
            } else {
                major_version_bump
                    .as_ref()
                    .map(|(from, to)| Allowed::MajorVersion {
                        from: from.clone(),
                        to: to.clone(),
                    })
            };
    }
    Report {
        changes,
        major_version_bump,
    }
}

/// `io.acme.users.v0` → `io.acme.users.v1`: same prefix, higher `v<N>` last segment.
fn major_version_bump(old: &str, new: &str) -> Option<(String, String)> {
    fn split(ns: &str) -> Option<(&str, u64)> {
        let (prefix, last) = ns.rsplit_once('.')?;
        let n = last.strip_prefix('v')?.parse().ok()?;
        Some((prefix, n))
    }
    let (old_prefix, old_major) = split(old)?;
    let (new_prefix, new_major) = split(new)?;
    (old_prefix == new_prefix && new_major > old_major).then(|| (old.to_string(), new.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_version_bumps() {
        assert!(major_version_bump("io.x.v0", "io.x.v1").is_some());
        assert!(major_version_bump("io.x.v1", "io.x.v12").is_some());
        assert!(major_version_bump("io.x.v1", "io.x.v1").is_none());
        assert!(major_version_bump("io.x.v2", "io.x.v1").is_none());
        assert!(major_version_bump("io.x.v0", "io.y.v1").is_none());
        assert!(major_version_bump("io.x", "io.x.v1").is_none());
    }
}
