//! Every rule has a folder `tests/rules/<rule-id>/` with `pass.json` (no finding of
//! that rule) and `fail.json` (at least one; its findings, in short form with their
//! hints, are the snapshot `fail.snap` beside it).

use std::path::{Path, PathBuf};

use blueprint_lint::{LintConfig, lint, rules};
use blueprint_spec::{LoadOptions, Spec, load_str};

fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rules")
}

/// Load a fixture under a stable relative name, so snapshots do not depend on
/// where the repository is checked out.
fn load_fixture(rule: &str, file: &str) -> Result<Spec, String> {
    let path = rules_dir().join(rule).join(file);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let name = format!("tests/rules/{rule}/{file}");
    load_str(&name, &text, &LoadOptions::default()).map_err(|e| {
        let shown: Vec<String> = e
            .diagnostics
            .iter()
            .map(|d| d.to_short(&e.sources))
            .collect();
        format!("{name} does not load:\n  {}", shown.join("\n  "))
    })
}

/// Findings of `rule` only, in short form (`warning[id] file:line:col: message`),
/// each followed by its hint.
fn findings(rule: &str, spec: &Spec) -> Vec<String> {
    lint(spec, &LintConfig::all())
        .iter()
        .filter(|d| d.code == rule)
        .map(|d| match &d.hint {
            Some(hint) => format!("{}\n  hint: {hint}", d.to_short(&spec.sources)),
            None => d.to_short(&spec.sources),
        })
        .collect()
}

#[test]
fn every_rule_passes_and_fails_its_examples() {
    let mut failures = Vec::new();
    for rule in rules() {
        let (pass, fail) = match (
            load_fixture(rule.id, "pass.json"),
            load_fixture(rule.id, "fail.json"),
        ) {
            (Ok(pass), Ok(fail)) => (pass, fail),
            (pass, fail) => {
                failures.extend(pass.err());
                failures.extend(fail.err());
                continue;
            }
        };
        let passing = findings(rule.id, &pass);
        if !passing.is_empty() {
            failures.push(format!(
                "{}: pass.json has findings:\n  {}",
                rule.id,
                passing.join("\n  ")
            ));
        }
        let failing = findings(rule.id, &fail);
        if failing.is_empty() {
            failures.push(format!("{}: fail.json has no finding", rule.id));
            continue;
        }
        insta::with_settings!({
            snapshot_path => rules_dir().join(rule.id),
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!("fail", failing.join("\n"));
        });
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rule_has_a_folder_and_every_folder_a_rule() {
    let mut folders: Vec<String> = std::fs::read_dir(rules_dir())
        .expect("tests/rules exists")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    let mut ids: Vec<String> = rules().iter().map(|r| r.id.to_string()).collect();
    ids.sort();
    assert_eq!(
        folders, ids,
        "tests/rules/<id>/ folders vs registered rules"
    );
    for id in &ids {
        for file in ["pass.json", "fail.json"] {
            assert!(
                rules_dir().join(id).join(file).is_file(),
                "{id}/{file} missing"
            );
        }
    }
}
