//! The `[lint]` section of `blueprint.toml`:
//!
//! ```toml
//! [lint]
//! use = ["standard", "events", "db"]     # categories or rule ids (this is the default)
//! except = ["type-name-singular"]        # categories or rule ids taken out again
//! ignore = [
//!     "services/legacy/**",              # a glob: no findings at all for those specs
//!     "path-lowercase:services/old/*/spec/*.json",  # rule-id:glob: that rule only
//! ]
//! ```
//!
//! Globs are relative to the workspace root (the folder of `blueprint.toml`); `*`
//! stays within one path segment, `**` crosses them. Unknown rule ids or categories
//! are errors, so a typo can never silently turn a rule off.

use std::path::{Path, PathBuf};

use blueprint_spec::config::Config;
use serde::Deserialize;

use crate::rule::{Category, Rule};
use crate::rules;
use crate::rules::support::closest;

/// `[lint]` as written in `blueprint.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintSection {
    /// Categories or rule ids to enable; `None` means [`Category::DEFAULT`].
    #[serde(default, rename = "use")]
    pub use_: Option<Vec<String>>,
    /// Categories or rule ids to disable again.
    #[serde(default)]
    pub except: Vec<String>,
    /// `glob` or `rule-id:glob`: spec files whose findings (of that rule) are dropped.
    #[serde(default)]
    pub ignore: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LintConfigError {
    #[error("{origin}: [lint] {key}: unknown rule or category `{name}`; {help}")]
    Unknown {
        origin: String,
        key: &'static str,
        name: String,
        /// A did-you-mean, or where to find the valid names.
        help: String,
    },
    #[error("{origin}: [lint] ignore: invalid glob `{pattern}`: {message}")]
    Glob {
        origin: String,
        pattern: String,
        message: String,
    },
    #[error(transparent)]
    Config(#[from] blueprint_spec::config::ConfigError),
}

/// A resolved lint configuration: which rules run, and which files they skip.
#[derive(Debug, Clone)]
pub struct LintConfig {
    /// Parallel to [`rules()`](crate::rules()).
    enabled: Vec<bool>,
    ignores: Vec<PathIgnore>,
    /// Folder the ignore globs are relative to.
    root: PathBuf,
}

#[derive(Debug, Clone)]
struct PathIgnore {
    /// `None`: every rule.
    rules: Option<Selector>,
    pattern: glob::Pattern,
}

/// A rule id or a category, as named in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Selector {
    Rule(&'static str),
    Category(Category),
}

impl Selector {
    fn parse(name: &str) -> Option<Selector> {
        if let Some(c) = Category::parse(name) {
            return Some(Selector::Category(c));
        }
        rules::find(name).map(|r| Selector::Rule(r.id))
    }

    fn selects(&self, rule: &Rule) -> bool {
        match self {
            Selector::Rule(id) => rule.id == *id,
            Selector::Category(c) => c.includes(rule.category),
        }
    }
}

impl Default for LintConfig {
    /// The default categories, nothing ignored.
    fn default() -> Self {
        LintConfig::from_selectors(
            &Category::DEFAULT.map(Selector::Category),
            &[],
            Vec::new(),
            PathBuf::new(),
        )
    }
}

impl LintConfig {
    /// Every rule of every category.
    pub fn all() -> Self {
        LintConfig::from_selectors(
            &[Category::Strict, Category::Events, Category::Db].map(Selector::Category),
            &[],
            Vec::new(),
            PathBuf::new(),
        )
    }

    /// The `[lint]` section of a workspace config (defaults when absent).
    pub fn from_config(config: &Config) -> Result<Self, LintConfigError> {
        let section: LintSection = config.section("lint")?;
        let origin = config
            .path
            .as_deref()
            .unwrap_or(Path::new(blueprint_spec::config::FILE_NAME))
            .display()
            .to_string();
        LintConfig::from_section(&section, &config.root, &origin)
    }

    /// Resolve a section; `root` is what ignore globs are relative to, `origin`
    /// names the config in errors.
    pub fn from_section(
        section: &LintSection,
        root: &Path,
        origin: &str,
    ) -> Result<Self, LintConfigError> {
        let selectors = |key: &'static str, names: &[String]| {
            names
                .iter()
                .map(|name| Selector::parse(name.trim()).ok_or_else(|| unknown(origin, key, name)))
                .collect::<Result<Vec<_>, _>>()
        };
        let use_ = match &section.use_ {
            None => Category::DEFAULT.map(Selector::Category).to_vec(),
            Some(names) => selectors("use", names)?,
        };
        let except = selectors("except", &section.except)?;
        let ignores = section
            .ignore
            .iter()
            .map(|entry| parse_ignore(entry, origin))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(LintConfig::from_selectors(
            &use_,
            &except,
            ignores,
            root.to_path_buf(),
        ))
    }

    fn from_selectors(
        use_: &[Selector],
        except: &[Selector],
        ignores: Vec<PathIgnore>,
        root: PathBuf,
    ) -> Self {
        let enabled = rules::all()
            .iter()
            .map(|r| use_.iter().any(|s| s.selects(r)) && !except.iter().any(|s| s.selects(r)))
            .collect();
        LintConfig {
            enabled,
            ignores,
            root,
        }
    }

    /// Only the given rules (by id); unknown ids are ignored. For tests and tools.
    pub fn only(ids: &[&str]) -> Self {
        let enabled = rules::all().iter().map(|r| ids.contains(&r.id)).collect();
        LintConfig {
            enabled,
            ignores: Vec::new(),
            root: PathBuf::new(),
        }
    }

    pub fn is_enabled(&self, rule: &Rule) -> bool {
        rules::all()
            .iter()
            .position(|r| r.id == rule.id)
            .and_then(|i| self.enabled.get(i).copied())
            .unwrap_or(false)
    }

    /// The rules that run, in registry order.
    pub fn enabled_rules(&self) -> impl Iterator<Item = &'static Rule> + '_ {
        rules::all()
            .iter()
            .zip(&self.enabled)
            .filter_map(|(r, on)| on.then_some(r))
    }

    /// Whether `[lint] ignore` drops findings of `rule` in the spec file `path`.
    pub fn ignores_file(&self, rule: &Rule, path: &Path) -> bool {
        if self.ignores.is_empty() {
            return false;
        }
        let relative = relative_to(path, &self.root);
        let options = glob::MatchOptions {
            require_literal_separator: true,
            ..glob::MatchOptions::new()
        };
        self.ignores.iter().any(|ig| {
            ig.rules.is_none_or(|s| s.selects(rule))
                && ig.pattern.matches_path_with(&relative, options)
        })
    }
}

