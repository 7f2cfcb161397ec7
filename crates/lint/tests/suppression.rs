//! `linter` attributes and `[lint]` config silence findings where they say, and
//! nowhere else.

use blueprint_lint::{LintConfig, LintSection, lint};
use blueprint_spec::{LoadOptions, Spec, load_str};

fn load(text: &str) -> Spec {
    load_str(
        "services/users/spec/users.json",
        text,
        &LoadOptions::default(),
    )
    .unwrap_or_else(|e| panic!("fixture does not load: {:?}", e.diagnostics))
}

fn codes(spec: &Spec, config: &LintConfig) -> Vec<String> {
    lint(spec, config)
        .iter()
        .map(|d| {
            format!(
                "{} {}",
                d.code,
                d.location(&spec.sources).unwrap_or_default()
            )
        })
        .collect()
}

/// Two models with the same problem (`id: long`); the first ignores the rule.
const TWO_MODELS: &str = r#"{
  "name": "users",
  "models": {
    "user": {
      "fields": [{"name": "id", "type": "long"}],
      "attributes": [{"name": "linter", "value": {"ignore": ["field-common-types"]}}]
    },
    "group": {
      "fields": [{"name": "id", "type": "long"}]
    }
  }
}"#;

#[test]
fn element_ignore_covers_the_element_and_its_fields_only() {
    let spec = load(TWO_MODELS);
    let found = codes(&spec, &LintConfig::only(&["field-common-types"]));
    assert_eq!(
        found,
        vec!["field-common-types services/users/spec/users.json:9:41"]
    );
}

#[test]
fn flow_names_are_accepted() {
    let spec = load(&TWO_MODELS.replace("field-common-types", "common_field_types"));
    let found = codes(
        &spec,
        &LintConfig::only(&["field-common-types", "linter-ignore-known"]),
    );
    assert_eq!(
        found,
        vec!["field-common-types services/users/spec/users.json:9:41"]
    );
}

#[test]
fn service_ignore_covers_everything() {
    let text = TWO_MODELS.replace(
        r#""name": "users","#,
        r#""name": "users", "attributes": [{"name": "linter", "value": {"ignore": ["field-common-types"]}}],"#,
    );
    let spec = load(&text);
    assert!(codes(&spec, &LintConfig::only(&["field-common-types"])).is_empty());
}

#[test]
fn field_ignore_does_not_leak_to_siblings() {
    let text = r#"{
  "name": "users",
  "models": {
    "user": {
      "fields": [
        {"name": "id", "type": "long", "attributes": [{"name": "linter", "value": {"ignore": ["field-common-types"]}}]},
        {"name": "created_at", "type": "string"}
      ]
    }
  }
}"#;
    let found = codes(&load(text), &LintConfig::only(&["field-common-types"]));
    assert_eq!(
        found,
        vec!["field-common-types services/users/spec/users.json:7:40"]
    );
}

#[test]
fn config_ignore_globs_drop_findings_per_file() {
    let spec = load(TWO_MODELS);
    let section = |ignore: &[&str]| LintSection {
        use_: Some(vec!["field-common-types".into()]),
        except: Vec::new(),
        ignore: ignore.iter().map(|s| s.to_string()).collect(),
    };
    let root = std::env::current_dir().expect("cwd");
    let config = |ignore: &[&str]| {
        LintConfig::from_section(&section(ignore), &root, "blueprint.toml").expect("valid")
    };
    assert!(codes(&spec, &config(&["services/*/spec/*.json"])).is_empty());
    assert!(codes(&spec, &config(&["field-common-types:services/**"])).is_empty());
    assert_eq!(
        codes(&spec, &config(&["path-lowercase:services/**"])).len(),
        1
    );
    assert_eq!(codes(&spec, &config(&["other/**"])).len(), 1);
}

#[test]
fn findings_are_sorted_by_position() {
    let text = r#"{
  "name": "users",
  "models": {
    "Group": {"fields": [{"name": "createdAt", "type": "string"}]},
    "user": {"fields": [{"name": "id", "type": "long"}]}
  }
}"#;
    let spec = load(text);
    let found = codes(&spec, &LintConfig::default());
    let mut sorted = found.clone();
    sorted.sort_by_key(|s| {
        let loc = s.rsplit(':').collect::<Vec<_>>();
        (
            loc[1].parse::<u32>().unwrap_or(0),
            loc[0].parse::<u32>().unwrap_or(0),
        )
    });
    assert_eq!(found, sorted);
    assert!(found.iter().any(|c| c.starts_with("type-name-snake-case")));
    assert!(found.iter().any(|c| c.starts_with("field-name-snake-case")));
}
