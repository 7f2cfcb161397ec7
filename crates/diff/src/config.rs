//! `[diff]` in `blueprint.toml`: which breaking changes are accepted on purpose.
//!
//! ```toml
//! [diff]
//! allow = [
//!   "field-removed:models.user.fields.nickname",   # one category at matching paths
//!   "enum-value-removed:enums.*.values.legacy_*",  # `*` stays within a path segment
//!   "resources.internal_job.**",                   # any change under a path (`**` crosses segments)
//!   "event-field-type-changed:**",                 # a whole category
//! ]
//! ```
//!
//! A rule is `<category>:<path glob>` or just `<path glob>`. Categories are the ids in
//! [`crate::Category`], with `event-` in front for changes inside event models.

use serde::Deserialize;

use crate::category::{Category, Scope};

/// The `[diff]` section as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffSection {
    #[serde(default)]
    pub allow: Vec<String>,
}

/// Parsed diff settings.
#[derive(Debug, Clone, Default)]
pub struct DiffConfig {
    pub allow: Vec<AllowRule>,
}

/// One `allow` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowRule {
    /// As written, for reports.
    pub text: String,
    /// `None` matches every category.
    pub category: Option<(Scope, Category)>,
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllowError {
    #[error("[diff] allow: unknown category `{0}` (see `dev diff --help` for the list)")]
    UnknownCategory(String),
    #[error("[diff] allow: empty rule")]
    Empty,
}

impl DiffConfig {
    pub fn from_section(section: &DiffSection) -> Result<Self, AllowError> {
        let allow = section
            .allow
            .iter()
            .map(|r| AllowRule::parse(r))
            .collect::<Result<_, _>>()?;
        Ok(DiffConfig { allow })
    }

    /// The first rule allowing a change with this id (`event-field-removed`) at `path`.
    pub fn allowing(&self, scope: Scope, category: Category, path: &str) -> Option<&AllowRule> {
        self.allow.iter().find(|r| r.matches(scope, category, path))
    }
}

impl AllowRule {
    pub fn parse(text: &str) -> Result<Self, AllowError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(AllowError::Empty);
        }
        // Paths always contain a `.` before any `:` (`resources.x.operations.GET /a/:id`),
        // category ids never do; so a leading `word-word:` is a category.
        if let Some((head, rest)) = trimmed.split_once(':') {
            let looks_like_id = !head.is_empty()
                && head
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || c == '_');
            if looks_like_id {
                let category =
                    parse_id(head).ok_or_else(|| AllowError::UnknownCategory(head.to_string()))?;
                return Ok(AllowRule {
                    text: text.to_string(),
                    category: Some(category),
                    path: rest.trim().to_string(),
                });
            }
        }
        Ok(AllowRule {
            text: text.to_string(),
            category: None,
            path: trimmed.to_string(),
        })
    }

    pub fn matches(&self, scope: Scope, category: Category, path: &str) -> bool {
        self.category.is_none_or(|c| c == (scope, category)) && glob_match(&self.path, path)
    }
}

/// `field-removed` or `event-field-removed`.
pub fn parse_id(id: &str) -> Option<(Scope, Category)> {
    match id.strip_prefix("event-") {
        Some(rest) => Category::parse(rest).map(|c| (Scope::Event, c)),
        None => Category::parse(id).map(|c| (Scope::Api, c)),
    }
}

/// `*` matches within one `.`-separated segment, `**` across segments; the rest is literal.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    glob_at(&p, &t)
}

fn glob_at(p: &[char], t: &[char]) -> bool {
    match p {
        [] => t.is_empty(),
        ['*', '*', rest @ ..] => (0..=t.len()).any(|i| glob_at(rest, &t[i..])),
        ['*', rest @ ..] => {
            // Stop at the next segment separator.
            let limit = t.iter().position(|&c| c == '.').unwrap_or(t.len());
            (0..=limit).any(|i| glob_at(rest, &t[i..]))
        }
        [c, rest @ ..] => t.first() == Some(c) && glob_at(rest, &t[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match(
            "models.user.fields.email",
            "models.user.fields.email"
        ));
        assert!(glob_match(
            "models.*.fields.email",
            "models.user.fields.email"
        ));
        assert!(!glob_match("models.*", "models.user.fields.email"));
        assert!(glob_match("models.**", "models.user.fields.email"));
        assert!(glob_match("**", "resources.user.operations.GET /users/:id"));
        assert!(glob_match(
            "enums.*.values.legacy_*",
            "enums.status.values.legacy_x"
        ));
        assert!(!glob_match(
            "enums.*.values.legacy_*",
            "enums.status.values.active"
        ));
    }

    #[test]
    fn rules_parse_categories_and_paths() {
        let r = AllowRule::parse("field-removed:models.user.**").expect("valid");
        assert_eq!(r.category, Some((Scope::Api, Category::FieldRemoved)));
        assert!(r.matches(Scope::Api, Category::FieldRemoved, "models.user.fields.a"));
        assert!(!r.matches(Scope::Event, Category::FieldRemoved, "models.user.fields.a"));

        let r = AllowRule::parse("event-field-removed:**").expect("valid");
        assert_eq!(r.category, Some((Scope::Event, Category::FieldRemoved)));

        let r = AllowRule::parse("resources.user.operations.GET /users/:id").expect("valid");
        assert_eq!(r.category, None);
        assert!(r.matches(
            Scope::Api,
            Category::OperationRemoved,
            "resources.user.operations.GET /users/:id"
        ));

        assert_eq!(
            AllowRule::parse("field-gone:models.x"),
            Err(AllowError::UnknownCategory("field-gone".into()))
        );
        assert_eq!(AllowRule::parse("  "), Err(AllowError::Empty));
    }
}