/// `glob` or `rule-id:glob` (or `category:glob`).
fn parse_ignore(entry: &str, origin: &str) -> Result<PathIgnore, LintConfigError> {
    let entry = entry.trim();
    let (rules, pattern) = match entry.split_once(':') {
        Some((name, pattern)) if looks_like_rule_id(name) => {
            let selector = Selector::parse(name).ok_or_else(|| unknown(origin, "ignore", name))?;
            (Some(selector), pattern)
        }
        _ => (None, entry),
    };
    let pattern = glob::Pattern::new(pattern).map_err(|e| LintConfigError::Glob {
        origin: origin.to_string(),
        pattern: pattern.to_string(),
        message: e.msg.to_string(),
    })?;
    Ok(PathIgnore { rules, pattern })
}

fn unknown(origin: &str, key: &'static str, name: &str) -> LintConfigError {
    let names = Category::ALL
        .iter()
        .map(|c| c.as_str())
        .chain(rules::all().iter().map(|r| r.id));
    let help = match closest(name.trim(), names) {
        Some(close) => format!("did you mean `{close}`?"),
        None => "categories are minimal, standard, strict, events and db; \
                 `dev lint --list-rules` lists the rule ids"
            .to_string(),
    };
    LintConfigError::Unknown {
        origin: origin.to_string(),
        key,
        name: name.to_string(),
        help,
    }
}

fn looks_like_rule_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `path` relative to `root` when it is inside it (absolute paths are compared
/// absolutely, relative ones as seen from the current directory).
fn relative_to(path: &Path, root: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
    absolute
        .strip_prefix(&root)
        .map(Path::to_path_buf)
        .unwrap_or(absolute)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(toml_text: &str) -> LintSection {
        let table: toml::Table = toml::from_str(toml_text).expect("valid toml");
        table["lint"].clone().try_into().expect("valid [lint]")
    }

    fn ids(config: &LintConfig) -> Vec<&'static str> {
        config.enabled_rules().map(|r| r.id).collect()
    }

    #[test]
    fn default_is_standard_events_db() {
        let config = LintConfig::default();
        for rule in rules::all() {
            let expected = rule.category != Category::Strict;
            assert_eq!(config.is_enabled(rule), expected, "{}", rule.id);
        }
    }

    #[test]
    fn use_and_except_select_by_category_and_id() {
        let s = section(
            "[lint]\nuse = [\"minimal\", \"db\", \"type-name-singular\"]\nexcept = [\"path-lowercase\"]\n",
        );
        let config = LintConfig::from_section(&s, Path::new("/ws"), "blueprint.toml").expect("ok");
        let on = ids(&config);
        assert!(on.contains(&"type-name-singular"));
        assert!(on.contains(&"path-no-trailing-slash"));
        assert!(on.contains(&"db-journal-events"));
        assert!(!on.contains(&"path-lowercase"));
        assert!(!on.contains(&"event-union-name"));
        for rule in rules::all() {
            if on.contains(&rule.id) {
                assert!(
                    matches!(rule.category, Category::Minimal | Category::Db)
                        || rule.id == "type-name-singular"
                );
            }
        }
    }

    #[test]
    fn unknown_names_are_errors() {
        for text in [
            "[lint]\nuse = [\"standrd\"]\n",
            "[lint]\nuse = [\"everything\"]\n",
            "[lint]\nexcept = [\"no-such-rule\"]\n",
            "[lint]\nignore = [\"no-such-rule:**/*.json\"]\n",
        ] {
            let err = LintConfig::from_section(&section(text), Path::new("/ws"), "b.toml")
                .expect_err(text);
            assert!(
                err.to_string().contains("unknown rule or category"),
                "{err}"
            );
        }
        let err = LintConfig::from_section(
            &section("[lint]\nignore = [\"a/[b\"]\n"),
            Path::new("/ws"),
            "b.toml",
        )
        .expect_err("bad glob");
        assert!(err.to_string().contains("invalid glob"), "{err}");
    }

    #[test]
    fn unknown_keys_are_errors() {
        let table: toml::Table = toml::from_str("[lint]\nuses = []\n").expect("toml");
        assert!(table["lint"].clone().try_into::<LintSection>().is_err());
    }

    #[test]
    fn ignore_globs_are_relative_to_the_root() {
        let s = section(
            "[lint]\nignore = [\"legacy/**\", \"path-lowercase:services/*/spec/*.json\"]\n",
        );
        let config = LintConfig::from_section(&s, Path::new("/ws"), "b.toml").expect("ok");
        let lower = rules::find("path-lowercase").expect("rule");
        let slash = rules::find("path-no-trailing-slash").expect("rule");
        assert!(config.ignores_file(slash, Path::new("/ws/legacy/a/b.json")));
        assert!(config.ignores_file(lower, Path::new("/ws/services/users/spec/users.json")));
        assert!(!config.ignores_file(slash, Path::new("/ws/services/users/spec/users.json")));
        // `*` does not cross directories.
        assert!(!config.ignores_file(lower, Path::new("/ws/services/a/b/spec/users.json")));
    }
}
